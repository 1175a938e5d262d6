package telegram

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// A card rendered by a process that saw no update of the group since its
// start (a /queue after a restart, another instance editing it) names the
// group as Telegram does now: the supergroup a basic group became, for a
// case of the old group, and the CM who decided as the desk chat says.
func TestCardNamesAfterRestart(t *testing.T) {
	f := newFakeBotAPI(t)
	const basic, super = -4001, -1004001
	f.Migrate(basic, super)
	f.SetTitle(super, "Fans FR")
	f.SetMember(deskChat.id, 42, "member")
	f.SetUsername(42, "ann_cm")
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
	ev := bot.Event{ID: "-4001:7", Platform: Platform, Kind: bot.KindMessage, Space: strconv.Itoa(basic), Channel: strconv.Itoa(basic),
		Author: bot.Author{ID: "8", Name: "Eve"}, Text: "hello"}
	card := bot.Card{ID: "c1", Event: ev, Rule: "scam", Outcome: bot.OutcomeKeep, DecidedBy: "telegram:42"}
	text := c.card(context.Background(), card, "", "")
	if !strings.Contains(text, "telegram · Fans FR · Eve (id 8)") {
		t.Errorf("card = %s\nwant it to name the supergroup the group became", text)
	}
	if !strings.Contains(text, "decided by Member (@ann_cm)") {
		t.Errorf("card = %s\nwant the CM named as the desk chat names them", text)
	}
	// Asked once: the next card names them from memory.
	calls := len(f.callsOf("getChat")) + len(f.callsOf("getChatMember"))
	c.card(context.Background(), card, "", "")
	if n := len(f.callsOf("getChat")) + len(f.callsOf("getChatMember")); n != calls {
		t.Errorf("%d more calls for the names of the second card", n-calls)
	}
}

// A forum topic is named as its last rename says, not as the topic's
// creation, which every message of the topic still answers, says.
func TestTopicRenamed(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	knowAdmins(t, c, group.id)
	out := make(chan bot.Event, 10)
	run(t, c, out)
	forum := group.json()
	forum["is_forum"] = true
	created := map[string]any{"message_id": 5, "from": bob.json(), "chat": forum, "date": t0, "message_thread_id": 5,
		"forum_topic_created": map[string]any{"name": "Off-topic", "icon_color": 7322096}}
	inTopic := func(id int, text string) map[string]any {
		m := message(group, id, bob, t0, text)
		m["chat"] = forum
		return map[string]any{"message": with(m, "message_thread_id", 5, "is_topic_message", true, "reply_to_message", created)}
	}
	card := func() string {
		var ev bot.Event
		select {
		case ev = <-out:
		case <-t.Context().Done():
		}
		return c.card(context.Background(), bot.Card{ID: "c", Event: ev}, "", "")
	}
	f.push(inTopic(10, "hello"))
	if got := card(); !strings.Contains(got, "telegram · Fans › Off-topic · ") {
		t.Errorf("card = %s\nwant the topic's name", got)
	}
	edited := message(group, 11, bob, t0, "")
	edited["chat"] = forum
	f.push(map[string]any{"message": with(edited, "message_thread_id", 5, "is_topic_message", true,
		"forum_topic_edited", map[string]any{"name": "Chat"})})
	f.push(inTopic(12, "hello again"))
	if got := card(); !strings.Contains(got, "telegram · Fans › Chat · ") {
		t.Errorf("card after the rename = %s\nwant the topic's new name", got)
	}
}
