package rules_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/classify"
	"github.com/vigie-bot/vigie/store/memory"
)

// benchCorpus reads up to max events from the labelled data next to the
// repository (../../shared/data), taking from each file in turn so that spam,
// French and English abuse and ordinary messages are mixed. Without the data (on
// CI) a small synthetic corpus stands in.
func benchCorpus(tb testing.TB, max int) []bot.Event {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "*.jsonl"))
	var readers []*bot.Reader
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		tb.Cleanup(func() { fh.Close() })
		readers = append(readers, bot.NewReader(fh))
	}
	var out []bot.Event
	for len(out) < max && len(readers) > 0 {
		for i := 0; i < len(readers); i++ {
			ev, err := readers[i].Next()
			var le *bot.LineError
			switch {
			case errors.Is(err, io.EOF):
				readers = append(readers[:i], readers[i+1:]...)
				i--
			case errors.As(err, &le):
			case err != nil:
				tb.Fatal(err)
			default:
				out = append(out, ev)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	texts := []string{"salut tout le monde", "t'es un connard", "check out my channel https://spam.example.net",
		"GG WP", "@a @b @c @d @e venez", "🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥", "POURQUOI PERSONNE NE REPOND", "merci pour la vidéo"}
	at := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	for i := range 1000 {
		out = append(out, bot.Event{ID: strconv.Itoa(i), Platform: "discord", Kind: bot.KindMessage, Space: "g",
			Author: bot.Author{ID: "u" + strconv.Itoa(i%37)}, Text: texts[i%len(texts)], At: at.Add(time.Duration(i) * time.Second)})
	}
	return out
}

// prepared gives each benchmark iteration a distinct event (ids are unique, times
// move forward pass after pass) so that dedupe does not short-cut the work.
type prepared struct {
	events []bot.Event
	span   time.Duration
}

func prepare(tb testing.TB) prepared {
	evs := benchCorpus(tb, 5000)
	// The files' own clocks are years apart; a live stream's clock only moves
	// forward. Events come 10ms apart, a busy server, in the files' order.
	const gap = 10 * time.Millisecond
	base := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	for i := range evs {
		evs[i].Platform = "bench"
		evs[i].At = base.Add(time.Duration(i) * gap)
	}
	return prepared{events: evs, span: time.Duration(len(evs)) * gap}
}

// event returns the i-th event of the endless stream. The id is built here
// (one small allocation per event counted in allocs/op).
func (p prepared) event(i int) bot.Event {
	n := len(p.events)
	ev := p.events[i%n]
	pass := i / n
	if pass > 0 {
		ev.ID = ev.ID + "#" + strconv.Itoa(pass)
		ev.At = ev.At.Add(time.Duration(pass) * p.span)
	}
	return ev
}

// BenchmarkEvaluate measures the engine with the memory store over a mixed
// corpus, on a realistic file (testdata/good/bench.yaml: 12 rules, 3 counters,
// 2 lists) and on the starter pack, also with its models switched off (what
// score() costs is the difference).
//
//	go test ./rules -run '^$' -bench Evaluate -benchtime 2s -benchmem
func BenchmarkEvaluate(b *testing.B) {
	p := prepare(b)
	example := filepath.Join("..", "rules.example.yaml")
	for _, c := range []struct {
		name, file string
		opts       rules.LoadOptions
	}{
		{"bench.yaml", filepath.Join("testdata", "good", "bench.yaml"), rules.LoadOptions{}},
		{"rules.example.yaml", example, rules.LoadOptions{}},
		{"rules.example.yaml-models-off", example, rules.LoadOptions{Models: map[string]*classify.Model{"spam": nil, "abuse": nil}}},
	} {
		rs, err := rules.LoadWith(c.file, c.opts)
		if err != nil {
			b.Fatal(err)
		}
		name := c.name
		b.Run(name, func(b *testing.B) {
			eng := rules.NewEngine(rs, memory.New(), rules.Options{})
			ctx := context.Background()
			b.ReportAllocs()
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				if _, err := eng.Evaluate(ctx, p.event(i)); err != nil {
					b.Fatal(err)
				}
			}
			report(b, cpu)
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			eng := rules.NewEngine(rs, memory.New(), rules.Options{})
			ctx := context.Background()
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := eng.Evaluate(ctx, p.event(int(next.Add(1)-1))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			report(b, cpu)
		})
	}
}

// report adds events/s (wall clock) and the CPU time per event, which says what
// one core sustains whatever else the machine is doing.
func report(b *testing.B, cpuBefore time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu := cpuTime() - cpuBefore; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	}
}

// BenchmarkEvaluateCommunities measures what communities cost: the same file
// and stream as BenchmarkEvaluate's bench.yaml, the events in places of no
// community ("none"), or of a community with its own office hours and a
// rule disabled ("in").
//
//	go test ./rules -run '^$' -bench EvaluateCommunities -benchtime 2s -benchmem
func BenchmarkEvaluateCommunities(b *testing.B) {
	p := prepare(b)
	src, err := os.ReadFile(filepath.Join("testdata", "good", "bench.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	src = append(src, `
communities:
  shop:
    places: [discord:1]
    office_hours: {mon-sun: "08:00-20:00"}
    rules: {disable: [flood]}
`...)
	rs, err := rules.Parse("bench.yaml", src, rules.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, space string }{{"none", "2"}, {"in", "1"}} {
		b.Run(c.name, func(b *testing.B) {
			eng := rules.NewEngine(rs, memory.New(), rules.Options{})
			ctx := context.Background()
			b.ReportAllocs()
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				ev := p.event(i)
				ev.Platform, ev.Space = "discord", c.space
				if _, err := eng.Evaluate(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
			report(b, cpu)
		})
	}
}
