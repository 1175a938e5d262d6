package console_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestMadeUpLoginNamesDoNotFillTheLog: strangers at three hundred addresses
// each try a login under a name of 60 KB, which no account can have (1 to 32
// of a-z, 0-9, '.', '_' and '-'). Each is told the name or password is
// wrong; the log has a few short lines, not the names. Before, each wrote a
// line of 60 KB ("console: failed login"), after a count kept in the store
// under the name.
func TestMadeUpLoginNamesDoNotFillTheLog(t *testing.T) {
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	if err := st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	routes := console.New(console.Options{Store: st, Accounts: st, Insecure: true, Now: clk.Now, Log: log,
		Refusals: bot.NewRefusals(log, prometheus.NewRegistry(), clk.Now)}).Routes()
	const strangers = 300
	for i := range strangers {
		name := fmt.Sprintf("%03d", i) + strings.Repeat("x", 60<<10)
		addr := fmt.Sprintf("203.0.%d.%d:6000", i/250, i%250+1)
		if code := newClient(addr).login(routes, name, "guess"); code != http.StatusUnauthorized {
			t.Fatalf("stranger %d: %d, want 401", i, code)
		}
		clk.Add(100 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) > 6 {
		t.Errorf("%d made-up names wrote %d log lines, want a few", strangers, len(lines))
	}
	for _, l := range lines {
		if len(l) > 1024 {
			t.Errorf("a log line of %d bytes: %.200s…", len(l), l)
			break
		}
	}
	// The limits were not spent on them: ann logs in from a stranger's address.
	if code := newClient("203.0.0.1:6001").login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Errorf("ann from an address that tried a made-up name: %d, want logged in", code)
	}
}
