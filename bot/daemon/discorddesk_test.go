package daemon_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// discordDeskCM is the Discord CM of the tests of the Discord desk.
const discordDeskCM = "600000000000000042"

const discordDeskRules = `timezone: UTC
desk:
  cms: ["discord:` + discordDeskCM + `"]
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [forward("scam")]
`

// discordDeskPress is an INTERACTION_CREATE for the press of a card's
// button by the CM, made at when, as the interaction's id says.
func discordDeskPress(guild, card, custom string, when time.Time, n int) map[string]any {
	cm := map[string]any{"id": discordDeskCM, "username": "evelyn", "global_name": "Eve", "discriminator": "0", "avatar": nil}
	return discordfake.ButtonPress(guild, deskChannel, card, custom, cm, when, n)
}

// discordDeskCard waits for the card of the message text on the Discord
// desk, and returns its message id, its content and its buttons' custom_ids.
func discordDeskCard(t *testing.T, f *discordfake.Server, text string) (id, content string, buttons []string) {
	t.Helper()
	testsync.Eventually(t, "the card of "+text, func() bool {
		for _, c := range f.Calls("POST", "/channels/"+deskChannel+"/messages") {
			if s, _ := c.Body["content"].(string); strings.Contains(s, text) {
				content = s
				raw, _ := json.Marshal(c.Body["components"])
				var rows []struct {
					Components []struct {
						CustomID string `json:"custom_id"`
					} `json:"components"`
				}
				_ = json.Unmarshal(raw, &rows)
				for _, r := range rows {
					for _, b := range r.Components {
						buttons = append(buttons, b.CustomID)
					}
				}
				return true
			}
		}
		return false
	})
	for _, c := range f.Calls("POST", "/channels/"+deskChannel+"/messages") {
		if s, _ := c.Body["content"].(string); s == content {
			id = c.Made
		}
	}
	return id, content, buttons
}

// A CM presses Ban on a Discord case's card, whose author is named like
// them, and Discord refuses the ban (Missing Permissions): the card, drawn
// again by the daemon's desk, says who decided, that the ban was not
// carried out, and still that its author is not the CM.
func TestDiscordDeskRedrawAfterAPress(t *testing.T) {
	guild, channel, f, _ := discordGuild(t, 21)
	const author = "600000000000000008"
	cl := discordClient(t, f, guild, func(c *discord.Config) { c.CMs = []string{"discord:" + discordDeskCM} })
	f.SetMember(guild, map[string]any{
		"user": map[string]any{"id": discordDeskCM, "username": "evelyn", "global_name": "Eve", "bot": false, "avatar": nil,
			"discriminator": "0", "public_flags": 0, "flags": 0, "primary_guild": nil},
		"nick": nil, "avatar": nil, "banner": nil, "roles": []string{}, "joined_at": "2025-01-01T00:00:00Z", "premium_since": nil,
		"communication_disabled_until": nil, "flags": 0, "pending": false, "mute": false, "deaf": false,
	})
	startOnly(t, discordDeskRules, nil, []daemon.Connector{daemon.DiscordOf(cl)})
	// the fake's members are all named Eve (@eve)
	testsync.Eventually(t, "the gateway taking a scam", func() bool {
		return f.Message(guild, channel, "700000000000000401", author, "FREE NITRO here")
	})
	cardID, card, buttons := discordDeskCard(t, f, "NITRO")
	const warning = "**⚠️ Not the CM Eve (@evelyn): named like them**"
	if !strings.Contains(card, warning) {
		t.Fatalf("card = %s\nwant %q in it", card, warning)
	}
	var ban string
	for _, b := range buttons {
		if strings.HasSuffix(b, ":ban") {
			ban = b
		}
	}
	if ban == "" {
		t.Fatalf("no Ban on the card: %v", buttons)
	}
	f.Fail("PUT", "/guilds/"+guild+"/bans/"+author, http.StatusForbidden, `{"message": "Missing Permissions", "code": 50013}`, nil, -1)
	f.Dispatch("INTERACTION_CREATE", discordDeskPress(guild, cardID, ban, time.Now(), 1))
	// the card may be drawn first with the decision alone, as it is
	// being carried out
	edit := f.WaitFor(t, "PATCH", "/channels/"+deskChannel+"/messages/"+cardID, 1, func(c discordfake.Call) bool {
		content, _ := c.Body["content"].(string)
		return strings.Contains(content, "Not carried out")
	})
	got := edit.Body["content"].(string)
	// what Discord refused in a CM's words, its code kept; its route left
	// to the log
	for _, want := range []string{warning, "decided by Eve", "Not carried out: Discord refused: vigie lacks ", "Ban Members", "discord 50013"} {
		if !strings.Contains(got, want) {
			t.Errorf("card drawn again = %s\nwant %q in it", got, want)
		}
	}
	if strings.Contains(got, "/bans/") {
		t.Errorf("card drawn again = %s\nwant no route of Discord's on it", got)
	}
}
