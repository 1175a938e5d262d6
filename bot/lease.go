package bot

import (
	"context"
	"errors"
	"net/http"
)

// A single-owner job (a Telegram poller, a Discord shard, the escalation)
// runs under a lease that may run out while it runs: its process starved of
// the CPU, paused, or cut from the store. Its context then carries the
// lease's LeaseHold, and what it does outside its process asks it first
// (CheckLease): the platform clients' HTTP calls (LeaseChecked), the events
// it hands on, the store's commands. Once the lease may have run out, it
// is refused there, before it leaves the process, whatever the job's code
// does meanwhile.

// LeaseHold is a lease as the process holding it counts it: Check fails once
// the lease may have run out, on the process's own monotonic clock.
type LeaseHold interface {
	Check() error
}

// ErrLeaseRunOut is what a LeaseHold's Check wraps once the lease may have run
// out: another process may run the job now.
var ErrLeaseRunOut = errors.New("the job's lease may have run out: another process may run the job now")

type leaseHoldKey struct{}

// WithLeaseHold returns ctx carrying h: what is done with it is checked against
// h first (CheckLease).
func WithLeaseHold(ctx context.Context, h LeaseHold) context.Context {
	return context.WithValue(ctx, leaseHoldKey{}, h)
}

// WithoutLeaseHold returns ctx carrying no LeaseHold: for the work a job
// takes in and hands to others (a CM's press, a command), which its own
// claim keeps to one process, and which must end even once the job's
// lease ran out.
func WithoutLeaseHold(ctx context.Context) context.Context {
	return context.WithValue(ctx, leaseHoldKey{}, nil)
}

// CheckLease returns the error of the LeaseHold ctx carries, nil when it carries
// none (work that is not a single-owner job's).
func CheckLease(ctx context.Context) error {
	h, _ := ctx.Value(leaseHoldKey{}).(LeaseHold)
	if h == nil {
		return nil
	}
	return h.Check()
}

// LeaseChecked wraps next (http.DefaultTransport when nil) so that a
// request whose context carries a lease that may have run out is not sent.
func LeaseChecked(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if _, ok := next.(leaseChecked); ok {
		return next
	}
	return leaseChecked{next: next}
}

type leaseChecked struct{ next http.RoundTripper }

func (t leaseChecked) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := CheckLease(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return t.next.RoundTrip(req)
}
