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
	"strconv"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// Meta's windows: an answer to a direct message within 24 hours of the user's
// last message, a private reply to a comment within 7 days of it.
const (
	messagingWindow    = 24 * time.Hour
	privateReplyWindow = 7 * 24 * time.Hour
)

// The undoing operations, named as the desk's outcomes name them.
const (
	opUnhide bot.ActionKind = "unhide"
	opUnban  bot.ActionKind = "unban"
)

var (
	_ bot.Platform  = (*FacebookPage)(nil)
	_ bot.Hider     = (*FacebookPage)(nil)
	_ bot.Deleter   = (*FacebookPage)(nil)
	_ bot.Replier   = (*FacebookPage)(nil)
	_ bot.Warner    = (*FacebookPage)(nil)
	_ bot.Banner    = (*FacebookPage)(nil)
	_ bot.BanReader = (*FacebookPage)(nil)
	_ bot.BanLister = (*FacebookPage)(nil)

	_ bot.EventLimiter = (*FacebookPage)(nil)
	_ bot.EventLimiter = (*InstagramAccount)(nil)

	_ bot.Platform = (*InstagramAccount)(nil)
	_ bot.Hider    = (*InstagramAccount)(nil)
	_ bot.Deleter  = (*InstagramAccount)(nil)
	_ bot.Replier  = (*InstagramAccount)(nil)
	_ bot.Warner   = (*InstagramAccount)(nil)
)

// FacebookPage acts on a Facebook Page's comments and Messenger conversations.
type FacebookPage struct {
	g      *graph
	pageID string
	now    func() time.Time
	// sub is what the connector's checks found of the Page's webhook
	// subscription.
	sub *subscription
}

// Name matches Event.Platform for the Page's events.
func (p *FacebookPage) Name() string { return Facebook }

// Hide hides the comment from everyone but its author and their friends:
// POST /{comment-id} is_hidden=true. It is the starter pack's choice for pages,
// since the desk can undo it.
func (p *FacebookPage) Hide(ctx context.Context, ev bot.Event) error {
	return p.setHidden(ctx, bot.ActHide, ev, true)
}

// Unhide shows a hidden comment again.
func (p *FacebookPage) Unhide(ctx context.Context, ev bot.Event) error {
	return p.setHidden(ctx, opUnhide, ev, false)
}

func (p *FacebookPage) setHidden(ctx context.Context, op bot.ActionKind, ev bot.Event, hidden bool) error {
	if err := commentOnly(op, ev); err != nil {
		return err
	}
	id := CommentID(ev)
	if hidden && p.g.removedAlready(ctx, Facebook, op, id) {
		return nil
	}
	_, err := p.g.call(ctx, Facebook, op, http.MethodPost, url.PathEscape(id),
		url.Values{"is_hidden": {fmt.Sprint(hidden)}}, nil)
	if hidden && gone(err) && p.g.removedAlready(ctx, Facebook, op, id) {
		return nil
	}
	return err
}

// gone reports whether err is Meta's answer that the object does not exist
// (or that the token may not see it).
func gone(err error) bool {
	var ge *GraphError
	return errors.As(err, &ge) && ge.Gone()
}

// Delete removes the comment for good: DELETE /{comment-id}.
func (p *FacebookPage) Delete(ctx context.Context, ev bot.Event) error {
	if err := commentOnly(bot.ActDelete, ev); err != nil {
		return err
	}
	return deleteComment(ctx, p.g, ev)
}

// Reply answers in public under the comment (POST /{comment-id}/comments; a reply
// to a reply goes to the thread's top comment), or in the conversation for a
// direct message.
func (p *FacebookPage) Reply(ctx context.Context, ev bot.Event, text string) error {
	if InConversation(ev) {
		return sendMessage(ctx, p.g, bot.ActReply, p.page(ev), "messenger", ev, text, p.now())
	}
	return publicReply(ctx, p.g, ev, "comments", p.page(ev), text)
}

// Warn tells the author privately: a private reply to the comment (one per
// comment, within 7 days), or a message in the conversation for a direct message.
func (p *FacebookPage) Warn(ctx context.Context, ev bot.Event, text string) error {
	if InConversation(ev) {
		return sendMessage(ctx, p.g, bot.ActWarn, p.page(ev), "messenger", ev, text, p.now())
	}
	return privateReply(ctx, p.g, p.messagesPath(ev), ev, text, p.now())
}

// Ban blocks the author from the Page: POST /{page-id}/blocked. Meta's blocks do
// not end by themselves, whatever d: the handlers keep the end of a timed ban
// and lift it with Unban (DELETE /{page-id}/blocked) when it is due.
func (p *FacebookPage) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	param, err := p.blockParam(bot.ActBan, ev)
	if err != nil {
		return err
	}
	ids, _ := json.Marshal([]string{ev.Author.ID})
	raw, err := p.g.call(ctx, Facebook, bot.ActBan, http.MethodPost, url.PathEscape(p.page(ev))+"/blocked",
		url.Values{param: {string(ids)}}, nil)
	if err != nil {
		return err
	}
	// Meta answers each id asked for with whether it is now blocked: a
	// false is a block that did not happen, though the call succeeded.
	var done map[string]bool
	if json.Unmarshal(raw, &done) == nil {
		if ok, asked := done[ev.Author.ID]; asked && !ok {
			return &bot.ActionError{Op: bot.ActBan, Err: fmt.Errorf("Meta did not block %s: it answered false for this id", ev.Author.ID)}
		}
	}
	return nil
}

// Unban lifts the block: DELETE /{page-id}/blocked. A member the Page's
// blocked list says is not blocked (a CM unblocked them by hand in Meta's
// tools) is not unblocked again: the error wraps bot.ErrNotBanned, for the
// handlers to forget the ban their book keeps.
func (p *FacebookPage) Unban(ctx context.Context, ev bot.Event) error {
	param, err := p.blockParam(opUnban, ev)
	if err != nil {
		return err
	}
	st, err := p.BanOf(ctx, ev)
	switch {
	case err != nil:
		return err
	case st.Known && !st.Banned:
		return &bot.ActionError{Op: opUnban, Err: fmt.Errorf("%w: %s is not blocked from the Page (unblocked in Meta's tools)", bot.ErrNotBanned, ev.Author.ID)}
	}
	_, err = p.g.call(ctx, Facebook, opUnban, http.MethodDelete, url.PathEscape(p.page(ev))+"/blocked",
		url.Values{param: {ev.Author.ID}}, nil)
	return err
}

// opBanCheck names the read of the Page's blocked list.
const opBanCheck bot.ActionKind = "blocked list read"

// BanOf says whether the author is blocked from the Page now, as its
// blocked list says: GET /{page-id}/blocked?user={id}, which lists that
// person when blocked (Profile nodes in data), nothing when not. Meta's
// blocks last until lifted, so a block has no end. A Messenger sender,
// blocked by page-scoped id (psid), which the edge's user parameter does
// not document, and an author Meta did not name, cannot be told (Known
// false); nor can anyone when Meta refuses the read for good (a
// permission): the handlers then go by their book, as before. A read worth
// another try is an error.
func (p *FacebookPage) BanOf(ctx context.Context, ev bot.Event) (bot.BanStatus, error) {
	param, err := p.blockParam(opBanCheck, ev)
	if err != nil || param != "user" {
		return bot.BanStatus{}, nil
	}
	raw, err := p.g.call(ctx, Facebook, opBanCheck, http.MethodGet, url.PathEscape(p.page(ev))+"/blocked",
		url.Values{"user": {ev.Author.ID}, "fields": {"id"}}, nil)
	if err != nil {
		if bot.Retryable(err) || ctx.Err() != nil {
			return bot.BanStatus{}, err
		}
		p.g.log.Warn("the Page's blocked list not read: vigie goes by the bans it keeps", "author", ev.Author.ID, "err", err)
		return bot.BanStatus{}, nil
	}
	var ans struct {
		Data []struct {
			ID flexString `json:"id"`
		} `json:"data"`
		Paging struct {
			Next string `json:"next"`
		} `json:"paging"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Data == nil {
		p.g.log.Warn("the Page's blocked list not understood: vigie goes by the bans it keeps", "author", ev.Author.ID, "answer", compactJSON(raw))
		return bot.BanStatus{}, nil
	}
	for _, d := range ans.Data {
		if string(d.ID) == ev.Author.ID {
			return bot.BanStatus{Known: true, Banned: true}, nil
		}
	}
	if len(ans.Data) > 0 && ans.Paging.Next != "" {
		// Others listed, and more pages: the list was not narrowed to
		// the author, whose absence from this page says nothing.
		return bot.BanStatus{}, nil
	}
	return bot.BanStatus{Known: true}, nil
}

// blockedPageSize is how many people one read of the Page's blocked list
// asks for: Graph's pages are of 25 unless a limit says more.
const blockedPageSize = 100

// Listed says whether ev's author is named in the Page's blocked list when
// blocked: a commenter, by their user id; not a Messenger sender, blocked
// by page-scoped id, nor an author Meta did not name.
func (p *FacebookPage) Listed(ev bot.Event) bool {
	param, err := p.blockParam(opBanCheck, ev)
	return err == nil && param == "user"
}

// UnbannedByHand is how a block missing from the Page's list was lifted.
func (p *FacebookPage) UnbannedByHand() string { return "unblocked by hand in Meta's tools" }

// BannedPage reads one page of the Page's blocked list: GET
// /{page-id}/blocked?fields=id&limit=100, then after= the page's
// paging.cursors.after while Graph gives a paging.next (its absence marks
// the last page). A read refused or not understood is an error; one worth
// another try says so (bot.Retryable). A refusal for want of a permission
// is not told to the desk: the list only checks vigie's book.
func (p *FacebookPage) BannedPage(ctx context.Context, space, after string) ([]string, string, error) {
	params := url.Values{"fields": {"id"}, "limit": {strconv.Itoa(blockedPageSize)}}
	if after != "" {
		params.Set("after", after)
	}
	raw, err := p.g.call(ctx, Facebook, opBanCheck, http.MethodGet, url.PathEscape(cmp.Or(space, p.pageID, "me"))+"/blocked", params, nil)
	if err != nil {
		return nil, "", err
	}
	var ans struct {
		Data []struct {
			ID flexString `json:"id"`
		} `json:"data"`
		Paging struct {
			Cursors struct {
				After string `json:"after"`
			} `json:"cursors"`
			Next string `json:"next"`
		} `json:"paging"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Data == nil {
		return nil, "", &bot.ActionError{Op: opBanCheck, Err: fmt.Errorf("the Page's blocked list not understood: %s", compactJSON(raw))}
	}
	ids := make([]string, 0, len(ans.Data))
	for _, d := range ans.Data {
		if d.ID != "" {
			ids = append(ids, string(d.ID))
		}
	}
	if ans.Paging.Next == "" {
		return ids, "", nil
	}
	next := ans.Paging.Cursors.After
	if next == "" {
		if u, err := url.Parse(ans.Paging.Next); err == nil {
			next = u.Query().Get("after")
		}
	}
	if next == "" || next == after {
		return ids, "", &bot.ActionError{Op: opBanCheck, Err: fmt.Errorf("the Page's blocked list gives a next page and no cursor to it: %s", compactJSON(raw))}
	}
	return ids, next, nil
}

// blockParam picks how the blocked edge names the user: Messenger senders by
// their page-scoped id (psid), commenters as user.
func (p *FacebookPage) blockParam(op bot.ActionKind, ev bot.Event) (string, error) {
	if ev.Author.ID == "" {
		return "", &bot.ActionError{Op: op, Err: errors.New("the event has no author id to block")}
	}
	if strings.HasPrefix(ev.Author.ID, unnamedPrefix) {
		return "", &bot.ActionError{Op: op, Err: errors.New("Meta did not name the author of this comment (no from in its webhook): there is no one vigie can block; a CM can, from the comment on Facebook")}
	}
	// The ban book keeps who and where, not the message's kind: a
	// Messenger sender is known there by the conversation, which is named
	// after them.
	if InConversation(ev) || (ev.Channel != "" && ev.Channel == ev.Author.ID) {
		return "psid", nil
	}
	return "user", nil
}

// CanOn says what the Page can do to ev, as its actions refuse before
// calling Meta: hide, unhide and delete a comment or a post, not a Messenger
// message; block and unblock an author Meta named. The desk offers these.
func (p *FacebookPage) CanOn(ev bot.Event, k bot.ActionKind) bool {
	switch k {
	case bot.ActHide, opUnhide, bot.ActDelete:
		return commentOnly(k, ev) == nil
	case bot.ActBan, opUnban:
		_, err := p.blockParam(k, ev)
		return err == nil
	}
	return true
}

// page is the Page id: the event's space (the webhook entry), else the configured one.
func (p *FacebookPage) page(ev bot.Event) string { return cmp.Or(ev.Space, p.pageID, "me") }

func (p *FacebookPage) messagesPath(ev bot.Event) string {
	return url.PathEscape(p.page(ev)) + "/messages"
}

// InstagramAccount acts on the comments and conversations of the Instagram
// professional account linked to the Page. Instagram has no block API for
// businesses, so it is not a bot.Banner.
type InstagramAccount struct {
	g      *graph
	pageID string
	now    func() time.Time
}

// Name matches Event.Platform for the Instagram account's events.
func (a *InstagramAccount) Name() string { return Instagram }

// CanOn says what the account can do to ev, as its actions refuse before
// calling Meta: hide, unhide, delete and answer privately a comment on its
// own media, not a direct message (answered privately in its conversation
// all the same) nor an @mention on another account's media (answered in
// public only).
func (a *InstagramAccount) CanOn(ev bot.Event, k bot.ActionKind) bool {
	switch k {
	case bot.ActHide, opUnhide, bot.ActDelete:
		return ownMedia(k, ev) == nil
	case bot.ActWarn:
		return InConversation(ev) || ownMedia(k, ev) == nil
	}
	return true
}

// Hide hides the comment: POST /{ig-comment-id} hide=true.
func (a *InstagramAccount) Hide(ctx context.Context, ev bot.Event) error {
	return a.setHidden(ctx, ev, true)
}

// Unhide shows a hidden comment again.
func (a *InstagramAccount) Unhide(ctx context.Context, ev bot.Event) error {
	return a.setHidden(ctx, ev, false)
}

func (a *InstagramAccount) setHidden(ctx context.Context, ev bot.Event, hidden bool) error {
	op := bot.ActHide
	if !hidden {
		op = opUnhide
	}
	if err := ownMedia(op, ev); err != nil {
		return err
	}
	id := CommentID(ev)
	if hidden && a.g.removedAlready(ctx, Instagram, op, id) {
		return nil
	}
	_, err := a.g.call(ctx, Instagram, op, http.MethodPost, url.PathEscape(id),
		url.Values{"hide": {fmt.Sprint(hidden)}}, nil)
	if hidden && a.g.removedFromInstagram(ctx, op, id, err) {
		return nil
	}
	return err
}

// Delete removes the comment: DELETE /{ig-comment-id}.
func (a *InstagramAccount) Delete(ctx context.Context, ev bot.Event) error {
	if err := ownMedia(bot.ActDelete, ev); err != nil {
		return err
	}
	return deleteComment(ctx, a.g, ev)
}

// Reply answers in public (POST /{ig-comment-id}/replies; Instagram threads are
// one level deep, so a reply to a reply goes to the top comment), under an
// @mention on another account's media through the account's mentions edge, or
// in the conversation for a direct message.
func (a *InstagramAccount) Reply(ctx context.Context, ev bot.Event, text string) error {
	if InConversation(ev) {
		return sendMessage(ctx, a.g, bot.ActReply, a.page(), "instagram", ev, text, a.now())
	}
	if IsMention(ev) {
		return a.replyToMention(ctx, ev, text)
	}
	// The reply goes under the thread's top comment: removed, there is
	// no one left to answer under it.
	top := threadTop(ev)
	if a.g.removedAlready(ctx, Instagram, bot.ActReply, top) {
		return nil
	}
	err := publicReply(ctx, a.g, ev, "replies", ev.Space, text)
	if a.g.removedFromInstagram(ctx, bot.ActReply, top, err) {
		return nil
	}
	return err
}

// Warn sends a private reply to the comment (Instagram allows one, within 7 days),
// or a message in the conversation for a direct message.
func (a *InstagramAccount) Warn(ctx context.Context, ev bot.Event, text string) error {
	if InConversation(ev) {
		return sendMessage(ctx, a.g, bot.ActWarn, a.page(), "instagram", ev, text, a.now())
	}
	if err := ownMedia(bot.ActWarn, ev); err != nil {
		return err
	}
	return privateReply(ctx, a.g, a.messagesPath(), ev, text, a.now())
}

// messagesPath is the Page's messages edge, which also serves the linked
// Instagram account; /me is the Page when the token is a Page token.
func (a *InstagramAccount) messagesPath() string {
	return url.PathEscape(a.page()) + "/messages"
}

// page is the Page linked to the account, whose edges serve its
// conversations: /me with a Page token.
func (a *InstagramAccount) page() string { return cmp.Or(a.pageID, "me") }

// replyToMention answers an @mention of the account on another account's
// media in public, through the account's mentions edge: POST
// /{ig-user-id}/mentions. The same answer to the same mention is not posted
// twice. When a call's answer was lost, whether it was posted cannot be read
// back: Graph shows the account neither the replies under another account's
// comment nor that comment itself (only its mentioned_comment, without
// replies). It is then not posted again on a guess, to answer twice in
// public under another account's post: the error opens a case, and a CM
// looks.
func (a *InstagramAccount) replyToMention(ctx context.Context, ev bot.Event, text string) error {
	if ev.Space == "" || ev.Channel == "" {
		return &bot.ActionError{Op: bot.ActReply, Err: errors.New("the mention has no account or media id to answer it through")}
	}
	key := "mention " + CommentID(ev) + " " + textKey(text)
	if st, ok := a.g.callOf(ctx, key); ok && st.done {
		a.g.log.Info("reply to the mention not posted again: vigie gave it this answer already", "comment", CommentID(ev))
		return nil
	} else if ok {
		a.g.log.Warn("reply to the mention not posted again: Meta's answer to an earlier call was lost, and whether it was posted cannot be read back",
			"comment", CommentID(ev), "media", ev.Channel)
		return &bot.ActionError{Op: bot.ActReply, Err: fmt.Errorf(
			"the public reply under the @mention may have been posted: Meta's answer to vigie's call was lost %s ago, and Graph does not let the account read the replies under another account's media; "+
				"not posted again, so as not to answer twice in public: look on Instagram (media %s) and answer by hand if it is not there",
			a.now().Sub(st.at).Round(time.Second), ev.Channel)}
	}
	raw, err := a.g.call(ctx, Instagram, bot.ActReply, http.MethodPost, url.PathEscape(ev.Space)+"/mentions",
		url.Values{"comment_id": {CommentID(ev)}, "media_id": {ev.Channel}, "message": {text}}, nil)
	if err == nil {
		a.g.wrote(Instagram, raw)
	}
	return a.g.once(ctx, key, err, func(*GraphError) bool { return false })
}

// completeMention reads the text of a comment that @mentions the account:
// GET /{ig-user-id}?fields=mentioned_comment.comment_id({id}){...}.
func (c *Connector) completeMention(ctx context.Context, ev bot.Event) (bot.Event, error) {
	fields := fmt.Sprintf("mentioned_comment.comment_id(%s){id,text,timestamp}", CommentID(ev))
	raw, err := c.graph.call(ctx, Instagram, "read", http.MethodGet, url.PathEscape(ev.Space),
		url.Values{"fields": {fields}}, nil)
	if err != nil {
		return ev, err
	}
	var ans struct {
		Mentioned *struct {
			ID        string   `json:"id"`
			Text      string   `json:"text"`
			Timestamp flexTime `json:"timestamp"`
		} `json:"mentioned_comment"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Mentioned == nil {
		return ev, fmt.Errorf("unexpected answer for mentioned comment %s: %s", CommentID(ev), compactJSON(raw))
	}
	ev.Text = ans.Mentioned.Text
	if !ans.Mentioned.Timestamp.t.IsZero() {
		ev.At = ans.Mentioned.Timestamp.t
	}
	return ev, nil
}

// sendMessage answers a direct message through the Send API (POST
// /{page}/messages), inside Meta's 24-hour window (checked here first, to say
// why rather than let Meta refuse). The same answer to the same message is
// not sent twice: not when vigie sent it already (the message edited, and
// judged again), nor when an earlier call's answer was lost. The Send API
// has no idempotency key: the conversation's newest messages are read then
// (the Conversations API, platform messenger or instagram), and the answer
// found there, with the same text, from the Page, since that call, is not
// sent again. A conversation that cannot be read for good (a permission
// missing) is answered again, logged: an answer twice in a private
// conversation is better than a member left without it.
func sendMessage(ctx context.Context, g *graph, op bot.ActionKind, page, platform string, ev bot.Event, text string, now time.Time) error {
	if ev.Author.ID == "" {
		return &bot.ActionError{Op: op, Err: errors.New("the message has no sender id to answer")}
	}
	if !ev.At.IsZero() && now.Sub(ev.At) > messagingWindow {
		return &bot.ActionError{Op: op, Err: fmt.Errorf(
			"outside the messaging window: the message is %s old, Meta allows answers within 24 hours",
			now.Sub(ev.At).Round(time.Minute))}
	}
	// The same answer to the same message (edited, and judged again) is
	// not sent twice in the conversation.
	key := string(op) + " " + CommentID(ev) + " " + textKey(text)
	if st, ok := g.callOf(ctx, key); ok && st.done {
		g.log.Info("answer not sent again: vigie gave this message this answer already", "message", CommentID(ev))
		return nil
	} else if ok {
		found, err := findMessage(ctx, g, op, page, platform, ev.Author.ID, text, st.at.Add(-MaxSkew))
		switch {
		case found:
			g.keep(ctx, key, callState{at: g.now(), done: true})
			g.log.Info("answer sent by an earlier call whose answer was lost: not sent again", "message", CommentID(ev))
			return nil
		case err != nil && bot.Retryable(err):
			// Sending without knowing could answer twice: the retry
			// stage reads again later.
			return err
		case err != nil:
			g.log.Warn("answer sent again though an earlier call may have sent it: the conversation cannot be read to tell (grant pages_messaging and pages_manage_metadata, or instagram_manage_messages)",
				"message", CommentID(ev), "err", err)
		}
	}
	body := map[string]any{
		"recipient":      map[string]string{"id": ev.Author.ID},
		"messaging_type": "RESPONSE",
		"message":        map[string]string{"text": text},
	}
	_, err := g.call(ctx, placeOf(platform), op, http.MethodPost, url.PathEscape(page)+"/messages", nil, body)
	return g.once(ctx, key, err, func(*GraphError) bool { return false })
}

// findMessage looks, in the conversation of page with user on platform
// (messenger, instagram), for a message with text that someone else than
// user (the Page, or the account) sent at or after since: GET
// /{page}/conversations?platform=…&user_id=…, its newest 20 messages (all
// that Meta shows of a conversation).
func findMessage(ctx context.Context, g *graph, op bot.ActionKind, page, platform, user, text string, since time.Time) (bool, error) {
	params := url.Values{"platform": {platform}, "user_id": {user}, "fields": {"messages.limit(20){message,from,created_time}"}}
	raw, err := g.call(ctx, placeOf(platform), op, http.MethodGet, url.PathEscape(page)+"/conversations", params, nil)
	if err != nil {
		return false, err
	}
	var ans struct {
		Data []struct {
			Messages struct {
				Data []struct {
					From *struct {
						ID flexString `json:"id"`
					} `json:"from"`
					Message     string   `json:"message"`
					CreatedTime flexTime `json:"created_time"`
				} `json:"data"`
			} `json:"messages"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return false, &bot.ActionError{Op: op, Err: fmt.Errorf("read the conversation with %s: %w", user, err)}
	}
	want := strings.TrimSpace(text)
	for _, c := range ans.Data {
		for _, m := range c.Messages.Data {
			at := m.CreatedTime.t
			if strings.TrimSpace(m.Message) == want && (m.From == nil || string(m.From.ID) != user) &&
				!at.IsZero() && !at.Before(since) {
				return true, nil
			}
		}
	}
	return false, nil
}

// privateReply sends the commenter a private message tied to their comment, or
// the visitor one tied to their post.
func privateReply(ctx context.Context, g *graph, path string, ev bot.Event, text string, now time.Time) error {
	if !ev.At.IsZero() && now.Sub(ev.At) > privateReplyWindow {
		return &bot.ActionError{Op: bot.ActWarn, Err: fmt.Errorf(
			"too late for a private reply: the %s is %s old, Meta allows 7 days",
			postOrComment(ev), now.Sub(ev.At).Round(time.Hour))}
	}
	// A visitor's post is answered privately as its comments are, named
	// as a post (Messenger's Private Replies take a post_id or a comment_id).
	recipient := "comment_id"
	if IsPost(ev) {
		recipient = "post_id"
	}
	body := map[string]any{
		"recipient": map[string]string{recipient: CommentID(ev)},
		"message":   map[string]string{"text": text},
	}
	if removedUnder(ctx, g, bot.ActWarn, ev) {
		return nil
	}
	_, err := g.call(ctx, ev.Platform, bot.ActWarn, http.MethodPost, path, nil, body)
	if gone(err) && removedUnder(ctx, g, bot.ActWarn, ev) {
		return nil
	}
	// Meta takes one private reply to a comment: when an earlier call of
	// these words went unanswered or out, its refusal of this one says the
	// first went out. Other words refused did not: a failure.
	return g.once(ctx, "warn "+CommentID(ev)+" "+textKey(text), err, (*GraphError).AlreadyRepliedPrivately)
}

// placeOf is the platform of a conversation's platform (messenger,
// instagram), as the Graph calls name where they act.
func placeOf(conversation string) string {
	if conversation == "instagram" {
		return Instagram
	}
	return Facebook
}

// textKey names an answer's text in the keys of the actions not to be done
// twice: a digest, so that the 50,000 remembered do not each hold a copy of
// a text of up to thousands of characters.
func textKey(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:16])
}

// deleteComment deletes the comment or post: DELETE /{id}. When an earlier
// call's answer was lost, Meta's answer that the comment is gone says that
// call deleted it.
func deleteComment(ctx context.Context, g *graph, ev bot.Event) error {
	id := CommentID(ev)
	if g.removedAlready(ctx, ev.Platform, bot.ActDelete, id) {
		return nil
	}
	_, err := g.call(ctx, ev.Platform, bot.ActDelete, http.MethodDelete, url.PathEscape(id), nil, nil)
	if gone(err) && g.removedAlready(ctx, ev.Platform, bot.ActDelete, id) {
		return nil
	}
	err = g.once(ctx, "delete "+id, err, (*GraphError).Gone)
	if ev.Platform == Instagram && g.removedFromInstagram(ctx, bot.ActDelete, id, err) {
		return nil
	}
	return err
}

// publicReply answers under the thread's top comment, on edge (comments on
// Facebook, replies on Instagram), as author (the Page, or the account). The
// same answer to the same comment is not posted twice: not when vigie posted
// it already (the comment edited, and judged again), nor when an earlier
// call's answer was lost. Meta has no idempotency key: the replies under the
// comment are read then, and the answer found there, with the same text, from
// author, since that call, is not posted again.
func publicReply(ctx context.Context, g *graph, ev bot.Event, edge, author, text string) error {
	key := "reply " + CommentID(ev) + " " + textKey(text)
	parent := threadTop(ev)
	// A question its author removed (or the thread it was in) is not
	// answered: no one sees it, and Meta refuses a reply under a comment
	// gone, which would be a case about nothing, each time a visitor asks
	// and deletes.
	if removedUnder(ctx, g, bot.ActReply, ev) {
		return nil
	}
	if st, ok := g.callOf(ctx, key); ok && st.done {
		g.log.Info("public reply not posted again: vigie gave this comment this answer already", "comment", CommentID(ev))
		return nil
	} else if ok {
		found, err := findReply(ctx, g, ev.Platform, parent, edge, author, text, st.at.Add(-MaxSkew))
		switch {
		case found:
			g.keep(ctx, key, callState{at: g.now(), done: true})
			g.log.Info("public reply posted by an earlier call whose answer was lost: not posted again", "comment", CommentID(ev))
			return nil
		case errors.Is(err, errRepliesNotAllRead):
			// Posting on a guess could answer twice in public.
			g.log.Warn("public reply not posted again: Meta's answer to an earlier call was lost, and it is not among the replies read under the comment, which has more",
				"comment", CommentID(ev), "pages", replyPagesMost)
			return &bot.ActionError{Op: bot.ActReply, Err: fmt.Errorf(
				"the public reply may have been posted: Meta's answer to vigie's call was lost %s ago, and it is not among the first %d replies Meta gave under the comment, which has more; "+
					"not posted again, so as not to answer twice in public: look under the comment (%s) and answer by hand if it is not there",
				g.now().Sub(st.at).Round(time.Second), replyPagesMost*replyPageSize, parent)}
		case err != nil && bot.Retryable(err):
			// Posting without knowing could answer twice in public:
			// the retry stage reads again later.
			return err
		}
	}
	raw, err := g.call(ctx, ev.Platform, bot.ActReply, http.MethodPost, url.PathEscape(parent)+"/"+edge,
		url.Values{"message": {text}}, nil)
	if err == nil {
		g.wrote(ev.Platform, raw)
	}
	if gone(err) && removedUnder(ctx, g, bot.ActReply, ev) {
		return nil
	}
	return g.once(ctx, key, err, func(*GraphError) bool { return false })
}

// Bounds of the read of the replies under a comment, looking for vigie's
// own: replyPagesMost pages of replyPageSize. Past them, the reply is not
// posted on a guess (errRepliesNotAllRead).
const (
	replyPagesMost = 5
	replyPageSize  = 100
)

// errRepliesNotAllRead says that the replies under a comment were read up
// to the bound without finding vigie's own, and that there are more.
var errRepliesNotAllRead = errors.New("replies not all read")

// findReply looks for author's reply with text under parent (on Facebook
// or Instagram), written at or
// after since: GET /{id}/comments (Facebook: message, created_time, the
// newest first) or /{id}/replies (Instagram: text, timestamp; Meta documents
// no order), page after page (paging.cursors.after, while Meta gives a
// paging.next), up to replyPagesMost pages. On Facebook, a reply older than
// since ends the read: the rest are older still. A read that ends at the
// bound with more left says errRepliesNotAllRead.
func findReply(ctx context.Context, g *graph, on, parent, edge, author, text string, since time.Time) (bool, error) {
	params := url.Values{"fields": {"from,message,created_time"}, "order": {"reverse_chronological"}, "limit": {strconv.Itoa(replyPageSize)}}
	newestFirst := true
	if edge == "replies" {
		params = url.Values{"fields": {"from,text,timestamp"}, "limit": {strconv.Itoa(replyPageSize)}}
		newestFirst = false
	}
	want := strings.TrimSpace(text)
	for range replyPagesMost {
		raw, err := g.call(ctx, on, bot.ActReply, http.MethodGet, url.PathEscape(parent)+"/"+edge, params, nil)
		if err != nil {
			return false, err
		}
		var page struct {
			Data []struct {
				From *struct {
					ID flexString `json:"id"`
				} `json:"from"`
				Message     string   `json:"message"`
				Text        string   `json:"text"`
				CreatedTime flexTime `json:"created_time"`
				Timestamp   flexTime `json:"timestamp"`
			} `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return false, &bot.ActionError{Op: bot.ActReply, Err: fmt.Errorf("read the replies under %s: %w", parent, err)}
		}
		for _, r := range page.Data {
			at := cmp.Or(r.CreatedTime.t, r.Timestamp.t)
			if strings.TrimSpace(cmp.Or(r.Message, r.Text)) == want && (r.From == nil || string(r.From.ID) == author) &&
				!at.IsZero() && !at.Before(since) {
				return true, nil
			}
			if newestFirst && !at.IsZero() && at.Before(since) {
				return false, nil
			}
		}
		// The next page is asked with the cursor, not through the next
		// URL, which carries the token in its query.
		if page.Paging.Next == "" || page.Paging.Cursors.After == "" || len(page.Data) == 0 {
			return false, nil
		}
		params.Set("after", page.Paging.Cursors.After)
	}
	return false, errRepliesNotAllRead
}

// commentOnly refuses comment actions on direct messages, which Meta cannot hide
// or delete for the page.
func commentOnly(op bot.ActionKind, ev bot.Event) error {
	if InConversation(ev) {
		return &bot.ActionError{Op: op, Err: fmt.Errorf("a direct message cannot be %s by the page", pastTense(op))}
	}
	if CommentID(ev) == "" {
		return &bot.ActionError{Op: op, Err: errors.New("the event has no comment id")}
	}
	return nil
}

// ownMedia refuses, before calling Meta, what the account may do only to the
// comments on its own media: an @mention elsewhere is the other account's to
// hide or delete, and Meta's private replies are for commenters on the
// account's media. The failure opens a case, whose reason says so.
func ownMedia(op bot.ActionKind, ev bot.Event) error {
	if !IsMention(ev) {
		return commentOnly(op, ev)
	}
	what := "be " + pastTense(op)
	if op == bot.ActWarn {
		what = "be answered privately"
	}
	return &bot.ActionError{Op: op, Err: fmt.Errorf(
		"an @mention of the account on another account's media cannot %s by the account: Meta allows only a public reply to it", what)}
}

// postOrComment names what ev is, for the reasons a case gives.
func postOrComment(ev bot.Event) string {
	if IsPost(ev) {
		return "post"
	}
	return "comment"
}

func pastTense(op bot.ActionKind) string {
	switch op {
	case bot.ActHide:
		return "hidden"
	case opUnhide:
		return "unhidden"
	}
	return "deleted"
}

// removedUnder reports whether Meta said the comment of ev, or the top of
// its thread, was removed: an answer to it has nothing left to do (and
// says so in the log).
func removedUnder(ctx context.Context, g *graph, op bot.ActionKind, ev bot.Event) bool {
	id, top := CommentID(ev), threadTop(ev)
	return g.removedAlready(ctx, ev.Platform, op, id) || (top != id && g.removedAlready(ctx, ev.Platform, op, top))
}

// threadTop is the comment a public reply goes under: the thread's top comment
// when the event is itself a reply.
func threadTop(ev bot.Event) string { return cmp.Or(ev.Thread, CommentID(ev)) }
