package botapispec

import (
	"net/url"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		method string
		params url.Values
		files  []string
		want   string // "" is accepted
	}{
		{"deleteMessage", url.Values{"chat_id": {"-100123"}, "message_id": {"42"}}, nil, ""},
		{"deletemessage", url.Values{"chat_id": {"@fans"}, "message_id": {"42"}}, nil, ""},
		{"deleteMessages", url.Values{"chat_id": {"-100123"}, "message_ids": {"[1,2]"}}, nil, ""},
		{"removeMessage", url.Values{"chat_id": {"1"}}, nil, `unknown method "removeMessage"`},
		{"deleteMessage", url.Values{"chat_id": {"-100123"}}, nil, `missing required field "message_id"`},
		{"deleteMessage", url.Values{"chat_id": {"-100123"}, "message_id": {"x"}}, nil, `field "message_id": "x" is not Integer`},
		{"deleteMessage", url.Values{"chat_id": {"1"}, "message_id": {"2"}, "reason": {"spam"}}, nil, `unknown field "reason"`},
		{"sendMessage", url.Values{"chat_id": {"1"}, "text": {"hi"}, "reply_markup": {`{"inline_keyboard":[[{"text":"a","callback_data":"b"}]]}`}}, nil, ""},
		{"sendMessage", url.Values{"chat_id": {"1"}, "text": {"hi"}, "reply_markup": {`[not json`}}, nil, `field "reply_markup"`},
		{"restrictChatMember", url.Values{"chat_id": {"1"}, "user_id": {"2"}, "permissions": {`{"can_send_messages":false}`}, "until_date": {"1795000000"}}, nil, ""},
		{"restrictChatMember", url.Values{"chat_id": {"1"}, "user_id": {"2"}, "permissions": {`{}`}, "use_independent_chat_permissions": {"yes"}}, nil, `is not Boolean`},
		{"sendPhoto", url.Values{"chat_id": {"1"}}, []string{"photo"}, ""},
		{"sendPhoto", url.Values{"chat_id": {"1"}}, []string{"picture"}, `field "picture" is not a file`},
	} {
		err := Check(tt.method, tt.params, tt.files)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s %v: %v, want it accepted", tt.method, tt.params, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s %v: %v, want %q", tt.method, tt.params, err, tt.want)
		}
	}
}
