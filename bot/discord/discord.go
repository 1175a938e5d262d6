// Package discord connects vigie to Discord through the gateway and the REST API
// (discordgo): guild messages, edits, joins and members' names in as bot.Events,
// moderation actions out, and the moderators' desk (case cards with buttons,
// /vigie commands) in a channel.
package discord

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskwork"
	"github.com/vigie-bot/vigie/bot/internal/guard"
	tellonce "github.com/vigie-bot/vigie/bot/internal/told"
	"github.com/vigie-bot/vigie/store"
)

// Platform is the name of this platform in events, CM ids and the rule file.
const Platform = "discord"

// DefaultAPIURL is Discord's REST API; the gateway address is asked from it.
const DefaultAPIURL = "https://discord.com/api/v9"

// Limits Discord puts on moderation.
const (
	// MaxTimeout is the longest member timeout vigie asks for. Discord
	// takes a timeout that ends up to 28 days after its own clock reads
	// when the request arrives, and refuses the whole of one past that
	// (Invalid communication disabled timestamp): from a host whose clock
	// runs a second ahead of Discord's, a timeout of exactly 28 days is
	// refused. vigie stays an hour short.
	MaxTimeout = 28*24*time.Hour - time.Hour
	// MaxBanDeleteWindow is the longest message clean-up window of a ban.
	MaxBanDeleteWindow = 7 * 24 * time.Hour
)

// Intents are the gateway intents vigie asks for. GUILD_MEMBERS and
// MESSAGE_CONTENT are privileged: they must be enabled in the developer portal.
const Intents = discordgo.IntentGuilds | discordgo.IntentGuildMembers |
	discordgo.IntentGuildModeration | discordgo.IntentGuildMessages |
	discordgo.IntentMessageContent

// Config is what a Client needs; only Token is required.
type Config struct {
	// Token is the bot token from the developer portal, without "Bot ".
	Token string
	// APIURL is the REST API base, DefaultAPIURL when empty (DISCORD_API_URL).
	APIURL string
	// ShardID and ShardCount split the guilds between processes; a zero
	// ShardCount is one shard.
	ShardID, ShardCount int
	// StaffRoles are role names or ids whose members are staff: exempt from the
	// rules that test author.staff. Administrators and the owner always are.
	StaffRoles []string
	// WarnByDM sends warnings as a direct message, falling back to a reply when
	// the member does not accept DMs; otherwise a warning is a reply.
	WarnByDM bool
	// BanDeleteWindow is how much of a banned member's recent messages Discord
	// removes with the ban (up to 7 days; 0 keeps them).
	BanDeleteWindow time.Duration
	// DeskChannel is the channel id where cases are posted; empty turns the
	// Discord desk off.
	DeskChannel string
	// CMs may press the desk's buttons and use /vigie, written as in the rule
	// file ("discord:USERID"); other platforms' ids are ignored.
	CMs []string
	// ModeratorRoles are the role ids whose members may use the desk too. A
	// role name is taken as the id of the role so named in a commanding guild,
	// once the gateway describes it; a name found nowhere is logged.
	ModeratorRoles []string
	// Guilds are the ids of the guilds vigie moderates and takes commands from,
	// besides the desk channel's guild (DISCORD_GUILDS). With none and no desk
	// channel, the guilds a Discord CM of desk.cms owns are moderated, and
	// none commands it: anyone may invite a public bot to their own server.
	Guilds []string
	// TokenCheckAfter is how long the gateway may be down before vigie asks
	// Discord whether it still takes the token (GET /users/@me), then again
	// after twice as long each time while it stays down, up to 10 minutes
	// (default DefaultTokenCheckAfter).
	TokenCheckAfter time.Duration
	// DrainTimeout bounds how long Run, once its context is cancelled, keeps
	// handing over the events received before the gateway closed (default 10s).
	DrainTimeout time.Duration
	// ReportsJudged says that whoever reads Run's events calls Judged for
	// each once it is judged (the daemon, once its verdict is journaled):
	// the shard's memory of a channel moves past a message only then, so
	// that the next runner of a shard killed with messages waiting to be
	// judged reads them again. Without it a message counts as judged once
	// handed over.
	ReportsJudged bool
	// Now is the host's clock (time.Now when nil). Discord's is told from
	// it and the Date header of Discord's answers.
	Now func() time.Time
	// Told, when set, keeps the state of the guilds vigie is out of told
	// to the desk, for the processes sharing it: of those that find a
	// guild's change (a shard moved, restarted), one tells it.
	Told store.ToldKeeper
	// HTTPClient makes the REST calls. Default: a client with a 20s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Registerer receives the connector's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// ConfigFromEnv reads the DISCORD_* settings; docs/operations.md lists them.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		Token:          getenv("DISCORD_TOKEN"),
		APIURL:         getenv("DISCORD_API_URL"),
		StaffRoles:     splitList(getenv("DISCORD_STAFF_ROLES")),
		ModeratorRoles: splitList(getenv("DISCORD_MODERATOR_ROLES")),
		DeskChannel:    strings.TrimSpace(getenv("DISCORD_DESK_CHANNEL")),
		Guilds:         splitList(getenv("DISCORD_GUILDS")),
	}
	var err error
	if cfg.DeskChannel != "" {
		// a channel's name ("#mod-desk") would start vigie with a desk no card reaches
		if _, err := strconv.ParseUint(cfg.DeskChannel, 10, 64); err != nil {
			return cfg, fmt.Errorf("discord: DISCORD_DESK_CHANNEL %q: want the channel's id, like 123456789012345678 (Developer Mode on, then right-click the channel, Copy ID)", cfg.DeskChannel)
		}
	}
	if s := getenv("DISCORD_SHARD_ID"); s != "" {
		if cfg.ShardID, err = strconv.Atoi(s); err != nil {
			return cfg, fmt.Errorf("discord: DISCORD_SHARD_ID %q: want a number", s)
		}
	}
	if s := getenv("DISCORD_SHARD_COUNT"); s != "" {
		if cfg.ShardCount, err = strconv.Atoi(s); err != nil {
			return cfg, fmt.Errorf("discord: DISCORD_SHARD_COUNT %q: want a number", s)
		}
	}
	if s := getenv("DISCORD_WARN_DM"); s != "" {
		if cfg.WarnByDM, err = strconv.ParseBool(s); err != nil {
			return cfg, fmt.Errorf("discord: DISCORD_WARN_DM %q: want true or false", s)
		}
	}
	if s := getenv("DISCORD_BAN_DELETE"); s != "" {
		if cfg.BanDeleteWindow, err = parseDuration(s); err != nil {
			return cfg, fmt.Errorf("discord: DISCORD_BAN_DELETE %q: want a duration like 1h or 7d", s)
		}
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Client is vigie's Discord bot: a bot.Source, a platform with the Deleter,
// Replier, Warner, Timeouter, Untimeouter, Kicker, Banner and Tagger
// capabilities, and the desk.
type Client struct {
	cfg Config
	log *slog.Logger
	// clock tells the time on Discord's clock: the catch-up's and the
	// marks' (cfg.Now is the host's).
	clock *discordClock
	sess  *discordgo.Session
	desk  atomic.Pointer[deskConf]

	removed *recentMembers // the members vigie kicked or banned lately
	// strangers are the authors Discord said lately are not in the guild
	// (ResolveRoles).
	strangers *recentMembers
	// timeouts are the timeouts vigie gave or lifted, until the gateway
	// tells of the member's change.
	timeouts timeoutBook
	// gate is the rate gate the session's calls go through.
	gate *rateGate
	// troubles are the guilds it moderates that vigie was removed from.
	troubles troubles

	selfID atomic.Value // string: the bot's user id, from READY
	// auditLogUnseen says an unban came from a guild whose audit log vigie
	// may not view (logged then, once, not at each unban).
	auditLogUnseen atomic.Bool
	appID          atomic.Value // string: the application id, from READY

	commands atomic.Pointer[commandsBox]
	gw       *gatewayConns

	// sink is where gateway handlers hand over events while Run is running.
	sinkMu sync.RWMutex
	sink   *sink
	// queue holds the gateway's events until out takes them.
	queue chan bot.Event
	met   *metrics
	// work runs the desk's work, so that Run returns after it. interactions
	// is the line where buttons pressed and commands wait for a worker, asks
	// where new members wait to be asked to verify (and their presses wait);
	// notAsked is the wave of members let in unasked during a raid
	// (verify.go).
	// tells answers at once what needs no worker (a stranger's press, "too
	// busy") (desk.go).
	work         *deskwork.Pool
	interactions *deskwork.Line
	asks         *deskwork.Line
	notAsked     *deskwork.Unasked
	tells        *deskwork.Pool
	// lost are the desk's interactions Discord took no answer for, by id,
	// while their work runs (desk.go).
	lost sync.Map
	// asking are the members being asked now, for a press that comes
	// before their ask is recorded (verify.go).
	asking deskwork.Asking
	// verify is the verification of new members, when on (verify.go).
	verify  atomic.Pointer[Verify]
	running atomic.Bool
	// modRoleIDs are the moderator roles' ids, names resolved (authority.go).
	modRoleIDs atomic.Pointer[map[string]bool]
	// mods are the members who hold a moderator role, by guild, as the
	// gateway told them (modnames.go).
	mods moderators
	// foreignSeen are the guilds already logged as not moderated; registered,
	// those /vigie was registered in; registering, those where it waits for
	// a worker to be.
	foreignSeen, registered, registering *onceSet
	// guard recovers panics in the gateway's handlers and the desk's work.
	guard *guard.Guard
	// link is the gateway connection's state; connectedOnce tells a reconnection
	// from the first connection, stopping a disconnection of our own from a lost one.
	link          bot.LinkState
	connectedOnce atomic.Bool
	stopping      atomic.Bool
	// connLost wakes keepConnected when the connection is lost; reconnectWait
	// is its wait between two tries (reconnect.go).
	connLost      chan struct{}
	reconnectWait func(ctx context.Context, d time.Duration) bool
	// cu reads the messages a lost session never delivered (catchup.go).
	cu catchup
	// memFailing is true while the shard's memory is not written to the
	// store: told once.
	memFailing atomic.Bool
	// tw asks Discord whether it takes the token while the gateway is down
	// (token.go).
	tw tokenWatch
	// told decides which changes of the guilds vigie is out of this
	// process tells the desk (Config.Told).
	told tellonce.Desk
	// verifyRefused are the verification steps refused for a missing
	// permission that the desk was told of (verify.go).
	verifyRefused bot.Turns
}

type sink struct {
	ctx    context.Context // ends when Run stops handing events over
	runCtx context.Context // Run's own: ends when Run is asked to stop
	out    chan<- bot.Event
}

// Interface guards: the capabilities the handlers look for.
var (
	_ bot.Source         = (*Client)(nil)
	_ bot.Linker         = (*Client)(nil)
	_ bot.Deleter        = (*Client)(nil)
	_ bot.Replier        = (*Client)(nil)
	_ bot.Warner         = (*Client)(nil)
	_ bot.Timeouter      = (*Client)(nil)
	_ bot.TimeoutLimiter = (*Client)(nil)
	_ bot.Untimeouter    = (*Client)(nil)
	_ bot.Kicker         = (*Client)(nil)
	_ bot.Banner         = (*Client)(nil)
	_ bot.Tagger         = (*Client)(nil)
	_ bot.RoleResolver   = (*Client)(nil)
)

const (
	callTimeout = 30 * time.Second
	deskTimeout = 15 * time.Second
	maxDeskWork = 8
)

// New checks cfg and builds a Client. It makes no network call: Run connects.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("discord: missing token (DISCORD_TOKEN)")
	}
	cfg.Token = strings.TrimPrefix(strings.TrimSpace(cfg.Token), "Bot ")
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if err := useAPIURL(cfg.APIURL); err != nil {
		return nil, err
	}
	if cfg.ShardCount == 0 {
		cfg.ShardCount = 1
	}
	if cfg.ShardCount < 0 || cfg.ShardID < 0 || cfg.ShardID >= cfg.ShardCount {
		return nil, fmt.Errorf("discord: shard %d of %d: want 0 <= shard id < shard count", cfg.ShardID, cfg.ShardCount)
	}
	if cfg.BanDeleteWindow < 0 || cfg.BanDeleteWindow > MaxBanDeleteWindow {
		return nil, fmt.Errorf("discord: ban clean-up window %s: want 0 to 7d", cfg.BanDeleteWindow)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TokenCheckAfter <= 0 {
		cfg.TokenCheckAfter = DefaultTokenCheckAfter
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	cms, err := parseCMs(cfg.CMs)
	if err != nil {
		return nil, err
	}
	guilds, err := parseGuilds(cfg.Guilds)
	if err != nil {
		return nil, err
	}
	s, err := discordgo.New("Bot " + cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	s.Identify.Intents = Intents
	s.ShardID, s.ShardCount = cfg.ShardID, cfg.ShardCount
	// Events are handled in gateway order (a flood is counted in the order it
	// was written), and retries are the handlers' one retry stage: discordgo
	// neither sleeps on a 429 nor repeats a 502 on its own.
	s.SyncEvents = true
	s.ShouldRetryOnRateLimit = false
	// Run reconnects, in one loop that ends when it stops (reconnect.go).
	s.ShouldReconnectOnError = false
	s.MaxRestRetries = 0
	s.LogLevel = discordgo.LogError
	log := cfg.Logger.With("platform", Platform)
	g := guard.New(log, cfg.Registerer)
	c := &Client{
		cfg:   cfg,
		log:   log,
		sess:  s,
		work:  deskwork.New(maxDeskWork, deskTimeout, g, "discord desk"),
		gw:    &gatewayConns{timeout: openTimeout},
		queue: make(chan bot.Event, queueSize),
		guard: g,
		tw:    tokenWatch{wake: make(chan struct{}, 1)},

		connLost:      make(chan struct{}, 1),
		reconnectWait: bot.Sleep,

		removed:     &recentMembers{keep: removedKept, max: 10000},
		strangers:   &recentMembers{keep: strangerKept, max: 4096},
		foreignSeen: newOnceSet(1000),
		registered:  newOnceSet(1000),
		registering: newOnceSet(1000),
		tells:       deskwork.New(maxTells, tellTimeout, g, "discord desk"),
	}
	c.told = tellonce.New(cfg.Told, strconv.FormatUint(rand.Uint64(), 36), log)
	c.gw.forget = func() {
		if forgetSession(s) {
			c.log.Warn("gateway connections in a row ended before the gateway said a word (no READY, no RESUMED): starting a new session rather than resuming the old one",
				"connections", unheardBeforeIdentify)
		} else {
			c.log.Error("gateway connections in a row ended before the gateway said a word, and this discordgo version keeps the session: it tries to resume it again")
		}
	}
	c.interactions = c.work.Line(maxInteractionsWaiting)
	c.asks = c.work.Line(maxAsksWaiting)
	c.notAsked = deskwork.NewUnasked(c.asks, "server", "guilds", c.log, func(ctx context.Context, text string) {
		ctx, cancel := reportContext(ctx)
		defer cancel()
		c.tellDesk(ctx, text)
	})
	c.met = newMetrics(cfg.Registerer, func() float64 { return float64(len(c.queue)) }, c.log)
	c.clock = &discordClock{host: cfg.Now, log: log, skew: c.met.clockOffset}
	hc := *cfg.HTTPClient
	// A shard's call is not sent once its lease may have run out.
	hc.Transport = bot.LeaseChecked(clockReader{next: cmp.Or[http.RoundTripper](hc.Transport, http.DefaultTransport), clock: c.clock})
	s.Client = withRateGate(&hc, log, c.met.held)
	c.gate = s.Client.Transport.(*rateGate)
	// The limits it holds end on the host's clock, as the daemon's watch of
	// them does: the actions they left as cases are carried out then.
	c.gate.now = cfg.Now
	s.Dialer = &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 45 * time.Second,
		NetDialContext:   c.gw.dial,
	}
	c.selfID.Store("")
	c.appID.Store("")
	c.desk.Store(&deskConf{channel: cfg.DeskChannel, cms: cms, guilds: guilds, modRoles: cfg.ModeratorRoles})
	c.resolveModRoles(nil)
	c.addHandlers()
	return c, nil
}

// discordgo keeps its REST addresses in package variables, computed once from
// EndpointAPI. They are process-wide: this is the one place vigie sets them,
// and one process talks to one Discord API.
var endpointMu sync.Mutex

func useAPIURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("discord: DISCORD_API_URL %q: want http:// or https://", raw)
	}
	api := strings.TrimRight(raw, "/") + "/"
	endpointMu.Lock()
	defer endpointMu.Unlock()
	if discordgo.EndpointAPI == api {
		return nil
	}
	if discordgo.EndpointAPI != discordgo.EndpointDiscord+"api/v"+discordgo.APIVersion+"/" {
		return fmt.Errorf("discord: API URL %q: this process already uses %q (discordgo's endpoints are process-wide)", raw, discordgo.EndpointAPI)
	}
	discordgo.EndpointAPI = api
	discordgo.EndpointGuilds = api + "guilds/"
	discordgo.EndpointChannels = api + "channels/"
	discordgo.EndpointUsers = api + "users/"
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = discordgo.EndpointGateway + "/bot"
	discordgo.EndpointWebhooks = api + "webhooks/"
	discordgo.EndpointApplications = api + "applications"
	discordgo.EndpointGuildCreate = api + "guilds"
	return nil
}

// Name is the platform's name, as in Event.Platform.
func (c *Client) Name() string { return Platform }

// Link says whether the gateway connection is up: from READY or RESUMED to the
// next disconnection. While it is down and Discord refuses the token, the
// problem says so (token.go).
func (c *Client) Link() bot.Link { return c.tokenLink(c.link.Link()) }

// deskConf is where the desk is and who may use it; a reload of the rule file
// can change them.
type deskConf struct {
	channel  string
	cms      map[string]bool
	guilds   map[string]bool
	modRoles []string
}

func parseGuilds(list []string) (map[string]bool, error) {
	guilds := make(map[string]bool)
	for _, id := range list {
		id = strings.TrimSpace(id)
		if !isSnowflake(id) {
			return nil, fmt.Errorf("discord: guild %q: want a numeric guild id", id)
		}
		guilds[id] = true
	}
	return guilds, nil
}

func parseCMs(list []string) (map[string]bool, error) {
	cms := make(map[string]bool)
	for _, id := range list {
		rest, ok := strings.CutPrefix(strings.TrimSpace(id), Platform+":")
		if !ok {
			continue
		}
		if _, err := strconv.ParseUint(rest, 10, 64); err != nil {
			return nil, fmt.Errorf("discord: CM %q: want discord:<numeric user id>", id)
		}
		cms[rest] = true
	}
	return cms, nil
}

// SetDesk changes the desk channel, the CMs and the guilds vigie moderates, as
// after a reload of the rule file's desk: section. On an error nothing changes.
// /vigie is registered in the guilds that now command vigie.
func (c *Client) SetDesk(channel string, cms, guilds []string) error {
	ids, err := parseCMs(cms)
	if err != nil {
		return err
	}
	gs, err := parseGuilds(guilds)
	if err != nil {
		return err
	}
	old := c.desk.Load()
	c.desk.Store(&deskConf{channel: channel, cms: ids, guilds: gs, modRoles: old.modRoles})
	c.resolveModRoles(nil)
	c.sinkMu.RLock()
	s := c.sink
	c.sinkMu.RUnlock()
	if s != nil {
		for _, g := range c.commandingGuilds() {
			c.registerLater(s.ctx, g)
		}
	}
	return nil
}

// opts are the request options of one call: its context.
func opts(ctx context.Context) []discordgo.RequestOption {
	return []discordgo.RequestOption{discordgo.WithContext(ctx)}
}

// APIError is an error answer of the REST API.
type APIError struct {
	Method, Path string
	Status       int
	// Code is Discord's JSON error code (50013: missing permissions).
	Code    int
	Message string
	// Fields says which fields of the request Discord refused, and why:
	// the errors of an Invalid Form Body (50035).
	Fields string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("discord %s %s: %d", e.Method, e.Path, e.Status)
	if e.Message != "" {
		s += " " + e.Message
	}
	if e.Code != 0 {
		s += fmt.Sprintf(" (code %d)", e.Code)
	}
	if e.Fields != "" {
		s += ": " + e.Fields
	}
	return s
}

// maxFieldErrors bounds the field errors an APIError names.
const maxFieldErrors = 3

// fieldErrors reads the "errors" of Discord's error answer (an Invalid Form
// Body's), a tree of fields down to their "_errors": "path: message; …",
// sorted by path, at most maxFieldErrors of them; "" when there are none.
func fieldErrors(body []byte) string {
	var v struct {
		Errors map[string]any `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.Errors) == 0 {
		return ""
	}
	var out []string
	var walk func(path string, node map[string]any)
	walk = func(path string, node map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(node)) {
			if k == "_errors" {
				list, _ := node[k].([]any)
				for _, e := range list {
					m, _ := e.(map[string]any)
					msg, _ := m["message"].(string)
					if msg == "" {
						msg, _ = m["code"].(string)
					}
					out = append(out, strings.TrimPrefix(path+": "+msg, ": "))
				}
				continue
			}
			sub, ok := node[k].(map[string]any)
			if !ok {
				continue
			}
			p := path + "." + k
			if _, err := strconv.Atoi(k); err == nil {
				p = path + "[" + k + "]"
			}
			walk(strings.TrimPrefix(p, "."), sub)
		}
	}
	walk("", v.Errors)
	more := len(out) - maxFieldErrors
	out = out[:min(len(out), maxFieldErrors)]
	s := strings.Join(out, "; ")
	if more > 0 {
		s += fmt.Sprintf(" (and %d more)", more)
	}
	return truncate(s, 500)
}

// Discord's JSON error codes vigie reads.
const (
	codeUnknownMessage     = 10008
	codeUnknownChannel     = 10003
	codeUnknownMember      = 10007
	codeCannotDMUser       = 50007
	codeMissingPermissions = 50013
	// codeMissingAccess answers a call about a channel vigie cannot see.
	codeMissingAccess = 50001
	// codeAlreadyAcknowledged answers a second acknowledgement of one
	// interaction: another process answered it.
	codeAlreadyAcknowledged = 40060
	// codeUnknownInteraction answers the first answer to an interaction
	// that came after Discord's three seconds: the interaction is gone,
	// its token with it.
	codeUnknownInteraction = 10062
	// The refusals a card says in a CM's words (PlainRefusal): an
	// account deleted, an action Discord allows on no system message (a
	// join, a boost, a pin's notice), a bulk delete of messages older
	// than 14 days, an archived thread.
	codeUnknownUser      = 10013
	codeSystemMessage    = 50021
	codeBulkDeleteTooOld = 50034
	codeThreadArchived   = 50083
)

// classify turns a discordgo error into a *bot.ActionError that says whether to
// try again.
func (c *Client) classify(ctx context.Context, op bot.ActionKind, err error) error {
	if err == nil {
		return nil
	}
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return &bot.ActionError{Op: op, Retryable: true, RetryAfter: rl.RetryAfter,
			Err: &rateLimited{path: pathOf(rl.URL), after: rl.RetryAfter}}
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		ae := &APIError{Status: re.Response.StatusCode}
		if re.Request != nil {
			ae.Method, ae.Path = re.Request.Method, re.Request.URL.Path
		}
		if re.Message != nil {
			ae.Code, ae.Message = re.Message.Code, re.Message.Message
		}
		ae.Fields = fieldErrors(re.ResponseBody)
		// A 4xx is Discord refusing this request as it is (missing permission,
		// unknown channel, content too long): sending it again changes nothing.
		// A 429 comes as a RateLimitError, above, from discordgo; as a
		// RESTError it is a rate limit all the same.
		retry := ae.Status >= 500 || ae.Status == http.StatusTooManyRequests
		return &bot.ActionError{Op: op, Retryable: retry, Err: ae}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		// Our own deadline is worth another try; the caller's cancellation is not.
		return &bot.ActionError{Op: op, Retryable: errors.Is(ctxErr, context.DeadlineExceeded), Err: fmt.Errorf("discord: %w", ctxErr)}
	}
	msg := c.withoutToken(err)
	if rest, ok := strings.CutPrefix(msg, "Exceeded Max retries HTTP "); ok {
		// discordgo's error for a 502 carries the whole answer, a proxy's
		// HTML page of kilobytes, into the case and the log: the status says
		// it all.
		status, _, _ := strings.Cut(rest, ", ")
		msg = "HTTP " + status + " (Discord, or a proxy before it)"
	}
	return &bot.ActionError{Op: op, Retryable: true, Err: fmt.Errorf("discord: %s", truncate(msg, 300))}
}

func pathOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Path
	}
	return raw
}

// apiCode is Discord's JSON error code in err, if any.
func apiCode(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func (c *Client) self() string  { return c.selfID.Load().(string) }
func (c *Client) appid() string { return c.appID.Load().(string) }

// parseDuration reads a moderator's duration: Go's (90s, 10m, 1h30m) plus days (1d, 7d).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
	}
	if d := days + rest; d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("bad duration %q", s)
}

// now is the host's clock (Config.Now).
func (c *Client) now() time.Time { return c.cfg.Now() }

// discordNow is the time on Discord's clock, as best known.
func (c *Client) discordNow() time.Time { return c.clock.now() }
