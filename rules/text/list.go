package text

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// List is a word list compiled for matching: a trie of token sequences, so a
// message is matched in one pass over its words whatever the list's size. It is
// safe for concurrent use.
//
// An entry that starts with "!" is an allow entry: an innocent word or phrase
// that contains a listed one ("!chili con carne" next to "con", "!cul-de-sac"
// next to "cul"). A match that lies inside an allow entry found in the text does
// not count. "\!" starts an entry with a literal "!".
type List struct {
	entries []string
	root    node
	// allow is the trie of the allow entries; allowWords is the number of
	// words of the longest.
	allow      node
	allowWords int
	// byLen indexes the first words of the entries by their length in runes,
	// for censored words in the text ("f*ck", "sh!t"), where a '*' stands for
	// any one letter.
	byLen map[int][]*node
	// hosts holds the entries as lower-case host names (no www., no trailing
	// dot), for Contains on domains: true for a listed host, false for an
	// allowed one.
	hosts map[string]bool
	// skeletons maps the look-alike skeleton of each listed host to the host,
	// for Lookalike.
	skeletons map[string]string
	// names are the skeletons of the listed hosts' names, for Lookalike to
	// find one with lures in another host (discord-nitro-gift.xyz)
	names []brandNameOf
	// glued maps the skeleton of each listed host's registrable domain
	// written without its dots (discordgg, steamcommunitycom) to the host,
	// for Lookalike (see brandGlued)
	glued map[string]string
	// scratch recycles the Analysis that Contains tokenises into: rules may ask
	// for every domain of every message.
	scratch sync.Pool
}

// node is a trie node; a path from the root spells an entry word by word.
type node struct {
	word string // the word that leads here from the parent
	// kids are the children in the order of their words, for censored words
	// in the middle of a phrase ("ta g**ule")
	kids []*node
	next map[string]*node
	// coll indexes the children by the collapsed spelling of their word, for
	// stretched words in the text ("nuuul" finds "nul", "connaaard" finds "connard").
	coll  map[string][]*node
	entry string // the entry as written, when one ends here
	end   bool
	// starts, on the root, has a bit set for each word of next (by
	// startBit): most words of a message start no entry and skip the map.
	starts *[startBits / 64]uint64
	// table holds the children of next open-addressed by their words'
	// wordKey (hash), half full at most, for lookup and allowEnds: a Go
	// map of strings hashes the word again and reads a group of slots
	// before the key, where the table reads one pointer.
	table []*node
	hash  uint32 // wordKey of word
}

// startBits is the size of the root's word filter: a list of a thousand first
// words sets under 2% of it.
const startBits = 1 << 16

// startBit is where a word falls in the root's filter: a cheap hash of its
// first and last eight bytes and its length (wordKey's top bits).
func startBit(w []byte) uint32 { return wordKey(w) >> (32 - 16) }

// wordKey is a cheap hash of a word's first and last eight bytes and its
// length, for the root's filter (startBit) and the nodes' tables.
func wordKey(w []byte) uint32 {
	var x uint64
	n := len(w)
	if n >= 8 {
		x = binary.LittleEndian.Uint64(w) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(w[n-8:]), 29)
	} else {
		x = short8(w)
	}
	x ^= uint64(n) << 58
	x *= 0x9e3779b97f4a7c15
	return uint32(x >> 32)
}

// lookup returns the child of n reached by word w, or nil.
func (n *node) lookup(w []byte) *node {
	if len(n.table) == 0 {
		return nil
	}
	k := wordKey(w)
	if n.starts != nil {
		if b := k >> (32 - 16); n.starts[b/64]&(1<<(b%64)) == 0 {
			return nil
		}
	}
	return n.find(w, k)
}

// find returns the child of n reached by word w of wordKey k, or nil: the
// same child as next[string(w)].
func (n *node) find(w []byte, k uint32) *node {
	mask := uint32(len(n.table) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		c := n.table[i]
		if c == nil {
			return nil
		}
		if c.hash == k && c.word == string(w) {
			return c
		}
	}
}

// tabulate fills the tables of n and the nodes below it from their next.
func (n *node) tabulate() {
	if len(n.next) == 0 {
		return
	}
	size := 2
	for size < 2*len(n.next) {
		size *= 2
	}
	n.table = make([]*node, size)
	mask := uint32(size - 1)
	for _, c := range n.next {
		c.hash = wordKey([]byte(c.word))
		i := c.hash & mask
		for n.table[i] != nil {
			i = (i + 1) & mask
		}
		n.table[i] = c
		c.tabulate()
	}
}

func (n *node) child(word string) *node {
	if c := n.next[word]; c != nil {
		return c
	}
	if n.next == nil {
		n.next = make(map[string]*node)
		n.coll = make(map[string][]*node)
	}
	c := &node{word: word}
	n.next[word] = c
	k := collapseString(word)
	n.coll[k] = append(n.coll[k], c)
	return c
}

// EntryError is an entry NewList refuses: one with nothing to match.
type EntryError struct {
	// Index is the entry's place among the entries, from 0.
	Index int
	Entry string
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("list entry %d %q: no word to match", e.Index+1, e.Entry)
}

// EntryErrors are the entries NewList refuses, all of them, in order: a CM
// mends them in one go.
type EntryErrors []*EntryError

// entryErrorsTold bounds the entries an EntryErrors names in its Error.
const entryErrorsTold = 20

func (es EntryErrors) Error() string {
	var b strings.Builder
	for i, e := range es[:min(len(es), entryErrorsTold)] {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "entry %d %q", e.Index+1, e.Entry)
	}
	if len(es) > entryErrorsTold {
		fmt.Fprintf(&b, " and %d more", len(es)-entryErrorsTold)
	}
	return "list " + b.String() + ": no word to match"
}

// NewList compiles entries (words or phrases) once, when the rule file loads.
// An entry with nothing to match (only punctuation or spaces) is an error:
// all such entries are, as EntryErrors.
func NewList(entries []string) (*List, error) {
	l := &List{entries: append([]string(nil), entries...), hosts: make(map[string]bool),
		byLen: make(map[int][]*node), skeletons: make(map[string]string)}
	var buf []byte
	var toks []token
	var bad EntryErrors
	for i, e := range entries {
		allow := strings.HasPrefix(e, "!")
		word := e
		if allow {
			word = e[1:]
		} else if strings.HasPrefix(e, `\!`) {
			word = e[1:]
		}
		buf, toks, _ = tokenize(word, buf, toks, nil, nil)
		if len(toks) == 0 {
			bad = append(bad, &EntryError{Index: i, Entry: e})
			continue
		}
		n := &l.root
		if allow {
			n = &l.allow
			l.allowWords = max(l.allowWords, len(toks))
		}
		for k := range toks {
			f := toks[k].form[0]
			n = n.child(string(buf[f.lo:f.hi]))
		}
		if !n.end {
			n.end, n.entry = true, word
		}
		if h := hostKey(word); strings.Contains(h, ".") {
			if allow {
				l.hosts[h] = false
			} else if _, set := l.hosts[h]; !set {
				l.hosts[h] = true
				if sk := skeleton(unicodeHost(h)); l.skeletons[sk] == "" {
					l.skeletons[sk] = h
				}
				l.addName(h)
				l.addGlued(h)
			}
		}
	}
	if len(bad) > 0 {
		return nil, bad
	}
	l.root.starts = new([startBits / 64]uint64)
	for w := range l.root.next {
		b := startBit([]byte(w))
		l.root.starts[b/64] |= 1 << (b % 64)
	}
	l.root.index(true)
	l.root.tabulate()
	l.allow.tabulate()
	for _, c := range l.root.kids {
		n := utf8.RuneCountInString(c.word)
		l.byLen[n] = append(l.byLen[n], c)
	}
	l.root.kids = nil // the root's are in byLen
	return l, nil
}

// index sorts the children of the nodes below n into kids.
func (n *node) index(root bool) {
	for _, c := range n.next {
		n.kids = append(n.kids, c)
		c.index(false)
	}
	slices.SortFunc(n.kids, func(a, b *node) int { return strings.Compare(a.word, b.word) })
}

// hostKey reads s as a host name: trimmed, without scheme, path, www. and
// trailing dot, in lower case when it has a dot.
func hostKey(s string) string {
	s = strings.TrimSpace(s)
	if k := strings.Index(s, "://"); k >= 0 {
		s = s[k+3:]
	}
	if k := strings.IndexAny(s, "/?#"); k >= 0 {
		s = s[:k]
	}
	s = strings.TrimSuffix(s, ".")
	if hasPrefixFold(s, "www.") {
		s = s[4:]
	}
	if strings.IndexByte(s, '.') >= 0 && hasUpper(s) {
		// only host names need lower case; words go through the tokenizer
		s = strings.ToLower(s)
	}
	return s
}

// isHostName reports whether h is written like a host name: dotted, without
// spaces. Whether its characters are valid is left to the comparison, which
// then fails, so that nothing hidden in a host can make it pass for another.
func isHostName(h string) bool {
	return strings.Contains(h, ".") && !strings.ContainsFunc(h, unicode.IsSpace)
}

// Entries returns the entries as given to NewList, allow entries included.
func (l *List) Entries() []string { return append([]string(nil), l.entries...) }

// Len is the number of entries, allow entries included.
func (l *List) Len() int { return len(l.entries) }

// Match reports the first entry found in the text as whole words or a whole
// phrase (has_any), after normalisation: case, accents, width, look-alike
// letters, leetspeak, spaced-out, stretched and censored words. A match inside
// an allow entry found in the text does not count.
func (l *List) Match(a *Analysis) (entry string, ok bool) {
	if l == nil || a == nil {
		return "", false
	}
	for i := range a.toks {
		if n, end := l.walk(a, &l.root, i, false); n != nil && !l.allowed(a, i, end) {
			return n.entry, true
		}
	}
	return "", false
}

// allowed reports whether an allow entry found in the text covers the tokens
// from i to end.
func (l *List) allowed(a *Analysis, i, end int) bool {
	if l.allowWords == 0 {
		return false
	}
	for s := max(0, end-l.allowWords+1); s <= i; s++ {
		if l.allowEnds(a, &l.allow, s, end) {
			return true
		}
	}
	return false
}

// allowEnds reports whether an allow entry starts at token i, below n, and ends
// at token end or after it.
func (l *List) allowEnds(a *Analysis, n *node, i, end int) bool {
	t := &a.toks[i]
	for k := 0; k < t.forms(); k++ {
		f := t.form[k]
		if c := n.lookup(a.buf[f.lo:f.hi]); c != nil {
			if c.end && i >= end || i+1 < len(a.toks) && len(c.next) > 0 && l.allowEnds(a, c, i+1, end) {
				return true
			}
		}
		if f = t.coll[k]; !f.empty() {
			for _, c := range n.coll[string(a.buf[f.lo:f.hi])] {
				if !runsFit(c.word, a.buf[t.form[k].lo:t.form[k].hi]) {
					continue
				}
				if c.end && i >= end || i+1 < len(a.toks) && len(c.next) > 0 && l.allowEnds(a, c, i+1, end) {
					return true
				}
			}
		}
	}
	return false
}

// censored matches the censored words of the text that start at token i
// ("f*ck", "g**ule" in "ta g**ule") against the children of n, and what
// follows them against the rest of a phrase.
func (l *List) censored(a *Analysis, n *node, i int, whole bool) (*node, int) {
	for k := range a.cens {
		cw := &a.cens[k]
		if int(cw.first) != i {
			continue
		}
		pat := a.buf[cw.form.lo:cw.form.hi]
		kids := n.kids
		if n == &l.root {
			kids = l.byLen[int(cw.runes)]
		}
		last := int(cw.last) == len(a.toks)-1
		for _, c := range kids {
			if utf8.RuneCountInString(c.word) != int(cw.runes) || !wildEqual(pat, c.word) {
				continue
			}
			if m, end := l.step(a, c, int(cw.last), whole, last); m != nil {
				return m, end
			}
		}
	}
	return nil, 0
}

// wildEqual reports whether word is pat, where a '*' in pat stands for any one
// rune of word; pat has as many runes as word.
func wildEqual(pat []byte, word string) bool {
	j := 0
	for i := 0; i < len(pat); {
		if pat[i] == '*' {
			_, n := utf8.DecodeRuneInString(word[j:])
			i++
			j += n
			continue
		}
		pr, pn := utf8.DecodeRune(pat[i:])
		wr, wn := utf8.DecodeRuneInString(word[j:])
		if pr != wr {
			return false
		}
		i += pn
		j += wn
	}
	return j == len(word)
}

// Contains reports whether s, normalised like the text, is an entry, the whole
// of s and not a word in it. When the list has host names and s is one, they
// are compared as hosts instead: case and www. aside, exactly, and s is also in
// the list when one of its parent domains is ("www.YouTube.com" and
// "m.youtube.com" are in [youtube.com], "dіscord.gg" with a Cyrillic і is not
// in [discord.gg]: see Lookalike). An allowed host ("!docs.example.com") is not
// in the list even when its parent is.
func (l *List) Contains(s string) bool {
	if l == nil {
		return false
	}
	if len(l.hosts) > 0 {
		if h := hostKey(s); isHostName(h) {
			// A host name is compared as a host, exactly: a look-alike such
			// as dіscord.gg (Cyrillic і) or d1scord.gg must not pass for
			// discord.gg in an allow list.
			for {
				if in, listed := l.hosts[h]; listed {
					return in
				}
				k := strings.IndexByte(h, '.')
				if k < 0 {
					return false
				}
				h = h[k+1:]
			}
		}
	}
	a, _ := l.scratch.Get().(*Analysis)
	if a == nil {
		a = new(Analysis)
		a.buf, a.toks = a.bufArr[:0], a.tokArr[:0]
	}
	a.buf, a.toks, a.cens = tokenize(s, a.buf, a.toks, a.cens, []span{})
	ok := false
	if len(a.toks) > 0 {
		if n, _ := l.walk(a, &l.root, 0, true); n != nil {
			ok = !l.allowEnds(a, &l.allow, 0, len(a.toks)-1)
		}
	}
	l.scratch.Put(a)
	return ok
}

// Lookalike reports whether s is a host name made to pass for a listed one: not
// the listed host nor under it, but the same once look-alike letters, digits
// for letters (d1scord), doubled letters (steamcommunnity), "rn" for "m",
// "vv" for "w" and hyphens are read alike. It returns the host imitated.
// A listed host's name with the words of phishing beside it is one too
// (discord-nitro-gift.xyz, discordgift.site, discord.gifts: see brandLure),
// and so is the name alone under a suffix its owner does not hold, for the
// owners known to hold theirs under the listed ones only
// (steamcommunity.lat: see brandElsewhere), and so is a listed host written
// without its dots as the name of another (discordgg.xyz: see brandGlued).
// s may be a link: a listed host shown where a reader looks for the host
// makes it a look-alike too, at the start of another host
// (discord.com.gift-claim.ru, paypal.com-secure.info) or as the user info
// before an @ (https://discord.com@evil.example/ goes to evil.example).
// Contains stays exact so that an allow list never lets a look-alike in;
// Lookalike is for the deny side: lists of brands and trusted sites that
// phishing imitates.
func (l *List) Lookalike(s string) (host string, ok bool) {
	return l.LookalikeOwned(s, nil)
}

// LookalikeOwned is Lookalike with the owners a rule file declares (owners:,
// nil for none): their domains are their own sites, and a listed host's
// name that a group of them closes counts under any other suffix, as the
// closed owners of the table do (mybrand.shop, for mybrand: [mybrand.fr,
// mybrand-store.com] and mybrand.fr listed).
func (l *List) LookalikeOwned(s string, extra *Owners) (host string, ok bool) {
	if l == nil || len(l.skeletons) == 0 {
		return "", false
	}
	h, shown := lookalikeHost(s)
	if !isHostName(h) || overlong(h) || l.Contains(h) {
		return "", false
	}
	if hasUpper(h) {
		h = strings.ToLower(h)
	}
	h = unicodeHost(h)
	if isHostName(shown) && !overlong(shown) {
		if e, found := l.imitated(unicodeHost(shown)); found {
			return e, true
		}
	}
	whole := "" // the skeleton of h, for brandLure
	for k := 0; ; {
		sk := skeleton(h[k:])
		if k == 0 {
			whole = sk
		}
		if e, found := l.skeletons[sk]; found && unicodeHost(e) != h[k:] {
			return e, true
		}
		n := strings.IndexByte(h[k:], '.')
		if n < 0 || strings.IndexByte(h[k+n+1:], '.') < 0 {
			break
		}
		k += n + 1
	}
	if e, found := l.brandFirst(h); found {
		return e, true
	}
	if !l.holdsName(h, whole) {
		return "", false
	}
	r := registrable(h)
	if e, found := l.brandElsewhere(r, extra); found {
		return e, true
	}
	if e, found := l.brandLure(h, whole); found {
		return e, true
	}
	return l.brandGlued(r)
}

// maxHostName is the longest a host name can be, in characters: DNS allows
// 253 in its ASCII form, where each letter of a Unicode name is one or more.
const maxHostName = 253

// overlong reports whether h is longer than a host name can be: such a link
// leads nowhere, and reading it as a look-alike costs one skeleton per pair
// of its dots (https://a.a.a…a.com of 4,000 characters took a minute).
func overlong(h string) bool {
	return len(h) > maxHostName && utf8.RuneCountInString(h) > maxHostName
}

// lookalikeHost reads s, a host or a link as written, as the host it leads to
// and the user info shown before it (the part before an @, without a
// password). The dots of a link written to get past filters are read as dots:
// spaced ("d1scord . gg"), spelled ("d1scord(dot)gg") or of another width
// ("d1scord．gg").
func lookalikeHost(s string) (host, shown string) {
	s = strings.TrimSpace(s)
	if k := strings.Index(s, "://"); k >= 0 {
		s = s[k+3:]
	}
	if k := strings.IndexAny(s, "/?#"); k >= 0 {
		s = s[:k]
	}
	if mayHideDots(s) {
		s = dotReader.Replace(strings.ToLower(s))
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		shown, s = s[:at], s[at+1:]
		if c := strings.IndexByte(shown, ':'); c >= 0 {
			shown = shown[:c]
		}
		shown = hostKey(shown)
	}
	if c := strings.LastIndexByte(s, ':'); c >= 0 && !strings.Contains(s, "]") {
		s = s[:c]
	}
	if strings.IndexByte(s, '%') >= 0 {
		if d, ok := unescapeHost(s); ok {
			s = d
		}
	}
	return hostKey(s), shown
}

// mayHideDots reports whether s has a space, a bracket or the first byte of a
// wide full stop: one byte test each, most hosts have none.
func mayHideDots(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '(', '[', 0xe3, 0xef:
			return true
		}
	}
	return false
}

// dotReader reads the dots of a link written to get past filters as dots.
var dotReader = strings.NewReplacer(" ", "", "(dot)", ".", "[dot]", ".", "\u3002", ".", "\uff0e", ".", "\uff61", ".")

// imitated returns the listed host that h is, is under, or looks like.
func (l *List) imitated(h string) (string, bool) {
	if hasUpper(h) {
		h = strings.ToLower(h)
	}
	for {
		if e, found := l.skeletons[skeleton(h)]; found {
			return e, true
		}
		k := strings.IndexByte(h, '.')
		if k < 0 || strings.IndexByte(h[k+1:], '.') < 0 {
			return "", false
		}
		h = h[k+1:]
	}
}

// brandFirst finds a listed host (or a look-alike of one) written as the first
// labels of h, followed by a dot or a hyphen: discord.com.gift-claim.ru,
// login.paypal.com-secure.info. Only the part of h before its public suffix
// is read, the part its owner chose, so that a brand's own sites abroad
// (amazon.com.au) are not taken for one.
func (l *List) brandFirst(h string) (string, bool) {
	if strings.Count(h, ".") < 2 {
		return "", false // a name and a suffix of one label: no room for a host before them
	}
	suffix, icann := publicsuffix.PublicSuffix(h)
	if !icann {
		// a private suffix (github.io, com.ru) is a name anyone can have
		suffix = h[strings.LastIndexByte(h, '.')+1:]
	}
	if len(suffix)+1 >= len(h) {
		return "", false
	}
	name := h[:len(h)-len(suffix)-1]
	if strings.IndexByte(name, '.') < 0 {
		return "", false // no listed host fits in one label
	}
	for start := 0; ; {
		for end := start + 1; end < len(name); end++ {
			if c := name[end]; (c == '.' || c == '-') && strings.IndexByte(name[start:end], '.') > 0 {
				if e, found := l.skeletons[skeleton(name[start:end])]; found {
					return e, true
				}
			}
		}
		k := strings.IndexByte(name[start:], '.')
		if k < 0 {
			return "", false
		}
		start += k + 1
	}
}

// walk follows the words of a from token i down the trie from n and returns the
// node of the first entry that ends, and the token where it ends; whole must
// end on the last token.
func (l *List) walk(a *Analysis, n *node, i int, whole bool) (*node, int) {
	t := &a.toks[i]
	last := i == len(a.toks)-1
	for k := 0; k < t.forms(); k++ {
		f := t.form[k]
		if c := n.lookup(a.buf[f.lo:f.hi]); c != nil {
			if m, end := l.step(a, c, i, whole, last); m != nil {
				return m, end
			}
		}
		if f = t.coll[k]; !f.empty() {
			for _, c := range n.coll[string(a.buf[f.lo:f.hi])] {
				// "aaas" collapses to "as" like "ass", but it has one s:
				// every letter of the entry must be in the text as many times
				if !runsFit(c.word, a.buf[t.form[k].lo:t.form[k].hi]) {
					continue
				}
				if m, end := l.step(a, c, i, whole, last); m != nil {
					return m, end
				}
			}
		}
	}
	if len(a.cens) > 0 {
		return l.censored(a, n, i, whole)
	}
	return nil, 0
}

func (l *List) step(a *Analysis, c *node, i int, whole, last bool) (*node, int) {
	if c.end && (!whole || last) {
		return c, i
	}
	if !last && len(c.next) > 0 {
		return l.walk(a, c, i+1, whole)
	}
	return nil, 0
}

// runsFit reports whether word, whose collapsed spelling is coll like the text
// word's, can be had from the text word by shortening its runs of one letter:
// every run of the entry is at most as long as the same run in the text.
func runsFit(word string, text []byte) bool {
	i, j := 0, 0
	for i < len(word) && j < len(text) {
		wr, wn := utf8.DecodeRuneInString(word[i:])
		tr, tn := utf8.DecodeRune(text[j:])
		if wr != tr {
			return false
		}
		wc, tc := 0, 0
		for i < len(word) && hasRuneAt(word, i, wr) {
			i += wn
			wc++
		}
		for j < len(text) && hasRuneAtBytes(text, j, tr) {
			j += tn
			tc++
		}
		if wc > tc {
			return false
		}
	}
	return i == len(word) && j == len(text)
}

func hasRuneAt(s string, i int, r rune) bool {
	c, _ := utf8.DecodeRuneInString(s[i:])
	return c == r
}

func hasRuneAtBytes(b []byte, i int, r rune) bool {
	c, _ := utf8.DecodeRune(b[i:])
	return c == r
}

// ListSet is the lists of a rule file, matched against the same texts. Most
// words of a message start an entry of none of them: the set finds once per
// text the words where an entry of some list may start, and each list then
// walks from those only (MatchFrom), instead of every list looking up every
// word.
type ListSet struct {
	// starts is the union of the lists' root filters.
	starts *[startBits / 64]uint64
}

// NewListSet returns the set of lists; a nil list is left out.
func NewListSet(lists ...*List) *ListSet {
	s := &ListSet{starts: new([startBits / 64]uint64)}
	for _, l := range lists {
		if l == nil || l.root.starts == nil {
			continue
		}
		for i, w := range l.root.starts {
			s.starts[i] |= w
		}
	}
	return s
}

// Start is a word of a text where an entry of a list of a set may start
// (ListSet.Starts).
type Start struct {
	tok int32
	// bits are the word's forms in the root filters (both the same for a
	// word of one form); walk says it is looked up without them (stretched,
	// or the first of a censored word).
	bits [2]uint32
	walk bool
}

// Starts appends to dst the tokens of a where an entry of a list of the set
// may start, in order: a word in some list's root filter, a stretched word
// (looked up collapsed, without the filter) or the first word of a censored
// one. An entry that Match finds starts at one of them.
func (s *ListSet) Starts(a *Analysis, dst []Start) []Start {
	starts := s.starts
	for i := range a.toks {
		t := &a.toks[i]
		// the first form, then the second when the word has one (forms)
		f := t.form[0]
		b := startBit(a.buf[f.lo:f.hi])
		st := Start{tok: int32(i), bits: [2]uint32{b, b}, walk: !t.coll[0].empty()}
		in := starts[b/64]&(1<<(b%64)) != 0
		if f = t.form[1]; !f.empty() {
			b = startBit(a.buf[f.lo:f.hi])
			st.bits[1] = b
			in = in || starts[b/64]&(1<<(b%64)) != 0
			st.walk = st.walk || !t.coll[1].empty()
		}
		for k := 0; k < len(a.cens) && !st.walk; k++ {
			st.walk = int(a.cens[k].first) == i
		}
		if in || st.walk {
			dst = append(dst, st)
		}
	}
	return dst
}

// MatchFrom is Match for a text whose possible starts are starts, as
// returned by the Starts of a set that holds l: the same answer, found
// without looking at the other words.
func (l *List) MatchFrom(a *Analysis, starts []Start) (entry string, ok bool) {
	if l == nil || a == nil {
		return "", false
	}
	f := l.root.starts
	for _, st := range starts {
		if !st.walk && f != nil && f[st.bits[0]/64]&(1<<(st.bits[0]%64)) == 0 && f[st.bits[1]/64]&(1<<(st.bits[1]%64)) == 0 {
			continue // a word that starts an entry of another list
		}
		i := int(st.tok)
		if n, end := l.walk(a, &l.root, i, false); n != nil && !l.allowed(a, i, end) {
			return n.entry, true
		}
	}
	return "", false
}
