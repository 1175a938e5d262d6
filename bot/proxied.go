package bot

import "net/http"

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
