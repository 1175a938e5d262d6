package discord

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestLostSessionsCatchUpInTurn: a session lost while the catch-up of the
// one lost before still reads the channels (a flapping gateway) starts its
// own catch-up after that one, from where it read: the channels are not
// read twice at once, and a message of the first gap is handed over once.
// Before, the second catch-up read the same channels at the same time, from
// the same place, and handed the first gap's messages over again.
func TestLostSessionsCatchUpInTurn(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 64)
	run(t, f, c, out, allPerms)

	at := time.Now().UTC().Add(-time.Minute)
	n := 0
	msg := func(text string) map[string]any {
		n++
		when := at.Add(time.Duration(n) * time.Second)
		return message(snowflake(when, n), general, bob, when, text)
	}
	before := msg("before")
	f.Post(before)
	f.Dispatch("MESSAGE_CREATE", before)
	if ev := testsync.Next(t, out); ev.Text != "before" {
		t.Fatalf("event %q, want the message before the gap", ev.Text)
	}

	history := func(call discordfake.Call) bool {
		return call.Method == "GET" && call.Path == "/channels/"+general+"/messages"
	}
	release := f.Hold(history)
	lose := func() {
		t.Helper()
		f.LoseSessions()
		select {
		case <-f.Ready():
		case <-time.After(testsync.Patience):
			t.Fatalf("no new session\n%s", logs)
		}
		f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	}
	gap := msg("in the first gap")
	f.Post(gap)
	lose()
	f.WaitFor(t, "GET", "/channels/"+general+"/messages", 1, nil)
	lose()
	// The second catch-up's turn comes once the first read the channel.
	time.Sleep(100 * time.Millisecond) // a chance for a second read at once
	release()
	testsync.Eventually(t, "both catch-ups ended", func() bool {
		return strings.Count(logs.String(), "caught up after a lost gateway session") == 2
	})
	handed := 0
	for len(out) > 0 {
		if ev := <-out; ev.ID == gap["id"] {
			handed++
		}
	}
	if handed != 1 {
		t.Errorf("the first gap's message handed over %d times, want once\n%s", handed, f.Summary())
	}
	// The pages read after a cursor: each catch-up's page of the gap's
	// edits (before one) aside.
	var calls []discordfake.Call
	for _, c := range f.Calls("GET", "/channels/"+general+"/messages") {
		if c.Query.Get("after") != "" {
			calls = append(calls, c)
		}
	}
	if len(calls) < 2 || calls[1].Query.Get("after") != gap["id"] {
		t.Errorf("history of %s read as %v; want the second catch-up after %s, the last message the first read", general, calls, gap["id"])
	}
}
