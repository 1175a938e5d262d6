package rules

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pattern is a regular expression of matches() with a cheap test in front: most
// patterns a CM writes need some words ((?i)\b(free|gift|nitro)\b), and looking
// for the words is much cheaper than running the regexp on every message.
type pattern struct {
	re *regexp.Regexp
	// clauses must all hold for a match: each is a set of words one of which the
	// text contains. None means no prefilter.
	clauses [][]string
	// fold says the words are lower case and compared in any case.
	fold bool
	// scans are the clauses ready for a single pass over the text.
	scans []*wordScan
}

// wordScan finds any of a set of words in one pass: at each byte of the text
// only the words starting with that byte are compared.
type wordScan struct {
	// second has, for each first byte, a bit for the second bytes of the words
	// (bit c&63 for byte c, both cases when folding): most positions of a text
	// are passed over on it without looking at the words.
	second  [256]uint64
	byFirst [256][]string // the words by first byte, both cases when folding
	fold    bool
}

func newWordScan(words []string, fold bool) *wordScan {
	ws := &wordScan{fold: fold}
	cases := func(c byte) []byte {
		if fold && 'a' <= c && c <= 'z' {
			return []byte{c, c - 'a' + 'A'}
		}
		return []byte{c}
	}
	for _, w := range words {
		// the clauses' words have at least minLiteral letters, so two bytes
		for _, c := range cases(w[0]) {
			ws.byFirst[c] = append(ws.byFirst[c], w)
			for _, d := range cases(w[1]) {
				ws.second[c] |= 1 << (d & 63)
			}
		}
	}
	return ws
}

func (ws *wordScan) in(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if ws.second[s[i]]&(1<<(s[i+1]&63)) == 0 {
			continue
		}
		for _, w := range ws.byFirst[s[i]] {
			if len(s)-i < len(w) {
				continue
			}
			if ws.fold && equalFoldASCII(s[i+1:i+len(w)], w[1:]) || !ws.fold && s[i:i+len(w)] == w {
				return true
			}
		}
	}
	return false
}

// minLiteral is the shortest word worth a prefilter; shorter ones are in
// almost every message.
const minLiteral = 3

func newPattern(re *regexp.Regexp) *pattern {
	p := &pattern{re: re}
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return p
	}
	clauses, fold, ok := required(tree.Simplify())
	if !ok {
		return p
	}
	for _, c := range clauses {
		if len(c) == 0 || len(c) > 64 || minLen(c) < minLiteral {
			continue // a weak clause is dropped: the filter only gets looser
		}
		if fold {
			c = lowerASCII(c)
			if c == nil {
				continue
			}
		}
		c = pruneWords(c)
		if slices.ContainsFunc(p.clauses, func(o []string) bool { return slices.Equal(o, c) }) {
			continue
		}
		p.clauses = append(p.clauses, c)
		if len(p.clauses) == 4 {
			break
		}
	}
	p.fold = fold
	for _, c := range p.clauses {
		p.scans = append(p.scans, newWordScan(c, fold))
	}
	return p
}

// pruneWords drops the words that contain another word of the clause: a text
// with them has the shorter one too.
func pruneWords(words []string) []string {
	var out []string
	for i, w := range words {
		if !slices.ContainsFunc(words, func(o string) bool { return o != w && strings.Contains(w, o) }) &&
			!slices.Contains(words[:i], w) {
			out = append(out, w)
		}
	}
	return out
}

// lowerASCII lower-cases the ASCII letters of words, which the prefilter
// compares in any case; exact listed the other letters in all their cases. A
// clause that is now longer than its words were is dropped (nil): it gained
// variants, no longer the same words.
func lowerASCII(words []string) []string {
	var out []string
	for _, w := range words {
		b := []byte(w)
		for j, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[j] = c + 'a' - 'A'
			}
		}
		if l := string(b); !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// required returns what any match of re contains, as clauses that must all
// hold, each a set of words one of which is in the text; fold says whether some
// words compare in any case. ok is false when nothing is known.
func required(re *syntax.Regexp) (clauses [][]string, fold, ok bool) {
	if words, f, ok := exact(re); ok {
		if len(words) == 0 || slices.Contains(words, "") {
			return nil, false, false
		}
		return [][]string{words}, f, true
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		// one alternative matches: its strongest clause, or another's
		var words []string
		for _, sub := range re.Sub {
			cs, f, ok := required(sub)
			if !ok {
				return nil, false, false
			}
			words = append(words, strongest(cs)...)
			fold = fold || f
		}
		return [][]string{words}, fold, true
	case syntax.OpConcat:
		// every part matches: every part's clauses hold, and the parts whose
		// texts can be listed glue into longer words (c(laim|adeau) is claim or
		// cadeau, not laim or adeau)
		var run []string
		flush := func() {
			if len(run) > 0 && !slices.Contains(run, "") {
				clauses = append(clauses, run)
			}
			run = nil
		}
		for _, sub := range re.Sub {
			if words, f, ok := exact(sub); ok {
				fold = fold || f
				if run == nil {
					run = words
				} else if glued, ok := cross(run, words); ok {
					run = glued
				} else {
					flush()
					run = words
				}
				continue
			}
			flush()
			cs, f, ok := required(sub)
			if !ok {
				continue
			}
			clauses = append(clauses, cs...)
			fold = fold || f
		}
		flush()
		return clauses, fold, len(clauses) > 0
	}
	return nil, false, false
}

// maxWords bounds the texts exact lists for one part of a pattern.
const maxWords = 64

// exact lists every text re can match, when there are few (a literal, a small
// class, alternatives and sequences of them; the zero-width assertions match
// ""). Words that fold are listed with every case of their non-ASCII letters,
// since the prefilter folds only ASCII; fold says some fold.
func exact(re *syntax.Regexp) (words []string, fold, ok bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return []string{""}, false, true
	case syntax.OpLiteral:
		words = []string{""}
		fold = re.Flags&syntax.FoldCase != 0
		for _, r := range re.Rune {
			cases := []rune{r}
			if fold && r >= utf8.RuneSelf {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					cases = append(cases, f)
				}
			}
			var next []string
			for _, c := range cases {
				next = append(next, string(c))
			}
			if words, ok = cross(words, next); !ok {
				return nil, false, false
			}
		}
		return words, fold, true
	case syntax.OpCharClass:
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			n += int(re.Rune[i+1]-re.Rune[i]) + 1
			if n > 4 {
				return nil, false, false
			}
		}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				words = append(words, string(r))
			}
		}
		return words, false, len(words) > 0
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpQuest:
		words, fold, ok = exact(re.Sub[0])
		if !ok || len(words) >= maxWords {
			return nil, false, false
		}
		return append(words, ""), fold, true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			w, f, ok := exact(sub)
			if !ok || len(words)+len(w) > maxWords {
				return nil, false, false
			}
			words = append(words, w...)
			fold = fold || f
		}
		return words, fold, true
	case syntax.OpConcat:
		words = []string{""}
		for _, sub := range re.Sub {
			w, f, ok := exact(sub)
			if !ok {
				return nil, false, false
			}
			if words, ok = cross(words, w); !ok {
				return nil, false, false
			}
			fold = fold || f
		}
		return words, fold, true
	}
	return nil, false, false
}

// cross is every word of a followed by every word of b, unless there are more
// than maxWords.
func cross(a, b []string) ([]string, bool) {
	if len(a)*len(b) > maxWords {
		return nil, false
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			if w := x + y; !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return out, true
}

// strongest is the clause whose shortest word is longest.
func strongest(clauses [][]string) []string {
	var best []string
	bestLen := -1
	for _, c := range clauses {
		if n := minLen(c); n > bestLen {
			best, bestLen = c, n
		}
	}
	return best
}

func minLen(words []string) int {
	m := -1
	for _, w := range words {
		if n := utf8.RuneCountInString(w); m < 0 || n < m {
			m = n
		}
	}
	return m
}

// match reports whether s matches.
func (p *pattern) match(s string) bool {
	if p.clauses != nil {
		// ſ and K fold to s and k in the regexp: leave such texts to it
		if p.fold && (strings.ContainsRune(s, 'ſ') || strings.ContainsRune(s, '\u212a')) {
			return p.re.MatchString(s)
		}
		for i := range p.scans {
			if !p.scans[i].in(s) {
				return false
			}
		}
	}
	return p.re.MatchString(s)
}

// equalFoldASCII compares s with lower, which is lower-case ASCII.
func equalFoldASCII(s, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func (p *pattern) String() string { return p.re.String() }
