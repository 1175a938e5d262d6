package discord

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A link preview shows its author's name above its title and its footer's
// text below it: a site's own words, which a scam page fills as it likes
// ("Steam Support", "claim before midnight"). Both are read with the embed,
// in the event's content, where Discord shows them: the author first, the
// footer after the fields.
func TestEmbedAuthorAndFooterAreRead(t *testing.T) {
	f, _, out := runGuild(t)

	at := t0.Add(time.Minute)
	m := message(snowflake(at, 7), general, bob, at, "look")
	m["embeds"] = []any{map[string]any{"type": "link", "title": "Gift", "url": "https://gift.example/g",
		"author": map[string]any{"name": "Steam Support", "url": "https://steamcommunity.lat/support"},
		"fields": []any{map[string]any{"name": "expires", "value": "tonight", "inline": false}},
		"footer": map[string]any{"text": "claim at steamcommunity.lat before midnight"}}}
	f.Dispatch("MESSAGE_CREATE", m)
	ev := testsync.Next(t, out)
	want := "look\nSteam Support\nGift\nexpires\ntonight\nclaim at steamcommunity.lat before midnight\nhttps://gift.example/g\nhttps://steamcommunity.lat/support"
	if got := ev.Content(); got != want {
		t.Errorf("the embed's content reads %q, want its author's name and footer too: %q", got, want)
	}
}

// An embed's author name is a link too, to its author url: a scam's card
// names "Steam Support" and leads to a look-alike site, which a rule on
// links or domains must see as it sees the card's own url. It is read with
// the embed, in the event's content after the card's url.
func TestEmbedAuthorURLIsRead(t *testing.T) {
	f, _, out := runGuild(t)

	at := t0.Add(time.Minute)
	m := message(snowflake(at, 7), general, bob, at, "look")
	m["embeds"] = []any{map[string]any{"type": "rich", "title": "Gift", "url": "https://gift.example/g",
		"author": map[string]any{"name": "Steam Support", "url": "https://steamcommunity.lat/support"}}}
	f.Dispatch("MESSAGE_CREATE", m)
	ev := testsync.Next(t, out)
	want := "look\nSteam Support\nGift\nhttps://gift.example/g\nhttps://steamcommunity.lat/support"
	if got := ev.Content(); got != want {
		t.Errorf("the embed's content reads %q, want its author's link too: %q", got, want)
	}
	if len(ev.Embeds) != 1 || ev.Embeds[0].AuthorURL != "https://steamcommunity.lat/support" {
		t.Errorf("the embed read %+v, want author_url https://steamcommunity.lat/support", ev.Embeds)
	}
}
