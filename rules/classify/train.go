package classify

import (
	"errors"
	"math"
	"math/rand/v2"

	"github.com/vigie-bot/vigie/rules/text"
)

// Example is one labelled text to learn from.
type Example struct {
	Text string
	// Positive: the text is of the model's label; otherwise it is fine.
	Positive bool
	// Weight is how much the example counts; 0 counts as 1. The desk's
	// corrections of the bot weigh more than an ordinary label.
	Weight float64
}

// Options tune training. The zero value takes the defaults.
type Options struct {
	// Bits: the weights' table has 2^Bits entries (default 18: 256 KiB).
	Bits int
	// Epochs are the passes over the examples (default 12).
	Epochs int
	// L2 pulls the weights towards 0, so that a feature seen in a handful of
	// examples does not decide alone (default 1e-6 per example seen).
	L2 float64
	// Rate is the step of the updates (default 0.2, per feature scaled by
	// AdaGrad).
	Rate float64
	// Seed orders the examples in each pass: the same examples and seed give
	// the same model, byte for byte, on the same architecture.
	Seed uint64
	// NoGrams leaves the words' character n-grams out: a model of abuse
	// then does not read "bitc" in "bitcoin" as half an insult.
	NoGrams bool
}

func (o Options) withDefaults() Options {
	if o.Bits == 0 {
		o.Bits = 18
	}
	if o.Epochs == 0 {
		o.Epochs = 12
	}
	if o.L2 == 0 {
		o.L2 = 1e-6
	}
	if o.Rate == 0 {
		o.Rate = 0.2
	}
	return o
}

// Prepared are examples with their features extracted, to train several
// models (the folds of a cross-validation) without analysing the texts again.
type Prepared struct {
	words  [][]uint32
	grams  [][]uint32
	whole  [][]uint32
	shape  [][]uint32
	y      []bool
	weight []float64
}

// Prepare analyses the examples' texts and extracts their features.
func Prepare(examples []Example) *Prepared {
	p := &Prepared{
		words: make([][]uint32, len(examples)), grams: make([][]uint32, len(examples)),
		whole: make([][]uint32, len(examples)), shape: make([][]uint32, len(examples)),
		y: make([]bool, len(examples)), weight: make([]float64, len(examples)),
	}
	var a text.Analysis
	var f Features
	for i, ex := range examples {
		text.AnalyzeInto(&a, ex.Text)
		f.Extract(&a)
		p.words[i] = append([]uint32(nil), f.Words...)
		p.grams[i] = append([]uint32(nil), f.Grams...)
		p.whole[i] = append([]uint32(nil), f.Whole...)
		p.shape[i] = append([]uint32(nil), f.Shape...)
		p.y[i] = ex.Positive
		p.weight[i] = ex.Weight
		if p.weight[i] <= 0 {
			p.weight[i] = 1
		}
	}
	return p
}

// Len is the number of examples.
func (p *Prepared) Len() int { return len(p.y) }

// Positive reports whether example i is positive.
func (p *Prepared) Positive(i int) bool { return p.y[i] }

// Train fits a model of label on examples.
func Train(label string, examples []Example, opts Options) (*Model, error) {
	return Prepare(examples).Train(label, nil, opts)
}

// Train fits a model of label on the prepared examples whose index is in
// use, or on all of them when use is nil: logistic regression by stochastic
// gradient descent with AdaGrad steps and L2 regularisation, the examples
// shuffled with the seed at each pass.
func (p *Prepared) Train(label string, use []int, opts Options) (*Model, error) {
	opts = opts.withDefaults()
	if opts.Bits < MinBits || opts.Bits > MaxBits {
		return nil, errors.New("bits must be between 10 and 24")
	}
	if use == nil {
		use = make([]int, p.Len())
		for i := range use {
			use[i] = i
		}
	}
	pos := 0
	for _, i := range use {
		if p.y[i] {
			pos++
		}
	}
	if pos == 0 || pos == len(use) {
		return nil, errors.New("training needs examples of both kinds, positive and not")
	}
	n := 1 << opts.Bits
	mask := uint32(n - 1)
	w := make([]float64, n)
	g2 := make([]float64, n) // AdaGrad's sums of squared gradients
	var bias, biasG2 float64
	order := append([]int(nil), use...)
	rng := rand.New(rand.NewPCG(opts.Seed, 0x76696769))
	const eps = 1e-8
	for range opts.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			z := bias
			// the n-grams, or in their place the words of five letters as
			// their own first letters (Model.Score)
			words, grams := p.words[i], p.grams[i]
			if opts.NoGrams {
				grams = p.whole[i]
			}
			sc := textScale(len(words) + len(grams))
			for _, h := range words {
				z += w[h&mask] * sc
			}
			for _, h := range grams {
				z += w[h&mask] * sc
			}
			for _, h := range p.shape[i] {
				z += w[h&mask]
			}
			y := 0.0
			if p.y[i] {
				y = 1
			}
			g := (sigmoid(z) - y) * p.weight[i]
			step := func(j uint32, x float64) {
				grad := g*x + opts.L2*w[j]
				g2[j] += grad * grad
				w[j] -= opts.Rate * grad / math.Sqrt(g2[j]+eps)
			}
			for _, h := range words {
				step(h&mask, sc)
			}
			for _, h := range grams {
				step(h&mask, sc)
			}
			for _, h := range p.shape[i] {
				step(h&mask, 1)
			}
			biasG2 += g * g
			bias -= opts.Rate * g / math.Sqrt(biasG2+eps)
		}
	}
	m := quantise(label, w, bias, opts.Bits, len(use), pos)
	m.grams = !opts.NoGrams
	return m, nil
}

// quantise keeps the weights as 8-bit integers times the largest weight
// over 127: a step of a fortieth for weights up to 3, which moves a score's
// log-odds by a hundredth on average (the training data's, the abuse
// model). Levels placed by a k-means of the weights did a little better on
// the mass of small weights and worse on the few strong ones that decide
// the high scores.
func quantise(label string, w []float64, bias float64, bits, examples, positives int) *Model {
	top := 0.0
	for _, x := range w {
		top = max(top, math.Abs(x))
	}
	scale := top / math.MaxInt8
	if scale == 0 {
		scale = 1
	}
	m := &Model{Label: label, Examples: examples, Positives: positives,
		bits: uint8(bits), mask: uint32(len(w) - 1), scale: scale, bias: bias, weights: make([]int8, len(w))}
	for i, x := range w {
		m.weights[i] = int8(math.Round(x / scale))
	}
	return m
}

// ScoreIndex scores prepared example i with m, as Score would its text.
func (p *Prepared) ScoreIndex(m *Model, i int) float64 {
	return m.Score(&Features{Words: p.words[i], Grams: p.grams[i], Whole: p.whole[i], Shape: p.shape[i]})
}

// Folds splits the indexes 0..n-1 into k folds of the same size give or
// take one, shuffled with seed, and stratified: the positives are shared
// among the folds as evenly as the rest.
func Folds(p *Prepared, k int, seed uint64) [][]int {
	var pos, neg []int
	for i := range p.Len() {
		if p.y[i] {
			pos = append(pos, i)
		} else {
			neg = append(neg, i)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x666f6c64))
	rng.Shuffle(len(pos), func(i, j int) { pos[i], pos[j] = pos[j], pos[i] })
	rng.Shuffle(len(neg), func(i, j int) { neg[i], neg[j] = neg[j], neg[i] })
	folds := make([][]int, k)
	for j, i := range append(pos, neg...) {
		folds[j%k] = append(folds[j%k], i)
	}
	return folds
}

// Shifted is m with its scores' log-odds raised by d, sharing its weights: a
// rule's threshold T then acts on m's scores as 1/(1+e^(d-logit T)), so
// that replaying a rule file with several shifts measures it with its
// thresholds moved together (vigie train --cv --curve), each kept in
// its place relative to the others.
func (m *Model) Shifted(d float64) *Model {
	c := *m
	c.bias += d
	return &c
}
