package meta

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// The shapes below follow Meta's Webhooks reference (objects page and instagram,
// fields feed, comments, live_comments, mentions, and the Messenger messaging
// arrays). Only what vigie reads is declared; the rest is ignored.

type delivery struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID        flexString  `json:"id"`
	Time      flexTime    `json:"time"`
	Changes   []change    `json:"changes"`
	Messaging []messaging `json:"messaging"`
	// Some Instagram examples put one change directly in the entry.
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type idName struct {
	ID       flexString `json:"id"`
	Name     string     `json:"name"`
	Username string     `json:"username"`
	// SelfScopedID is, on an Instagram comment, the professional account's
	// own Instagram-scoped id: Meta's docs give it when the account itself
	// wrote the comment.
	SelfScopedID flexString `json:"self_ig_scoped_id"`
}

// feedValue is a Page feed change. Comments carry from; some verbs (hide, and
// older payloads) carry sender_id and sender_name instead.
type feedValue struct {
	Item         string     `json:"item"`
	Verb         string     `json:"verb"`
	CommentID    flexString `json:"comment_id"`
	PostID       flexString `json:"post_id"`
	ParentID     flexString `json:"parent_id"`
	From         *idName    `json:"from"`
	SenderID     flexString `json:"sender_id"`
	SenderName   string     `json:"sender_name"`
	Message      string     `json:"message"`
	CreatedTime  flexTime   `json:"created_time"`
	PermalinkURL string     `json:"permalink_url"`
	Post         *struct {
		PermalinkURL string `json:"permalink_url"`
	} `json:"post"`
	Photo string `json:"photo"`
	Video string `json:"video"`
	// Link is, on a visitor's post, the page a share points at, or the
	// photo's or video's own address.
	Link    string     `json:"link"`
	PhotoID flexString `json:"photo_id"`
	VideoID flexString `json:"video_id"`
}

// igComment is an Instagram comments or live_comments change.
type igComment struct {
	ID       flexString `json:"id"`
	From     *idName    `json:"from"`
	Text     string     `json:"text"`
	ParentID flexString `json:"parent_id"`
	Media    *struct {
		ID flexString `json:"id"`
	} `json:"media"`
}

// igMention is an Instagram mentions change: only ids, the text is read later.
type igMention struct {
	MediaID   flexString `json:"media_id"`
	CommentID flexString `json:"comment_id"`
}

type messaging struct {
	Sender    idName   `json:"sender"`
	Recipient idName   `json:"recipient"`
	Timestamp flexTime `json:"timestamp"`
	// MessageEdit is a message the sender edited (Messenger's message_edits
	// field): its id and its new text.
	MessageEdit *struct {
		MID  string `json:"mid"`
		Text string `json:"text"`
	} `json:"message_edit"`
	Message *struct {
		MID         string            `json:"mid"`
		Text        string            `json:"text"`
		IsEcho      bool              `json:"is_echo"`
		IsDeleted   bool              `json:"is_deleted"`
		Attachments []json.RawMessage `json:"attachments"`
		ReplyTo     *struct {
			MID string `json:"mid"`
		} `json:"reply_to"`
	} `json:"message"`
}

// parse turns a delivery into queued work, in delivery order. What vigie does not
// moderate is logged at debug and skipped; a malformed change is skipped alone.
func (c *Connector) parse(d delivery) []queued {
	var platform string
	switch d.Object {
	case "page":
		platform = Facebook
	case "instagram":
		platform = Instagram
	default:
		c.log.Info("webhook object not handled, acknowledged", "object", d.Object, "entries", len(d.Entry))
		return nil
	}
	var out []queued
	now := c.cfg.Now()
	for _, e := range d.Entry {
		if !c.fresh(platform, e, now) || !c.ours(platform, e) {
			continue
		}
		changes := e.changes()
		for _, ch := range changes {
			out = append(out, c.parseChange(platform, e, ch)...)
		}
		for _, m := range e.Messaging {
			if q, ok := c.parseMessage(platform, e, m); ok {
				out = append(out, q)
			}
		}
	}
	return out
}

// Bounds of an entry's own time. Meta's signature has no time: a delivery saved
// by whoever saw it (a log, a proxy) verifies forever, and once the store has
// forgotten its event ids it would be acted on again. An entry is taken only
// while the ids it carries are surely remembered.
const (
	// MaxSkew is how far ahead of vigie's clock an entry may be dated: clocks
	// differ a little; more is a wrong clock, here or at Meta.
	MaxSkew = 5 * time.Minute
	// MaxAge is the age past which an entry is refused: the store's memory of
	// event ids, less MaxSkew, so that an entry taken from up to MaxSkew ahead is
	// still remembered whenever it comes again. Meta's own retries stop after 36
	// hours, well within it.
	MaxAge = store.DefaultDedupeTTL - MaxSkew
)

// Reasons an entry is refused, as vigie_meta_webhook_entries_refused_total counts them.
const (
	refusedStale   = "stale"
	refusedFuture  = "future"
	refusedUndated = "undated"
	refusedPage    = "other_page"
	refusedAccount = "other_account"
)

// ours reports whether an entry is about the configured Page (META_PAGE_ID)
// or Instagram account (META_INSTAGRAM_ID), when one is, or, without them,
// about the Page the page token is, or the account linked to it, once
// Graph said which: an app subscribed to several Pages or accounts gets their deliveries too,
// signed alike, and vigie is not theirs to moderate or answer. An Instagram
// entry's id is the Instagram account's, never the Page's.
func (c *Connector) ours(platform string, e entry) bool {
	want, reason, msg := c.cfg.PageID, refusedPage, "Meta entry for another Page than META_PAGE_ID refused"
	if want == "" {
		if p := c.tokenPage.Load(); p != nil {
			want, msg = *p, "Meta entry for another Page than the page token's refused (set META_PAGE_ID to name it)"
		}
	}
	if platform == Instagram {
		want, reason, msg = c.cfg.InstagramID, refusedAccount, "Meta entry for another Instagram account than META_INSTAGRAM_ID refused"
		if want == "" {
			if a := c.igAccount.Load(); a != nil {
				want, msg = *a, "Meta entry for another Instagram account than the Page's refused (set META_INSTAGRAM_ID to name it)"
			}
		}
	}
	if want == "" || string(e.ID) == want {
		return true
	}
	c.log.Warn(msg, "entry", string(e.ID), "want", want, "items", entryItems(e))
	c.met.refused(reason)
	return false
}

// fresh reports whether an entry is to be taken, judged by when Meta sent it
// (its time; an edit of an old comment is sent when it is made). An entry refused
// is counted and logged; the delivery is still answered 200, as Meta would
// otherwise send it again for a day and a half.
func (c *Connector) fresh(platform string, e entry, now time.Time) bool {
	sent := sentAt(e)
	var reason string
	switch {
	case sent.IsZero():
		reason = refusedUndated
		c.log.Info("Meta entry without a time refused", "object", platform, "entry", string(e.ID))
	case now.Sub(sent) >= MaxAge:
		reason = refusedStale
		c.log.Info("Meta entry older than the dedupe's memory refused (a delivery replayed?)",
			"object", platform, "entry", string(e.ID), "sent", sent, "age", now.Sub(sent).Round(time.Second).String(),
			"max_age", MaxAge.String(), "items", entryItems(e))
	case sent.Sub(now) > MaxSkew:
		reason = refusedFuture
		c.log.Warn("Meta entry from the future refused: is this host's clock right?",
			"object", platform, "entry", string(e.ID), "sent", sent, "ahead", sent.Sub(now).Round(time.Second).String(),
			"max_skew", MaxSkew.String(), "items", entryItems(e))
	default:
		return true
	}
	c.met.refused(reason)
	return false
}

// sentAt is when Meta sent an entry: its time, or when it has none, the latest
// time among its changes and messages; zero when there is none at all.
func sentAt(e entry) time.Time {
	if !e.Time.t.IsZero() {
		return e.Time.t
	}
	var latest time.Time
	later := func(t time.Time) {
		if t.After(latest) {
			latest = t
		}
	}
	changes := e.changes()
	for _, ch := range changes {
		var v struct {
			CreatedTime flexTime `json:"created_time"`
		}
		if json.Unmarshal(ch.Value, &v) == nil {
			later(v.CreatedTime.t)
		}
	}
	for _, m := range e.Messaging {
		later(m.Timestamp.t)
	}
	return latest
}

// entryItems names what a refused entry held, for its log line: comment and
// message ids, at most a few.
func entryItems(e entry) []string {
	const most = 5
	var ids []string
	changes := e.changes()
	for _, ch := range changes {
		var v struct {
			CommentID flexString `json:"comment_id"`
			ID        flexString `json:"id"`
			PostID    flexString `json:"post_id"`
		}
		if json.Unmarshal(ch.Value, &v) == nil && len(ids) < most {
			if id := cmp.Or(v.CommentID, v.ID, v.PostID); id != "" {
				ids = append(ids, string(id))
			}
		}
	}
	for _, m := range e.Messaging {
		if m.Message != nil && m.Message.MID != "" && len(ids) < most {
			ids = append(ids, m.Message.MID)
		}
		if m.MessageEdit != nil && m.MessageEdit.MID != "" && len(ids) < most {
			ids = append(ids, m.MessageEdit.MID)
		}
	}
	return ids
}

func (c *Connector) parseChange(platform string, e entry, ch change) []queued {
	switch {
	case platform == Facebook && ch.Field == "feed":
		var v feedValue
		if err := json.Unmarshal(ch.Value, &v); err != nil {
			c.log.Warn("feed change not understood, skipped", "err", err, "value", compactJSON(ch.Value))
			return nil
		}
		switch v.Verb {
		case "remove":
			if q, ok := c.feedRemoval(e, v); ok {
				return []queued{q}
			}
			return nil
		case "unhide", "hide":
			if q, ok := c.feedHiding(e, v); ok {
				return []queued{q}
			}
			return nil
		}
		if ev, ok := c.feedEvent(e, v); ok {
			return []queued{{ev: ev}}
		}
	case platform == Instagram && (ch.Field == "comments" || ch.Field == "live_comments"):
		var v igComment
		if err := json.Unmarshal(ch.Value, &v); err != nil {
			c.log.Warn("instagram comment not understood, skipped", "err", err, "value", compactJSON(ch.Value))
			return nil
		}
		if ev, ok := c.igCommentEvent(e, v); ok {
			return []queued{{ev: ev}}
		}
	case platform == Instagram && ch.Field == "mentions":
		var v igMention
		if err := json.Unmarshal(ch.Value, &v); err != nil || v.CommentID == "" {
			// A mention in a media caption has no comment: nothing to moderate.
			c.log.Debug("instagram mention without comment, skipped", "value", compactJSON(ch.Value))
			return nil
		}
		return []queued{{mention: true, ev: bot.Event{
			ID: string(v.CommentID) + mentionSuffix, Platform: Instagram, Kind: bot.KindComment,
			Space: string(e.ID), Channel: string(v.MediaID), At: c.at(e.Time.t),
		}}}
	default:
		c.log.Debug("webhook field not handled, acknowledged", "object", platform, "field", ch.Field)
	}
	return nil
}

// visitorPostItems are the feed items that are a post on the Page: judged when
// someone other than the Page wrote them.
var visitorPostItems = map[string]bool{"status": true, "photo": true, "video": true, "post": true, "share": true}

// feedEvent turns a Page feed change into a comment or edit event: a comment,
// or a visitor's post on the Page. Removals and hides carry no text to judge,
// so they are not events.
func (c *Connector) feedEvent(e entry, v feedValue) (bot.Event, bool) {
	if visitorPostItems[v.Item] {
		return c.postEvent(e, v)
	}
	if v.Item != "comment" {
		c.log.Debug("feed item not moderated", "item", v.Item, "verb", v.Verb)
		return bot.Event{}, false
	}
	kind, ok := feedKind(v.Verb)
	if !ok {
		c.log.Debug("comment verb not moderated", "verb", v.Verb, "comment", string(v.CommentID))
		return bot.Event{}, false
	}
	if v.CommentID == "" {
		c.log.Debug("comment change without comment_id, skipped", "verb", v.Verb)
		return bot.Event{}, false
	}
	author := v.author()
	if c.ownAccount(e, author.ID) {
		c.log.Debug("own comment ignored", "comment", string(v.CommentID))
		return bot.Event{}, false
	}
	ev := c.changeEvent(e, v, kind, string(v.CommentID), author)
	// A top-level comment's parent is the post itself; only a reply has a thread.
	if v.ParentID != "" && v.ParentID != v.PostID {
		ev.Thread = string(v.ParentID)
		ev.ReplyTo = string(v.ParentID)
	}
	if v.Photo != "" || v.Video != "" {
		ev.Attachments = 1
	}
	if kind == bot.KindEdit {
		ev.ID = editID(ev.ID, v.Message)
		// An edit is judged when it is made, as Discord's are: its
		// created_time is the comment's, maybe weeks old, which would put
		// it past the store's memory of event ids (so that Meta's retry is
		// judged again), outside the counters' windows and in other hours.
		ev.At = c.at(e.Time.t, v.CreatedTime.t)
	}
	return ev, true
}

// changeEvent is the Facebook event of a feed change about id (a comment, or
// a post), under the post v names. Meta gives the post's link, not a
// comment's: without the comment's own, the desk opens the post.
func (c *Connector) changeEvent(e entry, v feedValue, kind bot.Kind, id string, author bot.Author) bot.Event {
	ev := bot.Event{
		ID:       id,
		Platform: Facebook,
		Kind:     kind,
		Space:    string(e.ID),
		Channel:  string(v.PostID),
		Author:   author,
		Text:     v.Message,
		At:       c.at(v.CreatedTime.t, e.Time.t),
		Link:     v.PermalinkURL,
	}
	if ev.Link == "" && v.Post != nil {
		ev.Link = v.Post.PermalinkURL
	}
	return ev
}

// feedKind is the event kind of a feed change's verb: a comment or post
// added, or edited; ok is false for the verbs not moderated (remove, hide...).
func feedKind(verb string) (kind bot.Kind, ok bool) {
	switch verb {
	case "add":
		return bot.KindComment, true
	case "edited", "edit":
		return bot.KindEdit, true
	}
	return "", false
}

// author is who wrote the change: its from, or else its sender.
func (v feedValue) author() bot.Author {
	if v.From != nil && v.From.ID != "" {
		return bot.Author{ID: string(v.From.ID), Name: v.From.Name}
	}
	return bot.Author{ID: string(v.SenderID), Name: v.SenderName}
}

// postEvent turns a post on the Page into a comment event (an edit event when
// it was edited), judged as comments are: its id and its channel are the post's
// (IsPost), the Page's own posts are not judged.
func (c *Connector) postEvent(e entry, v feedValue) (bot.Event, bool) {
	kind, ok := feedKind(v.Verb)
	if !ok {
		c.log.Debug("post verb not moderated", "item", v.Item, "verb", v.Verb, "post", string(v.PostID))
		return bot.Event{}, false
	}
	if v.PostID == "" {
		c.log.Debug("post change without post_id, skipped", "item", v.Item, "verb", v.Verb)
		return bot.Event{}, false
	}
	author := v.author()
	if c.ownAccount(e, author.ID) {
		c.log.Debug("own post ignored", "post", string(v.PostID), "item", v.Item)
		return bot.Event{}, false
	}
	ev := c.changeEvent(e, v, kind, string(v.PostID), author)
	if v.Item == "share" && v.Link != "" && !strings.Contains(v.Message, v.Link) {
		// The page shared is shown as a card under the text: the rules
		// judge its address as a link the text does not show.
		ev.HiddenLinks = []string{v.Link}
	}
	if v.Item == "photo" || v.Item == "video" || v.PhotoID != "" || v.VideoID != "" {
		ev.Attachments = 1
	}
	if kind == bot.KindEdit {
		// Judged when it is made, as an edited comment is.
		ev.ID = editID(ev.ID, v.Message)
		ev.At = c.at(e.Time.t, v.CreatedTime.t)
	}
	return ev, true
}

// IsPost reports whether ev is a visitor's post on the Page rather than a
// comment: its channel is the post itself, where a comment's is the post it
// is under.
func IsPost(ev bot.Event) bool {
	return ev.Platform == Facebook && !InConversation(ev) && ev.Channel != "" && CommentID(ev) == ev.Channel
}

// InConversation reports whether ev is a direct message or its edit: its
// channel is the conversation, named by the sender's id, which a comment's or
// a post's never is.
func InConversation(ev bot.Event) bool {
	return ev.Kind == bot.KindDM || (ev.Kind == bot.KindEdit && ev.Channel != "" && ev.Channel == ev.Author.ID)
}

// editID names an edit by its comment and its new text: Meta's retries of the same
// edit carry the same text and are dropped as duplicates, while a later edit to a
// different text is a new event, checked again.
func editID(commentID, text string) string {
	sum := sha256.Sum256([]byte(text))
	return commentID + ":edited:" + hex.EncodeToString(sum[:6])
}

// mentionSuffix ends the event id of an Instagram comment that @mentions the
// account on another account's media: Meta lets the account answer it
// (POST /{ig-user-id}/mentions), not hide, delete or answer it privately, as
// it does the comments on its own media.
const mentionSuffix = ":mention"

// CommentID returns the Graph id of the comment an event is about: edits carry a
// suffix in their event id so that the store tells them apart, and mentions one
// so that the actions know them.
func CommentID(ev bot.Event) string {
	id, _, _ := strings.Cut(ev.ID, ":edited:")
	return strings.TrimSuffix(id, mentionSuffix)
}

// IsMention reports whether ev is an Instagram comment that @mentions the
// account on another account's media.
func IsMention(ev bot.Event) bool {
	return ev.Platform == Instagram && strings.HasSuffix(ev.ID, mentionSuffix)
}

func (c *Connector) igCommentEvent(e entry, v igComment) (bot.Event, bool) {
	if v.ID == "" {
		c.log.Debug("instagram comment without id, skipped")
		return bot.Event{}, false
	}
	var author bot.Author
	if v.From != nil {
		author = bot.Author{ID: string(v.From.ID), Name: v.From.Username}
	}
	// The author is the account when from.id is its id, or its scoped id:
	// a scoped id given with another's comment is not taken for it.
	if c.ownAccount(e, author.ID) || v.From != nil && v.From.SelfScopedID != "" && v.From.SelfScopedID == v.From.ID {
		c.log.Debug("own instagram comment ignored", "comment", string(v.ID))
		return bot.Event{}, false
	}
	ev := bot.Event{
		ID:       string(v.ID),
		Platform: Instagram,
		Kind:     bot.KindComment,
		Space:    string(e.ID),
		Author:   author,
		Text:     v.Text,
		At:       c.at(e.Time.t),
	}
	if v.Media != nil {
		ev.Channel = string(v.Media.ID)
	}
	if v.ParentID != "" {
		ev.Thread = string(v.ParentID)
		ev.ReplyTo = string(v.ParentID)
	}
	return ev, true
}

// parseMessage turns a Messenger or Instagram direct message into a dm event. Echoes
// (what the page itself sent), reads, deliveries, reactions and postbacks are not.
func (c *Connector) parseMessage(platform string, e entry, m messaging) (queued, bool) {
	if m.MessageEdit != nil && m.MessageEdit.MID != "" {
		return c.messageEdit(platform, e, m)
	}
	if m.Message == nil || m.Message.MID == "" {
		c.log.Debug("messaging event not moderated (no message)", "object", platform)
		return queued{}, false
	}
	if m.Message.IsEcho || m.Message.IsDeleted || c.ownAccount(e, string(m.Sender.ID)) {
		c.log.Debug("own or deleted message ignored", "mid", m.Message.MID)
		return queued{}, false
	}
	ev := bot.Event{
		ID:          m.Message.MID,
		Platform:    platform,
		Kind:        bot.KindDM,
		Space:       string(e.ID),
		Channel:     string(m.Sender.ID),
		Author:      bot.Author{ID: string(m.Sender.ID)},
		Text:        m.Message.Text,
		Attachments: len(m.Message.Attachments),
		At:          c.at(m.Timestamp.t, e.Time.t),
	}
	if m.Message.ReplyTo != nil {
		ev.ReplyTo = m.Message.ReplyTo.MID
	}
	return queued{ev: ev}, true
}

// messageEdit turns a message the sender edited into an edit event, judged again
// as an edited comment is: when it is made, under an id of its own for each new
// text, so that Meta's retries of it are dropped and a later edit is checked
// again. Its channel is the conversation, as the message's (InConversation).
func (c *Connector) messageEdit(platform string, e entry, m messaging) (queued, bool) {
	mid := m.MessageEdit.MID
	if c.ownAccount(e, string(m.Sender.ID)) {
		c.log.Debug("own message edit ignored", "mid", mid)
		return queued{}, false
	}
	if m.Sender.ID == "" {
		c.log.Debug("message edit without sender, skipped", "mid", mid)
		return queued{}, false
	}
	return queued{ev: bot.Event{
		ID:       editID(mid, m.MessageEdit.Text),
		Platform: platform,
		Kind:     bot.KindEdit,
		Space:    string(e.ID),
		Channel:  string(m.Sender.ID),
		Author:   bot.Author{ID: string(m.Sender.ID)},
		Text:     m.MessageEdit.Text,
		At:       c.at(m.Timestamp.t, e.Time.t),
	}}, true
}

// ownAccount reports whether id is the page or account the entry is about (or
// the configured page): vigie never moderates or answers itself.
func (c *Connector) ownAccount(e entry, id string) bool {
	return id != "" && (id == string(e.ID) || id == c.cfg.PageID)
}

// at returns the first known time, or now.
func (c *Connector) at(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return c.cfg.Now().UTC()
}

// flexString reads an id Meta sends as a string or, in older payloads, a number.
// Any other JSON value reads as empty rather than failing the whole change.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*s = flexString(b)
	default:
		*s = ""
	}
	return nil
}

// flexTime reads Meta's times: Unix seconds (feed, entry.time), Unix milliseconds
// (messaging), or a Graph date string such as 2026-11-20T22:10:00+0000. Anything
// else reads as unknown.
type flexTime struct{ t time.Time }

func (ft *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
	}
	ft.t = parseTime(s)
	return nil
}

func parseTime(s string) time.Time {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(n) || n <= 0 || n > 1e14 {
			return time.Time{}
		}
		if n > 1e11 { // milliseconds: 1e11 seconds is the year 5138
			return time.UnixMilli(int64(n)).UTC()
		}
		return time.Unix(int64(n), 0).UTC()
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// orUnnamed is the author id of a comment whose author Meta does not name (a
// webhook without from, which the app's permissions may cause): one of its own,
// "unnamed:<comment id>", so that the comment is still judged and no two such
// comments count as one author's flood.
func orUnnamed(authorID, commentID string) string {
	if authorID != "" {
		return authorID
	}
	return unnamedPrefix + commentID
}

// unnamedPrefix starts the author id of a comment whose author Meta does not name.
const unnamedPrefix = "unnamed:"

// changes returns the entry's changes, with the one some Instagram deliveries
// put directly in the entry as field and value. The list is a copy when that
// one is added: e.Changes is never appended to in place.
func (e entry) changes() []change {
	if e.Field == "" || len(e.Value) == 0 {
		return e.Changes
	}
	return append(e.Changes[:len(e.Changes):len(e.Changes)], change{Field: e.Field, Value: e.Value})
}

var (
	_ bot.MessageNamer = (*FacebookPage)(nil)
	_ bot.MessageNamer = (*InstagramAccount)(nil)
)

// MessageOf is bot.MessageNamer's: the Graph id of the comment, post or
// message, for it and each of its edits, so that an edit judged again is
// not warned, struck or sent to the desk again for what its comment was.
// Its answers are not given twice by the Graph client already (sendMessage,
// the replies' once), which also finds those whose call was lost.
func (p *FacebookPage) MessageOf(ev bot.Event) string { return messageOf(ev) }

// MessageOf is bot.MessageNamer's, as FacebookPage's.
func (a *InstagramAccount) MessageOf(ev bot.Event) string { return messageOf(ev) }

func messageOf(ev bot.Event) string {
	switch ev.Kind {
	case bot.KindComment, bot.KindEdit, bot.KindDM:
		return CommentID(ev)
	}
	return ""
}
