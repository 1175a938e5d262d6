package daemon

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestLeaseGoneWithTheStoresData: the one process running a job on Redis
// sees its lease vanish (FLUSHALL). Its renewal is refused, it stops the job,
// and the log says the store no longer holds the lease, not that another
// process runs the job, for none does; then it takes the job again.
func TestLeaseGoneWithTheStoresData(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redis.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var both atomic.Int32
	var overlap atomic.Bool
	a := startRunner(t, st, "a", time.Now, "telegram", &both, &overlap)
	recv(t, a.tokens, "a to run the job")

	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	recv(t, a.stopped, "a to stop once its lease was gone")
	testsync.Eventually(t, "the loss told", func() bool {
		return strings.Contains(a.logs.String(), "lease lost: the store no longer holds it")
	})
	if logs := a.logs.String(); strings.Contains(logs, "another process runs the job") {
		t.Errorf("the log says another process runs the job, and none does:\n%s", logs)
	}
	recv(t, a.tokens, "a to run the job again")
}
