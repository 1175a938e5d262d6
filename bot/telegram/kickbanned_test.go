package telegram

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// Telegram has no kick: vigie bans and unbans at once. Done to a member
// who is banned already, that unban would let them back in (and a ban
// with an end would be made one for good first): a kick of a banned
// member does nothing and says why.
func TestKickLeavesABanAlone(t *testing.T) {
	w := newModWorld(t)
	spam := w.say(bob, "buy cheap followers")
	w.f.setMember(group.id, bob.id, "kicked") // banned, by hand or by vigie
	got := w.command(alice, "/kick", spam)    // alice is a CM
	if !strings.HasPrefix(got, "Could not kick Bob Martin: ") || !strings.Contains(got, "banned") {
		t.Errorf("answer = %q", got)
	}
	if n := w.f.count("banChatMember", nil) + w.f.count("unbanChatMember", nil); n != 0 {
		t.Errorf("%d bans or unbans of a banned member: the ban was lifted", n)
	}

	// A member who is in the chat is kicked as before.
	w.f.setMember(group.id, bob.id, "member")
	if got := w.command(alice, "/kick", spam); got != "Kicked Bob Martin." {
		t.Errorf("answer = %q", got)
	}
	w.f.waitFor("unbanChatMember", 1, userIs(bob.id))
}

// A new member banned while held (a raid, banned by hand or by /ban) is
// left banned when their time to press runs out, and the desk is not told
// of a failure: they are out.
func TestVerifyTimeoutLeavesABanAlone(t *testing.T) {
	f, c, st, clock, out, logs := newVerifyClient(t)
	ctx := context.Background()
	f.push(joins(carol, t0))
	<-out
	f.waitFor("sendMessage", 1, inChat(group.id))
	waitPending(t, st, "8", true)
	f.setMember(group.id, carol.id, "kicked")

	clock.add(5 * time.Minute)
	if n, err := c.VerifyDue(ctx, clock.now()); n != 1 || err != nil {
		t.Fatalf("VerifyDue at the deadline = %d, %v", n, err)
	}
	if n := f.count("banChatMember", nil) + f.count("unbanChatMember", nil); n != 0 {
		t.Errorf("%d bans or unbans of a member banned while held: the ban was lifted", n)
	}
	if n := f.count("sendMessage", inChat(deskChat.id)); n != 0 {
		t.Errorf("the desk told %d times of a failure", n)
	}
	if !strings.Contains(logs.String(), "did not press in time, and is banned: left banned") {
		t.Errorf("the timeout is not audited:\n%s", logs)
	}
}

// An unmute and a mute are both restrictChatMember: the restrictions they
// set replace the member's, a ban among them. An unmute, with every
// permission, gives a banned member their permissions back, the ban with
// them, as captcha bots that "unrestrict" after a kick found; a mute makes a
// banned member a restricted one who may join again. Done to a banned
// member, either does nothing and says why; once the member is no longer
// banned, it is done.
func TestMuteAndUnmuteLeaveABanAlone(t *testing.T) {
	for _, tc := range []struct {
		command, refused, why, after, done string
	}{
		{"/unmute", "Could not unmute Bob Martin: ", "an unmute would lift the ban", "restricted", "Unmuted Bob Martin."},
		{"/mute 30m", "Could not mute Bob Martin: ", "a mute would lift the ban", "member", "Muted Bob Martin for 30m."},
	} {
		t.Run(tc.command, func(t *testing.T) {
			w := newModWorld(t)
			spam := w.say(bob, "buy cheap followers")
			w.f.setMember(group.id, bob.id, "kicked")
			got := w.command(alice, tc.command, spam) // alice is a CM
			if !strings.HasPrefix(got, tc.refused) || !strings.Contains(got, "the member is banned here, and "+tc.why) {
				t.Errorf("answer = %q", got)
			}
			if n := w.f.count("restrictChatMember", nil) + w.f.count("unbanChatMember", nil); n != 0 {
				t.Errorf("%d restrictions or unbans of a banned member: the ban was lifted", n)
			}
			w.f.setMember(group.id, bob.id, tc.after)
			if got := w.command(alice, tc.command, spam); got != tc.done {
				t.Errorf("answer = %q", got)
			}
			w.f.waitFor("restrictChatMember", 1, userIs(bob.id))
		})
	}
}

// Verification turned off while a new member was held: the member is let
// speak at their deadline, with restrictChatMember and every permission,
// unless they were banned meanwhile: that would lift the ban.
func TestVerifyOffLeavesABanAlone(t *testing.T) {
	f, c, st, clock, out, logs := newVerifyClient(t)
	ctx := context.Background()
	f.push(joins(bob, t0))
	<-out
	<-out
	waitPending(t, st, "7", true)
	c.SetVerify(&Verify{Off: true, Pending: st, Now: clock.now})
	f.setMember(group.id, bob.id, "kicked")
	clock.add(5 * time.Minute)
	if n, err := c.VerifyDue(ctx, clock.now()); n != 1 || err != nil {
		t.Fatalf("VerifyDue = %d, %v", n, err)
	}
	if n := f.count("restrictChatMember", nil); n != 1 { // the hold alone
		t.Errorf("%d restrictions, want the hold alone: the ban was lifted", n)
	}
	if !strings.Contains(logs.String(), "verification is off; the new member is banned: left banned") {
		t.Errorf("not logged:\n%s", logs)
	}
}

// Telegram kicks by a ban lifted at once, and the unban leaves the member
// free of every restriction: a muted member kicked would come back able to
// speak. A kick of a restricted member sets their restrictions again,
// the same permissions to the same end, once they are out: they come back
// as muted as they left. A mute given by /mute (30 minutes) and one set by
// hand in Telegram's app (no media, for good) are both kept.
func TestKickKeepsAMute(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mute  func(w *modWorld, spam int)
		perms map[string]bool // what the member may do once back
	}{
		{"muted for 30m by /mute", func(w *modWorld, spam int) {
			if got := w.command(alice, "/mute 30m", spam); got != "Muted Bob Martin for 30m." {
				t.Fatalf("answer = %q", got)
			}
		}, map[string]bool{"can_send_messages": false, "can_send_photos": false}},
		{"no media for good, set by hand", func(w *modWorld, spam int) {
			w.f.setMember(group.id, bob.id, "restricted", "can_send_messages", "can_invite_users")
		}, map[string]bool{"can_send_messages": true, "can_send_photos": false, "can_invite_users": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newModWorld(t)
			spam := w.say(bob, "buy cheap followers")
			tc.mute(w, spam)
			before := w.f.Member(group.id, bob.id)
			if before["status"] != "restricted" {
				t.Fatalf("before the kick: %v", before)
			}
			if got := w.command(alice, "/kick", spam); got != "Kicked Bob Martin." {
				t.Fatalf("answer = %q", got)
			}
			after := w.f.Member(group.id, bob.id)
			if after["status"] != "restricted" || after["is_member"] != false {
				t.Fatalf("after the kick, getChatMember says %v; want restricted, not a member", after)
			}
			for k, v := range tc.perms {
				if after[k] != v {
					t.Errorf("after the kick, %s = %v, want %v", k, after[k], v)
				}
			}
			if fmt.Sprint(after["until_date"]) != fmt.Sprint(before["until_date"]) {
				t.Errorf("the mute ends at %v, want %v as before the kick", after["until_date"], before["until_date"])
			}
		})
	}
}

// Telegram fails the restriction set again after a kick (a 502): the kick
// says so, worth another try, and the kick tried again within
// kickRestrictionKept, which finds the member out and no longer
// restricted, restricts them as they were; tried again later, on the
// client's clock (stepped, as the retry stage's waits are), it sets no
// mute a moderator may have lifted since.
func TestKickTriedAgainKeepsAMute(t *testing.T) {
	for _, tt := range []struct {
		after  time.Duration
		status string
	}{{kickRestrictionKept - time.Second, "restricted"}, {kickRestrictionKept, "left"}} {
		t.Run(tt.after.String(), func(t *testing.T) {
			f := newFakeBotAPI(t)
			clock := stepclock.New(time.Unix(1_700_000_000, 0))
			c, _ := newTestClient(t, f, Config{Chats: fixtureChats, Now: clock.Now})
			ctx := context.Background()
			ev := groupEvent(10, "7")
			f.setMember(group.id, 7, "restricted", "can_send_messages")
			f.fail("restrictChatMember", 502, "Bad Gateway", 0)
			err := c.Kick(ctx, ev)
			if err == nil || !bot.Retryable(err) || !strings.Contains(err.Error(), "mute could not be set again") {
				t.Fatalf("Kick = %v, want a retryable error saying the mute was not set again", err)
			}
			if got := f.Member(group.id, 7); got["status"] != "left" {
				t.Fatalf("after the failed restriction: %v", got)
			}
			clock.Step(tt.after)
			if err := c.Kick(ctx, ev); err != nil {
				t.Fatalf("Kick again = %v", err)
			}
			got := f.Member(group.id, 7)
			if got["status"] != tt.status || tt.status == "restricted" && (got["can_send_messages"] != true || got["can_send_photos"] != false) {
				t.Errorf("after the kick tried again %s later: %v, want %s", tt.after, got, tt.status)
			}
		})
	}
}

// A kick of a muted member that Telegram refuses (the bot lost its right to
// ban) leaves the member in the chat, still muted; a moderator then unmutes
// them, and kicks them again minutes later. The mute lifted is not set
// again: what the refused kick read is not what they are under now.
func TestKickRefusedThenUnmutedKeepsNoOldMute(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	ctx := context.Background()
	ev := groupEvent(10, "7")
	f.setMember(group.id, 7, "restricted", "can_send_messages")
	f.fail("banChatMember", 400, "Bad Request: not enough rights to restrict/ban chat member", 0)
	if err := c.Kick(ctx, ev); err == nil || bot.Retryable(err) {
		t.Fatalf("Kick = %v, want refused for good", err)
	}
	if err := c.Untimeout(ctx, ev); err != nil {
		t.Fatalf("Untimeout = %v", err)
	}
	if got := f.Member(group.id, 7); got["status"] != "member" {
		t.Fatalf("after the unmute: %v", got)
	}
	if err := c.Kick(ctx, ev); err != nil {
		t.Fatalf("Kick again = %v", err)
	}
	if got := f.Member(group.id, 7); got["status"] != "left" {
		t.Errorf("after the kick: %v, want out and free of the mute lifted", got)
	}
}

// A new member who did not press in time is kicked (a ban lifted at once)
// with their lock held, the lock vigie's bans hold: a ban of the member
// under way (a raid's rule, a CM's /ban) is not lifted by the kick's unban
// between its reading of the member and its ban. The kick waits for it.
func TestVerifyTimeoutKickWaitsForABanUnderWay(t *testing.T) {
	f, c, st, clock, out, _ := newVerifyClient(t)
	ctx := context.Background()
	f.push(joins(carol, t0))
	<-out
	f.waitFor("sendMessage", 1, inChat(group.id))
	waitPending(t, st, "8", true)

	// a ban of carol is under way: it holds her lock
	unlock, err := st.LockMember(ctx, bot.MemberKey(bot.Event{Platform: Platform, Space: fmt.Sprint(group.id), Author: bot.Author{ID: fmt.Sprint(carol.id)}}), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	clock.add(5 * time.Minute)
	done := make(chan error, 1)
	go func() {
		_, err := c.VerifyDue(ctx, clock.now())
		done <- err
	}()
	// The kick may reach Telegram while the ban is under way: give it the
	// chance (it need not take it).
	for i := 0; i < 200 && f.count("banChatMember", nil) == 0; i++ {
		time.Sleep(time.Millisecond)
	}
	if n := f.count("banChatMember", nil); n != 0 {
		t.Errorf("the kick banned while a ban of the member was under way (%d)", n)
	}
	// the ban is given, and lets the lock go
	f.setMember(group.id, carol.id, "kicked")
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := f.count("banChatMember", nil) + f.count("unbanChatMember", nil); n != 0 {
		t.Errorf("%d bans or unbans of a member banned while the kick waited: the ban was lifted", n)
	}
}

// A verification's kick is a ban lifted at once: done while another
// action of the member holds their lock (a rule's or a CM's ban whose call
// Telegram is slow to answer), its unban would lift that ban as it lands.
// A kick whose member stays busy for all of its wait is not done without
// the lock: the verification is kept for the next check, which kicks once
// the member is free.
func TestVerifyKickWaitsForABusyMember(t *testing.T) {
	f, c, st, clock, out, logs := newVerifyClient(t)
	c.memberWait = 50 * time.Millisecond
	ctx := context.Background()
	f.push(joins(carol, t0))
	<-out
	f.waitFor("sendMessage", 1, inChat(group.id))
	waitPending(t, st, "8", true)
	member := bot.Event{Platform: Platform, Space: itoa(group.id), Author: bot.Author{ID: "8"}}
	unlock, err := st.LockMember(ctx, bot.MemberKey(member), time.Second) // a ban under way
	if err != nil {
		t.Fatal(err)
	}

	clock.add(5 * time.Minute)
	if n, err := c.VerifyDue(ctx, clock.now()); n != 1 || err != nil {
		t.Fatalf("VerifyDue at the deadline = %d, %v", n, err)
	}
	if n := f.count("banChatMember", userIs(carol.id)) + f.count("unbanChatMember", userIs(carol.id)); n != 0 {
		t.Errorf("%d bans or unbans while another action held the member: a ban landing then would be lifted", n)
	}
	if ok, _ := st.IsPending(ctx, Platform, itoa(group.id), "8"); !ok {
		t.Errorf("the verification was dropped: the member would never be kicked")
	}
	if n := f.count("sendMessage", inChat(deskChat.id)); n != 0 {
		t.Errorf("the desk told %d times of a failure", n)
	}

	unlock()
	clock.add(time.Minute)
	if n, err := c.VerifyDue(ctx, clock.now()); n != 1 || err != nil {
		t.Fatalf("VerifyDue at the next check = %d, %v", n, err)
	}
	f.waitFor("unbanChatMember", 1, userIs(carol.id))
	if ok, _ := st.IsPending(ctx, Platform, itoa(group.id), "8"); ok {
		t.Errorf("still pending once kicked")
	}
	if !strings.Contains(logs.String(), "left for the next check") {
		t.Errorf("the busy member's kick left unsaid:\n%s", logs)
	}
}

// A join raid's rule bans the new members as their joins are judged, while
// their verification asks wait in line for a worker (minutes of them, at
// Telegram's pace in a group). The ask's hold is a restriction, and a
// banned member restricted is no longer banned: one banned before their
// ask came up is not held nor asked, and stays banned.
func TestVerifyHoldLeavesABanAlone(t *testing.T) {
	f, _, st, _, out, logs := newVerifyClient(t)
	f.setMember(group.id, carol.id, "kicked") // banned by a raid's rule
	f.push(joins(carol, t0))
	<-out
	testsync.Eventually(t, "the ask settled", func() bool {
		return f.count("restrictChatMember", userIs(carol.id)) > 0 || strings.Contains(logs.String(), "banned already: not asked")
	})
	if n := f.count("restrictChatMember", userIs(carol.id)); n != 0 {
		t.Errorf("%d restrictions of a banned member: the ban was lifted (%v)", n, f.Member(group.id, carol.id))
	}
	if got := f.Member(group.id, carol.id)["status"]; got != "kicked" {
		t.Errorf("the member is %v, want banned still", got)
	}
	if ok, _ := st.IsPending(context.Background(), Platform, itoa(group.id), "8"); ok {
		t.Errorf("a banned member is pending verification")
	}
}

// A held member banned before their press is handled (a CM's /ban of the
// spam name the join's case showed, as they press) stays banned: the
// press's lift, every permission true, would make them no longer banned.
func TestVerifyPressLeavesABanAlone(t *testing.T) {
	f, _, st, _, out, logs := newVerifyClient(t)
	f.push(joins(carol, t0))
	<-out
	prompt := f.waitFor("sendMessage", 1, inChat(group.id))
	waitPending(t, st, "8", true)
	f.setMember(group.id, carol.id, "kicked") // banned by a CM

	promptMsg := map[string]any{"message_id": prompt.MsgID, "from": vigieUser.json(), "chat": group.json(), "date": t0, "text": "Welcome"}
	f.push(callback("q-carol", carol, promptMsg, "vf:-1001234567890:8"))
	f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-carol" })
	waitPending(t, st, "8", false)
	testsync.Eventually(t, "the press settled", func() bool {
		return f.count("restrictChatMember", userIs(carol.id)) > 1 || strings.Contains(logs.String(), "banned meanwhile: left banned")
	})
	if n := f.count("restrictChatMember", userIs(carol.id)); n != 1 { // the hold alone
		t.Errorf("%d restrictions, want the hold alone: the ban was lifted (%v)", n, f.Member(group.id, carol.id))
	}
	if got := f.Member(group.id, carol.id)["status"]; got != "kicked" {
		t.Errorf("the member is %v, want banned still", got)
	}
}

// TestVerifyCheckDoesNotWaitForBusyMembers: members whose lock is held
// (a raid's bans of them under way, slow to be answered) do not hold the
// verification check up: their kicks are left for the next check at once,
// with no wait for the lock, rather than 30 seconds each while the other
// verifications due, and the escalations behind them, wait.
func TestVerifyCheckDoesNotWaitForBusyMembers(t *testing.T) {
	f, c, st, clock, out, _ := newVerifyClient(t)
	ctx := context.Background()
	users := []tgUser{bob, carol, mallory}
	for i, u := range users {
		f.push(joins(u, t0+int64(i)))
		<-out
		f.waitFor("sendMessage", i+1, inChat(group.id))
		waitPending(t, st, itoa(u.id), true)
	}
	for _, u := range users {
		member := bot.Event{Platform: Platform, Space: itoa(group.id), Author: bot.Author{ID: itoa(u.id)}}
		unlock, err := st.LockMember(ctx, bot.MemberKey(member), time.Second) // a ban under way
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
	}

	clock.add(5 * time.Minute)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := c.VerifyDue(ctx, clock.now())
		done <- result{n, err}
	}()
	var r result
	testsync.Eventually(t, "the check done, with every member due busy", func() bool {
		select {
		case r = <-done:
			return true
		default:
			return false
		}
	})
	if r.n != len(users) || r.err != nil {
		t.Fatalf("VerifyDue = %d, %v, want %d checked", r.n, r.err, len(users))
	}
	for _, u := range users {
		if ok, _ := st.IsPending(ctx, Platform, itoa(group.id), itoa(u.id)); !ok {
			t.Errorf("%d's verification dropped: they would never be kicked", u.id)
		}
		if n := f.count("banChatMember", userIs(u.id)) + f.count("unbanChatMember", userIs(u.id)); n != 0 {
			t.Errorf("%d kicked while another action held them", u.id)
		}
	}
}
