package handlers_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/memory"
)

// What vigie says never becomes the spam: one warning per author in the window,
// one grouped message for a wave in a place, nothing about last night's backlog.
func TestWarningsAreBounded(t *testing.T) {
	warn := bot.Match{Rule: "caps", Category: "caps", Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActWarn, Text: "No caps"}}}
	answer := bot.Match{Rule: "hello", Actions: []bot.Action{{Kind: bot.ActReply, Text: "Hello!"}}}
	mute := bot.Match{Rule: "flood", Actions: []bot.Action{{Kind: bot.ActTimeout, Duration: 10 * time.Minute}}}

	type post struct {
		author  string
		channel string
		after   time.Duration // since the first event, on the clock
		age     time.Duration // how old the message is when it is handled
		match   bot.Match
		kind    bot.Kind // message when empty
	}
	tests := []struct {
		name  string
		posts []post
		want  []string
	}{
		{
			name: "one warning per author in the window",
			posts: []post{
				{author: "a", match: warn},
				{author: "a", after: time.Minute, match: warn},
				{author: "a", after: handlers.DefaultWarnEvery + time.Minute, match: warn},
			},
			want: []string{"delete", `reply("No caps")`, "delete", "delete", `reply("No caps")`},
		},
		{
			name: "a wave in one place: three warnings, then one grouped message, then none",
			posts: []post{
				{author: "a", match: warn}, {author: "b", match: warn}, {author: "c", match: warn},
				{author: "d", match: warn}, {author: "e", match: warn}, {author: "f", match: warn},
				{author: "g", channel: "other", match: warn},
			},
			want: []string{
				"delete", `reply("No caps")`, "delete", `reply("No caps")`, "delete", `reply("No caps")`,
				"delete", `reply("⚠️ Several messages here were moderated. No caps")`,
				"delete", "delete",
				"delete", `reply("No caps")`,
			},
		},
		{
			name: "last night's backlog: deleted, not warned nor answered, no timeout already over",
			posts: []post{
				{author: "a", age: 8 * time.Hour, match: warn},
				{author: "b", age: 8 * time.Hour, match: answer},
				{author: "c", age: 8 * time.Hour, match: mute},
				{author: "d", age: 5 * time.Minute, match: mute},
				{author: "e", age: 5 * time.Minute, match: answer},
			},
			want: []string{"delete", "timeout(10m)", `reply("Hello!")`},
		},
		{
			name: "a profile has no message: its member is timed out, nothing deleted or said",
			posts: []post{
				{author: "a", kind: bot.KindProfile, match: bot.Match{Rule: "name", Actions: []bot.Action{
					{Kind: bot.ActDelete}, {Kind: bot.ActWarn, Text: "Rename"}, {Kind: bot.ActReply, Text: "No"}, {Kind: bot.ActTimeout, Duration: time.Hour}}}},
			},
			want: []string{"timeout(1h)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			discord := &chat{recorder: recorder{name: "discord"}}
			now := at
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": discord}, Store: st,
				Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range tt.posts {
				now = at.Add(p.after)
				ev := bot.Event{ID: fmt.Sprint("m-", i), Platform: "discord", Kind: cmp.Or(p.kind, bot.KindMessage), Space: "guild-1",
					Channel: p.channel, Author: bot.Author{ID: p.author}, Text: "HELLO", At: now.Add(-p.age)}
				if err := m.Handle(context.Background(), ev, bot.Verdict{EventID: ev.ID, Platform: "discord", At: ev.At, Matches: []bot.Match{p.match}}); err != nil {
					t.Fatal(err)
				}
			}
			if got := discord.Calls(); !slices.Equal(got, tt.want) {
				t.Errorf("calls = %q\nwant    %q", got, tt.want)
			}
		})
	}
}
