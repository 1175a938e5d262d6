package telegram

import (
	"errors"
	"sync"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// A basic group that becomes a supergroup (Telegram does it when a group
// grows, or an admin turns on some settings, at any hour) takes a new chat
// id, and the old one refuses every call with migrate_to_chat_id. vigie
// follows the group to its new id: the desk's cards, alerts and pages go
// there, commands and buttons from there are the desk's, and a moderated
// group stays moderated, until the configuration names the new id (logged
// once, with the setting to change).

// migrations are the groups that moved while this process ran.
type migrations struct {
	mu   sync.RWMutex
	to   map[int64]int64 // old id → new id
	from map[int64]int64 // new id → old id
}

func newMigrations() *migrations {
	return &migrations{to: make(map[int64]int64), from: make(map[int64]int64)}
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
	c.log.Warn(what+" became a supergroup with a new id: vigie follows it until restarted; write the new id in "+setting,
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
