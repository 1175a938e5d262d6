package redistest

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
)

// Open opens the Redis store at url, closed when the test ends.
func Open(t testing.TB, url string, opts ...redis.Option) *redis.Store {
	t.Helper()
	st, err := redis.Open(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Client is a plain client of the Redis at url, to look at or change what
// a store keeps behind its back, closed when the test ends.
func Client(t testing.TB, url string) *goredis.Client {
	t.Helper()
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("redis url %s: %v", url, err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// StoreKinds are the kinds of store vigie runs on, which must behave alike:
// "memory" and "redis".
var StoreKinds = []string{"memory", "redis"}

// OpenStore opens a new, empty store of a kind of StoreKinds, closed when
// the test ends; the Redis one is at URL(t), under a prefix of its own.
func OpenStore(t testing.TB, kind string) store.Store {
	t.Helper()
	switch kind {
	case "memory":
		st := memory.New()
		t.Cleanup(func() { st.Close() })
		return st
	case "redis":
		return Open(t, URL(t), redis.WithPrefix(Prefix("vigietest")))
	}
	t.Fatalf("no store of kind %q", kind)
	return nil
}

// Stores opens a store of each kind of StoreKinds, by kind.
func Stores(t testing.TB) map[string]store.Store {
	t.Helper()
	out := make(map[string]store.Store, len(StoreKinds))
	for _, kind := range StoreKinds {
		out[kind] = OpenStore(t, kind)
	}
	return out
}

// OpenFallback opens a Fallback, with options fo, on the Redis store at url
// (opened with opts); both are closed when the test ends.
func OpenFallback(t testing.TB, url string, fo redis.FallbackOptions, opts ...redis.Option) *redis.Fallback {
	t.Helper()
	f := redis.NewFallback(Open(t, url, opts...), fo)
	t.Cleanup(func() { f.Close() })
	return f
}
