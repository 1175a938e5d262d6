package telegram

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// units is the length of s as Telegram counts it, computed the long way.
func units(s string) int { return len(utf16.Encode([]rune(s))) }

// Telegram counts a text in UTF-16 code units, after parsing: an emoji is
// two, a tag none, an entity one. A cut text stays within the limit, whole
// characters, whole entities, its tags closed.
func TestCutsCountUTF16(t *testing.T) {
	emoji := strings.Repeat("😀", 3000) // 3000 characters, 6000 code units
	got := truncate(emoji, maxText)
	if n := units(got); n > maxText || n < maxText-2 {
		t.Errorf("truncate: %d code units, want at most %d and near it", n, maxText)
	}
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "😀…") {
		t.Errorf("truncate cut inside a character: %q", got[len(got)-8:])
	}
	if got := truncate("é😀", 2); got != "é…" {
		t.Errorf("truncate(é😀, 2) = %q, want é…", got)
	}

	for _, tc := range []struct{ name, html string }{
		{"emoji in a quote", "<b>Case c1</b>\n<blockquote>" + strings.Repeat("😀&lt;", 3000) + "</blockquote>\n<a href=\"https://t.me/c/1/2\">Open</a>"},
		{"entities", "<i>" + strings.Repeat("&amp;&#34;x", 2000) + "</i>"},
		{"nested tags", "<b>" + strings.Repeat("<i>😀</i>", 3000) + "</b>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fitHTML(tc.html, maxText)
			if n := htmlLen(got); n > maxText {
				t.Errorf("%d code units once parsed", n)
			}
			if !utf8.ValidString(got) {
				t.Error("cut inside a character")
			}
			// every tag whole and closed, every entity whole
			var open []string
			walkHTML(got, func(tag string) {
				if name, closing := tagName(tag); closing {
					if len(open) == 0 || open[len(open)-1] != name {
						t.Errorf("%s closes %v", tag, open)
					} else {
						open = open[:len(open)-1]
					}
				} else {
					open = append(open, name)
				}
			}, func(text string) bool {
				if strings.HasPrefix(text, "&") && !strings.HasSuffix(text, ";") || text == "<" || text == ">" {
					t.Errorf("broken markup %q", text)
				}
				return true
			})
			if len(open) != 0 {
				t.Errorf("left open: %v", open)
			}
		})
	}
	if s := "<b>short 😀</b>"; fitHTML(s, maxText) != s {
		t.Errorf("a short text was changed")
	}
}
