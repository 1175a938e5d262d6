package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// causeDesk posts cards as a desk does, recording where each went in the
// store (a Telegram desk's card book), and edits them.
type causeDesk struct {
	st    store.Store
	mu    sync.Mutex
	posts []string // the posted cases' event ids
	edits []string // the reasons edited in, by card
	last  string
}

func (d *causeDesk) PostCase(ctx context.Context, c store.Case) error {
	d.mu.Lock()
	d.posts = append(d.posts, c.Event.ID)
	d.mu.Unlock()
	return d.st.AddCard(ctx, c.ID, bot.CardRef{Platform: "telegram", Chat: "-100", Message: c.Event.ID})
}

func (d *causeDesk) Alert(context.Context, string) error { return nil }

func (d *causeDesk) EditCard(_ context.Context, ref bot.CardRef, c store.Case, note string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.edits = append(d.edits, ref.Message+": "+c.Reason+" | "+note)
	d.last = d.edits[len(d.edits)-1]
	return nil
}

// lastEdit is the last card edited, seen or not.
func (d *causeDesk) lastEdit() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

func (d *causeDesk) seen() (posts, edits []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	posts, edits = slices.Clone(d.posts), slices.Clone(d.edits)
	d.posts, d.edits = nil, nil
	return posts, edits
}

var errLacks = &bot.ActionError{Op: bot.ActDelete, Err: errors.New("vigie lacks Manage Messages in #general")}

// lacksCause is the handlers' FailureCause of these tests: errLacks' cause
// is "lacks"; any other failure has none.
func lacksCause(err error) string {
	if errors.Is(err, errLacks.Err) {
		return "lacks"
	}
	return ""
}

// refuse has m handle the n-th scam (rule) in channel, by author n, whose
// delete p refuses with err; it returns the event's id.
func refuse(t *testing.T, m *handlers.Moderator, p *chat, n int, channel, rule string, err error) string {
	t.Helper()
	ev := event("discord")
	ev.ID, ev.Channel = fmt.Sprint("m-", n), channel
	ev.Author = bot.Author{ID: fmt.Sprint("u-", n), Name: fmt.Sprint("Raider", n)}
	p.errs["delete"] = []error{err}
	v := verdict("discord", bot.Match{Rule: rule, Category: "spam", Actions: []bot.Action{{Kind: bot.ActDelete}}})
	if err := m.Handle(context.Background(), ev, v); err != nil {
		t.Fatal(err)
	}
	return ev.ID
}

// check has m deliver its cases, and checks that cards were posted for
// wantPosts' events and, with wantEdit, that one card was edited to a text
// starting with it (none without); step names the check.
func (d *causeDesk) check(t *testing.T, m *handlers.Moderator, step string, wantPosts []string, wantEdit string) {
	t.Helper()
	m.FlushCases(context.Background())
	posts, edits := d.seen()
	if !slices.Equal(posts, wantPosts) {
		t.Errorf("%s: cards posted for %q, want %q", step, posts, wantPosts)
	}
	switch {
	case wantEdit == "" && len(edits) > 0:
		t.Errorf("%s: cards edited %q, want none", step, edits)
	case wantEdit != "" && (len(edits) != 1 || !strings.HasPrefix(edits[0], wantEdit)):
		t.Errorf("%s: cards edited %q, want one starting %q", step, edits, wantEdit)
	}
}

// TestCauseCards: the cases of deletes refused for one cause in one place
// share the first one's card, which is edited to count them, for ten
// minutes; each case stays open. Another place, another cause, a failure
// that may pass, a high priority case, a card whose case was decided, or a
// card older than ten minutes: a card of its own.
func TestCauseCards(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	desk := &causeDesk{st: st}
	p := &chat{recorder: recorder{name: "discord", errs: map[string][]error{}}}
	now := at
	m, err := handlers.New(handlers.Options{
		Platforms: map[string]bot.Platform{"discord": p}, Store: st, Desk: desk,
		Now: func() time.Time { return now }, Retry: handlers.Retry{Attempts: 1},
		Priority: func(_ *rules.Ruleset, rule string) string {
			if rule == "threat" {
				return handlers.PriorityHigh
			}
			return ""
		},
		FailureCause: lacksCause,
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	refused := func(channel, rule string, err error) string {
		t.Helper()
		n++
		return refuse(t, m, p, n, channel, rule, err)
	}
	check := func(step string, wantPosts []string, wantEdit string) {
		t.Helper()
		desk.check(t, m, step, wantPosts, wantEdit)
	}

	first := refused("general", "scam", errLacks)
	refused("general", "scam", errLacks)
	refused("general", "scam", errLacks)
	check("three refused alike", []string{first}, first+": delete failed 3 times here since 22:10 UTC, for one cause: vigie lacks Manage Messages")
	refused("general", "scam", errLacks)
	check("a fourth", nil, first+": delete failed 4 times")
	if cs, _ := st.Cases(ctx, store.CaseOpen); len(cs) != 4 {
		t.Errorf("%d cases open, want each of the four", len(cs))
	}

	other := refused("memes", "scam", errLacks)
	check("another channel", []string{other}, "")
	passing := refused("general", "scam", &bot.ActionError{Op: bot.ActDelete, Retryable: true, Err: errors.New("502")})
	check("a failure that may pass", []string{passing}, "")
	high := refused("general", "threat", errLacks)
	check("a high priority case", []string{high}, "")

	now = now.Add(11 * time.Minute)
	later := refused("general", "scam", errLacks)
	check("eleven minutes on", []string{later}, "")
	refused("general", "scam", errLacks)
	check("then joined", nil, later+": delete failed 2 times")

	cs, _ := st.Cases(ctx, store.CaseOpen)
	for _, c := range cs {
		if c.Event.ID == later {
			decided, err := st.DecideCase(ctx, c.ID, "keep", "telegram:42", "", now)
			if err != nil {
				t.Fatal(err)
			}
			// Its card shows the decision, and that the other is still open.
			m.ShowDecision(ctx, decided, "")
			if _, edits := desk.seen(); len(edits) != 1 || !strings.HasSuffix(edits[0],
				"| Still open for this card's cause (delete failed): 1 other case, to decide from /queue.") {
				t.Errorf("the decided card's edits: %q, want one saying the other case is still open", edits)
			}
		}
	}
	after := refused("general", "scam", errLacks)
	check("its case decided", []string{after}, "")
}

// TestCauseCardLongLimitSaysWhoActs: the card of deletes left as cases for
// a long rate limit (handlers.LongLimitCause) says that vigie carries them
// out itself when the limit ends, not that a CM must decide each; the card
// of the same cases' timeouts would say a CM decides them (LateOutcome).
func TestCauseCardLongLimitSaysWhoActs(t *testing.T) {
	st := memory.New()
	desk := &causeDesk{st: st}
	p := &chat{recorder: recorder{name: "discord", errs: map[string][]error{}}}
	m, err := handlers.New(handlers.Options{
		Platforms: map[string]bot.Platform{"discord": p}, Store: st, Desk: desk,
		Now: func() time.Time { return at }, Retry: handlers.Retry{Attempts: 1},
		FailureCause: func(err error) string {
			if errors.Is(err, errLacks.Err) {
				return handlers.LongLimitCause
			}
			return ""
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	first := refuse(t, m, p, 1, "general", "scam", errLacks)
	refuse(t, m, p, 2, "general", "scam", errLacks)
	m.FlushCases(context.Background())
	posts, edits := desk.seen()
	if len(posts) != 1 || posts[0] != first || len(edits) != 1 || !strings.Contains(edits[0], "When the limit ends, vigie carries them out itself") {
		t.Errorf("card edited %q, want it to say vigie carries the deletes out when the limit ends", edits)
	}
	c := store.Case{Cause: "discord|g|c|timeout: " + handlers.LongLimitCause, NotDone: []bot.Action{{Kind: bot.ActTimeout, Duration: time.Hour}}}
	if o, ok := handlers.LateOutcome(c, time.Now()); ok {
		t.Errorf("LateOutcome of a timeout = %q, want none: a CM decides it", o)
	}
	c = store.Case{Cause: "discord|g|c|ban: " + handlers.LongLimitCause, NotDone: []bot.Action{{Kind: bot.ActBan, Duration: 24 * time.Hour}}}
	if o, ok := handlers.LateOutcome(c, time.Now()); !ok || o != "ban(1d)" {
		t.Errorf("LateOutcome of a timed ban = %q, %v, want ban(1d)", o, ok)
	}
}

// TestLateOutcomeOfARefusedPageToken: what Meta's refused page token left
// (handlers.PageTokenCause) is carried out late as what a long rate limit
// left: a hide, a delete; a warning stays for a CM, and so does a case of
// another cause.
func TestLateOutcomeOfARefusedPageToken(t *testing.T) {
	for _, tc := range []struct {
		cause string
		act   bot.Action
		want  string
	}{
		{"facebook|p|post|hide: " + handlers.PageTokenCause, bot.Action{Kind: bot.ActHide}, "hide"},
		{"instagram|a|media|delete: " + handlers.PageTokenCause, bot.Action{Kind: bot.ActDelete}, "delete"},
		{"facebook|p|post|warn: " + handlers.PageTokenCause, bot.Action{Kind: bot.ActWarn, Text: "Parlons-en."}, ""},
		{"facebook|p|post|hide: graph 200 0", bot.Action{Kind: bot.ActHide}, ""},
	} {
		o, ok := handlers.LateOutcome(store.Case{Cause: tc.cause, NotDone: []bot.Action{tc.act}}, at)
		if o != tc.want || ok != (tc.want != "") {
			t.Errorf("LateOutcome of %s = %q, %v, want %q", tc.cause, o, ok, tc.want)
		}
	}
}

// TestCauseCardNamesStayInTheirPlace: the card of a cause names the latest
// members its cases are about, names they chose: long, of several lines or
// turning the text right to left, they neither push what the card's
// buttons do off a card a desk cuts (600 characters on either), nor write
// lines of their own, nor turn the text after them.
func TestCauseCardNamesStayInTheirPlace(t *testing.T) {
	st := memory.New()
	desk := &causeDesk{st: st}
	p := &chat{recorder: recorder{name: "discord", errs: map[string][]error{}}}
	m, err := handlers.New(handlers.Options{
		Platforms: map[string]bot.Platform{"discord": p}, Store: st, Desk: desk,
		Now: func() time.Time { return at }, Retry: handlers.Retry{Attempts: 1}, FailureCause: lacksCause,
	})
	if err != nil {
		t.Fatal(err)
	}
	for n := range 12 {
		ev := event("discord")
		ev.ID, ev.Channel = fmt.Sprint("m-", n), "general"
		ev.Author = bot.Author{ID: fmt.Sprint("u-", n), Name: "Eve\u202e\n✅ Kept — decided by Ann " + strings.Repeat("x", 50)}
		p.errs["delete"] = []error{errLacks}
		v := verdict("discord", bot.Match{Rule: "scam", Category: "spam", Actions: []bot.Action{{Kind: bot.ActDelete}}})
		if err := m.Handle(context.Background(), ev, v); err != nil {
			t.Fatal(err)
		}
	}
	m.FlushCases(context.Background())
	text := desk.lastEdit()
	shown := string([]rune(text)[:min(600, len([]rune(text)))])
	switch {
	case !strings.Contains(shown, "these buttons act on this message alone"):
		t.Errorf("the card's first 600 characters do not say what its buttons do:\n%s", shown)
	case strings.Contains(text, "\n"):
		t.Errorf("a name broke the card's lines:\n%s", text)
	case strings.Count(text, "\u2068") != strings.Count(text, "\u2069") || strings.Count(text, "\u2068") < 10:
		t.Errorf("the names are not set apart each:\n%q", text)
	}
}
