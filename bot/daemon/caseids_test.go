package daemon_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestDecisionWithACaseIDFromBeforeARestart: vigie, on the memory store,
// opens a case for Eve's scam and is restarted; then a case opens for
// Frank's. A decision sent with the id of Eve's case (a console page, a
// script, `vigie cases decide`, a mod-log link read before the restart)
// names no case: 404, and nothing is done to Frank's message, where it used
// to decide Frank's case (the memory store numbered cases from c-000001
// again). Frank's case is decided by its own id.
func TestDecisionWithACaseIDFromBeforeARestart(t *testing.T) {
	const token = "t0ken"
	env := map[string]string{"VIGIE_WEBHOOK_SECRET": secret, "VIGIE_ADMIN_TOKEN": token}
	auth := map[string]string{"Authorization": "Bearer " + token}
	open := func(in *instance) map[string]string {
		t.Helper()
		var p apiPage
		in.do(t, "GET", "/v1/cases?status=open", nil, auth).json(t, &p)
		ids := map[string]string{}
		for _, c := range p.Cases {
			ids[c.Event.Text] = c.ID
		}
		return ids
	}
	caseOf := func(in *instance, text string) string {
		t.Helper()
		var id string
		testsync.Eventually(t, "the case of "+text, func() bool {
			id = open(in)[text]
			return id != ""
		})
		return id
	}
	first := start(t, membersCasesRules, env)
	first.post(t, message("m1", "eve", "free nitro"))
	eve := caseOf(first, "free nitro")
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	second := start(t, membersCasesRules, env)
	second.post(t, message("m2", "frank", "nitro for all"))
	frank := caseOf(second, "nitro for all")
	r := second.do(t, "POST", "/v1/cases/"+eve+"/decision", []byte(`{"outcome":"delete","by":"ann"}`), auth)
	if r.code != http.StatusNotFound {
		t.Errorf("a decision on %s, Eve's case before the restart = %d %s; want 404 (Frank's case is %s)", eve, r.code, r.body, frank)
	}
	if r := second.do(t, "GET", "/v1/cases/"+eve, nil, auth); r.code != http.StatusNotFound {
		t.Errorf("GET /v1/cases/%s after the restart = %d %s; want 404", eve, r.code, r.body)
	}
	if calls := second.chat.Calls(); slices.Contains(calls, "delete m2") {
		t.Errorf("Frank's message deleted by a decision on Eve's case: %q", calls)
	}
	if open(second)["nitro for all"] != frank {
		t.Errorf("Frank's case was decided by a decision on Eve's: open %v", open(second))
	}

	if r := second.do(t, "POST", "/v1/cases/"+frank+"/decision", []byte(`{"outcome":"delete","by":"ann"}`), auth); r.code != http.StatusOK {
		t.Fatalf("a decision on Frank's own case %s = %d %s", frank, r.code, r.body)
	}
	testsync.Eventually(t, "Frank's message deleted", func() bool { return slices.Contains(second.chat.Calls(), "delete m2") })
}
