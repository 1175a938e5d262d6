package daemon_test

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
)

// BenchmarkPipeline pushes events through the whole daemon, as a source hands
// them over: judged by the starter pack on the evaluators, carried out in the
// places' lanes on a platform that answers at once, and drained by a shutdown.
// A raid night: 200 places, 2,000 authors, a third of the messages flagged.
func BenchmarkPipeline(b *testing.B) {
	for _, store := range []string{"memory", "redis"} {
		b.Run(store, func(b *testing.B) {
			env := map[string]string{}
			if store == "redis" {
				url := os.Getenv("VIGIE_TEST_REDIS_URL")
				if url == "" {
					b.Skip("VIGIE_TEST_REDIS_URL not set (make bench sets it)")
				}
				env["VIGIE_REDIS_URL"] = url
			}
			in := start(b, "", env, func(c *daemon.Config) {
				c.ConfigPath = filepath.Join("..", "..", vigie.ExampleFile)
				c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
				c.ShutdownTimeout = time.Minute
			})
			texts := []string{"salut tout le monde", "FREE NITRO https://dlscord.gift/claim", "quelqu'un a vu le stream ?",
				"t'es vraiment un connard", "gg à tous", "je joue ce soir"}
			now := time.Now()
			run := now.UnixNano() // ids unique to this run: Redis remembers the last one's
			b.ResetTimer()
			for i := range b.N {
				in.feed.in <- bot.Event{ID: fmt.Sprint("b-", run, "-", i), Platform: "discord", Kind: bot.KindMessage,
					Space: fmt.Sprint("guild-", i%20), Channel: fmt.Sprint("chan-", i%200),
					Author: bot.Author{ID: fmt.Sprint("u-", i%2000), Name: "Member"}, Text: texts[i%len(texts)], At: now}
			}
			if err := in.stop(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(len(in.chat.Calls()))/float64(b.N), "actions/event")
		})
	}
}
