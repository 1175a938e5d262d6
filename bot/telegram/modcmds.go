package telegram

import (
	"cmp"
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// Moderators' commands in the groups: /ban, /mute, /del… written as a reply to
// the member's message, or naming the member (@username of someone vigie has
// seen there, a mention of a member without username, or the numeric id).
// They are for the group's administrators holding the matching right
// (can_restrict_members, can_delete_messages), asked from Telegram at each
// command so that a demotion counts at once, and for the desk's CMs; anyone
// else is refused in private (refusals.go) and the attempt is logged with
// audit=true.

// anonymousAdmin is the user Telegram names as the sender of an anonymous
// administrator's messages: whoever it is cannot be told apart.
const anonymousAdmin = 1087968824

// modUpdate remembers the group messages (for /purge and @username) and takes
// the moderators' commands; it reports whether u was one from a moderator,
// which the rules do not judge. A member's command is taken (to be refused)
// and is still a member's message: reported false, the rules judge it, so
// that "/note" before a scam link does not carry it past them.
func (c *Client) modUpdate(ctx context.Context, u update) bool {
	m := u.Message
	if m == nil || m.Chat == nil || m.From == nil || !(m.Chat.IsGroup() || m.Chat.IsSuperGroup()) {
		return false
	}
	selfID, selfName := c.self()
	if m.From.ID == selfID {
		return false
	}
	name, args, ok := parseCommand(m.Text, selfName)
	info, isMod := bot.ModCommandOf(name)
	// A forward is someone else's words: a command in it is not the
	// forwarder's, and the forward a message for the rules.
	if !ok || !isMod || u.origin != nil {
		c.recent.add(m, u.thread)
		return false
	}
	thread := u.thread
	c.takeCommand(ctx, &u, m, thread, "/"+name, func(ctx context.Context) { c.handleModCommand(ctx, m, thread, info, args) })
	if c.mayCommandHere(m.Chat.ID, m.From) {
		return true
	}
	c.recent.add(m, u.thread)
	return false
}

// mayCommandHere reports, without asking Telegram, whether u may be one of
// chat's moderators: a CM, an administrator on the list vigie knows, or the
// anonymous administrator. A member of a chat whose list is not known yet is
// not: their message is judged, with the roles the daemon resolves.
func (c *Client) mayCommandHere(chat int64, u *tgbotapi.User) bool {
	if u.ID == anonymousAdmin || c.desk.Load().cms[u.ID] {
		return true
	}
	status, known := c.adminStatus(chat, u.ID)
	return known && status != ""
}

func (c *Client) handleModCommand(ctx context.Context, m *tgbotapi.Message, thread int, info bot.ModCommandInfo, args string) {
	chat := m.Chat.ID
	attempt := "/" + string(info.Command)
	if m.From.ID == anonymousAdmin {
		c.log.Warn("moderator's command refused: sent as the anonymous admin", "audit", true, "chat", chat, "attempt", attempt)
		c.say(ctx, m, thread, "vigie cannot tell who an anonymous administrator is: turn off \"Remain anonymous\" to use "+attempt+".")
		return
	}
	ok, why, unchecked := c.mayModerate(ctx, chat, m.From, info.Right)
	if unchecked != nil {
		// Telegram did not say (a 429 in a raid, a 5xx): no refusal, which
		// would tell an administrator the command is not theirs, and be
		// told once per 10 minutes; nothing is done, and they are told so
		// each time.
		c.log.Warn("moderator's command not carried out: rights not checked", "audit", true, "user", cmID(m.From),
			"chat", chat, "attempt", attempt, "err", unchecked)
		ctx, cancel := reportContext(ctx)
		defer cancel()
		c.sayWithin(ctx, m, thread, "Nothing done: vigie could not ask Telegram whether you may "+rightWords(info.Right)+
			" here ("+unchecked.Error()+"): send "+attempt+" again in a moment.", refusalPatience)
		return
	}
	if !ok {
		c.log.Warn("moderator's command refused", "audit", true, "user", cmID(m.From), "name", fullName(m.From),
			"username", m.From.UserName, "chat", chat, "attempt", attempt, "why", why)
		c.tellRefused(ctx, m, thread, "Sorry, "+attempt+" is for the administrators of this group who may "+rightWords(info.Right)+".", true)
		return
	}
	modn, ok := c.cmds().(bot.Moderation)
	if c.cmds() == nil || !ok {
		c.say(ctx, m, thread, "vigie is not ready yet, try again in a moment.")
		return
	}
	r, usage := c.modRequest(ctx, m, thread, info, args)
	if usage != "" {
		c.say(ctx, m, thread, usage)
		return
	}
	r.By, r.ByName = cmID(m.From), fullName(m.From)
	text, err := modn.Moderate(ctx, r)
	if err != nil {
		c.log.Warn("moderator's command not carried out", "command", info.Command, "by", r.By, "err", err)
	}
	ctx, cancel := reportContext(ctx)
	defer cancel()
	if info.Command == bot.ModNote && err == nil {
		text += c.takeNoteOut(ctx, m)
	}
	c.say(ctx, m, thread, text)
}

// takeNoteOut deletes a /note from the group once the note is kept: the
// note is the CMs' words on the member, for the desk's cards and the
// console, and the group's members (the member among them) would read it
// under the command. It says, for the answer, when Telegram refused, in
// the words of the cards (the group reads it too); the log has the error.
func (c *Client) takeNoteOut(ctx context.Context, m *tgbotapi.Message) string {
	_, err := c.request(ctx, bot.ActDelete, "deleteMessage", tgbotapi.DeleteMessageConfig{ChatID: m.Chat.ID, MessageID: m.MessageID})
	if err == nil || gone(err) {
		return ""
	}
	c.log.Warn("a /note left in the group: not deleted", "chat", m.Chat.ID, "message", m.MessageID, "err", err)
	return " vigie could not delete your /note from the group (" + bot.RefusalWords(err) + "): delete it, the members can read it."
}

// modRequest reads a command's target and arguments; usage is set, and
// says how to write it, when they do not make sense.
func (c *Client) modRequest(ctx context.Context, m *tgbotapi.Message, thread int, info bot.ModCommandInfo, args string) (r bot.ModRequest, usage string) {
	use := "Usage: reply to the member's message with /" + string(info.Command)
	if info.Args != "" {
		use += " " + info.Args
	}
	if !info.Message {
		use += ", or /" + string(info.Command) + " @username"
		if info.Args != "" {
			use += " " + info.Args
		}
	}
	r.Command = info.Command
	chat := m.Chat.ID
	target, ok := c.replyTarget(m, thread)
	var rest string
	switch {
	case info.Message:
		rest = args
	case !ok:
		var why string
		if target, rest, why, ok = c.namedTarget(ctx, m, args); why != "" {
			return r, why
		}
	case namesFirst(m, args):
		// Answering a message and naming a member first (a report, "/ban
		// @bob" under it) is about the member named, as in Marie and the
		// group bots built on it: never the message's sender with "@bob"
		// for a reason.
		named, nrest, why, found := c.namedTarget(ctx, m, args)
		if why != "" {
			return r, why
		}
		if !found {
			first, _, _ := strings.Cut(strings.TrimSpace(args), " ")
			return r, "Nothing done: vigie has not seen " + first + " write here. Answer the member's message without naming anyone first, or name them by their numeric id."
		}
		target, rest = named, nrest
	default:
		rest = args
	}
	if !ok {
		return r, use
	}
	if a := &target.Author; a.RolesUnknown && strings.HasPrefix(a.ID, "-") && a.ID != itoa(chat) {
		// A channel, which may be the group's linked one: asked now, so that
		// a command never bans the brand's own channel from its group.
		if linked, known := c.linkedChannel(ctx, chat); known {
			a.RolesUnknown = false
			if a.ID == itoa(linked) {
				a.Roles, a.Staff = []string{"linked_channel"}, true
			} else {
				a.Roles = []string{"channel"}
			}
		} else if bot.ActsOnMember(info.Command) {
			return r, "Nothing done: vigie cannot tell now whether " + a.Name + " is the group's linked channel. Send the command again in a moment."
		}
	}
	r.Target = target
	if why := c.notAMember(target.Author); why != "" && bot.ActsOnMember(info.Command) {
		return r, why
	}
	fields := strings.Fields(rest)
	switch info.Command {
	case bot.ModBan, bot.ModMute:
		if len(fields) > 0 && durationLike.MatchString(strings.ToLower(fields[0])) {
			// Written as a duration, it is one: a wrong one is said, never
			// taken for the reason's first word (a ban for good for "-5m").
			d, err := bot.ParseDuration(strings.ToLower(fields[0]))
			switch {
			case err != nil:
				return r, "Nothing done: " + err.Error() + ". " + use
			case info.Command == bot.ModMute && d > maxRestriction:
				// Telegram takes a longer mute for one for good.
				return r, "Nothing done: Telegram mutes for " + bot.FormatDuration(maxRestriction) + " at most; /ban bans for longer. " + use
			}
			r.Duration, fields = d, fields[1:]
		}
		if info.Command == bot.ModMute && len(fields) > 0 {
			return r, use
		}
		r.Text = strings.Join(fields, " ")
	case bot.ModPurge:
		n, err := strconv.Atoi(strings.Join(fields, ""))
		if err != nil || n < 1 || n > bot.MaxPurge {
			return r, use + fmt.Sprintf(" (N from 1 to %d)", bot.MaxPurge)
		}
		user, _ := strconv.ParseInt(target.Author.ID, 10, 64)
		for _, msg := range c.recent.last(chat, user, n, m.MessageID) {
			ev := bot.Event{ID: fmtMsgID(chat, msg.id), Platform: Platform, Kind: bot.KindMessage,
				Space: itoa(chat), Channel: itoa(chat), Author: target.Author}
			if msg.thread != 0 {
				ev.Thread = strconv.Itoa(msg.thread)
			}
			r.Messages = append(r.Messages, ev)
		}
	case bot.ModNote:
		if strings.TrimSpace(rest) == "" {
			return r, use
		}
		r.Text = strings.TrimSpace(rest)
	case bot.ModUnban, bot.ModUnmute, bot.ModWarns, bot.ModResetWarns, bot.ModDel:
		if len(fields) > 0 {
			return r, use
		}
	default:
		r.Text = strings.Join(fields, " ")
	}
	return r, ""
}

// durationLike is a word written as a duration, right or wrong: numbers
// and units, maybe signed (-5m, 400d, 1w, 99999999d), not "2nd".
var durationLike = regexp.MustCompile(`^[+-]?([0-9.]+(ns|us|µs|ms|s|m|h|d|w))+$`)

// notAMember says why a command's target is no member to act on: vigie
// itself, the group's linked channel (its posts forwarded to the group), or
// the group's anonymous administrators, whose messages Telegram signs with
// the group. "" for a member, or a chat writing as itself.
func (c *Client) notAMember(a bot.Author) string {
	self, _ := c.self()
	switch {
	case a.ID == itoa(self):
		return "Nothing done: that message is vigie's own. Answer the member's message."
	case slices.Contains(a.Roles, "linked_channel"):
		return "Nothing done: that message is the group's linked channel's, " + a.Name + ". Answer the member's message."
	case slices.Contains(a.Roles, "anonymous_admin"):
		return "Nothing done: that message is an anonymous administrator's, signed with the group: Telegram does not say who wrote it."
	}
	return ""
}

func fmtMsgID(chat int64, msg int) string { return fmt.Sprintf("%d:%d", chat, msg) }

// replyTarget is the message m answers, as an event: the member and the place.
func (c *Client) replyTarget(m *tgbotapi.Message, thread int) (bot.Event, bool) {
	r := m.ReplyToMessage
	if r == nil || (r.MessageID == thread && thread != 0) || (r.From == nil && r.SenderChat == nil) {
		// In a forum topic every message answers the topic's first one.
		return bot.Event{}, false
	}
	ev := bot.Event{ID: fmtMsgID(m.Chat.ID, r.MessageID), Platform: Platform, Kind: bot.KindMessage,
		Space: itoa(m.Chat.ID), Channel: itoa(m.Chat.ID), Text: r.Text, At: time.Unix(int64(r.Date), 0).UTC(),
		Link: messageLink(m.Chat, r.MessageID), Author: c.author(r)}
	if thread != 0 {
		ev.Thread = strconv.Itoa(thread)
	}
	return ev, true
}

// namedTarget reads the member the command names first in args: a mention of
// a member without username (Telegram gives the user), an @username vigie saw
// writing there, still theirs (ownUsername), or a numeric user id. rest is
// what follows; why, when set, says why the name was refused.
func (c *Client) namedTarget(ctx context.Context, m *tgbotapi.Message, args string) (ev bot.Event, rest, why string, ok bool) {
	first, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
	if first == "" {
		return bot.Event{}, "", "", false
	}
	chat := m.Chat.ID
	ev = bot.Event{Platform: Platform, Space: itoa(chat), Channel: itoa(chat)}
	if e := firstMention(m, args); e != nil {
		// The mention's own text may hold spaces: the rest starts after it.
		ev.Author = bot.Author{ID: itoa(e.User.ID), Name: fullName(e.User)}
		return ev, strings.TrimSpace(utf16Slice(m.Text, e.Offset+e.Length)), "", true
	}
	if name, ok := strings.CutPrefix(first, "@"); ok {
		id, display, known := c.recent.byUsername(chat, name)
		if !known {
			return bot.Event{}, "", "", false
		}
		if why := c.ownUsername(ctx, chat, id, name, display); why != "" {
			return bot.Event{}, "", why, false
		}
		ev.Author = bot.Author{ID: itoa(id), Name: display}
		return ev, rest, "", true
	}
	if id, err := strconv.ParseInt(first, 10, 64); err == nil && id > 0 {
		ev.Author = bot.Author{ID: itoa(id), Name: c.recent.name(chat, id)}
		return ev, rest, "", true
	}
	return bot.Event{}, "", "", false
}

// ownUsername asks Telegram whether name is still the username of user,
// whom vigie saw writing in chat with it: a username changes hands, and a
// member who renamed since, unseen, is not the member the name names now.
// It says why not, "" when it is; one no longer theirs is forgotten, and
// their new one kept.
// A chat writing as itself (a channel) is no chat member Telegram answers
// about: its username is the one vigie last saw it post under.
func (c *Client) ownUsername(ctx context.Context, chat, user int64, name, display string) string {
	if user < 0 {
		return ""
	}
	who := cmp.Or(display, "the member")
	raw, err := c.call(ctx, "", "getChatMember", tgbotapi.Params{"chat_id": itoa(chat), "user_id": itoa(user)})
	if err != nil && bot.Retryable(err) {
		// the group reads the answer: Telegram's error is the log's
		c.log.Warn("a moderator's command by @username not carried out: Telegram did not say whose the username is", "chat", chat, "user", user, "username", name, "err", err)
		return "Nothing done: vigie could not ask Telegram whether @" + name + " is still " + who +
			"'s username (Telegram is not answering right now): send the command again in a moment, or answer the member's message."
	}
	var cm tgbotapi.ChatMember
	if err == nil && json.Unmarshal(raw, &cm) == nil && cm.User != nil && cm.User.ID == user && strings.EqualFold(cm.User.UserName, name) {
		return ""
	}
	now := ""
	if err == nil && cm.User != nil && cm.User.ID == user {
		c.recent.renamed(chat, user, cm.User.UserName)
		if cm.User.UserName != "" {
			now = " (now @" + cm.User.UserName + ")"
		}
	}
	return "Nothing done: @" + name + " is no longer the username of " + who + now + ", whom vigie saw with it, " +
		"and vigie has not seen who has it now write here. Answer the member's message, or name them by their numeric id."
}

// namesFirst reports whether args, a command's words, start by naming a
// member: an @username, or a mention of a member without one.
func namesFirst(m *tgbotapi.Message, args string) bool {
	return strings.HasPrefix(strings.TrimSpace(args), "@") || firstMention(m, args) != nil
}

// firstMention is the mention of a member without username (Telegram gives
// the user) that starts args, nil when none does: one further on, in the
// reason, is someone spoken of, not the member the command names.
func firstMention(m *tgbotapi.Message, args string) *tgbotapi.MessageEntity {
	for i, e := range m.Entities {
		if e.Type == "text_mention" && e.User != nil && strings.TrimSpace(utf16Slice(m.Text, e.Offset)) == strings.TrimSpace(args) {
			return &m.Entities[i]
		}
	}
	return nil
}

// utf16Slice is s from the UTF-16 offset Telegram's entities count in.
func utf16Slice(s string, from int) string {
	n := 0
	for i, r := range s {
		if n >= from {
			return s[i:]
		}
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return ""
}

// mayModerate reports whether u may give a command needing right in chat: a
// CM of the desk, or an administrator of chat with that right, as Telegram
// says now. why says what was missing; unchecked is set when Telegram did
// not answer and is worth asking again (a 429, a 5xx): neither yes nor no.
func (c *Client) mayModerate(ctx context.Context, chat int64, u *tgbotapi.User, right bot.ModRight) (ok bool, why string, unchecked error) {
	if u == nil || u.IsBot {
		return false, "a bot", nil
	}
	if c.desk.Load().cms[u.ID] && (c.inDesk(chat) || c.inADeskChat(ctx, u)) {
		return true, "", nil
	}
	// A CM out of the desk chat may still be the group's own administrator.
	raw, err := c.call(ctx, "", "getChatMember", tgbotapi.Params{"chat_id": itoa(chat), "user_id": itoa(u.ID)})
	if err != nil && bot.Retryable(err) {
		return false, "", err
	}
	if err != nil {
		return false, "getChatMember failed: " + err.Error(), nil
	}
	var cm tgbotapi.ChatMember
	if err := json.Unmarshal(raw, &cm); err != nil {
		return false, "getChatMember: " + err.Error(), nil
	}
	switch {
	case cm.Status == "creator":
		return true, "", nil
	case cm.Status != "administrator":
		return false, "not an administrator (" + cm.Status + ")", nil
	}
	switch right {
	case bot.RightBan, bot.RightKick, bot.RightMute:
		if !cm.CanRestrictMembers {
			return false, "an administrator without can_restrict_members", nil
		}
	case bot.RightDelete:
		if !cm.CanDeleteMessages {
			return false, "an administrator without can_delete_messages", nil
		}
	}
	return true, "", nil
}

// rightWords names a right the way Telegram's settings do.
func rightWords(r bot.ModRight) string {
	switch r {
	case bot.RightDelete:
		return "delete messages"
	case bot.RightWarn:
		return "moderate"
	}
	return "ban users"
}

// modCommandsMenu lists the moderators' commands in Telegram's menu of every
// group's administrators.
func (c *Client) modCommandsMenu(ctx context.Context) {
	var list []tgbotapi.BotCommand
	for _, k := range bot.ModCommandList {
		list = append(list, tgbotapi.BotCommand{Command: string(k.Command), Description: k.Help})
	}
	cfg := tgbotapi.SetMyCommandsConfig{Commands: list, Scope: &tgbotapi.BotCommandScope{Type: "all_chat_administrators"}}
	if _, err := c.request(ctx, "", "setMyCommands", cfg); err != nil && ctx.Err() == nil {
		c.log.Warn("cannot register the moderators' commands", "err", err)
	}
}

// recentMessages remembers, per group and member, the ids of the last
// messages vigie saw (Telegram lets a bot read no history), and the members'
// usernames, for /purge and /ban @username. Bounded: the members least
// recently seen go first.
type recentMessages struct {
	mu       sync.Mutex
	max      int // members remembered
	perUser  int // messages remembered per member
	members  map[chatUser]*list.Element
	lru      *list.List // of *recentMember, most recent at the front
	username map[chatName]int64
}

type chatUser struct {
	chat, user int64
}

type chatName struct {
	chat int64
	name string // lower case, without @
}

type recentMember struct {
	key      chatUser
	name     string
	username string
	msgs     []recentMsg // oldest first
}

type recentMsg struct {
	id, thread int
}

func newRecentMessages(members, perUser int) *recentMessages {
	return &recentMessages{max: members, perUser: perUser, members: make(map[chatUser]*list.Element),
		lru: list.New(), username: make(map[chatName]int64)}
}

// add remembers m, a group message.
func (r *recentMessages) add(m *tgbotapi.Message, thread int) {
	k := chatUser{m.Chat.ID, m.From.ID}
	name, username := fullName(m.From), m.From.UserName
	if sc := m.SenderChat; sc != nil {
		k.user, name, username = sc.ID, sc.Title, sc.UserName
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var rm *recentMember
	if e, ok := r.members[k]; ok {
		r.lru.MoveToFront(e)
		rm = e.Value.(*recentMember)
	} else {
		rm = &recentMember{key: k}
		r.members[k] = r.lru.PushFront(rm)
		for r.lru.Len() > r.max {
			old := r.lru.Remove(r.lru.Back()).(*recentMember)
			delete(r.members, old.key)
			r.setUsernameLocked(old, "")
		}
	}
	rm.name = name
	r.setUsernameLocked(rm, username)
	rm.msgs = append(rm.msgs, recentMsg{id: m.MessageID, thread: thread})
	if len(rm.msgs) > r.perUser {
		rm.msgs = append(rm.msgs[:0], rm.msgs[len(rm.msgs)-r.perUser:]...)
	}
}

// setUsernameLocked records that rm's username is now username ("" for
// none): their old one is no longer theirs, and the new one is no longer
// whoever vigie saw with it before, who renamed since. The caller holds
// r.mu.
func (r *recentMessages) setUsernameLocked(rm *recentMember, username string) {
	k := rm.key
	if rm.username != "" && !strings.EqualFold(rm.username, username) {
		old := chatName{k.chat, strings.ToLower(rm.username)}
		if r.username[old] == k.user {
			delete(r.username, old)
		}
	}
	rm.username = username
	if username == "" {
		return
	}
	key := chatName{k.chat, strings.ToLower(username)}
	if prev, ok := r.username[key]; ok && prev != k.user {
		if e, found := r.members[chatUser{k.chat, prev}]; found {
			e.Value.(*recentMember).username = ""
		}
	}
	r.username[key] = k.user
}

// renamed records that user's username in chat is now username, as
// Telegram said ("" for none).
func (r *recentMessages) renamed(chat, user int64, username string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.members[chatUser{chat, user}]; ok {
		r.setUsernameLocked(e.Value.(*recentMember), username)
	}
}

// last returns the member's last n messages in chat, newest first, leaving
// out the message except (the command itself).
func (r *recentMessages) last(chat, user int64, n, except int) []recentMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.members[chatUser{chat, user}]
	if !ok {
		return nil
	}
	msgs := e.Value.(*recentMember).msgs
	var out []recentMsg
	for i := len(msgs) - 1; i >= 0 && len(out) < n; i-- {
		if msgs[i].id != except {
			out = append(out, msgs[i])
		}
	}
	return out
}

func (r *recentMessages) byUsername(chat int64, username string) (id int64, name string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok = r.username[chatName{chat, strings.ToLower(username)}]
	if e, found := r.members[chatUser{chat, id}]; ok && found {
		name = e.Value.(*recentMember).name
	}
	return id, name, ok
}

func (r *recentMessages) name(chat, user int64) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.members[chatUser{chat, user}]; ok {
		return e.Value.(*recentMember).name
	}
	return ""
}

// maxCardNotes bounds the notes a card shows: the newest.
const maxCardNotes = 3

// writeNotes adds the moderators' notes on the author to a card (HTML).
func writeNotes(b *strings.Builder, notes []string) {
	for _, n := range notes[max(len(notes)-maxCardNotes, 0):] {
		fmt.Fprintf(b, "📝 %s\n", html.EscapeString(truncate(n, 300)))
	}
}
