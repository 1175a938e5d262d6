package discordspec

import (
	"net/url"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		method, path string
		query        url.Values
		body         string
		want         string // "" is accepted
	}{
		{"DELETE", "/channels/800000000000000010/messages/900000000000000001", nil, "", ""},
		{"DELETE", "/channels/general/messages/9", nil, "", `does not match`},
		{"DELETE", "/channels/1/messages/2/everything", nil, "", "no route"},
		{"PUT", "/channels/1/messages/2", nil, "", "method not allowed"},
		{"PATCH", "/guilds/1/members/2", nil, `{"communication_disabled_until":"2026-12-03T00:10:00Z"}`, ""},
		{"PATCH", "/guilds/1/members/2", nil, `{"timeout_until":"2026-12-03T00:10:00Z"}`, `unknown field "timeout_until"`},
		{"PATCH", "/guilds/1/members/2", nil, `{"mute":"yes"}`, `is not boolean`},
		{"PUT", "/guilds/1/bans/2", nil, `{"delete_message_seconds":3600}`, ""},
		{"PUT", "/guilds/1/bans/2", nil, `{"delete_message_seconds":604800}`, ""},
		{"PUT", "/guilds/1/bans/2", nil, `{"delete_message_seconds":604801}`, "above the maximum 604800"},
		{"PUT", "/guilds/1/bans/2", nil, `{"delete_message_seconds":-1}`, "below the minimum 0"},
		{"POST", "/channels/1/messages", nil, `{"content":"` + strings.Repeat("é", 4000) + `"}`, ""},
		{"POST", "/channels/1/messages", nil, `{"content":"` + strings.Repeat("é", 4001) + `"}`, "longer than 4000 characters"},
		{"POST", "/channels/1/messages", nil, `{"content":"hi","components":[{"type":1,"components":[{"type":2,"style":1,"label":"` +
			strings.Repeat("k", 81) + `","custom_id":"k"}]}]}`, "longer than 80 characters"},
		{"POST", "/channels/1/messages", nil, `{"content":"hi","components":[{"type":1,"components":[` +
			strings.Repeat(`{"type":2,"style":1,"label":"k","custom_id":"k"},`, 5) + `{"type":2,"style":1,"label":"k","custom_id":"k"}]}]}`, "more than 5"},
		{"POST", "/channels/1/messages", nil, `{"content":"hi","components":[{"type":1,"components":[{"type":2,"style":1,"label":"Keep","custom_id":"k"}]}]}`, ""},
		{"GET", "/guilds/1/members", url.Values{"limit": {"10"}}, "", ""},
		{"GET", "/guilds/1/members", url.Values{"everyone": {"1"}}, "", `unknown query parameter "everyone"`},
		{"POST", "/users/@me/channels", nil, `{"recipient_id":"2"}`, ""},
	} {
		err := Check(tt.method, tt.path, tt.query, "application/json", []byte(tt.body))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s %s %s: %v, want it accepted", tt.method, tt.path, tt.body, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s %s %s: %v, want %q", tt.method, tt.path, tt.body, err, tt.want)
		}
	}
}
