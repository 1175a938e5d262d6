package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// allowedUpdates are the update types vigie asks for. chat_member must be named
// explicitly: Telegram does not send it by default.
var allowedUpdates = []string{"message", "edited_message", "chat_member", "my_chat_member", "callback_query"}

// update is a Telegram update with what the library predates: forum topics,
// where a forward comes from (Bot API 7's forward_origin) and the service
// messages of later Bot APIs.
type update struct {
	tgbotapi.Update
	thread     int // message_thread_id of the message or edit, in forum topics
	topicReply bool
	// topicName is the name of the forum topic topicThread, when the update
	// shows it (topicFields); topicByReply says it is the name the topic was
	// created with, which a message of the topic answers.
	topicThread  int
	topicName    string
	topicByReply bool
	// origin is where the message or edit was forwarded from, nil when it
	// is not a forward.
	origin *messageOrigin
	// service says the message only records something happening in the chat.
	service bool
	// newOwner is the user a chat_owner_changed service message names the
	// chat's owner now; 0 for none.
	newOwner int64
	// ownerLeft says the message is chat_owner_left: the owner left the chat.
	ownerLeft bool
	// pressedCopy says the button of a callback query is on a forwarded copy
	// of vigie's message (its forward_origin), not on the message vigie sent.
	pressedCopy bool
	// handedOn says a poller before took the update and did not finish
	// with it (it was killed): handed on from the inbox, its work is done
	// here.
	handedOn bool
	// rich is what the message shows that the library does not decode.
	rich richFields
}

// messageOrigin is Bot API's MessageOrigin: a user, a hidden user, a chat or a channel.
type messageOrigin struct {
	Type           string         `json:"type"`
	SenderUser     *tgbotapi.User `json:"sender_user"`
	SenderUserName string         `json:"sender_user_name"`
	SenderChat     *tgbotapi.Chat `json:"sender_chat"`
	Chat           *tgbotapi.Chat `json:"chat"`
}

// name is who the origin is, as Telegram shows it ("Forwarded from …"), with
// the @username when there is one.
func (o *messageOrigin) name() string {
	var name, handle string
	switch {
	case o.SenderUser != nil:
		name, handle = fullName(o.SenderUser), o.SenderUser.UserName
	case o.SenderChat != nil:
		name, handle = o.SenderChat.Title, o.SenderChat.UserName
	case o.Chat != nil:
		name, handle = o.Chat.Title, o.Chat.UserName
	default:
		name = o.SenderUserName
	}
	if handle != "" && handle != name {
		return strings.TrimSpace(name + " @" + handle)
	}
	return name
}

// serviceFields are the fields of a service message (Bot API 10.1): a message
// holding one records something happening in the chat and is not judged.
// new_chat_members is read apart, as joins. A test checks the list against
// the Bot API's description; voice_chat_* are their names before Bot API 6.0.
var serviceFields = []string{
	"left_chat_member", "chat_owner_left", "chat_owner_changed", "new_chat_title", "new_chat_photo",
	"delete_chat_photo", "group_chat_created", "supergroup_chat_created", "channel_chat_created",
	"message_auto_delete_timer_changed", "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message",
	"successful_payment", "refunded_payment", "users_shared", "chat_shared", "gift", "unique_gift",
	"gift_upgrade_sent", "connected_website", "write_access_allowed", "passport_data",
	"proximity_alert_triggered", "boost_added", "chat_background_set", "checklist_tasks_done",
	"checklist_tasks_added", "direct_message_price_changed", "forum_topic_created", "forum_topic_edited",
	"forum_topic_closed", "forum_topic_reopened", "general_forum_topic_hidden", "general_forum_topic_unhidden",
	"giveaway_created", "giveaway_completed", "giveaway_winners", "managed_bot_created",
	"paid_message_price_changed", "poll_option_added", "poll_option_deleted", "suggested_post_approved",
	"suggested_post_approval_failed", "suggested_post_declined", "suggested_post_paid",
	"suggested_post_refunded", "video_chat_scheduled", "video_chat_started", "video_chat_ended",
	"video_chat_participants_invited", "web_app_data",
	"voice_chat_scheduled", "voice_chat_started", "voice_chat_ended", "voice_chat_participants_invited",
}

// The users Telegram puts in from for a message sent on behalf of a chat
// (Message.from: "for backward compatibility, if the message was sent on
// behalf of a chat, the field contains a fake sender user in non-channel
// chats").
var (
	channelBot        = tgbotapi.User{ID: 136817688, FirstName: "Channel", UserName: "Channel_Bot"}
	groupAnonymousBot = tgbotapi.User{ID: anonymousAdmin, IsBot: true, FirstName: "Group", UserName: "GroupAnonymousBot"}
)

// senderAsUser gives a message sent on behalf of a chat, and without from,
// the user Telegram puts there: from is optional in the Bot API's description,
// and the connector reads sender_chat, then from, as Telegram fills them.
func senderAsUser(m *tgbotapi.Message) {
	if m == nil || m.From != nil || m.SenderChat == nil || m.Chat == nil {
		return
	}
	u := channelBot
	if m.SenderChat.ID == m.Chat.ID {
		u = groupAnonymousBot
	}
	m.From = &u
}

// decodeUpdate reads one update as Telegram sends it.
func decodeUpdate(raw []byte) (update, error) {
	var u update
	if err := json.Unmarshal(raw, &u.Update); err != nil {
		return update{}, fmt.Errorf("decode update: %w", err)
	}
	senderAsUser(u.Message)
	senderAsUser(u.EditedMessage)
	var more struct {
		Message       map[string]json.RawMessage `json:"message"`
		EditedMessage map[string]json.RawMessage `json:"edited_message"`
		CallbackQuery struct {
			Message struct {
				ForwardOrigin json.RawMessage `json:"forward_origin"`
			} `json:"message"`
		} `json:"callback_query"`
	}
	// The same bytes decoded a moment ago: this cannot fail where the first did not.
	_ = json.Unmarshal(raw, &more)
	if u.CallbackQuery != nil {
		// Buttons keep working on a forwarded copy, whose date is its forward's.
		u.pressedCopy = len(more.CallbackQuery.Message.ForwardOrigin) > 0 && string(more.CallbackQuery.Message.ForwardOrigin) != "null"
		return u, nil
	}
	m := more.Message
	if m == nil {
		m = more.EditedMessage
	}
	if m == nil {
		return u, nil
	}
	var isTopic bool
	if json.Unmarshal(m["is_topic_message"], &isTopic) == nil && isTopic {
		_ = json.Unmarshal(m["message_thread_id"], &u.thread)
		u.topicReply = true
	}
	topicFields(&u, m)
	readRich(&u, m)
	if o, ok := m["forward_origin"]; ok {
		var origin messageOrigin
		if json.Unmarshal(o, &origin) == nil {
			u.origin = &origin
		}
	}
	for _, f := range serviceFields {
		if _, ok := m[f]; ok {
			u.service = true
			break
		}
	}
	_, u.ownerLeft = m["chat_owner_left"]
	if raw, ok := m["chat_owner_changed"]; ok {
		var changed struct {
			NewOwner tgbotapi.User `json:"new_owner"`
		}
		if json.Unmarshal(raw, &changed) == nil {
			u.newOwner = changed.NewOwner.ID
		}
	}
	return u, nil
}

// events turns a group update into vigie's neutral events. Updates that are not
// for moderation (the desk, the bot's own messages, service messages) give none.
func (c *Client) events(u update) []bot.Event {
	switch {
	case u.Message != nil:
		return c.messageEvents(u.Message, u, false)
	case u.EditedMessage != nil:
		return c.messageEvents(u.EditedMessage, u, true)
	case u.ChatMember != nil:
		if evs, ok := c.memberJoin(u.ChatMember); ok {
			return evs
		}
	}
	return nil
}

func (c *Client) messageEvents(m *tgbotapi.Message, u update, edited bool) []bot.Event {
	thread := u.thread
	if m.Chat == nil || m.Chat.IsChannel() || c.inDesk(m.Chat.ID) {
		return nil
	}
	selfID, _ := c.self()
	chat := m.Chat.ID
	if len(m.NewChatMembers) > 0 {
		var out []bot.Event
		at := time.Unix(int64(m.Date), 0).UTC()
		for _, u := range m.NewChatMembers {
			if u.ID == selfID {
				continue
			}
			if !c.members.joined(chat, u.ID, at) {
				continue // already seen as a chat_member update
			}
			join := bot.Event{
				ID:       fmt.Sprintf("%d:%d:%d", chat, m.MessageID, u.ID),
				Platform: Platform,
				Kind:     bot.KindJoin,
				Space:    itoa(chat),
				Channel:  itoa(chat),
				Author:   bot.Author{ID: itoa(u.ID), Name: fullName(&u), Username: u.UserName, Bot: u.IsBot, JoinedAt: at},
				At:       at,
				Link:     messageLink(m.Chat, m.MessageID),
			}
			out = append(out, join, c.profile(join, chat, &u))
		}
		return out
	}
	if m.From == nil || m.From.ID == selfID || u.service {
		return nil
	}
	ev := bot.Event{
		ID:       fmt.Sprintf("%d:%d", chat, m.MessageID),
		Platform: Platform,
		Kind:     bot.KindMessage,
		Space:    itoa(chat),
		Channel:  itoa(chat),
		Text:     m.Text,
		At:       time.Unix(int64(m.Date), 0).UTC(),
		Link:     messageLink(m.Chat, m.MessageID),
	}
	if ev.Text == "" {
		ev.Text = m.Caption
	}
	if ev.Text == "" {
		ev.Text = memberShownText(m, u.rich)
	}
	hidden := func(url string) {
		if url != "" && !slices.Contains(ev.HiddenLinks, url) && len(ev.HiddenLinks) < bot.MaxParts {
			ev.HiddenLinks = append(ev.HiddenLinks, url)
		}
	}
	for _, e := range slices.Concat(m.Entities, m.CaptionEntities, shownEntities(m, u.rich)) {
		if e.Type == "text_link" {
			hidden(e.URL)
		}
	}
	// A message posted through an inline bot may carry buttons, whose words
	// hide the address they open ("🎁 Claim").
	if k := m.ReplyMarkup; k != nil {
		for _, row := range k.InlineKeyboard {
			for _, b := range row {
				switch {
				case b.URL != nil:
					hidden(*b.URL)
				case b.LoginURL != nil:
					hidden(b.LoginURL.URL)
				}
			}
		}
	}
	if u.origin != nil {
		// What the member forwards is not what they wrote.
		// a title of 128 characters may be 512 bytes: cut to what an event holds
		ev.Forward = &bot.Forward{From: truncate(u.origin.name(), bot.MaxNameLen/4), Text: ev.Text}
		ev.Text = ""
	}
	if p := m.Poll; p != nil {
		ev.Poll = shownPoll(p, u.rich)
	}
	ev.Files = fileNames(m)
	if thread != 0 {
		ev.Thread = strconv.Itoa(thread)
	}
	if edited {
		// An edit is a new event for the same message: its id must differ from the
		// message's, or the store would drop it as a duplicate.
		ev.Kind = bot.KindEdit
		ev.At = time.Unix(int64(m.EditDate), 0).UTC()
		ev.ID = fmt.Sprintf("%d:%d:%d", chat, m.MessageID, m.EditDate)
	}
	if m.Chat.IsPrivate() {
		ev.Kind = bot.KindDM
		if edited {
			ev.Kind = bot.KindEdit
		}
	}
	if r := m.ReplyToMessage; r != nil && r.MessageID != thread {
		// In a forum topic every message "replies" to the topic's first message.
		ev.ReplyTo = fmt.Sprintf("%d:%d", chat, r.MessageID)
	}
	ev.Attachments = attachments(m)
	ev.Author = c.author(m)
	if m.SenderChat == nil && !m.Chat.IsPrivate() && c.names.changed(chat, m.From.ID, ev.Author.Name, ev.Author.Username) {
		// A member seen under other names than last time: the new ones are
		// judged before the message.
		return []bot.Event{c.profile(ev, chat, m.From), ev}
	}
	return []bot.Event{ev}
}

// profile is the profile event of u, who joined or changed names in chat: it
// carries from's author, space and time. Its id holds a digest of the names,
// so that the same names seen again are a duplicate the store drops.
func (c *Client) profile(from bot.Event, chat int64, u *tgbotapi.User) bot.Event {
	name, handle := fullName(u), u.UserName
	c.names.changed(chat, u.ID, name, handle)
	h := fnv.New64a()
	h.Write([]byte(name + "\x00" + handle))
	a := from.Author
	a.Name, a.Username = name, handle
	return bot.Event{
		ID:       fmt.Sprintf("%d:profile:%d:%x", chat, u.ID, h.Sum64()),
		Platform: Platform,
		Kind:     bot.KindProfile,
		Space:    from.Space,
		Channel:  from.Channel,
		Author:   a,
		At:       from.At,
	}
}

// fileNames are the names of m's files, as the sender gave them.
func fileNames(m *tgbotapi.Message) []string {
	var out []string
	if d := m.Document; d != nil && d.FileName != "" {
		out = append(out, d.FileName)
	}
	if v := m.Video; v != nil && v.FileName != "" {
		out = append(out, v.FileName)
	}
	if a := m.Animation; a != nil && a.FileName != "" {
		out = append(out, a.FileName)
	}
	if a := m.Audio; a != nil && a.FileName != "" {
		out = append(out, a.FileName)
	}
	if name := audioName(m.Audio); name != "" {
		out = append(out, name)
	}
	return out
}

// author describes who wrote m: a user, or a chat speaking as itself (anonymous
// admins, the linked channel, a channel). In a group, an author whose admin
// status cannot be known yet (see adminStatus) has RolesUnknown and no roles.
func (c *Client) author(m *tgbotapi.Message) bot.Author {
	if sc := m.SenderChat; sc != nil {
		a := bot.Author{ID: itoa(sc.ID), Name: sc.Title}
		switch {
		case sc.ID == m.Chat.ID:
			a.Roles, a.Staff = []string{"anonymous_admin"}, true
		case m.IsAutomaticForward:
			a.Roles, a.Staff = []string{"linked_channel"}, true
			c.linked.set(m.Chat.ID, sc.ID)
		case m.Chat.IsPrivate():
			a.Roles = []string{"channel"}
		default:
			// The linked channel's admins answer comments as the channel,
			// without is_automatic_forward: whether it is the linked one is
			// known from getChat, asked in the group's lane (ResolveRoles).
			switch linked, known := c.linked.get(m.Chat.ID); {
			case known && linked == sc.ID:
				a.Roles, a.Staff = []string{"linked_channel"}, true
			case known:
				a.Roles = []string{"channel"}
			default:
				a.RolesUnknown = true
			}
		}
		return a
	}
	u := m.From
	a := bot.Author{ID: itoa(u.ID), Name: fullName(u), Username: u.UserName, Bot: u.IsBot}
	if t, ok := c.members.joinedAt(m.Chat.ID, u.ID); ok {
		a.JoinedAt = t
	}
	if !m.Chat.IsPrivate() {
		status, known := c.adminStatus(m.Chat.ID, u.ID)
		a.Roles, a.Staff, a.RolesUnknown = memberRoles(status, known), status != "", !known
	}
	// The desk's CMs speak for the brand wherever they write: they are staff
	// whatever the chat's admin list says.
	if c.desk.Load().cms[u.ID] {
		a.Roles, a.Staff, a.RolesUnknown = append(a.Roles, "cm"), true, false
	}
	return a
}

// memberJoin reads a chat_member update: someone who was out is now in.
func (c *Client) memberJoin(cm *tgbotapi.ChatMemberUpdated) ([]bot.Event, bool) {
	if cm.NewChatMember.User == nil {
		return nil, false
	}
	if c.inDesk(cm.Chat.ID) {
		return nil, false
	}
	if isIn(cm.NewChatMember) && (isIn(cm.OldChatMember) || cm.OldChatMember.Status == "") {
		return nil, false
	}
	if !isIn(cm.NewChatMember) {
		return nil, false
	}
	u := cm.NewChatMember.User
	at := time.Unix(int64(cm.Date), 0).UTC()
	if !c.members.joined(cm.Chat.ID, u.ID, at) {
		return nil, false // already seen as a new_chat_members message
	}
	join := bot.Event{
		ID:       fmt.Sprintf("%d:join:%d:%d", cm.Chat.ID, u.ID, cm.Date),
		Platform: Platform,
		Kind:     bot.KindJoin,
		Space:    itoa(cm.Chat.ID),
		Channel:  itoa(cm.Chat.ID),
		Author:   bot.Author{ID: itoa(u.ID), Name: fullName(u), Username: u.UserName, Bot: u.IsBot, JoinedAt: at, Roles: []string{"member"}},
		At:       at,
	}
	return []bot.Event{join, c.profile(join, cm.Chat.ID, u)}, true
}

// memberUnbanned tells the handlers (bot.UnbanWatcher), on a desk worker, of
// a member unbanned in a group vigie moderates by someone else than vigie: a
// chat_member update from "kicked" to anything else (left, when unbanned;
// member, when added back), given by a moderator in Telegram's own app, for
// vigie to forget the ban's end it keeps and not lift a ban given by hand
// since. vigie's own unbans (its lifts, /unban, a kick) it knows of already.
func (c *Client) memberUnbanned(ctx context.Context, u update) {
	cm := u.ChatMember
	if cm == nil || cm.NewChatMember.User == nil || cm.OldChatMember.Status != "kicked" || cm.NewChatMember.Status == "kicked" ||
		c.inDesk(cm.Chat.ID) {
		return
	}
	self, _ := c.self()
	if cm.From.ID == self {
		return
	}
	w, ok := c.cmds().(bot.UnbanWatcher)
	if !ok {
		return
	}
	usr := cm.NewChatMember.User
	member := bot.Event{Platform: Platform, Space: itoa(cm.Chat.ID), Channel: itoa(cm.Chat.ID),
		Author: bot.Author{ID: itoa(usr.ID), Name: fullName(usr), Username: usr.UserName}}
	at, by := time.Unix(int64(cm.Date), 0).UTC(), ""
	// Who unbanned is named only when vigie knows its own id: named, the
	// unban is taken for none of vigie's.
	if cm.From.ID != 0 && self != 0 {
		by = Platform + ":" + itoa(cm.From.ID)
	}
	c.work.Go(ctx, func(ctx context.Context) { w.Unbanned(ctx, member, at, by) })
}

// adminChanged records a promotion, a demotion or an ownership transfer that
// a chat_member update tells, at once, without waiting for a lookup; in any
// group, before whether vigie moderates it is asked, since with no chat list
// that hangs on who owns it. So does the service message of a transfer
// (chat_owner_changed), the only word of it that a bot that is not one of
// the group's administrators gets: chat_member updates go to those only; and
// that of an owner who left (chat_owner_left).
// (The desk chat's admins are asked of Telegram at each press.)
func (c *Client) adminChanged(u update) {
	if m := u.Message; m != nil && m.Chat != nil && (m.Chat.IsGroup() || m.Chat.IsSuperGroup()) {
		switch {
		case u.newOwner != 0:
			c.admins.changed(m.Chat.ID, u.newOwner, "creator")
			return
		case u.ownerLeft:
			c.admins.ownerLeft(m.Chat.ID)
			return
		}
	}
	cm := u.ChatMember
	if cm == nil || cm.NewChatMember.User == nil || !isAdmin(cm.NewChatMember) && !isAdmin(cm.OldChatMember) {
		return
	}
	c.admins.changed(cm.Chat.ID, cm.NewChatMember.User.ID, cm.NewChatMember.Status)
}

func isAdmin(m tgbotapi.ChatMember) bool {
	return m.Status == "creator" || m.Status == "administrator"
}

func isIn(m tgbotapi.ChatMember) bool {
	switch m.Status {
	case "creator", "administrator", "member":
		return true
	case "restricted":
		return m.IsMember
	}
	return false
}

func attachments(m *tgbotapi.Message) int {
	n := 0
	for _, has := range []bool{len(m.Photo) > 0, m.Document != nil, m.Video != nil, m.Animation != nil,
		m.Audio != nil, m.Voice != nil, m.VideoNote != nil, m.Sticker != nil, m.Contact != nil,
		m.Location != nil, m.Poll != nil} {
		if has {
			n++
		}
	}
	return n
}

func fullName(u *tgbotapi.User) string {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" {
		name = u.UserName
	}
	return name
}

// messageLink is the t.me address of a message: public for a supergroup with a
// username, members-only (t.me/c/) for a private supergroup, none for basic groups.
func messageLink(chat *tgbotapi.Chat, msgID int) string {
	switch {
	case chat.UserName != "" && !chat.IsPrivate():
		return fmt.Sprintf("https://t.me/%s/%d", chat.UserName, msgID)
	case chat.IsSuperGroup() && chat.ID < -1000000000000:
		return fmt.Sprintf("https://t.me/c/%d/%d", -chat.ID-1000000000000, msgID)
	}
	return ""
}

// memberMemory remembers recent joins: the author's join time on later messages,
// and one join event where Telegram sends both a chat_member update and a
// new_chat_members message. Oldest entries go first when it is full.
type memberMemory struct {
	mu    sync.Mutex
	max   int
	at    map[[2]int64]time.Time
	order [][2]int64
}

func newMemberMemory(max int) *memberMemory {
	return &memberMemory{max: max, at: make(map[[2]int64]time.Time)}
}

// joined records a join and reports whether it is new (no join of the same user
// in the same chat within a minute).
func (m *memberMemory) joined(chat, user int64, at time.Time) bool {
	k := [2]int64{chat, user}
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.at[k]; ok && at.Sub(prev).Abs() < time.Minute {
		return false
	}
	if _, ok := m.at[k]; !ok {
		m.order = append(m.order, k)
		if len(m.order) > m.max {
			delete(m.at, m.order[0])
			m.order = m.order[1:]
		}
	}
	m.at[k] = at
	return true
}

func (m *memberMemory) joinedAt(chat, user int64) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.at[[2]int64{chat, user}]
	return t, ok
}

// nameMemory remembers the names members were last seen under, per chat, so
// that a change of names is judged. Oldest entries go first when it is full.
type nameMemory struct {
	mu    sync.Mutex
	max   int
	names map[[2]int64]string
	order [][2]int64
}

func newNameMemory(max int) *nameMemory {
	return &nameMemory{max: max, names: make(map[[2]int64]string)}
}

// changed records user's names in chat and reports whether they differ from
// the ones remembered; a member not remembered has not changed.
func (m *nameMemory) changed(chat, user int64, name, username string) bool {
	k, names := [2]int64{chat, user}, name+"\x00"+username
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, ok := m.names[k]
	if !ok {
		m.order = append(m.order, k)
		if len(m.order) > m.max {
			delete(m.names, m.order[0])
			m.order = m.order[1:]
		}
	}
	m.names[k] = names
	return ok && prev != names
}

// recentSet remembers the last n update ids: a webhook retry or a restart must
// not give the same update twice.
type recentSet struct {
	mu   sync.Mutex
	ids  map[int]bool
	ring []int
	next int
}

func newRecentSet(n int) *recentSet {
	return &recentSet{ids: make(map[int]bool, n), ring: make([]int, 0, n)}
}

// add records id and reports whether it was new.
func (s *recentSet) add(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids[id] {
		return false
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, id)
	} else {
		delete(s.ids, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % len(s.ring)
	}
	s.ids[id] = true
	return true
}

// remove forgets id, for an update that could not be handed over and will come again.
func (s *recentSet) remove(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids, id)
}
