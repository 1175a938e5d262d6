package meta_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestGraphRateLimitWaitsThenActs: a spam wave on a brand's Page while Meta
// limits the Page's calls (code 32), its usage header saying access comes
// back in 10 minutes, longer than vigie waits; a question among the scams
// gets the FAQ's answer. The desk is told once that Meta limits vigie, and
// until when; no card for each comment. Once the limit ends, on the
// daemon's clock, the hides and the FAQ's public answer are carried out,
// once each, in the order the comments came, and no case is left open.
// Before, each comment's action was a case and a card at once, the desk
// was not told of the limit, and the answer was never given.
func TestGraphRateLimitWaitsThenActs(t *testing.T) {
	clk, g := graphOnStepClock(t)
	desk := &deskRecorder{}
	base, logs, _ := startDaemonOn(t, clk, g, desk, nil, `
timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "crypto"'
    do: [hide]
faq:
  entries:
    - id: hours
      questions: ["quels sont vos horaires ?"]
      answer: "Du lundi au samedi, 9h-19h."
`)

	g.limit(10)
	type comment struct{ post, cid, text string }
	wave := []comment{
		{"111", "111_9000000000000001", "CRYPTO gratuit ici"},
		{"222", "222_9000000000000002", "CRYPTO x100 garanti"},
		{"111", "111_9000000000000003", "quels sont vos horaires ?"},
		{"333", "333_9000000000000004", "CRYPTO: ecrivez-moi"},
	}
	sent := clk.Now().Add(-time.Minute).Unix()
	for i, c := range wave {
		deliverSigned(t, base, commentOnPost(c.post, c.cid, fmt.Sprint(7000+i), c.text, sent+int64(i)))
	}
	testsync.Eventually(t, "a case for each comment's action Meta made wait", func() bool {
		return openCasesWith(t, base, "platform asks to wait 10m") == len(wave)
	})
	testsync.Eventually(t, "the desk told of the limit", func() bool { return desk.told("Meta limits vigie's calls") == 1 })
	limitedCalls := len(g.Calls())

	g.limit(0)
	clk.Step(601 * time.Second)
	carried := func() []string {
		var done []string
		for _, c := range g.Calls()[limitedCalls:] {
			switch {
			case c.Method == "POST" && c.Params.Get("is_hidden") == "true":
				done = append(done, "hide "+strings.TrimPrefix(c.Path, "/"))
			case c.Method == "POST" && strings.HasSuffix(c.Path, "/comments"):
				done = append(done, "reply "+strings.TrimSuffix(strings.TrimPrefix(c.Path, "/"), "/comments"))
			}
		}
		return done
	}
	testsync.Eventually(t, "the actions carried out once the limit ended, no case left open", func() bool {
		return openCasesWith(t, base, "") == 0 && len(carried()) >= len(wave) &&
			strings.Contains(logs.String(), `msg="rate limit ended: the actions it left as cases carried out`)
	})
	done := carried()
	want := []string{"hide " + wave[0].cid, "hide " + wave[1].cid, "reply " + wave[2].cid, "hide " + wave[3].cid}
	if strings.Join(done, ", ") != strings.Join(want, ", ") {
		t.Errorf("carried out once the limit ended: %q, want %q, once each and in order", done, want)
	}
	if cards := desk.cardCount(); cards != 0 {
		t.Errorf("%d cards on the desk for actions that waited for the limit, want none", cards)
	}
	if n := desk.told("Meta limits vigie's calls"); n != 1 {
		t.Errorf("the desk told of the limit %d times, want once", n)
	}
}

// TestGraphRateLimitCasesPickedUpAfterARestart: vigie stops while Meta
// limits the Page's calls for 10 minutes, the actions of a spam wave left
// as cases in Redis. vigie started again after the limit (or another
// instance on the same Redis) carries them out, the limit's end being
// past, and a scam that comes then after them: the scams are hidden, no
// case is left open. Before,
// only the instance whose limit it was carried them out, when the limit
// ended on its clock: after a restart they stayed open until a CM decided
// each.
func TestGraphRateLimitCasesPickedUpAfterARestart(t *testing.T) {
	env := redisEnv(t, "limit-restart")
	clk, g := graphOnStepClock(t)
	base, _, stop := startDaemonOn(t, clk, g, &deskRecorder{}, env, hideScams)
	g.limit(10)
	wave := []string{"111_9100000000000001", "222_9100000000000002"}
	deliverScams(t, base, clk, wave, 7100)
	testsync.Eventually(t, "a case for each scam Meta made wait", func() bool {
		return openCasesWith(t, base, "platform asks to wait 10m") == len(wave)
	})
	stop()

	g.limit(0)
	clk.Step(11 * time.Minute)
	before := len(g.Calls())
	base, _, _ = startDaemonOn(t, clk, g, &deskRecorder{}, env, hideScams)
	const later = "333_9100000000000003"
	deliverSigned(t, base, commentOnPost("333", later, "7199", "CRYPTO encore", clk.Now().Add(-time.Second).Unix()))
	testsync.Eventually(t, "the scams left by the limit hidden once an action was carried out, no case left open", func() bool {
		hidden := strings.Join(hidesIn(g.Calls()[before:]), ", ")
		return hidden == strings.Join(append(append([]string{}, wave...), later), ", ") && openCasesWith(t, base, "") == 0
	})
}

// deskRecorder is a desk that keeps what it is shown.
type deskRecorder struct {
	alertList
	mu    sync.Mutex
	cards []bot.Card
}

func (d *deskRecorder) PostCard(_ context.Context, c bot.Card) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cards = append(d.cards, c)
	return nil
}

func (d *deskRecorder) EditCard(context.Context, bot.CardRef, bot.Card, string) error { return nil }

func (d *deskRecorder) Alert(ctx context.Context, text string) error { return d.alert(ctx, text) }

func (d *deskRecorder) cardCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.cards)
}

// startDaemonOn runs vigie on the clock clk with the environment env and
// the rule file text, Meta's connector on the fake Graph API g, and desk
// as its desk, as the daemon wires it; it returns the daemon's address and
// logs, and stop, which stops it (at the latest when the test ends).
func startDaemonOn(t *testing.T, clk *stepclock.Clock, g *fakeGraph, desk *deskRecorder, env map[string]string, text string) (string, *testsync.Buffer, func()) {
	t.Helper()
	rulesPath := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rulesPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &testsync.Buffer{}
	// The answers given, and Meta's rate limit, are kept where the daemon
	// keeps them (metaConnector): in Redis with one, else in memory.
	var answers store.CallKeeper = &store.CallBook{}
	if url := env["VIGIE_REDIS_URL"]; url != "" {
		answers = redistest.Open(t, url, redis.WithPrefix(env["VIGIE_REDIS_PREFIX"]))
	}
	c := meta.New(meta.Config{
		AppSecret: appSecret, VerifyToken: verifyToken, PageToken: g.token, GraphURL: g.URL(),
		Logger: testsync.Logger(logs), Now: clk.Now, Answers: answers,
	})
	conn := daemon.Connector{
		Name: "meta", Source: c, Platforms: c.Platforms(),
		Routes:    map[string]http.Handler{"/webhooks/meta": c.Handler()},
		Desk:      desktest.Desk{Poster: desk},
		AlertWith: c.AlertWith,
	}
	ready := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Config{
			ConfigPath: rulesPath,
			Listen:     "127.0.0.1:0",
			Logger:     testsync.Logger(logs),
			Getenv: func(k string) string {
				if k == "VIGIE_ADMIN_TOKEN" {
					return adminToken
				}
				return env[k]
			},
			Ready:      func(a net.Addr) { ready <- a },
			Now:        clk.Now,
			AfterFunc:  clk.AfterFunc,
			Connectors: []daemon.Connector{conn},
		}, nil)
	}()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon.Run: %v", err)
		}
	})
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	select {
	case a := <-ready:
		return "http://" + a.String(), logs, stop
	case err := <-done:
		done <- err
		t.Fatalf("daemon stopped: %v\n%s", err, logs)
		return "", nil, nil
	}
}
