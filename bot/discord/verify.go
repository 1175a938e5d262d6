package discord

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskwork"
)

// Verify is the rule file's verify: section as the connector applies it: a
// new member is held (a timeout, or Role when set) and asked to press a
// button within Timeout, in Channel or privately; the press lifts the hold,
// and a member who did not press is kicked, or kept held for the CMs.
type Verify struct {
	Timeout time.Duration
	// Kick removes a member who did not press in time; false keeps them held.
	Kick bool
	// Prompt is the prompt's text for a member called name.
	Prompt func(name string) string
	Button string
	// Channel is where prompts are posted; empty sends them privately.
	Channel string
	// Role, when set, holds the member instead of a timeout: the server's
	// channels deny it the right to speak.
	Role    string
	Pending bot.Verifications
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Off asks no one new (verify: was taken out of the rule file); those
	// asked before are still let go on their press, and at their deadline.
	Off bool
	// Places are the guilds whose community has a verification of its own,
	// by id: they are asked, or not, as it says, and the others as v does.
	Places map[string]*Verify
}

// For is the verification of a guild: its own in Places, else v.
func (v *Verify) For(guild string) *Verify {
	if own, ok := v.Places[guild]; ok {
		return own
	}
	return v
}

// verifyPrefix starts the button's custom id: vf:GUILD:USER.
const verifyPrefix = "vf:"

// opVerify names verification's calls in errors.
const opVerify = bot.ActionKind("verify")

// SetVerify turns verification of new members on (v non-nil) or off.
func (c *Client) SetVerify(v *Verify) { c.verify.Store(v) }

func (v *Verify) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	// Without a clock given (the daemon gives its own), the wall clock.
	return time.Now()
}

// holdFor is how long a timeout holds a member: past their time limit, so
// that the deadline, not the timeout's end, decides.
func (v *Verify) holdFor() time.Duration { return min(2*v.Timeout+time.Hour, MaxTimeout) }

// verifying marks a join event of a member to verify, and starts the
// verification. Bots are not asked: an admin added them.
func (c *Client) verifying(ev *bot.Event) {
	v := c.verify.Load()
	if v == nil || ev.Kind != bot.KindJoin || ev.Author.Bot {
		return
	}
	if v = v.For(ev.Space); v.Off {
		return
	}
	c.sinkMu.RLock()
	s := c.sink
	c.sinkMu.RUnlock()
	if s == nil {
		return
	}
	ev.Author.Unverified = true
	c.startVerify(s.ctx, v, ev.Space, ev.Author.ID, ev.Author.Name)
}

// maxAsksWaiting bounds the new members waiting for a desk worker to be
// asked (and the presses of their buttons).
const maxAsksWaiting = 256

// startVerify hands the member's verification to the desk's workers without
// waiting for one: the gateway's handlers run on its reading loop
// (SyncEvents), which must never wait for a worker. Past maxAsksWaiting (a
// join raid), the member is let in without being asked: holding them would
// cost the very calls the raid is queueing, and leave them held with no
// button to press. Their join still goes to the rules, unverified (the raid
// rules, lockdown and kicks, act on it), each is audited and counted
// (not_asked), and the desk is told once as the wave begins and once with
// the count when the line has drained.
func (c *Client) startVerify(ctx context.Context, v *Verify, guild, user, name string) {
	asked := c.asks.Go(ctx, deskwork.Job{
		Work: func(ctx context.Context) {
			c.askVerify(ctx, v, guild, user, name)
			c.notAsked.Over(ctx)
		},
		Dropped: func() {
			c.met.verify.WithLabelValues(bot.VerifyNotAsked).Inc()
			c.log.Warn("verify: new member not asked, vigie is stopping", "audit", true, "guild", guild, "user", user, "name", name)
		},
	})
	if asked {
		return
	}
	n := c.notAsked.Add(guild)
	c.met.verify.WithLabelValues(bot.VerifyNotAsked).Inc()
	c.log.Warn("verify: new member not asked, too many waiting", "audit", true, "guild", guild, "user", user, "name", name,
		"waiting", maxAsksWaiting, "not_asked", n)
	if n == 1 {
		c.notAsked.Begins(ctx, guild)
	}
}

// tellDesk posts text in the desk channel, when there is one.
func (c *Client) tellDesk(ctx context.Context, text string) {
	if desk := c.desk.Load().channel; desk != "" {
		ctx, cancel := callContext(ctx)
		defer cancel()
		if _, err := c.sess.ChannelMessageSendComplex(desk, &discordgo.MessageSend{Content: truncate(text, 2000), AllowedMentions: noMentions}, opts(ctx)...); err != nil {
			c.log.Warn("verify: cannot tell the desk", "err", err)
		}
	}
}

func (c *Client) askVerify(ctx context.Context, v *Verify, guild, user, name string) {
	defer c.asking.Start(guild + ":" + user)()
	log := c.log.With("guild", guild, "user", user, "name", name)
	// the member's name, which they chose, as vigie's words show it: on
	// one line, cut, set apart and as written, so that a name such as
	// "[Verify here](https://evil.example)" is no link beside the button
	shown := shownName(name)
	target := bot.Event{Platform: Platform, Space: guild, Author: bot.Author{ID: user}}
	if err := c.hold(ctx, v, target); err != nil {
		c.verifyFailed(ctx, log, v, guild, fmt.Sprintf("could not hold the new member %s (%s) for verification: %v", name, user, err), err)
		return
	}
	channel := v.Channel
	if channel == "" {
		ch, err := c.sess.UserChannelCreate(user, opts(ctx)...)
		if err != nil {
			c.release(ctx, v.hold(), target)
			c.verifyFailed(ctx, log, v, guild, fmt.Sprintf("could not write privately to %s (%s) to verify them: %v", name, user, c.classify(ctx, opVerify, err)), err)
			return
		}
		channel = ch.ID
	}
	msg, err := c.sess.ChannelMessageSendComplex(channel, &discordgo.MessageSend{
		Content:         "<@" + user + "> " + truncate(v.Prompt(shown), 1900),
		AllowedMentions: &discordgo.MessageAllowedMentions{Users: []string{user}},
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: v.Button, Style: discordgo.PrimaryButton, CustomID: verifyPrefix + guild + ":" + user},
		}}},
	}, opts(ctx)...)
	if err != nil {
		// Held with no button to press: let them go rather than leave them mute.
		c.release(ctx, v.hold(), target)
		c.verifyFailed(ctx, log, v, guild, fmt.Sprintf("could not post the verification button for %s (%s): %v", name, user, c.classify(ctx, opVerify, err)), err)
		return
	}
	p := bot.Pending{Platform: Platform, Space: guild, User: user, Name: name, Prompt: msg.ChannelID + ":" + msg.ID,
		Deadline: v.now().Add(v.Timeout), Hold: v.hold()}
	if old, ok, _ := v.Pending.TakePending(ctx, Platform, guild, user); ok {
		c.deletePrompt(ctx, old.Prompt) // they came back before their time ran out
	}
	if err := v.Pending.PutPending(ctx, p); err != nil {
		c.release(ctx, v.hold(), target)
		c.deletePrompt(ctx, p.Prompt)
		c.verifyFailed(ctx, log, v, guild, fmt.Sprintf("could not record the verification of %s (%s): %v", name, user, err), err)
		return
	}
	c.met.verify.WithLabelValues(bot.VerifyAsked).Inc()
	log.Info("verify: new member asked", "audit", true, "deadline", p.Deadline, "waiting", c.asks.Waiting())
}

// hold keeps the member from speaking: the role, or a timeout.
func (c *Client) hold(ctx context.Context, v *Verify, target bot.Event) error {
	if v.Role != "" {
		ctx, cancel := callContext(ctx)
		defer cancel()
		return c.classify(ctx, opVerify, c.sess.GuildMemberRoleAdd(target.Space, target.Author.ID, v.Role, opts(ctx)...))
	}
	return c.Timeout(ctx, target, v.holdFor())
}

// release lets a held member speak: hold is the role they were given, or
// holdTimeout.
func (c *Client) release(ctx context.Context, hold string, target bot.Event) error {
	if hold != holdTimeout {
		ctx, cancel := callContext(ctx)
		defer cancel()
		return c.classify(ctx, opVerify, c.sess.GuildMemberRoleRemove(target.Space, target.Author.ID, hold, opts(ctx)...))
	}
	return c.Untimeout(ctx, target)
}

// releaseHeld lets p's member speak once their verification is over (a
// press, verification turned off): release, but for a timeout that ends
// later than any hold set before now could (the hold lasts holdFor). That
// one was given over the hold since (a rule on their name, a moderator's
// mute from their join's case), and the hold ended with it: lifting it
// would undo it. A shorter one given since is not told from the hold, and
// is lifted with it.
func (c *Client) releaseHeld(ctx context.Context, log *slog.Logger, p bot.Pending, v *Verify) error {
	target := bot.Event{Platform: Platform, Space: p.Space, Author: bot.Author{ID: p.User}}
	hold := heldBy(p, v)
	if hold == holdTimeout {
		// The hold's end was set on Discord's clock (Timeout): compared on
		// it, not on the host's, which may be behind by more than the
		// member took to press.
		now := c.discordNow()
		if cur := c.currentTimeout(p.Space, p.User, now); cur.After(now.Add(v.holdFor())) {
			log.Info("verify: the member was timed out for longer since the hold: that timeout is kept", "audit", true,
				"until", cur.UTC().Format(time.RFC3339))
			return nil
		}
	}
	return c.release(ctx, hold, target)
}

// holdTimeout is the hold of a member timed out, not given a role.
const holdTimeout = "timeout"

// hold is how v holds new members: its role, or a timeout.
func (v *Verify) hold() string { return cmp.Or(v.Role, holdTimeout) }

// heldBy is how p's member is held; a record written before the hold was
// kept is taken as v holds them.
func heldBy(p bot.Pending, v *Verify) string { return cmp.Or(p.Hold, v.hold()) }

func (c *Client) deletePrompt(ctx context.Context, prompt string) {
	channel, msg, ok := strings.Cut(prompt, ":")
	if !ok {
		return
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	if err := c.sess.ChannelMessageDelete(channel, msg, opts(ctx)...); err != nil && apiCode(err) != codeUnknownMessage {
		c.log.Warn("verify: cannot delete the prompt", "channel", channel, "message", msg, "err", err)
	}
}

// verifyFailed logs and audits what Discord refused in guild, counts it, and
// tells the desk: a missing permission is for the CMs to grant. Under a join
// raid, every member's step is refused alike for want of the permission: the
// desk is told of it once in verifyRefusedQuiet (on v's clock), not a
// message a member, which would hold the desk channel, and the asks waiting
// behind it, at Discord's pace.
func (c *Client) verifyFailed(ctx context.Context, log interface{ Warn(string, ...any) }, v *Verify, guild, what string, err error) {
	c.met.verify.WithLabelValues(bot.VerifyFailed).Inc()
	log.Warn("verify: "+what, "audit", true, "err", err)
	if code := apiCode(err); code == codeMissingPermissions || code == codeMissingAccess {
		if !c.verifyRefused.Take(guild+" "+strconv.Itoa(code), v.now(), verifyRefusedQuiet) {
			return
		}
		what += " (the next members vigie cannot verify in this server for want of a permission are logged and audited, not told here, for " +
			bot.FormatDuration(verifyRefusedQuiet) + ")"
	}
	c.tellDesk(ctx, "Verification: "+md(what))
}

// verifyRefusedQuiet is how long, once the desk was told that a server
// refused a verification step for a missing permission, the same refusal
// there is not told again.
const verifyRefusedQuiet = 10 * time.Minute

// parseVerify reads vf:GUILD:USER.
func parseVerify(id string) (guild, user string, ok bool) {
	rest, ok := strings.CutPrefix(id, verifyPrefix)
	if !ok {
		return "", "", false
	}
	guild, user, ok = strings.Cut(rest, ":")
	return guild, user, ok && isSnowflake(guild) && isSnowflake(user)
}

// handleVerifyPress carries out the press of a verification button by the
// member it was posted for (interaction refused anyone else's already).
func (c *Client) handleVerifyPress(ctx context.Context, i *discordgo.Interaction, guild, user string) {
	log := c.log.With("guild", guild, "user", user)
	v := c.verify.Load()
	if v == nil {
		c.answer(ctx, i, "Verification is off.")
		return
	}
	v = v.For(guild)
	p, ok, err := v.Pending.TakePending(ctx, Platform, guild, user)
	if err == nil && !ok && c.asking.Under(guild+":"+user) {
		// Pressed as soon as the prompt was posted, before the ask was
		// recorded: the press waits for it. Before, the member was told
		// there was nothing to verify, and stayed held.
		log.Info("verify: a press while the member's ask is being recorded: done once it is")
		if !c.asking.Wait(ctx, guild+":"+user) {
			return
		}
		p, ok, err = v.Pending.TakePending(ctx, Platform, guild, user)
	}
	if err != nil {
		log.Warn("verify: cannot read the pending verification", "err", err)
		c.answer(ctx, i, "Something went wrong, try again in a moment.")
		return
	}
	if !ok {
		c.answer(ctx, i, "Nothing to verify: already done, or too late.")
		return
	}
	if err := c.releaseHeld(ctx, log, p, v); err != nil {
		c.verifyFailed(ctx, log, v, guild, fmt.Sprintf("%s (%s) pressed the button but could not be let speak: %v", p.Name, user, err), err)
		c.answer(ctx, i, "Verified, but the server did not let vigie lift the hold: the moderators are told.")
		return
	}
	c.met.verify.WithLabelValues(bot.VerifyPassed).Inc()
	log.Info("verify: new member verified", "audit", true, "name", p.Name)
	c.answer(ctx, i, "Thanks, welcome!")
	c.deletePrompt(ctx, p.Prompt)
}

// VerifyDue settles the verifications whose time ran out at now: the member
// is kicked (or kept held) and the prompt deleted. Whichever process runs the
// periodic jobs calls it; it reports how many it settled.
func (c *Client) VerifyDue(ctx context.Context, now time.Time) (int, error) {
	v := c.verify.Load()
	if v == nil {
		return 0, nil
	}
	due, err := bot.TakeDue(ctx, v.Pending, Platform, now, 100)
	for _, p := range due {
		v := v.For(p.Space)
		log := c.log.With("guild", p.Space, "user", p.User, "name", p.Name)
		c.deletePrompt(ctx, p.Prompt)
		if v.Off {
			if err := c.releaseHeld(ctx, log, p, v); err != nil && apiCode(err) != codeUnknownMember {
				c.verifyFailed(ctx, log, v, p.Space, fmt.Sprintf("verification is off but %s (%s) could not be let speak: %v", p.Name, p.User, err), err)
				continue
			}
			c.met.verify.WithLabelValues(bot.VerifyReleased).Inc()
			log.Info("verify: verification is off, new member released", "audit", true)
			continue
		}
		if !v.Kick {
			c.met.verify.WithLabelValues(bot.VerifyKept).Inc()
			log.Info("verify: new member did not press in time, kept held", "audit", true)
			continue
		}
		err := c.kick(ctx, bot.Event{Platform: Platform, Space: p.Space, Author: bot.Author{ID: p.User}})
		if apiCode(err) == codeUnknownMember {
			c.met.verify.WithLabelValues(bot.VerifyLeft).Inc()
			log.Info("verify: new member left without pressing", "audit", true)
			continue
		}
		if err != nil {
			c.verifyFailed(ctx, log, v, p.Space, fmt.Sprintf("%s (%s) did not press in time but could not be removed: %v", p.Name, p.User, err), err)
			continue
		}
		c.met.verify.WithLabelValues(bot.VerifyKicked).Inc()
		log.Info("verify: new member did not press in time, kicked", "audit", true)
	}
	return len(due), err
}
