package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/handlers/console/browsertest"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// The console in Chromium (browsertest), at a phone's viewport and a
// desktop's, on a raid night's queue.

// browser starts a headless Chromium for the test, closed at its end; with
// phone, its tab is a phone's: 390×844 CSS pixels, touch, device scale 3.
func browser(t *testing.T, phone bool, flags ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	ctx := browsertest.Tab(t, flags...)
	if phone {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
			t.Fatalf("phone viewport: %v", err)
		}
	}
	return ctx
}

// press presses the button sel as a CM's tap does, once it is shown, in
// one step of the page's own (element.click()): the live queue may redraw
// its list between chromedp finding a node and clicking it ("No node with
// given id found").
func press(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.WaitVisible(sel)(ctx, tg); err != nil {
			return chromedp.Void{}, err
		}
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q).click(), true)`, sel))(ctx, tg)
		return chromedp.Void{}, err
	}
}

// shot saves the page as NAME.png in VIGIE_SCREENSHOTS (for the docs), or
// in the test's temporary directory.
func shot(t *testing.T, ctx context.Context, name string, full bool) {
	t.Helper()
	dir := os.Getenv("VIGIE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	a := chromedp.CaptureScreenshot()
	if full {
		a = chromedp.FullScreenshot(100) // 100: a PNG, as the name says (below it is a JPEG)
	}
	png, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// raidNight is a console on a memory store holding a raid night's queue:
// long texts, links, names written right to left and in emoji.
type raidNight struct {
	st   *memory.Store
	srv  *httptest.Server
	at   time.Time
	mu   sync.Mutex
	fail error  // what the platform answers to a decision, when set
	note string // what a decision carried out adds, as DecideNoted says it
	done []string
	skew time.Duration // added to the console's clock
	// quiet: the pages' live streams opened from now on are held open
	// without a word, as the console's is between two looks at the
	// queue. A look tells a page whose session ended to load itself
	// again (the login page): a test of what a press in an ended session
	// does must press before the page hears of it, not race the look.
	quiet bool
}

// live is the console's live stream, or a quiet one while n.quiet.
func (n *raidNight) live(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		quiet := n.quiet
		n.mu.Unlock()
		if !quiet {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 3000\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
}

// decide decides as handlers.Moderator does: recorded in the store, then
// carried out; the platform's refusal (n.fail) leaves the case decided and
// opens a new one for what is left to do, and a decision carried out says
// n.note with it.
func (n *raidNight) decide(ctx context.Context, id, outcome, by string) (store.Case, string, error) {
	n.mu.Lock()
	fail, note := n.fail, n.note
	n.mu.Unlock()
	cs, err := n.st.DecideCase(ctx, id, outcome, by, "", n.at)
	if err != nil {
		return cs, "", err
	}
	if fail != nil {
		o, _ := handlers.ParseOutcome(outcome)
		err := fmt.Errorf("case %s: %s by %s not carried out: %w", id, outcome, by, &bot.ActionError{Op: o.Kind, Err: fail})
		asked := []bot.Action{{Kind: o.Kind, Duration: o.Duration}}
		if _, oerr := n.st.OpenCase(ctx, store.Case{Event: cs.Event, Rule: cs.Rule, Suggested: asked, NotDone: asked,
			Reason: fmt.Sprintf("%s by %s on case %s not carried out: %s", outcome, by, id, bot.RefusalWords(err)), Holds: true, Opened: n.at}); oerr != nil {
			return cs, "", errors.Join(err, oerr)
		}
		return cs, "", err
	}
	n.mu.Lock()
	n.done = append(n.done, id+" "+outcome)
	n.mu.Unlock()
	return cs, note, nil
}

func (n *raidNight) decided() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.done)
}

var raidNames = []string{
	"Bob", "محمد_الغامدي", "דניאל כהן", "🔥🔥NITRO🔥🔥", "xX_Th3_Ultimate_Destroyer_Of_Worlds_And_Servers_2026_Xx",
	"Zoë 🌸", "فاطمة‮evil", "Ann",
}

func newRaidNight(t *testing.T, cases int) *raidNight {
	t.Helper()
	ctx := context.Background()
	// The browser keeps the session cookie until the console's clock says it
	// expires: the clock is the machine's, the cases are opened before it.
	n := &raidNight{st: memory.New(memory.WithCaseEpoch("tests")), at: time.Now().Truncate(time.Second)}
	for i := range cases {
		name := raidNames[i%len(raidNames)]
		text := fmt.Sprintf("FREE NITRO %d claim now https://discord-gift.example.net/claim?ref=%s", i, strings.Repeat("a1b2c3", 20))
		switch i % 4 {
		case 1:
			text = strings.Repeat("you are all idiots and this server is garbage ", 12)
		case 2:
			text = "مرحبا بالجميع، انضموا إلى خادمنا الجديد https://raid.example.org/join 🎉🎉🎉"
		case 3:
			text = strings.Repeat("🤡", 80)
		}
		ev := bot.Event{ID: fmt.Sprintf("m%d", i), Platform: "discord", Kind: bot.KindMessage, Space: "guild-1",
			Channel: fmt.Sprintf("raid-%d", i), Author: bot.Author{ID: fmt.Sprintf("u%d", i), Name: name}, Text: text, At: n.at}
		if _, err := n.st.OpenCase(ctx, store.Case{Event: ev, Rule: "scam", Category: "spam",
			Reason:    `len(links) = 1 > 0, matched "free nitro" from lists.scam_phrases`,
			Suggested: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: time.Hour}},
			Opened:    n.at.Add(-time.Duration(cases-i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []store.Account{
		{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")},
	} {
		if err := n.st.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	con := console.New(console.Options{Store: n.st, Accounts: n.st, Decide: n.decide,
		Now: func() time.Time {
			n.mu.Lock()
			defer n.mu.Unlock()
			return time.Now().Add(n.skew)
		},
		Outcomes: func(bot.Event) []bot.ActionKind {
			return []bot.ActionKind{handlers.OutcomeKeep, bot.ActDelete, bot.ActTimeout, bot.ActBan, bot.ActKick, bot.ActReply, handlers.OutcomeUntimeout, handlers.OutcomeUnban}
		},
	})
	t.Cleanup(con.Close)
	mux := http.NewServeMux()
	for p, h := range con.Routes() {
		if p == "GET /queue/live" {
			h = n.live(h)
		}
		mux.Handle(p, h)
	}
	n.srv = httptest.NewServer(mux)
	t.Cleanup(n.srv.Close)
	return n
}

// logIn logs in as ann from the login page and waits for the queue.
func (n *raidNight) logIn(t *testing.T, ctx context.Context) {
	t.Helper()
	for i, a := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(n.srv.URL + "/queue"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "ann"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.Click(`button[type=submit]`),
	} {
		if err := chromedp.Do(ctx, a); err != nil {
			t.Fatalf("log in, step %d: %v", i, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#queue h1`)); err != nil {
		t.Fatalf("log in: %v", err)
	}
}

// TestPhoneQueueFits: on a phone, a raid night's queue stays in the screen
// (a long name or link is wrapped, not cut off) and everything a CM presses
// is at least 44 CSS pixels high and wide.
func TestPhoneQueueFits(t *testing.T) {
	n := newRaidNight(t, 200)
	ctx := browser(t, true)
	n.logIn(t, ctx)
	shot(t, ctx, "phone-queue", false)
	fitsPhone(t, ctx)
}

// fitsPhone checks that the page stays in a phone's 390 px screen (a long
// name or link is wrapped, not cut off) and that everything a CM presses
// is at least 44 CSS pixels high and wide.
func fitsPhone(t *testing.T, ctx context.Context) {
	t.Helper()
	// A page wider than the phone is shown zoomed out, so its width is
	// checked, not innerWidth's (which grows with it).
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.documentElement, ...document.querySelectorAll('main *, header.top *')]
		.filter(e => e.getBoundingClientRect().right > 390.5 || e.getBoundingClientRect().left < -0.5)
		.map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 40))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > 0 {
		t.Errorf("%d elements stick out of the 390 px screen, such as %q", len(out), out[:min(len(out), 5)])
	}
	small, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('button, a[href], input:not([type=hidden]), summary')]
		.filter(e => { const r = e.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
		.map(e => { const r = e.getBoundingClientRect(); return e.tagName + ' ' + (e.textContent || e.name).trim().slice(0, 30) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height); })`))
	if err != nil {
		t.Fatal(err)
	}
	if len(small) > 0 {
		t.Errorf("%d targets smaller than 44×44 px, such as %q", len(small), small[:min(len(small), 8)])
	}
}

// flash waits for the page's message after a decision and returns it, with
// whether it is shown as a failure.
func flash(t *testing.T, ctx context.Context) (string, bool) {
	t.Helper()
	got, err := pollAcross[[]string](ctx, `(() => { const f = document.querySelector('p.flash');
		return f && f.getClientRects().length > 0 ? [f.innerText, String(f.classList.contains('failed'))] : null; })()`)
	if err != nil {
		t.Fatalf("no message after the decision: %v", err)
	}
	return got[0], got[1] == "true"
}

// pollAcross waits for a page's expression to be truthy while the page may
// be going elsewhere (a form's post, its redirect). A poll does not survive
// a navigation: the page it ran in is gone ("Execution context was
// destroyed", or "Cannot find context with specified id" when it began in
// a page already leaving), so it is asked again, in the next page. A poll
// that ran its whole time is not asked again.
func pollAcross[T any](ctx context.Context, expression string) (T, error) {
	var (
		got T
		err error
	)
	for range 100 {
		if got, err = chromedp.Run(ctx, chromedp.Poll[T](expression)); err == nil || errors.Is(err, chromedp.ErrPollingTimeout) || ctx.Err() != nil {
			return got, err
		}
	}
	return got, err
}

// TestSessionEndedMidDecision: the CM's session ends while the queue is
// open (the night is longer than a session); the button pressed then is not
// lost without a word: the login page says what was not done, and after
// logging in the CM is back at that case, still open, to press it again.
func TestSessionEndedMidDecision(t *testing.T) {
	n := newRaidNight(t, 120)
	ctx := browser(t, true)
	n.logIn(t, ctx)
	// The session ends between two looks of the live queue: the page
	// has not heard of it when the CM presses.
	n.mu.Lock()
	n.quiet = true
	n.mu.Unlock()
	if err := chromedp.Do(ctx, chromedp.Navigate(n.srv.URL+"/queue?page=2"), chromedp.WaitVisible(`article[data-case="c-tests-000060"]`)); err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	n.skew = 13 * time.Hour // past the session's 12 hours
	n.mu.Unlock()
	if err := chromedp.Do(ctx, press(`article[data-case="c-tests-000060"] button[data-outcome="ban"]`),
		chromedp.WaitVisible(`#undone`)); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 200)`))
		t.Fatalf("the page after pressing ban in an ended session says %q: %v", body, err)
	}
	said, err := chromedp.Run(ctx, chromedp.Text(`#undone`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Not done: your session had ended before c-tests-000060 (ban) was decided. Log in, then press it again."; said != want {
		t.Errorf("the login page says %q, want %q", said, want)
	}
	shot(t, ctx, "phone-session-ended", false)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(`input[name=name]`, "ann"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`article[data-case="c-tests-000060"] button[data-outcome="ban"]`),
	); err != nil {
		t.Fatalf("back to the case: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/queue?page=2#case-c-tests-000060") {
		t.Errorf("after logging in again the CM is at %s, want the case's page", loc)
	}
	if len(n.decided()) != 0 {
		t.Errorf("decided in an ended session: %q", n.decided())
	}
}

// axNames are the accessible names Chromium gives the page's nodes of role,
// as a screen reader reads them.
func axNames(t *testing.T, ctx context.Context, role string) []string {
	t.Helper()
	tree, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (*accessibility.GetFullAXTreeResult, error) {
		res, err := cdp.Call(ctx, tg, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		return &res, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range tree.Nodes {
		if n.Ignored || n.Role == nil || n.Name == nil {
			continue
		}
		var r, name string
		if json.Unmarshal(n.Role.Value, &r) != nil || r != role {
			continue
		}
		if err := json.Unmarshal(n.Name.Value, &name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

// TestQueueReadAloud: with a screen reader, each button and field of the
// queue says which case it acts on (50 "delete" buttons that all read
// "delete" cannot be told apart), and starts with the words shown on it.
func TestQueueReadAloud(t *testing.T) {
	n := newRaidNight(t, 60)
	ctx := browser(t, true)
	n.logIn(t, ctx)
	for _, role := range []string{"button", "textbox"} {
		names := axNames(t, ctx, role)
		seen := map[string]int{}
		for _, name := range names {
			seen[name]++
		}
		var twice []string
		for name, k := range seen {
			if k > 1 {
				twice = append(twice, fmt.Sprintf("%q ×%d", name, k))
			}
		}
		slices.Sort(twice)
		if len(twice) > 0 {
			t.Errorf("%d of the %d %s names are read for several: %s", len(twice), len(names), role, twice[:min(len(twice), 5)])
		}
	}
	names := axNames(t, ctx, "button")
	if !slices.Contains(names, "ban, case c-tests-000003 (דניאל כהן)") {
		t.Errorf("no ban button of c-tests-000003 read with its case and author among %q", names[:min(len(names), 12)])
	}
}

// TestRefusedDecisionSaysNotDone: a decision the platform refuses is shown
// as recorded but not carried out, the platform's refusal in a CM's words
// as the cards say it (bot.RefusalWords), not its raw answer; the case of
// what is left to do is in the queue.
func TestRefusedDecisionSaysNotDone(t *testing.T) {
	n := newRaidNight(t, 60)
	ctx := browser(t, true)
	n.logIn(t, ctx)
	n.mu.Lock()
	n.fail = &discord.APIError{Method: "PUT", Path: "/guilds/guild-1/bans/u30", Status: 403, Code: 50013, Message: "Missing Permissions"}
	n.mu.Unlock()
	if err := chromedp.Do(ctx, press(`article[data-case="c-tests-000030"] button[data-outcome="ban"]`)); err != nil {
		t.Fatal(err)
	}
	text, failed := flash(t, ctx)
	const want = "c-tests-000030: ban, recorded but not carried out: Discord refused: vigie lacks the Ban Members permission"
	if !failed || !strings.HasPrefix(text, want) || strings.Contains(text, "discord PUT") {
		t.Errorf("after a refused ban the page says %q (failed %v), want %q… in a CM's words", text, failed, want)
	}
	// Opened last, it is on the second page.
	if err := chromedp.Do(ctx, chromedp.Navigate(n.srv.URL+"/queue?page=2"),
		chromedp.WaitVisible(`article[data-case="c-tests-000061"] button[data-outcome="ban"]`)); err != nil {
		t.Errorf("the case of the ban left to do is not in the queue: %v", err)
	}
}

// TestDecisionSaysWhatItLeft: what a decision carried out leaves undone on
// the other messages its case groups (handlers.Moderator.DecideNoted) is
// said after it, as the cards say it under the decision.
func TestDecisionSaysWhatItLeft(t *testing.T) {
	n := newRaidNight(t, 20)
	ctx := browser(t, true)
	n.logIn(t, ctx)
	const left = "⚠️ 1 of the 5 messages grouped not deleted: Discord refused: vigie cannot see this channel: give its role View Channel there [discord 50001]"
	n.mu.Lock()
	n.note = left
	n.mu.Unlock()
	if err := chromedp.Do(ctx, press(`article[data-case="c-tests-000010"] button[data-outcome="delete"]`)); err != nil {
		t.Fatal(err)
	}
	if text, failed := flash(t, ctx); text != "c-tests-000010: delete, done; "+left+"." || !failed {
		t.Errorf("after a delete that left a grouped message the page says %q (failed %v), want what it left, as a failure", text, failed)
	}
	shot(t, ctx, "phone-decision-left", false)
	// A note that leaves nothing undone (a timed ban's end) is no failure.
	n.mu.Lock()
	n.note = "until 9 Dec 22:10 UTC"
	n.mu.Unlock()
	if err := chromedp.Do(ctx, chromedp.Navigate(n.srv.URL+"/queue")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, press(`article[data-case="c-tests-000011"] button[data-outcome="ban"]`)); err != nil {
		t.Fatal(err)
	}
	if text, failed := flash(t, ctx); text != "c-tests-000011: ban, done; until 9 Dec 22:10 UTC." || failed {
		t.Errorf("after a ban with its end the page says %q (failed %v)", text, failed)
	}
}

// TestLiveQueueKeepsTheCaseInPlace: on a raid night cases keep coming while
// the CM reads one; a case opened above it (high priority goes first) must
// not slide another case's buttons under the thumb.
func TestLiveQueueKeepsTheCaseInPlace(t *testing.T) {
	n := newRaidNight(t, 60)
	ctx := browser(t, true)
	n.logIn(t, ctx)
	const sel = `article[data-case="c-tests-000030"]`
	top := func() float64 {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('`+sel+`').getBoundingClientRect().top`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Found and scrolled in one step: the live queue may redraw the list
	// between a node's lookup and its use.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const a = document.querySelector('`+sel+`'); if (!a) return false; a.scrollIntoView(); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	before := top()
	ev := bot.Event{ID: "urgent", Platform: "discord", Space: "guild-1", Channel: "announcements",
		Author: bot.Author{ID: "u-raid", Name: "raider"}, Text: strings.Repeat("RAID NOW ", 40), At: n.at}
	if _, err := n.st.OpenCase(context.Background(), store.Case{Event: ev, Rule: "raid", Reason: "raid", Priority: "high", Opened: n.at}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#queue h1').dataset.total === "61"`)); err != nil {
		t.Fatalf("the new case did not arrive live: %v", err)
	}
	shot(t, ctx, "phone-live", false)
	if after := top(); after < before-1 || after > before+1 {
		t.Errorf("the case under the thumb moved from %.0f px to %.0f px when a case arrived above it", before, after)
	}
}

// TestStaleFormSaysNotDone: a page whose forms are out of date (the CM
// logged in again in another tab, which gave a new session) does not drop
// the decision on a bare error page: the queue says what was not done, to
// press it again.
func TestStaleFormSaysNotDone(t *testing.T) {
	n := newRaidNight(t, 60)
	ctx := browser(t, true)
	n.logIn(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(n.srv.URL+"/queue?page=1"), chromedp.WaitVisible(`article[data-case="c-tests-000030"]`)); err != nil {
		t.Fatal(err)
	}
	// The token of another session, as a login in another tab leaves this page with.
	// In one step, so that no node found before is pressed after.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'from-an-older-session');
		document.querySelector('article[data-case="c-tests-000030"] button[data-outcome="ban"]').click(); })()`)); err != nil {
		t.Fatal(err)
	}
	text, failed := flash(t, ctx)
	if want := "c-tests-000030: not done, the page was out of date: press ban again."; text != want || !failed {
		t.Errorf("after pressing ban on an out-of-date page it says %q (failed %v), want %q", text, failed, want)
	}
	if len(n.decided()) != 0 {
		t.Errorf("decided from an out-of-date page: %q", n.decided())
	}
}
