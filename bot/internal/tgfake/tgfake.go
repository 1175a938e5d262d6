// Package tgfake is a fake Telegram Bot API for tests, built from the Bot
// API's documentation and checked against its description (botapispec):
// the Telegram connector's tests and the tests that run whole vigie
// processes talk to it.
package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/vigie-bot/vigie/bot/internal/botapispec"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// Server answers as Telegram's Bot API does, from its documentation: every
// method at /bot<token>/<method>, form-encoded or JSON parameters, answers
// {"ok":true,"result":...} or {"ok":false,"error_code":...,"description":...},
// and getUpdates with an offset and a long-poll timeout.
type Server struct {
	t     testing.TB
	token string
	// HTTP is the server; its URL is the Bot API URL (TELEGRAM_API_URL).
	HTTP *httptest.Server

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever a call or an update comes
	calls   []Call
	updates []pendingUpdate
	nextUpd int
	nextMsg int
	fails   map[string][]apiFailure
	admins  map[int64][]map[string]any
	// owners are the chats' owners (ChatMemberOwner), listed first by
	// getChatAdministrators; a chat not there has none listed.
	owners map[int64]map[string]any
	// adminsDown are the chats whose getChatAdministrators fails (500);
	// adminsHeld those whose getChatAdministrators hangs until the channel is
	// closed or the client gives up.
	adminsDown map[int64]bool
	adminsHeld map[int64]chan struct{}
	// members are what getChatMember answers, by chat and user; a user not
	// there is a plain member.
	members map[int64]map[int64]map[string]any
	// usernames are the users' usernames now, by user id, as the updates
	// pushed show them (every User object in them), or SetUsername set
	// them: getChatMember's user has it.
	usernames map[int64]string
	// permissions are the chats' default permissions (ChatPermissions), as
	// getChat shows them and setChatPermissions sets them; a chat not there
	// lets its members send everything.
	permissions map[int64]map[string]bool
	// linked are the groups' linked channels (a channel's discussion
	// group), as getChat shows them in linked_chat_id.
	linked map[int64]int64
	// held is the long poll waiting for updates, if any. As the Bot API
	// does (tdlib/telegram-bot-api, Client::do_get_updates), a newer
	// getUpdates that waits too ends it with 409 "terminated by other
	// getUpdates request": the last poller wins. conflicts counts the long
	// polls so ended whose client was still there (two pollers at once).
	held      *heldPoll
	conflicts int
	// trouble, when set, may answer a call (but getUpdates) with an error
	// status and body instead, or hang it until the client gives up or
	// Release is called.
	trouble  func(method string, p url.Values) (status int, body string, hang bool)
	released chan struct{}
	release  func()
	// migrated are the basic groups that became supergroups, old id → new
	// id: every call about the old id is refused with the new one.
	migrated map[int64]int64
	// titles are the chats' titles getChat gives ("Group" for the others).
	titles map[int64]string
	// sent are when the messages of the updates pushed were sent, by chat
	// and message id: deleteMessage refuses those 48 hours old.
	sent map[chatMessage]time.Time
	// edited are the parameters of the editMessageText calls carried out
	// on each message, in the order the fake carried them out (after
	// SetTrouble's hook let them through): the last is what it shows now.
	edited map[chatMessage][]url.Values
	// shortPoll answers getUpdates at once, without holding the long poll
	// for its timeout: a Bot API server behind a proxy that does not keep
	// requests open, or one that short-polls.
	shortPoll bool
	// proxied are the answers a proxy in front gives instead, by method:
	// its own page, not the Bot API's JSON (ProxyFail).
	proxied map[string][]proxyAnswer
	// cutPolls is how many of the next getUpdates that give updates are
	// cut mid-answer (CutPoll).
	cutPolls int
	// groupLimit, when not 0, is how many messages a minute the bot may
	// send in a group (LimitGroups); groupSent are when those of the last
	// minute were sent, by chat.
	groupLimit int
	groupSent  map[int64][]time.Time
	// webhook is the URL setWebhook set ("" none), and hookSecret its
	// secret_token; deliveries are the webhook calls made (DeliverTo).
	webhook    string
	hookSecret string
	deliveries []Delivery
	// hookError is the last delivery that failed (its Unix time, and what
	// went wrong, as getWebhookInfo's last_error_date and
	// last_error_message say it), dated on clock (time.Now when nil).
	hookErrorDate int64
	hookError     string
	clock         func() time.Time
}

// Edits are the parameters of the editMessageText calls the fake carried
// out on message msg of chat, in the order it carried them out, whatever
// order they were sent in: the last is what the message shows now.
func (f *Server) Edits(chat int64, msg int) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.edited[chatMessage{chat: chat, msg: msg}])
}

// SetClock puts the fake on now's clock from now on: the messages' 48-hour
// delete window, the dates of the messages it sends and of the webhook's
// delivery errors, how far a ban's or a restriction's until_date is, as a
// test that steps vigie's clock steps Telegram's.
func (f *Server) SetClock(now func() time.Time) {
	f.mu.Lock()
	f.clock = now
	f.mu.Unlock()
}

// now is the fake's clock (SetClock), time.Now's until one is set.
func (f *Server) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nowLocked()
}

// nowLocked is now, f.mu held.
func (f *Server) nowLocked() time.Time {
	if f.clock == nil {
		// Without a clock given (SetClock), the wall clock, as Telegram's.
		return time.Now()
	}
	return f.clock()
}

// Delivery is one webhook call the fake made: the update, where it went,
// and the answer's status (0: no answer, the connection failed).
type Delivery struct {
	Update int
	To     string
	Status int
}

// heldPoll is a getUpdates waiting for updates; ended is closed, and done
// set, when a newer one takes its place.
type heldPoll struct {
	client context.Context
	ended  chan struct{}
	done   bool
}

type proxyAnswer struct {
	status     int
	retryAfter int
}

type chatMessage struct {
	chat int64
	msg  int
}

// DeleteWindow is how long after its sending a bot may delete a message
// (deleteMessage: "a message can only be deleted if it was sent less than
// 48 hours ago").
const DeleteWindow = 48 * time.Hour

type Call struct {
	Method string
	Params url.Values
	// MsgID is the id of the message a sendMessage made.
	MsgID int
	// Files are the files uploaded with the call (sendPhoto), by field name.
	Files map[string][]byte
	// At is when the call came, on the fake's clock (SetClock).
	At time.Time
	// Failed is the error_code Fail made the call answer with (0: it was
	// not failed by Fail), and RetryAfter the retry_after it said.
	Failed     int
	RetryAfter int
}

type pendingUpdate struct {
	id  int
	raw json.RawMessage
}

type apiFailure struct {
	code       int
	desc       string
	retryAfter int
}

const (
	Token     = "123456:TEST-token"
	BotUserID = 999
	BotName   = "vigie_test_bot"
)

func New(t testing.TB) *Server {
	f := &Server{
		t: t, token: Token, changed: make(chan struct{}),
		nextUpd: 1000, nextMsg: 500,
		fails:      make(map[string][]apiFailure),
		admins:     make(map[int64][]map[string]any),
		owners:     make(map[int64]map[string]any),
		adminsDown: make(map[int64]bool), adminsHeld: make(map[int64]chan struct{}),
		members:     make(map[int64]map[int64]map[string]any),
		usernames:   make(map[int64]string),
		permissions: make(map[int64]map[string]bool),
		linked:      make(map[int64]int64),
		migrated:    make(map[int64]int64),
		titles:      make(map[int64]string),
		sent:        make(map[chatMessage]time.Time),
		proxied:     make(map[string][]proxyAnswer),
		groupSent:   make(map[int64][]time.Time),
		released:    make(chan struct{}),
	}
	f.release = sync.OnceFunc(func() { close(f.released) })
	f.HTTP = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.HTTP.Close)
	t.Cleanup(f.release) // runs before Close, which waits for the calls held
	return f
}

func (f *Server) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiFail(w http.ResponseWriter, code int, desc string, retryAfter int) {
	body := map[string]any{"ok": false, "error_code": code, "description": desc}
	if retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": retryAfter}
	}
	writeJSON(w, code, body)
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		apiFail(w, 404, "Not Found", 0)
		return
	}
	if token != f.token {
		apiFail(w, 401, "Unauthorized", 0)
		return
	}
	f.mu.Lock()
	var proxy *proxyAnswer
	if q := f.proxied[method]; len(q) > 0 {
		proxy = &q[0]
		f.proxied[method] = q[1:]
	}
	f.mu.Unlock()
	if proxy != nil {
		// The proxy answers: the Bot API never sees the call.
		w.Header().Set("Content-Type", "text/html")
		if proxy.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(proxy.retryAfter))
		}
		w.WriteHeader(proxy.status)
		_, _ = io.WriteString(w, "<html><head><title>"+strconv.Itoa(proxy.status)+" "+http.StatusText(proxy.status)+
			"</title></head><body><center><h1>"+http.StatusText(proxy.status)+"</h1></center><hr><center>nginx</center></body></html>\n")
		return
	}
	params, err := readParams(r)
	if err != nil {
		apiFail(w, 400, "Bad Request: "+err.Error(), 0)
		return
	}
	// What the Bot API's own description does not allow is refused, and fails
	// the test: passing against this fake means speaking the real API.
	if err := botapispec.Check(method, params, fileFields(r)); err != nil {
		f.t.Errorf("fake Bot API: a request the Bot API does not allow: %v", err)
		apiFail(w, 400, "Bad Request: "+err.Error(), 0)
		return
	}
	// What is too long is refused as Telegram refuses it: a case vigie must
	// avoid, not a malformed call.
	if desc := tooLong(method, params); desc != "" {
		apiFail(w, 400, "Bad Request: "+desc, 0)
		return
	}
	// HTML Telegram cannot parse is refused as Telegram refuses it, and fails
	// the test: vigie escapes what members wrote, so it is always a bug.
	if desc := badHTML(params); desc != "" {
		f.t.Errorf("fake Bot API: %s refused: %s", method, desc)
		apiFail(w, 400, "Bad Request: "+desc, 0)
		return
	}
	if desc := badWebhook(method, params); desc != "" {
		apiFail(w, 400, "Bad Request: "+desc, 0)
		return
	}
	f.mu.Lock()
	call := Call{Method: method, Params: params, Files: readFiles(r), At: f.nowLocked()}
	if method == "sendMessage" {
		call.MsgID = f.nextMsg
		f.nextMsg++
	}
	f.calls = append(f.calls, call)
	callIdx := len(f.calls) - 1
	f.notifyLocked()
	if to, ok := f.migrated[chatOf(params)]; ok {
		f.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400,
			"description": "Bad Request: group chat was upgraded to a supergroup chat", "parameters": map[string]any{"migrate_to_chat_id": to}})
		return
	}
	if q := f.fails[method]; len(q) > 0 {
		fail := q[0]
		f.fails[method] = q[1:]
		f.calls[callIdx].Failed, f.calls[callIdx].RetryAfter = fail.code, fail.retryAfter
		f.mu.Unlock()
		apiFail(w, fail.code, fail.desc, fail.retryAfter)
		return
	}
	if wait := f.overGroupLimitLocked(method, params); wait > 0 {
		f.calls[callIdx].Failed, f.calls[callIdx].RetryAfter = http.StatusTooManyRequests, wait
		f.mu.Unlock()
		apiFail(w, http.StatusTooManyRequests, "Too Many Requests: retry after "+strconv.Itoa(wait), wait)
		return
	}
	trouble := f.trouble
	f.mu.Unlock()
	if trouble != nil && method != "getUpdates" {
		status, body, hang := trouble(method, params)
		if hang {
			select {
			case <-r.Context().Done():
			case <-f.released:
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
		f.ok(w, map[string]any{"id": BotUserID, "is_bot": true, "first_name": "vigie", "username": BotName,
			"can_join_groups": true, "can_read_all_group_messages": true})
	case "getUpdates":
		result, answered, ended := f.getUpdates(r, params)
		switch {
		case ended:
			apiFail(w, http.StatusConflict, ConflictPolling, 0)
		case answered:
			if ups, _ := result.([]json.RawMessage); len(ups) > 0 && f.takeCut() {
				cutAnswer(w, result)
			}
			f.ok(w, result)
		}
	case "sendMessage", "editMessageText":
		chat, _ := strconv.ParseInt(params.Get("chat_id"), 10, 64)
		id := call.MsgID
		if method == "editMessageText" {
			id, _ = strconv.Atoi(params.Get("message_id"))
			f.mu.Lock()
			if f.edited == nil {
				f.edited = map[chatMessage][]url.Values{}
			}
			k := chatMessage{chat: chat, msg: id}
			f.edited[k] = append(f.edited[k], params)
			f.mu.Unlock()
		}
		chatType := "supergroup"
		if chat > 0 {
			chatType = "private"
		}
		f.ok(w, map[string]any{"message_id": id, "date": f.now().Unix(),
			"from": map[string]any{"id": BotUserID, "is_bot": true, "first_name": "vigie", "username": BotName},
			"chat": map[string]any{"id": chat, "type": chatType}, "text": params.Get("text")})
	case "deleteMessage":
		chat, _ := strconv.ParseInt(params.Get("chat_id"), 10, 64)
		msg, _ := strconv.Atoi(params.Get("message_id"))
		f.mu.Lock()
		at, known := f.sent[chatMessage{chat: chat, msg: msg}]
		f.mu.Unlock()
		if known && f.now().Sub(at) >= DeleteWindow {
			apiFail(w, http.StatusBadRequest, "Bad Request: message can't be deleted", 0)
			return
		}
		f.ok(w, true)
	case "getChatMember":
		chat, _ := strconv.ParseInt(params.Get("chat_id"), 10, 64)
		user, _ := strconv.ParseInt(params.Get("user_id"), 10, 64)
		f.mu.Lock()
		m := map[string]any{"status": "member"}
		if user == BotUserID {
			// vigie itself, in a group set up as its documentation asks.
			m = memberJSON("administrator", "can_manage_chat", "can_delete_messages", "can_restrict_members")
		}
		// One listed by SetAdmins, and not set apart, is an administrator
		// without rights: Telegram's two answers agree.
		for _, a := range f.admins[chat] {
			if a["user"].(map[string]any)["id"] == user {
				m = memberJSON("administrator")
			}
		}
		if o := f.owners[chat]; o != nil && o["user"].(map[string]any)["id"] == user {
			m = map[string]any{"status": "creator", "is_anonymous": o["is_anonymous"]}
		}
		if set := f.members[chat][user]; set != nil {
			m = make(map[string]any, len(set)+1)
			for k, v := range set {
				m[k] = v
			}
		}
		username := f.usernames[user]
		f.mu.Unlock()
		m["user"] = map[string]any{"id": user, "is_bot": false, "first_name": "Member"}
		if username != "" {
			m["user"].(map[string]any)["username"] = username
		}
		if user == BotUserID {
			m["user"] = map[string]any{"id": user, "is_bot": true, "first_name": "vigie", "username": BotName}
		}
		f.ok(w, m)
	case "banChatMember", "unbanChatMember", "restrictChatMember":
		f.memberChange(method, params)
		f.ok(w, true)
	case "getChatAdministrators":
		chat, _ := strconv.ParseInt(params.Get("chat_id"), 10, 64)
		f.mu.Lock()
		admins, down, held := f.admins[chat], f.adminsDown[chat], f.adminsHeld[chat]
		if o := f.owners[chat]; o != nil {
			// The owner first, as Telegram lists it, and once.
			list := []map[string]any{o}
			for _, a := range admins {
				if a["user"].(map[string]any)["id"] != o["user"].(map[string]any)["id"] {
					list = append(list, a)
				}
			}
			admins = list
		}
		f.mu.Unlock()
		if held != nil {
			select {
			case <-held:
			case <-r.Context().Done():
				return
			}
		}
		if down {
			apiFail(w, 500, "Internal Server Error", 0)
			return
		}
		if admins == nil {
			admins = []map[string]any{}
		}
		f.ok(w, admins)
	case "getChat":
		chat, _ := strconv.ParseInt(params.Get("chat_id"), 10, 64)
		title := "Group"
		f.mu.Lock()
		if t, ok := f.titles[chat]; ok {
			title = t
		}
		f.mu.Unlock()
		info := map[string]any{"id": chat, "type": "supergroup", "title": title, "accent_color_id": 0, "max_reaction_count": 11,
			"accepted_gift_types": map[string]any{"unlimited_gifts": true, "limited_gifts": true, "unique_gifts": true,
				"premium_subscription": true, "gifts_from_channels": true},
			"permissions": f.Permissions(chat)}
		f.mu.Lock()
		if id, ok := f.linked[chat]; ok {
			info["linked_chat_id"] = id
		}
		f.mu.Unlock()
		if raw, _ := json.Marshal(info); botapispec.CheckObject("ChatFullInfo", raw) != nil {
			f.t.Errorf("fake Bot API: getChat answers what the Bot API does not describe: %v", botapispec.CheckObject("ChatFullInfo", raw))
		}
		f.ok(w, info)
	case "setChatPermissions":
		chat, _ := strconv.ParseInt(params.Get("chat_id"), 10, 64)
		raw := json.RawMessage(params.Get("permissions"))
		if err := botapispec.CheckObject("ChatPermissions", raw); err != nil {
			f.t.Errorf("fake Bot API: setChatPermissions: %v", err)
			apiFail(w, 400, "Bad Request: "+err.Error(), 0)
			return
		}
		var perms map[string]bool
		_ = json.Unmarshal(raw, &perms)
		f.mu.Lock()
		f.permissions[chat] = perms
		f.mu.Unlock()
		f.ok(w, true)
	case "setWebhook":
		f.mu.Lock()
		f.webhook, f.hookSecret = params.Get("url"), params.Get("secret_token")
		f.notifyLocked()
		f.mu.Unlock()
		f.ok(w, true)
	case "deleteWebhook":
		f.mu.Lock()
		f.webhook, f.hookSecret = "", ""
		f.mu.Unlock()
		f.ok(w, true)
	case "getWebhookInfo":
		f.mu.Lock()
		info := map[string]any{"url": f.webhook, "has_custom_certificate": false, "pending_update_count": len(f.updates)}
		if f.hookErrorDate != 0 {
			info["last_error_date"], info["last_error_message"] = f.hookErrorDate, f.hookError
		}
		f.mu.Unlock()
		if raw, _ := json.Marshal(info); botapispec.CheckObject("WebhookInfo", raw) != nil {
			f.t.Errorf("fake Bot API: a WebhookInfo the Bot API does not describe: %v", botapispec.CheckObject("WebhookInfo", raw))
		}
		f.ok(w, info)
	default:
		f.ok(w, true)
	}
}

// DeliverTo delivers the updates pushed as Telegram does once a webhook is
// set (setWebhook): each is POSTed to the webhook's path, with its
// secret_token in X-Telegram-Bot-Api-Secret-Token, one at a time and in
// order, and sent again until it is answered 2XX ("in case of an
// unsuccessful request, we will give up after a reasonable amount of
// attempts": here, never). route is the load balancer in front of the
// instances: it names the base URL (http://host:port) that the attempt-th
// try of an update goes to, from 0. Delivery ends with the test.
func (f *Server) DeliverTo(route func(attempt int) string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	f.t.Cleanup(func() {
		cancel()
		<-done
	})
	go func() {
		defer close(done)
		attempt := 0
		for ctx.Err() == nil {
			f.mu.Lock()
			hook, secret, ch := f.webhook, f.hookSecret, f.changed
			var next *pendingUpdate
			if hook != "" && len(f.updates) > 0 {
				u := f.updates[0]
				next = &u
			}
			f.mu.Unlock()
			if next == nil {
				select {
				case <-ch:
				case <-ctx.Done():
				}
				continue
			}
			to := route(attempt)
			status := f.deliver(ctx, hook, secret, to, next.raw)
			f.mu.Lock()
			f.deliveries = append(f.deliveries, Delivery{Update: next.id, To: to, Status: status})
			if status/100 == 2 && len(f.updates) > 0 && f.updates[0].id == next.id {
				f.updates = f.updates[1:]
				attempt = 0
			} else {
				attempt++
			}
			if status/100 != 2 {
				f.hookErrorDate, f.hookError = f.nowLocked().Unix(), "Connection refused"
				if status != 0 {
					f.hookError = fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
				}
			}
			f.notifyLocked()
			f.mu.Unlock()
			if status/100 != 2 {
				// Telegram waits before it tries again.
				select {
				case <-time.After(webhookRetry):
				case <-ctx.Done():
				}
			}
		}
	}()
}

// webhookRetry is the pause before an update not answered 2XX is sent
// again: Telegram's is longer, a test's deadline shorter.
const webhookRetry = 100 * time.Millisecond

// deliver POSTs raw to the path of hook at base, and returns the answer's
// status, 0 when there is none.
func (f *Server) deliver(ctx context.Context, hook, secret, base string, raw json.RawMessage) int {
	u, err := url.Parse(hook)
	if err != nil {
		f.t.Errorf("fake Bot API: the webhook %q: %v", hook, err)
		return 0
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+u.Path, bytes.NewReader(raw))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Deliveries are the webhook calls made so far (DeliverTo).
func (f *Server) Deliveries() []Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Delivery(nil), f.deliveries...)
}

// Migrate makes the basic group old a supergroup whose id is to, as Telegram
// does when a group grows or an admin turns some settings on: from then on
// every call about old (its chat_id, or a command scope's) is refused with
// 400 and parameters.migrate_to_chat_id. The service messages that tell of
// the move (migrate_to_chat_id in old, migrate_from_chat_id in to) are the
// test's to Push: a process that was not running then never gets them.
func (f *Server) Migrate(old, to int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.migrated[old] = to
}

// SetTitle makes title the chat's title, as getChat gives it.
func (f *Server) SetTitle(chat int64, title string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.titles[chat] = title
}

// chatOf is the chat a call is about: its chat_id, or its command scope's;
// 0 when none.
func chatOf(p url.Values) int64 {
	id := p.Get("chat_id")
	if id == "" && p.Get("scope") != "" {
		var scope struct {
			ChatID json.Number `json:"chat_id"`
		}
		_ = json.Unmarshal([]byte(p.Get("scope")), &scope)
		id = scope.ChatID.String()
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// chatPermissions are every field of ChatPermissions.
var chatPermissions = []string{"can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
	"can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
	"can_add_web_page_previews", "can_change_info", "can_invite_users", "can_pin_messages", "can_manage_topics"}

// Permissions are the chat's default permissions now.
func (f *Server) Permissions(chat int64) map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]bool{}
	set, ok := f.permissions[chat]
	for _, k := range chatPermissions {
		out[k] = !ok || set[k]
	}
	return out
}

// SetPermissions sets the chat's default permissions, as its admins would.
func (f *Server) SetPermissions(chat int64, perms map[string]bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.permissions[chat] = perms
}

// SetLinked makes channel the linked channel of group (group is the
// channel's discussion group), as getChat's linked_chat_id shows it.
func (f *Server) SetLinked(group, channel int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.linked[group] = channel
}

func (f *Server) ok(w http.ResponseWriter, result any) {
	writeJSON(w, 200, map[string]any{"ok": true, "result": result})
}

// readParams reads a request the way the Bot API accepts them: a query string,
// a form (urlencoded or multipart), or a JSON object.
func readParams(r *http.Request) (url.Values, error) {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/json") {
		var m map[string]any
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &m); err != nil {
				return nil, err
			}
		}
		v := url.Values{}
		for k, x := range m {
			switch x := x.(type) {
			case string:
				v.Set(k, x)
			default:
				b, _ := json.Marshal(x)
				v.Set(k, string(b))
			}
		}
		return v, nil
	}
	if strings.HasPrefix(ct, "multipart/form-data") {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, err
		}
		return r.Form, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.Form, nil
}

// readFiles reads the files of a multipart request, once readParams parsed it.
func readFiles(r *http.Request) map[string][]byte {
	if r.MultipartForm == nil || len(r.MultipartForm.File) == 0 {
		return nil
	}
	out := map[string][]byte{}
	for field, hs := range r.MultipartForm.File {
		for _, h := range hs {
			f, err := h.Open()
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(f)
			f.Close()
			out[field] = b
		}
	}
	return out
}

// ConflictPolling is the Bot API's answer to a long poll that a newer
// getUpdates ended.
const ConflictPolling = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"

// getUpdates confirms the updates before offset, then answers those pending, or
// waits for one up to timeout seconds, or until the client goes away, or
// until a newer getUpdates that waits takes its place (ended).
// It has no answer when the client went away.
func (f *Server) getUpdates(r *http.Request, p url.Values) (result any, answered, ended bool) {
	offset, _ := strconv.Atoi(p.Get("offset"))
	timeout, _ := strconv.Atoi(p.Get("timeout"))
	f.mu.Lock()
	if f.shortPoll {
		timeout = 0
	}
	f.mu.Unlock()
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	me := &heldPoll{client: r.Context(), ended: make(chan struct{})}
	// The poll ends when its answer is ready, before it is written: a
	// client that asks again as soon as it reads the answer is not a
	// second poller.
	defer func() {
		f.mu.Lock()
		if f.held == me {
			f.held = nil
		}
		f.mu.Unlock()
	}()
	for {
		f.mu.Lock()
		if me.done {
			f.mu.Unlock()
			return nil, false, true
		}
		kept := f.updates[:0]
		for _, u := range f.updates {
			if u.id >= offset {
				kept = append(kept, u)
			}
		}
		f.updates = kept
		if len(f.updates) > 0 {
			out := make([]json.RawMessage, 0, len(f.updates))
			for _, u := range f.updates {
				out = append(out, u.raw)
			}
			f.mu.Unlock()
			return out, true, false
		}
		if timeout == 0 {
			f.mu.Unlock()
			return []any{}, true, false
		}
		if f.held != me {
			if old := f.held; old != nil {
				old.done = true
				close(old.ended)
				if old.client.Err() == nil {
					f.conflicts++
				}
			}
			f.held = me
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return []any{}, true, false
		case <-me.ended:
			return nil, false, true
		case <-r.Context().Done():
			return nil, false, false
		}
	}
}

// ProxyFail makes the next call of method (getUpdates included) answered
// by a proxy in front of the Bot API, as nginx answers a 502 or a 504, or a
// 429 of its own: an HTML page with status, and a Retry-After header when
// retryAfter > 0. The Bot API never sees the call: it is not in Calls.
func (f *Server) ProxyFail(method string, status, retryAfter int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.proxied[method] = append(f.proxied[method], proxyAnswer{status: status, retryAfter: retryAfter})
}

// LimitGroups makes the fake hold the bot to perMinute messages a minute
// in a group, as Telegram does ("your bot will not be able to send more
// than 20 messages per minute to the same group", Bot FAQ): a sendMessage
// past it is answered 429 "Too Many Requests: retry after N", N the seconds
// until the oldest message of the minute is a minute old.
func (f *Server) LimitGroups(perMinute int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groupLimit = perMinute
}

// overGroupLimitLocked is how many seconds a sendMessage to a group must
// wait for (LimitGroups), 0 when it may go; one that may go is counted.
// f.mu is held.
func (f *Server) overGroupLimitLocked(method string, p url.Values) int {
	chat := chatOf(p)
	if f.groupLimit == 0 || method != "sendMessage" || chat >= 0 {
		return 0
	}
	now := f.nowLocked()
	recent := f.groupSent[chat][:0]
	for _, at := range f.groupSent[chat] {
		if now.Sub(at) < time.Minute {
			recent = append(recent, at)
		}
	}
	f.groupSent[chat] = recent
	if len(recent) < f.groupLimit {
		f.groupSent[chat] = append(recent, now)
		return 0
	}
	wait := recent[len(recent)-f.groupLimit].Add(time.Minute).Sub(now)
	return int((wait + time.Second - 1) / time.Second)
}

// CutPoll makes the next getUpdates that has updates to give cut
// mid-answer, as the network cuts a long poll: the status, the headers and
// half of the body go out, then the connection drops. Nothing is confirmed:
// the next getUpdates with the same offset is given the same updates.
func (f *Server) CutPoll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutPolls++
}

// takeCut reports whether this answer is to be cut (CutPoll), and counts it.
func (f *Server) takeCut() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cutPolls == 0 {
		return false
	}
	f.cutPolls--
	return true
}

// cutAnswer writes the first half of result's answer and drops the
// connection.
func cutAnswer(w http.ResponseWriter, result any) {
	body, _ := json.Marshal(map[string]any{"ok": true, "result": result})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:len(body)/2])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	panic(http.ErrAbortHandler)
}

// ShortPoll makes getUpdates answer at once, with the updates pending or
// none, whatever its timeout asks (a server that does not hold long polls);
// false holds them again.
func (f *Server) ShortPoll(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shortPoll = on
}

// Conflicts is how many long polls a newer getUpdates ended with 409 while
// their client still waited: two pollers at once.
func (f *Server) Conflicts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conflicts
}

// AnotherPoller has another program poll with the token (a second vigie
// left running, a test, another bot given it), as any client of the Bot
// API does: a getUpdates waiting 2 seconds, then the next 20 ms later,
// until stop, which returns once it stopped (at the latest when the test
// ends).
func (f *Server) AnotherPoller() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var polling sync.WaitGroup
	polling.Go(func() {
		for ctx.Err() == nil {
			u := f.HTTP.URL + "/bot" + Token + "/getUpdates?" + url.Values{"timeout": {"2"}}.Encode()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	stop = func() { cancel(); polling.Wait() }
	f.t.Cleanup(stop)
	return stop
}

// SetTrouble changes how the Bot API misbehaves (nil: it does not): trouble
// may answer a call (but getUpdates) with an error status and body instead,
// or hang it.
func (f *Server) SetTrouble(trouble func(method string, p url.Values) (status int, body string, hang bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trouble = trouble
}

// Release ends every call trouble hangs, now and after (the test's end does
// too).
func (f *Server) Release() { f.release() }

// UpdatesLeft is how many updates the client has not confirmed yet.
func (f *Server) UpdatesLeft() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.updates)
}

// Push queues an update; its update_id is assigned unless it has one.
func (f *Server) Push(u map[string]any) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := u["update_id"].(int)
	if !ok {
		id = f.nextUpd
		f.nextUpd++
		u["update_id"] = id
	}
	raw, err := json.Marshal(u)
	if err != nil {
		f.t.Fatalf("marshal update: %v", err)
	}
	// An update Telegram could not send proves nothing: the test is wrong.
	if err := botapispec.CheckObject("Update", raw); err != nil {
		f.t.Errorf("fake Bot API: an update the Bot API does not describe: %v", err)
	}
	var m struct {
		Message *struct {
			ID   int   `json:"message_id"`
			Date int64 `json:"date"`
			Chat struct {
				ID int64 `json:"id"`
			} `json:"chat"`
		} `json:"message"`
	}
	if json.Unmarshal(raw, &m) == nil && m.Message != nil {
		f.sent[chatMessage{chat: m.Message.Chat.ID, msg: m.Message.ID}] = time.Unix(m.Message.Date, 0)
	}
	var tree any
	_ = json.Unmarshal(raw, &tree)
	f.learnUsers(tree)
	f.updates = append(f.updates, pendingUpdate{id: id, raw: raw})
	f.notifyLocked()
	return id
}

// learnUsers keeps the username of every User object in v, an update: a
// user is who Telegram last said they are.
func (f *Server) learnUsers(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, isUser := v["is_bot"].(bool); isUser {
			if id, ok := v["id"].(float64); ok {
				name, _ := v["username"].(string)
				f.usernames[int64(id)] = name
			}
		}
		for _, e := range v {
			f.learnUsers(e)
		}
	case []any:
		for _, e := range v {
			f.learnUsers(e)
		}
	}
}

// SetUsername gives user the username name ("" for none), as the user
// would in Telegram's settings: getChatMember says it from then on.
func (f *Server) SetUsername(user int64, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usernames[user] = name
}

// Fail makes the next call of method fail as Telegram would.
func (f *Server) Fail(method string, code int, desc string, retryAfter int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails[method] = append(f.fails[method], apiFailure{code, desc, retryAfter})
}

func (f *Server) SetAdmins(chat int64, ids ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var list []map[string]any
	for _, id := range ids {
		list = append(list, map[string]any{"user": map[string]any{"id": id, "is_bot": false, "first_name": "Admin"}, "status": "administrator"})
	}
	f.admins[chat] = list
}

// SetOwner makes user the owner of chat (ChatMemberOwner: status "creator"),
// whose presence in the chat is hidden when anonymous (getChatAdministrators
// still names them); user 0 lists no owner. The administrators SetAdmins set
// stay.
func (f *Server) SetOwner(chat, user int64, anonymous bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if user == 0 {
		delete(f.owners, chat)
		return
	}
	o := map[string]any{"user": map[string]any{"id": user, "is_bot": false, "first_name": "Owner"}, "status": "creator", "is_anonymous": anonymous}
	if raw, _ := json.Marshal(o); botapispec.CheckObject("ChatMemberOwner", raw) != nil {
		f.t.Errorf("fake Bot API: an owner the Bot API does not describe: %v", botapispec.CheckObject("ChatMemberOwner", raw))
	}
	f.owners[chat] = o
}

// AdminsFail makes every getChatAdministrators of chat fail, or work again.
func (f *Server) AdminsFail(chat int64, fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adminsDown[chat] = fail
}

// HoldAdmins makes getChatAdministrators of chat hang until release is called
// (the test's end calls it too).
func (f *Server) HoldAdmins(chat int64) (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.adminsHeld[chat] = ch
	f.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.adminsHeld, chat)
			f.mu.Unlock()
			close(ch)
		})
	}
	f.t.Cleanup(release)
	return release
}

// CallsOf returns the calls of method so far.
func (f *Server) CallsOf(method string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (f *Server) Last() Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		f.t.Fatal("no call to the Bot API")
	}
	return f.calls[len(f.calls)-1]
}

// WaitFor returns the n-th call (from 1) of method that matches, once it came;
// it fails the test after testsync.Patience.
func (f *Server) WaitFor(method string, n int, match func(Call) bool) Call {
	f.t.Helper()
	guard := time.NewTimer(testsync.Patience)
	defer guard.Stop()
	for {
		f.mu.Lock()
		seen := 0
		for _, c := range f.calls {
			if c.Method == method && (match == nil || match(c)) {
				seen++
				if seen == n {
					f.mu.Unlock()
					return c
				}
			}
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-guard.C:
			f.t.Fatalf("no call %d to %s came; calls: %v", n, method, f.Methods())
		}
	}
}

func (f *Server) Methods() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Method)
	}
	return out
}

// Count is the number of calls of method that match so far.
func (f *Server) Count(method string, match func(Call) bool) int {
	n := 0
	for _, c := range f.CallsOf(method) {
		if match == nil || match(c) {
			n++
		}
	}
	return n
}

// fileFields names the fields of a multipart request sent as files.
func fileFields(r *http.Request) []string {
	if r.MultipartForm == nil {
		return nil
	}
	var out []string
	for k := range r.MultipartForm.File {
		out = append(out, k)
	}
	return out
}

// SetMember makes getChatMember answer status and rights (can_… → true) for
// user in chat, as ChatMemberAdministrator and ChatMemberOwner look.
func (f *Server) SetMember(chat, user int64, status string, rights ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := memberJSON(status, rights...)
	if f.members[chat] == nil {
		f.members[chat] = map[int64]map[string]any{}
	}
	f.members[chat][user] = m
}

// SetBanned makes user in chat ChatMemberBanned until until (Unix time, 0
// for good), as getChatMember answers it, whatever ban gave it.
func (f *Server) SetBanned(chat, user, until int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.members[chat] == nil {
		f.members[chat] = map[int64]map[string]any{}
	}
	f.members[chat][user] = map[string]any{"status": "kicked", "until_date": until}
}

// memberChange has a ban, an unban or a restriction change what
// getChatMember answers, as Telegram does: a ban makes the member
// ChatMemberBanned (until_date, forever when under 30 seconds or over 366
// days away); an unban makes a banned one, or any one without
// only_if_banned, ChatMemberLeft; a restriction makes the member
// ChatMemberRestricted with those permissions (is_member as before, so a
// banned member restricted is no longer banned), or lifts the restrictions
// when every permission is true. The members of a chat that no test set
// stay as getChatMember describes them, but for the users a call changed.
func (f *Server) memberChange(method string, p url.Values) {
	chat, _ := strconv.ParseInt(p.Get("chat_id"), 10, 64)
	user, _ := strconv.ParseInt(p.Get("user_id"), 10, 64)
	if user == 0 {
		return // a chat writing as itself
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.members[chat] == nil {
		f.members[chat] = map[int64]map[string]any{}
	}
	now := f.members[chat][user]
	status, _ := now["status"].(string)
	if status == "" {
		status = "member"
	}
	in := status == "member" || status == "administrator" || status == "creator" || (status == "restricted" && now["is_member"] == true)
	until := func() int64 {
		n, _ := strconv.ParseInt(p.Get("until_date"), 10, 64)
		if d := time.Unix(n, 0).Sub(f.nowLocked()); d < 30*time.Second || d > 366*24*time.Hour {
			return 0
		}
		return n
	}
	switch method {
	case "banChatMember":
		f.members[chat][user] = map[string]any{"status": "kicked", "until_date": until()}
	case "unbanChatMember":
		if status == "kicked" || (p.Get("only_if_banned") != "true" && in) {
			f.members[chat][user] = map[string]any{"status": "left"}
		}
	case "restrictChatMember":
		var perms map[string]bool
		_ = json.Unmarshal([]byte(p.Get("permissions")), &perms)
		all := true
		for _, k := range chatPermissions {
			all = all && perms[k]
		}
		switch {
		case all && in:
			f.members[chat][user] = map[string]any{"status": "member"}
		case all:
			f.members[chat][user] = map[string]any{"status": "left"}
		default:
			m := memberJSON("restricted")
			for k, v := range perms {
				m[k] = v
			}
			m["is_member"], m["until_date"] = in, until()
			f.members[chat][user] = m
		}
	}
}

// Member is what getChatMember answers now of user in chat: its status
// and, for a restricted or banned member, its fields.
func (f *Server) Member(chat, user int64) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]any{"status": "member"}
	for k, v := range f.members[chat][user] {
		out[k] = v
	}
	return out
}

// memberJSON is a ChatMember of status with rights (can_… → true).
func memberJSON(status string, rights ...string) map[string]any {
	m := map[string]any{"status": status}
	switch status {
	case "kicked":
		m["until_date"] = 0 // ChatMemberBanned: banned for good
	case "restricted":
		// ChatMemberRestricted: a member who may do only what rights names
		m["is_member"], m["until_date"] = true, 0
		for _, r := range []string{"can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
			"can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages", "can_add_web_page_previews",
			"can_react_to_messages", "can_edit_tag", "can_change_info", "can_invite_users", "can_pin_messages", "can_manage_topics"} {
			m[r] = false
		}
		for _, r := range rights {
			m[r] = true
		}
	}
	if status == "administrator" {
		for _, r := range []string{"can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
			"can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
			"can_edit_stories", "can_delete_stories"} {
			m[r] = false
		}
		for _, r := range rights {
			m[r] = true
		}
	}
	return m
}

// tooLong says why Telegram refuses a text or a caption for its length, as the
// Bot API describes the limits: characters after entities parsing, which
// Telegram counts in UTF-16 code units, as it counts entities' offsets.
func tooLong(method string, p url.Values) string {
	switch {
	case (method == "sendMessage" || method == "editMessageText") && parsedLen(p.Get("text"), p.Get("parse_mode")) > 4096:
		return "message is too long"
	case p.Has("caption") && parsedLen(p.Get("caption"), p.Get("parse_mode")) > 1024:
		return "message caption is too long"
	case method == "answerCallbackQuery" && parsedLen(p.Get("text"), "") > 200:
		return "message is too long"
	}
	return ""
}

// badWebhook says why Telegram refuses setWebhook's url: the Bot API wants
// "HTTPS URL to send updates to" (an empty one removes the webhook). Like
// Telegram's server, it reads an address without a scheme as https.
func badWebhook(method string, p url.Values) string {
	if method != "setWebhook" || p.Get("url") == "" {
		return ""
	}
	scheme, _, found := strings.Cut(p.Get("url"), "://")
	if found && !strings.EqualFold(scheme, "https") {
		return "bad webhook: An HTTPS URL must be provided for webhook"
	}
	return ""
}

// htmlTags are the tags of the Bot API's HTML style ("Formatting options").
var htmlTags = map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true, "a": true, "tg-emoji": true,
	"code": true, "pre": true, "blockquote": true}

// badHTML says why Telegram cannot parse a text or a caption sent with
// parse_mode HTML ("" when it can), as the Bot API describes the style: only
// its tags, each closed in order, and every <, > and & that is not part of a
// tag or an entity written as one; the named entities are &lt;, &gt;, &amp;
// and &quot;, and numeric ones are all allowed.
func badHTML(p url.Values) string {
	if !strings.EqualFold(p.Get("parse_mode"), "HTML") {
		return ""
	}
	for _, field := range []string{"text", "caption"} {
		if desc := htmlError(p.Get(field)); desc != "" {
			return "can't parse entities: " + desc
		}
	}
	return ""
}

func htmlError(s string) string {
	var open []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '>':
			return fmt.Sprintf("unexpected > at byte offset %d", i)
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				return fmt.Sprintf("unclosed start tag at byte offset %d", i)
			}
			tag := s[i+1 : i+j]
			if name, closing := strings.CutPrefix(tag, "/"); closing {
				name = strings.ToLower(strings.TrimSpace(name))
				if len(open) == 0 || open[len(open)-1] != name {
					return fmt.Sprintf("unmatched end tag at byte offset %d, found \"</%s>\"", i, name)
				}
				open = open[:len(open)-1]
			} else {
				name, _, _ := strings.Cut(tag, " ")
				name = strings.ToLower(name)
				if !htmlTags[name] {
					return fmt.Sprintf("unsupported start tag \"%s\" at byte offset %d", name, i)
				}
				open = append(open, name)
			}
			i += j
		case '&':
			j := strings.IndexByte(s[i:], ';')
			if j < 0 || !htmlEntity(s[i+1:i+j]) {
				return fmt.Sprintf("& not part of an entity at byte offset %d", i)
			}
			i += j
		}
	}
	if len(open) > 0 {
		return fmt.Sprintf("can't find end tag corresponding to start tag \"%s\"", open[len(open)-1])
	}
	return ""
}

// htmlEntity reports whether &name; is an entity of the Bot API's HTML style.
func htmlEntity(name string) bool {
	switch name {
	case "lt", "gt", "amp", "quot":
		return true
	}
	digits, ok := strings.CutPrefix(name, "#")
	if !ok || digits == "" {
		return false
	}
	base := 10
	if hex, ok := strings.CutPrefix(strings.ToLower(digits), "x"); ok {
		digits, base = hex, 16
	}
	_, err := strconv.ParseUint(digits, base, 32)
	return digits != "" && err == nil
}

// parsedLen is the length of text once Telegram parsed it with mode (HTML or
// none), in UTF-16 code units.
func parsedLen(text, mode string) int {
	if strings.EqualFold(mode, "HTML") {
		var b strings.Builder
		for {
			i := strings.IndexByte(text, '<')
			if i < 0 {
				b.WriteString(text)
				break
			}
			b.WriteString(text[:i])
			j := strings.IndexByte(text[i:], '>')
			if j < 0 {
				break
			}
			text = text[i+j+1:]
		}
		text = html.UnescapeString(b.String())
	}
	return len(utf16.Encode([]rune(text)))
}
