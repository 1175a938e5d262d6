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
		bit, ok := eventFields[string(key)]
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case fID:
			return p.str(&ev.ID)
		case fPlatform:
			return p.str(&ev.Platform)
		case fKind:
			var s string
			ok := p.str(&s)
			ev.Kind = Kind(s)
			return ok
		case fSpace:
			return p.str(&ev.Space)
		case fChannel:
			return p.str(&ev.Channel)
		case fThread:
			return p.str(&ev.Thread)
		case fAuthor:
			return p.author(&ev.Author)
		case fText:
			return p.str(&ev.Text)
		case fReplyTo:
			return p.str(&ev.ReplyTo)
		case fAttachments:
			return p.integer(&ev.Attachments)
		case fAt:
			return p.time(&ev.At)
		case fLabel:
			return p.str(&ev.Label)
		case fLink:
			return p.str(&ev.Link)
		}
		return false
	})
	if !ok || !p.end() {
		return false, false
	}
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

var eventFields = map[string]uint32{
	"id": fID, "platform": fPlatform, "kind": fKind, "space": fSpace, "channel": fChannel,
	"thread": fThread, "author": fAuthor, "text": fText, "reply_to": fReplyTo,
	"attachments": fAttachments, "at": fAt, "label": fLabel, "link": fLink,
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

var authorFields = map[string]uint32{
	"id": aID, "name": aName, "roles": aRoles, "staff": aStaff, "roles_unknown": aRolesUnknown,
	"bot": aBot, "created_at": aCreatedAt, "joined_at": aJoinedAt,
}

// fastParser reads JSON from data at i. Its methods return false when the
// input is not of the plain kind decodeFast takes.
type fastParser struct {
	data []byte
	i    int
}

func (p *fastParser) ws() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
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
		return json.Unmarshal(raw, s) == nil
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
	return ok && t.UnmarshalJSON(raw) == nil
}

func (p *fastParser) author(a *Author) bool {
	var seen uint32
	return p.object(func(key []byte) bool {
		bit, ok := authorFields[string(key)]
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case aID:
			return p.str(&a.ID)
		case aName:
			return p.str(&a.Name)
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
