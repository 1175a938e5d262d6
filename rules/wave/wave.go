// Package wave follows crisis alerts through time: the moments an alert's condition
// holds in a space become one wave, raised once, counted while it lasts and declared
// over when the condition has not held for the alert's window. Live vigie and
// `vigie replay` share it, so a history raises the alerts it would have raised live.
package wave

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// Alert is one entry of the rule file's alerts: section, as the tracker needs it.
type Alert struct {
	Name string
	// Targets are the rules and categories the alert's hits() count.
	Targets []string
	// Window is how long the condition must stay false for a wave to be over (the
	// longest window of its hits()).
	Window time.Duration
	// Message is the text of its alert("…") action.
	Message string
	// Counted, for an alert over counters only (no Targets), is what its
	// counters count ("joins"), and Span their longest window: its wave
	// counts the events its condition held for, not hits.
	Counted string
	Span    time.Duration
}

// Example is one message of a wave, for the desk.
type Example struct {
	At     time.Time `json:"at"`
	Rule   string    `json:"rule"`
	Author string    `json:"author,omitempty"`
	Text   string    `json:"text"`
	Link   string    `json:"link,omitempty"`
}

// Wave is one crisis: an alert whose condition held in a space, from its first hit
// until it was quiet for the alert's window.
type Wave struct {
	Alert    string `json:"name"`
	Platform string `json:"platform,omitempty"`
	Space    string `json:"space"`
	// From is the first hit counted, To the last one.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Count is how many events matched the alert's targets in the space during
	// the wave: those in the window that raised it, and every one after.
	Count int `json:"count"`
	// ByRule counts those events per rule.
	ByRule map[string]int `json:"by_rule,omitempty"`
	// Examples are a few of the first messages of the wave.
	Examples []Example `json:"examples,omitempty"`
	// Raised is when the condition first held; Over when the wave was declared
	// over (zero while it lasts).
	Raised  time.Time `json:"raised"`
	Over    time.Time `json:"over,omitzero"`
	Message string    `json:"message,omitempty"`
	// Window is the alert's window, which the over message quotes.
	Window time.Duration `json:"window,omitempty"`
	// Counted and Span are the alert's (Alert.Counted): Count is then how
	// many events its condition held for, the first of them the counter's
	// value, Span long ("15 joins in 10m").
	Counted string        `json:"counted,omitempty"`
	Span    time.Duration `json:"span,omitempty"`
}

// Holding names an alert whose condition held for an event.
type Holding struct {
	Alert string
	// Count is the value of the alert's hits() when it held (the largest when it
	// names several), this event included; of its counters when it reads no
	// hits().
	Count int64
}

// Options tune a Tracker.
type Options struct {
	// Recent is how many recent hits a space keeps for the examples, the per-rule
	// figures and the start of a wave (default 256).
	Recent int
	// Examples is how many examples a wave keeps (default 3).
	Examples int
}

// spacesSweep is how often, on the events' clock, the spaces quiet for
// longer than every window are dropped. A space's hits are read only
// within an alert's window, so one dropped later reads as one dropped
// sooner: the sweep frees memory and decides nothing. A replay's events
// come seconds apart, and a sweep each second walked the spaces at every
// event.
const spacesSweep = time.Minute

// Tracker turns holding conditions into waves. It is safe for concurrent use.
type Tracker struct {
	mu     sync.Mutex
	alerts map[string]Alert
	order  []string
	list   []Alert // the alerts in order
	maxWin time.Duration
	opts   Options
	// spaces holds each space's recent hits and its waves under way, so
	// that an event looks its space up once. active holds the same waves
	// by alert and space, for the walks over all of them.
	spaces  map[spaceKey]*place
	active  map[waveKey]*state
	lastNow time.Time
	// swept is when the spaces were last swept: once a minute of the
	// events' clock (spacesSweep), not on every event, as there may be
	// thousands of spaces.
	swept time.Time
	// due is no later than the first end of a wave under way: until then
	// no wave can be over, and expire does not walk them (zero: walk).
	due time.Time
	// hits is Observe's buffer for an event's hits, kept for the next
	// event: they are copied into the space's ring.
	hits []hit
}

type spaceKey struct{ platform, space string }

type waveKey struct {
	alert string
	space spaceKey
}

type state struct {
	w        Wave
	lastTrue time.Time
	// place is the wave's space, and alert its alert's index in order.
	place *place
	alert int
}

// place is a space's recent hits and its waves under way, one per alert
// (by its index in Tracker.order), in step with Tracker.active. A place
// with a wave under way is not swept: its hits are let go instead.
type place struct {
	recent recent
	waves  []*state
	active int // how many of waves are set
}

// set makes st the wave under way of its alert in p.
func (p *place) set(st *state, alerts int) {
	if len(p.waves) < alerts {
		p.waves = append(p.waves, make([]*state, alerts-len(p.waves))...)
	}
	p.waves[st.alert] = st
	st.place = p
	p.active++
}

// drop ends st, p's wave of its alert.
func (p *place) drop(st *state) {
	p.waves[st.alert] = nil
	p.active--
}

// hit is one match of an event, kept in its space's ring. Its example is
// made from it only for a wave that keeps one (example): most hits are
// never an example, and a hit is copied twice (Observe's buffer, the ring).
type hit struct {
	at time.Time
	// event is the event's id: a ring holds the hits of one platform's
	// space, so the id tells the events apart as Event.Key does, without
	// a string made for every event.
	event    string
	rule     string
	category string
	author   string
	text     string
	link     string
}

// example is the hit as a wave's example.
func (h *hit) example() Example {
	return Example{At: h.at, Rule: h.rule, Author: h.author, Text: h.text, Link: h.link}
}

// recent is a ring of a space's last hits.
type recent struct {
	hits []hit
	next int
	full bool
	last time.Time
}

func (r *recent) add(h *hit, limit int) {
	r.last = h.at
	if !r.full && len(r.hits) < limit {
		r.hits = append(r.hits, *h)
		return
	}
	r.full = true
	r.hits[r.next] = *h
	r.next = (r.next + 1) % len(r.hits)
}

// each calls fn on the hits oldest first.
func (r *recent) each(fn func(h hit)) {
	if r.full {
		for _, h := range r.hits[r.next:] {
			fn(h)
		}
		for _, h := range r.hits[:r.next] {
			fn(h)
		}
		return
	}
	for _, h := range r.hits {
		fn(h)
	}
}

// NewTracker returns a tracker for the alerts.
func NewTracker(alerts []Alert, opts Options) *Tracker {
	if opts.Recent <= 0 {
		opts.Recent = 256
	}
	if opts.Examples <= 0 {
		opts.Examples = 3
	}
	t := &Tracker{opts: opts, spaces: map[spaceKey]*place{}, active: map[waveKey]*state{}}
	t.setAlerts(alerts)
	return t
}

// setAlerts sets alerts, order and maxWin. An alert named twice is one, the
// last given.
func (t *Tracker) setAlerts(alerts []Alert) {
	t.alerts, t.order, t.maxWin = map[string]Alert{}, nil, 0
	for _, a := range alerts {
		if _, ok := t.alerts[a.Name]; !ok {
			t.order = append(t.order, a.Name)
		}
		t.alerts[a.Name] = a
		t.maxWin = max(t.maxWin, a.Window)
	}
	t.list = make([]Alert, len(t.order))
	for i, name := range t.order {
		t.list[i] = t.alerts[name]
	}
}

// alertIndex is the index of the alert name in order, or -1.
func (t *Tracker) alertIndex(name string) int {
	for i, n := range t.order {
		if n == name {
			return i
		}
	}
	return -1
}

// SetAlerts replaces the alerts followed, as after a reload of the rule file.
// Waves of alerts still in the file go on; those of alerts gone are dropped.
func (t *Tracker) SetAlerts(alerts []Alert) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.setAlerts(alerts)
	// the alerts' indices may have changed: the places' waves are set again
	for _, p := range t.spaces {
		clear(p.waves)
		p.active = 0
	}
	for k, st := range t.active {
		if st.alert = t.alertIndex(k.alert); st.alert < 0 {
			delete(t.active, k)
			continue
		}
		st.place.set(st, len(t.order))
	}
	t.due = time.Time{} // the windows may have changed
}

// counts reports whether the match counts for the alert.
func (a *Alert) counts(m bot.Match) bool { return a.countsHit(m.Rule, m.Category) }

// countsHit reports whether a match of rule, in category, counts for the
// alert: counts without a Match built (and copied) for each hit.
func (a *Alert) countsHit(rule, category string) bool {
	for _, t := range a.Targets {
		if rule == t || (category != "" && category == t) {
			return true
		}
	}
	return false
}

// Observe records one evaluated event at time at: its matches and the alerts whose
// condition held for it. It returns the waves this event raised and those that the
// passing time ended (see Expire).
func (t *Tracker) Observe(ev bot.Event, at time.Time, matches []bot.Match, holding []Holding) (raised, over []Wave) {
	t.mu.Lock()
	defer t.mu.Unlock()
	over = t.expire(at)
	sk := spaceKey{ev.Platform, ev.Space}
	if len(t.alerts) == 0 {
		return nil, over
	}
	// the event's hits: kept for the examples, counted in the waves under way
	hits := t.hits[:0]
	defer func() {
		clear(hits)
		t.hits = hits[:0]
	}()
	if len(matches) > 0 {
		author := cmp.Or(ev.Author.Name, ev.Author.ID)
		for _, m := range matches {
			hits = append(hits, hit{at: at, event: ev.ID, rule: m.Rule, category: m.Category,
				author: author, text: ev.Text, link: ev.Link})
		}
	}
	if len(hits) == 0 && len(holding) == 0 {
		return nil, over
	}
	p := t.spaces[sk]
	if p == nil {
		p = &place{}
		t.spaces[sk] = p
	}
	if len(hits) > 0 {
		r := &p.recent
		if at.Sub(r.last) > t.maxWin {
			// new, or quiet for longer than any window (the sweep that would
			// have dropped it may not have come yet)
			*r = recent{}
		}
		for i := range hits {
			r.add(&hits[i], t.opts.Recent)
		}
		if p.active > 0 {
			for i, st := range p.waves {
				if st != nil {
					t.count(st, &t.list[i], hits)
				}
			}
		}
	}
	for _, h := range holding {
		i := t.alertIndex(h.Alert)
		if i < 0 {
			continue
		}
		a := t.alerts[h.Alert]
		if i < len(p.waves) && p.waves[i] != nil {
			st := p.waves[i]
			st.lastTrue = at
			if a.Counted != "" {
				// an alert over counters: its wave counts the events it held for
				st.w.Count++
				st.w.To = at
				if len(st.w.Examples) < t.opts.Examples {
					st.w.Examples = append(st.w.Examples, holdingExample(&ev, at))
				}
			}
			continue
		}
		st := &state{lastTrue: at, alert: i, w: Wave{
			Alert: a.Name, Platform: ev.Platform, Space: ev.Space, Raised: at,
			Message: a.Message, Window: a.Window, ByRule: map[string]int{},
			Counted: a.Counted, Span: a.Span,
		}}
		t.start(st, a, &p.recent, at, int(h.Count))
		if a.Counted != "" {
			st.w.Examples = append(st.w.Examples, holdingExample(&ev, at))
		}
		t.active[waveKey{a.Name, sk}] = st
		p.set(st, len(t.order))
		if end := at.Add(a.Window); t.due.IsZero() || end.Before(t.due) {
			t.due = end
		}
		raised = append(raised, cloneWave(st.w))
	}
	return raised, over
}

// holdingExample is ev, an event an alert over counters held for, as an
// example of its wave: a join shows its member, a message its text.
func holdingExample(ev *bot.Event, at time.Time) Example {
	return Example{At: at, Author: cmp.Or(ev.Author.Name, ev.Author.ID), Text: ev.Text, Link: ev.Link}
}

// start fills a new wave from the space's recent hits within the alert's window.
func (t *Tracker) start(st *state, a Alert, r *recent, at time.Time, count int) {
	var seen map[string]bool
	n := 0
	if len(r.hits) > 0 {
		from := at.Add(-a.Window)
		seen = map[string]bool{}
		r.each(func(h hit) {
			if h.at.Before(from) || h.at.After(at) {
				return
			}
			m := bot.Match{Rule: h.rule, Category: h.category}
			if !a.counts(m) {
				return
			}
			st.w.ByRule[h.rule]++
			if st.w.From.IsZero() || h.at.Before(st.w.From) {
				st.w.From = h.at
			}
			if h.at.After(st.w.To) {
				st.w.To = h.at
			}
			if !seen[h.event] {
				// one event may match several rules: count it once
				seen[h.event] = true
				n++
				if len(st.w.Examples) < t.opts.Examples {
					st.w.Examples = append(st.w.Examples, h.example())
				}
			}
		})
	}
	// The store's counters see every hit, the ring only the last ones (and only
	// those of this process): the larger figure is the right one.
	st.w.Count = max(count, n)
	if st.w.From.IsZero() {
		st.w.From = at
	}
	if st.w.To.IsZero() {
		st.w.To = at
	}
}

// count adds an event's hits to a wave under way.
func (t *Tracker) count(st *state, a *Alert, hits []hit) {
	counted := false
	for i := range hits {
		h := &hits[i]
		if !a.countsHit(h.rule, h.category) {
			continue
		}
		st.w.ByRule[h.rule]++
		if !counted {
			counted = true
			st.w.Count++
			st.w.To = h.at
			if len(st.w.Examples) < t.opts.Examples {
				st.w.Examples = append(st.w.Examples, h.example())
			}
		}
	}
}

// Expire ends the waves whose condition has not held for their alert's window by
// now, and returns them. Live vigie calls it on a timer, since a wave that stops
// brings no event to end it.
func (t *Tracker) Expire(now time.Time) []Wave {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.expire(now)
}

func (t *Tracker) expire(now time.Time) []Wave {
	if now.After(t.lastNow) {
		t.lastNow = now
	}
	var over []Wave
	if len(t.active) > 0 && (t.due.IsZero() || !now.Before(t.due)) {
		// A wave's end only moves later (lastTrue), so the first end found
		// now is a safe next due.
		t.due = time.Time{}
		for k, st := range t.active {
			a := t.alerts[k.alert]
			end := st.lastTrue.Add(a.Window)
			if !now.Before(end) {
				st.w.Over = end
				over = append(over, cloneWave(st.w))
				delete(t.active, k)
				st.place.drop(st)
				continue
			}
			if t.due.IsZero() || end.Before(t.due) {
				t.due = end
			}
		}
	}
	if d := now.Sub(t.swept); d >= spacesSweep || d < 0 {
		t.swept = now
		for sk, p := range t.spaces {
			if now.Sub(p.recent.last) > t.maxWin {
				if p.active > 0 {
					p.recent = recent{}
				} else {
					delete(t.spaces, sk)
				}
			}
		}
	}
	sortWaves(over)
	return over
}

// Flush ends every wave under way, as of its last hit plus its window: the end of
// a replayed history.
func (t *Tracker) Flush() []Wave {
	t.mu.Lock()
	defer t.mu.Unlock()
	var over []Wave
	for k, st := range t.active {
		st.w.Over = st.lastTrue.Add(t.alerts[k.alert].Window)
		over = append(over, cloneWave(st.w))
		delete(t.active, k)
		st.place.drop(st)
	}
	sortWaves(over)
	return over
}

// Active returns the waves under way, oldest first.
func (t *Tracker) Active() []Wave {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Wave, 0, len(t.active))
	for _, st := range t.active {
		out = append(out, cloneWave(st.w))
	}
	sortWaves(out)
	return out
}

// RaidSince reports whether a wave is under way in the platform's space,
// and since when the accounts of the waves under way there came: the
// earliest start of their windows before their first hit (a join wave's
// counter window before it was raised).
func (t *Tracker) RaidSince(platform, space string) (since time.Time, on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.spaces[spaceKey{platform, space}]
	if p == nil || p.active == 0 {
		return time.Time{}, false
	}
	for _, st := range p.waves {
		if st == nil {
			continue
		}
		from := st.w.From.Add(-max(st.w.Window, st.w.Span))
		if !on || from.Before(since) {
			since, on = from, true
		}
	}
	return since, on
}

func sortWaves(ws []Wave) {
	slices.SortFunc(ws, func(a, b Wave) int {
		return cmp.Or(a.Raised.Compare(b.Raised), cmp.Compare(a.Alert, b.Alert),
			cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Space, b.Space))
	})
}

func cloneWave(w Wave) Wave {
	w.ByRule = maps.Clone(w.ByRule)
	w.Examples = slices.Clone(w.Examples)
	return w
}
