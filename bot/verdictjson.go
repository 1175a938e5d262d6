package bot

import (
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigie-bot/vigie/bot/jsonstr"
)

// AppendVerdictOpen appends v as encoding/json writes it, byte for byte, but
// without the object's closing brace, so that a caller may add fields of its
// own: the HTTP answer adds the FAQ's, the Redis store closes it at once.
// With html, <, > and & are escaped as json.Marshal does; without, they are
// left as an Encoder with SetEscapeHTML(false) leaves them. v.At must be a
// time encoding/json writes as RFC 3339 (PlainTime); the caller falls back on
// encoding/json for any other.
func AppendVerdictOpen(dst []byte, v *Verdict, html bool) []byte {
	return appendVerdictOpen(dst, v, html, nil)
}

// AppendVerdictOpen is the package's AppendVerdictOpen, the counters' names
// taken sorted and quoted from the verdicts before when v has the same: a
// rule file's verdicts all carry the same counters. A verdict with others
// is written as the package's function writes it, and its names kept for
// the next.
func (cn *CounterNames) AppendVerdictOpen(dst []byte, v *Verdict, html bool) []byte {
	return appendVerdictOpen(dst, v, html, cn)
}

// CounterNames are the names of the counters of the last verdicts written,
// sorted, each with its JSON key (`"name":`). Its zero value is ready, and
// it may be used by several goroutines at once.
type CounterNames struct {
	last atomic.Pointer[counterKeys]
}

type counterKeys struct {
	html  bool
	names []string
	keys  [][]byte
}

// appendKnown appends the counters of m as `"name":value,...` when m has
// exactly the names of k, and reports whether it did; dst is left as it
// was when it did not.
func (k *counterKeys) appendKnown(dst []byte, m map[string]int64, html bool) ([]byte, bool) {
	if k == nil || k.html != html || len(k.names) != len(m) || len(m) > maxKnownCounters {
		return dst, false
	}
	// Every name of k in m, and as many: m has k's names and no other.
	var room [maxKnownCounters]int64
	for i, name := range k.names {
		n, ok := m[name]
		if !ok {
			return dst, false
		}
		room[i] = n
	}
	for i := range k.names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(append(dst, k.keys[i]...), room[i], 10)
	}
	return dst, true
}

// maxKnownCounters is the most counters CounterNames keeps the names of; a
// verdict with more is sorted each time.
const maxKnownCounters = 32

func appendVerdictOpen(dst []byte, v *Verdict, html bool, cn *CounterNames) []byte {
	dst = appendStr(append(dst, `{"event_id":`...), v.EventID, html)
	dst = appendStr(append(dst, `,"platform":`...), v.Platform, html)
	dst = append(v.At.AppendFormat(append(dst, `,"at":"`...), time.RFC3339Nano), '"')
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
			dst = appendMatchJSON(dst, &v.Matches[i], html)
		}
		dst = append(dst, ']')
	}
	if len(v.Counters) > 0 {
		dst = append(dst, `,"counters":{`...)
		var known bool
		if cn != nil {
			dst, known = cn.last.Load().appendKnown(dst, v.Counters, html)
		}
		if !known {
			dst = appendCounters(dst, v.Counters, html, cn)
		}
		dst = append(dst, '}')
	}
	if v.Withheld != "" {
		dst = appendStr(append(dst, `,"withheld":`...), v.Withheld, html)
	}
	return dst
}

// appendCounters appends the counters of m as `"name":value,...`, sorted by
// name as encoding/json sorts a map's keys: one pass over the map, no lookup
// after it. With cn, the names are kept for the next verdicts.
func appendCounters(dst []byte, m map[string]int64, html bool, cn *CounterNames) []byte {
	var room [16]counterValue
	cs := room[:0]
	for name, n := range m {
		cs = append(cs, counterValue{name, n})
	}
	sortCounters(cs)
	for i := range cs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(append(appendStr(dst, cs[i].name, html), ':'), cs[i].n, 10)
	}
	if cn != nil && len(cs) <= maxKnownCounters {
		k := &counterKeys{html: html, names: make([]string, len(cs)), keys: make([][]byte, len(cs))}
		for i := range cs {
			k.names[i] = cs[i].name
			k.keys[i] = append(appendStr(nil, cs[i].name, html), ':')
		}
		cn.last.Store(k)
	}
	return dst
}

// PlainTime reports whether encoding/json writes t as its RFC 3339 form, as
// is: Time.MarshalJSON refuses years outside 0-9999 and zone offsets of a day
// or more.
func PlainTime(t time.Time) bool {
	_, offset := t.Zone()
	return t.Year() >= 0 && t.Year() <= 9999 && offset > -24*3600 && offset < 24*3600
}

// counterValue is a counter of the verdict, for its JSON.
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

// appendMatchJSON appends m as encoding/json writes it, its actions as
// Action.MarshalJSON does.
func appendMatchJSON(dst []byte, m *Match, html bool) []byte {
	dst = appendStr(append(dst, `{"rule":`...), m.Rule, html)
	if m.Category != "" {
		dst = appendStr(append(dst, `,"category":`...), m.Category, html)
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
			dst = appendActionJSON(dst, a, html)
		}
		dst = append(dst, ']')
	}
	if m.Shadow {
		dst = append(dst, `,"shadow":true`...)
	}
	dst = appendStr(append(dst, `,"reason":`...), m.Reason, html)
	return append(dst, '}')
}

// AppendActionJSON appends a as encoding/json writes it (through
// Action.MarshalJSON), with <, > and & escaped when html is set.
func AppendActionJSON(dst []byte, a Action, html bool) []byte {
	return appendActionJSON(dst, a, html)
}

func appendActionJSON(dst []byte, a Action, html bool) []byte {
	dst = appendStr(append(dst, `{"kind":`...), string(a.Kind), html)
	if a.Text != "" {
		dst = appendStr(append(dst, `,"text":`...), a.Text, html)
	}
	if a.Duration != 0 {
		// Digits, units and a sign: nothing a JSON string escapes.
		dst = append(AppendDuration(append(dst, `,"duration":"`...), a.Duration), '"')
	}
	return append(dst, '}')
}

// appendStr appends s as a JSON string, with <, > and & escaped when html is
// set (a call, not a func value, so that both stay inlined).
func appendStr(dst []byte, s string, html bool) []byte {
	if html {
		return jsonstr.AppendHTML(dst, s)
	}
	return jsonstr.Append(dst, s)
}
