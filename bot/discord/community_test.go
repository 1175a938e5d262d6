package discord

import (
	"context"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
)

// A community's card and alert go to its desk channel, the others to the
// desk's.
func TestCommunityDeskChannel(t *testing.T) {
	const shopDesk = "987654321098765432"
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID})
	desk := c.Desk(&desktest.Commands{})
	ctx := context.Background()
	card := bot.Card{ID: "c-000001", Rule: "scam", Event: bot.Event{ID: "1001", Platform: "discord", Text: "hi"}, Desk: shopDesk}
	if err := desk.PostCard(ctx, card); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "POST", "/channels/"+shopDesk+"/messages", 1, func(c apiCall) bool {
		return strings.Contains(c.Body["content"].(string), "c-000001")
	})
	if err := desk.AlertIn(ctx, shopDesk, "raid on the shop's server"); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "POST", "/channels/"+shopDesk+"/messages", 1, func(c apiCall) bool {
		return strings.Contains(c.Body["content"].(string), "raid on the shop")
	})
	card.ID, card.Desk = "c-000002", ""
	if err := desk.PostCard(ctx, card); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "POST", "/channels/"+deskID+"/messages", 1, func(c apiCall) bool {
		return strings.Contains(c.Body["content"].(string), "c-000002")
	})
}
