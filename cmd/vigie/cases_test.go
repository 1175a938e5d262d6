package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// serve runs vigie run in-process on the clock now with env until the test
// ends and returns its base URL once it answers /healthz.
func serve(t *testing.T, now func() time.Time, env map[string]string, args ...string) string {
	t.Helper()
	tokenDir(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // should it not listen
	done, addr := runListening(t, ctx, now, env, args...)
	ended := false
	t.Cleanup(func() {
		cancel()
		if ended {
			return
		}
		if r := <-done; r.code != 0 {
			t.Errorf("vigie run: exit %d\n%s", r.code, r.stderr)
		}
	})
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return "http://" + addr
			}
		}
		select {
		case r := <-done:
			ended = true
			t.Fatalf("vigie run ended before serving: exit %d\n%s", r.code, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// The secret and the admin token of the vigie scamCases runs.
const casesSecret, casesToken = "hook", "adm"

// scamCases runs vigie run with a rule that forwards what says "nitro" to
// the desk, on a clock of a day of the test's, posts it events (messages,
// signed, at that clock's now), and returns its URL, the clock, and vigie
// cases run against it as ann.
func scamCases(t *testing.T, events ...map[string]any) (base string, clock func() time.Time, cases func(args ...string) result) {
	t.Helper()
	clock = clockFrom(time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC))
	file := filepath.Join(t.TempDir(), "rules.yaml")
	rules := `timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "nitro"'
    do: [forward("free nitro")]
`
	if err := os.WriteFile(file, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VIGIE_WEBHOOK_SECRET": casesSecret, "VIGIE_ADMIN_TOKEN": casesToken}
	base = serve(t, clock, env, "--config", file)
	for _, ev := range events {
		ev["kind"], ev["at"] = "message", clock().Format(time.RFC3339)
		body, _ := json.Marshal(ev)
		req, _ := http.NewRequest("POST", base+"/v1/events", bytes.NewReader(body))
		req.Header.Set("X-Vigie-Signature", signature(casesSecret, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /v1/events: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	cliEnv := map[string]string{"VIGIE_URL": base, "VIGIE_ADMIN_TOKEN": casesToken, "USER": "ann"}
	return base, clock, func(args ...string) result {
		return runOn(context.Background(), clock, "", cliEnv, append([]string{"cases"}, args...)...)
	}
}

// TestCasesCommand lists, shows and decides the cases of a running vigie from
// the command line, as a CM at a terminal does. vigie run and vigie cases
// read one clock, on a day of the test's: a case opened on it is less than a
// minute old on it.
func TestCasesCommand(t *testing.T) {
	const secret, token = casesSecret, casesToken
	var events []map[string]any
	for i, text := range []string{"free nitro here", "nitro   again\nand again"} {
		events = append(events, map[string]any{"id": fmt.Sprintf("m%d", i+1), "platform": "discord",
			"space": "guild-1", "channel": "general", "author": map[string]any{"id": fmt.Sprintf("u%d", i+1), "name": "Eve"},
			"text": text})
	}
	// u1's scam again, in another channel: it joins their case.
	events = append(events, map[string]any{"id": "m3", "platform": "discord", "space": "guild-1", "channel": "random",
		"author": map[string]any{"id": "u1", "name": "Eve"}, "text": "free nitro there"})
	base, clock, cases := scamCases(t, events...)
	var r result
	waitFor(t, func() bool {
		r = cases("list")
		return strings.HasPrefix(r.stdout, "2 open cases") && strings.Contains(r.stdout, "2 in 2 channels")
	})
	want := regexp.MustCompile(`^2 open cases, oldest first:
ID +AGE +WHERE +AUTHOR +RULE +STATE +MESSAGES +MESSAGE
(c-[a-z][0-9a-z]{4}-\d{6}) +<1m +discord/guild-1/general +Eve \(u1\) +scam +open +2 in 2 channels +free nitro here
(c-[a-z][0-9a-z]{4}-\d{6}) +<1m +discord/guild-1/general +Eve \(u2\) +scam +open +1 +nitro again and again
$`)
	m := want.FindStringSubmatch(r.stdout)
	if r.code != exitOK || m == nil {
		t.Fatalf("cases list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	first, second := m[1], m[2]

	if r := cases("list", "--author", "u2", "--format", "json"); r.code != exitOK || !strings.Contains(r.stdout, `"total":1`) || !strings.Contains(r.stdout, `"id":"`+second+`"`) {
		t.Errorf("cases list --author u2 --format json: %+v", r)
	}
	if r := cases("list", "--limit", "1", "--offset", "1"); !strings.HasPrefix(r.stdout, "2 open cases, oldest first; 2 to 2 shown (--offset, --limit):\n") {
		t.Errorf("a page: %q", r.stdout)
	}
	if r := cases("list", "--rule", "nope"); r.stdout != "No open case.\n" {
		t.Errorf("no match: %q", r.stdout)
	}
	r = cases("show", first)
	for _, line := range []string{"case       " + first + ", open\n", "rule       scam (spam)\n", "reason     free nitro\n",
		"where      discord/guild-1/general\n", "author     Eve (u1)\n", `message    "free nitro here" (m1)` + "\n",
		"grouped    2 messages in 2 channels, latest m3\n"} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("cases show: no line %q in\n%s", line, r.stdout)
		}
	}

	// The platform is not connected here: keep is the outcome that needs none.
	if r := cases("decide", first, "keep"); r.code != exitOK || r.stdout != first+": keep, decided by http:ann.\n" {
		t.Errorf("decide: %+v", r)
	}
	r = cases("decide", first, "delete", "--by", "max")
	if r.code != exitFail || !strings.HasPrefix(r.stderr, "vigie cases: already decided by http:ann: keep, at ") {
		t.Errorf("decide again: %+v", r)
	}
	if r := cases("show", first); !strings.Contains(r.stdout, "decided    keep by http:ann, ") {
		t.Errorf("show decided:\n%s", r.stdout)
	}
	if r := cases("decide", second, "timeout", "soon"); r.code != exitFail || !strings.Contains(r.stderr, "400 Bad Request") {
		t.Errorf("a bad duration: %+v", r)
	}
	// Nothing here can delete on Discord, as the console and the desks only
	// offer keep: refused with why (422), nothing recorded, no new case.
	const off = `not possible on this platform: vigie does not act on "discord" (the platform is off, or its source carries out no action): keep is the only outcome`
	if r := cases("decide", second, "delete"); r.code != exitFail || r.stderr != "vigie cases: case "+second+": "+off+"\n" {
		t.Errorf("decide delete with Discord off: %+v", r)
	}
	req, _ := http.NewRequest("POST", base+"/v1/cases/"+second+"/decision", strings.NewReader(`{"outcome":"delete","by":"ann"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var ans struct {
			Error string
			Case  struct{ Status string }
		}
		if resp.StatusCode != http.StatusUnprocessableEntity || json.Unmarshal(b, &ans) != nil ||
			ans.Error != "case "+second+": "+off || ans.Case.Status != "open" {
			t.Errorf("POST /v1/cases/%s/decision delete with Discord off = %d %s, want 422, why, the case open", second, resp.StatusCode, b)
		}
	}
	if r := cases("show", second); !strings.Contains(r.stdout, "case       "+second+", open\n") {
		t.Errorf("the case after a refused delete:\n%s", r.stdout)
	}
	if r := cases("show", "c-999"); r.code != exitFail || r.stderr != "vigie cases: 404 Not Found: no case \"c-999\"\n" {
		t.Errorf("show unknown: %+v", r)
	}
	if r := cases("list", "--status", "all"); !strings.HasPrefix(r.stdout, "2 cases, oldest first:") || !strings.Contains(r.stdout, "decided: keep") {
		t.Errorf("list --status all:\n%s", r.stdout)
	}
	r = runIn(context.Background(), "", map[string]string{"VIGIE_URL": base}, "cases", "list")
	if r.code != exitFail || !strings.Contains(r.stderr, "401 Unauthorized") {
		t.Errorf("without the token: %+v", r)
	}
	for _, args := range [][]string{{}, {"purge"}, {"show"}, {"decide", first}, {"list", "x"}, {"list", "--format", "xml"}} {
		if r := cases(args...); r.code != exitUsage {
			t.Errorf("cases %q: exit %d, want %d", args, r.code, exitUsage)
		}
	}
	r = runOn(context.Background(), clock, "", map[string]string{"VIGIE_URL": base, "VIGIE_ADMIN_TOKEN": token}, "cases", "decide", second, "keep")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--by") {
		t.Errorf("decide without a name: %+v", r)
	}
	// Without VIGIE_CM nor USER (sudo -i, su, cron, a container), the
	// README's vigie cases decide ID keep still works: the account the
	// command runs as decides.
	var stdout, stderr syncBuffer
	c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, now: clock, reload: make(chan struct{}),
		getenv:  func(k string) string { return map[string]string{"VIGIE_URL": base, "VIGIE_ADMIN_TOKEN": token}[k] },
		account: func() string { return "bea" }}
	if code := c.run(context.Background(), []string{"cases", "decide", second, "keep"}); code != exitOK || stdout.String() != second+": keep, decided by http:bea.\n" {
		t.Errorf("decide without VIGIE_CM or USER: exit %d, %q %q; want it decided by the account", code, stdout.String(), stderr.String())
	}
}

// TestUsersCommand adds, lists and deletes the console's accounts of a
// running vigie.
func TestUsersCommand(t *testing.T) {
	daemonEnv := map[string]string{}
	base := serve(t, time.Now, daemonEnv, "--config", "testdata/good.yaml")
	// The user who started vigie run: the token it made is read in the same
	// directory.
	env := map[string]string{"VIGIE_URL": base, "VIGIE_ADMIN_TOKEN_DIR": daemonEnv["VIGIE_ADMIN_TOKEN_DIR"]}
	users := func(stdin string, args ...string) result {
		return runIn(context.Background(), stdin, env, append([]string{"users"}, args...)...)
	}
	if r := users("", "list"); r.stdout != "No account: add one with vigie users add NAME --role admin.\n" {
		t.Errorf("list of none: %+v", r)
	}
	if r := users("correct horse\n", "add", "ann", "--role", "admin"); r.code != exitOK || r.stdout != "ann added, admin.\n" {
		t.Errorf("add with a password: %+v", r)
	}
	r := users("", "add", "max")
	m := regexp.MustCompile(`^max added, moderator\.\npassword: ([a-z2-7]{20})\n$`).FindStringSubmatch(r.stdout)
	if r.code != exitOK || m == nil {
		t.Fatalf("add without a password: %+v", r)
	}
	// The password printed is the account's: it logs in.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(base+"/login", map[string][]string{"name": {"max"}, "password": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	session := slices.ContainsFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "vigie_session" })
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/queue" || !session {
		t.Errorf("login with the printed password: %d → %q, cookies %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	if r := users("short\n", "add", "zoe"); r.code != exitFail || !strings.Contains(r.stderr, "password: at least 10 characters") {
		t.Errorf("a short password: %+v", r)
	}
	if r := users("", "add", "zoe", "--role", "boss"); r.code != exitFail || !strings.Contains(r.stderr, "role: want viewer, moderator or admin") {
		t.Errorf("a bad role: %+v", r)
	}
	r = users("", "list")
	if !regexp.MustCompile(`^NAME +ROLE +CREATED\nann +admin +\d{4}-\d\d-\d\d \d\d:\d\d UTC\nmax +moderator +`).MatchString(r.stdout) {
		t.Errorf("list:\n%s", r.stdout)
	}
	if r := users("", "delete", "max"); r.stdout != "max deleted; their sessions are over.\n" {
		t.Errorf("delete: %+v", r)
	}
	if r := users("", "delete", "max"); r.code != exitFail || !strings.Contains(r.stderr, "404") {
		t.Errorf("delete twice: %+v", r)
	}
}

// The commands that ask a running vigie say what --url wants when it is no
// address (a host and port without http://), and where they asked when
// nothing answered.
func TestAdminURLMistakes(t *testing.T) {
	addr := freeAddr(t) // nothing listens there
	for _, tt := range []struct {
		url  string
		args []string
		want string
	}{
		{"localhost:8080", []string{"cases", "list"},
			`vigie cases: --url (or VIGIE_URL) "localhost:8080": want the running vigie's address, like http://127.0.0.1:8080`},
		{"127.0.0.1:8080", []string{"users", "list"},
			`vigie users: --url (or VIGIE_URL) "127.0.0.1:8080": want the running vigie's address, like http://127.0.0.1:8080`},
		{"http://" + addr, []string{"cases", "list"},
			"(is vigie run serving there? --url or VIGIE_URL gives its address)"},
	} {
		r := runIn(context.Background(), "", map[string]string{"VIGIE_URL": tt.url}, tt.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("VIGIE_URL=%s vigie %s: exit %d, stderr %q; want 1 and %q", tt.url, strings.Join(tt.args, " "), r.code, r.stderr, tt.want)
		}
	}
}

// TestDecidedLine: vigie cases decide prints the note of the answer (a
// timed ban's end, and what a restart of the memory store does to it) as
// the cards and /ban do; a decision without one reads as before.
func TestDecidedLine(t *testing.T) {
	cs := store.Case{ID: "c-k7q2m-000042", Outcome: "ban(7d)", DecidedBy: "http:ann"}
	for _, tc := range []struct{ note, want string }{
		{"", "c-k7q2m-000042: ban(7d), decided by http:ann."},
		{"until 12 Dec 03:00 UTC", "c-k7q2m-000042: ban(7d), decided by http:ann, until 12 Dec 03:00 UTC."},
		{"until 12 Dec 03:00 UTC (vigie lifts it then; its store is in memory: a restart before then leaves the ban on, until /unban)",
			"c-k7q2m-000042: ban(7d), decided by http:ann, until 12 Dec 03:00 UTC (vigie lifts it then; its store is in memory: a restart before then leaves the ban on, until /unban)."},
	} {
		if got := decidedLine(cs, tc.note); got != tc.want {
			t.Errorf("note %q:\n got %s\nwant %s", tc.note, got, tc.want)
		}
	}
}

// TestWriteCaseSaysWhatWasDone: `vigie cases show` marks the suggested
// actions as the cards do: those not carried out, and those still being
// tried; the others were carried out.
func TestWriteCaseSaysWhatWasDone(t *testing.T) {
	del, timeout, ban := bot.Action{Kind: bot.ActDelete}, bot.Action{Kind: bot.ActTimeout, Duration: 10 * time.Minute}, bot.Action{Kind: bot.ActBan}
	opened := time.Date(2026, 11, 20, 22, 10, 0, 0, time.UTC)
	for _, tc := range []struct {
		name           string
		notDone, tried []bot.Action
		want           string
	}{
		{"all done", nil, nil, "suggested  delete, timeout(10m), ban\n"},
		{"delete done", []bot.Action{timeout, ban}, nil, "suggested  delete, timeout(10m) (not done), ban (not done)\n"},
		{"ban being tried", []bot.Action{ban}, []bot.Action{ban}, "suggested  delete, timeout(10m), ban (being tried)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeCase(&b, store.Case{ID: "c-1", Opened: opened, Status: store.CaseOpen, Reason: "scam",
				Event:     bot.Event{ID: "m-1", Platform: "discord", Text: "FREE NITRO"},
				Suggested: []bot.Action{del, timeout, ban}, NotDone: tc.notDone, Trying: tc.tried}, opened.Add(time.Minute))
			if !strings.Contains(b.String(), tc.want) {
				t.Errorf("cases show:\n%s\nwant the line %q", b.String(), tc.want)
			}
		})
	}
}

// Without VIGIE_ADMIN_TOKEN, vigie cases, users and report send the token
// vigie run made for its user, read from the user's runtime directory: the
// same user is served, another user, whose directory has no such file, is
// refused with where the token is.
func TestCommandsReadTheMadeToken(t *testing.T) {
	mine := t.TempDir()
	daemonEnv := map[string]string{"XDG_RUNTIME_DIR": mine}
	base := serve(t, time.Now, daemonEnv, "--config", "testdata/good.yaml")
	port := base[strings.LastIndexByte(base, ':')+1:]
	file := filepath.Join(mine, "vigie", "admin-token-"+port)
	for _, url := range []string{base, "http://localhost:" + port} {
		env := map[string]string{"VIGIE_URL": url, "XDG_RUNTIME_DIR": mine}
		if r := runIn(context.Background(), "", env, "cases", "list"); r.code != exitOK || r.stdout != "No open case.\n" {
			t.Errorf("cases list at %s, same user: %+v", url, r)
		}
		if r := runIn(context.Background(), "", env, "users", "list"); r.code != exitOK {
			t.Errorf("users list at %s, same user: %+v", url, r)
		}
		if r := runIn(context.Background(), "", env, "report", "--since", "1h"); r.code != exitOK {
			t.Errorf("report at %s, same user: %+v", url, r)
		}
	}
	theirs := t.TempDir()
	env := map[string]string{"VIGIE_URL": base, "XDG_RUNTIME_DIR": theirs}
	r := runIn(context.Background(), "", env, "users", "add", "mallory", "--role", "admin")
	if r.code != exitFail || !strings.Contains(r.stderr, "401 Unauthorized") || !strings.Contains(r.stderr, file) ||
		!strings.Contains(r.stderr, "no token for this user in "+filepath.Join(theirs, "vigie", "admin-token-"+port)) {
		t.Errorf("users add as another user: %+v", r)
	}
	same := map[string]string{"VIGIE_URL": base, "XDG_RUNTIME_DIR": mine}
	if r := runIn(context.Background(), "", same, "users", "list"); !strings.HasPrefix(r.stdout, "No account") {
		t.Errorf("accounts after another user's try: %+v", r)
	}
}

// The token vigie run made is sent to this machine's loopback only.
func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "localhost": true, "LocalHost": true, "::1": true, "127.0.0.2": true,
		"192.0.2.1": false, "vigie.example.com": false, "localhost.example.com": false, "": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// The token vigie run made goes to the address vigie run listens on, and
// nowhere else: another user of the machine may listen on the same port at
// another loopback address (::1 beside 127.0.0.1, the two addresses
// "localhost" names on most systems, the first tried being ::1), and a
// command whose URL reaches that one first would send it the token.
func TestMadeTokenGoesWhereVigieListens(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback here:", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// Another user's server, on the same port of the IPv4 loopback.
	theirs, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Skip("the same port on 127.0.0.1 is taken:", err)
	}
	var mu sync.Mutex
	var got []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "[]")
	})}
	go srv.Serve(theirs)
	t.Cleanup(func() { srv.Close() })

	vigieAt := fmt.Sprintf("[::1]:%d", port)
	env := map[string]string{"VIGIE_LISTEN": vigieAt}
	tokenDir(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- runIn(ctx, "", env, "run", "--config", "testdata/good.yaml") }()
	t.Cleanup(func() {
		cancel()
		if r := <-done; r.code != 0 {
			t.Errorf("vigie run: exit %d\n%s", r.code, r.stderr)
		}
	})
	for {
		resp, err := http.Get("http://" + vigieAt + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}

	cli := map[string]string{"VIGIE_URL": fmt.Sprintf("http://127.0.0.1:%d", port), "VIGIE_ADMIN_TOKEN_DIR": env["VIGIE_ADMIN_TOKEN_DIR"]}
	r := runIn(context.Background(), "", cli, "cases", "list")
	mu.Lock()
	defer mu.Unlock()
	for _, h := range got {
		if h != "" {
			t.Errorf("the server at 127.0.0.1:%d, not vigie's, was sent %q", port, h)
		}
	}
	if r.code != exitOK || r.stdout != "No open case.\n" {
		t.Errorf("cases list with vigie run at %s: %+v, want its answer", vigieAt, r)
	}
}

// TestCasesFindVigieRun: a vigie run on another port than 8080 (--listen,
// VIGIE_LISTEN) is found by vigie cases without VIGIE_URL when the shell
// exported VIGIE_LISTEN for it; asked at an address where nothing listens,
// vigie cases names the address where the user's vigie run does.
func TestCasesFindVigieRun(t *testing.T) {
	clock := clockFrom(time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC))
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte("rules: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	base := serve(t, clock, env, "--config", file)
	addr := strings.TrimPrefix(base, "http://")
	shell := map[string]string{"VIGIE_LISTEN": addr, "VIGIE_ADMIN_TOKEN_DIR": env["VIGIE_ADMIN_TOKEN_DIR"]}
	if r := runOn(context.Background(), clock, "", shell, "cases", "list"); r.code != exitOK || r.stdout != "No open case.\n" {
		t.Errorf("vigie cases list with VIGIE_LISTEN=%s: %+v; want the cases of the vigie run there", addr, r)
	}
	delete(shell, "VIGIE_LISTEN")
	nothing := freeAddr(t)
	// A vigie run killed with -9 left its files, for an address where
	// nothing listens now: it is not named.
	_, port, _ := net.SplitHostPort(nothing)
	for name, text := range map[string]string{"admin-token-" + port: "old\n", "admin-token-" + port + ".addr": nothing + "\n"} {
		if err := os.WriteFile(filepath.Join(env["VIGIE_ADMIN_TOKEN_DIR"], name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := runOn(context.Background(), clock, "", shell, "cases", "list", "--url", "http://"+nothing)
	if want := "; your vigie run listens on " + addr + ": try --url " + base + ")"; r.code != exitFail || !strings.HasSuffix(strings.TrimSpace(r.stderr), want) {
		t.Errorf("vigie cases list --url http://%s, where nothing listens: %+v; want it to end with %q", nothing, r, want)
	}
}
