// Command vigie-load posts a realistic stream of events to vigie's POST
// /v1/events and reports the latency and, given the server's pid, its memory.
//
// The default mode is open loop: events are sent at a fixed rate whatever the
// server does, and each latency runs from the time the event was due, not from
// when it could be sent, so that a server that stalls is charged with every
// event it held up (no coordinated omission). -mode max is closed loop: -conns
// senders post back to back, for the most the server takes.
//
// -serve ADDR runs instead the floor server that vigie is compared with: it
// reads, decodes and answers the same JSON, and does nothing else.
//
// It runs on the wall clock throughout: it measures a live vigie's speed,
// and dates its events as they are sent.
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// config is what the flags say.
type config struct {
	url         string
	mode        string
	rate        float64
	duration    time.Duration
	interval    time.Duration
	conns       int
	maxInflight int
	timeout     time.Duration
	authors     int
	spaces      int
	channels    int
	platform    string
	data        string
	pid         int
	seed        uint64
	secret      []byte
	dump        int
	serve       string
	wait        time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var c config
	f := flag.NewFlagSet("vigie-load", flag.ContinueOnError)
	f.SetOutput(stderr)
	f.StringVar(&c.url, "url", "http://127.0.0.1:8080/v1/events", "post events to `URL`")
	f.StringVar(&c.mode, "mode", "open", "open: a fixed -rate, latency from each event's due time; max: closed loop, -conns senders back to back")
	f.Float64Var(&c.rate, "rate", 1000, "events per second (open loop)")
	f.DurationVar(&c.duration, "duration", 30*time.Second, "how long to send")
	f.DurationVar(&c.interval, "interval", 10*time.Second, "report every `D`")
	f.IntVar(&c.conns, "conns", 64, "connections to the server (open loop: at most; max: the senders)")
	f.IntVar(&c.maxInflight, "max-inflight", 50000, "open loop: events waiting or in flight past which new ones are dropped (and counted as errors)")
	f.DurationVar(&c.timeout, "timeout", 10*time.Second, "give up on a request after `D`")
	f.IntVar(&c.authors, "authors", 1_000_000, "distinct authors")
	f.IntVar(&c.spaces, "spaces", 50, "distinct spaces (servers, groups, pages)")
	f.IntVar(&c.channels, "channels", 10, "channels per space")
	f.StringVar(&c.platform, "platform", "discord", "the events' platform")
	f.StringVar(&c.data, "data", "", "take the texts from the JSON Lines events in the files matching `GLOB` (e.g. /work/shared/data/*.jsonl); empty: built-in texts that mostly match the starter pack")
	f.IntVar(&c.pid, "pid", 0, "report the resident memory of process `PID` (the server) at every interval")
	f.Uint64Var(&c.seed, "seed", 1, "seed of the stream's choices")
	f.IntVar(&c.dump, "dump", 0, "print `N` events as JSON Lines (for vigie replay) and exit")
	f.StringVar(&c.serve, "serve", "", "run the bare floor server on `ADDR` instead, until interrupted")
	f.DurationVar(&c.wait, "wait", 0, "first wait up to `D` for the server to accept connections (one just started)")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if f.NArg() > 0 {
		fmt.Fprintf(stderr, "vigie-load: unexpected argument %q\n", f.Arg(0))
		return 2
	}
	if s := getenv("VIGIE_WEBHOOK_SECRET"); s != "" {
		c.secret = []byte(s)
	}
	if c.serve != "" {
		if err := serveFloor(ctx, c.serve, stdout); err != nil {
			fmt.Fprintf(stderr, "vigie-load: %v\n", err)
			return 1
		}
		return 0
	}
	texts := builtinTexts
	if c.data != "" {
		var err error
		if texts, err = loadTexts(c.data); err != nil {
			fmt.Fprintf(stderr, "vigie-load: %v\n", err)
			return 1
		}
	}
	switch {
	case c.mode != "open" && c.mode != "max":
		return usage(stderr, "-mode: want open or max, not %q", c.mode)
	case c.mode == "open" && c.rate <= 0:
		return usage(stderr, "-rate must be above 0")
	case c.authors < 1 || c.spaces < 1 || c.channels < 1 || c.conns < 1 || c.maxInflight < 1:
		return usage(stderr, "-authors, -spaces, -channels, -conns and -max-inflight must be at least 1")
	case c.interval <= 0 || c.duration <= 0:
		return usage(stderr, "-interval and -duration must be above 0")
	}
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	newStream := func(worker int) *stream {
		return &stream{
			texts: texts, rng: rand.New(rand.NewPCG(c.seed, uint64(worker))), run: runID, worker: worker,
			platform: c.platform, authors: c.authors, spaces: c.spaces, channels: c.channels, now: time.Now(),
		}
	}
	if c.dump > 0 {
		s := newStream(0)
		for range c.dump {
			stdout.Write(append(s.next(time.Now()), '\n'))
		}
		return 0
	}
	if c.wait > 0 {
		if err := waitListening(ctx, c.url, c.wait); err != nil {
			fmt.Fprintf(stderr, "vigie-load: %v\n", err)
			return 1
		}
	}
	l := &loader{cfg: c, out: stdout, client: newClient(c)}
	l.report(ctx, newStream)
	if l.total.n == 0 || l.errors.Load() > 0 {
		return 1
	}
	return 0
}

// newClient is the loader's HTTP client: up to -conns connections, each
// closed after idleConnTimeout without a request.
func newClient(c config) *http.Client {
	return &http.Client{
		Timeout: c.timeout,
		Transport: &http.Transport{
			MaxIdleConns:        c.conns,
			MaxIdleConnsPerHost: c.conns,
			MaxConnsPerHost:     c.conns,
			IdleConnTimeout:     idleConnTimeout,
			DisableCompression:  true,
		},
	}
}

// idleConnTimeout closes an idle connection before vigie does
// (daemon.IdleTimeout). Kept open longer, the connections a burst opened sit
// unused at the bottom of the pool until vigie closes them, and a request
// sent on one just as vigie closes it fails: a POST is not sent again, and
// a long soak counted a few such "connection reset" and "connection closed
// by the server" errors that were no fault of the server.
const idleConnTimeout = daemon.IdleTimeout / 2

func usage(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "vigie-load: "+format+"\n", args...)
	return 2
}

// loader sends the events and keeps the figures.
type loader struct {
	cfg    config
	out    io.Writer
	client *http.Client

	sent     atomic.Int64
	errors   atomic.Int64
	inflight atomic.Int64

	mu       sync.Mutex
	interval hist // since the last report
	total    hist
	failures map[string]int64 // by kind: "status 503", "dropped", a transport error
	rss      []float64        // MiB, one per report
}

// report sends for the configured duration (or until ctx ends), printing a
// line every interval and a summary at the end.
func (l *loader) report(ctx context.Context, newStream func(int) *stream) {
	c := l.cfg
	// The open loop's events are due from start: before the deadline,
	// however slow what follows is.
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	fmt.Fprintf(l.out, "vigie-load: mode=%s url=%s rate=%g duration=%s authors=%d spaces=%d conns=%d\n",
		c.mode, c.url, c.rate, c.duration, c.authors, c.spaces, c.conns)
	if rss, ok := readRSS(c.pid); ok {
		fmt.Fprintf(l.out, "t=0s rss=%.1fMiB\n", rss)
		l.rss = append(l.rss, rss)
	}
	cpu0, faults0, cpuOK := readCPU(c.pid)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if c.mode == "max" {
			l.closedLoop(ctx, newStream)
		} else {
			l.openLoop(ctx, newStream(0), start)
		}
	}()
	tick := time.NewTicker(c.interval)
	defer tick.Stop()
	var lastSent, lastErrors int64
	last := start
	line := func(now time.Time) {
		l.mu.Lock()
		h := l.interval
		l.interval = hist{}
		l.mu.Unlock()
		sent, errs := l.sent.Load(), l.errors.Load()
		fmt.Fprintf(l.out, "t=%s sent=%d errors=%d rate=%.1f/s p50=%s p99=%s max=%s",
			now.Sub(start).Round(time.Second), sent-lastSent, errs-lastErrors,
			float64(sent-lastSent)/now.Sub(last).Seconds(), ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.max))
		if rss, ok := readRSS(c.pid); ok {
			fmt.Fprintf(l.out, " rss=%.1fMiB", rss)
			l.rss = append(l.rss, rss)
		}
		fmt.Fprintln(l.out)
		lastSent, lastErrors, last = sent, errs, now
	}
loop:
	for {
		select {
		case now := <-tick.C:
			line(now)
		case <-done:
			break loop
		}
	}
	elapsed := time.Since(start)
	if time.Since(last) > c.interval/10 {
		line(time.Now())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sent := l.sent.Load()
	fmt.Fprintf(l.out, "total mode=%s duration=%s sent=%d errors=%d throughput=%.1f/s p50=%s p99=%s p999=%s max=%s",
		c.mode, elapsed.Round(time.Millisecond), sent, l.errors.Load(), float64(l.total.n)/elapsed.Seconds(),
		ms(l.total.quantile(0.5)), ms(l.total.quantile(0.99)), ms(l.total.quantile(0.999)), ms(l.total.max))
	if cpu1, faults1, ok := readCPU(c.pid); ok && cpuOK && l.total.n > 0 {
		// The server's CPU per event answered: steadier than its rate on a
		// machine that other work shares. Its page faults per event are
		// much of what a fresh server spends more than a warm one: each
		// costs some 10 µs of system time on a virtual machine.
		fmt.Fprintf(l.out, " server_cpu=%.1fµs/event server_faults=%.2f/event",
			float64((cpu1-cpu0).Microseconds())/float64(l.total.n), float64(faults1-faults0)/float64(l.total.n))
	}
	if len(l.rss) > 0 {
		fmt.Fprintf(l.out, " rss_first=%.1fMiB rss_max=%.1fMiB rss_last=%.1fMiB", l.rss[0], maxOf(l.rss), l.rss[len(l.rss)-1])
	}
	fmt.Fprintln(l.out)
	if len(l.failures) > 0 {
		kinds := make([]string, 0, len(l.failures))
		for k := range l.failures {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			fmt.Fprintf(l.out, "errors %d: %s\n", l.failures[k], k)
		}
	}
}

// openLoop sends one event every 1/rate seconds from start, until ctx ends,
// then waits for the requests in flight (they end within -timeout). The
// events due before ctx's deadline are all sent, however late this goroutine
// runs: on a busy machine it may start, or wake, after the deadline, with
// events still owed.
func (l *loader) openLoop(ctx context.Context, s *stream, start time.Time) {
	period := time.Duration(float64(time.Second) / l.cfg.rate)
	end, bounded := ctx.Deadline()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := int64(0); ; i++ {
		due := start.Add(time.Duration(i) * period)
		if bounded && !due.Before(end) {
			return
		}
		if wait := time.Until(due); wait > 0 {
			// Sleeping wakes up late by up to a millisecond or so: the events
			// due meanwhile go at once, each timed from its own due time.
			select {
			case <-ctx.Done():
				if !bounded || errors.Is(ctx.Err(), context.Canceled) {
					return
				}
			case <-time.After(wait):
			}
		} else if errors.Is(ctx.Err(), context.Canceled) {
			return // interrupted
		}
		l.sent.Add(1)
		if l.inflight.Load() >= int64(l.cfg.maxInflight) {
			l.fail("dropped: -max-inflight events already waiting")
			continue
		}
		body := bytes.Clone(s.next(due))
		l.inflight.Add(1)
		wg.Go(func() {
			defer l.inflight.Add(-1)
			l.post(body, due)
		})
	}
}

// closedLoop runs -conns senders that each post their next event as soon as
// the previous one is answered. Each posts one at least, should it start
// after ctx ended (a busy machine, a short -duration).
func (l *loader) closedLoop(ctx context.Context, newStream func(int) *stream) {
	var wg sync.WaitGroup
	for w := range l.cfg.conns {
		s := newStream(w)
		wg.Go(func() {
			for first := true; first || ctx.Err() == nil; first = false {
				now := time.Now()
				l.sent.Add(1)
				l.post(s.next(now), now)
			}
		})
	}
	wg.Wait()
}

// post sends one event and records its latency from due.
func (l *loader) post(body []byte, due time.Time) {
	req, err := http.NewRequest(http.MethodPost, l.cfg.url, bytes.NewReader(body))
	if err != nil {
		l.fail(err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if l.cfg.secret != nil {
		t := time.Now().Unix()
		req.Header.Set("X-Vigie-Signature", "t="+strconv.FormatInt(t, 10)+",v1="+hex.EncodeToString(daemon.Sign(l.cfg.secret, t, body)))
	}
	resp, err := l.client.Do(req)
	if err != nil {
		l.fail(transportError(err))
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	lat := time.Since(due)
	switch {
	case err != nil:
		l.fail(transportError(err))
	case resp.StatusCode != http.StatusOK:
		l.fail("status " + strconv.Itoa(resp.StatusCode))
	default:
		l.mu.Lock()
		l.interval.add(lat)
		l.total.add(lat)
		l.mu.Unlock()
	}
}

func (l *loader) fail(kind string) {
	l.errors.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures == nil {
		l.failures = map[string]int64{}
	}
	l.failures[kind]++
}

// transportError is the kind of a failed request, without what differs from
// one request to the next (ports), so that failures group.
func transportError(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server"
	}
	return err.Error()
}

// waitListening waits until the host of rawURL accepts TCP connections, for
// at most d.
func waitListening(ctx context.Context, rawURL string, d time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var dialer net.Dialer
	for {
		conn, err := dialer.DialContext(ctx, "tcp", host)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not listening after %s: %w", host, d, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readRSS is the resident memory of process pid in MiB, from /proc (Linux).
func readRSS(pid int) (float64, bool) {
	if pid <= 0 {
		return 0, false
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err == nil
		}
	}
	return 0, false
}

// clockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100 on
// Linux whatever the kernel's own tick).
const clockTicks = 100

// readCPU is the CPU time process pid has used, user and system, and the
// minor page faults it took, from /proc.
func readCPU(pid int) (cpu time.Duration, faults int64, ok bool) {
	if pid <= 0 {
		return 0, 0, false
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name, in parentheses, may hold spaces: the fields are
	// counted after it. minflt is the 10th field, utime and stime the 14th
	// and 15th.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, 0, false
	}
	minflt, err0 := strconv.ParseInt(f[7], 10, 64)
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err0 != nil || err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, minflt, true
}

// ms prints a latency in milliseconds, for awk and for people alike.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// serveFloor serves what vigie is measured against: a server that reads,
// decodes and answers the same JSON, with no rules, store or logs.
func serveFloor(ctx context.Context, addr string, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: floorHandler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "floor server on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// floorHandler is BenchmarkHTTPEvents's floor (bot/daemon/httpbench_test.go).
func floorHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ev bot.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: ev.At, Matches: []bot.Match{}})
	})
}
