package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestKeyedLockRelease: a release lets its own hold go, once; called again
// after another holder took the key, it leaves that holder's lock alone.
func TestKeyedLockRelease(t *testing.T) {
	var l KeyedLock
	ctx := context.Background()
	first, err := l.Lock(ctx, "discord|g|u-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(ctx, "discord|g|u-1", time.Millisecond); !errors.Is(err, ErrMemberBusy) {
		t.Fatalf("held, a second Lock: %v, want ErrMemberBusy", err)
	}
	other, err := l.Lock(ctx, "discord|g|u-2", 0)
	if err != nil {
		t.Fatalf("another key: %v", err)
	}
	defer other()
	first()
	second, err := l.Lock(ctx, "discord|g|u-1", 0)
	if err != nil {
		t.Fatalf("released, Lock: %v", err)
	}
	first() // again: a no-op, not the second holder's release
	if _, err := l.Lock(ctx, "discord|g|u-1", time.Millisecond); !errors.Is(err, ErrMemberBusy) {
		t.Fatalf("the first release called twice let the second holder's lock go: %v", err)
	}
	second()
	if _, err := l.Lock(ctx, "discord|g|u-1", 0); err != nil {
		t.Fatalf("released by its holder: %v", err)
	}
}

// TestKeyedLockWaiter: a waiter is let in when the holder releases.
func TestKeyedLockWaiter(t *testing.T) {
	var l KeyedLock
	ctx := context.Background()
	unlock, err := l.Lock(ctx, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := l.Lock(ctx, "k", time.Minute)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("the waiter: %v", err)
	}
}

// TestKeyedLockAllocs: a lock taken and let go without a wait, as a
// verdict's member lock is on every event that may ban, costs two
// allocations: its channel and its release.
func TestKeyedLockAllocs(t *testing.T) {
	var l KeyedLock
	ctx := context.Background()
	if n := testing.AllocsPerRun(200, func() {
		unlock, err := l.Lock(ctx, "discord|guild|u-1", 0)
		if err != nil {
			t.Fatal(err)
		}
		unlock()
	}); n > 2 {
		t.Fatalf("%v allocations a lock, want 2", n)
	}
}
