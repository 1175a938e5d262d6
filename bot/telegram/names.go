package telegram

import (
	"cmp"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// What the desk shows instead of ids: the groups' titles, the forum topics'
// names and people's names, as the updates say them (the last one wins, so a
// renamed group's next update renames it on the cards posted after), asked of
// Telegram when no update told them since the start (getChat for a group,
// getChatMember in the desk chat for a CM). A phone shows a card's first
// lines: each name is cut to a few words.
const (
	maxTitleShown  = 40 // a group's title, in UTF-16 units as Telegram counts
	maxTopicShown  = 32
	maxPersonShown = 32
	// namesMax bounds each of the directory's maps; beyond, it starts again.
	namesMax = 10000
	// nameAskWait bounds a lookup made while a card is rendered, and
	// nameAskAgain how long a lookup that gave nothing is not made again.
	nameAskWait  = 2 * time.Second
	nameAskAgain = 10 * time.Minute
)

type directory struct {
	now    func() time.Time
	mu     sync.Mutex
	chats  map[int64]string
	topics map[[2]int64]topic
	people map[int64]person
	// asked are the lookups that gave nothing, and when.
	asked map[string]time.Time
}

type person struct{ name, username string }

// topic is a forum topic's name, and how it reads at a glance, read once
// when heard rather than for each card.
type topic struct {
	name string
	look bot.Lookalike
}

func newDirectory(now func() time.Time) *directory {
	return &directory{now: now, chats: map[int64]string{}, topics: map[[2]int64]topic{},
		people: map[int64]person{}, asked: map[string]time.Time{}}
}

func setBounded[K comparable, V any](m map[K]V, k K, v V) {
	if _, ok := m[k]; !ok && len(m) >= namesMax {
		clear(m)
	}
	m[k] = v
}

func (d *directory) chat(ch *tgbotapi.Chat) {
	if ch == nil || ch.IsPrivate() || ch.Title == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	setBounded(d.chats, ch.ID, ch.Title)
}

func (d *directory) user(u *tgbotapi.User) {
	if u == nil || u.ID == 0 {
		return
	}
	p := person{name: fullName(u), username: u.UserName}
	d.mu.Lock()
	defer d.mu.Unlock()
	setBounded(d.people, u.ID, p)
}

// topic records thread's name in chat. A name read from a topic's creation
// as a message of the topic answers it (byReply) does not replace one
// known: it is the name the topic was created with, not a rename's.
func (d *directory) topic(chat int64, thread int, name string, byReply bool) {
	if thread == 0 || name == "" {
		return
	}
	k := [2]int64{chat, int64(thread)}
	d.mu.Lock()
	old, known := d.topics[k]
	d.mu.Unlock()
	if known && (byReply || old.name == name) {
		return
	}
	// read apart from the lock, which each update takes
	look := bot.LookalikeOf(name)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, known := d.topics[k]; known && byReply {
		return
	}
	setBounded(d.topics, k, topic{name: name, look: look})
}

// learn takes the names an update shows.
func (d *directory) learn(u update) {
	for _, m := range []*tgbotapi.Message{u.Message, u.EditedMessage} {
		if m == nil {
			continue
		}
		d.chat(m.Chat)
		if m.SenderChat == nil {
			d.user(m.From)
		}
		for i := range m.NewChatMembers {
			d.user(&m.NewChatMembers[i])
		}
		if m.Chat != nil {
			d.topic(m.Chat.ID, u.topicThread, u.topicName, u.topicByReply)
		}
	}
	if cb := u.CallbackQuery; cb != nil {
		d.user(cb.From)
		if cb.Message != nil {
			d.chat(cb.Message.Chat)
		}
	}
	for _, cm := range []*tgbotapi.ChatMemberUpdated{u.ChatMember, u.MyChatMember} {
		if cm == nil {
			continue
		}
		chat := cm.Chat
		d.chat(&chat)
		from := cm.From
		d.user(&from)
		d.user(cm.NewChatMember.User)
	}
}

func (d *directory) titleOf(chat int64) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.chats[chat]
	return t, ok
}

// topicOf is the name of chat's forum topic thread, and whether another
// topic of chat known here is named alike (namedAlike): a member may create a
// topic named as another ("Announcements"), and the card then says which.
func (d *directory) topicOf(chat int64, thread int) (name string, alike bool) {
	d.mu.Lock()
	name = d.topics[[2]int64{chat, int64(thread)}].name
	d.mu.Unlock()
	if name == "" {
		return "", false
	}
	return name, d.namedAlike(chat, thread, name)
}

// namedAlike reports whether another topic of chat heard here bears name,
// read as a glance does (bot.Lookalike): a stranger's topic named like
// another must be told apart.
func (d *directory) namedAlike(chat int64, thread int, name string) bool {
	look := bot.LookalikeOf(name)
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, other := range d.topics {
		if k[0] == chat && k[1] != int64(thread) && look.Like(other.look) {
			return true
		}
	}
	return false
}

func (d *directory) personOf(id int64) (person, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.people[id]
	return p, ok
}

// mayAsk reports whether key may be asked of Telegram now: not when it gave
// nothing lately. Asking marks it, until told.
func (d *directory) mayAsk(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if at, ok := d.asked[key]; ok && d.now().Sub(at) < nameAskAgain {
		return false
	}
	setBounded(d.asked, key, d.now())
	return true
}

func (d *directory) answered(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.asked, key)
}

// topicFields reads the name of a forum topic an update shows: a topic's
// creation or renaming, or a message in the topic, which Telegram sends as an
// answer to the topic's creation.
func topicFields(u *update, m map[string]json.RawMessage) {
	type named struct {
		Name string `json:"name"`
	}
	var thread int
	_ = json.Unmarshal(m["message_thread_id"], &thread)
	for _, f := range []string{"forum_topic_created", "forum_topic_edited"} {
		var t named
		if raw, ok := m[f]; ok && json.Unmarshal(raw, &t) == nil && t.Name != "" {
			u.topicThread, u.topicName = thread, t.Name
			return
		}
	}
	if !u.topicReply {
		return
	}
	var r struct {
		Created *named `json:"forum_topic_created"`
	}
	if raw, ok := m["reply_to_message"]; ok && json.Unmarshal(raw, &r) == nil && r.Created != nil && r.Created.Name != "" {
		u.topicThread, u.topicName, u.topicByReply = thread, r.Created.Name, true
	}
}

// groupTitle is chat's title: as the updates said it, or as Telegram says it
// now; "" when neither can. A group that became a supergroup is named by the
// supergroup's title.
func (c *Client) groupTitle(ctx context.Context, chat int64) string {
	ctx, cancel := context.WithTimeout(ctx, nameAskWait)
	defer cancel()
	// Twice at most: an old id, then the supergroup's Telegram names.
	for range 2 {
		if t, ok := c.dir.titleOf(chat); ok {
			return t
		}
		if to := c.moved.follow(chat); to != chat {
			if t, ok := c.dir.titleOf(to); ok {
				return t
			}
			chat = to
		}
		key := "chat:" + itoa(chat)
		if !c.dir.mayAsk(key) {
			return ""
		}
		raw, err := c.call(ctx, "", "getChat", tgbotapi.Params{"chat_id": itoa(chat)})
		if to := migratedTo(err); to != 0 {
			c.chatMoved(chat, to)
			c.dir.answered(key)
			continue
		}
		if err != nil {
			c.log.Debug("cannot name a chat for the desk", "chat", chat, "err", err)
			return ""
		}
		var ch tgbotapi.Chat
		if json.Unmarshal(raw, &ch) != nil || ch.Title == "" {
			return ""
		}
		c.dir.chat(&ch)
		c.dir.answered(key)
		return ch.Title
	}
	return ""
}

// personName is how the desk names the Telegram user id: "Ann (@ann)", "Ann"
// or "@ann"; "" when neither the updates nor the desk chat tell.
func (c *Client) personName(ctx context.Context, id int64) string {
	if p, ok := c.person(ctx, id); ok {
		return p.shown()
	}
	return ""
}

// person is the Telegram user id's names, as the updates showed them, or as
// the desk chat says them now (getChatMember); false when neither tells.
func (c *Client) person(ctx context.Context, id int64) (person, bool) {
	if p, ok := c.dir.personOf(id); ok {
		return p, true
	}
	desk := c.deskChat()
	key := "user:" + itoa(id)
	if desk == 0 || id <= 0 || !c.dir.mayAsk(key) {
		return person{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, nameAskWait)
	defer cancel()
	raw, err := c.call(ctx, "", "getChatMember", tgbotapi.Params{"chat_id": itoa(desk), "user_id": itoa(id)})
	var cm tgbotapi.ChatMember
	if err != nil || json.Unmarshal(raw, &cm) != nil || cm.User == nil {
		return person{}, false
	}
	c.dir.user(cm.User)
	c.dir.answered(key)
	return person{name: fullName(cm.User), username: cm.User.UserName}, true
}

// shownName is s, a name someone else chose, as a card shows it: on one
// line (bot.OneLine), cut to n UTF-16 units, then set apart from the line
// around it (bot.IsolateBidi). Cut after, the isolate would lose its end
// with a long name's tail, and a right-to-left override in the name would
// turn the rest of the line, the author's id included.
//
// Its commands and mentions are made plain text (inert): a tap on a name
// should never send a command nor open another's profile.
func shownName(s string, n int) string {
	return bot.IsolateBidi(truncate(inert(bot.OneLine(s), "/@"), n))
}

// inert is s, text others wrote that the desk shows, with a word joiner
// (U+2060, which shows nothing) after each "/" or "@" of starts (those of
// "/@" it names) where Telegram would find a command or a mention: after no
// letter, digit, "_", "/", "<" or ">", and before a letter, digit or "_".
// Telegram makes a command of a message's "/pause", which a tap sends, from
// whoever taps it, with vigie's username, to the chat: a member named
// "/pause", or whose message says it, would have the CM who taps it on a
// card pause vigie. A link's path ("example.com/pause") is left whole.
func inert(s, starts string) string { return inertBut(s, starts, nil) }

// inertBut is inert, but for the commands keep names (without their "/"):
// vigie's own words in a text that quotes others' may offer a command that
// only shows something (/queue).
func inertBut(s, starts string, keep func(command string) bool) string {
	if !strings.ContainsAny(s, starts) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	prev := rune(-1)
	for i, r := range s {
		b.WriteRune(r)
		if strings.ContainsRune(starts, r) && !commandChar(prev) && !strings.ContainsRune("/<>", prev) {
			if next, _ := utf8.DecodeRuneInString(s[i+1:]); commandChar(next) && (keep == nil || r != '/' || !keep(commandAt(s[i+1:]))) {
				b.WriteRune('\u2060')
			}
		}
		prev = r
	}
	return b.String()
}

// commandAt is the name of the command s starts with, its "/" before it.
func commandAt(s string) string {
	end := strings.IndexFunc(s, func(r rune) bool { return !commandChar(r) })
	if end < 0 {
		return s
	}
	return s[:end]
}

// showsOnly reports whether the desk command name only shows something,
// and may be tapped in an alert: not /pause, /resume, /reload, /mode or
// /reply, nor a command for the groups.
func showsOnly(name string) bool {
	switch name {
	case "queue", "status", "help", "rules", "stats", "report":
		return true
	}
	return false
}

// alertText is text for the desk's alerts and pages, which quote others
// (a wave's messages, a group's title): their commands made text (inert),
// vigie's own that only show something left to tap.
func alertText(text string) string { return inertBut(text, "/", showsOnly) }

// commandChar reports whether r may be in a command's or a username's name
// as Telegram reads one, or joins the word before a "/".
func commandChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func (p person) shown() string {
	name := shownName(p.name, maxPersonShown)
	username := shownName(p.username, maxPersonShown)
	switch {
	case username == "" || name == username:
		return name
	case name == "":
		return "@" + username
	}
	return name + " (@" + username + ")"
}

// deciderName is how a card names who decided its case: a Telegram CM by
// name, anyone else as the decision says.
func (c *Client) deciderName(ctx context.Context, by, given string) string {
	if id, ok := strings.CutPrefix(by, Platform+":"); ok {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			if name := c.personName(ctx, n); name != "" {
				return name
			}
		}
	}
	if given != "" {
		return shownName(given, maxPersonShown)
	}
	return by
}

// cardNames is what a card shows instead of ids.
type cardNames struct {
	place   string // where the message was: a group's title, its topic's name
	decider string // who decided the case
	// posesAs is the CM the author is named like without being them, as
	// the card names that CM; "" for none.
	posesAs string
}

// posesAs is the CM whom the author of card is named like without being
// them, as a card names that CM: a CM of the case's own platform, as that
// platform told it (Card.PosesAs), made inert as the other names a card
// shows, else a Telegram CM of the desk (cmPosedAs); "" for none.
func (c *Client) posesAs(ctx context.Context, card bot.Card) string {
	if card.PosesAs != "" {
		return inert(bot.OneLine(card.PosesAs), "/@")
	}
	return c.cmPosedAs(ctx, card.Event, Platform)
}

var _ bot.CMPoseTeller = (*Client)(nil)

// PosesAsCM names the Telegram CM whom the author of ev, a Telegram member,
// is named like without being them, for a card on the desk of the
// platform desk; "" for none, and for another platform's member.
func (c *Client) PosesAsCM(ctx context.Context, ev bot.Event, desk string) string {
	if ev.Platform != Platform {
		return ""
	}
	return c.cmPosedAs(ctx, ev, desk)
}

// cmPosedAs is the Telegram CM of the desk whom the author of ev is named
// like without being them (bot.PosesAsCM), as a card on the desk of the
// platform desk names that CM; "" for none. A CM's names are those the
// updates showed, or, when none did since the start (or a raid's many
// names pushed theirs out), those the desk chat says (person).
func (c *Client) cmPosedAs(ctx context.Context, ev bot.Event, desk string) string {
	if bot.LookalikeOf(ev.Author.Name + ev.Author.Username).Empty() {
		return ""
	}
	var cms []bot.CMName
	for id := range c.desk.Load().cms {
		if ev.Platform == Platform && ev.Author.ID == itoa(id) {
			continue
		}
		if p, ok := c.person(ctx, id); ok {
			cms = append(cms, bot.CMName{ID: Platform + ":" + itoa(id), Name: p.name, Username: p.username, Shown: p.shown()})
		}
	}
	return bot.PosesAsCM(ev, desk, cms)
}

// cardNames finds a card's names; "" where none is known.
func (c *Client) cardNames(ctx context.Context, card bot.Card, decidedName string) cardNames {
	var n cardNames
	if card.Decided() {
		n.decider = c.deciderName(ctx, card.DecidedBy, cmp.Or(decidedName, card.DeciderName))
	}
	n.place = c.placeName(ctx, card.Event)
	n.posesAs = c.posesAs(ctx, card)
	return n
}

// placeName names the group of a Telegram event by its title, and its forum
// topic by its name ("Fans › Off-topic"), cut for a phone; "" when the title
// is not known (neither an update nor Telegram told it).
func (c *Client) placeName(ctx context.Context, ev bot.Event) string {
	if ev.Platform != Platform {
		return ""
	}
	chat, err := strconv.ParseInt(ev.Space, 10, 64)
	if err != nil || chat >= 0 {
		return ""
	}
	var place string
	if t := c.groupTitle(ctx, chat); t != "" {
		place = shownName(t, maxTitleShown)
	}
	if thread, err := strconv.Atoi(ev.Thread); err == nil && thread != 0 {
		if t, alike := c.keptTopic(ctx, chat, thread); t != "" {
			if place == "" {
				place = "group " + ev.Space
			}
			place += " › " + shownName(t, maxTopicShown)
			if alike {
				place += " (topic " + ev.Thread + ")"
			}
		}
	}
	return place
}

var (
	_ bot.PlaceNamer     = (*Client)(nil)
	_ bot.DeskPlaceNamer = (*Client)(nil)
)

// DeskPlaceName names ev's group and topic as the Telegram desk's cards do,
// for another platform's desk.
func (c *Client) DeskPlaceName(ctx context.Context, ev bot.Event) string {
	return c.placeName(ctx, ev)
}

// PlaceName is the title of the event's group as the updates last showed
// it (that of the supergroup it became), for the mod-log and the desk's
// alerts; "" when none did since the start. It asks Telegram nothing.
func (c *Client) PlaceName(ev bot.Event) string {
	chat, err := strconv.ParseInt(ev.Space, 10, 64)
	if err != nil || ev.Platform != Platform {
		return ""
	}
	if t, ok := c.dir.titleOf(chat); ok {
		return t
	}
	t, _ := c.dir.titleOf(c.moved.follow(chat))
	return t
}

// keepTopic writes the name of a topic an update made or renamed to the
// store (Config.Topics), for the other instances and the next start. A
// name read from a message of the topic (the creation it answers) is not
// written: it is the first name, not a rename.
func (c *Client) keepTopic(ctx context.Context, u update) {
	if c.cfg.Topics == nil || u.topicThread == 0 || u.topicName == "" || u.topicByReply {
		return
	}
	m := u.Message
	if m == nil {
		m = u.EditedMessage
	}
	if m == nil || m.Chat == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, nameAskWait)
	defer cancel()
	if err := c.cfg.Topics.PutTopicName(sctx, Platform, itoa(m.Chat.ID), strconv.Itoa(u.topicThread), u.topicName); err != nil {
		c.log.Warn("a forum topic's name not kept in the store: after a restart, or on another instance, its cards show its first name",
			"chat", m.Chat.ID, "thread", u.topicThread, "err", err)
	}
}

// keptTopic is the name of chat's topic thread: the store's (Config.Topics),
// its last rename as any instance heard it, else the one this process
// heard; "" when neither knows it. alike is whether another topic heard here
// bears that name (directory.namedAlike).
func (c *Client) keptTopic(ctx context.Context, chat int64, thread int) (name string, alike bool) {
	if c.cfg.Topics != nil {
		sctx, cancel := context.WithTimeout(ctx, nameAskWait)
		name, err := c.cfg.Topics.TopicName(sctx, Platform, itoa(chat), strconv.Itoa(thread))
		cancel()
		switch {
		case err != nil:
			c.log.Debug("a forum topic's name not read from the store; the one heard here is shown", "chat", chat, "thread", thread, "err", err)
		case name != "":
			return name, c.dir.namedAlike(chat, thread, name)
		}
	}
	return c.dir.topicOf(chat, thread)
}

// card renders card for the desk with its names.
func (c *Client) card(ctx context.Context, card bot.Card, decidedName, note string) string {
	return renderNamed(card, c.cardNames(ctx, card, decidedName), note)
}
