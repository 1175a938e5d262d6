package faq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// Options are what an Assistant works with.
type Options struct {
	// Platforms by name, as events name them in Event.Platform.
	Platforms map[string]bot.Platform
	// Store keeps the cooldowns, as sliding-window counters, so that several
	// instances on one Redis share them and a restart forgets none.
	Store store.Store
	// OpenCase puts a case on the desk, as the rule file rs whose FAQ
	// forwarded it says (nil: a faq: section alone); nil stores it with
	// Store.OpenCase.
	OpenCase func(ctx context.Context, rs *rules.Ruleset, c store.Case) error
	// Paused, when it returns true, holds the replies (the CMs paused vigie).
	Paused     func() bool
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// History is how many decisions the report keeps (default 20000).
	History int
	// Retry, when set, is the stage a reply is tried through (the
	// moderation actions' own, so that a passing failure or a short rate
	// limit is tried again); nil tries once.
	Retry func(ctx context.Context, op func(context.Context) error) error
	// FailureCause, when set, names the store.Case.Cause of an answer a of
	// ev the platform refused with err, "" for none, as the moderation
	// actions' cases are named: the case of an answer a long rate limit
	// left then shares its cause's card, and is answered once the limit
	// ends (handlers.LateOutcome).
	FailureCause func(ev bot.Event, a bot.Action, err error) string
	// RaidSince, when set, says whether a raid is on in ev's place (a crisis
	// alert's wave there), and since when its accounts joined: a question
	// from a member who joined since then is not answered, nor forwarded,
	// while it lasts (WhyRaid).
	RaidSince func(ev *bot.Event) (since time.Time, on bool)
}

// Assistant answers members' questions from the FAQ after the moderation rules
// had their say, and keeps the figures of what it did. It is safe for concurrent
// use; the Matcher it is handed may change at each reload.
type Assistant struct {
	platforms map[string]bot.Platform
	store     store.Store
	openCase  func(ctx context.Context, rs *rules.Ruleset, c store.Case) error
	paused    func() bool
	retry     func(ctx context.Context, op func(context.Context) error) error
	cause     func(ev bot.Event, a bot.Action, err error) string
	raidSince func(ev *bot.Event) (time.Time, bool)
	log       *slog.Logger

	decisions *prometheus.CounterVec
	replies   *prometheus.CounterVec
	// silent is decisions' counter of the silent decisions of no entry,
	// most of a chat's: found in the vector the first time (nil until
	// then), then kept, which spares each message the vector's look-up.
	silent atomic.Pointer[prometheus.Counter]

	mu      sync.Mutex
	history []record
	next    int // where the next record goes once history is full
	limit   int
}

// Counter names in the store; the colon keeps them apart from the rule file's.
const (
	channelCounter = "faq:channel"
	userCounter    = "faq:user"
	placeCounter   = "faq:place"
)

// An entry is answered (replied to, a suggestion too; not forwarded to the
// CMs) at most placeAnswers times in one place (a Discord
// server, a Telegram group, a page) within placeWindow, whatever its
// channels, threads and comments: the channel cooldown holds an entry back
// in one channel or thread, and a raid whose accounts each ask in a thread,
// a reply or a comment of their own would otherwise get an answer each.
// Each answer counts as it is decided, those the limit held back too, so
// that the limit holds until the raid has been quiet for the window.
const (
	placeAnswers = 5
	placeWindow  = 10 * time.Minute
)

// Results of a reply, as vigie_faq_replies_total counts them.
const (
	ResultDone        = "done"
	ResultFailed      = "failed"
	ResultUnsupported = "unsupported"
	ResultPlatformOff = "platform_off"
)

// New returns an Assistant and registers its metrics with o.Registerer.
func New(o Options) (*Assistant, error) {
	if o.Store == nil {
		return nil, errors.New("faq: no store")
	}
	a := &Assistant{
		platforms: o.Platforms,
		store:     o.Store,
		openCase:  o.OpenCase,
		cause:     o.FailureCause,
		raidSince: o.RaidSince,
		paused:    o.Paused,
		retry:     o.Retry,
		log:       o.Logger,
		limit:     o.History,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_faq_decisions_total",
			Help: "FAQ decisions by entry (none when no entry matched) and decision (answer, suggest, forward, silent, cooldown).",
		}, []string{"entry", "decision"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_faq_replies_total",
			Help: "FAQ replies sent to the platforms, by platform and result (done, failed, unsupported, platform_off).",
		}, []string{"platform", "result"}),
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.platforms == nil {
		a.platforms = map[string]bot.Platform{}
	}
	if a.openCase == nil {
		a.openCase = func(ctx context.Context, _ *rules.Ruleset, c store.Case) error {
			_, err := o.Store.OpenCase(ctx, c)
			return err
		}
	}
	if a.paused == nil {
		a.paused = func() bool { return false }
	}
	if a.retry == nil {
		a.retry = func(ctx context.Context, op func(context.Context) error) error { return op(ctx) }
	}
	if a.limit <= 0 {
		a.limit = 20000
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{a.decisions, a.replies} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("faq: register metrics: %w", err)
			}
		}
	}
	return a, nil
}

// Cooldown is the decision label of an answer held back by a cooldown.
const Cooldown Kind = "cooldown"

// Handle decides what the FAQ does with ev, whose verdict v the moderation rules
// just returned, and does it: a reply (or a private one), a case for the desk,
// or nothing. Call it for every event after the verdict was carried out. The
// error is about what could not be done (a case not stored, the store away); a
// reply the platform refused is logged and counted, not returned: a late
// answer to a chat question is worth little. A page comment's is not: a
// visitor's question stays under the post, and a CM answers it later, so a
// reply refused there (an expired token, a rate limit) becomes a case with the
// answer ready.
//
// Handle, Decide and Carry only read ev, and keep nothing of it but copies:
// they take a pointer because an event is some 400 bytes, and was copied at
// every call down to the matcher, for every event a replay reads.
func (a *Assistant) Handle(ctx context.Context, m *Matcher, ev *bot.Event, v bot.Verdict) (Decision, error) {
	if m == nil {
		return Decision{Kind: Silent}, nil
	}
	d, err := a.Decide(ctx, m, ev, v)
	return d, errors.Join(err, a.Carry(ctx, m, ev, d))
}

// Decide is the first half of Handle: what the FAQ will do with ev, the
// matcher's decision held back by a cooldown or a pause. It records and sends
// nothing, so that POST /v1/events can answer the decision with the verdict
// before Carry does it in the place's lane. Its error is a cooldown that could
// not be read; the decision is then made as if none held.
func (a *Assistant) Decide(ctx context.Context, m *Matcher, ev *bot.Event, v bot.Verdict) (Decision, error) {
	if m == nil {
		return Decision{Kind: Silent}, nil
	}
	d := m.Decide(ev, v)
	var err error
	if d.Kind != Silent && d.Entry != "" {
		var cooled bool
		cooled, err = a.cooling(ctx, m, ev, d.Entry)
		if err != nil {
			err = fmt.Errorf("faq cooldown for %s: %w", ev.Key(), err)
			a.log.Warn("cooldown not read; answering anyway", "event", ev.Key(), "err", err)
		}
		if cooled {
			d.Kind, d.Why, d.cooled = Silent, WhyCooldown, true
			return d, nil
		}
		if a.raidMember(ev) {
			d.Kind, d.Why, d.cooled = Silent, WhyRaid, true
			return d, nil
		}
		var many bool
		if d.Kind == Answer || d.Kind == Suggest {
			// what vigie says in the place; a question left to the CMs
			// is a case, which the desk bounds itself
			many, err = a.placeFull(ctx, ev, d.Entry)
		}
		if err != nil {
			err = fmt.Errorf("faq limit for %s: %w", ev.Key(), err)
			a.log.Warn("the place's answers not counted; answering anyway", "event", ev.Key(), "err", err)
		}
		if many {
			d.Kind, d.Why, d.cooled = Silent, WhyPlaceLimit, true
			return d, nil
		}
	}
	if d.Kind == Answer || d.Kind == Suggest {
		if a.paused() {
			d.Kind, d.Why = Silent, "vigie is paused"
		}
	}
	return d, err
}

// Carry is the second half of Handle: it counts the decision Decide made and
// does it.
func (a *Assistant) Carry(ctx context.Context, m *Matcher, ev *bot.Event, d Decision) error {
	if m == nil {
		return nil
	}
	a.record(ev, d, d.cooled)
	var err error
	switch d.Kind {
	case Answer, Suggest:
		if rerr := a.reply(ctx, ev, d); rerr != nil {
			// Nothing was said: no cooldown, and a comment's question is
			// left to the CMs rather than to the log.
			if ev.Kind == bot.KindComment {
				err = a.unanswered(ctx, m, ev, d, rerr)
			}
			break
		}
		err = a.cool(ctx, m, ev, d.Entry)
	case Forward:
		err = a.forward(ctx, m, ev, d)
		if d.Entry != "" {
			err = errors.Join(err, a.cool(ctx, m, ev, d.Entry))
		}
	}
	return err
}

// cooling reads whether the entry was answered in ev's channel, or to its
// author, within the cooldowns. The counters are only read here and added to
// once the answer is out, so that a question asked again and again in a busy
// channel does not push the next answer further away.
func (a *Assistant) cooling(ctx context.Context, m *Matcher, ev *bot.Event, entry string) (bool, error) {
	ops := m.cooldownOps(ev, entry, false)
	if len(ops) == 0 {
		return false, nil
	}
	res, err := a.store.Observe(ctx, store.Observation{At: ev.At, Platform: ev.Platform, Space: ev.Space, Author: ev.Author.ID, Counters: ops})
	if err != nil {
		return false, err
	}
	for _, n := range res.Counts {
		if n > 0 {
			return true, nil
		}
	}
	// The cooldown is written once the answer is out, a moment after this
	// read: of the questions decided in that moment (a raid pasting one
	// question from many accounts, two members asking at once), the first
	// to claim the entry in the channel answers, the others are cooled.
	if w := m.cfg.ChannelCooldown; w > 0 {
		res, err := a.store.Observe(ctx, store.Observation{At: ev.At, Platform: ev.Platform, Space: ev.Space,
			EventID: "faq\x00" + entry + "\x00" + where(ev), DedupeTTL: min(w, claimFor)})
		if err != nil {
			return false, err
		}
		return res.Duplicate, nil
	}
	return false, nil
}

// raidMember reports whether ev's author joined its place during a raid that
// is on there (Options.RaidSince).
func (a *Assistant) raidMember(ev *bot.Event) bool {
	if a.raidSince == nil || ev.Author.JoinedAt.IsZero() {
		return false
	}
	since, on := a.raidSince(ev)
	return on && !ev.Author.JoinedAt.Before(since)
}

// placeFull counts one more answer of entry in ev's place, and reports
// whether it is beyond placeAnswers within placeWindow.
func (a *Assistant) placeFull(ctx context.Context, ev *bot.Event, entry string) (bool, error) {
	res, err := a.store.Observe(ctx, store.Observation{At: ev.At, Platform: ev.Platform, Space: ev.Space, Author: ev.Author.ID,
		Counters: []store.CounterOp{{Name: placeCounter, Key: entry + "\x00" + ev.Space, Window: placeWindow, Incr: true}}})
	if err != nil {
		return false, err
	}
	return len(res.Counts) > 0 && res.Counts[0] > placeAnswers, nil
}

// claimFor is how long a question's claim on its entry in a channel holds the
// others back, at most: the time its answer takes to be out and its cooldown
// written, with room.
const claimFor = 30 * time.Second

// where is the place ev's answer is seen in: the channel, and thread, ev was
// said in. A comment on a page or a post is answered by a reply under it,
// which another visitor's comment under the same post does not show: its
// place is its own thread, so that each visitor asking gets the answer (the
// user cooldown still keeps one from getting it twice).
func where(ev *bot.Event) string {
	if ev.Thread != "" {
		return ev.Channel + "/" + ev.Thread
	}
	if ev.Kind == bot.KindComment {
		return ev.Channel + "/" + ev.ID
	}
	return ev.Channel
}

func (a *Assistant) cool(ctx context.Context, m *Matcher, ev *bot.Event, entry string) error {
	ops := m.cooldownOps(ev, entry, true)
	if len(ops) == 0 {
		return nil
	}
	_, err := a.store.Observe(ctx, store.Observation{At: ev.At, Platform: ev.Platform, Space: ev.Space, Author: ev.Author.ID, Counters: ops})
	if err != nil {
		return fmt.Errorf("faq cooldown for %s: %w", ev.Key(), err)
	}
	return nil
}

func (m *Matcher) cooldownOps(ev *bot.Event, entry string, incr bool) []store.CounterOp {
	var ops []store.CounterOp
	if w := m.cfg.ChannelCooldown; w > 0 {
		ops = append(ops, store.CounterOp{Name: channelCounter, Key: entry + "\x00" + where(ev), Window: w, Incr: incr})
	}
	if w := m.cfg.UserCooldown; w > 0 {
		ops = append(ops, store.CounterOp{Name: userCounter, Key: entry + "\x00" + ev.Author.ID, Window: w, Incr: incr})
	}
	return ops
}

// reply sends the answer where the question was asked, or privately when the
// entry says so and the platform can (else in place: an answer is better than
// none).
// It returns the platform's refusal, nil when the answer went out or there is
// no platform to answer on.
func (a *Assistant) reply(ctx context.Context, ev *bot.Event, d Decision) error {
	log := a.log.With("event", ev.Key(), "entry", d.Entry)
	p, ok := a.platforms[ev.Platform]
	if !ok {
		a.replies.WithLabelValues(platformLabel(ev.Platform, false), ResultPlatformOff).Inc()
		log.Debug("faq reply skipped: platform is off", "platform", ev.Platform)
		return nil
	}
	label := platformLabel(ev.Platform, true)
	var err error
	w, canWarn := p.(bot.Warner)
	r, canReply := p.(bot.Replier)
	switch {
	case d.Private && canWarn:
		err = a.retry(ctx, func(ctx context.Context) error { return w.Warn(ctx, *ev, d.Text) })
	case canReply:
		err = a.retry(ctx, func(ctx context.Context) error { return r.Reply(ctx, *ev, d.Text) })
	case canWarn:
		err = a.retry(ctx, func(ctx context.Context) error { return w.Warn(ctx, *ev, d.Text) })
	default:
		a.replies.WithLabelValues(label, ResultUnsupported).Inc()
		log.Debug("faq reply skipped: platform cannot reply")
		return nil
	}
	if err != nil {
		a.replies.WithLabelValues(label, ResultFailed).Inc()
		log.Warn("faq reply failed", "err", err)
		return err
	}
	a.replies.WithLabelValues(label, ResultDone).Inc()
	log.Info("faq answered", "decision", string(d.Kind), "score", d.Score, "language", d.Language)
	return nil
}

// unanswered opens a case for a comment whose answer the platform refused:
// the CMs send it (the reply is suggested) once the platform takes vigie's
// calls again, or answer by hand. Its reason says the refusal in a CM's
// words (bot.RefusalWords), as the cards of refused decisions do; the
// whole error is in the log ("faq reply failed").
func (a *Assistant) unanswered(ctx context.Context, m *Matcher, ev *bot.Event, d Decision, err error) error {
	c := store.Case{Event: *ev, Rule: "faq:" + d.Entry, Category: "faq",
		Reason:    fmt.Sprintf("faq: the answer could not be posted (entry %s, score %.2f): %s", d.Entry, d.Score, bot.RefusalWords(err)),
		Suggested: []bot.Action{{Kind: bot.ActReply, Text: d.Text}}}
	if a.cause != nil && !d.Private {
		if cause := a.cause(*ev, c.Suggested[0], err); cause != "" {
			c.Cause, c.NotDone = cause, c.Suggested
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var file *rules.Ruleset
	if m != nil {
		file = m.file
	}
	if oerr := a.openCase(sctx, file, c); oerr != nil {
		return fmt.Errorf("faq case for %s, whose answer was refused: %w", ev.Key(), oerr)
	}
	return nil
}

// forward opens a case: the CMs answer, with the entry's answer suggested when
// there is one. The case is opened as the rule file of m, which decided,
// says (its community), whatever file runs now.
func (a *Assistant) forward(ctx context.Context, m *Matcher, ev *bot.Event, d Decision) error {
	c := store.Case{Event: *ev, Rule: "faq", Category: "faq", Reason: "faq: " + d.Why}
	if d.Entry != "" {
		c.Rule = "faq:" + d.Entry
		c.Reason = fmt.Sprintf("faq: %s (entry %s, score %.2f)", d.Why, d.Entry, d.Score)
		c.Suggested = []bot.Action{{Kind: bot.ActReply, Text: d.Text}}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var file *rules.Ruleset
	if m != nil {
		file = m.file
	}
	if err := a.openCase(sctx, file, c); err != nil {
		return fmt.Errorf("faq case for %s: %w", ev.Key(), err)
	}
	return nil
}

// platformLabel bounds the platform label of the metrics, as the moderator does.
func platformLabel(p string, on bool) string {
	if on {
		return p
	}
	switch p {
	case "discord", "telegram", "facebook", "instagram", "meta":
		return p
	case "":
		return "none"
	}
	return "other"
}
