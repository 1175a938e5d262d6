package memory

import "unsafe"

// Footprint is what the store's slots take, in bytes, by part: the arrays of
// 16-byte slots that hold its counters, their rings, the dedupe ids and the
// strikes, mapped outside the Go heap on unix once large (arena). It counts
// the slots touched, which are resident: all of a table's (its entries are
// hashed all over it), a pool's up to the most it held at once (a pool of
// rings or strike lists grows by doubling, and the room past that is not
// touched until used).
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
		f.Rings += size * int64(sh.rings.nHeads+sh.rings.used)
		f.Dedupe += size * int64(len(sh.seen.cur.slots)+len(sh.seen.old.slots)+len(sh.seenQ.buf))
		f.Strikes += size * int64(len(sh.strikes.cur.slots)+len(sh.strikes.old.slots)+sh.strikeLists.nHeads+sh.strikeLists.used)
		sh.mu.Unlock()
	}
	return f
}
