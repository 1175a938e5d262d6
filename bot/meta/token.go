package meta

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// AlertWith has the connector tell the CMs, through alert (the desk's urgent
// messages), what only they can mend: Meta refusing the page token, or the
// app secret it is proved with, which stops all moderation of the Page and
// the Instagram account; a permission missing for a kind of action on the
// Page or on Instagram; and the end of each; and a rate limit longer than
// vigie waits, once. Each trouble is said once, when it starts, and its end
// once it held clear for clearFor (steady.go); the token's and the rate
// limit's once across the instances on the store.
func (c *Connector) AlertWith(alert func(ctx context.Context, text string) error) {
	c.alert.Store(&alert)
}

// OnTokenTaken has the connector tell taken, in a goroutine of its own,
// when Meta takes the page token again after it refused it (or its proof):
// its first answer since, at the check of a token renewed
// (SetPageToken) or at any call. The daemon carries out then what the
// refusal left as cases, where still right late (handlers.LateOutcome).
func (c *Connector) OnTokenTaken(taken func()) {
	c.graph.taken.Store(&taken)
}

// alertWait bounds the sending of one alert to the desk.
const alertWait = 30 * time.Second

// The states of the page token told to the desk (told.Desk): refused
// (or its proof), or taken again.
const (
	credentialsRefused = "refused"
	credentialsTaken   = "taken"
)

// credentialsChanged is the graph's changed: it queues the alert for the
// desk, which Run sends, unless another instance on the store told it
// (told.Desk). The Graph call that saw it is not held up by the desk.
func (c *Connector) credentialsChanged(refused, proof bool, why string) {
	if c.alert.Load() == nil {
		return
	}
	state, was := credentialsTaken, "Meta takes the page token again"
	if refused {
		state, was = credentialsRefused, "Meta refuses the page token"
	}
	if !c.told.First("token "+cmp.Or(c.cfg.PageID, "me"), state, c.cfg.Now()) {
		c.log.Info(was + ": another instance told the desk")
		return
	}
	var text string
	switch {
	case refused && proof:
		text = "⚠️ Meta refuses vigie's appsecret_proof: META_APP_SECRET is not the app's current secret (was it reset in the App Dashboard?). " +
			"Comments on the Page and on Instagram are not hidden, deleted or answered, and Meta's deliveries are refused, until it is set and vigie restarted; " +
			"each comment that needed an action becomes a case. Meta said: " + why
	case refused:
		text = "⚠️ Meta refuses vigie's page token (expired, or revoked: a password changed, the app removed). " +
			"Comments on the Page and on Instagram are not hidden, deleted or answered until META_PAGE_TOKEN is renewed: write the new one in META_PAGE_TOKEN_FILE and /reload " +
			"(a restart works too, but without Redis it forgets the open cases); " +
			"each comment that needed an action becomes a case. Meta said: " + why
	default:
		text = "✅ Meta takes vigie's page token again, and has refused it for none of vigie's calls for " + clearForText +
			": comments on the Page and on Instagram are moderated again."
	}
	c.queueAlert(text)
}

// The states of a permission told to the desk (told.Desk).
const (
	permissionMissing = "refused"
	permissionGranted = "granted"
)

// permissionChanged is the graph's permission: it queues the alert for the
// desk that Meta refuses what on on (the Page, Instagram) for want of a
// permission, or, refused false, that this trouble is over, unless another
// instance on the store told it (told.Desk).
func (c *Connector) permissionChanged(on, what string, refused bool, why string) {
	if c.alert.Load() == nil {
		return
	}
	where := "on the Page or on Instagram"
	switch on {
	case Facebook:
		where = "on the Page"
	case Instagram:
		where = "on Instagram"
	}
	state := permissionGranted
	if refused {
		state = permissionMissing
	}
	if !c.told.First("permission "+cmp.Or(c.cfg.PageID, "me")+" "+on+"|"+what, state, c.cfg.Now()) {
		if refused {
			c.log.Info("Meta refuses an action for want of a permission: another instance told the desk", "action", what, "on", on)
		} else {
			c.log.Info("Meta carries the action out again: another instance told the desk", "action", what, "on", on)
		}
		return
	}
	if !refused {
		c.queueAlert(fmt.Sprintf("✅ Meta carries out vigie's %s %s again, and has refused none for %s: its permission is there.",
			what, where, clearForText))
		return
	}
	if strings.HasSuffix(what, " read-back") {
		c.queueAlert(fmt.Sprintf("⚠️ Meta refuses vigie's %s %s for want of a permission: when Meta's answer to an action is lost, "+
			"vigie cannot read back whether it was done (pages_read_engagement and pages_read_user_content for comments; pages_messaging "+
			"and pages_manage_metadata, or instagram_manage_messages, for conversations). Meta said: %s", what, where, why))
		return
	}
	text := fmt.Sprintf("⚠️ Meta refuses vigie's %s %s for want of a permission. "+
		"Until the app is granted it (pages_manage_engagement to hide, delete and reply; pages_manage_posts for visitors' posts; "+
		"pages_messaging for private replies; instagram_manage_comments on Instagram) and META_PAGE_TOKEN renewed, each %s %s becomes a case; "+
		"the desk is told when it has been carried out again for %s. Meta said: %s",
		what, where, what, where, clearForText, why)
	c.queueAlert(text)
}

// rateLimited tells the desk, once a limit, that Meta limits vigie's calls
// until until (for wait), and what becomes of the actions meanwhile: the
// cases they are left as have no card each (handlers.Options.LimitWaits).
func (c *Connector) rateLimited(until time.Time, wait time.Duration, why string) {
	if c.alert.Load() == nil {
		return
	}
	c.queueAlert(fmt.Sprintf("⏳ Meta limits vigie's calls on the Page and on Instagram for about %s, until %s UTC (%s). "+
		"Hides, deletes, blocks and public answers wait, each a case in /queue without a card here, and vigie carries them out "+
		"in the order the comments came once the limit ends; an answer is not given more than an hour after its question. "+
		"What is still not done an hour after it was left, and warnings, get their cards here as cases.",
		bot.FormatDuration(wait), until.UTC().Format("15:04"), why))
}

// queueAlert queues text for the desk, which tellDesk sends; with too many
// waiting, it is logged instead.
func (c *Connector) queueAlert(text string) {
	select {
	case c.alerts <- text:
	default:
		c.log.Warn("alert for the desk not sent: too many waiting", "alert", text)
	}
}

// tellDesk sends the queued alerts to the desk until ctx ends. An alert
// being sent then is given until sends ends (the drain's end), so that a
// desk that does not answer does not hold vigie's stop.
func (c *Connector) tellDesk(ctx, sends context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case text := <-c.alerts:
			alert := c.alert.Load()
			if alert == nil {
				continue
			}
			actx, cancel := context.WithTimeout(sends, alertWait)
			if err := (*alert)(actx, text); err != nil {
				c.log.Warn("alert not shown on the desk", "alert", text, "err", err)
			}
			cancel()
		}
	}
}

// tokenFileTrouble names, with the Page, the trouble of a token in
// META_PAGE_TOKEN_FILE that Meta refuses (told.Desk); its states are
// "refused" and a few bytes of the token's hash, or "taken".
const tokenFileTrouble = "token file "

// tokenCheckAgain is how soon a check of the page token that got no answer
// from Graph (vigie started before its network, Graph down) is made again.
const tokenCheckAgain = time.Minute

// watchToken asks Graph whether it takes the page token (GET /me?fields=id)
// as Run starts, then every TokenCheckEvery: a token mistyped, expired or
// revoked is then said (the log, /-/ready, the desk) before a comment needs
// an action, not hours later at the first one. A check Graph did not answer
// is made again sooner; Graph's other failures (down, a rate limit) are left
// to the actions to tell. With the token taken, it reads whether the Page is
// still subscribed to vigie's app (checkSubscription), every minute while it
// is not. The Page's Instagram account, when its read got no answer, is
// read again sooner, after igReadFirst, then twice as long each time, up to
// tokenCheckAgain, until the next check.
func (c *Connector) watchToken(ctx context.Context) {
	for {
		wait, igAgain := c.checkTokenNow(ctx)
		// On the wall clock: the pauses between checks of the token, and
		// between reads of the Instagram account, over the network.
		due := time.Now().Add(wait)
		igWait := igReadFirst
		for {
			d, retry := time.Until(due), false
			if igAgain && igWait < d {
				d, retry = igWait, true
			}
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			case <-c.checkToken:
				t.Stop()
				retry = false
			}
			if !retry {
				break
			}
			igAgain = c.learnInstagram(ctx)
			igWait = min(2*igWait, tokenCheckAgain)
		}
	}
}

// igReadFirst is how soon the Page's Instagram account is read again after
// a read that got no answer from Graph.
const igReadFirst = 2 * time.Second

// checkTokenNow is one check of watchToken's: it returns how long until the
// next, and whether the Page's Instagram account's read got no answer and
// is to be made again sooner.
func (c *Connector) checkTokenNow(ctx context.Context) (wait time.Duration, igAgain bool) {
	raw, err := c.graph.call(ctx, "", "token check", http.MethodGet, "me", url.Values{"fields": {"id"}}, nil)
	if err == nil {
		c.learnTokenPage(raw)
		igAgain = c.learnInstagram(ctx)
	}
	if ctx.Err() == nil {
		c.ownChecked()
	}
	wait = c.cfg.TokenCheckEvery
	var ge *GraphError
	if err != nil && ctx.Err() == nil && !(errors.As(err, &ge) && ge.CredentialsRefused()) {
		c.log.Debug("page token check not answered", "err", err)
		if !errors.As(err, &ge) {
			wait = min(wait, tokenCheckAgain)
		}
	}
	if err == nil {
		c.checkSubscription(ctx)
	}
	if _, lost := c.sub.since(); lost {
		// A CM subscribing the Page again hears of it within a
		// minute, even when no comment comes to show it.
		wait = min(wait, tokenCheckAgain)
	}
	return wait, igAgain
}

// learnTokenPage records the Page the page token is, from GET /me's answer,
// when META_PAGE_ID does not say it: the entries of other Pages the app is
// subscribed to are refused from then on. Said in the log when it is first
// learned, or changes (a token of another Page put in the file).
//
// A token found to be another Page's than the one vigie moderates (META_PAGE_ID,
// or the Page learned before: a token read again at a reload when Meta could
// not be asked) does not move vigie to that Page: its deliveries stay those
// taken, their actions refused by Meta are cases, and the log and the desk
// say whose the token is.
func (c *Connector) learnTokenPage(raw []byte) {
	var me struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &me) != nil || me.ID == "" {
		return
	}
	if page := c.ownPage(); page != "" && page != me.ID {
		c.otherPagesToken(page, me.ID, "the page token in use is")
		return
	}
	if c.cfg.PageID != "" {
		return
	}
	if old := c.tokenPage.Swap(&me.ID); old == nil || *old != me.ID {
		c.log.Info("the page token is the Page's: deliveries about other Pages are refused (META_PAGE_ID not set)", "page", me.ID)
	}
}

// ownPage is the id of the Page vigie moderates: META_PAGE_ID, or the Page
// the token's first check found; "" until Graph said it.
func (c *Connector) ownPage() string {
	if c.cfg.PageID != "" {
		return c.cfg.PageID
	}
	if p := c.tokenPage.Load(); p != nil {
		return *p
	}
	return ""
}

// otherPagesToken says, in the log and once on the desk (across the
// instances on the store), that a token (what: read in the file, or in
// use) is not the Page page's, which vigie moderates, but id's: another
// Page's, or a user's token, whose GET /me names the user.
func (c *Connector) otherPagesToken(page, id, what string) {
	c.log.Error(what+" the token of another Page than the one vigie moderates (or a user's token): the Page's deliveries are still taken, and the actions Meta refuses them are cases",
		"page", page, "token_of", id)
	if !c.told.First(tokenFileTrouble+cmp.Or(c.cfg.PageID, "me"), "other page "+id, c.cfg.Now()) {
		return
	}
	c.queueAlert("⚠️ " + strings.ToUpper(what[:1]) + what[1:] + " a token that is not the page token of Page " + page + ", which vigie moderates: Meta says it is " + id +
		"'s (another Page's, or a user's token). vigie keeps the one in use and goes on with Page " + page +
		": write its page token in META_PAGE_TOKEN_FILE and /reload. To moderate another Page, set META_PAGE_ID to it and restart vigie.")
}

// opAccountRead reads which Instagram account is linked to the Page.
const opAccountRead bot.ActionKind = "instagram account read"

// learnInstagram records the Instagram professional account linked to the
// Page (GET /{page-id}?fields=instagram_business_account), when
// META_INSTAGRAM_ID does not say it: the entries of other accounts the app
// is subscribed to are refused from then on. Said in the log when it is
// first learned, or changes; a Page with no account linked, or an answer
// refused (instagram_basic not granted), leaves every account's entries
// taken, as before. It reports whether the read got no answer from Graph
// (the network, Graph down), and is worth making again soon: meanwhile the
// entries are refused against the account read before, or, none read yet,
// every account's are taken; the log says which, once until it is read.
func (c *Connector) learnInstagram(ctx context.Context) (again bool) {
	if c.cfg.InstagramID != "" {
		return false
	}
	page := c.cfg.PageID
	if p := c.tokenPage.Load(); page == "" && p != nil {
		page = *p
	}
	if page == "" {
		return false
	}
	raw, err := c.graph.call(ctx, "", opAccountRead, http.MethodGet, page, url.Values{"fields": {"instagram_business_account"}}, nil)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		var ge *GraphError
		again = !errors.As(err, &ge) || ge.Transient || ge.Status >= http.StatusInternalServerError
		if c.igUnread.Swap(true) {
			c.log.Debug("the Page's Instagram account not read", "err", err, "again", again)
			return again
		}
		switch a := c.igAccount.Load(); {
		case a != nil:
			c.log.Warn("the Page's Instagram account not read again: deliveries about other accounts than the one read before are still refused",
				"account", *a, "err", err, "read_again_in", readAgainIn(again))
		default:
			c.log.Warn("the Page's Instagram account not read: deliveries about every Instagram account are taken until it is (set META_INSTAGRAM_ID to name it)",
				"err", err, "read_again_in", readAgainIn(again))
		}
		return again
	}
	if c.igUnread.Swap(false) {
		c.log.Info("the Page's Instagram account read again")
	}
	var p struct {
		Account *struct {
			ID string `json:"id"`
		} `json:"instagram_business_account"`
	}
	if json.Unmarshal(raw, &p) != nil || p.Account == nil || p.Account.ID == "" {
		return false
	}
	if old := c.igAccount.Swap(&p.Account.ID); old == nil || *old != p.Account.ID {
		c.log.Info("the Page's Instagram account is the one linked to it: deliveries about other accounts are refused (META_INSTAGRAM_ID not set)",
			"account", p.Account.ID)
	}
	return false
}

// readAgainIn says when the Page's Instagram account is read again after a
// failed read: soon when Graph did not answer, else at the token's next check.
func readAgainIn(again bool) string {
	if again {
		return bot.FormatDuration(igReadFirst) + ", then less and less often"
	}
	return "the token's next check"
}

// ownChecked says that the token's first check has ended: what it learned
// of the Page and its Instagram account is known, or Graph did not say.
func (c *Connector) ownChecked() {
	c.ownKnownOnce.Do(func() { close(c.ownKnown) })
}

// SetPageToken replaces the page token vigie's Graph calls carry: a CM
// renewed an expired one (META_PAGE_TOKEN_FILE, read again at a reload), and
// the cases opened meanwhile stay, which a restart on the memory store would
// forget. It reports whether the token changed; a new one is checked at once
// (GET /me), so that the desk hears whether Meta takes it.
//
// A token Meta refuses (the file read half written, or holding another
// token than meant) does not replace the one in use when Meta still takes
// that one: it is logged, and the desk told, and the one in use kept. When
// Meta cannot be asked within ctx, the new token is taken, as asked.
func (c *Connector) SetPageToken(ctx context.Context, token string) bool {
	current := c.graph.pageToken()
	if token == "" || token == current {
		return false
	}
	if r := c.refusedToken.Load(); r != nil && *r == token {
		c.log.Warn("META_PAGE_TOKEN_FILE still holds the token Meta refused: the page token in use is kept")
		return false
	}
	if r := c.foreignToken.Load(); r != nil && *r == token {
		c.log.Warn("META_PAGE_TOKEN_FILE still holds the token of another Page than the one vigie moderates: the page token in use is kept")
		return false
	}
	var ge *GraphError
	id, err := c.graph.tryToken(ctx, token)
	if page := c.ownPage(); err == nil && id != "" && page != "" && id != page {
		// A CM who looks after several Pages copied another's token (or
		// their own user token): taken, it would leave every comment of
		// the Page unacted on and, without META_PAGE_ID, refused once its
		// check said whose it is.
		c.foreignToken.Store(&token)
		c.otherPagesToken(page, id, "META_PAGE_TOKEN_FILE holds")
		return false
	}
	if errors.As(err, &ge) && ge.CredentialsRefused() {
		var cge *GraphError
		if _, cerr := c.graph.tryToken(ctx, current); cerr == nil || !(errors.As(cerr, &cge) && cge.CredentialsRefused()) {
			c.log.Error("META_PAGE_TOKEN_FILE holds a token Meta refuses (written only in part, or not the page token?): the page token in use, which Meta takes, is kept",
				"err", err)
			c.refusedToken.Store(&token)
			// Each instance reads the file at the reload: one tells the
			// desk, and again for another token refused.
			sum := sha256.Sum256([]byte(token))
			if !c.told.First(tokenFileTrouble+cmp.Or(c.cfg.PageID, "me"), "refused "+hex.EncodeToString(sum[:6]), c.cfg.Now()) {
				c.log.Info("META_PAGE_TOKEN_FILE holds a token Meta refuses: another instance told the desk")
				return false
			}
			c.queueAlert("⚠️ The page token in META_PAGE_TOKEN_FILE is refused by Meta (written only in part, or not the page token?): vigie keeps the one in use, which Meta takes. " +
				"Write the whole token in the file and /reload. Meta said: " + err.Error())
			return false
		}
	}
	c.graph.token.Store(&token)
	// A refused token written in the file again is a new trouble, told.
	c.told.First(tokenFileTrouble+cmp.Or(c.cfg.PageID, "me"), "taken", c.cfg.Now())
	c.log.Info("page token replaced: Meta is asked at once whether it takes it")
	select {
	case c.checkToken <- struct{}{}:
	default:
	}
	return true
}
