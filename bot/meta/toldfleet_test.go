package meta_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// startFleet starts n instances on one Redis, one Graph and one clock,
// their alerts in one desk.
func startFleet(t *testing.T, g *fakeGraph, n int) (*sharedDesk, []*meta.Connector) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("told-fleet")
	d := &sharedDesk{clock: stepclock.New(fixedNow)}
	var cs []*meta.Connector
	for i := range n {
		d.logs = append(d.logs, &testsync.Buffer{})
		c, stop := d.start(t, g, srv.URL(), prefix, strconv.Itoa(i), d.logs[i])
		t.Cleanup(stop)
		cs = append(cs, c)
	}
	return d, cs
}

// toldOrLeft waits until each instance of the fleet has found a change
// (round times since the test's start): it told the desk (told, in an
// alert), or logged that another did (other). Then it wants the desk told
// want times in all.
func (d *sharedDesk) toldOrLeft(t *testing.T, what, told, other string, round, want int) {
	t.Helper()
	testsync.Eventually(t, "each instance finding "+what, func() bool { return d.told(told)+d.logged(other) >= round*len(d.logs) })
	if n := d.told(told); n != want {
		t.Errorf("%s: the desk was told %d times by %d instances, want %d", what, n, len(d.logs), want)
	}
}

// TestPermissionToldOnceAcrossTheFleet: three instances on one Redis each
// find Meta refusing their hides on Instagram for want of a permission. The
// desk hears of it once, not three times; once each has carried a hide out
// again and ten minutes went by, of its end once; and of a refusal after
// that once more.
func TestPermissionToldOnceAcrossTheFleet(t *testing.T) {
	g := newFakeGraph(t)
	d, cs := startFleet(t, g, 3)
	refusal := graphErrorJSON(200, 0, "OAuthException", "(#200) Requires instagram_manage_comments permission to manage the object")
	const (
		refused      = "Meta refuses vigie's hide on Instagram for want of a permission"
		refusedOther = "Meta refuses an action for want of a permission: another instance told the desk"
		granted      = "Meta carries out vigie's hide on Instagram again"
		grantedOther = "Meta carries the action out again: another instance told the desk"
	)
	hideAll := func(fail bool) {
		t.Helper()
		for i, c := range cs {
			if fail {
				g.failNext(http.MethodPost, "/"+igComment.ID, http.StatusForbidden, refusal, nil)
			}
			if err := c.Instagram().Hide(context.Background(), igComment); (err != nil) != fail {
				t.Fatalf("instance %d: hide = %v", i, err)
			}
		}
	}

	hideAll(true)
	d.toldOrLeft(t, "the permission refused", refused, refusedOther, 1, 1)

	hideAll(false)
	d.clock.Step(11 * time.Minute)
	hideAll(false)
	d.toldOrLeft(t, "the permission back", granted, grantedOther, 1, 1)

	hideAll(true)
	d.toldOrLeft(t, "the permission refused again", refused, refusedOther, 2, 2)
}

// TestPageTokenFileRefusalToldOnceAcrossTheFleet: the three instances of a
// fleet, reloaded, each read a page token from META_PAGE_TOKEN_FILE that
// Meta refuses. The desk hears of it once; of another such token once more.
func TestPageTokenFileRefusalToldOnceAcrossTheFleet(t *testing.T) {
	g := newFakeGraph(t)
	d, cs := startFleet(t, g, 3)
	const (
		refused = "The page token in META_PAGE_TOKEN_FILE is refused by Meta"
		other   = "META_PAGE_TOKEN_FILE holds a token Meta refuses: another instance told the desk"
	)
	setAll := func(token string) {
		t.Helper()
		for i, c := range cs {
			if c.SetPageToken(context.Background(), token) {
				t.Fatalf("instance %d took the page token %q", i, token)
			}
		}
	}
	setAll(g.token[:len(g.token)/2])
	d.toldOrLeft(t, "a token cut short", refused, other, 1, 1)
	setAll(g.token + "-mistyped")
	d.toldOrLeft(t, "another token refused", refused, other, 2, 2)
}
