package daemon_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// privateMessage is a message of user to vigie in their private chat.
func privateMessage(user int64, text string) map[string]any {
	msgID++
	return map[string]any{"message": map[string]any{
		"message_id": msgID, "date": time.Now().Unix(), "text": text,
		"chat": map[string]any{"id": user, "type": "private", "first_name": "stranger"},
		"from": map[string]any{"id": user, "is_bot": false, "first_name": "stranger"},
	}}
}

const dmFloodRules = `timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'kind != "dm" and lower(text) contains "free nitro"'
    do: [delete]
`

// TestStrangersDMsDoNotDelayTheGroups: strangers send thousands of private
// messages to the bot, and then a scam is posted in a moderated group. The
// scam is deleted without waiting for the strangers' messages to be judged:
// they have an evaluator of their own, and past their share they are let
// go, counted and logged; no group event is lost. On Redis, where each
// judgement waits for a round trip, the old shared queues had the scam wait
// for all of them.
func TestStrangersDMsDoNotDelayTheGroups(t *testing.T) {
	srv := redistest.Start(t)
	api := tgfake.New(t)
	in := start(t, dmFloodRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_CHATS": "-100200", "VIGIE_REDIS_URL": srv.URL()})
	const group = -100200
	// The group is known first: its admins looked up, its first message judged.
	api.Push(groupMessage(group, 7, "Bob", "hello"))
	testsync.Eventually(t, "the group's first message judged", func() bool {
		return metric(t, in, `vigie_events_total{kind="message",platform="telegram"}`) == 1
	})

	const dms = 4000
	for i := range dms {
		api.Push(privateMessage(int64(1_000_000+i), "hi, buy my stuff"))
	}
	began := time.Now()
	api.Push(groupMessage(group, 8, "Eve", "FREE NITRO here"))
	testsync.Eventually(t, "the scam deleted", func() bool { return api.Count("deleteMessage", nil) == 1 })
	judged := metric(t, in, `vigie_events_total{kind="dm",platform="telegram"}`)
	t.Logf("the group's scam was deleted after %v, %v of %d private messages judged before it", time.Since(began), judged, dms)
	if judged > dms/2 {
		t.Errorf("%v of %d strangers' private messages were judged before the group's scam, want the group's first", judged, dms)
	}
	var dropped float64
	testsync.Eventually(t, "every private message judged or let go", func() bool {
		judged = max(metric(t, in, `vigie_events_total{kind="dm",platform="telegram"}`), 0)
		dropped = max(metric(t, in, `vigie_private_messages_dropped_total{platform="telegram",reason="queue_full"}`), 0)
		return judged+dropped == dms
	})
	t.Logf("%v judged, %v let go", judged, dropped)
	if !strings.Contains(in.logs.String(), "private messages let go unjudged") {
		t.Errorf("the private messages let go are not logged")
	}
	// The group's next message is judged as ever.
	api.Push(groupMessage(group, 9, "Eve", "free nitro again"))
	testsync.Eventually(t, "the next scam deleted", func() bool { return api.Count("deleteMessage", nil) == 2 })
}
