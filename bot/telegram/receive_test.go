package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/botapispec"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

var (
	group    = tgChat{id: -1001234567890, kind: "supergroup", title: "Fans"}
	public   = tgChat{id: -1009876543210, kind: "supergroup", title: "Public fans", username: "vigiefans"}
	basic    = tgChat{id: -4001, kind: "group", title: "Old group"}
	deskChat = tgChat{id: -1005555555555, kind: "supergroup", title: "CM desk"}
	// fixtureChats is the chat list of the tests that are not about it: the
	// groups they write in.
	fixtureChats = []int64{group.id, public.id, basic.id}
	bob          = tgUser{id: 7, first: "Bob", last: "Martin", user: "bobm"}
	carol        = tgUser{id: 8, first: "Carol"}
	alice        = tgUser{id: 42, first: "Alice", user: "alice_cm"}
	mallory      = tgUser{id: 666, first: "Mallory"}
	vigieUser    = tgUser{id: botUserID, first: "vigie", user: botName, bot: true}
)

// t0 is the tests' clock, read once at start (Unix seconds): messages' dates,
// restrictions and the handlers' "last night" all agree with it on any date.
var t0 = time.Now().Unix()

func at(unix int64) time.Time { return time.Unix(unix, 0).UTC() }

func TestUpdatesBecomeEvents(t *testing.T) {
	f := newFakeBotAPI(t)
	f.setAdmins(group.id, carol.id)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	knowAdmins(t, c, group.id, public.id, basic.id)
	out := make(chan bot.Event)
	run(t, c, out)

	chatStr := strconv.FormatInt(group.id, 10)
	member := bot.Author{ID: "7", Name: "Bob Martin", Username: "bobm", Roles: []string{"member"}}
	profileID := func(chat int64, user int64, names string) string {
		h := fnv.New64a()
		h.Write([]byte(names))
		return fmt.Sprintf("%d:profile:%d:%x", chat, user, h.Sum64())
	}
	tests := []struct {
		name   string
		update map[string]any
		want   []bot.Event // none: no event
	}{
		{
			name:   "a group message",
			update: map[string]any{"message": message(group, 10, bob, t0, "salut tout le monde")},
			want: []bot.Event{{ID: fmtID(group.id, 10), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Text: "salut tout le monde", At: at(t0), Link: "https://t.me/c/1234567890/10"}},
		},
		{
			name:   "an edit is a new event for the same message",
			update: map[string]any{"edited_message": with(message(group, 10, bob, t0, "salut à tous"), "edit_date", t0+30)},
			want: []bot.Event{{ID: fmtID(group.id, 10) + ":" + strconv.FormatInt(t0+30, 10), Platform: "telegram", Kind: bot.KindEdit,
				Space: chatStr, Channel: chatStr, Author: member, Text: "salut à tous", At: at(t0 + 30), Link: "https://t.me/c/1234567890/10"}},
		},
		{
			name:   "an admin is staff",
			update: map[string]any{"message": message(group, 11, carol, t0+1, "bienvenue")},
			want: []bot.Event{{ID: fmtID(group.id, 11), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: bot.Author{ID: "8", Name: "Carol", Roles: []string{"administrator"}, Staff: true}, Text: "bienvenue", At: at(t0 + 1),
				Link: "https://t.me/c/1234567890/11"}},
		},
		{
			name:   "a public supergroup has public links; a photo's caption is its text",
			update: map[string]any{"message": with(message(public, 12, bob, t0+2, ""), "caption", "regardez", "photo", []any{map[string]any{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}})},
			want: []bot.Event{{ID: fmtID(public.id, 12), Platform: "telegram", Kind: bot.KindMessage, Space: "-1009876543210", Channel: "-1009876543210",
				Author: member, Text: "regardez", Attachments: 1, At: at(t0 + 2), Link: "https://t.me/vigiefans/12"}},
		},
		{
			name: "a reply in a forum topic",
			update: map[string]any{"message": with(message(group, 13, bob, t0+3, "+1"), "message_thread_id", 5, "is_topic_message", true,
				"reply_to_message", message(group, 9, carol, t0, "question"))},
			want: []bot.Event{{ID: fmtID(group.id, 13), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr, Thread: "5",
				Author: member, Text: "+1", ReplyTo: fmtID(group.id, 9), At: at(t0 + 3), Link: "https://t.me/c/1234567890/13"}},
		},
		{
			name: "a new member joins (chat_member)",
			update: map[string]any{"chat_member": map[string]any{
				"chat": group.json(), "from": tgUser{id: 70, first: "Dan"}.json(), "date": t0 + 4,
				"old_chat_member": map[string]any{"user": tgUser{id: 70, first: "Dan"}.json(), "status": "left"},
				"new_chat_member": map[string]any{"user": tgUser{id: 70, first: "Dan"}.json(), "status": "member"},
			}},
			want: []bot.Event{{ID: chatStr + ":join:70:" + strconv.FormatInt(t0+4, 10), Platform: "telegram", Kind: bot.KindJoin, Space: chatStr, Channel: chatStr,
				Author: bot.Author{ID: "70", Name: "Dan", Roles: []string{"member"}, JoinedAt: at(t0 + 4)}, At: at(t0 + 4)},
				{ID: profileID(group.id, 70, "Dan\x00"), Platform: "telegram", Kind: bot.KindProfile, Space: chatStr, Channel: chatStr,
					Author: bot.Author{ID: "70", Name: "Dan", Roles: []string{"member"}, JoinedAt: at(t0 + 4)}, At: at(t0 + 4)}},
		},
		{
			name:   "the same join as a service message is not counted twice",
			update: map[string]any{"message": with(message(group, 14, tgUser{id: 70, first: "Dan"}, t0+4, ""), "new_chat_members", []any{tgUser{id: 70, first: "Dan"}.json()})},
		},
		{
			name:   "a join seen only as a service message",
			update: map[string]any{"message": with(message(basic, 15, tgUser{id: 71, first: "Eve"}, t0+5, ""), "new_chat_members", []any{tgUser{id: 71, first: "Eve"}.json()})},
			want: []bot.Event{{ID: "-4001:15:71", Platform: "telegram", Kind: bot.KindJoin, Space: "-4001", Channel: "-4001",
				Author: bot.Author{ID: "71", Name: "Eve", JoinedAt: at(t0 + 5)}, At: at(t0 + 5), Link: ""},
				{ID: profileID(basic.id, 71, "Eve\x00"), Platform: "telegram", Kind: bot.KindProfile, Space: "-4001", Channel: "-4001",
					Author: bot.Author{ID: "71", Name: "Eve", JoinedAt: at(t0 + 5)}, At: at(t0 + 5)}},
		},
		{
			name:   "a newcomer's message carries the join time",
			update: map[string]any{"message": message(basic, 16, tgUser{id: 71, first: "Eve"}, t0+6, "hello")},
			want: []bot.Event{{ID: "-4001:16", Platform: "telegram", Kind: bot.KindMessage, Space: "-4001", Channel: "-4001",
				Author: bot.Author{ID: "71", Name: "Eve", Roles: []string{"member"}, JoinedAt: at(t0 + 5)}, Text: "hello", At: at(t0 + 6)}},
		},
		{
			name:   "a CM is staff in the groups",
			update: map[string]any{"message": message(group, 21, alice, t0+11, "bonjour à tous")},
			want: []bot.Event{{ID: fmtID(group.id, 21), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: bot.Author{ID: "42", Name: "Alice", Username: "alice_cm", Roles: []string{"member", "cm"}, Staff: true}, Text: "bonjour à tous", At: at(t0 + 11),
				Link: "https://t.me/c/1234567890/21"}},
		},
		{
			name:   "a private message that is not a command",
			update: map[string]any{"message": message(tgChat{id: 7, kind: "private", title: ""}, 17, bob, t0+7, "vos horaires ?")},
			want: []bot.Event{{ID: "7:17", Platform: "telegram", Kind: bot.KindDM, Space: "7", Channel: "7",
				Author: bot.Author{ID: "7", Name: "Bob Martin", Username: "bobm"}, Text: "vos horaires ?", At: at(t0 + 7)}},
		},
		{
			name:   "someone's /start in private is a message, not a refused command",
			update: map[string]any{"message": message(tgChat{id: 7, kind: "private"}, 22, bob, t0+12, "/start")},
			want: []bot.Event{{ID: "7:22", Platform: "telegram", Kind: bot.KindDM, Space: "7", Channel: "7",
				Author: bot.Author{ID: "7", Name: "Bob Martin", Username: "bobm"}, Text: "/start", At: at(t0 + 12)}},
		},
		{
			name: "a forward: its text is the forward's, where it came from is said",
			update: map[string]any{"message": with(message(group, 30, bob, t0+20, "Double your BTC today"), "forward_origin", map[string]any{
				"type": "channel", "date": t0 - 3600, "message_id": 77, "chat": tgChat{id: -1007, kind: "channel", title: "Crypto Signals", username: "cryptosig"}.json()})},
			want: []bot.Event{{ID: fmtID(group.id, 30), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Forward: &bot.Forward{From: "Crypto Signals @cryptosig", Text: "Double your BTC today"}, At: at(t0 + 20),
				Link: "https://t.me/c/1234567890/30"}},
		},
		{
			name: "a forward from a hidden user",
			update: map[string]any{"message": with(message(group, 31, bob, t0+21, "free nitro"), "forward_origin", map[string]any{
				"type": "hidden_user", "date": t0 - 60, "sender_user_name": "Nitro Drops"})},
			want: []bot.Event{{ID: fmtID(group.id, 31), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Forward: &bot.Forward{From: "Nitro Drops", Text: "free nitro"}, At: at(t0 + 21), Link: "https://t.me/c/1234567890/31"}},
		},
		{
			name: "a text_link's target is a hidden link",
			update: map[string]any{"message": with(message(group, 32, bob, t0+22, "the official Discord site"), "entities", []any{
				map[string]any{"type": "text_link", "offset": 4, "length": 8, "url": "https://dlscord.gift/login"},
				map[string]any{"type": "bold", "offset": 0, "length": 3}})},
			want: []bot.Event{{ID: fmtID(group.id, 32), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Text: "the official Discord site", HiddenLinks: []string{"https://dlscord.gift/login"}, At: at(t0 + 22),
				Link: "https://t.me/c/1234567890/32"}},
		},
		{
			name: "a video's caption, its hidden link and a document's name",
			update: map[string]any{"message": with(message(group, 33, bob, t0+23, ""), "caption", "claim here",
				"caption_entities", []any{map[string]any{"type": "text_link", "offset": 0, "length": 5, "url": "https://claim-nitro.sbs/gift"}},
				"video", map[string]any{"file_id": "v", "file_unique_id": "vu", "width": 1, "height": 1, "duration": 3, "file_name": "nitro.mp4"})},
			want: []bot.Event{{ID: fmtID(group.id, 33), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Text: "claim here", HiddenLinks: []string{"https://claim-nitro.sbs/gift"}, Files: []string{"nitro.mp4"},
				Attachments: 1, At: at(t0 + 23), Link: "https://t.me/c/1234567890/33"}},
		},
		{
			name: "a poll's question and options",
			update: map[string]any{"message": with(message(group, 34, bob, t0+24, ""), "poll", map[string]any{
				"id": "p1", "question": "Who wants free nitro?", "total_voter_count": 0, "is_closed": false, "is_anonymous": true,
				"type": "regular", "allows_multiple_answers": false, "allows_revoting": false, "members_only": false,
				"options": []any{map[string]any{"persistent_id": "a", "text": "me", "voter_count": 0}, map[string]any{"persistent_id": "b", "text": "claim-nitro.sbs", "voter_count": 0}}})},
			want: []bot.Event{{ID: fmtID(group.id, 34), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Poll: &bot.Poll{Question: "Who wants free nitro?", Options: []string{"me", "claim-nitro.sbs"}}, Attachments: 1,
				At: at(t0 + 24), Link: "https://t.me/c/1234567890/34"}},
		},
		{
			name: "a contact's name, number and card",
			update: map[string]any{"message": with(message(group, 40, bob, t0+30, ""), "contact", map[string]any{
				"phone_number": "+44 7700 900123", "first_name": "Binance", "last_name": "Support",
				"vcard": "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Binance Support\r\nORG:Wallet Recovery\r\nURL:https://binance-unlock.top\r\nEND:VCARD"})},
			want: []bot.Event{{ID: fmtID(group.id, 40), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Text: "Binance Support\n+44 7700 900123\nWallet Recovery\nhttps://binance-unlock.top", Attachments: 1,
				At: at(t0 + 30), Link: "https://t.me/c/1234567890/40"}},
		},
		{
			name: "a venue's name and address",
			update: map[string]any{"message": with(message(group, 41, bob, t0+31, ""),
				"venue", map[string]any{"location": map[string]any{"latitude": 48.85, "longitude": 2.35}, "title": "Free Nitro HQ", "address": "claim-nitro.sbs/gift"},
				"location", map[string]any{"latitude": 48.85, "longitude": 2.35})},
			want: []bot.Event{{ID: fmtID(group.id, 41), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Text: "Free Nitro HQ\nclaim-nitro.sbs/gift", Attachments: 1,
				At: at(t0 + 31), Link: "https://t.me/c/1234567890/41"}},
		},
		{
			name: "an audio's performer and title, as the player shows them, beside its file's name",
			update: map[string]any{"message": with(message(group, 42, bob, t0+32, ""), "audio", map[string]any{
				"file_id": "a", "file_unique_id": "au", "duration": 30, "performer": "t.me/nitrodrops", "title": "Claim your gift", "file_name": "track.mp3"})},
			want: []bot.Event{{ID: fmtID(group.id, 42), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Files: []string{"track.mp3", "t.me/nitrodrops - Claim your gift"}, Attachments: 1,
				At: at(t0 + 32), Link: "https://t.me/c/1234567890/42"}},
		},
		{
			name: "a quiz's explanation and its hidden link",
			update: map[string]any{"message": with(message(group, 43, bob, t0+33, ""), "poll", map[string]any{
				"id": "p2", "question": "2+2?", "total_voter_count": 0, "is_closed": false, "is_anonymous": true,
				"type": "quiz", "allows_multiple_answers": false, "correct_option_ids": []int{0},
				"description": "Prize draw tonight", "explanation": "Winners claim here", "explanation_entities": []any{map[string]any{"type": "text_link", "offset": 14, "length": 4, "url": "https://claim-nitro.sbs/gift"}},
				"allows_revoting": false, "members_only": false,
				"options": []any{map[string]any{"persistent_id": "a", "text": "4", "voter_count": 0}, map[string]any{"persistent_id": "b", "text": "5", "voter_count": 0}}})},
			want: []bot.Event{{ID: fmtID(group.id, 43), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Poll: &bot.Poll{Question: "2+2?", Description: "Prize draw tonight", Options: []string{"4", "5"}, Explanation: "Winners claim here"},
				HiddenLinks: []string{"https://claim-nitro.sbs/gift"}, Attachments: 1, At: at(t0 + 33), Link: "https://t.me/c/1234567890/43"}},
		},
		{
			name: "a checklist's title and tasks, and a task's hidden link",
			update: map[string]any{"message": with(message(group, 44, bob, t0+34, ""), "checklist", map[string]any{
				"title": "Giveaway steps", "tasks": []any{
					map[string]any{"id": 1, "text": "join t.me/nitrodrops"},
					map[string]any{"id": 2, "text": "claim your gift", "text_entities": []any{map[string]any{"type": "text_link", "offset": 0, "length": 5, "url": "https://steamcommunity.lat/gift"}}}}})},
			want: []bot.Event{{ID: fmtID(group.id, 44), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr,
				Author: member, Text: "Giveaway steps\njoin t.me/nitrodrops\nclaim your gift", HiddenLinks: []string{"https://steamcommunity.lat/gift"},
				At: at(t0 + 34), Link: "https://t.me/c/1234567890/44"}},
		},
		{
			name:   "a member seen under new names: the names are judged, then the message",
			update: map[string]any{"message": message(group, 35, tgUser{id: 7, first: "Discord", last: "Support", user: "bobm"}, t0+25, "hi")},
			want: []bot.Event{
				{ID: profileID(group.id, 7, "Discord Support\x00bobm"), Platform: "telegram", Kind: bot.KindProfile, Space: chatStr, Channel: chatStr,
					Author: bot.Author{ID: "7", Name: "Discord Support", Username: "bobm", Roles: []string{"member"}}, At: at(t0 + 25)},
				{ID: fmtID(group.id, 35), Platform: "telegram", Kind: bot.KindMessage, Space: chatStr, Channel: chatStr, Text: "hi",
					Author: bot.Author{ID: "7", Name: "Discord Support", Username: "bobm", Roles: []string{"member"}}, At: at(t0 + 25),
					Link: "https://t.me/c/1234567890/35"}},
		},
		{name: "a video chat starting is a service message", update: map[string]any{"message": with(message(group, 36, carol, t0+26, ""), "video_chat_started", map[string]any{})}},
		{name: "a forum topic made is a service message", update: map[string]any{"message": with(message(group, 37, carol, t0+27, ""),
			"forum_topic_created", map[string]any{"name": "Giveaways", "icon_color": 7322096}, "message_thread_id", 37, "is_topic_message", true)}},
		{name: "a topic renamed is a service message", update: map[string]any{"message": with(message(group, 38, carol, t0+28, ""),
			"forum_topic_edited", map[string]any{"name": "free nitro"})}},
		{name: "vigie's own messages are skipped", update: map[string]any{"message": message(group, 18, vigieUser, t0+8, "Merci de ralentir")}},
		{name: "the desk chat is not moderated", update: map[string]any{"message": message(deskChat, 19, bob, t0+9, "hello desk")}},
		{name: "service messages are skipped", update: map[string]any{"message": with(message(group, 20, carol, t0+10, ""), "pinned_message", message(group, 10, bob, t0, "x"))}},
	}
	sentinel := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.push(tt.update)
			if len(tt.want) == 0 {
				// Nothing must come out before the next ordinary message.
				sentinel++
				f.push(map[string]any{"message": message(group, 9000+sentinel, carol, t0+100, "sentinel")})
				if ev := testsync.Next(t, out); ev.Text != "sentinel" {
					t.Fatalf("got an event %+v, want none", ev)
				}
				return
			}
			for _, want := range tt.want {
				got := testsync.Next(t, out)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("event\n got %+v\nwant %+v", got, want)
				}
			}
		})
	}

	// The poll confirmed what it read: the last getUpdates asks from after the last update.
	calls := f.callsOf("getUpdates")
	lastOffset, _ := strconv.Atoi(calls[len(calls)-1].Params.Get("offset"))
	if lastOffset == 0 {
		t.Errorf("getUpdates never sent an offset")
	}
	var allowed []string
	if err := json.Unmarshal([]byte(calls[0].Params.Get("allowed_updates")), &allowed); err != nil || !strings.Contains(strings.Join(allowed, ","), "chat_member") {
		t.Errorf("allowed_updates = %q, want chat_member among them", calls[0].Params.Get("allowed_updates"))
	}
	if calls[0].Params.Get("timeout") != "50" {
		t.Errorf("long-poll timeout = %q, want 50", calls[0].Params.Get("timeout"))
	}
}

func TestPollingSkipsRepeatedUpdatesAndWaitsOn429(t *testing.T) {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{Chats: fixtureChats})
	out := make(chan bot.Event, 10)
	f.fail("getUpdates", 429, "Too Many Requests: retry after 1", 1)
	run(t, c, out)

	id := f.push(map[string]any{"message": message(group, 30, bob, t0, "first")})
	if ev := testsync.Next(t, out); ev.Text != "first" {
		t.Fatalf("got %q", ev.Text)
	}
	// The same update_id again, as after a restart that lost the offset.
	f.push(map[string]any{"update_id": id, "message": message(group, 30, bob, t0, "first")})
	f.push(map[string]any{"message": message(group, 31, bob, t0+1, "second")})
	if ev := testsync.Next(t, out); ev.Text != "second" {
		t.Fatalf("got %q, want the repeated update skipped", ev.Text)
	}
	if !strings.Contains(logs.String(), "getUpdates failed") || !strings.Contains(logs.String(), "retry_in=1s") {
		t.Errorf("the 429 was not honoured; logs:\n%s", logs)
	}
}

func TestShutdownIsPrompt(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{PollTimeout: 3 * testsync.Patience, Chats: fixtureChats})
	stop := run(t, c, make(chan bot.Event))
	// The long poll is under way: the fake holds it for three times Patience.
	f.waitFor("getUpdates", 1, nil)
	// stop fails the test if Run has not returned Patience after the cancel.
	stop()
}

func TestRunFailsOnABadToken(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	c.base.Token = "wrong"
	c.cfg.Token = "wrong"
	err := c.Run(context.Background(), make(chan bot.Event))
	if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("Run = %v, want an Unauthorized error", err)
	}
	if want := "telegram: Telegram refused the token (check TELEGRAM_TOKEN"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Run = %v, want it to begin with %q", err, want)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the token leaks in %v", err)
	}
}

func TestWebhook(t *testing.T) {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{Mode: ModeWebhook, WebhookSecret: "s3cret_token", WebhookURL: "https://vigie.example/webhooks/telegram", Chats: fixtureChats})
	h := c.WebhookHandler()
	post := func(secret string, u map[string]any) int {
		body, _ := json.Marshal(u)
		r := httptest.NewRequest(http.MethodPost, "/webhooks/telegram", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		if secret != "" {
			r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	upd := func(id, msg int, text string) map[string]any {
		return map[string]any{"update_id": id, "message": message(group, msg, bob, t0, text)}
	}

	if code := post("s3cret_token", upd(1, 1, "too early")); code != http.StatusServiceUnavailable {
		t.Errorf("before Run: %d, want 503", code)
	}
	out := make(chan bot.Event, 10)
	run(t, c, out)
	set := f.waitFor("setWebhook", 1, nil)
	if set.Params.Get("secret_token") != "s3cret_token" || set.Params.Get("url") != "https://vigie.example/webhooks/telegram" ||
		!strings.Contains(set.Params.Get("allowed_updates"), "chat_member") {
		t.Errorf("setWebhook params = %v", set.Params)
	}
	// Run hands the sink over after setWebhook: wait until the handler takes updates.
	for code := post("s3cret_token", upd(2, 2, "hello")); code != http.StatusOK; code = post("s3cret_token", upd(2, 2, "hello")) {
		if code != http.StatusServiceUnavailable {
			t.Fatalf("webhook answered %d", code)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ev := testsync.Next(t, out); ev.Text != "hello" || ev.ID != fmtID(group.id, 2) {
		t.Fatalf("event = %+v", ev)
	}

	tests := []struct {
		name   string
		method string
		secret string
		want   int
	}{
		{"no secret", http.MethodPost, "", http.StatusForbidden},
		{"wrong secret", http.MethodPost, "guess", http.StatusForbidden},
		{"not a POST", http.MethodGet, "s3cret_token", http.StatusMethodNotAllowed},
		{"larger than 1 MiB", http.MethodPost, "s3cret_token", http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"update_id":50,"message":{"message_id":50,"date":1,"chat":{"id":-1,"type":"group"},"from":{"id":1,"first_name":"x"},"text":"x"}}`
			if tt.want == http.StatusRequestEntityTooLarge {
				body = `{"update_id":50,"pad":"` + strings.Repeat("a", maxWebhookLen) + `"}`
			}
			r := httptest.NewRequest(tt.method, "/webhooks/telegram", strings.NewReader(body))
			if tt.secret != "" {
				r.Header.Set("X-Telegram-Bot-Api-Secret-Token", tt.secret)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d", w.Code, tt.want)
			}
		})
	}
	if !strings.Contains(logs.String(), "wrong secret token") {
		t.Errorf("refused calls are not logged")
	}

	// Telegram retries an update it thinks was lost: it is taken once.
	if code := post("s3cret_token", upd(2, 2, "hello")); code != http.StatusOK {
		t.Errorf("repeated update: %d, want 200", code)
	}
	if code := post("s3cret_token", upd(3, 3, "after")); code != http.StatusOK {
		t.Errorf("next update: %d", code)
	}
	if ev := testsync.Next(t, out); ev.Text != "after" {
		t.Errorf("got %q, want the repeated update skipped", ev.Text)
	}
	if n := f.count("getUpdates", nil); n != 0 {
		t.Errorf("webhook mode polled %d times", n)
	}
}

// TestServiceFieldsAreCurrent checks the service messages vigie skips against
// the Bot API's description: a service message added by a later Bot API must
// be added to serviceFields, or it would be judged as a message.
func TestServiceFieldsAreCurrent(t *testing.T) {
	for _, f := range botapispec.ServiceFields() {
		if f != "new_chat_members" && !slices.Contains(serviceFields, f) {
			t.Errorf("the Bot API's service message %q is not in serviceFields", f)
		}
	}
}

// fencedOffsets refuses commits once lost, as the daemon's lease-guarded
// offsets do when another process polls.
type fencedOffsets struct {
	mu     sync.Mutex
	offset int
	lost   bool
}

func (o *fencedOffsets) Offset(context.Context) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.offset, nil
}

func (o *fencedOffsets) Commit(_ context.Context, n int) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lost {
		return errors.New("lease lost")
	}
	o.offset = n
	return nil
}

// TestPollerCommitsBeforeHandling: the poller starts from the committed
// offset, commits each batch before handling it, and once its commit is
// refused (another process polls now) it stops without handling the batch.
func TestPollerCommitsBeforeHandling(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{PollTimeout: time.Second, Chats: fixtureChats})
	knowAdmins(t, c, group.id)
	offsets := &fencedOffsets{offset: 2000}
	out := make(chan bot.Event, 4)
	f.push(map[string]any{"update_id": 1999, "message": message(group, 1, bob, t0, "handled by a poller before")})
	f.push(map[string]any{"update_id": 2000, "message": message(group, 2, bob, t0, "first")})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.RunPoller(ctx, out, offsets) }()
	defer func() {
		cancel()
		<-done
	}()
	ev := <-out
	if ev.Text != "first" {
		t.Fatalf("first event %q, want the one at the committed offset", ev.Text)
	}
	if got := f.waitFor("getUpdates", 1, nil).Params.Get("offset"); got != "2000" {
		t.Errorf("first getUpdates from offset %s, want the committed 2000", got)
	}
	testsync.Eventually(t, "the batch committed", func() bool { o, _ := offsets.Offset(ctx); return o == 2001 })

	offsets.mu.Lock()
	offsets.lost = true
	offsets.mu.Unlock()
	f.push(map[string]any{"update_id": 2001, "message": message(group, 3, bob, t0, "after the lease was lost")})
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not committed") {
			t.Errorf("RunPoller returned %v, want the refused commit", err)
		}
		done <- nil
	case <-time.After(testsync.Patience):
		t.Fatal("the poller went on after its commit was refused")
	}
	select {
	case ev := <-out:
		t.Errorf("an update was handled after its commit was refused: %q", ev.Text)
	default:
	}
}

// TestSecondPollerConflict: as the Bot API does, a second poller's getUpdates
// ends the first's long poll with 409 (the last poller wins). The first logs
// it and polls again: it neither stops nor loses an update, and has the
// updates again once the second stops, as when a restart overlaps the
// process before it.
func TestSecondPollerConflict(t *testing.T) {
	f := newFakeBotAPI(t)
	first, logs := newTestClient(t, f, Config{PollTimeout: 5 * time.Second, Chats: fixtureChats})
	out1 := make(chan bot.Event, 10)
	run(t, first, out1)
	f.waitFor("getUpdates", 1, nil)
	second, _ := newTestClient(t, f, Config{PollTimeout: 5 * time.Second, Chats: fixtureChats})
	out2 := make(chan bot.Event, 10)
	stopSecond := run(t, second, out2)
	testsync.Eventually(t, "the first poller's 409 logged", func() bool {
		return strings.Contains(logs.String(), "another getUpdates took this bot's updates") &&
			strings.Contains(logs.String(), "terminated by other getUpdates request")
	})
	if f.Conflicts() == 0 {
		t.Errorf("no long poll ended with 409")
	}

	f.push(map[string]any{"message": message(group, 40, bob, t0, "while both poll")})
	select {
	case ev := <-out1:
		if ev.Text != "while both poll" {
			t.Fatalf("first poller: %q", ev.Text)
		}
	case ev := <-out2:
		if ev.Text != "while both poll" {
			t.Fatalf("second poller: %q", ev.Text)
		}
	case <-time.After(testsync.Patience):
		t.Fatal("the update pushed while both polled was lost")
	}
	stopSecond()

	f.push(map[string]any{"message": message(group, 41, bob, t0+1, "after the second stopped")})
	// Two pollers, each with its own offset, may both get an update the
	// other has not confirmed yet: the daemon has one poller at a time,
	// with the offset in the store.
	ev := testsync.Next(t, out1)
	if ev.Text == "while both poll" {
		ev = testsync.Next(t, out1)
	}
	if ev.Text != "after the second stopped" {
		t.Fatalf("first poller after the second stopped: %q", ev.Text)
	}
}

// TestWebhookConflictEndsThePoll: a 409 that says a webhook is set (one set
// since the poller removed it at its start) ends the run, for the daemon's
// restart to remove it again; polling on would be refused for ever.
func TestWebhookConflictEndsThePoll(t *testing.T) {
	for _, desc := range []string{
		"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
		"Conflict: terminated by setWebhook request",
	} {
		t.Run(desc, func(t *testing.T) {
			f := newFakeBotAPI(t)
			c, _ := newTestClient(t, f, Config{PollTimeout: 5 * time.Second, Chats: fixtureChats})
			f.fail("getUpdates", 409, desc, 0)
			err := c.Run(t.Context(), make(chan bot.Event))
			if err == nil || !strings.Contains(err.Error(), "a webhook receives this bot's updates") {
				t.Errorf("Run = %v, want the webhook's 409", err)
			}
		})
	}
}

// A TELEGRAM_API_URL that reaches some other server (a proxy's error page, a
// wrong path) is named, rather than read as an empty Bot API error.
func TestRunSaysWhenTheAPIURLIsNotTheBotAPI(t *testing.T) {
	for _, tt := range []struct {
		name, contentType, body string
		code                    int
	}{
		{"other JSON", "application/json", `{"message": "401: Unauthorized", "code": 0}`, http.StatusUnauthorized},
		{"a web server's page", "text/html", `<html><body>404 Not Found</body></html>`, http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.code)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c, err := New(Config{Token: "123:secret", APIURL: srv.URL, HTTPClient: srv.Client(), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Run(t.Context(), make(chan bot.Event))
			if err == nil || !strings.Contains(err.Error(), srv.URL+" answered") || !strings.Contains(err.Error(), "check TELEGRAM_API_URL") {
				t.Fatalf("Run = %v, want it to name %s and TELEGRAM_API_URL", err, srv.URL)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the token leaks in %v", err)
			}
		})
	}
}
