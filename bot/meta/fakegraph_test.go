package meta_test

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
)

// fakeGraph stands in for graph.facebook.com, answering the calls vigie makes in
// the shapes Meta documents, recording them, and failing on demand.
type fakeGraph struct {
	srv     *httptest.Server
	version string
	token   string

	mu       sync.Mutex
	calls    []graphCall
	failures map[string][]graphFailure // by "METHOD /path" without the version
	// gate, when set, holds every call (once recorded) until it is closed.
	gate chan struct{}
	// expired: the page token expired, every call is refused as Meta does.
	expired bool
	// failing: Graph is in trouble, every call answers 500 as Meta does.
	failing bool
	// secret, when set, is the app's secret: a call whose appsecret_proof is
	// not the token's HMAC with it is refused as Meta does (code 100).
	secret string
	// regain, when set, is the page's rate limit: every call is refused
	// with code 32, and the usage header says access comes back in regain
	// minutes.
	regain int
	// pageQuota, when set, is how many calls the Page's token may make in
	// pageWindow: every answer says the share used in X-Page-Usage, as
	// Meta does near the Page's limit, and a call past it is refused
	// (code 32, X-Page-Usage at 100%, no word of when access comes back)
	// until the window, which starts at the first call, is over.
	pageQuota   int
	pageWindow  time.Duration
	windowStart time.Time
	windowCalls int
	// pageRefused counts the calls refused past pageQuota.
	pageRefused int
	// hid counts the hides carried out, by comment id.
	hid map[string]int
	// mentions are the comments that @mention the account on another
	// account's media (those read through mentioned_comment): Meta lets the
	// account answer them through its mentions edge, and refuses to hide,
	// delete or reply to them as the account's own comments, or to answer
	// them privately.
	mentions map[string]bool
	// posts are visitors' posts on the Page (Page Post nodes): the Page may
	// hide or show one (POST /{page-post-id} is_hidden, and nothing else: the
	// text is the visitor's), delete it (DELETE /{page-post-id}), comment
	// on it, and answer its author once privately (a Private Reply whose
	// recipient is the post_id). A post is no comment: a private reply
	// naming it as comment_id, or Instagram's hide or replies, is refused,
	// as is a post_id Graph does not know.
	posts map[string]bool
	// gone are the comments and posts deleted through Graph: any later call
	// on one is answered as Meta does for an object that no longer exists
	// (code 100, subcode 33).
	gone map[string]bool
	// replies are the comments the Page wrote under a comment or post
	// (POST /{id}/comments, /{id}/replies), which GET on the same edge lists.
	replies map[string][]fakeReply
	// privately are the comments and posts answered with a Private Reply:
	// Meta allows one, and refuses the next with code 10900.
	privately map[string]bool
	// sent are the messages the Page or the account sent through the Send
	// API (POST /{id}/messages to a recipient.id), by recipient: the
	// conversation with them, which GET /{id}/conversations?user_id= reads,
	// the newest 20 messages only, as Meta shows them.
	sent map[string][]fakeReply
	// drop are the calls ("METHOD /path") whose next one is carried out, and
	// then left without an answer: the connection is closed, as when the
	// answer is lost on the way (a timeout, a reset).
	drop map[string]int
	// expiredTokens are page tokens Meta no longer takes (renew): a call
	// carrying one is refused with code 190.
	expiredTokens map[string]bool
	// now stamps the replies the Page writes; time.Now when nil.
	now func() time.Time
	// blocked are the people blocked from the Page (POST /{page-id}/blocked
	// adds them, DELETE removes them, and so does a CM in Meta's tools:
	// unblockByHand), which GET /{page-id}/blocked lists.
	blocked []string
	// blockedReads counts the blocked list's pages answered, not
	// narrowed to one person.
	blockedReads int
	// hideFromList is left out of the blocked list when it is not
	// narrowed to one person (a list Meta gives late).
	hideFromList string
	// held are the calls ("METHOD /path") that wait, once recorded, until
	// their channel is closed: Graph slow on one kind of call.
	held map[string]chan struct{}
	// unsubscribed: the app is no longer subscribed to the Page's webhooks
	// (removed in the Page's settings, or by Meta): GET
	// /{page-id}/subscribed_apps, which a page token answers with its own
	// app's subscription, lists none.
	unsubscribed bool
	// others are the tokens of other Pages the app is given (a CM who looks
	// after several Pages), by token: the id GET /me answers with one. Meta
	// takes them, for their own Page: a call on this Page's comments with
	// one is answered as for an object the token may not see.
	others map[string]string
}

// otherPagesToken makes a page token of the Page page, another than this
// one, and returns it.
func (f *fakeGraph) otherPagesToken(page string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.others == nil {
		f.others = map[string]string{}
	}
	token := "EAAG-page-" + page
	f.others[token] = page
	return token
}

// unsubscribe makes the app unsubscribed from the Page's webhooks, or, with
// false, subscribed again.
func (f *fakeGraph) unsubscribe(unsubscribed bool) {
	f.mu.Lock()
	f.unsubscribed = unsubscribed
	f.mu.Unlock()
}

// subscriptionChecks counts the reads of the Page's subscribed apps.
func (f *fakeGraph) subscriptionChecks() int {
	n := 0
	for _, c := range f.Calls() {
		if c.Method == http.MethodGet && strings.HasSuffix(c.Path, "/subscribed_apps") {
			n++
		}
	}
	return n
}

// holdCalls makes the calls to method and path wait until the returned
// function is called (at the latest when the test ends).
func (f *fakeGraph) holdCalls(t testing.TB, method, path string) (release func()) {
	gate := make(chan struct{})
	f.mu.Lock()
	if f.held == nil {
		f.held = map[string]chan struct{}{}
	}
	f.held[method+" "+path] = gate
	f.mu.Unlock()
	release = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	return release
}

// fakeReply is a comment the Page (From empty), or someone else, wrote
// under another.
type fakeReply struct {
	ID, Message, From string
	At                time.Time
}

// pageAccount is who the fake's token writes as: the Page, or on Instagram
// its account.
func (f *fakeGraph) pageAccount(instagram bool) string {
	if instagram {
		return igID
	}
	return pageID
}

// dropAnswerNext makes the next call to method and path be carried out,
// then lose its answer: the connection is closed before any is written.
func (f *fakeGraph) dropAnswerNext(method, path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop[method+" "+path]++
}

// sentTo returns the messages sent to the user id, oldest first.
func (f *fakeGraph) sentTo(id string) []fakeReply {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeReply(nil), f.sent[id]...)
}

// repliesUnder returns the Page's replies under id, oldest first.
func (f *fakeGraph) repliesUnder(id string) []fakeReply {
	var own []fakeReply
	for _, r := range f.allRepliesUnder(id) {
		if r.From == "" {
			own = append(own, r)
		}
	}
	return own
}

// allRepliesUnder returns everyone's replies under id, oldest first.
func (f *fakeGraph) allRepliesUnder(id string) []fakeReply {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeReply(nil), f.replies[id]...)
}

type graphCall struct {
	Method string
	Path   string // without the version prefix: /{comment-id}/comments
	Params url.Values
	JSON   map[string]any
	Auth   string
}

type graphFailure struct {
	status  int
	body    string
	headers map[string]string
}

func newFakeGraph(t testing.TB) *fakeGraph {
	t.Helper()
	f := &fakeGraph{version: "v25.0", token: "EAAtestpagetoken", failures: map[string][]graphFailure{}, mentions: map[string]bool{}, posts: map[string]bool{},
		gone: map[string]bool{}, replies: map[string][]fakeReply{}, privately: map[string]bool{}, drop: map[string]int{},
		sent: map[string][]fakeReply{}, blocked: []string{}, hid: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the base vigie is configured with, version included (META_GRAPH_URL).
func (f *fakeGraph) URL() string { return f.srv.URL + "/" + f.version }

// visitorPost makes id a visitor's post on the Page, as Graph knows it.
func (f *fakeGraph) visitorPost(id string) {
	f.mu.Lock()
	f.posts[id] = true
	f.mu.Unlock()
}

// failNext makes the next call to method and path answer status with body.
func (f *fakeGraph) failNext(method, path string, status int, body string, headers map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := method + " " + path
	f.failures[k] = append(f.failures[k], graphFailure{status, body, headers})
}

// expire makes every call answer as Meta does once the page token expired
// (code 190, subcode 463), until expire(false).
func (f *fakeGraph) expire(expired bool) {
	f.mu.Lock()
	f.expired = expired
	f.mu.Unlock()
}

// limit makes every call answer as Meta does once the page's request limit
// is reached (code 32), with X-Business-Use-Case-Usage saying that access
// comes back in minutes, until limit(0).
func (f *fakeGraph) limit(minutes int) {
	f.mu.Lock()
	f.regain = minutes
	f.mu.Unlock()
}

// quota limits the Page's token to calls calls each window (pageQuota).
func (f *fakeGraph) quota(calls int, window time.Duration) {
	f.mu.Lock()
	f.pageQuota, f.pageWindow, f.windowStart, f.windowCalls = calls, window, time.Time{}, 0
	f.mu.Unlock()
}

// hidesDone is how many times each comment was hidden by a call Graph
// carried out.
func (f *fakeGraph) hidesDone() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.hid)
}

// quotaRefused is how many calls were refused past the Page's quota.
func (f *fakeGraph) quotaRefused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pageRefused
}

// pageUsage counts a call against the Page's quota, on the fake's clock,
// and says the X-Page-Usage it is answered with ("" without a quota), and
// whether it is refused.
func (f *fakeGraph) pageUsage() (header string, refused bool) {
	if f.pageQuota == 0 {
		return "", false
	}
	now := time.Now()
	if f.now != nil {
		now = f.now()
	}
	if f.windowStart.IsZero() || now.Sub(f.windowStart) >= f.pageWindow {
		f.windowStart, f.windowCalls = now, 0
	}
	f.windowCalls++
	if f.windowCalls > f.pageQuota {
		f.pageRefused++
		return `{"call_count":100,"total_cputime":9,"total_time":11}`, true
	}
	return fmt.Sprintf(`{"call_count":%d,"total_cputime":9,"total_time":11}`, f.windowCalls*100/f.pageQuota), false
}

// fail makes every call answer 500, as Graph does when it is in trouble
// (code 2, "Service temporarily unavailable"), until fail(false).
func (f *fakeGraph) fail(failing bool) {
	f.mu.Lock()
	f.failing = failing
	f.mu.Unlock()
}

// resetSecret makes secret the app's secret, as a reset in the App
// Dashboard does: calls proved with another are refused from then on.
func (f *fakeGraph) resetSecret(secret string) {
	f.mu.Lock()
	f.secret = secret
	f.mu.Unlock()
}

// hold makes the calls wait until the returned function is called.
func (f *fakeGraph) hold() (release func()) {
	gate := make(chan struct{})
	f.mu.Lock()
	f.gate = gate
	f.mu.Unlock()
	return func() { close(gate) }
}

func (f *fakeGraph) Calls() []graphCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]graphCall(nil), f.calls...)
}

func graphErrorJSON(code, subcode int, typ, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "code": code, "error_subcode": subcode, "fbtrace_id": "AbCdEf123",
	}})
	return string(b)
}

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/"+f.version)
	if !ok {
		writeJSON(w, http.StatusBadRequest, graphErrorJSON(2635, 0, "OAuthException", "Unknown API version"))
		return
	}
	call := graphCall{Method: r.Method, Path: path, Params: r.URL.Query(), Auth: r.Header.Get("Authorization")}
	body, _ := io.ReadAll(r.Body)
	switch ct := r.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/json"):
		_ = json.Unmarshal(body, &call.JSON)
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		form, _ := url.ParseQuery(string(body))
		for k, v := range form {
			call.Params[k] = v
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	var fail *graphFailure
	if list := f.failures[r.Method+" "+path]; len(list) > 0 {
		fail = &list[0]
		f.failures[r.Method+" "+path] = list[1:]
	}
	gate, expired, failing, secret, regain := f.gate, f.expired, f.failing, f.secret, f.regain
	token := f.token
	held := f.held[r.Method+" "+path]
	usage, overQuota := f.pageUsage()
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if held != nil {
		<-held
	}
	if usage != "" {
		w.Header().Set("X-Page-Usage", usage)
	}
	if overQuota {
		writeJSON(w, http.StatusBadRequest, graphErrorJSON(32, 0, "OAuthException", "(#32) Page request limit reached"))
		return
	}
	if regain > 0 {
		w.Header().Set("X-Business-Use-Case-Usage", fmt.Sprintf(
			`{"112233445566778":[{"type":"pages","call_count":100,"total_cputime":12,"total_time":14,"estimated_time_to_regain_access":%d}]}`, regain))
		writeJSON(w, http.StatusBadRequest, graphErrorJSON(32, 0, "OAuthException", "(#32) Page request limit reached"))
		return
	}
	if failing {
		writeJSON(w, http.StatusInternalServerError, `{"error":{"message":"Service temporarily unavailable","type":"OAuthException","is_transient":true,"code":2,"fbtrace_id":"AbCdEf123"}}`)
		return
	}
	if expired {
		writeJSON(w, http.StatusBadRequest, graphErrorJSON(190, 463, "OAuthException",
			"Error validating access token: Session has expired on Friday, 04-Dec-26 01:00:00 PST. The current time is Friday, 04-Dec-26 02:10:00 PST."))
		return
	}

	f.mu.Lock()
	otherPage, other := f.others[strings.TrimPrefix(call.Auth, "Bearer ")]
	known := call.Auth == "Bearer "+token || f.expiredTokens[strings.TrimPrefix(call.Auth, "Bearer ")] || other
	f.mu.Unlock()
	if other {
		token = strings.TrimPrefix(call.Auth, "Bearer ")
	}
	if !known && strings.HasPrefix(call.Auth, "Bearer ") && call.Auth != "Bearer " {
		// a token that is no token Meta gave (cut short, mistyped): Meta
		// reads the token before the proof made with it
		writeJSON(w, http.StatusBadRequest, graphErrorJSON(190, 0, "OAuthException",
			"Invalid OAuth access token - Cannot parse access token"))
		return
	}
	if proof := call.Params.Get("appsecret_proof"); secret != "" && proof != "" && proof != appsecretProof(secret, token) {
		writeJSON(w, http.StatusBadRequest, graphErrorJSON(100, 0, "GraphMethodException",
			"Invalid appsecret_proof provided in the API argument"))
		return
	}
	f.mu.Lock()
	dead := f.expiredTokens[strings.TrimPrefix(call.Auth, "Bearer ")]
	f.mu.Unlock()
	if call.Auth != "Bearer "+token && dead {
		writeJSON(w, http.StatusBadRequest, graphErrorJSON(190, 463, "OAuthException",
			"Error validating access token: Session has expired on Saturday, 05-Dec-26 23:00:00 PST."))
		return
	}
	if call.Auth != "Bearer "+token {
		writeJSON(w, http.StatusBadRequest, graphErrorJSON(2500, 0, "OAuthException",
			"An active access token must be used to query information about the current user."))
		return
	}
	if other {
		if r.Method == http.MethodGet && path == "/me" {
			writeJSON(w, 200, `{"id":"`+otherPage+`","name":"Another Page"}`)
			return
		}
		writeJSON(w, 400, graphErrorJSON(100, 33, "GraphMethodException", fmt.Sprintf(
			"Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
			strings.ToLower(r.Method), strings.Trim(path, "/"))))
		return
	}
	if fail != nil {
		for k, v := range fail.headers {
			w.Header().Set(k, v)
		}
		writeJSON(w, fail.status, fail.body)
		return
	}
	f.mu.Lock()
	drop := f.drop[r.Method+" "+path] > 0
	if drop {
		f.drop[r.Method+" "+path]--
	}
	f.mu.Unlock()
	if drop {
		// Carried out, then the answer is lost.
		f.act(httptest.NewRecorder(), r, call, path)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	f.act(w, r, call, path)
}

// act carries out a call that passed the token's checks, and answers it.
func (f *fakeGraph) act(w http.ResponseWriter, r *http.Request, call graphCall, path string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	f.mu.Lock()
	gone := f.gone[parts[0]]
	recipient := cmp.Or(jsonField(call.JSON, "recipient.comment_id"), jsonField(call.JSON, "recipient.post_id"))
	repliedPrivately := recipient != "" && f.privately[recipient]
	f.mu.Unlock()
	switch {
	case gone:
		writeJSON(w, 400, graphErrorJSON(100, 33, "GraphMethodException", fmt.Sprintf(
			"Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
			strings.ToLower(r.Method), parts[0])))
		return
	case repliedPrivately && len(parts) == 2 && parts[1] == "messages":
		writeJSON(w, 400, graphErrorJSON(10900, 0, "OAuthException", "(#10900) Activity already replied to"))
		return
	case r.Method == http.MethodGet && len(parts) == 2 && (parts[1] == "comments" || parts[1] == "replies"):
		f.listReplies(w, parts[0], parts[1] == "replies", call.Params)
		return
	case r.Method == http.MethodGet && len(parts) == 2 && parts[1] == "conversations":
		f.listConversation(w, call.Params)
		return
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "me":
		// The page token's own node: the Page.
		writeJSON(w, 200, `{"id":"`+pageID+`","name":"Boulangerie Martin"}`)
		return
	case r.Method == http.MethodGet && len(parts) == 1 && (parts[0] == pageID || parts[0] == "me") &&
		call.Params.Get("fields") == "instagram_business_account":
		// The Instagram professional account linked to the Page (the
		// Page node's instagram_business_account), as Graph's reference
		// shows it: the account's id, and the Page's.
		writeJSON(w, 200, `{"instagram_business_account":{"id":"`+igID+`"},"id":"`+pageID+`"}`)
		return
	case r.Method == http.MethodGet && len(parts) == 2 && parts[1] == "subscribed_apps" && (parts[0] == pageID || parts[0] == "me"):
		// The Page's webhook subscriptions, as its token's app sees them:
		// its own, with the fields it is subscribed to, or none.
		f.mu.Lock()
		unsubscribed := f.unsubscribed
		f.mu.Unlock()
		if unsubscribed {
			writeJSON(w, 200, `{"data":[]}`)
			return
		}
		writeJSON(w, 200, `{"data":[{"category":"Business","link":"https://vigie.example/","name":"vigie","id":"112233445566778",`+
			`"subscribed_fields":["feed","messages","message_edits"]}]}`)
		return
	}
	f.mu.Lock()
	mention := f.mentions[parts[0]] || f.mentions[jsonField(call.JSON, "recipient.comment_id")]
	post := f.posts[parts[0]]
	replyTo := jsonField(call.JSON, "recipient.post_id")
	replyToPost := replyTo != "" && f.posts[replyTo]
	replyToComment := jsonField(call.JSON, "recipient.comment_id")
	commentIsPost := f.posts[replyToComment]
	f.mu.Unlock()
	switch {
	case post && len(parts) == 1 && r.Method == http.MethodPost && !onlyIsHidden(call.Params):
		// Page Post update: the Page sets is_hidden on a visitor's post.
		writeJSON(w, 400, graphErrorJSON(100, 0, "OAuthException", "(#100) Invalid parameter"))
	case post && len(parts) == 2 && parts[1] != "comments":
		writeJSON(w, 400, graphErrorJSON(100, 0, "GraphMethodException", fmt.Sprintf(
			"Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
			strings.ToLower(r.Method), parts[0])))
	case len(parts) == 2 && parts[1] == "messages" && (commentIsPost || (replyTo != "" && !replyToPost)):
		// A Private Reply names a post as post_id, a comment as comment_id.
		writeJSON(w, 400, graphErrorJSON(100, 0, "OAuthException", "(#100) Invalid parameter"))
	case mention && (len(parts) == 1 || parts[1] == "replies" || parts[1] == "messages"):
		// What Graph answers for an object the token may not act on.
		writeJSON(w, 400, graphErrorJSON(100, 33, "GraphMethodException", fmt.Sprintf(
			"Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
			strings.ToLower(r.Method), parts[0])))
	case r.Method == http.MethodPost && len(parts) == 2 && parts[1] == "mentions":
		// POST /{ig-user-id}/mentions: comment_id (of a mention), media_id, message.
		f.mu.Lock()
		known := f.mentions[call.Params.Get("comment_id")]
		f.mu.Unlock()
		if !known || call.Params.Get("media_id") == "" || call.Params.Get("message") == "" {
			writeJSON(w, 400, graphErrorJSON(100, 0, "OAuthException", "(#100) Invalid parameter"))
			return
		}
		writeJSON(w, 200, fmt.Sprintf(`{"id":"%s_mention_reply%d"}`, call.Params.Get("comment_id"), len(f.Calls())))
	case r.Method == http.MethodPost && len(parts) == 1:
		// POST /{comment-id} is_hidden=… (Page) or hide=… (Instagram)
		if call.Params.Get("is_hidden") == "true" || call.Params.Get("hide") == "true" {
			f.mu.Lock()
			f.hid[parts[0]]++
			f.mu.Unlock()
		}
		writeJSON(w, 200, `{"success":true}`)
	case r.Method == http.MethodDelete && len(parts) == 1:
		f.mu.Lock()
		f.gone[parts[0]] = true
		f.mu.Unlock()
		writeJSON(w, 200, `{"success":true}`)
	case r.Method == http.MethodPost && len(parts) == 2 && (parts[1] == "comments" || parts[1] == "replies"):
		id := fmt.Sprintf("%s_reply%d", parts[0], len(f.Calls()))
		f.mu.Lock()
		at := time.Now()
		if f.now != nil {
			at = f.now()
		}
		f.replies[parts[0]] = append(f.replies[parts[0]], fakeReply{ID: id, Message: call.Params.Get("message"), At: at})
		f.mu.Unlock()
		writeJSON(w, 200, fmt.Sprintf(`{"id":"%s"}`, id))
	case r.Method == http.MethodPost && len(parts) == 2 && parts[1] == "messages":
		if recipient != "" {
			f.mu.Lock()
			f.privately[recipient] = true
			f.mu.Unlock()
		}
		if to := jsonField(call.JSON, "recipient.id"); to != "" {
			f.mu.Lock()
			at := time.Now()
			if f.now != nil {
				at = f.now()
			}
			f.sent[to] = append(f.sent[to], fakeReply{ID: fmt.Sprintf("m_sent%d", len(f.calls)), Message: jsonField(call.JSON, "message.text"), At: at})
			f.mu.Unlock()
		}
		writeJSON(w, 200, `{"recipient_id":"7654321098765432","message_id":"m_fake"}`)
	case r.Method == http.MethodPost && len(parts) == 2 && parts[1] == "blocked":
		var ids []string
		_ = json.Unmarshal([]byte(call.Params.Get("user")+call.Params.Get("psid")), &ids)
		ans := map[string]bool{}
		for _, id := range ids {
			// Graph's ids are numbers: any other is no one Meta knows.
			if _, err := strconv.ParseUint(id, 10, 64); err != nil {
				writeJSON(w, 400, graphErrorJSON(100, 0, "OAuthException", "(#100) Invalid parameter"))
				return
			}
			ans[id] = true
		}
		f.mu.Lock()
		for id := range ans {
			if !slices.Contains(f.blocked, id) {
				f.blocked = append(f.blocked, id)
			}
		}
		f.mu.Unlock()
		b, _ := json.Marshal(ans)
		writeJSON(w, 200, string(b))
	case r.Method == http.MethodDelete && len(parts) == 2 && parts[1] == "blocked":
		id := call.Params.Get("user") + call.Params.Get("psid")
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			writeJSON(w, 400, graphErrorJSON(100, 0, "OAuthException", "(#100) Invalid parameter"))
			return
		}
		f.unblockByHand(id)
		writeJSON(w, 200, `{"success":true}`)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[1] == "blocked":
		f.listBlocked(w, call.Params)
	case r.Method == http.MethodGet && len(parts) == 1 && strings.HasPrefix(call.Params.Get("fields"), "mentioned_comment.comment_id("):
		id := strings.TrimPrefix(call.Params.Get("fields"), "mentioned_comment.comment_id(")
		id, _, _ = strings.Cut(id, ")")
		f.mu.Lock()
		f.mentions[id] = true
		f.mu.Unlock()
		writeJSON(w, 200, fmt.Sprintf(`{"mentioned_comment":{"timestamp":"2026-11-20T22:15:00+0000","text":"@boulangerie.martin vos croissants sont nuls","id":"%s"},"id":"%s"}`, id, parts[0]))
	case r.Method == http.MethodGet && len(parts) == 1 && call.Params.Get("fields") == "id":
		// A node read: a comment or post that was not deleted.
		writeJSON(w, 200, fmt.Sprintf(`{"id":"%s"}`, parts[0]))
	default:
		writeJSON(w, 400, graphErrorJSON(100, 0, "GraphMethodException", "Unsupported "+r.Method+" request."))
	}
}

// listReplies answers GET /{id}/comments (a Page comment's replies, with
// message, from and created_time) or GET /{id}/replies (an Instagram
// comment's, with text, from and timestamp), in Graph's paged shape: limit
// items a page (25 unless asked, 100 at most), data and paging.cursors
// {before, after}, with paging.next only when there is a next page, asked
// with after. Facebook's comments edge takes order, chronological unless
// reverse_chronological is asked; Instagram's replies edge documents no
// order, and gives the oldest first here: the hardest for a reader looking
// for a new reply.
func (f *fakeGraph) listReplies(w http.ResponseWriter, id string, instagram bool, params url.Values) {
	list := f.allRepliesUnder(id)
	slices.SortStableFunc(list, func(a, b fakeReply) int { return a.At.Compare(b.At) })
	if !instagram && params.Get("order") == "reverse_chronological" {
		slices.Reverse(list)
	}
	limit := 25
	if n, err := strconv.Atoi(params.Get("limit")); err == nil && n > 0 {
		limit = min(n, 100)
	}
	start := 0
	if after := params.Get("after"); after != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(after, "QVFIU"))
		if err != nil || !strings.HasPrefix(after, "QVFIU") || n < 0 || n > len(list) {
			writeJSON(w, 400, graphErrorJSON(100, 0, "OAuthException", "(#100) Invalid parameter"))
			return
		}
		start = n
	}
	end := min(start+limit, len(list))
	data := []map[string]any{}
	for _, r := range list[start:end] {
		from := map[string]any{"id": cmp.Or(r.From, f.pageAccount(instagram))}
		item := map[string]any{"id": r.ID, "from": from}
		if instagram {
			from["username"] = "boulangerie.martin"
			item["text"], item["timestamp"] = r.Message, r.At.UTC().Format("2006-01-02T15:04:05-0700")
		} else {
			from["name"] = "Boulangerie Martin"
			item["message"], item["created_time"] = r.Message, r.At.UTC().Format("2006-01-02T15:04:05-0700")
		}
		data = append(data, item)
	}
	ans := map[string]any{"data": data}
	if len(data) > 0 {
		paging := map[string]any{"cursors": map[string]any{"before": fmt.Sprintf("QVFIU%d", start), "after": fmt.Sprintf("QVFIU%d", end)}}
		if end < len(list) {
			next := url.Values{}
			for k, v := range params {
				next[k] = v
			}
			next.Set("after", fmt.Sprintf("QVFIU%d", end))
			next.Set("access_token", f.token) // as Meta writes it in next
			edge := "comments"
			if instagram {
				edge = "replies"
			}
			paging["next"] = f.URL() + "/" + id + "/" + edge + "?" + next.Encode()
		}
		ans["paging"] = paging
	}
	b, _ := json.Marshal(ans)
	writeJSON(w, 200, string(b))
}

// unblockByHand unblocks id from the Page, as a CM does in Meta's tools.
func (f *fakeGraph) unblockByHand(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocked = slices.DeleteFunc(f.blocked, func(b string) bool { return b == id })
}

// isBlocked reports whether id is blocked from the Page.
func (f *fakeGraph) isBlocked(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.blocked, id)
}

// listBlocked answers GET /{page-id}/blocked, the people blocked from the
// Page as Meta documents the edge: Profile nodes (id, name) in data, and
// cursor-based paging: limit people a page (25 unless limit says, at most
// blockedMaxLimit), paging.cursors.before and after around the page, and
// paging.next, the next page's address, only when there is one; after=
// asks for the people after that cursor. The user (or uid) parameter
// narrows it to that person, blocked or not (data empty). A user that is
// no id, a limit that is no number and a cursor the fake never gave are
// refused.
func (f *fakeGraph) listBlocked(w http.ResponseWriter, params url.Values) {
	f.mu.Lock()
	list := slices.Clone(f.blocked)
	hidden := f.hideFromList
	f.mu.Unlock()
	invalid := func() { writeJSON(w, 400, graphErrorJSON(100, 0, "OAuthException", "(#100) Invalid parameter")) }
	if who := cmp.Or(params.Get("user"), params.Get("uid")); who != "" {
		if _, err := strconv.ParseUint(who, 10, 64); err != nil {
			invalid()
			return
		}
		list = slices.DeleteFunc(list, func(id string) bool { return id != who })
	} else if hidden != "" {
		list = slices.DeleteFunc(list, func(id string) bool { return id == hidden })
	}
	limit := 25
	if v := params.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			invalid()
			return
		}
		limit = min(n, blockedMaxLimit)
	}
	from := 0
	if after := params.Get("after"); after != "" {
		raw, err := base64.RawURLEncoding.DecodeString(after)
		i := slices.Index(list, strings.TrimPrefix(string(raw), "blocked:"))
		if err != nil || !strings.HasPrefix(string(raw), "blocked:") || i < 0 {
			invalid()
			return
		}
		from = i + 1
	}
	page := list[from:]
	if len(page) > limit {
		page = page[:limit]
	}
	data := []map[string]any{}
	for _, id := range page {
		data = append(data, map[string]any{"id": id, "name": "Membre " + id})
	}
	ans := map[string]any{"data": data}
	if len(page) > 0 {
		cursor := func(id string) string { return base64.RawURLEncoding.EncodeToString([]byte("blocked:" + id)) }
		paging := map[string]any{"cursors": map[string]any{"before": cursor(page[0]), "after": cursor(page[len(page)-1])}}
		if from+len(page) < len(list) {
			next := url.Values{"limit": {strconv.Itoa(limit)}, "after": {cursor(page[len(page)-1])}}
			paging["next"] = "https://graph.facebook.com/v21.0/" + pageID + "/blocked?" + next.Encode()
		}
		ans["paging"] = paging
	}
	if params.Get("user")+params.Get("uid") == "" {
		f.mu.Lock()
		f.blockedReads++
		f.mu.Unlock()
	}
	b, _ := json.Marshal(ans)
	writeJSON(w, 200, string(b))
}

// blockedMaxLimit is the most people the fake lists in one page of the
// blocked list.
const blockedMaxLimit = 100

// othersReply has n people other than the Page write under id, a second
// apart from at: a busy comment.
func (f *fakeGraph) othersReply(id string, n int, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range n {
		f.replies[id] = append(f.replies[id], fakeReply{ID: fmt.Sprintf("%s_other%d", id, i), From: fmt.Sprint(5000000000000000 + i),
			Message: "Moi aussi !", At: at.Add(time.Duration(i) * time.Second)})
	}
}

// listConversation answers GET /{page-id}/conversations?platform=…&user_id=…
// with the conversation with that user and its 20 newest messages, newest
// first (the Conversations API: fields=messages{message,from,created_time}).
// The platform is required (messenger or instagram), and so is the user here.
func (f *fakeGraph) listConversation(w http.ResponseWriter, params url.Values) {
	platform, user := params.Get("platform"), params.Get("user_id")
	if (platform != "messenger" && platform != "instagram") || user == "" ||
		!strings.HasPrefix(params.Get("fields"), "messages") {
		writeJSON(w, 400, graphErrorJSON(100, 0, "OAuthException", "(#100) Invalid parameter"))
		return
	}
	list := f.sentTo(user)
	msgs := []map[string]any{}
	for i := len(list) - 1; i >= 0 && len(msgs) < 20; i-- {
		m := list[i]
		msgs = append(msgs, map[string]any{"id": m.ID, "message": m.Message,
			"from":         map[string]any{"id": f.pageAccount(platform == "instagram")},
			"created_time": m.At.UTC().Format("2006-01-02T15:04:05-0700")})
	}
	data := []map[string]any{}
	if len(list) > 0 {
		data = append(data, map[string]any{"id": "t_" + user, "messages": map[string]any{"data": msgs}})
	}
	b, _ := json.Marshal(map[string]any{"data": data})
	writeJSON(w, 200, string(b))
}

// onlyIsHidden reports whether params set is_hidden to true or false and
// nothing else, the proof of the token aside.
func onlyIsHidden(params url.Values) bool {
	for k := range params {
		if k != "is_hidden" && k != "appsecret_proof" {
			return false
		}
	}
	v := params.Get("is_hidden")
	return v == "true" || v == "false"
}

// appsecretProof is the appsecret_proof Meta expects: the token's HMAC-SHA256
// keyed with the app secret, in hex.
func appsecretProof(secret, token string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token))
	return hex.EncodeToString(mac.Sum(nil))
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
