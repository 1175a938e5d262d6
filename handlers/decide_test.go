package handlers_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

func TestParseOutcome(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "keep", want: "keep"},
		{in: " Delete ", want: "delete"},
		{in: "unban", want: "unban"},
		{in: "Untimeout", want: "untimeout"},
		{in: "untimeout(1h)", err: `outcome "untimeout(1h)": untimeout takes no argument`},
		{in: "ban", want: "ban"},
		{in: "ban(7d)", want: "ban(7d)"},
		{in: "timeout(90m)", want: "timeout(1h30m)"},
		{in: `reply("merci, on regarde")`, want: `reply("merci, on regarde")`},
		{in: "timeout(banana)", err: `outcome "timeout(banana)": invalid duration "banana" (want a number and a unit: 30s, 10m, 2h, 7d, 1w)`},
		{in: "ban(2w)", want: "ban(14d)"},
		{in: "ban(1d12h)", want: "ban(36h)"},
		{in: "ban(3651d)", err: `outcome "ban(3651d)": bad duration "3651d": longer than ten years`},
		{in: "ban(7d", err: `outcome "ban(7d": missing )`},
		{in: "keep(1h)", err: `outcome "keep(1h)": keep takes no argument`},
		{in: "reply", err: `outcome "reply": reply needs a quoted text, like reply("merci")`},
		{in: "answer", want: "answer"},
		{in: "nuke", err: `outcome "nuke": want keep, delete, hide, unhide, kick, ban, unban, timeout, untimeout, reply, answer, lockdown or slowmode`},
		{in: "lockdown(10m)", want: "lockdown(10m)"},
		{in: "lockdown", err: `outcome "lockdown": lockdown needs a duration, like lockdown(10m)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			o, err := handlers.ParseOutcome(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.String() != tt.want {
				t.Errorf("outcome = %s, want %s", o, tt.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name     string
		platform string
		outcome  string
		errs     map[string][]error
		calls    []string
		recorded string // outcome stored in the case
		err      string
		cases    []string // open cases after the decision
	}{
		{name: "keep touches nothing", platform: "discord", outcome: "keep", recorded: "keep"},
		{name: "ban", platform: "discord", outcome: "ban(7d)", calls: []string{"ban(7d)"}, recorded: "ban(7d)"},
		{name: "timeout takes the suggested duration", platform: "discord", outcome: "timeout",
			calls: []string{"timeout(10m)"}, recorded: "timeout(10m)"},
		{name: "unhide overturns a hide", platform: "facebook", outcome: "unhide",
			calls: []string{"unhide"}, recorded: "unhide"},
		{name: "untimeout overturns a timeout", platform: "discord", outcome: "untimeout",
			calls: []string{"untimeout"}, recorded: "untimeout"},
		{name: "a page cannot untimeout: refused, the case stays open", platform: "facebook", outcome: "untimeout",
			err:   "case c-tests-000001: not possible on this platform: facebook cannot untimeout",
			cases: []string{"insult: insult"}},
		{name: "reply", platform: "facebook", outcome: `reply("merci")`,
			calls: []string{`reply("merci")`}, recorded: `reply("merci")`},
		{name: "retryable failure then success", platform: "discord", outcome: "delete",
			errs:  map[string][]error{"delete": {errors.New("502 bad gateway")}},
			calls: []string{"delete -> error", "delete"}, recorded: "delete"},
		{name: "the platform cannot: refused, the case stays open", platform: "facebook", outcome: "kick",
			err:   "case c-tests-000001: not possible on this platform: facebook cannot kick",
			cases: []string{"insult: insult"}},
		{name: "platform off: refused, the case stays open", platform: "forum", outcome: "delete",
			err:   `case c-tests-000001: not possible on this platform: vigie does not act on "forum" (the platform is off, or its source carries out no action): keep is the only outcome`,
			cases: []string{"insult: insult"}},
		{name: "platform off: keep is recorded", platform: "forum", outcome: "keep", recorded: "keep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				discord := &chat{recorder: recorder{name: "discord", errs: tt.errs}}
				facebook := &page{recorder{name: "facebook", errs: tt.errs}}
				st := memory.New(memory.WithCaseEpoch("tests"))
				m, reg := newModerator(t, st, nil, discord, facebook)
				c, err := st.OpenCase(ctx, store.Case{Event: event(tt.platform), Rule: "insult", Reason: "insult",
					Suggested: []bot.Action{{Kind: bot.ActTimeout, Duration: 10 * time.Minute}}})
				if err != nil {
					t.Fatal(err)
				}

				decided, err := m.Decide(ctx, c.ID, tt.outcome, "telegram:42")
				if tt.err == "" && err != nil || tt.err != "" && (err == nil || err.Error() != tt.err) {
					t.Fatalf("Decide error = %v\nwant %q", err, tt.err)
				}
				if tt.recorded == "" {
					// Refused: nothing recorded.
					if decided.Status != store.CaseOpen || decided.Outcome != "" || !errors.Is(err, handlers.ErrCannot) {
						t.Errorf("case = %s %q, error %v; want open, no outcome, ErrCannot", decided.Status, decided.Outcome, err)
					}
				} else if decided.Status != store.CaseDecided || decided.Outcome != tt.recorded || decided.DecidedBy != "telegram:42" {
					t.Errorf("case = %s %q by %q, want decided %q by telegram:42",
						decided.Status, decided.Outcome, decided.DecidedBy, tt.recorded)
				}
				calls := discord.Calls()
				if tt.platform == "facebook" {
					calls = facebook.Calls()
				}
				if !slices.Equal(calls, tt.calls) {
					t.Errorf("calls = %q, want %q", calls, tt.calls)
				}
				if got := openCases(t, st); !slices.Equal(got, tt.cases) {
					t.Errorf("open cases = %q\nwant %q", got, tt.cases)
				}
				// A refused decision changes nothing, the gauge included (the
				// test opened the case behind the moderator's back).
				if got, want := counts(t, reg)["cases_open"], float64(len(tt.cases)); tt.recorded != "" && got != want {
					t.Errorf("cases_open = %v, want %v", got, want)
				}
			})
		})
	}
}

// A CM who sends an FAQ case's suggested answer (the answer button, or the
// same text by hand) teaches the FAQ the question's wording; another reply,
// or another case, teaches nothing.
func TestDecideLearnsFAQWordings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		discord := &chat{recorder: recorder{name: "discord"}}
		st := memory.New(memory.WithCaseEpoch("tests"))
		m, _ := newModerator(t, st, nil, discord)
		open := func(rule, text string, suggested ...bot.Action) string {
			ev := event("discord")
			// each from another member: one member's cases are grouped
			ev.ID, ev.Text, ev.Author.ID = ev.ID+text, text, "member "+text
			c, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: rule, Reason: "faq: near miss", Suggested: suggested})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		hours := bot.Action{Kind: bot.ActReply, Text: "9h-19h"}
		for _, d := range []struct{ id, outcome string }{
			{open("faq:hours", "c'est ouvert lundi ?", hours), "answer"},
			{open("faq:hours", "vous ouvrez demain ?", hours), `reply("9h-19h")`},
			{open("faq:hours", "et le dimanche ?", hours), `reply("Fermé le dimanche.")`},
			{open("insult", "idiot", hours), "answer"},
		} {
			if _, err := m.Decide(ctx, d.id, d.outcome, "telegram:42"); err != nil {
				t.Fatalf("%s %s: %v", d.id, d.outcome, err)
			}
		}
		if _, err := m.Decide(ctx, open("faq", "bonjour ?"), "answer", "telegram:42"); err == nil || !strings.Contains(err.Error(), "suggests no reply") {
			t.Errorf("answer without a suggested reply: %v", err)
		}
		ws, err := st.FAQWordings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range ws {
			got = append(got, w.Entry+": "+w.Text+" by "+w.By)
		}
		want := []string{"hours: c'est ouvert lundi ? by telegram:42", "hours: vous ouvrez demain ? by telegram:42"}
		if !slices.Equal(got, want) {
			t.Errorf("learned %q, want %q", got, want)
		}
		if calls := discord.Calls(); !slices.Contains(calls, `reply("9h-19h")`) {
			t.Errorf("calls = %q, want the suggested answer sent", calls)
		}
	})
}

func TestDecideTwice(t *testing.T) {
	ctx := context.Background()
	discord := &chat{recorder: recorder{name: "discord"}}
	st := memory.New(memory.WithCaseEpoch("tests"))
	m, _ := newModerator(t, st, nil, discord)
	c, err := st.OpenCase(ctx, store.Case{Event: event("discord"), Reason: "insult"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decide(ctx, c.ID, "ban", "telegram:1"); err != nil {
		t.Fatal(err)
	}
	first, err := m.Decide(ctx, c.ID, "keep", "telegram:2")
	if !errors.Is(err, store.ErrDecided) {
		t.Fatalf("second decision: error %v, want ErrDecided", err)
	}
	if first.Outcome != "ban" || first.DecidedBy != "telegram:1" {
		t.Errorf("second decision returned %q by %q, want the first one", first.Outcome, first.DecidedBy)
	}
	if want := []string{"ban"}; !slices.Equal(discord.Calls(), want) {
		t.Errorf("calls = %q, want %q (only the first decision acts)", discord.Calls(), want)
	}
	if _, err := m.Decide(ctx, "c-999999", "keep", "telegram:1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown case: error %v, want ErrNotFound", err)
	}
}

// An untimeout is the CM saying the rule's timeout was wrong: the report counts
// it against the rule, as it does keep, unhide and unban.
func TestUntimeoutOverturnsTheRule(t *testing.T) {
	ctx := context.Background()
	discord := &chat{recorder: recorder{name: "discord"}}
	st := memory.New(memory.WithCaseEpoch("tests"))
	m, _ := newModerator(t, st, nil, discord)
	c, err := st.OpenCase(ctx, store.Case{Event: event("discord"), Rule: "flood", Category: "flood", Reason: "flood",
		Suggested: []bot.Action{{Kind: bot.ActTimeout, Duration: 10 * time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	decided, err := m.Decide(ctx, c.ID, "untimeout", "discord:7")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"untimeout"}; !slices.Equal(discord.Calls(), want) {
		t.Errorf("calls = %q, want %q", discord.Calls(), want)
	}
	if !report.Overturned(decided.Outcome) {
		t.Errorf("outcome %q is not an overturn", decided.Outcome)
	}
	r, err := report.Build(ctx, report.Source{Store: st}, decided.DecidedAt.Add(-time.Hour), decided.DecidedAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.Cases.Overturned != 1 || r.Cases.ByOutcome["untimeout"] != 1 {
		t.Errorf("report cases = %+v, want one untimeout, overturned", r.Cases)
	}
	var flood *report.RuleCount
	for i := range r.ByRule {
		if r.ByRule[i].Rule == "flood" {
			flood = &r.ByRule[i]
		}
	}
	if flood == nil || flood.Overturned != 1 {
		t.Errorf("report rules = %+v, want flood overturned once", r.ByRule)
	}
}

func TestWithArgument(t *testing.T) {
	for _, tt := range []struct{ outcome, arg, want string }{
		{"reply", `merci, "vraiment"`, `reply("merci, \"vraiment\"")`},
		{"timeout", "2h", "timeout(2h)"},
		{" ban ", " 7d ", "ban(7d)"},
		{"delete", "", "delete"},
		{"timeout(1h)", "2h", "timeout(1h)"},
	} {
		got := handlers.WithArgument(tt.outcome, tt.arg)
		if got != tt.want {
			t.Errorf("WithArgument(%q, %q) = %q, want %q", tt.outcome, tt.arg, got, tt.want)
		}
		if _, err := handlers.ParseOutcome(got); err != nil {
			t.Errorf("%q does not parse: %v", got, err)
		}
	}
}
