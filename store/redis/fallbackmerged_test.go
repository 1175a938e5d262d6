package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestFallbackMergedCaseStillPosted: a raid's case, grouped in Redis, has
// not reached the desk when Redis goes away; a raider's case opened
// meanwhile, in memory, is posted and acknowledged there. Written back, it
// joins the raid's case: that case still waits for the desk, rather than
// taking the raider's acknowledgement and never being posted.
func TestFallbackMergedCaseStillPosted(t *testing.T) {
	var logs testLogs
	srv, _, f := outageFallback(t, redis.FallbackOptions{Logger: logs.logger(), RetryEvery: 20 * time.Millisecond})
	ctx := context.Background()
	raider := func(i int) store.Case {
		return store.Case{Rule: "scam", Reason: "scam", Opened: night.Add(time.Duration(i) * time.Second),
			Event: bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "telegram", Space: "g", Channel: "c",
				Author: bot.Author{ID: fmt.Sprintf("u-%d", i)}, Text: "FREE NITRO", At: night}}
	}
	var raid store.Case
	var err error
	for i := range store.GroupAuthors + 1 {
		if raid, err = f.OpenCase(ctx, raider(i)); err != nil {
			t.Fatal(err)
		}
	}
	if raid.Hits() < 2 {
		t.Fatalf("the raid's case has %d hits, want them grouped", raid.Hits())
	}
	// The desk's round reads them; the desk is slow: the raid's card waits.
	if _, err := f.PendingCases(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	local, err := f.OpenCase(ctx, raider(store.GroupAuthors+1))
	if err != nil || !strings.HasPrefix(local.ID, "l-") {
		t.Fatalf("OpenCase with Redis away = %s, %v; want a case in memory", local.ID, err)
	}
	if err := f.AckCase(ctx, local.ID); err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	redistest.Eventually(t, time.Minute, "written back", func() bool { return !f.Degraded() && f.Buffered() == 0 })
	pending, err := f.PendingCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range pending {
		ids = append(ids, fmt.Sprintf("%s (%d hits)", c.ID, c.Hits()))
	}
	found := false
	for _, c := range pending {
		found = found || c.ID == raid.ID
	}
	if !found {
		t.Errorf("the raid's case %s is not waiting for the desk after the write-back; pending: %v", raid.ID, ids)
	}
}
