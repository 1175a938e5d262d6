package meta

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// OpenCasesWith has the connector open cases through open (the daemon's
// moderator): an Instagram @mention whose text the Graph API would not give,
// after its retries, is a case for the desk rather than an event lost, since
// Meta already got its 200 and will not send it again.
func (c *Connector) OpenCasesWith(open func(context.Context, store.Case) error) {
	c.openCase.Store(&open)
}

// openCaseWait bounds the opening of a case for an unread mention, which may
// come as Run stops.
const openCaseWait = 10 * time.Second

// mentionReadsAtOnce is how many mentions' texts are asked of the Graph API
// at once: a burst of mentions does not become a burst of calls.
const mentionReadsAtOnce = 4

// readMention reads the mention's text, in its own goroutine, which Run
// waits for, and sends the event on out like the others; a text not read is
// asked again (retryMention). The caller took a place in mentionsWaiting:
// it is given back once the mention is handed over or made a case.
func (c *Connector) readMention(ctx context.Context, ev bot.Event, out chan<- bot.Event) {
	c.retries.Add(1)
	c.mentionsOut.Add(1)
	go func() {
		defer c.retries.Done()
		defer func() { <-c.mentionsWaiting }()
		defer c.mentionsOut.Add(-1)
		full, err := c.readMentionText(ctx, ev)
		switch {
		case err == nil:
			c.sendMention(ctx, ev, full, out)
		case ctx.Err() != nil:
			c.unreadMention(ev, fmt.Errorf("vigie stopped before reading it (%w)", err))
		default:
			c.retryMention(ctx, ev, err, out)
		}
	}()
}

// readMentionText is completeMention, within mentionReadsAtOnce.
func (c *Connector) readMentionText(ctx context.Context, ev bot.Event) (bot.Event, error) {
	select {
	case c.mentionReads <- struct{}{}:
	case <-ctx.Done():
		return ev, ctx.Err()
	}
	defer func() { <-c.mentionReads }()
	return c.completeMention(ctx, ev)
}

// sendMention hands the mention read over on out; ctx ending first, it
// becomes a case.
func (c *Connector) sendMention(ctx context.Context, ev, full bot.Event, out chan<- bot.Event) {
	full.Author.ID = orUnnamed(full.Author.ID, CommentID(full))
	select {
	case out <- full:
		c.link.Event(c.cfg.Now())
	case <-ctx.Done():
		c.unreadMention(ev, fmt.Errorf("vigie stopped before judging it: %w", ctx.Err()))
	}
}

// retryMention asks the mention's text again: up to MentionRetries times,
// after MentionRetryWait, then twice as long each time. The text read, the
// event goes on out like the others; still unread, or ctx ending first
// (vigie stopping), it becomes a case. An answer that asking again would not
// change (the comment is gone, the token lacks a permission) is a case at
// once. It runs in readMention's goroutine.
func (c *Connector) retryMention(ctx context.Context, ev bot.Event, err error, out chan<- bot.Event) {
	if !retryable(err) {
		c.unreadMention(ev, err)
		return
	}
	c.log.Warn("instagram mention not readable, asked again later", "comment", CommentID(ev), "media", ev.Channel, "err", err)
	wait := c.cfg.MentionRetryWait
	for range c.cfg.MentionRetries {
		// On the wall clock: the pauses between reads asked of Graph again.
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			c.unreadMention(ev, fmt.Errorf("vigie stopped before reading it again (last error: %w)", err))
			return
		case <-t.C:
		}
		wait *= 2
		full, rerr := c.readMentionText(ctx, ev)
		if rerr == nil {
			c.sendMention(ctx, ev, full, out)
			return
		}
		err = rerr
		if !retryable(err) {
			break
		}
		if ctx.Err() != nil {
			c.unreadMention(ev, fmt.Errorf("vigie stopped before reading it again (last error: %w)", err))
			return
		}
	}
	c.unreadMention(ev, err)
}

// retryable reports whether asking the Graph API again may answer otherwise:
// a 5xx, a timeout, a rate limit.
func retryable(err error) bool {
	var ae *bot.ActionError
	return errors.As(err, &ae) && ae.Retryable
}

// unreadMention opens a case for a mention whose text could not be read, with
// what the delivery said: the comment, the media, the account. Without a way
// to open cases, the mention is logged as an error, by id.
func (c *Connector) unreadMention(ev bot.Event, err error) {
	ev.Author.ID = orUnnamed(ev.Author.ID, CommentID(ev))
	attrs := []any{"comment", CommentID(ev), "media", ev.Channel, "account", ev.Space, "err", err}
	open := c.openCase.Load()
	if open == nil {
		c.log.Error("instagram mention not readable and no desk to tell: it is not judged", attrs...)
		return
	}
	reason := fmt.Sprintf("Instagram @mention of the account not judged: the Graph API did not give its text (%v). "+
		"Comment %s on media %s of another account; read it under the account's mentions in the Instagram app.",
		err, CommentID(ev), ev.Channel)
	ctx, cancel := context.WithTimeout(context.Background(), openCaseWait)
	defer cancel()
	if oerr := (*open)(ctx, store.Case{Event: ev, Reason: reason}); oerr != nil {
		c.log.Error("instagram mention not readable, and its case could not be opened: it is not judged",
			append(attrs, "case_err", oerr)...)
		return
	}
	c.log.Warn("instagram mention not readable: a case is opened for the desk", attrs...)
}
