package discord

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/drain"
)

// Run connects to the gateway and sends guild messages, edits and joins on out
// until ctx is cancelled; then it closes the connection, waits for the desk work
// under way and returns nil. Once connected, discordgo resumes or reconnects by
// itself after a dropped connection. Run may be called again after it returned.
func (c *Client) Run(ctx context.Context, out chan<- bot.Event) error {
	return c.RunShard(ctx, out, nil)
}

// RunShard runs as Run does, and keeps the shard's memory of the last
// message seen in each channel in mem, for the next Run of the shard, here
// or in another process, to read what was posted while nobody ran it: it
// reads mem as it starts, and writes it every memorySaveEvery and as it
// stops. With a nil mem, or while mem does not answer, the memory is this
// process's own.
func (c *Client) RunShard(ctx context.Context, out chan<- bot.Event, mem ChannelMemory) error {
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("discord: already running")
	}
	defer c.running.Store(false)
	// Stopped (the shard's lease went to another process, or vigie stops),
	// this process no longer sees the shard's guilds: their troubles are
	// the next runner's to find (READY names the guilds vigie is in), not
	// this one's to show on /healthz until it stops. Kept when Run failed:
	// it is tried again here, and they would be told again.
	defer func() {
		if ctx.Err() != nil {
			c.troubles.clear()
		}
	}()
	// The gateway's reading loop hands events to a queue rather than to out:
	// blocked on a slow consumer, it would miss the heartbeat ACKs and discordgo
	// would drop the connection.
	fctx, stopForward := context.WithCancel(ctx)
	held := make(chan *bot.Event, 1)
	go c.forward(fctx, out, held)
	forwarding := true
	stop := func() *bot.Event {
		if !forwarding {
			return nil
		}
		forwarding = false
		stopForward()
		return <-held
	}
	defer stop()
	c.cu.reset()
	c.loadMemory(ctx, mem)
	c.tokenBack() // a refusal seen by an earlier Run is this one's to find again
	// The desk's work the shard takes in (presses, commands) runs under its
	// own claims, not the shard's lease: it ends once taken, also after the
	// lease ran out. The catch-up (runCtx) is the shard's own.
	c.setSink(&sink{ctx: bot.WithoutLeaseHold(fctx), runCtx: ctx, out: c.queue})
	defer c.setSink(nil)

	// Open takes no context: a cancellation cuts the connection it is making.
	c.stopping.Store(false)
	select {
	case <-c.connLost: // an earlier Run's
	default:
	}
	c.link.Down(c.now(), "connecting to the gateway")
	defer func() { c.link.Down(c.now(), "stopped") }()
	c.gw.start()
	opened := make(chan error, 1)
	go func() {
		// A panic in Open is a failed connection, for the daemon to retry.
		var err error = errors.New("discord: panic while connecting to the gateway")
		c.guard.Do("discord gateway", func() { err = c.sess.Open() })
		opened <- err
	}()
	var err error
	select {
	case err = <-opened:
	case <-ctx.Done():
		c.gw.stop()
		err = <-opened
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		refusal := gatewayRefusal(err)
		err = fmt.Errorf("discord: connect to the gateway: %s%s", refusal, c.withoutToken(err))
		c.link.Down(c.now(), err.Error())
		if refusal != "" {
			// Trying again changes nothing until someone acts, and each try
			// starts a session: Discord resets the token of a bot that
			// starts 1,000 in a day.
			return &bot.ActionError{Op: "connect", Retryable: true, RetryAfter: refusedRetry,
				Err: fmt.Errorf("%w (vigie tries again every %s)", err, bot.FormatDuration(refusedRetry))}
		}
		return err
	}
	c.log.Info("connected to the gateway", "shard", c.cfg.ShardID, "shards", c.cfg.ShardCount, "user", c.self())
	var reconnecting sync.WaitGroup
	reconnecting.Go(func() { c.keepConnected(ctx) })
	c.work.Go(ctx, c.clearGlobalCommands)
	wctx, stopWatch := context.WithCancel(ctx)
	var watch sync.WaitGroup
	watch.Go(func() { c.watchToken(wctx) })
	if mem != nil {
		watch.Go(func() { c.keepMemory(wctx, mem) })
	}
	defer watch.Wait()
	defer stopWatch()
	switch d := c.desk.Load(); {
	case len(d.guilds) == 0 && d.channel == "" && len(d.cms) == 0:
		// The starter pack's first run: "only the guilds a CM owns" would
		// read as some guilds.
		c.log.Warn("no guild list (DISCORD_GUILDS, desk.discord_guilds), no desk channel and no Discord CM in desk.cms: vigie moderates no guild yet; list the guilds' ids to moderate them (a guild's id is in the `ignoring guild` log line), or name their owner as a CM")
	case len(d.guilds) == 0 && d.channel == "":
		c.log.Warn("no guild list (DISCORD_GUILDS, desk.discord_guilds) and no desk channel: vigie moderates only the guilds a Discord CM of desk.cms owns, and takes commands from none; list the guilds' ids to moderate them (a guild's id is in the `ignoring guild` log line)")
	}
	<-ctx.Done()
	// A disconnection from here on is Run's own: not lost, not reconnected.
	c.stopping.Store(true)
	c.gw.stop()
	// The reconnection under way ends first: Close is called once no Open
	// can come after it.
	reconnecting.Wait()
	err = c.sess.Close()
	c.cu.stop() // a catch-up ends with ctx
	stopWatch()
	watch.Wait()
	c.setSink(nil)
	// The memory's last write comes after the drain, and does not go past
	// the messages it could not hand over: the next runner reads them again.
	c.cu.rewind(c.drain(stop(), out))
	if mem != nil {
		c.saveMemory(context.WithoutCancel(ctx), mem, c.discordNow())
	}
	c.cu.ending(c.discordNow())
	c.work.Wait()
	c.tells.Wait()
	c.notAsked.AtStop()
	if err != nil {
		c.log.Debug("gateway close", "err", err)
	}
	return nil
}

func (c *Client) setSink(s *sink) {
	c.sinkMu.Lock()
	c.sink = s
	c.sinkMu.Unlock()
}

// forward sends the queued events on out until ctx ends; the event it was
// holding then, if any, goes on held.
func (c *Client) forward(ctx context.Context, out chan<- bot.Event, held chan<- *bot.Event) {
	for {
		select {
		case ev := <-c.queue:
			select {
			case out <- ev:
				c.handed(&ev)
			case <-ctx.Done():
				held <- &ev
				return
			}
		case <-ctx.Done():
			held <- nil
			return
		}
	}
}

// drain hands over first and the queue, once the gateway is closed, for up to
// DrainTimeout: Discord does not send these events again. What is left after it
// is logged by id.
func (c *Client) drain(first *bot.Event, out chan<- bot.Event) (lost []bot.Event) {
	n, lost := drain.Queue(c.queue, first, c.cfg.DrainTimeout, func(ctx context.Context, ev bot.Event) bool {
		select {
		case out <- ev:
			c.handed(&ev)
			return true
		case <-ctx.Done():
			return false
		}
	})
	switch {
	case len(lost) > 0:
		c.log.Error(fmt.Sprintf("%d Discord events received but not evaluated before shutdown", len(lost)),
			"handed_over", n, "lost", len(lost), "events", drain.Keys(lost, bot.Event.Key))
	case n > 0:
		c.log.Info("Discord events received before shutdown handed over", "events", n)
	}
	return lost
}

// addHandlers registers the gateway's handlers. They run on discordgo's
// reading loop (SyncEvents): each recovers its own panic, which would otherwise
// end the process.
func (c *Client) addHandlers() {
	const where = "discord gateway"
	c.sess.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) {
		c.gw.heard()
		defer c.guard.Recover(where)
		// Messages are read here, on the raw event discordgo hands after the
		// typed one: their JSON holds what discordgo does not decode.
		switch ev := e.Struct.(type) {
		case *discordgo.MessageCreate:
			c.messageCreated(ev.Message, e.RawData)
		case *discordgo.MessageUpdate:
			c.messageUpdated(ev.Message, e.RawData)
		case *discordgo.GuildAuditLogEntryCreate:
			c.auditLogEntry(e.RawData)
		}
	})
	c.sess.AddHandler(func(_ *discordgo.Session, _ *discordgo.Connect) {
		c.met.connected.Set(1)
		c.log.Debug("gateway connection open, identifying")
	})
	c.sess.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
		c.met.connected.Set(0)
		if c.stopping.Load() {
			c.link.Down(c.now(), "stopped")
			return
		}
		c.cu.lost(c.discordNow())
		lost := c.link.Down(c.now(), "gateway connection lost; reconnecting")
		c.linkChanged()
		c.connectionLost()
		if lost {
			c.log.Warn("gateway disconnected; reconnecting")
		}
	})
	c.sess.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) {
		c.cu.resumed()
		c.linkUp("resumed")
	})
	c.sess.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		defer c.guard.Recover(where)
		start, from, channels := c.cu.newSession(c.discordNow())
		c.linkUp("new session")
		if r.User != nil {
			c.selfID.Store(r.User.ID)
		}
		c.sessionStarted(start, from, channels)
		if r.Application != nil && r.Application.ID != "" {
			c.appID.Store(r.Application.ID)
		}
		c.absentGuilds(r)
	})
	c.sess.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) {
		defer c.guard.Recover(where)
		defer c.cu.guildCreated() // after discordgo's state took it in
		if g.Guild == nil || g.Unavailable {
			return
		}
		if c.moderates(g.ID) && c.troubles.back(g.ID) {
			c.log.Info("vigie is back in a guild it moderates", "audit", true, "guild", g.ID, "name", g.Name)
			c.tellGuildChange(g.ID, guildIn, fmt.Sprintf("vigie is back in the server %s: it moderates it again.", guildLabel(g.Guild)))
		}
		if !c.moderates(g.ID) {
			c.foreign(g.ID, "guild")
			return
		}
		c.checkPermissions(g.Guild)
		c.checkStaffRoles(g.Guild)
		if !c.commandsFrom(g.ID) {
			// resolveModRoles reads them all
			for _, m := range g.Members {
				c.noteModerator(g.ID, m)
			}
		}
		if c.commandsFrom(g.ID) {
			c.resolveModRoles(g.Guild)
			c.sinkMu.RLock()
			s := c.sink
			c.sinkMu.RUnlock()
			if s != nil {
				c.registerLater(s.ctx, g.ID)
			}
		}
	})
	c.sess.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildDelete) {
		defer c.guard.Recover(where)
		// unavailable: an outage of Discord's, the guild comes back; without
		// it, vigie was kicked or the guild deleted.
		if g.Guild == nil || g.Unavailable || !c.moderates(g.ID) {
			return
		}
		name := ""
		if g.BeforeDelete != nil {
			name = g.BeforeDelete.Name
		}
		if !c.troubles.removed(g.ID, name) {
			return
		}
		// Nothing is moderated there until someone invites vigie again: an
		// error, on the health page, and told on the desk, once.
		c.log.Error("vigie was removed from a guild it moderates: it no longer sees it; invite it again", "audit", true, "guild", g.ID, "name", name)
		c.tellGuildChange(g.ID, guildOut, fmt.Sprintf("vigie was removed from the server %s: nothing there is seen nor moderated until it is invited again.", guildLabel(&discordgo.Guild{ID: g.ID, Name: name})))
	})
	c.sess.AddHandler(func(_ *discordgo.Session, m *discordgo.GuildMemberAdd) {
		defer c.guard.Recover(where)
		c.noteModerator(m.GuildID, m.Member)
		if ev, ok := c.joinEvent(m.Member); ok {
			if c.moderates(ev.Space) {
				c.verifying(&ev)
			}
			c.emitFrom(ev)
			c.emitFrom(profileEvent(ev))
		}
	})
	c.sess.AddHandler(func(_ *discordgo.Session, m *discordgo.GuildMemberUpdate) {
		defer c.guard.Recover(where)
		c.noteModerator(m.GuildID, m.Member)
		if m.Member != nil && m.User != nil {
			// The state has the member's timeout as Discord has it now:
			// given or lifted by vigie, or by hand.
			c.timeouts.forget(m.GuildID, m.User.ID)
		}
		if ev, ok := c.renameEvent(m); ok {
			c.emitFrom(ev)
		}
	})
	c.sess.AddHandler(func(_ *discordgo.Session, t *discordgo.ThreadCreate) {
		defer c.guard.Recover(where)
		if ev, ok := c.threadNameEvent(t.Channel, bot.KindMessage); ok {
			c.emitFrom(ev)
		}
	})
	c.sess.AddHandler(func(_ *discordgo.Session, t *discordgo.ThreadUpdate) {
		defer c.guard.Recover(where)
		if b := t.BeforeUpdate; b != nil && t.Channel != nil && b.Name == t.Name {
			// archived, locked, slowed: the name is as it was read
			return
		}
		if ev, ok := c.threadNameEvent(t.Channel, bot.KindEdit); ok {
			c.emitFrom(ev)
		}
	})
	c.sess.AddHandler(func(_ *discordgo.Session, m *discordgo.GuildMemberRemove) {
		defer c.guard.Recover(where)
		if m.Member != nil && m.User != nil {
			c.mods.forget(m.GuildID, m.User.ID)
		}
	})
	c.sess.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageDelete) {
		defer c.guard.Recover(where)
		c.messageDeleted(m)
	})
	c.sess.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageDeleteBulk) {
		defer c.guard.Recover(where)
		c.messagesDeleted(m.GuildID, m.ChannelID, m.Messages)
	})
	c.sess.AddHandler(func(_ *discordgo.Session, b *discordgo.GuildBanRemove) {
		defer c.guard.Recover(where)
		c.unbanned(b)
	})
	c.sess.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) {
		defer c.guard.Recover(where)
		if i.Interaction != nil {
			c.interaction(i.Interaction)
		}
	})
}

// unbanned tells the handlers (bot.UnbanWatcher) of an unban in a guild vigie
// moderates (GUILD_BAN_REMOVE, intent GUILD_MODERATION), on a desk worker:
// a moderator's in Discord's own app, for vigie to forget the ban's end and
// not lift a ban given by hand since. The event says neither who unbanned
// nor when, and one replayed when the gateway resumes comes late: where
// vigie may view the audit log, the audit log's entry, pushed to it too,
// says both (auditLogEntry), and this event is left to it. Elsewhere the
// handlers take the unban as given just before they are told, and tell
// vigie's own unbans (its lifts, /unban) apart themselves.
func (c *Client) unbanned(b *discordgo.GuildBanRemove) {
	if b.User == nil || b.User.ID == "" || !c.moderates(b.GuildID) {
		return
	}
	if c.viewsAuditLog(b.GuildID) {
		return
	}
	if c.auditLogUnseen.CompareAndSwap(false, true) {
		c.log.Warn("vigie may not view the server's audit log: an unban by hand is taken as given just before Discord told it, "+
			"and one told late (a gateway resumed) may forget a ban given since; give vigie View Audit Log", "guild", b.GuildID)
	}
	member := bot.Event{Platform: Platform, Space: b.GuildID,
		Author: bot.Author{ID: b.User.ID, Name: cmp.Or(b.User.GlobalName, b.User.Username), Username: b.User.Username}}
	c.tellUnban(member, time.Time{}, "")
}

// auditLogEntry takes a GUILD_AUDIT_LOG_ENTRY_CREATE (intent
// GUILD_MODERATION, sent where vigie may view the audit log): an unban
// (MEMBER_BAN_REMOVE) that vigie did not give is told to the handlers with
// when it was given (its id's time, on Discord's clock) and by whom
// (discord:ID), also when a resumed gateway replays it late.
func (c *Client) auditLogEntry(raw []byte) {
	var e struct {
		GuildID    string `json:"guild_id"`
		ID         string `json:"id"`
		UserID     string `json:"user_id"`
		TargetID   string `json:"target_id"`
		ActionType int    `json:"action_type"`
	}
	if json.Unmarshal(raw, &e) != nil || e.ActionType != int(discordgo.AuditLogActionMemberBanRemove) || e.TargetID == "" ||
		!c.moderates(e.GuildID) {
		return
	}
	if e.UserID == c.self() {
		return // vigie's own: its lift or /unban keeps the book
	}
	at, err := discordgo.SnowflakeTimestamp(e.ID)
	if err != nil {
		return
	}
	by := ""
	if e.UserID != "" {
		by = Platform + ":" + e.UserID
	}
	c.tellUnban(bot.Event{Platform: Platform, Space: e.GuildID, Author: bot.Author{ID: e.TargetID}}, at.UTC(), by)
}

// messageDeleted tells the handlers (bot.DeleteWatcher) of a message
// deleted in a guild vigie moderates (MESSAGE_DELETE, intent
// GUILD_MESSAGES), on a desk worker: the cards of an open case about it say
// it is gone. The event says neither who deleted it nor when: it is taken as
// deleted when told.
func (c *Client) messageDeleted(m *discordgo.MessageDelete) {
	if m.Message == nil {
		return
	}
	c.messagesDeleted(m.GuildID, m.ChannelID, []string{m.ID})
}

// messagesDeleted tells the handlers of the messages ids of channel deleted
// in guild, one MESSAGE_DELETE's or a MESSAGE_DELETE_BULK's (a moderator's
// or a bot's purge, up to 100), each as a single delete is told, one after
// the other on one desk worker.
func (c *Client) messagesDeleted(guild, channel string, ids []string) {
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == "" })
	if len(ids) == 0 || guild == "" || !c.moderates(guild) {
		return
	}
	w, ok := c.cmds().(bot.DeleteWatcher)
	if !ok {
		return
	}
	c.sinkMu.RLock()
	s := c.sink
	c.sinkMu.RUnlock()
	if s == nil {
		return
	}
	at := c.now()
	c.work.Go(s.ctx, func(ctx context.Context) {
		for _, id := range ids {
			if ctx.Err() != nil {
				return
			}
			w.MessageDeleted(ctx, bot.Event{Platform: Platform, Kind: bot.KindMessage, Space: guild, Channel: channel, ID: id}, at)
		}
	})
}

// tellUnban tells the handlers of member's unban, on a desk worker.
func (c *Client) tellUnban(member bot.Event, at time.Time, by string) {
	w, ok := c.cmds().(bot.UnbanWatcher)
	if !ok {
		return
	}
	c.sinkMu.RLock()
	s := c.sink
	c.sinkMu.RUnlock()
	if s == nil {
		return
	}
	c.work.Go(s.ctx, func(ctx context.Context) { w.Unbanned(ctx, member, at, by) })
}

// viewsAuditLog says whether vigie may view guild's audit log, by its roles
// as the state has them.
func (c *Client) viewsAuditLog(guild string) bool {
	g, err := c.sess.State.Guild(guild)
	if err != nil {
		return false
	}
	me, ok := c.stateMember(guild, c.self())
	if !ok {
		return false
	}
	c.sess.State.RLock()
	perms := guildPermissions(g, me)
	c.sess.State.RUnlock()
	return perms&(discordgo.PermissionViewAuditLogs|discordgo.PermissionAdministrator) != 0
}

// messageCreated takes a MESSAGE_CREATE: m as discordgo decoded it, raw its
// JSON.
func (c *Client) messageCreated(m *discordgo.Message, raw []byte) {
	if m == nil {
		return
	}
	if m.GuildID != "" && c.moderates(m.GuildID) {
		c.clock.sawID(m.ID)
		c.cu.note(m.GuildID, m.ChannelID, m.ID, c.discordNow())
		if m.Member != nil && m.Author != nil && !m.Author.Bot {
			// a moderator who writes is known by their names at once
			mem, u := *m.Member, *m.Author
			mem.User = &u
			c.noteModerator(m.GuildID, &mem)
		}
	}
	c.gatewayEvent(m, raw, bot.KindMessage)
}

// messageUpdated takes a MESSAGE_UPDATE.
func (c *Client) messageUpdated(m *discordgo.Message, raw []byte) {
	c.gatewayEvent(m, raw, bot.KindEdit)
}

// gatewayEvent emits the event of a message the gateway sent, read whole.
func (c *Client) gatewayEvent(m *discordgo.Message, raw []byte, kind bot.Kind) {
	msg, err := gatewayMessage(m, raw)
	if err != nil {
		// discordgo decoded the message; what it left out is unread.
		c.log.Warn("a message's forward or poll not read; judged on the rest", "message", m.ID, "err", err)
	}
	if ev, ok := c.messageEvent(msg, kind); ok {
		c.emitFrom(ev)
	}
}

// linkUp marks the gateway connection up, and says so when it came back.
func (c *Client) linkUp(how string) {
	back := c.link.Up(c.now())
	c.linkChanged()
	refused := c.tokenBack()
	if back && c.connectedOnce.Swap(true) {
		if refused {
			c.log.Info("gateway reconnected: Discord takes the token again", "session", how)
			return
		}
		c.log.Info("gateway reconnected", "session", how)
	}
}

// queueSize is how many events may wait for the consumer before the gateway's
// reading loop waits too.
const queueSize = 4096

// emitFrom emits ev when vigie moderates its guild, and counts it otherwise.
func (c *Client) emitFrom(ev bot.Event) {
	if !c.moderates(ev.Space) {
		c.foreign(ev.Space, string(ev.Kind))
		return
	}
	c.emit(ev)
}

// emit queues ev for Run's consumer; it gives up when Run's context ends.
func (c *Client) emit(ev bot.Event) { c.emitUntil(nil, ev) }

// emitUntil is emit, giving up also when ctx (if not nil) ends; it reports
// whether ev was queued.
func (c *Client) emitUntil(ctx context.Context, ev bot.Event) bool {
	c.sinkMu.RLock()
	s := c.sink
	c.sinkMu.RUnlock()
	if s == nil {
		return false
	}
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	c.met.events.WithLabelValues(string(ev.Kind)).Inc()
	c.link.Event(c.now())
	if ev.Kind == bot.KindMessage {
		// Not judged until told: a queued message that is not handed over
		// (Run stops) stays so, for the next runner to read again.
		c.cu.handedOver(ev.Space, cmp.Or(ev.Thread, ev.Channel), ev.ID, c.discordNow())
	}
	select {
	case s.out <- ev:
		return true
	default:
	}
	c.log.Warn("event queue full: the gateway waits for the rules to catch up", "queued", queueSize)
	select {
	case s.out <- ev:
		return true
	case <-s.ctx.Done():
	case <-done:
	}
	return false
}

// messageEvent maps a guild message, or its edit, to an event. Bots, webhooks,
// system messages, DMs and vigie itself are left out; so are updates that are not
// edits of the text (Discord sends one when it adds a link preview).
func (c *Client) messageEvent(m *wireMessage, kind bot.Kind) (bot.Event, bool) {
	if m == nil || m.Message == nil || m.Author == nil || m.GuildID == "" || m.Author.Bot || m.Author.System || m.WebhookID != "" {
		return bot.Event{}, false
	}
	if m.Author.ID == c.self() {
		return bot.Event{}, false
	}
	switch m.Type {
	case discordgo.MessageTypeDefault, discordgo.MessageTypeReply:
	default:
		return bot.Event{}, false
	}
	ev := bot.Event{
		ID:       m.ID,
		Platform: Platform,
		Kind:     kind,
		Space:    m.GuildID,
		Channel:  m.ChannelID,
		Text:     m.Content,
		At:       m.Timestamp,
		Link:     "https://discord.com/channels/" + m.GuildID + "/" + m.ChannelID + "/" + m.ID,
	}
	shown(&ev, m.Attachments, m.Embeds, m.Poll)
	if kind == bot.KindEdit {
		if m.EditedTimestamp == nil {
			return bot.Event{}, false
		}
		// Each edit is its own event: a redelivery of the same edit has the same
		// id and is dropped by the store, a later edit is checked again.
		ev.ID = editID(m.ID, *m.EditedTimestamp)
		ev.At = *m.EditedTimestamp
	}
	if ev.At.IsZero() {
		ev.At = snowflakeTime(m.ID)
	}
	if ch, ok := c.stateChannel(m.ChannelID); ok && ch.thread {
		ev.Channel, ev.Thread = ch.parentID, ch.id
		// A forum post's starter message has the post's id, and its title is
		// the thread's name: what the member wrote too, where a scam or a slur
		// would otherwise go unread.
		if parent, ok := c.stateChannel(ch.parentID); ok && parent.posts && m.ID == ch.id && ch.name != "" {
			ev.Text = strings.TrimSpace(ch.name + "\n" + ev.Text)
		}
	}
	if r := m.MessageReference; r != nil {
		switch {
		case m.forward():
			ev.Forward = &bot.Forward{From: truncate(c.placeName(m.GuildID, r), bot.MaxNameLen/4)}
			for _, snap := range m.Snapshots {
				if s := snap.Message; s != nil {
					ev.Forward.Text = strings.TrimSpace(ev.Forward.Text + "\n" + s.Content)
					shown(&ev, s.Attachments, s.Embeds, s.Poll)
				}
			}
		default:
			ev.ReplyTo = r.MessageID
		}
	}
	member := m.Member
	if member == nil {
		member, _ = c.stateMember(m.GuildID, m.Author.ID)
	}
	ev.Author = c.author(m.GuildID, m.Author, member)
	if member == nil || !c.guildDescribed(m.GuildID) {
		// The guild's roles and owner come with its GUILD_CREATE, after
		// READY; a member's roles with the message or the state. Until
		// both are known, whether the author is staff is not: the handlers
		// ask ResolveRoles, and act only on a known member.
		ev.Author.RolesUnknown = true
	}
	return ev, true
}

// ResolveRoles finds out whether the author of ev, sent out with roles
// unknown (its guild not described yet, or the member not known), is staff:
// it waits for the guild's GUILD_CREATE, bounded by ctx, then reads the
// member from the state, or from Discord.
func (c *Client) ResolveRoles(ctx context.Context, ev bot.Event) (roles []string, staff, known bool) {
	if ev.Platform != Platform || ev.Space == "" || ev.Author.ID == "" || placeIDs(ev) != nil || !c.waitGuild(ctx, ev.Space) {
		return nil, false, false
	}
	member, err := c.readMember(ctx, ev.Space, ev.Author.ID)
	if err != nil {
		c.log.Warn("member not read; their roles stay unknown", "guild", ev.Space, "user", ev.Author.ID, "err", err)
		return nil, false, false
	}
	// without a member: not in the guild (any more), staff only as its owner
	a := c.author(ev.Space, &discordgo.User{ID: ev.Author.ID, Username: ev.Author.Username, Bot: ev.Author.Bot}, member)
	return a.Roles, a.Staff, true
}

// readMember is the member user of guild as the state holds them, else as
// Discord says; nil, and no error, when they are not in the guild.
func (c *Client) readMember(ctx context.Context, guild, user string) (*discordgo.Member, error) {
	if m, ok := c.stateMember(guild, user); ok {
		return m, nil
	}
	if c.strangers.has(guild, user, c.now()) {
		return nil, nil
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	m, err := c.sess.GuildMember(guild, user, opts(cctx)...)
	err = c.classify(cctx, "read member", err)
	switch {
	case err == nil:
		// Kept in the state, where the gateway's member updates keep it
		// true: the author's next events, posted over HTTP as often as the
		// poster likes, are not asked about again, nor a CM's name on the
		// next card.
		if m.User != nil {
			// A copy: the state's is written under its lock by the
			// gateway's updates, while this one is read after.
			cp, u := *m, *m.User
			cp.User, cp.GuildID = &u, guild
			_ = c.sess.State.MemberAdd(&cp)
			c.noteModerator(guild, &cp)
		}
		return m, nil
	case apiCode(err) == codeUnknownMember:
		// Remembered a while: should they join, the gateway's
		// GUILD_MEMBER_ADD puts them in the state, which is read first.
		c.strangers.add(guild, user, c.now())
		return nil, nil
	}
	return nil, err
}

// shown adds what a message shows besides its content to ev: its attachments
// (their count and names), embeds and poll. A forward's snapshot adds its own.
func shown(ev *bot.Event, attachments []*discordgo.MessageAttachment, embeds []*discordgo.MessageEmbed, p *poll) {
	ev.Attachments += len(attachments)
	for _, a := range attachments {
		if a != nil && a.Filename != "" {
			ev.Files = append(ev.Files, a.Filename)
		}
	}
	for _, e := range embeds {
		if e == nil {
			continue
		}
		em := bot.Embed{Title: e.Title, Description: e.Description, URL: e.URL}
		if e.Author != nil {
			em.Author, em.AuthorURL = e.Author.Name, e.Author.URL
		}
		if e.Footer != nil {
			em.Footer = e.Footer.Text
		}
		for _, f := range e.Fields {
			if f != nil {
				em.Fields = append(em.Fields, bot.EmbedField{Name: f.Name, Value: f.Value})
			}
		}
		ev.Embeds = append(ev.Embeds, em)
	}
	if p != nil {
		ev.Poll = &bot.Poll{Question: p.Question.Text}
		for _, a := range p.Answers {
			if a.Media != nil && a.Media.Text != "" {
				ev.Poll.Options = append(ev.Poll.Options, a.Media.Text)
			}
		}
	}
}

// placeName names where a forwarded message came from as the gateway knows
// it: #channel in this guild, the guild's name otherwise, "" when unknown.
func (c *Client) placeName(guildID string, r *discordgo.MessageReference) string {
	if r.GuildID != "" && r.GuildID != guildID {
		if g, ok := c.stateGuild(r.GuildID); ok && g.name != "" {
			return g.name
		}
		return ""
	}
	if ch, ok := c.stateChannel(r.ChannelID); ok && ch.name != "" {
		return "#" + ch.name
	}
	return ""
}

// editID names one edit of a message: the message id and the edit's time.
func editID(msgID string, at time.Time) string {
	return msgID + "@" + strconv.FormatInt(at.UnixMilli(), 10)
}

// messageID is the Discord message an event is about, edits included; ""
// for a thread's name, which is no message.
func messageID(ev bot.Event) string {
	if namesThread(ev) {
		return ""
	}
	id, _, _ := strings.Cut(ev.ID, "@")
	return id
}

// threadIDPrefix starts the id of the event of a thread's name.
const threadIDPrefix = "thread-"

// namesThread reports whether ev is the name of a thread, as a member created
// or renamed it in a text channel.
func namesThread(ev bot.Event) bool {
	return ev.Thread != "" && strings.HasPrefix(ev.ID, threadIDPrefix)
}

// threadNameEvent is the name of a thread a member started (kind message) or
// renamed (kind edit) in a text channel: shown to everyone in the channel,
// above any message in it, where a scam or a slur would otherwise go unread.
// A forum post's title is read with its first message instead. Its id holds a
// digest of the name, so that the same name seen again (a thread vigie is
// added to, a rename back) is a duplicate the store drops; it is no message
// id, since a thread started from a message has that message's id.
func (c *Client) threadNameEvent(ch *discordgo.Channel, kind bot.Kind) (bot.Event, bool) {
	if ch == nil || !ch.IsThread() || ch.GuildID == "" || ch.ParentID == "" || ch.OwnerID == "" || ch.OwnerID == c.self() || ch.Name == "" {
		return bot.Event{}, false
	}
	if parent, ok := c.stateChannel(ch.ParentID); ok && parent.posts {
		return bot.Event{}, false
	}
	h := fnv.New64a()
	h.Write([]byte(ch.Name))
	at := snowflakeTime(ch.ID)
	if kind == bot.KindEdit {
		at = c.discordNow()
	}
	ev := bot.Event{
		ID:       threadIDPrefix + ch.ID + "-" + strconv.FormatUint(h.Sum64(), 16),
		Platform: Platform,
		Kind:     kind,
		Space:    ch.GuildID,
		Channel:  ch.ParentID,
		Thread:   ch.ID,
		Text:     ch.Name,
		At:       at,
		Link:     "https://discord.com/channels/" + ch.GuildID + "/" + ch.ID,
	}
	member, _ := c.stateMember(ch.GuildID, ch.OwnerID)
	user := &discordgo.User{ID: ch.OwnerID}
	if member != nil && member.User != nil {
		user = member.User
	}
	if user.Bot {
		return bot.Event{}, false
	}
	ev.Author = c.author(ch.GuildID, user, member)
	if member == nil || !c.guildDescribed(ch.GuildID) {
		// as for a message: the handlers ask ResolveRoles
		ev.Author.RolesUnknown = true
	}
	return ev, true
}

// joinEvent maps a member's arrival to a join event.
func (c *Client) joinEvent(m *discordgo.Member) (bot.Event, bool) {
	if m == nil || m.User == nil || m.GuildID == "" || m.User.Bot {
		return bot.Event{}, false
	}
	at := m.JoinedAt
	if at.IsZero() {
		at = c.discordNow()
	}
	return bot.Event{
		ID:       "join-" + m.GuildID + "-" + m.User.ID + "-" + strconv.FormatInt(at.UnixMilli(), 10),
		Platform: Platform,
		Kind:     bot.KindJoin,
		Space:    m.GuildID,
		Author:   c.author(m.GuildID, m.User, m),
		At:       at,
	}, true
}

// profileEvent is the profile event of a join or of a change of names: the
// member's names to judge. Its id holds a digest of the names, so that the
// same names seen again (an update of roles only) are a duplicate the store drops.
func profileEvent(from bot.Event) bot.Event {
	h := fnv.New64a()
	h.Write([]byte(from.Author.Name + "\x00" + from.Author.Username))
	return bot.Event{
		ID:       "profile-" + from.Space + "-" + from.Author.ID + "-" + strconv.FormatUint(h.Sum64(), 16),
		Platform: Platform,
		Kind:     bot.KindProfile,
		Space:    from.Space,
		Author:   from.Author,
		At:       from.At,
	}
}

// renameEvent is the profile event of a member who changed names (nickname,
// display name or username): GUILD_MEMBER_UPDATE also comes for roles, a
// timeout or an avatar, which leave the names as they were. Without the member
// as it was (not in the state), the names are judged again; the store drops
// them as a duplicate when they did not change.
func (c *Client) renameEvent(m *discordgo.GuildMemberUpdate) (bot.Event, bool) {
	if m.Member == nil || m.User == nil || m.GuildID == "" || m.User.Bot {
		return bot.Event{}, false
	}
	if b := m.BeforeUpdate; b != nil && b.User != nil &&
		displayName(b.User, b) == displayName(m.User, m.Member) && b.User.Username == m.User.Username {
		return bot.Event{}, false
	}
	if m.Member.Nick == NeutralNick {
		// The name vigie gave when it took theirs off: judging the names
		// under it again would sanction the member twice for one name.
		return bot.Event{}, false
	}
	return profileEvent(bot.Event{Space: m.GuildID, Author: c.author(m.GuildID, m.User, m.Member), At: c.discordNow()}), true
}

// author describes a member: roles by name (the id when the name is unknown),
// staff when they hold a staff role, administer the guild or own it.
func (c *Client) author(guildID string, u *discordgo.User, m *discordgo.Member) bot.Author {
	a := bot.Author{ID: u.ID, Name: displayName(u, m), Username: u.Username, Bot: u.Bot, CreatedAt: snowflakeTime(u.ID)}
	if m == nil {
		return a
	}
	a.JoinedAt = m.JoinedAt
	var perms int64
	for _, id := range m.Roles {
		name := id
		if r, err := c.sess.State.Role(guildID, id); err == nil {
			name = r.Name
			perms |= r.Permissions
		}
		a.Roles = append(a.Roles, name)
		if matchRole(c.cfg.StaffRoles, id, name) {
			a.Staff = true
		}
	}
	if perms&discordgo.PermissionAdministrator != 0 {
		a.Staff = true
	}
	if g, ok := c.stateGuild(guildID); ok && g.owner == u.ID {
		a.Staff = true
	}
	return a
}

// matchRole reports whether a role (by id, or by name without regard to case) is
// in list.
func matchRole(list []string, id, name string) bool {
	for _, r := range list {
		if r == id || strings.EqualFold(r, name) {
			return true
		}
	}
	return false
}

func displayName(u *discordgo.User, m *discordgo.Member) string {
	switch {
	case m != nil && m.Nick != "":
		return m.Nick
	case u.GlobalName != "":
		return u.GlobalName
	}
	return u.Username
}

// snowflakeTime is when a Discord id was made: an account's creation time.
func snowflakeTime(id string) time.Time {
	t, err := discordgo.SnowflakeTimestamp(id)
	if err != nil || id == "" {
		return time.Time{}
	}
	return t.UTC()
}

// refusedRetry is how long Run asks to wait before the next try after the
// gateway refused the token or the intents: about 144 sessions a day, as
// discordgo's own reconnections come at most every 10 minutes.
const refusedRetry = 10 * time.Minute

// gatewayRefusal says what to do about a gateway that closed the connection
// for good, as Discord's close codes mean it ("" for any other failure):
// trying again changes nothing until someone acts. Discord's documentation
// lists 4004 and 4010 to 4014 as the codes not to reconnect after.
func gatewayRefusal(err error) string {
	// A token wrong from the start is refused by the REST call that asks
	// for the gateway's address, before any close code.
	if re, ok := errors.AsType[*discordgo.RESTError](err); ok && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized {
		return tokenRefusedHelp + ": "
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return ""
	}
	switch ce.Code {
	case 4004:
		return tokenRefusedHelp + ": "
	case 4014:
		return "Discord refused the gateway intents vigie asks for: turn on Server Members Intent and Message Content Intent " +
			"in the Developer Portal (your application, Bot, Privileged Gateway Intents; a bot in 100 servers or more needs " +
			"them granted by Discord): "
	case 4010, 4011:
		// The bot grew past what one connection may carry (2,500 servers),
		// or the shard count was set by hand below Discord's least.
		return "Discord requires shards, or more of them, for this bot: set DISCORD_SHARD_COUNT=auto on every instance " +
			"(Discord's recommendation), or a count at least as large as GET /gateway/bot's: "
	case 4012, 4013:
		// vigie's own gateway version or intents: a vigie too old for Discord.
		return "Discord refused the gateway version or intents this vigie asks for: update vigie: "
	}
	return ""
}

var _ bot.MessageNamer = (*Client)(nil)

// MessageOf is bot.MessageNamer's: the message's id, for the message and
// each of its edits ("ID@EDITED_MS").
func (c *Client) MessageOf(ev bot.Event) string {
	switch ev.Kind {
	case bot.KindMessage, bot.KindEdit, bot.KindDM:
		return messageID(ev)
	}
	return ""
}
