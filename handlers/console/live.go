package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// maxLiveViews bounds the live views one account keeps open on one vigie:
// each is a connection held open and a session checked at each poll, and a
// CM needs a few tabs, not thousands.
const maxLiveViews = 16

// liveState is what one look at the open cases found: their version, or
// why the store could not say.
type liveState struct {
	version string
	err     error
}

// liveFeed looks at the open cases once each Poll for all the live views of
// a console, however many are open: a look reads every open case (up to
// 10,000), and one look per view made the store's work grow with each tab
// any viewer opened. It runs while a view is open.
type liveFeed struct {
	mu      sync.Mutex
	views   map[chan liveState]string // each view's account
	perName map[string]int
	last    *liveState // the latest look, for a view that joins
	stop    context.CancelFunc
}

// errTooManyViews refuses a live view past maxLiveViews for its account.
var errTooManyViews = fmt.Errorf("%d live views of this account are open already: close a tab", maxLiveViews)

// join adds a live view of account name: it is sent the latest look at
// once when there is one, then each look (only the newest waits in it).
// leave must be called when the view ends.
func (f *liveFeed) join(c *Console, name string) (updates chan liveState, leave func(), err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.perName[name] >= maxLiveViews {
		return nil, nil, errTooManyViews
	}
	if f.views == nil {
		f.views, f.perName = map[chan liveState]string{}, map[string]int{}
	}
	ch := make(chan liveState, 1)
	f.views[ch] = name
	f.perName[name]++
	if f.last != nil {
		ch <- *f.last
	}
	if f.stop == nil {
		ctx, cancel := context.WithCancel(context.Background())
		f.stop = cancel
		go f.poll(ctx, c)
	}
	return ch, func() { f.leave(ch) }, nil
}

func (f *liveFeed) leave(ch chan liveState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name, ok := f.views[ch]
	if !ok {
		return
	}
	delete(f.views, ch)
	if f.perName[name]--; f.perName[name] == 0 {
		delete(f.perName, name)
	}
	if len(f.views) == 0 && f.stop != nil {
		// The last view left: no look until one comes, and the one that
		// comes waits for a fresh look rather than an old one.
		f.stop()
		f.stop, f.last = nil, nil
	}
}

// poll looks at the open cases each Poll, until ctx ends or the console
// closes, and sends each look to every view.
func (f *liveFeed) poll(ctx context.Context, c *Console) {
	// On the wall clock: how often an open page is refreshed, for the CM looking at it.
	t := time.NewTicker(c.o.Poll)
	defer t.Stop()
	down := false
	for {
		cs, err := c.o.Store.Cases(ctx, store.CaseOpen)
		if ctx.Err() != nil {
			return
		}
		st := liveState{err: err}
		if err == nil {
			st.version = version(cs)
		} else if !down {
			c.o.Log.Warn("console: live queue not checked", "err", err)
		}
		down = err != nil
		f.mu.Lock()
		if f.stop != nil && ctx.Err() == nil {
			f.last = &st
			for ch := range f.views {
				select { // only the newest look waits
				case <-ch:
				default:
				}
				ch <- st
			}
		}
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-t.C:
		}
	}
}

// live is a stream of server-sent events: one "queue" event each time the
// open cases change, for the page to fetch its list again. The cases are
// looked at every Poll, once for all the views (liveFeed), so that cases
// opened or decided by any instance, from any desk, show.
func (c *Console) live(w http.ResponseWriter, r *http.Request, a account) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	updates, leave, err := c.feed.join(c, a.Name)
	if err != nil {
		w.Header().Set("Retry-After", "60")
		http.Error(w, err.Error(), http.StatusTooManyRequests)
		return
	}
	defer leave()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	last := r.FormValue("v")
	fmt.Fprint(w, "retry: 3000\n\n")
	flusher.Flush()
	// down: the store did not answer the last look. The page is told
	// ("stale"), and told to fetch its list again once the store is back.
	down := false
	for {
		var st liveState
		select {
		case <-r.Context().Done():
			return
		case <-c.done:
			return
		case st = <-updates:
		}
		// A session that ended (logged out, a new password, the account
		// deleted, its 12 hours over) ends its stream: the page then goes
		// to the login page, and a copy of its cookie learns nothing more.
		// A store that does not answer ends nothing: the look says it.
		var notChecked *storeError
		if _, err := c.who(r); err != nil && !errors.As(err, &notChecked) {
			fmt.Fprint(w, "event: ended\ndata: your session has ended\n\n")
			flusher.Flush()
			return
		}
		switch {
		case st.err != nil && !down:
			down = true
			fmt.Fprint(w, "event: stale\ndata: the store does not answer\n\n")
			flusher.Flush()
		case st.err == nil:
			if st.version != last || down {
				down, last = false, st.version
				fmt.Fprintf(w, "event: queue\ndata: %s\n\n", st.version)
				flusher.Flush()
			}
		}
	}
}
