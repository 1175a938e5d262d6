package faq

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/rules"
)

func TestFold(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Où ÊTES-vous ?", "ou etes-vous ?"},
		{"Cœur ÇA", "coeur ca"},
		{"l’heure", "l'heure"},
		{"ＡＢＣ", "abc"},
	} {
		if got := fold(tt.in); got != tt.want {
			t.Errorf("fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWords(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string // folded
	}{
		{"Livraisonnnn svppp", []string{"livraison", "s", "il", "vous", "plait"}},
		{"c koi vos horaires", []string{"c", "quoi", "vos", "horaires"}},
		{"l'heure d'ouverture", []string{"l", "heure", "d", "ouverture"}},
		{"wheres my order", []string{"where", "is", "my", "order"}},
		{"commande", []string{"commande"}},
		{"jpeux passer demain aprem", []string{"je", "peux", "passer", "demain", "apres", "midi"}},
		{"appt tmrw", []string{"appointment", "tomorrow"}},
	} {
		var got []string
		for _, w := range words(tt.in) {
			got = append(got, w.folded)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStem(t *testing.T) {
	// Words that must meet on one stem.
	for _, group := range [][]string{
		{"livraison", "livrer", "livre", "livrez", "livraisons"},
		{"commande", "commander", "commandes", "commandee"},
		{"remboursement", "rembourser", "rembourse"},
		{"horaire", "horaires"},
		{"shipped", "shipping", "ship"},
		{"ordered", "order", "orders"},
		{"deliveries", "delivery"},
		{"jeux", "jeu"},
		{"regles", "regle", "reglement"},
		{"player", "players"},
		{"depannage", "depanner", "depanne"},
		{"nettoyage", "nettoyer", "nettoyez"},
		{"recyclage", "recycler", "recycle"},
		{"emballage", "emballer", "emballages"},
		{"voyage", "voyager", "voyages", "voyagez"},
		{"traversee", "traversees", "traverser"},
	} {
		want := stem(group[0])
		for _, w := range group[1:] {
			if got := stem(w); got != want {
				t.Errorf("stem(%q) = %q, want %q like %q", w, got, want, group[0])
			}
		}
	}
	// Words that must stay apart.
	for _, pair := range [][2]string{
		{"joueur", "jouer"},
		{"player", "play"},
		{"server", "serve"},
		{"storage", "store"},
		{"coverage", "cover"},
		{"package", "pack"},
		{"underage", "under"},
		{"postage", "poste"},
		{"message", "mesure"},
		{"garage", "gare"},
		// A French word cut of its ending is not then cut again as an
		// English agent noun: a crossing (traversée) is no roadworks.
		{"traversee", "travaux"},
		{"traverser", "travaux"},
		// A router is no route: "bonne route à tous" asks nothing of an
		// internet box.
		{"router", "route"},
		{"routers", "routes"},
		// Ready is no reading: "is my order ready?" asks nothing of a book.
		{"ready", "read"},
	} {
		if stem(pair[0]) == stem(pair[1]) {
			t.Errorf("stem(%q) = stem(%q) = %q", pair[0], pair[1], stem(pair[0]))
		}
	}
	// Short words and numbers are left alone.
	for _, w := range []string{"ps5", "abc", "2024"} {
		if got := stem(w); got != w {
			t.Errorf("stem(%q) = %q", w, got)
		}
	}
}

func TestLooksLikeQuestion(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"vos horaires ?", true},
		{"comment vous contacter", true},
		{"avez-vous un numéro", true},
		{"où est ma commande", true},
		{"c'est quoi les regles", true},
		{"je voudrais être remboursé", true},
		{"is the server down", true},
		{"hello, is the server down", true},
		{"help", true},
		{"aide moi stp", true},
		{"i still didnt receive my package", true},
		{"a qui j'envoie mon cv", true},
		{"merci pour le rôle !", false},
		{"gg wp", false},
		{"pizza ou burger ce soir", false},
		{"le serveur est trop bien", false},
		{"j'ai bien reçu ma commande, parfait", false},
		{"peut-être demain", false},
		{"my flight lands at 9, can we come early", true},
		{"j'ai un souci de livraison, pouvez vous m'aider", true},
		{"livraison rapide, on recommande", false},
		{"super soirée, il faisait beau", false},
	} {
		if got := looksLikeQuestion(tt.in, words(tt.in)); got != tt.want {
			t.Errorf("looksLikeQuestion(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLanguageOf(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"quels sont vos horaires ?", "fr"},
		{"vous livrez en Belgique ?", "fr"},
		{"où ça ?", "fr"},
		{"what are your opening hours?", "en"},
		{"is the server down?", "en"},
		{"server down??", ""},
		{"ok", ""},
	} {
		if got := languageOf(tt.in, words(tt.in)); got != tt.want {
			t.Errorf("languageOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The fillers of a French request ask nothing: "du coup" is no power cut
// (coupure), "y a moyen de" no means of payment.
func TestFillersAskNothing(t *testing.T) {
	m := starterMatcher(t)
	for _, s := range []string{"du coup", "y a moyen de", "sinon bref", "je me demandais si", "j'aurais voulu savoir", "cordialement"} {
		if ts := m.terms(words(s), false); len(ts) != 0 {
			t.Errorf("terms(%q) = %v, want none", s, ts)
		}
	}
}

// TestFoldByRuneAsNFKD checks fold's table against the long way: each
// character it holds alone, and beside the characters that could move or
// join in a decomposition (combining marks of every class, ligatures, the
// table's own characters).
func TestFoldByRuneAsNFKD(t *testing.T) {
	tab := runeFolds()
	var held []rune
	for _, rg := range runeFoldRanges {
		for r := rg[0]; r < rg[1]; r++ {
			if _, ok := tab.fold(r); ok {
				held = append(held, r)
			}
		}
	}
	if len(held) < 5000 {
		t.Fatalf("the table holds %d characters", len(held))
	}
	around := []string{"", "a", "E", "\u0301", "\u0327", "\u0323\u0302", "\u0345", "\u05b0", "\u0f71", "\u0e38", "\u3099",
		"\U0001d165", "\u0903", "\u20dd", "\u034f", "\ufb01", "é", "Œ", "ß", "’", "`", "\xff", "\ufffd", "\U0001F600", "가", "ｈ"}
	for _, r := range held {
		for _, a := range around {
			for _, s := range []string{string(r), a + string(r), string(r) + a, "X" + string(r) + a + string(r)} {
				if got, want := fold(s), foldNFKD(s); got != want {
					t.Fatalf("fold(%q) = %q, want %q", s, got, want)
				}
			}
		}
	}
	for _, s := range evalTexts(t) {
		if got, want := fold(s), foldNFKD(s); got != want {
			t.Errorf("fold(%q) = %q, want %q", s, got, want)
		}
	}
}

// hasRun3ByRune is hasRun3 as it was, rune by rune.
func hasRun3ByRune(w string) bool {
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

func TestHasRun3AsByRune(t *testing.T) {
	ws := []string{"", "a", "aa", "aaa", "abbb", "abba", "éé", "ééé", "aééé", "ééa", "a\u0301a\u0301a\u0301", "\xff\xff\xff", "111", "svpppp", "heeelp"}
	for _, s := range evalTexts(t) {
		ws = append(ws, splitWords(fold(s))...)
		ws = append(ws, s)
	}
	for _, w := range ws {
		if got, want := hasRun3(w), hasRun3ByRune(w); got != want {
			t.Errorf("hasRun3(%q) = %v, want %v", w, got, want)
		}
	}
}

// TestHasOuAsLowered checks hasOu against the lowered text.
func TestHasOuAsLowered(t *testing.T) {
	texts := append(evalTexts(t), "", "o", "où", "OÙ", "Où", "oÙ", "ù", "xù", "o\xc3", "\xc3\xb9", "oo\xc3\xb9", "où?", "ou", "Ou ù", "ÓÙ", "ò\xc3\xb9")
	for _, s := range texts {
		if got, want := hasOu(s), strings.Contains(strings.ToLower(s), "où"); got != want {
			t.Errorf("hasOu(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestFirstFieldAsFields checks firstField against strings.Fields.
func TestFirstFieldAsFields(t *testing.T) {
	texts := append(evalTexts(t), "", " ", "\u00a0a b", " \t\nx", "a\u2003b", "\xff b", " \u0085z", "é ")
	for _, s := range texts {
		want := ""
		if f := strings.Fields(s); len(f) > 0 {
			want = f[0]
		}
		if got := firstField(s); got != want {
			t.Errorf("firstField(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestRuneFoldsOnUse: the table works out a character the first time a text
// has it, and no other (each took an NFKD, 17,000 of them at the start), the
// same answer from goroutines reading it at once.
func TestRuneFoldsOnUse(t *testing.T) {
	n := 0
	for _, rg := range runeFoldRanges {
		n += int(rg[1] - rg[0])
	}
	tab := &runeFoldTable{at: make([]atomic.Pointer[runeFold], n)}
	filled := func() int {
		c := 0
		for i := range tab.at {
			if tab.at[i].Load() != nil {
				c++
			}
		}
		return c
	}
	if got := filled(); got != 0 {
		t.Fatalf("a new table holds %d characters, want none worked out", got)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, r := range "Où êtes-vous ? Ça s’ouvre à 9h ½ 😀 ｈ" {
				if r < 0x80 {
					continue
				}
				got, ok := tab.fold(r)
				want, wantOK := foldAlone(r)
				if ok != wantOK || (ok && got != want) {
					t.Errorf("fold(%q) = %q, %v, want %q, %v", r, got, ok, want, wantOK)
				}
			}
		})
	}
	wg.Wait()
	if got := filled(); got != 8 { // ù ê Ç ’ à ½ 😀 ｈ
		t.Errorf("%d characters worked out, want the text's 8", got)
	}
}

// TestByPlaceWords checks that byPlaceWords holds the words of readAsks's
// cases, and no other: readAsks passes the others by without its switch.
func TestByPlaceWords(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "text.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "readAsks" {
			continue
		}
		// the switch on ws[i].folded in the loop's body
		for _, st := range fn.Body.List[0].(*ast.RangeStmt).Body.List {
			sw, ok := st.(*ast.SwitchStmt)
			if !ok {
				continue
			}
			for _, c := range sw.Body.List {
				cc := c.(*ast.CaseClause)
				if cc.List == nil {
					t.Fatal("readAsks's switch has a default: every word is read by its place")
				}
				for _, e := range cc.List {
					lit, ok := e.(*ast.BasicLit)
					if !ok {
						t.Fatalf("readAsks's case %T is no word", e)
					}
					w, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					cases[w] = true
				}
			}
		}
	}
	if len(cases) < 100 {
		t.Fatalf("%d words in readAsks's cases: the switch was not found", len(cases))
	}
	for w := range cases {
		if !byPlaceWords[w] || lexicon[w]&lexByPlace == 0 {
			t.Errorf("%q is a case of readAsks, not in byPlaceWords", w)
		}
	}
	for w := range byPlaceWords {
		if !cases[w] {
			t.Errorf("%q is in byPlaceWords, no case of readAsks", w)
		}
	}
}

// A verb of working beside a negation says the thing is out of order,
// whichever verb and negation ("ne marche plus", "fonctionne pas", "stopped
// working", "doesn't work"); alone, asking how, or of a person, it does not.
func TestNotWorking(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"le chargeur marche plus", true},
		{"mon appareil ne fonctionne pas", true},
		{"ça marche pas depuis hier", true},
		{"my charger stopped working", true},
		{"the app doesn't work", true},
		{"it's not working anymore", true},
		{"comment ça marche ?", false},
		{"ça marche, merci", false},
		{"I'm not working tomorrow", false},
		{"we don't work on Sundays", false},
		{"how does that work?", false},
	} {
		got := slices.ContainsFunc(words(c.text), func(w word) bool { return w.stem == notWorkingTerm })
		if got != c.want {
			t.Errorf("%q: out of order %v, want %v", c.text, got, c.want)
		}
	}
}

// A message that says a thing no longer works meets the entry whose example
// says it in other words; a "marche" of another sense is not corrected to it.
func TestNotWorkingMatches(t *testing.T) {
	cfg := Config{Language: "fr", QuestionsOnly: true, Entries: notWorkingEntries()}
	m, err := NewMatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 6, 11, 0, 0, 0, time.UTC)
	d := m.DecideText("ma tablette fonctionne plus, vous pouvez faire quoi ?", at)
	if len(d.Candidates) == 0 || d.Candidates[0].ID != "repair" {
		t.Errorf("out of order: %s %s %v %v, want repair first", d.Kind, d.Entry, d.Candidates, d.Terms)
	}
	d = m.DecideText("the tablet doesn't work anymore, what can you do?", at)
	if len(d.Candidates) == 0 || d.Candidates[0].ID != "repair" {
		t.Errorf("out of order, English: %s %s %v %v, want repair first", d.Kind, d.Entry, d.Candidates, d.Terms)
	}
	if d := m.DecideText("ça marche comment la carte ?", at); slices.Contains(d.Terms, notWorkingTerm) {
		t.Errorf("how it works read as out of order: %v", d.Terms)
	}
}

func notWorkingEntries() []rules.FAQEntry {
	return []rules.FAQEntry{
		{ID: "repair", Questions: []string{"mon appareil ne marche plus, que faire ?", "my device stopped working"},
			Answer: map[string]string{"fr": "Apportez-le en boutique : diagnostic gratuit sous 48 heures.", "en": "Bring it to the shop: free diagnosis within 48 hours."}},
		{ID: "hours", Questions: []string{"vous ouvrez à quelle heure ?", "what are your opening hours?"},
			Answer: map[string]string{"fr": "Du mardi au samedi, 9h-19h.", "en": "Tuesday to Saturday, 9am-7pm."}},
		{ID: "howto", Questions: []string{"comment fonctionne la carte de fidélité ?", "how does the loyalty card work?"},
			Answer: map[string]string{"fr": "Un point par euro, 10 € offerts tous les 200 points.", "en": "One point per euro, €10 off every 200 points."}},
	}
}

// Three words read by their place: "plus de réseau" says a network or a
// supply is gone (an outage), "faire tester ses oreilles" and "get my eyes
// tested" ask an examination (no trial), and "combien de jours pour recevoir
// ma commande" how long delivery takes (no order's status); the same words
// elsewhere keep their sense.
func TestGoneTestedReceived(t *testing.T) {
	has := func(text, term string) bool {
		return slices.ContainsFunc(words(text), func(w word) bool { return w.stem == term })
	}
	for _, c := range []struct {
		text, term string
		want       bool
	}{
		{"plus de réseau depuis ce matin", outageTerm, true},
		{"j'ai plus d'internet à la maison", outageTerm, true},
		{"y a plus d'eau chaude dans la chambre", outageTerm, true},
		{"vous avez plus de réseau que les autres ?", outageTerm, false},
		{"y a plus de box disponibles ?", outageTerm, false},
		{"plus de choix en magasin ?", outageTerm, false},
		{"ça coûte combien de faire tester ma vue ?", examStem, true},
		{"je voudrais me faire tester l'audition", examStem, true},
		{"where can I get my eyes tested?", examStem, true},
		{"je peux tester le vélo avant ?", examStem, false},
		{"can I test it before buying?", examStem, false},
		{"combien de jours pour recevoir ma commande ?", deliverTerm, true},
		{"how long to receive my order?", deliverTerm, true},
		{"how long does my parcel take to arrive?", deliverTerm, true},
		{"combien de temps pour recevoir mon remboursement ?", deliverTerm, false},
		{"je peux recevoir ma commande au bureau ?", deliverTerm, false},
	} {
		if got := has(c.text, c.term); got != c.want {
			t.Errorf("%q: %s %v, want %v", c.text, c.term, got, c.want)
		}
	}
}

// "Faire tester" meets the entry of the examination, not the trial's,
// whose concept has the word "tester".
func TestTestedMatchesTheExamination(t *testing.T) {
	m, err := NewMatcher(Config{Language: "fr", QuestionsOnly: true, Entries: []rules.FAQEntry{
		{ID: "exam", Questions: []string{"comment faire un examen de la vue ?", "can I get an eye exam?"},
			Answer: map[string]string{"fr": "Examen de vue gratuit, sur rendez-vous.", "en": "Free eye exam, by appointment."}},
		{ID: "trial", Questions: []string{"on peut essayer les lentilles avant d'acheter ?", "can I try contact lenses first?"},
			Answer: map[string]string{"fr": "Essai gratuit d'une semaine.", "en": "A free one-week trial."}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 6, 11, 0, 0, 0, time.UTC)
	for _, q := range []string{"je voudrais faire tester ma vue", "where can I get my eyes tested?"} {
		if d := m.DecideText(q, at); len(d.Candidates) == 0 || d.Candidates[0].ID != "exam" {
			t.Errorf("%q: %s %s %v %v, want exam first", q, d.Kind, d.Entry, d.Candidates, d.Terms)
		}
	}
	if d := m.DecideText("je peux tester les lentilles ?", at); len(d.Candidates) == 0 || d.Candidates[0].ID != "trial" {
		t.Errorf("trying out: %s %s %v %v, want trial first", d.Kind, d.Entry, d.Candidates, d.Terms)
	}
}

// French "journée" is a day: it is no typo of English "journey" (a
// transport), which made "c'est fait dans la journée ?" a question about
// travel.
func TestJourneeIsADay(t *testing.T) {
	m := loadMatcher(t, filepath.Join("testdata", "brands", "repair", "faq.yaml"))
	for _, q := range []string{"c'est fait dans la journee ?", "réparé dans la journée ?", "bonne journée à tous"} {
		if terms := m.Match(q).Terms; slices.Contains(terms, "~transport") || !slices.Contains(terms, "~day") {
			t.Errorf("%q: %v, want a day and no transport", q, terms)
		}
	}
}
