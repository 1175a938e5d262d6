package discord

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// keepTheOpenCase has a CM keep the one open case in st, which is what's,
// and moves chat's clock a minute on.
func keepTheOpenCase(t *testing.T, st store.Store, chat *editChat, what string) {
	t.Helper()
	open, err := st.Cases(context.Background(), store.CaseOpen)
	if err != nil || len(open) != 1 {
		t.Fatalf("open cases %v (%v), want %s", open, err, what)
	}
	if _, err := chat.mod.Decide(context.Background(), open[0].ID, "keep", "discord:"+cm.id); err != nil {
		t.Fatal(err)
	}
	chat.clock.Later(time.Minute)
}

// A member's link, sent to the desk by a rule that leaves it to the CMs,
// is kept by a CM; the member then edits it into a scam's link, which the
// rule still sends to the desk. The CM judged the text the card showed: the
// edit is a new case, not a typo fixed that the desk has seen already.
func TestKeptMessageEditedIsCasedAgain(t *testing.T) {
	const linkRules = "rules:\n" + desktest.LinkRule + desktest.PingRule
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			chat := startEditChat(t, st, linkRules)
			id := chat.say(t, "my stream tonight: https://twitch.tv/bob")
			keepTheOpenCase(t, st, chat, "the link's")
			chat.edit(t, id, "my stream tonight: https://twitch-gift.example/claim")
			desktest.WantOpenCases(t, st, "the kept link edited into another", "links ×1")
		})
	}
}

// A member's message is sent to the desk by two rules, on one card: a
// link's and an invite's. A CM keeps it; the member then edits the link
// out and leaves the invite, which its rule still sends to the desk. The
// CM judged the text the card showed, whichever of its rules the card was
// named after: the edit is a case again, not silenced for 7 days because
// the invite's rule sent the first text.
func TestKeptMessageEditedIsCasedAgainByItsOtherRule(t *testing.T) {
	const twoRules = "rules:\n" + desktest.LinkRule + `  - name: invites
    category: spam
    when: text contains "join my server"
    do: ['forward("an invite to another server")']
` + desktest.PingRule
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			chat := startEditChat(t, st, twoRules)
			id := chat.say(t, "join my server: https://example.net/bob")
			desktest.WantOpenCases(t, st, "one card for both rules", "links ×1")
			keepTheOpenCase(t, st, chat, "the message's")
			chat.edit(t, id, "join my server, ask me for the address")
			desktest.WantOpenCases(t, st, "the kept message edited into what its other rule sends to the desk", "invites ×1")
		})
	}
}
