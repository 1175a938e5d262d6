package text

import "unicode/utf8"

// Text copied out of web pages and some APIs (tweets, YouTube comments) arrives with
// HTML character references still in it: "&#128514;" for 😂, "&amp;", "&lt;3".
// They are read as the character they stand for, so that an emoji written as a
// reference counts as an emoji and "c&#1086;nnard" (a Cyrillic о) is a word.

// entityAt reads the character reference that starts s ("&#233;", "&#xE9;",
// "&eacute;") and returns the rune and the reference's length; n is 0 when s does
// not start with one. Only references closed by ';' are read.
func entityAt(s string) (r rune, n int) {
	if len(s) < 4 || s[0] != '&' {
		return 0, 0
	}
	if s[1] == '#' {
		i, base := 2, rune(10)
		if s[2] == 'x' || s[2] == 'X' {
			i, base = 3, 16
		}
		start := i
		for i < len(s) && i-start <= 8 {
			c := s[i]
			var d rune
			switch {
			case '0' <= c && c <= '9':
				d = rune(c - '0')
			case base == 16 && 'a' <= c|0x20 && c|0x20 <= 'f':
				d = rune(c|0x20-'a') + 10
			case c == ';' && i > start:
				if r == 0 || r > utf8.MaxRune || 0xd800 <= r && r <= 0xdfff {
					return 0, 0
				}
				return r, i + 1
			default:
				return 0, 0
			}
			r = r*base + d
			i++
		}
		return 0, 0
	}
	end := 1
	for end < len(s) && end <= 9 && ('a' <= s[end]|0x20 && s[end]|0x20 <= 'z' || '0' <= s[end] && s[end] <= '9') {
		end++
	}
	if end == 1 || end >= len(s) || s[end] != ';' {
		return 0, 0
	}
	if r := namedEntity(s[1:end]); r != 0 {
		return r, end + 1
	}
	return 0, 0
}

// namedEntity knows the references that turn up in messages: markup characters,
// quotes and dashes, spaces, and the accented letters of French and its neighbours.
func namedEntity(name string) rune {
	switch name {
	case "amp":
		return '&'
	case "lt":
		return '<'
	case "gt":
		return '>'
	case "quot":
		return '"'
	case "apos":
		return '\''
	case "nbsp":
		return '\u00a0'
	case "shy":
		return '\u00ad'
	case "zwj":
		return '\u200d'
	case "zwnj":
		return '\u200c'
	case "hellip":
		return '…'
	case "lsquo":
		return '‘'
	case "rsquo":
		return '’'
	case "ldquo":
		return '“'
	case "rdquo":
		return '”'
	case "laquo":
		return '«'
	case "raquo":
		return '»'
	case "ndash":
		return '–'
	case "mdash":
		return '—'
	case "euro":
		return '€'
	case "szlig":
		return 'ß'
	case "aelig":
		return 'æ'
	case "AElig":
		return 'Æ'
	case "oelig":
		return 'œ'
	case "OElig":
		return 'Œ'
	case "ccedil":
		return 'ç'
	case "Ccedil":
		return 'Ç'
	case "ntilde":
		return 'ñ'
	case "Ntilde":
		return 'Ñ'
	case "oslash":
		return 'ø'
	case "Oslash":
		return 'Ø'
	case "hearts":
		return '♥'
	}
	// &eacute; &Agrave; &ocirc; &iuml; ...: a vowel and its accent
	if len(name) < 4 {
		return 0
	}
	base, accent := name[0], name[1:]
	i := indexByte("aeiouyAEIOUY", base)
	if i < 0 {
		return 0
	}
	var table string
	switch accent {
	case "acute":
		table = "áéíóúýÁÉÍÓÚÝ"
	case "grave":
		table = "àèìòù\x00ÀÈÌÒÙ\x00"
	case "circ":
		table = "âêîôû\x00ÂÊÎÔÛ\x00"
	case "uml":
		table = "äëïöüÿÄËÏÖÜŸ"
	default:
		return 0
	}
	for _, r := range table {
		if i == 0 {
			return r
		}
		i--
	}
	return 0
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
