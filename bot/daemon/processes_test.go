package daemon_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon/listentest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// leasesRules deletes the spam, wherever it comes from.
const leasesRules = `timezone: UTC
rules:
  - name: spam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete]
`

// handover is the ceiling: a dead owner's jobs are running in
// another process within 30s. It is the tests' deadline, not a timing they
// measure.
const handover = 30 * time.Second

// built is the vigie command this test binary built, once, for all its
// tests (go build links it again each time, a few seconds on a busy
// machine): in a directory of its own, removed when the tests end
// (TestMain).
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildVigie returns the vigie command the package's tests share, built
// the first time one asks for it.
func buildVigie(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build vigie with")
	}
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "vigie-daemon-tests-")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "vigie")
		if out, err := exec.Command(goTool, "build", "-o", built.bin, "github.com/vigie-bot/vigie/cmd/vigie").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// vigieWith returns the vigie command and a rule file of rules, in a
// directory of the test's.
func vigieWith(t *testing.T, rules string) (bin, config string) {
	t.Helper()
	bin = buildVigie(t)
	config = filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(config, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	return bin, config
}

// vigieProcess is one `vigie run` process of TestThreeInstances.
type vigieProcess struct {
	name string
	addr string
	// token is the admin token the process made, read from its file.
	token string
	cmd   *exec.Cmd
	logs  *testsync.Buffer
	dead  chan struct{}
}

// startProcess runs bin run with env and waits until it serves /healthz.
func startProcess(t *testing.T, bin, name, config, redisURL string, env []string) *vigieProcess {
	t.Helper()
	in := newVigieProcess(t, name)
	in.cmd = exec.Command(bin, "run", "--config", config, "--redis", redisURL, "--listen", in.addr)
	// The admin token the process makes goes to a directory of the test's,
	// and so does its spool.
	tokenDir := filepath.Join(t.TempDir(), "vigie")
	in.cmd.Env = append(append(os.Environ(), "VIGIE_ADMIN_TOKEN_DIR="+tokenDir, "VIGIE_SPOOL_DIR="+t.TempDir(), "STATE_DIRECTORY="+t.TempDir()), env...)
	in.launch(t)
	in.healthz(t)
	in.token = readToken(t, tokenDir, in.addr)
	return in
}

// newVigieProcess is a `vigie run` process yet to be launched, name for
// the test's messages, to listen on listentest.AnyPort: launch learns which.
func newVigieProcess(t *testing.T, name string) *vigieProcess {
	t.Helper()
	return &vigieProcess{name: name, addr: listentest.AnyPort, logs: &testsync.Buffer{}, dead: make(chan struct{})}
}

// launch starts in.cmd, its log read into in.logs, and kills it when the
// test ends, showing its log if the test failed; it returns once the
// process listens, its address in in.addr.
func (in *vigieProcess) launch(t *testing.T) {
	t.Helper()
	in.cmd.Stderr = in.logs
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = in.cmd.Wait()
		close(in.dead)
	}()
	t.Cleanup(func() {
		in.kill()
		if t.Failed() {
			t.Logf("%s logs:\n%s", in.name, in.logs.String())
		}
	})
	in.addr = listentest.BoundAddr(t, in.name, in.logs.String, in.dead, handover)
}

// healthz waits until in answers /healthz with 200, and returns the body.
func (in *vigieProcess) healthz(t *testing.T) []byte {
	t.Helper()
	deadline := time.Now().Add(handover)
	for {
		if resp, err := http.Get("http://" + in.addr + "/healthz"); err == nil {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				return body
			}
		}
		select {
		case <-in.dead:
			t.Fatalf("%s exited before serving /healthz:\n%s", in.name, in.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not serve /healthz within %s:\n%s", in.name, handover, in.logs.String())
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (in *vigieProcess) kill() {
	select {
	case <-in.dead:
		return
	default:
	}
	_ = in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.dead
}

func (in *vigieProcess) alive() bool {
	select {
	case <-in.dead:
		return false
	default:
		return true
	}
}

// owns reports whether the process says, in /metrics, that it runs job.
func (in *vigieProcess) owns(t *testing.T, job string) bool {
	t.Helper()
	if !in.alive() {
		return false
	}
	resp, err := http.Get("http://" + in.addr + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return false
	}
	return strings.Contains(string(body), `vigie_lease_owned{job="`+job+`"} 1`+"\n")
}

// owner waits until exactly one live process owns job, and returns it.
func owner(t *testing.T, job string, ins []*vigieProcess) *vigieProcess {
	t.Helper()
	deadline := time.Now().Add(handover)
	for {
		var owners []*vigieProcess
		for _, in := range ins {
			if in.owns(t, job) {
				owners = append(owners, in)
			}
		}
		if len(owners) == 1 {
			return owners[0]
		}
		if len(owners) > 1 {
			names := make([]string, len(owners))
			for i, o := range owners {
				names[i] = o.name
			}
			t.Fatalf("%s is owned by %v at once", job, names)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live process owns %s after %s", job, handover)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestThreeInstances runs three identical vigie processes on one Redis with
// the fake Telegram Bot API and a fake Discord of two shards: one of them
// polls Telegram, each shard is run by one. The poller's owner SIGKILLed,
// then a shard's: within the 30s another process runs each, the
// messages sent after the kills are moderated, no update or message is
// handled twice, and neither Telegram nor Discord ever saw two processes
// on one poller or shard.
func TestThreeInstances(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts three processes")
	}
	tg := tgfake.New(t)
	// One guild on each of the two shards.
	var guilds []string
	for n := uint64(190_000_000_000); len(guilds) < 2; n++ {
		if id := strconv.FormatUint(n<<22|1, 10); discordfake.ShardOf(id, 2) == len(guilds) {
			guilds = append(guilds, id)
		}
	}
	dc := discordfake.New(t, discordfake.Options{Shards: 2, Guilds: guilds, Announce: true})
	bin, config := vigieWith(t, leasesRules)
	redisURL := redistest.URL(t)
	env := []string{
		"VIGIE_REDIS_PREFIX=leases" + strconv.FormatInt(time.Now().UnixNano(), 36),
		// Short leases keep the test short; the defaults move a job within
		// 30s too.
		"VIGIE_LEASE_TTL=3s", "VIGIE_LEASE_TTL_MAX=3s",
		"TELEGRAM_TOKEN=" + tgfake.Token,
		"TELEGRAM_API_URL=" + tg.HTTP.URL,
		"TELEGRAM_CHATS=-1001234567890",
		"DISCORD_TOKEN=" + discordfake.Token,
		"DISCORD_API_URL=" + dc.APIURL(),
		"DISCORD_GUILDS=" + strings.Join(guilds, ","),
		// The fake recommends two shards (GET /gateway/bot).
		"DISCORD_SHARD_COUNT=auto",
	}
	var ins []*vigieProcess
	for i := range 3 {
		ins = append(ins, startProcess(t, bin, fmt.Sprintf("vigie-%d", i+1), config, redisURL, env))
	}

	const group = -1001234567890
	msg := 0
	spam := func() int {
		msg++
		tg.Push(map[string]any{"message": map[string]any{
			"message_id": msg, "date": time.Now().Unix(), "text": "FREE NITRO here",
			"from": map[string]any{"id": 7, "is_bot": false, "first_name": "Eve"},
			"chat": map[string]any{"id": group, "type": "supergroup", "title": "Fans"},
		}})
		return msg
	}
	deletedOf := func(id int) int {
		return tg.Count("deleteMessage", func(c tgfake.Call) bool {
			return c.Params.Get("chat_id") == strconv.Itoa(group) && c.Params.Get("message_id") == strconv.Itoa(id)
		})
	}
	waitDeleted := func(what string, id int) {
		t.Helper()
		deadline := time.Now().Add(handover)
		for deletedOf(id) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: message %d not deleted after %s; calls: %v", what, id, handover, tg.Methods())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Discord: a spam in a guild of each shard, deleted once.
	discordMsg := 0
	discordSpam := func(guild string) string {
		t.Helper()
		discordMsg++
		id := strconv.Itoa(1_300_000_000_000_000_000 + discordMsg)
		deadline := time.Now().Add(handover)
		for !dc.Message(guild, discordfake.Channel(guild), id, "600000000000000007", "FREE NITRO here") {
			if time.Now().After(deadline) {
				t.Fatalf("no process connected the shard of guild %s within %s", guild, handover)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return id
	}
	discordDeleted := func(guild, id string) int {
		return dc.Count("DELETE", "/channels/"+discordfake.Channel(guild)+"/messages/"+id)
	}
	var discordSent [][2]string
	waitDiscord := func(what, guild, id string) {
		t.Helper()
		discordSent = append(discordSent, [2]string{guild, id})
		deadline := time.Now().Add(handover)
		for discordDeleted(guild, id) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: Discord message %s of guild %s not deleted after %s", what, id, guild, handover)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	shard0 := "discord-shard-0-of-2"

	first := owner(t, "telegram", ins)
	owner(t, shard0, ins)
	owner(t, "discord-shard-1-of-2", ins)
	// Each is ready, owner or not: a process that runs nothing stands by to
	// take jobs over, and takes webhooks.
	for _, in := range ins {
		testsync.Eventually(t, in.name+" ready", func() bool {
			resp, err := http.Get("http://" + in.addr + "/-/ready")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	waitDeleted("before the kill", spam())
	for _, g := range guilds {
		waitDiscord("before the kill", g, discordSpam(g))
	}

	// The poller's owner is killed.
	first.kill()
	after := spam()
	second := owner(t, "telegram", ins)
	if second == first {
		t.Fatal("the killed process still owns the poller")
	}
	waitDeleted("after the poller's owner was killed", after)
	waitDeleted("later", spam())

	// Then the owner of shard 0 (now one of the two left), and its guild's
	// spam goes on being deleted by the last one.
	shardOwner := owner(t, shard0, ins)
	shardOwner.kill()
	last := owner(t, shard0, ins)
	if last == shardOwner {
		t.Fatal("the killed process still owns shard 0")
	}
	waitDiscord("after shard 0's owner was killed", guilds[0], discordSpam(guilds[0]))
	waitDiscord("after shard 0's owner was killed", guilds[1], discordSpam(guilds[1]))
	waitDeleted("with one process left", spam())
	owner(t, "telegram", ins)

	// Every spam was deleted once: no update was handled by two processes.
	// (A kill between a batch's commit and its judging hands it on:
	// TestPollerKilledWithUpdatesInHand.)
	for id := 1; id <= msg; id++ {
		if n := deletedOf(id); n != 1 {
			t.Errorf("message %d deleted %d times, want once", id, n)
		}
	}
	for _, m := range discordSent {
		if n := discordDeleted(m[0], m[1]); n != 1 {
			t.Errorf("Discord message %s deleted %d times, want once", m[1], n)
		}
	}
	if n := tg.Conflicts(); n != 0 {
		t.Errorf("Telegram saw a second poller %d times (409)", n)
	}
	if n := dc.Overlaps(); n != 0 {
		t.Errorf("Discord saw a shard identified twice at once %d times", n)
	}
}
