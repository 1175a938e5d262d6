package faq

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigie-bot/vigie/bot"
)

// byLetter indexes words by their first letter only, as before the index had
// lengths.
func byLetter(words map[string]string) map[rune][]known {
	out := map[rune][]known{}
	for w, t := range words {
		r, _ := utf8.DecodeRuneInString(w)
		out[r] = append(out[r], known{word: w, term: t, runes: []rune(w)})
	}
	return out
}

// uniqueByLetter is unique as it was before the index had lengths: every known
// word of the same first letter compared in turn.
func uniqueByLetter(s string, limit int, index map[rune][]known) (string, bool) {
	found := ""
	best := limit + 1
	ambiguous := false
	rs := []rune(s)
	first := utf8.RuneError
	if len(rs) > 0 {
		first = rs[0]
	}
	for _, k := range index[first] {
		term, kr := k.term, k.runes
		if strings.HasPrefix(term, "~") && (len(rs) < minConceptTypo || rs[1] != kr[1]) {
			continue
		}
		if d := len(kr) - len(rs); d > limit || -d > limit {
			continue
		}
		d := bot.DistanceRunes(rs, kr, limit)
		switch {
		case d > limit || d > best:
		case d < best:
			best, found, ambiguous = d, term, false
		case term != found:
			ambiguous = true
		}
	}
	if found == "" || ambiguous {
		return "", false
	}
	return found, true
}

// typoProbes are the starter pack's known words, each with one letter dropped,
// doubled, changed and swapped, and the words of the recorded messages.
func typoProbes(t *testing.T, m *Matcher) []string {
	seen := map[string]bool{}
	add := func(s string) {
		if utf8.ValidString(s) {
			seen[s] = true
		}
	}
	for w := range m.surface {
		rs := []rune(w)
		add(w)
		for i := range rs {
			add(string(rs[:i]) + string(rs[i+1:]))
			add(string(rs[:i+1]) + string(rs[i:]))
			add(string(rs[:i]) + "x" + string(rs[i+1:]))
			if i+1 < len(rs) {
				add(string(rs[:i]) + string(rs[i+1]) + string(rs[i]) + string(rs[i+2:]))
			}
		}
	}
	texts := []string{"livraisonn retourr horraires comande remboursemnt", "", "ééé"}
	if !testing.Short() {
		texts = append(texts, readTextsOrNone(t)...)
	}
	for _, s := range texts {
		for _, w := range words(s) {
			add(w.folded)
			add(w.stem)
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	return out
}

// readTextsOrNone is readTexts without the skip: the probes above still run
// without the recorded messages.
func readTextsOrNone(t *testing.T) (texts []string) {
	t.Run("recorded", func(t *testing.T) { texts = readTexts(t) })
	return texts
}

// TestUniqueByLength checks the typo correction's index by first letter and
// length against the comparison of every word of the same first letter.
func TestUniqueByLength(t *testing.T) {
	m := starterMatcher(t)
	stems := make(map[string]string, len(m.idf))
	for s := range m.idf {
		stems[s] = s
	}
	bySurface, byStem := byLetter(m.surface), byLetter(stems)
	for _, s := range typoProbes(t, m) {
		for _, c := range []struct {
			name  string
			index nearIndex
			old   map[rune][]known
		}{{"surface", m.nearSurface, bySurface}, {"stem", m.nearStem, byStem}} {
			got, gotOK := unique(s, 1, c.index)
			want, wantOK := uniqueByLetter(s, 1, c.old)
			if got != want || gotOK != wantOK {
				t.Fatalf("%s %q: unique = %q %v, comparing every word %q %v", c.name, s, got, gotOK, want, wantOK)
			}
		}
	}
}
