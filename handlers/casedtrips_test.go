package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCasedKeptWithTheCase: on Redis, a message a rule sends to the desk
// costs the store, whether its case is opened or it joins one, the round
// trips of one on a platform whose edits are not followed (it does not name
// their message): the rules that sent it, which its edits are not sent
// again by, are kept in the case's own step, not in a call of their own
// after it. They are kept where an older vigie
// reads them: the edit of the message that joined, on another instance, is
// not sent to the desk again.
func TestCasedKeptWithTheCase(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	now := at
	sent := bot.Match{Rule: "scam", Category: "scam", Actions: []bot.Action{{Kind: bot.ActForward, Text: "scam"}}}
	type instance = tripsInstance
	open := func(prefix string, named bool) instance {
		var p bot.Platform = &chat{recorder: recorder{name: "discord"}}
		if named {
			p = editChat{&chat{recorder: recorder{name: "discord"}}}
		}
		return openTrips(t, srv.URL(), prefix, p, &now)
	}
	// trips handles message id (an edit when it has an @) of author in
	// space, sent to the desk by a rule, and returns the store's round
	// trips.
	trips := func(in instance, id, author, space string) int64 {
		t.Helper()
		ev := event("discord")
		ev.ID, ev.At, ev.Space, ev.Author.ID = id, now, space, author
		if strings.Contains(id, "@") {
			ev.Kind = bot.KindEdit
		}
		v := verdict("discord", sent)
		v.EventID = ev.ID
		before := in.st.RoundTrips()
		if err := in.m.Handle(ctx, ev, v); err != nil {
			t.Fatal(err)
		}
		return in.st.RoundTrips() - before
	}
	prefix := redistest.Prefix("cased-sent")
	plain := open(redistest.Prefix("cased-plain"), false)
	forwarding := open(prefix, true)
	// The first of each warms what a process does once (scripts loaded).
	trips(plain, "m-0", "u-0", "guild-0")
	trips(forwarding, "m-0", "u-0", "guild-0")
	// A case opened, then a hit of its author joining it.
	wantOpen := trips(plain, "m-1", "u-1", "guild-1")
	wantJoin := trips(plain, "m-2", "u-1", "guild-1")
	if got := trips(forwarding, "m-1", "u-1", "guild-1"); got != wantOpen {
		t.Errorf("a case following its message's edits opened in %d round trips, one following none in %d", got, wantOpen)
	}
	if got := trips(forwarding, "m-2", "u-1", "guild-1"); got != wantJoin {
		t.Errorf("a hit following its message's edits joined its case in %d round trips, one following none in %d", got, wantJoin)
	}

	// Kept as an older vigie keeps and reads them: its calls.
	for _, msg := range []string{"m-1", "m-2"} {
		r, ok, err := forwarding.st.Call(ctx, "cased discord|guild-1|"+msg+" scam")
		if err != nil || !ok || !r.Done || !r.At.Equal(now) {
			t.Errorf("the call of %s sent to the desk by scam = %+v, %v, %v; want done at %v", msg, r, ok, err, now)
		}
	}

	// The edit of the message that joined, on another instance, is not
	// sent to the desk again: no case, no hit more.
	other := open(prefix, true)
	now = now.Add(time.Minute)
	if n := trips(other, "m-2@1", "u-1", "guild-1"); n == 0 {
		t.Fatal("the edit was not judged")
	}
	cases, err := other.st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	for _, c := range cases {
		if c.Event.Space == "guild-1" {
			hits += c.Hits()
		}
	}
	if hits != 2 {
		t.Errorf("the cases of guild-1 carry %d hits after the edit; want the message and the one that joined, 2", hits)
	}
}
