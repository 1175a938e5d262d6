package daemon

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/bot/telegram"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestPollerInboxRemovalTriedAgainWhenQuiet: an update judged while Redis
// is frozen stays in the poller's inbox (its removal not answered). Once
// Redis answers again it is removed, though no other update comes to wake
// the removals: a quiet group at night. Left there, a next poller (this
// process killed, or another taking the job over) would hand it on, and
// judge it a second time when it was judged from memory, which Redis's
// dedupe never saw. Before, the removal was tried again only when another
// update was judged, and the inbox still held the update.
func TestPollerInboxRemovalTriedAgainWhenQuiet(t *testing.T) {
	const group = -1001234567890
	srv := redistest.Start(t)
	fb := redistest.OpenFallback(t, srv.URL(), redis.FallbackOptions{EventTimeout: 200 * time.Millisecond, RetryEvery: 50 * time.Millisecond},
		redis.WithPrefix(redistest.Prefix("inboxretry")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lease, ok, err := fb.AcquireLease(ctx, "telegram", "me", time.Hour)
	if err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	f := Fence{st: fb, lease: lease}

	api := tgfake.New(t)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	tg, err := telegram.New(telegram.Config{Token: tgfake.Token, APIURL: api.HTTP.URL, Chats: []int64{group},
		PollTimeout: time.Second, ReportsJudged: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan bot.Event, 4)
	done := make(chan error, 1)
	go func() { done <- tg.RunPoller(ctx, out, fencedInbox{&fencedOffsets{f: f, log: log}}) }()
	defer func() {
		cancel()
		<-done
	}()

	api.Push(map[string]any{"message": map[string]any{
		"message_id": 1, "date": time.Now().Unix(), "text": "hello",
		"from": map[string]any{"id": 7, "is_bot": false, "first_name": "Eve"},
		"chat": map[string]any{"id": group, "type": "supergroup", "title": "Fans"},
	}})
	var ev bot.Event
	select {
	case ev = <-out:
	case <-time.After(testsync.Patience):
		t.Fatal("no event")
	}
	inbox := func() int {
		items, err := fb.InboxItems(context.Background(), "telegram")
		if err != nil {
			return -1
		}
		return len(items)
	}
	if n := inbox(); n != 1 {
		t.Fatalf("inbox holds %d updates while the event is not judged, want 1", n)
	}

	srv.Freeze()
	tg.Judged(&ev)
	redistest.Eventually(t, 30*time.Second, "the removal to fail", func() bool {
		return strings.Contains(logs.String(), "not removed from the poller's inbox")
	})
	srv.Thaw()
	redistest.Eventually(t, 30*time.Second, "the judged update to leave the inbox", func() bool { return inbox() == 0 })
}
