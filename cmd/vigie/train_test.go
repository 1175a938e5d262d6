package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules/replay"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const modelRules = `models:
  spam: {file: model/spam.bin}
rules:
  - name: spam-model
    category: spam
    when: kind == "comment" and score("spam") > 0.5
    do: [delete]
`

// vigie train writes a model that vigie check loads and vigie replay uses,
// the same bytes for the same examples; the rule file refuses it once changed.
func TestTrainWritesAModelTheRulesRead(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model", "spam.bin")
	r := run("train", "--label", "spam", "--out", model, "testdata/train.jsonl")
	if r.code != 0 || !strings.Contains(r.stdout, "testdata/train.jsonl: 20 examples: 10 spam, 10 ok; 2 left out\n") ||
		!strings.Contains(r.stdout, "trained spam on 20 examples (10 spam)") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	first, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if r := run("train", "--label", "spam", "--out", model, "testdata/train.jsonl"); r.code != 0 {
		t.Fatalf("again: exit %d, stderr %q", r.code, r.stderr)
	}
	if again, _ := os.ReadFile(model); !bytes.Equal(first, again) {
		t.Error("the same examples made another model")
	}
	config := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(config, []byte(modelRules), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run("check", "--config", config); r.code != 0 {
		t.Fatalf("check: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := spamScore(t, "replay", "--config", config, "--format", "json", "testdata/train.jsonl"); got != "10/0/0/12" {
		t.Errorf("replay: spam tp/fp/fn/tn %s, want 10/0/0/12", got)
	}
	if got := spamScore(t, "replay", "--config", config, "--model", "spam=off", "--format", "json", "testdata/train.jsonl"); got != "0/0/10/12" {
		t.Errorf("replay with the model off: spam tp/fp/fn/tn %s, want 0/0/10/12", got)
	}
	if got := spamScore(t, "replay", "--config", config, "--model", "spam="+model, "--format", "json", "testdata/train.jsonl"); got != "10/0/0/12" {
		t.Errorf("replay with the model given: spam tp/fp/fn/tn %s, want 10/0/0/12", got)
	}
	r = run("replay", "--config", config, "--compare", "testdata/train.jsonl")
	if want := lines("",
		"before: without the file's models; after: with them",
		"category       tp  fp      fn      precision         recall  fp rate",
		"abuse           0   0       2          0.000          0.000    0.000",
		"spam       0 → 10   0  10 → 0  0.000 → 1.000  0.000 → 1.000    0.000",
		"(overall)  0 → 10   0  12 → 2  0.000 → 1.000  0.000 → 0.833    0.000"); r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("replay --compare: exit %d, stdout\n%s\nwant it to hold\n%s", r.code, r.stdout, want)
	}
	if r := run("replay", "--config", config, "--model", "spma=off", "testdata/train.jsonl"); r.code != 2 || !strings.Contains(r.stderr, "--model spma: the rule file has no model spma") {
		t.Errorf("an unknown model: exit %d, stderr %q", r.code, r.stderr)
	}
	first[len(first)/2] ^= 1
	if err := os.WriteFile(model, first, 0o644); err != nil {
		t.Fatal(err)
	}
	r = run("check", "--config", config)
	want := config + ":2:16: model \"spam\": " + model + ": corrupt model file: checksum mismatch (cut short or changed since it was written)\n"
	if r.code != 1 || r.stdout != want {
		t.Errorf("check of a changed model: exit %d, stdout %q, want %q", r.code, r.stdout, want)
	}
}

// spamScore runs a replay in JSON and returns the spam category's counts.
func spamScore(t *testing.T, args ...string) string {
	t.Helper()
	r := run(args...)
	var sum struct {
		ByCategory map[string]struct{ TP, FP, FN, TN int } `json:"by_category"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); r.code != 0 || err != nil {
		t.Fatalf("%v: exit %d, %v, stderr %s", args, r.code, err, r.stderr)
	}
	s := sum.ByCategory["spam"]
	return fmt.Sprintf("%d/%d/%d/%d", s.TP, s.FP, s.FN, s.TN)
}

func TestTrainCrossValidates(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model", "spam.bin")
	if r := run("train", "--label", "spam", "--out", model, "testdata/train.jsonl"); r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	config := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(config, []byte(modelRules), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run("train", "--label", "spam", "--cv", "2", "--curve", "--target", "train.jsonl=0.9/0.05", "--config", config, "--model", "spam", "testdata/train.jsonl")
	for _, want := range []string{
		"(the most recall with train.jsonl precision >= 0.9, fp rate <= 0.05 on them, pooled)",
		"\nfold  shift  0.5 acts as  0.9 acts as           train.jsonl\n1     ",
		"2-fold cross-validation of spam on 20 examples",
		"\nfold  examples  tp  fp  fn  tn  precision  recall  fp rate\n1           10",
		"\nmean  ",
		"> 0.50  ",
		"train.jsonl without",
		// the curve: a threshold of 0.5 acts as 0.5 unshifted, as 0.881
		// with the scores' log-odds lowered by 2
		"\nshift  0.5 acts as  0.9 acts as        train.jsonl\n",
		"\n-2.00        0.881        0.985  ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 0 {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	// unshifted, the curve is the file with the fold's model; the more the
	// scores are raised, the more the rule finds: recall never falls, and
	// at the top every comment is found
	_, pack, _ := strings.Cut(r.stdout, "without the model spam and with the fold's:\n")
	_, curve, _ := strings.Cut(pack, "\nshift  ")
	var with string
	for _, line := range strings.Split(pack, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "mean" {
			with = f[2]
		}
	}
	prev := -1.0
	var last string
	for _, line := range strings.Split(curve, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) != 4 {
			break
		}
		if f[0] == "+0.00" && f[3] != with {
			t.Errorf("unshifted the curve reads %s, the file with the fold's model %s", f[3], with)
		}
		var p, rec, fpr float64
		if _, err := fmt.Sscanf(f[3], "%f/%f/%f", &p, &rec, &fpr); err != nil || rec < prev {
			t.Errorf("curve row %q: recall %.3f after %.3f (%v)", line, rec, prev, err)
		}
		prev, last = rec, f[3]
	}
	if with == "" || last != "0.500/1.000/1.000" {
		t.Errorf("the file with the fold's model %q, the curve's last row %q, want 0.500/1.000/1.000:\n%s", with, last, r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.bin")); err == nil {
		t.Error("--cv wrote a model")
	}
	for _, c := range [][]string{
		{"train", "--out", "x.bin", "testdata/train.jsonl"},
		{"train", "--label", "spam", "testdata/train.jsonl"},
		{"train", "--label", "spam", "--cv", "1", "testdata/train.jsonl"},
		{"train", "--label", "spam", "--cv", "2", "--config", config, "testdata/train.jsonl"},
		{"train", "--label", "spam", "--cv", "2", "--curve", "testdata/train.jsonl"},
		{"train", "--label", "spam", "--cv", "2", "--target", "train.jsonl=0.9", "testdata/train.jsonl"},
		{"train", "--label", "spam", "--cv", "2", "--target", "other.jsonl=0.9", "--config", config, "--model", "spam", "testdata/train.jsonl"},
		{"train", "--label", "spam", "--cv", "2", "--target", "train.jsonl=high", "--config", config, "--model", "spam", "testdata/train.jsonl"},
		{"train", "--label", "spam", "--cv", "2", "--target", "train.jsonl=0.9/2", "--config", config, "--model", "spam", "testdata/train.jsonl"},
		{"train", "--label", "spam", "--out", "x.bin", "--curve", "--config", config, "--model", "spam", "testdata/train.jsonl"},
		{"train", "--label", "spam", "--out", "x.bin"},
	} {
		if r := run(c...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c, r.code, r.stderr)
		}
	}
}

// Each fold's shift is chosen on the other folds alone, pooled: the fold it
// is applied to has no say.
func TestChooseShiftOnTheOtherFolds(t *testing.T) {
	shifts := []float64{-1, 0, 1}
	// one file, three shifts, three folds: the higher the shift, the more
	// is found and the more false positives
	sc := func(tp, fp, fn, tn int) replay.Score { return replay.Score{TP: tp, FP: fp, FN: fn, TN: tn} }
	scores := [][][]replay.Score{{
		{sc(80, 0, 20, 100), sc(80, 0, 20, 100), sc(80, 0, 20, 100)},
		{sc(90, 2, 10, 98), sc(90, 2, 10, 98), sc(90, 30, 10, 70)},
		{sc(95, 9, 5, 91), sc(95, 9, 5, 91), sc(95, 9, 5, 91)},
	}}
	targets := []target{{name: "a", file: 0, precision: 0.95, maxFPR: 0.05}}
	for _, c := range []struct {
		held int
		want int
		met  bool
	}{
		{held: 0, want: 0, met: true}, // fold 3's false positives at 0 rule shift 0 out
		{held: 1, want: 0, met: true},
		{held: 2, want: 1, met: true}, // folds 1 and 2 alone: 0.02 false positives at 0
	} {
		got, met := chooseShift(scores, shifts, targets, c.held)
		if got != c.want || met != c.met {
			t.Errorf("fold %d held: shift %v (met %v), want %v (met %v)", c.held+1, shifts[got], met, shifts[c.want], c.met)
		}
	}
	// a target no shift meets: the lowest shift, said not met
	if got, met := chooseShift(scores, shifts, []target{{file: 0, precision: 1.1, maxFPR: 1}}, 0); got != 0 || met {
		t.Errorf("an unmet target: shift %v (met %v), want -1, not met", shifts[got], met)
	}
}

// --caught-weight weighs less the examples the rule file finds without the
// model: here the four comments that say "subscribe", not those the shadow
// rule would find.
func TestTrainWeighsWhatTheRulesFind(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model", "spam.bin")
	if r := run("train", "--label", "spam", "--out", model, "testdata/train.jsonl"); r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	config := filepath.Join(dir, "rules.yaml")
	rules := modelRules + `  - name: subscribe
    category: spam
    when: matches(text, '(?i)subscribe')
    do: [delete]
  - name: subscribe-shadow
    category: spam
    when: matches(text, '(?i)channel')
    do: [delete]
    mode: shadow
`
	if err := os.WriteFile(config, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	weighed := filepath.Join(dir, "weighed.bin")
	r := run("train", "--label", "spam", "--caught-weight", "0.5", "--config", config, "--model", "spam", "--out", weighed, "testdata/train.jsonl")
	if r.code != 0 || !strings.Contains(r.stdout, config+" finds 4 of the examples without the model: they weigh 0.5\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	plain, _ := os.ReadFile(model)
	if got, _ := os.ReadFile(weighed); bytes.Equal(got, plain) {
		t.Error("the examples the rules find weigh as much as the others")
	}
	for _, c := range [][]string{
		{"train", "--label", "spam", "--caught-weight", "0.5", "--out", "x.bin", "testdata/train.jsonl"},
		{"train", "--label", "spam", "--caught-weight", "0", "--config", config, "--model", "spam", "--out", "x.bin", "testdata/train.jsonl"},
		{"train", "--label", "spam", "--config", config, "--model", "spam", "--out", "x.bin", "testdata/train.jsonl"},
	} {
		if r := run(c...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c, r.code, r.stderr)
		}
	}
}

// decided opens a case for text and decides it.
func decided(t *testing.T, st store.Store, id, text, category, outcome string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	c, err := st.OpenCase(ctx, store.Case{
		Opened: at, Event: bot.Event{ID: id, Platform: "discord", Space: "g", Channel: "c", Text: text, Author: bot.Author{ID: "a-" + id}, At: at},
		Rule: category + "-rule", Category: category, Reason: "r",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideCase(ctx, c.ID, outcome, "telegram:1", "", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}

// The desk's decisions are examples: kept or overturned is negative, a case
// of the label's category removed positive; the rest says nothing.
func TestTrainReadsTheDesksDecisions(t *testing.T) {
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			st := redistest.OpenStore(t, kind)
			at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
			decided(t, st, "1", "check out my channel", "spam", "delete", at)
			decided(t, st, "2", "free nitro", "spam", "ban(7d)", at.Add(time.Minute))
			decided(t, st, "3", "see you tonight", "spam", "keep", at.Add(2*time.Minute))
			decided(t, st, "4", "my new video", "spam", "unhide", at.Add(3*time.Minute))
			decided(t, st, "5", "you idiot", "abuse", "delete", at.Add(4*time.Minute))         // another category: left out
			decided(t, st, "6", "what time is it?", "", `reply("9am")`, at.Add(5*time.Minute)) // a reply: left out
			decided(t, st, "7", "gg wp", "abuse", "keep", at.Add(6*time.Minute))               // kept: fine for any model
			var set exampleSet
			n, err := set.readStore(context.Background(), st, "spam", 3)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := n.String(), "5 examples: 2 spam, 3 ok (1 of them overturned bot decisions); 2 left out"; got != want {
				t.Errorf("counts %q, want %q", got, want)
			}
			got := map[string]string{}
			for _, ex := range set.examples {
				got[ex.Text] = fmt.Sprintf("%v/%v", ex.Positive, ex.Weight)
			}
			want := map[string]string{
				"check out my channel": "true/0", "free nitro": "true/0",
				"see you tonight": "false/0", "my new video": "false/3", "gg wp": "false/0",
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("examples %v, want %v", got, want)
			}
		})
	}
}

// vigie train --from-store reads the cases of the Redis vigie run uses.
func TestTrainFromStore(t *testing.T) {
	url := redistest.Start(t).URL()
	st, err := redis.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	decided(t, st, "1", "subscribe to my channel now", "spam", "delete", at)
	decided(t, st, "2", "nice stream today", "spam", "keep", at.Add(time.Minute))
	st.Close()
	model := filepath.Join(t.TempDir(), "spam.bin")
	r := run("train", "--label", "spam", "--from-store", "--redis", url, "--out", model, "testdata/train.jsonl")
	if r.code != 0 || !strings.Contains(r.stdout, "desk decisions: 2 examples: 1 spam, 1 ok\n") ||
		!strings.Contains(r.stdout, "trained spam on 22 examples (11 spam)") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runIn(context.Background(), "", map[string]string{}, "train", "--label", "spam", "--from-store", "--out", model)
	if r.code != 2 || !strings.Contains(r.stderr, "--from-store needs --redis URL") {
		t.Errorf("without a store: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Each file's positives and negatives weigh the same in total with
// --balance; labels outside --negatives are left out.
func TestTrainBalancesEachFile(t *testing.T) {
	for _, c := range []struct {
		balance   bool
		negatives []string
		want      string
	}{
		{true, []string{"ok"}, "20 examples: 10 spam, 10 ok; 2 left out, weights 1.00/1.00"},
		{true, []string{"ok", "abuse"}, "22 examples: 10 spam, 12 ok, weights 1.10/0.92"},
		{false, []string{"ok", "abuse"}, "22 examples: 10 spam, 12 ok, weights 0.00/0.00"},
	} {
		var set exampleSet
		n, err := set.readFile("testdata/train.jsonl", "spam", c.negatives, c.balance)
		if err != nil {
			t.Fatal(err)
		}
		var pos, neg float64
		for _, ex := range set.examples {
			if ex.Positive {
				pos = ex.Weight
			} else {
				neg = ex.Weight
			}
		}
		if got := fmt.Sprintf("%s, weights %.2f/%.2f", n, pos, neg); got != c.want {
			t.Errorf("balance %v, negatives %v: %s, want %s", c.balance, c.negatives, got, c.want)
		}
	}
}
