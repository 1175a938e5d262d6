package faq

import (
	"strings"
)

// worthTheDesk reports whether a message nothing matched, after hours, is a
// question to the brand a CM should find on the desk in the morning: it asks
// something (a question's form, its first words included, or a problem or a
// service named), is no insult, no self-promotion and no reply to another
// account, and it speaks to the brand ("vous", "you"), asks for the writer
// ("je peux", "can I", "my order"), asks whether there is something ("il y
// a", "is there"), or names a customer-service matter: an intent of the
// lexicon or a word of the FAQ's own examples. A question mark alone is no
// question to the brand: "WHY DOES THIS HAVE 2 BILLION VIEWS", "check out my
// channel", "Katy has a voice of an angel" are not worth a card.
//
// read is the text the match read, folded its folding and readWs its words
// (foldedWords): when text without its links is read, they are not made
// again.
func (m *Matcher) worthTheDesk(text string, r Match, read, readFolded string, readWs []word) bool {
	if !r.Question || r.Insult || repliesToAccount(text) {
		return false
	}
	// a link's query ("watch?v=", "?ref=") is no question mark
	text = dropLinks(text)
	folded, ws := readFolded, readWs
	if text != read {
		var buf [wordsBuf]word
		folded, ws = foldedWords(text, m.memo, buf[:0])
	}
	if promotes(ws) {
		return false
	}
	if !asksTheDesk(text, folded, ws) && !m.namesProblem(ws, r.Terms) {
		return false
	}
	if addressed(ws) || asksForSelf(ws) || asksWhetherThere(ws) {
		return true
	}
	for _, t := range r.Terms {
		if asksSomething(t) || problemConcepts[t] {
			return true
		}
		if ti := m.infoOf(t); ti.known && !ti.context {
			return true
		}
	}
	return false
}

// repliesToAccount reports whether text opens by naming another account, as
// a reply or a retweet does ("@user @user vous avez si mal ?", "RT @x: ..."):
// it speaks to that account, or quotes it, not to the brand.
func repliesToAccount(text string) bool {
	fs := strings.Fields(text)
	if len(fs) == 0 {
		return false
	}
	first := strings.TrimLeft(fs[0], "\"!\u201c")
	first = strings.TrimPrefix(first, "&#8220;")
	if strings.EqualFold(first, "rt") && len(fs) > 1 {
		first = fs[1]
	}
	return len(first) > 1 && first[0] == '@'
}

// pastBotMentions is text past the bots' @usernames it opens with, on
// Telegram, where only a bot's username may end in "bot": "@shopbot when do
// you open?" speaks to a bot of the group (the brand's), not to another
// member as "@alice when do you open?" does.
func pastBotMentions(platform, text string) string {
	if platform != "telegram" {
		return text
	}
	for {
		rest := strings.TrimLeft(text, " \t\n")
		name, ok := strings.CutPrefix(rest, "@")
		if !ok {
			return text
		}
		end := strings.IndexAny(name, " \t\n")
		if end < 0 {
			end = len(name)
		}
		name = strings.TrimRight(name[:end], ",:;!.")
		if len(name) < 4 || !strings.HasSuffix(strings.ToLower(name), "bot") || strings.TrimFunc(name, isUsernameRune) != "" {
			return text
		}
		text = rest[1+end:]
	}
}

// isUsernameRune reports whether r may be part of a Telegram username.
func isUsernameRune(r rune) bool {
	return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// promotes reports whether ws ask the other viewers to look at, subscribe to
// or like something: "check out my channel", "please subscribe", "like if you
// came here", "abonnez-vous à ma chaîne". Self-promotion asks the brand
// nothing. "Can I check out at 2pm", "how do I subscribe to the newsletter"
// and "would like this in blue" are no self-promotion.
func promotes(ws []word) bool {
	at := func(i int) string {
		if i >= 0 && i < len(ws) {
			return ws[i].folded
		}
		return ""
	}
	if asksLeave(ws) {
		// "can I share my channel here?" asks the rules
		return false
	}
	for i, w := range ws {
		next := at(i + 1)
		switch w.folded {
		case "subscribers", "subs", "sub4sub":
			return true
		case "subscribe", "abonnez", "abonne":
			// an imperative: "please subscribe", "subscribe to my
			// channel", "abonnez-vous", "abonne-toi"
			switch {
			case next == "to" && (at(i+2) == "my" || at(i+2) == "our"), next == "me",
				promptWords[at(i-1)], i == 0 && w.folded == "subscribe",
				w.folded != "subscribe" && (next == "vous" || next == "toi"):
				return true
			}
		case "check", "checkout", "checking":
			// "check me out", "check out my vids", "check it out"
			if next == "me" || next == "out" && viewed[at(i+2)] || viewed[next] && at(i+2) == "out" {
				return true
			}
		case "my", "our", "ma", "mon", "nos", "notre":
			if promoted[next] {
				return true
			}
		case "like":
			// "like if you came here", "like this comment"
			if next == "if" || next == "this" && at(i+2) == "comment" {
				return true
			}
		case "thumbs":
			if next == "up" {
				return true
			}
		case "allez":
			if next == "voir" && (at(i+2) == "ma" || at(i+2) == "mon") {
				return true
			}
		}
	}
	return false
}

// asksLeave reports whether ws ask leave for the writer: "can I", "may we",
// "je peux", "on peut", "puis-je".
func asksLeave(ws []word) bool {
	for i := 0; i+1 < len(ws); i++ {
		w, next := ws[i].folded, ws[i+1].folded
		switch {
		case (w == "can" || w == "may" || w == "could") && (next == "i" || next == "we"),
			(w == "je" || w == "on") && (next == "peux" || next == "peut" || next == "pourrais" || next == "pourrait"),
			w == "puis" && next == "je":
			return true
		}
	}
	return false
}

var (
	// promoted are what a self-promoter's "my" names: "my channel", "ma
	// chaîne"; not "my page" or "my video" of a customer's account.
	promoted = set(`channel channels chanel vids vidios playlist blog soundcloud mixtape chaine chaines`)
	// viewed are what "check out" asks the viewers to look at.
	viewed = set(`my our this these me it them em`)
	// promptWords before "subscribe" make an imperative of it.
	promptWords = set(`please plz pls plzz and`)
)

// asksForSelf reports whether ws ask something for the writer: "je peux",
// "can I", "on peut", "my order", "we land at 9am".
func asksForSelf(ws []word) bool {
	for _, w := range ws {
		switch w.folded {
		case "i", "je", "j", "we", "my", "mon", "ma", "mes", "nous", "me", "moi", "m", "us", "our", "notre", "nos":
			return true
		case "on":
			// French "on peut", not English "on sunday"
			if readsFrench(ws) {
				return true
			}
		}
	}
	return false
}

// asksWhetherThere reports whether ws ask whether there is something: "il y
// a une imprimante ?", "y a des food trucks ?", "is there a cloakroom", "faut
// amener sa magnésie ?".
func asksWhetherThere(ws []word) bool {
	for i, w := range ws {
		next := ""
		if i+1 < len(ws) {
			next = ws[i+1].folded
		}
		switch w.folded {
		case "ya", "faut":
			return true
		case "y":
			if next == "a" || next == "aura" || next == "avait" {
				return true
			}
		case "is", "are":
			if next == "there" {
				return true
			}
		}
	}
	return false
}

// dropLinks is text without its links: the fields with "://", opening with
// "www." or asking a query ("com/watch?v=TQ046").
func dropLinks(text string) string {
	if !strings.Contains(text, "://") && !strings.Contains(text, "www.") {
		return text
	}
	fs := strings.Fields(text)
	out := fs[:0]
	for _, f := range fs {
		if !strings.Contains(f, "://") && !strings.HasPrefix(strings.ToLower(f), "www.") && !isQuery(f) {
			out = append(out, f)
		}
	}
	return strings.Join(out, " ")
}

// asksTheDesk reports whether text has a question's form, read more strictly
// than looksLikeQuestion: a question mark, a request ("je voudrais", "help",
// "svp"), an inversion, an opener as the first word past a greeting, or a
// question word that opens the message or one of its clauses. "I remember
// when everyone was obsessed", "I like how the robot shuffles" or "She is
// fit" ask nothing.
func asksTheDesk(text, folded string, ws []word) bool {
	if asksMark(text) || hasOu(text) || clauseAsks(text) || hasInversion(text, folded) {
		return true
	}
	for i, w := range ws {
		// French asks "je fais comment", "ça ferme quand": its
		// question words ask wherever they stand; English ones ask
		// followed by a verb that asks ("my cat is bleeding what should
		// i do"), not in "I remember when everyone was obsessed"
		if requestWords[w.folded] || frenchInterrogatives[w.folded] ||
			interrogatives[w.folded] && i+1 < len(ws) && ws[i+1].lex&lexOpener != 0 && !frenchInterrogatives[ws[i+1].folded] {
			return true
		}
		if i+1 < len(ws) && w.lex&lexRequestFirst != 0 && requests[w.folded+" "+ws[i+1].folded] {
			return true
		}
	}
	for _, w := range ws {
		if w.lex&lexGreeting == 0 {
			if w.lex&lexOpener != 0 {
				return true
			}
			break
		}
	}
	for _, clause := range strings.FieldsFunc(folded, func(r rune) bool { return strings.ContainsRune(",;:.!", r) }) {
		var buf [16]string
		cw := appendWords(buf[:0], clause)
		for len(cw) > 0 && greetings[cw[0]] {
			cw = cw[1:]
		}
		// "les inscriptions ferment quand", "ma carte expire quand"
		if len(cw) > 0 && (interrogatives[cw[0]] || frenchInterrogatives[cw[0]] || cw[len(cw)-1] == "quand") {
			return true
		}
	}
	return false
}

// requestWords make a request of a message wherever they stand; the
// question words (interrogatives) ask only where a clause opens.
var (
	requestWords         = set(`aide aidez aider help svp stp plait renseignement renseignements please wondering`)
	frenchInterrogatives = set(`comment pourquoi combien quel quelle quels quelles lequel laquelle quoi`)
	interrogatives       = set(`quand how what when where why which who whom whose anyone someone`)
)

// namesProblem reports whether a message without a question's form names a
// problem for customer service ("code oublié", "missing screws in the box"),
// or a service of the writer's with the brand ("mon abonnement", "on
// aimerait ... chez vous"). A service named alone ("She is fit", "epic",
// "Katy Perry You Are Looking Soo PRETTY") is no request.
func (m *Matcher) namesProblem(ws []word, terms []string) bool {
	if !m.asksService(ws) {
		return false
	}
	if ownsWithBrand(ws) || asksForSelf(ws) && addressed(ws) {
		return true
	}
	for _, t := range terms {
		if problemConcepts[t] {
			return true
		}
	}
	return false
}

// isQuery reports whether f is a link's query: a question mark followed by
// a name and "=".
func isQuery(f string) bool {
	i := strings.IndexByte(f, '?')
	return i >= 0 && strings.IndexByte(f[i:], '=') > 1
}
