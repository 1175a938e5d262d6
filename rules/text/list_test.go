package text

import (
	"slices"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	entries := []string{"con", "connard", "idiot", "ass", "nul", "merde", "bitch", "free nitro", "check my channel", "Crétin", "peut-être pas", "バカ", "b1te"}
	l, err := NewList(entries)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text, want string // want "" means no match
	}{
		{"word", "t'es un con", "con"},
		{"standalone word at the end", "quel con.", "con"},
		{"case", "CONNARD", "connard"},
		{"accents in text", "espèce de crétin", "Crétin"},
		{"accents in entry", "espece de CRETIN", "Crétin"},
		{"apostrophe", "l'idiot du village", "idiot"},
		{"leet", "c0nn4rd", "connard"},
		{"leet one as i", "1d10t", "idiot"},
		{"leet one as l", "t'es nu1", "nul"},
		{"leet symbols", "kiss my a$$", "ass"},
		{"leet at and euro", "m€rd3 @lors", "merde"},
		{"dots", "i.d.i.o.t", "idiot"},
		{"spaces", "c o n n a r d", "connard"},
		{"dashes", "c-o-n-n-a-r-d !", "connard"},
		{"leet spaced", "1 . d . 1 . o . t", "idiot"},
		{"stretched", "connaaaaard", "connard"},
		{"stretched short entry", "nuuuul", "nul"},
		{"stretched leet", "c00000n", "con"},
		{"fullwidth", "ｃｏｎｎａｒｄ", "connard"},
		{"math letters", "𝐢𝐝𝐢𝐨𝐭", "idiot"},
		{"cyrillic homoglyphs", "сοnnаrd", "connard"},
		{"greek homoglyphs", "ιdιοt", "idiot"},
		{"zero width", "con\u200bnard", "connard"},
		{"soft hyphen and joiner", "id\u00adi\u2060ot", "idiot"},
		{"combining accents", "con\u0301nard", "connard"},
		{"phrase", "FREE NITRO here", "free nitro"},
		{"phrase across punctuation", "free... nitro!!", "free nitro"},
		{"phrase obfuscated", "fr€€ n1tr0", "free nitro"},
		{"longer phrase", "Hey guys check my channel please", "check my channel"},
		{"hyphenated entry", "peut etre pas", "peut-être pas"},
		{"unspaced script", "お前はバカだ", "バカ"},
		{"leet entry", "la bite", "b1te"},
		// innocent traps
		{"prefix", "un concombre", ""},
		{"prefix 2", "la connaissance", ""},
		{"inside", "first class", ""},
		{"inside 2", "an assassin", ""},
		{"scunthorpe", "Scunthorpe United", ""},
		{"phrase incomplete", "free stuff, nitro later", ""},
		{"phrase split", "free\nnitro", "free nitro"},
		{"doubled letter not stretched", "as I said", ""},
		{"double s is a different word", "null pointer", ""},
		{"two single letters", "il y a un truc", ""},
		{"spaced words stay apart", "c o n c o m b r e", ""},
		{"email", "contact@con.fr", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := l.Match(Analyze(tt.text))
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Match(%q) = %q, %v; want %q", tt.text, got, ok, tt.want)
			}
		})
	}
}

func TestContains(t *testing.T) {
	l, err := NewList([]string{"youtube.com", "Twitch.tv.", "connard", "free nitro"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		s    string
		want bool
	}{
		{"youtube.com", true},
		{"www.YouTube.com", true},
		{"m.youtube.com", true},
		{"https://youtube.com/watch", true},
		{"twitch.tv", true},
		{"notyoutube.com", false},
		{"youtube.com.evil.io", false},
		{"com", false},
		{"DISCORD.GG", false},
		{"dіscord.gg", false}, // Cyrillic і: a look-alike is not the listed host
		{"yout​ube.com", false},
		{"y0utube.com", false},
		{"youtube com", true}, // not a host name: compared as words
		{"CONNARD", true},
		{"c0nnard", true},
		{"connard!", true},
		{"gros connard", false},
		{"free  nitro", true},
		{"free", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := l.Contains(tt.s); got != tt.want {
			t.Errorf("Contains(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestNewList(t *testing.T) {
	entries := []string{"a", "b c", "a"}
	l, err := NewList(entries)
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 3 || !slices.Equal(l.Entries(), entries) {
		t.Errorf("Len, Entries = %d, %q; want 3, %q", l.Len(), l.Entries(), entries)
	}
	l.Entries()[0] = "changed"
	if l.Entries()[0] != "a" {
		t.Error("Entries exposes the list's own slice")
	}
	for _, bad := range []string{"", "  ", "!!!"} {
		_, err := NewList([]string{"ok", bad})
		if err == nil || !strings.Contains(err.Error(), "entry 2") {
			t.Errorf("NewList with %q: err = %v, want one naming entry 2", bad, err)
		}
	}
	var none *List
	if _, ok := none.Match(Analyze("x")); ok || none.Contains("x") {
		t.Error("a nil list matches")
	}
}

func TestLargeList(t *testing.T) {
	// Matching walks the text once; a large list only makes the maps bigger.
	var entries []string
	for i := range 20000 {
		entries = append(entries, "mot"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676%26)))
	}
	entries = append(entries, "connard")
	l, err := NewList(entries)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := l.Match(Analyze("espèce de c0nnard")); !ok || got != "connard" {
		t.Errorf("Match = %q, %v", got, ok)
	}
}
