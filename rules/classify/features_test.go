package classify

import (
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/rules/text"
)

// extractOneLoop is Extract as it was written before ExtractLean and AddGrams
// split it: the n-grams of each word made in the same pass as its words. The
// split must give the same features in the same order, or a model's score
// would move.
func extractOneLoop(f *Features, a *text.Analysis) {
	f.Words, f.Grams, f.Whole, f.Shape = f.Words[:0], f.Grams[:0], f.Whole[:0], f.Shape[:0]
	var prev uint32
	words, mentions := 0, 0
	var lang uint32
	switch a.Language {
	case "fr":
		lang = 0x6672
	case "en":
		lang = 0x656e
	}
	a.EachWord(func(w []byte, kind text.WordKind) {
		if words >= maxWords {
			return
		}
		words++
		switch kind {
		case text.WordMention:
			mentions++
			prev = 0
			return
		case text.WordLink:
			f.Words = append(f.Words, hashBytes(nsLink, w))
			prev = 0
			return
		}
		prev = f.word(w, lang, prev)
		f.grams(w)
	})
	lean := Features{Shape: f.Shape}
	lean.shapeOf(a, mentions)
	f.Shape = lean.Shape
}

// checkSplit compares Extract, ExtractLean then AddGrams, and the one-pass
// reference on s, features and scores.
func checkSplit(t *testing.T, s string, models []*Model) {
	t.Helper()
	a := text.Analyze(s)
	var ref, full, lean Features
	extractOneLoop(&ref, a)
	full.Extract(a)
	lean.ExtractLean(a)
	if len(lean.Grams) != 0 {
		t.Fatalf("%q: ExtractLean made %d n-grams", s, len(lean.Grams))
	}
	leanWords := slices.Clone(lean.Words)
	lean.AddGrams(a)
	for _, c := range []struct {
		name string
		got  *Features
	}{{"Extract", &full}, {"ExtractLean+AddGrams", &lean}} {
		if !slices.Equal(c.got.Words, ref.Words) || !slices.Equal(c.got.Grams, ref.Grams) || !slices.Equal(c.got.Whole, ref.Whole) || !slices.Equal(c.got.Shape, ref.Shape) {
			t.Fatalf("%q: %s differs from the one-pass features", s, c.name)
		}
	}
	if !slices.Equal(leanWords, ref.Words) {
		t.Fatalf("%q: ExtractLean's words differ", s)
	}
	for _, m := range models {
		if got, want := m.Score(&lean), m.Score(&ref); got != want {
			t.Fatalf("%q: model %s scores %v, want %v", s, m.Label, got, want)
		}
	}
}

func starterModels(tb testing.TB) []*Model {
	var out []*Model
	for _, name := range []string{"spam", "abuse"} {
		m, err := Load("../../models/" + name + ".bin")
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestExtractLeanThenGramsIsExtract(t *testing.T) {
	models := starterModels(t)
	texts := append(devTexts(t),
		"", "ok", "check out my channel https://youtu.be/x and subscribe @bob",
		"@a @b @c @d @e venez voir", "🔥🔥🔥 FREE NITRO discord.gg/abc 🔥🔥🔥",
		strings.Repeat("mot ", 250), strings.Repeat("x", 300),
		"c.h.e.c.k my ch4nnel, s u b s c r i b e", "Ｆｒｅｅ ｇｉｆｔ ｃａｒｄｓ")
	for _, s := range texts {
		checkSplit(t, s, models)
	}
}

func FuzzExtractLean(f *testing.F) {
	for _, s := range []string{"check out my channel", "@x t.me/y 0xdeadbeef", "ÉNORME vidéo ici"} {
		f.Add(s)
	}
	models := starterModels(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkSplit(t, s, models)
	})
}

// TestGramsOneByOne checks the n-grams written in place against the
// n-grams appended one by one, as they are defined.
func TestGramsOneByOne(t *testing.T) {
	ref := func(w []byte) []uint32 {
		var out []uint32
		g := append(append([]byte{' '}, w[:min(len(w), maxWordGrams)]...), ' ')
		for i := range g {
			h := uint32(2166136261) ^ uint32(nsGram)
			for n := 1; n <= maxGram && i+n <= len(g); n++ {
				h = (h ^ uint32(g[i+n-1])) * 16777619
				if n >= minGram {
					out = append(out, mix32(h^uint32(n)<<28))
				}
			}
		}
		return out
	}
	var f Features
	var want []uint32
	for _, w := range []string{"", "a", "ab", "abc", "free", "bitcoin", "anticonstitutionnellement", strings.Repeat("x", 60), "vidéo"} {
		f.grams([]byte(w))
		want = append(want, ref([]byte(w))...)
		if !slices.Equal(f.Grams, want) {
			t.Fatalf("after %q: %x, want %x", w, f.Grams, want)
		}
	}
}

// TestWordOneByOne checks a word's features written in place, its prefixes
// hashed one from the other, against the features appended one by one, as
// they are defined.
func TestWordOneByOne(t *testing.T) {
	ref := func(out []uint32, w []byte, lang, prev uint32) []uint32 {
		h := hashBytes(nsWord, w)
		family := hashBytes(nsFamily, w[:min(len(w), minPrefix)])
		out = append(out, inLine(family, h))
		if lang != 0 {
			out = append(out, inLine(family, mix32(uint32(nsLang)<<24^lang^h*0x9e3779b1)))
		}
		if prev != 0 {
			out = append(out, mix32(uint32(nsPair)<<24^prev*0x9e3779b1^h))
		}
		for n := minPrefix; n <= maxPrefix && n < len(w); n++ {
			out = append(out, inLine(family, hashBytes(nsPrefix, w[:n])))
		}
		return out
	}
	var f Features
	var want, wantWhole []uint32
	prev := uint32(0)
	for i, w := range []string{"", "a", "free", "class", "bitch", "bitche", "bitches", "bitchez", "anticonstitutionnellement", "vidéo", "vidéos", strings.Repeat("x", 60)} {
		for _, lang := range []uint32{0, 0x6672, 0x656e} {
			want = ref(want, []byte(w), lang, prev)
			if len(w) == minPrefix { // a word of five letters is its own first five
				wantWhole = append(wantWhole, inLine(hashBytes(nsFamily, []byte(w)), hashBytes(nsPrefix, []byte(w))))
			}
			if got := f.word([]byte(w), lang, prev); got != hashBytes(nsWord, []byte(w)) {
				t.Fatalf("%q: word returned %x", w, got)
			}
			if !slices.Equal(f.Words, want) {
				t.Fatalf("%q (language %x, after %x): %x, want %x", w, lang, prev, f.Words, want)
			}
			if !slices.Equal(f.Whole, wantWhole) {
				t.Fatalf("%q (language %x): whole %x, want %x", w, lang, f.Whole, wantWhole)
			}
			prev = uint32(i) * 0x01000193
		}
	}
}

// TestBucket checks bucket, which stops at the first bound not reached,
// against the last bound reached found over them all, for the bounds
// shapeOf gives it.
func TestBucket(t *testing.T) {
	ref := func(n int, bounds ...int) int {
		b := 0
		for i, lo := range bounds {
			if n >= lo {
				b = i
			}
		}
		return b
	}
	for _, bounds := range [][]int{{0, 1, 2, 3}, {0, 1, 2, 3, 5}, {0, 1, 2, 5, 10}, {0, 1, 2, 4, 8, 16, 32, 64}, {0, 1, 3, 5, 7, 9}, {0, 3, 5, 8}, {0, 1, 2}, {0, 1}} {
		for n := -2; n <= 100; n++ {
			if got, want := bucket(n, bounds...), ref(n, bounds...); got != want {
				t.Errorf("bucket(%d, %v) = %d, want %d", n, bounds, got, want)
			}
		}
	}
}
