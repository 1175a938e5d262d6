package daemon_test

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const phoneRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42", "telegram:43"]
rules:
  - name: scam
    category: spam
    when: 'not author.staff and lower(text) contains "free nitro"'
    do: [forward("scam")]
`

// Two CMs decide from their phones after vigie restarted: the case posted
// before the restart is listed by /queue in Ann's private chat, named as
// the group and the member read (the new process saw no update of the
// group: it asks Telegram); Ann bans from the card /queue posted while Ben
// keeps from the desk chat's: one ban, Ben told who decided first and how,
// both cards showing the decision by name.
func TestTelegramPhonesAfterRestart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two processes")
	}
	const group, desk, ann, ben = -1001234567890, -100500, 42, 43
	tg := tgfake.New(t)
	tg.SetTitle(group, "Fans")
	tg.SetAdmins(group, 1)
	tg.SetUsername(ann, "ann_cm")
	bin, config := vigieWith(t, phoneRules)
	env := []string{"VIGIE_REDIS_PREFIX=" + redistest.Prefix("tgphone"), "VIGIE_LEASE_TTL=3s", "VIGIE_LEASE_TTL_MAX=3s",
		"TELEGRAM_TOKEN=" + tgfake.Token, "TELEGRAM_API_URL=" + tg.HTTP.URL, "TELEGRAM_CHATS=" + strconv.Itoa(group)}
	redisURL := redistest.URL(t)
	first := startProcess(t, bin, "vigie-1", config, redisURL, env)

	tg.Push(map[string]any{"message": map[string]any{
		"message_id": 10, "date": time.Now().Unix(), "text": "FREE NITRO here",
		"from": map[string]any{"id": 8, "is_bot": false, "first_name": "Eve", "username": "eve_x"},
		"chat": map[string]any{"id": group, "type": "supergroup", "title": "Fans"},
	}})
	var deskCard tgfake.Call
	testsync.Eventually(t, "the card in the desk chat", func() bool {
		for _, c := range tg.CallsOf("sendMessage") {
			if c.Params.Get("chat_id") == strconv.Itoa(desk) && strings.Contains(c.Params.Get("reply_markup"), "callback_data") {
				deskCard = c
				return true
			}
		}
		return false
	})
	caseID := strings.TrimSuffix(strings.Fields(deskCard.Params.Get("text"))[1], "</b>")

	// A restart: the first process stops, another starts.
	_ = first.cmd.Process.Signal(syscall.SIGTERM)
	<-first.dead
	startProcess(t, bin, "vigie-2", config, redisURL, env)

	private := func(from int64) map[string]any {
		return map[string]any{"id": from, "type": "private", "first_name": "Ann"}
	}
	tg.Push(map[string]any{"message": map[string]any{
		"message_id": 20, "date": time.Now().Unix(), "text": "/queue",
		"from":     map[string]any{"id": ann, "is_bot": false, "first_name": "Ann", "username": "ann_cm"},
		"chat":     private(ann),
		"entities": []any{map[string]any{"type": "bot_command", "offset": 0, "length": 6}},
	}})
	var queued tgfake.Call
	testsync.Eventually(t, "the card of /queue in Ann's private chat", func() bool {
		for _, c := range tg.CallsOf("sendMessage") {
			if c.Params.Get("chat_id") == strconv.Itoa(ann) && strings.Contains(c.Params.Get("reply_markup"), "callback_data") {
				queued = c
				return true
			}
		}
		return false
	})
	if text := queued.Params.Get("text"); !strings.Contains(text, "telegram · Fans · Eve (@eve_x) (id 8)") {
		t.Errorf("/queue's card = %s\nwant it to name the group and the member", text)
	}

	press := func(id string, from int64, name, username string, chat map[string]any, card int, button string) {
		tg.Push(map[string]any{"callback_query": map[string]any{
			"id": id, "data": "v1:" + caseID + ":" + button, "chat_instance": "x",
			"from":    map[string]any{"id": from, "is_bot": false, "first_name": name, "username": username},
			"message": map[string]any{"message_id": card, "date": time.Now().Unix(), "chat": chat},
		}})
	}
	press("cb-ann", ann, "Ann", "ann_cm", private(ann), queued.MsgID, "ban")
	testsync.Eventually(t, "the ban", func() bool { return tg.Count("banChatMember", nil) == 1 })
	press("cb-ben", ben, "Ben", "ben_cm", map[string]any{"id": desk, "type": "supergroup", "title": "CM desk"}, deskCard.MsgID, "keep")
	testsync.Eventually(t, "Ben's press taken", func() bool {
		return tg.Count("answerCallbackQuery", func(c tgfake.Call) bool { return c.Params.Get("callback_query_id") == "cb-ben" }) > 0
	})
	eventually(t, "Ben told", func() bool {
		return len(find(tg, "sendMessage", "text", "already decided by Ann (@ann_cm): ⛔ Banned")) == 1
	})
	eventually(t, "both cards show the ban by Ann", func() bool {
		n := 0
		for _, c := range []tgfake.Call{deskCard, queued} {
			n += tg.Count("editMessageText", func(e tgfake.Call) bool {
				return e.Params.Get("chat_id") == c.Params.Get("chat_id") && e.Params.Get("message_id") == strconv.Itoa(c.MsgID) &&
					strings.Contains(e.Params.Get("text"), "Banned</b> — decided by Ann (@ann_cm)")
			})
		}
		return n >= 2
	})
	if t.Failed() {
		for _, c := range tg.CallsOf("sendMessage") {
			t.Logf("sendMessage %s: %s", c.Params.Get("chat_id"), c.Params.Get("text"))
		}
		for _, c := range tg.CallsOf("answerCallbackQuery") {
			t.Logf("answerCallbackQuery %v", c.Params)
		}
	}
	if n := tg.Count("banChatMember", nil); n != 1 {
		t.Errorf("%d bans, want 1", n)
	}
}

// eventually is testsync.Eventually that lets the test go on, failed.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(testsync.Patience)
	for !ok() {
		if time.Now().After(deadline) {
			t.Errorf("gave up waiting for %s", what)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
