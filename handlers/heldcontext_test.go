package handlers_test

import (
	"context"
	"testing"

	"github.com/vigie-bot/vigie/store/memory"
)

type heldTestKey struct{}

// TestHoldMemberContext: the context HoldMember hands back is the work
// context's in all but the lock: its values, its end, and the end of a
// context made from it.
func TestHoldMemberContext(t *testing.T) {
	m := discordModerator(t, &chat{recorder: recorder{name: "discord"}}, memory.New(), &clock{t: at})
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), heldTestKey{}, "kept"))
	held, release, busy := m.HoldMember(parent, event("discord"))
	defer release()
	if busy {
		t.Fatal("a member whose lock nobody holds said busy")
	}
	if got := held.Value(heldTestKey{}); got != "kept" {
		t.Fatalf("the work context's value: %v, want kept", got)
	}
	child, stop := context.WithCancel(held)
	defer stop()
	if held.Err() != nil || child.Err() != nil {
		t.Fatal("ended before the work context")
	}
	cancel()
	<-held.Done()
	<-child.Done()
	if held.Err() != context.Canceled || child.Err() != context.Canceled {
		t.Fatalf("ended: %v, %v, want context.Canceled", held.Err(), child.Err())
	}
}

// TestHoldMemberAllocs: a member's lock held for a verdict and let go, on
// the memory store, as for every event whose verdict may ban, kick or time
// out: the lock's key, its channel and release, the context that carries
// it, its release.
func TestHoldMemberAllocs(t *testing.T) {
	m := discordModerator(t, &chat{recorder: recorder{name: "discord"}}, memory.New(), &clock{t: at})
	ctx := context.Background()
	ev := event("discord")
	var ok bool
	if n := testing.AllocsPerRun(200, func() {
		_, release, busy := m.HoldMember(ctx, ev)
		ok = !busy
		release()
	}); n > 5 {
		t.Fatalf("%v allocations a lock held and let go, want 5", n)
	}
	if !ok {
		t.Fatal("said busy")
	}
}
