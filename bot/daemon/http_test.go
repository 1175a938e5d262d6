package daemon

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/vigie-bot/vigie/bot"
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

// A verdict's answer goes out with its Content-Length and a Date, not
// chunked, whether it fits net/http's buffer (net/http gives it its length)
// or not (writeVerdict does), on either side of that buffer's size (2,048
// bytes; these answers are 120 bytes and the reason).
func TestVerdictAnswerHeaders(t *testing.T) {
	var d daemon
	var reason string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.writeVerdict(w, &eventAnswer{Verdict: bot.Verdict{EventID: "m-1", Platform: "discord", At: time.Unix(1_790_000_000, 0).UTC(),
			Matches: []bot.Match{{Rule: "r", Reason: reason}}}})
	}))
	defer srv.Close()
	for _, n := range []int{0, 1900, 1927, 1928, 1950, 2048, 5000} {
		reason = strings.Repeat("x", n)
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(body, []byte(reason+`"`)) || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) > 0 {
			t.Errorf("reason of %d bytes: Content-Length %d, transfer encoding %v, for %d bytes", n, resp.ContentLength, resp.TransferEncoding, len(body))
		}
		if resp.Header.Get("Date") == "" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("reason of %d bytes: header %v", n, resp.Header)
		}
	}
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

// POST /v1/events taken before the mux reaches the handler the mux would
// have chosen, and every other request still goes to the mux: a path that
// only looks like it (cleaned, escaped, with a slash more), another method.
func TestEventsFirst(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/events", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "events") })
	mux.HandleFunc("GET /v1/cases", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "cases") })
	first := eventsFirst(mux, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "events") })
	for _, target := range []string{"POST /v1/events", "POST /v1/events?x=1", "POST /v1/%65vents", "POST /v1/events/",
		"POST //v1/events", "POST /v1/./events", "POST /v1/../v1/events", "GET /v1/events", "HEAD /v1/events",
		"PUT /v1/events", "GET /v1/cases", "POST /v1/cases", "POST /v1/eventsx", "POST /V1/events"} {
		method, path, _ := strings.Cut(target, " ")
		answer := func(h http.Handler) string {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader("{}")))
			return fmt.Sprint(w.Code, " ", w.Header().Get("Location"), " ", w.Header().Get("Allow"), " ", w.Body.String())
		}
		if got, want := answer(first), answer(mux); got != want {
			t.Errorf("%s: %q, the mux answers %q", target, got, want)
		}
	}
}
