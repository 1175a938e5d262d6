package daemon_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

const deskRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "nitro"'
    do: [forward("scam")]
`

const tgGroup, tgDesk = -100200, -100500

// deskCards are the texts sent to the Telegram desk chat that hold want,
// refused ones included.
func deskCards(api *botAPI, want string) []string {
	var out []string
	for _, p := range api.find("sendMessage", "chat_id", strconv.Itoa(tgDesk)) {
		if strings.Contains(p.Get("text"), want) {
			out = append(out, p.Get("text"))
		}
	}
	return out
}

type openCase struct {
	ID            string
	Event         struct{ Text string }
	Undeliverable string
}

func openCases(t *testing.T, in *instance) map[string]openCase {
	t.Helper()
	var r struct{ Cases []openCase }
	in.do(t, "GET", "/v1/cases?status=open", nil, nil).json(t, &r)
	out := map[string]openCase{}
	for _, c := range r.Cases {
		out[c.Event.Text] = c
	}
	return out
}

func metricsHave(t *testing.T, in *instance, line string) bool {
	t.Helper()
	return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), line)
}

// TestRefusedCardDoesNotBlockTheDesk: Telegram refuses one case's card with a
// 400; the cases after it are still posted, and the refused one is logged once,
// counted, not posted again, and still open in the case list, saying why.
func TestRefusedCardDoesNotBlockTheDesk(t *testing.T) {
	api := newBotAPI(t)
	api.refuse = "poison"
	in := start(t, deskRules, map[string]string{"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_API_URL": api.srv.URL})

	api.push(groupMessage(tgGroup, 7, "Eve", "nitro poison"))
	testsync.Eventually(t, "the refused card", func() bool { return len(deskCards(api, "poison")) == 1 })
	api.push(groupMessage(tgGroup, 8, "Mal", "nitro fine"))
	testsync.Eventually(t, "the next case's card", func() bool { return len(deskCards(api, "nitro fine")) == 1 })
	// One more round of the desk, for the refused case to be tried again if it
	// were still waiting.
	api.push(groupMessage(tgGroup, 9, "Oz", "nitro later"))
	testsync.Eventually(t, "a later case's card", func() bool { return len(deskCards(api, "nitro later")) == 1 })

	if n := len(deskCards(api, "poison")); n != 1 {
		t.Errorf("the refused card was sent %d times, want once", n)
	}
	if n := strings.Count(in.logs.String(), "the desk refused a case for good"); n != 1 {
		t.Errorf("the refusal is logged %d times, want once", n)
	}
	if line := `vigie_desk_failures_total{desk="telegram",kind="refused"} 1`; !metricsHave(t, in, line) {
		t.Errorf("/metrics lacks %s", line)
	}
	open := openCases(t, in)
	refused, ok := open["nitro poison"]
	if !ok || !strings.Contains(refused.Undeliverable, "can't parse entities") {
		t.Errorf("open cases = %+v, want the refused one open, saying why", open)
	}
	if fine := open["nitro fine"]; fine.ID == "" || fine.Undeliverable != "" {
		t.Errorf("the posted case = %+v, want open and delivered", fine)
	}
}

// discordREST is the part of Discord's REST API a desk uses: messages posted
// to a channel. Those whose content holds fail are answered 500.
type discordREST struct {
	srv  *httptest.Server
	fail string

	mu    sync.Mutex
	posts []string
}

func newDiscordREST(t *testing.T, fail string) *discordREST {
	d := &discordREST{fail: fail}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != "POST" || !strings.HasSuffix(r.URL.Path, "/channels/desk-1/messages") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message": "404: Not Found", "code": 0}`))
			return
		}
		var m struct{ Content string }
		_ = json.NewDecoder(r.Body).Decode(&m)
		d.mu.Lock()
		d.posts = append(d.posts, m.Content)
		d.mu.Unlock()
		if strings.Contains(m.Content, d.fail) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message": "500: Internal Server Error", "code": 0}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "9001", "channel_id": "desk-1", "content": m.Content})
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *discordREST) find(want string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, p := range d.posts {
		if strings.Contains(p, want) {
			out = append(out, p)
		}
	}
	return out
}

// discordDesk is a Discord desk in channel desk-1 whose calls go to d. The API
// address is the one TestPlatformsFromEnvironment gives: discordgo's are
// process-wide; the HTTP client takes the calls to d.
func discordDesk(t *testing.T, d *discordREST) daemon.Connector {
	target, _ := url.Parse(d.srv.URL)
	cl, err := discord.New(discord.Config{
		Token: "x", APIURL: "http://127.0.0.1:1/api/v9", DeskChannel: "desk-1",
		HTTPClient: &http.Client{Transport: rewriteTo{target}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return daemon.Connector{Name: "discord", Desk: desktest.Desk{Poster: cl.Desk(&desktest.Commands{})}}
}

type rewriteTo struct{ target *url.URL }

func (r rewriteTo) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
	return http.DefaultTransport.RoundTrip(req)
}

// TestTwoDesks: when one desk fails and the other takes the case, the failure
// is still logged and counted by desk; a card refused for good is reported on
// the other desk.
func TestTwoDesks(t *testing.T) {
	api := newBotAPI(t)
	api.refuse = "poison"
	dc := newDiscordREST(t, "flaky")
	in := startWith(t, deskRules, map[string]string{"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_API_URL": api.srv.URL},
		discordDesk(t, dc))

	// Telegram refuses the card; Discord shows it, and says Telegram did not.
	api.push(groupMessage(tgGroup, 7, "Eve", "nitro poison"))
	testsync.Eventually(t, "the card on Discord", func() bool { return len(dc.find("nitro poison")) == 1 })
	var open map[string]openCase
	testsync.Eventually(t, "the case", func() bool { open = openCases(t, in); return open["nitro poison"].ID != "" })
	id := open["nitro poison"].ID
	testsync.Eventually(t, "the report on Discord", func() bool {
		return len(dc.find("case "+id+" (rule scam) could not be shown on Telegram: ")) == 1
	})
	if got := open["nitro poison"].Undeliverable; got != "" {
		t.Errorf("a case Discord showed is undeliverable: %q", got)
	}

	// Discord fails with a 500; Telegram shows the case.
	api.push(groupMessage(tgGroup, 8, "Mal", "nitro flaky"))
	testsync.Eventually(t, "the card on Telegram", func() bool { return len(deskCards(api, "nitro flaky")) == 1 })
	testsync.Eventually(t, "Discord's failure counted", func() bool {
		return metricsHave(t, in, `vigie_desk_failures_total{desk="discord",kind="unreachable"} 1`)
	})
	if line := `vigie_desk_failures_total{desk="telegram",kind="refused"} 1`; !metricsHave(t, in, line) {
		t.Errorf("/metrics lacks %s", line)
	}
	logs := in.logs.String()
	for _, want := range []string{
		`msg="a desk did not show a case; the other desks did" case=` + id + ` desk=telegram kind=refused`,
		`msg="a desk did not show a case; the other desks did" case=c-000002 desk=discord kind=unreachable`,
	} {
		if n := strings.Count(logs, want); n != 1 {
			t.Errorf("%d log lines %s, want 1", n, want)
		}
	}
	if n := len(dc.find("nitro flaky")); n != 1 {
		t.Errorf("Discord was asked %d times for the case Telegram showed, want once", n)
	}
}
