package telegram

import (
	"context"
	"fmt"
	"sync"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// The places vigie moderates on Telegram: the groups of the allowlist
// (Config.Chats) or, when it is empty, the groups where a CM of desk.cms is an
// administrator (creator included), as getChatAdministrators says. Anyone may
// add a bot to a group of their own: without this, a stranger's group would be
// moderated, and could make vigie post to the desk. The desk chat is the
// desk's, and private chats are people talking to vigie; neither is filtered
// here.

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
	if desk != 0 && chat == desk {
		return true
	}
	if len(d.chats) == 0 {
		return c.cmAdministers(chat)
	}
	return d.chats[chat] || d.chats[c.moved.origin(chat)]
}

// cmAdministers reports whether a CM of desk.cms is an administrator of chat,
// as the last admin list known says; a chat never listed since the start is
// not (awaitModeration has its messages wait for the list).
func (c *Client) cmAdministers(chat int64) bool {
	for cm := range c.desk.Load().cms {
		if status, _ := c.adminStatus(chat, cm); status != "" {
			return true
		}
	}
	return false
}

// awaitModeration waits, when chat's moderation hangs on an admin list vigie
// does not have yet (no chat list: a group is moderated when a CM administers
// it), for the lookup of that list, so that the first message of a CM's group
// after a start is judged, not dropped. It waits at most once per chat and
// start, for one lookup (adminCallTimeout); while lookups fail, the chat's
// messages are not moderated: a group is not taken for a CM's on no evidence.
func (c *Client) awaitModeration(ctx context.Context, chat int64) {
	if !c.listUnknown(chat) {
		return
	}
	_, known, due := c.admins.get(chat, 0)
	switch {
	case due:
		c.lookupAdmins(ctx, chat)
	case !known:
		if w := c.admins.flight(chat); w != nil {
			select {
			case <-w:
			case <-ctx.Done():
			}
		}
	}
}

// listUnknown reports whether chat is a group whose moderation is not yet
// known: no chat list, and its admin list not had yet.
func (c *Client) listUnknown(chat int64) bool {
	d := c.desk.Load()
	if len(d.chats) != 0 || len(d.cms) == 0 {
		return false
	}
	_, known := c.admins.peek(chat, 0)
	return !known
}

// foreign counts an update from a group vigie does not moderate, and says so
// once per chat.
func (c *Client) foreign(chat int64, kind string, u update) {
	c.metrics.foreign.WithLabelValues(kind).Inc()
	if c.listUnknown(chat) || !c.foreignSeen.first(chat) {
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
	c.log.Warn("ignoring a chat vigie does not moderate: to moderate it, put its id in TELEGRAM_CHATS (desk.telegram_chats)"+c.orCMAdmin()+c.orDeskChat(),
		"audit", true, "chat", chat, "title", title, "kind", kind)
}

// addedToGroup reports whether mc says vigie was just added to a group.
func addedToGroup(mc *tgbotapi.ChatMemberUpdated) bool {
	if !mc.Chat.IsGroup() && !mc.Chat.IsSuperGroup() {
		return false
	}
	switch mc.OldChatMember.Status {
	case "left", "kicked":
	default:
		return false
	}
	switch mc.NewChatMember.Status {
	case "member", "administrator", "restricted":
		return true
	}
	return false
}

// addedBy leaves a group vigie was added to by someone who is not a CM, when
// it is not a group vigie moderates (listed, or, with no list, one a CM
// administers), and tells the desk, once per group. With neither a chat list
// nor a CM (the first run), vigie stays and only logs: the person setting it
// up reads the group's id there.
func (c *Client) addedBy(mc *tgbotapi.ChatMemberUpdated) {
	chat, d := mc.Chat.ID, c.desk.Load()
	by := fmt.Sprintf("telegram:%d", mc.From.ID)
	log := c.log.With("audit", true, "chat", chat, "title", mc.Chat.Title, "by", by)
	switch {
	case c.inDesk(chat) || d.chats[chat] || d.chats[c.moved.origin(chat)]:
		return
	case len(d.cms) == 0 && len(d.chats) == 0:
		log.Warn("vigie was added to a group it does not moderate: to moderate it, put its id in TELEGRAM_CHATS (desk.telegram_chats), or name a CM in desk.cms and make them one of its administrators" + c.orDeskChat())
		return
	case d.cms[mc.From.ID]:
		if len(d.chats) != 0 {
			log.Warn("a CM added vigie to a group that is not in the chat list: it is not moderated until its id is in TELEGRAM_CHATS (desk.telegram_chats)")
		}
		return
	}
	c.tell(func(ctx context.Context) {
		if len(d.chats) == 0 {
			// A CM may administer the group another admin added vigie to:
			// Telegram's list now says.
			c.lookupAdmins(ctx, chat)
			if c.cmAdministers(chat) {
				return
			}
		}
		if _, err := c.call(ctx, "", "leaveChat", tgbotapi.Params{"chat_id": itoa(chat)}); err != nil {
			log.Warn("vigie was added to a group it does not moderate by someone who is not a CM, and could not leave it", "err", err)
			return
		}
		log.Warn("vigie left a group it was added to by someone who is not a CM: to moderate it, put its id in TELEGRAM_CHATS (desk.telegram_chats)" + c.orCMAdmin() + ", then add vigie again")
		desk := c.deskChat()
		if desk == 0 || !c.leftTold.first(chat) {
			return
		}
		place := mc.Chat.Title
		if place == "" {
			place = itoa(chat)
		}
		text := fmt.Sprintf("🚪 vigie was added to the group %s (id %d) by %s (%s), who is not a CM, and left it. To moderate it, put its id in TELEGRAM_CHATS (desk.telegram_chats)%s, then add vigie again.",
			bot.IsolateBidi(place), chat, bot.IsolateBidi(fullName(&mc.From)), by, c.orCMAdmin())
		if _, err := c.sendMessage(ctx, bot.ActAlert, outgoing{chat: desk, text: text}); err != nil {
			log.Warn("the desk chat was not told that vigie left a group", "err", err)
		}
	}, "chat", chat)
}

// orCMAdmin is the other way to have a group moderated, when there is one.
// With no CM yet (the starter pack's desk.cms is empty), the group's own
// administrators are no CMs: one has to be named first.
func (c *Client) orCMAdmin() string {
	d := c.desk.Load()
	switch {
	case len(d.chats) != 0:
		return ""
	case len(d.cms) == 0:
		return ", or name a CM in desk.cms and make them one of its administrators"
	}
	return ", or make a CM of desk.cms one of its administrators"
}

// orDeskChat tells, while no desk chat is set, where the id of the group
// meant for the CMs goes: the first group a newcomer adds vigie to is often
// that one, and listed as a group to moderate it would be moderated as one.
func (c *Client) orDeskChat() string {
	if c.deskChat() != 0 {
		return ""
	}
	return "; if it is the CMs' desk chat, put its id in desk.telegram_chat instead (VIGIE_DESK_CHAT in the starter pack)"
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
