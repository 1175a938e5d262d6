package meta_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/meta"
)

var (
	fbComment = bot.Event{ID: "987654321098765_1122334455667788", Platform: "facebook", Kind: bot.KindComment,
		Space: pageID, Channel: "104523749012345_987654321098765",
		Author: bot.Author{ID: "6021345987654321", Name: "Jean Dupont"}, Text: "escrocs", At: fixedNow.Add(-time.Hour)}
	fbReply = bot.Event{ID: "987654321098765_2000000000000002", Platform: "facebook", Kind: bot.KindComment,
		Space: pageID, Channel: "104523749012345_987654321098765", Thread: "987654321098765_2000000000000001",
		ReplyTo: "987654321098765_2000000000000001", Author: bot.Author{ID: "6021345987650003"}, At: fixedNow}
	fbEdit = bot.Event{ID: "987654321098765_1122334455667788:edited:0a1b2c3d4e5f", Platform: "facebook",
		Kind: bot.KindEdit, Space: pageID, Author: bot.Author{ID: "6021345987654321"}, At: fixedNow}
	fbDM = bot.Event{ID: "m_abc", Platform: "facebook", Kind: bot.KindDM, Space: pageID, Channel: "7654321098765432",
		Author: bot.Author{ID: "7654321098765432"}, Text: "bonjour", At: fixedNow.Add(-2 * time.Hour)}
	igComment = bot.Event{ID: "17865799348089039", Platform: "instagram", Kind: bot.KindComment, Space: igID,
		Channel: "18012345678901234", Author: bot.Author{ID: "232323232", Name: "test_user_fr"}, At: fixedNow}
	igReply = bot.Event{ID: "17865799348089040", Platform: "instagram", Kind: bot.KindComment, Space: igID,
		Thread: "17865799348089039", ReplyTo: "17865799348089039", Author: bot.Author{ID: "232323233"}, At: fixedNow}
	igDM = bot.Event{ID: "aWdfZAG1faWQ", Platform: "instagram", Kind: bot.KindDM, Space: igID,
		Author: bot.Author{ID: "1254459154682919"}, Text: "hello", At: fixedNow.Add(-time.Minute)}
)

func TestActionsCallTheGraphAPI(t *testing.T) {
	type act func(ctx context.Context, c *meta.Connector) error
	tests := []struct {
		name       string
		do         act
		method     string
		path       string
		params     map[string]string // form or query parameters expected
		jsonFields map[string]string // "recipient.comment_id": "..."
	}{
		{"facebook hide", func(ctx context.Context, c *meta.Connector) error { return c.Facebook().Hide(ctx, fbComment) },
			"POST", "/987654321098765_1122334455667788", map[string]string{"is_hidden": "true"}, nil},
		{"facebook unhide", func(ctx context.Context, c *meta.Connector) error { return c.Facebook().Unhide(ctx, fbComment) },
			"POST", "/987654321098765_1122334455667788", map[string]string{"is_hidden": "false"}, nil},
		{"facebook hide of an edit targets the comment", func(ctx context.Context, c *meta.Connector) error { return c.Facebook().Hide(ctx, fbEdit) },
			"POST", "/987654321098765_1122334455667788", map[string]string{"is_hidden": "true"}, nil},
		{"facebook delete", func(ctx context.Context, c *meta.Connector) error { return c.Facebook().Delete(ctx, fbComment) },
			"DELETE", "/987654321098765_1122334455667788", nil, nil},
		{"facebook public reply", func(ctx context.Context, c *meta.Connector) error {
			return c.Facebook().Reply(ctx, fbComment, "Du lundi au samedi, 9h-19h.")
		}, "POST", "/987654321098765_1122334455667788/comments", map[string]string{"message": "Du lundi au samedi, 9h-19h."}, nil},
		{"facebook reply to a reply goes to the thread", func(ctx context.Context, c *meta.Connector) error {
			return c.Facebook().Reply(ctx, fbReply, "merci")
		}, "POST", "/987654321098765_2000000000000001/comments", map[string]string{"message": "merci"}, nil},
		{"facebook private reply", func(ctx context.Context, c *meta.Connector) error {
			return c.Facebook().Warn(ctx, fbComment, "Merci de rester courtois.")
		}, "POST", "/" + pageID + "/messages", nil, map[string]string{
			"recipient.comment_id": "987654321098765_1122334455667788", "message.text": "Merci de rester courtois."}},
		{"facebook answer to a direct message", func(ctx context.Context, c *meta.Connector) error {
			return c.Facebook().Reply(ctx, fbDM, "Oui, de 9h à 13h.")
		}, "POST", "/" + pageID + "/messages", nil, map[string]string{
			"recipient.id": "7654321098765432", "message.text": "Oui, de 9h à 13h.", "messaging_type": "RESPONSE"}},
		{"facebook warn in a direct message", func(ctx context.Context, c *meta.Connector) error {
			return c.Facebook().Warn(ctx, fbDM, "Restez courtois.")
		}, "POST", "/" + pageID + "/messages", nil, map[string]string{"recipient.id": "7654321098765432"}},
		{"facebook ban blocks the commenter", func(ctx context.Context, c *meta.Connector) error { return c.Facebook().Ban(ctx, fbComment, 0) },
			"POST", "/" + pageID + "/blocked", map[string]string{"user": `["6021345987654321"]`}, nil},
		{"facebook ban of a messenger user uses the psid", func(ctx context.Context, c *meta.Connector) error { return c.Facebook().Ban(ctx, fbDM, 0) },
			"POST", "/" + pageID + "/blocked", map[string]string{"psid": `["7654321098765432"]`}, nil},
		{"facebook unban", func(ctx context.Context, c *meta.Connector) error { return c.Facebook().Unban(ctx, fbComment) },
			"DELETE", "/" + pageID + "/blocked", map[string]string{"user": "6021345987654321"}, nil},
		{"instagram hide", func(ctx context.Context, c *meta.Connector) error { return c.Instagram().Hide(ctx, igComment) },
			"POST", "/17865799348089039", map[string]string{"hide": "true"}, nil},
		{"instagram unhide", func(ctx context.Context, c *meta.Connector) error { return c.Instagram().Unhide(ctx, igComment) },
			"POST", "/17865799348089039", map[string]string{"hide": "false"}, nil},
		{"instagram delete", func(ctx context.Context, c *meta.Connector) error { return c.Instagram().Delete(ctx, igComment) },
			"DELETE", "/17865799348089039", nil, nil},
		{"instagram public reply", func(ctx context.Context, c *meta.Connector) error {
			return c.Instagram().Reply(ctx, igComment, "Monday to Saturday, 9am-7pm.")
		}, "POST", "/17865799348089039/replies", map[string]string{"message": "Monday to Saturday, 9am-7pm."}, nil},
		{"instagram reply to a reply goes to the top comment", func(ctx context.Context, c *meta.Connector) error {
			return c.Instagram().Reply(ctx, igReply, "ok")
		}, "POST", "/17865799348089039/replies", map[string]string{"message": "ok"}, nil},
		{"instagram private reply", func(ctx context.Context, c *meta.Connector) error {
			return c.Instagram().Warn(ctx, igComment, "Please stay polite.")
		}, "POST", "/me/messages", nil, map[string]string{"recipient.comment_id": "17865799348089039", "message.text": "Please stay polite."}},
		{"instagram answer to a direct message", func(ctx context.Context, c *meta.Connector) error {
			return c.Instagram().Reply(ctx, igDM, "Hi!")
		}, "POST", "/me/messages", nil, map[string]string{"recipient.id": "1254459154682919", "message.text": "Hi!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			// The commenter is blocked from the Page: an unban reads
			// the Page's blocked list first, a call left out below.
			h.graph.blocked = []string{"6021345987654321"}
			if err := tt.do(context.Background(), h.c); err != nil {
				t.Fatalf("action failed: %v", err)
			}
			calls := slices.DeleteFunc(h.graph.Calls(), func(c graphCall) bool {
				return c.Method == "GET" && c.Path == "/"+pageID+"/blocked"
			})
			if len(calls) != 1 {
				t.Fatalf("%d Graph calls, want 1: %+v", len(calls), calls)
			}
			call := calls[0]
			if call.Method != tt.method || call.Path != tt.path {
				t.Fatalf("call = %s %s, want %s %s", call.Method, call.Path, tt.method, tt.path)
			}
			for k, v := range tt.params {
				if got := call.Params.Get(k); got != v {
					t.Errorf("param %s = %q, want %q", k, got, v)
				}
			}
			for k, v := range tt.jsonFields {
				if got := jsonField(call.JSON, k); got != v {
					t.Errorf("JSON %s = %q, want %q (body %v)", k, got, v, call.JSON)
				}
			}
			if strings.Contains(call.Params.Encode(), h.graph.token) {
				t.Error("the page token travelled in the URL or form")
			}
			mac := hmac.New(sha256.New, []byte(appSecret))
			mac.Write([]byte(h.graph.token))
			if got := call.Params.Get("appsecret_proof"); got != hex.EncodeToString(mac.Sum(nil)) {
				t.Errorf("appsecret_proof = %q", got)
			}
		})
	}
}

func jsonField(m map[string]any, path string) string {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = obj[k]
	}
	s, _ := cur.(string)
	return s
}

func TestGraphErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		body         string
		headers      map[string]string
		wantRetry    bool
		wantAfter    time.Duration
		wantContains string
	}{
		{"permission denied", 403, graphErrorJSON(200, 0, "OAuthException", "(#200) Requires pages_manage_engagement permission to manage the object"),
			nil, false, 0, "missing permission (code 200)"},
		{"permission 10", 403, graphErrorJSON(10, 0, "OAuthException", "(#10) Application does not have permission for this action"),
			nil, false, 0, "missing permission (code 10)"},
		{"expired token", 400, graphErrorJSON(190, 463, "OAuthException", "Error validating access token: Session has expired"),
			nil, false, 0, "expired or invalid page token (code 190): renew META_PAGE_TOKEN"},
		// The app's calls are counted over a rolling hour, and Meta says
		// nothing of when they may go again: asked again in 10 minutes,
		// not tried again at once, each try counted.
		{"app rate limit with usage header", 400, graphErrorJSON(4, 0, "OAuthException", "(#4) Application request limit reached"),
			map[string]string{"X-App-Usage": `{"call_count":100,"total_cputime":20,"total_time":30}`}, true, 10 * time.Minute, "rate limited by Meta (code 4)"},
		{"page rate limit with business use case estimate", 400, graphErrorJSON(32, 0, "OAuthException", "(#32) Page request limit reached"),
			map[string]string{"X-Business-Use-Case-Usage": `{"104523749012345":[{"type":"pages","call_count":100,"total_cputime":40,"total_time":38,"estimated_time_to_regain_access":7}]}`},
			true, 7 * time.Minute, "code 32"},
		// The Page's calls are counted over a rolling window, and Meta
		// says nothing of when they may go again: as for the app's.
		{"page rate limit with page usage header", 400, graphErrorJSON(32, 0, "OAuthException", "(#32) Page request limit reached"),
			map[string]string{"X-Page-Usage": `{"call_count":100,"total_cputime":9,"total_time":11}`}, true, 10 * time.Minute, "code 32"},
		{"user rate limit with Retry-After", 429, graphErrorJSON(17, 0, "OAuthException", "(#17) User request limit reached"),
			map[string]string{"Retry-After": "30"}, true, 30 * time.Second, "code 17"},
		{"613", 400, graphErrorJSON(613, 0, "OAuthException", "Calls to this api have exceeded the rate limit."),
			nil, true, 0, "code 613"},
		{"transient", 500, graphErrorJSON(2, 0, "OAuthException", "An unexpected error has occurred. Please retry your request later."),
			nil, true, 0, "temporary Graph API failure (code 2)"},
		{"unknown", 500, graphErrorJSON(1, 0, "OAuthException", "An unknown error occurred"),
			nil, true, 0, "temporary Graph API failure (code 1)"},
		{"gateway error without JSON", 502, "<html>Bad Gateway</html>", nil, true, 0, "HTTP 502"},
		{"comment gone", 400, graphErrorJSON(100, 33, "GraphMethodException", "Unsupported post request. Object with ID '987654321098765_1122334455667788' does not exist"),
			nil, false, 0, "gone or not visible"},
		{"private reply sent already", 400, graphErrorJSON(10900, 0, "OAuthException", "(#10900) Activity already replied to"),
			nil, false, 0, "Meta allows one private reply to each"},
		{"app secret reset", 400, graphErrorJSON(100, 0, "GraphMethodException", "Invalid appsecret_proof provided in the API argument"),
			nil, false, 0, "META_APP_SECRET is not the app's current secret"},
		{"invalid parameter", 400, graphErrorJSON(100, 0, "OAuthException", "(#100) Invalid parameter"),
			nil, false, 0, "Invalid parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.graph.failNext("POST", "/987654321098765_1122334455667788", tt.status, tt.body, tt.headers)
			err := h.c.Facebook().Hide(context.Background(), fbComment)
			var ae *bot.ActionError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not a *bot.ActionError", err, err)
			}
			if ae.Op != bot.ActHide || ae.Retryable != tt.wantRetry || ae.RetryAfter != tt.wantAfter {
				t.Errorf("op=%s retryable=%v after=%s, want hide %v %s", ae.Op, ae.Retryable, ae.RetryAfter, tt.wantRetry, tt.wantAfter)
			}
			if bot.Retryable(err) != tt.wantRetry {
				t.Errorf("bot.Retryable = %v", bot.Retryable(err))
			}
			if !strings.Contains(err.Error(), tt.wantContains) {
				t.Errorf("error %q lacks %q", err, tt.wantContains)
			}
			var ge *meta.GraphError
			if !errors.As(err, &ge) || ge.Status != tt.status {
				t.Errorf("no *meta.GraphError with status %d in %v", tt.status, err)
			}
		})
	}
}

func TestActionsRefusedBeforeCallingMeta(t *testing.T) {
	old := fbDM
	old.At = fixedNow.Add(-25 * time.Hour)
	oldComment := fbComment
	oldComment.At = fixedNow.Add(-8 * 24 * time.Hour)
	tests := []struct {
		name string
		do   func(ctx context.Context, c *meta.Connector) error
		want string
	}{
		{"answer after 24 hours", func(ctx context.Context, c *meta.Connector) error { return c.Facebook().Reply(ctx, old, "x") },
			"outside the messaging window"},
		{"private reply after 7 days", func(ctx context.Context, c *meta.Connector) error { return c.Facebook().Warn(ctx, oldComment, "x") },
			"too late for a private reply"},
		{"hide a direct message", func(ctx context.Context, c *meta.Connector) error { return c.Facebook().Hide(ctx, fbDM) },
			"cannot be hidden"},
		{"delete an instagram direct message", func(ctx context.Context, c *meta.Connector) error { return c.Instagram().Delete(ctx, igDM) },
			"cannot be deleted"},
		{"ban without author", func(ctx context.Context, c *meta.Connector) error {
			ev := fbComment
			ev.Author = bot.Author{}
			return c.Facebook().Ban(ctx, ev, 0)
		}, "no author id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			err := tt.do(context.Background(), h.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if bot.Retryable(err) {
				t.Errorf("%v is retryable, want not", err)
			}
			if n := len(h.graph.Calls()); n != 0 {
				t.Errorf("%d Graph calls made, want none", n)
			}
		})
	}
}

func TestNoPageToken(t *testing.T) {
	c := meta.New(meta.Config{GraphURL: "http://127.0.0.1:1/v25.0"})
	err := c.Facebook().Hide(context.Background(), fbComment)
	if err == nil || !strings.Contains(err.Error(), "META_PAGE_TOKEN") || bot.Retryable(err) {
		t.Fatalf("error = %v, want a non-retryable one naming META_PAGE_TOKEN", err)
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	g := newFakeGraph(t)
	url := g.URL()
	g.srv.Close()
	c := meta.New(meta.Config{PageToken: "t", GraphURL: url})
	err := c.Instagram().Hide(context.Background(), igComment)
	if err == nil || !bot.Retryable(err) {
		t.Fatalf("error = %v, want a retryable one", err)
	}
}
