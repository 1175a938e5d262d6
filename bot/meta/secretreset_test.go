package meta_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
)

// TestDaemonTellsOfAResetAppSecret: the app secret is reset in the App
// Dashboard while vigie still runs with the old one in META_APP_SECRET. Graph
// then refuses every call's appsecret_proof (code 100), and Meta signs its
// deliveries with the new secret. The comment already taken is not hidden: its
// case, /-/ready and the one error logged name META_APP_SECRET, not a vague
// code 100; a delivery signed with the new secret is refused (401, for Meta to
// send again) with a log line that names the likely cause.
func TestDaemonTellsOfAResetAppSecret(t *testing.T) {
	g := newFakeGraph(t)
	g.resetSecret(appSecret)
	base, logs := startDaemon(t, metaEnv(g))
	get := func(path string) (int, []byte) { t.Helper(); return daemonGet(t, base+path) }
	readiness := func() (int, []string) { t.Helper(); return daemonReadiness(t, base) }
	const before = "987654321098765_1000000000000011"
	deliverComment(t, base, before)
	testsync.Eventually(t, "the hide with the app's secret", func() bool { return hidesOf(g, before) == 1 })
	testsync.Eventually(t, "ready", func() bool { code, _ := readiness(); return code == http.StatusOK })

	const newSecret = "a-new-app-secret-from-the-dashboard"
	g.resetSecret(newSecret)
	// Sent by Meta just before the reset, signed with the old secret.
	taken := []string{"987654321098765_1000000000000012", "987654321098765_1000000000000013"}
	for _, cid := range taken {
		deliverComment(t, base, cid)
	}
	testsync.Eventually(t, "the cases of the hides refused", func() bool {
		_, b := get("/v1/cases?status=open")
		return strings.Count(string(b), "META_APP_SECRET") >= 2
	})
	code, reasons := readiness()
	if code != http.StatusServiceUnavailable || len(reasons) == 0 || !strings.Contains(strings.Join(reasons, "\n"), "META_APP_SECRET") {
		t.Errorf("/-/ready = %d %q, want 503 naming META_APP_SECRET", code, reasons)
	}
	if n := strings.Count(logs.String(), "Meta refused the appsecret_proof"); n != 1 {
		t.Errorf("the refused appsecret_proof is logged %d times, want once:\n%s", n, logs)
	}

	// Sent by Meta after the reset, signed with the new secret.
	body := restamp(fixture(t, "fb_comment_add.json"), time.Since(fbCommentAddSent))
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/meta", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", meta.Sign(newSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a delivery signed with another secret = %d, want 401", resp.StatusCode)
	}
	testsync.Eventually(t, "the refusal logged with its likely cause", func() bool {
		return strings.Contains(logs.String(), "META_APP_SECRET is not the app's current secret")
	})
}
