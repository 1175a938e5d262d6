package deskwork

import (
	"context"
	"sync"
)

// Asking are the new members whose verification ask is under way in this
// process (posting their prompt, then recording it), by key: a press of
// their button that comes before the ask is recorded waits for it rather
// than find nothing to verify. The zero value is ready to use.
type Asking struct {
	mu sync.Mutex
	m  map[string]*ask
}

type ask struct {
	n    int
	done chan struct{}
}

// Start marks an ask of key under way until the returned func is called.
func (a *Asking) Start(key string) (end func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]*ask{}
	}
	w := a.m[key]
	if w == nil {
		w = &ask{done: make(chan struct{})}
		a.m[key] = w
	}
	w.n++
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			if w.n--; w.n == 0 {
				close(w.done)
				delete(a.m, key)
			}
		})
	}
}

// Under reports whether an ask of key is under way.
func (a *Asking) Under(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[key] != nil
}

// Wait waits until no ask of key is under way, and reports whether that
// came before ctx ended.
func (a *Asking) Wait(ctx context.Context, key string) bool {
	a.mu.Lock()
	w := a.m[key]
	a.mu.Unlock()
	if w == nil {
		return true
	}
	select {
	case <-w.done:
		return true
	case <-ctx.Done():
		return false
	}
}
