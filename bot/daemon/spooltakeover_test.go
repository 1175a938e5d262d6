package daemon_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// call sends an admin call to the process, with its token, and returns the
// answer's status and body.
func (in *vigieProcess) call(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, "http://"+in.addr+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+in.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestSpoolOfAKilledInstanceTakenOverByARunningOne runs two vigie processes
// on one Redis and one spool directory. Redis stopped, one opens three
// cases and is SIGKILLed; Redis started again, the other, which ran all
// along, takes over the dead one's spool and writes the cases to Redis, once
// each. Before, the cases waited in the dead one's file until a vigie was
// started.
func TestSpoolOfAKilledInstanceTakenOverByARunningOne(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two processes")
	}
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	bin, config := vigieWith(t, rulesV1)
	spool := filepath.Join(filepath.Dir(config), "spool")
	env := []string{"VIGIE_SPOOL_DIR=" + spool, "VIGIE_REDIS_PREFIX=takeover" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	dying := startProcess(t, bin, "dying", config, srv.URL(), env)
	running := startProcess(t, bin, "running", config, srv.URL(), env)
	srv.Stop()
	scams := []string{"dead-s-1", "dead-s-2", "dead-s-3"}
	for _, id := range scams {
		if code, body := dying.call(t, "POST", "/v1/events", message(id, "u-"+id, "free nitro")); code != http.StatusOK {
			t.Fatalf("POST /v1/events = %d %s", code, body)
		}
	}
	testsync.Eventually(t, "the three cases in the dying process's spool", func() bool {
		files, _ := filepath.Glob(filepath.Join(spool, "*.jsonl"))
		var all string
		for _, f := range files {
			data, _ := os.ReadFile(f)
			all += string(data)
		}
		for _, id := range scams {
			if !strings.Contains(all, `"id":"`+id+`"`) {
				return false
			}
		}
		return true
	})
	dying.kill()
	srv.Restart()

	got := map[string]int{}
	testsync.Eventually(t, "the dead process's cases in Redis, read by the running one", func() bool {
		code, body := running.call(t, "GET", "/v1/cases", nil)
		if code != http.StatusOK {
			return false
		}
		var open struct {
			Cases []struct {
				ID    string
				Event struct{ ID string }
			}
		}
		if err := json.Unmarshal(body, &open); err != nil {
			t.Fatal(err)
		}
		clear(got)
		for _, c := range open.Cases {
			if strings.HasPrefix(c.ID, "c-") {
				got[c.Event.ID]++
			}
		}
		return len(got) >= len(scams)
	})
	for _, id := range scams {
		if got[id] != 1 {
			t.Errorf("cases of %s in Redis = %d; want 1", id, got[id])
		}
	}
	if logs := running.logs.String(); !strings.Contains(logs, "taken over") {
		t.Errorf("the running process does not say it took the spool over:\n%s", logs)
	}
}
