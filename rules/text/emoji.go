package text

import "unicode/utf8"

// Emoji are counted as a reader sees them: a pictograph with its skin tone,
// variation selector and zero-width-joined companions is one; a flag (two
// regional indicators, or a black flag with tag letters) is one; a keycap is one.

const (
	zwj  = '\u200d'
	vs16 = '\ufe0f'
)

// emojiAt reports whether an emoji starts at s[0] and how many bytes it spans.
func emojiAt(s string) (size int, ok bool) {
	r, n := utf8.DecodeRuneInString(s)
	switch {
	case isRegional(r):
		if r2, n2 := utf8.DecodeRuneInString(s[n:]); isRegional(r2) {
			n += n2
		}
		return n, true
	case isPictograph(r):
		return n + emojiTail(s[n:]), true
	case r == '#' || r == '*' || '0' <= r && r <= '9':
		// keycap: digit, optional VS16, combining enclosing keycap
		rest := s[n:]
		if len(rest) >= 3 && rest[:3] == "\ufe0f" {
			rest = rest[3:]
		}
		if len(rest) >= 3 && rest[:3] == "\u20e3" {
			return len(s) - len(rest) + 3, true
		}
		return 0, false
	case r >= 0x2000 && r < 0x3300 || r == 0xa9 || r == 0xae:
		// a text symbol asked to look like an emoji: ‼️ ™️ ↔️
		if len(s) >= n+3 && s[n:n+3] == "\ufe0f" {
			return n + emojiTail(s[n:]), true
		}
	}
	return 0, false
}

// emojiTail measures what belongs to the emoji just read: modifiers, variation
// selectors, tags, and zero-width-joined pictographs.
func emojiTail(s string) int {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == vs16 || r == '\ufe0e' || isSkinTone(r) || 0xe0020 <= r && r <= 0xe007f || r == '\u20e3':
			i += n
		case r == zwj:
			r2, n2 := utf8.DecodeRuneInString(s[i+n:])
			if !isPictograph(r2) && !(r2 >= 0x2000 && r2 < 0x3300) {
				return i + n
			}
			i += n + n2
		default:
			return i
		}
	}
	return i
}

func isRegional(r rune) bool { return 0x1f1e6 <= r && r <= 0x1f1ff }
func isSkinTone(r rune) bool { return 0x1f3fb <= r && r <= 0x1f3ff }

// isPictograph covers the blocks where characters default to emoji
// presentation (Unicode's Extended_Pictographic, approximated by block).
func isPictograph(r rune) bool {
	switch {
	case r < 0x231a:
		return false
	case 0x1f000 <= r && r <= 0x1faff, 0x1fc00 <= r && r <= 0x1fffd:
		return !isRegional(r) && !(0x1f100 <= r && r <= 0x1f16f) // not enclosed letters and digits
	case 0x2600 <= r && r <= 0x27bf:
		return true
	case r == 0x231a, r == 0x231b, r == 0x2328, r == 0x23cf, 0x23e9 <= r && r <= 0x23f3, 0x23f8 <= r && r <= 0x23fa,
		0x2b05 <= r && r <= 0x2b07, r == 0x2b1b, r == 0x2b1c, r == 0x2b50, r == 0x2b55,
		r == 0x3030, r == 0x303d, r == 0x3297, r == 0x3299:
		return true
	}
	return false
}
