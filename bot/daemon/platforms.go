package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskcases"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/telegram"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// platformSpec is one platform vigie knows, and the setting that turns it on.
type platformSpec struct {
	name string
	env  string
	// build makes the platform's Connector from the environment; nil while this
	// build has no support for the platform.
	build func(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer) (Connector, error)
}

// connectors turns on the platforms whose tokens are set, and says for each why it
// is on or off. It is the one place where platform packages are wired in: a
// platform package adds its build function to the list below. Connectors register
// their metrics with reg.
//
// A platform whose token is set but whose other settings are wrong or missing is
// an error, naming every such platform: vigie does not start half-configured,
// quietly without a platform its operator meant to run.
func connectors(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer, st store.Store) ([]Connector, []string, error) {
	specs := []platformSpec{
		{name: "discord", env: "DISCORD_TOKEN", build: func(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer) (Connector, error) {
			return discordConnector(cfg, rs, reg, st)
		}},
		{name: "telegram", env: "TELEGRAM_TOKEN", build: func(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer) (Connector, error) {
			return telegramConnector(cfg, rs, reg, st)
		}},
		{name: "meta", env: "META_PAGE_TOKEN", build: func(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer) (Connector, error) {
			return metaConnector(cfg, rs, reg, st)
		}},
	}
	var conns []Connector
	var status []string
	var errs []error
	for _, s := range specs {
		switch {
		case cfg.Getenv(s.env) == "":
			status = append(status, fmt.Sprintf("%s off (%s not set)", s.name, s.env))
		case s.build == nil:
			status = append(status, fmt.Sprintf("%s off (%s is set, but this build has no %s support)", s.name, s.env, s.name))
		default:
			c, err := s.build(cfg, rs, reg)
			if err != nil {
				msg := strings.TrimPrefix(err.Error(), s.name+": ")
				errs = append(errs, fmt.Errorf("%s: %s is set, but %s; fix it, or unset %s to run without %s", s.name, s.env, msg, s.env, s.name))
				continue
			}
			conns = append(conns, c)
			status = append(status, s.name+" on")
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("platforms misconfigured, not starting:\n%w", errors.Join(errs...))
	}
	for _, c := range cfg.Connectors {
		conns = append(conns, c)
		status = append(status, c.Name+" on")
	}
	return conns, status, nil
}

// metaConnector is the Facebook Page and its Instagram account: Meta's webhooks in
// at /webhooks/meta, Graph API calls out. The answers it gives are kept in
// st, so that the other instances and the next start do not give them again.
func metaConnector(cfg Config, _ *rules.Ruleset, reg prometheus.Registerer, st store.Store) (Connector, error) {
	secret := cfg.Getenv("META_APP_SECRET")
	if secret == "" {
		return Connector{}, errors.New("META_APP_SECRET is not: without it Meta's deliveries cannot be checked")
	}
	if raw := cfg.Getenv("META_GRAPH_URL"); raw != "" {
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Connector{}, fmt.Errorf("META_GRAPH_URL %q: want http:// or https://", raw)
		}
	}
	answers, _ := st.(store.CallKeeper)
	c := meta.New(meta.Config{
		AppSecret:   secret,
		VerifyToken: cfg.Getenv("META_VERIFY_TOKEN"),
		PageToken:   cfg.Getenv("META_PAGE_TOKEN"),
		PageID:      cfg.Getenv("META_PAGE_ID"),
		InstagramID: cfg.Getenv("META_INSTAGRAM_ID"),
		GraphURL:    cfg.Getenv("META_GRAPH_URL"),
		Logger:      cfg.Logger,
		Registerer:  reg,
		Refusals:    cfg.refusals,
		// The daemon's clock: the deliveries' ages, the link's times,
		// the calls' and limits' memories.
		Now: cfg.clock(),
		// On shutdown, the events Meta was told were received go to the rules
		// first; the rest of the drain is for the workers to act on them.
		DrainTimeout: cfg.ShutdownTimeout * 2 / 3,
		// A dead token is said within this time, not at the first comment
		// that needs an action: some 100 calls a day, of the Page's
		// thousands.
		TokenCheckEvery: metaTokenCheck,
		Answers:         answers,
	})
	return Connector{
		Name:      "meta",
		Source:    c,
		Platforms: c.Platforms(),
		Routes:    map[string]http.Handler{"/webhooks/meta": c.Handler()},
		// an Instagram mention whose text Meta would not give is a case;
		// a comment removed while its case is open is said on its card
		Attach: func(cmds *handlers.Commands) {
			c.OpenCasesWith(cmds.OpenCase)
			c.TellDeletesTo(cmds)
		},
		// a refused page token stops all moderation of the Page: the CMs
		// are told, once
		AlertWith: c.AlertWith,
		// the night's cases a refused page token left are carried out
		// once Meta takes a token again
		TokenTaken: c.OnTokenTaken,
		// a renewed page token is taken without a restart, which on the
		// memory store would forget the cases its expiry left
		Reload: func() { reloadPageToken(cfg, c) },
	}, nil
}

// pageTokenTry bounds how long a reload waits for Meta to say whether it
// takes the token read again; past it, the token is taken as it is.
const pageTokenTry = 10 * time.Second

// reloadPageToken gives c the page token META_PAGE_TOKEN_FILE holds now, when
// the token is given that way: a CM renews an expired token by writing the
// file and reloading. A file that cannot be read keeps the token in use.
func reloadPageToken(cfg Config, c *meta.Connector) {
	path := cfg.Getenv("META_PAGE_TOKEN_FILE")
	if path == "" {
		return
	}
	b, err := os.ReadFile(path)
	token := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	switch {
	case err != nil:
		cfg.Logger.Warn("META_PAGE_TOKEN_FILE not read again: the page token in use is kept", "err", err)
	case token == "":
		cfg.Logger.Warn("META_PAGE_TOKEN_FILE is empty: the page token in use is kept", "file", path)
	default:
		ctx, cancel := context.WithTimeout(context.Background(), pageTokenTry)
		defer cancel()
		c.SetPageToken(ctx, token)
	}
}

// metaTokenCheck is how often vigie asks Meta whether it takes the page token.
const metaTokenCheck = 15 * time.Minute

var _ bot.Source = (*meta.Connector)(nil)

// cardDesk is what each platform's desk does: cards with their buttons, alerts,
// pages, and pictures such as the report's chart.
type cardDesk interface {
	PostCard(ctx context.Context, card bot.Card) error
	Alert(ctx context.Context, text string) error
	// AlertIn alerts in another desk chat or channel: a community's.
	AlertIn(ctx context.Context, to, text string) error
	Page(ctx context.Context, text string) error
	Picture(ctx context.Context, text, name string, png []byte) error
}

// platformDesk shows cases and alerts on a platform's desk, and refuses with
// unset while the rule file names none there.
type platformDesk struct {
	d     cardDesk
	set   atomic.Bool
	unset error
	// cmds, when set, adds the moderators' notes to the cards.
	cmds *deskCommands
	// communities are the desk chats or channels of the rule file's
	// communities on this platform, by community; nil is none.
	communities atomic.Pointer[map[string]string]
	// platform is the desk's; names, when set, are the other platforms'
	// namers of their places, for the cards of their cases (Card.Place),
	// and poses their tellers of the CMs their members are named like
	// (Card.PosesAs).
	platform string
	names    map[string]bot.DeskPlaceNamer
	poses    map[string]bot.CMPoseTeller
}

// named is card with its place, and the CM its author poses as, named by
// its platform, when the card is that of another platform's case: a member
// can pose as the CMs of their own platform, whichever desk shows them.
func (t *platformDesk) named(ctx context.Context, card bot.Card) bot.Card {
	if card.Event.Platform == t.platform {
		return card
	}
	if n := t.names[card.Event.Platform]; n != nil {
		card.Place = n.DeskPlaceName(ctx, card.Event)
	}
	if p := t.poses[card.Event.Platform]; p != nil {
		card.PosesAs = p.PosesAsCM(ctx, card.Event, t.platform)
	}
	return card
}

// communityDesk is where a community's cases and alerts go on this
// platform, "" for the desk's.
func (t *platformDesk) communityDesk(community string) string {
	if m := t.communities.Load(); m != nil && community != "" {
		return (*m)[community]
	}
	return ""
}

// namesDesk reports whether chat is the desk chat or channel of a community
// of the rule file now.
func (t *platformDesk) namesDesk(chat string) bool {
	m := t.communities.Load()
	if m == nil {
		return false
	}
	for _, to := range *m {
		if to == chat {
			return true
		}
	}
	return false
}

// setCommunities keeps the desks of rs's communities on the platform, as
// desk(rules.Desk) reads each: its chat or channel.
func (t *platformDesk) setCommunities(rs *rules.Ruleset, desk func(rules.Desk) string) {
	m := map[string]string{}
	for _, c := range rs.Communities {
		if to := desk(c.Desk); to != "" {
			m[c.Name] = to
		}
	}
	t.communities.Store(&m)
}

func (t *platformDesk) PostCase(ctx context.Context, c store.Case) error {
	to := t.communityDesk(c.Community)
	if to == "" && !t.set.Load() {
		return t.unset
	}
	card := t.named(ctx, t.cmds.card(ctx, c))
	card.Desk = to
	return t.d.PostCard(ctx, card)
}

// AlertCommunity alerts on the community's desk, or on the desk's.
func (t *platformDesk) AlertCommunity(ctx context.Context, community, text string) error {
	if to := t.communityDesk(community); to != "" {
		return t.d.AlertIn(ctx, to, text)
	}
	return t.Alert(ctx, text)
}

func (t *platformDesk) Alert(ctx context.Context, text string) error {
	if !t.set.Load() {
		return t.unset
	}
	return t.d.Alert(ctx, text)
}

func (t *platformDesk) Page(ctx context.Context, text string) error {
	if !t.set.Load() {
		return t.unset
	}
	return t.d.Page(ctx, text)
}

func (t *platformDesk) Picture(ctx context.Context, text, name string, png []byte) error {
	if !t.set.Load() {
		return t.unset
	}
	return t.d.Picture(ctx, text, name, png)
}

// deskCommands answers every desk's buttons and commands with the handlers. The
// desk needs the commands, which need the handlers, which need the desk: c is
// set once the handlers exist, before anything runs.
type deskCommands struct {
	c *handlers.Commands
}

var (
	_ telegram.Commands  = (*deskCommands)(nil)
	_ bot.DeskCommands   = (*deskCommands)(nil)
	_ bot.ModeCommands   = (*deskCommands)(nil)
	_ bot.ReportCommands = (*deskCommands)(nil)
	_ bot.CaseRights     = (*deskCommands)(nil)
)

func (t *deskCommands) Decide(ctx context.Context, d bot.Decision) (bot.Card, error) {
	c, err := t.c.Decide(ctx, d.CaseID, d.String(), d.By)
	return deskcases.Decided(c, err, t.c.OutcomesFor)
}

func (t *deskCommands) MayDecide(ctx context.Context, caseID, by string) error {
	return t.c.MayDecide(ctx, caseID, by)
}

func (t *deskCommands) Queue(ctx context.Context, by string) ([]bot.Card, error) {
	cs, err := t.c.Queue(ctx, by)
	return deskcases.Cards(cs, err, t.c.OutcomesFor)
}

func (t *deskCommands) Status(ctx context.Context, by string) (string, error) {
	return t.c.Status(ctx, by)
}
func (t *deskCommands) Pause(ctx context.Context, d time.Duration, by string) (string, error) {
	return t.c.Pause(ctx, d, by)
}
func (t *deskCommands) Resume(ctx context.Context, by string) (string, error) {
	return t.c.Resume(ctx, by)
}
func (t *deskCommands) Stats(ctx context.Context, period time.Duration, by string) (string, error) {
	return t.c.Stats(ctx, period, by)
}
func (t *deskCommands) Rules(ctx context.Context, by string) (string, error) {
	return t.c.Rules(ctx, by)
}
func (t *deskCommands) Reload(ctx context.Context, by string) (string, error) {
	return t.c.Reload(ctx, by)
}
func (t *deskCommands) Mode(ctx context.Context, args, by string) (string, error) {
	return t.c.Mode(ctx, args, by)
}
func (t *deskCommands) Report(ctx context.Context, period time.Duration, by string) (string, []byte, error) {
	return t.c.Report(ctx, period, by)
}

// communityPlaces are the ids of the places of platform that the rule file's
// communities name: the file's own places, moderated when no list says which
// are.
func communityPlaces(rs *rules.Ruleset, platform string) []string {
	var ids []string
	for _, c := range rs.Communities {
		for _, p := range c.Places {
			if id, ok := strings.CutPrefix(p, platform+":"); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// communityCMs are the CMs of the file's desk and of every community's: the
// platforms know one list of who may decide, and the handlers keep a
// community's CMs to its cases and places (rules.Ruleset.MayDecide).
func communityCMs(rs *rules.Ruleset) []string {
	cms := slices.Clone(rs.Desk.CMs)
	for _, c := range rs.Communities {
		for _, cm := range c.Desk.CMs {
			if !slices.Contains(cms, cm) {
				cms = append(cms, cm)
			}
		}
	}
	return cms
}
