package faq

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

// evalTexts are the messages of every evaluation set in testdata, and a few
// odd ones.
func evalTexts(t *testing.T) []string {
	t.Helper()
	texts := []string{"", "???", "ＨＯＲＡＩＲＥＳ ?", "l'''--''", "aaaaaaaaaaaaaaaaaaaa?", "\xff\xfe?", "où œuvre-t-il ?",
		"Straße ½ café-crème ǅ ﬁn", "x²³ ٣ 七 Ⅻ", "svppppp heeeelp", "peut-on, can we, est-ce"}
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*", "*.tsv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no evaluation sets: %v", err)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := ReadEval(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, l := range lines {
			texts = append(texts, l.Text)
		}
	}
	return texts
}

// splitWordsByRange is splitWords as it was, over the runes of folded.
func splitWordsByRange(folded string) []string {
	var out []string
	start := -1
	for i, r := range folded {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, folded[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, folded[start:])
	}
	for i, w := range out {
		out[i] = squeeze(w)
	}
	return out
}

func TestSplitWordsAsByRange(t *testing.T) {
	texts := evalTexts(t)
	for c := rune(0); c < 0x3000; c++ {
		texts = append(texts, "a"+string(c)+"b "+string(c))
	}
	for _, s := range texts {
		for _, in := range []string{s, fold(s)} {
			got, want := splitWords(in), splitWordsByRange(in)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("splitWords(%q) = %q, want %q", in, got, want)
			}
		}
	}
}

// TestMemoDecidesAsWithout checks that a matcher decides every message of the
// evaluation sets the same with its memo, cold and warm, as without one.
func TestMemoDecidesAsWithout(t *testing.T) {
	texts := evalTexts(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*", "faq.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// each matcher twice: the second without its memo
	matchers := [][2]*Matcher{{starterMatcher(t), starterMatcher(t)}}
	for _, f := range files {
		rs, err := rules.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		var pair [2]*Matcher
		for i := range pair {
			if pair[i], err = Compile(rs); err != nil {
				t.Fatal(err)
			}
		}
		matchers = append(matchers, pair)
	}
	at := time.Date(2026, 1, 5, 22, 0, 0, 0, time.UTC)
	for i, pair := range matchers {
		m, bare := pair[0], pair[1]
		if m.memo == nil {
			t.Fatalf("matcher %d has no memo", i)
		}
		bare.memo = nil
		for pass := 0; pass < 2; pass++ {
			for _, s := range texts {
				ev := bot.Event{Kind: bot.KindMessage, Text: s, At: at, Author: bot.Author{Name: "member"}}
				got, want := m.Decide(&ev, bot.Verdict{}), bare.Decide(&ev, bot.Verdict{})
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("matcher %d, pass %d, %q: with the memo %+v, without %+v", i, pass, s, got, want)
				}
				if got, want := m.Match(s), bare.Match(s); !reflect.DeepEqual(got, want) {
					t.Fatalf("matcher %d, pass %d, %q: Match with the memo %+v, without %+v", i, pass, s, got, want)
				}
			}
		}
		if m.memo.n.Load() == 0 {
			t.Errorf("matcher %d: memo kept no word", i)
		}
	}
}

// TestMemoCapped checks that a memo stops growing at its cap, and still gives
// each word its stem and term past it.
func TestMemoCapped(t *testing.T) {
	m := starterMatcher(t)
	c := newMemo(m)
	for i := 0; i < memoCap+500; i++ {
		w := fmt.Sprintf("livraisons%d", i)
		w = strings.Map(func(r rune) rune { return 'a' + (r-'0')%26 }, w[10:]) + "ions"
		for pass := 0; pass < 2; pass++ {
			got, want := c.word(w), newWord(w)
			if got.folded != want.folded || got.stem != want.stem || got.lex != want.lex {
				t.Fatalf("%q: %+v, want %+v", w, got, want)
			}
			if (got.info != nil) != (i < memoCap) {
				t.Fatalf("%q, word %d: info %+v", w, i, got.info)
			}
			if got.info == nil {
				continue
			}
			term := m.termOfWord(want)
			if got.info.term != term || m.fixed(got) != m.fix(want, term) || !reflect.DeepEqual(got.info.phrases, m.phraseByFirst[want.stem]) {
				t.Fatalf("%q: info %+v, want term %q", w, got.info, term)
			}
		}
	}
	if n := c.n.Load(); n != memoCap {
		t.Errorf("memo holds %d words, want %d", n, memoCap)
	}
}

// languageOfByRune is languageOf as it was, its accents read rune by rune.
func languageOfByRune(text string, ws []word) string {
	fr, en := 0, 0
	for _, w := range ws {
		if frWords[w.folded] {
			fr++
		}
		if enWords[w.folded] {
			en++
		}
	}
	for _, r := range text {
		switch r {
		case 'é', 'è', 'ê', 'à', 'ù', 'ç', 'î', 'ô', 'û', 'ë', 'ï', 'â', 'É', 'È', 'À', 'Ç':
			fr++
		}
	}
	switch {
	case fr > en:
		return "fr"
	case en > fr:
		return "en"
	}
	return ""
}

// TestLanguageAndMarkAsByRune checks languageOf and asksMark against their
// rune-by-rune forms, and the lexicon's flags against its sets.
func TestLanguageAndMarkAsByRune(t *testing.T) {
	texts := evalTexts(t)
	for c := rune(0x80); c < 0x3000; c++ {
		texts = append(texts, "the "+string(c), "\xe2"+string(c), string(c)+"\xbf", "\xef\xbc"+string(c))
	}
	texts = append(texts, "\xe2\xc2\xbf", "\xe2\x80\xef\xbc\x9f", "\xf0\xef\xbc\x9f", "\xc2", "\xef\xbc", "é", "\xc3")
	for _, s := range texts {
		ws := words(s)
		if got, want := languageOf(s, ws), languageOfByRune(s, ws); got != want {
			t.Errorf("languageOf(%q) = %q, want %q", s, got, want)
		}
		if got, want := asksMark(s), strings.ContainsAny(s, "?？¿"); got != want {
			t.Errorf("asksMark(%q) = %v, want %v", s, got, want)
		}
		for _, w := range ws {
			// the flags a word has alone (readAsks may change them by
			// its place: "c'est du vol" is a remark)
			w := newWord(w.folded)
			sets := []map[string]bool{stopWords, frWords, enWords, questionWords, requestFirsts, greetings, openers, remarkWords,
				insultWords, keysOf(slang), laughter, secondPerson, superlatives, {"jamais": true}}
			for i, set := range sets {
				if got := w.lex&(1<<i) != 0; got != set[w.folded] {
					t.Errorf("%q: flag %d is %v, its set says %v", w.folded, i, got, set[w.folded])
				}
			}
		}
	}
}

// TestMemoShared decides on several goroutines with one matcher, as the
// daemon does: the same decisions as one goroutine without a memo (and, under
// -race, no race on the memo).
func TestMemoShared(t *testing.T) {
	texts := evalTexts(t)
	m, bare := starterMatcher(t), starterMatcher(t)
	bare.memo = nil
	at := time.Date(2026, 1, 5, 22, 0, 0, 0, time.UTC)
	want := make([]Decision, len(texts))
	for i, s := range texts {
		ev := bot.Event{Kind: bot.KindMessage, Text: s, At: at}
		want[i] = bare.Decide(&ev, bot.Verdict{})
	}
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for k := range texts {
				i := (k*7 + g*13) % len(texts)
				ev := bot.Event{Kind: bot.KindMessage, Text: texts[i], At: at}
				if got := m.Decide(&ev, bot.Verdict{}); !reflect.DeepEqual(got, want[i]) {
					errs <- fmt.Sprintf("%q: %+v, want %+v", texts[i], got, want[i])
					return
				}
			}
			errs <- ""
		}()
	}
	for g := 0; g < 4; g++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
