package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
)

// TestFallbackDecisionsDuringWriteBack: a CM decides the cases opened while
// Redis was away at the moment they are written back to it. Each decision
// lands, in Redis, whichever side of the write-back it falls on: none is
// refused as an unknown case, and none is made on the memory's copy after the
// write-back copied it (and then forgot it, decision and all).
func TestFallbackDecisionsDuringWriteBack(t *testing.T) {
	srv, primary, f := outageFallback(t, redis.FallbackOptions{RetryEvery: 10 * time.Millisecond})
	ctx := context.Background()
	const n = 600
	at := time.Now()
	srv.Stop()
	waitFor(t, "degraded", func() bool {
		_, err := f.Observe(ctx, store.Observation{At: at, Platform: "discord", Space: "g", Author: "u-x", EventID: fmt.Sprint(time.Now().UnixNano())})
		return err == nil && f.Degraded()
	})
	ids := make([]string, n)
	for i := range ids {
		c, err := f.OpenCase(ctx, store.Case{Reason: "r", Opened: at,
			Event: bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "discord", Space: fmt.Sprintf("g-%d", i), Author: bot.Author{ID: fmt.Sprintf("u-%d", i)}}})
		if err != nil || !strings.HasPrefix(c.ID, "l-") {
			t.Fatalf("case %d during the outage: %s, %v", i, c.ID, err)
		}
		ids[i] = c.ID
	}
	srv.Restart()
	// The CMs decide while the cases are written back, from the last one
	// (written last) to the first, so that decisions fall before, during and
	// after each case's write-back.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := n - 1 - w; i >= 0; i -= 4 {
				_, err := f.DecideCase(ctx, ids[i], "deleted", "cm", "", at)
				for errors.Is(err, redis.ErrUnavailable) {
					// Mapped to Redis, which the fallback has not seen back yet.
					time.Sleep(time.Millisecond)
					_, err = f.DecideCase(ctx, ids[i], "deleted", "cm", "", at)
				}
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	waitWrittenBack(t, f, "back from degraded, nothing waiting")
	var refused []string
	for i, err := range errs {
		if err != nil {
			refused = append(refused, fmt.Sprintf("%s: %v", ids[i], err))
		}
	}
	if len(refused) > 0 {
		t.Errorf("%d of %d decisions refused, first: %s", len(refused), n, refused[0])
	}
	open, err := primary.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) > 0 {
		t.Errorf("%d of %d decided cases still open in redis, first %s (%s)", len(open), n, open[0].ID, open[0].Event.ID)
	}
	decided, err := primary.Cases(ctx, store.CaseDecided)
	if err != nil {
		t.Fatal(err)
	}
	if len(decided) != n {
		t.Errorf("%d cases decided in redis, want %d", len(decided), n)
	}
}
