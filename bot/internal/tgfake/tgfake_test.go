package tgfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestRefusesWhatTheBotAPIDoesNot: a call the Bot API's description does not
// allow is answered 400, as Telegram would, and fails the test that made it;
// another bot's token is answered 401.
func TestRefusesWhatTheBotAPIDoesNot(t *testing.T) {
	for _, tt := range []struct {
		name, token, method string
		params              url.Values
		status              int
		want                string // the report; "" is none
	}{
		{"allowed", Token, "deleteMessage", url.Values{"chat_id": {"-100123"}, "message_id": {"42"}}, 200, ""},
		{"unknown method", Token, "removeMessage", url.Values{"chat_id": {"-100123"}}, 400, `unknown method "removeMessage"`},
		{"unknown field", Token, "deleteMessage", url.Values{"chat_id": {"1"}, "message_id": {"2"}, "reason": {"spam"}}, 400, `unknown field "reason"`},
		{"wrong type", Token, "deleteMessage", url.Values{"chat_id": {"-100123"}, "message_id": {"x"}}, 400, "is not Integer"},
		{"missing required field", Token, "deleteMessage", url.Values{"chat_id": {"-100123"}}, 400, `missing required field "message_id"`},
		{"another bot's token", "1:other", "deleteMessage", url.Values{"chat_id": {"-100123"}, "message_id": {"42"}}, 401, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &testsync.Reports{TB: t}
			f := New(rec)
			resp, err := http.PostForm(f.HTTP.URL+"/bot"+tt.token+"/"+tt.method, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			rec.Expect(t, tt.want)
		})
	}
}

// TestRefusesAnUpdateTelegramCouldNotSend: an update the test pushes that the
// Bot API does not describe fails the test that pushed it.
func TestRefusesAnUpdateTelegramCouldNotSend(t *testing.T) {
	rec := &testsync.Reports{TB: t}
	f := New(rec)
	f.Push(map[string]any{"message": map[string]any{"message_id": 2, "chat": map[string]any{"id": -1, "type": "supergroup"}}})
	rec.Expect(t, `lacks required field "date"`)
}

// TestTrouble: a trouble answers the calls it picks with its status and body,
// or holds them until Release; the others, and getUpdates, are answered.
func TestTrouble(t *testing.T) {
	f := New(t)
	f.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		switch p.Get("chat_id") {
		case "-1":
			return http.StatusTooManyRequests, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`, false
		case "-2":
			return 0, "", true
		}
		return 0, "", false
	})
	call := func(method, chat string) int {
		t.Helper()
		p := url.Values{"chat_id": {chat}, "message_id": {"1"}}
		if method == "getUpdates" {
			p = url.Values{"timeout": {"0"}}
		}
		resp, err := http.PostForm(f.HTTP.URL+"/bot"+Token+"/"+method, p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call("deleteMessage", "-1"); got != http.StatusTooManyRequests {
		t.Errorf("troubled call: %d, want 429", got)
	}
	if got := call("deleteMessage", "-3"); got != http.StatusOK {
		t.Errorf("untroubled call: %d, want 200", got)
	}
	if got := call("getUpdates", ""); got != http.StatusOK {
		t.Errorf("getUpdates: %d, want 200", got)
	}
	held := make(chan int, 1)
	go func() {
		resp, err := http.PostForm(f.HTTP.URL+"/bot"+Token+"/deleteMessage", url.Values{"chat_id": {"-2"}, "message_id": {"1"}})
		if err != nil {
			held <- 0
			return
		}
		resp.Body.Close()
		held <- resp.StatusCode
	}()
	f.WaitFor("deleteMessage", 3, nil)
	select {
	case got := <-held:
		t.Fatalf("held call answered %d before Release", got)
	default:
	}
	f.Release()
	if got := <-held; got != http.StatusBadGateway {
		t.Errorf("held call after Release: %d, want 502", got)
	}
}

// TestMigrated: once a basic group became a supergroup, a call about its old
// id (as chat_id, or as a command scope's chat) is refused with 400 and the
// new id in parameters.migrate_to_chat_id; the new id, and other chats, are
// answered.
func TestMigrated(t *testing.T) {
	f := New(t)
	f.Migrate(-4002, -1004002)
	call := func(method string, p url.Values) (int, string) {
		t.Helper()
		resp, err := http.PostForm(f.HTTP.URL+"/bot"+Token+"/"+method, p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	const moved = `"parameters":{"migrate_to_chat_id":-1004002}`
	for _, c := range []struct {
		method string
		p      url.Values
	}{
		{"getChat", url.Values{"chat_id": {"-4002"}}},
		{"sendMessage", url.Values{"chat_id": {"-4002"}, "text": {"hi"}}},
		{"setMyCommands", url.Values{"commands": {`[{"command":"status","description":"status"}]`}, "scope": {`{"type":"chat","chat_id":-4002}`}}},
	} {
		if status, body := call(c.method, c.p); status != 400 || !strings.Contains(body, moved) || !strings.Contains(body, "upgraded to a supergroup") {
			t.Errorf("%s about the old id: %d %s", c.method, status, body)
		}
	}
	for _, chat := range []string{"-1004002", "-4003"} {
		if status, body := call("getChat", url.Values{"chat_id": {chat}}); status != 200 {
			t.Errorf("getChat %s: %d %s", chat, status, body)
		}
	}
}

// TestDeleteWindow: a message of an update pushed can be deleted until it is
// 48 hours old on the fake's clock; after, deleteMessage is refused as
// Telegram refuses it. The clock is stepped, not waited for.
func TestDeleteWindow(t *testing.T) {
	f := New(t)
	clock := stepclock.New(time.Unix(1_700_000_000, 0))
	f.SetClock(clock.Now)
	chat := map[string]any{"id": -1001234567890, "type": "supergroup", "title": "Fans"}
	from := map[string]any{"id": 7, "is_bot": false, "first_name": "Bob"}
	now := clock.Now()
	for id, sent := range map[int]time.Time{10: now.Add(-time.Hour), 11: now} {
		f.Push(map[string]any{"message": map[string]any{"message_id": id, "date": sent.Unix(), "chat": chat, "from": from, "text": "hi"}})
	}
	del := func(msg string, status int) {
		t.Helper()
		resp, err := http.PostForm(f.HTTP.URL+"/bot"+Token+"/deleteMessage", url.Values{"chat_id": {"-1001234567890"}, "message_id": {msg}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != status || status == 400 && !strings.Contains(string(body), "message can't be deleted") {
			t.Errorf("deleteMessage %s at %s: %d %s, want %d", msg, clock.Now().Sub(now), resp.StatusCode, body, status)
		}
	}
	clock.Step(DeleteWindow - time.Hour - time.Second)
	del("10", 200)
	del("11", 200)
	clock.Step(time.Second)
	del("10", 400)
	del("11", 200)
	clock.Step(time.Hour)
	del("11", 400)
	del("12", 200) // not one of the updates: the fake does not know its age
}

// TestWebhookWantsHTTPS: setWebhook with an address that is not https is
// refused as Telegram refuses it; an https one, one without a scheme (Telegram
// reads it as https) and an empty one (no webhook) are taken.
func TestWebhookWantsHTTPS(t *testing.T) {
	for _, tt := range []struct {
		url    string
		status int
		want   string
	}{
		{"http://vigie.example/webhooks/telegram", 400, `{"description":"Bad Request: bad webhook: An HTTPS URL must be provided for webhook","error_code":400,"ok":false}`},
		{"ftp://vigie.example/webhooks/telegram", 400, `{"description":"Bad Request: bad webhook: An HTTPS URL must be provided for webhook","error_code":400,"ok":false}`},
		{"https://vigie.example/webhooks/telegram", 200, `{"ok":true,"result":true}`},
		{"HTTPS://vigie.example/webhooks/telegram", 200, `{"ok":true,"result":true}`},
		{"vigie.example/webhooks/telegram", 200, `{"ok":true,"result":true}`},
		{"", 200, `{"ok":true,"result":true}`},
	} {
		t.Run(tt.url, func(t *testing.T) {
			f := New(t)
			resp, err := http.PostForm(f.HTTP.URL+"/bot"+Token+"/setWebhook", url.Values{"url": {tt.url}})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || strings.TrimSpace(string(body)) != tt.want {
				t.Errorf("answered %d %s\nwant %d %s", resp.StatusCode, body, tt.status, tt.want)
			}
		})
	}
}

// TestNewerPollEndsTheHeldOne: as the Bot API does, a getUpdates that waits
// ends the long poll already waiting with 409 "terminated by other getUpdates
// request" (the last poller wins), and is itself held; one that does not wait
// (timeout 0) ends nothing.
func TestNewerPollEndsTheHeldOne(t *testing.T) {
	f := New(t)
	type answer struct {
		status int
		body   string
	}
	poll := func(timeout string) <-chan answer {
		done := make(chan answer, 1)
		go func() {
			resp, err := http.PostForm(f.HTTP.URL+"/bot"+Token+"/getUpdates", url.Values{"timeout": {timeout}})
			if err != nil {
				done <- answer{body: err.Error()}
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			done <- answer{resp.StatusCode, string(body)}
		}()
		return done
	}
	held := func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.held != nil }

	first := poll("30")
	testsync.Eventually(t, "the first poll held", held)
	if a := <-poll("0"); a.status != http.StatusOK {
		t.Errorf("getUpdates without a wait: %d %s, want 200", a.status, a.body)
	}
	second := poll("30")
	a := <-first
	if a.status != http.StatusConflict || !strings.Contains(a.body, "terminated by other getUpdates request") {
		t.Errorf("the first long poll: %d %s, want the 409", a.status, a.body)
	}
	if f.Conflicts() != 1 {
		t.Errorf("conflicts %d, want 1", f.Conflicts())
	}
	f.Push(map[string]any{"message": map[string]any{"message_id": 2, "date": 1, "chat": map[string]any{"id": -1, "type": "supergroup"}}})
	if a := <-second; a.status != http.StatusOK || !strings.Contains(a.body, `"message_id":2`) {
		t.Errorf("the second long poll: %d %s, want the update", a.status, a.body)
	}
}

// TestRefusesHTMLTelegramCannotParse: a text or a caption sent with
// parse_mode HTML that the Bot API's HTML style does not allow is refused with
// "can't parse entities", as Telegram refuses it, and fails the test that
// sent it; escaped text, the style's tags and plain text with no parse_mode
// are taken.
func TestRefusesHTMLTelegramCannotParse(t *testing.T) {
	for _, tt := range []struct {
		text, mode string
		want       string // the report; "" is none
	}{
		{`<b>Case 1</b> &lt;b&gt; Tom &amp; Jerry &quot;hi&quot; &#39;x&#x27; <a href="https://t.me/c/1/2">open</a>`, "HTML", ""},
		{`<blockquote>a <i>b</i></blockquote><tg-spoiler>c</tg-spoiler>`, "HTML", ""},
		{`<b>bold</b> Tom & Jerry <br>`, "", ""},
		{`a <br> b`, "HTML", `unsupported start tag "br"`},
		{`Tom & Jerry`, "HTML", "& not part of an entity"},
		{`&nbsp;`, "HTML", "& not part of an entity"},
		{`<b>bold`, "HTML", `can't find end tag corresponding to start tag "b"`},
		{`<b><i>x</b></i>`, "HTML", "unmatched end tag"},
		{`1 < 2`, "HTML", "unclosed start tag"},
		{`2 > 1`, "HTML", "unexpected >"},
	} {
		t.Run(tt.text, func(t *testing.T) {
			rec := &testsync.Reports{TB: t}
			f := New(rec)
			params := url.Values{"chat_id": {"-100123"}, "text": {tt.text}}
			if tt.mode != "" {
				params.Set("parse_mode", tt.mode)
			}
			resp, err := http.PostForm(f.HTTP.URL+"/bot"+Token+"/sendMessage", params)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if ok := resp.StatusCode == http.StatusOK; ok != (tt.want == "") {
				t.Errorf("status %d %s", resp.StatusCode, body)
			}
			var answer struct{ Description string }
			_ = json.Unmarshal(body, &answer)
			if tt.want != "" && !strings.Contains(answer.Description, "Bad Request: can't parse entities: "+tt.want) {
				t.Errorf("answer %s, want %q", body, tt.want)
			}
			rec.Expect(t, tt.want)
		})
	}
}

// TestLimitGroups: with LimitGroups(2), a third sendMessage to a group in
// a minute is answered 429 with the seconds until the first leaves the
// minute; a private chat and another group are not held; a minute later
// the group takes messages again.
func TestLimitGroups(t *testing.T) {
	f := New(t)
	now := time.Unix(1_800_000_000, 0)
	f.SetClock(func() time.Time { return now })
	f.LimitGroups(2)
	send := func(chat string) (int, string) {
		resp, err := http.PostForm(f.HTTP.URL+"/bot"+Token+"/sendMessage", url.Values{"chat_id": {chat}, "text": {"hi"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for range 2 {
		if code, body := send("-100"); code != http.StatusOK {
			t.Fatalf("a message within the limit: %d %s", code, body)
		}
		now = now.Add(10 * time.Second)
	}
	code, body := send("-100")
	if code != http.StatusTooManyRequests || !strings.Contains(body, `"retry_after":40`) || !strings.Contains(body, "Too Many Requests: retry after 40") {
		t.Errorf("the third message in a minute: %d %s, want 429 retry after 40", code, body)
	}
	if c := f.Last(); c.Failed != http.StatusTooManyRequests || c.RetryAfter != 40 {
		t.Errorf("the call refused is recorded as %d, retry after %d", c.Failed, c.RetryAfter)
	}
	if code, _ := send("-200"); code != http.StatusOK {
		t.Errorf("another group held: %d", code)
	}
	if code, _ := send("42"); code != http.StatusOK {
		t.Errorf("a private chat held: %d", code)
	}
	now = now.Add(40 * time.Second)
	if code, body := send("-100"); code != http.StatusOK {
		t.Errorf("once the first left the minute: %d %s", code, body)
	}
}

// TestCutPoll: the getUpdates CutPoll cuts gives a body cut short, and the
// same updates are given again to the next with the same offset.
func TestCutPoll(t *testing.T) {
	f := New(t)
	id := f.Push(map[string]any{"message": map[string]any{"message_id": 2, "date": 1, "chat": map[string]any{"id": -1, "type": "supergroup"}}})
	f.CutPoll()
	poll := func() ([]byte, error) {
		resp, err := http.PostForm(f.HTTP.URL+"/bot"+Token+"/getUpdates", url.Values{"offset": {strconv.Itoa(id)}, "timeout": {"0"}})
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	if body, err := poll(); err == nil {
		t.Errorf("the cut poll read whole: %s", body)
	}
	body, err := poll()
	if err != nil || !strings.Contains(string(body), `"message_id":2`) {
		t.Errorf("the next poll: %s, %v; want the update again", body, err)
	}
	if f.UpdatesLeft() != 1 {
		t.Errorf("%d updates left, want the one not confirmed", f.UpdatesLeft())
	}
}
