package discord

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// Who may steer vigie on Discord, and from where.
//
// A place is a guild. vigie moderates the guilds of the allowlist (Guilds) and
// the guild of the desk channel; with neither, the guilds a CM of desk.cms owns
// (anyone may invite a public bot to a server of their own), and then it takes
// commands from none. Commands and button presses are taken only from
// those guilds, and only from the CMs (by user id) and the holders of a
// moderator role (by role id): a role named "moderator" in some other server is
// nobody. Role names in the configuration are a convenience, turned into the
// ids of the roles so named in the commanding guilds once the gateway describes
// them (GUILD_CREATE).

// isSnowflake reports whether s looks like a Discord id.
func isSnowflake(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// deskGuild is the guild of the desk channel, once the gateway described it.
func (c *Client) deskGuild(d *deskConf) string {
	if d.channel == "" {
		return ""
	}
	if ch, ok := c.stateChannel(d.channel); ok {
		return ch.guildID
	}
	return ""
}

// moderates reports whether vigie moderates guildID: listed, the desk's, or,
// when neither a list nor a desk channel is set, one whose owner is a CM.
func (c *Client) moderates(guildID string) bool {
	if guildID == "" {
		return false
	}
	d := c.desk.Load()
	if d.guilds[guildID] {
		return true
	}
	if len(d.guilds) == 0 && d.channel == "" {
		g, ok := c.stateGuild(guildID)
		return ok && g.owner != "" && d.cms[g.owner]
	}
	return guildID == c.deskGuild(d)
}

// commandsFrom reports whether vigie takes commands and button presses from
// guildID: a listed guild or the desk's.
func (c *Client) commandsFrom(guildID string) bool {
	if guildID == "" {
		return false
	}
	d := c.desk.Load()
	return d.guilds[guildID] || guildID == c.deskGuild(d)
}

// foreign counts what came from a guild vigie does not moderate, and says so
// once per guild.
func (c *Client) foreign(guildID, kind string) {
	c.met.foreign.WithLabelValues(kind).Inc()
	if c.foreignSeen.first(guildID) {
		name := guildID
		if g, ok := c.stateGuild(guildID); ok {
			name = g.label()
		}
		c.log.Warn("ignoring guild "+name+": it is not one vigie moderates (DISCORD_GUILDS, desk.discord_guilds, or the desk channel's guild; "+
			"with neither, a guild a CM of desk.cms owns)",
			"audit", true, "guild", guildID, "kind", kind)
	}
}

// onceSet remembers up to max keys, for logging things once each.
type onceSet struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func newOnceSet(max int) *onceSet { return &onceSet{max: max, seen: make(map[string]bool)} }

// first reports whether key was never seen; past max keys it stops
// remembering, and says false.
func (s *onceSet) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[key] || len(s.seen) >= s.max {
		return false
	}
	s.seen[key] = true
	return true
}

// isModerator reports whether one of roles is a moderator role, by id.
func (c *Client) isModerator(roles []string) bool {
	ids := c.modRoleIDs.Load()
	if ids == nil {
		return false
	}
	for _, id := range roles {
		if (*ids)[id] {
			return true
		}
	}
	return false
}

// resolveModRoles turns the configured moderator roles into role ids: ids as
// written, names as the roles so named in the commanding guilds the gateway
// described. When guild is set (its GUILD_CREATE just came), the names that
// name no role there, or several, are logged.
func (c *Client) resolveModRoles(guild *discordgo.Guild) {
	d := c.desk.Load()
	ids := make(map[string]bool)
	var names []string
	for _, r := range d.modRoles {
		if isSnowflake(r) {
			ids[r] = true
		} else {
			names = append(names, r)
		}
	}
	if len(names) > 0 {
		type role struct{ id, name string }
		type guildRoles struct {
			g     *discordgo.Guild
			roles []role
		}
		// A snapshot: the gateway's loop updates the state meanwhile.
		c.sess.State.RLock()
		var guilds []guildRoles
		for _, g := range c.sess.State.Guilds {
			gr := guildRoles{g: &discordgo.Guild{ID: g.ID, Name: g.Name}}
			for _, r := range g.Roles {
				gr.roles = append(gr.roles, role{r.ID, r.Name})
			}
			guilds = append(guilds, gr)
		}
		c.sess.State.RUnlock()
		for _, gr := range guilds {
			g := gr.g
			if !c.commandsFrom(g.ID) {
				continue
			}
			var missing, ambiguous []string
			for _, name := range names {
				var found []string
				for _, r := range gr.roles {
					if strings.EqualFold(r.name, name) {
						found = append(found, r.id)
					}
				}
				switch len(found) {
				case 0:
					missing = append(missing, name)
				case 1:
					ids[found[0]] = true
				default:
					ambiguous = append(ambiguous, name)
				}
			}
			if guild == nil || guild.ID != g.ID {
				continue
			}
			if len(missing) > 0 {
				c.log.Warn("moderator roles not found in guild "+guildLabel(g)+": "+strings.Join(missing, ", ")+"; write role ids in DISCORD_MODERATOR_ROLES",
					"guild", g.ID, "unresolved", missing)
			}
			if len(ambiguous) > 0 {
				c.log.Warn("moderator role names shared by several roles in guild "+guildLabel(g)+", not used: "+strings.Join(ambiguous, ", ")+"; write role ids in DISCORD_MODERATOR_ROLES",
					"guild", g.ID, "ambiguous", ambiguous)
			}
		}
	}
	c.modRoleIDs.Store(&ids)
	c.readModerators()
}

// checkStaffRoles logs the staff roles (DISCORD_STAFF_ROLES) that name no
// role of a guild vigie moderates, by id or by name in any case, as its
// GUILD_CREATE describes it: a plural or a typo would leave the staff judged
// as any member, with nothing said.
func (c *Client) checkStaffRoles(g *discordgo.Guild) {
	var missing []string
	for _, s := range c.cfg.StaffRoles {
		found := false
		for _, r := range g.Roles {
			if r != nil && matchRole([]string{s}, r.ID, r.Name) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		c.log.Warn("staff roles not found in guild "+guildLabel(g)+": "+strings.Join(missing, ", ")+"; no member is staff by them: write the names or ids of the server's roles in DISCORD_STAFF_ROLES",
			"guild", g.ID, "unresolved", missing)
	}
}

// commandsFor is /vigie as it is registered in a guild: shown only to members
// who may moderate (Moderate Members), only inside servers. It is written as
// Discord's API describes it, not through discordgo's structs, which send
// fields that do not belong to every kind of option (autocomplete on a
// subcommand, channel_types on a text option).
func commandsFor() []map[string]any {
	out := make([]map[string]any, 0, len(slashCommands))
	for _, cmd := range slashCommands {
		out = append(out, map[string]any{
			"type":                       int(discordgo.ChatApplicationCommand),
			"name":                       cmd.Name,
			"description":                cmd.Description,
			"options":                    optionsJSON(cmd.Options),
			"default_member_permissions": int64(discordgo.PermissionModerateMembers),
			"contexts":                   []int{contextGuild},
		})
	}
	return append(out, modCommandsFor()...)
}

func optionsJSON(opts []*discordgo.ApplicationCommandOption) []map[string]any {
	out := make([]map[string]any, 0, len(opts))
	for _, o := range opts {
		m := map[string]any{"type": int(o.Type), "name": o.Name, "description": o.Description}
		if o.Required {
			m["required"] = true
		}
		if len(o.Choices) > 0 {
			choices := make([]map[string]any, len(o.Choices))
			for i, c := range o.Choices {
				choices[i] = map[string]any{"name": c.Name, "value": c.Value}
			}
			m["choices"] = choices
		}
		if len(o.Options) > 0 {
			m["options"] = optionsJSON(o.Options)
		}
		out = append(out, m)
	}
	return out
}

// putCommands replaces the application's commands in guildID ("" for the
// global ones) with cmds.
func (c *Client) putCommands(ctx context.Context, app, guildID string, cmds []map[string]any) error {
	endpoint := discordgo.EndpointApplicationGlobalCommands(app)
	if guildID != "" {
		endpoint = discordgo.EndpointApplicationGuildCommands(app, guildID)
	}
	_, err := c.sess.RequestWithBucketID("PUT", endpoint, cmds, endpoint, opts(ctx)...)
	return err
}

// clearGlobalCommands removes /vigie from the application's global commands,
// where earlier versions registered it: there it showed in every guild.
func (c *Client) clearGlobalCommands(ctx context.Context) {
	app := c.appid()
	if app == "" {
		c.log.Warn("cannot check the global commands: the application id is unknown")
		return
	}
	if err := c.putCommands(ctx, app, "", []map[string]any{}); err != nil {
		c.log.Warn("cannot remove the global /vigie command", "err", c.classify(ctx, "", err))
	}
}

// registerLater registers /vigie in guildID on a desk worker, without
// waiting for one: a GUILD_CREATE comes on the gateway's reading loop, and a
// reload must not wait either. At most one registration waits per guild, so
// the goroutines waiting are as many as the guilds vigie takes commands from.
func (c *Client) registerLater(ctx context.Context, guildID string) {
	if !c.commandsFrom(guildID) || !c.registering.first(guildID) {
		return
	}
	c.work.Add()
	go func() {
		defer c.work.Done()
		defer c.registering.forget(guildID)
		defer c.guard.Recover("discord desk")
		c.work.Go(ctx, func(ctx context.Context) { c.registerCommands(ctx, guildID) })
	}()
}

// registerCommands registers /vigie in guildID, once per connection's life of
// the client, when vigie takes commands from it.
func (c *Client) registerCommands(ctx context.Context, guildID string) {
	if !c.commandsFrom(guildID) || !c.registered.first(guildID) {
		return
	}
	app := c.appid()
	if app == "" {
		c.registered.forget(guildID)
		c.log.Warn("cannot register /vigie: the application id is unknown", "guild", guildID)
		return
	}
	if err := c.putCommands(ctx, app, guildID, commandsFor()); err != nil {
		c.registered.forget(guildID)
		c.log.Warn("cannot register /vigie", "guild", guildID, "err", c.classify(ctx, "", err))
		return
	}
	c.log.Info("registered /vigie status|pause|resume|queue|mode and the moderators' commands", "guild", guildID)
}

func (s *onceSet) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.seen, key)
}

// commandingGuilds are the guilds the gateway described that vigie takes
// commands from.
func (c *Client) commandingGuilds() []string {
	c.sess.State.RLock()
	var ids []string
	for _, g := range c.sess.State.Guilds {
		ids = append(ids, g.ID)
	}
	c.sess.State.RUnlock()
	out := ids[:0]
	for _, id := range ids {
		if c.commandsFrom(id) {
			out = append(out, id)
		}
	}
	return out
}
