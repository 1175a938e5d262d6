// Package discordfake is a fake Discord for tests, for the real discordgo
// client to run against: the REST endpoints vigie calls, with Discord's JSON
// shapes and status codes, and a gateway (HELLO, IDENTIFY, READY, RESUME,
// heartbeats and their ACKs, dispatches pushed by the test). It takes one
// connection per shard, as many processes as there are shards, and hands a
// guild's events to the connection of the guild's shard.
//
// What Discord's own description (discordspec) does not allow fails the
// test, whether vigie sends it (a request: unknown route, method, query
// parameter or field, a value of the wrong type, a missing required field)
// or the test does (a message or member event Discord could not send):
// passing against this fake means speaking the real API.
package discordfake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/vigie-bot/vigie/bot/internal/discordspec"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// Token is the bot token the fake accepts (DISCORD_TOKEN).
const Token = "test-token"

// BotID is the bot's user id, and AppID its application's.
const (
	BotID = "900000000000000001"
	AppID = "900000000000000002"
	// ModID is the moderator who acts by hand in Discord's app (Unban),
	// as the guild's audit log names them.
	ModID = "900000000000000003"
)

// Options say what the fake serves.
type Options struct {
	// Shards is the shard count GET /gateway/bot recommends, and the least
	// an IDENTIFY may name (Discord's "Sharding required"); 0 is 1.
	Shards int
	// Guilds are the bot's guilds: READY lists those of the shard.
	Guilds []string
	// Announce sends each guild's GUILD_CREATE after READY, vigie's role
	// allowed all vigie does; without it the test sends GUILD_CREATE.
	Announce bool
	// Silent makes the gateway accept connections and never say a word.
	Silent bool
	// HeartbeatInterval is the heartbeat interval HELLO asks for, in
	// milliseconds (1000 when 0): a short one makes the client write on the
	// connection all the time, as when it is lost.
	HeartbeatInterval int
	// DisallowedIntents are the privileged intents the application may not
	// use (GUILD_MEMBERS 1<<1, GUILD_PRESENCES 1<<8, MESSAGE_CONTENT 1<<15:
	// not turned on in the Developer Portal): an IDENTIFY asking for one is
	// closed with 4014, Disallowed intent(s), as Discord does.
	DisallowedIntents int
	// ResumeClosed answers a RESUME of a session the gateway no longer has
	// by closing the connection with 4009, Session timed out ("reconnect
	// and start a new one"), instead of Invalid Session (op 9) on a
	// connection left open for an IDENTIFY: both are what Discord's
	// documentation describes.
	ResumeClosed bool
	// Now is Discord's clock, which judges how far ahead a timeout ends,
	// dates the audit log's entries, the ids of the messages it makes and
	// the Date header of its answers (REST and the gateway's upgrade);
	// nil is the host's. Discord's clock is its own: a host's may be ahead
	// of it, or behind.
	Now func() time.Time
	// AuditLog says the bot may view the audit log (View Audit Log, which
	// the test's GUILD_CREATE should give its role): each unban's entry
	// is sent to it, GUILD_AUDIT_LOG_ENTRY_CREATE, after GUILD_BAN_REMOVE.
	AuditLog bool
	// RateLimits are the rate limits the fake keeps; nil keeps none.
	RateLimits *RateLimits
}

// MaxTimeout is how far ahead of Discord's clock a member's timeout may end
// (communication_disabled_until: "up to 28 days in the future").
const MaxTimeout = 28 * 24 * time.Hour

// Call is one REST call the fake took (a refused one is not).
type Call struct {
	Method string
	Path   string // without /api/v9
	Query  url.Values
	Header http.Header
	Body   map[string]any // a JSON object body, decoded
	Raw    []byte
	// Made is the id of the message a POST to a channel made.
	Made string
	// Failed is the status a failure the test set (Fail, FailWhen)
	// answered the call with; 0 when it was carried out.
	Failed int
	// Abandoned: the client gave up on the call while Hold held it; it
	// was not carried out.
	Abandoned bool
}

// Server is the fake Discord.
type Server struct {
	t testing.TB
	o Options
	// HTTP is the server; HTTP.URL + "/api/v9" is DISCORD_API_URL.
	HTTP *httptest.Server

	mu    sync.Mutex
	calls []Call
	// asked counts every request received, by method and path, refused or
	// not; dials the gateway connections asked for, refused or not.
	asked    map[string]int
	dials    int
	changed  chan struct{} // closed and made anew at each call
	failures []*failure
	holds    []*hold
	// edited are the bodies of the PATCHes carried out on each message,
	// by "channel/message", in the order the fake carried them out (after
	// Hold let them through): the last is what it shows now.
	edited map[string][]map[string]any
	// conns are the live gateway connections, oldest first.
	conns    []*conn
	down     bool
	overlaps int
	// revoked refuses the token (RevokeToken); gatewayRefused and
	// restRefused count what was refused for it.
	revoked                     bool
	gatewayRefused, restRefused int
	seq                         map[int]int // the last sequence number by shard
	// sessions are the sessions a RESUME may take up; sessionN numbers them.
	sessions map[string]bool
	sessionN int
	identify map[string]any
	// resumesRefused counts the RESUMEs closed with 4009 (ResumeClosed).
	resumesRefused int
	beats          int
	// disallowed are the privileged intents refused now (DisallowedIntents,
	// then SetDisallowedIntents).
	disallowed int
	ready      chan struct{}
	nextMsg    int
	// guilds are the guilds as the last GUILD_CREATE described them;
	// levels their verification levels and slowmodes the channels'
	// rate_limit_per_user, as GET shows them and PATCH sets them.
	guilds    map[string]map[string]any
	levels    map[string]int
	slowmodes map[string]int
	// history is what GET /channels/{id}/messages answers, newest first.
	history map[string][]map[string]any
	// members are what GET /guilds/{id}/members/{user} answers, by guild
	// and user; any other is Unknown Member.
	members map[string]map[string]any
	// departed are the members a GUILD_MEMBER_REMOVE said left, by guild
	// and user, until a GUILD_MEMBER_ADD brings them back: every call about
	// them as members (a timeout, a kick, a role) is Unknown Member.
	departed map[string]bool
	// bans are the users banned, by guild and user: a DELETE of another's
	// ban is Unknown Ban (10026), as Discord answers it.
	bans map[string]bool
	// interactions are the interactions sent, by token: where a webhook
	// message of the interaction stands, and whether Discord still takes
	// one (interactionGone).
	interactions map[string]sentInteraction
	// answered are the interactions whose callback was taken, by id:
	// Discord takes one callback an interaction.
	answered map[string]bool
	// auditN numbers the audit log's entries.
	auditN int
	// limits keeps Options.RateLimits.
	limits *limiter
	// backlog are the dispatches of each session, kept for a RESUME to
	// replay those its client missed; sessionOf is the newest session
	// of each guild.
	backlog   map[string][]frame
	sessionOf map[string]string
	replayed  int
}

// frame is one dispatch as sent, and its sequence number.
type frame struct {
	s       int
	payload map[string]any
}

type conn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex
	// shard of count is what the connection identified or resumed as;
	// count is 0 before.
	shard, count int
	// zombie: the connection stays open but its heartbeats are never
	// acknowledged (Zombie).
	zombie bool
	// session is the session the connection identified or resumed.
	session string
}

// failure makes the next n calls that match answer status, body and
// header; n < 0 is every one.
type failure struct {
	match  func(Call) bool
	status int
	body   string
	header http.Header
	n      int
}

// hold keeps the calls that match waiting until release is closed.
type hold struct {
	match   func(Call) bool
	release chan struct{}
}

// New starts a fake Discord.
func New(t testing.TB, o Options) *Server {
	o.Shards = max(o.Shards, 1)
	f := &Server{t: t, o: o, changed: make(chan struct{}), seq: map[int]int{}, sessions: map[string]bool{}, ready: make(chan struct{}, 16),
		disallowed: o.DisallowedIntents,
		guilds:     map[string]map[string]any{}, levels: map[string]int{}, slowmodes: map[string]int{}, history: map[string][]map[string]any{}, members: map[string]map[string]any{}, departed: map[string]bool{}, bans: map[string]bool{}, interactions: map[string]sentInteraction{}, answered: map[string]bool{},
		limits: newLimiter(o.RateLimits), backlog: map[string][]frame{}, sessionOf: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gw/", f.gateway)
	mux.HandleFunc("/api/v9/", f.rest)
	f.HTTP = httptest.NewServer(mux)
	t.Cleanup(f.HTTP.Close)
	return f
}

// ShardOf is Discord's shard of a guild: (guild_id >> 22) % shards.
func ShardOf(guild string, shards int) int {
	id, _ := strconv.ParseUint(guild, 10, 64)
	return int((id >> 22) % uint64(max(shards, 1)))
}

// Channel is the id of the channel of a guild the fake announces.
func Channel(guild string) string { return guild[:len(guild)-2] + "10" }

// APIURL is the fake's REST API, for DISCORD_API_URL.
func (f *Server) APIURL() string { return f.HTTP.URL + "/api/v9" }

// Client is an HTTP client that takes every request to this server, whatever
// its host: discordgo keeps the API's address in package variables, so the
// tests of one binary name one address and each reaches its own fake.
func (f *Server) Client() *http.Client {
	target, _ := url.Parse(f.HTTP.URL)
	return &http.Client{Timeout: 10 * time.Second, Transport: rewrite{target: target}}
}

type rewrite struct{ target *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
	return http.DefaultTransport.RoundTrip(req)
}

func (f *Server) wsURL() string { return "ws" + strings.TrimPrefix(f.HTTP.URL, "http") + "/gw" }

var upgrader = websocket.Upgrader{}

func (f *Server) gateway(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.dials++
	down := f.down
	f.mu.Unlock()
	if down {
		http.Error(w, "gateway down", http.StatusServiceUnavailable)
		return
	}
	ws, err := upgrader.Upgrade(w, r, http.Header{"Date": {f.now().UTC().Format(http.TimeFormat)}})
	if err != nil {
		return
	}
	c := &conn{ws: ws}
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	defer func() {
		ws.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.conns = slices.DeleteFunc(f.conns, func(x *conn) bool { return x == c })
	}()
	if f.o.Silent {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}
	f.write(c, map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": cmp.Or(f.o.HeartbeatInterval, 1000)}})
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			// A client that closes with 1000 or 1001 ends its session, as
			// Discord's gateway documentation says: it cannot be resumed.
			if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
				f.mu.Lock()
				delete(f.sessions, c.session)
				f.mu.Unlock()
			}
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
			zombie := c.zombie
			if !zombie {
				f.beats++
			}
			f.mu.Unlock()
			if !zombie {
				f.write(c, map[string]any{"op": 11})
			}
		case 2:
			if !f.identified(c, p.D) {
				return
			}
		case 6:
			var rs struct {
				Token     string `json:"token"`
				SessionID string `json:"session_id"`
				Seq       int    `json:"seq"`
			}
			_ = json.Unmarshal(p.D, &rs)
			if !f.authorized(rs.Token) {
				f.close(c, 4004, "Authentication failed.")
				return
			}
			var shard, count, n int
			f.mu.Lock()
			valid := f.sessions[rs.SessionID]
			f.mu.Unlock()
			if _, err := fmt.Sscanf(rs.SessionID, "session-%d-%d-%d", &shard, &count, &n); err != nil || !valid {
				if f.o.ResumeClosed {
					f.mu.Lock()
					f.resumesRefused++
					f.mu.Unlock()
					f.close(c, 4009, "Session timed out.")
					return
				}
				// Invalid Session, not resumable: as Discord does, the
				// connection stays open for a fresh IDENTIFY.
				f.write(c, map[string]any{"op": 9, "d": false})
				continue
			}
			// As Discord does, the events the client missed since the
			// sequence number it names are replayed, in order, before
			// RESUMED.
			f.mu.Lock()
			c.shard, c.count, c.session = shard, count, rs.SessionID
			var missed []frame
			for _, fr := range f.backlog[rs.SessionID] {
				if fr.s > rs.Seq {
					missed = append(missed, fr)
				}
			}
			f.replayed += len(missed)
			f.mu.Unlock()
			for _, fr := range missed {
				f.write(c, fr.payload)
			}
			f.dispatch(c, "RESUMED", map[string]any{}, 0)
			f.signalReady()
		}
	}
}

// authorized reports whether token is the bot's, and counts a refusal.
func (f *Server) authorized(token string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.revoked || token != "Bot "+Token && token != Token {
		f.gatewayRefused++
		return false
	}
	return true
}

// identified answers an IDENTIFY: READY, and the shard's guilds if announced;
// false when the connection was closed for it, as Discord closes it.
func (f *Server) identified(c *conn, d json.RawMessage) bool {
	var id struct {
		Token   string `json:"token"`
		Shard   []int  `json:"shard"`
		Intents int    `json:"intents"`
	}
	_ = json.Unmarshal(d, &id)
	var payload map[string]any
	_ = json.Unmarshal(d, &payload)
	if !f.authorized(id.Token) {
		f.close(c, 4004, "Authentication failed.")
		return false
	}
	shard, count := 0, 1
	if len(id.Shard) == 2 {
		shard, count = id.Shard[0], id.Shard[1]
	}
	if len(id.Shard) != 0 && len(id.Shard) != 2 || count < 1 || shard < 0 || shard >= count {
		f.close(c, 4010, "Invalid shard.")
		return false
	}
	if count < f.o.Shards {
		f.close(c, 4011, "Sharding required.")
		return false
	}
	f.mu.Lock()
	disallowed := f.disallowed
	f.mu.Unlock()
	if id.Intents&disallowed != 0 {
		f.close(c, 4014, "Disallowed intent(s).")
		return false
	}
	var guilds []any
	var mine []string
	f.mu.Lock()
	f.identify = payload
	c.shard, c.count = shard, count
	f.sessionN++
	session := fmt.Sprintf("session-%d-%d-%d", shard, count, f.sessionN)
	f.sessions[session] = true
	c.session = session
	for _, x := range f.conns {
		if x != c && x.count > 0 && (x.shard == shard && x.count == count || slices.ContainsFunc(f.o.Guilds, func(g string) bool { return serves(x, g) && serves(c, g) })) {
			f.overlaps++
			break
		}
	}
	for _, g := range f.o.Guilds {
		if serves(c, g) {
			guilds = append(guilds, map[string]any{"id": g, "unavailable": true})
			mine = append(mine, g)
			f.sessionOf[g] = session
		}
	}
	f.mu.Unlock()
	f.dispatch(c, "READY", map[string]any{
		"v": 9, "session_id": session, "resume_gateway_url": f.wsURL(),
		"user":        map[string]any{"id": BotID, "username": "vigie", "bot": true},
		"application": map[string]any{"id": AppID, "flags": 0},
		"guilds":      guilds, "shard": id.Shard,
	}, 0)
	if f.o.Announce {
		for _, g := range mine {
			f.dispatch(c, "GUILD_CREATE", guildCreate(g), 0)
		}
	}
	f.signalReady()
	return true
}

// serves reports whether the connection receives the guild's events.
func serves(c *conn, guild string) bool { return c.count > 0 && ShardOf(guild, c.count) == c.shard }

func (f *Server) signalReady() {
	select {
	case f.ready <- struct{}{}:
	default: // nobody waits for that many
	}
}

func (f *Server) close(c *conn, code int, text string) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	// On the wall clock: a connection's deadline.
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
}

func (f *Server) write(c *conn, v any) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.ws.WriteJSON(v); err != nil {
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

// dispatch pushes an event (op 0), made age ago, with the shard's next
// sequence number. A message or member event Discord could not send fails the test: it would
// prove nothing. A GUILD_CREATE is what GET /guilds/{id} answers from then on,
// and an INTERACTION_CREATE's channel is where its webhook messages stand.
func (f *Server) dispatch(c *conn, typ string, d any, age time.Duration) {
	f.mu.Lock()
	shard, session := c.shard, c.session
	f.mu.Unlock()
	f.write(c, f.sequence(shard, session, typ, d, age))
}

// sequence checks and takes note of an event for the shard's session, as
// dispatch describes, and gives its payload, numbered and kept for the
// session's RESUME.
func (f *Server) sequence(shard int, session, typ string, d any, age time.Duration) map[string]any {
	raw, _ := json.Marshal(d)
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	if o, ok := gatewayObjects[typ]; ok {
		for _, k := range o.gateway {
			delete(v, k)
		}
		if err := discordspec.CheckObject(o.schema, v); err != nil {
			f.t.Errorf("fake gateway: a %s Discord does not describe: %v", typ, err)
		}
	}
	f.mu.Lock()
	if id, ok := v["id"].(string); ok && typ == "GUILD_CREATE" {
		f.guilds[id] = v
		if l, ok := v["verification_level"].(float64); ok {
			f.levels[id] = int(l)
		}
	}
	if typ == "GUILD_MEMBER_REMOVE" || typ == "GUILD_MEMBER_ADD" {
		var m struct {
			Guild string `json:"guild_id"`
			User  struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		_ = json.Unmarshal(raw, &m)
		guild, id := m.Guild, m.User.ID
		if guild == "" || id == "" {
			f.t.Errorf("fake gateway: a %s without guild_id or user.id", typ)
		}
		if typ == "GUILD_MEMBER_REMOVE" {
			f.departed[guild+"/"+id] = true
			delete(f.members, guild+"/"+id)
		} else {
			delete(f.departed, guild+"/"+id)
		}
	}
	if token, ok := v["token"].(string); ok && typ == "INTERACTION_CREATE" {
		id, _ := v["id"].(string)
		channel, _ := v["channel_id"].(string)
		f.interactions[token] = sentInteraction{id: id, channel: channel, made: f.now().Add(-age)}
	}
	f.seq[shard]++
	s := f.seq[shard]
	payload := map[string]any{"op": 0, "t": typ, "s": s, "d": d}
	if session != "" {
		f.backlog[session] = append(f.backlog[session], frame{s: s, payload: payload})
	}
	f.mu.Unlock()
	return payload
}

// Dispatch sends an event to the newest gateway connection.
func (f *Server) Dispatch(typ string, d any) { f.DispatchAfter(typ, d, 0) }

// DispatchAfter sends an event Discord made age ago to the newest gateway
// connection: a slow gateway, or a resumed session's missed events. An
// interaction's three seconds and fifteen minutes (InitialResponseTime,
// TokenLife) count from when it was made.
func (f *Server) DispatchAfter(typ string, d any, age time.Duration) {
	f.mu.Lock()
	var c *conn
	if len(f.conns) > 0 {
		c = f.conns[len(f.conns)-1]
	}
	f.mu.Unlock()
	if c == nil {
		f.t.Errorf("fake gateway: no connection for %s", typ)
		return
	}
	f.dispatch(c, typ, d, age)
}

// Message sends MESSAGE_CREATE for a message in the guild's channel to the
// newest connection of the guild's shard, and reports whether one took it.
func (f *Server) Message(guild, channel, id, authorID, text string) bool {
	return f.Send(guild, "MESSAGE_CREATE", f.message(guild, channel, id, authorID, text))
}

// Send sends an event of guild to the newest connection of the guild's
// shard or, while none serves it (dropped, told to reconnect), keeps it for
// the RESUME of the session that served it last, as Discord does; false
// when there is neither.
func (f *Server) Send(guild, typ string, d map[string]any) bool {
	f.mu.Lock()
	var c *conn
	for _, x := range f.conns {
		if serves(x, guild) {
			c = x
		}
	}
	f.mu.Unlock()
	if c == nil {
		return f.away(guild, typ, d)
	}
	f.dispatch(c, typ, d, 0)
	return true
}

// away keeps an event of guild for the session that served it last, while
// no connection does (dropped, told to reconnect), for its RESUME to replay;
// false when that session cannot be resumed, or there was none.
func (f *Server) away(guild, typ string, d map[string]any) bool {
	f.mu.Lock()
	session := f.sessionOf[guild]
	valid := f.sessions[session]
	f.mu.Unlock()
	var shard, count, n int
	if !valid {
		return false
	}
	if _, err := fmt.Sscanf(session, "session-%d-%d-%d", &shard, &count, &n); err != nil {
		return false
	}
	f.sequence(shard, session, typ, d, 0)
	return true
}

// message is the MESSAGE_CREATE of a member's message in the guild's channel.
func (f *Server) message(guild, channel, id, authorID, text string) map[string]any {
	now := f.now().UTC()
	return map[string]any{
		"id": id, "channel_id": channel, "guild_id": guild, "type": 0, "content": text,
		"author": map[string]any{"id": authorID, "username": "eve", "global_name": "Eve", "avatar": nil, "discriminator": "0",
			"public_flags": 0, "flags": 0, "primary_guild": nil},
		"member":    map[string]any{"roles": []string{}, "joined_at": now.Add(-24 * time.Hour).Format(time.RFC3339)},
		"timestamp": now.Format(time.RFC3339Nano), "edited_timestamp": nil,
		"attachments": []any{}, "embeds": []any{}, "mentions": []any{}, "mention_roles": []any{},
		"flags": 0, "components": []any{}, "pinned": false, "mention_everyone": false, "tts": false,
	}
}

// Ready receives once for each READY or RESUMED the gateway sent.
func (f *Server) Ready() <-chan struct{} { return f.ready }

// ResumesRefused is how many RESUMEs were closed with 4009 (ResumeClosed).
func (f *Server) ResumesRefused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.resumesRefused
}

// Identify is the payload of the last IDENTIFY.
func (f *Server) Identify() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.identify
}

// Heartbeats is how many heartbeats the gateway acknowledged.
func (f *Server) Heartbeats() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.beats
}

// Dials is how many gateway connections were asked for, refused ones too.
func (f *Server) Dials() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dials
}

// Asked is how many requests of method on path were received, those the
// token's refusal answered 401 too (Count counts those answered).
func (f *Server) Asked(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked[method+" "+path]
}

// Connections is how many gateway connections are open.
func (f *Server) Connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// Overlaps is how many times a shard was identified while another
// connection held it: two processes running one shard.
func (f *Server) Overlaps() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.overlaps
}

// Drop cuts every gateway connection, as when the gateway drops them.
func (f *Server) Drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.ws.Close()
	}
}

// Zombie leaves the gateway's connections open but acknowledges none of
// their heartbeats again (a half-dead link): the client is to drop such a
// connection and resume on a new one, which is acknowledged as usual.
func (f *Server) Zombie() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.zombie = true
	}
}

// LoseSessions cuts every gateway connection and forgets their sessions, as
// when Discord invalidates a session or a disconnection lasts too long to
// resume: a RESUME is answered Invalid Session (op 9, d false) and the client
// must identify anew. The events of the lost sessions are never sent.
func (f *Server) LoseSessions() {
	f.mu.Lock()
	clear(f.sessions)
	clear(f.backlog)
	f.mu.Unlock()
	f.Drop()
}

// Reconnect sends Reconnect (op 7) on every gateway connection, as Discord
// does before it moves a session: the client is to close the connection
// and resume on a new one, where the events it missed meanwhile are
// replayed.
func (f *Server) Reconnect() {
	f.mu.Lock()
	conns := slices.Clone(f.conns)
	f.mu.Unlock()
	for _, c := range conns {
		f.write(c, map[string]any{"op": 7, "d": nil})
	}
}

// InvalidSession sends Invalid Session (op 9) on every gateway connection,
// d saying whether the session may be resumed. A session that may not is
// forgotten, and its events not sent yet are never sent: the client is to
// identify anew.
func (f *Server) InvalidSession(resumable bool) {
	f.mu.Lock()
	conns := slices.Clone(f.conns)
	if !resumable {
		for _, c := range conns {
			delete(f.sessions, c.session)
			delete(f.backlog, c.session)
		}
	}
	f.mu.Unlock()
	for _, c := range conns {
		f.write(c, map[string]any{"op": 9, "d": resumable})
	}
}

// Replayed is how many dispatches RESUMEs replayed: the events their
// clients missed.
func (f *Server) Replayed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replayed
}

// SetDisallowedIntents changes the privileged intents the application may not
// use, as when they are turned off in the Developer Portal while the bot
// runs: the next IDENTIFY asking for one is closed with 4014.
func (f *Server) SetDisallowedIntents(intents int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.disallowed = intents
}

// SetDown cuts the gateway's connections and refuses new ones (503), or
// lets them in again.
func (f *Server) SetDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
	if down {
		f.Drop()
	}
}

// RevokeToken refuses the bot's token, as Discord does once it is reset or
// revoked in the Developer Portal: the open gateway connections are closed with
// 4004 (Authentication failed) and their sessions forgotten, every IDENTIFY and
// RESUME is closed with 4004, and every REST call answers 401, until
// RestoreToken.
func (f *Server) RevokeToken() {
	f.mu.Lock()
	f.revoked = true
	clear(f.sessions)
	conns := slices.Clone(f.conns)
	f.mu.Unlock()
	for _, c := range conns {
		f.close(c, 4004, "Authentication failed.")
		c.ws.Close()
	}
}

// RestoreToken takes the bot's token again.
func (f *Server) RestoreToken() {
	f.mu.Lock()
	f.revoked = false
	f.mu.Unlock()
}

// TokenRefusals are how many gateway connections were closed with 4004 for
// their IDENTIFY or RESUME, and how many REST calls answered 401.
func (f *Server) TokenRefusals() (gateway, rest int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gatewayRefused, f.restRefused
}

// Fail makes the next n calls of method whose path starts with path answer
// status, body and header instead.
func (f *Server) Fail(method, path string, status int, body string, header http.Header, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	match := func(c Call) bool { return c.Method == method && strings.HasPrefix(c.Path, path) }
	f.failures = append(f.failures, &failure{match: match, status: status, body: body, header: header, n: n})
}

// Hold keeps every call that match says yes to waiting, once recorded (as
// Calls and WaitFor see it), until release is called or the test ends; a
// client that gives up on a call ends its wait. It stands for a Discord slow
// to answer.
func (f *Server) Hold(match func(Call) bool) (release func()) {
	h := &hold{match: match, release: make(chan struct{})}
	f.mu.Lock()
	f.holds = append(f.holds, h)
	f.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			f.mu.Lock()
			f.holds = slices.DeleteFunc(f.holds, func(x *hold) bool { return x == h })
			f.mu.Unlock()
			close(h.release)
		})
	}
	f.t.Cleanup(release)
	return release
}

// Edits are the bodies of the PATCHes the fake carried out on message id
// of channel, in the order it carried them out, whatever order they were
// sent in: the last is what the message shows now.
func (f *Server) Edits(channel, id string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.edited[channel+"/"+id])
}

// FailWhen makes every call that match says yes to answer status and body
// instead.
func (f *Server) FailWhen(match func(Call) bool, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, &failure{match: match, status: status, body: body, n: -1})
}

// SetHistory is what the channel's message history holds, newest first.
func (f *Server) SetHistory(channel string, msgs ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.history[channel] = msgs
}

// Post adds a message to its channel's history, as a member posting it, and
// sends no MESSAGE_CREATE: what a lost session never delivered. The message
// must be one Discord's description allows.
func (f *Server) Post(msg map[string]any) {
	raw, _ := json.Marshal(msg)
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	delete(v, "guild_id") // the gateway's fields
	delete(v, "member")
	if err := discordspec.CheckObject("MessageResponse", v); err != nil {
		f.t.Errorf("fake Discord: a message Discord does not describe: %v", err)
	}
	channel, _ := v["channel_id"].(string)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.history[channel] = append([]map[string]any{v}, f.history[channel]...)
}

// Edit changes the text of message id in its channel's history, as its
// author editing it at at, and sends no MESSAGE_UPDATE: what a lost session
// never delivered. It reports whether the history held the message.
func (f *Server) Edit(channel, id, text string, at time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.history[channel]
	for i, m := range h {
		if m["id"] != id {
			continue
		}
		// A copy: the history's maps are encoded without the lock.
		e := maps.Clone(m)
		e["content"], e["edited_timestamp"] = text, at.UTC().Format(time.RFC3339Nano)
		if err := discordspec.CheckObject("MessageResponse", e); err != nil {
			f.t.Errorf("fake Discord: an edit Discord does not describe: %v", err)
		}
		h = slices.Clone(h)
		h[i] = e
		f.history[channel] = h
		return true
	}
	return false
}

// SetMember is the guild's member as GET /guilds/{id}/members/{user}
// answers it; it must be one Discord's description allows.
func (f *Server) SetMember(guild string, member map[string]any) {
	raw, _ := json.Marshal(member)
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	delete(v, "guild_id")
	if err := discordspec.CheckObject("GuildMemberResponse", v); err != nil {
		f.t.Errorf("fake Discord: a member Discord does not describe: %v", err)
	}
	user, _ := v["user"].(map[string]any)
	id, _ := user["id"].(string)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[guild+"/"+id] = v
}

// Banned reports whether user is banned from guild now: banned by a PUT,
// and not unbanned since (by a DELETE, or by hand with Unban).
func (f *Server) Banned(guild, user string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bans[guild+"/"+user]
}

// Unban lifts user's ban from guild, as a moderator (ModID) would by hand in
// Discord's settings, and sends GUILD_BAN_REMOVE (and its audit log entry).
func (f *Server) Unban(guild, user string) {
	f.UnbanUntold(guild, user)()
}

// UnbanUntold is Unban whose events are sent only when tell is called, as a
// gateway that resumes replays what it missed, late; the audit log's entry
// is dated when the unban was given.
func (f *Server) UnbanUntold(guild, user string) (tell func()) {
	f.mu.Lock()
	banned := f.bans[guild+"/"+user]
	delete(f.bans, guild+"/"+user)
	entry := f.unbanEntry(user, ModID, "")
	f.mu.Unlock()
	return func() {
		if banned {
			f.banRemoved(guild, user, entry)
		}
	}
}

// unbanEntry is the audit log's entry (MEMBER_BAN_REMOVE) of user's unban by
// by, dated on Discord's clock; f.mu is held.
func (f *Server) unbanEntry(user, by, reason string) map[string]any {
	f.auditN++
	id := strconv.FormatInt((f.now().UnixMilli()-1420070400000)<<22|int64(f.auditN&0xfff), 10)
	e := map[string]any{"id": id, "action_type": 23, "user_id": by, "target_id": user}
	if reason != "" {
		e["reason"] = reason
	}
	return e
}

// now is Discord's clock.
// Now is Discord's clock (Options.Now).
func (f *Server) Now() time.Time { return f.now() }

func (f *Server) now() time.Time {
	if f.o.Now != nil {
		return f.o.Now()
	}
	// Without a clock given (Options.Now), the wall clock, as Discord's.
	return time.Now()
}

// Ban bans user from guild, as a moderator would by hand in Discord's app.
func (f *Server) Ban(guild, user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bans[guild+"/"+user] = true
	f.departed[guild+"/"+user] = true
	delete(f.members, guild+"/"+user)
}

// banRemoved sends GUILD_BAN_REMOVE, as Discord does for every unban (the
// bot's, or a moderator's by hand), to the newest connection of the guild's
// shard, when one is open; then, where the bot may view the audit log, the
// unban's entry.
func (f *Server) banRemoved(guild, user string, entry map[string]any) {
	f.mu.Lock()
	var c *conn
	for _, x := range f.conns {
		if serves(x, guild) {
			c = x
		}
	}
	f.mu.Unlock()
	if c == nil {
		return
	}
	f.dispatch(c, "GUILD_BAN_REMOVE", map[string]any{"guild_id": guild,
		"user": map[string]any{"id": user, "username": "u" + user, "global_name": nil, "avatar": nil, "discriminator": "0", "public_flags": 0}}, 0)
	if f.o.AuditLog {
		raw, _ := json.Marshal(entry)
		var v map[string]any
		_ = json.Unmarshal(raw, &v)
		if err := discordspec.CheckObject("AuditLogEntryResponse", v); err != nil {
			f.t.Errorf("fake Discord: an audit log entry Discord does not describe: %v", err)
		}
		v["guild_id"] = guild
		f.dispatch(c, "GUILD_AUDIT_LOG_ENTRY_CREATE", v, 0)
	}
}

// VerificationLevel is the guild's verification level now: what its
// GUILD_CREATE said (0 when it said nothing), or the last PATCH.
func (f *Server) VerificationLevel(guild string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.levels[guild]
}

// Slowmode is the channel's rate_limit_per_user now.
func (f *Server) Slowmode(channel string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slowmodes[channel]
}

// SetSlowmode sets the channel's rate_limit_per_user, as a moderator would.
func (f *Server) SetSlowmode(channel string, seconds int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slowmodes[channel] = seconds
}

func (f *Server) rest(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	call := Call{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/api/v9"), Query: r.URL.Query(), Header: r.Header.Clone(), Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &call.Body)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Date", f.now().UTC().Format(http.TimeFormat))
	f.mu.Lock()
	if f.asked == nil {
		f.asked = map[string]int{}
	}
	f.asked[call.Method+" "+call.Path]++
	refused := f.revoked || r.Header.Get("Authorization") != "Bot "+Token
	if refused {
		f.restRefused++
	}
	f.mu.Unlock()
	if refused {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message": "401: Unauthorized", "code": 0}`)
		return
	}
	if err := discordspec.Check(r.Method, call.Path, call.Query, r.Header.Get("Content-Type"), raw); err != nil {
		f.t.Errorf("fake Discord: a request Discord does not allow: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"message": "Invalid Form Body: " + err.Error(), "code": 50035})
		return
	}
	if !f.take(w, r.Method, strings.Split(strings.Trim(call.Path, "/"), "/")) {
		return
	}
	if err := f.checkTimeout(call); err != nil {
		f.t.Errorf("fake Discord: a timeout Discord does not allow: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message": "Invalid Form Body", "code": 50035, "errors": {"communication_disabled_until": {"_errors": [`+
			`{"code": "INVALID_COMMUNICATION_DISABLED_TIMESTAMP", "message": "Invalid communication disabled timestamp"}]}}}`)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	close(f.changed)
	f.changed = make(chan struct{})
	var fl *failure
	for _, x := range f.failures {
		if x.n != 0 && x.match(call) {
			x.n = max(x.n-1, -1)
			fl = x
			break
		}
	}
	if fl != nil {
		f.calls[len(f.calls)-1].Failed = fl.status
	}
	f.nextMsg++
	msgID := strconv.FormatInt((f.now().UnixMilli()-1420070400000)<<22|int64(f.nextMsg&0xfff), 10)
	if fl == nil && call.Method == "POST" && shape(strings.Split(strings.Trim(call.Path, "/"), "/")) == "channels/*/messages" {
		f.calls[len(f.calls)-1].Made = msgID
	}
	var wait chan struct{}
	for _, h := range f.holds {
		if h.match(call) {
			wait = h.release
			break
		}
	}
	idx := len(f.calls) - 1
	f.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-r.Context().Done():
			f.mu.Lock()
			f.calls[idx].Abandoned = true
			f.mu.Unlock()
			return
		}
	}
	if fl != nil {
		for k, v := range fl.header {
			w.Header()[k] = v
		}
		w.WriteHeader(fl.status)
		io.WriteString(w, fl.body)
		return
	}
	now := f.now().UTC().Format(time.RFC3339)
	vigie := map[string]any{"id": BotID, "username": "vigie", "bot": true}
	p := strings.Split(strings.Trim(call.Path, "/"), "/")
	if len(p) >= 4 && p[0] == "guilds" && p[2] == "members" && f.gone(p[1], p[3]) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message": "Unknown Member", "code": 10007}`)
		return
	}
	if call.Method == "POST" && shape(p) == "interactions/*/*/callback" {
		f.mu.Lock()
		again := f.answered[p[1]]
		late := !again && f.now().Sub(f.made(p[1])) > InitialResponseTime
		if !late {
			f.answered[p[1]] = true
		}
		f.mu.Unlock()
		if late {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message": "Unknown interaction", "code": 10062}`)
			return
		}
		if again {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"message": "Interaction has already been acknowledged.", "code": 40060}`)
			return
		}
	}
	if shape(p) == "webhooks/*/*" && len(p) >= 3 {
		if status, body := f.interactionGone(p[2]); status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, body)
			return
		}
	}
	switch call.Method + " " + shape(p) {
	case "GET gateway", "GET gateway/bot":
		json.NewEncoder(w).Encode(map[string]any{"url": f.wsURL(), "shards": f.o.Shards,
			"session_start_limit": map[string]any{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
	case "POST channels/*/messages":
		json.NewEncoder(w).Encode(map[string]any{"id": msgID, "channel_id": p[1], "content": call.Body["content"], "type": 0,
			"author": vigie, "timestamp": now, "components": call.Body["components"]})
	case "GET channels/*/messages":
		f.mu.Lock()
		h := page(f.history[p[1]], call.Query)
		f.mu.Unlock()
		json.NewEncoder(w).Encode(h)
	case "PATCH channels/*/messages/*":
		f.mu.Lock()
		if f.edited == nil {
			f.edited = map[string][]map[string]any{}
		}
		f.edited[p[1]+"/"+p[3]] = append(f.edited[p[1]+"/"+p[3]], call.Body)
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"id": p[3], "channel_id": p[1], "content": call.Body["content"], "type": 0,
			"author": vigie, "timestamp": now})
	case "GET guilds/*/members/*":
		f.mu.Lock()
		m := f.members[p[1]+"/"+p[3]]
		f.mu.Unlock()
		if m == nil {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message": "Unknown Member", "code": 10007}`)
			return
		}
		json.NewEncoder(w).Encode(m)
	case "PATCH guilds/*/members/*":
		json.NewEncoder(w).Encode(map[string]any{"user": map[string]any{"id": p[3], "username": "member"}, "roles": []string{},
			"joined_at": now, "communication_disabled_until": call.Body["communication_disabled_until"]})
	case "GET guilds/*", "PATCH guilds/*":
		json.NewEncoder(w).Encode(f.guild(p[1], call.Body))
	case "DELETE channels/*":
		json.NewEncoder(w).Encode(map[string]any{"id": p[1], "type": 11, "name": "deleted"})
	case "GET channels/*", "PATCH channels/*":
		f.mu.Lock()
		if v, ok := call.Body["rate_limit_per_user"].(float64); ok {
			f.slowmodes[p[1]] = int(v)
		}
		ch := map[string]any{"id": p[1], "type": 0, "name": "general", "rate_limit_per_user": f.slowmodes[p[1]]}
		for g, d := range f.guilds {
			for _, key := range []string{"channels", "threads"} {
				list, _ := d[key].([]any)
				i := slices.IndexFunc(list, func(c any) bool { m, _ := c.(map[string]any); return m["id"] == p[1] })
				if i < 0 {
					continue
				}
				ch["guild_id"] = g
				if key == "threads" {
					// A thread answers as one, with its parent.
					m, _ := list[i].(map[string]any)
					ch["type"], ch["name"], ch["parent_id"] = m["type"], m["name"], m["parent_id"]
				}
			}
		}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(ch)
	case "GET users/@me":
		json.NewEncoder(w).Encode(map[string]any{"id": BotID, "username": "vigie", "discriminator": "0", "global_name": nil,
			"avatar": nil, "bot": true, "flags": 0, "public_flags": 0})
	case "GET applications/@me":
		// The flags of the privileged intents turned on, as a bot in fewer
		// than 100 servers has them (GATEWAY_*_LIMITED).
		f.mu.Lock()
		flags := 0
		for intent, flag := range map[int]int{1 << 1: 1 << 15, 1 << 8: 1 << 13, 1 << 15: 1 << 19} {
			if f.disallowed&intent == 0 {
				flags |= flag
			}
		}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"id": AppID, "name": "vigie", "icon": nil, "description": "", "type": nil,
			"verify_key": "0123abcd", "flags": flags, "bot_public": false, "bot_require_code_grant": false,
			"bot": map[string]any{"id": BotID, "username": "vigie", "bot": true}})
	case "POST users/@me/channels":
		json.NewEncoder(w).Encode(map[string]any{"id": "9" + fmt.Sprint(call.Body["recipient_id"]), "type": 1})
	case "PUT applications/*/commands", "PUT applications/*/guilds/*/commands":
		w.Write(raw)
	case "PATCH webhooks/*/*", "POST webhooks/*/*":
		f.mu.Lock()
		channel := f.interactions[p[2]].channel
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"id": msgID, "channel_id": channel, "content": call.Body["content"], "type": 0})
	case "DELETE guilds/*/members/*", "PUT guilds/*/bans/*":
		// A kicked or banned member is no longer one, until they join again.
		f.mu.Lock()
		f.departed[p[1]+"/"+p[3]] = true
		delete(f.members, p[1]+"/"+p[3])
		if p[2] == "bans" {
			f.bans[p[1]+"/"+p[3]] = true
		}
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case "GET guilds/*/bans/*":
		f.mu.Lock()
		banned := f.bans[p[1]+"/"+p[3]]
		f.mu.Unlock()
		if !banned {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message": "Unknown Ban", "code": 10026}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"reason": nil, "user": map[string]any{"id": p[3], "username": "member",
			"discriminator": "0", "global_name": nil, "avatar": nil}})
	case "DELETE guilds/*/bans/*":
		f.mu.Lock()
		banned := f.bans[p[1]+"/"+p[3]]
		delete(f.bans, p[1]+"/"+p[3])
		reason, _ := url.PathUnescape(r.Header.Get("X-Audit-Log-Reason"))
		entry := f.unbanEntry(p[3], BotID, reason)
		f.mu.Unlock()
		if !banned {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message": "Unknown Ban", "code": 10026}`)
			return
		}
		f.banRemoved(p[1], p[3], entry)
		w.WriteHeader(http.StatusNoContent)
	case "DELETE channels/*/messages/*",
		"PUT guilds/*/members/*/roles/*", "DELETE guilds/*/members/*/roles/*", "PUT channels/*/messages/*/reactions/*/@me",
		"POST interactions/*/*/callback":
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message": "404: Not Found", "code": 0}`)
	}
}

// InitialResponseTime is how long after an interaction Discord takes its
// first answer (the callback): "you must send an initial response within 3
// seconds of receiving the event. If the 3 second deadline is exceeded, the
// token will be invalidated". TokenLife is how long its token takes
// follow-ups and edits of its answer after: "Interaction tokens are valid
// for 15 minutes".
const (
	InitialResponseTime = 3 * time.Second
	TokenLife           = 15 * time.Minute
)

// sentInteraction is an INTERACTION_CREATE sent: its id, its channel, and
// when Discord made it.
type sentInteraction struct {
	id, channel string
	made        time.Time
}

// made is when Discord made the interaction of this id, as its dispatch
// said (DispatchAfter); the fake's now for one it did not send.
func (f *Server) made(id string) time.Time {
	for _, in := range f.interactions {
		if in.id == id {
			return in.made
		}
	}
	return f.now()
}

// interactionGone is Discord's refusal of a webhook call on an
// interaction's token that no longer stands: the interaction's first
// answer never came (its token was invalidated after
// InitialResponseTime: Unknown Webhook), or its token is past TokenLife
// (Invalid Webhook Token). 0 for a token that stands, or that no
// interaction the fake sent had.
func (f *Server) interactionGone(token string) (status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, ok := f.interactions[token]
	if !ok {
		return 0, ""
	}
	switch {
	case !f.answered[in.id]:
		return http.StatusNotFound, `{"message": "Unknown Webhook", "code": 10015}`
	case f.now().Sub(in.made) > TokenLife:
		return http.StatusUnauthorized, `{"message": "Invalid Webhook Token", "code": 50027}`
	}
	return 0, ""
}

// gone reports whether a GUILD_MEMBER_REMOVE said user left guild.
func (f *Server) gone(guild, user string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.departed[guild+"/"+user]
}

// checkTimeout refuses, as Discord does, a member's timeout that ends more
// than MaxTimeout after Discord's clock when the request arrives.
func (f *Server) checkTimeout(call Call) error {
	p := strings.Split(strings.Trim(call.Path, "/"), "/")
	until, ok := call.Body["communication_disabled_until"].(string)
	if call.Method != "PATCH" || shape(p) != "guilds/*/members/*" || !ok {
		return nil
	}
	at, err := time.Parse(time.RFC3339Nano, until)
	if err != nil {
		return fmt.Errorf("communication_disabled_until %q: %w", until, err)
	}
	now := f.now()
	if ahead := at.Sub(now); ahead > MaxTimeout {
		return fmt.Errorf("communication_disabled_until %s is %s ahead of Discord's clock, over 28 days", until, ahead)
	}
	return nil
}

// guild is the guild as GET and PATCH /guilds/{id} answer it: as its last
// GUILD_CREATE described it, less the gateway's fields, after the PATCH body.
func (f *Server) guild(id string, patch map[string]any) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := patch["verification_level"].(float64); ok {
		f.levels[id] = int(v)
	}
	g := f.guilds[id]
	if g == nil {
		g = guildCreate(id)
	}
	out := map[string]any{}
	for k, v := range g {
		if !slices.Contains([]string{"members", "channels", "threads", "unavailable"}, k) {
			out[k] = v
		}
	}
	out["verification_level"] = f.levels[id]
	return out
}

// page is what GET /channels/{id}/messages answers from a history, newest
// first, as Discord does: the limit (default 50) newest messages before
// "before", or the limit oldest after "after", still newest first.
func page(h []map[string]any, q url.Values) []map[string]any {
	limit := 50
	if n, err := strconv.Atoi(q.Get("limit")); err == nil {
		limit = n
	}
	id := func(m map[string]any) uint64 {
		s, _ := m["id"].(string)
		n, _ := strconv.ParseUint(s, 10, 64)
		return n
	}
	out := []map[string]any{}
	if a := q.Get("after"); a != "" {
		after, _ := strconv.ParseUint(a, 10, 64)
		for i := len(h) - 1; i >= 0 && len(out) < limit; i-- { // oldest first
			if id(h[i]) > after {
				out = append([]map[string]any{h[i]}, out...)
			}
		}
		return out
	}
	before := uint64(0)
	if b := q.Get("before"); b != "" {
		before, _ = strconv.ParseUint(b, 10, 64)
	}
	for _, m := range h {
		if len(out) < limit && (before == 0 || id(m) < before) {
			out = append(out, m)
		}
	}
	return out
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

// guildCreate describes a guild whose vigie role may do everything vigie does.
func guildCreate(id string) map[string]any {
	const perms = 1<<10 | 1<<11 | 1<<13 | 1<<40 | 1<<1 | 1<<2 | 1<<28
	// On the wall clock: the bot's own join date, which vigie does not read.
	now := time.Now().UTC().Format(time.RFC3339)
	role := id[:len(id)-1] + "9"
	return map[string]any{
		"id": id, "name": "Guild " + id, "owner_id": "700000000000000999", "unavailable": false,
		"roles": []any{
			map[string]any{"id": id, "name": "@everyone", "permissions": "0"},
			map[string]any{"id": role, "name": "vigie", "permissions": strconv.FormatInt(perms, 10)},
		},
		"members":  []any{map[string]any{"user": map[string]any{"id": BotID, "username": "vigie", "bot": true}, "roles": []string{role}, "joined_at": now}},
		"channels": []any{map[string]any{"id": Channel(id), "type": 0, "name": "general", "guild_id": id}},
		"threads":  []any{},
	}
}

// WaitFor waits until n calls match method, path prefix and ok (nil: any),
// and returns the nth; it fails t after testsync.Patience.
func (f *Server) WaitFor(t testing.TB, method, path string, n int, ok func(Call) bool) Call {
	t.Helper()
	deadline := time.After(testsync.Patience)
	for {
		f.mu.Lock()
		var got []Call
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
			t.Fatalf("no %d× %s %s; calls: %s", n, method, path, f.Summary())
		}
	}
}

// Calls are the REST calls of method whose path starts with prefix.
func (f *Server) Calls(method, prefix string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if c.Method == method && strings.HasPrefix(c.Path, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// Count is how many REST calls of method had a path starting with prefix.
func (f *Server) Count(method, prefix string) int { return len(f.Calls(method, prefix)) }

// Summary lists the REST calls taken, one a line, for a failing test's message.
func (f *Server) Summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, c := range f.calls {
		fmt.Fprintf(&b, "\n  %s %s %s", c.Method, c.Path, c.Raw)
	}
	return b.String()
}

// ButtonPress is an INTERACTION_CREATE for the press of the button custom
// on the bot's message card in channel, by the member user (a user
// object), made at when, as the interaction's id says; n tells apart the
// presses of the same millisecond.
func ButtonPress(guild, channel, card, custom string, user map[string]any, when time.Time, n int) map[string]any {
	id := strconv.FormatInt((when.UnixMilli()-1420070400000)<<22|int64(n&0xfff), 10)
	return map[string]any{
		"id": id, "application_id": AppID, "type": 3, "token": "tok-" + id, "version": 1,
		"guild_id": guild, "channel_id": channel,
		"member": map[string]any{"user": user, "roles": []string{}, "joined_at": "2025-01-01T00:00:00Z", "permissions": "0"},
		"message": map[string]any{"id": card, "channel_id": channel, "type": 0, "content": "card",
			"author": map[string]any{"id": BotID, "username": "vigie", "bot": true}, "timestamp": when.UTC().Format(time.RFC3339)},
		"data": map[string]any{"custom_id": custom, "component_type": 2},
	}
}
