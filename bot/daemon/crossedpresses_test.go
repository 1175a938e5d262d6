package daemon_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// Two CMs on two phones, one on the Telegram desk and one on the Discord
// desk, both showing a Telegram member's case, press at once: Ban on
// Telegram, Keep on Discord. One decision is taken; the other CM is told
// who decided what; both cards end showing that one decision, by the same
// CM; the member is banned only if Ban won.
func TestPressesCrossedOnTwoDesks(t *testing.T) {
	const group = -100200
	api := tgfake.New(t)
	api.SetAdmins(group, 1)
	guild, _, f, _ := discordGuild(t, 22)
	cl := discordClient(t, f, guild, func(c *discord.Config) { c.CMs = []string{"discord:" + discordDeskCM} })
	rules := strings.Replace(telegramRules, `cms: ["telegram:42"]`, `cms: ["telegram:42", "discord:`+discordDeskCM+`"]`, 1)
	startWith(t, rules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL}, daemon.DiscordOf(cl))
	<-f.Ready()

	api.Push(namedMessage(group, "Fans", 8, "Zed", "zed_x", "FREE NITRO here", 0, ""))
	dcCard, _, buttons := discordDeskCard(t, f, "NITRO")
	var tgCard tgfake.Call
	testsync.Eventually(t, "the card on Telegram", func() bool {
		for _, c := range api.CallsOf("sendMessage") {
			if c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), "NITRO") {
				tgCard = c
				return true
			}
		}
		return false
	})
	text := tgCard.Params.Get("text")
	caseID := strings.TrimPrefix(text[:strings.Index(text, "</b>")], "<b>Case ")
	var keep string
	for _, b := range buttons {
		if strings.HasSuffix(b, ":keep") {
			keep = b
		}
	}

	api.Push(map[string]any{"callback_query": map[string]any{
		"id": "cb-crossed", "data": "v1:" + caseID + ":ban", "chat_instance": "x",
		"from":    map[string]any{"id": 42, "is_bot": false, "first_name": "Ann", "username": "ann_cm"},
		"message": map[string]any{"message_id": tgCard.MsgID, "date": time.Now().Unix(), "chat": map[string]any{"id": -100500, "type": "supergroup", "title": "CM desk"}},
	}})
	f.Dispatch("INTERACTION_CREATE", discordDeskPress(guild, dcCard, keep, time.Now(), 2))

	// the CM who lost hears who decided: on Discord by a follow-up, on
	// Telegram by the press's answer or in the desk chat
	toldDecided := func() (dc, tg bool) {
		for _, c := range f.Calls("POST", "/webhooks/"+discordfake.AppID+"/") {
			dc = dc || strings.Contains(fmt.Sprint(c.Body["content"]), "already decided by Ann:")
		}
		for _, c := range append(api.CallsOf("answerCallbackQuery"), api.CallsOf("sendMessage")...) {
			tg = tg || strings.Contains(c.Params.Get("text"), "already decided by Eve:")
		}
		return dc, tg
	}
	testsync.Eventually(t, "the CM who lost told", func() bool { dc, tg := toldDecided(); return dc || tg })
	testsync.Eventually(t, "both cards decided", func() bool {
		return len(f.Calls("PATCH", "/channels/"+deskChannel+"/messages/"+dcCard)) > 0 && len(find(api, "editMessageText", "chat_id", "-100500")) > 0
	})
	dcEdits := f.Calls("PATCH", "/channels/"+deskChannel+"/messages/"+dcCard)
	dcLast, _ := dcEdits[len(dcEdits)-1].Body["content"].(string)
	tgEdits := find(api, "editMessageText", "chat_id", "-100500")
	tgLast := tgEdits[len(tgEdits)-1].Get("text")
	banned := strings.Contains(tgLast, "Banned")
	if dc, tg := toldDecided(); dc != banned || tg == banned {
		t.Errorf("told already decided: on Discord %v, on Telegram %v; the cards saying banned: %v", dc, tg, banned)
	}
	if banned != strings.Contains(dcLast, "Banned") || strings.Contains(tgLast, "Kept") != strings.Contains(dcLast, "Kept") {
		t.Errorf("the two cards say two things:\nDiscord: %s\nTelegram: %s", dcLast, tgLast)
	}
	if bans := len(api.CallsOf("banChatMember")); banned != (bans == 1) {
		t.Errorf("%d bans, the cards saying banned: %v", bans, banned)
	}
}

// A CM presses a card on one desk after a CM on the other desk decided its
// case: they are told who decided by name, as the rest of the desk names
// CMs, not by the id the rule file lists (telegram:42, discord:…), which
// says nothing to a CM on a phone. Both ways: a Telegram CM's decision told
// on Discord, a Discord CM's on Telegram.
func TestAlreadyDecidedNamesWhoDecided(t *testing.T) {
	const group = -100200
	api := tgfake.New(t)
	api.SetAdmins(group, 1)
	guild, _, f, _ := discordGuild(t, 23)
	cl := discordClient(t, f, guild, func(c *discord.Config) { c.CMs = []string{"discord:" + discordDeskCM} })
	rules := strings.Replace(telegramRules, `cms: ["telegram:42"]`, `cms: ["telegram:42", "discord:`+discordDeskCM+`"]`, 1)
	startWith(t, rules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL}, daemon.DiscordOf(cl))
	<-f.Ready()

	// cards returns the case's cards: its id, the Discord card and its Keep,
	// the Telegram card.
	cards := func(text string) (caseID, dcCard, keep string, tgCard tgfake.Call) {
		t.Helper()
		dcCard, _, buttons := discordDeskCard(t, f, text)
		for _, b := range buttons {
			if strings.HasSuffix(b, ":keep") {
				keep = b
			}
		}
		testsync.Eventually(t, "the card on Telegram", func() bool {
			for _, c := range api.CallsOf("sendMessage") {
				if c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), text) {
					tgCard = c
					return true
				}
			}
			return false
		})
		s := tgCard.Params.Get("text")
		return strings.TrimPrefix(s[:strings.Index(s, "</b>")], "<b>Case "), dcCard, keep, tgCard
	}
	tgPress := func(caseID string, card tgfake.Call, n int) {
		api.Push(map[string]any{"callback_query": map[string]any{
			"id": fmt.Sprintf("cb-named-%d", n), "data": "v1:" + caseID + ":keep", "chat_instance": "x",
			"from":    map[string]any{"id": 42, "is_bot": false, "first_name": "Ann", "username": "ann_cm"},
			"message": map[string]any{"message_id": card.MsgID, "date": time.Now().Unix(), "chat": map[string]any{"id": -100500, "type": "supergroup", "title": "CM desk"}},
		}})
	}

	// Ann decides on Telegram; Eve presses on Discord after.
	api.Push(namedMessage(group, "Fans", 8, "Zed", "zed_x", "FREE NITRO here", 0, ""))
	first, dcCard, keep, tgCard := cards("NITRO here")
	tgPress(first, tgCard, 1)
	f.WaitFor(t, "PATCH", "/channels/"+deskChannel+"/messages/"+dcCard, 1, func(c discordfake.Call) bool {
		content, _ := c.Body["content"].(string)
		return strings.Contains(content, "Kept")
	})
	f.Dispatch("INTERACTION_CREATE", discordDeskPress(guild, dcCard, keep, time.Now(), 3))
	told := f.WaitFor(t, "POST", "/webhooks/"+discordfake.AppID+"/", 1, func(c discordfake.Call) bool {
		return strings.Contains(fmt.Sprint(c.Body["content"]), "already decided by")
	})
	if got := fmt.Sprint(told.Body["content"]); !strings.Contains(got, "already decided by Ann: ✅ Kept") {
		t.Errorf("told on Discord: %q, want Ann named", got)
	}

	// Eve decides on Discord; Ann presses on Telegram after.
	api.Push(namedMessage(group, "Fans", 9, "Yan", "yan_x", "FREE NITRO again", 0, ""))
	second, dcCard, keep, tgCard := cards("NITRO again")
	f.Dispatch("INTERACTION_CREATE", discordDeskPress(guild, dcCard, keep, time.Now(), 4))
	testsync.Eventually(t, "the Telegram card decided", func() bool {
		for _, c := range find(api, "editMessageText", "chat_id", "-100500") {
			if c.Get("message_id") == fmt.Sprint(tgCard.MsgID) && strings.Contains(c.Get("text"), "Kept") {
				return true
			}
		}
		return false
	})
	tgPress(second, tgCard, 2)
	var got string
	testsync.Eventually(t, "Ann told who decided", func() bool {
		for _, c := range append(api.CallsOf("answerCallbackQuery"), api.CallsOf("sendMessage")...) {
			if s := c.Params.Get("text"); strings.Contains(s, second+" was already decided by") {
				got = s
				return true
			}
		}
		return false
	})
	if !strings.Contains(got, "already decided by Eve: ✅ Kept") {
		t.Errorf("told on Telegram: %q, want Eve named", got)
	}
}
