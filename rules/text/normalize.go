package text

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The normaliser folds one rune of the input at a time into zero or more runes of
// the comparable form: compatibility decomposition (NFKD, which also undoes
// fullwidth letters, ligatures and mathematical letters), combining marks dropped
// (é → e), lower case, and look-alike letters of other scripts mapped to Latin.
// Folding rune by rune, without building a normalised copy of the whole text,
// keeps every folded rune tied to its place in the original, so word boundaries
// survive and Analyze needs no intermediate string.

// fold appends to out the folded runes of the rune that starts s, and returns
// them with that rune's size in s. Runes that only hide things (zero-width,
// format and control characters, combining marks) fold to nothing.
func fold(s string, out []rune) ([]rune, int) {
	c := s[0]
	if c < utf8.RuneSelf {
		switch {
		case 'A' <= c && c <= 'Z':
			out = append(out, rune(c+'a'-'A'))
		case c < ' ' && !isASCIISpace(c), c == 0x7f:
			// control characters: dropped, so they cannot split a word
		default:
			out = append(out, rune(c))
		}
		return out, 1
	}
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return out, size
	}
	if l, ok := letterSymbol(r); ok {
		return append(out, l), size
	}
	if d := norm.NFKD.PropertiesString(s).Decomposition(); d != nil {
		// Accents are dropped from Latin, Greek and Cyrillic letters only: in
		// other scripts a mark changes the word (Japanese バ is not ハ).
		if base, _ := utf8.DecodeRune(d); !accented(base) && norm.NFD.PropertiesString(s).Decomposition() != nil {
			return foldDecomposed(r, out), size
		}
		for len(d) > 0 {
			dr, n := utf8.DecodeRune(d)
			d = d[n:]
			out = foldDecomposed(dr, out)
		}
		return out, size
	}
	return foldDecomposed(r, out), size
}

// foldDecomposed folds a rune that NFKD leaves alone.
func foldDecomposed(r rune, out []rune) []rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(out, r)
	}
	if isInvisible(r) {
		return out
	}
	// Upper-case look-alikes first: Cyrillic Н looks like H but its lower case н does not.
	if l, ok := upperLookalike(r); ok {
		return append(out, l)
	}
	r = unicode.ToLower(r)
	switch r {
	// Latin letters without a decomposition.
	case 'ß':
		return append(out, 's', 's')
	case 'æ':
		return append(out, 'a', 'e')
	case 'œ':
		return append(out, 'o', 'e')
	}
	if l, ok := lowerLookalike(r); ok {
		return append(out, l)
	}
	return append(out, r)
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// isInvisible reports runes that render as nothing or as an optional accent
// and are used to break up or disguise words: zero-width spaces and joiners,
// soft hyphens, BOM, tags, variation selectors, control characters, and the
// combining accents of Latin, Greek and Cyrillic (and optional Arabic and
// Hebrew vowel points). Marks that change a word in its script are kept.
func isInvisible(r rune) bool {
	switch {
	case r == '\u00ad', r == '\u034f', r == '\u180e',
		'\u200b' <= r && r <= '\u200f', '\u2060' <= r && r <= '\u2064', r == '\ufeff',
		0x0300 <= r && r <= 0x036f, 0x1ab0 <= r && r <= 0x1aff, 0x1dc0 <= r && r <= 0x1dff,
		0x20d0 <= r && r <= 0x20ff, 0xfe00 <= r && r <= 0xfe0f, 0xfe20 <= r && r <= 0xfe2f,
		0xe0000 <= r && r <= 0xe01ef,
		0x0591 <= r && r <= 0x05c7, 0x0610 <= r && r <= 0x061a, 0x064b <= r && r <= 0x065f, r == 0x0670:
		return true
	}
	return unicode.In(r, unicode.Me, unicode.Cf, unicode.Cc)
}

// accented reports letters of the scripts whose accents readers and writers
// treat as optional: Latin, Greek, Cyrillic.
func accented(r rune) bool {
	return r < 0x250 || 0x370 <= r && r <= 0x52f || 0x1e00 <= r && r <= 0x1fff
}

// isMark reports combining marks that are part of a word (not dropped by
// isInvisible): they continue the open word whatever its script.
func isMark(r rune) bool {
	return r >= 0x300 && unicode.In(r, unicode.Mn, unicode.Mc)
}

// letterSymbol maps the symbols that stand for a Latin letter and that NFKD
// does not decompose, or decomposes into more than the letter: regional
// indicators (🇫 🇺), negative circled and squared letters (🅐 🅰), letters in
// parentheses (⒜ 🄐, NFKD "(a)" "(A)").
func letterSymbol(r rune) (rune, bool) {
	switch {
	case r < 0x249c:
		return 0, false
	case r <= 0x24b5:
		return 'a' + r - 0x249c, true
	case 0x1f110 <= r && r <= 0x1f129: // 🄐, NFKD "(A)"
		return 'a' + r - 0x1f110, true
	case 0x1f150 <= r && r <= 0x1f169:
		return 'a' + r - 0x1f150, true
	case 0x1f170 <= r && r <= 0x1f189:
		return 'a' + r - 0x1f170, true
	case 0x1f1e6 <= r && r <= 0x1f1ff:
		return 'a' + r - 0x1f1e6, true
	}
	return 0, false
}

// upperLookalike maps capitals of other scripts that look like a Latin capital
// but whose lower case does not look like the Latin lower case.
func upperLookalike(r rune) (rune, bool) {
	switch r {
	case 'В', 'Β':
		return 'b', true
	case 'Н', 'Η':
		return 'h', true
	case 'М', 'Μ':
		return 'm', true
	case 'Т', 'Τ':
		return 't', true
	case 'К', 'Κ':
		return 'k', true
	case 'Ν':
		return 'n', true
	case 'Ζ':
		return 'z', true
	case 'Ρ', 'Р':
		return 'p', true
	case 'Υ', 'У', 'Ү':
		return 'y', true
	case 'Χ', 'Х':
		return 'x', true
	}
	if 0xab70 <= r && r <= 0xabbf {
		r -= 0xab70 - 0x13a0 // small Cherokee letters look like the capitals
	}
	if 0x13a0 <= r && r <= 0x13f5 || 0xa4d0 <= r && r <= 0xa4fd {
		return cherokeeLisu(r)
	}
	return 0, false
}

// cherokeeLisu maps the Cherokee and Lisu letters that are drawn like Latin
// capitals, a favourite of "fancy text" generators.
func cherokeeLisu(r rune) (rune, bool) {
	switch r {
	case 'Ꭺ', 'ꓮ':
		return 'a', true
	case 'Ᏼ', 'ꓐ':
		return 'b', true
	case 'Ꮯ', 'ꓚ':
		return 'c', true
	case 'Ꭰ', 'ꓓ':
		return 'd', true
	case 'Ꭼ', 'ꓰ':
		return 'e', true
	case 'ꓝ':
		return 'f', true
	case 'Ꮐ', 'ꓖ':
		return 'g', true
	case 'Ꮋ', 'ꓧ':
		return 'h', true
	case 'Ꭵ', 'ꓲ':
		return 'i', true
	case 'Ꭻ', 'ꓙ':
		return 'j', true
	case 'Ꮶ', 'ꓗ':
		return 'k', true
	case 'Ꮮ', 'ꓡ':
		return 'l', true
	case 'Ꮇ', 'ꓟ':
		return 'm', true
	case 'ꓠ':
		return 'n', true
	case 'Ꮎ', 'ꓳ':
		return 'o', true
	case 'Ꮲ', 'ꓑ':
		return 'p', true
	case 'Ꭱ', 'ꓣ':
		return 'r', true
	case 'Ꮪ', 'ꓢ':
		return 's', true
	case 'Ꭲ', 'ꓔ':
		return 't', true
	case 'ꓴ':
		return 'u', true
	case 'Ꮩ', 'ꓦ':
		return 'v', true
	case 'Ꮃ', 'ꓪ':
		return 'w', true
	case 'ꓫ':
		return 'x', true
	case 'ꓬ':
		return 'y', true
	case 'Ꮓ', 'ꓜ':
		return 'z', true
	}
	return 0, false
}

// lowerLookalike maps lower-case letters that readers take for Latin ones:
// Cyrillic and Greek homoglyphs, small capitals, and Latin letters that have no
// decomposition (ø, ł, đ).
func lowerLookalike(r rune) (rune, bool) {
	switch r {
	// Cyrillic
	case 'а':
		return 'a', true
	case 'в':
		return 'b', true
	case 'е', 'ё', 'є':
		return 'e', true
	case 'к':
		return 'k', true
	case 'м':
		return 'm', true
	case 'н', 'һ':
		return 'h', true
	case 'о':
		return 'o', true
	case 'р':
		return 'p', true
	case 'с':
		return 'c', true
	case 'т':
		return 't', true
	case 'у', 'ү':
		return 'y', true
	case 'х':
		return 'x', true
	case 'і', 'ї':
		return 'i', true
	case 'ј':
		return 'j', true
	case 'ѕ':
		return 's', true
	case 'ԁ':
		return 'd', true
	case 'ӏ':
		return 'l', true
	case 'ԛ':
		return 'q', true
	case 'ԝ':
		return 'w', true
	case 'ɡ':
		return 'g', true
	// Greek
	case 'α':
		return 'a', true
	case 'β':
		return 'b', true
	case 'γ':
		return 'y', true
	case 'ε':
		return 'e', true
	case 'η':
		return 'n', true
	case 'ι':
		return 'i', true
	case 'κ':
		return 'k', true
	case 'μ', 'υ':
		return 'u', true
	case 'ν':
		return 'v', true
	case 'ο', 'σ':
		return 'o', true
	case 'ρ':
		return 'p', true
	case 'τ':
		return 't', true
	case 'χ':
		return 'x', true
	case 'ω':
		return 'w', true
	// Armenian
	case 'օ':
		return 'o', true
	case 'ս':
		return 'u', true
	case 'ո':
		return 'n', true
	case 'հ':
		return 'h', true
	// Latin without decomposition, and small capitals
	case 'ø', 'ᴏ':
		return 'o', true
	case 'ł', 'ʟ':
		return 'l', true
	case 'đ', 'ð', 'ᴅ':
		return 'd', true
	case 'ħ', 'ʜ':
		return 'h', true
	case 'ŧ', 'ᴛ':
		return 't', true
	case 'ı', 'ɪ':
		return 'i', true
	case 'ȷ', 'ᴊ':
		return 'j', true
	case 'ɑ', 'ᴀ':
		return 'a', true
	case 'ʙ':
		return 'b', true
	case 'ᴄ':
		return 'c', true
	case 'ᴇ':
		return 'e', true
	case 'ɢ':
		return 'g', true
	case 'ᴋ':
		return 'k', true
	case 'ᴍ':
		return 'm', true
	case 'ɴ':
		return 'n', true
	case 'ᴘ':
		return 'p', true
	case 'ʀ':
		return 'r', true
	case 'ꜱ':
		return 's', true
	case 'ᴜ':
		return 'u', true
	case 'ᴠ':
		return 'v', true
	case 'ᴡ':
		return 'w', true
	case 'ʏ':
		return 'y', true
	case 'ᴢ':
		return 'z', true
	// Greek letters in other shapes
	case 'ϲ':
		return 'c', true
	case 'ϳ':
		return 'j', true
	case 'ϱ':
		return 'p', true
	// Latin letters with a hook or a bar, the other stock of "fancy text"
	case 'ƀ', 'ɓ', 'ƅ':
		return 'b', true
	case 'ƈ', 'ȼ':
		return 'c', true
	case 'ɗ', 'ɖ':
		return 'd', true
	case 'ɛ', 'ɇ':
		return 'e', true
	case 'ƒ', 'ꜰ': // ꜰ: the small capital F of "fancy text" (ᴀʙᴄᴅᴇꜰɢʜ…)
		return 'f', true
	case 'ɠ', 'ǥ':
		return 'g', true
	case 'ɦ':
		return 'h', true
	case 'ɨ', 'ɩ':
		return 'i', true
	case 'ɉ':
		return 'j', true
	case 'ƙ':
		return 'k', true
	case 'ɱ':
		return 'm', true
	case 'ɲ', 'ŋ':
		return 'n', true
	case 'ƥ', 'ᵽ':
		return 'p', true
	case 'ʠ':
		return 'q', true
	case 'ɽ', 'ɍ':
		return 'r', true
	case 'ʂ':
		return 's', true
	case 'ƭ', 'ʈ':
		return 't', true
	case 'ʉ':
		return 'u', true
	case 'ʋ':
		return 'v', true
	case 'ⱳ':
		return 'w', true
	case 'ƴ', 'ɏ':
		return 'y', true
	case 'ȥ', 'ƶ':
		return 'z', true
	}
	return 0, false
}

// leet maps the digits and symbols people put in a word in place of a letter.
// '1' stands for i or l: the alternative is tried separately (see token.forms).
func leet(r rune) (rune, bool) {
	switch r {
	case '0':
		return 'o', true
	case '1':
		return 'i', true
	case '3', '€':
		return 'e', true
	case '4', '@':
		return 'a', true
	case '5', '$':
		return 's', true
	case '7':
		return 't', true
	case '8':
		return 'b', true
	case '9':
		return 'g', true
	}
	return 0, false
}

// isWordRune reports whether a folded rune belongs to a word. Leet symbols do,
// so that "a$$" and "c0n" stay one word.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '@' || r == '$'
	}
	return r == '€' || unicode.IsLetter(r) || unicode.IsDigit(r) || isMark(r)
}

// isUnspaced reports scripts written without spaces between words: each of their
// characters is a token, so a list entry in them matches as a sequence of
// characters anywhere.
func isUnspaced(r rune) bool {
	return r >= 0x2e80 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}
