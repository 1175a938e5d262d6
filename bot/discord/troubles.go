package discord

import (
	"fmt"
	"slices"
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

// troubles keeps the guilds vigie moderates and was removed from (a
// GUILD_DELETE without unavailable), or that it found itself not in when it
// connected (a listed guild READY does not name), by id: for /healthz and
// the console's Health page, which the CMs read rather than the log, until
// the guild is back (a GUILD_CREATE once vigie is invited again).
type troubles struct {
	mu     sync.Mutex
	guilds map[string]guildTrouble
}

// guildTrouble is a guild vigie is not in.
type guildTrouble struct {
	name string // "" unknown
	// absent: not among vigie's guilds when it connected (removed while
	// it was not connected, or never invited), rather than seen removed
	absent bool
}

// removed records that vigie was removed from guild; false when it was known.
func (t *troubles) removed(guild, name string) bool {
	return t.add(guild, guildTrouble{name: name})
}

// absent records that vigie found itself not in guild when it connected;
// false when it was known.
func (t *troubles) absent(guild string) bool {
	return t.add(guild, guildTrouble{absent: true})
}

func (t *troubles) add(guild string, g guildTrouble) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.guilds == nil {
		t.guilds = map[string]guildTrouble{}
	}
	_, known := t.guilds[guild]
	t.guilds[guild] = g
	return !known
}

// back records that vigie is in guild again; true when it had been removed.
func (t *troubles) back(guild string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, was := t.guilds[guild]
	delete(t.guilds, guild)
	return was
}

// clear forgets them all: the shard is no longer this process's to watch.
func (t *troubles) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.guilds)
}

var _ bot.Troubler = (*Client)(nil)

// Troubles lists, sorted, the guilds vigie moderates and was removed from,
// and the host's clock when it is more than a minute off Discord's.
func (c *Client) Troubles() []string {
	var out []string
	if tr := c.clock.trouble(); tr != "" {
		out = append(out, tr)
	}
	t := &c.troubles
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, g := range t.guilds {
		if !c.moderates(id) {
			continue // no longer vigie's to look after: a reload took it out
		}
		place := id
		if g.name != "" {
			place = fmt.Sprintf("%q (%s)", g.name, id)
		}
		what := removedTrouble
		if g.absent {
			what = absentTrouble
		}
		out = append(out, fmt.Sprintf("discord guild %s: %s", place, what))
	}
	slices.Sort(out)
	return out
}

// removedTrouble is what a guild vigie was removed from costs.
const removedTrouble = "vigie was removed from this guild: it no longer sees it nor moderates it; invite it again"

// absentTrouble is what a listed guild vigie is not in costs.
const absentTrouble = "vigie is not in this guild (removed from it while not connected, or never invited): it does not see it nor moderate it; invite it"

// absentGuilds records the guilds listed to be moderated (Guilds) that are
// this shard's and that READY does not name among vigie's (r): vigie was
// removed from them while it was not connected (a restart, the shard run by
// another process), or never invited. A GUILD_DELETE told of the first
// kind only to the process connected then; each is an error, on the health
// page and told on the desk, once, as a removal seen.
func (c *Client) absentGuilds(r *discordgo.Ready) {
	in := make(map[string]bool, len(r.Guilds))
	for _, g := range r.Guilds {
		if g != nil {
			in[g.ID] = true
		}
	}
	for id := range c.desk.Load().guilds {
		if in[id] || ShardOf(id, c.sess.ShardCount) != c.sess.ShardID || !c.troubles.absent(id) {
			continue
		}
		c.log.Error("vigie is not in a guild it moderates: it does not see it; invite it", "audit", true, "guild", id)
		c.tellGuildChange(id, guildOut, fmt.Sprintf("vigie is not in the server %s: nothing there is seen nor moderated until it is invited.", id))
	}
}

// The states of a guild told to the desk (Config.Told): vigie out of it
// (removed, or found not in it), or in it again.
const (
	guildOut = "out"
	guildIn  = "in"
)

// tellGuildChange posts text, that vigie is now state in guild, to the desk
// channel, in the background, once Run runs, unless another process on the
// store told it (Config.Told): the next runner of a shard finds at its READY
// what the last one told. A failure is logged (the desk channel may be in
// the guild vigie left).
func (c *Client) tellGuildChange(guild, state, text string) {
	c.sinkMu.RLock()
	s := c.sink
	c.sinkMu.RUnlock()
	if s == nil || c.desk.Load().channel == "" {
		return
	}
	c.work.Add()
	go func() {
		defer c.work.Done()
		defer c.guard.Recover("discord desk")
		if !c.told.First("discord guild "+guild, state, c.cfg.Now()) {
			c.log.Info("a guild vigie is out of or back in: another process told the desk", "guild", guild, "state", state)
			return
		}
		ctx, cancel := reportContext(s.ctx)
		defer cancel()
		if err := (&Desk{c: c}).Alert(ctx, text); err != nil {
			c.log.Warn("the desk channel was not told of a guild vigie was removed from or is back in", "err", err)
		}
	}()
}
