package desktest

import (
	"strings"
	"unicode"
)

// AuthorLine is the line of a card that names its author by id (id "7": the
// line holding "(id 7)"), and what comes before the id on it: what a hostile
// name could break or turn around.
func AuthorLine(card, id string) (line, before string) {
	mark := "(id " + id + ")"
	for l := range strings.SplitSeq(card, "\n") {
		if strings.Contains(l, mark) {
			line = l
		}
	}
	before, _, _ = strings.Cut(line, mark)
	return line, before
}

// MarksInARow is the longest run of combining marks in s: how many a name
// stacks on one letter, over the lines around it.
func MarksInARow(s string) int {
	most, run := 0, 0
	for _, r := range s {
		if unicode.In(r, unicode.Mn, unicode.Me) {
			run++
			most = max(most, run)
		} else {
			run = 0
		}
	}
	return most
}
