package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// Another server vigie was invited to, with its own "Moderator" role.
const (
	otherGuild   = "810000000000000001"
	otherGeneral = "810000000000000010"
	otherModRole = "810000000000000100"
)

var intruder = user{id: snowflake(t0.AddDate(-2, 0, 0), 9), name: "Eve", roles: []string{otherModRole}}

func otherGuildCreate() map[string]any {
	now := time.Now().UTC().Format(time.RFC3339)
	return map[string]any{
		"id": otherGuild, "name": "Elsewhere", "owner_id": intruder.id, "unavailable": false,
		"roles": []any{
			map[string]any{"id": otherGuild, "name": "@everyone", "permissions": "0"},
			map[string]any{"id": otherModRole, "name": "moderator", "permissions": "1099511627776"},
			map[string]any{"id": "810000000000000102", "name": "vigie", "permissions": "8"},
		},
		"members":  []any{map[string]any{"user": map[string]any{"id": botID, "username": "vigie", "bot": true}, "roles": []string{"810000000000000102"}, "joined_at": now}},
		"channels": []any{map[string]any{"id": otherGeneral, "type": 0, "name": "general", "guild_id": otherGuild}},
	}
}

// elsewhere moves an interaction or a message to the other guild.
func elsewhere(d map[string]any) map[string]any {
	d["guild_id"], d["channel_id"] = otherGuild, otherGeneral
	return d
}

// foreignCount is vigie_foreign_events_total{platform="discord",kind}.
func foreignCount(t *testing.T, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "vigie_foreign_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["platform"] == "discord" && labels["kind"] == kind {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestForeignGuild: vigie is also in a server that is not the desk's. A
// "moderator" there presses a card's button or runs /vigie pause: refused,
// audited, counted, and nothing changes. Its messages are not moderated.
func TestForeignGuild(t *testing.T) {
	f := newFakeDiscord(t)
	reg := prometheus.NewRegistry()
	c, logs := newTestClient(t, f, Config{DeskChannel: deskID, ModeratorRoles: []string{"moderator", "Ghost"}, Registerer: reg})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	cmds := &desktest.Commands{Store: st}
	moderator, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st, Desk: desktest.Desk{Poster: c.Desk(cmds)}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = moderator
	out := make(chan bot.Event, 16)
	run(t, f, c, out, allPerms)
	f.Dispatch("GUILD_CREATE", otherGuildCreate())

	t.Run("/vigie is registered in the desk's guild only, for those who may moderate members", func(t *testing.T) {
		put := f.WaitFor(t, "PUT", "/applications/"+appID+"/guilds/"+guildID+"/commands", 1, nil)
		var list []map[string]any
		if err := json.Unmarshal(put.Raw, &list); err != nil || len(list) != 1+len(bot.ModCommandList)+1 {
			t.Fatalf("commands = %s (%v)", put.Raw, err)
		}
		if list[0]["name"] != "vigie" || list[0]["default_member_permissions"] != float64(1099511627776) || fmt.Sprint(list[0]["contexts"]) != "[0]" {
			t.Errorf("/vigie = %s", put.Raw)
		}
		global := f.WaitFor(t, "PUT", "/applications/"+appID+"/commands", 1, nil)
		if string(global.Raw) != "[]" {
			t.Errorf("global commands = %s, want none", global.Raw)
		}
		testsync.Eventually(t, "the other guild ignored", func() bool { return foreignCount(t, reg, "guild") == 1 })
		if n := f.Count("PUT", "/applications/"+appID+"/guilds/"+otherGuild); n != 0 {
			t.Errorf("/vigie registered in the other guild")
		}
	})

	t.Run("moderator role names become the desk guild's role ids", func(t *testing.T) {
		testsync.Eventually(t, "the unresolved name logged", func() bool {
			return strings.Contains(logs.String(), "moderator roles not found in guild Gamers ("+guildID+"): Ghost")
		})
		ids := *c.modRoleIDs.Load()
		if !ids[modRole] || ids[otherModRole] || len(ids) != 1 {
			t.Errorf("moderator role ids = %v, want only %s", ids, modRole)
		}
	})

	t.Run("messages from the other guild are not moderated", func(t *testing.T) {
		for i := range 2 {
			f.Dispatch("MESSAGE_CREATE", elsewhere(message(snowflake(t0, 300+i), otherGeneral, intruder, t0, "hello")))
		}
		f.Dispatch("MESSAGE_CREATE", message(snowflake(t0, 310), general, bob, t0, "hello"))
		if ev := testsync.Next(t, out); ev.Space != guildID {
			t.Errorf("event from %s handed to the rules", ev.Space)
		}
		if got := foreignCount(t, reg, "message"); got != 2 {
			t.Errorf("foreign messages counted %v, want 2", got)
		}
		if n := strings.Count(logs.String(), "ignoring guild Elsewhere ("+otherGuild+")"); n != 1 {
			t.Errorf("the other guild logged %d times, want once:\n%s", n, logs)
		}
	})

	ctx := context.Background()
	cs, err := st.OpenCase(ctx, store.Case{Event: bot.Event{ID: "1002", Platform: "discord", Kind: bot.KindMessage, Space: guildID,
		Channel: general, Author: bot.Author{ID: bob.id, Name: "Bob"}, Text: "spam"}, Rule: "flood", Suggested: []bot.Action{{Kind: bot.ActDelete}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := (desktest.Desk{Poster: c.Desk(cmds)}).PostCase(ctx, cs); err != nil {
		t.Fatal(err)
	}

	refused := func(t *testing.T, id string) {
		t.Helper()
		if got := told(t, f, id); !strings.Contains(got, "Sorry") {
			t.Errorf("answer = %s", got)
		}
		testsync.Eventually(t, "the refusal audited", func() bool {
			return strings.Contains(logs.String(), "desk: refused a stranger") && strings.Contains(logs.String(), "user=discord:"+intruder.id)
		})
	}

	t.Run("the other guild's moderator presses a card's button", func(t *testing.T) {
		f.Dispatch("INTERACTION_CREATE", elsewhere(press("960000000000000006", intruder, "990000000000000001", customID(cs.ID, "ban"))))
		refused(t, "960000000000000006")
		if got, _ := st.Case(ctx, cs.ID); got.Status != store.CaseOpen {
			t.Errorf("case = %+v, want it open", got)
		}
		if f.Count("PUT", "/guilds/") != 0 || f.Count("PATCH", "/channels/"+deskID+"/messages/") != 0 {
			t.Errorf("acted on the press:%s", f.Summary())
		}
		if got := foreignCount(t, reg, "button"); got != 1 {
			t.Errorf("foreign buttons counted %v, want 1", got)
		}
	})

	t.Run("the other guild's moderator runs /vigie pause", func(t *testing.T) {
		f.Dispatch("INTERACTION_CREATE", elsewhere(slash("970000000000000011", intruder, "pause")))
		refused(t, "970000000000000011")
		if paused, _ := moderator.Paused(); paused {
			t.Errorf("paused by a stranger")
		}
		if got := foreignCount(t, reg, "command"); got != 1 {
			t.Errorf("foreign commands counted %v, want 1", got)
		}
	})

	t.Run("the other guild's moderator in the desk's guild is nobody", func(t *testing.T) {
		// Eve joined the desk's guild too, without a role there; her roles
		// elsewhere do not follow her.
		f.Dispatch("INTERACTION_CREATE", slash("970000000000000012", user{id: intruder.id, name: "Eve"}, "queue"))
		refused(t, "970000000000000012")
	})

	t.Run("a moderator of the desk's guild, by the resolved role, is heard", func(t *testing.T) {
		f.Dispatch("INTERACTION_CREATE", slash("970000000000000013", mod, "status"))
		if a := f.WaitFor(t, "POST", "/interactions/970000000000000013/", 1, nil); a.Body["type"] != float64(5) {
			t.Errorf("answer = %s", a.Raw)
		}
	})
}
