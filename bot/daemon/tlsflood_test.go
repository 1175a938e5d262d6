package daemon_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestFailedHandshakesAreCountedNotLogged: with vigie's own TLS, a
// stranger opens connection after connection that never completes a
// handshake (a port scanner, plain HTTP sent to the HTTPS port). Go's server
// would log a line for each ("http: TLS handshake error from …"), a log
// flood at the stranger's pace; they are refusals like the others: counted
// in vigie_refused_requests_total and logged a few times, and a client that
// speaks TLS is served meanwhile.
func TestFailedHandshakesAreCountedNotLogged(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	in := start(t, rulesV1, map[string]string{"VIGIE_TLS_CERT": certFile, "VIGIE_TLS_KEY": keyFile, "VIGIE_ADMIN_TOKEN": "admin-token"})
	addr := strings.TrimPrefix(in.base, "http://")
	const strangers = 200
	for i := range strangers {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // answered 400, then closed
			io.ReadAll(c)
		} else {
			io.WriteString(c, "\x16\x03\x01\x00\x05hello") // a record that is no ClientHello
			io.ReadAll(c)
		}
		c.Close()
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	metrics := func() string {
		resp, err := client.Get("https://" + addr + "/metrics")
		if err != nil {
			t.Fatalf("metrics over TLS: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	handshakeLines := func() int { return strings.Count(strings.ToLower(in.logs.String()), "handshake") }
	const counted = `vigie_refused_requests_total{reason="tls_handshake",route="TLS"} 200`
	testsync.Eventually(t, "the handshakes counted or logged", func() bool {
		return strings.Contains(metrics(), counted) || handshakeLines() >= strangers
	})
	if n := handshakeLines(); n > 5 {
		t.Errorf("%d failed handshakes wrote %d log lines, want a few", strangers, n)
	}
	if !strings.Contains(metrics(), counted) {
		t.Errorf("/metrics has no %s", counted)
	}
}
