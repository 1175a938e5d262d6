package discord

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/memory"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (k *fakeClock) now() time.Time      { k.mu.Lock(); defer k.mu.Unlock(); return k.t }
func (k *fakeClock) add(d time.Duration) { k.mu.Lock(); k.t = k.t.Add(d); k.mu.Unlock() }

// verifyPress is an INTERACTION_CREATE for the verify button of the prompt
// message in #general.
func verifyPress(id string, from user, prompt, custom string) map[string]any {
	p := press(id, from, prompt, custom)
	p["channel_id"] = general
	p["message"].(map[string]any)["channel_id"] = general
	return p
}

func newVerifyClient(t *testing.T, role string) (*discordfake.Server, *Client, *memory.Store, *fakeClock, chan bot.Event, *testsync.Buffer) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{DeskChannel: deskID})
	st := memory.New()
	clock := &fakeClock{t: t0}
	c.SetVerify(&Verify{Timeout: 5 * time.Minute, Kick: true, Button: "I'm not a robot", Channel: general, Role: role,
		Pending: st, Now: clock.now, Prompt: func(name string) string { return "Welcome " + name + ", press within 5m." }})
	out := make(chan bot.Event, 10)
	run(t, f, c, out, allPerms)
	return f, c, st, clock, out, logs
}

func pendingIs(t *testing.T, st *memory.Store, user string, want bool) {
	t.Helper()
	testsync.Eventually(t, fmt.Sprintf("member %s pending: %v", user, want), func() bool {
		ok, _ := st.IsPending(context.Background(), Platform, guildID, user)
		return ok == want
	})
}

// TestVerifyPress: a new member is timed out and asked in the channel;
// someone else's press is refused; theirs lifts the timeout.
func TestVerifyPress(t *testing.T) {
	f, _, st, _, out, logs := newVerifyClient(t, "")
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(newbie, nil, t0))
	if ev := <-out; ev.Kind != bot.KindJoin || !ev.Author.Unverified {
		t.Fatalf("join event = %+v, want an unverified join", ev)
	}
	if ev := <-out; ev.Kind != bot.KindProfile || !ev.Author.Unverified {
		t.Errorf("profile event = %+v, want the unverified member's names", ev)
	}
	held := f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+newbie.id, 1, nil)
	if until, _ := held.Body["communication_disabled_until"].(string); until == "" {
		t.Errorf("hold = %s", held.Raw)
	}
	prompt := f.WaitFor(t, "POST", "/channels/"+general+"/messages", 1, nil)
	if raw := string(prompt.Raw); !strings.Contains(raw, "Welcome Newbie") || !strings.Contains(raw, `"custom_id":"vf:`+guildID+":"+newbie.id+`"`) {
		t.Errorf("prompt = %s", raw)
	}
	pendingIs(t, st, newbie.id, true)
	custom := "vf:" + guildID + ":" + newbie.id

	f.Dispatch("INTERACTION_CREATE", verifyPress("960000000000000101", mallory, "900000000000000001", custom))
	if got := told(t, f, "960000000000000101"); !strings.Contains(got, "not for you") {
		t.Errorf("answer to someone else = %s", got)
	}
	pendingIs(t, st, newbie.id, true)
	if !strings.Contains(logs.String(), "someone else pressed") {
		t.Errorf("the refused press is not audited:\n%s", logs)
	}

	f.Dispatch("INTERACTION_CREATE", verifyPress("960000000000000102", newbie, "900000000000000001", custom))
	if got := told(t, f, "960000000000000102"); got != "Thanks, welcome!" {
		t.Errorf("answer to the new member = %s", got)
	}
	lifted := f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+newbie.id, 2, nil)
	if v, ok := lifted.Body["communication_disabled_until"]; !ok || v != nil {
		t.Errorf("lift = %s", lifted.Raw)
	}
	f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/", 1, nil)
	pendingIs(t, st, newbie.id, false)
}

// TestVerifyTimeout: a member held by a role who does not press is kicked
// once the time runs out, not before.
func TestVerifyTimeout(t *testing.T) {
	f, c, st, clock, out, logs := newVerifyClient(t, vipRole)
	ctx := context.Background()
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(newbie, nil, t0))
	<-out
	f.WaitFor(t, "PUT", "/guilds/"+guildID+"/members/"+newbie.id+"/roles/"+vipRole, 1, nil)
	pendingIs(t, st, newbie.id, true)

	clock.add(4 * time.Minute)
	if n, err := c.VerifyDue(ctx, clock.now()); n != 0 || err != nil {
		t.Fatalf("VerifyDue before the deadline = %d, %v", n, err)
	}
	clock.add(time.Minute)
	if n, err := c.VerifyDue(ctx, clock.now()); n != 1 || err != nil {
		t.Fatalf("VerifyDue at the deadline = %d, %v", n, err)
	}
	f.WaitFor(t, "DELETE", "/guilds/"+guildID+"/members/"+newbie.id, 1, nil)
	f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/", 1, nil)
	if n, _ := c.VerifyDue(ctx, clock.now().Add(time.Hour)); n != 0 {
		t.Errorf("settled again: %d", n)
	}
	if !strings.Contains(logs.String(), "did not press in time, kicked") {
		t.Errorf("the kick is not audited:\n%s", logs)
	}
}

// TestVerifyForbidden: a server where vigie may not time members out tells
// the desk, audits it, and posts no button.
func TestVerifyForbidden(t *testing.T) {
	f, _, st, _, out, logs := newVerifyClient(t, "")
	f.Fail("PATCH", "/guilds/"+guildID+"/members/", 403, `{"message": "Missing Permissions", "code": 50013}`, nil, 1)
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(newbie, nil, t0))
	<-out
	told := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
	if !strings.Contains(fmt.Sprint(told.Body["content"]), "could not hold the new member Newbie") {
		t.Errorf("desk told %s", told.Raw)
	}
	pendingIs(t, st, newbie.id, false)
	if n := f.Count("POST", "/channels/"+general+"/messages"); n != 0 {
		t.Errorf("%d prompts posted to a member who is not held", n)
	}
	if !strings.Contains(logs.String(), "verify: could not hold") || !strings.Contains(logs.String(), "audit=true") {
		t.Errorf("the refusal is not audited:\n%s", logs)
	}
}

// TestVerifyLeft: a member who left before their time ran out is not a
// failure for the desk.
func TestVerifyLeft(t *testing.T) {
	f, c, st, clock, out, logs := newVerifyClient(t, "")
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(newbie, nil, t0))
	<-out
	pendingIs(t, st, newbie.id, true)
	f.Fail("DELETE", "/guilds/"+guildID+"/members/", 404, `{"message": "Unknown Member", "code": 10007}`, nil, 1)
	clock.add(5 * time.Minute)
	if n, err := c.VerifyDue(context.Background(), clock.now()); n != 1 || err != nil {
		t.Fatalf("VerifyDue = %d, %v", n, err)
	}
	if !strings.Contains(logs.String(), "left without pressing") {
		t.Errorf("the departure is not audited:\n%s", logs)
	}
	if n := f.Count("POST", "/channels/"+deskID+"/messages"); n != 0 {
		t.Errorf("the desk was told %d times of a member who left", n)
	}
}

// TestVerifyPlaces: a server whose community has its own verify: is asked
// as it says (here, held by a role although the file's verify: is off), and
// a member still held when verification is taken out is let go from the
// role their record names, not from what the rule file says by then.
func TestVerifyPlaces(t *testing.T) {
	f, c, st, clock, out, _ := newVerifyClient(t, "")
	prompt := func(name string) string { return "Bienvenue " + name }
	c.SetVerify(&Verify{Off: true, Pending: st, Now: clock.now, Places: map[string]*Verify{
		guildID: {Timeout: 5 * time.Minute, Kick: true, Button: "Humain", Channel: general, Role: vipRole, Pending: st, Now: clock.now, Prompt: prompt},
	}})
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(newbie, nil, t0))
	if ev := <-out; ev.Kind != bot.KindJoin || !ev.Author.Unverified {
		t.Fatalf("join event = %+v, want an unverified join", ev)
	}
	<-out // the member's names
	f.WaitFor(t, "PUT", "/guilds/"+guildID+"/members/"+newbie.id+"/roles/"+vipRole, 1, nil)
	if raw := string(f.WaitFor(t, "POST", "/channels/"+general+"/messages", 1, nil).Raw); !strings.Contains(raw, "Bienvenue Newbie") || !strings.Contains(raw, `"label":"Humain"`) {
		t.Errorf("prompt = %s", raw)
	}
	pendingIs(t, st, newbie.id, true)

	// verify: taken out of the community: the server follows the file's, off.
	c.SetVerify(&Verify{Off: true, Pending: st, Now: clock.now})
	clock.add(5 * time.Minute)
	if n, err := c.VerifyDue(context.Background(), clock.now()); n != 1 || err != nil {
		t.Fatalf("VerifyDue = %d, %v", n, err)
	}
	f.WaitFor(t, "DELETE", "/guilds/"+guildID+"/members/"+newbie.id+"/roles/"+vipRole, 1, nil)
	if calls := f.Calls("PATCH", "/guilds/"+guildID+"/members/"); len(calls) != 0 {
		t.Errorf("a member held by a role was untimed out: %v", calls)
	}

	// The file's verify: on, the community's off: the server asks no one.
	c.SetVerify(&Verify{Timeout: 5 * time.Minute, Kick: true, Button: "I'm not a robot", Channel: general, Pending: st, Now: clock.now,
		Prompt: prompt, Places: map[string]*Verify{guildID: {Off: true, Pending: st}}})
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(mallory, nil, t0))
	if ev := <-out; ev.Kind != bot.KindJoin || ev.Author.Unverified {
		t.Errorf("join event = %+v, want a join not asked", ev)
	}
	pendingIs(t, st, mallory.id, false)
}

// TestVerifyPressKeepsALongerTimeout: a new member held by a timeout and
// timed out for longer since (a rule on their name, a moderator's
// /mute 7d from their join's case) stays timed out when they press: the
// press lifts the hold, not the longer timeout given over it.
func TestVerifyPressKeepsALongerTimeout(t *testing.T) {
	f, c, st, _, out, logs := newVerifyClient(t, "")
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(newbie, nil, t0))
	<-out
	<-out
	f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+newbie.id, 1, nil)
	pendingIs(t, st, newbie.id, true)
	member := bot.Event{Platform: Platform, Space: guildID, Author: bot.Author{ID: newbie.id}}
	if err := c.Timeout(context.Background(), member, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}

	custom := "vf:" + guildID + ":" + newbie.id
	f.Dispatch("INTERACTION_CREATE", verifyPress("960000000000000201", newbie, "900000000000000001", custom))
	told(t, f, "960000000000000201")
	pendingIs(t, st, newbie.id, false)
	for _, call := range f.Calls("PATCH", "/guilds/"+guildID+"/members/"+newbie.id) {
		if v, ok := call.Body["communication_disabled_until"]; ok && v == nil {
			t.Errorf("the press lifted the 7-day timeout given over the hold: %s", call.Raw)
		}
	}
	if !strings.Contains(logs.String(), "timed out for longer since") {
		t.Errorf("the timeout kept is not said:\n%s", logs)
	}
}

// TestVerifyPressBeforeTheAskIsRecorded: a new member presses their button
// as soon as the prompt is posted, before vigie has recorded that it asked
// them (Discord slow to answer the prompt's post). The press waits for the
// ask to be recorded, and lets them speak. Before, they were told there was
// nothing to verify, and stayed held.
func TestVerifyPressBeforeTheAskIsRecorded(t *testing.T) {
	f, _, st, _, _, logs := newVerifyClient(t, "")
	release := f.Hold(func(c discordfake.Call) bool {
		return c.Method == "POST" && c.Path == "/channels/"+general+"/messages"
	})
	defer release()
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(newbie, nil, t0))
	f.WaitFor(t, "POST", "/channels/"+general+"/messages", 1, nil)
	custom := "vf:" + guildID + ":" + newbie.id
	const id = "960000000000000103"
	f.Dispatch("INTERACTION_CREATE", verifyPress(id, newbie, "900000000000000001", custom))
	const waits = "verify: a press while the member's ask is being recorded"
	testsync.Eventually(t, "the press looked at", func() bool {
		return strings.Contains(logs.String(), waits) || len(f.Calls("POST", "/webhooks/"+appID+"/tok-"+id)) > 0
	})
	if !strings.Contains(logs.String(), waits) {
		t.Fatalf("the press before the ask was recorded was answered at once (%s), not done once recorded", told(t, f, id))
	}
	release()
	if got := told(t, f, id); got != "Thanks, welcome!" {
		t.Errorf("answer to the new member = %s", got)
	}
	lifted := f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+newbie.id, 2, nil)
	if v, ok := lifted.Body["communication_disabled_until"]; !ok || v != nil {
		t.Errorf("lift = %s", lifted.Raw)
	}
	pendingIs(t, st, newbie.id, false)
}

// TestVerifyPressOnDiscordsClock: the host's clock is 10 minutes behind
// Discord's. The hold's end is set on Discord's clock; the new member who
// presses at once is let speak. Before, the hold's end was compared with the
// host's clock, looked longer than any hold given before, and was kept as a
// timeout given since: the member stayed silenced after passing.
func TestVerifyPressOnDiscordsClock(t *testing.T) {
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID},
		Now: func() time.Time { return time.Now().Add(10 * time.Minute) }})
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID, Now: time.Now})
	st := memory.New()
	c.SetVerify(&Verify{Timeout: 5 * time.Minute, Kick: true, Button: "I'm not a robot", Channel: general,
		Pending: st, Now: time.Now, Prompt: func(name string) string { return "Welcome " + name }})
	out := make(chan bot.Event, 10)
	run(t, f, c, out, allPerms)
	// An answer of Discord's tells the client its clock before the join.
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(newbie, nil, t0))
	<-out
	<-out
	held := f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+newbie.id, 1, nil)
	until, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(held.Body["communication_disabled_until"]))
	// The hold lasts 1h10m on Discord's clock, 1h20m on the host's.
	if ahead := time.Until(until); ahead < time.Hour+15*time.Minute {
		t.Fatalf("the hold ends %s from the host's now: not on Discord's clock", ahead)
	}
	pendingIs(t, st, newbie.id, true)
	custom := "vf:" + guildID + ":" + newbie.id
	f.Dispatch("INTERACTION_CREATE", verifyPress("960000000000000102", newbie, "900000000000000001", custom))
	if got := told(t, f, "960000000000000102"); got != "Thanks, welcome!" {
		t.Errorf("answer to the new member = %s", got)
	}
	lifted := f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+newbie.id, 2, nil)
	if v, ok := lifted.Body["communication_disabled_until"]; !ok || v != nil {
		t.Errorf("lift = %s", lifted.Raw)
	}
}

// TestVerifyPromptShowsTheNameAsWritten: a new member named with a masked
// link, or with another's mention, has a prompt that shows the name as
// written: no link to press beside the button, and no one else's name.
func TestVerifyPromptShowsTheNameAsWritten(t *testing.T) {
	f, _, _, _, out, _ := newVerifyClient(t, "")
	for i, name := range []string{"[Verify here](https://evil.example)", "<@" + cm.id + ">"} {
		u := user{id: fmt.Sprint(8100 + i), name: name}
		f.Dispatch("GUILD_MEMBER_ADD", memberObject(u, nil, t0))
		<-out
		<-out
		prompt := fmt.Sprint(f.WaitFor(t, "POST", "/channels/"+general+"/messages", i+1, nil).Body["content"])
		if want := "Welcome " + md(name) + ", press within 5m."; !strings.HasSuffix(prompt, want) {
			t.Errorf("prompt = %q, want it to end %q", prompt, want)
		}
	}
}
