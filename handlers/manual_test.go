package handlers_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// A moderator's command goes through the platform, the audit log (rule
// "manual", naming the moderator), the metrics, and closes the cases it
// settles.
func TestModerateBanClosesTheMembersCases(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	p := &chat{recorder: recorder{name: "discord"}}
	m, reg := newModerator(t, st, nil, p)
	ev := event("discord")
	open, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "insult", Reason: "insult", Opened: at})
	if err != nil {
		t.Fatal(err)
	}
	other := event("discord")
	other.ID, other.Author.ID = "m-2", "u-8"
	if _, err := st.OpenCase(ctx, store.Case{Event: other, Rule: "insult", Reason: "insult", Opened: at}); err != nil {
		t.Fatal(err)
	}
	member := bot.Event{Platform: "discord", Space: ev.Space, Author: ev.Author}
	text, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: member, Duration: 7 * 24 * time.Hour, Text: "raid", By: "discord:42"})
	// the chat's bans do not end by themselves: vigie lifts it, from memory
	if want := "Banned Bob for 7d, until 27 Nov 22:10 UTC (vigie lifts it then; its store is in memory: " +
		"a restart before then leaves the ban on, until /unban). (1 case closed)"; err != nil || text != want {
		t.Errorf("Moderate = %q, %v", text, err)
	}
	if got := p.Calls(); !slices.Equal(got, []string{"ban(7d)"}) {
		t.Errorf("platform calls = %q", got)
	}
	c, _ := st.Case(ctx, open.ID)
	if c.Status != store.CaseDecided || c.Outcome != "ban(7d)" || c.DecidedBy != "discord:42" {
		t.Errorf("case after /ban = %s %q by %q", c.Status, c.Outcome, c.DecidedBy)
	}
	if open, _ := st.Cases(ctx, store.CaseOpen); len(open) != 1 {
		t.Errorf("open cases = %d, want the other member's", len(open))
	}
	audit, _ := st.Audit(ctx, at.Add(-time.Hour))
	if len(audit) != 1 || audit[0].By != "discord:42" || audit[0].Verdict.Matches[0].Rule != handlers.ManualRule ||
		audit[0].Verdict.Matches[0].Reason != "/ban by discord:42: raid (until 27 Nov 22:10 UTC, lifted by vigie)" || len(audit[0].Verdict.Actions()) != 1 {
		t.Errorf("audit = %+v", audit)
	}
	if got := counts(t, reg)["discord/ban/done"]; got != 1 {
		t.Errorf("vigie_actions_total{discord,ban,done} = %v", got)
	}
}

// The moderator's answer names the member first: a name holding a
// right-to-left override does not turn the rest of it around.
func TestModerateIsolatesATurningName(t *testing.T) {
	ctx := context.Background()
	p := &chat{recorder: recorder{name: "discord"}}
	m, _ := newModerator(t, memory.New(), nil, p)
	member := bot.Event{Platform: "discord", Space: "g-1", Author: bot.Author{ID: "u-7", Name: "Bob\u202e"}}
	text, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: member, Duration: 7 * 24 * time.Hour, By: "discord:42"})
	if want := "Banned \u2068Bob\u202e\u2069 for 7d, until"; err != nil || !strings.HasPrefix(text, want) {
		t.Errorf("Moderate = %q, %v; want %q", text, err, want)
	}
	text, err = m.Moderate(ctx, bot.ModRequest{Command: bot.ModWarns, Target: member, By: "discord:42"})
	if want := "\u2068Bob\u202e\u2069 (discord u-7):"; err != nil || !strings.HasPrefix(text, want) {
		t.Errorf("/warns = %q, %v; want it opening with %q", text, err, want)
	}
}

// A platform that refuses (a missing right) leaves the case open, and the
// command is audited as failed; the moderator is told why.
func TestModerateRefusedByThePlatform(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	refused := &bot.ActionError{Op: bot.ActDelete, Err: errors.New("telegram deleteMessage: Bad Request: message can't be deleted (400)")}
	forbidden := &bot.ActionError{Op: bot.ActTimeout, Err: errors.New("discord PATCH /guilds/1/members/2: 403 Missing Permissions (code 50013)")}
	p := &chat{recorder: recorder{name: "discord", errs: map[string][]error{"timeout": {forbidden}, "delete": {refused}}}}
	m, reg := newModerator(t, st, nil, p)
	ev := event("discord")
	if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "insult", Reason: "insult", Opened: at}); err != nil {
		t.Fatal(err)
	}
	text, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModMute, Target: ev, By: "discord:42"})
	if err == nil || !strings.Contains(text, "Could not mute Bob: vigie lacks the right") {
		t.Errorf("Moderate = %q, %v", text, err)
	}
	// A moderator's /mute is a person's timeout: the platform gives it as
	// asked, even shorter than the member's current one.
	if p.mu.Lock(); len(p.byHand) != 1 || !p.byHand[0] {
		t.Errorf("the /mute's timeout asked by hand: %v, want [true]", p.byHand)
	}
	p.mu.Unlock()
	if open, _ := st.Cases(ctx, store.CaseOpen); len(open) != 1 {
		t.Errorf("open cases = %d, want the case kept open", len(open))
	}
	audit, _ := st.Audit(ctx, at.Add(-time.Hour))
	if len(audit) != 1 || audit[0].Failed == "" || len(audit[0].Verdict.Actions()) != 0 {
		t.Errorf("audit = %+v", audit)
	}
	if got := counts(t, reg)["discord/timeout/failed"]; got != 1 {
		t.Errorf("vigie_actions_total{discord,timeout,failed} = %v", got)
	}
}

// /warn strikes and warns, /warns shows strikes, cases and notes, /resetwarns
// lifts the strikes, /purge deletes each message it is given.
func TestModerateWarnsNotesPurge(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	p := &chat{recorder: recorder{name: "discord"}}
	m, _ := newModerator(t, st, nil, p)
	ev := event("discord")
	by := "discord:42"
	if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModWarn, Target: ev, Text: "no spam", By: by}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModNote, Target: ev, Text: "known spammer from the other server", By: by}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "insult", Reason: "insult", Opened: at}); err != nil {
		t.Fatal(err)
	}
	text, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModWarns, Target: ev, By: by, Private: true})
	for _, want := range []string{"Bob (discord u-7): 1 strike here", "1 case.", "insult", "📝 discord:42", "known spammer"} {
		if err != nil || !strings.Contains(text, want) {
			t.Errorf("/warns = %q, %v; want %q in it", text, err, want)
		}
	}
	if got := p.Calls(); !slices.Equal(got, []string{`reply("a warning from the moderators: no spam")`}) {
		t.Errorf("platform calls = %q", got)
	}
	if text, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModResetWarns, Target: ev, By: by}); err != nil || text != "1 strike lifted from Bob." {
		t.Errorf("/resetwarns = %q, %v", text, err)
	}
	if notes := m.NotesOn(ctx, ev); len(notes) != 1 || notes[0].By != by {
		t.Errorf("notes = %+v", notes)
	}
	msgs := []bot.Event{ev, ev, ev}
	msgs[1].ID, msgs[2].ID = "m-2", "m-3"
	text, err = m.Moderate(ctx, bot.ModRequest{Command: bot.ModPurge, Target: ev, Messages: msgs, By: by})
	if err != nil || text != "Deleted 3 messages of Bob. (1 case closed)" {
		t.Errorf("/purge = %q, %v", text, err)
	}
	if got := p.Calls(); len(got) != 4 || got[3] != "delete" {
		t.Errorf("platform calls = %q", got)
	}
}

// The report counts the moderators' commands under the rule "manual": a
// failed one as a hit without action.
func TestModerateCountedInReports(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	forbidden := &bot.ActionError{Op: bot.ActTimeout, Err: errors.New("403 Missing Permissions (code 50013)")}
	p := &chat{recorder: recorder{name: "discord", errs: map[string][]error{"timeout": {forbidden}}}}
	m, _ := newModerator(t, st, nil, p)
	ev := event("discord")
	if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: ev, By: "discord:42"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModMute, Target: ev, By: "discord:42"}); err == nil {
		t.Fatal("the mute did not fail")
	}
	r, err := report.Build(ctx, report.Source{Store: st}, at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var manual *report.RuleCount
	for i := range r.ByRule {
		if r.ByRule[i].Rule == handlers.ManualRule {
			manual = &r.ByRule[i]
		}
	}
	if manual == nil || manual.Hits != 2 || manual.Actions != 1 || r.ByAction["ban"] != 1 || r.ByAction["timeout"] != 0 {
		t.Errorf("report: manual = %+v, by action %v", manual, r.ByAction)
	}
}

// A member's name, in what vigie answers a moderator's command, is one line
// and cut: "Bob\n0 strikes here" writes no line of its own under /warns,
// whose first line still says who the strikes are about.
func TestModerateNamesTheMemberOnOneLine(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	p := &chat{recorder: recorder{name: "discord"}}
	m, _ := newModerator(t, st, nil, p)
	ev := event("discord")
	ev.Author.Name = "Bob\nno strike here, no case. " + strings.Repeat("x", 100)
	if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModWarn, Target: ev, Text: "no spam", By: "discord:42"}); err != nil {
		t.Fatal(err)
	}
	text, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModWarns, Target: ev, By: "discord:42"})
	first, _, _ := strings.Cut(text, "\n")
	if err != nil || !strings.HasPrefix(first, "Bob no strike here, no case. xxx") || !strings.Contains(first, "… (discord u-7): 1 strike here") {
		t.Errorf("/warns = %q, %v; want the name on the first line, cut, before the member's id", text, err)
	}
}
