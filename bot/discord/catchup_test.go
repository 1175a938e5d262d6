package discord

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/memory"
)

const catchupRules = `
rules:
  - name: scam
    category: spam
    when: not author.staff and content contains "scam.example"
    do: [delete]
`

// TestJudgesWhatALostSessionMissed: Discord will not resume the session
// (op 9, d false), discordgo identifies anew, and the messages posted in the
// gap, never delivered on the gateway, are read from the channels' history
// and judged, once each, with the real engine and store: a message the new
// session delivered too is not acted on twice, nor are those seen before.
func TestJudgesWhatALostSessionMissed(t *testing.T) {
	f := newFakeDiscord(t)
	reg := prometheus.NewRegistry()
	c, logs := newTestClient(t, f, Config{Registerer: reg, StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	out := judged(t, c, st)
	run(t, f, c, out, allPerms)

	at := time.Now().UTC().Add(-time.Minute)
	n := 0
	msg := func(channel string, from user, text string) map[string]any {
		n++
		when := at.Add(time.Duration(n) * time.Second)
		return message(snowflake(when, n), channel, from, when, text)
	}
	id := func(m map[string]any) string { return m["id"].(string) }
	deleted := func(m map[string]any) int {
		k := 0
		for _, call := range f.Calls("DELETE", "/channels/") {
			if strings.HasSuffix(call.Path, "/messages/"+id(m)) {
				k++
			}
		}
		return k
	}
	live := func(m map[string]any) { // posted and delivered by the gateway
		f.Post(m)
		f.Dispatch("MESSAGE_CREATE", m)
	}

	// Before: a message in the channel and one in a thread, delivered and judged.
	before := []map[string]any{msg(general, bob, "scam.example"), msg(threadID, bob, "scam.example")}
	for i, m := range before {
		live(m)
		f.WaitFor(t, "DELETE", "/channels/", i+1, nil)
	}

	// The gap: Discord forgets the session; what is posted meanwhile is never
	// delivered, a bot's message included (not judged, as ever).
	release := f.Hold(func(call discordfake.Call) bool {
		return call.Method == "GET" && call.Path == "/channels/"+general+"/messages"
	})
	f.LoseSessions()
	// A forward's text is in its snapshot, which the history's JSON carries
	// as the gateway's does.
	forward := msg(general, bob, "")
	forward["message_reference"] = map[string]any{"type": 1, "message_id": "777", "channel_id": threadID, "guild_id": guildID}
	forward["message_snapshots"] = []any{map[string]any{"message": map[string]any{"type": 0, "content": "free gift at scam.example",
		"timestamp": at.Format(time.RFC3339Nano), "edited_timestamp": nil, "attachments": []any{}, "embeds": []any{},
		"mentions": []any{}, "mention_roles": []any{}, "flags": 0, "components": []any{}}}}
	gap := []map[string]any{msg(general, bob, "scam.example 1"), msg(threadID, newbie, "scam.example 2"), msg(general, mallory, "scam.example 3"), forward}
	botMsg := msg(general, robot, "scam.example from a bot")
	// A moderator's message: the gateway's state does not know them, Discord
	// does (the history leaves members out), and a moderator is staff.
	modMsg := msg(threadID, mod, "scam.example is a scam, do not click")
	f.SetMember(guildID, memberObject(mod, nil, t0.AddDate(-1, 0, 0)))
	for _, m := range append(gap, botMsg, modMsg) {
		f.Post(m)
	}
	select {
	case <-f.Ready():
	case <-time.After(time.Minute):
		t.Fatalf("no new session\n%s", logs)
	}
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms)) // as Discord follows READY
	// Posted once the new session is up, before the channel's history is read:
	// delivered by the gateway, and read again with the gap.
	both := msg(general, bob, "scam.example 4")
	live(both)
	testsync.Eventually(t, "the message of the new session judged", func() bool { return deleted(both) == 1 })
	release()
	testsync.Eventually(t, "the gap's messages judged", func() bool {
		for _, m := range gap {
			if deleted(m) == 0 {
				return false
			}
		}
		return true
	})
	testsync.Eventually(t, "the end of the catch-up", func() bool { return strings.Contains(logs.String(), "caught up after a lost gateway session") })

	// A message after the catch-up is judged after all it handed over.
	last := msg(general, bob, "scam.example 5")
	live(last)
	testsync.Eventually(t, "the last message judged", func() bool { return deleted(last) == 1 })

	for _, m := range append(append(before, gap...), both, last) {
		if k := deleted(m); k != 1 {
			t.Errorf("message %s (%s) deleted %d times, want once\n%s", id(m), m["content"], k, logs)
		}
	}
	if k := deleted(botMsg); k != 0 {
		t.Errorf("a bot's message deleted %d times", k)
	}
	if k := deleted(modMsg); k != 0 {
		t.Errorf("a moderator's message deleted %d times\n%s", k, logs)
	}
	// The history was read from the last message seen in each channel.
	for channel, after := range map[string]string{general: id(before[0]), threadID: id(before[1])} {
		calls := f.Calls("GET", "/channels/"+channel+"/messages")
		if len(calls) == 0 || calls[0].Query.Get("after") != after || calls[0].Query.Get("limit") != "100" {
			t.Errorf("history of %s read as %v, want after=%s&limit=100", channel, calls, after)
		}
	}
	if !strings.Contains(logs.String(), "gateway session lost") || !strings.Contains(logs.String(), "gap=") {
		t.Errorf("the lost session not told with its gap:\n%s", logs)
	}
	if v := counterValue(t, reg, "vigie_discord_sessions_lost_total"); v != 1 {
		t.Errorf("vigie_discord_sessions_lost_total = %v, want 1", v)
	}
	if v := counterValue(t, reg, "vigie_discord_caught_up_messages_total"); v != 6 {
		t.Errorf("vigie_discord_caught_up_messages_total = %v, want 6 (5 from the gap, 1 also delivered)", v)
	}
}

// counterValue is the value of a counter without labels, 0 when absent.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
