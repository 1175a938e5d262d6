package redis_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// raidDesk stands for the desk: each round posts a card for every pending
// case and acknowledges it, as the daemon's desk loop does.
type raidDesk struct {
	t     *testing.T
	f     *redis.Fallback
	cards int
}

func (d *raidDesk) round(ctx context.Context) int {
	d.t.Helper()
	pending, err := d.f.PendingCases(ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	for _, c := range pending {
		d.cards++
		card := bot.CardRef{Platform: "telegram", Chat: "-100900", Message: fmt.Sprint(d.cards)}
		if err := d.f.AddCard(ctx, c.ID, card); err != nil {
			d.t.Fatal(err)
		}
		if err := d.f.AckCase(ctx, c.ID); err != nil {
			d.t.Fatal(err)
		}
	}
	return len(pending)
}

func raidHit(i int) store.Case {
	return store.Case{Rule: "scam", Reason: "scam", Opened: night.Add(time.Duration(i) * time.Second),
		Event: bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "telegram", Space: "g", Channel: "c",
			Author: bot.Author{ID: fmt.Sprintf("u-%d", i)}, Text: "FREE NITRO", At: night.Add(time.Duration(i) * time.Second)}}
}

// openRaid opens the raid's hits from..to-1 and returns the ids of the
// cases they made or joined, each once, in order.
func openRaid(t *testing.T, st store.Store, from, to int) []string {
	t.Helper()
	var ids []string
	for i := from; i < to; i++ {
		c, err := st.OpenCase(context.Background(), raidHit(i))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(ids, c.ID) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// raidFallback is a Fallback on srv, which retries Redis often, and its desk.
func raidFallback(t *testing.T, srv *redistest.Server) (*redis.Fallback, *raidDesk) {
	t.Helper()
	return raidFallbackAt(t, srv, newPrefix())
}

// raidFallbackAt is raidFallback on the keys of prefix.
func raidFallbackAt(t *testing.T, srv *redistest.Server, prefix string) (*redis.Fallback, *raidDesk) {
	t.Helper()
	primary, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: 20 * time.Millisecond})
	t.Cleanup(func() { _ = f.Close() })
	return f, &raidDesk{t: t, f: f}
}

// lostAnswers starts a redis-server that keeps its data across a restart,
// a Fallback on it with its desk, and a store of its own on the same keys:
// what that store opens stands for hits Redis ran whose answers the
// Fallback never read.
func lostAnswers(t *testing.T) (srv *redistest.Server, f *redis.Fallback, desk *raidDesk, lost *redis.Store, prefix string) {
	t.Helper()
	srv = redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	prefix = newPrefix()
	f, desk = raidFallbackAt(t, srv, prefix)
	return srv, f, desk, redistest.Open(t, srv.URL(), redis.WithPrefix(prefix)), prefix
}

// openCasesOf lists the open cases' ids, and sums their hits and cards.
func openCasesOf(t *testing.T, f *redis.Fallback) (ids []string, hits, cards int) {
	t.Helper()
	ctx := context.Background()
	open, err := f.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range open {
		ids = append(ids, c.ID)
		hits += c.Hits()
		cs, err := f.CaseCards(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		cards += len(cs)
	}
	return ids, hits, cards
}

// messagesOf lists the messages of the cases ids, each case's own and those
// grouped into it, sorted; unkept counts the hits whose message none names.
func messagesOf(t *testing.T, f *redis.Fallback, ids []string) (msgs []string, unkept int) {
	t.Helper()
	for _, id := range ids {
		c, err := f.Case(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		grouped, n := c.Grouped()
		msgs = append(msgs, c.Event.ID)
		for _, m := range grouped {
			msgs = append(msgs, m.ID)
		}
		unkept += n
	}
	slices.Sort(msgs)
	return msgs, unkept
}

// raidMessages are the ids of the raid's hits' messages from..to-1, sorted.
func raidMessages(from, to int) []string {
	var ids []string
	for i := from; i < to; i++ {
		ids = append(ids, raidHit(i).Event.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestFallbackRaidWhileAwayGrouped: 18 members post the same scam in one
// chat while Redis is away. The memory groups them as Redis does (the same
// raid on Redis makes as many cases), so the desk posts as many cards, not
// one per raider; written back, the cases are in Redis with all 18 hits,
// their cards, and nothing left for the desk to post again.
func TestFallbackRaidWhileAwayGrouped(t *testing.T) {
	const raiders = 18
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	ctx := context.Background()

	// The same raid on Redis, under another prefix: what it makes there.
	ref, err := redis.Open(srv.URL(), redis.WithPrefix(newPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	inRedis := len(openRaid(t, ref, 0, raiders))
	if inRedis >= raiders {
		t.Fatalf("Redis made %d cases of a raid of %d", inRedis, raiders)
	}

	f, desk := raidFallback(t, srv)
	srv.Stop()
	away := openRaid(t, f, 0, raiders)
	desk.round(ctx)
	if len(away) != inRedis || desk.cards != inRedis {
		t.Errorf("a raid of %d with Redis away made %d cases and %d cards; on Redis, %d cases", raiders, len(away), desk.cards, inRedis)
	}

	srv.Restart()
	redistest.Eventually(t, time.Minute, "written back", func() bool { return !f.Degraded() && f.Buffered() == 0 })
	if n := desk.round(ctx); n != 0 {
		t.Errorf("after the write-back the desk posted %d cards again", n)
	}
	ids, hits, posted := openCasesOf(t, f)
	if len(ids) != inRedis || hits != raiders {
		t.Errorf("in Redis after the write-back: %d open cases with %d hits; want %d with %d", len(ids), hits, inRedis, raiders)
	}
	if posted != desk.cards {
		t.Errorf("the cases in Redis hold %d cards; the desk posted %d", posted, desk.cards)
	}
	if msgs, unkept := messagesOf(t, f, ids); !slices.Equal(msgs, raidMessages(0, raiders)) || unkept != 0 {
		t.Errorf("the cases in Redis name the messages %v (%d hits with none); want each raider's, %v", msgs, unkept, raidMessages(0, raiders))
	}
}

// TestFallbackRaidAcrossAnOutage: a raid begins on Redis, whose cases the
// desk posts; Redis goes away, and the raid goes on in memory, in one case
// and one card (the memory knows the place is grouped). Written back,
// what the memory grouped joins the raid's case in Redis: all the hits are
// there, in as many cases as the raid made on Redis, every card the desk
// posted is on them, and none is posted again.
func TestFallbackRaidAcrossAnOutage(t *testing.T) {
	const raiders, before = 18, store.GroupAuthors + 1
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	ctx := context.Background()
	f, desk := raidFallback(t, srv)
	onRedis := openRaid(t, f, 0, before)
	desk.round(ctx)
	srv.Stop()
	away := openRaid(t, f, before, raiders)
	desk.round(ctx)
	if len(away) != 1 || desk.cards != len(onRedis)+1 {
		t.Errorf("the raid went on with Redis away in %d cases, %d cards in all; want one case more, and its card, beside the %d on Redis",
			len(away), desk.cards, len(onRedis))
	}
	srv.Restart()
	redistest.Eventually(t, time.Minute, "written back", func() bool { return !f.Degraded() && f.Buffered() == 0 })
	if n := desk.round(ctx); n != 0 {
		t.Errorf("after the write-back the desk posted %d cards again", n)
	}
	ids, hits, posted := openCasesOf(t, f)
	if !slices.Equal(ids, onRedis) || hits != raiders {
		t.Errorf("in Redis after the write-back: cases %v with %d hits; want the raid's %v with %d", ids, hits, onRedis, raiders)
	}
	if posted != desk.cards {
		t.Errorf("the cases in Redis hold %d cards; the desk posted %d", posted, desk.cards)
	}
	if msgs, unkept := messagesOf(t, f, ids); !slices.Equal(msgs, raidMessages(0, raiders)) || unkept != 0 {
		t.Errorf("the cases in Redis name the messages %v (%d hits with none); want each raider's, %v", msgs, unkept, raidMessages(0, raiders))
	}
}

// TestFallbackRaidWhoseFirstHitRedisHad: Redis took a raider's hit and went
// away before vigie read its answer, so vigie opened the hit again in
// memory, where the raid's next hits joined it. Written back, that case is
// Redis's own already (the hit's origin): the hits the memory grouped with
// it join it there, with where each message is, and its card with them.
func TestFallbackRaidWhoseFirstHitRedisHad(t *testing.T) {
	const raiders, first = 18, store.GroupAuthors - 1
	ctx := context.Background()
	// The answer vigie did not read: the same hit, opened by Redis.
	srv, f, desk, lost, _ := lostAnswers(t)
	had, err := lost.OpenCase(ctx, raidHit(first))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	away := openRaid(t, f, 0, raiders)
	desk.round(ctx)
	if len(away) != store.GroupAuthors {
		t.Fatalf("the raid with Redis away made %d cases, want %d", len(away), store.GroupAuthors)
	}
	inMemory, err := f.Case(ctx, away[first])
	if err != nil || inMemory.Event.ID != had.Event.ID || inMemory.Hits() != raiders-first {
		t.Fatalf("the raid's last case in memory: %s with %d hits, %v; want %s with %d", inMemory.Event.ID, inMemory.Hits(), err,
			had.Event.ID, raiders-first)
	}
	srv.Restart()
	redistest.Eventually(t, time.Minute, "written back", func() bool { return !f.Degraded() && f.Buffered() == 0 })
	if n := desk.round(ctx); n != 0 {
		t.Errorf("after the write-back the desk posted %d cards again", n)
	}
	ids, hits, posted := openCasesOf(t, f)
	if len(ids) != store.GroupAuthors || hits != raiders {
		t.Errorf("in Redis after the write-back: %d open cases with %d hits; want %d with %d", len(ids), hits, store.GroupAuthors, raiders)
	}
	if posted != desk.cards {
		t.Errorf("the cases in Redis hold %d cards; the desk posted %d", posted, desk.cards)
	}
	if msgs, unkept := messagesOf(t, f, ids); !slices.Equal(msgs, raidMessages(0, raiders)) || unkept != 0 {
		t.Errorf("the cases in Redis name the messages %v (%d hits with none); want each raider's, %v", msgs, unkept, raidMessages(0, raiders))
	}
	c, err := f.Case(ctx, had.ID)
	if err != nil {
		t.Fatal(err)
	}
	if msgs, _ := messagesOf(t, f, []string{had.ID}); c.Hits() != raiders-first || !slices.Equal(msgs, raidMessages(first, raiders)) {
		t.Errorf("the case Redis had, %s: %d hits, messages %v; want %d hits, %v", c.ID, c.Hits(), msgs, raiders-first, raidMessages(first, raiders))
	}
}
