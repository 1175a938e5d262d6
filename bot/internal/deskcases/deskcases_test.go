package deskcases

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

func TestDecided(t *testing.T) {
	other := errors.New("platform down")
	tests := []struct {
		name                string
		err                 error
		wantDesk, wantStore bool
		wantOther           bool
	}{
		{name: "decided now"},
		{name: "decided before", err: fmt.Errorf("case 7: %w", store.ErrDecided), wantDesk: true, wantStore: true},
		{name: "not carried out", err: other, wantOther: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card, err := Decided(store.Case{ID: "7", Status: store.CaseDecided, Outcome: "ban", DecidedBy: "telegram:42"}, tt.err, nil)
			if card.ID != "7" || card.Outcome != "ban" || card.DecidedBy != "telegram:42" || !card.Decided() {
				t.Errorf("card = %+v", card)
			}
			if errors.Is(err, bot.ErrDecided) != tt.wantDesk || errors.Is(err, store.ErrDecided) != tt.wantStore || errors.Is(err, other) != tt.wantOther {
				t.Errorf("err = %v", err)
			}
			if (err == nil) != (tt.err == nil) {
				t.Errorf("err = %v, from %v", err, tt.err)
			}
		})
	}
}

func TestCardsKeepsTheStoresError(t *testing.T) {
	boom := errors.New("store down")
	if cards, err := Cards([]store.Case{{ID: "1"}}, boom, nil); cards != nil || !errors.Is(err, boom) {
		t.Errorf("Cards = %v, %v", cards, err)
	}
	cards, err := Cards([]store.Case{{ID: "1"}, {ID: "2"}}, nil, nil)
	if err != nil || len(cards) != 2 || cards[0].ID != "1" || cards[1].ID != "2" {
		t.Errorf("Cards = %v, %v", cards, err)
	}
}

// refs names n messages grouped into a case.
func refs(n int) []store.MessageRef {
	out := make([]store.MessageRef, n)
	for i := range out {
		out[i] = store.MessageRef{ID: fmt.Sprint("m-", i), Platform: "discord"}
	}
	return out
}

func TestCardSaysHowManyMore(t *testing.T) {
	if got := Card(store.Case{Reason: "flood", Count: 50, Refs: refs(49)}).Reason; got != "flood (and 49 more)" {
		t.Errorf("reason %q", got)
	}
	// More hits than the case keeps the messages of: a delete cannot
	// reach the oldest, and the card says so.
	c := store.Case{Reason: "flood", Count: store.GroupRefs + 31, Refs: refs(store.GroupRefs)}
	if got, want := Card(c).Reason, fmt.Sprintf("flood (and %d more; vigie keeps where the last %d are only: a delete leaves the 30 oldest up)",
		store.GroupRefs+30, store.GroupRefs); got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	// A stolen account's scam in five channels of a server, or three
	// topics of a chat: the card names how many.
	spread := refs(4)
	for i := range spread {
		spread[i].Channel = fmt.Sprint("c-", i)
	}
	c = store.Case{Reason: "scam", Count: 5, Refs: spread, Event: bot.Event{Platform: "discord", Channel: "general"}}
	if got := Card(c).Reason; got != "scam (and 4 more, in 5 channels)" {
		t.Errorf("reason %q", got)
	}
	topics := []store.MessageRef{{ID: "1", Channel: "-100", Thread: "7"}, {ID: "2", Channel: "-100", Thread: "9"}, {ID: "3", Channel: "-100", Thread: "9"}}
	c = store.Case{Reason: "scam", Count: 4, Refs: topics, Event: bot.Event{Platform: "telegram", Channel: "-100"}}
	if got := Card(c).Reason; got != "scam (and 3 more, in 3 topics)" {
		t.Errorf("reason %q", got)
	}
	if got := Card(store.Case{Reason: "flood"}).Reason; got != "flood" {
		t.Errorf("reason %q", got)
	}
}
