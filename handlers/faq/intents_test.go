package faq

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// Every wording of the lexicon says something once stop words are out, and
// every intent a family names exists.
func TestLexiconIsWellFormed(t *testing.T) {
	names := IntentNames()
	if len(names) < 30 {
		t.Errorf("%d intents, want the few dozen customer service is asked", len(names))
	}
	for _, in := range parseIntents(intents) {
		if len(in.wordings) < 4 {
			t.Errorf("intent %s: %d wordings", in.name, len(in.wordings))
		}
		for _, w := range in.wordings {
			if len((&Matcher{}).stems(words(w))) == 0 {
				t.Errorf("intent %s: %q has only stop words", in.name, w)
			}
		}
	}
	for _, fam := range families {
		for _, name := range fam {
			if !slices.Contains(names, name) {
				t.Errorf("family %v: no intent %s", fam, name)
			}
		}
	}
	for _, g := range parseConcepts(concepts) {
		if len(g) < 3 || !strings.HasPrefix(g[0], "~") {
			t.Errorf("concept %v", g)
		}
	}
}

// An entry inherits the intents its examples ask, or the ones it names; a
// misspelt intent is an error with the entry's position.
func TestEntryIntents(t *testing.T) {
	entries := []rules.FAQEntry{
		{ID: "horaires", Questions: []string{"quels sont vos horaires ?", "what are your opening hours?"}},
		{ID: "colis", Questions: []string{"où est mon colis ?", "where is my parcel?"}},
		{ID: "cv", Questions: []string{"je voudrais vous envoyer mon cv"}, Intents: []string{"jobs"}},
		{ID: "tournoi", Questions: []string{"comment participer au tournoi ?"}},
	}
	got, err := EntryIntents(entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]string{
		"horaires": {"hours"},
		"colis":    {"tracking", "not_received"},
		"cv":       {"jobs"},
		"tournoi":  nil,
	} {
		if !slices.Equal(got[id], want) {
			t.Errorf("%s inherits %v, want %v", id, got[id], want)
		}
	}
	entries[2].Intents = []string{"job"}
	entries[2].Line, entries[2].Col = 7, 5
	_, err = Compile(&rules.Ruleset{File: "faq.yaml", FAQ: rules.FAQ{Entries: entries}})
	var le *rules.LoadError
	if !errors.As(err, &le) || !strings.HasPrefix(le.Error(), `faq.yaml:7:5: faq entry "cv": unknown intent "job" (known: `) {
		t.Errorf("err = %v", err)
	}
}

// What a CM wrote is understood in the public's words: another day, spoken
// French, no accents, a typo; and a remark that names delivery is no question.
func TestIntentsAnswerOtherWords(t *testing.T) {
	m := questionsMatcher(t,
		faqEntry("hours", "9-19", "quels sont vos horaires ?", "what are your opening hours?"),
		faqEntry("delivery", "3 jours", "combien de temps prend la livraison ?", "how long does delivery take?"),
		faqEntry("jobs", "/jobs", "vous recrutez ?", "are you hiring?"),
	)
	expectAnswers(t, m, []answered{
		{"c'est ouvert lundi ?", "hours"},
		{"ca ferme a quelle heure le samedi", "hours"},
		{"vous envoyez en Suisse ? la livraizon c'est long ?", "delivery"},
		{"vous prenez des alternants ?", "jobs"},
		{"livraison rapide, top", ""},
		{"how was your weekend?", ""},
		{"quelle heure il est ?", ""},
	})
}

// A wording a CM taught from the desk is answered next time; one of an entry
// the file no longer has is left out.
func TestWithLearned(t *testing.T) {
	m := questionsMatcher(t,
		faqEntry("cakes", "48h", "je voudrais commander un gâteau d'anniversaire"),
		faqEntry("hours", "9-19", "quels sont vos horaires ?"),
	)
	const q = "vous faites des bûches pour noël ?"
	if d := m.DecideText(q, testTime); d.Kind == Answer && d.Entry == "cakes" {
		t.Fatalf("answered before learning: %+v", d)
	}
	l, err := m.WithLearned([]store.FAQWording{{Entry: "cakes", Text: "vous faites des bûches de noël ?"}, {Entry: "gone", Text: "et ça ?"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := l.DecideText(q, testTime); d.Kind != Answer || d.Entry != "cakes" {
		t.Errorf("after learning: %s %s %v", d.Kind, d.Entry, d.Candidates)
	}
	if l.Learned() != 1 || m.Learned() != 0 {
		t.Errorf("learned %d (and %d before), want 1", l.Learned(), m.Learned())
	}
}

// Words read by their place: "combien" and "how much" alone ask a price,
// "combien de temps" and "how long" a duration; "en cours" is no class;
// "j'arrive pas à" is "I can't", where "mon colis arrive" is a delivery; a
// number weighs as a context.
func TestReadAsks(t *testing.T) {
	m := &Matcher{}
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"c'est combien ?", []string{"~price"}},
		{"how much for a battery", []string{"~price", "bat"}},
		{"combien de salles", []string{"sal"}},
		{"combien de temps ?", []string{"~duration"}},
		{"how long does it take", []string{"~duration", "tak"}},
		{"how much time", []string{"~duration"}},
		{"how much notice do i need to give", []string{"notic", "giv"}},
		{"how much luggage can i take", []string{"lug", "tak"}},
		{"how much do you charge", []string{"~price", "charg"}},
		{"how much?", []string{"~price"}},
		{"can i try the gym first", []string{"~trial", "gym", "first"}},
		{"can i take them home to try", []string{"tak", "hom", "~trial"}},
		{"i try to log in", []string{"log"}},
		{"try again later", []string{"again", "lat"}},
		{"can i just walk in", []string{"~booking"}},
		{"can i pay with card on the bus", []string{"pay", "~paymethod", "bus"}},
		{"with a credit card", []string{"credit", "~paymethod"}},
		{"on peut payer avec une carte ?", []string{"pay", "~paymethod"}},
		{"walk in the park", []string{"walk", "park"}},
		{"commande en cours", []string{"command"}},
		{"j'arrive pas à payer", []string{"pay"}},
		{"je n'arrive plus a payer", []string{"pay"}},
		{"mon colis arrive quand", []string{"colis", "arr"}},
		{"ligne 4", []string{"lign", "#4"}},
		{"renouveler en ligne", []string{"renouvel", "~app"}},
		{"c'est où ?", []string{"~address"}},
		{"vous êtes où exactement", []string{"~address"}},
		{"mon colis, il est où ?", []string{"colis"}},
		{"joignable par téléphone ?", []string{"joign", "~phone"}},
		{"mon téléphone est cassé", []string{"telephon", "cas"}},
		{"payer par carte", []string{"pay", "~paymethod"}},
		{"location de voiture", []string{"~booking", "voit"}},
		{"le livreur doit passer quand", []string{"livreur"}},
		{"mot de passe", []string{"mot", "pas"}},
		{"switch to another plan", []string{"~change", "plan"}},
		{"c'est possible jusqu'à 22h ?", []string{"#22h"}},
		{"how do I get in touch", []string{"~contact"}},
		{"don't touch my phone", []string{"phon"}},
	} {
		var got []string
		for _, w := range words(tt.text) {
			if w.stem != "" {
				got = append(got, m.termOf(w.stem))
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: %v, want %v", tt.text, got, tt.want)
		}
	}
}

// What every desk is asked carries to a trade the lexicon has no word for: a
// library's or a school's FAQ of three entries inherits accessibility, wifi,
// the language spoken, deadlines and requirements, and answers them in other
// words; small talk is left alone.
func TestIntentsOfAnyDesk(t *testing.T) {
	desk := questionsMatcher(t,
		faqEntry("access", "oui, ascenseur", "le bâtiment est accessible en fauteuil ?", "is there step-free access?"),
		faqEntry("wifi", "gratuit", "il y a le wifi ?", "is wifi free?"),
		faqEntry("language", "en français", "les cours sont en anglais ?", "do I need to speak French?"),
		faqEntry("deadline", "15 mars", "quelle est la date limite pour candidater ?", "when is the deadline?"),
		faqEntry("requirements", "le bac", "quelles sont les conditions d'admission ?", "what are the requirements?"),
	)
	expectAnswers(t, desk, []answered{
		{"y a un ascenseur pour les poussettes ?", "access"},
		{"mot de passe du wifi svp", "wifi"},
		{"vous parlez anglais ?", "language"},
		{"is it too late to register?", "deadline"},
		{"c'est quoi les prérequis ?", "requirements"},
		{"il fait beau aujourd'hui ?", ""},
		{"merci beaucoup !", ""},
		{"what's the easiest language to learn?", ""},
		{"which language is the hardest for English speakers?", ""},
		{"do I need to speak French for the courses?", "language"},
	})
}

// An FAQ of another trade is understood with its own objects: a bus
// company's public asks about buses without saying "horaires" (enough, with
// three examples, to put the entry before a CM), a repair shop's about
// phones, an airline's about luggage apart from pets, an operator's about
// its network; and a question of opinion that does not address the brand,
// or praise, is not answered.
func TestIntentsOfOtherTrades(t *testing.T) {
	transit := questionsMatcher(t,
		faqEntry("timetables", "/horaires", "où trouver les horaires des bus ?", "where can I find the train timetables?"),
		faqEntry("tickets", "1,60 €", "combien coûte un ticket de bus ?", "where do I buy a train ticket?"),
		faqEntry("lost", "/objets", "j'ai perdu mon sac dans le bus", "I lost my bag on the train"),
	)
	repair := questionsMatcher(t,
		faqEntry("quote", "/tarifs", "combien coûte le changement d'écran ?", "how much to fix a cracked screen?"),
		faqEntry("warranty", "6 mois", "la réparation est garantie ?", "what warranty do you give on repairs?"),
		faqEntry("contact", "01 23 45 67 89", "comment vous contacter ?", "what is your phone number?"),
	)
	airline := questionsMatcher(t,
		faqEntry("baggage", "23 kg", "quelle est la franchise bagages ?", "what's the baggage allowance?"),
		faqEntry("pets", "8 kg en cabine", "je peux voyager avec mon chat ?", "can I fly with my dog?"),
		faqEntry("change", "Mes voyages", "comment changer mon vol ?", "can I change my flight?"),
	)
	operator := questionsMatcher(t,
		faqEntry("porting", "3179", "je veux garder mon numéro", "can I keep my number?"),
		faqEntry("outage", "/incidents", "il y a une panne ?", "my internet is down"),
		faqEntry("plans", "/offres", "quels sont vos forfaits ?", "what plans do you offer?"),
	)
	for _, tt := range []struct {
		m          *Matcher
		text, want string
	}{
		{airline, "un lapin en cabine c'est possible ?", "pets"},
		{airline, "je voudrais décaler mon vol", "change"},
		{airline, "how heavy can my suitcase be?", "baggage"},
		{airline, "quelle est la meilleure compagnie aérienne ?", ""},
		{operator, "code RIO svp", "porting"},
		{operator, "coupure internet depuis ce matin", "outage"},
		{operator, "merci pour la nouvelle box, trop contente", ""},
		{transit, "y a des bus le dimanche ?", "desk timetables"},
		{transit, "c'est combien l'aller simple", "tickets"},
		{transit, "service des objets trouvés", "lost"},
		{transit, "les bus c'est mieux que la voiture", ""},
		{repair, "c'est combien pour un ecran ?", "quote"},
		{repair, "vos reparations sont garanties ?", "warranty"},
		{repair, "how long is the guarantee on a screen?", "warranty"},
		{repair, "quel est le meilleur telephone pas cher ?", ""},
	} {
		d := tt.m.DecideText(tt.text, testTime)
		got := ""
		switch d.Kind {
		case Answer, Suggest:
			got = d.Entry
		case Forward:
			got = "desk " + d.Entry
		}
		if got != tt.want {
			t.Errorf("%q: answered %q (%s %v %v), want %q", tt.text, got, d.Kind, d.Candidates, d.Terms, tt.want)
		}
	}
}

// A desk that takes bookings, whatever it rents or treats, inherits what its
// public asks: an emergency, the papers to bring, a deposit, a breakdown,
// changing a booking with cancelling it; French "ma location" is a rental,
// "tous les combien" how often; a bird in a sentence asks nothing.
func TestIntentsOfBookingDesks(t *testing.T) {
	desk := questionsMatcher(t,
		faqEntry("urgent", "06 00 00 00 00", "que faire en cas d'urgence ?", "is there an emergency number?"),
		faqEntry("papers", "permis et carte", "quels papiers faut-il ?", "what do I need to bring?"),
		faqEntry("deposit", "500 €", "c'est combien la caution ?", "how much is the deposit?"),
		faqEntry("cancel", "48 h avant", "comment annuler ?", "can I cancel?"),
		faqEntry("breakdown", "assistance 24/7", "j'ai eu un accident", "what if the car breaks down?"),
		faqEntry("boosters", "chaque année", "quand faire le rappel du vaccin ?", "when is the vaccine booster due?"),
	)
	expectAnswers(t, desk, []answered{
		{"c'est urgent, vous êtes de garde cette nuit ?", "urgent"},
		{"which documents should I bring?", "papers"},
		{"quand est-ce que la caution est rendue ?", "deposit"},
		{"je voudrais modifier les dates de ma location", "cancel"},
		{"the car broke down on the motorway, what do I do?", "breakdown"},
		{"tous les combien le rappel ?", "boosters"},
		{"some call me the song bird of my generation", ""},
		{"shut up", ""},
	})
}

// A word both languages write, each with its own meaning, is read in the
// message's: French "sale" is dirty, English "sale" a promotion; "sold" is
// sell's, not "soldes". A complaint about a dirty shop gets no promo code.
func TestFalseFriends(t *testing.T) {
	shop := questionsMatcher(t,
		faqEntry("promo", "-10 %", "vous avez un code promo ?", "c'est quand les soldes ?", "any discount code?"),
		faqEntry("stores", "eclat.example/magasins", "où acheter vos produits en magasin ?", "vous avez un corner à Paris ?", "where can I find you in store?"),
		faqEntry("delivery", "48h", "quels sont les délais de livraison ?", "vous livrez en Suisse ?", "how long is delivery?"),
		faqEntry("returns", "14 jours", "comment faire un retour ?", "je veux être remboursée", "how do I return a product?"),
	)
	expectAnswers(t, shop, []answered{
		{"c'est sale ici ?", ""},
		{"pourquoi c'est si sale ?", ""},
		{"any sale on?", "promo"},
		{"when is the next sale?", "promo"},
		{"vous faites des soldes ?", "promo"},
		{"is this sold in shops", "stores"},
		{"is it sold in any shop?", "stores"},
	})
}

// Members talk to each other in the brand's channels: French "tu" asks a
// member, not the brand (which the public asks "vous"), and a shop's words
// in an idiom ask nothing of the shop: "tu me rends fou", "rendre visite",
// "ouvert d'esprit", "retourner chez soi", "return the favour", "je
// travaille demain". The same words asking the shop are still answered.
func TestMembersTalkAmongThemselves(t *testing.T) {
	shop := questionsMatcher(t,
		faqEntry("hours", "10h-19h", "quels sont vos horaires ?", "vous êtes ouverts le dimanche ?", "when are you open?"),
		faqEntry("returns", "30 jours", "comment retourner un livre ?", "je peux être remboursé ?", "can I return a book?"),
		faqEntry("order", "dans votre compte", "où en est ma commande ?", "je n'ai pas reçu mon colis", "where is my order?"),
		faqEntry("jobs", "libellule.example/jobs", "vous recrutez des libraires ?", "je cherche un stage en librairie", "are you hiring?"),
		faqEntry("preorder", "oui", "peut-on précommander un livre ?", "vous pouvez commander un livre que vous n'avez pas ?", "can I preorder a book?"),
	)
	expectAnswers(t, shop, []answered{
		{"tu travailles où maintenant ?", ""},
		{"ton colis est arrivé ?", ""},
		{"t'as des nouvelles de ma commande ?", "order"},
		{"tu peux me dire où en est ma commande ?", "order"},
		{"t'es ouvert ce soir pour jouer ?", ""},
		{"tu retournes chez toi quand ?", ""},
		{"tu me rends fou !", ""},
		{"il faut que je rende mon devoir demain ?", ""},
		{"je vais lui rendre visite, des idées ?", ""},
		{"vous êtes ouverts d'esprit ?", ""},
		{"can you return the favour?", ""},
		{"je travaille demain, et toi ?", ""},
		{"vos horaires c'est n'importe quoi", ""},
		{"who's hiring in this economy lol", ""},
		{"who's hiring at your shop?", "jobs"},
		{"vous êtes ouverts dimanche ?", "hours"},
		{"y a-t-il un moyen de retourner un livre ?", "returns"},
		{"je rends le livre demain, c'est bon ?", "returns"},
		{"vous cherchez des vendeurs ?", "jobs"},
		{"je voudrais prendre rendez-vous pour précommander", "preorder"},
		{"qui a déjà précommandé un livre ici ?", ""},
		{"who here has preordered a book?", ""},
		{"à qui je m'adresse ici pour précommander un livre ?", "preorder"},
	})
}

// A link's "t" is no "tu": "t.co" and "&t=2m19s" leave a comment asked as it was.
func TestLinkIsNoPeer(t *testing.T) {
	for _, text := range []string{
		`<a href="http://www.youtube.com/watch?v=KQ6zr6kCPj8&amp;t=2m19s">2:19</a> best part`,
		"RT @DumbTo: Polly want a cracker? http://t.co/zC8MlwnEUc",
		"y a-t-il une boutique à Lyon ?",
	} {
		if speaksToPeer(words(text)) {
			t.Errorf("%q speaks to a peer", text)
		}
	}
	for _, text := range []string{"t'es ouvert ce soir ?", "t'habites où ?", "tu viens ?"} {
		if !speaksToPeer(words(text)) {
			t.Errorf("%q does not speak to a peer", text)
		}
	}
}

// A policy or a procedure frames a question without saying which: "refund
// policy?" asks what "je peux être remboursé ?" asks.
func TestFrameWords(t *testing.T) {
	for _, w := range []string{"policy", "politique", "demarche", "modalites", "procedure"} {
		if !stopWords[w] {
			t.Errorf("%q is read as a subject", w)
		}
	}
}

// questionsMatcher is a Matcher of entries that answers questions only.
func questionsMatcher(t *testing.T, entries ...rules.FAQEntry) *Matcher {
	t.Helper()
	m, err := NewMatcher(Config{QuestionsOnly: true, Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// faqEntry is the FAQ entry id, asked as questions, whose answer is answer in
// every language.
func faqEntry(id, answer string, questions ...string) rules.FAQEntry {
	return rules.FAQEntry{ID: id, Questions: questions, Answer: map[string]string{"": answer}}
}

// answered is a message and the entry it must be answered with ("" for none).
type answered struct{ text, want string }

// expectAnswers checks which entry m answers or suggests for each message.
func expectAnswers(t *testing.T, m *Matcher, cases []answered) {
	t.Helper()
	for _, tt := range cases {
		d := m.DecideText(tt.text, testTime)
		got := ""
		if d.Kind == Answer || d.Kind == Suggest {
			got = d.Entry
		}
		if got != tt.want {
			t.Errorf("%q: answered %q (%s %v %v), want %q", tt.text, got, d.Kind, d.Candidates, d.Terms, tt.want)
		}
	}
}

// An angry message is no question for the FAQ: a complaint that asks nothing
// is left alone, a question that insults the brand or its staff goes to the
// CMs with the nearest entry, and "nul" of a network is no insult.
func TestComplaintsAndInsults(t *testing.T) {
	shop := questionsMatcher(t,
		faqEntry("delivery", "2 à 4 jours", "combien de temps pour la livraison ?", "vous livrez à l'étranger ?", "how long does shipping take?"),
		faqEntry("order", "dans votre compte", "où en est ma commande ?", "je n'ai pas reçu mon colis", "where is my order?"),
		faqEntry("jobs", "libellule.example/jobs", "vous recrutez des libraires ?", "je cherche un stage en librairie", "are you hiring?"),
		faqEntry("coverage", "carte de couverture", "vous captez à la campagne ?", "is there coverage in my area?"),
	)
	expectAnswers(t, shop, []answered{
		{"vos livreurs sont des incapables", ""},
		{"vos vendeurs sont désagréables", ""},
		{"les caissières sont lentes", ""},
		{"les frais de port sont abusés", ""},
		{"je commanderai plus jamais chez vous", ""},
		{"never ordering from you again", ""},
		{"vous recrutez des incompétents ou quoi ?", ""},
		{"still no parcel, you thieves", ""},
		{"where is my parcel, you thieves?", ""},
		{"vous recrutez des libraires ?", "jobs"},
		{"reseau nul dans mon village, c'est normal ?", "coverage"},
		{"la livraison a encore augmenté, c'est abusé", ""},
		{"your shipping fees are a joke.", ""},
		{"vous êtes les meilleurs pour la livraison", ""},
		{"vous livrez à l'étranger", "delivery"},
		{"colis jamais reçu, personne pour m'aider au service client. Déçue.", ""},
		{"colis jamais reçu, vous pouvez m'aider ?", "order"},
	})
	for _, text := range []string{"vous recrutez des incompétents ou quoi ?", "where is my parcel, you thieves?"} {
		if d := shop.DecideText(text, testTime); d.Kind != Forward || d.Why != WhyInsult || d.Entry == "" {
			t.Errorf("%q: %s %q %q, want a case for the CMs with the nearest entry", text, d.Kind, d.Why, d.Entry)
		}
	}
	if d := shop.DecideText("People who believe in this are stupid", testTime); d.Kind != Silent {
		t.Errorf("an insult that matches no entry: %s %q, want silent", d.Kind, d.Why)
	}
}

// Customer-service words read by their place: an order still to come asks how
// long delivery takes, "envoyer en Suisse" ships, "after work" is a time of
// day, "vous me manquez" misses someone, "des conseils" asks advice, a member
// messages the brand on an app, a box "we already opened" has no opening hours.
func TestWordsByTheirPlace(t *testing.T) {
	m := &Matcher{}
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"si je commande demain je le reçois quand ?", []string{"~deliver", "demain", "recois"}},
		{"if I order now will it arrive before friday", []string{"~deliver", "arr", "befor", "frida"}},
		{"où en est ma commande ?", []string{"command"}},
		{"vous envoyez en Italie ?", []string{"~deliver", "itali"}},
		{"je vous envoie un mail", []string{"envoi", "mail"}},
		{"on a déjà ouvert le paquet", []string{"paquet"}},
		{"we already opened it", nil},
		{"vous êtes ouverts dimanche ?", []string{"ouvert", "dimanch"}},
		{"c'est ouvert aux enfants ?", []string{"enf"}},
		{"how do I get hold of you", []string{"~contact"}},
		{"can I message you on instagram", []string{"~chat", "instagram"}},
		{"did you get my message", []string{"messag"}},
		{"il manque une pièce", []string{"~damaged", "piec"}},
		{"vous me manquez", nil},
		{"je voudrais parler à un conseiller", []string{"~contact", "conseil"}},
		{"vous me conseillez quoi ?", []string{"~advice"}},
		{"what do you recommend", []string{"~advice"}},
		{"any news on my order", []string{"~track", "ord"}},
		{"any update on my order?", []string{"~track", "ord"}},
		{"can I update my address?", []string{"updat", "addres"}},
		{"toujours en préparation ?", []string{"~track"}},
		{"je passe après le boulot", []string{}},
		{"the handle is broken", []string{"handl", "~damaged"}},
		{"the app is broken", []string{"app", "broken"}},
		{"they're late", []string{"lat"}},
		{"c'est combien le port ?", []string{"~price", "~deliver"}},
		{"si je commande à midi je peux passer prendre quand", []string{"command", "midi", "~takeaway"}},
		{"je finis le boulot à 19h", []string{"finis", "#19h"}},
		{"vous travaillez avec quelle mutuelle ?", []string{"mutuel"}},
		{"800 euros c'est du vol", []string{"#800", "euro"}},
		{"commandé il y a une semaine et toujours rien", []string{"command", "semain", "~track"}},
		{"how much to hire a saxophone", []string{"~price", "~booking", "saxophon"}},
		{"do you hire out ladders", []string{"~booking", "out", "lad"}},
		{"une carte kdo", []string{"cart", "cadeau"}},
		{"des stages pour les enfants pendant les vacances", []string{"~class", "enf", "vac"}},
		{"vous travaillez avec quelle mutuelle", []string{"mutuel"}},
		{"à qui je m'adresse ?", []string{"~contact"}},
		{"je peux rapporter celles que j'ai pas ouvertes ?", []string{"rapport", "cel"}},
		{"vous cherchez du monde ?", []string{"~job"}},
		{"on peut poster des liens ?", []string{"~publish", "lien"}},
		{"un poste de vendeur", []string{"post", "vendeur"}},
		{"je peux passer la chercher demain ?", []string{"~takeaway", "demain"}},
	} {
		var got []string
		for _, w := range words(tt.text) {
			if w.stem != "" {
				got = append(got, m.termOf(w.stem))
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: %v, want %v", tt.text, got, tt.want)
		}
	}
}

// A shop's FAQ of six entries, as a CM writes it, answers what those words ask
// and leaves the rest alone.
func TestShopQuestionsInOtherWords(t *testing.T) {
	shop := questionsMatcher(t,
		faqEntry("hours", "10h-19h", "quels sont vos horaires ?", "vous êtes ouverts le dimanche ?", "what are your opening hours?"),
		faqEntry("delivery", "2 à 4 jours", "combien de temps pour la livraison ?", "vous livrez en Belgique ?", "how long does shipping take?"),
		faqEntry("returns", "30 jours", "comment retourner un article ?", "je peux être remboursé ?", "how do I return something?"),
		faqEntry("order", "dans votre compte", "où en est ma commande ?", "je n'ai pas reçu mon colis", "where is my order?"),
		faqEntry("contact", "01 23 45 67 89", "comment vous contacter ?", "vous avez un numéro de téléphone ?", "how can I reach customer service?"),
		faqEntry("jobs", "shop.example/jobs", "vous recrutez ?", "je cherche un stage", "are you hiring?"),
	)
	expectAnswers(t, shop, []answered{
		{"vous envoyez en Italie ?", "delivery"},
		{"do you close for lunch?", "hours"},
		{"vous prenez des saisonniers cet été ?", "jobs"},
		{"any news on my order?", "order"},
		{"any update on order #30412?", "order"},
		{"je peux rapporter un article soldé ?", "returns"},
		{"j'ai retourné tout l'appart pour trouver ma carte", ""},
		{"can I get a refund on a box we already opened?", "returns"},
		{"did you get my message?", ""},
		{"vous me manquez les amis", ""},
		{"quelqu'un a une série à conseiller ?", ""},
		{"le vendeur pas aimable du tout ce matin", ""},
		{"vous êtes ouverte samedi ? je passe après le boulot", "hours"},
		{"je voudrais renvoyer le parasol que j'ai reçu hier", "returns"},
		{"I'd like to send back the garden chairs", "returns"},
		{"la caissière de ce matin était adorable", ""},
		{"what time do you shut tonight?", "hours"},
		{"vous cherchez du monde pour l'été ?", "jobs"},
		{"la livraison de mon voisin est arrivée chez moi lol", ""},
		{"i need a job, any advice?", ""},
		{"vendeurs arrogants, j'y remettrai plus les pieds", ""},
		{"vous recrutez des vendeurs ?", "jobs"},
		{"c'est ouvert ou fermé la piscine municipale ?", ""},
		{"le marché de Noël d'Angers est ouvert ce soir ?", ""},
		{"la boutique est ouverte le 24 au soir ?", "hours"},
		{"c'est ouvert le dimanche ?", "hours"},
		{"on se retrouve où demain ?", ""},
		{"qui veut bien me répondre ? ma commande n'est toujours pas arrivée", "order"},
		{"mon colis est perdu mdr", "order"},
		{"vous bossez le 1er mai ?", "hours"},
		{"how long to get a parcel to Edinburgh?", "delivery"},
		{"vous prenez des vendeurs le samedi ?", "jobs"},
		{"vous remboursez un article ouvert ?", "returns"},
		{"can I send flowers to my mother?", "delivery"},
		{"vous prenez des étudiants pour l'été ?", "jobs"},
		{"vous cherchez quelqu'un pour la saison ?", "jobs"},
		{"vous cherchez des préparateurs de commandes ?", "jobs"},
		{"do you take apprentices?", "jobs"},
		{"what's the best way to get in touch?", "contact"},
		{"all these touch screens and you still sell flip phones?", ""},
	})
}

// An offer to whoever is in the channel asks the brand nothing: "quelqu'un
// veut adopter un chaton ?", "je commande une pizza, qui en veut ?".
func TestOffersToTheRoom(t *testing.T) {
	shop := questionsMatcher(t,
		faqEntry("cakes", "48 h à l'avance", "vous faites des gâteaux sur commande ?", "je peux commander une pièce montée ?", "can I order a birthday cake?"),
		faqEntry("grooming", "sur rendez-vous", "vous faites le toilettage des chats ?", "combien pour toiletter un chien ?", "do you groom puppies?"),
	)
	expectAnswers(t, shop, []answered{
		{"je commande une pizza, quelqu'un en veut ?", ""},
		{"i'm ordering pizza, anyone want some?", ""},
		{"quelqu'un veut adopter un chaton ? j'en ai 4", ""},
		{"je peux commander un gâteau pour samedi ?", "cakes"},
		{"vous faites le toilettage des chiens ?", "grooming"},
	})
}

// A question put to whoever is in the channel, for what they know or would
// recommend, asks the brand nothing: "quelqu'un connaît un bon garagiste ?",
// "does anyone know a cheap hotel near the station?". Put to the brand
// ("quelqu'un sait si vous êtes ouverts ?") it is a question like another.
func TestAsksTheRoom(t *testing.T) {
	club := questionsMatcher(t,
		faqEntry("hours", "9h-20h", "quels sont vos horaires ?", "vous êtes ouverts le dimanche ?", "what are your opening hours?"),
		faqEntry("prices", "12 € la séance", "combien coûte une séance ?", "c'est quoi vos tarifs ?", "how much is a session?"),
		faqEntry("physio", "le mardi et le jeudi", "vous avez un kiné du sport ?", "is there a sports physio at the club?"),
		faqEntry("hotel", "hôtel partenaire à 200 m", "vous avez un hôtel partenaire ?", "is there a hotel near the club?"),
	)
	expectAnswers(t, club, []answered{
		{"quelqu'un connaît un bon kiné du sport ?", ""},
		{"quelqu'un a un bon kiné du sport à conseiller ?", ""},
		{"quelqu'un sait combien coûte une séance de kiné sans mutuelle ?", ""},
		{"does anyone know a cheap hotel near the station?", ""},
		{"can anyone recommend a good sports physio?", ""},
		{"anyone got a good hotel near the club?", ""},
		{"quelqu'un sait si vous êtes ouverts dimanche ?", "hours"},
		{"does anyone know your opening hours?", "hours"},
		{"quelqu'un peut me dire vos tarifs ?", "prices"},
		{"vous avez un kiné du sport ?", "physio"},
	})
}

// A question whether a place the FAQ does not know is open is about another
// place; a phrase the FAQ knows ("le service client") is no unknown place.
func TestOtherPlace(t *testing.T) {
	m := questionsMatcher(t,
		faqEntry("hours", "10h-19h", "quels sont vos horaires ?", "vous êtes ouverts le dimanche ?", "what are your opening hours?"),
		faqEntry("contact", "01 23 45 67 89", "comment joindre le service client ?", "vous avez un numéro de téléphone ?", "how can I reach customer service?"),
	)
	for _, tt := range []struct {
		text string
		want bool
	}{
		{"c'est ouvert ou fermé la piscine municipale ?", true},
		{"le marché de Noël d'Angers est ouvert ce soir ?", true},
		{"le service client ferme à quelle heure le samedi ?", false},
		{"le magasin de la gare est ouvert ?", false},
		{"vous êtes ouverts le dimanche ?", false},
		{"c'est ouvert la piscine ?", false},
	} {
		_, ws := foldedWords(tt.text, nil, nil)
		if got := m.otherPlace(m.terms(ws, true), ws); got != tt.want {
			t.Errorf("%q: other place %v, want %v", tt.text, got, tt.want)
		}
	}
}

// "rendre" gives back wherever it stands: "si ça me plaît pas je le rends ?"
// ends on the verb, which is no "rendez-vous" (its stem is "rendre"'s, not
// the booking's).
func TestRendreLastIsAReturn(t *testing.T) {
	shop := questionsMatcher(t,
		faqEntry("returns", "30 jours", "comment retourner un article ?", "je peux être remboursé ?", "can I return an item?"),
		faqEntry("appointment", "sur le site", "comment prendre rendez-vous ?", "vous êtes ouverts le samedi ?", "how do I book an appointment?"),
	)
	for _, text := range []string{"si ça me plaît pas je le rends ?", "je les rends ?"} {
		for _, w := range words(text) {
			if w.folded == "rends" && w.stem != rendreStem {
				t.Errorf("%q: %q read as %q, not as rendre (%q)", text, w.folded, w.stem, rendreStem)
			}
		}
	}
	expectAnswers(t, shop, []answered{
		{"si ça me plaît pas je le rends ?", "returns"},
		{"je peux le rendre s'il me plaît pas ?", "returns"},
		{"je voudrais un rendez-vous samedi", "appointment"},
	})
}

// What the public of a project, a school or an event asks whatever its
// trade: the grants and subsidies, whether it pays for itself, what to wear,
// who plays, a missed session made up, the date of the show; and a member's
// "where do you work now?" is no question about how the service works.
func TestIntentsOfProjectsAndEvents(t *testing.T) {
	desk := questionsMatcher(t,
		faqEntry("grants", "MaPrimeRénov'", "quelles aides pour rénover ?", "are there grants for insulation?"),
		faqEntry("savings", "30 %", "combien je vais économiser ?", "how much will I save?"),
		faqEntry("outfit", "jogging", "quelle tenue pour la séance ?", "what should I wear?"),
		faqEntry("lineup", "l'appli", "quelle est la programmation ?", "who is playing on Friday?"),
		faqEntry("makeup", "dans le mois", "comment rattraper une séance ?", "can I make up a session?"),
		faqEntry("gala", "le 20 juin", "c'est quand le gala ?", "when is the end-of-year show?"),
	)
	expectAnswers(t, desk, []answered{
		{"y a des subventions pour ça ?", "grants"},
		{"any financial help available?", "grants"},
		{"c'est rentable au bout de combien d'années ?", "savings"},
		{"is it really worth it?", "savings"},
		{"il y a un dress code ?", "outfit"},
		{"on s'habille comment ?", "outfit"},
		{"c'est qui la tête d'affiche ?", "lineup"},
		{"who's headlining?", "lineup"},
		{"mon fils sera absent samedi, il peut rattraper ?", "makeup"},
		{"I missed my class, what now?", "makeup"},
		{"le spectacle c'est quelle date ?", "gala"},
		{"where do you work now?", ""},
		{"tu t'habilles comment ce soir ?", ""},
		{"quelle belle soirée, merci !", ""},
	})
}

// Looking after what a trade sells or fits is asked of every installer:
// cleaning it, its yearly upkeep.
func TestUpkeep(t *testing.T) {
	desk := questionsMatcher(t,
		faqEntry("care", "une visite par an", "la pompe à chaleur demande un entretien ?", "how do I look after the heat pump?"),
		faqEntry("price", "à partir de 9 000 €", "combien coûte une pompe à chaleur ?", "how much is a heat pump?"),
		faqEntry("warranty", "5 ans", "quelle est la garantie ?", "what warranty do you give?"),
	)
	expectAnswers(t, desk, []answered{
		{"faut nettoyer les filtres ?", "care"},
		{"how often should it be cleaned?", "care"},
		{"je lave ma voiture ce week-end", ""},
	})
}

// "Un test auditif", "a hearing test", "le test du code" are an
// examination, which "examen" and "exam" name too; "tester" and "test it"
// try something out, a trial.
func TestTestIsAnExamination(t *testing.T) {
	centre := questionsMatcher(t,
		faqEntry("test", "bilan gratuit de 30 minutes", "comment faire un test auditif ?", "le bilan auditif est gratuit ?", "can I get a free hearing test?"),
		faqEntry("trial", "30 jours d'essai", "on peut essayer les appareils ?", "essai gratuit possible ?", "can I try the hearing aids at home?"),
	)
	for _, text := range []string{"un test auditif", "a hearing test", "le test de niveau", "an exam", "les examens"} {
		if !slices.ContainsFunc(words(text), func(w word) bool { return w.stem == examStem }) {
			t.Errorf("%q: no examination in %v", text, words(text))
		}
	}
	for _, text := range []string{"je peux tester avant d'acheter ?", "can I test it at home?"} {
		if slices.ContainsFunc(words(text), func(w word) bool { return w.stem == examStem }) {
			t.Errorf("%q: read as an examination", text)
		}
	}
	for _, text := range []string{"c'est long le test ?", "how long does the test take?"} {
		d := centre.DecideText(text, testTime)
		if len(d.Candidates) == 0 || d.Candidates[0].ID != "test" {
			t.Errorf("%q: %v %v, want the test entry first", text, d.Candidates, d.Terms)
		}
	}
	expectAnswers(t, centre, []answered{
		{"je peux tester les appareils chez moi ?", "trial"},
	})
}

// "Couper mes planches", "une coupe homme", "couper les griffes" cut a
// thing, as "découper" does; "internet coupé", "la fibre est coupée" are an
// outage.
func TestCuttingIsNoOutage(t *testing.T) {
	for _, text := range []string{"vous pouvez couper mes planches ?", "une coupe homme c'est combien ?", "vous coupez les griffes ?"} {
		if !slices.ContainsFunc(words(text), func(w word) bool { return w.stem == cutStem }) {
			t.Errorf("%q: %v, no cutting", text, words(text))
		}
	}
	for _, text := range []string{"internet coupé depuis ce matin", "la fibre est coupée", "l'eau est coupée ?"} {
		if slices.ContainsFunc(words(text), func(w word) bool { return w.stem == cutStem }) {
			t.Errorf("%q: read as cutting a thing", text)
		}
	}
	shop := questionsMatcher(t,
		faqEntry("cutting", "découpe au rayon bois", "vous faites la découpe de bois ?", "vous découpez les panneaux sur mesure ?", "do you cut wood to size?"),
		faqEntry("hours", "8h-20h", "quels sont vos horaires ?", "vous êtes ouverts le dimanche ?", "what are your opening hours?"),
		faqEntry("wifi", "réseau MagasinWifi", "il y a le wifi en magasin ?", "le wifi ne marche pas", "is there wifi?"),
	)
	expectAnswers(t, shop, []answered{
		{"vous pouvez couper du bois sur mesure ?", "cutting"},
		{"le wifi est coupé ?", "wifi"},
	})
}

// The chèque emploi service (CESU), how a household pays for help at home,
// is a way to pay, whatever word of a job it holds.
func TestCESUIsAWayToPay(t *testing.T) {
	m, err := NewMatcher(Config{Language: "fr", QuestionsOnly: true, Entries: []rules.FAQEntry{
		{ID: "payment", Questions: []string{"vous acceptez les CESU ?", "quels moyens de paiement acceptez-vous ?", "can I pay by card?"},
			Answer: map[string]string{"fr": "Carte, virement et CESU préfinancés.", "en": "Card, bank transfer and pre-paid CESU."}},
		{ID: "jobs", Questions: []string{"vous recrutez des aides ménagères ?", "je cherche un emploi", "are you hiring?"},
			Answer: map[string]string{"fr": "Candidatures à jobs@example.fr.", "en": "Apply at jobs@example.fr."}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"je paye avec des chèques emploi service, c'est possible ?", "vous prenez le cheque emploi service ?"} {
		if d := m.DecideText(q, testTime); len(d.Candidates) == 0 || d.Candidates[0].ID != "payment" {
			t.Errorf("%q: %s %s %v %v, want payment first", q, d.Kind, d.Entry, d.Candidates, d.Terms)
		}
	}
}
