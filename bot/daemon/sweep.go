package daemon

import (
	"context"
	"runtime/debug"
	"time"
)

// sweeper is a store that drops what expired when told the time: the memory
// store, which otherwise sweeps on the events' clock, so frees nothing while
// no event comes.
type sweeper interface {
	SweepIdle(now time.Time)
	Len() int
}

// sweepEvery is how often the memory store is swept, on the daemon's clock
// (Config.Now, Config.AfterFunc): the clock the events' windows are checked
// against, so that a sweep drops nothing their windows still hold.
const sweepEvery = time.Minute

// sweepReturn is how much a sweep must have dropped, in counters, ids and
// strikes, for the memory to be handed back to the system at once rather than
// by the runtime's slow scavenging: a night's raid ended, the next one may
// never come. SweepIdle only sweeps the shards no event came to for a
// minute, so this happens when the load stopped, not under it.
const sweepReturn = 100_000

// runSweep sweeps the memory store's idle shards every minute until ctx ends.
func (d *daemon) runSweep(ctx context.Context) {
	sw, ok := d.store.(sweeper)
	if !ok {
		return
	}
	d.cfg.every(ctx, sweepEvery, func() {
		before := sw.Len()
		sw.SweepIdle(d.now())
		if after := sw.Len(); before-after >= sweepReturn {
			debug.FreeOSMemory()
			d.log.Info("memory store swept", "dropped", before-after, "kept", after)
		}
	})
}
