package telegram

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A member's link is on the desk, its case open, when the member edits it:
// first into a harmless text (to fool the CM), then into a gift scam. The
// card is edited (editMessageText, its buttons kept) to show each edit under
// the message as first posted, with what the rules found in it: nothing,
// then the scam rule, whose delete is carried out; the scam's forward joins
// the link's case, on its one card, rather than be a second card beside it.
func TestEditOfAnOpenCaseShownOnItsCard(t *testing.T) {
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			f := newFakeBotAPI(t)
			c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
			knowAdmins(t, c, group.id)
			cmds := &moderatorCommands{desktest.Commands{Store: st}}
			events, clock, _ := desktest.ServeRulesOnDesk(t, "telegram", c, st, desktest.EditCaseRules, &cmds.Commands, c.Desk(cmds), logs)
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(logs.String())
				}
			})
			now := clock.Now
			run(t, c, events)

			chat := &bobsChat{f: f, now: now, msg: 100}
			edit := chat.edit
			toDesk := func(c apiCall) bool { return c.Params.Get("chat_id") == strconv.FormatInt(deskChat.id, 10) }

			q := chat.say("my stream tonight: https://twitch.tv/bob")
			posted := f.waitFor("sendMessage", 1, func(c apiCall) bool { return toDesk(c) && strings.Contains(c.Params.Get("text"), "twitch.tv/bob") })
			card := func(c apiCall) bool {
				return toDesk(c) && c.Params.Get("message_id") == strconv.Itoa(posted.MsgID)
			}

			clock.Later(time.Minute)
			edit(q, "my stream tonight, see you there")
			shown := f.waitFor("editMessageText", 1, func(c apiCall) bool { return card(c) && strings.Contains(c.Params.Get("text"), "see you there") })
			text := shown.Params.Get("text")
			for _, want := range []string{"twitch.tv/bob", "✏️ Edited by its author", "<blockquote>my stream tonight, see you there</blockquote>", "The edit matches no rule"} {
				if !strings.Contains(text, want) {
					t.Errorf("card once the link was edited out lacks %q:\n%s", want, text)
				}
			}
			if !strings.Contains(shown.Params.Get("reply_markup"), "v1:") {
				t.Errorf("the open case's card lost its buttons: %q", shown.Params.Get("reply_markup"))
			}

			clock.Later(time.Minute)
			edit(q, "free nitro gift: https://discord-gift.example/claim")
			f.waitFor("deleteMessage", 1, func(c apiCall) bool { return c.Params.Get("message_id") == strconv.Itoa(q) })
			desktest.WantOpenCases(t, st, "the link's case, which its edits join", "links ×1")
			shown = f.waitFor("editMessageText", 1, func(c apiCall) bool { return card(c) && strings.Contains(c.Params.Get("text"), "nitro") })
			text = shown.Params.Get("text")
			for _, want := range []string{"twitch.tv/bob", "✏️ Edited by its author (2 times)", "free nitro gift", "In the edit: links: a link to look at; scam: gift scam"} {
				if !strings.Contains(text, want) {
					t.Errorf("card once the link was edited into a scam lacks %q:\n%s", want, text)
				}
			}
			if n := f.count("sendMessage", toDesk); n != 1 {
				t.Errorf("%d cards posted for one message, want 1", n)
			}
		})
	}
}
