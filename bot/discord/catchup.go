package discord

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

// Bounds of the catch-up after a lost session: the channels read, how far
// back, and how many pages of 100 messages each.
const (
	catchupChannels = 50
	catchupWindow   = 10 * time.Minute
	catchupPages    = 2
	catchupPageSize = 100
	// catchupMaxWait is the longest the catch-up waits out rate limits for a
	// page or a member, in all; longer leaves the channel unread, or the
	// author's roles unknown.
	catchupMaxWait = 30 * time.Second
	// catchupLimitFloor is the least the catch-up waits after a rate limit:
	// one said to end in 0s ends within the millisecond.
	catchupLimitFloor = 50 * time.Millisecond
	// catchupRetry is how long the catch-up waits before asking a page
	// again after a 5xx or a connection cut, doubled the second time.
	catchupRetry = time.Second
	// editMargin widens the gap for edits: Discord's clock and ours may
	// disagree by a little. An edit delivered and judged before the gap,
	// found again, has the same id and the store drops it.
	editMargin = 10 * time.Second
	// guildWait is how long a catch-up waits, in all, for the GUILD_CREATE
	// of the guilds it reads after the new session's READY: without it a
	// guild's roles and owner are unknown, so is who is staff. One deadline
	// for the whole catch-up: with many guilds unavailable (a Discord
	// outage) the later channels do not wait a minute for each.
	guildWait = time.Minute
	// seenKept is how many channels' last messages are remembered.
	seenKept = 4 * catchupChannels
	// memorySaveEvery is how often the shard's memory of the channels is
	// written to the store: the channels whose mark moved, each mark the
	// last message before the first one not judged yet. The next runner of
	// a process killed reads again from there (and the store drops what
	// was judged as duplicates).
	memorySaveEvery = 5 * time.Second
	// unjudgedKept is how many messages received and not judged yet are
	// followed, in all channels: more than the daemon's queues hold (64
	// events, then 256 for each of 32 evaluators on Redis). Past it the
	// oldest of a channel are let go, logged: the mark moves past them.
	unjudgedKept = 10_000
	// memoryTimeout bounds a read or a write of the memory.
	memoryTimeout = 5 * time.Second
	// memoryTTL is how long the store keeps a memory nobody writes: past
	// catchupWindow it is not caught up from, but says how long the shard
	// was not run.
	memoryTTL = 24 * time.Hour
)

// A session Discord will not resume (op 9 Invalid Session, or a resume
// refused after a long disconnection) makes discordgo identify anew: the
// messages posted in the gap are never delivered as MESSAGE_CREATE. The
// catch-up reads them from the recently active channels' history and hands
// them to the rules as ordinary events; what the gateway delivered too has
// the same id, and the store drops it as a duplicate.
//
// The same gap opens when the process running the shard is killed and
// another takes the shard's lease over, or when vigie restarts: a mark for
// each channel, the last message before the first one received there and
// not judged yet, is then kept in the store the processes share
// (ChannelMemory), written every memorySaveEvery, and the next Run of the
// shard, here or in another process, catches up from it at its first READY
// when it is not older than catchupWindow: the messages a killed process
// had in its queues, unjudged, are read again too.
type catchup struct {
	mu sync.Mutex
	// session is true once this Run had a session: a READY after it means
	// the session was lost.
	session bool
	// lostAt is when the connection dropped, zero while it is up.
	lostAt time.Time
	// seen is the last message seen in each channel (or thread), by id. It
	// outlives a Run: the process's own memory, when the store's is not
	// there.
	seen map[string]channelSeen
	// dirty are the channels of seen changed since the memory was saved.
	dirty map[string]bool
	// unjudged are the messages handed over and not judged yet, by id: the
	// channel of each.
	unjudged map[uint64]string
	// letGo counts the messages let go unjudged since the last save (past
	// unjudgedKept, or older than catchupWindow).
	letGo int
	// since is when the shard was last run, before this Run (by this
	// process or, as its memory in the store says, another): the first
	// READY catches up from it. Zero: nothing to catch up.
	since time.Time
	// ended is when an earlier Run of this process stopped.
	ended time.Time
	// guilds is closed and made anew at each GUILD_CREATE.
	guilds chan struct{}
	// stopped refuses new catch-ups once Run stops; wg waits for those under way.
	stopped bool
	wg      sync.WaitGroup
	// turn is closed once the last catch-up started ends: the next one
	// reads after it, not the same channels at the same time.
	turn chan struct{}
}

type channelSeen struct {
	guild, last string    // the channel's guild, the last message's id
	at          time.Time // when it was seen
	// unjudged are the ids of the channel's messages handed over and not
	// judged yet, in order.
	unjudged []uint64
	// hold, while a catch-up reads the channel (holders of them), is the
	// last message it read and that is queued: the mark does not move past
	// it. A catch-up cut short by a stop leaves it, holders zero, until
	// one reads the channel to its end.
	hold    string
	holders int
	// saved is the mark last written to the store.
	saved string
	// readEnd is the last message a catch-up read from the channel's
	// history, and queued: one after it, whose cursor was taken before,
	// reads from there.
	readEnd string
}

// mark is the last message of the channel before which every message is
// judged, as the memory in the store keeps it: the next runner reads the
// channel after it.
func (s channelSeen) mark() string {
	m := s.last
	if s.hold != "" && snowflakeAfter(m, s.hold) {
		m = s.hold
	}
	if len(s.unjudged) > 0 {
		// Just before the first not judged: read again from it.
		if p := strconv.FormatUint(s.unjudged[0]-1, 10); snowflakeAfter(m, p) {
			m = p
		}
	}
	return m
}

// cursor is where a catch-up of this process reads the channel from: after
// the last message received (those not judged yet are in its queues), or a
// catch-up's left unfinished.
func (s channelSeen) cursor() string {
	if s.hold != "" && snowflakeAfter(s.last, s.hold) {
		return s.hold
	}
	return s.last
}

// reset forgets the last session, as Run starts; the channels seen are
// kept.
func (cu *catchup) reset() {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	cu.session, cu.lostAt, cu.stopped, cu.since = false, time.Time{}, false, time.Time{}
	if cu.seen == nil {
		cu.seen = map[string]channelSeen{}
	}
	if cu.dirty == nil {
		cu.dirty = map[string]bool{}
	}
}

// ChannelMark is a channel's mark, as a ChannelMemory keeps it: the last
// message before the first one received there and not judged yet.
type ChannelMark struct {
	Channel, Guild string
	Last           string // the message's id, or one just below the first not judged
	At             time.Time
}

// ChannelMemory keeps a shard's memory of the last message seen in each
// channel where the next Run of the shard finds it: in another process
// that took the shard over, or in this one restarted (the Redis store,
// shared by the processes).
type ChannelMemory interface {
	// SaveChannelMarks merges marks into the memory (a channel's mark
	// only moves forward) and records saved as when it was last
	// written; the memory keeps about keep channels, and goes once nobody
	// wrote it for ttl.
	SaveChannelMarks(ctx context.Context, marks []ChannelMark, saved time.Time, keep int, ttl time.Duration) error
	// ChannelMarks returns the memory and when it was last written (zero:
	// never).
	ChannelMarks(ctx context.Context) (marks []ChannelMark, saved time.Time, err error)
}

// starting merges the memory read from the store into seen, and sets since:
// the latest of when it was saved and when this process last ran the shard.
func (cu *catchup) starting(marks []ChannelMark, saved time.Time) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	for _, m := range marks {
		s, ok := cu.seen[m.Channel]
		if !ok || snowflakeAfter(m.Last, s.last) {
			s.guild, s.last = m.Guild, m.Last
		}
		if m.At.After(s.at) {
			s.at = m.At
		}
		cu.seen[m.Channel] = s
	}
	cu.trimLocked()
	cu.since = cu.ended
	if saved.After(cu.since) {
		cu.since = saved
	}
}

// ending records that a Run stopped at now.
func (cu *catchup) ending(now time.Time) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	cu.ended = cu.seenUntilLocked(now)
}

// seenUntil is until when this Run's gateway delivered the shard's
// messages: now while its session is up, when it dropped otherwise, zero
// before its first session.
func (cu *catchup) seenUntil(now time.Time) time.Time {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	return cu.seenUntilLocked(now)
}

func (cu *catchup) seenUntilLocked(now time.Time) time.Time {
	switch {
	case !cu.session:
		return cu.ended
	case !cu.lostAt.IsZero():
		return cu.lostAt
	}
	return now
}

// loadMemory reads the shard's memory from mem as Run starts: the first
// READY catches up from it. When mem does not answer, this process's own
// memory is caught up from, if it ran the shard before.
func (c *Client) loadMemory(ctx context.Context, mem ChannelMemory) {
	var marks []ChannelMark
	var saved time.Time
	if mem != nil {
		lctx, cancel := context.WithTimeout(ctx, memoryTimeout)
		var err error
		marks, saved, err = mem.ChannelMarks(lctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			c.log.Warn("the shard's memory of the channels is not read from the store: a gap while another process ran the shard is not caught up, one of this process's own is", "err", err)
		}
	}
	c.cu.starting(marks, saved)
}

// keepMemory writes the shard's memory to mem every memorySaveEvery until
// ctx ends: the channels whose mark moved. A channel's mark is the last
// message before the first one received there and not judged yet, so that
// a process killed with messages waiting in its queues leaves them to the
// next runner, which reads them again.
func (c *Client) keepMemory(ctx context.Context, mem ChannelMemory) {
	// On the wall clock: it bounds what a killed process leaves to read again, in real seconds.
	t := time.NewTicker(memorySaveEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.saveMemory(ctx, mem, c.discordNow())
		case <-ctx.Done():
			return
		}
	}
}

// saveMemory writes the marks that moved to mem, and until when the shard
// was run. A failure keeps them for the next write.
func (c *Client) saveMemory(ctx context.Context, mem ChannelMemory, now time.Time) {
	marks, letGo := c.cu.takeDirty(now)
	saved := c.cu.seenUntil(now)
	if letGo > 0 {
		c.log.Warn(fmt.Sprintf("messages received and still not judged let go by the shard's memory (more than %d waiting, or for longer than %s): another process that takes the shard over does not read them again", unjudgedKept, catchupWindow),
			"messages", letGo)
	}
	sctx, cancel := context.WithTimeout(ctx, memoryTimeout)
	err := mem.SaveChannelMarks(sctx, marks, saved, seenKept, memoryTTL)
	cancel()
	if err == nil {
		c.cu.saved(marks)
	}
	if err != nil {
		c.cu.putBack(marks)
		if !c.memFailing.Swap(true) {
			c.log.Warn("the shard's memory of the channels is not written to the store: kept here and written again later; meanwhile, another process that takes the shard over does not read the messages of the gap", "err", err)
		}
		return
	}
	if c.memFailing.Swap(false) {
		c.log.Info("the shard's memory of the channels is written to the store again")
	}
}

// takeDirty returns the marks of the channels changed since the last save
// that moved, forgotten as changed until putBack, and how many messages
// were let go unjudged since. The messages received longer than
// catchupWindow before now and still not judged are let go first: a next
// runner would not read them.
func (cu *catchup) takeDirty(now time.Time) (marks []ChannelMark, letGo int) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if len(cu.unjudged) > 0 {
		oldest, _ := strconv.ParseUint(snowflakeAt(now.Add(-catchupWindow)), 10, 64)
		for ch, s := range cu.seen {
			n := 0
			for n < len(s.unjudged) && s.unjudged[n] < oldest {
				delete(cu.unjudged, s.unjudged[n])
				n++
			}
			if n > 0 {
				s.unjudged = slices.Delete(s.unjudged, 0, n)
				cu.seen[ch] = s
				cu.dirty[ch] = true
				cu.letGo += n
			}
		}
	}
	marks = make([]ChannelMark, 0, len(cu.dirty))
	for ch := range cu.dirty {
		if s, ok := cu.seen[ch]; ok {
			if m := s.mark(); m != "" && m != s.saved {
				marks = append(marks, ChannelMark{Channel: ch, Guild: s.guild, Last: m, At: s.at})
			}
		}
	}
	clear(cu.dirty)
	letGo, cu.letGo = cu.letGo, 0
	return marks, letGo
}

// saved records marks as written to the store.
func (cu *catchup) saved(marks []ChannelMark) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	for _, m := range marks {
		if s, ok := cu.seen[m.Channel]; ok && !snowflakeAfter(s.saved, m.Last) {
			s.saved = m.Last
			cu.seen[m.Channel] = s
		}
	}
}

// handedOver records message id of channel in guild as handed over to be
// judged: the channel's mark stays before it until judged says it is.
func (cu *catchup) handedOver(guild, channel, id string, now time.Time) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return
	}
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if _, ok := cu.unjudged[n]; ok {
		return // handed over again (the gateway's and a catch-up's)
	}
	if cu.unjudged == nil {
		cu.unjudged = map[uint64]string{}
	}
	cu.noteLocked(guild, channel, id, now)
	s, ok := cu.seen[channel]
	if !ok {
		return
	}
	i, _ := slices.BinarySearch(s.unjudged, n)
	s.unjudged = slices.Insert(s.unjudged, i, n)
	cu.unjudged[n] = channel
	cu.seen[channel] = s
	if len(cu.unjudged) > unjudgedKept {
		// Past the bound the channel's oldest goes (one of the busiest's).
		victim := channel
		if len(s.unjudged) < 2 {
			for ch, o := range cu.seen {
				if len(o.unjudged) > len(cu.seen[victim].unjudged) {
					victim = ch
				}
			}
		}
		v := cu.seen[victim]
		delete(cu.unjudged, v.unjudged[0])
		v.unjudged = v.unjudged[1:]
		cu.seen[victim] = v
		cu.dirty[victim] = true
		cu.letGo++
	}
}

// judged records that message id is judged.
func (cu *catchup) judged(id string) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return
	}
	cu.mu.Lock()
	defer cu.mu.Unlock()
	ch, ok := cu.unjudged[n]
	if !ok {
		return
	}
	delete(cu.unjudged, n)
	s, ok := cu.seen[ch]
	if !ok {
		return
	}
	if i, found := slices.BinarySearch(s.unjudged, n); found {
		if i == 0 {
			s.unjudged = s.unjudged[1:] // mostly, judged in order: no copy
		} else {
			s.unjudged = slices.Delete(s.unjudged, i, i+1)
		}
		cu.seen[ch] = s
		cu.dirty[ch] = true
	}
}

// Judged tells the client that ev, which Run sent, is judged: its verdict
// is journaled, or it needs none. The shard's memory of a channel moves
// past a message only once it and those received before it there are
// judged. Without Config.ReportsJudged a message counts as judged once it
// is handed over, and Judged is not to be called.
func (c *Client) Judged(ev *bot.Event) {
	if ev.Platform == Platform && ev.Kind == bot.KindMessage {
		c.cu.judged(ev.ID)
	}
}

// handed tells the memory that ev, sent on Run's out, is handed over: a
// message counts as judged then, without Config.ReportsJudged.
func (c *Client) handed(ev *bot.Event) {
	if !c.cfg.ReportsJudged {
		c.Judged(ev)
	}
}

// holdFrom makes channels' marks stay at the catch-up's cursors until it
// read them: a message the gateway delivered meanwhile, judged, does not
// move a mark past those of the gap not read yet.
func (cu *catchup) holdLocked(channels []channelCursor) {
	for _, ch := range channels {
		s, ok := cu.seen[ch.channel]
		if !ok {
			continue
		}
		if s.hold == "" || snowflakeAfter(s.hold, ch.last) {
			s.hold = ch.last
		}
		s.holders++
		cu.seen[ch.channel] = s
		cu.dirty[ch.channel] = true
	}
}

// readUpTo moves channel's hold to id, a message read and queued, when one
// catch-up alone reads the channel.
func (cu *catchup) readUpTo(channel, id string) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	s, ok := cu.seen[channel]
	if !ok {
		return
	}
	if snowflakeAfter(id, s.readEnd) {
		s.readEnd = id
		cu.seen[channel] = s
	}
	if s.holders == 1 && snowflakeAfter(id, s.hold) {
		s.hold = id
		cu.seen[channel] = s
		cu.dirty[channel] = true
	}
}

// readFrom is where a catch-up whose cursor in channel is after reads the
// channel from: after what a catch-up before it read there already.
func (cu *catchup) readFrom(channel, after string) string {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if s, ok := cu.seen[channel]; ok && snowflakeAfter(s.readEnd, after) {
		return s.readEnd
	}
	return after
}

// release ends a catch-up's hold on channel; cut (the catch-up stopped
// before the channel's end) leaves the last mark it had for the next.
func (cu *catchup) release(channel string, cut bool) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	s, ok := cu.seen[channel]
	if !ok || s.holders == 0 {
		return
	}
	if s.holders--; s.holders == 0 && !cut {
		s.hold = ""
	}
	cu.seen[channel] = s
	cu.dirty[channel] = true
}

// putBack marks again as changed the channels of a save that failed.
func (cu *catchup) putBack(marks []ChannelMark) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if cu.dirty == nil {
		cu.dirty = map[string]bool{}
	}
	for _, m := range marks {
		if _, ok := cu.seen[m.Channel]; ok {
			cu.dirty[m.Channel] = true
		}
	}
}

// guildCreated wakes a catch-up waiting for a guild.
func (cu *catchup) guildCreated() {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if cu.guilds != nil {
		close(cu.guilds)
	}
	cu.guilds = make(chan struct{})
}

// guildsChanged is closed at the next GUILD_CREATE.
func (cu *catchup) guildsChanged() <-chan struct{} {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if cu.guilds == nil {
		cu.guilds = make(chan struct{})
	}
	return cu.guilds
}

// begin counts a catch-up in, unless Run is stopping: it waits for prev to
// be closed (the catch-up before it ended), and closes done as it ends.
func (cu *catchup) begin() (prev <-chan struct{}, done chan struct{}, ok bool) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if cu.stopped {
		return nil, nil, false
	}
	cu.wg.Add(1)
	prev, done = cu.turn, make(chan struct{})
	cu.turn = done
	return prev, done, true
}

// stop refuses new catch-ups and waits for those under way, which end with
// Run's context.
func (cu *catchup) stop() {
	cu.mu.Lock()
	cu.stopped = true
	cu.mu.Unlock()
	cu.wg.Wait()
}

// note records message id of channel in guild as the last seen there.
func (cu *catchup) note(guild, channel, id string, now time.Time) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	cu.noteLocked(guild, channel, id, now)
}

func (cu *catchup) noteLocked(guild, channel, id string, now time.Time) {
	if cu.seen == nil {
		cu.seen = map[string]channelSeen{}
	}
	if cu.dirty == nil {
		cu.dirty = map[string]bool{}
	}
	cu.dirty[channel] = true
	if s, ok := cu.seen[channel]; ok && !snowflakeAfter(id, s.last) {
		s.at = now
		cu.seen[channel] = s
		return
	}
	s := cu.seen[channel]
	s.guild, s.last, s.at = guild, id, now
	cu.seen[channel] = s
	cu.trimLocked()
}

// rewind moves the last message seen in a channel back before the oldest
// of the messages of lost there, which Run could not hand over as it
// stopped: the memory's last write leaves them to the next runner, which
// reads them from the channel's history. The store's memory only moves
// forward: a message whose channel it wrote past already (more than
// memorySaveEvery before) stays lost, as the drain's log says.
func (cu *catchup) rewind(lost []bot.Event) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	for _, ev := range lost {
		if ev.Kind != bot.KindMessage {
			continue
		}
		s, ok := cu.seen[ev.Channel]
		id, err := strconv.ParseUint(ev.ID, 10, 64)
		if !ok || err != nil || id == 0 {
			continue
		}
		before := strconv.FormatUint(id-1, 10)
		if !snowflakeAfter(s.last, before) {
			continue
		}
		s.last = before
		cu.seen[ev.Channel] = s
		if cu.dirty == nil {
			cu.dirty = map[string]bool{}
		}
		cu.dirty[ev.Channel] = true
	}
}

// trimLocked keeps seen bounded: past twice seenKept channels, the least
// recently active go.
func (cu *catchup) trimLocked() {
	if len(cu.seen) <= 2*seenKept {
		return
	}
	for _, ch := range cu.recentLocked()[seenKept:] {
		for _, id := range ch.unjudged {
			delete(cu.unjudged, id)
		}
		delete(cu.seen, ch.channel)
		delete(cu.dirty, ch.channel)
	}
}

type channelCursor struct {
	channelSeen
	channel string
}

// recentLocked lists the channels seen, the most recently active first.
func (cu *catchup) recentLocked() []channelCursor {
	out := make([]channelCursor, 0, len(cu.seen))
	for ch, s := range cu.seen {
		out = append(out, channelCursor{channelSeen: s, channel: ch})
	}
	slices.SortFunc(out, func(a, b channelCursor) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return cmp.Compare(a.channel, b.channel)
	})
	return out
}

// lost records that the gateway connection dropped at now.
func (cu *catchup) lost(now time.Time) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if cu.lostAt.IsZero() {
		cu.lostAt = now
	}
}

// resumed records that the session went on: nothing was missed (Discord
// sends again what it held back), a session of an earlier Run included.
func (cu *catchup) resumed() {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	cu.lostAt, cu.since, cu.session = time.Time{}, time.Time{}, true
}

// sessionStart says what a READY follows.
type sessionStart int

const (
	// sessionFirst is the Run's first session, with nothing to catch up.
	sessionFirst sessionStart = iota
	// sessionLost follows a session of this Run that Discord did not resume.
	sessionLost
	// sessionTakenUp is the Run's first session, the shard run until
	// recently, by another process or by this one: the gap is caught up.
	sessionTakenUp
	// sessionTooLate is the Run's first session, the shard's memory older
	// than catchupWindow: the gap is not caught up.
	sessionTooLate
)

// newSession records a READY: what it follows, when the gap began (zero:
// not known), and the channels to read.
func (cu *catchup) newSession(now time.Time) (start sessionStart, from time.Time, channels []channelCursor) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	lost := cu.session
	cu.session = true
	from = cu.lostAt
	cu.lostAt = time.Time{}
	switch {
	case lost:
		start = sessionLost
	case cu.since.IsZero():
		return sessionFirst, time.Time{}, nil
	default:
		from = cu.since
		start = sessionTakenUp
		if now.Sub(from) > catchupWindow {
			start = sessionTooLate
		}
	}
	cu.since = time.Time{}
	if start == sessionTooLate {
		return start, from, nil
	}
	channels = cu.recentLocked()
	for i := range channels {
		channels[i].last = channels[i].cursor()
	}
	cu.holdLocked(channels[:min(len(channels), catchupChannels)])
	return start, from, channels
}

// releaseAll ends the holds of a catch-up that does not start.
func (cu *catchup) releaseAll(channels []channelCursor) {
	for _, ch := range channels[:min(len(channels), catchupChannels)] {
		cu.release(ch.channel, false)
	}
}

// sessionStarted tells of a new session after a lost one, or of the first
// of a Run after a gap in which nobody ran the shard, and starts reading the
// messages posted in the gap.
func (c *Client) sessionStarted(start sessionStart, from time.Time, channels []channelCursor) {
	var gap time.Duration // for the logs
	if !from.IsZero() {
		gap = max(c.discordNow().Sub(from), 0)
	}
	var why string
	switch start {
	case sessionLost:
		c.met.sessionsLost.Inc()
		why = "after a lost gateway session"
		c.log.Warn("gateway session lost: Discord started a new one, the messages posted in the gap were not delivered; reading them from the channels' history",
			"gap", gap.Round(time.Second).String(), "channels", len(channels))
	case sessionTakenUp:
		why = "after a gap in the shard's run"
		c.log.Info("the shard was not run for a while (taken over from another process, or vigie restarted): reading the messages posted meanwhile from the channels' history",
			"shard", c.cfg.ShardID, "gap", gap.Round(time.Second).String(), "channels", len(channels))
	case sessionTooLate:
		c.log.Warn(fmt.Sprintf("the shard was not run for longer than %s: the messages posted meanwhile are not read from the channels' history, and not judged", catchupWindow),
			"shard", c.cfg.ShardID, "gap", gap.Round(time.Second).String())
		return
	default:
		return
	}
	c.sinkMu.RLock()
	s := c.sink
	c.sinkMu.RUnlock()
	if s == nil {
		c.cu.releaseAll(channels)
		return
	}
	// With no channel seen, the threads started in the gap are still read
	// (catchUpThreads).
	prev, done, ok := c.cu.begin()
	if !ok {
		c.cu.releaseAll(channels)
		return
	}
	go func() {
		defer c.cu.wg.Done()
		defer close(done)
		defer c.guard.Recover("discord catch-up")
		if prev != nil {
			// A session lost while the catch-up of the one before still
			// reads: this one reads after it, from where it read.
			select {
			case <-prev:
			case <-s.runCtx.Done():
				for _, ch := range channels[:min(len(channels), catchupChannels)] {
					c.cu.release(ch.channel, true)
				}
				return
			}
		}
		// from is when the gateway stopped delivering (zero: not known),
		// on Discord's clock, as the messages' ids and edits are.
		c.catchUp(s.runCtx, c.discordNow(), from, why, channels)
	}()
}

// catchUp reads the channels' messages posted since the last one seen there,
// at most catchupWindow back, and emits them as events. It says what it left.
// from is when the gateway stopped delivering the shard's messages (zero:
// not known): a channel's messages older than that were seen.
func (c *Client) catchUp(ctx context.Context, now time.Time, from time.Time, why string, channels []channelCursor) {
	var left []string
	// the channels seen, read or left: their threads are not read again
	read := make(map[string]bool, len(channels))
	for _, ch := range channels {
		read[ch.channel] = true
	}
	if len(channels) > catchupChannels {
		left = append(left, fmt.Sprintf("%d channels less recently active", len(channels)-catchupChannels))
		channels = channels[:catchupChannels]
	}
	oldest := snowflakeAt(now.Add(-catchupWindow))
	// What was posted before the gap was delivered: a channel quiet for
	// longer than the window loses nothing when read from the window's
	// start, unless the gap began before it.
	clampLoses := from.IsZero() || from.Before(now.Add(-catchupWindow))
	members := &memberLookups{byKey: map[string]*memberLookup{}}
	waited := map[string]bool{} // guilds waited for: available or not
	// One deadline for all the guilds: past it, a guild not described yet
	// is read with roles unknown at once.
	waitCtx, stopWaiting := context.WithTimeout(ctx, guildWait)
	defer stopWaiting()
	nread, emitted, edits := 0, 0, 0
	for i, ch := range channels {
		if ctx.Err() != nil {
			left = append(left, fmt.Sprintf("%d channels (vigie stopped)", len(channels)-i))
			for _, ch := range channels[i:] {
				c.cu.release(ch.channel, true)
			}
			break
		}
		after := c.cu.readFrom(ch.channel, ch.last)
		if snowflakeAfter(oldest, after) {
			after = oldest
			if clampLoses {
				left = append(left, fmt.Sprintf("channel %s: messages older than %s", ch.channel, catchupWindow))
			}
		}
		if _, ok := waited[ch.guild]; !ok {
			waited[ch.guild] = c.waitGuild(waitCtx, ch.guild)
			if !waited[ch.guild] && ctx.Err() == nil {
				left = append(left, fmt.Sprintf("guild %s: not described again within %s, its members' roles unknown (no action on them, cases instead)", ch.guild, guildWait))
			}
		}
		n, e, more, err := c.catchUpChannel(ctx, ch, after, from, members, waited[ch.guild])
		// A channel whose reading Discord's trouble cut short keeps its
		// mark where the reading stopped, as one cut by a stop: the next
		// catch-up, or the next runner of the shard, reads on from there.
		c.cu.release(ch.channel, ctx.Err() != nil || (err != nil && bot.Retryable(err)))
		if err == nil && ctx.Err() == nil && !from.IsZero() {
			var ee int
			ee, err = c.catchUpEdits(ctx, ch, after, from, members, waited[ch.guild])
			e += ee
			if err != nil {
				err = fmt.Errorf("edits of the messages before the gap not read: %w", err)
			}
		}
		emitted += n
		edits += e
		switch {
		case err != nil:
			left = append(left, fmt.Sprintf("channel %s: %v", ch.channel, err))
		case more:
			left = append(left, fmt.Sprintf("channel %s: beyond %d messages", ch.channel, catchupPages*catchupPageSize))
		default:
			nread++
		}
	}
	tn, tm, te, tr, tleft := c.catchUpThreads(ctx, waitCtx, now, from, oldest, read, members, waited)
	left = append(left, tleft...)
	emitted += tn + tm
	edits += te
	c.met.caughtUp.Add(float64(emitted))
	var unasked []any
	if members.skipped > 0 {
		// Judged all the same, with roles unknown: cases, not actions.
		unasked = []any{"authors_not_asked", members.skipped}
	}
	if len(left) > 0 {
		c.log.Warn("caught up partly "+why+": some messages posted or edited in the gap were not judged",
			append([]any{"messages", emitted, "edits", edits, "channels_read", nread, "threads_read", tr, "not_read", left}, unasked...)...)
		return
	}
	c.log.Info("caught up "+why, append([]any{"messages", emitted, "edits", edits, "channels", nread, "threads", tr}, unasked...)...)
}

// catchupThreads bounds how many threads the catch-up reads besides the
// channels seen: the most recently active first.
const catchupThreads = catchupChannels

// catchUpThreads reads the threads that were active in the gap and that
// no channel seen before led to: a thread started while vigie was offline
// (its GUILD_CREATE lists the guild's active threads), or one none of
// whose messages this shard saw. A thread started in the gap has its name
// judged, as its THREAD_CREATE would have (threadNameEvent), and each
// thread's messages posted in the gap are read, as a channel's are, at
// most catchupThreads threads, the most recently active first. The gap
// began at from (zero: not known, catchupWindow before now); oldest is the
// window's first id; read are the channels read already. It returns the
// names and messages emitted, the edits, the threads read, and what it
// left.
func (c *Client) catchUpThreads(ctx, waitCtx context.Context, now, from time.Time, oldest string, read map[string]bool,
	members *memberLookups, waited map[string]bool) (names, n, e, threads int, left []string) {
	start := oldest
	if !from.IsZero() && snowflakeAfter(snowflakeAt(from.Add(-editMargin)), start) {
		start = snowflakeAt(from.Add(-editMargin))
	}
	type active struct {
		ch   *discordgo.Channel
		last string
	}
	var found []active
	for _, g := range c.stateGuildIDs() {
		if ctx.Err() != nil || !c.moderates(g) {
			continue
		}
		if _, ok := waited[g]; !ok {
			waited[g] = c.waitGuild(waitCtx, g)
		}
		if !waited[g] {
			// its active threads are not known before its GUILD_CREATE
			continue
		}
		for _, t := range c.stateThreads(g) {
			last := t.ID
			if snowflakeAfter(t.LastMessageID, last) {
				last = t.LastMessageID
			}
			if !read[t.ID] && snowflakeAfter(last, start) {
				found = append(found, active{ch: t, last: last})
			}
		}
	}
	slices.SortFunc(found, func(a, b active) int { return compareSnowflakes(b.last, a.last) })
	if len(found) > catchupThreads {
		left = append(left, fmt.Sprintf("%d threads less recently active", len(found)-catchupThreads))
		found = found[:catchupThreads]
	}
	for i, t := range found {
		if ctx.Err() != nil {
			left = append(left, fmt.Sprintf("%d threads (vigie stopped)", len(found)-i))
			break
		}
		if snowflakeAfter(t.ch.ID, start) {
			if ev, ok := c.threadNameEvent(t.ch, bot.KindMessage); ok && c.moderates(ev.Space) {
				if !c.emitUntil(ctx, ev) {
					continue
				}
				names++
			}
		}
		ch := channelCursor{channelSeen: channelSeen{guild: t.ch.GuildID}, channel: t.ch.ID}
		tn, te, more, err := c.catchUpChannel(ctx, ch, start, from, members, waited[t.ch.GuildID])
		n += tn
		e += te
		switch {
		case err != nil:
			left = append(left, fmt.Sprintf("thread %s: %v", t.ch.ID, err))
		case more:
			left = append(left, fmt.Sprintf("thread %s: beyond %d messages", t.ch.ID, catchupPages*catchupPageSize))
		default:
			threads++
		}
	}
	return names, n, e, threads, left
}

// stateGuildIDs lists the guilds the gateway told this shard of.
func (c *Client) stateGuildIDs() []string {
	st := c.sess.State
	st.RLock()
	defer st.RUnlock()
	ids := make([]string, 0, len(st.Guilds))
	for _, g := range st.Guilds {
		ids = append(ids, g.ID)
	}
	return ids
}

// stateThreads lists a copy of guild's active threads, as its GUILD_CREATE
// and the threads' events since told them.
func (c *Client) stateThreads(guild string) []*discordgo.Channel {
	st := c.sess.State
	g, err := st.Guild(guild)
	if err != nil {
		return nil
	}
	st.RLock()
	defer st.RUnlock()
	out := make([]*discordgo.Channel, 0, len(g.Threads))
	for _, t := range g.Threads {
		if t != nil {
			cp := *t
			out = append(out, &cp)
		}
	}
	return out
}

// catchUpChannel reads ch's messages after the id after, oldest first, up to
// catchupPages pages, and emits them: n messages, and e edits of messages
// posted before the gap began at from and edited since (gapEdit); more says
// a full last page left some.
func (c *Client) catchUpChannel(ctx context.Context, ch channelCursor, after string, from time.Time, members *memberLookups, guildKnown bool) (n, e int, more bool, err error) {
	for page := 0; page < catchupPages; page++ {
		msgs, err := c.historyPage(ctx, ch.channel, after, "")
		if err != nil {
			return n, e, false, err
		}
		msgs = slices.DeleteFunc(msgs, func(m *wireMessage) bool { return m == nil || m.Message == nil })
		slices.SortFunc(msgs, func(a, b *wireMessage) int { return compareSnowflakes(a.ID, b.ID) })
		for _, m := range msgs {
			if !snowflakeAfter(m.ID, after) {
				continue
			}
			after = m.ID
			if m.GuildID == "" {
				m.GuildID = ch.guild // the REST API leaves it out
			}
			c.cu.note(m.GuildID, ch.channel, m.ID, c.discordNow())
			ev, ok := c.messageEvent(m, bot.KindMessage)
			if !ok || !c.moderates(ev.Space) {
				c.cu.readUpTo(ch.channel, m.ID) // nothing to judge
				continue
			}
			c.caughtUp(ctx, &ev, m.Message, members, guildKnown)
			if !c.emitUntil(ctx, ev) {
				return n, e, false, ctx.Err()
			}
			n++
			// Judged already perhaps, the message is dropped as a
			// duplicate: its edit is not.
			if gapEdit(m, from) {
				if sent, ok := c.emitEdit(ctx, m, members, guildKnown); !ok {
					return n, e, false, ctx.Err()
				} else if sent {
					e++
				}
			}
			c.cu.readUpTo(ch.channel, m.ID)
		}
		if len(msgs) < catchupPageSize {
			return n, e, false, nil
		}
	}
	return n, e, true, nil
}

// catchUpEdits reads the last page (catchupPageSize) of ch's messages up to
// the id upTo, where the catch-up read it from, delivered before the gap
// began at from, and emits as edits those edited since (gapEdit): their
// edit was never delivered. One more request a channel; an edit of an older
// message is not found.
func (c *Client) catchUpEdits(ctx context.Context, ch channelCursor, upTo string, from time.Time, members *memberLookups, guildKnown bool) (e int, err error) {
	id, err := strconv.ParseUint(upTo, 10, 64)
	if err != nil {
		return 0, nil // nothing read before: a channel never seen
	}
	msgs, err := c.historyPage(ctx, ch.channel, "", strconv.FormatUint(id+1, 10))
	if err != nil {
		return 0, err
	}
	msgs = slices.DeleteFunc(msgs, func(m *wireMessage) bool { return m == nil || m.Message == nil || !gapEdit(m, from) })
	slices.SortFunc(msgs, func(a, b *wireMessage) int { return a.EditedTimestamp.Compare(*b.EditedTimestamp) })
	for _, m := range msgs {
		if m.GuildID == "" {
			m.GuildID = ch.guild
		}
		sent, ok := c.emitEdit(ctx, m, members, guildKnown)
		if !ok {
			return e, ctx.Err()
		}
		if sent {
			e++
		}
	}
	return e, nil
}

// gapEdit reports whether m, posted before the gap began at from (zero:
// not known, nothing is), was edited since: the gateway delivered the
// message, not the edit.
func gapEdit(m *wireMessage, from time.Time) bool {
	if from.IsZero() || m.EditedTimestamp == nil {
		return false
	}
	return m.EditedTimestamp.After(from.Add(-editMargin)) && snowflakeTime(m.ID).Before(from)
}

// emitEdit emits m's last edit, as the gateway's MESSAGE_UPDATE would have:
// judged again, it gets no second answer, warning or case (handlers). sent
// says an event went out; ok is false when ctx ended first.
func (c *Client) emitEdit(ctx context.Context, m *wireMessage, members *memberLookups, guildKnown bool) (sent, ok bool) {
	ev, ok := c.messageEvent(m, bot.KindEdit)
	if !ok || !c.moderates(ev.Space) {
		return false, true
	}
	c.caughtUp(ctx, &ev, m.Message, members, guildKnown)
	if !c.emitUntil(ctx, ev) {
		return false, false
	}
	return true, true
}

// caughtUp completes the author of ev, read from history: with roles
// unknown when the guild is not described.
func (c *Client) caughtUp(ctx context.Context, ev *bot.Event, m *discordgo.Message, members *memberLookups, guildKnown bool) {
	if guildKnown {
		c.caughtUpAuthor(ctx, ev, m, members)
	} else {
		ev.Author.RolesUnknown = true
	}
}

// waitGuild waits until the gateway described guild again (its GUILD_CREATE
// after READY), until ctx ends (the catch-up's deadline), and reports
// whether it did.
func (c *Client) waitGuild(ctx context.Context, guild string) bool {
	for {
		changed := c.cu.guildsChanged()
		if c.guildDescribed(guild) {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}

// guildDescribed reports whether the state holds the guild as a GUILD_CREATE
// describes it, roles included (READY lists it as unavailable).
func (c *Client) guildDescribed(guild string) bool {
	g, ok := c.stateGuild(guild)
	return ok && g.described
}

// memberLookup is a member asked of Discord during a catch-up: the member,
// or nil with known true when they are not in the guild (any more).
type memberLookup struct {
	member *discordgo.Member
	known  bool
}

// memberLookups are the members a catch-up asked of Discord, by guild and
// user. troubled counts the lookups in a row that failed for Discord's
// trouble (a 5xx, a timeout, a cut connection); at troubledLookups the
// catch-up asks no more (down), and judges the other authors the gateway's
// state does not know with roles unknown (cases, not actions). A raid's
// thousands of accounts would otherwise hold the catch-up a call timeout
// each while Discord hangs, and the catch-ups behind it; a single blip does
// not make cases of the rest. skipped counts them, for the end's log.
type memberLookups struct {
	byKey    map[string]*memberLookup
	troubled int
	down     bool
	skipped  int
}

// troubledLookups is how many member lookups in a row may fail for
// Discord's trouble before a catch-up asks no more.
const troubledLookups = 3

// caughtUpAuthor completes the author of a message read from history: the
// REST API leaves the member out, and a raider who joined in the gap is not
// in the gateway's state. The member is asked of Discord once per catch-up;
// when that fails the author's roles are unknown, so that no platform action
// falls on a moderator (the event becomes a case instead).
func (c *Client) caughtUpAuthor(ctx context.Context, ev *bot.Event, m *discordgo.Message, members *memberLookups) {
	if _, err := c.sess.State.Member(m.GuildID, m.Author.ID); err == nil {
		return
	}
	key := m.GuildID + "/" + m.Author.ID
	l, ok := members.byKey[key]
	if !ok && members.down {
		members.skipped++
		ev.Author.RolesUnknown = true
		return
	}
	if !ok {
		var member *discordgo.Member
		var limited time.Duration
		err := waitingOutLimits(ctx, &limited, func() error {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			var err error
			member, err = c.sess.GuildMember(m.GuildID, m.Author.ID, opts(cctx)...)
			return c.classify(cctx, "read member", err)
		})
		var ae *bot.ActionError
		_, limit := rateLimitWait(err)
		troubled := ctx.Err() == nil && errors.As(err, &ae) && ae.Retryable && !limit
		if troubled {
			members.troubled++
		} else {
			members.troubled = 0
		}
		switch {
		case err == nil:
			member.GuildID = m.GuildID
			l = &memberLookup{member: member, known: true}
		case apiCode(err) == codeUnknownMember:
			l = &memberLookup{known: true}
		case troubled && members.troubled >= troubledLookups:
			members.down = true
			c.log.Warn(fmt.Sprintf("catch-up: member not read, Discord in trouble (%d lookups in a row failed); their message, and those of the other authors the gateway's state does not know, are judged with roles unknown (cases, not actions), without asking Discord for each", troubledLookups), "guild", m.GuildID, "user", m.Author.ID, "err", err)
			l = &memberLookup{}
		default:
			c.log.Warn("catch-up: member not read; their message is judged with roles unknown", "guild", m.GuildID, "user", m.Author.ID, "err", err)
			l = &memberLookup{}
		}
		members.byKey[key] = l
	}
	if !l.known {
		ev.Author.RolesUnknown = true
		return
	}
	if l.member != nil {
		ev.Author = c.author(m.GuildID, m.Author, l.member)
	}
}

// historyPage is one page of a channel's messages after an id, or before
// one, Discord's rate limits waited out while they add up to
// catchupMaxWait, and a brief trouble of Discord's (a 5xx, a connection
// cut) tried again after a moment: the incident that cost the session
// often answers the first reads so. A page Discord did not answer within
// callTimeout is not asked again: Discord down, each channel would wait
// three times as long.
func (c *Client) historyPage(ctx context.Context, channel, after, before string) ([]*wireMessage, error) {
	var limited time.Duration
	for attempt := 0; ; attempt++ {
		var msgs []*wireMessage
		var timedOut bool
		err := waitingOutLimits(ctx, &limited, func() error {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			var err error
			msgs, err = channelMessages(c.sess, channel, catchupPageSize, after, before, opts(cctx)...)
			err = c.classify(cctx, "read history", err)
			timedOut = cctx.Err() != nil
			return err
		})
		if err == nil {
			return msgs, nil
		}
		var ae *bot.ActionError
		if _, limit := rateLimitWait(err); limit || attempt >= 2 || ctx.Err() != nil || timedOut || !errors.As(err, &ae) || !ae.Retryable {
			return nil, err
		}
		if !bot.Sleep(ctx, catchupRetry<<attempt) {
			return nil, ctx.Err()
		}
	}
}

// waitingOutLimits makes call, and makes it again after each rate limit
// it meets while the waits, counted in limited, add up to catchupMaxWait
// at most. A rate limit is no trouble of Discord's: during a raid the
// actions keep the limits busy, and a catch-up's read may meet a short
// one several times in a row; judged without it, a gap's scams would
// stand (a channel unread, an author's roles unknown).
func waitingOutLimits(ctx context.Context, limited *time.Duration, call func() error) error {
	for {
		err := call()
		wait, limit := rateLimitWait(err)
		if !limit || *limited+wait > catchupMaxWait || ctx.Err() != nil {
			return err
		}
		*limited += wait
		if !bot.Sleep(ctx, wait) {
			return err
		}
	}
}

// rateLimitWait is how long to wait before making again a call that err
// says was rate limited (by Discord, or by vigie's own gate for it), and
// whether it was.
func rateLimitWait(err error) (time.Duration, bool) {
	var rl *rateLimited
	var api *APIError
	if !errors.As(err, &rl) && !(errors.As(err, &api) && api.Status == http.StatusTooManyRequests) {
		return 0, false
	}
	wait := catchupLimitFloor
	if rl != nil {
		wait = max(wait, rl.after)
	}
	return wait, true
}

// snowflakeAt is the smallest id Discord could give at t.
func snowflakeAt(t time.Time) string {
	ms := max(t.UnixMilli()-1420070400000, 0)
	return strconv.FormatInt(ms<<22, 10)
}

// compareSnowflakes orders two ids by their number.
func compareSnowflakes(a, b string) int {
	x, _ := strconv.ParseUint(a, 10, 64)
	y, _ := strconv.ParseUint(b, 10, 64)
	return cmp.Compare(x, y)
}

// snowflakeAfter reports whether id a is later than id b ("" is before all).
func snowflakeAfter(a, b string) bool { return compareSnowflakes(a, b) > 0 }
