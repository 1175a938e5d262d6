package daemon_test

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// An admin's first message after a start, before vigie has the group's list
// of administrators, is judged as an admin's: no case on the desk, nothing
// done to them. A stranger's message after it is judged as usual.
func TestTelegramAdminFirstMessageAfterStart(t *testing.T) {
	api := tgfake.New(t)
	const group, desk = -100200, -100500
	api.SetAdmins(group, 7)
	in := start(t, strings.Replace(telegramRules, `when: 'lower(text)`, `when: 'not author.staff and lower(text)`, 1), map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})

	// The admin floods and posts the scam's words: a staff member's messages.
	for i := range 3 {
		api.Push(groupMessage(group, 7, "Ada", "free nitro, a test of the rules "+strconv.Itoa(i)))
	}
	// A stranger's scam after it: its card says the admin's were judged.
	api.Push(groupMessage(group, 8, "Eve", "FREE NITRO here"))
	testsync.Eventually(t, "the stranger's card", func() bool { return len(find(api, "sendMessage", "text", "Eve")) == 1 })
	for _, c := range find(api, "sendMessage", "chat_id", strconv.Itoa(desk)) {
		if strings.Contains(c.Get("text"), "Ada") {
			t.Errorf("a card for the group's admin: %s", c.Get("text"))
		}
	}
	if got := find(api, "restrictChatMember", "user_id", "7"); len(got) != 0 {
		t.Errorf("the admin muted: %v", got)
	}
	if got := find(api, "deleteMessage", "chat_id", strconv.Itoa(group)); len(got) != 0 {
		t.Errorf("the admin's messages deleted: %v", got)
	}
	var cases struct{ Cases []struct{ ID string } }
	in.do(t, "GET", "/v1/cases?status=open", nil, nil).json(t, &cases)
	if len(cases.Cases) != 1 {
		t.Errorf("open cases = %+v, want the stranger's only", cases.Cases)
	}
}

// While Telegram refuses the group's list of administrators after a start,
// nobody there is taken for a member: an admin's flood is a case, not a mute,
// and the messages are judged without waiting for the list.
func TestTelegramAdminListDownAfterStart(t *testing.T) {
	api := tgfake.New(t)
	const group = -100200
	api.SetAdmins(group, 7)
	api.AdminsFail(group, true)
	start(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	for i := range 3 {
		api.Push(groupMessage(group, 7, "Ada", "hello "+strconv.Itoa(i)))
	}
	testsync.Eventually(t, "the flood's case", func() bool { return len(find(api, "sendMessage", "text", "roles unknown")) == 1 })
	if got := find(api, "restrictChatMember", "user_id", "7"); len(got) != 0 {
		t.Errorf("the admin muted while the list is down: %v", got)
	}
	if got := find(api, "deleteMessage", "chat_id", strconv.Itoa(group)); len(got) != 0 {
		t.Errorf("the admin's message deleted while the list is down: %v", got)
	}
}

// The groups of the chat list have their admins asked for as vigie starts,
// before any of their messages: the first is judged without waiting.
func TestTelegramListedGroupsAdminsAtStart(t *testing.T) {
	api := tgfake.New(t)
	const group = -100200
	api.SetAdmins(group, 7)
	start(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_CHATS": strconv.Itoa(group)})
	testsync.Eventually(t, "the group's admins asked for", func() bool {
		return len(find(api, "getChatAdministrators", "chat_id", strconv.Itoa(group))) == 1
	})
}

// When Telegram does not answer for a group's admins after a start, its
// first message waits for the list a while only, then is judged with the
// author's roles unknown: an admin's flood becomes a case, not a mute, and
// the miss is logged once for the group's messages that follow.
func TestTelegramAdminListSilentAfterStart(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for Telegram's silence")
	}
	api := tgfake.New(t)
	const group = -100200
	api.SetAdmins(group, 7)
	release := api.HoldAdmins(group)
	defer release()
	in := start(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	for i := range 3 {
		api.Push(groupMessage(group, 7, "Ada", "hello "+strconv.Itoa(i)))
	}
	testsync.Eventually(t, "the flood's case", func() bool { return len(find(api, "sendMessage", "text", "roles unknown")) == 1 })
	if got := find(api, "restrictChatMember", "user_id", "7"); len(got) != 0 {
		t.Errorf("the admin muted while Telegram is silent: %v", got)
	}
	if n := strings.Count(in.logs.String(), "the platform did not say in time whether the author is staff"); n != 1 {
		t.Errorf("the miss logged %d times, want once:\n%s", n, in.logs.String())
	}
}

// While Telegram is slow to list one group's admins after a start, that
// group's messages wait for the list, in order, but another group judged by
// the same evaluator does not: its scam is on the desk before the first
// group's wait ends.
func TestTelegramSlowAdminListHoldsOnlyItsGroup(t *testing.T) {
	api := tgfake.New(t)
	const slow, other = -100200, -100300
	api.SetAdmins(slow, 7)
	api.SetAdmins(other, 9)
	release := api.HoldAdmins(slow)
	defer release()
	var mu sync.Mutex
	var judged []string
	in := start(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL},
		func(c *daemon.Config) {
			daemon.Evaluators(c, 1)
			daemon.AfterJudging(c, func(ev *bot.Event) {
				mu.Lock()
				judged = append(judged, ev.Space+"/"+ev.Text)
				mu.Unlock()
			})
		})
	for i := range 3 {
		api.Push(groupMessage(slow, 7, "Ada", "hello "+strconv.Itoa(i)))
	}
	api.Push(groupMessage(other, 8, "Eve", "FREE NITRO here"))
	testsync.Eventually(t, "the other group's card", func() bool { return len(find(api, "sendMessage", "text", "Eve")) == 1 })
	if strings.Contains(in.logs.String(), "the platform did not say in time") {
		t.Fatalf("the other group's message waited for the slow group's list:\n%s", in.logs.String())
	}
	release()
	testsync.Eventually(t, "the slow group's messages judged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(judged) == 4
	})
	mu.Lock()
	defer mu.Unlock()
	want := []string{"-100300/FREE NITRO here", "-100200/hello 0", "-100200/hello 1", "-100200/hello 2"}
	if !slices.Equal(judged, want) {
		t.Errorf("judged in the order %q, want %q", judged, want)
	}
}

// An author found to be a group's admin by the list asked for before their
// event is judged has the roles they would have had with the list known: the
// rules that read author.roles see "administrator", and a member's
// "member", whatever roles an event posted over HTTP claimed.
func TestTelegramResolvedAuthorHasRoles(t *testing.T) {
	api := tgfake.New(t)
	const group = -100710
	api.SetAdmins(group, 7)
	rules := claimsRules + `  - name: by-an-admin
    when: '"administrator" in author.roles'
    do: [forward("an admin's")]
  - name: by-a-member
    when: '"member" in author.roles'
    do: [forward("a member's")]
`
	in := start(t, rules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret,
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	event := func(msg int, author map[string]any) map[string]any {
		return map[string]any{"id": strconv.Itoa(group) + ":" + strconv.Itoa(msg), "platform": "telegram", "kind": "message",
			"space": strconv.Itoa(group), "author": author, "text": "pinned", "at": time.Now().UTC().Format(time.RFC3339)}
	}
	msg := 9100
	for _, c := range []struct {
		author map[string]any
		want   string
	}{
		{map[string]any{"id": "7", "name": "Ada", "roles_unknown": true}, "by-an-admin"},
		{map[string]any{"id": "8", "name": "Eve", "roles": []string{"administrator"}}, "by-a-member"},
	} {
		msg++
		v := in.post(t, event(msg, c.author))
		var got []string
		for _, m := range v.Matches {
			got = append(got, m.Rule)
		}
		if !slices.Equal(got, []string{c.want}) {
			t.Errorf("%s: rules matched %q, want %q", c.author["name"], got, c.want)
		}
	}
}
