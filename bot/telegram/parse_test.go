package telegram

import (
	"strings"
	"testing"
	"time"
)

func TestNewChecksTheConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "token only", cfg: Config{Token: "t"}},
		{name: "no token", cfg: Config{}, wantErr: "missing token (TELEGRAM_TOKEN)"},
		{name: "bad mode", cfg: Config{Token: "t", Mode: "push"}, wantErr: `TELEGRAM_MODE "push": want polling or webhook`},
		{name: "webhook without secret", cfg: Config{Token: "t", Mode: ModeWebhook}, wantErr: "webhook mode needs a webhook secret"},
		{name: "webhook secret with bad characters", cfg: Config{Token: "t", Mode: ModeWebhook, WebhookSecret: "a b"}, wantErr: "webhook secret: 1 to 256 characters"},
		{name: "bad CM id", cfg: Config{Token: "t", CMs: []string{"telegram:alice"}}, wantErr: `CM "telegram:alice": want telegram:<numeric user id>`},
		{name: "other platforms' CMs are ignored", cfg: Config{Token: "t", CMs: []string{"discord:alice", "telegram:42"}}},
		{name: "webhook URL without https", cfg: Config{Token: "t", Mode: ModeWebhook, WebhookSecret: "s", WebhookURL: "vigie.example.com/webhooks/telegram"},
			wantErr: `TELEGRAM_WEBHOOK_URL "vigie.example.com/webhooks/telegram": want vigie's public https:// address, like https://vigie.example.com/webhooks/telegram`},
		{name: "webhook URL over plain HTTP", cfg: Config{Token: "t", Mode: ModeWebhook, WebhookSecret: "s", WebhookURL: "http://vigie.example.com/webhooks/telegram"},
			wantErr: `TELEGRAM_WEBHOOK_URL "http://vigie.example.com/webhooks/telegram": want vigie's public https:// address`},
		{name: "webhook registered by hand", cfg: Config{Token: "t", Mode: ModeWebhook, WebhookSecret: "s"}},
		{name: "API URL without scheme", cfg: Config{Token: "t", APIURL: "api.telegram.org"}, wantErr: `TELEGRAM_API_URL "api.telegram.org": want http:// or https://`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Name() != "telegram" {
				t.Errorf("name %q", c.Name())
			}
		})
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text, name, args string
		ok               bool
	}{
		{"/status", "status", "", true},
		{"/pause 2h", "pause", "2h", true},
		{"/Pause@Vigie_Test_Bot  2h ", "pause", "2h", true},
		{"/status@other_bot", "", "", false},
		{"/reply c1 Merci beaucoup", "reply", "c1 Merci beaucoup", true},
		{"/reply\nc1 hello", "reply", "c1 hello", true},
		{"status", "", "", false},
		{"/", "", "", false},
	}
	for _, tt := range tests {
		name, args, ok := parseCommand(tt.text, botName)
		if name != tt.name || args != tt.args || ok != tt.ok {
			t.Errorf("parseCommand(%q) = %q, %q, %v; want %q, %q, %v", tt.text, name, args, ok, tt.name, tt.args, tt.ok)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2h", 2 * time.Hour, true},
		{"90s", 90 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"1d", 24 * time.Hour, true},
		{"2d12h", 60 * time.Hour, true},
		{"7D", 7 * 24 * time.Hour, true},
		{"0s", 0, false},
		{"-1h", 0, false},
		{"soon", 0, false},
		{"d", 0, false},
		{"1000d", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q) = %s, %v; want %s ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseCallback(t *testing.T) {
	tests := []struct {
		data, id, button string
		ok               bool
	}{
		{"v1:c1:keep", "c1", "keep", true},
		{"v1:1732190000000-0:mute", "1732190000000-0", "mute", true},
		{"v1:a:b:ban", "a:b", "ban", true},
		{"v2:c1:keep", "", "", false},
		{"v1::keep", "", "", false},
		{"v1:c1", "", "", false},
	}
	for _, tt := range tests {
		id, button, ok := parseCallback(tt.data)
		if id != tt.id || button != tt.button || ok != tt.ok {
			t.Errorf("parseCallback(%q) = %q, %q, %v", tt.data, id, button, ok)
		}
	}
}

func TestPromptCase(t *testing.T) {
	if id, ok := promptCase("✍️ Alice, answer this message with the text to send.\nCase: 1732-0"); !ok || id != "1732-0" {
		t.Errorf("got %q, %v", id, ok)
	}
	if _, ok := promptCase("Reply sent for case c3."); ok {
		t.Errorf("an ordinary message of vigie's was read as a prompt")
	}
}

func FuzzDecodeUpdate(f *testing.F) {
	f.Add([]byte(`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":-1,"type":"group"},"from":{"id":1,"first_name":"x"},"text":"x","message_thread_id":3,"is_topic_message":true}}`))
	f.Add([]byte(`{"update_id":2,"chat_member":{"chat":{"id":-1,"type":"supergroup"},"from":{"id":1},"date":1,"old_chat_member":{"status":"left","user":{"id":2}},"new_chat_member":{"status":"member","user":{"id":2}}}}`))
	f.Add([]byte(`{"update_id":3,"callback_query":{"id":"q","from":{"id":1},"data":"v1:c:keep"}}`))
	f.Add([]byte(`{"update_id":4,"message":{"message_id":1,"date":1,"chat":{"id":-1,"type":"supergroup"},"from":{"id":1,"first_name":"x"},"caption":"see","caption_entities":[{"type":"text_link","offset":0,"length":3,"url":"https://x.example"}],"forward_origin":{"type":"channel","date":1,"message_id":2,"chat":{"id":-5,"type":"channel","title":"News"}},"poll":{"id":"p","question":"q","options":[{"text":"a"}]},"document":{"file_id":"d","file_unique_id":"u","file_name":"a.exe"}}}`))
	f.Add([]byte(`{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":-1,"type":"supergroup"},"from":{"id":1,"first_name":"x"},"forum_topic_created":{"name":"t","icon_color":1}}}`))
	f.Add([]byte(`[]`))
	// Nothing listens there: the admins' list is simply unknown.
	c, err := New(Config{Token: "t", DeskChat: -5, APIURL: "http://127.0.0.1:1"})
	if err != nil {
		f.Fatal(err)
	}
	c.selfName.Store("vigie_bot")
	f.Fuzz(func(t *testing.T, raw []byte) {
		u, err := decodeUpdate(raw)
		if err != nil {
			return
		}
		// Whatever Telegram sends, turning it into events must not panic, and
		// every event must be a valid one.
		for _, ev := range c.events(u) {
			if err := ev.Validate(); err != nil {
				t.Errorf("invalid event %+v: %v", ev, err)
			}
		}
	})
}
