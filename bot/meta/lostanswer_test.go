package meta_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/store"
)

// TestLostAnswerNotActedTwice: Meta carries out an action, and its answer is
// lost on the way (a timeout, a reset): the retry stage tries again. A public
// reply is not posted a second time, and the second try of a delete or of a
// private reply, which Meta refuses since the first was done (the comment is
// gone; one private reply per comment), is not taken for a failure: no case
// says that what was done was not. An answer in a Messenger or Instagram
// conversation is not sent a second time either: the conversation is read.
// The senders of messenger_text.json and ig_message.json, and when they
// were delivered.
const (
	messengerSender = "7654321098765432"
	igSender        = "6677889900112233"
)

var messageSent = time.UnixMilli(1795732000123).UTC()

func TestLostAnswerNotActedTwice(t *testing.T) {
	const (
		fbCID = "987654321098765_1122334455667788" // fb_comment_add.json
		igCID = "17865799348089039"                // ig_comment.json
	)
	rule := func(do string) string {
		return "timezone: Europe/Paris\nrules:\n  - name: act\n    when: author.id != \"42\"\n    do: [" + do + "]\n"
	}
	tests := []struct {
		name, fixture string
		sent          time.Time
		do            string
		method, path  string
		// done reports whether the action was carried out once, and only once.
		done func(p *pipeline) bool
	}{
		{"facebook public reply", "fb_comment_add.json", fbCommentAddSent, `'reply("Merci, nous regardons.")'`,
			"POST", "/" + fbCID + "/comments",
			func(p *pipeline) bool { return len(p.h.graph.repliesUnder(fbCID)) == 1 }},
		{"facebook private reply", "fb_comment_add.json", fbCommentAddSent, `'warn("Merci de rester courtois.")'`,
			"POST", "/" + pageID + "/messages", nil},
		{"facebook delete", "fb_comment_add.json", fbCommentAddSent, "delete",
			"DELETE", "/" + fbCID, nil},
		{"instagram public reply", "ig_comment.json", igCommentSent, `'reply("Du lundi au samedi, 9h-19h.")'`,
			"POST", "/" + igCID + "/replies",
			func(p *pipeline) bool { return len(p.h.graph.repliesUnder(igCID)) == 1 }},
		{"instagram private reply", "ig_comment.json", igCommentSent, `'warn("Merci de rester courtois.")'`,
			"POST", "/me/messages", nil},
		{"instagram delete", "ig_comment.json", igCommentSent, "delete",
			"DELETE", "/" + igCID, nil},
		// The Send API's answers: the conversation is read back.
		{"messenger answer", "messenger_text.json", messageSent, `'reply("Nous sommes ouverts du lundi au samedi.")'`,
			"POST", "/" + pageID + "/messages",
			func(p *pipeline) bool { return len(p.h.graph.sentTo(messengerSender)) == 1 }},
		{"messenger warning", "messenger_text.json", messageSent, `'warn("Merci de rester courtois.")'`,
			"POST", "/" + pageID + "/messages",
			func(p *pipeline) bool { return len(p.h.graph.sentTo(messengerSender)) == 1 }},
		{"instagram direct answer", "ig_message.json", messageSent, `'reply("Nous sommes ouverts du lundi au samedi.")'`,
			"POST", "/me/messages",
			func(p *pipeline) bool { return len(p.h.graph.sentTo(igSender)) == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.sent.Add(time.Minute)
			p := newPipelineWith(t, now, rule(tt.do))
			p.h.graph.now = func() time.Time { return now }
			p.h.graph.dropAnswerNext(tt.method, tt.path)
			p.deliver(t, fixture(t, tt.fixture))
			if n := len(p.callsTo(tt.method, tt.path)); n < 1 {
				t.Fatalf("%s %s never called", tt.method, tt.path)
			}
			if tt.done != nil && !tt.done(p) {
				t.Errorf("the Page's replies: %+v, want one", p.h.graph.Calls())
			}
			cs, err := p.store.Cases(context.Background(), store.CaseOpen)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				t.Errorf("case opened for an action Meta carried out: %s", c.Reason)
			}
			if strings.Contains(p.h.logs.String(), "level=ERROR") {
				t.Errorf("errors logged:\n%s", p.h.logs.String())
			}
		})
	}
}

// TestEditedCommentAnsweredOnce: a comment vigie answered, in public and
// privately, is edited and judged again, and the same rule matches the new
// text. Its author is not answered again in public with the same text, and
// Meta's refusal of a second private reply (one per comment) is not a
// failure for the desk: vigie's own first one went out.
func TestEditedCommentAnsweredOnce(t *testing.T) {
	now := commentEditedAt
	p := newPipelineWith(t, now, insultRules)
	p.h.graph.now = func() time.Time { return now }
	p.deliver(t, fixture(t, "fb_comment_add.json"))
	p.deliver(t, fixture(t, "fb_comment_edited.json"))
	p.wantCommentAnsweredOnce(t)
}

// insultRules answer an insult in a comment in public and privately, and
// warn its author.
const insultRules = `
timezone: Europe/Paris
lists:
  insults: [escrocs]
rules:
  - name: insult
    when: has_any(text, lists.insults)
    do: ['reply("Nous lisons tous les commentaires.")', 'warn("Merci de rester courtois.")']
`

// commentEditedAt is a minute after fb_comment_edited.json's time.
var commentEditedAt = time.Unix(1795731300, 0).UTC().Add(time.Minute)

// wantCommentAnsweredOnce checks that the comment of fb_comment_add.json,
// judged again once edited (insultRules), was answered once in public and
// privately, and opened no case.
func (p *pipeline) wantCommentAnsweredOnce(t *testing.T) {
	t.Helper()
	if n := len(p.h.graph.repliesUnder("987654321098765_1122334455667788")); n != 1 {
		t.Errorf("%d public replies under the comment, want 1", n)
	}
	if n := len(p.callsTo("POST", "/"+pageID+"/messages")); n < 1 {
		t.Errorf("no private reply sent")
	}
	p.wantNoCase(t)
}

// wantNoCase checks that no case is open.
func (p *pipeline) wantNoCase(t *testing.T) {
	t.Helper()
	cs, err := p.store.Cases(context.Background(), store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		t.Errorf("case opened: %s", c.Reason)
	}
}

// TestEditedMessageAnsweredOnce: a Messenger message vigie answered is
// edited, judged again, and the same rule matches: the same answer is not
// sent a second time in the conversation.
func TestEditedMessageAnsweredOnce(t *testing.T) {
	p := newPipelineWith(t, messageEditedAt, openingRules)
	p.deliver(t, fixture(t, "messenger_text.json"))
	p.deliver(t, fixture(t, "messenger_edit.json"))
	p.wantAnsweredOnce(t)
}

// openingRules answer a question on the opening hours with openingAnswer.
const (
	openingAnswer = "Nous sommes ouverts du lundi au samedi, 9h-19h."
	openingRules  = `
timezone: Europe/Paris
rules:
  - name: opening
    when: lower(text) contains "ouverts"
    do: ['reply("` + openingAnswer + `")']
`
)

// messageEditedAt is a minute after messenger_edit.json's time.
var messageEditedAt = time.UnixMilli(1795732100123).UTC().Add(time.Minute)

// wantAnsweredOnce checks that openingAnswer was sent once in the
// conversation.
func (p *pipeline) wantAnsweredOnce(t *testing.T) {
	t.Helper()
	var answers int
	for _, c := range p.callsTo("POST", "/"+pageID+"/messages") {
		if jsonField(c.JSON, "message.text") == openingAnswer {
			answers++
		}
	}
	if answers != 1 {
		t.Errorf("%d answers in the conversation, want 1", answers)
	}
}

// TestLostMentionReplyNotPostedTwice: the public reply to an @mention on
// another account's media is carried out by Meta and its answer lost. Graph
// shows the account neither that comment's replies nor the comment itself
// (only its mentioned_comment), so whether the reply went out cannot be read
// back: it is not posted again, in public under another account's post, on
// a guess; a case tells the CMs to look, never a silent miss.
func TestLostMentionReplyNotPostedTwice(t *testing.T) {
	const answer = "Merci, nous regardons."
	rule := "timezone: Europe/Paris\nrules:\n  - name: act\n    when: kind == \"comment\"\n    do: ['reply(\"" + answer + "\")']\n"
	now := time.Unix(1795731800, 0).UTC().Add(time.Minute) // ig_mention.json's time
	p := newPipelineWith(t, now, rule)
	path := "/" + igID + "/mentions"
	p.h.graph.dropAnswerNext("POST", path)
	p.h.mustPost(fixture(t, "ig_mention.json"))
	evs := p.h.collect()
	if len(evs) != 1 {
		t.Fatalf("events = %+v, want the mention", evs)
	}
	// judged as it is written, so that the reply is not withheld as late
	ev := evs[0]
	ev.At = now
	ctx := context.Background()
	v, err := p.eng.Evaluate(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.mod.Handle(ctx, ev, v); err != nil {
		t.Fatal(err)
	}
	if n := len(p.callsTo("POST", path)); n != 1 {
		t.Errorf("%d replies posted under the mention, want 1", n)
	}
	cs, err := p.store.Cases(context.Background(), store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	const why = "may have been posted"
	if len(cs) != 1 || !strings.Contains(cs[0].Reason, why) {
		t.Fatalf("open cases = %+v, want one whose reason says the reply %s", cs, why)
	}
	if !strings.Contains(cs[0].Reason, "look on Instagram") {
		t.Errorf("case reason = %q, want it to say where to look", cs[0].Reason)
	}
}

// TestFailedAnswerStillSent: a Send API call that Meta answers with a 5xx
// may or may not have been carried out; the conversation read back shows it
// was not, and the answer is sent: no member is left without it.
func TestFailedAnswerStillSent(t *testing.T) {
	now := messageSent.Add(time.Minute)
	p := newPipelineWith(t, now, "timezone: Europe/Paris\nrules:\n  - name: act\n    when: author.id != \"42\"\n    do: ['reply(\"Nous sommes ouverts du lundi au samedi.\")']\n")
	p.h.graph.now = func() time.Time { return now }
	path := "/" + pageID + "/messages"
	p.h.graph.failNext("POST", path, 500, `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","is_transient":true,"code":2}}`, nil)
	p.deliver(t, fixture(t, "messenger_text.json"))
	if n := len(p.h.graph.sentTo(messengerSender)); n != 1 {
		t.Errorf("%d answers in the conversation, want 1", n)
	}
	if n := len(p.callsTo("GET", "/"+pageID+"/conversations")); n != 1 {
		t.Errorf("the conversation read %d times before sending again, want 1", n)
	}
	p.wantNoCase(t)
}

// TestUnsentMentionReplyTriedAgain: a reply to an @mention whose call never
// left (Graph could not be reached) is known not to be posted: it is tried
// again, not taken for one that may have been.
func TestUnsentMentionReplyTriedAgain(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // nothing listens there any more: each call is refused
	h := newHarness(t, func(c *meta.Config) { c.GraphURL = gone.URL + "/v25.0" })
	ev := bot.Event{ID: mentionComment + ":mention", Platform: "instagram", Kind: bot.KindComment, Space: igID, Channel: mentionMedia, At: fixedNow}
	for try := 1; try <= 2; try++ {
		err := h.c.Instagram().Reply(context.Background(), ev, "Merci, nous regardons.")
		if err == nil || !bot.Retryable(err) || strings.Contains(err.Error(), "may have been posted") {
			t.Errorf("try %d: %v, want Graph unreachable, worth another try", try, err)
		}
	}
}

// A rule answered the comment's author privately; a CM then warns them
// about the same comment with words of their own. Meta allows one private
// reply to a comment and refuses the CM's: that is a failure the CM reads
// (their words did not go out), not a success taken from vigie's own
// earlier reply. The same words again (a comment edited and judged again)
// are the one reply Meta has, and nothing fails.
func TestPrivateReplyOfOtherWordsRefusedIsAFailure(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	const rule = "Merci de rester courtois."
	if err := h.c.Facebook().Warn(ctx, fbComment, rule); err != nil {
		t.Fatalf("the rule's warn: %v", err)
	}
	if err := h.c.Facebook().Warn(ctx, fbComment, rule); err != nil {
		t.Errorf("the rule's warn again (the comment edited): %v, want nothing done and no failure", err)
	}
	err := h.c.Facebook().Warn(ctx, fbComment, "Dernier avertissement avant blocage.")
	if err == nil || !strings.Contains(err.Error(), "already answered privately") {
		t.Errorf("the CM's warn = %v, want Meta's refusal: one private reply per comment", err)
	}
}
