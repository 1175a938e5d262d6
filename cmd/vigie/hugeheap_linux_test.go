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
	"testing/fstest"
)

// TestGrowHeapHuge: once growHeapHuge has mapped the heap's room, memory the
// heap then hands out and the program writes takes a fault every huge page,
// not every 4 KiB page. The faults are counted by the kernel, in a process of
// their own (a heap that earlier tests grew, and whose free pages went back
// to the system, would hand out those first), for the same allocation made
// twice: before growHeapHuge, a fault a page (4,096 for these 4,096 pages),
// and after it. Both counts hold what else writing the heap costs, the race
// detector's shadow memory with -race: the second must be under half the
// first by at least half the pages.
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
		write := func() ([]byte, int64) {
			before := faults()
			b := make([]byte, size)
			for i := 0; i < size; i += 4096 {
				b[i] = 1
			}
			return b, faults() - before
		}
		plain, before := write()
		growHeapHuge(replayHugeHeap)
		huge, after := write()
		runtime.KeepAlive(plain)
		runtime.KeepAlive(huge)
		fmt.Printf("faults: %d %d\n", before, after)
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
	m := regexp.MustCompile(`faults: (\d+) (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no count of faults in %s", out)
	}
	before, _ := strconv.ParseInt(string(m[1]), 10, 64)
	after, _ := strconv.ParseInt(string(m[2]), 10, 64)
	// The room's first huge page may hold pages the heap had touched before
	// it was advised: those around them fault a page at a time, up to 511.
	if pages := int64(size / 4096); after > before-pages/2 {
		t.Errorf("%d faults allocating and writing %d pages of heap after growHeapHuge, %d before: want a fault a huge page", after, pages, before)
	}
	t.Logf("%d faults for %d pages before growHeapHuge, %d after", before, size/4096, after)
}

// TestHugePagesCostly: the replay's heap gets no room in huge pages where a
// virtio balloon reports free pages to the hypervisor (feature bit 5), and
// gets it otherwise: no balloon, a balloon without the feature, or a
// features file that cannot be read as one.
func TestHugePagesCostly(t *testing.T) {
	// as Linux writes it (drivers/virtio/virtio.c, features_show: the
	// character i is the bit i): this machine's balloon, with statistics
	// (1), deflate on OOM (2), reporting (5) and bit 7, then
	// VIRTIO_F_VERSION_1 (32)
	const reporting = "0110010100000000000000000000000010000000000000000000000000000000\n"
	const withoutReporting = "0110000100000000000000000000000010000000000000000000000000000000\n"
	for _, c := range []struct {
		name string
		fsys fstest.MapFS
		want bool
	}{
		{"no balloon", fstest.MapFS{}, false},
		{"reporting", fstest.MapFS{"virtio0/features": {Data: []byte(reporting)}}, true},
		{"not reporting", fstest.MapFS{"virtio0/features": {Data: []byte(withoutReporting)}}, false},
		{"the second balloon reporting", fstest.MapFS{
			"virtio0/features": {Data: []byte(withoutReporting)},
			"virtio3/features": {Data: []byte(reporting)},
		}, true},
		{"too short", fstest.MapFS{"virtio0/features": {Data: []byte("01100\n")}}, false},
		{"another driver's file", fstest.MapFS{"module/features": {Data: []byte(reporting)}}, false},
	} {
		if got := hugePagesCostly(c.fsys); got != c.want {
			t.Errorf("%s: hugePagesCostly = %v, want %v", c.name, got, c.want)
		}
	}
}
