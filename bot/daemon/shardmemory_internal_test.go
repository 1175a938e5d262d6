package daemon

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// The shards' memory of the channels is one for all shards: a shard reads
// the marks of its guilds' channels whoever wrote them (another count of
// shards included), and its gap begins at the last write of a writer that
// ran one of them. A shard's memory as vigie kept it before (under the
// shard's job name) is read too, copied into the shared one at the first
// write, then dropped: read once.
func TestShardMemoryWhateverTheCount(t *testing.T) {
	st := redistest.Open(t, redistest.URL(t), redis.WithPrefix(redistest.Prefix("shardmemory")))
	ctx := context.Background()
	t0 := time.UnixMilli(1_800_000_000_000)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	// A guild on each shard of two, neither on shard 2 of 3.
	var guilds []string
	for n := uint64(190_000_000_000); len(guilds) < 2; n++ {
		if id := strconv.FormatUint(n<<22|1, 10); discord.ShardOf(id, 2) == len(guilds) && discord.ShardOf(id, 3) != 2 {
			guilds = append(guilds, id)
		}
	}
	g0, g1 := guilds[0], guilds[1]

	// One shard ran both guilds until at(10), and wrote without a
	// writer's name, as vigie did before; a shard of three, long ago.
	if err := st.SaveChannelMarks(ctx, "discord", "", []store.ChannelMark{
		{Channel: "100", Guild: g0, Last: "1000", At: at(1)},
		{Channel: "101", Guild: g1, Last: "1001", At: at(2)},
	}, at(10), 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveChannelMarks(ctx, "discord", "2/3", nil, at(50), 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	// Then two shards, each under its job's name, as vigie did before:
	// shard 1 until at(20).
	if err := st.SaveChannelMarks(ctx, "discord-shard-1-of-2", "", []store.ChannelMark{
		{Channel: "102", Guild: g1, Last: "1002", At: at(3)},
	}, at(20), 10, time.Hour); err != nil {
		t.Fatal(err)
	}

	fence := func(job string) Fence { return Fence{st: st, lease: store.Lease{Job: job}} }
	read := func(m discord.ChannelMemory) ([]discord.ChannelMark, time.Time) {
		t.Helper()
		marks, since, err := m.ChannelMarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return marks, since
	}
	one, two := shardMemory(fence("discord-shard-1-of-2"), 1, 2), shardMemory(fence("discord-shard-0-of-2"), 0, 2)
	marks, since := read(one)
	want := []discord.ChannelMark{
		{Channel: "101", Guild: g1, Last: "1001", At: at(2)},
		{Channel: "102", Guild: g1, Last: "1002", At: at(3)},
	}
	if fmt.Sprint(marks) != fmt.Sprint(want) || !since.Equal(at(20)) {
		t.Errorf("shard 1 of 2 reads %v since %v; want %v since %v", marks, since, want, at(20))
	}
	marks, since = read(two)
	want = []discord.ChannelMark{{Channel: "100", Guild: g0, Last: "1000", At: at(1)}}
	if fmt.Sprint(marks) != fmt.Sprint(want) || !since.Equal(at(10)) {
		t.Errorf("shard 0 of 2 reads %v since %v; want %v since %v", marks, since, want, at(10))
	}

	// Shard 1's first write copies the old memory and drops it.
	if err := one.SaveChannelMarks(ctx, []discord.ChannelMark{{Channel: "101", Guild: g1, Last: "1005", At: at(30)}}, at(30), 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	if old, saved, err := st.ChannelMarks(ctx, "discord-shard-1-of-2"); err != nil || len(old) != 0 || len(saved) != 0 {
		t.Errorf("the old memory after the first write = %v, %v, %v; want it dropped", old, saved, err)
	}
	// Back to one shard: it reads every channel.
	marks, since = read(shardMemory(fence("discord"), 0, 1))
	want = []discord.ChannelMark{
		{Channel: "101", Guild: g1, Last: "1005", At: at(30)},
		{Channel: "102", Guild: g1, Last: "1002", At: at(3)},
		{Channel: "100", Guild: g0, Last: "1000", At: at(1)},
	}
	if fmt.Sprint(marks) != fmt.Sprint(want) || !since.Equal(at(30)) {
		t.Errorf("one shard reads %v since %v; want %v since %v", marks, since, want, at(30))
	}
}
