package daemon_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// discordGuild is a fake Discord announcing one guild, the n-th of the
// tests', with the desk in deskChannel, and the real client on it; channel
// is the guild's channel where members write.
func discordGuild(t *testing.T, n uint64) (guild, channel string, f *discordfake.Server, cl *discord.Client) {
	t.Helper()
	guild = fmt.Sprint(uint64(190_000_000_000)<<22 | n)
	f = discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	return guild, discordfake.Channel(guild), f, discordClient(t, f, guild)
}

// TestDecisionSaysWhenTheBanEnds: a CM's ban(7d) decided over HTTP, on
// Discord (whose bans do not end by themselves) and the memory store, is
// answered with what the case's card says: when vigie lifts the ban, and
// that a restart before then leaves it on (handlers.banText, as on the card).
func TestDecisionSaysWhenTheBanEnds(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 3)
	const token = "t0ken"
	in := startOnly(t, `timezone: UTC
rules:
  - name: scam
    when: 'lower(text) contains "free nitro"'
    do: [forward("scam")]
`, map[string]string{"VIGIE_ADMIN_TOKEN": token},
		[]daemon.Connector{discordConnector(cl)})

	const author = "600000000000000009"
	testsync.Eventually(t, "the gateway taking a scam", func() bool {
		return f.Message(guild, channel, "700000000000000301", author, "FREE NITRO")
	})
	auth := map[string]string{"Authorization": "Bearer " + token}
	var open apiPage
	testsync.Eventually(t, "the case and its card", func() bool {
		in.do(t, "GET", "/v1/cases?status=open", nil, auth).json(t, &open)
		return len(open.Cases) == 1 && len(f.Calls("POST", "/channels/"+deskChannel+"/messages")) == 1
	})

	r := in.do(t, "POST", "/v1/cases/"+open.Cases[0].ID+"/decision", []byte(`{"outcome":"ban","duration":"7d","by":"ann"}`), auth)
	var decided struct {
		Note string
		Case apiCase
	}
	r.json(t, &decided)
	if r.code != http.StatusOK || decided.Case.Outcome != "ban(7d)" || !f.Banned(guild, author) {
		t.Fatalf("decision ban(7d) = %d %s, banned %v", r.code, r.body, f.Banned(guild, author))
	}
	const restart = "(vigie lifts it then; its store is in memory: a restart before then leaves the ban on, until /unban)"
	// handlers.UntilText: the year only when it is not this one's
	until := regexp.MustCompile(`^until \d{1,2} [A-Z][a-z]{2}( \d{4})? \d{2}:\d{2} UTC `)
	if !until.MatchString(decided.Note) || !strings.HasSuffix(decided.Note, " UTC "+restart) {
		t.Errorf("note = %q, want when the ban ends and %q", decided.Note, restart)
	}
}
