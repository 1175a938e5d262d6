package redis_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// spamHit is a hit of the rule spam by author in space, on message id.
func spamHit(space, author, id string, at time.Duration) store.Case {
	return store.Case{Rule: "spam", Reason: "spam", Opened: night.Add(at),
		Event: bot.Event{ID: id, Platform: "telegram", Space: space, Channel: "c",
			Author: bot.Author{ID: author}, Text: "achetez mes stickers", At: night.Add(at)}}
}

// TestFallbackWriteBackCountsEachHitOnce: Redis ran hits whose answers
// vigie never read (their calls cut as Redis went away), and vigie added
// them again in memory, grouped with others. Written back, the case in
// Redis counts each message once: those it named already are not added
// again. In one place Redis ran the memory case's first hit and the next;
// in another only its second, which opened a case there that the memory
// case's first hit joins.
func TestFallbackWriteBackCountsEachHitOnce(t *testing.T) {
	ctx := context.Background()
	// The answers vigie did not read: the same hits, run by Redis.
	srv, f, desk, lost, _ := lostAnswers(t)
	both := []store.Case{spamHit("g-1", "u-1", "m-1", 0), spamHit("g-1", "u-1", "m-2", time.Second),
		spamHit("g-1", "u-1", "m-3", 2*time.Second)}
	second := []store.Case{spamHit("g-2", "u-2", "n-1", 0), spamHit("g-2", "u-2", "n-2", time.Second)}
	ran := map[string]string{}
	for _, c := range []store.Case{both[0], both[1], second[1]} {
		opened, err := lost.OpenCase(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		ran[c.Event.Space] = opened.ID
	}
	srv.Stop()
	for _, c := range append(slices.Clone(both), second...) {
		if _, err := f.OpenCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	desk.round(ctx)
	srv.Restart()
	redistest.Eventually(t, time.Minute, "written back", func() bool { return !f.Degraded() && f.Buffered() == 0 })
	for _, want := range []struct {
		space string
		msgs  []string
	}{{"g-1", []string{"m-1", "m-2", "m-3"}}, {"g-2", []string{"n-1", "n-2"}}} {
		c, err := f.Case(ctx, ran[want.space])
		if err != nil {
			t.Fatal(err)
		}
		msgs, unkept := messagesOf(t, f, []string{c.ID})
		if c.Hits() != len(want.msgs) || !slices.Equal(msgs, want.msgs) || unkept != 0 {
			t.Errorf("%s's case in Redis, %s: %d hits, messages %v (%d with none); want %d hits, %v", want.space, c.ID, c.Hits(),
				msgs, unkept, len(want.msgs), want.msgs)
		}
	}
	ids, hits, _ := openCasesOf(t, f)
	if len(ids) != 2 || hits != 5 {
		t.Errorf("in Redis after the write-back: cases %v with %d hits; want 2 with 5", ids, hits)
	}
	if n := desk.round(ctx); n != 0 {
		t.Errorf("after the write-back the desk posted %d cards again", n)
	}
}

// TestFallbackWriteBackOfAHitWhoseCaseExpired: Redis grouped a hit into a
// case and vigie never read the answer, so the hit opened a case of its
// own in memory; by the write-back the case in Redis had run out (its TTL),
// though the hit's origin, written later, had not. The hit is a case in
// Redis again, with its card, rather than dropped as the answer of a case
// gone.
func TestFallbackWriteBackOfAHitWhoseCaseExpired(t *testing.T) {
	ctx := context.Background()
	srv, f, desk, lost, prefix := lostAnswers(t)
	first, err := lost.OpenCase(ctx, spamHit("g-1", "u-1", "m-1", 0))
	if err != nil {
		t.Fatal(err)
	}
	hit := spamHit("g-1", "u-1", "m-2", time.Second)
	if c, err := lost.OpenCase(ctx, hit); err != nil || c.ID != first.ID {
		t.Fatalf("the second hit in Redis: %s, %v; want grouped into %s", c.ID, err, first.ID)
	}
	// The case's TTL runs out, shortened here; the grouped hit's origin
	// stays.
	rc := redistest.Client(t, srv.URL())
	hk := prefix + ":{cases}:" + first.ID
	if err := rc.PExpire(ctx, hk, time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, time.Minute, "the case expired", func() bool { return rc.Exists(ctx, hk).Val() == 0 })
	if id, err := lost.CaseOfOrigin(ctx, hit.Origin()); err != nil || id != first.ID {
		t.Fatalf("the hit's origin names %q, %v; want %s", id, err, first.ID)
	}

	srv.Stop()
	away, err := f.OpenCase(ctx, hit)
	if err != nil {
		t.Fatal(err)
	}
	desk.round(ctx)
	srv.Restart()
	redistest.Eventually(t, time.Minute, "written back", func() bool { return !f.Degraded() && f.Buffered() == 0 })
	if n := f.Dropped(); n != 0 {
		t.Errorf("the write-back dropped %d entries", n)
	}
	ids, hits, posted := openCasesOf(t, f)
	if len(ids) != 1 || hits != 1 || !strings.HasPrefix(ids[0], "c-") {
		t.Fatalf("open after the write-back: cases %v with %d hits; want the hit's case (%s in memory) in Redis, 1 hit", ids, hits, away.ID)
	}
	if msgs, _ := messagesOf(t, f, ids); !slices.Equal(msgs, []string{"m-2"}) || ids[0] == first.ID {
		t.Errorf("the case in Redis, %s, names %v; want a new case for m-2", ids[0], msgs)
	}
	if posted != desk.cards {
		t.Errorf("the case in Redis holds %d cards; the desk posted %d", posted, desk.cards)
	}
	if n := desk.round(ctx); n != 0 {
		t.Errorf("after the write-back the desk posted %d cards again", n)
	}
	if id, err := f.CaseOfOrigin(ctx, hit.Origin()); err != nil || id != ids[0] {
		t.Errorf("the hit's origin names %q, %v; want its new case %s", id, err, ids[0])
	}
}

// TestWriteBackMergesWhatAnOlderVigieGrouped: during a rolling upgrade an
// older vigie on the same Redis grouped a hit into a case by its id alone
// (latest and count, as its open script writes them, no reference). A copy
// of that case written back from this one's memory, carrying that hit and
// another, counts the older vigie's hit once: merged by the id in latest.
// So with ids that JSON escapes, which the script reads by decoding.
func TestWriteBackMergesWhatAnOlderVigieGrouped(t *testing.T) {
	srv := redistest.Start(t)
	raw := redistest.Client(t, srv.URL())
	for _, id := range []string{"m-", `<"m">-`} {
		t.Run(id, func(t *testing.T) {
			ctx := context.Background()
			prefix := newPrefix()
			st := redistest.Open(t, srv.URL(), redis.WithPrefix(prefix))
			first, err := st.OpenCase(ctx, scamCase(id+"1", "eve"))
			if err != nil {
				t.Fatal(err)
			}
			older, _ := json.Marshal([]string{id + "2"})
			if err := raw.HSet(ctx, prefix+":{cases}:"+first.ID, "latest", older, "count", "2").Err(); err != nil {
				t.Fatal(err)
			}
			copied := scamCase(id+"1", "eve")
			copied.Count = 3
			for _, id := range []string{id + "2", id + "3"} {
				copied.Latest = append(copied.Latest, id)
				copied.Refs = append(copied.Refs, store.RefOf(scamCase(id, "eve").Event))
			}
			if c, err := st.OpenCase(ctx, copied); err != nil || c.ID != first.ID {
				t.Fatalf("the copy written back: %s, %v; want %s", c.ID, err, first.ID)
			}
			// The copy again, its first hit's origin lost: grouped by its
			// author into the case, which has all three.
			copied.Reason = "another reason"
			if c, err := st.OpenCase(ctx, copied); err != nil || c.ID != first.ID {
				t.Fatalf("the copy grouped: %s, %v; want %s", c.ID, err, first.ID)
			}
			c, err := st.Case(ctx, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			grouped, unkept := c.Grouped()
			for _, m := range grouped {
				msgs = append(msgs, m.ID)
			}
			slices.Sort(msgs)
			if want := []string{id + "2", id + "3"}; c.Hits() != 3 || !slices.Equal(msgs, want) || unkept != 0 {
				t.Errorf("the case after the write-back: %d hits, grouped %v (%d with none); want 3, %v", c.Hits(), msgs, unkept, want)
			}
		})
	}
}
