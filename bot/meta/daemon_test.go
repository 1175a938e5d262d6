package meta_test

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
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
)

// TestDaemonHidesInsultingComment runs vigie as `vigie run` does, with the Meta
// settings in its environment and the fake Graph API as META_GRAPH_URL: a signed
// delivery posted to /webhooks/meta ends as a hide on the Graph API.
func TestDaemonHidesInsultingComment(t *testing.T) {
	g := newFakeGraph(t)
	base, logs := startDaemon(t, metaEnv(g))

	// The subscription handshake, as the App Dashboard does it.
	resp, err := http.Get(base + "/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + verifyToken)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || b.String() != "1158201444" {
		t.Fatalf("handshake: %d %q", resp.StatusCode, b.String())
	}

	// The daemon's clock is the real one: the delivery is dated now, as Meta's are.
	body := restamp(fixture(t, "fb_comment_add.json"), time.Since(fbCommentAddSent))
	deliverSigned(t, base, body)

	// The work happens behind the 200: wait for the hide to reach the Graph API.
	const cid = "/987654321098765_1122334455667788"
	deadline := time.Now().Add(testsync.Patience)
	for {
		var hides int
		for _, c := range g.Calls() {
			if c.Method == "POST" && c.Path == cid && c.Params.Get("is_hidden") == "true" {
				hides++
			}
		}
		if hides == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no hide reached the Graph API; calls %+v\nlogs:\n%s", g.Calls(), logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDaemonShutdownLosesNoAcknowledgedComment stops vigie while a delivery
// larger than its event buffer waits behind a slow Graph API: every comment Meta
// got a 200 for is still judged and hidden before Run returns.
func TestDaemonShutdownLosesNoAcknowledgedComment(t *testing.T) {
	g := newFakeGraph(t)
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesPath, []byte(pageRules), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"META_APP_SECRET":   appSecret,
		"META_PAGE_TOKEN":   g.token,
		"META_GRAPH_URL":    g.URL(),
		"VIGIE_ADMIN_TOKEN": adminToken,
	}
	ready := make(chan net.Addr, 1)
	logs := &testsync.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Config{
			ConfigPath:      rulesPath,
			Listen:          "127.0.0.1:0",
			Logger:          testsync.Logger(logs),
			Getenv:          func(k string) string { return env[k] },
			Ready:           func(a net.Addr) { ready <- a },
			ShutdownTimeout: time.Minute,
		}, nil)
	}()
	var addr string
	select {
	case a := <-ready:
		addr = a.String()
	case err := <-done:
		t.Fatalf("daemon stopped: %v\n%s", err, logs.String())
	}

	// More comments than the workers and the daemon's event buffer hold, while
	// the Graph API answers nothing: most of them stay in the connector's queue.
	const n = 150
	sent := time.Now().Unix()
	var changes []string
	for i := range n {
		changes = append(changes, fmt.Sprintf(`{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"1_%d","post_id":"%s_1","parent_id":"%s_1","from":{"id":"9%d","name":"Troll %d"},"message":"bande de connards","created_time":%d}}`, i, pageID, pageID, i, i, sent))
	}
	body := []byte(`{"object":"page","entry":[{"id":"` + pageID + `","time":` + strconv.FormatInt(sent, 10) + `,"changes":[` + strings.Join(changes, ",") + `]}]}`)
	// Graph answered the token's first check (which says whose deliveries
	// vigie takes) before it stops answering.
	waitTokenChecked(t, g)
	release := g.hold()
	deliverSigned(t, "http://"+addr, body)

	// Shut down, and let the Graph API answer once vigie no longer listens.
	cancel()
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("daemon.Run: %v\n%s", err, logs.String())
	}
	hidden := map[string]bool{}
	for _, c := range g.Calls() {
		if c.Method == "POST" && c.Params.Get("is_hidden") == "true" {
			hidden[c.Path] = true
		}
	}
	if len(hidden) != n {
		t.Fatalf("%d of %d comments hidden\nlogs:\n%s", len(hidden), n, logs.String())
	}
}

// stampRE finds the times of a delivery: the entries' time, the changes'
// created_time and the messages' timestamp, in seconds or milliseconds.
var stampRE = regexp.MustCompile(`"(time|created_time|timestamp)":\s*(\d+)`)

// startDaemon runs vigie as `vigie run` does, on pageRules, with env as its
// environment, until the test ends; it returns its address and its logs
// (shown if the test fails).
func startDaemon(t *testing.T, env map[string]string) (base string, logs *testsync.Buffer) {
	t.Helper()
	return startDaemonWith(t, pageRules, env)
}

// metaEnv is the environment of a vigie whose Meta connector takes the
// deliveries signed with appSecret and calls the Graph fake g with its page
// token.
func metaEnv(g *fakeGraph) map[string]string {
	return map[string]string{
		"META_APP_SECRET":   appSecret,
		"META_PAGE_TOKEN":   g.token,
		"META_VERIFY_TOKEN": verifyToken,
		"META_GRAPH_URL":    g.URL(),
	}
}

// startFAQDaemon is startDaemon on pageFAQRules, on the Graph fake g with
// its page token.
func startFAQDaemon(t *testing.T, g *fakeGraph) (base string, logs *testsync.Buffer) {
	t.Helper()
	return startDaemonWith(t, pageFAQRules, map[string]string{
		"META_APP_SECRET": appSecret,
		"META_PAGE_TOKEN": g.token,
		"META_GRAPH_URL":  g.URL(),
	})
}

// startDaemonWith is startDaemon on the rule file text.
func startDaemonWith(t *testing.T, text string, env map[string]string) (base string, logs *testsync.Buffer) {
	t.Helper()
	rulesPath := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rulesPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if v, ok := env[k]; ok || k != "VIGIE_ADMIN_TOKEN" {
			return v
		}
		return adminToken
	}
	ready := make(chan net.Addr, 1)
	logs = &testsync.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Config{
			ConfigPath: rulesPath,
			Listen:     "127.0.0.1:0",
			Logger:     testsync.Logger(logs),
			Getenv:     getenv,
			Ready:      func(a net.Addr) { ready <- a },
		}, nil)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon.Run: %v", err)
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	select {
	case a := <-ready:
		return "http://" + a.String(), logs
	case err := <-done:
		done <- err // for the clean-up
		t.Fatalf("daemon stopped: %v\n%s", err, logs.String())
		return "", nil
	}
}

// restamp moves every time of a delivery by d, each in its own unit, so that a
// fixture can be posted to a daemon that reads the real clock.
func restamp(body []byte, d time.Duration) []byte {
	return stampRE.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := stampRE.FindSubmatch(m)
		n, err := strconv.ParseInt(string(sub[2]), 10, 64)
		if err != nil {
			return m
		}
		if n > 1e11 { // milliseconds
			n += d.Milliseconds()
		} else {
			n += int64(d / time.Second)
		}
		return []byte(`"` + string(sub[1]) + `": ` + strconv.FormatInt(n, 10))
	})
}

// adminToken is the VIGIE_ADMIN_TOKEN of the daemons the tests start (their
// environment's, unless a test sets its own); daemonGet sends it.
const adminToken = "meta-tests-admin-token"

// daemonGet is a GET of url, with the admin token: its status and body.
func daemonGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// reloadDaemon asks the daemon at base to reload, as a CM does after
// changing its files, and fails the test unless it answers 200.
func reloadDaemon(t *testing.T, base string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/-/reload", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reload: %d", resp.StatusCode)
	}
}

// daemonReadiness is the status of the daemon's /-/ready at base, and the
// reasons it gives.
func daemonReadiness(t *testing.T, base string) (int, []string) {
	t.Helper()
	code, b := daemonGet(t, base+"/-/ready")
	var r struct{ Reasons []string }
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("/-/ready: %v: %s", err, b)
	}
	return code, r.Reasons
}

// deliverComment posts the fixture's Facebook comment to the daemon at base,
// signed and dated now, under the comment id cid.
func deliverComment(t *testing.T, base, cid string) {
	t.Helper()
	body := restamp(fixture(t, "fb_comment_add.json"), time.Since(fbCommentAddSent))
	body = bytes.ReplaceAll(body, []byte("987654321098765_1122334455667788"), []byte(cid))
	deliverSigned(t, base, body)
}

// commentOnPost is the Page's webhook delivery of a comment cid on its post
// post (an id without the Page's prefix), written by author (its id and
// name) at the Unix time at.
func commentOnPost(post, cid, author, text string, at int64) []byte {
	return []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"changes":[{"field":"feed","value":`+
		`{"item":"comment","verb":"add","comment_id":"%s","post_id":"%s_%s","parent_id":"%s_%s",`+
		`"from":{"id":"%s","name":"%s"},"message":"%s","created_time":%d}}]}]}`,
		pageID, at, cid, pageID, post, pageID, post, author, author, text, at))
}

// deliverSigned posts body to the daemon at base's Meta webhook, signed with
// the app's secret, and fails the test unless it is answered 200.
func deliverSigned(t *testing.T, base string, body []byte) {
	t.Helper()
	if code := deliverStatus(t, base, body); code != 200 {
		t.Fatalf("delivery: %d", code)
	}
}

// deliverStatus posts body signed as Meta does to the daemon at base, and
// returns the status it answers.
func deliverStatus(t *testing.T, base string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/meta", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitTokenChecked waits until the daemon's first check of the page token
// on g has ended: the read of the Page's subscription follows it.
func waitTokenChecked(t *testing.T, g *fakeGraph) {
	t.Helper()
	testsync.Eventually(t, "the page token's check", func() bool {
		for _, c := range g.Calls() {
			if c.Method == "GET" && c.Path == "/me/subscribed_apps" {
				return true
			}
		}
		return false
	})
}

// hidesOf counts the calls that hid the comment cid on the fake Graph API:
// is_hidden on the Page, hide on Instagram.
func hidesOf(g *fakeGraph, cid string) int {
	n := 0
	for _, c := range g.Calls() {
		if c.Method == "POST" && c.Path == "/"+cid && (c.Params.Get("is_hidden") == "true" || c.Params.Get("hide") == "true") {
			n++
		}
	}
	return n
}
