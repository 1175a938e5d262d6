package redis

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// heldKey is a key this holder took with a token of its own (a member's
// lock, the claim of a case's decision): how it is renewed, found lost and
// let go, the same for each.
type heldKey struct {
	key, token string
	ttl        time.Duration // how long the key outlives its last renewal
	every      time.Duration // how often it is renewed
	renew      func(ctx context.Context) (int64, error)
	what       string // "the member's lock", in the log's lines
	attrs      []any  // who or what it is about, in the log's lines
	lostSays   string // what a loss may let happen, in its log line
	stuckSays  string // what a key not let go holds back, in its log line
}

// hold renews h, taken by a SET sent at took, every h.every until
// released, and returns the release (a compare-and-delete: never another
// holder's key; it outlives ctx), lost (true once a renewal found the key
// another's or gone, the release found it another's, or no renewal got
// through for h.ttl,
// said once in log and to onLost when not nil) and held (false once lost,
// or h.ttl after the sending of the last renewal that got through: no
// round trip). Times are the store's clock (WithWallClock).
//
// held is what a holder asks before each call the key guards: a process
// paused longer than h.ttl (SIGSTOP, a long GC, a suspended machine) wakes
// to a key that ran out in Redis, and maybe another's since, before any
// renewal had the time to find it: held says so at once, by the clock. It
// counts from a renewal's sending, not its answer: Redis set the key's new
// expiry in between, so the key runs out h.ttl after the sending at the
// latest, however slow the answer.
func (s *Store) hold(ctx context.Context, h heldKey, took time.Time, log *slog.Logger, onLost func()) (release func(), lost, held func() bool) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := s.cfg.wall
	var said atomic.Bool
	var renewedAt atomic.Int64
	renewedAt.Store(took.UnixNano())
	held = func() bool {
		return !said.Load() && now().Sub(time.Unix(0, renewedAt.Load())) < h.ttl
	}
	sayLost := func(why string) {
		if said.CompareAndSwap(false, true) {
			if onLost != nil {
				onLost()
			}
			log.Error(h.what+" lost while held ("+why+"): "+h.lostSays, h.attrs...)
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		// On the wall clock: a key's TTL runs out in Redis in real time.
		tick := time.NewTicker(h.every)
		defer tick.Stop()
		// renewed is when the key was last made to run h.ttl more;
		// failing, since when the renewals fail.
		renewed, failing := took, time.Time{}
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			sent := now()
			rctx, cancel := context.WithTimeout(context.Background(), h.every)
			n, err := h.renew(rctx)
			cancel()
			switch {
			case err == nil && n == 0:
				sayLost("it ran out, or Redis lost it")
				return // renewing it no more
			case err == nil:
				if !failing.IsZero() {
					log.Info(h.what+" renewed again", append(h.attrs[:len(h.attrs):len(h.attrs)], "failing", now().Sub(failing).Round(time.Millisecond))...)
				}
				renewed, failing = sent, time.Time{}
				renewedAt.Store(renewed.UnixNano())
			case now().Sub(renewed) >= h.ttl:
				sayLost("not renewed for " + bot.FormatDuration(h.ttl))
				return
			case failing.IsZero():
				failing = now()
				log.Warn(h.what+" not renewed: Redis did not answer; it runs out unless a renewal gets through",
					append(h.attrs[:len(h.attrs):len(h.attrs)], "runs_out", renewed.Add(h.ttl).UTC(), "err", err)...)
			}
		}
	}()
	// The release outlives the holder's context (a shutdown that cut its
	// call): a key left behind holds back what it guards for its TTL.
	rctx := context.WithoutCancel(ctx)
	release = sync.OnceFunc(func() {
		close(stop)
		<-done
		c, cancel := context.WithTimeout(rctx, 5*time.Second)
		defer cancel()
		n, err := s.script(c, memberUnlockScript, []string{h.key}, h.token).Int64()
		switch {
		case err != nil:
			log.Warn(h.what+" not let go: Redis did not answer; "+h.stuckSays,
				append(h.attrs[:len(h.attrs):len(h.attrs)], "within", bot.FormatDuration(h.ttl), "err", err)...)
		case n == 0:
			sayLost("found another's when let go")
		case n < 0:
			// None: this very release asked again by the client after
			// its answer was lost (a blip), which found its own deletion;
			// or it ran out unrenewed, which the clock and the renewals
			// told already.
			log.Debug(h.what+" found gone when let go", h.attrs...)
		}
	})
	return release, said.Load, held
}
