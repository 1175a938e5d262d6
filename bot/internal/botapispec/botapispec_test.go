package botapispec

import (
	"net/url"
	"slices"
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

func TestCheckObject(t *testing.T) {
	for _, tt := range []struct {
		typ, raw string
		want     string // "" is accepted
	}{
		{"Update", `{"update_id":1,"message":{"message_id":2,"date":3,"chat":{"id":-1,"type":"supergroup"},"text":"hi"}}`, ""},
		{"Update", `{"update_id":1,"message":{"message_id":2,"date":3,"chat":{"id":-1,"type":"supergroup"},"video_chat_started":{}}}`, ""},
		{"Update", `{"update_id":1,"message":{"message_id":2,"date":3,"chat":{"id":-1,"type":"supergroup"},"voice_chat_started":{}}}`, `has no field "voice_chat_started"`},
		{"Update", `{"update_id":1,"message":{"message_id":2,"chat":{"id":-1,"type":"supergroup"}}}`, `lacks required field "date"`},
		{"Message", `{"message_id":2,"date":3,"chat":{"id":-1,"type":"group"},"forward_origin":{"type":"channel","date":1,"chat":{"id":-5,"type":"channel","title":"News"},"message_id":7}}`, ""},
		{"Message", `{"message_id":2,"date":3,"chat":{"id":-1,"type":"group"},"forward_origin":{"type":"channel","date":1}}`, "none of"},
		{"Message", `{"message_id":2,"date":3,"chat":{"id":-1,"type":"group"},"entities":[{"type":"text_link","offset":0,"length":"4"}]}`, `is not Integer`},
	} {
		err := CheckObject(tt.typ, []byte(tt.raw))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s %s: %v, want it accepted", tt.typ, tt.raw, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s %s: %v, want %q", tt.typ, tt.raw, err, tt.want)
		}
	}
	if got := ServiceFields(); !slices.Contains(got, "forum_topic_created") || !slices.Contains(got, "video_chat_started") || slices.Contains(got, "text") {
		t.Errorf("ServiceFields() = %v", got)
	}
}
