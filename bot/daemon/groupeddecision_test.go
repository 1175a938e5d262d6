package daemon_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/daemon"
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
// member's grouped case bans them once. Before, the case kept its later
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
			var ids []string
			for j := range 4 {
				id := fmt.Sprint(700000000000000400 + j)
				ids = append(ids, id)
				testsync.Eventually(t, "the gateway taking scam "+id, func() bool {
					return f.Message(guild, channel, id, eve, "FREE NITRO "+strconv.Itoa(j))
				})
			}
			id := groupedCase(t, in, auth, eve, 4)
			decideOver(t, in, auth, id, `{"outcome":"delete","by":"ann"}`)
			for _, m := range ids {
				if n := f.Count("DELETE", "/channels/"+channel+"/messages/"+m); n != 1 {
					t.Errorf("message %s of the grouped case deleted %d times, want once", m, n)
				}
			}

			for j := range 3 {
				id := fmt.Sprint(700000000000000500 + j)
				testsync.Eventually(t, "the gateway taking scam "+id, func() bool {
					return f.Message(guild, channel, id, mal, "FREE NITRO again "+strconv.Itoa(j))
				})
			}
			id = groupedCase(t, in, auth, mal, 3)
			decideOver(t, in, auth, id, `{"outcome":"ban","by":"ann"}`)
			if n := f.Count("PUT", "/guilds/"+guild+"/bans/"+mal); n != 1 || !f.Banned(guild, mal) {
				t.Errorf("the grouped case's author asked to be banned %d times (banned %v), want once", n, f.Banned(guild, mal))
			}
		})
	}
}

// TestGroupedCaseDeleteOnTelegram: the same on Telegram
// (telegram-bot-api on the fake) with Redis: a delete of a case grouping
// three messages asks deleteMessage of each.
func TestGroupedCaseDeleteOnTelegram(t *testing.T) {
	const token, group = "t0ken", -100200
	api := tgfake.New(t)
	in := start(t, `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
`+strings.TrimPrefix(groupedRules, "timezone: UTC\n"), map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"VIGIE_REDIS_URL": redistest.Start(t).URL(), "VIGIE_ADMIN_TOKEN": token,
	})
	auth := map[string]string{"Authorization": "Bearer " + token}
	var ids []string
	for j := range 3 {
		u := groupMessage(group, 8, "Eve", "FREE NITRO "+strconv.Itoa(j))
		ids = append(ids, strconv.Itoa(u["message"].(map[string]any)["message_id"].(int)))
		api.Push(u)
	}
	id := groupedCase(t, in, auth, "8", 3)
	decideOver(t, in, auth, id, `{"outcome":"delete","by":"ann"}`)
	var deleted []string
	for _, c := range api.CallsOf("deleteMessage") {
		if c.Params.Get("chat_id") == strconv.Itoa(group) {
			deleted = append(deleted, c.Params.Get("message_id"))
		}
	}
	slices.Sort(deleted)
	if !slices.Equal(deleted, ids) {
		t.Errorf("deleteMessage asked of %q, want each grouped message once: %q", deleted, ids)
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
	var ids []string
	for j := range 4 {
		id := fmt.Sprint(700000000000000600 + j)
		ids = append(ids, id)
		testsync.Eventually(t, "the gateway taking scam "+id, func() bool {
			return f.Message(guild, channel, id, eve, "FREE NITRO "+strconv.Itoa(j))
		})
	}
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
