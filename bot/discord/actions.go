package discord

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

// auditReason is what Discord's audit log shows for an action: the reason the
// handlers put on ctx (rule, case, deciding CM), or "vigie" without one. The
// header is URL-encoded UTF-8, at most 512 characters.
func auditReason(ctx context.Context) discordgo.RequestOption {
	r := bot.AuditReason(ctx)
	if r == "" {
		r = "vigie"
	}
	return discordgo.WithAuditLogReason(url.PathEscape(truncate(r, 512)))
}

// channelOf is where the event's message lives: its thread, when it has one.
func channelOf(ev bot.Event) string {
	if ev.Thread != "" {
		return ev.Thread
	}
	return ev.Channel
}

func needGuild(op bot.ActionKind, ev bot.Event) error {
	if err := checkIDs(op, ev); err != nil {
		return err
	}
	if ev.Space == "" || ev.Author.ID == "" {
		return &bot.ActionError{Op: op, Err: fmt.Errorf("discord: event %s has no guild or author", ev.ID)}
	}
	return nil
}

func needMessage(op bot.ActionKind, ev bot.Event) error {
	if err := checkMessageID(op, ev); err != nil {
		return err
	}
	if channelOf(ev) == "" || ev.Kind == bot.KindJoin || messageID(ev) == "" {
		return &bot.ActionError{Op: op, Err: fmt.Errorf("discord: event %s is not a message", ev.ID)}
	}
	return nil
}

func callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, callTimeout)
}

// Delete removes the message. A message already gone counts as deleted.
func (c *Client) Delete(ctx context.Context, ev bot.Event) error {
	if namesThread(ev) {
		return c.deleteThread(ctx, ev)
	}
	if err := needMessage(bot.ActDelete, ev); err != nil {
		return err
	}
	if c.isForumPost(ev) {
		return c.deletePost(ctx, ev)
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	err := c.classify(ctx, bot.ActDelete, c.sess.ChannelMessageDelete(channelOf(ev), messageID(ev),
		append(opts(ctx), auditReason(ctx))...))
	if code := apiCode(err); code == codeUnknownMessage || code == codeUnknownChannel {
		// Gone, alone or with its channel or thread (a forum post deleted
		// whole, with a raid's replies in it).
		return nil
	}
	return c.lacking(err, ev.Space, channelOf(ev), permissionOf(bot.ActDelete))
}

// isForumPost reports whether ev is a forum (or media) post as it was
// created: its starter message, which has the post's id, where the post's
// title is read too.
func (c *Client) isForumPost(ev bot.Event) bool {
	if ev.Kind != bot.KindMessage || ev.Thread == "" || messageID(ev) != ev.Thread {
		return false
	}
	parent, ok := c.stateChannel(ev.Channel)
	return ok && parent.posts
}

// deletePost deletes a forum post whole: deleting its starter message alone
// would leave its title, where a scam or a slur may be, at the top of the
// forum. A post already gone counts as deleted. Needs Manage Threads.
func (c *Client) deletePost(ctx context.Context, ev bot.Event) error {
	err := c.removeThread(ctx, ev.Thread)
	if apiCode(err) == codeMissingPermissions {
		// Without Manage Threads, the body at least goes; the refusal, for
		// the case, says that the title stays and what to give.
		mctx, mcancel := callContext(ctx)
		defer mcancel()
		if merr := c.sess.ChannelMessageDelete(ev.Thread, messageID(ev), append(opts(mctx), auditReason(mctx))...); merr == nil || apiCode(merr) == codeUnknownMessage {
			err = fmt.Errorf("the post's message deleted, not its title: %w", err)
		}
	}
	return c.lacking(err, ev.Space, ev.Thread, discordgo.PermissionManageThreads)
}

// deleteThread deletes the thread whose name ev is, with its messages: the
// name stays as long as the thread does. A message it was started from, in
// the channel, stays: it was judged on its own. A thread already gone counts
// as deleted. Needs Manage Threads.
func (c *Client) deleteThread(ctx context.Context, ev bot.Event) error {
	if err := checkIDs(bot.ActDelete, ev); err != nil {
		return err
	}
	return c.lacking(c.removeThread(ctx, ev.Thread), ev.Space, ev.Thread, discordgo.PermissionManageThreads)
}

// removeThread deletes thread with its messages; nil when it is already gone.
func (c *Client) removeThread(ctx context.Context, thread string) error {
	ctx, cancel := callContext(ctx)
	defer cancel()
	_, err := c.sess.ChannelDelete(thread, append(opts(ctx), auditReason(ctx))...)
	err = c.classify(ctx, bot.ActDelete, err)
	if apiCode(err) == codeUnknownChannel {
		return nil
	}
	return err
}

// NeutralNick is the nickname RemoveName gives a member whose name the rules
// or a CM took off the server. It names no staff, brand or link, so that the
// starter pack's rules find nothing in it.
const NeutralNick = "renamed member"

var _ bot.NameRemover = (*Client)(nil)

// RemoveName takes the member's name off the server, what a delete does to a
// profile event: their nickname becomes NeutralNick, which the server shows
// instead of their display name too (a username stays on their profile). A
// member who left counts as done. Without Manage Nicknames in the server it
// fails without asking Discord: a refusal would hold every member's PATCH,
// timeouts included, for a while (rateGate).
func (c *Client) RemoveName(ctx context.Context, ev bot.Event) error {
	if err := needGuild(bot.ActDelete, ev); err != nil {
		return err
	}
	if why := c.lacksInGuild(ev.Space, discordgo.PermissionManageNicknames); why != "" {
		return &bot.ActionError{Op: bot.ActDelete, Err: fmt.Errorf("discord: cannot take the name off: %s", why)}
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	err := c.outranked(c.classify(ctx, bot.ActDelete, c.sess.GuildMemberNickname(ev.Space, ev.Author.ID, NeutralNick,
		append(opts(ctx), auditReason(ctx))...)), ev, discordgo.PermissionManageNicknames)
	if apiCode(err) == codeUnknownMember {
		return nil
	}
	return err
}

var _ bot.EventLimiter = (*Client)(nil)

// CanOn says what vigie can do on ev, for the desk's buttons: a join has no
// message to delete or answer; a profile has its name, which a delete takes
// off (RemoveName), and nothing to answer.
func (c *Client) CanOn(ev bot.Event, k bot.ActionKind) bool {
	if ev.Kind != bot.KindJoin && ev.Kind != bot.KindProfile {
		return true
	}
	switch k {
	case bot.ActDelete:
		return ev.Kind == bot.KindProfile
	case bot.ActReply, bot.ActHide:
		return false
	}
	return true
}

// Timeout silences the member for d (communication_disabled_until), at most
// MaxTimeout, within Discord's limit of 28 days. A member already timed out
// until later keeps that timeout, nothing asked of Discord, unless a person
// asked for this one (bot.ByHand: a CM's milder decision, a moderator's
// /mute), which replaces it as Discord does.
func (c *Client) Timeout(ctx context.Context, ev bot.Event, d time.Duration) error {
	if err := needGuild(bot.ActTimeout, ev); err != nil {
		return err
	}
	if d <= 0 {
		return &bot.ActionError{Op: bot.ActTimeout, Err: errors.New("discord: timeout without a duration")}
	}
	d = min(d, MaxTimeout)
	now := c.discordNow() // Discord judges the end on its clock
	until := now.Add(d).UTC()
	if cur := c.currentTimeout(ev.Space, ev.Author.ID, now); !cur.Before(until) && !bot.ByHand(ctx) {
		// Discord sets the end to whatever comes last: a raider's
		// timeout(10m) for a flood after the timeout(7d) for a scam would
		// cut the week short. The member stays silenced at least as asked.
		c.log.Info("member already timed out for longer: timeout kept", "guild", ev.Space, "user", ev.Author.ID,
			"until", cur.UTC().Format(time.RFC3339), "asked", bot.FormatDuration(d))
		return nil
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	err := c.classify(ctx, bot.ActTimeout, c.sess.GuildMemberTimeout(ev.Space, ev.Author.ID, &until,
		append(opts(ctx), auditReason(ctx))...))
	if err == nil {
		c.timeouts.set(ev.Space, ev.Author.ID, until, now)
	}
	if apiCode(err) == codeUnknownMember && c.removed.has(ev.Space, ev.Author.ID, c.now()) {
		// Out by vigie's own kick or ban (a raid's account, kicked on
		// its join, then timed out for its name): nothing left to do.
		c.log.Debug("timeout of a member vigie removed: done", "guild", ev.Space, "user", ev.Author.ID)
		return nil
	}
	return c.lacking(c.outranked(err, ev, permissionOf(bot.ActTimeout)), ev.Space, "", permissionOf(bot.ActTimeout))
}

// MaxTimeout says how long Timeout's timeouts last at most (the constant
// MaxTimeout), for the handlers to record what Discord got.
func (c *Client) MaxTimeout() time.Duration { return MaxTimeout }

// Untimeout lifts the member's timeout: communication_disabled_until set to null.
func (c *Client) Untimeout(ctx context.Context, ev bot.Event) error {
	if err := needGuild(opUntimeout, ev); err != nil {
		return err
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	err := c.outranked(c.classify(ctx, opUntimeout, c.sess.GuildMemberTimeout(ev.Space, ev.Author.ID, nil,
		append(opts(ctx), auditReason(ctx))...)), ev, permissionOf(bot.ActTimeout))
	if err == nil {
		c.timeouts.set(ev.Space, ev.Author.ID, time.Time{}, c.discordNow())
	}
	return c.lacking(err, ev.Space, "", permissionOf(bot.ActTimeout))
}

// opUntimeout names the lifting of a timeout in errors.
const opUntimeout = bot.ActionKind(bot.OutcomeUntimeout)

// Kick removes the member from the guild; they may join again. A member who
// left already (Unknown Member: a raid's account that posts and goes, before
// its verdict is carried out) counts as kicked: they are out, as asked.
func (c *Client) Kick(ctx context.Context, ev bot.Event) error {
	err := c.kick(ctx, ev)
	switch {
	case err == nil:
		c.removed.add(ev.Space, ev.Author.ID, c.now())
	case apiCode(err) == codeUnknownMember:
		return nil
	}
	return err
}

// kick is Kick, telling a member who left apart (Unknown Member).
func (c *Client) kick(ctx context.Context, ev bot.Event) error {
	if err := needGuild(bot.ActKick, ev); err != nil {
		return err
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	err := c.outranked(c.classify(ctx, bot.ActKick, c.sess.GuildMemberDelete(ev.Space, ev.Author.ID,
		append(opts(ctx), auditReason(ctx))...)), ev, permissionOf(bot.ActKick))
	return c.lacking(err, ev.Space, "", permissionOf(bot.ActKick))
}

// Ban bans the author and removes their messages of the last BanDeleteWindow.
// Discord bans do not end by themselves, whatever d: the handlers keep the
// end of a timed ban and lift it with Unban when it is due.
func (c *Client) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	if err := needGuild(bot.ActBan, ev); err != nil {
		return err
	}
	body := map[string]int{"delete_message_seconds": int(c.cfg.BanDeleteWindow / time.Second)}
	ctx, cancel := callContext(ctx)
	defer cancel()
	_, err := c.sess.RequestWithBucketID("PUT", discordgo.EndpointGuildBan(ev.Space, ev.Author.ID), body,
		discordgo.EndpointGuildBan(ev.Space, ""), append(opts(ctx), auditReason(ctx))...)
	if err == nil {
		c.removed.add(ev.Space, ev.Author.ID, c.now())
	}
	err = c.outranked(c.classify(ctx, bot.ActBan, err), ev, permissionOf(bot.ActBan))
	return c.lacking(err, ev.Space, "", permissionOf(bot.ActBan))
}

// currentTimeout is when the member's timeout ends, as far as vigie knows:
// the one it gave or lifted last, until the gateway tells of a change; else
// the one the state shows. Zero when none runs at now.
func (c *Client) currentTimeout(guild, user string, now time.Time) time.Time {
	if until, ok := c.timeouts.get(guild, user); ok {
		if until.After(now) {
			return until
		}
		return time.Time{}
	}
	m, ok := c.stateMember(guild, user)
	if !ok || m.CommunicationDisabledUntil == nil || !m.CommunicationDisabledUntil.After(now) {
		return time.Time{}
	}
	return *m.CommunicationDisabledUntil
}

// timeoutBook keeps the ends of the timeouts vigie gave (zero: lifted), by
// guild and user, for as long as the gateway's state may not show them yet.
type timeoutBook struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (b *timeoutBook) set(guild, user string, until, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.at == nil {
		b.at = map[string]time.Time{}
	}
	if len(b.at) >= 10000 {
		for k, t := range b.at {
			if !t.After(now) {
				delete(b.at, k)
			}
		}
	}
	if len(b.at) < 10000 {
		b.at[guild+"/"+user] = until
	}
}

func (b *timeoutBook) get(guild, user string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.at[guild+"/"+user]
	return t, ok
}

// forget leaves the member's timeout to the state, which the gateway just
// updated.
func (b *timeoutBook) forget(guild, user string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.at, guild+"/"+user)
}

// removedKept is how long vigie remembers it kicked or banned a member: the
// rest of a raid's verdicts about them come within it.
const removedKept = 10 * time.Minute

// strangerKept is how long an author Discord said is not in a guild
// (Unknown Member) is taken as such without asking again (ResolveRoles).
const strangerKept = time.Minute

// recentMembers are members noted in the last keep, by guild and user, max
// of them at most (their ids may be an event's to name): when full, those
// noted longer ago than keep are forgotten, and if none was, one at random.
type recentMembers struct {
	keep time.Duration
	max  int
	mu   sync.Mutex
	at   map[string]time.Time
}

func (r *recentMembers) add(guild, user string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		r.at = map[string]time.Time{}
	}
	if len(r.at) >= r.max {
		for k, t := range r.at {
			if now.Sub(t) >= r.keep {
				delete(r.at, k)
			}
		}
	}
	if len(r.at) >= r.max {
		for k := range r.at {
			delete(r.at, k)
			break
		}
	}
	r.at[guild+"/"+user] = now
}

func (r *recentMembers) has(guild, user string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.at[guild+"/"+user]
	return ok && now.Sub(t) < r.keep && !now.Before(t)
}

// Unban lifts the author's ban. A user who is not banned (Unknown Ban: lifted
// by hand already) is an error that wraps bot.ErrNotBanned.
func (c *Client) Unban(ctx context.Context, ev bot.Event) error {
	if err := needGuild(bot.ActBan, ev); err != nil {
		return err
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	err := c.classify(ctx, "unban", c.sess.GuildBanDelete(ev.Space, ev.Author.ID, append(opts(ctx), auditReason(ctx))...))
	if apiCode(err) == codeUnknownBan {
		return &bot.ActionError{Op: "unban", Err: fmt.Errorf("%w: %w", bot.ErrNotBanned, err)}
	}
	return c.lacking(err, ev.Space, "", permissionOf(bot.ActBan))
}

var _ bot.BanReader = (*Client)(nil)

// BanOf says whether the author is banned from the guild now (GET
// /guilds/{guild}/bans/{user}; Unknown Ban: not banned). A Discord ban has
// no end: vigie lifts the timed ones, whose ends the store keeps.
func (c *Client) BanOf(ctx context.Context, ev bot.Event) (bot.BanStatus, error) {
	if err := needGuild(bot.ActBan, ev); err != nil {
		return bot.BanStatus{}, nil // not known
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	_, err := c.sess.GuildBan(ev.Space, ev.Author.ID, opts(ctx)...)
	if apiCode(err) == codeUnknownBan {
		return bot.BanStatus{Known: true}, nil
	}
	if err := c.classify(ctx, bot.ActBan, err); err != nil {
		if bot.Retryable(err) {
			return bot.BanStatus{}, err
		}
		return bot.BanStatus{}, nil // not allowed to read bans: not known
	}
	return bot.BanStatus{Known: true, Banned: true}, nil
}

// codeUnknownBan is Discord's JSON error code for a ban that does not exist.
const codeUnknownBan = 10026

// noMentions keeps vigie's texts, which quote user names, from pinging anyone.
var noMentions = &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}

// maxContent is the most characters a Discord message may have.
const maxContent = 2000

var _ bot.ReplyLimiter = (*Client)(nil)

// MaxReply is bot.ReplyLimiter's: a reply is one message.
func (c *Client) MaxReply(bot.Event) int { return maxContent }

// Reply answers the message in its channel, as a Discord reply to it.
func (c *Client) Reply(ctx context.Context, ev bot.Event, text string) error {
	return c.reply(ctx, bot.ActReply, ev, text)
}

func (c *Client) reply(ctx context.Context, op bot.ActionKind, ev bot.Event, text string) error {
	if err := checkIDs(op, ev); err != nil {
		return err
	}
	ch := channelOf(ev)
	if namesThread(ev) {
		// in the channel, where the thread's name was shown and where a
		// warning outlives the thread's delete
		ch = ev.Channel
	}
	if ch == "" {
		return &bot.ActionError{Op: op, Err: fmt.Errorf("discord: event %s has no channel to answer in", ev.ID)}
	}
	m := &discordgo.MessageSend{Content: truncate(text, maxContent), AllowedMentions: noMentions}
	switch {
	case ev.Kind != bot.KindJoin && messageID(ev) != "":
		m.Reference = &discordgo.MessageReference{MessageID: messageID(ev), ChannelID: ch, GuildID: ev.Space, FailIfNotExists: new(false)}
	case op == bot.ActWarn && ev.Author.ID != "":
		// A moderator's /warn names no message: the warning names the member.
		m.Content = truncate("<@"+ev.Author.ID+">, "+text, 2000)
		m.AllowedMentions = &discordgo.MessageAllowedMentions{Users: []string{ev.Author.ID}}
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	_, err := c.sess.ChannelMessageSendComplex(ch, m, opts(ctx)...)
	need := int64(discordgo.PermissionSendMessages)
	if m.Reference != nil {
		need |= discordgo.PermissionReadMessageHistory
	}
	return c.lacking(c.classify(ctx, op, err), ev.Space, ch, need)
}

// Warn tells the author: by direct message when WarnByDM is set and the member
// accepts DMs from the guild's members, otherwise as a reply to the message.
func (c *Client) Warn(ctx context.Context, ev bot.Event, text string) error {
	if err := checkIDs(bot.ActWarn, ev); err != nil {
		return err
	}
	if c.cfg.WarnByDM && ev.Author.ID != "" {
		err := c.dm(ctx, ev.Author.ID, text)
		if err == nil {
			return nil
		}
		if apiCode(err) != codeCannotDMUser && apiCode(err) != codeMissingPermissions {
			return err
		}
		c.log.Debug("cannot DM the member, warning in the channel", "user", ev.Author.ID)
	}
	return c.reply(ctx, bot.ActWarn, ev, text)
}

func (c *Client) dm(ctx context.Context, userID, text string) error {
	ctx, cancel := callContext(ctx)
	defer cancel()
	ch, err := c.sess.UserChannelCreate(userID, opts(ctx)...)
	if err != nil {
		return c.classify(ctx, bot.ActWarn, err)
	}
	_, err = c.sess.ChannelMessageSendComplex(ch.ID, &discordgo.MessageSend{Content: truncate(text, 2000), AllowedMentions: noMentions}, opts(ctx)...)
	return c.classify(ctx, bot.ActWarn, err)
}

// Tag gives the author the guild role named tag (by name or id); "-name" takes it
// away. A tag that names no role of the guild is a reaction on the message
// instead: a Unicode emoji, or a custom one as name:id.
func (c *Client) Tag(ctx context.Context, ev bot.Event, tag string) error {
	if err := checkIDs(bot.ActTag, ev); err != nil {
		return err
	}
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return &bot.ActionError{Op: bot.ActTag, Err: errors.New("discord: empty tag")}
	}
	remove := false
	if rest, ok := strings.CutPrefix(tag, "-"); ok && rest != "" {
		remove, tag = true, rest
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	if roleID, ok := c.findRole(ev.Space, tag); ok {
		if err := needGuild(bot.ActTag, ev); err != nil {
			return err
		}
		o := append(opts(ctx), auditReason(ctx))
		var err error
		if remove {
			err = c.roleAboveVigie(c.classify(ctx, bot.ActTag, c.sess.GuildMemberRoleRemove(ev.Space, ev.Author.ID, roleID, o...)), ev.Space, roleID)
		} else {
			err = c.roleAboveVigie(c.classify(ctx, bot.ActTag, c.sess.GuildMemberRoleAdd(ev.Space, ev.Author.ID, roleID, o...)), ev.Space, roleID)
		}
		return c.lacking(err, ev.Space, "", permissionOf(bot.ActTag))
	}
	if remove {
		return &bot.ActionError{Op: bot.ActTag, Err: fmt.Errorf("discord: no role %q in guild %s", tag, ev.Space)}
	}
	if err := checkMessageID(bot.ActTag, ev); err != nil {
		return err
	}
	if err := needMessage(bot.ActTag, ev); err != nil {
		return &bot.ActionError{Op: bot.ActTag, Err: fmt.Errorf("discord: no role %q in guild %s, and no message to react to", tag, ev.Space)}
	}
	err := c.classify(ctx, bot.ActTag, c.sess.MessageReactionAdd(channelOf(ev), messageID(ev), tag, opts(ctx)...))
	if apiCode(err) == codeUnknownMessage {
		// Gone (its author deleted it, a ban took it): nothing left to mark.
		c.log.Debug("reaction on a message gone: done", "channel", channelOf(ev), "message", messageID(ev))
		return nil
	}
	return c.lacking(err, ev.Space, channelOf(ev), discordgo.PermissionAddReactions|discordgo.PermissionReadMessageHistory)
}

// findRole looks a role up by id or name in the guild vigie was told about.
func (c *Client) findRole(guildID, nameOrID string) (string, bool) {
	g, err := c.sess.State.Guild(guildID)
	if err != nil {
		return "", false
	}
	c.sess.State.RLock()
	defer c.sess.State.RUnlock()
	for _, r := range g.Roles {
		if r.ID == nameOrID || strings.EqualFold(r.Name, nameOrID) {
			return r.ID, true
		}
	}
	return "", false
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
