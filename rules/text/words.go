package text

// WordKind says where a word of the text stands.
type WordKind uint8

// Kinds of words.
const (
	// WordPlain is a word of the message itself.
	WordPlain WordKind = iota
	// WordLink is a piece of a link (a host label, a path part).
	WordLink
	// WordMention is the name of a mention (@bob, <@123>).
	WordMention
)

// EachWord calls fn with every word of the text in order, folded as word
// lists read it (case, accents, width, look-alike letters, leetspeak read as
// letters, stretched letters collapsed: "C0NNAAARD" is "connard") and with
// where it stands. The word is a slice of the analysis's buffer: fn must not
// keep it. Text classifiers read the text through it, so that a model sees
// the disguises the same way the lists do, at no cost beyond the analysis.
func (a *Analysis) EachWord(fn func(w []byte, kind WordKind)) {
	next := 0
	for i := range a.toks {
		t := &a.toks[i]
		for next < len(a.spans) && a.spans[next].hi <= t.src.lo {
			next++
		}
		kind := WordPlain
		switch {
		case next < len(a.spans) && a.spans[next].lo < t.src.hi:
			kind = WordLink
		case t.flags&mentioned != 0: // marked by the fingerprint
			kind = WordMention
		}
		fn(a.word(i), kind)
	}
}
