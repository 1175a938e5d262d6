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

// TestRaidCaseCalls: what opening a case and a raid's members joining it
// ask of Redis. A new case's fields, its author's group among them, are
// written in one HSET (and its place's in another); the list of the members
// who joined it is given its expiry when it is made, not again for each
// member (the case's life only runs down while it is open).
func TestRaidCaseCalls(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	prefix := newPrefix()
	st := open(t, srv.URL(), redis.WithPrefix(prefix))
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()

	commandCalls(t, c)
	first, err := st.OpenCase(ctx, scamCase("m-0", "a-0"))
	if err != nil {
		t.Fatal(err)
	}
	if n := commandCalls(t, c)["hset"]; n != 2 {
		t.Errorf("a new case: %d HSETs, want 2 (its hash, its place)", n)
	}
	for i := 1; i < store.GroupAuthors; i++ {
		if _, err := st.OpenCase(ctx, scamCase(fmt.Sprintf("m-%d", i), fmt.Sprintf("a-%d", i))); err != nil {
			t.Fatal(err)
		}
	}

	const members = 10
	commandCalls(t, c)
	var place string
	for i := range members {
		got, err := st.OpenCase(ctx, scamCase(fmt.Sprintf("m-raid-%d", i), fmt.Sprintf("raider-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if place == "" {
			place = got.ID
		}
		if got.ID != place {
			t.Fatalf("raider %d in case %s, want the place's %s", i, got.ID, place)
		}
	}
	// Each member is pushed to the list of the case's members and to that
	// of its references; each list is given its life once, when made.
	got := commandCalls(t, c)
	if n := got["rpush"]; n != 2*members {
		t.Fatalf("%d RPUSHes for %d members, want %d", n, members, 2*members)
	}
	if n := got["pexpire"]; n != 2 {
		t.Errorf("%d PEXPIREs for %d members, want 2 (the members' list, the references')", n, members)
	}
	if d := c.PTTL(ctx, prefix+":{cases}:joined:"+place).Val(); d <= 0 {
		t.Errorf("the members' list lives %v, want its case's life", d)
	}

	// The decision still finds the author's group in the case and removes
	// it, with the members'.
	for _, id := range []string{first.ID, place} {
		if _, err := st.DecideCase(ctx, id, "ban", "telegram:1", "", opened.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if v := c.Get(ctx, prefix+":{cases}:group:"+scamCase("m-0", "a-0").AuthorGroup()).Val(); v != "" {
		t.Errorf("the first author's group names %q once its case was decided, want none", v)
	}
	if keys := c.Keys(ctx, prefix+":{cases}:joined:*").Val(); len(keys) != 0 {
		t.Errorf("members' lists left once the cases were decided: %v", keys)
	}
}
