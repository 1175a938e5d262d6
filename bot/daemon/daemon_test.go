package daemon_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

const rulesV1 = `timezone: UTC
# the tests post their discord events over HTTP, beside the feed connector
http_events: {act_on: [discord]}
counters:
  msgs: {key: author.id, window: 1h}
rules:
  - name: flood
    category: flood
    when: counters.msgs > 3
    do: [delete, timeout(10m), 'warn("slow down {{author.name}}")']
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [forward("scam")]
`

// rulesBroken names a counter that does not exist, on line 6.
const rulesBroken = `timezone: UTC
counters:
  msgs: {key: author.id, window: 1h}
rules:
  - name: flood
    when: counters.nope > 3
    do: [delete]
`

const rulesV2 = rulesV1 + `  - name: greeting
    category: test
    when: 'text == "hello"'
    do: ['tag("greeted")']
`

// chat is a platform with the capabilities of a chat, recording the calls made.
type chat struct {
	name  string
	mu    sync.Mutex
	calls []string
}

var (
	_ bot.Deleter   = (*chat)(nil)
	_ bot.Replier   = (*chat)(nil)
	_ bot.Timeouter = (*chat)(nil)
	_ bot.Tagger    = (*chat)(nil)
)

func (c *chat) Name() string { return c.name }
func (c *chat) record(s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
	return nil
}
func (c *chat) Delete(_ context.Context, ev bot.Event) error { return c.record("delete " + ev.ID) }
func (c *chat) Reply(_ context.Context, ev bot.Event, text string) error {
	return c.record(fmt.Sprintf("reply %s %q", ev.ID, text))
}
func (c *chat) Timeout(_ context.Context, ev bot.Event, d time.Duration) error {
	return c.record(fmt.Sprintf("timeout %s %s", ev.Author.ID, bot.FormatDuration(d)))
}
func (c *chat) Untimeout(_ context.Context, ev bot.Event) error {
	return c.record("untimeout " + ev.Author.ID)
}
func (c *chat) Tag(_ context.Context, ev bot.Event, tag string) error {
	return c.record(fmt.Sprintf("tag %s %q", ev.ID, tag))
}
func (c *chat) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// feed is a Source that sends what the test gives it, following the Source
// contract: return nil on cancel, never close out.
type feed struct {
	name string
	in   chan bot.Event
}

func (f *feed) Name() string { return f.name }
func (f *feed) Run(ctx context.Context, out chan<- bot.Event) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-f.in:
			select {
			case out <- ev:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

const secret = "s3cret"

type instance struct {
	base string
	// token is the admin token vigie made and wrote for its user, read from
	// its file as vigie cases reads it: do sends it to every route, unless
	// the request has its own Authorization. It is "" when the test set
	// VIGIE_ADMIN_TOKEN.
	token  string
	file   string
	chat   *chat
	feed   *feed
	reload chan struct{}
	logs   *testsync.Buffer
	stop   func() error
}

// start runs the daemon on a free port with the given rule file and secret.
// startWith is start with more connectors, after those of the environment and
// the test's own discord feed.
func startWith(t *testing.T, rules string, env map[string]string, extra ...daemon.Connector) *instance {
	t.Helper()
	return start(t, rules, env, func(c *daemon.Config) { c.Connectors = append(c.Connectors, extra...) })
}

// testTelegramChats are the Telegram groups the tests write in: the chat list
// of a test that does not set its own TELEGRAM_CHATS, since vigie moderates
// no unlisted group a CM does not own.
const testTelegramChats = "-100200,-100300,-100400,-100600,-100610,-100700,-100710,-100720,-100730,-1001234567890"

// getenv is env's k, with TELEGRAM_CHATS set to testTelegramChats when
// Telegram is on and env does not set it.
func getenv(env map[string]string, k string) string {
	if v, ok := env[k]; ok || k != "TELEGRAM_CHATS" || env["TELEGRAM_TOKEN"] == "" {
		return v
	}
	return testTelegramChats
}

// opts change the daemon's Config before it runs.
func start(t testing.TB, rules string, env map[string]string, opts ...func(*daemon.Config)) *instance {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	in := &instance{
		file:   file,
		chat:   &chat{name: "discord"},
		feed:   &feed{name: "discord", in: make(chan bot.Event)},
		reload: make(chan struct{}),
		logs:   &testsync.Buffer{},
	}
	ready := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	// Without VIGIE_ADMIN_TOKEN, vigie makes one and writes it in a
	// directory of the test's own, as it would in the user's.
	tokenDir := env["VIGIE_ADMIN_TOKEN_DIR"]
	if tokenDir == "" && env["VIGIE_ADMIN_TOKEN"] == "" && env["VIGIE_ADMIN_TOKEN_FILE"] == "" {
		tokenDir = filepath.Join(t.TempDir(), "vigie")
	}
	cfg := daemon.Config{
		ConfigPath: file,
		Listen:     "127.0.0.1:0",
		Version:    "test",
		Logger:     slog.New(slog.NewTextHandler(in.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Getenv: func(k string) string {
			if k == "VIGIE_ADMIN_TOKEN_DIR" {
				return tokenDir
			}
			return getenv(env, k)
		},
		Ready:      func(a net.Addr) { ready <- a },
		Connectors: []daemon.Connector{{Name: "discord", Source: in.feed, Platforms: []bot.Platform{in.chat}}},
	}
	for _, o := range opts {
		o(&cfg)
	}
	go func() { errc <- daemon.Run(ctx, cfg, in.reload) }()
	select {
	case a := <-ready:
		in.base = "http://" + a.String()
	case err := <-errc:
		cancel()
		t.Fatalf("daemon did not start: %v", err)
	}
	if tokenDir != "" {
		in.token = readToken(t, tokenDir, in.base)
	}
	stopped := false
	in.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-errc:
			return err
		case <-time.After(testsync.Patience):
			t.Fatalf("daemon did not stop within %s of its context being cancelled", testsync.Patience)
			return nil
		}
	}
	t.Cleanup(func() {
		if err := in.stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("daemon logs:\n%s", in.logs)
		}
	})
	return in
}

// sign is the X-Vigie-Signature of body, made now.
func sign(body []byte, key string) string { return signAt(body, key, time.Now()) }

func signAt(body []byte, key string, at time.Time) string {
	return fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(daemon.Sign([]byte(key), at.Unix(), body)))
}

type reply struct {
	code int
	body []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("reply %d is not JSON: %v\n%s", r.code, err, r.body)
	}
}

// readToken is the admin token the vigie run at base wrote in dir, read as
// vigie cases reads it.
func readToken(t testing.TB, dir, base string) string {
	t.Helper()
	port := base[strings.LastIndexByte(base, ':')+1:]
	made, err := daemon.ReadAdminToken(func(k string) string {
		if k == "VIGIE_ADMIN_TOKEN_DIR" {
			return dir
		}
		return ""
	}, port)
	if err != nil || made.Token == "" {
		t.Fatalf("admin token of %s in %s: %q, %v", base, made.File, made.Token, err)
	}
	return made.Token
}

// do sends a request with the admin token vigie made (in.token), unless
// header has an Authorization of its own.
func (in *instance) do(t *testing.T, method, path string, body []byte, header map[string]string) reply {
	t.Helper()
	return in.send(t, in.token, method, path, body, header)
}

// doWithout sends a request without the admin token: what another user of
// the machine, who cannot read its file, can send.
func (in *instance) doWithout(t *testing.T, method, path string, body []byte, header map[string]string) reply {
	t.Helper()
	return in.send(t, "", method, path, body, header)
}

func (in *instance) send(t *testing.T, token, method, path string, body []byte, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, in.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, b}
}

// post sends one event, signed, and returns its verdict.
func (in *instance) post(t *testing.T, ev map[string]any) bot.Verdict {
	t.Helper()
	var v bot.Verdict
	in.postAnswer(t, ev).json(t, &v)
	return v
}

// postAnswer sends one event, signed, and returns the 200 answer as it came.
func (in *instance) postAnswer(t *testing.T, ev map[string]any) reply {
	t.Helper()
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	r := in.do(t, "POST", "/v1/events", body, map[string]string{"X-Vigie-Signature": sign(body, secret)})
	if r.code != http.StatusOK {
		t.Fatalf("POST /v1/events = %d %s", r.code, r.body)
	}
	return r
}

func message(id, author, text string) map[string]any {
	return map[string]any{"id": id, "platform": "discord", "kind": "message", "space": "guild-1",
		"author": map[string]any{"id": author, "name": "Bob"}, "text": text,
		"at": time.Now().UTC().Format(time.RFC3339)}
}

func rulesOf(v bot.Verdict) []string {
	var out []string
	for _, m := range v.Matches {
		out = append(out, m.Rule)
	}
	return out
}

func TestAcceptance(t *testing.T) {
	in := start(t, rulesV1, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})

	t.Run("signature", func(t *testing.T) {
		body, _ := json.Marshal(message("sig-1", "u-sig", "hi"))
		for _, tt := range []struct {
			name, header string
			want         int
			says         string
		}{
			{"absent", "", http.StatusUnauthorized, "X-Vigie-Signature: missing or malformed (want t="},
			{"no timestamp", "v1=" + hex.EncodeToString(body), http.StatusUnauthorized, "missing or malformed"},
			{"the old sha256= form, replayable", "sha256=" + hex.EncodeToString(daemon.Sign([]byte(secret), 0, body)), http.StatusUnauthorized,
				"the sha256=<hex> form is refused: it carries no time"},
			{"not hex", fmt.Sprintf("t=%d,v1=zz", time.Now().Unix()), http.StatusUnauthorized, "v1 is not hex"},
			{"other key", sign(body, "guess"), http.StatusUnauthorized, "wrong signature"},
			{"captured 6 minutes ago, replayed", signAt(body, secret, time.Now().Add(-6*time.Minute)), http.StatusUnauthorized, "away from now"},
			{"dated 6 minutes ahead", signAt(body, secret, time.Now().Add(6*time.Minute)), http.StatusUnauthorized, "away from now"},
			{"signed over another time", strings.Replace(sign(body, secret), "t=", "t=1", 1), http.StatusUnauthorized, ""},
			{"right", sign(body, secret), http.StatusOK, ""},
		} {
			h := map[string]string{}
			if tt.header != "" {
				h["X-Vigie-Signature"] = tt.header
			}
			r := in.do(t, "POST", "/v1/events", body, h)
			if r.code != tt.want {
				t.Errorf("%s: %d %s, want %d", tt.name, r.code, r.body, tt.want)
			}
			if !strings.Contains(string(r.body), tt.says) {
				t.Errorf("%s: %s, want it to say %q", tt.name, r.body, tt.says)
			}
		}
	})

	t.Run("bad bodies", func(t *testing.T) {
		for _, tt := range []struct {
			body string
			want int
			msg  string
		}{
			{`{"id": "x", "text": "hi"`, http.StatusBadRequest, "invalid JSON"},
			{`{"id": "x", "platform": "p", "author": {"id": "u"}, "text": "hi"}`, http.StatusBadRequest, `missing field "at"`},
			{`{"id": "x", "author": {"id": "u"}, "text": "hi", "at": "2026-11-20T22:10:00Z"}`, http.StatusBadRequest, `missing field "platform"`},
			{`{"id": "x", "platform": "p", "text": "hi", "at": "2026-11-20T22:10:00Z"}`, http.StatusBadRequest, `missing field "author.id"`},
			{`{"id": "x", "platform": "p", "kind": "poke", "author": {"id": "u"}, "text": "hi", "at": "2026-11-20T22:10:00Z"}`,
				http.StatusBadRequest, `field "kind": unknown kind "poke"`},
			{`{"id": "x", "platform": "p", "channel": "` + strings.Repeat("c", 300) + `", "author": {"id": "u"}, "text": "hi", "at": "2026-11-20T22:10:00Z"}`,
				http.StatusBadRequest, `field "channel": 300 bytes, more than 256`},
			{`[1, 2]`, http.StatusBadRequest, "expected a JSON object"},
			{`{"id":"x","text":"` + strings.Repeat("a", 1<<20) + `","at":"2026-11-20T22:10:00Z"}`,
				http.StatusRequestEntityTooLarge, "larger than 1 MiB"},
		} {
			b := []byte(tt.body)
			r := in.do(t, "POST", "/v1/events", b, map[string]string{"X-Vigie-Signature": sign(b, secret)})
			var e struct{ Error string }
			r.json(t, &e)
			if r.code != tt.want || !strings.Contains(e.Error, tt.msg) {
				t.Errorf("%.40s: %d %q, want %d with %q", tt.body, r.code, e.Error, tt.want, tt.msg)
			}
		}
	})

	t.Run("flood after three messages, actions on the platform", func(t *testing.T) {
		for i := 1; i <= 4; i++ {
			v := in.post(t, message(fmt.Sprintf("m-%d", i), "u-7", fmt.Sprintf("message %d", i)))
			want := []string(nil)
			if i == 4 {
				want = []string{"flood"}
			}
			if !slices.Equal(rulesOf(v), want) {
				t.Errorf("message %d matched %q, want %q", i, rulesOf(v), want)
			}
		}
		// No warning to an author who is being timed out: the timeout says it.
		want := []string{"delete m-4", "timeout u-7 10m"}
		testsync.Eventually(t, "the flood actions", func() bool { return len(in.chat.Calls()) >= len(want) })
		if got := in.chat.Calls(); !slices.Equal(got, want) {
			t.Errorf("platform calls = %q, want %q", got, want)
		}
	})

	t.Run("a retried webhook is a duplicate", func(t *testing.T) {
		if v := in.post(t, message("m-1", "u-7", "message 1")); !v.Duplicate || len(v.Matches) != 0 {
			t.Errorf("verdict = %+v, want a duplicate with no match", v)
		}
	})

	t.Run("forward opens a case, from HTTP and from a source", func(t *testing.T) {
		if v := in.post(t, message("s-1", "u-9", "FREE NITRO here")); !slices.Equal(rulesOf(v), []string{"scam"}) {
			t.Errorf("matched %q, want scam", rulesOf(v))
		}
		ev := bot.Event{ID: "s-2", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1",
			Author: bot.Author{ID: "u-10"}, Text: "free nitro", At: time.Now()}
		in.feed.in <- ev
		var cases struct {
			Count int
			Cases []struct {
				Rule, Reason string
				Event        struct{ ID string }
			}
		}
		testsync.Eventually(t, "two cases", func() bool {
			in.do(t, "GET", "/v1/cases", nil, nil).json(t, &cases)
			return cases.Count >= 2
		})
		var got []string
		for _, c := range cases.Cases {
			got = append(got, c.Event.ID+" "+c.Rule+" "+c.Reason)
		}
		if want := []string{"s-1 scam scam", "s-2 scam scam"}; !slices.Equal(got, want) {
			t.Errorf("cases = %q, want %q", got, want)
		}
	})

	t.Run("reload", func(t *testing.T) {
		// A broken file is refused and the old rules keep answering.
		if err := os.WriteFile(in.file, []byte(rulesBroken), 0o600); err != nil {
			t.Fatal(err)
		}
		r := in.do(t, "POST", "/-/reload", nil, nil)
		var refused struct {
			Status   string
			Problems []string
		}
		r.json(t, &refused)
		if r.code != http.StatusUnprocessableEntity || refused.Status != "refused" || len(refused.Problems) == 0 ||
			!strings.HasPrefix(refused.Problems[0], in.file+":6:") {
			t.Errorf("broken reload = %d %s, want 422 with %s:6:COL problems", r.code, r.body, in.file)
		}
		if v := in.post(t, message("r-1", "u-20", "free nitro")); !slices.Equal(rulesOf(v), []string{"scam"}) {
			t.Errorf("after a refused reload: matched %q, want scam (old rules)", rulesOf(v))
		}
		var health struct{ Degraded []string }
		in.do(t, "GET", "/healthz", nil, nil).json(t, &health)
		if len(health.Degraded) != 1 || !strings.Contains(health.Degraded[0], "reload refused") {
			t.Errorf("healthz degraded = %q, want the refused reload", health.Degraded)
		}

		// A fixed file is taken.
		if err := os.WriteFile(in.file, []byte(rulesV2), 0o600); err != nil {
			t.Fatal(err)
		}
		r = in.do(t, "POST", "/-/reload", nil, nil)
		var ok struct {
			Status, File string
			Rules        int
		}
		r.json(t, &ok)
		if r.code != http.StatusOK || ok.Status != "reloaded" || ok.File != in.file || ok.Rules != 3 {
			t.Errorf("reload = %d %s, want 200 reloaded with 3 rules", r.code, r.body)
		}
		if v := in.post(t, message("r-2", "u-21", "hello")); !slices.Equal(rulesOf(v), []string{"greeting"}) {
			t.Errorf("after reload: matched %q, want greeting", rulesOf(v))
		}
		testsync.Eventually(t, "the tag", func() bool { return slices.Contains(in.chat.Calls(), `tag r-2 "greeted"`) })

		// The reload signal: back to v1, where hello matches nothing.
		if err := os.WriteFile(in.file, []byte(rulesV1), 0o600); err != nil {
			t.Fatal(err)
		}
		in.reload <- struct{}{}
		n := 0
		testsync.Eventually(t, "the signalled reload", func() bool {
			n++
			return len(in.post(t, message(fmt.Sprintf("r-3-%d", n), fmt.Sprintf("u-3-%d", n), "hello")).Matches) == 0
		})
	})

	t.Run("healthz", func(t *testing.T) {
		r := in.do(t, "GET", "/healthz", nil, nil)
		var h struct {
			Status, Store string
			Rules         struct{ File string }
			Platforms     []string
			Degraded      []string
		}
		r.json(t, &h)
		if r.code != http.StatusOK || h.Status != "ok" || h.Store != "memory" || h.Rules.File != in.file || len(h.Degraded) != 0 {
			t.Errorf("healthz = %d %s", r.code, r.body)
		}
		want := []string{"discord off (DISCORD_TOKEN not set)", "telegram off (TELEGRAM_TOKEN not set)",
			"meta off (META_PAGE_TOKEN not set)", "discord on"}
		if !slices.Equal(h.Platforms, want) {
			t.Errorf("platforms = %q, want %q", h.Platforms, want)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		r := in.do(t, "GET", "/metrics", nil, nil)
		text := string(r.body)
		for _, want := range []string{
			`vigie_events_total{kind="message",platform="discord"}`,
			`vigie_rule_hits_total{category="flood",mode="enforce",rule="flood"} 1`,
			`vigie_rule_hits_total{category="spam",mode="enforce",rule="scam"} 3`,
			// The signalled reload is polled with hellos: one or more hits.
			`vigie_rule_hits_total{category="test",mode="enforce",rule="greeting"} `,
			`vigie_actions_total{action="delete",platform="discord",result="done"} 1`,
			`vigie_actions_total{action="forward",platform="discord",result="done"} 3`,
			`vigie_duplicates_total 1`,
			`vigie_cases_open 3`,
			`vigie_config_last_reload_successful 1`,
			`vigie_config_last_reload_success_timestamp_seconds `,
			`vigie_evaluation_seconds_bucket{le="+Inf"} `,
			`vigie_build_info{version="test"} 1`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if t.Failed() {
			t.Logf("/metrics:\n%s", grep(text, "vigie_"))
		}
	})

	t.Run("shutdown", func(t *testing.T) {
		if err := in.stop(); err != nil {
			t.Fatalf("Run returned %v, want nil", err)
		}
		if _, err := http.Get(in.base + "/healthz"); err == nil {
			t.Error("still serving after shutdown")
		}
		logs := in.logs.String()
		for _, want := range []string{
			`msg="platforms: discord off (DISCORD_TOKEN not set), telegram off (TELEGRAM_TOKEN not set), meta off (META_PAGE_TOKEN not set), discord on"`,
			`msg="http events on 127.0.0.1:0"`,
			`msg=stopped`,
			// One line per event that matched: its key, its rules, its actions.
			`msg=verdict event=discord:m-4 rules=flood actions="delete timeout(10m) warn(\"slow down Bob\")"` + "\n",
			`msg=verdict event=discord:s-1 rules=scam actions="forward(\"scam\")"` + "\n",
		} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs lack %s", want)
			}
		}
	})
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestRefusesABrokenFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(rulesBroken), 0o600); err != nil {
		t.Fatal(err)
	}
	started := false
	err := daemon.Run(context.Background(), daemon.Config{
		ConfigPath: file,
		Listen:     "127.0.0.1:0",
		Getenv:     func(string) string { return "" },
		Ready:      func(net.Addr) { started = true },
	}, nil)
	if err == nil || !strings.Contains(err.Error(), file+":6:") {
		t.Fatalf("Run = %v, want an error with %s:6:COL", err, file)
	}
	if started {
		t.Error("the HTTP server started on a broken file")
	}
}

func TestNoSecretNoSignature(t *testing.T) {
	in := start(t, rulesV1, nil)
	body, _ := json.Marshal(message("n-1", "u-1", "free nitro"))
	r := in.do(t, "POST", "/v1/events", body, nil)
	var v bot.Verdict
	r.json(t, &v)
	if r.code != http.StatusOK || !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("unsigned event without a secret = %d %s", r.code, r.body)
	}
	// An event from a platform that is not on still gets its verdict and its case.
	ev := message("n-2", "u-1", "free nitro")
	ev["platform"] = "forum"
	body, _ = json.Marshal(ev)
	if r := in.do(t, "POST", "/v1/events", body, nil); r.code != http.StatusOK {
		t.Errorf("event from an unknown platform = %d %s", r.code, r.body)
	}
	var cases struct{ Count int }
	testsync.Eventually(t, "two cases", func() bool {
		in.do(t, "GET", "/v1/cases", nil, nil).json(t, &cases)
		return cases.Count == 2
	})
	if r := in.do(t, "GET", "/v1/cases?status=nope", nil, nil); r.code != http.StatusBadRequest {
		t.Errorf("bad status = %d, want 400", r.code)
	}
	if r := in.do(t, "GET", "/v1/events", nil, nil); r.code != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/events = %d, want 405", r.code)
	}
}

// startOnly runs the daemon with conns as its connectors, instead of the
// instance's feed and chat.
func startOnly(t *testing.T, rules string, env map[string]string, conns []daemon.Connector) *instance {
	t.Helper()
	return start(t, rules, env, func(c *daemon.Config) { c.Connectors = conns })
}
