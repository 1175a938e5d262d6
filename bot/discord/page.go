package discord

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

// Page posts an urgent message to the desk channel that mentions every CM of the
// desk, and lets only those mentions ping: a crisis alert.
func (d *Desk) Page(ctx context.Context, text string) error {
	desk := d.c.desk.Load()
	if desk.channel == "" {
		return errNoDesk
	}
	ids := make([]string, 0, len(desk.cms))
	for id := range desk.cms {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var mentions []string
	for _, id := range ids {
		mentions = append(mentions, "<@"+id+">")
	}
	tail := ""
	if len(mentions) > 0 {
		tail = "\n" + strings.Join(mentions, " ")
	}
	content := truncate("🚨 "+md(text), 2000-len([]rune(tail))) + tail
	ctx, cancel := callContext(ctx)
	defer cancel()
	_, err := d.c.sess.ChannelMessageSendComplex(desk.channel, &discordgo.MessageSend{
		Content: content,
		// Only the CMs are pinged: user names quoted in the text are not.
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, Users: ids},
		Flags:           discordgo.MessageFlagsSuppressEmbeds,
	}, opts(ctx)...)
	return d.c.classify(ctx, bot.ActAlert, err)
}

// Picture posts a PNG to the desk channel, as a file, with a text: the morning
// report's chart. A text longer than a message goes first on its own.
func (d *Desk) Picture(ctx context.Context, text, name string, png []byte) error {
	ch := d.c.desk.Load().channel
	if ch == "" {
		return errNoDesk
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	text = md(text)
	if len([]rune(text)) > 2000 {
		for _, part := range split(text, 2000) {
			if _, err := d.c.sess.ChannelMessageSendComplex(ch, &discordgo.MessageSend{Content: part, AllowedMentions: noMentions}, opts(ctx)...); err != nil {
				return d.c.classify(ctx, bot.ActAlert, err)
			}
		}
		text = ""
	}
	_, err := d.c.sess.ChannelMessageSendComplex(ch, &discordgo.MessageSend{
		Content:         text,
		AllowedMentions: noMentions,
		Files:           []*discordgo.File{{Name: name, ContentType: "image/png", Reader: bytes.NewReader(png)}},
	}, opts(ctx)...)
	if err != nil {
		return d.c.classify(ctx, bot.ActAlert, fmt.Errorf("upload %s: %w", name, err))
	}
	return nil
}

// split cuts text in parts of at most n characters, at line ends when it can.
func split(text string, n int) []string {
	var parts []string
	var cur strings.Builder
	for line := range strings.Lines(text) {
		if cur.Len() > 0 && len([]rune(cur.String()))+len([]rune(line)) > n {
			parts = append(parts, cur.String())
			cur.Reset()
		}
		for len([]rune(line)) > n {
			r := []rune(line)
			parts = append(parts, string(r[:n]))
			line = string(r[n:])
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}
