package replay

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// WriteCorpus is for the tests of package replay_test.
var WriteCorpus = writeCorpus

// sharedData is the labelled public data, next to the repository.
const sharedData = "../../../shared/data"

// writeCorpus writes n events to a JSON Lines file in dir: the labelled public
// data when it is there, dealt in a fixed shuffle so that every source is mixed
// through the file, else synthetic chat. Ids and times are rewritten so that no
// event is a duplicate and time only goes forward, as in a real history.
func writeCorpus(tb testing.TB, dir string, n int) string {
	tb.Helper()
	var base []map[string]any
	files, _ := filepath.Glob(filepath.Join(sharedData, "*.jsonl"))
	// A small corpus needs only the head of each file.
	perFile := n/max(len(files), 1) + 1
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for read := 0; read < perFile && sc.Scan(); read++ {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				base = append(base, m)
			}
		}
		f.Close()
	}
	if len(base) == 0 {
		texts := []string{"salut tout le monde", "free nitro here: https://disc0rd-gift.xyz/claim",
			"what are your opening hours?", "T'ES VRAIMENT UN IDIOT", "gg wp 🎉🎉", "check my channel!!!",
			"quelqu'un a le lien du live ?", "you are an idiot", "bonne soirée", "buy followers cheap"}
		for i := range 1000 {
			base = append(base, map[string]any{
				"platform": "discord", "kind": "message", "space": "guild-1", "channel": "general",
				"author": map[string]any{"id": fmt.Sprintf("u-%d", i%97), "name": "user"},
				"text":   texts[i%len(texts)],
			})
		}
	}
	path := filepath.Join(dir, "events.jsonl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		ev := base[(i*7919)%len(base)]
		ev["id"] = fmt.Sprintf("g-%d", i)
		ev["at"] = t0.Add(time.Duration(i) * 3 * time.Second).Format(time.RFC3339)
		if err := enc.Encode(ev); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}
