package bot

import (
	"strings"
	"unicode"
)

// IsolateBidi is s, which someone else wrote (a member's name, their words),
// set apart from the text around it when it holds right-to-left letters or
// bidirectional controls. A right-to-left override in a name would otherwise
// turn the rest of the line around, the id and the time vigie writes after
// it included, so that "Bob\u202e)24 di(" shows as "Bob(id 42)". It goes
// between a first strong isolate and a pop directional isolate, which end
// whatever s opened; the isolates s holds itself are dropped, as one of them
// could close vigie's early.
func IsolateBidi(s string) string {
	if !strings.ContainsFunc(s, turnsText) {
		return s
	}
	s = strings.Map(func(r rune) rune {
		if r >= '\u2066' && r <= '\u2069' {
			return -1
		}
		return r
	}, s)
	return "\u2068" + s + "\u2069"
}

// turnsText reports whether r is a bidirectional control or a letter of a
// right-to-left script.
func turnsText(r rune) bool {
	switch {
	case r == '\u200e', r == '\u200f', r == '\u061c', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko)
}
