package bot

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// parseUTC reads what UnmarshalJSON reads, the same time, for every form it
// takes, and leaves every other to it: every day from year 0 to 9999, random
// clocks and fractions of one to nine digits, and near misses (dates and
// clocks out of range, other zones, a comma, a lower-case z, ten digits).
func TestParseUTC(t *testing.T) {
	// Every form parseUTC is for: each must be read by it.
	var good []string
	for d := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 10000; d = d.AddDate(0, 0, 1) {
		if d.Year() < 1900 || d.Year() > 2200 {
			if d = d.AddDate(0, 0, 12); d.Year() > 9999 { // every thirteenth day
				break
			}
		}
		good = append(good, d.Format(`"2006-01-02T15:04:05Z"`), d.Add(-time.Nanosecond).Format(`"`+time.RFC3339Nano+`"`))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		tm := time.Unix(rng.Int64N(253402300800), rng.Int64N(1e9)).UTC()
		digits := rng.IntN(10)
		layout := "2006-01-02T15:04:05"
		if digits > 0 {
			layout += "." + "000000000"[:digits]
		}
		good = append(good, tm.Format(`"`+layout+`Z"`))
	}
	for _, s := range good {
		if !checkParseUTC(t, s) {
			t.Fatalf("parseUTC(%s) left it to UnmarshalJSON", s)
		}
	}
	// Near misses: read as UnmarshalJSON reads them, or left to it.
	in := []string{`"2026-02-29T10:00:00Z"`, `"2024-02-29T10:00:00Z"`, `"2100-02-29T00:00:00Z"`, `"2000-02-29T00:00:00Z"`,
		`"2026-04-31T00:00:00Z"`, `"2026-13-01T00:00:00Z"`, `"2026-00-01T00:00:00Z"`, `"2026-01-00T00:00:00Z"`,
		`"2026-01-01T24:00:00Z"`, `"2026-01-01T23:60:00Z"`, `"2026-01-01T23:59:60Z"`, `"2026-01-01T23:59:59.Z"`,
		`"2026-01-01T23:59:59.1234567891Z"`, `"2026-01-01T23:59:59,5Z"`, `"2026-01-01T23:59:59z"`,
		`"2026-01-01T23:59:59+01:00"`, `"2026-01-01T23:59:59.5+01:00"`, `"2026-01-01 23:59:59Z"`, `"2026-1-01T23:59:59Z"`,
		`"+2026-01-01T23:59:59Z"`, `"2026-01-01T23:59:5aZ"`, `"2026-01-01T23:59:59.5a5Z"`, `"2026-01-01T23:59:59/Z"`,
		`"2026-01-01T23:59:59"`, `2026-01-01T23:59:59Z`, `"2026-01-01T23:59:59Z`, `""`, `"Z"`}
	for i := range 200 {
		// a byte of a good time changed to a neighbour of the digits
		b := []byte(`"2026-12-06T08:21:05.083Z"`)
		b[1+i%24] = "/:0"[i%3]
		in = append(in, string(b))
	}
	for _, s := range in {
		checkParseUTC(t, s)
	}
}

// checkParseUTC fails t if parseUTC reads s otherwise than UnmarshalJSON;
// it reports whether parseUTC read it.
func checkParseUTC(t *testing.T, s string) bool {
	t.Helper()
	var want time.Time
	wantErr := want.UnmarshalJSON([]byte(s))
	got, ok := parseUTC([]byte(s))
	if !ok {
		return false
	}
	if wantErr != nil {
		t.Fatalf("parseUTC(%s) = %v, but UnmarshalJSON refuses it: %v", s, got, wantErr)
	}
	if got != want || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parseUTC(%s) = %v (%#v), want %v (%#v)", s, got, got, want, want)
	}
	return true
}

func FuzzParseUTC(f *testing.F) {
	for _, s := range []string{`"2026-12-06T08:21:05.083Z"`, `"2024-02-29T23:59:59Z"`, `"0000-01-01T00:00:00.000000001Z"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkParseUTC(t, s) })
}

// BenchmarkParseUTC compares the decoder's way of reading an event's time
// with UnmarshalJSON's.
func BenchmarkParseUTC(b *testing.B) {
	raw := []byte(`"2026-12-06T08:21:05.083Z"`)
	b.Run("UnmarshalJSON", func(b *testing.B) {
		var t time.Time
		for b.Loop() {
			_ = t.UnmarshalJSON(raw)
		}
	})
	b.Run("parseUTC", func(b *testing.B) {
		for b.Loop() {
			parseUTC(raw)
		}
	})
}
