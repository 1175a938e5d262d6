package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/faq"
	"github.com/vigie-bot/vigie/rules"
)

// The text of the rules that loaded last is kept in vigie's state directory,
// so that a vigie started again in the night (a crash, a reboot, the host's
// deploy) on a rule file edited since with a mistake runs the rules it ran,
// and tells the mistake, rather than not start and leave every place
// unmoderated until someone reads the service's log in the morning. A file
// that does not load and has no copy kept (the first start) still stops
// vigie run, as before.

// keptRules is where the rules of one rule file that loaded last are kept;
// path "" keeps none (no state directory, the starter pack built in).
type keptRules struct {
	path string
	log  *slog.Logger
}

// keptRulesFor is the copy of file's rules in the state directory:
// STATE_DIRECTORY/rules, else XDG_STATE_HOME/vigie/rules, else
// HOME/.local/state/vigie/rules, named after the file's absolute path so that
// two vigie with two rule files on one host keep one each.
func keptRulesFor(getenv func(string) string, file string, log *slog.Logger) keptRules {
	dir := stateDir(getenv)
	if dir == "" || file == "" || file == vigie.EmbeddedName {
		return keptRules{log: log}
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return keptRules{log: log}
	}
	sum := sha256.Sum256([]byte(abs))
	name := filepath.Base(abs) + "." + hex.EncodeToString(sum[:6])
	return keptRules{path: filepath.Join(dir, "rules", name), log: log}
}

// save keeps rs's text as the rules that loaded last. A disk that refuses
// it is logged: vigie runs, and only a restart on a broken file would not.
func (k keptRules) save(rs *rules.Ruleset) {
	if k.path == "" || rs.Source() == nil {
		return
	}
	err := os.MkdirAll(filepath.Dir(k.path), 0o700)
	if err == nil {
		err = replaceFile(k.path, rs.Source())
	}
	if err != nil {
		k.log.Warn("the rules that load are not kept: a restart on a rule file that does not load will not start",
			"file", rs.File, "copy", k.path, "err", err)
	}
}

// load compiles the rules kept for file, as if file held them (its lists
// are read beside it), and says when they were kept.
func (k keptRules) load(file string) (*rules.Ruleset, *faq.Matcher, time.Time, error) {
	if k.path == "" {
		return nil, nil, time.Time{}, errors.New("no copy of the rules that loaded last is kept (no state directory)")
	}
	fi, err := os.Stat(k.path)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	src, err := os.ReadFile(k.path)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	rs, err := rules.Parse(file, src, rules.LoadOptions{})
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("the copy %s of the rules that loaded last does not load either: %w", k.path, err)
	}
	matcher, err := faq.Compile(rs)
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("the copy %s of the rules that loaded last does not load either: %w", k.path, err)
	}
	return rs, matcher, fi.ModTime(), nil
}

// keptStart is what a vigie started on the kept rules says of its rule file.
type keptStart struct {
	// file is the rule file that does not load.
	file string
	// text tells the CMs: the file's problems and the rules that run.
	text string
	// state names the file's problems, for the instances on one store to
	// tell the desk each of them once (told.Desk): the same mistake found by
	// two instances started at once is told by one, another one is told.
	state string
	// ended is closed when a reload of the mended file replaces the kept
	// rules (under reloadMu, over set then); nil when the file loaded at start.
	ended chan struct{}
	over  bool
}

// keptRulesText says that file did not load at start and the rules kept
// at kept run in its place.
func keptRulesText(file string, err error, kept time.Time) string {
	return fmt.Sprintf("%s does not load, vigie started with the rules that loaded last (kept %s):\n%s\nMend the file and reload it (/reload, or vigie check %s first).",
		file, kept.UTC().Format(time.RFC3339), strings.Join(problems(err), "\n"), file)
}

// keptRulesState is the state told of file when it does not load with err:
// its problems, hashed (the copy's time, which differs by host, left out).
func keptRulesState(err error) string {
	sum := sha256.Sum256([]byte(strings.Join(problems(err), "\n")))
	return "does not load " + hex.EncodeToString(sum[:6])
}

// keptRulesMended tells the CMs that the file is mended and runs.
func keptRulesMended(file string) string {
	return fmt.Sprintf("%s is mended and reloaded: its rules run, in place of those that loaded last.", file)
}

// keptRulesRetry bounds the wait between two tries to tell the desk.
const keptRulesRetry = 5 * time.Minute

// tellKeptRules tells the desk that vigie started on the kept rules, then,
// once the mended file is reloaded, that it runs again: each once across
// the instances on the store (told.Desk, as a rule that keeps failing), the
// others logging that another told it. The start is tried again while no
// desk takes it, until the mended file is reloaded or ctx ends; the end
// likewise until ctx ends.
func (d *daemon) tellKeptRules(ctx context.Context, desk handlers.Desk) {
	if d.kept.ended == nil || desk == nil {
		return
	}
	what := "rule file " + d.kept.file
	mended := func() bool {
		select {
		case <-d.kept.ended:
			return true
		default:
			return false
		}
	}
	if !mended() {
		if d.ruleFailures.told.First(what, d.kept.state, d.now()) {
			d.tellUntil(ctx, desk, d.kept.text, mended)
		} else {
			d.log.Info("the rule file does not load: another instance told the desk", "file", d.kept.file)
		}
	}
	select {
	case <-ctx.Done():
		return
	case <-d.kept.ended:
	}
	if !d.ruleFailures.told.First(what, "loads", d.now()) {
		d.log.Info("the rule file is mended: another instance told the desk", "file", d.kept.file)
		return
	}
	d.tellUntil(ctx, desk, keptRulesMended(d.kept.file), func() bool { return false })
}

// tellUntil shows text on desk, tried again while no desk takes it, until
// done or ctx ends.
func (d *daemon) tellUntil(ctx context.Context, desk handlers.Desk, text string, done func() bool) {
	after := d.cfg.timer()
	wait := 5 * time.Second
	for !done() {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := desk.Alert(actx, text)
		cancel()
		if err == nil || errors.Is(err, handlers.ErrNoDesk) || ctx.Err() != nil {
			return
		}
		d.log.Warn("the desk was not told of the rule file; tried again", "in", wait, "err", err)
		tick := make(chan struct{})
		stop := after(wait, func() { close(tick) })
		select {
		case <-ctx.Done():
			stop()
			return
		case <-tick:
		}
		wait = min(2*wait, keptRulesRetry)
	}
}
