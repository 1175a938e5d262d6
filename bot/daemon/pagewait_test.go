package daemon_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const pageRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
lists:
  insults: [idiot]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [delete]
alerts: [{name: wave, when: 'hits("abuse", "10m") >= 5', do: [alert("Vague")]}]
`

// TestPageThatWaitsDoesNotStallEvents: waves in twenty places page the desk
// while the desk's Bot API does not answer (a hung API, or Telegram's limits leaving no
// slot for minutes). The events after it are still judged and answered: the
// crisis alerts follow the events in order, on one goroutine, and the page
// held it, so that once a thousand events waited behind it every
// POST /v1/events hung, their callers gave up and their connections and
// goroutines piled up. A page is tried again off the events' path.
func TestPageThatWaitsDoesNotStallEvents(t *testing.T) {
	api := tgfake.New(t)
	api.SetTrouble(func(method string, _ url.Values) (int, string, bool) {
		return 0, "", method == "sendMessage"
	})
	in := start(t, pageRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	// Runs before the daemon's stop: the calls it holds end.
	t.Cleanup(api.Release)

	// More events than the observer's queue (1024) holds, after the wave. An
	// event not answered in 20 s is one held up by the page: the Bot API
	// client gives a call 30 s, and Telegram's limits may hold a page for
	// two minutes more.
	const senders, each = 8, 200
	client := &http.Client{Timeout: 20 * time.Second}
	var (
		mu     sync.Mutex
		failed []string
	)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				body := fmt.Sprintf(`{"id":"m-%d-%d","platform":"shop","kind":"comment","space":"shop-%d","author":{"id":"u-%d","name":"U"},"text":"quel idiot","at":%q}`,
					s, i, i%20, i%50, time.Now().UTC().Format(time.RFC3339))
				resp, err := client.Post(in.base+"/v1/events", "application/json", bytes.NewReader([]byte(body)))
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					failed = append(failed, err.Error())
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d senders stopped on an event not answered, first: %s", len(failed), failed[0])
	}
	if n := api.Count("sendMessage", nil); n == 0 {
		t.Errorf("the page was never tried")
	}
}
