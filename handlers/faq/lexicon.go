package faq

import (
	"slices"
	"strings"
	"unicode"
)

// Word lists, folded (no accents, lower case). They are small on purpose: a stop
// word is one that says nothing about which question is asked.

func set(lists ...string) map[string]bool {
	m := map[string]bool{}
	for _, l := range lists {
		for _, w := range strings.Fields(l) {
			m[w] = true
		}
	}
	return m
}

// frWords and enWords are frequent words of one language only, to tell which
// language a message is in. Words both languages write the same way (a, on, me,
// est/es, plus, pour) are left out.
var frWords = set(`
	le la les un une des du de d l au aux et ou en y ce ces cet cette ca c est sont
	etre suis es etes ai avez avons ont je j tu t il elle nous vous ils elles
	moi toi lui leur leurs mon ma mes ton ta tes son notre nos votre vos qui que qu
	quoi quel quelle quels quelles comment pourquoi quand combien pour par sur dans
	avec sans chez pas ne n plus tres bien tout tous toute toutes mais donc alors
	oui non merci bonjour salut coucou bonsoir svp stp plait faut peut peux pouvez
	puis pourrais pourriez veux voudrais voulais aimerais sais savoir dire fait faire
	fais quelqu quelque aujourd hui demain hier encore deja toujours jamais rien
	aussi comme ici voila ya bah ben bonne soiree nan ouais mdr ptdr lol jsuis
	moyen ok il y a vais va vont avoir`)

var enWords = set(`
	the an and or of to in at for from by with about is are was were be been am do
	does did
	have has had i my we our you your he she it its they them their this that these
	those what which who whom whose when where why how can could would should will
	shall may might must please thanks thank hi hello hey there here any some anyone
	someone anybody just get got know tell need want like not no yes so if but also
	still yet out than then too very much many anything something guys ok lol
	today tomorrow yesterday im dont cant going`)

// stopWords say nothing about the question: articles, pronouns, auxiliaries,
// politeness, question words (they make a question, not its subject), and verbs
// of asking (savoir, voudrais, know, wondering).
var stopWords = set(`
	le la les un une des du de d l au aux et ou en y a ce ces cet cette ca c est sont
	etre suis es etes ete sera seront serait seraient ai as avez avons ont avoir je j tu t il elle on nous vous ils
	elles me m te se s moi toi lui leur leurs mon ma mes ton ta tes son sa ses notre
	nos votre vos qui que qu quoi quel quelle quels quelles comment pourquoi quand ou
	combien lequel laquelle lesquels pour par sur dans avec sans sous chez vers pas ne
	n plus tres bien tout tous toute toutes mais donc alors si oui non merci bonjour
	salut coucou bonsoir hello svp stp plait vous faut peut peux pouvez puis pourrais
	pourriez pourrait veux veut voudrais voudrait voulais voulez aimerais aimerait sais
	savez savoir dire dites fait faire fais faites quelqu quelque un une aujourd hui encore
	deja vraiment juste aussi comme ici voila ya bah ben euh hein svp stp merci
	besoin question questions info information informations renseignement
	renseignements aide aider aidez demander demande vais va vont allez allons
	cela ceci celui celle ceux chose truc genre toujours encore jamais rien
	maintenant moment normal normale bientot actuellement hier autant beaucoup
	tellement assez moins
	possible possibles possibilite jusqu jusque exactement generalement habituellement
	propose proposez proposent proposer offrez sert servez servent servir servi
	facile facilement difficile complique compliquee prend prends prendre prenez prennent prenons
	dois doit doivent devez devons devoir devrais devrait
	probleme problemes souci soucis depuis autre autres cas avant apres pendant
	the a an and or of to in on at for from by with about is are was were be been am
	do does did doing have has had i me my we our us you your he she it its they them
	their this that these those what which who whom whose when where why how can could
	would should will shall may might must please pls thanks thank thx hi hello hey
	there here any some anyone someone anybody just get got know tell need want
	wondering wonder like not no yes so if but also still yet as than then too very
	much many anything something guys guy help question questions info information
	let us ask asking am okay ok dear sir madam team still yet already now soon
	currently right normal today yesterday hasn didn isn doesn don wasn aren haven couldn wouldn
	shouldn won ain re ve ll way best
	possibly exactly usually generally somewhere anywhere provide provides serve serves served
	easy hard difficult problem problems issue issues since another
	lol mdr ptdr xd jsuis wsh wesh
	moyen coup sinon bref cordialement sait aurais aurait voulu demandais demandait
	policy policies politique politiques procedure procedures demarche demarches modalite modalites`)

// byPlaceWords are the words readAsks gives a meaning by their place, its
// cases: the others (most of a message) it passes without comparing them to
// each (TestByPlaceWords checks the two lists agree).
var byPlaceWords = set(`plus recevoir receive arriver tester teste testee tested acceptez achete acheter adresse adresser adressez ago apprentices apprentis
	arrive arrives arrivez arrivons bossez boulot broken buy card carte cb
	cherchent chercher cherchez combien commande commander commandes commandons
	conseil conseille conseillent conseiller conseillere conseilleres
	conseillers conseillez conseils coupe coupee coupees coupent couper coupes coupez cours days update updates exam exams email embauchez envoie envoient
	envoyer envoyez envoyons test tests etudiantes etudiants heures hire hiring hold hours
	jeunes jours ligne lignes location locations long lyceens mail manquaient marche marchent fonctionne fonctionnent works working
	manquait manquant manquante manquantes manquants manque manquent manquer
	manquerai manquerez manques manquez message messages minutes mois monde
	months much news nouvelle nouvelles opened order ou ouvert ouverte ouvertes
	ouverts package packages parcel parcels parle parler passait passe passee
	passees passent passer passera passes passez personnel phone port post poste
	posted postent poster postez posting posts prendre prenez preparation quelqu
	quoi recherchent recherchez recommande recommander recommandez recommend
	recommendation recommendations recommends recrutez rend rende rendent rendes
	rendez rendons rendre rends retourne retournent retourner retournes
	retournez retrouve retrouvent retrouver retrouvez retrouvons return sale
	sales semaines send sends speak staff stage stages stagiaires still students
	suggerer suggerez suggest suggestion suggestions switch taf talk tel
	telephone temps time touch toujours travail travaille travaillent travaillez
	try vol walk weeks where work`)

// lexFlags say which of the lexicon's sets a folded word is in.
type lexFlags uint16

const (
	lexStop lexFlags = 1 << iota
	lexFr
	lexEn
	lexQuestion
	lexRequestFirst
	lexGreeting
	lexOpener
	lexRemark
	lexInsult
	// lexSlang: a short form slang spells out.
	lexSlang
	lexLaughter
	lexSecondPerson
	lexSuperlative
	// lexPairEnd: the second word of a remarkPair.
	lexPairEnd
	// lexByPlace: a word readAsks reads by its place (byPlaceWords).
	lexByPlace
)

// lexicon holds the flags of every word in one of the sets: a word of a
// message is looked up once, not once a set.
var lexicon = func() map[string]lexFlags {
	m := map[string]lexFlags{}
	for _, s := range []struct {
		set  map[string]bool
		flag lexFlags
	}{
		{stopWords, lexStop}, {frWords, lexFr}, {enWords, lexEn}, {questionWords, lexQuestion},
		{requestFirsts, lexRequestFirst}, {greetings, lexGreeting}, {openers, lexOpener}, {remarkWords, lexRemark}, {insultWords, lexInsult},
		{keysOf(slang), lexSlang}, {laughter, lexLaughter}, {secondPerson, lexSecondPerson}, {superlatives, lexSuperlative}, {pairEnds(remarkPair), lexPairEnd},
		{byPlaceWords, lexByPlace},
	} {
		for w, in := range s.set {
			if in {
				m[w] |= s.flag
			}
		}
	}
	return m
}()

// keysOf is the set of m's keys.
func keysOf(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// pairEnds is the set of the pairs' second words.
func pairEnds(pairs map[[2]string]bool) map[string]bool {
	out := map[string]bool{}
	for p := range pairs {
		out[p[1]] = true
	}
	return out
}

// questionWords, anywhere in a message, make it a question or a request.
var questionWords = set(`
	comment pourquoi quand combien quel quelle quels quelles lequel laquelle quoi
	aide aidez aider help svp stp plait renseignement renseignements
	how what when where why which who whom whose please anyone someone wondering`)

// openers, as the first word, make a question: "vous livrez en Belgique",
// "is the server down", "can I return".
var openers = set(`
	est qui comment combien pourquoi quand quoi ya faut peux pouvez puis pourrais pourriez savez sais
	avez as etes es vous tu
	is are am was were do does did can could will would should may might have has
	any anybody`)

// invertedSubjects follow a hyphen in French inverted questions: avez-vous,
// peut-on, faut-il, est-ce.
var invertedSubjects = set(`vous tu il elle on je nous ils elles ce t`)

// languageOf guesses fr or en from a message's folded words and its accents; ""
// when it cannot tell.
func languageOf(text string, ws []word) string {
	fr, en := languageWords(ws)
	// the accents counted are all written 0xC3 and a second byte in
	// UTF-8: a text without that byte (most of a chat) has none
	if i := strings.IndexByte(text, 0xc3); i >= 0 {
		// from the first: 0xC3 never continues another character
		for _, r := range text[i:] {
			switch r {
			case 'é', 'è', 'ê', 'à', 'ù', 'ç', 'î', 'ô', 'û', 'ë', 'ï', 'â', 'É', 'È', 'À', 'Ç':
				fr++
			}
		}
	}
	switch {
	case fr > en:
		return "fr"
	case en > fr:
		return "en"
	}
	return ""
}

// languageWords counts the words of ws that only French writes, and those
// that only English does.
func languageWords(ws []word) (fr, en int) {
	for _, w := range ws {
		if w.lex&lexFr != 0 {
			fr++
		}
		if w.lex&lexEn != 0 {
			en++
		}
	}
	return fr, en
}

// looksLikeQuestion reports whether a message asks something: a question mark, a
// question word, a request word, a French inversion, or a first word that opens a
// question.
func looksLikeQuestion(text string, ws []word) bool {
	return looksLikeQuestionFolded(text, "", ws)
}

// looksLikeQuestionFolded is looksLikeQuestion given fold(text) when it was
// made already (foldedWords), "" when not: it is not folded again.
func looksLikeQuestionFolded(text, folded string, ws []word) bool {
	if asksMark(text) || hasOu(text) {
		return true
	}
	for i, w := range ws {
		if w.lex&lexQuestion != 0 {
			// "personne pour m'aider. Déçue." complains of no help
			return !helpWords[w.folded] || !anyRemark(ws)
		}
		if i+1 < len(ws) && w.lex&lexRequestFirst != 0 && requests[w.folded+" "+ws[i+1].folded] {
			return true
		}
	}
	if hasInversion(text, folded) {
		return true
	}
	// A clause that opens as a question after a comma: "we land at 9am,
	// can we get the room early".
	if clauseAsks(text) {
		return true
	}
	// The first two words past a greeting: "a qui j'envoie", "so is it down";
	// not in praise or a complaint, which open as often with "vous" ("vous
	// êtes les meilleurs du quartier").
	seen := 0
	for _, w := range ws {
		if w.lex&lexGreeting != 0 {
			continue
		}
		if w.lex&lexOpener != 0 {
			return !anyRemark(ws)
		}
		if seen++; seen == 2 {
			break
		}
	}
	return false
}

// helpWords ask for help, or complain that none came.
var helpWords = set(`aide aidez aider help`)

// anyRemark reports whether a word of ws makes a remark of a message that
// does not ask in so many words (see remarkWords).
func anyRemark(ws []word) bool {
	for _, w := range ws {
		if w.lex&lexRemark != 0 {
			return true
		}
	}
	return false
}

// hasInversion reports whether text has a French inversion: avez-vous,
// peut-on, faut-il, est-ce. folded is fold(text), or "" when not made yet.
func hasInversion(text, folded string) bool {
	// an inversion has a hyphen, which folding an ASCII text does not make:
	// most messages are not folded again
	if folded == "" {
		if ascii, _ := asciiCase(text); !ascii || strings.IndexByte(text, '-') >= 0 {
			folded = fold(text)
		}
	}
	for i := strings.IndexByte(folded, '-'); i >= 0; {
		rest := folded[i+1:]
		end := strings.IndexFunc(rest, func(r rune) bool { return !('a' <= r && r <= 'z') })
		if end < 0 {
			end = len(rest)
		}
		if i > 0 && invertedSubjects[rest[:end]] && isLetterByte(folded[i-1]) {
			return true
		}
		j := strings.IndexByte(rest, '-')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// clauseOpeners open a question as the first word of a clause after a comma
// (a semicolon ends as many HTML entities, "&#128514;"): the verbs that ask, not "vous" or "est", which open as many
// remarks ("merci, vous êtes top").
var clauseOpeners = set(`peux pouvez puis pourrais pourriez faut avez
	can could do does is are will would should may any`)

// clauseAsks reports whether a clause after a comma opens with a verb that
// asks.
func clauseAsks(text string) bool {
	for i := strings.IndexByte(text, ','); i >= 0; {
		rest := text[i+1:]
		end := strings.IndexByte(rest, ',')
		clause := rest
		if end >= 0 {
			clause = rest[:end]
		}
		if f := firstField(clause); f != "" {
			first := strings.ToLower(strings.Trim(f, ".!'\"()"))
			if clauseOpeners[first] {
				return true
			}
		}
		if end < 0 {
			break
		}
		i += 1 + end
	}
	return false
}

// firstField is strings.Fields(s)[0], "" when s has no field, without
// cutting the rest.
func firstField(s string) string {
	start := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsSpace(r) })
	if start < 0 {
		return ""
	}
	s = s[start:]
	if end := strings.IndexFunc(s, unicode.IsSpace); end >= 0 {
		return s[:end]
	}
	return s
}

// requests are two words that open a request: "je voudrais", "i need".
var requests = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range []string{
		"je voudrais", "je veux", "j aimerais", "je cherche", "je souhaite",
		"je souhaiterais", "je narrive", "je n", "je dois", "je peux", "j ai besoin",
		"on peut", "il faut", "i want", "i would", "i d", "i need", "looking for",
		"i can", "i cannot", "trying to", "how to",
		"did not", "has not", "have not", "toujours pas", "still not", "i still",
		"pas recu", "never received", "not received",
	} {
		m[p] = true
	}
	return m
}()

// requestFirsts are the first words of requests: the pair is only looked up
// (and glued) after one of them.
var requestFirsts = func() map[string]bool {
	m := map[string]bool{}
	for r := range requests {
		first, _, _ := strings.Cut(r, " ")
		m[first] = true
	}
	return m
}()

// asksMark reports whether text has a question mark, as
// strings.ContainsAny(text, "?？¿") does, without decoding text rune by rune
// (the two others' first bytes, 0xEF and 0xC2, never continue another
// character, so their bytes are found only where they are).
func asksMark(text string) bool {
	return strings.IndexByte(text, '?') >= 0 || strings.Contains(text, "？") || strings.Contains(text, "¿")
}

// hasOu reports whether text has "où" in any case, as
// strings.Contains(strings.ToLower(text), "où") does, without lowering a copy
// of it: only O lowers to o, and only Ù to ù.
func hasOu(text string) bool {
	if len(text) < 3 {
		return false
	}
	// ù and Ù are 0xC3 and a second byte: only where a 0xC3 is
	for i := 1; ; {
		j := strings.IndexByte(text[i:], 0xc3)
		if j < 0 {
			return false
		}
		j += i
		if j+1 < len(text) && (text[j-1] == 'o' || text[j-1] == 'O') && (text[j+1] == 0xb9 || text[j+1] == 0x99) {
			return true
		}
		i = j + 1
	}
}

var greetings = set(`bonjour salut coucou bonsoir hello hi hey yo re wesh slt bjr dear`)

func isLetterByte(c byte) bool { return 'a' <= c && c <= 'z' }

// speaksToPeer reports whether a French message speaks to another member: it
// says "tu" (tu, t', toi, te, ton, ta, tes) and never "vous", which is how the
// public asks a brand. "a-t-il" is an inversion, no "tu", and "t.co" a link;
// an English message ("can't") never speaks to a peer.
func speaksToPeer(ws []word) bool {
	peer := false
	for i, w := range ws {
		switch w.folded {
		case "vous", "votre", "vos":
			return false
		case "tu", "toi", "te", "ton", "ta", "tes":
			peer = true
		case "t":
			// t'as, t'es, t'en, t'habites: a verb that opens on a vowel or
			// an h follows (no "t.co" or "t=2m19s" of a link)
			if i+1 < len(ws) && !inverted[ws[i+1].folded] && strings.IndexByte("aeiouyh", ws[i+1].folded[0]) >= 0 {
				peer = true
			}
		}
	}
	return (peer && readsFrench(ws) || offersToRoom(ws)) && !ownsWithBrand(ws)
}

// ownsWithBrand reports whether ws name something of the writer's that only the
// brand knows of: "t'as des news de ma commande ?", "tu peux débloquer mon
// compte ?" ask the brand, even in "tu" (a bot is often spoken to so), and so
// does "qui veut bien me répondre ? ma commande n'est pas arrivée".
func ownsWithBrand(ws []word) bool {
	for i := 1; i < len(ws); i++ {
		switch ws[i-1].folded {
		case "ma", "mon", "mes", "my":
		default:
			continue
		}
		switch ws[i].folded {
		case "commande", "commandes", "colis", "remboursement", "compte", "abonnement", "facture", "livraison", "reservation", "carte", "dossier", "candidature",
			"order", "orders", "parcel", "package", "refund", "account", "subscription", "invoice", "delivery", "booking", "application":
			return true
		}
	}
	return false
}

// offersToRoom reports whether ws offer something to whoever is there, not
// asking the brand: "quelqu'un veut adopter un chaton ?", "je commande une
// pizza, qui en veut ?", "anyone want some?". A message that says "vous" or
// "you" is left to the rest of the reading.
func offersToRoom(ws []word) bool {
	if asksWhoHere(ws) {
		return true
	}
	for i, w := range ws {
		if w.lex&lexSecondPerson != 0 {
			return false
		}
		if i+1 >= len(ws) {
			continue
		}
		next := ws[i+1].folded
		if next == "en" && i+2 < len(ws) {
			next = ws[i+2].folded
		}
		switch w.folded {
		case "un", "qui": // quelqu'un veut, qui veut, qui en veut
			if (w.folded == "qui" || i > 0 && ws[i-1].folded == "quelqu") && (next == "veut" || next == "voudrait") {
				return !slices.ContainsFunc(ws[i+1:], secondPersonWord)
			}
			// quelqu'un sait, connaît, conseille; quelqu'un a un bon...
			if w.folded == "un" && i > 0 && ws[i-1].folded == "quelqu" && (roomKnows[next] || recommendsOne(ws[i+1:])) {
				return !slices.ContainsFunc(ws[i+1:], secondPersonWord)
			}
		case "any":
			// "i need a job, any advice?" asks the members.
			if next == "advice" || next == "tips" || next == "ideas" || next == "suggestions" || next == "recommendations" {
				return !slices.ContainsFunc(ws, secondPersonWord)
			}
		case "anyone", "anybody", "who", "someone", "somebody":
			wants := w.folded != "someone" && w.folded != "somebody" && (next == "want" || next == "wants" || next == "wanna")
			// anyone know, can anyone recommend, anyone got a good...
			knows := w.folded != "who" && (roomKnows[next] || recommendsOne(ws[i+1:]))
			if wants || knows {
				return !slices.ContainsFunc(ws[i+1:], secondPersonWord)
			}
		}
	}
	return false
}

// roomKnows are the verbs of a question put to the members for what they know
// or would recommend: "quelqu'un sait", "quelqu'un connaît un bon garagiste",
// "anyone know", "can anyone recommend".
var roomKnows = set(`sait saurait connait connaitrait conseille conseillerait recommande
	recommanderait know knows recommend recommends suggest`)

// recommendsOne reports whether ws, after "quelqu'un" or "anyone", ask for a
// good one: "a un bon plan", "aurait une bonne adresse", "got a good",
// "have any decent".
func recommendsOne(ws []word) bool {
	if len(ws) < 3 {
		return false
	}
	switch ws[0].folded {
	case "a", "aurait", "have", "has", "got":
	default:
		return false
	}
	switch ws[1].folded {
	case "un", "une", "des", "a", "any":
	default:
		return false
	}
	switch ws[2].folded {
	case "bon", "bonne", "bons", "bonnes", "good", "decent", "nice":
		return true
	}
	return false
}

// asksWhoHere reports whether ws ask who among the members is or has
// something: "qui a le permis ici ?", "who here has tried the new menu?".
// The question opens with "qui" or "who" ("à qui m'adresser ici ?" asks the
// brand) and says no "vous" or "you".
func asksWhoHere(ws []word) bool {
	i := 0
	for i < len(ws) && ws[i].lex&lexGreeting != 0 {
		i++
	}
	if i == len(ws) || ws[i].folded != "qui" && ws[i].folded != "who" {
		return false
	}
	here := false
	for _, w := range ws[i+1:] {
		if w.lex&lexSecondPerson != 0 {
			return false
		}
		here = here || w.folded == "ici" || w.folded == "here"
	}
	return here
}

// inverted follow the "t" of an inversion: "y a-t-il", "va-t-on".
var inverted = set(`il elle on ils elles`)

// insulting reports whether one of ws insults the brand or its staff.
func insulting(ws []word) bool {
	for _, w := range ws {
		if w.lex&lexInsult != 0 {
			return true
		}
	}
	return false
}
