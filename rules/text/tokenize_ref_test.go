package text

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// tokenizeRuneByRune is tokenize as it was before runs of ASCII letters were
// appended at once (tokenizer.letters): every character through addWord; and
// before rejoin wrote the tokens back in place (rejoinAppending).
// tokenize must give the same words, forms, flags and censored words.
func tokenizeRuneByRune(s string, links []span) ([]byte, []token, []censoredWord) {
	z := tokenizer{text: s, links: links}
	var folded [48]rune
	for i := 0; i < len(s); {
		z.at, z.next = i, i+1
		if c := s[i]; c < utf8.RuneSelf {
			if c == '&' {
				if r, n := entityAt(s[i:]); n > 0 {
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
			z.ascii(c)
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
	rejoinAppending(&z)
	for i := range z.toks {
		z.spell(&z.toks[i])
	}
	if links != nil {
		z.censor()
	}
	return z.buf, z.toks, z.cens
}

// rejoinAppending is rejoin as it was, appending every token to a new slice
// over the same array.
func rejoinAppending(z *tokenizer) {
	out := z.toks[:0]
	for i := 0; i < len(z.toks); {
		j := i + 1
		letters := z.toks[i].flags & letter
		if z.joinable(i) {
			sep := ""
			for j < len(z.toks) && z.joinable(j) {
				lo, hi := z.toks[j-1].src.hi, z.toks[j].src.lo
				if lo >= hi {
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
			out = append(out, z.toks[i])
			i++
			continue
		}
		t := token{src: span{z.toks[i].src.lo, z.toks[j-1].src.hi}, form: [2]span{{lo: int32(len(z.buf))}}}
		for k := i; k < j; k++ {
			r := z.toks[k].form[0]
			z.buf = append(z.buf, z.buf[r.lo:r.hi]...)
		}
		t.form[0].hi = int32(len(z.buf))
		t.flags = wordFlags(z.buf[t.form[0].lo:t.form[0].hi]) | joined
		out = append(out, t)
		i = j
	}
	z.toks = out
}

func checkTokenize(t *testing.T, s string) {
	t.Helper()
	ls := linkSet{}
	ls.find(s)
	ls.findSpaced(s)
	ls.findWideDots(s)
	for _, links := range [][]span{nil, ls.spans} {
		buf, toks, cens := tokenize(s, nil, nil, nil, links)
		rbuf, rtoks, rcens := tokenizeRuneByRune(s, links)
		if string(buf) != string(rbuf) || !slices.Equal(toks, rtoks) || !slices.Equal(cens, rcens) {
			t.Fatalf("%q: tokenize gives %q %v %v, rune by rune %q %v %v", s, buf, toks, cens, rbuf, rtoks, rcens)
		}
	}
}

func TestTokenizeRuneByRune(t *testing.T) {
	texts := append(slices.Clone(benchMessages),
		"", "a", "ABC", "nuuuul", "NUUUL", "c0nnard", "co0ool", "o0o", "a$$hole", "f*ck", "c o n n a r d",
		"Hello&eacute;World", "x\x01y", "漢字abc", "abc漢字", "ÉCOLE école", "https://Example.com/Path?q=AAA",
		"@bob hello@x.y", "l33t sp34k", strings.Repeat("Ab", 300))
	for _, s := range texts {
		checkTokenize(t, s)
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"nuuuul", "C0NNARD", "a&#98;c", "x\x7fy", "漢a", "f**k you", "s.p.a.m", "a b c d e x y z w", "va c o n n a r d et i.d.i.o.t", "1 2 3 a.b.c", "a b.c.d.e", "x 1 2 3 4 y", "1 1 1.a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkTokenize(t, s)
	})
}
