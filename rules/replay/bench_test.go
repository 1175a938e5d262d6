package replay_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/rules/replay"
)

// BenchmarkReplay replays 100,000 events through the starter pack, as
// `vigie replay` does, and reports events per second.
func BenchmarkReplay(b *testing.B) {
	const n = 100_000
	path := replay.WriteCorpus(b, b.TempDir(), n)
	rs, err := vigie.LoadEmbedded()
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 0} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var events int
			for b.Loop() {
				s, err := replay.Run(context.Background(), rs, []replay.Input{replay.File(path)},
					replay.Options{Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				events += s.Events
			}
			if events != n*b.N {
				b.Fatalf("replayed %d events, want %d", events, n*b.N)
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
