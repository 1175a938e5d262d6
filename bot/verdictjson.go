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
	dst = append(AppendTime(append(dst, `,"at":"`...), v.At), '"')
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

// AppendTime appends t as t.AppendFormat(dst, time.RFC3339Nano) does. A time
// in UTC between 1970 and 9999, an event's as vigie decodes it, is written
// from its Unix time without going through time's layouts, at about a
// quarter of their cost: the answer to every event carries one.
func AppendTime(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	if t.Location() != time.UTC || sec < 0 || sec >= maxFourDigitYear {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	y, m, d := civilDate(sec / 86400)
	s := uint32(sec % 86400)
	// Written in a room of the longest, 2006-01-02T15:04:05.999999999Z,
	// then appended at once.
	var b [30]byte
	put2(b[0:2], uint32(y/100))
	put2(b[2:4], uint32(y%100))
	b[4] = '-'
	put2(b[5:7], uint32(m))
	b[7] = '-'
	put2(b[8:10], uint32(d))
	b[10] = 'T'
	put2(b[11:13], s/3600)
	b[13] = ':'
	put2(b[14:16], s/60%60)
	b[16] = ':'
	put2(b[17:19], s%60)
	n := 19
	if ns := uint32(t.Nanosecond()); ns != 0 {
		// Nine digits less the trailing zeros: milliseconds, an event's
		// usual, are three at most.
		digits := 9
		switch {
		case ns%1e6 == 0:
			ns, digits = ns/1e6, 3
		case ns%1e3 == 0:
			ns, digits = ns/1e3, 6
		}
		for ns%10 == 0 {
			ns, digits = ns/10, digits-1
		}
		b[19] = '.'
		n = 20 + digits
		for i := n - 1; i > 19; i-- {
			b[i] = byte('0' + ns%10)
			ns /= 10
		}
	}
	b[n] = 'Z'
	return append(dst, b[:n+1]...)
}

// maxFourDigitYear is the Unix time of 10000-01-01T00:00:00Z.
const maxFourDigitYear = 253402300800

// put2 writes n, below 100, as two digits.
func put2(b []byte, n uint32) {
	b[0], b[1] = byte('0'+n/10), byte('0'+n%10)
}

// civilDate is the year, month and day of the days since 1970-01-01, not
// negative (Howard Hinnant's civil_from_days).
func civilDate(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day
}
