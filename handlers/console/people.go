package console

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
)

// peopleWindow is how far back the people page reads the audit log.
const peopleWindow = 30 * 24 * time.Hour

// person is one author on one platform and space.
type person struct {
	Platform, Space, ID string
	Names               []string
	Flagged             int
	Cases               int
	Last                time.Time
}

// Path is the person's page.
func (p person) Path() string {
	return "/people/" + url.PathEscape(p.Platform) + "/" + url.PathEscape(cmp.Or(p.Space, "-")) + "/" + url.PathEscape(p.ID)
}

// personKey names an author on one platform and space.
type personKey struct{ platform, space, id string }

func keyOfEvent(e bot.Event) personKey { return personKey{e.Platform, e.Space, e.Author.ID} }

// matches reports whether an author is who q asks for: their id, or a name
// holding q whatever its case.
func matches(a bot.Author, q string) bool {
	return a.ID == q || q != "" && strings.Contains(strings.ToLower(a.Name), strings.ToLower(q))
}

// people finds authors by id or name across platforms, in what vigie flagged
// during the last 30 days and in the cases.
func (c *Console) people(w http.ResponseWriter, r *http.Request, a account) {
	q := strings.TrimSpace(r.FormValue("q"))
	found := map[personKey]*person{}
	add := func(e bot.Event, flagged, cases int) {
		k := keyOfEvent(e)
		p := found[k]
		if p == nil {
			p = &person{Platform: e.Platform, Space: e.Space, ID: e.Author.ID}
			found[k] = p
		}
		if e.Author.Name != "" && !slices.Contains(p.Names, e.Author.Name) {
			p.Names = append(p.Names, e.Author.Name)
		}
		p.Flagged += flagged
		p.Cases += cases
		if e.At.After(p.Last) {
			p.Last = e.At
		}
	}
	if q != "" {
		entries, err := c.o.Store.Audit(r.Context(), c.o.Now().Add(-peopleWindow))
		if err != nil {
			http.Error(w, "audit: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		for _, e := range entries {
			if matches(e.Event.Author, q) {
				add(e.Event, 1, 0)
			}
		}
		for _, st := range []store.CaseStatus{store.CaseOpen, store.CaseDecided} {
			cases, err := c.o.Store.Cases(r.Context(), st)
			if err != nil {
				http.Error(w, "cases: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
			for _, cs := range cases {
				if matches(cs.Event.Author, q) {
					add(cs.Event, 0, 1)
				}
			}
		}
	}
	list := make([]person, 0, len(found))
	for _, p := range found {
		list = append(list, *p)
	}
	slices.SortFunc(list, func(x, y person) int { return y.Last.Compare(x.Last) })
	c.render(w, http.StatusOK, "people.html", map[string]any{"Account": a, "Nav": "people", "Q": q, "People": list})
}

// judged is one flagged message of a person.
type judged struct {
	At      time.Time
	Text    string
	Rules   []string
	Actions []string
	Mode    string
}

// personPage shows one author: what vigie flagged and did, their cases and
// how they were decided (overturns included), their strikes; moderators may
// lift the strikes, and a timeout.
func (c *Console) personPage(w http.ResponseWriter, r *http.Request, a account) {
	k, ok := personOf(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	now := c.o.Now()
	entries, err := c.o.Store.Audit(r.Context(), now.Add(-peopleWindow))
	if err != nil {
		http.Error(w, "audit: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	p := person{Platform: k.platform, Space: k.space, ID: k.id}
	var msgs []judged
	var latest bot.Event
	for _, e := range entries {
		if keyOfEvent(e.Event) != k {
			continue
		}
		j := judged{At: e.Event.At, Text: e.Event.Content(), Mode: e.Mode}
		for _, m := range e.Verdict.Matches {
			name := m.Rule
			if m.Shadow {
				name += " (shadow)"
			}
			j.Rules = append(j.Rules, name)
		}
		for _, act := range e.Verdict.Actions() {
			j.Actions = append(j.Actions, act.String())
		}
		msgs = append(msgs, j)
		if e.Event.Author.Name != "" && !slices.Contains(p.Names, e.Event.Author.Name) {
			p.Names = append(p.Names, e.Event.Author.Name)
		}
		if !e.Event.At.Before(latest.At) {
			latest = e.Event
		}
	}
	slices.Reverse(msgs)
	var cases []queueCase
	overturned := 0
	for _, st := range []store.CaseStatus{store.CaseOpen, store.CaseDecided} {
		all, err := c.o.Store.Cases(r.Context(), st)
		if err != nil {
			http.Error(w, "cases: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		for _, cs := range all {
			if keyOfEvent(cs.Event) != k {
				continue
			}
			cases = append(cases, queueCase{Case: cs})
			if overturn(cs.Outcome) {
				overturned++
			}
			if !cs.Event.At.Before(latest.At) {
				latest = cs.Event
			}
		}
	}
	slices.SortFunc(cases, func(x, y queueCase) int { return y.Opened.Compare(x.Opened) })
	var strikes []time.Time
	sk, canStrikes := c.o.Store.(store.StrikeKeeper)
	if canStrikes {
		if strikes, err = sk.Strikes(r.Context(), k.platform, k.space, k.id, now); err != nil {
			http.Error(w, "strikes: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	flash, failed := c.flash(r)
	c.render(w, http.StatusOK, "person.html", map[string]any{
		"Flash": flash, "Failed": failed,
		"Account": a, "Nav": "people", "Person": p, "Messages": msgs, "Cases": cases, "Overturned": overturned,
		"Notes":   c.notes(r, k),
		"Strikes": strikes, "CanStrikes": canStrikes && may(a.Role, RoleModerator),
		"CanUntimeout": latest.ID != "" && c.o.LiftTimeout != nil && may(a.Role, RoleModerator),
	})
}

// overturn reports whether a case's outcome went against the rule.
func overturn(outcome string) bool {
	switch bot.ActionKind(outcome) {
	case handlers.OutcomeKeep, handlers.OutcomeUnhide, handlers.OutcomeUnban, handlers.OutcomeUntimeout:
		return true
	}
	return false
}

// personOf reads the person of a /people/{platform}/{space}/{author} path.
func personOf(r *http.Request) (personKey, bool) {
	k := personKey{r.PathValue("platform"), r.PathValue("space"), r.PathValue("author")}
	if k.space == "-" {
		k.space = ""
	}
	return k, k.platform != "" && k.id != ""
}

// liftStrikes lifts every strike of the person.
func (c *Console) liftStrikes(w http.ResponseWriter, r *http.Request, a account) {
	k, ok := personOf(r)
	sk, can := c.o.Store.(store.StrikeKeeper)
	if !ok || !can {
		http.NotFound(w, r)
		return
	}
	n, err := sk.ClearStrikes(r.Context(), k.platform, k.space, k.id)
	if err != nil {
		c.personBack(w, r, "Strikes not lifted: "+err.Error(), true)
		return
	}
	c.o.Log.Info("console: strikes lifted", "platform", k.platform, "space", k.space, "author", k.id, "count", n, "by", a.Name)
	c.personBack(w, r, plural(n, "strike")+" lifted.", false)
}

// liftTimeout ends the person's timeout on their platform.
func (c *Console) liftTimeout(w http.ResponseWriter, r *http.Request, a account) {
	k, ok := personOf(r)
	if !ok || c.o.LiftTimeout == nil {
		http.NotFound(w, r)
		return
	}
	ev, found := c.latestEvent(r, k)
	if !found {
		c.personBack(w, r, "No message of theirs to say where: nothing lifted.", true)
		return
	}
	if err := c.o.LiftTimeout(r.Context(), ev, "console:"+a.Name); err != nil {
		c.personBack(w, r, "Timeout not lifted: "+err.Error(), true)
		return
	}
	c.personBack(w, r, "Timeout lifted.", false)
}

// latestEvent is the person's latest message vigie knows, from the audit
// log or the cases: where their timeout is to be lifted.
func (c *Console) latestEvent(r *http.Request, k personKey) (bot.Event, bool) {
	var latest bot.Event
	if entries, err := c.o.Store.Audit(r.Context(), c.o.Now().Add(-peopleWindow)); err == nil {
		for _, e := range entries {
			if keyOfEvent(e.Event) == k && !e.Event.At.Before(latest.At) {
				latest = e.Event
			}
		}
	}
	for _, st := range []store.CaseStatus{store.CaseOpen, store.CaseDecided} {
		cases, _ := c.o.Store.Cases(r.Context(), st)
		for _, cs := range cases {
			if keyOfEvent(cs.Event) == k && !cs.Event.At.Before(latest.At) {
				latest = cs.Event
			}
		}
	}
	return latest, latest.ID != ""
}

func (c *Console) personBack(w http.ResponseWriter, r *http.Request, msg string, failed bool) {
	q := c.flashValues(r, msg, failed)
	path := strings.TrimSuffix(strings.TrimSuffix(r.URL.Path, "/strikes/lift"), "/timeout/lift")
	http.Redirect(w, r, path+"?"+q.Encode(), http.StatusSeeOther)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// notes are the moderators' notes on the person k (/note on a platform),
// newest first; none when the store keeps none or cannot say now.
func (c *Console) notes(r *http.Request, k personKey) []store.Note {
	nk, ok := c.o.Store.(store.NoteKeeper)
	if !ok || k.id == "" {
		return nil
	}
	notes, err := nk.Notes(r.Context(), k.platform, k.space, k.id)
	if err != nil {
		c.o.Log.Warn("console: notes not read", "author", k.id, "err", err)
		return nil
	}
	slices.Reverse(notes)
	return notes
}
