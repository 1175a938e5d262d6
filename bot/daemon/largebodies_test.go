//go:build linux

package daemon_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLargeBodiesShareABudget: a stranger without the secret sends events
// of nearly 1 MiB on a hundred connections, and holds their last byte.
// vigie reads a body whole before it checks its signature, so that each
// held body would stay in its memory until ReadTimeout: gigabytes, with
// thousands of connections and Meta's 4 MiB deliveries. The larger bodies
// being read share 64 MiB: the requests past it are answered 503 with
// Retry-After before their body is read, and a sender's small event is
// judged all the same. Before, every one was read and held.
func TestLargeBodiesShareABudget(t *testing.T) {
	bin, config := vigieWith(t, leasesRules)
	const secret = "0123456789abcdef0123"
	in := newVigieProcess(t, "vigie")
	in.cmd = exec.Command(bin, "run", "--config", config, "--listen", in.addr)
	in.cmd.Env = append(os.Environ(), "VIGIE_ADMIN_TOKEN_DIR="+t.TempDir()+"/vigie", "VIGIE_SPOOL_DIR=off", "VIGIE_WEBHOOK_SECRET="+secret)
	in.launch(t)
	in.healthz(t)

	const size = 1 << 20
	body := strings.Repeat("a", size-1)
	deadline := time.Now().Add(handover)
	answers := make(chan *http.Response, 100)
	for range 100 {
		c, err := net.Dial("tcp", in.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(deadline)
		go fmt.Fprintf(c, "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n%s", size, body)
		go func() {
			resp, _ := http.ReadResponse(bufio.NewReader(c), nil)
			answers <- resp
		}()
	}
	// 64 of 1 MiB fill the budget; the 36 past it are refused at once,
	// while the others wait for their last byte.
	refused := 0
	for refused < 36 {
		resp := <-answers
		if resp == nil {
			t.Fatalf("%d of 100 held bodies of 1 MiB refused with 503, Retry-After and nosniff, want the 36 past 64 MiB", refused)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" &&
			resp.Header.Get("X-Content-Type-Options") == "nosniff" {
			refused++
		}
	}
	event := []byte(`{"id":"m-1","platform":"discord","kind":"message","space":"g","channel":"c","author":{"id":"u-1","name":"Bob"},"text":"free nitro here","at":"2026-11-20T22:10:00Z"}`)
	req, _ := http.NewRequest(http.MethodPost, "http://"+in.addr+"/v1/events", bytes.NewReader(event))
	req.Header.Set("X-Vigie-Signature", sign(event, secret))
	resp, err := (&http.Client{Timeout: handover, Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatalf("a small event while the large bodies are held: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a small event while the large bodies are held: %d, want 200", resp.StatusCode)
	}
}
