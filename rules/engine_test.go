package rules_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

func parse(t testing.TB, src string) *rules.Ruleset {
	t.Helper()
	rs, err := rules.Parse("test.yaml", []byte(src), rules.LoadOptions{LookupEnv: noEnv})
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	return rs
}

// paris is 2026-01-05 (a Monday) at hh:mm in Europe/Paris.
func paris(t testing.TB, day, hh, mm int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(2026, 1, day, hh, mm, 0, 0, loc)
}

func msg(id, author, text string, at time.Time) bot.Event {
	return bot.Event{ID: id, Platform: "discord", Kind: bot.KindMessage, Space: "g1", Channel: "general",
		Author: bot.Author{ID: author, Name: strings.ToUpper(author[:1]) + author[1:]}, Text: text, At: at}
}

// summary renders a verdict as "rule[shadow]: actions | reason" lines for tables.
func summary(v bot.Verdict) string {
	if v.Duplicate {
		return "duplicate"
	}
	var parts []string
	for _, m := range v.Matches {
		s := m.Rule
		if m.Shadow {
			s += "[shadow]"
		}
		var acts []string
		for _, a := range m.Actions {
			acts = append(acts, a.String())
		}
		parts = append(parts, fmt.Sprintf("%s: %s | %s", s, strings.Join(acts, " "), m.Reason))
	}
	return strings.Join(parts, "; ")
}

const engineFile = `
timezone: Europe/Paris
office_hours: {mon-fri: ["09:00-12:00", "14:00-19:00"], sat: "10:00-13:00"}
holidays: ["2026-01-06"]
lists:
  insults: [connard, idiot]
  allowed: [example.com]
counters:
  msgs: {key: author.id, window: 10s}
  links: {key: author.id, window: 1h, when: len(links) > 0}
rules:
  - name: flood
    category: flood
    when: counters.msgs > 5
    do: [delete, timeout(10m), 'warn("Slow down {{author.name}} ({{author.id}}) in #{{channel}} of {{space}} on {{platform}}: {{rule}}")']
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [hide, strike]
  - name: insult-shadow
    when: has_any(text, lists.insults)
    do: [ban]
    mode: shadow
  - name: night-link
    hours: after
    when: none_in(domains, lists.allowed) and len(domains) > 0
    do: ['forward("link at night")']
  - name: office-link
    hours: office
    when: any_in(domains, lists.allowed)
    do: [tag(ok)]
  - name: repeat
    when: strikes("1h") >= 2
    do: [ban(1d)]
  - name: staff-exempt-by-rule
    when: not author.staff and text == "ping"
    do: [reply(pong)]
`

func TestEngine(t *testing.T) {
	rs := parse(t, engineFile)
	noon := paris(t, 5, 12, 30) // Monday, lunch break: after hours between the two ranges
	ten := paris(t, 5, 10, 0)   // Monday, office hours
	holiday := paris(t, 6, 10, 0)
	sat := paris(t, 10, 11, 0)
	sun := paris(t, 11, 11, 0)
	tests := []struct {
		name   string
		events []bot.Event
		want   []string // summary of each event's verdict
	}{
		{
			name: "six messages in ten seconds are a flood, the fifth is not",
			events: func() []bot.Event {
				var evs []bot.Event
				for i := range 6 {
					evs = append(evs, msg(fmt.Sprint("m", i), "bob", "hello", ten.Add(time.Duration(i)*time.Second)))
				}
				return evs
			}(),
			want: []string{"", "", "", "", "",
				`flood: delete timeout(10m) warn("Slow down Bob (bob) in #general of g1 on discord: flood") | counters.msgs = 6 > 5`},
		},
		{
			name: "messages spread over the window do not flood",
			events: func() []bot.Event {
				var evs []bot.Event
				for i := range 8 {
					evs = append(evs, msg(fmt.Sprint("m", i), "bob", "hello", ten.Add(time.Duration(i)*3*time.Second)))
				}
				return evs
			}(),
			want: []string{"", "", "", "", "", "", "", ""},
		},
		{
			name:   "an insult is hidden with a strike, the shadow rule reports a ban",
			events: []bot.Event{msg("a", "eve", "t'es un c0nn4rd", ten)},
			want: []string{`insult: hide strike | matched "connard" from lists.insults; ` +
				`insult-shadow[shadow]: ban | matched "connard" from lists.insults`},
		},
		{
			name: "two strikes within the hour earn a ban; strikes given by an event count from the next",
			events: []bot.Event{
				msg("a", "eve", "idiot", ten),
				msg("b", "eve", "idiot", ten.Add(10*time.Minute)),
				msg("c", "eve", "bonjour", ten.Add(20*time.Minute)),
				msg("d", "eve", "bonjour", ten.Add(2*time.Hour)),
			},
			want: []string{
				`insult: hide strike | matched "idiot" from lists.insults; insult-shadow[shadow]: ban | matched "idiot" from lists.insults`,
				`insult: hide strike | matched "idiot" from lists.insults; insult-shadow[shadow]: ban | matched "idiot" from lists.insults`,
				`repeat: ban(1d) | strikes("1h") = 2 >= 2`,
				``,
			},
		},
		{
			name: "hours follow the file's timezone, ranges and holidays",
			events: []bot.Event{
				msg("a", "al", "see https://evil.example.net/x", ten),
				msg("b", "al", "see https://evil.example.net/x", noon),
				msg("c", "al", "see https://evil.example.net/x", holiday),
				msg("d", "al", "see https://example.com/x", ten),
				msg("e", "al", "see https://example.com/x", holiday),
				msg("f", "al", "see https://evil.example.net/x", sat),
				msg("g", "al", "see https://evil.example.net/x", sun),
				msg("h", "al", "see https://evil.example.net/x", paris(t, 5, 19, 0)),
				msg("i", "al", "see https://evil.example.net/x", paris(t, 5, 18, 59)),
			},
			want: []string{
				``,
				`night-link: forward("link at night") | len(domains) = 1 > 0, "example.net" not in lists.allowed`,
				`night-link: forward("link at night") | len(domains) = 1 > 0, "example.net" not in lists.allowed`,
				`office-link: tag("ok") | "example.com" in lists.allowed`,
				``,
				``,
				`night-link: forward("link at night") | len(domains) = 1 > 0, "example.net" not in lists.allowed`,
				`night-link: forward("link at night") | len(domains) = 1 > 0, "example.net" not in lists.allowed`,
				``,
			},
		},
		{
			name: "a retried event is a duplicate: not counted, no rule runs",
			events: []bot.Event{
				msg("same", "zoe", "idiot", ten),
				msg("same", "zoe", "idiot", ten.Add(time.Second)),
			},
			want: []string{
				`insult: hide strike | matched "idiot" from lists.insults; insult-shadow[shadow]: ban | matched "idiot" from lists.insults`,
				`duplicate`,
			},
		},
		{
			name: "staff are not exempt unless a rule says so",
			events: []bot.Event{
				func() bot.Event { e := msg("a", "mod", "idiot", ten); e.Author.Staff = true; return e }(),
				func() bot.Event { e := msg("b", "mod", "ping", ten); e.Author.Staff = true; return e }(),
				msg("c", "ann", "ping", ten),
			},
			want: []string{
				`insult: hide strike | matched "idiot" from lists.insults; insult-shadow[shadow]: ban | matched "idiot" from lists.insults`,
				``,
				`staff-exempt-by-rule: reply("pong") | text == "ping"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			eng := rules.NewEngine(rs, st, rules.Options{})
			for i, ev := range tc.events {
				v, err := eng.Evaluate(context.Background(), ev)
				if err != nil {
					t.Fatal(err)
				}
				if got := summary(v); got != tc.want[i] {
					t.Errorf("event %d (%s):\n got: %s\nwant: %s", i+1, ev.ID, got, tc.want[i])
				}
			}
		})
	}
}

// The verdict carries the counters, its enforced actions merge, and strikes land
// in the store with the file's TTL.
func TestVerdictDetails(t *testing.T) {
	rs := parse(t, engineFile)
	st := memory.New()
	defer st.Close()
	eng := rules.NewEngine(rs, st, rules.Options{})
	at := paris(t, 5, 10, 0)
	v, err := eng.Evaluate(context.Background(), msg("x1", "kim", "idiot https://example.com", at))
	if err != nil {
		t.Fatal(err)
	}
	if v.Counters["msgs"] != 1 || v.Counters["links"] != 1 || len(v.Counters) != 2 {
		t.Errorf("counters = %v, want msgs 1, links 1", v.Counters)
	}
	if v.EventID != "x1" || v.Platform != "discord" || !v.At.Equal(at) {
		t.Errorf("verdict header = %q %q %v", v.EventID, v.Platform, v.At)
	}
	var acts []string
	for _, a := range v.Actions() {
		acts = append(acts, a.String())
	}
	if want := []string{"hide", "strike", `tag("ok")`}; !slices.Equal(acts, want) {
		t.Errorf("actions = %v, want %v (the shadow ban is not carried out)", acts, want)
	}
	if got, want := rs.StrikeTTL(), 30*24*time.Hour; got != want {
		t.Errorf("strike TTL = %v, want %v", got, want)
	}
}

// With Options.Clock, events are judged on their own time: a backlog keeps its
// hours and ages; only a time too far in the future or the past is bounded.
func TestClock(t *testing.T) {
	rs := parse(t, `
timezone: Europe/Paris
office_hours: {mon-fri: "09:00-19:00"}
rules:
  - name: night
    hours: after
    when: author.account_age > 0 and author.account_age < duration("1h")
`)
	created := paris(t, 5, 22, 0)
	clock := func() time.Time { return created.Add(30 * time.Minute) }
	eng := rules.NewEngine(rs, memory.New(), rules.Options{Clock: clock})
	tests := []struct {
		name   string
		at     time.Time
		want   string
		wantAt time.Time
	}{
		{"its own time, in the past", created.Add(10 * time.Minute), `night:  | author.account_age = 10m < 1h`, created.Add(10 * time.Minute)},
		{"within the skew", created.Add(31 * time.Minute), `night:  | author.account_age = 31m < 1h`, created.Add(31 * time.Minute)},
		{"too far in the future", created.Add(5 * time.Hour), `night:  | author.account_age = 30m < 1h`, clock()},
		{"missing", time.Time{}, `night:  | author.account_age = 30m < 1h`, clock()},
		{"older than MaxAge", created.Add(-100 * time.Hour), `night:  | author.account_age = <1ms < 1h`, clock().Add(-rules.DefaultMaxAge)},
		{"moments after the account was made", created.Add(400 * time.Millisecond), `night:  | author.account_age = 400ms < 1h`, created.Add(400 * time.Millisecond)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := msg(fmt.Sprint("e", i), "new", "hi", tt.at)
			ev.Author.CreatedAt = created
			v, err := eng.Evaluate(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(v); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if !v.At.Equal(tt.wantAt) {
				t.Errorf("verdict at %v, want %v", v.At, tt.wantAt)
			}
		})
	}
}

func TestAfterHours(t *testing.T) {
	rs := parse(t, engineFile)
	tests := []struct {
		at   time.Time
		want bool
	}{
		{paris(t, 5, 8, 59), true},
		{paris(t, 5, 9, 0), false},
		{paris(t, 5, 11, 59), false},
		{paris(t, 5, 12, 0), true},
		{paris(t, 5, 14, 0), false},
		{paris(t, 5, 19, 0), true},
		{paris(t, 6, 10, 0), true}, // holiday
		{paris(t, 10, 10, 0), false},
		{paris(t, 10, 13, 0), true},
		{paris(t, 11, 11, 0), true},                           // Sunday: not listed
		{paris(t, 5, 10, 0).UTC(), false},                     // the same instant in another zone
		{time.Date(2026, 1, 5, 8, 30, 0, 0, time.UTC), false}, // 09:30 in Paris
	}
	for _, tc := range tests {
		if got := rs.AfterHours(tc.at); got != tc.want {
			t.Errorf("AfterHours(%v) = %t, want %t", tc.at, got, tc.want)
		}
	}
	// without office_hours only holidays are after hours
	plain := parse(t, "holidays: [\"2026-01-06\"]\nrules: []\n")
	if plain.AfterHours(paris(t, 5, 3, 0)) || !plain.AfterHours(time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC)) {
		t.Error("without office_hours: want after hours on holidays only")
	}
}

// Every expression function, the event fields and the ways to test lists.
func TestExpressions(t *testing.T) {
	at := paris(t, 5, 10, 0)
	base := bot.Event{ID: "e1", Platform: "telegram", Kind: bot.KindComment, Space: "page", Channel: "post-1",
		Thread: "th", ReplyTo: "m0", Attachments: 2, At: at, Text: "Visit https://Bit.ly/x and https://example.com NOW @ann @bob 🔥🔥",
		Author: bot.Author{ID: "u9", Name: "Zed", Roles: []string{"member", "vip"}, Bot: true,
			CreatedAt: at.Add(-48 * time.Hour), JoinedAt: at.Add(-time.Hour)}}
	tests := []struct {
		when string
		want bool
	}{
		{`platform == "telegram" and kind == "comment" and space == "page" and channel == "post-1"`, true},
		{`thread == "th" and reply_to == "m0" and attachments == 2`, true},
		{`author.id == "u9" and author.name == "Zed" and "vip" in author.roles and author.bot and not author.staff`, true},
		{`author.account_age == duration("2d") and author.member_age == duration("1h")`, true},
		{`author.account_age < duration("1w") and author.account_age > duration("47h")`, true},
		{`len(links) == 2 and "bit.ly" in domains`, true},
		{`mentions == 2 and emojis == 2 and caps > 0 and caps < 0.5`, true},
		{`any_in(domains, lists.short)`, true},
		{`all_in(domains, lists.short)`, false},
		{`none_in(domains, lists.short)`, false},
		{`none_in(domains, lists.words)`, true},
		{`any(domains, # in lists.short)`, true},
		{`all(domains, # in lists.short)`, false},
		{`author.name in lists.words`, true},
		{`"Hello" in lists.words and not ("hell" in lists.words)`, true},
		{`has_any(text, lists.words)`, false},
		{`has_any(author.name, lists.words)`, true},
		{`has_any("ZED!", lists.words)`, true},
		{`matches(text, '\bNOW\b')`, true},
		{`matches(text, "(?i)^visit")`, true},
		{`text matches '\d{5}'`, false},
		{`not matches(text, "x{3}")`, true},
		{`strikes("24h") == 0 and strikes(duration("1h")) == 0`, true},
		{`after_hours`, false},
		{`counters.all == 1`, true},
		{`duration("1w2d") == duration("216h")`, true},
	}
	for _, tc := range tests {
		t.Run(tc.when, func(t *testing.T) {
			src := fmt.Sprintf(`
lists:
  short: [bit.ly, t.me]
  words: [zed, hello]
counters:
  all: {key: space, window: 1m}
rules:
  - name: r
    when: %q
`, tc.when)
			rs := parse(t, src)
			v, err := rules.NewEngine(rs, memory.New(), rules.Options{}).Evaluate(context.Background(), base)
			if err != nil {
				t.Fatal(err)
			}
			if v.Flagged() != tc.want {
				t.Errorf("got %t, want %t (%s)", v.Flagged(), tc.want, summary(v))
			}
		})
	}
}

// An expression that fails at run time skips its rule, not the event.
func TestRuntimeErrorSkipsRule(t *testing.T) {
	rs := parse(t, `
rules:
  - name: bad
    when: links[3] == "x"
  - name: good
    when: text == "hi"
`)
	var logs bytes.Buffer
	var hooked []string
	eng := rules.NewEngine(rs, memory.New(), rules.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		RuleError: func(e rules.RuleError) { hooked = append(hooked, fmt.Sprintf("%s %d:%d", e.Rule, e.Line, e.Col)) }})
	for i := range 3 {
		a, err := eng.Assess(context.Background(), msg(fmt.Sprint(i), "a", "hi", paris(t, 5, 10, i)))
		if err != nil {
			t.Fatal(err)
		}
		if got := summary(a.Verdict); got != `good:  | text == "hi"` {
			t.Errorf("got %q", got)
		}
		if len(a.Errors) != 1 || a.Errors[0].Rule != "bad" || a.Errors[0].Line != 4 || a.Errors[0].Col != 11 ||
			!strings.HasPrefix(a.Errors[0].Err.Error(), "index out of range") {
			t.Errorf("errors %+v, want rule bad at 4:11, index out of range", a.Errors)
		}
	}
	if strings.Join(hooked, ",") != "bad 4:11,bad 4:11,bad 4:11" {
		t.Errorf("hook told %q, want every failure", hooked)
	}
	if n := strings.Count(logs.String(), "rule failed"); n != 1 || !strings.Contains(logs.String(), "rule=bad") {
		t.Errorf("want the failure logged once, got:\n%s", logs.String())
	}
}

type fakePlatform struct{ name string }

func (p fakePlatform) Name() string                                 { return p.name }
func (fakePlatform) Delete(context.Context, bot.Event) error        { return nil }
func (fakePlatform) Reply(context.Context, bot.Event, string) error { return nil }

func TestCheckPlatform(t *testing.T) {
	rs := parse(t, engineFile)
	var got []string
	for _, p := range rs.CheckPlatform(fakePlatform{"tiny"}) {
		got = append(got, p.String())
	}
	want := []string{
		`test.yaml:15:18: rule "flood": tiny cannot timeout; the action is skipped there`,
		`test.yaml:19:10: rule "insult": tiny cannot hide; the action is skipped there`,
		`test.yaml:22:10: rule "insult-shadow": tiny cannot ban; the action is skipped there`,
		`test.yaml:31:10: rule "office-link": tiny cannot tag; the action is skipped there`,
		`test.yaml:34:10: rule "repeat": tiny cannot ban; the action is skipped there`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = nil
	for _, s := range rs.SkippedOn(fakePlatform{"tiny"}) {
		got = append(got, fmt.Sprintf("%s: %s", s.Kind, strings.Join(s.Rules, ",")))
	}
	if g, w := strings.Join(got, "; "), "timeout: flood; hide: insult; ban: insult-shadow,repeat; tag: office-link"; g != w {
		t.Errorf("SkippedOn: %q, want %q", g, w)
	}
}

// A country code in holidays: takes that country's calendar for every year,
// Easter and its followers included, without a list that runs out.
func TestCountryHolidays(t *testing.T) {
	rs := parse(t, "timezone: Europe/Paris\noffice_hours: {mon-sun: \"00:00-24:00\"}\nholidays: [fr, \"2031-06-03\"]\nrules: []\n")
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	day := func(y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, 12, 0, 0, 0, paris)
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{day(2027, time.January, 1), true},    // Jour de l'an
		{day(2027, time.January, 2), false},   //
		{day(2027, time.March, 29), true},     // Easter Monday 2027
		{day(2031, time.April, 14), true},     // Easter Monday 2031
		{day(2031, time.April, 13), false},    // Easter Sunday itself is no public holiday
		{day(2031, time.May, 22), true},       // Ascension 2031
		{day(2031, time.June, 2), true},       // Lundi de Pentecôte 2031
		{day(2031, time.June, 3), true},       // the date listed beside the country
		{day(2031, time.June, 4), false},      //
		{day(2045, time.July, 14), true},      // Fête nationale
		{day(2045, time.July, 15), false},     //
		{day(2099, time.December, 25), true},  // Noël
		{day(2099, time.December, 24), false}, //
	} {
		if got := rs.AfterHours(tc.at); got != tc.want {
			t.Errorf("AfterHours(%s) = %t, want %t", tc.at.Format("2006-01-02"), got, tc.want)
		}
	}
	_, err = rules.Parse("r.yaml", []byte("holidays: [XX]\nrules: []\n"), rules.LoadOptions{LookupEnv: noEnv})
	if err == nil || !strings.Contains(err.Error(), `r.yaml:1:12: holidays: unknown country "XX" (known: AR, AT,`) {
		t.Errorf("unknown country: %v", err)
	}
}

// TestVerdictCounters: each verdict has its own map of the counters' values,
// also when an event sees the same values as one before it (the engine
// copies a map it keeps for them): a caller that changes one verdict's map
// changes no other verdict's.
func TestVerdictCounters(t *testing.T) {
	rs := parse(t, engineFile)
	eng := rules.NewEngine(rs, memory.New(), rules.Options{})
	ten := paris(t, 5, 10, 0)
	authors := []string{"ann", "bob", "ann", "cid", "dan", "ann"}
	want := []int64{1, 1, 2, 1, 1, 3}
	for i, author := range authors {
		v, err := eng.Evaluate(context.Background(), msg(fmt.Sprint("c", i), author, "hello", ten.Add(time.Duration(i)*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Counters) != 2 || v.Counters["msgs"] != want[i] || v.Counters["links"] != 0 {
			t.Errorf("event %d: counters %v, want msgs %d and links 0", i, v.Counters, want[i])
		}
		// a caller's change stays in its verdict
		v.Counters["msgs"] = 100
		delete(v.Counters, "links")
	}
}
