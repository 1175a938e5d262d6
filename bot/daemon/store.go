package daemon

import (
	"fmt"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
)

// openStore opens the Redis store when a URL is given (flag, then VIGIE_REDIS_URL),
// and the memory store otherwise. It returns the store's kind for /healthz. Opening
// Redis makes no network call; /healthz pings it.
func openStore(cfg Config) (store.Store, string, error) {
	url := cfg.RedisURL
	if url == "" {
		url = cfg.Getenv("VIGIE_REDIS_URL")
	}
	if url == "" {
		return memory.New(), "memory", nil
	}
	st, err := redis.Open(url)
	if err != nil {
		return nil, "", fmt.Errorf("store: %w", err)
	}
	return st, "redis", nil
}
