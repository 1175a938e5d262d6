package countervec

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The counters a Memo gives are the vec's: what they count is what the
// registry exports, by the same label values.
func TestMemoCountsInTheVec(t *testing.T) {
	reg := prometheus.NewRegistry()
	hits := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hits_total", Help: "h"}, []string{"rule", "category", "mode"})
	events := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "events_total", Help: "h"}, []string{"platform", "kind"})
	reg.MustRegister(hits, events)
	m := Of3(hits)
	for range 3 {
		m.With([3]string{"scam", "spam", "enforce"}).Inc()
	}
	m.With([3]string{"scam", "spam", "shadow"}).Inc()
	hits.WithLabelValues("scam", "spam", "enforce").Inc() // the vec, asked directly
	Of2(events).With([2]string{"discord", "message"}).Add(2)

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetValue())
			}
			got[f.GetName()+" "+strings.Join(labels, ",")] = s.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"hits_total spam,enforce,scam": 4, // by label name: category, mode, rule
		"hits_total spam,shadow,scam":  1,
		"events_total message,discord": 2,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("exported %v, want %v", got, want)
	}
}

// Asked at once from many goroutines, old and new label values alike, a
// Memo gives each set of values one counter, the vec's, and loses no count.
func TestMemoConcurrent(t *testing.T) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total", Help: "h"}, []string{"a", "b"})
	m := Of2(vec)
	const workers, keys, rounds = 8, 40, 50
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for r := range rounds {
				for i := range keys {
					k := [2]string{string(rune('a' + (i+w+r)%keys)), "x"}
					m.With(k).Inc()
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	for i := range keys {
		k := [2]string{string(rune('a' + i)), "x"}
		if got, want := m.With(k), vec.WithLabelValues(k[0], k[1]); got != want {
			t.Fatalf("%v: the memo's counter is not the vec's", k)
		}
		var out dto.Metric
		if err := vec.WithLabelValues(k[0], k[1]).Write(&out); err != nil {
			t.Fatal(err)
		}
		if got := out.GetCounter().GetValue(); got != workers*rounds {
			t.Errorf("%v counted %v, want %d", k, got, workers*rounds)
		}
	}
}
