package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon/listentest"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// instancesRules counts messages per author over a minute: the fourth floods.
const instancesRules = `timezone: UTC
counters:
  msgs: {key: author.id, window: 1m}
rules:
  - name: flood
    category: flood
    when: counters.msgs > 3
    do: [delete]
`

// process is one `vigie run` started from the built binary.
type process struct {
	addr   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan error
	waited bool // exited was read
}

// stop sends SIGTERM and waits up to 30s for the exit status.
func (p *process) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-p.exited:
		p.waited = true
		return err
	case <-time.After(30 * time.Second):
		return fmt.Errorf("still running 30s after SIGTERM")
	}
}

// TestTwoInstances builds vigie, runs two `vigie run` processes on one Redis and
// sends events alternately to each: they count together, and an event sent to
// both is handled once.
func TestTwoInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vigie and starts two processes")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build vigie with")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "vigie")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	config := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(config, []byte(instancesRules), 0o600); err != nil {
		t.Fatal(err)
	}
	redisURL := redistest.Start(t).URL()

	start := func(name string) *process {
		p := &process{stderr: &syncBuffer{}, exited: make(chan error, 1)}
		p.cmd = exec.Command(bin, "run", "--config", config, "--listen", listentest.AnyPort, "--redis", redisURL)
		p.cmd.Env = append(os.Environ(), "VIGIE_REDIS_PREFIX=twoinstances", "VIGIE_ADMIN_TOKEN_DIR="+filepath.Join(t.TempDir(), "vigie"), "VIGIE_SPOOL_DIR="+filepath.Join(dir, "spool"), "STATE_DIRECTORY="+filepath.Join(dir, "state"))
		p.cmd.Stderr = p.stderr
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		dead := make(chan struct{})
		go func() { p.exited <- p.cmd.Wait(); close(dead) }()
		t.Cleanup(func() {
			if !p.waited {
				p.cmd.Process.Kill()
				<-p.exited
			}
			if t.Failed() {
				t.Logf("%s logs:\n%s", name, p.stderr.String())
			}
		})
		p.addr = listentest.BoundAddr(t, name, p.stderr.String, dead, time.Minute)
		deadline := time.Now().Add(time.Minute)
		for {
			resp, err := http.Get("http://" + p.addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
			select {
			case err := <-p.exited:
				p.waited = true
				t.Fatalf("%s exited (%v) before serving\n%s", name, err, p.stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not serve /healthz within a minute\n%s", name, p.stderr.String())
			}
		}
	}
	a, b := start("first"), start("second")

	at := time.Now().UTC()
	post := func(p *process, id string) (bot.Verdict, error) {
		body, _ := json.Marshal(map[string]any{"id": id, "platform": "discord", "kind": "message",
			"space": "guild-1", "author": map[string]any{"id": "u-1", "name": "Bob"}, "text": "hi",
			"at": at.Format(time.RFC3339Nano)})
		resp, err := http.Post("http://"+p.addr+"/v1/events", "application/json", bytes.NewReader(body))
		if err != nil {
			return bot.Verdict{}, err
		}
		defer resp.Body.Close()
		var v bot.Verdict
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
			return v, fmt.Errorf("POST /v1/events to %s: status %d, %v", p.addr, resp.StatusCode, err)
		}
		return v, nil
	}
	rules := func(v bot.Verdict) []string {
		var out []string
		for _, m := range v.Matches {
			out = append(out, m.Rule)
		}
		return out
	}

	// Two messages to each, alternately: neither saw more than two, together four.
	for i, p := range []*process{a, b, a, b} {
		v, err := post(p, fmt.Sprintf("m-%d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		want := []string(nil)
		if i == 3 {
			want = []string{"flood"}
		}
		if got := rules(v); !slices.Equal(got, want) || v.Duplicate {
			t.Errorf("message %d: matched %q (duplicate %v), want %q", i+1, got, v.Duplicate, want)
		}
	}

	// The same event delivered to both at once (a webhook retried elsewhere):
	// one of them handles it, the other says it is a duplicate.
	var wg sync.WaitGroup
	verdicts := make([]bot.Verdict, 2)
	errs := make([]error, 2)
	for i, p := range []*process{a, b} {
		wg.Go(func() { verdicts[i], errs[i] = post(p, "m-retried") })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if verdicts[0].Duplicate == verdicts[1].Duplicate {
		t.Errorf("duplicate flags %v and %v: want the event handled by exactly one", verdicts[0].Duplicate, verdicts[1].Duplicate)
	}
	for _, v := range verdicts {
		if !v.Duplicate && !slices.Equal(rules(v), []string{"flood"}) {
			t.Errorf("the retried event, handled once, matched %q: want flood (the fifth message)", rules(v))
		}
	}

	for name, p := range map[string]*process{"first": a, "second": b} {
		if err := p.stop(); err != nil {
			t.Errorf("%s after SIGTERM: %v, want exit status 0", name, err)
		}
	}
}
