package handlers

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// LocksMember reports whether v asks for an action done with the lock of
// its event's author held (a ban, a kick, a timeout or its removal): one
// that may wait for another ban, kick or lift of the same member.
func LocksMember(v bot.Verdict) bool {
	// Merged in room on the stack: asked for every verdict carried out,
	// and Actions would make a list for each.
	var room [8]bot.Action
	for _, a := range v.AppendActions(room[:0]) {
		if a.Kind == bot.ActBan || locksMember(a.Kind) {
			return true
		}
	}
	return false
}

// heldMember is a member's lock taken before a verdict's carrying out
// (HoldMember), waiting in its context for the first of the verdict's
// actions that asks for that lock (lockMemberWithin): that action has it
// at once, without asking the store again, and lets it go when done, as
// one it took itself. An action after it takes the lock anew.
// It is that context itself: the work's context with the lock as the value
// of heldMemberKey, in the one allocation (context.WithValue made another,
// for every verdict that may ban, kick or time out).
type heldMember struct {
	context.Context
	key    string
	unlock func()
	// held says whether the lock is still this holder's (nil: it cannot
	// be lost).
	held func() bool
	used atomic.Bool // given to an action, or let go
}

type heldMemberKey struct{}

// Value is the held lock for heldMemberKey, the work context's value of
// any other key: cancelling and deadlines are the work context's own.
func (h *heldMember) Value(key any) any {
	if _, ok := key.(heldMemberKey); ok {
		return h
	}
	return h.Context.Value(key)
}

// take hands the held lock over when it is key's and still there.
func (h *heldMember) take(key string) (func(), bool) {
	if h == nil || h.key != key || !h.used.CompareAndSwap(false, true) {
		return nil, false
	}
	return h.unlock, true
}

// release lets the lock go unless an action took it.
func (h *heldMember) release() {
	if h.used.CompareAndSwap(false, true) {
		h.unlock()
	}
}

// HoldMember tries once, without waiting, to take the lock of ev's author
// for a verdict about to be carried out (one LocksMember says true of).
// busy says the lock is held by another (a ban, kick or lift of the member
// under way, here or by another instance on the store): the caller carries
// the verdict out apart, and ctx and release are ctx and a no-op. Taken,
// ctx carries it to the verdict's first action that asks for it, which
// uses it rather than asking the store a second time (the one round trip a
// ban or timeout costs for its lock, where a look then a take cost two);
// release lets it go unless an action took it, and must be called once the
// verdict is carried out. A store that offers no lock, or does not answer,
// says not busy, and holds nothing: the actions take the lock themselves.
func (m *Moderator) HoldMember(ctx context.Context, ev bot.Event) (held context.Context, release func(), busy bool) {
	return m.HoldMemberKey(ctx, store.BanKey(ev))
}

// HoldMemberKey is HoldMember for the member whose store.BanKey is key, for
// a caller that made the key already (the daemon's member lanes, which key
// their members by bot.MemberKey, the same string): made once an event
// rather than twice.
func (m *Moderator) HoldMemberKey(ctx context.Context, key string) (held context.Context, release func(), busy bool) {
	ml, ok := m.store.(store.MemberLocker)
	if !ok {
		return ctx, func() {}, false
	}
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	var unlock func()
	var still func() bool
	var err error
	if w, ok := ml.(store.MemberLockWatcher); ok {
		unlock, still, err = w.LockMemberWatched(sctx, key, 0)
	} else {
		unlock, err = ml.LockMember(sctx, key, 0)
	}
	if err != nil {
		return ctx, func() {}, errors.Is(err, store.ErrMemberBusy)
	}
	h := &heldMember{Context: ctx, key: key, unlock: unlock, held: still}
	return h, h.release, false
}

// heldOf is the lock HoldMember left in ctx, or nil.
func heldOf(ctx context.Context) *heldMember {
	h, _ := ctx.Value(heldMemberKey{}).(*heldMember)
	return h
}
