package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// A community's card and alert go to its desk channel, the others to the
// desk's.
func TestCommunityDeskChannel(t *testing.T) {
	const shopDesk = "987654321098765432"
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID})
	desk := c.Desk(&desktest.Commands{})
	ctx := context.Background()
	card := bot.Card{ID: "c-000001", Rule: "scam", Event: bot.Event{ID: "1001", Platform: "discord", Text: "hi"}, Desk: shopDesk}
	if err := desk.PostCard(ctx, card); err != nil {
		t.Fatal(err)
	}
	f.WaitFor(t, "POST", "/channels/"+shopDesk+"/messages", 1, func(c discordfake.Call) bool {
		return strings.Contains(c.Body["content"].(string), "c-000001")
	})
	if err := desk.AlertIn(ctx, shopDesk, "raid on the shop's server"); err != nil {
		t.Fatal(err)
	}
	f.WaitFor(t, "POST", "/channels/"+shopDesk+"/messages", 1, func(c discordfake.Call) bool {
		return strings.Contains(c.Body["content"].(string), "raid on the shop")
	})
	card.ID, card.Desk = "c-000002", ""
	if err := desk.PostCard(ctx, card); err != nil {
		t.Fatal(err)
	}
	f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, func(c discordfake.Call) bool {
		return strings.Contains(c.Body["content"].(string), "c-000002")
	})
}

// communityCMRules gives the guild to community shop; bob is a CM of
// community other only, Alice (cm) of the file's desk.
var communityCMRules = `
desk: {cms: ["discord:` + cm.id + `"]}
rules:
  - name: scam
    when: text contains "scam.example"
    do: [forward]
communities:
  shop:
    places: ["discord:` + guildID + `"]
  other:
    places: ["discord:800000000000000999"]
    desk: {cms: ["discord:` + bob.id + `"]}
`

// A CM of another community pressing a shop case's button is refused and
// told whose case it is; nothing is done and the refusal is audited. The
// file's CM decides it.
func TestCommunityCMRefused(t *testing.T) {
	f := newFakeDiscord(t)
	// the platform knows the CMs of the file and of every community, as the daemon gives them
	c, logs := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id, "discord:" + bob.id}})
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Parse("rules.yaml", []byte(communityCMRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cmds := &desktest.Commands{Store: st}
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": c}, Store: st,
		Desk: desktest.Desk{Poster: c.Desk(cmds)}, Logger: testsync.Logger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	mod.SetCommunities(rs)
	cmds.Mod = mod
	ev := bot.Event{ID: "1100", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: newbie.id, Name: "Newbie"}, Text: "https://scam.example"}
	cs, err := st.OpenCase(context.Background(), store.Case{Event: ev, Rule: "scam", Reason: "scam", Community: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	run(t, f, c, make(chan bot.Event, 10), allPerms)

	f.Dispatch("INTERACTION_CREATE", press("960000000000000001", bob, "700000000000000001", customID(cs.ID, "ban")))
	note := f.WaitFor(t, "POST", "/webhooks/"+appID+"/tok-960000000000000001", 1, nil)
	if got := fmt.Sprint(note.Body["content"]); !strings.Contains(got, "this case belongs to community shop") || note.Body["flags"] != float64(64) {
		t.Errorf("answer to the other community's CM = %s", note.Raw)
	}
	if got, _ := st.Case(context.Background(), cs.ID); got.Status != store.CaseOpen {
		t.Errorf("case after the refusal: %s by %s", got.Status, got.DecidedBy)
	}
	if !strings.Contains(logs.String(), "by=discord:"+bob.id) || !strings.Contains(logs.String(), "refused a community's CM") {
		t.Errorf("the refusal is not audited:\n%s", logs)
	}

	f.Dispatch("INTERACTION_CREATE", press("960000000000000002", cm, "700000000000000001", customID(cs.ID, "ban")))
	f.WaitFor(t, "PUT", "/guilds/"+guildID+"/bans/"+newbie.id, 1, nil)
	if n := f.Count("PUT", "/guilds/"+guildID+"/bans/"); n != 1 {
		t.Errorf("%d bans, want the file's CM's only", n)
	}
	if got, _ := st.Case(context.Background(), cs.ID); got.Status != store.CaseDecided || got.DecidedBy != "discord:"+cm.id {
		t.Errorf("case after the file's CM: %s by %s", got.Status, got.DecidedBy)
	}

	// a moderator's command in the shop's server, by the other community's CM
	w := &modWorld{f: f, c: c, st: st, logs: logs}
	f.Dispatch("INTERACTION_CREATE", modSlash("960000000000000003", bob, 0, "kick", &newbie))
	if got := w.answer(t, "960000000000000003"); got != "Sorry, this place belongs to community shop: your rights are community other's." {
		t.Errorf("/kick by the other community's CM answered %q", got)
	}
	if n := f.Count("DELETE", "/guilds/"+guildID+"/members/"); n != 0 {
		t.Errorf("%d kicks after the refusal", n)
	}
	if !strings.Contains(logs.String(), "moderator's command refused: a community's CM") {
		t.Errorf("the command's refusal is not audited:\n%s", logs)
	}
}
