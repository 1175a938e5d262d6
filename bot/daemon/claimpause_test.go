package daemon_test

import (
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// TestPausedPastTheClaimDoesNotActAgain: a CM presses Ban; Telegram asks
// the vigie carrying it out to wait 5 s (429), and that vigie is paused
// (SIGSTOP) in the wait, past the claim's 30 s. The other vigie is handed
// the press, has the claim once it ran out, finds the ban's carrying out
// begun and not ended, asks Telegram whether the member is banned (not),
// and bans them. The first,
// resumed, finds its claim lost by the clock before its next try, and asks
// Telegram nothing more. Before, its next try went on as soon as it woke,
// the renewal that would have found the claim another's not back yet, and
// the member was banned twice.
func TestPausedPastTheClaimDoesNotActAgain(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two processes, and waits for a claim to run out")
	}
	tg := tgfake.New(t)
	tg.SetOwner(pressGroup, pressCM, false)
	var limited atomic.Bool
	tg.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "banChatMember" && limited.CompareAndSwap(false, true) {
			return 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}`, false
		}
		return 0, "", false
	})
	ins := startPressVigies(t, tg, "claimpause", 2)
	play := newPressPlay(t, tg, 3*handover)
	gusCase, gusCard := play.scam(11, "Gus")
	first := owner(t, "telegram", ins)
	play.press("cb-gus", gusCase, gusCard)
	play.waitFor("Gus's ban asked, and told to wait", func() bool { return limited.Load() })
	first.pause(t)
	second := ins[0]
	if second == first {
		second = ins[1]
	}
	play.waitFor(second.name+" banning Gus once the claim ran out", func() bool {
		return second.logged("its end unknown: the platform says the member is not banned: banned now", gusCase) > 0 && play.bans(11) == 2
	})
	first.resume(t)
	play.waitFor(first.name+" stopping its tries, its claim lost", func() bool {
		if n := play.bans(11); n > 2 {
			t.Fatalf("Gus asked to be banned %d times, want twice (the call told to wait, then the one done)", n)
		}
		return first.logged("a decision's tries stopped", gusCase) > 0
	})
	play.waitFor(first.name+" finding Gus's ban carried out", func() bool {
		return first.logged("a decision carried out by another vigie: shown, not carried out again", gusCase) > 0
	})
	if n := play.bans(11); n != 2 {
		t.Errorf("Gus asked to be banned %d times, want twice", n)
	}
}
