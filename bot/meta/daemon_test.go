package meta_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/meta"
)

// TestDaemonHidesInsultingComment runs vigie as `vigie run` does, with the Meta
// settings in its environment and the fake Graph API as META_GRAPH_URL: a signed
// delivery posted to /webhooks/meta ends as a hide on the Graph API.
func TestDaemonHidesInsultingComment(t *testing.T) {
	g := newFakeGraph(t)
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesPath, []byte(pageRules), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"META_APP_SECRET":   appSecret,
		"META_PAGE_TOKEN":   g.token,
		"META_VERIFY_TOKEN": verifyToken,
		"META_GRAPH_URL":    g.URL(),
	}
	ready := make(chan net.Addr, 1)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Config{
			ConfigPath: rulesPath,
			Listen:     "127.0.0.1:0",
			Logger:     testLogger(logs),
			Getenv:     func(k string) string { return env[k] },
			Ready:      func(a net.Addr) { ready <- a },
		}, nil)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon.Run: %v", err)
		}
	}()
	var base string
	select {
	case a := <-ready:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("daemon stopped: %v\n%s", err, logs.String())
	}

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

	body := fixture(t, "fb_comment_add.json")
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/meta", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, body))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("delivery: %d", resp.StatusCode)
	}

	// The work happens behind the 200: wait for the hide to reach the Graph API.
	const cid = "/987654321098765_1122334455667788"
	deadline := time.Now().Add(20 * time.Second)
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
