package discord

import (
	"fmt"
	"slices"
	"sync"

	"github.com/vigie-bot/vigie/bot"
)

// troubles keeps the guilds vigie moderates and was removed from (a
// GUILD_DELETE without unavailable), by id, with their names: for /healthz
// and the console's Health page, which the CMs read rather than the log,
// until the guild is back (a GUILD_CREATE once vigie is invited again).
type troubles struct {
	mu     sync.Mutex
	guilds map[string]string // id → name ("" unknown)
}

// removed records that vigie was removed from guild; false when it was known.
func (t *troubles) removed(guild, name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.guilds == nil {
		t.guilds = map[string]string{}
	}
	_, known := t.guilds[guild]
	t.guilds[guild] = name
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

var _ bot.Troubler = (*Client)(nil)

// Troubles lists, sorted, the guilds vigie moderates and was removed from.
func (c *Client) Troubles() []string {
	t := &c.troubles
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.guilds))
	for id, name := range t.guilds {
		if !c.moderates(id) {
			continue // no longer vigie's to look after: a reload took it out
		}
		place := id
		if name != "" {
			place = fmt.Sprintf("%q (%s)", name, id)
		}
		out = append(out, fmt.Sprintf("discord guild %s: %s", place, removedTrouble))
	}
	slices.Sort(out)
	return out
}

// removedTrouble is what a guild vigie was removed from costs.
const removedTrouble = "vigie was removed from this guild: it no longer sees it nor moderates it; invite it again"

// tellGuildChange posts text to the desk channel, in the background, once
// Run runs; a failure is logged (the desk channel may be in the guild vigie
// left).
func (c *Client) tellGuildChange(text string) {
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
		ctx, cancel := reportContext(s.ctx)
		defer cancel()
		if err := (&Desk{c: c}).Alert(ctx, text); err != nil {
			c.log.Warn("the desk channel was not told of a guild vigie was removed from or is back in", "err", err)
		}
	}()
}
