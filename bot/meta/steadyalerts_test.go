package meta_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
)

// TestDeskAlertsStaySteady: Meta refuses and takes by turns, and the desk is
// told of a trouble once, and of its end once it really is over, not a pair
// of messages each time. A permission missing on Instagram and not on the
// Page is Instagram's trouble alone: the Page's hides carried out do not end
// it. A flaky Graph refusing the page token now and then is one trouble,
// whose end is said once no refusal came for ten minutes after a call Meta
// carried out; a refusal after that is a new trouble, told again.
func TestDeskAlertsStaySteady(t *testing.T) {
	igHideRefused := graphErrorJSON(200, 0, "OAuthException", "(#200) Requires instagram_manage_comments permission to manage the object")
	tokenRefused := graphErrorJSON(190, 460, "OAuthException", "Error validating access token: The session has been invalidated because the user changed their password.")
	type step struct {
		wait time.Duration // the clock moves on first
		// fail, when set, is what the fake answers the call.
		fail string
		ig   bool // an Instagram hide, else a Page's
	}
	tests := []struct {
		name  string
		steps []step
		// want are the alerts the desk gets, each by a piece of its text, in order.
		want []string
	}{
		{"a permission missing on Instagram only", []step{
			{0, igHideRefused, true}, {time.Minute, "", false}, {time.Minute, igHideRefused, true},
			{time.Minute, "", false}, {time.Minute, igHideRefused, true}, {20 * time.Minute, "", false},
			{time.Minute, igHideRefused, true}, {time.Hour, "", false},
		}, []string{"Meta refuses vigie's hide on Instagram for want of a permission"}},
		{"the permission granted at last", []step{
			{0, igHideRefused, true}, {time.Minute, "", true}, {time.Minute, igHideRefused, true},
			{time.Minute, "", true}, {5 * time.Minute, "", true}, {5 * time.Minute, "", true},
			{time.Minute, "", false}, {time.Hour, "", false},
		}, []string{"Meta refuses vigie's hide on Instagram", "Meta carries out vigie's hide on Instagram again"}},
		{"a flaky Graph refusing the token now and then", []step{
			{0, tokenRefused, false}, {time.Minute, "", false}, {time.Minute, tokenRefused, true},
			{time.Minute, "", true}, {9 * time.Minute, tokenRefused, false}, {time.Minute, "", false},
			{5 * time.Minute, "", true}, {5 * time.Minute, "", false}, {time.Minute, "", true},
			{time.Minute, tokenRefused, false}, {time.Minute, "", false},
		}, []string{"Meta refuses vigie's page token", "Meta takes vigie's page token again", "Meta refuses vigie's page token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t)
			var mu sync.Mutex
			now := fixedNow
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			c := meta.New(meta.Config{AppSecret: appSecret, VerifyToken: verifyToken, PageToken: g.token, GraphURL: g.URL(),
				PageID: pageID, Logger: testsync.Logger(&testsync.Buffer{}), Now: clock})
			var desk alertList
			c.AlertWith(desk.alert)
			runConnector(t, c, 0)
			for i, s := range tt.steps {
				mu.Lock()
				now = now.Add(s.wait)
				mu.Unlock()
				ev, hide, path := fbComment, c.Facebook().Hide, "/"+fbComment.ID
				if s.ig {
					ev, hide, path = igComment, c.Instagram().Hide, "/"+igComment.ID
				}
				if s.fail != "" {
					g.failNext("POST", path, http.StatusBadRequest, s.fail, nil)
				}
				if err := hide(context.Background(), ev); (err != nil) != (s.fail != "") {
					t.Fatalf("step %d: hide = %v", i, err)
				}
			}
			// A last trouble of another kind, told after all the others:
			// once the desk has it, it has all that was told before.
			g.failNext("DELETE", "/"+fbComment.ID, http.StatusForbidden,
				graphErrorJSON(200, 0, "OAuthException", "(#200) Requires pages_manage_engagement permission"), nil)
			_ = c.Facebook().Delete(context.Background(), fbComment)
			var got []string
			testsync.Eventually(t, "the last alert", func() bool {
				got = desk.all()
				return len(got) > 0 && strings.Contains(got[len(got)-1], "vigie's delete on the Page")
			})
			got = got[:len(got)-1]
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.Contains(got[i], tt.want[i])
			}
			if !ok {
				t.Errorf("the desk was told:\n%s\nwant, in order: %q", strings.Join(got, "\n"), tt.want)
			}
		})
	}
}
