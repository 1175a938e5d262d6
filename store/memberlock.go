package store

import (
	"context"
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
			ch = make(chan struct{})
			if l.held == nil {
				l.held = make(map[string]chan struct{})
			}
			l.held[key] = ch
			l.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					l.mu.Lock()
					delete(l.held, key)
					l.mu.Unlock()
					close(ch)
				})
			}, nil
		}
		l.mu.Unlock()
		if timeout == nil {
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
