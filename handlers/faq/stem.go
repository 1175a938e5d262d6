package faq

import "strings"

// stem strips the usual French and English endings from a folded word, so that
// "livraison", "livrer" and "livrés", or "shipped" and "shipping", meet on one
// form. It is one stemmer for both languages, not a Snowball per language: a
// message's language is a guess, and the FAQ's examples and a member's question
// must be cut the same way whatever the guess. Consistency matters more here
// than linguistics; typo tolerance on stems covers the rest (retour/retourner).
func stem(w string) string {
	if runeLen(w) <= 3 || !allLetters(w) {
		return w
	}
	if k, ok := keepWhole[w]; ok {
		return k
	}
	s := w
	// Plurals first: deliveries → delivery, jeux → jeu, journaux → journal.
	switch {
	case strings.HasSuffix(s, "ies") && runeLen(s) > 4:
		s = s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "aux") && runeLen(s) > 4:
		s = s[:len(s)-3] + "al"
	case strings.HasSuffix(s, "eux") && runeLen(s) >= 4 && !strings.HasSuffix(s, "ieux"):
		s = s[:len(s)-1]
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss") && !strings.HasSuffix(s, "us") && !strings.HasSuffix(s, "is"):
		s = s[:len(s)-1]
	}
	// Two rounds of endings, so that "ordered" and "order" both reach "ord".
	for range 2 {
		t := stripSuffix(s)
		if t == s {
			break
		}
		s = t
	}
	// French nouns of an action end in -age where the verb ends in -er:
	// démontage and démonter, emballage and emballer, dépannage and
	// dépanner. The rounds above cut the noun to its -ag form; it loses
	// the -ag, leaving four letters at least (a page, a garage, a voyage
	// stay whole), and one more ending, as the verb's second round does
	// (nettoyage and nettoyer).
	if strings.HasSuffix(s, "ag") && !strings.HasSuffix(w, "ag") && runeLen(s) >= 6 && !keepAg[s] {
		s = stripSuffix(s[:len(s)-2])
	}
	return undouble(s)
}

// keepAg are English nouns in -age that are not an action on a verb's stem:
// storage is not a store, coverage not a cover, a package not a pack,
// underage not under, postage (what sending costs) not a post (a job);
// and a message is not a measure (mesure).
var keepAg = map[string]bool{"storag": true, "coverag": true, "packag": true, "underag": true, "messag": true, "postag": true}

// Agent nouns keep their ending (-eur, -euse): a joueur is not jouer, and on a
// gaming server "qui veut jouer ?" is no question about reporting a player.

// keepWhole are English words that would meet a French one they are not:
// agent nouns whose -er is not the French infinitive's (a player is not play,
// a server is not serve), and sold, which is sell's, not soldes'.
var keepWhole = map[string]string{
	"player": "player", "players": "player", "gamer": "gamer", "gamers": "gamer",
	"streamer": "streamer", "streamers": "streamer", "user": "user", "users": "user",
	"member": "member", "members": "member", "owner": "owner", "owners": "owner",
	"server": "server", "servers": "server", "number": "number", "numbers": "number",
	"router": "router", "routers": "router", // not "route"
	"ready":  "ready",                       // not "read"
	"career": "career", "careers": "career", // not "car"
	"planning": "planning", "plannings": "planning", // a schedule, not a plan
	"sold": "sell", // sold is sell's, not soldes' (a sale)
}

// suffixes are tried longest first; English "-ers" is not one: the plural's s
// is cut first, so it only ever cut a French word already cut of its ending
// (traversée, traverser → travers → trav, the stem of travaux); each may only leave a stem of at least
// minStem letters.
var suffixes = func() []string {
	list := []string{
		// French derivations
		"issements", "issement", "ements", "ement", "ments", "ment",
		"ations", "ation", "atrices", "atrice", "ateurs", "ateur",
		"itions", "ition", "tions", "tion", "aisons", "aison",
		"ibilites", "ibilite", "abilites", "abilite",
		"ites", "ite", "ables", "able",
		"ibles", "ible", "iques", "ique", "ismes", "isme", "istes", "iste",
		"ances", "ance", "ences", "ence", "ures", "ure", "ives", "ive", "ifs", "if",
		// French verbs
		"eraient", "erions", "eriez", "erons", "eront", "erait", "erais", "erez", "erai",
		"eras", "era", "issons", "issez", "issent", "issant", "issait",
		"aient", "ais", "ait", "ions", "iez", "ons", "ez", "ant", "ent",
		"ees", "ee", "er", "es", "ir", "e",
		// English
		"ingly", "ings", "ing", "edly", "ed", "ery", "ly", "ness", "ful",
		"abilities", "ability", "ibilities", "ibility",
		"ity", "ive", "ize", "ise", "al", "y",
	}
	// longest first, stable for equal lengths
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && len(list[j]) > len(list[j-1]); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
	return list
}()

// suffixesByLast are the suffixes by their last byte, each list in the order of
// suffixes: a word is only tried against the endings that can be its own.
var suffixesByLast = func() (out [256][]string) {
	for _, suf := range suffixes {
		last := suf[len(suf)-1]
		out[last] = append(out[last], suf)
	}
	return out
}()

const minStem = 3

func stripSuffix(s string) string {
	if s == "" {
		return s
	}
	n := runeLen(s)
	for _, suf := range suffixesByLast[s[len(s)-1]] {
		if strings.HasSuffix(s, suf) && n-runeLen(suf) >= minStem {
			return s[:len(s)-len(suf)]
		}
	}
	return s
}

// undouble drops a doubled final consonant: shipp → ship, appell → appel.
func undouble(s string) string {
	n := len(s)
	if n >= 4 && s[n-1] == s[n-2] && !strings.ContainsRune("aeiou", rune(s[n-1])) {
		return s[:n-1]
	}
	return s
}

// allLetters reports whether w has no digit: a digit is one byte in UTF-8,
// which no other character's bytes are.
func allLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if '0' <= w[i] && w[i] <= '9' {
			return false
		}
	}
	return true
}
