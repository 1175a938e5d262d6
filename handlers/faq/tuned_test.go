package faq

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestTunedSets prints the figures of the sets the matcher may be tuned on
// (testdata/read, testdata/read2, the brands' tuned sets; the brands'
// held-out sets and testdata/leavealone.tsv as guards), never the sealed
// ones, and with FAQ_MISSES=FILE writes every miss there, sorted by cause.
func TestTunedSets(t *testing.T) {
	type set struct{ glob, file string }
	sets := []set{
		{"read", "heldout.tsv"}, {"read2", "heldout.tsv"},
		{"brands", "tuned.tsv"}, {"brands", "heldout.tsv"},
	}
	var out strings.Builder
	causes := map[string]int{}
	for _, s := range sets {
		files, err := filepath.Glob(filepath.Join("testdata", s.glob, "*", "faq.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v, %v", s.glob, files, err)
		}
		var all Eval
		for _, f := range files {
			e := evalFile(t, loadMatcher(t, f), filepath.Join(filepath.Dir(f), s.file))
			all = all.Add(e)
			for _, x := range e.Misses {
				c := missCause(x)
				causes[s.glob+" "+c]++
				fmt.Fprintf(&out, "%s\t%s/%s:%d\twant %s\t%q\t→ %s %s\t%v\t%v\t%s\n", c, s.glob, filepath.Base(filepath.Dir(f)), x.Line, x.Expect, x.Text, x.Decision.Kind, x.Decision.Entry, x.Decision.Candidates, x.Decision.Terms, x.Decision.Why)
			}
		}
		t.Logf("%-7s %-12s %s", s.glob, s.file, all)
	}
	var la Eval
	for _, dir := range []string{"brands", "read"} {
		fs, _ := filepath.Glob(filepath.Join("testdata", dir, "*", "faq.yaml"))
		for _, f := range fs {
			la = la.Add(evalFile(t, loadMatcher(t, f), filepath.Join("testdata", "leavealone.tsv")))
		}
	}
	t.Logf("leavealone answered %d of %d", la.WrongOthers, la.Others)
	keys := make([]string, 0, len(causes))
	for k := range causes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  %-30s %d", k, causes[k])
	}
	if p := os.Getenv("FAQ_MISSES"); p != "" {
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		sort.Strings(lines)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// missCause sorts a miss by where the right entry stood.
func missCause(x EvalMiss) string {
	d := x.Decision
	if x.Expect == None {
		return "0-answered-chat"
	}
	if d.Kind == Answer || d.Kind == Suggest {
		return "5-wrong-entry"
	}
	rank := -1
	var score float64
	for i, c := range d.Candidates {
		if c.ID == x.Expect {
			rank, score = i, c.Score
			break
		}
	}
	switch {
	case len(d.Candidates) == 0:
		return "1-no-candidate"
	case rank < 0:
		return "2-not-candidate"
	case rank > 0:
		return "4-right-not-first"
	case score >= 0.45:
		return "3a-first>=0.45"
	case score >= 0.3:
		return "3b-first.3-.45"
	default:
		return "3c-first<.3"
	}
}
