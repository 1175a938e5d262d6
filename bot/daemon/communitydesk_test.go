package daemon

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// cardRecorder is a platform's desk that keeps where each card and alert went.
type cardRecorder struct{ shown []string }

func (d *cardRecorder) PostCard(_ context.Context, card bot.Card) error {
	d.shown = append(d.shown, "card "+card.ID+" → "+card.Desk)
	return nil
}
func (d *cardRecorder) Alert(_ context.Context, text string) error {
	d.shown = append(d.shown, "alert "+text+" → ")
	return nil
}
func (d *cardRecorder) AlertIn(_ context.Context, to, text string) error {
	d.shown = append(d.shown, "alert "+text+" → "+to)
	return nil
}
func (d *cardRecorder) Page(context.Context, string) error { return nil }
func (d *cardRecorder) Picture(context.Context, string, string, []byte) error {
	return nil
}

// A community's cases and alerts go to its desk chat on the platform; the
// others to the file's desk, which may be unset while a community's is set.
func TestPlatformDeskRoutesByCommunity(t *testing.T) {
	rs, err := rules.Parse("rules.yaml", []byte(`rules: []
communities:
  shop:
    places: [telegram:-100111]
    desk: {telegram_chat: "-100900"}
  club:
    places: [discord:222]
    desk: {discord_channel: "333"}
`), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &cardRecorder{}
	unset := errors.New("no desk chat")
	desk := &platformDesk{d: rec, unset: unset}
	desk.setCommunities(rs, func(d rules.Desk) string { return d.TelegramChat })
	ctx := t.Context()
	if err := desk.PostCase(ctx, store.Case{ID: "c-1", Community: "shop"}); err != nil {
		t.Fatal(err)
	}
	if err := desk.PostCase(ctx, store.Case{ID: "c-2", Community: "club"}); !errors.Is(err, unset) {
		t.Errorf("a case of a community without a desk chat here, no file desk: %v, want %v", err, unset)
	}
	desk.set.Store(true)
	for _, c := range []store.Case{{ID: "c-2", Community: "club"}, {ID: "c-3"}} {
		if err := desk.PostCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := desk.AlertCommunity(ctx, "shop", "raid"); err != nil {
		t.Fatal(err)
	}
	if err := desk.AlertCommunity(ctx, "club", "raid"); err != nil {
		t.Fatal(err)
	}
	want := []string{"card c-1 → -100900", "card c-2 → ", "card c-3 → ", "alert raid → -100900", "alert raid → "}
	if !slices.Equal(rec.shown, want) {
		t.Errorf("shown %q, want %q", rec.shown, want)
	}
	if got := communityCMs(&rules.Ruleset{Desk: rules.Desk{CMs: []string{"telegram:1"}},
		Communities: []rules.Community{{Desk: rules.Desk{CMs: []string{"telegram:2", "telegram:1"}}}}}); !slices.Equal(got, []string{"telegram:1", "telegram:2"}) {
		t.Errorf("communityCMs = %q", got)
	}
}
