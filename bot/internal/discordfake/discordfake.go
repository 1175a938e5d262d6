// Package discordfake is a fake Discord for tests that run whole vigie
// processes: the REST endpoints vigie calls, checked against Discord's own
// description (discordspec), and a gateway that takes one connection per
// shard, as many processes as there are shards. It says HELLO, answers
// IDENTIFY with READY and the shard's guilds, acknowledges heartbeats, and
// hands each dispatch to the connection of the guild's shard.
package discordfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/vigie-bot/vigie/bot/internal/discordspec"
)

// Token is the bot token the fake accepts (DISCORD_TOKEN).
const Token = "test-token"

// BotID is the bot's user id.
const BotID = "900000000000000001"

// Call is one REST call the fake received.
type Call struct {
	Method string
	Path   string // without /api/v9
	Body   map[string]any
}

// Server is the fake Discord.
type Server struct {
	t testing.TB
	// HTTP is the server; HTTP.URL + "/api/v9" is DISCORD_API_URL.
	HTTP   *httptest.Server
	shards int

	mu    sync.Mutex
	calls []Call
	// conns are the live gateway connections by shard; overlaps counts the
	// times a shard was identified while another connection held it.
	conns    map[int][]*conn
	overlaps int
	guilds   map[string]int // guild id -> shard
	nextMsg  int
	// levels are the guilds' verification levels and slowmodes the
	// channels' rate_limit_per_user, as GET shows them and PATCH sets them.
	levels    map[string]int
	slowmodes map[string]int
}

type conn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex
	seq     int
	shard   int
}

// New starts a fake Discord that recommends shards shards (GET /gateway/bot)
// and serves guilds, each on its shard.
func New(t testing.TB, shards int, guilds ...string) *Server {
	f := &Server{t: t, shards: max(shards, 1), conns: map[int][]*conn{}, guilds: map[string]int{},
		levels: map[string]int{}, slowmodes: map[string]int{}}
	for _, g := range guilds {
		f.guilds[g] = ShardOf(g, f.shards)
	}
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

// APIURL is the fake's REST API, for DISCORD_API_URL.
func (f *Server) APIURL() string { return f.HTTP.URL + "/api/v9" }

func (f *Server) wsURL() string { return "ws" + strings.TrimPrefix(f.HTTP.URL, "http") + "/gw" }

var upgrader = websocket.Upgrader{}

func (f *Server) gateway(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, shard: -1}
	defer func() {
		ws.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		if c.shard >= 0 {
			list := f.conns[c.shard]
			for i, x := range list {
				if x == c {
					f.conns[c.shard] = append(list[:i:i], list[i+1:]...)
					break
				}
			}
		}
	}()
	f.write(c, map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 1000}})
	for {
		_, msg, err := ws.ReadMessage()
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
			f.write(c, map[string]any{"op": 11})
		case 2:
			var id struct {
				Token string `json:"token"`
				Shard []int  `json:"shard"`
			}
			_ = json.Unmarshal(p.D, &id)
			if id.Token != "Bot "+Token && id.Token != Token {
				ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."), time.Now().Add(time.Second))
				return
			}
			shard := 0
			if len(id.Shard) == 2 {
				if id.Shard[1] != f.shards {
					ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4010, "Invalid shard."), time.Now().Add(time.Second))
					return
				}
				shard = id.Shard[0]
			} else if f.shards != 1 {
				ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4011, "Sharding required."), time.Now().Add(time.Second))
				return
			}
			var guilds []any
			var mine []string
			f.mu.Lock()
			c.shard = shard
			if len(f.conns[shard]) > 0 {
				f.overlaps++
			}
			f.conns[shard] = append(f.conns[shard], c)
			for g, s := range f.guilds {
				if s == shard {
					guilds = append(guilds, map[string]any{"id": g, "unavailable": true})
					mine = append(mine, g)
				}
			}
			f.mu.Unlock()
			f.dispatch(c, "READY", map[string]any{
				"v": 9, "session_id": fmt.Sprintf("session-%d", shard), "resume_gateway_url": f.wsURL(),
				"user":        map[string]any{"id": BotID, "username": "vigie", "bot": true},
				"application": map[string]any{"id": "900000000000000002", "flags": 0},
				"guilds":      guilds, "shard": id.Shard,
			})
			for _, g := range mine {
				f.dispatch(c, "GUILD_CREATE", guildCreate(g))
			}
		case 6:
			f.dispatch(c, "RESUMED", map[string]any{})
		}
	}
}

func (f *Server) write(c *conn, v any) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.WriteJSON(v)
}

func (f *Server) dispatch(c *conn, typ string, d any) {
	c.writeMu.Lock()
	c.seq++
	s := c.seq
	c.writeMu.Unlock()
	f.write(c, map[string]any{"op": 0, "t": typ, "s": s, "d": d})
}

// Connected reports whether the guild's shard has a gateway connection.
func (f *Server) Connected(guild string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns[f.guilds[guild]]) > 0
}

// Overlaps is how many times a shard was identified while another
// connection held it: two processes running one shard.
func (f *Server) Overlaps() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.overlaps
}

// Message sends MESSAGE_CREATE for a message in the guild's channel to the
// connection of the guild's shard, and reports whether one took it.
func (f *Server) Message(guild, channel, id, authorID, text string) bool {
	f.mu.Lock()
	list := f.conns[f.guilds[guild]]
	var c *conn
	if len(list) > 0 {
		c = list[len(list)-1]
	}
	f.mu.Unlock()
	if c == nil {
		return false
	}
	now := time.Now().UTC()
	f.dispatch(c, "MESSAGE_CREATE", map[string]any{
		"id": id, "channel_id": channel, "guild_id": guild, "type": 0, "content": text,
		"author":    map[string]any{"id": authorID, "username": "eve", "global_name": "Eve"},
		"member":    map[string]any{"roles": []string{}, "joined_at": now.Add(-24 * time.Hour).Format(time.RFC3339)},
		"timestamp": now.Format(time.RFC3339Nano), "edited_timestamp": nil,
		"attachments": []any{}, "embeds": []any{}, "mentions": []any{}, "mention_roles": []any{},
	})
	return true
}

// guildCreate describes a guild whose vigie role may do everything vigie does.
func guildCreate(id string) map[string]any {
	const perms = 1<<10 | 1<<11 | 1<<13 | 1<<40 | 1<<1 | 1<<2 | 1<<28
	now := time.Now().UTC().Format(time.RFC3339)
	role := id[:len(id)-1] + "9"
	return map[string]any{
		"id": id, "name": "Guild " + id, "owner_id": "700000000000000999", "unavailable": false,
		"roles": []any{
			map[string]any{"id": id, "name": "@everyone", "permissions": "0"},
			map[string]any{"id": role, "name": "vigie", "permissions": strconv.FormatInt(perms, 10)},
		},
		"members":  []any{map[string]any{"user": map[string]any{"id": BotID, "username": "vigie", "bot": true}, "roles": []string{role}, "joined_at": now}},
		"channels": []any{map[string]any{"id": id[:len(id)-2] + "10", "type": 0, "name": "general", "guild_id": id}},
		"threads":  []any{},
	}
}

// Channel is the id of the guild's channel.
func Channel(guild string) string { return guild[:len(guild)-2] + "10" }

func (f *Server) rest(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/api/v9")
	call := Call{Method: r.Method, Path: path}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &call.Body)
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bot "+Token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message": "401: Unauthorized", "code": 0}`)
		return
	}
	// What Discord's own description does not allow is refused, and fails the
	// test: passing against this fake means speaking the real API.
	if err := discordspec.Check(r.Method, path, r.URL.Query(), r.Header.Get("Content-Type"), raw); err != nil {
		f.t.Errorf("fake Discord: a request Discord does not allow: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"message": "Invalid Form Body: " + err.Error(), "code": 50035})
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.nextMsg++
	msgID := strconv.FormatInt((time.Now().UnixMilli()-1420070400000)<<22|int64(f.nextMsg&0xfff), 10)
	f.mu.Unlock()
	p := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == "GET" && (path == "/gateway" || path == "/gateway/bot"):
		json.NewEncoder(w).Encode(map[string]any{"url": f.wsURL(), "shards": f.shards,
			"session_start_limit": map[string]any{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
	case r.Method == "POST" && len(p) == 3 && p[0] == "channels" && p[2] == "messages":
		json.NewEncoder(w).Encode(map[string]any{"id": msgID, "channel_id": p[1], "content": call.Body["content"], "type": 0,
			"author": map[string]any{"id": BotID, "username": "vigie", "bot": true}, "timestamp": time.Now().UTC().Format(time.RFC3339)})
	case r.Method == "PUT" && p[0] == "applications":
		w.Write(raw)
	case (r.Method == "GET" || r.Method == "PATCH") && len(p) == 2 && p[0] == "guilds":
		f.mu.Lock()
		if v, ok := call.Body["verification_level"].(float64); ok && r.Method == "PATCH" {
			f.levels[p[1]] = int(v)
		}
		g := guildCreate(p[1])
		for _, k := range []string{"members", "channels", "threads", "unavailable"} {
			delete(g, k)
		}
		g["verification_level"] = f.levels[p[1]]
		f.mu.Unlock()
		json.NewEncoder(w).Encode(g)
	case (r.Method == "GET" || r.Method == "PATCH") && len(p) == 2 && p[0] == "channels":
		f.mu.Lock()
		if v, ok := call.Body["rate_limit_per_user"].(float64); ok && r.Method == "PATCH" {
			f.slowmodes[p[1]] = int(v)
		}
		ch := map[string]any{"id": p[1], "type": 0, "name": "general", "rate_limit_per_user": f.slowmodes[p[1]]}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(ch)
	case r.Method == "DELETE" || r.Method == "PUT":
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message": "404: Not Found", "code": 0}`)
	}
}

// VerificationLevel is the guild's verification level now (0 until set).
func (f *Server) VerificationLevel(guild string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.levels[guild]
}

// Count is how many REST calls of method had a path starting with prefix.
func (f *Server) Count(method, prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Method == method && strings.HasPrefix(c.Path, prefix) {
			n++
		}
	}
	return n
}
