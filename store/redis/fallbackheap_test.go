package redis_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
)

// TestFallbackHeapForTheOpenCap measures what 10,000 cases waiting for Redis
// (the default open cases' cap, which is now what an outage may keep) and
// as many audit entries cost in memory, with the spool on, for messages of
// 300 characters and of 4,000 (the longest a platform sends, Discord's
// with Nitro; Telegram's 4,096), and checks that it stays within a bound
// a machine that runs vigie has: the figures are logged (-v).
func TestFallbackHeapForTheOpenCap(t *testing.T) {
	if testing.Short() {
		t.Skip("buffers 10,000 cases")
	}
	for _, tc := range []struct {
		name  string
		text  int
		audit bool
		bound uint64 // MiB
	}{
		{"cases, 300 characters", 300, false, 48},
		{"cases and audit, 300 characters", 300, true, 96},
		{"cases and audit, 4,000 characters", 4000, true, 384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			heap, file := heapForCases(t, store.DefaultOpenCaseCap, tc.text, tc.audit)
			t.Logf("%d cases waiting (audit entries: %v), messages of %d characters: heap %.1f MiB, spool file %.1f MiB",
				store.DefaultOpenCaseCap, tc.audit, tc.text, float64(heap)/(1<<20), float64(file)/(1<<20))
			if heap > tc.bound<<20 {
				t.Errorf("heap for %d cases waiting = %d MiB; want under %d", store.DefaultOpenCaseCap, heap>>20, tc.bound)
			}
		})
	}
}

// heapForCases buffers n cases (with audit: and for each an audit entry
// and a journal removal, as an event whose actions were carried out, the
// removal not kept: its verdict was journaled while Redis was away) with
// Redis away (no server listens on its address) and returns the heap they
// hold and the spool file's size.
func heapForCases(t *testing.T, n, textLen int, audit bool) (heap uint64, file int64) {
	primary, err := redis.Open("redis://127.0.0.1:1?max_retries=-1&dial_timeout=200ms", redis.WithPrefix(newPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "spool")
	sp, err := redis.OpenSpool(dir, "heap", nil)
	if err != nil {
		t.Fatal(err)
	}
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: time.Hour, Spool: sp})
	defer f.Close()
	ctx := context.Background()
	// A first case switches to memory before the measure.
	if _, err := f.OpenCase(ctx, heapCase(-1, textLen)); err != nil {
		t.Fatal(err)
	}
	before := heapInUse()
	for i := range n - 1 {
		c := heapCase(i, textLen)
		if _, err := f.OpenCase(ctx, c); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !audit {
			continue
		}
		v := bot.Verdict{EventID: c.Event.ID, Platform: c.Event.Platform, At: spoolAt,
			Matches: []bot.Match{{Rule: c.Rule, Actions: c.Suggested}}, Counters: map[string]int64{"msgs": 3}}
		if err := f.AppendAudit(ctx, store.AuditEntry{At: spoolAt, Event: c.Event, Verdict: v, Mode: "enforce"}); err != nil {
			t.Fatal(err)
		}
		if err := f.Done(ctx, "discord:"+c.Event.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.SyncSpool()
	heap = heapInUse() - before
	if fi, err := os.Stat(sp.Path()); err == nil {
		file = fi.Size()
	}
	want := n
	if audit {
		// the removals do not wait: their verdicts were journaled while
		// Redis was away, with nothing to remove there
		want = 2*n - 1
	}
	if got := f.Buffered(); got != want {
		t.Fatalf("waiting for Redis = %d; want %d (dropped %d)", got, want, f.Dropped())
	}
	return heap, file
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func heapCase(i, textLen int) store.Case {
	ev := bot.Event{ID: fmt.Sprintf("m-%d", i), Kind: bot.KindMessage, Platform: "discord", Space: "guild-1",
		Channel: fmt.Sprintf("ch-%d", i), At: spoolAt,
		Author: bot.Author{ID: fmt.Sprintf("u-%d", i), Name: fmt.Sprintf("member %d", i), Roles: []string{"r1", "r2"}},
		Text:   strings.Repeat("é", textLen/2) + strings.Repeat("a", textLen-textLen/2),
		Link:   fmt.Sprintf("https://discord.com/channels/guild-1/ch-%d/m-%d", i, i)}
	return store.Case{Event: ev, Opened: spoolAt, Rule: "insult", Category: "abuse", Reason: "rule insult matched: " + ev.Text[:min(len(ev.Text), 80)],
		Suggested: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActWarn, Text: "Please keep it civil."}}}
}
