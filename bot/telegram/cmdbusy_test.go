package telegram

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// busyDesk runs a client whose desk workers are all busy: maxDeskWork
// presses whose decisions and card edits wait until f.Release.
func busyDesk(t *testing.T) (f *fakeBotAPI, c *Client, out chan bot.Event, stop func(), logs *testsync.Buffer) {
	t.Helper()
	f = newFakeBotAPI(t)
	c, logs = newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	book := newCaseBook()
	desk := c.Desk(book)
	out = make(chan bot.Event, 10)
	stop = run(t, c, out)
	f.waitFor("getUpdates", 1, nil)
	holdWorkers(t, f, c, desk, book, 0)
	return f, c, out, stop, logs
}

// pressTold matches what a press's work tells its presser once done.
func pressTold(c apiCall) bool { return strings.Contains(c.Params.Get("text"), "done: ") }

// answering matches vigie's messages in chat answering message msg.
func answering(chat tgChat, msg int) func(apiCall) bool {
	return func(c apiCall) bool {
		var r struct {
			MessageID int `json:"message_id"`
		}
		_ = json.Unmarshal([]byte(c.Params.Get("reply_parameters")), &r)
		return inChat(chat.id)(c) && r.MessageID == msg
	}
}

// A command waits for a desk worker off the updates' loop: with every
// worker busy (Telegram slow to take vigie's calls, as in a raid), a group
// message sent after a command still reaches the rules before any of the
// busy work is done, as the fake sees it, with no clock. The command is
// carried out once a worker is free.
func TestCommandWhileWorkersBusy(t *testing.T) {
	for _, tc := range []struct {
		name string
		chat tgChat
		text string
	}{
		{name: "desk command", chat: deskChat, text: "/status"},
		{name: "moderator's command", chat: group, text: "/ban"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c, out, _, _ := busyDesk(t)
			f.push(map[string]any{"message": message(tc.chat, 900, alice, t0, tc.text)})
			f.push(map[string]any{"message": message(group, 901, bob, t0, "hello after the command")})

			ev := testsync.Next(t, out)
			if ev.Text != "hello after the command" {
				t.Fatalf("event %q, want the group message", ev.Text)
			}
			if n := f.count("sendMessage", pressTold); n != 0 || c.work.Busy() != maxDeskWork {
				t.Fatalf("the group message reached the rules only once busy work was done: %d presses told how they went, %d workers busy", n, c.work.Busy())
			}
			if n := f.count("sendMessage", answering(tc.chat, 900)); n != 0 {
				t.Errorf("%s answered %d times while every worker was busy", tc.text, n)
			}

			f.Release()
			if got := f.waitFor("sendMessage", 1, answering(tc.chat, 900)).Params.Get("text"); strings.Contains(got, "nothing was done") {
				t.Errorf("%s once a worker was free: %q", tc.text, got)
			}
		})
	}
}

// The commands waiting for a worker are bounded: one more is not done, its
// sender is told so at once (and the attempt is logged), and the groups'
// messages still reach the rules. The commands waiting are all carried out
// once the workers are free.
func TestCommandsWaitingAreBounded(t *testing.T) {
	f, c, out, _, logs := busyDesk(t)
	for n := range maxCommandsWaiting {
		f.push(map[string]any{"message": message(deskChat, 1000+n, alice, t0, "/status")})
	}
	f.push(map[string]any{"message": message(deskChat, 2000, alice, t0, "/queue")})
	f.push(map[string]any{"message": message(group, 2001, bob, t0, "hello after the flood")})

	busy := f.waitFor("sendMessage", 1, answering(deskChat, 2000)).Params.Get("text")
	if want := "vigie is too busy to take /queue now: nothing was done. Send it again in a moment."; busy != want {
		t.Errorf("one command too many answered %q, want %q", busy, want)
	}
	if !strings.Contains(logs.String(), `msg="desk: a command not done, too many waiting for a worker" platform=telegram audit=true user=telegram:42`) {
		t.Errorf("the command turned down is not audited:\n%s", logs)
	}
	if ev := testsync.Next(t, out); ev.Text != "hello after the flood" {
		t.Errorf("event %q, want the group message", ev.Text)
	}
	if n := f.count("sendMessage", func(c apiCall) bool { return strings.Contains(c.Params.Get("text"), "mode:") }); n != 0 || c.work.Busy() != maxDeskWork {
		t.Fatalf("the group message reached the rules only once busy work was done: %d /status answered, %d workers busy", n, c.work.Busy())
	}

	f.Release()
	for n := range maxCommandsWaiting {
		if got := f.waitFor("sendMessage", 1, answering(deskChat, 1000+n)).Params.Get("text"); !strings.Contains(got, "mode: enforce") {
			t.Errorf("/status %d answered %q", n, got)
		}
	}
}

// A command waiting for a worker when vigie stops is not done, and its
// sender is told so; Telegram is told it was handed over, so a restart
// does not take it again.
func TestCommandWaitingThenStopped(t *testing.T) {
	f, _, out, stop, logs := busyDesk(t)
	f.push(map[string]any{"message": message(deskChat, 900, alice, t0, "/status")})
	after := f.push(map[string]any{"message": message(group, 901, bob, t0, "hello after the command")})
	testsync.Next(t, out) // the command was taken before it
	// The poller goes on: it asks for the updates after both, which tells
	// Telegram they were received; vigie is stopped once it waits there.
	f.waitFor("getUpdates", 1, func(c apiCall) bool { return c.Params.Get("offset") == itoa(int64(after+1)) })

	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	told := f.waitFor("sendMessage", 1, answering(deskChat, 900)).Params.Get("text")
	if want := "vigie is stopping: nothing was done. Send /status again in a moment."; told != want {
		t.Errorf("told %q, want %q", told, want)
	}
	f.Release()
	<-stopped
	if !strings.Contains(logs.String(), `msg="desk: a command not done, vigie is stopping" platform=telegram audit=true user=telegram:42`) {
		t.Errorf("the command not done is not audited:\n%s", logs)
	}
	if n := f.count("sendMessage", func(c apiCall) bool { return strings.Contains(c.Params.Get("text"), "mode:") }); n != 0 {
		t.Errorf("/status answered after all")
	}
	if left := f.UpdatesLeft(); left != 0 {
		t.Errorf("%d updates left unconfirmed at Telegram: the command would come again", left)
	}
}
