package telegram

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
)

// Telegram treats a restriction or ban shorter than 30 seconds, or longer than 366
// days, as forever: short ones are stretched rather than made permanent.
const (
	minRestriction = 35 * time.Second
	maxRestriction = 366 * 24 * time.Hour
)

// target is where an event happened, read back from its fields.
type target struct {
	chat   int64
	msg    int // 0 when the event has no message (a chat_member join)
	thread int
	user   int64 // negative for a chat speaking as itself
}

func parseTarget(op bot.ActionKind, ev bot.Event) (target, error) {
	fail := func(format string, args ...any) (target, error) {
		return target{}, &bot.ActionError{Op: op, Err: fmt.Errorf("telegram: "+format, args...)}
	}
	if ev.Platform != Platform {
		return fail("event %s is from %q", ev.ID, ev.Platform)
	}
	var t target
	var err error
	if t.chat, err = strconv.ParseInt(ev.Space, 10, 64); err != nil {
		return fail("event %s: space %q is not a chat id", ev.ID, ev.Space)
	}
	parts := strings.Split(ev.ID, ":")
	if len(parts) >= 2 {
		t.msg, _ = strconv.Atoi(parts[1]) // "join" ids have no message
	}
	if ev.Thread != "" {
		t.thread, _ = strconv.Atoi(ev.Thread)
	}
	if ev.Author.ID != "" {
		if t.user, err = strconv.ParseInt(ev.Author.ID, 10, 64); err != nil {
			return fail("event %s: author %q is not a user id", ev.ID, ev.Author.ID)
		}
	}
	return t, nil
}

func (t target) needMessage(op bot.ActionKind, ev bot.Event) error {
	if t.msg == 0 {
		return &bot.ActionError{Op: op, Err: fmt.Errorf("telegram: event %s has no message", ev.ID)}
	}
	return nil
}

// authorTarget is parseTarget for the actions on the event's author.
func authorTarget(op bot.ActionKind, ev bot.Event) (target, error) {
	t, err := parseTarget(op, ev)
	if err == nil && t.user == 0 {
		err = &bot.ActionError{Op: op, Err: fmt.Errorf("telegram: event %s has no author", ev.ID)}
	}
	return t, err
}

// onMember runs act on t, an event's author, where the event came from or,
// when that basic group became a supergroup, in the supergroup: a mute, a
// ban, its read-back, an unban or a kick is about the member, who moved
// with the group (a message stays where it was posted). A move vigie did not
// know of (another instance took Telegram's service message, or vigie was
// not running) is learned from Telegram's refusal, which names the new id,
// and act run again there.
func (c *Client) onMember(t target, act func(target) error) error {
	if to := c.moved.follow(t.chat); to != t.chat {
		t.chat, t.msg, t.thread = to, 0, 0
	}
	err := act(t)
	if to := migratedTo(err); to != 0 && to != t.chat {
		c.chatMoved(t.chat, to)
		t.chat, t.msg, t.thread = to, 0, 0
		err = act(t)
	}
	return err
}

var _ bot.EventLimiter = (*Client)(nil)

// CanOn says what vigie can do to ev's author, as the actions refuse it
// before asking Telegram: a chat writing as itself (a channel, an anonymous
// administrator) cannot be muted or kicked, only banned. An event vigie
// cannot read is left to the action, which says why.
func (c *Client) CanOn(ev bot.Event, k bot.ActionKind) bool {
	switch k {
	case bot.ActTimeout, opUntimeout, bot.ActKick:
		t, err := authorTarget(k, ev)
		return err != nil || t.user >= 0
	}
	return true
}

// Delete removes the event's message. A message already gone counts as
// deleted. One posted 48 hours ago or more, on the client's clock, is not
// asked for: Telegram lets a bot delete only younger ones.
func (c *Client) Delete(ctx context.Context, ev bot.Event) error {
	t, err := parseTarget(bot.ActDelete, ev)
	if err != nil {
		return err
	}
	if err := t.needMessage(bot.ActDelete, ev); err != nil {
		return err
	}
	// ev.At is when the message was sent, or for an edit when it was
	// edited: an edit 48 hours old is of a message older still.
	age := c.cfg.Now().Sub(ev.At)
	if !ev.At.IsZero() && age >= deleteWindow {
		return &bot.ActionError{Op: bot.ActDelete, Err: &tooOldToDelete{age: age}}
	}
	_, err = c.request(ctx, bot.ActDelete, "deleteMessage", tgbotapi.DeleteMessageConfig{ChatID: t.chat, MessageID: t.msg})
	if err == nil || gone(err) {
		// Gone already (by its author, a CM, or this same verdict carried
		// out again after a restart): what was asked is done. An album goes
		// with it (albums.go).
		if rest := c.albums.deleted(t.chat, t.msg); len(rest) > 0 {
			return c.deleteAlbumRest(ctx, t.chat, rest)
		}
		return nil
	}
	// Refused all the same (vigie's clock a little behind Telegram's), its
	// words say the age may be why (PlainRefusal).
	return err
}

// deleteWindow is how long after its sending Telegram lets a bot delete a
// message (deleteMessage: "sent less than 48 hours ago"); a human admin may
// delete it at any age.
const deleteWindow = 48 * time.Hour

// tooOldToDelete is a delete vigie did not ask Telegram for, the message
// being age old: a case kept for the morning after a weekend. It says why,
// and what still works.
type tooOldToDelete struct{ age time.Duration }

func (e *tooOldToDelete) Error() string {
	return fmt.Sprintf("telegram: the message was posted %s ago, and Telegram lets a bot delete a message only in its first 48 hours: "+
		"an admin of the group can still delete it by hand", bot.FormatDuration(e.age.Truncate(time.Hour)))
}

// PlainRefusal says it in a CM's words (bot.PlainRefusal).
func (e *tooOldToDelete) PlainRefusal(bot.ActionKind) string {
	return "vigie cannot delete this message: Telegram lets a bot delete a message only in its first 48 hours, and it was posted " +
		bot.FormatDuration(e.age.Truncate(time.Hour)) + " ago; an admin of the group can still delete it by hand"
}

// gone reports whether Telegram answered that the message to delete is not there.
func gone(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == http.StatusBadRequest &&
		strings.Contains(ae.Description, "message to delete not found")
}

// Reply answers the message in its chat (and topic).
func (c *Client) Reply(ctx context.Context, ev bot.Event, text string) error {
	t, err := parseTarget(bot.ActReply, ev)
	if err != nil {
		return err
	}
	_, err = c.sendMessage(ctx, bot.ActReply, outgoing{chat: t.chat, thread: t.thread, replyTo: t.msg, text: text, preview: true})
	return err
}

// Warn answers the message naming its author, so that the warning reaches them
// even when the message itself was just deleted.
func (c *Client) Warn(ctx context.Context, ev bot.Event, text string) error {
	t, err := parseTarget(bot.ActWarn, ev)
	if err != nil {
		return err
	}
	name := ev.Author.Name
	if name == "" {
		name = ev.Author.ID
	}
	msg := outgoing{chat: t.chat, thread: t.thread, replyTo: t.msg, html: true, text: html.EscapeString(text), preview: true}
	if t.user > 0 {
		msg.text = fmt.Sprintf(`<a href="tg://user?id=%d">%s</a>, %s`, t.user, html.EscapeString(shownName(name, maxPersonShown)), msg.text)
	}
	_, err = c.sendMessage(ctx, bot.ActWarn, msg)
	return err
}

// Timeout mutes the author: restrictChatMember with no right to send anything
// until now+d. A banned member is left banned: the restrictions would
// replace the ban, and they could join again; done for a rule's mute, an
// error (errBannedMute) for a person's. A member
// muted until later keeps that mute, nothing asked of Telegram, unless a
// person asked for this one (bot.ByHand), which replaces it.
func (c *Client) Timeout(ctx context.Context, ev bot.Event, d time.Duration) error {
	t, err := authorTarget(bot.ActTimeout, ev)
	if err != nil {
		return err
	}
	if t.user < 0 {
		return &bot.ActionError{Op: bot.ActTimeout, Err: errors.New("telegram: a chat writing as itself cannot be muted, only banned")}
	}
	return c.onMember(t, func(t target) error { return c.timeout(ctx, t, d) })
}

// timeout is Timeout in t's chat.
func (c *Client) timeout(ctx context.Context, t target, d time.Duration) error {
	now, err := c.chatMember(ctx, bot.ActTimeout, t.chat, t.user)
	if err != nil {
		return err
	}
	if now.Status == "kicked" {
		if !bot.ByHand(ctx) {
			// A rule's mute of a member out already (banned by a rule of
			// the same raid, or by hand): they cannot speak, nothing to do.
			c.log.Info("mute of a member banned already: left banned", "chat", t.chat, "user", t.user)
			return nil
		}
		return &bot.ActionError{Op: bot.ActTimeout, Err: errBannedMute}
	}
	until := untilDate(c.cfg.Now(), d)
	if now.mutedUntil(until) && !bot.ByHand(ctx) {
		// A restriction's end is whatever the last call says: a raider's
		// timeout(10m) for a flood after the timeout(7d) for a scam would
		// cut the week short. The member stays muted at least as asked;
		// a person's mute (a CM's milder decision, /mute) replaces it.
		c.log.Info("member already muted for longer: mute kept", "chat", t.chat, "user", t.user,
			"until", now.Until, "asked", bot.FormatDuration(d))
		return nil
	}
	params := tgbotapi.Params{
		"chat_id":                          itoa(t.chat),
		"user_id":                          itoa(t.user),
		"permissions":                      jsonParam(mutedPermissions),
		"use_independent_chat_permissions": "true",
	}
	if until != 0 {
		params["until_date"] = itoa(until)
	}
	_, err = c.call(ctx, bot.ActTimeout, "restrictChatMember", params)
	return err
}

// mutedUntil reports whether m, as getChatMember described them, may not
// send messages until until (a Unix time, 0 for ever) or later: a restricted
// member without can_send_messages whose restriction ends then or after.
func (m member) mutedUntil(until int64) bool {
	if m.Status != "restricted" || m.perms["can_send_messages"] {
		return false
	}
	return m.Until == 0 || (until != 0 && m.Until >= until)
}

// Untimeout lifts a mute: restrictChatMember with every permission true, which
// the Bot API documents as lifting the restrictions, so the member is back under
// the chat's own permissions rather than granted more. A banned member is left
// banned (errBannedUnmute): that would lift their ban too.
func (c *Client) Untimeout(ctx context.Context, ev bot.Event) error {
	t, err := authorTarget(opUntimeout, ev)
	if err != nil {
		return err
	}
	if t.user < 0 {
		return &bot.ActionError{Op: opUntimeout, Err: errors.New("telegram: a chat writing as itself is never muted")}
	}
	return c.onMember(t, func(t target) error {
		if banned, err := c.banned(ctx, opUntimeout, t.chat, t.user); err != nil {
			return err
		} else if banned {
			return &bot.ActionError{Op: opUntimeout, Err: errBannedUnmute}
		}
		_, err := c.call(ctx, opUntimeout, "restrictChatMember", tgbotapi.Params{
			"chat_id":                          itoa(t.chat),
			"user_id":                          itoa(t.user),
			"permissions":                      jsonParam(memberPermissions),
			"use_independent_chat_permissions": "true",
		})
		return err
	})
}

// opUntimeout names the lifting of a mute in errors and metrics.
const opUntimeout = bot.ActionKind(bot.OutcomeUntimeout)

// memberPermissions are every permission of ChatPermissions, all true.
var memberPermissions = map[string]bool{
	"can_send_messages":         true,
	"can_send_audios":           true,
	"can_send_documents":        true,
	"can_send_photos":           true,
	"can_send_videos":           true,
	"can_send_video_notes":      true,
	"can_send_voice_notes":      true,
	"can_send_polls":            true,
	"can_send_other_messages":   true,
	"can_add_web_page_previews": true,
	"can_change_info":           true,
	"can_invite_users":          true,
	"can_pin_messages":          true,
	"can_manage_topics":         true,
}

// mutedPermissions takes every right to post away.
var mutedPermissions = map[string]bool{
	"can_send_messages":         false,
	"can_send_audios":           false,
	"can_send_documents":        false,
	"can_send_photos":           false,
	"can_send_videos":           false,
	"can_send_video_notes":      false,
	"can_send_voice_notes":      false,
	"can_send_polls":            false,
	"can_send_other_messages":   false,
	"can_add_web_page_previews": false,
}

// Ban bans the author for d (0: for good). A chat writing as itself (a channel)
// is banned with banChatSenderChat.
func (c *Client) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	t, err := authorTarget(bot.ActBan, ev)
	if err != nil {
		return err
	}
	return c.onMember(t, func(t target) error {
		if t.user < 0 {
			_, err := c.request(ctx, bot.ActBan, "banChatSenderChat", tgbotapi.BanChatSenderChatConfig{ChatID: t.chat, SenderChatID: t.user})
			return err
		}
		cfg := tgbotapi.BanChatMemberConfig{ChatMemberConfig: tgbotapi.ChatMemberConfig{ChatID: t.chat, UserID: t.user}}
		if d > 0 {
			cfg.UntilDate = untilDate(c.cfg.Now(), d)
		}
		_, err := c.request(ctx, bot.ActBan, "banChatMember", cfg)
		return err
	})
}

// BanEnds reports whether Telegram ends a ban of ev's author for d by
// itself: a member's, up to 366 days (until_date); a chat writing as itself
// is banned until unbanned, as is a member for longer.
func (c *Client) BanEnds(ev bot.Event, d time.Duration) bool {
	t, err := authorTarget(bot.ActBan, ev)
	return err == nil && t.user > 0 && d > 0 && d <= maxRestriction
}

var _ bot.BanReader = (*Client)(nil)

// BanOf says whether the author is banned, as getChatMember says now
// (status "kicked", until_date 0 for forever, as is one more than 366 days
// away). A chat writing as itself is
// not a chat member Telegram answers about: not known.
func (c *Client) BanOf(ctx context.Context, ev bot.Event) (bot.BanStatus, error) {
	t, err := authorTarget(bot.ActBan, ev)
	if err != nil || t.user < 0 {
		return bot.BanStatus{}, nil
	}
	var m member
	err = c.onMember(t, func(t target) (err error) {
		m, err = c.chatMember(ctx, bot.ActBan, t.chat, t.user)
		return err
	})
	if err != nil {
		return bot.BanStatus{}, err
	}
	st := bot.BanStatus{Known: m.Status != "", Banned: m.Status == "kicked"}
	if st.Banned && m.Until != 0 {
		// Telegram takes a ban for more than 366 days for one forever
		// (banChatMember's until_date): such an end, read back, is no end,
		// and a longer ban vigie would lift at its end must not replace it.
		if until := time.Unix(m.Until, 0).UTC(); until.Sub(c.cfg.Now()) <= maxRestriction {
			st.Until = until
		}
	}
	return st, nil
}

// Unban lifts a ban. Telegram's unbanChatMember also removes a member who is not
// banned, unless only_if_banned is set: it always is here.
func (c *Client) Unban(ctx context.Context, ev bot.Event) error {
	t, err := authorTarget(bot.ActBan, ev)
	if err != nil {
		return err
	}
	return c.onMember(t, func(t target) error {
		if t.user < 0 {
			_, err := c.request(ctx, bot.ActBan, "unbanChatSenderChat", tgbotapi.UnbanChatSenderChatConfig{ChatID: t.chat, SenderChatID: t.user})
			return err
		}
		_, err := c.request(ctx, bot.ActBan, "unbanChatMember", tgbotapi.UnbanChatMemberConfig{
			ChatMemberConfig: tgbotapi.ChatMemberConfig{ChatID: t.chat, UserID: t.user}, OnlyIfBanned: true})
		return err
	})
}

// errBannedAlready is a kick of a member who is banned: Telegram kicks by a
// ban lifted at once, which would let them back in.
var errBannedAlready = errors.New("telegram: the member is banned here, and a kick would lift the ban: nothing done (/unban lets them back)")

// errBannedUnmute is an unmute of a member who is banned: restrictChatMember
// with every permission gives a banned member their permissions back, and
// lifts the ban with them.
var errBannedUnmute = errors.New("telegram: the member is banned here, and an unmute would lift the ban: nothing done (/unban lets them back)")

// errBannedMute is a mute of a member who is banned: a member has one set
// of restrictions in a supergroup, a ban being the one that takes the chat
// away, and restrictChatMember replaces it: the banned member becomes a
// muted one who is not in the chat and may join again.
var errBannedMute = errors.New("telegram: the member is banned here, and a mute would lift the ban: nothing done")

// member is what getChatMember says of a user in a chat now: their status
// and, for one banned or restricted, when that ends (0: never); for one
// restricted, the permissions they keep (ChatPermissions' fields).
type member struct {
	Status   string `json:"status"`
	Until    int64  `json:"until_date"`
	IsMember bool   `json:"is_member"`
	perms    map[string]bool
}

// chatMember is what getChatMember says of user in chat now. An answer that
// fails for good (a user Telegram does not know) is a user who is not
// there, status ""; one worth retrying is returned.
func (c *Client) chatMember(ctx context.Context, op bot.ActionKind, chat, user int64) (member, error) {
	raw, err := c.call(ctx, op, "getChatMember", tgbotapi.Params{"chat_id": itoa(chat), "user_id": itoa(user)})
	if err != nil {
		if bot.Retryable(err) || migratedTo(err) != 0 {
			// A group that moved is no user that is not there: the
			// caller follows it (onMember).
			return member{}, err
		}
		return member{}, nil
	}
	var m member
	if json.Unmarshal(raw, &m) != nil {
		return member{}, nil
	}
	if m.Status == "restricted" {
		var fields map[string]any
		_ = json.Unmarshal(raw, &fields)
		m.perms = make(map[string]bool, len(memberPermissions))
		for k := range memberPermissions {
			v, _ := fields[k].(bool)
			m.perms[k] = v
		}
	}
	return m, nil
}

// banned reports whether user is banned from chat, as getChatMember says
// now (status "kicked"). An answer that fails for good (a user Telegram
// does not know) is not a ban; one worth retrying is returned.
func (c *Client) banned(ctx context.Context, op bot.ActionKind, chat, user int64) (bool, error) {
	m, err := c.chatMember(ctx, op, chat, user)
	return m.Status == "kicked", err
}

// Kick removes the author, who may come back: a ban lifted at once. A
// member banned already is left banned: done for a rule's kick, an error
// (errBannedAlready) for a person's. A restricted
// member (muted) is restricted again once out, with the same permissions
// to the same end: the unban that ends a kick lifts every restriction,
// and they would come back free to speak.
func (c *Client) Kick(ctx context.Context, ev bot.Event) error {
	err := c.kick(ctx, ev, true)
	if errors.Is(err, errBannedAlready) && !bot.ByHand(ctx) {
		// A rule's kick of a member out already: done. A person is told.
		c.log.Info("kick of a member banned already: left banned", "chat", ev.Space, "user", ev.Author.ID)
		return nil
	}
	return err
}

// kick is Kick; keep says whether a restricted member's restrictions are
// set again. A new member who did not press in time is held by
// verification's own restriction, which ends with it: a join starts
// another.
func (c *Client) kick(ctx context.Context, ev bot.Event, keep bool) error {
	t, err := authorTarget(bot.ActKick, ev)
	if err != nil {
		return err
	}
	if t.user < 0 {
		return &bot.ActionError{Op: bot.ActKick, Err: errors.New("telegram: a chat writing as itself cannot be kicked, only banned")}
	}
	return c.onMember(t, func(t target) error { return c.kickIn(ctx, t, keep) })
}

// kickIn is kick in t's chat.
func (c *Client) kickIn(ctx context.Context, t target, keep bool) error {
	// The unban that ends a kick would lift a ban the member is under (and
	// the ban before it make a ban with an end one for good): a banned
	// member is out already, and stays banned.
	now, err := c.chatMember(ctx, bot.ActKick, t.chat, t.user)
	if err != nil {
		return err
	}
	if now.Status == "kicked" {
		return &bot.ActionError{Op: bot.ActKick, Err: errBannedAlready}
	}
	key := chatUser{t.chat, t.user}
	switch {
	case !keep:
		now = member{}
	case now.Status == "restricted":
		// Read now: what an earlier kick kept is older.
		c.kicks.forget(key)
	default:
		kept, ok := c.kicks.take(key)
		if !ok {
			break
		}
		// A kick tried again after the restrictions could not be set
		// back: the member is out, and still to be restricted.
		now = kept
	}
	member := tgbotapi.ChatMemberConfig{ChatID: t.chat, UserID: t.user}
	if _, err := c.request(ctx, bot.ActKick, "banChatMember", tgbotapi.BanChatMemberConfig{ChatMemberConfig: member}); err != nil {
		return err
	}
	if _, err := c.request(ctx, bot.ActKick, "unbanChatMember", tgbotapi.UnbanChatMemberConfig{ChatMemberConfig: member, OnlyIfBanned: true}); err != nil {
		return err
	}
	if now.Status != "restricted" {
		return nil
	}
	if err := c.restrictAgain(ctx, t, now); err != nil {
		return err
	}
	c.kicks.forget(key)
	return nil
}

// restrictAgain sets m's restrictions on t's user again, to the same end.
// One whose end came is not; one ending in less than Telegram's shortest
// restriction is stretched to it, rather than made one for good.
func (c *Client) restrictAgain(ctx context.Context, t target, m member) error {
	params := tgbotapi.Params{
		"chat_id":                          itoa(t.chat),
		"user_id":                          itoa(t.user),
		"permissions":                      jsonParam(m.perms),
		"use_independent_chat_permissions": "true",
	}
	if m.Until != 0 {
		now := c.cfg.Now()
		left := time.Unix(m.Until, 0).Sub(now)
		if left <= 0 {
			return nil
		}
		params["until_date"] = itoa(m.Until)
		if left < minRestriction {
			params["until_date"] = itoa(untilDate(now, left))
		}
	}
	if _, err := c.call(ctx, bot.ActKick, "restrictChatMember", params); err != nil {
		// Kept for the kick tried again, which finds them lifted by the
		// unban; only then: a kick refused before the unban left them on,
		// and a moderator may lift them before the next.
		if bot.Retryable(err) {
			c.kicks.keep(chatUser{t.chat, t.user}, m)
		} else {
			c.kicks.forget(chatUser{t.chat, t.user})
		}
		return &bot.ActionError{Op: bot.ActKick, Retryable: bot.Retryable(err), Err: fmt.Errorf(
			"telegram: kicked, but the member's mute could not be set again, and they may speak if they come back: %w", err)}
	}
	return nil
}

// kickRestrictions are the restrictions of the members kicked that could
// not be set again after the unban (which lifted them): a kick tried again
// finds them here, for kickRestrictionKept on now's clock (the client's:
// the retry stage that tries the kick again waits on the daemon's).
type kickRestrictions struct {
	now  func() time.Time
	mu   sync.Mutex
	kept map[chatUser]keptRestriction
}

type keptRestriction struct {
	m  member
	at time.Time
}

// A kick tried again comes within minutes (the retry stage's tries):
// restrictions kept longer are not set again, lest a later kick restrict
// a member unmuted since; at most maxKickRestrictions are kept.
const (
	kickRestrictionKept = 10 * time.Minute
	maxKickRestrictions = 1000
)

func (k *kickRestrictions) keep(key chatUser, m member) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kept == nil || len(k.kept) >= maxKickRestrictions {
		k.kept = map[chatUser]keptRestriction{}
	}
	k.kept[key] = keptRestriction{m: m, at: k.now()}
}

func (k *kickRestrictions) take(key chatUser) (member, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.kept[key]
	if ok && k.now().Sub(r.at) >= kickRestrictionKept {
		delete(k.kept, key)
		return member{}, false
	}
	return r.m, ok
}

func (k *kickRestrictions) forget(key chatUser) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.kept, key)
}

// untilDate is the unix time a restriction of d from now ends, 0 for
// forever.
func untilDate(now time.Time, d time.Duration) int64 {
	if d <= 0 || d > maxRestriction {
		return 0
	}
	return now.Add(max(d, minRestriction)).Unix()
}

// outgoing is one message vigie sends.
type outgoing struct {
	chat    int64
	thread  int
	replyTo int
	text    string
	html    bool
	markup  any
	// preview lets Telegram show a preview of the text's first link: only
	// for vigie's replies in the groups (the rule file's words, a CM's).
	// Elsewhere the text may quote a member, and a member's link on a card
	// or an alert would show, under vigie's words, the title and picture
	// its site chose, fetched by Telegram as the case reaches the desk.
	preview bool
	// patience is how long the message may wait for Telegram's limits;
	// 0 is maxReserve.
	patience time.Duration
}

// maxText is Telegram's limit on a message's text, once parsed, in UTF-16
// code units (length.go).
const maxText = 4096

// sendMessage sends m after the limiter allows it; a 429 holds the chat back for
// as long as Telegram asked.
func (c *Client) sendMessage(ctx context.Context, op bot.ActionKind, m outgoing) (tgbotapi.Message, error) {
	if to := c.moved.follow(m.chat); to != m.chat {
		// The group became a supergroup: the message goes to its new id. A
		// message it answered stays in the old chat, and its id names
		// another message, or none, in the new one.
		m.chat, m.replyTo = to, 0
	}
	// Telegram counts the limit after parsing, in UTF-16 code units (length.go).
	params := tgbotapi.Params{"chat_id": itoa(m.chat), "text": truncate(m.text, maxText)}
	if m.html {
		params["parse_mode"], params["text"] = "HTML", fitHTML(m.text, maxText)
	}
	if !m.preview {
		params["link_preview_options"] = jsonParam(map[string]any{"is_disabled": true})
	}
	if m.thread != 0 {
		params["message_thread_id"] = strconv.Itoa(m.thread)
	}
	if m.replyTo != 0 {
		// The message may be gone already (deleted by the same verdict).
		params["reply_parameters"] = jsonParam(map[string]any{"message_id": m.replyTo, "allow_sending_without_reply": true})
	}
	if m.markup != nil {
		params["reply_markup"] = jsonParam(m.markup)
	}
	if err := c.limiter.waitWithin(ctx, m.chat, cmp.Or(m.patience, maxReserve)); err != nil {
		// Nothing was sent: a deadline that ran out while waiting for our own
		// limits is worth another try, as in classify; a cancellation is not.
		return tgbotapi.Message{}, &bot.ActionError{Op: op, Retryable: errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errNoSlot),
			Err: fmt.Errorf("telegram sendMessage: %w", err)}
	}
	raw, err := c.call(ctx, op, "sendMessage", params)
	if to := migratedTo(err); to != 0 && to != m.chat {
		// The group became a supergroup: the message goes there, once.
		c.chatMoved(m.chat, to)
		return c.sendMessage(ctx, op, m)
	}
	if err != nil {
		if d := retryAfter(err); d > 0 {
			c.limiter.hold(m.chat, d)
		}
		return tgbotapi.Message{}, err
	}
	var sent tgbotapi.Message
	_ = json.Unmarshal(raw, &sent) // the id is a nicety: the message went out
	return sent, nil
}

// editMessage replaces a message's text (and removes its buttons unless
// markup is given). A message stays in the chat it was posted in: when that
// group has become a supergroup, its messages are not there under the same
// ids, and the edit is refused rather than made to another message.
func (c *Client) editMessage(ctx context.Context, chat int64, msg int, text string, markup *tgbotapi.InlineKeyboardMarkup) error {
	// The library's EditMessageTextConfig sends disable_web_page_preview,
	// which the Bot API no longer describes: link_preview_options replaced it.
	params := tgbotapi.Params{"chat_id": itoa(chat), "message_id": strconv.Itoa(msg), "text": fitHTML(text, maxText),
		"parse_mode": "HTML", "link_preview_options": jsonParam(map[string]any{"is_disabled": true})}
	if markup != nil {
		params["reply_markup"] = jsonParam(markup)
	}
	if err := c.limiter.wait(ctx, chat); err != nil {
		return &bot.ActionError{Op: "edit", Retryable: errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errNoSlot),
			Err: fmt.Errorf("telegram editMessageText: %w", err)}
	}
	_, err := c.call(ctx, "", "editMessageText", params)
	if d := retryAfter(err); d > 0 {
		c.limiter.hold(chat, d)
	}
	if to := migratedTo(err); to != 0 {
		c.chatMoved(chat, to)
	}
	var ae *APIError
	if errors.As(err, &ae) && strings.Contains(ae.Description, "message is not modified") {
		return nil // the card already says it
	}
	return err
}

var _ bot.MessageNamer = (*Client)(nil)

// MessageOf is bot.MessageNamer's: "CHAT:MESSAGE" for a message and each of
// its edits ("CHAT:MESSAGE:EDIT_DATE").
func (c *Client) MessageOf(ev bot.Event) string {
	switch ev.Kind {
	case bot.KindMessage, bot.KindEdit, bot.KindDM:
	default:
		return ""
	}
	chat, rest, ok := strings.Cut(ev.ID, ":")
	if !ok {
		return ""
	}
	msg, _, _ := strings.Cut(rest, ":")
	if _, err := strconv.Atoi(msg); err != nil {
		return ""
	}
	return chat + ":" + msg
}
