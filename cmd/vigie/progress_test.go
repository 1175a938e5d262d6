package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

const clearLine = "\r\x1b[K"

// drawn starts a progress line with no delay and waits until it shows n events.
func drawn(t *testing.T, n int) (*syncBuffer, *lineWriter) {
	t.Helper()
	buf := &syncBuffer{}
	lw := &lineWriter{w: buf}
	lw.progress = startProgress(lw, 0)
	lw.progress.set(n)
	for !strings.Contains(buf.String(), clearLine+"replay: "+strconv.Itoa(n)+" events, ") {
		time.Sleep(10 * time.Millisecond)
	}
	return buf, lw
}

// The progress line is redrawn in place and cleared when the replay ends.
func TestProgressClearedAtTheEnd(t *testing.T) {
	buf, lw := drawn(t, 2048)
	lw.progress.stop()
	lw.progress.stop() // twice is fine: the replay stops it, then a deferred call does
	if out := buf.String(); !strings.HasSuffix(out, " events/s"+clearLine) {
		t.Errorf("output %q: want the line cleared at the end", out)
	}
}

// A message printed during the replay clears the progress line first, so that
// it never lands in the middle of it.
func TestProgressMessageOnClearedLine(t *testing.T) {
	buf, lw := drawn(t, 1024)
	lw.printf("events.jsonl:3: missing field \"at\"\n")
	lw.progress.stop()
	if out := buf.String(); !strings.Contains(out, " events/s"+clearLine+"events.jsonl:3: missing field \"at\"\n") {
		t.Errorf("output %q: the message should start on a cleared line", out)
	}
}
