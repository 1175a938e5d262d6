package memory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestForgetCase: a forgotten case, open or decided, is gone from every
// read and from the counts, its place under the open cases' cap is free
// again, and the decided cases kept beyond it are still the newest.
func TestForgetCase(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.WithOpenCaseCap(3), memory.WithCaseCap(3), memory.WithoutCaseGroups())
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	open := func(i int) (store.Case, error) {
		return s.OpenCase(ctx, store.Case{Reason: "r", Rule: "r", Priority: "high",
			Event: bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "discord", Space: "g", At: t0.Add(time.Duration(i) * time.Minute),
				Author: bot.Author{ID: fmt.Sprintf("u-%d", i)}}})
	}
	ids := func(st store.CaseStatus) []string {
		cs, err := s.Cases(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	var opened []string
	for i := range 3 {
		c, err := open(i)
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, c.ID)
	}
	if _, err := open(3); !errors.Is(err, store.ErrCaseCap) {
		t.Fatalf("a fourth case with three open: %v, want store.ErrCaseCap", err)
	}
	if err := s.ForgetCase(ctx, opened[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Case(ctx, opened[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Case of a forgotten case: %v, want store.ErrNotFound", err)
	}
	if err := s.ForgetCase(ctx, opened[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("forgetting it again: %v, want store.ErrNotFound", err)
	}
	if got, want := ids(store.CaseOpen), opened[1:]; !slices.Equal(got, want) {
		t.Errorf("open cases %v, want %v", got, want)
	}
	pending, _ := s.PendingCases(ctx)
	within, _ := s.OpenedWithin(ctx, t0, t0.Add(time.Hour))
	counts, _ := s.OpenCounts(ctx)
	if len(pending) != 2 || len(within) != 2 || counts.ByPriority["high"] != 2 || !counts.Oldest.Equal(t0.Add(time.Minute)) {
		t.Errorf("after forgetting the oldest open case: %d pending, %d opened within the hour, counts %+v; want 2, 2, 2 high from %s",
			len(pending), len(within), counts, t0.Add(time.Minute))
	}
	// Its place under the cap is free; opened again, the event is a new case.
	again, err := open(0)
	if err != nil || again.ID == opened[0] {
		t.Fatalf("the forgotten case's event opened again: %s, %v; want a new case", again.ID, err)
	}

	// Decided cases: forget one in the middle of the kept ones, and the cap
	// still keeps the newest three.
	var decided []string
	for _, id := range append(opened[1:], again.ID) {
		if _, err := s.DecideCase(ctx, id, "kept", "telegram:1", "", t0); err != nil {
			t.Fatal(err)
		}
		decided = append(decided, id)
	}
	if err := s.ForgetCase(ctx, decided[1]); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 13; i++ {
		c, err := open(i)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DecideCase(ctx, c.ID, "kept", "telegram:1", "", t0); err != nil {
			t.Fatal(err)
		}
		decided = append(decided, c.ID)
	}
	if got, want := ids(store.CaseDecided), decided[len(decided)-3:]; !slices.Equal(got, want) {
		t.Errorf("decided cases %v, want the newest three %v", got, want)
	}
	if got := ids(store.CaseOpen); len(got) != 0 {
		t.Errorf("open cases %v, want none", got)
	}
}
