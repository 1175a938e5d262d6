package meta

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// TellDeletesTo has the connector tell w (the daemon's desk commands) of
// the comments and visitors' posts Meta says were removed, by their author
// or in Meta's tools: the card of an open case says its comment is gone,
// rather than show it as if it were there, as Discord's do. When w is a
// bot.HideWatcher, it is told of those hidden and shown again too.
func (c *Connector) TellDeletesTo(w bot.DeleteWatcher) {
	c.deletes.Store(&w)
}

// removedSuffix ends the queued id of a removal: it is not the comment's
// event, which Meta's retries of the removal must not be taken for.
const removedSuffix = ":removed"

// removalsAtOnce is how many removals are told to the desk at once: each
// reads the store and may draw a card again, beside the comments judged.
const removalsAtOnce = 4

// feedRemoval is the removal of the comment or visitor's post a feed change
// with verb remove names, remembered at once (noteRemoved: an action on it
// has nothing left to do), and queued for the desk to be told; ok is false
// when it names none.
func (c *Connector) feedRemoval(e entry, v feedValue) (q queued, ok bool) {
	id, ok := c.feedTarget(v)
	if !ok {
		return queued{}, false
	}
	c.graph.noteRemoved(id)
	c.log.Debug("removed on the Page (by its author, or in Meta's tools)", "item", v.Item, "id", id)
	return queued{removed: true, ev: bot.Event{
		ID: id + removedSuffix, Platform: Facebook, Kind: bot.KindComment,
		Space: string(e.ID), Channel: string(v.PostID), At: c.at(e.Time.t),
	}}, true
}

// hiddenSuffix and unhiddenSuffix end the queued id of a comment hidden,
// or shown again, before the change's time: Meta's retries of it are
// dropped, a later one (hidden and shown again once more) is not.
const (
	hiddenSuffix   = ":hidden:"
	unhiddenSuffix = ":unhidden:"
)

// feedHiding is the comment or visitor's post a feed change with verb hide
// or unhide names, hidden or shown again (by vigie, by a CM in Meta's
// tools, or by Meta), queued for the desk to be told; ok is false when it
// names none.
func (c *Connector) feedHiding(e entry, v feedValue) (q queued, ok bool) {
	id, ok := c.feedTarget(v)
	if !ok {
		return queued{}, false
	}
	suffix := hiddenSuffix
	if v.Verb == "unhide" {
		suffix = unhiddenSuffix
	}
	at := c.at(e.Time.t)
	c.log.Debug("hidden or shown on the Page", "item", v.Item, "verb", v.Verb, "id", id)
	return queued{hiding: true, ev: bot.Event{
		ID: id + suffix + strconv.FormatInt(at.Unix(), 10), Platform: Facebook, Kind: bot.KindComment,
		Space: string(e.ID), Channel: string(v.PostID), At: at,
	}}, true
}

// feedTarget is the id of the comment or visitor's post a feed change
// names; ok is false when it names none.
func (c *Connector) feedTarget(v feedValue) (id string, ok bool) {
	id = string(v.CommentID)
	if visitorPostItems[v.Item] {
		id = string(v.PostID)
	} else if v.Item != "comment" {
		return "", false
	}
	if id == "" {
		c.log.Debug("feed change without an id, skipped", "item", v.Item, "verb", v.Verb)
		return "", false
	}
	return id, true
}

// tellCard tells the desk of q, a removal or a comment hidden or shown again, beside
// the events judged (removalsAtOnce at most); Run waits for it. It reports
// false when ctx ended before it could start.
func (c *Connector) tellCard(ctx context.Context, q queued) bool {
	w := c.deletes.Load()
	if w == nil {
		return true
	}
	ev := q.ev
	var tell func(context.Context, bot.Event, time.Time)
	switch {
	case q.removed:
		ev.ID = strings.TrimSuffix(ev.ID, removedSuffix)
		tell = (*w).MessageDeleted
	default:
		hw, ok := (*w).(bot.HideWatcher)
		if !ok {
			return true
		}
		if id, _, unhidden := strings.Cut(ev.ID, unhiddenSuffix); unhidden {
			ev.ID, tell = id, hw.MessageUnhidden
		} else {
			ev.ID, _, _ = strings.Cut(ev.ID, hiddenSuffix)
			tell = hw.MessageHidden
		}
	}
	select {
	case c.removalsTold <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	c.retries.Add(1)
	go func() {
		defer c.retries.Done()
		defer func() { <-c.removalsTold }()
		tell(c.reads, ev, ev.At)
	}()
	return true
}

// RemovedAt says when Meta said the comment or visitor's post ev names was
// removed, and whether it did (bot.RemovalKeeper): a comment removed in the
// delivery that brought it has its removal told before its case is open.
func (p *FacebookPage) RemovedAt(ctx context.Context, ev bot.Event) (time.Time, bool) {
	return p.g.removedAt(ctx, CommentID(ev))
}

// RemovedAt says when the Instagram comment ev names was found removed
// (Graph answering a call on it that it does not exist, and a read the
// same), and whether it was (bot.RemovalKeeper).
func (a *InstagramAccount) RemovedAt(ctx context.Context, ev bot.Event) (time.Time, bool) {
	return a.g.removedAt(ctx, CommentID(ev))
}

var (
	_ bot.RemovalKeeper = (*FacebookPage)(nil)
	_ bot.RemovalKeeper = (*InstagramAccount)(nil)
)
