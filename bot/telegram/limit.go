package telegram

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"
)

// limits are how fast vigie may send messages.
type limits struct {
	perChatGap      time.Duration
	groupPerMinute  int
	globalPerSecond int
}

// telegramLimits are Telegram's published limits on bots' messages: about one a
// second in a chat, twenty a minute in a group, thirty a second in all. Going
// over them earns 429s and, repeated, a longer ban of the bot.
var telegramLimits = limits{perChatGap: time.Second, groupPerMinute: 20, globalPerSecond: 30}

// limiter spaces out the messages vigie sends. Each send reserves the earliest
// moment that keeps every limit, then waits for it; a 429 holds a chat back for
// as long as Telegram asked.
type limiter struct {
	limits
	now    func() time.Time
	mu     sync.Mutex
	global []time.Time // reserved send times, sorted, recent ones only
	chats  map[int64]*chatLimit
}

type chatLimit struct {
	last   time.Time
	prev   time.Time   // the booking before last, for release
	minute []time.Time // sorted; kept for groups only
	held   time.Time
}

func newLimiter(l limits, now func() time.Time) *limiter {
	return &limiter{limits: l, now: now, chats: make(map[int64]*chatLimit)}
}

// maxReserve bounds how far ahead a send may be booked: past it, a raid's
// messages would queue for the rest of the night. The send fails instead (a
// warning is dropped, a card waits for the desk's next round).
const maxReserve = 2 * time.Minute

// errNoSlot is a send that Telegram's limits would hold back longer than
// it may wait (maxReserve, or less).
var errNoSlot = errors.New("telegram's limits leave no slot to send in time")

// Throttled reports whether err is a send that vigie held back itself, to
// keep within Telegram's limits (errNoSlot): Telegram was not asked.
func Throttled(err error) bool { return errors.Is(err, errNoSlot) }

// wait blocks until a message may be sent to chat, or ctx ends. A booking that
// is not used (ctx ended first) is given back, so that cancelled sends do not
// hold the slots of the next ones.
func (l *limiter) wait(ctx context.Context, chat int64) error {
	return l.waitWithin(ctx, chat, maxReserve)
}

// waitWithin is wait for a message that may wait patience at most: a later
// slot is given back, and the send fails with errNoSlot.
func (l *limiter) waitWithin(ctx context.Context, chat int64, patience time.Duration) error {
	deadline := l.now().Add(patience)
	for {
		at := l.reserve(chat)
		d := at.Sub(l.now())
		if d <= 0 {
			return ctx.Err()
		}
		if at.After(deadline) {
			l.release(chat, at)
			return errNoSlot
		}
		// On the wall clock: Telegram counts its send limits in real seconds.
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			l.release(chat, at)
			return ctx.Err()
		}
		// A 429 that came while this send waited (another send's, to the
		// same chat) holds the chat past the slot booked before it: going
		// now would be asking again before the retry_after Telegram gave.
		// The slot is given back, and one after the hold taken.
		if !l.heldPast(chat, at) {
			return nil
		}
		l.release(chat, at)
	}
}

// heldPast reports whether a 429 holds chat beyond at.
func (l *limiter) heldPast(chat int64, at time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	cl := l.chats[chat]
	return cl != nil && cl.held.After(at)
}

// release gives back a booking made by reserve and not used.
func (l *limiter) release(chat int64, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.global = remove(l.global, at)
	if cl := l.chats[chat]; cl != nil {
		cl.minute = remove(cl.minute, at)
		if cl.last.Equal(at) {
			cl.last, cl.prev = cl.prev, time.Time{}
		}
	}
}

// remove drops one t from the sorted ts.
func remove(ts []time.Time, t time.Time) []time.Time {
	i := sort.Search(len(ts), func(i int) bool { return !ts[i].Before(t) })
	if i < len(ts) && ts[i].Equal(t) {
		return append(ts[:i], ts[i+1:]...)
	}
	return ts
}

// reserve books the earliest send time for chat. Group chats have negative ids.
func (l *limiter) reserve(chat int64) time.Time {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	cl := l.chats[chat]
	if cl == nil {
		cl = &chatLimit{}
		l.chats[chat] = cl
	}
	at := now
	if cl.held.After(at) {
		at = cl.held
	}
	if !cl.last.IsZero() && cl.last.Add(l.perChatGap).After(at) {
		at = cl.last.Add(l.perChatGap)
	}
	if chat < 0 {
		cl.minute = since(cl.minute, now.Add(-time.Minute))
		if n := len(cl.minute); n >= l.groupPerMinute {
			if t := cl.minute[n-l.groupPerMinute].Add(time.Minute); t.After(at) {
				at = t
			}
		}
	}
	l.global = since(l.global, now.Add(-time.Second))
	if n := len(l.global); n >= l.globalPerSecond {
		if t := l.global[n-l.globalPerSecond].Add(time.Second); t.After(at) {
			at = t
		}
	}
	if at.After(cl.last) {
		cl.prev, cl.last = cl.last, at
	}
	if chat < 0 {
		cl.minute = insertSorted(cl.minute, at)
	}
	l.global = insertSorted(l.global, at)
	return at
}

// hold keeps chat quiet for d, as a 429's retry_after asks.
func (l *limiter) hold(chat int64, d time.Duration) {
	until := l.now().Add(d)
	l.mu.Lock()
	defer l.mu.Unlock()
	cl := l.chats[chat]
	if cl == nil {
		cl = &chatLimit{}
		l.chats[chat] = cl
	}
	if until.After(cl.held) {
		cl.held = until
	}
}

// sweep forgets chats that have been quiet for a minute, when there are many.
func (l *limiter) sweep(now time.Time) {
	if len(l.chats) < 1000 {
		return
	}
	for id, cl := range l.chats {
		if now.Sub(cl.last) > time.Minute && now.After(cl.held) {
			delete(l.chats, id)
		}
	}
}

// since drops the times before t from a sorted list.
func since(ts []time.Time, t time.Time) []time.Time {
	i := sort.Search(len(ts), func(i int) bool { return !ts[i].Before(t) })
	return ts[i:]
}

func insertSorted(ts []time.Time, t time.Time) []time.Time {
	i := sort.Search(len(ts), func(i int) bool { return ts[i].After(t) })
	ts = append(ts, time.Time{})
	copy(ts[i+1:], ts[i:])
	ts[i] = t
	return ts
}
