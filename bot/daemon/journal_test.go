package daemon_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestJournalResumesAfterCrash stops a vigie on Redis while the delete a
// verdict asked for is still in flight (its platform hangs, and the drain runs
// out of time), then starts another on the same Redis: the event is a
// duplicate for it, yet the delete is carried out, once, from the journal.
func TestJournalResumesAfterCrash(t *testing.T) {
	srv := redistest.Start(t)
	env := map[string]string{"VIGIE_REDIS_URL": srv.URL()}

	ev := map[string]any{"id": "m-1", "platform": "discord", "space": "guild-1", "channel": "general",
		"author": map[string]any{"id": "u-7", "name": "Bob"}, "text": "delete me",
		"at": time.Now().UTC().Format(time.RFC3339)}
	logs := cutShort(t, env, ev)
	if t.Failed() {
		t.Logf("first vigie's logs:\n%s", logs)
	}

	second := start(t, deleteAll, env, func(c *daemon.Config) { c.RecoverAfter = time.Millisecond })
	testsync.Eventually(t, "the delete carried out from the journal", func() bool {
		return slices.Contains(second.chat.Calls(), "delete m-1")
	})
	if v := second.post(t, ev); !v.Duplicate {
		t.Error("the event is not a duplicate for the second vigie: the journal, not a retry, must carry it out")
	}
	if n := metric(t, second, `vigie_journal_recovered_total{result="resumed"}`); n != 1 {
		t.Errorf("vigie_journal_recovered_total{resumed} = %v, want 1", n)
	}
	// Carried out, the verdict leaves the journal: nothing is left to take.
	st := redistest.Open(t, srv.URL())
	testsync.Eventually(t, "the journal empty", func() bool {
		left, err := st.Unfinished(context.Background(), time.Now().Add(time.Hour), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return len(left) == 0
	})
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	if calls := second.chat.Calls(); !slices.Equal(calls, []string{"delete m-1"}) {
		t.Errorf("second vigie's calls = %q, want the one delete", calls)
	}
}

// With the memory store the journal ends with the process: a verdict whose
// actions a shutdown cut short is lost, and vigie says so as an error, naming
// the event. It logged a warning that it would be carried out again, which
// nothing would do.
func TestMemoryJournalLossToldAtShutdown(t *testing.T) {
	logs := cutShort(t, map[string]string{}, map[string]any{"id": "m-1", "platform": "discord", "space": "guild-1",
		"channel": "general", "author": map[string]any{"id": "u-7"}, "text": "delete me", "at": time.Now().UTC().Format(time.RFC3339)})
	// The cancelled lane may end just after Run, with its last lines.
	const lost = `level=ERROR msg="verdict not carried out before shutdown, and lost: the memory store's journal ends with the process" event=discord:m-1`
	const again = "to be carried out again"
	testsync.Eventually(t, "a line about the verdict cut short", func() bool {
		return strings.Contains(logs.String(), lost) || strings.Contains(logs.String(), again)
	})
	if got := logs.String(); strings.Contains(got, again) || !strings.Contains(got, lost) {
		t.Errorf("want an error naming the lost verdict, and no promise to carry it out again, which the memory store cannot keep:\n%s", got)
	}
}

// cutShort runs vigie on env with rules that delete everything, on a platform
// whose delete hangs, posts ev, and stops vigie once the delete is under way
// with a millisecond to drain: the verdict is cut short, and its delete
// cancelled. It returns vigie's logs.
func cutShort(t *testing.T, env map[string]string, ev map[string]any) *testsync.Buffer {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(deleteAll), 0o600); err != nil {
		t.Fatal(err)
	}
	hung := &slow{called: make(chan struct{}, 1), release: make(chan struct{}), result: make(chan error, 1)}
	logs := &testsync.Buffer{}
	ready := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- daemon.Run(ctx, daemon.Config{
			ConfigPath:      file,
			Listen:          "127.0.0.1:0",
			Logger:          slog.New(slog.NewTextHandler(logs, nil)),
			Getenv:          daemon.WithTokenDir(t, func(k string) string { return env[k] }),
			Ready:           func(a net.Addr) { ready <- a },
			Connectors:      []daemon.Connector{{Name: "discord", Platforms: []bot.Platform{hung}}},
			ShutdownTimeout: time.Millisecond,
		}, nil)
	}()
	var base string
	select {
	case a := <-ready:
		base = "http://" + a.String()
	case err := <-errc:
		t.Fatal(err)
	}
	body, _ := json.Marshal(ev)
	resp, err := http.Post(base+"/v1/events", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-hung.called // judged, marked seen, journaled; the delete hangs
	cancel()
	if err := <-errc; !drainCut(err) {
		t.Fatalf("Run = %v, want the drain cut short", err)
	}
	if err := <-hung.result; err == nil {
		t.Fatal("the hung delete ended without being cancelled")
	}
	return logs
}
