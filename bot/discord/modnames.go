package discord

import (
	"sync"

	"github.com/bwmarrin/discordgo"
)

// maxModerators bounds the moderators kept of a guild: a moderator role
// that most members hold (written in DISCORD_MODERATOR_ROLES by mistake)
// cannot make every card compare its author with thousands of names.
const maxModerators = 200

// moderators are the members of each guild who hold a moderator role
// (DISCORD_MODERATOR_ROLES), by the names Discord shows of them, as the
// gateway told them (its GUILD_CREATE, the members who join, change or
// write, those vigie asked about): what a card compares its author with,
// besides the CMs of desk.cms, without asking Discord for a guild's members.
type moderators struct {
	mu sync.Mutex
	// by are the moderators by guild, then by user id.
	by map[string]map[string]modNames
}

// modNames are the names Discord shows of a moderator.
type modNames struct{ nick, global, username string }

// note keeps or forgets the member m of guild as a moderator, as isMod
// reads their roles.
func (ms *moderators) note(guild string, m *discordgo.Member, isMod func(roles []string) bool) {
	if m == nil || m.User == nil || guild == "" {
		return
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.noteLocked(guild, m, isMod)
}

// noteLocked is note, ms.mu held.
func (ms *moderators) noteLocked(guild string, m *discordgo.Member, isMod func(roles []string) bool) {
	g := ms.by[guild]
	if !isMod(m.Roles) {
		delete(g, m.User.ID)
		return
	}
	if g == nil {
		if ms.by == nil {
			ms.by = map[string]map[string]modNames{}
		}
		g = map[string]modNames{}
		ms.by[guild] = g
	}
	if _, ok := g[m.User.ID]; ok || len(g) < maxModerators {
		g[m.User.ID] = modNames{nick: m.Nick, global: m.User.GlobalName, username: m.User.Username}
	}
}

// forget forgets the user of guild (they left).
func (ms *moderators) forget(guild, user string) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	delete(ms.by[guild], user)
}

// of are the moderators of guild, by user id: a copy.
func (ms *moderators) of(guild string) map[string]modNames {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	out := make(map[string]modNames, len(ms.by[guild]))
	for id, n := range ms.by[guild] {
		out[id] = n
	}
	return out
}

// noteModerator keeps or forgets the member m of guild as a moderator.
func (c *Client) noteModerator(guild string, m *discordgo.Member) {
	c.mods.note(guild, m, c.isModerator)
}

// readModerators reads again the moderators of every guild the state
// holds, when the moderator roles' ids changed (a role named in
// DISCORD_MODERATOR_ROLES found as a guild was described, a reload): once,
// not at each card.
func (c *Client) readModerators() {
	st := c.sess.State
	type member struct {
		guild string
		m     discordgo.Member
	}
	var members []member
	// The gateway's notes wait for the read: none is lost to it.
	c.mods.mu.Lock()
	defer c.mods.mu.Unlock()
	st.RLock()
	for _, g := range st.Guilds {
		for _, m := range g.Members {
			if m == nil || m.User == nil {
				continue
			}
			cp, u := *m, *m.User
			cp.User = &u
			members = append(members, member{g.ID, cp})
		}
	}
	st.RUnlock()
	c.mods.by = nil
	for _, m := range members {
		c.mods.noteLocked(m.guild, &m.m, c.isModerator)
	}
}
