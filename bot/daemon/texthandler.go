package daemon

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// A busy vigie writes a line or two per event judged (the verdict, a case
// opened or a hit added to one); through slog.TextHandler each cost about as
// much as the rest of what the daemon does around the engine for that event
// outside net/http: its state and buffer, the attributes gathered through a
// callback, every value checked rune by rune and quoted by strconv. The lines
// vigie writes per event have only strings and numbers, without groups:
// TextHandler writes those itself, byte for byte as slog.TextHandler does, and
// hands anything else to one.

// TextHandler is slog.TextHandler (without ReplaceAttr or AddSource), quicker
// on records whose attributes are strings, numbers, booleans and durations.
type TextHandler struct {
	w     io.Writer
	level slog.Leveler
	// text writes the other records, and the loggers made With attributes
	// or a group.
	text *slog.TextHandler
	bufs sync.Pool // *[]byte
	// second is the time of the last line, formatted to its second: the
	// lines of one second differ only in their milliseconds.
	second atomic.Pointer[lineSecond]
}

// lineSecond is a second of the log's time, as a line writes it: its date
// and time to the second, and its zone after the milliseconds.
type lineSecond struct {
	unix int64
	loc  *time.Location
	date []byte // 2006-01-02T15:04:05
	zone []byte // Z, or -07:00
}

// NewTextHandler writes to w the records at level and above (nil: info).
// Each line is one Write, as slog.TextHandler writes it.
func NewTextHandler(w io.Writer, level slog.Leveler) *TextHandler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &TextHandler{w: w, level: level, text: slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})}
}

func (h *TextHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *TextHandler) WithAttrs(as []slog.Attr) slog.Handler { return h.text.WithAttrs(as) }

func (h *TextHandler) WithGroup(name string) slog.Handler { return h.text.WithGroup(name) }

// maxKeptLine is the largest line buffer kept for the next line.
const maxKeptLine = 16 << 10

func (h *TextHandler) Handle(ctx context.Context, r slog.Record) error {
	plain := true
	r.Attrs(func(a slog.Attr) bool {
		plain = a.Key != "" && plainKind(a.Value.Kind())
		return plain
	})
	if !plain {
		return h.text.Handle(ctx, r)
	}
	bp, buf := h.lineStart(r.Time, r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		buf = appendAttr(buf, a)
		return true
	})
	return h.lineEnd(bp, buf)
}

// handleAttrs writes what Handle writes of a record of t, level, msg and
// attrs, without the record: the daemon's lines (logAttrs), the verdict's for
// most events of a raid night, skip gathering their attributes in one and
// going over them twice through a callback.
func (h *TextHandler) handleAttrs(ctx context.Context, t time.Time, level slog.Level, msg string, attrs []slog.Attr) error {
	for _, a := range attrs {
		if a.Key == "" || !plainKind(a.Value.Kind()) {
			r := slog.NewRecord(t, level, msg, 0)
			r.AddAttrs(attrs...)
			return h.text.Handle(ctx, r)
		}
	}
	bp, buf := h.lineStart(t, level, msg)
	for _, a := range attrs {
		buf = appendAttr(buf, a)
	}
	return h.lineEnd(bp, buf)
}

// lineStart begins a line, in a buffer kept from the lines before: its time
// (none for the zero time), level and message.
func (h *TextHandler) lineStart(t time.Time, level slog.Level, msg string) (*[]byte, []byte) {
	bp, _ := h.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	buf := (*bp)[:0]
	if !t.IsZero() {
		buf = append(buf, "time="...)
		buf = h.appendTime(buf, t.Round(0))
		buf = append(buf, ' ')
	}
	buf = append(buf, "level="...)
	buf = appendTextString(buf, level.String())
	buf = append(buf, " msg="...)
	return bp, appendTextString(buf, msg)
}

// appendAttr appends a, of a plain kind, as " key=value".
func appendAttr(buf []byte, a slog.Attr) []byte {
	buf = append(buf, ' ')
	buf = appendTextString(buf, a.Key)
	buf = append(buf, '=')
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		buf = appendTextString(buf, v.String())
	case slog.KindInt64:
		buf = strconv.AppendInt(buf, v.Int64(), 10)
	case slog.KindUint64:
		buf = strconv.AppendUint(buf, v.Uint64(), 10)
	case slog.KindFloat64:
		buf = strconv.AppendFloat(buf, v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		buf = strconv.AppendBool(buf, v.Bool())
	case slog.KindDuration:
		buf = append(buf, v.Duration().String()...)
	}
	return buf
}

// lineEnd ends the line in buf, writes it, and keeps buf for the next.
func (h *TextHandler) lineEnd(bp *[]byte, buf []byte) error {
	buf = append(buf, '\n')
	_, err := h.w.Write(buf)
	if cap(buf) <= maxKeptLine {
		*bp = buf
		h.bufs.Put(bp)
	}
	return err
}

// plainKind reports whether TextHandler writes values of kind k itself.
func plainKind(k slog.Kind) bool {
	switch k {
	case slog.KindString, slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration:
		return true
	}
	return false
}

// textPlain tells the bytes that never make slog.TextHandler quote a value
// nor, quoted, escape it: printable ASCII other than the space, the equal
// sign, the quote and the backslash.
var textPlain = func() (t [256]bool) {
	for b := '!'; b <= '~'; b++ {
		t[b] = b != '=' && b != '"' && b != '\\'
	}
	return t
}()

// textClass tells, for each byte, what appendTextString makes of it past a
// value's plain start: textQuote (a space, an equal sign, a quote) has the
// value quoted, textEscape (a quote, a backslash) escaped where quoted, and
// textOther (not printable ASCII) leaves it to slog's and strconv's rules.
var textClass = func() (t [256]byte) {
	for b := range 256 {
		switch {
		case b < ' ' || b > '~':
			t[b] = textOther
		case b == ' ' || b == '=':
			t[b] = textQuote
		case b == '"':
			t[b] = textQuote | textEscape
		case b == '\\':
			t[b] = textEscape
		}
	}
	return t
}()

const (
	textQuote = 1 << iota
	textEscape
	textOther
)

// appendTextString appends s as slog.TextHandler does: as it is, or quoted
// by strconv when it is empty or has a space, an equal sign, a quote, a
// control character or a rune that is not printable. A string of printable
// ASCII, the usual one, is looked at once and quoted here, at a fraction of
// strconv's cost.
func appendTextString(buf []byte, s string) []byte {
	// The plain start first, a table look-up a byte: most values (an event's
	// key, rule names) are plain from end to end.
	i := 0
	for i < len(s) && textPlain[s[i]] {
		i++
	}
	if i == len(s) {
		if len(s) == 0 {
			return append(buf, `""`...)
		}
		return append(buf, s...)
	}
	// The rest in one pass: written quoted, its quotes and backslashes
	// escaped, while the classes of its bytes are gathered. A value found
	// to need no quotes, or with bytes past printable ASCII, is written
	// again from mark: both are rare in vigie's lines (actions, reasons).
	mark := len(buf)
	buf = append(buf, '"')
	var seen byte
	start := 0
	for ; i < len(s); i++ {
		c := textClass[s[i]]
		seen |= c
		if c&textEscape != 0 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', s[i])
			start = i + 1
		}
	}
	switch {
	case seen&textOther != 0:
		// Not printable ASCII: slog's rules, and strconv's quotes.
		buf = buf[:mark]
		if !needsQuoting(s) {
			return append(buf, s...)
		}
		return strconv.AppendQuote(buf, s)
	case seen&textQuote == 0:
		// A backslash alone is written as it is.
		return append(buf[:mark], s...)
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// needsQuoting is log/slog's: what JSON would escape, a space or an equal
// sign, and runes that are not printable, quote a value; a backslash does not.
func needsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b < 0x20 || b == ' ' || b == '=' || b == '"' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// appendTime appends t as appendRFC3339Millis does, from the second it
// formatted last when t is in it: a line's time was about a fifth of what
// writing the line cost.
func (h *TextHandler) appendTime(b []byte, t time.Time) []byte {
	unix := t.Unix()
	s := h.second.Load()
	if s == nil || s.unix != unix || s.loc != t.Location() {
		if y := t.Year(); y < 0 || y > 9999 {
			// Not four digits: not the layout lineSecond keeps.
			return appendRFC3339Millis(b, t)
		}
		full := appendRFC3339Millis(nil, t)
		const dateLen, fracLen = len("2006-01-02T15:04:05"), len(".000")
		s = &lineSecond{unix: unix, loc: t.Location(), date: full[:dateLen], zone: full[dateLen+fracLen:]}
		h.second.Store(s)
	}
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, s.date...)
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, s.zone...)
}

// appendRFC3339Millis is log/slog's time: RFC 3339 with exactly three digits
// of the second's fraction.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	// RFC3339Nano trims trailing zeros: a tenth of a millisecond more makes
	// four digits, the fourth dropped.
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}
