package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// A CM's reply longer than Discord takes (2,000 characters), written on the
// Telegram desk where 4,096 fit, is refused before it is recorded, saying
// why, and the case stays open for a shorter one: nothing is cut. (It was
// once recorded and sent cut at 2,000 characters with "…", the CM told it
// was sent.) One of 2,000 goes out whole.
func TestLongReplyNotCut(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id}})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Parse("rules.yaml", []byte(acceptanceRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cmds := &desktest.Commands{Store: st}
	moderator, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st, Desk: desktest.Desk{Poster: c.Desk(cmds)}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = moderator
	out := desktest.Serve(t, rules.NewEngine(rs, st, rules.Options{}), moderator)
	runCtx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- c.Run(runCtx, out) }()
	t.Cleanup(func() { stop(); <-runDone })
	<-f.Ready()
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))

	ctx := context.Background()
	replies := func() []string {
		var got []string
		for _, call := range f.Calls("POST", "/channels/"+general+"/messages") {
			got = append(got, fmt.Sprint(call.Body["content"]))
		}
		return got
	}
	for i, tt := range []struct {
		name string
		text string
		sent bool
	}{
		{"too long by one emoji", strings.Repeat("é", 1999) + "🎉🎉", false},
		{"longer, with markup characters", strings.Repeat("<b>merci</b> _x_ ", 256), false},
		{"as long as Discord takes", strings.Repeat("🎉", 2000), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at := time.Now()
			id := snowflake(at, 100+i)
			// another fresh account each time: a case of one author joins its open one
			author := user{id: snowflake(t0.Add(-time.Hour), 60+i), name: fmt.Sprintf("Newbie%d", i)}
			f.Dispatch("MESSAGE_CREATE", message(id, general, author, at, "free nitro on https://scam.example/gift"))
			var caseID string
			testsync.Eventually(t, "the case", func() bool {
				open, _ := st.Cases(ctx, store.CaseOpen)
				for _, k := range open {
					if k.Event.ID == id {
						caseID = k.ID
					}
				}
				return caseID != ""
			})
			before := len(replies())
			outcome := handlers.Outcome{Kind: bot.ActReply, Text: tt.text}.String()
			got, err := moderator.Decide(ctx, caseID, outcome, "telegram:42")
			if !tt.sent {
				if !errors.Is(err, handlers.ErrCannot) || !strings.Contains(err.Error(), "2000 characters at most") {
					t.Errorf("decided: %v; want it refused as too long for Discord", err)
				}
				if got.Status != store.CaseOpen {
					t.Errorf("case %s, want it still open", got.Status)
				}
				if n := len(replies()); n != before {
					t.Errorf("%d replies sent: %q", n-before, replies()[before:])
				}
				return
			}
			if err != nil {
				t.Fatalf("decided: %v", err)
			}
			if r := replies(); len(r) != before+1 || r[before] != tt.text {
				t.Errorf("replies sent = %d, want the whole text once", len(r)-before)
			}
		})
	}
}
