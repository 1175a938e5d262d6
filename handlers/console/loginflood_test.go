package console_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestLoginRefusalsDoNotFloodTheLog: a guesser past the limits keeps
// sending logins, two thousand over three minutes. Each is refused (429)
// and counted; the log has a few lines, saying how many were left out; the
// CM's own browser still gets in.
func TestLoginRefusalsDoNotFloodTheLog(t *testing.T) {
	st := memory.New()
	acc := store.Accounts(st)
	if err := acc.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	reg := prometheus.NewRegistry()
	routes := console.New(console.Options{Store: st, Accounts: acc, Insecure: true, Now: clk.Now, Log: log,
		Refusals: bot.NewRefusals(log, reg, clk.Now)}).Routes()
	home := newClient("198.51.100.7:5000")
	if code := home.login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Fatalf("first login: %d", code)
	}
	for i := range 5 {
		if code := newClient("203.0.113.200:6000").login(routes, "ann", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	const more = 2000 // one every 90ms: three minutes
	for i := range more {
		if code := newClient("203.0.113.200:6000").login(routes, "ann", "guess"); code != http.StatusTooManyRequests {
			t.Fatalf("guess %d past the limit: %d, want 429", i, code)
		}
		clk.Add(90 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), "too many failures"); n > 6 {
		t.Errorf("%d refused logins wrote %d log lines, want a few a minute", more, n)
	}
	if !strings.Contains(logs.String(), "more refused for the same reason") {
		t.Errorf("the log does not say how many refusals it left out:\n%.2000s", logs)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[0].GetValue()+" "+m.GetLabel()[1].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if got["too_many_failures POST /login"] != more || got["wrong_password POST /login"] != 5 {
		t.Errorf("vigie_refused_requests_total = %v, want %d too_many_failures and 5 wrong_password", got, more)
	}
	if code := home.login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Errorf("ann from her browser during the guessing: %d, want logged in", code)
	}
}

// lockedBuffer is a log's output, written from any goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
