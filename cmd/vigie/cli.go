package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/rules"
)

// Exit codes, the same for every command.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and found a problem: a broken file, a failed test
	exitUsage = 2 // the command line itself is wrong
)

// command is one subcommand of vigie.
type command struct {
	name    string
	args    string // the synopsis after the name, for usage lines
	summary string
	// details, when set, follows the summary in the command's -h.
	details string
	run     func(c *cli, ctx context.Context, args []string) int
}

func commands() []command {
	return []command{
		{"run", "[--config FILE] [--listen ADDR] [--redis URL]",
			"start the bot: platforms, HTTP API and desk",
			"SIGINT or SIGTERM stops it gracefully; SIGHUP reloads the rule file.", (*cli).runDaemon},
		{"init", "[--force] [DIR]",
			"write the starter pack (rules.yaml, its schema, lists/ and models/) into DIR, to edit and run",
			"DIR defaults to the current directory. Existing files are left alone unless --force:\n" +
				"the command then names them and writes nothing.", (*cli).initPack},
		{"check", "[--config FILE]",
			"load a rule file and report its problems as FILE:LINE:COL: message",
			"Exit status 0 when the file loads (warnings included), 1 otherwise.", (*cli).check},
		{"test", "[--config FILE] [-v]",
			"run the rule file's own tests", "Exit status 1 when a test fails or the file does not load.", (*cli).test},
		{"replay", "[--config FILE] [--format text|json] [--decisions OUT.jsonl] [--workers N] [--model NAME=FILE|off] [--compare] EVENTS.jsonl...",
			"replay recorded events through the rules and score them against their labels",
			"The files (- for stdin) are one history, replayed in order on the events' own clock\n" +
				"with a fresh memory store. A line that is not a valid event is reported on stderr as\n" +
				"FILE:LINE: message and skipped. Events labelled ok or with a category are scored.",
			(*cli).replay},
		{"train", "--label LABEL (--out FILE | --cv K [--config FILE --model NAME]) [--from-store --redis URL] [EVENTS.jsonl...]",
			"train a text classifier for score() on labelled events and the desk's decisions",
			"Events labelled LABEL are positive, those labelled ok (--negatives) negative. --from-store adds the\n" +
				"desk's decided cases: kept or overturned (unhide, unban, untimeout) is negative, a case\n" +
				"of category LABEL deleted, hidden, timed out, kicked or banned positive. The same\n" +
				"examples and --seed make the same model. --cv K writes nothing: it trains K models,\n" +
				"each scored on the fold it did not see, and with --config and --model replays each\n" +
				"fold through the rule file without the model and with the fold's.",
			(*cli).train},
		{"faq", "[--config FILE] [--format text|json] \"QUESTION\" | --eval QUESTIONS.tsv | --learned [--redis URL]",
			"show what the FAQ would answer to a question, with the best entries' scores",
			"The decision is answer, suggest, forward or silent, asked now as a member would.\n" +
				"--eval measures the FAQ on a file of messages, ENTRY<TAB>message a line (none for a\n" +
				"message to leave alone): right, wrong and abstained, then the misses. --learned lists\n" +
				"each entry's intents and why it inherits them, and with --redis the wordings the CMs\n" +
				"taught by sending an FAQ answer from the desk.", (*cli).faqCommand},
		{"report", "[--since 24h] [--format text|csv|json|png] [--redis URL | --url URL] [--config FILE]",
			"the figures of the last period: events, actions, rules, cases, alerts, offenders",
			"With --redis the figures are read from the store vigie run uses; otherwise they are\n" +
				"asked from the running vigie (GET /v1/report). CSV has one row per rule and hour;\n" +
				"png is the chart of messages and actions per hour.",
			(*cli).report},
		{"cases", "list|show|decide [flags] [ID] [OUTCOME [ARG]]",
			"the open cases of a running vigie: list them, show one, decide it",
			"  vigie cases list [--status open|decided|all] [--rule NAME] [--author ID] [--place ID] ...\n" +
				"  vigie cases show ID\n" +
				"  vigie cases decide ID OUTCOME [ARG] [--by NAME]\n" +
				"OUTCOME is one of the desk's: keep, delete, hide, timeout [2h], ban [7d], kick,\n" +
				"reply \"TEXT\", unhide, unban, untimeout; the running vigie carries it out on the\n" +
				"platform. A case someone decided first is not decided again: its decision is shown.",
			(*cli).casesCommand},
		{"users", "add|list|delete [--role viewer|moderator|admin] [NAME]",
			"the web console's accounts, kept by the running vigie in its store",
			"  vigie users add NAME [--role viewer|moderator|admin]   (the password is read from\n" +
				"                        the first line of stdin; with none, one is made and printed)\n" +
				"  vigie users list\n" +
				"  vigie users delete NAME\n" +
				"Viewers read the queue, moderators decide cases, admins also change rules and accounts.",
			(*cli).usersCommand},
		{"schema", "",
			"print the JSON Schema of the rule file, for editors to complete keys and flag mistakes",
			"vigie init writes it as rules.schema.json beside rules.yaml, whose first line names it:\n" +
				"# yaml-language-server: $schema=rules.schema.json", (*cli).schema},
		{"version", "",
			"print the version of vigie, of Go and of the modules built in", "", (*cli).version},
	}
}

// run runs the command named by args[0] and returns the process's exit code.
func (c *cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		c.usage(c.stderr)
		return exitUsage
	}
	name := strings.TrimLeft(args[0], "-")
	switch name {
	case "h", "help":
		if len(args) > 1 {
			for _, cmd := range commands() {
				if cmd.name == args[1] {
					return cmd.run(c, ctx, []string{"-h"})
				}
			}
			fmt.Fprintf(c.stderr, "vigie: unknown command %q\n", args[1])
			c.usage(c.stderr)
			return exitUsage
		}
		c.usage(c.stdout)
		return exitOK
	case "version":
		// --version, as many tools take it.
		return c.version(ctx, args[1:])
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(c, ctx, args[1:])
		}
	}
	fmt.Fprintf(c.stderr, "vigie: unknown command %q\n", args[0])
	c.usage(c.stderr)
	return exitUsage
}

// fail says err on stderr, as the command cmd's, and returns exitFail.
func (c *cli) fail(cmd string, err error) int {
	fmt.Fprintf(c.stderr, "vigie %s: %v\n", cmd, err)
	return exitFail
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintf(w, "vigie watches community spaces and moderates them by the rules in a YAML file.\n\n")
	fmt.Fprintf(w, "usage: vigie <command> [flags] [arguments]\n\ncommands:\n")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "\nRun 'vigie <command> -h' for the flags of a command.\n")
}

// flags is a subcommand's flag set with vigie's conventions: -h prints the usage
// on stdout and exits 0, a bad flag prints it on stderr and exits 2, and flags
// may also follow the positional arguments.
type flags struct {
	*flag.FlagSet
	c   *cli
	cmd command
}

func (c *cli) flags(name string) *flags {
	var cmd command
	for _, x := range commands() {
		if x.name == name {
			cmd = x
		}
	}
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	// Usage is printed by parse, on the stream that fits; flag's own call is muted.
	fs.Usage = func() {}
	return &flags{FlagSet: fs, c: c, cmd: cmd}
}

func (f *flags) printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: vigie %s %s\n\n%s.\n", f.cmd.name, f.cmd.args, capitalise(f.cmd.summary))
	if f.cmd.details != "" {
		fmt.Fprintf(w, "%s\n", f.cmd.details)
	}
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nflags:\n")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(f.c.stderr)
	}
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// parse parses args and returns the positional arguments. Flags may come before
// or after them ("vigie replay day1.jsonl --format json"); after "--" every
// argument is positional. When it returns ok == false, the exit code is code.
func (f *flags) parse(args []string) (pos []string, code int, ok bool) {
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printUsage(f.c.stdout)
				return nil, exitOK, false
			}
			// flag has already printed the error itself.
			f.printUsage(f.c.stderr)
			return nil, exitUsage, false
		}
		rest := f.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), 0, true
		}
		if len(rest) == 0 {
			return pos, 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a wrong command line and returns the usage exit code.
func (f *flags) usageError(format string, a ...any) int {
	fmt.Fprintf(f.c.stderr, "vigie %s: %s\n", f.cmd.name, fmt.Sprintf(format, a...))
	fmt.Fprintf(f.c.stderr, "usage: vigie %s %s\n", f.cmd.name, f.cmd.args)
	return exitUsage
}

// configFlag declares --config, shared by the commands that read a rule file.
// urlFlag is --url, the running vigie that a command asks over HTTP; what
// comes first in the usage (like "without --redis, ") is said before.
func (f *flags) urlFlag(first string) *string {
	return f.String("url", envOr(f.c.getenv, "VIGIE_URL", listenURL(f.c.getenv)),
		first+"ask the running vigie at `URL` (env VIGIE_URL, else the address of VIGIE_LISTEN); the admin token sent is VIGIE_ADMIN_TOKEN, else, on this machine, the one vigie run wrote for this user")
}

// listenURL is where vigie run listens when it reads the same environment:
// VIGIE_LISTEN's address (a listener on every address is asked at the
// loopback address of its family), else the default. A shell that exported
// VIGIE_LISTEN for vigie run has vigie cases, users and report ask that
// vigie without VIGIE_URL.
func listenURL(getenv func(string) string) string {
	scheme := "http"
	if getenv("VIGIE_TLS_CERT") != "" {
		scheme = "https"
	}
	addr := cmp.Or(getenv("VIGIE_LISTEN"), daemon.DefaultListen)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + daemon.DefaultListen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func (f *flags) configFlag() *string {
	return f.String("config", "", "read the rules from `FILE` (default: "+
		strings.Join(vigie.DefaultConfigs, ", then ")+", then the starter pack built in)")
}

// loadRules loads the rule file, or prints why it could not and returns false.
// The problems of a broken file are the command's result, so they go to stdout,
// one FILE:LINE:COL: message a line, for editors and scripts; anything else that
// stopped the load (a missing file) is an error on stderr.
func (c *cli) loadRules(cmd, path string) (*rules.Ruleset, string, bool) {
	return c.loadRulesWith(cmd, path, rules.LoadOptions{})
}

// loadRulesWith is loadRules with options.
func (c *cli) loadRulesWith(cmd, path string, opts rules.LoadOptions) (*rules.Ruleset, string, bool) {
	rs, name, err := vigie.LoadRulesWith(path, opts)
	if err == nil {
		return rs, name, true
	}
	var le *rules.LoadError
	if errors.As(err, &le) {
		for _, p := range le.Problems {
			fmt.Fprintln(c.stdout, p.String())
		}
		return nil, name, false
	}
	fmt.Fprintf(c.stderr, "vigie %s: %v\n", cmd, err)
	return nil, name, false
}
