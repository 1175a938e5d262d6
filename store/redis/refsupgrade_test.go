package redis_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestGroupedRefsWithAnOlderVigie: during a rolling upgrade, an older vigie
// on the same Redis groups hits into a case by their ids alone (latest and
// count, as its open script writes them), and reads the cases this one
// writes. This one reads the message of every grouped id: those it kept a
// reference of where they are, the older vigie's in the case's own place
// (where that vigie grouped them); the older vigie finds the ids in
// latest as it always wrote them, and no field it does not know in the
// case's JSON.
func TestGroupedRefsWithAnOlderVigie(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	prefix := newPrefix()
	st := redistest.Open(t, srv.URL(), redis.WithPrefix(prefix), redis.WithClaimIdle(time.Hour))
	raw := redistest.Client(t, srv.URL())
	hit := func(id string, at time.Duration) store.Case {
		t.Helper()
		c := scamCase(id, "eve")
		c.Event.Thread = "thread-" + id
		c.Event.At = c.Event.At.Add(at)
		got, err := st.OpenCase(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := hit("m-1", 0)
	hit("m-2", time.Second)
	key := prefix + ":{cases}:" + first.ID
	// The older vigie groups m-3: its id joins latest, its count goes up.
	if err := raw.HSet(ctx, key, "latest", `["m-2","m-3"]`, "count", "3").Err(); err != nil {
		t.Fatal(err)
	}
	last := hit("m-4", 3*time.Second)
	if last.ID != first.ID || last.Count != 4 {
		t.Fatalf("m-4 joined case %s counting %d, want %s counting 4", last.ID, last.Count, first.ID)
	}
	got, err := st.Case(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	msgs, unkept := got.Grouped()
	where := map[string]string{}
	for _, e := range msgs {
		where[e.ID] = e.Thread
	}
	want := map[string]string{"m-2": "thread-m-2", "m-4": "thread-m-4", "m-3": "thread-m-1"}
	if len(msgs) != 3 || unkept != 0 || !maps.Equal(where, want) {
		t.Errorf("grouped messages (thread of each) %v, %d unkept; want %v, none", where, unkept, want)
	}

	// What the older vigie reads: latest, a JSON list of ids, and the
	// case's JSON without refs.
	h, err := raw.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	var latest []string
	if err := json.Unmarshal([]byte(h["latest"]), &latest); err != nil || !slices.Equal(latest, []string{"m-2", "m-3", "m-4"}) {
		t.Errorf("latest as an older vigie reads it: %q, %v", latest, err)
	}
	if strings.Contains(h["json"], `"refs"`) {
		t.Errorf("the case's JSON holds its refs: %s", h["json"])
	}

	// A case all of whose hits an older vigie grouped: no refs at all.
	if err := raw.Del(ctx, prefix+":{cases}:refs:"+first.ID).Err(); err != nil {
		t.Fatal(err)
	}
	old, err := st.Case(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ = old.Grouped()
	var ids []string
	for _, e := range msgs {
		if e.Channel != "general" || e.Thread != "thread-m-1" {
			t.Errorf("message %s of an older vigie's case taken to be in %s/%s, want the case's place", e.ID, e.Channel, e.Thread)
		}
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []string{"m-2", "m-3", "m-4"}) {
		t.Errorf("an older vigie's case groups %q, want m-2 m-3 m-4", ids)
	}
}

// TestGroupedRefsThroughTheSpool: while Redis is away, three hits of one
// author in three threads are grouped in memory, as Redis groups them, and
// kept so in its spool; a vigie started again on the spool has the case,
// and writes it back to Redis as one case that names where each message
// is.
func TestGroupedRefsThroughTheSpool(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	url, prefix, dir := srv.URL()+"?max_retries=-1&dial_timeout=500ms", newPrefix(), filepath.Join(t.TempDir(), "spool")
	srv.Stop()
	first := spooledFallback(t, url, prefix, dir, time.Hour)
	_ = first.Probe(ctx)
	if !first.Degraded() {
		t.Fatal("the store did not find Redis away")
	}
	for i, m := range []string{"m-1", "m-2", "m-3"} {
		c := scamCase(m, "eve")
		c.Event.Thread = "thread-" + m
		c.Event.At = c.Event.At.Add(time.Duration(i) * time.Second)
		if _, err := first.OpenCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	again := spooledFallback(t, url, prefix, dir, time.Hour)
	_ = again.Probe(ctx)
	if cs, err := again.Cases(ctx, store.CaseOpen); err != nil || len(cs) != 1 || cs[0].Hits() != 3 {
		t.Fatalf("the spool's cases read again: %d, %v; want one of 3 hits", len(cs), err)
	}
	srv.Restart()
	redis.FlushNow(again)
	if again.Degraded() {
		t.Fatal("the cases not written back to Redis")
	}
	other := redistest.Open(t, srv.URL(), redis.WithPrefix(prefix))
	cs, err := other.Cases(ctx, store.CaseOpen)
	if err != nil || len(cs) != 1 {
		t.Fatalf("the cases written back, read on Redis: %d, %v; want one", len(cs), err)
	}
	msgs, unkept := cs[0].Grouped()
	var where []string
	for _, e := range msgs {
		where = append(where, e.ID+"@"+e.Thread)
	}
	if want := []string{"m-2@thread-m-2", "m-3@thread-m-3"}; cs[0].Count != 3 || unkept != 0 || !slices.Equal(where, want) {
		t.Errorf("the case on Redis counts %d, groups %q (%d unkept); want 3, %q", cs[0].Count, where, unkept, want)
	}
}

// TestGroupedRefsInAList: a case's message references are a list of their
// own beside its hash, so that a grouped hit pushes its own and drops the
// oldest past store.GroupRefs, and the hash is not read and written whole
// on each hit. The list lives as long as the hash: the life left to the
// case when the list is made, its expiry pushed with the hash's when the
// case is decided; a decision and a reader have the references.
func TestGroupedRefsInAList(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	prefix := newPrefix()
	st := redistest.Open(t, srv.URL(), redis.WithPrefix(prefix), redis.WithClaimIdle(time.Hour))
	raw := redistest.Client(t, srv.URL())
	hit := func(n int) store.Case {
		t.Helper()
		c := scamCase("m-"+strconv.Itoa(n), "eve")
		c.Event.At = c.Event.At.Add(time.Duration(n) * time.Second)
		got, err := st.OpenCase(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	ids := func(refs []store.MessageRef) []string {
		var ids []string
		for _, r := range refs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	idsFrom := func(from, to int) []string {
		var ids []string
		for i := from; i <= to; i++ {
			ids = append(ids, "m-"+strconv.Itoa(i))
		}
		return ids
	}
	first := hit(0)
	key, list := prefix+":{cases}:"+first.ID, prefix+":{cases}:refs:"+first.ID
	for i := 1; i <= store.GroupRefs+5; i++ {
		if got := hit(i); got.ID != first.ID || got.Refs != nil {
			t.Fatalf("m-%d: case %s, refs %v; want %s, no refs in the grouped answer", i, got.ID, got.Refs, first.ID)
		}
	}
	lines, err := raw.LRange(ctx, list, 0, -1).Result()
	if err != nil || len(lines) != store.GroupRefs {
		t.Fatalf("the list of references holds %d, %v; want %d", len(lines), err, store.GroupRefs)
	}
	var ref store.MessageRef
	if err := json.Unmarshal([]byte(lines[0]), &ref); err != nil || ref.ID != "m-6" || ref.Channel != "general" {
		t.Errorf("the oldest reference kept: %+v, %v; want m-6 in general", ref, err)
	}
	if fields, err := raw.HKeys(ctx, key).Result(); err != nil || slices.Contains(fields, "refs") || slices.Contains(fields, "nrefs") {
		t.Errorf("the case's hash holds %q, %v; want no references in it", fields, err)
	}
	caseTTL, listTTL := raw.PTTL(ctx, key).Val(), raw.PTTL(ctx, list).Val()
	if listTTL <= 0 || listTTL > caseTTL || caseTTL-listTTL > time.Minute {
		t.Errorf("the list expires in %v, the case in %v; want them together", listTTL, caseTTL)
	}
	got, err := st.Case(ctx, first.ID)
	if err != nil || !slices.Equal(ids(got.Refs), idsFrom(6, store.GroupRefs+5)) {
		t.Errorf("the case read: refs %v, %v; want m-6 to m-%d", ids(got.Refs), err, store.GroupRefs+5)
	}
	cs, err := st.Cases(ctx, store.CaseOpen)
	if err != nil || len(cs) != 1 || len(cs[0].Refs) != store.GroupRefs {
		t.Errorf("the open cases: %d, %v; want one with %d refs", len(cs), err, store.GroupRefs)
	}

	// Decided: the references stay with the case, and expire with it.
	if err := raw.PExpire(ctx, list, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	decided, err := st.DecideCase(ctx, first.ID, "delete", "cm-1", "Camille", first.Event.At.Add(time.Hour))
	if err != nil || !slices.Equal(ids(decided.Refs), idsFrom(6, store.GroupRefs+5)) {
		t.Errorf("the decision: refs %v, %v; want m-6 to m-%d", ids(decided.Refs), err, store.GroupRefs+5)
	}
	again, err := st.DecideCase(ctx, first.ID, "dismiss", "cm-2", "Sam", first.Event.At.Add(2*time.Hour))
	if !errors.Is(err, store.ErrDecided) || len(again.Refs) != store.GroupRefs {
		t.Errorf("decided again: %d refs, %v; want %d, ErrDecided", len(again.Refs), err, store.GroupRefs)
	}
	caseTTL, listTTL = raw.PTTL(ctx, key).Val(), raw.PTTL(ctx, list).Val()
	if listTTL <= time.Hour || listTTL > caseTTL || caseTTL-listTTL > time.Minute {
		t.Errorf("decided, the list expires in %v, the case in %v; want them together", listTTL, caseTTL)
	}
}
