package daemon

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readBody reads the whole body whatever the request announced, and in the
// room of the buffer it is given when that is enough.
func TestReadBody(t *testing.T) {
	body := strings.Repeat("0123456789", 300)
	for _, tt := range []struct {
		name      string
		announced int64
		room      int
	}{
		{"announced", int64(len(body)), 0},
		{"unknown length", -1, 0},
		{"announced short", 10, 0},
		{"announced long", 2 * int64(len(body)), 0},
		{"announced, in room enough", int64(len(body)), 2 * len(body)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, 0, tt.room)
			// one byte a read: every read lands where the last one ended
			got, err := readBody(buf, iotest.OneByteReader(strings.NewReader(body)), tt.announced)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != body {
				t.Fatalf("read %d bytes, want the %d of the body", len(got), len(body))
			}
			if tt.room > len(body) && &got[0] != &buf[:1][0] {
				t.Error("the buffer given had room for the body, and another was made")
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		want := iotest.ErrTimeout
		if _, err := readBody(nil, iotest.TimeoutReader(bytes.NewReader([]byte(body))), -1); err != want {
			t.Errorf("err = %v, want %v", err, want)
		}
	})
}

// The answers' Date header is the time's, formatted once for each second.
func TestHTTPDate(t *testing.T) {
	var d httpDate
	at := time.Date(2026, 11, 20, 22, 10, 0, 0, time.FixedZone("CET", 3600))
	first := d.header(at)
	if want := "Fri, 20 Nov 2026 21:10:00 GMT"; len(first) != 1 || first[0] != want {
		t.Fatalf("Date %q, want %q", first, want)
	}
	if again := d.header(at.Add(999 * time.Millisecond)); &again[0] != &first[0] {
		t.Error("formatted again within the same second")
	}
	if next := d.header(at.Add(time.Second)); next[0] != "Fri, 20 Nov 2026 21:10:01 GMT" {
		t.Errorf("the next second: Date %q", next[0])
	}
}
