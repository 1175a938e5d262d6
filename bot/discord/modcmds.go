package discord

import (
	"cmp"
	"context"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

// Moderators' slash commands: /ban, /mute, /kick, /warn, /warns, /resetwarns,
// /del, /purge, /note, registered in each guild vigie takes commands from, each
// shown by default only to the members holding its Discord permission (Ban
// Members for /ban and /unban, Kick Members for /kick, Manage Messages for /del
// and /purge, Moderate Members for the others). A server owner may show them to
// more roles in Server Settings → Integrations, so vigie checks again: the
// member's permissions in the channel (as the interaction carries them), or a
// CM of the desk, or a holder of a moderator role. Anyone else gets a refusal
// only they see, logged with audit=true. "Delete message" in a message's Apps
// menu is /del by reply.

// modPermission is the Discord permission each right stands for.
var modPermission = map[bot.ModRight]int64{
	bot.RightBan:    discordgo.PermissionBanMembers,
	bot.RightKick:   discordgo.PermissionKickMembers,
	bot.RightMute:   discordgo.PermissionModerateMembers,
	bot.RightWarn:   discordgo.PermissionModerateMembers,
	bot.RightDelete: discordgo.PermissionManageMessages,
}

// delMessageCommand is the name of /del in a message's Apps menu.
const delMessageCommand = "Delete message"

// modCommandsFor are the moderators' commands as registered in a guild.
func modCommandsFor() []map[string]any {
	member := map[string]any{"type": int(discordgo.ApplicationCommandOptionUser), "name": "member", "description": "The member", "required": true}
	reason := map[string]any{"type": int(discordgo.ApplicationCommandOptionString), "name": "reason", "description": "Why (kept in the audit log)", "max_length": 400}
	duration := func(what string) map[string]any {
		return map[string]any{"type": int(discordgo.ApplicationCommandOptionString), "name": "duration", "description": what, "max_length": 20}
	}
	options := map[bot.ModCommand][]map[string]any{
		bot.ModBan:        {member, duration("How long, like 7d (vigie lifts the ban then); none: for good"), reason},
		bot.ModUnban:      {member},
		bot.ModMute:       {member, duration("How long, like 10m or 1d (default 1h, at most 28d)")},
		bot.ModUnmute:     {member},
		bot.ModKick:       {member, reason},
		bot.ModWarn:       {member, reason},
		bot.ModWarns:      {member},
		bot.ModResetWarns: {member},
		bot.ModDel: {{"type": int(discordgo.ApplicationCommandOptionString), "name": "message",
			"description": "The message's link or id (in this channel)", "required": true, "max_length": 200}},
		bot.ModPurge: {member, {"type": int(discordgo.ApplicationCommandOptionInteger), "name": "count",
			"description": "How many of their last messages in this channel", "required": true, "min_value": 1, "max_value": bot.MaxPurge}},
		bot.ModNote: {member, {"type": int(discordgo.ApplicationCommandOptionString), "name": "text",
			"description": "The note, seen only by the moderators", "required": true, "max_length": 1000}},
	}
	var out []map[string]any
	for _, k := range bot.ModCommandList {
		out = append(out, map[string]any{
			"type":                       int(discordgo.ChatApplicationCommand),
			"name":                       string(k.Command),
			"description":                cut(k.Help, 100),
			"options":                    options[k.Command],
			"default_member_permissions": modPermission[k.Right],
			"contexts":                   []int{contextGuild},
		})
	}
	out = append(out, map[string]any{
		"type":                       int(discordgo.MessageApplicationCommand),
		"name":                       delMessageCommand,
		"default_member_permissions": modPermission[bot.RightDelete],
		"contexts":                   []int{contextGuild},
	})
	return out
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// isModCommand reports whether name is one of the moderators' commands.
func isModCommand(name string) bool {
	_, ok := bot.ModCommandOf(name)
	return ok || name == delMessageCommand
}

// handleModCommand answers a moderator's command.
func (c *Client) handleModCommand(ctx context.Context, i *discordgo.Interaction) {
	data := i.ApplicationCommandData()
	name := data.Name
	if name == delMessageCommand {
		name = string(bot.ModDel)
	}
	info, _ := bot.ModCommandOf(name)
	u, roles := presser(i)
	attempt := "/" + data.Name
	if data.Name == delMessageCommand {
		attempt = data.Name
	}
	if ok, why := c.mayModerate(u, i, roles, info.Right); !ok {
		c.met.interactions.WithLabelValues("command", "refused").Inc()
		var id, uname string
		if u != nil {
			id, uname = cmID(u), u.Username
		}
		c.log.Warn("moderator's command refused", "audit", true, "user", id, "name", uname,
			"guild", i.GuildID, "channel", i.ChannelID, "attempt", attempt, "why", why)
		c.answer(ctx, i, "Sorry, "+attempt+" is for the members who may "+rightWords(info.Right)+" here.")
		return
	}
	c.met.interactions.WithLabelValues("command", "allowed").Inc()
	modn, ok := c.cmds().(bot.Moderation)
	if !ok {
		c.answer(ctx, i, "vigie is not ready yet, try again in a moment.")
		return
	}
	r, usage := c.modRequest(ctx, i, data, info)
	if usage != "" {
		c.answer(ctx, i, usage)
		return
	}
	r.By, r.ByName = cmID(u), displayName(u, i.Member)
	r.Private = true // answered ephemeral: for the moderator's eyes
	// What Discord cannot do as asked is done as it can, recorded and told
	// so: a timeout ends 28 days ahead at most. A ban with a duration is
	// Discord's for good, and vigie lifts it at its end (the answer says when).
	var note string
	if info.Command == bot.ModMute && r.Duration > MaxTimeout {
		r.Duration = MaxTimeout
		note = " Discord's timeouts end within 28 days: this one lasts " + bot.FormatDuration(MaxTimeout) + "."
	}
	text, err := modn.Moderate(ctx, r)
	if err != nil {
		c.log.Warn("moderator's command not carried out", "command", attempt, "by", r.By, "err", err)
	} else {
		text += note
	}
	ctx, cancel := reportContext(ctx)
	defer cancel()
	// The answer is plain text that names the member as they named
	// themselves: shown as written, a nickname such as
	// "[Appeal](https://evil.example)" or "<@ann's id>" is no link nor
	// another's name in vigie's answer.
	c.answer(ctx, i, md(text))
}

// mayModerate reports whether u may give a command needing right: a CM, a
// holder of a moderator role, or a member with the Discord permission (or
// Administrator) in the channel.
func (c *Client) mayModerate(u *discordgo.User, i *discordgo.Interaction, roles []string, right bot.ModRight) (bool, string) {
	if u == nil || u.Bot || i.Member == nil {
		return false, "not a member"
	}
	if c.allowed(u, i.GuildID, roles) {
		return true, ""
	}
	perms := i.Member.Permissions
	if perms&discordgo.PermissionAdministrator != 0 || perms&modPermission[right] != 0 {
		return true, ""
	}
	return false, "lacks the permission " + rightWords(right)
}

// rightWords names a right's permission the way Discord's settings do.
func rightWords(r bot.ModRight) string { return permissionName(modPermission[r]) }

// modRequest reads a command's options; usage is set, and says how to write
// them, when they do not make sense.
func (c *Client) modRequest(ctx context.Context, i *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData, info bot.ModCommandInfo) (bot.ModRequest, string) {
	r := bot.ModRequest{Command: info.Command}
	if data.CommandType == discordgo.MessageApplicationCommand {
		var m *discordgo.Message
		if data.Resolved != nil {
			m = data.Resolved.Messages[data.TargetID]
		}
		if m == nil {
			return r, "That message is unknown to vigie."
		}
		r.Target = c.messageTarget(i, m.ID, m.Author)
		return r, ""
	}
	var memberID, duration, count string
	var n int64
	for _, o := range data.Options {
		switch o.Name {
		case "member":
			// A user option's value is the user's id.
			memberID, _ = o.Value.(string)
		case "duration":
			duration = o.StringValue()
		case "reason", "text":
			r.Text = strings.TrimSpace(o.StringValue())
		case "message":
			count = o.StringValue()
		case "count":
			n = o.IntValue()
		}
	}
	if info.Command == bot.ModDel {
		id, ok := messageRef(count, i.GuildID, i.ChannelID)
		if !ok {
			return r, "Give the message's link (Copy Message Link) or its id, in this channel."
		}
		r.Target = c.messageTarget(i, id, nil)
		return r, ""
	}
	if memberID == "" {
		return r, "Name the member."
	}
	if memberID == c.self() && bot.ActsOnMember(info.Command) {
		return r, "Nothing done: that is vigie itself. Name the member."
	}
	r.Target = bot.Event{Platform: Platform, Space: i.GuildID, Channel: i.ChannelID,
		Author: bot.Author{ID: memberID, Name: c.resolvedName(data, memberID)}}
	if data.Resolved != nil && data.Resolved.Users[memberID] != nil && data.Resolved.Members[memberID] != nil {
		// The member's roles, to tell a moderator whom the hierarchy keeps
		// out of vigie's reach.
		r.Target.Author.Roles = c.author(i.GuildID, data.Resolved.Users[memberID], data.Resolved.Members[memberID]).Roles
	}
	if duration != "" {
		// Read as Telegram's commands and the rule file read theirs: 1w,
		// 1.5d and 2W as well as 7d.
		d, err := bot.ParseDuration(strings.ToLower(duration))
		if err != nil {
			return r, "Nothing done: " + err.Error() + ". Write the duration like 10m, 2h, 7d or 1w."
		}
		r.Duration = d
	}
	if info.Command == bot.ModPurge {
		if n < 1 || n > bot.MaxPurge {
			return r, "Give a count from 1 to 100."
		}
		msgs, err := c.lastMessages(ctx, i, memberID, int(n))
		if err != nil {
			return r, "Could not read this channel's messages: " + err.Error()
		}
		r.Messages = msgs
	}
	return r, ""
}

// messageTarget is a message of the interaction's channel as an event.
func (c *Client) messageTarget(i *discordgo.Interaction, id string, author *discordgo.User) bot.Event {
	ev := bot.Event{ID: id, Platform: Platform, Kind: bot.KindMessage, Space: i.GuildID, Channel: i.ChannelID,
		Link: "https://discord.com/channels/" + i.GuildID + "/" + i.ChannelID + "/" + id}
	if ch, ok := c.stateChannel(i.ChannelID); ok && ch.thread {
		ev.Channel, ev.Thread = ch.parentID, ch.id
	}
	if author != nil {
		ev.Author = bot.Author{ID: author.ID, Name: displayName(author, nil)}
	}
	return ev
}

// messageRef reads a message's id from its link in this guild and channel,
// or as the id itself.
func messageRef(s, guild, channel string) (string, bool) {
	s = strings.TrimSpace(s)
	if isSnowflake(s) {
		return s, true
	}
	for _, host := range []string{"https://discord.com/channels/", "https://ptb.discord.com/channels/", "https://canary.discord.com/channels/", "https://discordapp.com/channels/"} {
		rest, ok := strings.CutPrefix(s, host)
		if !ok {
			continue
		}
		p := strings.Split(rest, "/")
		if len(p) == 3 && p[0] == guild && p[1] == channel && isSnowflake(p[2]) {
			return p[2], true
		}
	}
	return "", false
}

// resolvedName is the member's name as the interaction resolved it.
func (c *Client) resolvedName(data discordgo.ApplicationCommandInteractionData, id string) string {
	if data.Resolved == nil {
		return ""
	}
	u := data.Resolved.Users[id]
	if u == nil {
		return ""
	}
	return displayName(u, data.Resolved.Members[id])
}

// lastMessages are the member's last n messages in the interaction's
// channel, newest first, among the channel's last hundred.
func (c *Client) lastMessages(ctx context.Context, i *discordgo.Interaction, member string, n int) ([]bot.Event, error) {
	cctx, cancel := callContext(ctx)
	defer cancel()
	msgs, err := c.sess.ChannelMessages(i.ChannelID, 100, "", "", "", opts(cctx)...)
	if err != nil {
		return nil, c.classify(cctx, "purge", err)
	}
	var out []bot.Event
	for _, m := range msgs {
		if m.Author == nil || m.Author.ID != member {
			continue
		}
		ev := c.messageTarget(i, m.ID, m.Author)
		ev.Text, ev.At = m.Content, cmp.Or(m.Timestamp, snowflakeTime(m.ID))
		out = append(out, ev)
		if len(out) == n {
			break
		}
	}
	return out, nil
}

// maxCardNotes bounds the notes a card shows: the newest.
const maxCardNotes = 3
