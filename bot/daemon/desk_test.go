package daemon_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const deskRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "nitro"'
    do: [forward("scam")]
`

const tgGroup, tgDesk = -100200, -100500

// deskCards are the texts sent to the Telegram desk chat that hold want,
// refused ones included.
func deskCards(api *tgfake.Server, want string) []string {
	var out []string
	for _, p := range find(api, "sendMessage", "chat_id", strconv.Itoa(tgDesk)) {
		if strings.Contains(p.Get("text"), want) {
			out = append(out, p.Get("text"))
		}
	}
	return out
}

type openCase struct {
	ID            string
	Event         struct{ Text string }
	Undeliverable string
}

func openCases(t *testing.T, in *instance) map[string]openCase {
	t.Helper()
	var r struct{ Cases []openCase }
	in.do(t, "GET", "/v1/cases?status=open", nil, nil).json(t, &r)
	out := map[string]openCase{}
	for _, c := range r.Cases {
		out[c.Event.Text] = c
	}
	return out
}

func metricsHave(t *testing.T, in *instance, line string) bool {
	t.Helper()
	return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), line)
}

// TestRefusedCardDoesNotBlockTheDesk: Telegram refuses one case's card with a
// 400; the cases after it are still posted, and the refused one is logged once,
// counted, not posted again, and still open in the case list, saying why.
func TestRefusedCardDoesNotBlockTheDesk(t *testing.T) {
	api := tgfake.New(t)
	api.SetTrouble(refusing("poison"))
	in := start(t, deskRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})

	api.Push(groupMessage(tgGroup, 7, "Eve", "nitro poison"))
	testsync.Eventually(t, "the refused card", func() bool { return len(deskCards(api, "poison")) == 1 })
	api.Push(groupMessage(tgGroup, 8, "Mal", "nitro fine"))
	testsync.Eventually(t, "the next case's card", func() bool { return len(deskCards(api, "nitro fine")) == 1 })
	// One more round of the desk, for the refused case to be tried again if it
	// were still waiting.
	api.Push(groupMessage(tgGroup, 9, "Oz", "nitro later"))
	testsync.Eventually(t, "a later case's card", func() bool { return len(deskCards(api, "nitro later")) == 1 })

	if n := len(deskCards(api, "poison")); n != 1 {
		t.Errorf("the refused card was sent %d times, want once", n)
	}
	if n := strings.Count(in.logs.String(), "the desk refused a case for good"); n != 1 {
		t.Errorf("the refusal is logged %d times, want once", n)
	}
	if line := `vigie_desk_failures_total{desk="telegram",kind="refused"} 1`; !metricsHave(t, in, line) {
		t.Errorf("/metrics lacks %s", line)
	}
	open := openCases(t, in)
	refused, ok := open["nitro poison"]
	if !ok || !strings.Contains(refused.Undeliverable, "can't parse entities") {
		t.Errorf("open cases = %+v, want the refused one open, saying why", open)
	}
	if fine := open["nitro fine"]; fine.ID == "" || fine.Undeliverable != "" {
		t.Errorf("the posted case = %+v, want open and delivered", fine)
	}
}

// deskChannel is the Discord desk's channel.
const deskChannel = "800000000000000020"

// newDiscordDesk is a fake Discord whose messages to the desk answer 500 when
// their content holds fail.
func newDiscordDesk(t *testing.T, fail string) *discordfake.Server {
	f := discordfake.New(t, discordfake.Options{})
	f.FailWhen(func(c discordfake.Call) bool {
		content, _ := c.Body["content"].(string)
		return c.Method == "POST" && strings.Contains(content, fail)
	}, http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`)
	return f
}

// posted are the cards posted to the desk whose content holds want.
func posted(f *discordfake.Server, want string) []string {
	var out []string
	for _, c := range f.Calls("POST", "/channels/"+deskChannel+"/messages") {
		if content, _ := c.Body["content"].(string); strings.Contains(content, want) {
			out = append(out, content)
		}
	}
	return out
}

// discordDesk is a Discord desk whose calls go to f. The API address is the
// one every test of the package gives: discordgo's are process-wide; the HTTP
// client takes the calls to f.
func discordDesk(t *testing.T, f *discordfake.Server) daemon.Connector {
	cl, err := discord.New(discord.Config{
		Token: discordfake.Token, APIURL: discordAPIURL, DeskChannel: deskChannel, HTTPClient: f.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return daemon.Connector{Name: "discord", Desk: desktest.Desk{Poster: cl.Desk(&desktest.Commands{})}}
}

// TestTwoDesks: when one desk fails and the other takes the case, the failure
// is still logged and counted by desk; a card refused for good is reported on
// the other desk.
func TestTwoDesks(t *testing.T) {
	api := tgfake.New(t)
	api.SetTrouble(refusing("poison"))
	dc := newDiscordDesk(t, "flaky")
	in := startWith(t, deskRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL},
		discordDesk(t, dc))

	// Telegram refuses the card; Discord shows it, and says Telegram did not.
	api.Push(groupMessage(tgGroup, 7, "Eve", "nitro poison"))
	testsync.Eventually(t, "the card on Discord", func() bool { return len(posted(dc, "nitro poison")) == 1 })
	var open map[string]openCase
	testsync.Eventually(t, "the case", func() bool { open = openCases(t, in); return open["nitro poison"].ID != "" })
	id := open["nitro poison"].ID
	testsync.Eventually(t, "the report on Discord", func() bool {
		return len(posted(dc, "case "+id+" (rule scam) could not be shown on Telegram: ")) == 1
	})
	if got := open["nitro poison"].Undeliverable; got != "" {
		t.Errorf("a case Discord showed is undeliverable: %q", got)
	}

	// Discord fails with a 500; Telegram shows the case.
	api.Push(groupMessage(tgGroup, 8, "Mal", "nitro flaky"))
	testsync.Eventually(t, "the card on Telegram", func() bool { return len(deskCards(api, "nitro flaky")) == 1 })
	flaky := openCases(t, in)["nitro flaky"].ID
	testsync.Eventually(t, "Discord's failure counted", func() bool {
		return metricsHave(t, in, `vigie_desk_failures_total{desk="discord",kind="unreachable"} 1`)
	})
	if line := `vigie_desk_failures_total{desk="telegram",kind="refused"} 1`; !metricsHave(t, in, line) {
		t.Errorf("/metrics lacks %s", line)
	}
	wants := []string{
		`msg="a desk did not show a case; the other desks did" case=` + id + ` desk=telegram kind=refused`,
		`msg="a desk did not show a case; the other desks did" case=` + flaky + ` desk=discord kind=unreachable`,
	}
	// The failure is counted, then logged: wait for the lines themselves.
	testsync.Eventually(t, "both desks' failures logged", func() bool {
		logs := in.logs.String()
		return strings.Contains(logs, wants[0]) && strings.Contains(logs, wants[1])
	})
	logs := in.logs.String()
	for _, want := range wants {
		if n := strings.Count(logs, want); n != 1 {
			t.Errorf("%d log lines %s, want 1", n, want)
		}
	}
	if n := len(posted(dc, "nitro flaky")); n != 1 {
		t.Errorf("Discord was asked %d times for the case Telegram showed, want once", n)
	}
}

// TestTelegramRightsOnTheHealthPage: vigie made a plain member of a group it
// moderates is listed in /healthz's degraded (what the console's Health page
// shows), naming the group and what fails, until its rights are back.
func TestTelegramRightsOnTheHealthPage(t *testing.T) {
	api := tgfake.New(t)
	in := start(t, deskRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	self := map[string]any{"id": tgfake.BotUserID, "is_bot": true, "first_name": "vigie", "username": tgfake.BotName}
	admin := map[string]any{"user": self, "status": "administrator", "can_be_edited": false, "is_anonymous": false,
		"can_manage_chat": true, "can_delete_messages": true, "can_manage_video_chats": false, "can_restrict_members": true,
		"can_promote_members": false, "can_change_info": false, "can_invite_users": false, "can_post_stories": false,
		"can_edit_stories": false, "can_delete_stories": false}
	member := map[string]any{"user": self, "status": "member"}
	changed := func(was, now map[string]any) {
		api.Push(map[string]any{"my_chat_member": map[string]any{
			"chat": map[string]any{"id": tgGroup, "type": "supergroup", "title": "fans"},
			"from": map[string]any{"id": 77, "is_bot": false, "first_name": "Owner"}, "date": time.Now().Unix(),
			"old_chat_member": was, "new_chat_member": now}})
	}
	degraded := func() []string {
		var health struct{ Degraded []string }
		in.do(t, "GET", "/healthz", nil, nil).json(t, &health)
		return health.Degraded
	}
	const want = `telegram chat "fans" (-100200): vigie is not an admin of this chat`
	// What getChatMember answers (vigie asks it of each listed group at
	// start) agrees with the updates.
	api.SetMember(tgGroup, tgfake.BotUserID, "member")
	changed(admin, member)
	testsync.Eventually(t, "the group in /healthz's degraded", func() bool {
		return slices.ContainsFunc(degraded(), func(s string) bool { return strings.HasPrefix(s, want) })
	})
	api.SetMember(tgGroup, tgfake.BotUserID, "administrator", "can_manage_chat", "can_delete_messages", "can_restrict_members")
	changed(member, admin)
	testsync.Eventually(t, "the group gone from /healthz's degraded", func() bool {
		return !slices.ContainsFunc(degraded(), func(s string) bool { return strings.HasPrefix(s, "telegram chat") })
	})
}
