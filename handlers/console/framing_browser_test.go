package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestAnotherPortCannotDriveTheConsole: a CM logged in to the console opens
// a page of another web app on the same machine (another port of
// 127.0.0.1: the same site for the browser, which sends it the SameSite
// cookies). That page cannot show the console in a frame (to have the CM
// click in it), nor decide a case, nor log the CM out, with forms that
// post there on their own.
func TestAnotherPortCannotDriveTheConsole(t *testing.T) {
	n := newRaidNight(t, 3)
	const id = "c-tests-000001"
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/frame":
			fmt.Fprintf(w, `<!doctype html><title>win a prize</title><iframe id="f" onload="this.dataset.loaded=1" src="%s/queue" width="800" height="600"></iframe>`, n.srv.URL)
		case "/decide":
			fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s/queue/%s/decide"><input name="outcome" value="ban"></form><script>document.getElementById("f").submit()</script>`, n.srv.URL, id)
		case "/logout":
			fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s/logout"></form><script>document.getElementById("f").submit()</script>`, n.srv.URL)
		}
	}))
	t.Cleanup(evil.Close)
	ctx := browser(t, false)
	n.logIn(t, ctx)

	// Framed: Chromium shows its own error page in the frame (the frame's
	// URL is unreachable), not the queue.
	if err := chromedp.Do(ctx, chromedp.Navigate(evil.URL+"/frame")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('f').dataset.loaded === '1'`)); err != nil {
		t.Fatal(err)
	}
	tree, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (*page.GetFrameTreeResult, error) {
		res, err := cdp.Call(ctx, tg, page.GetFrameTree, cdp.Empty{})
		return &res, err
	})
	if err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "framed", false)
	if len(tree.FrameTree.ChildFrames) != 1 {
		t.Fatalf("%d frames in the other page, want 1", len(tree.FrameTree.ChildFrames))
	}
	if f := tree.FrameTree.ChildFrames[0].Frame; f.UnreachableURL == "" || strings.HasPrefix(f.URL, n.srv.URL) {
		t.Errorf("a page of another port shows the console in a frame: %s", f.URL)
	}

	for _, path := range []string{"/decide", "/logout"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(evil.URL+path)); err != nil {
			t.Fatal(err)
		}
		// The form posted, and the console answered.
		said, err := pollAcross[string](ctx, `location.origin !== `+fmt.Sprintf("%q", evil.URL)+` && document.readyState === 'complete' ? document.body.innerText : null`)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !strings.HasPrefix(said, "cross-site request refused: it comes from \""+evil.URL) {
			t.Errorf("%s: the console answered %q, want the cross-site refusal", path, said)
		}
	}
	if got := n.decided(); len(got) != 0 {
		t.Errorf("decided from another port's page: %q", got)
	}
	// Still logged in: the queue shows, with the case still open.
	if err := chromedp.Do(ctx, chromedp.Navigate(n.srv.URL+"/queue"), chromedp.WaitVisible(`article[data-case="`+id+`"]`)); err != nil {
		t.Errorf("the queue after the other page's posts: %v", err)
	}
}
