package redis

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// fill sets every field reachable from v, the fields of nested structs,
// slices' elements and maps' entries included, to a value that json.Marshal
// writes: variant picks among texts that need escaping or not, so that both
// ways of writing a string are compared.
func fill(v reflect.Value, variant int) {
	texts := []string{"plain", `q"uo\te`, "<b>&amp;</b>", "café ☕", "line\nbreak\u2028\u2029", "bad\xffutf8\xe2\x82",
		"\x00\x01\b\f\r\t\x1f\x7f end", "", "é"}
	switch v.Kind() {
	case reflect.String:
		v.SetString(texts[variant%len(texts)])
	case reflect.Bool:
		v.SetBool(variant%2 == 0)
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeFor[time.Duration]() {
			v.SetInt(int64([]time.Duration{10 * time.Minute, 48 * time.Hour, 90 * time.Second}[variant%3]))
			return
		}
		v.SetInt(int64(variant + 1))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), variant)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), variant+i+1)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for i := range 3 {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, i)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, variant+i)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 3, 22, 10, variant, variant*1000, time.FixedZone("x", []int{0, 3600, -5*3600 - 30*60, 561}[variant%4]))))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), variant+i)
		}
	default:
		panic(fmt.Sprintf("fill: %s", v.Type()))
	}
}

// zeroEach yields copies of v with one field zeroed at a time, at every depth
// of structs reached through v's own fields and pointers.
func zeroEach(v reflect.Value, yield func()) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			zeroEach(v.Elem(), yield)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			f := v.Field(i)
			old := reflect.New(f.Type()).Elem()
			old.Set(f)
			f.SetZero()
			yield()
			f.Set(old)
			if f.Kind() == reflect.Slice && !f.IsNil() {
				f.Set(reflect.MakeSlice(f.Type(), 0, 0)) // empty, not nil
				yield()
				f.Set(old)
			}
			zeroEach(f, yield)
		}
	}
}

func TestEncodeMatchesMarshal(t *testing.T) {
	check := func(t *testing.T, v any, got []byte, err error) {
		t.Helper()
		want, werr := json.Marshal(v)
		if err != nil || werr != nil {
			t.Fatalf("errors: %v, json.Marshal %v", err, werr)
		}
		if string(got) != string(want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	}
	for variant := range 7 {
		t.Run(fmt.Sprint("journal/", variant), func(t *testing.T) {
			var e store.JournalEntry
			fill(reflect.ValueOf(&e).Elem(), variant)
			zeroEach(reflect.ValueOf(&e), func() {
				got, err := encodeJournal(&e)
				check(t, e, got, err)
			})
			got, err := encodeJournal(&e)
			check(t, e, got, err)
			e = store.JournalEntry{}
			got, err = encodeJournal(&e)
			check(t, e, got, err)
		})
		t.Run(fmt.Sprint("audit/", variant), func(t *testing.T) {
			var e store.AuditEntry
			fill(reflect.ValueOf(&e).Elem(), variant)
			zeroEach(reflect.ValueOf(&e), func() {
				got, err := encodeAudit(&e)
				check(t, e, got, err)
			})
			e = store.AuditEntry{}
			got, err := encodeAudit(&e)
			check(t, e, got, err)
		})
		t.Run(fmt.Sprint("case/", variant), func(t *testing.T) {
			var c store.Case
			fill(reflect.ValueOf(&c).Elem(), variant)
			zeroEach(reflect.ValueOf(&c), func() {
				got, err := encodeCase(&c)
				check(t, c, got, err)
			})
		})
		t.Run(fmt.Sprint("event/", variant), func(t *testing.T) {
			var ev bot.Event
			fill(reflect.ValueOf(&ev).Elem(), variant)
			zeroEach(reflect.ValueOf(&ev), func() {
				got, err := encodeEvent(&ev)
				check(t, ev, got, err)
			})
		})
	}
}

// A time json.Marshal refuses is refused the same way.
func TestEncodeRefusesWhatMarshalRefuses(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 25*3600)),
	} {
		if _, err := json.Marshal(at); err == nil {
			t.Fatalf("json.Marshal took %v: the case tests nothing", at)
		}
		e := store.AuditEntry{At: at}
		if _, err := encodeAudit(&e); err == nil {
			t.Errorf("encodeAudit took %v", at)
		}
		j := store.JournalEntry{Begun: at}
		if _, err := encodeJournal(&j); err == nil {
			t.Errorf("encodeJournal took %v", at)
		}
		ev := bot.Event{Author: bot.Author{JoinedAt: at}}
		if _, err := encodeEvent(&ev); err == nil {
			t.Errorf("encodeEvent took %v", at)
		}
		c := store.Case{DecidedAt: at}
		if _, err := encodeCase(&c); err == nil {
			t.Errorf("encodeCase took %v", at)
		}
	}
}

// BenchmarkEncode compares the entries' encoding with json.Marshal's, on an
// entry as a raid night makes them: a message with a link, two rules matched.
func BenchmarkEncode(b *testing.B) {
	at := time.Date(2026, 12, 3, 22, 10, 0, 123456789, time.UTC)
	ev := bot.Event{ID: "m-1042", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-7", Name: "Bob", Roles: []string{"member"}, CreatedAt: at.Add(-time.Hour), JoinedAt: at.Add(-time.Minute)},
		Text:   "free nitro here https://disc0rd-gift.example/claim, be quick", At: at}
	v := bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: at, Matches: []bot.Match{
		{Rule: "scam-link", Category: "scam", Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: time.Hour}, {Kind: bot.ActForward, Text: "scam"}}, Reason: "look-alike domain disc0rd-gift.example"},
		{Rule: "repeat", Category: "abuse", Actions: []bot.Action{{Kind: bot.ActStrike}}, Reason: "3 strikes in 24h"},
	}, Counters: map[string]int64{"msgs": 3, "links": 2, "same_text": 1}}
	audit := store.AuditEntry{At: at, Event: ev, Verdict: v, Mode: "after"}
	journal := store.JournalEntry{Key: ev.Key(), Event: ev, Verdict: v, At: at, Begun: at}
	for _, k := range []struct {
		name string
		f    func() ([]byte, error)
	}{
		{"audit/json", func() ([]byte, error) { return json.Marshal(audit) }},
		{"audit/append", func() ([]byte, error) { return encodeAudit(&audit) }},
		{"journal/json", func() ([]byte, error) { return json.Marshal(journal) }},
		{"journal/append", func() ([]byte, error) { return encodeJournal(&journal) }},
	} {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
