package daemon_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
)

// BenchmarkHTTPEvents posts events to POST /v1/events over keep-alive
// connections, from as many clients as GOMAXPROCS × 8, and compares with its
// floor, a bare server that reads, decodes and answers the same JSON: vigie's
// share of the floor's rate is the figure to watch, and the floor's share of
// vigie's CPU per event when the machine is busy with other work. vigie logs
// to a file, as vigie run does.
func BenchmarkHTTPEvents(b *testing.B) {
	texts := []string{"salut tout le monde", "FREE NITRO https://dlscord.gift/claim", "quelqu'un a vu le stream ?",
		"t'es vraiment un connard", "gg à tous", "je joue ce soir"}
	run := time.Now().UnixNano()
	var n atomic.Int64
	body := func() []byte {
		i := n.Add(1)
		ev := map[string]any{"id": fmt.Sprint("h-", run, "-", i), "platform": "shop", "kind": "message",
			"space": fmt.Sprint("s-", i%20), "channel": fmt.Sprint("c-", i%200),
			"author": map[string]any{"id": fmt.Sprint("u-", i%2000), "name": "Member"},
			"text":   texts[i%int64(len(texts))], "at": time.Now().UTC().Format(time.RFC3339)}
		raw, _ := json.Marshal(ev)
		return raw
	}
	post := func(b *testing.B, url string) {
		b.SetParallelism(8)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
		cpu0, cpuOK := cpuTime()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Post(url, "application/json", bytes.NewReader(body()))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		// CPU per event, the client's included, is steadier than the rate
		// on a machine that other work shares.
		if cpu1, ok := cpuTime(); ok && cpuOK {
			b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
		}
	}

	b.Run("floor", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, _ := io.ReadAll(r.Body)
			var ev bot.Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: ev.At, Matches: []bot.Match{}})
		})}
		go srv.Serve(ln)
		defer srv.Close()
		post(b, "http://"+ln.Addr().String()+"/v1/events")
	})
	b.Run("vigie", func(b *testing.B) {
		// Logs go to a file, as vigie run writes them.
		f, err := os.Create(filepath.Join(b.TempDir(), "vigie.log"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		logs := daemon.NewLogWriter(f)
		in := start(b, "", nil, func(c *daemon.Config) {
			c.ConfigPath = filepath.Join("..", "..", vigie.ExampleFile)
			c.Logger = slog.New(slog.NewTextHandler(logs, nil))
			c.Connectors = nil
		})
		post(b, in.base+"/v1/events")
		b.StopTimer()
		if err := in.stop(); err != nil {
			b.Fatal(err)
		}
		if err := logs.Close(); err != nil {
			b.Fatal(err)
		}
		if fi, err := f.Stat(); err == nil {
			b.ReportMetric(float64(fi.Size())/float64(b.N), "log-B/event")
		}
	})
}
