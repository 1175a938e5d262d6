//go:build linux

package daemon_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// startRefusedDisk runs bin run in a process whose files cannot grow
// (RLIMIT_FSIZE 0, the soft limit only): every write to a file fails, as on a
// full disk, while its log, a pipe, is read. diskBack lifts the limit, as
// space coming back.
func startRefusedDisk(t *testing.T, bin, config string, env []string, args ...string) (in *vigieProcess, diskBack func()) {
	t.Helper()
	in = newVigieProcess(t, "vigie")
	in.cmd = exec.Command("/bin/sh", append([]string{"-c", `ulimit -S -f 0 && exec "$0" "$@"`, bin, "run", "--config", config, "--listen", in.addr}, args...)...)
	in.cmd.Env = append(append(os.Environ(), "STATE_DIRECTORY="+t.TempDir()), env...)
	in.launch(t)
	return in, func() {
		var lim unix.Rlimit
		if err := unix.Prlimit(in.cmd.Process.Pid, unix.RLIMIT_FSIZE, nil, &lim); err != nil {
			t.Fatal(err)
		}
		lim.Cur = lim.Max
		if err := unix.Prlimit(in.cmd.Process.Pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// degraded waits for in to answer /healthz and returns its degraded list.
func (in *vigieProcess) degraded(t *testing.T) []string {
	t.Helper()
	var h struct {
		Degraded []string `json:"degraded"`
	}
	if err := json.Unmarshal(in.healthz(t), &h); err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	return h.Degraded
}

// waitLogged waits until a line of in's log holds all parts (the log is
// written in batches).
func (in *vigieProcess) waitLogged(t *testing.T, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(handover)
	for in.logged(parts...) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no line of the log says %q", parts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAdminTokenOnAFullDisk starts vigie run on a disk that refuses its
// admin token's file (a disk full at night, and vigie restarted): it runs and
// moderates all the same, says so in its log and on /healthz, and writes the
// token once the disk takes it, without a restart; the CLI's token then
// works. Before, vigie run stopped at start (`write the admin token: …`), and
// nothing was moderated until the disk had room again.
func TestAdminTokenOnAFullDisk(t *testing.T) {
	t.Parallel()
	bin, config := vigieWith(t, leasesRules)
	tokenDir := filepath.Join(t.TempDir(), "vigie")
	in, diskBack := startRefusedDisk(t, bin, config, []string{"VIGIE_ADMIN_TOKEN_DIR=" + tokenDir, "VIGIE_SPOOL_DIR=off"})

	deg := in.degraded(t)
	if !strings.Contains(strings.Join(deg, "\n"), "admin token not written") {
		t.Errorf("/healthz degraded %q: want the admin token not written", deg)
	}
	// It moderates.
	resp, err := http.Post("http://"+in.addr+"/v1/events", "application/json", strings.NewReader(
		`{"id":"m-1","platform":"discord","kind":"message","space":"g","channel":"c","author":{"id":"u-1","name":"Bob"},"text":"free nitro here","at":"2026-11-20T22:10:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	wantJudgedBySpam(t, resp)
	in.waitLogged(t, "level=ERROR", "admin token not written")

	diskBack()
	deadline := time.Now().Add(handover)
	for strings.Contains(strings.Join(in.degraded(t), "\n"), "admin token") {
		if time.Now().After(deadline) {
			t.Fatalf("admin token still not written %s after the disk took files again", handover)
		}
		time.Sleep(50 * time.Millisecond)
	}
	token := readToken(t, tokenDir, in.addr)
	req, _ := http.NewRequest(http.MethodGet, "http://"+in.addr+"/v1/cases", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/cases with the token written: %d, want 200", resp.StatusCode)
	}
	in.waitLogged(t, "admin token written, the disk took it")
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	<-in.dead
	if _, err := os.Stat(filepath.Join(tokenDir, "admin-token-"+in.addr[strings.LastIndexByte(in.addr, ':')+1:])); !os.IsNotExist(err) {
		t.Errorf("token file after the stop: %v, want removed", err)
	}
}

// postSpam posts a message the spam rule deletes and returns the rules that
// matched.
func (in *vigieProcess) postSpam(t *testing.T, id string) []string {
	t.Helper()
	resp, err := http.Post("http://"+in.addr+"/v1/events", "application/json", strings.NewReader(
		`{"id":"`+id+`","platform":"discord","kind":"message","space":"g","channel":"c","author":{"id":"u-1","name":"Bob"},"text":"free nitro here","at":"2026-11-20T22:10:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var verdict struct {
		Matches []struct {
			Rule string `json:"rule"`
		} `json:"matches"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&verdict); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("event %s: %d %v", id, resp.StatusCode, err)
	}
	var rules []string
	for _, m := range verdict.Matches {
		rules = append(rules, m.Rule)
	}
	return rules
}

// TestSpoolOnAFullDiskOnHealthz: with Redis away, what waits for it goes to
// the spool; on a disk that refuses it, /healthz says that a stop would lose
// it (the log said it once, and a counter counted it; /healthz said only
// "redis unreachable"), and stops saying so once the disk takes the file;
// Redis back, what waited is written there.
func TestSpoolOnAFullDiskOnHealthz(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	bin, config := vigieWith(t, leasesRules)
	in, diskBack := startRefusedDisk(t, bin, config, []string{"VIGIE_ADMIN_TOKEN=" + strings.Repeat("k", 32), "VIGIE_SPOOL_DIR=" + t.TempDir()},
		"--redis", srv.URL()+"/0")
	in.degraded(t)
	srv.Stop()
	spoolRefused := func() bool {
		return strings.Contains(strings.Join(in.degraded(t), "\n"), "cannot be written")
	}
	deadline := time.Now().Add(handover)
	for i := 0; !spoolRefused(); i++ {
		if got := in.postSpam(t, fmt.Sprint("m-", i)); len(got) != 1 {
			t.Fatalf("event m-%d judged by %v, want spam", i, got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz %q after %s of Redis away and a disk refusing the spool: want the spool said", in.degraded(t), handover)
		}
		time.Sleep(50 * time.Millisecond)
	}
	in.waitLogged(t, "spool: cannot write it")
	diskBack()
	deadline = time.Now().Add(handover)
	for spoolRefused() {
		if time.Now().After(deadline) {
			t.Fatalf("/healthz still says the spool cannot be written %s after the disk took files again", handover)
		}
		time.Sleep(50 * time.Millisecond)
	}
	in.waitLogged(t, "spool: written again")
	srv.Restart()
	in.waitLogged(t, "redis is back")
}

// wantJudgedBySpam reads resp, the answer to an event, and fails t unless
// it is a verdict of the spam rule alone.
func wantJudgedBySpam(t *testing.T, resp *http.Response) {
	t.Helper()
	var verdict struct {
		Matches []struct {
			Rule string `json:"rule"`
		} `json:"matches"`
	}
	err := json.NewDecoder(resp.Body).Decode(&verdict)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(verdict.Matches) != 1 || verdict.Matches[0].Rule != "spam" {
		t.Fatalf("event: %d %+v %v, want judged by spam", resp.StatusCode, verdict, err)
	}
}
