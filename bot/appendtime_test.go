package bot

import (
	"math/rand/v2"
	"testing"
	"time"
)

// AppendTime writes what AppendFormat writes with RFC3339Nano: every day from
// 1970 to 9999 (leap years, the ends of months), fractions with and without
// trailing zeros, and the times it leaves to AppendFormat (other zones,
// before 1970, past 9999).
func TestAppendTime(t *testing.T) {
	var ts []time.Time
	for d := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 10000; d = d.AddDate(0, 0, 1) {
		ts = append(ts, d, d.Add(-time.Nanosecond))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		sec := rng.Int64N(maxFourDigitYear + 1000)
		ns := rng.Int64N(1e9)
		switch rng.IntN(4) {
		case 0:
			ns = 0
		case 1:
			ns -= ns % 1e6 // milliseconds, as events carry
		case 2:
			ns -= ns % 1e3
		}
		ts = append(ts, time.Unix(sec, ns).UTC())
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	ts = append(ts, time.Unix(1765000000, 123456789).Local(), time.Unix(1765000000, 123456789).UTC(), time.Unix(1700000000, 5).In(paris),
		time.Unix(1700000000, 0).In(time.FixedZone("", 0)), time.Unix(-1, 0).UTC(),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{})
	for _, tm := range ts {
		want := tm.AppendFormat([]byte("x"), time.RFC3339Nano)
		if got := AppendTime([]byte("x"), tm); string(got) != string(want) {
			t.Fatalf("AppendTime(%d.%09d %s) = %s, want %s", tm.Unix(), tm.Nanosecond(), tm.Location(), got, want)
		}
	}
}

// BenchmarkAppendTime compares the answer's way of writing an event's time
// with AppendFormat's.
func BenchmarkAppendTime(b *testing.B) {
	at := time.Date(2026, 12, 6, 8, 21, 5, 83e6, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = at.AppendFormat(buf[:0], time.RFC3339Nano)
		}
	})
	b.Run("AppendTime", func(b *testing.B) {
		for b.Loop() {
			buf = AppendTime(buf[:0], at)
		}
	})
}
