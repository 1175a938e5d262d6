package handlers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestClaimWaitSaidOnceWarnedOnce: a CM's ban is recorded and another vigie
// holds the claim of its carrying out, past any reasonable time. The press
// handed on here answers what really happens (another vigie carries it
// out, not a slow platform), as told already (by that vigie), and so does
// a second hand-on of it while it waits; the log says it once. Once it has waited 5 minutes on the moderator's clock,
// the wait is logged at error and counted, once, however long it goes on;
// the ban is neither dropped nor carried out twice: done here, once, when
// the other vigie lets the claim go.
func TestClaimWaitSaidOnceWarnedOnce(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("claimlong")
	r := newRedisModerator(t, srv.URL(), prefix)
	f, m, clk, reg, logs, discord := r.st, r.Moderator, r.clk, r.reg, r.logs, r.discord
	ctx := context.Background()
	raw := redistest.Client(t, srv.URL())
	c, claimKey := banClaimedByAnother(t, f, raw, prefix, time.Hour)

	_, err := m.Decide(bot.WithHandedOn(ctx), c.ID, "ban", "telegram:1")
	var wait *bot.WaitError
	// Handed on from the vigie carrying it out, the press was answered
	// there: not told again here.
	if !errors.As(err, &wait) || wait.Why != bot.WaitOtherVigie || !wait.Again || !errors.Is(err, bot.ErrStillTrying) {
		t.Fatalf("the hand-on: %v, want it waiting for another vigie, told there", err)
	}
	if strings.Contains(err.Error(), "slow") {
		t.Errorf("the hand-on's answer speaks of a slow platform: %v", err)
	}
	_, err = m.Decide(bot.WithHandedOn(ctx), c.ID, "ban", "telegram:1")
	if !errors.As(err, &wait) || !wait.Again {
		t.Fatalf("the second hand-on: %v, want it waiting, told already", err)
	}
	if n := len(logs.with("carried out by another vigie")); n != 1 {
		t.Errorf("%d log lines say another vigie carries it out, want 1:\n%s", n, logs.with())
	}
	if l := logs.with("slow to answer"); len(l) != 0 {
		t.Errorf("the log speaks of a slow platform: %q", l)
	}

	// The wait asks every second; the clock is moved on past the bound,
	// three times, each step once it asked again.
	long := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "vigie_decision_claim_waits_long_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return -1
	}
	if got := long(); got != 0 {
		t.Fatalf("waits counted long before the bound: %v", got)
	}
	redistest.Eventually(t, 10*time.Second, "the wait asking", func() bool { return clk.Pending() >= 1 })
	clk.Step(5 * time.Minute)
	redistest.Eventually(t, 10*time.Second, "the long wait counted", func() bool { return long() == 1 })
	for range 2 {
		redistest.Eventually(t, 10*time.Second, "the wait asking again", func() bool { return clk.Pending() >= 1 })
		clk.Step(5 * time.Minute)
	}
	redistest.Eventually(t, 10*time.Second, "the wait asking again", func() bool { return clk.Pending() >= 1 })
	if got := long(); got != 1 {
		t.Errorf("vigie_decision_claim_waits_long_total = %v, want 1", got)
	}
	if l := logs.with("level=ERROR", "still not carried out", c.ID); len(l) != 1 {
		t.Errorf("%d error lines for the long wait, want 1:\n%s", len(l), logs.with())
	}
	if len(discord.Calls()) != 0 {
		t.Fatalf("carried out while another vigie held the claim: calls %q", discord.Calls())
	}

	if err := raw.Del(ctx, claimKey).Err(); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Second)
	bannedHereOnce(t, f, m, c.ID, discord)
}
