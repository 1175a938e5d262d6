package redis_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// replyLoser is a TCP proxy in front of Redis that, once armed, loses the next
// answer Redis sends: the command ran, its client never hears of it, as when
// Redis is slow and the read times out, or the network drops the reply.
type replyLoser struct {
	ln    net.Listener
	armed atomic.Bool
	lost  atomic.Int64
	wg    sync.WaitGroup
}

func newReplyLoser(t *testing.T, redisAddr string) *replyLoser {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &replyLoser{ln: ln}
	var mu sync.Mutex
	var conns []net.Conn
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", redisAddr)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); io.Copy(s, c); s.Close() }()
			go func() {
				defer p.wg.Done()
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 && !p.armed.CompareAndSwap(true, false) {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					} else if n > 0 {
						p.lost.Add(1)
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// TestLostReplyNotADuplicate: when the answer to an observation is lost (a slow
// Redis, a read timeout), the observation may have run. Sent again, it would
// find its own event id and call the event a duplicate: the event dropped
// unjudged, no verdict, no case. It must fail instead, and through the
// Fallback the event is judged from memory.
func TestLostReplyNotADuplicate(t *testing.T) {
	url := redistest.URL(t)
	addr := strings.TrimPrefix(url, "redis://")
	if i := strings.IndexAny(addr, "/?"); i >= 0 {
		addr = addr[:i]
	}
	p := newReplyLoser(t, addr)
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	obs := func(id string, at time.Time) store.Observation {
		return store.Observation{At: at, Platform: "discord", Space: "g1", Author: "u1", EventID: id,
			Counters:     []store.CounterOp{{Name: "msgs", Key: "u1", Window: time.Minute}},
			StrikeWindow: time.Hour}
	}
	for _, tt := range []struct {
		name     string
		fallback bool
	}{{"store", false}, {"fallback", true}} {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, "redis://"+p.ln.Addr().String()+"?read_timeout=300ms")
			var st store.Store = s
			if tt.fallback {
				f := redis.NewFallback(s, redis.FallbackOptions{Logger: slog.New(slog.DiscardHandler), RetryEvery: time.Hour})
				t.Cleanup(func() { f.Close() })
				st = f
			}
			// the scripts loaded, the connection made
			if _, err := st.Observe(ctx, obs("m-1", at)); err != nil {
				t.Fatal(err)
			}
			p.armed.Store(true)
			res, err := st.Observe(ctx, obs("m-2", at.Add(time.Second)))
			if p.lost.Swap(0) != 1 {
				t.Fatal("no answer was lost")
			}
			if err == nil && res.Duplicate {
				t.Fatalf("an event seen once was reported a duplicate after its answer was lost: %+v", res)
			}
			if tt.fallback && (err != nil || len(res.Counts) != 1) {
				t.Errorf("through the fallback: %+v, %v; want the event judged", res, err)
			}
		})
	}
}
