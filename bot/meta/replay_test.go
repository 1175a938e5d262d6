package meta_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// feedDelivery is a signed-looking Page delivery of one comment change per
// entry, each entry stamped at its own time.
func feedDelivery(entries ...feedEntry) []byte {
	var es []string
	for _, e := range entries {
		es = append(es, fmt.Sprintf(`{"id":"%s","time":%d,"changes":[{"field":"feed","value":{"item":"comment","verb":"%s","comment_id":"%s","post_id":"p_1","parent_id":"p_1","from":{"id":"9","name":"X"},"message":"bande d'escrocs","created_time":%d}}]}`,
			pageID, e.sent.Unix(), e.verb, e.id, e.created.Unix()))
	}
	return []byte(`{"object":"page","entry":[` + strings.Join(es, ",") + `]}`)
}

type feedEntry struct {
	id, verb      string
	sent, created time.Time
}

// TestOldDeliveryIsNotActedOnAgain: Meta's signature has no time, so a delivery
// saved by whoever saw it (a log, a proxy) verifies forever. Once the store has
// forgotten its ids (72 hours), posting it again must not hide, delete or ban
// again: vigie judges each entry by its own time and refuses those older than
// the dedupe's memory, or too far ahead of the clock, still answering 200.
func TestOldDeliveryIsNotActedOnAgain(t *testing.T) {
	sent := fixedNow.Add(-time.Minute)
	add := func(id string, at time.Time) feedEntry { return feedEntry{id, "add", at, at.Add(-10 * time.Second)} }
	tests := []struct {
		name    string
		now     time.Time // the connector's clock when the delivery comes
		body    []byte
		want    []string // event ids handed over
		refused map[string]float64
		wantLog string
	}{
		{"a retry a day later is taken", sent.Add(24 * time.Hour),
			feedDelivery(add("c_1", sent)), []string{"c_1"}, nil, ""},
		{"a delivery within the dedupe's memory is taken", sent.Add(71 * time.Hour),
			feedDelivery(add("c_1", sent)), []string{"c_1"}, nil, ""},
		{"a delivery just under meta.MaxAge is taken", sent.Add(meta.MaxAge - time.Second),
			feedDelivery(add("c_1", sent)), []string{"c_1"}, nil, ""},
		{"a delivery meta.MaxAge old is refused", sent.Add(meta.MaxAge),
			feedDelivery(add("c_1", sent)), nil, map[string]float64{"stale": 1}, ""},
		{"a delivery as old as the dedupe's memory is refused", sent.Add(72 * time.Hour),
			feedDelivery(add("c_1", sent)), nil, map[string]float64{"stale": 1}, "Meta entry older than the dedupe's memory refused"},
		{"a delivery a year old is refused", sent.AddDate(1, 0, 0),
			feedDelivery(add("c_1", sent)), nil, map[string]float64{"stale": 1}, "c_1"},
		{"an edit sent now of a comment written long ago is taken", sent.Add(time.Minute),
			feedDelivery(feedEntry{"c_2", "edited", sent, sent.AddDate(0, 0, -30)}), []string{"c_2"}, nil, ""},
		{"only the stale entries of a delivery are refused", sent.Add(73 * time.Hour),
			feedDelivery(add("c_old", sent), add("c_new", sent.Add(72*time.Hour))), []string{"c_new"}, map[string]float64{"stale": 1}, ""},
		{"a little clock skew is taken", sent.Add(-2 * time.Minute),
			feedDelivery(add("c_1", sent)), []string{"c_1"}, nil, ""},
		{"an entry meta.MaxSkew ahead is taken", sent.Add(-meta.MaxSkew),
			feedDelivery(add("c_1", sent)), []string{"c_1"}, nil, ""},
		{"an entry from the future is refused", sent.Add(-time.Hour),
			feedDelivery(add("c_1", sent)), nil, map[string]float64{"future": 1}, "Meta entry from the future refused"},
		{"an entry without a time of its own is judged by its change's", sent.Add(80 * time.Hour),
			[]byte(`{"object":"page","entry":[{"id":"` + pageID + `","changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"c_1","post_id":"p_1","from":{"id":"9"},"message":"m","created_time":` + fmt.Sprint(sent.Unix()) + `}}]}]}`),
			nil, map[string]float64{"stale": 1}, ""},
		{"an entry without any time is refused", sent,
			[]byte(`{"object":"page","entry":[{"id":"` + pageID + `","changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"c_1","post_id":"p_1","from":{"id":"9"},"message":"m"}}]}]}`),
			nil, map[string]float64{"undated": 1}, ""},
		{"an old direct message is refused", sent.Add(100 * time.Hour),
			[]byte(fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"77"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"m_1","text":"connard"}}]}]}`,
				pageID, sent.UnixMilli(), pageID, sent.UnixMilli())),
			nil, map[string]float64{"stale": 1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			h := newHarness(t, func(c *meta.Config) {
				c.Now = func() time.Time { return tt.now }
				c.Registerer = reg
			})
			if rec := h.post(tt.body, appSecret); rec.Code != http.StatusOK {
				t.Fatalf("POST answered %d %q, want 200 (else Meta sends it again)", rec.Code, rec.Body.String())
			}
			var ids []string
			for _, ev := range h.collect() {
				ids = append(ids, meta.CommentID(ev))
			}
			if strings.Join(ids, " ") != strings.Join(tt.want, " ") {
				t.Errorf("events %v, want %v", ids, tt.want)
			}
			got := refusedEntries(t, reg)
			if len(got) != len(tt.refused) {
				t.Errorf("refused entries %v, want %v", got, tt.refused)
			}
			for k, v := range tt.refused {
				if got[k] != v {
					t.Errorf("refused %s = %v, want %v", k, got[k], v)
				}
			}
			if !strings.Contains(h.logs.String(), tt.wantLog) {
				t.Errorf("logs lack %q:\n%s", tt.wantLog, h.logs.String())
			}
		})
	}
}

// refusedEntries reads vigie_meta_webhook_entries_refused_total by reason.
func refusedEntries(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "vigie_meta_webhook_entries_refused_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && m.GetCounter().GetValue() != 0 {
					got[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return got
}

// TestMaxAgeWithinTheDedupesMemory: an entry is taken only while the rules
// engine has the store remember its id, even one dated MaxSkew ahead of the
// clock; the engine's dedupe time is read from the call it makes.
func TestMaxAgeWithinTheDedupesMemory(t *testing.T) {
	rs, err := rules.Parse("page.yaml", []byte(pageRules), rules.LoadOptions{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	var p ttlProbe
	ev := bot.Event{ID: "c_1", Platform: meta.Facebook, Kind: bot.KindComment, Space: pageID,
		Author: bot.Author{ID: "9"}, Text: "bonjour", At: fixedNow}
	if _, err := rules.NewEngine(rs, &p, rules.Options{Clock: func() time.Time { return fixedNow }}).Evaluate(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if p.ttl <= 0 {
		t.Fatal("the engine asked the store to remember no event id")
	}
	if meta.MaxAge+meta.MaxSkew > p.ttl {
		t.Fatalf("MaxAge %s + MaxSkew %s is longer than the store remembers ids (%s): a replay could be acted on", meta.MaxAge, meta.MaxSkew, p.ttl)
	}
}

// ttlProbe answers that the event is a duplicate, so that the engine calls
// nothing else, and notes how long it asked the id to be remembered.
type ttlProbe struct {
	store.Store // nil: the engine calls only Observe for a duplicate
	ttl         time.Duration
}

func (p *ttlProbe) Observe(_ context.Context, o store.Observation) (store.Result, error) {
	if o.EventID != "" {
		p.ttl = o.DedupeTTL
	}
	return store.Result{Duplicate: true}, nil
}
