package faq

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// Matcher scores messages against the entries of one faq: section. It is built
// once per rule file and is safe for concurrent use.
type Matcher struct {
	cfg     Config
	entries []entry
	// idf is the inverse entry frequency of each known term: a word found in
	// the examples of one entry says more than a word found in many.
	idf map[string]float64
	// entriesWith is how many entries' examples (their own and the
	// wordings they inherit) have each known term: a term of one entry
	// alone tells that entry from the others (see undecided).
	entriesWith map[string]int
	unknown     float64 // the weight of a word no example has
	// taught are the words only the wordings taught from the desk have
	taught map[string]bool
	// surface maps the folded words of the examples and synonyms to their terms,
	// to correct a typo on the word as written before it is stemmed.
	surface map[string]string
	syn     map[string]string // stem → the group's term
	// conceptWord and conceptStem read the lexicon's concepts: a word as
	// listed, else its stem when no other concept has it and it is long
	// enough not to be a stem of everything ("pos" is possible and position).
	conceptWord, conceptStem map[string]string
	// nearSurface and nearStem are surface and the known terms by first letter
	// and length, for typo correction.
	nearSurface, nearStem nearIndex
	phrases               []phrase
	// phraseByFirst holds the phrases by their first stem, longest first:
	// a word is only tried against the phrases it can open.
	phraseByFirst map[string][]phrase
	// afterHours tells whether a time is outside the file's office hours.
	afterHours func(time.Time) bool
	// placeName names an event's place for {{space}} (NamePlaces).
	placeName rules.PlaceNames
	tz        *time.Location
	// communities are the rule file's: a community's office hours and
	// language are its places' (nil: none).
	communities *rules.Ruleset
	// file is the rule file the matcher was compiled from (nil: a faq:
	// section alone): a case it forwards is opened as that file says.
	file *rules.Ruleset
	// scoring picks the formula; cosine unless a benchmark asks for another.
	scoring Scoring
	avgdl   float64
	// blend is the share of the score given to the entry's centroid.
	blend float64
	// minTypo is the length from which a word is corrected.
	minTypo int
	// memo remembers the stems and corrections of the words messages had
	// (nil while the matcher is built).
	memo *memo
	// termInfos holds termInfoOf of every term the matcher's maps hold (nil
	// while the matcher is built).
	termInfos map[string]*termInfo
	// index holds the examples and centroids by term, for the cosine.
	index cosineIndex
	// answerIDF is the inverse frequency of each term over the entries'
	// answers and ids: 0 for a term in every answer (the brand's name).
	answerIDF map[string]float64
	// answerOnly maps the terms that no example has and one entry's
	// answer alone has (the trade's nouns: "le hammam est ouvert de 10h à
	// 20h") to that entry; a message that uses one is, as far as that
	// word goes, about that entry (see cosines).
	answerOnly map[string]int32
	// ownOnly maps the nouns of one entry's own examples (no other
	// entry's examples or inherited wordings have them) to that entry.
	ownOnly map[string]int32
	holders map[string][]int32
	// nounOf maps the nouns of the entries' own texts (their examples and
	// answers, not the intents' wordings) to the entries that have them, in
	// the file's order (see byFact).
	nounOf map[string][]int32
	// ids is each entry's index by its id.
	ids map[string]int32
	// nearAnswer is the answers' words as written whose terms are in
	// answerOnly, for typo correction.
	nearAnswer nearIndex
	// scratch holds the *scratch cosines reuses.
	scratch sync.Pool
	tune    tuning
	// learned counts the wordings WithLearned added to the entries.
	learned int
	// domain holds the objects the brand is about: the object concepts
	// (a bus, a phone) that the file's own examples name in half its
	// entries or more.
	domain map[string]bool
}

// cosineIndex is the examples' and centroids' weights term by term: a message's
// few terms are looked up once, not once per example.
type cosineIndex struct {
	term  map[string]int32 // known term → its postings
	post  [][]posting
	norms []float64 // by vector: each entry's questions, then its centroid
	first []int32   // by entry: its first vector; the centroid is its last
}

type posting struct {
	vec   int32
	entry int32 // the vector's
	w     float64
}

// Scoring is a formula that scores a message against an example question.
type Scoring int

// The formulas the benchmark compares.
const (
	// Cosine is the cosine of the TF-IDF vectors: it rewards the words shared
	// and penalises those of either side left unmatched.
	Cosine Scoring = iota
	// BM25 is Okapi BM25 over the example questions, divided by the score the
	// message would get against itself, so that it reads from 0 to 1.
	BM25
)

type entry struct {
	rules.FAQEntry
	mode      string
	questions []vector
	own       int // the questions the file gives; the intents' wordings follow
	// shaped is how many of questions shape the centroid: the file's and the
	// intents'; the wordings taught from the desk follow.
	shaped int
	// centroid holds every term of the entry's examples, weighted by the share
	// of examples that have it: the words an entry is about weigh more than
	// the words one example happens to use ("ce week-end").
	centroid vector
	// keywords: at least one of them must be in a message (each a set of terms).
	keywords [][]string
	// answer holds the terms of the entry's answers and id, each with its
	// inverse frequency over the file's answers (see buildAnswers).
	answer map[string]float64
	// facts are what its answer tells: a price, a time of day, a length
	// of time (see byFact).
	facts fact
}

// entryError is an entry the matcher cannot use.
type entryError struct {
	entry rules.FAQEntry
	msg   string
}

func (e *entryError) Error() string { return e.msg }

type phrase struct {
	stems []string
	term  string
}

// vector is a bag of terms with their weights.
type vector struct {
	terms []string
	w     map[string]float64
	norm  float64
	dl    int // length in terms, for BM25
}

// Compile builds the matcher of a loaded rule file. An entry it cannot use (an
// example question made only of stop words) is a *rules.LoadError, with the
// entry's position, like the file's other problems.
func Compile(rs *rules.Ruleset) (*Matcher, error) {
	m, err := NewMatcher(FromRules(rs.FAQ))
	var ee *entryError
	if errors.As(err, &ee) {
		return nil, &rules.LoadError{Problems: []rules.Problem{{File: rs.File, Line: ee.entry.Line, Col: ee.entry.Col, Msg: ee.Error()}}}
	}
	if err != nil {
		return nil, err
	}
	m.afterHours = rs.AfterHours
	m.tz = rs.Timezone
	m.file = rs
	if len(rs.Communities) > 0 {
		m.communities = rs
	}
	return m, nil
}

// NewMatcher builds a matcher from a faq: section.
func NewMatcher(cfg Config) (*Matcher, error) {
	return newMatcher(cfg, defaultTuning)
}

var defaultTuning = tuning{scoring: Cosine, blend: defaultBlend, unknownShare: defaultUnknownShare, minTypo: minTypoLen, answerLift: defaultAnswerLift}

// tuning holds the scoring's constants, which the benchmark varies.
type tuning struct {
	scoring      Scoring
	blend        float64
	unknownShare float64
	minTypo      int
	// alone builds a matcher without the intents' wordings: the one that
	// tells which intents an entry's examples ask.
	alone bool
	// answerLift is the share of its weight with which a word of one
	// entry's answer alone counts as a word of that entry's examples (0:
	// the answers only break near ties).
	answerLift float64
}

func newMatcher(cfg Config, tune tuning) (*Matcher, error) {
	cfg = cfg.withDefaults()
	m := &Matcher{
		cfg:         cfg,
		idf:         map[string]float64{},
		surface:     map[string]string{},
		syn:         map[string]string{},
		conceptWord: map[string]string{},
		conceptStem: map[string]string{},
		afterHours:  func(time.Time) bool { return false },
		tune:        tune,
		blend:       tune.blend,
		minTypo:     tune.minTypo,
		scoring:     tune.scoring,
	}
	concepts := m.compileConcepts()
	m.compileSynonyms()
	// The file's phrases before the lexicon's, so that its synonyms win.
	m.phrases = append(m.phrases, concepts...)
	sort.SliceStable(m.phrases, func(i, j int) bool { return len(m.phrases[i].stems) > len(m.phrases[j].stems) })
	m.phraseByFirst = map[string][]phrase{}
	for _, p := range m.phrases {
		m.phraseByFirst[p.stems[0]] = append(m.phraseByFirst[p.stems[0]], p)
	}
	inherited := map[string][]string{}
	if !tune.alone {
		var err error
		if inherited, err = inheritIntents(cfg.Entries, cfg.Synonyms); err != nil {
			return nil, err
		}
	}
	// Examples first, without typo correction: the vocabulary is theirs.
	df := map[string]int{}
	taught := map[string]bool{}
	ownObjects := map[string]int{}
	for _, fe := range cfg.Entries {
		mode, err := modeOf(fe)
		if err != nil {
			return nil, &entryError{fe, err.Error()}
		}
		e := entry{FAQEntry: fe, mode: mode}
		seen := map[string]bool{}
		for _, q := range fe.Questions {
			ts := m.terms(words(q), false)
			if len(ts) == 0 {
				return nil, &entryError{fe, fmt.Sprintf("faq entry %q: question %q has only stop words", fe.ID, q)}
			}
			e.questions = append(e.questions, vector{terms: ts})
			for _, t := range ts {
				seen[t] = true
			}
			m.learnSurface(q)
		}
		e.own = len(e.questions)
		for t := range seen {
			if objectConcepts[t] {
				ownObjects[t]++
			}
		}
		// The wordings of the intents the entry asks are examples too, which
		// a CM did not have to write.
		for _, q := range inherited[fe.ID] {
			ts := m.terms(words(q), false)
			if len(ts) == 0 {
				continue
			}
			e.questions = append(e.questions, vector{terms: ts})
			for _, t := range ts {
				seen[t] = true
			}
			m.learnSurface(q)
		}
		e.shaped = len(e.questions)
		// The wordings CMs taught from the desk: each answers the messages
		// worded like it, but they neither choose the intents the entry
		// inherits nor shape what it is about (a long question with a
		// product's name would pull the centroid away from the request).
		for _, q := range cfg.learned[fe.ID] {
			ts := m.terms(words(q), false)
			if len(ts) == 0 {
				continue
			}
			e.questions = append(e.questions, vector{terms: ts})
			for _, t := range ts {
				if !seen[t] {
					taught[t] = true
				}
			}
			m.learnSurface(q)
		}
		for t := range seen {
			df[t]++
		}
		m.entries = append(m.entries, e)
	}
	m.domain = map[string]bool{}
	for t, c := range ownObjects {
		if len(m.entries) >= 3 && 2*c >= len(m.entries) {
			m.domain[t] = true
		}
	}
	m.entriesWith = df
	n := float64(max(len(m.entries), 1))
	for t, d := range df {
		m.idf[t] = math.Log(1 + n/float64(d))
	}
	m.unknown = tune.unknownShare * math.Log(1+n)
	// The words only taught wordings have keep an unknown word's weight
	// (the file's vocabulary stays the file's), but they are words of the
	// FAQ: a message of them is no small talk.
	m.taught = map[string]bool{}
	for t := range taught {
		if _, known := m.idf[t]; !known {
			m.taught[t] = true
		}
	}
	var total, count float64
	for i := range m.entries {
		e := &m.entries[i]
		share := map[string]float64{}
		var order []string
		for j := range e.questions {
			e.questions[j] = m.vectorOf(e.questions[j].terms)
			total += float64(e.questions[j].dl)
			count++
		}
		// The centroid has the intents' wordings too: measured on the
		// brands, an entry is about its intent more than its three examples.
		for j := range e.questions[:e.shaped] {
			for _, t := range e.questions[j].terms {
				if share[t] == 0 {
					order = append(order, t)
				}
				share[t] += 1 / float64(e.shaped)
			}
		}
		e.centroid = vector{terms: order, w: map[string]float64{}, dl: len(order)}
		for _, t := range order {
			w := m.weight(t) * share[t]
			e.centroid.w[t] = w
			e.centroid.norm += w * w
		}
		e.centroid.norm = math.Sqrt(e.centroid.norm)
		for _, k := range e.Keywords {
			ts := m.terms(words(k), true)
			if len(ts) == 0 {
				return nil, &entryError{e.FAQEntry, fmt.Sprintf("faq entry %q: keyword %q has only stop words", e.ID, k)}
			}
			e.keywords = append(e.keywords, ts)
		}
	}
	if count > 0 {
		m.avgdl = total / count
	}
	m.nearSurface = byFirstLetter(m.surface)
	stems := make(map[string]string, len(m.idf))
	for t := range m.idf {
		stems[t] = t
	}
	m.nearStem = byFirstLetter(stems)
	m.buildIndex()
	if !tune.alone {
		m.buildAnswers()
		m.buildFacts()
	}
	// from here on the matcher is built: what it works out for a word
	// stays true
	m.buildTermInfos()
	m.memo = newMemo(m)
	return m, nil
}

// buildAnswers reads each entry's answers (every language) and id as a bag of
// terms. A CM writes the answer in the public's words ("un bagage en soute de
// 23 kg" for "combien de kilos en soute ?"): when the examples find two
// entries as close, the answer tells which one the message is about.
func (m *Matcher) buildAnswers() {
	df := map[string]int{}
	for i := range m.entries {
		e := &m.entries[i]
		var ws []word
		for _, a := range e.Answer {
			ws = append(ws, words(a)...)
		}
		ws = append(ws, words(strings.NewReplacer("_", " ", "-", " ").Replace(e.ID))...)
		e.answer = map[string]float64{}
		for _, t := range m.terms(ws, false) {
			e.answer[t] = 0
			df[t]++
		}
	}
	n := float64(len(m.entries))
	m.answerIDF = make(map[string]float64, len(df))
	m.answerOnly = map[string]int32{}
	m.ids = make(map[string]int32, len(m.entries))
	for i := range m.entries {
		m.ids[m.entries[i].ID] = int32(i)
	}
	for i := range m.entries {
		for t := range m.entries[i].answer {
			if _, known := m.idf[t]; !known && df[t] == 1 && answerOnlyTerm(t) {
				m.answerOnly[t] = int32(i)
			}
		}
	}
	surface := map[string]string{}
	for i := range m.entries {
		for _, a := range m.entries[i].Answer {
			for _, w := range words(a) {
				if w.stem == "" {
					continue
				}
				t := m.termOfWord(w)
				if j, ok := m.answerOnly[t]; ok && j == int32(i) {
					surface[w.folded] = t
				}
			}
		}
	}
	m.nearAnswer = byFirstLetter(surface)
	// The nouns of one entry's own examples: in no other entry's examples
	// nor inherited wordings (its centroid has them all).
	inCentroids := map[string]int{}
	for i := range m.entries {
		for t := range m.entries[i].centroid.w {
			inCentroids[t]++
		}
	}
	m.ownOnly = map[string]int32{}
	for i := range m.entries {
		e := &m.entries[i]
		for _, q := range e.questions[:e.own] {
			for _, t := range q.terms {
				if inCentroids[t] == 1 && !strings.HasPrefix(t, "~") && answerOnlyTerm(t) {
					m.ownOnly[t] = int32(i)
				}
			}
		}
	}
	// holders are the entries that have a rare word, in their examples or
	// their answer: the only ones that may have every word of a message
	// that has it (byVocabulary).
	m.holders = map[string][]int32{}
	for t, i := range m.answerOnly {
		m.holders[t] = []int32{i}
	}
	for t, i := range m.ownOnly {
		hs := []int32{i}
		for j := range m.entries {
			if _, ok := m.entries[j].answer[t]; ok && int32(j) != i {
				hs = append(hs, int32(j))
			}
		}
		m.holders[t] = hs
	}
	for t, d := range df {
		w := math.Log(n / float64(d))
		if isContext(t) {
			w *= contextWeight
		}
		m.answerIDF[t] = w
	}
	for i := range m.entries {
		for t := range m.entries[i].answer {
			m.entries[i].answer[t] = m.answerIDF[t]
		}
	}
}

// answerOnlyTerm reports whether a term of an answer may stand for its
// entry: not a number, a day or a place (context), and five letters at least
// ("ready" and a "reader" account are both "read").
func answerOnlyTerm(t string) bool {
	return !isContext(t) && runeLen(t) >= minAnswerWord
}

// minAnswerWord is the shortest stem of an answer read as its entry's.
const minAnswerWord = 5

// defaultAnswerLift: a word of one entry's answer alone weighs, in each of
// that entry's vectors, this share of its weight in the message; the vectors'
// norms grow with it, so a score is still a cosine. Measured alone on the
// brands' held-out sets and the read trades, 0.5 to 1.3 answered one or two
// more questions right, none wrong, and 1.3 one more recorded message; the
// dot products lifted without the norms answered 1 to 8 more.
const defaultAnswerLift = 1.0

// byVocabulary answers the one candidate that has, in its examples and its
// answer together, every word of the message that says what is asked, when
// one of them is a word of its answer alone: "la piscine est chauffée ?" of
// an entry that asks "is the pool heated?" and answers "piscine chauffée de
// 9h à 20h". Two words at least (one is a chat message's as often as a
// question's), or one beside a context (a day, what is allowed, a place...)
// that the entry has too: "les parapluies sont interdits ?" of an entry whose
// answer lists the umbrellas among what may not be brought in (measured on 6
// December: the read trades and read2 one more right answer each, nothing
// else moved); when two entries could say it, the scores stay as they are.
func (m *Matcher) byVocabulary(r *Match, infos []termInfo) {
	if len(m.answerOnly) == 0 && len(m.ownOnly) == 0 {
		return
	}
	n, rare := 0, ""
	for k, t := range r.Terms {
		if infos[k].context {
			continue
		}
		n++
		if rare != "" {
			continue
		}
		if _, own := m.ownOnly[t]; infos[k].answerOnly >= 0 || own {
			rare = t
		}
	}
	if rare == "" || n == 0 || (n < 2 && n == len(r.Terms)) {
		return
	}
	// One word that says what is asked is enough beside a context the
	// entry has too ("les parapluies sont interdits ?" of an entry whose
	// answer lists the umbrellas among what is not allowed).
	withContext := n < 2
	// A candidate that has every word has the rare one: only its holders
	// are read, in the candidates' order.
	var buf [8]int
	at := buf[:0]
	for _, h := range m.holders[rare] {
		id := m.entries[h].ID
		for ci := range r.Candidates {
			if r.Candidates[ci].ID == id {
				at = append(at, ci)
				break
			}
		}
	}
	slices.Sort(at)
	found := -1
	for _, ci := range at {
		i := m.ids[r.Candidates[ci].ID]
		e := &m.entries[i]
		all, fromAnswer := true, false
		for k, t := range r.Terms {
			if infos[k].context {
				continue
			}
			if _, ok := e.centroid.w[t]; ok {
				if j, own := m.ownOnly[t]; own && j == i {
					fromAnswer = true
				}
				continue
			}
			if _, ok := e.answer[t]; !ok {
				all = false
				break
			}
			if j, ok := m.answerOnly[t]; ok && j == i {
				fromAnswer = true
			}
		}
		if all && withContext {
			for k, t := range r.Terms {
				if !infos[k].context {
					continue
				}
				_, inExamples := e.centroid.w[t]
				_, inAnswer := e.answer[t]
				if !inExamples && !inAnswer {
					all = false
					break
				}
			}
		}
		if !all {
			continue
		}
		if found >= 0 {
			return
		}
		if fromAnswer {
			found = ci
		}
	}
	if found >= 0 {
		r.Candidates[found].Score = max(r.Candidates[found].Score, min(1, round3(vocabularyLift*m.cfg.Threshold)))
		r.answerSaid = r.Candidates[found].ID
	}
}

// vocabularyLift puts the entry byVocabulary finds just above the
// threshold: answered, never ahead of an entry its examples put higher.
const vocabularyLift = 1.05

// answerShare is the share of the message's weight that an entry's answer
// has, the message's terms weighted by their inverse frequency over the
// answers (a term no answer has, as the examples weigh it).
func (m *Matcher) answerShare(e *entry, terms []string, infos []termInfo) float64 {
	all, shared := 0.0, 0.0
	for k, t := range terms {
		w := infos[k].answerIDF
		if !infos[k].inAnswers {
			w = infos[k].weight
		}
		all += w * w
		shared += w * e.answer[t]
	}
	if all == 0 {
		return 0
	}
	return shared / all
}

// answerTie is how close the examples' two best entries must be for their
// answers to pick between them. Measured on the brands' tuned sets: 0.05 to
// 0.15 put the right entry first (on the desk) twice more and changed no
// answer beside the point. Adding the answer's share to a score was tried
// too: every lift that answered more questions right also answered chit-chat
// or recorded chat just under the threshold
// (docs/faq-history.md#tried-and-not-kept-the-answers-words-as-evidence).
const answerTie = 0.1

// byAnswer puts first, of the two best candidates the examples find as
// close, the one whose answer has more of the message. The two swap scores:
// the message is answered as often as before, only maybe by the other entry.
func (m *Matcher) byAnswer(r *Match, infos []termInfo) {
	cs := r.Candidates
	if m.answerIDF == nil || len(cs) < 2 || cs[0].Score-cs[1].Score >= answerTie {
		return
	}
	if m.answerShare(m.entryOf(cs[1].ID), r.Terms, infos) > m.answerShare(m.entryOf(cs[0].ID), r.Terms, infos) {
		cs[0].ID, cs[1].ID = cs[1].ID, cs[0].ID
		cs[0].own, cs[1].own = cs[1].own, cs[0].own
		r.answerChose = true
	}
}

// buildIndex fills m.index from the entries' vectors.
func (m *Matcher) buildIndex() {
	ix := cosineIndex{term: map[string]int32{}}
	add := func(v *vector, entry int) {
		vec := int32(len(ix.norms))
		ix.norms = append(ix.norms, v.norm)
		for _, t := range v.terms {
			id, ok := ix.term[t]
			if !ok {
				id = int32(len(ix.post))
				ix.term[t] = id
				ix.post = append(ix.post, nil)
			}
			ix.post[id] = append(ix.post[id], posting{vec: vec, entry: int32(entry), w: v.w[t]})
		}
	}
	for i := range m.entries {
		e := &m.entries[i]
		ix.first = append(ix.first, int32(len(ix.norms)))
		for j := range e.questions {
			add(&e.questions[j], i)
		}
		add(&e.centroid, i)
	}
	m.index = ix
}

// compileConcepts reads the lexicon's concepts like synonyms, under the
// concept's term, then the thesaurus's words, each for itself; a word in two
// concepts stays in the first. A phrase whose
// content is one word is left out: "how long" is not every "long".
func (m *Matcher) compileConcepts() []phrase {
	var phrases []phrase
	shared := map[string]bool{}
	lexicon := parseConcepts(concepts)
	fromThesaurus := len(lexicon)
	for gi, group := range append(lexicon, parseConcepts(thesaurus)...) {
		term := group[0]
		for _, s := range group[1:] {
			ws := words(s)
			stems := m.stems(ws)
			switch {
			case len(stems) == 0:
			case len(stems) == 1 && len(ws) == 1:
				if _, taken := m.conceptWord[ws[0].folded]; !taken {
					m.conceptWord[ws[0].folded] = term
					m.surface[ws[0].folded] = term
				}
				if gi >= fromThesaurus {
					// A thesaurus word stands for itself only: its stem
					// may be another word's ("montant", "monter").
					continue
				}
				st := stems[0]
				if t, taken := m.conceptStem[st]; taken && t != term {
					shared[st] = true
				}
				m.conceptStem[st] = term
			case len(stems) > 1:
				phrases = append(phrases, phrase{stems: stems, term: term})
			}
		}
	}
	for st := range m.conceptStem {
		if shared[st] || runeLen(st) < minConceptStem {
			delete(m.conceptStem, st)
		}
	}
	return phrases
}

// minConceptTypo is the shortest word corrected to a concept's word.
const minConceptTypo = 6

// minConceptStem is the shortest stem that stands for its concept's words.
const minConceptStem = 4

func (m *Matcher) compileSynonyms() {
	for _, group := range m.cfg.Synonyms {
		if len(group) == 0 {
			continue
		}
		term := ""
		for _, s := range group {
			stems := m.stems(words(s))
			if len(stems) == 0 {
				continue
			}
			if term == "" {
				term = strings.Join(stems, "_")
			}
			if len(stems) == 1 {
				m.syn[stems[0]] = term
			} else {
				m.phrases = append(m.phrases, phrase{stems: stems, term: term})
			}
			for _, w := range words(s) {
				if w.stem != "" && len(stems) == 1 {
					m.surface[w.folded] = term
				}
			}
		}
	}
	// Longer phrases first, so "service apres vente" wins over "service".
	sort.SliceStable(m.phrases, func(i, j int) bool { return len(m.phrases[i].stems) > len(m.phrases[j].stems) })
}

func (m *Matcher) learnSurface(q string) {
	for _, w := range words(q) {
		if w.stem == "" || w.stem == notWorkingTerm {
			// "marche" is out of order only beside a negation: a
			// "marche" met alone is not corrected to it
			continue
		}
		if _, ok := m.surface[w.folded]; !ok {
			m.surface[w.folded] = m.termOfWord(w)
		}
	}
}

func (m *Matcher) stems(ws []word) []string {
	var out []string
	for _, w := range ws {
		if w.stem != "" {
			out = append(out, w.stem)
		}
	}
	return out
}

func (m *Matcher) termOf(stem string) string {
	if t, ok := m.syn[stem]; ok {
		return t
	}
	if t, ok := m.conceptStem[stem]; ok {
		return t
	}
	return stem
}

// termOfWord is the term of a word: the file's synonyms first, then the
// lexicon's concepts, the word as listed before its stem.
func (m *Matcher) termOfWord(w word) string {
	if w.known() {
		return w.info.term
	}
	if strings.HasPrefix(w.stem, "~") {
		return w.stem // what the word asks by its place (readAsks)
	}
	if t, ok := m.syn[w.stem]; ok {
		return t
	}
	if t, ok := m.conceptWord[w.folded]; ok {
		return t
	}
	// termOf, syn already asked
	if t, ok := m.conceptStem[w.stem]; ok {
		return t
	}
	return w.stem
}

// terms turns words into the terms the index compares: stop words out, phrases
// and synonyms read as their group, and, for messages (fix), unknown words
// corrected to a known word one typo away. Each term comes once.
func (m *Matcher) terms(ws []word, fix bool) []string {
	var buf [wordsBuf]word
	content := buf[:0]
	for _, w := range ws {
		if w.stem != "" {
			content = append(content, w)
		}
	}
	if len(content) == 0 {
		return nil
	}
	out := make([]string, 0, len(content))
	add := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for i := 0; i < len(content); {
		if t, n := m.phraseAt(content[i:]); n > 0 {
			add(t)
			i += n
			continue
		}
		w := content[i]
		i++
		if fix && w.known() {
			add(m.fixed(w))
			continue
		}
		t := m.termOfWord(w)
		if fix && !strings.HasPrefix(w.stem, "~") {
			// a meaning readAsks gave by the word's place is no typo
			t = m.fix(w, t)
		}
		add(t)
	}
	return out
}

func (m *Matcher) phraseAt(ws []word) (string, int) {
	if len(ws) < 2 {
		return "", 0 // a phrase has two words or more
	}
	var ps []phrase
	if ws[0].known() {
		ps = ws[0].info.phrases
	} else {
		ps = m.phraseByFirst[ws[0].stem]
	}
	for _, p := range ps {
		if len(p.stems) > len(ws) {
			continue
		}
		ok := true
		for i, s := range p.stems {
			if ws[i].stem != s {
				ok = false
				break
			}
		}
		if ok {
			return p.term, len(p.stems)
		}
	}
	return "", 0
}

// fix is the term a message's content word w, of term t, is read as: t
// when the FAQ knows it, else the known term its typo stands for.
func (m *Matcher) fix(w word, t string) string {
	_, known := m.idf[t]
	if _, ok := m.answerOnly[t]; known || ok {
		return t
	}
	return m.correct(w, t)
}

// correct finds the known term a misspelt word stands for: one edit away from
// an example's word as written, or one edit away from a
// known stem, always with the same first letter (typos seldom touch it, and
// "jours" is not "hours", nor "changer" "échanger"). A word close to two different terms is left alone: a guess
// between two answers is how a bot answers beside the point.
func (m *Matcher) correct(w word, t string) string {
	n := runeLen(w.folded)
	if n < m.minTypo || realWords[w.folded] {
		// a word of the dictionaries is itself, no typo: "chance" is
		// not "change", nor "chaque" "chèque"
		return t
	}
	// One edit, even for long words: two let "composition" become
	// "competition" and "connecter" become "contacter".
	const limit = 1
	if c, ok := unique(w.folded, limit, m.nearSurface); ok {
		return c
	}
	if runeLen(w.stem) < m.minTypo {
		return t
	}
	if c, ok := unique(w.stem, limit, m.nearStem); ok {
		return c
	}
	if c, ok := unique(w.folded, limit, m.nearAnswer); ok {
		return c
	}
	return t
}

// known is a word as written or a stem, and the term it stands for.
type known struct {
	word, term string
	runes      []rune // word's
}

// nearIndex holds known words by their first letter, which a correction
// keeps, then by their length in letters, which one edit changes by one at
// most.
type nearIndex map[rune][][]known

// byFirstLetter indexes words by their first letter and length: a word is
// compared with the known words one edit can reach, not with every word of its
// letter (most of which are too long or too short), and which word is found
// does not depend on the order they are compared in (unique).
func byFirstLetter(words map[string]string) nearIndex {
	out := nearIndex{}
	for w, t := range words {
		r, _ := utf8.DecodeRuneInString(w)
		k := known{word: w, term: t, runes: []rune(w)}
		byLen := out[r]
		for len(byLen) <= len(k.runes) {
			byLen = append(byLen, nil)
		}
		byLen[len(k.runes)] = append(byLen[len(k.runes)], k)
		out[r] = byLen
	}
	for _, byLen := range out {
		for _, ks := range byLen {
			sort.Slice(ks, func(i, j int) bool { return ks[i].word < ks[j].word })
		}
	}
	return out
}

// minTypoLen is the shortest word corrected. Four-letter words are too often
// another real word one edit away (hier/hire, chat/cheat, mort/port).
const minTypoLen = 5

// unique returns the term of the known words within limit edits of s (the
// closest), when they all stand for the same term.
func unique(s string, limit int, index nearIndex) (string, bool) {
	found := ""
	best := limit + 1
	ambiguous := false
	var buf [64]rune
	rs := appendRunes(buf[:0], s)
	first := utf8.RuneError
	if len(rs) > 0 {
		first = rs[0]
	}
	byLen := index[first]
	for n := max(0, len(rs)-limit); n <= len(rs)+limit && n < len(byLen); n++ {
		for _, k := range byLen[n] {
			term := k.term
			// A concept is many words: a word is read as one of them only
			// from six letters and on its first two letters too
			// ("playing" is not "paying", nor "paper" "payer").
			if strings.HasPrefix(term, "~") && (len(rs) < minConceptTypo || rs[1] != k.runes[1]) {
				continue
			}
			d := bot.DistanceRunes(rs, k.runes, limit)
			switch {
			case d > limit || d > best:
			case d < best:
				best, found, ambiguous = d, term, false
			case term != found:
				ambiguous = true
			}
		}
	}
	if found == "" || ambiguous {
		return "", false
	}
	return found, true
}

// appendRunes is append(dst, []rune(s)...) without the conversion's copy.
func appendRunes(dst []rune, s string) []rune {
	for _, r := range s {
		dst = append(dst, r)
	}
	return dst
}

func (m *Matcher) weight(t string) float64 {
	w, ok := m.idf[t]
	if !ok {
		w = m.unknown
	}
	if isContext(t) {
		w *= contextWeight
	}
	return w
}

func (m *Matcher) vectorOf(ts []string) vector {
	v := vector{terms: ts, w: make(map[string]float64, len(ts)), dl: len(ts)}
	for _, t := range ts {
		w := m.weight(t)
		v.w[t] = w
		v.norm += w * w
	}
	v.norm = math.Sqrt(v.norm)
	return v
}

// defaultBlend gives half the score to the best example and half to the entry
// as a whole (measured on the benchmark: the best example alone answers chit-chat
// that shares one incidental word with it).
const defaultBlend = 0.5

// defaultUnknownShare is how much a word no example has weighs, against the rarest
// known word: some (a question about Belgium is not a question about delivery
// to France), not all (it should still be answered).
const defaultUnknownShare = 0.7

// Candidate is an entry and how well a message matches it, from 0 to 1.
type Candidate struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
	// own is the cosine of the message with the entry's best own example
	// (the file's, not an intent's wording): see disputed.
	own float64
}

// String prints a candidate as its id and score.
func (c Candidate) String() string { return fmt.Sprintf("{%s %v}", c.ID, c.Score) }

// Match is what the matcher reads in a message.
type Match struct {
	// Question is true when the message looks like a question or a request.
	Question bool
	// Language is fr or en: the message's, or the file's default.
	Language string
	// Terms are the message's words as the index compares them.
	Terms []string
	// Candidates are the entries that share something with the message, best
	// first (at most three).
	Candidates []Candidate
	// Peer is true when the message speaks to another member, not to the
	// brand: French "tu" where a brand is asked "vous".
	Peer bool
	// Insult is true when the message insults the brand or its staff.
	Insult bool
	// Disputed is true when the best candidate leads on the wordings its
	// entry inherited while another entry's own examples are clearly
	// closer to the message (see disputed): the CMs decide.
	Disputed bool
	// ownBest is the best cosine of the message with an entry's own
	// examples, ownEntry that entry.
	ownBest  float64
	ownEntry string
	// Undecided is true when the best candidate stands on no word that
	// tells its entry from the others and another entry's own examples are
	// as close (see undecided): the CMs decide.
	Undecided bool
	// Inherited is true when the best candidate reaches the threshold on
	// the wordings its entry inherits alone, none of its own examples
	// sharing a word with the message (see inherited): the CMs decide.
	Inherited bool
	// answerChose is true when the answers broke a near tie (byAnswer).
	answerChose bool
	// answerSaid is the entry whose answer's own word or fact lifted it
	// (byVocabulary, byFact): the CM's text chose it.
	answerSaid string
}

// sortCandidates puts the best candidates first, ties in the order they
// came (the file's).
func sortCandidates(cs []Candidate) {
	slices.SortStableFunc(cs, func(a, b Candidate) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
}

// Best returns the best candidate, or false when no entry matched at all.
func (r Match) Best() (Candidate, bool) {
	if len(r.Candidates) == 0 {
		return Candidate{}, false
	}
	return r.Candidates[0], true
}

// bestCandidates is sortCandidates(cs) cut to its first k (k at most
// maxCandidates), found without sorting the others: cs's first k, the best
// first, ties in the order they came.
func bestCandidates(cs []Candidate, k int) []Candidate {
	var top [maxCandidates]Candidate
	n := 0
	for _, c := range cs {
		// after every candidate kept that scores as much or more
		p := n
		for p > 0 && top[p-1].Score < c.Score {
			p--
		}
		if p >= k {
			continue
		}
		if n < k {
			n++
		}
		copy(top[p+1:n], top[p:n-1])
		top[p] = c
	}
	copy(cs, top[:n])
	return cs[:n]
}

// maxCandidates is how many entries a match lists: enough to see the runner-up.
const maxCandidates = 3

// Match scores text against every entry.
func (m *Matcher) Match(text string) Match {
	var buf [wordsBuf]word
	folded, ws := foldedWords(text, m.memo, buf[:0])
	return m.matchWords(text, folded, ws)
}

// language is the text's language, or the FAQ's own when it cannot tell.
func (m *Matcher) language(text string, ws []word) string {
	if l := languageOf(text, ws); l != "" {
		return l
	}
	return m.cfg.Language
}

// asksService reports whether words without a question's form still ask
// customer service: "carte perdue", "mot de passe oublié", "le jeu crash",
// "service des objets trouvés"; not a remark ("livraison rapide, top", "je
// commanderai plus jamais chez vous", "never ordering from you again").
func (m *Matcher) asksService(ws []word) bool {
	core := false
	var buf [32]word
	content := buf[:0]
	never := false
	for i, w := range ws {
		// a remark anywhere ("... arrivée chez moi lol") makes it none,
		// but laughter does not make a remark of the writer's own
		// order ("mon colis est perdu mdr")
		never = never || w.folded == "never"
		if w.lex&lexLaughter != 0 && ownsWithBrand(ws) {
			continue
		}
		if w.lex&lexRemark != 0 || never && w.folded == "again" || i > 0 && w.lex&lexPairEnd != 0 && remarkPair[[2]string{ws[i-1].folded, w.folded}] {
			return false
		}
	}
	for _, w := range ws {
		if w.stem == "" {
			continue
		}
		if w.known() {
			if w.info.problem {
				return true
			}
			core = core || w.info.asks
		} else {
			t := m.termOfWord(w)
			if problemConcepts[t] {
				return true
			}
			core = core || asksSomething(t)
		}
		content = append(content, w)
	}
	if core {
		return true
	}
	// A phrase counts as the concept it stands for; a typo's correction
	// does not ("content" is not "coûtent").
	for i := 0; i < len(content); i++ {
		if t, n := m.phraseAt(content[i:]); n > 0 {
			if problemConcepts[t] || asksSomething(t) {
				return true
			}
			i += n - 1
		}
	}
	return false
}

// remarkPair are two words that make a remark of a message: "je commanderai
// plus jamais chez vous".
var remarkPair = map[[2]string]bool{{"plus", "jamais"}: true}

// isContext reports whether a term says when, where or which one rather than
// which question: a context concept or a number.
func isContext(t string) bool { return contextConcepts[t] || strings.HasPrefix(t, whichPrefix) }

// whichPrefix marks the term of a number: "7h", "ligne 4", "taille 42" say
// which one, not which question, so they weigh as a context does, and are
// never corrected as typos.
const whichPrefix = "#"

// asksSomething reports whether a term is a concept that says which question
// is asked, not only when, where or what.
func asksSomething(t string) bool { return strings.HasPrefix(t, "~") && !contextConcepts[t] }

// matchKnown matches a text on the words the matcher knows, for the matcher of
// the intents: an entry's example asks an intent by the words customer
// service is asked with ("comment joindre la mairie" asks contact), whatever
// the brand's own words; the more of those, the less it is sure.
func (m *Matcher) matchKnown(text string) (Candidate, bool) {
	var r Match
	core := false
	all := m.terms(words(text), false)
	for _, t := range all {
		if _, ok := m.idf[t]; ok {
			r.Terms = append(r.Terms, t)
			core = core || !isContext(t)
		}
	}
	if !core {
		return Candidate{}, false
	}
	var ibuf [wordsBuf]termInfo
	m.cosines(&r, m.infosOf(r.Terms, ibuf[:0]))
	sortCandidates(r.Candidates)
	c, ok := r.Best()
	c.Score *= math.Sqrt(float64(len(r.Terms)) / float64(len(all)))
	return c, ok
}

// onlyContext reports whether the terms the FAQ knows are all context: a
// day, a city, a delay say nothing of which question is asked. The objects
// the brand is about are not context there: "y a des bus le dimanche ?" asks
// a bus company about its buses.
func (m *Matcher) onlyContext(infos []termInfo) bool {
	for i := range infos {
		if ti := &infos[i]; ti.known && (!ti.context || ti.domain) || ti.taught {
			return false
		}
	}
	return true
}

// objectConcepts are the context concepts that name what a brand may be
// about, rather than when or where.
var objectConcepts = map[string]bool{
	"~device": true, "~part": true, "~transport": true, "~app": true, "~account": true, "~card": true,
	"~vehicle": true,
}

// asksOpinion reports whether a message asks which is best without
// addressing the brand: "quel est le meilleur smartphone pas cher ?", "what's
// the best protein shake?" ask the world, where "what's the best way to reach
// you?" asks the brand. "Le plus proche" is no opinion: it asks for a store.
func asksOpinion(ws []word) bool {
	best, you := false, false
	for i, w := range ws {
		// "the best way to reach you", "le meilleur moyen de vous
		// joindre" ask how, not an opinion
		best = best || w.lex&lexSuperlative != 0 && !(i+1 < len(ws) && bestHow[ws[i+1].folded])
		you = you || w.lex&lexSecondPerson != 0
	}
	return best && !you
}

// bestHow after a superlative make it ask how or when: the best way, le
// meilleur moyen, the best time.
var bestHow = set(`way ways moyen moyens facon time moment`)

var (
	superlatives = set(`meilleur meilleure meilleurs meilleures best pire pires worst hardest easiest nicest coolest funniest`)
	secondPerson = set(`vous votre vos tu ton ta tes te toi you your yours yourself yourselves`)
)

// otherPlace reports whether ws ask whether a place the FAQ does not know is
// open: "c'est ouvert ou fermé la piscine municipale ?", "le marché de Noël
// est ouvert ce soir ?" ask about another place than the brand's. A message
// that says "vous" or "you", or names a place of the brand's ("le magasin"),
// asks the brand.
func (m *Matcher) otherPlace(terms []string, ws []word) bool {
	if !slices.ContainsFunc(terms, func(t string) bool { return t == "~open" || t == "~close" || t == "~hours" }) ||
		slices.Contains(terms, "~store") || addressed(ws) {
		return false
	}
	// two terms the FAQ does not know (or a town), one a word after an
	// article: a named place ("la piscine municipale"), not a word of the
	// brand's own ("le drive") nor a phrase it knows ("le service client")
	unknown := map[string]bool{}
	for _, t := range terms {
		if t == "~city" {
			unknown[t] = true // "le marché de Noël d'Angers"
			continue
		}
		if _, known := m.idf[t]; known || m.taught[t] || isContext(t) || strings.HasPrefix(t, "~") || strings.HasPrefix(t, whichPrefix) {
			continue
		}
		if _, ok := m.answerOnly[t]; !ok {
			unknown[t] = true
		}
	}
	if len(unknown) < 2 {
		return false
	}
	for i := 1; i < len(ws); i++ {
		switch ws[i-1].folded {
		case "le", "la", "l", "the":
			if ws[i].stem != "" && unknown[m.termOfWord(ws[i])] {
				return true
			}
		}
	}
	return false
}

// contextShare is what a message of context alone, or one asking an opinion,
// keeps of its scores: enough to show the desk the entry it is closest to,
// never enough to answer.
const contextShare = 0.5

// matchWords is Match once text is read: folded is fold(text), ws its words.
func (m *Matcher) matchWords(text, folded string, ws []word) Match {
	return m.matchAsked(text, ws, looksLikeQuestionFolded(text, folded, ws) || m.asksService(ws), m.language(text, ws))
}

// matchAsked is matchWords once whether the text asks something and its
// language are known (Decide reads them first).
func (m *Matcher) matchAsked(text string, ws []word, question bool, language string) Match {
	r := Match{Question: question, Language: language, Peer: speaksToPeer(ws), Insult: insulting(ws)}
	r.Terms = m.terms(ws, true)
	var ibuf [wordsBuf]termInfo
	infos := m.infosOf(r.Terms, ibuf[:0])
	if anyGiveBack(infos) {
		// "rembourser un tire-lait ouvert mais jamais utilisé": in a
		// request to give something back, "open" is the thing's state
		if i := slices.Index(r.Terms, "~open"); i >= 0 {
			// terms are unique: one "~open" at most
			r.Terms = slices.Delete(r.Terms, i, i+1)
			infos = slices.Delete(infos, i, i+1)
		}
	}
	if len(r.Terms) == 0 {
		return r
	}
	if m.scoring != Cosine {
		q := m.vectorOf(r.Terms)
		for i := range m.entries {
			e := &m.entries[i]
			if !e.hasKeyword(r.Terms) {
				continue
			}
			best, taught := 0.0, 0.0
			for j := range e.questions[:e.shaped] {
				best = max(best, m.score(q, &e.questions[j]))
			}
			for j := e.shaped; j < len(e.questions); j++ {
				taught = max(taught, m.score(q, &e.questions[j]))
			}
			if m.blend > 0 {
				best = (1-m.blend)*best + m.blend*cosine(q, &e.centroid)
			}
			best = max(best, taughtShare*taught)
			if best > 0 {
				r.Candidates = append(r.Candidates, Candidate{ID: e.ID, Score: round3(best)})
			}
		}
	} else {
		m.cosines(&r, infos)
	}
	opinion := asksOpinion(ws)
	scaled := m.onlyContext(infos) || opinion || m.otherPlace(r.Terms, ws)
	if scaled {
		for i := range r.Candidates {
			r.Candidates[i].Score = round3(r.Candidates[i].Score * contextShare)
		}
	}
	if !opinion {
		// after the context's share: the words of an answer alone are
		// no context, though no example has them
		m.byVocabulary(&r, infos)
		m.byFact(&r, ws, infos)
	}
	r.Candidates = bestCandidates(r.Candidates, maxCandidates)
	m.byAnswer(&r, infos)
	if !opinion && !scaled {
		m.byCoverage(&r, infos, ws)
		m.byGiveBack(&r, infos, ws)
		m.byIntent(&r, infos, ws)
	}
	r.Disputed = m.disputed(&r)
	r.Undecided = !r.Disputed && m.undecided(&r)
	r.Inherited = !r.Disputed && !r.Undecided && m.inherited(&r)
	return r
}

// undecided reports whether the best candidate, answered, stands on no word
// that tells its entry from the others of this FAQ while another entry's own
// examples are as close to the message: every word of the message the entry
// knows is another entry's too (in its examples or the wordings it inherits),
// the second entry's own examples come within undecidedOwnMargin of the
// first's, and the answer scores under undecidedCeiling. The message then
// reads as well with either entry ("je voudrais changer de compte bancaire
// pour les prélèvements" of an electricity supplier's bills and payments,
// "do you host kids parties?" of a pool's lessons and birthdays): which one
// won is the weights' accident, not the CM's words. Such a message goes to
// the desk with the best entry suggested. A word of the winning entry alone
// ("toboggan", "chenil", "rouleau"), an answer that scores high, or an
// entry whose own examples are far closer than the others' decides, and the
// answer stands; when the answers broke a near tie (byAnswer) or a word or a
// fact of the entry's answer alone lifted it (byVocabulary, byFact), the
// CM's text has decided too.
//
// Measured on 7 December on the sets one may tune on: on the trades never
// taught among them (read2, sealed7 to sealed12, 972 questions and 482
// messages to leave alone), 11 fewer right answers, 10 fewer wrong ones and
// 1 fewer message to leave alone answered; on the sets the lexicon was
// taught on (the read trades, the brands' sets, leavealone.tsv on the
// brands' and read FAQs), 11 fewer right, 1 fewer wrong and 1 fewer answered
// to leave alone. The questions it holds back go to the desk with their
// right entry suggested.
func (m *Matcher) undecided(r *Match) bool {
	if len(r.Candidates) < 2 || r.answerChose || r.answerSaid == r.Candidates[0].ID {
		return false
	}
	c := r.Candidates[0]
	if c.Score < m.cfg.Threshold || c.Score >= undecidedCeiling || r.Candidates[1].own < c.own-undecidedOwnMargin {
		return false
	}
	e := m.entryOf(c.ID)
	for _, t := range r.Terms {
		if _, ok := e.centroid.w[t]; ok && m.entriesWith[t] == 1 {
			return false
		}
	}
	return true
}

// undecidedCeiling and undecidedOwnMargin: from what score an answer that
// stands on words other entries share is sure enough, and how far the
// second entry's own examples may be behind the first's for the message to
// read as well with either. Chosen on 7 December on the sets one may tune
// on, before the answers' own words and facts were let decide (right and
// wrong answers and messages to leave alone answered, fewer than before, on
// the trades never taught among them, then on the sets taught): 0.7 and
// no margin, -54 / -20 / -4 and -80 / -7 / -2; 0.65 and no margin, -40
// / -15 / -4 and -50 / -5 / -2; 0.6 and 0.2, -9 / -7 / -3 and -11 / -2 /
// -1; 0.65 and 0.2, -13 / -10 / -3 and -15 / -2 / -1; 0.7 and 0.2, -16 /
// -11 / -3 and -17 / -2 / -1.
const (
	undecidedCeiling   = 0.65
	undecidedOwnMargin = 0.2
)

// disputed reports whether the best candidate, answered, wins against its
// entry's own examples: another entry's own examples (the file's, not the
// wordings of the intents it inherits) are closer to the message, by
// disputeMargin, with a cosine of disputeFloor or more. An entry inherits
// intents its own examples do not ask: from an example that asks one in a
// word of another sense ("les box sont-ils sécurisés ?" an internet box, "le
// crédit d'impôt" a loan), or as a family's ("contact" the bookings, which
// no entry asks); a message worded like that intent then goes to that entry
// though the CM's examples point elsewhere ("my preorder, has it shipped
// yet?" to the contact entry, whose booking wordings have "preorder", while
// the delivery entry's examples ask about shipping). Such a message goes to
// the desk, not answered. When the answers broke a near tie (byAnswer), the
// CM's own text has decided and the answer stands.
//
// Measured on 6 December (TestBrands): on the sets never read (the twenty
// trades never taught and sealed7 to sealed9, 1,230 questions and 400
// messages to leave alone), 3 fewer right answers and 8 fewer wrong ones;
// on the sets read (the read trades, the brands' tuned and held-out sets),
// 8 fewer right and 1 fewer wrong, no message to leave alone and no
// recorded message more answered.
func (m *Matcher) disputed(r *Match) bool {
	if len(r.Candidates) == 0 || r.ownEntry == "" || r.answerChose {
		// the CM's answer chose between two close entries: the file's
		// own text decided already
		return false
	}
	c := r.Candidates[0]
	return c.Score >= m.cfg.Threshold && r.ownEntry != c.ID && r.ownBest >= disputeFloor && r.ownBest > c.own+disputeMargin
}

// inherited reports whether the best candidate, answered, shares no word
// with any of its entry's own examples while another entry's own examples
// share some: it reaches the threshold on the wordings of the intents its
// entry inherits alone, which the CM never wrote, and the CM's words point
// elsewhere ("is there a student discount" of a zoo, whose sponsoring entry
// inherits the promotions with "can I adopt an animal as a gift?", while
// the tickets' "il y a un tarif famille ?" asks what students pay). Such a
// message goes to the desk with the entry suggested. An entry taught
// wordings from the desk, an answer whose own words or facts chose it
// (byVocabulary, byFact) or that broke a near tie (byAnswer) is left
// answered: a CM's text decided.
//
// Measured on 7 December: on the sets one may tune on, 7 fewer right and 2
// fewer wrong answers (the read trades 554 / 18 -> 550 / 17, sealed10 3 -> 2
// wrong); on the sets nobody tuned on, 1 fewer right and 2 fewer wrong
// (sealed14 10 -> 9, sealed16 5 -> 4). Every answer none of whose entry's
// own examples shares a word, whether or not another entry's do, sent 12
// more right answers to the desk there for 3 fewer wrong ones.
func (m *Matcher) inherited(r *Match) bool {
	if len(r.Candidates) == 0 || r.ownEntry == "" || r.answerChose {
		return false
	}
	c := r.Candidates[0]
	if c.Score < m.cfg.Threshold || c.own != 0 || r.answerSaid == c.ID {
		return false
	}
	e := m.entryOf(c.ID)
	return e.shaped == len(e.questions)
}

// disputeMargin and disputeFloor: how much closer, and how close, another
// entry's own examples must be to the message for an answer to go to the
// desk instead. Tried on 6 December, never read / read, right and wrong
// answers against the matcher before: 0.2 and 0.4, -3 / -8 and -8 / -1;
// 0.1 and 0.3, -10 / -11 and -25 / -3; any margin and 0.3, -19 / -18 and
// -36 / -3; any margin and 0.5, -12 / -11 and -21 / -1.
const (
	disputeMargin = 0.2
	disputeFloor  = 0.4
)

// byCoverage answers a near miss when the words of the message the examples
// know all point to its entry: two of them or more (a day, a time, a number
// or a city aside), every one in that entry's examples or the wordings it
// inherits, in no other entry's all of them, and no more words no example
// has than words it has ("I'd rather talk to someone, is there a number I
// can call?", "my order still says processing after 5 days, any news?"). A
// near miss that shares one word with its entry, or whose message is mostly
// words no example has (recorded chat that says "call" and "appointment"),
// stays a near miss. The entry is lifted just above the threshold, as
// byVocabulary does.
//
// One of the known words may be another entry's (see outsideWord) when the
// message asks the brand something for its writer ("vous", "je peux", "is
// there"): the public names what it asks about in its own words, which
// another entry's example may happen to use too ("je peux réserver pour un
// gâteau ?" of a booking entry, where the menu's example has "un gâteau au
// dessert").
func (m *Matcher) byCoverage(r *Match, infos []termInfo, ws []word) {
	cs := r.Candidates
	if len(cs) == 0 || cs[0].Score < m.cfg.SuggestThreshold || cs[0].Score >= m.cfg.Threshold {
		return
	}
	e := m.entryOf(cs[0].ID)
	known, unknown, outside := 0, 0, 0
	for k, t := range r.Terms {
		switch {
		case infos[k].context:
		case !infos[k].known:
			unknown++
		default:
			if _, ok := e.centroid.w[t]; !ok {
				if outside > 0 || !m.outsideWord(t) {
					return
				}
				outside++
			}
			known++
		}
	}
	if known < coverageWords || unknown > known {
		return
	}
	if outside > 0 && !addressed(ws) && !asksForSelf(ws) && !asksWhetherThere(ws) {
		return
	}
	for i := range m.entries {
		if o := &m.entries[i]; o != e && o.hasAllKnown(r.Terms, infos) {
			return
		}
	}
	cs[0].Score = round3(m.cfg.Threshold * vocabularyLift)
}

// byGiveBack answers a near miss that asks to give something back (a
// return, a refund, an exchange, damaged goods) for its writer ("je peux
// l'échanger ?", "can I send it back?") when its entry is the only one whose
// examples or inherited wordings give back, and has every such word of the
// message: the thing given back and the story around it ("la perceuse
// achetée samedi fait un bruit bizarre") are words no example has, which
// keep the score under the threshold, and change nothing of which policy
// answers.
//
// Measured on 7 December: the read trades 542 → 551 right, 18 → 19 wrong
// (a garden centre's dead hydrangea, which its plant guarantee answers,
// went to the returns entry); the brands' tuned and held-out sets and
// testdata/read2 unchanged; the twenty trades never taught 365 → 368 right,
// 22 wrong both; no message to leave alone, of leavealone.tsv or the
// recorded ones, more answered.
func (m *Matcher) byGiveBack(r *Match, infos []termInfo, ws []word) {
	cs := r.Candidates
	if len(cs) == 0 || cs[0].Score < m.cfg.SuggestThreshold || cs[0].Score >= m.cfg.Threshold || !anyGiveBack(infos) {
		return
	}
	if !asksForSelf(ws) && !addressed(ws) {
		return
	}
	e := m.entryOf(cs[0].ID)
	for k, t := range r.Terms {
		if !infos[k].giveBack {
			continue
		}
		if _, ok := e.centroid.w[t]; !ok {
			return
		}
	}
	for i := range m.entries {
		o := &m.entries[i]
		if o == e {
			continue
		}
		for t := range returnTerms {
			if _, ok := o.centroid.w[t]; ok {
				return
			}
		}
	}
	cs[0].Score = round3(m.cfg.Threshold * vocabularyLift)
}

// byIntent answers a near miss whose one known word is what its entry alone
// is asked about: a concept that asks something (a way to reach the brand, a
// commitment, a late arrival), in that entry's examples or the wordings it
// inherits and in no other entry's, in a question the writer asks for
// themselves or puts to the brand ("do you guys have whatsapp or
// something?", "y a un engagement ?", "we're stuck in traffic, can we still
// play?"). The words no example has are then the writer's own story, and
// the one intent the message shares with the FAQ has one entry to answer
// it. A message whose only "I" is an object ("is it me or is the chat
// dead?") asks nothing for its writer.
func (m *Matcher) byIntent(r *Match, infos []termInfo, ws []word) {
	cs := r.Candidates
	if len(cs) == 0 || cs[0].Score < m.cfg.SuggestThreshold || cs[0].Score >= m.cfg.Threshold {
		return
	}
	if !r.Question || !addressed(ws) && !asksWhetherThere(ws) && !firstPersonSubject(ws) {
		return
	}
	e := m.entryOf(cs[0].ID)
	intent := ""
	for k, t := range r.Terms {
		if infos[k].context || !infos[k].known {
			continue
		}
		if intent != "" || !asksSomething(t) || m.entriesWith[t] != 1 {
			return
		}
		if !e.ownHas(t) {
			return
		}
		intent = t
	}
	if intent == "" {
		return
	}
	cs[0].Score = round3(m.cfg.Threshold * vocabularyLift)
}

// ownHas reports whether one of the entry's own examples, the file's, has t.
func (e *entry) ownHas(t string) bool {
	for j := range e.questions[:e.own] {
		if _, ok := e.questions[j].w[t]; ok {
			return true
		}
	}
	return false
}

// firstPersonSubject reports whether ws have the writer as a subject or an
// owner: "je", "I", "we", "on" in French, "my", "notre"; not "me" or "moi"
// alone.
func firstPersonSubject(ws []word) bool {
	for _, w := range ws {
		switch w.folded {
		case "i", "je", "j", "we", "my", "mon", "ma", "mes", "nous", "our", "notre", "nos":
			return true
		case "on":
			if readsFrench(ws) {
				return true
			}
		}
	}
	return false
}

// outsideWord reports whether t, a known word that the near miss's entry
// lacks, may stand beside that entry's words in byCoverage: a plain word, no
// concept that asks something (a price, a delivery, a return: what another
// entry is about), and no noun that only another entry's own examples have
// (the trade's noun of that entry: "terrasse" of the terrace's).
//
// Measured on 7 December against every known word the entry's: the read
// trades 534 → 540 right, 20 wrong both; the brands' held-out sets 383 →
// 384, the starter pack's held-out set 31 → 32 of 41; no message to leave
// alone, of leavealone.tsv or the recorded ones, more answered; the sets
// nobody read 723 → 730 right, 58 → 60 wrong. Any known word (a concept
// too) answered 19 more right on the read trades and 3 more wrongly; a
// plain word whatever the message's form, 8 more right on the read trades
// and one more message to leave alone answered where nobody read.
func (m *Matcher) outsideWord(t string) bool {
	if asksSomething(t) {
		return false
	}
	_, own := m.ownOnly[t]
	return !own
}

// coverageWords is how many known words of a near miss byCoverage wants,
// all of them its entry's. Measured on 5 December on the read trades and
// the brands' tuned sets: two answered 15 more questions right and one more
// wrongly, and no more recorded chat nor messages to leave alone; three, 6
// more right and none wrongly.
const coverageWords = 2

// hasAllKnown reports whether every known word of the message but its
// context is in the entry's examples or inherited wordings.
func (e *entry) hasAllKnown(terms []string, infos []termInfo) bool {
	for k, t := range terms {
		if infos[k].known && !infos[k].context {
			if _, ok := e.centroid.w[t]; !ok {
				return false
			}
		}
	}
	return true
}

// cosines adds the candidates as the cosine scores them: the same sums as cosine
// (the products of the terms both sides share, in the message's order), from
// the index.
//
// Only the vectors that share a term with the message are visited: with the
// intents' wordings an FAQ of 200 entries has a thousand vectors, of which a
// message touches a few dozen.
//
// infos are the terms' infoOf.
func (m *Matcher) cosines(r *Match, infos []termInfo) {
	ix := &m.index
	s, _ := m.scratch.Get().(*scratch)
	if s == nil || len(s.dots) != len(ix.norms) {
		s = &scratch{dots: make([]float64, len(ix.norms)), seen: make([]bool, len(m.entries)), xdot: make([]float64, len(m.entries)), xnorm: make([]float64, len(m.entries))}
	}
	defer m.scratch.Put(s)
	qnorm := 0.0
	// a request to give something back is about the returns policy,
	// whatever the thing: the words that name it, which no example has,
	// weigh less ("I'd like to send back the garden chairs")
	giveBack := anyGiveBack(infos)
	for k := range infos {
		ti := &infos[k]
		w := ti.weight
		if giveBack && !ti.known {
			w *= objectShare
		}
		qnorm += w * w
		id := ti.post
		if id < 0 {
			if e := ti.answerOnly; e >= 0 && m.tune.answerLift > 0 {
				// as if each of the entry's vectors had the word, at a
				// share of its weight
				a := m.tune.answerLift * w
				s.xdot[e] += w * a
				s.xnorm[e] += a * a
				if !s.seen[e] {
					s.seen[e] = true
					s.entries = append(s.entries, e)
				}
			}
			continue
		}
		for _, p := range ix.post[id] {
			s.dots[p.vec] += w * p.w
			if !s.seen[p.entry] {
				s.seen[p.entry] = true
				s.entries = append(s.entries, p.entry)
			}
		}
	}
	qnorm = math.Sqrt(qnorm)
	slices.Sort(s.entries) // in the file's order, as ties are listed
	// xd and xn are what the message's words of the entry's answer alone
	// add to the dot product and the squared norm.
	cos := func(v int32, xd, xn float64) float64 {
		n := ix.norms[v]
		if xn > 0 {
			n = math.Sqrt(n*n + xn)
		}
		if qnorm == 0 || n == 0 {
			return 0
		}
		return (s.dots[v] + xd) / (qnorm * n)
	}
	for _, i := range s.entries {
		xd, xn := s.xdot[i], s.xnorm[i]
		e := &m.entries[i]
		if !e.hasKeyword(r.Terms) {
			continue
		}
		first := ix.first[i]
		best, taught, centroid, own := 0.0, 0.0, 0.0, 0.0
		if xd == 0 && xn == 0 && qnorm != 0 {
			// cos without the answer's words: the same quotients, in a
			// loop over the entry's vectors side by side
			n := len(e.questions)
			dots, norms := s.dots[first:int(first)+n+1], ix.norms[first:int(first)+n+1]
			for j, d := range dots[:e.shaped] {
				if norms[j] != 0 {
					c := d / (qnorm * norms[j])
					if c > best {
						best = c
					}
					if j < e.own && c > own {
						own = c
					}
				}
			}
			for j := e.shaped; j < n; j++ {
				if norms[j] != 0 {
					if c := dots[j] / (qnorm * norms[j]); c > taught {
						taught = c
					}
				}
			}
			if norms[n] != 0 {
				centroid = dots[n] / (qnorm * norms[n])
			}
		} else {
			for j := range e.questions[:e.shaped] {
				c := cos(first+int32(j), xd, xn)
				best = max(best, c)
				if j < e.own {
					own = max(own, c)
				}
			}
			// a wording taught from the desk is a whole example: it
			// answers the messages worded like it on its own, not
			// blended with an entry it does not shape
			for j := e.shaped; j < len(e.questions); j++ {
				taught = max(taught, cos(first+int32(j), xd, xn))
			}
			centroid = cos(first+int32(len(e.questions)), xd, xn)
		}
		if m.blend > 0 {
			best = (1-m.blend)*best + m.blend*centroid
		}
		best = max(best, taughtShare*taught)
		if best > 0 {
			if r.Candidates == nil {
				r.Candidates = make([]Candidate, 0, len(s.entries))
			}
			r.Candidates = append(r.Candidates, Candidate{ID: e.ID, Score: round3(best), own: own})
		}
		if own > r.ownBest {
			r.ownBest, r.ownEntry = own, e.ID
		}
	}
	for _, e := range s.entries {
		first := ix.first[e]
		clear(s.dots[first : int(first)+len(m.entries[e].questions)+1])
		s.seen[e] = false
		s.xdot[e], s.xnorm[e] = 0, 0
	}
	s.entries = s.entries[:0]
}

// taughtShare is the share of its cosine with which a wording taught from the
// desk scores a message: a message worded like it (0.8 and more) is answered,
// one that only shares a product's name with it is not. Measured on 5 December
// by teaching the misses of one half of each read or unseen trade's set and
// scoring the other half: 1.0 answered 13 more right among the trades never
// taught but 4 more wrong among the read ones; 0.8, 4 more right and 1 fewer
// wrong, and 3 fewer right and 2 more wrong; 0.65 changed nothing.
const taughtShare = 0.8

// returnTerms are the concepts of the returns family (see families).
var returnTerms = map[string]bool{"~return": true, "~refund": true, "~exchange": true, "~damaged": true}

// objectShare is the share of its weight a word no example has keeps in a
// message that asks to give something back. Measured on the brands' and read
// trades' sets on 5 December: 0.8 answered 4 more questions right, 0.6 nine
// (one more wrong), 0.45 twelve (two more wrong); no message to leave alone
// more was answered.
const objectShare = 0.6

// scratch is what cosines works in, kept from one message to the next.
type scratch struct {
	dots    []float64 // by vector
	seen    []bool    // by entry
	entries []int32   // the entries with a term of the message
	// xdot and xnorm, by entry, are what the message's words of that
	// entry's answer alone add to the dot products and squared norms of
	// its vectors.
	xdot, xnorm []float64
}

func (e *entry) hasKeyword(terms []string) bool {
	if len(e.keywords) == 0 {
		return true
	}
	for _, k := range e.keywords {
		all := true
		for _, t := range k {
			if !slices.Contains(terms, t) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// BM25's usual constants; the examples are short, so length matters little.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

func (m *Matcher) score(q vector, d *vector) float64 {
	switch m.scoring {
	case BM25:
		return m.bm25(q, d) / m.bm25(q, &q)
	default:
		return cosine(q, d)
	}
}

func cosine(q vector, d *vector) float64 {
	if q.norm == 0 || d.norm == 0 {
		return 0
	}
	dot := 0.0
	for t, w := range q.w {
		dot += w * d.w[t]
	}
	return dot / (q.norm * d.norm)
}

func (m *Matcher) bm25(q vector, d *vector) float64 {
	s := 0.0
	norm := bm25K1 * (1 - bm25B + bm25B*float64(d.dl)/max(m.avgdl, 1))
	for _, t := range q.terms {
		if _, ok := d.w[t]; !ok {
			continue
		}
		s += m.weight(t) * (bm25K1 + 1) / (1 + norm)
	}
	return s
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// WithLearned returns the matcher with the wordings CMs taught from the desk
// read as examples of their entries, as the file's own are: they vote for the
// intents too. A wording of an entry the file no longer has is left out, and
// so is one made of stop words or given already.
func (m *Matcher) WithLearned(ws []store.FAQWording) (*Matcher, error) {
	cfg := m.cfg
	cfg.learned = map[string][]string{}
	learned := 0
	for _, w := range ws {
		i := slices.IndexFunc(cfg.Entries, func(e rules.FAQEntry) bool { return e.ID == w.Entry })
		if i < 0 || len(m.stems(words(w.Text))) == 0 || slices.Contains(cfg.Entries[i].Questions, w.Text) || slices.Contains(cfg.learned[w.Entry], w.Text) {
			continue
		}
		cfg.learned[w.Entry] = append(cfg.learned[w.Entry], w.Text)
		learned++
	}
	if learned == 0 {
		return m, nil
	}
	n, err := newMatcher(cfg, m.tune)
	if err != nil {
		return nil, err
	}
	n.afterHours, n.tz, n.learned, n.communities, n.file, n.placeName = m.afterHours, m.tz, learned, m.communities, m.file, m.placeName
	return n, nil
}

// NamePlaces has {{space}} in the answers write the place's name as f
// gives it (a Telegram group's title), its id where f has none. It is
// called once, before the matcher is used.
func (m *Matcher) NamePlaces(f rules.PlaceNames) { m.placeName = f }

// Learned is how many wordings taught from the desk the matcher reads.
func (m *Matcher) Learned() int { return m.learned }
