package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// modWorld is the test guild with vigie, the handlers and a memory store wired
// as the daemon wires them, against the fake Discord.
type modWorld struct {
	f    *discordfake.Server
	c    *Client
	st   *memory.Store
	logs *testsync.Buffer
	// out is where vigie hands events to the rules.
	out chan bot.Event
	// stop stops vigie before the test ends.
	stop context.CancelFunc
}

func newModWorld(t *testing.T) *modWorld {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id}, ModeratorRoles: []string{modRole}})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	cmds := &desktest.Commands{Store: st}
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st, Retry: handlers.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = mod
	c.Desk(cmds)
	out := make(chan bot.Event, 16)
	stop := run(t, f, c, out, allPerms)
	f.WaitFor(t, "PUT", "/applications/"+appID+"/guilds/"+guildID+"/commands", 1, nil)
	// The registration holds a desk worker until Discord answered and it is
	// logged: a test that counts busy workers starts once it let go.
	testsync.Eventually(t, "the commands' registration done", func() bool { return c.work.Busy() == 0 })
	return &modWorld{f: f, c: c, st: st, logs: logs, out: out, stop: stop}
}

// modSlash is an INTERACTION_CREATE for the moderators' command name, sent
// in #general by from, whose permissions there are perms; member names the
// member option, resolved as Discord resolves it.
func modSlash(id string, from user, perms int64, name string, member *user, opts ...map[string]any) map[string]any {
	options := []any{}
	data := map[string]any{"id": "cmd-" + name, "name": name, "type": 1}
	if member != nil {
		options = append(options, map[string]any{"name": "member", "type": 6, "value": member.id})
		data["resolved"] = map[string]any{
			"users":   map[string]any{member.id: member.json()},
			"members": map[string]any{member.id: member.member(t0)},
		}
	}
	for _, o := range opts {
		options = append(options, o)
	}
	data["options"] = options
	return map[string]any{
		"id": id, "application_id": appID, "type": 2, "token": "tok-" + id, "version": 1,
		"guild_id": guildID, "channel_id": general,
		"member": map[string]any{"user": from.json(), "roles": from.member(t0)["roles"], "joined_at": t0.Format(time.RFC3339),
			"permissions": strconv.FormatInt(perms, 10)},
		"data": data,
	}
}

func opt(name string, typ int, value any) map[string]any {
	return map[string]any{"name": name, "type": typ, "value": value}
}

// answer is what vigie told the moderator: the deferred answer's edit, or an
// immediate answer.
func (w *modWorld) answer(t *testing.T, id string) string {
	t.Helper()
	cb := w.f.WaitFor(t, "POST", "/interactions/"+id+"/", 1, nil)
	data, _ := cb.Body["data"].(map[string]any)
	if flags, _ := data["flags"].(float64); int(flags)&64 == 0 {
		t.Errorf("interaction %s answered for everyone to see: %s", id, cb.Raw)
	}
	if cb.Body["type"] == float64(4) {
		return data["content"].(string)
	}
	edit := w.f.WaitFor(t, "PATCH", "/webhooks/"+appID+"/tok-"+id+"/messages/@original", 1, nil)
	return edit.Body["content"].(string)
}

const (
	permKick     = 1 << 1
	permBan      = 1 << 2
	permMessages = 1 << 13
	permModerate = 1 << 40
)

// The commands are registered in the guild, each for the members holding its
// Discord permission.
func TestModCommandsRegistered(t *testing.T) {
	w := newModWorld(t)
	put := w.f.WaitFor(t, "PUT", "/applications/"+appID+"/guilds/"+guildID+"/commands", 1, nil)
	var list []map[string]any
	if err := json.Unmarshal(put.Raw, &list); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"ban": permBan, "unban": permBan, "kick": permKick, "mute": permModerate, "unmute": permModerate,
		"warn": permModerate, "warns": permModerate, "resetwarns": permModerate, "note": permModerate,
		"del": permMessages, "purge": permMessages, "Delete message": permMessages}
	got := map[string]int64{}
	for _, cmd := range list[1:] {
		p, _ := cmd["default_member_permissions"].(float64)
		got[cmd["name"].(string)] = int64(p)
	}
	for name, perm := range want {
		if got[name] != perm {
			t.Errorf("%s: default_member_permissions %d, want %d", name, got[name], perm)
		}
	}
	if len(got) != len(want) {
		t.Errorf("commands = %v", got)
	}
}

// A member with Ban Members bans; the audit log of the server says who and
// why, and the member's open case is closed as decided by them.
func TestModBan(t *testing.T) {
	w := newModWorld(t)
	ev := bot.Event{ID: "m-1", Platform: Platform, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id}}
	open, err := w.st.OpenCase(t.Context(), store.Case{Event: ev, Rule: "insult", Reason: "insult", Opened: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	w.f.Dispatch("INTERACTION_CREATE", modSlash("9001", mallory, permBan, "ban", &bob, opt("reason", 3, "raid")))
	if got := w.answer(t, "9001"); got != "Banned Bob. (1 case closed)" {
		t.Errorf("answer = %q", got)
	}
	ban := w.f.WaitFor(t, "PUT", "/guilds/"+guildID+"/bans/"+bob.id, 1, nil)
	if r, _ := url.PathUnescape(ban.Header.Get("X-Audit-Log-Reason")); r != "vigie: /ban by discord:"+mallory.id+": raid" {
		t.Errorf("audit log reason = %q", r)
	}
	c, _ := w.st.Case(t.Context(), open.ID)
	if c.Status != store.CaseDecided || c.Outcome != "ban" || c.DecidedBy != "discord:"+mallory.id {
		t.Errorf("case = %s %q by %q", c.Status, c.Outcome, c.DecidedBy)
	}
}

// Without the permission (and being no CM nor moderator), the command is
// refused, only to its author, and logged; nothing is done.
func TestModRefused(t *testing.T) {
	w := newModWorld(t)
	for i, tc := range []struct {
		name  string
		perms int64
	}{
		{"ban", 0},
		{"purge", permBan}, // Ban Members is not Manage Messages
	} {
		id := strconv.Itoa(9100 + i)
		w.f.Dispatch("INTERACTION_CREATE", modSlash(id, mallory, tc.perms, tc.name, &bob, opt("count", 4, 5)))
		if got := w.answer(t, id); !strings.HasPrefix(got, "Sorry, /"+tc.name+" is for the members who may") {
			t.Errorf("/%s answer = %q", tc.name, got)
		}
		testsync.Eventually(t, "the refusal logged", func() bool {
			return strings.Contains(w.logs.String(), `msg="moderator's command refused" platform=discord audit=true user=discord:`+mallory.id) &&
				strings.Contains(w.logs.String(), "attempt=/"+tc.name+" ")
		})
	}
	if n := w.f.Count("PUT", "/guilds/"+guildID+"/bans/") + w.f.Count("GET", "/channels/"); n != 0 {
		t.Errorf("%d calls after refusals", n)
	}
}

// Discord answers 403 Missing Permissions: the moderator is told in the
// words of the cards, not Discord's raw error (its route and ids), and the
// command is audited as failed with Discord's own error.
func TestModMissingPermission(t *testing.T) {
	w := newModWorld(t)
	w.f.Fail("PATCH", "/guilds/"+guildID+"/members/", 403, `{"message": "Missing Permissions", "code": 50013}`, nil, 1)
	w.f.Dispatch("INTERACTION_CREATE", modSlash("9002", mod, 0, "mute", &bob, opt("duration", 3, "30m")))
	got := w.answer(t, "9002")
	if !strings.HasPrefix(got, "Could not mute Bob: Discord refused: vigie lacks the Moderate Members permission in this server") || strings.Contains(got, "/guilds/") {
		t.Errorf("answer = %q", got)
	}
	audit, _ := w.st.Audit(t.Context(), time.Time{})
	if len(audit) != 1 || !strings.Contains(audit[0].Failed, "50013") || audit[0].By != "discord:"+mod.id {
		t.Errorf("audit = %+v", audit)
	}
}

// A moderator's /mute of a member whose role is above vigie's is refused by
// Discord as a missing permission; vigie has the permission, so the moderator
// is told what stands in the way, not to give vigie a right it holds.
func TestModOnAMemberAboveVigie(t *testing.T) {
	w := newModWorld(t)
	w.f.FailWhen(func(c discordfake.Call) bool {
		return c.Method == "PATCH" && c.Path == "/guilds/"+guildID+"/members/"+mod.id
	},
		403, `{"message": "Missing Permissions", "code": 50013}`)
	w.f.Dispatch("INTERACTION_CREATE", modSlash("9012", cm, 0, "mute", &mod, opt("duration", 3, "30m")))
	got := w.answer(t, "9012")
	if !strings.HasPrefix(got, "Could not mute Mo: ") || !strings.Contains(got, "Mo's highest role, Moderator, is not below vigie's highest role, vigie") ||
		strings.Contains(got, "Give vigie's account the right") {
		t.Errorf("answer = %q", got)
	}
}

// What Discord cannot do as a moderator asks is done as it can, and told: a
// /mute longer than Discord's timeouts can be is the longest one. The audit
// records what was done. (A /ban for a while is a ban lifted at its end:
// TestTimedBanLiftedAtItsEnd.)
func TestModDurationsDiscordCannotGive(t *testing.T) {
	w := newModWorld(t)
	w.f.Dispatch("INTERACTION_CREATE", modSlash("9013", mod, 0, "mute", &bob, opt("duration", 3, "30d")))
	if got, want := w.answer(t, "9013"), "Muted Bob for 671h. Discord's timeouts end within 28 days: this one lasts 671h."; got != want {
		t.Errorf("/mute 30d: answer = %q, want %q", got, want)
	}
	w.f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+bob.id, 1, nil)
	audit, _ := w.st.Audit(t.Context(), time.Time{})
	var done []string
	for _, e := range audit {
		for _, m := range e.Verdict.Matches {
			for _, a := range m.Actions {
				done = append(done, a.String())
			}
		}
	}
	if want := []string{"timeout(" + bot.FormatDuration(MaxTimeout) + ")"}; !slices.Equal(done, want) {
		t.Errorf("audited %q, want %q", done, want)
	}
}

// /purge deletes the member's last messages in the channel; /del and the
// message menu's "Delete message" delete one; /warn, /warns, /note.
func TestModMessagesAndWarnings(t *testing.T) {
	w := newModWorld(t)
	at := time.Now()
	ids := []string{snowflake(at, 1), snowflake(at, 2), snowflake(at, 3), snowflake(at, 4)}
	w.f.SetHistory(general,
		message(ids[3], general, bob, at, "spam 3"),
		message(ids[2], general, mallory, at, "hello"),
		message(ids[1], general, bob, at, "spam 2"),
		message(ids[0], general, bob, at, "spam 1"))
	w.f.Dispatch("INTERACTION_CREATE", modSlash("9003", mallory, permMessages, "purge", &bob, opt("count", 4, 2)))
	if got := w.answer(t, "9003"); got != "Deleted 2 messages of Bob." {
		t.Errorf("/purge = %q", got)
	}
	for n, id := range []string{ids[3], ids[1]} {
		if del := w.f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/", n+1, nil); del.Path != "/channels/"+general+"/messages/"+id {
			t.Errorf("delete %d = %s, want %s", n+1, del.Path, id)
		}
	}

	w.f.Dispatch("INTERACTION_CREATE", modSlash("9004", cm, 0, "del", nil,
		opt("message", 3, "https://discord.com/channels/"+guildID+"/"+general+"/"+ids[0])))
	if got := w.answer(t, "9004"); got != "Deleted." {
		t.Errorf("/del = %q", got)
	}
	w.f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/"+ids[0], 1, nil)

	menu := modSlash("9005", mallory, permMessages, delMessageCommand, nil)
	data := menu["data"].(map[string]any)
	data["type"], data["target_id"] = 3, ids[2]
	delete(data, "options")
	data["resolved"] = map[string]any{"messages": map[string]any{ids[2]: message(ids[2], general, mallory, at, "hello")}}
	w.f.Dispatch("INTERACTION_CREATE", menu)
	if got := w.answer(t, "9005"); got != "Deleted." {
		t.Errorf("Delete message = %q", got)
	}
	w.f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/"+ids[2], 1, nil)

	w.f.Dispatch("INTERACTION_CREATE", modSlash("9006", mallory, permModerate, "warn", &bob, opt("reason", 3, "no spam")))
	if got := w.answer(t, "9006"); got != "Warned Bob (a strike)." {
		t.Errorf("/warn = %q", got)
	}
	warning := w.f.WaitFor(t, "POST", "/channels/"+general+"/messages", 1, nil)
	if warning.Body["content"] != "<@"+bob.id+">, a warning from the moderators: no spam" {
		t.Errorf("warning = %s", warning.Raw)
	}
	w.f.Dispatch("INTERACTION_CREATE", modSlash("9007", mallory, permModerate, "note", &bob, opt("text", 3, "sells accounts")))
	w.answer(t, "9007")
	w.f.Dispatch("INTERACTION_CREATE", modSlash("9008", mallory, permModerate, "warns", &bob))
	got := w.answer(t, "9008")
	for _, want := range []string{"Bob (discord " + bob.id + "): 1 strike here", "sells accounts"} {
		if !strings.Contains(got, want) {
			t.Errorf("/warns = %q, want %q in it", got, want)
		}
	}
	w.f.Dispatch("INTERACTION_CREATE", modSlash("9009", mallory, permBan, "ban", &bob, opt("duration", 3, "soon")))
	if got := w.answer(t, "9009"); got != `Nothing done: invalid duration "soon" (want a number and a unit: 30s, 10m, 2h, 7d, 1w). Write the duration like 10m, 2h, 7d or 1w.` {
		t.Errorf("/ban duration:soon = %q", got)
	}
}

// A card shows the newest moderators' notes on the author.
func TestCardNotes(t *testing.T) {
	card := bot.Card{ID: "c-1", Event: bot.Event{Platform: Platform, Author: bot.Author{ID: "7"}},
		Notes: []string{"discord:8, 2026-11-01: first", "discord:8, 2026-11-02: b", "discord:8, 2026-11-03: c", "discord:8, 2026-12-01: sells accounts"}}
	got := renderCard(card, cardNames{}, "")
	if !strings.Contains(got, "📝 discord:8, 2026-12-01: sells accounts\n") || strings.Contains(got, "first") {
		t.Errorf("card = %s", got)
	}
}

// A member's name that turns text right to left cannot pass for another id on
// a card or in the queue: "Bob\u202e)24 di(" would show as "Bob(id 42)".
func TestCardSetsApartATurningName(t *testing.T) {
	const name = "Bob\u202e)24 di("
	card := bot.Card{ID: "c-1", Rule: "scam", Event: bot.Event{Platform: Platform, Author: bot.Author{ID: "7", Name: name},
		Text: "\u202egro.etis"}}
	if got := renderCard(card, cardNames{}, ""); !strings.Contains(got, "\u2068"+name+"\u2069 (id 7)") {
		t.Errorf("card = %q, want the name set apart before its id", got)
	}
	if got := renderQueue([]bot.Card{card}); !strings.Contains(got, "\u2068"+name+"\u2069: \u2068\u202egro.etis\u2069") {
		t.Errorf("queue = %q, want the name and the words set apart", got)
	}
}

// A mod-log line pings nobody, shows no preview, and is edited in place.
func TestModLogPoster(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	id, err := c.PostLog(t.Context(), deskID, "🗑 delete in <#"+general+"> — rule flood · <@"+bob.id+">")
	if err != nil || id == "" {
		t.Fatalf("PostLog = %q, %v", id, err)
	}
	post := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
	if post.Body["flags"] != float64(4) || fmt.Sprint(post.Body["allowed_mentions"]) != "map[parse:[] replied_user:false]" {
		t.Errorf("post = %s", post.Raw)
	}
	if err := c.EditLog(t.Context(), deskID, id, "🗑 2× delete"); err != nil {
		t.Fatal(err)
	}
	if edit := f.WaitFor(t, "PATCH", "/channels/"+deskID+"/messages/"+id, 1, nil); edit.Body["content"] != "🗑 2× delete" {
		t.Errorf("edit = %s", edit.Raw)
	}
	f.Fail("POST", "/channels/"+deskID+"/messages", 403, `{"message": "Missing Access", "code": 50001}`, nil, 1)
	if _, err := c.PostLog(t.Context(), deskID, "x"); err == nil || bot.Retryable(err) {
		t.Errorf("PostLog without access = %v, want an error not worth retrying", err)
	}
}

// What members write, and their names, show on a card as written: Discord's
// markdown in them is escaped, so that a name cannot make a link of vigie's
// message, nor a message a headline or a fence.
func TestCardShowsMembersMarkdownAsWritten(t *testing.T) {
	card := bot.Card{ID: "c-1", Rule: "scam", Event: bot.Event{Platform: Platform, Channel: "1", Space: "g",
		Author: bot.Author{ID: "7", Name: "[Verify here](https://scam.example)"},
		Text:   "free nitro ```\n# CLICK\n||now||"},
		Suggested: []bot.Action{{Kind: bot.ActDelete}}}
	got := renderCard(card, cardNames{}, "")
	for _, want := range []string{
		`\[Verify here\](https://scam.example) (id 7)`,
		"> free nitro \\`\\`\\`\n> \\# CLICK\n> \\|\\|now\\|\\|\n",
		"\nSuggested: delete\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("card lacks %q:\n%s", want, got)
		}
	}
	if got := renderQueue([]bot.Card{card}); !strings.Contains(got, `\[Verify here\](https://scam.example): free nitro \`+"`"+`\`+"`"+`\`+"`") {
		t.Errorf("queue = %s", got)
	}
}

// An alert quotes members (a crisis page's examples, the report's
// offenders): their markdown shows as written there too, while the page's
// own mentions of the CMs still ping them.
func TestAlertShowsMembersMarkdownAsWritten(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + bob.id}})
	desk := c.Desk(nil)
	text := "angry-wave: crisis\n– 22:10 [Official statement](https://scam.example): ```"
	if err := desk.Page(t.Context(), text); err != nil {
		t.Fatal(err)
	}
	page := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
	want := "🚨 angry-wave: crisis\n– 22:10 \\[Official statement\\](https://scam.example): \\`\\`\\`\n<@" + bob.id + ">"
	if page.Body["content"] != want {
		t.Errorf("page = %q, want %q", page.Body["content"], want)
	}
	if err := desk.Alert(t.Context(), text); err != nil {
		t.Fatal(err)
	}
	alert := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 2, nil)
	if got, _ := alert.Body["content"].(string); !strings.Contains(got, `\[Official statement\]`) {
		t.Errorf("alert = %q", got)
	}
}

// TestModAnswersShowNamesAsWritten: a moderator's command answered with
// the member's name shows the name as the member wrote it: a nickname made
// of a masked link, or of another user's mention, is neither in vigie's
// answer.
func TestModAnswersShowNamesAsWritten(t *testing.T) {
	w := newModWorld(t)
	for i, name := range []string{"[Appeal](https://evil.example)", "<@" + cm.id + ">", "**Ann** ~~x~~"} {
		eve := user{id: fmt.Sprint(7000 + i), name: name}
		id := fmt.Sprint(9100 + i)
		w.f.Dispatch("INTERACTION_CREATE", modSlash(id, mallory, permModerate, "warns", &eve))
		got := w.answer(t, id)
		if !strings.Contains(got, md(name)+" (discord "+eve.id+")") {
			t.Errorf("/warns on %q = %q, want the name shown as written", name, got)
		}
	}
}
