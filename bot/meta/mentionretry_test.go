package meta_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/store"
)

// The text of an Instagram @mention is read from the Graph API after Meta got
// its 200: a failed read was logged and the mention dropped, an event lost.
// It is asked again, beside the other events, and a mention still unread is a
// case for the desk with the ids the delivery gave.
func TestMentionReadRetried(t *testing.T) {
	quick := func(c *meta.Config) { c.MentionRetryWait = time.Millisecond }
	graphDown := graphErrorJSON(2, 0, "OAuthException", "An unexpected error has occurred. Please retry your request later.")
	mentionRead := "/" + igID

	t.Run("read on a retry, judged", func(t *testing.T) {
		p := newPipeline(t, igCommentSent.Add(time.Minute), quick)
		p.h.graph.failNext("GET", mentionRead, http.StatusInternalServerError, graphDown, nil)
		p.h.graph.failNext("GET", mentionRead, http.StatusServiceUnavailable, graphDown, nil)
		p.h.mustPost(fixture(t, "ig_mention.json"))
		var ev bot.Event
		select {
		case ev = <-p.h.events:
		case <-time.After(testsync.Patience):
			t.Fatalf("no event for the mention; logs:\n%s", p.h.logs)
		}
		if ev.ID != mentionComment+":mention" || ev.Text == "" {
			t.Fatalf("event = %+v, want the mention with its text", ev)
		}
		if n := len(p.callsTo("GET", mentionRead)); n != 3 {
			t.Errorf("%d reads of the mention, want 3 (two failed)", n)
		}
		v, err := p.eng.Evaluate(context.Background(), ev)
		if err != nil || len(v.Matches) != 1 || v.Matches[0].Rule != "insult" {
			t.Errorf("verdict = %+v, %v, want the insult rule", v, err)
		}
	})

	t.Run("never read, a case", func(t *testing.T) {
		p := newPipeline(t, igCommentSent.Add(time.Minute), quick)
		for range 4 { // the first read and its three retries
			p.h.graph.failNext("GET", mentionRead, http.StatusInternalServerError, graphDown, nil)
		}
		p.h.mustPost(fixture(t, "ig_mention.json"))
		var cs []store.Case
		testsync.Eventually(t, "a case for the unread mention", func() bool {
			var err error
			cs, err = p.store.Cases(context.Background(), store.CaseOpen)
			return err == nil && len(cs) == 1
		})
		c := cs[0]
		if c.Event.Key() != "instagram:"+mentionComment+":mention" || c.Event.Channel != mentionMedia || c.Event.Space != igID {
			t.Errorf("case event = %+v, want the mention's ids", c.Event)
		}
		for _, want := range []string{"not judged", mentionComment, mentionMedia, "500"} {
			if !strings.Contains(c.Reason, want) {
				t.Errorf("case reason = %q, want it to say %q", c.Reason, want)
			}
		}
		if n := len(p.callsTo("GET", mentionRead)); n != 4 {
			t.Errorf("%d reads of the mention, want 4", n)
		}
		if evs := p.h.collect(); len(evs) != 0 {
			t.Errorf("events = %+v, want none for the unread mention", evs)
		}
	})

	t.Run("refused for good, a case at once", func(t *testing.T) {
		p := newPipeline(t, igCommentSent.Add(time.Minute), quick)
		p.h.graph.failNext("GET", mentionRead, http.StatusBadRequest,
			graphErrorJSON(100, 33, "GraphMethodException", "Unsupported get request. Object does not exist."), nil)
		p.h.mustPost(fixture(t, "ig_mention.json"))
		testsync.Eventually(t, "a case for the unread mention", func() bool {
			cs, err := p.store.Cases(context.Background(), store.CaseOpen)
			return err == nil && len(cs) == 1
		})
		if n := len(p.callsTo("GET", mentionRead)); n != 1 {
			t.Errorf("%d reads of the mention, want 1: asking again would not change the answer", n)
		}
	})
}

// In vigie run, the case for a mention Meta would not give is opened by the
// daemon's moderator and listed with the others.
func TestDaemonUnreadMentionIsACase(t *testing.T) {
	g := newFakeGraph(t)
	g.failNext("GET", "/"+igID, http.StatusBadRequest,
		graphErrorJSON(100, 33, "GraphMethodException", "Unsupported get request. Object does not exist."), nil)
	base, logs := startDaemon(t, metaEnv(g))
	body := restamp(fixture(t, "ig_mention.json"), time.Since(igCommentSent))
	deliverSigned(t, base, body)
	var cases struct {
		Cases []struct {
			Reason string
			Event  struct{ ID, Platform string }
		}
	}
	testsync.Eventually(t, "the case of the unread mention", func() bool {
		req, err := http.NewRequest(http.MethodGet, base+"/v1/cases", nil)
		if err != nil {
			return false
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&cases) != nil {
			return false
		}
		return len(cases.Cases) == 1
	})
	c := cases.Cases[0]
	if c.Event.Platform != "instagram" || c.Event.ID != mentionComment+":mention" || !strings.Contains(c.Reason, mentionMedia) {
		t.Errorf("case = %+v, want the mention's, with its media\nlogs:\n%s", c, logs)
	}
}

// The Graph API is slow to give an @mention's text (it answers nothing for
// as long as vigie waits): the comments Meta delivers after the mention are
// judged meanwhile, not held up behind it, and the mention once read is
// judged too.
func TestSlowMentionReadDoesNotHoldComments(t *testing.T) {
	noTimeout := func(c *meta.Config) { c.HTTPClient = &http.Client{} }
	p := newPipeline(t, igCommentSent.Add(time.Minute), noTimeout)
	release := p.h.graph.holdCalls(t, "GET", "/"+igID)
	p.h.mustPost(fixture(t, "ig_mention.json"))
	p.h.mustPost(fixture(t, "ig_comment.json"))
	select {
	case ev := <-p.h.events:
		if ev.ID != "17865799348089039" {
			t.Fatalf("event = %+v, want the comment while the mention's text is read", ev)
		}
	case <-time.After(testsync.Patience):
		t.Fatalf("the comment is held up behind the mention; logs:\n%s", p.h.logs)
	}
	release()
	select {
	case ev := <-p.h.events:
		if ev.ID != mentionComment+":mention" || ev.Text == "" {
			t.Fatalf("event = %+v, want the mention with its text", ev)
		}
	case <-time.After(testsync.Patience):
		t.Fatalf("no event for the mention once read; logs:\n%s", p.h.logs)
	}
}

// A flood of @mentions while the Graph API does not give their texts: the
// mentions waiting to be read are bounded like the queue, and once they
// fill it, deliveries are answered 503 for Meta to send them again later,
// rather than every mention taken into memory (and, at a restart, made a
// case for the desk).
func TestMentionFloodHeldBack(t *testing.T) {
	const queue = 4
	tweak := func(c *meta.Config) { c.HTTPClient = &http.Client{}; c.QueueSize = queue }
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) }) // after the pipeline stopped
	p := newPipeline(t, igCommentSent.Add(time.Minute), tweak)
	release := p.h.graph.holdCalls(t, "GET", "/"+igID)
	defer func() {
		// The mentions read at last are judged (here, taken) as vigie stops.
		release()
		go func() {
			for {
				select {
				case <-p.h.events:
				case <-stop:
					return
				}
			}
		}()
	}()
	body := string(fixture(t, "ig_mention.json"))
	accepted, busy := 0, 0
	for i := range 60 {
		b := strings.Replace(body, mentionComment, fmt.Sprintf("1789422797218%04d", i), 1)
		switch rec := p.h.post([]byte(b), appSecret); rec.Code {
		case http.StatusOK:
			accepted++
			// Run takes it from the queue, unless the mentions waiting
			// to be read are as many as it lets wait.
			testsync.Eventually(t, "the mention taken from the queue, or the mentions read at their most", func() bool {
				return p.h.c.Queued() == 0 || p.h.c.MentionsOut() >= queue
			})
		case http.StatusServiceUnavailable:
			busy++
		default:
			t.Fatalf("delivery %d answered %d %q", i, rec.Code, rec.Body.String())
		}
	}
	testsync.Eventually(t, "the queue emptied, or full behind the mentions waiting to be read", func() bool {
		return p.h.c.Queued() == 0 || p.h.c.Queued() == queue && p.h.c.MentionsOut() == queue
	})
	// The queue, the mentions waiting to be read, and the one Run holds.
	if most := 2*queue + 1; accepted > most || busy == 0 {
		t.Errorf("%d mentions taken and %d answered 503 while none could be read, want at most %d taken", accepted, busy, most)
	}
	if n := p.h.c.MentionsOut(); n > queue {
		t.Errorf("%d mentions waiting to be read, want at most %d", n, queue)
	}
}
