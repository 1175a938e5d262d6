package handlers_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestMarkAnsweredLateIsNoCarryingOut: a CM's timeout is recorded, and the
// mark that its carrying out begins reaches Redis only after vigie stopped
// waiting for its answer (a Redis whose writes are held: CLIENT PAUSE
// WRITE during a failover, a network that delays one request). vigie did
// not ask the platform: it waits for its claim again, and, once it has it,
// finds that mark, its own, on the case, or none (Redis drops a mark whose
// claim was let go). It carries the timeout out, once. Before, it took the
// mark for a carrying out cut short: the timeout was never given, and a
// case asked a CM to check whether it was.
func TestMarkAnsweredLateIsNoCarryingOut(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.NewHangProxy(t, srv.Addr())
	prefix := redistest.Prefix("markghost")
	r := newRedisModerator(t, proxy.URL(), prefix)
	f, m, clk, logs, discord := r.st, r.Moderator, r.clk, r.logs, r.discord
	ctx := context.Background()
	c := decidedCase(t, f, "timeout(1h)")
	// The scripts sent by their body, the mark's is held on its way.
	raw := redistest.Client(t, srv.URL())
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	proxy.HoldAt([]byte("'carrying'"))

	_, _ = m.Decide(bot.WithHandedOn(ctx), c.ID, "timeout(1h)", "telegram:1")
	<-proxy.Holding()
	// vigie gives up waiting for the mark's answer (its store call's time),
	// then Redis gets the mark.
	redistest.Eventually(t, 30*time.Second, "the mark given up", func() bool { return len(logs.with("did not record that its carrying out begins")) > 0 })
	evals := func() int64 {
		t.Helper()
		info, err := raw.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(info) {
			if rest, ok := strings.CutPrefix(line, "cmdstat_eval:calls="); ok {
				n, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
				return n
			}
		}
		return 0
	}
	before := evals()
	proxy.Resume()
	redistest.Eventually(t, 10*time.Second, "the late mark run by Redis", func() bool { return evals() > before })
	redistest.Eventually(t, 10*time.Second, "the decision waiting again", func() bool { return clk.Pending() >= 1 && !f.Degraded() })
	clk.Step(time.Minute)
	redistest.Eventually(t, 10*time.Second, "the decision's end", func() bool {
		got, err := f.Case(ctx, c.ID)
		return err == nil && got.Carried != ""
	})
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := m.WaitDecisions(wctx); err != nil {
		t.Fatal(err)
	}
	if got, want := discord.Calls(), []string{"timeout(1h)"}; !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q (the timeout carried out once: nothing was asked before)", got, want)
	}
	if got, err := f.Case(ctx, c.ID); err != nil || got.Carried != store.CarriedDone {
		t.Errorf("case carried %q, %v; want done", got.Carried, err)
	}
}
