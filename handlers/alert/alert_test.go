package alert_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/handlers/alert"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

const waveRules = `
timezone: Europe/Paris
lists:
  insults: [idiot, crétin]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [hide]
alerts: [{name: wave, when: 'hits("abuse", "10m") >= 20', do: [alert("Vague de commentaires hostiles")]}]
`

// night is when every test's clock starts: a Friday, 23:00 in Paris. The
// tests read no other clock, so they say the same on any day.
var night = time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)

// pass moves clk on by d a second at a time, and lets what each second set
// off (the alerter's timers, in the synctest bubble) run before the next.
func pass(clk *stepclock.Clock, d time.Duration) {
	for range d / time.Second {
		clk.Step(time.Second)
		synctest.Wait()
	}
}

// waveEngine parses waveRules and gives an engine for them with opts, on a
// memory store of its own that the test closes when it ends.
func waveEngine(t *testing.T, opts rules.Options) (*rules.Ruleset, *memory.Store, *rules.Engine) {
	t.Helper()
	rs, err := rules.Parse("wave.yaml", []byte(waveRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	return rs, st, rules.NewEngine(rs, st, opts)
}

// runAlerter runs a until stop is called; stop waits for Run to return.
func runAlerter(a *alert.Alerter) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	return ctx, func() { cancel(); <-done }
}

// desk keeps what the CMs were told; it can page them.
type desk struct {
	mu     sync.Mutex
	pages  []string
	alerts []string
	fail   error
}

func (d *desk) Alert(_ context.Context, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.alerts = append(d.alerts, text)
	return d.fail
}

func (d *desk) Page(_ context.Context, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pages = append(d.pages, text)
	return d.fail
}

func (d *desk) told() (pages, alerts []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.pages...), append([]string(nil), d.alerts...)
}

// TestWaveOfInsultsOnOnePage plays, on a step clock, a wave of 30 insults on
// a Facebook page among ordinary comments: the CMs are paged once, with the
// figures, and told when it is over, by the timer since no event ends it.
func TestWaveOfInsultsOnOnePage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := stepclock.New(night)
		rs, st, eng := waveEngine(t, rules.Options{})
		d := &desk{}
		reg := prometheus.NewRegistry()
		paris, _ := time.LoadLocation("Europe/Paris")
		a, err := alert.New(rs.WaveAlerts(), alert.Options{Store: st, Desk: d, Registerer: reg,
			Now: clk.Now, AfterFunc: clk.AfterFunc, Location: func() *time.Location { return paris }})
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := runAlerter(a)

		n := 0
		post := func(space, author, text string) {
			n++
			ev := bot.Event{ID: fmt.Sprint("c-", n), Platform: "facebook", Kind: bot.KindComment, Space: space,
				Author: bot.Author{ID: author, Name: author}, Text: text, At: clk.Now(), Link: fmt.Sprint("https://fb.test/", n)}
			as, err := eng.Assess(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			a.Observe(ctx, ev, as)
		}
		start := clk.Now()
		for i := range 30 {
			post("page-1", fmt.Sprint("angry", i%5), fmt.Sprint("quel idiot ", i))
			post("page-1", "fan", "j'adore")
			post("page-2", "calm", "bonjour")
			pass(clk, 10*time.Second)
		}
		pages, alerts := d.told()
		if len(pages) != 1 || len(alerts) != 0 {
			t.Fatalf("told %q and %q, want one page", pages, alerts)
		}
		page := pages[0]
		for _, want := range []string{
			"wave: Vague de commentaires hostiles\n",
			"20 hits on facebook page-1 since " + start.In(paris).Format("15:04") + " (insult 20).",
			"– " + start.In(paris).Format("15:04") + " angry0: quel idiot 0 https://fb.test/1",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q:\n%s", want, page)
			}
		}
		if got := metric(t, reg, "vigie_alerts_active", "wave"); got != 1 {
			t.Errorf("active gauge %v", got)
		}
		// quiet: nine minutes on the wave holds, after it the timer ends it
		pass(clk, 9*time.Minute)
		if _, alerts := d.told(); len(alerts) != 0 {
			t.Fatalf("over too early: %q", alerts)
		}
		pass(clk, 2*time.Minute)
		_, alerts = d.told()
		if len(alerts) != 1 || !strings.HasPrefix(alerts[0], "Over: wave on facebook page-1, 30 hits from ") ||
			!strings.HasSuffix(alerts[0], "(insult 30); quiet for 10m.") {
			t.Fatalf("over message %q", alerts)
		}
		waves, err := alert.Waves(ctx, st, start.Add(-time.Hour))
		if err != nil || len(waves) != 1 {
			t.Fatalf("waves %+v %v", waves, err)
		}
		w := waves[0]
		if w.Count != 30 || w.Space != "page-1" || !w.From.Equal(start) || w.Over.IsZero() || w.Message != "Vague de commentaires hostiles" {
			t.Errorf("recorded %+v", w)
		}
		if got := metric(t, reg, "vigie_alerts_total", "wave", "raised"); got != 1 {
			t.Errorf("raised counter %v", got)
		}

		// a second wave the same night pages again
		for range 20 {
			post("page-1", "angry9", "crétin")
			pass(clk, time.Second)
		}
		if pages, _ := d.told(); len(pages) != 2 {
			t.Errorf("second wave: %d pages", len(pages))
		}
		stop()
	})
}

// TestTwoInstancesPageOnce runs two alerters on one store, as two vigie
// processes on one Redis: the CMs are paged once.
func TestTwoInstancesPageOnce(t *testing.T) {
	rs, st, eng := waveEngine(t, rules.Options{})
	t0 := night
	now := t0
	clock := func() time.Time { return now }
	d1, d2 := &desk{}, &desk{}
	a1, _ := alert.New(rs.WaveAlerts(), alert.Options{Store: st, Desk: d1, Now: clock})
	a2, _ := alert.New(rs.WaveAlerts(), alert.Options{Store: st, Desk: d2, Now: clock})
	ctx := context.Background()
	for i := range 30 {
		now = t0.Add(time.Duration(i) * 10 * time.Second)
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "facebook", Space: "page-1", Author: bot.Author{ID: "x"}, Text: "idiot", At: now}
		as, err := eng.Assess(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		// the two processes take turns
		if i%2 == 0 {
			a1.Observe(ctx, ev, as)
		} else {
			a2.Observe(ctx, ev, as)
		}
	}
	p1, _ := d1.told()
	p2, _ := d2.told()
	if len(p1)+len(p2) != 1 {
		t.Errorf("paged %d + %d times", len(p1), len(p2))
	}
	now = now.Add(time.Hour)
	a1.Tick(ctx)
	a2.Tick(ctx)
	_, o1 := d1.told()
	_, o2 := d2.told()
	if len(o1)+len(o2) != 1 {
		t.Errorf("over told %d + %d times", len(o1), len(o2))
	}
}

func TestDeskWithoutPagingNamesTheCMs(t *testing.T) {
	rs, st, eng := waveEngine(t, rules.Options{})
	plain := &plainDesk{}
	clk := stepclock.New(night)
	a, _ := alert.New(rs.WaveAlerts(), alert.Options{Store: st, Desk: plain, Now: clk.Now,
		CMs: func() []string { return []string{"telegram:1", "telegram:2"} }})
	for i := range 20 {
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "facebook", Space: "p", Author: bot.Author{ID: "x"}, Text: "idiot", At: clk.Now()}
		as, _ := eng.Assess(context.Background(), ev)
		a.Observe(context.Background(), ev, as)
		clk.Step(time.Second)
	}
	if len(plain.texts) != 1 || !strings.HasSuffix(plain.texts[0], "cc telegram:1, telegram:2") {
		t.Errorf("told %q", plain.texts)
	}
}

type plainDesk struct{ texts []string }

func (p *plainDesk) Alert(_ context.Context, text string) error {
	p.texts = append(p.texts, text)
	return nil
}

// metric reads a series from reg by its label values.
func metric(t *testing.T, reg *prometheus.Registry, name string, values ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetValue())
			}
			if strings.Join(got, ",") != strings.Join(values, ",") {
				continue
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// communityDesk keeps the alerts by community ("" for the file's desk).
type communityDesk struct{ told []string }

func (d *communityDesk) Alert(_ context.Context, text string) error {
	d.told = append(d.told, "file: "+text)
	return nil
}

func (d *communityDesk) AlertCommunity(_ context.Context, community, text string) error {
	d.told = append(d.told, community+": "+text)
	return nil
}

// A wave on a community's page goes to the community's desk, naming its CMs
// and the file's; a wave on a page of no community to the file's desk.
func TestWaveToCommunityDesk(t *testing.T) {
	rs, err := rules.Parse("wave.yaml", []byte(waveRules+`
desk: {cms: ["telegram:1"]}
communities:
  shop:
    places: ["facebook:100"]
    desk: {telegram_chat: "-1002", cms: ["telegram:2"]}
`), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &communityDesk{}
	for _, page := range []string{"100", "200"} {
		// a store, an alerter and a clock each: one wave of each alert at a time
		st := memory.New()
		defer st.Close()
		eng := rules.NewEngine(rs, st, rules.Options{})
		clk := stepclock.New(night)
		a, _ := alert.New(rs.WaveAlerts(), alert.Options{Store: st, Desk: d, Now: clk.Now,
			CMs:       func() []string { return rs.Desk.CMs },
			Community: rs.CommunityOf})
		for i := range 20 {
			ev := bot.Event{ID: page + fmt.Sprint(i), Platform: "facebook", Space: page, Author: bot.Author{ID: "x"}, Text: "idiot", At: clk.Now()}
			as, _ := eng.Assess(context.Background(), ev)
			a.Observe(context.Background(), ev, as)
			clk.Step(time.Second)
		}
	}
	if len(d.told) != 2 || !strings.HasPrefix(d.told[0], "shop: ") || !strings.Contains(d.told[0], "facebook 100") ||
		!strings.HasSuffix(d.told[0], "cc telegram:1, telegram:2") ||
		!strings.HasPrefix(d.told[1], "file: ") || !strings.Contains(d.told[1], "facebook 200") {
		t.Errorf("told %q", d.told)
	}
}

// flakyDesk refuses the first pages it gets with err, then takes them.
type flakyDesk struct {
	mu     sync.Mutex
	refuse int
	err    error
	tries  int
	pages  []string
}

func (d *flakyDesk) Alert(ctx context.Context, text string) error { return d.Page(ctx, text) }

func (d *flakyDesk) Page(_ context.Context, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tries++
	if d.tries <= d.refuse {
		return d.err
	}
	d.pages = append(d.pages, text)
	return nil
}

func (d *flakyDesk) told() (tries int, pages []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tries, append([]string(nil), d.pages...)
}

// insults shows a and eng 20 insults on page-1, dated on clk, which passes
// gap after each: a wave, in the synctest bubble.
func insults(t *testing.T, ctx context.Context, eng *rules.Engine, a *alert.Alerter, clk *stepclock.Clock, gap time.Duration) {
	t.Helper()
	for i := range 20 {
		ev := bot.Event{ID: fmt.Sprint("c-", i), Platform: "facebook", Kind: bot.KindComment, Space: "page-1",
			Author: bot.Author{ID: "angry", Name: "angry"}, Text: "quel idiot", At: clk.Now()}
		as, err := eng.Assess(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		a.Observe(ctx, ev, as)
		pass(clk, gap)
	}
}

// TestPageTriedAgain: the one message that wakes the CMs must not be lost to
// one refusal the desk may get over (Telegram's 5xx, a 429 in a crisis that
// fills the desk chat): it is sent again, as the platform asks, until taken.
// A refusal for good is not tried again.
func TestPageTriedAgain(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		refuse    int
		wantTries int
		wantPages int
	}{
		{"server errors then taken", &bot.ActionError{Op: bot.ActAlert, Retryable: true, Err: fmt.Errorf("telegram sendMessage: Bad Gateway (502)")}, 3, 4, 1},
		{"rate limited then taken", &bot.ActionError{Op: bot.ActAlert, Retryable: true, RetryAfter: 45 * time.Second, Err: fmt.Errorf("telegram sendMessage: Too Many Requests (429)")}, 1, 2, 1},
		{"refused for good", &bot.ActionError{Op: bot.ActAlert, Err: fmt.Errorf("telegram sendMessage: chat not found (400)")}, 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk := stepclock.New(night)
				rs, st, eng := waveEngine(t, rules.Options{})
				d := &flakyDesk{refuse: tt.refuse, err: tt.err}
				reg := prometheus.NewRegistry()
				a, err := alert.New(rs.WaveAlerts(), alert.Options{Store: st, Desk: d, Registerer: reg, Now: clk.Now, AfterFunc: clk.AfterFunc})
				if err != nil {
					t.Fatal(err)
				}
				ctx, stop := runAlerter(a)
				insults(t, ctx, eng, a, clk, time.Second)
				// a few minutes: the wave goes on (no "over" yet)
				pass(clk, 5*time.Minute)
				tries, pages := d.told()
				if tries != tt.wantTries || len(pages) != tt.wantPages {
					t.Errorf("%d tries, %d pages taken; want %d and %d", tries, len(pages), tt.wantTries, tt.wantPages)
				}
				if tt.wantPages == 0 {
					if got := metric(t, reg, "vigie_alerts_total", "wave", "undelivered"); got != 1 {
						t.Errorf("undelivered counter %v, want 1", got)
					}
				}
				stop()
			})
		})
	}
}

// TestPageTriedAgainOnTheClock: a page the desk refused is tried again when
// the alerter's clock (Options.Now, Options.AfterFunc) says, not the wall
// clock's: in the bubble no time passes but the steps of the clock, and the
// retry comes once the clock moved past its wait, not before. Run stops its
// timers when its context ends.
func TestPageTriedAgainOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := stepclock.New(night)
		rs, st, eng := waveEngine(t, rules.Options{Clock: clk.Now})
		d := &flakyDesk{refuse: 1, err: &bot.ActionError{Op: bot.ActAlert, Retryable: true,
			Err: fmt.Errorf("telegram sendMessage: Bad Gateway (502)")}}
		a, err := alert.New(rs.WaveAlerts(), alert.Options{Store: st, Desk: d, Now: clk.Now, AfterFunc: clk.AfterFunc})
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := runAlerter(a)
		insults(t, ctx, eng, a, clk, 0)
		synctest.Wait()
		if tries, pages := d.told(); tries != 1 || len(pages) != 0 {
			t.Fatalf("%d tries, %d pages taken; want the one refused", tries, len(pages))
		}
		// The first retry waits 5s on the clock: 4s is too soon.
		clk.Step(4 * time.Second)
		synctest.Wait()
		if tries, _ := d.told(); tries != 1 {
			t.Fatalf("%d tries 4s after the refusal, want 1", tries)
		}
		clk.Step(time.Second)
		synctest.Wait()
		if tries, pages := d.told(); tries != 2 || len(pages) != 1 {
			t.Errorf("%d tries, %d pages taken 5s after the refusal; want 2 and 1", tries, len(pages))
		}
		stop()
		if n := clk.Pending(); n != 0 {
			t.Errorf("%d timers still set after Run returned", n)
		}
	})
}

// A wave's page names its place as the platform does, on one line, cut, and
// unable to turn the page's text around it: the name is a member's choice.
func TestPageNamesThePlace(t *testing.T) {
	rs, st, eng := waveEngine(t, rules.Options{})
	now := night
	d := &desk{}
	title := "Fans\n✅ all clear E" + strings.Repeat("\u0301", 20) + "\u200b \u202e" + strings.Repeat("x", 100)
	a, _ := alert.New(rs.WaveAlerts(), alert.Options{Store: st, Desk: d, Now: func() time.Time { return now },
		PlaceName: func(platform, space string) string {
			if platform == "facebook" && space == "page-1" {
				return title
			}
			return ""
		}})
	ctx := context.Background()
	for i := range 30 {
		now = night.Add(time.Duration(i) * 10 * time.Second)
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "facebook", Space: "page-1", Author: bot.Author{ID: "x"}, Text: "idiot", At: now}
		as, err := eng.Assess(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		a.Observe(ctx, ev, as)
	}
	pages, _ := d.told()
	if len(pages) != 1 {
		t.Fatalf("paged %d times", len(pages))
	}
	// on one line, 4 accents on a letter at most, the zero-width space
	// dropped, cut to 60 characters, then set apart
	want := "hits on facebook · \u2068Fans ✅ all clear E" + strings.Repeat("\u0301", 4) + " \u202e" + strings.Repeat("x", 35) + "…\u2069 (page-1) since"
	if !strings.Contains(pages[0], want) {
		t.Errorf("page = %q\nwant %q in it", pages[0], want)
	}
}

const joinRules = `
timezone: UTC
counters:
  joins: {key: space, window: 10m, when: 'kind == "join"'}
rules: []
alerts:
  - name: raid
    when: counters.joins >= 15 and kind == "join"
    do: ['alert("Raid de nouveaux comptes sur {{space}}")']
`

// TestJoinWaveSaysWhatItCounts: a raid alert over a counter of joins, with
// no hits(), pages with what the wave is (joins, in the counter's window),
// not "0 hits", and its end counts the joins it held for.
func TestJoinWaveSaysWhatItCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := stepclock.New(night)
		rs, err := rules.Parse("joins.yaml", []byte(joinRules), rules.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		st := memory.New()
		defer st.Close()
		eng := rules.NewEngine(rs, st, rules.Options{})
		d := &desk{}
		a, err := alert.New(rs.WaveAlerts(), alert.Options{Store: st, Desk: d, Registerer: prometheus.NewRegistry(),
			Now: clk.Now, AfterFunc: clk.AfterFunc})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()
		for i := range 20 {
			ev := bot.Event{ID: fmt.Sprint("j-", i), Platform: "telegram", Kind: bot.KindJoin, Space: "-100200",
				Author: bot.Author{ID: fmt.Sprint(1000 + i), Name: fmt.Sprint("bot", i)}, At: clk.Now()}
			as, err := eng.Assess(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			a.Observe(ctx, ev, as)
			pass(clk, 10*time.Second)
		}
		pages, _ := d.told()
		if len(pages) != 1 {
			t.Fatalf("pages %q, want one", pages)
		}
		raisedAt := night.Add(140 * time.Second).Format("15:04")
		for _, want := range []string{"15 joins in 10m on telegram -100200, counted at " + raisedAt + ".", "\n– " + raisedAt + " bot14\n"} {
			if !strings.Contains(pages[0], want) {
				t.Errorf("page lacks %q:\n%s", want, pages[0])
			}
		}
		pass(clk, 11*time.Minute)
		_, alerts := d.told()
		if len(alerts) != 1 || !strings.HasPrefix(alerts[0], "Over: raid on telegram -100200, 20 joins from ") {
			t.Errorf("over message %q", alerts)
		}
		cancel()
		<-done
	})
}
