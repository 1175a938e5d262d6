package handlers_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// A case says which of its suggested actions were not carried out, so that
// its card offers no undo of them: those held while paused, and all of a
// verdict deferred because its place's queue was full.
func TestCaseSaysWhatWasNotDone(t *testing.T) {
	hide := bot.Action{Kind: bot.ActHide}
	insult := bot.Match{Rule: "insult", Category: "abuse", Actions: []bot.Action{hide, {Kind: bot.ActForward, Text: "insult"}}}
	ev := event("facebook")
	ev.Kind = bot.KindComment
	for _, tt := range []struct {
		name     string
		deferred bool
	}{
		{name: "paused"},
		{name: "deferred", deferred: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			m, _ := newModerator(t, st, nil)
			ctx := context.Background()
			v := verdict("facebook", insult)
			var err error
			if tt.deferred {
				err = m.Defer(ctx, nil, ev, v, "the place's queue is full")
			} else {
				m.Pause(at.Add(time.Hour))
				err = m.Handle(ctx, ev, v)
			}
			if err != nil {
				t.Fatal(err)
			}
			cs, err := st.Cases(ctx, store.CaseOpen)
			if err != nil || len(cs) != 1 {
				t.Fatalf("cases %v, %v; want one", cs, err)
			}
			if c := cs[0]; !slices.Contains(c.NotDone, hide) || c.CarriedOut(bot.ActHide) {
				t.Errorf("case %q suggests %v, not done %v: want the hide not done", c.Reason, c.Suggested, c.NotDone)
			}
		})
	}
}
