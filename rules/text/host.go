package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/net/idna"
)

// unicodeHost decodes the punycode labels (xn--…) of a lower-case host name to
// the letters a browser shows, so that the look-alike check sees them:
// xn--dscord-pvf.gift is dіscord.gift with a Cyrillic і. A label that does not
// decode stays as written.
func unicodeHost(h string) string {
	if !strings.Contains(h, "xn--") {
		return h
	}
	u, _ := idna.Punycode.ToUnicode(h)
	if u == "" {
		return h
	}
	return u
}

// skeleton reduces a host name to what a reader sees at a glance, so that two
// hosts with the same skeleton can pass for each other: look-alike letters of
// other scripts folded to Latin, digits read as the letters they imitate
// (0 o, 1 l, 3 e, 4 a, 5 s, 7 t), i and l alike, "rn" read as "m" and "vv" as
// "w", hyphens dropped and doubled letters counted once.
//
// The letters are folded as words are (fold), then what fold leaves outside
// ASCII is read through Unicode's confusables (UTS #39): Armenian ա for w,
// Hebrew ו for l, Arabic ه and the digit zeros of Indic scripts for o, and the
// other look-alikes a hand table misses.
func skeleton(h string) string {
	var buf [64]byte
	return string(appendSkeleton(buf[:0], h))
}

// appendSkeleton appends the skeleton of h to dst.
func appendSkeleton(dst []byte, h string) []byte {
	start := len(dst)
	out := dst
	var folded [48]rune
	for i := 0; i < len(h); {
		rs, n := fold(h[i:], folded[:0])
		i += n
		if hasNonASCII(rs) {
			rs = confusable(rs)
		}
		for _, r := range rs {
			switch r {
			case '-', '_':
				continue
			case '0':
				r = 'o'
			case '1', 'i', '|', '!':
				r = 'l'
			case '3':
				r = 'e'
			case '4', '@':
				r = 'a'
			case '5', '$':
				r = 's'
			case '7':
				r = 't'
			}
			out = utf8.AppendRune(out, r)
		}
	}
	// rn → m, vv → w, then runs of one letter to one
	res := out[:start]
	for i := start; i < len(out); i++ {
		c := out[i]
		if i+1 < len(out) {
			switch {
			case c == 'r' && out[i+1] == 'n':
				c = 'm'
				i++
			case c == 'v' && out[i+1] == 'v':
				c = 'w'
				i++
			}
		}
		if len(res) > start && res[len(res)-1] == c {
			continue
		}
		res = append(res, c)
	}
	return res
}

func hasNonASCII(rs []rune) bool {
	for _, r := range rs {
		if r >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// confusable replaces each rune outside ASCII by the prototype UTS #39 gives
// it, in lower case; a rune without one stays.
func confusable(rs []rune) []rune {
	var out []rune
	for _, r := range rs {
		if r < utf8.RuneSelf {
			out = append(out, r)
			continue
		}
		for _, c := range confusables.Skeleton(string(r)) {
			out = append(out, unicode.ToLower(c))
		}
	}
	return out
}
