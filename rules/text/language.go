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
// fingerprint reads them (no accent: "ça" is "ca", "où" is "ou").
var functionWords = func() map[uint64]uint8 {
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
}()
