package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestCaseIDsOfAStoreMadeAgain: vigie restarted on the memory store (a new
// store) numbers its cases from 1 again, in an epoch of its own: the id of
// Eve's case, on a card or a console page from before the restart, names no
// case of the new store, where it named Frank's.
func TestCaseIDsOfAStoreMadeAgain(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	scam := func(event, author string) store.Case {
		return store.Case{Event: bot.Event{ID: event, Platform: "discord", Author: bot.Author{ID: author}, At: at},
			Rule: "scam", Reason: "scam"}
	}
	eve, err := memory.New().OpenCase(ctx, scam("m-1", "eve"))
	if err != nil {
		t.Fatal(err)
	}
	again := memory.New()
	frank, err := again.OpenCase(ctx, scam("m-2", "frank"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Case(ctx, eve.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Case(%s) of the store made again = %s of %q, %v; want ErrNotFound", eve.ID, got.ID, got.Event.Author.ID, err)
	}
	if got, err := again.DecideCase(ctx, eve.ID, "ban", "telegram:42", "", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DecideCase(%s) of the store made again decided %s of %q, %v; want ErrNotFound", eve.ID, got.ID, got.Event.Author.ID, err)
	}
	if store.CaseNumber(eve.ID) != 1 || store.CaseNumber(frank.ID) != 1 || len(frank.ID) != len("c--000001")+store.EpochLen {
		t.Errorf("case ids %s and %s, want c-EPOCH-000001 each", eve.ID, frank.ID)
	}
}
