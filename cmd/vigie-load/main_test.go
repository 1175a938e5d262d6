package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
)

// eventServer is a /v1/events that checks what it is sent as vigie would: a
// valid live event, signed with secret.
type eventServer struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	ids    map[string]bool
	bad    []string
}

func (s *eventServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fail := func(why string) {
		s.mu.Lock()
		s.bad = append(s.bad, why)
		s.mu.Unlock()
		http.Error(w, why, http.StatusBadRequest)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/events" {
		fail(r.Method + " " + r.URL.Path)
		return
	}
	sig := r.Header.Get("X-Vigie-Signature")
	ts, v1, ok := strings.Cut(sig, ",v1=")
	unix, err := strconv.ParseInt(strings.TrimPrefix(ts, "t="), 10, 64)
	if !ok || err != nil || v1 != hex.EncodeToString(daemon.Sign(s.secret, unix, body)) {
		fail("bad signature " + sig)
		return
	}
	ev, err := bot.DecodeLiveEvent(body, time.Now())
	if err != nil {
		fail(err.Error())
		return
	}
	s.mu.Lock()
	if s.ids[ev.ID] {
		s.bad = append(s.bad, "id sent twice: "+ev.ID)
	}
	s.ids[ev.ID] = true
	s.mu.Unlock()
	w.Write([]byte(`{"matches":[]}`))
}

var totalLine = regexp.MustCompile(`(?m)^total mode=\w+ .*sent=(\d+) errors=(\d+) `)

func TestOpenLoopSendsSignedValidEvents(t *testing.T) {
	s := &eventServer{t: t, secret: []byte("s3cret"), ids: map[string]bool{}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, mode := range []string{"open", "max"} {
		t.Run(mode, func(t *testing.T) {
			var out, errOut bytes.Buffer
			env := func(k string) string {
				if k == "VIGIE_WEBHOOK_SECRET" {
					return "s3cret"
				}
				return ""
			}
			code := run(context.Background(), []string{"-url", srv.URL + "/v1/events", "-mode", mode, "-rate", "200",
				"-duration", "300ms", "-interval", "100ms", "-conns", "4", "-authors", "1000"}, &out, &errOut, env)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
			}
			m := totalLine.FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no total line in:\n%s", out.String())
			}
			sent, _ := strconv.Atoi(m[1])
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(s.bad) > 0 {
				t.Fatalf("the server refused %d events, first: %s", len(s.bad), s.bad[0])
			}
			if sent == 0 || len(s.ids) != sent || m[2] != "0" {
				t.Fatalf("reported sent=%s errors=%s, the server took %d events", m[1], m[2], len(s.ids))
			}
			clear(s.ids)
		})
	}
}

func TestErrorsAreCountedByKind(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-url", srv.URL, "-rate", "100", "-duration", "100ms", "-interval", "1s"},
		&out, &errOut, func(string) string { return "" })
	if code != 1 {
		t.Fatalf("exit %d, want 1 when requests fail\n%s", code, out.String())
	}
	m := totalLine.FindStringSubmatch(out.String())
	if m == nil || m[1] == "0" || m[1] != m[2] {
		t.Fatalf("want every event sent counted as an error:\n%s", out.String())
	}
	if want := "errors " + m[2] + ": status 503\n"; !strings.Contains(out.String(), want) {
		t.Fatalf("want %q in:\n%s", want, out.String())
	}
}

func TestDumpIsReplayable(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-dump", "500", "-authors", "50"}, &out, &errOut, func(string) string { return "" }); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	authors := map[string]bool{}
	sc := bufio.NewScanner(&out)
	n := 0
	for sc.Scan() {
		ev, err := bot.DecodeEvent(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		authors[ev.Author.ID] = true
		n++
	}
	if n != 500 {
		t.Fatalf("%d events, want 500", n)
	}
	if len(authors) > 50 || len(authors) < 2 {
		t.Fatalf("%d distinct authors, want between 2 and -authors 50", len(authors))
	}
}

func TestFloorAnswersAVerdict(t *testing.T) {
	srv := httptest.NewServer(floorHandler())
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"id":"e1","platform":"discord","text":"hi","at":"2026-01-01T00:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(raw, []byte(`"event_id":"e1"`)) {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
}

func TestReadsItsOwnProcess(t *testing.T) {
	// Some CPU to count.
	for i := 0; i < 1e7; i++ {
		_ = strconv.Itoa(i)
	}
	if cpu, _, ok := readCPU(os.Getpid()); !ok || cpu <= 0 {
		t.Errorf("readCPU(self) = %s, %v; want some CPU time", cpu, ok)
	}
	// Memory touched for the first time takes a page fault a page (some
	// of it may be the heap's again: half is asked).
	_, faults0, _ := readCPU(os.Getpid())
	touched := make([]byte, 16<<20)
	for i := 0; i < len(touched); i += 4096 {
		touched[i] = 1
	}
	if _, faults1, ok := readCPU(os.Getpid()); !ok || faults1-faults0 < int64(len(touched)/4096/2) {
		t.Errorf("readCPU(self) after touching %d pages: %d faults more, %v; want at least half as many", len(touched)/4096, faults1-faults0, ok)
	}
	if rss, ok := readRSS(os.Getpid()); !ok || rss <= 0 {
		t.Errorf("readRSS(self) = %.1f MiB, %v", rss, ok)
	}
	if _, _, ok := readCPU(0); ok {
		t.Error("readCPU(0) is ok, want no process")
	}
}

// The loader closes an idle connection before vigie does: a request sent on
// a connection vigie is closing fails, through no fault of the server.
func TestIdleConnectionsClosedBeforeVigieDoes(t *testing.T) {
	tr, ok := newClient(config{conns: 64, timeout: time.Second}).Transport.(*http.Transport)
	if !ok {
		t.Fatal("the loader's client has no *http.Transport")
	}
	if tr.IdleConnTimeout <= 0 || tr.IdleConnTimeout >= daemon.IdleTimeout {
		t.Errorf("IdleConnTimeout = %s, want more than 0 and less than vigie's %s", tr.IdleConnTimeout, daemon.IdleTimeout)
	}
}

// The open loop sends every event due within the duration, even when it
// runs after the deadline, as it may on a busy machine: ten at 100/s over
// 100 ms, each posted.
func TestOpenLoopSendsWhatWasDueWhenLate(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
		w.Write([]byte(`{"matches":[]}`))
	}))
	defer srv.Close()
	c := config{url: srv.URL, rate: 100, conns: 4, maxInflight: 100, timeout: 10 * time.Second}
	l := &loader{cfg: c, out: io.Discard, client: newClient(c)}
	s := &stream{texts: builtinTexts, rng: rand.New(rand.NewPCG(1, 0)), run: "late", platform: "discord",
		authors: 10, spaces: 1, channels: 1, now: time.Now()}
	start := time.Now().Add(-time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(100*time.Millisecond))
	defer cancel()
	l.openLoop(ctx, s, start)
	if sent, posted, errs := l.sent.Load(), got.Load(), l.errors.Load(); sent != 10 || posted != 10 || errs != 0 {
		t.Errorf("sent %d, the server took %d, %d errors; want the 10 events due", sent, posted, errs)
	}
}
