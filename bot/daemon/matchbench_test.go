package daemon_test

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// matchingTexts are the messages of BenchmarkPipelineMatching. With the starter
// pack, four of six match rules and three or four of six go to the desk: a scam
// (caps, phishing and scam: strikes and cases), an insult (a strike), a crypto
// address (a case), a look-alike link (a strike and a case), a greeting
// (nothing) and a question the FAQ cannot answer (a case after hours). Each
// author writes about ten of them, so repeat-offender joins in as strikes add up.
var matchingTexts = []string{
	"FREE NITRO https://dlscord.gift/claim",
	"t'es vraiment un connard",
	"send 0.1 ETH to 0x52908400098527886E0F7030069857D2E4169EE7 for the giveaway",
	"my new server https://d1scord.gg/abc",
	"salut tout le monde",
	"quelqu'un a vu le stream ?",
}

// BenchmarkPipelineMatching is BenchmarkPipeline on a stream where most events
// match: everything a flagged event writes (counters, hits, strikes, audit,
// journal, cases) is on the path. make bench-redis runs it beside its floor,
// redis-benchmark's unpipelined INCR, on the same redis-server.
func BenchmarkPipelineMatching(b *testing.B) {
	for _, store := range []string{"memory", "redis"} {
		b.Run(store, func(b *testing.B) {
			run := time.Now().UnixNano() // ids and keys unique to this run
			env := map[string]string{}
			if store == "redis" {
				url := os.Getenv("VIGIE_TEST_REDIS_URL")
				if url == "" {
					b.Skip("VIGIE_TEST_REDIS_URL not set (make bench-redis sets it)")
				}
				env["VIGIE_REDIS_URL"] = url
				env["VIGIE_REDIS_PREFIX"] = "bench" + strconv.FormatInt(run, 36)
			}
			in := start(b, "", env, func(c *daemon.Config) {
				c.ConfigPath = filepath.Join("..", "..", vigie.ExampleFile)
				c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
				c.ShutdownTimeout = time.Minute
			})
			now := time.Now()
			cpu := redistest.ProcessCPU()
			b.ResetTimer()
			for i := range b.N {
				in.feed.in <- bot.Event{ID: fmt.Sprint("m-", run, "-", i), Platform: "discord", Kind: bot.KindMessage,
					Space: fmt.Sprint("guild-", i%20), Channel: fmt.Sprint("chan-", i%200),
					Author: bot.Author{ID: fmt.Sprint("u-", i%2000), Name: "Member"},
					Text:   matchingTexts[i%len(matchingTexts)], At: now}
			}
			if err := in.stop(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			// vigie's own CPU (the daemon and its Redis client): on a machine
			// shared with other work, steadier than the rate.
			if used := redistest.ProcessCPU() - cpu; used > 0 {
				b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-µs/event")
			}
			b.ReportMetric(float64(len(in.chat.Calls()))/float64(b.N), "actions/event")
		})
	}
}
