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
	// text tells the CMs: the file's problems and the rules that run.
	text string
	// running is the rules installed from the copy: once another runs (a
	// reload of the mended file), the desk is no longer told.
	running *loaded
}

// keptRulesText says that file did not load at start and the rules kept
// at kept run in its place.
func keptRulesText(file string, err error, kept time.Time) string {
	return fmt.Sprintf("%s does not load, vigie started with the rules that loaded last (kept %s):\n%s\nMend the file and reload it (/reload, or vigie check %s first).",
		file, kept.UTC().Format(time.RFC3339), strings.Join(problems(err), "\n"), file)
}

// keptRulesRetry bounds the wait between two tries to tell the desk.
const keptRulesRetry = 5 * time.Minute

// tellKeptRules tells the desk, once, that vigie started on the kept rules:
// tried again while no desk took it, until the mended file is reloaded or
// ctx ends.
func (d *daemon) tellKeptRules(ctx context.Context, desk handlers.Desk) {
	if d.kept.running == nil || desk == nil {
		return
	}
	after := d.cfg.timer()
	wait := 5 * time.Second
	for d.current.Load() == d.kept.running {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := desk.Alert(actx, d.kept.text)
		cancel()
		if err == nil || errors.Is(err, handlers.ErrNoDesk) || ctx.Err() != nil {
			return
		}
		d.log.Warn("the desk was not told that the rule file does not load; tried again", "in", wait, "err", err)
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
