package faq

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigie-bot/vigie/rules"
)

// BenchmarkDecide measures one message against the starter pack's FAQ.
func BenchmarkDecide(b *testing.B) {
	m := starterMatcher(b)
	texts := []string{
		"bonjour, vous livrez en Belgique ? ma commande n'est toujours pas arrivée",
		"gg wp tout le monde, bonne soirée",
		"is the server down? can't connect since this morning",
	}
	at := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.DecideText(texts[i%len(texts)], at)
	}
}

// FuzzDecide feeds odd text to the matcher: it must not panic, scores stay
// within 0 and 1, and an answer is always above its threshold.
func FuzzDecide(f *testing.F) {
	for _, s := range []string{"vos horaires ?", "", "???", "ｈｏｒａｉｒｅｓ", "l'''--''", "aaaaaaaaaaaaaaaaaaaa?", "\xff\xfe?", "où œuvre-t-il ?"} {
		f.Add(s)
	}
	m := starterMatcher(f)
	at := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d := m.DecideText(s, at)
		for _, c := range d.Candidates {
			if c.Score < 0 || c.Score > 1.0005 {
				t.Fatalf("%q: score %v", s, c.Score)
			}
		}
		if d.Kind == Answer && d.Score < m.cfg.Threshold {
			t.Fatalf("%q: answered at %v", s, d.Score)
		}
		if !utf8.ValidString(d.Text) && utf8.ValidString(s) {
			t.Fatalf("%q: reply not UTF-8", s)
		}
	})
}

// BenchmarkDecide200 measures one message against an FAQ of 200 entries: the
// five brands' (which inherit the intents' wordings) and products' entries of
// three examples each, the size of a large brand's FAQ.
func BenchmarkDecide200(b *testing.B) {
	m := largeMatcher(b, 200)
	texts := []string{
		"bonjour, vous livrez en Belgique ? ma commande n'est toujours pas arrivée",
		"gg wp tout le monde, bonne soirée",
		"c'est ouvert lundi ?",
		"is the server down? can't connect since this morning",
		"le modele kavo7 existe en bleu ?",
	}
	at := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.DecideText(texts[i%len(texts)], at)
	}
}

// largeMatcher builds an FAQ of n entries from the brands' and made-up
// products'.
func largeMatcher(b *testing.B, n int) *Matcher {
	b.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "brands", "*", "faq.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var entries []rules.FAQEntry
	for _, f := range files {
		rs, err := rules.Load(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range rs.FAQ.Entries {
			e.ID = filepath.Base(filepath.Dir(f)) + "_" + e.ID
			entries = append(entries, e)
		}
	}
	syllables := []string{"ka", "vo", "ri", "mel", "to", "su", "dar", "pi", "lo", "zen", "bu", "ne"}
	for i := 0; len(entries) < n; i++ {
		name := syllables[i%len(syllables)] + syllables[(i/len(syllables))%len(syllables)] + fmt.Sprint(i%10)
		entries = append(entries, rules.FAQEntry{
			ID: "product_" + fmt.Sprint(i),
			Questions: []string{
				"le modele " + name + " existe en quelle couleur ?",
				"quelle est la composition du " + name + " ?",
				"how do I wash the " + name + "?",
			},
			Answer: map[string]string{"": name},
		})
	}
	m, err := NewMatcher(Config{QuestionsOnly: true, Entries: entries})
	if err != nil {
		b.Fatal(err)
	}
	return m
}
