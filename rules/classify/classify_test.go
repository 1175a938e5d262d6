package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/rules/text"
)

// toy is a small corpus a model must separate.
func toy() []Example {
	spam := []string{
		"check out my channel and subscribe", "subscribe to my channel please",
		"free nitro here claim now", "visit my page for free gifts",
		"sub4sub check my videos", "follow me on insta for giveaways",
		"CHECK OUT MY NEW SONG", "ch3ck 0ut my ch4nnel",
	}
	ok := []string{
		"great song, I love it", "this video brings back memories",
		"the concert was amazing last night", "who is listening in 2026",
		"what a voice", "I cried at the end of the clip",
		"best band ever", "the drums in the chorus are so good",
	}
	var out []Example
	for _, s := range spam {
		out = append(out, Example{Text: s, Positive: true})
	}
	for _, s := range ok {
		out = append(out, Example{Text: s})
	}
	return out
}

func score(m *Model, s string) float64 {
	var f Features
	f.Extract(text.Analyze(s))
	return m.Score(&f)
}

func TestTrainSeparatesAndReadsDisguises(t *testing.T) {
	m, err := Train("spam", toy(), Options{Bits: 12, Epochs: 30})
	if err != nil {
		t.Fatal(err)
	}
	if m.Label != "spam" || m.Examples != 16 || m.Positives != 8 {
		t.Errorf("model = %q %d/%d, want spam 16/8", m.Label, m.Examples, m.Positives)
	}
	for _, c := range []struct {
		text string
		spam bool
	}{
		{"check out my channel and subscribe", true},
		{"ＣＨＥＣＫ ＯＵＴ ＭＹ ＣＨＡＮＮＥＬ", true}, // fullwidth: folded as the lists read it
		{"c.h.e.c.k my ch4nnel, subscribe", true},
		{"what a great song, I love the chorus", false},
	} {
		s := score(m, c.text)
		if (s > 0.5) != c.spam {
			t.Errorf("score(%q) = %.3f, want spam %v", c.text, s, c.spam)
		}
	}
}

// A word is read in its language: "retard" is a delay in French and a slur in
// English, and a model that learnt both tells them apart.
func TestWordsAreReadInTheirLanguage(t *testing.T) {
	// every word and pair of words is as often in a positive as in a
	// negative: only "retard" in its language tells them apart
	exs := []Example{
		{Text: "retard oh the", Positive: true}, {Text: "connard oh le", Positive: true},
		{Text: "game oh the"}, {Text: "retard oh le"},
	}
	m, err := Train("abuse", exs, Options{Bits: 14, Epochs: 30, NoGrams: true})
	if err != nil {
		t.Fatal(err)
	}
	en, fr := score(m, "retard oh the"), score(m, "retard oh le")
	if en <= 0.6 || fr >= 0.4 {
		t.Errorf("score(English retard) = %.3f, score(French retard) = %.3f: want above 0.6 and below 0.4", en, fr)
	}
}

// A word's first letters are features, so that an inflection or a spelling
// shares what the model learnt of the word; a word's middle is not.
func TestPrefixes(t *testing.T) {
	words := func(s string) map[uint32]bool {
		var f Features
		f.Extract(text.Analyze(s))
		out := make(map[uint32]bool)
		// as a model without n-grams reads them: the words and Whole
		for _, h := range append(f.Words, f.Whole...) {
			out[h] = true
		}
		return out
	}
	shared := func(a, b string) int {
		n, wb := 0, words(b)
		for h := range words(a) {
			if wb[h] {
				n++
			}
		}
		return n
	}
	if n := shared("bitches", "bitchez"); n != 2 { // "bitch", "bitche"
		t.Errorf("bitches and bitchez share %d features, want 2", n)
	}
	// a word of five letters is its own first five: what is learnt of its
	// inflections is learnt of it
	for _, pair := range [][2]string{{"bitch", "bitches"}, {"bitch", "bitchez"}, {"idiot", "idiots"}} {
		if n := shared(pair[0], pair[1]); n != 1 {
			t.Errorf("%s and %s share %d features, want 1", pair[0], pair[1], n)
		}
	}
	for _, pair := range [][2]string{{"bitches", "bitcoin"}, {"bitch", "bitcoin"}, {"class", "assassin"}} {
		if n := shared(pair[0], pair[1]); n != 0 {
			t.Errorf("%s and %s share %d features, want 0", pair[0], pair[1], n)
		}
	}
}

// A model with n-grams reads them and not the five-letter words as their
// own first letters (Features.Whole), so that its features stay those it
// learnt from; a model without n-grams reads Whole in their place.
func TestWholeIsReadWithoutGrams(t *testing.T) {
	const s = "check my video, what a voice" // "check", "video", "voice"
	a := text.Analyze(s)
	var f Features
	f.Extract(a)
	if len(f.Whole) != 3 {
		t.Fatalf("%q: %d words of five letters, want 3", s, len(f.Whole))
	}
	withoutWhole := f
	withoutWhole.Whole = nil
	withoutGrams := f
	withoutGrams.Grams = nil
	grams, err := Train("spam", toy(), Options{Bits: 12, Epochs: 30})
	if err != nil {
		t.Fatal(err)
	}
	lean, err := Train("spam", toy(), Options{Bits: 12, Epochs: 30, NoGrams: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := grams.Score(&withoutWhole), grams.Score(&f); got != want {
		t.Errorf("the model with n-grams scores %v without Whole, %v with it", got, want)
	}
	if got, want := lean.Score(&withoutGrams), lean.Score(&f); got != want {
		t.Errorf("the model without n-grams scores %v without the n-grams, %v with them", got, want)
	}
	if got, other := lean.Score(&withoutWhole), lean.Score(&f); got == other {
		t.Errorf("the model without n-grams scores %v with Whole and without it: it does not read it", got)
	}
}

func TestTrainIsReproducible(t *testing.T) {
	a, err := Train("spam", toy(), Options{Bits: 12, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Train("spam", toy(), Options{Bits: 12, Seed: 7})
	da, _ := a.MarshalBinary()
	db, _ := b.MarshalBinary()
	if !bytes.Equal(da, db) {
		t.Error("the same examples and seed made two different models")
	}
	c, _ := Train("spam", toy(), Options{Bits: 12, Seed: 8})
	if dc, _ := c.MarshalBinary(); bytes.Equal(da, dc) {
		t.Error("another seed made the same model: the seed orders nothing")
	}
}

func TestTrainNeedsBothKinds(t *testing.T) {
	_, err := Train("spam", []Example{{Text: "a", Positive: true}}, Options{})
	if err == nil {
		t.Fatal("a model was trained on positives only")
	}
}

func TestFileRoundTripAndRefusals(t *testing.T) {
	m, err := Train("spam", toy(), Options{Bits: 10})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"check out my channel", "great song"} {
		if a, b := score(m, s), score(&back, s); a != b {
			t.Errorf("score(%q) = %v, %v read back", s, a, b)
		}
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)/2] ^= 1
	withVersion := func(format, features uint16) []byte {
		d := bytes.Clone(data[:len(data)-4])
		d[8], d[9], d[10], d[11] = byte(format), byte(format>>8), byte(features), byte(features>>8)
		return appendCRC(d)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a model", []byte("hello, world"), "not a vigie model file"},
		{"cut short", data[:len(data)-100], "corrupt model file: checksum mismatch"},
		{"changed", flipped, "corrupt model file: checksum mismatch"},
		{"empty after the magic", []byte(magic), "corrupt model file: cut short"},
		{"another format", withVersion(9, FeatureVersion), "model file format 9, this vigie reads format 2"},
		{"other features", withVersion(formatVersion, 9), "model trained on features version 9, this vigie computes version 4"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var m Model
			err := m.UnmarshalBinary(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want %q", err, c.want)
			}
			if strings.Contains(c.want, "corrupt") && !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
		})
	}
}

func appendCRC(d []byte) []byte { return append(d, crcBytes(d)...) }

func TestFoldsAreStratifiedAndCoverAll(t *testing.T) {
	p := Prepare(toy())
	folds := Folds(p, 4, 1)
	seen := map[int]bool{}
	for _, f := range folds {
		pos := 0
		for _, i := range f {
			if seen[i] {
				t.Fatalf("example %d in two folds", i)
			}
			seen[i] = true
			if p.Positive(i) {
				pos++
			}
		}
		if len(f) != 4 || pos != 2 {
			t.Errorf("fold %v: %d examples, %d positive; want 4 and 2", f, len(f), pos)
		}
	}
	if len(seen) != p.Len() {
		t.Errorf("folds cover %d of %d examples", len(seen), p.Len())
	}
}

// devTexts are the texts of the labelled data beside the repository, or
// none when it is not there.
func devTexts(tb testing.TB) []string {
	var out []string
	for _, name := range []string{"youtube-spam.dev.jsonl", "abuse-en.dev.jsonl", "abuse-fr.dev.jsonl"} {
		fd, err := os.Open("../../../shared/data/" + name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fd)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				out = append(out, ev.Text)
			}
		}
		fd.Close()
	}
	return out
}

// BenchmarkScore is the cost of score() on one message: the features of its
// analysed text and one model's sum. The text's analysis is the engine's,
// done once per event for every rule, and not counted. ns/op is per message.
//
//	go test ./rules/classify -run '^$' -bench Score -benchtime 2s
func BenchmarkScore(b *testing.B) {
	texts := devTexts(b)
	if len(texts) == 0 {
		b.Skip("no ../shared/data")
	}
	as := make([]*text.Analysis, len(texts))
	for i, s := range texts {
		as[i] = text.Analyze(s)
	}
	// the starter pack's: spam reads the n-grams, abuse does not
	for _, name := range []string{"spam", "abuse"} {
		m, err := Load("../../models/" + name + ".bin")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			var f Features
			b.ReportAllocs()
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				f.Extract(as[i%len(as)])
				m.Score(&f)
			}
			// CPU time is steadier than wall time on a shared machine
			if used := cpuTime() - cpu; used > 0 {
				b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/msg")
			}
		})
	}
}

// BenchmarkTrain trains on the 15,255 labelled messages of ../shared/data.
func BenchmarkTrain(b *testing.B) {
	texts := devTexts(b)
	if len(texts) == 0 {
		b.Skip("no ../shared/data")
	}
	exs := make([]Example, len(texts))
	for i, s := range texts {
		exs[i] = Example{Text: s, Positive: i%3 == 0}
	}
	for b.Loop() {
		if _, err := Train("x", exs, Options{Bits: 16}); err != nil {
			b.Fatal(err)
		}
	}
}

// A model file comes from disk: whatever its bytes, reading it fails or
// gives a model that scores without panicking.
func FuzzUnmarshal(f *testing.F) {
	m, err := Train("spam", toy(), Options{Bits: 10})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := m.MarshalBinary()
	f.Add(good)
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Model
		if m.UnmarshalBinary(data) != nil {
			return
		}
		var feats Features
		feats.Extract(text.Analyze("check out my channel"))
		if s := m.Score(&feats); s < 0 || s > 1 {
			t.Errorf("score %v out of [0, 1]", s)
		}
	})
}

// A shifted model moves every score's log-odds by the same amount, and
// leaves the model it came from as it was.
func TestShifted(t *testing.T) {
	m, err := Train("spam", toy(), Options{Bits: 12, Epochs: 30})
	if err != nil {
		t.Fatal(err)
	}
	logit := func(p float64) float64 { return math.Log(p / (1 - p)) }
	for _, s := range []string{"FREE bitcoin, click here", "see you at the game tonight"} {
		before := score(m, s)
		up, down := score(m.Shifted(1.5), s), score(m.Shifted(-2), s)
		if d := logit(up) - logit(before); math.Abs(d-1.5) > 1e-9 {
			t.Errorf("%q: shifted by 1.5, the log-odds moved by %g", s, d)
		}
		if d := logit(down) - logit(before); math.Abs(d+2) > 1e-9 {
			t.Errorf("%q: shifted by -2, the log-odds moved by %g", s, d)
		}
		if again := score(m, s); again != before {
			t.Errorf("%q: the model scores %g after shifting, %g before", s, again, before)
		}
	}
}
