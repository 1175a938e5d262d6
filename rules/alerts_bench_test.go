package rules_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// BenchmarkAlerts measures what alerts cost an event on testdata/good/bench.yaml:
// none, one alert over hits(), and one comparing with baseline() (7 more
// counters read per event). Counting stores report the store calls per event:
// one Observe, plus one only when a rule an alert counts matched.
//
//	go test ./rules -run '^$' -bench Alerts -benchtime 2s -benchmem
func BenchmarkAlerts(b *testing.B) {
	p := prepare(b)
	src, err := os.ReadFile(filepath.Join("testdata", "good", "bench.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	// the alerts go before tests:, the file's last section
	head, tests, _ := strings.Cut(string(src), "\ntests:")
	for _, c := range []struct{ name, alerts string }{
		{"none", ""},
		{"hits", `alerts: [{name: wave, when: 'hits("spam", "10m") >= 20', do: ['alert("x")']}]`},
		{"baseline", `alerts: [{name: unusual, when: 'hits("spam", "1h") >= 10 and hits("spam", "1h") > 3 * baseline("spam")', do: ['alert("x")']}]`},
	} {
		rs, err := rules.Parse("bench.yaml", []byte(head+"\n"+c.alerts+"\ntests:"+tests), rules.LoadOptions{ReadFile: func(name string) ([]byte, error) {
			return os.ReadFile(filepath.Join("testdata", "good", filepath.Base(name)))
		}})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			st := &countingStore{Store: memory.New()}
			eng := rules.NewEngine(rs, st, rules.Options{})
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := eng.Assess(ctx, p.event(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(st.calls)/float64(b.N), "observes/event")
		})
	}
}

// countingStore counts Observe calls: each is one round trip on Redis.
type countingStore struct {
	store.Store
	calls int
}

func (c *countingStore) Observe(ctx context.Context, o store.Observation) (store.Result, error) {
	c.calls++
	return c.Store.Observe(ctx, o)
}
