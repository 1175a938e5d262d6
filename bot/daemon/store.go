package daemon

import (
	"errors"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// openStore opens the Redis store when a URL is given (flag, then VIGIE_REDIS_URL),
// and the memory store otherwise. It returns the store's kind for /healthz.
func openStore(cfg Config) (store.Store, string, error) {
	url := cfg.RedisURL
	if url == "" {
		url = cfg.Getenv("VIGIE_REDIS_URL")
	}
	if url == "" {
		return memory.New(), "memory", nil
	}
	return nil, "", errors.New("redis store: not in this build yet; run without --redis and VIGIE_REDIS_URL for the memory store")
}
