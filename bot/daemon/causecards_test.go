package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/handlers"
)

const causeRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete]
`

// TestRefusedDeletesShareOneCard: vigie lost the right to delete in a
// Telegram group during a raid, and Telegram refuses each delete for good
// (400 "message can't be deleted"). Six scams are six cases, each open in
// the queue with what its rule wanted, but one card on the desk chat, the
// first one's, edited to count them and name the others: not six cards at
// the desk chat's twenty messages a minute.
func TestRefusedDeletesShareOneCard(t *testing.T) {
	api := tgfake.New(t)
	in := start(t, causeRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	api.Push(groupMessage(tgGroup, 6, "Dan", "hello"))
	testsync.Eventually(t, "the group's admins listed", func() bool {
		return metricsHave(t, in, `vigie_telegram_admin_lookups_total{result="ok"} 1`)
	})
	api.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "deleteMessage" && p.Get("chat_id") == strconv.Itoa(tgGroup) {
			return http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: message can't be deleted"}`, false
		}
		return 0, "", false
	})
	const raid = 6
	for i := range raid {
		api.Push(groupMessage(tgGroup, int64(70+i), "Raider"+strconv.Itoa(i), "FREE NITRO "+strconv.Itoa(i)))
	}
	testsync.Eventually(t, "a case for each scam", func() bool {
		n := 0
		for text := range openCases(t, in) {
			if strings.HasPrefix(text, "FREE NITRO") {
				n++
			}
		}
		return n == raid
	})
	testsync.Eventually(t, "the card counting the six", func() bool {
		for _, p := range find(api, "editMessageText", "chat_id", strconv.Itoa(tgDesk)) {
			if strings.Contains(p.Get("text"), "delete failed "+strconv.Itoa(raid)+" times") {
				return true
			}
		}
		return false
	})
	if cards := deskCards(api, "FREE NITRO"); len(cards) != 1 {
		t.Errorf("%d cards on the desk for %d deletes refused alike, want one:\n%s", len(cards), raid, strings.Join(cards, "\n---\n"))
	}
	var last string
	for _, p := range find(api, "editMessageText", "chat_id", strconv.Itoa(tgDesk)) {
		last = p.Get("text")
	}
	for _, want := range []string{"message can&#39;t be deleted", "Raider5", "Raider1", "/queue"} {
		if !strings.Contains(last, want) {
			t.Errorf("the cause's card does not say %q:\n%s", want, last)
		}
	}
}

// boundCommands are a test desk's commands whose cards are recorded by the
// daemon's own handlers (Connector.Attach), as a platform's desk in the
// daemon records them: a card that is not recorded cannot be edited.
type boundCommands struct {
	desktest.Commands
	hc atomic.Pointer[handlers.Commands]
}

func (b *boundCommands) AddCard(ctx context.Context, caseID string, ref bot.CardRef) error {
	hc := b.hc.Load()
	if hc == nil {
		return errors.New("no handlers yet")
	}
	return hc.AddCard(ctx, caseID, ref)
}

// TestMissingPermissionsShareOneCard: Discord refuses every delete in a
// channel with 403 Missing Permissions (50013), as when Manage Messages
// was taken from vigie's role mid-raid (the real discordgo client on the
// fake Discord, its desk in a Discord channel). Five scams are five open
// cases and one card, edited to count them.
func TestMissingPermissionsShareOneCard(t *testing.T) {
	guild := fmt.Sprint(uint64(190_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	f.FailWhen(func(c discordfake.Call) bool {
		return c.Method == "DELETE" && strings.HasPrefix(c.Path, "/channels/"+channel+"/messages/")
	}, http.StatusForbidden, `{"message": "Missing Permissions", "code": 50013}`)
	cl := discordClient(t, f, guild)
	cmds := &boundCommands{}
	in := startOnly(t, discordDeleteRules, nil, []daemon.Connector{{Name: "discord", Source: cl, Platforms: []bot.Platform{cl},
		Desk: desktest.Desk{Poster: cl.Desk(cmds)}, Attach: func(c *handlers.Commands) { cmds.hc.Store(c) }}})
	testsync.Eventually(t, "ready", func() bool { return ready(t, in).code == http.StatusOK })

	const raid = 5
	for i := range raid {
		id := fmt.Sprint(700000000000000201 + i)
		author := fmt.Sprint(600000000000000011 + i)
		testsync.Eventually(t, "the gateway taking scam "+id, func() bool { return f.Message(guild, channel, id, author, "FREE NITRO "+id) })
	}
	testsync.Eventually(t, "a case for each scam", func() bool {
		n := 0
		for text := range openCases(t, in) {
			if strings.HasPrefix(text, "FREE NITRO") {
				n++
			}
		}
		return n == raid
	})
	var edit string
	testsync.Eventually(t, "the card counting the five", func() bool {
		for _, c := range f.Calls("PATCH", "/channels/"+deskChannel+"/messages/") {
			if s, _ := c.Body["content"].(string); strings.Contains(s, fmt.Sprintf("delete failed %d times", raid)) {
				edit = s
				return true
			}
		}
		return false
	})
	if cards := posted(f, "FREE NITRO"); len(cards) != 1 {
		t.Errorf("%d cards on the desk for %d deletes refused alike, want one:\n%s", len(cards), raid, strings.Join(cards, "\n---\n"))
	}
	if !strings.Contains(edit, "vigie lacks the Manage Messages permission in this channel") || !strings.Contains(edit, "discord 50013") ||
		!strings.Contains(edit, "/queue") {
		t.Errorf("the cause's card does not say why, nor where the cases are:\n%s", edit)
	}
}

const discordDeleteRules = `timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete]
`
