package discord

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestStarterPackSeesWhatScamsHide runs the starter pack on what the text of a
// message does not show: a forward (its text lives in the message's snapshot)
// and a nickname taken on join. Each is caught and acted on through the fake
// Discord, and the desk's card shows what was judged.
func TestStarterPackSeesWhatScamsHide(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id}})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Load("../../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	engine := rules.NewEngine(rs, st, rules.Options{})
	cmds := &desktest.Commands{Store: st}
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st, Desk: desktest.Desk{Poster: c.Desk(cmds)}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = mod
	run(t, f, c, desktest.Serve(t, engine, mod), allPerms)

	timedOutFor := func(u user) time.Duration {
		t.Helper()
		mute := f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+u.id, 1, func(c discordfake.Call) bool {
			_, ok := c.Body["communication_disabled_until"]
			return ok
		})
		until, err := time.Parse(time.RFC3339, fmt.Sprint(mute.Body["communication_disabled_until"]))
		if err != nil {
			t.Fatalf("timeout = %s", mute.Raw)
		}
		return time.Until(until).Round(time.Hour)
	}
	card := func(words ...string) {
		t.Helper()
		f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, func(c discordfake.Call) bool {
			content := fmt.Sprint(c.Body["content"])
			for _, w := range words {
				if !strings.Contains(content, w) {
					return false
				}
			}
			return true
		})
	}

	t.Run("a forwarded scam", func(t *testing.T) {
		at := time.Now()
		m := message(snowflake(at, 50), general, bob, at, "")
		m["message_reference"] = map[string]any{"type": 1, "message_id": "777", "channel_id": threadID, "guild_id": guildID}
		snap := message("777", threadID, mallory, at.Add(-time.Hour), "FREE NITRO for everyone, claim it now https://claim-nitro.sbs/gift")
		for _, k := range []string{"id", "channel_id", "guild_id", "author", "member", "pinned", "mention_everyone", "tts"} {
			delete(snap, k)
		}
		m["message_snapshots"] = []any{map[string]any{"message": snap}}
		f.Dispatch("MESSAGE_CREATE", m)
		f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/"+m["id"].(string), 1, nil)
		if d := timedOutFor(bob); d != time.Hour {
			t.Errorf("timed out for %s, want 1h", d)
		}
		card("scam", "FREE NITRO")
	})

	t.Run("a nickname that passes for the staff, on join", func(t *testing.T) {
		sam := user{id: snowflake(t0.AddDate(-1, 0, 0), 60), name: "Sam"}
		f.Dispatch("GUILD_MEMBER_ADD", memberObject(sam, "Discord Support", time.Now()))
		if d := timedOutFor(sam); d != time.Hour {
			t.Errorf("timed out for %s, want 1h", d)
		}
		card("name that passes for staff", "Discord Support")
	})

	t.Run("a new nickname that passes for the staff", func(t *testing.T) {
		ann := user{id: snowflake(t0.AddDate(-1, 0, 0), 61), name: "Ann"}
		f.Dispatch("GUILD_MEMBER_ADD", memberObject(ann, nil, time.Now()))
		f.Dispatch("GUILD_MEMBER_UPDATE", memberObject(ann, "Server Admin", time.Now()))
		if d := timedOutFor(ann); d != time.Hour {
			t.Errorf("timed out for %s, want 1h", d)
		}
		card("name that passes for staff", "Server Admin")
	})

	// A slur taken as a nickname: the slur rule's delete takes the name off
	// the server (a neutral nickname in its place), once, besides the
	// timeout.
	t.Run("a nickname changed to a slur", func(t *testing.T) {
		zed := user{id: snowflake(t0.AddDate(-1, 0, 0), 62), name: "Zed"}
		f.Dispatch("GUILD_MEMBER_ADD", memberObject(zed, nil, time.Now()))
		f.Dispatch("GUILD_MEMBER_UPDATE", memberObject(zed, "dirty coon", time.Now()))
		renamed := f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+zed.id, 1, func(c discordfake.Call) bool { _, ok := c.Body["nick"]; return ok })
		if nick := fmt.Sprint(renamed.Body["nick"]); nick != NeutralNick {
			t.Errorf("the nickname was set to %q, want %q", nick, NeutralNick)
		}
		if d := timedOutFor(zed); d != time.Hour {
			t.Errorf("timed out for %s, want 1h", d)
		}
		card("slur", "dirty coon")
		n := 0
		for _, c := range f.Calls("PATCH", "/guilds/"+guildID+"/members/"+zed.id) {
			if _, ok := c.Body["nick"]; ok {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the nickname was replaced %d times, want once", n)
		}
	})

	// A CM is offered what Discord can do: a name can be taken off, not
	// answered; a join has nothing to delete either.
	t.Run("what a case of a name or a join offers", func(t *testing.T) {
		for kind, want := range map[bot.Kind]string{bot.KindProfile: "[keep delete timeout ban kick untimeout unban]", bot.KindJoin: "[keep timeout ban kick untimeout unban]"} {
			ev := bot.Event{ID: "x", Platform: Platform, Kind: kind, Space: guildID, Author: bot.Author{ID: bob.id, Name: "Bob"}}
			if got := fmt.Sprint(mod.OutcomesFor(ev)); got != want {
				t.Errorf("a case of a %s offers %s, want %s", kind, got, want)
			}
		}
	})
}
