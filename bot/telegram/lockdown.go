package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// A Telegram group locks down with setChatPermissions: its members may still
// write text, but no media, stickers, polls or link previews until it is
// lifted. The Bot API has no slow mode for bots (a group's slow_mode_delay
// is only read by getChat), so the client is no bot.SlowModer and
// slowmode() is refused on Telegram.
var _ bot.Locker = (*Client)(nil)

// lockedOut are the permissions a lockdown takes away; the others stay as
// the group's admins set them.
var lockedOut = []string{"can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
	"can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
	"can_add_web_page_previews", "can_invite_users"}

// Lock reads the group's permissions (getChat) and takes lockedOut away
// (setChatPermissions; vigie needs can_restrict_members). It returns the
// permissions it found, as JSON, for Unlock.
func (c *Client) Lock(ctx context.Context, ev bot.Event) (string, error) {
	chat, err := strconv.ParseInt(ev.Space, 10, 64)
	if err != nil {
		return "", &bot.ActionError{Op: bot.ActLockdown, Err: fmt.Errorf("telegram: event %s: chat %q is not a chat id", ev.ID, ev.Space)}
	}
	raw, err := c.call(ctx, bot.ActLockdown, "getChat", tgbotapi.Params{"chat_id": itoa(chat)})
	if err != nil {
		return "", err
	}
	var info struct {
		Permissions map[string]bool `json:"permissions"`
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return "", &bot.ActionError{Op: bot.ActLockdown, Err: fmt.Errorf("telegram: getChat: %w", err)}
	}
	prev := info.Permissions
	if prev == nil {
		prev = memberPermissions // a group that never set any lets its members do everything
	}
	locked := make(map[string]bool, len(prev))
	for k, v := range prev {
		locked[k] = v
	}
	for _, k := range lockedOut {
		locked[k] = false
	}
	if _, err := c.setPermissions(ctx, bot.ActLockdown, chat, locked); err != nil {
		return "", err
	}
	b, _ := json.Marshal(prev)
	return string(b), nil
}

// Unlock gives the group back the permissions Lock found.
func (c *Client) Unlock(ctx context.Context, ev bot.Event, prev string) error {
	chat, err := strconv.ParseInt(ev.Space, 10, 64)
	if err != nil {
		return &bot.ActionError{Op: bot.ActLockdown, Err: fmt.Errorf("telegram: chat %q is not a chat id", ev.Space)}
	}
	var perms map[string]bool
	if err := json.Unmarshal([]byte(prev), &perms); err != nil {
		return &bot.ActionError{Op: bot.ActLockdown, Err: fmt.Errorf("telegram: permissions before the lockdown %q: %w", prev, err)}
	}
	_, err = c.setPermissions(ctx, bot.ActLockdown, chat, perms)
	return err
}

func (c *Client) setPermissions(ctx context.Context, op bot.ActionKind, chat int64, perms map[string]bool) (json.RawMessage, error) {
	return c.call(ctx, op, "setChatPermissions", tgbotapi.Params{
		"chat_id":                          itoa(chat),
		"permissions":                      jsonParam(perms),
		"use_independent_chat_permissions": "true",
	})
}
