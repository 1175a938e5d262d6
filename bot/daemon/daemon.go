// Package daemon builds vigie from its configuration and runs it: rules, store,
// handlers, platform sources and the HTTP server, with reload and graceful shutdown.
package daemon

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	stdlog "log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/guard"
	"github.com/vigie-bot/vigie/bot/internal/told"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/handlers/faq"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
)

// Config is what vigie run is given.
type Config struct {
	// ConfigPath is the rule file; empty tries rules.yaml, rules.example.yaml, then
	// the starter pack built into the binary.
	ConfigPath string
	// Listen is the HTTP address (default 127.0.0.1:8080); port 0 picks a free
	// one. Beyond loopback, vigie refuses to start without VIGIE_WEBHOOK_SECRET
	// and VIGIE_ADMIN_TOKEN, unless Insecure.
	Listen string
	// Insecure lets vigie listen beyond loopback without a webhook secret or an
	// admin token: anyone who reaches it can then post events; the admin
	// routes still need the token vigie makes for its user.
	Insecure bool
	// RedisURL selects the Redis store; empty falls back to VIGIE_REDIS_URL, then to
	// the memory store.
	RedisURL string
	Version  string
	Logger   *slog.Logger
	// Logs is the LogWriter Logger writes to, if any: the lines its
	// destination refused are counted in /metrics, and /healthz says while
	// it refuses them.
	Logs *LogWriter
	// Getenv reads secrets and settings; nil means os.Getenv.
	Getenv func(string) string

	// Ready, when set, is called with the address the HTTP server is bound to, once
	// it accepts connections.
	Ready func(addr net.Addr)
	// Connectors add platforms to those the environment turns on: for programs that
	// embed vigie, and for tests.
	Connectors []Connector
	// ShutdownTimeout bounds the whole stop (default 15s): two thirds for the
	// drain of in-flight requests, events and actions (past it, actions still
	// waiting to be retried are given up: their verdicts stay in the journal,
	// for the next start), the rest for the store to write what waits for it
	// (past it, what Redis has not taken is logged, entry by entry).
	ShutdownTimeout time.Duration
	// RecoverAfter is how long a verdict left unfinished in the store's journal
	// by a vigie that stopped waits before a running one carries it out
	// (default 2m). Processes sharing a store renew the verdicts they hold
	// twice as often, so that none is carried out twice while in flight.
	RecoverAfter time.Duration
	// PendingHold is how long an event's id is marked pending in the store
	// while it is judged (default: a third of the leases' TTL, at most 5s):
	// a retry within it is a duplicate; a later retry of an event whose
	// judge stopped before its verdict was journaled (a kill, a panic) is
	// judged again and carried out. A judge still at work renews the mark
	// every PendingHold/4 (once past half of it), on Now's clock.
	PendingHold time.Duration
	// afterJudging, when set, is called with each event judged from a
	// source or over HTTP, before its verdict is journaled (tests).
	afterJudging func(ev *bot.Event)
	// evaluators, when above 0, replaces the number of evaluators: a test
	// puts every place on one.
	evaluators int
	// FollowEvery is how often a process sharing its store with others
	// reads there what was asked of one of them for all (default 1s), on
	// Now's clock: a reload of the rules (the console's Apply, a desk's
	// /reload, POST /-/reload, a signal), after which it reloads its own
	// rule file, and a CM's /pause, /resume and /mode, which it follows.
	FollowEvery time.Duration
	// Now is the daemon's clock, for everything that decides on the time:
	// the journal (its entries are stamped, renewed and taken again on it,
	// RecoverAfter measured on it), the engine (an event's time is checked
	// against it, after_hours), the shift and its /mode, cases, pauses, bans
	// and lockdowns and their lifts, the escalation, the crisis alerts (when
	// a wave is over, when a refused page is tried again), the desk's rounds
	// for the cards not posted yet, the morning report, the event tallies,
	// the recent events' history, the memory store's sweeps and logouts, the
	// verifications' deadlines, the log's refused requests (a line a
	// minute for each route and reason) and Telegram's poller conflicts
	// (another program polling with the token: when the desk is told, and
	// when they are over). Network pacing and the process's own upkeep
	// keep the wall clock: network deadlines and rate limits, the shutdown's
	// deadline, the sources' restarts, the leases (they follow Redis's own
	// expiry), the platforms' other clocks, the logs and their writer, the lanes'
	// idle timer, the mod-log's edit spacing, the FAQ's polls for taught
	// wordings and the observer's crowded poll. Nil means time.Now.
	Now func() time.Time
	// AfterFunc is the timer of Now's clock, as handlers.Options.AfterFunc:
	// the journal is looked at every RecoverAfter/4 on it, the open cases
	// (the escalation) and the shift (the morning report) every minute, the
	// quiet waves every 30s and the refused pages every 5s, the cards not
	// posted every 10s, the tallies every minute, the history every second,
	// the memory store every minute and the verifications' deadlines every
	// 5s; the moderator waits on it (its retries' pauses, the early case's
	// second). Nil means time.AfterFunc, with Now's default: a test that
	// drives Now drives it.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// Leases tune how processes sharing a Redis share the single-owner jobs
	// (leases.go); zero values take the defaults.
	Leases LeaseOptions

	// refusals counts and logs the requests refused at every door (the
	// webhooks, /v1/events, the admin routes, the console's login), on Now,
	// once a minute at most for each route and reason (bot.Refusals).
	refusals *bot.Refusals
}

// Connector is one platform integration as the daemon runs it: a Source of events,
// the Platforms that carry out actions (Meta has two: facebook and instagram), and
// the HTTP routes it receives on. Any part may be empty.
type Connector struct {
	// Name is how vigie run reports it: "discord on".
	Name      string
	Source    bot.Source
	Platforms []bot.Platform
	// Routes are served by the daemon's HTTP server, by http.ServeMux pattern
	// ("/webhooks/meta", "POST /webhooks/telegram").
	Routes map[string]http.Handler
	// Desk, when set, is where the CMs see cases and alerts.
	Desk handlers.Desk
	// Attach, when set, hands the CMs' commands to the desk once they exist.
	Attach func(*handlers.Commands)
	// AlertWith, when set, is handed the desk's alerts once they exist (not
	// without a desk): the connector tells the CMs what only they can mend.
	AlertWith func(alert func(ctx context.Context, text string) error)
	// TokenTaken, when set, is handed what to do when the platform takes
	// vigie's token again after refusing it: carry out what the refusal
	// left as cases, where still right late (limitEnded).
	TokenTaken func(taken func())
	// OnRules, when set, is told of every rule file loaded (the desk: section may
	// have changed); an error is logged and the rules still run.
	OnRules func(*rules.Ruleset) error
	// Verify, when set, is told of every rule file loaded, for its verify:
	// sections (the file's and the communities'; rules.Ruleset.VerifyPlaces),
	// with the store that keeps the pending verifications (nil when the store
	// cannot).
	Verify func(rs *rules.Ruleset, pending bot.Verifications)
	// Reload, when set, is called at each reload (SIGHUP, POST /-/reload, a
	// desk's /reload, the console's Apply), before the rule file is read,
	// whether it loads or not: the connector reads again what it can take
	// without a restart (Meta's page token from META_PAGE_TOKEN_FILE).
	Reload func()
	// Jobs are the connector's single-owner work (each Discord shard, the
	// Telegram poller): each runs in the one process that holds its lease.
	// Source, by contrast, runs in every process.
	Jobs []Job
}

const (
	maxEventBody = 1 << 20
	// evaluators judge the events that sources produce, each the events of its
	// own share of the spaces, in order; HTTP requests are judged in their own
	// goroutines. Actions are carried out in lanes (lanes.go).
	evaluators = 4
	// redisEvaluators replace them on Redis, where an evaluator spends most
	// of an event waiting for its observation's pipeline: more of them in
	// flight fill each pipeline more, and a pipeline's fixed cost (system
	// calls on both sides) is shared by more events (make bench-redis: 0.42
	// Redis reads and 170-180 µs of vigie's CPU per event with 4, 0.32 and
	// 140-150 µs with 32).
	redisEvaluators = 32
	// evaluatorQueue is how many events an evaluator may have waiting.
	evaluatorQueue = 256
)

// daemon is one running vigie.
type daemon struct {
	// private queues the private messages to the bot (private.go).
	private   *privateLane
	cfg       Config
	log       *slog.Logger
	store     store.Store
	storeKind string
	// storeCheck shares a probe of the store among the health checks
	// asking at once.
	storeCheck sharedProbe
	mod        *handlers.Moderator
	// limitEndMu makes the carrying out of what a long rate limit left
	// (limitEnded) one at a time.
	limitEndMu sync.Mutex
	faq        *faq.Assistant
	metrics    *metrics
	registry   *prometheus.Registry
	conns      []Connector
	// judged are told of each event from a source once it is judged, by
	// platform (judgedTeller).
	judged map[string]judgedTeller
	// desks are the connectors' desks, watched for /-/ready.
	desks []*watchedDesk
	// fanout sends to every desk: its catch-ups end with the stop.
	fanout *deskFanout
	// actions follows the platforms whose actions keep failing.
	actions *actionWatch
	// limits are the carryings out of what a long rate limit left, once it
	// ended (limitEnded), for the stop to wait for.
	limits    limitRuns
	platforms []string // "discord off (DISCORD_TOKEN not set)", for /healthz
	secret    []byte
	// adminToken guards reload and the case list: VIGIE_ADMIN_TOKEN, or,
	// when it is not set, one made at start (admintoken.go), which serve
	// writes in adminTokenDir for this user's programs.
	adminToken []byte
	// adminTokenDir is set when vigie made adminToken; adminTokenFile is the
	// file serve wrote it to.
	adminTokenDir, adminTokenFile string
	// ahead notes the events of /v1/events dated ahead of the clock.
	ahead aheadEvents
	// adminTokenUnwritten is true while the disk refused adminTokenFile.
	adminTokenUnwritten atomic.Bool

	// current is the engine events are evaluated with; reload swaps it.
	current  atomic.Pointer[loaded]
	reloadMu sync.Mutex
	// asked is the count of reloads asked of the processes sharing the
	// store that this one last saw or made (store.Reloads), known once
	// read; asking counts this process's asks, begun and ended, so that a
	// count read meanwhile is not taken for another's. Guarded by askedMu,
	// never held over a call to the store.
	askedMu    sync.Mutex
	asked      int64
	askedKnown bool
	asking     int64
	// faqLearned nudges the FAQ to read the wordings a CM here just taught.
	faqLearned chan struct{}

	health health
	// keptRules keeps the rules that loaded last, for a start on a rule
	// file that does not load; kept says such a start.
	keptRules keptRules
	kept      keptStart
	// guard recovers the panics of the long-lived goroutines and restarts them.
	guard *guard.Guard
	// commands answer the CMs on the desks.
	commands *handlers.Commands
	// after is what vigie does for the hours no CM watches (afterhours.go).
	after *afterHours
	// lastHour counts the events seen, for /status.
	lastHour hourly
	// ruleFailures tells the desk of a rule that keeps failing (ruleerrors.go).
	ruleFailures *ruleFailures

	// workCtx outlives the run context so that a shutdown drains the events in
	// flight; it is cancelled only when the drain runs out of time.
	workCtx    context.Context
	cancelWork context.CancelFunc
	// stopBy is when the stop must be over, store included: set when the
	// shutdown begins.
	stopBy time.Time
	// inflight counts HTTP event requests, which hand their verdicts to the
	// lanes after answering.
	inflight tracker
	// lanes carry out verdicts, one lane per platform and place.
	lanes *lanes
	// members carries out apart the verdicts of a busy member (memberlanes.go).
	members *memberLanes
	// inline: a verdict's actions and the crisis alerts call out to nothing
	// over the network (no connector, so no desk; the memory store), so
	// that the goroutine that judged an event carries them out itself when
	// no other is at it, rather than wake one (lanes.runInline,
	// observer.add).
	inline bool
	// connected names the platforms whose connector is on: events posted over
	// HTTP about them do not act unless the rule file allows it.
	connected map[string]bool
	// resolvers are the platforms among them that can say whether an author
	// is staff: the word an event posted over HTTP that acts there is taken
	// on, not the event's own (staffFromPlatform).
	resolvers map[string]bot.RoleResolver
	// idCheckers are the platforms on whose API paths the ids of events
	// posted over HTTP go, and which check them first (bot.IDChecker).
	idCheckers map[string]bot.IDChecker
	// placeNamers are the platforms that name their places for the desk
	// (a Telegram group's title).
	placeNamers map[string]bot.PlaceNamer
	// staffMisses are the places where a resolver did not answer in time
	// lately (staffFromPlatform).
	staffMisses staffMisses
	// held are the journaled verdicts this process carries out (journal.go).
	held held
	// judging are the marks of the events being judged, renewed while
	// they are (journal.go).
	judging judging
	// observer follows the crisis alerts off the judging goroutines; nil
	// until serve starts it (observer.go).
	observer *observer
	// observerCtx is workCtx, marked as the observer's (alertsDesk).
	observerCtx context.Context
	// answers are buffers for the verdicts' JSON (*[]byte), used again;
	// bodies the same for the events' JSON as read.
	answers sync.Pool
	bodies  sync.Pool
	// date is the answers' Date header, formatted once a second.
	date httpDate
	// counterNames are the answers' counters' names, sorted and quoted
	// once for all the verdicts that carry the same.
	counterNames bot.CounterNames
	// crossOrigin refuses what a page of another site makes a browser send
	// (fromThisMachine): made once, not for each request.
	crossOrigin *http.CrossOriginProtection
	// lastLocalHost is the last Host that fromThisMachine found local.
	lastLocalHost atomic.Pointer[string]
	// proxies are believed when they say a client came over HTTPS
	// (VIGIE_TRUSTED_PROXIES); tlsCert and tlsKey, when set, make vigie
	// serve HTTPS itself.
	proxies         []netip.Prefix
	tlsCert, tlsKey string
	// console is the CMs' web console, once routes made it; history the
	// recent events its backtests replay.
	console *console.Console
	history *history
	// modlog writes every action in the log chats and channels (modlog.go).
	modlog *handlers.ModLog
	// leases run the connectors' jobs and the after-hours jobs in the one
	// process that holds each (leases.go).
	leases *leases
}

// parseProxies reads VIGIE_TRUSTED_PROXIES: addresses or CIDR prefixes,
// separated by commas or spaces.
func parseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("VIGIE_TRUSTED_PROXIES: %q is neither an address nor a prefix like 10.0.0.0/8", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// loaded is one compiled rule file and the engine that runs it.
type loaded struct {
	engine *rules.Engine
	// faq matches questions against the file's faq: section and the
	// wordings the CMs taught from the desk; base against the file alone.
	faq, base *faq.Matcher
	// taught is how many taught wordings faq was built with.
	taught int
	file   string
	at     time.Time
	// warnings are the file's warnings and those of its rules that fail at
	// run time on the sample events, as vigie check says them: a reload
	// answers them.
	warnings []rules.Problem
}

// Run builds vigie from cfg and runs it until ctx is cancelled, then shuts down
// gracefully. A value on reload reloads the rule file. A rule file that does not
// load stops Run before anything starts, with every problem as FILE:LINE:COL.
func Run(ctx context.Context, cfg Config, reload <-chan struct{}) (err error) {
	d, err := build(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.close()) }()
	return d.serve(ctx, reload)
}

// build wires vigie together: rules, store, metrics, platforms, handlers. Nothing
// in it talks to the network.
func build(ctx context.Context, cfg Config) (d *daemon, err error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AfterFunc == nil {
		// Without a clock given, the wall clock's timers.
		cfg.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	log := cfg.Logger

	rs, file, err := vigie.LoadRules(cfg.ConfigPath)
	var matcher *faq.Matcher
	if err == nil {
		matcher, err = faq.Compile(rs)
	}
	kept := keptRulesFor(cfg.Getenv, file, log.With("part", "rules"), cfg.Now)
	// refused is the rule file's problems while the rules kept run.
	var refused, refusedHealth, refusedState string
	var restarted bool
	if err != nil {
		kl, kerr := kept.load(file)
		if kerr != nil {
			if errors.Is(kerr, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s does not load, not starting:\n%w", file, err)
			}
			return nil, fmt.Errorf("%s does not load, not starting:\n%w\n%w", file, err, kerr)
		}
		at := kl.at.UTC().Format(time.RFC3339)
		refused, refusedState = keptRulesText(file, err, kl), keptRulesState(err)
		if kl.damaged != "" {
			log.Error("the rules that loaded last cannot be run: the rules kept before them run", "err", kl.damaged, "kept", at)
			refusedHealth = fmt.Sprintf("%s does not load at start (%s), nor the copy of the rules that loaded last (%s): the rules kept before them run (kept %s) until it is mended and reloaded",
				file, strings.Join(problems(err), "; "), kl.damaged, at)
		} else {
			refusedHealth = fmt.Sprintf("%s does not load at start (%s): the rules that loaded last run (kept %s) until it is mended and reloaded",
				file, strings.Join(problems(err), "; "), at)
		}
		log.Error("the rule file does not load: vigie runs the rules that loaded last until it is mended and reloaded",
			"file", file, "kept", at, "err", err)
		rs, matcher = kl.rs, kl.matcher
		kept.markRefused(refusedState)
	} else {
		// the last start on the rules kept: this one, on the file
		// mended, tells its end
		if restarted = kept.refusedLast(); restarted {
			log.Info("the rule file loads again: its rules run, in place of those that loaded last", "file", file)
		}
		kept.save(rs)
	}
	// d is made below: read when an answer is written
	matcher.NamePlaces(func(ev *bot.Event) string { return d.spaceName(ev) })

	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	met := newMetrics(registry, cfg.Version)
	g := guard.New(log, registry, guard.WithClock(cfg.Now, cfg.AfterFunc))
	cfg.refusals = bot.NewRefusals(log, registry, cfg.Now)

	st, storeKind, err := openStore(cfg, registry, g)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, st.Close())
		}
	}()

	conns, platformStatus, err := connectors(cfg, rs, registry, st)
	if err != nil {
		return nil, err
	}
	log.Info("platforms: " + strings.Join(platformStatus, ", "))
	byName := map[string]bot.Platform{}
	judged := map[string]judgedTeller{}
	desks := &deskFanout{log: log, failures: met.deskFailures, missed: met.deskMissed, guard: g, after: cfg.timer(), cases: st, now: cfg.clock()}
	if keep, ok := st.(store.DeskMissedKeeper); ok {
		desks.keep = keep
	} else {
		desks.keep = &store.DeskMissedBook{}
	}
	var watched []*watchedDesk
	deskNamers := map[string]bot.DeskPlaceNamer{}
	posers := map[string]bot.CMPoseTeller{}
	for _, c := range conns {
		for _, p := range c.Platforms {
			byName[p.Name()] = p
			if jt, ok := p.(judgedTeller); ok {
				judged[p.Name()] = jt
			}
			if n, ok := p.(bot.DeskPlaceNamer); ok {
				deskNamers[p.Name()] = n
			}
			if t, ok := p.(bot.CMPoseTeller); ok {
				posers[p.Name()] = t
			}
		}
	}
	for _, c := range conns {
		if pd, ok := c.Desk.(*platformDesk); ok {
			// a desk names the places of another platform's cases as that
			// platform's own desk does, and the CMs of that platform their
			// authors are named like
			pd.platform, pd.names, pd.poses = c.Name, deskNamers, posers
		}
		if c.Desk != nil {
			w := &watchedDesk{name: c.Name, desk: c.Desk, now: cfg.clock()}
			watched = append(watched, w)
			desks.add(c.Name, w)
		}
	}

	modlog, err := newModLog(cfg, byName, registry)
	if err != nil {
		return nil, err
	}
	// d is made below, before any action is tried.
	actions := newActionWatch(log, cfg.Now, cfg.timer(), func(name string) { d.limitEnded(name) }, conns)
	// The shift follows the rules running now, which install sets below.
	shift := handlers.NewShift(func(t time.Time) bool { return d.current.Load().engine.Ruleset().AfterHours(t) }, cfg.Now)
	mod, err := handlers.New(handlers.Options{
		Platforms:  byName,
		Store:      st,
		Desk:       desks.desk(),
		Logger:     log,
		Registerer: registry,
		Now:        cfg.Now,
		AfterFunc:  cfg.AfterFunc,
		// A card's post under way at the stop reads its answer, so that
		// the next start does not post it again: the stop waits for the
		// desk's round, and a post cut by the drain's end still leaves
		// the store half its share of the stop to close.
		PostGrace:  storeShare(cfg.ShutdownTimeout) / 2,
		Shift:      shift,
		Priority:   rulePriority,
		FAQLearned: func() { d.faqTaught() }, // d is made below
		ModLog:     modlog,
		Acted:      actions.record,
		Failing:    actions.platformFailing,
		// d is made below, before any verdict.
		RolesMissing: func(ev bot.Event) bool { return d.staffMisses.missing(staffMissKey(ev.Platform, ev.Space), d.now()) },
		// The cases of actions refused alike in a place share a card.
		FailureCause: failureCause,
		// d is made below, before any verdict.
		EarlyOpened:  func(ctx context.Context, ev bot.Event, id string) { d.earlyOpened(ctx, ev, id) },
		EarlyOpening: func(ctx context.Context, ev bot.Event, origin string) error { return d.earlyOpening(ctx, ev, origin) },
		Carried:      func(ctx context.Context, ev bot.Event, a bot.Action) { d.carried(ctx, ev, a) },
		Trying:       func(ctx context.Context, ev bot.Event, a bot.Action) { d.trying(ctx, ev, a) },
		// Meta's actions wait out its long rate limits, which it tells
		// the desk of once: no card for each comment of a wave.
		LimitWaits: func(platform string) bool { return actions.connector[platform] == "meta" },
	})
	if err != nil {
		return nil, err
	}

	assistant, err := faq.New(faq.Options{
		Platforms: byName,
		Store:     st,
		OpenCase:  mod.OpenCaseBy,
		Paused:    func() bool { p, _ := mod.Paused(); return p },
		Retry:     mod.Retried,
		// An answer a long rate limit left shares its cause's card, and
		// is carried out when the limit ends, as the rules' are.
		FailureCause: func(ev bot.Event, a bot.Action, err error) string {
			if cause := failureCause(err); cause != "" {
				return handlers.CauseOf(ev, a, cause)
			}
			return ""
		},
		// a raid's accounts get no answer while it is on; d is made
		// below, before any event
		RaidSince: func(ev *bot.Event) (time.Time, bool) {
			if d.after == nil || d.after.alerts == nil {
				return time.Time{}, false
			}
			return d.after.alerts.RaidSince(ev)
		},
		Logger:     log.With("handler", "faq"),
		Registerer: registry,
	})
	if err != nil {
		return nil, err
	}

	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	d = &daemon{
		crossOrigin: http.NewCrossOriginProtection(),
		cfg:         cfg,
		log:         log,
		store:       st,
		storeKind:   storeKind,
		mod:         mod,
		faq:         assistant,
		faqLearned:  make(chan struct{}, 1),
		metrics:     met,
		registry:    registry,
		conns:       conns,
		judged:      judged,
		desks:       watched,
		fanout:      desks,
		actions:     actions,
		platforms:   platformStatus,
		workCtx:     workCtx,
		observerCtx: context.WithValue(workCtx, onObserver{}, true),
		cancelWork:  cancelWork,
		guard:       g,
		modlog:      modlog,
		private:     newPrivateLane(log, registry, cfg.Now),
	}
	leaser, ok := st.(store.Leaser)
	if !ok {
		// A store that shares nothing: this process is the only one.
		leaser = memory.New(memory.WithLeaseClock(leaseClock(cfg)))
	}
	_, alone := leaser.(*memory.Store)
	d.leases = newLeases(leaser, cfg.Leases.withDefaults(cfg.Getenv), log.With("part", "leases"), registry, alone)
	d.ruleFailures = newRuleFailures(desks.desk(), told.New(st, strconv.FormatUint(rand.Uint64(), 36), log), log.With("handler", "rule failures"), met.ruleError, cfg.Now)
	registry.MustRegister(newSourceMetrics(d))
	if s := cfg.Getenv("VIGIE_WEBHOOK_SECRET"); s != "" {
		d.secret = []byte(s)
	}
	if s := cfg.Getenv("VIGIE_ADMIN_TOKEN"); s != "" {
		d.adminToken = []byte(s)
	}
	if err := exposed(cfg, d.secret, d.adminToken); err != nil {
		return nil, err
	}
	if d.adminToken == nil {
		if d.adminTokenDir, err = AdminTokenDir(cfg.Getenv); err != nil {
			return nil, &SetupError{Msg: err.Error()}
		}
		if err := prepareAdminTokenDir(d.adminTokenDir); err != nil {
			return nil, err
		}
		d.adminToken = newAdminToken()
	}
	if d.proxies, err = parseProxies(cfg.Getenv("VIGIE_TRUSTED_PROXIES")); err != nil {
		return nil, err
	}
	if d.history, err = historyFrom(cfg.Getenv, st, log.With("part", "history")); err != nil {
		return nil, err
	}
	d.tlsCert, d.tlsKey = cfg.Getenv("VIGIE_TLS_CERT"), cfg.Getenv("VIGIE_TLS_KEY")
	if (d.tlsCert == "") != (d.tlsKey == "") {
		return nil, errors.New("VIGIE_TLS_CERT and VIGIE_TLS_KEY go together: set both, or neither")
	}
	if d.tlsCert != "" {
		if _, err := tls.LoadX509KeyPair(d.tlsCert, d.tlsKey); err != nil {
			return nil, fmt.Errorf("VIGIE_TLS_CERT, VIGIE_TLS_KEY: %w", err)
		}
	}
	d.connected = map[string]bool{}
	d.resolvers = map[string]bot.RoleResolver{}
	d.idCheckers = map[string]bot.IDChecker{}
	d.placeNamers = map[string]bot.PlaceNamer{}
	for name, p := range byName {
		d.connected[name] = true
		if n, ok := p.(bot.PlaceNamer); ok {
			d.placeNamers[name] = n
		}
		if c, ok := p.(bot.IDChecker); ok {
			d.idCheckers[name] = c
		}
		if r, ok := p.(bot.RoleResolver); ok {
			d.resolvers[name] = r
		}
	}
	d.inline = len(d.conns) == 0 && storeKind == "memory"
	d.lanes = newLanes(d.act, d.laneFull, log, g, met.laneWait)
	d.members = newMemberLanes(workCtx, d.actApart, d.memberLaneFull, d.unfolded, d.foldCovered, d.mod.HoldMemberKey, log, g)
	registry.MustRegister(d.members.counted)
	registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vigie_lanes",
		Help: "Places (platform, chat or channel) whose actions have a lane running now.",
	}, func() float64 { return float64(d.lanes.busy()) }))
	for result, n := range map[string]func(rules.PatternStats) uint64{
		"kept":     func(s rules.PatternStats) uint64 { return s.Hits },
		"compiled": func(s rules.PatternStats) uint64 { return s.Compiled },
		"refused":  func(s rules.PatternStats) uint64 { return s.Refused },
	} {
		registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "vigie_rule_runtime_patterns_total",
			Help:        "Patterns of matches() built while a rule runs: kept (found compiled), compiled, refused (too long, too big to compile, or no regular expression).",
			ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 { return float64(n(rules.RuntimePatternStats())) }))
	}
	if lw := cfg.Logs; lw != nil {
		registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "vigie_log_lines_lost_total",
			Help: "Lines of vigie's log its destination refused (a full disk, a closed pipe): gone, and said in the log once it takes lines again.",
		}, func() float64 { return float64(lw.LinesLost()) }))
	}
	if ms, ok := d.store.(interface{ StrikeAuthorsDropped() int64 }); ok {
		registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "vigie_strike_authors_dropped_total",
			Help: "Authors whose strikes the memory store forgot for want of room (it keeps 1,000,000 authors' strikes): strikes() reads fewer for them.",
		}, func() float64 { return float64(ms.StrikeAuthorsDropped()) }))
	}
	if ms, ok := d.store.(interface{ Footprint() memory.Footprint }); ok {
		for part, bytes := range map[string]func(memory.Footprint) int64{
			"counters": func(f memory.Footprint) int64 { return f.Counters },
			"rings":    func(f memory.Footprint) int64 { return f.Rings },
			"dedupe":   func(f memory.Footprint) int64 { return f.Dedupe },
			"strikes":  func(f memory.Footprint) int64 { return f.Strikes },
		} {
			registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name:        "vigie_store_slots_bytes",
				Help:        "Bytes of the memory store's slots touched, by part (counters, rings, dedupe, strikes): resident memory mapped outside the Go heap on unix once large.",
				ConstLabels: prometheus.Labels{"part": part},
			}, func() float64 { return float64(bytes(ms.Footprint())) }))
		}
	}
	if err := d.buildAfterHours(rs, shift, desks.desk(), registry); err != nil {
		return nil, err
	}
	d.install(rs, file, matcher)
	d.keptRules = kept
	if refused != "" {
		d.kept = keptStart{file: file, text: refused, state: refusedState, ended: make(chan struct{})}
		d.metrics.reloadOK.Set(0)
		d.health.set("reload", refusedHealth)
	} else if restarted {
		d.kept = keptStart{file: file, restarted: true}
	}
	d.commands = handlers.NewCommands(mod, handlers.CommandsOptions{
		Version: cfg.Version,
		FAQ:     func(since time.Time) string { return assistant.Report(since, 5).Summary() },
		Rules:   func() *rules.Ruleset { return d.current.Load().engine.Ruleset() },
		Reload:  d.reloadText,
		Status:  d.statusLines,
		Report:  d.reportFor,
	})
	for _, c := range conns {
		if c.Attach != nil {
			c.Attach(d.commands)
		}
		if desk := desks.desk(); c.AlertWith != nil && desk != nil {
			c.AlertWith(desk.Alert)
		}
		if c.TokenTaken != nil {
			name := c.Name
			c.TokenTaken(func() { d.tokenTaken(name) })
		}
	}
	return d, nil
}

// storeShare is the part of ShutdownTimeout kept for the store's close: a
// Redis that answers takes what waits in milliseconds; one that hangs does
// not make the stop longer than the docs say.
func storeShare(timeout time.Duration) time.Duration { return timeout / 3 }

// close releases what build opened, by stopBy (or, when serve did not get
// to its shutdown, within the store's share of the stop). A store that does
// not close in time is left: what it still held for Redis is logged (kept in
// the spool, or lost without one), and the process ends all the same.
func (d *daemon) close() error {
	d.cancelWork()
	deadline := d.stopBy
	if deadline.IsZero() {
		// On the wall clock: a stop's deadline, in the real seconds systemd waits.
		deadline = time.Now().Add(storeShare(d.cfg.ShutdownTimeout))
	}
	closed := make(chan error, 1)
	go func() { closed <- d.store.Close() }()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case err := <-closed:
		if err != nil {
			return fmt.Errorf("close %s store: %w", d.storeKind, err)
		}
		return nil
	case <-t.C:
	}
	var lost []string
	if u, ok := d.store.(interface{ Unwritten() []string }); ok {
		lost = u.Unwritten()
	}
	// Spooled as it waited: the next start on the spool writes it.
	if sp, ok := d.store.(interface{ SpoolKept() string }); ok && len(lost) > 0 {
		if file := sp.SpoolKept(); file != "" {
			d.log.Warn("store did not close in time: what it held for Redis is kept in the spool, for the next start to write", "count", len(lost),
				"spool", file, "kept", strings.Join(lost, "; "))
			return fmt.Errorf("close %s store: not done by the end of the stop's %s; %d cases, audit entries and journal removals kept in the spool %s for the next start",
				d.storeKind, d.cfg.ShutdownTimeout, len(lost), file)
		}
	}
	if len(lost) > 0 {
		d.log.Error("store did not close in time: what it held for Redis is not written", "count", len(lost),
			"lost", strings.Join(lost, "; "))
	}
	return fmt.Errorf("close %s store: not done by the end of the stop's %s; %d cases, audit entries and journal removals not written",
		d.storeKind, d.cfg.ShutdownTimeout, len(lost))
}

// serve runs the HTTP server, the sources and the workers until ctx is cancelled,
// then drains them.
func (d *daemon) serve(ctx context.Context, reload <-chan struct{}) error {
	cfg, log := d.cfg, d.log
	handler, err := d.routes()
	if err != nil {
		return err
	}
	if p, ok := d.store.(pinger); ok {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		switch err := p.Ping(pctx); {
		case err == nil:
		case redis.AuthRefused(err):
			// Redis runs: the URL is wrong, which is for the operator to fix.
			log.Error("store refuses vigie's password: vigie moderates from memory until it takes it; check the password of --redis (or VIGIE_REDIS_URL): redis://:PASSWORD@HOST:PORT/0, or redis://USER:PASSWORD@… for an ACL user",
				"store", d.storeKind, "err", err)
		default:
			// Not fatal: Redis may come up after vigie; /healthz says it meanwhile.
			// The URL is not logged: it may carry a password.
			log.Warn("store not reachable yet: vigie moderates from memory until it answers; check that a redis-server runs at the address of --redis (or VIGIE_REDIS_URL)",
				"store", d.storeKind, "err", err)
		}
		cancel()
	}
	if err := d.mod.RefreshOpenCases(ctx); err != nil {
		log.Warn("open cases not counted", "err", err)
	}
	// Verdicts a stopped vigie left unfinished go to their lanes before any
	// new event, so that a place's actions keep their order.
	d.resume(ctx)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if d.adminTokenDir != "" {
		// Named after the port, known only now (port 0 picks one).
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		file := AdminTokenFile(d.adminTokenDir, port)
		d.adminTokenFile = file
		tokenCtx, stopToken := context.WithCancel(ctx)
		var tokenWriter sync.WaitGroup
		if err := writeAdminToken(file, d.adminToken, ln.Addr().String()); err != nil {
			if setup := (*SetupError)(nil); errors.As(err, &setup) {
				stopToken()
				ln.Close()
				return err
			}
			// The disk refuses it (full, read-only, over quota): the token
			// is for the CLI, and moderation does not wait for it.
			d.adminTokenUnwritten.Store(true)
			d.health.set(healthAdminToken, "admin token not written to "+file+" ("+err.Error()+"): vigie cases, users and report cannot reach this vigie until it is; tried again every "+adminTokenRetry.String())
			log.Error("admin token not written: vigie runs and moderates, but vigie cases, users and report cannot reach it until the disk takes the file; tried again every "+adminTokenRetry.String(),
				"file", file, "err", err)
			tokenWriter.Go(func() { d.retryAdminToken(tokenCtx, file, ln.Addr().String()) })
		} else {
			log.Info("admin token made for this run (VIGIE_ADMIN_TOKEN not set), in a file only this user may read: vigie cases, users and report read it there",
				"file", file)
		}
		defer func() {
			stopToken()
			tokenWriter.Wait()
			if err := removeAdminToken(file, d.adminToken); err != nil {
				log.Warn("admin token file not removed", "file", file, "err", err)
			}
		}()
	}
	// From here on, everything judged goes through the observer, which the
	// shutdown below drains.
	d.observer = startObserver(d.followAlerts)
	conns := newConnLimit(ln, maxConnections(openFiles()), d.cfg.refusals)
	ln = conns
	srv := &http.Server{
		Handler:           conns.serving(handler),
		ConnContext:       conns.connContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(serverErrors{refusals: d.cfg.refusals, log: log}, "", 0),
	}
	if d.console != nil {
		// Live views are streams that never end on their own: Shutdown
		// ends them, for the drain below not to wait for the browsers.
		srv.RegisterOnShutdown(d.console.Close)
	}
	signature := "off (VIGIE_WEBHOOK_SECRET not set)"
	if d.secret != nil {
		signature = "required"
	}
	// Said before the first request is served: what a request logs comes
	// after these lines, however the goroutines are scheduled.
	l := d.current.Load()
	log.Info("http events on "+cfg.Listen, "addr", ln.Addr().String(), "signature", signature)
	log.Info("vigie running", "version", cfg.Version, "rules", l.file,
		"rule_count", len(l.engine.Ruleset().Rules), "store", d.storeKind)
	serveErr := make(chan error, 1)
	go func() {
		if d.tlsCert != "" {
			serveErr <- srv.ServeTLS(ln, d.tlsCert, d.tlsKey)
			return
		}
		serveErr <- srv.Serve(ln)
	}()

	// Sources send into events; the evaluators judge them and hand the verdicts
	// to the lanes. events is never closed, so that a source that is late to stop
	// cannot panic on a send.
	// runCtx stops the sources and the desk, on shutdown or when the server fails.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	d.followFirst(runCtx)
	events := make(chan bot.Event, 64)
	var sources, pool sync.WaitGroup
	for _, c := range d.conns {
		if c.Source != nil {
			sources.Go(func() { supervise(runCtx, c.Source, events, log, d.guard, d.health.set) })
		}
		for _, j := range c.Jobs {
			sources.Go(func() { d.runJob(runCtx, j, events) })
		}
	}
	stopWorkers := make(chan struct{})
	pool.Go(func() { d.dispatch(events, stopWorkers) })
	var desk sync.WaitGroup
	desk.Go(func() {
		d.guard.Loop(runCtx, "desk delivery", func(ctx context.Context) { _ = d.mod.DeliverCases(ctx) })
	})
	desk.Go(func() { d.guard.Loop(runCtx, "rule failure alerts", d.ruleFailures.run) })
	desk.Go(func() {
		d.guard.Loop(runCtx, "rule file alert", func(ctx context.Context) { d.tellKeptRules(ctx, d.ruleFailures.desk) })
	})
	desk.Go(func() { d.guard.Loop(runCtx, "memory sweep", d.runSweep) })
	desk.Go(func() {
		d.guard.Loop(runCtx, "refused requests' log", func(ctx context.Context) {
			d.cfg.every(ctx, bot.RefusedEvery, func() { d.cfg.refusals.Flush(); d.private.dropped.Flush() })
		})
	})
	desk.Go(func() {
		d.guard.Loop(runCtx, "recent events", func(ctx context.Context) { d.history.run(ctx, d.cfg.every) })
	})
	desk.Go(func() { d.guard.Loop(runCtx, "faq learning", d.runFAQLearning) })
	desk.Go(func() { d.guard.Loop(runCtx, "mod-log", d.modlog.Run) })
	d.runAfterHours(runCtx, &desk)
	d.runResume(runCtx, &desk)
	d.runRenewSeen(runCtx, &desk)
	d.runFollow(runCtx, &desk)
	desk.Go(func() { d.resumeLimits(runCtx) })
	d.fanout.catchUpAll()
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr())
	}

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down")
			break loop
		case err := <-serveErr:
			// The listener failed: nothing more can come in, stop everything else.
			runErr = fmt.Errorf("http server: %w", err)
			serveErr = nil
			break loop
		case <-reload:
			if _, err := d.reload("signal", false); err != nil {
				log.Error("reload refused, the old rules keep running", "err", err)
			}
		}
	}

	// Shutdown: stop accepting and drain HTTP requests (they carry out their own
	// actions), let the sources stop, then let the workers empty the queue. Work past
	// the drain's deadline is cancelled, and waited for until the stop's end
	// (stopBy), so that nothing is left running but what ignores its context
	// (a call to a Redis that hangs), which is named in the error.
	stopRun()
	// On the wall clock: a stop's deadline, in the real seconds systemd waits.
	d.stopBy = time.Now().Add(cfg.ShutdownTimeout)
	drain := cfg.ShutdownTimeout - storeShare(cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	hard, cancelHard := context.WithDeadline(context.WithoutCancel(ctx), d.stopBy)
	defer cancelHard()
	var errs []error
	left := func(what string) {
		errs = append(errs, fmt.Errorf("%s still running at the end of the stop; left", what))
	}
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("http drain: %w", err))
		d.cancelWork()
		srv.Close()
	}
	if serveErr != nil {
		<-serveErr // Serve returns ErrServerClosed once Shutdown began
	}
	d.cfg.refusals.Flush() // the tail of a flood, in the log before the stop
	if !wait(sctx, &sources) {
		// A source that ignores its context breaks the Source contract; it cannot be
		// stopped from here.
		errs = append(errs, fmt.Errorf("sources still running after %s", drain))
	}
	close(stopWorkers)
	if !wait(sctx, &pool) {
		errs = append(errs, fmt.Errorf("events still being judged after %s; their actions were cancelled", drain))
		d.cancelWork()
		if !wait(hard, &pool) {
			left("the evaluators")
		}
	}
	d.private.dropped.Flush() // the evaluators are done: none is let go after
	if !d.inflight.closeAndWait(sctx) {
		d.cancelWork()
		if !d.inflight.closeAndWait(hard) {
			left("HTTP event requests")
		}
	}
	// Nothing is judged any more: the alerts see the last events.
	if !d.observer.stop(sctx) {
		errs = append(errs, fmt.Errorf("crisis alerts still following events after %s; cancelled", drain))
		d.cancelWork()
		if !d.observer.stop(hard) {
			left("the crisis alerts")
		}
	}
	if !d.lanes.close(sctx) {
		errs = append(errs, fmt.Errorf("actions still being carried out after %s; they were cancelled", drain))
		d.cancelWork()
		if !d.lanes.close(hard) {
			left("the lanes")
		}
	}
	if !d.members.close(sctx) {
		errs = append(errs, fmt.Errorf("busy members' actions still being carried out after %s; they were cancelled, and are kept for the next start", drain))
		d.cancelWork()
		if !d.members.close(hard) {
			left("the busy members' lanes")
		}
	}
	// The cases the last events opened go to the desk before the store closes.
	// The jobs write their last figures and give their leases up, writes to
	// the store like those its close makes: they may take its share of the
	// stop, and a store that hangs does not hold the stop past its end.
	if !wait(hard, &desk) {
		left("the jobs (their last figures, their leases)")
	}
	// What a long rate limit left is carried out no more, once the run
	// under way (its decisions, tried now) is done.
	if !d.stopLimits(sctx) {
		errs = append(errs, fmt.Errorf("the carrying out of what a rate limit left still running after %s", drain))
	}
	// A CM's decision still being tried ends first: one not carried out
	// opens a case, which goes to the desk with the others.
	if err := d.mod.WaitDecisions(sctx); err != nil {
		log.Warn("a CM's decision was still being carried out at the stop; its card may not say how it ended", "err", err)
	}
	d.mod.FlushCases(sctx)
	// The cards a desk missed are shown no more: what is not shown yet
	// stays in the store, for the next start or another instance.
	if !d.fanout.stopCatchUps(sctx) {
		errs = append(errs, fmt.Errorf("the cards a desk missed still being shown after %s; cancelled", drain))
		if !d.fanout.stopCatchUps(hard) {
			left("the cards a desk missed")
		}
	}
	if runErr != nil {
		return runErr
	}
	log.Info("stopped")
	return errors.Join(errs...)
}

// runJob runs a connector's job, supervised as a source, while this process
// holds its lease.
func (d *daemon) runJob(ctx context.Context, j Job, events chan<- bot.Event) {
	d.leases.run(ctx, j.Name, func(ctx context.Context, lease store.Lease) {
		src := jobSource{job: j, fence: Fence{st: d.leases.st, lease: lease}}
		supervise(ctx, src, events, d.log, d.guard, d.health.set)
		// Another process answers for it now.
		d.health.set(j.Name, "")
	})
}

// install makes rs the rules events are evaluated with.
func (d *daemon) install(rs *rules.Ruleset, file string, matcher *faq.Matcher) *loaded {
	// A rule that compiles may still fail on every event (a regexp built at
	// run time): vigie check tries the file on its sample events, and so
	// does every load, so that a reload does not keep it for the night.
	warnings := slices.Concat(rs.Warnings, rs.TrySamples(context.Background()))
	for _, w := range warnings {
		d.log.Warn("rules: " + w.String())
	}
	for _, c := range d.conns {
		for _, pl := range c.Platforms {
			// What a platform does not have (a comment page has no timeout) is
			// no mistake in the file: one line per platform says what is skipped.
			skipped := rs.SkippedOn(pl)
			if len(skipped) == 0 {
				continue
			}
			kinds := make([]string, len(skipped))
			attrs := []any{"platform", pl.Name()}
			for i, s := range skipped {
				kinds[i] = string(s.Kind)
				attrs = append(attrs, string(s.Kind), strings.Join(s.Rules, ","))
			}
			d.log.Info(fmt.Sprintf("rules: %s cannot %s; those actions are skipped there, the rules' other actions are carried out",
				pl.Name(), strings.Join(kinds, ", ")), attrs...)
		}
		if c.OnRules != nil {
			if err := c.OnRules(rs); err != nil {
				d.log.Warn("rules: "+err.Error(), "platform", c.Name)
			}
		}
		if c.Verify != nil {
			pending, _ := d.store.(bot.Verifications)
			if rs.VerifyAnywhere() && pending == nil {
				d.log.Warn("verify: is set but the store cannot keep pending verifications: new members are not asked", "platform", c.Name)
			}
			c.Verify(rs, pending)
		}
	}
	if rs.VerifyAnywhere() && !slices.ContainsFunc(d.conns, func(c Connector) bool { return c.Verify != nil }) {
		// vigie check cannot say it: which platforms are on is the
		// environment's (their tokens), known only here.
		d.log.Warn(fmt.Sprintf("rules: %s:%d:%d: verify: is set but neither Telegram nor Discord is on: no new member is asked (set TELEGRAM_TOKEN or DISCORD_TOKEN)",
			file, rs.Verify.Line, rs.Verify.Col))
	}
	d.after.alerts.SetAlerts(rs.WaveAlerts())
	d.setModLog(rs.ModLog)
	d.modlog.SetCommunities(rs)
	d.mod.SetCommunities(rs)
	// Every rule's series exists from the start, so that rate() sees its first hit.
	for _, r := range rs.Rules {
		d.metrics.ruleHits.WithLabelValues(r.Name, r.Category, cmp.Or(string(r.Mode), string(rules.ModeEnforce)))
	}
	l := &loaded{
		// after_hours by this file's office hours (and the desk's /mode):
		// the shift's own are the running file's, which a reload changes
		// while this engine still judges.
		engine: rules.NewEngine(rs, d.store, rules.Options{Clock: d.cfg.Now, Logger: d.log, Pending: d.pendingHold(),
			AfterHours: func(t time.Time) bool { return d.after.shift.AfterHoursBy(rs.AfterHours, t) },
			Forced:     d.after.shift.Forced, RuleError: d.ruleFailures.observer(file),
			// the crisis alerts write an alert's message when it raises a
			// wave, not for every event while it holds
			NoAlertMessages: true,
			// a strike counts a message once, not again for its edits
			MessageOf: d.mod.MessageOf, ClaimFailed: d.mod.ClaimFailed,
			// {{space}} writes a Telegram group's title, not its id
			PlaceName: d.spaceName}),
		faq:      matcher,
		base:     matcher,
		file:     file,
		at:       d.now(),
		warnings: warnings,
	}
	d.current.Store(l)
	d.metrics.reloadOK.Set(1)
	d.metrics.reloadAt.SetToCurrentTime()
	d.health.set("reload", "")
	return l
}

// loadRules reads the rule file on a reload: vigie.LoadRulesWith, which a
// test replaces to have the loader fail as a bug would.
var loadRules = vigie.LoadRulesWith

// reload builds the new rules fully and swaps them in; on failure the old rules
// keep running. confined keeps the file's lists and models to its folder
// (rules.LoadOptions.Confined), for a reload the console asks after writing
// the file: the operator's own reloads (a signal, POST /-/reload, a desk's
// /reload of the file on disk) read what the operator pointed at.
func (d *daemon) reload(why string, confined bool) (*loaded, error) {
	l, err := d.reloadHere(why, confined)
	if err == nil {
		d.askOthers(confined, l.file)
	}
	return l, err
}

// reloadHere reloads the rule file in this process only.
func (d *daemon) reloadHere(why string, confined bool) (*loaded, error) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	for _, c := range d.conns {
		if c.Reload != nil {
			c.Reload()
		}
	}
	rs, file, matcher, err := d.build(rules.LoadOptions{Confined: confined})
	if err == nil {
		err = d.dropsAllRules(rs, file)
	}
	if err != nil {
		d.metrics.reloadOK.Set(0)
		d.health.set("reload", "last reload refused at "+d.now().UTC().Format(time.RFC3339)+": "+strings.Join(problems(err), "; "))
		return nil, err
	}
	l := d.install(rs, file, matcher)
	d.keptRules.save(rs)
	if d.kept.ended != nil && !d.kept.over {
		d.kept.over = true
		close(d.kept.ended)
	}
	d.log.Info("rules reloaded", "file", file, "rule_count", len(rs.Rules), "by", why)
	return l, nil
}

// dropsAllRules refuses a file with only faq: (no rules: key) over rules
// that run: a file saved half-written, or another file saved in its place,
// would stop all moderation without a word but "0 rules". A file that means
// it says rules: [], and a vigie started on an FAQ-only file reloads it.
func (d *daemon) dropsAllRules(rs *rules.Ruleset, file string) error {
	cur := d.current.Load()
	if !rs.FAQOnly || cur == nil || len(cur.engine.Ruleset().Rules) == 0 {
		return nil
	}
	n := len(cur.engine.Ruleset().Rules)
	return &rules.LoadError{Problems: []rules.Problem{{File: file, Line: 1, Col: 1,
		Msg: fmt.Sprintf("rule file: no \"rules\" key, only \"faq\": loading it would stop the %d rules that run; write \"rules: []\" to keep only the FAQ on purpose", n)}}}
}

// build loads the rule file, compiles its FAQ and runs the file's own tests,
// as vigie test does: a file whose tests fail is refused as one that does not
// load (a *rules.TestsFailedError), whoever reloads it (SIGHUP, POST
// /-/reload, a desk's /reload, the console's Apply). A panic in them, a bug of
// the loader, is a refused reload (logged with its stack, counted in
// vigie_panics_total{where="reload"}), not the end of the daemon and of the
// rules it runs.
func (d *daemon) build(opts rules.LoadOptions) (rs *rules.Ruleset, file string, matcher *faq.Matcher, err error) {
	defer func() {
		if v := recover(); v != nil {
			d.guard.Report("reload", v, debug.Stack())
			rs, matcher = nil, nil
			err = fmt.Errorf("the rule loader failed (a bug in vigie, its stack is in the log): panic: %v", v)
		}
	}()
	rs, file, err = loadRules(d.cfg.ConfigPath, opts)
	if err == nil {
		matcher, err = faq.Compile(rs)
	}
	if err == nil {
		matcher.NamePlaces(d.spaceName)
	}
	if err == nil {
		results := rs.RunTests(context.Background())
		results = append(results, matcher.RunTests(faq.TestsOf(rs.FAQ))...)
		err = rules.FailedTests(file, results)
	}
	if err != nil {
		rs, matcher = nil, nil
	}
	return rs, file, matcher, err
}

// reloadText reloads for a CM on a desk, and says what happened.
func (d *daemon) reloadText(by string) (string, error) {
	l, err := d.reload(by, false)
	if err != nil {
		d.log.Error("reload refused, the old rules keep running", "err", err, "by", by)
		return "Refused, the old rules keep running:\n" + strings.Join(problems(err), "\n"), nil
	}
	rs := l.engine.Ruleset()
	text := fmt.Sprintf("Reloaded %s: %d rules.", l.file, len(rs.Rules))
	if d.reloads() != nil {
		text += fmt.Sprintf(" The other instances reload their rule file within %s.", cmp.Or(d.cfg.FollowEvery, defaultFollowEvery))
	}
	for _, w := range l.warnings {
		text += "\nwarning: " + w.String()
	}
	return text, nil
}

// statusLines are the daemon's part of /status.
func (d *daemon) statusLines(ctx context.Context) []string {
	lines := []string{
		"Platforms: " + strings.Join(d.platforms, ", ") + ".",
		"Store: " + d.storeKind + ".",
		fmt.Sprintf("Events in the last hour: %d.", d.lastHour.sum(d.now())),
	}
	if !d.leases.alone {
		// Several processes share the store: say which jobs this one runs.
		held := cmp.Or(strings.Join(d.leases.list(), ", "), "none (standing by)")
		lines = append(lines, "Jobs run by this instance: "+held+".")
	}
	if deg := append(d.health.list(), d.actions.problems()...); len(deg) > 0 {
		slices.Sort(deg)
		lines = append(lines, "Degraded: "+strings.Join(deg, "; ")+".")
	}
	return lines
}

// problems lists a load error as FILE:LINE:COL: message lines.
func problems(err error) []string {
	var tf *rules.TestsFailedError
	if errors.As(err, &tf) {
		return tf.Lines()
	}
	var le *rules.LoadError
	if errors.As(err, &le) && len(le.Problems) > 0 {
		out := make([]string, len(le.Problems))
		for i, p := range le.Problems {
			out[i] = p.String()
		}
		return out
	}
	return []string{err.Error()}
}

// dispatch hands the sources' events to the evaluators until stop is closed,
// then empties the queue and waits for the evaluators. The events of one space
// (a Discord server, a Telegram chat, a page) always go to the same evaluator,
// so that each space, and each author in it, is judged in order.
func (d *daemon) dispatch(events <-chan bot.Event, stop <-chan struct{}) {
	var pool sync.WaitGroup
	n := evaluators
	if d.storeKind == "redis" {
		n = redisEvaluators
	}
	if d.cfg.evaluators > 0 {
		n = d.cfg.evaluators
	}
	queues := make([]chan bot.Event, n)
	for i := range queues {
		q := make(chan bot.Event, evaluatorQueue)
		queues[i] = q
		pool.Go(func() { d.evaluator(q) })
	}
	// The private messages to the bot have an evaluator of their own and a
	// bounded share (private.go): they never wait in a space's queue, nor
	// make the sources wait.
	pl := d.private
	pool.Go(func() {
		for ev := range pl.q {
			if d.rolesFirst(&ev) {
				d.resolveFirst(&ev)
			}
			d.process(ev)
			pl.taken(&ev)
		}
	})
	seed := maphash.MakeSeed()
	send := func(ev bot.Event) {
		if privateMessage(&ev) {
			if !pl.offer(ev) {
				// let go: the source may forget it (Telegram's inbox)
				if jt := d.judged[ev.Platform]; jt != nil {
					jt.Judged(&ev)
				}
			}
			return
		}
		queues[maphash.String(seed, ev.Platform+"\x00"+ev.Space)%uint64(n)] <- ev
	}
	defer func() {
		for _, q := range queues {
			close(q)
		}
		close(pl.q)
		pool.Wait()
	}()
	for {
		select {
		case ev := <-events:
			send(ev)
		case <-stop:
			for {
				select {
				case ev := <-events:
					send(ev)
				default:
					return
				}
			}
		}
	}
}

// evaluator judges the events of q in order, until q is closed and what it
// holds is judged. An event whose author's roles must be asked first (a
// Telegram group's first message after a start, bot.RolesFirst) is held with
// the later events of its place while the platform is asked, at most
// staffLookupWait: the other places of this evaluator are judged meanwhile.
// Past evaluatorQueue events held, q is not read until a place is let go.
func (d *daemon) evaluator(q <-chan bot.Event) {
	held := map[string][]bot.Event{} // by place; the first is being asked about
	resolved := make(chan bot.Event)
	holding := 0
	// next judges ev, or holds it behind its place's events held already,
	// or starts asking about its author and holds it.
	next := func(ev bot.Event) {
		key := staffMissKey(ev.Platform, ev.Space)
		if h, ok := held[key]; ok {
			held[key] = append(h, ev)
			holding++
			return
		}
		if !d.rolesFirst(&ev) {
			d.process(ev)
			return
		}
		held[key] = []bot.Event{ev}
		holding++
		go func() {
			d.resolveFirst(&ev)
			resolved <- ev
		}()
	}
	in := q
	for in != nil || len(held) > 0 {
		var from <-chan bot.Event
		if holding < evaluatorQueue {
			from = in
		}
		select {
		case ev, ok := <-from:
			if !ok {
				in = nil
				continue
			}
			next(ev)
		case ev := <-resolved:
			key := staffMissKey(ev.Platform, ev.Space)
			rest := held[key][1:]
			delete(held, key)
			holding -= 1 + len(rest)
			d.process(ev)
			for _, ev := range rest {
				next(ev)
			}
		}
	}
}

// rolesFirst reports whether ev's author must be asked about before ev is
// judged: their roles are unknown, and the platform tells them for a whole
// place at once (bot.RolesFirst).
func (d *daemon) rolesFirst(ev *bot.Event) bool {
	if !ev.Author.RolesUnknown {
		return false
	}
	r, ok := d.resolvers[ev.Platform].(bot.RolesFirst)
	return ok && r != nil
}

// resolveFirst asks the platform about ev's author: a Telegram group's list
// of administrators, so that an admin's message is judged as theirs. It waits
// at most staffLookupWait, and not again for a while once the platform did
// not answer. A panic there leaves the roles unknown.
func (d *daemon) resolveFirst(ev *bot.Event) {
	asked := *ev
	if d.guard.Do("evaluator", func() { d.resolveStaff(d.workCtx, &asked, "messages whose author's roles are not known yet") }) {
		*ev = asked
	}
}

// process judges one event from a source; a panic there is recovered and
// counted. Its source is told once it is judged: its verdict journaled, or
// with nothing to journal (a panic would come again).
func (d *daemon) process(ev bot.Event) {
	if !d.guard.Do("evaluator", func() { d.judge(ev) }) {
		d.log.Error("event not fully handled after a panic", "event", ev.Key())
	}
	if jt := d.judged[ev.Platform]; jt != nil {
		jt.Judged(&ev)
	}
}

// placeName is how the platform names a place for the desk; "" when it
// cannot.
func (d *daemon) placeName(platform, space string) string {
	if n := d.placeNamers[platform]; n != nil {
		return n.PlaceName(bot.Event{Platform: platform, Space: space})
	}
	return ""
}

// spaceName is how the platform names ev's place, for {{space}}; "" when
// it cannot.
func (d *daemon) spaceName(ev *bot.Event) string { return d.placeName(ev.Platform, ev.Space) }

// judgedTeller is a platform whose source keeps what it received until it
// is told that the events are judged (the Telegram poller's inbox, a
// Discord shard's memory of the channels).
type judgedTeller interface {
	Judged(ev *bot.Event)
}

// judge evaluates one event from a source and hands its verdict to its lane.
func (d *daemon) judge(ev bot.Event) {
	if err := ev.Validate(); err != nil {
		d.log.Warn("event dropped", "event", ev.Key(), "err", err)
		return
	}
	var seen store.SeenMark
	v, l, _, err := d.evaluate(d.workCtx, ev, false, &seen)
	if err != nil {
		d.log.Error("event not evaluated", "event", ev.Key(), "err", err)
		return
	}
	j := job{ev: ev, v: v, faqOf: l.faq, faqKept: true, rules: l.engine.Ruleset(), seen: seen}
	if seen.ID != "" && needsJournal(&j.ev, &j.v) {
		// renewed while judged (a retry of the others judged again has
		// nothing to carry out either)
		defer d.judging.remove(d.judging.add(seen, seen.At))
	}
	if h := d.cfg.afterJudging; h != nil {
		h(&j.ev)
	}
	if !d.inline {
		d.begin(&j) // otherwise carryOut journals it, if need be
	}
	d.carryOut(&j)
}

// carryOut hands a verdict to the lane of its place; once the lanes are closed
// (a shutdown), it is carried out here. A verdict with nothing to carry out
// is done here at once: waking its lane's goroutine cost more than the
// little there is to do (the FAQ's silence counted).
func (d *daemon) carryOut(j *job) {
	if j.v.Duplicate {
		return
	}
	if nothingToCarry(j, d.now()) {
		d.act(j)
		return
	}
	if d.inline {
		// Carried out here, at once, a verdict needs no journal entry
		// unless it is cut short (finish journals it then): written and
		// removed around it, the memory store's entry and this process's
		// copy of it cost about 2% of an event's instructions.
		j.unjournaled = !j.journaled && needsJournal(&j.ev, &j.v)
		if j.unjournaled && j.seen.ID != "" {
			// its judging ends: a retry is a duplicate from now on
			_ = d.store.Settle(d.workCtx, j.seen)
		}
		if d.lanes.runInline(j) {
			return
		}
		if j.unjournaled {
			j.unjournaled = false
			d.begin(j)
		}
	}
	if !d.lanes.submit(j) {
		d.act(j)
	}
}

// nothingToCarry reports whether act would neither write to the store nor
// call out for j: it matched no rule, and the FAQ was not asked about it or
// decided, before the answer, to stay silent. Most of a community's messages
// are such.
func nothingToCarry(j *job, now time.Time) bool {
	if j.journaled || j.v.Flagged() {
		return false
	}
	if j.faqDecided {
		return j.faq.decision.Kind == faq.Silent
	}
	return !faqAsked(j.ev, j.v, now)
}

// evaluate runs the current rules on ev and counts what happened. It returns
// the rules and FAQ it ran (loaded once): what else is decided about ev is
// decided by the same file, whatever reload comes meanwhile. overHTTP says
// ev was posted to /v1/events: about a platform whose connector is on, and
// that the rule file does not let such events act on (http_events.act_on),
// it may be forged in a member's name, and what it counts is kept apart
// from the members' (rules.Engine.AssessApart); unverified says so.
//
// seen gets the mark the store keeps of the event's id (pending until its
// verdict is journaled); zero for a duplicate. An event whose first judging
// stopped before its verdict was journaled, judged again now
// (bot.Verdict.Again), is answered as a duplicate when it has nothing to
// journal: its first judging may have ended well, with nothing to journal
// either.
func (d *daemon) evaluate(ctx context.Context, ev bot.Event, overHTTP bool, seen *store.SeenMark) (v bot.Verdict, l *loaded, unverified bool, err error) {
	// the evaluation's duration is measured on the wall clock
	start := time.Now()
	d.lastHour.add(d.now())
	d.metrics.eventsBy.With([2]string{d.mod.Label(ev.Platform), kindLabel(ev.Kind)}).Inc()
	l = d.current.Load()
	unverified = overHTTP && d.connected[ev.Platform] && !slices.Contains(l.engine.Ruleset().HTTPActOn, ev.Platform)
	var as rules.Assessment
	if unverified {
		as, err = l.engine.AssessApart(ctx, ev, unverifiedPrefix+ev.Platform)
	} else {
		as, err = l.engine.Assess(ctx, ev)
	}
	v = as.Verdict
	d.metrics.evaluation.Observe(time.Since(start).Seconds())
	if err != nil {
		return v, l, unverified, fmt.Errorf("evaluate %s: %w", ev.Key(), err)
	}
	if v.Again {
		// As it is carried out: an event that may be forged does not act
		// on its platform, and with nothing else to journal its first
		// judging ended with nothing to journal either.
		if needsJournal(&ev, &v) && (!unverified || withheldNeedsJournal(&ev, &v)) {
			d.metrics.recovered.WithLabelValues("judged_again").Inc()
			d.log.Warn("event judged again: whoever judged it first stopped before its verdict was journaled", "event", ev.Key())
		} else {
			v = bot.Verdict{EventID: v.EventID, Platform: v.Platform, At: v.At, Duplicate: true, Matches: []bot.Match{}}
			as = rules.Assessment{Verdict: v}
		}
	}
	if !v.Duplicate {
		*seen = as.Seen
	}
	d.observeAssessment(ctx, ev, as)
	if v.Duplicate {
		d.metrics.duplicates.Inc()
	} else if !v.Again {
		d.history.add(&ev)
	}
	if !v.Flagged() {
		return v, l, unverified, nil
	}
	// The log line's two lists are written in one buffer, at a fraction of
	// the cost of a string per rule and per action joined after: most events
	// of a raid night match, and this line is on every request's path.
	var line [256]byte
	buf := line[:0]
	for i, m := range v.Matches {
		mode := string(rules.ModeEnforce)
		if m.Shadow {
			mode = string(rules.ModeShadow)
		}
		d.metrics.ruleHitsBy.With([3]string{m.Rule, m.Category, mode}).Inc()
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, m.Rule...)
	}
	names := len(buf)
	// The actions merged in room on the stack: Actions makes a list. They
	// are said as the platform gets them, as the audit entry, the mod-log
	// line and the case record them (handlers.givenVerdict): a timeout
	// longer than the platform's longest (Discord's 28 days) is that
	// longest, known from the platform alone before it acts. What the
	// rules asked is then said apart (asked), on that rare line only.
	var room [8]bot.Action
	acts := v.AppendActions(room[:0])
	shortened := false
	for i, a := range acts {
		if i > 0 {
			buf = append(buf, ' ')
		}
		if a.Kind == bot.ActTimeout {
			var cut bool
			if a.Duration, cut = d.mod.GivenTimeout(ev.Platform, a.Duration); cut {
				shortened = true
			}
		}
		buf = appendAction(buf, a)
	}
	// The event's key after them (ev.Key()), so that the line's three
	// values are one string made, not three.
	key := len(buf)
	buf = append(append(append(buf, ev.Platform...), ':'), ev.ID...)
	vals := string(buf)
	if shortened {
		var asked []byte
		for i, a := range acts {
			if i > 0 {
				asked = append(asked, ' ')
			}
			asked = appendAction(asked, a)
		}
		logAttrs(ctx, d.log, slog.LevelInfo, "verdict", slog.String("event", vals[key:]),
			slog.String("rules", vals[:names]), slog.String("actions", vals[names:key]), slog.String("asked", string(asked)))
		return v, l, unverified, nil
	}
	logAttrs(ctx, d.log, slog.LevelInfo, "verdict", slog.String("event", vals[key:]),
		slog.String("rules", vals[:names]), slog.String("actions", vals[names:key]))
	return v, l, unverified, nil
}

// appendAction appends a.String() to buf without fmt: kind, kind("text")
// or kind(duration).
func appendAction(buf []byte, a bot.Action) []byte {
	buf = append(buf, a.Kind...)
	switch {
	case a.Text != "":
		buf = append(buf, '(')
		buf = appendQuote(buf, a.Text)
		buf = append(buf, ')')
	case a.Duration > 0:
		buf = append(buf, '(')
		buf = bot.AppendDuration(buf, a.Duration)
		buf = append(buf, ')')
	}
	return buf
}

// appendQuote is strconv.AppendQuote, which goes rune by rune, with a
// quicker way for the usual warning: printable ASCII that needs no escape.
func appendQuote(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f || b == '"' || b == '\\' {
			return strconv.AppendQuote(buf, s)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// act carries out a verdict, in its place's lane. Its context is the daemon's
// work context, not the request's: a client hanging up must not stop a ban
// half-way.
func (d *daemon) act(j *job) {
	held, release, apart := d.members.take(j, handlers.LocksMember(j.v))
	if apart {
		return // carried out in the member's own lane, which finishes it
	}
	if held == nil {
		d.actNow(j)
		return
	}
	defer release()
	d.actIn(held, j)
}

// memberLaneFull makes a case of a verdict whose member's lane is full.
func (d *daemon) memberLaneFull(j *job) {
	d.overflow(j, "not carried out: too many actions waiting for busy members")
}

// unfolded makes a case of the ban, kick or timeout of a verdict folded
// into cover's ban, which was not carried out: the member would stay, and
// only cover's case would say so.
func (d *daemon) unfolded(j, cover *job) {
	d.overflow(j, "not carried out: folded into the ban of "+cover.ev.Key()+" (an earlier verdict of the member), which was not carried out")
}

// actNow is act, in the caller's lane.
func (d *daemon) actNow(j *job) { d.actIn(d.workCtx, j) }

// actApart is actNow for a verdict carried out in its member's own lane,
// whose ban or timeout waits there for the member's lock: the actions done
// before it (the message's delete) are written to its journal entry as
// they are done (carried), so that a process killed in the wait does not
// leave the next one to ask them of the platform again.
func (d *daemon) actApart(j *job) {
	if j.journaled {
		d.held.setApart(j.key)
	}
	d.actNow(j)
}

// actIn is actNow in ctx, the work context or one holding the member's lock
// for the verdict's first action that asks for it.
func (d *daemon) actIn(ctx context.Context, j *job) {
	// j is the lane's own (or carryOut's): its event is handed on by pointer.
	ev := &j.ev
	completed := false
	defer func() { d.finish(j, completed) }()
	if j.takenAgain {
		ctx = handlers.WithTakenAgain(ctx)
	}
	if err := d.mod.HandleAgain(ctx, j.rules, *ev, j.v, j.earlyCase); err != nil {
		d.log.Error("verdict not fully recorded", "event", ev.Key(), "err", err)
	}
	completed = true
	if j.faqDecided {
		if err := d.faq.Carry(d.workCtx, j.faq.matcher, ev, j.faq.decision); err != nil {
			d.log.Error("faq decision not fully carried out", "event", ev.Key(), "err", err)
		}
		return
	}
	if !faqAsked(*ev, j.v, d.now()) {
		return
	}
	m := j.faqOf
	if !j.faqKept {
		m = d.current.Load().faq // taken from the journal
	}
	if _, err := d.faq.Handle(d.workCtx, m, ev, j.v); err != nil {
		d.log.Error("faq decision not fully carried out", "event", ev.Key(), "err", err)
	}
}

// faqAsked reports whether the FAQ is asked about ev at all. It comes after
// the verdict: it never answers a message a rule acted on (the matcher sees
// to that), one whose platform actions were withheld, a duplicate, nor last
// night's questions handed over as a backlog.
func faqAsked(ev bot.Event, v bot.Verdict, now time.Time) bool {
	return !v.Duplicate && v.Withheld == "" && (ev.At.IsZero() || now.Sub(ev.At) <= handlers.DefaultStale)
}

func kindLabel(k bot.Kind) string {
	switch k {
	case bot.KindMessage, bot.KindEdit, bot.KindComment, bot.KindJoin, bot.KindDM, bot.KindProfile:
		return string(k)
	}
	return "other"
}

// wait waits for wg until ctx ends, and reports whether wg finished. The goroutine
// it starts ends with wg.
func wait(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// tracker counts requests in flight and refuses new ones once closed, so that a
// shutdown can wait for all of them.
type tracker struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func (t *tracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	return true
}

func (t *tracker) done() { t.wg.Done() }

func (t *tracker) closeAndWait(ctx context.Context) bool {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	return wait(ctx, &t.wg)
}

// hourly counts events per minute over the last hour.
type hourly struct {
	mu      sync.Mutex
	minutes [60]struct{ minute, n int64 }
}

func (h *hourly) add(now time.Time) {
	m := now.Unix() / 60
	h.mu.Lock()
	defer h.mu.Unlock()
	b := &h.minutes[m%60]
	if b.minute != m {
		b.minute, b.n = m, 0
	}
	b.n++
}

func (h *hourly) sum(now time.Time) int64 {
	m := now.Unix() / 60
	h.mu.Lock()
	defer h.mu.Unlock()
	var n int64
	for _, b := range h.minutes {
		if b.minute > m-60 {
			n += b.n
		}
	}
	return n
}

// deskFanout shows cases and alerts on every desk that is on, and logs and
// counts each desk's failures by the desk's name, also when another desk took
// what it failed to show.
type deskFanout struct {
	desks    []namedDesk
	log      *slog.Logger
	failures *prometheus.CounterVec
	missed   *prometheus.GaugeVec // how many cases each desk has missed (namedDesk.missed)
	guard    *guard.Guard         // reports the panic of a desk's call left behind
	// after times deskLate: the daemon's clock (Config.AfterFunc).
	after func(time.Duration, func()) func() bool
	// cases reads which of the cases a desk missed are still open, now
	// says how old the oldest is: the daemon's store and clock.
	cases interface {
		Cases(ctx context.Context, status store.CaseStatus) ([]store.Case, error)
	}
	now func() time.Time
	// keep keeps the cases each desk missed: the store, or this process's
	// memory for a store that does not keep them.
	keep store.DeskMissedKeeper
	// The catch-ups (catchUp) under way, which the stop cancels and waits
	// for (stopCatchUps): catchIdle is closed when the last ends.
	catchMu      sync.Mutex
	catchCtx     context.Context
	catchCancel  context.CancelFunc
	catchStopped bool
	catchRunning int
	catchIdle    chan struct{}
}

type namedDesk struct {
	name string // the connector's: telegram, discord
	handlers.Desk
	// behind is set while a call left behind (deskLate) has not answered.
	behind *atomic.Bool
	// missed are the cases passed over on the desk while it was behind,
	// that another desk showed: shown there once it answers (catchUp).
	missed *missedCases
}

// Kinds of desk failure, as vigie_desk_failures_total counts them.
const (
	deskRefused     = "refused"     // for good: it will not take it as it is
	deskUnreachable = "unreachable" // for now: down, rate limited, timed out
)

func (ds *deskFanout) add(name string, d handlers.Desk) {
	ds.desks = append(ds.desks, namedDesk{name: name, Desk: d, behind: &atomic.Bool{},
		missed: newMissedCases(name, ds.keep, ds.log, ds.missed.WithLabelValues(name))})
	for _, kind := range []string{deskRefused, deskUnreachable} {
		ds.failures.WithLabelValues(name, kind)
	}
}

// desk is nil without desks, so that cases simply stay in the store.
func (ds *deskFanout) desk() handlers.Desk {
	if len(ds.desks) == 0 {
		return nil
	}
	return ds
}

// deskFailure is one desk's failure to show something.
type deskFailure struct {
	desk string
	kind string
	err  error
}

// fanned is what became of one card or message sent to every desk.
type fanned struct {
	took     int
	failures []deskFailure
	off      error // the first answer of a desk that is off (handlers.ErrNoDesk)
}

// deskLate is how long, once a desk took a card or a message, the others
// still have to answer before they are left behind.
const deskLate = 5 * time.Second

// errLeftBehind is the failure of a desk passed over while a call left
// behind has not answered.
var errLeftBehind = errors.New("passed over: a call to this desk left behind has not answered yet")

// send runs show on every desk at once and counts each desk's failure. A desk
// that hangs (a platform that takes the connection and never answers, until
// the call's own timeout) holds up the others deskLate at most once one of
// them took it: its call is left behind, answered in the background (logged
// there when it fails), and the desk is passed over, as unreachable, until it
// answers. Before, the desks were tried in turn, and every card and alert
// waited for the hung one's timeout before the next desk showed it.
func (ds *deskFanout) send(ctx context.Context, show func(context.Context, handlers.Desk) error) fanned {
	if len(ds.desks) == 1 {
		// One desk holds up no other: called as it is.
		return ds.sendOne(ctx, ds.desks[0], show)
	}
	answers := make(chan deskAnswer, len(ds.desks))
	detach := map[string]func() bool{}
	var f fanned
	asked := 0
	for _, d := range ds.desks {
		if d.behind.Load() {
			f.failures = append(f.failures, ds.failed(ctx, d.name,
				&bot.ActionError{Op: bot.ActionKind("desk " + d.name), Retryable: true, Err: errLeftBehind}))
			continue
		}
		asked++
		// The call ends with the caller's ctx while it waits; left
		// behind, it goes on to its own timeout or the caller's
		// deadline, for the desk to show it late rather than never.
		base, endBase := context.WithoutCancel(ctx), context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			base, endBase = context.WithDeadline(base, dl)
		}
		dctx, cancel := context.WithCancelCause(base)
		stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
		detach[d.name] = stop
		go func() {
			a := deskAnswer{d: d}
			defer func() {
				if v := recover(); v != nil {
					a.panic = &deskPanic{v: v, stack: debug.Stack()}
				}
				stop()
				cancel(nil)
				endBase()
				answers <- a
			}()
			a.err = show(dctx, d.Desk)
		}()
	}
	var late <-chan struct{}
	for answered := map[string]bool{}; asked > 0; asked-- {
		var a deskAnswer
		select {
		case a = <-answers:
		case <-late:
			for _, d := range ds.desks {
				if stop := detach[d.name]; stop != nil && !answered[d.name] {
					stop()
					d.behind.Store(true)
					ds.log.Warn("a desk has not answered; it is passed over until it does, the other desks showed it", "desk", d.name, "waited", deskLate)
				}
			}
			go ds.behind(ctx, answers, asked)
			return f
		}
		answered[a.d.name] = true
		if a.panic != nil {
			// Where the desk was called from, as when the desks were called
			// in turn: its guard recovers it.
			panic(a.panic)
		}
		switch {
		case a.err == nil:
			f.took++
			if a.d.missed.pending() {
				// Left behind, it answered with an error, and answers now:
				// what it missed meanwhile is shown, without holding up
				// this card.
				ds.goCatchUp(a.d)
			}
			if late == nil && asked > 1 {
				fired := make(chan struct{})
				defer ds.after(deskLate, func() { close(fired) })()
				late = fired
			}
		case errors.Is(a.err, handlers.ErrNoDesk):
			// No desk chat in the rule file: not a failure, the desk is off.
			if f.off == nil {
				f.off = a.err
			}
		default:
			f.failures = append(f.failures, ds.failed(ctx, a.d.name, a.err))
		}
	}
	return f
}

// sendOne is send to the one desk d.
func (ds *deskFanout) sendOne(ctx context.Context, d namedDesk, show func(context.Context, handlers.Desk) error) fanned {
	var f fanned
	switch err := show(ctx, d.Desk); {
	case err == nil:
		f.took++
	case errors.Is(err, handlers.ErrNoDesk):
		f.off = err
	default:
		f.failures = append(f.failures, ds.failed(ctx, d.name, err))
	}
	return f
}

// deskAnswer is what one desk answered to send.
type deskAnswer struct {
	d     namedDesk
	err   error
	panic *deskPanic
}

// deskPanic is a panic in a desk's call, with the stack where it happened.
type deskPanic struct {
	v     any
	stack []byte
}

func (p *deskPanic) String() string {
	return fmt.Sprintf("%v (in a desk's call, whose stack was:\n%s)", p.v, p.stack)
}

// behind waits for the n answers of the desks left behind, and asks each
// again once it answered.
func (ds *deskFanout) behind(ctx context.Context, answers <-chan deskAnswer, n int) {
	for range n {
		a := <-answers
		a.d.behind.Store(false)
		if a.panic != nil {
			ds.guard.Report("desk left behind", a.panic.v, a.panic.stack)
			continue
		}
		if a.err == nil || errors.Is(a.err, handlers.ErrNoDesk) {
			ds.log.Info("a desk left behind answered: it showed it late, and is asked again", "desk", a.d.name)
			if a.err == nil {
				ds.goCatchUp(a.d)
			}
			continue
		}
		x := ds.failed(ctx, a.d.name, a.err)
		ds.log.Warn("a desk left behind did not show it, the other desks did; it is asked again", "desk", x.desk, "kind", x.kind, "err", x.err)
	}
}

// failed counts a desk's failure.
func (ds *deskFanout) failed(ctx context.Context, desk string, err error) deskFailure {
	kind := deskRefused
	if bot.Retryable(err) || ctx.Err() != nil || errors.Is(err, handlers.ErrDeskTokenRefused) ||
		errors.Is(err, handlers.ErrDeskChatRefused) {
		kind = deskUnreachable
	}
	ds.failures.WithLabelValues(desk, kind).Inc()
	return deskFailure{desk: desk, kind: kind, err: err}
}

// err is the error of a send that no desk took: retryable when a desk may take
// it later, one that wraps handlers.ErrDeskTokenRefused or
// handlers.ErrDeskChatRefused (not retryable now) when a desk will take it
// once its token is renewed or vigie let back in its chat, refused when every desk
// that is on refused it, handlers.ErrNoDesk when every desk is off. nil when a
// desk took it.
func (f fanned) err(op bot.ActionKind) error {
	if f.took > 0 {
		return nil
	}
	if len(f.failures) == 0 {
		return f.off
	}
	errs := make([]error, len(f.failures))
	retry := false
	for i, x := range f.failures {
		errs[i] = fmt.Errorf("%s desk: %w", x.desk, x.err)
		retry = retry || x.kind == deskUnreachable && !errors.Is(x.err, handlers.ErrDeskTokenRefused) &&
			!errors.Is(x.err, handlers.ErrDeskChatRefused)
	}
	// Said here: errors.As on the joined errors would only read the first.
	return &bot.ActionError{Op: op, Retryable: retry, Err: errors.Join(errs...)}
}

// logShown logs the failures of a send that another desk took: nobody else
// hears of them, since no error is returned.
func (ds *deskFanout) logShown(f fanned, what string, attrs ...any) {
	if f.took == 0 {
		return
	}
	for _, x := range f.failures {
		if errors.Is(x.err, errLeftBehind) {
			continue // said once, as it was left behind, and counted
		}
		ds.log.Warn("a desk did not show "+what+"; the other desks did", append(attrs, "desk", x.desk, "kind", x.kind, "err", x.err)...)
	}
}

// PostCase fails only when no desk took the case: a retry would post it twice on
// the desks that did. A desk that refused the card for good is reported on the
// others, once the case is settled (no desk left to try again).
func (ds *deskFanout) PostCase(ctx context.Context, c store.Case) error {
	f := ds.send(ctx, func(ctx context.Context, d handlers.Desk) error { return d.PostCase(ctx, c) })
	ds.logShown(f, "a case", "case", c.ID)
	if f.took > 0 {
		// Acknowledged: the case does not come back to the desks passed
		// over, which get it once they answer.
		for _, x := range f.failures {
			if errors.Is(x.err, errLeftBehind) {
				ds.named(x.desk).missed.add(ctx, c.ID)
			}
		}
	}
	err := f.err(bot.ActForward)
	if err != nil && bot.Retryable(err) {
		return err // tried again: the refusals are reported when it is settled
	}
	for _, x := range f.failures {
		if x.kind != deskRefused {
			continue
		}
		text := fmt.Sprintf("case %s (rule %s) could not be shown on %s: %s. /queue lists it.",
			c.ID, cmp.Or(c.Rule, "none"), displayName(x.desk), truncate(x.err.Error(), 300))
		for _, d := range ds.desks {
			if d.name == x.desk {
				continue
			}
			if err := d.Alert(ctx, text); err != nil && !errors.Is(err, handlers.ErrNoDesk) {
				y := ds.failed(ctx, d.name, err)
				ds.log.Warn("a desk could not be told of a case another desk refused", "case", c.ID, "desk", y.desk, "kind", y.kind, "err", y.err)
			}
		}
	}
	return err
}

func (ds *deskFanout) Alert(ctx context.Context, text string) error {
	f := ds.send(ctx, func(ctx context.Context, d handlers.Desk) error { return d.Alert(ctx, text) })
	ds.logShown(f, "an alert")
	return f.err(bot.ActAlert)
}

// AlertCommunity alerts on each desk, on the community's chat or channel
// where it has one there.
func (ds *deskFanout) AlertCommunity(ctx context.Context, community, text string) error {
	f := ds.send(ctx, func(ctx context.Context, d handlers.Desk) error {
		if cd, ok := d.(handlers.CommunityDesk); ok {
			return cd.AlertCommunity(ctx, community, text)
		}
		return d.Alert(ctx, text)
	})
	ds.logShown(f, "an alert")
	return f.err(bot.ActAlert)
}

// displayName is a desk's name for the CMs: Telegram, Discord.
func displayName(desk string) string {
	if desk == "" {
		return desk
	}
	return strings.ToUpper(desk[:1]) + desk[1:]
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// health collects what is degraded, by what: "reload", a source's name.
type health struct {
	mu       sync.Mutex
	degraded map[string]string
}

func (h *health) set(what, problem string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if problem == "" {
		delete(h.degraded, what)
		return
	}
	if h.degraded == nil {
		h.degraded = map[string]string{}
	}
	h.degraded[what] = problem
}

// get returns what is wrong with what, if anything.
func (h *health) get(what string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.degraded[what]
	return p, ok
}

func (h *health) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.degraded))
	for what, p := range h.degraded {
		out = append(out, what+": "+p)
	}
	return out
}
