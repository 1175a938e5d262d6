package daemon

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// The history's ring keeps each event as bytes, not as a bot.Event: a
// hundred thousand events hold a dozen strings each, and the collector would
// go through all of them in every cycle while requests wait on it. A record
// is the event's fields in their declared order: strings and lists
// length-prefixed (uvarint), numbers as varints, times as Unix nanoseconds
// and their zone's offset, flags in one byte. An empty list reads back as
// nil, as it does from the event's JSON (omitempty).

// errRecord is a record the ring did not write: it never leaves this file
// unless the ring's memory was overwritten.
var errRecord = errors.New("history: damaged record")

func appendEventRecord(b []byte, ev *bot.Event) []byte {
	b = appendStr(b, ev.ID)
	b = appendStr(b, ev.Platform)
	b = appendStr(b, string(ev.Kind))
	b = appendStr(b, ev.Space)
	b = appendStr(b, ev.Channel)
	b = appendStr(b, ev.Thread)
	a := &ev.Author
	b = appendStr(b, a.ID)
	b = appendStr(b, a.Name)
	b = appendStr(b, a.Username)
	b = appendStrs(b, a.Roles)
	var flags byte
	for i, f := range [...]bool{a.Staff, a.RolesUnknown, a.Bot, a.Unverified, ev.Forward != nil, ev.Poll != nil} {
		if f {
			flags |= 1 << i
		}
	}
	b = append(b, flags)
	b = appendTime(b, a.CreatedAt)
	b = appendTime(b, a.JoinedAt)
	b = appendStr(b, ev.Text)
	b = appendStr(b, ev.ReplyTo)
	b = binary.AppendVarint(b, int64(ev.Attachments))
	if ev.Forward != nil {
		b = appendStr(b, ev.Forward.From)
		b = appendStr(b, ev.Forward.Text)
	}
	b = binary.AppendUvarint(b, uint64(len(ev.Embeds)))
	for i := range ev.Embeds {
		e := &ev.Embeds[i]
		b = appendStr(b, e.Author)
		b = appendStr(b, e.Title)
		b = appendStr(b, e.Description)
		b = appendStr(b, e.URL)
		b = binary.AppendUvarint(b, uint64(len(e.Fields)))
		for _, f := range e.Fields {
			b = appendStr(b, f.Name)
			b = appendStr(b, f.Value)
		}
		b = appendStr(b, e.Footer)
		b = appendStr(b, e.AuthorURL)
	}
	b = appendStrs(b, ev.Files)
	b = appendStrs(b, ev.HiddenLinks)
	if ev.Poll != nil {
		b = appendStr(b, ev.Poll.Question)
		b = appendStr(b, ev.Poll.Description)
		b = appendStrs(b, ev.Poll.Options)
		b = appendStr(b, ev.Poll.Explanation)
	}
	b = appendTime(b, ev.At)
	b = appendStr(b, ev.Label)
	b = appendStr(b, ev.Link)
	return b
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrs(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendStr(b, s)
	}
	return b
}

// appendTime writes the zero time as one 0 byte; any other time as 1, its
// Unix nanoseconds and its zone's offset in seconds.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	_, off := t.Zone()
	b = append(b, 1)
	b = binary.AppendVarint(b, t.UnixNano())
	return binary.AppendVarint(b, int64(off))
}

// recordReader reads a record back; the first failure sticks.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint reads what binary.AppendVarint wrote: a uvarint, zig-zag encoded.
func (r *recordReader) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (r *recordReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recordReader) fail() {
	if r.err == nil {
		r.err = errRecord
	}
	r.b = nil
}

func (r *recordReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// count reads a list's length, bounded by what is left to read (each
// element takes a byte at least).
func (r *recordReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *recordReader) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.str()
	}
	return ss
}

func (r *recordReader) time() time.Time {
	if r.byte() == 0 {
		return time.Time{}
	}
	ns, off := r.varint(), r.varint()
	t := time.Unix(0, ns)
	if off == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(off)))
}

func decodeEventRecord(b []byte) (bot.Event, error) {
	r := recordReader{b: b}
	var ev bot.Event
	ev.ID = r.str()
	ev.Platform = r.str()
	ev.Kind = bot.Kind(r.str())
	ev.Space = r.str()
	ev.Channel = r.str()
	ev.Thread = r.str()
	a := &ev.Author
	a.ID = r.str()
	a.Name = r.str()
	a.Username = r.str()
	a.Roles = r.strs()
	flags := r.byte()
	a.Staff, a.RolesUnknown, a.Bot, a.Unverified = flags&1 != 0, flags&2 != 0, flags&4 != 0, flags&8 != 0
	a.CreatedAt = r.time()
	a.JoinedAt = r.time()
	ev.Text = r.str()
	ev.ReplyTo = r.str()
	ev.Attachments = int(r.varint())
	if flags&16 != 0 {
		ev.Forward = &bot.Forward{From: r.str(), Text: r.str()}
	}
	if n := r.count(); n > 0 {
		ev.Embeds = make([]bot.Embed, n)
		for i := range ev.Embeds {
			e := &ev.Embeds[i]
			e.Author, e.Title, e.Description, e.URL = r.str(), r.str(), r.str(), r.str()
			if m := r.count(); m > 0 {
				e.Fields = make([]bot.EmbedField, m)
				for j := range e.Fields {
					e.Fields[j] = bot.EmbedField{Name: r.str(), Value: r.str()}
				}
			}
			e.Footer, e.AuthorURL = r.str(), r.str()
		}
	}
	ev.Files = r.strs()
	ev.HiddenLinks = r.strs()
	if flags&32 != 0 {
		ev.Poll = &bot.Poll{Question: r.str(), Description: r.str(), Options: r.strs(), Explanation: r.str()}
	}
	ev.At = r.time()
	ev.Label = r.str()
	ev.Link = r.str()
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	return ev, r.err
}
