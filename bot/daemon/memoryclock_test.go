package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/store"
)

// TestMemoryStoreOnTheDaemonsClocks: the memory store vigie runs on without
// Redis ends the console's logouts on the daemon's clock (Config.Now), as
// the console reads its sessions' expiry, and its leases on the leases'
// clock (LeaseOptions.Now), as their holders read their deadlines. Before,
// both ran out on the wall clock, whatever clocks the daemon was given: a
// logout of an hour was still held two hours later on the daemon's clock,
// and a lease run out on the leases' clock was still held in the store.
func TestMemoryStoreOnTheDaemonsClocks(t *testing.T) {
	daemonClock, leaseClock := newFakeClock(), newFakeClock()
	cfg := Config{Now: daemonClock.now, Leases: LeaseOptions{Now: leaseClock.now},
		Getenv: func(string) string { return "" }}
	st, kind, err := openStore(cfg, prometheus.NewRegistry(), nil)
	if err != nil || kind != "memory" {
		t.Fatalf("openStore = %s, %v; want the memory store", kind, err)
	}
	ctx := context.Background()

	accounts := st.(store.Accounts)
	if err := accounts.RevokeSession(ctx, "s-1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if revoked, err := accounts.SessionRevoked(ctx, "s-1"); err != nil || !revoked {
		t.Fatalf("session revoked = %v, %v; want revoked", revoked, err)
	}
	daemonClock.advance(2 * time.Hour)
	if revoked, err := accounts.SessionRevoked(ctx, "s-1"); err != nil || revoked {
		t.Errorf("a logout of an hour, two hours on on the daemon's clock: revoked = %v, %v; want over", revoked, err)
	}

	leaser := st.(store.Leaser)
	if _, ok, err := leaser.AcquireLease(ctx, "job", "a", 15*time.Second); err != nil || !ok {
		t.Fatalf("first lease = %v, %v", ok, err)
	}
	leaseClock.advance(time.Minute)
	if _, ok, err := leaser.AcquireLease(ctx, "job", "b", 15*time.Second); err != nil || !ok {
		t.Errorf("a lease of 15s, a minute on on the leases' clock, taken by another = %v, %v; want taken", ok, err)
	}
}
