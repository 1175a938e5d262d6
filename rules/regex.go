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
	// bounded says, for each clause, that its word must start the text or
	// follow a byte that is not an ASCII word character: the regexp has \b,
	// a space or another non-word character right before it. "vid" of
	// \s+vids?\b is then not found in "avid".
	bounded []bool
	// fold says the words are lower case and compared in any case.
	fold bool
	// scans are the clauses ready for a single pass over the text.
	scans []*wordScan
	// lead, when set, holds the words every match starts with, after a \b
	// (\b(check|visit)…): the regexp is run from the first of them in the
	// text, not over what comes before, where no match can start. leadFold
	// says they are compared in any case.
	lead     *wordScan
	leadFold bool
	// anchored is re held to start where it is run: with a lead, it is run
	// from each of the lead's words in turn, where a match can start, not
	// from every position of a long text after the first of them.
	anchored *regexp.Regexp
	// size is about the instructions re compiled to, for a pattern built
	// while the rule runs (progSize): its match counts against the run's
	// budget by it (chargeMatch). 0 for the file's own patterns.
	size int64
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
	bounded bool // a word must not follow an ASCII word character
	// grams are each word's trigrams (gramOf), to tell from a text's
	// trigrams (a gramSet) that none of the words is in it without
	// passing over the text; nil when a word is shorter than three bytes.
	grams [][]uint16
}

func newWordScan(words []string, fold, bounded bool) *wordScan {
	ws := &wordScan{fold: fold, bounded: bounded}
	cases := func(c byte) []byte {
		if fold && 'a' <= c && c <= 'z' {
			return []byte{c, c - 'a' + 'A'}
		}
		return []byte{c}
	}
	ws.grams = make([][]uint16, 0, len(words))
	for _, w := range words {
		if ws.grams != nil {
			if len(w) < 3 {
				ws.grams = nil
			} else {
				ws.grams = append(ws.grams, wordGrams(w))
			}
		}
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

func (ws *wordScan) in(s string) bool { return ws.first(s) >= 0 }

// mayBeIn reports whether one of the words may be in the text whose
// trigrams g holds: false when each word lacks one of its trigrams there.
func (ws *wordScan) mayBeIn(g *gramSet) bool {
	if ws.grams == nil || g == nil {
		return true
	}
	for _, w := range ws.grams {
		if g.hasAll(w) {
			return true
		}
	}
	return false
}

// gramSet holds a text's trigrams of bytes (gramOf), ASCII letters read in
// lower case: a word of three bytes or more is in the text, as it is or in
// another ASCII case, only if each of its trigrams is in the set. Filled once
// for an event's text, it answers for every clause of every pattern asked of
// it; a pass over the text per clause costs about as much as filling it.
type gramSet [gramSetBits / 64]uint64

// gramSetBits is the room of a gramSet: a message of a hundred bytes sets
// about 2% of its bits, the chance a word of three bytes that is not in it
// passes the test.
const gramSetBits = 4096

// gramOf is the trigram x holds in its top three bytes (lower case), hashed
// to 12 bits.
func gramOf(x uint32) uint32 { return (x * 0x9e3779b1) >> 20 }

// lowerBytes maps each byte to itself, the ASCII capitals to lower case.
var lowerBytes = func() (t [256]byte) {
	for c := range t {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			t[c] += 'a' - 'A'
		}
	}
	return t
}()

// fill sets g to the trigrams of s.
func (g *gramSet) fill(s string) {
	clear(g[:])
	if len(s) < 3 {
		return
	}
	// the last two bytes read, in the second and third bytes of x: the
	// next one goes in the fourth, the first falls off the top
	x := uint32(lowerBytes[s[0]])<<16 | uint32(lowerBytes[s[1]])<<8
	for i := 2; i < len(s); i++ {
		x = x<<8 | uint32(lowerBytes[s[i]])<<8
		k := gramOf(x)
		g[k>>6] |= 1 << (k & 63)
	}
}

// hasAll reports whether every trigram of grams is in g.
func (g *gramSet) hasAll(grams []uint16) bool {
	for _, k := range grams {
		if g[k>>6]&(1<<(k&63)) == 0 {
			return false
		}
	}
	return true
}

// wordGrams returns the trigrams of w (three bytes at least), as fill
// finds them in a text that holds w in any ASCII case.
func wordGrams(w string) []uint16 {
	var out []uint16
	for i := 2; i < len(w); i++ {
		x := uint32(lowerBytes[w[i-2]])<<24 | uint32(lowerBytes[w[i-1]])<<16 | uint32(lowerBytes[w[i]])<<8
		if k := uint16(gramOf(x)); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// first returns where the first of the words is in s, or -1.
func (ws *wordScan) first(s string) int { return ws.firstFrom(s, 0) }

// firstFrom is first for the words that start at from or after; the byte
// before from is read for bounded as it is in s.
func (ws *wordScan) firstFrom(s string, from int) int {
	if from < 0 || len(s)-from < 2 {
		return -1
	}
	// This loop passes over every byte of the text for each clause of each
	// pattern asked: most bytes start no word (second is 0 for them) and
	// cost a load and a test; the byte after, then the one before for
	// bounded, are read only at a byte that starts a word.
	for i := from; i+1 < len(s); i++ {
		m := ws.second[s[i]]
		if m == 0 || m&(1<<(s[i+1]&63)) == 0 {
			continue
		}
		if ws.bounded && i > 0 && isASCIIWordByte(s[i-1]) {
			continue
		}
		for _, w := range ws.byFirst[s[i]] {
			if len(s)-i < len(w) {
				continue
			}
			if ws.fold && equalFoldASCII(s[i+1:i+len(w)], w[1:]) || !ws.fold && s[i:i+len(w)] == w {
				return i
			}
		}
	}
	return -1
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
	clauses, bounded, fold, ok := required(tree.Simplify(), anyBefore)
	if !ok {
		return p
	}
	for k, c := range clauses {
		if len(c) == 0 || len(c) > 64 || minLen(c) < minLiteral {
			continue // a weak clause is dropped: the filter only gets looser
		}
		if fold {
			c = lowerASCII(c)
			if c == nil {
				continue
			}
		}
		c = pruneWords(c, bounded[k])
		if slices.ContainsFunc(p.clauses, func(o []string) bool { return slices.Equal(o, c) }) {
			continue
		}
		p.clauses = append(p.clauses, c)
		p.bounded = append(p.bounded, bounded[k])
		if len(p.clauses) == 4 {
			break
		}
	}
	p.fold = fold
	for k, c := range p.clauses {
		p.scans = append(p.scans, newWordScan(c, fold, p.bounded[k]))
	}
	p.lead, p.leadFold = leadOf(tree.Simplify())
	if p.lead != nil {
		// nil when it does not compile: the lead then only skips what comes
		// before the first of its words
		p.anchored, _ = regexp.Compile(`^(?:` + re.String() + `)`)
	}
	return p
}

// leadOf returns a scan for the words every match of re starts with, when re
// is \b then words that start with an ASCII letter or digit: a match then
// starts where one of them does, after a character that is not an ASCII word
// character (Go's \b), which is what a bounded scan finds. Run on the text
// from there, the regexp sees the same \b: the start of a text is not a word
// character either. The words may be what a match starts with rather than
// whole words (abonne of \b(abonne[zs]?|va)), and re may be an alternation
// of such (\bcheck\W+my|\bsee\s+it).
func leadOf(re *syntax.Regexp) (*wordScan, bool) {
	words, fold, ok := leadWords(re)
	if !ok || len(words) == 0 || len(words) > 64 {
		return nil, false
	}
	if fold {
		words = lowerASCII(words)
	}
	for _, w := range words {
		// two bytes at least, as a wordScan reads them, and no other case
		// than ASCII's to fold
		if len(w) < 2 || !isASCIIWordByte(w[0]) || w[0] == '_' || fold && !isASCII(w) {
			return nil, false
		}
	}
	return newWordScan(words, fold, true), fold
}

// leadWords returns the words every match of re starts with, right after a
// \b: re is \b then what starts with them, or an alternation of such.
func leadWords(re *syntax.Regexp) (words []string, fold, ok bool) {
	switch re.Op {
	case syntax.OpCapture:
		return leadWords(re.Sub[0])
	case syntax.OpAlternate:
		return alternatives(re, leadWords)
	case syntax.OpConcat:
		if len(re.Sub) >= 2 && re.Sub[0].Op == syntax.OpWordBoundary {
			return prefixes(re.Sub[1])
		}
	}
	return nil, false, false
}

// prefixes returns words one of which every match of re starts with: its
// exact words, else those of its first part, of each alternative. A match
// may start with "" (an optional part): leadOf then finds no lead.
func prefixes(re *syntax.Regexp) (words []string, fold, ok bool) {
	if words, fold, ok = exact(re); ok {
		return words, fold, true
	}
	switch re.Op {
	case syntax.OpCapture:
		return prefixes(re.Sub[0])
	case syntax.OpAlternate:
		return alternatives(re, prefixes)
	case syntax.OpConcat:
		return prefixes(re.Sub[0])
	}
	return nil, false, false
}

// alternatives gathers the words of each of re's alternatives, by of.
func alternatives(re *syntax.Regexp, of func(*syntax.Regexp) ([]string, bool, bool)) (words []string, fold, ok bool) {
	for _, sub := range re.Sub {
		w, f, ok := of(sub)
		if !ok || len(words)+len(w) > maxWords {
			return nil, false, false
		}
		words = append(words, w...)
		fold = fold || f
	}
	return words, fold, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// pruneWords drops the words that contain another word of the clause: a text
// with them has the shorter one too. In a bounded clause, where a word must
// start where it is found, only those that start with another.
func pruneWords(words []string, bounded bool) []string {
	var out []string
	for i, w := range words {
		shorter := func(o string) bool {
			return o != w && (bounded && strings.HasPrefix(w, o) || !bounded && strings.Contains(w, o))
		}
		if !slices.ContainsFunc(words, shorter) && !slices.Contains(words[:i], w) {
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

// before is what a part of a pattern is known to follow.
type before uint8

const (
	anyBefore      before = iota
	nonWordBefore         // the start of the text or a line, or a character that is not an ASCII word character
	boundaryBefore        // a \b: a word that starts with a word character follows a nonWordBefore
)

// required returns what any match of re contains, as clauses that must all
// hold, each a set of words one of which is in the text, and for each whether
// its word follows no ASCII word character (bounded); fold says whether some
// words compare in any case. ctx is what re's match follows. ok is false when
// nothing is known.
func required(re *syntax.Regexp, ctx before) (clauses [][]string, bounded []bool, fold, ok bool) {
	if words, f, ok := exact(re); ok {
		if len(words) == 0 || slices.Contains(words, "") {
			return nil, nil, false, false
		}
		return [][]string{words}, []bool{opensBounded(re, words) || follows(ctx, words)}, f, true
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		// a repetition: its first time follows what the whole follows
		return required(re.Sub[0], ctx)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0], ctx)
		}
	case syntax.OpAlternate:
		// one alternative matches: its strongest clause, or another's
		var words []string
		all := true
		for _, sub := range re.Sub {
			cs, bs, f, ok := required(sub, ctx)
			if !ok {
				return nil, nil, false, false
			}
			i := strongest(cs)
			words = append(words, cs[i]...)
			all = all && bs[i]
			fold = fold || f
		}
		return [][]string{words}, []bool{all}, fold, true
	case syntax.OpConcat:
		// every part matches: every part's clauses hold, and the parts whose
		// texts can be listed glue into longer words (c(laim|adeau) is claim or
		// cadeau, not laim or adeau)
		var run []string
		start := 0 // the part the run starts with
		flush := func() {
			if len(run) > 0 && !slices.Contains(run, "") {
				clauses = append(clauses, run)
				bounded = append(bounded, opensBounded(re.Sub[start], run) || follows(contextAt(re.Sub, start, ctx), run))
			}
			run = nil
		}
		for k, sub := range re.Sub {
			if words, f, ok := exact(sub); ok {
				fold = fold || f
				if run == nil {
					run, start = words, k
				} else if glued, ok := cross(run, words); ok {
					run = glued
				} else {
					flush()
					run, start = words, k
				}
				continue
			}
			flush()
			cs, bs, f, ok := required(sub, contextAt(re.Sub, k, ctx))
			if !ok {
				continue
			}
			clauses = append(clauses, cs...)
			bounded = append(bounded, bs...)
			fold = fold || f
		}
		flush()
		return clauses, bounded, fold, len(clauses) > 0
	}
	return nil, nil, false, false
}

// follows reports whether words, following ctx, follow no ASCII word
// character.
func follows(ctx before, words []string) bool {
	return ctx == nonWordBefore || ctx == boundaryBefore && wordStarts(words)
}

// contextAt is what part k of a sequence follows, the sequence following ctx.
func contextAt(parts []*syntax.Regexp, k int, ctx before) before {
	for m := k - 1; m >= 0; m-- {
		switch p := parts[m]; p.Op {
		case syntax.OpBeginText, syntax.OpBeginLine:
			return nonWordBefore
		case syntax.OpWordBoundary:
			// parts between it and k, if any, matched nothing or ended in
			// a non-word character: the weaker of the two holds
			return boundaryBefore
		case syntax.OpNoWordBoundary, syntax.OpEndText, syntax.OpEndLine, syntax.OpEmptyMatch:
			continue // zero-width: the character before is further back
		default:
			if !endsNonWord(p) {
				return anyBefore
			}
			if !canBeEmpty(p) {
				return nonWordBefore
			}
		}
	}
	return ctx
}

// opensBounded reports whether words, what re matches, follow no ASCII word
// character: re starts at the start of the text or a line, or at a \b
// followed by a word character.
func opensBounded(re *syntax.Regexp, words []string) bool {
	switch opening(re) {
	case syntax.OpBeginText, syntax.OpBeginLine:
		return true
	case syntax.OpWordBoundary:
		return wordStarts(words)
	}
	return false
}

// opening is the operator every match of re starts with, looking into
// groups and sequences.
func opening(re *syntax.Regexp) syntax.Op {
	switch re.Op {
	case syntax.OpCapture:
		return opening(re.Sub[0])
	case syntax.OpConcat:
		if len(re.Sub) > 0 {
			return opening(re.Sub[0])
		}
	}
	return re.Op
}

// wordStarts reports whether every word starts with an ASCII word character:
// after a \b, the byte before it is then not one.
func wordStarts(words []string) bool {
	for _, w := range words {
		if w == "" || !isASCIIWordByte(w[0]) {
			return false
		}
	}
	return true
}

func isASCIIWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// endsNonWord reports whether every non-empty match of re ends in a character
// that is not an ASCII word character.
func endsNonWord(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return true
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return true
		}
		r := re.Rune[len(re.Rune)-1]
		if re.Flags&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				if isASCIIWordRune(f) {
					return false
				}
			}
		}
		return !isASCIIWordRune(r)
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			for _, w := range [][2]rune{{'0', '9'}, {'A', 'Z'}, {'a', 'z'}, {'_', '_'}} {
				if lo <= w[1] && w[0] <= hi {
					return false
				}
			}
		}
		return true
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return endsNonWord(re.Sub[0])
	case syntax.OpConcat:
		// the last part that matched something ends the match
		for m := len(re.Sub) - 1; m >= 0; m-- {
			if !endsNonWord(re.Sub[m]) {
				return false
			}
			if !canBeEmpty(re.Sub[m]) {
				return true
			}
		}
		return true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !endsNonWord(sub) {
				return false
			}
		}
		return true
	}
	return false
}

func isASCIIWordRune(r rune) bool { return r < utf8.RuneSelf && isASCIIWordByte(byte(r)) }

// canBeEmpty reports whether re may match the empty text; true when unsure.
func canBeEmpty(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) == 0
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return false
	case syntax.OpCapture, syntax.OpPlus:
		return canBeEmpty(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min == 0 || canBeEmpty(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !canBeEmpty(sub) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if canBeEmpty(sub) {
				return true
			}
		}
		return false
	}
	return true
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

// strongest is the index of the clause whose shortest word is longest.
func strongest(clauses [][]string) int {
	best, bestLen := 0, -1
	for i, c := range clauses {
		if n := minLen(c); n > bestLen {
			best, bestLen = i, n
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
func (p *pattern) match(s string) bool { return p.matchFolding(s, foldsOdd(s), nil) }

// foldsOdd reports whether s holds ſ or K, which fold to s and k in the
// regexp but not in the prefilter.
func foldsOdd(s string) bool {
	return strings.ContainsRune(s, 'ſ') || strings.ContainsRune(s, '\u212a')
}

// matchFolding is match when whether s holds ſ or K is known (foldsOdd), and
// with the trigrams of s when g is not nil: an event's text is looked at once
// for all the patterns.
func (p *pattern) matchFolding(s string, odd bool, g *gramSet) bool {
	if p.clauses != nil {
		// leave such texts to the regexp
		if p.fold && odd {
			return p.re.MatchString(s)
		}
		for i := range p.scans {
			if !p.scans[i].mayBeIn(g) {
				return false
			}
		}
		for i := range p.scans {
			if !p.scans[i].in(s) {
				return false
			}
		}
	}
	if p.lead != nil && !(p.leadFold && odd) {
		if !p.lead.mayBeIn(g) {
			return false
		}
		i := p.lead.first(s)
		if i < 0 {
			return false
		}
		if p.anchored == nil {
			return p.re.MatchString(s[i:])
		}
		// A match starts at one of the lead's words, after a byte that is
		// not an ASCII word character: run from there, \b reads the start
		// of s[i:] as the regexp reads s at i.
		for ; i >= 0; i = p.lead.firstFrom(s, i+1) {
			if p.anchored.MatchString(s[i:]) {
				return true
			}
		}
		return false
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
