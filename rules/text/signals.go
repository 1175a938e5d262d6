package text

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// The spam signals: what links lead to (shorteners, invitations to other
// servers and groups), contact details (e-mails, phone numbers), and a
// fingerprint of the words so that counters can see the same text coming
// again, from one author or from many.

// linkSignals counts the invitations and shortened links among the links.
func (a *Analysis) linkSignals(ls *linkSet) {
	for k, l := range ls.links {
		host := ls.hosts[k]
		d := registrable(host)
		path := linkPath(l)
		switch {
		case shorteners[d]:
			// maps.app.goo.gl is Google Maps' Share button: it leads to
			// Google Maps only, whereas goo.gl/… led anywhere
			if !strings.EqualFold(strings.TrimSuffix(host, "."), "maps.app.goo.gl") {
				a.Shortened++
			}
		case d == "discord.gg" || d == "dsc.gg" || d == "discord.me" || d == "discord.io" || d == "invite.gg":
			if len(path) > 1 {
				a.Invites++
			}
		case d == "discord.com" || d == "discordapp.com":
			if hasPrefixFold(path, "/invite/") && len(path) > len("/invite/") {
				a.Invites++
			}
		case d == "t.me" || d == "telegram.me" || d == "telegram.dog":
			if len(path) > 1 {
				a.TelegramLinks++
			}
		}
	}
}

// linkPath returns the path of a link found by linkIn, from its first '/'.
func linkPath(l string) string {
	if k := strings.Index(l, "://"); k >= 0 {
		l = l[k+3:]
	}
	if k := strings.IndexByte(l, '/'); k >= 0 {
		return l[k:]
	}
	return ""
}

// shorteners are URL shorteners and link cloakers: the link does not say where
// it leads.
var shorteners = map[string]bool{
	"bit.ly": true, "bitly.com": true, "tinyurl.com": true, "goo.gl": true,
	"ow.ly": true, "is.gd": true, "v.gd": true, "buff.ly": true, "cutt.ly": true,
	// not t.co nor lnkd.in: Twitter and LinkedIn wrap every link in them, the
	// writer hides nothing
	"rebrand.ly": true, "shorturl.at": true, "rb.gy": true, "tiny.cc": true, "t.ly": true,
	"s.id": true, "bl.ink": true, "adf.ly": true, "shorte.st": true,
	"sh.st": true, "bc.vc": true, "ouo.io": true, "ouo.press": true, "soo.gd": true,
	"qr.ae": true, "x.co": true, "su.pr": true, "snip.ly": true, "short.io": true,
	"tr.im": true, "clck.ru": true, "u.to": true, "goo.su": true, "binbox.io": true,
	"adfoc.us": true, "linkvertise.com": true, "tiny.one": true, "shorturl.asia": true,
	"urlz.fr": true, "lstu.fr": true, "cutt.us": true, "zpr.io": true, "j.mp": true,
	"grabify.link": true, "iplogger.org": true, "iplogger.com": true, "2no.co": true,
}

// eligible reports the tokens that make the fingerprint: not inside a link, not
// a mention. Two copies of a spam message that differ only by the link or the
// person they ping are the same text.
func (a *Analysis) eligible(i int, next *int) bool {
	t := &a.toks[i]
	for *next < len(a.spans) && a.spans[*next].hi <= t.src.lo {
		*next++
	}
	if *next < len(a.spans) && a.spans[*next].lo < t.src.hi {
		return false
	}
	return t.flags&mentioned == 0
}

// mention reports whether token t is the name of a mention. The fingerprint
// asks it of every token outside the links and marks those that are
// (mentioned): the sketch and EachWord read the mark.
func (a *Analysis) mention(t *token) bool {
	lo := int(t.src.lo)
	if a.Text[lo] == '@' && (t.flags&letter != 0 || lo > 0 && a.Text[lo-1] == '<') {
		return true // @user, <@123>; "@ss" is lost with it, at no cost to a fingerprint
	}
	if lo >= 2 && (a.Text[lo-1] == '@' || a.Text[lo-1] == '!' || a.Text[lo-1] == '&') && strings.Contains(a.Text[max(0, lo-3):lo], "<@") {
		return true // <@!123>, <@&123>
	}
	return false
}

// word returns the spelling of token i used by the fingerprint: stretched words
// collapsed, so that "nooo" and "noooo" are the same.
func (a *Analysis) word(i int) []byte {
	t := &a.toks[i]
	f := t.form[0]
	if !t.coll[0].empty() {
		f = t.coll[0]
	}
	return a.buf[f.lo:f.hi]
}

const hashSeed = 0x9e3779b97f4a7c15

// wordHash is a stable 64-bit hash of a word, eight bytes at a time: the same
// on every machine and in every version, since counters in a shared store
// compare fingerprints computed by different processes.
func wordHash(b []byte) uint64 {
	h := uint64(hashSeed) ^ uint64(len(b))
	for len(b) >= 8 {
		h = mix64(h ^ binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	return mix64(h ^ short8(b))
}

// short8 is b, shorter than 8 bytes, as a little-endian number. A word of an
// analysis is a slice of its buffer with room after it: its bytes are then
// read in one load and those past its end masked off, rather than shifted in
// one by one (the same number).
func short8(b []byte) uint64 {
	if cap(b) >= 8 {
		return binary.LittleEndian.Uint64(b[:8]) & (1<<(8*uint(len(b))) - 1)
	}
	var x uint64
	for i, c := range b {
		x |= uint64(c) << (8 * i)
	}
	return x
}

// fingerprint sets Fingerprint and Language: 16 hex digits of a hash of the words in order,
// normalised (case, accents, look-alikes, leetspeak, stretching), links and
// mentions left out; "" when no word is left. It counts Words on the way.
func (a *Analysis) fingerprint() {
	h := uint64(hashSeed)
	n, next := 0, 0
	fr, en := 0, 0
	for i := range a.toks {
		t := &a.toks[i]
		for next < len(a.spans) && a.spans[next].hi <= t.src.lo {
			next++
		}
		if next < len(a.spans) && a.spans[next].lo < t.src.hi {
			continue
		}
		a.Words++
		if t.src.hi-t.src.lo >= 26 && isWallet(a.Text[t.src.lo:t.src.hi]) {
			a.Wallets++
		}
		if a.mention(t) {
			t.flags |= mentioned
			continue
		}
		w := wordHash(a.word(i))
		if a.hashed {
			a.hashes = append(a.hashes, spread(w)) // for the sketch, which hashes the same words
		}
		h = mix64(h ^ w)
		n++
		switch functionWords.langOf(w) {
		case langFrench:
			fr++
		case langEnglish:
			en++
		}
	}
	switch {
	case fr > en:
		a.Language = "fr"
	case en > fr:
		a.Language = "en"
	}
	if n == 0 {
		return
	}
	// The string points into the Analysis, which is never changed after
	// Analyze: no allocation, and it lives as long as the Analysis.
	a.fpSum = h | 1<<63 // as appendHex16 writes it
	b := appendHex16(a.fpArr[:0], h)
	a.Fingerprint = unsafe.String(&b[0], len(b))
}

// Sketch bands: MinHash over the set of words, SketchBands bands of sketchRows
// hashes each. Two texts share a band with probability J^sketchRows, J being
// the share of words they have in common (Jaccard): for J = 0.8 at least one of
// the 4 bands is shared 94 times in 100, for J = 0.3 ten times in 100.
const (
	SketchBands = 4
	sketchRows  = 3
	// sketchMinWords: shorter texts have no sketch ("ok", "lol" are said by
	// everyone and say nothing about similarity).
	sketchMinWords = 4
)

// Sketch returns band b (0 to SketchBands-1) of the text's similarity sketch:
// near-identical texts have the same value in at least one band. A counter
// keyed on the author and one band counts the author's messages similar to
// this one; "" when the text has fewer than 4 words or b is out of range.
func (a *Analysis) Sketch(b int) string {
	if b < 0 || b >= SketchBands {
		return ""
	}
	var mins [sketchRows]uint64
	for r := range mins {
		mins[r] = ^uint64(0)
	}
	n, next := 0, 0
	for i := range a.toks {
		if !a.eligible(i, &next) {
			continue
		}
		x := wordHash(a.word(i))
		for r := range mins {
			if h := mix64(x ^ sketchSeeds[b*sketchRows+r]); h < mins[r] {
				mins[r] = h
			}
		}
		n++
	}
	if n < sketchMinWords {
		return ""
	}
	h := uint64(hashSeed) ^ uint64(b)
	for _, m := range mins {
		h = mix64(h ^ m)
	}
	return strconv.FormatUint(h|1<<63, 16)
}

// Sketches returns every band of the text's similarity sketch, the same values
// as Sketch(0) to Sketch(SketchBands-1), hashing each word once for all bands:
// a file with a counter per band asks for all of them on every event.
func (a *Analysis) Sketches() [SketchBands]string {
	var out [SketchBands]string
	sums, ok := a.SketchSums()
	if !ok {
		return out
	}
	// every band is 16 hex digits (the top bit is set): the bands are written
	// into one string and sliced from it, one allocation instead of one each
	var buf [SketchBands * 16]byte
	digits := buf[:0]
	for _, h := range sums {
		digits = AppendSketch(digits, h)
	}
	all := string(digits)
	for b := range out {
		out[b] = all[b*16 : (b+1)*16]
	}
	return out
}

// SketchSums returns the bands of the text's similarity sketch as numbers,
// which AppendSketch writes as Sketch does; ok is false when the text has no
// sketch (fewer than 4 words). A counter key that glues a band to an author is
// then built without a string per band.
func (a *Analysis) SketchSums() (sums [SketchBands]uint64, ok bool) {
	var mins [SketchBands * sketchRows]uint64
	for r := range mins {
		mins[r] = ^uint64(0)
	}
	// the words' hashes spread (mix64's first step), as the fingerprint
	// found them (the tokens outside links that are not mentions, eligible,
	// in order), or hashed again
	spreads := a.hashes
	if !a.hashed {
		spreads = nil
		next := 0
		for i := range a.toks {
			if a.eligible(i, &next) {
				spreads = append(spreads, spread(wordHash(a.word(i))))
			}
		}
	}
	if len(spreads) < sketchMinWords {
		return sums, false
	}
	// three rows at a time, their least hashes held in registers over the
	// words, each word read once for the three (four spill registers); the
	// multipliers are variables, not constants, so that the compiler keeps
	// them at hand rather than loading each again before each
	// multiplication. A row's hash of a word
	// is mix64(x^seed), whose first step, spread, is the xor of the word's
	// spread and the seed's (a shift distributes over xor): each word is
	// spread once for the twelve rows, the seeds once for all texts.
	k1, k2 := mixK1, mixK2
	for r := 0; r < len(mins); r += 3 {
		s0, s1, s2 := spreadSeeds[r], spreadSeeds[r+1], spreadSeeds[r+2]
		l0, l1, l2 := mins[r], mins[r+1], mins[r+2]
		for _, y := range spreads {
			l0 = min(l0, mixSpread(y^s0, k1, k2))
			l1 = min(l1, mixSpread(y^s1, k1, k2))
			l2 = min(l2, mixSpread(y^s2, k1, k2))
		}
		mins[r], mins[r+1], mins[r+2] = l0, l1, l2
	}
	for b := range sums {
		h := uint64(hashSeed) ^ uint64(b)
		for _, m := range mins[b*sketchRows : (b+1)*sketchRows] {
			h = mix64(h ^ m)
		}
		sums[b] = h
	}
	return sums, true
}

// AppendSketch appends a band of SketchSums to buf as Sketch writes it: 16
// hex digits.
func AppendSketch(buf []byte, sum uint64) []byte { return appendHex16(buf, sum) }

// appendHex16 appends strconv.AppendUint(buf, h|1<<63, 16): with the top bit
// set, always 16 digits, here written without strconv, as the fingerprint and
// four counter keys of a message are.
func appendHex16(buf []byte, h uint64) []byte {
	const hex = "0123456789abcdef"
	h |= 1 << 63
	// into an array from the last digit, then appended at once: one
	// capacity check instead of sixteen
	var d [16]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = hex[h&15]
		h >>= 4
	}
	return append(buf, d[:]...)
}

// mix64 is the SplitMix64 finaliser: a cheap, well-spread 64-bit hash of x.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// mixK1 and mixK2 are mix64's multipliers, as variables for mixSpread.
var mixK1, mixK2 uint64 = 0xbf58476d1ce4e5b9, 0x94d049bb133111eb

// spread is mix64's first step: mix64(x) is mixSpread(spread(x)), and
// spread(x^y) is spread(x)^spread(y).
func spread(x uint64) uint64 { return x ^ x>>30 }

// mixSpread is the rest of mix64 after spread, with its multipliers given
// (mixK1, mixK2).
func mixSpread(x, k1, k2 uint64) uint64 {
	x *= k1
	x ^= x >> 27
	x *= k2
	x ^= x >> 31
	return x
}

// spreadSeeds are the sketch's seeds spread, for SketchSums.
var spreadSeeds = func() (s [len(sketchSeeds)]uint64) {
	for i, x := range sketchSeeds {
		s[i] = spread(x)
	}
	return s
}()

var sketchSeeds = [SketchBands * sketchRows]uint64{
	0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9, 0x27d4eb2f165667c5,
	0xff51afd7ed558ccd, 0xc4ceb9fe1a85ec53, 0x85ebca6b27d4eb2f, 0x94d049bb133111eb,
	0xbf58476d1ce4e5b9, 0x6a09e667f3bcc909, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b,
}

// emailLen returns the length of the e-mail domain after the '@' at s[at], when
// a local part ends there and a host name follows; 0 otherwise.
func emailLen(s string, at int) int {
	if at == 0 || !isLocalByte(s[at-1]) {
		return 0
	}
	end := at + 1
	for end < len(s) && isHostByte(s[end]) {
		end++
	}
	d := strings.TrimRight(s[at+1:end], ".-")
	if hostOf(d, false) == "" {
		return 0
	}
	if tld := d[strings.LastIndexByte(d, '.')+1:]; len(tld) < 2 {
		return 0
	}
	return 1 + len(d)
}

func isLocalByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// phoneLen returns the length of the phone number that starts s, or 0. A
// phone number has 10 to 15 digits, in groups split by one kind of separator
// (space, dot or dash) and an optional area code in brackets, and starts with
// '+', '(' or '0', or is written in three groups or more: "06 12 34 56 78",
// "+33612345678", "(555) 123-4567", "555-123-4567". A date and time
// ("2026-11-20 10:00") mixes separators and stops short.
func phoneLen(s string) int {
	i, digits, groups, ones := 0, 0, 0, 0
	thousands := true // every group after the first has three digits
	var sep byte
	lead := s[0]
	if lead == '+' {
		i++
	}
	if i < len(s) && s[i] == '(' {
		j := i + 1
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == i+1 || j-i-1 > 5 || j >= len(s) || s[j] != ')' {
			return 0
		}
		digits, groups = j-i-1, 1
		i = j + 1
		if i < len(s) && s[i] == ' ' {
			i++
		}
	}
	for i < len(s) {
		j := i
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == i {
			break
		}
		digits += j - i
		if digits > 15 {
			return 0 // too long for a phone number, whatever follows
		}
		groups++
		if groups > 1 && j-i != 3 {
			thousands = false
		}
		if j-i == 1 {
			ones++ // "+33 6 12 …" has one; "1.2.3.4.5" is not a number to call
		}
		i = j
		if i+1 < len(s) && (s[i] == ' ' || s[i] == '.' || s[i] == '-') && '0' <= s[i+1] && s[i+1] <= '9' {
			if sep != 0 && s[i] != sep {
				break
			}
			sep = s[i]
			i++
			continue
		}
		break
	}
	if i < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[i:]); isHandleRune(r) {
			return 0 // glued to a word: a reference, not a number to call
		}
	}
	if lead != '+' && lead != '(' && lead != '0' && thousands {
		return 0 // 2.124.821.694 views: a count, grouped by thousands
	}
	if digits < 10 || digits > 15 || ones > 1 || !(lead == '+' || lead == '(' || lead == '0' || groups >= 3) {
		return 0
	}
	return i
}

// isWallet reports whether w is written like a cryptocurrency address: Bitcoin
// (1…, 3…, bc1…), Ethereum and its kin (0x and 40 hex digits), Tron (T…),
// Litecoin (L…, M…, ltc1…). A base58 address mixes capitals, small letters and
// digits; a long word or number does not.
func isWallet(w string) bool {
	n := len(w)
	switch {
	case n == 42 && (w[:2] == "0x" || w[:2] == "0X"):
		for i := 2; i < n; i++ {
			if !isHex(w[i]) {
				return false
			}
		}
		return true
	case (hasPrefixFold(w, "bc1") || hasPrefixFold(w, "ltc1")) && n >= 26 && n <= 90:
		digits := 0
		for i := 0; i < n; i++ {
			c := w[i] | 0x20
			switch {
			case '0' <= w[i] && w[i] <= '9':
				digits++
			case 'a' <= c && c <= 'z' && c != 'b' && c != 'i' && c != 'o' || i < 4:
			default:
				return false
			}
		}
		return digits >= 3
	case n >= 26 && n <= 35 && strings.IndexByte("13TLM", w[0]) >= 0:
		var upper, lower, digit bool
		for i := 0; i < n; i++ {
			c := w[i]
			switch {
			case '1' <= c && c <= '9':
				digit = true
			case 'A' <= c && c <= 'Z' && c != 'I' && c != 'O':
				upper = true
			case 'a' <= c && c <= 'z' && c != 'l':
				lower = true
			default:
				return false
			}
		}
		return upper && lower && digit
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}
