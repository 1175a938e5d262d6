package faq

import (
	"strings"
	"sync"
)

// memo remembers what a matcher worked out for a word it has read before: a
// chat repeats its words, and a word's stem and its typo correction cost a
// thousand instructions or more each, a look-up a hundred. Both are functions
// of the word alone (and of the matcher, fixed once built), so a decision is
// the same with the memo as without it. Each table stops growing at its cap:
// a word read after that is worked out each time, and the memo's memory does
// not grow with the length of a replay.
type memo struct {
	mu sync.RWMutex
	// stems maps a folded word to its word, as newWord makes it.
	stems map[string]word
	// fixes maps a content word to the term correct gives it.
	fixes map[word]string
}

// memoCap is how many words each table of a memo keeps (both together some
// 2 MiB, measured): a chat's frequent words come early (on the replay's
// corpus a cap of 32,768 saves 0.15% more of the replay's instructions, for
// eight times the memory).
const memoCap = 1 << 12

func newMemo() *memo {
	return &memo{stems: map[string]word{}, fixes: map[word]string{}}
}

// word is newWord(w), its stem remembered.
func (c *memo) word(w string) word {
	if c == nil {
		return newWord(w)
	}
	c.mu.RLock()
	nw, ok := c.stems[w]
	c.mu.RUnlock()
	if ok {
		nw.folded = w
		return nw
	}
	nw = newWord(w)
	c.mu.Lock()
	if len(c.stems) < memoCap {
		// the key is a copy: w is a slice of the message's folded
		// text, which the memo must not keep alive
		c.stems[strings.Clone(w)] = word{stem: strings.Clone(nw.stem), lex: nw.lex}
	}
	c.mu.Unlock()
	return nw
}

// fix is m.correct(w, t), remembered; t is m.termOfWord(w), a function of w.
func (c *memo) fix(m *Matcher, w word, t string) string {
	if c == nil {
		return m.correct(w, t)
	}
	c.mu.RLock()
	s, ok := c.fixes[w]
	c.mu.RUnlock()
	if ok {
		return s
	}
	s = m.correct(w, t)
	c.mu.Lock()
	if len(c.fixes) < memoCap {
		c.fixes[word{folded: strings.Clone(w.folded), stem: strings.Clone(w.stem), lex: w.lex}] = strings.Clone(s)
	}
	c.mu.Unlock()
	return s
}
