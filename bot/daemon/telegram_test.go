package daemon_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/botapispec"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// botAPI is a small Telegram Bot API, as its documentation describes it: methods at
// /bot<token>/<method> with form or JSON parameters, {"ok":true,"result":...}
// answers, getUpdates with an offset and a long-poll timeout.
type botAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	changed chan struct{}
	calls   []call
	updates []json.RawMessage
	first   int // update_id of updates[0]
	nextMsg int
	// trouble, when set, may answer a call (but getUpdates) with an error
	// status and body instead, or hang it (hang true) until the client gives up
	// or release is called.
	trouble  func(method string, p url.Values) (status int, body string, hang bool)
	released chan struct{}
	release  func()
	// refuse, when set, makes Telegram refuse the messages whose text holds it,
	// as it refuses HTML it cannot parse.
	refuse string
}

type call struct {
	method string
	params url.Values
}

func newBotAPI(t *testing.T) *botAPI {
	b := &botAPI{t: t, changed: make(chan struct{}), first: 1, nextMsg: 100, released: make(chan struct{})}
	b.release = sync.OnceFunc(func() { close(b.released) })
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *botAPI) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *botAPI) serve(w http.ResponseWriter, r *http.Request) {
	_, method, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	params := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &m)
		for k, v := range m {
			if s, ok := v.(string); ok {
				params.Set(k, s)
			} else {
				j, _ := json.Marshal(v)
				params.Set(k, string(j))
			}
		}
	} else {
		_ = r.ParseMultipartForm(1 << 20)
		params = r.Form
	}
	ok := func(result any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
	}
	// What the Bot API's own description does not allow is refused, and fails
	// the test: passing against this fake means speaking the real API.
	var files []string
	if r.MultipartForm != nil {
		for k := range r.MultipartForm.File {
			files = append(files, k)
		}
	}
	if err := botapispec.Check(method, params, files); err != nil {
		b.t.Errorf("fake Bot API: a request the Bot API does not allow: %v", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + err.Error()})
		return
	}
	if method == "getUpdates" {
		b.getUpdates(r, params, ok)
		return
	}
	b.mu.Lock()
	b.calls = append(b.calls, call{method, params})
	id := b.nextMsg
	b.nextMsg++
	b.notifyLocked()
	trouble := b.trouble
	refuse := b.refuse != "" && method == "sendMessage" && strings.Contains(params.Get("text"), b.refuse)
	b.mu.Unlock()
	if refuse {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": 400,
			"description": "Bad Request: can't parse entities: unsupported start tag"})
		return
	}
	if trouble != nil {
		status, body, hang := trouble(method, params)
		if hang {
			select {
			case <-r.Context().Done():
			case <-b.released:
				w.WriteHeader(http.StatusBadGateway)
			}
			return
		}
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return
		}
	}
	switch method {
	case "getMe":
		ok(map[string]any{"id": 999, "is_bot": true, "first_name": "vigie", "username": "vigie_bot"})
	case "sendMessage", "editMessageText":
		chat, _ := strconv.ParseInt(params.Get("chat_id"), 10, 64)
		if method == "editMessageText" {
			id, _ = strconv.Atoi(params.Get("message_id"))
		}
		ok(map[string]any{"message_id": id, "date": time.Now().Unix(), "text": params.Get("text"),
			"chat": map[string]any{"id": chat, "type": "supergroup"}})
	case "getChatAdministrators":
		ok([]any{})
	default:
		ok(true)
	}
}

func (b *botAPI) getUpdates(r *http.Request, p url.Values, ok func(any)) {
	offset, _ := strconv.Atoi(p.Get("offset"))
	timeout, _ := strconv.Atoi(p.Get("timeout"))
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		for len(b.updates) > 0 && b.first < offset {
			b.updates = b.updates[1:]
			b.first++
		}
		if len(b.updates) > 0 {
			out := append([]json.RawMessage(nil), b.updates...)
			b.mu.Unlock()
			ok(out)
			return
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			ok([]any{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (b *botAPI) push(u map[string]any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u["update_id"] = b.first + len(b.updates)
	raw, _ := json.Marshal(u)
	b.updates = append(b.updates, raw)
	b.notifyLocked()
}

// setTrouble changes how the Bot API misbehaves (nil: it does not).
func (b *botAPI) setTrouble(f func(method string, p url.Values) (int, string, bool)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trouble = f
}

// updatesLeft is how many updates the client has not confirmed yet.
func (b *botAPI) updatesLeft() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.updates)
}

// find returns the calls of a method whose parameter key contains want.
func (b *botAPI) find(method, key, want string) []url.Values {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []url.Values
	for _, c := range b.calls {
		if c.method == method && strings.Contains(c.params.Get(key), want) {
			out = append(out, c.params)
		}
	}
	return out
}

var msgID = 0

func groupMessage(chat, user int64, name, text string) map[string]any {
	msgID++
	return map[string]any{"message": map[string]any{
		"message_id": msgID, "date": time.Now().Unix(), "text": text,
		"chat": map[string]any{"id": chat, "type": "supergroup", "title": "fans"},
		"from": map[string]any{"id": user, "is_bot": false, "first_name": name},
	}}
}

const telegramRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
counters:
  msgs: {key: author.id, window: 1h}
rules:
  - name: flood
    category: flood
    when: not author.staff and counters.msgs > 2
    do: [delete, timeout(10m)]
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [forward("scam")]
`

// TestTelegram drives vigie through a Bot API: a group flood is muted, a case is
// posted to the desk and decided by a CM's button, /status and /pause answer.
func TestTelegram(t *testing.T) {
	api := newBotAPI(t)
	in := start(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_API_URL": api.srv.URL})
	const group, desk = -100200, -100500

	// vigie lists a group's admins at its first message, in the background; until
	// the list comes, authors there may be staff, and a rule hit is only a case.
	api.push(groupMessage(group, 6, "Dan", "hello"))
	testsync.Eventually(t, "the group's admins listed", func() bool {
		return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), `vigie_telegram_admin_lookups_total{result="ok"} 1`)
	})

	// A flood: the third message is deleted and its author muted.
	for i := range 3 {
		api.push(groupMessage(group, 7, "Bob", "spam "+strconv.Itoa(i)))
	}
	testsync.Eventually(t, "the mute", func() bool { return len(api.find("restrictChatMember", "user_id", "7")) == 1 })
	if got := api.find("deleteMessage", "chat_id", strconv.Itoa(group)); len(got) != 1 {
		t.Errorf("%d deletes, want 1", len(got))
	}

	// A scam is forwarded: a card with buttons in the desk chat.
	api.push(groupMessage(group, 8, "Eve", "FREE NITRO here"))
	var card url.Values
	testsync.Eventually(t, "the case card", func() bool {
		cards := api.find("sendMessage", "chat_id", strconv.Itoa(desk))
		if len(cards) > 0 {
			card = cards[0]
		}
		return len(cards) == 1
	})
	if !strings.Contains(card.Get("text"), "scam") || !strings.Contains(card.Get("reply_markup"), "callback_data") {
		t.Fatalf("card = %v, want the scam case with buttons", card)
	}
	var markup struct {
		Rows [][]struct {
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(card.Get("reply_markup")), &markup); err != nil {
		t.Fatal(err)
	}
	var ban string
	for _, row := range markup.Rows {
		for _, b := range row {
			if strings.HasSuffix(b.Data, ":ban") {
				ban = b.Data
			}
		}
	}
	if ban == "" {
		t.Fatalf("no ban button in %s", card.Get("reply_markup"))
	}

	// The CM bans from the card: the ban happens on the group, the card is updated.
	api.push(map[string]any{"callback_query": map[string]any{
		"id": "cb-1", "data": ban, "chat_instance": "x",
		"from":    map[string]any{"id": 42, "is_bot": false, "first_name": "Ann"},
		"message": map[string]any{"message_id": 100, "date": time.Now().Unix(), "chat": map[string]any{"id": desk, "type": "supergroup"}},
	}})
	testsync.Eventually(t, "the ban", func() bool { return len(api.find("banChatMember", "user_id", "8")) == 1 })
	testsync.Eventually(t, "the card's update", func() bool { return len(api.find("editMessageText", "chat_id", strconv.Itoa(desk))) == 1 })
	var cases struct {
		Cases []struct {
			Outcome   string
			DecidedBy string `json:"decided_by"`
		}
	}
	in.do(t, "GET", "/v1/cases?status=decided", nil, nil).json(t, &cases)
	if len(cases.Cases) != 1 || cases.Cases[0].Outcome != "ban" || cases.Cases[0].DecidedBy != "telegram:42" {
		t.Errorf("decided cases = %+v, want one ban by telegram:42", cases.Cases)
	}

	// /status and /pause from the CM, in the desk chat.
	api.push(groupMessage(desk, 42, "Ann", "/status"))
	testsync.Eventually(t, "the status", func() bool { return len(api.find("sendMessage", "text", "enforcing")) == 1 })
	api.push(groupMessage(desk, 42, "Ann", "/pause 1h"))
	testsync.Eventually(t, "the pause", func() bool { return len(api.find("sendMessage", "text", "Paused for 1h")) == 1 })

	// Paused: a flood is only forwarded.
	for i := range 3 {
		api.push(groupMessage(group, 9, "Zed", "again "+strconv.Itoa(i)))
	}
	testsync.Eventually(t, "the paused flood's card", func() bool { return len(api.find("sendMessage", "text", "paused: would")) == 1 })
	if got := api.find("restrictChatMember", "user_id", "9"); len(got) != 0 {
		t.Errorf("muted while paused: %v", got)
	}

	var h struct{ Platforms []string }
	in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if h.Platforms[1] != "telegram on" {
		t.Errorf("platforms = %q, want telegram on", h.Platforms)
	}
}

// A CM whose rights are a community's, in the desk chat, through the
// daemon's own desk commands: /status counts only their community, /pause
// acts on every community and is refused them, and vigie is not paused.
func TestTelegramCommunityCMDeskCommands(t *testing.T) {
	api := newBotAPI(t)
	start(t, `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
communities:
  shop:
    places: ["telegram:-100200"]
    desk: {cms: ["telegram:8"]}
rules:
  - {name: r, when: 'false', do: [strike]}
`, map[string]string{"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_API_URL": api.srv.URL})
	const desk = -100500
	api.push(groupMessage(desk, 8, "Sam", "/status"))
	testsync.Eventually(t, "the status", func() bool { return len(api.find("sendMessage", "text", "Figures of community shop only.")) == 1 })
	api.push(groupMessage(desk, 8, "Sam", "/pause 1h"))
	testsync.Eventually(t, "the refusal", func() bool {
		return len(api.find("sendMessage", "text", "Sorry, /pause acts on every community: your rights are community shop's.")) == 1
	})
	api.push(groupMessage(desk, 42, "Ann", "/status"))
	testsync.Eventually(t, "the file's CM's status", func() bool { return len(api.find("sendMessage", "text", "enforcing")) == 2 })
	if got := api.find("sendMessage", "text", "PAUSED"); len(got) != 0 {
		t.Errorf("paused by the community's CM: %v", got)
	}
}
