package memory

import "unsafe"

// Footprint is what the store's slots take, in bytes, by part: the arrays of
// 16-byte slots that hold its counters, their rings, the dedupe ids and the
// strikes, mapped outside the Go heap on unix once large (arena). It counts
// the arrays' lengths: a table's slots are all touched once it holds a few
// entries a page, a pool's room past what it used is not until it is used,
// so this is the resident memory of the tables and at most that of the
// pools.
type Footprint struct {
	// Counters is the counters' tables, Rings their rings (the counters of
	// more than one timestamp), Dedupe the ids' tables and their order,
	// Strikes the authors' tables and their lists.
	Counters, Rings, Dedupe, Strikes int64
}

// Footprint sums the slots of every shard.
func (s *Store) Footprint() Footprint {
	const size = int64(unsafe.Sizeof(slot{}))
	var f Footprint
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		f.Counters += size * int64(len(sh.windows.cur.slots)+len(sh.windows.old.slots))
		f.Rings += size * int64(len(sh.rings.heads)+len(sh.rings.blocks))
		f.Dedupe += size * int64(len(sh.seen.cur.slots)+len(sh.seen.old.slots)+len(sh.seenQ.buf))
		f.Strikes += size * int64(len(sh.strikes.cur.slots)+len(sh.strikes.old.slots)+len(sh.strikeLists.heads)+len(sh.strikeLists.blocks))
		sh.mu.Unlock()
	}
	return f
}
