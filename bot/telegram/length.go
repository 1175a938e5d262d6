package telegram

import (
	"html"
	"strings"
	"unicode/utf8"
)

// Telegram bounds a message's text (4096), a caption (1024) and a callback
// answer (200) in characters "after entities parsing", and counts them as it
// counts entities' offsets: in UTF-16 code units. An emoji, like any
// character beyond the Basic Multilingual Plane, is two; a tag is none; an
// HTML entity such as &lt; is the one character it stands for. So vigie
// measures text that way, and cuts it between characters (never inside a
// surrogate pair), between tags and entities (never inside one), with the
// tags left open closed again.

// utf16Len is the length of s as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += runeUnits(r)
	}
	return n
}

// runeUnits is how many UTF-16 code units r takes.
func runeUnits(r rune) int {
	if r >= 0x10000 && r <= utf8.MaxRune {
		return 2
	}
	return 1
}

// truncate cuts plain text s to n UTF-16 code units at most, "…" included,
// between characters.
func truncate(s string, n int) string {
	if utf16Len(s) <= n {
		return s
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		u := runeUnits(r)
		if used+u > n-1 {
			break
		}
		b.WriteRune(r)
		used += u
	}
	return b.String() + "…"
}

// htmlLen is the length of Telegram HTML s once parsed.
func htmlLen(s string) int {
	n := 0
	walkHTML(s, func(string) {}, func(text string) bool { n += utf16Len(html.UnescapeString(text)); return true })
	return n
}

// fitHTML cuts Telegram HTML s to n UTF-16 code units at most once parsed,
// "…" included: between characters, never inside a tag or an entity, and
// closes the tags still open where it cut.
func fitHTML(s string, n int) string {
	if htmlLen(s) <= n {
		return s
	}
	var b strings.Builder
	var open []string
	used := 0
	walkHTML(s, func(tag string) {
		b.WriteString(tag)
		name, closing := tagName(tag)
		switch {
		case closing:
			if i := lastIndex(open, name); i >= 0 {
				open = open[:i]
			}
		case !strings.HasSuffix(tag, "/>"):
			open = append(open, name)
		}
	}, func(text string) bool {
		u := utf16Len(html.UnescapeString(text))
		if used+u > n-1 {
			return false
		}
		b.WriteString(text)
		used += u
		return true
	})
	b.WriteString("…")
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString("</" + open[i] + ">")
	}
	return b.String()
}

// walkHTML hands s to tag and text in order: each tag whole, and the text
// between them one character or one entity at a time, until text says stop.
func walkHTML(s string, tag func(string), text func(string) bool) {
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			if j := strings.IndexByte(s[i:], '>'); j > 0 {
				tag(s[i : i+j+1])
				i += j + 1
				continue
			}
		case '&':
			if j := strings.IndexByte(s[i:], ';'); j > 1 && j <= 10 && !strings.ContainsAny(s[i+1:i+j], " &<") {
				if !text(s[i : i+j+1]) {
					return
				}
				i += j + 1
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		if !text(s[i : i+size]) {
			return
		}
		i += size
	}
}

// tagName is the name of an HTML tag, and whether it closes one.
func tagName(tag string) (name string, closing bool) {
	t := strings.TrimPrefix(strings.TrimSuffix(strings.TrimSuffix(tag, ">"), "/"), "<")
	if closing = strings.HasPrefix(t, "/"); closing {
		t = t[1:]
	}
	if i := strings.IndexAny(t, " \t\n"); i >= 0 {
		t = t[:i]
	}
	return strings.ToLower(t), closing
}

func lastIndex(list []string, s string) int {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i] == s {
			return i
		}
	}
	return -1
}
