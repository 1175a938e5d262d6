package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestGrowHeapHuge: once growHeapHuge has mapped the heap's room, memory the
// heap then hands out and the program writes takes a fault every huge page,
// not every 4 KiB page (4,081 faults for these 4,096 pages without it). The
// faults are counted by the kernel, in a process of their own: a heap that
// earlier tests grew, and whose free pages went back to the system, would
// hand out those first.
func TestGrowHeapHuge(t *testing.T) {
	const size = 16 << 20
	if os.Getenv("VIGIE_TEST_GROW_HEAP_HUGE") == "1" {
		runtime.LockOSThread()
		faults := func() int64 {
			var ru syscall.Rusage
			if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
				t.Fatal(err)
			}
			return ru.Minflt
		}
		growHeapHuge(replayHugeHeap)
		before := faults()
		b := make([]byte, size)
		for i := 0; i < size; i += 4096 {
			b[i] = 1
		}
		got := faults() - before
		runtime.KeepAlive(b)
		fmt.Printf("faults: %d\n", got)
		return
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skip("no transparent huge pages here")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGrowHeapHuge$")
	cmd.Env = append(os.Environ(), "VIGIE_TEST_GROW_HEAP_HUGE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	m := regexp.MustCompile(`faults: (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no count of faults in %s", out)
	}
	got, _ := strconv.ParseInt(string(m[1]), 10, 64)
	// The room's first huge page may hold pages the heap had touched before
	// it was advised: those around them fault a page at a time, up to 511.
	if pages := int64(size / 4096); got > pages/4 {
		t.Errorf("%d faults allocating and writing %d pages of heap, want a fault a huge page", got, pages)
	}
	t.Logf("%d faults for %d pages", got, size/4096)
}
