package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// lockedBuffer is a destination that records each write.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	err    error
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	b.writes++
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writes
}

func TestLogWriterBatchesLinesAndLosesNoneOnClose(t *testing.T) {
	var out lockedBuffer
	w := NewLogWriter(&out)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, "writer=%d line=%d\n", g, i)
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines written, want %d", len(got), writers*lines)
	}
	// Each writer's lines come out whole and in the order it wrote them.
	next := make([]int, writers)
	for _, l := range got {
		var g, i int
		if _, err := fmt.Sscanf(l, "writer=%d line=%d", &g, &i); err != nil || i != next[g] {
			t.Fatalf("line %q out of order or torn (want line=%d for writer %d)", l, next[g], g)
		}
		next[g]++
	}
	if n := out.count(); n >= writers*lines/10 {
		t.Errorf("%d writes for %d lines: not batched", n, writers*lines)
	}
}

func TestLogWriterWritesAfterADelayOrWhenLarge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out lockedBuffer
		w := NewLogWriter(&out)
		defer w.Close()
		fmt.Fprintln(w, "one")
		fmt.Fprintln(w, "two")
		synctest.Wait()
		if s := out.String(); s != "" {
			t.Fatalf("written before the batch's delay: %q", s)
		}
		time.Sleep(logFlushEvery)
		synctest.Wait()
		if s := out.String(); s != "one\ntwo\n" {
			t.Fatalf("after %s: %q, want both lines", logFlushEvery, s)
		}
		big := bytes.Repeat([]byte("x"), logFlushAt)
		w.Write(big)
		synctest.Wait()
		if n := len(out.String()); n != len("one\ntwo\n")+logFlushAt {
			t.Fatalf("a batch of %d bytes waits for the delay (%d bytes out)", logFlushAt, n)
		}
	})
}

func TestLogWriterAfterClose(t *testing.T) {
	var out lockedBuffer
	w := NewLogWriter(&out)
	fmt.Fprintln(w, "before")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, "after")
	if got := strings.Fields(out.String()); !slices.Equal(got, []string{"before", "after"}) {
		t.Fatalf("got %q, want before then after", got)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestLogWriterReportsAFailedDestination(t *testing.T) {
	broken := errors.New("disk full")
	out := lockedBuffer{err: broken}
	w := NewLogWriter(&out)
	if _, err := fmt.Fprintln(w, "lost"); err != nil {
		t.Fatalf("Write: %v; the failure is for Close to report", err)
	}
	if err := w.Close(); !errors.Is(err, broken) {
		t.Fatalf("Close: %v, want %v", err, broken)
	}
}

// switchedFile writes to one file, then, once switched, to another: a log
// file on a disk that is full (/dev/full answers ENOSPC), then has room.
type switchedFile struct {
	mu       sync.Mutex
	full, ok *os.File
	room     bool
}

func (f *switchedFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.room {
		return f.ok.Write(p)
	}
	return f.full.Write(p)
}

func (f *switchedFile) makeRoom() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.room = true
}

// TestLogWriterSaysWhatAFullDiskLost writes the log to a full disk, then to
// one with room: the lines refused meanwhile are counted, /healthz's source
// (Losing) says the log is failing, and once lines go through again a line
// says how many were lost, since when and why. Before, the batches were
// dropped without a word: the log had a gap nobody could explain.
func TestLogWriterSaysWhatAFullDiskLost(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	ok, err := os.Create(filepath.Join(t.TempDir(), "vigie.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer ok.Close()
	out := &switchedFile{full: full, ok: ok}
	w := NewLogWriter(out)
	log := slog.New(NewTextHandler(w, slog.LevelInfo))
	w.TellLossesTo(log)

	log.Info("event judged", "n", 1)
	log.Info("event judged", "n", 2)
	if err := w.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Flush on a full disk: %v, want ENOSPC", err)
	}
	if _, lines, err, losing := w.Losing(); !losing || lines != 2 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Losing: %v %d %v, want 2 lines lost to ENOSPC", losing, lines, err)
	}
	out.makeRoom()
	log.Info("event judged", "n", 3)
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush once the disk has room: %v", err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close: nil, want the full disk's error")
	}
	b, err := os.ReadFile(ok.Name())
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.Contains(got, "n=3") || !strings.Contains(got, `msg="log lines lost`) ||
		!strings.Contains(got, "lines=2 ") || !strings.Contains(got, "no space left on device") {
		t.Errorf("log once the disk has room:\n%s\nwant the third line, and one that says 2 lines were lost to a full disk", got)
	}
	if _, _, _, losing := w.Losing(); losing {
		t.Error("Losing once lines go through again: true")
	}
	if n := w.LinesLost(); n != 2 {
		t.Errorf("LinesLost: %d, want 2", n)
	}
}
