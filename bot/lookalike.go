package bot

import (
	"strings"
	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Lookalike is a name as a reader takes it in at a glance, to tell whether
// two names can pass for each other: a member named "Аnn" with a Cyrillic А,
// "Ann" with a zero-width joiner, "Anո" with an Armenian ո, "A n n" or "Ａｎｎ"
// in fullwidth letters reads as the CM Ann.
//
// It is built on Unicode's confusables (UTS #39 skeletons, the table the
// link look-alike check of rules/text reads too), from the name on one line
// (OneLine), in its compatibility form (NFKC: fullwidth and mathematical
// letters become plain ones), without its spaces, its format characters
// (joiners, bidirectional controls), variation selectors and the other
// characters that show nothing, and with only the letters, digits and marks
// of its skeletons: "Ann.", "Ann ✔️" and "-Ann-" read as Ann. It holds two skeletons: that of the name in
// small letters, which tells "ian" for "Ian", and that of the name's own
// skeleton in small letters, which tells the capital look-alikes that small
// letters lose ("AIice" with a capital I for "Alice", Cherokee Ꭺ for A).
type Lookalike struct{ small, shape string }

var caseFold = cases.Fold()

// LookalikeOf is the Lookalike of the name s.
func LookalikeOf(s string) Lookalike {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || showsNothing(r) {
			return -1
		}
		return r
	}, norm.NFKC.String(OneLine(s)))
	if s == "" {
		return Lookalike{}
	}
	small := func(s string) string {
		return strings.Map(readAtAGlance, strings.ToLower(confusables.Skeleton(caseFold.String(s))))
	}
	return Lookalike{small: small(s), shape: small(confusables.Skeleton(s))}
}

// readAtAGlance keeps the letters, digits and marks of a skeleton: the
// punctuation and symbols around a name ("Ann.", "Ann ✔️", "-Ann-") do not
// make it another's at a glance.
func readAtAGlance(r rune) rune {
	if unicode.In(r, unicode.L, unicode.N, unicode.M) {
		return r
	}
	return -1
}

// showsNothing reports whether r shows nothing of its own: a format
// character (a joiner, a bidirectional control, a soft hyphen), a variation
// selector, or another of Unicode's default ignorables (a Hangul filler).
func showsNothing(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// Empty reports whether the name showed nothing to read.
func (l Lookalike) Empty() bool { return l.small == "" }

// Like reports whether the names l and o can pass for each other.
func (l Lookalike) Like(o Lookalike) bool {
	return !l.Empty() && (l.small == o.small || l.shape == o.shape)
}

// Holds reports whether the name l shows the name o within it, as
// "Ann (@ann_cm)" shows the username ann_cm.
func (l Lookalike) Holds(o Lookalike) bool {
	return !o.Empty() && (strings.Contains(l.small, o.small) || strings.Contains(l.shape, o.shape))
}

// Concat is the look of the name l followed by the name o.
func (l Lookalike) Concat(o Lookalike) Lookalike {
	return Lookalike{small: l.small + o.small, shape: l.shape + o.shape}
}

// CMName is a CM of a desk, by the names a desk knows them by.
type CMName struct {
	// ID is the CM's as desk.cms lists it: "telegram:42".
	ID string
	// Name is their display name, Username their handle (without "@").
	Name, Username string
	// Shown is how a card names them.
	Shown string
}

// PosesAsCM is how a card names the CM of cms whom the author of ev is
// named like without being them; "" for none. The author poses as a CM
// when their name is like the CM's (Lookalike), or when it holds the CM's
// username: "Ann (@ann_cm)" reads on the author's line as the CM's own
// when the author has no username. A desk of the platform desk shows the
// username of another platform's author as "(@…)" after their name: the
// CM's username is looked for there too.
func PosesAsCM(ev Event, desk string, cms []CMName) string {
	name := LookalikeOf(ev.Author.Name)
	line := name
	if ev.Platform != desk {
		line = name.Concat(LookalikeOf(ev.Author.Username))
	}
	if line.Empty() {
		return ""
	}
	author := ev.Platform + ":" + ev.Author.ID
	for _, cm := range cms {
		if cm.ID == author {
			continue
		}
		if line.Holds(LookalikeOf(cm.Username)) || name.Like(LookalikeOf(cm.Name)) {
			return cm.Shown
		}
	}
	return ""
}
