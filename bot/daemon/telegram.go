package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/telegram"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// telegramConnector is the Telegram bot: groups in, moderation out, and the CMs'
// desk, whose chat and CMs come from the rule file's desk: section.
func telegramConnector(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer, st store.Store) (Connector, error) {
	chat, err := deskChat(rs.Desk.TelegramChat)
	if err != nil {
		return Connector{}, err
	}
	envChats := strings.Split(cfg.Getenv("TELEGRAM_CHATS"), ",")
	// The rule file's list, when it has one, replaces TELEGRAM_CHATS; with
	// neither, the groups its communities name are the list.
	chats := func(rs *rules.Ruleset) ([]int64, error) {
		list := rs.Desk.TelegramChats
		if len(list) == 0 {
			list = envChats
		}
		if strings.TrimSpace(strings.Join(list, "")) == "" {
			list = communityPlaces(rs, "telegram")
		}
		var out []int64
		for _, s := range list {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("TELEGRAM_CHATS %q: want chat ids, like -1001234567890", s)
			}
			out = append(out, n)
		}
		return out, nil
	}
	moderated, err := chats(rs)
	if err != nil {
		return Connector{}, err
	}
	mode := telegram.Mode(cfg.Getenv("TELEGRAM_MODE"))
	if mode == telegram.ModeWebhook && cfg.Getenv("TELEGRAM_WEBHOOK_SECRET") == "" {
		return Connector{}, errors.New("TELEGRAM_MODE is webhook and TELEGRAM_WEBHOOK_SECRET is not: without it anyone could post updates to /webhooks/telegram")
	}
	var admins bool
	if s := cfg.Getenv("TELEGRAM_DESK_ADMINS"); s != "" {
		if admins, err = strconv.ParseBool(s); err != nil {
			return Connector{}, fmt.Errorf("TELEGRAM_DESK_ADMINS %q: want true or false", s)
		}
	}
	tg, err := telegram.New(telegram.Config{
		Token:         cfg.Getenv("TELEGRAM_TOKEN"),
		APIURL:        cfg.Getenv("TELEGRAM_API_URL"),
		DeskChat:      chat,
		CMs:           rs.Desk.CMs,
		DeskAdmins:    admins,
		Chats:         moderated,
		Mode:          mode,
		WebhookURL:    cfg.Getenv("TELEGRAM_WEBHOOK_URL"),
		WebhookSecret: cfg.Getenv("TELEGRAM_WEBHOOK_SECRET"),
		// Every process receives; the one holding the lease registers.
		WebhookElsewhere: mode == telegram.ModeWebhook,
		// A batch committed before a shutdown is still handed over; the rest
		// of the drain is for the workers to act on it.
		DrainTimeout: cfg.ShutdownTimeout * 2 / 3,
		// process tells it once each event is judged (judgedTeller).
		ReportsJudged: true,
		Logger:        cfg.Logger,
		Registerer:    reg,
		Refusals:      cfg.refusals,
		Topics:        topicKeeper(st),
		Now:           cfg.clock(),
	})
	if err != nil {
		return Connector{}, err
	}
	// The desk needs the commands, which need the handlers, which need the desk:
	// the commands are attached once the handlers exist, before anything runs.
	cmds := &deskCommands{}
	desk := &platformDesk{d: tg.Desk(cmds), unset: errNoDeskChat, cmds: cmds}
	desk.set.Store(chat != 0)
	c := Connector{
		Name:      "telegram",
		Platforms: []bot.Platform{tg},
		Desk:      desk,
		Attach:    func(c *handlers.Commands) { cmds.c = c },
		OnRules: func(rs *rules.Ruleset) error {
			chat, err := deskChat(rs.Desk.TelegramChat)
			if err != nil {
				return err
			}
			moderated, err := chats(rs)
			if err != nil {
				return err
			}
			others := map[int64][]string{}
			for _, cm := range rs.Communities {
				if id, err := deskChat(cm.Desk.TelegramChat); err == nil && id != 0 {
					others[id] = append(others[id], cm.Name)
				}
			}
			if err := tg.SetDesk(chat, communityCMs(rs), moderated); err != nil {
				return err
			}
			tg.SetCommunityDesks(others)
			desk.setCommunities(rs, func(d rules.Desk) string { return d.TelegramChat })
			desk.set.Store(chat != 0)
			return nil
		},
	}
	c.Verify = func(rs *rules.Ruleset, pending bot.Verifications) {
		if pending == nil {
			tg.SetVerify(nil)
			return
		}
		verify := func(v rules.Verify) *telegram.Verify {
			if !v.On {
				// Those asked before are still let go.
				return &telegram.Verify{Off: true, Pending: pending, Now: cfg.clock()}
			}
			return &telegram.Verify{Timeout: v.Timeout, Kick: v.OnFail == rules.VerifyKick, Prompt: v.Prompt,
				Button: v.Button, Pending: pending, Now: cfg.clock()}
		}
		tv := verify(rs.Verify)
		for chat, v := range rs.VerifyPlaces(telegram.Platform) {
			if tv.Places == nil {
				tv.Places = map[string]*telegram.Verify{}
			}
			tv.Places[chat] = verify(v)
		}
		tg.SetVerify(tv)
	}
	// The deadlines of new members' verifications are kept by one process.
	verifyJob := Job{Name: "telegram-verify", Run: func(ctx context.Context, _ Fence, _ chan<- bot.Event) error {
		cfg.every(ctx, verifyEvery, func() {
			if _, err := tg.VerifyDue(ctx, cfg.clock()()); err != nil && ctx.Err() == nil {
				cfg.Logger.Warn("verify: the deadlines were not all kept; again at the next tick", "err", err)
			}
		})
		return nil
	}}
	if mode == telegram.ModeWebhook {
		// Behind a load balancer, every process takes the updates Telegram
		// posts; the webhook is registered by one of them.
		c.Source = tg
		c.Routes = map[string]http.Handler{"POST /webhooks/telegram": tg.WebhookHandler()}
		c.Jobs = []Job{verifyJob, {Name: "telegram-webhook", Run: func(ctx context.Context, _ Fence, _ chan<- bot.Event) error {
			if err := tg.RegisterWebhook(ctx); err != nil && ctx.Err() == nil {
				return err
			}
			// Nothing fails on vigie's side when Telegram stops calling:
			// the process that set the webhook asks how it fares.
			cfg.every(ctx, webhookCheckEvery, func() {
				if err := tg.CheckWebhook(ctx); err != nil && ctx.Err() == nil {
					cfg.Logger.Debug("telegram: the webhook's state not read; again at the next check", "err", err)
				}
			})
			return nil
		}}}
		return c, nil
	}
	// Telegram answers 409 to a second poller: one process polls, the one
	// holding the lease, and its offset lives in the store under that lease.
	c.Jobs = []Job{{
		Name: "telegram",
		Run: func(ctx context.Context, f Fence, out chan<- bot.Event) error {
			offsets := &fencedOffsets{f: f, log: cfg.Logger.With("job", "telegram")}
			if f.KeepsInbox() {
				return tg.RunPoller(ctx, out, fencedInbox{offsets})
			}
			return tg.RunPoller(ctx, out, offsets)
		},
		Link: tg.Link,
	}, verifyJob}
	return c, nil
}

// webhookCheckEvery is how often, in webhook mode, vigie asks Telegram
// whether it still sends the updates to vigie's webhook and manages to
// (getWebhookInfo), on the daemon's clock: a webhook removed is told within
// this time, deliveries failing within twice this time.
const webhookCheckEvery = 5 * time.Minute

// verifyEvery is how often the deadlines of verifications are checked, on the
// daemon's clock: a member is kicked at most this long after their time ran out.
const verifyEvery = 5 * time.Second

// fencedOffsets keeps the poller's offset in the store, advanced only under
// the poller's current lease. While the store does not answer, the poller
// goes on (vigie moderates from memory meanwhile, see leases.run); once it
// answers that another process polls, it stops.
type fencedOffsets struct {
	f       Fence
	log     *slog.Logger
	failing bool
}

func (o *fencedOffsets) Offset(ctx context.Context) (int, error) {
	n, err := o.f.Load(ctx, "offset")
	if err != nil {
		o.log.Warn("the poller's offset is not known: the store does not answer; polling from Telegram's", "err", err)
		return 0, nil
	}
	return int(n), nil
}

func (o *fencedOffsets) Commit(ctx context.Context, offset int) error {
	err := o.f.Advance(ctx, "offset", int64(offset))
	switch {
	case err == nil:
		o.failing = false
		return nil
	case errors.Is(err, ErrFenced):
		return err
	}
	if !o.failing {
		o.log.Warn("the poller's offset is not written: the store does not answer; polling goes on", "err", err)
	}
	o.failing = true
	return nil
}

// fencedInbox is fencedOffsets on a store that keeps an inbox (Redis): the
// updates the poller takes are kept there, with its offset, until their
// events are judged, for the next poller if this one is killed first.
type fencedInbox struct{ *fencedOffsets }

var _ telegram.Inbox = fencedInbox{}

// Keep is Commit, with the updates taken kept in the job's inbox in the
// same write, when the store keeps one (Redis).
func (o fencedInbox) Keep(ctx context.Context, offset int, taken []telegram.Taken) (bool, int, error) {
	items := make([]store.InboxItem, len(taken))
	for i, t := range taken {
		items[i] = store.InboxItem{ID: int64(t.ID), Data: t.Raw, Taken: t.At}
	}
	dropped, err := o.f.AdvanceKeeping(ctx, "offset", int64(offset), items, telegram.MaxInbox)
	switch {
	case err == nil:
		o.failing = false
		return true, dropped, nil
	case errors.Is(err, ErrFenced):
		return false, 0, err
	case errors.Is(err, errNoInbox):
		// The memory store: the process is alone, and what it holds dies
		// with it; the offset alone is kept.
		return false, 0, o.Commit(ctx, offset)
	}
	if !o.failing {
		o.log.Warn("the poller's offset and inbox are not written: the store does not answer; polling goes on, the updates taken meanwhile kept in this process only", "err", err)
	}
	o.failing = true
	return false, 0, nil
}

// Left returns the updates in the job's inbox.
func (o fencedInbox) Left(ctx context.Context) ([]telegram.Taken, error) {
	items, err := o.f.Inbox(ctx)
	if errors.Is(err, errNoInbox) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	taken := make([]telegram.Taken, len(items))
	for i, it := range items {
		taken[i] = telegram.Taken{ID: int(it.ID), Raw: it.Data, At: it.Taken, HandedOn: it.HandedOn}
	}
	return taken, nil
}

// Finished removes ids from the job's inbox.
func (o fencedInbox) Finished(ctx context.Context, ids []int) error {
	n := make([]int64, len(ids))
	for i, id := range ids {
		n[i] = int64(id)
	}
	err := o.f.RemoveFromInbox(ctx, n)
	if errors.Is(err, errNoInbox) {
		return nil
	}
	return err
}

// HandingOn counts a hand-on for the updates of ids in the job's inbox.
func (o fencedInbox) HandingOn(ctx context.Context, ids []int, now time.Time) error {
	n := make([]int64, len(ids))
	for i, id := range ids {
		n[i] = int64(id)
	}
	err := o.f.HandingOn(ctx, n, now)
	if errors.Is(err, errNoInbox) {
		return nil
	}
	return err
}

// Released marks the updates of ids in the job's inbox as left there by a
// clean stop.
func (o fencedInbox) Released(ctx context.Context, ids []int) error {
	n := make([]int64, len(ids))
	for i, id := range ids {
		n[i] = int64(id)
	}
	err := o.f.ReleaseInbox(ctx, n)
	if errors.Is(err, errNoInbox) {
		return nil
	}
	return err
}

// deskChat reads desk.telegram_chat: empty is no desk chat.
func deskChat(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("desk.telegram_chat %q: want a chat id, like -1001234567890", s)
	}
	return n, nil
}

var errNoDeskChat = &bot.ActionError{Op: "desk", Err: fmt.Errorf("%w chat: set desk.telegram_chat in the rule file", handlers.ErrNoDesk)}

// topicKeeper is st's keeper of forum topics' names, nil when it keeps none.
func topicKeeper(st store.Store) store.TopicKeeper {
	if k, ok := st.(store.TopicKeeper); ok {
		return k
	}
	return nil
}
