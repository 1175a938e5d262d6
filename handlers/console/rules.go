package console

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/lockedfile"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/faq"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/replay"
)

// RuleFile is what the rules page needs from the running vigie.
type RuleFile struct {
	// Path is the rule file that runs; "" when the rules are the starter pack
	// built into the binary, which the page shows but cannot change.
	Path func() string
	// Reload reads the file again and runs it, or says why it refused (the
	// old rules then keep running). It reads its list and model files only
	// in the rule file's folder or below, as compile does a draft's: an
	// applied draft or a version rolled back are a console admin's choice.
	Reload func(by string) error
	// History returns the recent events, oldest first, for backtests.
	History func(ctx context.Context) ([]bot.Event, error)
	// Running returns the rules that run now, as they were loaded: the
	// backtest's "now". The file may say otherwise (edited, not reloaded
	// yet). Without it, the backtest loads the file.
	Running func() *rules.Ruleset
	// Embedded is the text of the built-in starter pack, shown when Path is "".
	Embedded []byte
}

// maxDraft bounds a draft sent to the rules page.
const maxDraft = 1 << 20

// versionsDir is where the versions of a rule file are kept, beside it.
func versionsDir(path string) string { return path + ".versions" }

// ruleVersion is one kept version of the rule file.
type ruleVersion struct {
	Name string // file name in the versions folder: when and by whom
	At   time.Time
	By   string
	// Seq tells apart the versions kept in one second by one account
	// (STAMP-2_NAME.yaml is the second): none is written over another.
	Seq int
}

// versionStamp is the time in a version's name.
const versionStamp = "20060102T150405Z"

// parseVersion reads a version's file name: STAMP[-SEQ]_NAME.yaml.
func parseVersion(name string) (ruleVersion, bool) {
	base, ok := strings.CutSuffix(name, ".yaml")
	at, by, found := strings.Cut(base, "_")
	if !ok || !found || by == "" {
		return ruleVersion{}, false
	}
	stamp, seq, hasSeq := strings.Cut(at, "-")
	n := 1
	if hasSeq {
		var err error
		if n, err = strconv.Atoi(seq); err != nil || n < 2 {
			return ruleVersion{}, false
		}
	}
	t, err := time.Parse(versionStamp, stamp)
	if err != nil {
		return ruleVersion{}, false
	}
	return ruleVersion{Name: name, At: t, By: by, Seq: n}, true
}

// versions lists the kept versions, newest first.
func versions(path string) []ruleVersion {
	entries, _ := os.ReadDir(versionsDir(path))
	var out []ruleVersion
	for _, e := range entries {
		if v, ok := parseVersion(e.Name()); ok && e.Type().IsRegular() {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b ruleVersion) int {
		return cmp.Or(b.At.Compare(a.At), cmp.Compare(b.Seq, a.Seq), cmp.Compare(b.Name, a.Name))
	})
	return out
}

// keepVersion writes old as a new version named by now and by, and returns
// its path. A version is never written over: a second one in the same
// second by the same account is STAMP-2_NAME.yaml, and so on.
func keepVersion(dir string, now time.Time, by string, old []byte) (string, error) {
	stamp := now.UTC().Format(versionStamp)
	for n := 1; n <= 1000; n++ {
		name := stamp + "_" + by + ".yaml"
		if n > 1 {
			name = stamp + "-" + strconv.Itoa(n) + "_" + by + ".yaml"
		}
		kept := filepath.Join(dir, name)
		f, err := os.OpenFile(kept, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(old)
		if err == nil {
			err = f.Sync() // the version kept is the way back: on the disk before the file changes
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(kept)
			return "", err
		}
		return kept, nil
	}
	return "", fmt.Errorf("more than 1000 versions kept at %s by %s", stamp, by)
}

// textHash names a text of the rule file: a draft carries the hash of the
// text it was made from (the page's base field), and is applied only over
// that text.
func textHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// written is what the console last wrote as the rule file, and who: kept
// beside the versions (.written) so that an admin whose draft is refused
// because the file changed is told by whom, whichever instance wrote it.
type written struct {
	Hash string    `json:"sha256"`
	By   string    `json:"by"`
	What string    `json:"what"`
	At   time.Time `json:"at"`
}

func writtenFile(path string) string { return filepath.Join(versionsDir(path), ".written") }

// changedBy says who made the rule file's text cur, as a CM reads it.
func changedBy(path string, cur []byte) string {
	var w written
	if b, err := os.ReadFile(writtenFile(path)); err == nil && json.Unmarshal(b, &w) == nil && w.Hash == textHash(cur) {
		return fmt.Sprintf("%s %s from the console at %s", w.By, w.What, w.At.UTC().Format("15:04:05 MST, 2 Jan"))
	}
	if st, err := os.Stat(path); err == nil {
		return "it was changed outside the console (by hand, or by another program) at " + st.ModTime().UTC().Format("15:04:05 MST, 2 Jan")
	}
	return "it was changed outside the console"
}

// problem is a problem of a draft, as the page shows it.
type problem struct {
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
	Warning bool   `json:"warning,omitempty"`
}

// compile loads a draft as if it were the rule file at path (its lists are
// read beside it), and returns its problems, errors first. A draft's list
// and model files must be in the rule file's folder or below
// (rules.LoadOptions.Confined): a console admin need not own the machine,
// and a list read from /proc/self/environ would give its tokens away
// through the tests and the backtest.
func compile(path string, draft []byte) (*rules.Ruleset, []problem) {
	return compileWith(path, draft, rules.LoadOptions{Confined: true})
}

func compileWith(path string, draft []byte, opts rules.LoadOptions) (*rules.Ruleset, []problem) {
	name := cmp.Or(path, "rules.yaml")
	rs, err := rules.Parse(name, draft, opts)
	var out []problem
	var le *rules.LoadError
	switch {
	case errors.As(err, &le):
		for _, p := range le.Problems {
			out = append(out, problem{Line: p.Line, Col: p.Col, Message: p.Msg})
		}
		return nil, out
	case err != nil:
		return nil, []problem{{Line: 1, Col: 1, Message: err.Error()}}
	}
	if _, err := faq.Compile(rs); err != nil {
		return nil, []problem{{Line: 1, Col: 1, Message: err.Error()}}
	}
	for _, w := range rs.Warnings {
		out = append(out, problem{Line: w.Line, Col: w.Col, Message: w.Msg, Warning: true})
	}
	return rs, out
}

// rulesPage shows the rule file that runs, in an editor for admins.
func (c *Console) rulesPage(w http.ResponseWriter, r *http.Request, a account) {
	rf := c.o.Rules
	path := rf.Path()
	text := rf.Embedded
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			http.Error(w, "rules: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		text = b
	}
	flash, failed := c.flash(r)
	c.render(w, http.StatusOK, "rules.html", map[string]any{
		"Account": a, "Nav": "rules", "Path": path, "Text": string(text),
		"Editable": path != "" && may(a.Role, RoleAdmin), "Versions": versions(path),
		"Flash": flash, "Failed": failed, "Base": textHash(text),
	})
}

// draft reads the draft a form sent (of at most maxDraft: guardForm).
func draft(w http.ResponseWriter, r *http.Request) []byte {
	return []byte(strings.ReplaceAll(r.PostFormValue("draft"), "\r\n", "\n"))
}

// maxCompiles is how many drafts are compiled at a time (checked as the
// admin types, tested, applied). A draft of 1 MiB (10,000 rules) takes some
// 3 s of a core and 200 MB to compile: the editor's checks overlap as an
// admin types, and any number of them at once would take the memory.
const maxCompiles = 2

// compiling lets next run when one of maxCompiles turns is free; the
// others wait for it in turn, and one whose browser has gone is not run.
func (c *Console) compiling(next func(http.ResponseWriter, *http.Request, account)) func(http.ResponseWriter, *http.Request, account) {
	return func(w http.ResponseWriter, r *http.Request, a account) {
		select {
		case c.compiles <- struct{}{}:
			defer func() { <-c.compiles }()
		case <-r.Context().Done():
			return
		}
		if r.Context().Err() != nil {
			return // gone while it waited
		}
		next(w, r, a)
	}
}

// rulesCheck answers a draft's problems, for the editor to show as the CM
// types.
func (c *Console) rulesCheck(w http.ResponseWriter, r *http.Request, _ account) {
	_, ps := compile(c.o.Rules.Path(), draft(w, r))
	if ps == nil {
		ps = []problem{}
	}
	writeJSON(w, map[string]any{"problems": ps})
}

// testResult is one of the file's own tests as the page shows it.
type testResult struct {
	Name     string   `json:"name"`
	Line     int      `json:"line"`
	Failures []string `json:"failures,omitempty"`
}

// rulesTest runs the draft's own tests, as vigie test does.
func (c *Console) rulesTest(w http.ResponseWriter, r *http.Request, _ account) {
	rs, ps := compile(c.o.Rules.Path(), draft(w, r))
	if rs == nil {
		writeJSON(w, map[string]any{"problems": ps})
		return
	}
	results := fileTests(r.Context(), rs)
	out := make([]testResult, len(results))
	failed := 0
	for i, t := range results {
		out[i] = testResult{Name: t.Name, Line: t.Line, Failures: t.Failures}
		if !t.Passed() {
			failed++
		}
	}
	writeJSON(w, map[string]any{"passed": len(results) - failed, "failed": failed, "results": out})
}

// fileTests runs a compiled draft's own tests and its FAQ's, as vigie test
// does.
func fileTests(ctx context.Context, rs *rules.Ruleset) []rules.TestResult {
	m, _ := faq.Compile(rs)
	results := rs.RunTests(ctx)
	return append(results, m.RunTests(faq.TestsOf(rs.FAQ))...)
}

// ruleDiff is what one rule would have done differently on the history.
type ruleDiff struct {
	Rule   string `json:"rule"`
	Before int    `json:"before"`
	After  int    `json:"after"`
	// Added are examples of events the draft flags and the running rules do
	// not; Removed the other way round.
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// examplesPerRule bounds the examples a backtest shows for a rule.
const examplesPerRule = 5

// rulesBacktest replays the recent events through the running rules and
// through the draft, each on a fresh memory store as vigie replay does, and
// answers rule by rule what would have been flagged differently.
func (c *Console) rulesBacktest(w http.ResponseWriter, r *http.Request, _ account) {
	rs, ps := compile(c.o.Rules.Path(), draft(w, r))
	if rs == nil {
		writeJSON(w, map[string]any{"problems": ps})
		return
	}
	// One backtest at a time: each replays the recent events twice (100,000
	// of them: some 4 s of the cores and 400 MB), and a few at once, or an
	// impatient admin's clicks, would take the machine from the live rules.
	select {
	case c.backtests <- struct{}{}:
		defer func() { <-c.backtests }()
	default:
		w.Header().Set("Retry-After", "5")
		http.Error(w, "A backtest is running already: try again when it ends.", http.StatusTooManyRequests)
		return
	}
	// The running rules are the operator's file, as vigie loaded it: not
	// the file as it is now, which may have changed since.
	var running *rules.Ruleset
	if c.o.Rules.Running != nil {
		running = c.o.Rules.Running()
	}
	if running == nil {
		running, _ = compileWith(c.o.Rules.Path(), c.runningText(), rules.LoadOptions{})
	}
	events, err := c.o.Rules.History(r.Context())
	if err != nil {
		http.Error(w, "recent events: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	// On the wall clock: the time taken is a speed, measured.
	start := time.Now()
	// The draft and the running rules are replayed side by side.
	var before map[string][]int
	var berr error
	var wg sync.WaitGroup
	if running != nil {
		wg.Go(func() { before, berr = backtest(r.Context(), running, events) })
	}
	after, err := backtest(r.Context(), rs, events)
	wg.Wait()
	err = errors.Join(err, berr)
	if err != nil {
		http.Error(w, "backtest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var diffs []ruleDiff
	names := map[string]bool{}
	for n := range before {
		names[n] = true
	}
	for n := range after {
		names[n] = true
	}
	for n := range names {
		d := ruleDiff{Rule: n, Before: len(before[n]), After: len(after[n])}
		d.Added = examples(events, minus(after[n], before[n]))
		d.Removed = examples(events, minus(before[n], after[n]))
		if d.Before != d.After || len(d.Added) > 0 || len(d.Removed) > 0 {
			diffs = append(diffs, d)
		}
	}
	slices.SortFunc(diffs, func(a, b ruleDiff) int { return cmp.Compare(a.Rule, b.Rule) })
	var from, to time.Time
	if len(events) > 0 {
		from, to = events[0].At, events[len(events)-1].At
	}
	if diffs == nil {
		diffs = []ruleDiff{}
	}
	writeJSON(w, map[string]any{"events": len(events), "from": from, "to": to, "changed": diffs,
		"took": time.Since(start).Round(time.Millisecond).String()})
}

// backtest replays events through rs, on a fresh memory store as vigie
// replay does, and returns for each rule the positions of the events it
// matched.
func backtest(ctx context.Context, rs *rules.Ruleset, events []bot.Event) (map[string][]int, error) {
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, ev := range events {
		ev.Label = ""
		if err := enc.Encode(ev); err != nil {
			return nil, err
		}
	}
	pos := make(map[string]int, len(events))
	for i, ev := range events {
		pos[ev.Key()] = i
	}
	hits := map[string][]int{}
	opts := replay.Options{Verdict: func(ev bot.Event, v bot.Verdict) {
		i, ok := pos[ev.Key()]
		if !ok {
			return
		}
		for _, m := range v.Matches {
			// A shadow rule only says what it would do: the backtest names
			// it so, apart from the same rule enforced in the other file.
			name := m.Rule
			if m.Shadow {
				name += " (shadow)"
			}
			hits[name] = append(hits[name], i)
		}
	}}
	if _, err := replay.Run(ctx, rs, []replay.Input{replay.Stream("history", &in)}, opts); err != nil {
		return nil, err
	}
	return hits, nil
}

// minus is what a has and b has not; both are sorted.
func minus(a, b []int) []int {
	var out []int
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}

func examples(events []bot.Event, at []int) []string {
	var out []string
	for _, i := range at[:min(len(at), examplesPerRule)] {
		e := events[i]
		out = append(out, fmt.Sprintf("%s %s: %s", e.Platform, cmp.Or(e.Author.Name, e.Author.ID), e.Text))
	}
	return out
}

// runningText is the rule file's text now.
func (c *Console) runningText() []byte {
	if p := c.o.Rules.Path(); p != "" {
		b, _ := os.ReadFile(p)
		return b
	}
	return c.o.Rules.Embedded
}

// rulesApply writes the draft as the rule file, keeping the text it replaces
// as a version, and reloads. A draft that does not load, or whose own tests
// fail, is not written (the reload would refuse it too); a reload that
// refuses puts the old text back. A refused draft comes back in the editor
// as it was sent, with the refusal, so the CM corrects it rather than types
// it again.
//
// A draft is applied only over the text it was made from (its base): when
// the file changed since (another admin applied or rolled back, the
// operator edited it), it is refused, and the page shows the draft and the
// file as it is now, for the CM to bring the other change in.
func (c *Console) rulesApply(w http.ResponseWriter, r *http.Request, a account) {
	text := draft(w, r)
	base := r.PostFormValue("base")
	rs, ps := compile(c.o.Rules.Path(), text)
	if rs == nil {
		c.rulesRefused(w, r, a, text, base, nil, fmt.Sprintf("Not applied: line %d:%d: %s", ps[0].Line, ps[0].Col, ps[0].Message))
		return
	}
	var failed *rules.TestsFailedError
	if errors.As(rules.FailedTests(cmp.Or(c.o.Rules.Path(), "rules.yaml"), fileTests(r.Context(), rs)), &failed) {
		c.rulesRefused(w, r, a, text, base, nil, fmt.Sprintf("Not applied: %d of its %d tests failed, the running rules stay:\n%s",
			len(failed.Failed), failed.Total, strings.Join(failed.Lines(), "\n")))
		return
	}
	res := c.install(a, base, text, "applied a change")
	switch {
	case res.current != nil:
		msg := "Not applied: the rule file changed since this draft was made (" + res.by + "). " +
			"Your draft is kept in the editor, and the file as it is now is shown below it: bring its changes into your draft, then apply again."
		if base == "" {
			msg = "Not applied: the draft does not say which text of the rule file it was made from. " +
				"Your draft is kept in the editor, and the file as it is now is shown below it: compare them, then apply again."
		}
		c.rulesRefused(w, r, a, text, textHash(res.current), res.current, msg)
	case !res.ok:
		c.rulesRefused(w, r, a, text, base, nil, res.msg)
	default:
		c.rulesBack(w, r, res.msg, false)
	}
}

// rulesRefused shows the rules page with a refused draft in the editor, as
// it was sent, and why it was refused; the rule file is the running one.
// base is the text the draft is now taken to be made from; current, when
// the file changed since the draft was made, is the file as it is now.
func (c *Console) rulesRefused(w http.ResponseWriter, r *http.Request, a account, text []byte, base string, current []byte, msg string) {
	path := c.o.Rules.Path()
	c.render(w, http.StatusUnprocessableEntity, "rules.html", map[string]any{
		"Account": a, "Nav": "rules", "Path": path, "Text": string(text), "Kept": true,
		"Editable": path != "" && may(a.Role, RoleAdmin), "Versions": versions(path),
		"Flash": msg, "Failed": true, "Base": base, "Current": string(current), "Changed": current != nil,
	})
}

// rulesRollback makes a kept version the rule file again, over the text
// the page was made from (its base) only.
func (c *Console) rulesRollback(w http.ResponseWriter, r *http.Request, a account) {
	path := c.o.Rules.Path()
	name := r.PostFormValue("version")
	// Only a version the page lists: not the folder's lock or record, nor
	// any other file a name might lead to.
	if !slices.ContainsFunc(versions(path), func(v ruleVersion) bool { return v.Name == name }) {
		c.rulesBack(w, r, "No such version.", true)
		return
	}
	text, err := os.ReadFile(filepath.Join(versionsDir(path), name))
	if err != nil {
		c.rulesBack(w, r, "No such version.", true)
		return
	}
	res := c.install(a, r.PostFormValue("base"), text, "rolled back to "+name)
	if res.current != nil {
		c.rulesBack(w, r, "Not rolled back: the rule file changed since this page was loaded ("+res.by+"). "+
			"It is shown as it is now: roll back again if you still want to.", true)
		return
	}
	c.rulesBack(w, r, res.msg, !res.ok)
}

// installed is what install did.
type installed struct {
	msg string
	ok  bool
	// current, when the rule file is no longer the text the change was
	// made from, is the file as it is now, and by says who made it so.
	current []byte
	by      string
}

// install writes text as the rule file and reloads it, and says what it did;
// !ok when it refused, and the old rules keep running. Nothing to change is
// ok. It writes only over the text whose hash is base; one install runs at a
// time, in this process and in every vigie on this machine that edits the
// same file (a lock file in the versions folder), so that two admins'
// changes cannot interleave.
func (c *Console) install(a account, base string, text []byte, what string) installed {
	path := c.o.Rules.Path()
	if path == "" {
		return installed{msg: "The rules are the starter pack built into vigie: write them out with vigie init, and run vigie with --config."}
	}
	dir := versionsDir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return installed{msg: err.Error()}
	}
	c.rulesMu.Lock()
	defer c.rulesMu.Unlock()
	unlock, err := lockedfile.MutexAt(filepath.Join(dir, ".lock")).Lock()
	if err != nil {
		return installed{msg: "Not done: the rule file could not be locked: " + err.Error()}
	}
	defer unlock()
	old, err := os.ReadFile(path)
	if err != nil {
		return installed{msg: err.Error()}
	}
	if bytes.Equal(old, text) {
		return installed{msg: "Nothing changed.", ok: true}
	}
	if base != textHash(old) {
		return installed{current: old, by: changedBy(path, old)}
	}
	kept, err := keepVersion(dir, c.o.Now(), a.Name, old)
	if err != nil {
		return installed{msg: err.Error()}
	}
	if err := writeFile(path, text); err != nil {
		return installed{msg: err.Error()}
	}
	if err := c.o.Rules.Reload("console:" + a.Name); err != nil {
		msg := "Refused, the old rules keep running: " + err.Error()
		// The old text goes back only over this draft: a file changed
		// meanwhile (by hand, then SIGHUP) is someone else's, kept.
		switch now, rerr := os.ReadFile(path); {
		case rerr != nil:
			err = errors.Join(err, rerr)
			msg += " (the rule file could not be read again, and was left as it is: " + rerr.Error() + ")"
		case !bytes.Equal(now, text):
			msg += " (the rule file was changed meanwhile: " + changedBy(path, now) + "; it is left as it is now)"
		default:
			if werr := writeFile(path, old); werr != nil {
				err = errors.Join(err, werr)
				msg += " (the old text could not be put back: " + werr.Error() + ")"
			}
		}
		c.o.Log.Error("console: rules refused", "by", a.Name, "err", err)
		return installed{msg: msg}
	}
	rec, _ := json.Marshal(written{Hash: textHash(text), By: a.Name, What: what, At: c.o.Now().UTC()})
	if err := writeFile(writtenFile(path), rec); err != nil {
		c.o.Log.Warn("console: who wrote the rule file not recorded", "err", err)
	}
	c.o.Log.Info("console: rules "+what, "by", a.Name, "file", path, "previous", kept)
	return installed{msg: "Rules " + strings.Replace(what, "applied a change", "applied", 1) + " and running; the previous text is kept as " + filepath.Base(kept) + ".", ok: true}
}

// writeFile replaces path's content at once: a reader sees the old file or
// the new one, never half of it.
func writeFile(path string, text []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".vigie-rules-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if st, err := os.Stat(path); err == nil {
		tmp.Chmod(st.Mode().Perm())
	}
	if _, err := tmp.Write(text); err != nil {
		tmp.Close()
		return err
	}
	// On the disk before the rename, and the rename before the answer: a
	// power cut just after an Apply leaves the new text or the old, never
	// an empty file vigie would not start on.
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		// a file system that cannot sync a directory has nothing to put
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func (c *Console) rulesBack(w http.ResponseWriter, r *http.Request, msg string, failed bool) {
	q := c.flashValues(r, msg, failed)
	http.Redirect(w, r, "/rules?"+q.Encode(), http.StatusSeeOther)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
