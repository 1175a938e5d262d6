package redis_test

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// listedCases is how many open cases BenchmarkCasesList lists: a desk that
// nobody emptied for a raid or two.
const listedCases = 10_000

// BenchmarkCasesList lists 10,000 open cases (vigie cases list, the
// console's queue, /queue on the desks all read them so), one in four
// joined by three more hits of its author, whose references it keeps:
// ms/list, the round trips of a listing, the commands redis-server ran for
// each case listed, and the CPU of redis-server and of vigie a listing
// (redis-cpu-µs/event, client-cpu-µs/event: an event is a listing).
func BenchmarkCasesList(b *testing.B) {
	r := redistest.NewBench(b)
	st, err := redis.Open(r.URL, redis.WithPrefix(newPrefix()), redis.WithOpenCaseCap(2*listedCases))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	t0 := time.Unix(1_800_000_000, 0).UTC()
	for i := range listedCases {
		hits := 1
		if i%4 == 0 {
			hits = 4
		}
		for h := range hits {
			c := store.Case{Event: bot.Event{ID: fmt.Sprintf("m-%d-%d", i, h), Platform: "discord", Space: "g-1",
				Channel: fmt.Sprintf("c-%d", i%50), Author: bot.Author{ID: fmt.Sprintf("u-%d", i), Name: "member"},
				Text: "a scam link at https://example.invalid/claim-your-prize", At: t0.Add(time.Duration(i) * time.Second)},
				Rule: "scam", Category: "scam", Reason: "a scam link", Suggested: []bot.Action{{Kind: bot.ActBan}}}
			if _, err := st.OpenCase(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	}
	cmds := func() int64 {
		info, err := r.Client.Info(ctx, "stats").Result()
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(info))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "total_commands_processed:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		b.Fatal("no total_commands_processed")
		return 0
	}
	trips, before := st.RoundTrips(), cmds()
	r.Start(b)
	for range b.N {
		cs, err := st.Cases(ctx, store.CaseOpen)
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) != listedCases {
			b.Fatalf("%d cases listed, want %d", len(cs), listedCases)
		}
	}
	// Its events are listings: the CPU of redis-server and of vigie a list.
	r.Report(b)
	// The INFOs of the counts are three commands.
	b.ReportMetric(float64(cmds()-before-3)/float64(b.N*listedCases), "commands/case")
	b.ReportMetric(float64(st.RoundTrips()-trips)/float64(b.N), "roundtrips/list")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/list")
}
