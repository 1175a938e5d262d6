package handlers_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestMarkRefusedBacksOffWarnsOnce: a CM's ban is recorded, and Redis then
// refuses to record that its carrying out begins (the mark: an HSET of the
// case, refused here by an ACL, as a full Redis or a replica refuses it),
// while it takes the claim. The ban is not carried out without its mark,
// nor lost: it is asked again, less and less often (not every second), the
// log warns once for the case, and the refusal is counted once. Once Redis
// takes the mark, the ban is carried out, once. Before, each second asked
// the mark again with three warnings each time.
func TestMarkRefusedBacksOffWarnsOnce(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("markrefused")
	r := newRedisModerator(t, srv.URL(), prefix)
	f, m, clk, reg, logs, discord := r.st, r.Moderator, r.clk, r.reg, r.logs, r.discord
	ctx := context.Background()
	c := decidedCase(t, f, "ban")
	raw := redistest.Client(t, srv.URL())
	if err := raw.Do(ctx, "ACL", "SETUSER", "default", "-hset").Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.ACLLogReset(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	refusedMarks := func() int64 {
		t.Helper()
		entries, err := raw.ACLLog(ctx, 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, e := range entries {
			if e.Object == "hset" {
				n += e.Count
			}
		}
		return n
	}

	_, _ = m.Decide(bot.WithHandedOn(ctx), c.ID, "ban", "telegram:1")
	// A minute of the moderator's clock, a second at a time, each step once
	// the decision waits again and Redis is taken back from the refusal.
	for range 64 {
		redistest.Eventually(t, 10*time.Second, "the decision waiting again", func() bool { return clk.Pending() >= 1 && !f.Degraded() })
		clk.Step(time.Second)
	}
	if len(discord.Calls()) != 0 {
		t.Fatalf("carried out without its mark: calls %q", discord.Calls())
	}
	if n := refusedMarks(); n < 3 || n > 9 {
		t.Errorf("the mark asked %d times in a minute, want a few, less and less often (about log2(60))", n)
	}
	// The hand-on's own line (its process stopped before the end) aside.
	if l := slices.DeleteFunc(logs.with("level=WARN", c.ID), func(l string) bool { return strings.Contains(l, "before its process stopped") }); len(l) != 1 {
		t.Errorf("%d warnings for the case, want 1:\n%s", len(l), l)
	}
	if got := metric(t, reg, "vigie_decision_marks_refused_total"); got != 1 {
		t.Errorf("vigie_decision_marks_refused_total = %v, want 1", got)
	}

	if err := raw.Do(ctx, "ACL", "SETUSER", "default", "+hset").Err(); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, 10*time.Second, "the decision waiting again", func() bool { return clk.Pending() >= 1 && !f.Degraded() })
	clk.Step(2 * time.Minute)
	bannedHereOnce(t, f, m, c.ID, discord)
}
