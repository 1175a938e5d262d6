package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCaseOfMessageAcrossAnUpgrade: the open script keeps the case of its
// message beside the cases, as long as the message's answers are kept; the
// record an older vigie kept apart, as a call, is found too while it lives,
// and one the script wrote since is found first.
func TestCaseOfMessageAcrossAnUpgrade(t *testing.T) {
	url := redistest.URL(t)
	ctx := context.Background()
	prefix := newPrefix()
	st := open(t, url, redis.WithPrefix(prefix))
	c := goredis.NewClient(mustParseURL(t, url))
	defer c.Close()

	// An older vigie's record: a call of the handlers' "case" kind.
	old := store.CallRecord{At: opened, Done: true, By: "c-old"}
	if err := st.KeepCall(ctx, "case discord|g|m-1 ", old, store.MessageCallKeep); err != nil {
		t.Fatal(err)
	}
	if id, err := st.CaseOfMessage(ctx, "discord|g|m-1"); id != "c-old" || err != nil {
		t.Errorf("CaseOfMessage of an older vigie's record = %q, %v; want c-old", id, err)
	}

	stale := store.CallRecord{At: opened, Done: true, By: "c-stale"}
	if err := st.KeepCall(ctx, "case discord|g|m-2 ", stale, store.MessageCallKeep); err != nil {
		t.Fatal(err)
	}
	cs := scamCase("m-2", "eve")
	cs.Message = "discord|g|m-2"
	got, err := st.OpenCase(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := st.CaseOfMessage(ctx, "discord|g|m-2"); id != got.ID || err != nil {
		t.Errorf("CaseOfMessage = %q, %v; want the case opened since, %s", id, err, got.ID)
	}
	ttl, err := c.PTTL(ctx, prefix+":{cases}:message:discord|g|m-2").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < store.MessageCallKeep-time.Hour || ttl > store.MessageCallKeep {
		t.Errorf("the case of the message lives %v, want %v", ttl, store.MessageCallKeep)
	}
}

// TestCaseOfMessageWhileRedisIsAway: a case opened in memory while Redis
// is away keeps its message there, where its edits find it until Redis
// answers again, as the record kept apart did.
func TestCaseOfMessageWhileRedisIsAway(t *testing.T) {
	srv := redistest.Start(t)
	f := redistest.OpenFallback(t, srv.URL()+"?max_retries=-1", redis.FallbackOptions{RetryEvery: 20 * time.Millisecond}, redis.WithPrefix(newPrefix()))
	ctx := context.Background()
	srv.Stop()
	waitFor(t, "the outage", func() bool { _ = f.Probe(ctx); return f.Degraded() })
	cs := scamCase("m-1", "eve")
	cs.Message = "discord|g|m-1"
	cs.Calls = []string{"cased discord|g|m-1 scam"}
	got, err := f.OpenCase(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	// The rules that sent it to the desk are kept there too, where its
	// edits claim them.
	if r, ok, err := f.Call(ctx, cs.Calls[0]); !ok || err != nil || !r.Done {
		t.Errorf("the call kept with a case opened while Redis is away = %+v, %v, %v", r, ok, err)
	}
	if id, err := f.CaseOfMessage(ctx, "discord|g|m-1"); id != got.ID || err != nil {
		t.Errorf("CaseOfMessage while Redis is away = %q, %v; want %s", id, err, got.ID)
	}
	if err := f.KeepCaseOfMessage(ctx, "discord|g|m-2", "c-early", opened); err != nil {
		t.Fatal(err)
	}
	if id, err := f.CaseOfMessage(ctx, "discord|g|m-2"); id != "c-early" || err != nil {
		t.Errorf("CaseOfMessage of one kept apart while Redis is away = %q, %v; want c-early", id, err)
	}
}
