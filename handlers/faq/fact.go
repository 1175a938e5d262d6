package faq

import (
	"slices"
	"strings"
	"unicode"
)

// What an answer tells, read from how the CM wrote it: a price ("46 €",
// "gratuit"), a time of day ("9h30", "7pm", "10:30") or a length of time
// ("48 heures", "30 days"). A message that asks one of these about a noun of
// the trade meets the one entry whose own text has that noun and whose
// answer gives that fact: "le hammam c'est combien ?" meets an entry that
// answers "hammam 15 € l'heure", whatever its examples ask.
type fact uint8

const (
	factPrice fact = 1 << iota
	factClock
	factLength
)

// askedFacts are the concepts that ask for each fact. A time ("every time",
// "à quelle heure") or a delay ("la semaine dernière") alone is chat's as
// often as a question's: they ask a time of day only with opening or
// closing ("ça ferme à quelle heure ?").
var askedFacts = map[string]fact{
	priceTerm: factPrice, "~hours": factClock, durationTerm: factLength,
	"~open": factOpenClose, "~close": factOpenClose, "~time": factTimeOfDay,
}

// factOpenClose and factTimeOfDay are the halves of a time of day asked
// in two words; asked reads them together as factClock.
const (
	factOpenClose fact = 1 << (iota + 5)
	factTimeOfDay
)

// asked is the fact a message's concepts ask, 0 for none or more than one.
func asked(f fact) fact {
	if f&factOpenClose != 0 && f&factTimeOfDay != 0 {
		f |= factClock
	}
	f &^= factOpenClose | factTimeOfDay
	if f&(f-1) != 0 {
		return 0
	}
	return f
}

// answerFacts reads the facts an answer's text gives.
func answerFacts(text string) fact {
	var f fact
	if strings.ContainsAny(text, "€$£") {
		f |= factPrice
	}
	fields := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;()!?«»\"", r)
	})
	for i, w := range fields {
		w = strings.TrimRight(w, ".")
		switch w {
		case "euros", "euro", "gratuit", "gratuite", "gratuits", "gratuites", "free", "dollars":
			f |= factPrice
		}
		if w == "" || w[0] < '0' || w[0] > '9' {
			continue
		}
		if clockTime(w) {
			f |= factClock
		}
		if i+1 < len(fields) && lengthUnits[strings.TrimRight(fields[i+1], ".")] {
			f |= factLength
		}
	}
	return f
}

// clockTime reports whether a word that starts with a digit is a time of day:
// 9h, 10h30, 7am, 4:45pm, 10:30.
func clockTime(w string) bool {
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	if i > 2 {
		return false
	}
	rest := w[i:]
	switch {
	case rest == "h" || rest == "am" || rest == "pm":
		return true
	case strings.HasPrefix(rest, "h") || strings.HasPrefix(rest, ":"):
		rest = strings.TrimRight(rest[1:], "apm")
		return len(rest) == 2 && rest[0] >= '0' && rest[0] <= '5'
	}
	return false
}

// lengthUnits after a number make it a length of time.
var lengthUnits = set(`minute minutes min heure heures hour hours jour jours day days semaine semaines week weeks mois month months an ans year years`)

// buildFacts reads each entry's facts and the nouns of its own text: the
// terms of its own examples and of its answers that are the CM's words, not
// a concept of the lexicon (what customer service is asked) nor a context.
func (m *Matcher) buildFacts() {
	m.nounOf = map[string][]int32{}
	for i := range m.entries {
		e := &m.entries[i]
		for _, a := range e.Answer {
			e.facts |= answerFacts(a)
		}
		mine := map[string]bool{}
		for j := range e.questions[:e.own] {
			for _, t := range e.questions[j].terms {
				mine[t] = true
			}
		}
		for t := range e.answer {
			mine[t] = true
		}
		for t := range mine {
			if strings.HasPrefix(t, "~") || isContext(t) || runeLen(t) < minFactNoun {
				continue
			}
			m.nounOf[t] = append(m.nounOf[t], int32(i))
		}
	}
	for t, es := range m.nounOf {
		slices.Sort(es)
		if len(es) > maxFactOwners {
			delete(m.nounOf, t)
		}
	}
}

// maxFactOwners is how many entries' own texts may share a noun that byFact
// reads: "chambre" in the booking's examples and in the answers of check-in
// and of pets is still the room whose check-out time is asked.
const maxFactOwners = 2

// minFactNoun is the shortest noun byFact reads.
const minFactNoun = 3

// byFact answers the one entry whose own text has a noun of the message
// and whose answer gives the fact the message asks for. The message must
// ask one fact only, and use no word of another entry that this one does
// not have.
func (m *Matcher) byFact(r *Match, ws []word, infos []termInfo) {
	var want fact
	if asksClock(ws) {
		want |= factClock
	}
	for k := range infos {
		want |= infos[k].asked
	}
	asks := asked(want)
	if asks == 0 {
		return
	}
	found := int32(-1)
	for k := range infos {
		for _, i := range infos[k].nounOf {
			if m.entries[i].facts&asks == 0 || i == found {
				continue
			}
			if found >= 0 {
				return
			}
			found = i
		}
	}
	if found < 0 {
		return
	}
	// Every other word the message asks with is the entry's too, in its
	// examples or its answer, or one the FAQ does not know: a word of
	// another entry ("before" of a cancellation's answer) says the
	// message may be about something else.
	e := &m.entries[found]
	for k, t := range r.Terms {
		if infos[k].context || infos[k].asked != 0 {
			continue
		}
		if _, ok := e.centroid.w[t]; ok {
			continue
		}
		if _, ok := e.answer[t]; ok {
			continue
		}
		if infos[k].known || infos[k].inAnswers {
			return
		}
	}
	id := m.entries[found].ID
	lift := min(1, round3(vocabularyLift*m.cfg.Threshold))
	for ci := range r.Candidates {
		if r.Candidates[ci].ID == id {
			r.Candidates[ci].Score = max(r.Candidates[ci].Score, lift)
			r.answerSaid = id
			return
		}
	}
	r.Candidates = append(r.Candidates, Candidate{ID: id, Score: lift})
	r.answerSaid = id
}

// asksClock reports whether the words ask a time of day: "à quelle heure",
// "jusqu'à quelle heure", "what time" ("every time" asks none).
func asksClock(ws []word) bool {
	for i := 0; i+1 < len(ws); i++ {
		switch ws[i].folded {
		case "quelle", "quel", "what":
			switch ws[i+1].folded {
			case "heure", "heures", "time":
				return true
			}
		}
	}
	return false
}
