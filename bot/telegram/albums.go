package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// An album (photos or videos sent together) comes as one message each,
// sharing a media_group_id, with the caption on the first: the rules see the
// caption on that message alone. Deleting it deletes the album: the others
// vigie saw (deleteMessages), and those that come after, as they come.
// albumsMax bounds the albums remembered, the oldest forgotten beyond.
const albumsMax = 4096

type albumKey struct {
	chat  int64
	group string
}

type album struct {
	msgs    []int
	deleted bool
}

type albums struct {
	mu    sync.Mutex
	by    map[albumKey]*album
	ofMsg map[chatMessage]string
	ring  []albumKey
	next  int
}

type chatMessage struct {
	chat int64
	msg  int
}

func newAlbums() *albums {
	return &albums{by: make(map[albumKey]*album), ofMsg: make(map[chatMessage]string), ring: make([]albumKey, albumsMax)}
}

// add records msg as part of chat's album group; it reports whether vigie
// deleted the album already, so that msg is to be deleted too.
func (a *albums) add(chat int64, group string, msg int) (deleted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := albumKey{chat, group}
	al, ok := a.by[k]
	if !ok {
		if old := a.ring[a.next]; old.group != "" {
			if o := a.by[old]; o != nil {
				for _, m := range o.msgs {
					delete(a.ofMsg, chatMessage{old.chat, m})
				}
			}
			delete(a.by, old)
		}
		a.ring[a.next] = k
		a.next = (a.next + 1) % len(a.ring)
		al = &album{}
		a.by[k] = al
	}
	if _, seen := a.ofMsg[chatMessage{chat, msg}]; !seen && len(al.msgs) < 100 {
		al.msgs = append(al.msgs, msg)
		a.ofMsg[chatMessage{chat, msg}] = group
	}
	return al.deleted
}

// deleted marks the album of chat's msg deleted and returns its other
// messages; none when msg is in no album vigie saw.
func (a *albums) deleted(chat int64, msg int) []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	group, ok := a.ofMsg[chatMessage{chat, msg}]
	if !ok {
		return nil
	}
	al := a.by[albumKey{chat, group}]
	al.deleted = true
	var others []int
	for _, m := range al.msgs {
		if m != msg {
			others = append(others, m)
		}
	}
	return others
}

// deleteAlbumRest deletes the messages of an album whose caption's message
// was deleted: Telegram skips those gone already.
func (c *Client) deleteAlbumRest(ctx context.Context, chat int64, msgs []int) error {
	ids, _ := json.Marshal(msgs)
	_, err := c.call(ctx, bot.ActDelete, "deleteMessages", tgbotapi.Params{"chat_id": itoa(chat), "message_ids": string(ids)})
	if err != nil {
		return fmt.Errorf("telegram: the message was deleted, but not the %d other(s) of its album: %w", len(msgs), err)
	}
	return nil
}

// albumLate deletes a message of an album vigie deleted, come after the
// delete, on a desk worker.
func (c *Client) albumLate(ctx context.Context, chat int64, msg int) {
	c.work.Go(ctx, func(ctx context.Context) {
		if err := c.deleteAlbumRest(ctx, chat, []int{msg}); err != nil {
			c.log.Warn("a photo of an album vigie deleted came after, and could not be deleted", "chat", chat, "message", msg, "err", err)
			return
		}
		c.log.Info("deleted a photo of an album vigie deleted, come after it", "chat", chat, "message", msg)
	})
}
