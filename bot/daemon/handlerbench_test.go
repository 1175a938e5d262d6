package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	vigie "github.com/vigie-bot/vigie"
)

// BenchmarkHandleEvent is what POST /v1/events costs the goroutine that serves
// it, without the network: read, check, judge, answer, hand over. The lanes
// and the observer carry on on their own goroutines, as in vigie run; logs go
// to a file through a LogWriter, as vigie run writes them. Its allocations
// per event are the steady figure on a shared machine.
func BenchmarkHandleEvent(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "vigie.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	logs := NewLogWriter(f)
	defer logs.Close()
	d, err := build(context.Background(), Config{
		ConfigPath: filepath.Join("..", "..", vigie.ExampleFile),
		Logger:     slog.New(NewTextHandler(logs, nil)),
		Getenv:     WithTokenDir(b, nil),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer d.close()
	d.observer = startObserver(d.followAlerts)
	texts := []string{"salut tout le monde", "FREE NITRO https://dlscord.gift/claim", "quelqu'un a vu le stream ?",
		"t'es vraiment un connard", "gg à tous", "je joue ce soir"}
	run := time.Now().UnixNano()
	bodies := make([][]byte, 4096)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]any{"id": "", "platform": "shop", "kind": "message",
			"space": fmt.Sprint("s-", i%20), "channel": fmt.Sprint("c-", i%200),
			"author": map[string]any{"id": fmt.Sprint("u-", i%2000), "name": "Member"},
			"text":   texts[i%len(texts)], "at": time.Now().UTC().Format(time.RFC3339)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// a fresh id, so that no event is a duplicate
		body := bytes.Replace(bodies[i%len(bodies)], []byte(`"id":""`), fmt.Appendf(nil, `"id":"h-%d-%d"`, run, i), 1)
		w := httptest.NewRecorder()
		d.handleEvent(w, httptest.NewRequest(http.MethodPost, "http://127.0.0.1/v1/events", bytes.NewReader(body)))
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	b.StopTimer()
	d.inflight.closeAndWait(context.Background())
	d.observer.stop(context.Background())
	d.lanes.close(context.Background())
}
