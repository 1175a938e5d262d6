package text

import (
	"strings"
	"sync"
)

// Self-promotion is said in a few shapes whatever the language: an invitation
// (check out, subscribe, follow, va voir, abonnez-vous), a possessive (my, our,
// ma, notre), a thing one publishes (channel, video, chaîne). The patterns
// below are sequences of word slots; each slot lists its words, "?" makes it
// optional. Words are read like list entries (folded, leetspeak, stretching),
// so "ch3ck 0ut my ch4nnel" and "S U B S C R I B E to my channel" count.
var promoPatterns = []string{
	// EN: check out my channel, watch our new video, listen to my music
	"check|checkout|visit|watch|see|view|listen|hear|look|go|come|pls|please out|at|to|into|on|over|by? " +
		promoMy + " " + promoThings,
	// subscribe to my channel, sub to me, follow me on insta, follow my page
	"subscribe|sub|subs|suscribe|subcribe|subscibe|subscrib|sucscribe|subsribe|subscribing to? me|us|my|our",
	"follow|folow me|us on|at",
	"follow|folow " + promoMy + " " + promoThings,
	"sub4sub|sub4sub's|subforsub|s4s|f4f|l4l|follow4follow|like4like",
	"sub|subscribe|follow|like 4|for sub|subscribe|follow|like|back",
	"subscribe|sub back|plz|please|pls",
	"please|plz|pls subscribe|sub|suscribe|subcribe|subscrib",
	"subscribers|subs|subscriber please|plz|pls",
	"be|become my|our first|1st|next? subscriber|subscribers|sub|subs|follower|followers",
	"like|thumbs and|n? subscribe|sub|share|subscrib|suscribe|subcribe",
	"take|have a look|peek at|on my|our|this " + promoThings,
	"give|leave|drop it|this|me|us a like|thumbs",
	"like|thumb this|my comment|comments",
	"add|follow me|us on|at snapchat|snap|insta|instagram|ig|facebook|fb|kik|discord|telegram|whatsapp|tiktok|twitter",
	"dm|pm|inbox|text|message|contact me|us on|via|at whatsapp|telegram|snapchat|snap|kik|instagram|insta|ig",
	// FR: abonnez-vous, abonne-toi à ma chaîne, va voir ma chaîne, suivez-moi sur insta
	"abonnez|abonne|abonnes|abonner vous|toi|nous",
	"abonnezvous|abonnetoi",
	"va|allez|venez|viens|passez|passe|regardez|regarde|checkez|checke|decouvrez|decouvre|ecoutez|ecoute|visitez " +
		"voir|faire|sur|a|jeter? un? tour|oeil? sur|a? " + promoMon + " " + promoChoses,
	"suivez|suis|ajoutez|ajoute|rejoignez|rejoins moi|nous sur|en snap|snapchat|insta|instagram|tiktok|twitter|facebook|fb|discord|telegram|whatsapp|twitch|youtube",
	"suivez|abonnez moi|nous",
	"ecrivez|ecris|contactez|contacte moi|nous en|sur|par mp|dm|prive|whatsapp|telegram|snap|insta",
}

const promoMy = "my|our new|latest|first|own|youtube|yt|music|gaming|little|small|official|next|recent?"

const promoThings = "channel|channels|chanel|chanell|chanels|video|videos|vid|vids|vidz|music|song|songs|page|" +
	"profile|playlist|cover|covers|mixtape|rap|raps|track|tracks|stuff|insta|instagram|ig|" +
	"twitch|tiktok|stream|streams|band|blog|website|shop|store|bio|pics|photos|ep|album|beats|podcast"

const promoMon = "ma|mon|mes|notre|nos nouvelle|nouvelles|nouveau|nouveaux|derniere|dernieres|dernier|premiere|premier|petite|petit?"

const promoChoses = "chaine|chaines|video|videos|page|insta|tiktok|twitch|playlist|musique|son|sons|" +
	"clip|clips|live|stream|blog|boutique|album|podcast|morceau|morceaux|titre|single"

// promoSlot is one word position of a pattern.
type promoSlot struct {
	words map[string]bool
	opt   bool
}

// promoSet is the compiled patterns, indexed by the words of their first slot.
type promoSet struct {
	first map[string][]int
	pats  [][]promoSlot
	// lens has bit n set in lens[c1][c2] when a first word of n bytes starts
	// with c1 c2 (c2 is 26 for anything but a-z): most words of a text are
	// ruled out without a map lookup.
	lens [26][27]uint64
}

// promos compiles promoPatterns once; the result is never changed after.
var promos = sync.OnceValue(func() *promoSet {
	ps := &promoSet{first: map[string][]int{}}
	for _, src := range promoPatterns {
		var pat []promoSlot
		for _, f := range strings.Fields(src) {
			sl := promoSlot{words: map[string]bool{}}
			if strings.HasSuffix(f, "?") {
				sl.opt = true
				f = strings.TrimSuffix(f, "?")
			}
			for _, w := range strings.Split(f, "|") {
				if form := promoWord(w); form != "" {
					sl.words[form] = true
				}
			}
			pat = append(pat, sl)
		}
		k := len(ps.pats)
		ps.pats = append(ps.pats, pat)
		for w := range pat[0].words {
			ps.first[w] = append(ps.first[w], k)
			if c := w[0]; 'a' <= c && c <= 'z' && len(w) < 64 {
				ps.lens[c-'a'][second(w)] |= 1 << len(w)
			}
		}
	}
	return ps
})

// second indexes lens by the second letter of w.
func second[T string | []byte](w T) int {
	if len(w) < 2 || w[1] < 'a' || w[1] > 'z' {
		return 26
	}
	return int(w[1] - 'a')
}

// promoWord reads a pattern word as the tokenizer reads text.
func promoWord(w string) string {
	buf, toks, _ := tokenize(w, nil, nil, nil, nil)
	if len(toks) == 0 {
		return ""
	}
	var b strings.Builder
	for _, t := range toks {
		b.Write(buf[t.form[0].lo:t.form[0].hi])
	}
	return b.String()
}

// promoCount counts the self-promotion phrases of a, each word in one at most.
func promoCount(a *Analysis) int {
	ps := promos()
	n := 0
	for i := 0; i < len(a.toks); i++ {
		w := a.promoForm(i)
		if len(w) == 0 || w[0] < 'a' || w[0] > 'z' || len(w) >= 64 || ps.lens[w[0]-'a'][second(w)]&(1<<len(w)) == 0 {
			continue
		}
		for _, k := range ps.first[string(w)] {
			if end := ps.match(a, ps.pats[k], 1, i+1); end > 0 {
				n++
				i = end - 1
				break
			}
		}
	}
	return n
}

// promoForm is the spelling of token i that patterns read: stretched words
// collapsed ("subscriiiibe"), since no pattern word has a letter three times.
func (a *Analysis) promoForm(i int) []byte {
	t := &a.toks[i]
	if !t.coll[0].empty() {
		return a.buf[t.coll[0].lo:t.coll[0].hi]
	}
	return a.buf[t.form[0].lo:t.form[0].hi]
}

// match matches slots from s on against tokens from i and returns the token
// after the match, or 0.
func (ps *promoSet) match(a *Analysis, pat []promoSlot, s, i int) int {
	if s == len(pat) {
		return i
	}
	sl := &pat[s]
	if i < len(a.toks) && sl.words[string(a.promoForm(i))] {
		if end := ps.match(a, pat, s+1, i+1); end > 0 {
			return end
		}
	}
	if sl.opt {
		return ps.match(a, pat, s+1, i)
	}
	return 0
}
