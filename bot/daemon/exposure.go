package daemon

import (
	"fmt"
	"net"
	"strings"
	"unicode/utf8"
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
func exposed(cfg Config, secret, adminToken []byte) error {
	if loopbackListen(cfg.Listen) || cfg.Insecure {
		return nil
	}
	if secret != nil && adminToken != nil {
		return guessable(cfg, secret, adminToken)
	}
	var missing []string
	if secret == nil {
		missing = append(missing, "VIGIE_WEBHOOK_SECRET (POST /v1/events would act for anyone)")
	}
	if adminToken == nil {
		missing = append(missing, "VIGIE_ADMIN_TOKEN (the admin routes' clients elsewhere need it: the token vigie makes without it is for its own user on this machine)")
	}
	return &SetupError{Msg: "listening on " + cfg.Listen + ", beyond this machine, needs " + strings.Join(missing, " and ") +
		"; set them (a proxy in front needs them too: without them vigie refuses what a proxy forwards), or say --insecure"}
}

// minSecret is the shortest webhook secret and admin token vigie takes
// beyond loopback: anyone who reaches the port may try one guess a request,
// as fast as HTTP goes, and neither is limited the way the console's logins
// are. 16 random characters are beyond that; "changeme" is not.
const minSecret = 16

// guessable refuses a webhook secret or an admin token short enough to
// guess, beyond loopback.
func guessable(cfg Config, secret, adminToken []byte) error {
	var short []string
	for _, s := range []struct {
		name string
		v    []byte
	}{{"VIGIE_WEBHOOK_SECRET", secret}, {"VIGIE_ADMIN_TOKEN", adminToken}} {
		if n := utf8.RuneCount(s.v); n < minSecret {
			short = append(short, fmt.Sprintf("%s is %d characters long", s.name, n))
		}
	}
	if len(short) == 0 {
		return nil
	}
	return &SetupError{Msg: strings.Join(short, " and ") + ": beyond this machine (listening on " + cfg.Listen + "), anyone may guess at it " +
		fmt.Sprintf("request after request; use at least %d random characters (openssl rand -hex 32), or say --insecure", minSecret)}
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
