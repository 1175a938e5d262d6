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

	// Words counts the words outside links.
	Words int
	// EmojiShare is Emojis / (Emojis + Words), from 0 to 1: how much of the
	// message is emoji rather than words.
	EmojiShare float64
	// MaxRun is the longest run of one character repeated, letters in either
	// case, punctuation and emoji ("!!!!!!" 6, "nooooon" 5, "😂😂😂" 3); spaces
	// and digits are not counted, nor links.
	MaxRun int
	// Invites counts invitations to Discord servers (discord.gg/…,
	// discord.com/invite/…); TelegramLinks links to Telegram users, groups and
	// channels (t.me/…); Shortened links through URL shorteners and cloakers
	// (bit.ly, tinyurl.com, …), which do not say where they lead.
	Invites, TelegramLinks, Shortened int
	// MaskedLinks counts the Markdown links, [words](target), whose words are
	// a link to another site than the target: "[steamcommunity.com/gift](https://steam-offer.example/gift)"
	// shows one site and leads to another.
	MaskedLinks int
	// Wallets counts cryptocurrency addresses (Bitcoin, Ethereum, Tron,
	// Litecoin): "send 0.1 BTC to 1FHeNq…" is the oldest scam there is.
	Wallets int
	// Emails and Phones count e-mail addresses and phone numbers (10 to 15
	// digits, written like one: "06 12 34 56 78", "+33612345678", "(555) 123-4567").
	Emails, Phones int
	// Promo counts self-promotion phrases: "check out my channel", "subscribe to
	// my channel", "sub4sub", "please become my first subscriber", "follow me on
	// insta", "dm me on whatsapp", "abonnez-vous", "va voir ma chaîne", read
	// through the same disguises as word lists.
	Promo int
	// Fingerprint is a stable hash of the normalised words (16 hex digits), links
	// and mentions left out: the same text, whatever its case, accents, spacing or
	// disguises, has the same fingerprint. "" when the text has no word. A counter
	// keyed on it counts copies of a text across authors (a raid); keyed on the
	// author and it, one author's copies.
	Fingerprint string
	// Language is "fr" or "en" when the text's function words say so ("le",
	// "est", "pas"; "the", "is", "you"), "" when they do not (too few, as many
	// of each, another language): rules and thresholds that depend on the
	// language read it.
	Language string

	// fpSum is the number Fingerprint writes in hex (FingerprintSum).
	fpSum uint64

	toks  []token
	buf   []byte
	cens  []censoredWord
	spans []span // the links' places in Text
	// hashes are the wordHash of the words the fingerprint is made of,
	// spread (mix64's first step), in order, for SketchSums; kept only when AnalyzeInto gave a buffer
	// (hashed), so that Analyze allocates no more for them.
	hashes []uint64
	hashed bool
	// spareToks and spareBuf are what a text longer than the arrays below
	// made toks and buf grow to, kept by AnalyzeInto for the next text
	// instead of growing them again from the arrays.
	spareToks []token
	spareBuf  []byte

	// Room for a typical message, so that Analyze allocates once.
	linkArr [4]string
	domArr  [4]string
	hostArr [4]string
	spanArr [4]span
	tokArr  [32]token
	bufArr  [336]byte // with the rest and the allocator's 8-byte header, 2304 bytes: a size class
	fpArr   [16]byte
}

// maxSpareToks and maxSpareBuf bound what AnalyzeInto keeps of a long
// text's tokens and folded words for the next text.
const (
	maxSpareToks = 1024
	maxSpareBuf  = 16 << 10
)

// minCapsLetters is how many letters a text needs before its capitals say anything.
const minCapsLetters = 8

// Analyze computes everything rules need from a message's text.
func Analyze(s string) *Analysis {
	a := &Analysis{Text: s}
	a.analyze(nil)
	return a
}

// AnalyzeInto is Analyze into a, which it overwrites: a caller that analyses one
// text after another reuses one Analysis instead of allocating 2 KB per text.
// What the previous analysis held must no longer be in use, except its
// Fingerprint, which is then a string of its own.
func AnalyzeInto(a *Analysis, s string) { AnalyzeOwnedInto(a, s, nil) }

// AnalyzeOwnedInto is AnalyzeInto with the owners a rule file declares
// (owners:, nil for none): a Markdown link between two domains of one of
// them is not masked.
func AnalyzeOwnedInto(a *Analysis, s string, extra *Owners) {
	hashes := a.hashes[:0]
	if hashes == nil {
		hashes = make([]uint64, 0, 32)
	}
	toks, buf := a.spareToks, a.spareBuf
	if c := cap(a.toks); c > len(a.tokArr) && c <= maxSpareToks {
		toks = a.toks // grown on the heap: the arrays are the struct's own
	}
	if c := cap(a.buf); c > len(a.bufArr) && c <= maxSpareBuf {
		buf = a.buf
	}
	a.reset()
	a.Text, a.hashes, a.hashed, a.spareToks, a.spareBuf = s, hashes, true, toks[:0], buf[:0]
	a.analyze(extra)
	a.Fingerprint = strings.Clone(a.Fingerprint)
}

// FingerprintSum is the number Fingerprint is the 16 hex digits of, 0 when
// Fingerprint is "": a counter keyed on the fingerprint can be keyed on it
// without reading the digits.
func (a *Analysis) FingerprintSum() uint64 { return a.fpSum }

// reset sets every field of a to zero but tokArr, bufArr and fpArr, which
// hold no pointers and are only read up to what the next text writes in them:
// 2 KB not cleared for every text. TestAnalyzeIntoResets checks no other field
// is left out.
func (a *Analysis) reset() {
	a.Text, a.Links, a.Domains = "", nil, nil
	a.Mentions, a.Emojis, a.Caps = 0, 0, 0
	a.Words, a.EmojiShare, a.MaxRun = 0, 0, 0
	a.Invites, a.TelegramLinks, a.Shortened, a.Wallets, a.Emails, a.Phones, a.Promo = 0, 0, 0, 0, 0, 0, 0
	a.MaskedLinks = 0
	a.Fingerprint, a.Language, a.fpSum = "", "", 0
	a.toks, a.buf, a.cens, a.spans, a.hashes, a.hashed = nil, nil, nil, nil, nil, false
	a.spareToks, a.spareBuf = nil, nil
	// the strings of the last text are let go
	a.linkArr, a.domArr, a.hostArr, a.spanArr = [4]string{}, [4]string{}, [4]string{}, [4]span{}
}

func (a *Analysis) analyze(extra *Owners) {
	s := a.Text
	ls := linkSet{brands: extra, links: a.linkArr[:0], hosts: a.hostArr[:0], spans: a.spanArr[:0]}
	ls.find(s)
	ls.findSpaced(s)
	ls.findWideDots(s)
	ls.countMasked(s, extra)
	a.Links = ls.links
	a.Domains = a.domArr[:0]
	// a message's few domains are told apart by looking through those
	// found before; past manyDomains, by a set: looked through, the
	// 40,000 distinct links of a 1 MB message took 5 s
	var seen map[string]struct{}
	for _, h := range ls.hosts {
		d := registrable(h)
		if d == "" {
			continue
		}
		if seen == nil && len(a.Domains) >= manyDomains {
			seen = make(map[string]struct{}, len(ls.hosts))
			for _, x := range a.Domains {
				seen[x] = struct{}{}
			}
		}
		if seen != nil {
			if _, dup := seen[d]; dup {
				continue
			}
			seen[d] = struct{}{}
		} else if contains(a.Domains, d) {
			continue
		}
		a.Domains = append(a.Domains, d)
	}
	a.spans = ls.spans
	a.MaskedLinks = ls.masked
	a.linkSignals(&ls)
	a.scan(ls.spans)
	toks, buf := a.tokArr[:0], a.bufArr[:0]
	if a.spareToks != nil {
		toks = a.spareToks
	}
	if a.spareBuf != nil {
		buf = a.spareBuf
	}
	a.buf, a.toks, a.cens = tokenize(s, buf, toks, nil, ls.spans)
	a.fingerprint() // and Words
	if a.Emojis > 0 {
		a.EmojiShare = float64(a.Emojis) / float64(a.Emojis+a.Words)
	}
	a.Promo = promoCount(a)
}

// manyDomains is the number of domains past which they are told apart by a set.
const manyDomains = 16

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scan counts mentions, emojis, capitals, runs of one character, e-mails and
// phone numbers in one pass over the text, skipping links.
func (a *Analysis) scan(links []span) {
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
		// Most of a message is lower-case letters and spaces: they are read
		// here without the switch below, up to the next link, as its ASCII
		// branch reads them.
		end := len(s)
		if next < len(links) {
			end = min(end, int(links[next].lo))
		}
		for i < end {
			c := s[i]
			if c == ' ' {
				unit = -1
			} else if 'a' <= c && c <= 'z' {
				letters++
				if rune(c) == unit {
					if run++; run > maxRun {
						maxRun = run
					}
				} else {
					// a run of one: maxRun is made at least 1 at the end,
					// when the text has a letter
					unit, run = rune(c), 1
				}
			} else {
				break
			}
			prev = rune(c)
			i++
		}
		if i >= end {
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
	if letters > 0 {
		// every letter is a run of one at least (the loop of lower-case
		// letters above leaves this to here)
		maxRun = max(maxRun, 1)
	}
	a.MaxRun = maxRun
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
