package redis_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// spoolAt is the clock of the spool's tests: every time they write is
// relative to it.
var spoolAt = time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)

func spoolMember(id string) bot.Event {
	return bot.Event{Platform: "discord", Space: "g1", Author: bot.Author{ID: id, Name: id}}
}

func spoolCaseOf(id string) store.Case {
	ev := spoolMember("u-" + id)
	ev.ID, ev.Kind, ev.Channel, ev.Text, ev.At = id, bot.KindMessage, "general", "text of "+id, spoolAt
	return store.Case{Event: ev, Rule: "insult", Category: "abuse", Reason: "rule insult matched"}
}

// childSpool names the environment of TestSpoolChild.
const childSpool = "VIGIE_TEST_SPOOL_CHILD"

// TestSpoolChild is the process TestSpoolSurvivesAKill kills: on a Redis
// that does not answer, it opens three cases (acknowledges the first, with a
// card, and decides the second), records two audit entries and a ban for
// good, says which local ids it gave, and waits to be killed.
func TestSpoolChild(t *testing.T) {
	env := os.Getenv(childSpool)
	if env == "" {
		t.Skip("run by TestSpoolSurvivesAKill")
	}
	var args struct{ URL, Prefix, Dir string }
	if err := json.Unmarshal([]byte(env), &args); err != nil {
		t.Fatal(err)
	}
	f := spooledFallback(t, args.URL, args.Prefix, args.Dir, time.Hour)
	ctx := context.Background()
	var ids []string
	for _, id := range []string{"e1", "e2", "e3"} {
		c, err := f.OpenCase(ctx, spoolCaseOf(id))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if err := f.AddCard(ctx, ids[0], bot.CardRef{Platform: "telegram", Chat: "-100", Message: "77"}); err != nil {
		t.Fatal(err)
	}
	if err := f.AckCase(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DecideCase(ctx, ids[1], "delete", "telegram:42", "", spoolAt.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a1", "a2"} {
		ev := spoolMember("u-" + id)
		ev.ID, ev.At = id, spoolAt
		if err := f.AppendAudit(ctx, store.AuditEntry{At: spoolAt, Event: ev, Mode: "enforce"}); err != nil {
			t.Fatal(err)
		}
	}
	f.PutBanLater(store.TimedBan{Event: spoolMember("u1"), Rule: "manual", By: "discord:42",
		Started: spoolAt.Add(time.Hour), Until: store.ForGoodUntil})
	if !f.Degraded() || f.Buffered() != 5 {
		t.Fatalf("degraded %v, buffered %d; want Redis away and 5 waiting", f.Degraded(), f.Buffered())
	}
	f.SyncSpool()
	out, _ := json.Marshal(ids)
	fmt.Printf("ready %s\n", out)
	select {} // killed here
}

// A process killed (SIGKILL) while Redis is away leaves what waited for it
// in its spool; the next process on the same spool takes it back and writes
// it to Redis once it answers: each case once, as the desk left it (the
// acknowledged one not offered again, with its card; the decided one
// decided), the audit entries, and the ban for good, before the book is read,
// so that the member's earlier timed ban does not lift it. Without the
// spool, all of it was lost with the process.
func TestSpoolSurvivesAKill(t *testing.T) {
	o := newSpoolOutage(t)
	o.banForADay(t, "u1")
	ctx := context.Background()
	o.srv.Stop()

	local := o.killChild(t)

	f := o.instance(t, 20*time.Millisecond)
	if got := f.Buffered(); got != 5 {
		t.Errorf("waiting for Redis after the restart = %d; want the 3 cases and 2 audit entries", got)
	}
	// The desk's buttons carry the local ids of the killed process.
	if c, err := f.Case(ctx, local[1]); err != nil || c.Status != store.CaseDecided || c.Event.ID != "e2" {
		t.Errorf("case %s with Redis away = %+v, %v; want e2's case, decided", local[1], c, err)
	}

	o.srv.Restart()
	redistest.Eventually(t, time.Minute, "what waited written to Redis", func() bool {
		if f.Degraded() || f.Buffered() != 0 {
			return false
		}
		b, ok, err := o.other.KeptBan(ctx, store.BanKey(spoolMember("u1")))
		return err == nil && ok && b.ForGood()
	})
	checkChildWrittenBack(t, o.other)
	if c, err := f.Case(ctx, local[1]); err != nil || c.Event.ID != "e2" || !strings.HasPrefix(c.ID, "c-") {
		t.Errorf("case %s once written back = %+v, %v; want e2's case, from Redis", local[1], c, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(o.dir, "*.jsonl"))
	for _, name := range files {
		if fi, err := os.Stat(name); err != nil || fi.Size() != 0 {
			data, _ := os.ReadFile(name)
			t.Errorf("spool %s once Redis took everything: %s", name, data)
		}
	}
}

// spoolOutage is where instances live through an outage: a Redis that keeps
// its data on disk, the instances' spool folder, and another process on the
// Redis (other) to see what reached it. url reaches the Redis as the
// instances do, without retries.
type spoolOutage struct {
	srv              *redistest.Server
	url, prefix, dir string
	other            *redis.Store
}

func newSpoolOutage(t *testing.T) *spoolOutage {
	t.Helper()
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	o := &spoolOutage{srv: srv, url: srv.URL() + "?max_retries=-1&dial_timeout=500ms",
		prefix: newPrefix(), dir: filepath.Join(t.TempDir(), "spool")}
	o.other = otherProcess(t, srv.URL(), o.prefix)
	return o
}

// banForADay bans who from spoolAt for a day, by the other process: the
// ban for good TestSpoolChild gives must not be lifted at its end.
func (o *spoolOutage) banForADay(t *testing.T, who string) {
	t.Helper()
	timed := store.TimedBan{Event: spoolMember(who), Rule: "raid", Started: spoolAt, Until: spoolAt.Add(24 * time.Hour)}
	if _, _, err := o.other.PutBan(context.Background(), timed); err != nil {
		t.Fatal(err)
	}
}

// instance opens a Fallback on the spool, as an instance that runs beside
// the others: it pings Redis every retry.
func (o *spoolOutage) instance(t *testing.T, retry time.Duration) *redis.Fallback {
	return spooledFallback(t, o.url, o.prefix, o.dir, retry)
}

// spooledFallback opens a Fallback on Redis at url under prefix, with its
// spool in dir, that pings Redis every retry; it is closed when the test ends.
func spooledFallback(t *testing.T, url, prefix, dir string, retry time.Duration, opts ...redis.Option) *redis.Fallback {
	t.Helper()
	sp, err := redis.OpenSpool(dir, url+" "+prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	return redistest.OpenFallback(t, url, redis.FallbackOptions{RetryEvery: retry, Spool: sp}, append([]redis.Option{redis.WithPrefix(prefix)}, opts...)...)
}

// killChild runs TestSpoolChild on the spool, with Redis away, and
// SIGKILLs it once it is ready: it returns the local ids of the cases it
// opened.
func (o *spoolOutage) killChild(t *testing.T) []string {
	t.Helper()
	args, _ := json.Marshal(map[string]string{"URL": o.url, "Prefix": o.prefix, "Dir": o.dir})
	cmd := exec.Command(os.Args[0], "-test.run=^TestSpoolChild$", "-test.v")
	cmd.Env = append(os.Environ(), childSpool+"="+string(args))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var local []string
	sc := bufio.NewScanner(stdout)
	var seen []string
	for sc.Scan() {
		line := sc.Text()
		seen = append(seen, line)
		if rest, ok := strings.CutPrefix(line, "ready "); ok {
			if err := json.Unmarshal([]byte(rest), &local); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(local) != 3 {
		t.Fatalf("the child process did not get ready:\n%s\n%s", strings.Join(seen, "\n"), stderr.String())
	}

	return local
}

// checkChildWrittenBack checks that what TestSpoolChild left is in Redis,
// as other reads it: u1 banned for good (no ban due at the end of its
// earlier timed ban), each case once as the desk left it, each audit entry
// once.
func checkChildWrittenBack(t *testing.T, other *redis.Store) {
	t.Helper()
	ctx := context.Background()
	due, err := other.DueBans(ctx, spoolAt.Add(25*time.Hour), 0)
	if err != nil || len(due) != 0 {
		t.Errorf("due bans at the timed ban's end = %+v, %v; want none: u1 is banned for good", due, err)
	}
	byEvent := map[string][]store.Case{}
	for _, st := range []store.CaseStatus{store.CaseOpen, store.CaseDecided} {
		cs, err := other.Cases(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			byEvent[c.Event.ID] = append(byEvent[c.Event.ID], c)
		}
	}
	for _, id := range []string{"e1", "e2", "e3"} {
		if len(byEvent[id]) != 1 {
			t.Errorf("cases of %s in Redis = %d; want 1", id, len(byEvent[id]))
		}
	}
	if cs := byEvent["e2"]; len(cs) == 1 && (cs[0].Status != store.CaseDecided || cs[0].Outcome != "delete" || cs[0].DecidedBy != "telegram:42") {
		t.Errorf("e2's case in Redis = %+v; want decided, delete, by telegram:42", cs[0])
	}
	if cs := byEvent["e1"]; len(cs) == 1 {
		cards, err := other.CaseCards(ctx, cs[0].ID)
		if err != nil || len(cards) != 1 || cards[0].Message != "77" {
			t.Errorf("e1's cards in Redis = %+v, %v; want the card posted before the kill", cards, err)
		}
	}
	pending, err := other.PendingCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pending {
		if c.Event.ID == "e1" {
			t.Errorf("e1's case, acknowledged by the desk before the kill, is pending again in Redis")
		}
	}
	audit, err := other.Audit(ctx, spoolAt.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range audit {
		got[e.Event.ID]++
	}
	if got["a1"] != 1 || got["a2"] != 1 {
		t.Errorf("audit entries in Redis by event = %v; want a1 and a2 once each", got)
	}
}
