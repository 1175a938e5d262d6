package daemon_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
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

// TestStrangersDMsDoNotDelayTheGroups: while the private messages' evaluator
// is held (the judging of a member's private message does not end),
// strangers send thousands of private messages to the bot, and then a scam
// is posted in a moderated group. The scam is deleted while the private
// messages still wait: they have an evaluator of their own, and past their
// share they are let go, counted and logged; no group event is lost. The old
// shared queues had the scam wait behind them, the stream stalled on a full
// queue.
func TestStrangersDMsDoNotDelayTheGroups(t *testing.T) {
	srv := redistest.Start(t)
	api := tgfake.New(t)
	const member = 999_999
	inHand, held := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(held) })
	hold := func(ev *bot.Event) {
		if ev.Kind == bot.KindDM && ev.Author.ID == strconv.Itoa(member) && ev.Text == "when are you open?" {
			close(inHand)
			<-held
		}
	}
	in := start(t, dmFloodRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_CHATS": "-100200", "VIGIE_REDIS_URL": srv.URL(),
		// The poller starts 3.6s after it found no lease, not 18s.
		"VIGIE_LEASE_TTL": "3s", "VIGIE_LEASE_TTL_MAX": "3s"}, func(c *daemon.Config) { daemon.AfterJudging(c, hold) })
	t.Cleanup(release) // before the daemon's stop, which waits for its evaluators
	const group = -100200
	// The group is known first: its admins looked up, its first message judged.
	api.Push(groupMessage(group, 7, "Bob", "hello"))
	testsync.Eventually(t, "the group's first message judged", func() bool {
		return metric(t, in, `vigie_events_total{kind="message",platform="telegram"}`) == 1
	})

	// A member's private message, whose judging holds the private messages'
	// evaluator.
	api.Push(privateMessage(member, "when are you open?"))
	select {
	case <-inHand:
	case <-time.After(testsync.Patience):
		t.Fatal("the member's private message never judged")
	}

	// The member writes a thousand more (on the old shared queues, all in
	// the held evaluator's: the stream stalled once it was full), then three
	// thousand strangers write once each.
	const mine, strangers = 1000, 3000
	for range mine {
		api.Push(privateMessage(member, "hello? hello?"))
	}
	for i := range strangers {
		api.Push(privateMessage(int64(1_000_000+i), "hi, buy my stuff"))
	}
	api.Push(groupMessage(group, 8, "Eve", "FREE NITRO here"))
	testsync.Eventually(t, "the scam deleted while the private messages' evaluator is held", func() bool {
		return api.Count("deleteMessage", nil) == 1
	})
	if judged := metric(t, in, `vigie_events_total{kind="dm",platform="telegram"}`); judged > 1 {
		t.Errorf("%v private messages judged while their evaluator was held", judged)
	}

	// Released, every private message is judged or let go: the one in hand
	// and the queue's share judged, the rest let go: the member's past their
	// share (8 waiting, the one in hand with them), the strangers' past the
	// queue's.
	release()
	var judged, share, full float64
	testsync.Eventually(t, "every private message judged or let go", func() bool {
		judged = max(metric(t, in, `vigie_events_total{kind="dm",platform="telegram"}`), 0)
		share = max(metric(t, in, `vigie_private_messages_dropped_total{platform="telegram",reason="author_share"}`), 0)
		full = max(metric(t, in, `vigie_private_messages_dropped_total{platform="telegram",reason="queue_full"}`), 0)
		return judged+share+full == 1+mine+strangers
	})
	t.Logf("%v judged, %v let go past their author's share, %v past the queue's", judged, share, full)
	if judged != 1+256 || share != mine-7 {
		t.Errorf("%v private messages judged, %v let go past their author's share; want the one in hand and the queue's 256, and %d",
			judged, share, mine-7)
	}
	if !strings.Contains(in.logs.String(), "private messages let go unjudged") {
		t.Errorf("the private messages let go are not logged")
	}
	// The group's next message is judged as ever.
	api.Push(groupMessage(group, 9, "Eve", "free nitro again"))
	testsync.Eventually(t, "the next scam deleted", func() bool { return api.Count("deleteMessage", nil) == 2 })
}
