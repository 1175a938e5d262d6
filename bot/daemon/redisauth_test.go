package daemon_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestRedisPasswordRefused: Redis requires a password, and the URL vigie is
// given has none, or a wrong one. Redis runs, and refuses every command:
// the events are judged from memory (not failed, as a Meta delivery
// acknowledged already would be lost), /-/ready names the store, and the
// first line about it says to check the password, not whether a
// redis-server runs.
func TestRedisPasswordRefused(t *testing.T) {
	srv := redistest.Start(t)
	admin := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer admin.Close()
	if err := admin.ConfigSet(context.Background(), "requirepass", "the-right-one").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, url string }{
		{"no password", srv.URL() + "/0"},
		{"wrong password", "redis://:" + url.PathEscape("a-wrong-one") + "@" + srv.Addr() + "/0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := start(t, rulesV1, map[string]string{"VIGIE_REDIS_URL": tt.url})
			if v := in.post(t, message("s-1", "u-9", "free nitro")); !slices.Equal(rulesOf(v), []string{"scam"}) {
				t.Errorf("with the password refused: matched %q, want scam", rulesOf(v))
			}
			code, body := 0, ""
			testsync.Eventually(t, "not ready, for the store", func() bool {
				r := in.do(t, "GET", "/-/ready", nil, nil)
				code, body = r.code, string(r.body)
				return code == 503 && strings.Contains(body, "store: ")
			})
			testsync.Eventually(t, "/-/ready naming the password", func() bool {
				body = string(in.do(t, "GET", "/-/ready", nil, nil).body)
				return strings.Contains(body, "store: redis refuses vigie's password, moderating from memory")
			})
			want := "store refuses vigie's password: vigie moderates from memory until it takes it; check the password of --redis"
			if logs := in.logs.String(); !strings.Contains(logs, want) || strings.Contains(logs, "check that a redis-server runs") {
				t.Errorf("logs lack %q, or send the operator to look for a redis-server:\n%s", want, logs)
			}
		})
	}
}
