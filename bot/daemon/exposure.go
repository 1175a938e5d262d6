package daemon

import (
	"net"
	"strings"
)

// DefaultListen is where vigie run serves HTTP when not told otherwise: this
// machine only.
const DefaultListen = "127.0.0.1:8080"

// SetupError is a configuration vigie refuses to start with; vigie run exits 2.
type SetupError struct{ Msg string }

func (e *SetupError) Error() string { return e.Msg }

// exposed refuses to serve events and admin endpoints beyond this machine
// without their secrets, unless the operator said --insecure. Without
// VIGIE_ADMIN_TOKEN the admin endpoints are not open (vigie makes a token for
// its own user), but nobody elsewhere could use them.
func exposed(cfg Config, secret, adminToken bool) error {
	if loopbackListen(cfg.Listen) || cfg.Insecure || (secret && adminToken) {
		return nil
	}
	var missing []string
	if !secret {
		missing = append(missing, "VIGIE_WEBHOOK_SECRET (POST /v1/events would act for anyone)")
	}
	if !adminToken {
		missing = append(missing, "VIGIE_ADMIN_TOKEN (the admin routes' clients elsewhere need it: the token vigie makes without it is for its own user on this machine)")
	}
	return &SetupError{Msg: "listening on " + cfg.Listen + ", beyond this machine, needs " + strings.Join(missing, " and ") +
		"; set them (a proxy in front needs them too: without them vigie refuses what a proxy forwards), or say --insecure"}
}

// loopbackListen reports whether addr (host:port) only accepts connections from
// this machine: an empty host or 0.0.0.0 listens everywhere.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
