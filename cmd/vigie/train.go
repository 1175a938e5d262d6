package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/classify"
	"github.com/vigie-bot/vigie/rules/replay"
	"github.com/vigie-bot/vigie/store"
)

// train is `vigie train`: a text classifier for score(), learnt from
// labelled events and from the desk's decisions.
func (c *cli) train(ctx context.Context, args []string) int {
	f := c.flags("train")
	label := f.String("label", "", "the `LABEL` the model learns to find (spam, abuse): events labelled so are positive, those labelled with one of --negatives negative, others are left out")
	negatives := f.String("negatives", "ok", "the `LABELS` (separated by commas) of the events that are negative examples: ok, and for a spam model maybe abuse too (an insult is not spam)")
	balance := f.Bool("balance", true, "weigh each file's positives and negatives to the same total, so that a file's share of one label (a corpus collected around hostile topics) does not become what the model learns about its language or platform")
	out := f.String("out", "", "write the model to `FILE` (like models/spam.bin)")
	cv := f.Int("cv", 0, "do not write a model: measure one by `K`-fold cross-validation (each fold scored by a model trained on the others)")
	threshold := f.Float64("threshold", 0.5, "with --cv, the score `T` above which a text counts as found, for the per-fold figures")
	config := f.String("config", "", "with --model: with --cv, also replay each held-out fold through the rule `FILE`, with the model of the other folds; with --caught-weight, the rules that already find the label")
	modelName := f.String("model", "", "with --config, the `NAME` of the model of the file's models: that the folds' models replace, and that is switched off to see what the rules find without it")
	caughtWeight := f.Float64("caught-weight", 1, "with --config and --model, the `WEIGHT` of an example the rule file already finds without the model (an enforced rule of the label's category), an ordinary example's being 1: below 1, the model spends its weights on what the rules miss")
	fromStore := f.Bool("from-store", false, "learn from the desk's decisions too: a case kept or a bot decision overturned is negative, a case of the label's category deleted, hidden, timed out, kicked or banned positive")
	redisURL := f.String("redis", "", "with --from-store, the Redis at `URL` that vigie run uses (env VIGIE_REDIS_URL)")
	correction := f.Float64("correction-weight", 3, "with --from-store, the `WEIGHT` of an overturned bot decision (unhide, unban, untimeout), an ordinary example's being 1")
	grams := f.Bool("grams", true, "read the words' character n-grams (2 to 5 letters): they help with spam, but see half an insult in \"bitcoin\" or \"Assassin's\"")
	bits := f.Int("bits", 16, "the model's table of weights has 2^`N` entries (a byte each)")
	epochs := f.Int("epochs", 12, "`N` passes over the examples")
	seed := f.Uint64("seed", 1, "`N` orders the examples and the folds: the same examples and seed make the same model")
	curve := f.Bool("curve", false, "with --cv and --config, also replay each held-out fold with the fold's model's log-odds shifted from -3 to 3 (its thresholds moved together: a shift of 1 takes 0.93 to 0.83), to print the rule file's precision/recall curve")
	var targets []target
	f.Func("target", "with --cv and --config, the `FILE=PRECISION[/FPR]` the rule file must reach on the examples of FILE (its base name): for each fold, the shift of the model's log-odds (-2 to 2, by 0.05) that finds the most of the label there with at least PRECISION and at most FPR false positives on the other folds is chosen, and applied to the fold; may be repeated (the shift must meet them all)", func(v string) error {
		t, err := parseTarget(v)
		if err == nil {
			targets = append(targets, t)
		}
		return err
	})
	files, code, ok := f.parse(args)
	if !ok {
		return code
	}
	switch {
	case *label == "":
		return f.usageError("--label: name what the model finds (like spam)")
	case *cv == 0 && *out == "":
		return f.usageError("--out: name the model's file (or --cv K to measure without writing)")
	case *cv == 1 || *cv < 0:
		return f.usageError("--cv must be 2 or more")
	case (*config != "") != (*modelName != ""):
		return f.usageError("--config and --model go together")
	case *curve && (*cv == 0 || *config == ""):
		return f.usageError("--curve needs --cv and --config")
	case len(targets) > 0 && (*cv == 0 || *config == ""):
		return f.usageError("--target needs --cv and --config")
	case *config != "" && *cv == 0 && *caughtWeight == 1:
		return f.usageError("--config needs --cv or --caught-weight")
	case *caughtWeight != 1 && *config == "":
		return f.usageError("--caught-weight needs --config and --model: the rules that find the label")
	case *caughtWeight <= 0:
		return f.usageError("--caught-weight must be more than 0")
	case len(files) == 0 && !*fromStore:
		return f.usageError("no examples: give labelled JSON Lines files, or --from-store")
	case *bits < classify.MinBits || *bits > classify.MaxBits:
		return f.usageError("--bits must be between %d and %d", classify.MinBits, classify.MaxBits)
	case *epochs < 1:
		return f.usageError("--epochs must be 1 or more")
	}
	opts := classify.Options{Bits: *bits, Epochs: *epochs, Seed: *seed, NoGrams: !*grams}

	var set exampleSet
	for _, name := range files {
		n, err := set.readFile(name, *label, strings.Split(*negatives, ","), *balance)
		if err != nil {
			return c.fail("train", err)
		}
		fmt.Fprintf(c.stdout, "%s: %s\n", name, n)
	}
	if *fromStore {
		if *redisURL == "" {
			*redisURL = c.getenv("VIGIE_REDIS_URL")
		}
		if *redisURL == "" {
			return f.usageError("--from-store needs --redis URL (or VIGIE_REDIS_URL): the store vigie run keeps its cases in")
		}
		st, err := c.openRedis(*redisURL)
		if err != nil {
			return c.fail("train", err)
		}
		n, err := set.readStore(ctx, st, *label, *correction)
		st.Close()
		if err != nil {
			return c.fail("train", err)
		}
		fmt.Fprintf(c.stdout, "desk decisions: %s\n", n)
	}
	if *caughtWeight != 1 {
		n, err := set.weighCaught(ctx, *config, *modelName, *label, *caughtWeight)
		if err != nil {
			return c.fail("train", err)
		}
		fmt.Fprintf(c.stdout, "%s finds %d of the examples without the model: they weigh %g\n", *config, n, *caughtWeight)
	}
	if *cv > 0 {
		for i, t := range targets {
			targets[i].file = slices.IndexFunc(files, func(name string) bool { return name == t.name || filepath.Base(name) == t.name })
			if targets[i].file < 0 {
				return f.usageError("--target %s: no such file among the examples", t.name)
			}
		}
		return c.crossValidate(ctx, &set, *label, *cv, *threshold, opts, *config, *modelName, *curve, targets)
	}

	// On the wall clock: the time taken is a speed, measured.
	start := time.Now()
	m, err := classify.Train(*label, set.examples, opts)
	if err != nil {
		return c.fail("train", err)
	}
	took := time.Since(start)
	data, err := m.MarshalBinary()
	if err == nil {
		if dir := filepath.Dir(*out); dir != "" {
			err = os.MkdirAll(dir, 0o755)
		}
	}
	if err == nil {
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		return c.fail("train", err)
	}
	fmt.Fprintf(c.stdout, "trained %s on %d examples (%d %s) in %.2fs: %s (%d KiB)\n",
		*label, m.Examples, m.Positives, *label, took.Seconds(), *out, len(data)>>10)
	return exitOK
}

// exampleSet gathers the examples, with the lines of the labelled events
// for the replays of a cross-validation (nil for the desk's decisions).
type exampleSet struct {
	examples []classify.Example
	lines    [][]byte
	// source is the index in files of each example's file, -1 for the desk's.
	source []int
	files  []string
}

// counts says what a source gave.
type counts struct {
	label              string
	positive, negative int
	corrections, left  int
}

func (n counts) String() string {
	s := fmt.Sprintf("%d examples: %d %s, %d ok", n.positive+n.negative, n.positive, n.label, n.negative)
	if n.corrections > 0 {
		s += fmt.Sprintf(" (%d of them overturned bot decisions)", n.corrections)
	}
	if n.left > 0 {
		s += fmt.Sprintf("; %d left out", n.left)
	}
	return s
}

// readFile reads the labelled events of a JSON Lines file: label is
// positive, ok negative, any other label (or none) left out.
func (s *exampleSet) readFile(name, label string, negatives []string, balance bool) (counts, error) {
	n := counts{label: label}
	src := len(s.files)
	s.files = append(s.files, name)
	fd, err := os.Open(name)
	if err != nil {
		return n, err
	}
	defer fd.Close()
	sc := bufio.NewScanner(fd)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		ev, err := bot.DecodeEvent(raw)
		if err != nil {
			return n, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		switch {
		case ev.Label == label:
			n.positive++
		case slices.Contains(negatives, ev.Label):
			n.negative++
		default:
			n.left++
			continue
		}
		s.examples = append(s.examples, classify.Example{Text: ev.Text, Positive: ev.Label == label})
		s.lines = append(s.lines, append([]byte(nil), raw...))
		s.source = append(s.source, src)
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("%s: %w", name, err)
	}
	if balance && n.positive > 0 && n.negative > 0 {
		// each class weighs half the file
		total := float64(n.positive + n.negative)
		for i := len(s.examples) - (n.positive + n.negative); i < len(s.examples); i++ {
			if s.examples[i].Positive {
				s.examples[i].Weight = total / (2 * float64(n.positive))
			} else {
				s.examples[i].Weight = total / (2 * float64(n.negative))
			}
		}
	}
	return n, nil
}

// readStore reads the desk's decided cases. A case kept, or a bot decision
// overturned (unhide, unban, untimeout: a correction, weighing correction),
// is a negative whatever its category: the message was fine. A case of the
// label's category deleted, hidden, timed out, kicked or banned is a
// positive. The rest (another category removed, a reply, an FAQ case, a
// case nobody decided in time) says nothing about the label. An event
// decided in several cases counts once, as last decided.
func (s *exampleSet) readStore(ctx context.Context, st store.Store, label string, correction float64) (counts, error) {
	n := counts{label: label}
	cases, err := st.Cases(ctx, store.CaseDecided)
	if err != nil {
		return n, fmt.Errorf("read the decided cases: %w", err)
	}
	type decision struct {
		ex classify.Example
		at time.Time
	}
	byEvent := map[string]decision{}
	var order []string
	for _, c := range cases {
		ex, ok := caseExample(c, label, correction)
		if !ok {
			n.left++
			continue
		}
		key := c.Event.Key()
		prev, seen := byEvent[key]
		if !seen {
			order = append(order, key)
		} else if c.DecidedAt.Before(prev.at) {
			continue
		}
		byEvent[key] = decision{ex: ex, at: c.DecidedAt}
	}
	for _, key := range order {
		ex := byEvent[key].ex
		if ex.Positive {
			n.positive++
		} else {
			n.negative++
			if ex.Weight > 1 {
				n.corrections++
			}
		}
		s.examples = append(s.examples, ex)
		s.lines = append(s.lines, nil)
		s.source = append(s.source, -1)
	}
	return n, nil
}

// caseExample reads one decided case as an example for label.
func caseExample(c store.Case, label string, correction float64) (classify.Example, bool) {
	if strings.TrimSpace(c.Event.Text) == "" || strings.HasPrefix(c.Rule, "faq:") {
		return classify.Example{}, false
	}
	outcome, _, _ := strings.Cut(c.Outcome, "(")
	switch bot.ActionKind(strings.TrimSpace(outcome)) {
	case "keep":
		return classify.Example{Text: c.Event.Text}, true
	case "unhide", "unban", "untimeout":
		return classify.Example{Text: c.Event.Text, Weight: correction}, true
	case bot.ActDelete, bot.ActHide, bot.ActTimeout, bot.ActKick, bot.ActBan:
		if c.Category == label {
			return classify.Example{Text: c.Event.Text, Positive: true}, true
		}
	}
	return classify.Example{}, false
}

// curveShifts are the shifts of the models' log-odds that --curve replays
// the rule file with: they take a threshold of 0.93 from 0.996 down to 0.40.
var curveShifts = []float64{-3, -2, -1.5, -1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3}

// targetShifts are the shifts of the models' log-odds among which --target
// chooses, each fold's on the other folds.
var targetShifts = func() []float64 {
	var s []float64
	for i := -40; i <= 40; i++ {
		s = append(s, float64(i)/20)
	}
	return s
}()

// target is what the rule file must reach on one file's examples, for
// --target: a precision at least, and a false-positive rate at most.
type target struct {
	name              string
	file              int
	precision, maxFPR float64
}

func parseTarget(v string) (target, error) {
	name, figs, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return target{}, fmt.Errorf("%q: want FILE=PRECISION or FILE=PRECISION/FPR, like abuse-en.dev.jsonl=0.985/0.06", v)
	}
	t := target{name: name, maxFPR: 1}
	p, fpr, hasFPR := strings.Cut(figs, "/")
	var err error
	if t.precision, err = strconv.ParseFloat(p, 64); err != nil || t.precision < 0 || t.precision > 1 {
		return target{}, fmt.Errorf("%q: the precision %q is not a number from 0 to 1", v, p)
	}
	if hasFPR {
		if t.maxFPR, err = strconv.ParseFloat(fpr, 64); err != nil || t.maxFPR < 0 || t.maxFPR > 1 {
			return target{}, fmt.Errorf("%q: the false-positive rate %q is not a number from 0 to 1", v, fpr)
		}
	}
	return t, nil
}

func (t target) String() string {
	if t.maxFPR < 1 {
		return fmt.Sprintf("%s precision >= %g, fp rate <= %g", t.name, t.precision, t.maxFPR)
	}
	return fmt.Sprintf("%s precision >= %g", t.name, t.precision)
}

// chooseShift is the index in shifts of the shift that meets every target
// on all the folds but held pooled, with the most recall of the targets'
// files (summed; the lowest such shift), and whether one met them; none
// did, the lowest shift. scores[f][s][i] is the score of file f, shift s,
// fold i.
func chooseShift(scores [][][]replay.Score, shifts []float64, targets []target, held int) (int, bool) {
	best, bestRecall := 0, -1.0
	for s := range shifts {
		recall := 0.0
		met := true
		for _, t := range targets {
			var others []replay.Score
			for i, sc := range scores[t.file][s] {
				if i != held {
					others = append(others, sc)
				}
			}
			p, r, fpr := figures(sumScore(others))
			met = met && p >= t.precision && fpr <= t.maxFPR
			recall += r
		}
		if met && recall > bestRecall {
			best, bestRecall = s, recall
		}
	}
	return best, bestRecall >= 0
}

// crossValidate measures a model by k-fold cross-validation, and with a
// rule file, the file with the folds' models in place of one of its own;
// with curve, also the file with each fold's model shifted by each of
// curveShifts (Model.Shifted), its curve; with targets, the file with each
// fold's model shifted as the other folds' replays choose.
func (c *cli) crossValidate(ctx context.Context, set *exampleSet, label string, k int, threshold float64, opts classify.Options, config, modelName string, curve bool, targets []target) int {
	var shifts []float64
	if curve {
		shifts = append(shifts, curveShifts...)
	}
	if len(targets) > 0 {
		shifts = append(shifts, targetShifts...)
	}
	slices.Sort(shifts)
	shifts = slices.Compact(shifts)
	// On the wall clock: the time taken is a speed, measured.
	start := time.Now()
	p := classify.Prepare(set.examples)
	folds := classify.Folds(p, k, opts.Seed)
	thresholds := []float64{0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99}
	byThreshold := make([][]replay.Score, len(thresholds))
	// pack[f][0] and [1] are the fold scores of the rule file on file f
	// without the model and with the fold's
	pack := make([][2][]replay.Score, len(set.files))
	// shifted[f][s] are the fold scores of the rule file on file f with the
	// fold's model shifted by shifts[s]
	shifted := make([][][]replay.Score, len(set.files))
	for f := range shifted {
		shifted[f] = make([][]replay.Score, len(shifts))
	}
	fmt.Fprintf(c.stdout, "%d-fold cross-validation of %s on %d examples; each fold scored by the model of the others\n", k, label, p.Len())
	rows := [][]string{{"fold", "examples", "tp", "fp", "fn", "tn", "precision", "recall", "fp rate"}}
	packRows := [][]string{{"fold"}}
	for _, name := range set.files {
		packRows[0] = append(packRows[0], filepath.Base(name)+" without", "with")
	}
	var atThreshold []replay.Score
	for i, held := range folds {
		var use []int
		for j, f := range folds {
			if j != i {
				use = append(use, f...)
			}
		}
		m, err := p.Train(label, use, opts)
		if err != nil {
			fmt.Fprintf(c.stderr, "vigie train: fold %d: %v\n", i+1, err)
			return exitFail
		}
		scores := make([]float64, len(held))
		for x, idx := range held {
			scores[x] = p.ScoreIndex(m, idx)
		}
		for t, th := range thresholds {
			byThreshold[t] = append(byThreshold[t], scoreAt(p, held, scores, th))
		}
		sc := scoreAt(p, held, scores, threshold)
		atThreshold = append(atThreshold, sc)
		rows = append(rows, append([]string{fmt.Sprint(i + 1), fmt.Sprint(len(held))}, scoreCells(sc)...))
		if config == "" {
			continue
		}
		row := []string{fmt.Sprint(i + 1)}
		for f := range set.files {
			for w, model := range []*classify.Model{nil, m} {
				sc, err := c.replayFold(ctx, set, held, f, config, modelName, model, label)
				if err != nil {
					fmt.Fprintf(c.stderr, "vigie train: fold %d: %v\n", i+1, err)
					return exitFail
				}
				pack[f][w] = append(pack[f][w], sc)
				row = append(row, briefScore(sc))
			}
			for s, d := range shifts {
				sc, err := c.replayFold(ctx, set, held, f, config, modelName, m.Shifted(d), label)
				if err != nil {
					fmt.Fprintf(c.stderr, "vigie train: fold %d: %v\n", i+1, err)
					return exitFail
				}
				shifted[f][s] = append(shifted[f][s], sc)
			}
		}
		packRows = append(packRows, row)
	}
	rows = append(rows, append([]string{"mean", ""}, scoreCells(meanScore(atThreshold))...))
	fmt.Fprintf(c.stdout, "\nthe model alone, found when its score > %.2f:\n", threshold)
	c.table(rows)
	rows = [][]string{{"threshold", "tp", "fp", "fn", "tn", "precision", "recall", "fp rate"}}
	for t, th := range thresholds {
		rows = append(rows, append([]string{fmt.Sprintf("> %.2f", th)}, scoreCells(sumScore(byThreshold[t]))...))
	}
	fmt.Fprintf(c.stdout, "\nthe model alone by threshold, all folds together:\n")
	c.table(rows)
	if config != "" {
		row := []string{"mean"}
		for f := range set.files {
			row = append(row, briefScore(meanScore(pack[f][0])), briefScore(meanScore(pack[f][1])))
		}
		packRows = append(packRows, row)
		fmt.Fprintf(c.stdout, "\n%s replayed on each fold of each file, category %s, precision/recall/fp rate,\nwithout the model %s and with the fold's:\n", config, label, modelName)
		c.table(packRows)
	}
	if curve {
		rows := [][]string{{"shift", "0.5 acts as", "0.9 acts as"}}
		for _, name := range set.files {
			rows[0] = append(rows[0], filepath.Base(name))
		}
		for s, d := range shifts {
			if !slices.Contains(curveShifts, d) {
				continue
			}
			row := []string{fmt.Sprintf("%+.2f", d), fmt.Sprintf("%.3f", shiftedThreshold(0.5, d)), fmt.Sprintf("%.3f", shiftedThreshold(0.9, d))}
			for f := range set.files {
				row = append(row, briefScore(meanScore(shifted[f][s])))
			}
			rows = append(rows, row)
		}
		fmt.Fprintf(c.stdout, "\n%s replayed on each fold with the fold's model, its log-odds shifted (a threshold T\nof the file then acts as 1/(1+e^(shift-logit T)) on the scores), mean of the folds'\nprecision/recall/fp rate:\n", config)
		c.table(rows)
	}
	if len(targets) > 0 {
		c.chosenShifts(set, shifts, shifted, targets, config, len(folds))
	}
	fmt.Fprintf(c.stdout, "\n%d models trained and scored in %.1fs\n", k, time.Since(start).Seconds())
	return exitOK
}

// chosenShifts prints the rule file's figures on each fold with the fold's
// model shifted as chosen on the other folds (chooseShift): thresholds
// chosen where they are not measured, as they would be before a model goes
// live.
func (c *cli) chosenShifts(set *exampleSet, shifts []float64, shifted [][][]replay.Score, targets []target, config string, k int) {
	var what []string
	for _, t := range targets {
		what = append(what, t.String())
	}
	rows := [][]string{{"fold", "shift", "0.5 acts as", "0.9 acts as"}}
	for _, name := range set.files {
		rows[0] = append(rows[0], filepath.Base(name))
	}
	chosen := make([][]replay.Score, len(set.files))
	for i := range k {
		s, met := chooseShift(shifted, shifts, targets, i)
		d := shifts[s]
		shift := fmt.Sprintf("%+.2f", d)
		if !met {
			shift += " (none met)"
		}
		row := []string{fmt.Sprint(i + 1), shift, fmt.Sprintf("%.3f", shiftedThreshold(0.5, d)), fmt.Sprintf("%.3f", shiftedThreshold(0.9, d))}
		for f := range set.files {
			sc := shifted[f][s][i]
			chosen[f] = append(chosen[f], sc)
			row = append(row, briefScore(sc))
		}
		rows = append(rows, row)
	}
	row := []string{"mean", "", "", ""}
	for f := range set.files {
		row = append(row, fmt.Sprintf("%.4f/%.4f/%.4f", meanScore(chosen[f]).Precision, meanScore(chosen[f]).Recall, meanScore(chosen[f]).FalsePositiveRate))
	}
	rows = append(rows, row)
	fmt.Fprintf(c.stdout, "\n%s replayed on each fold with the fold's model shifted as the other folds choose\n(the most recall with %s on them, pooled),\nprecision/recall/fp rate:\n", config, strings.Join(what, " and "))
	c.table(rows)
}

// shiftedThreshold is the score above which a model shifted by d
// (Model.Shifted) scores above t.
func shiftedThreshold(t, d float64) float64 {
	return 1 / (1 + math.Exp(d-math.Log(t/(1-t))))
}

func scoreAt(p *classify.Prepared, held []int, scores []float64, threshold float64) replay.Score {
	var s replay.Score
	for x, idx := range held {
		found, actual := scores[x] > threshold, p.Positive(idx)
		switch {
		case found && actual:
			s.TP++
		case found:
			s.FP++
		case actual:
			s.FN++
		default:
			s.TN++
		}
	}
	return s
}

func sumScore(ss []replay.Score) replay.Score {
	var out replay.Score
	for _, s := range ss {
		out.TP, out.FP, out.FN, out.TN = out.TP+s.TP, out.FP+s.FP, out.FN+s.FN, out.TN+s.TN
	}
	return out
}

// meanScore is the folds' counts summed with their ratios averaged over the
// folds, as cross-validation reports them.
func meanScore(ss []replay.Score) replay.Score {
	out := sumScore(ss)
	for _, s := range ss {
		p, r, f := figures(s)
		out.Precision += p / float64(len(ss))
		out.Recall += r / float64(len(ss))
		out.FalsePositiveRate += f / float64(len(ss))
	}
	return out
}

func figures(s replay.Score) (precision, recall, fpr float64) {
	ratio := func(n, d int) float64 {
		if d == 0 {
			return 0
		}
		return float64(n) / float64(d)
	}
	return ratio(s.TP, s.TP+s.FP), ratio(s.TP, s.TP+s.FN), ratio(s.FP, s.FP+s.TN)
}

// scoreCells are a score's counts and ratios; the ratios of a mean are
// those given, the others are computed from the counts.
func scoreCells(s replay.Score) []string {
	p, r, f := figures(s)
	if s.Precision != 0 || s.Recall != 0 || s.FalsePositiveRate != 0 {
		p, r, f = s.Precision, s.Recall, s.FalsePositiveRate
	}
	return []string{fmt.Sprint(s.TP), fmt.Sprint(s.FP), fmt.Sprint(s.FN), fmt.Sprint(s.TN),
		fmt.Sprintf("%.3f", p), fmt.Sprintf("%.3f", r), fmt.Sprintf("%.3f", f)}
}

func briefScore(s replay.Score) string {
	p, r, f := figures(s)
	if s.Precision != 0 || s.Recall != 0 || s.FalsePositiveRate != 0 {
		p, r, f = s.Precision, s.Recall, s.FalsePositiveRate
	}
	return fmt.Sprintf("%.3f/%.3f/%.3f", p, r, f)
}

// table prints rows in columns, the first left-aligned, the others right.
func (c *cli) table(rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString(pad + cell)
			}
		}
		fmt.Fprintln(c.stdout, strings.TrimRight(b.String(), " "))
	}
}

// replayFold replays the held-out events of file f (in file order) through
// the rule file with model as its model name (nil: switched off), and
// scores the category label.
func (c *cli) replayFold(ctx context.Context, set *exampleSet, held []int, f int, config, name string, model *classify.Model, label string) (replay.Score, error) {
	rs, _, err := vigie.LoadRulesWith(config, rules.LoadOptions{Models: map[string]*classify.Model{name: model}})
	if err != nil {
		return replay.Score{}, err
	}
	if !hasModel(rs, name) {
		return replay.Score{}, fmt.Errorf("%s has no model %q in its models:", config, name)
	}
	in := make([]bool, len(set.lines))
	for _, i := range held {
		in[i] = true
	}
	var buf bytes.Buffer
	for i, line := range set.lines {
		if in[i] && set.source[i] == f {
			buf.Write(line)
			buf.WriteByte('\n')
		}
	}
	sum, err := replay.Run(ctx, rs, []replay.Input{replay.Stream(set.files[f], &buf)}, replay.Options{Workers: 1})
	if err != nil {
		return replay.Score{}, err
	}
	if sc := sum.ByCategory[label]; sc != nil {
		return *sc, nil
	}
	return replay.Score{}, errors.New("no event of the fold was labelled")
}

// weighCaught multiplies by weight the weight of the labelled files'
// examples that the rule file, with its model name switched off, finds as
// label (an enforced rule of that category matched), and returns how many
// there were. What the word lists and patterns already find, the model need
// not learn: weighed less, those examples leave the model's weights to what
// the rules miss, which is all the model adds to them. The rules do not learn
// from the examples, so a cross-validation stays fair.
func (s *exampleSet) weighCaught(ctx context.Context, config, name, label string, weight float64) (int, error) {
	rs, _, err := vigie.LoadRulesWith(config, rules.LoadOptions{Models: map[string]*classify.Model{name: nil}})
	if err != nil {
		return 0, err
	}
	if !hasModel(rs, name) {
		return 0, fmt.Errorf("%s has no model %q in its models:", config, name)
	}
	n := 0
	for f, file := range s.files {
		var buf bytes.Buffer
		for i, line := range s.lines {
			if s.source[i] == f {
				buf.Write(line)
				buf.WriteByte('\n')
			}
		}
		found := make(map[string]bool)
		_, err := replay.Run(ctx, rs, []replay.Input{replay.Stream(file, &buf)}, replay.Options{Workers: 1,
			Verdict: func(ev bot.Event, v bot.Verdict) {
				for _, m := range v.Matches {
					if m.Category == label && !m.Shadow {
						found[ev.ID] = true
					}
				}
			}})
		if err != nil {
			return 0, err
		}
		for i, line := range s.lines {
			if s.source[i] != f {
				continue
			}
			ev, err := bot.DecodeEvent(line)
			if err == nil && found[ev.ID] {
				if s.examples[i].Weight <= 0 {
					s.examples[i].Weight = 1
				}
				s.examples[i].Weight *= weight
				n++
			}
		}
	}
	return n, nil
}

func hasModel(rs *rules.Ruleset, name string) bool {
	for _, m := range rs.Models {
		if m.Name == name {
			return true
		}
	}
	return false
}
