package telegram

import (
	"context"
	"fmt"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskwork"
)

// The commands sent to vigie (the desk's, the moderators' in the groups, and
// a CM's answer to a case's reply prompt) and the buttons pressed run on the
// desk's few workers, which may all be busy for long: Telegram holding
// vigie's calls back during a raid. The updates' loop must not wait for
// them, or the groups' messages stop being judged until a worker is free. So
// each is taken off the loop at once, into a line where it waits for a
// worker (deskwork.Line).
//
// The lines are bounded: a flood of commands or presses (a stranger sending
// /ban a hundred times, CMs pressing every card) cannot grow the goroutines
// waiting without limit. Each piece of desk work gets deskTimeout, so the
// last of maxCommandsWaiting waits maxCommandsWaiting/maxDeskWork rounds of
// it at worst (a minute); beyond that the sender is better told to send it
// again than answered so late. A command or a press beyond the bound is not
// done: it is logged (audit), and its sender told so at once. Presses and
// commands have a line each, so that a burst of one leaves room for the
// other.
//
// What needs no worker (the answer to a stranger's press, to a stale button,
// "too busy") is sent by tells, up to maxTells at a time, each waiting
// refusalPatience at most for Telegram's limits; one beyond those is logged
// only (a stranger's press is audited, a press or command turned away too).
// A stranger's press is refused on the loop itself, from what vigie knows
// (desk.cms): it never takes a place in a line.
//
// Whether someone else may command is only known once a worker asks
// Telegram (with DeskAdmins, any member of the desk chat may be one of its
// administrators; anyone may send a desk command in private). So that one
// such sender cannot take every place before the workers turn them down,
// and leave a CM's press "too busy", a sender who is not a listed CM holds
// at most maxPerSender places in each line while their work waits for a
// worker (the place is given back as the work starts: a moderator's
// commands one after the other never collide, though a command's last
// message may wait for the group's sending limit): one more is turned down as one beyond the line's bound
// is (audited, a press answered at once, a command too unless its sender is
// a stranger as far as vigie knows), and the others keep their places. The
// listed CMs are bounded by the lines alone.
const (
	maxCommandsWaiting = 4 * maxDeskWork
	maxPressesWaiting  = 4 * maxDeskWork
	maxPerSender       = 2
	maxTells           = 4
	tellTimeout        = 5 * time.Second
)

// senderHolds counts, by line and sender, the work waiting in the line for
// a worker. The zero senderHolds is ready.
type senderHolds struct {
	mu sync.Mutex
	n  map[senderPlace]int
}

type senderPlace struct {
	line *deskwork.Line
	user int64
}

// take counts one more piece of work of user's in line, unless user has
// maxPerSender already, and returns what gives it back (once, whatever
// calls it), or nil.
func (h *senderHolds) take(line *deskwork.Line, user int64) (give func()) {
	k := senderPlace{line, user}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n[k] >= maxPerSender {
		return nil
	}
	if h.n == nil {
		h.n = map[senderPlace]int{}
	}
	h.n[k]++
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.n[k]--; h.n[k] <= 0 {
				delete(h.n, k)
			}
		})
	}
}

// hold takes a place of user's in line (see senderHolds): a listed CM's
// costs nothing. It returns what gives it back, or nil when user holds
// maxPerSender places there already.
func (c *Client) hold(line *deskwork.Line, user int64) (give func()) {
	if c.desk.Load().cms[user] {
		return func() {}
	}
	return c.held.take(line, user)
}

// runContext is Run's context while it runs, else ctx: work taken off the
// loop waits for a worker as long as vigie runs, not as long as the batch of
// updates that brought it.
func (c *Client) runContext(ctx context.Context) context.Context {
	if run := c.running.Load(); run != nil {
		return *run
	}
	return ctx
}

// takeCommand hands m, a command or a reply text, to the desk's workers
// without waiting for one: work runs once a worker is free. again names what
// to send again when it is not done ("/queue", "your reply").
//
// Once taken, the update counts as handed over (the poller confirms it to
// Telegram): it is carried out, or it is logged and its sender told that it
// was not: vigie stopped before a worker was free (logged with audit=true;
// told to the senders who may command there, as far as vigie knows without
// asking Telegram: a stranger's command would be refused anyway), or the
// work broke off (the guard reports the panic).
//
// With an inbox (a poller that keeps what it takes), the update stays in it
// until the work ends, whichever way: a vigie killed meanwhile leaves it for
// the next poller, which does the work (handed on: bot.WithHandedOn).
func (c *Client) takeCommand(ctx context.Context, u *update, m *tgbotapi.Message, thread int, again string, work func(context.Context)) {
	give := c.hold(c.cmdLine, m.From.ID)
	if give == nil {
		// A stranger's commands are refused by the workers anyway, each
		// refusal rationed (refusals.go): "too busy" on top of it would
		// be one more message of theirs in the chat.
		c.commandBusy(m, thread, again, "desk: a command not done, this sender has too many waiting", maxPerSender,
			c.mayCommandHere(m.Chat.ID, m.From))
		return
	}
	ctx = c.runContext(ctx)
	release := c.judging.hold(u.UpdateID)
	id, handedOn := u.UpdateID, u.handedOn
	taken := c.cmdLine.Go(ctx, deskwork.Job{
		Work: func(ctx context.Context) {
			defer release() // a panic too: Broke tells the sender
			give()
			ctx = c.holding(ctx, id, handedOn)
			work(ctx)
		},
		Broke: func(ctx context.Context) {
			rctx, cancel := reportContext(ctx)
			defer cancel()
			c.say(rctx, m, thread, "Something went wrong and "+again+" was not finished: check before sending it again.")
		},
		Dropped: func() {
			// told to send it again: not handed on
			defer release()
			give()
			c.log.Warn("desk: a command not done, vigie is stopping", "audit", true, "user", cmID(m.From), "chat", m.Chat.ID, "command", again)
			if !c.mayCommandHere(m.Chat.ID, m.From) {
				// a stranger's, to be refused anyway: their refusals are
				// rationed (refusals.go), and so is this
				return
			}
			rctx, cancel := reportContext(ctx)
			defer cancel()
			c.say(rctx, m, thread, "vigie is stopping: nothing was done. Send "+again+" again in a moment.")
		},
	})
	if !taken {
		release()
		give()
		c.commandBusy(m, thread, again, "desk: a command not done, too many waiting for a worker", maxCommandsWaiting, true)
	}
}

// commandBusy turns down a command that came while waiting others wait for
// a worker (in all, or the sender's): logged as msg (audit), and, with tell,
// its sender told, once per refusalGap in each chat.
func (c *Client) commandBusy(m *tgbotapi.Message, thread int, again, msg string, waiting int, tell bool) {
	c.log.Warn(msg, "audit", true,
		"user", cmID(m.From), "chat", m.Chat.ID, "command", again, "waiting", waiting)
	if !tell || !c.busyTold.first(m.Chat.ID, m.From.ID) {
		return
	}
	c.tell(func(ctx context.Context) {
		text := fmt.Sprintf("vigie is too busy to take %s now: nothing was done. Send it again in a moment.", again)
		out := outgoing{chat: m.Chat.ID, thread: thread, replyTo: m.MessageID, text: text, patience: refusalPatience}
		if _, err := c.sendMessage(ctx, "", out); err != nil {
			c.log.Info("a busy answer was not sent", "chat", m.Chat.ID, "user", cmID(m.From), "err", err)
		}
	}, "chat", m.Chat.ID, "user", cmID(m.From))
}

// tell runs fn, an answer that needs no worker, at once on tells, or logs
// that it was not sent (what names it) when maxTells are under way.
func (c *Client) tell(fn func(context.Context), what ...any) {
	if !c.tells.TryGo(c.runContext(context.Background()), fn) {
		c.log.Info("an answer was not sent: too many under way", what...)
	}
}

// holding is ctx for the work of update id: a decision carried out in the
// background holds the update as its work does (bot.WithHold), and one
// handed on is marked so (bot.WithHandedOn).
func (c *Client) holding(ctx context.Context, id int, handedOn bool) context.Context {
	ctx = bot.WithHold(ctx, func() func() { return c.judging.hold(id) })
	if handedOn {
		ctx = bot.WithHandedOn(ctx)
	}
	return ctx
}

// takePress answers a button press at once, then hands its work to the
// desk's workers through line. Telegram spins the button until the press is
// answered and refuses an answer that comes some seconds late ("query is too
// old"); the workers may all be busy for longer. quick says the answer, on
// the loop and without a call (a toast, or a dialog with alert), and whether
// it is all (final: no work to do, such as a stranger's press): a final
// answer is sent by tells and takes no place. Otherwise the answer goes
// first, from the press's place in line, neither on the updates' loop nor
// behind the work. What the work finds out after is shown on the card, or
// told in the chat (tellPress).
//
// With an inbox, the update stays in it until the work ends, as a
// command's does (takeCommand). A press handed on from there (its poller
// was killed) is not answered again: the first answer went as the press
// was taken, and Telegram takes an answer only within seconds of the
// press; what its work finds is shown on the card or told in the chat.
func (c *Client) takePress(ctx context.Context, line *deskwork.Line, u *update, cb *tgbotapi.CallbackQuery, quick func() (text string, alert, final bool), work func(context.Context)) {
	text, alert, final := quick()
	if u.handedOn {
		c.log.Info("desk: a press handed on from a poller that stopped before its end: done now, not answered again",
			"update", u.UpdateID, "press", cb.ID, "button", cb.Data, "answer", text)
	}
	if final {
		if !u.handedOn {
			c.tell(func(ctx context.Context) { c.answerPressOrTell(ctx, cb, text, alert) }, "press", cb.ID)
		}
		return
	}
	// Not final: a press of someone (quick answers a press of no one, or of
	// a bot, with final).
	give := c.hold(line, cb.From.ID)
	if give == nil {
		c.pressBusy(cb, "desk: a press not done, this sender has too many waiting", maxPerSender)
		return
	}
	ctx = c.runContext(ctx)
	release := c.judging.hold(u.UpdateID)
	id, handedOn := u.UpdateID, u.handedOn
	taken := line.Go(ctx, deskwork.Job{
		First: func() bool {
			if handedOn {
				return true
			}
			actx, cancel := reportContext(ctx)
			defer cancel()
			c.answerPress(actx, cb, text, alert)
			return true
		},
		Work: func(ctx context.Context) {
			defer release() // a panic too: Broke tells the presser
			give()
			ctx = c.holding(ctx, id, handedOn)
			work(ctx)
		},
		Broke: func(ctx context.Context) {
			rctx, cancel := reportContext(ctx)
			defer cancel()
			c.tellPress(rctx, cb, "something went wrong and this was not finished: look at the case or the member before pressing again.")
		},
		Dropped: func() {
			// told to press again: not handed on
			defer release()
			give()
			rctx, cancel := reportContext(ctx)
			defer cancel()
			c.tellPress(rctx, cb, "vigie is stopping: nothing was done. Press again in a moment.")
		},
	})
	if !taken {
		release()
		give()
		c.pressBusy(cb, "desk: a press not done, too many waiting for a worker", maxPressesWaiting)
	}
}

// pressBusy turns down a press that came while waiting others wait for a
// worker (its line full, or the sender's places): logged as msg (audit), and
// answered at once, so that the button does not spin.
func (c *Client) pressBusy(cb *tgbotapi.CallbackQuery, msg string, waiting int) {
	var chat, user int64
	if cb.Message != nil && cb.Message.Chat != nil {
		chat = cb.Message.Chat.ID
	}
	if cb.From != nil {
		user = cb.From.ID
	}
	c.log.Warn(msg, "audit", true,
		"user", Platform+":"+itoa(user), "chat", chat, "button", cb.Data, "waiting", waiting)
	c.tell(func(ctx context.Context) {
		c.answerPressOrTell(ctx, cb, "vigie is too busy: nothing was done. Press again in a moment.", true)
	}, "press", cb.ID)
}

// answerPress answers a button press: Telegram stops spinning it and shows
// text (a dialog with alert).
func (c *Client) answerPress(ctx context.Context, cb *tgbotapi.CallbackQuery, text string, alert bool) {
	c.sendPressAnswer(ctx, cb, text, alert)
}

func (c *Client) sendPressAnswer(ctx context.Context, cb *tgbotapi.CallbackQuery, text string, alert bool) error {
	_, err := c.request(ctx, "", "answerCallbackQuery", tgbotapi.CallbackConfig{CallbackQueryID: cb.ID, Text: truncate(text, 200), ShowAlert: alert})
	if err != nil {
		c.log.Warn("cannot answer a button press", "press", cb.ID, "err", err)
	}
	return err
}

// answerPressOrTell answers a press with its final word: nothing more is
// done, and no card will say anything. Telegram takes an answer for a few
// seconds only ("query is too old and response timeout expired or query ID
// is invalid": a press that waited in the updates while vigie was stopped
// or slow); then a CM's press in the desk chat is told in the chat, rather
// than left with a button that spun and nothing else.
func (c *Client) answerPressOrTell(ctx context.Context, cb *tgbotapi.CallbackQuery, text string, alert bool) {
	err := c.sendPressAnswer(ctx, cb, text, alert)
	if err == nil || bot.Retryable(err) || cb.From == nil || !c.desk.Load().cms[cb.From.ID] ||
		cb.Message == nil || cb.Message.Chat == nil || !c.inDesk(cb.Message.Chat.ID) {
		return
	}
	c.tellPress(ctx, cb, lowerFirst(text))
}
