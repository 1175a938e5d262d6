package daemon_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/discordspec"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// discordAPIURL is the Discord API every test of this package names: discordgo's
// endpoints are process-wide. Requests to it reach a test's fake through the
// client's transport.
const discordAPIURL = "http://127.0.0.1:1/api/v9"

// gateway is a small fake Discord: GET /gateway, and a gateway that says HELLO,
// answers IDENTIFY with READY and a resume with RESUMED, and can go down.
type gateway struct {
	srv  *httptest.Server
	mu   sync.Mutex
	down bool
	conn *websocket.Conn
	seq  int
}

func newGateway(t *testing.T) *gateway {
	g := &gateway{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v9/gateway", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"url": g.wsURL()})
	})
	mux.HandleFunc("/api/v9/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := discordspec.Check(r.Method, strings.TrimPrefix(r.URL.Path, "/api/v9"), r.URL.Query(), r.Header.Get("Content-Type"), body); err != nil {
			t.Errorf("fake Discord: a request Discord does not allow: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Write([]byte("[]"))
	})
	mux.HandleFunc("GET /gw/", g.serve)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) wsURL() string { return "ws" + strings.TrimPrefix(g.srv.URL, "http") + "/gw" }

// client sends the requests for discordAPIURL to the fake.
func (g *gateway) client() *http.Client {
	target, _ := url.Parse(g.srv.URL)
	return &http.Client{Timeout: 10 * time.Second, Transport: rewrite{target}}
}

type rewrite struct{ target *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
	return http.DefaultTransport.RoundTrip(req)
}

// setDown cuts the connection and refuses new ones, or lets them in again.
func (g *gateway) setDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
	if down && g.conn != nil {
		g.conn.Close()
		g.conn = nil
	}
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	down := g.down
	g.mu.Unlock()
	if down {
		http.Error(w, "gateway down", http.StatusServiceUnavailable)
		return
	}
	conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	g.mu.Lock()
	g.conn = conn
	g.mu.Unlock()
	var writeMu sync.Mutex
	write := func(v any) {
		writeMu.Lock()
		defer writeMu.Unlock()
		conn.WriteJSON(v)
	}
	dispatch := func(typ string, d any) {
		g.mu.Lock()
		g.seq++
		s := g.seq
		g.mu.Unlock()
		write(map[string]any{"op": 0, "t": typ, "s": s, "d": d})
	}
	write(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 1000}})
	for {
		var p struct{ Op int }
		if err := conn.ReadJSON(&p); err != nil {
			return
		}
		switch p.Op {
		case 1:
			write(map[string]any{"op": 11})
		case 2:
			dispatch("READY", map[string]any{
				"v": 9, "session_id": "session-1", "resume_gateway_url": g.wsURL(),
				"user":        map[string]any{"id": "100", "username": "vigie", "bot": true},
				"application": map[string]any{"id": "200", "flags": 0},
				"guilds":      []any{},
			})
		case 6:
			dispatch("RESUMED", map[string]any{})
		}
	}
}

type readiness struct {
	code    int
	Status  string
	Reasons []string
}

func ready(t *testing.T, in *instance) readiness {
	t.Helper()
	r := in.do(t, "GET", "/-/ready", nil, nil)
	rd := readiness{code: r.code}
	r.json(t, &rd)
	return rd
}

// TestReadyFollowsTheDiscordGateway: /-/ready is 503 naming discord while the
// gateway is down, and 200 once discordgo reconnected; the disconnection and the
// reconnection are logged, and vigie_source_up follows.
func TestReadyFollowsTheDiscordGateway(t *testing.T) {
	g := newGateway(t)
	logs := &testsync.Buffer{}
	cl, err := discord.New(discord.Config{Token: "test-token", APIURL: discordAPIURL, HTTPClient: g.client(), Logger: testsync.Logger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	in := startOnly(t, rulesV1, nil, []daemon.Connector{{Name: "discord", Source: cl, Platforms: []bot.Platform{cl}}})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("discord logs:\n%s", logs)
		}
	})
	if r := in.do(t, "GET", "/-/healthy", nil, nil); r.code != http.StatusOK {
		t.Errorf("/-/healthy = %d", r.code)
	}
	testsync.Eventually(t, "ready once connected", func() bool { return ready(t, in).code == http.StatusOK })
	if n := metric(t, in, `vigie_source_up{platform="discord"}`); n != 1 {
		t.Errorf("vigie_source_up = %v while connected, want 1", n)
	}

	g.setDown(true)
	var rd readiness
	testsync.Eventually(t, "not ready while the gateway is down", func() bool { rd = ready(t, in); return rd.code == http.StatusServiceUnavailable })
	if rd.Status != "not ready" || len(rd.Reasons) != 1 || !strings.HasPrefix(rd.Reasons[0], "discord: down since ") {
		t.Errorf("/-/ready = %+v, want discord down", rd)
	}
	if n := metric(t, in, `vigie_source_up{platform="discord"}`); n != 0 {
		t.Errorf("vigie_source_up = %v while down, want 0", n)
	}
	var h struct {
		Status   string
		Degraded []string
	}
	in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if h.Status != "ok" || len(h.Degraded) != 1 || !strings.HasPrefix(h.Degraded[0], "discord: ") {
		t.Errorf("/healthz = %+v, want ok with discord degraded", h)
	}

	g.setDown(false)
	testsync.Eventually(t, "ready after the reconnection", func() bool { return ready(t, in).code == http.StatusOK })
	for _, line := range []string{"gateway disconnected; reconnecting", "gateway reconnected"} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("logs lack %q", line)
		}
	}
}

// TestReadyWithoutRedis: /-/ready is 503 naming the store while Redis is
// stopped, and 200 again once it is back.
func TestReadyWithoutRedis(t *testing.T) {
	srv := redistest.Start(t)
	in := start(t, rulesV1, map[string]string{"VIGIE_REDIS_URL": srv.URL(), "VIGIE_WEBHOOK_SECRET": secret})
	if rd := ready(t, in); rd.code != http.StatusOK || rd.Status != "ready" {
		t.Fatalf("/-/ready = %+v with Redis up", rd)
	}
	srv.Stop()
	in.post(t, message("m-1", "u-7", "hi")) // moderated from memory meanwhile
	// go-redis's own complaints come through the daemon's log.
	testsync.Eventually(t, "go-redis in the daemon's log", func() bool { return strings.Contains(in.logs.String(), "source=go-redis") })
	rd := ready(t, in)
	if rd.code != http.StatusServiceUnavailable || len(rd.Reasons) == 0 || !strings.HasPrefix(rd.Reasons[0], "store: ") {
		t.Errorf("/-/ready = %+v with Redis stopped, want 503 naming the store", rd)
	}
	srv.Restart()
	testsync.Eventually(t, "ready with Redis back", func() bool { return ready(t, in).code == http.StatusOK })
}
