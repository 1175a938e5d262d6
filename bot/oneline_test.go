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
