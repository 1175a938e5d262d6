package replay_test

import (
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
	"time"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/faq"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/replay"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// oneEngine is the reference a replay must agree with: every event through one
// engine on one memory store, as live vigie judges them, with the store's
// own dedupe and strikes kept as long as live. It returns the decisions file.
func oneEngine(t *testing.T, rs *rules.Ruleset, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	eng := rules.NewEngine(rs, memory.New(), rules.Options{})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	rd := bot.NewReader(f)
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return buf.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		v, err := eng.Evaluate(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(replay.Decision{ID: ev.ID, Label: ev.Label, Verdict: v}); err != nil {
			t.Fatal(err)
		}
	}
}

// A replay spreads the spaces over goroutines, decides the dedupe apart and
// keeps strikes only as long as the rules read them: none of it may change a
// verdict, whatever the number of workers. The history mixes the public data
// (five spaces, copies among the YouTube comments), ids seen again
// in the same space and in others, and an author whose insults come 7 hours
// apart, so that strikes("24h") counts strikes from 21 hours before, and
// floods.
func TestLanesAgreeWithOneEngine(t *testing.T) {
	rs, err := vigie.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, err := os.ReadFile(replay.WriteCorpus(t, dir, 3000))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var end time.Time
	for i, line := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse(time.RFC3339, ev["at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i%50 == 10:
			ev["id"] = fmt.Sprintf("g-%d", i-3) // a retry, maybe from another space
		case i%50 == 20:
			ev["id"] = fmt.Sprintf("g-%d", i-7)
			ev["space"] = "elsewhere"
		}
		b, _ := json.Marshal(ev)
		lines = append(lines, string(b))
		end = at
		if i%300 == 150 { // questions, asked again in the same channel
			for j, space := range []string{"guild-1", "guild-1", "guild-2"} {
				b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("q-%d-%d", i, j), "platform": "discord",
					"space": space, "channel": "general", "author": map[string]any{"id": fmt.Sprintf("q-%d", j)},
					"text": "what are your opening hours?", "at": at.Add(time.Duration(j) * time.Second).Format(time.RFC3339)})
				lines = append(lines, string(b))
			}
		}
		if i%700 == 350 { // a flood
			for j := range 7 {
				b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("fast-%d-%d", i, j), "platform": "discord",
					"space": "guild-1", "author": map[string]any{"id": "fast"}, "text": fmt.Sprintf("hey %d", j),
					"at": at.Add(time.Duration(j) * time.Second).Format(time.RFC3339), "label": "ok"})
				lines = append(lines, string(b))
			}
		}
	}
	for i := range 20 { // then insults every 7 hours
		b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("rude-%d", i), "platform": "discord",
			"space": "guild-1", "author": map[string]any{"id": "rude"}, "text": "you are such an idiot",
			"at": end.Add(time.Duration(i+1) * 7 * time.Hour).Format(time.RFC3339), "label": "abuse"})
		lines = append(lines, string(b))
	}
	path := filepath.Join(dir, "history.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	want := oneEngine(t, rs, path)
	for _, check := range []string{`"duplicate":true`, `"rule":"repeat-offender"`, `"rule":"flood"`, `"rule":"copy-wave"`} {
		if !strings.Contains(want, check) {
			t.Fatalf("no %s in the reference: the comparison would prove little", check)
		}
	}
	// The FAQ is asked after the lanes, in file order: its answers and
	// cooldowns do not depend on the workers either.
	matcher, err := faq.Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	newFAQ := func() func(context.Context, *bot.Event, bot.Verdict) string {
		a, err := faq.New(faq.Options{Store: memory.New(), OpenCase: func(context.Context, *rules.Ruleset, store.Case) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		return func(ctx context.Context, ev *bot.Event, v bot.Verdict) string {
			d, _ := a.Handle(ctx, matcher, ev, v)
			if d.Why == faq.WhyCooldown {
				return string(faq.Cooldown)
			}
			return string(d.Kind)
		}
	}
	var sum1, dec1 []byte
	for _, workers := range []int{1, 2, 3, 8} {
		var dec bytes.Buffer
		_, err := replay.Run(context.Background(), rs, []replay.Input{replay.File(path)},
			replay.Options{Workers: workers, Decisions: &dec})
		if err != nil {
			t.Fatal(err)
		}
		if got := dec.String(); got != want {
			t.Errorf("workers=%d: the decisions differ from one engine's:\n%s", workers, firstDiff(got, want))
		}
		dec.Reset()
		s, err := replay.Run(context.Background(), rs, []replay.Input{replay.File(path)},
			replay.Options{Workers: workers, Decisions: &dec, FAQ: newFAQ()})
		if err != nil {
			t.Fatal(err)
		}
		sum, _ := s.JSON()
		if sum1 == nil {
			sum1, dec1 = sum, bytes.Clone(dec.Bytes())
			for _, check := range []string{`"faq":"answer"`, `"faq":"cooldown"`} {
				if !bytes.Contains(dec1, []byte(check)) {
					t.Fatalf("no %s in the decisions: the comparison would prove little", check)
				}
			}
			continue
		}
		if !bytes.Equal(sum, sum1) {
			t.Errorf("workers=%d: summary\n%s\nwant (workers=1)\n%s", workers, sum, sum1)
		}
		if !bytes.Equal(dec.Bytes(), dec1) {
			t.Errorf("workers=%d: the decisions with the FAQ differ from workers=1's:\n%s", workers, firstDiff(dec.String(), string(dec1)))
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}
