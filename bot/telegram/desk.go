package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// Commands is what the Telegram desk needs besides what every desk does: the
// CMs' /stats, /rules and /reload.
type Commands interface {
	bot.DeskCommands
	// Stats covers the last period (24h unless the CM says otherwise). Stats
	// and Rules count, for a CM whose rights are some communities' (by), only
	// those communities' hits.
	Stats(ctx context.Context, period time.Duration, by string) (string, error)
	Rules(ctx context.Context, by string) (string, error)
	// Reload reads the rule file again; the text says what changed or what is wrong.
	Reload(ctx context.Context, by string) (string, error)
}

var errNoDesk = errors.New("telegram: no desk chat configured (VIGIE_DESK_CHAT)")

// Desk posts cases and alerts to the desk chat.
type Desk struct{ c *Client }

// Desk connects the desk to cmds, which decides cases and answers commands, and
// returns what posts cards and alerts. Call it before Run; until then, button
// presses and commands are answered "not ready".
func (c *Client) Desk(cmds Commands) *Desk {
	c.commands.Store(&commandsBox{c: cmds})
	return &Desk{c: c}
}

// PostCard posts a case to the desk chat, with its buttons.
func (d *Desk) PostCard(ctx context.Context, card bot.Card) error {
	c := d.c
	chat := c.deskChat()
	if card.Desk != "" {
		var err error
		if chat, err = strconv.ParseInt(card.Desk, 10, 64); err != nil {
			return &bot.ActionError{Op: bot.ActForward, Err: fmt.Errorf("telegram: desk chat %q is not a chat id", card.Desk)}
		}
	}
	if chat == 0 {
		return errNoDesk
	}
	return c.postCard(ctx, chat, 0, card)
}

// AlertIn posts an urgent message to another desk chat: a community's.
func (d *Desk) AlertIn(ctx context.Context, to, text string) error {
	chat, err := strconv.ParseInt(to, 10, 64)
	if err != nil {
		return &bot.ActionError{Op: bot.ActAlert, Err: fmt.Errorf("telegram: desk chat %q is not a chat id", to)}
	}
	_, err = d.c.sendMessage(ctx, bot.ActAlert, outgoing{chat: chat, text: "🚨 " + alertText(text)})
	return err
}

// Alert posts an urgent message to the desk chat.
func (d *Desk) Alert(ctx context.Context, text string) error {
	c := d.c
	chat := c.deskChat()
	if chat == 0 {
		return errNoDesk
	}
	_, err := c.sendMessage(ctx, bot.ActAlert, outgoing{chat: chat, text: "🚨 " + alertText(text)})
	return err
}

func (c *Client) postCard(ctx context.Context, chat int64, thread int, card bot.Card) error {
	return c.postCardWithin(ctx, chat, thread, card, 0)
}

// postCardWithin is postCard waiting for Telegram's limits patience at
// most (0: as long as a card does).
func (c *Client) postCardWithin(ctx context.Context, chat int64, thread int, card bot.Card, patience time.Duration) error {
	m := outgoing{chat: chat, thread: thread, html: true, text: c.card(ctx, card, "", ""), patience: patience}
	if kb, ok := keyboard(card); ok {
		m.markup = kb
	}
	sent, err := c.sendMessage(ctx, bot.ActForward, m)
	if err != nil {
		return err
	}
	// Where the card is goes to the store, for whichever process decides
	// the case to edit it. Not an error: the card is posted, and posting it
	// again would make two.
	if sent.Chat != nil && sent.Chat.ID != 0 {
		chat = sent.Chat.ID // where it went: the new id of a group that moved
	}
	if book, ok := c.cmds().(bot.CardBook); ok && sent.MessageID != 0 && card.ID != "" {
		ref := bot.CardRef{Platform: Platform, Chat: itoa(chat), Message: strconv.Itoa(sent.MessageID)}
		if err := book.AddCard(ctx, card.ID, ref); err != nil {
			c.log.Warn("card posted, but where it is was not recorded: a decision taken elsewhere will not show on it",
				"case", card.ID, "chat", chat, "message", sent.MessageID, "err", err)
		}
	}
	return nil
}

// EditCard shows a case as it now stands on a card posted by this process or
// another, without its buttons once decided. A card the platform refuses to
// edit (deleted, or too old) is a permanent error; one it cannot edit now
// (rate limited, down) is worth another try, as for every action.
func (d *Desk) EditCard(ctx context.Context, ref bot.CardRef, card bot.Card, note string) error {
	if ref.Platform != Platform {
		return &bot.ActionError{Op: "edit", Err: fmt.Errorf("telegram: a %s card is not ours", ref.Platform)}
	}
	chat, err1 := strconv.ParseInt(ref.Chat, 10, 64)
	msg, err2 := strconv.Atoi(ref.Message)
	if err := errors.Join(err1, err2); err != nil {
		return &bot.ActionError{Op: "edit", Err: fmt.Errorf("telegram card %s/%s: %w", ref.Chat, ref.Message, err)}
	}
	var markup *tgbotapi.InlineKeyboardMarkup
	if kb, ok := keyboard(card); ok {
		markup = &kb
	}
	return d.c.editMessage(ctx, chat, msg, d.c.card(ctx, card, bot.DeciderName(ctx), note), markup)
}

var _ bot.CardEditor = (*Desk)(nil)

// Callback data is "v1:<case id>:<button>", within Telegram's 64 bytes.
const (
	callbackPrefix = "v1:"
	maxCallback    = 64
)

func keyboard(card bot.Card) (tgbotapi.InlineKeyboardMarkup, bool) {
	if card.Decided() || len(callbackPrefix+card.ID+":unhide") > maxCallback || card.ID == "" {
		return tgbotapi.InlineKeyboardMarkup{}, false
	}
	data := func(button string) string { return callbackPrefix + card.ID + ":" + button }
	if card.Unverified {
		// its message may be forged: keep only (Decide refuses the rest)
		return tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("✅ Keep", data("keep")))), true
	}
	// Each button is offered only where the case's platform can carry it
	// out on its message (card.Offers); the others keep their places.
	button := func(label, name string) []tgbotapi.InlineKeyboardButton {
		d, _ := bot.ButtonDecision(name)
		outcome := d.Outcome
		if name == "reply" {
			outcome = bot.OutcomeReply // its text is asked for after the press
		}
		if !card.Offered(outcome) {
			return nil
		}
		return []tgbotapi.InlineKeyboardButton{tgbotapi.NewInlineKeyboardButtonData(label, data(name))}
	}
	// a page's comment is hidden rather than deleted, as the rules do;
	// deleted where it cannot be hidden
	remove := button("🗑 Delete", "delete")
	if hide := button("🙈 Hide", "hide"); hide != nil && (card.Event.Kind == bot.KindComment || remove == nil) {
		remove = hide
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, row := range [][]tgbotapi.InlineKeyboardButton{
		slices.Concat(button("✅ Keep", "keep"), remove),
		slices.Concat(button("🔇 Mute 1h", "mute"), button("⛔ Ban", "ban"), button("✍️ Reply", "reply")),
	} {
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	// When the rule hid, muted or banned, the CM can undo it from the card;
	// not what failed or was held: the rows above offer to do that.
	var undo []tgbotapi.InlineKeyboardButton
	for _, u := range []struct {
		kind          bot.ActionKind
		label, button string
	}{{bot.ActHide, "👁 Unhide", "unhide"}, {bot.ActBan, "↩️ Unban", "unban"}, {bot.ActTimeout, "🔊 Unmute", "unmute"}} {
		if card.CarriedOut(u.kind) {
			undo = append(undo, button(u.label, u.button)...)
		}
	}
	if len(undo) > 0 {
		rows = append(rows, undo)
	}
	// An FAQ case suggests the answer it was not sure of: sending it from
	// the card also teaches the FAQ the question's wording.
	if bot.SuggestsFAQAnswer(card) && card.Offered(bot.OutcomeAnswer) {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("📖 Send the FAQ answer", data("answer"))))
	}
	return tgbotapi.NewInlineKeyboardMarkup(rows...), true
}

func parseCallback(data string) (caseID, button string, ok bool) {
	rest, ok := strings.CutPrefix(data, callbackPrefix)
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// renderCard writes a case as HTML. decidedName, when known, names the CM who
// decided better than their id.
func renderCard(card bot.Card, decidedName, note string) string {
	return renderNamed(card, cardNames{decider: decidedName}, note)
}

// renderNamed is a card showing the names of n where it has them, ids
// elsewhere.
func renderNamed(card bot.Card, n cardNames, note string) string {
	e := html.EscapeString
	var b strings.Builder
	fmt.Fprintf(&b, "<b>Case %s</b>", e(card.ID))
	if card.Rule != "" {
		fmt.Fprintf(&b, " · rule <b>%s</b>", e(card.Rule))
	}
	if card.Category != "" {
		fmt.Fprintf(&b, " (%s)", e(card.Category))
	}
	b.WriteString("\n")
	if card.Reason != "" {
		fmt.Fprintf(&b, "<i>%s</i>\n", e(truncate(card.Reason, maxReason)))
	}
	writeNotes(&b, card.Notes)
	ev := card.Event
	if card.Unverified {
		fmt.Fprintf(&b, "<b>%s</b>\n", e(bot.UnverifiedText(ev.Platform)))
	}
	who := person{name: ev.Author.Name, username: ev.Author.Username}.shown()
	if who == "" {
		who = ev.Author.ID
	}
	place := ev.Platform
	switch {
	case n.place != "":
		place += " · " + n.place
	case ev.Channel != "" && ev.Channel != ev.Space:
		place += " #" + ev.Channel
	}
	fmt.Fprintf(&b, "%s · %s (id %s)", e(place), e(who), e(ev.Author.ID))
	if !ev.At.IsZero() {
		fmt.Fprintf(&b, " · %s", ev.At.UTC().Format("2006-01-02 15:04 UTC"))
	}
	b.WriteString("\n")
	if n.posesAs != "" {
		fmt.Fprintf(&b, "<b>⚠️ Not the CM %s: named like them</b>\n", e(n.posesAs))
	}
	if ev.Kind != "" && ev.Kind != bot.KindMessage {
		fmt.Fprintf(&b, "[%s] ", e(string(ev.Kind)))
	}
	// what the member showed, forward, hidden links and names included: the
	// CM judges what the rules judged
	if content := ev.Content(); content != "" {
		fmt.Fprintf(&b, "<blockquote>%s</blockquote>\n", e(truncate(inert(content, "/@"), 1500)))
	} else if ev.Attachments > 0 {
		// a sticker, a photo without a caption: say so, rather than a
		// card that seems to quote nothing
		what := "an attachment"
		if ev.Attachments > 1 {
			what = fmt.Sprintf("%d attachments", ev.Attachments)
		}
		fmt.Fprintf(&b, "<i>(no text: %s, such as a sticker or a photo)</i>\n", what)
	}
	if ed := card.Edited; ed != nil && ed.Edits > 0 {
		// edited while the case is open: what it says now, under what it
		// said, and what the rules found in it
		fmt.Fprintf(&b, "<b>%s</b>\n", e(bot.EditedText(ed)))
		if ed.Text != "" {
			fmt.Fprintf(&b, "<blockquote>%s</blockquote>\n", e(truncate(inert(ed.Text, "/@"), 1000)))
		}
		fmt.Fprintf(&b, "<i>%s</i>\n", e(truncate(bot.EditedReason(ed), maxReason)))
	}
	if ed := card.Edited; ed != nil && !ed.Deleted.IsZero() {
		fmt.Fprintf(&b, "<b>%s</b>\n", e(bot.DeletedText(ed)))
	} else if ed != nil && !ed.Unhidden.IsZero() {
		fmt.Fprintf(&b, "<b>%s</b>\n", e(bot.UnhiddenText(ed)))
	}
	if len(card.Suggested) > 0 {
		fmt.Fprintf(&b, "Suggested: %s\n", e(truncate(bot.SuggestedText(card), 300)))
	}
	if strings.HasPrefix(ev.Link, "https://") {
		fmt.Fprintf(&b, "<a href=\"%s\">Open the message</a>\n", e(ev.Link))
	}
	if card.Decided() {
		by := card.DecidedBy
		if n.decider != "" {
			by = n.decider
		}
		fmt.Fprintf(&b, "\n<b>%s</b> — decided by %s", e(outcomeLabel(card.Outcome)), e(by))
		if !card.DecidedAt.IsZero() {
			fmt.Fprintf(&b, " at %s", card.DecidedAt.UTC().Format("15:04 UTC"))
		}
		if note != "" {
			fmt.Fprintf(&b, "\n%s", e(truncate(note, 500)))
		}
	} else if len(callbackPrefix+card.ID+":unhide") > maxCallback {
		fmt.Fprintf(&b, "\n(no buttons: the case id is too long; use /reply %s TEXT)", e(card.ID))
	}
	return b.String()
}

// outcomeLabel names an outcome for the CMs; outcomes may carry their argument as
// the rule file writes it, like timeout(1h) or reply("…").
func outcomeLabel(o string) string {
	name, arg, _ := strings.Cut(o, "(")
	arg = strings.TrimSuffix(arg, ")")
	var label string
	switch name {
	case bot.OutcomeKeep:
		label = "✅ Kept"
	case bot.OutcomeDelete:
		label = "🗑 Deleted"
	case bot.OutcomeHide:
		label = "🙈 Hidden"
	case bot.OutcomeUnhide:
		label = "👁 Shown again"
	case bot.OutcomeTimeout:
		label = "🔇 Muted"
	case bot.OutcomeBan:
		label = "⛔ Banned"
	case bot.OutcomeUnban:
		label = "↩️ Unbanned"
	case bot.OutcomeUntimeout:
		label = "🔊 Unmuted"
	case "kick":
		label = "👢 Kicked"
	case bot.OutcomeReply:
		return "✍️ Answered"
	default:
		return o
	}
	if arg != "" {
		label += " " + arg
	}
	return label
}

// deskUpdate takes the updates meant for the desk: button presses, and commands
// or reply texts in the desk chat or a private chat. It reports whether u was one.
func (c *Client) deskUpdate(ctx context.Context, u update) bool {
	selfID, _ := c.self()
	switch {
	case u.CallbackQuery != nil:
		cb := u.CallbackQuery
		if chat, user, ok := parseVerify(cb.Data); ok {
			c.takePress(ctx, c.asks, &u, cb, func() (string, bool, bool) { return c.verifyPressAnswer(cb, chat, user) },
				func(ctx context.Context) {
					c.handleVerifyPress(ctx, cb, chat, user)
					c.notAsked.Over(ctx)
				})
			return true
		}
		c.takePress(ctx, c.presses, &u, cb, func() (string, bool, bool) { return c.pressAnswer(cb, u.pressedCopy) },
			func(ctx context.Context) { c.handleCallback(ctx, cb) })
		return true
	case u.MyChatMember != nil:
		mc := u.MyChatMember
		c.admins.expire(mc.Chat.ID)
		c.log.Info("vigie's membership changed", "chat", mc.Chat.ID, "title", mc.Chat.Title, "status", mc.NewChatMember.Status)
		if !mc.Chat.IsPrivate() {
			c.ownRightsChanged(mc)
		}
		if addedToGroup(mc) {
			c.addedBy(mc)
		}
		return true
	case u.EditedMessage != nil:
		m := u.EditedMessage
		if m.Chat == nil {
			return false
		}
		inDesk := c.inDesk(m.Chat.ID)
		if r := m.ReplyToMessage; (inDesk || m.Chat.IsPrivate()) && m.From != nil && r != nil && r.From != nil && r.From.ID == selfID {
			if caseID, ok := promptCase(r.Text); ok && c.mayCommandHere(m.Chat.ID, m.From) {
				// A CM fixing her answer to a reply prompt: what went out was
				// the first text, and an edit is not sent again.
				c.tell(func(ctx context.Context) {
					c.say(ctx, m, 0, "vigie takes the answer to a reply prompt once: this edit was not sent. To send the author a correction: /reply "+caseID+" TEXT")
				}, "chat", m.Chat.ID)
				return true
			}
		}
		return inDesk
	case u.Message == nil || u.Message.Chat == nil || u.Message.From == nil:
		return false
	}
	m := u.Message
	inDesk := c.inDesk(m.Chat.ID)
	if !inDesk && !m.Chat.IsPrivate() {
		return false
	}
	if m.From.ID == selfID {
		return true
	}
	// A forward is someone else's words: a command in it is not the
	// forwarder's.
	if name, args, ok := parseCommand(m.Text, c.selfName.Load().(string)); ok && u.origin == nil {
		if m.Chat.IsPrivate() && !isDeskCommand(name) && !c.desk.Load().cms[m.From.ID] {
			// Someone's /start, or a command for something else: a message to vigie,
			// for the rules and the FAQ like any other.
			return false
		}
		thread := u.thread
		c.takeCommand(ctx, &u, m, thread, "/"+name, func(ctx context.Context) { c.handleCommand(ctx, m, thread, name, args) })
		return true
	}
	if r := m.ReplyToMessage; r != nil && r.From != nil && r.From.ID == selfID {
		if caseID, ok := promptCase(r.Text); ok {
			c.takeCommand(ctx, &u, m, 0, "your reply", func(ctx context.Context) { c.handleReplyText(ctx, m, caseID) })
			return true
		}
	}
	return inDesk
}

func cmID(u *tgbotapi.User) string { return Platform + ":" + itoa(u.ID) }

// allowed reports whether u, in chat, may press buttons and command vigie: a
// CM in a desk chat, or anywhere while still in one (inADeskChat), and with
// DeskAdmins an administrator of the desk chat, there.
func (c *Client) allowed(ctx context.Context, u *tgbotapi.User, chat int64) bool {
	if u == nil || u.IsBot {
		return false
	}
	desk := c.desk.Load()
	if desk.cms[u.ID] {
		return c.inDesk(chat) || c.inADeskChat(ctx, u)
	}
	deskChat := c.deskChat()
	return c.cfg.DeskAdmins && deskChat != 0 && chat == deskChat && c.deskAdmin(ctx, deskChat, u.ID)
}

// inADeskChat reports whether u, a CM of desk.cms, is still in one of the
// desk chats, as Telegram says now (getChatMember): the owner of the desk
// chat who removes a CM from it (one who left the team, a phone lost) takes
// the desk from them at once, in private and in the groups too, before
// anyone edits the rule file; no update would say it where vigie is not an
// administrator. A desk that is a private chat says nothing of that kind,
// and when Telegram cannot answer, the rule file's word stands.
func (c *Client) inADeskChat(ctx context.Context, u *tgbotapi.User) bool {
	chats := []int64{c.deskChat()}
	if m := c.deskCommunities.Load(); m != nil {
		for chat := range *m {
			chats = append(chats, c.moved.follow(chat))
		}
	}
	asked := false
	for _, chat := range chats {
		if chat == 0 {
			continue
		}
		if chat > 0 {
			return true // a private chat: nobody is removed from it
		}
		asked = true
		raw, err := c.call(ctx, "", "getChatMember", tgbotapi.Params{"chat_id": itoa(chat), "user_id": itoa(u.ID)})
		if err != nil {
			c.log.Warn("desk: cannot ask whether a CM is still in the desk chat, taken as in it (desk.cms lists them)", "user", cmID(u), "chat", chat, "err", err)
			return true
		}
		var cm tgbotapi.ChatMember
		if err := json.Unmarshal(raw, &cm); err != nil {
			c.log.Warn("desk: getChatMember not understood, the CM taken as in the desk chat", "user", cmID(u), "chat", chat, "err", err)
			return true
		}
		switch cm.Status {
		case "creator", "administrator", "member":
			return true
		case "restricted":
			if cm.IsMember {
				return true
			}
		}
	}
	if !asked {
		return true
	}
	c.log.Warn("desk: refused a CM of desk.cms who is not in the desk chat any more", "audit", true, "user", cmID(u),
		"name", fullName(u), "username", u.UserName)
	return false
}

// notInTheDesk is what a CM of desk.cms who is in no desk chat any more is
// told instead of a stranger's refusal.
const notInTheDesk = "Sorry, you are not in the desk chat any more: vigie takes the CMs' commands and answers only while they are in it. Ask its owner to add you again."

// refusal is what u is told when refused: why, for a CM of desk.cms who left
// the desk chat and for an anonymous administrator; generic, for anyone else.
func (c *Client) refusal(u *tgbotapi.User, generic string) string {
	switch {
	case u != nil && u.ID == anonymousAdmin:
		return anonymousRefused
	case u != nil && c.desk.Load().cms[u.ID]:
		return notInTheDesk
	}
	return generic
}

// anonymousRefused is what an administrator who writes as the chat is told:
// whoever it is cannot be told apart, a CM from anyone else.
const anonymousRefused = "vigie cannot tell who an anonymous administrator is: turn off \"Remain anonymous\" to command vigie."

// refuse records an attempt by someone who may not command vigie.
func (c *Client) refuse(u *tgbotapi.User, chat int64, attempt string) {
	c.log.Warn("desk: refused a stranger", "audit", true, "user", cmID(u), "name", fullName(u),
		"username", u.UserName, "chat", chat, "attempt", attempt)
}

func (c *Client) cmds() Commands {
	if b := c.commands.Load(); b != nil {
		return b.c
	}
	return nil
}

// tellPress tells the presser of a button, whose press was answered already,
// how it went: a message in the chat, answering the message pressed.
func (c *Client) tellPress(ctx context.Context, cb *tgbotapi.CallbackQuery, text string) {
	if cb.Message == nil || cb.Message.Chat == nil || cb.From == nil {
		return
	}
	named := fmt.Sprintf(`<a href="tg://user?id=%d">%s</a>, %s`, cb.From.ID, html.EscapeString(fullName(cb.From)), html.EscapeString(text))
	out := outgoing{chat: cb.Message.Chat.ID, replyTo: cb.Message.MessageID, text: named, html: true}
	if err := c.answerCM(ctx, out, cb.From, upperFirst(text)); err != nil {
		c.log.Warn("cannot tell how a button press went", "chat", cb.Message.Chat.ID, "err", err)
	}
}

// pressWait is the answer to a press whose work is to come.
const pressWait = "⏳ On it: the card will show the outcome."

// pressAnswer is the answer to a press of a card's button, given before any
// work: final when the press needs none (a stranger, a stale button, a
// forwarded copy of a card), so the presser sees it as before.
func (c *Client) pressAnswer(cb *tgbotapi.CallbackQuery, onCopy bool) (text string, alert, final bool) {
	var chat int64
	if cb.Message != nil && cb.Message.Chat != nil {
		chat = cb.Message.Chat.ID
	}
	u := cb.From
	switch {
	case u == nil || u.IsBot:
	case c.desk.Load().cms[u.ID]:
	case c.cfg.DeskAdmins && chat != 0 && chat == c.deskChat():
		// an admin of the desk chat, maybe: the work asks Telegram
	default:
		if u != nil {
			c.refuse(u, chat, "button "+cb.Data)
		}
		return "Sorry, only the community managers of this desk can decide cases.", true, true
	}
	if u == nil || u.IsBot {
		return "Sorry, only the community managers of this desk can decide cases.", true, true
	}
	_, button, ok := parseCallback(cb.Data)
	if _, known := bot.ButtonDecision(button); !ok || (!known && button != "reply") {
		return "This button is no longer valid.", false, true
	}
	if onCopy {
		c.log.Warn("desk: a press on a forwarded copy of a card, not done", "audit", true, "user", cmID(u), "chat", chat, "button", cb.Data)
		return forwardedCard, true, true
	}
	if c.cmds() == nil {
		return "The desk is not ready yet, try again in a moment.", false, true
	}
	if _, dated := cardPosted(cb); !dated {
		c.log.Warn("desk: a press on a card Telegram gives no date of, not done", "audit", true, "user", cmID(u), "chat", chat, "button", cb.Data)
		return undatedCard, true, true
	}
	if button == "reply" {
		// the prompt that follows says what to do
		return "⏳ One moment…", false, false
	}
	return pressWait, false, false
}

// forwardedCard answers a press on a forwarded copy of a card. The copy
// bears the date of its forward, not of the card: after a restart with the
// memory store, an old card forwarded today would pass for the new case of
// the same id, another member's. vigie cannot show the outcome on it either,
// and it may be in a chat of strangers.
const forwardedCard = "Nothing was done: this is a forwarded copy of a case card. Decide on the card in the desk chat, or from /queue."

// undatedCard answers a press on a card Telegram gives no date of.
const undatedCard = "Nothing was done: Telegram no longer shows vigie this card, nor when it was posted, " +
	"so it may be about another case that had the same id. Decide from /queue."

// cardPosted is when the card pressed was posted, by Telegram's clock, for
// Decide to refuse a card older than its case (bot.ErrStaleCard): after a
// restart with the memory store, case ids start again, and an older card's
// buttons name another member's case. Telegram dates messages in whole
// seconds, well within bot.CardClockSlack. A card Telegram no longer shows
// the bot (deleted or otherwise out of reach: an InaccessibleMessage, whose
// date is always 0, since Bot API 7.0) is not dated, and a press on it does
// nothing: it may be a card of the night before, and the case's own card or
// /queue decides it.
func cardPosted(cb *tgbotapi.CallbackQuery) (time.Time, bool) {
	if cb.Message == nil || cb.Message.Date <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(cb.Message.Date), 0), true
}

// handleCallback carries out a press of a card's button, answered already
// (pressAnswer): the card shows the outcome; anything else is told in the chat.
func (c *Client) handleCallback(ctx context.Context, cb *tgbotapi.CallbackQuery) {
	tell := func(text string) {
		ctx, cancel := reportContext(ctx)
		defer cancel()
		c.tellPress(ctx, cb, text)
	}
	var chat int64
	if cb.Message != nil && cb.Message.Chat != nil {
		chat = cb.Message.Chat.ID
	}
	if !c.allowed(ctx, cb.From, chat) {
		c.refuse(cb.From, chat, "button "+cb.Data)
		// Told once per refusalGap, as commands are: each press would
		// otherwise be a message in the desk chat, whose sending the cards
		// need.
		if cb.From != nil && c.refused.first(chat, cb.From.ID) {
			tell(lowerFirst(c.refusal(cb.From, "Sorry, only the community managers of this desk can decide cases.")))
		}
		return
	}
	caseID, button, _ := parseCallback(cb.Data)
	d, _ := bot.ButtonDecision(button)
	cmds := c.cmds()
	posted, _ := cardPosted(cb) // dated: pressAnswer turned down the others
	dctx := bot.WithCardPosted(ctx, posted)
	if button == "reply" {
		// A CM of another community would write the answer for nothing, and an
		// answer to a card older than its case would go to another member: say
		// so now.
		var other *bot.CommunityError
		if cr, ok := cmds.(bot.CaseRights); ok {
			switch err := cr.MayDecide(dctx, caseID, cmID(cb.From)); {
			case errors.As(err, &other):
				tell("sorry, " + other.Error() + ".")
				return
			case errors.Is(err, bot.ErrUnknownCase):
				c.dropButtons(ctx, chat, cb.Message.MessageID, caseID)
				tell(lowerFirst(bot.UnknownCaseText(caseID, "/queue") + bot.ButtonsTakenOff))
				return
			case err != nil: // a stale card
				tell(fmt.Sprintf("could not answer the author of case %s: %v", caseID, err))
				return
			}
		}
		c.promptReply(ctx, cb, caseID)
		return
	}
	d.CaseID, d.By, d.ByName = caseID, cmID(cb.From), fullName(cb.From)
	if cb.Message != nil && cb.Message.Chat != nil {
		ref := bot.CardRef{Platform: Platform, Chat: itoa(cb.Message.Chat.ID), Message: strconv.Itoa(cb.Message.MessageID)}
		dctx = bot.WithCardLost(dctx, ref, c.cardLost(ctx, cb, caseID))
	}
	r := c.decide(dctx, cmds, d)
	ctx, cancel := reportContext(ctx)
	defer cancel()
	if r.show && cb.Message != nil && cb.Message.Chat != nil {
		if err := c.editMessage(ctx, cb.Message.Chat.ID, cb.Message.MessageID, r.html, nil); err != nil {
			c.log.Warn("cannot update the case card", "case", caseID, "err", err)
			if r.done {
				tell(lowerFirst(r.text))
			}
		}
	}
	if r.unknown && cb.Message != nil && cb.Message.Chat != nil {
		c.dropButtons(ctx, cb.Message.Chat.ID, cb.Message.MessageID, caseID)
		r.text += bot.ButtonsTakenOff
	}
	if !r.done && !r.quiet {
		tell(lowerFirst(r.text))
	}
}

// dropButtons takes the buttons off a card, leaving its text: one whose
// case the store does not know, whose every press would do nothing.
func (c *Client) dropButtons(ctx context.Context, chat int64, msg int, caseID string) {
	// Without reply_markup, Telegram takes the buttons off.
	_, err := c.call(ctx, "", "editMessageReplyMarkup", tgbotapi.Params{"chat_id": itoa(chat), "message_id": strconv.Itoa(msg)})
	var ae *APIError
	if err != nil && !(errors.As(err, &ae) && strings.Contains(ae.Description, "message is not modified")) {
		c.log.Warn("cannot take the buttons off a card of a case vigie does not know", "case", caseID, "chat", chat, "message", msg, "err", err)
	}
}

// cardLost tells the presser of a card's button how the case's decision
// stands when the card cannot show it (deleted, or Telegram will not edit
// it any more: "message to edit not found", "message can't be edited"):
// see bot.WithCardLost. A message in the chat answering the card (sent
// without it when it is gone), each thing to say once; the card's edit is
// not tried again.
func (c *Client) cardLost(ctx context.Context, cb *tgbotapi.CallbackQuery, caseID string) func(outcome, note string, err error) {
	first := bot.FirstTime()
	return func(outcome, note string, err error) {
		text := lowerFirst(bot.CardLostText(caseID, outcomeLabel(outcome), err, "vigie cases show "+caseID))
		if note != "" {
			text += "\n" + note
		}
		if !first(text) {
			return
		}
		rctx, cancel := reportContext(ctx)
		defer cancel()
		c.tellPress(rctx, cb, text)
	}
}

// upperFirst is s starting a sentence.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// lowerFirst is s after a name and a comma.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// reportContext is for telling the CM how a decision went, even when carrying it
// out used up the desk's time.
func reportContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// decision is how a decision went, for the CM who took it.
type decision struct {
	text  string // the answer to the CM
	done  bool   // decided and carried out
	quiet bool   // nothing to tell: the CMs were told already
	alert bool   // worth a dialog rather than a toast
	show  bool   // html is the card as it now stands, to show on the card pressed
	html  string
	// unknown says the store knows no such case: the card's buttons, which
	// can only say it again, are taken off.
	unknown bool
}

func (c *Client) decide(ctx context.Context, cmds Commands, d bot.Decision) decision {
	card, err := cmds.Decide(bot.WithDeciderName(ctx, d.ByName), d)
	if !bot.Logged(err) {
		// a decision not carried out was logged, whole, where it was refused
		c.log.Info("desk: decision", "audit", true, "case", d.CaseID, "outcome", d.String(), "by", d.By, "err", err)
	}
	if card.ID == "" {
		card.ID = d.CaseID
	}
	name := func() string {
		if card.DecidedBy == d.By {
			return d.ByName
		}
		return ""
	}
	// Commands that keep the cards showed the decision on every card of the
	// case, this one included. A case decided before is left to the process
	// that decided it, which shows on its cards how its carrying out goes
	// and ends: a late press writing the case again would drop what the
	// card says under the decision ("⚠️ Not carried out", how long a ban
	// lasts), and say done what is not.
	_, shown := cmds.(bot.CardBook)
	var other *bot.CommunityError
	var wait *bot.WaitError
	switch {
	case errors.As(err, &other):
		// audited by the commands as a refusal; nothing was done
		return decision{text: "Sorry, " + other.Error() + ".", alert: true}
	case errors.Is(err, bot.ErrDecided):
		r := decision{text: fmt.Sprintf("Case %s was already decided by %s: %s.", d.CaseID, c.deciderName(ctx, card.DecidedBy, card.DeciderName), outcomeLabel(card.Outcome)), alert: true}
		if card.Decided() && !shown {
			r.show, r.html = true, c.card(ctx, card, name(), "")
		}
		return r
	case errors.As(err, &wait) && wait.Again:
		// Told already when the press was first taken: nothing new.
		return decision{quiet: true}
	case wait != nil:
		return decision{text: fmt.Sprintf("Recorded: %s is not carried out yet: %s. It will be, once; the card will say how it ends.", outcomeLabel(card.Outcome), wait.Why),
			show: !shown, html: c.card(ctx, card, name(), "⏳ Recorded, not carried out yet: "+wait.Why+".")}
	case errors.Is(err, bot.ErrStillTrying):
		// The card says it is being tried, and will say how it ends.
		return decision{text: fmt.Sprintf("Recorded: %s is still being tried, the platform being slow to answer; the card will say how it ends.", outcomeLabel(card.Outcome)),
			show: !shown, html: c.card(ctx, card, name(), "⏳ Being carried out: the platform is slow to answer.")}
	case err != nil && card.Decided():
		return decision{text: "Recorded, but not carried out: " + bot.RefusalWords(err), alert: true,
			show: !shown, html: c.card(ctx, card, name(), bot.NotCarriedOut(err))}
	case errors.Is(err, bot.ErrUnknownCase):
		return decision{text: bot.UnknownCaseText(d.CaseID, "/queue"), alert: true, unknown: true}
	case err != nil:
		return decision{text: fmt.Sprintf("Could not decide case %s: %v", d.CaseID, err), alert: true}
	}
	if !card.Decided() {
		card.Outcome, card.DecidedBy = d.String(), d.By
	}
	return decision{text: "Done: " + outcomeLabel(card.Outcome) + ".", done: true, show: !shown, html: c.card(ctx, card, name(), "")}
}

// promptReply asks the CM for the text of a reply: a message they answer with
// Telegram's reply, which names the case so that any process can take the answer.
func (c *Client) promptReply(ctx context.Context, cb *tgbotapi.CallbackQuery, caseID string) {
	if cb.Message == nil || cb.Message.Chat == nil {
		return
	}
	text := fmt.Sprintf("%s<a href=\"tg://user?id=%d\">%s</a>%s\n%s%s",
		promptStart, cb.From.ID, html.EscapeString(fullName(cb.From)), promptAsk, promptMarker, html.EscapeString(caseID))
	markup := map[string]any{"force_reply": true, "selective": true, "input_field_placeholder": "Reply for case " + truncate(caseID, 40)}
	if _, err := c.sendMessage(ctx, bot.ActReply, outgoing{chat: cb.Message.Chat.ID, replyTo: cb.Message.MessageID, text: text, html: true, markup: markup}); err != nil {
		c.log.Warn("cannot ask for a reply", "case", caseID, "err", err)
	}
}

// A reply prompt's two lines: promptStart NAME promptAsk, then promptMarker
// and the case id.
const (
	promptStart  = "✍️ "
	promptAsk    = ", answer this message with the text to send."
	promptMarker = "Case: "
)

// promptCase reads the case id back from a reply prompt's text. Only the
// prompt's whole shape will do: a card may end with a member's own words,
// and "Case: ID" written there must not make a CM's answer to the card the
// reply of case ID.
func promptCase(text string) (string, bool) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], promptStart) || !strings.HasSuffix(lines[0], promptAsk) {
		return "", false
	}
	id, ok := strings.CutPrefix(lines[1], promptMarker)
	id = strings.TrimSpace(id)
	return id, ok && id != ""
}

func (c *Client) handleReplyText(ctx context.Context, m *tgbotapi.Message, caseID string) {
	if !c.allowed(ctx, m.From, m.Chat.ID) {
		// Told, as a command is: the prompt may have asked them while they
		// were a CM, and a reload took them out since.
		c.refuse(m.From, m.Chat.ID, "reply to case "+caseID)
		c.tellRefused(ctx, m, 0, c.refusal(m.From, "Sorry, only the community managers of this desk can answer a case.")+" Your reply was not sent.", false)
		return
	}
	if m.Text == "" && attachments(m) > 0 {
		// a photo with a caption, a sticker, a voice note: not "empty"
		c.say(ctx, m, 0, "vigie sends only text as a reply: nothing was sent. Answer the prompt again with the words alone.")
		return
	}
	// The prompt was posted when a button of the case's card was pressed: a
	// prompt older than the case was asked for an older case of the same id.
	if p := m.ReplyToMessage; p != nil && p.Date > 0 {
		ctx = bot.WithCardPosted(ctx, time.Unix(int64(p.Date), 0))
	}
	c.decideReply(ctx, m, 0, caseID, m.Text)
}

func (c *Client) decideReply(ctx context.Context, m *tgbotapi.Message, thread int, caseID, text string) {
	say := func(s string) { c.say(ctx, m, thread, s) }
	if strings.TrimSpace(text) == "" {
		say("The reply is empty: nothing was sent.")
		return
	}
	cmds := c.cmds()
	if cmds == nil {
		say("The desk is not ready yet, try again in a moment.")
		return
	}
	d := bot.Decision{CaseID: caseID, Outcome: bot.OutcomeReply, Text: text, By: cmID(m.From), ByName: fullName(m.From)}
	r := c.decide(ctx, cmds, d)
	ctx, cancel := reportContext(ctx)
	defer cancel()
	if r.done {
		r.text = fmt.Sprintf("Reply sent for case %s.", caseID)
	}
	if r.quiet {
		return
	}
	// The cards of the case show the decision: the commands edited them all,
	// wherever they were posted (bot.CardBook).
	say(r.text)
}

// say answers a message in its chat (plain text), see answerCM.
func (c *Client) say(ctx context.Context, m *tgbotapi.Message, thread int, text string) {
	out := outgoing{chat: m.Chat.ID, thread: thread, replyTo: m.MessageID, text: text}
	if err := c.answerCM(ctx, out, m.From, text); err != nil {
		c.log.Warn("cannot answer a command", "chat", m.Chat.ID, "err", err)
	}
}

// answerCM sends out, an answer to the CM to in a chat (the answer to a
// command, what a press came to). Telegram's 429 is waited out once, as long
// as ctx allows. In a group (the desk chat), an answer that Telegram's limits
// would hold back past ctx's deadline (a raid's cards took the chat's messages
// of the minute, or the 429's retry_after is longer) goes to the CM's private
// chat at once, private saying it there, rather than being lost when that time
// is up.
func (c *Client) answerCM(ctx context.Context, out outgoing, to *tgbotapi.User, private string) error {
	dl, ok := ctx.Deadline()
	if !ok || out.chat > 0 || to == nil || to.IsBot {
		// a private chat: Telegram's limits there are a message a second
		_, err := c.sendMessage(ctx, "", out)
		if retryAfter(err) > 0 {
			_, err = c.sendMessage(ctx, "", out)
		}
		return err
	}
	send := func() error {
		// Time is kept for the private answer.
		// On the wall clock: a request's deadline.
		out.patience = max(time.Until(dl)-privateAnswerTime, time.Millisecond)
		_, err := c.sendMessage(ctx, "", out)
		return err
	}
	err := send()
	if retryAfter(err) > 0 {
		// The limiter now holds the chat for as long as Telegram asked.
		err = send()
	}
	if !Throttled(err) {
		return err
	}
	note := "The desk chat is at Telegram's limit of messages for now (the cards take them): vigie answers here.\n\n"
	if _, perr := c.sendMessage(ctx, "", outgoing{chat: to.ID, text: note + private}); perr != nil {
		return fmt.Errorf("the desk chat is at Telegram's limit (%w), and the sender's private chat refused the answer: %w", err, perr)
	}
	c.log.Info("answered in private: the desk chat is at Telegram's limit", "chat", out.chat, "user", cmID(to))
	return nil
}

// privateAnswerTime is what an answer leaves of its command's time to go to
// the sender's private chat instead.
const privateAnswerTime = 3 * time.Second

// sayWithin is say waiting for Telegram's limits patience at most (0: as
// long as an answer does).
func (c *Client) sayWithin(ctx context.Context, m *tgbotapi.Message, thread int, text string, patience time.Duration) {
	if _, err := c.sendMessage(ctx, "", outgoing{chat: m.Chat.ID, thread: thread, replyTo: m.MessageID, text: text, patience: patience}); err != nil {
		c.log.Warn("cannot answer a command", "chat", m.Chat.ID, "err", err)
	}
}

var errUsage = errors.New("usage")

// parseDuration reads a CM's duration: Go's (90s, 10m, 1h30m) plus days (1d, 2d12h).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 366 {
			return 0, errUsage
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, errUsage
		}
	}
	d := days + rest
	if d <= 0 {
		return 0, errUsage
	}
	return d, nil
}

// ownRightsChanged says, once per change Telegram reports, what vigie can no
// longer do in a group it moderates or in a desk chat: removed, no longer an
// administrator, or an administrator without a right its actions need. Its
// actions there then fail, each becoming a case, and the log says why. For a
// group it moderates, the desk chat is told too, since the CMs do not read the
// log: who made the change, what fails, and, once it is mended, that it works
// again.
func (c *Client) ownRightsChanged(mc *tgbotapi.ChatMemberUpdated) {
	chat := mc.Chat.ID
	now := c.sayOwnRights(chat, mc.Chat.Title, mc.NewChatMember)
	desk := c.deskChat()
	if desk == 0 || c.inDesk(chat) || !c.moderates(chat) {
		return
	}
	place := shownName(mc.Chat.Title, maxTitleShown)
	if place == "" {
		place = itoa(chat)
	}
	who := shownName(fullName(&mc.From), maxPersonShown)
	var text string
	switch {
	case now != "":
		text = fmt.Sprintf("⚠️ %s, changed by %s: %s", place, who, now)
	case mc.OldChatMember.Status == "left" || mc.OldChatMember.Status == "kicked":
		text = fmt.Sprintf("✅ %s, changed by %s: vigie was added as an administrator with the rights it needs.", place, who)
	case c.ownRightsProblem(chat, mc.OldChatMember) != "":
		text = fmt.Sprintf("✅ %s, changed by %s: vigie is an administrator with the rights it needs again.", place, who)
	default:
		return
	}
	c.tell(func(ctx context.Context) {
		if _, err := c.sendMessage(ctx, bot.ActAlert, outgoing{chat: desk, text: text}); err != nil {
			c.log.Warn("the desk chat was not told of vigie's rights in a group", "chat", chat, "err", err)
		}
	}, "chat", chat)
}

// checkOwnRights asks Telegram, as Run starts, what vigie may do in each
// group of the chat list, and says what will fail: Discord's connector
// checks its permissions in each server the same way.
func (c *Client) checkOwnRights(ctx context.Context) {
	self, _ := c.self()
	for chat := range c.desk.Load().chats {
		chat = c.moved.follow(chat)
		raw, err := c.call(ctx, "", "getChatMember", tgbotapi.Params{"chat_id": itoa(chat), "user_id": itoa(self)})
		if ctx.Err() != nil {
			return
		}
		var m tgbotapi.ChatMember
		if err == nil {
			err = json.Unmarshal(raw, &m)
		}
		if err != nil {
			c.log.Warn("cannot tell what vigie may do in a group of the chat list (is the id right, and vigie in it?)", "chat", chat, "err", err)
			continue
		}
		c.sayOwnRights(chat, "", m)
	}
}

// sayOwnRights warns of what vigie cannot do in chat as member m, and
// returns the warning ("" when there is none).
func (c *Client) sayOwnRights(chat int64, title string, m tgbotapi.ChatMember) string {
	warning := c.ownRightsProblem(chat, m)
	c.troubles.set(chat, title, warning)
	if warning == "" {
		return ""
	}
	log := c.log.With("chat", chat, "status", m.Status, "audit", true)
	if title != "" {
		log = log.With("title", title)
	}
	log.Warn(warning)
	return warning
}

// ownRightsProblem is what vigie cannot do in chat as member m, "" when
// nothing its work needs is missing.
func (c *Client) ownRightsProblem(chat int64, m tgbotapi.ChatMember) string {
	desk := c.inDesk(chat)
	moderated := c.moderates(chat) && !desk
	switch m.Status {
	case "left", "kicked":
		switch {
		case desk:
			return "vigie was removed from the desk chat: no card nor alert can be posted there until it is added back"
		case moderated:
			return "vigie was removed from a group it moderates: it no longer sees it; add it back as an administrator"
		}
	case "member", "restricted":
		if moderated {
			return "vigie is not an admin of this chat: it can read but not moderate; make it an administrator with Delete messages and Ban users"
		}
	case "administrator":
		if !moderated {
			return ""
		}
		var missing []string
		if !m.CanDeleteMessages {
			missing = append(missing, "Delete messages (delete will fail)")
		}
		if !m.CanRestrictMembers {
			missing = append(missing, "Ban users (timeout, ban, kick, lockdown and verification will fail)")
		}
		if len(missing) > 0 {
			return "vigie is an administrator of this chat without " + strings.Join(missing, ", ") + ": give it the rights"
		}
	}
	return ""
}

// maxReason bounds a case's reason on its card: room for a cause's card
// (handlers' causecards.go), which counts the cases of one refusal, says it
// and names the latest members.
const maxReason = 600
