package rules_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// AssessInto, filling one Assessment event after event, says of each event
// what Assess says of it on a store of its own: the same verdict (matches,
// their actions, no matches as none), the same alerts and errors, however
// many matches the event before left room for.
func TestAssessIntoAssessesAsAssess(t *testing.T) {
	rs, err := rules.LoadWith(filepath.Join("..", "rules.example.yaml"), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	evs := prepare(t).events
	if len(evs) > 2000 {
		evs = evs[:2000]
	}
	fresh := rules.NewEngine(rs, memory.New(), rules.Options{})
	into := rules.NewEngine(rs, memory.New(), rules.Options{})
	var a rules.Assessment
	matched, none, grew := 0, 0, 0
	for i, ev := range evs {
		want, werr := fresh.Assess(ctx, ev)
		before := len(a.Verdict.Matches)
		gerr := into.AssessInto(ctx, ev, &a)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("event %d: AssessInto's error %v, Assess's %v", i, gerr, werr)
		}
		w, _ := json.Marshal(struct {
			V any
			A any
			E any
		}{want.Verdict, want.Alerts, want.Errors})
		g, _ := json.Marshal(struct {
			V any
			A any
			E any
		}{a.Verdict, a.Alerts, a.Errors})
		if string(w) != string(g) {
			t.Fatalf("event %d (%q):\nAssessInto %s\nAssess     %s", i, ev.Text, g, w)
		}
		switch n := len(a.Verdict.Matches); {
		case n == 0:
			none++
		case n > before && before > 0:
			grew++
			matched++
		default:
			matched++
		}
	}
	// the stream had events with matches, events without, and events with
	// more matches than the one before
	if matched == 0 || none == 0 || grew == 0 {
		t.Fatalf("%d events matched, %d did not, %d had more matches than the one before: the stream does not try the room", matched, none, grew)
	}
}

// Filling the same Assessment again, an event whose rules match allocates
// less than assessing it anew: the room its matches and their actions took
// is filled again.
func TestAssessIntoFillsTheRoomAgain(t *testing.T) {
	rs, err := rules.LoadWith(filepath.Join("..", "rules.example.yaml"), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ev := prepare(t).events[0]
	ev.Text = "t'es un connard, va te faire foutre"
	eng := rules.NewEngine(rs, memory.New(), rules.Options{})
	i := 0
	next := func() {
		i++
		ev.ID = "e" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
		ev.At = ev.At.Add(1e9)
	}
	var a rules.Assessment
	if err := eng.AssessInto(ctx, ev, &a); err != nil || len(a.Verdict.Matches) == 0 {
		t.Fatalf("the insult matched no rule (%v)", err)
	}
	anew := testing.AllocsPerRun(50, func() {
		next()
		if _, err := eng.Assess(ctx, ev); err != nil {
			t.Fatal(err)
		}
	})
	again := testing.AllocsPerRun(50, func() {
		next()
		if err := eng.AssessInto(ctx, ev, &a); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.1f allocations an event filling the room again, %.1f anew", again, anew)
	if again > anew-2 {
		t.Errorf("AssessInto made %.1f allocations an event, Assess %.1f: the room was not filled again", again, anew)
	}
}
