//go:build unix

package redis

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A spool file that is not a regular file (a FIFO, which a read would wait
// on for ever, a device) is not read at start: vigie would never start. It
// is kept aside, as it was, and said; the spool opens empty.
func TestSpoolNotARegularFileIsKeptAside(t *testing.T) {
	dir := t.TempDir()
	s := openTestSpool(t, dir, nil)
	path := s.Path()
	s.Close()
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	var logs bytes.Buffer
	type result struct {
		s   *Spool
		err error
	}
	opened := make(chan result, 1)
	go func() {
		s, err := OpenSpool(dir, "redis://127.0.0.1:1/0 vigie", slog.New(slog.NewTextHandler(&logs, nil)))
		opened <- result{s, err}
	}()
	select {
	case r := <-opened:
		if r.err != nil {
			t.Fatal(r.err)
		}
		s = r.s
	case <-time.After(time.Minute):
		// The read still waits on the FIFO: open it for writing and close
		// it, so that the read ends and the test can report.
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		<-opened
		t.Fatal("gave up waiting for the spool to open over a FIFO: its read waits for a writer")
	}
	defer s.Close()
	if got := spoolIDs(s); got != "" {
		t.Errorf("items read: %q; want none", got)
	}
	aside, _ := filepath.Glob(path + ".unread-*")
	if len(aside) != 1 {
		t.Fatalf("files kept aside: %v; want one", aside)
	}
	if fi, err := os.Lstat(aside[0]); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("kept aside: %v, %v; want the FIFO as it was", fi, err)
	}
	if !strings.Contains(logs.String(), "not a regular file") {
		t.Errorf("log = %s; want the file said not a regular file, and where it is", logs.String())
	}
}
