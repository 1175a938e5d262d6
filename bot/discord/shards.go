package discord

import (
	"context"
	"fmt"
	"strconv"
)

// ShardOf is the shard whose gateway connection receives a guild's events,
// as Discord assigns them: (guild_id >> 22) % count. A guild id that is not
// a snowflake goes to shard 0.
func ShardOf(guildID string, count int) int {
	if count <= 1 {
		return 0
	}
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil {
		return 0
	}
	return int((id >> 22) % uint64(count))
}

// RecommendedShards asks Discord how many shards the bot should run
// (GET /gateway/bot), for an operator who does not set DISCORD_SHARD_COUNT.
func (c *Client) RecommendedShards(ctx context.Context) (int, error) {
	r, err := c.sess.GatewayBot(opts(ctx)...)
	if err != nil {
		return 0, c.classify(ctx, "gateway", err)
	}
	if r.Shards < 1 {
		return 0, fmt.Errorf("discord: GET /gateway/bot recommends %d shards", r.Shards)
	}
	return r.Shards, nil
}

// Shards returns the shard this Client runs and the shard count.
func (c *Client) Shards() (id, count int) { return c.cfg.ShardID, c.cfg.ShardCount }
