package telegram

import (
	"context"
	"errors"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// A basic group that becomes a supergroup (Telegram does it when a group
// grows, or an admin turns on some settings, at any hour) takes a new chat
// id, and the old one refuses every call with migrate_to_chat_id. vigie
// follows the group to its new id: the desk's cards, alerts and pages go
// there, commands and buttons from there are the desk's, and a moderated
// group stays moderated, until the configuration names the new id (logged
// once, with the setting to change).
//
// Telegram tells of the move once, by a service message in each chat, to
// the one process that takes that update. A vigie started afterwards with
// the old ids, or another instance behind the same webhook, learns it by
// asking: at start, and when an update comes from a supergroup it does not
// know (the first update of each, then one a minute), it asks Telegram about the
// basic groups the configuration names (getChat), and an old id answers
// with the new.

// migrations are the groups that moved while this process ran.
type migrations struct {
	mu   sync.RWMutex
	to   map[int64]int64 // old id → new id
	from map[int64]int64 // new id → old id
	// seen are the supergroups vigie did not know whose updates made it
	// ask whether the named basic groups moved; lastAsked is when one last
	// did.
	seen      map[int64]bool
	lastAsked time.Time
	now       func() time.Time
}

func newMigrations(now func() time.Time) *migrations {
	return &migrations{to: make(map[int64]int64), from: make(map[int64]int64), seen: make(map[int64]bool), now: now}
}

// askGap is how often the updates of supergroups vigie does not know, past
// the first of each, make it ask whether the named basic groups moved, at
// most; askTimeout bounds each question; maxSeen bounds the supergroups
// remembered.
const (
	askGap     = time.Minute
	askTimeout = 5 * time.Second
	maxSeen    = 10000
)

// dueFor reports whether an update from chat, a supergroup vigie does not
// know, is to make it ask now, and if so records that it does: the first
// update of each such chat does (a group that just moved has a new id, and
// its first message is judged), later ones once per askGap in all.
func (m *migrations) dueFor(chat int64) bool {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.seen[chat] && len(m.seen) < maxSeen {
		m.seen[chat] = true
		m.lastAsked = now
		return true
	}
	if now.Sub(m.lastAsked) < askGap {
		return false
	}
	m.lastAsked = now
	return true
}

// moved reports whether chat is known to have moved.
func (m *migrations) moved(chat int64) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.to[chat]
	return ok
}

// follow is where chat is now.
func (m *migrations) follow(chat int64) int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if to, ok := m.to[chat]; ok {
		return to
	}
	return chat
}

// origin is the id chat had before it moved, chat itself when it did not.
func (m *migrations) origin(chat int64) int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if from, ok := m.from[chat]; ok {
		return from
	}
	return chat
}

// add records that old is now to, and reports whether it was news.
func (m *migrations) add(old, to int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old == 0 || to == 0 || old == to || m.to[old] == to {
		return false
	}
	m.to[old], m.from[to] = to, old
	return true
}

// chatMoved records that the group old is now the supergroup to, and says
// which setting should name it, once.
func (c *Client) chatMoved(old, to int64) {
	if !c.moved.add(old, to) {
		return
	}
	desk := c.desk.Load()
	var what, setting string
	switch {
	case desk.chat == old:
		what, setting = "the desk chat", "VIGIE_DESK_CHAT (desk.telegram_chat)"
	case c.communityDesk(old):
		what, setting = "a community's desk chat", "the community's desk in the rule file"
	case desk.chats[old]:
		what, setting = "a moderated group", "TELEGRAM_CHATS (desk.telegram_chats)"
	default:
		c.log.Info("a group became a supergroup", "chat", old, "new_chat", to)
		return
	}
	c.log.Warn(what+" became a supergroup with a new id: vigie follows it (and asks Telegram again at each start); write the new id in "+setting,
		"audit", true, "chat", old, "new_chat", to)
}

// noteMigration learns a move from the service messages Telegram posts in
// both chats.
func (c *Client) noteMigration(m *tgbotapi.Message) {
	switch {
	case m == nil || m.Chat == nil:
	case m.MigrateToChatID != 0:
		c.chatMoved(m.Chat.ID, m.MigrateToChatID)
	case m.MigrateFromChatID != 0:
		c.chatMoved(m.MigrateFromChatID, m.Chat.ID)
	}
}

// migratedTo is the new id of the chat a call was refused for, 0 when the
// refusal was not a move.
func migratedTo(err error) int64 {
	var e *APIError
	if errors.As(err, &e) {
		return e.MigrateTo
	}
	return 0
}

func (c *Client) communityDesk(chat int64) bool {
	set := c.communityDesks.Load()
	return set != nil && chat != 0 && (*set)[chat]
}

// basicGroup reports whether id is a basic group's: the ids of supergroups
// and channels begin with -100, and only a basic group moves.
func basicGroup(id int64) bool { return id < 0 && id > -1_000_000_000_000 }

// namedBasicGroups are the basic groups the configuration names: the desk
// chat, the communities' desk chats, the moderated groups.
func (c *Client) namedBasicGroups() []int64 {
	desk := c.desk.Load()
	var out []int64
	add := func(chat int64) {
		if basicGroup(chat) {
			out = append(out, chat)
		}
	}
	add(desk.chat)
	for chat := range desk.chats {
		add(chat)
	}
	if set := c.communityDesks.Load(); set != nil {
		for chat := range *set {
			add(chat)
		}
	}
	return out
}

// askMoves asks Telegram whether the basic groups the configuration names
// moved, and follows those that did.
func (c *Client) askMoves(ctx context.Context) {
	for _, chat := range c.namedBasicGroups() {
		if ctx.Err() != nil || c.moved.moved(chat) {
			continue
		}
		actx, cancel := context.WithTimeout(ctx, askTimeout)
		_, err := c.call(actx, "", "getChat", tgbotapi.Params{"chat_id": itoa(chat)})
		cancel()
		if to := migratedTo(err); to != 0 {
			c.chatMoved(chat, to)
		} else if err != nil {
			c.log.Debug("could not ask whether a group moved", "chat", chat, "err", err)
		}
	}
}

// learnMoveFor asks whether a named basic group moved when u comes from a
// supergroup vigie does not know: it may be where one of them went. The
// first update of each such chat asks, so that a moved group's first message
// is judged; later ones once per askGap in all.
func (c *Client) learnMoveFor(ctx context.Context, u update) {
	chat := updateChat(u)
	if basicGroup(chat) || chat >= 0 || c.inDesk(chat) {
		return
	}
	if d := c.desk.Load(); len(d.chats) > 0 && (d.chats[chat] || d.chats[c.moved.origin(chat)]) {
		return
	}
	if len(c.namedBasicGroups()) == 0 || !c.moved.dueFor(chat) {
		return
	}
	c.askMoves(ctx)
}

// updateChat is the chat u comes from, 0 when it names none.
func updateChat(u update) int64 {
	var chat *tgbotapi.Chat
	switch {
	case u.Message != nil:
		chat = u.Message.Chat
	case u.EditedMessage != nil:
		chat = u.EditedMessage.Chat
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		chat = u.CallbackQuery.Message.Chat
	case u.ChatMember != nil:
		chat = &u.ChatMember.Chat
	case u.MyChatMember != nil:
		chat = &u.MyChatMember.Chat
	}
	if chat == nil {
		return 0
	}
	return chat.ID
}
