package bot

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxied reports whether a request came through a proxy. A reverse proxy on
// this machine, or a tunnel's agent (cloudflared, ngrok, Tailscale Funnel),
// connects from loopback like a local script or browser, so only what it
// adds tells them apart: the forwarding headers of RFC 7239 and before them,
// Via (which RFC 9110 asks every proxy to add), those CDNs and tunnels add of
// their own; and HTTP/1.0, which nginx speaks to what it forwards to unless
// told otherwise (its bare proxy_pass adds no header, and asks for the Host it
// was given), and no browser, curl or HTTP library of today does. A local
// script, curl or vigie's own commands send none of them. (A proxy or a raw
// TCP tunnel that adds none of these is not seen: the documentation asks for
// the secrets behind any proxy.)
func Proxied(r *http.Request) bool {
	if r.ProtoMajor == 1 && r.ProtoMinor == 0 {
		return true
	}
	h := r.Header
	// The keys are looked for among the request's few rather than the other
	// way round: each event posted is checked, and a request carries fewer
	// headers than this list. net/http gives them in canonical form.
	for k, v := range h {
		if len(v) == 0 {
			continue
		}
		switch k {
		case "Forwarded", "Via", "X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Host", "X-Forwarded-Proto",
			"X-Forwarded-Port", "X-Forwarded-Server", "X-Forwarded-Prefix", "X-Original-Forwarded-For",
			"Cf-Connecting-Ip", "Cf-Ray", "Cdn-Loop", "True-Client-Ip", "Fastly-Client-Ip", "X-Client-Ip",
			"X-Cluster-Client-Ip", "Tailscale-Funnel-Request":
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
