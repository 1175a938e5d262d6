package daemon_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestDiscordRaidAcrossAnInvalidSession: mid-raid the gateway is away long
// enough that Discord will not resume the session (the RESUME is answered
// Invalid Session, op 9, d false) and vigie identifies anew. The raiders
// who joined and posted in the gap were never delivered: vigie reads their
// scams from the channels' history. Every scam, of the gap or not, is
// deleted once and in one case only, every raider acted on once, and
// /healthz says Discord is down while the session is, and no longer once
// the new one runs.
func TestDiscordRaidAcrossAnInvalidSession(t *testing.T) {
	g := newRaidGuild(231_000_000_000)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{g.id},
		RateLimits: &discordfake.RateLimits{Route: 5, Window: time.Second, Global: 10}})
	in := g.startVigie(t, f)
	// discordDegraded is what /healthz says of Discord's gateway.
	discordDegraded := func() []string {
		var h struct{ Degraded []string }
		if code, body := in.call(t, "GET", "/healthz", nil); code != 200 || json.Unmarshal(body, &h) != nil {
			t.Fatalf("/healthz: %d %s", code, body)
		}
		var out []string
		for _, p := range h.Degraded {
			if strings.HasPrefix(p, "discord") && strings.Contains(p, "down") {
				out = append(out, p)
			}
		}
		return out
	}
	ready := func(what string) {
		t.Helper()
		testsync.Eventually(t, what, func() bool {
			select {
			case <-f.Ready():
				return true
			default:
				return false
			}
		})
	}
	ready("the gateway's READY")
	f.Dispatch("GUILD_CREATE", g.create())
	testsync.Eventually(t, "/healthz saying Discord is up", func() bool { return len(discordDegraded()) == 0 })

	const raiders, gapFrom, gapTo = 40, 15, 25
	begun := time.Now()
	var scams []discordScam
	send := func(what, typ string, d map[string]any) {
		t.Helper()
		testsync.Eventually(t, "the gateway taking "+what, func() bool { return f.Send(g.id, typ, d) })
	}
	var down []string
	for i := range raiders {
		if i == gapFrom {
			// The gateway goes away, and stays away long enough that
			// Discord forgets the session: what is posted meanwhile is in
			// the channels' history only.
			f.SetDown(true)
			f.LoseSessions()
			testsync.Eventually(t, "/healthz saying Discord is down", func() bool { down = discordDegraded(); return len(down) > 0 })
		}
		at := time.Now()
		id, name := raider(begun, i)
		place := g.places[i%len(g.places)]
		msg := strconv.FormatInt((at.UnixMilli()-1420070400000)<<22|int64(2000+i), 10)
		post := g.post(msg, place, id, name, scamVariants[i%len(scamVariants)], at, at)
		// Discord keeps every message in its channel's history, delivered
		// or not: a catch-up reading a channel reads those judged already too.
		if i >= gapFrom && i < gapTo {
			f.SetMember(g.id, g.join(id, name, at))
			f.Post(post)
		} else {
			send(name+"'s join", "GUILD_MEMBER_ADD", g.join(id, name, at))
			f.Post(post)
			send(name+"'s scam", "MESSAGE_CREATE", post)
		}
		scams = append(scams, discordScam{place, msg})
		if i == gapTo-1 {
			if still := discordDegraded(); len(still) == 0 {
				t.Error("/healthz says Discord is up while the gateway is away")
			}
			f.SetDown(false)
			ready("the new session's READY")
			f.Dispatch("GUILD_CREATE", g.create())
			testsync.Eventually(t, "/healthz saying Discord is up again", func() bool { return len(discordDegraded()) == 0 })
		}
	}
	t.Logf("while the gateway was away, /healthz: %q", down)

	deleted := func() (once, more int) { return scamsDeleted(f, scams) }
	testsync.Eventually(t, "every scam deleted, the gap's too", func() bool { once, more := deleted(); return once+more == raiders })
	once, more := deleted()
	t.Logf("raid cleared in %s: %d scams deleted once, %d more than once; %d requests to Discord, 429s %v",
		time.Since(begun).Round(time.Millisecond), once, more, f.Requests(), f.RateLimited())
	if more != 0 {
		t.Errorf("%d scams deleted more than once", more)
	}

	// Every raider acted on once at most: those of the gap, whose joins
	// were never delivered, by the scam rule on the catch-up's events.
	actions := func(i int) (timeouts, kicks int) { return g.raiderActions(f, begun, i) }
	testsync.Eventually(t, "every raider acted on", func() bool {
		for i := range raiders {
			if timeouts, kicks := actions(i); timeouts+kicks == 0 {
				return false
			}
		}
		return true
	})
	for i := range raiders {
		if timeouts, kicks := actions(i); timeouts > 1 || kicks > 1 {
			_, name := raider(begun, i)
			t.Errorf("%s: %d timeouts and %d kicks, want each once at most", name, timeouts, kicks)
		}
	}

	// No message judged twice: each scam in one case only.
	type openCase struct {
		Rule  string
		Event struct{ ID string }
		Refs  []struct{ ID string }
	}
	var r struct{ Cases []openCase }
	testsync.Eventually(t, "every scam on the desk", func() bool {
		code, body := in.call(t, "GET", "/v1/cases?status=open", nil)
		if code != 200 || json.Unmarshal(body, &r) != nil {
			return false
		}
		n := 0
		for _, c := range r.Cases {
			if c.Rule == "scam" {
				n += 1 + len(c.Refs)
			}
		}
		return n >= raiders
	})
	inCases := map[string]int{}
	for _, c := range r.Cases {
		if c.Rule != "scam" {
			continue
		}
		inCases[c.Event.ID]++
		for _, ref := range c.Refs {
			inCases[ref.ID]++
		}
	}
	for i, s := range scams {
		if inCases[s.id] != 1 {
			t.Errorf("scam %d (%s) in %d cases, want one", i, s.id, inCases[s.id])
		}
	}
	if p := discordDegraded(); len(p) != 0 {
		t.Errorf("/healthz once the raid is cleared: %q", p)
	}
}
