package rules_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// FuzzParse feeds rule files to Parse: it must never panic, every problem must
// have a position, and a file that loads must evaluate an event without panicking.
// Under go test it runs the seed corpus: the files of testdata and the starter pack.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	seeds = append(seeds, filepath.Join("..", "rules.example.yaml"))
	for _, s := range seeds {
		f.Add(mustRead(f, s))
	}
	f.Add([]byte("rules: [{name: a, when: 'matches(text, \"\\\\w\")', do: [ban(1w)]}]"))
	f.Add([]byte("rules:\n  - name: x\n    when: |\n      text ==\n        nope\n"))
	opts := rules.LoadOptions{
		LookupEnv: func(k string) (string, bool) { return "v", k == "SET" },
		ReadFile:  func(string) ([]byte, error) { return []byte("spam\n# c\neggs\n"), nil },
	}
	ev := bot.Event{ID: "1", Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "c",
		Author: bot.Author{ID: "u", Name: "U"}, Text: "hello https://bit.ly/x @a 🔥 IDIOT",
		At: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, src []byte) {
		rs, err := rules.Parse("fuzz.yaml", src, opts)
		if err != nil {
			var le *rules.LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			for _, p := range le.Problems {
				if p.Line < 1 || p.Col < 1 || p.File != "fuzz.yaml" || p.Msg == "" {
					t.Fatalf("problem without a position: %#v", p)
				}
			}
			return
		}
		eng := rules.NewEngine(rs, memory.New(), rules.Options{})
		if _, err := eng.Evaluate(context.Background(), ev); err != nil {
			t.Fatalf("evaluate: %v", err)
		}
		rs.CheckPlatform(fakePlatform{"p"})
	})
}
