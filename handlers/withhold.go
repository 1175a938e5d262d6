package handlers

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// What a Moderator keeps from saying, so that its own messages never become the
// spam: one warning per author and space in WarnEvery, a place's warnings past
// PlaceWarnings a minute folded into one grouped message, no warning to an
// author the same verdict bans, kicks or times out, and nothing said about a
// message older than Stale (a backlog handed over after a restart).
const (
	// DefaultWarnEvery is how long an author waits for a second warning.
	DefaultWarnEvery = 10 * time.Minute
	// DefaultPlaceWarnings is how many warnings a place gets a minute before
	// they are folded into one grouped message.
	DefaultPlaceWarnings = 3
	// DefaultStale is the age past which a message gets no warning or reply,
	// and a timeout that would already be over is not given.
	DefaultStale = 10 * time.Minute
	// DefaultMaxWarned is how many authors warned within WarnEvery are
	// remembered: past it, the one warned longest ago is forgotten first (and
	// may be warned again sooner), so that a raid of new accounts cannot grow
	// the memory for the whole window.
	DefaultMaxWarned = 100_000
)

// groupedPrefix starts the one message that stands for a wave of warnings.
const groupedPrefix = "⚠️ Several messages here were moderated. "

// Speech tunes what the Moderator says on the platforms; zero values take the defaults.
type Speech struct {
	WarnEvery     time.Duration
	PlaceWarnings int
	Stale         time.Duration
	MaxWarned     int
}

func (s Speech) withDefaults() Speech {
	if s.WarnEvery <= 0 {
		s.WarnEvery = DefaultWarnEvery
	}
	if s.PlaceWarnings <= 0 {
		s.PlaceWarnings = DefaultPlaceWarnings
	}
	if s.Stale <= 0 {
		s.Stale = DefaultStale
	}
	if s.MaxWarned <= 0 {
		s.MaxWarned = DefaultMaxWarned
	}
	return s
}

// sweepEvery is how many warnings go by between two sweeps of the places'
// budgets, which keeps them to the places warned in the last minute, and
// at most MaxWarned.
const sweepEvery = 1024

// warnings remembers who was warned and how much each place was.
type warnings struct {
	mu      sync.Mutex
	authors map[string]time.Time // platform/space/author: last warning
	// order holds the authors' warnings as they were given, oldest first
	// from head: the expired ones and, past MaxWarned, the oldest are
	// forgotten from its front without a walk over authors. An entry
	// whose author was warned again since is skipped.
	order  []warnedAt
	head   int
	places map[string]*placeWarnings
	adds   int
	// dropped and placesDropped count the authors forgotten before
	// WarnEvery, and the places before their minute, for want of room.
	dropped, placesDropped int64
}

type warnedAt struct {
	author string
	at     time.Time
}

type placeWarnings struct {
	minute  time.Time // start of the place's current minute
	n       int       // warnings sent in it
	grouped bool      // the grouped message of this minute was sent
}

// withhold says why a is not carried out for ev now ("" when it is), and gives
// the action to carry out: a warning past the place's budget becomes the one
// grouped message of the minute. acts are the verdict's actions
// (Verdict.Actions, merged once by Handle), p is ev's platform (nil when off)
// and failed those of acts that failed so far: a sanction the platform cannot do, or
// that failed, does not stand in for the warning. goesOut says a is carried
// out when not withheld (not paused, nor made a case): only then does a
// warning count as the author's last.
func (m *Moderator) withhold(ev bot.Event, acts []bot.Action, a bot.Action, p bot.Platform, failed []bot.Action, goesOut bool) (bot.Action, string) {
	now := m.now()
	if ev.Kind == bot.KindProfile {
		// A name is not a message: nothing to answer, nor to delete but the
		// name itself where the platform can take it off (bot.NameRemover).
		// What can be done to its member (timeout, kick, ban, a case) is.
		_, renames := p.(bot.NameRemover)
		switch {
		case a.Kind == bot.ActDelete && renames:
		case a.Kind == bot.ActDelete, a.Kind == bot.ActHide, a.Kind == bot.ActReply, a.Kind == bot.ActWarn:
			return a, "a profile event has no message to " + string(a.Kind)
		}
	}
	stale := !ev.At.IsZero() && now.Sub(ev.At) > m.speech.Stale
	switch a.Kind {
	case bot.ActTimeout, bot.ActLockdown, bot.ActSlowmode:
		if stale && a.Duration > 0 && ev.At.Add(a.Duration).Before(now) {
			return a, "the " + string(a.Kind) + " would already be over (event from " + bot.FormatDuration(now.Sub(ev.At)) + " ago)"
		}
		return a, ""
	case bot.ActReply:
		if stale {
			return a, "no reply to a message from " + bot.FormatDuration(now.Sub(ev.At)) + " ago"
		}
		return a, ""
	case bot.ActWarn:
	default:
		return a, ""
	}
	if stale {
		return a, "no warning about a message from " + bot.FormatDuration(now.Sub(ev.At)) + " ago"
	}
	for _, b := range acts {
		switch b.Kind {
		case bot.ActBan, bot.ActKick, bot.ActTimeout:
			if p != nil && bot.Capable(p, b.Kind) && !slices.Contains(failed, b) {
				return a, "the author is being " + sanctioned(b.Kind)
			}
		}
	}
	if !goesOut {
		return a, "" // held or made a case: not the author's last warning
	}
	return m.warned.take(ev, a, now, m.speech)
}

// warnedElsewhereOr says why ev's author gets no warning when another
// instance on the store, or this one before a restart, warned him within
// WarnEvery; "" when none did, and the warning about to go out is kept in
// the store for the others: one round trip, for the warnings only. A store
// that keeps none, or does not answer, leaves this process's own memory
// (take) to decide. When the warning goes out, it gives back unwarn: to be
// called when it did not (the platform refused it, a CM's decision
// overruled it), so that it counts as the author's last neither here nor
// in the store.
func (m *Moderator) warnedElsewhereOr(ctx context.Context, ev bot.Event) (why string, unwarn func()) {
	now := m.now()
	local := func() { m.warned.forget(ev, now) }
	ck, ok := m.store.(store.CallKeeper)
	if !ok {
		return "", local
	}
	key := "warned " + ev.Platform + "|" + ev.Space + "|" + ev.Author.ID
	sctx, cancel := m.storeContext(ctx)
	// Named by the event: the same event judged again (the journal handing a
	// killed instance's verdict on) is given its claim again.
	kept, claimed, err := ck.ClaimCall(sctx, key, claimOf(ev, now), m.speech.WarnEvery)
	cancel()
	switch {
	case err != nil:
		m.ClaimFailed(ClaimWarned, ev.Key(), err)
		return "", local
	case claimed:
		return "", func() { local(); m.forget(ctx, ck, key, now) }
	}
	return "the author was warned " + bot.FormatDuration(now.Sub(kept.At).Abs()) + " ago", nil
}

func sanctioned(k bot.ActionKind) string {
	switch k {
	case bot.ActBan:
		return "banned"
	case bot.ActKick:
		return "kicked"
	}
	return "timed out"
}

// forget forgets the warning of ev's author recorded at at (take), which
// did not go out; a later one stays.
func (w *warnings) forget(ev bot.Event, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	author := ev.Platform + "\x00" + ev.Space + "\x00" + ev.Author.ID
	if last, ok := w.authors[author]; ok && last.Equal(at) {
		delete(w.authors, author)
	}
}

// take records a warning for ev's author and place, or says why there is none.
func (w *warnings) take(ev bot.Event, a bot.Action, now time.Time, s Speech) (bot.Action, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.authors == nil {
		w.authors, w.places = map[string]time.Time{}, map[string]*placeWarnings{}
	}
	author := ev.Platform + "\x00" + ev.Space + "\x00" + ev.Author.ID
	if last, ok := w.authors[author]; ok && now.Sub(last) < s.WarnEvery && !now.Before(last) {
		return a, "the author was warned " + bot.FormatDuration(now.Sub(last)) + " ago"
	}
	place := ev.Platform + "\x00" + ev.Space + "\x00" + ev.Channel
	p := w.places[place]
	if p == nil {
		if len(w.places) >= s.MaxWarned {
			// As many places warned within the minute as authors in the
			// window: one is forgotten, whichever the map gives first (it
			// may get a fresh budget of warnings sooner).
			for k := range w.places {
				delete(w.places, k)
				w.placesDropped++
				break
			}
		}
		p = &placeWarnings{}
		w.places[place] = p
	}
	if now.Sub(p.minute) >= time.Minute || now.Before(p.minute) {
		*p = placeWarnings{minute: now}
	}
	switch {
	case p.n < s.PlaceWarnings:
		p.n++
	case !p.grouped:
		p.grouped = true
		a.Text = groupedPrefix + a.Text
	default:
		return a, "a wave of warnings in this place: one grouped message was sent"
	}
	w.remember(author, now, s)
	if w.adds++; w.adds >= sweepEvery {
		w.adds = 0
		for k, p := range w.places {
			if now.Sub(p.minute) >= time.Minute {
				delete(w.places, k)
			}
		}
	}
	return a, ""
}

// remember records author's warning at now: the warnings past WarnEvery are
// forgotten first, then, when MaxWarned authors are remembered, the oldest
// (counted in dropped).
func (w *warnings) remember(author string, now time.Time, s Speech) {
	for w.head < len(w.order) {
		e := w.order[w.head]
		last, ok := w.authors[e.author]
		_, again := w.authors[author]
		switch current := ok && last.Equal(e.at); {
		case !current:
			// The author was warned again since: a later entry stands for him.
		case now.Sub(e.at) >= s.WarnEvery:
			delete(w.authors, e.author)
		case !again && len(w.authors) >= s.MaxWarned,
			// Entries out of the clock's order (it went back) may stay
			// behind the front: the order holds at most twice MaxWarned.
			len(w.order)-w.head >= 2*s.MaxWarned:
			delete(w.authors, e.author)
			w.dropped++
		default:
			w.add(author, now)
			return
		}
		w.order[w.head] = warnedAt{}
		w.head++
	}
	w.add(author, now)
}

func (w *warnings) add(author string, now time.Time) {
	w.authors[author] = now
	if n := len(w.order) - w.head; w.head > n {
		// The room before head is reused once it is half the order, and
		// given back once the order is down to a quarter of it.
		order := w.order
		if cap(order) > 1024 && 4*n < cap(order) {
			order = make([]warnedAt, n, 2*n)
		}
		copy(order, w.order[w.head:])
		clear(w.order[n:])
		w.order, w.head = order[:n], 0
	}
	w.order = append(w.order, warnedAt{author, now})
}

// droppedCount is how many authors and places were forgotten for want of
// room.
func (w *warnings) droppedCount() (authors, places int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped, w.placesDropped
}

// warningsLast puts the warnings after the other actions, in order otherwise:
// whether a ban, kick or timeout was done decides whether a warning is needed.
func warningsLast(as []bot.Action) []bot.Action {
	slices.SortStableFunc(as, func(a, b bot.Action) int {
		return isWarn(a) - isWarn(b)
	})
	return as
}

func isWarn(a bot.Action) int {
	if a.Kind == bot.ActWarn {
		return 1
	}
	return 0
}
