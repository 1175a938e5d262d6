package daemon_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

const casesRules = `timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "nitro"'
    do: [forward("scam")]
  - name: rude
    category: abuse
    when: 'lower(text) contains "idiot"'
    do: [forward("rude")]
`

// membersCasesRules is casesRules for tests whose posted events stand for
// the feed connector's members, and whose cases are decided on the
// platform: without http_events.act_on, such a case is unverified and keep
// is its only outcome (TestUnverifiedCasesAreNotActedOn).
const membersCasesRules = "http_events: {act_on: [discord]}\n" + casesRules

type apiCase struct {
	ID        string
	Status    string
	Rule      string
	Outcome   string
	DecidedBy string `json:"decided_by"`
	Event     struct {
		ID, Text, Channel string
		Author            struct{ ID, Name string }
	}
}

type apiPage struct {
	Total, Offset, Count int
	Cases                []apiCase
}

// TestCasesOverHTTP lists, filters, pages, shows and decides cases over the
// HTTP API, as a script or the console does: the decision is carried out on the
// platform, a second one is refused with who was first, an outcome the
// platform cannot do is refused without recording anything.
func TestCasesOverHTTP(t *testing.T) {
	const token = "t0ken"
	in := start(t, membersCasesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret, "VIGIE_ADMIN_TOKEN": token})
	auth := map[string]string{"Authorization": "Bearer " + token}
	get := func(path string, want int) []byte {
		t.Helper()
		r := in.do(t, "GET", path, nil, auth)
		if r.code != want {
			t.Fatalf("GET %s = %d %s, want %d", path, r.code, r.body, want)
		}
		return r.body
	}
	list := func(query string) apiPage {
		t.Helper()
		var p apiPage
		if err := json.Unmarshal(get("/v1/cases"+query, http.StatusOK), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	decide := func(id, body string, want int) (string, apiCase) {
		t.Helper()
		r := in.do(t, "POST", "/v1/cases/"+id+"/decision", []byte(body), auth)
		if r.code != want {
			t.Fatalf("decide %s %s = %d %s, want %d", id, body, r.code, r.body, want)
		}
		var out struct {
			Error string
			Case  apiCase
		}
		r.json(t, &out)
		return out.Error, out.Case
	}

	for i, ev := range []struct{ id, author, name, channel, text string }{
		{"m1", "u1", "Alice", "general", "free nitro"},
		{"m2", "u2", "Bob", "trade", "nitro for you"},
		{"m3", "u3", "Carol", "general", "you idiot"},
	} {
		m := message(ev.id, ev.author, ev.text)
		m["author"] = map[string]any{"id": ev.author, "name": ev.name}
		m["channel"] = ev.channel
		in.post(t, m)
		// Each case opened before the next event: two places' lanes open
		// theirs in either order, and the pages below are in that order.
		testsync.Eventually(t, "the event's case", func() bool { return list("").Total == i+1 })
	}

	ids := map[string]string{}
	for _, c := range list("").Cases {
		ids[c.Event.ID] = c.ID
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?rule=scam", []string{"m1", "m2"}},
		{"?author=u2", []string{"m2"}},
		{"?author=carol", []string{"m3"}},
		{"?place=general", []string{"m1", "m3"}},
		{"?place=guild-1&rule=rude", []string{"m3"}},
		{"?platform=telegram", nil},
		{"?priority=normal", []string{"m1", "m2", "m3"}},
		{"?priority=high", nil},
		{"?limit=1&offset=1", []string{"m2"}},
		{"?offset=5", nil},
	} {
		var got []string
		for _, c := range list(tc.query).Cases {
			got = append(got, c.Event.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("GET /v1/cases%s: events %v, want %v", tc.query, got, tc.want)
		}
	}
	if p := list("?limit=1"); p.Total != 3 || p.Count != 1 {
		t.Errorf("a page of 1: total %d count %d, want 3 and 1", p.Total, p.Count)
	}
	for _, q := range []string{"?status=closed", "?limit=0", "?limit=1001", "?offset=-1", "?limit=x", "?priority=urgent"} {
		get("/v1/cases"+q, http.StatusBadRequest)
	}
	var one apiCase
	if err := json.Unmarshal(get("/v1/cases/"+ids["m3"], http.StatusOK), &one); err != nil {
		t.Fatal(err)
	}
	if one.Rule != "rude" || one.Event.Text != "you idiot" || one.Status != "open" {
		t.Errorf("GET /v1/cases/ID = %+v", one)
	}
	get("/v1/cases/nope", http.StatusNotFound)
	if r := in.do(t, "POST", "/v1/cases/"+ids["m1"]+"/decision", []byte(`{"outcome":"keep","by":"x"}`), nil); r.code != http.StatusUnauthorized {
		t.Errorf("a decision without the admin token = %d, want 401", r.code)
	}

	// What is refused leaves the case open.
	for _, body := range []string{
		`{"outcome":"delete"}`,
		`{"outcome":"explode","by":"ann"}`,
		`{"outcome":"delete","by":"ann","why":"x"}`,
		`{"outcome":"timeout(soon)","by":"ann"}`,
		`not json`,
	} {
		decide(ids["m1"], body, http.StatusBadRequest)
	}
	if msg, _ := decide(ids["m1"], `{"outcome":"ban","by":"ann"}`, http.StatusUnprocessableEntity); !strings.Contains(msg, "discord cannot ban") {
		t.Errorf("ban on a platform that cannot: %q", msg)
	}
	decide("nope", `{"outcome":"keep","by":"ann"}`, http.StatusNotFound)
	if p := list(""); p.Total != 3 {
		t.Fatalf("refused decisions closed cases: %d open, want 3", p.Total)
	}

	if _, c := decide(ids["m1"], `{"outcome":"delete","by":"ann"}`, http.StatusOK); c.Outcome != "delete" || c.DecidedBy != "http:ann" || c.Status != "decided" {
		t.Errorf("decided case = %+v", c)
	}
	msg, c := decide(ids["m1"], `{"outcome":"keep","by":"max"}`, http.StatusConflict)
	if !strings.Contains(msg, "already decided by http:ann: delete") || c.Outcome != "delete" {
		t.Errorf("second decision: %q, case %+v", msg, c)
	}
	decide(ids["m2"], `{"outcome":"timeout","duration":"2h","by":"ann"}`, http.StatusOK)
	decide(ids["m3"], `{"outcome":"reply","text":"be kind","by":"ann"}`, http.StatusOK)
	want := []string{"delete m1", "timeout u2 2h", `reply m3 "be kind"`}
	testsync.Eventually(t, "the decisions carried out", func() bool {
		return len(in.chat.Calls()) >= len(want)
	})
	if got := in.chat.Calls(); !slices.Equal(got, want) {
		t.Errorf("platform calls %q, want %q", got, want)
	}
	if p := list("?status=decided"); p.Total != 3 {
		t.Errorf("%d decided cases, want 3", p.Total)
	}
	if p := list("?status=all&rule=scam"); p.Total != 2 || p.Cases[0].Event.ID != "m1" {
		t.Errorf("status=all&rule=scam: %+v", p)
	}
}
