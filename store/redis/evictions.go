package redis

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// memoryInfo is what INFO memory and INFO stats say of Redis's eviction:
// its maxmemory (0 for none), its maxmemory-policy and how many keys it
// evicted since it started. On a cluster, the masters' together: the
// evictions added up, the first policy that evicts.
type memoryInfo struct {
	maxmemory int64
	policy    string
	evicted   int64
}

// evicts says that Redis may remove vigie's keys under it when full: a
// maxmemory set under any policy but noeviction. (Every key of vigie has
// a TTL but the accounts, the ban book and a few single keys, so the
// volatile-* policies evict them too.)
func (m memoryInfo) evicts() bool {
	return m.maxmemory > 0 && m.policy != "" && m.policy != "noeviction"
}

type infoer interface {
	Info(ctx context.Context, section ...string) *goredis.StringCmd
}

// memoryInfo reads INFO memory and stats from Redis (each master of a
// cluster).
func (s *Store) memoryInfo(ctx context.Context) (memoryInfo, error) {
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		var (
			mu  sync.Mutex
			out memoryInfo
		)
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
			m, err := readMemoryInfo(ctx, c)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			out.evicted += m.evicted
			if !out.evicts() {
				out.maxmemory, out.policy = m.maxmemory, m.policy
			}
			return nil
		})
		return out, err
	}
	c, ok := s.c.(infoer)
	if !ok {
		return memoryInfo{}, fmt.Errorf("redis info: the client cannot ask it")
	}
	return readMemoryInfo(ctx, c)
}

func readMemoryInfo(ctx context.Context, c infoer) (memoryInfo, error) {
	text, err := c.Info(ctx, "memory", "stats").Result()
	if err != nil {
		return memoryInfo{}, fmt.Errorf("redis info: %w", err)
	}
	var m memoryInfo
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		switch k {
		case "maxmemory":
			m.maxmemory, _ = strconv.ParseInt(v, 10, 64)
		case "maxmemory_policy":
			m.policy = v
		case "evicted_keys":
			m.evicted, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return m, nil
}
