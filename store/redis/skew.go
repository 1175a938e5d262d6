package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// WithWallClock sets the machine's clock that the store measures against
// Redis's (time.Now by default): the tests' way to run a process whose
// clock is off.
func WithWallClock(now func() time.Time) Option { return func(c *config) { c.wall = now } }

// skewApplied is the least skew from Redis's clock that the store corrects:
// under it, the measure's own error (a round trip on a loaded machine) may
// be most of it.
const skewApplied = time.Second

// skewRoundTrip is the longest round trip of TIME that a skew is measured
// from: Redis read its clock anywhere in it, up to half of it from its
// middle, and a slower one (Redis paused, a loaded machine) would have its
// latency taken for a skew as large as skewApplied.
const skewRoundTrip = skewApplied

// measureSkew reads Redis's clock (TIME) and keeps how far it is ahead of
// this machine's (behind, negative), the round trip's middle taken for the
// moment Redis read it. The journal's stamps are written and compared on
// Redis's clock with it (Begin, Unfinished), so that instances whose clocks
// differ by minutes agree on a verdict's age: before, an instance 3 minutes
// ahead took the verdicts the others had just begun for abandoned ones,
// and carried them out a second time. A round trip over skewRoundTrip is
// not taken: the skew measured before stays, and the error says so.
func (s *Store) measureSkew(ctx context.Context) (time.Duration, error) {
	t0 := s.cfg.wall()
	rt, err := s.time(ctx)
	if err != nil {
		var re goredis.Error
		s.timeRefused.Store(errors.As(err, &re))
		return 0, fmt.Errorf("redis time: %w", err)
	}
	s.timeRefused.Store(false)
	t1 := s.cfg.wall()
	if rtt := t1.Sub(t0); rtt > skewRoundTrip {
		return 0, fmt.Errorf("redis time: its round trip took %s, too long to tell a skew from it", rtt.Round(time.Millisecond))
	}
	skew := rt.Sub(t0.Add(t1.Sub(t0) / 2))
	s.skewSeen.Store(int64(skew))
	applied := skew
	if applied < skewApplied && applied > -skewApplied {
		applied = 0
	}
	s.skew.Store(int64(applied / time.Millisecond))
	s.skewKnown.Store(true)
	return skew, nil
}

func (s *Store) time(ctx context.Context) (time.Time, error) {
	p := s.c.Pipeline()
	c := p.Time(ctx)
	if _, err := p.Exec(ctx); err != nil {
		return time.Time{}, err
	}
	return c.Val(), nil
}

// Skew returns how far Redis's clock was ahead of this machine's at the
// last measure (negative: behind), and whether it was measured.
func (s *Store) Skew() (time.Duration, bool) {
	return time.Duration(s.skewSeen.Load()), s.skewKnown.Load()
}

// onRedisClock moves a time of this machine's clock to Redis's (ms), by the
// skew measured when it is a second or more.
func (s *Store) onRedisClock(t time.Time) int64 { return t.UnixMilli() + s.skew.Load() }
