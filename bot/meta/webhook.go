package meta

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// Handler serves Meta's webhook at one URL (the daemon mounts it at /webhooks/meta):
// GET answers the subscription handshake, POST takes a delivery. A delivery is
// checked, parsed and queued before the answer, so the answer is fast and a 200
// means the events are safe in the queue; the rules run behind it, in Run. Once
// Run has stopped, deliveries are answered 503 and Meta sends them again.
func (c *Connector) Handler() http.Handler {
	return &webhook{c: c}
}

// webhookRoute is where the daemon mounts Handler, the route its refusals
// are counted under.
const webhookRoute = "/webhooks/meta"

type webhook struct {
	c *Connector
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.handshake(w, r)
	case http.MethodPost:
		h.delivery(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// handshake answers the verification request Meta sends when the callback URL is
// set in the App Dashboard: echo hub.challenge when hub.verify_token is ours.
func (h *webhook) handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	want := h.c.cfg.VerifyToken
	got := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" || want == "" ||
		subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		h.c.cfg.Refusals.Refuse(webhookRoute, "bad_verify_token", "meta: webhook handshake refused: wrong verify token or mode", "remote", r.RemoteAddr)
		h.c.met.count(resultHandshakeNo)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	h.c.log.Info("webhook subscription verified")
	h.c.met.count(resultHandshakeOK)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, q.Get("hub.challenge"))
}

func (h *webhook) delivery(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.c.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.c.cfg.Refusals.Refuse(webhookRoute, "too_large", "meta: webhook delivery refused: body too large", "remote", r.RemoteAddr, "limit", tooBig.Limit)
			h.c.met.count(resultTooLarge)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		h.c.met.count(resultMalformed)
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if sig := r.Header.Get("X-Hub-Signature-256"); !validSignature(h.c.cfg.AppSecret, body, sig) {
		if sig == "" {
			h.c.cfg.Refusals.Refuse(webhookRoute, "no_signature", "meta: webhook delivery refused: no X-Hub-Signature-256",
				"remote", r.RemoteAddr, "secret_set", h.c.cfg.AppSecret != "")
		} else {
			// Meta signs with the app's secret of the moment: when its
			// deliveries are refused, the secret was reset or is another app's.
			h.c.cfg.Refusals.Refuse(webhookRoute, "bad_signature", "meta: webhook delivery refused: X-Hub-Signature-256 does not match the body; "+
				"if Meta's deliveries are all refused, META_APP_SECRET is not the app's current secret (was it reset in the App Dashboard?): "+
				"Meta sends them again for up to 36 hours",
				"remote", r.RemoteAddr, "secret_set", h.c.cfg.AppSecret != "")
		}
		h.c.met.count(resultBadSignature)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var d delivery
	if err := json.Unmarshal(body, &d); err != nil {
		h.c.log.Warn("webhook delivery refused: not a Meta payload", "err", err)
		h.c.met.count(resultMalformed)
		http.Error(w, "malformed JSON", http.StatusBadRequest)
		return
	}
	if !h.c.ownKnownFor(r.Context(), d.Object) {
		// Without META_PAGE_ID (or META_INSTAGRAM_ID), vigie cannot yet
		// tell its own Page's entries from another's: Meta sends the
		// delivery again, and its retry is judged once Graph has said.
		h.c.log.Warn("delivery deferred to Meta's retry: Graph has not said yet which Page and Instagram account the page token serves",
			"object", d.Object)
		h.c.met.count(resultUnchecked)
		w.Header().Set("Retry-After", "60")
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	if d.Object == "page" {
		h.c.pageDelivered()
	}
	items := h.c.parse(d)
	switch h.enqueue(items) {
	case queueClosed:
		// Meta sends the delivery again, to this instance once it runs again or to
		// another one behind the same address.
		h.c.log.Warn("delivery refused while shutting down, left to Meta's retry")
		h.c.met.count(resultClosing)
		w.Header().Set("Retry-After", "60")
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	case queueFull:
		// Meta sends the delivery again later; what was queued is deduped then.
		h.c.log.Warn("event queue full, delivery deferred to Meta's retry", "queue", cap(h.c.queue))
		h.c.met.count(resultBusy)
		w.Header().Set("Retry-After", "60")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	h.c.met.count(resultAccepted)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "EVENT_RECEIVED")
}

// ownWait bounds how long a delivery waits for the token's first check to
// say which Page and Instagram account are vigie's; Meta waits a few
// seconds for its answer.
const ownWait = 2 * time.Second

// ownKnownFor reports whether the entries of a delivery of object can be
// told vigie's own or another's: the setting names the Page (or account),
// or the token's first check has ended, which it waits for, up to ownWait.
func (c *Connector) ownKnownFor(ctx context.Context, object string) bool {
	switch {
	case object == "page" && c.cfg.PageID != "",
		object == "instagram" && c.cfg.InstagramID != "",
		object != "page" && object != "instagram":
		return true
	}
	// On the wall clock: Meta waits a few real seconds for a delivery's answer.
	t := time.NewTimer(ownWait)
	defer t.Stop()
	select {
	case <-c.ownKnown:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	select {
	case <-c.ownKnown:
		return true
	default:
		return false
	}
}

type enqueued int

const (
	queueOK enqueued = iota
	queueFull
	queueClosed
)

// enqueue queues the items not seen before, in order. An item is marked seen only
// once queued, so a delivery cut short by a full queue is completed by its retry.
// Once Run has stopped, nothing is queued: a delivery is taken whole or not at all.
func (h *webhook) enqueue(items []queued) enqueued {
	h.c.seenMu.Lock()
	defer h.c.seenMu.Unlock()
	if h.c.closed {
		return queueClosed
	}
	for _, q := range items {
		key := q.ev.Key()
		if h.c.seen.has(key) {
			h.c.log.Debug("duplicate dropped", "event", key)
			continue
		}
		select {
		case h.c.queue <- q:
			h.c.seen.add(key)
		default:
			return queueFull
		}
	}
	return queueOK
}

// validSignature checks X-Hub-Signature-256: "sha256=" and the hex HMAC-SHA256 of
// the raw body keyed with the app secret. No secret, no valid signature.
func validSignature(secret string, body []byte, header string) bool {
	if secret == "" {
		return false
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value Meta would send for body; tools and
// tests use it to post deliveries of their own.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// compactJSON is used in logs to show a small unknown payload on one line.
func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return ""
	}
	if b.Len() > 300 {
		return b.String()[:300] + "…"
	}
	return b.String()
}
