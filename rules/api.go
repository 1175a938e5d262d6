// Package rules reads the rule file a CM writes (YAML with expr expressions),
// compiles it once, and evaluates events against it: one event in, one verdict out.
package rules

// This file is the package's public surface, which the daemon, the CLI and the
// handlers program against. Implementations live in the other files.

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules/classify"
	"github.com/vigie-bot/vigie/store"
)

// Problem is one thing wrong in a rule file, with its position.
type Problem struct {
	File string
	Line int
	Col  int
	Msg  string
}

// String renders the problem as FILE:LINE:COL: message.
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
}

// LoadError lists every problem found while loading a rule file.
type LoadError struct {
	Problems []Problem
}

// Error gives one problem a line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Hours says when a rule applies.
type Hours string

// When rules apply.
const (
	HoursAlways Hours = "always"
	HoursAfter  Hours = "after"
	HoursOffice Hours = "office"
)

// Mode says whether a rule acts.
type Mode string

// Rule modes.
const (
	ModeEnforce Mode = "enforce"
	ModeShadow  Mode = "shadow"
)

// Office says what a rule does in office hours, when the CMs are there.
type Office string

// What rules do in office hours.
const (
	// OfficeAct: the rule acts as it does after hours (the default).
	OfficeAct Office = "act"
	// OfficeForward: the rule only forwards to the desk what it would have done,
	// and the CMs decide.
	OfficeForward Office = "forward"
)

// Options tune an Engine.
type Options struct {
	// Clock, when set, is the wall clock that live events are checked against.
	// Events are always judged on their own time (At): counters, strikes, ages
	// and office hours follow the platform's timestamp, so that a backlog
	// handed over at once after a restart is counted as it was written, not as
	// a flood. With a Clock, an At that is missing or later than Clock()+Skew
	// (a wrong clock, a forged event) is taken as Clock(), and one older than
	// Clock()-MaxAge as Clock()-MaxAge. Nil means the event's own time as it is,
	// which is what replay and the rule file's tests use.
	Clock func() time.Time
	// Skew is how far in the future an event's time may be (default 1m).
	Skew time.Duration
	// MaxAge is how far in the past an event's time may be (default 72h).
	MaxAge time.Duration
	Logger *slog.Logger
	// AfterHours, when set, says whether a time is after hours instead of the
	// file's office_hours: the desk's manual /mode override goes through it.
	AfterHours func(time.Time) bool
	// Forced, when set, says whether the desk forced a mode at a time (its
	// manual /mode): a forced mode wins over a community's own office hours,
	// which otherwise decide for its places instead of AfterHours.
	Forced func(time.Time) (afterHours, forced bool)
	// RuleError, when set, is told about every run-time failure of a rule's or
	// a counter's expression (the vigie_rule_errors_total metric); the same
	// failures are in Assessment.Errors.
	RuleError func(RuleError)
	// NoCounterValues leaves Verdict.Counters nil, NoReasons the matches'
	// Reason empty, and NoAlertMessages Assessment.Message nil: a caller
	// that reads none of them (a replay that writes no decisions) spares
	// every event their maps and strings. The counters are counted, the
	// rules decide and the alerts are checked all the same. Without
	// Message, Assessment.AlertMessage still writes the message of an
	// alert that held, when asked: a caller that reads one only when a
	// wave is raised spares the other events of the wave their messages.
	NoCounterValues bool
	NoReasons       bool
	NoAlertMessages bool
	// MessageOf, when set, names the message an event is about, the same
	// for the message and each of its edits ("" for none: bot.MessageNamer):
	// a rule's strike is then counted once a message, not again when an edit
	// of it is judged again, on any instance of the store or after a
	// restart (store.CallKeeper, one call for each strike).
	MessageOf func(bot.Event) string
	// ClaimFailed, when set, is told of each strike's claim (MessageOf) the
	// store did not answer, the strike then counted, maybe twice: claim is
	// "struck", event the event's key (handlers.Moderator.ClaimFailed logs
	// and counts them). Unset, each is logged at Warn with Logger.
	ClaimFailed func(claim, event string, err error)
	// Pending, when set, marks the ids seen pending in the store for that
	// long (store.Observation.Pending): the caller settles the mark once the
	// event's judging ended (Assessment.Seen). A retry of an id whose mark
	// was never settled, later than that, is judged again: its verdict says
	// Again, and nothing is counted again.
	Pending time.Duration
	// PlaceName, when set, names an event's place for the texts of the
	// actions and alerts that write {{space}}: a Telegram group's title
	// rather than its id. "" keeps the id.
	PlaceName PlaceNames
}

// Engine evaluates events against one compiled rule file. It is safe for
// concurrent use. A reload builds a new Engine and swaps it in.
type Engine struct {
	rs    *Ruleset
	store store.Store
	opts  Options
	impl  *engineState
}

// NewEngine returns an engine for rs that keeps its counters and strikes in st.
func NewEngine(rs *Ruleset, st store.Store, opts Options) *Engine {
	return newEngine(rs, st, opts)
}

// Ruleset is the compiled rule file the engine runs.
func (e *Engine) Ruleset() *Ruleset { return e.rs }

// Evaluate decides what to do with one event: it counts it (one store call), runs
// every rule in file order and returns the verdict. Enforced strike actions are
// recorded in the store before it returns; if that fails, the verdict is still
// returned, with the error. A rule whose expression fails at run time is skipped
// (and logged once); the other rules still decide.
func (e *Engine) Evaluate(ctx context.Context, ev bot.Event) (bot.Verdict, error) {
	return e.evaluate(ctx, ev)
}

// LoadOptions tune how a rule file is read.
type LoadOptions struct {
	// LookupEnv expands ${NAME}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// ReadFile reads list files named relative to the rule file's folder; nil means
	// os.ReadFile. The embedded starter pack reads from its embed.FS. It is given
	// the list's path joined to the rule file's folder, slash-separated and
	// cleaned: lists/insults.txt for {file: lists/insults.txt} in rules.example.yaml.
	ReadFile func(name string) ([]byte, error)
	// Models replace the models of the file's models: section by name,
	// instead of reading their files; a nil model switches one off (score()
	// reads 0). vigie replay compares a file with and without its models,
	// or with a model just trained, through it. A name the file does not
	// declare is ignored.
	Models map[string]*classify.Model
	// Confined keeps the list and model files to the rule file's folder and
	// below: a file: that is absolute or climbs out of it (..) is refused, as
	// is a symbolic link that leads out. The console sets it for a draft: a
	// console admin, who need not own the machine, would otherwise have
	// vigie read any file it can (/proc/self/environ and its tokens) into a
	// list, and the tests and backtests tell what it holds. The command line
	// does not: the operator owns the machine and the file.
	Confined bool
}

// Load reads, checks and compiles the rule file at path. Every problem is reported
// in a *LoadError, each as FILE:LINE:COL: message.
func Load(path string) (*Ruleset, error) {
	return loadFile(path, LoadOptions{})
}

// LoadWith is Load with options.
func LoadWith(path string, opts LoadOptions) (*Ruleset, error) {
	return loadFile(path, opts)
}

// Parse checks and compiles a rule file held in memory; file names it in messages
// and is the base for list files.
func Parse(file string, src []byte, opts LoadOptions) (*Ruleset, error) {
	return parse(file, src, opts)
}

// RuleInfo describes one rule of the file for listings (/rules, metrics).
type RuleInfo struct {
	Name     string
	Category string
	Mode     Mode
	Hours    Hours
	// Office is what the rule does in office hours: act or forward.
	Office Office
	// Priority is the priority of the cases it opens: high, low, or "" (normal).
	Priority string
	// Actions as written in the file, like timeout(10m).
	Actions []string
	Line    int
}

// Desk is the desk: section: where cases and alerts go, and who may decide.
type Desk struct {
	TelegramChat   string
	DiscordChannel string
	// DiscordGuilds and TelegramChats are the places vigie moderates and takes
	// commands from; empty leaves the choice to the platform's environment
	// setting and its default (docs/platforms.md, "The desk").
	DiscordGuilds []string
	TelegramChats []string
	// CMs are platform:id accounts, like telegram:123456789.
	CMs []string
}

// FAQEntry is one frequent question and its answer per language.
type FAQEntry struct {
	ID        string
	Questions []string
	// Answer by language code (fr, en); a lone text in the file is stored
	// under "".
	Answer map[string]string
	// Line and Col are where the entry is written.
	Line int
	Col  int
	// Keywords, when given, are words a question must contain to match.
	Keywords []string
	// Intents name the customer-service intents the entry answers, when its
	// examples do not say it; the FAQ handler knows them and checks them.
	Intents []string
	// Mode is the entry's mode as written (empty when not given); the FAQ
	// handler gives it a meaning.
	Mode string
	// Private asks for the answer to go to the author privately.
	Private bool
}

// FAQ is the faq: section (see faq.go for the file's keys). Defaults are
// applied: every field holds what the handler should use.
type FAQ struct {
	Threshold float64
	// SuggestThreshold is where near misses start (default 0.8 × Threshold).
	SuggestThreshold float64
	// Language answers when a message's language cannot be told (default fr).
	Language string
	// Synonyms are groups of words or phrases read as one.
	Synonyms [][]string
	// QuestionsOnly (default true) leaves alone the messages that do not look
	// like a question or a request.
	QuestionsOnly bool
	// AfterHours is what becomes of a question nothing matched after hours:
	// forward (default, a case for the morning) or silent.
	AfterHours string
	// ChannelCooldown and UserCooldown are how long an entry is not answered
	// again in one channel (default 5m) and to one member (default 1h); 0 is none.
	ChannelCooldown time.Duration
	UserCooldown    time.Duration
	// Tests are the FAQ's own tests, run by vigie test.
	Tests   []FAQTest
	Entries []FAQEntry
}

// FAQTest is one of the FAQ's tests: a question and the entry it should get.
type FAQTest struct {
	Question string
	// Expect is an entry id, or "none".
	Expect string
	// Decision, when given, is the decision expected too: answer, suggest,
	// forward or silent.
	Decision string
	Line     int
}

// TestResult is the outcome of one of the rule file's own tests.
type TestResult struct {
	Name string
	Line int
	// Failures says what differed from the expectation; empty means it passed.
	Failures []string
	// Errors are the run-time failures of rules and counters on the test's
	// events, in order; they do not fail the test by themselves.
	Errors []RuleError
}

// Passed reports whether the test passed.
func (r TestResult) Passed() bool { return len(r.Failures) == 0 }

// FailureLines are a failed test as vigie test prints it: "FAIL FILE:LINE:
// NAME", then each failure indented by four spaces. None for a test that
// passed.
func (r TestResult) FailureLines(file string) []string {
	if r.Passed() {
		return nil
	}
	out := make([]string, 0, 1+len(r.Failures))
	out = append(out, fmt.Sprintf("FAIL %s:%d: %s", file, r.Line, r.Name))
	for _, msg := range r.Failures {
		out = append(out, "    "+msg)
	}
	return out
}

// TestsFailedError is a rule file whose own tests (tests:, and the FAQ's)
// fail: a reload refuses it, as it refuses a file that does not load.
type TestsFailedError struct {
	File string
	// Failed are the tests that failed, of Total run.
	Failed []TestResult
	Total  int
}

// FailedTests returns the error of file's tests results, nil when they all
// passed.
func FailedTests(file string, results []TestResult) error {
	e := &TestsFailedError{File: file, Total: len(results)}
	for _, r := range results {
		if !r.Passed() {
			e.Failed = append(e.Failed, r)
		}
	}
	if len(e.Failed) == 0 {
		return nil
	}
	return e
}

// Lines are the failed tests as vigie test prints them.
func (e *TestsFailedError) Lines() []string {
	var out []string
	for _, r := range e.Failed {
		out = append(out, r.FailureLines(e.File)...)
	}
	return out
}

func (e *TestsFailedError) Error() string {
	return fmt.Sprintf("%s: %d of its %d tests failed:\n%s", e.File, len(e.Failed), e.Total, strings.Join(e.Lines(), "\n"))
}
