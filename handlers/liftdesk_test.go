package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// lockProbeDesk is a desk that, as each alert comes, asks for the lock of
// member on st: the lock is to be free while the desk is told, however
// long the desk takes (a chat rate-limited for 30 seconds, its tries).
type lockProbeDesk struct {
	deskRecorder
	st     store.MemberLocker
	member string
	mu     sync.Mutex
	busy   []string // the alerts told while the lock was held
}

func (d *lockProbeDesk) Alert(ctx context.Context, text string) error {
	unlock, err := d.st.LockMember(ctx, d.member, 10*time.Millisecond)
	if err == nil {
		unlock()
	} else if errors.Is(err, store.ErrMemberBusy) {
		d.mu.Lock()
		d.busy = append(d.busy, text)
		d.mu.Unlock()
	}
	return d.deskRecorder.Alert(ctx, text)
}

// The desk is told of a lift that failed, or of a ban that a lift undid and
// that could not be given again, once the member's lock is let go: a desk
// that is slow to answer holds no ban, kick or lift of the member back.
func TestLiftTellsTheDeskWithTheMemberLockLetGo(t *testing.T) {
	refused := &bot.ActionError{Op: bot.ActBan, Err: fmt.Errorf("discord: 403 Missing Permissions")}
	tests := []struct {
		name string
		errs map[string][]error
		// again bans the member again during the unban, by a process
		// that takes no lock.
		again bool
		told  string
	}{
		{"the lift refused", map[string][]error{"unban": {refused}}, false, "could not be lifted"},
		{"the ban given again refused", map[string][]error{"ban": {nil, nil, refused}}, true, "could not be given again"},
	}
	for _, tt := range tests {
		for name, st := range redistest.Stores(t) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				ctx := context.Background()
				clk := &clock{t: at}
				p := &bannedDuringLift{chat: chat{recorder: recorder{name: "discord", errs: maps.Clone(tt.errs)}}}
				desk := &lockProbeDesk{st: st.(store.MemberLocker), member: store.BanKey(event("discord"))}
				m := discordModerator(t, p, st, clk, func(o *handlers.Options) { o.Desk = desk })
				old := discordModerator(t, p, unlocked(st), clk)
				ban := func(m *handlers.Moderator, d time.Duration) {
					if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), Duration: d, By: "discord:42"}); err != nil {
						t.Fatal(err)
					}
				}
				ban(m, 24*time.Hour)
				clk.Add(24 * time.Hour)
				if tt.again {
					p.during = func() { ban(old, 48*time.Hour) }
				}
				m.LiftBans(ctx)
				desk.mu.Lock()
				defer desk.mu.Unlock()
				if !strings.Contains(strings.Join(desk.alerts, "\n"), tt.told) {
					t.Fatalf("desk told %q; want %q (platform calls %q)", desk.alerts, tt.told, p.Calls())
				}
				if len(desk.busy) > 0 {
					t.Errorf("desk told %q with the member's lock held", desk.busy)
				}
			})
		}
	}
}
