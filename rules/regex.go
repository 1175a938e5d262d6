package rules

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
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
	scans []wordScan
}

// wordScan finds any of a set of words in one pass: at each byte of the text
// only the words starting with that byte are compared.
type wordScan struct {
	byFirst [256][]string // the words by first byte, both cases when folding
	fold    bool
}

func newWordScan(words []string, fold bool) wordScan {
	ws := wordScan{fold: fold}
	for _, w := range words {
		c := w[0]
		ws.byFirst[c] = append(ws.byFirst[c], w)
		if fold && 'a' <= c && c <= 'z' {
			ws.byFirst[c-'a'+'A'] = append(ws.byFirst[c-'a'+'A'], w)
		}
	}
	return ws
}

func (ws *wordScan) in(s string) bool {
	for i := 0; i < len(s); i++ {
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

// lowerASCII lower-cases words that are all ASCII, or returns nil: other letters
// have case foldings (ſ, K) that a byte comparison does not follow.
func lowerASCII(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		for j := 0; j < len(w); j++ {
			if w[j] >= utf8.RuneSelf {
				return nil
			}
		}
		out[i] = strings.ToLower(w)
	}
	return out
}

// required returns what any match of re contains, as clauses that must all
// hold, each a set of words one of which is in the text; fold says whether some
// words compare in any case. ok is false when nothing is known.
func required(re *syntax.Regexp) (clauses [][]string, fold, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return [][]string{{string(re.Rune)}}, re.Flags&syntax.FoldCase != 0, true
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
		// every part matches: every part's clauses hold
		for _, sub := range re.Sub {
			cs, f, ok := required(sub)
			if !ok {
				continue
			}
			clauses = append(clauses, cs...)
			fold = fold || f
		}
		return clauses, fold, len(clauses) > 0
	}
	return nil, false, false
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
