package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/store"
)

// casesCommand is `vigie cases list|show|decide`: the desk's queue from a
// terminal, asked from a running vigie over its HTTP API (GET /v1/cases,
// GET /v1/cases/ID, POST /v1/cases/ID/decision), so that a decision is
// carried out on the platform by the process connected to it.
func (c *cli) casesCommand(ctx context.Context, args []string) int {
	f := c.flags("cases")
	base := f.urlFlag("")
	format := f.String("format", "text", "list and show: print `text|json`")
	status := f.String("status", "open", "list: the cases that are `open|decided|all`")
	platform := f.String("platform", "", "list: only the cases of `PLATFORM` (discord, telegram, facebook, instagram, ...)")
	place := f.String("place", "", "list: only the cases in `ID`, a space, channel or thread")
	rule := f.String("rule", "", "list: only the cases of the rule `NAME`")
	author := f.String("author", "", "list: only the cases of the author `ID` or name")
	priority := f.String("priority", "", "list: only the cases of priority `high|normal|low`")
	community := f.String("community", "", "list: only the cases of the community `NAME`")
	limit := f.Int("limit", 100, "list: at most `N` cases (1 to 1000)")
	offset := f.Int("offset", 0, "list: skip the first `N` matching cases")
	by := f.String("by", c.decider(),
		"decide: who decides, recorded as http:`NAME` (env VIGIE_CM, then USER, then the account vigie runs as)")
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if *format != "text" && *format != "json" {
		return f.usageError("unknown format %q (want text or json)", *format)
	}
	if len(pos) == 0 {
		return f.usageError("missing list, show or decide")
	}
	api := adminAPI{c: c, base: *base}
	var err error
	switch verb, rest := pos[0], pos[1:]; verb {
	case "list":
		if len(rest) > 0 {
			return f.usageError("list: unexpected argument %q", rest[0])
		}
		q := url.Values{"status": {*status}, "limit": {strconv.Itoa(*limit)}, "offset": {strconv.Itoa(*offset)}}
		for k, v := range map[string]string{"platform": *platform, "place": *place, "rule": *rule, "author": *author, "priority": *priority, "community": *community} {
			if v != "" {
				q.Set(k, v)
			}
		}
		err = c.casesList(ctx, api, q, *format)
	case "show":
		if len(rest) != 1 {
			return f.usageError("show: want one case ID")
		}
		err = c.caseShow(ctx, api, rest[0], *format)
	case "decide":
		if len(rest) < 2 || len(rest) > 3 {
			return f.usageError(`decide: want a case ID and an outcome (keep, delete, hide, timeout [2h], ban [7d], kick, reply "TEXT", unhide, unban, untimeout)`)
		}
		if strings.TrimSpace(*by) == "" {
			return f.usageError("decide: --by: name who decides (or set VIGIE_CM): neither USER nor the system names the account this runs as")
		}
		req := map[string]string{"outcome": rest[1], "by": *by}
		if len(rest) == 3 {
			// The outcome's argument, as a shell passes it: reply "merci",
			// timeout 2h, ban 7d.
			if strings.EqualFold(rest[1], string(bot.ActReply)) {
				req["text"] = rest[2]
			} else {
				req["duration"] = rest[2]
			}
		}
		err = c.caseDecide(ctx, api, rest[0], req)
	default:
		return f.usageError("unknown %q (want list, show or decide)", verb)
	}
	if err != nil {
		return c.fail("cases", err)
	}
	return exitOK
}

// decider is who decides a case when --by is not given: VIGIE_CM, else the
// user at the terminal (USER, LOGNAME, else the account the process runs
// as), else "".
func (c *cli) decider() string {
	for _, k := range []string{"VIGIE_CM", "USER", "LOGNAME"} {
		if v := c.getenv(k); v != "" {
			return v
		}
	}
	if c.account != nil {
		return c.account()
	}
	return ""
}

func (c *cli) casesList(ctx context.Context, api adminAPI, q url.Values, format string) error {
	body, _, err := api.do(ctx, http.MethodGet, "/v1/cases", q, nil, http.StatusOK)
	if err != nil {
		return err
	}
	if format == "json" {
		_, err = c.stdout.Write(body)
		return err
	}
	var page struct {
		Status string
		Total  int
		Offset int
		Cases  []store.Case
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return fmt.Errorf("GET /v1/cases: %w", err)
	}
	switch {
	case page.Total == 0:
		fmt.Fprintf(c.stdout, "No %s case.\n", page.Status)
		return nil
	case len(page.Cases) == page.Total:
		fmt.Fprintf(c.stdout, "%d %s, oldest first:\n", page.Total, casesNoun(page.Status, page.Total))
	default:
		fmt.Fprintf(c.stdout, "%d %s, oldest first; %d to %d shown (--offset, --limit):\n", page.Total,
			casesNoun(page.Status, page.Total), page.Offset+min(1, len(page.Cases)), page.Offset+len(page.Cases))
	}
	now := c.now()
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAGE\tWHERE\tAUTHOR\tRULE\tSTATE\tMESSAGES\tMESSAGE")
	for _, cs := range page.Cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", terminal(cs.ID), age(now, cs.Opened), where(cs.Event),
			author(cs.Event.Author), terminal(orDash(cs.Rule)), terminal(state(cs)), strconv.Itoa(cs.Hits())+inPlaces(cs), snippet(cs.Event.Content(), 48))
	}
	return tw.Flush()
}

func (c *cli) caseShow(ctx context.Context, api adminAPI, id, format string) error {
	body, _, err := api.do(ctx, http.MethodGet, "/v1/cases/"+url.PathEscape(id), nil, nil, http.StatusOK)
	if err != nil {
		return err
	}
	if format == "json" {
		_, err = c.stdout.Write(body)
		return err
	}
	var cs store.Case
	if err := json.Unmarshal(body, &cs); err != nil {
		return fmt.Errorf("GET /v1/cases/%s: %w", id, err)
	}
	writeCase(c.stdout, cs, c.now())
	return nil
}

func (c *cli) caseDecide(ctx context.Context, api adminAPI, id string, req map[string]string) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return err
	}
	body, code, err := api.do(ctx, http.MethodPost, "/v1/cases/"+url.PathEscape(id)+"/decision", nil, payload,
		http.StatusOK, http.StatusAccepted, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusBadGateway)
	if err != nil {
		return err
	}
	var r struct {
		Error string
		Note  string
		Case  store.Case
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("POST /v1/cases/%s/decision: %w", id, err)
	}
	if code == http.StatusOK {
		fmt.Fprintln(c.stdout, decidedLine(r.Case, r.Note))
		return nil
	}
	if code == http.StatusAccepted {
		// Recorded; the platform is slow to answer, and the tries go on.
		fmt.Fprintf(c.stdout, "%s: %s, decided by %s; still being tried on %s, which is slow to answer: had it refused, a new case would say so.\n",
			terminal(r.Case.ID), terminal(r.Case.Outcome), terminal(r.Case.DecidedBy), terminal(r.Case.Event.Platform))
		return nil
	}
	return errors.New(r.Error)
}

// decidedLine says a decision carried out, with what the desk's cards add
// to it (note): "c-…: ban(7d), decided by http:ann, until 12 Dec 03:00 UTC."
func decidedLine(cs store.Case, note string) string {
	line := fmt.Sprintf("%s: %s, decided by %s", terminal(cs.ID), terminal(cs.Outcome), terminal(cs.DecidedBy))
	if note != "" {
		line += ", " + terminal(note)
	}
	return line + "."
}

// writeCase prints one case for a CM to decide.
func writeCase(w io.Writer, cs store.Case, now time.Time) {
	line := func(label, format string, a ...any) {
		fmt.Fprintf(w, "%-10s "+format+"\n", append([]any{label}, a...)...)
	}
	e := cs.Event
	line("case", "%s, %s", terminal(cs.ID), terminal(state(cs)))
	line("opened", "%s (%s ago)", cs.Opened.UTC().Format("2006-01-02 15:04:05 MST"), age(now, cs.Opened))
	if cs.Rule != "" {
		rule := cs.Rule
		if cs.Category != "" {
			rule += " (" + cs.Category + ")"
		}
		line("rule", "%s", terminal(rule))
	}
	line("reason", "%s", terminal(cs.Reason))
	line("where", "%s", where(e))
	line("author", "%s", author(e.Author))
	line("message", "%s (%s)", strconv.Quote(e.Content()), terminal(e.ID))
	if e.Link != "" {
		line("link", "%s", terminal(e.Link))
	}
	if len(cs.Suggested) > 0 {
		// as the cards say them: those not carried out, or being tried, marked
		line("suggested", "%s", terminal(bot.SuggestedText(bot.Card{Suggested: cs.Suggested, NotDone: cs.NotDone, Trying: cs.Trying})))
	}
	if cs.Hits() > 1 {
		line("grouped", "%d messages%s, latest %s", cs.Hits(), inPlaces(cs), terminal(strings.Join(cs.Latest, ", ")))
		if _, unkept := cs.Grouped(); unkept > 0 {
			line("", "vigie keeps where the last %d are only: a delete leaves the %d oldest up", store.GroupRefs, unkept)
		}
	}
	if cs.Undeliverable != "" {
		line("desk", "not shown there: %s", terminal(cs.Undeliverable))
	}
	if cs.Status == store.CaseDecided {
		line("decided", "%s by %s, %s", terminal(cs.Outcome), terminal(cs.DecidedBy), cs.DecidedAt.UTC().Format("2006-01-02 15:04:05 MST"))
	}
}

// inPlaces says in how many channels (topics, on Telegram) the messages a
// case groups are, when more than one: " in 3 channels"; "" otherwise.
func inPlaces(cs store.Case) string {
	if places := cs.Places(); places > 1 {
		return fmt.Sprintf(" in %d %s", places, cs.PlacesNoun())
	}
	return ""
}

func casesNoun(status string, n int) string {
	noun := "case"
	if n != 1 {
		noun = "cases"
	}
	if status == "all" {
		return noun
	}
	return status + " " + noun
}

// orDash is s, or "-" for nothing.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// state is where a case stands, in a word or two.
func state(cs store.Case) string {
	if cs.Status == store.CaseDecided {
		return "decided: " + cs.Outcome
	}
	if cs.Priority != "" {
		return "open, " + cs.Priority
	}
	return "open"
}

func where(e bot.Event) string {
	parts := []string{e.Platform}
	for _, p := range []string{e.Space, e.Channel, e.Thread} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return terminal(strings.Join(parts, "/"))
}

func author(a bot.Author) string {
	if a.Name == "" || a.Name == a.ID {
		return terminal(a.ID)
	}
	return terminal(a.Name) + " (" + terminal(a.ID) + ")"
}

func age(now, t time.Time) string {
	d := now.Sub(t)
	if d < time.Minute {
		return "<1m"
	}
	return bot.FormatDuration(d.Truncate(time.Minute))
}

// snippet is the first n characters of a message on one line, inert
// (terminal).
func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return terminal(s)
}

// terminal is s, which a member may have written (a name, a place, a
// message), made inert for the CM's terminal: runs of spaces, tabs and line
// breaks are one space, and every other character that does not print (an
// escape that clears the screen or sets the window's title, a carriage
// return, a right-to-left override) is written as Go writes it in a quoted
// string, \x1b, \r, \u202e: to be read, not obeyed.
func terminal(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && !strconv.IsPrint(r) }) {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if strconv.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// loopbackHost reports whether host (a URL's, without its port) is this
// machine's loopback: localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// urlPort is u's port, or its scheme's when it names none.
func urlPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// pinnedClient connects to addr alone, whatever the URL's host resolves to,
// and follows no redirect: the token vigie run made goes to the address it
// listens on, not to a server of another user listening on the same port at
// another loopback address (::1 beside 127.0.0.1: "localhost" names both on
// most systems, and ::1 is tried first).
func pinnedClient(addr string) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// adminAPI asks a running vigie's admin endpoints.
type adminAPI struct {
	c    *cli
	base string
}

// elsewhere names, for a request to u that reached no server, the
// addresses where the vigie run of this user listen (their token files say,
// and something answers there), when u is of this machine: "; your vigie
// run listens on 127.0.0.1:24200: try --url http://127.0.0.1:24200"; ""
// when there is none.
func (a adminAPI) elsewhere(getenv func(string) string, u *url.URL) string {
	if !loopbackHost(u.Hostname()) {
		return ""
	}
	var addrs []string
	for _, addr := range daemon.MadeTokenAddrs(getenv) {
		// A vigie run killed (kill -9, a crash) left its file: name only
		// the addresses where something listens.
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			addrs = append(addrs, addr)
		}
	}
	switch len(addrs) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("; your vigie run listens on %s: try --url %s://%s", addrs[0], u.Scheme, addrs[0])
	}
	return fmt.Sprintf("; your vigie runs listen on %s: try --url %s://%s", strings.Join(addrs, ", "), u.Scheme, addrs[0])
}

// do sends one request with the admin token (VIGIE_ADMIN_TOKEN or its _FILE,
// else, for a vigie on this machine, the one vigie run wrote for this user)
// and returns the body when the status is one of ok; other statuses are
// errors carrying what vigie said.
func (a adminAPI) do(ctx context.Context, method, path string, q url.Values, body []byte, ok ...int) ([]byte, int, error) {
	u, err := url.Parse(strings.TrimRight(a.base, "/") + path)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, 0, fmt.Errorf("--url (or VIGIE_URL) %q: want the running vigie's address, like http://127.0.0.1:8080", a.base)
	}
	if q != nil {
		u.RawQuery = q.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	getenv, err := withSecretFiles(a.c.getenv)
	if err != nil {
		return nil, 0, err
	}
	tok, tokenFile := getenv("VIGIE_ADMIN_TOKEN"), ""
	client := http.DefaultClient
	if tok == "" && loopbackHost(u.Hostname()) {
		// The token that vigie run made for its user, when it is ours; it is
		// never sent to another machine, nor to another server of this one.
		made, err := daemon.ReadAdminToken(getenv, urlPort(u))
		if err != nil {
			return nil, 0, err
		}
		tok, tokenFile = made.Token, made.File
		if dial := made.Dial(); tok != "" && dial != "" {
			client = pinnedClient(dial)
		}
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w (is vigie run serving there? --url or VIGIE_URL gives its address%s)", err, a.elsewhere(getenv, u))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, 0, err
	}
	for _, code := range ok {
		if resp.StatusCode == code {
			return b, code, nil
		}
	}
	var e struct{ Error string }
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		if resp.StatusCode == http.StatusUnauthorized && tok == "" && tokenFile != "" {
			e.Error += " (no token for this user in " + tokenFile + ")"
		}
		return nil, resp.StatusCode, errors.New(resp.Status + ": " + e.Error)
	}
	return nil, resp.StatusCode, errors.New(u.Redacted() + ": " + resp.Status + ": " + strings.TrimSpace(string(b)))
}
