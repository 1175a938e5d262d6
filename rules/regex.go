package rules

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// pattern is a regular expression of matches() with a cheap test in front: most
// patterns a CM writes need one of a few words ((?i)\b(free|gift|nitro)\b), and
// looking for the words is much cheaper than running the regexp on every message.
type pattern struct {
	re *regexp.Regexp
	// lits are words one of which every match contains; none means no prefilter.
	lits []string
	// fold says lits are lower case and compared with the lower-cased text.
	fold bool
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
	lits, fold, ok := required(tree.Simplify())
	if !ok || len(lits) == 0 || len(lits) > 64 {
		return p
	}
	for i, l := range lits {
		if utf8.RuneCountInString(l) < minLiteral {
			return p
		}
		if fold {
			// the prefilter compares ASCII-lowered words; other letters have
			// case foldings strings.ToLower does not follow
			for j := 0; j < len(l); j++ {
				if l[j] >= utf8.RuneSelf {
					return p
				}
			}
			lits[i] = strings.ToLower(l)
		}
	}
	p.lits, p.fold = lits, fold
	return p
}

// required returns words one of which any match of re must contain, and whether
// they are compared case-insensitively. ok is false when no such set is known.
func required(re *syntax.Regexp) (lits []string, fold, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, re.Flags&syntax.FoldCase != 0, true
	case syntax.OpCapture:
		return required(re.Sub[0])
	case syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			l, f, ok := required(sub)
			if !ok {
				return nil, false, false
			}
			lits = append(lits, l...)
			fold = fold || f
		}
		return lits, fold, true
	case syntax.OpConcat:
		// every part must match: keep the part whose shortest word is longest
		best := -1
		for _, sub := range re.Sub {
			l, f, ok := required(sub)
			if !ok {
				continue
			}
			if shortest := minLen(l); shortest > best {
				best, lits, fold = shortest, l, f
			}
		}
		return lits, fold, best >= 0
	}
	return nil, false, false
}

func minLen(lits []string) int {
	m := -1
	for _, l := range lits {
		if n := utf8.RuneCountInString(l); m < 0 || n < m {
			m = n
		}
	}
	return m
}

// match reports whether s matches.
func (p *pattern) match(s string) bool {
	if p.lits != nil {
		found := false
		if p.fold {
			// ſ and K fold to s and k in the regexp: leave such texts to it
			if strings.ContainsRune(s, 'ſ') || strings.ContainsRune(s, '\u212a') {
				return p.re.MatchString(s)
			}
			for _, l := range p.lits {
				if containsFoldASCII(s, l) {
					found = true
					break
				}
			}
		} else {
			for _, l := range p.lits {
				if strings.Contains(s, l) {
					found = true
					break
				}
			}
		}
		if !found {
			return false
		}
	}
	return p.re.MatchString(s)
}

// containsFoldASCII reports whether s contains needle, a lower-case ASCII word,
// in any case. Non-ASCII bytes of s never equal an ASCII byte, so s needs no
// decoding and no lower-cased copy.
func containsFoldASCII(s, needle string) bool {
	n := len(needle)
	if n == 0 {
		return true
	}
	lo, up := needle[0], needle[0]
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	for i := 0; i+n <= len(s); i++ {
		j := indexEither(s[i:len(s)-n+1], lo, up)
		if j < 0 {
			return false
		}
		i += j
		if equalFoldASCII(s[i+1:i+n], needle[1:]) {
			return true
		}
	}
	return false
}

func indexEither(s string, a, b byte) int {
	i := strings.IndexByte(s, a)
	if a == b {
		return i
	}
	if j := strings.IndexByte(s, b); j >= 0 && (i < 0 || j < i) {
		return j
	}
	return i
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
