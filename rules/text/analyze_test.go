package text

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

func TestLinks(t *testing.T) {
	tests := []struct {
		text    string
		links   []string
		domains []string
	}{
		{"regarde youtube.com/watch?v=dQw4w9WgXcQ", []string{"youtube.com/watch?v=dQw4w9WgXcQ"}, []string{"youtube.com"}},
		{"http://bit.ly/x", []string{"http://bit.ly/x"}, []string{"bit.ly"}},
		{"va sur www.example.fr.", []string{"www.example.fr"}, []string{"example.fr"}},
		{"join discord.gg/abc now", []string{"discord.gg/abc"}, []string{"discord.gg"}},
		{"t.me/freecrypto", []string{"t.me/freecrypto"}, []string{"t.me"}},
		{"HTTPS://WWW.YouTube.COM/watch", []string{"HTTPS://WWW.YouTube.COM/watch"}, []string{"youtube.com"}},
		{"m.youtube.com/x and https://youtube.com/y", []string{"m.youtube.com/x", "https://youtube.com/y"}, []string{"youtube.com"}},
		{"(see https://en.wikipedia.org/wiki/Foo_(bar))", []string{"https://en.wikipedia.org/wiki/Foo_(bar)"}, []string{"wikipedia.org"}},
		{"<https://scam.example.co.uk/login>", []string{"https://scam.example.co.uk/login"}, []string{"example.co.uk"}},
		{"https://me.github.io/x", []string{"https://me.github.io/x"}, []string{"me.github.io"}},
		{"just for test I have to say murdev.com", []string{"murdev.com"}, []string{"murdev.com"}},
		{"https://binbox.io/DNCkM#qT4Q1JB1\ufeff", []string{"https://binbox.io/DNCkM#qT4Q1JB1"}, []string{"binbox.io"}},
		{"http://user:pw@host.example.com:8080/p", []string{"http://user:pw@host.example.com:8080/p"}, []string{"example.com"}},
		// a host in %XX escapes, which browsers decode
		{"claim https://%64%69%73cord-gift.ru/x", []string{"https://%64%69%73cord-gift.ru/x"}, []string{"discord-gift.ru"}},
		{"https://d%D1%96scord.gift/x", []string{"https://d%D1%96scord.gift/x"}, []string{"dіscord.gift"}},
		{"https://ex%2", nil, nil},
		{"http://192.168.1.1/admin", []string{"http://192.168.1.1/admin"}, []string{"192.168.1.1"}},
		{"voir:https://x.org/a, merci", []string{"https://x.org/a"}, []string{"x.org"}},
		// any IANA TLD, with a path
		{"réclame ton cadeau claim-nitro.sbs/gift", []string{"claim-nitro.sbs/gift"}, []string{"claim-nitro.sbs"}},
		{"steamcommunity.lat/gift pour toi", []string{"steamcommunity.lat/gift"}, []string{"steamcommunity.lat"}},
		{"https://free.nitro.sbs", []string{"https://free.nitro.sbs"}, []string{"nitro.sbs"}},
		// internationalised names, as browsers show them
		{"ton cadeau sur dіscord.gift/nitro", []string{"dіscord.gift/nitro"}, []string{"dіscord.gift"}},
		{"écris sur café-crème.fr", []string{"café-crème.fr"}, []string{"café-crème.fr"}},
		// registrable domains from the public suffix list, private suffixes included
		{"foo.pp.ua et bar.pp.ua", []string{"foo.pp.ua", "bar.pp.ua"}, []string{"foo.pp.ua", "bar.pp.ua"}},
		{"x.duckdns.org y.duckdns.org", []string{"x.duckdns.org", "y.duckdns.org"}, []string{"x.duckdns.org", "y.duckdns.org"}},
		{"https://a.b.c.d.e.f.example.co.jp/x", []string{"https://a.b.c.d.e.f.example.co.jp/x"}, []string{"example.co.jp"}},
		{"https://bucket.s3.amazonaws.com/f https://other.s3.amazonaws.com/g", []string{"https://bucket.s3.amazonaws.com/f", "https://other.s3.amazonaws.com/g"}, []string{"bucket.s3.amazonaws.com", "other.s3.amazonaws.com"}},
		{"https://github.io/", []string{"https://github.io/"}, []string{"github.io"}},
		// spaced or spelled-out dots, to get past link filters
		{"my site: kidsmediausa  . com", []string{"kidsmediausa  . com"}, []string{"kidsmediausa.com"}},
		{"marketglory . com/strategygame/andrija earn", []string{"marketglory . com/strategygame/andrija"}, []string{"marketglory.com"}},
		{"(It Was Always You) www.youtube. com/watch?v=TQ046FuAu00", []string{"www.youtube. com/watch?v=TQ046FuAu00"}, []string{"youtube.com"}},
		{"go to FreeNitro(dot)com now", []string{"FreeNitro(dot)com"}, []string{"freenitro.com"}},
		{"go to freenitro (dot) com now", []string{"freenitro (dot) com"}, []string{"freenitro.com"}},
		{"scam[dot]net/x", []string{"scam[dot]net/x"}, []string{"scam.net"}},
		// a Markdown link shows its words and leads to its target: both are read
		{"your badge: [https://discord.com/badges](https://dlscord-badges.ru/x)", []string{"https://discord.com/badges", "https://dlscord-badges.ru/x"}, []string{"discord.com", "dlscord-badges.ru"}},
		{"[youtube.com/watch](https://free-gift.example.net/x).", []string{"youtube.com/watch", "https://free-gift.example.net/x"}, []string{"youtube.com", "example.net"}},
		{"read [the patch notes](https://example.com/patch)", []string{"https://example.com/patch"}, []string{"example.com"}},
		// full stops of another width, which browsers read as dots
		{"nitro here: discord-gift．ru/claim", []string{"discord-gift．ru/claim"}, []string{"discord-gift.ru"}},
		{"https://free-nitro。com/x and www.example｡org", []string{"https://free-nitro。com/x", "www.example｡org"}, []string{"free-nitro.com", "example.org"}},
		{"see example.com and steam-gift．ru", []string{"example.com", "steam-gift．ru"}, []string{"example.com", "steam-gift.ru"}},
		// not links
		{"今日は楽しかった。明日も遊ぼう。", nil, nil},
		{"ゲームはfun。次はcom", nil, nil},
		{"这是我的网站。shop 很好", nil, nil},
		{"我刚下载了这个App。App Store里有", nil, nil},
		{"３．５ではない", nil, nil},
		{"écris à bob@example.com", nil, nil},
		{"la version 3.5 est sortie", nil, nil},
		{"e.g. this, i.e. that", nil, nil},
		{"c'est fini.Je pars", nil, nil},
		{"lis le readme.md et main.go", nil, nil},
		{"bon.de rien", nil, nil},
		{"c'était génial.Merci", nil, nil},
		{"déjà.vu", nil, nil},
		{"ça.fr​x", nil, nil},
		{"vu sur steamcommunity.lat sans chemin", nil, nil},
		{"lis notes.txt/old et app.js/x", nil, nil},
		{"https:// nothing", nil, nil},
		{"...", nil, nil},
		{"I said no . Com on", nil, nil},
		{"the end . Combien ?", nil, nil},
		{"ok . com", nil, nil},
		{"3 . com", nil, nil},
	}
	for _, tt := range tests {
		a := Analyze(tt.text)
		if !slices.Equal(a.Links, tt.links) {
			t.Errorf("Analyze(%q).Links = %q, want %q", tt.text, a.Links, tt.links)
		}
		if !slices.Equal(a.Domains, tt.domains) {
			t.Errorf("Analyze(%q).Domains = %q, want %q", tt.text, a.Domains, tt.domains)
		}
	}
}

// A listed brand's name alone under a top-level domain that makes a link
// only with a path is a link when the rule file's lookalike() reads the
// list (Owners.AddBrands); under one that is also a word or a file
// extension, only a closed owner's name is; other words stay words.
func TestBrandNamesAloneAreLinks(t *testing.T) {
	extra := linkOwners(t)
	tests := []struct {
		text  string
		links []string
	}{
		{"vu sur steamcommunity.lat sans chemin", []string{"steamcommunity.lat"}},
		{"trade: STEAMCOMMUNITY.LAT", []string{"STEAMCOMMUNITY.LAT"}},
		{"help.steamcommunity.lat!", []string{"help.steamcommunity.lat"}},
		{"steamcommunlty.lat", []string{"steamcommunlty.lat"}},
		{"steamcommunity.de", []string{"steamcommunity.de"}},
		{"free nitro: discord.gifts", []string{"discord.gifts"}},
		{"paypal.support", []string{"paypal.support"}},
		{"d1scord.sbs", []string{"d1scord.sbs"}},
		{"paypa1.cfd", []string{"paypa1.cfd"}},
		{"mybrand.lat", []string{"mybrand.lat"}},
		{"mybrand.it", []string{"mybrand.it"}}, // closed by owners:
		{"la vidéo [steamcommunity.lat](https://evil.example)", []string{"steamcommunity.lat", "https://evil.example"}},
		// a listed brand's name with the words of phishing
		{"claim it: discord-nitro.lat", []string{"discord-nitro.lat"}},
		{"steamcommunitytrade.cfd", []string{"steamcommunitytrade.cfd"}},
		{"free-paypal-gift.sbs", []string{"free-paypal-gift.sbs"}},
		{"discord-nitro.py", nil}, // a file
		{"discord-bot.lat", nil},  // other words: anyone's
		// a word or a file extension after an open brand's name
		{"pip install discord.py", nil},
		{"google.it", nil},
		// an open brand's name, as written, before a TLD that is no word
		// of phishing: a product's name, or anyone's site
		{"va sur discord.lat", nil},
		{"dispo sur google.play et apple.music", nil},
		{"paypal.cfd", nil},
		{"paypal.me", nil},
		{"discord.md et discord.sh", nil},
		// no listed brand's name
		{"bon.de rien", nil},
		{"file.name", nil},
		{"e.g. this, i.e. that", nil},
		{"c'était génial.Merci", nil},
		{"steam.lat", nil},
		{"mybrand-store.lat", nil}, // mybrand-store.com is not listed
	}
	for _, tt := range tests {
		var a Analysis
		AnalyzeOwnedInto(&a, tt.text, extra)
		if !slices.Equal(a.Links, tt.links) {
			t.Errorf("AnalyzeOwnedInto(%q).Links = %q, want %q", tt.text, a.Links, tt.links)
		}
		if plain := Analyze(tt.text); len(plain.Links) > 0 && !strings.Contains(tt.text, "](") {
			t.Errorf("Analyze(%q).Links = %q, want none without the rule file's brands", tt.text, plain.Links)
		}
	}
	var a Analysis
	AnalyzeOwnedInto(&a, "[steamcommunity.lat](https://evil.example)", extra)
	if a.MaskedLinks != 1 {
		t.Errorf("[steamcommunity.lat](https://evil.example): %d masked links, want 1", a.MaskedLinks)
	}
}

func TestMentions(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"hello", 0},
		{"@user @user @user bah oui", 3},
		{"hey @everyone and @here", 2},
		{"<@123456789> <@!42> <@&7>", 3},
		{"écris à bob@example.com", 0},
		{"@ alone, and an email a@b.fr", 0},
		{"<#1234> is a channel", 0},
		{"see https://medium.com/@someone/post", 0},
		{"RT @mayasolovely: As a woman", 1},
		{"<@12", 0},
		{"rdv @12h30", 0},
		{"@123 is not a name", 0},
	}
	for _, tt := range tests {
		if got := Analyze(tt.text).Mentions; got != tt.want {
			t.Errorf("Analyze(%q).Mentions = %d, want %d", tt.text, got, tt.want)
		}
	}
}

// checkMentionMarks checks that the tokens the fingerprint marked as
// mentions are those mention tells, outside the links.
func checkMentionMarks(t testing.TB, a *Analysis) {
	t.Helper()
	next := 0
	for i := range a.toks {
		tok := &a.toks[i]
		for next < len(a.spans) && a.spans[next].hi <= tok.src.lo {
			next++
		}
		if next < len(a.spans) && a.spans[next].lo < tok.src.hi {
			continue // in a link: neither the fingerprint nor the sketch reads it
		}
		if marked := tok.flags&mentioned != 0; marked != a.mention(tok) {
			t.Fatalf("%q: token %q marked a mention %t, mention says %t", a.Text, a.Text[tok.src.lo:tok.src.hi], marked, !marked)
		}
	}
}

func TestMentionMarks(t *testing.T) {
	var into Analysis
	for _, s := range append([]string{"@user @user @user bah oui", "hey @everyone and @here", "<@123456789> <@!42> <@&7> x",
		"RT @mayasolovely: As a woman", "rdv @12h30 @123", "see https://medium.com/@someone/post @bob", "@ss @a b", "a@b.fr @x"},
		benchMessages...) {
		checkMentionMarks(t, Analyze(s))
		AnalyzeInto(&into, s) // the tokens of the text before are not marked for this one
		checkMentionMarks(t, &into)
	}
}

func TestEmojis(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"no emoji here :)", 0},
		{"😀", 1},
		{"😀😀😀", 3},
		{"🇫🇷", 1},
		{"🇫🇷🇬🇧", 2},
		{"👍🏽", 1},
		{"👍🏽👍", 2},
		{"👨‍👩‍👧‍👦", 1},
		{"🏳️‍🌈", 1},
		{"🏴󠁧󠁢󠁥󠁮󠁧󠁿", 1},
		{"❤️", 1},
		{"❤", 1},
		{"1️⃣2️⃣", 2},
		{"<:pepe:123456> <a:dance:789>", 2},
		{"<:broken:>", 0},
		{"©2024 and © ™", 0},
		{"‼️", 1},
		{"3 + 4 = 7", 0},
	}
	for _, tt := range tests {
		if got := Analyze(tt.text).Emojis; got != tt.want {
			t.Errorf("Analyze(%q).Emojis = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestCaps(t *testing.T) {
	tests := []struct {
		text string
		want float64
	}{
		{"OK", 0},
		{"STOP IT", 0}, // 6 letters: too short to judge
		{"STOP SPAMMING", 1},
		{"Stop spamming", 1.0 / 12},
		{"bonjour à tous", 0},
		{"ÉCOUTEZ-MOI BIEN", 1},
		{"ARRÊTE https://example.com/ABCDEFGHIJ maintenant", 6.0 / 16},
		{"<@123> <:PEPE:1> hello there", 0},
		{"12345678 !!!", 0},
	}
	for _, tt := range tests {
		if got := Analyze(tt.text).Caps; math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Analyze(%q).Caps = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestLongInputs(t *testing.T) {
	// Long and repetitive inputs, where a scan that is not linear would show.
	tests := []struct {
		text                   string
		links, domains, emojis int
	}{
		{"http://x.com/" + strings.Repeat(")", 100000), 1, 1, 0},
		{strings.Repeat("a.", 50000) + " . com", 1, 1, 0},
		{strings.Repeat(". ", 50000), 0, 0, 0},
		{strings.Repeat("c ", 50000), 0, 0, 0},
		{strings.Repeat("👍🏽", 20000), 0, 0, 20000},
		{strings.Repeat("x.com/a ", 20000), 20000, 1, 0},
	}
	for _, tt := range tests {
		a := Analyze(tt.text)
		if len(a.Links) != tt.links || len(a.Domains) != tt.domains || a.Emojis != tt.emojis {
			t.Errorf("Analyze(%.20q…): %d links, %d domains, %d emojis; want %d, %d, %d",
				tt.text, len(a.Links), len(a.Domains), a.Emojis, tt.links, tt.domains, tt.emojis)
		}
	}
}

// TestAnalyzeIntoResets fills every field of an Analysis, analyses a text into
// it and checks each field is what Analyze gives, but for the arrays reset
// leaves as they were (and the buffers AnalyzeInto keeps): a field added to
// Analysis and not to reset fails here.
func TestAnalyzeIntoResets(t *testing.T) {
	kept := map[string]bool{"tokArr": true, "bufArr": true, "fpArr": true}
	for _, s := range []string{"", "ok", "check https://bit.ly/x @a 06 12 34 56 78 a@b.fr 🔥🔥 SALUT c o n n a r d"} {
		var a Analysis
		v := reflect.ValueOf(&a).Elem()
		for i := range v.NumField() {
			f := v.Field(i)
			f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			switch f.Kind() {
			case reflect.String:
				f.SetString("junk")
			case reflect.Int:
				f.SetInt(7)
			case reflect.Uint64:
				f.SetUint(7)
			case reflect.Float64:
				f.SetFloat(0.5)
			case reflect.Bool:
				f.SetBool(true)
			case reflect.Slice:
				f.Set(reflect.MakeSlice(f.Type(), 1, 1))
			case reflect.Array:
				if f.Len() > 0 && f.Index(0).Kind() == reflect.String {
					f.Index(0).SetString("junk")
				} else if f.Type().Elem().Kind() == reflect.Uint8 {
					f.Index(0).SetUint(1)
				} else {
					f.Index(0).Set(reflect.New(f.Type().Elem()).Elem())
				}
			default:
				t.Fatalf("field %s of kind %s: teach this test to fill it", v.Type().Field(i).Name, f.Kind())
			}
		}
		a.hashes, a.spareToks, a.spareBuf = nil, nil, nil // buffers AnalyzeInto keeps on purpose
		AnalyzeInto(&a, s)
		want := Analyze(s)
		w := reflect.ValueOf(want).Elem()
		for i := range v.NumField() {
			name := v.Type().Field(i).Name
			if kept[name] || name == "hashes" || name == "hashed" || name == "spareToks" || name == "spareBuf" || name == "toks" || name == "buf" {
				continue
			}
			got := reflect.NewAt(v.Field(i).Type(), unsafe.Pointer(v.Field(i).UnsafeAddr())).Elem().Interface()
			exp := reflect.NewAt(w.Field(i).Type(), unsafe.Pointer(w.Field(i).UnsafeAddr())).Elem().Interface()
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("%q: %s = %v after AnalyzeInto, Analyze gives %v", s, name, got, exp)
			}
		}
		if len(a.toks) != len(want.toks) || string(a.buf) != string(want.buf) {
			t.Errorf("%q: tokens %d %q after AnalyzeInto, Analyze gives %d %q", s, len(a.toks), a.buf, len(want.toks), want.buf)
		}
	}
}

func TestMaskedLinks(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"trade offer: [steamcommunity.com/tradeoffer/new](https://steamcommunity-offer.ru/tradeoffer/new)", 1},
		{"your badge: [https://discord.com/badges](https://dlscord-badges.ru/x)", 1},
		{"[a-shop.com](https://b-shop.net) and [c-shop.com](https://c-shop.com/x)", 1},
		{"profile: [steamcommunity.com/id/jean](https://steamcommunity.com/id/jean)", 0},
		{"[www.example.com](https://docs.example.com/a)", 0},
		{"[google.fr](https://www.google.com/maps/place/x)", 0},
		{"[google.fr](https://www.google.com.evil.example/)", 1},
		{"read [the patch notes](https://example.com/patch)", 0},
		// links back to back: the target of one is not the words of the next
		{"[Twitter](https://twitter.com/x)・[YouTube](https://youtube.com/x)", 0},
		{"[GitHub](https://github.com/x)[Docs](https://docs.example.io)", 0},
		{"[Twitter](https://twitter.com/x)・[steamcommunity.com](https://steam-offer.example/gift)", 1},
		// one owner's domains show the site they lead to; a shortener
		// that forwards anywhere does not
		{"[youtu.be/abc](https://www.youtube.com/watch?v=abc)", 0},
		{"[discord.gg/xyz](https://discord.com/invite/xyz)", 0},
		{"[t.co/abc](https://twitter.com/x/status/1)", 0},
		{"[x.com/x](https://t.co/abc)", 1},
		{"[youtu.be/abc](https://youtube.com.evil.example/abc)", 1},
		// as Discord reads them: the target in angle brackets (no
		// preview), spaces around the words or the target, a title,
		// words in code
		{"[steamcommunity.com/gift](<https://steam-offer.example/gift>)", 1},
		{"[youtu.be/abc](<https://www.youtube.com/watch?v=abc>)", 0},
		{"[ steamcommunity.com/gift ]( https://steam-offer.example/gift )", 1},
		{`[steamcommunity.com](https://steam-offer.example/gift "Steam")`, 1},
		{"[`steamcommunity.com`](https://steam-offer.example/gift)", 1},
		{"(see [docs.example.com](https://docs.example.com/a_(b)))", 0},
		{"[Steam, the store](https://steam-offer.example/gift)", 0},
		// a backslash escape shows the character alone, and the link
		// leads where the escape is read
		{"[steamcommunity.com](https://steam-offer\\.example/gift)", 1},
		{"[steamcommunity\\.com](https://steam-offer.example/gift)", 1},
		{"[steamcommunity.com\\/gift](https://steam-offer.example/gift)", 1},
		{"[youtu\\.be/abc](https://www.youtube.com/watch?v=abc)", 0},
		{"[steamcommunity.com](https://steam-offer.example/a\\)b)", 1},
		// a target with a group: up to the group's ")", whatever it holds
		{"[steamcommunity.com](https://steam-offer.example/a_(b(c)d) then more", 1},
		{"[steamcommunity.com](https://steamcommunity.com/a_(b c)) and [x](y)", 0},
		// never closed: Discord shows it as written, the address with it
		{"see [steamcommunity.com](https://steam-offer.example/gift", 0},
		{"see [steamcommunity.com](https://steam-offer.example/gift(", 0},
		// the Wayback Machine's copy of the page the words name
		{"[example.com/a](https://web.archive.org/web/20200101000000/https://www.example.com/a)", 0},
		{"[example.com/a](https://web.archive.org/web/2020/example.com/a)", 0},
		{"[steamcommunity.com](https://web.archive.org/web/2020/https://steam-offer.example/)", 1},
		{"[steamcommunity.com](https://web.archive.org/web/2020/https://steam-offer.example/steamcommunity.com)", 1},
		// archive.org's other pages are its members' uploads: a "/web/"
		// elsewhere in the address is no copy of the page
		{"[steamcommunity.com/gift](https://archive.org/details/steam-gift?/web/2024/https://steamcommunity.com/)", 1},
		{"[steamcommunity.com/gift](https://ia800100.us.archive.org/web/1/https://steamcommunity.com/)", 1},
		{"[steamcommunity.com/gift](https://web.archive.org/details/x?/web/1/https://steamcommunity.com/)", 1},
		{"[example.com/a](web.archive.org/web/2020/https://example.com/a)", 0},
		{"[example.com/a](https://WEB.archive.org/web/2020/https://example.com/a)", 0},
		{"nothing here", 0},
		// Markdown written in inline code or a code block is shown as
		// written: no link
		{"`[google.com](https://example.com)`", 0},
		{"``[google.com](https://example.com)``", 0},
		{"write it like ``[google.com](https://example.com)`` to mask a link", 0},
		{"``a` [google.com](https://example.com) ``", 0},
		{"```[google.com](https://example.com)```", 0},
		{"```md\n[google.com](https://example.com)\n```", 0},
		{"```\n\n[steamcommunity.com](https://steam-offer.example/gift)\n```", 0},
		{"```js\nconst a = 1\n```\nthen `[google.com](https://example.com)`", 0},
		{"use `code`, then `[google.com](https://example.com)` here", 0},
		{"`a` `b` `[google.com](https://example.com)` `c`", 0},
		{"in `my_var` and `[google.com](https://example.com)`", 0},
		{"\\`not code\\` but `[google.com](https://example.com)`", 0},
		{"[docs](https://docs.example.com) shows `[google.com](https://example.com)`", 0},
		{"https://example.com/a then `[google.com](https://example.com)`", 0},
		// a code span next to a real link: the link still counts
		{"`[google.com](https://example.com)` and [steamcommunity.com](https://steam-offer.example/gift)", 1},
		{"`x` [steamcommunity.com](https://steam-offer.example/gift) `[google.com](https://example.com)`", 1},
		// backtick tricks: Discord shows the link, it counts
		{"x`y `[steamcommunity.com](https://steam-offer.example/gift)` ", 1},
		{"`[steamcommunity.com](https://steam-offer.example/gift)", 1},
		{"[steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"`[steamcommunity.com](https://steam-offer.example/gift)``", 1},
		{"``[steamcommunity.com](https://steam-offer.example/gift)```", 1},
		{"``[steamcommunity.com](https://steam-offer.example/gift)`", 1},
		{"[`steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"[steamcommunity.com](https://steam-offer.example/`) `", 1},
		{"[a `b](https://example.com) [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"\\`[steamcommunity.com](https://steam-offer.example/gift)\\`", 1},
		{"`a\\` [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"*a `b* [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"||a `b|| [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"> `a\n[steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"- ```a\n[steamcommunity.com](https://steam-offer.example/gift)\n```", 1},
		{"https://example.com/`a [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"<https://example.com/`> [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"````\n```\n[steamcommunity.com](https://steam-offer.example/gift)\n```\n````", 1},
		{"```js\n```[steamcommunity.com](https://steam-offer.example/gift) ```", 1},
		// a link before the code whose end is not sure: its words
		// carried on by a later "]", an address that runs on past its
		// ")" when Discord shows it as text
		{"[a](https://example.com) `x](https://example.com/b) [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"[a](xhttps://example.com)`x [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"[https://example.com](b)`x [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"[<https://example.com](https://example.com/b) `x> [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		// an escape that takes the first backtick of a run; an
		// autolink over a line feed
		{"\\``x` [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"<https://example.com/\n`x> [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"<[a](https://example.com \"`\") [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"HTTPS://example.com/`a b` [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"HTTPS://example.com/[a](https://example.com/b \"`\") [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		{"steam://x/`a [steamcommunity.com](https://steam-offer.example/gift) `", 1},
		// words that start with a host, then say more
		{"[Steamcommunity.com - trade](https://evil.example)", 1},
		{"[discord.com/nitro claim](https://nitro.example) [example.com docs](https://example.com/docs)", 1},
		{"[claim at https://discord.gift/x](https://nitro.example)", 1},
		{"[claim at discord.gift/x](https://nitro.example)", 0}, // a host further on without a scheme is not read: product names stand there too ("Intro to ASP.NET")
		{"[ASP.NET Core](https://learn.microsoft.com/aspnet/core)", 0},
		{"[Node.js docs](https://nodejs.org/docs)", 0},
		// a product's name that reads as a host, leading to the site named
		// after it; not a known owner's domain, nor in lower case
		{"[Discord.Net](https://docs.discordnet.dev)", 0},
		{"[Discord.Net](https://discord-net.example)", 0},
		{"[Discord.Net](https://discordnet2.example)", 1},
		{"[discord.net](https://docs.discordnet.dev)", 1},
		{"[DISCORD.NET](https://docs.discordnet.dev)", 1},
		{"[Discord.net](https://docs.discordnet.dev)", 1},
		{"[Discord.Com](https://discordcom.example)", 1},
		{"[YouTu.Be/abc](https://youtube.example/abc)", 1},
		// a last label that names only a suffix: the words are a domain,
		// whatever their case, and lead elsewhere
		{"[MyBank.Com](https://mybankcom.example)", 1},
		{"[MyBank.Com](https://www.my-bank-com.example/login)", 1},
		{"[MaBanque.Fr](https://mabanquefr.example/connexion)", 1},
		{"[Boutique.Shop](https://boutiqueshop.example)", 1},
		{"[Discord.NET](https://discordnet.dev)", 0},
		// a .NET product's name is no site: leading to its maker's site
		// or a site named after it (ending in or holding the name), or to
		// a page under its name; not a listed brand's name, nor a name
		// read as a domain
		{"[Json.NET](https://www.newtonsoft.com/json)", 0},
		{"[Akka.NET](https://getakka.net)", 0},
		{"[Quartz.NET](https://www.quartz-scheduler.net)", 0},
		{"[Dapper.NET](https://github.com/DapperLib/Dapper)", 0},
		{"[Serilog.Net](https://serilog.net/)", 0},
		{"[Json.NET](https://evil.example)", 1},
		{"[Json.NET](https://evil.example/download)", 1},
		{"[Akka.NET](https://akkanet-free.example)", 1},
		{"[json.net](https://www.newtonsoft.com/json)", 1},
		{"[JSON.NET](https://www.newtonsoft.com/json)", 1},
		// a name that starts a known owner's or a listed brand's (Steam
		// for steamcommunity.com) is theirs, whatever product it names
		{"[Steam.NET](https://steam-gift.example)", 1},
		{"[Steam.NET](https://free-steam.example)", 1},
		{"[Steam.NET](https://example.com/steam)", 1},
		{"[Steamworks.NET](https://steamworks.github.io)", 0},
		{"[Steam.NET](https://steamnet.example)", 0},
		{"[Akka.NET](https://akka-streams.example)", 0},
		{"[Json.Com](https://www.newtonsoft.com/json)", 1},
		// words naming the suffix the target is a site under: what they
		// show is where it leads
		{"[github.io](https://x.github.io)", 0},
		{"[github.io](https://vigie-bot.github.io/docs/)", 0},
		{"[netlify.app](https://my-site.netlify.app)", 0},
		{"[github.io](https://github.io.evil.example)", 1},
		{"[github.io](https://x.gitlab.io)", 1},
		{"[x.github.io](https://y.github.io)", 1},
		{"[github.com](https://evil.github.io)", 1},
		{"[co.uk](https://mybank.co.uk)", 1},
		// a hosting platform's suffix and its own site are one owner's
		{"[Vercel.app](https://vercel.com)", 0},
		{"[github.io](https://github.com/vigie-bot)", 0},
		{"[pages.dev](https://developers.cloudflare.com/pages/)", 0},
		{"[vercel.app](https://vercel-login.example)", 1},
		// a brand's site in another country: the same name under the
		// country suffixes of big markets, for a name no known owner's,
		// no listed brand's, no name another reads under any suffix
		{"[Nintendo.com](https://www.nintendo.co.jp)", 0},
		{"[nintendo.fr](https://www.nintendo.de/)", 0},
		{"[bbc.co.uk](https://www.bbc.com/news)", 0},
		{"[nintendo.com](https://nintendo.xyz)", 1},
		{"[nintendo.com](https://nintendo.ru)", 1},
		{"[nintendo.com](https://nintendo.co)", 1},
		{"[nintendo.com](https://nintendo-shop.co.jp)", 1},
		{"[nintendo.co.jp](https://nintendo.co.jp.evil.example)", 1},
		{"[discord.com](https://discord.fr)", 1},
		{"[steamcommunity.com](https://steamcommunity.de)", 1},
		{"[paypal.com](https://paypal.com.secure-login.ru)", 1},
		{"[discord.com](https://discord-nitro.gift)", 1},
		{"[steamcommunity.com](https://steamcommunlty.com)", 1},
	}
	for _, tt := range tests {
		if got := Analyze(tt.text).MaskedLinks; got != tt.want {
			t.Errorf("Analyze(%q).MaskedLinks = %d, want %d", tt.text, got, tt.want)
		}
	}
}

// The owners table is read with registrable domains: an entry that is not
// one (amazon.com.be's is com.be, not a public suffix) would never match.
func TestOwnersAreRegistrable(t *testing.T) {
	for d := range owners {
		if r := registrable(d); r != d {
			t.Errorf("owners[%q]: its registrable domain is %q", d, r)
		}
	}
}

// Domains are each once, in the order of their first link, whether the
// message has a few or many (past manyDomains they are told apart by a
// set).
func TestDomainsOnceInOrder(t *testing.T) {
	for _, n := range []int{3, manyDomains, manyDomains + 1, 200} {
		var m strings.Builder
		var want []string
		for i := range n {
			fmt.Fprintf(&m, "https://a.s%d.com/ https://www.s%d.com/x ", i, i)
			want = append(want, fmt.Sprintf("s%d.com", i))
		}
		for i := range n {
			fmt.Fprintf(&m, "http://s%d.com ", n-1-i)
		}
		if got := Analyze(m.String()).Domains; !slices.Equal(got, want) {
			t.Errorf("%d domains: got %v, want %v", n, got, want)
		}
	}
}
