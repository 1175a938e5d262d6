package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/vigie-bot/vigie/rules/replay"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A CM decides whether to leave vigie alone at night from what `vigie replay`
// says the rules would have done on recorded events. These tests post a stream
// to `vigie run`, one event at a time and in order, replay the same stream,
// and compare each event's verdict, FAQ decision and the summary's counts.
//
// vigie run judges an event posted over HTTP at its own `at` when that is
// within 72 hours before its clock and at most a minute after it
// (docs/rules.md, "Counting on the message's own time"). Its clock (cli.now)
// starts a few minutes after the stream's last event and moves on at the wall
// clock's pace, so that both run on the events' clock, on the stream's own
// days, whatever the date the test runs on.

// agreeEvent is one line of the stream, in the event JSON of DESIGN.md.
type agreeEvent struct {
	ID       string      `json:"id"`
	Platform string      `json:"platform"`
	Kind     string      `json:"kind"`
	Space    string      `json:"space"`
	Channel  string      `json:"channel,omitempty"`
	Author   agreeAuthor `json:"author"`
	Text     string      `json:"text"`
	ReplyTo  string      `json:"reply_to,omitempty"`
	At       time.Time   `json:"at"`
	Label    string      `json:"label,omitempty"`
}

type agreeAuthor struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Roles     []string   `json:"roles,omitempty"`
	Staff     bool       `json:"staff,omitempty"`
	Bot       bool       `json:"bot,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	JoinedAt  *time.Time `json:"joined_at,omitempty"`
}

// agreeStart is when the stream starts before it is moved: a Friday evening,
// 19:00 in Paris, so that the raid night is after hours and the tweets and
// comments run through the night into Saturday's office hours.
var agreeStart = time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)

// sharedSample reads up to n events of a file of ../shared/data, moved to start
// at start, each gap between two events at most maxGap: the YouTube comments
// span two years, more than vigie run takes an event's own time for.
func sharedSample(t *testing.T, name string, n int, start time.Time, maxGap time.Duration) []agreeEvent {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedData, name))
	if err != nil {
		t.Skipf("shared data not here: %v", err)
	}
	defer f.Close()
	var out []agreeEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var last, at time.Time
	for sc.Scan() && len(out) < n {
		var ev agreeEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch {
		case last.IsZero():
			at = start
		default:
			at = at.Add(min(max(ev.At.Sub(last), 0), maxGap))
		}
		last = ev.At
		ev.At = at
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// raidNight is a Discord server's evening: chat, questions for the FAQ, a
// flood, a member repeating himself, insults until the strikes add up, a
// raid of new accounts pasting the same scam link, edits, mentions, shouting,
// and a webhook retry. The same seed gives the same night.
func raidNight(start time.Time) []agreeEvent {
	rng := rand.New(rand.NewPCG(7, 11))
	old := start.Add(-400 * 24 * time.Hour)
	joined := start.Add(-200 * 24 * time.Hour)
	member := func(i int) agreeAuthor {
		return agreeAuthor{ID: fmt.Sprintf("m%d", i), Name: fmt.Sprintf("member%d", i), Roles: []string{"member"}, CreatedAt: &old, JoinedAt: &joined}
	}
	var out []agreeEvent
	n := 0
	add := func(at time.Time, kind string, a agreeAuthor, text string) agreeEvent {
		n++
		ev := agreeEvent{ID: fmt.Sprintf("raid-%d", n), Platform: "discord", Kind: kind, Space: "guild-raid", Channel: "general",
			Author: a, Text: text, At: at}
		out = append(out, ev)
		return ev
	}
	chatter := []string{
		"salut tout le monde", "quelqu'un a vu le match hier ?", "gg à l'équipe", "je rentre du boulot",
		"who's up for a game tonight?", "the new patch is out", "lol", "bonne soirée", "anyone tried the new map?",
		"c'est quoi le meilleur build ?", "brb", "I think the servers are laggy", "merci pour l'aide !",
	}
	questions := []string{
		"quels sont vos horaires ?", "what are your opening hours?", "vous êtes ouverts le dimanche ?",
		"how can I contact support?", "comment je fais pour me faire rembourser ?", "do you ship abroad?",
	}
	insults := []string{"t'es qu'un connard", "ferme-la abruti", "you are such an asshole", "shut up bastard"}
	at := start.Add(3 * time.Hour) // 22:00 in Paris: after hours
	// two hours of chat, one message every 5 to 40 seconds
	end := at.Add(2 * time.Hour)
	var last agreeEvent
	for t := at; t.Before(end); t = t.Add(time.Duration(5+rng.IntN(35)) * time.Second) {
		a := member(rng.IntN(40))
		switch r := rng.IntN(100); {
		case r < 6:
			add(t, "message", a, questions[rng.IntN(len(questions))])
		case r < 9:
			add(t, "message", member(3), insults[rng.IntN(len(insults))]) // the same member, until strikes add up
		case r < 11:
			add(t, "message", a, "@a @b @c @d @e @f regardez ça")
		case r < 13:
			add(t, "message", a, "POURQUOI PERSONNE NE RÉPOND JAMAIS ICI ???")
		case r < 15 && last.ID != "":
			// an edit of the last message, with a link in it
			add(t, "edit", last.Author, last.Text+" https://bit.ly/3xYz")
		case r < 16:
			add(t, "message", a, "regardez ma chaîne https://youtube.com/@member et https://cutt.ly/promo")
		default:
			last = add(t, "message", a, chatter[rng.IntN(len(chatter))])
		}
	}
	// a flood: eight messages in six seconds
	flood := member(5)
	for i := range 8 {
		add(at.Add(20*time.Minute+time.Duration(i)*750*time.Millisecond), "message", flood, fmt.Sprintf("spam spam %d", i))
	}
	// the same text four times in three minutes
	for i := range 4 {
		add(at.Add(30*time.Minute+time.Duration(i)*time.Minute), "message", member(6), "achetez mes stickers sur mon site")
	}
	// a raid: twenty new accounts join within a minute, then paste the same scam
	raidAt := at.Add(time.Hour)
	for i := range 20 {
		created := raidAt.Add(-time.Duration(10+i) * time.Minute)
		joinedAt := raidAt.Add(time.Duration(i) * 2 * time.Second)
		a := agreeAuthor{ID: fmt.Sprintf("r%d", i), Name: fmt.Sprintf("raider%d", i), CreatedAt: &created, JoinedAt: &joinedAt}
		add(joinedAt, "join", a, "")
		for j := range 3 {
			add(raidAt.Add(time.Minute+time.Duration(i)*3*time.Second+time.Duration(j)*5*time.Second), "message", a,
				"free nitro for everyone, claim it now at https://discord-gift.ru/claim before it ends")
		}
	}
	// a moderator and a bot may flood; a member renames to pass for
	// support, writes in private, in a thread
	staff := member(7)
	staff.Staff = true
	helper := member(8)
	helper.Bot = true
	for i := range 7 {
		add(at.Add(40*time.Minute+time.Duration(i)*time.Second), "message", staff, fmt.Sprintf("annonce %d", i))
		add(at.Add(41*time.Minute+time.Duration(i)*time.Second), "message", helper, fmt.Sprintf("rappel %d", i))
	}
	renamed := member(9)
	renamed.Name = "Support Team Official"
	add(at.Add(45*time.Minute), "profile", renamed, "")
	add(at.Add(46*time.Minute), "dm", renamed, "hello, send me your password to verify your account https://bit.ly/verify")
	out[len(out)-1].Channel = ""
	add(at.Add(47*time.Minute), "message", member(10), "quels sont vos horaires ?")
	out[len(out)-1].ReplyTo = "raid-1"
	// times written with an offset, as a client in Paris would
	paris, err := time.LoadLocation("Europe/Paris")
	if err == nil {
		for i := range out {
			if i%7 == 3 {
				out[i].At = out[i].At.In(paris)
			}
		}
	}
	// a webhook sent the same event twice
	dup := out[len(out)/2]
	dup.At = dup.At.Add(2 * time.Second)
	out = append(out, dup)
	return out
}

// agreeStream is the whole stream, in time order (events at the same time
// keep their order).
func agreeStream(t *testing.T, withShared bool) []agreeEvent {
	t.Helper()
	evs := raidNight(agreeStart)
	if withShared {
		evs = append(evs, sharedSample(t, "abuse-en.dev.jsonl", 1200, agreeStart, time.Minute)...)
		evs = append(evs, sharedSample(t, "abuse-fr.dev.jsonl", 800, agreeStart, time.Minute)...)
		evs = append(evs, sharedSample(t, "youtube-spam.dev.jsonl", 1138, agreeStart, time.Minute)...)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	if span := evs[len(evs)-1].At.Sub(evs[0].At); span > 46*time.Hour {
		t.Fatalf("the stream spans %s: vigie run would not judge its start on its own time", span)
	}
	return evs
}

// agreeVerdict is what is compared of one event's outcome.
type agreeVerdict struct {
	At        time.Time        `json:"at"`
	Duplicate bool             `json:"duplicate,omitempty"`
	Matches   []agreeMatch     `json:"matches"`
	Counters  map[string]int64 `json:"counters,omitempty"`
	// FAQ is answer, suggest or forward, or empty when the FAQ had nothing
	// to do (silent, cooldown, not asked).
	FAQ string `json:"faq,omitempty"`
}

type agreeMatch struct {
	Rule     string            `json:"rule"`
	Category string            `json:"category,omitempty"`
	Actions  []json.RawMessage `json:"actions"`
	Shadow   bool              `json:"shadow,omitempty"`
	Reason   string            `json:"reason"`
}

func (v agreeVerdict) String() string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestDaemonAgreesWithReplay posts the raid night and a sample of the
// shared data to vigie run on the starter pack, on the Redis store (a
// redis-server of its own) and on the memory store, and replays the same stream with vigie replay:
// each event's verdict (the time it was judged at, rules, actions, reasons,
// counter values) and the summary's counts must be the same.
//
// On both stores: the memory store sweeps on the events' clock, and vigie
// run's own clock (a case opened, an alert claimed, the sweep every minute)
// must not sweep away counters still open on the clock of events that arrive
// late, as these do (TestMemoryStoreMixedClocks).
func TestDaemonAgreesWithReplay(t *testing.T) {
	withShared := !testing.Short()
	if _, err := os.Stat(sharedData); err != nil {
		withShared = false
		t.Logf("shared data not here (%v): the raid night alone", err)
	}
	evs := agreeStream(t, withShared)
	// vigie run's clock starts 15 minutes after the last event
	posted := evs[len(evs)-1].At.Add(15 * time.Minute)
	t.Run("redis", func(t *testing.T) {
		agree(t, evs, clockFrom(posted), map[string]string{"VIGIE_REDIS_URL": redistest.Start(t).URL()})
	})
	t.Run("memory", func(t *testing.T) { agree(t, evs, clockFrom(posted), map[string]string{}) })
}

// TestMemoryStoreMixedClocks: on the memory store, messages dated half an
// hour before vigie run's clock: forty members each write the same text
// three times in under three minutes, and between the second and the third,
// insults open cases, which are counted on vigie run's own clock. Each third
// copy is "repeated", as the replay says: a case opened now no longer sweeps
// away the counts of half an hour ago.
func TestMemoryStoreMixedClocks(t *testing.T) {
	clock := clockFrom(agreeStart)
	t0 := clock().Add(-30 * time.Minute).Truncate(time.Second)
	old := t0.Add(-400 * 24 * time.Hour)
	var evs []agreeEvent
	n := 0
	add := func(at time.Time, author, text string) {
		n++
		evs = append(evs, agreeEvent{ID: fmt.Sprintf("e%d", n), Platform: "discord", Kind: "message", Space: "g", Channel: "c",
			Author: agreeAuthor{ID: author, Name: author, CreatedAt: &old, JoinedAt: &old}, Text: text, At: at})
	}
	for round := range 2 {
		for i := range 40 {
			add(t0.Add(time.Duration(round*40+i)*time.Second), fmt.Sprintf("m%d", i), fmt.Sprintf("achetez mes stickers numero %d", i))
		}
	}
	for i := range 60 {
		add(t0.Add(time.Duration(80+i)*time.Second), fmt.Sprintf("x%d", i), "t'es qu'un connard")
	}
	for i := range 40 {
		add(t0.Add(time.Duration(140+i)*time.Second), fmt.Sprintf("m%d", i), fmt.Sprintf("achetez mes stickers numero %d", i))
	}
	agree(t, evs, clock, map[string]string{})
}

// faqMinutes is a few minutes of questions in a Discord server, in three
// channels, ending at end, a minute before vigie run's clock: vigie run asks
// the FAQ only about a message at most handlers.DefaultStale old, so the
// FAQ's decisions and cooldowns can be compared on such a stream alone.
func faqMinutes(end time.Time) []agreeEvent {
	rng := rand.New(rand.NewPCG(3, 5))
	old := end.Add(-400 * 24 * time.Hour)
	texts := []string{
		"quels sont vos horaires ?", "what are your opening hours?", "vous êtes ouverts le dimanche ?",
		"how can I contact support?", "comment je fais pour me faire rembourser ?", "do you ship abroad?",
		"est-ce que quelqu'un sait réparer un vélo ?", "what's the airspeed velocity of an unladen swallow?",
		"c'est quoi vos horaires le samedi ?", "bonsoir", "t'es qu'un connard", "merci !",
	}
	var out []agreeEvent
	// six minutes ending a minute before the clock: the first question is
	// 7 minutes old, 3 from the FAQ's 10, room for a slow machine
	start := end.Add(-6 * time.Minute)
	for i, at := 0, start; at.Before(end); i, at = i+1, at.Add(time.Duration(3+rng.IntN(9))*time.Second) {
		a := agreeAuthor{ID: fmt.Sprintf("q%d", rng.IntN(12)), Name: "asker", CreatedAt: &old, JoinedAt: &old}
		if rng.IntN(20) == 0 {
			a.Staff = true
		}
		out = append(out, agreeEvent{ID: fmt.Sprintf("faq-%d", i), Platform: "discord", Kind: "message", Space: "guild-faq",
			Channel: fmt.Sprintf("c%d", rng.IntN(3)), Author: a, Text: texts[rng.IntN(len(texts))], At: at})
	}
	// a webhook retry of a question
	dup := out[len(out)/3]
	dup.At = dup.At.Add(time.Second)
	return append(out, dup)
}

// TestDaemonAgreesWithReplayOnTheFAQ compares the FAQ's answers, suggestions,
// forwards and cooldowns, and the crisis alerts paged, on a few fresh minutes
// of questions, on both stores (see TestDaemonAgreesWithReplay), in office
// hours and after them.
func TestDaemonAgreesWithReplayOnTheFAQ(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		// Friday 20 November 2026 in Paris
		{"office hours", agreeStart.Add(-4 * time.Hour)}, // 15:00
		{"after hours", agreeStart.Add(3 * time.Hour)},   // 22:00
	} {
		evs := faqMinutes(tc.at.Add(-time.Minute))
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
		t.Run(tc.name+"/redis", func(t *testing.T) {
			agree(t, evs, clockFrom(tc.at), map[string]string{"VIGIE_REDIS_URL": redistest.Start(t).URL()})
		})
		t.Run(tc.name+"/memory", func(t *testing.T) { agree(t, evs, clockFrom(tc.at), map[string]string{}) })
	}
}

// agree replays evs and posts them to a vigie run on the clock now with env,
// and compares.
func agree(t *testing.T, evs []agreeEvent, now func() time.Time, env map[string]string) {
	t.Helper()
	dir := t.TempDir()
	stream := filepath.Join(dir, "stream.jsonl")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(stream, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	const config = "../../rules.example.yaml"

	// the replay, as a CM runs it
	decisions := filepath.Join(dir, "decisions.jsonl")
	r := run("replay", "--config", config, "--format", "json", "--decisions", decisions, stream)
	if r.code != 0 {
		t.Fatalf("vigie replay: exit %d\n%s", r.code, r.stderr)
	}
	var sum replay.Summary
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("vigie replay --format json: %v\n%s", err, r.stdout)
	}
	replayed := readDecisions(t, decisions)
	if len(replayed) != len(evs) {
		t.Fatalf("the replay decided %d events of %d", len(replayed), len(evs))
	}

	// the daemon, one event at a time
	base := serve(t, now, env, "--config", config)
	posted := make([]agreeVerdict, len(evs))
	stale := 0
	client := &http.Client{}
	for i, ev := range evs {
		sent := now()
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Post(base+"/v1/events", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("event %d (%s): %v", i+1, ev.ID, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("event %d (%s): %d %s %v", i+1, ev.ID, resp.StatusCode, b, err)
		}
		var answer struct {
			agreeVerdict
			FAQ *struct {
				Decision string `json:"decision"`
			} `json:"faq"`
		}
		if err := json.Unmarshal(b, &answer); err != nil {
			t.Fatalf("event %d (%s): %v\n%s", i+1, ev.ID, err, b)
		}
		posted[i] = answer.agreeVerdict
		if answer.FAQ != nil {
			posted[i].FAQ = answer.FAQ.Decision
		}
		if sent.Sub(ev.At) > handlers.DefaultStale {
			// By design, vigie run neither answers nor forwards a question
			// posted long after it was asked: the asker has moved on. The
			// replay asks the FAQ as the events come, on their own clock.
			replayed[i].FAQ = ""
			stale++
		}
	}

	// event by event
	differ := 0
	for i := range evs {
		if got, want := posted[i].String(), replayed[i].String(); got != want {
			differ++
			if differ <= 10 {
				t.Errorf("event %d (%s %s %q at %s):\n vigie run    %s\n vigie replay %s", i+1, evs[i].ID, evs[i].Kind,
					evs[i].Text, evs[i].At.Format(time.RFC3339), got, want)
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d events judged otherwise by vigie run and vigie replay", differ, len(evs))
	}

	// and the summary counts what the replay's verdicts say
	events, flagged, dups := 0, 0, 0
	byRule := map[string]int{}
	faqs := map[string]int{}
	for _, v := range posted {
		if v.Duplicate {
			dups++
			continue
		}
		events++
		enforced := false
		for _, m := range v.Matches {
			byRule[m.Rule]++
			enforced = enforced || !m.Shadow
		}
		if enforced {
			flagged++
		}
		if v.FAQ != "" {
			faqs[v.FAQ]++
		}
	}
	if sum.Events != events+dups || sum.Flagged != flagged || sum.Duplicates != dups {
		t.Errorf("replay summary: %d events, %d flagged, %d duplicates; vigie run judged %d events, %d flagged, %d duplicates",
			sum.Events, sum.Flagged, sum.Duplicates, events+dups, flagged, dups)
	}
	for rule, n := range sum.ByRule {
		if byRule[rule] != n {
			t.Errorf("rule %s: %d hits in the replay's summary, %d in vigie run's verdicts", rule, n, byRule[rule])
		}
	}
	for _, k := range []string{"answer", "suggest", "forward"} {
		if stale == 0 && sum.FAQ[k] != faqs[k] {
			t.Errorf("faq %s: %d in the replay's summary, %d in vigie run's answers", k, sum.FAQ[k], faqs[k])
		}
	}
	// the crisis alerts: as many waves paged as the replay lists, once the
	// daemon's observer has followed every event. Events posted late are
	// not compared: by design, vigie run pages an alert at most once per
	// place within its window of the wall clock (docs/rules.md).
	if stale == 0 {
		want := map[string]int{}
		for _, a := range sum.Alerts {
			want[a.Name]++
		}
		var got map[string]int
		if !waitFor(t, func() bool { got = alertsRaised(t, base); return maps.Equal(got, want) }) {
			t.Errorf("alerts raised: vigie run %v, vigie replay %v", got, want)
		}
	}
	t.Logf("%d events (%d too old for the FAQ when posted): %d flagged, %d duplicates, faq %v, alerts %d, hits %v",
		len(evs), stale, flagged, dups, faqs, len(sum.Alerts), byRule)
}

// alertsRaised reads vigie_alerts_total{state="raised"} of a running vigie,
// by alert, leaving out the alerts never raised.
func alertsRaised(t *testing.T, base string) map[string]int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for line := range strings.Lines(string(b)) {
		var name string
		var n int
		if _, err := fmt.Sscanf(line, "vigie_alerts_total{alert=%q,state=\"raised\"} %d", &name, &n); err == nil && n > 0 {
			out[name] = n
		}
	}
	return out
}

// readDecisions reads a --decisions file as agreeVerdicts, in order.
func readDecisions(t *testing.T, path string) []agreeVerdict {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []agreeVerdict
	for line := range strings.Lines(string(data)) {
		var d struct {
			Verdict agreeVerdict `json:"verdict"`
			FAQ     string       `json:"faq"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, line)
		}
		v := d.Verdict
		if slices.Contains([]string{"answer", "suggest", "forward"}, d.FAQ) {
			v.FAQ = d.FAQ
		}
		out = append(out, v)
	}
	return out
}

// sharedData holds the labelled public data (its README says what each file is).
const sharedData = "../../../shared/data"
