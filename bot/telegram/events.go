package telegram

import (
	"encoding/json"
	"fmt"
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

// update is a Telegram update with the forum fields the library predates.
type update struct {
	tgbotapi.Update
	thread     int // message_thread_id of the message or edit, in forum topics
	topicReply bool
}

// decodeUpdate reads one update as Telegram sends it.
func decodeUpdate(raw []byte) (update, error) {
	var u update
	if err := json.Unmarshal(raw, &u.Update); err != nil {
		return update{}, fmt.Errorf("decode update: %w", err)
	}
	var forum struct {
		Message, EditedMessage *struct {
			Thread  int  `json:"message_thread_id"`
			IsTopic bool `json:"is_topic_message"`
		}
	}
	// The same bytes decoded a moment ago: this cannot fail where the first did not.
	_ = json.Unmarshal(raw, &forum)
	for _, m := range []*struct {
		Thread  int  `json:"message_thread_id"`
		IsTopic bool `json:"is_topic_message"`
	}{forum.Message, forum.EditedMessage} {
		if m != nil && m.IsTopic {
			u.thread, u.topicReply = m.Thread, true
		}
	}
	return u, nil
}

// events turns a group update into vigie's neutral events. Updates that are not
// for moderation (the desk, the bot's own messages, service messages) give none.
func (c *Client) events(u update) []bot.Event {
	switch {
	case u.Message != nil:
		return c.messageEvents(u.Message, u.thread, false)
	case u.EditedMessage != nil:
		return c.messageEvents(u.EditedMessage, u.thread, true)
	case u.ChatMember != nil:
		if ev, ok := c.memberJoin(u.ChatMember); ok {
			return []bot.Event{ev}
		}
	}
	return nil
}

func (c *Client) messageEvents(m *tgbotapi.Message, thread int, edited bool) []bot.Event {
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
			out = append(out, bot.Event{
				ID:       fmt.Sprintf("%d:%d:%d", chat, m.MessageID, u.ID),
				Platform: Platform,
				Kind:     bot.KindJoin,
				Space:    itoa(chat),
				Channel:  itoa(chat),
				Author:   bot.Author{ID: itoa(u.ID), Name: fullName(&u), Bot: u.IsBot, JoinedAt: at},
				At:       at,
				Link:     messageLink(m.Chat, m.MessageID),
			})
		}
		return out
	}
	if m.From == nil || m.From.ID == selfID || isService(m) {
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
	return []bot.Event{ev}
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
		default:
			a.Roles = []string{"channel"}
		}
		return a
	}
	u := m.From
	a := bot.Author{ID: itoa(u.ID), Name: fullName(u), Bot: u.IsBot}
	if t, ok := c.members.joinedAt(m.Chat.ID, u.ID); ok {
		a.JoinedAt = t
	}
	if !m.Chat.IsPrivate() {
		switch status, known := c.adminStatus(m.Chat.ID, u.ID); {
		case status != "":
			a.Roles, a.Staff = []string{status}, true
		case known:
			a.Roles = []string{"member"}
		default:
			a.RolesUnknown = true
		}
	}
	// The desk's CMs speak for the brand wherever they write: they are staff
	// whatever the chat's admin list says.
	if c.desk.Load().cms[u.ID] {
		a.Roles, a.Staff, a.RolesUnknown = append(a.Roles, "cm"), true, false
	}
	return a
}

// memberJoin reads a chat_member update: someone who was out is now in.
func (c *Client) memberJoin(cm *tgbotapi.ChatMemberUpdated) (bot.Event, bool) {
	if cm.NewChatMember.User == nil {
		return bot.Event{}, false
	}
	if isAdmin(cm.NewChatMember) || isAdmin(cm.OldChatMember) {
		// A promotion or a demotion: known at once, without waiting for a lookup;
		// in the desk chat too, where it gives or takes the right to command vigie.
		c.admins.changed(cm.Chat.ID, cm.NewChatMember.User.ID, cm.NewChatMember.Status)
	}
	if c.inDesk(cm.Chat.ID) {
		return bot.Event{}, false
	}
	if isIn(cm.NewChatMember) && (isIn(cm.OldChatMember) || cm.OldChatMember.Status == "") {
		return bot.Event{}, false
	}
	if !isIn(cm.NewChatMember) {
		return bot.Event{}, false
	}
	u := cm.NewChatMember.User
	at := time.Unix(int64(cm.Date), 0).UTC()
	if !c.members.joined(cm.Chat.ID, u.ID, at) {
		return bot.Event{}, false // already seen as a new_chat_members message
	}
	return bot.Event{
		ID:       fmt.Sprintf("%d:join:%d:%d", cm.Chat.ID, u.ID, cm.Date),
		Platform: Platform,
		Kind:     bot.KindJoin,
		Space:    itoa(cm.Chat.ID),
		Channel:  itoa(cm.Chat.ID),
		Author:   bot.Author{ID: itoa(u.ID), Name: fullName(u), Bot: u.IsBot, JoinedAt: at, Roles: []string{"member"}},
		At:       at,
	}, true
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

// isService reports messages that only record something happening in the chat.
func isService(m *tgbotapi.Message) bool {
	return m.LeftChatMember != nil || m.NewChatTitle != "" || m.NewChatPhoto != nil || m.DeleteChatPhoto ||
		m.GroupChatCreated || m.SuperGroupChatCreated || m.PinnedMessage != nil || m.MigrateToChatID != 0 ||
		m.MigrateFromChatID != 0 || m.MessageAutoDeleteTimerChanged != nil || m.VoiceChatStarted != nil ||
		m.VoiceChatEnded != nil || m.VoiceChatScheduled != nil || m.VoiceChatParticipantsInvited != nil
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
