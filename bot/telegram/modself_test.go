package telegram

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A command answering a message no member wrote as themselves (vigie's own,
// the linked channel's post or answer in its discussion group, an anonymous
// administrator's, which Telegram signs with the group) is not aimed at a
// member: a moderator who answered the wrong message is told, and vigie
// neither warns, mutes nor bans itself, the brand's channel or the group.
func TestModCommandOnAMessageNoMemberWrote(t *testing.T) {
	channel := tgChat{id: -1001111111111, kind: "channel", title: "Fans News", username: "fansnews"}
	service := tgUser{id: 777000, first: "Telegram"}
	channelBot := tgUser{id: 136817688, first: "Channel", user: "Channel_Bot"}
	anon := tgUser{id: anonymousAdmin, first: "Group", user: "GroupAnonymousBot", bot: true}
	for _, tc := range []struct {
		name  string
		reply map[string]any
		want  string
	}{
		{"vigie's own message", message(group, 50, vigieUser, t0, "Bob, a warning from the moderators"),
			"Nothing done: that message is vigie's own. Answer the member's message."},
		{"the linked channel's post", with(message(group, 51, service, t0, "New season!"), "sender_chat", channel.json(), "is_automatic_forward", true),
			"Nothing done: that message is the group's linked channel's, Fans News. Answer the member's message."},
		// Its admins answer the comments as the channel, without
		// is_automatic_forward: vigie asks Telegram which channel is linked.
		{"the linked channel's answer to a comment", with(message(group, 53, channelBot, t0, "Thanks Bob!"), "sender_chat", channel.json()),
			"Nothing done: that message is the group's linked channel's, Fans News. Answer the member's message."},
		{"an anonymous administrator's", with(message(group, 52, anon, t0, "Rules updated"), "sender_chat", group.json()),
			"Nothing done: that message is an anonymous administrator's, signed with the group: Telegram does not say who wrote it."},
	} {
		for _, command := range []string{"/warn stop", "/ban", "/mute 1h", "/kick"} {
			t.Run(tc.name+" "+command, func(t *testing.T) {
				w := newModWorld(t)
				w.f.SetLinked(group.id, channel.id)
				id := w.say(alice, command, "reply_to_message", tc.reply) // alice is a CM
				got := w.f.waitFor("sendMessage", 1, func(c apiCall) bool {
					return strings.Contains(c.Params.Get("reply_parameters"), fmt.Sprintf(`"message_id":%d}`, id))
				}).Params.Get("text")
				if got != tc.want {
					t.Errorf("answer = %q, want %q", got, tc.want)
				}
				testsync.Eventually(t, "the command taken", func() bool { return w.c.work.Busy() == 0 })
				for _, m := range []string{"banChatMember", "banChatSenderChat", "restrictChatMember"} {
					if n := w.f.count(m, nil); n != 0 {
						t.Errorf("%d %s", n, m)
					}
				}
				if n := w.f.count("sendMessage", nil); n != 1 {
					t.Errorf("%d messages sent, want the answer alone", n)
				}
			})
		}
	}
}
