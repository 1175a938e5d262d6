package meta_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
)

const (
	appSecret   = "0123456789abcdef0123456789abcdef"
	verifyToken = "le-mot-de-passe-du-guetteur"
	pageID      = "104523749012345"
	igID        = "17841405309211844"
)

// fixedNow is the connector's clock in these tests, shortly after the fixtures'
// deliveries (2026-11-26 21:50 to 22:28 UTC): no test reads the real clock, so
// none depends on the day it runs.
var fixedNow = time.Date(2026, 11, 26, 22, 30, 0, 0, time.UTC)

// harness is a connector wired to a fake Graph API, with Run draining into events.
type harness struct {
	t      *testing.T
	c      *meta.Connector
	h      http.Handler
	graph  *fakeGraph
	logs   *testsync.Buffer
	events chan bot.Event
	// now is the connector's clock.
	now func() time.Time
	// sentinels counts the sentinels posted, each with a fresh id.
	sentinels int
}

func newHarness(t *testing.T, tweak func(*meta.Config)) *harness {
	t.Helper()
	g := newFakeGraph(t)
	logs := &testsync.Buffer{}
	cfg := meta.Config{
		AppSecret:   appSecret,
		VerifyToken: verifyToken,
		PageToken:   g.token,
		GraphURL:    g.URL(),
		Logger:      testsync.Logger(logs),
		Now:         func() time.Time { return fixedNow },
	}
	if tweak != nil {
		tweak(&cfg)
	}
	c := meta.New(cfg)
	h := &harness{t: t, c: c, h: c.Handler(), graph: g, logs: logs, events: make(chan bot.Event), now: cfg.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, h.events) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	})
	return h
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post delivers body signed with secret ("" for no signature header).
func (h *harness) post(body []byte, secret string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/meta", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Hub-Signature-256", meta.Sign(secret, body))
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return rec
}

func (h *harness) mustPost(body []byte) {
	h.t.Helper()
	if rec := h.post(body, appSecret); rec.Code != http.StatusOK {
		h.t.Fatalf("POST answered %d %q, want 200", rec.Code, rec.Body.String())
	}
}

// sentinel is a comment posted after the deliveries under test, stamped at the
// connector's clock: the queue is first in, first out, so when it comes out
// everything before it has come out too.
func sentinel(n int, at time.Time) (id string, body []byte) {
	id = fmt.Sprintf("sentinel_%d", n)
	ts := fmt.Sprint(at.Unix())
	return id, []byte(`{"object":"page","entry":[{"id":"` + pageID + `","time":` + ts + `,"changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"` + id + `","post_id":"p_1","parent_id":"p_1","from":{"id":"42","name":"Sentinelle"},"message":"fin","created_time":` + ts + `}}]}]}`)
}

// collect posts a sentinel and returns every event that came before it, and
// the @mentions taken before it, whose text is read beside the other events.
func (h *harness) collect() []bot.Event {
	h.t.Helper()
	h.sentinels++
	id, body := sentinel(h.sentinels, h.now())
	h.mustPost(body)
	var got []bot.Event
	timeout := time.After(testsync.Patience)
	sentinelSeen := false
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case ev := <-h.events:
			if ev.ID == id {
				sentinelSeen = true
				continue
			}
			got = append(got, ev)
		case <-poll.C:
			if sentinelSeen && h.c.MentionsOut() == 0 {
				return got
			}
		case <-timeout:
			h.t.Fatalf("no sentinel after %s; got %d events so far (is Run draining?)", testsync.Patience, len(got))
		}
	}
}

func TestHandshake(t *testing.T) {
	tests := []struct {
		name, query string
		token       string // configured verify token
		wantCode    int
		wantBody    string
	}{
		{"echoes the challenge", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + verifyToken, verifyToken, 200, "1158201444"},
		{"wrong token", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=nope", verifyToken, 403, ""},
		{"missing token", "hub.mode=subscribe&hub.challenge=1158201444", verifyToken, 403, ""},
		{"wrong mode", "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=" + verifyToken, verifyToken, 403, ""},
		{"no token configured refuses all", "hub.mode=subscribe&hub.challenge=1&hub.verify_token=", "", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := meta.New(meta.Config{AppSecret: appSecret, VerifyToken: tt.token})
			rec := httptest.NewRecorder()
			c.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/meta?"+tt.query, nil))
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d", rec.Code, tt.wantCode)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Fatalf("body = %q, want %q", rec.Body.String(), tt.wantBody)
			}
		})
	}
}

func TestDeliveryRefused(t *testing.T) {
	body := fixture(t, "fb_comment_add.json")
	tests := []struct {
		name     string
		tweak    func(*meta.Config)
		body     []byte
		sign     func(req *http.Request, body []byte)
		method   string
		wantCode int
	}{
		{"missing signature", nil, body, func(*http.Request, []byte) {}, "POST", 401},
		{"signed with another secret", nil, body, func(r *http.Request, b []byte) {
			r.Header.Set("X-Hub-Signature-256", meta.Sign("another secret", b))
		}, "POST", 401},
		{"sha1 signature only", nil, body, func(r *http.Request, b []byte) {
			r.Header.Set("X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567")
		}, "POST", 401},
		{"signature not hex", nil, body, func(r *http.Request, b []byte) {
			r.Header.Set("X-Hub-Signature-256", "sha256=zz")
		}, "POST", 401},
		{"body changed after signing", nil, body, func(r *http.Request, b []byte) {
			r.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, append([]byte(" "), b...)))
		}, "POST", 401},
		{"no app secret configured", func(c *meta.Config) { c.AppSecret = "" }, body, func(r *http.Request, b []byte) {
			r.Header.Set("X-Hub-Signature-256", meta.Sign("", b))
		}, "POST", 401},
		{"body over the cap", func(c *meta.Config) { c.MaxBody = 512 }, body, signWith(appSecret), "POST", 413},
		{"malformed JSON", nil, []byte(`{"object":"page","entry":[`), signWith(appSecret), "POST", 400},
		{"entry is not a list", nil, []byte(`{"object":"page","entry":"x"}`), signWith(appSecret), "POST", 400},
		{"method not allowed", nil, body, signWith(appSecret), "PUT", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.tweak)
			req := httptest.NewRequest(tt.method, "/webhooks/meta", bytes.NewReader(tt.body))
			tt.sign(req, tt.body)
			rec := httptest.NewRecorder()
			h.h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d (%s)", rec.Code, tt.wantCode, rec.Body.String())
			}
			if tt.tweak != nil {
				return // the harness's own sentinel would be refused as well
			}
			if got := h.collect(); len(got) != 0 {
				t.Fatalf("refused delivery still queued %d events: %+v", len(got), got)
			}
		})
	}
}

func signWith(secret string) func(*http.Request, []byte) {
	return func(r *http.Request, b []byte) { r.Header.Set("X-Hub-Signature-256", meta.Sign(secret, b)) }
}

func TestFixtures(t *testing.T) {
	at := func(unix int64) time.Time { return time.Unix(unix, 0).UTC() }
	comment := func(id, post, author, name, text string, unix int64) bot.Event {
		return bot.Event{ID: id, Platform: "facebook", Kind: bot.KindComment, Space: pageID, Channel: post,
			Author: bot.Author{ID: author, Name: name}, Text: text, At: at(unix)}
	}
	tests := []struct {
		file    string
		want    []bot.Event
		wantLog string
	}{
		{"fb_comment_add.json", []bot.Event{func() bot.Event {
			ev := comment("987654321098765_1122334455667788",
				"104523749012345_987654321098765", "6021345987654321", "Jean Dupont",
				"Vous êtes vraiment des escrocs, bande de connards", 1795730998)
			ev.Link = "https://www.facebook.com/104523749012345/posts/987654321098765"
			return ev
		}()}, ""},
		{"fb_comment_edited.json", []bot.Event{func() bot.Event {
			ev := comment("987654321098765_1122334455667788:edited:", "104523749012345_987654321098765",
				"6021345987654321", "Jean Dupont", "Vous êtes vraiment des escrocs", 1795730998)
			ev.Kind = bot.KindEdit
			ev.At = at(1795731300) // an edit is judged when it is sent, not at the comment's time
			ev.Link = "https://www.facebook.com/104523749012345/posts/987654321098765"
			return ev
		}()}, ""},
		{"fb_comment_edit_sender.json", []bot.Event{func() bot.Event {
			// The older shape: verb "edit", the author in sender_id (a number) and sender_name.
			ev := comment("987654321098765_2000000000000007:edited:", "104523749012345_987654321098765",
				"6021345987650007", "Marc Blanc", "Toujours pas livré, bande d'escrocs", 1795731390)
			ev.Kind = bot.KindEdit
			ev.At = at(1795731400)
			ev.Thread, ev.ReplyTo = "987654321098765_2000000000000001", "987654321098765_2000000000000001"
			return ev
		}()}, ""},
		{"fb_comment_hide.json", nil, "hidden or shown on the Page"},
		{"fb_comment_remove.json", nil, "removed on the Page (by its author, or in Meta's tools)"},
		{"fb_own_comment.json", nil, "own comment ignored"},
		{"ig_comment.json", []bot.Event{{ID: "17865799348089039", Platform: "instagram", Kind: bot.KindComment,
			Space: igID, Channel: "18012345678901234", Author: bot.Author{ID: "232323232", Name: "test_user_fr"},
			Text: "quels sont vos horaires ?", At: at(1795731700)}}, ""},
		{"ig_mention.json", []bot.Event{{ID: "17894227972186120:mention", Platform: "instagram", Kind: bot.KindComment,
			Space: igID, Channel: "17918195224117851", Text: "@boulangerie.martin vos croissants sont nuls",
			Author: bot.Author{ID: "unnamed:17894227972186120"}, // Graph names no author for a mention
			At:     time.Date(2026, 11, 20, 22, 15, 0, 0, time.UTC)}}, ""},
		{"batched.json", []bot.Event{
			comment("987654321098765_2000000000000001", "104523749012345_987654321098765", "6021345987650001",
				"Alice Martin", "Super produit, merci !", 1795731890),
			func() bot.Event {
				ev := comment("987654321098765_2000000000000002", "104523749012345_987654321098765",
					"6021345987650003", "Chloé Petit", "@Alice Martin pareil pour moi", 1795731895)
				ev.Thread, ev.ReplyTo = "987654321098765_2000000000000001", "987654321098765_2000000000000001"
				return ev
			}(),
			comment("555555555555555_3000000000000001", "104523749012345_555555555555555", "6021345987650004",
				"David Leroy", "Livrez-vous à Lyon ?", 1795731940),
		}, "webhook field not handled"},
		{"messenger_text.json", []bot.Event{{
			ID:       "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P",
			Platform: "facebook", Kind: bot.KindDM, Space: pageID, Channel: "7654321098765432",
			Author: bot.Author{ID: "7654321098765432"}, Text: "Bonjour, êtes-vous ouverts dimanche ?",
			At: time.UnixMilli(1795731999876).UTC()}}, ""},
		{"unknown_object.json", nil, "webhook object not handled"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h := newHarness(t, nil)
			h.mustPost(fixture(t, tt.file))
			got := h.collect()
			if len(got) != len(tt.want) {
				t.Fatalf("got %d events, want %d:\n%+v", len(got), len(tt.want), got)
			}
			for i, want := range tt.want {
				g := got[i]
				if strings.HasSuffix(want.ID, ":edited:") {
					// The suffix is a digest of the text; its exact value is not the point.
					if !strings.HasPrefix(g.ID, want.ID) || len(g.ID) <= len(want.ID) {
						t.Errorf("event %d id = %q, want %q + digest", i, g.ID, want.ID)
					}
					g.ID = want.ID
				}
				if g.Platform != want.Platform || g.Kind != want.Kind || g.ID != want.ID ||
					g.Space != want.Space || g.Channel != want.Channel || g.Thread != want.Thread ||
					g.ReplyTo != want.ReplyTo || g.Author.ID != want.Author.ID || g.Author.Name != want.Author.Name ||
					g.Text != want.Text || !g.At.Equal(want.At) || g.Link != want.Link {
					t.Errorf("event %d:\n got %+v\nwant %+v", i, g, want)
				}
			}
			if tt.wantLog != "" && !strings.Contains(h.logs.String(), tt.wantLog) {
				t.Errorf("logs lack %q:\n%s", tt.wantLog, h.logs.String())
			}
		})
	}
}

func TestRetriedDeliveryYieldsEventsOnce(t *testing.T) {
	h := newHarness(t, nil)
	batch := fixture(t, "batched.json")
	h.mustPost(batch)
	h.mustPost(batch) // Meta's retry, byte for byte
	if got := h.collect(); len(got) != 3 {
		t.Fatalf("got %d events from a delivery and its retry, want 3", len(got))
	}

	// An edit is a new event; its retry is not; an edit to another text is.
	h.mustPost(fixture(t, "fb_comment_add.json"))
	h.mustPost(fixture(t, "fb_comment_edited.json"))
	h.mustPost(fixture(t, "fb_comment_edited.json"))
	again := bytes.Replace(fixture(t, "fb_comment_edited.json"),
		[]byte("Vous êtes vraiment des escrocs"), []byte("Vous êtes des escrocs, connards"), 1)
	h.mustPost(again)
	got := h.collect()
	var kinds []bot.Kind
	for _, ev := range got {
		kinds = append(kinds, ev.Kind)
	}
	if len(got) != 3 || kinds[0] != bot.KindComment || kinds[1] != bot.KindEdit || kinds[2] != bot.KindEdit {
		t.Fatalf("got kinds %v, want [comment edit edit]", kinds)
	}
	if got[1].ID == got[2].ID {
		t.Fatalf("two different edits share the id %q", got[1].ID)
	}
	if meta.CommentID(got[2]) != "987654321098765_1122334455667788" {
		t.Fatalf("CommentID(edit) = %q", meta.CommentID(got[2]))
	}
}

func TestFullQueueDefersToMetaRetry(t *testing.T) {
	// No Run here: the queue holds two events and nobody drains it.
	c := meta.New(meta.Config{AppSecret: appSecret, QueueSize: 2, Now: func() time.Time { return fixedNow }})
	batch := fixture(t, "batched.json") // three comments
	send := func() int {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/meta", bytes.NewReader(batch))
		req.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, batch))
		rec := httptest.NewRecorder()
		c.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	if code := send(); code != http.StatusServiceUnavailable {
		t.Fatalf("first delivery into a queue of 2: code %d, want 503", code)
	}
	out := make(chan bot.Event, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx, out) }()
	var ids []string
	for range 2 {
		ids = append(ids, (<-out).ID)
	}
	if code := send(); code != http.StatusOK { // Meta's retry
		t.Fatalf("retry: code %d, want 200", code)
	}
	ids = append(ids, (<-out).ID)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{"987654321098765_2000000000000001", "987654321098765_2000000000000002", "555555555555555_3000000000000001"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("ids = %v, want %v", ids, want)
	}
	if len(out) != 0 {
		t.Fatalf("%d events more than the three comments", len(out))
	}
}

func TestPlatformsAreNamedLikeTheirEvents(t *testing.T) {
	c := meta.New(meta.Config{})
	var names []string
	for _, p := range c.Platforms() {
		names = append(names, p.Name())
		for _, k := range []bot.ActionKind{bot.ActHide, bot.ActDelete, bot.ActReply, bot.ActWarn} {
			if !bot.Capable(p, k) {
				t.Errorf("%s cannot %s", p.Name(), k)
			}
		}
	}
	if strings.Join(names, ",") != "facebook,instagram" {
		t.Fatalf("platform names = %v", names)
	}
	if !bot.Capable(c.Facebook(), bot.ActBan) || bot.Capable(c.Instagram(), bot.ActBan) {
		t.Fatal("only the Facebook Page can ban")
	}
	var _ bot.Source = c
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := meta.New(meta.Config{AppSecret: appSecret, VerifyToken: verifyToken, Registerer: reg, Now: func() time.Time { return fixedNow }})
	body := fixture(t, "ig_comment.json")
	for _, sig := range []string{meta.Sign(appSecret, body), "sha256=00"} {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/meta", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", sig)
		c.Handler().ServeHTTP(httptest.NewRecorder(), req)
	}
	c.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet,
		"/webhooks/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token="+verifyToken, nil))
	// A second connector on the same registry (a reload) shares the counters.
	meta.New(meta.Config{Registerer: reg})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "," + l.GetName() + "=" + l.GetValue()
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"vigie_meta_webhook_requests_total,result=accepted":                      1,
		"vigie_meta_webhook_requests_total,result=bad_signature":                 1,
		"vigie_meta_webhook_requests_total,result=handshake_ok":                  1,
		"vigie_meta_queue_length":                                                0, // the second connector's empty queue
		"vigie_meta_page_subscribed":                                             1, // not found unsubscribed
		"vigie_refused_requests_total,reason=bad_signature,route=/webhooks/meta": 1,
	}
	if len(got) != len(want) {
		t.Fatalf("metrics = %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

func TestConcurrentRetriesYieldEventsOnce(t *testing.T) {
	h := newHarness(t, nil)
	batch := fixture(t, "batched.json")
	var wg sync.WaitGroup
	for range 8 {
		handler := h.c.Handler() // a handler per goroutine: the dedupe is the connector's
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "/webhooks/meta", bytes.NewReader(batch))
			req.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, batch))
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("code %d", rec.Code)
			}
		})
	}
	wg.Wait()
	if got := h.collect(); len(got) != 3 {
		t.Fatalf("got %d events from 8 concurrent copies of a delivery, want 3", len(got))
	}
}

func TestParseTimes(t *testing.T) {
	// Dates reach events through created_time; each form Meta uses is read, and
	// anything else falls back to the entry's time.
	tests := []struct {
		created string
		want    time.Time
	}{
		{`1795730998`, time.Unix(1795730998, 0).UTC()},
		{`"1795730998"`, time.Unix(1795730998, 0).UTC()},
		{`1795730998123`, time.UnixMilli(1795730998123).UTC()},
		{`"2026-11-20T22:09:58+0000"`, time.Date(2026, 11, 20, 22, 9, 58, 0, time.UTC)},
		{`"2026-11-20T23:09:58+01:00"`, time.Date(2026, 11, 20, 22, 9, 58, 0, time.UTC)},
		{`"NaN"`, time.Unix(1795731000, 0).UTC()},
		{`"hier"`, time.Unix(1795731000, 0).UTC()},
		{`-5`, time.Unix(1795731000, 0).UTC()},
		{`{"x":1}`, time.Unix(1795731000, 0).UTC()},
	}
	for _, tt := range tests {
		t.Run(tt.created, func(t *testing.T) {
			h := newHarness(t, nil)
			h.mustPost([]byte(`{"object":"page","entry":[{"id":"` + pageID + `","time":1795731000,"changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"c_1","post_id":"p_1","from":{"id":"9","name":"X"},"message":"m","created_time":` + tt.created + `}}]}]}`))
			got := h.collect()
			if len(got) != 1 || !got[0].At.Equal(tt.want) {
				t.Fatalf("events %+v, want one at %s", got, tt.want)
			}
		})
	}
}

func TestShutdownHandsOverWhatMetaWasToldItGot(t *testing.T) {
	tests := []struct {
		name string
		// read is how many events the test takes from Run after cancelling it.
		read    int
		drain   time.Duration
		wantLog string
	}{
		{"everything queued is handed over", 3, time.Minute, "Meta events received before shutdown handed over"},
		{"what the drain timeout leaves is logged by id", 0, time.Millisecond,
			"3 Meta events received but not evaluated before shutdown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testsync.Buffer{}
			c := meta.New(meta.Config{AppSecret: appSecret, DrainTimeout: tt.drain, Logger: testsync.Logger(logs), Now: func() time.Time { return fixedNow }})
			post := func() int {
				batch := fixture(t, "batched.json") // three comments
				req := httptest.NewRequest(http.MethodPost, "/webhooks/meta", bytes.NewReader(batch))
				req.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, batch))
				rec := httptest.NewRecorder()
				c.Handler().ServeHTTP(rec, req)
				return rec.Code
			}
			// Nobody reads out while the delivery is acknowledged: the events wait
			// in the queue, as behind busy workers.
			out := make(chan bot.Event)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, out) }()
			if code := post(); code != http.StatusOK {
				t.Fatalf("delivery: %d", code)
			}
			cancel()
			var ids []string
			for range tt.read {
				ids = append(ids, testsync.Next(t, out).ID)
			}
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(ids) != tt.read {
				t.Errorf("handed over %v", ids)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("logs lack %q:\n%s", tt.wantLog, logs.String())
			}
			if tt.read == 0 && !strings.Contains(logs.String(), "facebook:987654321098765_2000000000000001") {
				t.Errorf("the lost events are not named:\n%s", logs.String())
			}
			// Stopped, the connector takes nothing Meta would believe handled.
			if code := post(); code != http.StatusServiceUnavailable {
				t.Errorf("delivery after shutdown: %d, want 503", code)
			}
		})
	}
}
