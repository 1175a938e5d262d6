// Package listentest starts nothing: it lets the tests that start vigie run
// as a process (or in-process) have it listen on a port it picks itself,
// and read that port in its log.
package listentest

import (
	"regexp"
	"testing"
	"time"
)

// AnyPort is the address a vigie run of the tests is told to listen on: a
// loopback port it picks itself, which the test reads in its log
// (BoundAddr). A port the test picked, closed and handed on could be taken
// by another test's server before vigie bound it.
const AnyPort = "127.0.0.1:0"

// boundLine is vigie run's log line saying the address it listens on, in
// the text or the JSON log format.
var boundLine = regexp.MustCompile(`http events on [^\n]*?\baddr(?:=|":")([^\s"]+)`)

// Addr returns the address log, what a vigie run logged so far, says it
// listens on; ok is false while it says none.
func Addr(log string) (addr string, ok bool) {
	if m := boundLine.FindStringSubmatch(log); m != nil {
		return m[1], true
	}
	return "", false
}

// BoundAddr waits until log, what a vigie run logged so far, says the
// address it listens on, and returns it; dead is closed when it ended,
// before which BoundAddr gives up, as it does past patience.
func BoundAddr(t testing.TB, name string, log func() string, dead <-chan struct{}, patience time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		if addr, ok := Addr(log()); ok {
			return addr
		}
		select {
		case <-dead:
			t.Fatalf("%s ended before it listened:\n%s", name, log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen within %s:\n%s", name, patience, log())
		}
	}
}
