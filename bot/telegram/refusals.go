package telegram

import (
	"context"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// A refusal is a courtesy: telling a stranger that a command is not theirs
// must not cost the CMs their desk. Each refused attempt is still audited,
// but the same person is told once per refusalGap in each chat, and a refusal
// waits for Telegram's limits refusalPatience at most: a refusal holds a
// place among the few desk workers (takecmd.go), and a stranger who sent
// /ban twenty times (or twenty strangers, once each) would otherwise hold
// them for minutes, booking the group's twenty messages a minute.
const (
	refusalGap      = 10 * time.Minute
	refusalPatience = 2 * time.Second
	maxRefused      = 10000
)

// refusals remembers when each refused person was last told so, in each
// chat they wrote in.
type refusals struct {
	now  func() time.Time
	mu   sync.Mutex
	told map[chatUser]time.Time
}

func newRefusals(now func() time.Time) *refusals {
	return &refusals{now: now, told: make(map[chatUser]time.Time)}
}

// first reports whether user, who wrote in chat, is to be told of a refusal
// now, and if so records that they were.
func (r *refusals) first(chat, user int64) bool {
	key := chatUser{chat: chat, user: user}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.told[key]; ok && now.Sub(at) < refusalGap {
		return false
	}
	if len(r.told) >= maxRefused {
		for id, at := range r.told {
			if now.Sub(at) >= refusalGap {
				delete(r.told, id)
			}
		}
		if len(r.told) >= maxRefused {
			// a raid of strangers: none more is told until some are forgotten
			return false
		}
	}
	r.told[key] = now
	return true
}

// tellRefused tells the sender of m, once per refusalGap, that what they
// asked is not theirs: in their private chat with vigie, or, when they never
// opened one (Telegram refuses), where they wrote. private false answers
// where they wrote only.
func (c *Client) tellRefused(ctx context.Context, m *tgbotapi.Message, thread int, text string, private bool) {
	if !c.refused.first(m.Chat.ID, m.From.ID) {
		return
	}
	if private && m.Chat.ID != m.From.ID {
		if _, err := c.sendMessage(ctx, "", outgoing{chat: m.From.ID, text: text, patience: refusalPatience}); err == nil {
			return
		}
	}
	out := outgoing{chat: m.Chat.ID, thread: thread, replyTo: m.MessageID, text: text, patience: refusalPatience}
	if _, err := c.sendMessage(ctx, "", out); err != nil {
		c.log.Info("a refusal was not sent", "chat", m.Chat.ID, "user", cmID(m.From), "err", err)
	}
}
