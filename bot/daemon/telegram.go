package daemon

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/telegram"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
)

// telegramConnector is the Telegram bot: groups in, moderation out, and the CMs'
// desk, whose chat and CMs come from the rule file's desk: section.
func telegramConnector(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer) (Connector, error) {
	chat, err := deskChat(rs.Desk.TelegramChat)
	if err != nil {
		return Connector{}, err
	}
	envChats := strings.Split(cfg.Getenv("TELEGRAM_CHATS"), ",")
	// The rule file's list, when it has one, replaces TELEGRAM_CHATS.
	chats := func(rs *rules.Ruleset) ([]int64, error) {
		list := rs.Desk.TelegramChats
		if len(list) == 0 {
			list = envChats
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
		Logger:        cfg.Logger,
		Registerer:    reg,
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
		Source:    tg,
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
			if err := tg.SetDesk(chat, rs.Desk.CMs, moderated); err != nil {
				return err
			}
			desk.set.Store(chat != 0)
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

var errNoDeskChat = &bot.ActionError{Op: "desk", Err: fmt.Errorf("%w chat: set desk.telegram_chat in the rule file", handlers.ErrNoDesk)}
