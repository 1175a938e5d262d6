package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestSendersGoneAreCountedNotLoggedEach: vigie's Redis hangs, and the
// senders of posted events give up waiting (their own timeout). Those
// events are not judged; each was an error line in the log (12,000 a
// minute in an overloaded soak, hiding the rest). They are counted, and
// said once.
func TestSendersGoneAreCountedNotLoggedEach(t *testing.T) {
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := redistest.NewHangProxy(t, u.Host)
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret, "VIGIE_REDIS_URL": proxy.URL(),
		"VIGIE_REDIS_PREFIX": fmt.Sprintf("gone-%d", time.Now().UnixNano())},
		func(c *daemon.Config) { c.ShutdownTimeout = 2 * time.Second })
	in.post(t, message("m-0", "u-1", "hello"))
	proxy.Hang()
	// Five senders at once, each giving up after 300 ms: well before vigie
	// gives up on Redis itself (its 1 s) and judges on its own.
	const n = 5
	gone := make(chan error, n)
	for i := range n {
		body, err := json.Marshal(message(fmt.Sprintf("m-%d", i+1), "u-1", "free nitro"))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, "POST", in.base+"/v1/events", bytes.NewReader(body))
			if err != nil {
				gone <- err
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Vigie-Signature", sign(body, secret))
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				err = fmt.Errorf("m-%d answered %d with Redis hung, want the sender to give up first", i+1, resp.StatusCode)
			} else {
				err = nil
			}
			gone <- err
		}()
	}
	for range n {
		if err := <-gone; err != nil {
			t.Error(err)
		}
	}
	// Each is counted once its judging ends (Redis's answer given up).
	testsync.Eventually(t, "the events their senders gave up counted", func() bool {
		return metricsHave(t, in, fmt.Sprintf("vigie_events_abandoned_total %d", n))
	})
	logs := in.logs.String()
	if c := strings.Count(logs, "event not evaluated"); c != 0 {
		t.Errorf("%d error lines \"event not evaluated\" for events their senders gave up, want none", c)
	}
	if c := strings.Count(logs, "events not evaluated: their senders went away first"); c != 1 {
		t.Errorf("said %d times that senders went away, want once", c)
	}
	// Redis still hangs: what vigie kept for it (its hourly tally, cases
	// opened once it judged on its own) is said not written at the stop,
	// as TestShutdownWithRedisHung has it; any other failure is this test's.
	if err := in.stop(); err != nil && !strings.Contains(err.Error(), "close redis store: not done by the end of the stop") {
		t.Errorf("stop: %v", err)
	}
}
