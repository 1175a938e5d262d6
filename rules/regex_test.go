package rules

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The word prefilter never changes an answer, it only skips the regexp.
func TestPatternPrefilter(t *testing.T) {
	tests := []struct {
		re      string
		clauses [][]string // the prefilter's words; nil when there is none
	}{
		{`(?i)\b(free|gift|nitro)\b`, [][]string{{"free", "gift", "nitro"}}},
		{`(?i)\b(check|visit)\b.{0,20}\bmy\s+(channel|page)\b`, [][]string{{"check", "visit"}, {"channel", "page"}}},
		{`discord\.gg/\w+`, [][]string{{"discord.gg/"}}},
		{`(?i)sub(scribe)?`, [][]string{{"sub"}}},
		{`(?i)(abc|)`, nil},
		{`a|bc`, nil}, // "a" is too short to help
		{`(?i)ćma`, [][]string{{"Ćma", "ćma"}}}, // non-ASCII letters listed in each case
		{`(?i)vid[ée]o`, [][]string{{"video", "vidÉo", "vidéo"}}},
		{`(?i)\b(claim|cadeau)\b`, [][]string{{"claim", "cadeau"}}}, // not laim, adeau
		{`(?i)\b(check|checking)\W+out`, [][]string{{"check"}, {"out"}}},
		{`(?i)gift\s?cards?`, [][]string{{"gift"}, {"card"}}},
		{`x*yz+`, nil}, // no word of 3
		{`(?i)(spam){2,}`, [][]string{{"spam"}}},
		{`\d{5}`, nil},
		{`(?i)(gratuit|free) (robux|nitro)|cadeau`, [][]string{{"gratuit robux", "gratuit nitro", "free robux", "free nitro", "cadeau"}}},
	}
	texts := []string{"", "FREE nitro!!", "get a GiFt", "freedom", "check out my channel", "VISIT my   PAGE now",
		"join discord.gg/abc", "SUBSCRIBE", "sub", "ſubscribe", "\u212aEY", "spamspam", "SPAM", "12345", "ćma ĆMA",
		"abc", "x", "xyzz", "Check this, it's my channel", "VIDÉO", "vidÉo", "Claim", "CADEAU", "checking OUT",
		"GIFT CARDS", "gift\tcard", "giftcard"}
	for _, tc := range tests {
		re := regexp.MustCompile(tc.re)
		p := newPattern(re)
		if !slices.EqualFunc(p.clauses, tc.clauses, slices.Equal) {
			t.Errorf("%s: words %q, want %q", tc.re, p.clauses, tc.clauses)
		}
		for _, s := range texts {
			for _, s := range []string{s, strings.ToUpper(s)} {
				if got, want := p.match(s), re.MatchString(s); got != want {
					t.Errorf("%s on %q: got %t, regexp says %t", tc.re, s, got, want)
				}
			}
		}
	}
}

func FuzzPattern(f *testing.F) {
	f.Add(`(?i)\b(free|gift)\b`, "FREE stuff")
	f.Add(`(?i)sub(scribe)?`, "ſUBSCRIBE")
	f.Fuzz(func(t *testing.T, expr, s string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		if got, want := newPattern(re).match(s), re.MatchString(s); got != want {
			t.Fatalf("%q on %q: got %t, regexp says %t", expr, s, got, want)
		}
	})
}
