package daemon_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestMetaLastEventOnTheDaemonsClock: the Meta connector is on the
// daemon's clock (Config.Now), as Telegram's and Discord's are: when it
// last handed an event over, in vigie_last_event_timestamp_seconds, is read
// there, an hour on once the clock was stepped an hour.
func TestMetaLastEventOnTheDaemonsClock(t *testing.T) {
	clk := stepclock.New(stepMorning)
	in := start(t, rulesV1, map[string]string{"META_PAGE_TOKEN": "page-token", "META_APP_SECRET": "app-secret",
		"META_VERIFY_TOKEN": "verify-me", "META_GRAPH_URL": "http://127.0.0.1:1"}, onClock(clk))
	clk.Step(time.Hour)
	at := clk.Now().Unix()
	body := fmt.Appendf(nil, `{"object":"page","entry":[{"id":"p","time":%d,"changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"c_1","post_id":"p_1","parent_id":"p_1","from":{"id":"42","name":"Bob"},"message":"salut","created_time":%d}}]}]}`, at, at)
	if r := in.do(t, "POST", "/webhooks/meta", body, map[string]string{"Content-Type": "application/json", "X-Hub-Signature-256": meta.Sign("app-secret", body)}); r.code != http.StatusOK {
		t.Fatalf("POST /webhooks/meta = %d %s", r.code, r.body)
	}
	want := float64(stepMorning.Add(time.Hour).Unix())
	var got float64
	testsync.Eventually(t, "the comment handed over", func() bool {
		got = metric(t, in, `vigie_last_event_timestamp_seconds{platform="meta"}`)
		return got > 0
	})
	if got != want {
		t.Errorf("meta's last event at %v, want %v (the daemon's clock)", time.Unix(int64(got), 0).UTC(), stepMorning.Add(time.Hour))
	}
}
