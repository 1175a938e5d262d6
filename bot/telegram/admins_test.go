package telegram

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// testClock is the admin cache's clock in these tests: expiries and retries come
// when the test says.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// counter reads a counter of reg with the given labels, 0 when absent.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// waitLookups waits until n admin lookups ended with result (ok, failed).
func waitLookups(t *testing.T, reg *prometheus.Registry, result string, n float64) {
	t.Helper()
	testsync.Eventually(t, fmt.Sprintf("%v %s admin lookups", n, result), func() bool {
		return counter(t, reg, "vigie_telegram_admin_lookups_total", "result", result) >= n
	})
}

// pipeline wires c to the real rules engine, handlers and memory store, as the
// daemon does, with a rule that deletes and mutes non-staff sellers.
func pipeline(t *testing.T, c *Client, reg *prometheus.Registry) chan bot.Event {
	t.Helper()
	const spec = `
rules:
  - name: selling
    category: spam
    when: not author.staff and text contains "buy"
    do: [delete, timeout(10m)]
`
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Parse("rules.yaml", []byte(spec), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cmds := &moderatorCommands{desktest.Commands{Store: st}}
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": c}, Store: st,
		Desk: desktest.Desk{Poster: c.Desk(cmds)}, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = mod
	return desktest.Serve(t, rules.NewEngine(rs, st, rules.Options{}), mod)
}

func msgIs(id int) func(apiCall) bool {
	return func(c apiCall) bool { return c.Params.Get("message_id") == strconv.Itoa(id) }
}

// TestAdminWhoseLookupFailsIsNotModerated: while a chat's admins cannot be
// listed and nothing is known of them, an admin who breaks a rule is not
// deleted or muted: the CMs get a case. Once the lookup works, the admin is
// staff again, and members are moderated as usual.
func TestAdminWhoseLookupFailsIsNotModerated(t *testing.T) {
	f := newFakeBotAPI(t)
	f.setAdmins(group.id, carol.id)
	f.adminsFail(group.id, true)
	reg := prometheus.NewRegistry()
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Registerer: reg, Chats: fixtureChats})
	clock := &testClock{now: time.Now()}
	c.admins.now = clock.Now
	run(t, c, pipeline(t, c, reg))
	say := func(id int, from tgUser, text string) {
		f.push(map[string]any{"message": message(group, id, from, t0+int64(id), text)})
	}
	deskCard := func(n int) apiCall {
		return f.waitFor("sendMessage", n, func(c apiCall) bool {
			return c.Params.Get("chat_id") == strconv.FormatInt(deskChat.id, 10) && strings.Contains(c.Params.Get("text"), "roles unknown")
		})
	}

	say(1, carol, "buy my old console")
	waitLookups(t, reg, "failed", 1)
	say(2, carol, "buy it, really")
	card := deskCard(2)
	if text := card.Params.Get("text"); !strings.Contains(text, "would delete, timeout(10m)") {
		t.Errorf("case card = %s", text)
	}
	// Later in the same streak of failures: no new warning.
	clock.Add(time.Minute)
	say(3, carol, "last call, buy")
	waitLookups(t, reg, "failed", 2)
	deskCard(3)
	if n := f.count("deleteMessage", nil) + f.count("restrictChatMember", nil); n != 0 {
		t.Fatalf("an admin whose roles were unknown was moderated: %v", f.methods())
	}
	if got := counter(t, reg, "vigie_actions_total", "action", "delete", "result", "roles_unknown"); got != 3 {
		t.Errorf("deletes withheld = %v, want 3", got)
	}
	// A lookup is counted, then logged: wait for the line, then count it.
	testsync.Eventually(t, "the failed lookup logged", func() bool { return strings.Contains(logs.String(), "cannot list the chat's admins") })
	if n := strings.Count(logs.String(), "cannot list the chat's admins"); n != 1 {
		t.Errorf("the failed lookups were logged %d times, want once for the streak:\n%s", n, logs)
	}

	f.adminsFail(group.id, false)
	clock.Add(adminRetryMax)
	say(4, carol, "buy, buy")
	waitLookups(t, reg, "ok", 1)
	testsync.Eventually(t, "the end of the streak logged", func() bool {
		return strings.Contains(logs.String(), "the chat's admins are listed again")
	})
	say(5, carol, "buy tickets at the desk")
	say(6, bob, "buy followers here")
	// The pipeline takes events in order: once bob's message is deleted, carol's
	// was judged, and left alone.
	f.waitFor("deleteMessage", 1, msgIs(6))
	f.waitFor("restrictChatMember", 1, nil)
	if n := f.count("deleteMessage", nil); n != 1 {
		t.Errorf("%d deleteMessage calls, want only bob's: %v", n, f.methods())
	}
}

// TestHungAdminLookupDoesNotStallIntake: a getChatAdministrators that does not
// answer holds up neither getUpdates nor the other chats' messages.
func TestHungAdminLookupDoesNotStallIntake(t *testing.T) {
	f := newFakeBotAPI(t)
	f.setAdmins(group.id, carol.id)
	reg := prometheus.NewRegistry()
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, Registerer: reg, Chats: fixtureChats})
	c.adminTimeout = time.Hour // as long as the test: the lookup hangs until released
	release := f.holdAdmins(group.id)
	run(t, c, pipeline(t, c, reg))

	f.push(map[string]any{"message": message(group, 1, carol, t0, "buy my old console")})
	f.waitFor("getChatAdministrators", 1, inChat(group.id))
	// Another chat, while the first chat's lookup hangs: its first message, its
	// lookup, then a message judged and acted on.
	f.push(map[string]any{"message": message(public, 2, bob, t0+1, "hello")})
	waitLookups(t, reg, "ok", 1)
	f.push(map[string]any{"message": message(public, 3, bob, t0+2, "buy followers here")})
	f.waitFor("deleteMessage", 1, msgIs(3))
	if n := f.count("deleteMessage", inChat(group.id)) + f.count("restrictChatMember", inChat(group.id)); n != 0 {
		t.Errorf("carol was moderated while her roles were unknown: %v", f.methods())
	}

	release()
	waitLookups(t, reg, "ok", 2)
	f.push(map[string]any{"message": message(group, 4, carol, t0+3, "buy tickets at the desk")})
	f.push(map[string]any{"message": message(group, 5, bob, t0+4, "buy followers here")})
	f.waitFor("deleteMessage", 1, msgIs(5))
	if n := f.count("deleteMessage", inChat(group.id)); n != 1 {
		t.Errorf("%d deleteMessage calls in the group, want only bob's: %v", n, f.methods())
	}
}

// TestStaleAdminList: a list that expired but came from a successful lookup is
// what vigie goes on while lookups fail; a chat's first message before its
// first lookup answers (the one asked at start) goes out with roles unknown
// rather than wait for it.
func TestStaleAdminList(t *testing.T) {
	f := newFakeBotAPI(t)
	f.setAdmins(group.id, carol.id)
	release := f.holdAdmins(group.id)
	reg := prometheus.NewRegistry()
	c, logs := newTestClient(t, f, Config{Registerer: reg, Chats: fixtureChats})
	clock := &testClock{now: time.Now()}
	c.admins.now = clock.Now
	out := make(chan bot.Event)
	run(t, c, out)
	id := 0
	say := func(from tgUser) bot.Author {
		t.Helper()
		id++
		f.push(map[string]any{"message": message(group, id, from, t0+int64(id), "hello")})
		return testsync.Next(t, out).Author
	}
	admin := bot.Author{ID: "8", Name: "Carol", Roles: []string{"administrator"}, Staff: true}
	check := func(what string, got, want bot.Author) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: author %+v, want %+v", what, got, want)
		}
	}

	check("first message, its chat's lookup under way", say(carol), bot.Author{ID: "8", Name: "Carol", RolesUnknown: true})
	release()
	// The other chats of the list are looked up at start too: wait for the
	// group's own list, not for any lookup's count.
	testsync.Eventually(t, "the group's admins listed", func() bool {
		_, known := c.admins.peek(group.id, carol.id)
		return known
	})
	check("listed", say(carol), admin)

	clock.Add(adminTTL + time.Minute)
	f.adminsFail(group.id, true)
	check("expired, refresh under way", say(carol), admin)
	waitLookups(t, reg, "failed", 1)
	check("refresh failed", say(carol), admin)
	check("a member, refresh failed", say(bob), bot.Author{ID: "7", Name: "Bob Martin", Username: "bobm", Roles: []string{"member"}})
	testsync.Eventually(t, "the failed lookup logged", func() bool {
		return strings.Contains(logs.String(), "judged with the last list known")
	})

	// A promotion Telegram tells about counts at once, lookups or not.
	f.push(map[string]any{"chat_member": map[string]any{
		"chat": group.json(), "from": carol.json(), "date": t0 + 50,
		"old_chat_member": map[string]any{"user": bob.json(), "status": "member"},
		"new_chat_member": map[string]any{"user": bob.json(), "status": "administrator"},
	}})
	check("promoted", say(bob), bot.Author{ID: "7", Name: "Bob Martin", Username: "bobm", Roles: []string{"administrator"}, Staff: true})
}

// TestMadeUpChatsKeepRealAdminLists: events naming chats vigie is not in (an
// HTTP poster may name any) fill the cache of chats never listed, and forget
// only others of their kind: the list Telegram gave of a real chat stays,
// and its next message is judged with it, not asked of Telegram again.
func TestMadeUpChatsKeepRealAdminLists(t *testing.T) {
	f := newFakeBotAPI(t)
	f.setAdmins(group.id, carol.id)
	reg := prometheus.NewRegistry()
	c, _ := newTestClient(t, f, Config{Registerer: reg, Chats: fixtureChats})
	c.admins.maxListed, c.admins.maxUnlisted = 4, 8
	out := make(chan bot.Event)
	run(t, c, out)

	f.push(map[string]any{"message": message(group, 1, carol, t0, "hello")})
	testsync.Next(t, out)
	waitLookups(t, reg, "ok", 1)

	const madeUp = 50
	for i := range madeUp {
		chat := int64(-1009000000000 - i)
		f.adminsFail(chat, true) // Telegram lists no chat vigie is not in
		ev := bot.Event{Platform: Platform, ID: fmt.Sprintf("%d:%d", chat, i+1), Space: strconv.FormatInt(chat, 10),
			Author: bot.Author{ID: strconv.FormatInt(bob.id, 10), RolesUnknown: true}}
		if _, staff, _ := c.ResolveRoles(t.Context(), ev); staff {
			t.Fatalf("made-up chat %d: bob taken for staff", chat)
		}
	}
	waitLookups(t, reg, "failed", madeUp)

	f.push(map[string]any{"message": message(group, 2, carol, t0+1, "hello again")})
	got := testsync.Next(t, out).Author
	if !got.Staff || got.RolesUnknown {
		t.Errorf("carol after %d made-up chats: %+v, want the group's admin as listed", madeUp, got)
	}
	if n := f.count("getChatAdministrators", inChat(group.id)); n != 1 {
		t.Errorf("the group's admins asked %d times, want once: made-up chats made vigie forget its list", n)
	}
	if n := counter(t, reg, "vigie_telegram_admin_cache_forgotten_total", "list", "unlisted"); n == 0 {
		t.Errorf("no made-up chat counted as forgotten")
	}
	if n := counter(t, reg, "vigie_telegram_admin_cache_forgotten_total", "list", "listed"); n != 0 {
		t.Errorf("%v listed chats forgotten, want none", n)
	}
}
