package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/drain"
)

// Run asks Telegram who the bot is, registers the desk's commands, then receives
// updates until ctx is cancelled: by long polling, or in webhook mode through
// WebhookHandler. Group messages go to out as events; button presses and commands
// go to the desk. It returns nil once ctx is cancelled and the desk's work in
// progress is done, and an error when Telegram refuses the bot (bad token, a
// webhook set while polling). Another poller with the same token (a second
// process, or the one before during a restart) makes Telegram end vigie's long
// poll with 409: that is logged and the poll asked again, never the end of Run.
func (c *Client) Run(ctx context.Context, out chan<- bot.Event) error {
	return c.run(ctx, out, c.cfg.Mode, nil)
}

// Offsets keeps the poller's offset where the next poller finds it. With
// several processes, it is what keeps an update from being handled twice:
// a poller commits each batch of updates before handling it, and a commit
// fails once another process polls, so that a poller that lost the job (it
// stalled, or lost its store for a while) stops before it handles anything
// more.
type Offsets interface {
	// Offset returns the first update id not handled yet, 0 when unknown.
	Offset(ctx context.Context) (int, error)
	// Commit records that the updates before offset are handled here; it
	// fails once this process is no longer the one that polls.
	Commit(ctx context.Context, offset int) error
}

// RunPoller receives updates by long polling whatever the Mode, as Run does,
// from offsets' offset on, committing each batch there before handling it.
func (c *Client) RunPoller(ctx context.Context, out chan<- bot.Event, offsets Offsets) error {
	return c.run(ctx, out, ModePolling, offsets)
}

// RegisterWebhook registers WebhookURL with Telegram (setWebhook), for a
// Client whose Run leaves it to another (WebhookElsewhere).
func (c *Client) RegisterWebhook(ctx context.Context) error {
	if c.cfg.WebhookURL == "" {
		return nil
	}
	params := tgbotapi.Params{
		"url":             c.cfg.WebhookURL,
		"secret_token":    c.cfg.WebhookSecret,
		"allowed_updates": jsonParam(allowedUpdates),
	}
	if _, err := c.call(ctx, "", "setWebhook", params); err != nil {
		return fmt.Errorf("telegram: set the webhook: %w", err)
	}
	c.log.Info("webhook set", "url", c.cfg.WebhookURL)
	return nil
}

func (c *Client) run(ctx context.Context, out chan<- bot.Event, mode Mode, offsets Offsets) error {
	c.link.Down(c.cfg.Now(), "asking Telegram who the bot is")
	defer func() { c.link.Down(c.cfg.Now(), "stopped") }()
	me, err := c.getMe(ctx)
	// A 429 says when to ask again: a restart would ask sooner, and be
	// refused again.
	for wait := retryAfter(err); wait > 0 && ctx.Err() == nil; wait = retryAfter(err) {
		c.link.Down(c.cfg.Now(), err.Error())
		c.log.Warn("Telegram asks vigie to wait before it starts", "err", err, "retry_in", wait)
		if !c.pause(ctx, wait) {
			return nil
		}
		me, err = c.getMe(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		c.link.Down(c.cfg.Now(), err.Error())
		return err
	}
	c.link.Up(c.cfg.Now())
	c.selfID.Store(me.ID)
	c.selfName.Store(me.UserName)
	log := c.log.With("bot", "@"+me.UserName)
	desk := c.desk.Load()
	log.Info("connected", "mode", mode, "desk_chat", desk.chat, "cms", len(desk.cms), "chats", len(desk.chats))
	switch {
	case len(desk.chats) == 0 && len(desk.cms) == 0:
		// The starter pack's first run: "only the groups of a CM" would
		// read as some groups.
		log.Warn("no chat list (TELEGRAM_CHATS, desk.telegram_chats) and no Telegram CM in desk.cms: vigie moderates no group yet; " +
			"list the groups' ids to moderate them (a group's id is in the log when vigie is added to it), or name their owner as a CM")
	case len(desk.chats) == 0:
		log.Warn("no chat list (TELEGRAM_CHATS, desk.telegram_chats): vigie moderates only the groups a CM of desk.cms owns, " +
			"and leaves a group someone else adds it to; list the groups' ids to moderate them (a group's id is in the log when vigie is added to it)")
	}
	if desk.chat != 0 && len(desk.cms) == 0 && !c.cfg.DeskAdmins {
		log.Warn("no CM in desk.cms: nobody may press the desk's buttons or send it commands; a CM who sends /status to the bot is refused, " +
			"and the refusal logged here names them (user=telegram:ID), the entry to add to desk.cms (or set TELEGRAM_DESK_ADMINS=true)")
	}
	if !me.CanReadAllGroupMessages {
		log.Warn("privacy mode is on: vigie only sees commands and replies to itself in groups; turn it off with BotFather's /setprivacy")
	}
	// Before the first update: a group named by its old id that moved
	// while no vigie ran is followed from the start.
	c.askMoves(ctx)
	defer c.notAsked.AtStop()
	defer c.tells.Wait()
	defer c.work.Wait()
	// The desk's work the poller takes in (presses, commands) runs under
	// its own claims, not the poller's lease: it ends once taken, also
	// after the lease ran out.
	work := bot.WithoutLeaseHold(ctx)
	c.running.Store(&work)
	stopLookups := c.startAdminLookups(ctx)
	defer stopLookups()
	c.prefetchAdmins()
	c.work.Add()
	go func() {
		defer c.work.Done()
		defer c.guard.Recover("telegram commands menu")
		c.registerCommands(ctx)
		c.checkOwnRights(ctx)
	}()
	if mode == ModeWebhook {
		return c.serveWebhook(ctx, out)
	}
	if offsets == nil {
		offsets = &localOffsets{}
	}
	return c.poll(ctx, out, offsets)
}

// localOffsets is the offset of a poller alone: in memory, from 0.
type localOffsets struct{ n int }

func (o *localOffsets) Offset(context.Context) (int, error) { return o.n, nil }
func (o *localOffsets) Commit(_ context.Context, n int) error {
	o.n = n
	return nil
}

func (c *Client) getMe(ctx context.Context) (tgbotapi.User, error) {
	raw, err := c.call(ctx, "", "getMe", nil)
	if err != nil {
		// The Bot API answers 401 to a token it does not know, 404 to one
		// that is not shaped like a token.
		if ae, ok := errors.AsType[*APIError](err); ok && (ae.Code == http.StatusUnauthorized || ae.Code == http.StatusNotFound) {
			return tgbotapi.User{}, fmt.Errorf("telegram: Telegram refused the token (check TELEGRAM_TOKEN: the token @BotFather gave, whole, or the new one after /revoke): %w", err)
		}
		return tgbotapi.User{}, fmt.Errorf("telegram: who am I: %w", err)
	}
	var me tgbotapi.User
	if err := json.Unmarshal(raw, &me); err != nil {
		return tgbotapi.User{}, fmt.Errorf("telegram: getMe: %w", err)
	}
	return me, nil
}

// poll is the getUpdates loop. Each request carries ctx, so a cancellation ends
// the long poll at once instead of after PollTimeout. Each batch is committed
// to offsets before it is handled: an update is handled once, even when the
// poller moves to another process. With an Inbox, the batch is kept with the
// commit until its events are judged, and a poller first hands on what one
// before it left there (killed between the commit and the judging); without
// one, such a kill loses the batch rather than having it handled twice. Telegram
// itself forgets updates only at the next getUpdates, with a higher offset:
// a poller stopped before it asks again tells Telegram what it handed over
// (confirm), for a next start that has no stored offset.
func (c *Client) poll(ctx context.Context, out chan<- bot.Event, offsets Offsets) (err error) {
	// A webhook left from an earlier run makes getUpdates fail with 409.
	if _, err := c.call(ctx, "", "deleteWebhook", nil); err != nil && ctx.Err() == nil {
		c.log.Warn("cannot remove the webhook before polling", "err", err)
	}
	offset, err := offsets.Offset(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("telegram: the poller's offset: %w", err)
	}
	// asked is the offset Telegram was last sent, handed the one after the
	// last update handed over.
	asked, handed := offset, offset
	defer func() {
		if err == nil && handed > asked {
			c.confirm(ctx, handed)
		}
	}()
	inbox, _ := offsets.(Inbox)
	// leftUnknown: what a poller before left could not be read yet.
	leftUnknown := false
	if inbox != nil {
		stop := make(chan struct{})
		var finishing sync.WaitGroup
		finishing.Go(func() { c.finishing(inbox, stop) })
		defer func() {
			close(stop)
			finishing.Wait()
			if err == nil {
				c.releaseLeft(ctx, inbox, offset)
			}
		}()
		if !c.handOverLeft(ctx, inbox, out, &leftUnknown, offset) {
			return nil
		}
	}
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		if inbox != nil {
			// Once a poll: a removal from the inbox that failed is tried
			// again even when nothing new is judged.
			c.judging.retry()
		}
		asked = offset
		// On the wall clock: how long Telegram held a long poll, a network measure.
		start := time.Now()
		raws, err := c.getUpdates(ctx, offset)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			switch apiCode(err) {
			case http.StatusUnauthorized, http.StatusNotFound:
				return fmt.Errorf("telegram: the token was refused: %w", err)
			case http.StatusConflict:
				if webhookConflict(err) {
					c.webhookSet(c.cfg.Now())
					return fmt.Errorf("telegram: a webhook receives this bot's updates (a vigie in webhook mode?): %w", err)
				}
			}
			failures++
			wait := retryAfter(err)
			if wait == 0 {
				wait = min(time.Duration(1<<min(failures-1, 5))*time.Second, 30*time.Second)
			}
			if c.link.Down(c.cfg.Now(), "long polling failing: "+err.Error()) {
				c.log.Warn("lost Telegram: long polling failing", "err", err)
			}
			if apiCode(err) == http.StatusConflict {
				// A newer getUpdates ended this one: the ended poll handed
				// nothing over, so asking again loses no update. It is the
				// poller of a restart still finishing, or a second process
				// polling with this token, which the log must name, and
				// the desk once it goes on.
				c.log.Warn("another getUpdates took this bot's updates: a second process polls with this token (two vigie, or a restart overlapping); polling again",
					"err", err, "retry_in", wait)
				c.pollConflict(c.cfg.Now())
			} else {
				c.log.Warn("getUpdates failed", "err", err, "retry_in", wait)
			}
			if !c.pause(ctx, wait) {
				return nil
			}
			continue
		}
		failures = 0
		if c.link.Up(c.cfg.Now()) {
			c.log.Info("Telegram reachable again: long polling recovered")
		}
		c.pollTaken(c.cfg.Now())
		if len(raws) == 0 {
			// No update, well before the long poll's end: the server (a
			// proxy, a self-hosted or test server) does not hold the poll.
			// Asking again at once would ask without end.
			if took := time.Since(start); took < c.cfg.PollTimeout/2 {
				if !c.shortPolled.Swap(true) {
					c.log.Warn("getUpdates answers at once without waiting for updates: the Bot API server does not hold long polls; asking every "+shortPollGap.String(),
						"took", took.Round(time.Millisecond), "timeout", c.cfg.PollTimeout)
				}
				if !c.pause(ctx, shortPollGap) {
					return nil
				}
			}
			continue
		}
		batch := make([]update, 0, len(raws))
		good := make([]json.RawMessage, 0, len(raws))
		next := offset
		for _, raw := range raws {
			u, err := decodeUpdate(raw)
			if err != nil {
				c.log.Warn("skipping an update", "err", err)
				// Still confirmed: a bad update must not come back forever.
				next = max(next, updateID(raw)+1)
				continue
			}
			next = max(next, u.UpdateID+1)
			batch = append(batch, u)
			good = append(good, raw)
		}
		kept := false
		if next > offset {
			var err error
			if inbox != nil {
				kept, err = c.keep(ctx, inbox, next, batch, good)
			} else {
				err = offsets.Commit(ctx, next)
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("telegram: updates up to %d not committed, not handled here: %w", next-1, err)
			}
			// Asked again once the store answers a keep: asked before each
			// batch, a store that is away would hold every batch up.
			if kept && leftUnknown && !c.handOverLeft(ctx, inbox, out, &leftUnknown, offset) {
				return nil
			}
			offset = next
		}
		if inbox == nil {
			good = nil // nothing to keep them for
		}
		done, ok := c.handOver(ctx, batch, good, kept, out, nil)
		switch {
		case done == len(batch):
			handed = next // the updates that did not decode too
		case done > 0:
			handed = max(handed, batch[done-1].UpdateID+1)
		}
		if !ok {
			return nil
		}
	}
}

// webhookConflict tells the 409 of a webhook set for the bot ("can't use
// getUpdates method while webhook is active", "terminated by setWebhook
// request") from that of another getUpdates.
func webhookConflict(err error) bool {
	ae, ok := errors.AsType[*APIError](err)
	return ok && strings.Contains(strings.ToLower(ae.Description), "webhook")
}

// confirm tells Telegram that the updates before offset are handled: a
// getUpdates that asks for none and waits for none.
func (c *Client) confirm(ctx context.Context, offset int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	cfg := tgbotapi.UpdateConfig{Offset: offset, Limit: 1, AllowedUpdates: allowedUpdates}
	if _, err := c.api(ctx).Request(cfg); err != nil {
		c.log.Warn("the updates handed over were not confirmed to Telegram: a next start without a stored offset gets them again",
			"offset", offset, "err", c.classify(ctx, "", "getUpdates", err))
	}
}

// keep commits a batch with its updates in the inbox, and the updates still
// open that were taken while the store did not answer. It reports whether
// the batch is in the inbox.
func (c *Client) keep(ctx context.Context, inbox Inbox, next int, batch []update, raws []json.RawMessage) (bool, error) {
	earlier := c.judging.unkept()
	taken := make([]Taken, 0, len(earlier)+len(batch))
	now := c.inboxNow()
	for _, t := range earlier {
		t.At = now // taken a little before, while the store did not answer
		taken = append(taken, t)
	}
	for i, u := range batch {
		taken = append(taken, Taken{ID: u.UpdateID, Raw: raws[i], At: now})
	}
	kept, dropped, err := inbox.Keep(ctx, next, taken)
	if err != nil || !kept {
		return false, err
	}
	c.judging.markKept(earlier)
	if dropped > 0 {
		c.metrics.inbox.WithLabelValues("dropped").Add(float64(dropped))
		c.log.Error("the poller's inbox is full: its oldest updates were let go, and a poller killed now would leave them unjudged",
			"dropped", dropped, "cap", MaxInbox)
	}
	return true, nil
}

// releaseLeft tells the inbox, as the poller stops cleanly (its context
// ended: a shutdown, a drain), that the updates below offset it leaves
// there were not in hand when their process ended: the next poller hands
// them on without counting it toward MaxHandOns, which is for the updates
// whose handling kills the process. Those still judged during the drain
// are removed once judged, as before.
func (c *Client) releaseLeft(ctx context.Context, inbox Inbox, offset int) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	left, err := inbox.Left(rctx)
	if err == nil {
		var ids []int
		for _, t := range left {
			if t.ID < offset || offset == 0 {
				ids = append(ids, t.ID)
			}
		}
		if len(ids) == 0 {
			return
		}
		if err = inbox.Released(rctx, ids); err == nil {
			c.log.Info("updates left in the poller's inbox for the next poller, released: not counted as handed on after a crash",
				"updates", len(ids))
			return
		}
	}
	c.log.Warn("the updates left in the poller's inbox were not released: the store does not answer; the next poller counts their hand-on as after a crash",
		"err", err)
}

// handOverLeft hands on the updates below offset that a poller before kept
// in the inbox and did not finish with (it was killed, or stopped before
// their events were judged), before any new one. When the store does not
// answer, unknown is set, and the poller asks again once it keeps a batch.
// It reports whether the poller may go on.
func (c *Client) handOverLeft(ctx context.Context, inbox Inbox, out chan<- bot.Event, unknown *bool, offset int) bool {
	left, err := inbox.Left(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		if !*unknown {
			c.log.Warn("the updates a poller before left unjudged are not known: the store does not answer; asked again before the next batch", "err", err)
		}
		*unknown = true
		return true
	}
	*unknown = false
	batch := make([]update, 0, len(left))
	raws := make([]json.RawMessage, 0, len(left))
	var bad, poison, expired []int
	now := c.inboxNow()
	for _, t := range left {
		if t.ID >= offset && offset > 0 {
			continue // the batch just kept
		}
		if c.judging.isOpen(t.ID) {
			continue // under way in this process: not handed on again
		}
		if t.HandedOn >= MaxHandOns {
			poison = append(poison, t.ID)
			bad = append(bad, t.ID)
			continue
		}
		if !t.At.IsZero() && now.Sub(t.At) > MaxInboxAge {
			expired = append(expired, t.ID)
			bad = append(bad, t.ID)
			continue
		}
		u, err := decodeUpdate(t.Raw)
		if err != nil {
			c.log.Warn("skipping an update left in the poller's inbox", "update", t.ID, "err", err)
			bad = append(bad, t.ID)
			continue
		}
		batch = append(batch, u)
		raws = append(raws, t.Raw)
	}
	if len(poison) > 0 {
		c.metrics.inbox.WithLabelValues("poison").Add(float64(len(poison)))
		c.log.Error(fmt.Sprintf("%d updates left in the poller's inbox let go unjudged: handed on %d times already, their handling never ended (a crash, a kill, a hang each time)", len(poison), MaxHandOns),
			"updates", poison, "handed_on", MaxHandOns)
	}
	if len(expired) > 0 {
		c.metrics.inbox.WithLabelValues("expired").Add(float64(len(expired)))
		c.log.Error(fmt.Sprintf("%d updates left in the poller's inbox let go unjudged: taken more than %s ago, past the store's duplicate check, so that one judged already could be judged again", len(expired), MaxInboxAge),
			"updates", expired, "max_age", MaxInboxAge)
	}
	if len(bad) > 0 {
		gone := make([]Taken, len(bad))
		for i, id := range bad {
			gone[i] = Taken{ID: id}
		}
		c.judging.letGo(bad)
		c.judging.markKept(gone) // not open: removed from the inbox
	}
	if len(batch) == 0 {
		return true
	}
	for i := range batch {
		batch[i].handedOn = true
	}
	c.log.Info("handing on the updates a poller before took and did not see judged", "updates", len(batch),
		"from", batch[0].UpdateID, "to", batch[len(batch)-1].UpdateID)
	c.metrics.inbox.WithLabelValues("handed_on").Add(float64(len(batch)))
	// Each is counted as its handling begins, not all before the first: a
	// backlog whose handling kills the process (a raid's thousands of
	// updates, out of memory) leaves counted only those its dead pollers
	// reached, and the next poller lets go only those, never the updates no
	// poller got to.
	warned := false
	counting := func(ctx context.Context, id int) {
		if err := inbox.HandingOn(ctx, []int{id}, now); err != nil && !warned {
			warned = true
			c.log.Warn("the updates handed on are not counted in the poller's inbox: the store does not answer; handed on all the same", "update", id, "err", err)
		}
	}
	_, ok := c.handOver(ctx, batch, raws, true, out, counting)
	return ok
}

// handOver dispatches a committed batch. The poller's next start does not ask
// Telegram for it again (offsets), so a shutdown that comes in the middle
// does not cut it short: the rest is still handed over for up to
// DrainTimeout, and what is left after is logged by id (lost, unless it is in
// the inbox: kept). It returns how many of the batch's updates were handed
// over, and whether the poller may go on (ctx still running). counting, when
// set, is told of each update as its handling begins, before it is handed
// over (a hand-on counted).
func (c *Client) handOver(ctx context.Context, batch []update, raws []json.RawMessage, kept bool, out chan<- bot.Event,
	counting func(ctx context.Context, id int)) (done int, ok bool) {
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	// once ctx ends, the batch has DrainTimeout left (a late cancel is a no-op)
	// On the wall clock: a stop's deadline, in real seconds.
	defer context.AfterFunc(ctx, func() { time.AfterFunc(c.cfg.DrainTimeout, cancel) })()
	for i, u := range batch {
		var raw json.RawMessage
		if raws != nil {
			raw = raws[i]
		}
		_, _, open, resume, rest := c.judging.take(u.UpdateID, raw, kept, false)
		if !open {
			continue // under way here already
		}
		if fresh := c.seen.add(u.UpdateID); !fresh && !resume {
			c.judging.dispatched(u.UpdateID)
			continue
		}
		if counting != nil {
			counting(bctx, u.UpdateID)
		}
		if rest, ok := c.dispatchOrResume(bctx, bctx, u, resume, rest, out); !ok {
			c.seen.remove(u.UpdateID)
			c.judging.cut(u.UpdateID, rest)
			ids := drain.Keys(batch[i:], func(u update) string { return strconv.Itoa(u.UpdateID) })
			if kept {
				c.log.Warn(fmt.Sprintf("%d Telegram updates received but not evaluated before shutdown: left in the poller's inbox, for the next poller", len(batch)-i),
					"left", len(batch)-i, "updates", ids)
			} else {
				c.log.Error(fmt.Sprintf("%d Telegram updates received but not evaluated before shutdown", len(batch)-i),
					"lost", len(batch)-i, "updates", ids)
			}
			return i, false
		}
		c.judging.dispatched(u.UpdateID)
		if counting != nil {
			c.awaitHandedOn(bctx, u.UpdateID)
		}
	}
	return len(batch), ctx.Err() == nil
}

// handOnWait bounds how long the poller waits for the events of an update
// handed on to be judged before it hands on the next: a judge that hangs
// holds up the backlog's hand-on that long, not the poller for good.
const handOnWait = 30 * time.Second

// awaitHandedOn waits until the events of update id, handed on, are judged
// (or ctx ends, or handOnWait passes): the next update's hand-on is counted
// only then, as its handling begins. Handed on while this one's events
// still waited in the daemon's queues, the backlog's updates would all be
// counted as in hand at a kill, and after two such kills let go as poison,
// never judged.
func (c *Client) awaitHandedOn(ctx context.Context, id int) {
	judged := c.judging.eventsJudged(id)
	if judged == nil {
		return
	}
	if c.handOnWaits != nil {
		c.handOnWaits(id)
	}
	// On the wall clock: a bound on a judge that hangs, a matter of real time.
	t := time.NewTimer(c.handOnWait)
	defer t.Stop()
	select {
	case <-judged:
	case <-ctx.Done():
	case <-t.C:
		c.log.Warn("an update handed on is not judged yet: the next one is handed on all the same, and a kill now counts both as in hand",
			"update", id, "waited", c.handOnWait)
	}
}

// updateID reads the update_id of an update that does not decode, 0 when
// even that is missing.
func updateID(raw json.RawMessage) int {
	var u struct {
		UpdateID int `json:"update_id"`
	}
	_ = json.Unmarshal(raw, &u)
	return u.UpdateID
}

func (c *Client) getUpdates(ctx context.Context, offset int) ([]json.RawMessage, error) {
	cfg := tgbotapi.UpdateConfig{Offset: offset, Timeout: int(c.cfg.PollTimeout / time.Second), AllowedUpdates: allowedUpdates}
	// The HTTP request must outlive the long poll itself.
	ctx, cancel := context.WithTimeout(ctx, c.cfg.PollTimeout+15*time.Second)
	defer cancel()
	resp, err := c.api(ctx).Request(cfg)
	if err != nil {
		return nil, c.classify(ctx, "", "getUpdates", err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(resp.Result, &raws); err != nil {
		return nil, &bot.ActionError{Op: "getUpdates", Retryable: true, Err: fmt.Errorf("telegram getUpdates: %w", err)}
	}
	return raws, nil
}

// dispatchOrResume is dispatch, or, for an update whose dispatch was cut
// short here (resume), hands over the events rest that it did not.
func (c *Client) dispatchOrResume(ctx, reqCtx context.Context, u update, resume bool, rest []bot.Event, out chan<- bot.Event) ([]bot.Event, bool) {
	if resume {
		return c.handEvents(ctx, reqCtx, u.UpdateID, rest, out)
	}
	return c.dispatch(ctx, reqCtx, u, out)
}

// dispatch hands one update to the desk or, as events, to out. It waits on out
// until ctx or the request (reqCtx) ends, and reports whether the update was
// taken; when not, the events it did not hand over.
func (c *Client) dispatch(ctx, reqCtx context.Context, u update, out chan<- bot.Event) ([]bot.Event, bool) {
	c.noteMigration(u.Message)
	c.dir.learn(u)
	c.keepTopic(ctx, u)
	c.learnMoveFor(ctx, u)
	if c.deskUpdate(ctx, u) {
		return nil, true
	}
	c.adminChanged(u)
	if chat, kind, ok := u.group(); ok {
		c.awaitModeration(ctx, chat)
		if !c.moderates(chat) {
			c.foreign(chat, kind, u)
			return nil, true
		}
	}
	if c.modUpdate(ctx, u) {
		return nil, true
	}
	c.memberUnbanned(ctx, u)
	if m := u.Message; m != nil && m.MediaGroupID != "" && m.Chat != nil && !m.Chat.IsPrivate() && !c.inDesk(m.Chat.ID) &&
		c.albums.add(m.Chat.ID, m.MediaGroupID, m.MessageID) {
		c.albumLate(ctx, m.Chat.ID, m.MessageID)
	}
	evs := c.events(u)
	c.verifying(ctx, evs)
	return c.handEvents(ctx, reqCtx, u.UpdateID, evs, out)
}

// handEvents hands evs, the events of update id, to out, as dispatch does,
// and returns those it did not hand over when ctx or reqCtx ended first.
func (c *Client) handEvents(ctx, reqCtx context.Context, id int, evs []bot.Event, out chan<- bot.Event) ([]bot.Event, bool) {
	c.judging.expect(id, evs)
	for i, ev := range evs {
		c.link.Event(c.cfg.Now())
		select {
		case out <- ev:
			if !c.cfg.ReportsJudged {
				c.judging.judged(ev.Key())
			}
		case <-ctx.Done():
			return evs[i:], false
		case <-reqCtx.Done():
			return evs[i:], false
		}
	}
	return nil, true
}

// serveWebhook registers the webhook when asked, and lets WebhookHandler hand
// updates over until ctx is cancelled.
func (c *Client) serveWebhook(ctx context.Context, out chan<- bot.Event) error {
	if !c.cfg.WebhookElsewhere {
		if err := c.RegisterWebhook(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			c.link.Down(c.cfg.Now(), err.Error())
			return err
		}
	}
	c.sinkMu.Lock()
	c.sink = &sink{ctx: ctx, out: out}
	c.sinkMu.Unlock()
	<-ctx.Done()
	c.sinkMu.Lock()
	c.sink = nil
	c.sinkMu.Unlock()
	return nil
}

// WebhookHandler receives the updates Telegram POSTs in webhook mode (the daemon
// mounts it at /webhooks/telegram). A request without the secret token gets 403;
// while Run is not running, 503, and Telegram tries again later.
func (c *Client) WebhookHandler() http.Handler {
	return http.HandlerFunc(c.serveHTTP)
}

// webhookRoute is where the daemon mounts WebhookHandler, the route its
// refusals are counted under.
const webhookRoute = "/webhooks/telegram"

func (c *Client) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if c.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.cfg.WebhookSecret)) != 1 {
		reason := "bad_secret"
		if got == "" {
			reason = "no_secret"
		}
		c.cfg.Refusals.Refuse(webhookRoute, reason, "telegram: webhook call refused: missing or wrong secret token (X-Telegram-Bot-Api-Secret-Token)", "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookLen))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		// no update is that long: someone who holds the secret is sending it
		c.cfg.Refusals.Refuse(webhookRoute, "too_large", "telegram: webhook call refused: body too large", "remote", r.RemoteAddr, "limit", maxWebhookLen)
		http.Error(w, "body larger than 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	u, err := decodeUpdate(body)
	if err != nil {
		// Telegram would send it again and again: take it and say why in the log.
		c.log.Warn("webhook: skipping an update", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	c.sinkMu.RLock()
	s := c.sink
	if s != nil {
		c.work.Add()
	}
	c.sinkMu.RUnlock()
	if s == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	defer c.work.Done()
	var (
		finished <-chan struct{}
		resume   bool
		rest     []bot.Event
	)
	for {
		f, cutShort, fresh, res, left := c.judging.take(u.UpdateID, nil, false, true)
		if fresh {
			finished, resume, rest = f, res, left
			break
		}
		// Posted again (Telegram gave up on a delivery whose events wait
		// in a queue) while the first delivery is under way: its events
		// are not queued again, behind themselves; this answer waits for
		// them to be judged, or hands the update over itself if the first
		// delivery is cut short before its events are all queued.
		if f == nil {
			w.WriteHeader(http.StatusOK) // not one this answer can wait for
			return
		}
		select {
		case <-f:
			w.WriteHeader(http.StatusOK)
			return
		case <-cutShort:
		case <-r.Context().Done():
			http.Error(w, "not judged yet", http.StatusServiceUnavailable)
			return
		}
	}
	if fresh := c.seen.add(u.UpdateID); !fresh && !resume {
		c.judging.dispatched(u.UpdateID) // judged already
		w.WriteHeader(http.StatusOK)
		return
	}
	if rest, ok := c.dispatchOrResume(s.ctx, r.Context(), u, resume, rest, s.out); !ok {
		// Unseen first: a delivery of it waiting for this one takes it
		// over once it is cut.
		c.seen.remove(u.UpdateID)
		c.judging.cut(u.UpdateID, rest)
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	c.judging.dispatched(u.UpdateID)
	c.awaitJudged(w, r, finished)
}

// awaitJudged answers a webhook delivery 200 once its update is finished:
// its events judged. Telegram sends again an update not answered, so that a
// vigie killed with it still queued loses nothing. A delivery Telegram gives
// up on first leaves the update open here, its events queued: the next
// delivery of it waits for them instead of queueing them again.
func (c *Client) awaitJudged(w http.ResponseWriter, r *http.Request, finished <-chan struct{}) {
	select {
	case <-finished:
		w.WriteHeader(http.StatusOK)
	case <-r.Context().Done():
		http.Error(w, "not judged yet", http.StatusServiceUnavailable)
	}
}

// shortPollGap is the pause between two polls of a server that does not hold
// long polls.
const shortPollGap = time.Second
