package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
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
func telegramConnector(cfg Config, rs *rules.Ruleset, _ prometheus.Registerer) (Connector, error) {
	chat, err := deskChat(rs.Desk.TelegramChat)
	if err != nil {
		return Connector{}, err
	}
	mode := telegram.Mode(cfg.Getenv("TELEGRAM_MODE"))
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
		Mode:          mode,
		WebhookURL:    cfg.Getenv("TELEGRAM_WEBHOOK_URL"),
		WebhookSecret: cfg.Getenv("TELEGRAM_WEBHOOK_SECRET"),
		Logger:        cfg.Logger,
	})
	if err != nil {
		return Connector{}, err
	}
	// The desk needs the commands, which need the handlers, which need the desk:
	// the commands are attached once the handlers exist, before anything runs.
	cmds := &telegramCommands{}
	desk := &telegramDesk{d: tg.Desk(cmds)}
	desk.chat.Store(chat)
	c := Connector{
		Name:      "telegram",
		Source:    tg,
		Platforms: []bot.Platform{tg},
		Desk:      desk,
		Attach:    func(c *handlers.Commands) { cmds.c = c },
		OnRules: func(rs *rules.Ruleset) error {
			chat, err := deskChat(rs.Desk.TelegramChat)
			if err != nil {
				return err
			}
			if err := tg.SetDesk(chat, rs.Desk.CMs); err != nil {
				return err
			}
			desk.chat.Store(chat)
			return nil
		},
	}
	if mode == telegram.ModeWebhook {
		c.Routes = map[string]http.Handler{"POST /webhooks/telegram": tg.WebhookHandler()}
	}
	return c, nil
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

// telegramDesk shows cases and alerts in the desk chat.
type telegramDesk struct {
	d    *telegram.Desk
	chat atomic.Int64
}

var errNoDeskChat = &bot.ActionError{Op: "desk", Err: errors.New("no desk chat: set desk.telegram_chat in the rule file")}

func (t *telegramDesk) PostCase(ctx context.Context, c store.Case) error {
	if t.chat.Load() == 0 {
		return errNoDeskChat
	}
	return t.d.PostCard(ctx, cardOf(c))
}

func (t *telegramDesk) Alert(ctx context.Context, text string) error {
	if t.chat.Load() == 0 {
		return errNoDeskChat
	}
	return t.d.Alert(ctx, text)
}

// telegramCommands answers the desk's buttons and commands with the handlers.
type telegramCommands struct {
	c *handlers.Commands
}

var _ telegram.Commands = (*telegramCommands)(nil)

func (t *telegramCommands) Decide(ctx context.Context, d telegram.Decision) (telegram.Card, error) {
	c, err := t.c.Decide(ctx, d.CaseID, d.String(), d.By)
	if errors.Is(err, store.ErrDecided) {
		err = fmt.Errorf("%w: %w", telegram.ErrDecided, err)
	}
	return cardOf(c), err
}

func (t *telegramCommands) Queue(ctx context.Context) ([]telegram.Card, error) {
	cases, err := t.c.Queue(ctx)
	if err != nil {
		return nil, err
	}
	cards := make([]telegram.Card, len(cases))
	for i, c := range cases {
		cards[i] = cardOf(c)
	}
	return cards, nil
}

func (t *telegramCommands) Status(ctx context.Context) (string, error) { return t.c.Status(ctx) }
func (t *telegramCommands) Pause(ctx context.Context, d time.Duration, by string) (string, error) {
	return t.c.Pause(ctx, d, by)
}
func (t *telegramCommands) Resume(ctx context.Context, by string) (string, error) {
	return t.c.Resume(ctx, by)
}
func (t *telegramCommands) Stats(ctx context.Context, period time.Duration) (string, error) {
	return t.c.Stats(ctx, period)
}
func (t *telegramCommands) Rules(ctx context.Context) (string, error) { return t.c.Rules(ctx) }
func (t *telegramCommands) Reload(ctx context.Context, by string) (string, error) {
	return t.c.Reload(ctx, by)
}

func cardOf(c store.Case) telegram.Card {
	return telegram.Card{
		ID: c.ID, Opened: c.Opened, Event: c.Event, Rule: c.Rule, Category: c.Category,
		Reason: c.Reason, Suggested: c.Suggested, Outcome: c.Outcome,
		DecidedBy: c.DecidedBy, DecidedAt: c.DecidedAt,
	}
}
