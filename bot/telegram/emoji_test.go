package telegram

import (
	"context"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// A text full of emoji (what a raid of emoji spam makes of a card, a
// mod-log line or an answer) is taken by Telegram: the fake refuses, as
// Telegram does, a text longer than 4096 code units once parsed.
func TestEmojiTextsWithinTelegramsLimit(t *testing.T) {
	x := newDeskFixture(t)
	emoji := strings.Repeat("😀", 2500) // 5000 code units

	card := sampleCard("e1", at(t0))
	card.Event.Text = emoji
	card.Reason = strings.Repeat("🔥", 300)
	card.Suggested = []bot.Action{{Kind: bot.ActReply, Text: strings.Repeat("🙏", 300)}}
	if err := x.desk.PostCard(context.Background(), card); err != nil {
		t.Errorf("card: %v", err)
	}
	if err := x.desk.Alert(context.Background(), emoji); err != nil {
		t.Errorf("alert: %v", err)
	}
	if err := x.desk.Page(context.Background(), emoji); err != nil {
		t.Errorf("page: %v", err)
	}
	id, err := x.c.PostLog(context.Background(), itoa(deskChat.id), emoji)
	if err != nil {
		t.Errorf("mod-log line: %v", err)
	}
	if err == nil {
		if err := x.c.EditLog(context.Background(), itoa(deskChat.id), id, strings.Repeat("🔥", 2500)); err != nil {
			t.Errorf("mod-log edit: %v", err)
		}
	}
	if err := x.c.editMessage(context.Background(), deskChat.id, 500, renderCard(card, "", strings.Repeat("📝", 2000)), nil); err != nil {
		t.Errorf("card edit: %v", err)
	}
}
