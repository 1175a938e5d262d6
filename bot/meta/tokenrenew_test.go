package meta_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// renew makes the fake's page token expire as Meta's do (code 190 for it from
// now on), and gives a new one, which it returns.
func (f *fakeGraph) renew() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.expiredTokens == nil {
		f.expiredTokens = map[string]bool{}
	}
	f.expiredTokens[f.token] = true
	f.token += "-renewed"
	return f.token
}

// startWithPageTokenFile runs vigie on g, its page token read from a file,
// META_PAGE_TOKEN_FILE, as vigie run does; it returns vigie's address, its
// logs and the file.
func startWithPageTokenFile(t *testing.T, g *fakeGraph) (base string, logs *testsync.Buffer, tokenFile string) {
	t.Helper()
	tokenFile = filepath.Join(t.TempDir(), "page-token")
	if err := os.WriteFile(tokenFile, []byte(g.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs = startDaemon(t, map[string]string{
		"META_APP_SECRET":      appSecret,
		"META_PAGE_TOKEN":      g.token, // as vigie run reads it from the file
		"META_PAGE_TOKEN_FILE": tokenFile,
		"META_GRAPH_URL":       g.URL(),
	})
	return base, logs, tokenFile
}

// The page token expires on Saturday night, with the memory store (the
// README's set-up). The comments that needed an action meanwhile are cases.
// On Monday the CM renews the token, writes it in META_PAGE_TOKEN_FILE and
// reloads vigie: the next comments are hidden, and the weekend's cases are
// still there to decide, which a restart on the memory store would forget.
func TestRenewedPageTokenTakenAtReload(t *testing.T) {
	g := newFakeGraph(t)
	base, logs, tokenFile := startWithPageTokenFile(t, g)

	renewed := g.renew()
	const saturday = "987654321098765_1000000000000101"
	deliverComment(t, base, saturday)
	testsync.Eventually(t, "a case for the comment not hidden", func() bool {
		return openCasesWith(t, base, "[graph 190") == 1
	})

	if err := os.WriteFile(tokenFile, []byte(renewed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadDaemon(t, base)

	const monday = "987654321098765_1000000000000102"
	deliverComment(t, base, monday)
	testsync.Eventually(t, "the next comment hidden with the renewed token", func() bool { return hidesWith(g, monday, renewed) == 1 })

	// The weekend's case is still there, and its hide is carried out now.
	_, b := daemonGet(t, base+"/v1/cases?status=open")
	var list struct{ Cases []struct{ ID, Reason string } }
	if err := json.Unmarshal(b, &list); err != nil || len(list.Cases) != 1 {
		t.Fatalf("open cases after the reload: %s", b)
	}
	body := []byte(`{"outcome":"hide","by":"ann"}`)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/cases/"+list.Cases[0].ID+"/decision", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	testsync.Eventually(t, "the weekend's comment hidden from the desk", func() bool { return hidesWith(g, saturday, renewed) == 1 })
	if !strings.Contains(logs.String(), "page token replaced") {
		t.Errorf("the log does not say the page token was replaced")
	}
}

// hidesWith counts the calls that hid the comment cid carrying the page token.
func hidesWith(g *fakeGraph, cid, token string) int {
	n := 0
	for _, c := range g.Calls() {
		if c.Method == "POST" && c.Path == "/"+cid && c.Params.Get("is_hidden") == "true" && c.Auth == "Bearer "+token {
			n++
		}
	}
	return n
}

// startDeskWithPageTokenFile is startWithPageTokenFile with deskRules,
// the desk on the fake Bot API api; it returns once the token's first
// check is made.
func startDeskWithPageTokenFile(t *testing.T, g *fakeGraph, api *tgfake.Server) (base string, logs *testsync.Buffer, tokenFile string) {
	t.Helper()
	tokenFile = filepath.Join(t.TempDir(), "page-token")
	if err := os.WriteFile(tokenFile, []byte(g.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs = startDaemonWith(t, deskRules, map[string]string{
		"META_APP_SECRET":      appSecret,
		"META_PAGE_TOKEN":      g.token, // as vigie run reads it from the file
		"META_PAGE_TOKEN_FILE": tokenFile,
		"META_VERIFY_TOKEN":    verifyToken,
		"META_GRAPH_URL":       g.URL(),
		"TELEGRAM_TOKEN":       tgfake.Token,
		"TELEGRAM_API_URL":     api.HTTP.URL,
	})
	waitTokenChecked(t, g)
	return base, logs, tokenFile
}

// A CM writes the renewed page token in META_PAGE_TOKEN_FILE while another
// reloads vigie (a rule change applied): the reload reads the file half
// written. Meta refuses what it holds; the token in use, which Meta takes,
// is kept, and the log says so (once, not at each reload while the file
// stays so): the next comment is hidden, not a case for want of a token. The
// whole token, at the next reload, is taken.
func TestHalfWrittenPageTokenFileKeepsTheTokenInUse(t *testing.T) {
	g := newFakeGraph(t)
	base, logs, tokenFile := startWithPageTokenFile(t, g)
	old := g.token
	if err := os.WriteFile(tokenFile, []byte(old[:5]), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadDaemon(t, base)

	const next = "987654321098765_1000000000000201"
	deliverComment(t, base, next)
	testsync.Eventually(t, "the comment hidden, or a case", func() bool {
		return hidesOf(g, next) > 0 || openCasesWith(t, base, "") > 0
	})
	if n := hidesWith(g, next, old); n != 1 {
		_, b := daemonGet(t, base+"/v1/cases?status=open")
		t.Fatalf("%d hides with the token in use after a reload that read half a token; cases: %s", n, b)
	}
	if !strings.Contains(logs.String(), "META_PAGE_TOKEN_FILE holds a token Meta refuses") {
		t.Errorf("the log does not say the file's token was refused and the one in use kept")
	}
	// reloaded again (a rule change) with the file as it was: said once,
	// not asked about nor told the desk at each reload
	reloadDaemon(t, base)
	if n := strings.Count(logs.String(), "META_PAGE_TOKEN_FILE holds a token Meta refuses"); n != 1 ||
		!strings.Contains(logs.String(), "META_PAGE_TOKEN_FILE still holds the token Meta refused") {
		t.Errorf("after a second reload, the refusal said %d times, want once, then 'still holds'", n)
	}

	// the file written whole: taken at the next reload
	renewed := g.renew()
	if err := os.WriteFile(tokenFile, []byte(renewed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadDaemon(t, base)
	const after = "987654321098765_1000000000000202"
	deliverComment(t, base, after)
	testsync.Eventually(t, "the comment hidden with the renewed token", func() bool { return hidesWith(g, after, renewed) == 1 })
}

// TestOtherPagesTokenFileKeepsTheTokenInUse: a CM who looks after several
// Pages writes another Page's token in META_PAGE_TOKEN_FILE and reloads
// vigie. Meta takes that token, for its own Page: taken, it left every
// comment of the Page vigie moderates unhidden (Meta refusing the hides),
// then, once its check said whose it was, refused (answered 200 and
// dropped, without META_PAGE_ID) as another Page's. The token in use is
// kept, and the log says whose the file's token is: the next comment is
// hidden, and the other Page's deliveries are still refused as another's.
func TestOtherPagesTokenFileKeepsTheTokenInUse(t *testing.T) {
	g := newFakeGraph(t)
	base, logs, tokenFile := startWithPageTokenFile(t, g)
	waitTokenChecked(t, g)
	old := g.token
	const otherPage = "555000555000555"
	if err := os.WriteFile(tokenFile, []byte(g.otherPagesToken(otherPage)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadDaemon(t, base)

	const next = "987654321098765_1000000000000301"
	deliverComment(t, base, next)
	testsync.Eventually(t, "the comment hidden, or a case", func() bool {
		return hidesOf(g, next) > 0 || openCasesWith(t, base, "") > 0
	})
	if n := hidesWith(g, next, old); n != 1 {
		_, b := daemonGet(t, base+"/v1/cases?status=open")
		t.Fatalf("%d hides with the token in use after a reload that read another Page's token; cases: %s", n, b)
	}
	if !strings.Contains(logs.String(), "META_PAGE_TOKEN_FILE holds the token of another Page than the one vigie moderates") ||
		!strings.Contains(logs.String(), "token_of="+otherPage) {
		t.Errorf("the log does not say the file's token is another Page's, and whose")
	}
	// Its check (every 15 minutes, or asked by the next token replaced)
	// still finds the token in use the Page's: the Page's comments are
	// taken, another Page's refused.
	reloadDaemon(t, base)
	if !strings.Contains(logs.String(), "META_PAGE_TOKEN_FILE still holds the token of another Page") {
		t.Errorf("after a second reload, the log does not say the file still holds another Page's token")
	}
	const later = "987654321098765_1000000000000302"
	deliverComment(t, base, later)
	testsync.Eventually(t, "the next comment hidden with the token in use", func() bool { return hidesWith(g, later, old) == 1 })
}

// TestOtherPagesTokenFileToldOnTheDesk: the CMs hear on the desk, once,
// that the token written in the file is another Page's, whose, and that
// the one in use is kept, however many reloads read it again.
func TestOtherPagesTokenFileToldOnTheDesk(t *testing.T) {
	g := newFakeGraph(t)
	api := tgfake.New(t)
	base, _, tokenFile := startDeskWithPageTokenFile(t, g, api)
	const otherPage = "555000555000555"
	if err := os.WriteFile(tokenFile, []byte(g.otherPagesToken(otherPage)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadDaemon(t, base)
	reloadDaemon(t, base)
	told := func(c tgfake.Call) bool {
		return c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), "not the page token of Page "+pageID)
	}
	alert := api.WaitFor("sendMessage", 1, told)
	for _, want := range []string{"Meta says it is " + otherPage + "'s", "vigie keeps the one in use"} {
		if !strings.Contains(alert.Params.Get("text"), want) {
			t.Errorf("desk alert %q lacks %q", alert.Params.Get("text"), want)
		}
	}
	// a comment after it is handled, so the alert had its time to come twice
	const cid = "987654321098765_1000000000000401"
	deliverComment(t, base, cid)
	testsync.Eventually(t, "the comment hidden", func() bool { return hidesOf(g, cid) == 1 })
	if n := len(slices.DeleteFunc(api.CallsOf("sendMessage"), func(c tgfake.Call) bool { return !told(c) })); n != 1 {
		t.Errorf("the desk told %d times of the file's token, want once", n)
	}
}

// TestOtherPagesTokenInUseToldOnTheDesk: vigie starts with META_PAGE_ID
// naming the Page and, in META_PAGE_TOKEN, another Page's token. Meta takes
// the token, for its own Page, so no refusal says it: the token's check
// does, at once, on the desk, naming whose it is, rather than the CMs
// finding out from comments never hidden.
func TestOtherPagesTokenInUseToldOnTheDesk(t *testing.T) {
	g := newFakeGraph(t)
	api := tgfake.New(t)
	const otherPage = "555000555000555"
	startDaemonWith(t, deskRules, map[string]string{
		"META_APP_SECRET":   appSecret,
		"META_PAGE_TOKEN":   g.otherPagesToken(otherPage),
		"META_PAGE_ID":      pageID,
		"META_VERIFY_TOKEN": verifyToken,
		"META_GRAPH_URL":    g.URL(),
		"TELEGRAM_TOKEN":    tgfake.Token,
		"TELEGRAM_API_URL":  api.HTTP.URL,
	})
	alert := api.WaitFor("sendMessage", 1, func(c tgfake.Call) bool {
		return c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), "not the page token of Page "+pageID)
	})
	for _, want := range []string{"The page token in use is", "Meta says it is " + otherPage + "'s"} {
		if !strings.Contains(alert.Params.Get("text"), want) {
			t.Errorf("desk alert %q lacks %q", alert.Params.Get("text"), want)
		}
	}
}
