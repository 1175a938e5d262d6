package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

var _ bot.LogPoster = (*Client)(nil)

// opModLog names the mod-log's messages in errors and metrics.
const opModLog = bot.ActionKind("modlog")

// PostLog writes a mod-log line in the chat to, without link previews.
func (c *Client) PostLog(ctx context.Context, to, text string) (string, error) {
	chat, err := strconv.ParseInt(to, 10, 64)
	if err != nil {
		return "", &bot.ActionError{Op: opModLog, Err: fmt.Errorf("telegram: mod-log chat %q is not a chat id", to)}
	}
	params := tgbotapi.Params{"chat_id": to, "text": html.EscapeString(truncate(text, maxText)), "parse_mode": "HTML",
		"link_preview_options": jsonParam(map[string]any{"is_disabled": true})}
	if err := c.limiter.wait(ctx, chat); err != nil {
		return "", &bot.ActionError{Op: opModLog, Retryable: errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errNoSlot),
			Err: fmt.Errorf("telegram sendMessage: %w", err)}
	}
	raw, err := c.call(ctx, opModLog, "sendMessage", params)
	if err != nil {
		if d := retryAfter(err); d > 0 {
			c.limiter.hold(chat, d)
		}
		return "", err
	}
	var sent tgbotapi.Message
	if err := json.Unmarshal(raw, &sent); err != nil || sent.MessageID == 0 {
		return "", nil // posted, but it cannot be edited: the wave's next line is posted anew
	}
	return strconv.Itoa(sent.MessageID), nil
}

// EditLog rewrites a mod-log line as its wave grows.
func (c *Client) EditLog(ctx context.Context, to, id, text string) error {
	chat, err := strconv.ParseInt(to, 10, 64)
	msg, err2 := strconv.Atoi(id)
	if err != nil || err2 != nil {
		return &bot.ActionError{Op: opModLog, Err: fmt.Errorf("telegram: mod-log line %s:%s", to, id)}
	}
	return c.editMessage(ctx, chat, msg, html.EscapeString(truncate(text, maxText)), nil)
}
