package discord

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// This file runs the Discord connector with the real rules engine, handlers and
// memory store, wired the way the daemon wires them, against the fake Discord.

const acceptanceRules = `
counters:
  msgs: {key: author.id, window: 10s}
rules:
  - name: flood
    category: flood
    when: not author.staff and counters.msgs > 5
    do: [delete, timeout(10m)]
  - name: scam
    category: spam
    when: author.account_age < duration("7d") and text contains "scam.example"
    do: [delete, 'forward("scam link from a fresh account")']
`

func TestAcceptance(t *testing.T) {
	f := newFakeDiscord(t)
	reg := prometheus.NewRegistry()
	// The drain's time is longer than the test waits for Run to return: a
	// shutdown that waited it out would fail "shutdown is prompt".
	c, logs := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id}, ModeratorRoles: []string{"Moderator"}, Registerer: reg,
		DrainTimeout: 3 * testsync.Patience})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Parse("rules.yaml", []byte(acceptanceRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	engine := rules.NewEngine(rs, st, rules.Options{})
	cmds := &desktest.Commands{Store: st}
	moderator, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st, Desk: desktest.Desk{Poster: c.Desk(cmds)}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = moderator

	// The daemon's loops: events evaluated and acted on, cases posted to the desk.
	out := desktest.Serve(t, engine, moderator)

	runCtx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- c.Run(runCtx, out) }()
	t.Cleanup(stop)
	<-f.Ready()
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	f.WaitFor(t, "PUT", "/applications/"+appID+"/commands", 1, nil)

	n := 0
	say := func(from user, text string, at time.Time) string {
		n++
		id := snowflake(at, n)
		f.Dispatch("MESSAGE_CREATE", message(id, general, from, at, text))
		return id
	}

	t.Run("a burst is deleted and timed out, through a 429", func(t *testing.T) {
		f.Fail("PATCH", "/guilds/"+guildID+"/members/", 429, `{"message": "You are being rate limited.", "retry_after": 0.05, "global": false}`, nil, 1)
		var last string
		now := time.Now()
		for i := range 6 {
			last = say(bob, fmt.Sprintf("spam %d", i), now.Add(time.Duration(i)*time.Second))
		}
		f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/"+last, 1, nil)
		mute := f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+bob.id, 2, nil)
		until, err := time.Parse(time.RFC3339, fmt.Sprint(mute.Body["communication_disabled_until"]))
		if d := time.Until(until); err != nil || d < 9*time.Minute || d > 11*time.Minute {
			t.Errorf("timed out until %v (%v), want 10m from now", mute.Body["communication_disabled_until"], err)
		}
	})

	var caseID, cardMsg, scam string
	t.Run("a scam link from a fresh account is deleted and becomes a card", func(t *testing.T) {
		scam = say(newbie, "free nitro on https://scam.example/gift", time.Now())
		f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/"+scam, 1, nil)
		card := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
		content := fmt.Sprint(card.Body["content"])
		if !strings.Contains(content, "scam link from a fresh account") || !strings.Contains(content, "Newbie") {
			t.Errorf("card = %s", content)
		}
		raw := string(card.Raw)
		for _, b := range []string{":keep", ":delete", ":mute", ":ban"} {
			if !strings.Contains(raw, `"custom_id":"vigie:v1:`) || !strings.Contains(raw, b+`"`) {
				t.Errorf("card lacks button %s: %s", b, raw)
			}
		}
		i := strings.Index(raw, `"custom_id":"`) + len(`"custom_id":"`)
		caseID, _, _ = parseCustomID(raw[i : i+strings.IndexByte(raw[i:], '"')])
		if cs, _ := st.Case(context.Background(), caseID); cs.Status != store.CaseOpen || cs.Event.ID != scam {
			t.Errorf("stored case = %+v", cs)
		}
		// Where the card is, in the store, for any process to edit it.
		cards := postedCards(t, st, caseID)
		if cards[0].Platform != "discord" || cards[0].Chat != deskID || cards[0].Message == "" {
			t.Fatalf("cards of %s in the store = %v, want the one posted", caseID, cards)
		}
		cardMsg = cards[0].Message
	})

	t.Run("a stranger's ban is refused", func(t *testing.T) {
		f.Dispatch("INTERACTION_CREATE", press("960000000000000001", mallory, cardMsg, customID(caseID, "ban")))
		if got := told(t, f, "960000000000000001"); !strings.Contains(got, "Sorry") {
			t.Errorf("answer = %s", got)
		}
		if cs, _ := st.Case(context.Background(), caseID); cs.Status != store.CaseOpen {
			t.Errorf("case = %+v, want it still open", cs)
		}
		if f.Count("PUT", "/guilds/"+guildID+"/bans/") != 0 {
			t.Errorf("banned anyway")
		}
		if !strings.Contains(logs.String(), "user=discord:"+mallory.id) {
			t.Errorf("the refusal is not audited")
		}
	})

	t.Run("a moderator's ban bans and the card says who decided", func(t *testing.T) {
		f.Dispatch("INTERACTION_CREATE", press("960000000000000002", mod, cardMsg, customID(caseID, "ban")))
		ack := f.WaitFor(t, "POST", "/interactions/960000000000000002/", 1, nil)
		if ack.Body["type"] != float64(6) {
			t.Errorf("ack = %s", ack.Raw)
		}
		f.WaitFor(t, "PUT", "/guilds/"+guildID+"/bans/"+newbie.id, 1, nil)
		edit := f.WaitFor(t, "PATCH", "/channels/"+deskID+"/messages/"+cardMsg, 1, nil)
		content := fmt.Sprint(edit.Body["content"])
		if !strings.Contains(content, "Banned") || !strings.Contains(content, "Mo (discord:"+mod.id+")") {
			t.Errorf("card = %s", content)
		}
		if comps, _ := edit.Body["components"].([]any); comps == nil || len(comps) != 0 {
			t.Errorf("buttons left on the card: %s", edit.Raw)
		}
		if cs, _ := st.Case(context.Background(), caseID); cs.Status != store.CaseDecided || cs.Outcome != "ban" || cs.DecidedBy != "discord:"+mod.id {
			t.Errorf("case = %+v", cs)
		}
	})

	t.Run("a second press on a decided case says who decided first", func(t *testing.T) {
		f.Dispatch("INTERACTION_CREATE", press("960000000000000003", cm, cardMsg, customID(caseID, "keep")))
		if ack := f.WaitFor(t, "POST", "/interactions/960000000000000003/", 1, nil); ack.Body["type"] != float64(6) {
			t.Errorf("ack = %s", ack.Raw)
		}
		note := f.WaitFor(t, "POST", "/webhooks/"+appID+"/tok-960000000000000003", 1, nil)
		if got := fmt.Sprint(note.Body["content"]); !strings.Contains(got, "already decided by "+mod.name+":") || note.Body["flags"] != float64(64) {
			t.Errorf("note to the late moderator = %s", note.Raw)
		}
		// The card is the first decision's, as the process that decided it
		// showed it: the late press does not write it again.
		testsync.Eventually(t, "the late press's work over", func() bool { return c.work.Busy() == 0 })
		edits := f.Calls("PATCH", "/channels/"+deskID+"/messages/"+cardMsg)
		if len(edits) != 1 {
			t.Errorf("%d edits of the card, want the decision's only", len(edits))
		}
		if content := fmt.Sprint(edits[len(edits)-1].Body["content"]); !strings.Contains(content, "Banned") || strings.Contains(content, "Kept") {
			t.Errorf("card = %s", content)
		}
		if n := f.Count("PUT", "/guilds/"+guildID+"/bans/"); n != 1 {
			t.Errorf("%d bans, want 1", n)
		}
		if cs, _ := st.Case(context.Background(), caseID); cs.Outcome != "ban" || cs.DecidedBy != "discord:"+mod.id {
			t.Errorf("case = %+v", cs)
		}
	})

	t.Run("a rule's timeout is removed from its card", func(t *testing.T) {
		ctx := context.Background()
		ev := bot.Event{ID: "1002", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id, Name: "Bob"}, Text: "spam"}
		cs, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "flood", Category: "flood", Reason: "flood",
			Suggested: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute}}})
		if err != nil {
			t.Fatal(err)
		}
		before := f.Count("POST", "/channels/"+deskID+"/messages")
		if err := (desktest.Desk{Poster: c.Desk(cmds)}).PostCase(ctx, cs); err != nil {
			t.Fatal(err)
		}
		card := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", before+1, nil)
		if raw := string(card.Raw); !strings.Contains(raw, `"custom_id":"`+customID(cs.ID, "unmute")+`"`) || !strings.Contains(raw, "Remove timeout") {
			t.Errorf("card lacks the remove-timeout button: %s", raw)
		}
		cards := postedCards(t, st, cs.ID)
		mutes := f.Count("PATCH", "/guilds/"+guildID+"/members/"+bob.id)
		f.Dispatch("INTERACTION_CREATE", press("960000000000000004", cm, cards[0].Message, customID(cs.ID, "unmute")))
		lift := f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+bob.id, mutes+1, nil)
		if string(lift.Raw) != `{"communication_disabled_until":null}` {
			t.Errorf("untimeout body = %s", lift.Raw)
		}
		edit := f.WaitFor(t, "PATCH", "/channels/"+deskID+"/messages/"+cards[0].Message, 1, nil)
		if content := fmt.Sprint(edit.Body["content"]); !strings.Contains(content, "Timeout removed") || !strings.Contains(content, "discord:"+cm.id) {
			t.Errorf("card = %s", content)
		}
		if got, _ := st.Case(ctx, cs.ID); got.Status != store.CaseDecided || got.Outcome != "untimeout" || got.DecidedBy != "discord:"+cm.id {
			t.Errorf("case = %+v", got)
		}
	})

	t.Run("an alert reaches the desk channel and pings no one", func(t *testing.T) {
		before := f.Count("POST", "/channels/"+deskID+"/messages")
		if err := c.Desk(cmds).Alert(context.Background(), "raid on #general, @everyone beware"); err != nil {
			t.Fatal(err)
		}
		a := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", before+1, nil)
		am, _ := a.Body["allowed_mentions"].(map[string]any)
		// markdown escaped: Discord shows it as written
		if a.Body["content"] != `🚨 raid on \#general, @everyone beware` || am == nil || len(am["parse"].([]any)) != 0 {
			t.Errorf("alert = %s", a.Raw)
		}
		if err := c.SetDesk("", nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Desk(cmds).Alert(context.Background(), "nowhere"); !errors.Is(err, errNoDesk) {
			t.Errorf("alert without a desk channel = %v", err)
		}
		if err := c.SetDesk(deskID, []string{"discord:" + cm.id}, nil); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("slash commands", func(t *testing.T) {
		// A refusal or bad arguments are answered at once; a command is
		// acknowledged ("thinking…", within Discord's 3 seconds however slow the
		// store), then its answer replaces the acknowledgement.
		// Every command is acknowledged at once ("thinking…", only for its
		// author), and answered by editing it.
		ask := func(id string, from user, sub string, opts ...map[string]any) string {
			f.Dispatch("INTERACTION_CREATE", slash(id, from, sub, opts...))
			return told(t, f, id)
		}
		pauseFor := func(v string) map[string]any { return map[string]any{"name": "for", "type": 3, "value": v} }
		tests := []struct {
			id, sub string
			from    user
			opts    []map[string]any
			want    string
		}{
			{"970000000000000001", "status", cm, nil, "mode: enforce, open cases: 0"},
			{"970000000000000002", "pause", cm, []map[string]any{pauseFor("30m")}, "paused by discord:" + cm.id},
			{"970000000000000003", "resume", mallory, nil, "Sorry, only the moderators of this server can do that."},
			{"970000000000000004", "resume", mod, nil, "resumed by discord:" + mod.id},
			{"970000000000000005", "queue", mod, nil, "No open case."},
			{"970000000000000006", "pause", mod, []map[string]any{pauseFor("soon")}, "Write the pause like 30m, 2h or 1d."},
		}
		for _, tt := range tests {
			if got := ask(tt.id, tt.from, tt.sub, tt.opts...); got != tt.want {
				t.Errorf("/vigie %s by %s = %q, want %q", tt.sub, tt.from.name, got, tt.want)
			}
			if tt.id == "970000000000000002" {
				paused, until := moderator.Paused()
				if left := until.Sub(moderator.Now()); !paused || left > 30*time.Minute || left < 29*time.Minute {
					t.Errorf("paused %v until %s", paused, until)
				}
			}
		}
		if paused, _ := moderator.Paused(); paused {
			t.Errorf("still paused after resume and a bad pause")
		}
	})

	t.Run("interactions are counted", func(t *testing.T) {
		want := map[string]float64{"button,allowed": 3, "button,refused": 1, "command,allowed": 5, "command,refused": 1}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "vigie_discord_interactions_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, l.GetValue())
				}
				// Labels come sorted by name: result, then type.
				got[labels[1]+","+labels[0]] = m.GetCounter().GetValue()
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("vigie_discord_interactions_total = %v, want %v", got, want)
		}
	})

	t.Run("shutdown is prompt", func(t *testing.T) {
		stop()
		select {
		case err := <-runDone:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(testsync.Patience):
			t.Fatal("Run did not return")
		}
	})
}

// postedCards waits for the store to say where the case's cards are, and
// returns them.
func postedCards(t *testing.T, st store.Store, caseID string) []bot.CardRef {
	t.Helper()
	var cards []bot.CardRef
	testsync.Eventually(t, "the card recorded in the store", func() bool {
		var err error
		cards, err = st.CaseCards(context.Background(), caseID)
		return err == nil && len(cards) > 0
	})
	return cards
}
