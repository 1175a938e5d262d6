package daemon_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// The group, the desk chat and the CM of pressKillRules.
const pressGroup, pressDesk, pressCM = -1001234567890, -100500, 42

// pressPlay drives the group and desk of pressKillRules on tg for the tests
// of presses handed on between vigie processes: a scam posted and its card
// awaited, Ban pressed on it, the bans asked and the cards edited counted.
// Every wait ends at deadline.
type pressPlay struct {
	t        *testing.T
	tg       *tgfake.Server
	deadline time.Time
	within   time.Duration // what deadline allows, for the failures
	msgID    int
}

// startPressVigies starts n vigie processes, vigie-1 to vigie-n, on
// pressKillRules and one Redis (keys under a prefix named for prefix),
// polling pressGroup on tg; their leases last 3 s, so that one paused or
// killed is soon taken over.
func startPressVigies(t *testing.T, tg *tgfake.Server, prefix string, n int) []*vigieProcess {
	t.Helper()
	return startPressVigiesOn(t, tg, redistest.URL(t), prefix, n)
}

// startPressVigiesOn is startPressVigies on the Redis of redisURL.
func startPressVigiesOn(t *testing.T, tg *tgfake.Server, redisURL, prefix string, n int) []*vigieProcess {
	t.Helper()
	bin, config := vigieWith(t, pressKillRules)
	env := []string{
		"VIGIE_REDIS_PREFIX=" + redistest.Prefix(prefix),
		"VIGIE_LEASE_TTL=3s", "VIGIE_LEASE_TTL_MAX=3s",
		"TELEGRAM_TOKEN=" + tgfake.Token,
		"TELEGRAM_API_URL=" + tg.HTTP.URL,
		"TELEGRAM_CHATS=" + strconv.Itoa(pressGroup),
	}
	var ins []*vigieProcess
	for i := 1; i <= n; i++ {
		ins = append(ins, startProcess(t, bin, fmt.Sprintf("vigie-%d", i), config, redisURL, env))
	}
	return ins
}

func newPressPlay(t *testing.T, tg *tgfake.Server, within time.Duration) *pressPlay {
	return &pressPlay{t: t, tg: tg, deadline: time.Now().Add(within), within: within}
}

func (p *pressPlay) waitFor(what string, ok func() bool) {
	p.t.Helper()
	for !ok() {
		if time.Now().After(p.deadline) {
			p.t.Fatalf("%s: not after %s; calls: %v", what, p.within, p.tg.Methods())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scam posts a scam of user in the group and returns its case and card.
func (p *pressPlay) scam(user int64, name string) (caseID string, card int) {
	p.t.Helper()
	p.msgID++
	p.tg.Push(map[string]any{"message": map[string]any{
		"message_id": p.msgID, "date": time.Now().Unix(), "text": "FREE NITRO here",
		"from": map[string]any{"id": user, "is_bot": false, "first_name": name},
		"chat": map[string]any{"id": pressGroup, "type": "supergroup", "title": "Fans"},
	}})
	var call tgfake.Call
	p.waitFor(name+"'s card", func() bool {
		for _, c := range p.tg.CallsOf("sendMessage") {
			if c.Params.Get("chat_id") == strconv.Itoa(pressDesk) && strings.Contains(c.Params.Get("text"), name) &&
				strings.Contains(c.Params.Get("reply_markup"), "callback_data") {
				call = c
				return true
			}
		}
		return false
	})
	f := strings.Fields(call.Params.Get("text")) // <b>Case c-000001</b> ·
	if len(f) < 2 {
		p.t.Fatalf("card %q", call.Params.Get("text"))
	}
	return strings.TrimSuffix(f[1], "</b>"), call.MsgID
}

// press presses Ban on card, the callback query's id being id.
func (p *pressPlay) press(id, caseID string, card int) {
	p.tg.Push(map[string]any{"callback_query": map[string]any{
		"id": id, "data": "v1:" + caseID + ":ban", "chat_instance": "x",
		"from":    map[string]any{"id": pressCM, "is_bot": false, "first_name": "Ann"},
		"message": map[string]any{"message_id": card, "date": time.Now().Unix(), "chat": map[string]any{"id": pressDesk, "type": "supergroup"}},
	}})
}

// bans is how many times user's ban was asked of Telegram.
func (p *pressPlay) bans(user int64) int {
	return p.tg.Count("banChatMember", func(c tgfake.Call) bool {
		return c.Params.Get("chat_id") == strconv.Itoa(pressGroup) && c.Params.Get("user_id") == strconv.FormatInt(user, 10)
	})
}

// shown says whether card was edited to show the ban decided.
func (p *pressPlay) shown(card int) bool {
	return p.tg.Count("editMessageText", func(c tgfake.Call) bool {
		return c.Params.Get("message_id") == strconv.Itoa(card) && strings.Contains(c.Params.Get("text"), "Banned") &&
			strings.Contains(c.Params.Get("text"), "decided by")
	}) > 0
}
