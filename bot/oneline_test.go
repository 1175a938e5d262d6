package bot

import (
	"strings"
	"testing"
)

func TestNameInText(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"Bob", "Bob"},
		{"Dr. Who", "Dr. Who"},
		{"@everyone", "@\u2060everyone"},
		{"/pause", "/\u2060pause"},
		{"<@42>", "<\u2060@\u206042>"},
		{"[Verify](https://scam.example)", "[Verify]\u2060(https:/\u2060/\u2060scam.\u2060example)"},
		{"# Rules", "#\u2060 Rules"},
		{"Bob\n✅ Verified", "Bob ✅ Verified"},
		{strings.Repeat("x", 100), strings.Repeat("x", MaxNameInText-1) + "…"},
	} {
		if got := NameInText(tt.name); got != tt.want {
			t.Errorf("NameInText(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestInertMentions: a mention a member wrote calls nobody once quoted; an
// e-mail address, a lone "@" and a word's "@" stay as written.
func TestInertMentions(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"@ann_cm wake up", "@\u2060ann_cm wake up"},
		{"hi (@ann_cm), @everyone", "hi (@\u2060ann_cm), @\u2060everyone"},
		{"mail eve@scam.example", "mail eve@scam.example"},
		{"<@42>", "<@\u206042>"},
		{"@ @ cost 5 @ 2", "@ @ cost 5 @ 2"},
		{"no mention", "no mention"},
	} {
		if got := InertMentions(tc.in); got != tc.want {
			t.Errorf("InertMentions(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
