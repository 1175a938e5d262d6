package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store"
)

const waveRules = `
http_events: {act_on: [facebook]}
lists:
  insults: [idiot]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [delete]
alerts: [{name: wave, when: 'hits("abuse", "10m") >= 5', do: ['alert("Vague sur {{space}}")']}]
`

// pagingDesk records what the CMs are shown.
type pagingDesk struct {
	mu    sync.Mutex
	pages []string
	cases []string
}

func (d *pagingDesk) PostCase(_ context.Context, c store.Case) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cases = append(d.cases, c.ID)
	return nil
}

func (d *pagingDesk) Alert(_ context.Context, text string) error {
	return d.Page(context.Background(), text)
}

func (d *pagingDesk) Page(_ context.Context, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pages = append(d.pages, text)
	return nil
}

// TestWaveThroughTheDaemon sends a wave of insults to vigie run's HTTP API: the
// desk is paged once, and GET /v1/report and /metrics tell the same story.
func TestWaveThroughTheDaemon(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(waveRules), 0o600); err != nil {
		t.Fatal(err)
	}
	desk := &pagingDesk{}
	ch := &chat{name: "facebook"}
	ready := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	var logs testsync.Buffer
	tokenDir := filepath.Join(t.TempDir(), "vigie")
	go func() {
		errc <- daemon.Run(ctx, daemon.Config{
			ConfigPath: file, Listen: "127.0.0.1:0", Version: "test",
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			Getenv: func(k string) string {
				if k == "VIGIE_ADMIN_TOKEN_DIR" {
					return tokenDir
				}
				return ""
			},
			Ready:      func(a net.Addr) { ready <- a },
			Connectors: []daemon.Connector{{Name: "facebook", Platforms: []bot.Platform{ch}, Desk: desk}},
		}, make(chan struct{}))
	}()
	in := &instance{}
	select {
	case a := <-ready:
		in.base = "http://" + a.String()
		in.token = readToken(t, tokenDir, in.base)
	case err := <-errc:
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	}()
	for i := range 8 {
		body := fmt.Sprintf(`{"id":"c%d","platform":"facebook","kind":"comment","space":"page-1","author":{"id":"u%d","name":"U%d"},"text":"quel idiot","at":%q}`,
			i, i%3, i%3, time.Now().UTC().Format(time.RFC3339))
		if r := in.do(t, "POST", "/v1/events", []byte(body), nil); r.code != 200 {
			t.Fatalf("post: %d %s", r.code, r.body)
		}
	}
	// The alerts follow the events off the requests' goroutines: the report
	// below waits for them, the page is awaited.
	var pages []string
	testsync.Eventually(t, "the page", func() bool {
		desk.mu.Lock()
		defer desk.mu.Unlock()
		pages = append(pages[:0], desk.pages...)
		return len(pages) > 0
	})
	if len(pages) != 1 || !strings.HasPrefix(pages[0], "wave: Vague sur page-1\n5 hits on facebook page-1 since ") {
		t.Fatalf("pages %q", pages)
	}

	// The verdicts were answered before their lanes wrote the audit: the
	// report is read again until the last action is in.
	var r report.Report
	testsync.Eventually(t, "the report's 8 actions", func() bool {
		r = report.Report{}
		in.do(t, "GET", "/v1/report?since=1h&format=json", nil, nil).json(t, &r)
		return r.Actions >= 8
	})
	if r.Flagged != 8 || r.Events != 8 || r.Actions != 8 || len(r.Alerts) != 1 || r.Alerts[0].Count != 8 || r.ByMode["office"] != 8 {
		t.Errorf("report %+v", r)
	}
	csv := in.do(t, "GET", "/v1/report?since=1h&format=csv", nil, nil)
	if csv.code != 200 || !strings.HasPrefix(string(csv.body), "hour,rule,category,hits,actions,events\n") || !strings.Contains(string(csv.body), ",insult,abuse,8,8,8") {
		t.Errorf("csv %d:\n%s", csv.code, csv.body)
	}
	pic := in.do(t, "GET", "/v1/report?format=png", nil, nil)
	if _, err := png.Decode(bytes.NewReader(pic.body)); err != nil {
		t.Errorf("png: %v", err)
	}
	if bad := in.do(t, "GET", "/v1/report?since=soon", nil, nil); bad.code != 400 {
		t.Errorf("since=soon: %d", bad.code)
	}
	metrics := string(in.do(t, "GET", "/metrics", nil, nil).body)
	for _, want := range []string{
		`vigie_alerts_total{alert="wave",state="raised"} 1`,
		`vigie_alerts_active{alert="wave"} 1`,
		`vigie_mode{mode="office"} 1`,
		// without office_hours every day is office hours
		`vigie_shift_hits_total{mode="office",rule="insult"} 8`,
		`vigie_cases_oldest_open_seconds 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
