package replay_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/replay"
)

func loadRules(t testing.TB) *rules.Ruleset {
	t.Helper()
	rs, err := rules.Load("testdata/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// testdata/labelled.jsonl, event by event (spam-words, insult in shadow mode,
// flood when an author sends a third message within 10s). Only enforced rules
// flag; insult, in shadow, is scored apart:
//
//	line  id      label  matches             spam  abuse  flood  overall  insult (shadow)
//	1     e1      spam   spam-words          tp    tn     tn     tp
//	2     e2      ok     -                   tn    tn     tn     tn
//	3     e3      abuse  insult (shadow)     tn    fn     tn     fn       tp, unflagged (+tp)
//	4     (blank: not an event, not skipped)
//	5     e4      ok     spam-words          fp    tn     tn     fp
//	6     e5      spam   -                   fn    tn     tn     fn
//	7     bad-at  (no "at": skipped)
//	8     (not JSON: skipped)
//	9     e6      ok     -                   tn    tn     tn     tn
//	10    e7      ok     -                   tn    tn     tn     tn
//	11    e8      ok     flood (3rd in 2s)   tn    tn     fp     fp
//	12    e2      (duplicate id: counted as an event, not scored)
//	13    e9      abuse  spam-words, insult  fp    fn     tn     tp       tp
const wantLabelled = `{
  "events": 10,
  "flagged": 4,
  "shadow_only": 1,
  "skipped": 2,
  "duplicates": 1,
  "labelled": 9,
  "by_rule": {
    "flood": 1,
    "insult": 2,
    "spam-words": 3
  },
  "by_category": {
    "abuse": {
      "tp": 0,
      "fp": 0,
      "fn": 2,
      "tn": 7,
      "precision": 0,
      "recall": 0,
      "f1": 0,
      "false_positive_rate": 0
    },
    "flood": {
      "tp": 0,
      "fp": 1,
      "fn": 0,
      "tn": 8,
      "precision": 0,
      "recall": 0,
      "f1": 0,
      "false_positive_rate": 0.111
    },
    "spam": {
      "tp": 1,
      "fp": 2,
      "fn": 1,
      "tn": 5,
      "precision": 0.333,
      "recall": 0.5,
      "f1": 0.4,
      "false_positive_rate": 0.286
    }
  },
  "overall": {
    "tp": 2,
    "fp": 2,
    "fn": 2,
    "tn": 3,
    "precision": 0.5,
    "recall": 0.5,
    "f1": 0.5,
    "false_positive_rate": 0.4
  },
  "shadow": {
    "insult": {
      "category": "abuse",
      "hits": 2,
      "tp": 2,
      "fp": 0,
      "precision": 1,
      "unflagged": 1,
      "unflagged_tp": 1,
      "unflagged_fp": 0
    }
  }
}`

func TestRunLabelled(t *testing.T) {
	rs := loadRules(t)
	for _, workers := range []int{1, 2, 8} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			var skipped []string
			var decisions bytes.Buffer
			s, err := replay.Run(context.Background(), rs, []replay.Input{replay.File("testdata/labelled.jsonl")},
				replay.Options{
					Workers:   workers,
					Decisions: &decisions,
					Skipped: func(file string, line int, err error) {
						skipped = append(skipped, fmt.Sprintf("%s:%d: %v", file, line, err))
					},
				})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != wantLabelled {
				t.Errorf("summary\n%s\nwant\n%s", got, wantLabelled)
			}
			wantSkipped := []string{
				`testdata/labelled.jsonl:7: missing field "at"`,
				`testdata/labelled.jsonl:8: invalid JSON at byte 2: invalid character 'o' in literal null (expecting 'u')`,
			}
			if strings.Join(skipped, "\n") != strings.Join(wantSkipped, "\n") {
				t.Errorf("skipped lines\n%s\nwant\n%s", strings.Join(skipped, "\n"), strings.Join(wantSkipped, "\n"))
			}

			// One decision per event, in file order, duplicates included.
			var ids []string
			sc := bufio.NewScanner(&decisions)
			for sc.Scan() {
				var d replay.Decision
				if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
					t.Fatalf("decision %q: %v", sc.Text(), err)
				}
				var rules []string
				for _, m := range d.Verdict.Matches {
					rules = append(rules, m.Rule)
				}
				ids = append(ids, fmt.Sprintf("%s/%s/%s", d.ID, d.Label, strings.Join(rules, "+")))
			}
			want := "e1/spam/spam-words e2/ok/ e3/abuse/insult e4/ok/spam-words e5/spam/ " +
				"e6/ok/ e7/ok/ e8/ok/flood e2/ok/ e9/abuse/spam-words+insult"
			if got := strings.Join(ids, " "); got != want {
				t.Errorf("decisions\n got %s\nwant %s", got, want)
			}
		})
	}
}

// Several inputs are one history: the counters and the dedupe carry over from one
// to the next, and a stream can come from stdin.
func TestRunInputsAreOneHistory(t *testing.T) {
	rs := loadRules(t)
	ev := func(id, at string) string {
		return fmt.Sprintf(`{"id": %q, "platform": "p", "author": {"id": "u1"}, "text": "hi", "at": "2026-11-20T10:00:%sZ", "label": "ok"}`+"\n", id, at)
	}
	dir := t.TempDir()
	first := filepath.Join(dir, "first.jsonl")
	if err := os.WriteFile(first, []byte(ev("a", "00")+ev("b", "01")), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := replay.Run(context.Background(), rs, []replay.Input{
		replay.File(first),
		replay.Stream("-", strings.NewReader(ev("c", "02")+ev("a", "03"))),
	}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Events != 4 || s.Duplicates != 1 || s.ByRule["flood"] != 1 {
		t.Errorf("events %d duplicates %d flood %d, want 4, 1 (a again) and 1 (c, the third message)",
			s.Events, s.Duplicates, s.ByRule["flood"])
	}
}

func TestRunStopsOnUnreadableInput(t *testing.T) {
	rs := loadRules(t)
	firstLine := `{"id": "a", "platform": "p", "author": {"id": "u"}, "text": "", "at": "2026-11-20T10:00:00Z"}` + "\n"
	tests := []struct {
		name  string
		input func() replay.Input // a fresh stream for each run
		want  string
	}{
		{"missing file", func() replay.Input { return replay.File("testdata/nope.jsonl") },
			"open testdata/nope.jsonl: no such file or directory"},
		{"line too long", func() replay.Input {
			return replay.Stream("big", io.MultiReader(strings.NewReader(firstLine),
				strings.NewReader(strings.Repeat("x", 17<<20))))
		}, "big:2: bufio.Scanner: token too long"},
		{"read error", func() replay.Input {
			return replay.Stream("broken", io.MultiReader(strings.NewReader(firstLine), errReader{}))
		}, "broken:2: disk on fire"},
	}
	for _, tt := range tests {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/workers=%d", tt.name, workers), func(t *testing.T) {
				_, err := replay.Run(context.Background(), rs, []replay.Input{tt.input()}, replay.Options{Workers: workers})
				if err == nil || err.Error() != tt.want {
					t.Errorf("got error %v, want %s", err, tt.want)
				}
			})
		}
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestRunCancelled(t *testing.T) {
	rs := loadRules(t)
	path := replay.WriteCorpus(t, t.TempDir(), 3000)
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := replay.Run(ctx, rs, []replay.Input{replay.File(path)}, replay.Options{
				Workers: workers,
				// Cancel from inside, as Ctrl-C would, once some events are done.
				Progress: func(done int) { cancel() },
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got error %v, want context.Canceled", err)
			}
			if s.Events >= 3000 {
				t.Errorf("replayed all %d events despite the cancel", s.Events)
			}
		})
	}
}

// The parallel decoder must give exactly what bot.Reader gives, line for line,
// on a file mixing good events, bad lines and blank lines.
func TestWorkersAgree(t *testing.T) {
	rs := loadRules(t)
	dir := t.TempDir()
	path := replay.WriteCorpus(t, dir, 2000)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	for i := 0; i < len(lines); i += 97 {
		lines[i] = []string{"", "{", `{"id": "x"}`, "   "}[i%4]
	}
	mixed := filepath.Join(dir, "mixed.jsonl")
	if err := os.WriteFile(mixed, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(workers int) (string, string, string) {
		var dec, skipped bytes.Buffer
		s, err := replay.Run(context.Background(), rs, []replay.Input{replay.File(mixed)}, replay.Options{
			Workers:   workers,
			Decisions: &dec,
			Skipped: func(file string, line int, err error) {
				fmt.Fprintf(&skipped, "%d: %v\n", line, err)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		sum, _ := s.JSON()
		return string(sum), dec.String(), skipped.String()
	}
	sum1, dec1, skip1 := run(1)
	if skip1 == "" {
		t.Fatal("the mixed file should have bad lines")
	}
	for _, workers := range []int{2, 3, 16} {
		sum, dec, skip := run(workers)
		if sum != sum1 || dec != dec1 || skip != skip1 {
			t.Errorf("workers=%d differs from workers=1:\n%s\n%s\nvs\n%s\n%s", workers, sum, skip, sum1, skip1)
		}
	}
}
