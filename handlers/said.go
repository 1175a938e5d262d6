package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// SaidKeep is how long what vigie said about a message (an answer, a
// warning) is remembered, so that an edit of the message, judged again, does
// not get it again: as long as Meta's answers are kept (bot/meta).
const SaidKeep = store.MessageCallKeep

// saidKey names what a says about ev's message in the store's calls: the
// same answer (its text) once a message, one warning a message, whatever
// its text. "" when nothing is kept: a is neither, the platform's edits do
// not name their message (bot.MessageNamer), or the store keeps no calls.
func (m *Moderator) saidKey(p bot.Platform, ev bot.Event, a bot.Action) (store.CallKeeper, string) {
	var what string
	switch a.Kind {
	case bot.ActReply:
		sum := sha256.Sum256([]byte(a.Text))
		what = "reply " + hex.EncodeToString(sum[:16])
	case bot.ActWarn:
		what = "warn"
	default:
		return nil, ""
	}
	return m.callKey(p, ev, "said", what)
}

// callKey names, in the store's calls, a call of this kind ("said",
// "cased") about ev's message and what it was; "" when the platform does
// not name its messages or the store keeps no calls.
func (m *Moderator) callKey(p bot.Platform, ev bot.Event, kind, what string) (store.CallKeeper, string) {
	ck, ok := m.store.(store.CallKeeper)
	if !ok {
		return nil, ""
	}
	msg := messageOf(p, ev)
	if msg == "" {
		return nil, ""
	}
	return ck, kind + " " + ev.Platform + "|" + ev.Space + "|" + msg + " " + what
}

// saidAlready claims a, about to be said about ev's message, and says why
// it is not when it was already ("" when it goes out): an edit, judged
// again, gets neither the answer its message got nor a second warning, on
// this instance or another one on the store, or after a restart; an answer
// the edit newly calls for (another text) goes out, once. release gives the
// claim back when a could not be said, so that the next edit tries again.
// A store that does not answer leaves it said: a member answered twice is
// better than one left without an answer.
func (m *Moderator) saidAlready(ctx context.Context, p bot.Platform, ev bot.Event, a bot.Action) (why string, release func()) {
	ck, key := m.saidKey(p, ev, a)
	if key == "" {
		return "", nil
	}
	now := m.now()
	claim := claimOf(ev, now)
	sctx, cancel := m.storeContext(ctx)
	kept, claimed, err := ck.ClaimCall(sctx, key, claim, SaidKeep)
	cancel()
	switch {
	case err != nil:
		m.ClaimFailed(ClaimSaid, ev.Key(), err)
		return "", nil
	case !claimed:
		what := "given this answer"
		if a.Kind == bot.ActWarn {
			what = "warned about"
		}
		return "the message was " + what + " " + bot.FormatDuration(now.Sub(kept.At).Abs()) + " ago (an edit is not answered twice)", nil
	}
	return "", func() { m.forget(ctx, ck, key, claim.At) }
}

// claimOf is the record of a claim made for ev, naming it, so that the same
// event judged again (its verdict handed by the journal to another instance
// after this one died between its claim and its action) is given the claim
// again (store.CallKeeper.ClaimCall); another edit, another event, is not.
func claimOf(ev bot.Event, now time.Time) store.CallRecord {
	return store.CallRecord{At: now, Done: true, By: ev.Key()}
}

// MessageOf names the message ev is about, the same for the message and each
// of its edits, as its platform does (bot.MessageNamer); "" when the
// platform is off or does not name them. The rules engine counts a strike
// once a message by it (rules.Options.MessageOf).
func (m *Moderator) MessageOf(ev bot.Event) string {
	return messageOf(m.platforms[ev.Platform], ev)
}

func messageOf(p bot.Platform, ev bot.Event) string {
	if n, ok := p.(bot.MessageNamer); ok {
		return n.MessageOf(ev)
	}
	return ""
}

// casedKey names, in the store's calls, the case rule asked the desk for
// about ev's message; "" when none is kept (as saidKey).
func (m *Moderator) casedKey(p bot.Platform, ev bot.Event, rule string) (store.CallKeeper, string) {
	return m.callKey(p, ev, "cased", rule)
}

// forwardedAlready says why an edit's forward by rule opens no case ("" when
// it does): the rule sent its message to the desk already, when it was first
// judged or for an earlier edit; the CMs do not get it again, nor a hit more
// on its case for each typo fixed. A forward the edit newly calls for (by
// another rule) goes to the desk. release gives the claim back when the case
// could not be opened. A message's own forwards are kept once their case is
// opened (casesOpened): nothing is asked of the store before.
func (m *Moderator) forwardedAlready(ctx context.Context, p bot.Platform, ev bot.Event, rule string) (why string, release func()) {
	if ev.Kind != bot.KindEdit {
		return "", nil
	}
	ck, key := m.casedKey(p, ev, rule)
	if key == "" {
		return "", nil
	}
	now := m.now()
	claim := claimOf(ev, now)
	sctx, cancel := m.storeContext(ctx)
	kept, claimed, err := ck.ClaimCall(sctx, key, claim, store.MessageCallKeep)
	cancel()
	switch {
	case err != nil:
		m.ClaimFailed(ClaimCased, ev.Key(), err)
		return "", nil
	case !claimed:
		return "rule " + rule + " sent the message to the desk " + bot.FormatDuration(now.Sub(kept.At).Abs()) + " ago (an edit is not sent twice)", nil
	}
	return "", func() { m.forget(ctx, ck, key, claim.At) }
}

// uncase forgets, once a CM decided case c, that its rule sent its message
// to the desk (forwardedAlready): the CM judged the text the card showed,
// and an edit the rule still forwards (a link kept, turned into a scam's)
// is a new text for the desk, not a typo fixed.
//
// Every rule that sent the message to the desk is forgotten (Case.Rules),
// not only the case's own: before 7 December a second rule on the card
// (a scam's, beside a link's) kept the edits it matched from the desk for
// 7 days after the decision.
func (m *Moderator) uncase(ctx context.Context, c store.Case) {
	rules := c.Rules
	if c.Rule != "" && !slices.Contains(rules, c.Rule) {
		rules = append(slices.Clone(rules), c.Rule)
	}
	p := m.platforms[c.Event.Platform]
	for _, rule := range rules {
		ck, key := m.casedKey(p, c.Event, rule)
		if key == "" {
			return
		}
		m.forget(ctx, ck, key, m.now())
	}
}

// casedCalls are the calls that keep, for a message (not an edit) whose
// case is about to be opened, the rules that forwarded it, so that its
// edits are not sent to the desk again by them: kept by the store in the
// step that opens or joins the case (store.Case.Calls), one round trip on
// Redis. nil when the store does not keep them so (a Redis cluster):
// casesOpened keeps them after the case.
func (m *Moderator) casedCalls(p bot.Platform, ev bot.Event, rules []string) []string {
	if ev.Kind == bot.KindEdit {
		return nil
	}
	if cw, ok := m.store.(store.CallsWithCases); !ok || !cw.KeepsCallsWithCases() {
		return nil
	}
	var calls []string
	for _, rule := range rules {
		_, key := m.casedKey(p, ev, rule)
		if key == "" {
			return nil
		}
		calls = append(calls, key)
	}
	return calls
}

// casesOpened keeps, for a message (not an edit) whose case was opened
// without its calls (casedCalls), the rules that forwarded it: one store
// call for each, after the case.
func (m *Moderator) casesOpened(ctx context.Context, p bot.Platform, ev bot.Event, rules []string) {
	if ev.Kind == bot.KindEdit {
		return
	}
	now := m.now()
	for _, rule := range rules {
		ck, key := m.casedKey(p, ev, rule)
		if key == "" {
			return
		}
		sctx, cancel := m.storeContext(ctx)
		err := ck.KeepCall(sctx, key, store.CallRecord{At: now, Done: true}, store.MessageCallKeep)
		cancel()
		if err != nil {
			m.ClaimFailed(ClaimCased, ev.Key(), err)
			return
		}
	}
}

// forget gives back the claim of key made at at: a record older than
// MessageCallKeep, forgotten at once, which the next claim takes.
func (m *Moderator) forget(ctx context.Context, ck store.CallKeeper, key string, at time.Time) {
	sctx, cancel := m.storeContext(context.WithoutCancel(ctx))
	defer cancel()
	if err := ck.KeepCall(sctx, key, store.CallRecord{At: at.Add(-2 * store.MessageCallKeep)}, time.Millisecond); err != nil {
		m.ClaimFailed(ClaimForget, key, err)
	}
}
