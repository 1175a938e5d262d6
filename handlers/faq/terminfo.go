package faq

import "strings"

// termInfo is what the matcher knows of one term: read from one map once a
// message, where matching asked a map for each of it.
type termInfo struct {
	// known: the examples have the term (idf holds it).
	known bool
	// context is isContext.
	context bool
	// giveBack: a concept of the returns family (returnTerms).
	giveBack bool
	taught   bool
	domain   bool
	// inAnswers: answerIDF holds the term.
	inAnswers bool
	asked     fact // askedFacts
	// post is the term's postings in the index, answerOnly the entry whose
	// answer alone has it; -1 when none.
	post, answerOnly int32
	// weight is m.weight.
	weight    float64
	answerIDF float64
	nounOf    []int32
}

// termInfoOf works out what the matcher knows of t, from its maps: the
// definition infoOf reads from termInfos.
func (m *Matcher) termInfoOf(t string) termInfo {
	ti := termInfo{post: -1, answerOnly: -1, context: isContext(t), giveBack: returnTerms[t], taught: m.taught[t], domain: m.domain[t], asked: askedFacts[t], nounOf: m.nounOf[t]}
	_, ti.known = m.idf[t]
	ti.weight = m.weight(t)
	if id, ok := m.index.term[t]; ok {
		ti.post = id
	}
	if e, ok := m.answerOnly[t]; ok {
		ti.answerOnly = e
	}
	ti.answerIDF, ti.inAnswers = m.answerIDF[t]
	return ti
}

// buildTermInfos fills m.termInfos: the terms any of its maps hold, which
// are all the terms termInfoOf says anything of but their weight.
func (m *Matcher) buildTermInfos() {
	m.termInfos = map[string]*termInfo{}
	add := func(t string) {
		if _, ok := m.termInfos[t]; !ok {
			ti := m.termInfoOf(t)
			m.termInfos[t] = &ti
		}
	}
	for t := range m.idf {
		add(t)
	}
	for _, keys := range [][]string{keysOfMap(m.taught), keysOfMap(m.domain), keysOfMap(contextConcepts), keysOfMap(returnTerms),
		keysOfMap(m.index.term), keysOfMap(m.answerOnly), keysOfMap(m.answerIDF), keysOfMap(m.nounOf), keysOfMap(askedFacts)} {
		for _, t := range keys {
			add(t)
		}
	}
}

func keysOfMap[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// infoOf is termInfoOf(t), from termInfos or, for a term none of the
// matcher's maps holds, made without asking them.
func (m *Matcher) infoOf(t string) termInfo {
	if m.termInfos == nil {
		return m.termInfoOf(t) // while the matcher is built
	}
	if ti, ok := m.termInfos[t]; ok {
		return *ti
	}
	ti := termInfo{post: -1, answerOnly: -1, context: strings.HasPrefix(t, whichPrefix), weight: m.unknown}
	if ti.context {
		ti.weight *= contextWeight
	}
	return ti
}

// infosOf appends the infoOf of each term to out.
func (m *Matcher) infosOf(terms []string, out []termInfo) []termInfo {
	for _, t := range terms {
		out = append(out, m.infoOf(t))
	}
	return out
}

// anyGiveBack reports whether one of the terms is of the returns family.
func anyGiveBack(infos []termInfo) bool {
	for i := range infos {
		if infos[i].giveBack {
			return true
		}
	}
	return false
}
