package classify

import (
	"encoding/binary"
	"slices"

	"github.com/vigie-bot/vigie/rules/text"
)

// FeatureVersion names the way features are computed. A model remembers the
// version it was trained with and is refused by a vigie that computes them
// another way: its weights would be read against features they never saw.
const FeatureVersion = 4

// Char n-grams run from minGram to maxGram bytes over each word padded with a
// space on both sides (" free " gives " f", " fr", …, "ee "): the folded words
// are mostly ASCII, and word-bounded n-grams carry the prefixes and suffixes
// of words that a word list spells in full ("idiots", "idiotic", "idiot").
// They also see "bitc" in bitcoin and "ass" in Assassin's: a model learns
// whether to read them (Options.NoGrams), and its file says so.
const (
	minGram = 2
	maxGram = 5
	// maxWordGrams bounds the bytes of a word that make n-grams: a word of
	// 200 letters says what it has to say in its first 40.
	maxWordGrams = 40
	// maxWords bounds the words read: the start of a wall of text is enough,
	// and it bounds the cost of a message.
	maxWords = 200
)

// A word's first letters are features too, from minPrefix to maxPrefix bytes
// when the word is longer: they carry the inflections and spellings of a word
// ("bitchez", "niggah", "fuckin") that a word list and the words alone miss,
// without reading a word's middle as the n-grams do ("ass" is not in
// "class").
const (
	minPrefix = 5
	maxPrefix = 6
)

// Features are the hashed features of one text: Words are the words (each
// also with the text's language), their first letters, word pairs and link
// parts, Grams the character n-grams of the words, Whole the words of
// exactly minPrefix letters read as their own first letters, Shape the
// features of the message's form (links, domains, mentions, capitals,
// emoji), each counted once. A model weighs the words and either the
// n-grams, if it reads them, or Whole, scaled by one over the square root of
// their number, so that a long text does not score high for its length
// alone. A Features is reused from one text to the next.
//
// Whole: a word of five letters is its own first five, so that "bitch"
// shares what is learnt of "bitches" and "bitchez" (and "idiot" of
// "idiots"), as the n-grams of a model that reads them already make it
// share; without n-grams, "bitch" and "bitches" had no feature in common.
// A model with n-grams does not read them: its features are those it had.
type Features struct {
	Words []uint32
	Grams []uint32
	Whole []uint32
	Shape []uint32

	gram [maxWordGrams + 2]byte
}

// Feature namespaces: a word "ok" and the bigram "o k" must not share a hash.
const (
	nsWord byte = iota + 1
	nsPair
	nsGram
	nsLink
	nsDomain
	nsShape
	nsPrefix
	nsLang
	nsFamily
)

// Extract computes the features of an analysed text into f, in one pass
// over its words: the features of ExtractLean then AddGrams.
func (f *Features) Extract(a *text.Analysis) { f.extract(a, true) }

// ExtractLean computes the features of an analysed text into f but the
// character n-grams, which are most of the work and which a model that does
// not read them (Model.Grams) has no use for: the engine adds them with
// AddGrams only when such a model asks.
func (f *Features) ExtractLean(a *text.Analysis) { f.extract(a, false) }

// extract is Extract, or ExtractLean without grams.
func (f *Features) extract(a *text.Analysis, grams bool) {
	f.Words, f.Grams, f.Whole, f.Shape = f.Words[:0], f.Grams[:0], f.Whole[:0], f.Shape[:0]
	var prev uint32 // hash of the previous plain word, 0 at the start
	words, mentions := 0, 0
	// lang tells the words of a French text from the same words in an
	// English one: "retard" is a delay in one and a slur in the other.
	var lang uint32 // "fr" or "en" as a number, 0 when the language is not known
	switch a.Language {
	case "fr":
		lang = 0x6672
	case "en":
		lang = 0x656e
	}
	a.EachWord(func(w []byte, kind text.WordKind) {
		if words >= maxWords {
			return
		}
		words++
		switch kind {
		case text.WordMention:
			mentions++
			prev = 0
			return
		case text.WordLink:
			f.Words = append(f.Words, hashBytes(nsLink, w))
			prev = 0
			return
		}
		prev = f.word(w, lang, prev)
		if grams {
			f.grams(w)
		}
	})
	f.shapeOf(a, mentions)
}

// A model reads its weights a cache line (64 bytes, 64 weights) at a time,
// and a weight it reads at a random place in a table larger than the
// processor's cache is a trip to memory. So the features of one word (the
// word, the word in its language, its first letters) share a line, chosen
// by the word's first minPrefix letters (its family), each at its own place
// in it: a word costs one line where it cost three or four, and "bitches"
// and "bitchez" read the same one. The word pairs, links, domains and
// n-grams keep a line each (a pair's line by a frequent word would be
// crowded). A feature's hash is its line's bits over lineSlots and its
// place's below; a model indexes its table with the hash's low bits.
const lineSlots = 64

// inLine places the feature of hash h in the line of family.
func inLine(family, h uint32) uint32 {
	return family&^(lineSlots-1) | h&(lineSlots-1)
}

// word appends the features of the plain word w, after the word whose hash is
// prev (0 at the start or after a mention or link), and returns w's hash.
func (f *Features) word(w []byte, lang, prev uint32) uint32 {
	h := hashBytes(nsWord, w)
	family := hashBytes(nsFamily, w[:min(len(w), minPrefix)])
	// at most five features: room for them all, written in place rather
	// than appended one by one
	out := f.Words
	if cap(out)-len(out) < 5 {
		out = slices.Grow(out, 5)
	}
	k := len(out)
	out = out[:k+5]
	out[k] = inLine(family, h)
	k++
	if lang != 0 {
		out[k] = inLine(family, mix32(uint32(nsLang)<<24^lang^h*0x9e3779b1))
		k++
	}
	if prev != 0 {
		out[k] = mix32(uint32(nsPair)<<24 ^ prev*0x9e3779b1 ^ h)
		k++
	}
	if len(w) > minPrefix {
		// the first letters' hashes, each the one before it with one more
		// byte: hashBytes of w[:n] reads w[:4] as a number and the rest
		// byte by byte, so w[:n+1] is w[:n] and w[n] while n+1 < 8
		p := fnvState(nsPrefix, w[:minPrefix])
		out[k] = inLine(family, mix32(p))
		k++
		for n := minPrefix + 1; n <= maxPrefix && n < len(w); n++ {
			p = (p ^ uint32(w[n-1])) * 16777619
			out[k] = inLine(family, mix32(p))
			k++
		}
	}
	f.Words = out[:k]
	if len(w) == minPrefix {
		f.Whole = append(f.Whole, inLine(family, hashBytes(nsPrefix, w)))
	}
	return h
}

// grams writes the n-grams of 2 to 5 bytes in a row where all of them start.
const (
	_ = uint(minGram - 2)
	_ = uint(2 - minGram)
	_ = uint(maxGram - 5)
	_ = uint(5 - maxGram)
)

// word's prefixes are hashed one from the other (see word): from 4 bytes to
// fewer than 8, the bytes past the first four are read one by one.
const (
	_ = uint(minPrefix - 4)
	_ = uint(7 - maxPrefix)
	_ = uint(5 - (3 + maxPrefix - minPrefix + 1)) // word writes at most five features
)

// shapeLine is the line of the shape's features, each at a place of its own:
// one line for them all, read by every text.
var shapeLine = mix32(uint32(nsShape) << 24)

// shapeOf appends the features of the message's form.
func (f *Features) shapeOf(a *text.Analysis, mentions int) {
	for _, d := range a.Domains {
		f.Shape = append(f.Shape, hashString(nsDomain, d))
	}
	// each feature's buckets take the places after the previous one's: 44
	// of the line's 64
	place := uint32(0)
	shape := func(value, buckets int) {
		f.Shape = append(f.Shape, shapeLine&^(lineSlots-1)|place+uint32(value))
		place += uint32(buckets)
	}
	shape(bucket(len(a.Links), 0, 1, 2, 3), 4)
	shape(bucket(mentions, 0, 1, 2, 3, 5), 5)
	shape(bucket(a.Emojis, 0, 1, 2, 5, 10), 5)
	shape(bucket(a.Words, 0, 1, 2, 4, 8, 16, 32, 64), 8)
	shape(bucket(int(a.Caps*10), 0, 1, 3, 5, 7, 9), 6)
	shape(bucket(a.MaxRun, 0, 3, 5, 8), 4)
	shape(bucket(a.Promo, 0, 1, 2), 3)
	shape(bucket(a.Invites+a.TelegramLinks, 0, 1), 2)
	shape(bucket(a.Shortened, 0, 1), 2)
	shape(bucket(a.Wallets, 0, 1), 2)
	shape(bucket(a.Emails+a.Phones, 0, 1), 2)
	shape(0, 1) // the bias: a feature every text has
}

// AddGrams sets the character n-grams of f, which ExtractLean left out, from
// the same analysed text: those of the plain words among the first maxWords,
// in the order Extract would have made them.
func (f *Features) AddGrams(a *text.Analysis) {
	f.Grams = f.Grams[:0]
	words := 0
	a.EachWord(func(w []byte, kind text.WordKind) {
		if words >= maxWords {
			return
		}
		words++
		if kind == text.WordMention || kind == text.WordLink {
			return
		}
		f.grams(w)
	})
}

// grams appends the n-grams of w padded with spaces.
func (f *Features) grams(w []byte) {
	g := f.gram[:0]
	g = append(g, ' ')
	g = append(g, w[:min(len(w), maxWordGrams)]...)
	g = append(g, ' ')
	// at most maxGram-minGram+1 n-grams start at each byte: room for them
	// all, written in place rather than appended one by one
	out := slices.Grow(f.Grams, len(g)*(maxGram-minGram+1))
	k := len(out)
	out = out[:cap(out)]
	i := 0
	// where all four n-grams start, without a check of the word's end at
	// each: the FNV-1a of " fr" is that of " f" and one byte more
	for ; i+maxGram <= len(g); i++ {
		b := g[i : i+maxGram]
		o := out[k : k+maxGram-minGram+1]
		h := (uint32(2166136261) ^ uint32(nsGram) ^ uint32(b[0])) * 16777619
		h = (h ^ uint32(b[1])) * 16777619
		o[0] = mix32(h ^ 2<<28)
		h = (h ^ uint32(b[2])) * 16777619
		o[1] = mix32(h ^ 3<<28)
		h = (h ^ uint32(b[3])) * 16777619
		o[2] = mix32(h ^ 4<<28)
		h = (h ^ uint32(b[4])) * 16777619
		o[3] = mix32(h ^ 5<<28)
		k += maxGram - minGram + 1
	}
	for ; i < len(g); i++ {
		h := uint32(2166136261) ^ uint32(nsGram)
		for n := 1; n <= maxGram && i+n <= len(g); n++ {
			h = (h ^ uint32(g[i+n-1])) * 16777619
			if n >= minGram {
				out[k] = mix32(h ^ uint32(n)<<28)
				k++
			}
		}
	}
	f.Grams = out[:k]
}

// bucket is the index of the last bound that n reaches: bounds 0, 1, 2, 3
// make 0, 1, 2 and 3-or-more. The bounds rise: the first that n does not
// reach ends the search.
func bucket(n int, bounds ...int) int {
	b := 0
	for i, lo := range bounds {
		if n < lo {
			break
		}
		b = i
	}
	return b
}

// hashBytes is FNV-1a over a namespace and b, mixed: stable across
// machines and versions, since a model's weights are laid out by it.
func hashBytes(ns byte, b []byte) uint32 { return mix32(fnvState(ns, b)) }

// fnvState is hashBytes before its mix.
func fnvState(ns byte, b []byte) uint32 {
	h := uint32(2166136261) ^ uint32(ns)
	h *= 16777619
	for len(b) >= 4 {
		h = (h ^ binary.LittleEndian.Uint32(b)) * 16777619
		b = b[4:]
	}
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}

func hashString(ns byte, s string) uint32 {
	h := uint32(2166136261) ^ uint32(ns)
	h *= 16777619
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return mix32(h)
}

// mix32 is the finaliser of MurmurHash3: FNV's low bits, which index the
// weights, are poor on their own.
func mix32(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
