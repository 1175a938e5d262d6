package text

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// findSpacedByteByByte is findSpaced as it was, looking at every byte.
func (ls *linkSet) findSpacedByteByByte(s string) {
	for d := 0; d < len(s); d++ {
		var dotLen int
		switch s[d] {
		case '.':
			// a dot with a space on one side at least
			if (d == 0 || s[d-1] != ' ') && (d+1 == len(s) || s[d+1] != ' ') {
				continue
			}
			dotLen = 1
		case '(', '[':
			if len(s)-d < 5 || !strings.EqualFold(s[d+1:d+4], "dot") {
				continue
			}
			if b := s[d : d+5]; b[0] == '(' && b[4] != ')' || b[0] == '[' && b[4] != ']' {
				continue
			}
			dotLen = 5
		default:
			continue
		}
		// host before the dot
		e := d
		for e > 0 && s[e-1] == ' ' {
			e--
		}
		h := e
		for h > 0 && isHostByte(s[h-1]) {
			h--
		}
		if h > 0 && !isASCIIFieldSep(s[h-1]) && s[h-1] != '(' {
			continue
		}
		host := strings.Trim(s[h:e], ".-")
		// TLD after it
		t := d + dotLen
		for t < len(s) && s[t] == ' ' {
			t++
		}
		te := t
		for te < len(s) && ('a' <= s[te]|0x20 && s[te]|0x20 <= 'z') {
			te++
		}
		spaced := e < d || t > d+dotLen || dotLen > 1
		if !spaced || len(host) < 3 || !spacedTLD(s[t:te]) || te < len(s) && (isHostByte(s[te]) && s[te] != '.') {
			continue
		}
		end := te
		if end < len(s) && s[end] == '/' {
			for end < len(s) && !isASCIIFieldSep(s[end]) && s[end] < utf8.RuneSelf {
				end++
			}
		}
		end = h + len(trimTail(s[h:end]))
		if hostOf(host+".com", false) == "" || ls.overlaps(h, end) {
			continue
		}
		ls.add(s, h, end, host+"."+s[t:te])
		d = end - 1
	}
}

var spacedSeeds = []string{"", ".", "kidsmediausa . com", "www.youtube. com/watch?v=x", "example(dot)com", "example[dot]com/a b",
	"a . com . net (dot) org [dot] info", "x.com y .com z. com", "(dot)", "[dot", "end. Com", "visit my site . com/page, then kids . net",
	"https://a.example.com . com", "((dot)com", "abc (DOT) COM"}

// TestFindSpacedJumps compares findSpaced with the byte-by-byte version on
// the seeds and the labelled messages.
func TestFindSpacedJumps(t *testing.T) {
	texts := append(append([]string{}, spacedSeeds...), benchMessages...)
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "data", "*.jsonl"))
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				texts = append(texts, ev.Text)
			}
		}
		f.Close()
	}
	for _, s := range texts {
		checkSpaced(t, s)
	}
	t.Logf("%d texts", len(texts))
}

func checkSpaced(t *testing.T, s string) {
	t.Helper()
	var got, want linkSet
	got.find(s)
	want.find(s)
	got.findSpaced(s)
	want.findSpacedByteByByte(s)
	if !slices.Equal(got.links, want.links) || !slices.Equal(got.hosts, want.hosts) || !slices.Equal(got.spans, want.spans) {
		t.Fatalf("%q: findSpaced found %q %q %v, byte by byte %q %q %v", s, got.links, got.hosts, got.spans, want.links, want.hosts, want.spans)
	}
}

func FuzzFindSpaced(f *testing.F) {
	for _, s := range spacedSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Count(s, ".") > 200 {
			return
		}
		checkSpaced(t, s)
	})
}
