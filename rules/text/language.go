package text

// The language of a text (Analysis.Language) is guessed from its function
// words, the short ones every sentence has whatever it talks about ("le",
// "est", "pas"; "the", "is", "you"): the fingerprint's pass over the words
// counts them, at the cost of a lookup a word. Words of both languages ("a",
// "on", "me", "son") count for neither, and a text with as many of each has
// none.
const (
	langFrench = iota + 1
	langEnglish
)

// functionWords are the words of each language counted, folded as the
// fingerprint reads them (no accent: "ça" is "ca", "où" is "ou"), by their
// wordHash: see langOf.
var functionWords = langTableOf(functionWordMap())

// langTable holds the function words' hashes in an open-addressed array of
// langSlots, a third full at most: the fingerprint looks each word of a text up,
// most of them no function word, and a probe that meets an empty slot in
// the first one or two answers in a few instructions, where a Go map's
// lookup hashes the key again and costs ten times as much.
type langTable [langSlots]struct {
	h    uint64
	lang uint8
}

const langBits = 9
const langSlots = 1 << langBits

func langTableOf(m map[uint64]uint8) *langTable {
	if len(m)*3 > langSlots {
		panic("text: too many function words for their table")
	}
	t := new(langTable)
	for h, lang := range m {
		i := langHome(h)
		for t[i].lang != 0 {
			i = (i + 1) & (langSlots - 1)
		}
		t[i].h, t[i].lang = h, lang
	}
	return t
}

func langHome(h uint64) uint64 { return h * 0x9e3779b97f4a7c15 >> (64 - langBits) }

// langOf is the language of the word of hash h, 0 for none.
func (t *langTable) langOf(h uint64) uint8 {
	for i := langHome(h); t[i].lang != 0; i = (i + 1) & (langSlots - 1) {
		if t[i].h == h {
			return t[i].lang
		}
	}
	return 0
}

func functionWordMap() map[uint64]uint8 {
	m := make(map[uint64]uint8)
	for _, w := range []string{"le", "la", "les", "des", "du", "de", "un", "une", "et", "est", "sont",
		"que", "qui", "pas", "pour", "dans", "sur", "avec", "ce", "cette", "ces", "il", "elle", "ils",
		"elles", "je", "tu", "nous", "vous", "mais", "ou", "plus", "tout", "tous", "suis", "ca",
		"au", "aux", "leur", "leurs", "mon", "ton", "sa", "ses", "mes", "tes", "nos", "vos", "sont",
		"etre", "avoir", "fait", "faire", "comme", "quand", "aussi", "bien", "tres", "rien", "oui",
		"non", "merci", "bonjour", "jamais", "toujours", "encore", "ici", "parce", "qu", "c", "j",
		"l", "jsuis", "wesh", "mdr", "ptdr"} {
		m[wordHash([]byte(w))] = langFrench
	}
	for _, w := range []string{"the", "and", "you", "your", "is", "are", "was", "were", "to", "of",
		"in", "it", "that", "this", "with", "for", "not", "but", "what", "they", "have", "has",
		"be", "my", "just", "so", "like", "all", "if", "do", "don", "can", "we", "he", "she", "his",
		"her", "at", "by", "from", "i", "im", "u", "ur", "get", "got", "when", "who", "how", "why",
		"will", "would", "should", "been", "about", "out", "up", "no", "yes", "thanks", "hello",
		"never", "always", "still", "here", "because", "ain", "lol", "lmao", "gonna", "wanna",
		"yall", "dont", "cant", "its", "there", "their", "them", "one", "or", "an", "our", "us"} {
		if m[wordHash([]byte(w))] == langFrench {
			delete(m, wordHash([]byte(w))) // of both languages: of neither
			continue
		}
		m[wordHash([]byte(w))] = langEnglish
	}
	return m
}
