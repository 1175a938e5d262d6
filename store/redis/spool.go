package redis

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/jsonstr"
	"github.com/vigie-bot/vigie/store"
)

// Spool keeps on disk what waits for Redis while it is away (the cases, audit
// entries and journal removals of the Fallback's queue, and the bans never
// due given meanwhile), so that a process that stops or dies before Redis
// answers again leaves it to the next one: read at its start, written back
// to Redis first, before any call of the ban book.
//
// The file is one JSON object a line, appended as items are buffered and
// forgotten, and written to disk (fsync) by a goroutine of its own: what
// waits for it is written together, so moderation never waits for the disk,
// and a process killed at once loses at most the lines not written yet (the
// items of the last few milliseconds). A line cut short by a crash, the file's
// last, is skipped and said. The file is emptied once nothing waits for
// Redis, and written again whole, compacted, when it grew past what waits.
//
// A disk that refuses the writes (full, read-only) is logged, counted
// (Errors), and does not stop anything: what waits for Redis stays in memory
// as without a spool, and the file is written again whole once the disk
// takes it.
//
// Each process locks a file of its own (flock): two instances on one
// machine with the same directory get two files. A file no process holds
// (its process stopped) is taken over by the next one to open the spool
// with the same Redis and prefix, or by one running on it already
// (orphans), its items added to that process's.
type Spool struct {
	dir, base string
	log       *slog.Logger

	lockFile *os.File
	path     string

	mu     sync.Mutex
	cond   *sync.Cond
	ops    []spoolOp
	queued uint64 // ops ever put or dropped
	synced uint64 // ops the writer is done with
	closed bool
	// running: start was called (the writer runs, or ran).
	running bool
	wake    chan struct{}
	done    chan struct{}
	n       atomic.Uint64 // the order of the items

	// read at open: the items the previous processes left, oldest first,
	// and the files taken over, removed once their items are in this one's.
	loaded  []spoolRecord
	adopted []*adoptedFile
	// handed: the files taken over while this process runs (orphans),
	// removed by the writer once their items are on disk in this one's;
	// guarded by mu. adoptMu lets one take-over run at a time.
	handed  []*adoptedFile
	adoptMu sync.Mutex

	// The writer's own.
	file    *os.File
	size    int64
	live    map[string]spoolRecordLine
	garbage int64 // bytes of the file no longer live
	broken  bool
	started bool

	errs atomic.Int64
	// failing mirrors broken for the other goroutines.
	failing atomic.Bool
}

type adoptedFile struct {
	path string
	lock *os.File
	// after: the file may go once the writer is done with the ops queued
	// before this (its items, put in this process's file).
	after uint64
}

type spoolOp struct {
	key  string
	line []byte // nil: drop
	n    uint64
}

type spoolRecordLine struct {
	n    uint64
	line []byte
}

// spoolVersion is the version of the spool's lines. A line of another
// version is not read: the file is kept aside, and said.
const spoolVersion = 1

// spoolRecord is one line of the spool: an item waiting for Redis (one of
// Audit, Done, Case, Ban, Reminder), or Drop, which says that the item of
// that key no longer waits (written, or forgotten). An item put again under
// its key (a case acknowledged or decided while it waits) replaces the
// earlier line.
type spoolRecord struct {
	V    int    `json:"v"`
	Key  string `json:"key,omitempty"`
	N    uint64 `json:"n,omitempty"`
	Drop string `json:"drop,omitempty"`

	Audit *store.AuditEntry `json:"audit,omitempty"`
	Done  string            `json:"done,omitempty"`
	Ban   *store.TimedBan   `json:"ban,omitempty"`
	Case  *spoolCase        `json:"case,omitempty"`
	// Reminder is a reminder of an old case that the desk did not take,
	// kept for the next check (store.ReminderKeeper).
	Reminder *spoolReminder `json:"reminder,omitempty"`
}

// spoolReminder is the K-th reminder of a case, by its id (a local one for
// a case opened while Redis was away).
type spoolReminder struct {
	Case string `json:"case"`
	K    int64  `json:"k"`
}

// spoolCase is a case opened while Redis was away, as it stands: its local
// ids (the first the one it has now; cards posted under the others), and what
// the desk did with it meanwhile.
type spoolCase struct {
	Case    store.Case    `json:"case"`
	Was     []string      `json:"was,omitempty"`
	Acked   bool          `json:"acked,omitempty"`
	Amended bool          `json:"amended,omitempty"`
	Cards   []bot.CardRef `json:"cards,omitempty"`
}

// maxSpoolFile is the size past which a spool file is not read at start.
// A spool holds what the Fallback keeps for Redis (10,000 cases by default,
// the open cases' cap, and for each an audit entry and a journal removal:
// 21 MiB for messages of 300 characters, 126 MiB for messages of 4,000, the
// platforms' longest; TestFallbackHeapForTheOpenCap), and grows to about
// twice that before it is written again whole: a file far past it was
// written by something else, or by a cap set far higher.
const maxSpoolFile = 512 << 20

// maxSpoolSlots bounds the files of one store in a directory.
const maxSpoolSlots = 64

// OpenSpool opens the spool of one store (identity names it: the Redis URL
// without its password, and the key prefix) in dir, made 0700 if missing. It
// reads what the processes before left there, in this process's file and in
// those no process holds; NewFallback takes it (FallbackOptions.Spool).
func OpenSpool(dir, identity string, log *slog.Logger) (*Spool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := spoolDirMine(dir); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(identity))
	s := &Spool{dir: dir, base: "spool-" + hex.EncodeToString(sum[:4]), log: log,
		live: make(map[string]spoolRecordLine), wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	slots := s.slots()
	var own int = -1
	var items map[string]spoolRecordLine = make(map[string]spoolRecordLine)
	var firstErr error
	for i := 0; i < maxSpoolSlots; i++ {
		_, exists := slots[i]
		if !exists && own >= 0 {
			continue
		}
		lock, ok, err := lockSpool(s.slotPath(i, ".lock"))
		if err != nil {
			firstErr = errors.Join(firstErr, err)
			continue
		}
		if !ok {
			continue // another process's
		}
		data := s.slotPath(i, ".jsonl")
		if err := s.read(data, items); err != nil {
			unlockSpool(lock)
			firstErr = errors.Join(firstErr, err)
			continue
		}
		if own < 0 {
			own, s.lockFile, s.path = i, lock, data
			continue
		}
		s.adopted = append(s.adopted, &adoptedFile{path: data, lock: lock})
	}
	if own < 0 {
		for _, a := range s.adopted {
			unlockSpool(a.lock)
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%d spool files in use", maxSpoolSlots)
		}
		return nil, fmt.Errorf("spool in %s: no file of its own: %w", dir, firstErr)
	}
	if firstErr != nil {
		log.Error("spool: a file could not be read, kept as it is", "err", firstErr)
	}
	s.othersLeft()
	var maxN uint64
	for _, r := range items {
		maxN = max(maxN, r.n)
		var rec spoolRecord
		if err := json.Unmarshal(r.line, &rec); err == nil {
			s.loaded = append(s.loaded, rec)
		}
	}
	sort.Slice(s.loaded, func(i, j int) bool { return s.loaded[i].N < s.loaded[j].N })
	s.n.Store(maxN)
	return s, nil
}

// spoolDirMine refuses a directory that another user owns, or that others
// may write: what they put there would be written to Redis at the next
// start (cases for the desk, bans for good, journal removals that end the
// retries of actions), and a file they swap for a link would have vigie
// write over the file it points to.
func spoolDirMine(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("spool: %s is not a directory", dir)
	}
	if owner, mine := ownedByMe(fi); !mine {
		return fmt.Errorf("spool: the directory %s belongs to %s, not to the user vigie runs as: what they put there would be written to redis", dir, owner)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 && runtime.GOOS != "windows" {
		return fmt.Errorf("spool: the directory %s is open to other users (mode %04o), who could put there what vigie writes to redis: chmod 700 %s", dir, perm, dir)
	}
	return nil
}

// slots lists the slot numbers of this store's files in the directory.
func (s *Spool) slots() map[int]bool {
	out := make(map[int]bool)
	names, _ := filepath.Glob(filepath.Join(s.dir, s.base+"-*"))
	for _, name := range names {
		rest := strings.TrimPrefix(filepath.Base(name), s.base+"-")
		num, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(num); err == nil && i >= 0 && i < maxSpoolSlots {
			out[i] = true
		}
	}
	return out
}

func (s *Spool) slotPath(i int, ext string) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s-%d%s", s.base, i, ext))
}

// othersLeft says which spools of other stores (another Redis URL or
// prefix) hold items in the directory: they are not read here.
func (s *Spool) othersLeft() {
	names, _ := filepath.Glob(filepath.Join(s.dir, "spool-*.jsonl"))
	for _, name := range names {
		if strings.HasPrefix(filepath.Base(name), s.base+"-") {
			continue
		}
		if fi, err := os.Stat(name); err == nil && fi.Size() > 0 {
			s.log.Warn("spool: a file of another store (another redis URL or prefix) holds items, not read here: start vigie with that store to write them back",
				"file", name, "bytes", fi.Size())
		}
	}
}

// read adds the items of the file at path to items. A last line cut short
// (a crash while it was written) is skipped and said; another line that
// cannot be read (another version's, a file damaged) is said with its
// number, and the file is kept aside (FILE.unread-UNIXTIME) for a person
// to look at, its readable items taken all the same.
func (s *Spool) read(path string, items map[string]spoolRecordLine) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		// A FIFO would hold the read, and the start, for ever; a device or a
		// link is none of vigie's writing.
		// On the wall clock: a file's name, for whoever reads the disk.
		aside := fmt.Sprintf("%s.unread-%d", path, time.Now().Unix())
		if err := os.Rename(path, aside); err != nil {
			return fmt.Errorf("spool: %s is not a regular file (%s), and could not be kept aside: %w", path, fi.Mode().Type(), err)
		}
		syncDir(s.dir)
		s.log.Error("spool: a file that is not a regular file (vigie writes only regular files there): kept aside as it was, not read",
			"file", aside, "mode", fi.Mode().String())
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxSpoolFile {
		// Read whole, it could take more memory than the machine has, and
		// vigie, killed at every start, would never run again.
		// On the wall clock: a file's name, for whoever reads the disk.
		aside := fmt.Sprintf("%s.unread-%d", path, time.Now().Unix())
		if err := os.Rename(path, aside); err != nil {
			return fmt.Errorf("spool: %s is too big to be read (%d MiB), and could not be kept aside: %w", path, fi.Size()>>20, err)
		}
		syncDir(s.dir)
		s.log.Error("spool: a file too big to be read at start (a spool holds at most what vigie keeps in memory for redis, a few hundred MiB at worst): kept aside as it was, not read",
			"file", aside, "bytes", fi.Size())
		return nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	bad := 0
	for no := 1; len(data) > 0; no++ {
		line, rest, complete := bytes.Cut(data, []byte("\n"))
		data = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec spoolRecord
		err := json.Unmarshal(line, &rec)
		if err == nil && rec.V != spoolVersion {
			err = fmt.Errorf("version %d, this vigie reads version %d", rec.V, spoolVersion)
		}
		if err == nil && rec.Drop == "" && (rec.Key == "" || rec.Audit == nil && rec.Done == "" && rec.Ban == nil && rec.Case == nil && rec.Reminder == nil) {
			err = errors.New("no item")
		}
		if err != nil {
			if !complete {
				s.log.Warn("spool: its last line was cut short (vigie stopped while it wrote it): skipped, the rest is read",
					"file", path, "line", no, "err", err)
				continue
			}
			s.log.Error("spool: a line cannot be read: skipped, the rest is read", "file", path, "line", no, "err", err)
			bad++
			continue
		}
		// Keys are a process's own: two files may hold the same.
		if rec.Drop != "" {
			delete(items, path+"\x00"+rec.Drop)
			continue
		}
		key := path + "\x00" + rec.Key
		n := rec.N
		if cur, ok := items[key]; ok {
			n = cur.n // an item put again keeps its place
		}
		rec.N = n
		raw, _ := json.Marshal(rec)
		items[key] = spoolRecordLine{n: n, line: raw}
	}
	if bad > 0 {
		// On the wall clock: a file's name, for whoever reads the disk.
		aside := fmt.Sprintf("%s.unread-%d", path, time.Now().Unix())
		if err := copyFile(path, aside); err != nil {
			return fmt.Errorf("spool: %d lines of %s cannot be read, and the file could not be kept aside: %w", bad, path, err)
		}
		syncDir(s.dir)
		s.log.Error("spool: the file is kept aside as it was, for its unread lines", "file", aside, "unread", bad)
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Path is the file this process writes.
func (s *Spool) Path() string {
	if s == nil {
		return ""
	}
	return s.path
}

// Written reports whether the spool's last write reached the disk.
func (s *Spool) Written() bool { return s != nil && !s.failing.Load() }

// Errors is how many times the spool could not be written.
func (s *Spool) Errors() int64 {
	if s == nil {
		return 0
	}
	return s.errs.Load()
}

// take returns what the processes before left, once.
func (s *Spool) take() []spoolRecord {
	if s == nil {
		return nil
	}
	out := s.loaded
	s.loaded = nil
	return out
}

// next is a new item's key and place.
func (s *Spool) next(kind string) string {
	if s == nil {
		return ""
	}
	return kind + ":" + strconv.FormatUint(s.n.Add(1), 10)
}

// put keeps rec under key until drop. It does not wait for the disk.
func (s *Spool) put(key string, rec spoolRecord) {
	if op, ok := s.encode(key, rec); ok {
		s.push(op)
	}
}

// encode is put's line, for a caller that writes it outside its lock and
// pushes it under it.
func (s *Spool) encode(key string, rec spoolRecord) (spoolOp, bool) {
	if s == nil || key == "" {
		return spoolOp{}, false
	}
	rec.V, rec.Key, rec.N = spoolVersion, key, s.n.Add(1)
	line, err := json.Marshal(rec)
	if err != nil {
		s.log.Error("spool: an item cannot be written as JSON: kept in memory only", "key", key, "err", err)
		return spoolOp{}, false
	}
	return spoolOp{key: key, line: line, n: rec.N}, true
}

// drop forgets the item of key: written to Redis, or no longer to be.
func (s *Spool) drop(key string) {
	if s == nil || key == "" {
		return
	}
	s.push(spoolOp{key: key})
}

func (s *Spool) push(op spoolOp) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.ops = append(s.ops, op)
	s.queued++
	// Under s.mu: Close closes wake once closed is set.
	select {
	case s.wake <- struct{}{}:
	default:
	}
	s.mu.Unlock()
}

// start starts the writer: its first round writes the file whole, with what
// was put since OpenSpool, and then removes the files taken over.
func (s *Spool) start() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	go s.write()
	s.push(spoolOp{}) // the first round, which Sync waits for too
}

// Sync waits until what was put or dropped before it is on disk (or the
// disk refused it: see Errors).
func (s *Spool) Sync() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	target := s.queued
	for s.running && s.synced < target && !s.stopped() {
		s.cond.Wait()
	}
}

// stopped reports whether the writer has returned; s.mu is held.
func (s *Spool) stopped() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Close writes what waits, and releases the file for the next process.
func (s *Spool) Close() error {
	if s == nil {
		return nil
	}
	s.Sync()
	s.mu.Lock()
	already, running := s.closed, s.running
	s.closed = true
	if !already {
		close(s.wake)
	}
	s.mu.Unlock()
	if already {
		return nil
	}
	if running {
		<-s.done
	}
	return s.release()
}

// release closes the files and their locks.
func (s *Spool) release() error {
	var err error
	if s.file != nil {
		err = s.file.Close()
	}
	for _, a := range s.adopted {
		unlockSpool(a.lock)
	}
	// Files taken over whose items never reached this one's file (the disk
	// refused it): left as they are, for the next process.
	s.mu.Lock()
	handed := s.handed
	s.handed = nil
	s.mu.Unlock()
	for _, a := range handed {
		unlockSpool(a.lock)
	}
	unlockSpool(s.lockFile)
	return err
}

// retryBroken is how often a spool the disk refused is tried again when
// nothing new comes.
const retryBroken = 5 * time.Second

// compactOver: the file is written again whole once what it holds that no
// longer waits is more than this and more than what waits.
const compactOver = 1 << 20

func (s *Spool) write() {
	defer func() {
		s.mu.Lock()
		close(s.done)
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	// On the wall clock: how often a broken disk is tried again.
	t := time.NewTicker(retryBroken)
	defer t.Stop()
	for {
		open := true
		select {
		case _, open = <-s.wake:
		case <-t.C:
			if !s.broken {
				continue
			}
		}
		s.round()
		if !open {
			return
		}
	}
}

// round writes what was put and dropped since the last round.
func (s *Spool) round() {
	s.mu.Lock()
	ops := s.ops
	s.ops = nil
	target := s.queued
	s.mu.Unlock()
	var buf []byte
	for _, op := range ops {
		if op.key == "" {
			continue
		}
		if op.line == nil {
			if cur, ok := s.live[op.key]; ok {
				s.garbage += int64(len(cur.line)) + 1
				delete(s.live, op.key)
				buf = jsonstr.AppendHTML(append(buf, `{"v":1,"drop":`...), op.key)
				buf = append(buf, "}\n"...)
			}
			continue
		}
		n := op.n
		if cur, ok := s.live[op.key]; ok {
			n = cur.n
			s.garbage += int64(len(cur.line)) + 1
		}
		line := op.line
		if n != op.n { // an item put again keeps its first place
			line = setN(line, n)
		}
		s.live[op.key] = spoolRecordLine{n: n, line: line}
		buf = append(append(buf, line...), '\n')
	}
	var err error
	switch {
	case !s.started || s.broken || s.garbage > compactOver && s.garbage > s.liveBytes():
		err = s.rewrite()
		if err == nil && !s.started {
			s.started = true
			s.removeAdopted()
		}
	case len(s.live) == 0 && s.size > 0:
		err = s.truncate()
	case len(buf) > 0:
		err = s.append(buf)
	}
	if err != nil {
		s.errs.Add(1)
		if !s.broken {
			s.log.Error("spool: cannot write it: what waits for redis is kept in memory only until the disk takes it (a stop loses it)",
				"file", s.path, "err", err)
		}
		s.broken = true
		s.failing.Store(true)
	} else if s.broken {
		s.failing.Store(false)
		s.broken = false
		s.log.Info("spool: written again", "file", s.path, "items", len(s.live))
	}
	if err == nil {
		s.removeHanded(target)
	}
	s.mu.Lock()
	s.synced = target
	s.cond.Broadcast()
	s.mu.Unlock()
}

// setN writes n into line's "n" field.
func setN(line []byte, n uint64) []byte {
	var rec spoolRecord
	if json.Unmarshal(line, &rec) != nil || rec.N == n {
		return line
	}
	rec.N = n
	out, err := json.Marshal(rec)
	if err != nil {
		return line
	}
	return out
}

func (s *Spool) liveBytes() int64 {
	var n int64
	for _, r := range s.live {
		n += int64(len(r.line)) + 1
	}
	return n
}

// append writes buf at the end of what the file holds, and to disk. A write
// that fails is cut off, so that the next starts on a whole line.
func (s *Spool) append(buf []byte) error {
	if s.file == nil {
		return s.rewrite()
	}
	if _, err := s.file.WriteAt(buf, s.size); err != nil {
		_ = s.file.Truncate(s.size)
		return err
	}
	if err := s.file.Sync(); err != nil {
		_ = s.file.Truncate(s.size)
		return err
	}
	s.size += int64(len(buf))
	return nil
}

func (s *Spool) truncate() error {
	if s.file == nil {
		return s.rewrite()
	}
	if err := s.file.Truncate(0); err != nil {
		return err
	}
	if err := s.file.Sync(); err != nil {
		return err
	}
	s.size, s.garbage = 0, 0
	return nil
}

// rewrite writes the file again whole, with what waits, oldest first: to a
// new file, written to disk, then renamed over the old one, so that a crash
// meanwhile leaves one or the other.
func (s *Spool) rewrite() error {
	recs := make([]spoolRecordLine, 0, len(s.live))
	for _, r := range s.live {
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(a, b spoolRecordLine) int {
		switch {
		case a.n < b.n:
			return -1
		case a.n > b.n:
			return 1
		}
		return 0
	})
	tmp := s.path + ".new"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var size int64
	for _, r := range recs {
		w.Write(r.line)
		w.WriteByte('\n')
		size += int64(len(r.line)) + 1
	}
	err = w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	syncDir(s.dir)
	if s.file != nil {
		s.file.Close()
	}
	s.file, s.size, s.garbage = f, size, 0
	return nil
}

// removeAdopted removes the files taken over, whose items are in this one's
// now, and lets their slots go.
func (s *Spool) removeAdopted() {
	for _, a := range s.adopted {
		if err := os.Remove(a.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("spool: a file taken over could not be removed: its items may be written twice (cases are found again by their origin)",
				"file", a.path, "err", err)
		}
		unlockSpool(a.lock)
	}
	s.adopted = nil
	syncDir(s.dir)
}

// orphans takes over the files of this store that no process holds now
// (theirs stopped, or died, after this one opened the spool): it locks
// them, reads them, and returns their items, oldest first, with the files,
// which stay locked (no other process takes them over) until handOver.
// Cheap when there are none: a look at the directory, and a try of each
// other file's lock.
func (s *Spool) orphans() ([]spoolRecord, []*adoptedFile) {
	if s == nil || !spoolLocks {
		return nil, nil
	}
	s.mu.Lock()
	closed := s.closed
	held := make(map[string]bool, len(s.handed))
	for _, a := range s.handed {
		held[a.path] = true
	}
	s.mu.Unlock()
	if closed {
		return nil, nil
	}
	items := make(map[string]spoolRecordLine)
	var files []*adoptedFile
	for i := range s.slots() {
		data := s.slotPath(i, ".jsonl")
		if data == s.path || held[data] {
			continue
		}
		if fi, err := os.Lstat(data); err != nil || fi.Mode().IsRegular() && fi.Size() == 0 {
			continue // nothing left there
		}
		lock, ok, err := lockSpool(s.slotPath(i, ".lock"))
		if err != nil {
			s.log.Warn("spool: a file another process left could not be taken over", "file", data, "err", err)
			continue
		}
		if !ok {
			continue // its process runs
		}
		if err := s.read(data, items); err != nil {
			unlockSpool(lock)
			s.log.Error("spool: a file another process left could not be read, kept as it is", "file", data, "err", err)
			continue
		}
		files = append(files, &adoptedFile{path: data, lock: lock})
	}
	var recs []spoolRecord
	for _, r := range items {
		var rec spoolRecord
		if err := json.Unmarshal(r.line, &rec); err == nil {
			recs = append(recs, rec)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].N < recs[j].N })
	return recs, files
}

// handOver has the writer remove files once what was put before (their
// items, taken back) is on disk in this process's file. Until then they
// stay locked: a process that dies meanwhile leaves them to the next.
func (s *Spool) handOver(files []*adoptedFile) {
	if s == nil || len(files) == 0 {
		return
	}
	s.mu.Lock()
	if s.closed || !s.running {
		s.mu.Unlock()
		for _, a := range files {
			unlockSpool(a.lock)
		}
		return
	}
	for _, a := range files {
		a.after = s.queued
	}
	s.handed = append(s.handed, files...)
	s.mu.Unlock()
	s.push(spoolOp{}) // a round, which removes them
}

// removeHanded removes the files taken over whose items are in this
// process's file, the writer's round done with the ops up to target written.
func (s *Spool) removeHanded(target uint64) {
	s.mu.Lock()
	var ready []*adoptedFile
	kept := s.handed[:0]
	for _, a := range s.handed {
		if a.after <= target {
			ready = append(ready, a)
		} else {
			kept = append(kept, a)
		}
	}
	s.handed = kept
	s.mu.Unlock()
	if len(ready) == 0 {
		return
	}
	for _, a := range ready {
		if err := os.Remove(a.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("spool: a file taken over could not be removed: its items may be written twice (cases are found again by their origin)",
				"file", a.path, "err", err)
		}
	}
	syncDir(s.dir)
	for _, a := range ready {
		unlockSpool(a.lock)
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// SpoolIdentity names the spool of the store at url with prefix: the URL's
// scheme, user, addresses, database (its path, or the db option, which
// go-redis reads in its place) and master name, without its password and
// client options, so that a new password or timeout keeps the spool.
func SpoolIdentity(rawURL, prefix string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL + " " + prefix
	}
	q := u.Query()
	addrs := q["addr"]
	slices.Sort(addrs)
	id := u.Scheme + "://" + u.User.Username() + "@" + u.Host + u.Path
	for _, a := range addrs {
		id += " addr=" + a
	}
	if db := q.Get("db"); db != "" {
		id += " db=" + db
	}
	if m := q.Get("master_name"); m != "" {
		id += " master_name=" + m
	}
	return id + " " + prefix
}
