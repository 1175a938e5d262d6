package discord

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

// permissionNames name the permissions vigie's actions need, as Discord's
// settings show them: every text that names a permission reads it here
// (permissionName).
var permissionNames = []struct {
	perm int64
	name string
}{
	{discordgo.PermissionViewChannel, "View Channels"},
	{discordgo.PermissionSendMessages, "Send Messages"},
	{discordgo.PermissionSendMessagesInThreads, "Send Messages in Threads"},
	{discordgo.PermissionReadMessageHistory, "Read Message History"},
	{discordgo.PermissionManageMessages, "Manage Messages"},
	{discordgo.PermissionAddReactions, "Add Reactions"},
	{discordgo.PermissionModerateMembers, "Moderate Members"},
	{discordgo.PermissionKickMembers, "Kick Members"},
	{discordgo.PermissionBanMembers, "Ban Members"},
	{discordgo.PermissionManageRoles, "Manage Roles"},
	{discordgo.PermissionManageNicknames, "Manage Nicknames"},
	{discordgo.PermissionManageServer, "Manage Server"},
	{discordgo.PermissionManageChannels, "Manage Channels"},
	{discordgo.PermissionManageThreads, "Manage Threads"},
}

// permissionName is the name of the one permission perm, as Discord's
// settings show it; "" for one vigie does not need.
func permissionName(perm int64) string {
	for _, n := range permissionNames {
		if n.perm == perm {
			return n.name
		}
	}
	return ""
}

// actionPermission is the permission an action of vigie's needs, and where
// it is given, as a refusal for its lack says it.
type actionPermission struct {
	perm  int64
	where string
}

// below is what else stands in the way of an action on a member.
const below = " (or its role is below the member's)"

// actionPermissions are the permissions vigie's actions need: the actions
// ask for them where Discord refuses (lacking), and the refusals name them
// (permissionFor).
var actionPermissions = map[bot.ActionKind]actionPermission{
	bot.ActBan:     {discordgo.PermissionBanMembers, " in this server" + below},
	bot.ActKick:    {discordgo.PermissionKickMembers, " in this server" + below},
	bot.ActTimeout: {discordgo.PermissionModerateMembers, " in this server" + below},
	bot.ActDelete:  {discordgo.PermissionManageMessages, " in this channel"},
	bot.ActTag:     {discordgo.PermissionManageRoles, " (or the role is above vigie's)"},
	bot.ActReply:   {discordgo.PermissionSendMessages, " in this channel"},
	bot.ActWarn:    {discordgo.PermissionSendMessages, " in this channel"},
}

// permissionOf is the permission action needs.
func permissionOf(action bot.ActionKind) int64 { return actionPermissions[action].perm }

// needed is what vigie does with each permission, so that a missing one is
// reported as the action that will fail.
var needed = []struct {
	perm int64
	what string
}{
	{discordgo.PermissionViewChannel, "messages will not be seen"},
	{discordgo.PermissionSendMessages, "reply, warn and the desk will fail"},
	{discordgo.PermissionReadMessageHistory, "reply will fail"},
	{discordgo.PermissionSendMessagesInThreads, "reply and warn in threads will fail"},
	{discordgo.PermissionManageMessages, "delete will fail"},
	{discordgo.PermissionModerateMembers, "timeout will fail"},
	{discordgo.PermissionKickMembers, "kick will fail"},
	{discordgo.PermissionBanMembers, "ban and unban will fail"},
	{discordgo.PermissionManageRoles, "tag with a role will fail"},
	{discordgo.PermissionManageNicknames, "delete of a member's name will fail"},
	{discordgo.PermissionManageThreads, "delete of a forum post or a thread's name will leave them"},
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
			names = append(names, permissionName(n.perm))
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

// outranked explains Discord's refusal of an action on ev's author (403,
// code 50013, as for a missing permission) when vigie holds perm in the
// guild: then what stands in the way is the hierarchy, the member being the
// owner or holding a role as high as vigie's highest, and the error says so
// and wraps bot.ErrOutranked. Any other error is returned as it is.
func (c *Client) outranked(err error, ev bot.Event, perm int64) error {
	var ae *bot.ActionError
	if apiCode(err) != codeMissingPermissions || !errors.As(err, &ae) {
		return err
	}
	why := c.aboveVigie(ev, perm)
	if why == "" {
		return err
	}
	return &bot.ActionError{Op: ae.Op, Err: &explained{why: why, code: codeMissingPermissions,
		err: fmt.Errorf("%w: %s: %w", bot.ErrOutranked, why, ae.Err)}}
}

// aboveVigie says why ev's author is out of vigie's reach in their guild
// although vigie holds perm there, from the state; "" when vigie lacks perm,
// or when the state does not show the member above vigie.
func (c *Client) aboveVigie(ev bot.Event, perm int64) string {
	st := c.sess.State
	g, err := st.Guild(ev.Space)
	if err != nil {
		return ""
	}
	me, ok := c.stateMember(ev.Space, c.self())
	if !ok {
		return ""
	}
	target, known := c.stateMember(ev.Space, ev.Author.ID)
	st.RLock()
	defer st.RUnlock()
	if p := guildPermissions(g, me); p&discordgo.PermissionAdministrator == 0 && p&perm == 0 {
		return ""
	}
	name := ev.Author.Name
	if name == "" {
		name = "the member " + ev.Author.ID
	}
	if g.OwnerID == ev.Author.ID {
		return name + " owns the server, and Discord lets nobody act on its owner"
	}
	// The member's roles: as the state has them, else as the event named them.
	has := func(r *discordgo.Role) bool {
		if known {
			return slices.Contains(target.Roles, r.ID)
		}
		return slices.ContainsFunc(ev.Author.Roles, func(x string) bool { return x == r.ID || strings.EqualFold(x, r.Name) })
	}
	if perm == discordgo.PermissionModerateMembers {
		var admin bool
		for _, r := range g.Roles {
			if (r.ID == g.ID || has(r)) && r.Permissions&discordgo.PermissionAdministrator != 0 {
				admin = true
			}
		}
		if admin {
			return name + " is an administrator of the server, and Discord lets nobody time out an administrator (kick or ban instead, or take the role away)"
		}
	}
	var top, mine *discordgo.Role
	for _, r := range g.Roles {
		if r.ID == g.ID {
			continue
		}
		if has(r) && (top == nil || r.Position > top.Position) {
			top = r
		}
		if slices.Contains(me.Roles, r.ID) && (mine == nil || r.Position > mine.Position) {
			mine = r
		}
	}
	if top == nil || mine != nil && top.Position < mine.Position {
		return ""
	}
	vigies := "vigie has no role"
	if mine != nil {
		vigies = "vigie's highest role, " + mine.Name
	}
	return fmt.Sprintf("%s's highest role, %s, is not below %s: drag vigie's role above it (Server Settings → Roles)", name, top.Name, vigies)
}

// roleAboveVigie explains Discord's refusal (403, code 50013) to give or take
// a role that is not below vigie's highest role, when vigie holds Manage
// Roles: moving vigie's role up is what helps. Any other error is returned as
// it is.
func (c *Client) roleAboveVigie(err error, guild, roleID string) error {
	var ae *bot.ActionError
	if apiCode(err) != codeMissingPermissions || !errors.As(err, &ae) {
		return err
	}
	st := c.sess.State
	g, gerr := st.Guild(guild)
	me, ok := c.stateMember(guild, c.self())
	if gerr != nil || !ok {
		return err
	}
	st.RLock()
	defer st.RUnlock()
	if p := guildPermissions(g, me); p&discordgo.PermissionAdministrator == 0 && p&discordgo.PermissionManageRoles == 0 {
		return err
	}
	var role, mine *discordgo.Role
	for _, r := range g.Roles {
		if r.ID == roleID {
			role = r
		}
		if slices.Contains(me.Roles, r.ID) && (mine == nil || r.Position > mine.Position) {
			mine = r
		}
	}
	if role == nil || mine != nil && role.Position < mine.Position {
		return err
	}
	vigies := "vigie has no role"
	if mine != nil {
		vigies = "vigie's highest role, " + mine.Name
	}
	why := fmt.Sprintf("the role %s is not below %s: drag vigie's role above it (Server Settings → Roles)", role.Name, vigies)
	return &bot.ActionError{Op: ae.Op, Err: &explained{why: why, code: codeMissingPermissions, err: fmt.Errorf("%s: %w", why, ae.Err)}}
}

// lacking explains Discord's refusal of an action for a missing permission
// (403, code 50013; Missing Access, 50001, for a channel's) when the state shows vigie without perm where it acts:
// in channel (its overwrites; a thread's are its parent's) when one is
// given, else guild-wide. The error then names the permission and where to
// give it, for the case and the moderator. Any other error, or a refusal the
// state does not explain (the hierarchy, see outranked), is returned as it is.
func (c *Client) lacking(err error, guild, channel string, perm int64) error {
	var ae *bot.ActionError
	switch code := apiCode(err); {
	case !errors.As(err, &ae):
		return err
	case code == codeMissingAccess && channel != "":
		// A channel vigie cannot see.
		perm |= discordgo.PermissionViewChannel
	case code != codeMissingPermissions:
		return err
	}
	if errors.Is(err, bot.ErrOutranked) {
		return err
	}
	st := c.sess.State
	g, gerr := st.Guild(guild)
	me, ok := c.stateMember(guild, c.self())
	if gerr != nil || !ok {
		return err
	}
	var ch *discordgo.Channel
	if channel != "" {
		if x, cerr := st.Channel(channel); cerr == nil {
			ch = x
			if x.IsThread() && perm&discordgo.PermissionSendMessages != 0 {
				// Sending in a thread takes its own permission.
				perm = perm&^discordgo.PermissionSendMessages | discordgo.PermissionSendMessagesInThreads
			}
			if x.IsThread() && perm&discordgo.PermissionManageChannels != 0 {
				// So does editing one.
				perm = perm&^discordgo.PermissionManageChannels | discordgo.PermissionManageThreads
			}
			if x.IsThread() && x.ParentID != "" {
				if p, perr := st.Channel(x.ParentID); perr == nil {
					ch = p
				}
			}
		}
	}
	st.RLock()
	defer st.RUnlock()
	var perms int64
	where := "in the server " + guildLabel(g)
	fix := "give it to vigie's role (Server Settings → Roles)"
	if ch != nil {
		perms = channelPermissions(g, ch, me)
		where = "in #" + ch.Name + " (" + ch.ID + ") of " + guildLabel(g)
		fix = "give it to vigie's role, and allow it in the channel's permissions"
	} else {
		perms = guildPermissions(g, me)
		if perms&discordgo.PermissionAdministrator != 0 {
			perms = discordgo.PermissionAll
		}
	}
	if perms&perm == perm {
		return err
	}
	var names []string
	for _, n := range permissionNames {
		if perm&n.perm != 0 && perms&n.perm == 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return err
	}
	var api *APIError
	if ch == nil && c.gate != nil && errors.As(err, &api) && api.Method != "" {
		// Missing in the whole server: every member's call of the route
		// would be refused the same (a raid's bans), not just this one's.
		raw, _ := json.Marshal(map[string]any{"message": api.Message, "code": api.Code})
		c.gate.holdRoute(routeOf(api.Method, api.Path), raw)
	}
	why := fmt.Sprintf("vigie lacks %s %s: %s", strings.Join(names, " and "), where, fix)
	return &bot.ActionError{Op: ae.Op, Err: &explained{why: why, code: apiCode(err), err: fmt.Errorf("%s: %w", why, ae.Err)}}
}

// lacksInGuild says, when the state shows vigie without perm in the whole
// guild, what is missing and how to fix it; "" when vigie holds it, or the
// state does not tell.
func (c *Client) lacksInGuild(guild string, perm int64) string {
	st := c.sess.State
	g, err := st.Guild(guild)
	me, ok := c.stateMember(guild, c.self())
	if err != nil || !ok {
		return ""
	}
	st.RLock()
	defer st.RUnlock()
	if len(g.Roles) == 0 {
		return "" // not described yet
	}
	if p := guildPermissions(g, me); p&discordgo.PermissionAdministrator != 0 || p&perm != 0 {
		return ""
	}
	return "vigie lacks " + permissionName(perm) + " in the server " + guildLabel(g) + ": give it to vigie's role (Server Settings → Roles)"
}

// channelPermissions is what the member may do in ch: its guild-wide
// permissions, then ch's overwrites for @everyone, its roles and itself, as
// Discord computes them. The caller holds the state's read lock.
func channelPermissions(g *discordgo.Guild, ch *discordgo.Channel, m *discordgo.Member) int64 {
	perms := guildPermissions(g, m)
	if perms&discordgo.PermissionAdministrator != 0 {
		return discordgo.PermissionAll
	}
	var uid string
	if m.User != nil {
		uid = m.User.ID
	}
	for _, o := range ch.PermissionOverwrites {
		if o.ID == g.ID {
			perms = perms&^o.Deny | o.Allow
		}
	}
	var deny, allow int64
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeRole && slices.Contains(m.Roles, o.ID) {
			deny |= o.Deny
			allow |= o.Allow
		}
	}
	perms = perms&^deny | allow
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeMember && o.ID == uid {
			perms = perms&^o.Deny | o.Allow
		}
	}
	return perms
}
