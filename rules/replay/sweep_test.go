package replay

import (
	"bytes"
	"context"
	"testing"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/store/memory"
)

// The replay sweeps its store less often than the live default (replaySweep);
// that must only change how long expired state stays in memory, never a verdict.
func TestSweepDoesNotChangeVerdicts(t *testing.T) {
	rs, err := vigie.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	path := writeCorpus(t, t.TempDir(), 4000)
	decisions := func(newStore func() *memory.Store) string {
		var buf bytes.Buffer
		if _, err := run(context.Background(), rs, newStore, []Input{File(path)}, Options{Decisions: &buf}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	live := decisions(func() *memory.Store { return memory.New() })
	if got := decisions(newStore); got != live {
		t.Error("sweeping every hour gives other verdicts than sweeping every minute")
	}
	if !bytes.Contains([]byte(live), []byte(`"matches":[{`)) {
		t.Error("no rule matched in the corpus: the comparison proves nothing")
	}
}
