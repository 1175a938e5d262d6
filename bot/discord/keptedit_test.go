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
			f := newFakeDiscord(t)
			c, logs := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id}})
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(logs.String())
				}
			})
			out, clock, mod := desktest.ServeRulesDecided(t, "discord", c, st, linkRules)
			now := clock.Now
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, out) }()
			t.Cleanup(func() { stop(); <-done })
			<-f.Ready()
			f.Dispatch("GUILD_CREATE", guildCreate(allPerms))

			n := 0
			// settle waits until what was dispatched before is handled: a
			// ping, answered in turn.
			settle := func() {
				t.Helper()
				n++
				id := snowflake(now(), n)
				f.Dispatch("MESSAGE_CREATE", message(id, general, bob, now(), "ping"))
				f.WaitFor(t, "POST", "/channels/"+general+"/messages", 1, func(c discordfake.Call) bool {
					return fmt.Sprint(c.Body["content"]) == "pong" && strings.Contains(string(c.Raw), `"message_id":"`+id+`"`)
				})
			}
			n++
			written := now()
			id := snowflake(written, n)
			f.Dispatch("MESSAGE_CREATE", message(id, general, bob, written, "my stream tonight: https://twitch.tv/bob"))
			settle()
			open, err := st.Cases(context.Background(), store.CaseOpen)
			if err != nil || len(open) != 1 {
				t.Fatalf("open cases %v (%v), want the link's", open, err)
			}
			if _, err := mod.Decide(context.Background(), open[0].ID, "keep", "discord:"+cm.id); err != nil {
				t.Fatal(err)
			}

			clock.Later(time.Minute)
			m := message(id, general, bob, written, "my stream tonight: https://twitch-gift.example/claim")
			m["edited_timestamp"] = now().UTC().Format(time.RFC3339Nano)
			f.Dispatch("MESSAGE_UPDATE", m)
			settle()
			desktest.WantOpenCases(t, st, "the kept link edited into another", "links ×1")
		})
	}
}
