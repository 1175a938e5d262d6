package daemon

import (
	"path/filepath"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
)

// SetLoadRules has reloads read the rule file with f until the test ends.
func SetLoadRules(t interface{ Cleanup(func()) }, f func(string) (*rules.Ruleset, string, error)) {
	old := loadRules
	loadRules = func(p string, _ rules.LoadOptions) (*rules.Ruleset, string, error) { return f(p) }
	t.Cleanup(func() { loadRules = old })
}

// WithTokenDir is getenv (nil: an empty environment) with
// VIGIE_ADMIN_TOKEN_DIR set to a directory of the test's own: without
// VIGIE_ADMIN_TOKEN, vigie writes the token it makes there, as it would in
// the user's own directory (which it makes, 0700).
func WithTokenDir(t testing.TB, getenv func(string) string) func(string) string {
	dir := filepath.Join(t.TempDir(), "vigie")
	return func(k string) string {
		if k == adminTokenDirEnv {
			return dir
		}
		if getenv == nil {
			return ""
		}
		return getenv(k)
	}
}

// AfterJudging has vigie call f with each event judged from a source or
// over HTTP, before its verdict is journaled.
func AfterJudging(c *Config, f func(ev *bot.Event)) { c.afterJudging = f }

// Evaluators has vigie judge the sources' events with n evaluators.
func Evaluators(c *Config, n int) { c.evaluators = n }

// DiscordDeskOf is the Discord connector's desk alone, posting with cl, as
// discordConnector makes it.
func DiscordDeskOf(cl *discord.Client) Connector {
	cmds := &deskCommands{}
	desk := &platformDesk{d: cl.Desk(cmds), unset: errNoDeskChannel, cmds: cmds}
	desk.set.Store(true)
	return Connector{Name: "discord", Desk: desk, Attach: func(c *handlers.Commands) { cmds.c = c }}
}

// DiscordOf is cl as the Discord connector: its events and actions, and
// its desk as discordConnector makes it, whose buttons decide through
// vigie's commands and whose decisions show on the cards through the
// platform's desk.
func DiscordOf(cl *discord.Client) Connector {
	c := DiscordDeskOf(cl)
	c.Source, c.Platforms = cl, []bot.Platform{cl}
	return c
}

// DeskCatchUpCards is how many cards a desk that answers again gets of the
// cases it missed.
const DeskCatchUpCards = deskCatchUpCards
