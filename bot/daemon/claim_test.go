package daemon_test

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// pause stops the process (SIGSTOP): it holds its connections, and does
// nothing with them, as a process the host froze does. It returns once
// every thread of the process is stopped: the signal is taken by one
// thread, which stops the others, and on a busy machine that thread may
// wait to be scheduled while the others run on, answering what comes
// meanwhile (a Redis let go right after the pause).
func (in *vigieProcess) pause(t *testing.T) {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	tasks := fmt.Sprintf("/proc/%d/task", in.cmd.Process.Pid)
	if _, err := os.Stat(tasks); err != nil {
		return // no /proc to tell (not Linux): the signal alone
	}
	deadline := testsync.Deadline()
	for !allStopped(tasks) {
		if time.Now().After(deadline) {
			t.Fatalf("%s not stopped %s after SIGSTOP", in.name, testsync.Patience)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// allStopped says whether every thread listed under tasks
// (/proc/PID/task) is stopped (state T in its stat).
func allStopped(tasks string) bool {
	ids, err := os.ReadDir(tasks)
	if err != nil || len(ids) == 0 {
		return false
	}
	for _, id := range ids {
		stat, err := os.ReadFile(filepath.Join(tasks, id.Name(), "stat"))
		if err != nil {
			return false
		}
		// pid (comm) state ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) || stat[i+2] != 'T' {
			return false
		}
	}
	return true
}

// resume lets a paused process go on (SIGCONT).
func (in *vigieProcess) resume(t *testing.T) {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}

// logged counts the lines of the process's log that hold every one of parts.
func (in *vigieProcess) logged(parts ...string) int {
	n := 0
	for _, line := range strings.Split(in.logs.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// TestDecisionClaimedAcrossInstances: two vigie processes on one Redis, a
// CM presses Ban on a case's card, and Telegram holds the ban open. The
// process carrying it out is paused (SIGSTOP) past its poller's lease: the
// other takes the poller over and is handed the press from the inbox. It
// must not ban again while the first still carries the ban out: it waits
// for the claim of the case's decision, and once the first, resumed, has
// banned the member and let the claim go, it shows the decision and bans
// no more. Then again, with the first killed (SIGKILL) while paused mid-ban:
// its claim runs out, and the other, finding the ban's carrying out begun
// and not ended, asks Telegram whether the member is banned, and finishes
// the ban, once. Before the
// claim lived in the store, the process handed the press banned the member
// a second time while the first was paused.
func TestDecisionClaimedAcrossInstances(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two processes")
	}
	tg := tgfake.New(t)
	tg.SetOwner(pressGroup, pressCM, false)
	// gates hold the first ban of a member open (by user id) until closed;
	// the test's end closes those left, before the fake closes.
	var mu sync.Mutex
	gates := map[string]chan struct{}{}
	tg.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method != "banChatMember" {
			return 0, "", false
		}
		mu.Lock()
		g, ok := gates[p.Get("user_id")]
		delete(gates, p.Get("user_id"))
		mu.Unlock()
		if ok {
			<-g
		}
		return 0, "", false
	})
	var all []chan struct{}
	gate := func(user int64) chan struct{} {
		g := make(chan struct{})
		mu.Lock()
		gates[strconv.FormatInt(user, 10)] = g
		all = append(all, g)
		mu.Unlock()
		return g
	}
	var closeOnce sync.Map
	open := func(g chan struct{}) {
		if _, done := closeOnce.LoadOrStore(g, true); !done {
			close(g)
		}
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, g := range all {
			open(g)
		}
	})

	ins := startPressVigies(t, tg, "claim", 2)
	other := func(p *vigieProcess) *vigieProcess {
		if p == ins[0] {
			return ins[1]
		}
		return ins[0]
	}
	// A decision killed with the member's lock and its claim held waits
	// for them to run out (30 s) before the other carries it out.
	play := newPressPlay(t, tg, 3*handover)
	waitFor, scam, press, bans, shown := play.waitFor, play.scam, play.press, play.bans, play.shown
	stillTrying := func() int {
		return tg.Count("sendMessage", func(c tgfake.Call) bool { return strings.Contains(c.Params.Get("text"), "still being tried") })
	}
	const waiting = "a decision being carried out by another vigie: waiting for its end"
	// pauseOwner pauses the poller's owner, with a ban of user held open,
	// and waits for the other to take the poller over and be handed the
	// press: it must wait for the claim, not ban again.
	pauseOwner := func(user int64, caseID string) (paused, next *vigieProcess) {
		t.Helper()
		paused = owner(t, "telegram", ins)
		paused.pause(t)
		next = owner(t, "telegram", []*vigieProcess{other(paused)})
		waitFor("the press handed on to "+next.name, func() bool {
			if n := bans(user); n > 1 {
				t.Fatalf("user %d asked to be banned %d times while the vigie carrying the ban out was paused, want once", user, n)
			}
			return next.logged(waiting, caseID) > 0
		})
		return paused, next
	}

	// Paused with Eve's ban in flight, then resumed: the ban answers.
	eveCase, eveCard := scam(7, "Eve")
	eveGate := gate(7)
	press("cb-eve", eveCase, eveCard)
	tg.WaitFor("banChatMember", 1, nil)
	waitFor("the CM told Eve's ban is still being tried", func() bool { return stillTrying() >= 1 })
	first, second := pauseOwner(7, eveCase)
	first.resume(t)
	open(eveGate)
	waitFor("Eve's card showing the ban", func() bool { return shown(eveCard) })
	waitFor(second.name+" finding Eve's ban carried out", func() bool {
		return second.logged("a decision carried out by another vigie: shown, not carried out again", eveCase) > 0
	})
	if n := bans(7); n != 1 {
		t.Errorf("Eve asked to be banned %d times, want once", n)
	}

	// Paused with Frank's ban in flight, then killed: the other finishes it.
	frankCase, frankCard := scam(9, "Frank")
	gate(9) // held open until the test ends
	press("cb-frank", frankCase, frankCard)
	tg.WaitFor("banChatMember", 2, nil)
	waitFor("the CM told Frank's ban is still being tried", func() bool { return stillTrying() >= 2 })
	killed, last := pauseOwner(9, frankCase)
	killed.kill()
	waitFor("Frank banned by "+last.name, func() bool { return bans(9) == 2 }) // the one killed, then the one done
	waitFor("Frank's card showing the ban", func() bool { return shown(frankCard) })
	waitFor(last.name+" finishing Frank's ban", func() bool {
		return last.logged("its end unknown: the platform says the member is not banned: banned now", frankCase) > 0
	})
	if n := bans(9); n != 2 {
		t.Errorf("Frank asked to be banned %d times, want twice (the call killed, then the one done)", n)
	}
	if n := bans(7); n != 1 {
		t.Errorf("Eve asked to be banned %d times, want once", n)
	}
	// Each press was answered once, by the vigie it was first given to:
	// the one handed on waits for the claim without telling the CM again,
	// nor speaking of a slow platform.
	told := tg.Count("sendMessage", func(c tgfake.Call) bool {
		text := c.Params.Get("text")
		return strings.Contains(text, "still being tried") || strings.Contains(text, "not carried out yet")
	})
	if told != 2 {
		t.Errorf("the CM was told %d times that a ban goes on, want twice (once a press)", told)
	}
	for _, c := range tg.CallsOf("sendMessage") {
		if text := c.Params.Get("text"); strings.Contains(text, "already decided") || strings.Contains(text, "Not carried out") {
			t.Errorf("the CM was told: %q", text)
		}
	}
}
