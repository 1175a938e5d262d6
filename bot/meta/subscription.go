package meta

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// opSubscriptionCheck reads whether Meta sends the Page's webhooks to
// vigie's app.
const opSubscriptionCheck bot.ActionKind = "subscription read"

// subscribeFields are the Page's webhook fields vigie reads, as
// docs/platforms.md has the Page subscribed to them.
const subscribeFields = "feed,messages,message_edits"

// subscription is what the checks found of the Page's webhook
// subscription.
type subscription struct {
	mu sync.Mutex
	// lost is when a check found vigie's app unsubscribed from the Page;
	// zero while it is subscribed, or not known to be otherwise.
	lost time.Time
	// unreadable: a check was refused for want of a permission, which was
	// logged once.
	unreadable bool
}

// since is when the checks found the Page unsubscribed; ok is false while
// it is subscribed.
func (s *subscription) since() (since time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost, !s.lost.IsZero()
}

// gauge is vigie_meta_page_subscribed: 0 while the Page is found
// unsubscribed.
func (s *subscription) gauge() float64 {
	if _, lost := s.since(); lost {
		return 0
	}
	return 1
}

var _ bot.Troubler = (*FacebookPage)(nil)

// Troubles says, while the checks find the Page unsubscribed from vigie's
// app, that Meta sends nothing of it: /healthz's degraded lists it. It is
// not the source's link being down: Meta's deliveries of the Instagram
// account, subscribed apart, still come, and /-/ready stays 200 for the
// load balancer in front of vigie to keep sending them.
func (p *FacebookPage) Troubles() []string {
	since, lost := p.sub.since()
	if !lost {
		return nil
	}
	return []string{"facebook: Meta sends no webhook for the Page since " + since.UTC().Format(time.RFC3339) +
		": vigie's app is not subscribed to it (GET /{page-id}/subscribed_apps lists none); subscribe it again: " +
		"POST /{page-id}/subscribed_apps subscribed_fields=" + subscribeFields}
}

// checkSubscription asks Graph whether vigie's app is subscribed to the
// Page's webhooks (GET /{page-id}/subscribed_apps, which a page token
// answers with its own app's subscription only: none once the app was
// removed from the Page, or its subscription turned off). Unsubscribed,
// Meta sends nothing: every call vigie makes still succeeds and the night's
// comments go unjudged, unseen. The change either way is logged and told
// to the desk once; until the Page is subscribed again, /healthz says so
// (Troubles) and vigie_meta_page_subscribed is 0. A check Graph does not
// answer leaves what is known as it was.
func (c *Connector) checkSubscription(ctx context.Context) {
	page := cmp.Or(c.cfg.PageID, "me")
	raw, err := c.graph.call(ctx, "", opSubscriptionCheck, http.MethodGet, page+"/subscribed_apps", nil, nil)
	if err != nil {
		var ge *GraphError
		if errors.As(err, &ge) && ge.PermissionMissing() {
			c.sub.mu.Lock()
			first := !c.sub.unreadable
			c.sub.unreadable = true
			c.sub.mu.Unlock()
			if first {
				c.log.Warn("Meta does not let vigie read whether the Page's webhooks come to it (pages_manage_metadata not granted?): "+
					"a Page unsubscribed from the app would go unnoticed", "err", err)
			}
			return
		}
		if ctx.Err() == nil {
			c.log.Debug("the Page's webhook subscription not read", "err", err)
		}
		return
	}
	var apps struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &apps); err != nil {
		c.log.Warn("the Page's webhook subscription not read: Graph's answer is not a list of apps", "err", err)
		return
	}
	subscribed := len(apps.Data) > 0
	now := c.cfg.Now()
	c.sub.mu.Lock()
	lost := c.sub.lost
	switch {
	case subscribed:
		c.sub.lost = time.Time{}
	case lost.IsZero():
		c.sub.lost = now
	}
	c.sub.unreadable = false
	c.sub.mu.Unlock()
	switch {
	case !subscribed && lost.IsZero():
		if !c.told.First("subscription "+page, subscriptionLost, now) {
			c.log.Info("the Page is not subscribed to vigie's app: another instance told the desk", "page", page)
			return
		}
		c.log.Error("Meta sends vigie no webhook for the Page: the app is not subscribed to it (removed in the Page's settings, or turned off by Meta); "+
			"nothing on the Page is judged until it is subscribed again", "page", page, "audit", true)
		c.queueAlert("⚠️ Meta no longer sends vigie the Page's comments, posts and messages: vigie's app is not subscribed to the Page " +
			"(removed in the Page's settings, or turned off by Meta). Nothing on the Page is judged until it is subscribed again: " +
			"curl -X POST \"" + c.cfg.GraphURL + "/" + page + "/subscribed_apps\" -d subscribed_fields=" + subscribeFields + " -d access_token=$META_PAGE_TOKEN. " +
			"Meta does not send again what was written meanwhile: look at it in Meta's tools.")
	case subscribed && !lost.IsZero():
		if !c.told.First("subscription "+page, subscriptionBack, now) {
			c.log.Info("the Page is subscribed to vigie's app again: another instance told the desk", "page", page)
			return
		}
		c.log.Info("the Page is subscribed to vigie's app again: Meta sends its webhooks", "page", page,
			"unsubscribed_for", bot.FormatDuration(now.Sub(lost).Round(time.Second)), "audit", true)
		c.queueAlert("✅ vigie's app is subscribed to the Page again: its comments, posts and messages are judged again. " +
			"What was written while it was not (found at " + lost.UTC().Format("15:04") + " UTC) was not sent by Meta: look at it in Meta's tools.")
	}
}

// The states of the Page's subscription told to the desk (told.Desk).
const (
	subscriptionLost = "lost"
	subscriptionBack = "back"
)

// pageDelivered is told of a delivery about the Page: while the checks
// found it unsubscribed, the subscription is read again now, since a
// delivery shows a CM may have subscribed it again.
func (c *Connector) pageDelivered() {
	if _, lost := c.sub.since(); !lost {
		return
	}
	select {
	case c.checkToken <- struct{}{}:
	default:
	}
}
