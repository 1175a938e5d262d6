package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// The fence tests run a job's holders in processes of their own (this test
// binary, started again as TestLeaseFenceHolderProcess), on one real
// redis-server, and pause, cut or freeze them. Each step of the job is a
// call out of its process, as a platform call is, through the transport the
// platform clients use (bot.LeaseChecked); the test's observer is the
// platform, and records the steps in the order it receives them. A step
// under a lease's token older than one it saw a step under already is a
// job step run by a process after another took the job over: the job ran
// in two processes at once.

// fenceObserver is the outside world of the fence tests' job.
type fenceObserver struct {
	srv *httptest.Server

	mu       sync.Mutex
	max      int64               // the newest token seen in a step
	steps    map[int64]int       // steps by token
	owners   map[int64]string    // owner of each token
	first    map[int64]time.Time // when the first step under each token came
	overlaps []string
	changed  chan struct{}
}

func newFenceObserver(t *testing.T) *fenceObserver {
	o := &fenceObserver{steps: map[int64]int{}, owners: map[int64]string{}, first: map[int64]time.Time{}, changed: make(chan struct{}, 1)}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := strconv.ParseInt(r.URL.Query().Get("token"), 10, 64)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		owner := r.URL.Query().Get("owner")
		o.mu.Lock()
		if tok < o.max {
			o.overlaps = append(o.overlaps, fmt.Sprintf("%s stepped under token %d after %s stepped under token %d", owner, tok, o.owners[o.max], o.max))
		}
		o.max = max(o.max, tok)
		if o.steps[tok] == 0 {
			o.first[tok] = time.Now()
		}
		o.steps[tok]++
		o.owners[tok] = owner
		o.mu.Unlock()
		select {
		case o.changed <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(o.srv.Close)
	return o
}

// holder returns the owner and token of the newest steps, and their count.
func (o *fenceObserver) holder() (string, int64, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.owners[o.max], o.max, o.steps[o.max]
}

func (o *fenceObserver) check(t *testing.T, what string, procs map[string]*fenceProcess) {
	t.Helper()
	o.mu.Lock()
	overlaps := append([]string(nil), o.overlaps...)
	o.mu.Unlock()
	if len(overlaps) > 0 {
		for name, p := range procs {
			t.Logf("%s's log:\n%s", name, p.logs)
		}
		t.Fatalf("%s: the job ran in two processes at once:\n%s", what, strings.Join(overlaps, "\n"))
	}
}

// waitSteps waits for n steps under a token newer than after, and returns
// its owner and token: nobody may leave the job without a holder for long.
func (o *fenceObserver) waitSteps(t *testing.T, after int64, n int, what string) (string, int64) {
	t.Helper()
	give := time.After(testsync.Patience)
	for {
		owner, tok, steps := o.holder()
		if tok > after && steps >= n {
			return owner, tok
		}
		select {
		case <-o.changed:
		case <-give:
			t.Fatalf("gave up waiting for %s (newest token %d, %d steps under it)", what, tok, steps)
		}
	}
}

// waitMoreSteps waits for n more steps under token tok.
func (o *fenceObserver) waitMoreSteps(t *testing.T, tok int64, n int, what string) {
	t.Helper()
	o.mu.Lock()
	want := o.steps[tok] + n
	o.mu.Unlock()
	give := time.After(testsync.Patience)
	for {
		o.mu.Lock()
		got := o.steps[tok]
		o.mu.Unlock()
		if got >= want {
			return
		}
		select {
		case <-o.changed:
		case <-give:
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// fenceProcess is one holder of the job, a process of its own.
type fenceProcess struct {
	cmd  *exec.Cmd
	logs *testsync.Buffer
}

func (p *fenceProcess) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// The fence tests' leases: a step every 20ms, and a lease 2s long renewed
// every 250ms. Every holder takes it for 2s, so a holder that finds no trace
// of it (the test's Redis is new) waits 2s for a holder it never saw
// (BlindMost, VIGIE_LEASE_TTL_MAX), not the 15s of a fleet whose TTLs it
// does not know.
const (
	fenceTTL   = 2 * time.Second
	fenceRenew = 250 * time.Millisecond
	fenceStep  = 20 * time.Millisecond
)

func startFenceProcess(t *testing.T, owner, redisURL string, obs *fenceObserver) *fenceProcess {
	t.Helper()
	logs := &testsync.Buffer{}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLeaseFenceHolderProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "VIGIE_FENCE_HOLDER="+owner, "VIGIE_FENCE_REDIS="+redisURL, "VIGIE_FENCE_OBSERVER="+obs.srv.URL)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return &fenceProcess{cmd: cmd, logs: logs}
}

// TestLeaseFenceHolderProcess is a holder of the fence tests' job, when one
// of them starts it.
func TestLeaseFenceHolderProcess(t *testing.T) {
	owner := os.Getenv("VIGIE_FENCE_HOLDER")
	if owner == "" {
		t.Skip("a holder of the fence tests' job, run by them in a process of its own")
	}
	st := redistest.Open(t, os.Getenv("VIGIE_FENCE_REDIS"))
	o := LeaseOptions{TTL: fenceTTL, BlindMost: fenceTTL, RenewEvery: fenceRenew, RetryEvery: fenceRenew, Owner: owner}.withDefaults(os.Getenv)
	l := newLeases(st, o, slog.New(slog.NewTextHandler(os.Stderr, nil)), prometheus.NewRegistry(), false)
	client := &http.Client{Transport: bot.LeaseChecked(nil)}
	observer := os.Getenv("VIGIE_FENCE_OBSERVER")
	// Runs until the test kills it.
	l.run(context.Background(), "discord", func(ctx context.Context, lease store.Lease) {
		for ctx.Err() == nil {
			u := fmt.Sprintf("%s/step?owner=%s&token=%d", observer, owner, lease.Token)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
			if err != nil {
				panic(err)
			}
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
			bot.Sleep(ctx, fenceStep)
		}
	})
}

// fenceProcesses starts a (through redisA) and, once a runs the job, b and
// c, and waits until b and c were told a holds it.
func fenceProcesses(t *testing.T, redisA, redisURL string, obs *fenceObserver) (map[string]*fenceProcess, int64) {
	t.Helper()
	procs := map[string]*fenceProcess{"a": startFenceProcess(t, "a", redisA, obs)}
	_, tok := obs.waitSteps(t, 0, 1, "a to run the job")
	procs["b"] = startFenceProcess(t, "b", redisURL, obs)
	procs["c"] = startFenceProcess(t, "c", redisURL, obs)
	// b and c asked, more than once, and were told the job is held: as many
	// steps as take three asks' time.
	obs.waitMoreSteps(t, tok, int(3*fenceRenew/fenceStep)+5, "a's steps while b and c stand by")
	return procs, tok
}

// TestLeaseFencePausedHolder: the process running a job is paused (SIGSTOP)
// past its lease's TTL, another takes the job over, and the paused one is
// woken, twice. Woken, it does not take a single step of the job: its
// lease ran out on its own clock, and it stops before its renewal even
// answers. Before, its job went on at once, beside the new holder's, until
// that renewal said the lease was lost.
func TestLeaseFencePausedHolder(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	obs := newFenceObserver(t)
	procs, tok := fenceProcesses(t, srv.URL(), srv.URL(), obs)
	for round := range 2 {
		owner, _, _ := obs.holder()
		p := procs[owner]
		told := strings.Count(p.logs.String(), "lease lost")
		p.signal(t, syscall.SIGSTOP)
		newOwner, newTok := obs.waitSteps(t, tok, 1, fmt.Sprintf("round %d: another process to take the job over from the paused %s", round, owner))
		p.signal(t, syscall.SIGCONT)
		// Woken, it hears that it lost the lease: meanwhile the new holder
		// goes on.
		testsync.Eventually(t, owner+" woken to hear its lease is lost", func() bool { return strings.Count(p.logs.String(), "lease lost") > told })
		obs.waitMoreSteps(t, newTok, 10, newOwner+"'s steps after "+owner+" woke")
		obs.check(t, fmt.Sprintf("round %d", round), procs)
		tok = newTok
	}
}

// TestLeaseFenceHolderCutFromRedis: the process running a job loses Redis
// (its connection hangs: nothing answers) while the platform still answers
// it, and Redis still answers the others. Its lease runs out in Redis and
// another takes the job over; it stops the job on its own clock, before
// that one starts it. Before, it ran the job on "until the store answers",
// beside the new holder, for as long as Redis did not answer it.
func TestLeaseFenceHolderCutFromRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	proxy := redistest.NewHangProxy(t, srv.Addr())
	obs := newFenceObserver(t)
	procs, tok := fenceProcesses(t, proxy.URL(), srv.URL(), obs)
	proxy.Hang()
	newOwner, newTok := obs.waitSteps(t, tok, 1, "another process to take the job over from a, cut from Redis")
	obs.waitMoreSteps(t, newTok, 30, newOwner+"'s steps while a is cut from Redis")
	obs.check(t, "a cut from Redis", procs)
	testsync.Eventually(t, "a to say it stopped the job", func() bool {
		return strings.Contains(procs["a"].logs.String(), "may have run out")
	})
}

// TestLeaseFenceRedisFrozen: Redis freezes (DEBUG SLEEP) for longer than
// the lease's TTL while three processes share a job, twice. Nothing is
// answered during the freeze, and everything at once after it, the
// holder's renewal with the others' asks: the holder stops the job on its
// own clock while Redis is frozen (it logs that its lease may have run
// out, not that Redis said it lost it), and the next holder, whose ask
// Redis answers only after the freeze, starts the job a TTL at least after
// that answer, when the lease of any process that may still run it has
// run out on that process's clock. Either keeps the job in one process;
// each is checked, and the job runs again after each freeze.
func TestLeaseFenceRedisFrozen(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "--enable-debug-command", "local")
	obs := newFenceObserver(t)
	procs, tok := fenceProcesses(t, srv.URL(), srv.URL(), obs)
	c := redistest.Client(t, srv.URL())
	const freeze = 3 * time.Second // past the TTL, and a margin
	for round := range 2 {
		owner, _, _ := obs.holder()
		ranOut := strings.Count(procs[owner].logs.String(), "lease lost: it may have run out")
		heardLost := strings.Count(procs[owner].logs.String(), "lease lost: the store no longer holds it") +
			strings.Count(procs[owner].logs.String(), "lease lost: another process runs the job")
		frozen := time.Now()
		if err := c.Do(context.Background(), "DEBUG", "SLEEP", strconv.Itoa(int(freeze/time.Second))).Err(); err != nil {
			t.Fatal(err)
		}
		newOwner, newTok := obs.waitSteps(t, tok, 1, fmt.Sprintf("round %d: the job to run again after Redis froze", round))
		obs.waitMoreSteps(t, newTok, 30, newOwner+"'s steps after the freeze")
		obs.check(t, fmt.Sprintf("round %d", round), procs)
		logs := procs[owner].logs.String()
		if strings.Count(logs, "lease lost: it may have run out") == ranOut ||
			strings.Count(logs, "lease lost: the store no longer holds it")+strings.Count(logs, "lease lost: another process runs the job") != heardLost {
			t.Errorf("round %d: %s, holding the job as Redis froze, did not stop it on its own clock, but when Redis answered:\n%s", round, owner, logs)
		}
		obs.mu.Lock()
		started := obs.first[newTok]
		obs.mu.Unlock()
		if earliest := frozen.Add(freeze + fenceTTL); started.Before(earliest) {
			t.Errorf("round %d: %s started the job %s after Redis froze, want %s at least: the freeze, then the TTL of a holder that may still run it",
				round, newOwner, started.Sub(frozen).Round(time.Millisecond), freeze+fenceTTL)
		}
		tok = newTok
	}
}
