package redis_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCallerDeadlineOnAHungRedis: on a Redis that hangs, a call returns at
// its caller's deadline, not at the client's read timeout (30 s here), for the
// client NewClient builds and for the store's calls, with and without the
// shared pipelines.
func TestCallerDeadlineOnAHungRedis(t *testing.T) {
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := redistest.NewHangProxy(t, u.Host)
	hungURL := proxy.URL() + "?read_timeout=30s"
	c, err := redis.NewClient(hungURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	plain := open(t, hungURL)
	piped := open(t, hungURL, redis.WithAutoPipeline())
	ctx := context.Background()
	// Each opens its connection while Redis answers.
	for _, ping := range []func(context.Context) error{
		func(ctx context.Context) error { return c.Ping(ctx).Err() },
		plain.Ping, piped.Ping,
	} {
		if err := ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	proxy.Hang()

	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"client GET", func(ctx context.Context) error { return c.Get(ctx, "k").Err() }},
		{"store ping", plain.Ping},
		{"store login failures", func(ctx context.Context) error {
			_, _, err := plain.LoginFailures(ctx, []string{"ip:198.51.100.7"}, time.Unix(0, 0), "ann|198.51.100.7")
			return err
		}},
		{"pipelined store login failures", func(ctx context.Context) error {
			_, _, err := piped.LoginFailures(ctx, []string{"ip:198.51.100.7"}, time.Unix(0, 0), "ann|198.51.100.7")
			return err
		}},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tt.call(ctx)
			took := time.Since(start)
			if err == nil {
				t.Fatal("a call on a hung Redis succeeded")
			}
			// The deadline is 200 ms, the read timeout 30 s: half of it
			// tells one from the other, however loaded the machine.
			if took > 15*time.Second {
				t.Errorf("returned after %v (%v), want about its 200 ms deadline", took.Round(time.Millisecond), err)
			}
		})
	}
}

// TestContextTimeoutOption: every form of URL builds a client that honours the
// caller's deadline, unless the URL says context_timeout_enabled=false.
func TestContextTimeoutOption(t *testing.T) {
	forms := []string{
		"redis://127.0.0.1:6390/2",
		"redis+cluster://127.0.0.1:7000?addr=127.0.0.1:7001",
		"redis+sentinel://127.0.0.1:26379/0?master_name=mymaster",
	}
	for _, form := range forms {
		for _, tt := range []struct {
			param string
			want  bool
		}{
			{"", true},
			{"context_timeout_enabled=true", true},
			{"context_timeout_enabled=1", true},
			{"context_timeout_enabled=false", false},
			{"context_timeout_enabled=0", false},
		} {
			raw := form
			if tt.param != "" {
				sep := "?"
				if strings.Contains(raw, "?") {
					sep = "&"
				}
				raw += sep + tt.param
			}
			t.Run(raw, func(t *testing.T) {
				c, err := redis.NewClient(raw)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				var got bool
				switch c := c.(type) {
				case *goredis.Client:
					got = c.Options().ContextTimeoutEnabled
				case *goredis.ClusterClient:
					got = c.Options().ContextTimeoutEnabled
				default:
					t.Fatalf("client %T", c)
				}
				if got != tt.want {
					t.Errorf("ContextTimeoutEnabled %v, want %v", got, tt.want)
				}
			})
		}
	}
	_, err := redis.NewClient("redis://u:hunter2@127.0.0.1:6390?context_timeout_enabled=maybe")
	if err == nil || !strings.Contains(err.Error(), "context_timeout_enabled") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("context_timeout_enabled=maybe: %v, want an error naming the option, with the password hidden", err)
	}
}
