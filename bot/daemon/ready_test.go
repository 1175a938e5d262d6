package daemon_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// discordAPIURL is the Discord API every test of this package names: discordgo's
// endpoints are process-wide. Requests to it reach a test's fake through the
// client's transport (discordfake.Server.Client).
const discordAPIURL = "http://127.0.0.1:1/api/v9"

type readiness struct {
	code    int
	Status  string
	Reasons []string
}

func ready(t *testing.T, in *instance) readiness {
	t.Helper()
	return readyAt(t, in, "/-/ready")
}

// readyAt is ready, asked at path (/-/ready?strict).
func readyAt(t *testing.T, in *instance, path string) readiness {
	t.Helper()
	r := in.do(t, "GET", path, nil, nil)
	rd := readiness{code: r.code}
	r.json(t, &rd)
	return rd
}

// TestReadyFollowsTheDiscordGateway: /-/ready is 503 naming discord while the
// gateway is down, and 200 once discordgo reconnected; the disconnection and the
// reconnection are logged, and vigie_source_up follows.
func TestReadyFollowsTheDiscordGateway(t *testing.T) {
	g := discordfake.New(t, discordfake.Options{})
	logs := &testsync.Buffer{}
	cl, err := discord.New(discord.Config{Token: discordfake.Token, APIURL: discordAPIURL, HTTPClient: g.Client(), Logger: testsync.Logger(logs)})
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
	if n := metric(t, in, `vigie_source_up{part="events",platform="discord"}`); n != 1 {
		t.Errorf("vigie_source_up = %v while connected, want 1", n)
	}

	g.SetDown(true)
	var rd readiness
	testsync.Eventually(t, "not ready while the gateway is down", func() bool { rd = ready(t, in); return rd.code == http.StatusServiceUnavailable })
	if rd.Status != "not ready" || len(rd.Reasons) != 1 || !strings.HasPrefix(rd.Reasons[0], "discord: down since ") {
		t.Errorf("/-/ready = %+v, want discord down", rd)
	}
	if n := metric(t, in, `vigie_source_up{part="events",platform="discord"}`); n != 0 {
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

	g.SetDown(false)
	testsync.Eventually(t, "ready after the reconnection", func() bool { return ready(t, in).code == http.StatusOK })
	for _, line := range []string{"gateway disconnected; reconnecting", "gateway reconnected"} {
		testsync.Eventually(t, "the log line "+line, func() bool { return strings.Contains(logs.String(), line) })
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
