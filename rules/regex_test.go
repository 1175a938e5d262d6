package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// matchBoth is p's answer on s, checked to be the same with the text's
// trigrams (as an event's text is matched) and without.
func matchBoth(t testing.TB, p *pattern, s string) bool {
	t.Helper()
	var g gramSet
	g.fill(s)
	got, with := p.match(s), p.matchFolding(s, foldsOdd(s), &g)
	if got != with {
		t.Errorf("%s on %q: %t, with the text's trigrams %t", p, s, got, with)
	}
	return got
}

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
		"GIFT CARDS", "gift\tcard", "giftcard", "an avid fan", "my avid video", "my   vids", "our band", "husband",
		"xcheck out", "_free", "9free", "é free", "éfree", "\nfree", "check-out", "check\nout", "check\u212aout"}
	for _, tc := range tests {
		re := regexp.MustCompile(tc.re)
		p := newPattern(re)
		if !slices.EqualFunc(p.clauses, tc.clauses, slices.Equal) {
			t.Errorf("%s: words %q, want %q", tc.re, p.clauses, tc.clauses)
		}
		for _, s := range texts {
			for _, s := range []string{s, strings.ToUpper(s)} {
				if got, want := matchBoth(t, p, s), re.MatchString(s); got != want {
					t.Errorf("%s on %q: got %t, regexp says %t", tc.re, s, got, want)
				}
			}
		}
	}
}

// TestPatternLead checks which patterns are run from their first word (a
// match starts with one of them, after \b), and that they answer as the
// regexp does when that word comes late, after a word character, after a
// letter outside ASCII, or not at all.
func TestPatternLead(t *testing.T) {
	tests := []struct {
		re   string
		lead bool
	}{
		{`(?i)\b(check|visit)\b.{0,20}\bmy\s+(channel|page)\b`, true},
		{`(?i)\bcheck(ing)?\W+out\b`, true},
		{`\b(ab|cd)\d+`, true},
		{`(?i)\b(a|bc)x`, false},                // a word of one byte
		{`(?i)(check|visit)\s+out`, false},      // no \b
		{`(?i)\b(check|)\s+out`, false},         // the first word may be empty
		{`(?i)\bcheck\s+out|\bsee\s+it`, true},  // an alternation, each \b then words
		{`(?i)\bcheck\s+out|see\s+it`, false},   // the second without \b
		{`(?i)\b(abonne[zs]?|va)\s+voir`, true}, // abonne: what a match starts with
		{`(?i)\b(gift\s?cards?|claim)\b`, true},
		{`\b(a*b|cd)x`, false},         // a match may start with b
		{`\b(ab)?cd`, false},           // or with cd
		{`(?i)\b(ćma|check)\s`, false}, // a letter outside ASCII to fold
		{`\b_ab`, false},
	}
	texts := []string{"check out", "please CHECK OUT my channel", "so... visit my page", "xcheck out", "écheck out",
		"é check out", "check\u212aout", "ab12 cd", "xab12", "ćma check ", "see it", "_ab", "ſee it", "no words here",
		// the regexp is run from each of the lead's words in turn
		"check this, then check out", "checkcheck out", "visit them, visit my page", "ab cd12", "abab12 cd",
		"abonnez voir", "ABONNES  voir", "va voir", "vavoir", "abonneſ voir", "gift card", "a giftcards", "claim it",
		"bx cd", "aabx", "cdx", "abcd", "xcd"}
	for _, tc := range tests {
		re := regexp.MustCompile(tc.re)
		p := newPattern(re)
		if (p.lead != nil) != tc.lead {
			t.Errorf("%s: lead %t, want %t", tc.re, p.lead != nil, tc.lead)
		}
		for _, s := range texts {
			for _, s := range []string{s, strings.ToUpper(s), "a " + s, "x" + s} {
				if got, want := matchBoth(t, p, s), re.MatchString(s); got != want {
					t.Errorf("%s on %q: got %t, regexp says %t", tc.re, s, got, want)
				}
			}
		}
	}
}

// TestPatternBounded checks which clauses must start a word: those right
// after \b (and words that start with a word character), a space or another
// non-word character, the start of the text.
func TestPatternBounded(t *testing.T) {
	tests := []struct {
		re      string
		bounded []bool
	}{
		{`(?i)\b(free|gift|nitro)\b`, []bool{true}},
		{`(?i)free`, []bool{false}},
		{`(?i)\b(my|our)\s+(own\s+|new\s+)*(channel|videos?|vids?|band)\b`, []bool{true}},
		{`(?i)\b(check|visit)\b.{0,20}\bmy\s+(channel|page)\b`, []bool{true, true}},
		{`(?i)\b(check|checking)\W+out`, []bool{true, true}},
		{`(check|checking)[ -]+out`, []bool{false, true}}, // anything may come before check
		{`^spam`, []bool{true}},
		{`\b@everyone`, []bool{false}}, // \b before @ wants a word character before it
		{`x*\s?free`, []bool{false}},
		{`a.free`, []bool{false}},
		{`(?i)ma\s+cha[iî]ne`, []bool{true}},
	}
	for _, tc := range tests {
		p := newPattern(regexp.MustCompile(tc.re))
		if !slices.Equal(p.bounded, tc.bounded) {
			t.Errorf("%s: bounded %v (clauses %q), want %v", tc.re, p.bounded, p.clauses, tc.bounded)
		}
	}
}

func FuzzPattern(f *testing.F) {
	f.Add(`(?i)\b(my|our)\s+(new\s+)*(vids?|band)\b`, "an avid fan of my band")
	f.Add(`(check|checking)[ -]+out`, "xcheck-out")
	f.Add(`(?i)\b(check|checking)\W+out`, "check\u212aout")
	f.Add(`(?i)\b(free|gift)\b`, "FREE stuff")
	f.Add(`(?i)sub(scribe)?`, "ſUBSCRIBE")
	f.Add(`(?i)\b(abonne[zs]?|va)\s+voir`, "on ABONNEſ voir")
	f.Add(`\bcheck\s+out|\bsee\s+it`, "xsee it, check  out")
	f.Fuzz(func(t *testing.T, expr, s string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		if got, want := matchBoth(t, newPattern(re), s), re.MatchString(s); got != want {
			t.Fatalf("%q on %q: got %t, regexp says %t", expr, s, got, want)
		}
	})
}

// TestPatternStarterPack checks the prefilter of the starter pack's patterns
// on the mixed corpus: never another answer than the regexp's.
func TestPatternStarterPack(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "rules.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	quoted := regexp.MustCompile(`matches\((?:text|content), '((?:[^']|'')*)'\)`)
	events := nativeEvents(t)
	n, skipped := 0, 0
	for _, m := range quoted.FindAllStringSubmatch(string(b), -1) {
		re := regexp.MustCompile(strings.ReplaceAll(m[1], "''", "'"))
		p := newPattern(re)
		n++
		for _, ev := range events {
			want := re.MatchString(ev.Text)
			if got := matchBoth(t, p, ev.Text); got != want {
				t.Errorf("%s on %q: got %t, regexp says %t", re, ev.Text, got, want)
			}
			if !want && len(p.scans) > 0 && !p.scans[len(p.scans)-1].in(ev.Text) {
				skipped++
			}
		}
	}
	if n == 0 {
		t.Fatal("no matches(text or content, '…') in the starter pack")
	}
	t.Logf("%d patterns on %d texts, %d runs of the regexp skipped", n, len(events), skipped)
}

// TestGramSet: a text's trigrams hold those of every piece of it of three
// bytes or more, in any ASCII case, and a clause none of whose words is in a
// text is told from the trigrams.
func TestGramSet(t *testing.T) {
	texts := []string{"Check out my CHANNEL", "ma chaîne, MA CHAÎNE", "a\u212ab", "abc", "ab", "", "xx\xffyy",
		"subscribe to my channel pls"}
	evs := nativeEvents(t)
	for _, ev := range evs[:min(500, len(evs))] {
		texts = append(texts, ev.Text)
	}
	// the prefilter folds ASCII letters only, byte by byte
	shift := func(s string, from, to byte) string {
		b := []byte(s)
		for i, c := range b {
			if from <= c && c < from+26 {
				b[i] = c - from + to
			}
		}
		return string(b)
	}
	lower := func(s string) string { return shift(s, 'A', 'a') }
	upper := func(s string) string { return shift(s, 'a', 'A') }
	for _, s := range texts {
		var g gramSet
		g.fill(s)
		for i := 0; i+3 <= len(s); i++ {
			for j := i + 3; j <= len(s) && j <= i+8; j++ {
				for _, w := range []string{s[i:j], lower(s[i:j]), upper(s[i:j])} {
					if !g.hasAll(wordGrams(w)) {
						t.Fatalf("%q: the trigrams of %q are not all there", s, w)
					}
				}
			}
		}
	}
	ws := newWordScan([]string{"channel", "video"}, true, true)
	for s, may := range map[string]bool{"hello there": false, "my CHANNEL": true, "a VIDEO": true, "chan nel": false} {
		var g gramSet
		g.fill(s)
		if got := ws.mayBeIn(&g); got != may {
			t.Errorf("channel or video in %q: may be %t, want %t", s, got, may)
		}
	}
	if short := newWordScan([]string{"va", "allez"}, true, true); short.grams != nil || !short.mayBeIn(new(gramSet)) {
		t.Error("a scan with a word of two bytes is filtered by trigrams")
	}
}

// TestHitAppendToIsString: the reason a hit writes into a buffer is what its
// String says, for every kind of hit.
func TestHitAppendToIsString(t *testing.T) {
	l := &wordList{name: "insults"}
	for _, h := range []hit{
		{kind: hitWord, list: l, item: `con"nard`},
		{kind: hitIn, list: l, item: "x.example"},
		{kind: hitNotIn, list: l, item: "é"},
		{kind: hitLookalike, list: l, item: `"paypa1.com" looks like "paypal.com"`},
		{kind: hitPattern, re: newPattern(regexp.MustCompile(`(?i)\b(free|claim)\s+nitro/x`))},
	} {
		if got, want := string(h.appendTo([]byte("x; "))), "x; "+h.String(); got != want {
			t.Errorf("appendTo of kind %d: %q, String %q", h.kind, got, want)
		}
	}
	if got := (hit{kind: hitPattern, re: newPattern(regexp.MustCompile(`a/b`))}).String(); got != "matched /a/b/" {
		t.Errorf("a pattern's hit: %q", got)
	}
}
