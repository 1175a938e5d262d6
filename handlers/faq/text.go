package faq

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// word is one word of a message: folded (case, accents, ligatures, stretched
// letters) and, for the words that carry meaning, its stem.
type word struct {
	folded string
	stem   string // empty for a stop word
	// lex says which of the lexicon's sets folded is in
	lex lexFlags
	// info is what the matcher's memo knows of folded, nil when nothing
	// (see known).
	info *wordInfo
}

// fold lowers s and drops its accents: "Où ÊTES-vous" → "ou etes-vous". Members
// type without accents as often as with, so both spellings must meet.
func fold(s string) string {
	if ascii, lower := asciiCase(s); ascii {
		// NFKD leaves ASCII as it is: only the case and the backquote change
		if lower && strings.IndexByte(s, '`') < 0 {
			return s
		}
		b := []byte(s)
		for i, c := range b {
			switch {
			case 'A' <= c && c <= 'Z':
				b[i] = c + 'a' - 'A'
			case c == '`':
				b[i] = '\''
			}
		}
		return string(b)
	}
	if f, ok := foldByRune(s); ok {
		return f
	}
	return foldNFKD(s)
}

// foldNFKD is fold the long way: decomposed (NFKD), the combining accents
// dropped, the ligatures spelled out, lowered.
func foldNFKD(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining accent
		case r == 'œ' || r == 'Œ':
			b.WriteString("oe")
		case r == 'æ' || r == 'Æ':
			b.WriteString("ae")
		case r == 'ß':
			b.WriteString("ss")
		case r == '’' || r == '‘' || r == '`' || r == 'ʼ':
			b.WriteByte('\'')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// foldByRune is foldNFKD(s) made character by character from a table, false
// when s has a character the table does not hold (or is not UTF-8): most of
// a chat's accented text is Latin letters, quotes and emoji, each folded
// alone. That is exact for the characters whose decomposition is starters
// and combining accents only: NFKD decomposes each character by itself and
// then reorders only the runs of combining characters, which fold drops.
func foldByRune(s string) (string, bool) {
	t := runeFolds()
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case c == '`':
				c = '\''
			}
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		f, ok := t.fold(r)
		if !ok || r == utf8.RuneError {
			return "", false
		}
		b = append(b, f...)
		i += size
	}
	return string(b), true
}

// runeFoldTable holds foldNFKD of the characters of the ranges it covers
// that foldByRune may fold alone, each worked out the first time a text has
// it: a chat and the FAQ's own examples use a few hundred of the table's
// 17,000 characters, and working them all out (NFKD for each) took a tenth
// of vigie's start. Entries are written at most once each, with the same
// value by whichever reader comes first, so it is read without a lock.
type runeFoldTable struct {
	at []atomic.Pointer[runeFold] // nil: not worked out yet
}

// runeFold is one character's fold; ok is false when the table does not
// hold it (foldAlone's false).
type runeFold struct {
	s  string
	ok bool
}

// runeFoldRanges are the characters the table covers, first and past the
// last: up to the CJK blocks (Latin, Greek, Cyrillic, punctuation), the
// variation selectors to the fullwidth forms (with the byte order mark,
// U+FEFF, which starts one message of the replay's corpus in fourteen) and
// the emoji.
var runeFoldRanges = [][2]rune{{0x80, 0x3000}, {0xFE00, 0xFFF0}, {0x1F000, 0x1FB00}}

func (t *runeFoldTable) fold(r rune) (string, bool) {
	base := 0
	for _, rg := range runeFoldRanges {
		if r < rg[0] {
			break
		}
		if r < rg[1] {
			e := &t.at[base+int(r-rg[0])]
			f := e.Load()
			if f == nil {
				f = &runeFold{}
				f.s, f.ok = foldAlone(r)
				f.ok = f.ok && len(f.s) < 0x100
				e.Store(f)
			}
			return f.s, f.ok
		}
		base += int(rg[1] - rg[0])
	}
	return "", false
}

// runeFolds makes the table once, the first time a text is not ASCII.
var runeFolds = sync.OnceValue(func() *runeFoldTable {
	n := 0
	for _, rg := range runeFoldRanges {
		n += int(rg[1] - rg[0])
	}
	return &runeFoldTable{at: make([]atomic.Pointer[runeFold], n)}
})

// foldAlone is foldNFKD(string(r)), false when r decomposes to a
// combining character that fold keeps (one that NFKD could move past
// another character of a text).
func foldAlone(r rune) (string, bool) {
	if !utf8.ValidRune(r) || unicode.Is(unicode.Cs, r) {
		return "", false
	}
	d := norm.NFKD.String(string(r))
	for _, x := range d {
		if !unicode.Is(unicode.Mn, x) && norm.NFKD.PropertiesString(string(x)).CCC() != 0 {
			return "", false
		}
	}
	return foldNFKD(string(r)), true
}

// asciiCase reports whether s is all ASCII, and whether it has no capital.
func asciiCase(s string) (ascii, lower bool) {
	lower = true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return false, false
		}
		if 'A' <= c && c <= 'Z' {
			lower = false
		}
	}
	return true, lower
}

// splitWords cuts folded text into words of letters and digits. Apostrophes and
// hyphens separate words (l'heure, avez-vous); a letter repeated three times or
// more is read once ("livraisonnnn", "svppp"), which is how people stretch words.
func splitWords(folded string) []string {
	return appendWords(nil, folded)
}

// appendWords is splitWords appending to out.
func appendWords(out []string, folded string) []string {
	// A word is a run of letters and digits of folded, which fold made valid
	// UTF-8: each is a slice of it, not a copy.
	n := len(out)
	start := -1
	for i := 0; i < len(folded); {
		var alnum bool
		size := 1
		if c := folded[i]; c < utf8.RuneSelf {
			if asciiAlnum[c] {
				if start < 0 {
					start = i
				}
				// the rest of a run of ASCII letters at once
				for i++; i < len(folded) && asciiAlnum[folded[i]]; i++ {
				}
				continue
			}
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(folded[i:])
			alnum = unicode.IsLetter(r) || unicode.IsDigit(r)
		}
		if alnum {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			out = append(out, folded[start:i])
			start = -1
		}
		i += size
	}
	if start >= 0 {
		out = append(out, folded[start:])
	}
	for i := n; i < len(out); i++ {
		out[i] = squeeze(out[i])
	}
	return out
}

// asciiAlnum tells the ASCII letters and digits, which unicode.IsLetter and
// unicode.IsDigit say of an ASCII character; it is false for the other
// bytes, which start or continue a character past ASCII.
var asciiAlnum = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c))
	}
	return t
}()

// squeeze reads a run of three or more of the same letter as one: "svppp",
// "heeelp"; doubled letters are how words are spelled and stay.
func squeeze(w string) string {
	if len(w) < 3 || !hasRun3(w) {
		return w
	}
	rs := []rune(w)
	out := rs[:0:0]
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && rs[j] == rs[i] {
			j++
		}
		if j-i >= 3 && unicode.IsLetter(rs[i]) {
			out = append(out, rs[i])
		} else {
			out = append(out, rs[i:j]...)
		}
		i = j
	}
	return string(out)
}

// hasRun3 reports whether w holds a character three times in a row, the
// only case squeeze changes (for a letter).
func hasRun3(w string) bool {
	ascii := true
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
		if i >= 2 && w[i] == w[i-1] && w[i] == w[i-2] {
			return true
		}
	}
	if ascii {
		return false
	}
	var prev rune = -1
	n := 0
	for _, r := range w {
		if r == prev {
			if n++; n >= 3 {
				return true
			}
			continue
		}
		prev, n = r, 1
	}
	return false
}

// slang spells out the short forms members write, so that stop words, question
// words and stems see the long form. Keys and values are folded.
var slang = map[string]string{
	"kdo": "cadeau", "kdos": "cadeaux",
	// French
	"pk": "pourquoi", "pq": "pourquoi", "pkoi": "pourquoi", "pourkoi": "pourquoi",
	"cmt": "comment", "cmnt": "comment", "koment": "comment", "comen": "comment",
	"qd": "quand", "kan": "quand", "kand": "quand", "koi": "quoi", "kwa": "quoi",
	"kel": "quel", "kelle": "quelle", "kels": "quels", "ki": "qui", "ke": "que",
	"ya": "il y a", "y'a": "il y a", "jsp": "je sais pas", "chui": "je suis", "chuis": "je suis",
	"svp": "s il vous plait", "stp": "s il te plait", "slt": "salut", "bjr": "bonjour",
	"dispo": "disponible", "dispos": "disponibles", "tel": "telephone", "tjs": "toujours",
	"tjrs": "toujours", "bcp": "beaucoup", "pr": "pour", "ds": "dans", "vs": "vous",
	"cest": "c est", "auj": "aujourd hui", "ajd": "aujourd hui",
	"mtn": "maintenant", "qqn": "quelqu un", "qqch": "quelque chose", "dmd": "demande",
	"rdv": "rendez vous", "msg": "message", "infos": "informations", "info": "information",
	"modo": "moderateur", "modos": "moderateurs", "admins": "administrateurs",
	"admin": "administrateur", "serv": "serveur",
	"dej": "dejeuner", "ptit": "petit", "pti": "petit", "pdj": "petit dejeuner",
	"reduc": "reduction", "reducs": "reductions", "appart": "appartement", "apparts": "appartements",
	"jpeux": "je peux", "jpx": "je peux", "jveux": "je veux", "jvoudrais": "je voudrais", "jai": "j ai",
	"jaimerais": "j aimerais", "jsais": "je sais", "chai": "je sais", "ptet": "peut etre", "ptetre": "peut etre",
	"vrmt": "vraiment", "tt": "tout", "tte": "toute", "ts": "tous", "pcq": "parce que", "pck": "parce que",
	"psk": "parce que", "jms": "jamais", "dsl": "desole", "bsr": "bonsoir", "mrc": "merci", "mci": "merci",
	"pb": "probleme", "pbs": "problemes", "pbm": "probleme", "num": "numero", "nums": "numeros",
	"occaz": "occasion", "occase": "occasion", "occas": "occasion", "tps": "temps", "sem": "semaine",
	"remb": "remboursement", "rembour": "remboursement", "ordo": "ordonnance", "ordos": "ordonnances",
	"medoc": "medicament", "medocs": "medicaments", "mutu": "mutuelle", "clim": "climatisation",
	"doc": "document", "docs": "documents", "prof": "professeur", "profs": "professeurs",
	"ado": "adolescent", "ados": "adolescents", "exam": "examen", "exams": "examens", "labo": "laboratoire",
	"coloc": "colocation", "frigo": "refrigerateur", "compta": "comptabilite", "kine": "kinesitherapeute",
	"aprem": "apres midi", "aprems": "apres midi", "exp": "expedition", "abo": "abonnement", "abos": "abonnements",
	// English
	"u": "you", "ur": "your", "r": "are", "pls": "please", "plz": "please", "plis": "please",
	"wat": "what", "wut": "what", "wht": "what", "wen": "when", "hw": "how",
	"thx": "thanks", "ty": "thank you", "im": "i am", "whats": "what is", "wheres": "where is",
	"hows": "how is", "whens": "when is", "dont": "do not", "cant": "can not",
	"cannot": "can not", "didnt": "did not", "havent": "have not", "hasnt": "has not",
	"arent": "are not", "wasnt": "was not", "couldnt": "could not", "tourney": "tournament", "isnt": "is not", "doesnt": "does not", "wont": "will not",
	"ppl": "people", "asap": "as soon as possible", "mod": "moderator", "mods": "moderators",
	"pwd": "password", "acc": "account", "msgs": "messages", "idk": "i do not know",
	"appt": "appointment", "appts": "appointments", "hrs": "hours", "hr": "hour", "mins": "minutes",
	"tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow", "tomoz": "tomorrow", "2moro": "tomorrow",
	"2day": "today", "tonite": "tonight", "wknd": "weekend", "wkend": "weekend", "xmas": "christmas",
	"tues": "tuesday", "weds": "wednesday", "thurs": "thursday", "thur": "thursday", "fri": "friday",
	"abt": "about", "cuz": "because",
	"coz": "because", "bc": "because", "thru": "through", "intl": "international", "addy": "address",
	"pkg": "package", "acct": "account", "amt": "amount", "qty": "quantity", "approx": "approximately",
	"rn": "right now", "yr": "year", "yrs": "years", "wk": "week", "wks": "weeks", "pw": "password",
}

// words reads a message into words, with slang spelled out, stop words marked and
// the others stemmed.
func words(text string) []word {
	_, ws := foldedWords(text, nil, nil)
	return ws
}

// wordsBuf is how many words a message's words are read into without
// allocating (see foldedWords): most chat messages have fewer.
const wordsBuf = 32

// foldedWords is words appended to out, with the folded text it read them
// from (which looksLikeQuestionFolded reads again), the stems remembered in
// c (none when nil).
func foldedWords(text string, c *memo, out []word) (string, []word) {
	folded := fold(text)
	var buf [wordsBuf]string
	raw := appendWords(buf[:0], folded)
	if out == nil {
		out = make([]word, 0, len(raw))
	}
	for _, w := range raw {
		nw := c.word(w)
		if nw.lex&lexSlang != 0 {
			for _, x := range strings.Fields(slang[w]) {
				out = append(out, c.word(x))
			}
			continue
		}
		out = append(out, nw)
	}
	readAsks(out)
	return folded, out
}

// howMuchPriced are the words after "how much" that leave it asking a price:
// a verb, a preposition, a pronoun or a determiner; a noun there is the
// quantity asked ("how much notice", "how much space").
var howMuchPriced = set(`is isn are aren s was were will would does doesn do did should could can
	cost costs for to per a an the it its that this these those my your our
	his her their i you we they u ya r extra more roughly approx approximately
	about total altogether exactly on in at with if each then money`)

// readAsks gives a meaning to the words that ask something by their place:
// "c'est combien", "combien pour un an" and "how much for a battery" ask a
// price, "combien de temps", "combien de jours", "how long" and "how much
// time" a duration (where "temps", "long" and "time" alone say little),
// "combien de salles" a count, "tous les combien" how often; "ma location" is a rental;
// "en cours" (in progress) is no class; "je n'arrive pas à" is "I can't",
// no delivery that has not arrived; and "touch" reaches the brand only in
// "get in touch".
func readAsks(ws []word) {
	for i := range ws {
		if ws[i].lex&lexByPlace == 0 {
			continue // no case below
		}
		next := ""
		if i+1 < len(ws) {
			next = ws[i+1].folded
		}
		switch ws[i].folded {
		case "combien":
			// "tous les combien", every how often: a frequency, no price.
			if i > 0 && ws[i-1].folded == "les" {
				ws[i].stem = frequencyTerm
			} else if next != "de" && next != "d" {
				ws[i].stem = priceTerm
			}
		case "much":
			// "how much is it", "how much for two" ask a price; "how much
			// notice", "how much luggage" a quantity of a thing, as
			// "combien de" does.
			if i > 0 && ws[i-1].folded == "how" && (next == "" || howMuchPriced[next]) {
				ws[i].stem = priceTerm
			}
		case "temps", "time":
			if i > 1 && (ws[i-1].folded == "de" && ws[i-2].folded == "combien" || ws[i-1].folded == "much" && ws[i-2].folded == "how") {
				ws[i].stem = durationTerm
			}
		case "jours", "semaines", "heures", "minutes", "mois", "days", "weeks", "hours", "months":
			// "combien de jours", "how many days": how long, in days.
			if i > 1 && (ws[i-1].folded == "de" && ws[i-2].folded == "combien" || ws[i-1].folded == "many" && ws[i-2].folded == "how") {
				ws[i].stem = durationTerm
			}
		case "long":
			if i > 0 && ws[i-1].folded == "how" {
				ws[i].stem = durationTerm
			}
		case "location", "locations":
			// French "la location de voiture" is a rental, English "your
			// locations" the places.
			if i > 0 && frenchDeterminers[ws[i-1].folded] || next == "de" || next == "d" {
				ws[i].stem = bookingTerm
			}
		case "ligne", "lignes":
			// "en ligne" is online, no bus line.
			if i > 0 && ws[i-1].folded == "en" {
				ws[i].stem = onlineTerm
			}
		case "telephone", "phone", "tel", "mail", "email", "carte", "card", "cb":
			// "par téléphone", "by phone" is how to reach someone, no
			// device; "par carte", "by card" how to pay.
			if i > 0 && byWay[ws[i-1].folded] || payingWith(ws, i) {
				ws[i].stem = channelTerm[ws[i].folded]
			}
		case "switch":
			// "switch to", "switch my plan" is a change, no console.
			if switchTo[next] {
				ws[i].stem = changeTerm
			}
		case "passe", "passer", "passee", "passees", "passes", "passez", "passent", "passera", "passait":
			// French "passer" (come by, place, take) is a light verb;
			// "mot de passe" keeps its word.
			if i == 0 || ws[i-1].folded != "de" {
				ws[i].stem = ""
			}
		case "ou":
			// "c'est où", "vous êtes où", "où se trouve" ask where the place is;
			prev := ""
			if i > 0 {
				prev = ws[i-1].folded
			}
			// "il est où ?" asks where a parcel is, not the place.
			if prev == "est" && i > 1 && ws[i-2].folded == "c" || prev == "etes" || next == "etes" || next == "se" && i+2 < len(ws) && ws[i+2].folded == "trouve" {
				ws[i].stem = addressTerm
			}
		case "sale", "sales":
			// French "sale" is dirty ("c'est sale ici ?", "sale con"),
			// English "sale" a promotion.
			if readsFrench(ws) {
				ws[i].stem = ""
			}
		case "rend", "rends", "rende", "rendes", "rendent", "rendons", "rendre":
			// "tu me rends fou", "je rends mon devoir", "rendre visite"
			// give nothing back to a shop; "je rends le livre" returns it,
			// as "rendre" does (its stem, not "rendez-vous"'s), and so
			// does a last "je le rends ?".
			if rendreIdiom[next] || i+2 < len(ws) && rendreIdiom[ws[i+2].folded] {
				ws[i].stem = ""
			} else {
				ws[i].stem = rendreStem
			}
		case "rendez":
			// "rendez-vous" is a booking; "rendez-moi" gives back.
			if next != "" && next != "vous" {
				ws[i].stem = ""
			}
		case "retourne", "retournes", "retourner", "retournent", "retournez":
			// "retourner chez soi" is going back home, "j'ai retourné toute
			// la maison" searched it: no return.
			if next == "chez" || next == "toute" || next == "tout" || next == "ciel" {
				ws[i].stem = ""
			}
		case "return":
			// "return the favour" is a kindness.
			if next == "the" && i+2 < len(ws) && (ws[i+2].folded == "favour" || ws[i+2].folded == "favor") {
				ws[i].stem = ""
			}
		case "quoi":
			// "c'est n'importe quoi" is a complaint, no question.
			if i > 0 && ws[i-1].folded == "importe" {
				ws[i].lex &^= lexQuestion
				ws[i-1].lex |= lexRemark
			}
		case "hiring":
			// "who's hiring in this economy" asks which employer, not
			// this one ("are you hiring?", "who's hiring at your shop?").
			if i > 1 && ws[i-2].folded == "who" && (ws[i-1].folded == "s" || ws[i-1].folded == "is") && !addressed(ws) {
				ws[i].stem = ""
			}
		case "travaille":
			// "je travaille demain" tells, it asks no job.
			if i > 0 && (ws[i-1].folded == "je" || ws[i-1].folded == "j") {
				ws[i].stem = ""
			}
		case "cours":
			if i > 0 && ws[i-1].folded == "en" {
				ws[i].stem = ""
			}
		case "envoyez", "envoyer", "envoie", "envoient", "envoyons", "send", "sends":
			// "vous envoyez en Suisse ?", "do you send to Canada?" ship
			// somewhere; "je vous envoie un mail", "où envoyer ma
			// candidature" do not.
			if shipTo[next] || (ws[i].folded == "send" || ws[i].folded == "sends") && sendsTo(ws, i) {
				ws[i].stem = deliverTerm
			}
		case "commande", "commander", "commandes", "commandons", "order", "buy", "achete", "acheter":
			// "si je commande ce soir, je reçois quand ?", "if I order
			// today, will it arrive before Christmas?" ask how long
			// delivery takes, not where an order is (unless it is picked
			// up: "si je commande à midi, je peux récupérer quand ?").
			if orderToCome(ws, i) && asksDelivery(ws) && !picksUp(ws) {
				ws[i].stem = deliverTerm
			}
		case "opened":
			// "a game we already opened" is no opening hours.
			if i > 0 && openedBy[ws[i-1].folded] {
				ws[i].stem = ""
			}
		case "ouvert", "ouverte", "ouverts", "ouvertes":
			// "ouvert d'esprit" is open-minded, "j'ai ouvert la boîte"
			// opened a box, "ouvert aux ados" says who may come: no
			// opening hours.
			if next == "d" && i+2 < len(ws) && ws[i+2].folded == "esprit" || next == "aux" ||
				openedByFrench(ws, i) {
				ws[i].stem = ""
			}
		case "manque", "manquait", "manquent", "manquaient", "manquant", "manquante", "manquants", "manquantes":
			// "il manque des pièces", "un article manquant": something
			// missing from an order; "vous me manquez" is no parcel.
			if strings.HasPrefix(ws[i].folded, "manquant") || i > 0 && (ws[i-1].folded == "il" || ws[i-1].folded == "ca") {
				ws[i].stem = damagedTerm
			}
		case "manquez", "manques", "manquer", "manquerez", "manquerai":
			// "vous me manquez", "tu me manques": missing someone.
			ws[i].stem = ""
		case "parler", "parle", "speak", "talk":
			// "parler à quelqu'un", "talk to someone about wholesale":
			// reaching the brand ("vous parlez anglais ?" is a language).
			if next == "a" || next == "avec" || next == "to" || next == "with" {
				ws[i].stem = contactTerm
			}
		case "nouvelle", "nouvelles", "news", "update", "updates":
			// "any news on my order?", "j'ai commandé et j'ai aucune
			// nouvelle": where the order is.
			if mentionsOrder(ws) && !anyOrderToCome(ws) {
				ws[i].stem = trackTerm
			}
		case "where":
			// "where is my coffee?? ordered monday"
			if (next == "is" || next == "s" || next == "are") && i+2 < len(ws) && ws[i+2].folded == "my" && mentionsOrder(ws) {
				ws[i].stem = trackTerm
			}
		case "preparation":
			// "toujours en préparation ?": an order's status.
			if i > 0 && (ws[i-1].folded == "en" || ws[i-1].folded == "de" && i > 1 && ws[i-2].folded == "cours") {
				ws[i].stem = trackTerm
			}
		case "boulot", "travail", "taf", "work":
			// "après le boulot", "je finis le boulot à 19h", "after
			// work": a time of day, no job.
			if i > 0 && afterWork[ws[i-1].folded] || i > 1 && (ws[i-1].folded == "le" || ws[i-1].folded == "du") && afterWork[ws[i-2].folded] {
				ws[i].stem = ""
			} else if ws[i].folded == "work" && notWorking(ws, i) {
				ws[i].stem = notWorkingTerm
			}
		case "conseil", "conseils", "conseille", "conseillent", "conseillez", "conseiller", "conseillere", "conseilleres", "conseillers":
			// "un conseiller", "mon conseiller" is someone to reach; "des
			// conseils", "vous me conseillez quoi ?" ask advice.
			advisor := i > 0 && advisorBy[ws[i-1].folded] && strings.HasPrefix(ws[i].folded, "conseiller")
			if !advisor {
				ws[i].stem = adviceTerm
			}
		case "recommande", "recommandez", "recommander", "recommend", "recommends", "recommendation", "recommendations", "suggest", "suggestion", "suggestions", "suggerez", "suggerer":
			// "what do you recommend for dry skin?" asks advice.
			ws[i].stem = adviceTerm
		case "marche", "marchent", "fonctionne", "fonctionnent", "works", "working":
			// "ça marche plus", "il ne fonctionne pas", "my charger stopped
			// working", "it doesn't work": the thing is out of order, in
			// any trade; negation is otherwise made of stop words. "comment
			// ça marche" asks how, and "I'm not working tomorrow" tells.
			if notWorking(ws, i) {
				ws[i].stem = notWorkingTerm
			}
		case "broken":
			// "one of the drawers is broken" is damaged goods; a broken
			// app or game is a bug.
			if !slices.ContainsFunc(ws, func(w word) bool { return digitalWords[w.folded] }) {
				ws[i].stem = damagedTerm
			}
		case "walk":
			// "can I just walk in?" comes without a booking, as "walkin"
			// does; "a walk in the park" goes somewhere.
			if (next == "in" || next == "ins") && (i+2 >= len(ws) || !walkInPlace[ws[i+2].folded]) {
				ws[i].stem = bookingTerm
			}
		case "try":
			// "can I try the gym first?", "take them home to try" try a
			// thing out, as "essayer" does; "I try to log in", "try
			// again later" only make an effort.
			if tryEffort[next] {
				ws[i].stem = ""
			} else {
				ws[i].stem = trialTerm
			}
		case "test", "tests", "exam", "exams":
			// "un test auditif", "a hearing test", "le test du code" are
			// an examination, as "examen" is; "tester", "to test it"
			// try something out (a trial).
			prev := ""
			if i > 0 {
				prev = ws[i-1].folded
			}
			if strings.HasPrefix(ws[i].folded, "exam") || testDeterminers[prev] || next == "de" || next == "d" || next == "results" || next == "result" {
				ws[i].stem = examStem
			}
		case "coupe", "coupes", "couper", "coupez", "coupent", "coupee", "coupees":
			// "couper mes planches", "une coupe homme", "couper les
			// griffes" cut a thing, as "découper" does; only beside a
			// network or a supply ("internet coupé", "la fibre est coupée",
			// "l'eau est coupée") is it cut off, an outage.
			if !slices.ContainsFunc(ws, func(w word) bool { return cutOff[w.folded] }) {
				ws[i].stem = cutStem
			}
		case "vol":
			// "800 euros, c'est du vol" is a rip-off, no flight.
			if i > 0 && ws[i-1].folded == "du" {
				ws[i].stem = ""
				ws[i].lex |= lexRemark
			}
		case "toujours", "still", "ago":
			// "ça fait 12 jours que j'ai commandé et toujours rien",
			// "ordered a week ago": where the order is ("if I order
			// now, will it still arrive?" asks a delivery).
			if mentionsOrder(ws) && !anyOrderToCome(ws) {
				ws[i].stem = trackTerm
			}
		case "monde", "personnel", "staff", "quelqu":
			// "vous cherchez du monde pour l'été ?", "looking for staff":
			// hiring (the looking says nothing more).
			if j := lookingFor(ws, i); j >= 0 {
				ws[i].stem = jobTerm
				ws[j].stem = ""
			}
		case "poster", "postez", "postent", "post", "posts", "posting", "posted":
			// "on peut poster des liens ?", "can I post memes?" publish;
			// "un poste", "des postes" are jobs, "by post" the mail.
			if i == 0 || ws[i-1].folded != "by" && ws[i-1].folded != "the" {
				ws[i].stem = publishTerm
			}
		case "poste":
			// "j'ai posté un lien" publishes; "un poste de vendeur" is a job.
			if i > 0 && (ws[i-1].folded == "ai" || ws[i-1].folded == "as" || ws[i-1].folded == "avez" || ws[i-1].folded == "avons" || ws[i-1].folded == "ete") {
				ws[i].stem = publishTerm
			}
		case "hire":
			// "hire a saxophone", "hire out scaffolding" rent; "do you hire
			// students?" is a job.
			if next == "a" || next == "an" || next == "one" || next == "out" {
				ws[i].stem = bookingTerm
			}
		case "adresse", "adresser", "adressez":
			// "à qui je m'adresse ?", "s'adresser au service client":
			// whom to reach, no address.
			if i > 0 && (ws[i-1].folded == "m" || ws[i-1].folded == "s" || ws[i-1].folded == "me" || ws[i-1].folded == "se" || ws[i-1].folded == "vous" && ws[i].folded == "adressez") {
				ws[i].stem = contactTerm
			}
		case "chercher", "prendre":
			// "je peux passer chercher ma commande ?", "venir le prendre":
			// collecting an order.
			if collecting(ws, i) {
				ws[i].stem = takeawayTerm
			}
		case "retrouve", "retrouver", "retrouvons", "retrouvez", "retrouvent":
			// "on se retrouve où demain ?" meets, it finds nothing lost.
			if i > 0 && (ws[i-1].folded == "se" || ws[i-1].folded == "nous" || ws[i-1].folded == "vous" && ws[i].folded == "retrouvez" && next == "ou") {
				ws[i].stem = ""
			}
		case "etudiants", "etudiantes", "jeunes", "students", "apprentis", "apprentices", "stagiaires", "lyceens":
			// "vous prenez des étudiants pour l'été ?", "do you take
			// apprentices?": hiring.
			if i > 1 && (ws[i-1].folded == "des" || ws[i-1].folded == "d") && takesPeople[ws[i-2].folded] || i > 0 && takesPeople[ws[i-1].folded] {
				ws[i].stem = jobTerm
			}
		case "cherchez", "recherchez", "cherchent", "recherchent":
			// "vous cherchez des préparateurs de commandes ?", "vous
			// recherchez des vendeuses ?": hiring people.
			if (next == "des" || next == "un" || next == "une") && i+2 < len(ws) && personNoun(ws[i+2].folded) {
				ws[i].stem = ""
				ws[i+2].stem = jobTerm
			}
		case "bossez", "travaillez", "travaillent":
			// "vous bossez le 1er mai ?", "vous travaillez le dimanche ?":
			// whether the brand is open; "vous travaillez avec quelle
			// mutuelle ?" asks a partner, no job.
			switch {
			case next == "avec":
				ws[i].stem = ""
			case i > 0 && ws[i-1].folded == "vous":
				ws[i].stem = openTerm
			}
		case "parcel", "package", "parcels", "packages":
			// "how long to get a parcel to Edinburgh?" ships somewhere.
			if next == "to" {
				ws[i].stem = deliverTerm
			}
		case "prenez", "embauchez", "recrutez", "acceptez":
			// "vous prenez des vendeurs le samedi ?" hires people.
			if (next == "des" || next == "d") && i+2 < len(ws) && personNoun(ws[i+2].folded) {
				ws[i+2].stem = jobTerm
			}
		case "stage", "stages":
			// "des stages pendant les vacances pour les enfants" are
			// courses, no internship.
			if slices.ContainsFunc(ws, func(w word) bool { return learners[w.folded] }) {
				ws[i].stem = classTerm
			}
		case "hold":
			// "get hold of you", "get a hold of someone": a contact.
			if next == "of" && i > 0 && (ws[i-1].folded == "get" || ws[i-1].folded == "a" && i > 1 && ws[i-2].folded == "get") {
				ws[i].stem = contactTerm
			}
		case "message", "messages":
			// "can I message you on WhatsApp?", "je peux vous laisser un
			// message ?": a way to reach the brand; "did you get my
			// message?" or an error message is none.
			if i > 0 && ws[i-1].folded == "you" || next == "you" || next == "vous" || next == "on" && i+2 < len(ws) && channelWords[ws[i+2].folded] {
				ws[i].stem = chatTerm
			}
		case "port":
			// "c'est combien le port ?", "le port est offert ?": the
			// shipping cost.
			if i > 0 && (ws[i-1].folded == "le" || ws[i-1].folded == "du") && slices.ContainsFunc(ws, func(w word) bool { return shippingCost[w.folded] }) {
				ws[i].stem = deliverTerm
			}
		case "touch":
			// "get in touch", "keep in touch" reach the brand; "a touch
			// screen", "don't touch my phone" do not.
			if i > 0 && ws[i-1].folded == "in" {
				ws[i].stem = contactTerm
			} else {
				ws[i].stem = ""
			}
		case "arrive", "arrives", "arrivez", "arrivons":
			if next == "a" || (next == "pas" || next == "plus") && i+2 < len(ws) && ws[i+2].folded == "a" {
				ws[i].stem = ""
			} else if ws[i].folded == "arrive" && awaitsDelivery(ws, i) {
				ws[i].stem = deliverTerm
			}
		case "recevoir", "receive", "arriver":
			// "combien de jours pour recevoir ma commande ?", "how long
			// does my parcel take to arrive?": how long delivery takes,
			// not where the order is.
			if awaitsDelivery(ws, i) {
				ws[i].stem = deliverTerm
			}
		case "plus":
			// "plus de réseau depuis ce matin", "j'ai plus d'internet": a
			// network or a supply is gone, an outage ("plus de réseau que
			// les autres" compares, "plus de box" counts the brand's).
			if (next == "de" || next == "d") && i+2 < len(ws) && supplies[ws[i+2].folded] &&
				!slices.ContainsFunc(ws, func(w word) bool { return w.folded == "que" || w.folded == "qu" || w.folded == "than" }) {
				ws[i].stem = outageTerm
			}
		case "tester", "teste", "testee", "tested":
			// "faire tester ses oreilles", "get my eyes tested": an
			// examination done by the brand, not a trial of a thing.
			if testedBy(ws, i) {
				// read as the word "examen" itself: "tester" is the
				// trial concept's word
				ws[i].folded, ws[i].stem = examStem, examStem
			}
		}
	}
}

// The concepts readAsks gives to words that ask them by their place:
// delivery, reaching the brand, its chat, damaged goods, where an order is.
const (
	deliverTerm = "~deliver"
	contactTerm = "~contact"
	chatTerm    = "~chat"
	damagedTerm = "~damaged"
	// notWorkingTerm is a thing that does not work ("ne marche plus",
	// "stopped working").
	notWorkingTerm = "~notworking"
	trackTerm      = "~track"
	// outageTerm is a network or a supply gone: "plus de réseau".
	outageTerm = "~server"
	jobTerm    = "~job"
	openTerm   = "~open"
	classTerm  = "~class"
	// publishTerm is posting in a channel, which no intent asks.
	publishTerm  = "~publish"
	takeawayTerm = "~takeaway"
	// adviceTerm is what "conseiller", "recommend" and "suggest" ask:
	// advice, which no intent of the lexicon is, but an entry may be
	// ("vous pouvez me conseiller une crème ?").
	adviceTerm = "~advice"
)

// notWorking reports whether ws[i], a verb of working, is negated: "ne
// marche pas", "marche plus", "fonctionne pas", "not working", "doesn't work",
// "stopped working", "no longer works", "won't work"; in English, not after a
// person ("I'm not working today", "we don't work on Sundays").
func notWorking(ws []word, i int) bool {
	next := ""
	if i+1 < len(ws) {
		next = ws[i+1].folded
	}
	prev := ""
	if i > 0 {
		prev = ws[i-1].folded
	}
	english := strings.HasPrefix(ws[i].folded, "work")
	if !english {
		return next == "pas" || next == "plus" || next == "jamais" || prev == "ne" || prev == "n"
	}
	for j := max(0, i-3); j < i; j++ {
		switch ws[j].folded {
		case "i", "m", "we", "you", "re", "they", "he", "she", "am":
			return false
		}
	}
	switch prev {
	case "not", "t", "never", "stopped", "stop", "stops", "longer":
		return true
	}
	return next == "anymore"
}

// awaitsDelivery reports whether the verb of receiving at i ("recevoir",
// "receive", "arriver", "arrive") follows "pour" or "to" in a message that
// asks a duration about an order: how long delivery takes.
func awaitsDelivery(ws []word, i int) bool {
	if i == 0 || ws[i-1].folded != "pour" && ws[i-1].folded != "to" || !mentionsOrder(ws) {
		return false
	}
	return slices.ContainsFunc(ws[:i], func(w word) bool { return w.stem == durationTerm })
}

// supplies after "plus de" make it an outage: a network or a supply gone.
var supplies = set(`internet reseau reseaux fibre courant electricite eau wifi gaz connexion signal chauffage adsl tv tele television telephone`)

// testedBy reports whether the "tester" or "tested" at i has something
// examined: "faire tester", "se faire tester", "get my eyes tested", "have
// it tested".
func testedBy(ws []word, i int) bool {
	if strings.HasPrefix(ws[i].folded, "tester") || ws[i].folded == "teste" || ws[i].folded == "testee" {
		if i > 0 {
			switch ws[i-1].folded {
			case "faire", "fais", "fait", "faites", "ferai", "ferais":
				return true
			}
		}
		return false
	}
	for j := max(0, i-4); j < i; j++ {
		switch ws[j].folded {
		case "get", "gets", "getting", "got", "have", "having", "had":
			return true
		}
	}
	return false
}

// cutStem is "découper"'s stem, which cutting a thing reads as.
const cutStem = "decoup"

// cutOff beside "coupé" make it a network or a supply cut off.
var cutOff = set(`internet reseau reseaux fibre ligne lignes courant electricite eau wifi gaz connexion telephone tel signal serveur serveurs box chauffage adsl tv tele television`)

// examStem is an examination's word, "examen"'s stem, which "un test"
// and "an exam" read as.
const examStem = "examen"

// testDeterminers before "test" make it a noun: an examination.
var testDeterminers = set(`le la un une ce cet des les du mon ma mes votre vos ton son the a an my your this that their our hearing eye sight driving level blood covid`)

// digitalWords make "broken" a bug rather than damaged goods.
var digitalWords = set(`app appli application site website game jeu jeux link lien server serveur login page update patch code mdp password`)

// advisorBy before "conseiller" make it an advisor, not advice.
var advisorBy = set(`mon ma un une le la votre au du mes vos les des notre aux nos son sa`)

// takesPeople before "des étudiants", "apprentices" make them hires.
var takesPeople = set(`prenez prennent embauchez embauchent acceptez recrutez cherchez recherchez take hire hiring`)

// personNoun reports whether w names people by what they do: préparateurs,
// vendeuses, animatrices, fleuristes.
func personNoun(w string) bool {
	for _, suf := range []string{"eur", "eurs", "euse", "euses", "rice", "rices", "iste", "istes", "ier", "iers", "iere", "ieres"} {
		if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
			return true
		}
	}
	return false
}

// learners make "stage" a course: for children, teenagers, adults.
var learners = set(`enfant enfants ados adolescents kids children adultes adults debutants beginners`)

// afterWork before "boulot" or "work" make it a time of day.
var afterWork = set(`apres avant sortie retour finis finit finir termine sors sortir quitte after before from finish off`)

// pickupWords say an order is collected, not delivered.
var pickupWords = set(`recuperer recupere recuperes retirer retire retrait collect collecte collecter pickup pick drive`)

// picksUp reports whether ws collect an order: "récupérer", "pick up",
// "passer prendre", "venir le chercher".
func picksUp(ws []word) bool {
	for i, w := range ws {
		if pickupWords[w.folded] || collecting(ws, i) {
			return true
		}
	}
	return false
}

// collecting reports whether the word at i is "prendre" or "chercher" after
// "passer" or "venir": collecting an order.
func collecting(ws []word, i int) bool {
	if i == 0 || ws[i].folded != "prendre" && ws[i].folded != "chercher" {
		return false
	}
	j := i - 1
	if j > 0 && (ws[j].folded == "le" || ws[j].folded == "la" || ws[j].folded == "les") {
		j--
	}
	switch ws[j].folded {
	case "passer", "passe", "venir", "viens", "viendrai":
		return true
	}
	return false
}

// lookingFor finds the word that makes the word at i ("monde", "staff") whom a
// brand looks for: "vous cherchez du monde", "besoin de personnel", "looking
// for staff"; -1 when none does.
func lookingFor(ws []word, i int) int {
	for j := max(0, i-3); j < i; j++ {
		switch ws[j].folded {
		case "cherchez", "cherche", "cherchent", "recherchez", "recherche", "besoin", "looking", "need", "needs", "hiring":
			return j
		}
	}
	return -1
}

// orderWords name an order or a parcel.
var orderWords = set(`commande commandes commandee commandees commander order orders ordered colis parcel package`)

// mentionsOrder reports whether ws name an order or a parcel.
func mentionsOrder(ws []word) bool {
	return slices.ContainsFunc(ws, func(w word) bool { return orderWords[w.folded] })
}

// channelWords are the apps a member may message the brand on.
var channelWords = set(`whatsapp messenger instagram insta facebook fb telegram signal sms`)

// sendsTo reports whether the "send" at i sends something to someone or
// somewhere: "send flowers to my girlfriend" (not "send me the receipt").
func sendsTo(ws []word, i int) bool {
	if i+1 < len(ws) && (ws[i+1].folded == "me" || ws[i+1].folded == "us" || ws[i+1].folded == "you") {
		return false
	}
	for j := i + 1; j < len(ws) && j <= i+4; j++ {
		if ws[j].folded == "to" {
			return true
		}
	}
	return false
}

// shipTo after "envoyer" or "send" make it shipping somewhere.
var shipTo = set(`en a au aux dans vers partout hors l to outside abroad internationally overseas worldwide`)

// openedBy before "opened" make it something opened (a box, a game), no
// opening hours: "we already opened", "I've opened".
var openedBy = set(`already i we ve have has had been was were they he she`)

// openedByFrench reports whether the "ouvert" at i says something was opened
// ("j'ai ouvert", "on a déjà ouvert"), not that a place is open.
func openedByFrench(ws []word, i int) bool {
	j := i - 1
	if j >= 0 && (ws[j].folded == "deja" || ws[j].folded == "pas" || ws[j].folded == "jamais") {
		j--
	}
	if j < 0 {
		return false
	}
	switch ws[j].folded {
	case "ai", "avons":
		return true
	case "a":
		return j > 0 && (ws[j-1].folded == "on" || ws[j-1].folded == "il" || ws[j-1].folded == "elle")
	}
	return false
}

// shippingCost are the words that make "le port" the cost of shipping.
var shippingCost = set(`combien prix cout coute gratuit offert payant price cost free`)

// orderWish before an order verb make it an order still to come: "si je
// commande", "je voudrais commander", "if I order", "I'd like to order".
var orderWish = set(`si if voudrais voudrait veux souhaite souhaiterais aimerais compte vais want wanted like planning plan going`)

// anyOrderToCome reports whether an order word of ws is one still to come.
func anyOrderToCome(ws []word) bool {
	for i, w := range ws {
		if orderWords[w.folded] && orderToCome(ws, i) {
			return true
		}
	}
	return false
}

// orderToCome reports whether the order word at i is an order still to come:
// a wish or an "if" among the three words before it.
func orderToCome(ws []word, i int) bool {
	for j := max(0, i-3); j < i; j++ {
		if orderWish[ws[j].folded] {
			return true
		}
	}
	return false
}

// deliveryAsks are the words that ask when something arrives.
var deliveryAsks = set(`quand avant recois recevrai recevrais recevoir recu recue arrive arrivera arriver delai delais
	when before receive arrives arrived arrive delivery deliver delivered long jours days livre livree livrer livraison`)

// asksDelivery reports whether ws ask when something arrives.
func asksDelivery(ws []word) bool {
	return slices.ContainsFunc(ws, func(w word) bool { return deliveryAsks[w.folded] })
}

// secondPersonWord reports whether w is in secondPerson.
func secondPersonWord(w word) bool { return w.lex&lexSecondPerson != 0 }

// addressed reports whether ws speak to someone: you, your, vous, tu...
func addressed(ws []word) bool {
	return slices.ContainsFunc(ws, secondPersonWord)
}

// readsFrench reports whether more of ws are French words than English ones.
func readsFrench(ws []word) bool {
	fr, en := languageWords(ws)
	return fr > en
}

// rendreStem is the stem of "rendre", which its conjugated forms are read as.
const rendreStem = "rendr"

// rendreIdiom after "rendre" make it no return: a visit, a service, a
// feeling, homework.
var rendreIdiom = set(`visite visites service services compte hommage fou folle dingue ouf malade
	triste heureux heureuse jaloux jalouse devoir devoirs copie copies`)

// priceTerm is the term of the price concept, which a word asking a price by
// its place is read as.
const priceTerm = "~price"

// walkInPlace are the words after "walk in" that make "in" a place's.
var walkInPlace = set(`the a an my your our this that his her their town city`)

// trialTerm is the concept of trying a thing or a service out.
const trialTerm = "~trial"

// tryEffort are the words after "try" that make it an effort, no trial.
var tryEffort = set(`to again and calling call harder later`)

// bookingTerm is the term of the booking concept, which French "location" (a
// rental) is read as.
const bookingTerm = "~booking"

// onlineTerm is the term of the concept "en ligne" is read as: a website or
// an app, where the public does things without coming.
const onlineTerm = "~app"

// addressTerm is the term of the address concept, which "c'est où" asks.
const addressTerm = "~address"

// switchTo after "switch" make it the verb.
var switchTo = set(`to from my our your the a an it plans plan flights operators providers`)

// changeTerm is the term of the concept of changing something.
const changeTerm = "~change"

// byWay before "téléphone", "phone" or "mail" make it the way to reach
// someone.
var byWay = set(`par au by over via`)

// payingWith reports whether the card ws[i] is what one pays with: "pay
// with card", "payer avec une carte", "with a credit card".
func payingWith(ws []word, i int) bool {
	if channelTerm[ws[i].folded] != "~paymethod" {
		return false
	}
	j := i - 1
	if j > 0 && (ws[j].folded == "credit" || ws[j].folded == "debit") {
		j--
	}
	if j > 0 && cardDeterminers[ws[j].folded] {
		j--
	}
	return j >= 0 && (ws[j].folded == "with" || ws[j].folded == "avec")
}

// cardDeterminers may stand between "with" and the card.
var cardDeterminers = set(`a my the une ma la`)

// channelTerm are the concepts of the ways to reach someone.
var channelTerm = map[string]string{"telephone": "~phone", "phone": "~phone", "tel": "~phone", "mail": "~email", "email": "~email",
	"carte": "~paymethod", "card": "~paymethod", "cb": "~paymethod"}

// frenchDeterminers before "location" make it French.
var frenchDeterminers = set(`la ma ta sa une de d en cette votre notre leur les mes vos nos des ses`)

// frequencyTerm is the term of the concept "how often" is read as.
const frequencyTerm = "~next"

// durationTerm is what "combien de temps" and "how long" ask: how long
// something takes, a question of its own, not a context as a day or a city.
const durationTerm = "~duration"

func newWord(w string) word {
	lex := lexicon[w]
	if lex&lexStop != 0 {
		return word{folded: w, lex: lex}
	}
	if isNumber(w) {
		return word{folded: w, stem: whichPrefix + w, lex: lex}
	}
	return word{folded: w, stem: stem(w), lex: lex}
}

// isNumber reports whether a word starts with a digit: a number, an hour, a
// line or a size ("7h", "ligne 4", "taille 42", "1er") says which one, not
// which question, and weighs as a context does. A name with a digit ("ps5")
// stays a word.
func isNumber(w string) bool {
	return w != "" && '0' <= w[0] && w[0] <= '9'
}

// runeLen counts the letters of s.
func runeLen(s string) int { return utf8.RuneCountInString(s) }
