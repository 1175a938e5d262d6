package telegram

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// /ban @name names the member vigie last saw writing with that username,
// and Telegram is asked whether it is still theirs: a username changes
// hands. A member seen with a new username leaves their old one to whoever
// vigie saw with it (even seen before the rename); one that renamed unseen
// is not hit for a name that is no longer theirs: the command is refused,
// saying why, rather than carried out on someone else.
func TestUsernameFollowsRenames(t *testing.T) {
	carolAsBobm := tgUser{id: carol.id, first: "Carol", user: "bobm"}
	bobRenamed := tgUser{id: bob.id, first: "Bob", last: "Martin", user: "bob_new"}
	for _, tc := range []struct {
		name    string
		before  func(w *modWorld)
		command string
		want    string // the answer, or its start
		banned  int64  // the user banned, 0 for none
	}{
		{"the owner seen", func(w *modWorld) { w.say(bob, "hi") }, "/ban @bobm", "Banned Bob Martin.", bob.id},
		{"written otherwise", func(w *modWorld) { w.say(bob, "hi") }, "/ban @BobM", "Banned Bob Martin.", bob.id},
		{"taken over, the new owner seen before the old one's new name", func(w *modWorld) {
			w.say(bob, "hi")
			w.say(carolAsBobm, "hello") // bob renamed meanwhile, unseen
			w.say(bobRenamed, "it's me")
		}, "/ban @bobm", "Banned Carol.", carol.id},
		{"taken over, the old owner's new name seen first", func(w *modWorld) {
			w.say(bob, "hi")
			w.say(bobRenamed, "it's me")
			w.say(carolAsBobm, "hello")
		}, "/ban @bobm", "Banned Carol.", carol.id},
		{"the old owner's new name", func(w *modWorld) {
			w.say(bob, "hi")
			w.say(bobRenamed, "it's me")
		}, "/ban @bob_new", "Banned Bob Martin.", bob.id},
		{"renamed unseen, taken over unseen", func(w *modWorld) {
			w.say(bob, "hi")
			w.f.SetUsername(bob.id, "bob_new")
			w.f.SetUsername(carol.id, "bobm")
		}, "/ban @bobm", "Nothing done: @bobm is no longer the username of Bob Martin", 0},
		{"renamed unseen", func(w *modWorld) {
			w.say(bob, "hi")
			w.f.SetUsername(bob.id, "")
		}, "/ban @bobm", "Nothing done: @bobm is no longer the username of Bob Martin", 0},
		{"renamed unseen, answering a message", func(w *modWorld) {
			w.say(bob, "hi")
			w.f.SetUsername(bob.id, "bob_new")
		}, "/ban @bobm spam", "Nothing done: @bobm is no longer the username of Bob Martin", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newModWorld(t)
			tc.before(w)
			var kv []any
			if strings.HasSuffix(tc.command, " spam") {
				// answering mallory's report
				kv = []any{"reply_to_message", message(group, w.say(mallory, "a report"), mallory, t0, "a report")}
			}
			if got := w.command(alice, tc.command, 0, kv...); !strings.HasPrefix(got, tc.want) {
				t.Errorf("%s: answer = %q, want %q…", tc.command, got, tc.want)
			}
			bans := w.f.callsOf("banChatMember")
			switch {
			case tc.banned == 0 && len(bans) != 0:
				t.Errorf("banned %s: someone the name no longer names", bans[0].Params.Get("user_id"))
			case tc.banned != 0 && (len(bans) != 1 || !userIs(tc.banned)(bans[0])):
				t.Errorf("bans %v, want user %d banned", bans, tc.banned)
			}
		})
	}
}

// Telegram not answering whether @bobm is still Bob's: nothing is done, and
// the group reads why in its words, Telegram's error in the log.
func TestUsernameUncheckedSaysNoRawError(t *testing.T) {
	w := newModWorld(t)
	w.say(bob, "hi")
	testsync.Eventually(t, "bob seen", func() bool { return len(w.c.recent.last(group.id, bob.id, 1, 0)) == 1 })
	for range 10 {
		w.f.fail("getChatMember", 502, "Bad Gateway", 0)
	}
	got := w.command(alice, "/ban @bobm", 0)
	if want := "Nothing done: vigie could not ask Telegram whether @bobm is still Bob Martin's username (Telegram is not answering right now): send the command again in a moment"; !strings.HasPrefix(got, want) || strings.Contains(got, "Bad Gateway") {
		t.Errorf("/ban @bobm, Telegram not answering = %q, want %q… without Telegram's error", got, want)
	}
	if logs := w.logs.String(); !strings.Contains(logs, "Bad Gateway") {
		t.Errorf("Telegram's error not in the log:\n%s", logs)
	}
	if bans := w.f.callsOf("banChatMember"); len(bans) != 0 {
		t.Errorf("banned %v, Telegram not having said whose @bobm is", bans)
	}
}
