package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/internal/stopwatch"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// BenchmarkSoak drives the starter pack, the moderator and the memory store
// with no desk on the events' own clock: 3,000 events a second from 1M
// distinct authors, texts from ../../shared/data when present. Each
// simulated minute it logs the live heap (after a collection), the
// process's resident memory (which holds the memory store's tables mapped
// outside the heap, and the heap's room to grow before the next
// collection), the open cases, the minute's p99 of an event's evaluation and handling, and how
// long the escalation's check took. b.N is the number of events:
// -benchtime=5400000x is 30 simulated minutes.
func BenchmarkSoak(b *testing.B) {
	rs, _, err := vigie.LoadRules(filepath.Join("..", vigie.ExampleFile))
	if err != nil {
		b.Fatal(err)
	}
	texts := soakTexts(b)
	const perSecond, authors = 3000, 1_000_000
	start := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	var now time.Time
	clock := func() time.Time { return now }
	st := memory.New()
	defer st.Close()
	reg := prometheus.NewRegistry()
	m, err := handlers.New(handlers.Options{Store: st, Now: clock, Registerer: reg})
	if err != nil {
		b.Fatal(err)
	}
	esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{Registerer: reg})
	if err != nil {
		b.Fatal(err)
	}
	engine := rules.NewEngine(rs, st, rules.Options{})
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, 60*perSecond)
	var ms runtime.MemStats
	report := func(minute int) {
		watch := stopwatch.Start()
		if _, err := esc.Check(ctx); err != nil {
			b.Fatal(err)
		}
		check := watch.Elapsed()
		slices.Sort(lat)
		p99 := time.Duration(0)
		if len(lat) > 0 {
			p99 = lat[len(lat)*99/100]
		}
		lat = lat[:0]
		runtime.GC()
		runtime.ReadMemStats(&ms)
		open := soakGauge(b, reg, "vigie_cases_open")
		// On stderr: the benchmark's log keeps its first ten lines only.
		fmt.Fprintf(os.Stderr, "minute %3d: heap %6.1f MiB (sys %6.1f), rss %6.1f MiB, store entries %8d, open cases %6.0f, dropped %6.0f, expired %6.0f, p99 %8s, check %8s\n",
			minute, float64(ms.HeapAlloc)/(1<<20), float64(ms.HeapSys)/(1<<20), soakRSS()/(1<<20), st.Len(), open,
			soakGauge(b, reg, "vigie_cases_dropped_total"), soakGauge(b, reg, "vigie_cases_expired_total"),
			p99.Round(time.Microsecond), check.Round(time.Microsecond))
	}
	b.ResetTimer()
	for i := range b.N {
		now = start.Add(time.Duration(i) * time.Second / perSecond)
		ev := texts[i%len(texts)]
		ev.ID = fmt.Sprint("s-", i)
		ev.Platform = "discord"
		ev.Kind = bot.KindMessage
		ev.Space = fmt.Sprint("guild-", i%20)
		ev.Channel = fmt.Sprint("chan-", i%200)
		ev.Author = bot.Author{ID: fmt.Sprint("u-", rnd.IntN(authors)), Name: "Member",
			CreatedAt: start.Add(-24 * time.Hour), JoinedAt: start.Add(-time.Hour)}
		ev.At = now
		watch := stopwatch.Start()
		v, err := engine.Evaluate(ctx, ev)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Handle(ctx, ev, v); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, watch.Elapsed())
		if (i+1)%(60*perSecond) == 0 {
			b.StopTimer()
			report((i + 1) / (60 * perSecond))
			b.StartTimer()
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	if p := os.Getenv("VIGIE_SOAK_HEAP"); p != "" {
		// The live heap with the store still in use (-memprofile is written
		// after it was let go).
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
	}
	runtime.KeepAlive(st)
}

// soakTexts are the events of the labelled data, or a few texts without it.
func soakTexts(b *testing.B) []bot.Event {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "*.jsonl"))
	var out []bot.Event
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev bot.Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Text != "" {
				out = append(out, bot.Event{Text: ev.Text})
			}
		}
		fh.Close()
	}
	if len(out) == 0 {
		for _, t := range []string{"salut tout le monde", "FREE NITRO https://dlscord.gift/claim",
			"quelqu'un a vu le stream ?", "t'es vraiment un connard", "gg à tous", "je joue ce soir"} {
			out = append(out, bot.Event{Text: t})
		}
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// soakRSS is the process's resident memory in bytes, 0 where /proc does not
// tell it.
func soakRSS() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, rss int64
	if _, err := fmt.Sscan(string(b), &size, &rss); err != nil {
		return 0
	}
	return float64(rss * int64(os.Getpagesize()))
}

// soakGauge reads one unlabelled metric, 0 when it is not registered.
func soakGauge(b *testing.B, reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		x := mf.GetMetric()[0]
		if g := x.GetGauge(); g != nil {
			return g.GetValue()
		}
		return x.GetCounter().GetValue()
	}
	return 0
}
