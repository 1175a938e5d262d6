package text

import (
	"encoding/json"
	"os"
	"path/filepath"
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
		{"small capitals", "ꜰʀᴇᴇ ɴɪᴛʀᴏ", "free nitro"},
		{"parenthesized capitals", "🄕🄡🄔🄔 🄝🄘🄣🄡🄞", "free nitro"},
		{"spaced with no-break spaces", "free n\u00a0i\u00a0t\u00a0r\u00a0o", "free nitro"},
		{"stars between the letters", "quelle m*r*e", "merde"},
		{"stars between the letters 2", "you i*i*t", "idiot"},
		{"stars between the letters, spaced out", "f*r*e*e n*i*t*r*o", "free nitro"},
		{"spaced with em spaces", "c\u2003o\u2003n\u2003n\u2003a\u2003r\u2003d", "connard"},
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
		// stretched words keep at least the entry's letters
		{"collapse needs every letter", "aaas", ""},
		{"collapse needs every letter 2", "asss", "ass"},
		{"stretched double letter", "connnaaaard", "connard"},
		{"one n of connard", "cooonard", ""},
		// censored by the writer
		{"star", "what the f*ck", ""}, // fuck is not in this list
		{"star inside", "quel c*nnard", "connard"},
		{"bang", "b!tch please", "bitch"},
		{"hash", "sale b#tch", "bitch"},
		{"two stars", "c**nard", "connard"},
		{"stars must count the letters", "c*nard", ""},
		{"stars for letters", "c**nard ou co**ard", "connard"},
		{"underscore is not censoring", "quel id_ot", ""},
		{"stars end the word", "t'es un idi** toi", "idiot"},
		{"leet and star", "m€*de alors", "merde"},
		{"short word with a star", "quel c*n", "con"},
		{"censored phrase", "fr*e nitro here", "free nitro"},
		{"censored and stretched stays apart", "merci!!idiot", "idiot"},
		{"markdown bold is not censoring", "**nul**", "nul"},
		{"markdown bold word", "**merd**", ""},
		{"glued innocent words", "hello*world, cool#nice", ""},
		{"exclamation after a word", "sale!! idiot", "idiot"},
		{"too few letters", "i**t", ""},
		{"short gap not a star", "c_n", ""},
		{"a link is not censored", "https://example.com/id#ot", ""},
		// HTML character references
		{"entity letters", "c&#1086;nnard", "connard"},
		{"entity named", "esp&egrave;ce de cr&eacute;tin", "Crétin"},
		{"entity hex", "&#x43;&#x4F;N", "con"},
		{"entity separates", "idiot&amp;co", "idiot"},
		// more look-alikes
		{"regional indicators", "🇮 🇩 🇮 🇴 🇹", "idiot"},
		{"negative squared", "🅸🅳🅸🅾🆃", "idiot"},
		{"parenthesized", "⒤⒟⒤⒪⒯", "idiot"},
		{"cherokee", "ᏟᎾNNᎪᎡᎠ", "connard"},
		{"lisu", "ꓠꓴꓡ", "nul"},
		{"hooked letters", "ɓɨƭƈɦ", "bitch"},
		{"leet nine and eight", "8itch", "bitch"},
		// censored words read through leetspeak, and inside phrases
		{"star and leet digits", "what a 1d*07", "idiot"},
		{"star in a phrase", "fr€€ n*tro", "free nitro"},
		{"censored second word", "check my ch*nnel", "check my channel"},
		{"arithmetic is not censoring", "5*3 = 15", ""},
		// an article before spaced-out letters
		{"article before spaced letters", "what a c o n n a r d", "connard"},
		{"article before spaced leet", "such a 1 d 1 0 t", "idiot"},
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

func TestAllow(t *testing.T) {
	l, err := NewList([]string{"con", "cul", "bite", "!chili con carne", "!cul-de-sac", "!bite the dust", "!con", `\!bang`, "fuck", "!fuck yeah"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text, want string
	}{
		{"t'es con", ""}, // "!con" allows the word itself: the list is a test, not a pack
		{"un chili con carne", ""},
		{"un chili c0n carne et un cul", "cul"},
		{"une impasse, un cul-de-sac", ""},
		{"cul de sac", ""},
		{"un gros cul", "cul"},
		{"another one bites the dust, another one bite the dust", ""},
		{"ma bite", "bite"},
		{"!bang", "!bang"},
		{"bang", "!bang"},
		{"fuck yeah", ""},
		{"fuck yeah fuck", "fuck"},
		{"fuuuck yeaaah", ""},
		{"f*ck this", "fuck"},
	}
	for _, tt := range tests {
		got, ok := l.Match(Analyze(tt.text))
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Match(%q) = %q, %v; want %q", tt.text, got, ok, tt.want)
		}
	}
	for s, want := range map[string]bool{"cul": true, "cul-de-sac": false, "con": false, "bang": true, "chili con carne": false} {
		if got := l.Contains(s); got != want {
			t.Errorf("Contains(%q) = %v, want %v", s, got, want)
		}
	}
	hosts, err := NewList([]string{"example.com", "!docs.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{"example.com": true, "www.example.com": true, "a.example.com": true, "docs.example.com": false, "x.docs.example.com": false} {
		if got := hosts.Contains(s); got != want {
			t.Errorf("hosts.Contains(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestLookalike(t *testing.T) {
	l, err := NewList([]string{"discord.com", "discord.gg", "discord.gift", "steamcommunity.com", "paypal.com", "microsoft.com", "twitter.com", "!discord-status.com", "xn--e1aaajcvibmk.com"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, want string // want "" means not a look-alike
	}{
		{"discord.gg", ""},
		{"cdn.discord.com", ""},
		{"dіscord.gg", "discord.gg"}, // Cyrillic і
		{"d1scord.gg", "discord.gg"},
		{"dlscord.gg", "discord.gg"},
		{"DISC0RD.COM", "discord.com"},
		{"disc-ord.gg", "discord.gg"},
		{"steamcommunnity.com", "steamcommunity.com"},
		{"steamcomrnunity.com", "steamcommunity.com"},
		{"login.paypa1.com", "paypal.com"},
		{"rnicrosoft.com", "microsoft.com"},
		{"ｄｉｓｃｏｒｄ.ｇｇ", "discord.gg"}, // browsers would fold it; a message has no business writing it
		{"discord.gift", ""},
		// look-alikes from Unicode's confusables (UTS #39) that folding misses
		{"dіscסrd.gg", "discord.gg"},        // Hebrew samekh for o
		{"rnicrosoքt.com", "microsoft.com"}, // Armenian keh for f
		{"pаypаו.com", "paypal.com"},        // Hebrew vav for l
		{"disc০rd.gg", "discord.gg"},        // Bengali zero for o
		{"яндекс.рф", ""},
		{"ελλάδα.gr", ""},
		// punycode is read as the letters it stands for
		{"xn--dscord-pvf.gift", "discord.gift"}, // dіscord.gift, Cyrillic і
		{"XN--DSCORD-PVF.GIFT", "discord.gift"},
		{"https://nitro.xn--dscord-pvf.gift/claim", "discord.gift"},
		{"xn--zz.xn--dscord-pvf.gift", "discord.gift"}, // a label that does not decode
		{"xn--zz.gift", ""},
		{"применение.com", ""}, // the Unicode form of a listed punycode host
		{"www.применение.com", ""},
		{"xn--e1aaajcvibmk.com", ""},
		{"пpимeнeниe.com", "xn--e1aaajcvibmk.com"}, // Latin p and e among the Cyrillic
		{"youtube.com", ""},
		{"discord-status.com", ""},
		// a listed host shown first, where the host is read
		{"discord.com.gift-claim.ru", "discord.com"},
		{"https://login.paypal.com-secure.info/x", "paypal.com"},
		{"d1scord.com.nitro.example.net", "discord.com"},
		{"discord.com.github.io", "discord.com"},
		{"https://discord.com@185.12.4.77/verify", "discord.com"},
		{"https://support.discord.com:443@evil.example/", "discord.com"},
		{"https://d1scord.gg@evil.example/", "discord.gg"},
		{"https://%64%31scord.gg/x", "discord.gg"},
		{"https://discord.com@discord.com/", ""},
		{"https://bob@evil.example/", ""},
		{"paypal.com.au", ""}, // the brand's own site abroad
		{"www.paypal.com.au", ""},
		{"discord.community.example", ""},
		{"discordapp.com.example", ""},
		// a listed host's name with the words of phishing beside it
		{"steamcommunity-trade.example.net", "steamcommunity.com"},
		{"discord-nitro-gift.xyz", "discord.com"},
		{"discordgift.site", "discord.com"},
		{"discord.gifts", "discord.com"},
		{"https://discorddrop.example/x", "discord.com"}, // the skeleton reads dd once
		{"free-paypal-login.example", "paypal.com"},
		{"d1scord-nitro.pages.dev", "discord.com"},
		{"twitter-nitro.example", "twitter.com"}, // whole, the skeleton reads r-n as m
		// and beside other words, or alone under another suffix: ordinary
		// third-party sites and a community's subdomain
		{"discord-api-types.dev", ""},
		{"discord.js.org", ""},
		{"discordpy.readthedocs.io", ""},
		{"paypal-community.com", ""},
		{"discord.me", ""},
		{"discord.bio", ""},
		// the name alone under a suffix its owner does not hold, for an
		// owner that holds it under the listed ones only
		{"steamcommunity.lat", "steamcommunity.com"},
		{"https://steamcommunity.lat/gift", "steamcommunity.com"},
		{"steamcommunity.ru", "steamcommunity.com"},
		{"STEAMCOMMUNITY.CFD", "steamcommunity.com"},
		{"steamcommunity.com.au", "steamcommunity.com"},
		{"help.steamcommunity.lat", "steamcommunity.com"},
		{"steamcommunlty.lat", "steamcommunity.com"},
		{"steamcommunity.community", "steamcommunity.com"},
		// a listed host written without its dots, or with hyphens for them
		{"discordgg.xyz", "discord.gg"},
		{"https://discord-gg.com/invite", "discord.gg"},
		{"discordcom.example", "discord.com"},
		{"steamcommunitycom.ru", "steamcommunity.com"},
		{"d1scord-gg.example", "discord.gg"},
		{"paypalcom.example", "paypal.com"},
		{"discordnet.dev", ""},
		{"docs.discordnet.dev", ""},
		{"discordbotlist.com", ""},
		{"discord-bots.example", ""},
		{"freediscordbots.example", ""},
		{"discord.mygame.example", ""},
		// links written with spaced, spelled or wide dots, as Analyze finds them
		{"d1scord . gg/abc", "discord.gg"},
		{"D1SCORD (DOT) GG", "discord.gg"},
		{"dіscord．gg/abc", "discord.gg"},
		{"discord . gg/abc", ""},
		{"not a host", ""},
	}
	for _, tt := range tests {
		got, ok := l.Lookalike(tt.host)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Lookalike(%q) = %q, %v; want %q", tt.host, got, ok, tt.want)
		}
	}
}

// TestMatchFrom checks that a list matched from the starts its set finds
// answers as Match does, on the starter pack's lists and a mixed corpus.
func TestMatchFrom(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "lists", "*.txt"))
	var lists []*List
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var entries []string
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				entries = append(entries, line)
			}
		}
		l, err := NewList(entries)
		if err != nil {
			continue // not a word list (the licence)
		}
		lists = append(lists, l)
	}
	tiny, err := NewList([]string{"con", "connard", "f*ck", "free nitro", "nul", "!chili con carne", "b1te"})
	if err != nil {
		t.Fatal(err)
	}
	lists = append(lists, tiny)
	set := NewListSet(lists...)
	texts := append([]string{"", "t'es un con", "c o n n a r d", "connaaaaard", "nuuuul", "f*ck off", "sh!t", "fu**",
		"such a s l u t", "chili con carne", "FREE NITRO here", "fr€€ n1tr0", "ta g**ule", "la bite", "お前はバカだ"}, benchMessages...)
	data, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "data", "*.jsonl"))
	for _, f := range data {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			var ev struct{ Text string }
			if i < 3000 && json.Unmarshal([]byte(line), &ev) == nil {
				texts = append(texts, ev.Text)
			}
		}
	}
	found := 0
	for _, s := range texts {
		// find reads only the fields around a dot or a colon: the same links
		// as a look at every character
		if _, _, ok := sameScan(s); !ok {
			t.Errorf("%q: scan and scanEach count otherwise", s)
		}
		var fast, each linkSet
		fast.find(s)
		each.findEach(s)
		if !slices.Equal(fast.links, each.links) || !slices.Equal(fast.hosts, each.hosts) || !slices.Equal(fast.spans, each.spans) {
			t.Errorf("%q: find %q, findEach %q", s, fast.links, each.links)
		}
		a := Analyze(s)
		starts := set.Starts(a, nil)
		for k, l := range lists {
			e1, ok1 := l.Match(a)
			e2, ok2 := l.MatchFrom(a, starts)
			if e1 != e2 || ok1 != ok2 {
				t.Errorf("%q, list %d: MatchFrom = %q %v, Match = %q %v", s, k, e2, ok2, e1, ok1)
			}
			if ok1 {
				found++
			}
		}
	}
	t.Logf("%d texts, %d lists, %d matches", len(texts), len(lists), found)
}

// TestNodeTable checks that every node's table finds the child its next map
// holds for each word, and nothing for words it does not hold, in a large
// list (many words sharing their first and last eight bytes' hash bits) and
// in its allow entries.
func TestNodeTable(t *testing.T) {
	var entries []string
	for i := range 5000 {
		w := "mot" + strings.Repeat("x", i%11) + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
		entries = append(entries, w, w+" de "+string(rune('a'+i%7)), "!"+w+" ok")
	}
	l, err := NewList(entries)
	if err != nil {
		t.Fatal(err)
	}
	var check func(n *node)
	nodes := 0
	check = func(n *node) {
		nodes++
		for w, c := range n.next {
			if got := n.lookup([]byte(w)); got != c {
				t.Fatalf("lookup(%q) = %p, want %p", w, got, c)
			}
			for _, other := range []string{w + "s", w[:len(w)-1], strings.ToUpper(w), "z" + w[1:]} {
				if got, want := n.lookup([]byte(other)), n.next[other]; got != want {
					t.Fatalf("lookup(%q) = %p, want %p", other, got, want)
				}
			}
			check(c)
		}
	}
	check(&l.root)
	check(&l.allow)
	if nodes < 10000 {
		t.Fatalf("%d nodes checked", nodes)
	}
}

// A host longer than a host name can be (253 characters) is no look-alike,
// and is not read as one: https://a.a.a…a.com of 1,000 characters took one
// skeleton per pair of dots, a second of CPU for one link (a minute at 4,000
// characters, a Discord message), and every event behind it waited. The
// work is counted in allocations, which do not depend on the machine.
func TestLookalikeLongHost(t *testing.T) {
	l, err := NewList([]string{"discord.com", "paypal.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{
		"https://" + strings.Repeat("a.", 500) + "com/",
		"https://" + strings.Repeat("a-", 250) + strings.Repeat("a.", 250) + "com/",
		"https://" + strings.Repeat("a.", 500) + "com@evil.example/",
		"https://discord.com." + strings.Repeat("a.", 500) + "ru/",
	} {
		var got string
		allocs := testing.AllocsPerRun(1, func() { got, _ = l.Lookalike(link) })
		if got != "" || allocs > 100 {
			t.Errorf("%.30s… (%d bytes): look-alike of %q, %v allocations; want none, a few", link, len(link), got, allocs)
		}
	}
	// the longest host name still is one
	long := "discord.com." + strings.Repeat("a.", 118) + "ru"
	if got, _ := l.Lookalike("https://" + long + "/"); got != "discord.com" {
		t.Errorf("%d characters: got %q, want discord.com", len(long), got)
	}
}
