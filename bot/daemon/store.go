package daemon

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot/internal/guard"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
)

// openStore opens the Redis store when a URL is given (flag, then VIGIE_REDIS_URL),
// and the memory store otherwise. It returns the store's kind for /healthz. Opening
// Redis makes no network call; /healthz pings it. While Redis is away, vigie goes
// on moderating from memory and writes cases and audit back when it returns.
//
// VIGIE_MAX_OPEN_CASES bounds the cases open at once (store.DefaultOpenCaseCap):
// past it, new cases are dropped, their actions carried out all the same.
//
// VIGIE_REDIS_PREFIX sets the keys' prefix (vigie), so that several communities
// can share one Redis. Events evaluated at the same time share pipelines
// (auto-pipelining), and the writes nobody waits for (strikes, audit, the
// journal) go out with the next pipeline instead of a round trip of their own.
func openStore(cfg Config, reg prometheus.Registerer, g *guard.Guard) (store.Store, string, error) {
	url := cfg.RedisURL
	if url == "" {
		url = cfg.Getenv("VIGIE_REDIS_URL")
	}
	openCap := 0
	if v := cfg.Getenv("VIGIE_MAX_OPEN_CASES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, "", fmt.Errorf("store: VIGIE_MAX_OPEN_CASES=%q: want a positive number", v)
		}
		openCap = n
	}
	if url == "" {
		return memory.New(memory.WithOpenCaseCap(openCap)), "memory", nil
	}
	opts := []redis.Option{redis.WithAutoPipeline(), redis.WithOpenCaseCap(openCap)}
	if p := cfg.Getenv("VIGIE_REDIS_PREFIX"); p != "" {
		opts = append(opts, redis.WithPrefix(p))
	}
	// go-redis has one logger for the process, plain text on stderr by default,
	// a line twice a second while Redis is down: this vigie's log takes it, a
	// line a minute per kind of message.
	redis.UseLogger(redis.NewLogger(cfg.Logger.With("store", "redis"), time.Minute))
	primary, err := redis.Open(url, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("store: %w", err)
	}
	st := redis.NewFallback(primary, redis.FallbackOptions{Logger: cfg.Logger, OnPanic: g.Report})
	if err := st.Register(reg); err != nil {
		return nil, "", errors.Join(fmt.Errorf("store metrics: %w", err), st.Close())
	}
	return st, "redis", nil
}
