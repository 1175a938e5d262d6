package telegram

import (
	"fmt"
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
			// A daemon that reads has all the time the test may take to read;
			// one that does not is given up on soon.
			drain := 300 * time.Millisecond
			if reading {
				drain = testsync.Patience
			}
			c, logs := newTestClient(t, f, Config{DrainTimeout: drain, Chats: fixtureChats})
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
					case <-time.After(testsync.Patience):
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

// Telegram forgets an update only at a getUpdates with a higher offset. A
// shutdown in the middle of a batch tells it which updates were handed over:
// a vigie started again without a stored offset (the memory store) gets the
// ones that were not, and not again the ones already judged (a warning sent
// twice, a strike counted twice).
func TestShutdownConfirmsTheUpdatesHandedOver(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DrainTimeout: 50 * time.Millisecond, Chats: fixtureChats})
	for i := range 3 {
		f.push(map[string]any{"message": message(group, 100+i, bob, t0+int64(i), fmt.Sprintf("message %d", i))})
	}
	out := make(chan bot.Event) // the daemon takes one event at a time, then stops
	stop := run(t, c, out)
	if ev := <-out; ev.Text != "message 0" {
		t.Fatalf("first event %q", ev.Text)
	}
	stop()
	if left := f.UpdatesLeft(); left != 2 {
		t.Errorf("%d updates left unconfirmed at Telegram, want 2: the one handed over would come again", left)
	}

	again, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	out2 := make(chan bot.Event, 10)
	run(t, again, out2)
	for _, want := range []string{"message 1", "message 2"} {
		select {
		case ev := <-out2:
			if ev.Text != want {
				t.Errorf("after the restart: %q, want %q", ev.Text, want)
			}
		case <-time.After(testsync.Patience):
			t.Fatalf("after the restart: no %q", want)
		}
	}
}
