package redis_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestFallbackSaysWhyRedisRefuses: a Redis that answers, but refuses what
// vigie sends for a reason of its own, is said as such in the log and in
// Problem (/-/ready, /healthz), not as "unreachable": an operator who reads
// "redis unreachable" checks that redis-server runs, finds it running and
// answering pings, and looks elsewhere. A replica (a failover not finished,
// a URL naming a replica) answers READONLY; a script of another client run
// past busy-reply-threshold has it answer BUSY. In both, the events are
// counted in memory, and vigie goes back to Redis once it takes writes.
// Before, both were logged "redis unreachable".
func TestFallbackSaysWhyRedisRefuses(t *testing.T) {
	for _, tt := range []struct {
		name   string
		extra  []string
		refuse func(t *testing.T, admin *goredis.Client) (end func())
		says   string // the log
		why    string // Problem
	}{
		{
			name: "a replica",
			refuse: func(t *testing.T, admin *goredis.Client) func() {
				// A master nobody runs: the replica never syncs, and keeps its
				// data, read-only.
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				port := l.Addr().(*net.TCPAddr).Port
				l.Close()
				if err := admin.Do(context.Background(), "REPLICAOF", "127.0.0.1", fmt.Sprint(port)).Err(); err != nil {
					t.Fatal(err)
				}
				return func() {
					if err := admin.Do(context.Background(), "REPLICAOF", "NO", "ONE").Err(); err != nil {
						t.Fatal(err)
					}
				}
			},
			says: "redis is a read-only replica",
			why:  "is a read-only replica, ",
		},
		{
			name:  "a long script",
			extra: []string{"--busy-reply-threshold", "50"},
			refuse: func(t *testing.T, admin *goredis.Client) func() {
				loop := goredis.NewClient(&goredis.Options{Addr: admin.Options().Addr, ReadTimeout: -1})
				done := make(chan struct{})
				go func() {
					defer close(done)
					_ = loop.Eval(context.Background(), "while true do end", nil).Err()
				}()
				waitFor(t, "Redis busy", func() bool {
					err := admin.Ping(context.Background()).Err()
					return err != nil && strings.HasPrefix(err.Error(), "BUSY")
				})
				return func() {
					if err := admin.Do(context.Background(), "SCRIPT", "KILL").Err(); err != nil {
						t.Fatal(err)
					}
					<-done
					loop.Close()
				}
			},
			says: "redis is busy running another client's script",
			why:  "is busy running a script, ",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t, tt.extra...)
			admin := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
			defer admin.Close()
			ctx := context.Background()
			primary, err := redis.Open(srv.URL(), redis.WithPrefix(newPrefix()))
			if err != nil {
				t.Fatal(err)
			}
			var logs testLogs
			f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: 10 * time.Millisecond, Logger: logs.logger()})
			defer f.Close()
			observe := func(id string) (store.Result, error) {
				return f.Observe(ctx, store.Observation{At: time.Now(), Platform: "discord", Space: "g", Author: "u-1", EventID: id,
					Counters: []store.CounterOp{{Name: "msgs", Key: "u-1", Window: time.Hour, Incr: true}}})
			}
			end := tt.refuse(t, admin)
			res, err := observe("m-1")
			if err != nil || len(res.Counts) != 1 || res.Counts[0] != 1 {
				t.Fatalf("Observe while Redis refuses = %+v, %v; want it counted in memory", res, err)
			}
			if !f.Degraded() {
				t.Fatal("not degraded while Redis refuses")
			}
			if !strings.Contains(logs.String(), tt.says) || strings.Contains(logs.String(), "redis unreachable") {
				t.Errorf("log:\n%s\nwant %q, not unreachable", logs.String(), tt.says)
			}
			if p := f.Problem(); !strings.HasPrefix(p, tt.why) {
				t.Errorf("Problem() = %q, want it to say why, not unreachable", p)
			}
			c, err := f.OpenCase(ctx, store.Case{Reason: "insult", Opened: time.Now()})
			if err != nil || !strings.HasPrefix(c.ID, "l-") {
				t.Fatalf("OpenCase while Redis refuses = %q, %v; want a case kept in memory", c.ID, err)
			}
			end()
			waitFor(t, "back on Redis once it takes writes", func() bool { return !f.Degraded() && f.Buffered() == 0 })
			open, err := primary.Cases(ctx, store.CaseOpen)
			if err != nil || len(open) != 1 || open[0].Reason != "insult" {
				t.Errorf("cases in Redis after = %+v, %v; want the insult's case", open, err)
			}
		})
	}
}
