package discord

import (
	"github.com/bwmarrin/discordgo"
)

// needed is what vigie does with each permission, so that a missing one is
// reported as the action that will fail.
var needed = []struct {
	perm int64
	name string
	what string
}{
	{discordgo.PermissionViewChannel, "View Channels", "messages will not be seen"},
	{discordgo.PermissionSendMessages, "Send Messages", "reply, warn and the desk will fail"},
	{discordgo.PermissionManageMessages, "Manage Messages", "delete will fail"},
	{discordgo.PermissionModerateMembers, "Moderate Members", "timeout will fail"},
	{discordgo.PermissionKickMembers, "Kick Members", "kick will fail"},
	{discordgo.PermissionBanMembers, "Ban Members", "ban and unban will fail"},
	{discordgo.PermissionManageRoles, "Manage Roles", "tag with a role will fail"},
}

// missingPermissions lists, for the guild-wide permissions of vigie's member, what
// is missing and what will fail. Channel overwrites can still take permissions
// away in some channels; those show up as failed actions, which become cases.
func missingPermissions(perms int64) (names, effects []string) {
	if perms&discordgo.PermissionAdministrator != 0 {
		return nil, nil
	}
	for _, n := range needed {
		if perms&n.perm == 0 {
			names = append(names, n.name)
			effects = append(effects, n.what)
		}
	}
	return names, effects
}

// guildPermissions is what the member may do guild-wide: @everyone's permissions
// and those of each of its roles; the owner may do everything.
func guildPermissions(g *discordgo.Guild, m *discordgo.Member) int64 {
	if m.User != nil && g.OwnerID == m.User.ID {
		return discordgo.PermissionAll
	}
	var perms int64
	for _, r := range g.Roles {
		if r.ID == g.ID {
			perms |= r.Permissions
			continue
		}
		for _, id := range m.Roles {
			if r.ID == id {
				perms |= r.Permissions
			}
		}
	}
	return perms
}

// checkPermissions logs, once a guild is known (GUILD_CREATE), which of the
// permissions vigie needs it lacks there and what will fail because of it.
func (c *Client) checkPermissions(g *discordgo.Guild) {
	self := c.self()
	var me *discordgo.Member
	for _, m := range g.Members {
		if m.User != nil && m.User.ID == self {
			me = m
			break
		}
	}
	if me == nil {
		if m, ok := c.stateMember(g.ID, self); ok {
			me = m
		}
	}
	log := c.log.With("guild", g.ID, "guild_name", g.Name)
	if me == nil {
		log.Warn("cannot check vigie's permissions: its member is unknown in this guild")
		return
	}
	names, effects := missingPermissions(guildPermissions(g, me))
	for i, name := range names {
		log.Warn(name+" missing in guild "+guildLabel(g)+": "+effects[i], "missing", name)
	}
	if len(names) == 0 {
		log.Info("permissions checked: vigie can moderate this guild")
	}
}

func guildLabel(g *discordgo.Guild) string {
	if g.Name == "" {
		return g.ID
	}
	return g.Name + " (" + g.ID + ")"
}
