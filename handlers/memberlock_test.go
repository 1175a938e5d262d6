package handlers_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// kickByBan is a platform like Telegram: a kick is a ban lifted at once,
// then the member's mute set again; during, when set, runs once between the
// kick's ban and its unban.
type kickByBan struct {
	bannedDuringLift
}

func (k *kickByBan) Kick(context.Context, bot.Event) error {
	_ = k.call("kick-ban", "")
	if f := k.during; f != nil {
		k.during = nil
		f()
	}
	_ = k.call("kick-unban", "")
	return k.call("kick-mute-again", "")
}

// A CM's /ban of a member whose kick by a rule is under way (Telegram's
// kick: ban, unban, mute again) waits for the kick to be done: given
// between, the kick's unban, and its mute set again, would undo it, and the
// member would walk back in.
func TestBanDuringAKickWaitsForIt(t *testing.T) {
	sts := redistest.Stores(t)
	for _, name := range lockStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			p := &kickByBan{bannedDuringLift{chat: chat{recorder: recorder{name: "discord"}}}}
			m, other := lockModerators(t, sts, name, p, clk)
			banned := make(chan error, 1)
			p.during = func() {
				go func() {
					_, err := other.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), By: "discord:42"})
					banned <- err
				}()
				// The ban may reach the platform before the kick's unban:
				// give it the chance (it need not take it), a few round
				// trips to Redis included. Not a bound on anything: waiting
				// it out, the test passes as well.
				for i := 0; i < 200 && len(p.Calls()) < 2; i++ {
					time.Sleep(time.Millisecond)
				}
			}
			kick := verdict("discord", bot.Match{Rule: "raid", Category: "spam", Actions: []bot.Action{{Kind: bot.ActKick}}})
			if err := m.Handle(ctx, event("discord"), kick); err != nil {
				t.Fatal(err)
			}
			if err := <-banned; err != nil {
				t.Fatal(err)
			}
			want := []string{"kick-ban", "kick-unban", "kick-mute-again", "ban(0s) u-7"}
			if got := p.Calls(); !slices.Equal(got, want) {
				t.Errorf("platform calls = %q\nwant %q: the ban after the kick", got, want)
			}
		})
	}
}

// TestHoldMember: a member's lock taken before their verdict is carried
// out (HoldMember, as the daemon does to learn whether the member is busy).
// Held, another, here or in another process on the same Redis, finds the
// member busy; the verdict carried out with it times the member out at
// once, its action using the lock held rather than waiting for it, and
// letting it go. The release after that leaves alone a lock another took
// since; a lock no action took is let go by the release.
func TestHoldMember(t *testing.T) {
	sts := redistest.Stores(t)
	for _, name := range lockStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			p := &chat{recorder: recorder{name: "discord"}}
			m, other := lockModerators(t, sts, name, p, &clock{t: at})
			ev := event("discord")
			busy := func(m *handlers.Moderator) bool {
				_, release, busy := m.HoldMember(ctx, ev)
				release()
				return busy
			}

			held, release, isBusy := m.HoldMember(ctx, ev)
			if isBusy {
				t.Fatal("a member whose lock nobody holds said busy")
			}
			if !busy(other) {
				t.Fatal("the member's lock held, and the member not said busy")
			}
			timeout := verdict("discord", bot.Match{Rule: "scam", Category: "spam", Actions: []bot.Action{{Kind: bot.ActTimeout, Duration: time.Hour}}})
			if err := m.Handle(held, ev, timeout); err != nil {
				t.Fatal(err)
			}
			if got := p.Calls(); !slices.Equal(got, []string{"timeout(1h)"}) {
				t.Fatalf("calls = %q, want the timeout, done with the lock held", got)
			}
			// The timeout let the lock go: another takes it, and the
			// verdict's release leaves it to them.
			_, theirs, isBusy := other.HoldMember(ctx, ev)
			if isBusy {
				t.Fatal("the member still busy once their timeout is done")
			}
			release()
			if !busy(m) {
				t.Error("the verdict's release let go a lock another took since")
			}
			theirs()

			_, release, _ = m.HoldMember(ctx, ev)
			release() // no action took it
			if busy(other) {
				t.Error("a lock no action took is still held after its release")
			}
		})
	}
}
