package text

import "unicode/utf8"

// span is a half-open byte range, in Analysis.Text or in Analysis.buf.
type span struct{ lo, hi int32 }

func (s span) empty() bool { return s.hi <= s.lo }

// token is one word of the text in its comparable forms. The forms live in the
// Analysis buffer, so a message costs no string per word.
type token struct {
	src  span // where the word is in the text as written
	raw  span // folded (case, accents, width, look-alikes), before leetspeak
	form [2]span
	// coll holds form with every run of a repeated letter collapsed to one, only
	// when the word is stretched (a letter three times or more in a row): "nuuul".
	coll [2]span
	// single: raw is one rune; letter: raw has a letter, not only digits or symbols.
	single, letter, unspaced bool
}

// forms lists the spellings of t to look up: form[0] always; form[1] when '1' may
// stand for l rather than i.
func (t *token) forms() int {
	if t.form[1].empty() {
		return 1
	}
	return 2
}

// tokenizer splits folded text into tokens, writing their forms into buf.
type tokenizer struct {
	text string
	buf  []byte
	toks []token
	cur  token
	in   bool // a token is open
	at   int  // byte offset in text of the rune being folded
	next int  // byte offset just after it; a token's source covers the
	// invisible characters inside it, not those after it
}

// tokenize fills buf and toks with the words of s: fold, split, rejoin spaced
// letters, then leetspeak and stretched-letter forms.
func tokenize(s string, buf []byte, toks []token) ([]byte, []token) {
	z := tokenizer{text: s, buf: buf[:0], toks: toks[:0]}
	emit := z.add
	for i := 0; i < len(s); {
		z.at, z.next = i, i+1
		if s[i] >= utf8.RuneSelf {
			_, n := utf8.DecodeRuneInString(s[i:])
			z.next = i + n
		}
		i += fold(s[i:], emit)
	}
	z.close()
	z.rejoin()
	for i := range z.toks {
		z.spell(&z.toks[i])
	}
	return z.buf, z.toks
}

// add receives one folded rune.
func (z *tokenizer) add(r rune) {
	if !isWordRune(r) {
		z.close()
		return
	}
	unspaced := isUnspaced(r)
	if z.in && (unspaced || z.cur.unspaced) {
		z.close()
	}
	if !z.in {
		z.in = true
		z.cur = token{src: span{int32(z.at), int32(z.at)}, raw: span{int32(len(z.buf)), int32(len(z.buf))}, unspaced: unspaced}
	}
	z.buf = utf8.AppendRune(z.buf, r)
	z.cur.raw.hi = int32(len(z.buf))
	z.cur.src.hi = int32(z.next)
	if r > '9' && r != '@' && r != '$' && r != '€' {
		z.cur.letter = true
	}
}

func (z *tokenizer) close() {
	if !z.in {
		return
	}
	z.in = false
	raw := z.buf[z.cur.raw.lo:z.cur.raw.hi]
	_, n := utf8.DecodeRune(raw)
	z.cur.single = n == len(raw)
	z.toks = append(z.toks, z.cur)
}

// rejoinMin is how many single letters in a row are read as one spaced-out word
// ("c o n n a r d", "i.d.i.o.t"); two are too common in ordinary text ("y a").
const rejoinMin = 3

// rejoin merges runs of single-letter tokens separated by one short separator
// into one token.
func (z *tokenizer) rejoin() {
	out := z.toks[:0]
	for i := 0; i < len(z.toks); {
		j := i + 1
		letter := z.toks[i].letter
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
				letter = letter || z.toks[j].letter
				j++
			}
		}
		if j-i < rejoinMin || !letter {
			out = append(out, z.toks[i])
			i++
			continue
		}
		t := token{src: span{z.toks[i].src.lo, z.toks[j-1].src.hi}, raw: span{int32(len(z.buf)), 0}, letter: true}
		for k := i; k < j; k++ {
			r := z.toks[k].raw
			z.buf = append(z.buf, z.buf[r.lo:r.hi]...)
		}
		t.raw.hi = int32(len(z.buf))
		out = append(out, t)
		i = j
	}
	z.toks = out
}

func (z *tokenizer) joinable(i int) bool {
	t := &z.toks[i]
	return t.single && !t.unspaced
}

// spacedOut reports whether gap, the text between two single letters, is one to
// three spacing characters, as in "c o n", "c.o.n", "c - o - n".
func spacedOut(gap string) bool {
	if len(gap) == 0 || len(gap) > 3 {
		return false
	}
	for i := 0; i < len(gap); i++ {
		switch gap[i] {
		case ' ', '.', '-', '_', '*', '/', '|':
		default:
			return false
		}
	}
	return true
}

// spell computes the forms of t: leetspeak read as letters when the word mixes
// letters and leet symbols, and the collapsed spelling of stretched words.
func (z *tokenizer) spell(t *token) {
	raw := z.buf[t.raw.lo:t.raw.hi]
	t.form[0] = t.raw
	if t.letter && hasLeet(raw) {
		t.form[0] = z.leetForm(t.raw, 'i')
		if hasOne(raw) {
			t.form[1] = z.leetForm(t.raw, 'l')
		}
	}
	for k := 0; k < t.forms(); k++ {
		f := t.form[k]
		if stretched(z.buf[f.lo:f.hi]) {
			t.coll[k] = z.collapse(f)
		}
	}
}

func hasLeet(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if _, ok := leet(r); ok {
			return true
		}
	}
	return false
}

func hasOne(b []byte) bool {
	for _, c := range b {
		if c == '1' {
			return true
		}
	}
	return false
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

// stretched reports a rune repeated three times or more in a row.
func stretched(b []byte) bool {
	var prev rune = -1
	run := 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if r == prev {
			run++
			if run >= 3 {
				return true
			}
		} else {
			prev, run = r, 1
		}
	}
	return false
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
