package discordfake

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestRateLimitsAsDiscordSays: a route's calls about one channel share a
// bucket whose headers count down; past its limit a call is not carried out
// and answers 429 with Retry-After, the scope and Discord's JSON body, while
// the same route about another channel is still taken. Past the global
// limit every route answers 429, said global; the window's end lets calls in.
func TestRateLimitsAsDiscordSays(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	f := New(t, Options{Now: func() time.Time { return now }, RateLimits: &RateLimits{Route: 2, Window: 5 * time.Second, Global: 4}})
	del := func(ch, id string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("DELETE", "http://discord.test/api/v9/channels/"+ch+"/messages/"+id, nil)
		req.Header.Set("Authorization", "Bot "+Token)
		resp, err := f.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	first := del(channel, "800000000000000101")
	if first.StatusCode != 204 || first.Header.Get("X-RateLimit-Remaining") != "1" || first.Header.Get("X-RateLimit-Limit") != "2" ||
		first.Header.Get("X-RateLimit-Reset-After") != "5.000" || first.Header.Get("X-RateLimit-Bucket") == "" {
		t.Fatalf("first delete: %d %v", first.StatusCode, first.Header)
	}
	second := del(channel, "800000000000000102")
	if second.Header.Get("X-RateLimit-Remaining") != "0" || second.Header.Get("X-RateLimit-Bucket") != first.Header.Get("X-RateLimit-Bucket") {
		t.Fatalf("second delete: %v", second.Header)
	}
	third := del(channel, "800000000000000103")
	var body struct {
		Message    string  `json:"message"`
		RetryAfter float64 `json:"retry_after"`
		Global     *bool   `json:"global"`
	}
	if err := json.NewDecoder(third.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if third.StatusCode != 429 || third.Header.Get("Retry-After") != "5" || third.Header.Get("X-RateLimit-Scope") != "user" ||
		body.RetryAfter != 5 || body.Global == nil || *body.Global || body.Message == "" {
		t.Fatalf("third delete: %d %v %+v", third.StatusCode, third.Header, body)
	}
	if n := f.Count("DELETE", "/channels/"+channel+"/messages/800000000000000103"); n != 0 {
		t.Errorf("a rate limited delete carried out (%d calls)", n)
	}
	if other := del("800000000000000210", "800000000000000104"); other.StatusCode != 204 {
		t.Errorf("another channel's delete: %d, want 204 (its own bucket)", other.StatusCode)
	}
	if other := del("800000000000000310", "800000000000000105"); other.StatusCode != 204 {
		t.Errorf("a third channel's delete: %d, want 204", other.StatusCode)
	}
	global := del("800000000000000410", "800000000000000106")
	if global.StatusCode != 429 || global.Header.Get("X-RateLimit-Global") != "true" || global.Header.Get("X-RateLimit-Scope") != "global" {
		t.Errorf("past the global limit: %d %v, want 429, global", global.StatusCode, global.Header)
	}
	if got := f.RateLimited(); got["user"] != 1 || got["global"] != 1 {
		t.Errorf("refused %v, want one of each scope", got)
	}
	now = now.Add(5 * time.Second)
	if again := del(channel, "800000000000000103"); again.StatusCode != 204 {
		t.Errorf("after the window: %d, want 204", again.StatusCode)
	}
	if n := f.Requests(); n != 7 {
		t.Errorf("%d requests counted, want 7", n)
	}
}

// TestResumeReplaysWhatWasMissed: the events sent while a session had no
// connection, and those past the sequence number its RESUME names, are
// replayed in order before RESUMED; a session invalidated (op 9, d false)
// gets nothing of its events.
func TestResumeReplaysWhatWasMissed(t *testing.T) {
	f := New(t, Options{Guilds: []string{guild}})
	g := dial(t, f)
	g.identify("Bot " + Token)
	ready := g.next()
	session, _ := ready.D["session_id"].(string)
	if !f.Message(guild, channel, "800000000000000501", member, "one") {
		t.Fatal("the first message not taken")
	}
	seen := g.next()
	f.Reconnect()
	if p := g.next(); p.Op != 7 {
		t.Fatalf("op %d, want 7 Reconnect", p.Op)
	}
	g.ws.Close()
	testsync.Eventually(t, "the connection gone", func() bool { return f.Connections() == 0 })
	if !f.Message(guild, channel, "800000000000000502", member, "two") {
		t.Fatal("a message while the session waits for its RESUME not kept")
	}
	g = dial(t, f)
	if err := g.ws.WriteJSON(map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + Token, "session_id": session, "seq": ready.S}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for {
		p := g.next()
		if p.T == "RESUMED" {
			break
		}
		id, _ := p.D["id"].(string)
		ids = append(ids, id)
		if p.S <= ready.S {
			t.Errorf("replayed %s of sequence %d, at or before %d", p.T, p.S, ready.S)
		}
	}
	if len(ids) != 2 || ids[0] != seen.D["id"] || ids[1] != "800000000000000502" {
		t.Errorf("replayed %v, want the message past the RESUME's sequence and the one sent away", ids)
	}

	f.InvalidSession(false)
	var p struct {
		Op int             `json:"op"`
		D  json.RawMessage `json:"d"`
	}
	g.ws.SetReadDeadline(testsync.Deadline())
	if err := g.ws.ReadJSON(&p); err != nil || p.Op != 9 || string(p.D) != "false" {
		t.Fatalf("op %d d %s (%v), want 9 Invalid Session, d false", p.Op, p.D, err)
	}
	g.ws.Close()
	testsync.Eventually(t, "the connection gone", func() bool { return f.Connections() == 0 })
	if f.Message(guild, channel, "800000000000000503", member, "three") {
		t.Error("a message kept for a session no longer valid")
	}
}
