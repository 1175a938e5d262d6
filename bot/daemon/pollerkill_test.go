package daemon_test

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestPollerKilledWithUpdatesInHand: the Telegram poller's owner is
// SIGKILLed with a batch of updates taken (its offset committed to Redis)
// but not judged: its handling is held on the group's admin list, which
// Telegram is slow to give. The process that takes the poller over hands
// on what the killed one left in the inbox: each spam is deleted, once.
// Before the inbox, the new poller started past the batch, and the spam
// stayed on the group, never judged.
func TestPollerKilledWithUpdatesInHand(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two processes")
	}
	const group = tgKillGroup
	// No chat list: a group is moderated once its admin list says a CM owns
	// it, and its updates wait for that list.
	tg, bin, config, redisURL := tgKillSetup(t)
	env := []string{
		"VIGIE_REDIS_PREFIX=pollerkill" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"VIGIE_LEASE_TTL=3s", "VIGIE_LEASE_TTL_MAX=3s",
		"TELEGRAM_TOKEN=" + tgfake.Token,
		"TELEGRAM_API_URL=" + tg.HTTP.URL,
	}
	ins := []*vigieProcess{
		startProcess(t, bin, "vigie-1", config, redisURL, env),
		startProcess(t, bin, "vigie-2", config, redisURL, env),
	}
	first := owner(t, "telegram", ins)

	release := tg.HoldAdmins(group)
	const spams = 3
	for id := 1; id <= spams; id++ {
		tg.Push(map[string]any{"message": map[string]any{
			"message_id": id, "date": time.Now().Unix(), "text": "FREE NITRO here",
			"from": map[string]any{"id": 7, "is_bot": false, "first_name": "Eve"},
			"chat": map[string]any{"id": group, "type": "supergroup", "title": "Fans"},
		}})
	}
	// The batch is committed before it is handled: once its handling asks
	// for the admin list, the killed poller's offset is past it.
	tg.WaitFor("getChatAdministrators", 1, nil)
	first.kill()
	release()

	second := owner(t, "telegram", ins)
	if second == first {
		t.Fatal("the killed process still owns the poller")
	}
	deletedOf := func(id int) int {
		return tg.Count("deleteMessage", func(c tgfake.Call) bool {
			return c.Params.Get("chat_id") == strconv.Itoa(group) && c.Params.Get("message_id") == strconv.Itoa(id)
		})
	}
	deadline := time.Now().Add(handover)
	for id := 1; id <= spams; id++ {
		for deletedOf(id) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("message %d, taken by the killed poller, not deleted after %s; calls: %v", id, handover, tg.Methods())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// A message after the take-over, then: nothing deleted twice.
	tg.Push(map[string]any{"message": map[string]any{
		"message_id": spams + 1, "date": time.Now().Unix(), "text": "FREE NITRO again",
		"from": map[string]any{"id": 7, "is_bot": false, "first_name": "Eve"},
		"chat": map[string]any{"id": group, "type": "supergroup", "title": "Fans"},
	}})
	for deletedOf(spams+1) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("message %d not deleted after %s", spams+1, handover)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for id := 1; id <= spams+1; id++ {
		if n := deletedOf(id); n != 1 {
			t.Errorf("message %d deleted %d times, want once", id, n)
		}
	}
	if n := tg.Conflicts(); n != 0 {
		t.Errorf("Telegram saw a second poller %d times (409)", n)
	}
}

// TestWebhookKilledWithAnUpdateInHand: two instances behind a load
// balancer in webhook mode, on one Redis. The one Telegram's call reaches
// is SIGKILLed with the update's event queued, not judged (its Redis hangs
// at the event's first command): the update was not answered, Telegram
// sends it again, the balancer gives it to the other instance, which judges
// it: the spam is deleted once, and the update answered 200 once, by the
// living instance. Answered once handed over, as before, the update was
// taken as delivered and never judged.
func TestWebhookKilledWithAnUpdateInHand(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two processes")
	}
	const group = tgKillGroup
	tg, bin, config, redisURL := tgKillSetup(t)
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := redistest.NewHangProxy(t, u.Host)
	env := []string{
		"VIGIE_REDIS_PREFIX=webhookkill" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"VIGIE_LEASE_TTL=3s", "VIGIE_LEASE_TTL_MAX=3s",
		"TELEGRAM_TOKEN=" + tgfake.Token,
		"TELEGRAM_API_URL=" + tg.HTTP.URL,
		"TELEGRAM_MODE=webhook",
		"TELEGRAM_WEBHOOK_SECRET=s3cret_token",
		"TELEGRAM_WEBHOOK_URL=https://vigie.example/webhooks/telegram",
	}
	ins := []*vigieProcess{
		startProcess(t, bin, "vigie-1", config, proxy.URL(), env),
		startProcess(t, bin, "vigie-2", config, redisURL, env),
	}
	// The balancer tries the first instance, then the other, in turn.
	tg.DeliverTo(func(attempt int) string { return "http://" + ins[attempt%2].addr })
	tg.WaitFor("setWebhook", 1, nil)

	spam := func(id int) map[string]any {
		return map[string]any{"message": map[string]any{
			"message_id": id, "date": time.Now().Unix(), "text": "FREE NITRO here",
			"from": map[string]any{"id": 7, "is_bot": false, "first_name": "Eve"},
			"chat": map[string]any{"id": group, "type": "supergroup", "title": "Fans"},
		}}
	}
	// The first instance's Redis stops at the first command that names the
	// event (its id, an argument of its own): the event is handed over and
	// being judged.
	proxy.HangAt([]byte(fmt.Sprintf("\r\n%d:1\r\n", group)))
	first := tg.Push(spam(1))
	select {
	case <-proxy.Held():
	case <-time.After(handover):
		t.Fatalf("the first instance's judging of the event never reached Redis; deliveries: %v", tg.Deliveries())
	}
	ins[0].kill()

	deletedOf := func(id int) int {
		return tg.Count("deleteMessage", func(c tgfake.Call) bool {
			return c.Params.Get("chat_id") == strconv.Itoa(group) && c.Params.Get("message_id") == strconv.Itoa(id)
		})
	}
	deadline := time.Now().Add(handover)
	wait := func(id int) {
		t.Helper()
		for deletedOf(id) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("message %d not deleted after %s; calls: %v; deliveries: %v", id, handover, tg.Methods(), tg.Deliveries())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait(1)
	second := tg.Push(spam(2))
	wait(2)
	for id := 1; id <= 2; id++ {
		if n := deletedOf(id); n != 1 {
			t.Errorf("message %d deleted %d times, want once", id, n)
		}
	}
	for _, u := range []int{first, second} {
		var answered []string
		// The answer is recorded once it reaches Telegram, after the judging.
		for ; len(answered) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			answered = nil
			for _, d := range tg.Deliveries() {
				if d.Update == u && d.Status == 200 {
					answered = append(answered, d.To)
				}
			}
		}
		if len(answered) != 1 || answered[0] != "http://"+ins[1].addr {
			t.Errorf("update %d answered 200 by %v, want once, by the living instance %s; deliveries: %v", u, answered, ins[1].addr, tg.Deliveries())
		}
	}
}

// tgKillGroup is the group the kill tests moderate, owned by tgKillCM.
const tgKillGroup, tgKillCM = -1001234567890, 42

// tgKillSetup starts the fake Telegram, with tgKillGroup owned by tgKillCM,
// builds vigie and writes its rules (the leases' ones, tgKillCM the desk's
// CM): the fake, the binary, the rule file and the Redis to share.
func tgKillSetup(t *testing.T) (tg *tgfake.Server, bin, config, redisURL string) {
	t.Helper()
	tg = tgfake.New(t)
	tg.SetOwner(tgKillGroup, tgKillCM, false)
	bin, config = vigieWith(t, leasesRules+fmt.Sprintf("desk:\n  cms: [\"telegram:%d\"]\n", tgKillCM))
	return tg, bin, config, redistest.URL(t)
}
