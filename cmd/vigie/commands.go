package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/handlers/faq"
	"github.com/vigie-bot/vigie/rules"
)

// runGCPercent is vigie run's GOGC when the environment sets none: the heap
// may grow by twice what is live before the collector runs, rather than by
// as much. Under load the collector was about an eighth of the instructions
// vigie run spends per event at the runtime's 100, a twentieth at 200, for
// a heap about a half larger (docs/speed.md#vigie-runs-collector); once the live heap is read,
// the room is runHeapRoom over it (heaproom.go). GOGC=100 in the environment
// gives the runtime's default back, GOMEMLIMIT bounds the memory.
const runGCPercent = 200

// runDaemon is `vigie run`: the bot itself, until a signal stops it.
func (c *cli) runDaemon(ctx context.Context, args []string) int {
	f := c.flags("run")
	config := f.configFlag()
	listen := f.String("listen", envOr(c.getenv, "VIGIE_LISTEN", daemon.DefaultListen),
		"serve the HTTP API, health and metrics on `ADDR` (env VIGIE_LISTEN); beyond 127.0.0.1 it needs VIGIE_WEBHOOK_SECRET and VIGIE_ADMIN_TOKEN")
	insecure := f.Bool("insecure", false,
		"listen beyond this machine without VIGIE_WEBHOOK_SECRET or VIGIE_ADMIN_TOKEN: anyone who reaches vigie can post events (the admin routes still need a token: the one vigie makes for its user)")
	// The default is not shown in -h: a Redis URL may carry a password.
	redisURL := f.String("redis", "",
		"keep counters, cases and audit in Redis at `URL`; empty keeps them in memory (env VIGIE_REDIS_URL, or VIGIE_REDIS_URL_FILE)")
	logLevel := f.String("log.level", envOr(c.getenv, "VIGIE_LOG_LEVEL", "info"),
		"log what is at `LEVEL` or above: debug, info, warn or error (env VIGIE_LOG_LEVEL)")
	logFormat := f.String("log.format", envOr(c.getenv, "VIGIE_LOG_FORMAT", "text"),
		"write the log as `FORMAT`: text (key=value) or json, one object a line (env VIGIE_LOG_FORMAT)")
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return f.usageError("unexpected argument %q", pos[0])
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return f.usageError("--log.level: %q: want debug, info, warn or error", *logLevel)
	}
	if *logFormat != "text" && *logFormat != "json" {
		return f.usageError("--log.format: %q: want text or json", *logFormat)
	}
	if _, _, err := net.SplitHostPort(*listen); err != nil {
		// "8080" alone would otherwise be refused as an address beyond this
		// machine without its secrets, which is not the mistake.
		return f.usageError("--listen (or VIGIE_LISTEN): %q: want HOST:PORT, like 127.0.0.1:8080 (this machine only) or :8080 (every address)", *listen)
	}
	getenv, err := withSecretFiles(c.getenv)
	if err != nil {
		return c.fail("run", err)
	}
	if *redisURL == "" {
		*redisURL = getenv("VIGIE_REDIS_URL")
	}
	if c.getenv("GOGC") == "" {
		debug.SetGCPercent(runGCPercent)
		defer boundHeapRoom()()
	}
	// Lines are written in batches (a line or two per event otherwise costs a
	// system call each); the last ones are written before the error below.
	logs := daemon.NewLogWriter(c.stderr)
	var handler slog.Handler = daemon.NewTextHandler(logs, level)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level})
	}
	logger := slog.New(handler)
	logs.TellLossesTo(logger)
	err = daemon.Run(ctx, daemon.Config{
		ConfigPath: *config,
		Listen:     *listen,
		Insecure:   *insecure,
		RedisURL:   *redisURL,
		Version:    versionString(),
		Logger:     logger,
		Logs:       logs,
		Getenv:     getenv,
		Now:        c.now,
	}, c.reload)
	_ = logs.Close() // stderr failing: nowhere left to say so
	if err != nil {
		fmt.Fprintf(c.stderr, "vigie run: %v\n", err)
		if hint := listenHint(err, *listen); hint != "" {
			fmt.Fprintf(c.stderr, "vigie run: %s\n", hint)
		}
		if _, ok := errors.AsType[*daemon.SetupError](err); ok {
			return exitUsage
		}
		return exitFail
	}
	return exitOK
}

// listenHint says what to do when vigie could not listen on addr, or "".
func listenHint(err error, addr string) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return addr + " is taken by another program (another vigie run?): stop it, or give this vigie another address with --listen HOST:PORT (or VIGIE_LISTEN)"
	case errors.Is(err, syscall.EACCES):
		return "ports below 1024 need root or the CAP_NET_BIND_SERVICE capability: listen on a port from 1024 up (--listen 127.0.0.1:8080) and put a proxy in front for 80 or 443"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no network interface of this machine has the address " + addr + ": give one it has with --listen HOST:PORT (127.0.0.1:8080 for this machine only, :8080 for every address)"
	}
	return ""
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// check is `vigie check`: load the file and say whether it is fit to run.
func (c *cli) check(ctx context.Context, args []string) int {
	f := c.flags("check")
	config := f.configFlag()
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return f.usageError("unexpected argument %q (the file is given with --config)", pos[0])
	}
	rs, name, ok := c.loadRules("check", *config)
	if !ok {
		return exitFail
	}
	if _, ok := c.compileFAQ("check", rs); !ok {
		return exitFail
	}
	for _, w := range rs.Warnings {
		fmt.Fprintf(c.stdout, "%s\n", warningLine(w))
	}
	for _, w := range rs.TrySamples(ctx) {
		fmt.Fprintf(c.stdout, "%s\n", warningLine(w))
	}
	fmt.Fprintf(c.stdout, "%s: ok (%s)\n", name, describe(rs, name))
	return exitOK
}

// test is `vigie test`: run the file's own tests, each on a fresh store.
func (c *cli) test(ctx context.Context, args []string) int {
	f := c.flags("test")
	config := f.configFlag()
	verbose := f.Bool("v", false, "list the tests that pass too")
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return f.usageError("unexpected argument %q (the file is given with --config)", pos[0])
	}
	rs, name, ok := c.loadRules("test", *config)
	if !ok {
		return exitFail
	}
	m, ok := c.compileFAQ("test", rs)
	if !ok {
		return exitFail
	}
	results := rs.RunTests(ctx)
	results = append(results, m.RunTests(faq.TestsOf(rs.FAQ))...)
	passed, failed := 0, 0
	for _, w := range ruleErrors(name, results) {
		fmt.Fprintf(c.stdout, "%s\n", w)
	}
	for _, r := range results {
		if r.Passed() {
			passed++
			if *verbose {
				fmt.Fprintf(c.stdout, "PASS %s:%d: %s\n", name, r.Line, r.Name)
			}
			continue
		}
		failed++
		for _, line := range r.FailureLines(name) {
			fmt.Fprintf(c.stdout, "%s\n", line)
		}
	}
	if err := ctx.Err(); err != nil {
		return c.fail("test", err)
	}
	fmt.Fprintf(c.stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

// version is `vigie version`.
func (c *cli) version(ctx context.Context, args []string) int {
	f := c.flags("version")
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return f.usageError("unexpected argument %q", pos[0])
	}
	fmt.Fprintf(c.stdout, "vigie %s\n", versionString())
	fmt.Fprintf(c.stdout, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return exitOK
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision", "vcs.time", "vcs.modified":
			fmt.Fprintf(c.stdout, "%s %s\n", s.Key, s.Value)
		}
	}
	fmt.Fprintf(c.stdout, "%s %s\n", bi.Main.Path, bi.Main.Version)
	for _, d := range bi.Deps {
		if d.Replace != nil {
			fmt.Fprintf(c.stdout, "  %s %s => %s %s\n", d.Path, d.Version, d.Replace.Path, d.Replace.Version)
			continue
		}
		fmt.Fprintf(c.stdout, "  %s %s\n", d.Path, d.Version)
	}
	return exitOK
}

// versionString is the version set at build time, or, for a binary built by
// `go install ...@v1.2.3`, the module version Go recorded.
func versionString() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// ruleErrors sums up the run-time failures met in the tests, one warning line
// per rule or counter: how many, and the first.
func ruleErrors(file string, results []rules.TestResult) []string {
	type failures struct {
		first rules.RuleError
		test  string
		n     int
	}
	byName := map[string]*failures{}
	var order []string
	for _, r := range results {
		for _, e := range r.Errors {
			f := byName[e.Rule]
			if f == nil {
				f = &failures{first: e, test: r.Name}
				byName[e.Rule] = f
				order = append(order, e.Rule)
			}
			f.n++
		}
	}
	out := make([]string, 0, len(order))
	for _, name := range order {
		f := byName[name]
		out = append(out, warningLine(rules.Problem{File: file, Line: f.first.Line, Col: f.first.Col,
			Msg: fmt.Sprintf("%s failed %s at run time in the tests; first in %q: %s",
				ruleOrCounter(name), plural(f.n, "time"), f.test, rules.FirstLine(f.first.Err))}))
	}
	return out
}

// ruleOrCounter names a RuleError's expression: rule "x" or counter "y".
func ruleOrCounter(name string) string {
	if c, ok := strings.CutPrefix(name, "counters."); ok {
		return fmt.Sprintf("counter %q", c)
	}
	return fmt.Sprintf("rule %q", name)
}
