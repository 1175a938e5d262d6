package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// ErrMemberBusy is what MemberLocker.LockMember wraps when another ban,
// kick or lift of the member held the lock for all of the wait: the action
// is worth another try, later.
// It is bot.ErrMemberBusy, for a platform's own actions to tell it.
var ErrMemberBusy = bot.ErrMemberBusy

// MemberLocker is offered by a store that lets one decision on a member's
// ban be made at a time, by whichever process shares the store: read the
// ban now (the book and the platform), decide whether it is longer, ask the
// platform, write the book. Two bans at once would both find no ban, and
// the shorter one, given last, would replace the longer one's end.
type MemberLocker interface {
	// LockMember takes the lock of key (BanKey), waiting at most wait for
	// its holder to let it go; a holder that died loses it within the
	// store's bound (Redis: MemberLockTTL). It returns the release, to be
	// called once, or an error wrapping ErrMemberBusy when the wait ran out.
	LockMember(ctx context.Context, key string, wait time.Duration) (unlock func(), err error)
}

// ErrMemberLockLost is what an action wraps when the member's lock it held
// was lost before its call to the platform (it ran out while Redis did not
// answer, or Redis lost it: another instance may hold it now). The call is
// not made: the action is tried again with the lock taken anew, or left
// to the desk.
var ErrMemberLockLost = errors.New("the member's lock was lost before the platform's call: another instance may be acting on the member")

// MemberLockWatcher is offered by a MemberLocker whose locks may be lost
// while held (Redis's run out unless renewed). LockMemberWatched is
// LockMember, with held, which says from the lock's renewals alone (no
// round trip) whether the lock is still this holder's: asked before each
// call to the platform made under it.
type MemberLockWatcher interface {
	LockMemberWatched(ctx context.Context, key string, wait time.Duration) (unlock func(), held func() bool, err error)
}

// KeyedLock is a lock per key within one process, waited for with a bound.
// Its zero value is ready. A waiter blocks on a channel, not a mutex, so
// that it can give up at its bound or when its context ends.
type KeyedLock struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when released
}

// Lock takes the lock of key, waiting at most wait, or until ctx ends.
func (l *KeyedLock) Lock(ctx context.Context, key string, wait time.Duration) (unlock func(), err error) {
	var timeout <-chan time.Time
	for {
		l.mu.Lock()
		ch, busy := l.held[key]
		if !busy {
			return l.take(key), nil
		}
		l.mu.Unlock()
		if timeout == nil {
			// On the wall clock: a bound on the wait for a lock, as a request's
			// deadline is, not a date.
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ch:
		case <-timeout:
			return nil, ErrMemberBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// take holds key (l.mu held, and let go here) and returns its release. The
// release is the lock's only record of itself: its channel, still under key
// in held while it is this holder's (a later holder's is another channel),
// which makes a second call a no-op without a sync.Once of its own, and the
// lock two allocations (the channel, the release) rather than three.
func (l *KeyedLock) take(key string) (unlock func()) {
	mine := make(chan struct{})
	if l.held == nil {
		l.held = make(map[string]chan struct{})
	}
	l.held[key] = mine
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		if l.held[key] != mine {
			l.mu.Unlock()
			return
		}
		delete(l.held, key)
		l.mu.Unlock()
		close(mine)
	}
}
