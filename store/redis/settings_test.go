package redis_test

import (
	"context"
	"maps"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// What one process sets for all (a pause, a mode) and the reloads it asks
// are read by another on the same prefix, with a version that grows; another
// prefix sees none of it, and a Redis that lost its data says nothing was
// set (version 0) rather than failing.
func TestSettingsAndReloadsShared(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	a := otherProcess(t, srv.URL(), prefix)
	b := otherProcess(t, srv.URL(), prefix)
	elsewhere := otherProcess(t, srv.URL(), newPrefix())
	ctx := context.Background()

	v1, err := a.PutSetting(ctx, "pause", "forever")
	if err != nil {
		t.Fatal(err)
	}
	v2, err := a.PutSetting(ctx, "version", "not the version") // a name like the counter's
	if err != nil || v2 <= v1 {
		t.Fatalf("versions %d then %d, %v; want growing", v1, v2, err)
	}
	got, v, err := b.Settings(ctx)
	if err != nil || v != v2 || got["pause"] != "forever" || got["version"] != "not the version" || len(got) != 2 {
		t.Errorf("settings read = %v, version %d, %v; want both, version %d", got, v, err, v2)
	}
	if n, err := a.AskReload(ctx, store.ReloadAsk{Confined: true, Digest: "abc"}); err != nil || n != 1 {
		t.Errorf("first reload asked = %d, %v", n, err)
	}
	if r, err := b.ReloadsAsked(ctx); err != nil || r != (store.ReloadAsk{N: 1, Confined: true, Digest: "abc"}) {
		t.Errorf("reloads asked = %+v, %v", r, err)
	}
	if got, v, err := elsewhere.Settings(ctx); err != nil || v != 0 || len(got) != 0 {
		t.Errorf("another prefix reads %v, version %d, %v; want nothing", got, v, err)
	}
	if r, err := elsewhere.ReloadsAsked(ctx); err != nil || r.N != 0 {
		t.Errorf("another prefix reads reloads %+v, %v; want none", r, err)
	}

	srv.Stop()
	srv.Restart() // empty: its data is lost
	// the first command may find its pooled connection cut by the restart
	var v2b int64
	for range 3 {
		if _, v2b, err = b.Settings(ctx); err == nil {
			break
		}
	}
	if err != nil || v2b != 0 {
		t.Errorf("after the data was lost: version %d, %v; want 0", v2b, err)
	}
}

// The settings and the reloads asked keep the keys and fields that earlier
// versions read and wrote, so that processes of both, sharing a Redis during
// an upgrade, follow each other's pauses and reloads.
func TestSettingsAndReloadsLayout(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	s := otherProcess(t, srv.URL(), prefix)
	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { raw.Close() })
	ctx := context.Background()

	if _, err := s.PutSetting(ctx, "pause", "forever"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AskReload(ctx, store.ReloadAsk{Confined: true, Digest: "abc"}); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]map[string]string{
		prefix + ":{settings}":      {"version": "1", "s:pause": "forever"},
		prefix + ":{rules}:reloads": {"n": "1", "confined": "1", "digest": "abc"},
	} {
		if got, err := raw.HGetAll(ctx, key).Result(); err != nil || !maps.Equal(got, want) {
			t.Errorf("%s = %v, %v; want %v", key, got, err, want)
		}
	}

	// as an earlier version wrote them
	raw.HSet(ctx, prefix+":{settings}", "version", "7", "s:mode", "night")
	raw.HSet(ctx, prefix+":{rules}:reloads", "n", "4", "confined", "0", "digest", "def")
	if got, v, err := s.Settings(ctx); err != nil || v != 7 || !maps.Equal(got, map[string]string{"pause": "forever", "mode": "night"}) {
		t.Errorf("settings = %v, version %d, %v", got, v, err)
	}
	if r, err := s.ReloadsAsked(ctx); err != nil || r != (store.ReloadAsk{N: 4, Digest: "def"}) {
		t.Errorf("reloads asked = %+v, %v", r, err)
	}
	if n, err := s.AskReload(ctx, store.ReloadAsk{}); err != nil || n != 5 {
		t.Errorf("next reload asked = %d, %v; want 5", n, err)
	}
}
