package telegram

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestStarterPackSeesWhatScamsHide runs the starter pack on updates carrying what
// scammers hide from a reader of the text alone: a forward, a photo's caption, a
// text_link, a name. Each is caught and acted on through the fake Bot API; service
// messages (a video chat, a forum topic) are not judged at all.
func TestStarterPackSeesWhatScamsHide(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	knowAdmins(t, c, group.id)
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Load("../../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	engine := rules.NewEngine(rs, st, rules.Options{})
	cmds := &moderatorCommands{desktest.Commands{Store: st}}
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": c}, Store: st, Desk: desktest.Desk{Poster: c.Desk(cmds)}})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = mod

	// What reaches the rules is recorded on its way.
	judged := &recorder{}
	out := desktest.Serve(t, engine, mod)
	in := make(chan bot.Event)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		for {
			select {
			case ev := <-in:
				judged.add(ev)
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	run(t, c, in)

	chat := strconv.FormatInt(group.id, 10)
	mutedFor := func(u tgUser) time.Duration {
		t.Helper()
		mute := f.waitFor("restrictChatMember", 1, func(c apiCall) bool { return c.Params.Get("user_id") == strconv.FormatInt(u.id, 10) })
		until, _ := strconv.ParseInt(mute.Params.Get("until_date"), 10, 64)
		return time.Until(time.Unix(until, 0)).Round(time.Hour)
	}
	deleted := func(msg int) {
		t.Helper()
		f.waitFor("deleteMessage", 1, func(c apiCall) bool {
			return c.Params.Get("chat_id") == chat && c.Params.Get("message_id") == strconv.Itoa(msg)
		})
	}
	card := func(words ...string) string {
		t.Helper()
		return f.waitFor("sendMessage", 1, func(c apiCall) bool {
			text := c.Params.Get("text")
			if c.Params.Get("chat_id") != strconv.FormatInt(deskChat.id, 10) {
				return false
			}
			for _, w := range words {
				if !strings.Contains(text, w) {
					return false
				}
			}
			return true
		}).Params.Get("text")
	}

	t.Run("a forwarded scam", func(t *testing.T) {
		u := tgUser{id: 101, first: "Fred"}
		f.push(map[string]any{"message": with(message(group, 201, u, t0, "FREE NITRO for everyone, claim it now https://claim-nitro.sbs/gift"),
			"forward_origin", map[string]any{"type": "channel", "date": t0 - 3600, "message_id": 9,
				"chat": tgChat{id: -1007, kind: "channel", title: "Crypto Signals", username: "cryptosig"}.json()})})
		deleted(201)
		if d := mutedFor(u); d != time.Hour {
			t.Errorf("muted for %s, want 1h", d)
		}
		// the CM sees the forward, where it came from included (its @ made
		// no mention by a word joiner, which shows nothing)
		card("scam", "Crypto Signals @\u2060cryptosig", "FREE NITRO")
	})

	t.Run("a photo's caption with a scam link", func(t *testing.T) {
		u := tgUser{id: 102, first: "Paula"}
		f.push(map[string]any{"message": with(message(group, 202, u, t0+1, ""), "caption", "Free gift for the first 100: claim it here https://claim-nitro.sbs/gift",
			"photo", []any{map[string]any{"file_id": "p", "file_unique_id": "pu", "width": 90, "height": 90}})})
		deleted(202)
		if d := mutedFor(u); d != time.Hour {
			t.Errorf("muted for %s, want 1h", d)
		}
	})

	t.Run("a text_link hiding a phishing address", func(t *testing.T) {
		u := tgUser{id: 103, first: "Tom"}
		f.push(map[string]any{"message": with(message(group, 203, u, t0+2, "log in on the official Discord site to get your badge"),
			"entities", []any{map[string]any{"type": "text_link", "offset": 13, "length": 21, "url": "https://dіscord.gift/login"}})})
		deleted(203)
		if d := mutedFor(u); d != time.Hour {
			t.Errorf("muted for %s, want 1h", d)
		}
		card("look-alike link: phishing", "dіscord.gift")
	})

	t.Run("a text_link showing the brand before an @", func(t *testing.T) {
		// https://discord.com@185.12.4.77/ leads to 185.12.4.77: what comes
		// before the @ is user info, not the host
		u := tgUser{id: 106, first: "Ivan"}
		f.push(map[string]any{"message": with(message(group, 209, u, t0+8, "your account will be closed, verify it here"),
			"entities", []any{map[string]any{"type": "text_link", "offset": 38, "length": 4, "url": "https://discord.com@185.12.4.77/verify"}})})
		deleted(209)
		if d := mutedFor(u); d != time.Hour {
			t.Errorf("muted for %s, want 1h", d)
		}
		card("look-alike link: phishing", "185.12.4.77")
	})

	t.Run("a name that passes for the staff, on join", func(t *testing.T) {
		u := tgUser{id: 104, first: "Discord", last: "Support", user: "discord_help_desk"}
		f.push(map[string]any{"chat_member": map[string]any{
			"chat": group.json(), "from": u.json(), "date": t0 + 3,
			"old_chat_member": map[string]any{"user": u.json(), "status": "left"},
			"new_chat_member": map[string]any{"user": u.json(), "status": "member"},
		}})
		if d := mutedFor(u); d != time.Hour {
			t.Errorf("muted for %s, want 1h", d)
		}
		card("name that passes for staff", "Discord Support")
		// nothing to delete: a profile event has no message
		if n := f.count("deleteMessage", func(c apiCall) bool { return c.Params.Get("message_id") == "0" }); n != 0 {
			t.Errorf("%d deleteMessage calls for a name", n)
		}
	})

	t.Run("service messages are not judged", func(t *testing.T) {
		u := tgUser{id: 105, first: "Vera"}
		f.push(map[string]any{"message": with(message(group, 205, u, t0+4, ""), "video_chat_started", map[string]any{})})
		f.push(map[string]any{"message": with(message(group, 206, u, t0+5, ""), "video_chat_ended", map[string]any{"duration": 60})})
		f.push(map[string]any{"message": with(message(group, 207, u, t0+6, ""),
			"forum_topic_created", map[string]any{"name": "Free Nitro giveaway", "icon_color": 7322096}, "message_thread_id", 207, "is_topic_message", true)})
		f.push(map[string]any{"message": message(group, 208, u, t0+7, "after the call")})
		judged.waitFor(t, fmtID(group.id, 208))
		for _, id := range []int{205, 206, 207} {
			if judged.has(fmtID(group.id, id)) {
				t.Errorf("service message %d was judged as a message", id)
			}
		}
	})
}

// recorder keeps the ids of the events that went by.
type recorder struct {
	mu  sync.Mutex
	ids []string
}

func (r *recorder) add(ev bot.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, ev.ID)
}

func (r *recorder) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.ids, id)
}

// waitFor waits until the event id went by.
func (r *recorder) waitFor(t *testing.T, id string) {
	t.Helper()
	testsync.Eventually(t, "event "+id, func() bool { return r.has(id) })
}
