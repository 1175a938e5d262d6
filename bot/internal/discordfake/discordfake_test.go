package discordfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

const (
	channel = "800000000000000010"
	message = "800000000000000011"
	guild   = "800000000000000001"
	member  = "800000000000000002"
)

// TestRefusesWhatDiscordDoesNot: a request Discord's description does not
// allow is answered as Discord would (400 Invalid Form Body), fails the test
// that sent it and is not counted as a call.
func TestRefusesWhatDiscordDoesNot(t *testing.T) {
	for _, tt := range []struct {
		name, method, path, body string
		token                    string
		status                   int
		want                     string // the report; "" is none
	}{
		{"allowed", "DELETE", "/channels/" + channel + "/messages/" + message, "", Token, 204, ""},
		{"allowed, with a body", "PATCH", "/guilds/" + guild + "/members/" + member, `{"communication_disabled_until":"2026-12-03T00:10:00Z"}`, Token, 200, ""},
		{"unknown path", "DELETE", "/channels/" + channel + "/messages/" + message + "/everything", "", Token, 400, "no route"},
		{"unknown method", "PUT", "/channels/" + channel + "/messages/" + message, "", Token, 400, "method not allowed"},
		{"an id that is no snowflake", "DELETE", "/channels/general/messages/" + message, "", Token, 400, "does not match"},
		{"unknown query parameter", "GET", "/channels/" + channel + "/messages?everyone=1", "", Token, 400, `unknown query parameter "everyone"`},
		{"unknown field", "PATCH", "/guilds/" + guild + "/members/" + member, `{"timeout_until":"2026-12-03T00:10:00Z"}`, Token, 400, `unknown field "timeout_until"`},
		{"wrong type", "PATCH", "/guilds/" + guild + "/members/" + member, `{"mute":"yes"}`, Token, 400, "is not boolean"},
		{"missing required field", "PUT", "/applications/" + AppID + "/commands", `[{"description":"vigie"}]`, Token, 400, `missing required field "name"`},
		{"a body where none is taken", "DELETE", "/channels/" + channel + "/messages/" + message, `{"reason":"spam"}`, Token, 400, "takes no body"},
		{"another bot's token", "DELETE", "/channels/" + channel + "/messages/" + message, "", "other-token", 401, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &testsync.Reports{TB: t}
			f := New(rec, Options{})
			req, err := http.NewRequest(tt.method, "http://discord.test/api/v9"+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bot "+tt.token)
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := f.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			rec.Expect(t, tt.want)
			if tt.status == 400 && !strings.Contains(string(body), `"code":50035`) {
				t.Errorf("refused with %s, want Discord's Invalid Form Body", body)
			}
			wantCalls := 0
			if tt.status < 300 {
				wantCalls = 1
			}
			if n := f.Count(tt.method, strings.Split(tt.path, "?")[0]); n != wantCalls {
				t.Errorf("%d calls counted, want %d", n, wantCalls)
			}
		})
	}
}

// TestRefusesATimeoutBeyond28Days: a member's timeout may end up to 28 days
// after Discord's clock, when the request arrives; one a second later is
// answered 400 Invalid Form Body (INVALID_COMMUNICATION_DISABLED_TIMESTAMP)
// and fails the test that sent it.
func TestRefusesATimeoutBeyond28Days(t *testing.T) {
	discordNow := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		until  time.Time
		status int
		want   string
	}{
		{"28 days", discordNow.Add(MaxTimeout), 200, ""},
		{"in the past", discordNow.Add(-time.Hour), 200, ""},
		{"28 days and a second", discordNow.Add(MaxTimeout + time.Second), 400, "over 28 days"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &testsync.Reports{TB: t}
			f := New(rec, Options{Now: func() time.Time { return discordNow }})
			body := fmt.Sprintf(`{"communication_disabled_until":%q}`, tt.until.Format(time.RFC3339Nano))
			req, err := http.NewRequest("PATCH", "http://discord.test/api/v9/guilds/"+guild+"/members/"+member, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bot "+Token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := f.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d %s, want %d", resp.StatusCode, got, tt.status)
			}
			rec.Expect(t, tt.want)
			if tt.status == 400 && !strings.Contains(string(got), "INVALID_COMMUNICATION_DISABLED_TIMESTAMP") {
				t.Errorf("refused with %s, want Discord's invalid timestamp", got)
			}
		})
	}
}

// TestMemberWhoLeftIsUnknown: after a GUILD_MEMBER_REMOVE, the calls about
// that member as a member (timeout, kick, role) are answered 404 Unknown
// Member (10007) as Discord does; a ban, which takes any user, is not; after
// a GUILD_MEMBER_ADD they are members again. A kick or a ban takes them out
// as leaving does.
func TestMemberWhoLeftIsUnknown(t *testing.T) {
	f := New(t, Options{})
	g := dial(t, f)
	g.identify("Bot " + Token)
	g.next() // READY
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://discord.test/api/v9"+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bot "+Token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := f.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(got)
	}
	user := map[string]any{"id": member, "username": "bob", "global_name": "Bob", "avatar": nil, "discriminator": "0", "public_flags": 0, "flags": 0, "primary_guild": nil}
	timeout := `{"communication_disabled_until":null}`
	f.Dispatch("GUILD_MEMBER_REMOVE", map[string]any{"guild_id": guild, "user": user})
	for _, c := range []struct{ method, path, body string }{
		{"PATCH", "/guilds/" + guild + "/members/" + member, timeout},
		{"DELETE", "/guilds/" + guild + "/members/" + member, ""},
		{"PUT", "/guilds/" + guild + "/members/" + member + "/roles/" + channel, ""},
		{"GET", "/guilds/" + guild + "/members/" + member, ""},
	} {
		if status, body := do(c.method, c.path, c.body); status != 404 || !strings.Contains(body, `"code": 10007`) {
			t.Errorf("%s %s after the member left: %d %s, want 404 Unknown Member", c.method, c.path, status, body)
		}
	}
	if status, body := do("PUT", "/guilds/"+guild+"/bans/"+member, "{}"); status >= 300 {
		t.Errorf("ban of a user who left: %d %s", status, body)
	}
	f.Dispatch("GUILD_MEMBER_ADD", map[string]any{"guild_id": guild, "user": user, "roles": []string{}, "joined_at": "2026-03-01T12:00:00Z",
		"nick": nil, "avatar": nil, "banner": nil, "communication_disabled_until": nil, "premium_since": nil, "flags": 0, "pending": false, "mute": false, "deaf": false})
	if status, body := do("PATCH", "/guilds/"+guild+"/members/"+member, timeout); status != 200 {
		t.Errorf("timeout once back: %d %s", status, body)
	}
	// A kick or a ban takes the member out too.
	for _, out := range []struct{ method, path, body string }{
		{"DELETE", "/guilds/" + guild + "/members/" + member, ""},
		{"PUT", "/guilds/" + guild + "/bans/" + member, "{}"},
	} {
		if status, body := do(out.method, out.path, out.body); status >= 300 {
			t.Fatalf("%s %s: %d %s", out.method, out.path, status, body)
		}
		if status, body := do("PATCH", "/guilds/"+guild+"/members/"+member, timeout); status != 404 || !strings.Contains(body, `"code": 10007`) {
			t.Errorf("timeout after %s %s: %d %s, want 404 Unknown Member", out.method, out.path, status, body)
		}
		f.Dispatch("GUILD_MEMBER_ADD", map[string]any{"guild_id": guild, "user": user, "roles": []string{}, "joined_at": "2026-03-01T12:00:00Z",
			"nick": nil, "avatar": nil, "banner": nil, "communication_disabled_until": nil, "premium_since": nil, "flags": 0, "pending": false, "mute": false, "deaf": false})
	}
}

// gatewayConn is a test's own gateway connection, below discordgo: it says
// what a client says and reads what the fake answers.
type gatewayConn struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, f *Server) *gatewayConn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(f.wsURL()+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	g := &gatewayConn{t: t, ws: ws}
	if p := g.next(); p.Op != 10 {
		t.Fatalf("first words: op %d, want HELLO", p.Op)
	}
	return g
}

type payload struct {
	Op int            `json:"op"`
	T  string         `json:"t"`
	S  int            `json:"s"`
	D  map[string]any `json:"d"`
}

// next reads the next payload; a close fails the test.
func (g *gatewayConn) next() payload {
	g.t.Helper()
	var p payload
	g.ws.SetReadDeadline(testsync.Deadline())
	if err := g.ws.ReadJSON(&p); err != nil {
		g.t.Fatalf("read: %v", err)
	}
	return p
}

func (g *gatewayConn) identify(token string, shard ...int) {
	g.t.Helper()
	d := map[string]any{"token": token, "intents": 1<<9 | 1<<15, "properties": map[string]any{}} // GUILD_MESSAGES, MESSAGE_CONTENT
	if shard != nil {
		d["shard"] = shard
	}
	if err := g.ws.WriteJSON(map[string]any{"op": 2, "d": d}); err != nil {
		g.t.Fatal(err)
	}
}

// closed is the close code the gateway ended the connection with.
func (g *gatewayConn) closed() int {
	g.t.Helper()
	g.ws.SetReadDeadline(testsync.Deadline())
	for {
		var p payload
		err := g.ws.ReadJSON(&p)
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			g.t.Fatalf("read: %v, want a close", err)
		}
	}
}

// TestGatewayClosesAsDiscordDoes: an IDENTIFY Discord would refuse ends the
// connection with Discord's close code.
func TestGatewayClosesAsDiscordDoes(t *testing.T) {
	for _, tt := range []struct {
		name       string
		shards     int
		disallowed int
		token      string
		shard      []int
		want       int
	}{
		{"another bot's token", 1, 0, "Bot other-token", nil, 4004},
		{"a shard beyond the count", 1, 0, "Bot " + Token, []int{2, 2}, 4010},
		{"fewer shards than required", 2, 0, "Bot " + Token, nil, 4011},
		{"a privileged intent not turned on", 1, 1 << 15, "Bot " + Token, nil, 4014},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := New(t, Options{Shards: tt.shards, DisallowedIntents: tt.disallowed})
			g := dial(t, f)
			g.identify(tt.token, tt.shard...)
			if got := g.closed(); got != tt.want {
				t.Errorf("closed with %d, want %d", got, tt.want)
			}
		})
	}
}

// TestGatewayServesEachGuildOnItsShard: READY lists the shard's guilds and
// GUILD_CREATE describes them; a message goes to its guild's shard; a second
// connection on a shard is counted as an overlap.
func TestGatewayServesEachGuildOnItsShard(t *testing.T) {
	var guilds [2]string
	for n := uint64(190_000_000_000); guilds[0] == "" || guilds[1] == ""; n++ {
		id := fmt.Sprint(n<<22 | 1)
		guilds[ShardOf(id, 2)] = id
	}
	f := New(t, Options{Shards: 2, Guilds: guilds[:], Announce: true})
	var conns [2]*gatewayConn
	for shard := range 2 {
		g := dial(t, f)
		g.identify("Bot "+Token, shard, 2)
		ready := g.next()
		if ready.T != "READY" || fmt.Sprint(ready.D["guilds"]) != fmt.Sprintf("[map[id:%s unavailable:true]]", guilds[shard]) {
			t.Fatalf("shard %d: %s %v, want READY with guild %s", shard, ready.T, ready.D["guilds"], guilds[shard])
		}
		if create := g.next(); create.T != "GUILD_CREATE" || create.D["id"] != guilds[shard] {
			t.Fatalf("shard %d: %s %v, want GUILD_CREATE of %s", shard, create.T, create.D["id"], guilds[shard])
		}
		conns[shard] = g
	}
	if !f.Message(guilds[1], Channel(guilds[1]), "1300000000000000001", "600000000000000007", "hello") {
		t.Fatal("no connection took the message")
	}
	if m := conns[1].next(); m.T != "MESSAGE_CREATE" || m.D["guild_id"] != guilds[1] {
		t.Errorf("shard 1 got %s %v", m.T, m.D)
	}
	if n := f.Overlaps(); n != 0 {
		t.Errorf("%d overlaps, want none", n)
	}
	dial(t, f).identify("Bot "+Token, 0, 2)
	testsync.Eventually(t, "an overlap on shard 0", func() bool { return f.Overlaps() == 1 })
}

// TestRefusesAnEventDiscordCouldNotSend: a message event the test pushes that
// Discord's description does not describe fails the test that pushed it.
func TestRefusesAnEventDiscordCouldNotSend(t *testing.T) {
	rec := &testsync.Reports{TB: t}
	f := New(rec, Options{})
	g := dial(t, f)
	g.identify("Bot " + Token)
	g.next() // READY
	f.Dispatch("MESSAGE_CREATE", map[string]any{"id": message, "channel_id": channel, "content": "hi"})
	rec.Expect(t, "missing required field")
}

// TestResumesOnlyAKnownSession: a RESUME of the session READY gave goes on
// (RESUMED); once the sessions are lost, a RESUME is answered Invalid Session
// (op 9, d false) on a connection left open, where an IDENTIFY starts a new
// session, as Discord documents for resuming.
func TestResumesOnlyAKnownSession(t *testing.T) {
	f := New(t, Options{})
	g := dial(t, f)
	g.identify("Bot " + Token)
	session, _ := g.next().D["session_id"].(string)
	resume := func(g *gatewayConn) {
		t.Helper()
		d := map[string]any{"token": "Bot " + Token, "session_id": session, "seq": 1}
		if err := g.ws.WriteJSON(map[string]any{"op": 6, "d": d}); err != nil {
			t.Fatal(err)
		}
	}
	f.Drop()
	g = dial(t, f)
	resume(g)
	if p := g.next(); p.T != "RESUMED" {
		t.Fatalf("resume of a known session: op %d %s, want RESUMED", p.Op, p.T)
	}

	f.LoseSessions()
	g = dial(t, f)
	resume(g)
	g.ws.SetReadDeadline(testsync.Deadline())
	var p struct {
		Op int             `json:"op"`
		D  json.RawMessage `json:"d"`
	}
	if err := g.ws.ReadJSON(&p); err != nil || p.Op != 9 || string(p.D) != "false" {
		t.Fatalf("resume of a lost session: op %d d %s (%v), want op 9 d false", p.Op, p.D, err)
	}
	g.identify("Bot " + Token)
	ready := g.next()
	if ready.T != "READY" || ready.D["session_id"] == session {
		t.Fatalf("identify after op 9: %s session %v, want READY with a new session", ready.T, ready.D["session_id"])
	}
}

// TestReadsHistoryAsDiscordDoes: GET /channels/{id}/messages answers newest
// first: the limit newest, before an id, or the limit oldest after an id.
func TestReadsHistoryAsDiscordDoes(t *testing.T) {
	f := New(t, Options{})
	var ids []string
	for i := range 5 {
		id := fmt.Sprint(uint64(1_300_000_000_000_000_000) + uint64(i)<<22)
		ids = append(ids, id)
		f.Post(map[string]any{"id": id, "channel_id": channel, "type": 0, "content": "m" + fmt.Sprint(i),
			"author":    map[string]any{"id": member, "username": "bob", "global_name": nil, "avatar": nil, "discriminator": "0", "public_flags": 0, "flags": 0, "primary_guild": nil},
			"timestamp": "2026-11-20T22:10:00Z", "edited_timestamp": nil, "attachments": []any{}, "embeds": []any{}, "mentions": []any{},
			"mention_roles": []any{}, "flags": 0, "components": []any{}, "pinned": false, "mention_everyone": false, "tts": false})
	}
	for _, tt := range []struct{ query, want string }{
		{"limit=2", ids[4] + " " + ids[3]},
		{"limit=2&before=" + ids[3], ids[2] + " " + ids[1]},
		{"limit=2&after=" + ids[1], ids[3] + " " + ids[2]},
		{"limit=100&after=" + ids[3], ids[4]},
		{"limit=100&after=" + ids[4], ""},
	} {
		req, _ := http.NewRequest("GET", f.APIURL()+"/channels/"+channel+"/messages?"+tt.query, nil)
		req.Header.Set("Authorization", "Bot "+Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || got == nil {
			t.Fatalf("%s: %v, want a JSON list", tt.query, err)
		}
		var gotIDs []string
		for _, m := range got {
			gotIDs = append(gotIDs, m["id"].(string))
		}
		if s := strings.Join(gotIDs, " "); s != tt.want {
			t.Errorf("%s: %s, want %s", tt.query, s, tt.want)
		}
	}
}

// TestRevokedTokenIsRefused: a token revoked while a session runs closes it
// with 4004 (Authentication failed), as do an IDENTIFY and a RESUME after, and
// every REST call answers 401, until the token is restored.
func TestRevokedTokenIsRefused(t *testing.T) {
	f := New(t, Options{})
	me := func() int {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://discord.test/api/v9/users/@me", nil)
		req.Header.Set("Authorization", "Bot "+Token)
		resp, err := f.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	g := dial(t, f)
	g.identify("Bot " + Token)
	session, _ := g.next().D["session_id"].(string)
	if got := me(); got != 200 {
		t.Fatalf("GET /users/@me = %d, want 200", got)
	}

	f.RevokeToken()
	if got := g.closed(); got != 4004 {
		t.Errorf("open session closed with %d, want 4004", got)
	}
	g = dial(t, f)
	if err := g.ws.WriteJSON(map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + Token, "session_id": session, "seq": 1}}); err != nil {
		t.Fatal(err)
	}
	if got := g.closed(); got != 4004 {
		t.Errorf("RESUME closed with %d, want 4004", got)
	}
	g = dial(t, f)
	g.identify("Bot " + Token)
	if got := g.closed(); got != 4004 {
		t.Errorf("IDENTIFY closed with %d, want 4004", got)
	}
	if got := me(); got != 401 {
		t.Errorf("GET /users/@me = %d, want 401", got)
	}
	if gw, rest := f.TokenRefusals(); gw != 2 || rest != 1 {
		t.Errorf("refusals = %d gateway, %d REST; want 2, 1", gw, rest)
	}

	f.RestoreToken()
	if got := me(); got != 200 {
		t.Errorf("GET /users/@me once restored = %d, want 200", got)
	}
	g = dial(t, f)
	g.identify("Bot " + Token)
	if p := g.next(); p.T != "READY" {
		t.Errorf("IDENTIFY once restored: %s, want READY", p.T)
	}
}

// TestTakesOneCallbackAnInteraction: Discord takes one callback an
// interaction; a second, as from another process, is refused with 40060.
func TestTakesOneCallbackAnInteraction(t *testing.T) {
	f := New(t, Options{})
	callback := func(id string) (int, string) {
		return call(t, f, "POST", "/interactions/"+id+"/tok-"+id+"/callback", `{"type":6}`)
	}
	if status, body := callback("960000000000000001"); status != 204 {
		t.Errorf("first callback: %d %s", status, body)
	}
	if status, body := callback("960000000000000001"); status != 400 || !strings.Contains(body, `"code": 40060`) {
		t.Errorf("second callback: %d %s, want 400 code 40060", status, body)
	}
	if status, body := callback("960000000000000002"); status != 204 {
		t.Errorf("another interaction's callback: %d %s", status, body)
	}
}

// TestInteractionTokensLastAsDiscordSays: an interaction's first answer
// is taken within three seconds of it, and refused after (10062 Unknown
// interaction), its token then taking no follow-up (10015 Unknown
// Webhook); an interaction answered in time takes follow-ups for 15
// minutes, and none after (50027 Invalid Webhook Token).
func TestInteractionTokensLastAsDiscordSays(t *testing.T) {
	var at atomic.Int64
	at.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	f := New(t, Options{Now: func() time.Time { return time.Unix(0, at.Load()) }})
	g := dial(t, f)
	g.identify("Bot " + Token)
	if p := g.next(); p.T != "READY" {
		t.Fatalf("%s, want READY", p.T)
	}
	interaction := func(id string, age time.Duration) {
		f.DispatchAfter("INTERACTION_CREATE", map[string]any{"id": id, "application_id": AppID, "type": 3, "token": "tok-" + id, "version": 1,
			"channel_id": channel, "user": map[string]any{"id": member, "username": "mo"}, "data": map[string]any{"custom_id": "x", "component_type": 2}}, age)
		if p := g.next(); p.T != "INTERACTION_CREATE" {
			t.Fatalf("%s, want INTERACTION_CREATE", p.T)
		}
	}
	followup := func(id string) (int, string) {
		return call(t, f, "POST", "/webhooks/"+AppID+"/tok-"+id, `{"content":"done","flags":64}`)
	}

	late := idAt(f.Now().Add(-InitialResponseTime-time.Second), 1)
	interaction(late, InitialResponseTime+time.Second)
	if status, body := call(t, f, "POST", "/interactions/"+late+"/tok-"+late+"/callback", `{"type":6}`); status != 404 || !strings.Contains(body, `"code": 10062`) {
		t.Errorf("callback after three seconds: %d %s, want 404 code 10062", status, body)
	}
	if status, body := followup(late); status != 404 || !strings.Contains(body, `"code": 10015`) {
		t.Errorf("follow-up on an interaction never answered: %d %s, want 404 code 10015", status, body)
	}

	timely := idAt(f.Now(), 2)
	interaction(timely, 0)
	if status, body := call(t, f, "POST", "/interactions/"+timely+"/tok-"+timely+"/callback", `{"type":6}`); status != 204 {
		t.Errorf("callback at once: %d %s", status, body)
	}
	at.Add(int64(14 * time.Minute))
	if status, body := followup(timely); status != 200 {
		t.Errorf("follow-up after 14 minutes: %d %s", status, body)
	}
	at.Add(int64(2 * time.Minute))
	if status, body := followup(timely); status != 401 || !strings.Contains(body, `"code": 50027`) {
		t.Errorf("follow-up after 16 minutes: %d %s, want 401 code 50027", status, body)
	}
}

// idAt is a Discord id made at when.
func idAt(when time.Time, n int) string {
	return fmt.Sprint((when.UnixMilli()-1420070400000)<<22 | int64(n))
}

// call makes a REST call to f with the bot's token, and returns the status
// and body of the answer.
func call(t *testing.T, f *Server, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://discord.test/api/v9"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bot "+Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestApplicationFlagsSayTheIntents: GET /applications/@me has the flags of
// the privileged intents allowed, as a bot in fewer than 100 servers has them,
// and SetDisallowedIntents turns one off, for the flags and the gateway.
func TestApplicationFlagsSayTheIntents(t *testing.T) {
	f := New(t, Options{DisallowedIntents: 1 << 8})
	flags := func() int {
		req, _ := http.NewRequest("GET", "http://discord.test/api/v9/applications/@me", nil)
		req.Header.Set("Authorization", "Bot "+Token)
		resp, err := f.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var app struct {
			Flags int `json:"flags"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&app); err != nil {
			t.Fatal(err)
		}
		return app.Flags
	}
	if got, want := flags(), 1<<15|1<<19; got != want {
		t.Errorf("flags = %#x, want %#x (members and message content, limited; no presence)", got, want)
	}
	f.SetDisallowedIntents(1 << 15)
	if got, want := flags(), 1<<15|1<<13; got != want {
		t.Errorf("flags once message content is off = %#x, want %#x", got, want)
	}
}
