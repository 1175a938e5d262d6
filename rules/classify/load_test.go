package classify_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/vigie-bot/vigie/rules/classify"
)

// vigie replay --model NAME=FILE reads a model file: /dev/zero filled the
// memory, a FIFO waited forever for a writer. Only a regular file of at most
// MaxFileBytes is read.
func TestLoadRefusesWhatIsNotAModelFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev/zero nor FIFOs")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.bin")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(classify.MaxFileBytes + 1); err != nil { // sparse: no blocks written
		t.Fatal(err)
	}
	f.Close()
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "/dev/zero: not a regular file (a character device)"},
		{fifo, fifo + ": not a regular file (a FIFO)"},
		{big, big + ": 67108865 bytes, larger than the 64 MiB allowed"},
	} {
		_, err := classify.Load(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s) = %v, want %q", tc.path, err, tc.want)
		}
	}
}
