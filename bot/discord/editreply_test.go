package discord

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const editRules = `
rules:
  - name: hours
    when: text contains "opening hours"
    do: ['reply("We open at 9")']
  - name: prices
    when: text contains "prices"
    do: ['reply("Prices are on the site")']
  - name: rude
    category: abuse
    when: text contains "idiot"
    do: [strike, 'warn("Please keep it civil")', 'forward("rude")']
  - name: scam
    category: spam
    when: text contains "scam.example"
    do: [delete, 'forward("scam link")']
  - name: ping
    when: text == "ping"
    do: ['reply("pong")']
`

// A member's message edited, once or several times, is judged again on
// MESSAGE_UPDATE, and what was done for it is not done again: its answer is
// not posted a second time, its warning not sent again, its strike not
// counted again, its case not opened again; what an edit newly calls for is
// done (another question's answer, once; a scam link added: deleted, a case).
func TestEditNotAnsweredTwice(t *testing.T) {
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			chat := startEditChat(t, st, editRules)
			f, clock, now := chat.f, chat.clock, chat.clock.Now
			posted := func(text string) int {
				return len(slices.DeleteFunc(f.Calls("POST", "/channels/"+general+"/messages"), func(c discordfake.Call) bool {
					return !strings.Contains(fmt.Sprint(c.Body["content"]), text)
				}))
			}
			say := func(text string) string { return chat.say(t, text) }
			edit := func(id, text string) { chat.edit(t, id, text) }
			later := clock.Later
			check := func(step, text string, want int) {
				t.Helper()
				if got := posted(text); got != want {
					t.Errorf("%s: %q posted %d times, want %d", step, text, got, want)
				}
			}

			q := say("what are your opening hours?")
			check("the question", "We open at 9", 1)
			later(30 * time.Second)
			edit(q, "what are your opening hours please?")
			later(30 * time.Second)
			edit(q, "what are the shop's opening hours please?")
			check("the question edited twice", "We open at 9", 1)
			later(20 * time.Minute)
			edit(q, "what are the shop's opening hours please? thanks")
			check("edited twenty minutes on", "We open at 9", 1)
			later(time.Minute)
			edit(q, "what are your prices?")
			check("turned into another question", "Prices are on the site", 1)
			later(time.Minute)
			edit(q, "what are your prices? thanks")
			check("the other question edited", "Prices are on the site", 1)

			rude := say("you idiot")
			check("the insult", "Please keep it civil", 1)
			for i, text := range []string{"you idiot!", "you are an idiot", "you are a big idiot"} {
				// past the author's ten minutes between two warnings
				later(11 * time.Minute)
				edit(rude, text)
				check(fmt.Sprint("the insult edited ", i+1), "Please keep it civil", 1)
			}
			strikes, err := st.(store.StrikeKeeper).Strikes(context.Background(), Platform, guildID, bob.id, now())
			if err != nil {
				t.Fatal(err)
			}
			if len(strikes) != 1 {
				t.Errorf("%d strikes for one insult edited three times, want 1", len(strikes))
			}

			later(time.Minute)
			edit(q, "what are your prices? see scam.example")
			f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/"+q, 1, nil)
			desktest.WantOpenCases(t, st, "the insult once, whatever its edits, and the scam link an edit added", "rude ×1", "scam ×1")
		})
	}
}

// editChat is bob's chat in the general channel of a fake Discord that the
// real client reads, judged by a rule file (which answers "ping" with
// "pong") and the real handlers, on a clock of the test's.
type editChat struct {
	f       *discordfake.Server
	clock   *desktest.Clock
	mod     *handlers.Moderator
	n       int
	written map[string]time.Time
}

// startEditChat runs the client, the rules and the handlers on st until the
// test ends.
func startEditChat(t *testing.T, st store.Store, ruleFile string) *editChat {
	t.Helper()
	return startEditChatOn(t, st, ruleFile, false)
}

// startEditChatOn is startEditChat, whose cases go to the desk channel as
// cards when desk is set.
func startEditChatOn(t *testing.T, st store.Store, ruleFile string, desk bool) *editChat {
	t.Helper()
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id}, ModeratorRoles: []string{"Moderator"}})
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	var out chan bot.Event
	var clock *desktest.Clock
	var mod *handlers.Moderator
	if desk {
		cmds := &desktest.Commands{Store: st}
		out, clock, mod = desktest.ServeRulesOnDesk(t, "discord", c, st, ruleFile, cmds, c.Desk(cmds), logs)
	} else {
		out, clock, mod = desktest.ServeRulesDecided(t, "discord", c, st, ruleFile)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, out) }()
	t.Cleanup(func() { stop(); <-done })
	<-f.Ready()
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	return &editChat{f: f, clock: clock, mod: mod, written: map[string]time.Time{}}
}

// settle waits until what was dispatched before is handled: a ping,
// answered in turn.
func (e *editChat) settle(t *testing.T) {
	t.Helper()
	e.n++
	now := e.clock.Now()
	id := snowflake(now, e.n)
	e.f.Dispatch("MESSAGE_CREATE", message(id, general, bob, now, "ping"))
	e.f.WaitFor(t, "POST", "/channels/"+general+"/messages", 1, func(c discordfake.Call) bool {
		return fmt.Sprint(c.Body["content"]) == "pong" && strings.Contains(string(c.Raw), `"message_id":"`+id+`"`)
	})
}

// say is bob's message text, once handled; it returns its id.
func (e *editChat) say(t *testing.T, text string) string {
	t.Helper()
	e.n++
	now := e.clock.Now()
	id := snowflake(now, e.n)
	e.written[id] = now
	e.f.Dispatch("MESSAGE_CREATE", message(id, general, bob, now, text))
	e.settle(t)
	return id
}

// edit is bob's edit of message id into text, now, once handled.
func (e *editChat) edit(t *testing.T, id, text string) {
	t.Helper()
	m := message(id, general, bob, e.written[id], text)
	m["edited_timestamp"] = e.clock.Now().UTC().Format(time.RFC3339Nano)
	e.f.Dispatch("MESSAGE_UPDATE", m)
	e.settle(t)
}
