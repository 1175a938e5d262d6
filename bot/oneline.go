package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
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
	return IsolateBidi(cut(OneLine(s), n))
}

// cut is s cut to n characters, "…" last.
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// MaxNameInText is how many characters of a member's name vigie's own
// words quote (NameInText).
const MaxNameInText = 64

// NameInText is s, a name someone else chose, as vigie writes it into its
// own words on any platform ({{author.name}} in a rule's warning or reply,
// an FAQ answer): shown on one line and cut (Shown), and inert: a word
// joiner (U+2060, which shows nothing) follows each "@", "/", "<", "#" and
// "]", and each "." before a letter or digit. Written as it came, a name
// would speak in vigie's voice: "@ann_cm" or "@everyone" a mention that
// pings, "/pause" a command a tap sends on Telegram, "<@42>" a Discord
// mention, "[Verify](https://…)" a link under other words,
// "scam.example/gift" or "https://scam.example" a link, "# Rules" a headline.
func NameInText(s string) string {
	s = cut(OneLine(s), MaxNameInText)
	if strings.ContainsAny(s, "@/<#].") {
		var b strings.Builder
		b.Grow(len(s) + 12)
		for i, r := range s {
			b.WriteRune(r)
			switch r {
			case '@', '/', '<', '#', ']':
				b.WriteRune('\u2060')
			case '.':
				if next, _ := utf8.DecodeRuneInString(s[i+1:]); unicode.IsLetter(next) || unicode.IsDigit(next) {
					b.WriteRune('\u2060')
				}
			}
		}
		s = b.String()
	}
	return IsolateBidi(s)
}

// InertMentions is s, others' words that vigie quotes among its own (a
// wave's examples on a crisis page, a group's title), with a word joiner
// (U+2060, which shows nothing) after each "@" that would start a mention:
// one after no letter, digit or "_", and before one. Telegram notifies a
// member mentioned even in a chat they muted: a member's "@ann_cm" quoted on
// the desk would wake the CM Ann at night, as if vigie called her. An e-mail
// address (eve@scam.example) is left whole; the words vigie quotes them
// among, a rule's own alert that calls someone on purpose, keep theirs.
func InertMentions(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 6)
	prev := rune(-1)
	for i, r := range s {
		b.WriteRune(r)
		if r == '@' && !nameChar(prev) {
			if next, _ := utf8.DecodeRuneInString(s[i+1:]); nameChar(next) {
				b.WriteRune('\u2060')
			}
		}
		prev = r
	}
	return b.String()
}

// nameChar reports whether r may be in a username as the platforms read one.
func nameChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
