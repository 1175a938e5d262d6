package daemon_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// doAs sends a request as a browser would: with Host host ("" for the
// address dialled) and the headers given; with the admin token vigie made,
// as do, so that what refuses it is the Host or the page's headers.
func (in *instance) doAs(t *testing.T, host, method, path string, body []byte, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, in.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if in.token != "" {
		req.Header.Set("Authorization", "Bearer "+in.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, b}
}

// On loopback without its secrets, vigie serves this machine's scripts, and
// not what a web page makes the operator's browser send there: a form or a
// fetch() of another site posting a decision, an event or a reload, nor a
// page whose name was pointed at 127.0.0.1 (DNS rebinding) reading the cases,
// making itself an admin account or opening the console as its own.
func TestWebPagesCannotDriveALocalVigie(t *testing.T) {
	in := start(t, rulesV1, nil)
	port := in.base[strings.LastIndexByte(in.base, ':')+1:]
	evil := "evil.example:" + port
	ev, _ := json.Marshal(message("scam-1", "u-1", "free nitro"))
	if r := in.do(t, "POST", "/v1/events", ev, nil); r.code != http.StatusOK {
		t.Fatalf("an event from a script: %d %s", r.code, r.body)
	}
	var cases struct {
		Cases []struct{ ID, Status string }
	}
	testsync.Eventually(t, "the case", func() bool {
		in.do(t, "GET", "/v1/cases", nil, nil).json(t, &cases)
		return len(cases.Cases) == 1
	})
	id := cases.Cases[0].ID
	decision := []byte(`{"outcome":"keep","by":"eve"}`)
	plain := map[string]string{"Content-Type": "text/plain"}
	from := func(origin string, h map[string]string) map[string]string {
		out := map[string]string{"Origin": origin}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	for _, tt := range []struct {
		name         string
		host         string
		method, path string
		body         []byte
		header       map[string]string
	}{
		{"decision, a form of another site", "", "POST", "/v1/cases/" + id + "/decision", decision, from("https://evil.example", plain)},
		{"decision, fetch() of another site", "", "POST", "/v1/cases/" + id + "/decision", decision, map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}},
		{"decision, a page on another port", "", "POST", "/v1/cases/" + id + "/decision", decision, from("http://localhost:3000", plain)},
		{"event, a form of another site", "", "POST", "/v1/events", ev, from("https://evil.example", plain)},
		{"reload, a form of another site", "", "POST", "/-/reload", nil, from("https://evil.example", nil)},
		{"cases, DNS rebinding", evil, "GET", "/v1/cases", nil, nil},
		{"an admin account, DNS rebinding", evil, "PUT", "/v1/accounts/mallory", []byte(`{"role":"admin","password":"mallory-password-1"}`),
			from("http://"+evil, map[string]string{"Content-Type": "application/json"})},
		{"decision, DNS rebinding", evil, "POST", "/v1/cases/" + id + "/decision", decision, from("http://"+evil, nil)},
		{"event, DNS rebinding", evil, "POST", "/v1/events", ev, from("http://"+evil, nil)},
		{"console login, DNS rebinding", evil, "POST", "/login", []byte("name=ann&password=whatever-it-is"),
			from("http://"+evil, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := in.doAs(t, tt.host, tt.method, tt.path, tt.body, tt.header); r.code != http.StatusForbidden {
				t.Errorf("%s %s = %d %.200s, want 403", tt.method, tt.path, r.code, r.body)
			}
		})
	}
	var accounts []struct{ Name string }
	in.do(t, "GET", "/v1/accounts", nil, nil).json(t, &accounts)
	if len(accounts) != 0 {
		t.Errorf("accounts after the pages' requests: %+v, want none", accounts)
	}
	var one struct{ Status string }
	in.do(t, "GET", "/v1/cases/"+id, nil, nil).json(t, &one)
	if one.Status != "open" {
		t.Errorf("case %s after the pages' requests is %q, want open", id, one.Status)
	}

	// This machine's own clients: a script, a browser at localhost, a page
	// of vigie's own origin.
	if r := in.doAs(t, "localhost:"+port, "GET", "/v1/cases", nil, map[string]string{"Sec-Fetch-Site": "none"}); r.code != http.StatusOK {
		t.Errorf("the cases asked for at localhost: %d %s", r.code, r.body)
	}
	if r := in.doAs(t, "", "POST", "/v1/cases/"+id+"/decision", decision, map[string]string{"Origin": in.base}); r.code != http.StatusOK {
		t.Errorf("a decision from vigie's own origin: %d %s", r.code, r.body)
	}
}
