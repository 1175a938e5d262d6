package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// discordConnector is the Discord bot: guilds in, moderation out, and a desk in a
// channel, named by the rule file's desk.discord_channel or DISCORD_DESK_CHANNEL.
func discordConnector(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer) (Connector, error) {
	dc, err := discord.ConfigFromEnv(cfg.Getenv)
	if err != nil {
		return Connector{}, err
	}
	envChannel := dc.DeskChannel
	channel := func(rs *rules.Ruleset) string {
		return cmp.Or(strings.TrimSpace(rs.Desk.DiscordChannel), envChannel)
	}
	dc.DeskChannel = channel(rs)
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
	cmds := &discordCommands{}
	desk := &discordDesk{d: cl.Desk(cmds)}
	desk.channel.Store(dc.DeskChannel != "")
	return Connector{
		Name:      "discord",
		Source:    cl,
		Platforms: []bot.Platform{cl},
		Desk:      desk,
		Attach:    func(c *handlers.Commands) { cmds.c = c },
		OnRules: func(rs *rules.Ruleset) error {
			ch := channel(rs)
			if err := cl.SetDesk(ch, rs.Desk.CMs); err != nil {
				return err
			}
			desk.channel.Store(ch != "")
			return nil
		},
	}, nil
}

// discordDesk shows cases and alerts in the desk channel.
type discordDesk struct {
	d       *discord.Desk
	channel atomic.Bool // a desk channel is set
}

var errNoDeskChannel = &bot.ActionError{Op: "desk", Err: errors.New("no desk channel: set desk.discord_channel in the rule file or DISCORD_DESK_CHANNEL")}

func (t *discordDesk) PostCase(ctx context.Context, c store.Case) error {
	if !t.channel.Load() {
		return errNoDeskChannel
	}
	return t.d.PostCard(ctx, discordCard(c))
}

func (t *discordDesk) Alert(ctx context.Context, text string) error {
	if !t.channel.Load() {
		return errNoDeskChannel
	}
	return t.d.Alert(ctx, text)
}

// discordCommands answers the desk's buttons and /vigie with the handlers.
type discordCommands struct {
	c *handlers.Commands
}

var _ discord.Commands = (*discordCommands)(nil)

func (t *discordCommands) Decide(ctx context.Context, d discord.Decision) (discord.Card, error) {
	c, err := t.c.Decide(ctx, d.CaseID, d.String(), d.By)
	if errors.Is(err, store.ErrDecided) {
		err = fmt.Errorf("%w: %w", discord.ErrDecided, err)
	}
	return discordCard(c), err
}

func (t *discordCommands) Queue(ctx context.Context) ([]discord.Card, error) {
	cases, err := t.c.Queue(ctx)
	if err != nil {
		return nil, err
	}
	cards := make([]discord.Card, len(cases))
	for i, c := range cases {
		cards[i] = discordCard(c)
	}
	return cards, nil
}

func (t *discordCommands) Status(ctx context.Context) (string, error) { return t.c.Status(ctx) }
func (t *discordCommands) Pause(ctx context.Context, d time.Duration, by string) (string, error) {
	return t.c.Pause(ctx, d, by)
}
func (t *discordCommands) Resume(ctx context.Context, by string) (string, error) {
	return t.c.Resume(ctx, by)
}

func discordCard(c store.Case) discord.Card {
	return discord.Card{
		ID: c.ID, Opened: c.Opened, Event: c.Event, Rule: c.Rule, Category: c.Category,
		Reason: c.Reason, Suggested: c.Suggested, Outcome: c.Outcome,
		DecidedBy: c.DecidedBy, DecidedAt: c.DecidedAt,
	}
}
