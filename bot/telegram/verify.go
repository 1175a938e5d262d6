package telegram

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskwork"
	"github.com/vigie-bot/vigie/store"
)

// Verify is the rule file's verify: section as the connector applies it: a
// new member is held (restrictChatMember, nothing may be sent) and asked to
// press a button within Timeout; the press lifts the hold, and a member who
// did not press is kicked, or kept held for the CMs.
type Verify struct {
	Timeout time.Duration
	// Kick removes a member who did not press in time; false keeps them held.
	Kick bool
	// Prompt is the prompt's text for a member called name.
	Prompt func(name string) string
	Button string
	// Pending keeps the members asked, where every instance sees them.
	Pending bot.Verifications
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Off asks no one new (verify: was taken out of the rule file); those
	// asked before are still let go on their press, and at their deadline.
	Off bool
	// Places are the chats whose community has a verification of its own,
	// by id: they are asked, or not, as it says, and the others as v does.
	Places map[string]*Verify
}

// For is the verification of a chat: its own in Places, else v.
func (v *Verify) For(chat string) *Verify {
	if own, ok := v.Places[chat]; ok {
		return own
	}
	return v
}

// verifyPrefix starts the button's callback data: vf:CHAT:USER.
const verifyPrefix = "vf:"

// SetVerify turns verification of new members on (v non-nil) or off.
func (c *Client) SetVerify(v *Verify) { c.verify.Store(v) }

func (v *Verify) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	// Without a clock given (the daemon gives its own), the wall clock.
	return time.Now()
}

// verifying marks the join events of members to verify, and starts their
// verification. Bots are not asked: an admin added them.
func (c *Client) verifying(ctx context.Context, evs []bot.Event) {
	all := c.verify.Load()
	if all == nil {
		return
	}
	asked := map[string]bool{}
	for i := range evs {
		ev := &evs[i]
		if ev.Kind == bot.KindProfile && asked[ev.Author.ID] {
			// the names of the member who just joined, judged with the join
			ev.Author.Unverified = true
		}
		if ev.Kind != bot.KindJoin || ev.Author.Bot {
			continue
		}
		v := all.For(ev.Space)
		if v.Off {
			continue
		}
		ev.Author.Unverified = true
		asked[ev.Author.ID] = true
		chat, err1 := strconv.ParseInt(ev.Space, 10, 64)
		user, err2 := strconv.ParseInt(ev.Author.ID, 10, 64)
		if err1 != nil || err2 != nil || user <= 0 {
			continue
		}
		c.startVerify(ctx, v, chat, user, ev.Author.Name, ev.ID)
	}
}

// maxAsksWaiting bounds the new members waiting for a desk worker to be
// asked (and the presses of their buttons): at Telegram's twenty messages a
// minute in a group, 256 prompts are some thirteen minutes of a raid already.
const maxAsksWaiting = 256

// startVerify hands the member's verification to the desk's workers without
// waiting for one: the updates' loop never waits for it. Past maxAsksWaiting
// (a join raid), the member is let in without being asked: holding them
// would cost the very calls Telegram is holding back, and leave them mute
// with no button to press. Their join still goes to the rules, unverified
// (the raid rules, lockdown and kicks, act on it), each is audited and
// counted (not_asked), and the desk is told once as the wave begins and
// once with the count when the line has drained.
func (c *Client) startVerify(ctx context.Context, v *Verify, chat, user int64, name, join string) {
	asked := c.asks.Go(c.runContext(ctx), deskwork.Job{
		Work: func(ctx context.Context) {
			c.askVerify(ctx, v, chat, user, name, join)
			c.notAsked.Over(ctx)
		},
		Dropped: func() {
			c.metrics.verify.WithLabelValues(bot.VerifyNotAsked).Inc()
			c.log.Warn("verify: new member not asked, vigie is stopping", "audit", true, "chat", chat, "user", user, "name", name)
		},
	})
	if asked {
		return
	}
	n := c.notAsked.Add(itoa(chat))
	c.metrics.verify.WithLabelValues(bot.VerifyNotAsked).Inc()
	c.log.Warn("verify: new member not asked, too many waiting", "audit", true, "chat", chat, "user", user, "name", name,
		"waiting", maxAsksWaiting, "not_asked", n)
	if n == 1 {
		c.notAsked.Begins(ctx, itoa(chat))
	}
}

// tellDesk sends text to the desk chat, when there is one.
func (c *Client) tellDesk(ctx context.Context, text string) {
	if desk := c.deskChat(); desk != 0 {
		if _, err := c.sendMessage(ctx, opVerify, outgoing{chat: desk, text: truncate(text, maxText)}); err != nil {
			c.log.Warn("verify: cannot tell the desk", "err", err)
		}
	}
}

// askVerify holds the member, posts the button and records them as pending,
// once for the join of event id join.
func (c *Client) askVerify(ctx context.Context, v *Verify, chat, user int64, name, join string) {
	// the member's name, which they chose, on one line and cut: it writes
	// no line in vigie's voice, in the group nor on the desk
	shown := shownName(name, maxPersonShown)
	defer c.asking.Start(itoa(chat) + ":" + itoa(user))()
	log := c.log.With("chat", chat, "user", user, "name", name)
	if !c.firstAsk(ctx, log, v, join) {
		log.Info("verify: new member asked already on this join, its update handed on again: not asked twice", "join", join)
		return
	}
	banned, err := c.holdNew(ctx, log, v, chat, user)
	if banned {
		return
	}
	if err != nil {
		c.verifyFailed(ctx, log, v, chat, fmt.Sprintf("could not hold the new member %s (%d) for verification: %v", shown, user, err), err)
		return
	}
	text := fmt.Sprintf(`<a href="tg://user?id=%d">%s</a> `, user, html.EscapeString(shown)) + html.EscapeString(v.Prompt(shown))
	data := verifyPrefix + itoa(chat) + ":" + itoa(user)
	msg, err := c.sendMessage(ctx, opVerify, outgoing{chat: chat, html: true, text: text,
		markup: tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(v.Button, data)))})
	if err != nil {
		// Held with no button to press: let them go rather than leave them mute.
		c.lift(ctx, chat, user)
		c.verifyFailed(ctx, log, v, chat, fmt.Sprintf("could not post the verification button for %s (%d): %v", shown, user, err), err)
		return
	}
	p := bot.Pending{Platform: Platform, Space: itoa(chat), User: itoa(user), Name: name,
		Prompt: strconv.Itoa(msg.MessageID), Deadline: v.now().Add(v.Timeout)}
	if old, ok, _ := v.Pending.TakePending(ctx, Platform, p.Space, p.User); ok {
		c.deletePrompt(ctx, chat, old.Prompt) // they came back before their time ran out
	}
	if err := v.Pending.PutPending(ctx, p); err != nil {
		c.lift(ctx, chat, user)
		c.deletePrompt(ctx, chat, p.Prompt)
		c.verifyFailed(ctx, log, v, chat, fmt.Sprintf("could not record the verification of %s (%d): %v", shown, user, err), err)
		return
	}
	c.metrics.verify.WithLabelValues(bot.VerifyAsked).Inc()
	log.Info("verify: new member asked", "audit", true, "deadline", p.Deadline, "waiting", c.asks.Waiting())
}

// askClaimer is the store's record of the calls made once
// (store.CallKeeper), where the store that keeps the verifications has one.
type askClaimer interface {
	ClaimCall(ctx context.Context, key string, r store.CallRecord, ttl time.Duration) (store.CallRecord, bool, error)
}

// askedFor is how long a join is remembered as asked: as long as an update
// may wait in the poller's inbox, and the store remembers event ids.
const askedFor = 72 * time.Hour

// firstAsk claims the ask of the member who joined in event join, and
// reports whether it is this one's to make. An update is handed on again
// when a poller was killed (or a webhook call not answered) before its
// events were judged: its join was asked already, perhaps pressed even, and
// is not asked again. The claim comes before the ask: a kill between the
// two leaves one member unasked, which the rules still judge, rather than
// every handed-on join asked twice. Not had (the store does not answer),
// the member is asked.
func (c *Client) firstAsk(ctx context.Context, log interface{ Warn(string, ...any) }, v *Verify, join string) bool {
	claims, ok := v.Pending.(askClaimer)
	if !ok || join == "" {
		return true
	}
	_, first, err := claims.ClaimCall(ctx, Platform+":verify:"+join, store.CallRecord{At: v.now(), Done: true}, askedFor)
	if err != nil {
		log.Warn("verify: cannot tell whether this join was asked already: asked", "join", join, "err", err)
		return true
	}
	return first
}

// holdNew restricts the new member for their verification, unless they are
// banned already (banned true, not held, nor to be asked): the hold is a
// restriction, and a banned member restricted is no longer banned. In a
// join raid the asks wait in line for minutes while the raid's rules ban
// the members as their joins are judged. The status is read and the hold
// set under the member's lock, so that a ban under way is read once given,
// not lifted by a hold set after it; a lock not had leaves them done
// without it. A status Telegram does not give leaves the member held, as
// before.
func (c *Client) holdNew(ctx context.Context, log *slog.Logger, v *Verify, chat, user int64) (banned bool, err error) {
	member := bot.Event{Platform: Platform, Space: itoa(chat), Channel: itoa(chat), Author: bot.Author{ID: itoa(user)}}
	unlock, err := c.lockMember(ctx, log, v.Pending, member)
	if err != nil {
		log.Info("verify: another action of the new member is under way: held without their lock", "err", err)
		unlock = func() {}
	}
	defer unlock()
	banned, err = c.banned(ctx, opVerify, chat, user)
	switch {
	case err != nil:
		log.Warn("verify: cannot tell whether the new member is banned already: held", "err", err)
	case banned:
		log.Info("verify: new member banned already: not asked, left banned", "audit", true)
		return true, nil
	}
	_, err = c.call(ctx, opVerify, "restrictChatMember", tgbotapi.Params{
		"chat_id":                          itoa(chat),
		"user_id":                          itoa(user),
		"permissions":                      jsonParam(mutedPermissions),
		"use_independent_chat_permissions": "true",
	})
	return false, err
}

// liftUnlessBanned lets a held member speak (lift), unless they were banned
// meanwhile (banned true, nothing done): every permission true would make
// a banned member no longer banned. Read and lifted under the member's
// lock, so that a ban under way is read once given, not lifted by a lift
// set after it; a lock not had leaves them done without it. A status
// Telegram does not give leaves the member lifted, as before.
func (c *Client) liftUnlessBanned(ctx context.Context, log *slog.Logger, v *Verify, chat, user int64) (banned bool, err error) {
	member := bot.Event{Platform: Platform, Space: itoa(chat), Channel: itoa(chat), Author: bot.Author{ID: itoa(user)}}
	unlock, err := c.lockMember(ctx, log, v.Pending, member)
	if err != nil {
		log.Info("verify: another action of the member is under way: let speak without their lock", "err", err)
		unlock = func() {}
	}
	defer unlock()
	if banned, err := c.banned(ctx, opVerify, chat, user); err != nil {
		log.Warn("verify: cannot tell whether the member was banned meanwhile: let speak", "err", err)
	} else if banned {
		return true, nil
	}
	return false, c.lift(ctx, chat, user)
}

// opVerify names verification's calls in errors and metrics.
const opVerify = bot.ActionKind("verify")

// verifyFailed logs and audits what the platform refused in chat, counts
// it, and tells the desk: a missing right is for the CMs to grant. Under a
// join raid, every member's step is refused alike for want of the right:
// the desk is told of it once in verifyRefusedQuiet (on v's clock), not a
// message a member, which at Telegram's pace in the desk chat would hold
// the asks waiting behind it, and the cases.
func (c *Client) verifyFailed(ctx context.Context, log interface {
	Warn(string, ...any)
}, v *Verify, chat int64, what string, err error) {
	c.metrics.verify.WithLabelValues(bot.VerifyFailed).Inc()
	log.Warn("verify: "+what, "audit", true, "err", err)
	if lacksRight(err) {
		if !c.verifyRefused.Take(itoa(chat), v.now(), verifyRefusedQuiet) {
			return
		}
		what += " (the next members vigie cannot verify in this chat for want of a right are logged and audited, not told here, for " +
			bot.FormatDuration(verifyRefusedQuiet) + ")"
	}
	c.tellDesk(ctx, "Verification in chat "+itoa(chat)+": "+what)
}

// verifyRefusedQuiet is how long, once the desk was told that a chat refused
// a verification step for a missing right, the same refusal there is not
// told again.
const verifyRefusedQuiet = 10 * time.Minute

// lacksRight says whether Telegram refused a call for a right vigie lacks
// in the chat.
func lacksRight(err error) bool {
	var te *APIError
	if !errors.As(err, &te) {
		return false
	}
	d := strings.ToLower(te.Description)
	return strings.Contains(d, "not enough rights") || strings.Contains(d, "have no rights") || strings.Contains(d, "chat_admin_required")
}

// lift gives a held member back the chat's own permissions: every permission
// true, which the Bot API documents as lifting the restrictions.
func (c *Client) lift(ctx context.Context, chat, user int64) error {
	_, err := c.call(ctx, opVerify, "restrictChatMember", tgbotapi.Params{
		"chat_id":                          itoa(chat),
		"user_id":                          itoa(user),
		"permissions":                      jsonParam(memberPermissions),
		"use_independent_chat_permissions": "true",
	})
	return err
}

func (c *Client) deletePrompt(ctx context.Context, chat int64, prompt string) {
	id, err := strconv.Atoi(prompt)
	if err != nil {
		return
	}
	if _, err := c.request(ctx, opVerify, "deleteMessage", tgbotapi.DeleteMessageConfig{ChatID: chat, MessageID: id}); err != nil {
		c.log.Warn("verify: cannot delete the prompt", "chat", chat, "message", id, "err", err)
	}
}

// parseVerify reads vf:CHAT:USER.
func parseVerify(data string) (chat, user int64, ok bool) {
	rest, ok := strings.CutPrefix(data, verifyPrefix)
	if !ok {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(rest, ":")
	chat, err1 := strconv.ParseInt(a, 10, 64)
	user, err2 := strconv.ParseInt(b, 10, 64)
	return chat, user, ok && err1 == nil && err2 == nil
}

// verifyPressAnswer is the answer to a press of a verification button, given
// before any work: only the member it was posted for may press it.
func (c *Client) verifyPressAnswer(cb *tgbotapi.CallbackQuery, chat, user int64) (text string, alert, final bool) {
	if cb.From == nil || cb.From.ID != user {
		c.metrics.verify.WithLabelValues(bot.VerifyRefused).Inc()
		var by int64
		if cb.From != nil {
			by = cb.From.ID
		}
		c.log.With("chat", chat, "user", user).Warn("verify: someone else pressed a new member's button", "audit", true, "by", by)
		return "This button is not for you.", true, true
	}
	if c.verify.Load() == nil {
		return "Verification is off.", false, true
	}
	return "⏳ One moment…", false, false
}

// handleVerifyPress carries out the member's press of their verification
// button, answered already (verifyPressAnswer): the prompt goes once they may
// speak; a failure is told in the chat.
func (c *Client) handleVerifyPress(ctx context.Context, cb *tgbotapi.CallbackQuery, chat, user int64) {
	tell := func(text string) {
		ctx, cancel := reportContext(ctx)
		defer cancel()
		c.tellPress(ctx, cb, text)
	}
	log := c.log.With("chat", chat, "user", user)
	v := c.verify.Load()
	if v == nil {
		return
	}
	v = v.For(itoa(chat))
	p, ok, err := v.Pending.TakePending(ctx, Platform, itoa(chat), itoa(user))
	if err == nil && !ok && c.asking.Under(itoa(chat)+":"+itoa(user)) {
		// Pressed as soon as the prompt was posted, before the ask was
		// recorded: the press waits for it. Before, it found nothing to
		// verify and was dropped, and the member who had pressed stayed
		// held, then was kicked when their time ran out.
		log.Info("verify: a press while the member's ask is being recorded: done once it is")
		if !c.asking.Wait(ctx, itoa(chat)+":"+itoa(user)) {
			return
		}
		p, ok, err = v.Pending.TakePending(ctx, Platform, itoa(chat), itoa(user))
	}
	if err != nil {
		log.Warn("verify: cannot read the pending verification", "err", err)
		tell("something went wrong, press again in a moment.")
		return
	}
	if !ok {
		log.Info("verify: a press with nothing to verify: already done, or too late")
		return
	}
	banned, err := c.liftUnlessBanned(ctx, log, v, chat, user)
	if banned {
		c.deletePrompt(ctx, chat, p.Prompt)
		log.Info("verify: new member pressed the button, but was banned meanwhile: left banned", "audit", true, "name", p.Name)
		return
	}
	if err != nil {
		c.verifyFailed(ctx, log, v, chat, fmt.Sprintf("%s (%d) pressed the button but could not be let speak: %v", p.Name, user, err), err)
		tell("you are verified, but the group did not let vigie lift the restriction: the admins are told.")
		return
	}
	c.deletePrompt(ctx, chat, p.Prompt)
	c.metrics.verify.WithLabelValues(bot.VerifyPassed).Inc()
	log.Info("verify: new member verified", "audit", true, "name", p.Name)
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
		chat, _ := strconv.ParseInt(p.Space, 10, 64)
		user, _ := strconv.ParseInt(p.User, 10, 64)
		log := c.log.With("chat", chat, "user", user, "name", p.Name)
		c.deletePrompt(ctx, chat, p.Prompt)
		if v.Off {
			// Every permission would lift a ban given meanwhile too.
			banned, err := c.liftUnlessBanned(ctx, log, v, chat, user)
			if banned {
				log.Info("verify: verification is off; the new member is banned: left banned", "audit", true)
				continue
			}
			if err != nil {
				c.verifyFailed(ctx, log, v, chat, fmt.Sprintf("verification is off but %s (%d) could not be let speak: %v", p.Name, user, err), err)
				continue
			}
			c.metrics.verify.WithLabelValues(bot.VerifyReleased).Inc()
			log.Info("verify: verification is off, new member released", "audit", true)
			continue
		}
		if !v.Kick {
			c.metrics.verify.WithLabelValues(bot.VerifyKept).Inc()
			log.Info("verify: new member did not press in time, kept held", "audit", true)
			continue
		}
		// verification's hold ends with it: a kick that set it again would
		// leave them held for good should verification be turned off
		member := bot.Event{Platform: Platform, Space: p.Space, Channel: p.Space, Author: bot.Author{ID: p.User}}
		err := c.kickLocked(ctx, log, v.Pending, member)
		if errors.Is(err, errMemberBusy) {
			// Kept for the next check, its prompt gone already.
			p.Prompt = ""
			pctx, cancel := reportContext(context.WithoutCancel(ctx))
			perr := v.Pending.PutPending(pctx, p)
			cancel()
			if perr != nil {
				c.verifyFailed(ctx, log, v, chat, fmt.Sprintf("%s (%d) did not press in time but could not be removed: %v; nor kept for the next check: %v", p.Name, user, err, perr), err)
				continue
			}
			log.Info("verify: new member did not press in time, but another action of theirs is under way: the kick is left for the next check", "err", err)
			continue
		}
		if errors.Is(err, errBannedAlready) {
			// banned while held: out already, and kept out
			c.metrics.verify.WithLabelValues(bot.VerifyKicked).Inc()
			log.Info("verify: new member did not press in time, and is banned: left banned", "audit", true)
			continue
		} else if err != nil {
			c.verifyFailed(ctx, log, v, chat, fmt.Sprintf("%s (%d) did not press in time but could not be removed: %v", p.Name, user, err), err)
			continue
		}
		c.metrics.verify.WithLabelValues(bot.VerifyKicked).Inc()
		log.Info("verify: new member did not press in time, kicked", "audit", true)
	}
	return len(due), err
}

// memberLocker is the store's lock of a member (store.MemberLocker), which
// vigie's bans, kicks, mutes and lifts hold, one at a time.
type memberLocker interface {
	LockMember(ctx context.Context, key string, wait time.Duration) (func(), error)
}

// memberWait bounds the wait of a verification's hold or lift for the
// member's lock, as the moderator's actions' wait.
const memberWait = 30 * time.Second

// kickWait bounds the wait of the check's kick for the member's lock: none.
// A busy member's kick is left for the next check, rather than hold the
// check, and the verifications due after it, up to memberWait for each
// busy member of a raid.
const kickWait = 0

// errMemberBusy is a verification's kick not done: another action of the
// member held their lock for all of the kick's wait (or vigie is stopping).
var errMemberBusy = bot.ErrMemberBusy

// kickLocked kicks member under the member's lock, let go however the kick
// ends (a panic too: the lock would otherwise be held on every instance).
func (c *Client) kickLocked(ctx context.Context, log *slog.Logger, pending bot.Verifications, member bot.Event) error {
	unlock, err := c.lockMemberWithin(ctx, log, pending, member, kickWait)
	if err != nil {
		return err
	}
	defer unlock()
	return c.kick(ctx, member, false)
}

// lockMember takes the lock of member from the store that keeps the
// verifications, when it offers one: the kick of one who did not press in
// time is a ban lifted at once, and a ban given between (a raid's rule, a
// CM's /ban) would be lifted by it. Held by another action for all of the
// wait (or vigie stopping meanwhile), the kick is not done: an error
// wrapping errMemberBusy. The store away, the kick is done as before, and
// logged: it finds a ban given before it, and leaves it.
func (c *Client) lockMember(ctx context.Context, log *slog.Logger, pending bot.Verifications, member bot.Event) (func(), error) {
	return c.lockMemberWithin(ctx, log, pending, member, c.memberWait)
}

// lockMemberWithin is lockMember, waiting wait at most.
func (c *Client) lockMemberWithin(ctx context.Context, log *slog.Logger, pending bot.Verifications, member bot.Event, wait time.Duration) (func(), error) {
	ml, ok := pending.(memberLocker)
	if !ok {
		return func() {}, nil
	}
	unlock, err := ml.LockMember(ctx, bot.MemberKey(member), wait)
	switch {
	case err == nil:
		return unlock, nil
	case errors.Is(err, errMemberBusy):
		return nil, err
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%w: %w", errMemberBusy, err)
	}
	log.Warn("verify: the member's lock not had: done without it", "err", err)
	return func() {}, nil
}
