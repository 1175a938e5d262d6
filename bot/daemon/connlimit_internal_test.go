package daemon

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
)

// TestConnLimitKeepsWhatIsBeingServed: at the limit, the connection that
// waited longest with no request is closed to take a new one in, never one
// whose request is being handled (a console's live view, a slow webhook);
// with every one busy, the new connection is closed at once. Both are
// counted as refusals.
func TestConnLimitKeepsWhatIsBeingServed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refused"}, []string{"route", "reason"})
	refusals := bot.NewRefusalsOf(nil, nil, refused, "route")
	l := newConnLimit(ln, 2, refusals)
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hold", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	mux.HandleFunc("GET /quick", func(http.ResponseWriter, *http.Request) {})
	srv := &http.Server{Handler: l.serving(mux), ConnContext: l.connContext}
	go srv.Serve(l)
	t.Cleanup(func() { close(release); srv.Close() })

	dial := func(path string) (net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		return c, bufio.NewReader(c)
	}
	// busy: a request being handled; idle: answered, kept alive.
	_, _ = dial("/hold")
	<-entered
	_, idleR := dial("/quick")
	if resp, err := http.ReadResponse(idleR, nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/quick: %v %v", resp, err)
	}
	// A third: the idle one makes room, the busy one stays.
	_, _ = dial("/hold")
	<-entered
	if _, err := idleR.ReadByte(); err != io.EOF {
		t.Errorf("the idle connection after a new one came at the limit: %v, want it closed (EOF)", err)
	}
	// Both held are busy now: a fourth is closed at once, unanswered.
	_, fourthR := dial("/quick")
	if _, err := fourthR.ReadByte(); err == nil {
		t.Errorf("a connection past the limit with every one busy was answered")
	}
	for reason, want := range map[string]float64{"idle_closed": 1, "all_busy": 1} {
		if got := counterValue(refused.WithLabelValues("connections", reason)); got != want {
			t.Errorf("refused connections %s = %v, want %v", reason, got, want)
		}
	}
}
