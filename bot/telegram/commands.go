package telegram

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// command is one CM command: its usage line is both the /help text and the answer
// to bad arguments.
type command struct {
	name, args, help string
}

var deskCommands = []command{
	{"status", "", "mode, uptime, platforms, the last hour, open cases"},
	{"pause", "[DURATION]", "only flag and forward, e.g. /pause 2h; without a duration, until /resume"},
	{"resume", "", "enforce the rules again"},
	{"mode", "[office|after [DURATION]|auto]", "office hours (a CM is here) or after hours, for a while or until /mode auto"},
	{"report", "[PERIOD]", "the report of the last period (default 24h), with its chart"},
	{"queue", "", "the open cases, oldest first, with their buttons"},
	{"stats", "[PERIOD]", "hits per rule, category and platform (default 24h)"},
	{"rules", "", "the rules, today's hits, shadow or enforce"},
	{"reload", "", "read the rule file again"},
	{"reply", "CASE TEXT", "answer the author of a case"},
	{"help", "", "this list"},
}

func (k command) usage() string {
	s := "/" + k.name
	if k.args != "" {
		s += " " + k.args
	}
	return s
}

func helpText() string {
	var b strings.Builder
	b.WriteString("vigie's desk commands:\n")
	for _, k := range deskCommands {
		fmt.Fprintf(&b, "%s — %s\n", k.usage(), k.help)
	}
	return b.String()
}

// maxArgsShown bounds the arguments a suggestion repeats: a long /reply's
// text is not written out again.
const maxArgsShown = 64

// unknownCommand answers a desk command vigie does not have, written as
// name with args: the command it is a likely typo of (bot.Closest), with
// the same args, for a CM on a phone to see what went wrong at a glance;
// then the list.
func unknownCommand(name, args string) string {
	names := make([]string, len(deskCommands))
	for i, k := range deskCommands {
		names[i] = k.name
	}
	meant := bot.Closest(name, names)
	if meant == "" {
		return "Unknown command /" + name + ".\n\n" + helpText()
	}
	if utf8.RuneCountInString(args) > maxArgsShown {
		args = "…"
	}
	return "Unknown command /" + name + ": did you mean " + strings.TrimSpace("/"+meant+" "+args) + "?\n\n" + helpText()
}

// maxQueueCards is how many cards /queue posts at once.
const maxQueueCards = 10

// parseCommand splits "/pause@vigie_bot 2h" into "pause" and "2h". A command
// addressed to another bot is not ours.
func parseCommand(text, botName string) (name, args string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	head, args, _ := strings.Cut(strings.TrimSpace(text[1:]), " ")
	if i := strings.IndexAny(head, "\n\t"); i >= 0 {
		head, args = head[:i], head[i+1:]+" "+args
	}
	name, to, addressed := strings.Cut(head, "@")
	if addressed && botName != "" && !strings.EqualFold(to, botName) {
		return "", "", false
	}
	if name == "" {
		return "", "", false
	}
	return strings.ToLower(name), strings.TrimSpace(args), true
}

func isDeskCommand(name string) bool {
	for _, k := range deskCommands {
		if k.name == name {
			return true
		}
	}
	return false
}

func (c *Client) handleCommand(ctx context.Context, m *tgbotapi.Message, thread int, name, args string) {
	say := func(s string) { c.say(ctx, m, thread, s) }
	if !c.allowed(ctx, m.From, m.Chat.ID) {
		c.refuse(m.From, m.Chat.ID, "/"+name)
		c.tellRefused(ctx, m, thread, c.refusal(m.From, "Sorry, only the community managers of this desk can command vigie."), false)
		return
	}
	if name == "start" {
		name = "help" // a CM opening the private chat
	}
	var spec *command
	for i := range deskCommands {
		if deskCommands[i].name == name {
			spec = &deskCommands[i]
		}
	}
	if spec == nil {
		if m.Chat.IsPrivate() || c.inDesk(m.Chat.ID) {
			say(unknownCommand(name, args))
		}
		return
	}
	usage := func() { say("Usage: " + spec.usage() + " — " + spec.help) }
	cmds := c.cmds()
	if cmds == nil && name != "help" {
		say("The desk is not ready yet, try again in a moment.")
		return
	}
	by := cmID(m.From)
	c.log.Info("desk: command", "audit", true, "command", name, "args", args, "by", by)
	var text string
	var err error
	switch name {
	case "help":
		text = helpText()
	case "status", "resume", "queue", "rules", "reload":
		if args != "" {
			usage()
			return
		}
		switch name {
		case "status":
			text, err = cmds.Status(ctx, by)
		case "resume":
			text, err = cmds.Resume(ctx, by)
		case "rules":
			text, err = cmds.Rules(ctx, by)
		case "reload":
			text, err = cmds.Reload(ctx, by)
		case "queue":
			c.postQueue(ctx, m, thread, cmds, by)
			return
		}
	case "pause":
		var d time.Duration
		if args != "" {
			if d, err = parseDuration(args); err != nil {
				usage()
				return
			}
		}
		text, err = cmds.Pause(ctx, d, by)
	case "mode":
		mc, ok := cmds.(bot.ModeCommands)
		if !ok {
			say("/mode is not available.")
			return
		}
		text, err = mc.Mode(ctx, args, by)
	case "report":
		rc, ok := cmds.(bot.ReportCommands)
		if !ok {
			say("/report is not available.")
			return
		}
		period := 24 * time.Hour
		if args != "" {
			if period, err = parseDuration(args); err != nil {
				usage()
				return
			}
		}
		c.postReport(ctx, m, thread, rc, period, by)
		return
	case "stats":
		period := 24 * time.Hour
		if args != "" {
			if period, err = parseDuration(args); err != nil {
				usage()
				return
			}
		}
		text, err = cmds.Stats(ctx, period, by)
	case "reply":
		// The answer may begin on the next line, as it is written on a phone.
		caseID, reply := args, ""
		if i := strings.IndexFunc(args, unicode.IsSpace); i >= 0 {
			caseID, reply = args[:i], args[i:]
		}
		if caseID == "" || strings.TrimSpace(reply) == "" {
			usage()
			return
		}
		c.decideReply(ctx, m, thread, caseID, strings.TrimSpace(reply))
		return
	}
	if err != nil {
		c.log.Warn("desk command failed", "command", name, "err", err)
		say(fmt.Sprintf("/%s failed: %v", name, err))
		return
	}
	if strings.TrimSpace(text) == "" {
		text = "Done."
	}
	say(text)
}

func (c *Client) postQueue(ctx context.Context, m *tgbotapi.Message, thread int, cmds Commands, by string) {
	cards, err := cmds.Queue(ctx, by)
	if err != nil {
		c.log.Warn("desk command failed", "command", "queue", "err", err)
		c.say(ctx, m, thread, "/queue failed: "+err.Error())
		return
	}
	if chat := m.Chat.ID; chat != c.deskChat() {
		// A community's desk chat is shown that community's cases, whoever
		// asks: another brand's members' messages are not its chat's.
		if own := c.communitiesOfDesk(chat); len(own) > 0 {
			cards = slices.DeleteFunc(cards, func(k bot.Card) bool { return !slices.Contains(own, k.Community) })
		}
	}
	if len(cards) == 0 {
		c.say(ctx, m, thread, "No open case.")
		return
	}
	c.say(ctx, m, thread, fmt.Sprintf("%d open case(s), oldest first:", len(cards)))
	q := queueCards{c: c, m: m, chat: m.Chat.ID, thread: thread}
	for i, card := range cards {
		if i == maxQueueCards {
			c.say(ctx, m, thread, fmt.Sprintf("…and %d more: decide these first.", len(cards)-maxQueueCards))
			break
		}
		if err := q.post(ctx, card, min(len(cards), maxQueueCards)-i); err != nil {
			c.log.Warn("cannot post a case card", "case", card.ID, "err", err)
			// The CM was told how many cases there are: say why fewer came.
			rctx, cancel := reportContext(ctx)
			defer cancel()
			c.say(rctx, m, thread, fmt.Sprintf("The card of case %s could not be posted (%v), nor the %d after it: send /queue again in a moment.",
				card.ID, err, min(len(cards), maxQueueCards)-i-1))
			return
		}
	}
}

// queueCards posts /queue's cards where it was sent, or, once a desk
// chat is at Telegram's limit of messages (a raid's cards took the
// chat's twenty a minute), in the private chat of the CM who sent it,
// saying why there, as the answers to the other commands (answerCM):
// rather than wait past the command's time and be lost.
type queueCards struct {
	c       *Client
	m       *tgbotapi.Message
	chat    int64
	thread  int
	private bool
}

// post posts card, one of left cards still to post.
func (q *queueCards) post(ctx context.Context, card bot.Card, left int) error {
	dl, ok := ctx.Deadline() // the time the command has
	if !ok || q.private || q.chat > 0 || q.m.From == nil || q.m.From.IsBot {
		return q.c.postCard(ctx, q.chat, q.thread, card)
	}
	// Time is kept for the cards left to go to the private chat, where
	// Telegram allows a message a second.
	patience := func() time.Duration {
		// On the wall clock: a request's deadline, and Telegram's limit of a message a second.
		return max(time.Until(dl)-privateAnswerTime-time.Duration(left)*time.Second, time.Millisecond)
	}
	err := q.c.postCardWithin(ctx, q.chat, q.thread, card, patience())
	if retryAfter(err) > 0 {
		// The limiter now holds the chat for as long as Telegram asked.
		err = q.c.postCardWithin(ctx, q.chat, q.thread, card, patience())
	}
	if !Throttled(err) {
		return err
	}
	note := fmt.Sprintf("The desk chat is at Telegram's limit of messages for now (the cards take them): vigie posts the %d card(s) left of your /queue here.", left)
	if _, perr := q.c.sendMessage(ctx, "", outgoing{chat: q.m.From.ID, text: note}); perr != nil {
		return fmt.Errorf("the desk chat is at Telegram's limit (%w), and your private chat refused the cards: %w", err, perr)
	}
	q.c.log.Info("desk: /queue's cards posted in the CM's private chat, the desk chat at Telegram's limit", "chat", q.chat, "user", cmID(q.m.From), "cards", left)
	q.chat, q.thread, q.private = q.m.From.ID, 0, true
	return q.c.postCard(ctx, q.chat, 0, card)
}

// registerCommands shows the commands in Telegram's menu, only where CMs command
// vigie: the desk chat and each CM's private chat. A CM who never opened a chat
// with the bot makes Telegram answer "chat not found": that is only logged.
func (c *Client) registerCommands(ctx context.Context) {
	c.modCommandsMenu(ctx)
	var list []tgbotapi.BotCommand
	for _, k := range deskCommands {
		list = append(list, tgbotapi.BotCommand{Command: k.name, Description: k.help})
	}
	var chats []int64
	desk := c.desk.Load()
	if chat := c.deskChat(); chat != 0 {
		chats = append(chats, chat)
	}
	for id := range desk.cms {
		chats = append(chats, id)
	}
	for _, chat := range chats {
		cfg := tgbotapi.SetMyCommandsConfig{Commands: list, Scope: &tgbotapi.BotCommandScope{Type: "chat", ChatID: chat}}
		if _, err := c.request(ctx, "", "setMyCommands", cfg); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("cannot register the commands", "chat", chat, "err", err)
		}
	}
}
