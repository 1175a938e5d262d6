package telegram

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// TestMemberActionsFollowAMovedGroup: a basic group of the chat list became
// a supergroup in the night, and no vigie took Telegram's service message
// (another instance did, or vigie was restarting). In the morning a CM
// decides the cases kept from before the move: the mute, the ban, its
// read-back, the unban at a timed ban's end and the kick are about the
// member, who moved with the group, and are carried out in the supergroup,
// learned from Telegram's refusal of the old id. A message stays where it
// was posted: its delete is not tried in the new chat.
func TestMemberActionsFollowAMovedGroup(t *testing.T) {
	oldGroup := tgChat{id: -4005, kind: "group", title: "Fans"}
	newGroup := tgChat{id: -1001000004005, kind: "supergroup", title: "Fans"}
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{oldGroup.id}})
	run(t, c, make(chan bot.Event, 100))
	f.waitFor("getUpdates", 1, nil)
	f.Migrate(oldGroup.id, newGroup.id)

	ev := bot.Event{ID: fmtID(oldGroup.id, 30), Platform: Platform, Kind: bot.KindMessage, Space: itoa(oldGroup.id), Channel: itoa(oldGroup.id),
		Author: bot.Author{ID: itoa(bob.id), Name: "Bob"}, Text: "buy cheap followers", At: at(t0)}
	ctx := context.Background()
	if err := c.Timeout(ctx, ev, 10*time.Minute); err != nil {
		t.Fatalf("Timeout of a member of a group that moved: %v\n%s", err, logs)
	}
	f.waitFor("restrictChatMember", 1, inChat(newGroup.id))
	if err := c.Ban(ctx, ev, 24*time.Hour); err != nil {
		t.Fatalf("Ban: %v", err)
	}
	f.waitFor("banChatMember", 1, inChat(newGroup.id))
	if st, err := c.BanOf(ctx, ev); err != nil || !st.Known || !st.Banned {
		t.Errorf("BanOf = %+v, %v; want banned, read in the supergroup", st, err)
	}
	if err := c.Unban(ctx, ev); err != nil {
		t.Fatalf("Unban at the ban's end: %v", err)
	}
	f.waitFor("unbanChatMember", 1, inChat(newGroup.id))
	if err := c.Kick(ctx, ev); err != nil {
		t.Fatalf("Kick: %v", err)
	}
	f.waitFor("banChatMember", 2, inChat(newGroup.id))

	if err := c.Delete(ctx, ev); err == nil {
		t.Errorf("Delete of a message of the old group: nil, want Telegram's refusal")
	}
	if n := f.count("deleteMessage", inChat(newGroup.id)); n != 0 {
		t.Errorf("%d deletes in the new chat of a message posted in the old one", n)
	}
}
