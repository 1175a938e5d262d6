package daemon

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
)

// Pages of GET /v1/cases.
const (
	defaultCasePage = 100
	maxCasePage     = 1000
	maxDecisionBody = 16 << 10
)

// caseFilter is what GET /v1/cases narrows the list to; an empty field
// matches every case.
type caseFilter struct {
	platform, place, rule, author, priority, community string
	// byPriority says priority is asked for: normal is stored as "".
	byPriority bool
}

// match reports whether c passes the filter. A place is a space, a channel or
// a thread id; an author is matched by id, or by name whatever the case.
func (f caseFilter) match(c store.Case) bool {
	e := c.Event
	switch {
	case f.platform != "" && e.Platform != f.platform,
		f.rule != "" && c.Rule != f.rule,
		f.byPriority && c.Priority != f.priority,
		f.community != "" && c.Community != f.community,
		f.place != "" && e.Space != f.place && e.Channel != f.place && e.Thread != f.place,
		f.author != "" && e.Author.ID != f.author && !strings.EqualFold(e.Author.Name, f.author):
		return false
	}
	return true
}

// casePage is the answer of GET /v1/cases: Total cases match the filters,
// Count of them are in Cases, from Offset on.
type casePage struct {
	Status string       `json:"status"`
	Total  int          `json:"total"`
	Offset int          `json:"offset"`
	Count  int          `json:"count"`
	Cases  []store.Case `json:"cases"`
}

// handleCases lists the cases, oldest first: ?status=open (the default),
// decided or all; filtered by platform, place, rule, author, priority and
// community;
// a page of ?limit= cases (100, at most 1000) from ?offset=.
func (d *daemon) handleCases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var statuses []store.CaseStatus
	switch s := q.Get("status"); s {
	case "", string(store.CaseOpen):
		statuses = []store.CaseStatus{store.CaseOpen}
	case string(store.CaseDecided):
		statuses = []store.CaseStatus{store.CaseDecided}
	case "all":
		statuses = []store.CaseStatus{store.CaseOpen, store.CaseDecided}
	default:
		writeError(w, http.StatusBadRequest, `status: want "open", "decided" or "all"`)
		return
	}
	limit, err := queryInt(q.Get("limit"), defaultCasePage)
	if err != nil || limit < 1 || limit > maxCasePage {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: want a number from 1 to %d", maxCasePage))
		return
	}
	offset, err := queryInt(q.Get("offset"), 0)
	if err != nil || offset < 0 {
		writeError(w, http.StatusBadRequest, "offset: want a number from 0")
		return
	}
	f := caseFilter{platform: q.Get("platform"), place: q.Get("place"), rule: q.Get("rule"),
		author: q.Get("author"), community: q.Get("community")}
	switch p := q.Get("priority"); p {
	case "":
	case handlers.PriorityHigh, handlers.PriorityLow:
		f.priority, f.byPriority = p, true
	case "normal":
		f.priority, f.byPriority = handlers.PriorityNormal, true
	default:
		writeError(w, http.StatusBadRequest, `priority: want "high", "normal" or "low"`)
		return
	}

	var matched []store.Case
	for _, status := range statuses {
		cases, err := d.store.Cases(r.Context(), status)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "cases: "+err.Error())
			return
		}
		for _, c := range cases {
			if f.match(c) {
				matched = append(matched, c)
			}
		}
	}
	if len(statuses) > 1 {
		// Each status comes oldest first; together they are merged by age.
		slices.SortStableFunc(matched, func(a, b store.Case) int { return a.Opened.Compare(b.Opened) })
	}
	page := casePage{Status: cmp.Or(q.Get("status"), string(store.CaseOpen)), Total: len(matched), Offset: offset, Cases: []store.Case{}}
	if offset < len(matched) {
		page.Cases = matched[offset:min(offset+limit, len(matched))]
	}
	page.Count = len(page.Cases)
	writeJSON(w, http.StatusOK, page)
}

// handleCase answers one case, open or decided.
func (d *daemon) handleCase(w http.ResponseWriter, r *http.Request) {
	c, err := d.store.Case(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no case "+strconv.Quote(r.PathValue("id")))
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "case: "+err.Error())
	default:
		writeJSON(w, http.StatusOK, c)
	}
}

// decisionRequest is the body of POST /v1/cases/{id}/decision. Outcome is
// written as on the desk: keep, delete, hide, timeout, timeout(1h), ban,
// ban(7d), kick, reply("…"), unhide, unban, untimeout. Duration and Text are
// another way to give a timeout's or a ban's length and a reply's text. By
// names the CM; the case records it as "http:" and the name.
type decisionRequest struct {
	Outcome  string `json:"outcome"`
	Duration string `json:"duration,omitempty"`
	Text     string `json:"text,omitempty"`
	By       string `json:"by"`
}

// outcome is the request's outcome as handlers.ParseOutcome reads it.
func (q decisionRequest) outcome() string {
	return handlers.WithArgument(q.Outcome, cmp.Or(q.Text, q.Duration))
}

// decisionReply is the answer of POST /v1/cases/{id}/decision: the case as
// it stands, what went wrong if something did, and, for a decision carried
// out, what the desk's cards add to it (a timed ban's end, and whether a
// restart before then leaves the ban on).
type decisionReply struct {
	Error string     `json:"error,omitempty"`
	Note  string     `json:"note,omitempty"`
	Case  store.Case `json:"case"`
}

// handleDecision decides a case, as the desk's buttons do: 200 with the case
// once decided and carried out; 409 when someone decided it first (the case
// says who and how); 422 when the case's platform cannot do the outcome
// (nothing recorded); 502 when the decision is recorded but the platform
// refused it (a new case says so, for the CMs to see to).
func (d *daemon) handleDecision(w http.ResponseWriter, r *http.Request) {
	var q decisionRequest
	if !decodeBody(w, r, maxDecisionBody, &q) {
		return
	}
	by := strings.TrimSpace(q.By)
	if by == "" {
		writeError(w, http.StatusBadRequest, `by: name who decides (the case records "http:NAME")`)
		return
	}
	if strings.ContainsAny(by, "\r\n") || len(by) > 64 {
		writeError(w, http.StatusBadRequest, "by: one line of at most 64 bytes")
		return
	}
	outcome := q.outcome()
	if _, err := handlers.ParseOutcome(outcome); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	c, note, err := d.commands.DecideNoted(r.Context(), r.PathValue("id"), outcome, "http:"+by)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, decisionReply{Note: note, Case: c})
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no case "+strconv.Quote(r.PathValue("id")))
	case errors.Is(err, store.ErrDecided):
		writeJSON(w, http.StatusConflict, decisionReply{
			Error: fmt.Sprintf("already decided by %s: %s, at %s", c.DecidedBy, c.Outcome, c.DecidedAt.UTC().Format("2006-01-02 15:04:05 MST")),
			Case:  c})
	case errors.Is(err, bot.ErrStillTrying):
		// Recorded, and still being tried on the platform: the case's cards,
		// and a case opened if it is refused, will say how it ends.
		writeJSON(w, http.StatusAccepted, decisionReply{Error: err.Error(), Case: c})
	case errors.Is(err, handlers.ErrCannot):
		writeJSON(w, http.StatusUnprocessableEntity, decisionReply{Error: err.Error(), Case: c})
	case c.Status == store.CaseDecided:
		writeJSON(w, http.StatusBadGateway, decisionReply{Error: err.Error(), Case: c})
	default:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	}
}

func queryInt(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}
