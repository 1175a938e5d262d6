package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// sameEvent compares events, their times as instants.
func sameEvent(t *testing.T, got, want bot.Event) {
	t.Helper()
	if want.At.IsZero() {
		want.At = got.At // stamped when it came: the gateway gives no time
	}
	if !got.At.Equal(want.At) || !got.Author.JoinedAt.Equal(want.Author.JoinedAt) || !got.Author.CreatedAt.Equal(want.Author.CreatedAt) {
		t.Errorf("times: at %s joined %s created %s, want %s %s %s", got.At, got.Author.JoinedAt, got.Author.CreatedAt,
			want.At, want.Author.JoinedAt, want.Author.CreatedAt)
	}
	got.At, want.At = time.Time{}, time.Time{}
	got.Author.JoinedAt, got.Author.CreatedAt, want.Author.JoinedAt, want.Author.CreatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event\n got %s\nwant %s", show(got), show(want))
	}
}

func show(ev bot.Event) string {
	b, _ := json.Marshal(ev)
	return string(b)
}

// profileID is the id of the profile event of user with names (name NUL username).
func profileID(user, names string) string {
	h := fnv.New64a()
	h.Write([]byte(names))
	return "profile-" + guildID + "-" + user + "-" + strconv.FormatUint(h.Sum64(), 16)
}

func TestEventsIn(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{StaffRoles: []string{"moderator"}, ShardID: 1, ShardCount: 2, Guilds: []string{guildID}})
	out := make(chan bot.Event, 16)
	run(t, f, c, out, allPerms)

	identify := f.Identify()
	if got := fmt.Sprint(identify["shard"]); got != "[1 2]" {
		t.Errorf("IDENTIFY shard = %s, want [1 2]", got)
	}
	if got := identify["intents"].(float64); int64(got) != int64(Intents) || int64(got)&(1<<15) == 0 || int64(got)&(1<<1) == 0 {
		t.Errorf("IDENTIFY intents = %v, want %d with MESSAGE_CONTENT and GUILD_MEMBERS", got, Intents)
	}
	if identify["token"] != "Bot test-token" {
		t.Errorf("IDENTIFY token = %v", identify["token"])
	}

	at := t0.Add(time.Minute)
	edited := at.Add(time.Minute)
	editOf := func(id, text string, when time.Time) map[string]any {
		m := message(id, general, bob, at, text)
		m["edited_timestamp"] = when.Format(time.RFC3339Nano)
		return m
	}

	tests := []struct {
		name string
		typ  string
		d    map[string]any
		want bot.Event
		then []bot.Event // the events that come after want
	}{
		{"message", "MESSAGE_CREATE", message("1001", general, bob, at, "salut"), bot.Event{
			ID: "1001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Text: "salut", At: at,
			Author: bot.Author{ID: bob.id, Name: "Bob", Username: "bob", CreatedAt: t0.AddDate(-2, 0, 0), JoinedAt: at.Add(-24 * time.Hour)},
			Link:   "https://discord.com/channels/" + guildID + "/" + general + "/1001"}, nil},
		{"in a thread", "MESSAGE_CREATE", message("1002", threadID, mallory, at, "hi"), bot.Event{
			ID: "1002", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Thread: threadID, Text: "hi", At: at,
			Author: bot.Author{ID: mallory.id, Name: "Mallory", Username: "mallory", Roles: []string{"VIP"}, CreatedAt: t0.AddDate(-1, 0, 0), JoinedAt: at.Add(-24 * time.Hour)},
			Link:   "https://discord.com/channels/" + guildID + "/" + threadID + "/1002"}, nil},
		{"a reply from staff", "MESSAGE_CREATE", func() map[string]any {
			m := message("1004", general, mod, at, "calm down")
			m["message_reference"] = map[string]any{"type": 0, "message_id": "1001", "channel_id": general}
			m["type"] = 19
			return m
		}(), bot.Event{
			ID: "1004", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Text: "calm down", At: at, ReplyTo: "1001",
			Author: bot.Author{ID: mod.id, Name: "Mo", Username: "mo", Roles: []string{"Moderator"}, Staff: true, CreatedAt: t0.AddDate(-3, 0, 0), JoinedAt: at.Add(-24 * time.Hour)},
			Link:   "https://discord.com/channels/" + guildID + "/" + general + "/1004"}, nil},
		{"an edit", "MESSAGE_UPDATE", editOf("1001", "salut idiot", edited), bot.Event{
			ID: fmt.Sprintf("1001@%d", edited.UnixMilli()), Platform: "discord", Kind: bot.KindEdit, Space: guildID, Channel: general, Text: "salut idiot", At: edited,
			Author: bot.Author{ID: bob.id, Name: "Bob", Username: "bob", CreatedAt: t0.AddDate(-2, 0, 0), JoinedAt: at.Add(-24 * time.Hour)},
			Link:   "https://discord.com/channels/" + guildID + "/" + general + "/1001"}, nil},
		{"a join", "GUILD_MEMBER_ADD", memberObject(newbie, nil, at), bot.Event{
			ID: fmt.Sprintf("join-%s-%s-%d", guildID, newbie.id, at.UnixMilli()), Platform: "discord", Kind: bot.KindJoin, Space: guildID, At: at,
			Author: bot.Author{ID: newbie.id, Name: "Newbie", Username: "newbie", CreatedAt: t0.Add(-time.Hour), JoinedAt: at}},
			[]bot.Event{{ID: profileID(newbie.id, "Newbie\x00newbie"), Platform: "discord", Kind: bot.KindProfile, Space: guildID, At: at,
				Author: bot.Author{ID: newbie.id, Name: "Newbie", Username: "newbie", CreatedAt: t0.Add(-time.Hour), JoinedAt: at}}}},
		{"a forward: the snapshot's text, embeds and files, where it came from", "MESSAGE_CREATE", func() map[string]any {
			m := message("1005", general, bob, at, "")
			m["message_reference"] = map[string]any{"type": 1, "message_id": "777", "channel_id": threadID, "guild_id": guildID}
			snap := message("777", threadID, mallory, at.Add(-time.Hour), "FREE NITRO for everyone")
			for _, k := range []string{"id", "channel_id", "guild_id", "author", "member", "pinned", "mention_everyone", "tts"} {
				delete(snap, k)
			}
			snap["embeds"] = []any{map[string]any{"type": "rich", "title": "Nitro gift", "url": "https://claim-nitro.sbs/gift",
				"fields": []any{map[string]any{"name": "expires", "value": "in 1 hour", "inline": false}}}}
			snap["attachments"] = []any{map[string]any{"id": "5", "filename": "nitro-claim.exe", "size": 1, "url": "https://cdn.example/5", "proxy_url": "https://media.example/5"}}
			m["message_snapshots"] = []any{map[string]any{"message": snap}}
			return m
		}(), bot.Event{
			ID: "1005", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, At: at, Attachments: 1,
			Forward: &bot.Forward{From: "#a thread", Text: "FREE NITRO for everyone"},
			Embeds:  []bot.Embed{{Title: "Nitro gift", URL: "https://claim-nitro.sbs/gift", Fields: []bot.EmbedField{{Name: "expires", Value: "in 1 hour"}}}},
			Files:   []string{"nitro-claim.exe"},
			Author:  bot.Author{ID: bob.id, Name: "Bob", Username: "bob", CreatedAt: t0.AddDate(-2, 0, 0), JoinedAt: at.Add(-24 * time.Hour)},
			Link:    "https://discord.com/channels/" + guildID + "/" + general + "/1005"}, nil},
		{"a message's embed, attachment and poll", "MESSAGE_CREATE", func() map[string]any {
			m := message("1006", general, bob, at, "look")
			m["embeds"] = []any{map[string]any{"type": "link", "title": "Steam gift", "description": "Claim your gift", "url": "https://steamcommunity.lat/gift"}}
			m["attachments"] = []any{map[string]any{"id": "6", "filename": "gift.png", "size": 1, "url": "https://cdn.example/6", "proxy_url": "https://media.example/6"}}
			m["poll"] = map[string]any{"question": map[string]any{"text": "Who wants a gift?"}, "allow_multiselect": false, "layout_type": 1,
				"expiry": at.Add(time.Hour).Format(time.RFC3339), "results": map[string]any{"is_finalized": false, "answer_counts": []any{}},
				"answers": []any{map[string]any{"answer_id": 1, "poll_media": map[string]any{"text": "me"}}}}
			return m
		}(), bot.Event{
			ID: "1006", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Text: "look", At: at, Attachments: 1,
			Embeds: []bot.Embed{{Title: "Steam gift", Description: "Claim your gift", URL: "https://steamcommunity.lat/gift"}},
			Files:  []string{"gift.png"}, Poll: &bot.Poll{Question: "Who wants a gift?", Options: []string{"me"}},
			Author: bot.Author{ID: bob.id, Name: "Bob", Username: "bob", CreatedAt: t0.AddDate(-2, 0, 0), JoinedAt: at.Add(-24 * time.Hour)},
			Link:   "https://discord.com/channels/" + guildID + "/" + general + "/1006"}, nil},
		{"a new nickname is a profile event", "GUILD_MEMBER_UPDATE", memberObject(newbie, "Discord Support", at), bot.Event{
			ID: profileID(newbie.id, "Discord Support\x00newbie"), Platform: "discord", Kind: bot.KindProfile, Space: guildID, At: time.Time{},
			Author: bot.Author{ID: newbie.id, Name: "Discord Support", Username: "newbie", CreatedAt: t0.Add(-time.Hour), JoinedAt: at}}, nil},
	}
	// Left out: a bot, a webhook (whatever name and id it shows: one posting
	// as a moderator is neither judged nor taken for them), a link preview
	// update (no edited_timestamp), a DM, vigie itself.
	skipped := []struct {
		typ string
		d   map[string]any
	}{
		{"MESSAGE_CREATE", message("2001", general, robot, at, "beep")},
		{"MESSAGE_CREATE", func() map[string]any {
			m := message("2004", general, mod, at, "/vigie pause")
			m["webhook_id"] = "900000000000000001"
			delete(m, "member")
			return m
		}()},
		{"MESSAGE_UPDATE", message("1001", general, bob, at, "salut")},
		{"MESSAGE_CREATE", func() map[string]any { m := message("2002", general, bob, at, "dm"); delete(m, "guild_id"); return m }()},
		{"MESSAGE_CREATE", message("2003", general, user{id: botID, name: "vigie"}, at, "my own")},
	}
	for _, s := range skipped {
		f.Dispatch(s.typ, s.d)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Dispatch(tt.typ, tt.d)
			for _, want := range append([]bot.Event{tt.want}, tt.then...) {
				sameEvent(t, testsync.Next(t, out), want)
			}
		})
	}
	t.Run("an update of roles leaves the names as they were: no profile event", func(t *testing.T) {
		m := memberObject(newbie, "Discord Support", at)
		m["roles"] = []string{vipRole}
		f.Dispatch("GUILD_MEMBER_UPDATE", m)
		f.Dispatch("MESSAGE_CREATE", message("1007", general, bob, at, "sentinel"))
		if ev := testsync.Next(t, out); ev.ID != "1007" {
			t.Errorf("got %s, want the sentinel message", show(ev))
		}
	})
	select {
	case ev := <-out:
		t.Errorf("unexpected event %+v", ev)
	default:
	}

	t.Run("the same edit again has the same id, a new edit a new one", func(t *testing.T) {
		f.Dispatch("MESSAGE_UPDATE", editOf("1001", "salut idiot", edited))
		again := testsync.Next(t, out)
		f.Dispatch("MESSAGE_UPDATE", editOf("1001", "salut toi", edited.Add(time.Second)))
		next := testsync.Next(t, out)
		if again.ID != fmt.Sprintf("1001@%d", edited.UnixMilli()) || next.ID == again.ID || messageID(next) != "1001" {
			t.Errorf("edit ids %q then %q", again.ID, next.ID)
		}
	})

	t.Run("heartbeats are sent and acknowledged", func(t *testing.T) {
		testsync.Eventually(t, "a heartbeat", func() bool { return f.Heartbeats() >= 1 })
	})

	if !strings.Contains(logs.String(), "permissions checked") {
		t.Errorf("no permission check logged:\n%s", logs)
	}
}

func TestPermissionCheck(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 1)
	// No Moderate Members, no Ban Members.
	run(t, f, c, out, allPerms&^(1<<40)&^(1<<2))
	// The state has the guild before vigie's own handler ran.
	testsync.Eventually(t, "two \"missing in guild\" logs", func() bool { return strings.Count(logs.String(), "missing in guild") >= 2 })
	for _, want := range []string{
		"Moderate Members missing in guild Gamers (" + guildID + "): timeout will fail",
		"Ban Members missing in guild Gamers (" + guildID + "): ban and unban will fail",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs.String(), "Kick Members missing") {
		t.Errorf("Kick Members reported missing:\n%s", logs)
	}
}

func TestMissingPermissions(t *testing.T) {
	tests := []struct {
		perms int64
		want  []string
	}{
		{allPerms, nil},
		{1 << 3, nil}, // Administrator
		{allPerms &^ (1 << 13), []string{"Manage Messages"}},
		{allPerms &^ (1 << 38), []string{"Send Messages in Threads"}},
		{0, []string{"View Channels", "Send Messages", "Read Message History", "Send Messages in Threads", "Manage Messages", "Moderate Members", "Kick Members", "Ban Members", "Manage Roles", "Manage Nicknames", "Manage Threads"}},
	}
	for _, tt := range tests {
		got, _ := missingPermissions(tt.perms)
		if !slices.Equal(got, tt.want) {
			t.Errorf("missingPermissions(%b) = %v, want %v", tt.perms, got, tt.want)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no token", Config{}, "discord: missing token (DISCORD_TOKEN)"},
		{"bad shard", Config{Token: "x", APIURL: testAPIURL, ShardID: 2, ShardCount: 2}, "discord: shard 2 of 2: want 0 <= shard id < shard count"},
		{"bad URL", Config{Token: "x", APIURL: "discord.com"}, `discord: DISCORD_API_URL "discord.com": want http:// or https://`},
		{"another API", Config{Token: "x", APIURL: "https://other.example/api/v9"}, `discord: API URL "https://other.example/api/v9": this process already uses "http://discord.test/api/v9/" (discordgo's endpoints are process-wide)`},
		{"bad CM", Config{Token: "x", APIURL: testAPIURL, CMs: []string{"discord:alice"}}, `discord: CM "discord:alice": want discord:<numeric user id>`},
		{"bad guild", Config{Token: "x", APIURL: testAPIURL, Guilds: []string{"Gamers"}}, `discord: guild "Gamers": want a numeric guild id`},
		{"long clean-up", Config{Token: "x", APIURL: testAPIURL, BanDeleteWindow: 8 * 24 * time.Hour}, "discord: ban clean-up window 192h0m0s: want 0 to 7d"},
	}
	// The test binary's API address is set first, as the daemon would.
	if _, err := New(Config{Token: "x", APIURL: testAPIURL}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"DISCORD_TOKEN": "tok", "DISCORD_API_URL": testAPIURL, "DISCORD_SHARD_ID": "1", "DISCORD_SHARD_COUNT": "4",
		"DISCORD_STAFF_ROLES": "Moderator, Admin", "DISCORD_MODERATOR_ROLES": "Moderator", "DISCORD_DESK_CHANNEL": deskID,
		"DISCORD_WARN_DM": "true", "DISCORD_BAN_DELETE": "1d", "DISCORD_GUILDS": guildID + ", 810000000000000001",
	}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Token != "tok" || cfg.ShardID != 1 || cfg.ShardCount != 4 || !slices.Equal(cfg.StaffRoles, []string{"Moderator", "Admin"}) ||
		!slices.Equal(cfg.ModeratorRoles, []string{"Moderator"}) || cfg.DeskChannel != deskID || !cfg.WarnByDM || cfg.BanDeleteWindow != 24*time.Hour ||
		!slices.Equal(cfg.Guilds, []string{guildID, "810000000000000001"}) {
		t.Errorf("config = %+v", cfg)
	}
	env["DISCORD_SHARD_COUNT"] = "four"
	if _, err := ConfigFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "DISCORD_SHARD_COUNT") {
		t.Errorf("bad shard count: %v", err)
	}
	env["DISCORD_SHARD_COUNT"] = "4"
	env["DISCORD_DESK_CHANNEL"] = "#mod-desk" // the channel's name, not its id
	if _, err := ConfigFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), `DISCORD_DESK_CHANNEL "#mod-desk": want the channel's id`) {
		t.Errorf("a desk channel by name: %v", err)
	}
}

// TestSilentGateway: a gateway that accepts the connection and never says a word
// neither holds a shutdown nor keeps Run waiting past its deadline.
func TestSilentGateway(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		cancel  bool
		wantErr string
	}{
		{"shutdown while connecting", time.Hour, true, ""},
		{"no first words in time", 50 * time.Millisecond, false, "discord: connect to the gateway:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := discordfake.New(t, discordfake.Options{Silent: true})
			c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
			c.gw.timeout = tt.timeout
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, make(chan bot.Event)) }()
			if tt.cancel {
				testsync.Eventually(t, "the gateway connection", func() bool { return f.Connections() > 0 })
				cancel()
			}
			select {
			case err := <-done:
				if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Errorf("Run = %v, want %q", err, tt.wantErr)
				}
			case <-time.After(testsync.Patience):
				t.Fatal("Run still waiting for the gateway")
			}
		})
	}
}

// TestShutdownHandsOverReceivedEvents: the events the gateway delivered before a
// shutdown still reach the rules (Discord does not send them again), and what the
// drain timeout leaves is named in the log.
func TestShutdownHandsOverReceivedEvents(t *testing.T) {
	tests := []struct {
		name    string
		read    int
		drain   time.Duration
		wantLog string
	}{
		{"everything received is handed over", 3, time.Minute, "Discord events received before shutdown handed over"},
		{"what the drain timeout leaves is logged by id", 0, time.Millisecond, "3 Discord events received but not evaluated before shutdown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDiscord(t)
			reg := prometheus.NewRegistry()
			c, logs := newTestClient(t, f, Config{DrainTimeout: tt.drain, Registerer: reg, Guilds: []string{guildID}})
			// Nobody reads out: the rules are busy.
			out := make(chan bot.Event)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, out) }()
			<-f.Ready()
			f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
			for i := range 3 {
				f.Dispatch("MESSAGE_CREATE", message(snowflake(t0, 100+i), general, bob, t0, "hello"))
			}
			// One waits to be taken, two behind it.
			testsync.Eventually(t, "three events counted, two queued", func() bool { return metric(t, reg, "vigie_discord_events_total") == 3 && len(c.queue) == 2 })
			if got := metric(t, reg, "vigie_discord_queue_length"); got != 2 {
				t.Errorf("vigie_discord_queue_length = %v", got)
			}
			if got := metric(t, reg, "vigie_discord_gateway_connected"); got != 1 {
				t.Errorf("vigie_discord_gateway_connected = %v", got)
			}
			cancel()
			var ids []string
			for range tt.read {
				ids = append(ids, testsync.Next(t, out).ID)
			}
			if err := <-done; err != nil {
				t.Fatalf("Run = %v", err)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("logs lack %q:\n%s", tt.wantLog, logs.String())
			}
			if tt.read == 0 && !strings.Contains(logs.String(), "discord:"+snowflake(t0, 100)) {
				t.Errorf("the lost events are not named:\n%s", logs.String())
			}
		})
	}
}

// metric sums the series of a counter or gauge of reg; -1 when it has none.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
			return sum
		}
	}
	return -1
}

// TestGatewayRefusesTheIntents: a bot whose Message Content Intent is not
// turned on in the Developer Portal is refused by the gateway (close 4014);
// Run fails saying what to turn on, and where, rather than the bare close,
// and asks for a long wait before the next try.
// So does a token the gateway refuses (4004: reset since the REST API took
// it), and a bot grown too big for one connection (4011, Sharding required).
func TestGatewayRefusesTheIntents(t *testing.T) {
	for _, tt := range []struct {
		name       string
		disallowed int
		token      string
		revoked    bool // refused by REST too, from the start: a wrong DISCORD_TOKEN
		shards     int  // the least Discord takes
		want       []string
	}{
		{"intents", 1 << 15, "", false, 0, []string{"4014", "Message Content Intent", "Developer Portal"}},
		{"token", 0, "Bot reset-since", false, 0, []string{"4004", "Discord refused the token (check DISCORD_TOKEN"}},
		{"wrong token", 0, "", true, 0, []string{"HTTP 401 Unauthorized", "Discord refused the token (check DISCORD_TOKEN"}},
		{"sharding required", 0, "", false, 2, []string{"4011", "Discord requires shards", "DISCORD_SHARD_COUNT=auto"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}, DisallowedIntents: tt.disallowed, Shards: tt.shards})
			c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
			if tt.token != "" {
				c.sess.Identify.Token = tt.token
			}
			if tt.revoked {
				f.RevokeToken()
			}
			done := make(chan error, 1)
			go func() { done <- c.Run(context.Background(), make(chan bot.Event)) }()
			select {
			case err := <-done:
				for _, want := range tt.want {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("Run = %v; want %q in it", err, want)
					}
				}
				// Nothing changes until someone acts: the next try waits
				// refusedRetry, not the supervisor's minute, which would
				// start some 1,440 sessions a day where Discord resets the
				// token of a bot that starts 1,000.
				var ae *bot.ActionError
				if !errors.As(err, &ae) || ae.RetryAfter != refusedRetry || refusedRetry < 10*time.Minute {
					t.Errorf("Run = %#v; want an ActionError asking for a wait of %s", err, refusedRetry)
				}
			case <-time.After(testsync.Patience):
				t.Fatal("Run did not return")
			}
		})
	}
}

// TestRemovedFromAGuild: a GUILD_DELETE without unavailable says vigie was
// kicked from the guild (or the guild deleted): nothing is moderated there
// until it is invited again, which will not happen by itself. An error with
// audit=true, the guild among the troubles /healthz lists, and a message on
// the desk, once; when vigie is invited back (GUILD_CREATE), the trouble
// goes and the desk is told. One with unavailable is an outage of
// Discord's, the guild comes back: nothing said.
func TestRemovedFromAGuild(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}, DeskChannel: deskID})
	run(t, f, c, make(chan bot.Event, 4), allPerms)
	f.Dispatch("GUILD_DELETE", map[string]any{"id": guildID, "unavailable": true})
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	f.Dispatch("GUILD_DELETE", map[string]any{"id": guildID})
	f.Dispatch("GUILD_DELETE", map[string]any{"id": guildID}) // Discord may say it again
	testsync.Eventually(t, "the removal told", func() bool {
		return strings.Contains(logs.String(), "vigie was removed from a guild it moderates")
	})
	testsync.Eventually(t, "the desk told of the removal", func() bool { return deskMessages(f, "vigie was removed from the server Gamers") >= 1 })
	if n := strings.Count(logs.String(), "vigie was removed from a guild"); n != 1 {
		t.Errorf("told %d times, want once (the outage is not a removal):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "name=Gamers") || !strings.Contains(logs.String(), "audit=true") {
		t.Errorf("the removal is not an error naming the guild, or is not audited:\n%s", logs.String())
	}
	if got := c.Troubles(); len(got) != 1 || !strings.Contains(got[0], guildID) || !strings.Contains(got[0], "invite it again") {
		t.Errorf("troubles after the removal = %q, want the guild", got)
	}

	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	testsync.Eventually(t, "the desk told vigie is back", func() bool { return deskMessages(f, "vigie is back in the server Gamers") == 1 })
	if got := c.Troubles(); len(got) != 0 {
		t.Errorf("troubles once vigie is back = %q, want none", got)
	}
	if n := deskMessages(f, "vigie was removed from the server"); n != 1 {
		t.Errorf("the desk was told of the removal %d times, want once", n)
	}
}

// TestNotInAListedGuild: vigie connects and READY does not name a guild it
// is listed to moderate (it was removed while it was not connected: a
// restart, its shard run by another process; or it was never invited).
// Nothing there is moderated: as for a removal seen, an error with
// audit=true, the guild among the troubles /healthz lists, and a message
// on the desk, once; once vigie is in it (GUILD_CREATE), the trouble goes.
// The listed guilds of another shard are that shard's to tell.
func TestNotInAListedGuild(t *testing.T) {
	const gone = "111111111111111111"
	otherShard := ""
	for id := uint64(1) << 22; otherShard == ""; id += 1 << 22 {
		if s := strconv.FormatUint(id, 10); ShardOf(s, 2) != ShardOf(guildID, 2) {
			otherShard = s
		}
	}
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}, Shards: 2})
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID, gone, otherShard}, DeskChannel: deskID,
		ShardID: ShardOf(guildID, 2), ShardCount: 2})
	if ShardOf(gone, 2) != ShardOf(guildID, 2) {
		t.Fatalf("the test's guild %s is not on the shard of %s", gone, guildID)
	}
	run(t, f, c, make(chan bot.Event, 4), allPerms)
	testsync.Eventually(t, "the desk told", func() bool { return deskMessages(f, "vigie is not in the server "+gone) == 1 })
	if n := strings.Count(logs.String(), "vigie is not in a guild it moderates"); n != 1 ||
		!strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "audit=true") {
		t.Errorf("told %d times, want once, an audited error:\n%s", n, logs.String())
	}
	if got := c.Troubles(); len(got) != 1 || !strings.Contains(got[0], gone) || !strings.Contains(got[0], "invite it") {
		t.Errorf("troubles = %q, want the guild vigie is not in", got)
	}
	if deskMessages(f, otherShard) != 0 || strings.Contains(logs.String(), otherShard) {
		t.Errorf("the other shard's guild %s was told by this shard", otherShard)
	}

	g := guildCreate(allPerms)
	g["id"], g["name"] = gone, "Latecomers"
	for _, r := range g["roles"].([]any) {
		if m := r.(map[string]any); m["id"] == guildID {
			m["id"] = gone
		}
	}
	for _, ch := range g["channels"].([]any) {
		ch.(map[string]any)["guild_id"] = gone
	}
	g["channels"] = []any{}
	g["threads"] = []any{}
	f.Dispatch("GUILD_CREATE", g)
	testsync.Eventually(t, "the desk told vigie is in", func() bool { return deskMessages(f, "vigie is back in the server Latecomers") == 1 })
	if got := c.Troubles(); len(got) != 0 {
		t.Errorf("troubles once vigie is in = %q, want none", got)
	}
}

// TestTroublesGoWithTheShard: a process whose shard goes to another one
// (its Run stopped: the shard's lease lost) no longer sees its guilds, nor
// a GUILD_CREATE when vigie is invited back: the troubles it listed go with
// the shard, for the process that runs it next to find at its READY,
// rather than stay on this one's /healthz until it stops.
func TestTroublesGoWithTheShard(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}, DeskChannel: deskID})
	stop := run(t, f, c, make(chan bot.Event, 4), allPerms)
	f.Dispatch("GUILD_DELETE", map[string]any{"id": guildID})
	testsync.Eventually(t, "the removal told", func() bool {
		return strings.Contains(logs.String(), "vigie was removed from a guild it moderates")
	})
	if got := c.Troubles(); len(got) != 1 {
		t.Fatalf("troubles after the removal = %q, want the guild", got)
	}
	stop()
	testsync.Eventually(t, "Run stopped", func() bool { return !c.running.Load() })
	if got := c.Troubles(); len(got) != 0 {
		t.Errorf("troubles once the shard is no longer run here = %q, want none", got)
	}
}
