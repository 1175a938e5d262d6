// Package telegram connects vigie to Telegram through the Bot API: group messages
// in as bot.Events, moderation actions out, and the CMs' desk (case cards with
// buttons, commands) in a chat of their choice.
package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskwork"
	"github.com/vigie-bot/vigie/bot/internal/guard"
	"github.com/vigie-bot/vigie/store"
)

// Platform is the name of this platform in events, CM ids and the rule file.
const Platform = "telegram"

// DefaultAPIURL is the public Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// Mode says how updates reach vigie.
type Mode string

// The two ways Telegram delivers updates.
const (
	// ModePolling asks Telegram for updates (getUpdates): one process per bot token.
	ModePolling Mode = "polling"
	// ModeWebhook lets Telegram POST updates to /webhooks/telegram: any number of
	// processes behind a load balancer.
	ModeWebhook Mode = "webhook"
)

// Config is what a Client needs; only Token is required.
type Config struct {
	Token string
	// APIURL is the Bot API server, without the /bot<token> part. Default DefaultAPIURL.
	APIURL string
	// DeskChat is the chat where cases and alerts are posted and commands read;
	// 0 turns the desk chat off (CMs can still command vigie in private).
	DeskChat int64
	// CMs are the accounts allowed to press buttons and send commands, written as
	// in the rule file ("telegram:123456789"); other platforms' ids are ignored.
	CMs []string
	// DeskAdmins also lets the administrators of the desk chat command vigie,
	// in the desk chat.
	DeskAdmins bool
	// Chats are the group chats vigie moderates (TELEGRAM_CHATS,
	// desk.telegram_chats); messages from other groups are ignored. Empty:
	// every group vigie is in.
	Chats []int64
	// Mode is polling (the default) or webhook.
	Mode Mode
	// WebhookURL, in webhook mode, is the public address Telegram should call; when
	// set, Run registers it with setWebhook, unless WebhookElsewhere. Empty
	// leaves the webhook as it is.
	WebhookURL string
	// WebhookElsewhere leaves the registration of WebhookURL to
	// RegisterWebhook: with several processes behind a load balancer, every
	// one receives, and one of them registers.
	WebhookElsewhere bool
	// WebhookSecret is the secret_token given to setWebhook; requests without it in
	// X-Telegram-Bot-Api-Secret-Token are refused. Required in webhook mode.
	WebhookSecret string
	// PollTimeout is the long-polling wait of getUpdates. Default 50s.
	PollTimeout time.Duration
	// DrainTimeout bounds how long the poller, once its context is
	// cancelled, still hands over the batch of updates it had committed:
	// Telegram does not send them again. Default 10s.
	DrainTimeout time.Duration
	// ReportsJudged says that whoever reads Run's events calls Judged for
	// each once it is judged (the daemon, once its verdict is journaled):
	// the poller's inbox keeps an update until then, and in webhook mode
	// Telegram is answered 200 only then. Without it an event counts as
	// judged once handed over.
	ReportsJudged bool
	// HTTPClient makes the API calls. Default: a client without timeout (each
	// call gets its own deadline).
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Registerer receives the connector's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Refusals counts and logs the webhook calls refused (a wrong secret
	// token, a body too large), a line a minute at most for each reason.
	// Default: its own, on the wall clock, registered with Registerer.
	Refusals *bot.Refusals
	// Topics, when set, keeps the forum topics' names as they were last
	// renamed, shared by the instances and kept across restarts: Telegram
	// tells a rename once, and shows a topic's first name in its messages.
	Topics store.TopicKeeper
	// Now is the clock of what vigie decides by time on Telegram: the
	// 48-hour window in which a message may be deleted, the end dates of
	// the mutes and bans it sets and reads back, how long a kicked
	// member's mute that could not be set again is kept for the kick tried
	// again, how long an admin list, a linked channel, a chat's title and a
	// migration are trusted, the windows in which a refusal is told once, when an update
	// was taken into the inbox, the link's times (/-/ready's "down since",
	// the last event's), the poller's conflicts with another program on the
	// token (how long they went on, how long none came). The daemon gives
	// its own (bot/daemon's Config.Now). Nil means time.Now. Network
	// deadlines and the pace of sends (Telegram's limits) stay on the wall
	// clock.
	Now func() time.Time
}

// Client is vigie's Telegram bot: a bot.Source, a platform with the Deleter,
// Replier, Warner, Timeouter, Kicker and Banner capabilities, and the desk.
type Client struct {
	cfg  Config
	log  *slog.Logger
	http *http.Client
	base tgbotapi.BotAPI
	desk atomic.Pointer[deskConf]
	// communityDesks are the desk chats of the rule file's communities.
	communityDesks atomic.Pointer[map[int64]bool]
	// deskCommunities are the communities of each of those desk chats.
	deskCommunities atomic.Pointer[map[int64][]string]
	limiter         *limiter

	selfID   atomic.Int64
	selfName atomic.Value // string: the bot's @username, without @

	admins *adminCache
	// linked are the groups' linked channels (linked.go).
	linked *linkedChannels
	// albums are the albums vigie saw, to delete whole (albums.go).
	albums  *albums
	members *memberMemory
	names   *nameMemory
	// dir names groups, topics and people on the desk (names.go).
	dir  *directory
	seen *recentSet
	// judging follows the updates taken until their events are judged
	// (inbox.go).
	judging *judging
	// recent are the group messages vigie saw, for the moderators'
	// commands (modcmds.go).
	recent  *recentMessages
	metrics *metrics

	// adminQueue holds the chats whose admins are to be looked up, for the
	// workers Run starts; adminTimeout bounds each lookup.
	adminQueue   chan int64
	adminTimeout time.Duration
	// memberWait bounds a verification hold's or lift's wait for the
	// member's lock (verify.go's memberWait; shorter in tests).
	memberWait time.Duration

	commands atomic.Pointer[commandsBox]
	// verify is the verification of new members, when on (verify.go).
	verify atomic.Pointer[Verify]
	// foreignSeen are the chats already logged as not moderated.
	foreignSeen *onceSet
	// leftTold are the groups vigie left that the desk was told of: the
	// first few, since a stranger can make groups as fast as they like.
	leftTold *onceSet
	// cmAddedTold are the groups a CM added vigie to, that no CM owns, that
	// the log and the desk were told of.
	cmAddedTold *onceSet
	// refused are the strangers lately told that a command is not theirs.
	refused *refusals
	// moved are the groups that became supergroups (migrate.go).
	moved *migrations
	// kicks are the restrictions of the members kicked that could not be
	// set again once they were out, for the kick tried again (Kick).
	kicks kickRestrictions
	// cmdLine and presses are the lines where the desk's commands and
	// button presses wait for a worker, asks where new members wait to be
	// asked to verify (and their presses wait); notAsked is the wave of
	// members let in unasked during a raid (verify.go). tells answers at once what
	// needs no worker (a stranger's press, "too busy"); busyTold are the
	// senders lately told a command was too many; held counts what each
	// sender has in the lines or under way (takecmd.go).
	cmdLine  *deskwork.Line
	presses  *deskwork.Line
	asks     *deskwork.Line
	notAsked *deskwork.Unasked
	// asking are the members being asked now, for a press that comes
	// before their ask is recorded (verify.go).
	asking   deskwork.Asking
	tells    *deskwork.Pool
	busyTold *refusals
	held     senderHolds

	// running is Run's context while it runs: button presses wait for a
	// desk worker as long as it, not as long as the batch of updates that
	// brought them (takePress).
	running atomic.Pointer[context.Context]
	// sink is where the webhook handler hands over work while Run is running.
	sinkMu sync.RWMutex
	sink   *sink
	// work runs the desk's work, and counts webhook requests under way, so
	// that Run returns after them.
	work *deskwork.Pool
	// guard recovers panics in the desk's work.
	guard *guard.Guard
	// link is whether Telegram answers: getMe, then each long poll.
	link bot.LinkState
	// pause is the poller's wait between two polls (sleep); shortPolled
	// is whether the server was seen answering polls at once.
	pause       func(ctx context.Context, d time.Duration) bool
	shortPolled atomic.Bool
	// inboxNow is the clock of the poller's inbox: when an update was
	// taken, how old one left there is.
	inboxNow func() time.Time
	// handOnWaits, when set, is told that the poller waits for the events
	// of an update handed on to be judged (awaitHandedOn), handOnWait at
	// most.
	handOnWaits func(id int)
	handOnWait  time.Duration
	// troubles are the groups where vigie lacks what its work needs, as
	// Telegram last said (Troubles).
	troubles troubles
	// conflicts are the 409s of another program polling with the token
	// (conflict.go), on Config.Now's clock.
	conflicts pollConflicts
	// hookWatch is what the checks of the webhook found (CheckWebhook).
	hookWatch webhookWatch
	// verifyRefused are the chats whose refusal of a verification step,
	// for a right vigie lacks, the desk was told of (verify.go).
	verifyRefused bot.Turns
}

type sink struct {
	ctx context.Context
	out chan<- bot.Event
}

type commandsBox struct{ c Commands }

// Interface guards: the capabilities the handlers look for.
var (
	_ bot.Source         = (*Client)(nil)
	_ bot.Linker         = (*Client)(nil)
	_ bot.Deleter        = (*Client)(nil)
	_ bot.Replier        = (*Client)(nil)
	_ bot.Warner         = (*Client)(nil)
	_ bot.Timeouter      = (*Client)(nil)
	_ bot.Untimeouter    = (*Client)(nil)
	_ bot.Kicker         = (*Client)(nil)
	_ bot.Banner         = (*Client)(nil)
	_ bot.ExpiringBanner = (*Client)(nil)
	_ bot.RoleResolver   = (*Client)(nil)
)

const (
	callTimeout   = 30 * time.Second
	deskTimeout   = 15 * time.Second
	maxDeskWork   = 8
	defaultPoll   = 50 * time.Second
	maxWebhookLen = 1 << 20
)

// New checks cfg and builds a Client. It makes no network call: Run asks Telegram
// who the bot is.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("telegram: missing token (TELEGRAM_TOKEN)")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if !strings.HasPrefix(cfg.APIURL, "http://") && !strings.HasPrefix(cfg.APIURL, "https://") {
		return nil, fmt.Errorf("telegram: TELEGRAM_API_URL %q: want http:// or https://", cfg.APIURL)
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = ModePolling
	case ModePolling, ModeWebhook:
	default:
		return nil, fmt.Errorf("telegram: TELEGRAM_MODE %q: want polling or webhook", cfg.Mode)
	}
	if cfg.Mode == ModeWebhook {
		if cfg.WebhookSecret == "" {
			return nil, errors.New("telegram: webhook mode needs a webhook secret")
		}
		if !validSecret(cfg.WebhookSecret) {
			return nil, errors.New("telegram: webhook secret: 1 to 256 characters among A-Z, a-z, 0-9, _ and -")
		}
		// Telegram calls HTTPS only and refuses anything else at setWebhook;
		// said at start, not as a failed registration.
		if u, err := url.Parse(cfg.WebhookURL); cfg.WebhookURL != "" && (err != nil || u.Scheme != "https" || u.Host == "") {
			return nil, fmt.Errorf("telegram: TELEGRAM_WEBHOOK_URL %q: want vigie's public https:// address, like https://vigie.example.com/webhooks/telegram", cfg.WebhookURL)
		}
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = defaultPoll
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	// A single-owner job's call (the poller's, the webhook's registration)
	// is not sent once its lease may have run out.
	hc := *cfg.HTTPClient
	hc.Transport = bot.LeaseChecked(hc.Transport)
	cfg.HTTPClient = &hc
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cms, err := parseCMs(cfg.CMs)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("platform", Platform)
	g := guard.New(log, cfg.Registerer)
	if cfg.Refusals == nil {
		cfg.Refusals = bot.NewRefusals(log, cfg.Registerer, cfg.Now)
	}
	c := &Client{
		cfg:   cfg,
		log:   log,
		guard: g,
		http:  cfg.HTTPClient,
		// The limiter waits its bookings out on timers, and Telegram counts
		// its limits in real seconds: it stays on the wall clock.
		limiter: newLimiter(telegramLimits, time.Now),
		admins:  newAdminCache(adminTTL, cfg.Now),
		linked:  newLinkedChannels(cfg.Now),
		albums:  newAlbums(),
		members: newMemberMemory(10000),
		names:   newNameMemory(10000),
		dir:     newDirectory(cfg.Now),
		seen:    newRecentSet(4096),
		judging: newJudging(log),
		recent:  newRecentMessages(10000, bot.MaxPurge),
		work:    deskwork.New(maxDeskWork, deskTimeout, g, "telegram desk"),

		adminQueue:   make(chan int64, adminQueue),
		adminTimeout: adminCallTimeout,
		memberWait:   memberWait,
		foreignSeen:  newOnceSet(1000),
		leftTold:     newOnceSet(20),
		cmAddedTold:  newOnceSet(100),
		refused:      newRefusals(cfg.Now),
		moved:        newMigrations(cfg.Now),
		tells:        deskwork.New(maxTells, tellTimeout, g, "telegram desk"),
		busyTold:     newRefusals(cfg.Now),
		pause:        bot.Sleep,
		inboxNow:     cfg.Now,
		handOnWait:   handOnWait,
		kicks:        kickRestrictions{now: cfg.Now},
	}
	c.cmdLine = c.work.Line(maxCommandsWaiting)
	c.presses = c.work.Line(maxPressesWaiting)
	c.asks = c.work.Line(maxAsksWaiting)
	c.notAsked = deskwork.NewUnasked(c.asks, "chat", "chats", c.log, func(ctx context.Context, text string) {
		ctx, cancel := reportContext(c.runContext(ctx))
		defer cancel()
		c.tellDesk(ctx, text)
	})
	c.metrics = newMetrics(cfg.Registerer, c.log)
	c.admins.forgotten = func(listed bool) {
		if listed {
			c.metrics.adminsForgot.WithLabelValues("listed").Inc()
		} else {
			c.metrics.adminsForgot.WithLabelValues("unlisted").Inc()
		}
	}
	c.selfName.Store("")
	c.desk.Store(&deskConf{chat: cfg.DeskChat, cms: cms, chats: chatSet(cfg.Chats)})
	// The library's endpoint is a format string: a % in the URL must stay literal.
	c.base = tgbotapi.BotAPI{Token: cfg.Token, Client: cfg.HTTPClient, Buffer: 100}
	c.base.SetAPIEndpoint(strings.ReplaceAll(strings.TrimRight(cfg.APIURL, "/"), "%", "%%") + "/bot%s/%s")
	return c, nil
}

// deskConf is where the desk is and who may use it; a reload of the rule file
// can change both.
type deskConf struct {
	chat  int64
	cms   map[int64]bool
	chats map[int64]bool
}

func chatSet(ids []int64) map[int64]bool {
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out
}

func parseCMs(list []string) (map[int64]bool, error) {
	cms := make(map[int64]bool)
	for _, id := range list {
		rest, ok := strings.CutPrefix(strings.TrimSpace(id), Platform+":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("telegram: CM %q: want telegram:<numeric user id>", id)
		}
		cms[n] = true
	}
	return cms, nil
}

// SetDesk changes the desk chat and the CMs, as after a reload of the rule file's
// desk: section. On an error nothing changes. The command menus follow at the next start.
func (c *Client) SetDesk(chat int64, cms []string, chats []int64) error {
	ids, err := parseCMs(cms)
	if err != nil {
		return err
	}
	c.desk.Store(&deskConf{chat: chat, cms: ids, chats: chatSet(chats)})
	return nil
}

// deskChat is the desk chat, where it is now (migrate.go).
func (c *Client) deskChat() int64 { return c.moved.follow(c.desk.Load().chat) }

// SetCommunityDesks names the desk chats of the rule file's communities,
// each with the communities whose desk it is: their cards' buttons and the
// CMs' commands there are the desk's.
func (c *Client) SetCommunityDesks(desks map[int64][]string) {
	set := make(map[int64]bool, len(desks))
	for chat := range desks {
		set[chat] = true
	}
	c.communityDesks.Store(&set)
	c.deskCommunities.Store(&desks)
}

// communitiesOfDesk are the communities whose desk chat is chat, where it
// was first named (migrate.go); none for another chat.
func (c *Client) communitiesOfDesk(chat int64) []string {
	m := c.deskCommunities.Load()
	if m == nil {
		return nil
	}
	if cs, ok := (*m)[chat]; ok {
		return cs
	}
	return (*m)[c.moved.origin(chat)]
}

// inDesk reports whether chat is the desk chat, or a community's.
func (c *Client) inDesk(chat int64) bool {
	if c.communityDesk(chat) || c.communityDesk(c.moved.origin(chat)) {
		return true
	}
	d := c.deskChat()
	return d != 0 && chat == d
}

func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Name is the platform's name, as in Event.Platform.
func (c *Client) Name() string { return Platform }

// Link says whether Telegram answers: up once getMe did, down while long
// polling fails, until it succeeds again.
func (c *Client) Link() bot.Link { return c.link.Link() }

// ctxDoer gives the library's requests a context: its own calls have none, and
// without one a shutdown would wait for a 50-second long poll.
type ctxDoer struct {
	ctx context.Context
	c   *http.Client
}

func (d ctxDoer) Do(r *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(r.WithContext(d.ctx))
	if err != nil {
		return nil, err
	}
	return botAPIShaped(resp), nil
}

// botAPIShaped gives a failure answer that is not the Bot API's JSON (a
// proxy's page for a 502 or a 504, a 429 of its own) the Bot API's shape:
// {"ok":false,"error_code":STATUS,...}, with its Retry-After header as
// parameters.retry_after. The library would report it as a JSON syntax
// error; so it is classified by its status, and the wait it asks for is kept.
func botAPIShaped(resp *http.Response) *http.Response {
	if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
		return resp
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	var answer struct {
		OK *bool `json:"ok"`
	}
	if err == nil && json.Unmarshal(raw, &answer) == nil && answer.OK != nil {
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		return resp
	}
	kind := resp.Header.Get("Content-Type")
	if kind == "" {
		kind = "no content type"
	}
	body := map[string]any{"ok": false, "error_code": resp.StatusCode,
		"description": fmt.Sprintf("HTTP %s from the Bot API server or a proxy before it (%s)", resp.Status, kind)}
	if n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && n > 0 {
		body["parameters"] = map[string]any{"retry_after": n}
	}
	raw, _ = json.Marshal(body)
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	resp.ContentLength = int64(len(raw))
	resp.Header.Set("Content-Type", "application/json")
	resp.Header.Del("Content-Length")
	return resp
}

// api returns a library client whose requests carry ctx.
func (c *Client) api(ctx context.Context) *tgbotapi.BotAPI {
	a := c.base
	a.Client = ctxDoer{ctx: ctx, c: c.http}
	return &a
}

// call makes one raw Bot API call and classifies its failure as a *bot.ActionError.
func (c *Client) call(ctx context.Context, op bot.ActionKind, method string, params tgbotapi.Params) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := c.api(ctx).MakeRequest(method, params)
	if err != nil {
		return nil, c.classify(ctx, op, method, err)
	}
	return resp.Result, nil
}

// request sends one of the library's configs.
func (c *Client) request(ctx context.Context, op bot.ActionKind, method string, cfg tgbotapi.Chattable) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := c.api(ctx).Request(cfg)
	if err != nil {
		return nil, c.classify(ctx, op, method, err)
	}
	return resp.Result, nil
}

// classify turns a library error into a *bot.ActionError that says whether to try
// again. Transport errors name the URL, which holds the token: it is cut out.
func (c *Client) classify(ctx context.Context, op bot.ActionKind, method string, err error) error {
	if op == "" {
		op = bot.ActionKind(method)
	}
	var te *tgbotapi.Error
	if errors.As(err, &te) && te.Code == 0 && te.Message == "" {
		// JSON without ok, error_code or description: some other server
		// answered, a proxy or a wrong path in TELEGRAM_API_URL.
		return &bot.ActionError{Op: op, Retryable: true, Err: fmt.Errorf("telegram %s: %s answered JSON that is not the Bot API's (no \"ok\" nor \"description\"): check TELEGRAM_API_URL", method, c.cfg.APIURL)}
	}
	if _, ok := errors.AsType[*json.SyntaxError](err); ok {
		return &bot.ActionError{Op: op, Retryable: true, Err: fmt.Errorf("telegram %s: %s answered something that is not JSON (%s): check TELEGRAM_API_URL", method, c.cfg.APIURL, strings.ReplaceAll(err.Error(), c.cfg.Token, "<token>"))}
	}
	if errors.As(err, &te) {
		ae := &bot.ActionError{Op: op, Err: &APIError{Method: method, Code: te.Code, Description: te.Message, MigrateTo: te.MigrateToChatID}}
		switch {
		case te.Code == http.StatusTooManyRequests:
			ae.Retryable = true
			ae.RetryAfter = time.Duration(te.RetryAfter) * time.Second
		case te.Code >= 500 || te.Code == 0:
			ae.Retryable = true
		}
		return ae
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		// Our own deadline is worth another try; the caller's cancellation is not.
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return &bot.ActionError{Op: op, Retryable: true, Err: fmt.Errorf("telegram %s: %w", method, ctxErr)}
		}
		return &bot.ActionError{Op: op, Err: fmt.Errorf("telegram %s: %w", method, ctxErr)}
	}
	msg := strings.ReplaceAll(err.Error(), c.cfg.Token, "<token>")
	return &bot.ActionError{Op: op, Retryable: true, Err: fmt.Errorf("telegram %s: %s", method, msg)}
}

// APIError is an answer of the Bot API with "ok": false.
type APIError struct {
	Method      string
	Code        int
	Description string
	// MigrateTo is set when a group became a supergroup with a new id.
	MigrateTo int64
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("telegram %s: %s (%d)", e.Method, e.Description, e.Code)
	if e.MigrateTo != 0 {
		s += fmt.Sprintf(", the group moved to chat %d", e.MigrateTo)
	}
	return s
}

// retryAfter is the wait Telegram asked for in err, if any.
func retryAfter(err error) time.Duration {
	var ae *bot.ActionError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}

func apiCode(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// self returns the bot's user id and username once Run has asked getMe.
func (c *Client) self() (int64, string) {
	return c.selfID.Load(), c.selfName.Load().(string)
}

func jsonParam(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own plain structs go through here.
		panic(fmt.Sprintf("telegram: marshal %T: %v", v, err))
	}
	return string(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
