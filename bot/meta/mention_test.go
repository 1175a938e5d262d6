package meta_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// The comment of ig_mention.json, and the media it is on: another account's.
const (
	mentionComment = "17894227972186120"
	mentionMedia   = "17918195224117851"
)

// An @mention of the account in a comment on another account's media is
// judged like a comment, but the account may only answer it in public, through
// its mentions edge. vigie tried to hide it and answer it privately as a
// comment on its own media: Meta refuses both, and the case said the comment
// was gone; a reply went under the comment, which Meta refuses too.
func TestMentionOnAnotherAccountsMedia(t *testing.T) {
	t.Run("an insult is a case that says what Meta allows", func(t *testing.T) {
		p := newPipeline(t, igCommentSent.Add(time.Minute))
		verdicts := p.deliver(t, fixture(t, "ig_mention.json"))
		if len(verdicts) != 1 || !verdicts[0].Flagged() || verdicts[0].Matches[0].Rule != "insult" {
			t.Fatalf("verdicts = %+v, want the insult rule", verdicts)
		}
		for _, c := range p.h.graph.Calls() {
			if c.Path == "/"+mentionComment || jsonField(c.JSON, "recipient.comment_id") == mentionComment {
				t.Errorf("Graph call %s %s %v %v: Meta refuses it for a comment on another account's media", c.Method, c.Path, c.Params, c.JSON)
			}
		}
		cs, err := p.store.Cases(context.Background(), store.CaseOpen)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 {
			t.Fatalf("open cases = %+v, want 1", cs)
		}
		const why = "on another account's media cannot be hidden by the account: Meta allows only a public reply to it"
		if !strings.Contains(cs[0].Reason, why) {
			t.Errorf("case reason = %q, want it to say %q", cs[0].Reason, why)
		}
		// The warning after a failed hide is withheld; asked alone, it is
		// refused without a call too.
		evs := []bot.Event{cs[0].Event}
		err = p.h.c.Instagram().Warn(context.Background(), evs[0], "Merci de rester courtois.")
		if err == nil || !strings.Contains(err.Error(), "cannot be answered privately by the account") {
			t.Errorf("warn = %v, want a refusal that names the private reply", err)
		}
		if n := len(p.callsTo("POST", "/me/messages")); n != 0 {
			t.Errorf("%d private replies sent, want none", n)
		}
	})

	t.Run("a reply goes through the mentions edge", func(t *testing.T) {
		p := newPipeline(t, igCommentSent.Add(time.Minute))
		p.h.mustPost(fixture(t, "ig_mention.json"))
		evs := p.h.collect()
		if len(evs) != 1 {
			t.Fatalf("events = %+v, want the mention", evs)
		}
		if err := p.h.c.Instagram().Reply(context.Background(), evs[0], "Merci, on transmet au boulanger."); err != nil {
			t.Fatalf("reply: %v", err)
		}
		calls := p.callsTo("POST", "/"+igID+"/mentions")
		if len(calls) != 1 || calls[0].Params.Get("comment_id") != mentionComment ||
			calls[0].Params.Get("media_id") != mentionMedia || calls[0].Params.Get("message") != "Merci, on transmet au boulanger." {
			t.Fatalf("mentions calls = %+v, want one with comment_id %s, media_id %s and the text", calls, mentionComment, mentionMedia)
		}
		if n := len(p.callsTo("POST", "/"+mentionComment+"/replies")); n != 0 {
			t.Errorf("%d replies under the comment, want none", n)
		}
	})

	t.Run("the comments on the account's media are not mentions", func(t *testing.T) {
		p := newPipeline(t, igCommentSent.Add(time.Minute))
		p.h.mustPost(fixture(t, "ig_comment.json"))
		evs := p.h.collect()
		if len(evs) != 1 || bot.Event.Key(evs[0]) != "instagram:17865799348089039" {
			t.Fatalf("events = %+v, want the comment, under its own id", evs)
		}
		if err := p.h.c.Instagram().Hide(context.Background(), evs[0]); err != nil {
			t.Errorf("hide of a comment on the account's media: %v", err)
		}
	})
}
