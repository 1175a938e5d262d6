package telegram

import (
	"sync"
)

// The places vigie moderates on Telegram: the groups of the allowlist
// (Config.Chats), or every group when it is empty. The desk chat is the desk's,
// and private chats are people talking to vigie; neither is filtered here.

// group is the group chat an update comes from, and what kind of update it is;
// ok is false for private chats, channels and updates without a chat.
func (u update) group() (chat int64, kind string, ok bool) {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		chat, kind, ok = u.Message.Chat.ID, "message", u.Message.Chat.IsGroup() || u.Message.Chat.IsSuperGroup()
		if ok && u.Message.IsCommand() {
			kind = "command"
		}
	case u.EditedMessage != nil && u.EditedMessage.Chat != nil:
		chat, kind, ok = u.EditedMessage.Chat.ID, "edit", u.EditedMessage.Chat.IsGroup() || u.EditedMessage.Chat.IsSuperGroup()
	case u.ChatMember != nil:
		chat, kind, ok = u.ChatMember.Chat.ID, "member", u.ChatMember.Chat.IsGroup() || u.ChatMember.Chat.IsSuperGroup()
	}
	return chat, kind, ok
}

// moderates reports whether vigie moderates the group chat.
func (c *Client) moderates(chat int64) bool {
	d := c.desk.Load()
	desk := c.deskChat()
	return len(d.chats) == 0 || d.chats[chat] || d.chats[c.moved.origin(chat)] || (desk != 0 && chat == desk)
}

// foreign counts an update from a group vigie does not moderate, and says so
// once per chat.
func (c *Client) foreign(chat int64, kind string, u update) {
	c.metrics.foreign.WithLabelValues(kind).Inc()
	if !c.foreignSeen.first(chat) {
		return
	}
	title := ""
	switch {
	case u.Message != nil:
		title = u.Message.Chat.Title
	case u.EditedMessage != nil:
		title = u.EditedMessage.Chat.Title
	case u.ChatMember != nil:
		title = u.ChatMember.Chat.Title
	}
	c.log.Warn("ignoring a chat vigie does not moderate (TELEGRAM_CHATS, desk.telegram_chats)",
		"audit", true, "chat", chat, "title", title, "kind", kind)
}

// onceSet remembers up to max chats, for logging things once each.
type onceSet struct {
	mu   sync.Mutex
	max  int
	seen map[int64]bool
}

func newOnceSet(max int) *onceSet { return &onceSet{max: max, seen: make(map[int64]bool)} }

// first reports whether chat was never seen; past max chats it stops
// remembering, and says false.
func (s *onceSet) first(chat int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[chat] || len(s.seen) >= s.max {
		return false
	}
	s.seen[chat] = true
	return true
}
