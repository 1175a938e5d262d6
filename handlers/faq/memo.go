package faq

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// memo remembers what a matcher worked out for a word it has read before: a
// chat repeats its words, and a word's stem and its typo correction cost a
// thousand instructions or more each, its term a few map look-ups. All are
// functions of the word alone (and of the matcher, fixed once built), so a
// decision is the same with the memo as without it. The memo stops growing
// at its cap: a word read after that is worked out each time, and the memo's
// memory does not grow with the length of a replay.
//
// It is an open-addressed table written once a slot: reading it takes no
// lock and allocates nothing, on any number of goroutines.
type memo struct {
	m    *Matcher
	seed maphash.Seed
	// n counts the slots taken, at most memoCap.
	n     atomic.Int32
	slots [memoSlots]atomic.Pointer[wordInfo]
}

// wordInfo is what a memo knows of one folded word.
type wordInfo struct {
	folded string
	// stem and lex are newWord(folded)'s.
	stem string
	lex  lexFlags
	// For a content word (a stem), read as its stem says (readAsks may
	// give it another meaning by its place, a word whose stem then differs):
	// term is m.termOfWord, phrases m.phraseByFirst[stem], and problem and
	// asks what m.asksService reads of term.
	term          string
	phrases       []phrase
	problem, asks bool
	// fixed is the term m.terms gives the word in a message (term, or its
	// typo's correction), worked out the first time a message asks (most
	// words are never in a question, and a correction costs thousands of
	// instructions): nil until then.
	fixed atomic.Pointer[string]
}

// memoCap is how many words a memo keeps: some 110 bytes each, 3 MiB when
// full, measured. The replay's corpus of 100,000 events has 28,284 words; a
// word the memo does not hold costs its stem, its term and, in a question,
// its correction each time, so that with a cap of 4,096 Decide cost 41,000
// instructions an event past the first 20,000 events of the corpus, and
// 29,000 with this one.
const memoCap = 1 << 15

// memoSlots is the table's size: twice the words it keeps, so that a look-up
// finds its word or an empty slot in a probe or two.
const memoSlots = 2 * memoCap

func newMemo(m *Matcher) *memo {
	return &memo{m: m, seed: maphash.MakeSeed()}
}

// word is newWord(w), with what the memo knows of it.
func (c *memo) word(w string) word {
	if c == nil {
		return newWord(w)
	}
	h := maphash.String(c.seed, w)
	for i := h; ; i++ {
		p := c.slots[i%memoSlots].Load()
		if p == nil {
			break
		}
		if p.folded == w {
			return word{folded: w, stem: p.stem, lex: p.lex, info: p}
		}
	}
	nw := newWord(w)
	if c.n.Add(1) > memoCap {
		c.n.Add(-1)
		return nw
	}
	// the strings are copies: w is a slice of the message's folded text,
	// which the memo must not keep alive
	p := &wordInfo{folded: strings.Clone(w), lex: nw.lex}
	if strings.HasPrefix(w, nw.stem) {
		// most stems are the word cut short: a slice of its copy
		p.stem = p.folded[:len(nw.stem)]
	} else {
		p.stem = strings.Clone(nw.stem)
	}
	if p.stem != "" {
		c.m.workOut(p)
	}
	for i := h; ; i++ {
		s := &c.slots[i%memoSlots]
		if s.CompareAndSwap(nil, p) {
			break
		}
		if s.Load().folded == w {
			// another goroutine put it there first
			c.n.Add(-1)
			break
		}
	}
	nw.info = p
	return nw
}

// workOut fills in what the matcher reads of a content word p.
func (m *Matcher) workOut(p *wordInfo) {
	w := word{folded: p.folded, stem: p.stem, lex: p.lex}
	p.term = m.termOfWord(w)
	p.phrases = m.phraseByFirst[p.stem]
	p.problem = problemConcepts[p.term]
	p.asks = asksSomething(p.term)
}

// fixed is m.fix(w, w.info.term) for a known word, remembered. Two
// goroutines may work it out at once: both find the same.
func (m *Matcher) fixed(w word) string {
	if f := w.info.fixed.Load(); f != nil {
		return *f
	}
	f := m.fix(w, w.info.term)
	w.info.fixed.Store(&f)
	return f
}

// known reports whether w is a content word whose info is the word as it
// stands: readAsks may have given it another stem.
func (w *word) known() bool {
	return w.info != nil && w.stem != "" && w.stem == w.info.stem
}
