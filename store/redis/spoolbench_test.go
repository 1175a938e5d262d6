package redis_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
)

// BenchmarkFallbackAway buffers an audit entry and a case per event with
// Redis away (nothing listens at its address), without and with a spool:
// what an event pays for the spool while Redis is away. The disk is written
// by the spool's own goroutine; the events pay for the lines only.
func BenchmarkFallbackAway(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	url := "redis://" + l.Addr().String() + "/0?max_retries=-1&dial_timeout=200ms"
	l.Close()
	for _, spooled := range []bool{false, true} {
		b.Run(fmt.Sprintf("spool=%v", spooled), func(b *testing.B) {
			primary, err := redis.Open(url, redis.WithPrefix(newPrefix()))
			if err != nil {
				b.Fatal(err)
			}
			opts := redis.FallbackOptions{RetryEvery: time.Hour, MaxAudit: b.N + 1, MaxCases: b.N + 1}
			if spooled {
				if opts.Spool, err = redis.OpenSpool(filepath.Join(b.TempDir(), "spool"), url, nil); err != nil {
					b.Fatal(err)
				}
			}
			f := redis.NewFallback(primary, opts)
			defer f.Close()
			ctx := context.Background()
			c := spoolCaseOf("warm")
			if _, err := f.OpenCase(ctx, c); err != nil { // the switch to memory
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				c := spoolCaseOf(fmt.Sprintf("e%d", i))
				if err := f.AppendAudit(ctx, store.AuditEntry{At: spoolAt, Event: c.Event, Mode: "enforce"}); err != nil {
					b.Fatal(err)
				}
				if _, err := f.OpenCase(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			opts.Spool.Sync()
		})
	}
}
