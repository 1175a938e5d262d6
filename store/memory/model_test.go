package memory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/storetest"
)

// TestModelShapes runs the stores' model test (storetest.Model) on the
// memory store's shapes the contract's runs leave out: a few shards that
// sweep every second, so that sweeps run between most events and drop
// counters, ids and strikes while the tables grow and move; and after the
// history, a quiet spell longer than everything lives (a strike's 30
// days), after which the store holds nothing and its slots are back to a
// table's least in each shard.
func TestModelShapes(t *testing.T) {
	shapes := []struct {
		name string
		opts []memory.Option
	}{
		{"two shards, sweeps every second", []memory.Option{memory.WithShards(2), memory.WithSweepEvery(time.Second)}},
		{"one roomy shard, sweeps every hour", []memory.Option{memory.WithShards(1), memory.WithRoomyTables(), memory.WithSweepEvery(time.Hour)}},
	}
	for i, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			st := memory.New(sh.opts...)
			seed := uint64(1000 + i)
			end := storetest.Model(t, st, seed, 20_000)
			busy := st.Footprint()
			// the daemon's minute: the first call finds the shards events
			// came to, the next, past every expiry, sweeps them
			st.SweepIdle(end.Add(time.Minute))
			st.SweepIdle(end.Add(store.DefaultStrikeTTL + 25*time.Hour))
			idle := st.Footprint()
			// A table left with nothing keeps at most 64 slots of 16 bytes
			// (it shrinks no further), and the ids' order up to 1,024
			// (it gives back larger ones only), in each shard.
			shards := int64(2)
			if i == 1 {
				shards = 1
			}
			if n := st.Len(); n != 0 || idle.Rings != 0 || idle.Counters > shards*64*16 || idle.Strikes > shards*64*16 ||
				idle.Dedupe > shards*(64+1024)*16 {
				t.Errorf("seed %d: after the quiet spell: %d entries, %+v (from %+v); want none, no ring, a table's least in each shard",
					seed, n, idle, busy)
			}
			t.Logf("seed %d: footprint %s busy, %s idle", seed, footprint(busy), footprint(idle))
		})
	}
}

// TestModelCapped runs the model test on counters capped at 8 events,
// which the history's floods pass: they saturate there.
func TestModelCapped(t *testing.T) {
	for seed := uint64(2000); seed < 2003; seed++ {
		storetest.ModelWith(t, memory.New(memory.WithShards(4), memory.WithMaxPerKey(8)), seed, 20_000, storetest.ModelOptions{MaxPerKey: 8})
	}
}

func footprint(f memory.Footprint) string {
	return fmt.Sprintf("%d bytes (counters %d, rings %d, ids %d, strikes %d)",
		f.Counters+f.Rings+f.Dedupe+f.Strikes, f.Counters, f.Rings, f.Dedupe, f.Strikes)
}
