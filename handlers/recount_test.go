package handlers_test

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// TestGroupedCardsRecountedAtAPace: seven cases whose cards are posted
// take a hit each; DeliverCases's next round edits five of the cards to
// their new count, and the two others 30 seconds later on the clock, not
// at the rounds between: the desk chat's messages go to new cards first.
func TestGroupedCardsRecountedAtAPace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		desk := &cardDesk{}
		o := newOnClock(t, desk)
		clk, st, m := o.clk, o.st, o.m
		ctx, stop := o.deliver(t)
		hit := func(author, id, channel string) {
			ev := bot.Event{ID: id, Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: channel,
				Author: bot.Author{ID: author, Name: author}, Text: "scam", At: clk.Now()}
			v := bot.Verdict{EventID: id, Platform: "discord", At: ev.At,
				Matches: []bot.Match{{Rule: "scam", Actions: []bot.Action{{Kind: bot.ActForward, Text: "scam"}}}}}
			if err := m.Handle(ctx, ev, v); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		for i := range 7 {
			// Each author in a channel of their own: no place groups them.
			hit(fmt.Sprint("u-", i), fmt.Sprint("m-", i), fmt.Sprint("c-", i))
			id := fmt.Sprintf("c-tests-%06d", i+1)
			if err := st.AddCard(ctx, id, bot.CardRef{Platform: "discord", Chat: "desk", Message: fmt.Sprint("card-", i)}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 7 {
			hit(fmt.Sprint("u-", i), fmt.Sprint("m-", i, "-again"), fmt.Sprint("d-", i))
		}
		if n := len(desk.edited()); n != 0 {
			t.Fatalf("%d cards edited at once, want none before the round", n)
		}
		clk.Step(10 * time.Second)
		synctest.Wait()
		if n := len(desk.edited()); n != 5 {
			t.Errorf("%d cards recounted at the first round, want 5", n)
		}
		clk.Step(10 * time.Second)
		synctest.Wait()
		clk.Step(10 * time.Second)
		synctest.Wait()
		if n := len(desk.edited()); n != 5 {
			t.Errorf("%d cards recounted 20s after the first round, want still 5", n)
		}
		clk.Step(10 * time.Second)
		synctest.Wait()
		if n := len(desk.edited()); n != 7 {
			t.Errorf("%d cards recounted 30s after the first round, want all 7: %q", n, desk.edited())
		}
		for i := range 7 {
			c, err := st.Case(ctx, fmt.Sprintf("c-tests-%06d", i+1))
			if err != nil || c.Hits() != 2 {
				t.Errorf("case %d: %d hits, %v; want its two", i+1, c.Hits(), err)
			}
		}
		stop()
	})
}
