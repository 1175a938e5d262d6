// Package console is the CMs' web console, served by vigie run at / of its
// HTTP listener: the queue of open cases, decided from a laptop or a phone,
// with live updates. Pages are rendered on the server from templates embedded
// in the binary (no CDN: it works offline); the only script asks for the queue
// again when the server says it changed.
//
// CMs log in with an account of the store (vigie users add), so that every
// instance on one Redis knows them; sessions are signed cookies, forms carry a
// CSRF token, failed logins are limited. Beyond loopback the console answers
// only over TLS (vigie's own, or a proxy's the operator trusts) unless told
// it may go without.
package console

import (
	"cmp"
	"context"
	"crypto/hmac"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store"
)

//go:embed assets
var assets embed.FS

// Options are what the console needs from the rest of vigie.
type Options struct {
	// Store holds the cases; Accounts the CMs' logins and the session key.
	Store    store.Store
	Accounts store.Accounts
	// Limits counts the failed logins (see throttle); Accounts when it
	// offers store.LoginLimits and Limits is nil. Without either, every
	// login is refused.
	Limits store.LoginLimits
	// Refusals counts the logins refused (too many failures, wrong name or
	// password, the logins before too slow) and logs those refused before
	// a password is checked a line a minute at most for each reason: a
	// stranger past the limits must not write the log. Default: its own,
	// on Now, not registered.
	Refusals *bot.Refusals
	// Decide records a CM's decision and carries it out, on every message
	// the case groups, and says what the cards add to a decision carried
	// out: what it left undone on those messages, a timed ban's end
	// (handlers.Commands.DecideNoted).
	Decide func(ctx context.Context, id, outcome, by string) (c store.Case, note string, err error)
	// Outcomes lists what may be decided on a case of an event: what its
	// platform can do to that message (handlers.Moderator.OutcomesFor).
	Outcomes func(ev bot.Event) []bot.ActionKind
	// Insecure serves the console over plain HTTP to any address; without it
	// only loopback clients, TLS connections and TrustedProxies that say the
	// client came over HTTPS are served.
	Insecure bool
	// TrustedProxies are the addresses whose X-Forwarded-Proto and
	// X-Forwarded-For are believed.
	TrustedProxies []netip.Prefix
	// Report builds the report of the period that ends now; Health says how
	// the running vigie is. Without them, their pages are not served.
	// A community's report ("" for all) keeps to its places.
	Report func(ctx context.Context, period time.Duration, community string) (*report.Report, error)
	// Communities, when set, names the rule file's communities: the queue
	// and the reports can keep to one (?community=NAME).
	Communities func() []string
	Health      func(ctx context.Context) Health
	// Rules, when set, gives the rules page: the file to edit, check, test,
	// backtest on recent events, apply and roll back (admins only).
	Rules *RuleFile
	// LiftTimeout ends an author's timeout on the platform of ev, one of
	// their messages (handlers.Moderator.LiftTimeout).
	LiftTimeout func(ctx context.Context, ev bot.Event, by string) error
	// LoginWait is how long a login waits for those before it to be
	// checked and counted, one at a time, before it is refused with a 503
	// (5s when 0).
	LoginWait time.Duration
	// PageSize is how many cases a queue page shows (50 when 0).
	PageSize int
	// Poll is how often the live view checks the queue for changes (2s when 0).
	Poll time.Duration
	Now  func() time.Time
	Log  *slog.Logger
}

// Console serves the pages.
type Console struct {
	o     Options
	pages *template.Template
	tries throttle
	// logins lets one login at a time in this process be checked, hashed
	// and counted: guesses sent at once are counted as if sent in turn.
	logins chan struct{}
	// idKey hashes the passwords: argon2.IDKey.
	idKey idKeyFunc
	// done is closed by Close: the live views end.
	done      chan struct{}
	closeOnce sync.Once
	// key is the session key once the store gave it: it never changes, and
	// every request would otherwise ask Redis for it.
	keyMu sync.Mutex
	key   []byte
	// rulesMu lets one change of the rule file at a time in this process
	// (install; a lock file does it across processes).
	rulesMu sync.Mutex
	// backtests lets one backtest run at a time (rulesBacktest).
	backtests chan struct{}
	// compiles lets maxCompiles drafts be checked, tested or applied at
	// a time (compiling).
	compiles chan struct{}
	// feed looks at the open cases for the live views.
	feed liveFeed
}

// sessionKey is the store's session key, asked for once.
func (c *Console) sessionKey(ctx context.Context) ([]byte, error) {
	c.keyMu.Lock()
	defer c.keyMu.Unlock()
	if c.key == nil {
		k, err := c.o.Accounts.SessionKey(ctx)
		if err != nil {
			return nil, err
		}
		c.key = k
	}
	return c.key, nil
}

// Close ends the live views, for the HTTP server to shut down: the browsers
// connect again (to another instance, or to this one once it is back).
func (c *Console) Close() { c.closeOnce.Do(func() { close(c.done) }) }

// New makes the console.
func New(o Options) *Console {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Limits == nil {
		o.Limits, _ = o.Accounts.(store.LoginLimits)
	}
	if o.Refusals == nil {
		o.Refusals = bot.NewRefusals(o.Log, nil, o.Now)
	}
	o.PageSize = cmp.Or(o.PageSize, 50)
	o.LoginWait = cmp.Or(o.LoginWait, 5*time.Second)
	o.Poll = cmp.Or(o.Poll, 2*time.Second)
	funcs := template.FuncMap{
		"age":          func(t time.Time) string { return age(o.Now(), t) },
		"when":         func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") },
		"unverified":   bot.UnverifiedText,
		"edited":       bot.EditedText,
		"editedReason": bot.EditedReason,
		"deleted":      bot.DeletedText,
		"action": func(a bot.Action) string {
			return a.String()
		},
		"duration": func(d time.Duration) string { return bot.FormatDuration(d.Truncate(time.Minute)) },
		"plural":   plural,
		"pct": func(part, whole int) string {
			if whole == 0 {
				return "–"
			}
			return strconv.Itoa(part*100/whole) + "%"
		},
	}
	pages := template.Must(template.New("").Funcs(funcs).ParseFS(assets, "assets/*.html"))
	return &Console{o: o, pages: pages, tries: throttle{st: o.Limits}, logins: make(chan struct{}, 1), idKey: argon2.IDKey, done: make(chan struct{}),
		backtests: make(chan struct{}, 1), compiles: make(chan struct{}, maxCompiles)}
}

// Routes are the console's patterns for vigie's HTTP mux.
func (c *Console) Routes() map[string]http.Handler {
	static, _ := fs.Sub(assets, "assets/static")
	routes := map[string]http.Handler{
		"GET /{$}":                c.guard(http.RedirectHandler("/queue", http.StatusSeeOther).ServeHTTP),
		"GET /login":              c.guard(c.loginPage),
		"POST /login":             c.guard(c.login),
		"POST /logout":            c.guard(c.logout),
		"GET /queue":              c.guard(c.signedIn(RoleViewer, c.queue)),
		"GET /queue/live":         c.guard(c.signedIn(RoleViewer, c.live)),
		"POST /queue/{id}/decide": c.guard(c.signedIn(RoleModerator, c.decide)),
		"GET /static/":            c.guard(staticFiles(static)),
	}
	routes["GET /people"] = c.guard(c.signedIn(RoleViewer, c.people))
	routes["GET /people/{platform}/{space}/{author}"] = c.guard(c.signedIn(RoleViewer, c.personPage))
	routes["POST /people/{platform}/{space}/{author}/strikes/lift"] = c.guard(c.signedIn(RoleModerator, c.liftStrikes))
	routes["POST /people/{platform}/{space}/{author}/timeout/lift"] = c.guard(c.signedIn(RoleModerator, c.liftTimeout))
	if c.o.Report != nil {
		routes["GET /reports"] = c.guard(c.signedIn(RoleViewer, c.reports))
		routes["GET /reports/chart.png"] = c.guard(c.signedIn(RoleViewer, c.reportFile("png")))
		routes["GET /reports/report.csv"] = c.guard(c.signedIn(RoleViewer, c.reportFile("csv")))
	}
	if c.o.Health != nil {
		routes["GET /health"] = c.guard(c.signedIn(RoleViewer, c.health))
	}
	if c.o.Rules != nil {
		routes["GET /rules"] = c.guard(c.signedIn(RoleViewer, c.rulesPage))
		routes["POST /rules/check"] = c.guardForm(maxDraft, c.signedIn(RoleAdmin, c.compiling(c.rulesCheck)))
		routes["POST /rules/test"] = c.guardForm(maxDraft, c.signedIn(RoleAdmin, c.compiling(c.rulesTest)))
		routes["POST /rules/backtest"] = c.guardForm(maxDraft, c.signedIn(RoleAdmin, c.rulesBacktest))
		routes["POST /rules/apply"] = c.guardForm(maxDraft, c.signedIn(RoleAdmin, c.compiling(c.rulesApply)))
		routes["POST /rules/rollback"] = c.guardForm(maxDraft, c.signedIn(RoleAdmin, c.rulesRollback))
	}
	return routes
}

// staticFiles serves the console's own files. A path fs.FS cannot even
// name (not UTF-8, a NUL) is a 404: http.FileServerFS answers it 500, which
// anyone could ask for to make vigie look broken to an alert on its errors.
func staticFiles(files fs.FS) http.HandlerFunc {
	serve := http.StripPrefix("/static/", http.FileServerFS(files))
	return func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if name != "" && !fs.ValidPath(strings.TrimSuffix(name, "/")) {
			http.NotFound(w, r)
			return
		}
		w.Header().Del("Cache-Control") // the console's own files hold nobody's words
		serve.ServeHTTP(w, r)
	}
}

// guard serves the console only where a password and a session cookie cannot
// be read on the way: loopback, TLS, a trusted proxy's HTTPS, or anywhere when
// Insecure. Every answer forbids framing and caching; a POST from another
// site is refused.
func (c *Console) guard(next http.HandlerFunc) http.Handler { return c.guardForm(maxForm, next) }

// maxForm is the most a form of the console may post (but a rule file's
// draft, maxDraft): Go would read 10 MB of any stranger's login.
const maxForm = 64 << 10

// guardForm is guard for a route whose forms may post up to limit bytes:
// the form is read here, 413 when it is larger.
func (c *Console) guardForm(limit int64, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.o.Insecure && !c.secure(r) {
			http.Error(w, "vigie's console answers over HTTPS, or on loopback (at 127.0.0.1 or localhost): serve it with VIGIE_TLS_CERT and VIGIE_TLS_KEY, "+
				"behind a proxy named in VIGIE_TRUSTED_PROXIES, or start vigie run with --insecure", http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Content-Type-Options", "nosniff")
		// Members' messages, names and the session's CSRF token: kept by no
		// browser or proxy, so that the back button after a logout on a
		// shared computer does not show them again.
		h.Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			if src, host, ok := c.sameOrigin(r); !ok {
				http.Error(w, c.crossSite(r, src, host), http.StatusForbidden)
				return
			}
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					http.Error(w, fmt.Sprintf("form larger than %d KiB", limit>>10), http.StatusRequestEntityTooLarge)
					return
				}
				http.Error(w, "form: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		next(w, r)
	})
}

// secure reports whether r came over a connection nobody else can read.
func (c *Console) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	addr, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := addr.Addr().Unmap()
	if c.trusted(ip) {
		return forwardedHTTPS(r)
	}
	// A reverse proxy on this machine connects from loopback too, and may
	// serve the whole Internet over plain HTTP: the headers it adds tell it
	// from a browser here, and one not in TrustedProxies is not believed.
	// A browser here asks for this machine by a name of its own: a page of
	// another site whose name was pointed at 127.0.0.1 (DNS rebinding) would
	// otherwise be served the console as its own, login form included.
	return ip.IsLoopback() && !bot.Proxied(r) && bot.LocalHost(r.Host)
}

// forwardedHTTPS reports whether X-Forwarded-Proto says https, as its last
// word: the header's lines are one list (RFC 9110, 5.3), and a proxy that
// adds its own after the client's leaves the first to the client.
func forwardedHTTPS(r *http.Request) bool {
	return strings.EqualFold(lastWord(r.Header.Values("X-Forwarded-Proto")), "https")
}

func (c *Console) trusted(ip netip.Addr) bool {
	for _, p := range c.o.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// client is the address failed logins are counted against: the last
// address of the trusted proxy's X-Forwarded-For when there is one, else
// the peer. The header's lines are one list (RFC 9110, 5.3): a proxy may
// add its own line after the client's rather than append to it (HAProxy's
// option forwardfor), and the client's first line is the client's to write.
func (c *Console) client(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip, err := netip.ParseAddr(host); err == nil && c.trusted(ip.Unmap()) {
		if lines := r.Header.Values("X-Forwarded-For"); len(lines) > 0 {
			parts := strings.Split(lines[len(lines)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
				return last
			}
		}
	}
	return host
}

// sameOrigin refuses what a page of another site posts: browsers send
// Origin (or at least Referer) with a form's POST, which must name this
// site, the Host asked for. A trusted proxy may ask vigie for its own
// address (nginx's proxy_pass sends Host 127.0.0.1:8080 unless told
// otherwise): the Host the browser asked it for is then its
// X-Forwarded-Host, believed from it only. It returns what was compared.
func (c *Console) sameOrigin(r *http.Request) (src, host string, ok bool) {
	src = r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" {
		return "", "", true // not a browser: the CSRF token still has to match
	}
	host = r.Host
	if fh := lastWord(r.Header.Values("X-Forwarded-Host")); fh != "" && c.fromTrustedProxy(r) {
		host = fh
	}
	u, err := url.Parse(src)
	return src, host, err == nil && strings.EqualFold(u.Host, host)
}

// crossSite says why a post was refused: from another site, or, from a
// trusted proxy that sends neither the Host it was asked for nor
// X-Forwarded-Host, what the operator must mend (the CM's own login is
// refused until then).
func (c *Console) crossSite(r *http.Request, src, host string) string {
	msg := "cross-site request refused: it comes from " + strconv.Quote(src) + ", not from this site (" + host + ")"
	if c.fromTrustedProxy(r) && r.Header.Get("X-Forwarded-Host") == "" {
		msg += "; if that is the address of the proxy in front of vigie, have it pass the Host it was asked for " +
			"(nginx: proxy_set_header Host $host) or set X-Forwarded-Host"
	}
	return msg
}

// fromTrustedProxy reports whether r's peer is in TrustedProxies.
func (c *Console) fromTrustedProxy(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && c.trusted(ap.Addr().Unmap())
}

// lastWord is the last value of a header's lines, read as one list
// (RFC 9110, 5.3): a proxy that adds its own line after the client's
// leaves the first to the client.
func lastWord(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	last := lines[len(lines)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}

// The session cookie is named hostCookieName over HTTPS: a browser keeps a
// __Host- cookie only when it is Secure, of Path=/ and of no Domain, so no
// sibling subdomain can plant one (RFC 6265bis, 4.1.3.2). Over plain HTTP
// it is cookieName, browsers refusing the prefix without Secure. A request
// over HTTPS is read only by the prefixed name (sessionCookie), so that a
// cookie planted under the plain name does not sign the CM in as another.
const (
	cookieName     = "vigie_session"
	hostCookieName = "__Host-" + cookieName
)

// sessionCookie is the session cookie of r: over HTTPS the __Host- one
// only, else the plain one.
func sessionCookie(r *http.Request) (*http.Cookie, error) {
	if r.TLS != nil || forwardedHTTPS(r) {
		return r.Cookie(hostCookieName)
	}
	return r.Cookie(cookieName)
}

// account is the CM a request comes from.
type account struct {
	store.Account
	// CSRF is the token of the account's session, for its forms.
	CSRF string
}

// signedIn lets through the CMs whose role allows need; the others are sent
// to the login page (a GET) or refused (a POST, or a live view).
func (c *Console) signedIn(need string, next func(http.ResponseWriter, *http.Request, account)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := c.who(r)
		var down *storeError
		if errors.As(err, &down) {
			c.o.Log.Error("console: session not checked", "path", r.URL.Path, "err", err)
			msg := err.Error() + ": try again shortly."
			if r.Method == http.MethodPost && r.Pattern == "POST /queue/{id}/decide" {
				msg = "Not done: " + r.PathValue("id") + " (" + r.PostFormValue("outcome") + ") was not decided: " + msg
			} else if r.Method == http.MethodPost {
				msg = "Not done: " + msg
			}
			w.Header().Set("Retry-After", "10")
			c.render(w, http.StatusServiceUnavailable, "notdone.html", notDone{Error: msg})
			return
		}
		if err != nil {
			if r.Method == http.MethodPost && r.Pattern == "POST /queue/{id}/decide" {
				c.decisionLost(w, r)
				return
			}
			// The live view's stream and its fetch of the list are answered
			// 401, for the page to load itself again (and so go to the
			// login page): a redirect would be followed by the fetch, and
			// the login page put in place of the list.
			if r.Method == http.MethodGet && r.URL.Path != "/queue/live" && r.FormValue("part") != "list" {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		if !may(a.Role, need) {
			http.Error(w, a.Name+" is a "+a.Role+": this needs a "+need, http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost && !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(a.CSRF)) {
			if r.Pattern == "POST /queue/{id}/decide" && r.PostFormValue("csrf") != "" {
				// The page was made for an older session of this browser
				// (a login in another tab): the CM is shown what was not done.
				// A post with no token at all is no page of the console's: 403.
				id := r.PathValue("id")
				outcome, _, _ := strings.Cut(strings.TrimSpace(r.PostFormValue("outcome")), "(")
				if id, outcome, ok := undone(id, outcome); ok {
					c.back(w, r, fmt.Sprintf("%s: not done, the page was out of date: press %s again.", id, outcome), true)
					return
				}
			}
			http.Error(w, "the form is out of date: load the page again", http.StatusForbidden)
			return
		}
		next(w, r, a)
	}
}

// notDone is the page shown when the store does not answer: Error says so;
// Flash is the message of the decision that led there, when there is one.
type notDone struct {
	Flash  string
	Failed bool
	Error  string
}

// storeError is a session that could not be checked: the store did not
// answer. Logging in again would not help.
type storeError struct{ err error }

func (e *storeError) Error() string { return "the store does not answer (" + e.err.Error() + ")" }
func (e *storeError) Unwrap() error { return e.err }

// who finds the account of the request's session: errSession when there is
// none, a *storeError when the store cannot say.
func (c *Console) who(r *http.Request) (account, error) {
	ck, err := sessionCookie(r)
	if err != nil {
		return account{}, errSession
	}
	key, err := c.sessionKey(r.Context())
	if err != nil {
		return account{}, &storeError{err}
	}
	s, err := decodeSession(key, ck.Value, c.o.Now())
	if err != nil {
		return account{}, err
	}
	a, err := c.o.Accounts.Account(r.Context(), s.name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return account{}, &storeError{err}
	}
	if err != nil || hashPrint(a.Hash) != s.print {
		return account{}, errSession
	}
	revoked, err := c.o.Accounts.SessionRevoked(r.Context(), s.id)
	if err != nil {
		return account{}, &storeError{err}
	}
	if revoked {
		return account{}, errSession
	}
	return account{Account: a, CSRF: csrfToken(key, ck.Value)}, nil
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	list, err := c.o.Accounts.AccountList(r.Context())
	data := map[string]any{"Next": safeNext(r.FormValue("next")), "NoAccount": err == nil && len(list) == 0}
	if id, outcome, ok := undone(r.FormValue("undone"), r.FormValue("outcome")); ok {
		data["Undone"], data["Outcome"] = id, outcome
	}
	c.render(w, http.StatusOK, "login.html", data)
}

// decisionLost answers a decision pressed in a session that has ended (its
// 12 hours are over, the CM logged out in another tab, the password was
// changed): nothing was decided, and the CM is sent to log in with what was
// not done said, then back to the case to press it again. A POST cannot
// follow a login: the decision is made again by the CM, not replayed.
func (c *Console) decisionLost(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	outcome, _, _ := strings.Cut(strings.TrimSpace(r.PostFormValue("outcome")), "(")
	q := url.Values{}
	if p := r.PostFormValue("page"); p != "" {
		q.Set("page", p)
	}
	if cm := r.PostFormValue("community"); cm != "" {
		q.Set("community", cm)
	}
	next := "/queue"
	if len(q) > 0 {
		next += "?" + q.Encode()
	}
	login := url.Values{"next": {next + "#case-" + id}}
	if id, outcome, ok := undone(id, outcome); ok {
		login.Set("undone", id)
		login.Set("outcome", outcome)
	}
	c.o.Log.Info("console: decision pressed in an ended session, not made", "case", id, "outcome", outcome, "addr", c.client(r))
	http.Redirect(w, r, "/login?"+login.Encode(), http.StatusSeeOther)
}

// caseID is what a case's id looks like: the login page names one from its
// query, so nothing else may be put in the console's words there.
var caseID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// undone checks what a login page is asked to say was not done: a case id
// and an outcome's kind, nothing else.
func undone(id, outcome string) (string, string, bool) {
	o, err := handlers.ParseOutcome(outcome)
	if !caseID.MatchString(id) || err != nil || string(o.Kind) != outcome {
		return "", "", false
	}
	return id, outcome, true
}

// loginRoute is the route the login's refusals are counted under.
const loginRoute = "POST /login"

// loginRetry is the Retry-After of a login refused because those before it
// took too long.
const loginRetry = 10 * time.Second

// login checks a name and password and sets the session cookie, and the
// device cookie that lets this browser in while strangers guess at the name.
// Failures are limited as throttle says, and said the same way whatever was
// wrong. When the store cannot say how many failures there were, a browser
// with the name's device cookie (it logged in with this password before)
// goes ahead, and any other is refused for now: a store out of reach must
// not lift the limits for whoever guesses.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	if !ValidAccountName(name) {
		// No account has such a name: refused before the store, the limits
		// and the password's hash, and logged once a minute, without the
		// name, which a stranger writes (a form holds 64 KB).
		c.o.Refusals.Refuse(loginRoute, "no_such_name", "console: login refused, a name no account can have", "name_bytes", len(name), "addr", c.client(r))
		shown := name
		if len(shown) > 64 {
			shown = ""
		}
		c.render(w, http.StatusUnauthorized, "login.html", map[string]any{"Next": next, "Name": shown,
			"Error": "Wrong name or password."})
		return
	}
	now := c.o.Now()
	key, err := c.sessionKey(r.Context())
	if err != nil {
		http.Error(w, "accounts: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	a, err := c.o.Accounts.Account(r.Context(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		http.Error(w, "accounts: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	found := err == nil
	try := attempt{name: name, addr: clientKey(c.client(r))}
	if ck, err := r.Cookie(deviceCookie); err == nil && found {
		try.device = deviceID(key, ck.Value, a, now)
	}
	if !c.loginTurn(w, r, name, next) {
		return
	}
	defer func() { <-c.logins }()
	var tl tally
	counted := c.tries.st != nil
	if counted {
		tl, err = c.tries.read(r.Context(), now, try)
		counted = err == nil
	} else {
		err = errors.New("login limits: the store keeps none")
	}
	uncountable := func(err error) {
		c.o.Log.Error("console: login refused, the failed logins cannot be counted", "name", name, "addr", c.client(r), "err", err)
		w.Header().Set("Retry-After", "30")
		c.render(w, http.StatusServiceUnavailable, "login.html", map[string]any{"Next": next, "Name": name,
			"Error": "Logins cannot be checked right now (the store is out of reach): try again shortly."})
	}
	tooMany := func(no *refusal) {
		c.o.Refusals.Refuse(loginRoute, "too_many_failures", "console: login refused, too many failures", "name", name, "addr", c.client(r), "by_name", no.byName)
		minutes := int((no.wait + time.Minute - 1) / time.Minute)
		msg := fmt.Sprintf("Too many failed attempts from here: try again in %d minutes.", minutes)
		if no.byName {
			msg = fmt.Sprintf("Too many failed attempts on this account from devices it does not know: "+
				"log in from a device you used before, or try again in %d minutes.", minutes)
		}
		w.Header().Set("Retry-After", strconv.Itoa(int((no.wait+time.Second-1)/time.Second)))
		c.render(w, http.StatusTooManyRequests, "login.html", map[string]any{"Next": next, "Name": name, "Error": msg})
	}
	if !counted && try.device == "" {
		uncountable(err)
		return
	}
	if !counted {
		c.o.Log.Warn("console: failed logins not counted, a known device goes ahead", "name", name, "addr", c.client(r), "err", err)
	} else if no := tl.check(now, try); no != nil {
		tooMany(no)
		return
	}
	// Counted as a failure before the password is checked, in one step with
	// the limits: another instance may have counted guesses since the read.
	var ch charge
	if counted {
		ch, err = c.tries.take(r.Context(), now, try, tl)
		switch {
		case err != nil && try.device == "":
			uncountable(err)
			return
		case err != nil:
			c.o.Log.Warn("console: failed logins not counted, a known device goes ahead", "name", name, "addr", c.client(r), "err", err)
			counted = false
		case !ch.ok:
			// The limit was reached since the read: the tally read now
			// says for how long (a minute if it no longer does).
			no := &refusal{wait: time.Minute}
			if tl, err := c.tries.read(r.Context(), now, try); err == nil {
				if n := tl.check(now, try); n != nil {
					no = n
				}
			}
			tooMany(no)
			return
		}
	}
	hash := a.Hash
	if !found {
		hash = unknownName
	}
	if !checkPassword(c.idKey, hash, password) || !found {
		// Each is logged: the limits bound them, and a failed login is
		// what an operator's fail2ban or alerting looks for.
		c.o.Refusals.Count(loginRoute, "wrong_password")
		c.o.Log.Warn("console: failed login", "name", name, "addr", c.client(r))
		c.render(w, http.StatusUnauthorized, "login.html", map[string]any{"Next": next, "Name": name,
			"Error": "Wrong name or password."})
		return
	}
	if counted {
		if err := c.tries.uncount(r.Context(), ch); err != nil {
			c.o.Log.Error("console: login counted as a failed one, not taken back", "name", name, "addr", c.client(r), "err", err)
		}
		if err := c.tries.succeed(r.Context(), now, try); err != nil {
			c.o.Log.Error("console: login not remembered for its address", "name", name, "addr", c.client(r), "err", err)
		}
	}
	setLoginCookies(w, r, key, a, now)
	c.o.Log.Info("console: login", "name", a.Name, "role", a.Role, "addr", c.client(r))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// loginTurn waits for the turn of the login of name, to be given back
// (<-c.logins) once it is counted: from the check to the count, one login
// at a time, else a hundred guesses sent at once would all pass the check
// before the first is counted, and hash a hundred passwords of 19 MiB each
// at once. The wait is bounded: while the store is slow, each login holds
// the turn for as long as its count takes, and those behind would
// otherwise pile up without end. false: no turn, the login refused (its
// answer written) or its request ended.
func (c *Console) loginTurn(w http.ResponseWriter, r *http.Request, name, next string) bool {
	// On the wall clock: a request's deadline, for the browser waiting on it.
	wait := time.NewTimer(c.o.LoginWait)
	defer wait.Stop()
	select {
	case c.logins <- struct{}{}:
		return true
	case <-wait.C:
		c.o.Refusals.Refuse(loginRoute, "logins_slow", "console: login refused, the logins before it take too long (the store is slow)", "name", name, "addr", c.client(r), "waited", c.o.LoginWait)
		w.Header().Set("Retry-After", strconv.Itoa(int(loginRetry/time.Second)))
		c.render(w, http.StatusServiceUnavailable, "login.html", map[string]any{"Next": next, "Name": name,
			"Error": "Logins are slow right now (the store answers slowly): try again shortly."})
		return false
	case <-r.Context().Done():
		return false
	}
}

// setLoginCookies gives the browser that logged in as a, at now, its
// session cookie and the device cookie that lets it in while strangers
// guess at the name, both signed with key.
func setLoginCookies(w http.ResponseWriter, r *http.Request, key []byte, a store.Account, now time.Time) {
	secure := r.TLS != nil || forwardedHTTPS(r)
	s := session{name: a.Name, expires: now.Add(sessionTTL), print: hashPrint(a.Hash), id: newID()}
	sessionName := cookieName
	if secure {
		sessionName = hostCookieName
	}
	http.SetCookie(w, &http.Cookie{Name: sessionName, Value: s.encode(key), Path: "/", Expires: s.expires,
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	device := now.Add(knownFor)
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: encodeDevice(key, a, device), Path: "/login", Expires: device,
		MaxAge: int(knownFor / time.Second), HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
}

// logout revokes the session in the store, so that a copy of its cookie is
// refused by every instance from now on, then clears the cookie. Like every
// other form, it carries the session's CSRF token: a post without it (from
// a client that sends no Origin) ends nothing. When the store does not take
// the revocation, the CM is told, and the cookie kept for them to try again.
// A cookie that is no session any more (expired, or of another key) is
// only cleared.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := sessionCookie(r); err == nil {
		key, err := c.sessionKey(r.Context())
		if err != nil {
			http.Error(w, "not logged out: accounts: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		now := c.o.Now()
		if s, err := decodeSession(key, ck.Value, now); err == nil {
			if !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(csrfToken(key, ck.Value))) {
				http.Error(w, "not logged out: the form is out of date: load the page again", http.StatusForbidden)
				return
			}
			if err := c.o.Accounts.RevokeSession(r.Context(), s.id, s.expires.Sub(now)); err != nil {
				c.o.Log.Error("console: session not revoked", "name", s.name, "err", err)
				http.Error(w, "not logged out: the session could not be revoked ("+err.Error()+"): try again", http.StatusServiceUnavailable)
				return
			}
			c.o.Log.Info("console: logout", "name", s.name, "addr", c.client(r))
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	if r.TLS != nil || forwardedHTTPS(r) {
		// A browser takes a __Host- cookie, even one that ends it, only
		// Secure: over plain HTTP there is none to clear.
		http.SetCookie(w, &http.Cookie{Name: hostCookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a redirect after login on this site: a path of its own.
// Browsers drop tabs and line breaks from a Location and read a backslash as
// a slash, so "/\t/evil.example" would be "//evil.example", another site:
// a path with any of them, a space or another control character, is none.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		return "/queue"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/queue"
	}
	return next
}

// queueCase is a case as the queue shows it.
type queueCase struct {
	store.Case
	Outcomes []bot.ActionKind
	// Notes are the moderators' notes on the case's author (/note).
	Notes []store.Note
}

// AuthorPath is the page of the case's author, each part of it escaped: an
// id or a place may hold a slash, a '?' or a '#' (an event posted to
// /v1/events names whom it likes).
func (q queueCase) AuthorPath() string {
	return person{Platform: q.Event.Platform, Space: q.Event.Space, ID: q.Event.Author.ID}.Path()
}

// Content is what the case's message gave to read, as the desks' cards
// quote it (bot.Event.Content): a forward's text, an embed, a hidden link's
// target, which the rules judged too, and not its text alone.
func (q queueCase) Content() string { return q.Event.Content() }

// RuleNames are the rules that sent the case to the desk, its Rule first:
// a message that several rules forwarded names each (store.Case.Rules).
func (q queueCase) RuleNames() []string {
	names := make([]string, 0, len(q.Rules)+1)
	if q.Rule != "" {
		names = append(names, q.Rule)
	}
	for _, r := range q.Rules {
		if r != "" && !slices.Contains(names, r) {
			names = append(names, r)
		}
	}
	return names
}

// Mark is what the queue writes after a suggested action, as the cards do
// (bot.SuggestedText): still being tried, not done, or nothing.
func (q queueCase) Mark(a bot.Action) string {
	switch {
	case slices.Contains(q.Trying, a):
		return strings.TrimSpace(bot.TryingMark)
	case slices.Contains(q.NotDone, a):
		return strings.TrimSpace(bot.NotDoneMark)
	}
	return ""
}

// placeCount is a place of the messages a case groups, and how many of
// them are there.
type placeCount struct {
	Place string
	N     int
}

// GroupedPlaces are where the messages the case groups are, its own
// message's place first, then each other in the order the case met it:
// those a CM's delete or hide acts on (store.Case.Grouped).
func (q queueCase) GroupedPlaces() []placeCount {
	msgs, _ := q.Grouped()
	out := []placeCount{{Place: placeOf(q.Event), N: 1}}
	for _, m := range msgs {
		p := placeOf(m)
		if i := slices.IndexFunc(out, func(pc placeCount) bool { return pc.Place == p }); i >= 0 {
			out[i].N++
			continue
		}
		out = append(out, placeCount{Place: p, N: 1})
	}
	return out
}

// placeOf names where ev is in its space: its channel (a Telegram chat's
// topic, a Discord channel), and its thread when it is in one.
func placeOf(ev bot.Event) string {
	p := "#" + cmp.Or(ev.Channel, ev.Space)
	if ev.Thread != "" {
		p += " › " + ev.Thread
	}
	return p
}

// ArgHint is the placeholder of the field that an outcome's argument is
// typed in (a reply's text, a timeout's or a ban's duration), "" when no
// outcome offered takes one: a case of a platform vigie has no connector
// for, which only keep decides, shows no field to fill in for nothing.
func (q queueCase) ArgHint() string {
	reply := slices.Contains(q.Outcomes, bot.ActReply)
	timed := slices.Contains(q.Outcomes, bot.ActTimeout) || slices.Contains(q.Outcomes, bot.ActBan)
	switch {
	case reply && timed:
		return "reply text, or 1h / 7d"
	case reply:
		return "reply text"
	case timed:
		return "1h / 7d"
	}
	return ""
}

// undoable is outcomes without the undo of an action the case did not carry
// out: no unhide for a hide that failed, as on the desks' cards; the hide
// itself stays offered.
func undoable(c store.Case, outcomes []bot.ActionKind) []bot.ActionKind {
	undoes := map[bot.ActionKind]bot.ActionKind{handlers.OutcomeUnhide: bot.ActHide, handlers.OutcomeUnban: bot.ActBan, handlers.OutcomeUntimeout: bot.ActTimeout}
	return slices.DeleteFunc(slices.Clone(outcomes), func(o bot.ActionKind) bool {
		k, ok := undoes[o]
		return ok && slices.ContainsFunc(c.NotDone, func(a bot.Action) bool { return a.Kind == k })
	})
}

// order puts the cases to decide first on top: high priority, then normal,
// then low; the oldest first within each, as the store lists them. It
// returns their positions in cs, not copies: a case is large, and a page
// shows 50 of 10,000.
func order(cs []store.Case) []int {
	out := make([]int, 0, len(cs))
	for _, p := range []string{handlers.PriorityHigh, handlers.PriorityNormal, handlers.PriorityLow} {
		for i := range cs {
			if cs[i].Priority == p {
				out = append(out, i)
			}
		}
	}
	// A priority of no rank (an older vigie's) comes last rather than not at all.
	for i := range cs {
		switch cs[i].Priority {
		case handlers.PriorityHigh, handlers.PriorityNormal, handlers.PriorityLow:
		default:
			out = append(out, i)
		}
	}
	return out
}

// queue shows a page of the open cases, or only the list when the live view
// asks for it (?part=list).
func (c *Console) queue(w http.ResponseWriter, r *http.Request, a account) {
	cases, err := c.o.Store.Cases(r.Context(), store.CaseOpen)
	if err != nil {
		// The message of the decision that led here (often why it was not
		// done) is shown with why the queue cannot be, on a page of the
		// console's: a bare 503 would hide it.
		c.o.Log.Error("console: queue not shown", "err", err)
		flash, failed := c.flash(r)
		w.Header().Set("Retry-After", "10")
		c.render(w, http.StatusServiceUnavailable, "notdone.html", notDone{Flash: flash, Failed: failed,
			Error: "The queue cannot be shown: the store does not answer (cases: " + err.Error() + "): try again shortly."})
		return
	}
	community := r.FormValue("community")
	if community != "" {
		cases = slices.DeleteFunc(cases, func(cs store.Case) bool { return cs.Community != community })
	}
	ordered := order(cases)
	pages := max(1, (len(cases)+c.o.PageSize-1)/c.o.PageSize)
	page, _ := strconv.Atoi(r.FormValue("page"))
	page = min(max(page, 1), pages)
	shown := ordered[min((page-1)*c.o.PageSize, len(cases)):min(page*c.o.PageSize, len(cases))]
	list := make([]queueCase, len(shown))
	for i, at := range shown {
		list[i] = queueCase{Case: cases[at], Notes: c.notes(r, keyOfEvent(cases[at].Event))}
		if may(a.Role, RoleModerator) {
			list[i].Outcomes = undoable(cases[at], c.o.Outcomes(cases[at].Event))
			if cases[at].Unverified {
				// its message may be forged: nothing is done on the platform
				// (handlers.Moderator.Decide refuses it too)
				list[i].Outcomes = []bot.ActionKind{handlers.OutcomeKeep}
			}
		}
	}
	data := map[string]any{
		"Account": a, "Nav": "queue", "Cases": list, "Total": len(cases), "Page": page, "Pages": pages,
		"Prev": page - 1, "Next": page + 1,
		"Version": version(cases), "Community": community, "Communities": c.communities(),
	}
	data["Flash"], data["Failed"] = c.flash(r)
	name := "queue.html"
	if r.FormValue("part") == "list" {
		name = "list"
	}
	c.render(w, http.StatusOK, name, data)
}

// version changes whenever the open cases do: opened, decided, grouped, or
// amended (their message edited or deleted, an action tried ended: what
// the desks edit their cards for).
func version(cs []store.Case) string {
	h := fnv.New64a()
	var buf []byte
	for i := range cs {
		c := &cs[i]
		buf = append(buf[:0], c.ID...)
		buf = strconv.AppendInt(append(buf, '/'), int64(c.Count), 10)
		buf = append(append(append(buf, '/'), c.Priority...), '/')
		buf = append(append(buf, c.Reason...), '/')
		buf = strconv.AppendInt(buf, int64(len(c.Suggested)<<16|len(c.NotDone)<<8|len(c.Trying)), 10)
		if e := c.Edited; e != nil {
			buf = strconv.AppendInt(append(buf, '/'), int64(e.Edits), 10)
			buf = strconv.AppendInt(append(buf, '/'), e.At.UnixNano(), 10)
			buf = strconv.AppendInt(append(buf, '/'), e.Deleted.UnixNano(), 10)
			buf = strconv.AppendInt(append(buf, '/'), e.Unhidden.UnixNano(), 10)
		}
		h.Write(append(buf, ';'))
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// decide carries out a CM's decision from the queue, then shows the queue
// again with what happened.
func (c *Console) decide(w http.ResponseWriter, r *http.Request, a account) {
	id := r.PathValue("id")
	outcome, arg := strings.TrimSpace(r.PostFormValue("outcome")), strings.TrimSpace(r.PostFormValue("arg"))
	// The field is the reply's text or a duration: another button leaves it.
	switch bot.ActionKind(outcome) {
	case bot.ActReply:
		if arg == "" {
			c.back(w, r, id+": write the reply first.", true)
			return
		}
	case bot.ActTimeout, bot.ActBan:
	default:
		arg = ""
	}
	outcome = handlers.WithArgument(outcome, arg)
	if _, err := handlers.ParseOutcome(outcome); err != nil {
		c.back(w, r, id+": "+err.Error(), true)
		return
	}
	by := "console:" + a.Name
	cs, note, err := c.o.Decide(r.Context(), id, outcome, by)
	var wait *bot.WaitError
	switch {
	case err == nil && note != "":
		// A note's ⚠️ says what the decision left undone (a grouped message
		// not deleted): shown as a failure, not as done in green.
		c.back(w, r, fmt.Sprintf("%s: %s, done; %s.", id, cs.Outcome, strings.TrimSuffix(note, ".")), strings.Contains(note, "⚠️"))
	case err == nil:
		c.back(w, r, fmt.Sprintf("%s: %s, done.", id, cs.Outcome), false)
	case errors.As(err, &wait):
		c.back(w, r, fmt.Sprintf("%s: %s, recorded, not carried out yet: %s. It will be, once.", id, cs.Outcome, wait.Why), false)
	case errors.Is(err, bot.ErrStillTrying):
		c.back(w, r, fmt.Sprintf("%s: %s, recorded; still being tried on %s, which is slow to answer: had it refused, a new case would say so.", id, cs.Outcome, cs.Event.Platform), false)
	case errors.Is(err, store.ErrDecided) && sameDecision(cs, outcome, by):
		// The CM's own press again (a second tap while the phone waited for
		// the first's answer, which the browser then drops): not someone
		// else's decision. Whether the platform carried the first out is
		// not known here: a refusal opens a new case, which the queue shows.
		c.back(w, r, fmt.Sprintf("%s: %s, already decided by you (pressed twice); had the platform refused it, a new case would say so.", id, cs.Outcome), false)
	case errors.Is(err, store.ErrDecided):
		c.back(w, r, fmt.Sprintf("%s was already decided by %s: %s.", id, cs.DecidedBy, cs.Outcome), true)
	case errors.Is(err, store.ErrNotFound):
		c.back(w, r, id+": no such case.", true)
	case cs.Outcome != "" && cs.DecidedBy == by:
		// Recorded, and the platform refused it: said in a CM's words, as
		// the cards say it; a new case holds what is left to do.
		c.back(w, r, fmt.Sprintf("%s: %s, recorded but not carried out: %s", id, cs.Outcome, bot.RefusalWords(err)), true)
	default:
		c.back(w, r, "Not done: "+err.Error(), true)
	}
}

// sameDecision says whether cs was decided by by, with the kind of outcome.
func sameDecision(cs store.Case, outcome, by string) bool {
	if cs.DecidedBy != by {
		return false
	}
	was, err1 := handlers.ParseOutcome(cs.Outcome)
	now, err2 := handlers.ParseOutcome(outcome)
	return err1 == nil && err2 == nil && was.Kind == now.Kind
}

// back sends the CM to the queue page they decided from, with a message.
func (c *Console) back(w http.ResponseWriter, r *http.Request, msg string, failed bool) {
	q := c.flashValues(r, msg, failed)
	if p := r.PostFormValue("page"); p != "" {
		q.Set("page", p)
	}
	if cm := r.PostFormValue("community"); cm != "" {
		q.Set("community", cm)
	}
	http.Redirect(w, r, "/queue?"+q.Encode(), http.StatusSeeOther)
}

// A page shows the message of the redirect that led to it ("c-000042:
// delete, done.") only when it carries the signature made for this session:
// a link sent from elsewhere cannot put its own words in the console's voice
// ("your session expired: log in again at …").

// flashValues are the query of a redirect that shows msg.
func (c *Console) flashValues(r *http.Request, msg string, failed bool) url.Values {
	q := url.Values{"flash": {msg}}
	if failed {
		q.Set("failed", "1")
	}
	if sig := c.flashSig(r, msg, failed); sig != "" {
		q.Set("fsig", sig)
	}
	return q
}

// flashSig signs a message for the session of r; "" without one.
func (c *Console) flashSig(r *http.Request, msg string, failed bool) string {
	ck, err := sessionCookie(r)
	if err != nil {
		return ""
	}
	key, err := c.sessionKey(r.Context())
	if err != nil {
		return ""
	}
	return mac(key, "flash", ck.Value+"\x00"+strconv.FormatBool(failed)+"\x00"+msg)
}

// flash is the message r's query carries, when signed for r's session.
func (c *Console) flash(r *http.Request) (msg string, failed bool) {
	msg, failed = r.FormValue("flash"), r.FormValue("failed") != ""
	want := c.flashSig(r, msg, failed)
	if msg == "" || want == "" || !hmac.Equal([]byte(r.FormValue("fsig")), []byte(want)) {
		return "", false
	}
	return msg, failed
}

// communities are the rule file's communities, for the filters; none without
// Options.Communities.
func (c *Console) communities() []string {
	if c.o.Communities == nil {
		return nil
	}
	return c.o.Communities()
}

func (c *Console) render(w http.ResponseWriter, code int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := c.pages.ExecuteTemplate(w, name, data); err != nil {
		c.o.Log.Error("console: page", "page", name, "err", err)
	}
}

// age is how long ago t was, in a word.
func age(now, t time.Time) string {
	d := now.Sub(t)
	if d < time.Minute {
		return "now"
	}
	return bot.FormatDuration(d.Truncate(time.Minute)) + " ago"
}
