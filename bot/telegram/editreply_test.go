package telegram

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const editRules = `
rules:
  - name: hours
    when: text contains "horaires"
    do: ['reply("Nous ouvrons à 9h")']
  - name: prices
    when: text contains "tarifs"
    do: ['reply("Les tarifs sont sur le site")']
  - name: rude
    category: abuse
    when: text contains "idiot"
    do: [strike, 'warn("Restez courtois")', 'forward("rude")']
  - name: scam
    category: spam
    when: text contains "scam.example"
    do: [delete, 'forward("scam link")']
  - name: ping
    when: text == "ping"
    do: ['reply("pong")']
`

// A member's message edited, once or several times (a typo fixed, a word
// added), is judged again, and what was done for it is not done again: its
// answer is not posted a second time, its warning not sent again, its
// strike not counted again; what an edit newly calls for is done (another
// question's answer, once; a scam link added: deleted, a case).
func TestEditNotAnsweredTwice(t *testing.T) {
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			f := newFakeBotAPI(t)
			c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
			knowAdmins(t, c, group.id)
			events, clock := desktest.ServeRules(t, "telegram", c, st, editRules)
			now := clock.Now
			run(t, c, events)

			chat := &bobsChat{f: f, now: now, msg: 100}
			say := chat.say
			edit := chat.edit
			later := clock.Later
			sent := func(text string) int {
				return f.count("sendMessage", func(c apiCall) bool { return strings.Contains(c.Params.Get("text"), text) })
			}
			check := func(step, text string, want int) {
				t.Helper()
				if got := sent(text); got != want {
					t.Errorf("%s: %q sent %d times, want %d", step, text, got, want)
				}
			}

			q := say("quels horaires ?")
			check("the question", "Nous ouvrons à 9h", 1)
			later(30 * time.Second)
			edit(q, "quels horaires svp ?")
			later(30 * time.Second)
			edit(q, "quels sont vos horaires svp ?")
			check("the question edited twice", "Nous ouvrons à 9h", 1)
			later(20 * time.Minute)
			edit(q, "quels sont vos horaires svp ? merci")
			check("edited twenty minutes on", "Nous ouvrons à 9h", 1)
			later(time.Minute)
			edit(q, "quels tarifs svp ?")
			check("turned into another question", "Les tarifs sont sur le site", 1)
			later(time.Minute)
			edit(q, "quels tarifs svp ? merci")
			check("the other question edited", "Les tarifs sont sur le site", 1)

			rude := say("t'es un idiot")
			check("the insult", "Restez courtois", 1)
			for i, text := range []string{"t'es un idiot !", "t'es vraiment un idiot", "t'es vraiment un gros idiot"} {
				// past the author's ten minutes between two warnings
				later(11 * time.Minute)
				edit(rude, text)
				check(fmt.Sprint("the insult edited ", i+1), "Restez courtois", 1)
			}
			strikes, err := st.(store.StrikeKeeper).Strikes(context.Background(), Platform, strconv.FormatInt(group.id, 10), strconv.FormatInt(bob.id, 10), now())
			if err != nil {
				t.Fatal(err)
			}
			if len(strikes) != 1 {
				t.Errorf("%d strikes for one insult edited three times, want 1", len(strikes))
			}

			later(time.Minute)
			edit(q, "quels tarifs svp ? voir scam.example")
			f.waitFor("deleteMessage", 1, func(c apiCall) bool { return c.Params.Get("message_id") == strconv.Itoa(q) })
			desktest.WantOpenCases(t, st, "the insult once, whatever its edits, and the scam link an edit added", "rude ×1", "scam ×1")
		})
	}
}

// bobsChat is bob's messages in the group of a fake Bot API, dated by now,
// and carol's pings, answered "pong" by the rules, that tell what came
// before them is handled.
type bobsChat struct {
	f   *fakeBotAPI
	now func() time.Time
	msg int
}

// settle waits until what was pushed before is handled: a ping from carol,
// answered in turn.
func (b *bobsChat) settle() {
	b.msg++
	id := b.msg
	b.f.push(map[string]any{"message": message(group, id, carol, b.now().Unix(), "ping")})
	b.f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return c.Params.Get("text") == "pong" && strings.Contains(c.Params.Get("reply_parameters"), fmt.Sprintf(`"message_id":%d}`, id))
	})
}

// say is bob's message text, once handled; it returns its id.
func (b *bobsChat) say(text string) int {
	b.msg++
	b.f.push(map[string]any{"message": message(group, b.msg, bob, b.now().Unix(), text)})
	b.settle()
	return b.msg - 1
}

// edit is bob's edit of message id into text, now, once handled.
func (b *bobsChat) edit(id int, text string) {
	b.f.push(map[string]any{"edited_message": with(message(group, id, bob, b.now().Unix(), text), "edit_date", b.now().Unix())})
	b.settle()
}
