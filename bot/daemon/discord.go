package daemon

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// discordConnector is the Discord bot: guilds in, moderation out, and a desk in a
// channel, named by the rule file's desk.discord_channel or DISCORD_DESK_CHANNEL;
// the guilds it moderates are desk.discord_guilds or DISCORD_GUILDS, and the
// desk channel's guild.
//
// Each shard's gateway connection is a job: of the processes sharing a Redis,
// the one holding a shard's lease runs it. DISCORD_SHARD_COUNT says how many
// shards there are (1 by default; auto asks Discord's recommendation, GET
// /gateway/bot, as vigie starts). DISCORD_SHARD_ID, set by hand, keeps a
// process to that one shard, as before leases. The next runner of a shard
// finds what the last one told the desk of the guilds vigie is out of in
// st, when st keeps it (store.ToldKeeper).
func discordConnector(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer, st store.Store) (Connector, error) {
	getenv := cfg.Getenv
	auto := strings.EqualFold(strings.TrimSpace(getenv("DISCORD_SHARD_COUNT")), "auto")
	if auto {
		getenv = func(k string) string {
			if k == "DISCORD_SHARD_COUNT" {
				return ""
			}
			return cfg.Getenv(k)
		}
	}
	dc, err := discord.ConfigFromEnv(getenv)
	if err != nil {
		return Connector{}, err
	}
	envChannel, envGuilds := dc.DeskChannel, dc.Guilds
	channel := func(rs *rules.Ruleset) string {
		return cmp.Or(strings.TrimSpace(rs.Desk.DiscordChannel), envChannel)
	}
	// The rule file's list, when it has one, replaces DISCORD_GUILDS; with
	// neither, the guilds its communities name are the list.
	guilds := func(rs *rules.Ruleset) []string {
		if len(rs.Desk.DiscordGuilds) > 0 {
			return rs.Desk.DiscordGuilds
		}
		if len(envGuilds) > 0 {
			return envGuilds
		}
		return communityPlaces(rs, "discord")
	}
	dc.DeskChannel = channel(rs)
	dc.Guilds = guilds(rs)
	dc.CMs = rs.Desk.CMs
	dc.Logger = cfg.Logger
	dc.Registerer = reg
	dc.Now = cfg.clock()
	dc.Told, _ = st.(store.ToldKeeper)
	// On shutdown, the events Discord delivered go to the rules first; the rest
	// of the drain is for the workers to act on them.
	dc.DrainTimeout = cfg.ShutdownTimeout * 2 / 3
	// process tells each shard once a message is judged (judgedTeller): a
	// shard's memory of a channel moves past a message only then.
	dc.ReportsJudged = true
	byHand := strings.TrimSpace(getenv("DISCORD_SHARD_ID")) != ""
	if auto {
		if byHand {
			return Connector{}, fmt.Errorf("discord: DISCORD_SHARD_ID %s goes with a number of shards, not DISCORD_SHARD_COUNT=auto", getenv("DISCORD_SHARD_ID"))
		}
		if dc.ShardCount, err = recommendedShards(dc); err != nil {
			return Connector{}, err
		}
	}
	dc.ShardCount = max(dc.ShardCount, 1)
	ids := []int{dc.ShardID}
	if !byHand {
		ids = ids[:0]
		for i := range dc.ShardCount {
			ids = append(ids, i)
		}
	}
	shards := &discordShards{byID: map[int]*discord.Client{}, count: dc.ShardCount}
	var jobs []Job
	for _, id := range ids {
		sc := dc
		sc.ShardID = id
		cl, err := discord.New(sc)
		if err != nil {
			return Connector{}, err
		}
		shards.byID[id] = cl
		shards.all = append(shards.all, cl)
		name := "discord"
		if dc.ShardCount > 1 {
			name = fmt.Sprintf("discord-shard-%d-of-%d", id, dc.ShardCount)
		}
		jobs = append(jobs, Job{
			Name: name,
			Run: func(ctx context.Context, f Fence, out chan<- bot.Event) error {
				return cl.RunShard(ctx, out, shardMemory(f, id, dc.ShardCount))
			},
			Link: cl.Link,
		})
	}
	cmds := &deskCommands{}
	// Every shard answers the buttons and commands of its guilds; the first
	// posts the cards (a REST call, which any process may make).
	var first *discord.Desk
	for _, cl := range shards.all {
		d := cl.Desk(cmds)
		if first == nil {
			first = d
		}
	}
	desk := &platformDesk{d: first, unset: errNoDeskChannel, cmds: cmds}
	desk.set.Store(dc.DeskChannel != "")
	// The deadlines of new members' verifications are kept by one process,
	// with any Client: kicking is a REST call.
	jobs = append(jobs, Job{Name: "discord-verify", Run: func(ctx context.Context, _ Fence, _ chan<- bot.Event) error {
		cfg.every(ctx, verifyEvery, func() {
			if _, err := shards.all[0].VerifyDue(ctx, cfg.clock()()); err != nil && ctx.Err() == nil {
				cfg.Logger.Warn("verify: the deadlines were not all kept; again at the next tick", "platform", "discord", "err", err)
			}
		})
		return nil
	}})
	var platform bot.Platform = shards.all[0]
	if len(shards.all) > 1 {
		platform = shards
	}
	return Connector{
		Name:      "discord",
		Jobs:      jobs,
		Platforms: []bot.Platform{platform},
		Desk:      desk,
		Attach:    func(c *handlers.Commands) { cmds.c = c },
		Verify: func(rs *rules.Ruleset, pending bot.Verifications) {
			var dv *discord.Verify
			if pending != nil {
				dv = discordVerify(rs.Verify, pending, cfg.clock())
				for guild, v := range rs.VerifyPlaces(discord.Platform) {
					if dv.Places == nil {
						dv.Places = map[string]*discord.Verify{}
					}
					dv.Places[guild] = discordVerify(v, pending, cfg.clock())
				}
			}
			for _, cl := range shards.all {
				cl.SetVerify(dv)
			}
		},
		OnRules: func(rs *rules.Ruleset) error {
			ch := channel(rs)
			for _, cl := range shards.all {
				if err := cl.SetDesk(ch, communityCMs(rs), guilds(rs)); err != nil {
					return err
				}
			}
			desk.setCommunities(rs, func(d rules.Desk) string { return d.DiscordChannel })
			desk.set.Store(ch != "")
			return nil
		},
	}, nil
}

// recommendedShards asks Discord for the number of shards, for
// DISCORD_SHARD_COUNT=auto. Every process asks and gets the same answer; one
// that cannot ask does not start rather than guess a count the others do
// not share.
func recommendedShards(dc discord.Config) (int, error) {
	dc.ShardID, dc.ShardCount = 0, 1
	dc.Registerer = nil
	cl, err := discord.New(dc)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := cl.RecommendedShards(ctx)
	if err != nil {
		return 0, fmt.Errorf("discord: DISCORD_SHARD_COUNT=auto: %w", err)
	}
	return n, nil
}

// discordShards carries out actions with the Client of the shard that
// received the event (its gateway state knows the guild's roles), or the
// first one this process has when it has no Client for that shard.
type discordShards struct {
	count int
	byID  map[int]*discord.Client
	all   []*discord.Client
}

var (
	_ bot.Deleter        = (*discordShards)(nil)
	_ bot.Replier        = (*discordShards)(nil)
	_ bot.Warner         = (*discordShards)(nil)
	_ bot.Timeouter      = (*discordShards)(nil)
	_ bot.TimeoutLimiter = (*discordShards)(nil)
	_ bot.Untimeouter    = (*discordShards)(nil)
	_ bot.Kicker         = (*discordShards)(nil)
	_ bot.Banner         = (*discordShards)(nil)
	_ bot.Tagger         = (*discordShards)(nil)
	_ bot.Locker         = (*discordShards)(nil)
	_ bot.SlowModer      = (*discordShards)(nil)
	_ bot.LogPoster      = (*discordShards)(nil)
	_ bot.LogEscaper     = (*discordShards)(nil)
	_ bot.RoleResolver   = (*discordShards)(nil)
	_ bot.Troubler       = (*discordShards)(nil)
	_ judgedTeller       = (*discordShards)(nil)
	_ judgedTeller       = (*discord.Client)(nil)
)

// Troubles are every shard's, sorted: each sees only its own guilds'
// removals; a trouble they share (the host's clock) is told once.
func (s *discordShards) Troubles() []string {
	var out []string
	for _, cl := range s.all {
		out = append(out, cl.Troubles()...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (s *discordShards) of(ev bot.Event) *discord.Client {
	if cl, ok := s.byID[discord.ShardOf(ev.Space, s.count)]; ok {
		return cl
	}
	return s.all[0]
}

func (s *discordShards) Name() string { return discord.Platform }

// Judged tells the shard that received ev that it is judged.
func (s *discordShards) Judged(ev *bot.Event) { s.of(*ev).Judged(ev) }

func (s *discordShards) Delete(ctx context.Context, ev bot.Event) error {
	return s.of(ev).Delete(ctx, ev)
}
func (s *discordShards) RemoveName(ctx context.Context, ev bot.Event) error {
	return s.of(ev).RemoveName(ctx, ev)
}
func (s *discordShards) CanOn(ev bot.Event, k bot.ActionKind) bool { return s.of(ev).CanOn(ev, k) }
func (s *discordShards) Reply(ctx context.Context, ev bot.Event, text string) error {
	return s.of(ev).Reply(ctx, ev, text)
}
func (s *discordShards) Warn(ctx context.Context, ev bot.Event, text string) error {
	return s.of(ev).Warn(ctx, ev, text)
}
func (s *discordShards) Timeout(ctx context.Context, ev bot.Event, d time.Duration) error {
	return s.of(ev).Timeout(ctx, ev, d)
}
func (s *discordShards) MaxTimeout() time.Duration { return discord.MaxTimeout }
func (s *discordShards) Untimeout(ctx context.Context, ev bot.Event) error {
	return s.of(ev).Untimeout(ctx, ev)
}
func (s *discordShards) Kick(ctx context.Context, ev bot.Event) error {
	return s.of(ev).Kick(ctx, ev)
}
func (s *discordShards) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	return s.of(ev).Ban(ctx, ev, d)
}
func (s *discordShards) BanOf(ctx context.Context, ev bot.Event) (bot.BanStatus, error) {
	return s.of(ev).BanOf(ctx, ev)
}
func (s *discordShards) Unban(ctx context.Context, ev bot.Event) error {
	return s.of(ev).Unban(ctx, ev)
}
func (s *discordShards) Tag(ctx context.Context, ev bot.Event, tag string) error {
	return s.of(ev).Tag(ctx, ev, tag)
}
func (s *discordShards) Lock(ctx context.Context, ev bot.Event) (string, error) {
	return s.of(ev).Lock(ctx, ev)
}
func (s *discordShards) Unlock(ctx context.Context, ev bot.Event, prev string) error {
	return s.of(ev).Unlock(ctx, ev, prev)
}
func (s *discordShards) SlowMode(ctx context.Context, ev bot.Event, d time.Duration) (string, error) {
	return s.of(ev).SlowMode(ctx, ev, d)
}
func (s *discordShards) RestoreSlowMode(ctx context.Context, ev bot.Event, prev string) error {
	return s.of(ev).RestoreSlowMode(ctx, ev, prev)
}
func (s *discordShards) ResolveRoles(ctx context.Context, ev bot.Event) (roles []string, staff, known bool) {
	return s.of(ev).ResolveRoles(ctx, ev)
}

// PosesAsCM asks the shard of the member's guild, which keeps that guild's
// moderators.
func (s *discordShards) PosesAsCM(ctx context.Context, ev bot.Event, desk string) string {
	return s.of(ev).PosesAsCM(ctx, ev, desk)
}

// CheckIDs checks the ids before a shard is picked: the guild that picks
// it is one of them.
func (s *discordShards) CheckIDs(ev bot.Event) error { return discord.CheckIDs(ev) }

// MaxReply is bot.ReplyLimiter's: a reply is one message, whichever shard
// sends it.
func (s *discordShards) MaxReply(ev bot.Event) int { return s.all[0].MaxReply(ev) }

// The mod-log's lines are REST calls to a channel, which any shard's Client
// makes: the first one posts them.
func (s *discordShards) PostLog(ctx context.Context, to, text string) (string, error) {
	return s.all[0].PostLog(ctx, to, text)
}
func (s *discordShards) EditLog(ctx context.Context, to, id, text string) error {
	return s.all[0].EditLog(ctx, to, id, text)
}
func (s *discordShards) EscapeLog(text string) string { return s.all[0].EscapeLog(text) }

// MessageOf is bot.MessageNamer's: the same on every shard.
func (s *discordShards) MessageOf(ev bot.Event) string { return s.all[0].MessageOf(ev) }

var errNoDeskChannel = &bot.ActionError{Op: "desk", Err: fmt.Errorf("%w channel: set desk.discord_channel in the rule file or DISCORD_DESK_CHANNEL", handlers.ErrNoDesk)}

// discordVerify is the verification of a guild as v says, or off: those
// asked before are still let go, from the hold their record names.
func discordVerify(v rules.Verify, pending bot.Verifications, now func() time.Time) *discord.Verify {
	if !v.On {
		return &discord.Verify{Off: true, Pending: pending, Now: now}
	}
	return &discord.Verify{Timeout: v.Timeout, Kick: v.OnFail == rules.VerifyKick, Prompt: v.Prompt,
		Button: v.Button, Channel: v.DiscordChannel, Role: v.DiscordRole, Pending: pending, Now: now}
}
