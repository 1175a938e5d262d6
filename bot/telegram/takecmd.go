package telegram

import (
	"context"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// The commands sent to vigie (the desk's, the moderators' in the groups, and
// a CM's answer to a case's reply prompt) run on the desk's few workers, which
// may all be busy for long: Telegram holding vigie's calls back during a raid.
// The updates' loop must not wait for them, or the groups' messages stop being
// judged until a worker is free. So a command is taken off the loop at once,
// into a goroutine of its own that waits for a worker.
//
// maxCommandsWaiting bounds those goroutines: a flood of commands (a stranger
// sending /ban a hundred times) cannot grow them without limit. Each piece of
// desk work gets deskTimeout, so the last of maxCommandsWaiting commands waits
// maxCommandsWaiting/maxDeskWork rounds of it at worst (a minute); beyond that
// the sender is better told to send it again than answered so late. A command
// beyond the bound is not done: it is logged (audit), and its sender is told
// "busy, send it again", once per refusalGap in each chat, by at most
// maxBusyTells goroutines at a time, each waiting refusalPatience at most for
// Telegram's limits; a command beyond those too is logged only.
const (
	maxCommandsWaiting = 4 * maxDeskWork
	maxBusyTells       = 2
)

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
func (c *Client) takeCommand(ctx context.Context, m *tgbotapi.Message, thread int, again string, work func(context.Context)) {
	select {
	case c.waiting <- struct{}{}:
	default:
		c.commandBusy(m, thread, again)
		return
	}
	c.work.Add()
	go func() {
		defer c.work.Done()
		defer c.guard.Recover("telegram desk")
		if run := c.running.Load(); run != nil {
			ctx = *run
		}
		taken := c.work.GoTelling(ctx, work, func(ctx context.Context) {
			rctx, cancel := reportContext(ctx)
			defer cancel()
			c.say(rctx, m, thread, "Something went wrong and "+again+" was not finished: check before sending it again.")
		})
		<-c.waiting
		if !taken {
			c.log.Warn("desk: a command not done, vigie is stopping", "audit", true, "user", cmID(m.From), "chat", m.Chat.ID, "command", again)
			if !c.mayCommandHere(m.Chat.ID, m.From) {
				// a stranger's, to be refused anyway: their refusals are
				// rationed (refusals.go), and so is this
				return
			}
			rctx, cancel := reportContext(ctx)
			defer cancel()
			c.say(rctx, m, thread, "vigie is stopping: nothing was done. Send "+again+" again in a moment.")
		}
	}()
}

// commandBusy turns down a command that came while maxCommandsWaiting others
// wait for a worker.
func (c *Client) commandBusy(m *tgbotapi.Message, thread int, again string) {
	c.log.Warn("desk: a command not done, too many waiting for a worker", "audit", true,
		"user", cmID(m.From), "chat", m.Chat.ID, "command", again, "waiting", maxCommandsWaiting)
	if !c.busyTold.first(m.Chat.ID, m.From.ID) {
		return
	}
	select {
	case c.busyTells <- struct{}{}:
	default:
		return
	}
	c.work.Add()
	go func() {
		defer c.work.Done()
		defer func() { <-c.busyTells }()
		defer c.guard.Recover("telegram desk")
		ctx := context.Background()
		if run := c.running.Load(); run != nil {
			ctx = *run
		}
		ctx, cancel := reportContext(ctx)
		defer cancel()
		text := fmt.Sprintf("vigie is too busy to take %s now: nothing was done. Send it again in a moment.", again)
		out := outgoing{chat: m.Chat.ID, thread: thread, replyTo: m.MessageID, text: text, patience: refusalPatience}
		if _, err := c.sendMessage(ctx, "", out); err != nil {
			c.log.Info("a busy answer was not sent", "chat", m.Chat.ID, "user", cmID(m.From), "err", err)
		}
	}()
}
