package bot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
)

// decodeFast decodes the plain event JSON that sources and replay files carry,
// without encoding/json's reflection, which was most of the cost of reading a
// replay file. It knows only the contract's fields, spelled as in the
// contract, each at most once, and no null. Anything else (an unknown or
// differently cased field, a null, a number that is not a small integer, a
// syntax error, a time that does not parse) makes it answer ok false, and
// DecodeEvent then decodes the line with encoding/json, which also words the
// errors: for what it accepts, decodeFast gives what encoding/json gives, as
// the tests and FuzzDecodeFastAgrees check.
func decodeFast(data []byte, ev *Event) (hasText, ok bool) {
	p := fastParser{data: data}
	var seen uint32
	ok = p.object(func(key []byte) bool {
		bit := eventField(key)
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case fID:
			return p.short(sID, &ev.ID)
		case fPlatform:
			return p.short(sPlatform, &ev.Platform)
		case fKind:
			return p.short(sKind, (*string)(&ev.Kind))
		case fSpace:
			return p.short(sSpace, &ev.Space)
		case fChannel:
			return p.short(sChannel, &ev.Channel)
		case fThread:
			return p.short(sThread, &ev.Thread)
		case fAuthor:
			return p.author(&ev.Author)
		case fText:
			return p.str(&ev.Text)
		case fReplyTo:
			return p.short(sReplyTo, &ev.ReplyTo)
		case fAttachments:
			return p.integer(&ev.Attachments)
		case fAt:
			return p.time(&ev.At)
		case fLabel:
			return p.short(sLabel, &ev.Label)
		case fLink:
			return p.str(&ev.Link)
		}
		return false
	})
	if !ok || !p.end() {
		return false, false
	}
	p.flush(ev)
	return seen&fText != 0, true
}

// The fields of an event and of its author, as bits of a set.
const (
	fID = 1 << iota
	fPlatform
	fKind
	fSpace
	fChannel
	fThread
	fAuthor
	fText
	fReplyTo
	fAttachments
	fAt
	fLabel
	fLink
)

// eventField is the bit of the event's field named key, 0 for none. A
// switch, not a map: the compiler compares the key's length first, then its
// bytes, where a map lookup hashed every key of every line.
func eventField(key []byte) uint32 {
	switch string(key) {
	case "id":
		return fID
	case "platform":
		return fPlatform
	case "kind":
		return fKind
	case "space":
		return fSpace
	case "channel":
		return fChannel
	case "thread":
		return fThread
	case "author":
		return fAuthor
	case "text":
		return fText
	case "reply_to":
		return fReplyTo
	case "attachments":
		return fAttachments
	case "at":
		return fAt
	case "label":
		return fLabel
	case "link":
		return fLink
	}
	return 0
}

const (
	aID = 1 << iota
	aName
	aRoles
	aStaff
	aRolesUnknown
	aBot
	aCreatedAt
	aJoinedAt
)

// authorField is the bit of the author's field named key, 0 for none.
func authorField(key []byte) uint32 {
	switch string(key) {
	case "id":
		return aID
	case "name":
		return aName
	case "roles":
		return aRoles
	case "staff":
		return aStaff
	case "roles_unknown":
		return aRolesUnknown
	case "bot":
		return aBot
	case "created_at":
		return aCreatedAt
	case "joined_at":
		return aJoinedAt
	}
	return 0
}

// fastParser reads JSON from data at i. Its methods return false when the
// input is not of the plain kind decodeFast takes.
type fastParser struct {
	data []byte
	i    int
	// small gathers the bytes of the event's short strings (ids, names,
	// kind, places, label: not the text nor the link), nsmall of them,
	// which flush makes one string that each is a part of: one allocation
	// for them all, where each was one. pending says which string is
	// where in it. (A count, not a slice of the array: a parser pointing
	// into itself would be moved to the heap.)
	small    [256]byte
	nsmall   int
	pending  [maxPending]pendingString
	npending int
}

// maxPending is how many of an event's strings short gathers.
const maxPending = 12

// pendingString is a string that short gathered: the event's string field
// is to be small[lo:hi]. The field is named, not pointed at: a parser
// holding pointers into the event would make every event escape to the
// heap.
type pendingString struct {
	field  shortField
	lo, hi int32
}

// shortField names a string field of an event that short gathers.
type shortField uint8

const (
	sID shortField = iota
	sPlatform
	sKind
	sSpace
	sChannel
	sThread
	sReplyTo
	sLabel
	sAuthorID
	sAuthorName
)

// short reads a string into *s, the event's field f, as str does,
// gathering it in small when it is plain and there is room: flush then
// sets it.
func (p *fastParser) short(f shortField, s *string) bool {
	raw, escaped, ok := p.token()
	if !ok {
		return false
	}
	inner := raw[1 : len(raw)-1]
	if escaped {
		return unescape(raw, s)
	}
	lo := p.nsmall
	if p.npending == maxPending || lo+len(inner) > len(p.small) {
		*s = string(inner) // token checked its UTF-8
		return true
	}
	p.nsmall += copy(p.small[lo:], inner)
	p.pending[p.npending] = pendingString{field: f, lo: int32(lo), hi: int32(p.nsmall)}
	p.npending++
	return true
}

// flush sets the fields of ev that short gathered, from one string of
// their bytes.
func (p *fastParser) flush(ev *Event) {
	if p.npending == 0 {
		return
	}
	all := string(p.small[:p.nsmall])
	for _, ps := range p.pending[:p.npending] {
		s := all[ps.lo:ps.hi]
		switch ps.field {
		case sID:
			ev.ID = s
		case sPlatform:
			ev.Platform = s
		case sKind:
			ev.Kind = Kind(s)
		case sSpace:
			ev.Space = s
		case sChannel:
			ev.Channel = s
		case sThread:
			ev.Thread = s
		case sReplyTo:
			ev.ReplyTo = s
		case sLabel:
			ev.Label = s
		case sAuthorID:
			ev.Author.ID = s
		case sAuthorName:
			ev.Author.Name = s
		}
	}
}

func (p *fastParser) ws() {
	for p.i < len(p.data) {
		switch c := p.data[p.i]; {
		case c > ' ': // most calls: a line written without spaces
			return
		case c == ' ', c == '\t', c == '\n', c == '\r':
			p.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (p *fastParser) end() bool {
	p.ws()
	return p.i == len(p.data)
}

func (p *fastParser) byte(c byte) bool {
	if p.i < len(p.data) && p.data[p.i] == c { // c is no white space
		p.i++
		return true
	}
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

// object reads an object, calling field for each key with p at its value.
func (p *fastParser) object(field func(key []byte) bool) bool {
	if !p.byte('{') {
		return false
	}
	if p.byte('}') {
		return true
	}
	for {
		p.ws()
		raw, escaped, ok := p.token()
		if !ok || escaped || !p.byte(':') {
			return false
		}
		p.ws()
		if !field(raw[1 : len(raw)-1]) {
			return false
		}
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
	}
}

// token reads a string at p.i and returns it quotes included, and whether it
// holds an escape. It checks the UTF-8 of what it steps over as it goes (all
// of an unescaped string), rather than str doing it again in a second pass
// over every string, which cost a fifth of the decode: a string with a byte
// that is not UTF-8 is not ok here, and encoding/json, which replaces it with
// U+FFFD, then decodes the line.
func (p *fastParser) token() (raw []byte, escaped, ok bool) {
	// On locals rather than p's fields: a string's bytes are most of an
	// event, and the loop then keeps its index in a register.
	data, start := p.data, p.i
	if start >= len(data) || data[start] != '"' {
		return nil, false, false
	}
	for i := start + 1; i < len(data); {
		// Eight bytes at a time while none of them needs a look, then
		// straight to the first that does.
		if i+8 <= len(data) {
			m := special8(binary.LittleEndian.Uint64(data[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		}
		switch c := data[i]; {
		case c == '"':
			p.i = i + 1
			return data[start:p.i], escaped, true
		case c == '\\':
			escaped = true
			i += 2
		case c < 0x20:
			return nil, false, false // not valid JSON
		case c >= utf8.RuneSelf:
			// a '"' is never part of a sequence, so this one ends before it
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false, false
			}
			i += size
		default:
			i++
		}
	}
	return nil, false, false
}

// special8 marks the bytes of w (little-endian) that token must look at: not
// printable ASCII, '"' or '\\'. Its lowest mark is exact, the first such byte;
// a borrow may mark bytes after it, never one before ("Bit Twiddling Hacks",
// haszero and hasless).
func special8(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(x uint64) uint64 { return (x - ones) & ^x & highs }
	control := (w - 0x20*ones) & ^w & highs // a byte < 0x20
	return w&highs | control | hasZero(w^('"'*ones)) | hasZero(w^('\\'*ones))
}

// str reads a string into s.
func (p *fastParser) str(s *string) bool {
	raw, escaped, ok := p.token()
	if !ok {
		return false
	}
	inner := raw[1 : len(raw)-1]
	if !escaped {
		*s = string(inner) // token checked its UTF-8
		return true
	}
	return unescape(raw, s)
}

// unescape decodes a string with escapes. The usual ones are done here; \u,
// with its surrogates, is encoding/json's.
func unescape(raw []byte, s *string) bool {
	inner := raw[1 : len(raw)-1]
	if bytes.Contains(inner, []byte(`\u`)) || !utf8.Valid(inner) {
		// into a string of its own: s handed to encoding/json would
		// escape, and with it the event that holds it, on every line
		var out string
		if json.Unmarshal(raw, &out) != nil {
			return false
		}
		*s = out
		return true
	}
	out := make([]byte, 0, len(inner))
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch inner[i] {
		case '"', '\\', '/':
			out = append(out, inner[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			return false // not valid JSON
		}
	}
	*s = string(out)
	return true
}

func (p *fastParser) boolean(b *bool) bool {
	switch {
	case bytes.HasPrefix(p.data[p.i:], []byte("true")):
		*b = true
		p.i += 4
	case bytes.HasPrefix(p.data[p.i:], []byte("false")):
		*b = false
		p.i += 5
	default:
		return false
	}
	return true
}

// integer reads a number without fraction nor exponent that fits an int.
func (p *fastParser) integer(n *int) bool {
	start := p.i
	if p.i < len(p.data) && p.data[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.data) && '0' <= p.data[p.i] && p.data[p.i] <= '9' {
		p.i++
	}
	switch {
	case p.i == digits, p.data[digits] == '0' && p.i-digits > 1:
		return false // no digit, or a leading zero: not valid JSON
	case p.i < len(p.data) && (p.data[p.i] == '.' || p.data[p.i] == 'e' || p.data[p.i] == 'E'):
		return false
	}
	v, err := strconv.Atoi(string(p.data[start:p.i]))
	if err != nil {
		return false
	}
	*n = v
	return true
}

// time reads a time as encoding/json does: the quoted bytes, as they are, to
// time.Time's UnmarshalJSON.
func (p *fastParser) time(t *time.Time) bool {
	raw, _, ok := p.token()
	if !ok {
		return false
	}
	if tt, ok := parseUTC(raw); ok {
		*t = tt
		return true
	}
	return t.UnmarshalJSON(raw) == nil
}

// parseUTC reads the quoted time every source writes, in UTC to the second
// or with a fraction of one to nine digits ("2026-12-06T08:21:05.083Z"), as
// UnmarshalJSON reads it, at about a quarter of its cost: an event carries
// three (its own, its author's account's and join's). Any other form, or a
// date or clock out of range, is left to UnmarshalJSON (ok false).
func parseUTC(raw []byte) (t time.Time, ok bool) {
	// "2006-01-02T15:04:05Z" and its quotes are 22 bytes; nine digits of
	// fraction and their dot ten more.
	n := len(raw)
	if n < 22 || n > 32 || raw[0] != '"' || raw[n-1] != '"' || raw[n-2] != 'Z' {
		return time.Time{}, false
	}
	b := raw[1:20:20] // 2006-01-02T15:04:05
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	// A byte below '0' wraps around past 9 as well.
	y0, y1, y2, y3 := b[0]-'0', b[1]-'0', b[2]-'0', b[3]-'0'
	mo0, mo1, d0, d1 := b[5]-'0', b[6]-'0', b[8]-'0', b[9]-'0'
	h0, h1, mi0, mi1, s0, s1 := b[11]-'0', b[12]-'0', b[14]-'0', b[15]-'0', b[17]-'0', b[18]-'0'
	if max(y0, y1, y2, y3, mo0, mo1, d0, d1, h0, h1, mi0, mi1, s0, s1) > 9 {
		return time.Time{}, false
	}
	year := int(y0)*1000 + int(y1)*100 + int(y2)*10 + int(y3)
	month, day := int(mo0)*10+int(mo1), int(d0)*10+int(d1)
	hour, mins, sec := int(h0)*10+int(h1), int(mi0)*10+int(mi1), int(s0)*10+int(s1)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || mins > 59 || sec > 59 {
		return time.Time{}, false
	}
	var ns int64
	if n > 22 {
		// A dot, then one to nine digits.
		if raw[20] != '.' || n == 23 {
			return time.Time{}, false
		}
		for _, c := range raw[21 : n-2] {
			if c -= '0'; c > 9 {
				return time.Time{}, false
			}
			ns = ns*10 + int64(c)
		}
		ns *= pow10[32-n]
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+mins*60+sec)
	return time.Unix(unix, ns).UTC(), true
}

// pow10 scales a fraction of 9-i digits to nanoseconds.
var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// daysIn is the number of days of month in year.
func daysIn(month, year int) int {
	if month == 2 {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + (month+month>>3)&1
}

// daysSinceEpoch is the days from 1970-01-01 to the date, in the proleptic
// Gregorian calendar (Howard Hinnant's days_from_civil).
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := int64((month + 9) % 12)
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func (p *fastParser) author(a *Author) bool {
	var seen uint32
	return p.object(func(key []byte) bool {
		bit := authorField(key)
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case aID:
			return p.short(sAuthorID, &a.ID)
		case aName:
			return p.short(sAuthorName, &a.Name)
		case aRoles:
			return p.roles(&a.Roles)
		case aStaff:
			return p.boolean(&a.Staff)
		case aRolesUnknown:
			return p.boolean(&a.RolesUnknown)
		case aBot:
			return p.boolean(&a.Bot)
		case aCreatedAt:
			return p.time(&a.CreatedAt)
		case aJoinedAt:
			return p.time(&a.JoinedAt)
		}
		return false
	})
}

// roles reads a list of strings; an empty list is an empty slice, not nil, as
// with encoding/json.
func (p *fastParser) roles(roles *[]string) bool {
	if !p.byte('[') {
		return false
	}
	list := []string{}
	if !p.byte(']') {
		for {
			p.ws()
			var s string
			if !p.str(&s) {
				return false
			}
			list = append(list, s)
			if p.byte(']') {
				break
			}
			if !p.byte(',') {
				return false
			}
		}
	}
	*roles = list
	return true
}
