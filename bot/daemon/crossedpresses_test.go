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
			dc = dc || strings.Contains(fmt.Sprint(c.Body["content"]), "already decided by telegram:42")
		}
		for _, c := range append(api.CallsOf("answerCallbackQuery"), api.CallsOf("sendMessage")...) {
			tg = tg || strings.Contains(c.Params.Get("text"), "already decided by discord:"+discordDeskCM)
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
