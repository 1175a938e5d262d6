package daemon

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/jsonstr"
)

// appendVerdict appends a as encoding/json writes it (HTML left unescaped,
// then a newline), byte for byte, without its reflection, map sorting and
// allocations: POST /v1/events answers one verdict per event. A field added to
// bot.Verdict or eventAnswer that this does not know fails
// TestVerdictJSONMatchesEncodingJSON.
func appendVerdict(dst []byte, a *eventAnswer) []byte {
	v := &a.Verdict
	if !plainTime(v.At) {
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
	dst = append(dst, `{"event_id":`...)
	dst = jsonstr.Append(dst, v.EventID)
	dst = append(dst, `,"platform":`...)
	dst = jsonstr.Append(dst, v.Platform)
	dst = append(dst, `,"at":"`...)
	dst = v.At.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if v.Duplicate {
		dst = append(dst, `,"duplicate":true`...)
	}
	dst = append(dst, `,"matches":`...)
	if v.Matches == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range v.Matches {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendMatch(dst, &v.Matches[i])
		}
		dst = append(dst, ']')
	}
	if len(v.Counters) > 0 {
		dst = append(dst, `,"counters":{`...)
		// The names with their values, sorted by name as encoding/json
		// sorts a map's keys: one pass over the map, no lookup after it.
		var room [16]counterValue
		cs := room[:0]
		for name, n := range v.Counters {
			cs = append(cs, counterValue{name, n})
		}
		sortCounters(cs)
		for i := range cs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonstr.Append(dst, cs[i].name)
			dst = append(dst, ':')
			dst = strconv.AppendInt(dst, cs[i].n, 10)
		}
		dst = append(dst, '}')
	}
	if v.Withheld != "" {
		dst = append(dst, `,"withheld":`...)
		dst = jsonstr.Append(dst, v.Withheld)
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

// counterValue is a counter of the verdict, for its answer.
type counterValue struct {
	name string
	n    int64
}

// sortCounters sorts cs by name: by insertion for a rule file's few
// counters (a dozen or so), which are often in order already.
func sortCounters(cs []counterValue) {
	if len(cs) > 32 {
		slices.SortFunc(cs, func(a, b counterValue) int { return strings.Compare(a.name, b.name) })
		return
	}
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].name < cs[j-1].name; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// appendNullable appends s as a JSON string, or null when it is nil.
func appendNullable(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return jsonstr.Append(dst, *s)
}

func appendMatch(dst []byte, m *bot.Match) []byte {
	dst = append(dst, `{"rule":`...)
	dst = jsonstr.Append(dst, m.Rule)
	if m.Category != "" {
		dst = append(dst, `,"category":`...)
		dst = jsonstr.Append(dst, m.Category)
	}
	dst = append(dst, `,"actions":`...)
	if m.Actions == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, a := range m.Actions {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"kind":`...)
			dst = jsonstr.Append(dst, string(a.Kind))
			if a.Text != "" {
				dst = append(dst, `,"text":`...)
				dst = jsonstr.Append(dst, a.Text)
			}
			if a.Duration != 0 {
				dst = append(dst, `,"duration":`...)
				dst = jsonstr.Append(dst, bot.FormatDuration(a.Duration))
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if m.Shadow {
		dst = append(dst, `,"shadow":true`...)
	}
	dst = append(dst, `,"reason":`...)
	dst = jsonstr.Append(dst, m.Reason)
	return append(dst, '}')
}

// plainTime reports whether time.Time's JSON is its RFC 3339 form as is,
// without the errors of Time.MarshalJSON.
func plainTime(t time.Time) bool {
	_, offset := t.Zone()
	return t.Year() >= 0 && t.Year() <= 9999 && offset > -24*3600 && offset < 24*3600
}
