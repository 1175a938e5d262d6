package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCaseBeingTriedSurvivesKill: a vigie process on Redis forwards a scam
// whose delete Discord holds; its case reaches the desk, its actions being
// tried, and the process is killed (SIGKILL) before they end. The next
// vigie on the same Redis carries the verdict out again from the journal,
// Discord answering now: the case already opened is amended (nothing
// being tried, nothing not done, the forward's reason) and its card
// edited, and no second case is opened for the message.
func TestCaseBeingTriedSurvivesKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills a vigie process")
	}
	h := startHeldScam(t, "700000000000000301")
	f, deletes, release, first, st := h.f, h.deletes, h.release, h.first, h.st
	ctx := context.Background()
	// The case on the desk, its card recorded, while Discord holds the
	// delete. (The journal names the case before the card is posted: it is
	// written as the case is opened.)
	early := h.beingTried(t, true)
	if f.Count("DELETE", deletes) != 1 {
		t.Fatalf("the delete was not held: %s", f.Summary())
	}
	first.kill()
	release()

	cards, err := st.CaseCards(ctx, early.ID)
	if err != nil || len(cards) != 1 {
		t.Fatalf("cards of %s = %v, %v", early.ID, cards, err)
	}
	second := h.takeOver(t)

	// The verdict carried out again: the delete, then the card edited.
	edit := f.WaitFor(t, "PATCH", "/channels/"+deskChannel+"/messages/"+cards[0].Message, 1, nil)
	if n := f.Count("DELETE", deletes); n < 2 {
		t.Errorf("the delete was asked %d times, want it asked again after the restart", n)
	}
	content, _ := edit.Body["content"].(string)
	if strings.Contains(content, bot.TryingMark) || strings.Contains(content, bot.NotDoneMark) {
		t.Errorf("the card once the actions ended:\n%s\nwant nothing being tried, nothing not done", content)
	}
	all := amendedCases(t, st)
	if len(all) != 1 || all[0].ID != early.ID || len(all[0].NotDone) != 0 || all[0].Reason != "scam" {
		t.Errorf("cases after the restart = %+v\nwant the one opened before the kill, amended: nothing not done, the forward's reason", all)
	}
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		t.Logf("second vigie's logs:\n%s", second.logs)
	}
}

// TestCaseBeingTriedLeftUnfinishedTooOften: a verdict left unfinished
// three times (each vigie that took it was killed) is left to the desk. Its
// journal entry names the case opened while its actions were being tried:
// that case is amended to say so, rather than a second one opened and this
// one left being tried.
func TestCaseBeingTriedLeftUnfinishedTooOften(t *testing.T) {
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL())
	ctx := context.Background()
	now := time.Now()
	ev := bot.Event{ID: "m-1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-7", Name: "Bob"}, Text: "FREE NITRO here", At: now.Add(-time.Hour)}
	// As the first vigie left them: the case being tried, the journal
	// naming it, taken twice since by vigies killed in their turn.
	early := leftBeingTried(t, st, ev, true, bot.Action{Kind: bot.ActDelete}, bot.Action{Kind: bot.ActTimeout, Duration: 10 * time.Minute})
	for range 2 {
		if _, err := st.Unfinished(ctx, now, ev.At); err != nil {
			t.Fatal(err)
		}
	}

	in := start(t, discordFailingRules, map[string]string{"VIGIE_REDIS_URL": srv.URL()}, func(c *daemon.Config) { c.RecoverAfter = time.Millisecond })
	all := amendedCases(t, st)
	if len(all) != 1 || all[0].ID != early.ID || all[0].Reason != "not carried out: left unfinished 3 times: would delete, timeout(10m)" ||
		len(all[0].NotDone) != 2 {
		t.Errorf("cases = %+v\nwant the one opened before, amended to say the verdict was left unfinished 3 times", all)
	}
	if calls := in.chat.Calls(); len(calls) != 0 {
		t.Errorf("calls = %q, want none: the desk decides", calls)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestCaseLeftBeingTriedIsAmended: a case opened while its actions were
// being tried, two hours ago, that no journal entry names (the vigie that
// opened it stopped before the journal was told of it, or the entry was
// lost): nobody will carry its verdict out again, nor amend it. The next
// vigie's escalation check, which runs at start in the process holding its
// lease, amends it to say that vigie stopped while acting on it, the
// actions it was trying marked not done, and edits its card to say so.
func TestCaseLeftBeingTriedIsAmended(t *testing.T) {
	t.Parallel()
	guild, channel, f, cl := discordGuild(t, 2)
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL())
	ctx := context.Background()
	opened := time.Now().Add(-2 * time.Hour)
	ev := bot.Event{ID: "700000000000000302", Platform: "discord", Kind: bot.KindMessage, Space: guild, Channel: channel,
		Author: bot.Author{ID: "600000000000000007", Name: "Bob"}, Text: "FREE NITRO here", At: opened}
	early := leftBeingTried(t, st, ev, false, bot.Action{Kind: bot.ActDelete}, bot.Action{Kind: bot.ActTimeout, Duration: 10 * time.Minute})
	const card = "800000000000000399"
	if err := st.AddCard(ctx, early.ID, bot.CardRef{Platform: "discord", Chat: deskChannel, Message: card}); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"VIGIE_REDIS_URL": srv.URL(), "VIGIE_LEASE_TTL": killLeaseTTL, "VIGIE_LEASE_TTL_MAX": killLeaseTTL}
	in := start(t, discordFailingRules, env, func(c *daemon.Config) {
		c.Connectors = []daemon.Connector{discordConnector(cl)}
	})

	all := amendedCases(t, st)
	want := "scam: scam; scam: vigie stopped while acting on this (delete, timeout(10m)); check it"
	if len(all) != 1 || all[0].ID != early.ID || all[0].Reason != want || len(all[0].NotDone) != 2 || all[0].Outcome != "" {
		t.Errorf("cases = %+v\nwant the one left being tried, still open, amended: %q, both actions not done", all, want)
	}
	content, _ := f.WaitFor(t, "PATCH", "/channels/"+deskChannel+"/messages/"+card, 1, nil).Body["content"].(string)
	if strings.Contains(content, bot.TryingMark) || !strings.Contains(content, "delete"+bot.NotDoneMark) ||
		!strings.Contains(content, "vigie stopped while acting on this") {
		t.Errorf("the card once amended:\n%s\nwant nothing being tried, the delete not done, vigie's stop said", content)
	}
	if n := f.Count("DELETE", "/channels/"); n != 0 {
		t.Errorf("%d deletes asked, want none: the CMs decide", n)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
}

// leftBeingTried puts in st what a vigie stopped while the "scam" rule's
// actions acts were being tried on ev left there: the case opened for the
// desk, its actions marked being tried, and, journaled, the journal entry
// of the verdict naming it.
func leftBeingTried(t *testing.T, st store.Store, ev bot.Event, journaled bool, acts ...bot.Action) store.Case {
	t.Helper()
	ctx := context.Background()
	names := make([]string, len(acts))
	for i, a := range acts {
		names[i] = a.String()
	}
	early, err := st.OpenCase(ctx, store.Case{Event: ev, Opened: ev.At, Rule: "scam", Category: "spam",
		Reason: "scam: scam; scam: being tried: " + strings.Join(names, ", "), Suggested: acts, NotDone: acts, Trying: acts, Holds: true})
	if err != nil {
		t.Fatal(err)
	}
	if !journaled {
		return early
	}
	v := bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: ev.At, Matches: []bot.Match{{Rule: "scam", Category: "spam",
		Actions: append(slices.Clone(acts), bot.Action{Kind: bot.ActForward, Text: "scam"})}}}
	if err := st.Begin(ctx, store.JournalEntry{Key: ev.Key(), Event: ev, Verdict: v, At: ev.At, Begun: ev.At, Case: early.ID}); err != nil {
		t.Fatal(err)
	}
	return early
}

// amendedCases waits until st's first case, open or decided, is no longer
// being tried, and returns every case.
func amendedCases(t *testing.T, st store.Store) []store.Case {
	t.Helper()
	var all []store.Case
	testsync.Eventually(t, "the case amended", func() bool {
		all = nil
		for _, status := range []store.CaseStatus{store.CaseOpen, store.CaseDecided} {
			cs, err := st.Cases(context.Background(), status)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, cs...)
		}
		return len(all) >= 1 && len(all[0].Trying) == 0
	})
	return all
}

// TestKeptCaseNotCarriedOutAgain: a vigie stopped while its verdict's
// actions were being tried left the journal naming the case on the desk;
// a CM kept the message meanwhile. The vigie that carries the verdict out
// again from the journal obeys the CM: nothing is asked of the platform,
// the case stays kept, amended to say which actions were dropped for the
// decision, and the journal entry is done.
func TestKeptCaseNotCarriedOutAgain(t *testing.T) {
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL())
	ctx := context.Background()
	now := time.Now()
	ev := bot.Event{ID: "m-1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-7", Name: "Bob"}, Text: "FREE NITRO here", At: now.Add(-5 * time.Minute)}
	early := leftBeingTried(t, st, ev, true, bot.Action{Kind: bot.ActDelete}, bot.Action{Kind: bot.ActTimeout, Duration: 10 * time.Minute})
	if _, err := st.DecideCase(ctx, early.ID, "keep", "telegram:42", "", now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}

	in := start(t, discordFailingRules, map[string]string{"VIGIE_REDIS_URL": srv.URL()}, func(c *daemon.Config) { c.RecoverAfter = time.Millisecond })
	all := amendedCases(t, st)
	if len(all) != 1 || all[0].ID != early.ID || all[0].Outcome != "keep" ||
		!strings.HasSuffix(all[0].Reason, "decided keep by telegram:42 while vigie was acting; dropped for the decision: delete, timeout(10m)") ||
		len(all[0].NotDone) != 2 {
		t.Errorf("cases = %+v\nwant the one kept, amended to say its actions were dropped for the decision", all)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if calls := in.chat.Calls(); len(calls) != 0 {
		t.Errorf("calls = %q, want none: the CM kept the message", calls)
	}
	if left, err := st.Unfinished(ctx, now.Add(time.Hour), now); err != nil || len(left) != 0 {
		t.Errorf("journal after the verdict was carried out again = %+v, %v; want it done", left, err)
	}
}

// TestKeepBeforeKillIsObeyed: a vigie process on Redis forwards a scam
// whose delete Discord holds; a CM keeps the message from its case (POST
// /v1/cases/ID/decision), and the process is killed (SIGKILL) before the
// delete ends. The next vigie on the same Redis takes the verdict from the
// journal and obeys the CM: the message is not deleted again, its author
// not timed out, and the kept case says the actions were dropped for the
// decision.
func TestKeepBeforeKillIsObeyed(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills a vigie process")
	}
	h := startHeldScam(t, "700000000000000302")
	f, guild, deletes, release, first, st := h.f, h.guild, h.deletes, h.release, h.first, h.st
	early := h.beingTried(t, false)
	req, err := http.NewRequest("POST", "http://"+first.addr+"/v1/cases/"+early.ID+"/decision",
		strings.NewReader(`{"outcome": "keep", "by": "ann"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+first.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("keep on %s = %d", early.ID, resp.StatusCode)
	}
	first.kill()
	release()

	second := h.takeOver(t)
	all := amendedCases(t, st)
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("DELETE", deletes); n != 1 {
		t.Errorf("the delete was asked %d times, want once: none after the CM kept the message", n)
	}
	if n := f.Count("PATCH", "/guilds/"+guild+"/members/"); n != 0 {
		t.Errorf("%d timeouts asked after the CM kept the message, want none", n)
	}
	if len(all) != 1 || all[0].ID != early.ID || all[0].Outcome != "keep" ||
		!strings.HasSuffix(all[0].Reason, "decided keep by http:ann while vigie was acting; dropped for the decision: delete, timeout(10m)") {
		t.Errorf("cases after the restart = %+v\nwant the one kept, amended to say its actions were dropped for the decision", all)
	}
}

// heldScam is a vigie process on Redis (first) whose Discord gateway took a
// scam from the fake Discord (f), which holds the scam's delete until
// release; st reads that Redis.
type heldScam struct {
	f              *discordfake.Server
	guild, deletes string
	release        func()
	srv            *redistest.Server
	first          *vigieProcess
	st             *redis.Store
}

// startHeldScam builds vigie, starts it with discordFailingRules on a
// redis-server of the test's own, and has the fake Discord's gateway send
// it the scam msgID, whose delete it holds.
func startHeldScam(t *testing.T, msgID string) *heldScam {
	t.Helper()
	guild := fmt.Sprint(uint64(190_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	deletes := "/channels/" + channel + "/messages/" + msgID
	release := f.Hold(func(c discordfake.Call) bool { return c.Method == "DELETE" && c.Path == deletes })

	srv := redistest.Start(t)
	first := startDiscordProcess(t, discordFailingRules, srv, f, guild)
	testsync.Eventually(t, "the gateway taking the scam", func() bool {
		return f.Message(guild, channel, msgID, "600000000000000007", "FREE NITRO here")
	})
	st := redistest.Open(t, srv.URL())
	return &heldScam{f: f, guild: guild, deletes: deletes, release: release, srv: srv, first: first, st: st}
}

// beingTried waits for the one open case, its actions being tried (and,
// withCard, its card recorded), and returns it.
func (h *heldScam) beingTried(t *testing.T, withCard bool) store.Case {
	t.Helper()
	ctx := context.Background()
	var early store.Case
	testsync.Eventually(t, "the case being tried", func() bool {
		open, err := h.st.Cases(ctx, store.CaseOpen)
		if err != nil || len(open) != 1 || len(open[0].Trying) == 0 {
			return false
		}
		early = open[0]
		if !withCard {
			return true
		}
		cards, err := h.st.CaseCards(ctx, early.ID)
		return err == nil && len(cards) == 1
	})
	return early
}

// takeOver starts the in-process vigie that takes over from the killed
// first process (takeOverOnDiscord).
func (h *heldScam) takeOver(t *testing.T) *instance {
	t.Helper()
	return takeOverOnDiscord(t, discordFailingRules, h.srv, h.f, h.guild)
}

// startDiscordProcess builds vigie and runs it, as vigie-1, on rules and
// the redis-server srv, its Discord the fake f with the one guild.
func startDiscordProcess(t *testing.T, rules string, srv *redistest.Server, f *discordfake.Server, guild string) *vigieProcess {
	t.Helper()
	return startDiscordProcessOn(t, rules, srv.URL(), f, guild)
}

// killLeaseTTL is the leases of the kill tests' vigies, the killed
// process's and the one that takes over from it, set alike on both
// (VIGIE_LEASE_TTL, VIGIE_LEASE_TTL_MAX): the first takes its shard on a new
// Redis 3.6s after it starts, not 18s, and the next takes it over once
// the killed one's 3s lease ran out, not 15s.
const killLeaseTTL = "3s"

// startDiscordProcessOn is startDiscordProcess on the Redis of redisURL.
func startDiscordProcessOn(t *testing.T, rules, redisURL string, f *discordfake.Server, guild string) *vigieProcess {
	t.Helper()
	bin, config := vigieWith(t, rules)
	return startProcess(t, bin, "vigie-1", config, redisURL, []string{
		"VIGIE_LEASE_TTL=" + killLeaseTTL, "VIGIE_LEASE_TTL_MAX=" + killLeaseTTL,
		"DISCORD_TOKEN=" + discordfake.Token,
		"DISCORD_API_URL=" + f.APIURL(),
		"DISCORD_GUILDS=" + guild,
		"DISCORD_DESK_CHANNEL=" + deskChannel,
	})
}

// takeOverOnDiscord starts the in-process vigie, on rules, that takes over
// from a killed vigie process on the same redis-server srv, with a Discord
// connector to the same fake f and guild, its journal's unfinished
// verdicts taken again at once.
func takeOverOnDiscord(t *testing.T, rules string, srv *redistest.Server, f *discordfake.Server, guild string) *instance {
	t.Helper()
	cl := discordClient(t, f, guild)
	env := map[string]string{"VIGIE_REDIS_URL": srv.URL(), "VIGIE_LEASE_TTL": killLeaseTTL, "VIGIE_LEASE_TTL_MAX": killLeaseTTL}
	return start(t, rules, env, func(c *daemon.Config) {
		c.RecoverAfter = time.Millisecond
		c.Connectors = []daemon.Connector{discordConnector(cl)}
	})
}

// TestMilderDecisionNotCarriedOutAgain: a vigie stopped while a scam's
// delete and ban were being tried left the journal naming the case on the
// desk; a CM chose a timeout meanwhile, milder than the ban. The vigie that
// carries the verdict out again from the journal, through Discord, obeys
// the CM: the decision on the author replaces the verdict's ban (the
// delete, on the message, goes on), the case says the ban was dropped for
// the decision, and the journal entry is done.
func TestMilderDecisionNotCarriedOutAgain(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 3)
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL())
	ctx := context.Background()
	now := time.Now()
	const author = "600000000000000007"
	ev := bot.Event{ID: "700000000000000303", Platform: "discord", Kind: bot.KindMessage, Space: guild, Channel: channel,
		Author: bot.Author{ID: author, Name: "Bob"}, Text: "FREE NITRO here", At: now.Add(-5 * time.Minute)}
	early := leftBeingTried(t, st, ev, true, bot.Action{Kind: bot.ActDelete}, bot.Action{Kind: bot.ActBan})
	if _, err := st.DecideCase(ctx, early.ID, "timeout(1h)", "telegram:42", "", now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}

	in := start(t, discordFailingRules, map[string]string{"VIGIE_REDIS_URL": srv.URL()}, func(c *daemon.Config) {
		c.RecoverAfter = time.Millisecond
		c.Connectors = []daemon.Connector{discordConnector(cl)}
	})
	all := amendedCases(t, st)
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	want := "decided timeout(1h) by telegram:42 while vigie was acting; dropped for the decision: ban"
	if len(all) != 1 || all[0].ID != early.ID || all[0].Outcome != "timeout(1h)" || !strings.HasSuffix(all[0].Reason, want) ||
		!all[0].CarriedOut(bot.ActDelete) || all[0].CarriedOut(bot.ActBan) {
		t.Errorf("cases = %+v\nwant the one decided, amended to end %q, the delete carried out, the ban not", all, want)
	}
	if n := f.Count("DELETE", "/channels/"+ev.Channel+"/messages/"+ev.ID); n != 1 {
		t.Errorf("the delete was asked %d times, want once: the message is the verdict's to delete", n)
	}
	if n := f.Count("PUT", "/guilds/"+guild+"/bans/"+author); n != 0 {
		t.Errorf("the ban was asked %d times after the CM chose a timeout, want none", n)
	}
	if left, err := st.Unfinished(ctx, now.Add(time.Hour), now); err != nil || len(left) != 0 {
		t.Errorf("journal after the verdict was carried out again = %+v, %v; want it done", left, err)
	}
}
