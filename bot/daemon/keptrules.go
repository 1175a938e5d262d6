package daemon

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/faq"
	"github.com/vigie-bot/vigie/rules"
)

// The rules that loaded last are kept in vigie's state directory, the rule
// file's text with the list and model files it read, so that a vigie
// started again in the night (a crash, a reboot, the host's deploy) on a
// rule file or a list edited since with a mistake runs the rules it ran,
// and tells the mistake, rather than not start and leave every place
// unmoderated until someone reads the service's log in the morning. They
// are kept as one set, in one file replaced whole: a start never runs the
// rules of one load with a list of another, which they never ran with. A
// file that does not load and has no set kept (the first start) still
// stops vigie run, as before.

// keptRules is where the rules of one rule file that loaded last are kept;
// path "" keeps none (no state directory, the starter pack built in).
type keptRules struct {
	// path is the set: a tar archive of the rule file's text, first, then
	// each list and model file it read, named as the rule file names it.
	path string
	log  *slog.Logger
	// now is the daemon's clock: the time each file of the set is kept at.
	now func() time.Time
}

// keptRulesFor is the set kept of file's rules in the state directory:
// STATE_DIRECTORY/rules, else XDG_STATE_HOME/vigie/rules, else
// HOME/.local/state/vigie/rules, named after the file's absolute path so that
// two vigie with two rule files on one host keep one each.
func keptRulesFor(getenv func(string) string, file string, log *slog.Logger, now func() time.Time) keptRules {
	dir := stateDir(getenv)
	if dir == "" || file == "" || file == vigie.EmbeddedName {
		return keptRules{log: log, now: now}
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return keptRules{log: log, now: now}
	}
	sum := sha256.Sum256([]byte(abs))
	name := filepath.Base(abs) + "." + hex.EncodeToString(sum[:6])
	return keptRules{path: filepath.Join(dir, "rules", name+".tar"), log: log, now: now}
}

// textOnly is where an older vigie kept the rule file's text alone, its lists
// then read beside the rule file: loaded when no set is kept yet, removed
// once one is.
func (k keptRules) textOnly() string { return strings.TrimSuffix(k.path, ".tar") }

// refusedMark is the file that says the last start ran on the set kept,
// the rule file not loading: a start on the mended file then tells the
// desk its end.
func (k keptRules) refusedMark() string { return strings.TrimSuffix(k.path, ".tar") + ".refused" }

// previous is the set kept before the last, run when the last cannot be
// read (a disk that failed, a copy cut short by a power cut).
func (k keptRules) previous() string { return strings.TrimSuffix(k.path, ".tar") + ".previous.tar" }

// save keeps rs's text and files as the rules that loaded last, the set
// kept before them, when they differ, as the previous. A disk that refuses
// it is logged: vigie runs, and only a restart on a broken file would not.
func (k keptRules) save(rs *rules.Ruleset) {
	if k.path == "" || rs.Source() == nil {
		return
	}
	set, err := keptSet(rs, k.now())
	if err == nil {
		err = os.MkdirAll(filepath.Dir(k.path), 0o700)
	}
	if err == nil && k.keptBefore(rs) {
		// replaceFile syncs the directory after its own rename, this one's
		// too; a crash between the two leaves the previous, which load reads.
		err = os.Rename(k.path, k.previous())
	}
	if err == nil {
		err = replaceFile(k.path, set)
	}
	if err != nil {
		k.log.Warn("the rules that load are not kept: a restart on a rule file or list that does not load will not start",
			"file", rs.File, "copy", k.path, "err", err)
		return
	}
	for _, old := range []string{k.textOnly(), k.refusedMark()} {
		if err := os.Remove(old); err != nil && !errors.Is(err, fs.ErrNotExist) {
			k.log.Warn("a file of the rules kept before is not removed", "file", old, "err", err)
		}
	}
}

// keptBefore reports whether the set kept holds rules other than rs's and
// can be read: it is then the previous set once rs's is kept. A set that
// cannot be read is not kept as the previous; the same rules kept again
// leave the previous as it is.
func (k keptRules) keptBefore(rs *rules.Ruleset) bool {
	raw, err := os.ReadFile(k.path)
	if err != nil {
		return false
	}
	src, files, _, err := readKeptSet(raw)
	if err != nil {
		return false
	}
	return !bytes.Equal(src, rs.Source()) || !maps.EqualFunc(files, rs.Files(), bytes.Equal)
}

// keptSet is rs's text and files as a tar archive, the text first, each
// file kept at at.
func keptSet(rs *rules.Ruleset, at time.Time) ([]byte, error) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	add := func(name string, data []byte) error {
		if err := w.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o600,
			ModTime: at, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := w.Write(data)
		return err
	}
	if err := add(filepath.Base(rs.File), rs.Source()); err != nil {
		return nil, err
	}
	files := rs.Files()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := add(name, files[name]); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// markRefused says that this start runs on the set kept.
func (k keptRules) markRefused(state string) {
	if k.path == "" {
		return
	}
	if err := replaceFile(k.refusedMark(), []byte(state+"\n")); err != nil {
		k.log.Warn("not written that vigie started on the rules kept: a start on the mended file will not tell the desk", "file", k.refusedMark(), "err", err)
	}
}

// refusedLast reports whether the last start ran on the set kept, the
// rule file not loading.
func (k keptRules) refusedLast() bool {
	if k.path == "" {
		return false
	}
	_, err := os.Stat(k.refusedMark())
	return err == nil
}

// keptLoad is the rules kept, compiled.
type keptLoad struct {
	rs      *rules.Ruleset
	matcher *faq.Matcher
	// at is when they were kept.
	at time.Time
	// damaged says why the set that loaded last cannot be run, when the
	// set kept before it runs in its place; "" when it runs.
	damaged string
}

// load compiles the rules kept for file, as if file held them, with the
// list and model files kept with them: the set that loaded last, else,
// when it cannot be read or does not load, the set kept before it. The
// error says, when there is a copy, which cannot be read and what to do.
func (k keptRules) load(file string) (keptLoad, error) {
	if k.path == "" {
		return keptLoad{}, errors.New("no copy of the rules that loaded last is kept (no state directory)")
	}
	last, lerr := k.loadSet(file, k.path)
	if lerr == nil {
		return last, nil
	}
	before, berr := k.loadSet(file, k.previous())
	if errors.Is(lerr, fs.ErrNotExist) && errors.Is(berr, fs.ErrNotExist) {
		// kept by an older vigie: the text alone, its lists read beside the file
		return k.loadSet(file, k.textOnly())
	}
	if berr == nil {
		if !errors.Is(lerr, fs.ErrNotExist) {
			before.damaged = lerr.Error()
		}
		return before, nil
	}
	mend := fmt.Sprintf("mend %s (vigie check %s) and start vigie again: the rules that load are then kept anew", file, file)
	if errors.Is(lerr, fs.ErrNotExist) {
		return keptLoad{}, fmt.Errorf("%w; %s", berr, mend)
	}
	if errors.Is(berr, fs.ErrNotExist) {
		return keptLoad{}, fmt.Errorf("%w, and no set is kept before it; %s", lerr, mend)
	}
	return keptLoad{}, fmt.Errorf("%w; %w; %s", lerr, berr, mend)
}

// loadSet compiles the rules kept at copyPath (a set, or the text alone an
// older vigie kept) for file.
func (k keptRules) loadSet(file, copyPath string) (keptLoad, error) {
	var opts rules.LoadOptions
	fi, err := os.Stat(copyPath)
	if err != nil {
		return keptLoad{}, err
	}
	raw, err := os.ReadFile(copyPath)
	if err != nil {
		return keptLoad{}, err
	}
	src, at := raw, fi.ModTime()
	if strings.HasSuffix(copyPath, ".tar") {
		var files map[string][]byte
		if src, files, at, err = readKeptSet(raw); err != nil {
			return keptLoad{}, fmt.Errorf("the copy %s of the rules that loaded last cannot be read: %w", copyPath, err)
		}
		opts.ReadFile = keptFiles(file, files)
	}
	rs, err := rules.Parse(file, src, opts)
	if err != nil {
		return keptLoad{}, fmt.Errorf("the copy %s of the rules that loaded last does not load either: %w", copyPath, err)
	}
	matcher, err := faq.Compile(rs)
	if err != nil {
		return keptLoad{}, fmt.Errorf("the copy %s of the rules that loaded last does not load either: %w", copyPath, err)
	}
	return keptLoad{rs: rs, matcher: matcher, at: at}, nil
}

// readKeptSet reads what keptSet wrote: the rule file's text, its files
// by name, and when they were kept.
func readKeptSet(set []byte) (src []byte, files map[string][]byte, at time.Time, err error) {
	r := tar.NewReader(bytes.NewReader(set))
	files = map[string][]byte{}
	for i := 0; ; i++ {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			if i == 0 {
				return nil, nil, time.Time{}, errors.New("empty")
			}
			return src, files, at, nil
		}
		if err != nil {
			return nil, nil, time.Time{}, err
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, nil, time.Time{}, err
		}
		if i == 0 {
			src, at = data, h.ModTime
		} else {
			files[h.Name] = data
		}
	}
}

// keptFiles is the rules.LoadOptions.ReadFile that answers the files kept,
// named as the rule file names them, for the rule file file.
func keptFiles(file string, files map[string][]byte) func(string) ([]byte, error) {
	byPath := make(map[string][]byte, len(files))
	for name, data := range files {
		// as rules.LoadOptions.ReadFile is asked for it
		p := name
		if !filepath.IsAbs(name) {
			p = path.Join(path.Dir(filepath.ToSlash(file)), filepath.ToSlash(name))
		}
		byPath[p] = data
	}
	return func(name string) ([]byte, error) {
		if data, ok := byPath[name]; ok {
			return data, nil
		}
		return nil, errors.New("not kept with the rules that loaded last")
	}
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
	// restarted says the file loads at this start, the last one having
	// run on the kept rules: its end is told, as a reload's is.
	restarted bool
}

// keptRulesText says that file did not load at start and the rules kept
// run in its place.
func keptRulesText(file string, err error, kept keptLoad) string {
	which := "the rules that loaded last"
	if kept.damaged != "" {
		which = "the rules kept before those that loaded last (" + kept.damaged + ")"
	}
	return fmt.Sprintf("%s does not load, vigie started with %s (kept %s):\n%s\nMend the file and reload it (/reload, or vigie check %s first).",
		file, which, kept.at.UTC().Format(time.RFC3339), strings.Join(problems(err), "\n"), file)
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

// keptRulesRestarted tells the CMs that the file is mended and runs since
// vigie started again on it.
func keptRulesRestarted(file string) string {
	return fmt.Sprintf("%s is mended: vigie started again on it, and its rules run, in place of those that loaded last.", file)
}

// keptRulesRetry bounds the wait between two tries to tell the desk.
const keptRulesRetry = 5 * time.Minute

// tellKeptRules tells the desk that vigie started on the kept rules, then,
// once the mended file is reloaded, that it runs again: each once across
// the instances on the store (told.Desk, as a rule that keeps failing), the
// others logging that another told it. The start is tried again while no
// desk takes it, until the mended file is reloaded or ctx ends; the end
// likewise until ctx ends. A start on the mended file, the last one having
// run on the kept rules, tells the end likewise: claimed, the state told is
// the file's loading, so that the same mistake made again is told again.
func (d *daemon) tellKeptRules(ctx context.Context, desk handlers.Desk) {
	if desk == nil {
		return
	}
	what := "rule file " + d.kept.file
	if d.kept.restarted {
		if !d.ruleFailures.told.First(what, "loads", d.now()) {
			d.log.Info("the rule file is mended: another instance told the desk", "file", d.kept.file)
			return
		}
		d.tellUntil(ctx, desk, keptRulesRestarted(d.kept.file), func() bool { return false })
		return
	}
	if d.kept.ended == nil {
		return
	}
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
