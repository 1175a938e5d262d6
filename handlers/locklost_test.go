package handlers_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// counterOf is the value of the counter name with label=value in reg.
func counterOf(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestLostMemberLockStopsItsHolder: the member's lock a verdict holds
// (HoldMember, before its carrying out) is lost while held, another
// instance's now (it ran out while Redis did not answer, and was taken).
// The verdict's ban or timeout is not asked of the platform, beside that
// instance's: it is counted (vigie_member_lock_lost_total{action}) and
// logged, and, its one try spent, left to the desk in a case. Before, the
// holder went on and acted on the member after the other had.
func TestLostMemberLockStopsItsHolder(t *testing.T) {
	for _, a := range []bot.Action{{Kind: bot.ActBan}, {Kind: bot.ActTimeout, Duration: time.Hour}} {
		t.Run(string(a.Kind), func(t *testing.T) {
			srv := redistest.Start(t)
			prefix := redistest.Prefix("locklost")
			f := redistest.OpenFallback(t, srv.URL(), redis.FallbackOptions{RetryEvery: 20 * time.Millisecond},
				redis.WithPrefix(prefix), redis.WithMemberLockRenewal(10*time.Millisecond))
			reg := prometheus.NewRegistry()
			if err := f.Register(reg); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			discord := &chat{recorder: recorder{name: "discord"}}
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": discord}, Store: f,
				Now: func() time.Time { return at }, Retry: handlers.Retry{Attempts: 1}, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			ev := event("discord")
			held, release, busy := m.HoldMember(ctx, ev)
			if busy {
				t.Fatal("the member busy")
			}
			defer release()
			// Another instance's now: the lock's key holds its token.
			rc := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
			defer rc.Close()
			if err := rc.Set(ctx, prefix+":{bans}:lock:"+store.BanKey(ev), "another", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			redistest.Eventually(t, 10*time.Second, "the holder finding its lock lost", func() bool {
				return counterOf(t, reg, "vigie_store_member_locks_lost_total", "", "") == 1
			})
			v := verdict("discord", bot.Match{Rule: "scam", Actions: []bot.Action{a}})
			_ = m.HandleAgain(held, nil, ev, v, "")
			if calls := discord.Calls(); slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, string(a.Kind)) }) {
				t.Errorf("calls = %q: the %s asked with the lock lost", calls, a.Kind)
			}
			if got := counterOf(t, reg, "vigie_member_lock_lost_total", "action", string(a.Kind)); got != 1 {
				t.Errorf("vigie_member_lock_lost_total{action=%q} = %v, want 1", a.Kind, got)
			}
			cs, err := f.Cases(ctx, store.CaseOpen)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 1 || !slices.ContainsFunc(cs[0].NotDone, func(d bot.Action) bool { return d.Kind == a.Kind }) {
				t.Errorf("cases = %+v, want one saying the %s was not done", cs, a.Kind)
			}
		})
	}
}
