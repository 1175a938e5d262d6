package replay

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/jsonstr"
)

// decisionWriter writes the decisions file, one Decision a line, as an
// encoding/json Encoder with SetEscapeHTML(false) writes them, byte for byte,
// but by hand: the Encoder's reflection, map sorting and allocations cost
// about half of what the rest of the replay does for an event
// (TestDecisionLineMatchesEncoder).
type decisionWriter struct {
	w   *bufio.Writer
	enc *json.Encoder // for a verdict whose time encoding/json writes otherwise
	// names keeps the counters' names sorted and quoted from a line to the
	// next: a rule file's verdicts all carry the same counters.
	names bot.CounterNames
	buf   []byte
}

func newDecisionWriter(w io.Writer) *decisionWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &decisionWriter{w: bw, enc: enc}
}

// write writes the line of the Decision of these fields. They are not
// gathered in a Decision but for the Encoder, to which it would escape.
func (dw *decisionWriter) write(id, label string, v *bot.Verdict, faq string) error {
	line, ok := appendDecision(dw.buf[:0], id, label, v, faq, &dw.names)
	if !ok {
		// A year past 9999, an offset of a day or more: encoding/json's
		// rules (and errors) apply.
		return dw.enc.Encode(Decision{ID: id, Label: label, Verdict: *v, FAQ: faq})
	}
	if cap(line) <= 64<<10 {
		dw.buf = line // a line quoting a huge text is not kept for the next
	}
	_, err := dw.w.Write(line)
	return err
}

// appendDecision appends the line of the Decision of these fields, and
// reports whether it could: not when the verdict's time is not one
// encoding/json writes as its RFC 3339 form.
func appendDecision(dst []byte, id, label string, v *bot.Verdict, faq string, names *bot.CounterNames) ([]byte, bool) {
	if !bot.PlainTime(v.At) {
		return dst, false
	}
	dst = jsonstr.Append(append(dst, `{"id":`...), id)
	if label != "" {
		dst = jsonstr.Append(append(dst, `,"label":`...), label)
	}
	dst = append(names.AppendVerdictOpen(append(dst, `,"verdict":`...), v, false), '}')
	if faq != "" {
		dst = jsonstr.Append(append(dst, `,"faq":`...), faq)
	}
	return append(dst, "}\n"...), true
}
