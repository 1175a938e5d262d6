package daemon_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// concurrentTexts are what the members of TestConcurrentVerdicts write: FAQ
// questions, insults, scam links, shouting, copies and near-copies, of
// lengths from a word to a kilobyte, so that one request's body buffer, used
// again, is longer or shorter than the next one's.
var concurrentTexts = []string{
	"salut tout le monde",
	"quels sont vos horaires ?",
	"what are your opening hours?",
	"mon colis n'est toujours pas arrivé, vous pouvez m'aider ?",
	"t'es vraiment un connard",
	"you are a stupid idiot",
	"FREE NITRO here https://discord-nitro-gift.example/claim get it now",
	"CE SERVEUR EST VRAIMENT NUL JE VEUX PARLER A UN HUMAIN",
	"buy followers cheap at http://cheap-followers.example/promo best price",
	"le serveur est down ?",
	"gg wp",
	"comment on s'inscrit au tournoi ce week-end avec mon équipe ?",
	"@a @b @c @d @e @f regardez ça",
	strings.Repeat("lorem ipsum dolor sit amet ", 40),
	"je veux me faire rembourser ma commande numéro 4521 svp",
}

// concurrentEvent is event i of worker w, in a space and with authors of the
// worker's own: what the store counts for it (its author's counters, its
// space's copies and alerts) depends on the worker's events alone, in order.
func concurrentEvent(w, i int, base time.Time) []byte {
	text := concurrentTexts[(i*7+w*3)%len(concurrentTexts)]
	if i%5 == 4 {
		text = concurrentTexts[(i*7+w*3-7)%len(concurrentTexts)] // the one before: a copy
	}
	if i%11 == 10 {
		text += fmt.Sprintf(" (w%d n°%d)", w, i) // a near-copy
	}
	ev := map[string]any{
		"id": fmt.Sprintf("w%d-e%03d", w, i), "platform": "telegram", "kind": "message",
		"space": fmt.Sprintf("group-%d", w), "channel": fmt.Sprintf("chan-%d-%d", w, i%2),
		"author": map[string]any{"id": fmt.Sprintf("w%d-u%d", w, i%3), "name": fmt.Sprintf("Membre %d.%d", w, i%3)},
		"text":   text,
		"at":     base.Add(time.Duration(i) * 1500 * time.Millisecond).Format(time.RFC3339Nano),
	}
	body, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return body
}

// postAll posts each worker's events in order, the workers at once when
// concurrent, one after the other otherwise, and returns the answers by event.
func postAll(t *testing.T, base string, events [][][]byte, concurrent bool) map[string]string {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(events)}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	answers := map[string]string{}
	var errs []string
	post := func(w int) {
		for i, body := range events[w] {
			resp, err := client.Post(base+"/v1/events", "application/json", bytes.NewReader(body))
			if err != nil {
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			mu.Lock()
			if err != nil || resp.StatusCode != http.StatusOK {
				errs = append(errs, fmt.Sprintf("worker %d event %d: %d %s %v", w, i, resp.StatusCode, b, err))
			}
			answers[fmt.Sprintf("w%d-e%03d", w, i)] = string(b)
			mu.Unlock()
		}
	}
	if concurrent {
		var wg sync.WaitGroup
		for w := range events {
			wg.Go(func() { post(w) })
		}
		wg.Wait()
	} else {
		for w := range events {
			post(w)
		}
	}
	if len(errs) > 0 {
		t.Fatalf("%d posts failed, the first: %s", len(errs), errs[0])
	}
	return answers
}

// Events posted at once by many clients get the verdicts, actions, reasons,
// counters and FAQ answers that the same events posted one by one get: the
// pooled body and answer buffers, the engine's scratch, the FAQ's memo and the
// store's shards keep nothing of one request in another's answer. The starter
// pack runs on the memory store, with no connector (its events are then
// carried out on their request's goroutine, and the crisis alerts observed
// there) and with one (carried out in the lanes).
func TestConcurrentVerdicts(t *testing.T) {
	config, err := filepath.Abs("../../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 8, 60
	// the events' own time, a little in the past: both runs judge them at
	// the same times, whatever the clock says when each runs, and none is
	// stale for the FAQ (handlers.DefaultStale) even under -race
	base := time.Now().UTC().Add(-2 * time.Minute).Truncate(time.Second)
	events := make([][][]byte, workers)
	for w := range events {
		for i := range perWorker {
			events[w] = append(events[w], concurrentEvent(w, i, base))
		}
	}
	// In the lanes, the FAQ's cooldown is written when the lane has sent
	// the answer, after the caller has its verdict (faq.Assistant.Carry):
	// whether the next question in the channel, posted at once, finds it is
	// a matter of time, one by one too. The FAQ's answers are compared where
	// the events are carried out before their request ends.
	for _, c := range []struct {
		name      string
		connected bool
	}{{"inline", false}, {"lanes", true}} {
		t.Run(c.name, func(t *testing.T) {
			run := func(concurrent bool) map[string]string {
				in := start(t, "", nil, func(cfg *daemon.Config) {
					cfg.ConfigPath = config
					if !c.connected {
						cfg.Connectors = nil
					}
				})
				defer func() {
					if err := in.stop(); err != nil {
						t.Errorf("shutdown: %v", err)
					}
				}()
				answers := postAll(t, in.base, events, concurrent)
				if c.connected {
					for id, a := range answers {
						answers[id] = withoutFAQ(t, a)
					}
				}
				return answers
			}
			want := run(false)
			got := run(true)
			flagged := 0
			for id, w := range want {
				if strings.Contains(w, `"rule"`) {
					flagged++
				}
				if g := got[id]; g != w {
					t.Errorf("%s, posted at once with the others:\n%s\none by one:\n%s", id, g, w)
				}
			}
			// the comparison is worth something only if the rules and the
			// FAQ had things to say
			faqs := strings.Count(strings.Join(mapValues(want), ""), `"faq"`)
			if flagged < workers*perWorker/4 || !c.connected && faqs < workers {
				t.Errorf("%d of %d events matched a rule, %d FAQ answers: the events say too little", flagged, len(want), faqs)
			}
		})
	}
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// withoutFAQ is an answer to POST /v1/events without its "faq".
func withoutFAQ(t *testing.T, answer string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(answer), &m); err != nil {
		t.Fatalf("answer %s: %v", answer, err)
	}
	delete(m, "faq")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rulesGeneration is a rule file whose shadow rule and FAQ answer both name
// gen: a verdict and its FAQ answer from one file name the same.
func rulesGeneration(gen string) string {
	return `timezone: UTC
rules:
  - name: gen-` + gen + `
    category: test
    mode: shadow
    when: 'text contains "horaires"'
    do: ['tag("` + gen + `")']
faq:
  cooldown: {channel: off, user: off}
  entries:
    - id: hours
      questions: ["quels sont vos horaires ?", "what are your opening hours?"]
      answer: {fr: "horaires ` + gen + `", en: "hours ` + gen + `"}
`
}

// Events posted while the rule file is reloaded again and again are each
// judged by one file: the rule that matched and the FAQ's answer come from
// the same one, never the rules of the old file and the answer of the new.
func TestReloadWhileEventsFlow(t *testing.T) {
	in := start(t, rulesGeneration("one"), nil, func(cfg *daemon.Config) { cfg.Connectors = nil })
	const workers = 4
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var torn []string
	posted := 0
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers + 1}}
	defer client.CloseIdleConnections()
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ev := message(fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("u-%d-%d", w, i), "quels sont vos horaires ?")
				ev["channel"] = fmt.Sprintf("c-%d-%d", w, i)
				// a server each: in one, the FAQ answers an entry five
				// times in ten minutes
				ev["space"] = fmt.Sprintf("g-%d-%d", w, i)
				body, _ := json.Marshal(ev)
				resp, err := client.Post(in.base+"/v1/events", "application/json", bytes.NewReader(body))
				if err != nil {
					mu.Lock()
					torn = append(torn, err.Error())
					mu.Unlock()
					return
				}
				var a struct {
					Matches []struct{ Rule string }
					FAQ     *struct{ Text *string }
				}
				err = json.NewDecoder(resp.Body).Decode(&a)
				resp.Body.Close()
				mu.Lock()
				posted++
				switch {
				case err != nil || len(a.Matches) != 1 || a.FAQ == nil || a.FAQ.Text == nil:
					torn = append(torn, fmt.Sprintf("%s: %d, %+v %v", ev["id"], resp.StatusCode, a, err))
				case "horaires "+strings.TrimPrefix(a.Matches[0].Rule, "gen-") != *a.FAQ.Text:
					torn = append(torn, fmt.Sprintf("%s: rule %s, FAQ answer %q", ev["id"], a.Matches[0].Rule, *a.FAQ.Text))
				}
				mu.Unlock()
			}
		})
	}
	for i := range 60 {
		gen := []string{"one", "two"}[(i+1)%2]
		if err := os.WriteFile(in.file, []byte(rulesGeneration(gen)), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := in.do(t, "POST", "/-/reload", nil, nil); r.code != http.StatusOK {
			t.Fatalf("reload %d: %d %s", i, r.code, r.body)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d events posted during 60 reloads", posted)
	if len(torn) > 0 {
		t.Errorf("%d of %d events judged by two files, the first: %s", len(torn), posted, torn[0])
	}
}

// Events from a connector, judged while the rule file is reloaded again and
// again, are answered by the FAQ of the file whose rules judged them, though
// the answer goes out later, in the event's lane.
func TestReloadWhileSourceEventsFlow(t *testing.T) {
	in := start(t, rulesGeneration("one"), nil)
	done := make(chan struct{})
	const n = 20000
	go func() {
		defer close(done)
		for i := range n {
			// a server each: in one, the FAQ answers an entry five times
			// in ten minutes
			ev := bot.Event{ID: fmt.Sprintf("s-%d", i), Platform: "discord", Kind: bot.KindMessage, Space: fmt.Sprintf("guild-%d", i),
				Channel: fmt.Sprintf("c-%d", i), Author: bot.Author{ID: fmt.Sprintf("u-%d", i), Name: "Bob"},
				Text: "quels sont vos horaires ?", At: time.Now()}
			in.feed.in <- ev
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
		default:
			gen := []string{"one", "two"}[(i+1)%2]
			if err := os.WriteFile(in.file, []byte(rulesGeneration(gen)), 0o600); err != nil {
				t.Fatal(err)
			}
			if r := in.do(t, "POST", "/-/reload", nil, nil); r.code != http.StatusOK {
				t.Fatalf("reload %d: %d %s", i, r.code, r.body)
			}
			continue
		}
		break
	}
	judged := map[string]string{}
	verdict := regexp.MustCompile(`msg=verdict event=discord:(\S+) rules=gen-(\w+)`)
	answered := regexp.MustCompile(`^reply (\S+) "horaires (\w+)"$`)
	testsync.Eventually(t, "every event answered", func() bool { return len(in.chat.Calls()) >= n })
	for _, m := range verdict.FindAllStringSubmatch(in.logs.String(), -1) {
		judged[m[1]] = m[2]
	}
	torn := 0
	for _, c := range in.chat.Calls() {
		m := answered.FindStringSubmatch(c)
		if m == nil {
			t.Fatalf("call %q", c)
		}
		if judged[m[1]] != m[2] {
			if torn == 0 {
				t.Errorf("%s judged by the rules of %q, answered by the FAQ of %q", m[1], judged[m[1]], m[2])
			}
			torn++
		}
	}
	if torn > 0 {
		t.Errorf("%d of %d events judged by one file and answered by another", torn, n)
	}
}

// rulesRouting is a rule file whose one rule, gen-GEN, forwards every
// message to the desk at high priority, and whose community, GEN, holds
// the place the events come from: a case opened by one file's rule names
// that file's community and has that file's priority.
func rulesRouting(gen string) string {
	return `timezone: UTC
rules:
  - name: gen-` + gen + `
    category: test
    priority: high
    when: 'true'
    do: ['forward("` + gen + `")']
communities:
  ` + gen + `:
    places: [discord:123456789012345678]
`
}

// routedPlace is the Discord guild of rulesRouting's communities.
const routedPlace = "123456789012345678"

// routedCases are the open cases' rule, community and priority, by event.
func routedCases(t *testing.T, in *instance) map[string]string {
	t.Helper()
	out := map[string]string{}
	for offset := 0; ; offset += 1000 {
		r := in.do(t, "GET", fmt.Sprintf("/v1/cases?limit=1000&offset=%d", offset), nil, nil)
		if r.code != http.StatusOK {
			t.Fatalf("GET /v1/cases = %d %s", r.code, r.body)
		}
		var p struct {
			Cases []struct {
				Rule, Community, Priority string
				Event                     struct{ ID string }
			}
		}
		r.json(t, &p)
		for _, c := range p.Cases {
			out[c.Event.ID] = c.Rule + " " + c.Community + " " + c.Priority
		}
		if len(p.Cases) < 1000 {
			return out
		}
	}
}

// Cases opened while the rule file is reloaded again and again are each
// opened as the file that judged their event says: in its community (whose
// desk they go to), at its rule's priority, never in the community the next
// file puts the place in. Events come from a connector and over HTTP, and
// are carried out in the lanes.
func TestReloadWhileCasesOpen(t *testing.T) {
	for _, path := range []string{"source", "http"} {
		t.Run(path, func(t *testing.T) {
			in := start(t, rulesRouting("one"), nil)
			done := make(chan struct{})
			const n = 2000
			go func() {
				defer close(done)
				client := &http.Client{}
				defer client.CloseIdleConnections()
				for i := range n {
					id, author := fmt.Sprintf("r-%d", i), fmt.Sprintf("u-%d", i)
					if path == "source" {
						in.feed.in <- bot.Event{ID: id, Platform: "discord", Kind: bot.KindMessage, Space: routedPlace,
							Channel: "c-" + id, Author: bot.Author{ID: author, Name: "Bob"}, Text: "salut", At: time.Now()}
						continue
					}
					ev := message(id, author, "salut")
					ev["space"], ev["channel"] = routedPlace, "c-"+id
					body, _ := json.Marshal(ev)
					resp, err := client.Post(in.base+"/v1/events", "application/json", bytes.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
				}
			}()
			for i := 0; ; i++ {
				select {
				case <-done:
				default:
					gen := []string{"one", "two"}[(i+1)%2]
					if err := os.WriteFile(in.file, []byte(rulesRouting(gen)), 0o600); err != nil {
						t.Fatal(err)
					}
					if r := in.do(t, "POST", "/-/reload", nil, nil); r.code != http.StatusOK {
						t.Fatalf("reload %d: %d %s", i, r.code, r.body)
					}
					continue
				}
				break
			}
			var cases map[string]string
			testsync.Eventually(t, "every case opened", func() bool { cases = routedCases(t, in); return len(cases) >= n })
			torn := 0
			for id, c := range cases {
				if c != "gen-one one high" && c != "gen-two two high" {
					if torn == 0 {
						t.Errorf("%s: case of rule, community, priority %q", id, c)
					}
					torn++
				}
			}
			if torn > 0 {
				t.Errorf("%d of %d cases opened by one file's rule in another file's community", torn, len(cases))
			}
		})
	}
}

// rulesRoutingFAQ is a rule file whose FAQ leaves its one entry to the CMs,
// with the answer of gen suggested, and whose community, gen, holds the
// place the questions come from.
func rulesRoutingFAQ(gen string) string {
	return `timezone: UTC
rules: []
faq:
  cooldown: {channel: off, user: off}
  entries:
    - id: hours
      mode: forward
      questions: ["quels sont vos horaires ?", "what are your opening hours?"]
      answer: {fr: "horaires ` + gen + `", en: "hours ` + gen + `"}
communities:
  ` + gen + `:
    places: [discord:` + routedPlace + `]
`
}

// Questions from a connector, asked while the rule file is reloaded again
// and again, that the FAQ leaves to the CMs open their case in the community
// of the file whose FAQ decided so, though the case is opened later, in the
// event's lane.
func TestReloadWhileFAQCasesOpen(t *testing.T) {
	in := start(t, rulesRoutingFAQ("one"), nil)
	done := make(chan struct{})
	const n = 2000
	go func() {
		defer close(done)
		for i := range n {
			id := fmt.Sprintf("q-%d", i)
			in.feed.in <- bot.Event{ID: id, Platform: "discord", Kind: bot.KindMessage, Space: routedPlace,
				Channel: "c-" + id, Author: bot.Author{ID: "u-" + id, Name: "Bob"}, Text: "quels sont vos horaires ?", At: time.Now()}
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
		default:
			gen := []string{"one", "two"}[(i+1)%2]
			if err := os.WriteFile(in.file, []byte(rulesRoutingFAQ(gen)), 0o600); err != nil {
				t.Fatal(err)
			}
			if r := in.do(t, "POST", "/-/reload", nil, nil); r.code != http.StatusOK {
				t.Fatalf("reload %d: %d %s", i, r.code, r.body)
			}
			continue
		}
		break
	}
	cases := map[string]string{}
	testsync.Eventually(t, "every case opened", func() bool {
		for offset := 0; ; offset += 1000 {
			r := in.do(t, "GET", fmt.Sprintf("/v1/cases?limit=1000&offset=%d", offset), nil, nil)
			var p struct {
				Cases []struct {
					Community string
					Event     struct{ ID string }
					Suggested []struct{ Text string }
				}
			}
			r.json(t, &p)
			for _, c := range p.Cases {
				if len(c.Suggested) != 1 {
					t.Fatalf("case of %s suggests %+v", c.Event.ID, c.Suggested)
				}
				cases[c.Event.ID] = c.Suggested[0].Text + " " + c.Community
			}
			if len(p.Cases) < 1000 {
				return len(cases) >= n
			}
		}
	})
	torn := 0
	for id, c := range cases {
		if c != "horaires one one" && c != "horaires two two" {
			if torn == 0 {
				t.Errorf("%s: case suggesting, in community %q", id, c)
			}
			torn++
		}
	}
	if torn > 0 {
		t.Errorf("%d of %d cases of one file's FAQ opened in another file's community", torn, len(cases))
	}
}
