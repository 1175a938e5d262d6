package daemon_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// Beyond loopback, vigie does not start without the webhook secret and the admin
// token, nor with ones short enough to guess, unless told --insecure.
const (
	longSecret = "3f9c1e7a5b2d8f0c4a6e"
	longToken  = "9b7d5f3a1c8e6b4d2f0a"
)

func TestListeningBeyondLoopbackNeedsSecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(rulesV1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		listen   string
		env      map[string]string
		insecure bool
		want     string // "" starts
	}{
		{"loopback, no secrets", "127.0.0.1:0", nil, false, ""},
		{"everywhere, no secrets", "0.0.0.0:0", nil, false, "needs VIGIE_WEBHOOK_SECRET (POST /v1/events would act for anyone) and VIGIE_ADMIN_TOKEN"},
		{"empty host is everywhere", ":0", map[string]string{"VIGIE_WEBHOOK_SECRET": "s"}, false, "needs VIGIE_ADMIN_TOKEN"},
		{"everywhere, both secrets", "0.0.0.0:0", map[string]string{"VIGIE_WEBHOOK_SECRET": longSecret, "VIGIE_ADMIN_TOKEN": longToken}, false, ""},
		// Anyone who reaches the port may guess at them as fast as HTTP goes.
		{"everywhere, a short admin token", "0.0.0.0:0", map[string]string{"VIGIE_WEBHOOK_SECRET": longSecret, "VIGIE_ADMIN_TOKEN": "changeme"}, false,
			"VIGIE_ADMIN_TOKEN is 8 characters long: beyond this machine"},
		{"everywhere, a short webhook secret", ":0", map[string]string{"VIGIE_WEBHOOK_SECRET": "s3cret", "VIGIE_ADMIN_TOKEN": longToken}, false,
			"VIGIE_WEBHOOK_SECRET is 6 characters long: beyond this machine"},
		{"loopback, short secrets", "127.0.0.1:0", map[string]string{"VIGIE_WEBHOOK_SECRET": "s", "VIGIE_ADMIN_TOKEN": "a"}, false, ""},
		{"everywhere, short secrets, --insecure", "0.0.0.0:0", map[string]string{"VIGIE_WEBHOOK_SECRET": "s", "VIGIE_ADMIN_TOKEN": "a"}, true, ""},
		{"everywhere, --insecure", "0.0.0.0:0", nil, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ready := make(chan net.Addr, 1)
			errc := make(chan error, 1)
			go func() {
				errc <- daemon.Run(ctx, daemon.Config{ConfigPath: file, Listen: tt.listen, Insecure: tt.insecure,
					Getenv: daemon.WithTokenDir(t, func(k string) string { return tt.env[k] }), Ready: func(a net.Addr) { ready <- a }}, nil)
			}()
			select {
			case <-ready:
				if tt.want != "" {
					t.Errorf("started, want %q", tt.want)
				}
				cancel()
				if err := <-errc; err != nil {
					t.Errorf("stop: %v", err)
				}
			case err := <-errc:
				var se *daemon.SetupError
				if tt.want == "" || !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Run = %v, want it to start", err)
				}
			case <-time.After(testsync.Patience):
				t.Fatal("neither started nor refused")
			}
		})
	}
}

// An event posted over HTTP about a platform whose own connector is on may be
// forged: it opens its cases, but acts there only when the rule file says so.
func TestHTTPEventsDoNotActOnConnectedPlatforms(t *testing.T) {
	rules := strings.Replace(rulesV1, "http_events: {act_on: [discord]}\n", "", 1)
	rules = strings.Replace(rules, `do: [forward("scam")]`, `do: [delete, forward("scam")]`, 1)
	in := start(t, rules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	v := in.post(t, message("forged-1", "u-1", "free nitro"))
	if !strings.Contains(v.Withheld, "events posted over HTTP do not act on discord") {
		t.Errorf("verdict withheld = %q, want why", v.Withheld)
	}
	var cases struct{ Count int }
	testsync.Eventually(t, "the case", func() bool {
		in.do(t, "GET", "/v1/cases", nil, nil).json(t, &cases)
		return cases.Count == 1
	})
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if calls := in.chat.Calls(); len(calls) != 0 {
		t.Errorf("platform calls = %q, want none", calls)
	}
}

// A rule file nested 500,000 parentheses deep once overflowed the stack on a
// live reload and took vigie down: it is refused with FILE:LINE:COL, and the
// running rules go on moderating.
func TestDeepRuleFileRefusedOnReload(t *testing.T) {
	in := start(t, rulesV1, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	deep := "rules:\n  - name: deep\n    when: " + strings.Repeat("(", 500000) + "true" + strings.Repeat(")", 500000) + "\n"
	if err := os.WriteFile(in.file, []byte(deep), 0o600); err != nil {
		t.Fatal(err)
	}
	r := in.do(t, "POST", "/-/reload", nil, nil)
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), in.file+":3:") {
		t.Errorf("deep reload = %d %.300s, want 422 with %s:3:COL", r.code, r.body, in.file)
	}
	if v := in.post(t, message("deep-1", "u-30", "free nitro")); len(v.Matches) != 1 || v.Matches[0].Rule != "scam" {
		t.Errorf("after the refused reload: %+v, want the old rules' scam", v.Matches)
	}
}

// A rule file of more than 200,000 YAML nodes with no alias (a word list
// pasted inline) crashed the loader: the reload signal took vigie down. It is
// refused, and the running rules go on moderating.
func TestHugeInlineListRefusedOnSignalledReload(t *testing.T) {
	in := start(t, rulesV1, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	huge := "lists:\n  huge: [" + strings.Repeat("w, ", 200_000) + "w]\n" + rulesV1[len("timezone: UTC\n"):]
	if err := os.WriteFile(in.file, []byte(huge), 0o600); err != nil {
		t.Fatal(err)
	}
	in.reload <- struct{}{}
	testsync.Eventually(t, "the refused reload in /healthz", func() bool {
		var h struct{ Degraded []string }
		in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
		return len(h.Degraded) == 1 && strings.Contains(h.Degraded[0], in.file+":2:") &&
			strings.Contains(h.Degraded[0], "more than 200000 YAML nodes")
	})
	if v := in.post(t, message("huge-1", "u-31", "free nitro")); len(v.Matches) != 1 || v.Matches[0].Rule != "scam" {
		t.Errorf("after the refused reload: %+v, want the old rules' scam", v.Matches)
	}
}

// rulesStrikes strikes an insult and mutes whoever has two strikes or writes
// a fourth message within the hour; "marker" is tagged, for the test to see
// its event carried out.
const rulesStrikes = `timezone: UTC
counters:
  msgs: {key: author.id, window: 1h}
rules:
  - name: flood
    category: flood
    when: counters.msgs > 3
    do: [timeout(10m)]
  - name: insult
    category: abuse
    when: 'lower(text) contains "idiot"'
    do: [strike, forward("insult")]
  - name: repeat
    category: abuse
    when: strikes("24h") >= 2
    do: [timeout(1h)]
  - name: marker
    category: test
    when: 'text == "marker"'
    do: ['tag("seen")']
`

// Events posted over HTTP about a platform whose connector is on may be
// forged: what they count (strikes, counters) is kept apart from the
// platform's members, so that a member's next real message is not muted for
// insults and a flood someone else posted in their name.
func TestHTTPEventsDoNotCountAgainstConnectedMembers(t *testing.T) {
	in := start(t, rulesStrikes, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	for i, text := range []string{"idiot", "IDIOT", "hi", "hi"} {
		v := in.post(t, message("forged-"+string(rune('a'+i)), "u-7", text))
		if len(v.Matches) > 0 && v.Withheld == "" && len(v.Actions()) > 0 {
			t.Fatalf("forged event %d acted: %+v", i, v)
		}
	}
	// u-7's own first message, from the platform's connector.
	in.feed.in <- bot.Event{ID: "real-1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1",
		Author: bot.Author{ID: "u-7", Name: "Bob"}, Text: "marker", At: time.Now()}
	testsync.Eventually(t, "u-7's message carried out", func() bool {
		return slices.Contains(in.chat.Calls(), `tag real-1 "seen"`)
	})
	if calls := in.chat.Calls(); len(calls) != 1 {
		t.Errorf("platform calls = %q, want only the tag of u-7's own message: the forged events counted against u-7", calls)
	}
}

// An event posted over HTTP about a platform whose connector is on, which no
// rule matched, is not answered there by the FAQ either: the answer would be
// vigie's reply, in a member's channel, to words that member may never have
// written. The verdict says why.
func TestHTTPEventsAreNotAnsweredOnConnectedPlatforms(t *testing.T) {
	in := start(t, strings.Replace(rulesFAQ, "http_events: {act_on: [discord]}\n", "", 1), map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	var answer struct {
		Withheld string
		FAQ      *struct{ Decision string } `json:"faq"`
	}
	in.postAnswer(t, message("forged-q", "u-3", "when are you open?")).json(t, &answer)
	if !strings.Contains(answer.Withheld, "events posted over HTTP do not act on discord") {
		t.Errorf("withheld = %q, want why", answer.Withheld)
	}
	if answer.FAQ != nil {
		t.Errorf("faq = %+v, want none: the FAQ is not asked", *answer.FAQ)
	}
	// The same question from the platform's connector is answered, in the
	// same place's lane, after the forged one would have been.
	in.feed.in <- bot.Event{ID: "real-q", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1",
		Author: bot.Author{ID: "u-3", Name: "Bob"}, Text: "when are you open?", At: time.Now()}
	testsync.Eventually(t, "the connector's question answered", func() bool {
		return slices.ContainsFunc(in.chat.Calls(), func(c string) bool { return strings.HasPrefix(c, "reply real-q ") })
	})
	if calls := in.chat.Calls(); len(calls) != 1 {
		t.Errorf("platform calls = %q, want only the reply to the connector's question", calls)
	}
}
