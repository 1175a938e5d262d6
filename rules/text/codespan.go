package text

import "strings"

// codeSpans returns the code of s that Discord shows as written, in inline
// code or a code block, where a Markdown link is no link: each span is
// [lo, hi) in s, in the order of the text. Discord's parser (simple-markdown
// with Discord's rules) reads the text from its start; at each place it
// tries its rules in order: a backslash escape, an autolink (<…>), an
// address (http://…), a link ([words](target)), a code block
// (^```(?:([a-z0-9_+\-.#]+?)\n)?\n*([^\n][^]*?)\n*```), inline code
// (^(`+)([\s\S]*?[^`])\1(?!`)), then text, which stops before any sign. A
// span found here is one the parser is sure to read: a backtick run starts
// one only where the parser stands. Where that is not sure, no span is
// given from there on, and the links that follow are counted (a hostile
// link must not hide behind a backtick trick):
//   - a "[" that may open a link whose words or target are not plain
//     (backticks, brackets, groups, escapes, angle brackets, a title):
//     where it ends is not read here;
//   - a backtick run closed by none of its length, only by a shorter one,
//     or whose first backtick an escape takes, or a code block whose
//     language line changes where it closes;
//   - a "[" or a backtick after a "<" before any space or ">", or in an
//     address: an autolink or an address if Discord reads one there, else
//     a link or code that may run on;
//   - a span holding a sign of emphasis (* _ ~ |) also met before it, outside
//     code: the emphasis may close inside the span, and the span not open;
//   - a span over several lines after a line that starts a block (a quote,
//     a heading, a list item), which may end before the span's end.
//
// Time is linear in the length of s.
func codeSpans(s string) []span {
	if strings.IndexByte(s, '`') < 0 {
		return nil
	}
	var spans []span
	lastLink := strings.LastIndex(s, "](")
	lastFence := strings.LastIndex(s, "```")
	runs := newRunTable(s)
	block := blockLine(s)
	var seen [4]bool // * _ ~ | met where the parser stands
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) && !isMarkdownPlain(s[i+1]) {
				i += 2
				continue
			}
		case '<':
			// an autolink has no space and ends at the first '>'
			// (simple-markdown's ^<([^: >]+:\/[^ >]+)>: a line feed
			// may be in it)
			j := i + 1
			for j < len(s) && s[j] != '>' && s[j] != ' ' {
				j++
			}
			if strings.IndexByte(s[i:j], '[') >= 0 || strings.IndexByte(s[i:j], '`') >= 0 {
				// no autolink: a link or code may start in it
				// and end past it
				return spans
			}
			markSeen(&seen, s[i:j])
			i = j
			continue
		case ':':
			if strings.HasPrefix(s[i+1:], "//") {
				// an address (http://, and any other scheme
				// Discord may read) runs to a space or a '<'
				j := i
				for j < len(s) && s[j] != '<' && !isSpaceByte(s[j]) {
					j++
				}
				if strings.IndexByte(s[i:j], '[') >= 0 || strings.IndexByte(s[i:j], '`') >= 0 {
					// where the address ends, and whether
					// Discord reads one (HTTPS://, steam://),
					// is not sure: a link or code may start in
					// it
					return spans
				}
				markSeen(&seen, s[i:j])
				i = j
				continue
			}
		case '[':
			if i > lastLink {
				break // no link opens here: text
			}
			end, ok := plainLink(s, i)
			if !ok {
				return spans
			}
			markSeen(&seen, s[i:end])
			i = end
			continue
		case '*', '_', '~', '|':
			markSeen(&seen, s[i:i+1])
		case '`':
			n := runLen(s, i)
			lo, hi := i, -1
			if n >= 3 {
				hi = fenceEnd(s, i, lastFence)
			}
			if hi == -1 {
				hi = runs.inlineEnd(i, n)
			}
			if hi == -1 {
				i += n // backticks closed nowhere: text
				continue
			}
			if hi < 0 {
				return spans
			}
			if !trusted(s[lo:hi], seen) || block >= 0 && block <= lo && strings.IndexByte(s[lo:hi], '\n') >= 0 {
				return spans
			}
			spans = append(spans, span{int32(lo), int32(hi)})
			i = hi
			continue
		}
		i++
	}
	return spans
}

// trusted reports whether the span code holds none of the signs of emphasis
// seen before it.
func trusted(code string, seen [4]bool) bool {
	for k, c := range []byte("*_~|") {
		if seen[k] && strings.IndexByte(code, c) >= 0 {
			return false
		}
	}
	return true
}

// markSeen notes the signs of emphasis of t, which the parser may read as
// such.
func markSeen(seen *[4]bool, t string) {
	for k, c := range []byte("*_~|") {
		if !seen[k] && strings.IndexByte(t, c) >= 0 {
			seen[k] = true
		}
	}
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// runLen is the length of the run of backticks at s[i].
func runLen(s string, i int) int {
	j := i
	for j < len(s) && s[j] == '`' {
		j++
	}
	return j - i
}

// plainLink reads the link at s[i] == '[' when its words and target are
// plain, so that where it ends is sure whether Discord shows it as a link or
// as text: words without brackets, backticks, angle brackets or escapes,
// then "](" (no "]" further on before a "[", which would carry the words
// on), a target without spaces, groups, escapes, angle brackets, quotes or
// backticks, then ")", and after it up to a space only signs an address
// does not end with (read as text, an address in the words or the target
// would run on past the ")"). It returns the end of the link; false when
// the link is not plain.
func plainLink(s string, i int) (int, bool) {
	j := i + 1
	for ; j < len(s) && s[j] != ']'; j++ {
		switch s[j] {
		case '[', '`', '<', '>', '\\':
			return 0, false
		}
	}
	if j+1 >= len(s) || s[j+1] != '(' {
		return 0, false
	}
	for k := j + 1; k < len(s) && s[k] != '['; k++ {
		if s[k] == ']' {
			return 0, false
		}
	}
	k := j + 2
	for ; k < len(s) && s[k] != ')'; k++ {
		switch c := s[k]; {
		case c == '(' || c == '\\' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`' || isSpaceByte(c):
			return 0, false
		}
	}
	if k >= len(s) || k == j+2 {
		return 0, false
	}
	for e := k + 1; e < len(s) && s[e] != '<' && !isSpaceByte(s[e]); e++ {
		if strings.IndexByte(".,:;\"')]", s[e]) < 0 {
			return 0, false
		}
	}
	return k + 1, true
}

// fenceEnd returns the end of the code block whose fence starts at s[p], as
// Discord's rule reads it, -1 when there is none, -2 when it is not sure.
// last is where the text's last "```" starts.
func fenceEnd(s string, p, last int) int {
	// with a language: letters up to a line's end, then blank lines
	j := p + 3
	for j < len(s) && isLangByte(s[j]) {
		j++
	}
	plain := fenceClose(s, p+2, last)
	if j > p+3 && j < len(s) && s[j] == '\n' {
		if e := fenceClose(s, j, last); e >= 0 && e != plain {
			// the language line is read only when a fence closes
			// after it: a fence between ("```js\n```…") is not
			// followed here
			return -2
		}
	}
	return plain
}

// fenceClose finds the closing fence of a block whose content starts at
// the first byte after s[from] that is no line feed: the first "```" after
// that byte. It returns its end, or -1.
func fenceClose(s string, from, last int) int {
	q := from + 1
	for q < len(s) && s[q] == '\n' {
		q++
	}
	if q >= len(s) || q+1 > last {
		return -1
	}
	k := strings.Index(s[q+1:], "```")
	if k < 0 {
		return -1
	}
	return q + 1 + k + 3
}

func isLangByte(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '+' || c == '-' || c == '.' || c == '#'
}

// runTable holds the backtick runs of a text, to find where inline code
// closes in time linear in the text's length.
type runTable struct {
	at, n []int // start and length of each run
	// next[r]: the next run of run r's length (-1: none); minAfter[r]:
	// the shortest run after run r (0: none)
	next, minAfter []int
}

func newRunTable(s string) *runTable {
	t := &runTable{}
	for i := 0; i < len(s); {
		k := strings.IndexByte(s[i:], '`')
		if k < 0 {
			break
		}
		i += k
		n := runLen(s, i)
		t.at, t.n = append(t.at, i), append(t.n, n)
		i += n
	}
	t.next, t.minAfter = make([]int, len(t.at)), make([]int, len(t.at))
	nextOf := map[int]int{} // run length: the nearest run of it seen
	m := 0
	for r := len(t.at) - 1; r >= 0; r-- {
		t.minAfter[r] = m
		if m == 0 || t.n[r] < m {
			m = t.n[r]
		}
		t.next[r] = -1
		if q, ok := nextOf[t.n[r]]; ok {
			t.next[r] = q
		}
		nextOf[t.n[r]] = r
	}
	return t
}

// inlineEnd returns the end of the inline code whose opening run of n
// backticks starts at p: the next run of the same length closes it. It
// returns -1 when no later run closes it (the backticks are text), and -2
// when only a shorter run does (the regular expression's opening run then
// gives back backticks, which is not followed here) or when p is inside a
// run of the text (a backslash before a run: the escape takes its first
// backtick).
func (t *runTable) inlineEnd(p, n int) int {
	r, ok := findRun(t.at, p)
	if !ok {
		return -2 // in a run, after an escaped backtick
	}
	if t.minAfter[r] == 0 || t.minAfter[r] > n {
		return -1
	}
	if q := t.next[r]; q >= 0 {
		return t.at[q] + t.n[q]
	}
	return -2
}

func findRun(at []int, p int) (int, bool) {
	lo, hi := 0, len(at)
	for lo < hi {
		m := (lo + hi) / 2
		if at[m] < p {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(at) && at[lo] == p
}

// blockLine returns where the first line that starts a block (a quote, a
// heading, a list item, after spaces) starts in s, or -1.
func blockLine(s string) int {
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j < len(s) {
			switch c := s[j]; {
			case c == '>' || c == '#' || c == '-' || c == '*' || c == '+':
				return i
			case '0' <= c && c <= '9':
				k := j
				for k < len(s) && '0' <= s[k] && s[k] <= '9' {
					k++
				}
				if k < len(s) && s[k] == '.' {
					return i
				}
			}
		}
		k := strings.IndexByte(s[i:], '\n')
		if k < 0 {
			return -1
		}
		i += k + 1
	}
	return -1
}
