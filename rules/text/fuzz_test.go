package text

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzAnalyze(f *testing.F) {
	for _, s := range benchMessages {
		f.Add(s)
	}
	for _, s := range []string{"", "<@", "<:a:", "http://", "www.", "a.b.c.d", "c o n", "1 . 1 . 1", "👨‍", "🇫", "\xff\xfe", "@", "$$$", "ﷺ", "ǅ", "f*ck", "a**", "&#128514;", "&#x;", "&eacute", "🇫🇷", "⒜⒝", "**x**", "`[a.co](https://b.co)`", "```js\n[a.co](https://b.co)\n```", "``a` [a.co](https://b.co) ``", "x`y `[a.co](https://b.co)` "} {
		f.Add(s)
	}
	l, err := NewList([]string{"con", "free nitro", "idiot", "nul"})
	if err != nil {
		f.Fatal(err)
	}
	other, err := NewList([]string{"connard", "f*ck", "nitro", "!free nitro gift"})
	if err != nil {
		f.Fatal(err)
	}
	set := NewListSet(l, other)
	f.Fuzz(func(t *testing.T, s string) {
		a := Analyze(s)
		if a.Text != s {
			t.Fatalf("Text = %q, want %q", a.Text, s)
		}
		if a.Caps < 0 || a.Caps > 1 {
			t.Fatalf("Caps = %v", a.Caps)
		}
		if a.Mentions < 0 || a.Emojis < 0 || a.Mentions > len(s) || a.Emojis > len(s) {
			t.Fatalf("Mentions, Emojis = %d, %d for %d bytes", a.Mentions, a.Emojis, len(s))
		}
		if len(a.Domains) > len(a.Links) {
			t.Fatalf("%d domains for %d links", len(a.Domains), len(a.Links))
		}
		for _, link := range a.Links {
			if !strings.Contains(s, link) || link == "" {
				t.Fatalf("link %q is not in the text", link)
			}
		}
		for _, d := range a.Domains {
			// www. is dropped from a host, unless nothing but a top-level
			// domain would be left ("www.za", seed 0820eb045c9866cd).
			if d == "" || strings.ToLower(d) != d || strings.HasPrefix(d, "www.") && strings.Count(d, ".") > 1 {
				t.Fatalf("domain %q is not a lower-case host", d)
			}
		}
		checkMentionMarks(t, a)
		// code spans are in the text, in its order, each from a
		// backtick to a backtick
		prev := 0
		for _, sp := range codeSpans(s) {
			lo, hi := int(sp.lo), int(sp.hi)
			if lo < prev || hi <= lo+1 || hi > len(s) || s[lo] != '`' || s[hi-1] != '`' {
				t.Fatalf("code span %v after %d in %d bytes", sp, prev, len(s))
			}
			prev = hi
		}
		for _, tok := range a.toks {
			if tok.src.lo < 0 || tok.src.hi > int32(len(s)) || tok.src.lo >= tok.src.hi {
				t.Fatalf("token source %v out of %d bytes", tok.src, len(s))
			}
			if tok.form[0].empty() {
				t.Fatalf("token %q has no form", s[tok.src.lo:tok.src.hi])
			}
			if !utf8.Valid(a.buf[tok.form[0].lo:tok.form[0].hi]) {
				t.Fatalf("token form %q is not UTF-8", a.buf[tok.form[0].lo:tok.form[0].hi])
			}
		}
		// Matching a text against a list and the list against its own entries must
		// not panic, and an entry is always in its own list.
		if fast, each, ok := sameScan(s); !ok {
			t.Fatalf("scan: %+v, scanEach: %+v", fast, each)
		}
		var fast, each linkSet
		fast.find(s)
		each.findEach(s)
		if !slices.Equal(fast.links, each.links) || !slices.Equal(fast.hosts, each.hosts) || !slices.Equal(fast.spans, each.spans) {
			t.Fatalf("find: %q, findEach: %q", fast.links, each.links)
		}
		starts := set.Starts(a, nil)
		for _, list := range []*List{l, other} {
			e1, ok1 := list.Match(a)
			if e2, ok2 := list.MatchFrom(a, starts); e1 != e2 || ok1 != ok2 {
				t.Fatalf("MatchFrom = %q %v, Match = %q %v", e2, ok2, e1, ok1)
			}
		}
		l.Contains(s)
		if strings.HasPrefix(s, "!") {
			return // an allow entry
		}
		if own, err := NewList([]string{s}); err == nil {
			if _, ok := own.Match(a); !ok {
				t.Fatalf("%q does not match itself", s)
			}
			if _, ok := own.MatchFrom(a, NewListSet(l, own).Starts(a, nil)); !ok {
				t.Fatalf("%q does not match itself from the set's starts", s)
			}
			// \! writes an entry that starts with a literal "!": its text
			// is without the backslash (seed f67519523aaecd32).
			text := s
			if strings.HasPrefix(s, `\!`) {
				text = s[1:]
			}
			if !own.Contains(text) {
				t.Fatalf("%q is not in its own list", s)
			}
		}
	})
}
