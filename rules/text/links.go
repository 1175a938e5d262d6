package text

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// linkSet is what link detection found, in the order of the text.
type linkSet struct {
	// brands are the rule file's brand names, read as links alone under
	// any top-level domain (see Owners.brandHost); nil for none
	brands *Owners
	links  []string // as written
	hosts  []string // host of each link
	spans  []span   // place of each link in the text
	// masked counts the Markdown links whose words are a link to another
	// site than their target
	masked int
}

func (ls *linkSet) add(s string, lo, hi int, host string) {
	i := len(ls.spans)
	for i > 0 && int(ls.spans[i-1].lo) > lo {
		i--
	}
	ls.links = slices.Insert(ls.links, i, s[lo:hi])
	ls.hosts = slices.Insert(ls.hosts, i, host)
	ls.spans = slices.Insert(ls.spans, i, span{int32(lo), int32(hi)})
}

func (ls *linkSet) overlaps(lo, hi int) bool {
	for _, sp := range ls.spans {
		if lo < int(sp.hi) && int(sp.lo) < hi {
			return true
		}
	}
	return false
}

// find finds the URLs of s. A link is http(s)://…, www.…, or a bare host.tld:
// with a path any known TLD will do (discord.gg/abc, t.me/x), without one only
// TLDs that rarely end an ordinary word glued to a full stop ("murdev.com" yes,
// "bon.de" no), or a brand's name the rule file lists for lookalike()
// ("steamcommunity.lat": see Owners.brandHost).
func (ls *linkSet) find(s string) {
	// Fields are separated by spaces and by the brackets chat apps put around
	// links (<https://…> on Discord). Every link has a dot or a scheme's colon:
	// only the fields around one are read, found with IndexByte instead of a
	// look at every character. Reading back to a field's start needs valid
	// UTF-8; other texts take the forward pass. A text with neither has
	// no link, and is not read further (findEach finds none in it either).
	dot, colon := strings.IndexByte(s, '.'), strings.IndexByte(s, ':')
	if dot < 0 && colon < 0 {
		return
	}
	if !utf8.ValidString(s) {
		ls.findEach(s)
		return
	}
	// the next '.' and ':' from i, once looked for (len(s): none)
	if dot < 0 {
		dot = len(s)
	}
	if colon < 0 {
		colon = len(s)
	}
	for i := 0; i < len(s); {
		if dot < i {
			if dot = strings.IndexByte(s[i:], '.'); dot >= 0 {
				dot += i
			} else {
				dot = len(s)
			}
		}
		if colon < i {
			if colon = strings.IndexByte(s[i:], ':'); colon >= 0 {
				colon += i
			} else {
				colon = len(s)
			}
		}
		m := min(dot, colon)
		if m == len(s) {
			return
		}
		start, end := fieldStart(s, m), fieldEnd(s, m)
		ls.field(s, start, end)
		i = end
	}
}

// fieldStart is where the field holding byte m of the valid UTF-8 text s
// starts: after the separator before m, as find's forward pass reads them.
func fieldStart(s string, m int) int {
	j := m
	for j > 0 {
		if c := s[j-1]; c < utf8.RuneSelf {
			if isASCIIFieldSep(c) {
				return j
			}
			j--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s[:j])
		if r == '\ufeff' || unicode.IsSpace(r) {
			return j
		}
		j -= n
	}
	return 0
}

// fieldEnd is where the field holding byte m of s ends: at the next
// separator, or the end of s.
func fieldEnd(s string, m int) int {
	j := m
	for j < len(s) {
		if c := s[j]; c < utf8.RuneSelf {
			if isASCIIFieldSep(c) {
				return j
			}
			j++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[j:])
		if r == '\ufeff' || unicode.IsSpace(r) {
			return j
		}
		j += n
	}
	return len(s)
}

// findEach is find, looking at every character: for texts that are not
// valid UTF-8.
func (ls *linkSet) findEach(s string) {
	start, mark := 0, false
	for i := 0; i <= len(s); {
		n, sep := 1, true
		if i < len(s) {
			if c := s[i]; c < utf8.RuneSelf {
				sep = isASCIIFieldSep(c)
				mark = mark || c == '.' || c == ':'
			} else {
				var r rune
				r, n = utf8.DecodeRuneInString(s[i:])
				sep = r == '\ufeff' || unicode.IsSpace(r)
			}
		}
		if sep {
			if mark && i > start {
				ls.field(s, start, i)
			}
			start, mark = i+n, false
		}
		i += n
	}
}

// field finds the link of the field s[start:end]. A Markdown link,
// [words](target), shows its words and leads to its target (Discord renders
// them): each part is read alone, so that words written as a link
// ("[https://discord.com/badges](https://evil.example/x)") do not hide the
// target. Whether the words show another site than the target is told by
// countMasked, which reads the whole text: words and target may span fields.
func (ls *linkSet) field(s string, start, end int) {
	if !mayHoldLink(s[start:end]) {
		return // a word before a full stop, a time, "etc...": most fields read
	}
	for {
		k := strings.Index(s[start:end], "](")
		if k < 0 {
			break
		}
		ls.fieldPart(s, start, start+k)
		start += k + 2
	}
	ls.fieldPart(s, start, end)
}

// countMasked counts the Markdown links of s whose words are a link to
// another site than their target, of another owner
// ("[steamcommunity.com/gift](https://steam-offer.example/gift)" shows one
// site and leads to another), as Discord reads them (simple-markdown's
// LINK_HREF_AND_TITLE): spaces may pad the words and the target, the target
// may be in angle brackets, which keep Discord from showing a preview, and
// be followed by a title: "[ steamcommunity.com ]( <https://evil.example> )".
// Words naming the same owner's other site are not masked
// ("[youtu.be/abc](https://www.youtube.com/watch?v=abc)": see sameOwner),
// also those the rule file declares one owner's (extra, which may be nil).
// A link written whole in inline code or a code block is shown as written,
// no link ("`[google.com](https://example.com)`": see codeSpans).
func (ls *linkSet) countMasked(s string, extra *Owners) {
	if !strings.Contains(s, "](") {
		return // no Markdown link: the code spans are not read
	}
	lastClose := strings.LastIndexByte(s, ')')
	code := codeSpans(s)
	for from := 0; ; {
		k := strings.Index(s[from:], "](")
		if k < 0 {
			return
		}
		k += from
		// The words are after the last "[" since the link before: what
		// comes before holds the target of the link before and then
		// the words of the next ("https://twitter.com/x)・[YouTube").
		b := strings.LastIndexByte(s[from:k], '[')
		wordsAt := from + b + 1
		from = k + 2
		if b < 0 {
			continue
		}
		words := wordsHost(strings.Trim(unescapeMarkdown(s[wordsAt:k]), " \t`<>"), extra)
		if words == "" {
			continue
		}
		// the target: after spaces and an angle bracket, up to a space,
		// the closing angle bracket or the parenthesis that closes the
		// link (one opened in the target is its own: Foo_(bar))
		t := from
		for t < len(s) && (s[t] == ' ' || s[t] == '\t') {
			t++
		}
		if t < len(s) && s[t] == '<' {
			t++
		}
		e := t
	target:
		for ; e < len(s); e++ {
			switch s[e] {
			case ' ', '\t', '\n', '\r', '>':
				break target
			case '\\':
				e++ // an escaped character is the target's
			case '(':
				// a group, as Discord reads one: up to the next ")",
				// whatever it holds; with none after it, the link is
				// never closed. Found in one look, rather than a byte
				// at a time: a text of many links left open is read
				// in time linear in its length, not its square.
				if e > lastClose {
					e = len(s)
					break target
				}
				e += strings.IndexByte(s[e:], ')')
			case ')':
				break target
			}
		}
		if e >= len(s) {
			// never closed: Discord shows the text as written, the
			// target's address too
			continue
		}
		for len(code) > 0 && int(code[0].hi) <= wordsAt-1 {
			code = code[1:]
		}
		if len(code) > 0 && int(code[0].lo) <= wordsAt-1 && e < int(code[0].hi) {
			continue // shown as code
		}
		link := unescapeMarkdown(s[t:e])
		target := hostIn(link, extra)
		if target == "" {
			continue
		}
		if w, tr := siteOf(words), siteOf(target); w != tr && !sameOwner(w, tr, extra) && !archived(link, tr, w) &&
			!productName(words, w, tr, link, extra) && !platformSuffix(w, tr) && !countrySite(w, tr, extra) {
			ls.masked++
		}
	}
}

// productName reports whether words, the host a Markdown link's words show
// (as written), is a product's name read as a host, [Discord.Net] leading to
// docs.discordnet.dev, rather than a site shown: written in mixed case with a
// capital in its last label (Discord.Net, Akka.NET: an address is written
// in lower case), that last label being a platform's name products are
// named after as well as a suffix (productSuffixes: .NET's), on no domain of
// a known owner (the table's or the rule file's: [Discord.Com] shows
// Discord's site whatever its case), and leading to the product's site or
// page (see productTarget). Words ending in a label that is only ever a
// suffix ([MyBank.Com], [MaBanque.Fr]) are a domain, whatever their case:
// leading elsewhere, even to a site named after them (mybankcom.example),
// they are masked. To pass a site off as a product, one must name one's own
// domain or page after it; a listed brand's name glued to its suffix is a
// look-alike (discordgg.xyz: see brandGlued).
func productName(words, w, target, link string, extra *Owners) bool {
	dot := strings.LastIndexByte(words, '.')
	if dot <= 0 {
		return false
	}
	last := words[dot+1:]
	if !hasASCIIUpper(last) || strings.ToLower(words) == words {
		return false
	}
	if !productSuffixes[strings.ToLower(last)] {
		return false
	}
	if strings.IndexFunc(words, unicode.IsLower) < 0 {
		return false // all capitals: shouted, not a product's name
	}
	if _, known := extra.of(w); known {
		return false
	}
	return productTarget(words, dot, target, link, extra)
}

// productTarget reports whether target, the registrable domain of link,
// is the site or a page of the product words (its platform's suffix after
// the dot at dot): a site whose registered name is the words without their
// dots (docs.discordnet.dev for Discord.Net, hyphens aside); or, for a
// product's own name (the words before the suffix: Akka for Akka.NET) of
// three letters or more that is no name of a known owner's or a listed
// brand's (Discord.NET leading to getdiscord.example is not), a site whose
// registered name ends with it (getakka.net) or has it as its first
// hyphen-joined word (quartz-scheduler.net for Quartz.NET), or a page whose
// address has it, or the words, as a whole segment of its path
// (newtonsoft.com/json for Json.NET, its maker's site).
func productTarget(words string, dot int, target, link string, extra *Owners) bool {
	k := strings.IndexByte(target, '.')
	if k <= 0 {
		return false
	}
	site := target[:k]
	lower := strings.ToLower(words)
	if strings.ReplaceAll(site, "-", "") == strings.ReplaceAll(strings.TrimPrefix(lower, "www."), ".", "") {
		return true
	}
	// the words before the suffix, lowered alone: a lowered letter may
	// take fewer bytes (K, the Kelvin sign), so dot is no index in lower
	name := strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(words[:dot]), "www."), ".", "")
	if len(name) < 3 || ownerNames[name] || extra.brandNamed(name) || startsOwnerName(name, extra) {
		return false
	}
	first, _, _ := strings.Cut(site, "-")
	if first == name || strings.HasSuffix(strings.ReplaceAll(site, "-", ""), name) {
		return true
	}
	return pathHas(link, name, lower)
}

// startsOwnerName reports whether name, a product's own name in lower case,
// of four letters or more, begins the name of a known owner's domain, a
// listed brand's or a domain the rule file gives an owner: Steam for
// steamcommunity.com. [Steam.NET] leading to steam-gift.example passes a
// site off as Steam's, not a product's; a product so named still passes
// leading to the site named after it whole (steamnet.example).
func startsOwnerName(name string, extra *Owners) bool {
	if len(name) < 4 {
		return false
	}
	for n := range ownerNames {
		if len(n) > len(name) && strings.HasPrefix(n, name) {
			return true
		}
	}
	if extra == nil {
		return false
	}
	sk := skeleton(name)
	for b := range extra.brands {
		if len(b) > len(sk) && strings.HasPrefix(b, sk) {
			return true
		}
	}
	for d := range extra.m {
		if k := strings.IndexByte(d, '.'); k > len(name) && strings.HasPrefix(d, name) {
			return true
		}
	}
	return false
}

// pathHas reports whether the path of link has a segment that is, in any
// case, a or b.
func pathHas(link, a, b string) bool {
	if k := strings.Index(link, "://"); k >= 0 {
		link = link[k+len("://"):]
	}
	k := strings.IndexByte(link, '/')
	if k < 0 {
		return false
	}
	path := link[k+1:]
	if e := strings.IndexAny(path, "?#"); e >= 0 {
		path = path[:e]
	}
	for seg := range strings.SplitSeq(path, "/") {
		if strings.EqualFold(seg, a) || strings.EqualFold(seg, b) {
			return true
		}
	}
	return false
}

// platformSuffix reports whether words, a suffix under which a platform
// gives its users sites (github.io, netlify.app: the private section of the
// public suffix list), is the suffix that target, a registrable domain, is a
// site under: [github.io](https://x.github.io) shows where it leads. A
// country's or a generic suffix (co.uk, com) shows no site.
func platformSuffix(words, target string) bool {
	ws, icann := publicsuffix.PublicSuffix(words)
	if icann || ws != words {
		return false
	}
	ts, _ := publicsuffix.PublicSuffix(target)
	return ts == words && ts != target
}

// countrySite reports whether words and target, two registrable domains,
// are one brand's sites in two countries: the same name under two of
// countrySuffixes ([Nintendo.com](https://www.nintendo.co.jp)). Not for a
// name of a known owner (the table's, the rule file's: their countries'
// sites are listed there, amazon.fr), a listed brand's or one its owner
// closes: under another country's suffix, such a name is someone else's
// site passing for the brand's (paypal.de, steamcommunity.de).
func countrySite(words, target string, extra *Owners) bool {
	i, j := strings.IndexByte(words, '.'), strings.IndexByte(target, '.')
	if i <= 0 || j <= 0 || words[:i] != target[:j] {
		return false
	}
	if !countrySuffixes[words[i+1:]] || !countrySuffixes[target[j+1:]] {
		return false
	}
	name := words[:i]
	if ownerNames[name] || closedName(name) || extra.closes(name) || extra.brandNamed(name) || extra.own(words) || extra.own(target) {
		return false
	}
	return true
}

// countrySuffixes are the suffixes of the sites brands keep in the countries
// most members write from (those the owners table lists Google's and
// Amazon's under, and their neighbours), beside com. Suffixes sold to anyone
// as generic names (co, io, gg, me, tv) or that phishing favours are not:
// paypal.co or nintendo.ru shows no country's site of the brand.
var countrySuffixes = map[string]bool{
	"com": true, "fr": true, "de": true, "co.uk": true, "es": true, "it": true, "nl": true,
	"be": true, "ch": true, "at": true, "pl": true, "se": true, "dk": true, "no": true,
	"fi": true, "pt": true, "ie": true, "cz": true, "ca": true, "com.mx": true, "com.br": true,
	"com.ar": true, "co.jp": true, "jp": true, "co.kr": true, "com.au": true, "co.nz": true,
	"co.in": true, "in": true, "com.tr": true, "sg": true, "com.sg": true, "com.tw": true,
	"com.hk": true, "ae": true,
}

// productSuffixes are the top-level domains that are also the name of a
// platform that products carry after a dot: .NET's libraries are named
// Name.Net or Name.NET (Discord.Net, Json.NET, Akka.NET), and their sites
// need not be under that name. Other suffixes (com, org, fr) name nothing
// but a domain.
var productSuffixes = map[string]bool{"net": true}

func hasASCIIUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// unescapeMarkdown reads the backslash escapes of s as Discord does
// (simple-markdown's escape and unescapeUrl): a backslash before a
// character that is not a letter, a digit or a space stands for the
// character alone ("steamcommunity\.com" shows steamcommunity.com).
func unescapeMarkdown(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && !isMarkdownPlain(s[i+1]) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isMarkdownPlain reports whether the byte c after a backslash keeps it:
// an ASCII letter, digit or space.
func isMarkdownPlain(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// archived reports whether link, on the registrable domain target, is the
// Wayback Machine's copy of a page of the site words: its address holds the
// page's, https://web.archive.org/web/2020/https://example.com/a. Words that
// name the page lead to its copy, not to another site. Only web.archive.org's
// /web/ is: archive.org's other pages and hosts are its members' uploads,
// whatever "/web/" their address holds further on.
func archived(link, target, words string) bool {
	if target != "archive.org" {
		return false
	}
	if k := strings.Index(link, "://"); k >= 0 {
		link = link[k+len("://"):]
	}
	const copies = "web.archive.org/web/"
	if !hasPrefixFold(link, copies) {
		return false
	}
	page := link[len(copies):]
	if j := strings.IndexByte(page, '/'); j >= 0 {
		page = page[j+1:] // the time of the copy
	}
	if _, _, ok := linkIn(page, nil); !ok {
		return false
	}
	return registrable(linkHost(page)) == words
}

// wordsHost returns the host the words of a Markdown link show, or "": the
// host of the words when they are a link, else of their first word followed
// by others ("Steamcommunity.com - trade", "discord.gg/xyz join us"), else
// of a later word that is an address with its scheme ("claim at
// https://steamcommunity.com/gift"). Other words are no host: "the docs",
// "Node.js guide" (js is no top-level domain), "readme.md".
func wordsHost(w string, brands *Owners) string {
	i := strings.IndexAny(w, " \t\n\r")
	if i < 0 {
		return hostIn(w, brands)
	}
	if h := hostIn(w[:i], brands); h != "" {
		return h
	}
	for _, f := range strings.Fields(w[i:]) {
		if schemeAt(f) >= 0 {
			if h := hostIn(f, brands); h != "" {
				return h
			}
		}
	}
	return ""
}

// hostIn returns the host of the link of f, or "" (brands: see linkIn).
func hostIn(f string, brands *Owners) string {
	lo, hi, ok := linkIn(f, brands)
	if !ok {
		return ""
	}
	return linkHost(f[lo:hi])
}

// mayHoldLink reports whether f may hold a link linkIn finds: one with a
// scheme has "://", one without ends its host with a dot and a label of
// ASCII letters (hostOf), so a dot followed by an ASCII letter. A field with
// neither, which is most fields read (a sentence's last word and its full
// stop, a time, an ellipsis), is passed without linkIn's passes over it.
// TestMayHoldLink and FuzzMayHoldLink check that linkIn finds no link where
// it says none.
func mayHoldLink(f string) bool {
	for i := strings.IndexByte(f, '.'); i >= 0 && i+1 < len(f); {
		if c := f[i+1] | 0x20; 'a' <= c && c <= 'z' {
			return true
		}
		k := strings.IndexByte(f[i+1:], '.')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return strings.Contains(f, "://")
}

// fieldPart finds the link of s[start:end] and returns its host, or "".
func (ls *linkSet) fieldPart(s string, start, end int) string {
	lo, hi, ok := linkIn(s[start:end], ls.brands)
	if !ok {
		return ""
	}
	host := linkHost(s[start+lo : start+hi])
	ls.add(s, start+lo, start+hi, host)
	return host
}

// linkHost returns the host of a link found by linkIn.
func linkHost(l string) string {
	if k := strings.Index(l, "://"); k >= 0 {
		return hostOf(l[k+3:], true)
	}
	return hostOf(l, false)
}

// findSpaced finds links written with a spaced or spelled-out dot to get past
// link filters: "kidsmediausa . com", "www.youtube. com/watch?v=…",
// "example(dot)com". Only the big generic TLDs are accepted after such a dot,
// so that a sentence ending before "Com…" is not a link.
func (ls *linkSet) findSpaced(s string) {
	// the next '.', '(' and '[' at or after d (len(s): none), each found by
	// IndexByte and looked for again once passed: most of a text is passed
	// over without a look at each byte
	dot, paren, bracket := -1, -1, -1
	for d := 0; d < len(s); d++ {
		dot, paren, bracket = nextByte(s, '.', dot, d), nextByte(s, '(', paren, d), nextByte(s, '[', bracket, d)
		if d = min(dot, paren, bracket); d == len(s) {
			return
		}
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

// findWideDots finds the links written with a full stop of another width
// (．。｡), which browsers and IDNA read as a dot, to get past link filters:
// "discord-gift．ru/claim". Each field holding one is read with its wide dots
// made full stops; the link keeps its place in s.
func (ls *linkSet) findWideDots(s string) {
	k := indexWideDot(s)
	if k < 0 || !utf8.ValidString(s) {
		return
	}
	var field []byte
	var from []int // from[i]: where byte i of field is in s
	for k >= 0 {
		start, end := fieldStart(s, k), fieldEnd(s, k)
		field, from = field[:0], from[:0]
		for j := start; j < end; {
			if w := wideDotAt(s[j:]); w > 0 {
				field, from = append(field, '.'), append(from, j)
				j += w
				continue
			}
			field, from = append(field, s[j]), append(from, j)
			j++
		}
		from = append(from, end)
		f := string(field)
		if lo, hi, ok := linkIn(f, ls.brands); ok && !ls.overlaps(from[lo], from[hi]) {
			if host := linkHost(f[lo:hi]); strings.Contains(f[lo:hi], "://") || !hasCJK(host) {
				ls.add(s, from[lo], from[hi], host)
			}
		}
		if k = indexWideDot(s[end:]); k >= 0 {
			k += end
		}
	}
}

// hasCJK reports whether h has a Chinese, Japanese or Korean letter: the
// ideographic full stop ends the sentences of those scripts, which are
// written without spaces, so such a "host" before a word that is a TLD
// ("这是我的网站。shop 很好") is a sentence, not a link, unless a scheme says so.
func hasCJK(h string) bool {
	for _, r := range h {
		if r >= 0x1100 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
			return true
		}
	}
	return false
}

// indexWideDot returns where the first wide full stop (U+3002 。, U+FF0E ．,
// U+FF61 ｡) is in s, or -1.
func indexWideDot(s string) int {
	best := -1
	for _, d := range [...]string{"\u3002", "\uff0e", "\uff61"} {
		if i := strings.Index(s, d); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

// wideDotAt returns the length of the wide full stop s starts with, or 0.
func wideDotAt(s string) int {
	if len(s) >= 3 && (s[0] == 0xe3 || s[0] == 0xef) {
		if d := s[:3]; d == "\u3002" || d == "\uff0e" || d == "\uff61" {
			return 3
		}
	}
	return 0
}

// nextByte returns where c is in s at from or after: at when it is there
// already (at >= from), else found again; len(s) when there is none.
func nextByte(s string, c byte, at, from int) int {
	if at >= from {
		return at
	}
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return len(s)
}

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.'
}

func spacedTLD(t string) bool {
	switch len(t) {
	case 3:
		return strings.EqualFold(t, "com") || strings.EqualFold(t, "net") || strings.EqualFold(t, "org")
	}
	return false
}

func isASCIIFieldSep(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r', '<', '>', '"', '`', '\'', '|', '\\':
		return true
	}
	return false
}

// linkIn finds a link in one field and returns where it is. A host alone
// under a top-level domain that makes a link only with a path is one when
// its name is a brand's of brands (steamcommunity.lat: see
// Owners.brandHost), which may be nil.
func linkIn(f string, brands *Owners) (lo, hi int, ok bool) {
	if k := schemeAt(f); k >= 0 {
		u := trimTail(f[k:])
		host := hostOf(u[strings.Index(u, "://")+3:], true)
		if host == "" {
			return 0, 0, false
		}
		return k, k + len(u), true
	}
	lo = len(f) - len(strings.TrimLeft(f, "([{*_~"))
	u := trimTail(f[lo:])
	if len(u) < 4 {
		return 0, 0, false
	}
	host := hostOf(u, false)
	if host == "" {
		return 0, 0, false
	}
	rest := u[len(host):]
	if hasPrefixFold(u, "www.") && strings.Count(host, ".") >= 2 {
		return lo, lo + len(u), true
	}
	tld := host[strings.LastIndexByte(host, '.')+1:]
	switch tldKind(tld) {
	case tldStrong:
		return lo, lo + len(u), true
	case tldWeak:
		if len(rest) > 1 || brands.brandHost(host, tld) {
			return lo, lo + len(u), true
		}
	}
	return 0, 0, false
}

// schemeAt returns where http:// or https:// starts in f, or -1.
func schemeAt(f string) int {
	for k := 0; k+7 <= len(f); k++ {
		if f[k] != 'h' && f[k] != 'H' {
			continue
		}
		if hasPrefixFold(f[k:], "http://") || hasPrefixFold(f[k:], "https://") {
			return k
		}
	}
	return -1
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// trimTail drops the punctuation that ends a sentence rather than a URL, and a
// closing bracket that opens nowhere in the URL.
func trimTail(u string) string {
	var open [3]int // brackets opened minus closed: (), [], {}
	for i := 0; i < len(u); i++ {
		switch u[i] {
		case '(':
			open[0]++
		case ')':
			open[0]--
		case '[':
			open[1]++
		case ']':
			open[1]--
		case '{':
			open[2]++
		case '}':
			open[2]--
		}
	}
	for len(u) > 0 {
		r, n := utf8.DecodeLastRuneInString(u)
		switch r {
		case '.', ',', ';', ':', '!', '?', '*', '_', '~', '…', '»', '”', '’':
		case ')', ']', '}':
			k := strings.IndexByte(")]}", byte(r))
			if open[k] >= 0 {
				return u
			}
			open[k]++
		default:
			if r < utf8.RuneSelf || !isInvisible(r) {
				return u
			}
		}
		u = u[:len(u)-n]
	}
	return u
}

// hostOf returns the host at the start of u (after the scheme, if any), with
// user info and port removed when withScheme; "" when it is not a plausible host.
// Without a scheme the host must be labels of letters, digits and hyphens
// joined by dots, the last one ASCII letters only, so that "3.5", "e.g" and
// e-mail addresses are not hosts. Letters outside ASCII are let in before
// the TLD, as browsers show internationalised names: dіscord.gift with a
// Cyrillic і is a host to check for a look-alike.
func hostOf(u string, withScheme bool) string {
	end := strings.IndexAny(u, "/?#")
	if end < 0 {
		end = len(u)
	}
	h := u[:end]
	if withScheme {
		if at := strings.LastIndexByte(h, '@'); at >= 0 {
			h = h[at+1:]
		}
		if c := strings.LastIndexByte(h, ':'); c >= 0 && !strings.Contains(h, "]") {
			h = h[:c]
		}
		if strings.IndexByte(h, '%') >= 0 {
			// Browsers decode a host written in %XX escapes:
			// https://%64iscord.gift goes to discord.gift.
			d, ok := unescapeHost(h)
			if !ok {
				return ""
			}
			h = d
		}
		h = strings.TrimSuffix(h, ".")
		if h == "" {
			return ""
		}
		for _, r := range h {
			if !(r == '.' || r == '-' || r == '[' || r == ']' || r == ':' || isWordRune(unicode.ToLower(r)) && r != '@' && r != '$' && r != '€') {
				return ""
			}
		}
		return h
	}
	start, labels := 0, 0
	last := ""
	for i := 0; i <= len(h); i++ {
		if i < len(h) && h[i] != '.' {
			c := h[i]
			if c >= utf8.RuneSelf {
				r, n := utf8.DecodeRuneInString(h[i:])
				if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
					return ""
				}
				i += n - 1
				continue
			}
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return ""
			}
			continue
		}
		label := h[start:i]
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return ""
		}
		last, start = label, i+1
		labels++
	}
	if labels < 2 {
		return ""
	}
	for i := 0; i < len(last); i++ {
		c := last[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return ""
		}
	}
	return h
}

// unescapeHost decodes the %XX escapes of a host; false when an escape is
// malformed or the bytes are not UTF-8.
func unescapeHost(h string) (string, bool) {
	b := make([]byte, 0, len(h))
	for i := 0; i < len(h); i++ {
		if h[i] != '%' {
			b = append(b, h[i])
			continue
		}
		if i+2 >= len(h) || !isHex(h[i+1]) || !isHex(h[i+2]) {
			return "", false
		}
		b = append(b, unhex(h[i+1])<<4|unhex(h[i+2]))
		i += 2
	}
	return string(b), utf8.Valid(b)
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// registrable reduces a host to the part its owner registered: lower case,
// www. and subdomains dropped, one label kept under the public suffix (co.uk,
// pp.ua, and the private ones where anyone gets a name: github.io,
// duckdns.org, amazonaws.com's). A host that is itself a public suffix is
// kept whole.
func registrable(host string) string {
	if hasUpper(host) {
		host = strings.ToLower(host)
	}
	host = strings.TrimSuffix(host, ".")
	if isIP(host) || strings.IndexByte(host, '.') < 0 {
		return host
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func isIP(h string) bool {
	if strings.HasPrefix(h, "[") {
		return true
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

type tldClass int

const (
	tldUnknown tldClass = iota
	tldWeak             // a link only with a path: also a word, a file extension
	tldStrong           // a link even alone
)

// tldKind classes a top-level domain: as the table below says, else weak if it
// is one of IANA's (the ICANN section of the public suffix list: .sbs, .lat,
// and the hundreds of brand and generic TLDs a hand list misses), else unknown.
// Reading the list from golang.org/x/net/publicsuffix keeps it as current as
// the module.
func tldKind(tld string) tldClass {
	var b [32]byte
	if len(tld) > len(b) || strings.IndexByte(tld, '.') >= 0 {
		return tldUnknown
	}
	upper := false
	for i := 0; i < len(tld); i++ {
		c := tld[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
			upper = true
		}
		b[i] = c
	}
	if k, ok := tlds[string(b[:len(tld)])]; ok { // no copy: the map index
		return k
	}
	if upper {
		tld = string(b[:len(tld)])
	}
	if isICANNTLD(tld) {
		return tldWeak
	}
	return tldUnknown
}

// isICANNTLD reports whether the lower-case label is a top-level domain in the
// ICANN section of the public suffix list, which follows IANA's root zone.
func isICANNTLD(label string) bool {
	if label == "" {
		return false
	}
	if suffix, icann := publicsuffix.PublicSuffix(label); icann && suffix == label {
		return true
	}
	// A few country TLDs are listed only by a wildcard (*.ck, *.er): the
	// suffix of a name under them is then two labels.
	if len(label) != 2 {
		return false
	}
	name := string([]byte{'a', '.', label[0], label[1]})
	suffix, icann := publicsuffix.PublicSuffix(name)
	return icann && suffix == name
}

// tlds are the top-level domains whose class is decided by hand: strong ones
// are hardly ever anything but a domain after a dot; weak ones are also words
// or file extensions (readme.md, script.py, "bon.de"). Every other IANA TLD is
// weak, a link only with a path.
var tlds = map[string]tldClass{
	"com": tldStrong, "net": tldStrong, "org": tldStrong, "info": tldStrong, "biz": tldStrong,
	"io": tldStrong, "gg": tldStrong, "ly": tldStrong, "tv": tldStrong, "xyz": tldStrong,
	"fr": tldStrong, "uk": tldStrong, "eu": tldStrong, "ru": tldStrong, "cn": tldStrong,
	"co": tldStrong, "app": tldStrong, "dev": tldStrong, "site": tldStrong, "online": tldStrong,
	"shop": tldStrong, "store": tldStrong, "gift": tldStrong, "ch": tldStrong, "nl": tldStrong,
	"pl": tldStrong, "jp": tldStrong, "br": tldStrong, "au": tldStrong, "ua": tldStrong,
	"su": tldStrong, "tk": tldStrong, "ml": tldStrong, "ga": tldStrong, "cf": tldStrong,
	"gq": tldStrong, "pw": tldStrong, "cc": tldStrong, "ws": tldStrong, "icu": tldStrong,
	"buzz": tldStrong, "cyou": tldStrong, "mx": tldStrong, "ar": tldStrong, "cl": tldStrong,
	"cz": tldStrong, "sk": tldStrong, "hu": tldStrong, "ro": tldStrong, "gr": tldStrong,
	"pt": tldStrong, "se": tldStrong, "dk": tldStrong, "fi": tldStrong, "kr": tldStrong,
	"tw": tldStrong, "hk": tldStrong, "sg": tldStrong, "nz": tldStrong, "za": tldStrong,
	"ie": tldStrong, "lt": tldStrong, "lv": tldStrong, "ee": tldStrong, "edu": tldStrong,
	"gov": tldStrong, "mobi": tldStrong, "xxx": tldStrong, "porn": tldStrong, "sex": tldStrong,
	"ovh": tldStrong, "tech": tldStrong, "website": tldStrong, "stream": tldStrong,
	"me": tldWeak, "de": tldWeak, "ca": tldWeak, "it": tldWeak, "in": tldWeak, "is": tldWeak,
	"to": tldWeak, "us": tldWeak, "so": tldWeak, "at": tldWeak, "no": tldWeak, "my": tldWeak,
	"am": tldWeak, "pm": tldWeak, "la": tldWeak, "es": tldWeak, "be": tldWeak, "ai": tldWeak,
	"md": tldWeak, "py": tldWeak, "sh": tldWeak, "gl": tldWeak,
	"id": tldWeak, "im": tldWeak, "fm": tldWeak, "re": tldWeak, "st": tldWeak, "nu": tldWeak,
	"top": tldWeak, "fun": tldWeak, "win": tldWeak, "name": tldWeak, "space": tldWeak,
	"news": tldWeak, "lol": tldWeak, "live": tldWeak, "link": tldWeak, "click": tldWeak,
	"club": tldWeak, "pro": tldWeak, "work": tldWeak, "blog": tldWeak, "int": tldWeak,
	"vip": tldWeak, "bid": tldWeak, "art": tldWeak, "page": tldWeak, "one": tldWeak,
	"mil": tldWeak, "gay": tldWeak, "wtf": tldWeak, "zip": tldWeak, "mov": tldWeak,
}
