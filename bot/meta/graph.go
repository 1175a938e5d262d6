package meta

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// graph is the small Graph API client vigie needs: one call shape, Meta's error
// JSON classified into bot.ActionError.
type graph struct {
	base string
	// token is the page token the calls carry: replaced, at a reload, by a
	// renewed one (Connector.SetPageToken).
	token  atomic.Pointer[string]
	secret string
	hc     *http.Client
	log    *slog.Logger

	// refusedMu guards refusedSince and refusal: set while Meta refuses the
	// page token (expired, revoked), so that the connector's Link says so
	// at once; and troubles, the conditions told to the desk (the token
	// refused, a permission missing for a kind of call on the Page or on
	// Instagram), by key (troubleKey, tokenTrouble), each said once when it
	// starts and once when it held clear for clearFor, not for every call.
	refusedMu    sync.Mutex
	refusedSince time.Time
	refusal      string
	troubles     map[string]*trouble
	// tellMu makes a trouble's change and its telling one step, so that
	// the desk hears of a trouble's end and of the next one's start in
	// the order they came, whichever calls saw them.
	tellMu sync.Mutex
	// permission, when set, is told when Meta starts refusing what (a kind
	// of call) on on (Facebook, Instagram; "" for both) for want of a
	// permission, and when that trouble is over.
	permission func(on, what string, refused bool, why string)

	// changed, when set, is told when Meta starts refusing the page token
	// (or its proof: the app secret) and when that trouble is over.
	changed func(refused, proof bool, why string)
	// taken, when set, is told, in a goroutine of its own, of the first
	// call Meta answers after it refused the page token (or its proof):
	// Connector.OnTokenTaken.
	taken atomic.Pointer[func()]
	// posted, when set, is told of each comment vigie wrote (its platform
	// and Graph id), whose webhook comes back as any comment's.
	posted func(platform, id string)
	// limited, when set, is told when Meta starts limiting vigie's calls
	// for longer than the retry stage waits: until when, and Meta's why.
	// Once a limit: not again while it lasts (limitUntil), nor when another
	// instance on the store told it (Config.Answers).
	limited func(until time.Time, wait time.Duration, why string)
	// limitMu guards the limit known (limit.go): its end, Meta's why, the
	// probe out, and the run carrying out what it left.
	limitMu    sync.Mutex
	limitUntil time.Time
	limitWhy   string
	probeRun   *bot.LateRun
	probeSent  bool
	draining   *bot.LateRun
	drainSaid  time.Time
	// id names this process's probe in the store (limitProbeKey).
	id string
	// now is the connector's clock.
	now func() time.Time
	// callsMu guards calls: the actions not to be done twice (by key, see
	// once) whose last call got no answer, or a 5xx (Meta may have carried
	// them out: the next try must not do them again), or was carried out.
	callsMu sync.Mutex
	calls   map[string]callState
	// answers, when set, keeps the answers' states for the other instances
	// and the next start (Config.Answers); answersLogged spaces the log
	// line of its failures.
	answers       store.CallKeeper
	answersLogged bot.Turn
	// usageLogged spaces the warnings of the usage headers past 80%, by
	// header: a brigade's hides each carry one.
	usageLogged bot.Turns
}

// callState is what is known of an action not to be done twice.
type callState struct {
	at   time.Time // when its outcome became unknown, or it was done
	done bool      // carried out; else its outcome is unknown
}

// Bounds of what is remembered of the actions not to be done twice: long
// enough for the retry stage (seconds), a CM at the desk (hours), and a
// comment edited and judged again within Meta's 7 days of private replies.
const (
	callsKeep = privateReplyWindow
	callsMost = 50000
)

// outcomeUnknown reports whether err leaves it unknown whether Meta carried
// the call out: no answer came (a timeout, a reset) or a 5xx did. A 4xx, rate
// limits included, is Meta saying it did nothing; a call that never left (no
// connection: refused, the name not found) did nothing either.
func outcomeUnknown(err error) bool {
	var ae *bot.ActionError
	if !errors.As(err, &ae) || !ae.Retryable {
		return false
	}
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge.Status >= 500
	}
	var oe *net.OpError
	var dns *net.DNSError
	if (errors.As(err, &oe) && oe.Op == "dial") || errors.As(err, &dns) {
		return false
	}
	return true
}

// callOf says what is known of the action key: by this process, or, for
// an answer (shared), by the store, which the other instances on it and
// this one before a restart told.
func (g *graph) callOf(ctx context.Context, key string) (callState, bool) {
	g.callsMu.Lock()
	st, ok := g.calls[key]
	g.callsMu.Unlock()
	if ok || g.answers == nil || !shared(key) {
		return st, ok
	}
	sctx, cancel := context.WithTimeout(ctx, answersWait)
	r, ok, err := g.answers.Call(sctx, key)
	cancel()
	if err != nil {
		g.answersFailed("read", err)
		return callState{}, false
	}
	if !ok || g.now().Sub(r.At) > keepFor(key) {
		return callState{}, false
	}
	st = callState{at: r.At, done: r.Done}
	g.callsMu.Lock()
	if _, known := g.calls[key]; !known {
		g.remember(key, st)
	}
	g.callsMu.Unlock()
	return st, true
}

// answersWait bounds a read or a write of the answers given in the store.
const answersWait = 5 * time.Second

// shared reports whether the action key is kept in the store as well: an
// answer (a public or private reply, a message, a warning), and a removal
// Meta told of (removedKey), which reaches one instance of those behind the
// address. A delete is kept by this process only, as a second one answered
// "does not exist" is a case at worst, and a raid's deletes would each cost
// a write.
func shared(key string) bool {
	return !strings.HasPrefix(key, "delete ")
}

// keepFor is how long the store keeps the action key: a removal, as long
// as a delivery about the comment may still be judged (MaxAge, with the
// clocks' skew); an answer, callsKeep.
func keepFor(key string) time.Duration {
	if strings.HasPrefix(key, removedPrefix) {
		return removedKeep
	}
	return callsKeep
}

// removedKeep is how long a removal is remembered: a comment's add, or an
// edit, delivered late (Meta retries for up to 36 hours) is judged until
// MaxAge.
const removedKeep = MaxAge + 2*MaxSkew

// keep records st for the action key, here and, for an answer or a
// removal (shared), in the store.
func (g *graph) keep(ctx context.Context, key string, st callState) {
	g.callsMu.Lock()
	g.remember(key, st)
	g.callsMu.Unlock()
	if g.answers == nil || !shared(key) {
		return
	}
	// Kept even when the action's context ends now: the answer went out.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answersWait)
	defer cancel()
	if err := g.answers.KeepCall(sctx, key, store.CallRecord{At: st.at, Done: st.done}, keepFor(key)); err != nil {
		g.answersFailed("write", err)
	}
}

// answersFailed logs, once a minute at most, that the store did not keep
// or give the answers given.
func (g *graph) answersFailed(op string, err error) {
	if g.answersLogged.Take(g.now(), time.Minute) {
		g.log.Warn("the store did not "+op+" the answers given: this instance knows only its own, and another one, or this one after a restart, may answer again", "err", err)
	}
}

// remember records st for the action key, forgetting the oldest states.
// callsMu is held.
func (g *graph) remember(key string, st callState) {
	if g.calls == nil {
		g.calls = map[string]callState{}
	}
	if _, known := g.calls[key]; !known && len(g.calls) >= callsMost {
		g.forgetOldest(st.at)
	}
	g.calls[key] = st
}

// forgetOldest makes room in a full calls: those older than callsKeep go,
// then the oldest until a tenth is free, so that this is not done for each
// action once full. The newest stay: a call whose answer was just lost is
// tried again within seconds, and must be known then. callsMu is held.
func (g *graph) forgetOldest(now time.Time) {
	type aged struct {
		key string
		at  time.Time
	}
	left := make([]aged, 0, len(g.calls))
	for k, st := range g.calls {
		if now.Sub(st.at) > callsKeep {
			delete(g.calls, k)
			continue
		}
		left = append(left, aged{k, st.at})
	}
	extra := len(left) - callsMost*9/10
	if extra <= 0 {
		return
	}
	slices.SortFunc(left, func(a, b aged) int { return a.at.Compare(b.at) })
	for _, a := range left[:extra] {
		delete(g.calls, a.key)
	}
}

// once settles the call of the action key, which is not to be done twice
// (a delete, a private reply, a public reply), with the error it returned.
// Done, it is remembered; an error that leaves the outcome unknown is
// remembered too, then returned for the retry stage. An error that says the
// action was done already (done), after vigie did it or a call of it went
// unanswered, is not a failure that would open a case: nil.
func (g *graph) once(ctx context.Context, key string, err error, done func(*GraphError) bool) error {
	switch {
	case err == nil:
		g.keep(ctx, key, callState{at: g.now(), done: true})
		return nil
	case outcomeUnknown(err):
		g.callsMu.Lock()
		st, known := g.calls[key]
		g.callsMu.Unlock()
		if !known || st.done {
			g.keep(ctx, key, callState{at: g.now()})
		}
		return err
	}
	var ge *GraphError
	if !errors.As(err, &ge) || !done(ge) {
		return err
	}
	st, known := g.callOf(ctx, key)
	if !known {
		return err
	}
	g.keep(ctx, key, callState{at: g.now(), done: true})
	how := "by an earlier call whose answer was lost"
	if st.done {
		how = "by vigie already"
	}
	g.log.Info("action done "+how+": Meta refuses it again", "action", key, "answer", ge.Message)
	return nil
}

// removedKey names, among the calls remembered, a comment or a post Meta said
// was removed (a feed change with verb remove: by its author, or by the Page
// in Meta's tools).
func removedKey(id string) string { return removedPrefix + id }

const removedPrefix = "removed "

// noteRemoved remembers that Meta said the comment or post id was removed:
// here, and in the store (Config.Answers), since Meta sends the removal to
// one of the instances behind the address and any may hold the comment's
// action. The store is written before Meta is answered, so that a removal
// acknowledged is known to the others.
func (g *graph) noteRemoved(id string) {
	g.keep(context.Background(), removedKey(id), callState{at: g.now(), done: true})
}

// removedAt says when Meta said the comment or post id was removed (to this
// instance, or to another on the store), and whether it did.
func (g *graph) removedAt(ctx context.Context, id string) (time.Time, bool) {
	st, ok := g.callOf(ctx, removedKey(id))
	return st.at, ok
}

// removedAlready reports whether Meta said the comment or post id was
// removed (to this instance, or to another on the store), and then logs
// that op has nothing left to do: what it was for, the comment no longer
// shown, is so. Meta answers a call on it "does not exist" (code 100,
// subcode 33), as it answers a missing permission: without its removal,
// that answer is a failure and a case. on is where the comment was
// (Facebook, Instagram).
func (g *graph) removedAlready(ctx context.Context, on string, op bot.ActionKind, id string) bool {
	st, ok := g.callOf(ctx, removedKey(id))
	if ok {
		g.log.Info("comment removed on "+placeName(on)+" before vigie's "+string(op)+" (by its author, or in Meta's tools): nothing left to do",
			"comment", id, "removed", st.at)
	}
	return ok
}

// opGoneCheck names the read of an Instagram comment that Graph said does
// not exist, which tells a comment removed from one Graph may not show.
const opGoneCheck bot.ActionKind = "comment read"

// removedFromInstagram reports whether err, Graph's answer to op on the
// Instagram comment id, says that the comment was removed (by its author,
// or in Instagram's app) before vigie acted; it is then remembered as a
// removal, and logged: what op was for has nothing left to do. Instagram
// sends no webhook when a comment is removed, and Graph answers a call on
// it as on any object gone, "does not exist" (code 100, subcode 33), which
// it also answers for an object the token may not see: a read of the
// comment (GET /{ig-comment-id}?fields=id) answered the same tells it is
// gone; a read that finds it, or fails otherwise, leaves err a failure.
func (g *graph) removedFromInstagram(ctx context.Context, op bot.ActionKind, id string, err error) bool {
	if !gone(err) || id == "" {
		return false
	}
	_, rerr := g.call(ctx, Instagram, opGoneCheck, http.MethodGet, url.PathEscape(id), url.Values{"fields": {"id"}}, nil)
	if !gone(rerr) {
		return false
	}
	g.keep(ctx, removedKey(id), callState{at: g.now(), done: true})
	g.log.Info("comment removed on Instagram before vigie's "+string(op)+" (Graph answers that it does not exist, and Instagram sends no removal): nothing left to do",
		"comment", id)
	return true
}

// placeName names where a call acts, for the log.
func placeName(on string) string {
	if on == Instagram {
		return "Instagram"
	}
	return "Facebook"
}

// Gone reports whether Meta answered that the object does not exist (or is
// not visible to the page): code 100, subcode 33.
func (e *GraphError) Gone() bool { return e.Code == 100 && e.Subcode == 33 }

// AlreadyRepliedPrivately reports whether Meta refused a private reply as
// the comment's or post's one private reply was sent already: code 10900.
func (e *GraphError) AlreadyRepliedPrivately() bool { return e.Code == 10900 }

// tokenRefused records that Meta refused the page token, or the app secret
// it is proved with, with why. A refusal while the trouble is under way
// (within clearFor of Meta taking it again) is part of it, not told again.
func (g *graph) tokenRefused(ge *GraphError, err error) {
	g.tellMu.Lock()
	defer g.tellMu.Unlock()
	g.refusedMu.Lock()
	if g.refusedSince.IsZero() {
		g.refusedSince = g.now()
	}
	g.refusal = err.Error()
	first := g.troubleStarts(tokenTrouble, "", "", g.now())
	g.refusedMu.Unlock()
	switch {
	case !first:
		return
	case ge.ProofInvalid():
		g.log.Error("Meta refused the appsecret_proof: comments are not hidden, deleted or answered until META_APP_SECRET is the app's current secret (was it reset in the App Dashboard?); each becomes a case", "err", err)
	default:
		g.log.Error("Meta refused the page token: comments are not hidden, deleted or answered until META_PAGE_TOKEN is renewed; each becomes a case", "err", err)
	}
	if g.changed != nil {
		g.changed(true, ge.ProofInvalid(), err.Error())
	}
}

// tokenTaken records that Meta answered a call: the page token, and the app
// secret it is proved with, are good. The trouble is over, for the desk,
// once no refusal came for clearFor (settle).
func (g *graph) tokenTaken() {
	g.refusedMu.Lock()
	g.refusedSince, g.refusal = time.Time{}, ""
	eases := g.troubleEases(tokenTrouble, g.now())
	g.refusedMu.Unlock()
	if eases {
		g.log.Info("Meta takes the page token again: the desk is told once it has refused none for " + clearForText)
		if f := g.taken.Load(); f != nil {
			go (*f)()
		}
	}
}

// refused says since when and why Meta refuses the page token; ok is false
// while it takes it.
func (g *graph) refused() (since time.Time, why string, ok bool) {
	g.refusedMu.Lock()
	defer g.refusedMu.Unlock()
	return g.refusedSince, g.refusal, !g.refusedSince.IsZero()
}

// GraphError is an error answer of the Graph API, as Meta documents it:
// {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}.
type GraphError struct {
	Status    int    `json:"-"`
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	Transient bool   `json:"is_transient"`
	FBTraceID string `json:"fbtrace_id"`
}

func (e *GraphError) Error() string {
	s := fmt.Sprintf("graph api: %s (HTTP %d, code %d", e.Message, e.Status, e.Code)
	if e.Subcode != 0 {
		s += fmt.Sprintf(", subcode %d", e.Subcode)
	}
	if e.FBTraceID != "" {
		s += ", fbtrace_id " + e.FBTraceID
	}
	return s + ")"
}

// pageToken is the page token the calls carry now.
func (g *graph) pageToken() string {
	if t := g.token.Load(); t != nil {
		return *t
	}
	return ""
}

// call makes one Graph request, on on (Facebook, Instagram; "" for a call
// about both, such as the token's check). params go in the query for GET and DELETE and in a
// form body for POST; a non-nil jsonBody is sent as JSON instead. The token goes in
// the Authorization header, out of URLs and logs, with the appsecret_proof Meta
// asks for when the app requires it.
func (g *graph) call(ctx context.Context, on string, op bot.ActionKind, method, path string, params url.Values, jsonBody any) (json.RawMessage, error) {
	defer g.settle()
	token := g.pageToken()
	if token == "" {
		return nil, &bot.ActionError{Op: op, Err: errors.New("no page token: set META_PAGE_TOKEN")}
	}
	if params == nil {
		params = url.Values{}
	}
	if g.secret != "" {
		mac := hmac.New(sha256.New, []byte(g.secret))
		mac.Write([]byte(token))
		params.Set("appsecret_proof", hex.EncodeToString(mac.Sum(nil)))
	}
	probe, err := g.gate(ctx, op)
	if err != nil {
		return nil, err
	}
	if probe {
		defer g.probed(ctx)
	}
	u := g.base + "/" + strings.TrimLeft(path, "/")
	var body io.Reader
	contentType := ""
	switch {
	case jsonBody != nil:
		b, err := json.Marshal(jsonBody)
		if err != nil {
			return nil, &bot.ActionError{Op: op, Err: fmt.Errorf("encode request: %w", err)}
		}
		body, contentType = bytes.NewReader(b), "application/json"
		u += "?" + params.Encode()
	case method == http.MethodPost:
		body, contentType = strings.NewReader(params.Encode()), "application/x-www-form-urlencoded"
	default:
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, &bot.ActionError{Op: op, Err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := g.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &bot.ActionError{Op: op, Retryable: true, Err: fmt.Errorf("%s %s: %w", method, path, err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &bot.ActionError{Op: op, Retryable: true, Err: fmt.Errorf("%s %s: read answer: %w", method, path, err)}
	}
	g.watchUsage(resp.Header)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if probe {
			g.limitLifted(ctx)
		} else if wait := usageLimit(resp.Header); wait > longLimit {
			// Carried out, but the usage headers say the next would not be.
			g.limitKnown(ctx, wait, "usage headers: "+usageText(resp.Header), false)
		}
		g.tokenTaken()
		g.opTaken(on, op, method)
		var ok struct {
			Success *bool `json:"success"`
		}
		if json.Unmarshal(raw, &ok) == nil && ok.Success != nil && !*ok.Success {
			return nil, &bot.ActionError{Op: op, Err: fmt.Errorf("%s %s: graph api answered success=false", method, path)}
		}
		return raw, nil
	}
	err = classify(op, resp, raw)
	limitedStill := false
	if ge := (*GraphError)(nil); errors.As(err, &ge) {
		switch {
		case ge.RateLimited() || ge.Status == http.StatusTooManyRequests:
			limitedStill = true
			g.limitSeen(ctx, err, ge, probe)
		case ge.CredentialsRefused():
			g.tokenRefused(ge, err)
		case ge.PermissionMissing() && op != opBanCheck && op != opGoneCheck && op != opSubscriptionCheck && op != opAccountRead:
			// The blocked list's read only checks the book: refused,
			// the book decides (BanOf), and the actions are not
			// hindered; nor is the desk told. Nor of a comment's read
			// after a "does not exist": the action's refusal stands.
			// Nor of the subscription's read, which only watches,
			// nor of the linked Instagram account's.
			g.permissionRefused(on, op, method, err)
		}
	}
	if probe && !limitedStill {
		// Meta answered, and not that it limits: the limit is over.
		g.limitLifted(ctx)
	}
	return nil, err
}

// tryToken asks Graph whether it takes token (GET /me?fields=id), without
// using it for anything else and without the side effects of call (the
// token in use is not said refused, nor taken): a token read again at a
// reload is weighed before it replaces the one in use. It returns the id
// Graph answers (the Page the token is, or whose it is), and nil when Graph
// takes it; Graph's refusal, or why it did not answer.
func (g *graph) tryToken(ctx context.Context, token string) (id string, err error) {
	params := url.Values{"fields": {"id"}}
	if g.secret != "" {
		mac := hmac.New(sha256.New, []byte(g.secret))
		mac.Write([]byte(token))
		params.Set("appsecret_proof", hex.EncodeToString(mac.Sum(nil)))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/me?"+params.Encode(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := g.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var me struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(raw, &me)
		return me.ID, nil
	}
	return "", classify("token check", resp, raw)
}

// permissionRefused records that Meta refused op on on (Facebook,
// Instagram) for want of a permission: said once (an error, and the desk
// told) for the trouble, which lasts until a call of that kind, there,
// was carried out and clearFor went by without a refusal.
func (g *graph) permissionRefused(on string, op bot.ActionKind, method string, err error) {
	key, what := troubleKey(on, op, method)
	g.tellMu.Lock()
	defer g.tellMu.Unlock()
	g.refusedMu.Lock()
	first := g.troubleStarts(key, on, what, g.now())
	g.refusedMu.Unlock()
	if !first {
		return
	}
	g.log.Error("Meta refused an action for want of a permission: each one like it becomes a case until the app is granted it", "action", what, "on", on, "err", err)
	if g.permission != nil {
		g.permission(on, what, true, err.Error())
	}
}

// opTaken records that Meta carried op out on on: its permission is there.
func (g *graph) opTaken(on string, op bot.ActionKind, method string) {
	key, what := troubleKey(on, op, method)
	g.refusedMu.Lock()
	eases := g.troubleEases(key, g.now())
	g.refusedMu.Unlock()
	if eases {
		g.log.Info("Meta carries the action out again: the desk is told once it has refused none for "+clearForText, "action", what, "on", on)
	}
}

// TokenInvalid reports whether Meta refused the access token itself (expired,
// revoked, the user changed their password), rather than this call.
func (e *GraphError) TokenInvalid() bool {
	return e.Code == 190 || e.Code == 102 || e.Type == "OAuthException" && e.Code == 0
}

// ProofInvalid reports whether Meta refused the call's appsecret_proof: the
// app secret vigie has (META_APP_SECRET) is not the app's, most often because
// it was reset in the App Dashboard. Every call fails alike until it is set.
func (e *GraphError) ProofInvalid() bool {
	return e.Code == 100 && strings.Contains(e.Message, "appsecret_proof")
}

// CredentialsRefused reports whether Meta refused what every call carries, the
// page token or the appsecret_proof, rather than this call: all calls fail
// alike until an operator changes the configuration.
func (e *GraphError) CredentialsRefused() bool { return e.TokenInvalid() || e.ProofInvalid() }

// PermissionMissing reports whether Meta refused the call for want of a
// permission of the app or the token (codes 3, 10, 200-299), rather than for
// the token itself, a rate limit, a passing failure or Messenger's 24-hour
// window.
func (e *GraphError) PermissionMissing() bool {
	c := e.Code
	return !e.CredentialsRefused() && !e.RateLimited() && !e.Transient && !(c == 10 && e.Subcode == 2018278) &&
		(c == 3 || c == 10 || (c >= 200 && c <= 299))
}

// RateLimited reports whether Meta answered that vigie calls too often: the
// app's, the page's, the user's or a business use case's limit.
func (e *GraphError) RateLimited() bool {
	c := e.Code
	return c == 4 || c == 17 || c == 32 || c == 613 || c == 341 || (c >= 80001 && c <= 80014)
}

// classify turns a Graph error answer into an ActionError that says whether to
// retry and, for rate limits, when (Retry-After, or the usage headers' estimate).
func classify(op bot.ActionKind, resp *http.Response, raw []byte) error {
	var wrapper struct {
		Error *GraphError `json:"error"`
	}
	ge := &GraphError{Message: strings.TrimSpace(string(raw))}
	if json.Unmarshal(raw, &wrapper) == nil && wrapper.Error != nil {
		ge = wrapper.Error
	}
	if len(ge.Message) > 300 {
		// cut between letters: a reason that is not UTF-8 is refused by
		// Telegram in the desk's card
		cut := 300
		for cut > 0 && !utf8.RuneStart(ge.Message[cut]) {
			cut--
		}
		ge.Message = ge.Message[:cut] + "…"
	}
	ge.Status = resp.StatusCode
	ae := &bot.ActionError{Op: op, Err: ge}
	switch c := ge.Code; {
	case ge.TokenInvalid():
		ae.Err = fmt.Errorf("expired or invalid page token (code %d): renew META_PAGE_TOKEN: %w", c, ge)
	case ge.ProofInvalid():
		ae.Err = fmt.Errorf("appsecret_proof refused (code 100): META_APP_SECRET is not the app's current secret (was it reset in the App Dashboard?): %w", ge)
	case ge.RateLimited():
		ae.Retryable = true
		ae.RetryAfter = retryAfter(resp.Header)
		ae.Err = fmt.Errorf("rate limited by Meta (code %d): %w", c, ge)
	case c == 1 || c == 2 || ge.Transient:
		ae.Retryable = true
		ae.RetryAfter = retryAfter(resp.Header)
		ae.Err = fmt.Errorf("temporary Graph API failure (code %d): %w", c, ge)
	case c == 368:
		ae.Retryable = true
		ae.Err = fmt.Errorf("page temporarily blocked by Meta for policy reasons (code 368): %w", ge)
	case c == 10 && ge.Subcode == 2018278:
		ae.Err = fmt.Errorf("outside the messaging window: Meta allows answers within 24 hours of the user's last message: %w", ge)
	case c == 3 || c == 10 || (c >= 200 && c <= 299):
		ae.Err = fmt.Errorf("missing permission (code %d): grant the app pages_manage_engagement, pages_manage_posts, pages_read_user_content, instagram_manage_comments, pages_messaging and renew META_PAGE_TOKEN: %w", c, ge)
	case ge.Gone():
		ae.Err = fmt.Errorf("the comment or user is gone or not visible to the page (code 100, subcode 33): %w", ge)
	case ge.AlreadyRepliedPrivately():
		ae.Err = fmt.Errorf("the author was already answered privately about this comment or post (code 10900): Meta allows one private reply to each: %w", ge)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		ae.Retryable = true
		ae.RetryAfter = retryAfter(resp.Header)
	}
	return ae
}

// retryAfter reads Meta's hint: Retry-After in seconds, or the largest
// estimated_time_to_regain_access (minutes) of X-Business-Use-Case-Usage,
// or, with X-App-Usage or X-Page-Usage at 100% and neither, unknownLimitWait.
func retryAfter(h http.Header) time.Duration {
	if s := h.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	var best time.Duration
	for _, u := range bucUsage(h) {
		if d := time.Duration(u.Regain) * time.Minute; d > best {
			best = d
		}
	}
	if best == 0 && platformUsageFull(h) {
		// The app's and the Page's calls are counted over a rolling
		// window, and Meta says nothing of when they may go again:
		// asked again then.
		best = unknownLimitWait
	}
	return best
}

type usage struct {
	Type     string  `json:"type"`
	Calls    float64 `json:"call_count"`
	CPU      float64 `json:"total_cputime"`
	Time     float64 `json:"total_time"`
	Regain   float64 `json:"estimated_time_to_regain_access"`
	Business string  `json:"-"`
}

func (u usage) peak() float64 { return max(u.Calls, u.CPU, u.Time) }

// bucUsage reads X-Business-Use-Case-Usage: {"<business id>": [{type, call_count, ...}]}.
func bucUsage(h http.Header) []usage {
	v := h.Get("X-Business-Use-Case-Usage")
	if v == "" {
		return nil
	}
	var m map[string][]usage
	if json.Unmarshal([]byte(v), &m) != nil {
		return nil
	}
	var out []usage
	for id, list := range m {
		for _, u := range list {
			u.Business = id
			out = append(out, u)
		}
	}
	return out
}

// watchUsage warns when Meta's usage headers say vigie is close to its limits
// (the percentages reach 100 when calls start failing), once a minute at most
// for each header (and use case).
func (g *graph) watchUsage(h http.Header) {
	for _, u := range bucUsage(h) {
		if u.peak() >= 80 && g.usageLogged.Take("X-Business-Use-Case-Usage "+u.Type, g.now(), time.Minute) {
			g.log.Warn("close to the Graph API rate limit", "header", "X-Business-Use-Case-Usage",
				"type", u.Type, "percent", u.peak(), "regain_minutes", u.Regain)
		}
	}
	for _, name := range platformUsageHeaders {
		if u, ok := platformUsage(h, name); ok && u.peak() >= 80 && g.usageLogged.Take(name, g.now(), time.Minute) {
			g.log.Warn("close to the Graph API rate limit", "header", name, "percent", u.peak())
		}
	}
}

// wrote tells posted of the comment a call created, named by the id in its
// answer ({"id": "..."}).
func (g *graph) wrote(platform string, raw json.RawMessage) {
	var ans struct {
		ID string `json:"id"`
	}
	if g.posted != nil && json.Unmarshal(raw, &ans) == nil && ans.ID != "" {
		g.posted(platform, ans.ID)
	}
}
