package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// fakeBotAPI is the fake Bot API (bot/internal/tgfake), with the names
// these tests use.
type fakeBotAPI struct {
	*tgfake.Server
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	releases []func()
}

// onRelease has Release call release too.
func (f *fakeBotAPI) onRelease(release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releases = append(f.releases, release)
}

// Release ends every call the fake hangs, now and after, and what was
// given to onRelease.
func (f *fakeBotAPI) Release() {
	f.Server.Release()
	f.mu.Lock()
	releases := f.releases
	f.mu.Unlock()
	for _, r := range releases {
		r()
	}
}

type apiCall = tgfake.Call

const (
	fakeToken = tgfake.Token
	botUserID = tgfake.BotUserID
	botName   = tgfake.BotName
)

func newFakeBotAPI(t *testing.T) *fakeBotAPI {
	s := tgfake.New(t)
	return &fakeBotAPI{Server: s, srv: s.HTTP, token: tgfake.Token}
}

func (f *fakeBotAPI) push(u map[string]any) int { return f.Push(u) }
func (f *fakeBotAPI) fail(method string, code int, desc string, retryAfter int) {
	f.Fail(method, code, desc, retryAfter)
}
func (f *fakeBotAPI) setAdmins(chat int64, ids ...int64) { f.SetAdmins(chat, ids...) }
func (f *fakeBotAPI) setOwner(chat, user int64)          { f.SetOwner(chat, user, false) }
func (f *fakeBotAPI) setMember(chat, user int64, status string, rights ...string) {
	f.SetMember(chat, user, status, rights...)
}
func (f *fakeBotAPI) adminsFail(chat int64, fail bool)       { f.AdminsFail(chat, fail) }
func (f *fakeBotAPI) holdAdmins(chat int64) (release func()) { return f.HoldAdmins(chat) }
func (f *fakeBotAPI) callsOf(method string) []apiCall        { return f.CallsOf(method) }
func (f *fakeBotAPI) last() apiCall                          { return f.Last() }
func (f *fakeBotAPI) methods() []string                      { return f.Methods() }
func (f *fakeBotAPI) count(method string, match func(apiCall) bool) int {
	return f.Count(method, match)
}
func (f *fakeBotAPI) waitFor(method string, n int, match func(apiCall) bool) apiCall {
	return f.WaitFor(method, n, match)
}

func inChat(chat int64) func(apiCall) bool {
	return func(c apiCall) bool { return c.Params.Get("chat_id") == strconv.FormatInt(chat, 10) }
}

// newTestClient builds a Client talking to f.
func newTestClient(t *testing.T, f *fakeBotAPI, cfg Config) (*Client, *testsync.Buffer) {
	t.Helper()
	logs := &testsync.Buffer{}
	cfg.Token = f.token
	cfg.APIURL = f.srv.URL
	cfg.HTTPClient = f.srv.Client()
	cfg.Logger = testsync.Logger(logs)
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Telegram's pace would make these tests wait seconds; the limiter has its own tests.
	c.limiter = newLimiter(limits{perChatGap: time.Millisecond, groupPerMinute: 1000, globalPerSecond: 1000}, time.Now)
	return c, logs
}

// knowAdmins has c look up the admins of chats now, as its workers would at
// the chats' first messages, for tests about what comes after.
func knowAdmins(t *testing.T, c *Client, chats ...int64) {
	t.Helper()
	for _, chat := range chats {
		c.lookupAdmins(t.Context(), chat)
		if _, known := c.admins.peek(chat, 0); !known {
			t.Fatalf("the admins of chat %d are still unknown", chat)
		}
	}
}

// noMoreEvents fails t if out holds an event: called after the source
// stopped, when everything it handed over was taken.
func noMoreEvents(t *testing.T, out chan bot.Event) {
	t.Helper()
	select {
	case ev := <-out:
		t.Errorf("unexpected event %+v", ev)
	default:
	}
}

// run starts c.Run and stops it when the test ends, checking it returned nil.
func run(t *testing.T, c *Client, out chan bot.Event) (stop func()) {
	t.Helper()
	return runUntilStopped(t, "Run", func(ctx context.Context) error { return c.Run(ctx, out) })
}

// runPoller starts c.RunPoller on offsets and stops it when the test ends;
// stop cancels it and waits until it returned, checking it returned nil.
func runPoller(t *testing.T, c *Client, out chan bot.Event, offsets Offsets) (stop func()) {
	t.Helper()
	return runUntilStopped(t, "RunPoller", func(ctx context.Context) error { return c.RunPoller(ctx, out, offsets) })
}

// runUntilStopped runs f (named what) until stop or the test's end; stop
// cancels it and waits until it returned, checking it returned nil.
func runUntilStopped(t *testing.T, what string, f func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s returned %v, want nil after cancel", what, err)
				}
			case <-time.After(testsync.Patience):
				t.Errorf("%s did not return after cancel", what)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// Builders for updates as Telegram sends them.

type tgUser struct {
	id    int64
	first string
	last  string
	user  string
	bot   bool
}

func (u tgUser) json() map[string]any {
	m := map[string]any{"id": u.id, "is_bot": u.bot, "first_name": u.first}
	if u.last != "" {
		m["last_name"] = u.last
	}
	if u.user != "" {
		m["username"] = u.user
	}
	return m
}

type tgChat struct {
	id       int64
	kind     string
	title    string
	username string
}

func (c tgChat) json() map[string]any {
	m := map[string]any{"id": c.id, "type": c.kind}
	if c.title != "" {
		m["title"] = c.title
	}
	if c.username != "" {
		m["username"] = c.username
	}
	return m
}

func message(chat tgChat, id int, from tgUser, date int64, text string) map[string]any {
	m := map[string]any{"message_id": id, "from": from.json(), "chat": chat.json(), "date": date}
	if text != "" {
		m["text"] = text
		if strings.HasPrefix(text, "/") {
			cmd, _, _ := strings.Cut(text, " ")
			m["entities"] = []any{map[string]any{"type": "bot_command", "offset": 0, "length": len([]rune(cmd))}}
		}
	}
	return m
}

func with(m map[string]any, kv ...any) map[string]any {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func callback(id string, from tgUser, card map[string]any, data string) map[string]any {
	return map[string]any{"callback_query": map[string]any{
		"id": id, "from": from.json(), "message": card, "chat_instance": "ci-1", "data": data,
	}}
}

func fmtID(chat int64, msg int) string { return fmt.Sprintf("%d:%d", chat, msg) }

// toldOn waits for what vigie told the presser of a button of msg, after
// answering the press: a message in its chat, answering msg, saying want.
func toldOn(f *fakeBotAPI, msg map[string]any, want string) string {
	return f.waitFor("sendMessage", 1, func(c apiCall) bool {
		var r struct {
			MessageID int `json:"message_id"`
		}
		_ = json.Unmarshal([]byte(c.Params.Get("reply_parameters")), &r)
		return fmt.Sprint(r.MessageID) == fmt.Sprint(msg["message_id"]) && strings.Contains(c.Params.Get("text"), want)
	}).Params.Get("text")
}
