// Package handlers carries out what a verdict asks for: moderation actions on the
// platforms, cases for the humans on the desk, alerts, and the audit log.
package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/countervec"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// Desk is where the humans see cases and alerts: a Telegram chat, a Discord channel.
// Without one, cases stay open in the store (listed over HTTP) and alerts are logged.
type Desk interface {
	// PostCase shows a newly opened case to the CMs.
	PostCase(ctx context.Context, c store.Case) error
	// Alert sends an urgent message to the CMs.
	Alert(ctx context.Context, text string) error
}

// ErrNoDesk is what a Desk wraps when it has nowhere to show cases for now (the
// rule file names no desk chat): the cases wait in the store until it has.
var ErrNoDesk = errors.New("no desk")

// ErrDeskTokenRefused is what a Desk wraps when its platform refuses vigie's
// token (revoked, expired): nothing can be shown there until an operator
// renews it, and then everything can. The cases wait in the store, as they do
// while the desk is down, rather than being given up one by one.
var ErrDeskTokenRefused = errors.New("the desk's platform refused vigie's token")

// ErrDeskChatRefused is what a Desk wraps when the desk chat or channel
// refuses vigie itself (removed from it, or no right to post there): no card
// can be shown there until a member lets vigie back in, and then every one
// can. The cases wait in the store, as for a refused token, rather than being
// given up one by one while the CMs' chat is out of reach.
var ErrDeskChatRefused = errors.New("the desk chat refuses vigie (removed from it, or no right to post there)")

// Options are what a Moderator works with.
type Options struct {
	// Platforms by name, as events name them in Event.Platform. Events from a
	// platform not listed get no platform action; their cases are still opened.
	Platforms map[string]bot.Platform
	Store     store.Store
	// Desk may be nil.
	Desk       Desk
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Retry tunes the retry stage; the zero value gives the defaults.
	Retry Retry
	// Now is the clock for audit entries, cases and pauses; nil means time.Now.
	Now func() time.Time
	// AfterFunc is the timer of Now's clock: it calls f in a goroutine of
	// its own once d has passed on that clock, unless stop is called first
	// (stop reports whether it stopped it, as time.Timer's Stop does). The
	// early case's second is waited on it (early.go). Nil means
	// time.AfterFunc, with Now's default: a test that drives Now drives it.
	// The retry stage's pauses (unless Retry.AfterFunc is set),
	// Decide's DecisionWait and DeliverCases' rounds are waited on it too.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// Shift, when set, names the mode of every audit entry (office or after)
	// and answers /mode; without it entries say enforce.
	Shift *Shift
	// Priority, when set, gives the case priority (high, low; "" normal)
	// of a rule of the rule file rs, which may be nil.
	Priority func(rs *rules.Ruleset, rule string) string
	// Speech bounds the warnings and replies vigie sends (withhold.go).
	Speech Speech
	// FAQLearned, when set, is told that a CM taught the FAQ a wording from
	// the desk (decide.go), so that this process reads it at once.
	FAQLearned func()
	// ModLog, when set, is told of every action carried out or failed.
	ModLog *ModLog
	// Acted, when set, is told of the outcome of every action tried on a
	// platform (after the retries): nil when it was carried out. platform
	// is the event's (Event.Platform); ctx is the action's, so that a call
	// cut short by vigie itself can be told from a platform's failure. It
	// is not told of an action that failed for the store (a ban whose end
	// Redis could not keep): the platform did not fail.
	Acted func(ctx context.Context, platform string, err error)
	// Failing, when set, says whether the actions of the event platform
	// keep failing (what Acted was told: an outage). A verdict's actions
	// there are then tried once, without the retry stage's pauses: its
	// case, which opens once they were all tried, reaches the desk without
	// waiting for retries the outage makes vain. The first one carried out
	// ends it.
	Failing func(platform string) bool
	// RolesMissing, when set, says that the platform did not say in time
	// lately whether authors at ev's place are staff: an author of roles
	// unknown there is not asked about again (a wait for each event), and
	// the verdict's actions become a case at once.
	RolesMissing func(ev bot.Event) bool
	// DecisionWait is how long Decide waits for the platform to carry a
	// CM's decision out before it answers that it is still being tried
	// (bot.ErrStillTrying) and finishes in the background; zero is
	// DefaultDecisionWait.
	DecisionWait time.Duration
	// PostGrace is how long a card's post under way when its round ends
	// (a stop) goes on, to read the platform's answer; zero is
	// DefaultPostGrace. The stop should wait that long for the round.
	PostGrace time.Duration
	// EarlyOpened, when set, is told of the case opened for a verdict
	// while its actions were still being tried (early.go), before they
	// end: the journal names it, so that the verdict carried out again
	// after a crash amends that case (HandleAgain) rather than open a
	// second one and leave this one being tried for good.
	EarlyOpened func(ctx context.Context, ev bot.Event, caseID string)
	// EarlyOpening, when set, is told of the origin (store.Case.Origin) of
	// the case about to be opened for a verdict while its actions are
	// still being tried, before it is opened: the journal keeps it, so
	// that a vigie that carries the verdict out again after a crash
	// before EarlyOpened was told finds that case by it. An error keeps
	// the case from opening then: it opens once the actions end.
	EarlyOpening func(ctx context.Context, ev bot.Event, origin string) error
	// Carried, when set, is told of every action of a verdict carried out
	// on its platform, as it is: the journal keeps them for a carrying out
	// cut short, so that the case of a verdict left unfinished says which
	// were done (DeferAgain).
	Carried func(ctx context.Context, ev bot.Event, a bot.Action)
	// Trying, when set, is told of a verdict's timeout or kick before it
	// is asked of the platform (NotTwice): the journal keeps it, so that a
	// verdict carried out again after a kill in the middle of that call does
	// not ask it a second time.
	Trying func(ctx context.Context, ev bot.Event, a bot.Action)
	// FailureCause, when set, names the refusal behind an action's failure
	// (after the retries) when every such action in the place would meet
	// it, "" when it is about this action alone or may pass: vigie lacks
	// a permission there, the platform refuses its token, or refuses that
	// action there for good. The cases of one cause share one card on the
	// desk (causecards.go) rather than one card each.
	FailureCause func(err error) string
	// LimitWaits, when set, says whether the actions on platform wait out
	// a long rate limit (the platform tells the desk of the limit itself):
	// the card of a case such a limit left (LongLimitCause), whose action
	// vigie carries out once the limit ends (LateOutcome), is held for
	// LateBound, and posted only if the case is still open then. Nil: the
	// cards are posted at once.
	LimitWaits func(platform string) bool
}

// Moderator carries out verdicts. It is safe for concurrent use.
type Moderator struct {
	platforms map[string]bot.Platform
	// claims logs and counts the claims the store did not answer (ClaimFailed).
	claims *claimFailures
	store  store.Store
	// unbounded: store is the memory store, whose writes need no time bound.
	unbounded bool
	desk      Desk
	log       *slog.Logger
	retry     Retry
	now       func() time.Time
	// afterFunc is Options.AfterFunc, or time.AfterFunc.
	afterFunc func(d time.Duration, f func()) (stop func() bool)
	shift     *Shift
	// shared guards what a CM sets for all of vigie (a pause, a mode)
	// against the settings the processes sharing the store follow.
	shared   sharedSettings
	priority func(rs *rules.Ruleset, rule string) string
	// ruleTexts holds each rule's texts (ruleText) written once.
	ruleTexts sync.Map
	// shortened holds the platform and rule of the timeouts given shorter
	// than asked whose reason was logged (givenVerdict).
	shortened sync.Map
	speech    Speech
	warned    warnings
	// faqLearned is Options.FAQLearned, or a no-op.
	faqLearned func()
	// modlog is Options.ModLog; nil records nothing.
	modlog *ModLog
	// acted is Options.Acted, or a no-op.
	acted func(ctx context.Context, platform string, err error)
	// failing is Options.Failing, or nil.
	failing func(platform string) bool
	// rolesMissing is Options.RolesMissing, or nil.
	rolesMissing func(ev bot.Event) bool
	// decisionWait is Options.DecisionWait, or its default; decisions are
	// those still being carried out in the background (Decide).
	decisionWait time.Duration
	decisions    sync.WaitGroup
	// postGrace is Options.PostGrace, or its default.
	postGrace time.Duration
	// carrying are the cases whose decision is being carried out here
	// (claimCarrying): each is carried out once, whatever presses come.
	carryingMu sync.Mutex
	carrying   map[string]bool
	// recount are the open cases that hits joined since DeliverCases last
	// showed their counts on their cards, and recountAt when it last did
	// (recountCards).
	recountMu sync.Mutex
	recount   map[string]bool
	recountAt time.Time
	// cardTurns are the cases whose cards are being edited here
	// (cardTurn): one case's edits are written one after the other.
	cardTurnsMu sync.Mutex
	cardTurns   map[string]*cardTurn
	// awaiting are the cases whose decision waits here for the claim of
	// its carrying out (awaitClaim): the CMs are told of the wait once,
	// and warned of a long one once.
	awaiting map[string]*claimWait
	// claimWaitsLong counts the decisions that waited for their claim past
	// claimWaitWarn (awaitClaim).
	claimWaitsLong prometheus.Counter
	// unmarked are the cases whose decision waits here because the store
	// refused to record that its carrying out begins (markCarrying): asked
	// again less and less often, warned of and counted (marksRefused) once.
	unmarked     map[string]*markWait
	marksRefused prometheus.Counter
	// unanswered are, by case, the marks of carrying out this vigie
	// wrote and did not hear the store take (markCarrying): found on the
	// case later, they are its own, and nothing was asked of the platform.
	unanswered map[string][]string
	// stop is closed as a shutdown waits for the decisions (stopping).
	stop     chan struct{}
	stopOnce sync.Once
	// earlyOpened is Options.EarlyOpened, or nil.
	earlyOpened func(ctx context.Context, ev bot.Event, caseID string)
	// earlyOpening is Options.EarlyOpening, or nil.
	earlyOpening func(ctx context.Context, ev bot.Event, origin string) error
	// liftsFailing are the timed bans, by key, whose lift failed at a check
	// for a reason worth another try: the next checks try a platform's
	// other lifts before them (LiftBans).
	liftsMu      sync.Mutex
	liftsFailing map[string]bool
	// bookRefusedAt are the lists of bans (platform|space) whose read was
	// refused at the last check of the ban book, said then, not again;
	// bookLast, the last ban whose member was read one by one there
	// (CheckBanBook).
	bookMu        sync.Mutex
	bookRefusedAt map[string]bool
	bookLast      map[string]string
	// carried is Options.Carried, or nil.
	carried func(ctx context.Context, ev bot.Event, a bot.Action)
	trying  func(ctx context.Context, ev bot.Event, a bot.Action)
	// failureCause is Options.FailureCause, or nil; causeCards are the
	// cards that show the cases of one cause (causecards.go).
	failureCause func(err error) string
	causeCards   causeCards
	// limitWaits is Options.LimitWaits, or nil.
	limitWaits func(platform string) bool
	// communities is the rule file that says which community each place is
	// in (SetCommunities); nil is none.
	communities atomic.Pointer[rules.Ruleset]

	// opened is nudged when a case is opened here, for DeliverCases.
	opened chan struct{}
	// counted are the events lately counted for their author's and thread's
	// priority (countCase), so that the other cases of one message do not
	// count it again.
	counted recentEvents

	// pausedUntil is a Unix time in nanoseconds; 0 is not paused and MaxInt64 is
	// paused until Resume.
	pausedUntil atomic.Int64

	actions   *prometheus.CounterVec
	casesOpen prometheus.Gauge
	// casesGrouped and casesDropped count the hits added to an open case, and
	// the cases not stored because too many were open (their actions were
	// carried out all the same); droppedLog spaces the drops' log line.
	casesGrouped prometheus.Counter
	// grouping are the places where cases were opened or joined lately
	// (early.go).
	grouping     groupingPlaces
	casesDropped prometheus.Counter
	droppedLog   bot.Turn
	// notesLog spaces the line about notes not read (a card for each
	// member of a raid while Redis is away); notesMissed counts those since
	// the last line.
	notesLog    bot.Turn
	notesMissed atomic.Int64
	// tokenRefused is set while the desk refuses vigie's token, so that the
	// error is logged when it starts and the recovery when it ends, not at
	// every round of the desk.
	tokenRefused atomic.Bool
	// chatRefused are the desks (by community, "" for the rule file's)
	// whose chat refuses vigie, so that the error is logged once when it
	// starts and the recovery when it ends.
	chatRefusedMu sync.Mutex
	chatRefused   map[string]bool
	// deskWaits are the rounds of FlushCases in a row that left cases
	// waiting for the desk, so that a desk down all night is said when the
	// cases start to wait and when none waits any more, not at each round.
	deskWaitsMu sync.Mutex
	deskWaits   failureRun
	// shiftHits counts rule hits by the mode they came in (office, after,
	// paused) and rule.
	shiftHits *prometheus.CounterVec
	// actionsBy and shiftHitsBy are the counters of actions and shiftHits by
	// label values, found once: every verdict moves a few.
	actionsBy   *countervec.Memo[[3]string]
	shiftHitsBy *countervec.Memo[[2]string]
	// cardEdits counts the cards edited to show a decision, by the desk's
	// platform and result (cards.go).
	cardEdits *prometheus.CounterVec
	// lockLost counts the platform calls not made, by action, because the
	// member's lock was lost before them (lockMemberHeld).
	lockLost *prometheus.CounterVec
}

// Results of an action, as the vigie_actions_total metric counts them.
const (
	ResultDone        = "done"
	ResultFailed      = "failed"
	ResultUnsupported = "unsupported"  // the platform has no such capability
	ResultPlatformOff = "platform_off" // no platform of that name is on
	ResultPaused      = "paused"
	// ResultDeferred: the place's queue of actions was full; a case holds them.
	ResultDeferred = "deferred"
	// ResultWithheld: not done on purpose (a warning to an author being banned,
	// a second warning in the window, a reply to last night's message).
	ResultWithheld = "withheld"
	// ResultRolesUnknown: the platform could not tell whether the author is staff.
	ResultRolesUnknown = "roles_unknown"
	// ResultOverruled: dropped while being tried, because a CM decided the
	// message's case in a way that overrules it (overrules).
	ResultOverruled = "overruled"
)

// New returns a Moderator and registers its metrics with o.Registerer.
func New(o Options) (*Moderator, error) {
	if o.Store == nil {
		return nil, errors.New("handlers: no store")
	}
	if o.Retry.AfterFunc == nil {
		// The pauses between tries are waited on the moderator's clock.
		o.Retry.AfterFunc = o.AfterFunc
	}
	m := &Moderator{
		platforms:    o.Platforms,
		store:        o.Store,
		unbounded:    store.IsLocal(o.Store),
		desk:         o.Desk,
		log:          o.Logger,
		retry:        o.Retry.withDefaults(),
		now:          o.Now,
		afterFunc:    o.AfterFunc,
		shift:        o.Shift,
		priority:     o.Priority,
		speech:       o.Speech.withDefaults(),
		opened:       make(chan struct{}, 1),
		faqLearned:   o.FAQLearned,
		modlog:       o.ModLog,
		acted:        o.Acted,
		failing:      o.Failing,
		rolesMissing: o.RolesMissing,
		decisionWait: cmp.Or(o.DecisionWait, DefaultDecisionWait),
		postGrace:    cmp.Or(o.PostGrace, DefaultPostGrace),
		earlyOpened:  o.EarlyOpened,
		earlyOpening: o.EarlyOpening,
		carried:      o.Carried,
		trying:       o.Trying,
		failureCause: o.FailureCause,
		limitWaits:   o.LimitWaits,
		claims:       newClaimFailures(),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_actions_total",
			Help: "Actions asked for by verdicts and decisions, by platform, action and result (done, failed, unsupported, platform_off, paused, roles_unknown, overruled).",
		}, []string{"platform", "action", "result"}),
		casesOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_cases_open",
			Help: "Cases waiting for a decision on the desk.",
		}),
		casesGrouped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_cases_grouped_total",
			Help: "Hits added to an open case of the same author (or place) and rule instead of opening a case.",
		}),
		casesDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_cases_dropped_total",
			Help: "Cases not opened because too many were open; their actions were carried out all the same.",
		}),
		shiftHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_shift_hits_total",
			Help: "Rule hits by the mode vigie was in (office, after, paused; enforce without office_hours) and rule.",
		}, []string{"mode", "rule"}),
		cardEdits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_card_edits_total",
			Help: "Cards edited to show a case's decision, how the actions it was opened with ended, or its message edited or deleted while it was open, by the desk's platform and result (done, failed: left as they were).",
		}, []string{"desk", "result"}),
		claimWaitsLong: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_decision_claim_waits_long_total",
			Help: "CMs' decisions recorded that waited past 5 minutes for the claim of their carrying out (another vigie holding it, or the store not answering): still waiting, neither dropped nor carried out twice; a CM should check the case.",
		}),
		marksRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_decision_marks_refused_total",
			Help: "CMs' decisions held back because the store refused to record that their carrying out begins (Redis full, a replica, too slow, or refusing the command): each counted once, asked again less and less often (up to a minute apart), carried out once it takes the mark, never lost.",
		}),
		lockLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_member_lock_lost_total",
			Help: "Bans, kicks and timeouts not asked of the platform, by action, because the member's lock was lost before the call (it ran out while Redis did not answer, or Redis lost it: another instance may be acting on the member): tried again with the lock taken anew, or left to the desk.",
		}, []string{"action"}),
	}
	m.actionsBy, m.shiftHitsBy = countervec.Of3(m.actions), countervec.Of2(m.shiftHits)
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.afterFunc == nil {
		// Without a clock given (Options.Now), the wall clock's timers.
		m.afterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if m.platforms == nil {
		m.platforms = map[string]bot.Platform{}
	}
	if acted := m.acted; acted == nil {
		m.acted = func(context.Context, string, error) {}
	} else {
		m.acted = func(ctx context.Context, platform string, err error) {
			if sf := (*storeFailure)(nil); errors.As(err, &sf) {
				return // the platform did not fail
			}
			acted(ctx, platform, err)
		}
	}
	if o.Registerer != nil {
		warnedDropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "vigie_warned_authors_dropped_total",
			Help: "Authors forgotten before their warning's window was over because too many were warned in it (they may be warned again sooner).",
		}, func() float64 { n, _ := m.warned.droppedCount(); return float64(n) })
		placesDropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "vigie_warned_places_dropped_total",
			Help: "Places whose budget of warnings for the minute was forgotten because too many places were warned in it (they may be warned again sooner).",
		}, func() float64 { _, n := m.warned.droppedCount(); return float64(n) })
		for _, c := range []prometheus.Collector{m.claims.counter, m.actions, m.casesOpen, m.casesGrouped, m.casesDropped, m.shiftHits, m.cardEdits, m.lockLost, m.claimWaitsLong, m.marksRefused, warnedDropped, placesDropped} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("handlers: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// Label is how metrics name a platform: event JSON is free text, so names that are
// neither on nor known become "other" to keep the number of series bounded.
func (m *Moderator) Label(platform string) string {
	if _, ok := m.platforms[platform]; ok {
		return platform
	}
	switch platform {
	case "discord", "telegram", "facebook", "instagram", "meta":
		return platform
	case "":
		return "none"
	}
	return "other"
}

// Now is the moderator's clock (Options.Now): a desk that dates a pause for
// it reads this one, as Paused does.
func (m *Moderator) Now() time.Time { return m.now() }

// Pause stops platform actions until the given time (zero: until Resume). While
// paused, what would have been done is forwarded to the desk as a case instead.
func (m *Moderator) Pause(until time.Time) {
	if until.IsZero() {
		m.pausedUntil.Store(math.MaxInt64)
		return
	}
	m.pausedUntil.Store(until.UnixNano())
}

// Mode is what vigie is doing now, as audit entries record it: paused, or the
// shift's office or after, or enforce without shifts.
func (m *Moderator) Mode() string {
	if paused, _ := m.Paused(); paused {
		return "paused"
	}
	if m.shift != nil {
		return m.shift.Mode(m.now())
	}
	return "enforce"
}

// Shift is the moderator's shift, nil without one.
func (m *Moderator) Shift() *Shift { return m.shift }

// Resume ends a pause.
func (m *Moderator) Resume() { m.pausedUntil.Store(0) }

// Paused reports whether platform actions are paused, and until when (zero: until
// Resume).
func (m *Moderator) Paused() (bool, time.Time) {
	u := m.pausedUntil.Load()
	switch {
	case u == 0:
		return false, time.Time{}
	case u == math.MaxInt64:
		return true, time.Time{}
	case m.now().UnixNano() < u:
		return true, time.Unix(0, u)
	}
	return false, time.Time{}
}

// Handle carries out a verdict for ev: it records the verdict in the audit log,
// does each enforced action through the platform's capabilities, and opens one
// case for the message when the verdict leaves anything to the CMs: the
// forwards, an alert the desk did not take, the actions held or still failing
// after the retry stage (verdictCase). The error it returns is only about what
// could not be recorded at all: a failed platform action is not an error, it
// is a case.
func (m *Moderator) Handle(ctx context.Context, ev bot.Event, v bot.Verdict) error {
	return m.HandleBy(ctx, nil, ev, v)
}

// NotTwice reports whether an action of kind k, asked of the platform a
// second time, would not leave things as the first did: a timeout would
// run from the second asking, a kick would remove a member who came back.
// (A ban is looked up before it is given; a warning and a reply are claimed
// per author and message; a delete or hide of what is gone counts as done.)
func NotTwice(k bot.ActionKind) bool { return k == bot.ActTimeout || k == bot.ActKick }

// HandleBy is Handle for a verdict of the rule file rs (nil: the one
// SetCommunities was last given): the event's community, so where its cases
// and alerts go and its office hours, and its rules' priorities are rs's,
// whatever file was loaded since the verdict.
func (m *Moderator) HandleBy(ctx context.Context, rs *rules.Ruleset, ev bot.Event, v bot.Verdict) error {
	return m.handle(ctx, rs, ev, v, "")
}

// HandleAgain is HandleBy for a verdict carried out again (taken from the
// journal after a crash) whose first carrying out opened the case early
// with the id early, while its actions were being tried (EarlyOpened): that
// case is amended with how they end this time, and its cards edited, rather
// than a second case opened for the message. An early of "" is HandleBy.
func (m *Moderator) HandleAgain(ctx context.Context, rs *rules.Ruleset, ev bot.Event, v bot.Verdict, early string) error {
	return m.handle(ctx, rs, ev, v, early)
}

// WithTakenAgain marks ctx as carrying out a verdict taken from the journal,
// left there by a process that stopped (killed, or cut short): that process
// may have had its ban given by the platform, the answer lost, or given a
// ban that covered it (a fold). Its ban is looked up on the platform before
// it is given: a member banned already, as long as asked, is found banned,
// not banned again.
func WithTakenAgain(ctx context.Context) context.Context {
	return context.WithValue(ctx, takenAgainKey{}, true)
}

type takenAgainKey struct{}

// takenAgain reports whether WithTakenAgain marked ctx.
func takenAgain(ctx context.Context) bool {
	b, _ := ctx.Value(takenAgainKey{}).(bool)
	return b
}

// handle is HandleBy, with the id of the case opened early for the verdict
// by a carrying out cut short, "" for none (HandleAgain).
func (m *Moderator) handle(ctx context.Context, rs *rules.Ruleset, ev bot.Event, v bot.Verdict, resumed string) error {
	if v.Duplicate {
		return nil
	}
	// An edit of a message whose case is open is shown on its cards,
	// whatever the rules found in it, a harmless text included (edited.go).
	var own store.Case
	var edited bool
	if ev.Kind == bot.KindEdit && resumed == "" {
		own, edited = m.openCaseOf(ctx, m.platforms[ev.Platform], ev)
	}
	if !v.Flagged() {
		if edited {
			return m.showEdit(ctx, own, ev, &verdictCase{}, nil, nil)
		}
		return nil
	}
	// judged is the file given: its mod-log is where the actions' lines go.
	judged := rs
	if rs == nil {
		rs = m.communities.Load()
	}
	paused, _ := m.Paused()
	mode := m.modeFor(rs, ev)
	for _, match := range v.Matches {
		m.shiftHitsBy.With([2]string{mode, match.Rule}).Inc()
	}
	// The audit, the mod-log and the case record what the platform gives.
	v = m.givenVerdict(ev.Platform, v)
	var errs []error
	sctx, cancel := m.storeContext(ctx)
	err := m.store.AppendAudit(sctx, store.AuditEntry{At: m.now(), Event: ev, Verdict: v, Mode: mode})
	cancel()
	if err != nil {
		errs = append(errs, fmt.Errorf("audit %s: %w", ev.Key(), err))
	}

	// No logger With the event for each verdict: most verdicts log nothing
	// (the lines below are debug, or rare), and With costs as much as a line.
	log := m.log
	label := m.Label(ev.Platform)
	p := m.platforms[ev.Platform]
	var held, failedActs, overruled []bot.Action
	var failures, causes []string
	// An author who may be staff is not acted on; the CMs get a case instead.
	// The platform may find out now: this runs in the place's own lane.
	if ev.Author.RolesUnknown && p != nil && (m.rolesMissing == nil || !m.rolesMissing(ev)) {
		if r, ok := p.(bot.RoleResolver); ok {
			rctx, cancel := context.WithTimeout(ctx, resolveRolesWait)
			roles, staff, known := r.ResolveRoles(rctx, ev)
			cancel()
			if known {
				ev.Author.Roles = roles
			}
			if known && !staff {
				ev.Author.RolesUnknown = false
			}
		}
	}
	var withheld []bot.Action
	// vc gathers what the verdict leaves to the CMs (forwards, an alert the
	// desk did not take, actions held or failed): one case for the message.
	vc := verdictCase{unverified: v.Unverified()}
	// The verdict's actions are merged once here, in room on the stack, and
	// withhold reads the same list. The debug lines build their event key and
	// action text only when debug is on: this runs for every verdict of a raid
	// night.
	var room [8]bot.Action
	acts := warningsLast(v.AppendActions(room[:0]))
	debug := log.Enabled(ctx, slog.LevelDebug)
	// While the platform's actions keep failing, each is tried once.
	retry := m.retry
	if p != nil && m.failing != nil && m.failing(ev.Platform) {
		retry.Attempts = 1
	}
	// A verdict that forwards the message opens its case without waiting
	// for actions that are slow or failing (early.go).
	var early *earlyCase
	switch {
	case resumed != "":
		// The case is on the desk already, being tried.
		// A CM may have decided it since: what the decision overrules
		// is not carried out again (watch).
		early = &earlyCase{m: m, ctx: ctx, asked: true, opened: store.Case{ID: resumed}}
	case p != nil && !paused && !edited:
		// (an edit of a message whose case is open goes to that case)
		early = m.startEarly(ctx, rs, ev, v, acts, p)
		// A panic in the platform's client (the lane recovers it, and the
		// journal keeps the verdict for another try) stops the wait too:
		// it would open a case saying the actions are being tried, for
		// good, beside the one the verdict carried out again opens.
		defer early.finish()
	}
	// Actions of the same rule share the context that carries its audit
	// reason.
	var actx context.Context
	var actxRule string
	// forwarded are the rules that sent the message to the desk;
	// unforwards give back their claims, for an edit, if its case is not
	// opened.
	var forwarded []string
	var unforwards []func()
	// done are the actions carried out, which an edit shown on its
	// message's case takes off what that case says was not done.
	var done []bot.Action
	for i, a := range acts {
		switch a.Kind {
		case bot.ActStrike:
			// The engine recorded it before answering, so the next event sees it.
			continue
		case bot.ActForward:
			rule := ruleOf(v, a).Rule
			var why string
			var unforward func()
			if !edited {
				why, unforward = m.forwardedAlready(ctx, p, ev, rule)
			}
			if why != "" {
				m.count(label, a.Kind, ResultWithheld)
				if debug {
					log.Debug("action withheld", "event", ev.Key(), "action", a.String(), "why", why)
				}
				continue
			}
			if unforward != nil {
				unforwards = append(unforwards, unforward)
			}
			forwarded = append(forwarded, rule)
			m.forward(&vc, v, a)
			continue
		case bot.ActAlert:
			m.alert(ctx, rs, &vc, ev, v, a)
			continue
		}
		// What was said about the message is not said again for its edit
		// (saidAlready), asked only of what would be carried out: for an
		// edit first, so that a warning it does not get does not count as
		// the author's last; for a message last, once nothing else
		// withholds it.
		said := (a.Kind == bot.ActReply || a.Kind == bot.ActWarn) && !paused && p != nil &&
			bot.Capable(p, a.Kind) && !ev.Author.RolesUnknown
		var why string
		var unsay func()
		if said && ev.Kind == bot.KindEdit {
			why, unsay = m.saidAlready(ctx, p, ev, a)
		}
		if why == "" {
			// A warning counts as the author's last (the window of
			// WarnEvery, here and on the store) only when it goes out:
			// one held while paused, or made a case for roles unknown,
			// does not keep the next one back.
			goesOut := !paused && p != nil && bot.Capable(p, a.Kind) && (!ev.Author.RolesUnknown || placeAction(a.Kind))
			a, why = m.withhold(ev, acts, a, p, failedActs, goesOut)
			var unwarn func()
			if why == "" && a.Kind == bot.ActWarn && goesOut {
				why, unwarn = m.warnedElsewhereOr(ctx, ev)
			}
			switch {
			case why != "" && unsay != nil:
				unsay()
				unsay = nil
			case why == "" && said && ev.Kind != bot.KindEdit:
				why, unsay = m.saidAlready(ctx, p, ev, a)
			}
			if unwarn != nil {
				// What was said of the message gives back the author's
				// window too: the warning did not go out.
				unsaid := unsay
				if why != "" {
					unwarn()
				} else {
					unsay = func() {
						if unsaid != nil {
							unsaid()
						}
						unwarn()
					}
				}
			}
		}
		switch {
		case why != "":
			m.count(label, a.Kind, ResultWithheld)
			if debug {
				log.Debug("action withheld", "event", ev.Key(), "action", a.String(), "why", why)
			}
		case paused:
			m.count(label, a.Kind, ResultPaused)
			held = append(held, a)
		case p == nil:
			m.count(label, a.Kind, ResultPlatformOff)
			if debug {
				log.Debug("action skipped: platform is off", "event", ev.Key(), "action", a.String(), "platform", ev.Platform)
			}
		case !bot.Capable(p, a.Kind):
			m.count(label, a.Kind, ResultUnsupported)
			if debug {
				log.Debug("action skipped: platform cannot do it", "event", ev.Key(), "action", a.String(), "platform", ev.Platform)
			}
		case ev.Author.RolesUnknown && !placeAction(a.Kind):
			m.count(label, a.Kind, ResultRolesUnknown)
			withheld = append(withheld, a)
		default:
			match := ruleOf(v, a)
			if actx == nil || actxRule != match.Rule {
				actx, actxRule = bot.WithAuditReason(ctx, m.ruleText(match.Rule).audit), match.Rule
			}
			var err error
			var given banGiven
			early.at(i)
			switch {
			case placeAction(a.Kind):
				// lock audits it and tells the desk; a retry claims the
				// place again
				err = retry.Do(actx, early.watch(a, func(ctx context.Context) error { return m.lock(ctx, rs, p, ev, a, match) }))
			case a.Kind == bot.ActBan:
				// a timed ban's end is kept for the lift
				err = retry.Do(actx, early.watch(a, func(ctx context.Context) error {
					var berr error
					given, berr = m.ban(ctx, p, ev, a.Duration, match.Rule, "")
					return berr
				}))
			default:
				if m.trying != nil && NotTwice(a.Kind) {
					m.trying(ctx, ev, a)
				}
				err = retry.Do(actx, early.watch(a, func(ctx context.Context) error {
					return m.withMemberLock(ctx, ev, a.Kind, func() error { return do(ctx, p, ev, a) })
				}))
			}
			if errors.Is(err, errOverruled) {
				if unsay != nil {
					unsay()
				}
				m.count(label, a.Kind, ResultOverruled)
				log.Info("action dropped: a CM decided the case", "event", ev.Key(), "action", a.String())
				overruled = append(overruled, a)
				continue
			}
			reason := match.Reason
			if given.Stays {
				// Nothing was asked of the platform: the line says why.
				reason += " (" + stayText(given, m.now()) + ")"
			}
			m.modlog.recordBy(judged, ModLogEntry{Event: ev, Action: a, Rule: match.Rule, Reason: reason, Failed: errText(err), Until: given.Until})
			m.acted(actx, ev.Platform, err)
			if err != nil && unsay != nil {
				unsay()
			}
			if err != nil {
				m.count(label, a.Kind, ResultFailed)
				log.Warn("action failed", "event", ev.Key(), "action", a.String(), "err", err)
				failedActs = append(failedActs, a)
				failures = append(failures, failureWords(a, err))
				causes = append(causes, m.causeOf(err))
				continue
			}
			m.count(label, a.Kind, ResultDone)
			done = append(done, a)
			early.carriedOut(a)
			if m.carried != nil {
				m.carried(ctx, ev, a)
			}
			if debug {
				log.Debug("action done", "event", ev.Key(), "action", a.String())
			}
		}
	}
	if len(held) > 0 {
		rule, category := firstEnforced(v)
		vc.add(rule, category, "paused: would "+actionList(held), held, true)
	}
	if len(withheld) > 0 {
		rule, category := firstEnforced(v)
		vc.add(rule, category, "author's roles unknown (admin lookup failed or pending): would "+actionList(withheld), withheld, true)
	}
	vc.failed(v, failedActs, failures)
	if len(held) == 0 && len(withheld) == 0 && !vc.alerted {
		vc.cause = causeKey(ev, failedActs, causes)
	}
	early.overruled(&vc, v, overruled)
	opened, joined := early.finish()
	if edited {
		err := m.showEdit(ctx, own, ev, &vc, forwarded, done)
		vc.countResult(m, label, resultOf(err))
		return errors.Join(append(errs, err)...)
	}
	if c, ok := vc.build(m, rs, ev); ok {
		c.Rules = forwarded
		var err error
		openedEarly := opened.ID != ""
		switch {
		case openedEarly:
			err = m.amend(ctx, rs, opened, c)
		case joined && !c.Holds:
			// Its actions ended well: the message is in the case it
			// joined while they were being tried, counted once.
		default:
			// The store keeps the case of the message with the case, for
			// its edits: in the same call on Redis.
			_, c.Message = m.messageCase(p, ev)
			// and the rules that forwarded the message, so that its
			// edits are not sent again: in the same call too.
			c.Calls = m.casedCalls(p, ev, forwarded)
			opened, err = m.openCase(ctx, rs, c)
		}
		if err != nil {
			for _, unforward := range unforwards {
				unforward()
			}
		} else if len(forwarded) > 0 && c.Calls == nil {
			m.casesOpened(ctx, p, ev, forwarded)
		}
		own := err == nil && opened.ID != "" && opened.Event.Platform == ev.Platform && opened.Event.ID == ev.ID
		if openedEarly && own {
			// its own case, opened before its actions ended: its edits
			// are shown there from now on
			m.keepMessageCase(ctx, p, ev, opened.ID)
		}
		if own {
			m.removedMeanwhile(ctx, p, ev)
		}
		vc.countResult(m, label, resultOf(err))
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// GivenTimeout is how long a timeout of d asked on platform lasts there, as
// the moderator records and gives it (bot.GivenTimeout): d, or the
// platform's longest when d is longer; shortened says which. The daemon's
// verdict line, written before the platform acts, says it with it.
func (m *Moderator) GivenTimeout(platform string, d time.Duration) (given time.Duration, shortened bool) {
	return bot.GivenTimeout(m.platforms[platform], d)
}

// givenVerdict is v with its timeouts as long as the platform gives them:
// one longer than its longest (Discord's end within 28 days) is that. Why is
// logged once per platform and rule. v itself, shared with the caller, is
// left as it is.
func (m *Moderator) givenVerdict(platform string, v bot.Verdict) bot.Verdict {
	p, ok := m.platforms[platform].(bot.TimeoutLimiter)
	if !ok {
		return v
	}
	longest := p.MaxTimeout()
	longer := func(a bot.Action) bool { return a.Kind == bot.ActTimeout && longest > 0 && a.Duration > longest }
	if !slices.ContainsFunc(v.Matches, func(mt bot.Match) bool { return slices.ContainsFunc(mt.Actions, longer) }) {
		return v
	}
	v.Matches = slices.Clone(v.Matches)
	for i, mt := range v.Matches {
		if !slices.ContainsFunc(mt.Actions, longer) {
			continue
		}
		mt.Actions = slices.Clone(mt.Actions)
		for j, a := range mt.Actions {
			if !longer(a) {
				continue
			}
			mt.Actions[j].Duration = longest
			if _, said := m.shortened.LoadOrStore(platform+"\x00"+mt.Rule, true); !said {
				m.log.Info(fmt.Sprintf("rule %s asks for %s: %s's timeouts last %s at most, so it gives that and vigie records that",
					mt.Rule, a, platform, bot.FormatDuration(longest)), "rule", mt.Rule, "platform", platform)
			}
		}
		v.Matches[i] = mt
	}
	return v
}

// verdictCase gathers what one verdict leaves to the CMs, so that the message
// opens one case that says all of it: which rules forwarded it and why, an
// alert the desk did not take, the actions held or failed. One message is one
// card on the desk and one line in the queue, however many rules matched it.
// Its zero value is empty.
type verdictCase struct {
	parts     []casePart
	suggested []bot.Action
	// notDone are the suggested actions not carried out: held or failed.
	notDone []bot.Action
	holds   bool
	// unverified: the verdict's event may be forged (store.Case.Unverified).
	unverified bool
	// forwards and alerts are the forwards and alerts whose result is the
	// case's (countResult): counted, not listed, which made a list for
	// every verdict that forwards.
	forwards, alerts int
	// alerted: an alert the desk did not take is in the case, which is
	// then shown on a card of its own.
	alerted bool
	// cause is what made its failed actions fail, when they all failed for
	// one cause of their place (store.Case.Cause).
	cause string
}

// casePart is one reason of a verdict's case, and the rule it is about.
type casePart struct {
	rule, category, reason string
	// failures are the failed actions' errors, for a part of failures.
	failures []string
}

// add adds a reason about rule, and the actions it suggests (once each);
// holds says they were not carried out.
func (vc *verdictCase) add(rule, category, reason string, suggested []bot.Action, holds bool) {
	vc.parts = append(vc.parts, casePart{rule: rule, category: category, reason: reason})
	for _, a := range suggested {
		if !slices.Contains(vc.suggested, a) {
			vc.suggested = append(vc.suggested, a)
		}
		if holds && !slices.Contains(vc.notDone, a) {
			vc.notDone = append(vc.notDone, a)
		}
	}
	vc.holds = vc.holds || holds
}

// failed adds the actions that failed, one part per rule that asked for
// them, naming it. failures[i] is why acts[i] failed.
func (vc *verdictCase) failed(v bot.Verdict, acts []bot.Action, failures []string) {
	byRule := map[string]int{}
	for i, a := range acts {
		match := ruleOf(v, a)
		j, ok := byRule[match.Rule]
		if !ok {
			j = len(vc.parts)
			byRule[match.Rule] = j
			vc.parts = append(vc.parts, casePart{rule: match.Rule, category: match.Category})
		}
		vc.parts[j].failures = append(vc.parts[j].failures, failures[i])
		if !slices.Contains(vc.suggested, a) {
			vc.suggested = append(vc.suggested, a)
		}
		if !slices.Contains(vc.notDone, a) {
			vc.notDone = append(vc.notDone, a)
		}
		vc.holds = true
	}
}

// priorityWeight orders the priorities, the highest last.
func priorityWeight(p string) int {
	switch p {
	case PriorityHigh:
		return 2
	case PriorityLow:
		return 0
	}
	return 1
}

// build returns the case of the verdict, if it leaves anything to the CMs.
// Its rule is the one of highest priority among those it is about (the
// first of them on a tie), so that the case has the highest of their
// priorities; its reason is its one part's, or each part after its rule.
func (vc *verdictCase) build(m *Moderator, rs *rules.Ruleset, ev bot.Event) (store.Case, bool) {
	if len(vc.parts) == 0 {
		return store.Case{}, false
	}
	lead := 0
	if m.priority != nil && len(vc.parts) > 1 {
		best := -1
		for i, p := range vc.parts {
			if p.rule == "" {
				continue
			}
			if r := priorityWeight(m.priority(rs, p.rule)); r > best {
				lead, best = i, r
			}
		}
	}
	c := store.Case{Event: ev, Rule: vc.parts[lead].rule, Category: vc.parts[lead].category,
		Suggested: vc.suggested, NotDone: vc.notDone, Holds: vc.holds, Unverified: vc.unverified, Cause: vc.cause}
	if len(vc.parts) == 1 {
		p := vc.parts[0]
		c.Reason = p.reason
		if p.failures != nil {
			c.Reason = "action failed: " + strings.Join(p.failures, "; ")
		}
		return c, true
	}
	c.Reason = vc.reasons()
	return c, true
}

// reasons writes each part after its rule: "links: a link to look at;
// scam: action failed: …".
func (vc *verdictCase) reasons() string {
	var b strings.Builder
	for i, p := range vc.parts {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.rule != "" {
			b.WriteString(p.rule)
			b.WriteString(": ")
		}
		if p.failures != nil {
			b.WriteString("action failed: ")
			b.WriteString(strings.Join(p.failures, ", "))
			continue
		}
		b.WriteString(p.reason)
	}
	return b.String()
}

// forward adds the case a rule asked for to vc: its reason, and the rule's
// other actions as suggestions.
func (m *Moderator) forward(vc *verdictCase, v bot.Verdict, a bot.Action) {
	match := ruleOf(v, a)
	reason := a.Text
	if reason == "" {
		reason = m.ruleText(match.Rule).forwarded
	}
	vc.parts = append(vc.parts, casePart{rule: match.Rule, category: match.Category, reason: reason})
	for _, b := range match.Actions {
		if b.Kind != bot.ActForward && b.Kind != bot.ActAlert && !slices.Contains(vc.suggested, b) {
			vc.suggested = append(vc.suggested, b)
		}
	}
	vc.forwards++
}

// countResult counts the case's result as its forwards' and alerts'.
func (vc *verdictCase) countResult(m *Moderator, platform, result string) {
	for range vc.forwards {
		m.count(platform, bot.ActForward, result)
	}
	for range vc.alerts {
		m.count(platform, bot.ActAlert, result)
	}
}

// ruleText is what the moderator writes of a rule on each of its verdicts:
// the platforms' audit reason and a forward's default reason.
type ruleText struct {
	audit, forwarded string
}

// ruleText returns rule's texts, written at its first verdict: the rules
// are few and their verdicts many.
func (m *Moderator) ruleText(rule string) *ruleText {
	if t, ok := m.ruleTexts.Load(rule); ok {
		return t.(*ruleText)
	}
	t, _ := m.ruleTexts.LoadOrStore(rule, &ruleText{audit: "vigie: rule " + rule, forwarded: "forwarded by rule " + rule})
	return t.(*ruleText)
}

// alert wakes the desk. Without a desk, or when the desk cannot be reached, the
// alert joins the verdict's case vc so that it is not lost.
func (m *Moderator) alert(ctx context.Context, rs *rules.Ruleset, vc *verdictCase, ev bot.Event, v bot.Verdict, a bot.Action) {
	match := ruleOf(v, a)
	text := a.Text
	if text == "" {
		text = "alert from rule " + match.Rule
	}
	// Where, as the CMs read it: a rule's text may name no place, or an id.
	if where := m.placeNamed(ev); where != "" {
		text += " (" + where + ")"
	}
	m.log.Warn("alert", "rule", match.Rule, "text", text, "event", ev.Key())
	var deskErr error
	if m.desk != nil {
		deskErr = m.retry.Do(ctx, func(ctx context.Context) error { return m.deskAlert(ctx, rs, ev, text) })
		if deskErr == nil {
			m.count(m.Label(ev.Platform), a.Kind, ResultDone)
			return
		}
	}
	reason := "alert: " + text
	if deskErr != nil {
		reason += " (desk unreachable: " + deskErr.Error() + ")"
	}
	vc.add(match.Rule, match.Category, reason, nil, false)
	vc.alerts++
	vc.alerted = true
}

// open stores a case; DeliverCases shows it on the desk. A case the desk could not
// show stays open in the store, where the queue lists it. Its community and
// its rule's priority are those of the rule file rs.
func (m *Moderator) open(ctx context.Context, rs *rules.Ruleset, c store.Case) error {
	_, err := m.openCase(ctx, rs, c)
	return err
}

// openCase is open, which returns the case as the store has it: the case
// opened, or the one c was added to; its ID is "" when it was dropped at
// the cap.
func (m *Moderator) openCase(ctx context.Context, rs *rules.Ruleset, c store.Case) (store.Case, error) {
	return m.openCaseAfter(ctx, rs, c, nil)
}

// openCaseAfter is openCase, which calls first, when set, with the case's
// origin as the store will see it, before the store is asked: an error
// from it opens nothing, and is returned.
func (m *Moderator) openCaseAfter(ctx context.Context, rs *rules.Ruleset, c store.Case, first func(origin string) error) (store.Case, error) {
	c.Opened = m.now()
	if c.Community == "" {
		if k := communityOf(rs, c.Event); k != nil {
			c.Community = k.Name
		}
	}
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	m.prioritise(sctx, rs, &c)
	if first != nil {
		if err := first(c.Origin()); err != nil {
			return store.Case{}, fmt.Errorf("open case for %s: its origin not kept first: %w", c.Event.Key(), err)
		}
	}
	opened, err := m.store.OpenCase(sctx, c)
	if errors.Is(err, store.ErrCaseCap) {
		// The actions were carried out before; only the card is lost.
		m.casesDropped.Inc()
		m.logDropped(c, err)
		return store.Case{}, nil
	}
	if err != nil {
		return store.Case{}, fmt.Errorf("open case for %s (%s): %w", c.Event.Key(), c.Reason, err)
	}
	if opened.Hits() > 1 {
		// Added to a case already open: its card is posted, or will be with
		// the count; a card posted shows the new count at DeliverCases's
		// next round.
		m.casesGrouped.Inc()
		m.grouping.saw(c.PlaceGroup(), c.Event.Author.ID, m.now())
		m.recountLater(opened.ID)
		// LogAttrs rather than Info: no boxing of each value, on a line
		// that most matching events of a raid night write.
		logAttrs(ctx, m.log, slog.LevelInfo, "hit added to a case", slog.String("case", opened.ID),
			slog.String("event", c.Event.Key()), slog.String("rule", c.Rule), slog.Int("count", opened.Count))
		return opened, nil
	}
	c = opened
	m.grouping.saw(c.PlaceGroup(), c.Event.Author.ID, m.now())
	m.countCase(sctx, c)
	// The gauge follows this process's cases at once; DeliverCases sets it from
	// the store now and then, for the cases of other processes.
	m.casesOpen.Inc()
	logAttrs(ctx, m.log, slog.LevelInfo, "case opened", slog.String("case", c.ID),
		slog.String("event", c.Event.Key()), slog.String("rule", c.Rule), slog.String("reason", c.Reason))
	select {
	case m.opened <- struct{}{}:
	default: // a delivery is due already
	}
	return c, nil
}

// droppedLogEvery spaces the log lines about cases dropped at the cap.
const droppedLogEvery = time.Minute

// logDropped logs a case dropped at the cap, once a minute at most: a raid
// that fills the desk would otherwise fill the log too.
func (m *Moderator) logDropped(c store.Case, err error) {
	if !m.droppedLog.Take(m.now(), droppedLogEvery) {
		return
	}
	m.log.Error("too many open cases: new cases are dropped (their actions are carried out); see vigie_cases_dropped_total",
		"rule", c.Rule, "event", c.Event.Key(), "err", err)
}

// OpenCase opens a case that did not come from a verdict (an FAQ question left to
// the CMs), and has it posted to the desk like the others.
func (m *Moderator) OpenCase(ctx context.Context, c store.Case) error {
	return m.open(ctx, m.communities.Load(), c)
}

// Retried runs op through the moderator's retry stage, as its own platform
// calls are: a passing failure, or a rate limit asking a short wait, is tried
// again (the FAQ's replies).
func (m *Moderator) Retried(ctx context.Context, op func(context.Context) error) error {
	return m.retry.Do(ctx, op)
}

// OpenCaseBy is OpenCase for a case the rule file rs decided to open (nil:
// the one SetCommunities was last given): its community and priority are
// rs's, whatever file was loaded since.
func (m *Moderator) OpenCaseBy(ctx context.Context, rs *rules.Ruleset, c store.Case) error {
	if rs == nil {
		rs = m.communities.Load()
	}
	return m.open(ctx, rs, c)
}

// resolveRolesWait bounds the wait for a platform to say whether an author
// is staff, before the verdict's actions become a case.
const resolveRolesWait = 5 * time.Second

// deliverEvery is how often DeliverCases looks for cases that were not posted:
// the desk was down, or the process that opened them stopped before posting.
const deliverEvery = 10 * time.Second

// DeliverCases posts the cases waiting for the desk until ctx ends: at once when
// a case is opened here, and every few seconds of Now's clock for the others. The store hands
// each case to one process and keeps it until the desk took it (AckCase), so a
// crash between opening and posting loses no case, and several processes on one
// Redis do not post it twice. Without a desk it returns at once.
func (m *Moderator) DeliverCases(ctx context.Context) error {
	if m.desk == nil {
		return nil
	}
	// The round on the timer comes deliverEvery after the last one on Now's
	// clock (Options.AfterFunc), whatever cases were opened in between.
	tick := make(chan struct{}, 1)
	arm := func() func() bool {
		return m.afterFunc(deliverEvery, func() {
			select {
			case tick <- struct{}{}:
			default:
			}
		})
	}
	stop := arm()
	for {
		m.FlushCases(ctx)
		select {
		case <-ctx.Done():
			stop()
			return nil
		case <-m.opened:
		case <-tick:
			// Reading every open case is for the gauge only: on the timer, not
			// on each case a raid opens.
			m.refreshOpenCases(ctx)
			m.recountCards(ctx)
			stop = arm()
		}
	}
}

// recountLater has the cards of case id show its count at DeliverCases's
// next round: a hit joined it.
func (m *Moderator) recountLater(id string) {
	if m.desk == nil {
		// No card to edit, and no round to empty the set.
		return
	}
	m.recountMu.Lock()
	defer m.recountMu.Unlock()
	if m.recount == nil {
		m.recount = map[string]bool{}
	}
	if len(m.recount) >= recountKept && !m.recount[id] {
		// A raid of more cases than the rounds can recount for hours:
		// these cards show their count when next drawn (a decision, an
		// edit), and the set stays bounded.
		return
	}
	m.recount[id] = true
}

// recountKept bounds the cases waiting for a recount of their cards: at
// recountMax every recountEvery, an hour and a half of rounds.
const recountKept = 1000

// recountEvery and recountMax pace recountCards: five edits every 30
// seconds at most, a fraction of the desk chat's twenty messages a minute
// on Telegram, which the raid's new cards need more.
const (
	recountEvery = 30 * time.Second
	recountMax   = 5
)

// recountCards edits the cards of the cases that hits joined since they
// were last shown to say how many they group now: a raid's card, posted at
// its first hits, would otherwise say "and 6 more" of eighty. It runs on
// DeliverCases's rounds, recountMax cases every recountEvery at most; the
// others wait for the next. A case decided meanwhile shows its decision
// already.
func (m *Moderator) recountCards(ctx context.Context) {
	now := m.now()
	m.recountMu.Lock()
	if len(m.recount) == 0 || now.Sub(m.recountAt) < recountEvery {
		m.recountMu.Unlock()
		return
	}
	m.recountAt = now
	ids := make([]string, 0, recountMax)
	for id := range m.recount {
		if len(ids) == recountMax {
			break
		}
		ids = append(ids, id)
		delete(m.recount, id)
	}
	m.recountMu.Unlock()
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		m.recountCase(ctx, id)
	}
}

// recountCase shows case id's count on its cards, if it is still open. The
// case is read in the case's card turn: a decision taken before is not
// drawn over with the open card, its buttons back, and one taken while the
// edit is under way shows once it is written (ShowDecision waits its turn).
func (m *Moderator) recountCase(ctx context.Context, id string) {
	defer m.takeCardTurn(id)()
	sctx, cancel := m.storeContext(ctx)
	c, err := m.store.Case(sctx, id)
	cancel()
	if err != nil {
		m.log.Warn("a grouped case's cards do not show its count: the case was not read", "case", id, "err", err)
		return
	}
	if c.Status != store.CaseOpen {
		return
	}
	m.showCards(ctx, c, "")
}

// flushRound bounds one round of FlushCases: a desk that hangs holds the cases
// after it this long at most; what was not tried waits for the next round.
const flushRound = time.Minute

// FlushCases posts the cases waiting for the desk once; a shutdown calls it after
// the last events were handled. A case the desk cannot take now (down, rate
// limited) stays pending and is tried again on the next round; one it refused
// for good (bad card, chat gone, no right to post) is marked undeliverable: it
// stays open for the queue but is not posted again. Neither stops the cases
// after it. A desk that refuses vigie's token (ErrDeskTokenRefused) ends the
// round: every case stays pending until the token is taken again.
func (m *Moderator) FlushCases(ctx context.Context) {
	if m.desk == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, flushRound)
	defer cancel()
	cases, err := m.store.PendingCases(ctx)
	if err != nil {
		m.log.Warn("cases for the desk not read", "err", err)
		return
	}
	if len(cases) == 0 {
		m.casesWaiting(nil, nil) // decided meanwhile, from another desk
		return
	}
	var waiting []string
	var lastErr error
	refusedHere := map[string]bool{} // the desks whose chat refused vigie this round
	for i, c := range cases {
		if ctx.Err() != nil {
			for _, c := range cases[i:] {
				waiting = append(waiting, c.ID)
			}
			break
		}
		// A case decided before it reached the desk (from another desk, or over
		// HTTP) needs no card.
		if c.Status == store.CaseOpen && refusedHere[c.Community] {
			waiting = append(waiting, c.ID) // not asked: its chat just refused vigie
			continue
		}
		if m.waitsForLimit(c) {
			continue // carried out when the limit ends; its card is posted if not, after LateBound
		}
		// A case whose actions failed for the cause of a card posted
		// lately is shown on that card, which counts it (causecards.go);
		// it stays open in the queue.
		turn := m.causeTurn(ctx, c)
		if turn == store.CauseWait {
			continue // another instance is posting its cause's card: joins it next round
		}
		if c.Status != store.CaseOpen {
			m.causeDropped(ctx, c)
		}
		if c.Status == store.CaseOpen && turn == store.CausePost {
			err := m.retry.Do(ctx, func(ctx context.Context) error { return m.postCase(ctx, c) })
			switch {
			case err == nil:
				if m.tokenRefused.CompareAndSwap(true, false) {
					m.log.Info("the desk takes vigie's token again: the cases that waited are posted")
				}
				m.deskChatTakes(c.Community)
				m.causePosted(ctx, c)
				if len(c.Trying) > 0 || m.editable(c) {
					m.showAmended(ctx, c)
				}
			case errors.Is(err, ErrDeskChatRefused):
				// The cases for that chat would all wait the same; those for
				// another community's desk may still be shown.
				refusedHere[c.Community] = true
				waiting, lastErr = append(waiting, c.ID), err
				m.deskChatRefused(c.Community, len(cases)-i, err)
				continue
			case errors.Is(err, ErrDeskTokenRefused):
				// Every case would wait the same, and none is to blame.
				if !m.tokenRefused.Swap(true) {
					m.log.Error("the desk refused vigie's token: no case can be shown there until it is renewed; they wait in the store and are posted then",
						"waiting", len(cases)-i, "err", err)
				}
				return
			case errors.Is(err, ErrNoDesk):
				// Every case would wait the same.
				for _, c := range cases[i:] {
					waiting = append(waiting, c.ID)
				}
				m.casesWaiting(waiting, err)
				return
			case bot.Retryable(err) || ctx.Err() != nil:
				waiting, lastErr = append(waiting, c.ID), err
				continue
			default:
				m.undeliverable(ctx, c, err)
				m.causeDropped(ctx, c)
				continue
			}
		}
		// Posted: acknowledged even when the round's time just ran out.
		sctx, cancel := m.storeContext(ctx)
		err := m.store.AckCase(sctx, c.ID)
		cancel()
		if err != nil {
			m.log.Warn("case posted but not acknowledged; it may be posted again", "case", c.ID, "err", err)
		}
	}
	m.showCauses(ctx)
	m.casesWaiting(waiting, lastErr)
}

// postCase posts c's card. A post under way when ctx ends (a stop, the
// round's end) goes on for postGrace, on the wall clock, to read the
// platform's answer: the platform may have taken the card already, and a
// case whose answer was not read stays pending, to be posted again, a
// second card on the desk. Finishing the post is the only way to know: a
// Telegram bot cannot read its chat's history to find the card at the
// next start, and Discord's nonce check lasts minutes, not a night.
func (m *Moderator) postCase(ctx context.Context, c store.Case) error {
	return m.withPostGrace(ctx, func(ctx context.Context) error { return m.desk.PostCase(ctx, c) })
}

// withPostGrace runs post, a post on the desk, and lets it go on for
// postGrace past the end of ctx (postCase says why). No post starts once
// ctx has ended.
func (m *Moderator) withPostGrace(ctx context.Context, post func(context.Context) error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	pctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	grace := m.postGrace
	defer context.AfterFunc(ctx, func() {
		time.AfterFunc(grace, func() { cancel(context.Cause(ctx)) })
	})()
	return post(pctx)
}

// DefaultPostGrace is how long a card's post under way at a stop goes on,
// by default.
const DefaultPostGrace = 5 * time.Second

// waitsForLimit reports whether the card of c waits: its action, left by a
// long rate limit on a platform whose actions wait it out
// (Options.LimitWaits), is carried out by vigie once the limit ends
// (LateOutcome), and it was opened less than LateBound ago. A CM finds it
// in the queue meanwhile; the desk was told of the limit once, by the
// platform, rather than a card for each comment of a wave.
func (m *Moderator) waitsForLimit(c store.Case) bool {
	if m.limitWaits == nil || c.Status != store.CaseOpen || !strings.HasSuffix(c.Cause, LongLimitCause) || !m.limitWaits(c.Event.Platform) {
		return false
	}
	now := m.now()
	if _, late := LateOutcome(c, now); !late {
		return false
	}
	return now.Sub(c.Opened) < LateBound
}

// casesWaiting logs the cases a round of FlushCases left waiting for the
// desk (none: it took them all): the first round of a run that leaves some
// is a warning, the next ones are at debug level, and the round that leaves
// none after them says how long they waited.
func (m *Moderator) casesWaiting(waiting []string, err error) {
	m.deskWaitsMu.Lock()
	defer m.deskWaitsMu.Unlock()
	now := m.now()
	if len(waiting) == 0 {
		if run, ok := m.deskWaits.pass(); ok {
			m.log.Info("the desk took the cases that waited, or they were decided elsewhere", run.attrs(now, "rounds")...)
		}
		return
	}
	ids := strings.Join(waiting, ",")
	if m.deskWaits.fail(now, err) {
		m.log.Warn("the desk did not take some cases; they stay open in the store and are tried again each round, said again once none waits",
			"cases", ids, "err", err)
		return
	}
	m.log.Debug("the desk did not take some cases, again", "cases", ids, "rounds", m.deskWaits.n, "err", err)
}

// deskChatRefused logs, once until it takes a card again, that the desk chat
// of community ("" for the rule file's desk) refuses vigie.
func (m *Moderator) deskChatRefused(community string, waiting int, err error) {
	m.chatRefusedMu.Lock()
	defer m.chatRefusedMu.Unlock()
	if m.chatRefused[community] {
		return
	}
	if m.chatRefused == nil {
		m.chatRefused = map[string]bool{}
	}
	m.chatRefused[community] = true
	log := m.log
	if community != "" {
		log = log.With("community", community)
	}
	log.Error("the desk chat refuses vigie: add it back to the desk chat, with the right to post there; until then its cases wait in the store and are posted then",
		"waiting", waiting, "err", err)
}

// deskChatTakes logs that the desk chat of community took a card again, if
// it refused vigie before.
func (m *Moderator) deskChatTakes(community string) {
	m.chatRefusedMu.Lock()
	defer m.chatRefusedMu.Unlock()
	if !m.chatRefused[community] {
		return
	}
	delete(m.chatRefused, community)
	log := m.log
	if community != "" {
		log = log.With("community", community)
	}
	log.Info("the desk chat takes vigie's cards again: the cases that waited are posted")
}

// undeliverable records that the desk refused c for good, so that it is not
// posted again; /queue and the case list still show it.
func (m *Moderator) undeliverable(ctx context.Context, c store.Case, refusal error) {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	if err := m.store.MarkUndeliverable(sctx, c.ID, refusal.Error()); err != nil {
		m.log.Warn("the desk refused a case, which could not be marked: it will be tried again",
			"case", c.ID, "refusal", refusal, "err", err)
		return
	}
	m.log.Error("the desk refused a case for good; it stays open in the store, in the queue",
		"case", c.ID, "rule", c.Rule, "event", c.Event.Key(), "err", refusal)
}

// storeContext keeps store writes going when ctx is cancelled by a shutdown, for
// a bounded time: an audit entry or a case half-written is worse than a slower stop.
//
// The memory store, a map under a mutex, never reads its context: it gets ctx
// as it is, without a timer, which cost about a seventh of Handle's CPU (two
// a verdict), nor the context that outlives ctx (an allocation each).
func (m *Moderator) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if m.unbounded {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// RefreshOpenCases sets the vigie_cases_open gauge from the store, which other
// instances sharing it may have changed. While the store is degraded (Redis
// away), it lists only the cases it holds in memory: the gauge keeps its
// count, and the cases opened here since.
func (m *Moderator) RefreshOpenCases(ctx context.Context) error {
	if degraded(m.store) {
		return nil
	}
	if idx, ok := m.store.(store.CaseIndex); ok {
		counts, err := idx.OpenCounts(ctx)
		if err != nil {
			return fmt.Errorf("count open cases: %w", err)
		}
		m.casesOpen.Set(float64(counts.Total()))
		return nil
	}
	cs, err := m.store.Cases(ctx, store.CaseOpen)
	if err != nil {
		return fmt.Errorf("count open cases: %w", err)
	}
	m.casesOpen.Set(float64(len(cs)))
	return nil
}

// degraded says whether st answers from memory while its Redis is away (see
// redis.Fallback): then its lists of cases leave out those open in Redis.
func degraded(st store.Store) bool {
	d, ok := st.(interface{ Degraded() bool })
	return ok && d.Degraded()
}

func (m *Moderator) refreshOpenCases(ctx context.Context) {
	if err := m.RefreshOpenCases(ctx); err != nil {
		m.log.Warn("cases_open gauge not updated", "err", err)
	}
}

func (m *Moderator) count(platform string, action bot.ActionKind, result string) {
	m.actionsBy.With([3]string{platform, string(action), result}).Inc()
}

func resultOf(err error) string {
	if err != nil {
		return ResultFailed
	}
	return ResultDone
}

// do carries out one platform action. Capable was checked by the caller; the checked
// type assertions keep a platform that lies about itself from panicking the daemon.
func do(ctx context.Context, p bot.Platform, ev bot.Event, a bot.Action) error {
	switch a.Kind {
	case bot.ActDelete:
		if r, ok := p.(bot.NameRemover); ok && ev.Kind == bot.KindProfile {
			return r.RemoveName(ctx, ev)
		}
		if d, ok := p.(bot.Deleter); ok {
			return d.Delete(ctx, ev)
		}
	case bot.ActHide:
		if h, ok := p.(bot.Hider); ok {
			return h.Hide(ctx, ev)
		}
	case bot.ActReply:
		if r, ok := p.(bot.Replier); ok {
			return r.Reply(ctx, ev, a.Text)
		}
	case bot.ActWarn:
		if w, ok := p.(bot.Warner); ok {
			return w.Warn(ctx, ev, a.Text)
		}
		if r, ok := p.(bot.Replier); ok {
			return r.Reply(ctx, ev, a.Text)
		}
	case bot.ActTimeout:
		if t, ok := p.(bot.Timeouter); ok {
			return t.Timeout(ctx, ev, a.Duration)
		}
	case bot.ActKick:
		if k, ok := p.(bot.Kicker); ok {
			return k.Kick(ctx, ev)
		}
	case bot.ActBan:
		if b, ok := p.(bot.Banner); ok {
			return b.Ban(ctx, ev, a.Duration)
		}
	case bot.ActTag:
		if t, ok := p.(bot.Tagger); ok {
			return t.Tag(ctx, ev, a.Text)
		}
	}
	return &bot.ActionError{Op: a.Kind, Err: fmt.Errorf("platform %s cannot %s", p.Name(), a.Kind)}
}

// ruleOf finds the enforced rule that asked for a (Verdict.Actions merges them):
// of two rules that time out, the one whose duration was kept.
func ruleOf(v bot.Verdict, a bot.Action) bot.Match {
	for _, exact := range []bool{true, false} {
		for _, m := range v.Matches {
			if m.Shadow {
				continue
			}
			for _, b := range m.Actions {
				if b.Kind == a.Kind && b.Text == a.Text && (!exact || b.Duration == a.Duration) {
					return m
				}
			}
		}
	}
	rule, category := firstEnforced(v)
	return bot.Match{Rule: rule, Category: category}
}

func firstEnforced(v bot.Verdict) (rule, category string) {
	for _, m := range v.Matches {
		if !m.Shadow {
			return m.Rule, m.Category
		}
	}
	return "", ""
}

func actionList(as []bot.Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// failureWords is why a rule's action a failed, as its case's card says
// it: the action, then the platform's refusal in a CM's words
// (bot.RefusalWords) and what the retry stage added (how long the
// platform asks to wait, how many attempts were made); or the error's own
// text, which names the action when the platform's does, when there are no
// such words. The whole error is in the log ("action failed").
func failureWords(a bot.Action, err error) string {
	words := bot.RefusalWords(err)
	text := err.Error()
	if strings.HasPrefix(text, strings.TrimSuffix(words, "…")) {
		return words // no plain words: the error's text, cut
	}
	var ae *bot.ActionError
	if errors.As(err, &ae) {
		if note, ok := strings.CutPrefix(text, ae.Error()); ok {
			words += note
		}
	}
	return string(a.Kind) + ": " + words
}

// errText is err's text, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
