package store

import (
	"context"
	"time"
)

// LoginLimits is offered by a store that counts the console's failed logins
// for every instance that shares it: three instances behind a load balancer
// hold a password guesser to the limits of one. The console decides what is
// counted against what (an address, a name, a browser); the store keeps the
// times.
type LoginLimits interface {
	// LoginFailures returns, in one round trip, the times of the failures
	// recorded against each of keys at or after since, oldest first (the
	// newest LoginFailuresKept of each at least), and when pair last logged
	// in (LoginSucceeded), the zero time for none (a store may forget a
	// time once it has been kept for its keep).
	LoginFailures(ctx context.Context, keys []string, since time.Time, pair string) ([][]time.Time, time.Time, error)
	// LoginFailed records a failure at at against each of keys, each kept
	// for keep.
	LoginFailed(ctx context.Context, keys []string, at time.Time, keep time.Duration) error
	// LoginSucceeded records that pair logged in at at, kept for keep.
	LoginSucceeded(ctx context.Context, pair string, at time.Time, keep time.Duration) error
}

// LoginFailuresKept is how many failures of one key a LoginLimits keeps at
// least, within their time: more than any limit the console counts to.
const LoginFailuresKept = 64
