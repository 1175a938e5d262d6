package bot

import (
	"strings"
	"unicode"
)

// MaxMarks is how many combining marks in a row a name keeps on a letter:
// enough for the scripts that stack some (Vietnamese, Thai, the Indic
// scripts, an emoji's keycap), few enough that a name of stacked accents
// does not cover the lines above and below it.
const MaxMarks = 4

// OneLine is s, a name someone else chose (a member's, a group's title, a
// forum topic's), made fit for a line vigie writes: line breaks, tabs and
// other control characters, and runs of spaces, become one space, and the
// ends are trimmed, so that a name cannot write a line of its own on a card
// (a "✅ Kept — decided by Ann" under the author's); the characters that
// show nothing and only pad a name (zero-width spaces, Hangul fillers, soft
// hyphens) are dropped, so that a name of them alone is no name; and a letter
// keeps MaxMarks combining marks. The joiners that emoji and some scripts
// need, and the bidirectional controls (which IsolateBidi sets apart), stay.
func OneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space, marks := false, 0
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space, marks = b.Len() > 0, 0
			continue
		case padding(r):
			continue
		case unicode.In(r, unicode.Mn, unicode.Me):
			if marks++; marks > MaxMarks {
				continue
			}
		default:
			marks = 0
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// padding reports whether r shows nothing and joins nothing: a zero-width
// space, a word joiner, a byte order mark, a soft hyphen, the invisible
// operators, and the characters Unicode lists as other default ignorables
// (the Hangul fillers among them).
func padding(r rune) bool {
	switch r {
	case '\u00ad', '\u180e', '\u200b', '\u2060', '\u2061', '\u2062', '\u2063', '\u2064', '\ufeff':
		return true
	}
	return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// Shown is s, a name someone else chose, as a line of vigie's shows it:
// on one line (OneLine), cut to n characters with "…", then set apart
// (IsolateBidi): cut after, the isolate would lose its end with a long
// name's tail.
func Shown(s string, n int) string {
	s = OneLine(s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return IsolateBidi(s)
}
