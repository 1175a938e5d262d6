package bot

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxied reports whether a request came through a proxy. A reverse proxy on
// this machine connects from loopback like a local script or browser, so only
// the headers it adds tell them apart. (A proxy that adds none of these
// headers is not seen: the README asks for the secrets behind any proxy.)
func Proxied(h http.Header) bool {
	for _, k := range [...]string{"Forwarded", "X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Host", "X-Forwarded-Proto"} {
		if len(h[k]) > 0 {
			return true
		}
	}
	return false
}

// LocalHost reports whether a request's Host (host or host:port) names this
// machine in a way nobody else's DNS can: localhost, a name under
// .localhost (which browsers resolve to loopback themselves), or an IP
// address. A page of another site whose name was pointed at 127.0.0.1 (DNS
// rebinding) reaches a loopback listener from the operator's own browser,
// with its own name as the Host: a request trusted for coming from this
// machine checks this too.
func LocalHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	_, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return err == nil
}
