package discord

import (
	"context"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

var (
	_ bot.LogPoster  = (*Client)(nil)
	_ bot.LogEscaper = (*Client)(nil)
)

// EscapeLog makes a member's part of a mod-log line show as written: a line
// is markdown, whose links, formats and mentions are vigie's alone.
func (c *Client) EscapeLog(text string) string { return md(text) }

// opModLog names the mod-log's messages in errors.
const opModLog = bot.ActionKind("modlog")

// PostLog writes a mod-log line in the channel to, pinging nobody and
// without link previews.
func (c *Client) PostLog(ctx context.Context, to, text string) (string, error) {
	ctx, cancel := callContext(ctx)
	defer cancel()
	m, err := c.sess.ChannelMessageSendComplex(to, &discordgo.MessageSend{
		Content: truncate(text, 2000), AllowedMentions: noMentions, Flags: discordgo.MessageFlagsSuppressEmbeds,
	}, opts(ctx)...)
	if err != nil {
		return "", c.classify(ctx, opModLog, err)
	}
	return m.ID, nil
}

// EditLog rewrites a mod-log line as its wave grows.
func (c *Client) EditLog(ctx context.Context, to, id, text string) error {
	ctx, cancel := callContext(ctx)
	defer cancel()
	// Written as the API describes it: discordgo's MessageEdit also sends its
	// ID and Channel fields in the body.
	endpoint := discordgo.EndpointChannelMessage(to, id)
	_, err := c.sess.RequestWithBucketID("PATCH", endpoint, map[string]any{
		"content": truncate(text, 2000), "allowed_mentions": noMentions, "flags": discordgo.MessageFlagsSuppressEmbeds,
	}, discordgo.EndpointChannelMessage(to, ""), opts(ctx)...)
	return c.classify(ctx, opModLog, err)
}
