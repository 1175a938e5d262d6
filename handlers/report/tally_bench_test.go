package report

import (
	"testing"
	"time"
)

// BenchmarkTallyAdd counts events of two platforms handled within an hour.
func BenchmarkTallyAdd(b *testing.B) {
	t := NewTally("bench")
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.Local)
	platforms := []string{"discord", "telegram"}
	b.ReportAllocs()
	for i := range b.N {
		t.Add(platforms[i&1], t0.Add(time.Duration(i)*time.Microsecond))
	}
}
