package telegram

import (
	"fmt"
	"slices"
	"sync"

	"github.com/vigie-bot/vigie/bot"
)

// troubles keeps, by chat, what vigie cannot do there, as Telegram last told
// it (my_chat_member) or answered at start (getChatMember): for the health
// page, which the CMs read rather than the log.
type troubles struct {
	mu     sync.Mutex
	chats  map[int64]string
	titles map[int64]string
}

// set records chat's trouble, or that it has none ("").
func (t *troubles) set(chat int64, title, trouble string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.chats == nil {
		t.chats, t.titles = map[int64]string{}, map[int64]string{}
	}
	if title != "" {
		t.titles[chat] = title
	}
	if trouble == "" {
		delete(t.chats, chat)
		return
	}
	t.chats[chat] = trouble
}

var _ bot.Troubler = (*Client)(nil)

// Troubles lists, sorted, the chats where vigie cannot do its work: removed,
// no administrator, or one without a right its actions need; of those it
// still moderates, or that are a desk; another program polling with
// vigie's token for more than conflictTell; and a webhook Telegram no
// longer sends to, or cannot deliver to (CheckWebhook).
func (c *Client) Troubles() []string {
	t := &c.troubles
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.chats))
	for chat, trouble := range t.chats {
		if !c.moderates(chat) && !c.inDesk(chat) {
			continue // no longer vigie's to look after: a reload took it out
		}
		place := itoa(chat)
		if title := t.titles[chat]; title != "" {
			place = fmt.Sprintf("%q (%d)", title, chat)
		}
		out = append(out, fmt.Sprintf("telegram chat %s: %s", place, trouble))
	}
	if p := c.conflicts.trouble(); p != "" {
		out = append(out, p)
	}
	c.hookWatch.mu.Lock()
	if p := c.hookWatch.trouble; p != "" {
		out = append(out, p)
	}
	c.hookWatch.mu.Unlock()
	slices.Sort(out)
	return out
}
