package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// editChat is a chat whose edits are events of their own, "MESSAGE@EDIT",
// as Discord's are.
type editChat struct{ *chat }

var _ bot.MessageNamer = editChat{}

func (c editChat) MessageOf(ev bot.Event) string {
	id, _, _ := strings.Cut(ev.ID, "@")
	return id
}

// TestEditAnswerShared: what was said about a message is not said again
// for its edits by another instance on the same Redis, nor by one started
// after; an answer that did not go out is given to the next edit; another
// message gets its own answer.
func TestEditAnswerShared(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("edit-test")
	ctx := context.Background()
	now := at
	edits := 0
	hello := bot.Match{Rule: "hello", Actions: []bot.Action{{Kind: bot.ActReply, Text: "Bonjour !"}}}
	rude := bot.Match{Rule: "rude", Category: "abuse", Actions: []bot.Action{{Kind: bot.ActWarn, Text: "Restez courtois"}}}
	instance := func(name string) func(step, msg string, edit bool, match bot.Match, fail error, want []string) {
		st := redistest.Open(t, srv.URL(), redis.WithPrefix(prefix), redis.WithConsumer(name))
		p := editChat{&chat{recorder: recorder{name: "discord", errs: map[string][]error{}}}}
		m, err := handlers.New(handlers.Options{
			Platforms: map[string]bot.Platform{"discord": p}, Store: st,
			Now: func() time.Time { return now }, Retry: handlers.Retry{Attempts: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		return func(step, msg string, edit bool, match bot.Match, fail error, want []string) {
			t.Helper()
			ev := event("discord")
			ev.ID, ev.At = msg, now
			if edit {
				edits++
				ev.ID, ev.Kind = fmt.Sprint(msg, "@", edits), bot.KindEdit
			}
			if fail != nil {
				p.errs["reply"] = []error{fail}
			}
			before := len(p.Calls())
			v := verdict("discord", match)
			v.EventID = ev.ID
			if err := m.Handle(ctx, ev, v); err != nil {
				t.Fatal(err)
			}
			if got := p.Calls()[before:]; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: calls %q, want %q", step, got, want)
			}
		}
	}
	a, b := instance("a"), instance("b")
	answered := []string{`reply("Bonjour !")`}
	a("the message", "m-1", false, hello, nil, answered)
	now = now.Add(time.Minute)
	b("its edit on another instance", "m-1", true, hello, nil, nil)
	a("its edit on the first", "m-1", true, hello, nil, nil)
	now = now.Add(time.Hour)
	c := instance("c")
	c("its edit on an instance started after", "m-1", true, hello, nil, nil)
	c("another message", "m-2", false, hello, nil, answered)

	c("a message whose answer fails", "m-3", false, hello, errors.New("connection reset"), []string{`reply("Bonjour !") -> error`})
	now = now.Add(time.Minute)
	b("its edit", "m-3", true, hello, nil, answered)
	a("its next edit", "m-3", true, hello, nil, nil)

	warned := []string{`reply("Restez courtois")`}
	a("an insult", "m-4", false, rude, nil, warned)
	now = now.Add(handlers.DefaultWarnEvery + time.Minute)
	b("its edit, past the author's ten minutes", "m-4", true, rude, nil, nil)
	now = now.Add(handlers.DefaultWarnEvery + time.Minute)
	instance("d")("its edit on an instance started after", "m-4", true, rude, nil, nil)
	b("another insult", "m-5", false, rude, nil, warned)
}

// stalledReply is an editChat whose answers never come back, as from an
// instance killed while it answered.
type stalledReply struct {
	editChat
	entered chan struct{}
}

func (s stalledReply) Reply(ctx context.Context, ev bot.Event, text string) error {
	close(s.entered)
	<-ctx.Done()
	return ctx.Err()
}

// TestClaimOfAKilledInstanceNotAnotherEvents: an instance that claimed an
// edit's answer and died before giving it (the journal then hands its
// verdict to another instance, which carries it out) does not keep the
// other from giving it: the claim is the event's, taken again for the same
// event; another edit still does not get it twice.
func TestClaimOfAKilledInstanceNotAnotherEvents(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("edit-kill")
	now := at
	open := func(name string, p bot.Platform) *handlers.Moderator {
		st := redistest.Open(t, srv.URL(), redis.WithPrefix(prefix), redis.WithConsumer(name))
		m, err := handlers.New(handlers.Options{
			Platforms: map[string]bot.Platform{"discord": p}, Store: st,
			Now: func() time.Time { return now }, Retry: handlers.Retry{Attempts: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	hello := bot.Match{Rule: "hello", Actions: []bot.Action{{Kind: bot.ActReply, Text: "Bonjour !"}}}
	ev := event("discord")
	ev.ID, ev.Kind, ev.At = "m-1@1", bot.KindEdit, now
	v := verdict("discord", hello)
	v.EventID = ev.ID

	stalled := stalledReply{editChat{&chat{recorder: recorder{name: "discord"}}}, make(chan struct{})}
	killed, kill := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		open("a", stalled).Handle(killed, ev, v)
	}()
	t.Cleanup(func() { kill(); <-done })
	<-stalled.entered

	now = now.Add(3 * time.Minute) // the journal hands the verdict on
	p := editChat{&chat{recorder: recorder{name: "discord"}}}
	b := open("b", p)
	if err := b.Handle(context.Background(), ev, v); err != nil {
		t.Fatal(err)
	}
	if got := p.Calls(); fmt.Sprint(got) != fmt.Sprint([]string{`reply("Bonjour !")`}) {
		t.Errorf("the killed instance's verdict carried out by another: calls %q, want the answer", got)
	}
	next := ev
	next.ID, next.At = "m-1@2", now.Add(time.Minute)
	v.EventID = next.ID
	if err := b.Handle(context.Background(), next, v); err != nil {
		t.Fatal(err)
	}
	if got := p.Calls(); len(got) != 1 {
		t.Errorf("the next edit: calls %q, want no second answer", got)
	}

	// So with a warning, which is also claimed for its author's ten minutes.
	rude := bot.Match{Rule: "rude", Category: "abuse", Actions: []bot.Action{{Kind: bot.ActWarn, Text: "Restez courtois"}}}
	insult := event("discord")
	insult.ID, insult.At = "m-2", now
	w := verdict("discord", rude)
	w.EventID = insult.ID
	stalled = stalledReply{editChat{&chat{recorder: recorder{name: "discord"}}}, make(chan struct{})}
	killed2, kill2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() {
		defer close(done2)
		open("c", stalled).Handle(killed2, insult, w)
	}()
	t.Cleanup(func() { kill2(); <-done2 })
	<-stalled.entered
	now = now.Add(3 * time.Minute)
	if err := b.Handle(context.Background(), insult, w); err != nil {
		t.Fatal(err)
	}
	if got := p.Calls(); len(got) != 2 || got[1] != `reply("Restez courtois")` {
		t.Errorf("the killed instance's warning carried out by another: calls %q, want the warning", got)
	}
}
