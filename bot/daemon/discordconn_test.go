package daemon_test

import (
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// discordClient is the real Discord client on the fake f, moderating guild,
// its desk in deskChannel; its log is shown if the test fails. with sets
// more of its config (an HTTP client that gives up sooner, a clock).
func discordClient(t *testing.T, f *discordfake.Server, guild string, with ...func(*discord.Config)) *discord.Client {
	t.Helper()
	logs := &testsync.Buffer{}
	cfg := discord.Config{Token: discordfake.Token, APIURL: discordAPIURL, DeskChannel: deskChannel, Guilds: []string{guild},
		HTTPClient: f.Client(), Logger: testsync.Logger(logs)}
	for _, w := range with {
		w(&cfg)
	}
	cl, err := discord.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("discord logs:\n%s", logs)
		}
	})
	return cl
}

// discordConnector is cl as the daemon wires Discord's connector, its
// desk's commands answered with desktest's short answers.
func discordConnector(cl *discord.Client) daemon.Connector {
	return daemon.Connector{Name: "discord", Source: cl, Platforms: []bot.Platform{cl}, Desk: desktest.Desk{Poster: cl.Desk(&desktest.Commands{})}}
}
