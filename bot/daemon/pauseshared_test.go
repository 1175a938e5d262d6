package daemon_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestPauseReachesEveryInstance: two vigie on one Redis take the Telegram
// desk's updates behind a load balancer (webhook mode). A CM's /pause, at
// night, reaches one of them: both stop acting, and both act again after
// /resume, sent to the other. /mode after likewise, and an instance started
// during a pause starts paused. Before, the pause and
// the mode lived in the process that read the command: the other instance
// went on deleting and banning while the desk had been told "Paused".
func TestPauseReachesEveryInstance(t *testing.T) {
	const desk = -100500
	url := redistest.URL(t)
	prefix := redistest.Prefix("vigietest-pauseshared")
	api := tgfake.New(t)
	env := map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
		"VIGIE_REDIS_URL": url, "VIGIE_REDIS_PREFIX": prefix, "VIGIE_WEBHOOK_SECRET": secret,
	}
	fast := func(cfg *daemon.Config) { cfg.FollowEvery = 100 * time.Millisecond }
	ins := []*instance{start(t, telegramRules, env, fast), start(t, telegramRules, env, fast)}
	for i, in := range ins {
		testsync.Eventually(t, fmt.Sprintf("instance %d taking the desk's updates", i), func() bool {
			return webhookPost(t, in, map[string]any{"update_id": 1 + i}) == 200
		})
	}
	update := 100
	command := func(in *instance, text string) {
		t.Helper()
		update++
		u := groupMessage(desk, 42, "Ann", text)
		u["update_id"] = update
		if code := webhookPost(t, in, u); code != 200 {
			t.Fatalf("%s: webhook answered %d", text, code)
		}
	}
	paused := func(in *instance) bool {
		var h struct{ Paused bool }
		in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
		return h.Paused
	}
	mode := func(in *instance, m string) bool {
		return metricsHave(t, in, `vigie_mode{mode="`+m+`"} 1`)
	}

	command(ins[0], "/pause 1h")
	testsync.Eventually(t, "the pause answered", func() bool { return len(find(api, "sendMessage", "text", "Paused for 1h")) == 1 })
	if !paused(ins[0]) {
		t.Fatalf("the instance that read /pause is not paused")
	}
	testsync.Eventually(t, "the other instance paused", func() bool { return paused(ins[1]) })

	command(ins[1], "/resume")
	testsync.Eventually(t, "the resume answered", func() bool { return len(find(api, "sendMessage", "text", "Resumed")) == 1 })
	testsync.Eventually(t, "the first instance resumed", func() bool { return !paused(ins[0]) })

	command(ins[1], "/mode after 2h")
	testsync.Eventually(t, "/mode answered", func() bool {
		return len(find(api, "sendMessage", "text", "after hours")) > 0
	})
	testsync.Eventually(t, "the other instance after hours", func() bool { return mode(ins[0], "after") })
	command(ins[0], "/mode auto")
	testsync.Eventually(t, "/mode auto answered", func() bool {
		for _, p := range find(api, "sendMessage", "chat_id", fmt.Sprint(desk)) {
			if strings.Contains(p.Get("text"), "office_hours") {
				return true
			}
		}
		return false
	})
	testsync.Eventually(t, "the other instance back to the schedule", func() bool { return mode(ins[1], "office") })

	// Paused again, until /resume: an instance started now (a deploy)
	// starts paused.
	command(ins[1], "/pause")
	testsync.Eventually(t, "the second pause answered", func() bool { return len(find(api, "sendMessage", "text", "Paused until /resume")) == 1 })
	late := start(t, telegramRules, env, fast)
	if !paused(late) {
		t.Errorf("an instance started while the others are paused is not paused")
	}
}

// webhookPost posts a Telegram update to in's webhook, as Telegram does, and
// returns the status answered.
func webhookPost(t *testing.T, in *instance, update map[string]any) int {
	t.Helper()
	body, err := json.Marshal(update)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", in.base+"/webhooks/telegram", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret_token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
