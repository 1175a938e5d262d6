package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Analysis is what the rules read from a message's text, computed once per event
// by Analyze. It is not safe to modify; it is safe to read from many goroutines.
type Analysis struct {
	// Text is the message as written.
	Text string
	// Links are the URLs found, as written: http(s)://…, www.…, discord.gg/…,
	// t.me/…, or a bare host with a well-known TLD.
	Links []string
	// Domains are the registrable hosts of Links (lower case, no www., no
	// subdomain: m.youtube.com → youtube.com), each once.
	Domains []string
	// Mentions counts @user, @everyone, @here and Discord's <@id>, <@!id>, <@&role>.
	Mentions int
	// Emojis counts Unicode emoji as seen (a flag or a skin-toned hand is one)
	// and Discord custom emoji <:name:id>.
	Emojis int
	// Caps is the share of capitals among letters, from 0 to 1; 0 when the text
	// has fewer than 8 letters, so a short "OK" is not shouting. Links, mentions
	// and custom emoji are not counted.
	Caps float64

	toks []token
	buf  []byte
	cens []censoredWord

	// Room for a typical message, so that Analyze allocates once.
	linkArr [4]string
	domArr  [4]string
	hostArr [4]string
	spanArr [4]span
	tokArr  [32]token
	bufArr  [384]byte
	censArr [2]censoredWord
}

// minCapsLetters is how many letters a text needs before its capitals say anything.
const minCapsLetters = 8

// Analyze computes everything rules need from a message's text.
func Analyze(s string) *Analysis {
	a := &Analysis{Text: s}
	ls := linkSet{links: a.linkArr[:0], hosts: a.hostArr[:0], spans: a.spanArr[:0]}
	ls.find(s)
	ls.findSpaced(s)
	a.Links = ls.links
	a.Domains = a.domArr[:0]
	for _, h := range ls.hosts {
		d := registrable(h)
		if d != "" && !contains(a.Domains, d) {
			a.Domains = append(a.Domains, d)
		}
	}
	a.scan(ls.spans)
	a.buf, a.toks, a.cens = tokenize(s, a.bufArr[:0], a.tokArr[:0], a.censArr[:0])
	return a
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scan counts mentions, emojis and capitals in one pass over the text, skipping
// links.
func (a *Analysis) scan(links []span) {
	s := a.Text
	letters, upper := 0, 0
	next := 0 // next link to skip
	prev := ' '
	for i := 0; i < len(s); {
		if next < len(links) && i >= int(links[next].lo) {
			i = int(links[next].hi)
			next++
			prev = ' '
			continue
		}
		switch s[i] {
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
				continue
			}
		case '@':
			if !isHandleRune(prev) && prev != '.' {
				if n := handleLen(s[i+1:]); n > 0 {
					a.Mentions++
					i += 1 + n
					prev = 'x'
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
			}
			prev = rune(c)
			i++
			continue
		}
		if n, ok := emojiAt(s[i:]); ok {
			a.Emojis++
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
			continue
		}
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		}
	}
	if letters >= minCapsLetters {
		a.Caps = float64(upper) / float64(letters)
	}
}

// discordMarkup recognises <@id>, <@!id>, <@&id> (kind '@'), <:name:id> and
// <a:name:id> (kind ':'), <#id> (kind '#'), and returns their length.
func discordMarkup(s string) (n int, kind byte) {
	if len(s) < 4 {
		return 0, 0
	}
	i := 1
	switch {
	case s[1] == '@':
		kind, i = '@', 2
		if s[i] == '!' || s[i] == '&' {
			i++
		}
	case s[1] == '#':
		kind, i = '#', 2
	case s[1] == ':' || s[1] == 'a' && s[2] == ':':
		kind = ':'
		i = strings.IndexByte(s[:min(len(s), 40)], ':') + 1
		name := i
		for i < len(s) && (isASCIIWord(s[i])) {
			i++
		}
		if i == name || i >= len(s) || s[i] != ':' {
			return 0, 0
		}
		i++
	default:
		return 0, 0
	}
	digits := i
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == digits || i >= len(s) || s[i] != '>' {
		return 0, 0
	}
	return i + 1, kind
}

func isASCIIWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isHandleRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// handleLen is the length of the user name after an @; a name starts with a
// letter or an underscore, so "@12" is not one.
func handleLen(s string) int {
	if r, _ := utf8.DecodeRuneInString(s); !(r == '_' || unicode.IsLetter(r)) {
		return 0
	}
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !isHandleRune(r) {
			break
		}
		n += size
	}
	return n
}
