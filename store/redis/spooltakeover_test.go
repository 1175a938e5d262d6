package redis_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// spoolFilesLeft lists the spool files in dir that hold something.
func spoolFilesLeft(dir string) []string {
	var out []string
	names, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	for _, name := range names {
		if fi, err := os.Stat(name); err == nil && fi.Size() > 0 {
			out = append(out, name)
		}
	}
	return out
}

// An instance that runs beside one that dies during an outage (SIGKILL)
// takes over the dead one's spool: before it reads the ban book (its lift
// check, once Redis answers), the ban for good the dead one gave is taken
// and written, so that the member's earlier timed ban is not lifted; the
// cases and audit entries are written to Redis once each. Before, only an
// instance started after the death read the file: the others lifted the
// ban and the cases waited for a restart.
func TestSpoolOfADeadInstanceTakenOverByARunningOne(t *testing.T) {
	o := newSpoolOutage(t)
	o.banForADay(t, "u1")
	ctx := context.Background()
	// Running before the death, with its retry loop out of the way: only
	// its lift check reads the book.
	f := o.instance(t, time.Hour)
	o.srv.Stop()
	o.killChild(t)
	o.srv.Restart()

	due, err := f.DueBans(ctx, spoolAt.Add(25*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range due {
		t.Errorf("the running instance's lift check finds %s due at its timed ban's end; want none: the dead instance banned it for good", b.Key())
	}
	f.SyncSpool()
	if got := f.Buffered(); got != 5 {
		t.Errorf("waiting for Redis once the dead instance's spool is taken over = %d; want its 3 cases and 2 audit entries", got)
	}
	if left := spoolFilesLeft(o.dir); len(left) != 1 {
		t.Errorf("spool files holding items = %v; want the running instance's alone", left)
	}
	g := o.instance(t, 20*time.Millisecond)
	if got := g.Buffered(); got != 0 {
		t.Errorf("an instance started after the take-over takes back %d items; want none: they are the running instance's", got)
	}
	// f's loop pings every hour: its writing back is asked here.
	redis.FlushNow(f)
	checkChildWrittenBack(t, o.other)
	if left := spoolFilesLeft(o.dir); len(left) != 0 {
		t.Errorf("spool files holding items once Redis took everything: %v", left)
	}
}

// Several running instances race for a dead one's spool: one takes it, and
// every case and audit entry reaches Redis once.
func TestSpoolOfADeadInstanceTakenOverOnce(t *testing.T) {
	o := newSpoolOutage(t)
	o.banForADay(t, "u1")
	ctx := context.Background()
	var running []*redis.Fallback
	for range 4 {
		running = append(running, o.instance(t, 10*time.Millisecond))
	}
	o.srv.Stop()
	o.killChild(t)
	// Their lift checks race with their loops.
	var wg sync.WaitGroup
	for _, f := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = f.DueBans(ctx, spoolAt, 0)
		}()
	}
	wg.Wait()
	o.srv.Restart()
	redistest.Eventually(t, time.Minute, "the dead instance's spool taken over and written to Redis", func() bool {
		for _, f := range running {
			if f.Buffered() != 0 || f.Degraded() {
				return false
			}
		}
		b, ok, err := o.other.KeptBan(ctx, store.BanKey(spoolMember("u1")))
		return err == nil && ok && b.ForGood() && len(spoolFilesLeft(o.dir)) == 0
	})
	checkChildWrittenBack(t, o.other)
}
