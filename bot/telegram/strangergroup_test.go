package telegram

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// added is the my_chat_member update Telegram sends when by adds vigie to chat.
func added(chat tgChat, by tgUser) map[string]any {
	return map[string]any{"my_chat_member": map[string]any{"chat": chat.json(), "from": by.json(), "date": t0,
		"old_chat_member": map[string]any{"user": vigieUser.json(), "status": "left"},
		"new_chat_member": map[string]any{"user": vigieUser.json(), "status": "member"}}}
}

// TestStrangersGroupIsNotModerated: with no chat list, anyone may add vigie's
// bot to a group of their own. Such a group is not moderated, and vigie leaves
// it and tells the desk once; a group a CM owns is moderated, whoever added
// vigie to it.
func TestStrangersGroupIsNotModerated(t *testing.T) {
	f := newFakeBotAPI(t)
	theirs := tgChat{id: -1007070707070, kind: "supergroup", title: "Free followers"}
	f.setOwner(group.id, alice.id) // alice is the CM
	f.setAdmins(group.id, carol.id)
	f.setAdmins(theirs.id, mallory.id)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
	c.Desk(newCaseBook())
	knowAdmins(t, c, group.id)
	out := make(chan bot.Event, 10)
	stop := run(t, c, out)

	f.push(added(group, carol))
	f.push(added(theirs, mallory))
	left := f.waitFor("leaveChat", 1, nil)
	if got := left.Params.Get("chat_id"); got != itoa(theirs.id) {
		t.Errorf("vigie left chat %s, want the stranger's group %d", got, theirs.id)
	}
	leftIt := func(c apiCall) bool {
		return inChat(deskChat.id)(c) && strings.Contains(c.Params.Get("text"), "and left it")
	}
	told := f.waitFor("sendMessage", 1, leftIt).Params.Get("text")
	for _, want := range []string{"Free followers", itoa(theirs.id), "telegram:666", "TELEGRAM_CHATS", "or make a CM of desk.cms its owner"} {
		if !strings.Contains(told, want) {
			t.Errorf("the desk was told %q: it does not say %q", told, want)
		}
	}
	// Telegram may still deliver what the group said before vigie left.
	f.push(map[string]any{"message": message(theirs, 1, mallory, t0+1, "/status")})
	f.push(map[string]any{"message": message(theirs, 2, mallory, t0+2, "buy cheap followers")})
	f.push(added(theirs, mallory))
	f.push(map[string]any{"message": message(group, 3, bob, t0+3, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(group.id) {
		t.Errorf("event from chat %s handed to the rules, want only the CM's group", ev.Space)
	}
	stop()
	noMoreEvents(t, out)
	if n := f.count("leaveChat", inChat(group.id)); n != 0 {
		t.Errorf("vigie left the CM's group %d times", n)
	}
	if n := f.count("sendMessage", leftIt); n != 1 {
		t.Errorf("the desk was told %d times that vigie left, want once:\n%s", n, logs)
	}
	if n := f.count("sendMessage", inChat(theirs.id)); n != 0 {
		t.Errorf("vigie answered in the stranger's group")
	}
	if !strings.Contains(logs.String(), "vigie left a group it was added to by someone who is not a CM") {
		t.Errorf("the log does not say vigie left:\n%s", logs)
	}
}

// TestFirstRunModeratesNoUnlistedGroup: with neither a chat list nor a CM (the
// starter pack's first run), no group is moderated; vigie stays in a group it
// is added to and logs its id with how to list it.
func TestFirstRunModeratesNoUnlistedGroup(t *testing.T) {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{})
	out := make(chan bot.Event, 10)
	stop := run(t, c, out)
	f.push(added(group, mallory))
	f.push(map[string]any{"message": message(group, 1, mallory, t0+1, "buy cheap followers")})
	testsync.Eventually(t, "the group's message taken", func() bool {
		return strings.Contains(logs.String(), "ignoring a chat vigie does not moderate")
	})
	stop()
	select {
	case ev := <-out:
		t.Errorf("event from an unlisted group handed to the rules: %+v", ev)
	default:
	}
	if n := f.count("leaveChat", nil); n != 0 {
		t.Errorf("vigie left %d groups on its first run", n)
	}
	for _, want := range []string{"no chat list (TELEGRAM_CHATS, desk.telegram_chats) and no Telegram CM in desk.cms: vigie moderates no group yet",
		"vigie was added to a group it does not moderate: to moderate it, put its id in TELEGRAM_CHATS", "chat=" + itoa(group.id),
		// The first group vigie is added to is often the one meant for the
		// desk: the log says where that one's id goes, in both lines.
		"or name its owner as a CM in desk.cms; if it is the CMs' desk chat, put its id in desk.telegram_chat instead (VIGIE_DESK_CHAT in the starter pack)",
		"ignoring a chat vigie does not moderate: to moderate it, put its id in TELEGRAM_CHATS (desk.telegram_chats), or name its owner as a CM in desk.cms; if it is the CMs' desk chat, put its id in desk.telegram_chat instead"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
}

// TestFirstMessageOfACMsGroupIsJudged: with no chat list, whether a group is
// moderated hangs on its admin list, which vigie does not have after a start:
// the first message of a group a CM owns waits for that list and is judged,
// not dropped; the first of a stranger's group is not, nor that of a group
// where a CM is only an administrator.
func TestFirstMessageOfACMsGroupIsJudged(t *testing.T) {
	f := newFakeBotAPI(t)
	theirs := tgChat{id: -1007070707070, kind: "supergroup", title: "Free followers"}
	promoted := tgChat{id: -1007070707071, kind: "supergroup", title: "Free likes"}
	f.setOwner(group.id, alice.id) // alice is the CM
	f.setAdmins(theirs.id, mallory.id)
	f.setOwner(promoted.id, mallory.id)
	f.setAdmins(promoted.id, alice.id)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
	c.Desk(newCaseBook())
	out := make(chan bot.Event, 10)
	stop := run(t, c, out)
	f.push(map[string]any{"message": message(theirs, 1, mallory, t0+1, "buy cheap followers")})
	f.push(map[string]any{"message": message(promoted, 1, mallory, t0+1, "buy cheap likes")})
	f.push(map[string]any{"message": message(group, 2, bob, t0+2, "free nitro here")})
	if ev := testsync.Next(t, out); ev.Space != itoa(group.id) || ev.Text != "free nitro here" {
		t.Errorf("got %+v, want the first message of the CM's group", ev)
	}
	stop()
	select {
	case ev := <-out:
		t.Errorf("unexpected event %+v:\n%s", ev, logs)
	default:
	}
}

// TestListedGroupUpgradedIsNotLeft: a listed basic group becomes a supergroup,
// and the first update of the new chat is Telegram's my_chat_member adding
// vigie, from the member who upgraded it, who is no CM, before the service
// messages that tell of the move: vigie learns the move and stays.
func TestListedGroupUpgradedIsNotLeft(t *testing.T) {
	oldGroup, newGroup := int64(-4006), tgChat{id: -1001000004006, kind: "supergroup", title: "Fans"}
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{oldGroup}})
	c.Desk(newCaseBook())
	out := make(chan bot.Event, 10)
	run(t, c, out)
	f.waitFor("getChat", 1, inChat(oldGroup)) // at start: not moved yet
	f.Migrate(oldGroup, newGroup.id)
	f.push(added(newGroup, bob))
	f.push(map[string]any{"message": message(newGroup, 1, bob, t0+1, "buy cheap followers")})
	if ev := testsync.Next(t, out); ev.Space != itoa(newGroup.id) {
		t.Errorf("event from chat %s, want the upgraded group's", ev.Space)
	}
	if n := f.count("leaveChat", nil); n != 0 {
		t.Errorf("vigie left the upgraded group:\n%s", logs)
	}
}

// TestStrangerWhoPromotesACM: by Telegram's default privacy anyone may add a
// CM to a group of their own and make them an administrator there; vigie
// added to it by that stranger leaves it, moderates nothing of it, and the
// desk gets no card from it: with no chat list, only a group a CM owns is
// moderated.
func TestStrangerWhoPromotesACM(t *testing.T) {
	f := newFakeBotAPI(t)
	theirs := tgChat{id: -1007070707070, kind: "supergroup", title: "Free followers"}
	f.setOwner(theirs.id, mallory.id)
	f.setAdmins(theirs.id, alice.id) // alice is the CM, a plain administrator there
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
	c.Desk(newCaseBook())
	out := make(chan bot.Event, 10)
	stop := run(t, c, out)

	f.push(added(theirs, mallory))
	if got := f.waitFor("leaveChat", 1, nil).Params.Get("chat_id"); got != itoa(theirs.id) {
		t.Errorf("vigie left chat %s, want the stranger's group %d", got, theirs.id)
	}
	f.push(map[string]any{"message": message(theirs, 1, mallory, t0+1, "free nitro here")})
	testsync.Eventually(t, "the group's message taken", func() bool {
		return strings.Contains(logs.String(), "ignoring a chat vigie does not moderate")
	})
	stop()
	select {
	case ev := <-out:
		t.Errorf("event from the stranger's group handed to the rules: %+v", ev)
	default:
	}
	if n := f.count("sendMessage", func(c apiCall) bool {
		return inChat(deskChat.id)(c) && !strings.Contains(c.Params.Get("text"), "and left it")
	}); n != 0 {
		t.Errorf("the desk got %d messages besides the one saying vigie left:\n%s", n, logs)
	}
}

// TestCMAddsVigieToAGroupNoCMOwns: with no chat list, a CM who adds vigie to
// a group where they are only an administrator does not get it moderated:
// vigie stays, moderates nothing of it, and says so once, in the log and the
// desk chat.
func TestCMAddsVigieToAGroupNoCMOwns(t *testing.T) {
	f := newFakeBotAPI(t)
	theirs := tgChat{id: -1007070707070, kind: "supergroup", title: "Free followers"}
	f.setOwner(theirs.id, mallory.id)
	f.setAdmins(theirs.id, alice.id) // alice is the CM
	f.setOwner(group.id, alice.id)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
	c.Desk(newCaseBook())
	knowAdmins(t, c, group.id)
	out := make(chan bot.Event, 10)
	stop := run(t, c, out)

	f.push(added(theirs, alice))
	unowned := func(c apiCall) bool {
		return inChat(deskChat.id)(c) && strings.Contains(c.Params.Get("text"), "which no CM owns")
	}
	told := f.waitFor("sendMessage", 1, unowned).Params.Get("text")
	for _, want := range []string{"Free followers", itoa(theirs.id), "Alice", "telegram:42", "TELEGRAM_CHATS"} {
		if !strings.Contains(told, want) {
			t.Errorf("the desk was told %q: it does not say %q", told, want)
		}
	}
	f.push(map[string]any{"message": message(theirs, 1, mallory, t0+1, "free nitro here")})
	f.push(added(theirs, alice))
	f.push(map[string]any{"message": message(group, 2, bob, t0+2, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(group.id) {
		t.Errorf("event from chat %s handed to the rules, want only the CM's own group", ev.Space)
	}
	stop()
	noMoreEvents(t, out)
	if n := f.count("leaveChat", nil); n != 0 {
		t.Errorf("vigie left %d groups a CM added it to", n)
	}
	if n := f.count("sendMessage", unowned); n != 1 {
		t.Errorf("the desk was told %d times, want once:\n%s", n, logs)
	}
	const warned = "a CM added vigie to a group no CM owns: it is not moderated until its id is in TELEGRAM_CHATS (desk.telegram_chats)"
	if n := strings.Count(logs.String(), warned); n != 1 {
		t.Errorf("the log says %d times %q, want once:\n%s", n, warned, logs)
	}
}

// TestOwnershipLeavesTheCM: with no chat list, a group is moderated while a
// CM owns it, anonymous or not (getChatAdministrators still names an
// anonymous owner); once its ownership goes to someone else, as the
// chat_member updates of a transfer say, it no longer is, and once it comes
// back to a CM, it is again, from those updates too.
func TestOwnershipLeavesTheCM(t *testing.T) {
	f := newFakeBotAPI(t)
	other := tgChat{id: -1007070707072, kind: "supergroup", title: "Riders"}
	f.SetOwner(group.id, alice.id, true) // alice is the CM, and anonymous
	f.setAdmins(group.id, mallory.id)
	f.setOwner(other.id, alice.id)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
	c.Desk(newCaseBook())
	out := make(chan bot.Event, 10)
	stop := run(t, c, out)

	f.push(map[string]any{"message": message(group, 1, bob, t0+1, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(group.id) {
		t.Fatalf("event from chat %s, want the group alice owns", ev.Space)
	}
	// alice hands the group over to mallory.
	f.setOwner(group.id, mallory.id)
	f.setAdmins(group.id, alice.id)
	status := func(u tgUser, from, to string) map[string]any {
		return map[string]any{"chat_member": map[string]any{
			"chat": group.json(), "from": alice.json(), "date": t0 + 2,
			"old_chat_member": map[string]any{"user": u.json(), "status": from, "is_anonymous": false},
			"new_chat_member": map[string]any{"user": u.json(), "status": to, "is_anonymous": false},
		}}
	}
	f.push(status(alice, "creator", "administrator"))
	f.push(status(mallory, "administrator", "creator"))
	f.push(map[string]any{"message": message(group, 3, bob, t0+3, "free nitro here")})
	f.push(map[string]any{"message": message(other, 4, bob, t0+4, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(other.id) {
		t.Errorf("event from chat %s, want only the group alice still owns", ev.Space)
	}
	// mallory hands it back: moderated again at once, though vigie's list,
	// fresh for minutes, said mallory owned it.
	f.setOwner(group.id, alice.id)
	f.setAdmins(group.id, mallory.id)
	f.push(status(mallory, "creator", "administrator"))
	f.push(status(alice, "administrator", "creator"))
	f.push(map[string]any{"message": message(group, 5, bob, t0+5, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(group.id) || ev.Text != "salut" {
		t.Errorf("got %+v, want the message of the group alice owns again", ev)
	}
	stop()
	noMoreEvents(t, out)
}

// TestOwnershipChangeFromTheServiceMessage: with no chat list, the owner of
// a CM's group hands it over to someone else, and vigie learns it from the
// group's service message (chat_owner_changed), the only word of it a bot
// gets that is not one of the group's administrators (chat_member updates
// go to those only): the group's next message is not moderated, though
// vigie's list of its admins, fresh for minutes, still named the CM its
// owner.
func TestOwnershipChangeFromTheServiceMessage(t *testing.T) {
	f, _, other, out, stop := aliceOwns(t, -1007070707073)
	// alice hands the group over to mallory: the group says so.
	f.setOwner(group.id, mallory.id)
	f.setAdmins(group.id, alice.id)
	changed := message(group, 2, alice, t0+2, "")
	changed["chat_owner_changed"] = map[string]any{"new_owner": mallory.json()}
	f.push(map[string]any{"message": changed})
	f.push(map[string]any{"message": message(group, 3, bob, t0+3, "free nitro here")})
	f.push(map[string]any{"message": message(other, 4, bob, t0+4, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(other.id) {
		t.Errorf("event from chat %s (%q), want only the group alice still owns", ev.Space, ev.Text)
	}
	stop()
	noMoreEvents(t, out)
}

// TestOwnerLeavesFromTheServiceMessage: with no chat list, the owner of a
// CM's group leaves it, and vigie learns it from the group's service message
// (chat_owner_left, Bot API 7+), as it does a transfer: the group's next
// message is not moderated, though vigie's list of its admins, fresh for
// minutes, still named the CM its owner. The new owner the message names is
// not one yet: it becomes one only if the owner does not come back.
func TestOwnerLeavesFromTheServiceMessage(t *testing.T) {
	f, c, other, out, stop := aliceOwns(t, -1007070707075)
	// alice leaves the group: the group says so.
	f.setOwner(group.id, 0)
	left := message(group, 2, alice, t0+2, "")
	left["chat_owner_left"] = map[string]any{"new_owner": mallory.json()}
	f.push(map[string]any{"message": left})
	f.push(map[string]any{"message": message(group, 3, bob, t0+3, "free nitro here")})
	f.push(map[string]any{"message": message(other, 4, bob, t0+4, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(other.id) {
		t.Errorf("event from chat %s (%q), want only the group alice still owns", ev.Space, ev.Text)
	}
	if status, _ := c.admins.peek(group.id, mallory.id); status != "administrator" {
		t.Errorf("mallory is %q in the group alice left, want administrator still: the owner may come back", status)
	}
	stop()
	noMoreEvents(t, out)
}

// TestOwnerLeavesDuringALookup: the service message of an owner who left
// comes while a lookup of the group's admins is under way, and that lookup
// answers the list from before: the CM it names the owner is not taken for
// one again.
func TestOwnerLeavesDuringALookup(t *testing.T) {
	f, c, other, out, stop := aliceOwns(t, -1007070707076)
	// The list is asked again at the next message, and Telegram holds
	// that lookup.
	release := f.holdAdmins(group.id)
	c.admins.expire(group.id)
	f.push(map[string]any{"message": message(group, 2, bob, t0+2, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(group.id) {
		t.Fatalf("event from chat %s, want the group alice owns", ev.Space)
	}
	testsync.Eventually(t, "the second lookup under way", func() bool { return len(f.callsOf("getChatAdministrators")) == 2 })
	// alice leaves meanwhile; the lookup held answers the list from before.
	left := message(group, 3, alice, t0+3, "")
	left["chat_owner_left"] = map[string]any{}
	f.push(map[string]any{"message": left})
	f.push(map[string]any{"message": message(other, 4, bob, t0+4, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(other.id) {
		t.Fatalf("event from chat %s (%q), want the group alice still owns", ev.Space, ev.Text)
	}
	release()
	testsync.Eventually(t, "the lookup held answered", func() bool { return c.admins.flight(group.id) == nil })
	f.setOwner(group.id, 0)
	f.push(map[string]any{"message": message(group, 5, bob, t0+5, "free nitro again")})
	f.push(map[string]any{"message": message(other, 6, bob, t0+6, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(other.id) {
		t.Errorf("event from chat %s (%q), want only the group alice still owns", ev.Space, ev.Text)
	}
	stop()
	noMoreEvents(t, out)
}

// TestOwnershipChangeDuringALookup: the service message of a transfer comes
// while a lookup of the group's admins is under way, and that lookup
// answers the list from before the transfer: the CM it names the owner is
// not taken for one again.
func TestOwnershipChangeDuringALookup(t *testing.T) {
	f, c, other, out, stop := aliceOwns(t, -1007070707074)
	// bob is made an admin: the list is asked again at the next message,
	// and Telegram holds that lookup.
	release := f.holdAdmins(group.id)
	f.push(map[string]any{"chat_member": map[string]any{
		"chat": group.json(), "from": alice.json(), "date": t0 + 2,
		"old_chat_member": map[string]any{"user": bob.json(), "status": "member"},
		"new_chat_member": map[string]any{"user": bob.json(), "status": "administrator", "can_be_edited": false,
			"is_anonymous": false, "can_manage_chat": true, "can_delete_messages": true, "can_manage_video_chats": false,
			"can_restrict_members": true, "can_promote_members": false, "can_change_info": false, "can_invite_users": true,
			"can_post_stories": false, "can_edit_stories": false, "can_delete_stories": false},
	}})
	f.push(map[string]any{"message": message(group, 3, bob, t0+3, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(group.id) {
		t.Fatalf("event from chat %s, want the group alice owns", ev.Space)
	}
	testsync.Eventually(t, "the second lookup under way", func() bool { return len(f.callsOf("getChatAdministrators")) == 2 })
	// alice hands the group over to mallory meanwhile; the lookup held
	// answers the list from before.
	changed := message(group, 4, alice, t0+4, "")
	changed["chat_owner_changed"] = map[string]any{"new_owner": mallory.json()}
	f.push(map[string]any{"message": changed})
	f.setOwner(group.id, mallory.id)
	f.setAdmins(group.id, alice.id, bob.id)
	f.push(map[string]any{"message": message(group, 5, bob, t0+5, "free nitro here")})
	f.push(map[string]any{"message": message(other, 6, bob, t0+6, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(other.id) {
		t.Fatalf("event from chat %s (%q), want only the group alice still owns", ev.Space, ev.Text)
	}
	release()
	testsync.Eventually(t, "the lookup held answered", func() bool { return c.admins.flight(group.id) == nil })
	f.push(map[string]any{"message": message(group, 7, bob, t0+7, "free nitro again")})
	f.push(map[string]any{"message": message(other, 8, bob, t0+8, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(other.id) {
		t.Errorf("event from chat %s (%q), want only the group alice still owns", ev.Space, ev.Text)
	}
	stop()
	noMoreEvents(t, out)
}

// aliceOwns runs a client with no chat list, to which alice, a CM, owns
// group (mallory one of its admins) and other, a supergroup of id otherID;
// the group's first message is moderated.
func aliceOwns(t *testing.T, otherID int64) (f *fakeBotAPI, c *Client, other tgChat, out chan bot.Event, stop func()) {
	t.Helper()
	f = newFakeBotAPI(t)
	other = tgChat{id: otherID, kind: "supergroup", title: "Riders"}
	f.setOwner(group.id, alice.id)
	f.setAdmins(group.id, mallory.id)
	f.setOwner(other.id, alice.id)
	c, _ = newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
	c.Desk(newCaseBook())
	out = make(chan bot.Event, 10)
	stop = run(t, c, out)
	f.push(map[string]any{"message": message(group, 1, bob, t0+1, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(group.id) {
		t.Fatalf("event from chat %s, want the group alice owns", ev.Space)
	}
	return f, c, other, out, stop
}
