package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
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
