package main

import (
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
)

// clockFrom is a clock for vigie in a test (cli.now): it reads at when it is
// made and moves on at the pace of the wall clock, whose timers vigie run
// keeps. It reads no date but at: only the time elapsed since it was made.
func clockFrom(at time.Time) func() time.Time {
	made := time.Now()
	return func() time.Time { return at.Add(time.Since(made)) }
}

// waitFor polls cond every 20ms until it holds or a minute has passed, and
// reports whether it held: a wait for what a running vigie does off the
// test's goroutine, not a date.
func waitFor(t *testing.T, cond func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// signature is the X-Vigie-Signature of body as a sender makes it, on the wall
// clock: vigie run checks it against the wall clock, whatever its own clock
// (a captured request is replayable only for a few minutes of real time).
func signature(secret string, body []byte) string {
	now := time.Now().Unix()
	return fmt.Sprintf("t=%d,v1=%s", now, hex.EncodeToString(daemon.Sign([]byte(secret), now, body)))
}
