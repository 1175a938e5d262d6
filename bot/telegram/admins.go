package telegram

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// Who is an admin of a group is asked with getChatAdministrators, off the intake
// path: a message is described with what the cache knows now, and a lookup that
// is due is handed to a few background workers, one at a time per chat. So a
// slow or hung Bot API never holds up getUpdates or the webhook, but once per
// chat and start when there is no chat list: whether vigie moderates the group
// then hangs on its admins (awaitModeration), which one lookup settles.
//
// What the cache knows, in order of preference: a fresh list; a list that has
// expired but came from a successful lookup (used while it is refreshed, and for
// as long as refreshing fails); nothing, for a chat never listed since the start,
// whose authors then go out with RolesUnknown: judged, but not acted on, until
// the first lookup answers. vigie would rather open a case than mute a moderator.
const (
	adminTTL         = 10 * time.Minute
	adminLookups     = 4  // chats looked up at once
	adminQueue       = 64 // chats waiting for a worker; beyond, a later message asks again
	adminCallTimeout = 10 * time.Second
	adminRetryFirst  = 5 * time.Second // after a failed lookup, doubling on each failure
	adminRetryMax    = 2 * time.Minute
	// adminListedMax bounds the chats whose admin list Telegram gave: chats
	// vigie is in, since Telegram lists the admins of no other. Beyond, the
	// one least used is forgotten.
	adminListedMax = 10000
	// adminUnlistedMax bounds the chats named by events whose list was never
	// had: a made-up chat (an event posted over HTTP may name any) stays
	// there, so a flood of them forgets only others of its kind, never a
	// list Telegram gave.
	adminUnlistedMax = 1000
)

// adminStatus says what is known of user in a group: "creator" or
// "administrator" for its admins, "" for others; known is false when the chat's
// list was never had. A lookup is started in the background when one is due.
func (c *Client) adminStatus(chat, user int64) (status string, known bool) {
	status, known, due := c.admins.get(chat, user)
	if due {
		c.queueAdminLookup(chat)
	}
	return status, known
}

// deskAdmin reports whether user is an admin of the desk chat, as Telegram
// says now (getChatMember): a right to decide cases is not taken from a list
// that may be minutes old, or older while Telegram fails to give a new one,
// and vigie gets no chat_member update of a desk chat where it is not an
// administrator itself. It runs in the desk's own work, so it may wait; when
// the answer cannot be had, the user is not an admin: the desk fails closed.
func (c *Client) deskAdmin(ctx context.Context, chat, user int64) bool {
	raw, err := c.call(ctx, "", "getChatMember", tgbotapi.Params{"chat_id": itoa(chat), "user_id": itoa(user)})
	if err != nil {
		c.log.Warn("desk: cannot ask whether a user is an admin of the desk chat, taken as not", "user", user, "err", err)
		return false
	}
	var cm tgbotapi.ChatMember
	if err := json.Unmarshal(raw, &cm); err != nil {
		c.log.Warn("desk: getChatMember not understood, taken as not an admin", "user", user, "err", err)
		return false
	}
	return cm.Status == "creator" || cm.Status == "administrator"
}

// ResolveRoles says whether the author of ev, sent out with RolesUnknown, is an
// admin of its chat, or a CM of the desk (staff wherever they write, as
// author says), and the roles author would have given them: "creator" or
// "administrator" for an admin, "member" for others, "anonymous_admin",
// "linked_channel" or "channel" for a chat, and "cm" after any for a CM. It
// is called before a group's message is judged, in the chat's own lane of
// actions, or for an event posted over HTTP, so it may wait for the chat's
// first lookup (or make it) until ctx ends.
func (c *Client) ResolveRoles(ctx context.Context, ev bot.Event) (roles []string, staff, known bool) {
	t, err := parseTarget("roles", ev)
	if err != nil || t.user == 0 {
		return nil, false, false
	}
	switch {
	case t.user == t.chat:
		// the group writing as itself: an anonymous administrator
		return []string{"anonymous_admin"}, true, true
	case t.user < 0:
		// A channel: its group's linked channel is staff.
		switch linked, known := c.linkedChannel(ctx, t.chat); {
		case !known:
			return nil, false, false
		case linked == t.user:
			return []string{"linked_channel"}, true, true
		default:
			return []string{"channel"}, false, true
		}
	case c.desk.Load().cms[t.user]:
		// staff wherever they write; their status in the chat is told
		// when it is known, without waiting for it
		status, known := c.admins.peek(t.chat, t.user)
		return append(memberRoles(status, known), "cm"), true, true
	}
	status, known, due := c.admins.get(t.chat, t.user)
	switch {
	case due && known:
		c.queueAdminLookup(t.chat)
	case due:
		c.lookupAdmins(ctx, t.chat)
		status, known = c.admins.peek(t.chat, t.user)
	case !known:
		if w := c.admins.flight(t.chat); w != nil {
			select {
			case <-w:
			case <-ctx.Done():
			}
			status, known = c.admins.peek(t.chat, t.user)
		}
	}
	return memberRoles(status, known), status != "", known
}

// memberRoles are the roles of a user whose status in a group is status
// ("creator", "administrator" or "" for others), or none when the group's
// list is not known.
func memberRoles(status string, known bool) []string {
	switch {
	case status != "":
		return []string{status}
	case known:
		return []string{"member"}
	}
	return nil
}

// ResolveRolesFirst says that a group's roles cost one call for all its
// authors (getChatAdministrators): the daemon asks before judging.
func (c *Client) ResolveRolesFirst() {}

var _ bot.RolesFirst = (*Client)(nil)

// prefetchAdmins has the admins of the groups of the chat list asked for at
// start, in the background, so that their first messages seldom wait for the
// lists (the daemon waits for a list before judging, ResolveRolesFirst). A
// group beyond what the workers' queue holds is asked at its first message.
func (c *Client) prefetchAdmins() {
	for chat := range c.desk.Load().chats {
		c.adminStatus(c.moved.follow(chat), 0)
	}
}

// queueAdminLookup hands chat to the workers without waiting; when they are all
// busy and the queue is full, the lookup is dropped and the next message asks again.
func (c *Client) queueAdminLookup(chat int64) {
	select {
	case c.adminQueue <- chat:
	default:
		c.admins.abandon(chat)
	}
}

// startAdminLookups runs the lookup workers until stop is called, which waits
// for them. Chats still queued are looked up by the next Run.
func (c *Client) startAdminLookups(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range adminLookups {
		wg.Go(func() {
			for {
				select {
				case chat := <-c.adminQueue:
					c.lookupAdmins(ctx, chat)
				case <-ctx.Done():
					return
				}
			}
		})
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// lookupAdmins asks Telegram for chat's admins and records the answer. A failure
// is logged once per streak of failures, and the streak's end too.
func (c *Client) lookupAdmins(ctx context.Context, chat int64) {
	cctx, cancel := context.WithTimeout(ctx, c.adminTimeout)
	defer cancel()
	list, err := c.api(cctx).GetChatAdministrators(tgbotapi.ChatAdministratorsConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: chat}})
	if err != nil && ctx.Err() != nil {
		// Shutting down: not the chat's failure.
		c.admins.abandon(chat)
		return
	}
	if err != nil {
		err = c.classify(cctx, "", "getChatAdministrators", err)
		streak, stale := c.admins.failed(chat, retryAfter(err))
		c.metrics.adminLookups.WithLabelValues("failed").Inc()
		if streak == 1 {
			if stale {
				c.log.Warn("cannot list the chat's admins: its authors are judged with the last list known, until a lookup works",
					"chat", chat, "err", err)
			} else {
				c.log.Warn("cannot list the chat's admins: its authors' roles are unknown, and vigie opens cases instead of acting on them, until a lookup works",
					"chat", chat, "err", err)
			}
		}
		return
	}
	statuses := make(map[int64]string, len(list))
	for _, m := range list {
		if m.User != nil {
			statuses[m.User.ID] = m.Status
		}
	}
	failures := c.admins.listed(chat, statuses)
	c.metrics.adminLookups.WithLabelValues("ok").Inc()
	c.refreshLinked(cctx, chat)
	if failures > 0 {
		c.log.Info("the chat's admins are listed again", "chat", chat, "failed_lookups", failures)
	}
}

// adminCache remembers each chat's administrators, and which lookups are under
// way or waiting after a failure.
type adminCache struct {
	ttl time.Duration
	now func() time.Time
	// maxListed and maxUnlisted bound the chats with a list and without one
	// (adminListedMax, adminUnlistedMax).
	maxListed, maxUnlisted int
	mu                     sync.Mutex
	chats                  map[int64]*adminEntry
	// unlisted are the chats with no list yet.
	unlisted map[int64]struct{}
	// forgotten counts the chats forgotten for the bounds, for the metrics.
	forgotten func(listed bool)
}

type adminEntry struct {
	// statuses is the last list a lookup gave, nil until one did.
	statuses map[int64]string
	// fresh is when the list should be asked again; zero: at the next message.
	fresh time.Time
	// flight is closed when the lookup under way ends; nil when none is.
	flight chan struct{}
	// stale says the chat changed while a lookup was under way: its answer may
	// predate the change, so the next message asks again.
	stale bool
	// pending are the changes heard while a lookup was under way, applied over
	// its answer, which may predate them; pendingOwner is the owner one of
	// them named, 0 for none.
	pending      map[int64]string
	pendingOwner int64
	// ownerLeft says the owner left while a lookup was under way: the owner
	// its answer names, unless a change named them since, is gone.
	ownerLeft bool
	// failures counts the lookups failed in a row; none is tried before retry.
	failures int
	retry    time.Time
	// used is when the chat's list was last read, for the bound of listed chats.
	used time.Time
}

func newAdminCache(ttl time.Duration, now func() time.Time) *adminCache {
	return &adminCache{ttl: ttl, now: now, maxListed: adminListedMax, maxUnlisted: adminUnlistedMax,
		chats: make(map[int64]*adminEntry), unlisted: make(map[int64]struct{}), forgotten: func(bool) {}}
}

// get returns user's status in chat and whether chat's list is known at all. due
// says a lookup should start: the caller now owns it, and must end it with
// listed, failed or abandon.
func (a *adminCache) get(chat, user int64) (status string, known, due bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entryLocked(chat)
	now := a.now()
	e.used = now
	if e.flight == nil && !now.Before(e.fresh) && !now.Before(e.retry) {
		e.flight = make(chan struct{})
		due = true
	}
	status, known = e.statuses[user], e.statuses != nil
	return status, known, due
}

// peek is get without starting a lookup.
func (a *adminCache) peek(chat, user int64) (status string, known bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.chats[chat]; ok {
		return e.statuses[user], e.statuses != nil
	}
	return "", false
}

// flight is closed when chat's lookup under way ends; nil when none is.
func (a *adminCache) flight(chat int64) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.chats[chat]; ok && e.flight != nil {
		return e.flight
	}
	return nil
}

func (a *adminCache) entryLocked(chat int64) *adminEntry {
	if e, ok := a.chats[chat]; ok {
		return e
	}
	if len(a.unlisted) >= a.maxUnlisted {
		// Forget a chat with no list and no lookup under way: a chat named
		// by events that Telegram never listed. Those with a list stay.
		for id := range a.unlisted {
			if a.chats[id].flight == nil {
				delete(a.unlisted, id)
				delete(a.chats, id)
				a.forgotten(false)
				break
			}
		}
	}
	e := &adminEntry{}
	a.chats[chat] = e
	a.unlisted[chat] = struct{}{}
	return e
}

// listLocked counts chat, listed now, among the chats with a list: beyond
// maxListed, the one least used with no lookup under way is forgotten (its
// next message asks Telegram again).
func (a *adminCache) listLocked(chat int64) {
	if _, ok := a.unlisted[chat]; !ok {
		return
	}
	delete(a.unlisted, chat)
	if len(a.chats)-len(a.unlisted) <= a.maxListed {
		return
	}
	var oldest int64
	var oe *adminEntry
	for id, e := range a.chats {
		if id == chat || e.statuses == nil || e.flight != nil {
			continue
		}
		if oe == nil || e.used.Before(oe.used) {
			oldest, oe = id, e
		}
	}
	if oe != nil {
		delete(a.chats, oldest)
		a.forgotten(true)
	}
}

// endLocked ends chat's lookup under way, if any.
func (e *adminEntry) endLocked() {
	if e.flight != nil {
		close(e.flight)
		e.flight = nil
	}
}

// listed records a successful lookup and returns the failures that preceded it.
func (a *adminCache) listed(chat int64, statuses map[int64]string) (failures int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entryLocked(chat)
	if statuses == nil {
		statuses = map[int64]string{}
	}
	e.statuses = statuses
	a.listLocked(chat)
	e.fresh = a.now().Add(a.ttl)
	if e.stale {
		e.fresh, e.stale = time.Time{}, false
	}
	for user, status := range e.pending {
		if status == "" {
			delete(e.statuses, user)
		} else {
			e.statuses[user] = status
		}
	}
	if e.ownerLeft {
		noOwner(e.statuses, e.pendingOwner)
	}
	if e.pendingOwner != 0 {
		oneOwner(e.statuses, e.pendingOwner)
	}
	e.pending, e.pendingOwner, e.ownerLeft = nil, 0, false
	failures = e.failures
	e.failures, e.retry = 0, time.Time{}
	e.endLocked()
	return failures
}

// failed records a failed lookup: the next one waits a while, longer after each
// failure in a row, and at least what Telegram asked (wait). It returns the
// length of the streak, and whether an earlier list is still there to go on.
func (a *adminCache) failed(chat int64, wait time.Duration) (streak int, stale bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entryLocked(chat)
	e.failures++
	backoff := min(adminRetryFirst<<min(e.failures-1, 10), adminRetryMax)
	e.retry = a.now().Add(max(backoff, wait))
	e.stale, e.pending, e.pendingOwner, e.ownerLeft = false, nil, 0, false
	e.endLocked()
	return e.failures, e.statuses != nil
}

// abandon ends a lookup that was not made (no worker free, shutting down).
func (a *adminCache) abandon(chat int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.chats[chat]; ok {
		e.pending, e.pendingOwner, e.ownerLeft = nil, 0, false
		e.endLocked()
	}
}

// ownerLeft records what a chat_owner_left service message says: chat's
// owner left it, and is neither its owner nor one of its administrators
// now. The user it names the next owner is not one until the owner stays
// away (Telegram then sends chat_owner_changed): the chat has no owner
// meanwhile. The list is asked again at the next message.
func (a *adminCache) ownerLeft(chat int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.chats[chat]
	if !ok {
		return
	}
	noOwner(e.statuses, 0)
	if e.flight != nil {
		if e.pendingOwner != 0 {
			if e.pending == nil {
				e.pending = make(map[int64]string)
			}
			e.pending[e.pendingOwner] = ""
		}
		e.pendingOwner, e.ownerLeft = 0, true
	}
	a.expireLocked(e)
}

// noOwner takes out of statuses the owner who left, any but except: the
// owner a change named after they left.
func noOwner(statuses map[int64]string, except int64) {
	for user, status := range statuses {
		if status == "creator" && user != except {
			delete(statuses, user)
		}
	}
}

// changed records what a chat_member update says: user's status in chat is now
// status. The list is asked again at the next message, for whatever else changed.
func (a *adminCache) changed(chat, user int64, status string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.chats[chat]
	if !ok {
		return
	}
	if status != "creator" && status != "administrator" {
		status = ""
	}
	if e.statuses != nil {
		if status != "" {
			e.statuses[user] = status
		} else {
			delete(e.statuses, user)
		}
		if status == "creator" {
			oneOwner(e.statuses, user)
		}
	}
	if e.flight != nil {
		if e.pending == nil {
			e.pending = make(map[int64]string)
		}
		e.pending[user] = status
		switch {
		case status == "creator":
			e.pendingOwner = user
		case user == e.pendingOwner:
			e.pendingOwner = 0
		}
	}
	a.expireLocked(e)
}

// oneOwner makes owner the one owner in statuses: a chat has one, and an
// owner before it who is still listed is one of its administrators now (the
// next lookup says what they are). Told of the new owner alone (the service
// message of a transfer, or its chat_member update for that user only), the
// list would go on naming the one before as an owner too.
func oneOwner(statuses map[int64]string, owner int64) {
	for user, status := range statuses {
		if status == "creator" && user != owner {
			statuses[user] = "administrator"
		}
	}
}

// expire has chat's list asked again at the next message; the current one stays
// in use meanwhile.
func (a *adminCache) expire(chat int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.chats[chat]; ok {
		a.expireLocked(e)
	}
}

func (a *adminCache) expireLocked(e *adminEntry) {
	e.fresh = time.Time{}
	e.retry = time.Time{}
	if e.flight != nil {
		e.stale = true
	}
}
