package bot

import (
	"context"
	"sync"
	"time"
)

// LateRun is one carrying out of the actions a long rate limit left as
// cases, once the limit's time is past, in the order the messages came.
// Its context (WithLateRun) lets a platform that holds its calls while a
// limit is known (Meta's) tell these from new actions: the first of them
// asks the platform whether the limit is over, and, once it is, they go
// before the new ones, which wait for the run's end.
type LateRun struct {
	mu       sync.Mutex
	finished bool
	limited  bool
	after    []func()
}

// NewLateRun starts a run.
func NewLateRun() *LateRun { return &LateRun{} }

type lateRunKey struct{}

// WithLateRun returns ctx carrying the run r.
func WithLateRun(ctx context.Context, r *LateRun) context.Context {
	return context.WithValue(ctx, lateRunKey{}, r)
}

// LateRunOf is the run ctx carries, nil for a new action.
func LateRunOf(ctx context.Context) *LateRun {
	r, _ := ctx.Value(lateRunKey{}).(*LateRun)
	return r
}

// MarkLimited records that the platform limits the run's calls still: an
// action of it was refused for the limit, or held as the limit is known to
// last. The run stops before its next action: the rest wait for the
// limit's next end.
func (r *LateRun) MarkLimited() {
	r.mu.Lock()
	r.limited = true
	r.mu.Unlock()
}

// Limited reports whether MarkLimited was called.
func (r *LateRun) Limited() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limited
}

// AfterFinish has f called when the run finishes, or at once if it has.
func (r *LateRun) AfterFinish(f func()) {
	r.mu.Lock()
	if !r.finished {
		r.after = append(r.after, f)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	f()
}

// Finish ends the run, and calls what AfterFinish was given, once.
func (r *LateRun) Finish() {
	r.mu.Lock()
	if r.finished {
		r.mu.Unlock()
		return
	}
	r.finished = true
	after := r.after
	r.after = nil
	r.mu.Unlock()
	for _, f := range after {
		f()
	}
}

// LimitKnower is a platform that sends nothing while a long rate limit is
// known, and says until when it lasts (the store keeps it over a restart).
type LimitKnower interface {
	LimitUntil(ctx context.Context) (time.Time, bool)
}
