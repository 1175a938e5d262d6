package telegram

import (
	"context"
	"fmt"
	"sync"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// The places vigie moderates on Telegram: the groups of the allowlist
// (Config.Chats) or, when it is empty, the groups a CM of desk.cms owns (their
// creator, as getChatAdministrators says), as Discord's connector takes the
// servers a CM owns. Anyone may add a bot to a group of their own: without
// this, a stranger's group would be moderated, and could make vigie post to
// the desk. Being one of a group's administrators is not enough: by
// Telegram's default privacy settings anyone may add a CM to their group and
// promote them there. Making them its owner takes Telegram's ownership
// transfer, behind the owner's two-step verification; a chat list closes even
// that way. The desk chat is the desk's, and private chats are people talking
// to vigie; neither is filtered here.

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
		return c.cmOwns(chat)
	}
	return d.chats[chat] || d.chats[c.moved.origin(chat)]
}

// cmOwns reports whether a CM of desk.cms owns chat (status "creator"), as
// the last admin list known says, with the ownership changes heard since
// (chat_member updates); a chat never listed since the start is not owned
// (awaitModeration has its messages wait for the list). An anonymous owner is
// still named in the list.
func (c *Client) cmOwns(chat int64) bool {
	for cm := range c.desk.Load().cms {
		if status, _ := c.adminStatus(chat, cm); status == "creator" {
			return true
		}
	}
	return false
}

// awaitModeration waits, when chat's moderation hangs on an admin list vigie
// does not have yet (no chat list: a group is moderated when a CM owns it),
// for the lookup of that list, so that the first message of a CM's group
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
	c.log.Warn("ignoring a chat vigie does not moderate: to moderate it, put its id in TELEGRAM_CHATS (desk.telegram_chats)"+c.orCMOwner()+c.orDeskChat(),
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

// addedBy handles vigie being added to a group it does not moderate (not
// listed, or, with no list, not one a CM owns). Added by someone who is not a
// CM, vigie leaves it and tells the desk, once per group. Added by a CM, it
// stays, unmoderated, and says so once per group, in the log and the desk
// chat: a CM may add vigie ahead of listing the group, and a group they only
// administer is not theirs to have moderated. With neither a chat list nor a
// CM (the first run), vigie stays and only logs: the person setting it up
// reads the group's id there.
func (c *Client) addedBy(mc *tgbotapi.ChatMemberUpdated) {
	chat, d := mc.Chat.ID, c.desk.Load()
	by := fmt.Sprintf("telegram:%d", mc.From.ID)
	log := c.log.With("audit", true, "chat", chat, "title", mc.Chat.Title, "by", by)
	fromCM := d.cms[mc.From.ID]
	switch {
	case c.inDesk(chat) || d.chats[chat] || d.chats[c.moved.origin(chat)]:
		return
	case len(d.cms) == 0 && len(d.chats) == 0:
		log.Warn("vigie was added to a group it does not moderate: to moderate it, put its id in TELEGRAM_CHATS (desk.telegram_chats)" + c.orCMOwner() + c.orDeskChat())
		return
	case fromCM && len(d.chats) != 0:
		log.Warn("a CM added vigie to a group that is not in the chat list: it is not moderated until its id is in TELEGRAM_CHATS (desk.telegram_chats)")
		return
	}
	place := mc.Chat.Title
	if place == "" {
		place = itoa(chat)
	}
	c.tell(func(ctx context.Context) {
		if len(d.chats) == 0 {
			// A CM may own the group someone else added vigie to:
			// Telegram's list now says.
			c.lookupAdmins(ctx, chat)
			if c.cmOwns(chat) {
				return
			}
		}
		if fromCM {
			if _, known := c.admins.peek(chat, 0); !known {
				// The lookup failed, and said so; the group's messages
				// wait for a list, and one that shows no CM owns it is
				// logged then (foreign).
				return
			}
			if !c.cmAddedTold.first(chat) {
				return
			}
			log.Warn("a CM added vigie to a group no CM owns: it is not moderated until its id is in TELEGRAM_CHATS (desk.telegram_chats)")
			desk := c.deskChat()
			if desk == 0 {
				return
			}
			text := fmt.Sprintf("ℹ️ %s (%s) added vigie to the group %s (id %d), which no CM owns: it is not moderated until its id is in TELEGRAM_CHATS (desk.telegram_chats).",
				shownName(fullName(&mc.From), maxPersonShown), by, shownName(place, maxTitleShown), chat)
			if _, err := c.sendMessage(ctx, bot.ActAlert, outgoing{chat: desk, text: text}); err != nil {
				log.Warn("the desk chat was not told that a group a CM added vigie to is not moderated", "err", err)
			}
			return
		}
		if _, err := c.call(ctx, "", "leaveChat", tgbotapi.Params{"chat_id": itoa(chat)}); err != nil {
			log.Warn("vigie was added to a group it does not moderate by someone who is not a CM, and could not leave it", "err", err)
			return
		}
		log.Warn("vigie left a group it was added to by someone who is not a CM: to moderate it, put its id in TELEGRAM_CHATS (desk.telegram_chats)" + c.orCMOwner() + ", then add vigie again")
		desk := c.deskChat()
		if desk == 0 || !c.leftTold.first(chat) {
			return
		}
		text := fmt.Sprintf("🚪 vigie was added to the group %s (id %d) by %s (%s), who is not a CM, and left it. To moderate it, put its id in TELEGRAM_CHATS (desk.telegram_chats)%s, then add vigie again.",
			shownName(place, maxTitleShown), chat, shownName(fullName(&mc.From), maxPersonShown), by, c.orCMOwner())
		if _, err := c.sendMessage(ctx, bot.ActAlert, outgoing{chat: desk, text: text}); err != nil {
			log.Warn("the desk chat was not told that vigie left a group", "err", err)
		}
	}, "chat", chat)
}

// orCMOwner is the other way to have a group moderated, when there is one: a
// CM owns it. With no CM yet (the starter pack's desk.cms is empty), the one
// to name is its owner.
func (c *Client) orCMOwner() string {
	d := c.desk.Load()
	switch {
	case len(d.chats) != 0:
		return ""
	case len(d.cms) == 0:
		return ", or name its owner as a CM in desk.cms"
	}
	return ", or make a CM of desk.cms its owner"
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
