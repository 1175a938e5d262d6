package text

import (
	"unicode"
	"unicode/utf8"
)

// scanEach is scan as it was before its fast path for lower-case letters and
// spaces: the reference the tests compare scan with.
func (a *Analysis) scanEach(links []span) {
	s := a.Text
	letters, upper := 0, 0
	next := 0 // next link to skip
	prev := ' '
	// the run of one character being read: unit is the character (lower
	// case), -1 after a space, a digit or a link
	unit, run, maxRun := rune(-1), 0, 0
	for i := 0; i < len(s); {
		if next < len(links) && i >= int(links[next].lo) {
			i = int(links[next].hi)
			next++
			prev = ' '
			unit = -1
			continue
		}
		switch c := s[i]; c {
		case '<':
			if n, kind := discordMarkup(s[i:]); n > 0 {
				switch kind {
				case '@':
					a.Mentions++
				case ':':
					a.Emojis++
				}
				i += n
				prev = '>'
				unit = -1
				continue
			}
		case '@':
			if !isHandleRune(prev) && prev != '.' {
				if n := handleLen(s[i+1:]); n > 0 {
					a.Mentions++
					i += 1 + n
					prev = 'x'
					unit = -1
					continue
				}
			} else if n := emailLen(s, i); n > 0 {
				a.Emails++
				i += n
				prev = 'x'
				unit = -1
				continue
			}
		case '&':
			if r, n := entityAt(s[i:]); n > 0 {
				// a character reference: counted as the character
				switch {
				case isPictograph(r) || isRegional(r):
					a.Emojis++
					if r := r; r == unit {
						run++
					} else {
						unit, run = r, 1
					}
					maxRun = max(maxRun, run)
				case isInvisible(r):
				case r < utf8.RuneSelf && isASCIISpace(byte(r)) || r == '\u00a0':
					unit = -1
				default:
					if unicode.IsLetter(r) {
						letters++
						if unicode.IsUpper(r) {
							upper++
						}
					}
					if r := unicode.ToLower(r); r == unit {
						run++
					} else {
						unit, run = r, 1
					}
					maxRun = max(maxRun, run)
				}
				prev = r
				i += n
				continue
			}
		case '+', '(', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if !isHandleRune(prev) && prev != '+' && prev != '.' && prev != ',' {
				if n := phoneLen(s[i:]); n > 0 {
					a.Phones++
					i += n
					prev = '0'
					unit = -1
					continue
				}
			}
		}
		if c := s[i]; c < utf8.RuneSelf && c != '#' && c != '*' && (c < '0' || c > '9') {
			// ASCII that cannot start an emoji
			if 'a' <= c && c <= 'z' {
				letters++
			} else if 'A' <= c && c <= 'Z' {
				letters++
				upper++
				c += 'a' - 'A'
			}
			if c <= ' ' {
				unit = -1
			} else if rune(c) == unit {
				if run++; run > maxRun {
					maxRun = run
				}
			} else {
				unit, run = rune(c), 1
				maxRun = max(maxRun, 1)
			}
			prev = rune(s[i])
			i++
			continue
		}
		if n, ok := emojiAt(s[i:]); ok {
			a.Emojis++
			r, _ := utf8.DecodeRuneInString(s[i:])
			if r := r; r == unit {
				run++
			} else {
				unit, run = r, 1
			}
			maxRun = max(maxRun, run)
			i += n
			prev = ' '
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		prev = r
		if r < utf8.RuneSelf {
			switch {
			case 'a' <= r && r <= 'z':
				letters++
			case 'A' <= r && r <= 'Z':
				letters++
				upper++
			}
			if '0' <= r && r <= '9' {
				unit = -1
			} else {
				if r := r; r == unit {
					run++
				} else {
					unit, run = r, 1
				}
				maxRun = max(maxRun, run)
			}
			continue
		}
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
			if r := unicode.ToLower(r); r == unit {
				run++
			} else {
				unit, run = r, 1
			}
			maxRun = max(maxRun, run)
		} else if unicode.IsSpace(r) {
			unit = -1
		} else if !isInvisible(r) {
			if r := r; r == unit {
				run++
			} else {
				unit, run = r, 1
			}
			maxRun = max(maxRun, run)
		}
	}
	a.MaxRun = maxRun
	if letters >= minCapsLetters {
		a.Caps = float64(upper) / float64(letters)
	}
}

// sameScan reports whether scan and scanEach count the same in s.
func sameScan(s string) (fast, each Analysis, ok bool) {
	var ls linkSet
	ls.find(s)
	ls.findSpaced(s)
	ls.findWideDots(s)
	fast, each = Analysis{Text: s}, Analysis{Text: s}
	fast.scan(ls.spans)
	each.scanEach(ls.spans)
	ok = fast.Mentions == each.Mentions && fast.Emojis == each.Emojis && fast.Emails == each.Emails &&
		fast.Phones == each.Phones && fast.MaxRun == each.MaxRun && fast.Caps == each.Caps
	return fast, each, ok
}
