package telegram

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A shutdown that comes while the poller hands over a batch it committed
// does not cut the batch short: Telegram will not send it again. The rest
// is handed over while the daemon still reads; a daemon that no longer reads
// gets DrainTimeout, and the updates left are logged by id.
func TestShutdownHandsOverTheCommittedBatch(t *testing.T) {
	for _, reading := range []bool{true, false} {
		name := map[bool]string{true: "read", false: "not read"}[reading]
		t.Run(name, func(t *testing.T) {
			f := newFakeBotAPI(t)
			c, logs := newTestClient(t, f, Config{DrainTimeout: 300 * time.Millisecond})
			for i := range 10 {
				f.push(map[string]any{"message": message(group, 100+i, bob, t0+int64(i), "message "+string(rune('a'+i)))})
			}
			out := make(chan bot.Event) // the daemon takes one event at a time
			stop := run(t, c, out)
			first := <-out
			stopped := make(chan struct{})
			go func() { stop(); close(stopped) }()
			got := []string{first.Text}
			time.Sleep(100 * time.Millisecond) // the poller sees the shutdown while the daemon is busy
			if reading {
				for len(got) < 10 {
					select {
					case ev := <-out:
						got = append(got, ev.Text)
					case <-time.After(10 * time.Second):
						t.Fatalf("got %q, then nothing", got)
					}
				}
			}
			<-stopped
			if reading {
				if got[9] != "message j" {
					t.Errorf("handed over %q", got)
				}
				if strings.Contains(logs.String(), "not evaluated") {
					t.Errorf("updates reported lost:\n%s", logs)
				}
				return
			}
			testsync.Eventually(t, "the lost updates logged", func() bool {
				return strings.Contains(logs.String(), "9 Telegram updates received but not evaluated before shutdown")
			})
		})
	}
}
