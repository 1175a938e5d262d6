// Package meta connects vigie to a Facebook Page and its Instagram professional
// account: Meta's webhooks come in as events, moderation goes out through the Graph API.
package meta

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/drain"
	"github.com/vigie-bot/vigie/bot/internal/told"
	"github.com/vigie-bot/vigie/store"
)

// Platform names, as they appear in Event.Platform and in the rule file.
const (
	Facebook  = "facebook"
	Instagram = "instagram"
)

// DefaultGraphURL is the Graph API base URL, version included.
const DefaultGraphURL = "https://graph.facebook.com/v25.0"

// Config holds what the connector needs; only AppSecret and PageToken are required
// for real use. Nothing here is contacted before the first action.
type Config struct {
	// AppSecret signs Meta's deliveries (X-Hub-Signature-256) and our appsecret_proof.
	AppSecret string
	// VerifyToken is the string typed in the App Dashboard for the subscription handshake.
	VerifyToken string
	// PageToken is a Page access token; it also serves the linked Instagram account.
	PageToken string
	// PageID is the Page's id. Optional: events carry it, and messages go to
	// /me; without it, the Page the token is (GET /me, the token's check) is
	// taken as vigie's own once Graph said it, and deliveries about another
	// Page are refused from then on.
	PageID string
	// InstagramID is the Instagram professional account's id (META_INSTAGRAM_ID).
	// Optional: when set, deliveries about another account are refused, as
	// PageID does for Pages; without it, the account linked to the Page
	// (instagram_business_account, read with the token's check) is taken
	// as vigie's own once Graph said it.
	InstagramID string
	// GraphURL is the Graph API base, version included (META_GRAPH_URL).
	GraphURL string
	// HTTPClient makes the Graph calls; http.DefaultClient-like with a 30 s timeout when nil.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// MaxBody caps a delivery's size in bytes (default 4 MiB); larger is refused with 413.
	MaxBody int64
	// QueueSize is how many events wait between the webhook and Run (default 4096).
	// When full, deliveries are answered 503 and Meta sends them again later.
	QueueSize int
	// DrainTimeout bounds how long Run, once its context is cancelled, keeps
	// handing over the events already acknowledged to Meta (default 10s). Meta
	// does not send them again: what is left after it is logged, by id.
	DrainTimeout time.Duration
	// DedupeSize is how many recent event ids are remembered to drop Meta's retries
	// (default 20000). The store dedupes too; this keeps retries off the queue.
	DedupeSize int
	// Registerer receives the connector's metrics (requests by result, queue
	// length); nil registers nothing.
	Registerer prometheus.Registerer
	// Now is the clock, for tests; time.Now when nil.
	Now func() time.Time
	// Refusals counts and logs the webhook requests refused (a wrong or
	// missing signature or verify token, a body too large), a line a minute
	// at most for each reason. Default: its own, on Now, registered with
	// Registerer.
	Refusals *bot.Refusals
	// MentionRetries is how many more times the text of an Instagram @mention
	// is asked when the Graph API does not give it (default 3), the first
	// after MentionRetryWait (default 5s), each next wait twice the last. They
	// run beside the other events, not in their way. A mention still unread
	// is a case for the desk (see OpenCasesWith).
	MentionRetries   int
	MentionRetryWait time.Duration
	// TokenCheckEvery is how often Run asks Graph whether it takes the page
	// token (GET /me), the first time as it starts, so that a token that
	// expired or was revoked is said before a comment needs an action.
	// Zero: never; the actions then find it out.
	TokenCheckEvery time.Duration
	// Answers, when set, keeps the answers vigie gave (and those whose
	// call went unanswered) for 7 days, so that another instance on the
	// store, or this one after a restart, does not give them again: the
	// daemon's store. Nil: this process's memory only.
	Answers store.CallKeeper
}

// queued is one unit of work between the webhook handler and Run.
type queued struct {
	ev bot.Event
	// mention is set for an Instagram @mention, whose text must be asked from
	// the Graph API before it becomes an event.
	mention bool
	// removed is set for a comment or a post removed (by its author, or in
	// Meta's tools): not an event to judge, but news for the desk, whose
	// card of it says it is gone (TellDeletesTo). ev names it, its id
	// ending in removedSuffix.
	removed bool
	// hiding is set for a comment or a post hidden, or shown again (by
	// vigie, by a CM in Meta's tools, or by Meta): news for the desk too
	// (bot.HideWatcher). ev names it, its id ending in hiddenSuffix or
	// unhiddenSuffix and the change's time.
	hiding bool
}

// Connector receives Meta's webhooks and carries out actions on the Page and the
// Instagram account. It is a bot.Source; its platforms are in Platforms.
type Connector struct {
	cfg   Config
	log   *slog.Logger
	graph *graph
	// told decides which changes of Meta's troubles this instance tells the
	// desk, of those on the store (Config.Answers).
	told  told.Desk
	queue chan queued
	// seenMu guards seen and closed, and makes check-then-queue one step, across
	// handlers.
	seenMu sync.Mutex
	seen   *seenSet
	// closed is set when Run stops: deliveries are then refused (503), so that
	// Meta sends them again to an instance that is running.
	closed bool
	met    *metrics
	fb     *FacebookPage
	ig     *InstagramAccount
	// link is up while Run takes deliveries: Meta calls in, there is no
	// connection of our own to lose.
	link bot.LinkState
	// retries are the mentions being asked again; Run waits for them.
	retries sync.WaitGroup
	// openCase, when set, opens a case for the desk (OpenCasesWith).
	openCase atomic.Pointer[func(context.Context, store.Case) error]
	// deletes, when set, is told of the comments and posts removed, and
	// shown again (TellDeletesTo); removalsTold bounds those being told at
	// once.
	deletes      atomic.Pointer[bot.DeleteWatcher]
	removalsTold chan struct{}
	// alert, when set, tells the desk (AlertWith); alerts waits for Run to
	// send them.
	alert  atomic.Pointer[func(context.Context, string) error]
	alerts chan string
	// watchers are Run's helpers: the desk's alerts, the token's checks.
	watchers sync.WaitGroup
	// checkToken asks the token's watch to check it now (SetPageToken).
	checkToken chan struct{}
	// refusedToken is the last token SetPageToken did not take, Meta
	// refusing it: read again at the next reloads, it is not asked about,
	// nor the desk told, again.
	refusedToken atomic.Pointer[string]
	// foreignToken is the last token SetPageToken did not take, Meta
	// saying it is another Page's: not asked about again either.
	foreignToken atomic.Pointer[string]
	// tokenPage is the id of the Page the page token is, as the token's
	// check (GET /me) last found it; nil until Graph said it. Without
	// PageID, the entries of other Pages are refused against it.
	tokenPage atomic.Pointer[string]
	// igAccount is the id of the Instagram account linked to the Page, as
	// the token's check last read it (the Page's instagram_business_account);
	// nil until Graph said it. Without InstagramID, the entries of other
	// accounts are refused against it.
	igAccount atomic.Pointer[string]
	// igUnread is set while the linked account could not be read, once the
	// log said so.
	igUnread atomic.Bool
	// ownKnown is closed once the token's first check has ended (or at once
	// when there is none): a delivery about a Page or an account that no
	// setting names waits for it (ownWait), so that it is not taken before
	// vigie can tell whether it is its own.
	ownKnown     chan struct{}
	ownKnownOnce sync.Once
	// sub is what the checks found of the Page's webhook subscription
	// (subscription.go).
	sub subscription
	// mentionReads bounds the reads of mentions' texts under way at once;
	// mentionsWaiting bounds the mentions taken from the queue and not yet
	// handed over (or made a case), like the queue (QueueSize), which fills
	// behind them; mentionsOut counts them.
	// reads is the mentions' reads' context (Run).
	reads           context.Context
	mentionReads    chan struct{}
	mentionsWaiting chan struct{}
	mentionsOut     atomic.Int64
}

var _ bot.Linker = (*Connector)(nil)

// Link says whether the connector takes Meta's deliveries, and when it last
// handed one over; it is down while Meta refuses the page token, since no
// comment can then be acted on.
func (c *Connector) Link() bot.Link {
	l := c.link.Link()
	if since, why, refused := c.graph.refused(); refused && l.Up {
		l.Up, l.Since, l.Problem = false, since, why
	}
	return l
}

// New builds a connector from cfg. It makes no network call.
func New(cfg Config) *Connector {
	cfg.GraphURL = strings.TrimRight(cmp.Or(cfg.GraphURL, DefaultGraphURL), "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	// A single-owner job's call (the escalation's) is not sent once its
	// lease may have run out.
	hc := *cfg.HTTPClient
	hc.Transport = bot.LeaseChecked(hc.Transport)
	cfg.HTTPClient = &hc
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.DedupeSize <= 0 {
		cfg.DedupeSize = 20000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MentionRetries <= 0 {
		cfg.MentionRetries = 3
	}
	if cfg.MentionRetryWait <= 0 {
		cfg.MentionRetryWait = 5 * time.Second
	}
	log := cfg.Logger.With("platform", "meta")
	if cfg.Refusals == nil {
		cfg.Refusals = bot.NewRefusals(log, cfg.Registerer, cfg.Now)
	}
	g := &graph{
		base:   cfg.GraphURL,
		secret: cfg.AppSecret,
		hc:     cfg.HTTPClient,
		log:    log,
		now:    cfg.Now,

		answers: cfg.Answers,
		id:      strconv.FormatUint(rand.Uint64(), 36),
	}
	c := &Connector{
		cfg:    cfg,
		log:    log,
		graph:  g,
		queue:  make(chan queued, cfg.QueueSize),
		seen:   newSeenSet(cfg.DedupeSize),
		alerts: make(chan string, 8),
		// a token replaced is checked at once
		checkToken: make(chan struct{}, 1),
		ownKnown:   make(chan struct{}),

		mentionReads:    make(chan struct{}, mentionReadsAtOnce),
		mentionsWaiting: make(chan struct{}, cfg.QueueSize),
		removalsTold:    make(chan struct{}, removalsAtOnce),
	}
	if cfg.TokenCheckEvery <= 0 {
		// No check tells which Page or account the token serves.
		c.ownChecked()
	}
	c.told = told.New(cfg.Answers, g.id, log)
	g.token.Store(&cfg.PageToken)
	g.changed = c.credentialsChanged
	g.posted = c.wrote
	g.permission = c.permissionChanged
	g.limited = c.rateLimited
	c.met = newMetrics(cfg.Registerer, func() float64 { return float64(len(c.queue)) }, c.sub.gauge, log)
	c.fb = &FacebookPage{g: g, pageID: cfg.PageID, now: cfg.Now, sub: &c.sub}
	c.ig = &InstagramAccount{g: g, pageID: cfg.PageID, now: cfg.Now}
	return c
}

// Name names the source for the daemon's logs.
func (c *Connector) Name() string { return "meta" }

// Facebook is the Page's platform: comments and Messenger conversations.
func (c *Connector) Facebook() *FacebookPage { return c.fb }

// Instagram is the Instagram professional account's platform.
func (c *Connector) Instagram() *InstagramAccount { return c.ig }

// Platforms returns the two platforms, named like the events they act on.
func (c *Connector) Platforms() []bot.Platform { return []bot.Platform{c.fb, c.ig} }

// Run sends the queued events on out until ctx is cancelled, then returns nil.
// Instagram @mentions are completed from the Graph API on the way; one that cannot
// be read is asked again beside the other events, and one still unread becomes a
// case for the desk, never dropped. On cancellation the webhook stops
// taking deliveries and what Meta was already told it received is handed over
// first, for up to DrainTimeout: out must still be read meanwhile.
func (c *Connector) Run(ctx context.Context, out chan<- bot.Event) error {
	c.setClosed(false)
	c.link.Up(c.cfg.Now())
	defer func() { c.link.Down(c.cfg.Now(), "stopped") }()
	// The mentions' reads (and an alert being sent) outlive ctx by the
	// drain's time: a mention Meta was told was received, queued or being
	// read as vigie stops, is judged then like the comments, not made a
	// case.
	reads, stopReads := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReads()
	// On the wall clock: a stop's deadline, in real seconds.
	stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(c.cfg.DrainTimeout, stopReads) })
	defer stopAfter()
	c.reads = reads
	defer c.retries.Wait()
	wctx, stopWatchers := context.WithCancel(ctx)
	defer c.watchers.Wait()
	defer stopWatchers()
	c.watchers.Go(func() { c.tellDesk(wctx, reads) })
	if c.cfg.TokenCheckEvery > 0 {
		c.watchers.Go(func() { c.watchToken(wctx) })
	}
	for {
		select {
		case <-ctx.Done():
			c.drain(nil, out)
			return nil
		case q := <-c.queue:
			if !c.hand(ctx, q, out) {
				c.drain(&q, out)
				return nil
			}
		}
	}
}

// wrote marks a comment vigie wrote as seen: its webhook, which comes back
// as any comment's (without from, when Meta leaves it out), is not judged.
// Its author is the Page or the account, which is not judged either; this
// also holds when Meta names the author otherwise.
func (c *Connector) wrote(platform, id string) {
	c.seenMu.Lock()
	c.seen.add(platform + ":" + id)
	c.seenMu.Unlock()
}

func (c *Connector) setClosed(closed bool) {
	c.seenMu.Lock()
	c.closed = closed
	c.seenMu.Unlock()
}

// hand completes q when it needs it and sends it on out. It reports false, with
// q not sent, when ctx ended first.
func (c *Connector) hand(ctx context.Context, q queued, out chan<- bot.Event) bool {
	ev := q.ev
	if q.removed || q.hiding {
		return c.tellCard(ctx, q)
	}
	if q.mention {
		// Its text is read beside the other events: a Graph API slow to
		// give it does not hold up the comments behind it, until as many
		// mentions wait as the queue holds; the queue then fills, and Meta
		// is asked to send again later.
		select {
		case c.mentionsWaiting <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		c.readMention(c.reads, ev, out)
		return true
	}
	ev.Author.ID = orUnnamed(ev.Author.ID, CommentID(ev))
	select {
	case out <- ev:
		c.link.Event(c.cfg.Now())
		return true
	case <-ctx.Done():
		return false
	}
}

// drain closes the webhook to new deliveries, then hands over pending and the
// queue, which nothing can fill any more. Meta got its 200 for all of them and
// will not send them again: what DrainTimeout leaves is lost, and logged by id so
// that a CM can look at it.
func (c *Connector) drain(pending *queued, out chan<- bot.Event) {
	c.setClosed(true)
	n, lost := drain.Queue(c.queue, pending, c.cfg.DrainTimeout, func(ctx context.Context, q queued) bool {
		return c.hand(ctx, q, out)
	})
	switch {
	case len(lost) > 0:
		c.log.Error(fmt.Sprintf("%d Meta events received but not evaluated before shutdown: Meta will not send them again", len(lost)),
			"handed_over", n, "lost", len(lost), "events", drain.Keys(lost, func(q queued) string { return q.ev.Key() }))
	case n > 0:
		c.log.Info("Meta events received before shutdown handed over", "events", n)
	}
}
