package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// The bounds of one check of the ban book against the platforms' lists.
const (
	// bookReadStep is how many bans one read of the book asks for.
	bookReadStep = 500
	// maxBookRead bounds the bans of one platform read from the book in a
	// check: past that, the rest wait for a next check.
	maxBookRead = 20_000
	// maxListPages bounds the pages of a platform's list of bans read for
	// one space in a check (100 people a page on a Facebook Page: 50,000).
	maxListPages = 500
	// maxBookChecks bounds the members whose ban is read one by one in a
	// check, to confirm that a ban the list leaves out is gone.
	maxBookChecks = 50
	// bookLockWait bounds the wait for a member's lock (another action of
	// theirs under way) before their ban is checked.
	bookLockWait = 5 * time.Second
)

// CheckBanBook checks vigie's ban book against the lists of bans of the
// platforms that show one (bot.BanLister: a Facebook Page's blocked list),
// and forgets the bans a moderator lifted by hand in the platform's tools,
// logged and audited ("unblocked by hand in Meta's tools"), so that the
// book does not say banned a member who is not, and the end kept of a
// timed ban does not lift, later, a ban given by hand since. It returns how
// many bans it forgot. The daemon calls it every 15 minutes, in the one
// process that holds its lease.
//
// The list narrows, the member's own read decides: a ban the list leaves
// out is forgotten only once the platform says that member is not banned
// (BanOf), with the member's lock held, and only if it is still the ban
// the book kept (a ban given meanwhile stays). What cannot be read is left
// alone: a member the list does not name (a Messenger sender), a list or a
// read refused (a permission; said once, not at every check), a read that
// failed (tried at the next check). A list longer than the check reads, or
// more bans left out than it confirms, are checked in part, the rest at the
// next checks. Bans given by hand are not added to the book: it holds
// vigie's own bans, and a block by hand has no end for vigie to keep.
func (m *Moderator) CheckBanBook(ctx context.Context) (int, error) {
	book, ok := m.store.(store.BanLister)
	if !ok {
		return 0, nil
	}
	bk, ok := m.store.(store.BanKeeper)
	if !ok {
		return 0, nil
	}
	start := m.now()
	var errs []error
	forgotten := 0
	for _, name := range slices.Sorted(maps.Keys(m.platforms)) {
		p, ok := m.platforms[name].(bot.BanLister)
		if !ok {
			continue
		}
		bySpace, err := m.bookOf(ctx, book, p, name, start)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, space := range slices.Sorted(maps.Keys(bySpace)) {
			n, err := m.checkSpaceBook(ctx, bk, p, name, space, bySpace[space])
			forgotten += n
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return forgotten, errors.Join(errs...)
}

// bookOf reads the bans the book keeps of platform's members that p's list
// names, given before start, by space and member id.
func (m *Moderator) bookOf(ctx context.Context, book store.BanLister, p bot.BanLister, platform string, start time.Time) (map[string]map[string]store.TimedBan, error) {
	out := map[string]map[string]store.TimedBan{}
	cursor, read := "", 0
	for read < maxBookRead {
		sctx, cancel := m.storeContext(ctx)
		bans, next, err := book.BansOn(sctx, platform, cursor, bookReadStep)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("the ban book of %s not read: %w", platform, err)
		}
		read += len(bans)
		for _, b := range bans {
			if !p.Listed(b.Event) || !b.Started.Before(start) {
				continue
			}
			if out[b.Event.Space] == nil {
				out[b.Event.Space] = map[string]store.TimedBan{}
			}
			out[b.Event.Space][b.Event.Author.ID] = b
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
	m.log.Info("the ban book checked in part: more bans than one check reads", "platform", platform, "read", read)
	return out, nil
}

// checkSpaceBook reads p's list of bans in space until every ban in kept
// was seen there, or the list's end, and has the bans it left out
// confirmed and forgotten (forgetUnbanned).
func (m *Moderator) checkSpaceBook(ctx context.Context, bk store.BanKeeper, p bot.BanLister, platform, space string, kept map[string]store.TimedBan) (int, error) {
	log := m.log.With("platform", platform, "space", space)
	where := platform + "|" + space
	left := maps.Clone(kept)
	after, pages := "", 0
	for len(left) > 0 && pages < maxListPages {
		ids, next, err := p.BannedPage(ctx, space, after)
		if err != nil {
			if bot.Retryable(err) || ctx.Err() != nil {
				return 0, fmt.Errorf("the list of bans of %s not read; again at the next check: %w", where, err)
			}
			m.bookRefused(log, where, err)
			return 0, nil
		}
		pages++
		for _, id := range ids {
			delete(left, id)
		}
		if next == "" {
			break
		}
		after = next
	}
	m.bookRead(log, where)
	if len(left) == 0 {
		return 0, nil
	}
	if pages == maxListPages {
		log.Info("the list of bans read in part: longer than one check reads; the bans not seen in it are read one by one",
			"pages", pages, "not_seen", len(left))
	}
	bans := slices.SortedFunc(maps.Values(left), func(a, b store.TimedBan) int { return cmp.Compare(a.Key(), b.Key()) })
	bans = m.bookTurn(where, bans)
	n := 0
	var errs []error
	for _, b := range bans {
		done, err := m.forgetUnbanned(ctx, bk, p, b)
		if err != nil {
			errs = append(errs, err)
		}
		if done {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// bookTurn picks at most maxBookChecks of bans (sorted by key) to confirm in
// this check, starting after the last one the check before confirmed in
// where, so that the same ones do not take every check's turns.
func (m *Moderator) bookTurn(where string, bans []store.TimedBan) []store.TimedBan {
	if len(bans) <= maxBookChecks {
		return bans
	}
	m.bookMu.Lock()
	defer m.bookMu.Unlock()
	last := m.bookLast[where]
	i, _ := slices.BinarySearchFunc(bans, last, func(b store.TimedBan, k string) int { return cmp.Compare(b.Key(), k) })
	if i < len(bans) && bans[i].Key() == last {
		i++
	}
	turn := slices.Concat(bans[i:], bans[:i])[:maxBookChecks]
	if m.bookLast == nil {
		m.bookLast = map[string]string{}
	}
	m.bookLast[where] = turn[len(turn)-1].Key()
	return turn
}

// bookRefused says once that where's list of bans cannot be read (a
// permission missing), not at every check: the book is then left as it is.
func (m *Moderator) bookRefused(log *slog.Logger, where string, err error) {
	m.bookMu.Lock()
	said := m.bookRefusedAt[where]
	if m.bookRefusedAt == nil {
		m.bookRefusedAt = map[string]bool{}
	}
	m.bookRefusedAt[where] = true
	m.bookMu.Unlock()
	if said {
		log.Debug("the list of bans still not read: the ban book is left as it is", "err", err)
		return
	}
	log.Warn("the list of bans not read: the ban book is not checked against it (said once, until it is read again)", "err", err)
}

// bookRead notes that where's list of bans was read: a refusal after it is
// said again.
func (m *Moderator) bookRead(log *slog.Logger, where string) {
	m.bookMu.Lock()
	said := m.bookRefusedAt[where]
	delete(m.bookRefusedAt, where)
	m.bookMu.Unlock()
	if said {
		log.Info("the list of bans read again: the ban book is checked against it")
	}
}

// forgetUnbanned forgets tb, a ban p's list left out, once p says its
// member is not banned, if tb is still the ban kept: logged and audited as
// lifted by hand. It reports whether it forgot it.
func (m *Moderator) forgetUnbanned(ctx context.Context, bk store.BanKeeper, p bot.BanLister, tb store.TimedBan) (bool, error) {
	ev := tb.Event
	log := m.log.With("platform", ev.Platform, "space", ev.Space, "author", ev.Author.ID)
	// A member being banned, unbanned or lifted now is checked at the next
	// check, rather than hold this one for that action's tries.
	unlock, err := m.lockMemberWithin(ctx, ev, OutcomeUnban, bookLockWait)
	if err != nil {
		return false, fmt.Errorf("ban %s not checked; again at the next check: %w", tb.Key(), err)
	}
	defer unlock()
	sctx, cancel := m.storeContext(ctx)
	cur, ok, err := bk.KeptBan(sctx, tb.Key())
	cancel()
	if err != nil {
		return false, fmt.Errorf("ban %s not checked: %w", tb.Key(), err)
	}
	if !ok || !store.SameBan(cur, tb) {
		return false, nil // lifted, replaced or forgotten since the book was read
	}
	st, err := p.BanOf(ctx, ev)
	switch {
	case err != nil:
		return false, fmt.Errorf("ban %s not checked; again at the next check: %w", tb.Key(), err)
	case !st.Known || st.Banned:
		return false, nil
	}
	sctx, cancel = m.storeContext(ctx)
	defer cancel()
	removed, err := bk.RemoveKeptBan(sctx, tb)
	if err != nil {
		return false, fmt.Errorf("ban %s, lifted by hand, not forgotten: %w", tb.Key(), err)
	}
	if !removed {
		return false, nil
	}
	now := m.now()
	end := banLeft(tb.Until, now)
	how := p.UnbannedByHand()
	match := bot.Match{Rule: cmp.Or(tb.Rule, ManualRule), Reason: how + ": the ban " + end + " is forgotten"}
	e := store.AuditEntry{At: now, Event: ev, Mode: m.Mode(),
		Verdict: bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: now, Matches: []bot.Match{match}}}
	if err := m.store.AppendAudit(sctx, e); err != nil {
		log.Warn("a ban lifted by hand forgotten, but not audited", "err", err)
	}
	log.Info(how+": the ban kept is forgotten", "audit", true, "banned_by", tb.By, "rule", tb.Rule, "until", end,
		"started", tb.Started)
	return true, nil
}
