package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// slow is a platform whose deletes wait for the test (or for their context).
type slow struct {
	called  chan struct{}
	release chan struct{}
	result  chan error // the context's error when the delete ended
}

func (s *slow) Name() string { return "discord" }
func (s *slow) Delete(ctx context.Context, ev bot.Event) error {
	s.called <- struct{}{}
	select {
	case <-s.release:
		s.result <- ctx.Err()
		return nil
	case <-ctx.Done():
		s.result <- ctx.Err()
		return &bot.ActionError{Op: bot.ActDelete, Err: ctx.Err()}
	}
}

const deleteAll = `timezone: UTC
http_events: {act_on: [discord]}
rules:
  - name: all
    when: 'text == "delete me"'
    do: [delete]
`

func runSlow(t *testing.T, timeout time.Duration) (*slow, string, context.CancelFunc, chan error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(deleteAll), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &slow{called: make(chan struct{}, 1), release: make(chan struct{}), result: make(chan error, 1)}
	ready := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	go func() {
		errc <- daemon.Run(ctx, daemon.Config{
			ConfigPath:      file,
			Listen:          "127.0.0.1:0",
			Getenv:          daemon.WithTokenDir(t, nil),
			Ready:           func(a net.Addr) { ready <- a },
			Connectors:      []daemon.Connector{{Name: "discord", Platforms: []bot.Platform{p}}},
			ShutdownTimeout: timeout,
		}, nil)
	}()
	var base string
	select {
	case a := <-ready:
		base = "http://" + a.String()
	case err := <-errc:
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"id": "m-1", "platform": "discord", "author": map[string]any{"id": "u-1"}, "text": "delete me",
		"at": time.Now().UTC().Format(time.RFC3339)})
	resp, err := http.Post(base+"/v1/events", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST = %d", resp.StatusCode)
	}
	<-p.called // the verdict was answered and the delete is under way
	return p, base, cancel, errc
}

// A shutdown waits for the actions in flight and lets them finish.
func TestShutdownDrainsActions(t *testing.T) {
	p, base, cancel, errc := runSlow(t, time.Minute)
	cancel()
	// New requests are refused while the drain goes on.
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		if _, err := client.Get(base + "/healthz"); err != nil {
			break
		}
	}
	select {
	case err := <-errc:
		t.Fatalf("Run returned %v before the action in flight ended", err)
	default:
	}
	close(p.release)
	if err := <-p.result; err != nil {
		t.Errorf("the action in flight was cancelled: %v", err)
	}
	if err := <-errc; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

// drainCut reports whether Run's error says that the shutdown ran out of
// time and cancelled the work left. Which stage of the drain the deadline
// finds first depends on how busy the machine is: the HTTP requests, the
// events being judged, the alerts or the actions; each stage's error says
// so, and past any of them every action left is cancelled.
func drainCut(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "cancelled") || strings.HasPrefix(err.Error(), "http drain: "))
}

// Past the shutdown timeout, actions are cancelled, and Run still waits for them.
func TestShutdownTimeoutCancelsActions(t *testing.T) {
	p, _, cancel, errc := runSlow(t, 50*time.Millisecond)
	cancel()
	err := <-errc
	if !drainCut(err) {
		t.Errorf("Run = %v, want the drain's timeout", err)
	}
	if err := <-p.result; !errors.Is(err, context.Canceled) {
		t.Errorf("the action ended with %v, want it cancelled", err)
	}
}

// A stop with Redis hung ends within the shutdown time the docs give, store
// included, and says what it could not write to Redis rather than losing it
// silently.
func TestShutdownWithRedisHung(t *testing.T) {
	caseOpened := regexp.MustCompile(`msg="case opened" case=c-[0-9a-z]+-000001 event=discord:m-1 `)
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := redistest.NewHangProxy(t, u.Host)
	const timeout = 2 * time.Second
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret, "VIGIE_REDIS_URL": proxy.URL(),
		"VIGIE_REDIS_PREFIX": "hung-" + strconv.FormatInt(time.Now().UnixNano(), 36)},
		func(c *daemon.Config) { c.ShutdownTimeout = timeout })
	in.post(t, message("m-1", "u-1", "free nitro"))
	// The verdict comes back before its case is opened: Redis takes the
	// case before it hangs, not sometimes after.
	testsync.Eventually(t, "m-1's case in Redis", func() bool {
		return caseOpened.MatchString(in.logs.String())
	})
	proxy.Hang()
	for i := range 3 {
		in.post(t, message(fmt.Sprintf("h-%d", i), "u-2", "free nitro"))
	}
	began := time.Now()
	err = in.stop()
	t.Logf("stopped in %s with a shutdown time of %s: %v", time.Since(began).Round(time.Millisecond), timeout, err)
	// The store's close is cut at the end of the stop (a hung Redis took it
	// 5 s per try, twice), and says so, rather than making the stop longer.
	if err == nil || !strings.Contains(err.Error(), "close redis store: not done by the end of the stop's 2s") {
		t.Errorf("Run = %v, want the store's close cut at the end of the stop", err)
	}
	// What Redis never took is logged, case by case.
	logs := in.logs.String()
	for i, ev := range []string{"h-0", "h-1", "h-2"} {
		if want := regexp.MustCompile(fmt.Sprintf(`case l-[0-9a-z]+-%06d discord:%s \(scam\)`, i+1, ev)); !want.MatchString(logs) {
			t.Errorf("the log does not say %q was not written", want)
		}
	}
}
