package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

func groupEvent(msg int, author string) bot.Event {
	chat := strconv.FormatInt(group.id, 10)
	return bot.Event{ID: fmtID(group.id, msg), Platform: "telegram", Kind: bot.KindMessage, Space: chat, Channel: chat,
		Author: bot.Author{ID: author, Name: "Bob <Martin>"}, Text: "spam", At: at(t0)}
}

func TestActionsCallTheBotAPI(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	ctx := context.Background()
	ev := groupEvent(10, "7")
	topic := ev
	topic.Thread = "5"
	channelPost := groupEvent(11, "-1001111111111")
	join := ev
	join.ID = strconv.FormatInt(group.id, 10) + ":join:7:" + strconv.FormatInt(t0, 10)
	chat := strconv.FormatInt(group.id, 10)

	until := func(d time.Duration) func(t *testing.T, got string) {
		return func(t *testing.T, got string) {
			n, err := strconv.ParseInt(got, 10, 64)
			lo, hi := time.Now().Add(d-5*time.Second).Unix(), time.Now().Add(d+5*time.Second).Unix()
			if err != nil || n < lo || n > hi {
				t.Errorf("until_date = %q, want about now+%s", got, d)
			}
		}
	}
	absent := func(t *testing.T, got string) {
		if got != "" {
			t.Errorf("until_date = %q, want none (forever)", got)
		}
	}
	tests := []struct {
		name    string
		do      func() error
		methods []string          // the calls made, in order
		want    map[string]string // parameters of the last call
		until   func(t *testing.T, got string)
		check   func(t *testing.T, p map[string]string)
		wantErr string
	}{
		{name: "delete", do: func() error { return c.Delete(ctx, ev) }, methods: []string{"deleteMessage"},
			want: map[string]string{"chat_id": chat, "message_id": "10"}},
		{name: "delete without a message", do: func() error { return c.Delete(ctx, join) }, wantErr: "has no message"},
		{name: "mute for 10 minutes, a member not banned", do: func() error { return c.Timeout(ctx, ev, 10*time.Minute) }, methods: []string{"getChatMember", "restrictChatMember"},
			want: map[string]string{"chat_id": chat, "user_id": "7", "use_independent_chat_permissions": "true"}, until: until(10 * time.Minute),
			check: func(t *testing.T, p map[string]string) {
				var perms map[string]bool
				if err := json.Unmarshal([]byte(p["permissions"]), &perms); err != nil || len(perms) < 9 {
					t.Fatalf("permissions = %q", p["permissions"])
				}
				for k, v := range perms {
					if v {
						t.Errorf("permission %s left on", k)
					}
				}
			}},
		// by hand: the 10 minutes' mute above is longer, and a rule's would keep it
		{name: "a very short mute is stretched, not made permanent", do: func() error { return c.Timeout(bot.WithByHand(ctx), ev, 5*time.Second) },
			methods: []string{"getChatMember", "restrictChatMember"}, want: map[string]string{"user_id": "7"}, until: until(minRestriction)},
		{name: "a channel cannot be muted", do: func() error { return c.Timeout(ctx, channelPost, time.Minute) }, wantErr: "cannot be muted"},
		{name: "unmute gives every permission back, for good, to a member not banned", do: func() error { return c.Untimeout(ctx, ev) }, methods: []string{"getChatMember", "restrictChatMember"},
			want: map[string]string{"chat_id": chat, "user_id": "7", "use_independent_chat_permissions": "true"}, until: absent,
			check: func(t *testing.T, p map[string]string) {
				want := `{"can_add_web_page_previews":true,"can_change_info":true,"can_invite_users":true,"can_manage_topics":true,` +
					`"can_pin_messages":true,"can_send_audios":true,"can_send_documents":true,"can_send_messages":true,"can_send_other_messages":true,` +
					`"can_send_photos":true,"can_send_polls":true,"can_send_video_notes":true,"can_send_videos":true,"can_send_voice_notes":true}`
				if p["permissions"] != want {
					t.Errorf("permissions = %s\nwant %s", p["permissions"], want)
				}
			}},
		{name: "a channel is never muted", do: func() error { return c.Untimeout(ctx, channelPost) }, wantErr: "never muted"},
		{name: "ban for good", do: func() error { return c.Ban(ctx, ev, 0) }, methods: []string{"banChatMember"},
			want: map[string]string{"chat_id": chat, "user_id": "7"}, until: absent},
		{name: "ban for a day", do: func() error { return c.Ban(ctx, ev, 24*time.Hour) }, methods: []string{"banChatMember"},
			want: map[string]string{"chat_id": chat, "user_id": "7"}, until: until(24 * time.Hour)},
		{name: "ban a channel writing in the group", do: func() error { return c.Ban(ctx, channelPost, 0) }, methods: []string{"banChatSenderChat"},
			want: map[string]string{"chat_id": chat, "sender_chat_id": "-1001111111111"}},
		{name: "unban only a banned user", do: func() error { return c.Unban(ctx, ev) }, methods: []string{"unbanChatMember"},
			want: map[string]string{"chat_id": chat, "user_id": "7", "only_if_banned": "true"}},
		{name: "kick is a ban lifted at once, of a member not banned", do: func() error { return c.Kick(ctx, ev) }, methods: []string{"getChatMember", "banChatMember", "unbanChatMember"},
			want: map[string]string{"user_id": "7", "only_if_banned": "true"}},
		{name: "reply in the topic, to the message", do: func() error { return c.Reply(ctx, topic, "Bonjour !") }, methods: []string{"sendMessage"},
			want: map[string]string{"chat_id": chat, "text": "Bonjour !", "message_thread_id": "5",
				"reply_parameters": `{"allow_sending_without_reply":true,"message_id":10}`}},
		{name: "warn names the author, escaped", do: func() error { return c.Warn(ctx, ev, "Merci de ralentir & de rester poli") }, methods: []string{"sendMessage"},
			want: map[string]string{"chat_id": chat, "parse_mode": "HTML",
				"text":             `<a href="tg://user?id=7">Bob &lt;Martin&gt;</a>, Merci de ralentir &amp; de rester poli`,
				"reply_parameters": `{"allow_sending_without_reply":true,"message_id":10}`}},
		{name: "another platform's event", do: func() error { e := ev; e.Platform = "discord"; return c.Delete(ctx, e) }, wantErr: `from "discord"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.methods())
			err := tt.do()
			if tt.wantErr != "" {
				var ae *bot.ActionError
				if !errors.As(err, &ae) || ae.Retryable || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want a final ActionError containing %q", err, tt.wantErr)
				}
				if n := len(f.methods()); n != before {
					t.Errorf("made %d calls, want none", n-before)
				}
				return
			}
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got := f.methods()[before:]; strings.Join(got, ",") != strings.Join(tt.methods, ",") {
				t.Fatalf("calls %v, want %v", got, tt.methods)
			}
			p := map[string]string{}
			for k := range f.last().Params {
				p[k] = f.last().Params.Get(k)
			}
			for k, v := range tt.want {
				if p[k] != v {
					t.Errorf("%s = %q, want %q", k, p[k], v)
				}
			}
			if tt.until != nil {
				tt.until(t, p["until_date"])
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func TestActionErrorsSayWhetherToRetry(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	ctx := context.Background()
	ev := groupEvent(10, "7")
	tests := []struct {
		name       string
		code       int
		desc       string
		retryAfter int
		retryable  bool
	}{
		{"429 with retry_after", 429, "Too Many Requests: retry after 3", 3, true},
		{"message too old", 400, "Bad Request: message can't be deleted", 0, false},
		{"no right to delete", 403, "Forbidden: not enough rights", 0, false},
		{"server trouble", 502, "Bad Gateway", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.fail("deleteMessage", tt.code, tt.desc, tt.retryAfter)
			err := c.Delete(ctx, ev)
			var ae *bot.ActionError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an ActionError", err)
			}
			if ae.Op != bot.ActDelete || ae.Retryable != tt.retryable || ae.RetryAfter != time.Duration(tt.retryAfter)*time.Second {
				t.Errorf("got op=%s retryable=%v retry_after=%s, want retryable=%v retry_after=%ds", ae.Op, ae.Retryable, ae.RetryAfter, tt.retryable, tt.retryAfter)
			}
			if bot.Retryable(err) != tt.retryable {
				t.Errorf("bot.Retryable = %v", bot.Retryable(err))
			}
			if !strings.Contains(err.Error(), tt.desc) {
				t.Errorf("error %q does not say %q", err, tt.desc)
			}
			// Telegram works again: the same call succeeds.
			if err := c.Delete(ctx, ev); err != nil {
				t.Errorf("second attempt: %v", err)
			}
		})
	}
}

// A delete sent again after a restart finds the message gone: done, not a
// failure the desk would get a case for.
func TestDeleteOfAMessageGoneIsDone(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	f.fail("deleteMessage", 400, "Bad Request: message to delete not found", 0)
	if err := c.Delete(context.Background(), groupEvent(10, "7")); err != nil {
		t.Errorf("Delete of a message gone = %v, want nil", err)
	}
}

func TestA429HoldsTheChatBack(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	ctx := context.Background()
	ev := groupEvent(10, "7")
	f.fail("sendMessage", 429, "Too Many Requests: retry after 1", 1)
	err := c.Reply(ctx, ev, "one")
	if retryAfter(err) != time.Second || !bot.Retryable(err) {
		t.Fatalf("first reply: %v, want a retryable 429 with retry_after 1s", err)
	}
	// The limiter now holds the chat for the second asked; the next reply waits for it.
	if c.limiter.chats[group.id].held.Before(time.Now()) {
		t.Errorf("the chat is not held back after a 429")
	}
	if err := c.Reply(ctx, ev, "two"); err != nil {
		t.Fatalf("second reply: %v", err)
	}
	if n := f.count("sendMessage", nil); n != 2 {
		t.Errorf("%d sendMessage calls, want 2", n)
	}
}

func TestTransportErrorsHideTheToken(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	f.srv.Close()
	err := c.Delete(context.Background(), groupEvent(10, "7"))
	if err == nil || !bot.Retryable(err) {
		t.Fatalf("error = %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), fakeToken) {
		t.Errorf("the token leaks in %q", err)
	}
}

func TestCancelledActionIsNotRetryable(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Delete(ctx, groupEvent(10, "7"))
	if err == nil || bot.Retryable(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want a final error wrapping context.Canceled", err)
	}
}

// TestDeleteAfter48Hours: Telegram lets a bot delete a message only in its
// first 48 hours. A case kept over a weekend and decided "delete" on Monday
// is not tried: it fails for good, with words a CM can act on on the card
// (why, and that an admin can still delete it by hand); a younger message
// is deleted. Both clocks, vigie's and Telegram's, are stepped.
func TestDeleteAfter48Hours(t *testing.T) {
	f := newFakeBotAPI(t)
	clock := stepclock.New(time.Unix(1_700_000_000, 0))
	f.SetClock(clock.Now)
	c, _ := newTestClient(t, f, Config{Chats: []int64{group.id}, Now: clock.Now})
	out := make(chan bot.Event, 10)
	run(t, c, out)
	f.push(map[string]any{"message": message(group, 70, bob, clock.Now().Unix(), "t'es vraiment un idiot")})
	friday := testsync.Next(t, out)
	clock.Step(14 * time.Hour)
	f.push(map[string]any{"message": message(group, 71, bob, clock.Now().Unix(), "idiot")})
	saturday := testsync.Next(t, out)
	clock.Step(47 * time.Hour)

	deletes := func(id int) int {
		return f.count("deleteMessage", func(call apiCall) bool { return call.Params.Get("message_id") == strconv.Itoa(id) })
	}
	tooOld := func(ev bot.Event, id int, age string) {
		t.Helper()
		before := deletes(id)
		err := c.Delete(context.Background(), ev)
		if err == nil || bot.Retryable(err) || !strings.Contains(err.Error(), "only in its first 48 hours") ||
			!strings.Contains(err.Error(), "posted "+age+" ago") || !strings.Contains(err.Error(), "by hand") {
			t.Errorf("Delete of a message %s old = %v; want a refusal for good saying why", age, err)
		}
		want := "vigie cannot delete this message: Telegram lets a bot delete a message only in its first 48 hours, and it was posted " + age + " ago; an admin of the group can still delete it by hand"
		if got := bot.RefusalWords(err); got != want {
			t.Errorf("the card says %q\nwant          %q", got, want)
		}
		if n := deletes(id) - before; n != 0 {
			t.Errorf("deleteMessage asked %d times for a message %s old, want none", n, age)
		}
	}
	tooOld(friday, 70, "61h")
	if err := c.Delete(context.Background(), saturday); err != nil {
		t.Errorf("Delete of a message 47h old = %v", err)
	}
	if n := deletes(71); n != 1 {
		t.Errorf("deleteMessage asked %d times for a message 47h old, want 1", n)
	}
	clock.Step(time.Hour)
	tooOld(saturday, 71, "2d")
}
