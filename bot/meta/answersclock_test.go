package meta_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestAnswersStoreFailingLoggedOnTheConnectorsClock: while the store of the
// answers given does not answer, the warning is logged once a minute at
// most, a minute of the connector's clock (Config.Now), as its other
// troubles are timed: a clock stepped two minutes on between two answers
// logs it twice, with no wall clock minute passing.
func TestAnswersStoreFailingLoggedOnTheConnectorsClock(t *testing.T) {
	g := newFakeGraph(t)
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL(), redis.WithPrefix(redistest.Prefix("answers-clock")))
	clk := stepclock.New(fixedNow)
	logs := &testsync.Buffer{}
	c := meta.New(meta.Config{AppSecret: appSecret, VerifyToken: verifyToken, PageToken: g.token, GraphURL: g.URL(), PageID: pageID,
		Answers: st, Now: clk.Now, Logger: testsync.Logger(logs)})
	srv.Stop()
	const warned = "the store did not"
	for i, id := range []string{"111_201", "111_202"} {
		ev := fbComment
		ev.ID = id
		_ = c.Facebook().Reply(context.Background(), ev, "Bonjour")
		if n := strings.Count(logs.String(), warned); n != i+1 {
			t.Fatalf("after answer %d, %d minutes of the clock on: the store's failure logged %d times, want %d:\n%s", i+1, 2*i, n, i+1, logs)
		}
		clk.Step(2 * time.Minute)
	}
}
