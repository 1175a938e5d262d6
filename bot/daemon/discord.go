package daemon

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
)

// discordConnector is the Discord bot: guilds in, moderation out, and a desk in a
// channel, named by the rule file's desk.discord_channel or DISCORD_DESK_CHANNEL;
// the guilds it moderates are desk.discord_guilds or DISCORD_GUILDS, and the
// desk channel's guild.
func discordConnector(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer) (Connector, error) {
	dc, err := discord.ConfigFromEnv(cfg.Getenv)
	if err != nil {
		return Connector{}, err
	}
	envChannel, envGuilds := dc.DeskChannel, dc.Guilds
	channel := func(rs *rules.Ruleset) string {
		return cmp.Or(strings.TrimSpace(rs.Desk.DiscordChannel), envChannel)
	}
	// The rule file's list, when it has one, replaces DISCORD_GUILDS.
	guilds := func(rs *rules.Ruleset) []string {
		if len(rs.Desk.DiscordGuilds) > 0 {
			return rs.Desk.DiscordGuilds
		}
		return envGuilds
	}
	dc.DeskChannel = channel(rs)
	dc.Guilds = guilds(rs)
	dc.CMs = rs.Desk.CMs
	dc.Logger = cfg.Logger
	dc.Registerer = reg
	// On shutdown, the events Discord delivered go to the rules first; the rest
	// of the drain is for the workers to act on them.
	dc.DrainTimeout = cfg.ShutdownTimeout * 2 / 3
	cl, err := discord.New(dc)
	if err != nil {
		return Connector{}, err
	}
	cmds := &deskCommands{}
	desk := &platformDesk{d: cl.Desk(cmds), unset: errNoDeskChannel, cmds: cmds}
	desk.set.Store(dc.DeskChannel != "")
	return Connector{
		Name:      "discord",
		Source:    cl,
		Platforms: []bot.Platform{cl},
		Desk:      desk,
		Attach:    func(c *handlers.Commands) { cmds.c = c },
		OnRules: func(rs *rules.Ruleset) error {
			ch := channel(rs)
			if err := cl.SetDesk(ch, rs.Desk.CMs, guilds(rs)); err != nil {
				return err
			}
			desk.set.Store(ch != "")
			return nil
		},
	}, nil
}

var errNoDeskChannel = &bot.ActionError{Op: "desk", Err: fmt.Errorf("%w channel: set desk.discord_channel in the rule file or DISCORD_DESK_CHANNEL", handlers.ErrNoDesk)}
