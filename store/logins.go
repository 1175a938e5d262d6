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
	// LoginTry counts a login about to be checked as failed, at at, against
	// the key of each of limits, each kept for keep, in one step with the
	// check that each key has fewer than its Max failures after since: of
	// logins tried at once on every instance, no more go ahead than the
	// limits allow. When one is reached, nothing is recorded and ok is
	// false. id names the failure, for LoginUncount.
	LoginTry(ctx context.Context, limits []LoginLimit, since, at time.Time, keep time.Duration) (id string, ok bool, err error)
	// LoginUncount takes back the failure id that LoginTry counted against
	// keys: the login succeeded.
	LoginUncount(ctx context.Context, keys []string, id string) error
}

// LoginLimit is a limit LoginTry holds a key to: fewer than Max failures.
type LoginLimit struct {
	Key string
	Max int
}

// LoginFailuresKept is how many failures of one key a LoginLimits keeps at
// least, within their time: more than any limit the console counts to.
const LoginFailuresKept = 64
