package text

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
)

// List is a word list compiled for matching: a trie of token sequences, so a
// message is matched in one pass over its words whatever the list's size. It is
// safe for concurrent use.
type List struct {
	entries []string
	root    node
	// hosts holds the entries as lower-case host names (no www., no trailing
	// dot), for Contains on domains.
	hosts map[string]bool
	// scratch recycles the Analysis that Contains tokenises into: rules may ask
	// for every domain of every message.
	scratch sync.Pool
}

// node is a trie node; a path from the root spells an entry word by word.
type node struct {
	next map[string]*node
	// coll indexes the children by the collapsed spelling of their word, for
	// stretched words in the text ("nuuul" finds "nul", "connaaard" finds "connard").
	coll  map[string][]*node
	entry string // the entry as written, when one ends here
	end   bool
}

func (n *node) child(word string) *node {
	if c := n.next[word]; c != nil {
		return c
	}
	if n.next == nil {
		n.next = make(map[string]*node)
		n.coll = make(map[string][]*node)
	}
	c := &node{}
	n.next[word] = c
	k := collapseString(word)
	n.coll[k] = append(n.coll[k], c)
	return c
}

// NewList compiles entries (words or phrases) once, when the rule file loads.
// An entry with nothing to match (only punctuation or spaces) is an error.
func NewList(entries []string) (*List, error) {
	l := &List{entries: append([]string(nil), entries...), hosts: make(map[string]bool)}
	var buf []byte
	var toks []token
	for i, e := range entries {
		buf, toks = tokenize(e, buf, toks)
		if len(toks) == 0 {
			return nil, fmt.Errorf("list entry %d %q: no word to match", i+1, e)
		}
		n := &l.root
		for k := range toks {
			f := toks[k].form[0]
			n = n.child(string(buf[f.lo:f.hi]))
		}
		if !n.end {
			n.end, n.entry = true, e
		}
		if h := hostKey(e); strings.Contains(h, ".") {
			l.hosts[h] = true
		}
	}
	return l, nil
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

// Entries returns the entries as given to NewList.
func (l *List) Entries() []string { return append([]string(nil), l.entries...) }

// Len is the number of entries.
func (l *List) Len() int { return len(l.entries) }

// Match reports the first entry found in the text as whole words or a whole
// phrase (has_any), after normalisation: case, accents, width, look-alike
// letters, leetspeak, spaced-out and stretched words.
func (l *List) Match(a *Analysis) (entry string, ok bool) {
	if l == nil || a == nil {
		return "", false
	}
	for i := range a.toks {
		if n := l.walk(a, &l.root, i, false); n != nil {
			return n.entry, true
		}
	}
	return "", false
}

// Contains reports whether s, normalised like the text, is an entry, the whole
// of s and not a word in it. When the list has host names and s is one, they
// are compared as hosts instead: case and www. aside, exactly, and s is also in
// the list when one of its parent domains is ("www.YouTube.com" and
// "m.youtube.com" are in [youtube.com], "dіscord.gg" with a Cyrillic і is not
// in [discord.gg]).
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
				if l.hosts[h] {
					return true
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
	a.buf, a.toks = tokenize(s, a.buf, a.toks)
	ok := len(a.toks) > 0 && l.walk(a, &l.root, 0, true) != nil
	l.scratch.Put(a)
	return ok
}

// walk follows the words of a from token i down the trie from n and returns the
// node of the first entry that ends; whole must end on the last token.
func (l *List) walk(a *Analysis, n *node, i int, whole bool) *node {
	t := &a.toks[i]
	last := i == len(a.toks)-1
	for k := 0; k < t.forms(); k++ {
		f := t.form[k]
		if c := n.next[string(a.buf[f.lo:f.hi])]; c != nil {
			if m := l.step(a, c, i, whole, last); m != nil {
				return m
			}
		}
		if f = t.coll[k]; !f.empty() {
			for _, c := range n.coll[string(a.buf[f.lo:f.hi])] {
				if m := l.step(a, c, i, whole, last); m != nil {
					return m
				}
			}
		}
	}
	return nil
}

func (l *List) step(a *Analysis, c *node, i int, whole, last bool) *node {
	if c.end && (!whole || last) {
		return c
	}
	if !last && len(c.next) > 0 {
		return l.walk(a, c, i+1, whole)
	}
	return nil
}
