package handlers

import (
	"context"
	"errors"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// LocksMember reports whether v asks for an action done with the lock of
// its event's author held (a ban, a kick, a timeout or its removal): one
// that may wait for another ban, kick or lift of the same member.
func LocksMember(v bot.Verdict) bool {
	for _, a := range v.Actions() {
		if a.Kind == bot.ActBan || locksMember(a.Kind) {
			return true
		}
	}
	return false
}

// MemberBusy reports whether the lock of ev's author is held now, here or
// by another instance on the store: a ban, kick or lift of them under way
// (a platform call that hangs, a lift tried again). It does not wait; a
// store that does not answer, or offers no lock, says not busy.
func (m *Moderator) MemberBusy(ctx context.Context, ev bot.Event) bool {
	ml, ok := m.store.(store.MemberLocker)
	if !ok {
		return false
	}
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	unlock, err := ml.LockMember(sctx, store.BanKey(ev), 0)
	if err == nil {
		unlock()
		return false
	}
	return errors.Is(err, store.ErrMemberBusy)
}
