package discord

import "github.com/bwmarrin/discordgo"

// discordgo's state changes its guilds, channels and members in place, under
// State's lock, on the gateway's loop (a GUILD_UPDATE, CHANNEL_UPDATE or
// GUILD_MEMBER_UPDATE overwrites the struct its maps point to), while the
// catch-up, the desk's workers and the actions read them from their own
// goroutines. What vigie reads of them is copied here under the read lock.
// Roles are the exception: the state replaces a role, never changes one, so
// State.Role's may be read as they are.

// cachedChannel is what vigie reads of a channel or thread the gateway described.
type cachedChannel struct {
	id, guildID, parentID, name string
	thread                      bool
	// posts marks a forum or media channel, whose threads are posts with a
	// title.
	posts bool
}

// stateChannel is the channel id as the state holds it, if it does.
func (c *Client) stateChannel(id string) (cachedChannel, bool) {
	st := c.sess.State
	ch, err := st.Channel(id)
	if err != nil {
		return cachedChannel{}, false
	}
	st.RLock()
	defer st.RUnlock()
	return cachedChannel{id: ch.ID, guildID: ch.GuildID, parentID: ch.ParentID, name: ch.Name, thread: ch.IsThread(),
		posts: ch.Type == discordgo.ChannelTypeGuildForum || ch.Type == discordgo.ChannelTypeGuildMedia}, true
}

// cachedGuild is what vigie reads of a guild the gateway described.
type cachedGuild struct {
	id, name, owner string
	// described is true once a GUILD_CREATE described it, roles included
	// (READY lists it as unavailable).
	described bool
}

// stateGuild is the guild id as the state holds it, if it does.
func (c *Client) stateGuild(id string) (cachedGuild, bool) {
	st := c.sess.State
	g, err := st.Guild(id)
	if err != nil {
		return cachedGuild{}, false
	}
	st.RLock()
	defer st.RUnlock()
	return cachedGuild{id: g.ID, name: g.Name, owner: g.OwnerID, described: !g.Unavailable && len(g.Roles) > 0}, true
}

// label names a guild in the log: its name and id, or its id alone.
func (g cachedGuild) label() string {
	if g.name == "" {
		return g.id
	}
	return g.name + " (" + g.id + ")"
}

// stateMember is a copy of the member of guild with the user id user as the
// state holds it, if it does. The state replaces a member's slices rather
// than changing them, so the copy's may be read without the lock; its user
// is copied too (a PRESENCE_UPDATE changes the state's in place).
func (c *Client) stateMember(guild, user string) (*discordgo.Member, bool) {
	st := c.sess.State
	m, err := st.Member(guild, user)
	if err != nil {
		return nil, false
	}
	st.RLock()
	defer st.RUnlock()
	cp := *m
	if m.User != nil {
		u := *m.User
		cp.User = &u
	}
	return &cp, true
}
