package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

var (
	_ bot.Locker    = (*Client)(nil)
	_ bot.SlowModer = (*Client)(nil)
)

// LockdownLevel is the verification level a lockdown raises the guild to
// (HIGH: members must have been in the server ten minutes before they talk,
// with a verified e-mail), which holds a raid's fresh accounts at the door.
const LockdownLevel = discordgo.VerificationLevelHigh

// LockdownSlowmode is the slow mode a lockdown puts on the channel of the
// event that asked for it, when it has one.
const LockdownSlowmode = 30 * time.Second

// maxSlowmode is Discord's longest slow mode (rate_limit_per_user).
const maxSlowmode = 6 * time.Hour

// lockState is what a lockdown changed, as it found it: the guild's
// verification level, and the channel's slow mode when it set one.
type lockState struct {
	VerificationLevel int    `json:"verification_level"`
	Channel           string `json:"channel,omitempty"`
	RateLimitPerUser  int    `json:"rate_limit_per_user,omitempty"`
}

// Lock raises the guild's verification level to LockdownLevel (Manage
// Server) and, when the event has a channel, puts LockdownSlowmode on it
// (Manage Channels). A level already as high is left as it is.
func (c *Client) Lock(ctx context.Context, ev bot.Event) (string, error) {
	if err := checkIDs(bot.ActLockdown, ev); err != nil {
		return "", err
	}
	if ev.Space == "" {
		return "", &bot.ActionError{Op: bot.ActLockdown, Err: fmt.Errorf("discord: event %s has no guild", ev.ID)}
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	g, err := c.sess.Guild(ev.Space, opts(ctx)...)
	if err != nil {
		return "", c.classify(ctx, bot.ActLockdown, err)
	}
	st := lockState{VerificationLevel: int(g.VerificationLevel)}
	if g.VerificationLevel < LockdownLevel {
		lvl := LockdownLevel
		if _, err := c.sess.GuildEdit(ev.Space, &discordgo.GuildParams{VerificationLevel: &lvl}, append(opts(ctx), auditReason(ctx))...); err != nil {
			return "", c.lacking(c.classify(ctx, bot.ActLockdown, err), ev.Space, "", discordgo.PermissionManageServer)
		}
	}
	if ch := channelOf(ev); ch != "" {
		prev, err := c.slow(ctx, bot.ActLockdown, ch, LockdownSlowmode, true)
		if err != nil {
			// The level is raised: say so, for the undo.
			b, _ := json.Marshal(st)
			c.log.Warn("lockdown: the level is raised but the slow mode failed", "guild", ev.Space, "channel", ch, "err", err)
			return string(b), nil
		}
		st.Channel, st.RateLimitPerUser = ch, prev
	}
	b, _ := json.Marshal(st)
	return string(b), nil
}

// Unlock puts back the verification level, and the slow mode, Lock found.
func (c *Client) Unlock(ctx context.Context, ev bot.Event, prev string) error {
	if err := checkIDs(bot.ActLockdown, ev); err != nil {
		return err
	}
	var st lockState
	if err := json.Unmarshal([]byte(prev), &st); err != nil {
		return &bot.ActionError{Op: bot.ActLockdown, Err: fmt.Errorf("discord: settings before the lockdown %q: %w", prev, err)}
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	var errs []error
	if st.VerificationLevel < int(LockdownLevel) {
		lvl := discordgo.VerificationLevel(st.VerificationLevel)
		if _, err := c.sess.GuildEdit(ev.Space, &discordgo.GuildParams{VerificationLevel: &lvl}, append(opts(ctx), auditReason(ctx))...); err != nil {
			errs = append(errs, c.lacking(c.classify(ctx, bot.ActLockdown, err), ev.Space, "", discordgo.PermissionManageServer))
		}
	}
	if st.Channel != "" {
		if _, err := c.slow(ctx, bot.ActLockdown, st.Channel, time.Duration(st.RateLimitPerUser)*time.Second, false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SlowMode makes members of the event's channel wait d between two
// messages (rate_limit_per_user, at most 6 hours; Manage Channels), and
// returns the slow mode it had in seconds.
func (c *Client) SlowMode(ctx context.Context, ev bot.Event, d time.Duration) (string, error) {
	if err := checkIDs(bot.ActSlowmode, ev); err != nil {
		return "", err
	}
	ch := channelOf(ev)
	if ch == "" {
		return "", &bot.ActionError{Op: bot.ActSlowmode, Err: fmt.Errorf("discord: event %s has no channel", ev.ID)}
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	prev, err := c.slow(ctx, bot.ActSlowmode, ch, d, true)
	if err != nil {
		return "", err
	}
	return fmt.Sprint(prev), nil
}

// RestoreSlowMode puts back the slow mode SlowMode found.
func (c *Client) RestoreSlowMode(ctx context.Context, ev bot.Event, prev string) error {
	if err := checkIDs(bot.ActSlowmode, ev); err != nil {
		return err
	}
	var secs int
	if _, err := fmt.Sscan(prev, &secs); err != nil {
		return &bot.ActionError{Op: bot.ActSlowmode, Err: fmt.Errorf("discord: slow mode before %q: %w", prev, err)}
	}
	ctx, cancel := callContext(ctx)
	defer cancel()
	_, err := c.slow(ctx, bot.ActSlowmode, channelOf(ev), time.Duration(secs)*time.Second, false)
	return err
}

// slow sets the channel's slow mode to d and returns the one it had, in
// seconds. With raise, a channel already as slow (a moderator's own slow
// mode) is left as it is.
func (c *Client) slow(ctx context.Context, op bot.ActionKind, channel string, d time.Duration, raise bool) (int, error) {
	ch, err := c.sess.Channel(channel, opts(ctx)...)
	if err != nil {
		return 0, c.classify(ctx, op, err)
	}
	secs := int(min(max(d, 0), maxSlowmode) / time.Second)
	if ch.RateLimitPerUser == secs || raise && ch.RateLimitPerUser > secs {
		return ch.RateLimitPerUser, nil
	}
	if _, err := c.sess.ChannelEditComplex(channel, &discordgo.ChannelEdit{RateLimitPerUser: &secs}, append(opts(ctx), auditReason(ctx))...); err != nil {
		return 0, c.lacking(c.classify(ctx, op, err), ch.GuildID, channel, discordgo.PermissionManageChannels)
	}
	return ch.RateLimitPerUser, nil
}
