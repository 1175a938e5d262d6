package text

import (
	"strconv"
	"strings"
	"testing"
)

func TestLinkSignals(t *testing.T) {
	tests := []struct {
		text                       string
		invites, telegram, shorted int
	}{
		{"join discord.gg/abc now", 1, 0, 0},
		{"https://discord.com/invite/xyz and https://discordapp.com/invite/q", 2, 0, 0},
		{"https://discord.com/channels/1/2", 0, 0, 0},
		{"discord.gg is down?", 0, 0, 0},
		{"t.me/freecrypto and https://telegram.me/x", 0, 2, 0},
		{"http://bit.ly/x tinyurl.com/abc https://t.co/zz", 0, 0, 2}, // t.co wraps every tweeted link
		{"https://youtube.com/watch?v=1 youtu.be/abc", 0, 0, 0},
	}
	for _, tt := range tests {
		a := Analyze(tt.text)
		if a.Invites != tt.invites || a.TelegramLinks != tt.telegram || a.Shortened != tt.shorted {
			t.Errorf("Analyze(%q): invites, telegram, shortened = %d, %d, %d; want %d, %d, %d",
				tt.text, a.Invites, a.TelegramLinks, a.Shortened, tt.invites, tt.telegram, tt.shorted)
		}
	}
}

func TestContacts(t *testing.T) {
	tests := []struct {
		text           string
		emails, phones int
	}{
		{"écris à bob@example.com", 1, 0},
		{"a@b.fr, first.last+tag@mail.co.uk.", 2, 0},
		{"@user hello", 0, 0},
		{"rdv @12h30", 0, 0},
		{"me@localhost", 0, 0},
		{"call 06 12 34 56 78 now", 0, 1},
		{"+33612345678", 0, 1},
		{"+33 6 12 34 56 78", 0, 1},
		{"(555) 123-4567 or 555-123-4567", 0, 2},
		{"0612345678", 0, 1},
		{"on 2026-11-20 10:00", 0, 0},
		{"order 1234567890", 0, 0},
		{"version 1.2.3.4.5.6.7.8.9.10", 0, 0},
		{"3.5 million and 12,000,000,000", 0, 0},
		{"ref0612345678x", 0, 0},
		{"call 06.12.34.56.78", 0, 1},
		{"2.124.821.694 views", 0, 0},
		{"call 718-622-0221 now", 0, 1},
	}
	for _, tt := range tests {
		a := Analyze(tt.text)
		if a.Emails != tt.emails || a.Phones != tt.phones {
			t.Errorf("Analyze(%q): emails, phones = %d, %d; want %d, %d", tt.text, a.Emails, a.Phones, tt.emails, tt.phones)
		}
	}
}

func TestWallets(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"DONATE BITCOINS TO ME AT: 1FHeNqx1twqM153v2PTAyieJNEALAhZvEM", 1},
		{"send to 0x52908400098527886E0F7030069857D2E4169EE7 now", 1},
		{"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 1},
		{"TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL", 1},
		{"Pneumonoultramicroscopicsilicovolcanoconiosis", 0},
		{"Mmmmmmmmmmmmmmmmmmmmmmmmmmmmmm", 0},
		{"12345678901234567890123456789", 0},
		{"0x123 is a small number", 0},
		{"https://example.com/1FHeNqx1twqM153v2PTAyieJNEALAhZvEM", 0},
	}
	for _, tt := range tests {
		if got := Analyze(tt.text).Wallets; got != tt.want {
			t.Errorf("Analyze(%q).Wallets = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestMaxRunWordsEmojiShare(t *testing.T) {
	tests := []struct {
		text   string
		run    int
		words  int
		emojis int
	}{
		{"", 0, 0, 0},
		{"ok", 1, 1, 0},
		{"hello", 2, 1, 0},
		{"NOOOOooon", 7, 1, 0},
		{"what!!!!!!", 6, 1, 0},
		{"😂😂😂 lol", 3, 1, 3},
		{"&#128514;&#128514; ghetto", 2, 1, 2},
		{"1000000 a a a", 1, 2, 0}, // spaced letters are one word
		{"so https://example.com/aaaaaaaaaa", 1, 1, 0},
		{"éééé", 4, 1, 0},
	}
	for _, tt := range tests {
		a := Analyze(tt.text)
		if a.MaxRun != tt.run || a.Words != tt.words || a.Emojis != tt.emojis {
			t.Errorf("Analyze(%q): max run, words, emojis = %d, %d, %d; want %d, %d, %d",
				tt.text, a.MaxRun, a.Words, a.Emojis, tt.run, tt.words, tt.emojis)
		}
	}
	if a := Analyze("😂😂😂 lol"); a.EmojiShare != 0.75 {
		t.Errorf("EmojiShare = %v, want 0.75", a.EmojiShare)
	}
}

func TestPromo(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"Hey guys check out my new channel", 1},
		{"ch3ck 0ut my ch4nnel", 1},
		{"please subscribe to my channel", 1},
		{"S U B S C R I B E to my channel!!", 1},
		{"sub4sub anyone? sub 4 sub", 2},
		{"like and subscribe", 1},
		{"follow me on insta @x", 1},
		{"add me on snapchat", 1},
		{"Abonnez-vous à ma chaîne", 1},
		{"abonne toi", 1},
		{"allez faire un tour sur ma chaîne", 1},
		{"va voir ma nouvelle vidéo", 1},
		{"viens voir mes vidéos et suis moi sur insta", 2},
		{"écris-moi en mp", 1},
		{"dm me on whatsapp for details", 1},
		{"listen to my music", 1},
		{"Please become my first subscriber.", 1},
		{"Take a look at this video on YouTube", 1},
		{"LIKE AND SUBSCRIB", 1},
		{"Follow 4 Follow", 1},
		{"give it a like", 1},
		{"thumbs up if you agree", 0}, // bait, maybe, but not promotion
		// innocent
		{"check out the patch notes", 0},
		{"follow my advice", 0},
		{"I subscribe to that idea", 0},
		{"je suis moi-même", 0},
		{"regarde mon compte, il est bloqué", 0},
		{"my channel is muted", 0},
		{"the video is great", 0},
	}
	for _, tt := range tests {
		if got := Analyze(tt.text).Promo; got != tt.want {
			t.Errorf("Analyze(%q).Promo = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	same := [][]string{
		{"Free Nitro here", "FREE   nitro HERE!!", "fr€€ n1tr0 here", "free nitro heeeere", "ｆｒｅｅ ｎｉｔｒｏ here"},
		{"free nitro https://a.example/x", "free nitro https://b.example/y", "free nitro"},
		{"@bob buy now", "@alice buy now", "<@123> buy now", "buy now"},
	}
	for _, group := range same {
		want := Analyze(group[0]).Fingerprint
		if len(want) != 16 {
			t.Errorf("Fingerprint(%q) = %q, want 16 hex digits", group[0], want)
		}
		for _, s := range group[1:] {
			if got := Analyze(s).Fingerprint; got != want {
				t.Errorf("Fingerprint(%q) = %q, want %q as for %q", s, got, want, group[0])
			}
		}
	}
	different := []string{"free nitro", "nitro free", "free nitros", "free nitro now", "idiot", "idiots"}
	seen := map[string]string{}
	for _, s := range different {
		fp := Analyze(s).Fingerprint
		if other, dup := seen[fp]; dup {
			t.Errorf("%q and %q have the same fingerprint", s, other)
		}
		seen[fp] = s
	}
	for _, s := range []string{"", "   ", "!!!", "https://example.com/x", "@bob"} {
		if fp := Analyze(s).Fingerprint; fp != "" {
			t.Errorf("Fingerprint(%q) = %q, want empty", s, fp)
		}
	}
}

func TestSketch(t *testing.T) {
	shared := func(x, y string) int {
		a, b := Analyze(x), Analyze(y)
		n := 0
		for i := range SketchBands {
			if s := a.Sketch(i); s != "" && s == b.Sketch(i) {
				n++
			}
		}
		return n
	}
	base := "hey guys check out my new song on my channel, it took me weeks to write it"
	if n := shared(base, base); n != SketchBands {
		t.Errorf("a text shares %d bands with itself, want %d", n, SketchBands)
	}
	if n := shared(base, "Hey guys, check out my NEW song on my channel: it took me weeks to write it!! https://x.example"); n != SketchBands {
		t.Errorf("a copy with another link shares %d bands, want %d", n, SketchBands)
	}
	if n := shared(base, "hey guys check out my new song on my channel, it took me days to write it"); n == 0 {
		t.Error("a near copy (one word changed) shares no band")
	}
	if n := shared(base, "the weather in Paris is lovely today and tomorrow it will rain again"); n != 0 {
		t.Errorf("unrelated texts share %d bands", n)
	}
	a := Analyze("too short")
	for i := -1; i <= SketchBands; i++ {
		if s := a.Sketch(i); s != "" {
			t.Errorf("Sketch(%d) of a short text = %q", i, s)
		}
	}
	if s := Analyze(base).Sketch(SketchBands); s != "" {
		t.Errorf("Sketch out of range = %q", s)
	}
	if s := Analyze(base).Sketch(0); len(s) != 16 || strings.Trim(s, "0123456789abcdef") != "" {
		t.Errorf("Sketch(0) = %q, want 16 hex digits", s)
	}
}

func TestSketchesAreSketch(t *testing.T) {
	texts := append([]string{"", "ok", "gg wp les amis", "check out my new channel on youtube please",
		"Salut à tous, venez voir ma chaîne https://youtu.be/x et abonnez-vous", "c o n n a r d de la forêt noire ce soir"},
		benchMessages...)
	var into Analysis // the engine's way, with the words' hashes kept
	for _, s := range texts {
		AnalyzeInto(&into, s)
		for _, a := range []*Analysis{Analyze(s), &into} {
			all := a.Sketches()
			for b := range SketchBands {
				if all[b] != a.Sketch(b) {
					t.Errorf("%q: Sketches()[%d] = %q, Sketch(%d) = %q", s, b, all[b], b, a.Sketch(b))
				}
			}
		}
	}
}

// TestSketchSumsInto checks that the sketch of an analysis made by
// AnalyzeInto, from the word hashes the fingerprint kept, is the sketch of
// one made by Analyze, which hashes the words again.
func TestSketchSumsInto(t *testing.T) {
	var into Analysis
	for _, s := range append([]string{"", "one two three four", "@a @b c d e f https://x.example/a b", "same same same same"}, benchMessages...) {
		AnalyzeInto(&into, s)
		got, gotOK := into.SketchSums()
		want, wantOK := Analyze(s).SketchSums()
		if got != want || gotOK != wantOK {
			t.Errorf("%q: AnalyzeInto's sketch %x %v, Analyze's %x %v", s, got, gotOK, want, wantOK)
		}
	}
}

// TestAppendHex16: the fingerprint and the sketch bands are written as
// strconv writes h|1<<63 in hexadecimal, which counter keys stored before
// were made of.
func TestAppendHex16(t *testing.T) {
	for _, h := range []uint64{0, 1, 0xf, 0xdeadbeef, 1 << 63, ^uint64(0), 0x0123456789abcdef, 0x7fffffffffffffff} {
		want := strconv.AppendUint([]byte("k|"), h|1<<63, 16)
		if got := appendHex16([]byte("k|"), h); string(got) != string(want) {
			t.Errorf("appendHex16(%#x) = %q, want %q", h, got, want)
		}
	}
}

// FuzzShort8 checks the one-load reading of a short word against the bytes
// shifted in one by one, whatever follows the word in its buffer.
func FuzzShort8(f *testing.F) {
	f.Add([]byte("nitro and more"), 5)
	f.Add([]byte("a"), 1)
	f.Add([]byte(""), 0)
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff"), 7)
	f.Fuzz(func(t *testing.T, buf []byte, n int) {
		if n < 0 || n >= 8 || n > len(buf) {
			return
		}
		var want uint64
		for i, c := range buf[:n] {
			want |= uint64(c) << (8 * i)
		}
		for _, w := range [][]byte{buf[:n], buf[:n:n]} {
			if got := short8(w); got != want {
				t.Fatalf("short8(%q, cap %d) = %#x, want %#x", w, cap(w), got, want)
			}
		}
	})
}

// FuzzAppendHex16 checks appendHex16 against strconv on any number.
func FuzzAppendHex16(f *testing.F) {
	f.Add(uint64(0))
	f.Add(uint64(0xdeadbeef))
	f.Fuzz(func(t *testing.T, h uint64) {
		want := strconv.AppendUint([]byte("k|"), h|1<<63, 16)
		if got := appendHex16([]byte("k|"), h); string(got) != string(want) {
			t.Fatalf("appendHex16(%#x) = %q, want %q", h, got, want)
		}
	})
}
