// Package corpus writes long, realistic event histories for replay's tests and
// benchmarks: the labelled public data, dealt over and over with fresh ids,
// authors and a clock that only goes forward.
package corpus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Start is the time of a corpus's first event.
var Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Spacing is the time between two events of a corpus: a busy community's pace,
// so that a million events cover about a month, longer than any window or TTL
// of the starter pack but the strikes'.
const Spacing = 3 * time.Second

// Base is what a corpus is dealt from: events as JSON objects.
type Base []map[string]any

// Load reads up to perFile events from each JSON Lines file of dir (perFile <=
// 0: all). It returns an empty base when dir has none.
func Load(dir string, perFile int) (Base, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var base Base
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for read := 0; (perFile <= 0 || read < perFile) && sc.Scan(); read++ {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				base = append(base, m)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return base, nil
}

// Synthetic is a small base of chat messages, for when the public data is not
// there.
func Synthetic() Base {
	texts := []string{"salut tout le monde", "free nitro here: https://disc0rd-gift.xyz/claim",
		"what are your opening hours?", "T'ES VRAIMENT UN IDIOT", "gg wp 🎉🎉", "check my channel!!!",
		"quelqu'un a le lien du live ?", "you are an idiot", "bonne soirée", "buy followers cheap"}
	base := make(Base, 0, 1000)
	for i := range 1000 {
		base = append(base, map[string]any{
			"platform": "discord", "kind": "message", "space": "guild-1", "channel": "general",
			"author": map[string]any{"id": fmt.Sprintf("u-%d", i%97), "name": "user"},
			"text":   texts[i%len(texts)],
		})
	}
	return base
}

// Write writes n events dealt from base to w, one JSON object a line. The base
// is dealt in a fixed shuffle, so that every source is mixed through the file;
// each pass over it is a new crowd: ids are g-0, g-1, ..., and an author id
// gets the number of the pass, so that a long corpus keeps meeting people it
// has never seen, as a long history does. Event i is at Start + i×Spacing.
func Write(w io.Writer, base Base, n int) error {
	if len(base) == 0 {
		return fmt.Errorf("corpus: empty base")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	// a step prime to the base's length makes the deal a permutation
	step := 7919
	for gcd(step, len(base)) != 1 {
		step += 2
	}
	authors := make([]string, len(base))
	for i, ev := range base {
		if a, ok := ev["author"].(map[string]any); ok {
			authors[i], _ = a["id"].(string)
		}
	}
	for i := range n {
		j := (i * step) % len(base)
		ev := base[j]
		ev["id"] = fmt.Sprintf("g-%d", i)
		ev["at"] = Start.Add(time.Duration(i) * Spacing).Format(time.RFC3339)
		if a, ok := ev["author"].(map[string]any); ok && authors[j] != "" {
			if pass := i / len(base); pass > 0 {
				a["id"] = fmt.Sprintf("%s~%d", authors[j], pass)
			} else {
				a["id"] = authors[j]
			}
		}
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteFile writes a corpus of n events to path.
func WriteFile(path string, base Base, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, base, n); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
