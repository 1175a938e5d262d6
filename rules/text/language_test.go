package text

import "testing"

func TestLanguage(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"Désolé pour le retard, le colis part demain", "fr"},
		{"t'es vraiment un connard", "fr"},
		{"C'EST PAS POSSIBLE", "fr"},
		{"you are such an idiot", "en"},
		{"What the f*ck is wrong with you", "en"},
		{"Y0U ARE TH3 B3ST", "en"}, // read through the disguises, as the lists
		{"Gracias, me encanta el café con leche", ""},
		{"ok", ""},
		{"", ""},
		{"le the", ""},                          // as many of each
		{"https://example.com/the/and/you", ""}, // links are not words
	} {
		if got := Analyze(c.text).Language; got != c.want {
			t.Errorf("Language(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}
