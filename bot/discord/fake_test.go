package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordspec"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// This file is a fake Discord: the gateway (HELLO, IDENTIFY, READY, heartbeats
// and their ACKs, dispatches pushed by the test) and the REST endpoints vigie
// calls, with Discord's JSON shapes and status codes, for the real discordgo
// client to run against.

// testAPIURL is the API address every test client is given. discordgo keeps it
// in package variables, so it is one address for the whole test binary; each
// test's HTTP client carries the requests to its own fake server.
const testAPIURL = "http://discord.test/api/v9"

const (
	botID    = "900000000000000001"
	appID    = "900000000000000002"
	guildID  = "800000000000000001"
	general  = "800000000000000010"
	deskID   = "800000000000000020"
	threadID = "800000000000000030"
	modRole  = "800000000000000100"
	vipRole  = "800000000000000101"
	botRole  = "800000000000000102"
	ownerID  = "700000000000000999"
)

// snowflake makes a Discord id created at t.
func snowflake(t time.Time, n int) string {
	return strconv.FormatInt((t.UnixMilli()-1420070400000)<<22|int64(n&0xfff), 10)
}

type apiCall struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// failure makes the next n calls matching method and path answer status and body.
type failure struct {
	method, path string
	status       int
	body         string
	header       http.Header
	n            int
}

type fakeDiscord struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	calls    []apiCall
	changed  chan struct{}
	failures []*failure
	conn     *websocket.Conn
	connMu   sync.Mutex // serialises writes to conn
	seq      int
	identify map[string]any
	beats    int
	nextMsg  int
	ready    chan struct{}
	// silent makes the gateway accept connections and never say a word.
	silent bool
	// history is what GET /channels/{id}/messages answers, newest first.
	history map[string][]map[string]any
	// level is the guild's verification level, and slowmode the channels'
	// rate_limit_per_user, as GET shows them and PATCH sets them.
	level    int
	slowmode map[string]int
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	f := &fakeDiscord{t: t, changed: make(chan struct{}), ready: make(chan struct{}, 4), nextMsg: 1, level: 1, slowmode: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gw/", f.gateway)
	mux.HandleFunc("/api/v9/", f.rest)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// client is an HTTP client that takes testAPIURL's requests to this server.
func (f *fakeDiscord) client() *http.Client {
	target, _ := url.Parse(f.srv.URL)
	return &http.Client{Timeout: 10 * time.Second, Transport: rewrite{target: target}}
}

type rewrite struct{ target *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
	return http.DefaultTransport.RoundTrip(req)
}

var upgrader = websocket.Upgrader{}

func (f *fakeDiscord) gateway(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	f.mu.Lock()
	f.conn = conn
	silent := f.silent
	f.mu.Unlock()
	if silent {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}
	f.write(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 1000}})
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(msg, &p) != nil {
			continue
		}
		switch p.Op {
		case 1:
			f.mu.Lock()
			f.beats++
			f.mu.Unlock()
			f.write(map[string]any{"op": 11})
		case 6:
			f.dispatch("RESUMED", map[string]any{})
			f.ready <- struct{}{}
		case 2:
			var id map[string]any
			_ = json.Unmarshal(p.D, &id)
			f.mu.Lock()
			f.identify = id
			f.mu.Unlock()
			f.dispatch("READY", map[string]any{
				"v": 9, "session_id": "session-1", "resume_gateway_url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/gw",
				"user":        map[string]any{"id": botID, "username": "vigie", "bot": true},
				"application": map[string]any{"id": appID, "flags": 0},
				"guilds":      []any{map[string]any{"id": guildID, "unavailable": true}},
				"shard":       id["shard"],
			})
			f.ready <- struct{}{}
		}
	}
}

func (f *fakeDiscord) write(v any) {
	f.mu.Lock()
	conn := f.conn
	f.mu.Unlock()
	if conn == nil {
		f.t.Errorf("fake gateway: no connection")
		return
	}
	f.connMu.Lock()
	defer f.connMu.Unlock()
	if err := conn.WriteJSON(v); err != nil {
		f.t.Logf("fake gateway: write: %v", err)
	}
}

// gatewayObjects are the dispatches whose payload is an object of Discord's
// HTTP description, once the gateway's own fields are taken out.
var gatewayObjects = map[string]struct {
	schema  string
	gateway []string
}{
	"MESSAGE_CREATE":      {"MessageResponse", []string{"guild_id", "member"}},
	"MESSAGE_UPDATE":      {"MessageResponse", []string{"guild_id", "member"}},
	"GUILD_MEMBER_ADD":    {"GuildMemberResponse", []string{"guild_id"}},
	"GUILD_MEMBER_UPDATE": {"GuildMemberResponse", []string{"guild_id"}},
}

// dispatch pushes an event (op 0) with the next sequence number. A message or
// member event Discord could not send fails the test: it would prove nothing.
func (f *fakeDiscord) dispatch(typ string, d any) {
	if o, ok := gatewayObjects[typ]; ok {
		raw, _ := json.Marshal(d)
		var v map[string]any
		_ = json.Unmarshal(raw, &v)
		for _, k := range o.gateway {
			delete(v, k)
		}
		if err := discordspec.CheckObject(o.schema, v); err != nil {
			f.t.Errorf("fake gateway: a %s Discord does not describe: %v", typ, err)
		}
	}
	f.mu.Lock()
	f.seq++
	s := f.seq
	f.mu.Unlock()
	f.write(map[string]any{"op": 0, "t": typ, "s": s, "d": d})
}

func (f *fakeDiscord) fail(method, path string, status int, body string, header http.Header, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, &failure{method: method, path: path, status: status, body: body, header: header, n: n})
}

func (f *fakeDiscord) rest(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	call := apiCall{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/api/v9"), Query: r.URL.Query(), Header: r.Header.Clone(), Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &call.Body)
	}
	if r.Header.Get("Authorization") != "Bot test-token" {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message": "401: Unauthorized", "code": 0}`)
		return
	}
	// What Discord's own description does not allow is refused, and fails the
	// test: passing against this fake means speaking the real API.
	if err := discordspec.Check(r.Method, call.Path, call.Query, r.Header.Get("Content-Type"), raw); err != nil {
		f.t.Errorf("fake Discord: a request Discord does not allow: %v", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"message": "Invalid Form Body: " + err.Error(), "code": 50035})
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	close(f.changed)
	f.changed = make(chan struct{})
	var fl *failure
	for _, x := range f.failures {
		if x.n > 0 && x.method == call.Method && strings.HasPrefix(call.Path, x.path) {
			x.n--
			fl = x
			break
		}
	}
	msgID := snowflake(time.Now(), f.nextMsg)
	f.nextMsg++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if fl != nil {
		for k, v := range fl.header {
			w.Header()[k] = v
		}
		w.WriteHeader(fl.status)
		io.WriteString(w, fl.body)
		return
	}
	p := strings.Split(strings.Trim(call.Path, "/"), "/")
	route := call.Method + " " + shape(p)
	switch route {
	case "GET gateway", "GET gateway/bot":
		json.NewEncoder(w).Encode(map[string]any{"url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/gw", "shards": 1,
			"session_start_limit": map[string]any{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
	case "POST channels/*/messages":
		msg := map[string]any{"id": msgID, "channel_id": p[1], "content": call.Body["content"], "type": 0,
			"author": map[string]any{"id": botID, "username": "vigie", "bot": true}, "timestamp": time.Now().UTC().Format(time.RFC3339),
			"components": call.Body["components"]}
		json.NewEncoder(w).Encode(msg)
	case "GET channels/*/messages":
		f.mu.Lock()
		h := f.history[p[1]]
		f.mu.Unlock()
		if h == nil {
			h = []map[string]any{}
		}
		json.NewEncoder(w).Encode(h)
	case "PATCH channels/*/messages/*":
		json.NewEncoder(w).Encode(map[string]any{"id": p[3], "channel_id": p[1], "content": call.Body["content"], "type": 0,
			"author": map[string]any{"id": botID, "username": "vigie", "bot": true}, "timestamp": time.Now().UTC().Format(time.RFC3339)})
	case "PATCH guilds/*/members/*":
		json.NewEncoder(w).Encode(map[string]any{"user": map[string]any{"id": p[3], "username": "member"}, "roles": []string{},
			"joined_at": time.Now().UTC().Format(time.RFC3339), "communication_disabled_until": call.Body["communication_disabled_until"]})
	case "GET guilds/*", "PATCH guilds/*":
		f.mu.Lock()
		if v, ok := call.Body["verification_level"].(float64); ok && call.Method == "PATCH" {
			f.level = int(v)
		}
		g := guildObject(f.level)
		f.mu.Unlock()
		json.NewEncoder(w).Encode(g)
	case "GET channels/*", "PATCH channels/*":
		f.mu.Lock()
		if v, ok := call.Body["rate_limit_per_user"].(float64); ok && call.Method == "PATCH" {
			f.slowmode[p[1]] = int(v)
		}
		ch := map[string]any{"id": p[1], "type": 0, "name": "general", "guild_id": guildID, "rate_limit_per_user": f.slowmode[p[1]]}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(ch)
	case "POST users/@me/channels":
		json.NewEncoder(w).Encode(map[string]any{"id": "9" + fmt.Sprint(call.Body["recipient_id"]), "type": 1})
	case "PUT applications/*/commands", "PUT applications/*/guilds/*/commands":
		w.Write(raw)
	case "PATCH webhooks/*/*":
		json.NewEncoder(w).Encode(map[string]any{"id": msgID, "channel_id": deskID, "content": call.Body["content"], "type": 0})
	case "POST webhooks/*/*":
		json.NewEncoder(w).Encode(map[string]any{"id": msgID, "channel_id": deskID, "content": call.Body["content"], "type": 0})
	case "DELETE channels/*/messages/*", "DELETE guilds/*/members/*", "PUT guilds/*/bans/*", "DELETE guilds/*/bans/*",
		"PUT guilds/*/members/*/roles/*", "DELETE guilds/*/members/*/roles/*", "PUT channels/*/messages/*/reactions/*/@me",
		"POST interactions/*/*/callback":
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message": "404: Not Found", "code": 0}`)
	}
}

// shape replaces the ids of a path with *: channels/123/messages/456 → channels/*/messages/*.
func shape(p []string) string {
	switch p[0] {
	case "interactions":
		return "interactions/*/*/callback"
	case "webhooks":
		return "webhooks/*/*"
	}
	out := make([]string, len(p))
	for i, s := range p {
		if i%2 == 1 && s != "@me" && s != "bot" && s != "commands" {
			s = "*"
		}
		out[i] = s
	}
	return strings.Join(out, "/")
}

// waitFor waits until n calls match method, path prefix and ok, and returns the last.
func (f *fakeDiscord) waitFor(t testing.TB, method, path string, n int, ok func(apiCall) bool) apiCall {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		var got []apiCall
		for _, c := range f.calls {
			if c.Method == method && strings.HasPrefix(c.Path, path) && (ok == nil || ok(c)) {
				got = append(got, c)
			}
		}
		changed := f.changed
		f.mu.Unlock()
		if len(got) >= n {
			return got[n-1]
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %d× %s %s; calls: %s", n, method, path, f.summary())
		}
	}
}

func (f *fakeDiscord) count(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Method == method && strings.HasPrefix(c.Path, path) {
			n++
		}
	}
	return n
}

func (f *fakeDiscord) summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, c := range f.calls {
		fmt.Fprintf(&b, "\n  %s %s %s", c.Method, c.Path, c.Raw)
	}
	return b.String()
}

// guild is the test guild as GUILD_CREATE describes it: vigie's role may do what
// perms says.
func guildCreate(perms int64) map[string]any {
	now := time.Now().UTC().Format(time.RFC3339)
	return map[string]any{
		"id": guildID, "name": "Gamers", "owner_id": ownerID, "unavailable": false,
		"roles": []any{
			map[string]any{"id": guildID, "name": "@everyone", "permissions": "0"},
			map[string]any{"id": modRole, "name": "Moderator", "permissions": "0"},
			map[string]any{"id": vipRole, "name": "VIP", "permissions": "0"},
			map[string]any{"id": botRole, "name": "vigie", "permissions": strconv.FormatInt(perms, 10)},
		},
		"members": []any{map[string]any{"user": map[string]any{"id": botID, "username": "vigie", "bot": true}, "roles": []string{botRole}, "joined_at": now}},
		"channels": []any{
			map[string]any{"id": general, "type": 0, "name": "general", "guild_id": guildID},
			map[string]any{"id": deskID, "type": 0, "name": "mods", "guild_id": guildID},
		},
		"threads": []any{map[string]any{"id": threadID, "type": 11, "name": "a thread", "parent_id": general, "guild_id": guildID}},
	}
}

// guildObject is the test guild as GET and PATCH /guilds/{id} answer it.
func guildObject(level int) map[string]any {
	g := guildCreate(0)
	for _, k := range []string{"members", "channels", "threads", "unavailable"} {
		delete(g, k)
	}
	g["verification_level"] = level
	return g
}

type user struct {
	id, name string
	roles    []string
	bot      bool
}

func (u user) json() map[string]any {
	return map[string]any{"id": u.id, "username": strings.ToLower(u.name), "global_name": u.name, "bot": u.bot,
		"avatar": nil, "discriminator": "0", "public_flags": 0, "flags": 0, "primary_guild": nil}
}

func (u user) member(joined time.Time) map[string]any {
	roles := u.roles
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{"roles": roles, "joined_at": joined.UTC().Format(time.RFC3339), "nick": nil}
}

// t0 is the tests' clock: read once at start, so that the members' ages
// (carried in their snowflake ids) and the messages' times agree with the
// clock that the engine, the connector and the fake read, on any date.
var (
	t0      = time.Now().UTC().Truncate(time.Second)
	bob     = user{id: snowflake(t0.AddDate(-2, 0, 0), 1), name: "Bob"}
	newbie  = user{id: snowflake(t0.Add(-time.Hour), 2), name: "Newbie"}
	mod     = user{id: snowflake(t0.AddDate(-3, 0, 0), 3), name: "Mo", roles: []string{modRole}}
	cm      = user{id: snowflake(t0.AddDate(-4, 0, 0), 4), name: "Alice"}
	mallory = user{id: snowflake(t0.AddDate(-1, 0, 0), 5), name: "Mallory", roles: []string{vipRole}}
	robot   = user{id: snowflake(t0.AddDate(-1, 0, 0), 6), name: "Robot", bot: true}
)

// message is a MESSAGE_CREATE payload.
func message(id, channel string, from user, at time.Time, text string) map[string]any {
	return map[string]any{
		"id": id, "channel_id": channel, "guild_id": guildID, "type": 0, "content": text,
		"author": from.json(), "member": from.member(at.Add(-24 * time.Hour)),
		"timestamp": at.UTC().Format(time.RFC3339Nano), "edited_timestamp": nil,
		"attachments": []any{}, "embeds": []any{}, "mentions": []any{}, "mention_roles": []any{},
		"flags": 0, "components": []any{}, "pinned": false, "mention_everyone": false, "tts": false,
	}
}

// memberObject is a guild member as GUILD_MEMBER_ADD and GUILD_MEMBER_UPDATE
// carry it, in guild.
func memberObject(u user, nick any, joined time.Time) map[string]any {
	m := u.member(joined)
	m["guild_id"], m["user"], m["nick"] = guildID, u.json(), nick
	for _, k := range []string{"avatar", "banner", "communication_disabled_until", "premium_since"} {
		m[k] = nil
	}
	m["flags"], m["pending"], m["mute"], m["deaf"] = 0, false, false, false
	return m
}

// press is an INTERACTION_CREATE for a button of the card message.
func press(id string, from user, cardMsg, custom string) map[string]any {
	return map[string]any{
		"id": id, "application_id": appID, "type": 3, "token": "tok-" + id, "version": 1,
		"guild_id": guildID, "channel_id": deskID,
		"member":  map[string]any{"user": from.json(), "roles": from.member(t0)["roles"], "joined_at": t0.Format(time.RFC3339), "permissions": "0"},
		"message": map[string]any{"id": cardMsg, "channel_id": deskID, "type": 0, "content": "card", "author": map[string]any{"id": botID, "username": "vigie", "bot": true}, "timestamp": t0.Format(time.RFC3339)},
		"data":    map[string]any{"custom_id": custom, "component_type": 2},
	}
}

// slash is an INTERACTION_CREATE for /vigie SUB.
func slash(id string, from user, sub string, opts ...map[string]any) map[string]any {
	o := map[string]any{"name": sub, "type": 1}
	if len(opts) > 0 {
		o["options"] = opts
	}
	return map[string]any{
		"id": id, "application_id": appID, "type": 2, "token": "tok-" + id, "version": 1,
		"guild_id": guildID, "channel_id": deskID,
		"member": map[string]any{"user": from.json(), "roles": from.member(t0)["roles"], "joined_at": t0.Format(time.RFC3339), "permissions": "0"},
		"data":   map[string]any{"id": "cmd-1", "name": "vigie", "type": 1, "options": []any{o}},
	}
}

func newTestClient(t *testing.T, f *fakeDiscord, cfg Config) (*Client, *testsync.Buffer) {
	t.Helper()
	logs := &testsync.Buffer{}
	cfg.Token = "test-token"
	cfg.APIURL = testAPIURL
	cfg.HTTPClient = f.client()
	cfg.Logger = testsync.Logger(logs)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

// run starts c and stops it when the test ends; it returns once READY came and
// the guild is known.
func run(t *testing.T, f *fakeDiscord, c *Client, out chan bot.Event, perms int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() { runErr = c.Run(ctx, out); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
			if runErr != nil {
				t.Errorf("Run returned %v", runErr)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	select {
	case <-f.ready:
	case <-done:
		t.Fatalf("Run returned before READY: %v", runErr)
	case <-time.After(10 * time.Second):
		t.Fatal("no IDENTIFY")
	}
	f.dispatch("GUILD_CREATE", guildCreate(perms))
	testsync.Eventually(t, "the guild in the state", func() bool { _, err := c.sess.State.Guild(guildID); return err == nil })
}

// allPerms is what a well set-up vigie role may do.
const allPerms = 1<<10 | 1<<11 | 1<<13 | 1<<40 | 1<<1 | 1<<2 | 1<<28

// setHistory is what the channel's message history holds, newest first.
func (f *fakeDiscord) setHistory(channel string, msgs ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.history == nil {
		f.history = map[string][]map[string]any{}
	}
	f.history[channel] = msgs
}
