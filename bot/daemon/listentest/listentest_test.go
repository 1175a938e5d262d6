package listentest

import (
	"testing"
	"time"
)

// The address is read in the text and the JSON log formats, and not before
// the line is written.
func TestBoundAddr(t *testing.T) {
	for _, log := range []string{
		`time=2026-12-07T18:00:00.000Z level=INFO msg="http events on 127.0.0.1:0" addr=127.0.0.1:40123 signature=off` + "\n",
		`{"time":"2026-12-07T18:00:00Z","level":"INFO","msg":"http events on 127.0.0.1:0","addr":"127.0.0.1:40123"}` + "\n",
	} {
		if got := BoundAddr(t, "vigie", func() string { return log }, nil, time.Second); got != "127.0.0.1:40123" {
			t.Errorf("BoundAddr of %q = %q, want 127.0.0.1:40123", log, got)
		}
	}
	if m := boundLine.FindStringSubmatch(`level=INFO msg="vigie running" addr=127.0.0.1:1`); m != nil {
		t.Errorf("an address read in another line: %q", m[1])
	}
}
