package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const modLogChannel = "800000000000000021"

const discordLongTimeoutRules = `timezone: UTC
modlog:
  discord_channel: "` + modLogChannel + `"
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [timeout(30d), forward("scam")]
`

// TestDiscordRuleTimeoutLongerThanDiscordGives: a rule's timeout(30d) on
// Discord, whose timeouts end within 28 days, is given as
// discord.MaxTimeout (the real discordgo client on the fake Discord, which
// refuses longer). The audit entry in Redis, the mod-log line and the case's
// card say the timeout Discord got, not the one the rule asked for, and the
// log says why, once for the rule; the verdict line says both.
func TestDiscordRuleTimeoutLongerThanDiscordGives(t *testing.T) {
	srv := redistest.Start(t)
	guild, channel, f, cl := discordGuild(t, 2)
	cmds := &desktest.Commands{}
	const token = "t0ken"
	in := startOnly(t, discordLongTimeoutRules, map[string]string{"VIGIE_REDIS_URL": srv.URL(), "VIGIE_ADMIN_TOKEN": token},
		[]daemon.Connector{{Name: "discord", Source: cl, Platforms: []bot.Platform{cl}, Desk: desktest.Desk{Poster: cl.Desk(cmds)}}})
	given := bot.FormatDuration(discord.MaxTimeout)

	for i, id := range []string{"700000000000000201", "700000000000000202"} {
		testsync.Eventually(t, "the gateway taking a scam", func() bool {
			return f.Message(guild, channel, id, "600000000000000007", fmt.Sprintf("FREE NITRO %d", i))
		})
	}
	testsync.Eventually(t, "the timeouts", func() bool {
		return len(f.Calls("PATCH", "/guilds/"+guild+"/members/600000000000000007")) == 2
	})

	var line string
	testsync.Eventually(t, "the mod-log line", func() bool {
		for _, c := range f.Calls("POST", "/channels/"+modLogChannel+"/messages") {
			line, _ = c.Body["content"].(string)
			return true
		}
		return false
	})
	if !strings.HasPrefix(line, "🔇 timeout("+given+") ") {
		t.Errorf("mod-log line = %q, want it to say timeout(%s)", line, given)
	}

	var card string
	testsync.Eventually(t, "the card", func() bool {
		for _, c := range f.Calls("POST", "/channels/"+deskChannel+"/messages") {
			if s, _ := c.Body["content"].(string); strings.Contains(s, "FREE NITRO 0") {
				card = s
				return true
			}
		}
		return false
	})
	if !strings.Contains(card, "timeout("+given+")") || strings.Contains(card, "timeout(30d)") {
		t.Errorf("card:\n%s\nwant it to suggest timeout(%s)", card, given)
	}

	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	var durations []time.Duration
	testsync.Eventually(t, "the audit entries", func() bool {
		msgs, err := c.XRange(context.Background(), "vigie:{audit}:stream", "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		durations = durations[:0]
		for _, m := range msgs {
			var e struct{ Verdict bot.Verdict }
			raw, _ := m.Values["e"].(string)
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				t.Fatal(err)
			}
			for _, mt := range e.Verdict.Matches {
				for _, a := range mt.Actions {
					if a.Kind == bot.ActTimeout {
						durations = append(durations, a.Duration)
					}
				}
			}
		}
		return len(msgs) == 2
	})
	if len(durations) != 2 || durations[0] != discord.MaxTimeout || durations[1] != discord.MaxTimeout {
		t.Errorf("audited timeouts %v, want two of %s", durations, given)
	}

	// A CM's decision of 30d more on the first case is recorded, and
	// logged, as Discord gives it.
	auth := map[string]string{"Authorization": "Bearer " + token}
	var open apiPage
	in.do(t, "GET", "/v1/cases?status=open", nil, auth).json(t, &open)
	if len(open.Cases) == 0 {
		t.Fatal("no case open")
	}
	r := in.do(t, "POST", "/v1/cases/"+open.Cases[0].ID+"/decision", []byte(`{"outcome":"timeout","duration":"30d","by":"ann"}`), auth)
	var decided struct{ Case apiCase }
	r.json(t, &decided)
	if r.code != http.StatusOK || decided.Case.Outcome != "timeout("+given+")" {
		t.Errorf("decision timeout(30d) = %d %s, want the case decided timeout(%s)", r.code, r.body, given)
	}
	testsync.Eventually(t, "the decision's mod-log line", func() bool {
		return len(f.Calls("POST", "/channels/"+modLogChannel+"/messages")) == 2
	})
	if s, _ := f.Calls("POST", "/channels/"+modLogChannel+"/messages")[1].Body["content"].(string); !strings.HasPrefix(s, "🔇 timeout("+given+") ") {
		t.Errorf("the decision's mod-log line = %q, want it to say timeout(%s)", s, given)
	}

	// A CM's milder decision on another scam's case, timeout(1h), is given
	// as asked: a person's shorter timeout replaces the rule's longer one
	// (a rule's would not).
	testsync.Eventually(t, "the gateway taking a scam", func() bool {
		return f.Message(guild, channel, "700000000000000203", "600000000000000007", "FREE NITRO 3")
	})
	member := "/guilds/" + guild + "/members/600000000000000007"
	testsync.Eventually(t, "the third scam's timeout", func() bool { return len(f.Calls("PATCH", member)) == 4 })
	var third apiPage
	testsync.Eventually(t, "the third scam's case", func() bool {
		in.do(t, "GET", "/v1/cases?status=open", nil, auth).json(t, &third)
		return len(third.Cases) > 0
	})
	r = in.do(t, "POST", "/v1/cases/"+third.Cases[0].ID+"/decision", []byte(`{"outcome":"timeout","duration":"1h","by":"ann"}`), auth)
	if r.code != http.StatusOK {
		t.Fatalf("decision timeout(1h) = %d %s", r.code, r.body)
	}
	testsync.Eventually(t, "the decision's timeout", func() bool { return len(f.Calls("PATCH", member)) == 5 })
	last := f.Calls("PATCH", member)[4]
	if until, err := time.Parse(time.RFC3339Nano, fmt.Sprint(last.Body["communication_disabled_until"])); err != nil || until.After(time.Now().Add(2*time.Hour)) {
		t.Errorf("the decision's timeout ends %v (%v), want within the hour asked", last.Body["communication_disabled_until"], err)
	}

	// The verdict line says what Discord gets, and what the rule asked.
	verdict := `msg=verdict event=discord:700000000000000201 rules=scam actions="timeout(` + given + `) forward(\"scam\")" asked="timeout(30d) forward(\"scam\")"`
	if !strings.Contains(in.logs.String(), verdict) {
		t.Errorf("no verdict line %s in the log:\n%s", verdict, in.logs)
	}
	if n := strings.Count(in.logs.String(), "rule scam asks for timeout(30d): discord's timeouts last "+given+" at most"); n != 1 {
		t.Errorf("the shortened timeout is explained %d times in the log, want once:\n%s", n, in.logs)
	}
}
