package tgfake

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// TestServe runs the fake as a desk for a vigie started by hand (a soak, see
// docs/speed.md): VIGIE_TGFAKE_LISTEN=ADDR serves the Bot API there (as
// TELEGRAM_API_URL=http://ADDR, with TELEGRAM_TOKEN=123456:TEST-token) until
// the test is interrupted. It skips unless that is set.
func TestServe(t *testing.T) {
	addr := os.Getenv("VIGIE_TGFAKE_LISTEN")
	if addr == "" {
		t.Skip("VIGIE_TGFAKE_LISTEN=ADDR serves the fake Bot API there until interrupted")
	}
	f := New(t)
	target, _ := url.Parse(f.HTTP.URL)
	srv := &http.Server{Addr: addr, Handler: httputil.NewSingleHostReverseProxy(target)}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() { <-stop; srv.Close() }()
	t.Logf("fake Bot API on http://%s", addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		t.Fatal(err)
	}
	f.mu.Lock()
	t.Logf("calls: %d", len(f.calls))
	f.mu.Unlock()
}
