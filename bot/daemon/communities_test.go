package daemon_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// Cases record their community, and GET /v1/cases and /v1/report keep to one.
func TestCommunitiesOverHTTP(t *testing.T) {
	in := start(t, `rules:
  - name: scam
    when: 'lower(text) contains "nitro"'
    do: [forward("scam")]
communities:
  shop:
    places: [discord:111]
`, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	for _, space := range []string{"111", "guild-1"} {
		m := message("m-"+space, "u1", "free nitro")
		m["space"] = space
		in.post(t, m)
	}
	list := func(query string) []string {
		t.Helper()
		r := in.do(t, "GET", "/v1/cases"+query, nil, nil)
		if r.code != http.StatusOK {
			t.Fatalf("GET /v1/cases%s = %d %s", query, r.code, r.body)
		}
		var p struct {
			Cases []struct {
				Community string
				Event     struct{ ID string }
			}
		}
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range p.Cases {
			out = append(out, c.Event.ID+"="+c.Community)
		}
		slices.Sort(out)
		return out
	}
	testsync.Eventually(t, "two open cases", func() bool { return len(list("")) == 2 })
	if got, want := list(""), []string{"m-111=shop", "m-guild-1="}; !slices.Equal(got, want) {
		t.Errorf("cases = %q, want %q", got, want)
	}
	if got, want := list("?community=shop"), []string{"m-111=shop"}; !slices.Equal(got, want) {
		t.Errorf("?community=shop: cases = %q, want %q", got, want)
	}
	r := in.do(t, "GET", "/v1/report?community=shop", nil, nil)
	var rep struct {
		Community string
		Flagged   int
		Cases     struct{ Open int }
	}
	if r.code != http.StatusOK {
		t.Fatalf("GET /v1/report?community=shop = %d %s", r.code, r.body)
	}
	r.json(t, &rep)
	if rep.Community != "shop" || rep.Flagged != 1 || rep.Cases.Open != 1 {
		t.Errorf("shop's report = %+v, want its one flagged event and case", rep)
	}
	if r := in.do(t, "GET", "/v1/report?community=nope", nil, nil); r.code != http.StatusBadRequest {
		t.Errorf("GET /v1/report?community=nope = %d, want 400", r.code)
	}
}
