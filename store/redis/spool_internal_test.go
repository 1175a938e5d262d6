package redis

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

var spoolTestAt = time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)

func auditRec(id string) spoolRecord {
	return spoolRecord{Audit: &store.AuditEntry{At: spoolTestAt, Event: bot.Event{ID: id, Platform: "discord", At: spoolTestAt}}}
}

func openTestSpool(t testing.TB, dir string, log *slog.Logger) *Spool {
	t.Helper()
	s, err := OpenSpool(dir, "redis://127.0.0.1:1/0 vigie", log)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// spoolIDs are the events of the audit entries s read at open, in order.
// It keeps them, as NewFallback does, and starts s.
func spoolIDs(s *Spool) string {
	var ids []string
	for _, r := range s.take() {
		if r.Audit != nil {
			ids = append(ids, r.Audit.Event.ID)
			s.put(s.next("a"), r)
		}
	}
	s.start()
	return strings.Join(ids, ",")
}

// What was put and not dropped is read by the next process, oldest first;
// an item put again keeps its place; once nothing waits the file is empty.
func TestSpoolKeepsWhatIsNotDropped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s := openTestSpool(t, dir, nil)
	s.start()
	for _, id := range []string{"a", "b", "c", "d"} {
		s.put("a:"+id, auditRec(id))
	}
	s.drop("a:b")
	s.put("a:a", auditRec("a2")) // a later state of a's item
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(s.Path()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("spool file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("spool dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	s2 := openTestSpool(t, dir, nil)
	if got := spoolIDs(s2); got != "a2,c,d" {
		t.Errorf("read back = %q; want a2,c,d", got)
	}
	s2.Close()

	e := openTestSpool(t, t.TempDir(), nil)
	e.start()
	e.put("a:x", auditRec("x"))
	e.put("a:y", auditRec("y"))
	e.Sync()
	e.drop("a:x")
	e.drop("a:y")
	e.Sync()
	if fi, err := os.Stat(e.Path()); err != nil || fi.Size() != 0 {
		t.Errorf("spool with nothing waiting: %d bytes, %v; want empty", fi.Size(), err)
	}
	e.Close()
}

// A last line cut short by a crash is skipped, and the rest read; a line of
// another version is said, and the file kept aside, as it was.
func TestSpoolTornAndForeignLines(t *testing.T) {
	dir := t.TempDir()
	s := openTestSpool(t, dir, nil)
	s.start()
	s.put("a:1", auditRec("one"))
	s.put("a:2", auditRec("two"))
	s.Close()
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	torn := append(bytes.Clone(data), `{"v":1,"key":"a:3","n":9,"audit":{"at":"2026-02-0`...)
	if err := os.WriteFile(s.Path(), torn, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s2 := openTestSpool(t, dir, log)
	if got := spoolIDs(s2); got != "one,two" {
		t.Errorf("read back with a torn last line = %q; want one,two", got)
	}
	if !strings.Contains(logs.String(), "its last line was cut short") {
		t.Errorf("log = %s; want the torn line said", logs.String())
	}
	s2.Close()

	// A line of a later version, between two of this one.
	data, _ = os.ReadFile(s2.Path())
	lines := strings.SplitAfter(string(data), "\n")
	foreign := lines[0] + `{"v":2,"key":"z:1","thing":{}}` + "\n" + strings.Join(lines[1:], "")
	if err := os.WriteFile(s2.Path(), []byte(foreign), 0o600); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	s3 := openTestSpool(t, dir, log)
	if got := spoolIDs(s3); got != "one,two" {
		t.Errorf("read back with a line of version 2 = %q; want one,two", got)
	}
	if !strings.Contains(logs.String(), "line=2") || !strings.Contains(logs.String(), "version 2") {
		t.Errorf("log = %s; want line 2's version said", logs.String())
	}
	aside, _ := filepath.Glob(s3.Path() + ".unread-*")
	if len(aside) != 1 {
		t.Fatalf("files kept aside = %v; want one", aside)
	}
	if kept, _ := os.ReadFile(aside[0]); string(kept) != foreign {
		t.Errorf("file kept aside = %q; want the file as it was", kept)
	}
	s3.Close()
}

// Two processes on one directory write two files; a file its process left
// is taken over by the next to open the spool, and removed once its items
// are in that one's. A spool of another store is not read.
func TestSpoolTwoProcessesAndTakeOver(t *testing.T) {
	dir := t.TempDir()
	a := openTestSpool(t, dir, nil)
	b := openTestSpool(t, dir, nil)
	if a.Path() == b.Path() {
		t.Fatalf("two spools open at once share %s", a.Path())
	}
	other, err := OpenSpool(dir, "redis://127.0.0.1:2/0 vigie", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Spool{a, b, other} {
		s.start()
	}
	a.put("a:1", auditRec("from-a"))
	b.put("a:1", auditRec("from-b"))
	other.put("a:1", auditRec("other-store"))
	a.Close()
	other.Close()
	c := openTestSpool(t, dir, nil)
	if c.Path() != a.Path() {
		t.Errorf("third spool = %s; want the file a let go, %s", c.Path(), a.Path())
	}
	if got := spoolIDs(c); got != "from-a" {
		t.Errorf("third spool read, b still open = %q; want from-a only", got)
	}
	b.Close()
	c.Close()
	d := openTestSpool(t, dir, nil)
	got := spoolIDs(d)
	if got != "from-a,from-b" && got != "from-b,from-a" {
		t.Errorf("spool read, both closed = %q; want from-a and from-b", got)
	}
	d.Sync()
	if _, err := os.Stat(b.Path()); !os.IsNotExist(err) && b.Path() != d.Path() {
		t.Errorf("file taken over still there: %v", err)
	}
	d.Close()
	if data, _ := os.ReadFile(other.Path()); !bytes.Contains(data, []byte("other-store")) {
		t.Errorf("the other store's spool = %q; want it left as it was", data)
	}
}

// A spool the disk refuses is counted and logged, and does not lose what
// waits: once the disk takes it again, the file is written whole.
func TestSpoolDiskRefuses(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	s := openTestSpool(t, dir, slog.New(slog.NewTextHandler(&logs, nil)))
	s.start()
	s.put("a:1", auditRec("one"))
	s.Sync()
	// The writer is idle (Sync returned): its file is closed under it, as a
	// disk that fails every write.
	s.file.Close()
	s.put("a:2", auditRec("two"))
	s.Sync()
	if s.Errors() == 0 || s.Written() {
		t.Errorf("after a refused write: errors %d, written %v; want it counted and said", s.Errors(), s.Written())
	}
	if !strings.Contains(logs.String(), "spool: cannot write it") {
		t.Errorf("log = %s; want the refusal said", logs.String())
	}
	s.put("a:3", auditRec("three"))
	s.Sync()
	if !s.Written() {
		t.Error("the next write, the disk taking it again: still failing")
	}
	s.Close()
	s2 := openTestSpool(t, dir, nil)
	if got := spoolIDs(s2); got != "one,two,three" {
		t.Errorf("read back = %q; want one,two,three", got)
	}
	s2.Close()
}

// A spool closed before its writer started (a store that failed to open
// after it) lets its file go, and keeps what the file held.
func TestSpoolClosedBeforeStart(t *testing.T) {
	dir := t.TempDir()
	s := openTestSpool(t, dir, nil)
	s.start()
	s.put("a:1", auditRec("one"))
	s.Close()
	s2 := openTestSpool(t, dir, nil)
	s2.put("a:2", auditRec("two"))
	done := make(chan struct{})
	go func() { s2.Close(); close(done) }()
	<-done
	s3 := openTestSpool(t, dir, nil)
	if s3.Path() != s.Path() {
		t.Errorf("spool after one closed unstarted = %s; want its file, %s, let go", s3.Path(), s.Path())
	}
	if got := spoolIDs(s3); got != "one" {
		t.Errorf("read back = %q; want one, as the file held it", got)
	}
	s3.Close()
}

// The line that drops an item whose key holds what JSON escapes (a member's
// id is free text over HTTP) is read back: the item stays dropped.
func TestSpoolDropOfAnOddKey(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := openTestSpool(t, dir, log)
	s.start()
	s.put("a:keep", auditRec("kept"))
	key := "b:discord|g1|u\x07\"é"
	s.put(key, auditRec("odd"))
	s.Sync()
	s.drop(key)
	s.Close()
	s2 := openTestSpool(t, dir, log)
	if got := spoolIDs(s2); got != "kept" {
		t.Errorf("read back = %q; want kept only (odd was dropped)\n%s", got, logs.String())
	}
	if aside, _ := filepath.Glob(filepath.Join(dir, "*.unread-*")); len(aside) > 0 {
		t.Errorf("files kept aside for unread lines: %v\n%s", aside, logs.String())
	}
	s2.Close()
}

// A spool file far bigger than a spool can grow (one written by something
// else, a disk's damage) is not read into memory at start, which an
// operator's small machine could not hold (killed at every start, vigie
// would never run again): it is kept aside, as it was, and said; the spool
// opens empty.
func TestSpoolTooBigIsKeptAside(t *testing.T) {
	dir := t.TempDir()
	s := openTestSpool(t, dir, nil)
	path := s.Path()
	s.Close()
	const size = 1 << 30 // sparse: no disk taken
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		t.Skip("no sparse file here:", err)
	}
	f.Close()
	var logs bytes.Buffer
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s = openTestSpool(t, dir, slog.New(slog.NewTextHandler(&logs, nil)))
	runtime.ReadMemStats(&after)
	defer s.Close()
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("opening a spool of %d MiB allocated %d MiB; want it not read", size>>20, got>>20)
	}
	if got := spoolIDs(s); got != "" {
		t.Errorf("items read: %q; want none", got)
	}
	aside, _ := filepath.Glob(path + ".unread-*")
	if len(aside) != 1 {
		t.Fatalf("files kept aside: %v; want one", aside)
	}
	if fi, err := os.Stat(aside[0]); err != nil || fi.Size() != size {
		t.Errorf("kept aside: %v, %v; want the file as it was", fi, err)
	}
	if !strings.Contains(logs.String(), "too big") {
		t.Errorf("log = %s; want the file said too big, and where it is", logs.String())
	}
}

// BenchmarkSpoolOrphansNone is the look for the files of stopped processes
// that each call of the ban book makes, when there are none: three other
// processes' files in the directory, each holding items and locked.
func BenchmarkSpoolOrphansNone(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "spool")
	var all []*Spool
	for range 4 {
		s := openTestSpool(b, dir, nil)
		s.start()
		s.put(s.next("a"), auditRec("x"))
		s.Sync()
		all = append(all, s)
	}
	defer func() {
		for _, s := range all {
			s.Close()
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		if recs, files := all[0].orphans(); len(recs) != 0 || len(files) != 0 {
			b.Fatalf("took %d items from %d files of running processes", len(recs), len(files))
		}
	}
}
