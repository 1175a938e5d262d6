package faq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// chat is a platform that replies in place and sends private messages, and
// records what it was asked to do.
type chat struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

var (
	_ bot.Replier = (*chat)(nil)
	_ bot.Warner  = (*chat)(nil)
)

func (c *chat) Name() string { return "chat" }

func (c *chat) Reply(_ context.Context, ev bot.Event, text string) error {
	return c.add(fmt.Sprintf("reply %s %s: %s", ev.ID, ev.Channel, text))
}

func (c *chat) Warn(_ context.Context, ev bot.Event, text string) error {
	return c.add(fmt.Sprintf("dm %s %s: %s", ev.ID, ev.Author.ID, text))
}

func (c *chat) add(s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.calls = append(c.calls, s)
	return nil
}

func (c *chat) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// replyOnly is a page that can only reply in public.
type replyOnly struct{ rec chat }

var _ bot.Replier = (*replyOnly)(nil)

func (p *replyOnly) Name() string { return "page" }

func (p *replyOnly) Reply(ctx context.Context, ev bot.Event, text string) error {
	return p.rec.Reply(ctx, ev, text)
}

func (p *replyOnly) Calls() []string { return p.rec.Calls() }

func newAssistant(t *testing.T, ps ...bot.Platform) (*Assistant, store.Store, *prometheus.Registry) {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	reg := prometheus.NewRegistry()
	platforms := map[string]bot.Platform{}
	for _, p := range ps {
		platforms[p.Name()] = p
	}
	a, err := New(Options{Platforms: platforms, Store: st, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return a, st, reg
}

func TestHandleCooldowns(t *testing.T) {
	c := &chat{}
	a, _, reg := newAssistant(t, c)
	cfg := smallConfig()
	cfg.ChannelCooldown = 5 * time.Minute
	cfg.UserCooldown = time.Hour
	m, err := NewMatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	ask := func(id, channel, author string, after time.Duration, text string) Decision {
		t.Helper()
		ev := bot.Event{ID: id, Platform: "chat", Kind: bot.KindMessage, Space: "s", Channel: channel,
			Author: bot.Author{ID: author, Name: author}, Text: text, At: base.Add(after)}
		d, err := a.Handle(context.Background(), m, &ev, bot.Verdict{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	steps := []struct {
		id, channel, author string
		after               time.Duration
		text                string
		want                Kind
	}{
		{"1", "general", "ana", 0, "vos horaires ?", Answer},
		{"2", "general", "bob", time.Minute, "c'est quoi vos horaires ?", Silent},  // same channel
		{"3", "help", "bob", 2 * time.Minute, "c'est quoi vos horaires ?", Answer}, // another channel
		{"4", "general", "cid", 6 * time.Minute, "horaires ?", Answer},             // channel cooldown over
		{"5", "other", "ana", 10 * time.Minute, "vos horaires ??", Silent},         // ana got it an hour ago
		{"6", "general", "ana", 11 * time.Minute, "how long does delivery take?", Answer},
		{"7", "other", "ana", 70 * time.Minute, "vos horaires ??", Answer}, // user cooldown over
	}
	for _, s := range steps {
		if d := ask(s.id, s.channel, s.author, s.after, s.text); d.Kind != s.want {
			t.Fatalf("message %s: %s (%s), want %s", s.id, d.Kind, d.Why, s.want)
		}
	}
	want := []string{
		"reply 1 general: 9h-19h, ana.",
		"reply 3 help: 9h-19h, bob.",
		"reply 4 general: 9h-19h, cid.",
		"reply 6 general: 2 to 4 days.",
		"reply 7 other: 9h-19h, ana.",
	}
	if got := c.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got := counts(t, reg)
	for k, v := range map[string]float64{
		"vigie_faq_decisions_total{decision=cooldown,entry=hours}": 2,
		"vigie_faq_decisions_total{decision=answer,entry=hours}":   4,
		"vigie_faq_replies_total{platform=chat,result=done}":       5,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	rep := a.Report(time.Time{}, 5)
	if len(rep.Entries) != 2 || rep.Entries[0] != (EntryCounts{ID: "hours", Answered: 4, Cooled: 2}) ||
		rep.Entries[1] != (EntryCounts{ID: "delivery", Answered: 1}) {
		t.Errorf("report entries = %+v", rep.Entries)
	}
}

// TestOneAnswerWhileTheFirstIsOnItsWay: a raid pastes one question from five
// accounts into a channel at once, so that each is decided before the first
// answer is out and its cooldown written (POST /v1/events decides on the
// request, the answer goes in the place's lane): one answer, four cooled.
func TestOneAnswerWhileTheFirstIsOnItsWay(t *testing.T) {
	c := &chat{}
	a, _, _ := newAssistant(t, c)
	cfg := smallConfig()
	cfg.ChannelCooldown = 5 * time.Minute
	m, err := NewMatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	var evs []bot.Event
	var ds []Decision
	for i := range 5 {
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "chat", Kind: bot.KindMessage, Space: "s", Channel: "general",
			Author: bot.Author{ID: fmt.Sprint("u", i), Name: "x"}, Text: "vos horaires ?", At: at}
		d, err := a.Decide(ctx, m, &ev, bot.Verdict{})
		if err != nil {
			t.Fatal(err)
		}
		evs, ds = append(evs, ev), append(ds, d)
	}
	answers := 0
	for i := range evs {
		if ds[i].Kind == Answer {
			answers++
		} else if ds[i].Why != WhyCooldown {
			t.Errorf("question %d: %s (%s), want an answer or a cooldown", i, ds[i].Kind, ds[i].Why)
		}
		if err := a.Carry(ctx, m, &evs[i], ds[i]); err != nil {
			t.Fatal(err)
		}
	}
	if answers != 1 || len(c.Calls()) != 1 {
		t.Errorf("%d answers decided, %d sent (%v), want one", answers, len(c.Calls()), c.Calls())
	}
	// the claim holds for less than the cooldown: once the first answer is
	// out, its cooldown holds the channel
	ev := bot.Event{ID: "late", Platform: "chat", Kind: bot.KindMessage, Space: "s", Channel: "general",
		Author: bot.Author{ID: "v", Name: "x"}, Text: "vos horaires ?", At: at.Add(2 * time.Minute)}
	if d, _ := a.Decide(ctx, m, &ev, bot.Verdict{}); d.Kind != Silent || d.Why != WhyCooldown {
		t.Errorf("two minutes on: %s (%s), want the cooldown", d.Kind, d.Why)
	}
}

func TestHandleWays(t *testing.T) {
	cfg := smallConfig()
	m, err := NewMatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.afterHours = func(at time.Time) bool { return at.Hour() >= 19 }
	office := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	night := office.Add(11 * time.Hour)
	for _, tt := range []struct {
		name     string
		platform string
		fail     error
		text     string
		at       time.Time
		calls    []string
		cases    []string // reason: suggested reply
	}{
		{name: "private answer by DM", platform: "chat", text: "comment contacter le support ?", at: office,
			calls: []string{"dm m1 u1: contact@example.com"}},
		{name: "private answer in public where no DM", platform: "page", text: "comment contacter le support ?", at: office,
			calls: []string{"reply m1 general: contact@example.com"}},
		{name: "forward mode opens a case with the answer", platform: "chat", text: "comment signaler un joueur ?", at: office,
			cases: []string{"faq: the entry is answered by the CMs (entry report, score 0.85): reply(\"Ouvrez un ticket.\")"}},
		{name: "unanswered after hours opens a case", platform: "chat", text: "vous acceptez les chèques vacances ?", at: night,
			cases: []string{"faq: unanswered question after hours: "}},
		{name: "chit-chat after hours: nothing", platform: "chat", text: "qui a vu le match ?", at: night},
		{name: "unanswered in office hours: nothing", platform: "chat", text: "qui a vu le match ?", at: office},
		{name: "platform off", platform: "gone", text: "vos horaires ?", at: office},
		{name: "reply fails: counted, not returned", platform: "chat", fail: errors.New("boom"), text: "vos horaires ?", at: office},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &chat{fail: tt.fail}
			p := &replyOnly{}
			a, st, reg := newAssistant(t, c, p)
			ev := bot.Event{ID: "m1", Platform: tt.platform, Kind: bot.KindMessage, Channel: "general",
				Author: bot.Author{ID: "u1", Name: "Léa"}, Text: tt.text, At: tt.at}
			if _, err := a.Handle(context.Background(), m, &ev, bot.Verdict{}); err != nil {
				t.Fatal(err)
			}
			got := append(c.Calls(), p.Calls()...)
			if !slices.Equal(got, tt.calls) {
				t.Errorf("calls = %q, want %q", got, tt.calls)
			}
			cs, err := st.Cases(context.Background(), store.CaseOpen)
			if err != nil {
				t.Fatal(err)
			}
			var cases []string
			for _, c := range cs {
				s := c.Reason + ": "
				for _, a := range c.Suggested {
					s += a.String()
				}
				cases = append(cases, s)
				if c.Category != "faq" || c.Event.ID != "m1" {
					t.Errorf("case = %+v", c)
				}
			}
			if !slices.Equal(cases, tt.cases) {
				t.Errorf("cases = %q, want %q", cases, tt.cases)
			}
			if tt.fail != nil {
				if got := counts(t, reg)["vigie_faq_replies_total{platform=chat,result=failed}"]; got != 1 {
					t.Errorf("failed replies = %v", got)
				}
			}
		})
	}
}

func TestReportGroupsUnanswered(t *testing.T) {
	a, _, _ := newAssistant(t)
	m, err := NewMatcher(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	texts := []string{
		"vous vendez des cartes cadeaux ?",
		"Vous vendez des cartes cadeau ?",
		"c'est quoi la taille du modèle ?",
		"vendez-vous des cartes cadeaux ?",
		"vos horaires ?", // answered
		"gg wp",          // not a question: not in the report
		"la taille du modèle sur la photo ?",
	}
	for i, text := range texts {
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "chat", Kind: bot.KindMessage, Channel: "c",
			Author: bot.Author{ID: fmt.Sprint("u", i)}, Text: text, At: base.Add(time.Duration(i) * time.Minute)}
		if _, err := a.Handle(context.Background(), m, &ev, bot.Verdict{}); err != nil {
			t.Fatal(err)
		}
	}
	rep := a.Report(time.Time{}, 10)
	if rep.Questions != 6 || rep.Unanswered != 5 || rep.AnsweredTotal != 1 {
		t.Fatalf("report = %+v", rep)
	}
	if len(rep.TopUnanswered) != 2 {
		t.Fatalf("groups = %+v", rep.TopUnanswered)
	}
	g := rep.TopUnanswered[0]
	if g.Example != texts[0] || g.Count != 3 || !g.Last.Equal(base.Add(3*time.Minute)) {
		t.Errorf("first group = %+v", g)
	}
	if g := rep.TopUnanswered[1]; g.Example != texts[2] || g.Count != 2 {
		t.Errorf("second group = %+v", g)
	}
	wantSummary := `FAQ: 6 questions, 1 answered, 0 suggested, 0 forwarded, 5 unanswered.
  hours: 1 answered
Most asked without an answer:
  3× "vous vendez des cartes cadeaux ?"
  2× "c'est quoi la taille du modèle ?"`
	if got := rep.Summary(); got != wantSummary {
		t.Errorf("summary:\n%s\nwant:\n%s", got, wantSummary)
	}
	if got := (Report{}).Summary(); got != "" {
		t.Errorf("empty summary = %q", got)
	}
	// since cuts the older ones
	if rep := a.Report(base.Add(4*time.Minute), 10); rep.Questions != 2 || rep.Unanswered != 1 {
		t.Errorf("report since = %+v", rep)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	st := memory.New()
	defer st.Close()
	a, err := New(Options{Store: st, History: 3})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMatcher(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "x", Kind: bot.KindMessage, Text: "question sur les cadeaux ?",
			Author: bot.Author{ID: "u"}, At: base.Add(time.Duration(i) * time.Minute)}
		if _, err := a.Handle(context.Background(), m, &ev, bot.Verdict{}); err != nil {
			t.Fatal(err)
		}
	}
	rep := a.Report(time.Time{}, 10)
	if rep.Questions != 3 || len(rep.TopUnanswered) != 1 || rep.TopUnanswered[0].Count != 3 ||
		!rep.TopUnanswered[0].Last.Equal(base.Add(4*time.Minute)) {
		t.Errorf("report = %+v", rep)
	}
}

// counts reads the counters of reg as name{label=value,...} → value.
func counts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			out[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] = m.GetCounter().GetValue()
		}
	}
	return out
}

// TestHandleCountsSilent checks that every silent decision of no entry is
// counted, the first and the next (the counter is kept after the first).
func TestHandleCountsSilent(t *testing.T) {
	a, _, reg := newAssistant(t, &chat{})
	m, err := NewMatcher(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	for i, text := range []string{"gg tout le monde", "vos horaires ?", "bonne soirée", "lol"} {
		ev := bot.Event{ID: fmt.Sprint(i), Platform: "chat", Kind: bot.KindMessage, Space: "s", Channel: "general",
			Author: bot.Author{ID: "ana", Name: "ana"}, Text: text, At: at}
		if _, err := a.Handle(context.Background(), m, &ev, bot.Verdict{}); err != nil {
			t.Fatal(err)
		}
	}
	got := counts(t, reg)
	for k, v := range map[string]float64{
		"vigie_faq_decisions_total{decision=silent,entry=none}":  3,
		"vigie_faq_decisions_total{decision=answer,entry=hours}": 1,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
