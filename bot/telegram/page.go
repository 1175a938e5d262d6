package telegram

import (
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// maxCaption is Telegram's limit for a photo's caption.
const maxCaption = 1024

// Page posts an urgent message to the desk chat that mentions every CM of the
// desk, so that their phones ring even in a muted group: a crisis alert.
func (d *Desk) Page(ctx context.Context, text string) error {
	c := d.c
	desk := c.desk.Load()
	chat := c.deskChat()
	if chat == 0 {
		return errNoDesk
	}
	ids := make([]int64, 0, len(desk.cms))
	for id := range desk.cms {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// Telegram counts the text once parsed: a mention is its words ("CM 7").
	var mentions strings.Builder
	words := 0
	for i, id := range ids {
		label := fmt.Sprintf("CM %d", i+1)
		// A mention by id notifies the CM without needing a username.
		fmt.Fprintf(&mentions, ` <a href="tg://user?id=%d">%s</a>`, id, label)
		words += 1 + len(label)
	}
	var b strings.Builder
	b.WriteString("🚨 " + html.EscapeString(truncate(alertText(text), max(maxText-3-words, 1))))
	if len(ids) > 0 {
		b.WriteString("\n" + strings.TrimPrefix(mentions.String(), " "))
	}
	_, err := c.sendMessage(ctx, bot.ActAlert, outgoing{chat: chat, html: true, text: b.String()})
	return err
}

// Picture posts a PNG to the desk chat with a caption: the morning report's
// chart. A text too long for a caption goes first as a message of its own.
func (d *Desk) Picture(ctx context.Context, caption, name string, png []byte) error {
	c := d.c
	chat := c.deskChat()
	if chat == 0 {
		return errNoDesk
	}
	if utf16Len(caption) > maxCaption {
		if _, err := c.sendMessage(ctx, bot.ActAlert, outgoing{chat: chat, text: caption}); err != nil {
			return err
		}
		caption = ""
	}
	photo := tgbotapi.NewPhoto(chat, tgbotapi.FileBytes{Name: name, Bytes: png})
	photo.Caption = caption
	if err := c.limiter.wait(ctx, chat); err != nil {
		return &bot.ActionError{Op: bot.ActAlert, Retryable: errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errNoSlot),
			Err: fmt.Errorf("telegram sendPhoto: %w", err)}
	}
	_, err := c.request(ctx, bot.ActAlert, "sendPhoto", photo)
	if d := retryAfter(err); d > 0 {
		c.limiter.hold(chat, d)
	}
	return err
}

// postReport answers /report where it was asked: the text, then the chart.
func (c *Client) postReport(ctx context.Context, m *tgbotapi.Message, thread int, rc bot.ReportCommands, period time.Duration, by string) {
	text, png, err := rc.Report(ctx, period, by)
	if err != nil {
		c.log.Warn("desk command failed", "command", "report", "err", err)
		c.say(ctx, m, thread, "/report failed: "+err.Error())
		return
	}
	c.say(ctx, m, thread, text)
	if len(png) == 0 {
		return
	}
	// (telegram-bot-api v5 has no topic field for photos: the chart goes to
	// the chat's main thread)
	photo := tgbotapi.NewPhoto(m.Chat.ID, tgbotapi.FileBytes{Name: "vigie-report.png", Bytes: png})
	if _, err := c.request(ctx, bot.ActAlert, "sendPhoto", photo); err != nil {
		c.log.Warn("report chart not sent", "err", err)
	}
}
