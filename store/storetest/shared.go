package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// testCauseCards: the first case of a cause claims its card; the others
// wait until it is posted, then join it once each, the latest
// MaxCauseLatest named; its count is shown once; a closed card, or one a
// window old, is claimed anew; another scope is another card.
func testCauseCards(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	ck, ok := newStore(t).(store.CauseKeeper)
	if !ok {
		t.Fatal("the store keeps no cause cards (store.CauseKeeper)")
	}
	const scope, window = "c1\x00discord|g|general|delete: lacks", 10 * time.Minute
	at := t0
	join := func(id string, d time.Duration) (store.CauseCard, store.CauseTurn) {
		t.Helper()
		card, turn, err := ck.JoinCause(ctx, scope, store.CauseJoin{Case: id, Name: "name " + id, Reason: "why " + id}, at.Add(d), window)
		if err != nil {
			t.Fatal(err)
		}
		return card, turn
	}
	if card, turn := join("c-1", 0); turn != store.CausePost || card.Lead != "c-1" || card.N != 1 || !card.Since.Equal(at) {
		t.Fatalf("first case: %v %+v, want to post its card", turn, card)
	}
	if _, turn := join("c-2", time.Second); turn != store.CauseWait {
		t.Errorf("a case before the card is posted: %v, want to wait", turn)
	}
	if _, turn := join("c-1", 2*time.Second); turn != store.CausePost {
		t.Errorf("the lead again before its card is posted: %v, want to post it", turn)
	}
	if _, ok, _ := ck.ShowCause(ctx, scope); ok {
		t.Errorf("a card not posted is shown")
	}
	if err := ck.CausePosted(ctx, scope, "c-9"); err != nil {
		t.Fatal(err)
	}
	if _, turn := join("c-2", 3*time.Second); turn != store.CauseWait {
		t.Errorf("another case's post marked the card posted: %v", turn)
	}
	if err := ck.CausePosted(ctx, scope, "c-1"); err != nil {
		t.Fatal(err)
	}
	if _, turn := join("c-1", 4*time.Second); turn != store.CauseCounted {
		t.Errorf("the lead once posted: %v, want counted", turn)
	}
	for i := 2; i <= store.MaxCauseLatest+3; i++ {
		if _, turn := join(fmt.Sprint("c-", i), 5*time.Second); turn != store.CauseCounted {
			t.Fatalf("c-%d: %v, want counted", i, turn)
		}
	}
	card, turn := join("c-5", 6*time.Second) // again: counted once
	if turn != store.CauseCounted || card.N != store.MaxCauseLatest+3 || len(card.Latest) != store.MaxCauseLatest ||
		card.Latest[0].Case != "c-4" || card.Latest[len(card.Latest)-1] != (store.CauseJoin{Case: fmt.Sprint("c-", store.MaxCauseLatest+3), Name: fmt.Sprint("name c-", store.MaxCauseLatest+3), Reason: fmt.Sprint("why c-", store.MaxCauseLatest+3)}) {
		t.Errorf("after %d cases and one again: %v %+v", store.MaxCauseLatest+3, turn, card)
	}
	shown, ok, err := ck.ShowCause(ctx, scope)
	if err != nil || !ok || shown.N != store.MaxCauseLatest+3 || shown.Lead != "c-1" || !shown.Posted {
		t.Errorf("ShowCause = %+v, %v, %v; want the count to show", shown, ok, err)
	}
	if _, ok, _ := ck.ShowCause(ctx, scope); ok {
		t.Errorf("the same count shown twice")
	}
	if other, turn, _ := ck.JoinCause(ctx, scope+"2", store.CauseJoin{Case: "c-50"}, at.Add(7*time.Second), window); turn != store.CausePost || other.Lead != "c-50" {
		t.Errorf("another scope: %v %+v, want a card of its own", turn, other)
	}
	if _, ok, _ := ck.CloseCause(ctx, scope, "c-2"); ok {
		t.Errorf("a case that is not the lead closed the card")
	}
	closed, ok, err := ck.CloseCause(ctx, scope, "c-1")
	if err != nil || !ok || !closed.Closed || closed.N != store.MaxCauseLatest+3 {
		t.Errorf("CloseCause = %+v, %v, %v", closed, ok, err)
	}
	if again, ok, _ := ck.CloseCause(ctx, scope, "c-1"); !ok || again.N != closed.N {
		t.Errorf("CloseCause again = %+v, %v; want the card still", again, ok)
	}
	if card, turn := join("c-60", 8*time.Second); turn != store.CausePost || card.Lead != "c-60" || card.N != 1 {
		t.Errorf("after its lead was decided: %v %+v, want a new card", turn, card)
	}
	ck.CausePosted(ctx, scope, "c-60")
	join("c-61", 9*time.Second)
	if card, turn := join("c-70", 8*time.Second+window); turn != store.CausePost || card.Lead != "c-70" {
		t.Errorf("a window after the card was claimed: %v %+v, want a new card", turn, card)
	}
}

// testCauseCardsConcurrent: of cases of one cause that come at once, one
// claims the card; once posted, each of the others joins it once.
func testCauseCardsConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	ck, ok := newStore(t).(store.CauseKeeper)
	if !ok {
		t.Fatal("the store keeps no cause cards (store.CauseKeeper)")
	}
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	turns := map[store.CauseTurn][]string{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("c-", i)
			_, turn, err := ck.JoinCause(ctx, "s", store.CauseJoin{Case: id}, t0, time.Minute)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			turns[turn] = append(turns[turn], id)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(turns[store.CausePost]) != 1 || len(turns[store.CauseWait]) != n-1 {
		t.Fatalf("turns %v: want one to post, the others to wait", turns)
	}
	lead := turns[store.CausePost][0]
	ck.CausePosted(ctx, "s", lead)
	for _, id := range turns[store.CauseWait] {
		wg.Add(2)
		for range 2 {
			go func() {
				defer wg.Done()
				if _, turn, err := ck.JoinCause(ctx, "s", store.CauseJoin{Case: id}, t0.Add(time.Second), time.Minute); err != nil || turn != store.CauseCounted {
					t.Errorf("%s: %v, %v", id, turn, err)
				}
			}()
		}
	}
	wg.Wait()
	if card, ok, _ := ck.ShowCause(ctx, "s"); !ok || card.N != n {
		t.Errorf("card %+v, %v; want %d cases counted", card, ok, n)
	}
}

// testCalls: an action's record is kept, replaced, and given back; another
// key has none.
func testCalls(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	ck, ok := newStore(t).(store.CallKeeper)
	if !ok {
		t.Fatal("the store keeps no answers given (store.CallKeeper)")
	}
	key := "reply 123_456 0123456789abcdef0123456789abcdef"
	if _, ok, err := ck.Call(ctx, key); ok || err != nil {
		t.Fatalf("Call of nothing kept = %v, %v", ok, err)
	}
	at := t0.Add(time.Hour)
	if err := ck.KeepCall(ctx, key, store.CallRecord{At: at}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if r, ok, err := ck.Call(ctx, key); !ok || err != nil || r.Done || !r.At.Equal(at) {
		t.Errorf("Call = %+v, %v, %v; want unknown at %v", r, ok, err, at)
	}
	if err := ck.KeepCall(ctx, key, store.CallRecord{At: at.Add(time.Second), Done: true}, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if r, ok, _ := ck.Call(ctx, key); !ok || !r.Done || !r.At.Equal(at.Add(time.Second)) {
		t.Errorf("Call = %+v, %v; want done", r, ok)
	}
	if _, ok, _ := ck.Call(ctx, "warn 123_456 0123"); ok {
		t.Errorf("another key has a record")
	}

	// A claim keeps its record unless one younger than ttl is kept.
	const warned = "warned telegram|-100|7"
	if r, ok, err := ck.ClaimCall(ctx, warned, store.CallRecord{At: at, Done: true}, 10*time.Minute); !ok || err != nil || !r.At.Equal(at) {
		t.Fatalf("first claim = %+v, %v, %v; want it kept", r, ok, err)
	}
	if r, ok, _ := ck.ClaimCall(ctx, warned, store.CallRecord{At: at.Add(9 * time.Minute), Done: true}, 10*time.Minute); ok || !r.At.Equal(at) || !r.Done {
		t.Errorf("claim 9 minutes on = %+v, %v; want the first record", r, ok)
	}
	if r, ok, _ := ck.ClaimCall(ctx, warned, store.CallRecord{At: at.Add(10 * time.Minute), Done: true}, 10*time.Minute); !ok || !r.At.Equal(at.Add(10*time.Minute)) {
		t.Errorf("claim 10 minutes on = %+v, %v; want it kept", r, ok)
	}
	if r, ok, _ := ck.Call(ctx, warned); !ok || !r.At.Equal(at.Add(10*time.Minute)) {
		t.Errorf("Call after the claims = %+v, %v; want the last claim", r, ok)
	}
	// A claim naming its claimer is given again to it, not to another.
	const said = "said discord|g|m-1 warn"
	first := store.CallRecord{At: at, Done: true, By: "discord:m-1@1"}
	if _, ok, err := ck.ClaimCall(ctx, said, first, time.Hour); !ok || err != nil {
		t.Fatalf("claim by discord:m-1@1 = %v, %v; want it kept", ok, err)
	}
	again := first
	again.At = at.Add(3 * time.Minute)
	if r, ok, _ := ck.ClaimCall(ctx, said, again, time.Hour); !ok {
		t.Errorf("the same claimer claiming again = %+v, %v; want it given", r, ok)
	}
	other := store.CallRecord{At: at.Add(4 * time.Minute), Done: true, By: "discord:m-1@2"}
	if r, ok, _ := ck.ClaimCall(ctx, said, other, time.Hour); ok || r.By != "discord:m-1@1" || !r.At.Equal(at) && !r.At.Equal(again.At) {
		t.Errorf("another claimer = %+v, %v; want the first claimer's record", r, ok)
	}
	var wg sync.WaitGroup
	var won atomic.Int32
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok, err := ck.ClaimCall(ctx, "warned discord|g|u", store.CallRecord{At: at.Add(time.Duration(i) * time.Millisecond)}, time.Minute); err != nil {
				t.Error(err)
			} else if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := won.Load(); n != 1 {
		t.Errorf("%d of 8 claims at once kept, want 1", n)
	}
}

// testTold: of two claimers, one is given each change of a trouble; the
// change back is given at once, within the ttl of the first, and so is the
// first state again; a claimer asking again is given what it holds, another
// is not; past ttl the same state is given again.
func testTold(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	tk, ok := newStore(t).(store.ToldKeeper)
	if !ok {
		t.Fatal("the store keeps no troubles told (store.ToldKeeper)")
	}
	const what, ttl = "permission graph|hide", time.Hour
	at := t0.Add(time.Hour)
	claim := func(state, by string, at time.Time) bool {
		t.Helper()
		ok, err := tk.ClaimTold(ctx, what, state, store.CallRecord{At: at, By: by}, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, c := range []struct {
		step      string
		state, by string
		after     time.Duration
		want      bool
	}{
		{"a refusal found first", "refused", "a", 0, true},
		{"the same refusal found by another", "refused", "b", time.Second, false},
		{"the same claimer asking again", "refused", "a", time.Second, true},
		{"the end found first", "granted", "b", 10 * time.Minute, true},
		{"the end found by another", "granted", "a", 10 * time.Minute, false},
		{"a refusal again within the hour", "refused", "a", 20 * time.Minute, true},
		{"that refusal found by another", "refused", "b", 20 * time.Minute, false},
		{"the refusal past the hour, by another", "refused", "b", 81 * time.Minute, true},
		{"a claimer naming none, the same state", "refused", "", 82 * time.Minute, false},
	} {
		if got := claim(c.state, c.by, at.Add(c.after)); got != c.want {
			t.Errorf("%s: given %v, want %v", c.step, got, c.want)
		}
	}
	if ok, err := tk.ClaimTold(ctx, "permission graph|delete", "refused", store.CallRecord{At: at, By: "b"}, ttl); !ok || err != nil {
		t.Errorf("another trouble's claim = %v, %v; want it given", ok, err)
	}
}

// testDeskMissed: the cases a desk missed are kept once each, in the order
// they were added, apart from another desk's, and taken whole by one of
// the takers that ask at once.
func testDeskMissed(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	dm, ok := newStore(t).(store.DeskMissedKeeper)
	if !ok {
		t.Fatal("the store keeps no cases a desk missed (store.DeskMissedKeeper)")
	}
	add := func(desk, id string, want int) {
		t.Helper()
		n, err := dm.AddDeskMissed(ctx, desk, id)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("AddDeskMissed(%s, %s) = %d, want %d", desk, id, n, want)
		}
	}
	add("telegram", "c-3", 1)
	add("telegram", "c-1", 2)
	add("telegram", "c-3", 2) // a grouped case shown again
	add("discord", "c-1", 1)
	add("telegram", "c-2", 3)
	ids, err := dm.TakeDeskMissed(ctx, "telegram")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c-3", "c-1", "c-2"}; !slices.Equal(ids, want) {
		t.Errorf("TakeDeskMissed = %q, want %q", ids, want)
	}
	if ids, err := dm.TakeDeskMissed(ctx, "telegram"); err != nil || len(ids) != 0 {
		t.Errorf("TakeDeskMissed again = %q, %v; want none", ids, err)
	}
	add("telegram", "c-3", 1) // taken, it may be missed again
	if _, err := dm.TakeDeskMissed(ctx, "telegram"); err != nil {
		t.Fatal(err)
	}

	for i := range 50 {
		add("discord", fmt.Sprintf("c-%d", 100+i), 2+i)
	}
	const takers = 4
	got := make(chan []string, takers)
	var wg sync.WaitGroup
	for range takers {
		wg.Go(func() {
			ids, err := dm.TakeDeskMissed(ctx, "discord")
			if err != nil {
				t.Error(err)
			}
			got <- ids
		})
	}
	wg.Wait()
	close(got)
	var all []string
	for ids := range got {
		if len(ids) > 0 && len(all) > 0 {
			t.Errorf("two takers got the cases missed: %d and %d of them", len(all), len(ids))
		}
		all = append(all, ids...)
	}
	if len(all) != 51 {
		t.Errorf("the takers got %d cases, want 51", len(all))
	}
}

// testMessageCases: a case opened with its message keeps its id under it,
// not in the case; a hit that joins it, with a message of its own, keeps
// nothing; a case kept apart (opened before its actions ended) is found too.
func testMessageCases(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	mc, ok := st.(store.MessageCases)
	if !ok {
		t.Fatal("the store keeps no case of a message (store.MessageCases)")
	}
	if id, err := mc.CaseOfMessage(ctx, "discord|g|m-1"); id != "" || err != nil {
		t.Fatalf("CaseOfMessage of nothing kept = %q, %v", id, err)
	}
	c := newCase("m-1", 0)
	c.Message = "discord|g|m-1"
	opened, err := st.OpenCase(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if opened.Message != "" {
		t.Errorf("the case opened keeps its message %q", opened.Message)
	}
	if id, err := mc.CaseOfMessage(ctx, "discord|g|m-1"); id != opened.ID || err != nil {
		t.Errorf("CaseOfMessage = %q, %v; want %s", id, err, opened.ID)
	}
	if got, err := st.Case(ctx, opened.ID); err != nil || got.Message != "" {
		t.Errorf("the case read keeps its message %q (%v)", got.Message, err)
	}
	// A hit of the same author, place and rule joins it: its message is
	// not the case's.
	hit := newCase("m-1", time.Second)
	hit.Event.ID, hit.Message = "m-2", "discord|g|m-2"
	joined, err := st.OpenCase(ctx, hit)
	if err != nil {
		t.Fatal(err)
	}
	if joined.ID != opened.ID {
		t.Fatalf("the hit opened %s, want it to join %s", joined.ID, opened.ID)
	}
	if id, err := mc.CaseOfMessage(ctx, "discord|g|m-2"); id != "" || err != nil {
		t.Errorf("CaseOfMessage of a hit joined = %q, %v; want none", id, err)
	}
	if err := mc.KeepCaseOfMessage(ctx, "discord|g|m-3", "c-early", t0); err != nil {
		t.Fatal(err)
	}
	if id, err := mc.CaseOfMessage(ctx, "discord|g|m-3"); id != "c-early" || err != nil {
		t.Errorf("CaseOfMessage of one kept apart = %q, %v; want c-early", id, err)
	}
}

// testCallsWithCases: a case opened with calls keeps them done at its
// opening, for MessageCallKeep, and a hit that joins it keeps its own; none
// is kept in the case. A store that does not keep them with its cases (a
// Redis cluster) keeps none of them.
func testCallsWithCases(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	ck, ok := st.(store.CallKeeper)
	cw, with := st.(store.CallsWithCases)
	if !ok || !with {
		t.Fatal("the store keeps no calls with its cases (store.CallKeeper, store.CallsWithCases)")
	}
	c := newCase("m-1", 0)
	c.Calls = []string{"cased discord|g|m-1 insult", "cased discord|g|m-1 scam"}
	opened, err := st.OpenCase(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	hit := newCase("m-1", time.Second)
	hit.Event.ID, hit.Calls = "m-2", []string{"cased discord|g|m-2 insult"}
	joined, err := st.OpenCase(ctx, hit)
	if err != nil {
		t.Fatal(err)
	}
	if joined.ID != opened.ID {
		t.Fatalf("the hit opened %s, want it to join %s", joined.ID, opened.ID)
	}
	if opened.Calls != nil || joined.Calls != nil {
		t.Errorf("the case opened keeps its calls %q, joined %q", opened.Calls, joined.Calls)
	}
	if got, err := st.Case(ctx, opened.ID); err != nil || got.Calls != nil {
		t.Errorf("the case read keeps its calls %q (%v)", got.Calls, err)
	}
	keeps := cw.KeepsCallsWithCases()
	for key, at := range map[string]time.Time{
		"cased discord|g|m-1 insult": c.Event.At, "cased discord|g|m-1 scam": c.Event.At,
		"cased discord|g|m-2 insult": hit.Event.At,
	} {
		r, ok, err := ck.Call(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !keeps && ok:
			t.Errorf("%s kept with the case by a store that says it keeps none: %+v", key, r)
		case keeps && (!ok || !r.Done || !r.At.Equal(at)):
			t.Errorf("%s = %+v, %v; want done at %v", key, r, ok, at)
		}
	}
}
