package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

var _ bot.LogPoster = (*Client)(nil)

// opModLog names the mod-log's messages in errors and metrics.
const opModLog = bot.ActionKind("modlog")

// PostLog writes a mod-log line in the chat to, without link previews. A
// log chat that became a supergroup is followed to its new id; the line's id
// then names that chat too ("chat:message"), for EditLog.
func (c *Client) PostLog(ctx context.Context, to, text string) (string, error) {
	chat, err := strconv.ParseInt(to, 10, 64)
	if err != nil {
		return "", &bot.ActionError{Op: opModLog, Err: fmt.Errorf("telegram: mod-log chat %q is not a chat id", to)}
	}
	msg, chat, err := c.postLog(ctx, chat, text)
	switch {
	case err != nil || msg == 0:
		return "", err // posted without an id: the wave's next line is posted anew
	case itoa(chat) != to:
		return itoa(chat) + ":" + strconv.Itoa(msg), nil
	}
	return strconv.Itoa(msg), nil
}

// postLog posts a line in chat, or where it moved, and says which message
// and chat it is.
func (c *Client) postLog(ctx context.Context, chat int64, text string) (int, int64, error) {
	chat = c.moved.follow(chat)
	// A line names members and quotes their words: their commands are
	// made text (alertText), as on the desk.
	params := tgbotapi.Params{"chat_id": itoa(chat), "text": html.EscapeString(truncate(alertText(text), maxText)), "parse_mode": "HTML",
		"link_preview_options": jsonParam(map[string]any{"is_disabled": true})}
	if err := c.limiter.wait(ctx, chat); err != nil {
		return 0, chat, &bot.ActionError{Op: opModLog, Retryable: errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errNoSlot),
			Err: fmt.Errorf("telegram sendMessage: %w", err)}
	}
	raw, err := c.call(ctx, opModLog, "sendMessage", params)
	if to := migratedTo(err); to != 0 && to != chat {
		c.chatMoved(chat, to)
		return c.postLog(ctx, to, text)
	}
	if err != nil {
		if d := retryAfter(err); d > 0 {
			c.limiter.hold(chat, d)
		}
		return 0, chat, err
	}
	var sent tgbotapi.Message
	_ = json.Unmarshal(raw, &sent)
	return sent.MessageID, chat, nil
}

// EditLog rewrites a mod-log line as its wave grows, in the chat PostLog
// posted it in.
func (c *Client) EditLog(ctx context.Context, to, id, text string) error {
	if in, msgID, ok := strings.Cut(id, ":"); ok {
		to, id = in, msgID
	}
	chat, err := strconv.ParseInt(to, 10, 64)
	msg, err2 := strconv.Atoi(id)
	if err != nil || err2 != nil {
		return &bot.ActionError{Op: opModLog, Err: fmt.Errorf("telegram: mod-log line %s:%s", to, id)}
	}
	return c.editMessage(ctx, chat, msg, html.EscapeString(truncate(alertText(text), maxText)), nil)
}
