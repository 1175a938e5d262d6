package telegram

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// A channel's discussion group shows the channel's posts (automatic
// forwards) and its admins' answers to the comments, which they write as the
// channel: sender_chat is the linked channel, and only the posts carry
// is_automatic_forward. Both are the brand's, staff as its anonymous
// administrators are; another channel writing in the group is a stranger.
// Which channel is linked is asked with getChat (linked_chat_id), in the
// group's lane when a channel writes there (ResolveRoles), and learnt from
// each automatic forward; it is asked again with the group's admins, in the
// background (lookupAdmins), and the last answer is used meanwhile, as an
// admin list is: a brand's answer is never taken for a stranger's because
// its answer is some minutes old.
const (
	// linkedRetry is how long a getChat that failed is not asked again:
	// a flood of channel messages meanwhile is judged but not acted on.
	linkedRetry = 30 * time.Second
	// linkedMax bounds the groups remembered; beyond, one is forgotten.
	linkedMax = 10000
)

type linkedChannels struct {
	now   func() time.Time
	mu    sync.Mutex
	chats map[int64]linkedEntry
}

type linkedEntry struct {
	// channel is the linked channel, 0 for none; known says a getChat or an
	// automatic forward told it.
	channel int64
	known   bool
	// retry is when a failed getChat may be asked again.
	retry time.Time
}

func newLinkedChannels(now func() time.Time) *linkedChannels {
	return &linkedChannels{now: now, chats: make(map[int64]linkedEntry)}
}

// get returns chat's linked channel (0: none) and whether it is known now.
func (l *linkedChannels) get(chat int64) (channel int64, known bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.chats[chat]
	if !ok || !e.known {
		return 0, false
	}
	return e.channel, true
}

// set records what Telegram said of chat's linked channel.
func (l *linkedChannels) set(chat, channel int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.chats[chat]; !ok && len(l.chats) >= linkedMax {
		for id := range l.chats {
			delete(l.chats, id)
			break
		}
	}
	l.chats[chat] = linkedEntry{channel: channel, known: true}
}

// failed records a getChat that failed: the next waits linkedRetry.
func (l *linkedChannels) failed(chat int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.chats[chat]
	e.retry = l.now().Add(linkedRetry)
	l.chats[chat] = e
}

func (l *linkedChannels) mayAsk(chat int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.now().Before(l.chats[chat].retry)
}

// linkedChannel returns chat's linked channel (0: none), asking Telegram
// when it is not known; known is false when it cannot be had.
func (c *Client) linkedChannel(ctx context.Context, chat int64) (channel int64, known bool) {
	if channel, known := c.linked.get(chat); known {
		return channel, true
	}
	if !c.linked.mayAsk(chat) {
		return 0, false
	}
	return c.askLinked(ctx, chat, false)
}

// refreshLinked asks again which channel is linked to chat, when a channel
// ever wrote there: the answer before stays in use when Telegram fails.
func (c *Client) refreshLinked(ctx context.Context, chat int64) {
	if _, known := c.linked.get(chat); known {
		c.askLinked(ctx, chat, true)
	}
}

// askLinked asks Telegram which channel is linked to chat, and records it;
// again says an answer from before stays in use when Telegram fails.
func (c *Client) askLinked(ctx context.Context, chat int64, again bool) (channel int64, known bool) {
	raw, err := c.call(ctx, "", "getChat", tgbotapi.Params{"chat_id": itoa(chat)})
	switch {
	case err != nil && again:
		c.log.Debug("cannot ask again which channel is linked to the chat: the last answer stays in use", "chat", chat, "err", err)
		return 0, false
	case err != nil:
		if ctx.Err() == nil {
			c.linked.failed(chat)
			c.log.Warn("cannot ask which channel is linked to the chat: a channel's messages there are judged but not acted on", "chat", chat, "err", err)
		}
		return 0, false
	}
	var info struct {
		LinkedChatID int64 `json:"linked_chat_id"`
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		if again {
			return 0, false
		}
		c.linked.failed(chat)
		c.log.Warn("getChat not understood: a channel's messages in the chat are judged but not acted on", "chat", chat, "err", err)
		return 0, false
	}
	c.linked.set(chat, info.LinkedChatID)
	return info.LinkedChatID, true
}
