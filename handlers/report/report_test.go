package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/wave"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

const nightRules = `
timezone: Europe/Paris
office_hours: {mon-fri: "09:00-19:00"}
lists:
  insults: [idiot, crétin]
counters:
  msgs: {key: author.id, window: 10s}
rules:
  - name: flood
    category: flood
    when: counters.msgs > 5
    do: [delete, timeout(10m)]
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [hide, forward("insult")]
  - name: caps
    category: style
    when: caps > 0.8 and len(text) > 10
    do: [delete]
    mode: shadow
`

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return l
}()

// night plays a night through the real engine and handlers, on a memory store,
// and keeps the figures a CM would count by hand.
type night struct {
	t      *testing.T
	st     *memory.Store
	eng    *rules.Engine
	mod    *handlers.Moderator
	now    time.Time
	n      int
	events map[time.Time]map[string]int // hour -> platform -> events
}

func newNight(t *testing.T) *night {
	rs, err := rules.Parse("night.yaml", []byte(nightRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nt := &night{t: t, st: memory.New(), events: map[time.Time]map[string]int{}}
	t.Cleanup(func() { nt.st.Close() })
	nt.eng = rules.NewEngine(rs, nt.st, rules.Options{})
	nt.mod, err = handlers.New(handlers.Options{Store: nt.st, Now: func() time.Time { return nt.now }})
	if err != nil {
		t.Fatal(err)
	}
	return nt
}

func (nt *night) event(at time.Time, platform, space, author, text string) {
	nt.t.Helper()
	nt.n++
	nt.now = at
	ev := bot.Event{ID: fmt.Sprint("m-", nt.n), Platform: platform, Kind: bot.KindMessage, Space: space,
		Author: bot.Author{ID: author, Name: strings.ToUpper(author[:1]) + author[1:]}, Text: text, At: at}
	v, err := nt.eng.Evaluate(context.Background(), ev)
	if err != nil {
		nt.t.Fatal(err)
	}
	if err := nt.mod.Handle(context.Background(), ev, v); err != nil {
		nt.t.Fatal(err)
	}
	lt := at.In(paris)
	hour := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), 0, 0, 0, paris)
	if nt.events[hour] == nil {
		nt.events[hour] = map[string]int{}
	}
	nt.events[hour][platform]++
}

func (nt *night) counts(_ context.Context, since, until time.Time) ([]report.EventCount, error) {
	var out []report.EventCount
	for h, byPlatform := range nt.events {
		if h.Before(since) || !h.Before(until) {
			continue
		}
		for p, n := range byPlatform {
			out = append(out, report.EventCount{Hour: h, Platform: p, N: n})
		}
	}
	return out, nil
}

func at(day, hour, minute, second int) time.Time {
	return time.Date(2026, 11, day, hour, minute, second, 0, paris)
}

// playNight is Thursday 19 November 2026, 19:00 to Friday 09:00 in Paris: a flood
// on Discord at 22:00, a wave of insults on a Facebook page at 23:00, quiet hours
// after, and two cases decided by a CM at 08:30.
func playNight(t *testing.T) (*night, []wave.Wave) {
	nt := newNight(t)
	for i := range 3 {
		nt.event(at(19, 20, i, 0), "discord", "guild-1", "alice", "bonsoir tout le monde")
	}
	for i := range 8 {
		nt.event(at(19, 22, 0, i), "discord", "guild-1", "flooder", fmt.Sprint("spam ", i))
	}
	for i := range 25 {
		nt.event(at(19, 23, 0, i*10), "facebook", "page-1", fmt.Sprint("angry", i%6), "quel idiot, ce service")
		nt.event(at(19, 23, 0, i*10+5), "facebook", "page-1", "fan", "j'adore ce produit")
	}
	nt.event(at(19, 23, 30, 0), "facebook", "page-1", "shouter", "CE PRODUIT EST NUL")
	for i := range 10 {
		nt.event(at(20, 3, i, 0), "discord", "guild-1", "owl", "quelqu'un ?")
	}
	// The 25 insults of 6 authors within minutes are grouped: the first three
	// authors' cases, the others' hits in the third.
	open, err := nt.st.Cases(context.Background(), store.CaseOpen)
	if err != nil || len(open) != 3 {
		t.Fatalf("open cases: %d, %v; want 3", len(open), err)
	}
	// A CM keeps the first, and unhides the second from a vigie whose
	// Facebook is on (this one's platforms are off: it would refuse); the
	// third waits.
	nt.now = at(20, 8, 30, 0)
	if _, err := nt.mod.Decide(context.Background(), open[0].ID, "keep", "telegram:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := nt.st.DecideCase(context.Background(), open[1].ID, "unhide", "telegram:1", "", nt.now); err != nil {
		t.Fatal(err)
	}
	waves := []wave.Wave{{Alert: "wave", Platform: "facebook", Space: "page-1", From: at(19, 23, 0, 0),
		To: at(19, 23, 4, 0), Count: 25, Raised: at(19, 23, 3, 10), Over: at(19, 23, 14, 0), ByRule: map[string]int{"insult": 25}}}
	return nt, waves
}

func TestReportOfANight(t *testing.T) {
	nt, waves := playNight(t)
	src := report.Source{
		Store:    nt.st,
		Events:   nt.counts,
		Location: paris,
		Alerts:   func(context.Context, time.Time) ([]wave.Wave, error) { return waves, nil },
		FAQ: func(time.Time) *report.FAQ {
			return &report.FAQ{Answered: 4, Unanswered: 1, Missing: []string{"livrez-vous en Belgique ?"}}
		},
	}
	r, err := report.Build(context.Background(), src, at(19, 19, 0, 0), at(20, 9, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	// what happened, counted by hand: 3+8+50+1+10 events; flood matched the 6th,
	// 7th and 8th message (delete and timeout each), insult 25 (hide each), caps 1
	// in shadow mode
	checks := []struct {
		what      string
		got, want any
	}{
		{"events", r.Events, 72},
		{"flagged", r.Flagged, 3 + 25 + 1},
		{"actions", r.Actions, 3*2 + 25},
		{"hide", r.ByAction["hide"], 25},
		{"delete", r.ByAction["delete"], 3},
		{"timeout", r.ByAction["timeout"], 3},
		{"hours", len(r.Hours), 14},
		{"22h events", r.Hours[3].Events, 8},
		{"22h actions", r.Hours[3].Actions, 6},
		{"23h events", r.Hours[4].Events, 51},
		{"23h flagged", r.Hours[4].Flagged, 26},
		{"03h events", r.Hours[8].Events, 10},
		{"open cases", r.Cases.Open, 1},                                   // the third insult case
		{"oldest open", r.Cases.OldestOpen, 9*time.Hour + 59*time.Minute}, // opened at 23:01
		{"opened", r.Cases.Opened, 3},
		{"decided", r.Cases.Decided, 2},
		{"overturned", r.Cases.Overturned, 2},
		{"alerts", len(r.Alerts), 1},
		{"faq answered", r.FAQ.Answered, 4},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	rules := map[string]report.RuleCount{}
	for _, rc := range r.ByRule {
		rules[rc.Rule] = rc
	}
	wantRules := map[string]report.RuleCount{
		"insult": {Rule: "insult", Category: "abuse", Hits: 25, Actions: 25, Overturned: 2},
		"flood":  {Rule: "flood", Category: "flood", Hits: 3, Actions: 6},
		"caps":   {Rule: "caps", Category: "style", Hits: 1, Shadow: 1},
	}
	for name, want := range wantRules {
		if got := rules[name]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("rule %s: %+v, want %+v", name, got, want)
		}
	}
	if len(r.ByPlatform) != 2 || r.ByPlatform[0].Name != "facebook" || r.ByPlatform[0].Events != 51 || r.ByPlatform[1].Events != 21 {
		t.Errorf("platforms: %+v", r.ByPlatform)
	}
	if len(r.Offenders) == 0 || r.Offenders[0].Author != "angry0" && r.Offenders[0].Author != "flooder" {
		t.Errorf("offenders: %+v", r.Offenders)
	}
	for _, o := range r.Offenders {
		if o.Author == "flooder" && (o.Hits != 3 || o.Rules[0] != "flood") {
			t.Errorf("flooder: %+v", o)
		}
	}

	text := r.Text()
	for _, want := range []string{
		"Report Thu 19 Nov 2026 19:00 → Fri 20 Nov 2026 09:00 (Europe/Paris)",
		"72 events, 29 flagged, 31 actions (hide 25, delete 3, timeout 3).",
		"wave on facebook page-1 23:00–23:04, 25 hits (insult 25)",
		"Cases: 1 open (oldest 9h59m), 3 opened, 2 decided (keep 1, unhide 1).",
		"insult 25 (2 overturned)",
		"caps 1 (1 shadow)",
		"FAQ: 4 answered, 1 unanswered (\"livrez-vous en Belgique ?\").",
		"Angry0 (facebook:angry0) 5 (insult)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if t.Failed() {
		t.Log(text)
	}

	var buf bytes.Buffer
	if err := r.Write(&buf, report.FormatCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "hour,rule,category,hits,actions,events" {
		t.Errorf("header %v", rows[0])
	}
	var found bool
	for _, row := range rows[1:] {
		if row[0] == "2026-11-19T23:00:00+01:00" && row[1] == "insult" {
			found = true
			if row[2] != "abuse" || row[3] != "25" || row[4] != "25" || row[5] != "51" {
				t.Errorf("insult row %v", row)
			}
		}
	}
	// 14 hours: 12 without hits have one row, 22h has flood, 23h insult and caps
	if !found || len(rows) != 1+12+1+2 {
		t.Errorf("csv rows (%d):\n%v", len(rows), rows)
	}

	buf.Reset()
	if err := r.Write(&buf, report.FormatJSON); err != nil {
		t.Fatal(err)
	}
	var back report.Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Flagged != 29 || len(back.Alerts) != 1 {
		t.Errorf("json round trip: %v %+v", err, back.Flagged)
	}
	if err := r.Write(&buf, "xml"); err == nil {
		t.Error("xml format accepted")
	}
}

func TestChartIsAPNG(t *testing.T) {
	nt, waves := playNight(t)
	src := report.Source{Store: nt.st, Events: nt.counts, Location: paris,
		Alerts: func(context.Context, time.Time) ([]wave.Wave, error) { return waves, nil }}
	r, err := report.Build(context.Background(), src, at(19, 19, 0, 0), at(20, 9, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Chart()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 960 || img.Bounds().Dy() != 420 {
		t.Errorf("size %v", img.Bounds())
	}
	if dir := os.Getenv("VIGIE_CHART_DIR"); dir != "" {
		// to look at it: VIGIE_CHART_DIR=/tmp go test -run Chart ./handlers/report
		if err := os.WriteFile(dir+"/night.png", b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// the 23h bars (the fifth slot of 14 on 870 pixels from x=70, axis at
	// y=370, 80 at the top, 300 pixels higher): pale blue up to 51 events in
	// the slot's left half, red up to 25 actions beside it, in the right half,
	// and above each the orange of the alert that hour
	red, blue := color.RGBA{0xd6, 0x45, 0x3d, 0xff}, color.RGBA{0x9d, 0xb4, 0xc8, 0xff}
	orange := color.RGBA{0xff, 0xd8, 0xa8, 0xff}
	slot := 870.0 / 14
	events, actions := 70+int(4.25*slot), 70+int(4.75*slot)
	for _, c := range []struct {
		x, value int
		want     color.RGBA
	}{{events, 2, blue}, {events, 24, blue}, {events, 50, blue}, {events, 53, orange},
		{actions, 2, red}, {actions, 24, red}, {actions, 27, orange}, {actions, 50, orange}} {
		y := 370 - c.value*300/80
		if got := color.RGBAModel.Convert(img.At(c.x, y)); got != c.want {
			t.Errorf("23h bar at x=%d, %d: %v, want %v", c.x, c.value, got, c.want)
		}
	}
}

func TestEmptyReport(t *testing.T) {
	st := memory.New()
	defer st.Close()
	r, err := report.Build(context.Background(), report.Source{Store: st}, at(19, 19, 0, 0), at(20, 9, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if r.Flagged != 0 || len(r.Hours) != 14 || !strings.Contains(r.Text(), "No rule matched.") || !strings.Contains(r.Text(), "(events not counted)") {
		t.Errorf("empty report:\n%s", r.Text())
	}
	if _, err := r.Chart(); err != nil {
		t.Fatal(err)
	}
}

// TestEventFlaggedOnce: a join that makes a rule lock its server down is one
// event in the audit three times (the rule's verdict, the lock, its lift), and
// moderators' commands on a flagged message are more entries of it. Each is
// one flagged event, one hit of its rules (each command one of "manual");
// every action counts.
func TestEventFlaggedOnce(t *testing.T) {
	st := memory.New()
	defer st.Close()
	ctx := context.Background()
	join := bot.Event{ID: "j-1", Platform: "discord", Kind: bot.KindJoin, Space: "guild-1",
		Author: bot.Author{ID: "raider", Name: "Raider"}, At: at(19, 22, 0, 0)}
	place := bot.Event{ID: join.ID, Platform: join.Platform, Space: join.Space}
	lock := bot.Action{Kind: bot.ActLockdown, Duration: 10 * time.Minute}
	msg := bot.Event{ID: "m-1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1",
		Author: bot.Author{ID: "troll", Name: "Troll"}, Text: "idiot", At: at(19, 22, 5, 0)}
	entry := func(at time.Time, ev bot.Event, by string, m bot.Match) store.AuditEntry {
		return store.AuditEntry{At: at, Event: ev, By: by,
			Verdict: bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: at, Matches: []bot.Match{m}}}
	}
	for _, e := range []store.AuditEntry{
		entry(at(19, 22, 0, 0), join, "", bot.Match{Rule: "raid", Category: "raid", Actions: []bot.Action{lock}}),
		entry(at(19, 22, 0, 1), place, "", bot.Match{Rule: "raid", Category: "raid", Actions: []bot.Action{lock}, Reason: "lockdown until …"}),
		entry(at(19, 22, 10, 1), place, "", bot.Match{Rule: "raid", Category: "raid", Actions: []bot.Action{{Kind: "lift"}}, Reason: "lockdown lifted"}),
		entry(at(19, 22, 5, 0), msg, "", bot.Match{Rule: "insult", Category: "abuse", Actions: []bot.Action{{Kind: bot.ActDelete}}}),
		entry(at(19, 22, 6, 0), msg, "telegram:1", bot.Match{Rule: handlers.ManualRule, Actions: []bot.Action{{Kind: bot.ActTimeout, Duration: time.Hour}}}),
		entry(at(19, 22, 7, 0), msg, "telegram:1", bot.Match{Rule: handlers.ManualRule, Reason: "/note by telegram:1"}),
	} {
		if err := st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	r, err := report.Build(ctx, report.Source{Store: st}, at(19, 19, 0, 0), at(20, 9, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if r.Flagged != 2 {
		t.Errorf("flagged = %d, want 2 (the join and the message)", r.Flagged)
	}
	if r.Events < r.Flagged {
		t.Errorf("%d events, %d flagged: more flagged than events", r.Events, r.Flagged)
	}
	for _, rc := range r.ByRule {
		want := 1
		if rc.Rule == handlers.ManualRule {
			want = 2 // each command a moderator gave
		}
		if rc.Hits != want {
			t.Errorf("rule %s: %d hits, want %d", rc.Rule, rc.Hits, want)
		}
	}
	for _, c := range r.ByCategory {
		if c.Flagged != 1 {
			t.Errorf("category %s: %d flagged, want 1", c.Name, c.Flagged)
		}
	}
	if r.ByAction[string(bot.ActLockdown)] != 2 || r.ByAction[string(bot.ActTimeout)] != 1 || r.ByAction[string(bot.ActDelete)] != 1 {
		t.Errorf("actions = %v, want each counted", r.ByAction)
	}
	for _, o := range r.Offenders {
		if o.Author == "" {
			t.Errorf("a place listed among the offenders: %+v", o)
		}
	}
}

// One event on a platform is "1 event", as the README's tour shows the
// report of two posts from two places.
func TestReportTextSaysOneEvent(t *testing.T) {
	r := &report.Report{EventsKnown: true, Events: 3, ByPlatform: []report.Count{{Name: "discord", Events: 2, Flagged: 1}, {Name: "shop", Events: 1}}}
	if text, want := r.Text(), "Platforms: discord 2 events/1 flagged, shop 1 event/0 flagged."; !strings.Contains(text, want) {
		t.Errorf("text lacks %q:\n%s", want, text)
	}
}

// A case open for less than a minute is "<1m" old, as vigie cases list says,
// not "0s": the report counts ages in whole minutes.
func TestReportTextOldestUnderAMinute(t *testing.T) {
	r := &report.Report{Cases: report.Cases{Open: 1, Opened: 1}}
	if text, want := r.Text(), "Cases: 1 open (oldest <1m), 1 opened, 0 decided."; !strings.Contains(text, want) {
		t.Errorf("text lacks %q:\n%s", want, text)
	}
}

// A member chooses their name, and the report lists the top offenders by
// it, on the desk every morning and in vigie report: the name is one line,
// cut, with its commands and mentions inert, as in vigie's other words. A
// name of its own lines wrote a report of its own under vigie's, and a
// "/pause" in it was a command a tap on the desk sent.
func TestReportTextOffenderNameIsOneInertLine(t *testing.T) {
	name := "Eve\nCases: 0 open, 0 opened, 0 decided.\x1b[2J\nAll clear, /pause @ann_cm " + strings.Repeat("x", 200)
	r := &report.Report{Offenders: []report.Offender{{Platform: "telegram", Author: "42", Name: name, Hits: 3, Rules: []string{"insult"}}}}
	text := r.Text()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	last := lines[len(lines)-1]
	if lines[len(lines)-2] != "Top offenders:" || !strings.HasPrefix(last, "  Eve Cases: 0 open") ||
		!strings.HasSuffix(last, "… (telegram:42) 3 (insult)") {
		t.Errorf("the offender is not one line ending in its id and hits:\n%s", text)
	}
	if strings.ContainsAny(text, "\x1b") || strings.Contains(text, "/pause") || strings.Contains(text, "@ann_cm") {
		t.Errorf("the name's escape, command or mention is left as it came:\n%q", text)
	}
}
