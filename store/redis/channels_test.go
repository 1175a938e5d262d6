package redis_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A channel memory, written by two processes (the one that ran the shard,
// late, and the one that took it over): a channel's last message only moves
// forward, whoever writes last, ids compared as numbers (a longer id is a
// later one); the memory keeps the most recently active channels and says
// when each writer last wrote it, one written before writers had names
// included; dropped, it is gone. While Redis is away, the fallback says so
// rather than answering with nothing.
func TestChannelMarks(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	a := otherProcess(t, srv.URL(), prefix)
	b := otherProcess(t, srv.URL(), prefix)
	ctx := context.Background()
	t0 := time.UnixMilli(1_800_000_000_000)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	if marks, saved, err := a.ChannelMarks(ctx, "discord"); err != nil || len(marks) != 0 || len(saved) != 0 {
		t.Fatalf("a memory never written = %v, %v, %v; want none", marks, saved, err)
	}
	if err := b.SaveChannelMarks(ctx, "discord", "0/1", []store.ChannelMark{
		{Channel: "11", Guild: "1", Last: "1000000000000000002", At: at(2)},
		{Channel: "12", Guild: "1", Last: "999999999999999999", At: at(1)},
	}, at(5), 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	// The former runner's last write comes late: an earlier message in 11
	// does not move it back; 12's id, one digit longer, is a later one.
	if err := a.SaveChannelMarks(ctx, "discord", "0/1", []store.ChannelMark{
		{Channel: "11", Guild: "1", Last: "1000000000000000001", At: at(1)},
		{Channel: "12", Guild: "1", Last: "1000000000000000000", At: at(3)},
	}, at(4), 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	// Another writer's, and one of a memory written before writers had
	// names (the field "saved" alone).
	if err := a.SaveChannelMarks(ctx, "discord", "1/2", nil, at(3), 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := a.SaveChannelMarks(ctx, "discord", "", nil, at(1), 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	marks, saved, err := a.ChannelMarks(ctx, "discord")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ChannelMark{
		{Channel: "12", Guild: "1", Last: "1000000000000000000", At: at(3)},
		{Channel: "11", Guild: "1", Last: "1000000000000000002", At: at(2)},
	}
	wantSaved := map[string]time.Time{"0/1": at(5), "1/2": at(3), "": at(1)}
	if fmt.Sprint(marks) != fmt.Sprint(want) || fmt.Sprint(saved) != fmt.Sprint(wantSaved) {
		t.Errorf("memory = %v saved %v; want %v saved %v", marks, saved, want, wantSaved)
	}
	if other, _, err := a.ChannelMarks(ctx, "discord-shard-1-of-2"); err != nil || len(other) != 0 {
		t.Errorf("another shard's memory = %v, %v; want none", other, err)
	}

	// Bounded: past twice keep, the least recently active channels go.
	var many []store.ChannelMark
	for i := range 7 {
		many = append(many, store.ChannelMark{Channel: fmt.Sprint(100 + i), Guild: "1", Last: "1000000000000000005", At: at(10 + i)})
	}
	if err := a.SaveChannelMarks(ctx, "bounded", "0/1", many, at(20), 3, time.Hour); err != nil {
		t.Fatal(err)
	}
	marks, _, err = a.ChannelMarks(ctx, "bounded")
	if err != nil || len(marks) != 3 || marks[0].Channel != "106" || marks[2].Channel != "104" {
		t.Errorf("bounded memory = %v, %v; want the 3 most recently active, 106 to 104", marks, err)
	}
	if err := a.DropChannelMarks(ctx, "bounded"); err != nil {
		t.Fatal(err)
	}
	if marks, saved, err := a.ChannelMarks(ctx, "bounded"); err != nil || len(marks) != 0 || len(saved) != 0 {
		t.Errorf("a memory dropped = %v, %v, %v; want none", marks, saved, err)
	}

	primary, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: time.Hour})
	t.Cleanup(func() { f.Close() })
	if marks, _, err := f.ChannelMarks(ctx, "discord"); err != nil || len(marks) != 2 {
		t.Errorf("through the fallback = %v, %v; want the 2 channels", marks, err)
	}
	srv.Stop()
	if err := f.SaveChannelMarks(ctx, "discord", "0/1", want, at(6), 10, time.Hour); err == nil {
		t.Error("SaveChannelMarks with Redis stopped: no error; want one, for the shard to write again later")
	}
	if _, _, err := f.ChannelMarks(ctx, "discord"); !errors.Is(err, redis.ErrUnavailable) {
		t.Errorf("ChannelMarks with Redis away: %v; want ErrUnavailable", err)
	}
}
