package replay

import (
	"path/filepath"
	"testing"

	"github.com/vigie-bot/vigie/rules/replay/internal/corpus"
)

// WriteCorpus is for the tests of package replay_test.
var WriteCorpus = writeCorpus

// sharedData is the labelled public data, next to the repository.
const sharedData = "../../../shared/data"

// writeCorpus writes n events to a JSON Lines file in dir (see package corpus):
// the labelled public data when it is there, else synthetic chat.
func writeCorpus(tb testing.TB, dir string, n int) string {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(sharedData, "*.jsonl"))
	// A small corpus needs only the head of each file.
	base, err := corpus.Load(sharedData, n/max(len(files), 1)+1)
	if err != nil {
		tb.Fatal(err)
	}
	if len(base) == 0 {
		base = corpus.Synthetic()
	}
	path := filepath.Join(dir, "events.jsonl")
	if err := corpus.WriteFile(path, base, n); err != nil {
		tb.Fatal(err)
	}
	return path
}
