package faq

import (
	"testing"
	"time"
	"unicode/utf8"
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
