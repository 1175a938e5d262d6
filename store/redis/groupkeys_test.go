package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestGroupKeysOfARaid: the author groups (PREFIX:{cases}:group:…) a raid of
// fresh accounts writes are bounded by the cases they name: at most the
// case's own author and its last store.GroupJoiners members while it is
// open, none once it is decided, and none outliving its case.
func TestGroupKeysOfARaid(t *testing.T) {
	url := redistest.URL(t)
	ctx := context.Background()
	c := goredis.NewClient(mustParseURL(t, url))
	defer c.Close()
	prefix := newPrefix()
	st := open(t, url, redis.WithPrefix(prefix))
	groups := func() []string {
		t.Helper()
		keys, err := c.Keys(ctx, prefix+":{cases}:group:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	const raiders = 500
	var ids []string
	for i := range raiders {
		got, err := st.OpenCase(ctx, scamCase(fmt.Sprintf("m-%d", i), fmt.Sprintf("a-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 || ids[len(ids)-1] != got.ID {
			ids = append(ids, got.ID)
		}
	}
	if len(ids) != store.GroupAuthors {
		t.Fatalf("cases %v, want %d", ids, store.GroupAuthors)
	}
	if n, most := len(groups()), store.GroupAuthors+store.GroupJoiners; n > most {
		t.Errorf("%d author groups for %d open cases, want %d at most", n, len(ids), most)
	}
	// A member who joins a case near its end is not named past it.
	place := ids[len(ids)-1]
	if err := c.PExpire(ctx, prefix+":{cases}:"+place, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OpenCase(ctx, scamCase("m-late", "late")); err != nil {
		t.Fatal(err)
	}
	if d := c.PTTL(ctx, prefix+":{cases}:group:"+scamCase("m-late", "late").AuthorGroup()).Val(); d <= 0 || d > time.Minute {
		t.Errorf("a member's group lives %v, its case a minute at most", d)
	}
	for _, id := range ids {
		if _, err := st.DecideCase(ctx, id, "ban", "telegram:1", "", opened.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if keys := groups(); len(keys) != 0 {
		t.Errorf("%d author groups left once every case was decided, want none (%v…)", len(keys), keys[0])
	}
	if keys := c.Keys(ctx, prefix+":{cases}:joined:*").Val(); len(keys) != 0 {
		t.Errorf("members' lists left once every case was decided: %v", keys)
	}
}
