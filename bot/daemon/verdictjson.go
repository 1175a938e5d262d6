package daemon

import (
	"encoding/json"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/jsonstr"
)

// appendVerdict appends a as encoding/json writes it (HTML left unescaped,
// then a newline), byte for byte, without its reflection, map sorting and
// allocations: POST /v1/events answers one verdict per event. A field added to
// bot.Verdict or eventAnswer that this does not know fails
// TestVerdictJSONMatchesEncodingJSON. names, when set, keeps the counters'
// names sorted and quoted from one answer to the next.
func appendVerdict(dst []byte, a *eventAnswer, names *bot.CounterNames) []byte {
	v := &a.Verdict
	if !bot.PlainTime(v.At) {
		// A year past 9999, an offset of a day or more: encoding/json's
		// rules (and errors) apply. A copy is marshalled, so that a does not
		// escape: the answer of every event stays on its handler's stack.
		cp := *a
		raw, err := json.Marshal(&cp)
		if err != nil {
			return append(dst, "null\n"...)
		}
		return append(append(dst, raw...), '\n')
	}
	if names != nil {
		dst = names.AppendVerdictOpen(dst, v, false)
	} else {
		dst = bot.AppendVerdictOpen(dst, v, false)
	}
	if f := a.FAQ; f != nil {
		dst = append(dst, `,"faq":{"decision":`...)
		dst = jsonstr.Append(dst, f.Decision)
		dst = append(dst, `,"answer":`...)
		dst = appendNullable(dst, f.Answer)
		dst = append(dst, `,"language":`...)
		dst = jsonstr.Append(dst, f.Language)
		dst = append(dst, `,"text":`...)
		dst = appendNullable(dst, f.Text)
		if f.Private {
			dst = append(dst, `,"private":true`...)
		}
		dst = append(dst, '}')
	}
	return append(dst, "}\n"...)
}

// appendNullable appends s as a JSON string, or null when it is nil.
func appendNullable(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return jsonstr.Append(dst, *s)
}
