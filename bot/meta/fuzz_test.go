package meta_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/meta"
)

// FuzzWebhook sends validly signed random bodies: whatever Meta (or anyone holding
// the secret) sends, the handler never panics and never answers a server error.
func FuzzWebhook(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `"page"`, `{"object":"page"}`, `{"object":"page","entry":null}`,
		`{"object":"page","entry":[{"changes":[{"field":"feed","value":null}]}]}`,
		`{"object":"page","entry":[{"id":7,"changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":1e400,"from":{"id":{}},"created_time":"x"}}]}]}`,
		`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":1},"message":{"mid":"m","text":5}}]}]}`,
		`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"timestamp":-1,"message":{"mid":"m","attachments":[1,2]}}]}]}`,
		`{"object":"instagram","entry":[{"id":"1","field":"comments","value":{"id":"c","text":"t","media":[]}}]}`,
		`{"object":"instagram","entry":[{"id":"1","changes":[{"field":"mentions","value":{"comment_id":"c","media_id":9}}]}]}`,
		`{"object":"page","entry":[{"id":"1","time":1e300,"changes":[{"field":"feed","value":{"item":"comment","verb":"edited","comment_id":"c","created_time":99999999999999999}}]}]}`,
	} {
		f.Add([]byte(s))
	}

	g := newFakeGraph(f)
	c := meta.New(meta.Config{
		AppSecret: appSecret, PageToken: g.token, GraphURL: g.URL(),
		QueueSize: 1 << 14, DedupeSize: 64, Now: func() time.Time { return fixedNow },
	})
	h := c.Handler()
	out := make(chan bot.Event)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, out) }()
	go func() {
		for range out {
		}
	}()
	f.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			f.Errorf("Run: %v", err)
		}
	})

	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/meta", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("answered %d to %q", rec.Code, body)
		}
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("answered %d to a signed body %q, want 200 or 400", rec.Code, body)
		}
	})
}
