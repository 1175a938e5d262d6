package telegram

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestMessagesSentAsAChat: a message a member sends on behalf of a channel,
// or an anonymous administrator on behalf of the group, carries sender_chat.
// The group's linked channel is staff whether it posts (automatic forwards)
// or answers as the channel; another channel is not.
// Telegram adds a placeholder user in from (Channel_Bot, GroupAnonymousBot)
// "for backward compatibility", but the Bot API describes from as optional:
// a message without it is still judged, as its chat.
func TestMessagesSentAsAChat(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	knowAdmins(t, c, group.id)
	// The group is the discussion group of the brand's channel; vigie asks
	// which, as it does in the group's lane when a channel writes there.
	brand := tgChat{id: -1003333333333, kind: "channel", title: "Brand News", username: "brandnews"}
	f.SetLinked(group.id, brand.id)
	if linked, known := c.linkedChannel(t.Context(), group.id); !known || linked != brand.id {
		t.Fatalf("linked channel = %d, %v; want %d", linked, known, brand.id)
	}
	out := make(chan bot.Event)
	run(t, c, out)

	chatStr := strconv.FormatInt(group.id, 10)
	channel := tgChat{id: -1001111111111, kind: "channel", title: "Crypto Signals", username: "cryptosig"}
	channelBot := tgUser{id: 136817688, first: "Channel", user: "Channel_Bot"}
	anonBot := tgUser{id: anonymousAdmin, first: "Group", user: "GroupAnonymousBot", bot: true}
	asChannel := bot.Author{ID: "-1001111111111", Name: "Crypto Signals", Roles: []string{"channel"}}
	asBrand := bot.Author{ID: "-1003333333333", Name: "Brand News", Roles: []string{"linked_channel"}, Staff: true}
	asGroup := bot.Author{ID: chatStr, Name: "Fans", Roles: []string{"anonymous_admin"}, Staff: true}
	without := func(m map[string]any, key string) map[string]any {
		delete(m, key)
		return m
	}
	tests := []struct {
		name   string
		update map[string]any
		want   bot.Event
	}{
		{
			name:   "a channel writes in the group, from is Telegram's placeholder",
			update: map[string]any{"message": with(message(group, 40, channelBot, t0, "join my channel"), "sender_chat", channel.json())},
			want: bot.Event{ID: fmtID(group.id, 40), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: asChannel, Text: "join my channel", At: at(t0), Link: "https://t.me/c/1234567890/40"},
		},
		{
			name:   "a channel writes in the group, without from",
			update: map[string]any{"message": without(with(message(group, 41, channelBot, t0+1, "free crypto"), "sender_chat", channel.json()), "from")},
			want: bot.Event{ID: fmtID(group.id, 41), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: asChannel, Text: "free crypto", At: at(t0 + 1), Link: "https://t.me/c/1234567890/41"},
		},
		{
			name: "its edit, without from",
			update: map[string]any{"edited_message": without(with(message(group, 41, channelBot, t0+1, "free crypto now"),
				"sender_chat", channel.json(), "edit_date", t0+2), "from")},
			want: bot.Event{ID: fmtID(group.id, 41) + ":" + strconv.FormatInt(t0+2, 10), Platform: "telegram", Kind: bot.KindEdit, Space: chatStr,
				Channel: chatStr, Author: asChannel, Text: "free crypto now", At: at(t0 + 2), Link: "https://t.me/c/1234567890/41"},
		},
		{
			name:   "the linked channel answers a comment (no automatic forward)",
			update: map[string]any{"message": with(message(group, 43, channelBot, t0+4, "see https://brand.example"), "sender_chat", brand.json())},
			want: bot.Event{ID: fmtID(group.id, 43), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: asBrand, Text: "see https://brand.example", At: at(t0 + 4), Link: "https://t.me/c/1234567890/43"},
		},
		{
			name:   "an anonymous administrator, without from",
			update: map[string]any{"message": without(with(message(group, 42, anonBot, t0+3, "rules updated"), "sender_chat", group.json()), "from")},
			want: bot.Event{ID: fmtID(group.id, 42), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: asGroup, Text: "rules updated", At: at(t0 + 3), Link: "https://t.me/c/1234567890/42"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.push(tt.update)
			if got := testsync.Next(t, out); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("event\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
