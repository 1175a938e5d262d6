package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// span is a half-open byte range, in Analysis.Text or in Analysis.buf.
type span struct{ lo, hi int32 }

func (s span) empty() bool { return s.hi <= s.lo }

// token is one word of the text in its comparable forms. The forms live in the
// Analysis buffer, so a message costs no string per word.
type token struct {
	src span // where the word is in the text as written
	// form[0] is the folded word (case, accents, width, look-alikes) with
	// leetspeak read as letters; form[1], when set, reads '1' as l, not i.
	form [2]span
	// coll holds form with every run of a repeated letter collapsed to one, only
	// when the word is stretched (a letter three times or more in a row): "nuuul".
	coll  [2]span
	flags tokenFlags
}

type tokenFlags uint8

const (
	single    tokenFlags = 1 << iota // one rune
	letter                           // has a letter, not only digits and symbols
	unspaced                         // a character of a script written without spaces
	leetSym                          // has a digit or symbol that may stand for a letter
	leetOne                          // has a '1'
	stretch                          // read as letters, has a rune three times in a row
	joined                           // rejoined from spaced-out letters
	mentioned                        // the name of a mention (set by fingerprint, see mention)
)

// forms lists the spellings of t to look up: form[0] always; form[1] when '1' may
// stand for l rather than i.
func (t *token) forms() int {
	if t.form[1].empty() {
		return 1
	}
	return 2
}

// censoredWord is a word written with symbols in place of some letters, "f*ck",
// "sh!t", "b*tch", "f**k": tokens first to last, glued by one to three
// censoring symbols, read as one word whose form has a '*' for each symbol.
type censoredWord struct {
	first, last int32
	form        span
	runes       int32 // runes of form
}

// tokenizer splits folded text into tokens, writing their forms into buf.
type tokenizer struct {
	text string
	buf  []byte
	toks []token
	cens []censoredWord
	// links are the places of the links in text: a URL's "#" and "_" are not
	// censoring
	links []span
	cur   token
	in    bool // a token is open
	at    int  // byte offset in text of the rune being folded
	next  int  // byte offset just after it; a token's source covers the
	// invisible characters inside it, not those after it

	// of the open token: rune count, last rune read as a letter, its run
	runes, run int
	last       rune
}

// tokenize fills buf and toks with the words of s: fold, split, rejoin spaced
// letters, then leetspeak and stretched-letter forms; and, when links is not
// nil, cens with the censored words outside the links.
func tokenize(s string, buf []byte, toks []token, cens []censoredWord, links []span) ([]byte, []token, []censoredWord) {
	z := tokenizer{text: s, buf: buf[:0], toks: toks[:0], cens: cens[:0], links: links}
	var folded [48]rune // NFKD expands one rune to 18 at most
	for i := 0; i < len(s); {
		z.at, z.next = i, i+1
		if c := s[i]; c < utf8.RuneSelf {
			if c == '&' {
				if r, n := entityAt(s[i:]); n > 0 {
					// a character reference is read as its character
					z.next = i + n
					if r < utf8.RuneSelf {
						z.ascii(byte(r))
					} else {
						var enc [utf8.UTFMax]byte
						k := utf8.EncodeRune(enc[:], r)
						rs, _ := fold(string(enc[:k]), folded[:0])
						for _, r := range rs {
							z.add(r)
						}
					}
					i += n
					continue
				}
			}
			// ASCII, most of the text: fold inline.
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
				// a run of letters, most of a word: the first through
				// addWord, which opens the token if need be, the others
				// appended at once
				z.addWord(rune(c | 0x20))
				i = z.letters(s, i+1)
				continue
			case '0' <= c && c <= '9', c == '@', c == '$':
				z.addWord(rune(c))
			case c < ' ' && !isASCIISpace(c), c == 0x7f:
				// control characters: dropped, so they cannot split a word
			default:
				z.close()
			}
			i++
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		z.next = i + n
		rs, n := fold(s[i:], folded[:0])
		for _, r := range rs {
			z.add(r)
		}
		i += n
	}
	z.close()
	z.rejoin()
	for i := range z.toks {
		z.spell(&z.toks[i])
	}
	if links != nil {
		z.censor()
	}
	return z.buf, z.toks, z.cens
}

// ascii receives one ASCII character of the text (the loop of tokenize has
// its own copy, inline).
func (z *tokenizer) ascii(c byte) {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '@', c == '$':
		z.addWord(rune(c))
	case 'A' <= c && c <= 'Z':
		z.addWord(rune(c + 'a' - 'A'))
	case c < ' ' && !isASCIISpace(c), c == 0x7f:
		// control characters: dropped, so they cannot split a word
	default:
		z.close()
	}
}

// add receives one folded rune.
func (z *tokenizer) add(r rune) {
	if !isWordRune(r) {
		z.close()
		return
	}
	if z.in && isMark(r) {
		z.buf = utf8.AppendRune(z.buf, r)
		z.cur.form[0].hi = int32(len(z.buf))
		z.cur.src.hi = int32(z.next)
		return
	}
	z.addWord(r)
}

// addWord adds a folded word rune to the open token, or opens one.
func (z *tokenizer) addWord(r rune) {
	var f tokenFlags
	if r >= 0x2e80 && isUnspaced(r) {
		f = unspaced
	}
	if z.in && (f|z.cur.flags)&unspaced != 0 {
		z.close()
	}
	if !z.in {
		z.in = true
		n := int32(len(z.buf))
		z.cur = token{src: span{int32(z.at), 0}, form: [2]span{{n, n}}, flags: f}
		z.runes, z.run, z.last = 0, 0, -1
	}
	if r < utf8.RuneSelf {
		z.buf = append(z.buf, byte(r))
	} else {
		z.buf = utf8.AppendRune(z.buf, r)
	}
	z.cur.form[0].hi = int32(len(z.buf))
	z.cur.src.hi = int32(z.next)
	z.runes++
	if l, ok := leet(r); ok {
		f |= leetSym
		if r == '1' {
			f |= leetOne
		}
		r = l
	} else if r > '9' {
		f |= letter
	}
	if r == z.last {
		if z.run++; z.run >= 3 {
			f |= stretch
		}
	} else {
		z.last, z.run = r, 1
	}
	z.cur.flags |= f
}

// letters appends the ASCII letters of s from i on to the open token, folded
// to lower case, as addWord does one by one, and returns where they end. The
// open token is of a spaced script (an ASCII letter ended any other).
func (z *tokenizer) letters(s string, i int) int {
	var f tokenFlags
	start := i
	for ; i < len(s); i++ {
		c := s[i] | 0x20 // lower case, for a letter
		if c < 'a' || c > 'z' {
			break
		}
		z.buf = append(z.buf, c)
		if rune(c) == z.last {
			if z.run++; z.run >= 3 {
				f |= stretch
			}
		} else {
			z.last, z.run = rune(c), 1
		}
	}
	if i > start {
		z.runes += i - start
		z.cur.form[0].hi = int32(len(z.buf))
		z.cur.src.hi = int32(i)
		z.cur.flags |= f | letter
	}
	return i
}

func (z *tokenizer) close() {
	if !z.in {
		return
	}
	z.in = false
	if z.runes == 1 {
		z.cur.flags |= single
	}
	z.toks = append(z.toks, z.cur)
}

// wordFlags computes the flags of a folded word, as addWord does rune by rune.
func wordFlags(b []byte) tokenFlags {
	var f tokenFlags
	last, run := rune(-1), 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if l, ok := leet(r); ok {
			f |= leetSym
			if r == '1' {
				f |= leetOne
			}
			r = l
		} else if r > '9' {
			f |= letter
		}
		if r == last {
			if run++; run >= 3 {
				f |= stretch
			}
		} else {
			last, run = r, 1
		}
	}
	return f
}

// rejoinMin is how many single letters in a row are read as one spaced-out word
// ("c o n n a r d", "i.d.i.o.t"); two are too common in ordinary text ("y a").
const rejoinMin = 3

// rejoin merges runs of single-letter tokens separated by one short separator
// into one token.
func (z *tokenizer) rejoin() {
	// the tokens are written back in place, from w on: up to the first run
	// joined (in most messages there is none) each stays where it is,
	// rather than being copied onto itself
	w := 0
	for i := 0; i < len(z.toks); {
		j := i + 1
		letters := z.toks[i].flags & letter
		if z.joinable(i) {
			// Every gap must be the same: "i.d.i.o.t c o n" is two words.
			sep := ""
			for j < len(z.toks) && z.joinable(j) {
				lo, hi := z.toks[j-1].src.hi, z.toks[j].src.lo
				if lo >= hi { // two tokens out of one rune, as in ½
					break
				}
				gap := z.text[lo:hi]
				if !spacedOut(gap) || sep != "" && gap != sep {
					break
				}
				sep = gap
				letters |= z.toks[j].flags & letter
				j++
			}
		}
		if j-i < rejoinMin || letters == 0 {
			// A run begun inside this one ends where it does, with its gap,
			// fewer tokens and no more letters: it is not joined either.
			// Only its last token may begin a run of another gap. Read
			// again from each, "1 1 1 …" took time in the square of its
			// length.
			for next := max(j-1, i+1); i < next; i++ {
				if w != i {
					z.toks[w] = z.toks[i]
				}
				w++
			}
			continue
		}
		t := token{src: span{z.toks[i].src.lo, z.toks[j-1].src.hi}, form: [2]span{{lo: int32(len(z.buf))}}}
		for k := i; k < j; k++ {
			r := z.toks[k].form[0]
			z.buf = append(z.buf, z.buf[r.lo:r.hi]...)
		}
		t.form[0].hi = int32(len(z.buf))
		t.flags = wordFlags(z.buf[t.form[0].lo:t.form[0].hi]) | joined
		z.toks[w] = t
		w++
		i = j
	}
	z.toks = z.toks[:w]
}

func (z *tokenizer) joinable(i int) bool {
	return z.toks[i].flags&(single|unspaced) == single
}

// spacedOut reports whether gap, the text between two single letters, is one to
// three spacing characters, as in "c o n", "c.o.n", "c - o - n". A space may be
// any of Unicode's (a no-break space, an em space, the ideographic space): they
// look like the ASCII one and spread letters as well.
func spacedOut(gap string) bool {
	if len(gap) == 0 || len(gap) > 9 {
		return false
	}
	n := 0
	for i := 0; i < len(gap); n++ {
		if n == 3 {
			return false
		}
		c := gap[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(gap[i:])
			if !unicode.Is(unicode.Zs, r) {
				return false
			}
			i += size
			continue
		}
		switch c {
		case ' ', '.', '-', '_', '*', '/', '|':
		default:
			return false
		}
		i++
	}
	return true
}

// spell computes the forms of t: leetspeak read as letters when the word mixes
// letters and leet symbols, and the collapsed spelling of stretched words.
func (z *tokenizer) spell(t *token) {
	if t.flags&letter == 0 {
		return // a number or symbols: nothing to read differently
	}
	raw := t.form[0]
	if t.flags&leetSym != 0 {
		t.form[0] = z.leetForm(raw, 'i')
		if t.flags&leetOne != 0 {
			t.form[1] = z.leetForm(raw, 'l')
		}
	}
	if t.flags&stretch != 0 {
		t.coll[0] = z.collapse(t.form[0])
	}
	if f := t.form[1]; !f.empty() && wordFlags(z.buf[f.lo:f.hi])&stretch != 0 {
		t.coll[1] = z.collapse(f)
	}
}

// leetForm appends the letters raw stands for, reading '1' as one.
func (z *tokenizer) leetForm(raw span, one rune) span {
	out := span{lo: int32(len(z.buf))}
	for i := raw.lo; i < raw.hi; {
		r, n := utf8.DecodeRune(z.buf[i:raw.hi])
		i += int32(n)
		if r == '1' {
			r = one
		} else if l, ok := leet(r); ok {
			r = l
		}
		z.buf = utf8.AppendRune(z.buf, r)
	}
	out.hi = int32(len(z.buf))
	return out
}

// collapse appends f with every run of one rune reduced to a single rune.
func (z *tokenizer) collapse(f span) span {
	out := span{lo: int32(len(z.buf))}
	var prev rune = -1
	for i := f.lo; i < f.hi; {
		r, n := utf8.DecodeRune(z.buf[i:f.hi])
		i += int32(n)
		if r != prev {
			z.buf = utf8.AppendRune(z.buf, r)
			prev = r
		}
	}
	out.hi = int32(len(z.buf))
	return out
}

// collapseString is collapse for list entries.
func collapseString(s string) string {
	b := make([]byte, 0, len(s))
	var prev rune = -1
	for _, r := range s {
		if r != prev {
			b = utf8.AppendRune(b, r)
			prev = r
		}
	}
	return string(b)
}

// censorRune reports the symbols people write in place of letters to censor a
// word themselves: f*ck, sh!t, f#ck. Not the underscore: it joins the words
// of user names and hashtags far more often than it hides a letter.
func censorRune(r rune) bool {
	switch r {
	case '*', '!', '#', '%', '?', '^', '•', '·', '∗', '⁎', '×', '＊', '！', '＃':
		return true
	}
	return false
}

// censorNext reports whether the text at i starts with a censoring symbol.
func (z *tokenizer) censorNext(i int) bool {
	c := z.text[i]
	if c < utf8.RuneSelf {
		switch c {
		case '*', '!', '#', '%', '?', '^':
			return true
		}
		return false
	}
	r, _ := utf8.DecodeRuneInString(z.text[i:])
	return censorRune(r) || isInvisible(r)
}

// glued reports whether token i is followed by censoring symbols and then by
// the next token, or by two stars or more.
func (z *tokenizer) glued(i int) bool {
	hi := int(z.toks[i].src.hi)
	if i+1 < len(z.toks) && int(z.toks[i+1].src.lo) > hi && censorGap(z.text[hi:z.toks[i+1].src.lo]) > 0 {
		return true
	}
	return hi+1 < len(z.text) && z.text[hi] == '*' && z.text[hi+1] == '*'
}

// censorGap returns how many censoring symbols gap is made of (1 to 3), or 0
// when it is anything else.
func censorGap(gap string) int {
	n := 0
	for _, r := range gap {
		if !censorRune(r) && !isInvisible(r) {
			return 0
		}
		if censorRune(r) {
			n++
		}
	}
	if n > 3 {
		return 0
	}
	return n
}

// censor finds the censored words: tokens glued by censoring symbols ("f*ck",
// "a**hole", "sh!t"), or one word ending in two or three stars ("fu**"). The
// tokens stay as they are, so that glued innocent words are still read alone;
// a censored word only adds a reading that matches an entry of its length.
//
// It also gives a word rejoined from spaced-out letters a second reading
// without its first letter when that letter is a word of its own: in
// "such a s l u t" the a is an article; and, when one star parts its letters,
// a reading with the stars as censored letters: "m*r*n" is "mrn" spaced out,
// or "moron" with its vowels starred.
func (z *tokenizer) censor() {
	next := 0 // next link
	for i := 0; i < len(z.toks); i++ {
		t := &z.toks[i]
		if t.flags&unspaced != 0 || t.flags&(letter|leetSym) == 0 {
			continue
		}
		for next < len(z.links) && z.links[next].hi <= t.src.lo {
			next++
		}
		if next < len(z.links) && z.links[next].lo < t.src.hi {
			continue
		}
		if t.flags&joined != 0 && z.spacedByStars(t) {
			lo, n := int32(len(z.buf)), 0
			for k, r := range string(z.buf[t.form[0].lo:t.form[0].hi]) {
				if k > 0 {
					z.buf = append(z.buf, '*')
				}
				z.buf = utf8.AppendRune(z.buf, r)
				n++
			}
			z.cens = append(z.cens, censoredWord{first: int32(i), last: int32(i),
				form: span{lo, int32(len(z.buf))}, runes: int32(2*n - 1)})
		}
		if t.flags&joined != 0 && t.form[0].hi-t.form[0].lo >= 4 && z.spacedBySpaces(t) {
			switch z.buf[t.form[0].lo] {
			case 'a', 'y', 's':
				if r := utf8.RuneCount(z.buf[t.form[0].lo+1 : t.form[0].hi]); r >= 3 {
					z.cens = append(z.cens, censoredWord{first: int32(i), last: int32(i),
						form: span{t.form[0].lo + 1, t.form[0].hi}, runes: int32(r)})
				}
			}
		}
		// most words are followed by a space: look at the next byte first
		if end := int(t.src.hi); end >= len(z.text) || !z.censorNext(end) || !z.glued(i) {
			continue
		}
		lo := int32(len(z.buf))
		z.appendRead(t)
		stars, letters, starOnly := 0, utf8.RuneCount(z.buf[lo:]), true
		hasLetter := t.flags&letter != 0
		j := i
		for j+1 < len(z.toks) && z.toks[j+1].flags&unspaced == 0 {
			if z.toks[j].src.hi >= z.toks[j+1].src.lo {
				break // two tokens out of one rune, as in ½
			}
			gap := z.text[z.toks[j].src.hi:z.toks[j+1].src.lo]
			k := censorGap(gap)
			if k == 0 {
				break
			}
			if starOnly {
				for _, r := range gap {
					if r != '*' && r != '\u2217' && r != '\u204e' && r != '\uff0a' && !isInvisible(r) {
						starOnly = false
					}
				}
			}
			for range k {
				z.buf = append(z.buf, '*')
			}
			j++
			n := len(z.buf)
			z.appendRead(&z.toks[j])
			stars += k
			letters += utf8.RuneCount(z.buf[n:])
			hasLetter = hasLetter || z.toks[j].flags&letter != 0
		}
		if j == i {
			// "fu**", "sh**": two or three stars ending a word that does not
			// start after stars (markdown's **bold** is not censoring)
			end := int(t.src.hi)
			k := 0
			for end+k < len(z.text) && z.text[end+k] == '*' {
				k++
			}
			before := int(t.src.lo) - 1
			if k < 2 || k > 3 || before >= 0 && z.text[before] == '*' ||
				end+k < len(z.text) && !isASCIIFieldSep(z.text[end+k]) && !strings.ContainsRune(".,;:!?)", rune(z.text[end+k])) {
				z.buf = z.buf[:lo]
				continue
			}
			for range k {
				z.buf = append(z.buf, '*')
			}
			stars = k
		}
		runes := letters + stars
		// enough letters to tell the word, one of them written as a letter
		// ("5*3" is arithmetic); a short word only with stars, the
		// unambiguous censoring symbol ("c*n" yes, "o_o" no)
		if !hasLetter || letters < 2 || stars > letters || runes < 3 || runes < 4 && !starOnly {
			z.buf = z.buf[:lo]
			continue
		}
		z.cens = append(z.cens, censoredWord{first: int32(i), last: int32(j),
			form: span{lo, int32(len(z.buf))}, runes: int32(runes)})
		i = j
	}
}

// spacedByStars reports whether the joined token t was spelt with one
// censoring star between its letters ("m*r*n", not "m * r * n" nor "m.r.n"):
// the gaps of a joined token are all the same.
func (z *tokenizer) spacedByStars(t *token) bool {
	src := z.text[t.src.lo:t.src.hi]
	_, n := utf8.DecodeRuneInString(src)
	r, m := utf8.DecodeRuneInString(src[n:])
	if r != '*' && r != '\u2217' && r != '\u204e' && r != '\uff0a' {
		return false
	}
	next, _ := utf8.DecodeRuneInString(src[n+m:])
	return !censorRune(next) && !unicode.Is(unicode.Zs, next) && next != ' '
}

// spacedBySpaces reports whether the joined token t was spelt with spaces
// between its letters ("a s l u t", not "i.d.i.o.t").
func (z *tokenizer) spacedBySpaces(t *token) bool {
	_, n := utf8.DecodeRuneInString(z.text[t.src.lo:])
	i := int(t.src.lo) + n
	if i >= int(t.src.hi) {
		return false
	}
	if c := z.text[i]; c < utf8.RuneSelf {
		return c == ' '
	}
	r, _ := utf8.DecodeRuneInString(z.text[i:])
	return unicode.Is(unicode.Zs, r)
}

// appendRead appends the letters t stands for: its form, or, for a part
// without letters ("7" in "5h*7"), its symbols read as leetspeak.
func (z *tokenizer) appendRead(t *token) {
	f := t.form[0]
	if t.flags&letter != 0 {
		z.buf = append(z.buf, z.buf[f.lo:f.hi]...)
		return
	}
	for i := f.lo; i < f.hi; {
		r, n := utf8.DecodeRune(z.buf[i:f.hi])
		i += int32(n)
		if l, ok := leet(r); ok {
			r = l
		}
		z.buf = utf8.AppendRune(z.buf, r)
	}
}
