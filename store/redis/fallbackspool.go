package redis

import (
	"context"
	"slices"
	"strings"

	"github.com/vigie-bot/vigie/store"
)

// spoolCaseKey is the spool's key of a local case.
func spoolCaseKey(id string) string { return "c:" + id }

// spoolReminderKey is the spool's key of a reminder kept for Redis.
func spoolReminderKey(id string) string { return "r:" + id }

// spoolBanKey is the spool's key of a ban waiting for Redis.
func spoolBanKey(member string) string { return "b:" + member }

// spoolCase writes the local case id to the spool as it stands, while it
// waits for Redis: not once written there, nor once Redis refused it. f.mu
// is held.
func (f *Fallback) spoolCase(id string) {
	if f.spool == nil {
		return
	}
	lc := f.cases[id]
	if lc == nil || lc.remote != "" || lc.memoryOnly {
		return
	}
	ctx := context.Background()
	c, err := f.local.Case(ctx, id)
	if err != nil {
		return
	}
	cards, _ := f.local.CaseCards(ctx, id)
	f.spool.put(spoolCaseKey(id), spoolRecord{Case: &spoolCase{Case: c, Was: lc.was, Acked: lc.acked, Amended: lc.amended, Cards: cards}})
}

// resolve is the local id a case taken back from the spool has now, for
// one of the ids it had before; id itself otherwise. f.mu is held.
func (f *Fallback) resolve(id string) string {
	if now, ok := f.alias[id]; ok {
		return now
	}
	return id
}

func (f *Fallback) resolveLocked(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.resolve(id)
}

// SpoolKept is the spool's file when what waits for Redis is on disk there
// (the spool's last write went through), "" otherwise: a stop that cannot
// wait for Redis any longer loses nothing then.
func (f *Fallback) SpoolKept() string {
	if f.spool == nil || !f.spool.Written() {
		return ""
	}
	return f.spool.Path()
}

// bansWaitingList is the bans that wait for Redis.
func (f *Fallback) bansWaitingList() []store.TimedBan {
	f.banMu.Lock()
	defer f.banMu.Unlock()
	out := make([]store.TimedBan, 0, len(f.laterBans))
	for _, b := range f.laterBans {
		out = append(out, b)
	}
	return out
}

// takeBack takes what the processes before left in the spool, oldest first,
// as if it had been buffered here: the bans wait to be written before any
// call of the book, the cases are opened in memory again (under new local
// ids; their old ones still reach them) with what the desk did to them,
// and all of it is written to Redis once it answers, by the loop that
// pings it, and spooled again meanwhile.
func (f *Fallback) takeBack(recs []spoolRecord) {
	if len(recs) == 0 {
		return
	}
	cases, audits, dones, bans, reminders := f.takeBackItems(recs)
	f.log.Warn("spool: what waited for redis when vigie stopped is taken back, to be written to redis once it answers",
		"spool", f.spool.Path(), "cases", cases, "audit", audits, "journal_done", dones, "bans", bans, "reminders", reminders)
}

// adoptSpools takes over the spool files of this store that a process
// running beside this one left when it stopped or died (its lock gone):
// their items are taken back as at start, the bans first in the queue of
// the book, and the files removed once this process's file holds them.
// Each file is taken by one process (its lock). Called before each call of
// the ban book and by the loop that pings Redis: a ban for good the dead
// process gave is written before this process reads the book again.
func (f *Fallback) adoptSpools() {
	if f.spool == nil || f.ctx.Err() != nil {
		return // none, or this process stops: files are left to the others
	}
	f.spool.adoptMu.Lock()
	defer f.spool.adoptMu.Unlock()
	recs, files := f.spool.orphans()
	if len(files) == 0 {
		return
	}
	cases, audits, dones, bans, reminders := f.takeBackItems(recs)
	f.spool.handOver(files)
	names := make([]string, len(files))
	for i, a := range files {
		names[i] = a.path
	}
	f.log.Warn("spool: what waited for redis in the spool of a process that stopped is taken over, to be written to redis once it answers",
		"spool", f.spool.Path(), "from", strings.Join(names, ", "), "cases", cases, "audit", audits, "journal_done", dones, "bans", bans, "reminders", reminders)
}

// takeBackItems takes recs back, oldest first, and counts them by kind.
func (f *Fallback) takeBackItems(recs []spoolRecord) (cases, audits, dones, bans, reminders int) {
	ctx := context.Background()
	for _, r := range recs {
		switch {
		case r.Ban != nil:
			f.PutBanLater(*r.Ban)
			bans++
		case r.Audit != nil:
			f.bufferAudit(ctx, *r.Audit)
			audits++
		case r.Done != "":
			f.bufferDone(ctx, r.Done)
			dones++
		case r.Case != nil:
			if f.takeBackCase(ctx, r.Case) {
				cases++
			}
		case r.Reminder != nil:
			// After its case: a local id is the case's new one then.
			f.mu.Lock()
			f.keepReminder(f.resolve(r.Reminder.Case), r.Reminder.K)
			f.mu.Unlock()
			reminders++
		}
	}
	return cases, audits, dones, bans, reminders
}

// takeBackCase opens sc's case in memory again, as it stood.
func (f *Fallback) takeBackCase(ctx context.Context, sc *spoolCase) bool {
	c := sc.Case
	was := append(slices.Clone(sc.Was), c.ID)
	c.ID = ""
	outcome, by, byName, at, undeliverable := c.Outcome, c.DecidedBy, c.DeciderName, c.DecidedAt, c.Undeliverable
	decided := c.Status == store.CaseDecided
	f.mu.Lock()
	defer f.mu.Unlock()
	// Alone: it was a case of its own, with its own cards.
	out, err := f.local.OpenCaseAlone(ctx, c)
	if err != nil {
		f.log.Error("spool: a case it held cannot be opened in memory again: lost", "case", sc.Case.ID,
			"event", sc.Case.Event.Key(), "rule", sc.Case.Rule, "err", err)
		return false
	}
	if f.alias == nil {
		f.alias = make(map[string]string)
	}
	for _, id := range was {
		if id != "" && id != out.ID {
			f.alias[id] = out.ID
		}
	}
	if lc := f.cases[out.ID]; lc != nil {
		// The same case twice (two spools of one store): one is enough.
		lc.was = append(lc.was, was...)
		f.spoolCase(out.ID)
		return false
	}
	lc := &localCase{acked: sc.Acked, amended: sc.Amended, was: was}
	f.cases[out.ID] = lc
	f.nCases++
	f.queue = append(f.queue, queued{caseID: out.ID})
	for _, card := range sc.Cards {
		_ = f.local.AddCard(ctx, out.ID, card)
	}
	if sc.Acked {
		if undeliverable != "" {
			_ = f.local.MarkUndeliverable(ctx, out.ID, undeliverable)
		} else {
			_ = f.local.AckCase(ctx, out.ID)
		}
	}
	if decided {
		if at.IsZero() {
			at = f.opts.Now()
		}
		_, _ = f.local.DecideCase(ctx, out.ID, outcome, by, byName, at)
	}
	f.spoolCase(out.ID)
	return true
}
