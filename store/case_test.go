package store

import (
	"fmt"
	"hash/fnv"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// TestCaseNames: Origin, AuthorGroup, PlaceGroup and Groups name a case as
// the stores store it (the Redis store keeps these names); since 7
// December, an author's group leaves the channel out.
func TestCaseNames(t *testing.T) {
	ev := bot.Event{ID: "m-1", Platform: "discord", Space: "guild-1", Channel: "general", Author: bot.Author{ID: "u-7"}}
	for _, c := range []Case{
		{Event: ev, Rule: "scam", Reason: "forwarded by rule scam"},
		{Event: ev, Rule: "scam", Reason: ""},
		{Event: ev, Rule: "", Reason: "faq: unanswered"},
		{Event: ev, Rule: "scam", Reason: "paused: would delete", Holds: true},
		{Event: bot.Event{ID: "m-2", Platform: "telegram", Author: bot.Author{ID: "u|8"}}, Rule: "é|x", Reason: "été\x00\xff"},
		{Event: bot.Event{ID: "m-4", Platform: "telegram", Channel: "-1001", Author: bot.Author{ID: "8"}}, Rule: "scam", Reason: "no space"},
		{Event: bot.Event{ID: "m-5", Platform: "facebook", Space: "page", Channel: "post-1", Author: bot.Author{ID: "8"}}, Rule: "scam", Reason: "a post"},
		{Event: bot.Event{Platform: "discord", Author: bot.Author{ID: "u-7"}}, Rule: "scam", Reason: "no id"},
		{Event: bot.Event{ID: "m-3", Platform: "discord"}, Rule: "scam", Reason: "no author"},
	} {
		want := ""
		if c.Event.ID != "" {
			h := fnv.New64a()
			h.Write([]byte(c.Reason))
			want = fmt.Sprintf("%s|%s|%x", c.Event.Key(), c.Rule, h.Sum64())
		}
		if got := c.Origin(); got != want {
			t.Errorf("Origin of %+v = %q, want %q", c, got, want)
		}
		wantPlace := ""
		if c.Rule != "" && c.Event.Author.ID != "" && !c.Holds {
			wantPlace = c.Event.Platform + "|" + c.Event.Space + "|" + c.Event.Channel + "|" + c.Rule
		}
		// An author's cases of a rule are grouped across the channels of
		// a Discord server or a Telegram chat; elsewhere, or without a
		// space, in their channel.
		wantAuthor := ""
		if wantPlace != "" {
			channel := c.Event.Channel
			if c.Event.Space != "" && (c.Event.Platform == "discord" || c.Event.Platform == "telegram") {
				channel = ""
			}
			wantAuthor = c.Event.Platform + "|" + c.Event.Space + "|" + channel + "|" + c.Rule + "|" + c.Event.Author.ID
		}
		if got := c.PlaceGroup(); got != wantPlace {
			t.Errorf("PlaceGroup = %q, want %q", got, wantPlace)
		}
		if got := c.AuthorGroup(); got != wantAuthor {
			t.Errorf("AuthorGroup = %q, want %q", got, wantAuthor)
		}
		if a, p := c.Groups(); a != wantAuthor || p != wantPlace {
			t.Errorf("Groups = %q, %q, want %q, %q", a, p, wantAuthor, wantPlace)
		}
	}
}
