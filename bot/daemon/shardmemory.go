package daemon

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/store"
)

// discordMemoryName is the Discord shards' memory of the channels in the
// store: one for all the shards, whatever their count, so that a shard of
// another count (a community that grew from one shard to two, a changed
// DISCORD_SHARD_COUNT) finds the marks of its guilds' channels.
const discordMemoryName = "discord"

// shardMemory is the memory of shard's channels (of count shards) in the
// store the processes share: the process that runs the shard next reads
// from the channels' history what was posted while nobody ran it. nil with
// a store of one process: the shard's Client keeps its own.
func shardMemory(f Fence, shard, count int) discord.ChannelMemory {
	cm, ok := f.st.(store.ChannelMarks)
	if !ok {
		return nil
	}
	count = max(count, 1)
	m := &channelMemory{st: cm, shard: shard, count: count, writer: writerOf(shard, count)}
	if count > 1 {
		// Before, each shard of several kept its memory under its job's
		// name (one shard's was already the shared one's).
		m.legacy = f.lease.Job
	}
	return m
}

// writerOf names a shard of count as a writer of the shared memory.
func writerOf(shard, count int) string { return fmt.Sprintf("%d/%d", shard, count) }

// channelMemory is one shard's discord.ChannelMemory in the store's shared
// memory: it reads the marks of the channels of the shard's guilds (guild
// id >> 22 % count, as Discord assigns them), whoever wrote them, and
// writes the shard's under its name.
type channelMemory struct {
	st           store.ChannelMarks
	shard, count int
	writer       string
	// legacy is the shard's memory as vigie kept it before, under the
	// job's name: read with the shared one, copied into it at the first
	// write, then dropped.
	legacy string

	mu sync.Mutex
	// moving are legacy's marks, read and not copied yet; moveSaved is
	// when legacy was last written; move says legacy was read.
	moving    []store.ChannelMark
	moveSaved time.Time
	move      bool
}

func (m *channelMemory) SaveChannelMarks(ctx context.Context, marks []discord.ChannelMark, saved time.Time, keep int, ttl time.Duration) error {
	// The memory is shared: keep as many channels for all the shards.
	keep *= m.count
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.move {
		if err := m.st.SaveChannelMarks(ctx, discordMemoryName, m.writer, m.moving, m.moveSaved, keep, ttl); err != nil {
			return err
		}
		m.moving = nil
		if err := m.st.DropChannelMarks(ctx, m.legacy); err != nil {
			return err
		}
		m.move = false
	}
	out := make([]store.ChannelMark, len(marks))
	for i, k := range marks {
		out[i] = store.ChannelMark{Channel: k.Channel, Guild: k.Guild, Last: k.Last, At: k.At}
	}
	return m.st.SaveChannelMarks(ctx, discordMemoryName, m.writer, out, saved, keep, ttl)
}

// ChannelMarks returns the marks of the channels of the shard's guilds, and
// the last time one of the writers that ran them wrote the memory.
func (m *channelMemory) ChannelMarks(ctx context.Context) ([]discord.ChannelMark, time.Time, error) {
	marks, saved, err := m.st.ChannelMarks(ctx, discordMemoryName)
	if err != nil {
		return nil, time.Time{}, err
	}
	if t, ok := saved[""]; ok {
		// Written before writers had names: by the only shard.
		delete(saved, "")
		saved[writerOf(0, 1)] = later(saved[writerOf(0, 1)], t)
	}
	if m.legacy != "" {
		old, oldSaved, err := m.st.ChannelMarks(ctx, m.legacy)
		if err != nil {
			return nil, time.Time{}, err
		}
		if len(old) > 0 || len(oldSaved) > 0 {
			var at time.Time
			for _, t := range oldSaved {
				at = later(at, t)
			}
			saved[m.writer] = later(saved[m.writer], at)
			marks = append(marks, old...)
			m.mu.Lock()
			m.moving, m.moveSaved, m.move = old, at, true
			m.mu.Unlock()
		}
	}
	var out []discord.ChannelMark
	guilds := map[string]bool{}
	for _, k := range marks {
		if discord.ShardOf(k.Guild, m.count) != m.shard {
			continue
		}
		guilds[k.Guild] = true
		out = append(out, discord.ChannelMark{Channel: k.Channel, Guild: k.Guild, Last: k.Last, At: k.At})
	}
	// The shard's gap began when a writer that ran one of its guilds last
	// wrote: the latest of them.
	var since time.Time
	for w, t := range saved {
		var shard, count int
		if _, err := fmt.Sscanf(w, "%d/%d", &shard, &count); err != nil || count < 1 {
			continue
		}
		covers := shard == m.shard && count == m.count
		for g := range guilds {
			if covers {
				break
			}
			covers = discord.ShardOf(g, count) == shard
		}
		if covers {
			since = later(since, t)
		}
	}
	return out, since, nil
}
