package rules

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigie-bot/vigie/store/memory"
)

// TestEarlyHits checks which hit counters are added to in the event's
// Observe (their rules read neither counters nor strikes), and that the
// alerts see the same counts as when every hit counter waits for the rules.
func TestEarlyHits(t *testing.T) {
	file := filepath.Join("..", "rules.example.yaml")
	rs, err := loadFile(file, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range rs.alerts.hits {
		// insult and slur read lists only
		if want := h.target == "insult" || h.target == "slur"; h.early != want {
			t.Errorf("hits(%q): early %v, want %v", h.target, h.early, want)
		}
	}
	late, err := loadFile(file, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k := range late.alerts.hits {
		late.alerts.hits[k].early = false
	}
	late.alerts.anyEarly = false
	events := nativeEvents(t)
	// one shard each: both stores sweep at the same events, and the passes
	// go back in time, to counters a sweep may have dropped
	a, b := NewEngine(rs, memory.New(memory.WithShards(1)), Options{}), NewEngine(late, memory.New(memory.WithShards(1)), Options{})
	hits := 0
	for pass := range 3 {
		for i, ev := range events {
			ev.ID += "#" + string(rune('a'+pass))
			ev.Space = "s" + string(rune('0'+i%3)) // a few spaces, for waves
			ea, errA := a.Assess(context.Background(), ev)
			eb, errB := b.Assess(context.Background(), ev)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if !reflect.DeepEqual(ea, eb) {
				t.Fatalf("event %s: early %+v, late %+v", ev.ID, ea, eb)
			}
			hits += len(ea.Alerts)
		}
	}
	if hits == 0 {
		t.Error("no alert held: the comparison says nothing")
	}
}
