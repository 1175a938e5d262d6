package handlers

import (
	"slices"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
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
)

// groupedPrefix starts the one message that stands for a wave of warnings.
const groupedPrefix = "⚠️ Several messages here were moderated. "

// Speech tunes what the Moderator says on the platforms; zero values take the defaults.
type Speech struct {
	WarnEvery     time.Duration
	PlaceWarnings int
	Stale         time.Duration
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
	return s
}

// sweepEvery is how many warnings go by between two sweeps of the memory of
// warnings, which keeps it bounded by the warnings of the last window.
const sweepEvery = 1024

// warnings remembers who was warned and how much each place was.
type warnings struct {
	mu      sync.Mutex
	authors map[string]time.Time // platform/space/author: last warning
	places  map[string]*placeWarnings
	adds    int
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
// that failed, does not stand in for the warning.
func (m *Moderator) withhold(ev bot.Event, acts []bot.Action, a bot.Action, p bot.Platform, failed []bot.Action) (bot.Action, string) {
	now := m.now()
	if ev.Kind == bot.KindProfile {
		// A name is not a message: nothing to delete or answer. What can be
		// done to its member (timeout, kick, ban, a case) is.
		switch a.Kind {
		case bot.ActDelete, bot.ActHide, bot.ActReply, bot.ActWarn:
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
	return m.warned.take(ev, a, now, m.speech)
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
	w.authors[author] = now
	if w.adds++; w.adds >= sweepEvery {
		w.adds = 0
		for k, t := range w.authors {
			if now.Sub(t) >= s.WarnEvery {
				delete(w.authors, k)
			}
		}
		for k, p := range w.places {
			if now.Sub(p.minute) >= time.Minute {
				delete(w.places, k)
			}
		}
	}
	return a, ""
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
