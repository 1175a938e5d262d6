package daemon_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestVerifyTelegram drives a new member's verification through the daemon:
// the rule file's verify: holds and asks them, the rules see them
// unverified, and their press lets them speak. The daemon runs on a clock
// that the test does not move: Telegram dates the join and the prompt on it.
func TestVerifyTelegram(t *testing.T) {
	clk := stepclock.New(stepMorning)
	api := tgfake.New(t)
	in := start(t, `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
verify: {timeout: 2m}
rules:
  - name: unverified-join
    category: join
    when: kind == "join" and not author.verified
    do: [strike]
`, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL}, onClock(clk))
	const group = -100200
	member := map[string]any{"id": 77, "is_bot": false, "first_name": "Newt"}
	chat := map[string]any{"id": group, "type": "supergroup", "title": "fans"}
	api.Push(map[string]any{"chat_member": map[string]any{
		"chat": chat, "from": member, "date": clk.Now().Unix(),
		"old_chat_member": map[string]any{"user": member, "status": "left"},
		"new_chat_member": map[string]any{"user": member, "status": "member"},
	}})
	testsync.Eventually(t, "the hold", func() bool {
		held := find(api, "restrictChatMember", "user_id", "77")
		return len(held) == 1 && strings.Contains(held[0].Get("permissions"), `"can_send_messages":false`)
	})
	testsync.Eventually(t, "the prompt", func() bool {
		return len(find(api, "sendMessage", "reply_markup", `"callback_data":"vf:-100200:77"`)) == 1
	})
	testsync.Eventually(t, "the rule on the unverified join", func() bool {
		return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), `vigie_rule_hits_total{category="join",mode="enforce",rule="unverified-join"} 1`)
	})

	api.Push(map[string]any{"callback_query": map[string]any{
		"id": "cb-v", "data": "vf:-100200:77", "chat_instance": "x", "from": member,
		"message": map[string]any{"message_id": 100, "date": clk.Now().Unix(), "chat": chat},
	}})
	testsync.Eventually(t, "the lift", func() bool {
		lifted := find(api, "restrictChatMember", "permissions", `"can_send_messages":true`)
		return len(lifted) == 1 && lifted[0].Get("user_id") == "77"
	})
	testsync.Eventually(t, "the outcome counted", func() bool {
		return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), `vigie_verifications_total{platform="telegram",result="passed"} 1`)
	})
	if strings.Contains(in.logs.String(), "neither Telegram nor Discord is on") {
		t.Errorf("warned that no platform can ask, with Telegram on:\n%s", in.logs)
	}
}

// With verify: set and neither Telegram nor Discord on (their tokens are the
// environment's, which vigie check cannot see), vigie run says at start, with
// the section's position, that no new member is asked.
func TestVerifyWithoutPlatformWarns(t *testing.T) {
	in := start(t, `timezone: UTC
verify: {timeout: 2m}
rules:
  - {name: r, when: 'false', do: [strike]}
`, nil)
	want := in.file + `:2:9: verify: is set but neither Telegram nor Discord is on: no new member is asked`
	if logs := in.logs.String(); !strings.Contains(logs, want) || !strings.Contains(logs, "level=WARN") {
		t.Errorf("no warning %q in the logs:\n%s", want, logs)
	}
}

// TestVerifyDeadlineOnTheDaemonsClock: a new member who does not press is
// kicked when the daemon's clock (Config.Now), stepped on its timer
// (Config.AfterFunc), passes their deadline: the job that keeps the
// deadlines looks every 5s of that clock, and no wall clock time passes.
// Stopped, the daemon leaves none of its timers set.
func TestVerifyDeadlineOnTheDaemonsClock(t *testing.T) {
	clk := stepclock.New(stepMorning, stepclock.RecordCallers())
	api := tgfake.New(t)
	in := start(t, `timezone: UTC
desk:
  telegram_chat: "-100500"
verify: {timeout: 2m, on_fail: kick}
rules: []
`, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL}, onClock(clk))
	member := map[string]any{"id": 77, "is_bot": false, "first_name": "Newt"}
	chat := map[string]any{"id": -100200, "type": "supergroup", "title": "fans"}
	api.Push(map[string]any{"chat_member": map[string]any{
		"chat": chat, "from": member, "date": clk.Now().Unix(),
		"old_chat_member": map[string]any{"user": member, "status": "left"},
		"new_chat_member": map[string]any{"user": member, "status": "member"},
	}})
	testsync.Eventually(t, "the prompt", func() bool {
		return len(find(api, "sendMessage", "reply_markup", `"callback_data":"vf:-100200:77"`)) == 1
	})
	// The deadline is set once Telegram took the prompt: the clock moves on
	// only after, or the deadline would be a minute later.
	testsync.Eventually(t, "the member's deadline kept", func() bool {
		return strings.Contains(in.logs.String(), "verify: new member asked")
	})
	kicked := `vigie_verifications_total{platform="telegram",result="kicked"} 1`
	testsync.Eventually(t, "the deadlines' next look set", func() bool { return clk.Armed(5*time.Second, "telegramConnector") })
	clk.Step(time.Minute)
	testsync.Eventually(t, "the deadlines' next look set", func() bool { return clk.Armed(5*time.Second, "telegramConnector") })
	if metricsHave(t, in, kicked) || len(api.CallsOf("banChatMember")) > 0 {
		t.Fatalf("kicked a minute into a 2m verification")
	}
	clk.Step(time.Minute + 5*time.Second)
	testsync.Eventually(t, "the kick once the deadline passed on the clock", func() bool { return metricsHave(t, in, kicked) })
	if got := find(api, "banChatMember", "user_id", "77"); len(got) != 1 {
		t.Errorf("banChatMember calls for 77: %v, want the kick's one", got)
	}
	// Stopped, the daemon leaves no timer set on its clock.
	if err := in.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if got := clk.Waits(); len(got) != 0 {
		t.Errorf("timers still set on the clock once the daemon stopped: %v", got)
	}
}

// TestVerifyJoinSentAgainAskedOnce: two instances on one Redis behind one
// webhook address. A join reaches the first, which asks the member; the
// member presses; Telegram sends the same update again (its answer did not
// reach Telegram), to the other instance: the member is not held again,
// nor prompted again. Before, they were held with a second prompt after
// they had pressed.
func TestVerifyJoinSentAgainAskedOnce(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix("vigietest-verifyonce")
	api := tgfake.New(t)
	env := map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
		"VIGIE_REDIS_URL": url, "VIGIE_REDIS_PREFIX": prefix, "VIGIE_WEBHOOK_SECRET": secret,
	}
	rules := `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
  telegram_chats: ["-100200"]
verify: {timeout: 2m}
rules:
  - {name: r, when: 'false', do: [strike]}
`
	ins := []*instance{start(t, rules, env), start(t, rules, env)}
	for i, in := range ins {
		testsync.Eventually(t, fmt.Sprintf("instance %d taking updates", i), func() bool {
			return webhookPost(t, in, map[string]any{"update_id": 1 + i}) == 200
		})
	}
	const group = -100200
	member := map[string]any{"id": 77, "is_bot": false, "first_name": "Newt"}
	chat := map[string]any{"id": group, "type": "supergroup", "title": "fans"}
	join := map[string]any{"update_id": 10, "chat_member": map[string]any{
		"chat": chat, "from": member, "date": time.Now().Unix(),
		"old_chat_member": map[string]any{"user": member, "status": "left"},
		"new_chat_member": map[string]any{"user": member, "status": "member"},
	}}
	if code := webhookPost(t, ins[0], join); code != 200 {
		t.Fatalf("the join answered %d", code)
	}
	prompted := func() int { return len(find(api, "sendMessage", "reply_markup", `"callback_data":"vf:-100200:77"`)) }
	testsync.Eventually(t, "the prompt", func() bool { return prompted() == 1 })
	press := map[string]any{"update_id": 11, "callback_query": map[string]any{
		"id": "cb-v", "data": "vf:-100200:77", "chat_instance": "x", "from": member,
		"message": map[string]any{"message_id": 100, "date": time.Now().Unix(), "chat": chat},
	}}
	if code := webhookPost(t, ins[0], press); code != 200 {
		t.Fatalf("the press answered %d", code)
	}
	testsync.Eventually(t, "the lift", func() bool {
		return len(find(api, "restrictChatMember", "permissions", `"can_send_messages":true`)) == 1
	})

	if code := webhookPost(t, ins[1], join); code != 200 {
		t.Fatalf("the join sent again answered %d", code)
	}
	testsync.Eventually(t, "the join sent again looked at", func() bool {
		return strings.Contains(ins[1].logs.String(), "asked already on this join") ||
			strings.Contains(ins[1].logs.String(), "new member asked")
	})
	if n := prompted(); n != 1 {
		t.Errorf("%d prompts for one join, want 1", n)
	}
	if held := find(api, "restrictChatMember", "permissions", `"can_send_messages":false`); len(held) != 1 {
		t.Errorf("the member held %d times for one join, want once", len(held))
	}
}
