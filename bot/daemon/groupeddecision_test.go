package daemon_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// groupedRules forward a scam to the desk and do nothing else: its
// messages stay up until a CM decides.
const groupedRules = `timezone: UTC
rules:
  - name: scam
    when: 'lower(text) contains "free nitro"'
    do: [forward("scam")]
`

// groupedCase waits for the one open case of author counting n hits and
// returns its id.
func groupedCase(t *testing.T, in *instance, auth map[string]string, author string, n int) string {
	t.Helper()
	var id string
	testsync.Eventually(t, fmt.Sprintf("one case of %s counting %d", author, n), func() bool {
		var r struct {
			Cases []struct {
				ID    string
				Count int
				Event struct{ Author struct{ ID string } }
			}
		}
		in.do(t, "GET", "/v1/cases?status=open", nil, auth).json(t, &r)
		for _, c := range r.Cases {
			if c.Event.Author.ID == author && c.Count == n {
				id = c.ID
				return true
			}
		}
		return false
	})
	return id
}

// postScams has author post n messages in channel of guild on the
// Discord fake, ids from first on, each text followed by its number, and
// waits for the gateway to take each; it returns their ids.
func postScams(t *testing.T, f *discordfake.Server, guild, channel, author string, first uint64, n int, text string) []string {
	t.Helper()
	var ids []string
	for j := range n {
		id := fmt.Sprint(first + uint64(j))
		ids = append(ids, id)
		testsync.Eventually(t, "the gateway taking scam "+id, func() bool {
			return f.Message(guild, channel, id, author, text+strconv.Itoa(j))
		})
	}
	return ids
}

// decideOver decides case id with body over the HTTP API and returns the
// answer's note.
func decideOver(t *testing.T, in *instance, auth map[string]string, id, body string) string {
	t.Helper()
	r := in.do(t, "POST", "/v1/cases/"+id+"/decision", []byte(body), auth)
	var decided struct{ Note string }
	r.json(t, &decided)
	if r.code != http.StatusOK {
		t.Fatalf("decision %s on %s = %d %s", body, id, r.code, r.body)
	}
	return decided.Note
}

// TestGroupedCaseDeleteRemovesEveryMessage: a member posts the same scam
// four times, which the store groups into one case (same author, place and
// rule); a CM's delete removes all four messages on Discord (discordgo on
// the fake), on the memory store and on Redis, and a ban of another
// member's grouped case bans them once and deletes its messages, the ban's
// clean-up window being 0 (DISCORD_BAN_DELETE's default). Before, the case kept its later
// messages' ids only, and the delete removed its first message alone.
func TestGroupedCaseDeleteRemovesEveryMessage(t *testing.T) {
	for i, onRedis := range []bool{false, true} {
		name := "memory"
		if onRedis {
			name = "redis"
		}
		t.Run(name, func(t *testing.T) {
			guild, channel, f, cl := discordGuild(t, uint64(40+i))
			const token = "t0ken"
			env := map[string]string{"VIGIE_ADMIN_TOKEN": token}
			if onRedis {
				env["VIGIE_REDIS_URL"] = redistest.Start(t).URL()
			}
			in := startOnly(t, groupedRules, env, []daemon.Connector{discordConnector(cl)})
			auth := map[string]string{"Authorization": "Bearer " + token}
			const eve, mal = "600000000000000011", "600000000000000012"
			ids := postScams(t, f, guild, channel, eve, 700000000000000400, 4, "FREE NITRO ")
			id := groupedCase(t, in, auth, eve, 4)
			decideOver(t, in, auth, id, `{"outcome":"delete","by":"ann"}`)
			for _, m := range ids {
				if n := f.Count("DELETE", "/channels/"+channel+"/messages/"+m); n != 1 {
					t.Errorf("message %s of the grouped case deleted %d times, want once", m, n)
				}
			}

			spam := postScams(t, f, guild, channel, mal, 700000000000000500, 3, "FREE NITRO again ")
			id = groupedCase(t, in, auth, mal, 3)
			decideOver(t, in, auth, id, `{"outcome":"ban","by":"ann"}`)
			if n := f.Count("PUT", "/guilds/"+guild+"/bans/"+mal); n != 1 || !f.Banned(guild, mal) {
				t.Errorf("the grouped case's author asked to be banned %d times (banned %v), want once", n, f.Banned(guild, mal))
			}
			for _, m := range spam {
				if n := f.Count("DELETE", "/channels/"+channel+"/messages/"+m); n != 1 {
					t.Errorf("message %s of the banned author's grouped case deleted %d times, want once (no ban clean-up window here)", m, n)
				}
			}
		})
	}
}

// telegramGrouped starts vigie on groupedRules, Redis and a fake Telegram
// with its desk, its HTTP API behind token.
func telegramGrouped(t *testing.T, token string) (*tgfake.Server, *instance, map[string]string) {
	t.Helper()
	api := tgfake.New(t)
	in := start(t, `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
`+strings.TrimPrefix(groupedRules, "timezone: UTC\n"), map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"VIGIE_REDIS_URL": redistest.Start(t).URL(), "VIGIE_ADMIN_TOKEN": token,
	})
	return api, in, map[string]string{"Authorization": "Bearer " + token}
}

// deleteGrouped decides delete on the case of author grouping the messages
// ids of chat, and checks that Telegram was asked to delete each once.
func deleteGrouped(t *testing.T, api *tgfake.Server, in *instance, auth map[string]string, chat int64, author string, ids []string) {
	t.Helper()
	decideGrouped(t, api, in, auth, chat, author, ids, "delete")
}

// decideGrouped decides outcome on the case of author grouping the
// messages ids of chat, and checks that Telegram was asked to delete each
// once.
func decideGrouped(t *testing.T, api *tgfake.Server, in *instance, auth map[string]string, chat int64, author string, ids []string, outcome string) {
	t.Helper()
	id := groupedCase(t, in, auth, author, len(ids))
	decideOver(t, in, auth, id, `{"outcome":"`+outcome+`","by":"ann"}`)
	var deleted []string
	for _, c := range api.CallsOf("deleteMessage") {
		if c.Params.Get("chat_id") == strconv.FormatInt(chat, 10) {
			deleted = append(deleted, c.Params.Get("message_id"))
		}
	}
	slices.Sort(deleted)
	ids = slices.Sorted(slices.Values(ids))
	if !slices.Equal(deleted, ids) {
		t.Errorf("deleteMessage asked of %q, want each grouped message once: %q", deleted, ids)
	}
}

// TestGroupedCaseDeleteOnTelegram: the same on Telegram
// (telegram-bot-api on the fake) with Redis: a delete of a case grouping
// three messages asks deleteMessage of each.
func TestGroupedCaseDeleteOnTelegram(t *testing.T) {
	const token, group = "t0ken", -100200
	api, in, auth := telegramGrouped(t, token)
	var ids []string
	for j := range 3 {
		u := groupMessage(group, 8, "Eve", "FREE NITRO "+strconv.Itoa(j))
		ids = append(ids, strconv.Itoa(u["message"].(map[string]any)["message_id"].(int)))
		api.Push(u)
	}
	deleteGrouped(t, api, in, auth, group, "8", ids)
}

// TestGroupedCaseBanOnTelegramRemovesItsMessages: a spam bot posts in
// three topics of a chat (telegram-bot-api on the fake, Redis); a CM's Ban
// of its case bans it once and deletes the three messages, as a Delete
// would: Telegram's ban removes none of a supergroup member's messages
// (revoke_messages only takes the chat's history from the banned member).
func TestGroupedCaseBanOnTelegramRemovesItsMessages(t *testing.T) {
	const token, group = "t0ken", -100300
	api, in, auth := telegramGrouped(t, token)
	var ids []string
	for j, topic := range []int{3, 5, 7} {
		u := groupMessage(group, 10, "Bot", "FREE NITRO "+strconv.Itoa(j))
		m := u["message"].(map[string]any)
		m["message_thread_id"], m["is_topic_message"] = topic, true
		m["chat"].(map[string]any)["is_forum"] = true
		ids = append(ids, strconv.Itoa(m["message_id"].(int)))
		api.Push(u)
	}
	decideGrouped(t, api, in, auth, group, "10", ids, "ban")
	if got := find(api, "banChatMember", "user_id", "10"); len(got) != 1 {
		t.Errorf("banChatMember asked %d times for the spam bot, want once", len(got))
	}
}

// TestGroupedDeleteGoesOnPastARefusal: Discord refuses the delete of one
// of a grouped case's messages (a system message, which cannot be
// deleted); the others are deleted all the same, and the decision's note,
// as the case's card shows it, says one was not, and why.
func TestGroupedDeleteGoesOnPastARefusal(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 44)
	const token = "t0ken"
	in := startOnly(t, groupedRules, map[string]string{"VIGIE_ADMIN_TOKEN": token}, []daemon.Connector{discordConnector(cl)})
	auth := map[string]string{"Authorization": "Bearer " + token}
	const eve = "600000000000000011"
	ids := postScams(t, f, guild, channel, eve, 700000000000000600, 4, "FREE NITRO ")
	f.Fail("DELETE", "/channels/"+channel+"/messages/"+ids[1], http.StatusBadRequest,
		`{"message": "Cannot execute action on a system message", "code": 50021}`, nil, 100)
	id := groupedCase(t, in, auth, eve, 4)
	note := decideOver(t, in, auth, id, `{"outcome":"delete","by":"ann"}`)
	for _, m := range slices.Delete(slices.Clone(ids), 1, 2) {
		if n := f.Count("DELETE", "/channels/"+channel+"/messages/"+m); n != 1 {
			t.Errorf("message %s deleted %d times, want once past the refusal of another", m, n)
		}
	}
	if !strings.Contains(note, "1 of the 4 messages grouped not deleted: ") || !strings.Contains(note, "system message") {
		t.Errorf("note = %q, want the one message not deleted, and why", note)
	}
}

// TestStolenAccountAcrossChannelsIsOneCase: a stolen account posts one scam
// in five channels of a server within seconds (discordgo on the fake, on
// Redis): one case counting five hits in five channels, one card, and one
// delete removes the five messages. Before, each channel's hit opened a
// case of its own, and made a card each.
func TestStolenAccountAcrossChannelsIsOneCase(t *testing.T) {
	guild, _, f, cl := discordGuild(t, 45)
	const token = "t0ken"
	in := startOnly(t, groupedRules, map[string]string{"VIGIE_ADMIN_TOKEN": token, "VIGIE_REDIS_URL": redistest.Start(t).URL()},
		[]daemon.Connector{discordConnector(cl)})
	auth := map[string]string{"Authorization": "Bearer " + token}
	const eve = "600000000000000011"
	where := map[string]string{}
	for j := range 5 {
		id, channel := fmt.Sprint(700000000000000700+j), fmt.Sprint(800000000000000700+j)
		where[id] = channel
		testsync.Eventually(t, "the gateway taking scam "+id, func() bool {
			return f.Message(guild, channel, id, eve, "FREE NITRO in every channel")
		})
	}
	id := groupedCase(t, in, auth, eve, 5)
	var open apiPage
	in.do(t, "GET", "/v1/cases?status=open", nil, auth).json(t, &open)
	if len(open.Cases) != 1 {
		t.Errorf("%d open cases, want one", len(open.Cases))
	}
	testsync.Eventually(t, "the case's card", func() bool {
		return len(f.Calls("POST", "/channels/"+deskChannel+"/messages")) > 0
	})
	decideOver(t, in, auth, id, `{"outcome":"delete","by":"ann"}`)
	for m, channel := range where {
		if n := f.Count("DELETE", "/channels/"+channel+"/messages/"+m); n != 1 {
			t.Errorf("message %s in channel %s deleted %d times, want once", m, channel, n)
		}
	}
	if n := len(f.Calls("POST", "/channels/"+deskChannel+"/messages")); n != 1 {
		t.Errorf("%d cards posted, want one", n)
	}
}

// TestSpamBotAcrossTopicsIsOneCase: the same on Telegram, a spam bot's
// scam in three topics of one chat: one case, and one delete removes the
// three messages.
func TestSpamBotAcrossTopicsIsOneCase(t *testing.T) {
	const token, group = "t0ken", -100300
	api, in, auth := telegramGrouped(t, token)
	var ids []string
	for j, topic := range []int{3, 5, 7} {
		u := groupMessage(group, 9, "Bot", "FREE NITRO "+strconv.Itoa(j))
		m := u["message"].(map[string]any)
		m["message_thread_id"], m["is_topic_message"] = topic, true
		m["chat"].(map[string]any)["is_forum"] = true
		ids = append(ids, strconv.Itoa(m["message_id"].(int)))
		api.Push(u)
	}
	deleteGrouped(t, api, in, auth, group, "9", ids)
}

// TestGroupedTimedBanSaysItsEndAndWhatStayed: a CM bans a grouped case's
// author for 7 days; one of its four messages cannot be deleted (a system
// message): the decision's note, as the card shows it, says both when the
// ban ends and the message not deleted.
func TestGroupedTimedBanSaysItsEndAndWhatStayed(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 45)
	const token = "t0ken"
	in := startOnly(t, groupedRules, map[string]string{"VIGIE_ADMIN_TOKEN": token}, []daemon.Connector{discordConnector(cl)})
	auth := map[string]string{"Authorization": "Bearer " + token}
	const eve = "600000000000000011"
	ids := postScams(t, f, guild, channel, eve, 700000000000000700, 4, "FREE NITRO ")
	f.Fail("DELETE", "/channels/"+channel+"/messages/"+ids[2], http.StatusBadRequest,
		`{"message": "Cannot execute action on a system message", "code": 50021}`, nil, 100)
	id := groupedCase(t, in, auth, eve, 4)
	note := decideOver(t, in, auth, id, `{"outcome":"ban","duration":"7d","by":"ann"}`)
	if !f.Banned(guild, eve) {
		t.Errorf("the grouped case's author not banned")
	}
	if !strings.HasPrefix(note, "until ") || !strings.Contains(note, "; ⚠️ 1 of the 4 messages grouped not deleted: ") {
		t.Errorf("note = %q, want when the ban ends, then the one message not deleted", note)
	}
}
