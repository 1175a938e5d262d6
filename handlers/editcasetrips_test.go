package handlers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// tripsInstance is a moderator and its Redis store, whose round trips the
// tests count.
type tripsInstance struct {
	m  *handlers.Moderator
	st *redis.Store
}

// openTrips opens a moderator on the Discord platform p, and its store with
// prefix on the redis-server at url, on the clock *now.
func openTrips(t *testing.T, url, prefix string, p bot.Platform, now *time.Time) tripsInstance {
	t.Helper()
	st := redistest.Open(t, url, redis.WithPrefix(prefix))
	m, err := handlers.New(handlers.Options{
		Platforms: map[string]bot.Platform{"discord": p}, Store: st,
		Now: func() time.Time { return *now }, Retry: handlers.Retry{Attempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tripsInstance{m, st}
}

// TestCaseOfMessageKeptWithTheCase: on Redis, a case opened for a message
// whose edits it follows (a delete failed: no rule's forward is kept
// beside it) costs the store the round trips of one that follows none: its
// message is kept in the case's own step, not in a call of its own. Its
// edit, on another instance, is shown on it.
func TestCaseOfMessageKeptWithTheCase(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	now := at
	insult := bot.Match{Rule: "insult", Category: "abuse", Actions: []bot.Action{{Kind: bot.ActDelete}}}
	type instance = tripsInstance
	open := func(prefix string, p bot.Platform) instance { return openTrips(t, srv.URL(), prefix, p, &now) }
	// trips handles a message whose delete fails, which opens its case, and
	// returns the store's round trips.
	trips := func(in instance, p *chat, id string) int64 {
		t.Helper()
		p.errs["delete"] = []error{errors.New("missing permissions")}
		ev := event("discord")
		// Each its own author and place: a case each, none joined.
		ev.ID, ev.At, ev.Space, ev.Author.ID = id, now, "guild-"+id, "u-"+id
		v := verdict("discord", insult)
		v.EventID = ev.ID
		before := in.st.RoundTrips()
		if err := in.m.Handle(ctx, ev, v); err != nil {
			t.Fatal(err)
		}
		return in.st.RoundTrips() - before
	}
	prefix := redistest.Prefix("trips-named")
	pc := &chat{recorder: recorder{name: "discord", errs: map[string][]error{}}}
	plain := open(redistest.Prefix("trips-plain"), pc)
	named := editChat{&chat{recorder: recorder{name: "discord", errs: map[string][]error{}}}}
	following := open(prefix, named)
	// The first of each warms what a process does once (scripts loaded).
	trips(plain, pc, "m-0")
	trips(following, named.chat, "m-0")
	want := trips(plain, pc, "m-1")
	if got := trips(following, named.chat, "m-1"); got != want {
		t.Errorf("a case following its message's edits opened in %d round trips, one following none in %d", got, want)
	}

	// Its edit, on an instance that did not open it, is shown on its card.
	other := open(prefix, named)
	now = now.Add(time.Minute)
	ev := event("discord")
	ev.ID, ev.Kind, ev.At, ev.Text = "m-1@1", bot.KindEdit, now, "edited"
	ev.Space, ev.Author.ID = "guild-m-1", "u-m-1"
	named.errs["delete"] = []error{errors.New("missing permissions")}
	v := verdict("discord", insult)
	v.EventID = ev.ID
	if err := other.m.Handle(ctx, ev, v); err != nil {
		t.Fatal(err)
	}
	cases, err := other.st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	edited := 0
	for _, c := range cases {
		if c.Edited != nil {
			edited++
			if c.Event.ID != "m-1" || c.Edited.Text != "edited" {
				t.Errorf("case %s of %s shows the edit %+v", c.ID, c.Event.ID, c.Edited)
			}
		}
	}
	if len(cases) != 2 || edited != 1 {
		t.Errorf("%d cases, %d showing an edit; want the two opened, one showing it", len(cases), edited)
	}
}
