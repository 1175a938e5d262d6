package discord

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A member's link, sent to the desk by a rule that leaves it to the CMs,
// is kept by a CM; the member then edits it into a scam's link, which the
// rule still sends to the desk. The CM judged the text the card showed: the
// edit is a new case, not a typo fixed that the desk has seen already.
func TestKeptMessageEditedIsCasedAgain(t *testing.T) {
	const linkRules = `
rules:
  - name: links
    category: spam
    when: len(links) > 0
    do: ['forward("a link to look at")']
  - name: ping
    when: text == "ping"
    do: ['reply("pong")']
`
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			chat := startEditChat(t, st, linkRules)
			id := chat.say(t, "my stream tonight: https://twitch.tv/bob")
			open, err := st.Cases(context.Background(), store.CaseOpen)
			if err != nil || len(open) != 1 {
				t.Fatalf("open cases %v (%v), want the link's", open, err)
			}
			if _, err := chat.mod.Decide(context.Background(), open[0].ID, "keep", "discord:"+cm.id); err != nil {
				t.Fatal(err)
			}
			chat.clock.Later(time.Minute)
			chat.edit(t, id, "my stream tonight: https://twitch-gift.example/claim")
			desktest.WantOpenCases(t, st, "the kept link edited into another", "links ×1")
		})
	}
}
