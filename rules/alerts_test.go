package rules_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

const alertRules = `
timezone: Europe/Paris
office_hours: {mon-fri: "09:00-19:00"}
lists:
  insults: [idiot]
counters:
  joins: {key: space, window: 1m, when: 'kind == "join"'}
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [hide, strike, forward("insult")]
    office: forward
  - name: shouting
    category: abuse
    when: caps > 0.9 and len(text) > 8
    do: [delete]
    mode: shadow
alerts: [{name: wave, when: 'hits("abuse", "10m") >= 20', do: ['alert("Vague sur {{space}}")']}]
`

func TestAlertMinimalForm(t *testing.T) {
	rs := parse(t, alertRules)
	if len(rs.Alerts) != 1 {
		t.Fatalf("alerts: %+v", rs.Alerts)
	}
	a := rs.Alerts[0]
	if a.Name != "wave" || a.Window != 10*time.Minute || strings.Join(a.Targets, ",") != "abuse" ||
		a.Message != "Vague sur {{space}}" || a.When != `hits("abuse", "10m") >= 20` {
		t.Errorf("alert info %+v", a)
	}
	st := memory.New()
	defer st.Close()
	eng := rules.NewEngine(rs, st, rules.Options{})
	ctx := context.Background()
	night := paris(t, 5, 23, 0)
	held := 0
	for i := range 25 {
		at := night.Add(time.Duration(i) * 10 * time.Second)
		ev := msg(fmt.Sprint("i", i), fmt.Sprint("u", i%4), "quel idiot", at)
		ev.Space = "page-1"
		as, err := eng.Assess(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		// chat between the insults, and a few insults on another page, count nothing
		ok := msg(fmt.Sprint("ok", i), "fan", "merci", at.Add(time.Second))
		ok.Space = "page-1"
		asOK, err := eng.Assess(ctx, ok)
		if err != nil {
			t.Fatal(err)
		}
		other := msg(fmt.Sprint("o", i), "x", "quel idiot", at)
		other.Space = "page-2"
		if i >= 5 {
			other.Text = "bonjour"
		}
		asOther, err := eng.Assess(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if len(asOther.Alerts) != 0 {
			t.Fatalf("page-2 alert at %d: %+v", i, asOther.Alerts)
		}
		want := i >= 19
		if got := len(as.Alerts) == 1; got != want {
			t.Fatalf("insult %d: alerts %+v, want held %v", i+1, as.Alerts, want)
		}
		if want {
			held++
			if as.Alerts[0].Count != int64(i+1) || as.Message["wave"] != "Vague sur page-1" {
				t.Errorf("insult %d: %+v %q", i+1, as.Alerts[0], as.Message["wave"])
			}
			if len(asOK.Alerts) != 1 || asOK.Alerts[0].Count != int64(i+1) {
				t.Errorf("chat after insult %d: %+v (the wave still holds)", i+1, asOK.Alerts)
			}
		}
	}
	if held != 6 {
		t.Errorf("held %d times", held)
	}
	// eleven minutes later the window has emptied
	later := msg("late", "u1", "quel idiot", night.Add(25*10*time.Second+11*time.Minute))
	later.Space = "page-1"
	as, err := eng.Assess(ctx, later)
	if err != nil || len(as.Alerts) != 0 {
		t.Errorf("later: %+v %v", as.Alerts, err)
	}
	// a duplicate is not counted twice
	dup, err := eng.Assess(ctx, later)
	if err != nil || !dup.Verdict.Duplicate || len(dup.Alerts) != 0 {
		t.Errorf("duplicate: %+v %v", dup, err)
	}
}

func TestAlertBaseline(t *testing.T) {
	rs := parse(t, `
lists:
  insults: [idiot]
rules:
  - name: insult
    when: has_any(text, lists.insults)
    do: [hide]
alerts:
  - name: unusual
    when: 'hits("insult", "1h") >= 5 and hits("insult", "1h") > 3 * baseline("insult")'
    do: [alert("more insults than usual at this hour")]
`)
	st := memory.New()
	defer st.Close()
	eng := rules.NewEngine(rs, st, rules.Options{})
	ctx := context.Background()
	n := 0
	insult := func(at time.Time) rules.Assessment {
		n++
		as, err := eng.Assess(ctx, msg(fmt.Sprint("m", n), "u", "idiot", at))
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	day := time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC)
	// a week of 4 insults between 21:00 and 22:00: the usual level is 4
	for d := 7; d >= 1; d-- {
		for i := range 4 {
			insult(day.Add(-time.Duration(d)*24*time.Hour + time.Duration(i)*10*time.Minute))
		}
	}
	// tonight 12 insults are 3 times the usual: not more; the 13th is
	for i := range 13 {
		as := insult(day.Add(time.Duration(i) * 2 * time.Minute))
		if got, want := len(as.Alerts) == 1, i == 12; got != want {
			t.Fatalf("insult %d tonight: %+v", i+1, as.Alerts)
		}
	}
	// at 04:00, with no history at that hour, five insults are unusual
	for i := range 5 {
		as := insult(day.Add(7*time.Hour + time.Duration(i)*time.Minute))
		if got, want := len(as.Alerts) == 1, i == 4; got != want {
			t.Fatalf("insult %d at 04:00: %+v", i+1, as.Alerts)
		}
	}
}

func TestAlertOverCounters(t *testing.T) {
	rs := parse(t, `
counters:
  joins: {key: space, window: 1m, when: 'kind == "join"'}
rules:
  - name: noop
    when: "false"
alerts:
  - name: raid
    when: counters.joins >= 3 and kind == "join"
    do: ['alert("raid on {{space}}")']
`)
	if rs.Alerts[0].Window != 10*time.Minute || len(rs.Alerts[0].Targets) != 0 {
		t.Errorf("info %+v", rs.Alerts[0])
	}
	st := memory.New()
	defer st.Close()
	eng := rules.NewEngine(rs, st, rules.Options{})
	at := time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC)
	var last rules.Assessment
	for i := range 3 {
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "discord", Kind: bot.KindJoin, Space: "g", Author: bot.Author{ID: fmt.Sprint("new", i)}, At: at}
		var err error
		if last, err = eng.Assess(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(last.Alerts) != 1 || last.Message["raid"] != "raid on g" {
		t.Errorf("raid: %+v", last)
	}
}

// An engine told its caller reads neither the verdict's counter values, nor
// the matches' reasons, nor the alerts' messages builds none of them, and
// decides the same: the same matches, the same alerts with the same counts,
// the counters counted.
func TestAssessUnread(t *testing.T) {
	rs := parse(t, `
counters:
  joins: {key: space, window: 1m, when: 'kind == "join"'}
rules:
  - name: raid
    category: raid
    when: counters.joins >= 2
    do: [tag("raid")]
alerts:
  - name: raid
    when: counters.joins >= 3 and kind == "join"
    do: ['alert("raid on {{space}}")', lockdown(10m)]
`)
	full, lean := memory.New(), memory.New()
	defer full.Close()
	defer lean.Close()
	all := rules.NewEngine(rs, full, rules.Options{})
	some := rules.NewEngine(rs, lean, rules.Options{NoCounterValues: true, NoReasons: true, NoAlertMessages: true})
	at := time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC)
	for i := range 4 {
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "discord", Kind: bot.KindJoin, Space: "g", Author: bot.Author{ID: fmt.Sprint("new", i)}, At: at}
		a, err := all.Assess(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		b, err := some.Assess(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if a.Verdict.Counters["joins"] != int64(i+1) {
			t.Errorf("join %d: counters %v", i, a.Verdict.Counters)
		}
		if b.Verdict.Counters != nil || b.Message != nil {
			t.Errorf("join %d: built what is not read: counters %v, messages %v", i, b.Verdict.Counters, b.Message)
		}
		if i >= 2 && a.Message["raid"] != "raid on g" {
			t.Errorf("join %d: messages %v", i, a.Message)
		}
		for k, m := range b.Verdict.Matches {
			if m.Reason != "" || a.Verdict.Matches[k].Reason == "" {
				t.Errorf("join %d: reasons %q and %q", i, m.Reason, a.Verdict.Matches[k].Reason)
			}
			a.Verdict.Matches[k].Reason = ""
		}
		// the message left out is written when asked, as the full engine
		// wrote it, for the alerts that held only
		for _, name := range []string{"raid", "other"} {
			if got, want := b.AlertMessage(name, &ev), a.Message[name]; got != want {
				t.Errorf("join %d: message of %s %q, want %q", i, name, got, want)
			}
			if got, want := a.AlertMessage(name, &ev), a.Message[name]; got != want {
				t.Errorf("join %d: full engine's message of %s %q, want %q", i, name, got, want)
			}
		}
		a.Verdict.Counters = nil
		if fmt.Sprintf("%+v %+v %+v", a.Verdict, a.Alerts, a.Errors) != fmt.Sprintf("%+v %+v %+v", b.Verdict, b.Alerts, b.Errors) {
			t.Errorf("join %d:\n got %+v\nwant %+v", i, b, a)
		}
		// the rule from the second join on, the alert's lockdown from the third
		if len(b.Verdict.Matches) != min(i, 1)+min(max(i-1, 0), 1) || len(b.Alerts) != min(max(i-1, 0), 1) {
			t.Errorf("join %d: %+v", i, b)
		}
	}
}

// An alert that locks the place down adds the lockdown to the verdict of
// every event it holds for, as a match of its own; the rule file's tests
// read it in actions:, not in rules:.
func TestAlertLocksDown(t *testing.T) {
	rs := parse(t, `
counters:
  joins: {key: space, window: 1m, when: 'kind == "join"'}
rules:
  - name: noop
    when: "false"
alerts:
  - name: raid
    when: counters.joins >= 3 and kind == "join"
    do: ['alert("raid on {{space}}")', lockdown(10m), slowmode(30s)]
tests:
  - name: the third join locks
    events:
      - {kind: join, author: {id: a}, space: g}
      - {kind: join, author: {id: b}, space: g}
      - {kind: join, author: {id: c}, space: g}
    expect:
      - {event: 2, rules: [], actions: []}
      - {event: 3, rules: [], alerts: [raid], actions: [lockdown(10m), slowmode(30s)]}
`)
	if a := rs.Alerts[0]; strings.Join(a.Actions, " ") != "lockdown(10m) slowmode(30s)" {
		t.Errorf("info %+v", a)
	}
	st := memory.New()
	defer st.Close()
	eng := rules.NewEngine(rs, st, rules.Options{})
	at := time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC)
	var verdicts []bot.Verdict
	for i := range 4 {
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "discord", Kind: bot.KindJoin, Space: "g", Author: bot.Author{ID: fmt.Sprint("new", i)}, At: at}
		as, err := eng.Assess(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		verdicts = append(verdicts, as.Verdict)
	}
	if len(verdicts[1].Matches) != 0 {
		t.Errorf("second join: %+v", verdicts[1])
	}
	for _, v := range verdicts[2:] {
		if len(v.Matches) != 1 {
			t.Fatalf("verdict %+v", v)
		}
		m := v.Matches[0]
		if m.Rule != "alert:raid" || m.Category != "alert" || m.Shadow || m.Reason != `alert raid held: counters.joins >= 3 and kind == "join"` ||
			fmt.Sprint(v.Actions()) != "[lockdown(10m) slowmode(30s)]" {
			t.Errorf("match %+v, actions %v", m, v.Actions())
		}
	}
	for _, res := range rs.RunTests(context.Background()) {
		if len(res.Failures) > 0 {
			t.Errorf("test %q: %v", res.Name, res.Failures)
		}
	}
	if got := fmt.Sprint(rs.SkippedOn(fakePlatform{"tiny"})); !strings.Contains(got, "alert:raid") {
		t.Errorf("skipped on facebook: %s", got)
	}
}

func TestAlertLoadErrors(t *testing.T) {
	head := "lists:\n  insults: [idiot]\nrules:\n  - name: insult\n    category: abuse\n    when: has_any(text, lists.insults)\n    do: [hide]\n"
	for _, c := range []struct {
		alerts string
		want   string
	}{
		{`alerts: [{name: a, when: 'hits("abus", "10m") > 1', do: [alert("x")]}]`,
			`test.yaml:8:32: alert "a": when: hits: no rule or category named "abus" (did you mean "abuse"?)`},
		{`alerts: [{name: a, when: 'hits("abuse", w) > 1', do: [alert("x")]}]`,
			`test.yaml:8:41: alert "a": when: hits: the window must be a duration in quotes, like "10m"`},
		{`alerts: [{name: a, when: 'hits("abuse", "10 minutes") > 1', do: [alert("x")]}]`,
			`test.yaml:8:41: alert "a": when: hits: invalid duration "10 minutes"`},
		{`alerts: [{name: a, when: 'hits("abuse", "10m") > 1', do: [delete]}]`,
			`test.yaml:8:59: alert "a": an alert can do alert("..."), lockdown(D) and slowmode(D), not delete`},
		{`alerts: [{name: a, when: 'hits("abuse", "10m") > 1', do: [lockdown(10m)]}]`,
			`test.yaml:8:10: alert "a": do: needs an alert("...") action`},
		{`alerts: [{name: a, when: 'hits("abuse", "10m") > 1', do: [alert("x"), lockdown(10m), lockdown(1h)]}]`,
			`test.yaml:8:86: alert "a": lockdown given twice`},
		{`alerts: [{name: a, when: 'hits("abuse", "10m") > 1', do: [alert("x"), alert("y")]}]`,
			`test.yaml:8:71: alert "a": one alert("...") is enough`},
		{`alerts: [{name: a, when: 'hits("abuse", "10m") > 1'}]`,
			`test.yaml:8:10: alert "a": missing key "do" (like do: [alert("...")])`},
		{`alerts: [{name: a, when: 'counters.nope > 1', do: [alert("x")]}]`,
			`test.yaml:8:36: alert "a": when: unknown counter counters.nope (the file declares no counters)`},
		{`alerts: [{name: a, when: 'hits("abuse", "10m")', do: [alert("x")]}]`,
			`test.yaml:8:27: alert "a": when: expected bool, but got int`},
		{`alerts: [{name: a, when: 'baseline("abuse", "1h") > 1', do: [alert("x")]}]`,
			`test.yaml:8:27: alert "a": when: baseline takes a rule or category, like baseline("abuse"): the median of its hits in this hour of the day over the last 7 days`},
		{`alerts: [{name: a, when: 'true', do: [alert("x")], window: 1h}]`,
			`test.yaml:8:52: alerts[0]: unknown key "window"`},
	} {
		t.Run(c.want, func(t *testing.T) {
			_, err := rules.Parse("test.yaml", []byte(head+c.alerts+"\n"), rules.LoadOptions{LookupEnv: noEnv})
			var le *rules.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("no load error: %v", err)
			}
			if got := le.Error(); !strings.Contains(got, c.want) {
				t.Errorf("got\n  %s\nwant\n  %s", got, c.want)
			}
		})
	}
}

func TestOfficeForward(t *testing.T) {
	rs := parse(t, alertRules)
	if rs.Rules[0].Office != rules.OfficeForward || rs.Rules[1].Office != rules.OfficeAct {
		t.Errorf("office: %+v", rs.Rules)
	}
	st := memory.New()
	defer st.Close()
	ctx := context.Background()
	override := false
	eng := rules.NewEngine(rs, st, rules.Options{})
	forced := rules.NewEngine(rs, st, rules.Options{AfterHours: func(time.Time) bool { return override }})
	for _, c := range []struct {
		name string
		eng  *rules.Engine
		at   time.Time
		want string
	}{
		{"office hours forward", eng, paris(t, 5, 10, 0), `insult: forward("insult (office hours: would hide)")`},
		{"after hours act", eng, paris(t, 5, 22, 0), `insult: hide strike forward("insult")`},
		{"weekend acts", eng, paris(t, 10, 10, 0), `insult: hide strike forward("insult")`},
		{"override: office at night", forced, paris(t, 5, 22, 0), `insult: forward("insult (office hours: would hide)")`},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := c.eng.Evaluate(ctx, msg(c.name, "bob", "idiot", c.at))
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Matches) != 1 {
				t.Fatalf("matches %+v", v.Matches)
			}
			var acts []string
			for _, a := range v.Matches[0].Actions {
				acts = append(acts, a.String())
			}
			if got := "insult: " + strings.Join(acts, " "); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
	// the strike waits for the CM in office hours: only the after hours one counts
	res, err := st.Observe(ctx, storeObservation(paris(t, 10, 11, 0)))
	if err != nil || len(res.Strikes) != 2 {
		t.Errorf("strikes %v %v, want the two after hours", res.Strikes, err)
	}
}

func storeObservation(at time.Time) store.Observation {
	return store.Observation{At: at, Platform: "discord", Space: "g1", Author: "bob", StrikeWindow: 30 * 24 * time.Hour}
}
