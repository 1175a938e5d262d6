package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// linkOnTheDesk starts a chat on st with its desk, on the rules of the
// edited cases, in which a member posts a link: it returns the chat, the
// link's message id and the path of its card, once the card is posted.
func linkOnTheDesk(t *testing.T, st store.Store) (chat *editChat, id, card string) {
	t.Helper()
	chat = startEditChatOn(t, st, desktest.EditCaseRules, true)
	id = chat.say(t, "my stream tonight: https://twitch.tv/bob")
	posted := chat.f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, func(c discordfake.Call) bool {
		return strings.Contains(fmt.Sprint(c.Body["content"]), "twitch.tv/bob")
	})
	return chat, id, "/channels/" + deskID + "/messages/" + posted.Made
}

// A member's link is on the desk, its case open, when the member edits it:
// first into a harmless text (to fool the CM), then into a gift scam. The
// card is edited to show each edit under the message as first posted, with
// what the rules found in it: nothing, then the scam rule, whose delete is
// carried out; the scam's forward joins the link's case, on its one card,
// rather than be a second card beside it.
func TestEditOfAnOpenCaseShownOnItsCard(t *testing.T) {
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			chat, id, card := linkOnTheDesk(t, st)
			f := chat.f
			open, err := st.Cases(context.Background(), store.CaseOpen)
			if err != nil || len(open) != 1 {
				t.Fatalf("open cases %v (%v), want the link's", open, err)
			}

			chat.clock.Later(time.Minute)
			chat.edit(t, id, "my stream tonight, see you there")
			edit := f.WaitFor(t, "PATCH", card, 1, func(c discordfake.Call) bool {
				return strings.Contains(fmt.Sprint(c.Body["content"]), "see you there")
			})
			text := fmt.Sprint(edit.Body["content"])
			for _, want := range []string{"twitch.tv/bob", "✏️ Edited by its author", "> my stream tonight, see you there", "The edit matches no rule"} {
				if !strings.Contains(text, want) {
					t.Errorf("card once the link was edited out lacks %q:\n%s", want, text)
				}
			}
			if edit.Body["components"] == nil || fmt.Sprint(edit.Body["components"]) == "[]" {
				t.Errorf("the open case's card lost its buttons: %s", edit.Raw)
			}

			chat.clock.Later(time.Minute)
			chat.edit(t, id, "free nitro gift: https://discord-gift.example/claim")
			f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/"+id, 1, nil)
			desktest.WantOpenCases(t, st, "the link's case, which its edits join", "links ×1")
			edit = f.WaitFor(t, "PATCH", card, 1, func(c discordfake.Call) bool {
				return strings.Contains(fmt.Sprint(c.Body["content"]), "nitro")
			})
			text = fmt.Sprint(edit.Body["content"])
			for _, want := range []string{"twitch.tv/bob", "✏️ Edited by its author (2 times)", "> free nitro gift", "In the edit: links: a link to look at; scam: gift scam"} {
				if !strings.Contains(text, want) {
					t.Errorf("card once the link was edited into a scam lacks %q:\n%s", want, text)
				}
			}
			if n := f.Count("POST", "/channels/"+deskID+"/messages"); n != 1 {
				t.Errorf("%d cards posted for one message, want 1", n)
			}
		})
	}
}

// A member's link is on the desk, its case open, when the member deletes
// it: the card says the message is gone, its buttons kept, and a CM's
// Delete then is done, not an error.
func TestDeleteOfAnOpenCaseShownOnItsCard(t *testing.T) {
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			chat, id, card := linkOnTheDesk(t, st)
			f := chat.f

			chat.clock.Later(time.Minute)
			f.Dispatch("MESSAGE_DELETE", map[string]any{"id": id, "channel_id": general, "guild_id": guildID})
			shown := f.WaitFor(t, "PATCH", card, 1, func(c discordfake.Call) bool {
				return strings.Contains(fmt.Sprint(c.Body["content"]), "The message was deleted")
			})
			text := fmt.Sprint(shown.Body["content"])
			for _, want := range []string{"twitch.tv/bob", "🗑 The message was deleted at", "a Delete has nothing left to do"} {
				if !strings.Contains(text, want) {
					t.Errorf("card once the link was deleted lacks %q:\n%s", want, text)
				}
			}
			if shown.Body["components"] == nil || fmt.Sprint(shown.Body["components"]) == "[]" {
				t.Errorf("the open case's card lost its buttons: %s", shown.Raw)
			}
			open, err := st.Cases(context.Background(), store.CaseOpen)
			if err != nil || len(open) != 1 {
				t.Fatalf("open cases %v (%v), want the link's", open, err)
			}
			if _, err := chat.mod.Decide(context.Background(), open[0].ID, "delete", "discord:"+cm.id); err != nil {
				t.Errorf("Delete of the deleted message: %v", err)
			}
			if c, err := st.Case(context.Background(), open[0].ID); err != nil || c.Outcome != "delete" || c.Carried != store.CarriedDone {
				t.Errorf("case once deleted: outcome %q, carried %q (%v); want delete, done", c.Outcome, c.Carried, err)
			}
		})
	}
}

// A moderator (or another bot) bulk-deletes the last messages of a channel,
// an open case's among them (MESSAGE_DELETE_BULK): its card says the message
// is gone, as after a single delete.
func TestBulkDeleteOfAnOpenCaseShownOnItsCard(t *testing.T) {
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			chat, id, card := linkOnTheDesk(t, st)
			f := chat.f

			chat.clock.Later(time.Minute)
			f.Dispatch("MESSAGE_DELETE_BULK", map[string]any{"ids": []string{"900000000000000001", id, "900000000000000002"},
				"channel_id": general, "guild_id": guildID})
			shown := f.WaitFor(t, "PATCH", card, 1, func(c discordfake.Call) bool {
				return strings.Contains(fmt.Sprint(c.Body["content"]), "The message was deleted")
			})
			if text := fmt.Sprint(shown.Body["content"]); !strings.Contains(text, "a Delete has nothing left to do") {
				t.Errorf("card once the link was bulk-deleted:\n%s", text)
			}
			if shown.Body["components"] == nil || fmt.Sprint(shown.Body["components"]) == "[]" {
				t.Errorf("the open case's card lost its buttons: %s", shown.Raw)
			}
		})
	}
}
