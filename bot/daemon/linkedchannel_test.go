package daemon_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const linkedRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: links
    category: spam
    when: not author.staff and len(links) > 0
    do: [delete, 'warn("No links here")']
`

// TestLinkedChannelCommentsAreTheBrands: in a channel's discussion group, the
// channel's admins answer the comments as the channel (sender_chat is the
// linked channel, without is_automatic_forward, which only its posts
// forwarded to the group carry). The channel is the brand, as its automatic
// forwards are: its answers are not deleted nor warned as a stranger's (the
// first, before vigie knows which channel is linked, may be a case, as an
// admin's is), whereas another channel writing there is moderated like a
// member.
func TestLinkedChannelCommentsAreTheBrands(t *testing.T) {
	api := tgfake.New(t)
	const group, brand, stranger = -100200, -1001111111111, -1002222222222
	api.SetLinked(group, brand)
	in := start(t, linkedRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_CHATS": strconv.Itoa(group)})

	api.Push(groupMessage(group, 6, "Dan", "hello"))
	testsync.Eventually(t, "the group's admins listed", func() bool {
		return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), `vigie_telegram_admin_lookups_total{result="ok"} 1`)
	})
	asChat := func(text string, sender map[string]any, auto bool) (map[string]any, int) {
		u := groupMessage(group, 136817688, "Channel", text)
		m := u["message"].(map[string]any)
		m["from"].(map[string]any)["username"] = "Channel_Bot"
		m["sender_chat"] = sender
		if auto {
			m["is_automatic_forward"] = true
			m["forward_origin"] = map[string]any{"type": "channel", "date": time.Now().Unix(), "chat": sender, "message_id": 77}
		}
		return u, m["message_id"].(int)
	}
	brandChat := map[string]any{"id": brand, "type": "channel", "title": "Brand News", "username": "brandnews"}
	strangerChat := map[string]any{"id": stranger, "type": "channel", "title": "Crypto Signals", "username": "cryptosig"}

	post, postID := asChat("New drop today: https://shop.example.com/drop", brandChat, true)
	answer, answerID := asChat("Hi Dan, the link is https://shop.example.com/help", brandChat, false)
	spam, spamID := asChat("Join https://cryptosig.example.net now", strangerChat, false)
	api.Push(answer)
	api.Push(post)
	api.Push(spam)
	member := groupMessage(group, 7, "Eve", "look https://scam.example.net")
	memberID := member["message"].(map[string]any)["message_id"].(int)
	api.Push(member)

	deleted := func(id int) bool {
		for _, p := range find(api, "deleteMessage", "chat_id", strconv.Itoa(group)) {
			if p.Get("message_id") == strconv.Itoa(id) {
				return true
			}
		}
		return false
	}
	// The group's lane takes its messages in order: once the member's is
	// deleted, the channels' were decided.
	testsync.Eventually(t, "the member's link deleted", func() bool { return deleted(memberID) })
	if !deleted(spamID) {
		t.Errorf("another channel's link was not deleted")
	}
	for _, id := range []int{postID, answerID} {
		if deleted(id) {
			t.Errorf("the linked channel's message %d was deleted", id)
		}
		for _, p := range find(api, "sendMessage", "chat_id", strconv.Itoa(group)) {
			if strings.Contains(p.Get("reply_parameters"), `"message_id":`+strconv.Itoa(id)+`,`) ||
				strings.Contains(p.Get("reply_parameters"), `"message_id":`+strconv.Itoa(id)+`}`) ||
				strings.Contains(p.Get("text"), "shop.example.com") {
				t.Errorf("the linked channel's message %d got an answer: %q", id, p.Get("text"))
			}
		}
	}
}
