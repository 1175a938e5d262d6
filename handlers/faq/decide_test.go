package faq

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

// smallConfig is a FAQ of four entries, one per mode and one private.
func smallConfig() Config {
	return Config{
		Threshold:         0.6,
		SuggestThreshold:  0.4,
		Language:          "fr",
		QuestionsOnly:     true,
		AfterHoursForward: true,
		Synonyms: [][]string{
			{"livraison", "colis", "delivery", "shipping"},
			{"service client", "support", "contact"},
		},
		Entries: []rules.FAQEntry{
			{ID: "hours", Questions: []string{"quels sont vos horaires ?", "what are your opening hours?"},
				Answer: map[string]string{"fr": "9h-19h, {{author.name}}.", "en": "9am-7pm, {{author.name}}."}},
			{ID: "delivery", Mode: "suggest", Questions: []string{"combien de temps pour la livraison ?", "how long does delivery take?"},
				Answer: map[string]string{"fr": "2 à 4 jours.", "en": "2 to 4 days."}},
			{ID: "contact", Private: true, Questions: []string{"comment contacter le service client ?"},
				Answer: map[string]string{"": "contact@example.com"}},
			{ID: "report", Mode: "forward", Keywords: []string{"signaler", "report"},
				Questions: []string{"comment signaler un joueur ?", "how do I report a player?"},
				Answer:    map[string]string{"fr": "Ouvrez un ticket.", "en": "Open a ticket."}},
		},
	}
}

func TestDecide(t *testing.T) {
	m, err := NewMatcher(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	m.afterHours = func(at time.Time) bool { return at.Hour() >= 19 }
	office := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	night := time.Date(2026, 1, 5, 23, 0, 0, 0, time.UTC)
	member := bot.Author{ID: "u1", Name: "Léa"}
	msg := func(text string) bot.Event {
		return bot.Event{ID: "m1", Platform: "test", Kind: bot.KindMessage, Text: text, Author: member, At: office}
	}
	deleted := bot.Verdict{Matches: []bot.Match{{Rule: "insult", Actions: []bot.Action{{Kind: bot.ActDelete}}}}}
	shadow := bot.Verdict{Matches: []bot.Match{{Rule: "insult", Shadow: true, Actions: []bot.Action{{Kind: bot.ActDelete}}}}}

	for _, tt := range []struct {
		name     string
		ev       bot.Event
		v        bot.Verdict
		kind     Kind
		entry    string
		lang     string
		text     string // a part of the reply
		why      string
		private  bool
		answered bool // Unanswered is false
	}{
		{name: "answer in French with the author's name", ev: msg("Vos horaires ?"),
			kind: Answer, entry: "hours", lang: "fr", text: "9h-19h, Léa."},
		{name: "answer in English", ev: msg("what are your hours?"),
			kind: Answer, entry: "hours", lang: "en", text: "9am-7pm, Léa."},
		{name: "accents and typos", ev: msg("vos horraires svp"),
			kind: Answer, entry: "hours", lang: "fr"},
		{name: "synonym", ev: msg("combien de temps pour recevoir mon colis ?"),
			kind: Answer, entry: "delivery", lang: "fr", text: "2 à 4 jours."},
		{name: "phrase synonym, lone answer, private", ev: msg("how do I reach support?"),
			kind: Answer, entry: "contact", lang: "en", text: "contact@example.com", private: true},
		{name: "near miss of a suggest entry is suggested", ev: msg("does delivery include the gift box and the wrapping?"),
			kind: Suggest, entry: "delivery", lang: "en", text: "This might help: 2 to 4 days."},
		{name: "forward mode", ev: msg("comment signaler un joueur ?"),
			kind: Forward, entry: "report", lang: "fr", text: "Ouvrez un ticket.", why: WhyForwardMode},
		{name: "keywords must appear", ev: msg("how do I find a player?"),
			kind: Silent, why: WhyNoMatch, lang: "en"},
		{name: "not a question", ev: msg("vos horaires sont top"),
			kind: Silent, why: WhyNotAsked, lang: "fr"},
		{name: "nothing matched in office hours", ev: msg("qui a vu le match ?"),
			kind: Silent, why: WhyNoMatch, lang: "fr"},
		{name: "nothing matched after hours", ev: func() bot.Event { e := msg("vous acceptez les chèques vacances ?"); e.At = night; return e }(),
			kind: Forward, why: WhyAfterHours, lang: "fr"},
		{name: "chit-chat after hours is no case", ev: func() bot.Event { e := msg("qui a vu le match ?"); e.At = night; return e }(),
			kind: Silent, why: WhyNoMatch, lang: "fr"},
		{name: "moderated", ev: msg("vos horaires ?"), v: deleted, kind: Silent, why: WhyModerated, answered: true},
		{name: "shadow rules do not count", ev: msg("vos horaires ?"), v: shadow,
			kind: Answer, entry: "hours", lang: "fr"},
		{name: "staff", ev: func() bot.Event { e := msg("vos horaires ?"); e.Author.Staff = true; return e }(),
			kind: Silent, why: WhyStaff, answered: true},
		{name: "joins", ev: func() bot.Event { e := msg("vos horaires ?"); e.Kind = bot.KindJoin; return e }(),
			kind: Silent, why: WhyKind, answered: true},
		{name: "a bot", ev: func() bot.Event { e := msg("vos horaires ?"); e.Author.Bot = true; return e }(),
			kind: Silent, why: WhyStaff, answered: true},
		{name: "a duplicate", ev: msg("vos horaires ?"), v: bot.Verdict{Duplicate: true},
			kind: Silent, why: WhyDuplicate, answered: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := m.Decide(&tt.ev, tt.v)
			// Heard says no of exactly the events Decide silences unread
			unread := slices.Contains([]string{WhyDuplicate, WhyModerated, WhyKind, WhyStaff}, d.Why)
			if heard := Heard(&tt.ev, &tt.v); heard == unread {
				t.Errorf("Heard = %v, Decide says %s (%s)", heard, d.Kind, d.Why)
			}
			if d.Kind != tt.kind || d.Entry != tt.entry || d.Language != tt.lang || d.Private != tt.private {
				t.Fatalf("got %s %q lang %q private %v (%s; %v %v), want %s %q lang %q private %v",
					d.Kind, d.Entry, d.Language, d.Private, d.Why, d.Candidates, d.Terms, tt.kind, tt.entry, tt.lang, tt.private)
			}
			if !strings.Contains(d.Text, tt.text) {
				t.Errorf("text %q, want it to contain %q", d.Text, tt.text)
			}
			if d.Why != tt.why && tt.why != "" {
				t.Errorf("why %q, want %q", d.Why, tt.why)
			}
			if d.Kind == Answer && d.Score < m.cfg.Threshold {
				t.Errorf("answered with score %v under the threshold", d.Score)
			}
		})
	}
}

func TestNewMatcherErrors(t *testing.T) {
	for _, tt := range []struct {
		name  string
		entry rules.FAQEntry
		want  string
	}{
		{"unknown mode", rules.FAQEntry{ID: "x", Mode: "sugest", Questions: []string{"horaires ?"}},
			`faq entry "x": unknown mode "sugest" (answer, suggest or forward)`},
		{"stop words only", rules.FAQEntry{ID: "x", Questions: []string{"c'est quoi ?"}},
			`faq entry "x": question "c'est quoi ?" has only stop words`},
		{"keyword of stop words", rules.FAQEntry{ID: "x", Questions: []string{"horaires ?"}, Keywords: []string{"the"}},
			`faq entry "x": keyword "the" has only stop words`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMatcher(Config{Entries: []rules.FAQEntry{tt.entry}})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestCompileError(t *testing.T) {
	rs, err := rules.Parse("r.yaml", []byte(`rules: []
faq:
  entries:
    - id: x
      questions: ["c'est quoi ?"]
      answer: "y"
`), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(rs)
	var le *rules.LoadError
	if !errors.As(err, &le) || le.Error() != `r.yaml:4:7: faq entry "x": question "c'est quoi ?" has only stop words` {
		t.Fatalf("err = %v", err)
	}
}

func TestFromRules(t *testing.T) {
	rs, err := rules.Parse("r.yaml", []byte(`rules: []
faq:
  after_hours: silent
  entries:
    - {id: hours, questions: ["horaires ?"], answer: "9h-19h"}
  tests:
    - {question: "vos horaires ?", expect: hours}
`), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := FromRules(rs.FAQ)
	if c.Threshold != DefaultThreshold || math.Abs(c.SuggestThreshold-DefaultSuggestRatio*DefaultThreshold) > 1e-9 ||
		c.Language != DefaultLanguage || !c.QuestionsOnly || c.AfterHoursForward ||
		c.ChannelCooldown != 5*time.Minute || c.UserCooldown != time.Hour || len(c.Entries) != 1 {
		t.Fatalf("config = %+v", c)
	}
	m, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	if res := m.RunTests(TestsOf(rs.FAQ)); len(res) != 1 || !res[0].Passed() || res[0].Line != 7 {
		t.Errorf("tests = %+v", res)
	}
}

// When the examples find two entries as close, the one whose answer has the
// message's words goes first, with the score the examples gave the best.
func TestAnswerBreaksNearTie(t *testing.T) {
	for _, first := range []string{"quinto", "sexto"} {
		answers := map[string]string{"quinto": "Le zorblax se range dans le grobul.", "sexto": "Le zorblax se range dans le grobul."}
		answers[first] = "Le zorblax se range dans le flimzo."
		cfg := Config{Language: "fr", Entries: []rules.FAQEntry{
			{ID: "quinto", Questions: []string{"zorblax quinto ?"}, Answer: map[string]string{"fr": answers["quinto"]}},
			{ID: "sexto", Questions: []string{"zorblax sexto ?"}, Answer: map[string]string{"fr": answers["sexto"]}},
			// flimzo in a third answer: a word of one answer alone
			// would count as an example's word (TestAnswerWordsAnswer)
			{ID: "septimo", Questions: []string{"septimo ?"}, Answer: map[string]string{"fr": "Le flimzo."}},
		}}
		m, err := NewMatcher(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := m.Match("le zorblax dans le flimzo ?")
		if len(r.Candidates) != 2 || r.Candidates[0].ID != first || r.Candidates[0].Score != r.Candidates[1].Score {
			t.Errorf("answer about flimzo on %s: candidates %v, want %s first, the scores as the examples gave them", first, r.Candidates, first)
		}
	}
}

// A message whose words are all in one entry's examples and answer, one of
// them in that answer alone, is answered by that entry: the trade's nouns
// are in the answers a CM writes. One such word alone, a word no entry has,
// or a word of two entries' answers is not enough.
func TestAnswerWordsAnswer(t *testing.T) {
	cfg := Config{Language: "fr", QuestionsOnly: true, Entries: []rules.FAQEntry{
		{ID: "spa", Questions: []string{"le spa est ouvert à quelle heure ?", "is the pool heated?"},
			Answer: map[string]string{"fr": "Spa et piscine chauffée de 9h à 20h, accès libre pour les clients.", "en": "Spa and heated pool 9am-8pm, free for guests."}},
		{ID: "parking", Questions: []string{"y a-t-il un parking ?", "where can I park?"},
			Answer: map[string]string{"fr": "Parking gratuit derrière l'hôtel, borne pour voiture électrique.", "en": "Free car park behind the hotel, with a charger for electric cars."}},
		{ID: "breakfast", Questions: []string{"le petit déjeuner est compris ?", "what time is breakfast?"},
			Answer: map[string]string{"fr": "Buffet de 7h à 10h30, 15 € ; gratuit pour les moins de 6 ans.", "en": "Buffet from 7am to 10:30am, €15; free for children under 6."}},
	}}
	m, err := NewMatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 6, 11, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		text  string
		kind  Kind
		entry string
	}{
		{"la piscine est chauffée ?", Answer, "spa"},
		{"la pissine est chauffée ?", Answer, "spa"}, // one typo on the answer's word
		{"piscine ?", Silent, ""},
		{"la piscine est immense ?", Silent, ""},
	} {
		d := m.DecideText(c.text, at)
		if d.Kind != c.kind || (c.entry != "" && d.Entry != c.entry) {
			t.Errorf("%q: %s %s %v %v, want %s %s", c.text, d.Kind, d.Entry, d.Candidates, d.Terms, c.kind, c.entry)
		}
	}
	// a score stays a score, whatever the threshold
	cfg.Threshold = 0.98
	if m, err = NewMatcher(cfg); err != nil {
		t.Fatal(err)
	}
	if d := m.DecideText("la piscine est chauffée ?", at); d.Kind != Answer || d.Score > 1 {
		t.Errorf("threshold 0.98: %s %v, want an answer scored 1 at most", d.Kind, d.Score)
	}
}

// One word of an entry's answer alone, beside a context that entry has too
// ("acceptés": what is allowed), is answered by that entry: the answer lists
// what the examples only ask about. Without the context, with a context the
// entry does not have, or with a word of another entry, it is not.
func TestAnswerWordWithContext(t *testing.T) {
	cfg := Config{Language: "fr", QuestionsOnly: true, Entries: []rules.FAQEntry{
		{ID: "rules", Questions: []string{"qu'est-ce qui est interdit sur le site ?", "on peut amener sa gourde ?", "can I bring food and drinks?"},
			Answer: map[string]string{"fr": "Gourdes vides et nourriture acceptées ; interdits : verre, bouteilles pleines, parasols et animaux.", "en": "Empty water bottles and food are allowed; no glass, full bottles, parasols or animals."}},
		{ID: "tickets", Questions: []string{"combien coûte le pass 3 jours ?", "où acheter les billets ?", "how much is a day ticket?"},
			Answer: map[string]string{"fr": "Pass 3 jours 119 €, billet journée 55 €, sur festival.fr.", "en": "3-day pass €119, day ticket €55, on festival.fr."}},
		{ID: "camping", Questions: []string{"le camping est inclus ?", "can we pitch a tent?"},
			Answer: map[string]string{"fr": "Camping gratuit avec le pass 3 jours, ouvert du jeudi midi au lundi midi.", "en": "Camping is free with the 3-day pass, open Thursday noon to Monday noon."}},
	}}
	m, err := NewMatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 6, 11, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		text   string
		answer bool
		entry  string
	}{
		{"les parasols sont acceptés ?", true, "rules"},
		{"parasols autorisés sur le site ?", true, "rules"},
		{"parasols ?", false, ""},
		{"les parasols sont acceptés jeudi ?", false, ""},
		{"les parasols sont acceptés avec le pass ?", false, ""},
	} {
		d := m.DecideText(c.text, at)
		if (d.Kind == Answer) != c.answer || (c.entry != "" && d.Entry != c.entry) {
			t.Errorf("%q: %s %s %v %v, want answered %v %s", c.text, d.Kind, d.Entry, d.Candidates, d.Terms, c.answer, c.entry)
		}
	}
}

// A message whose words are all in one entry's examples and answer, one of
// them a noun of that entry's own examples alone, is answered by that entry
// as by a word of its answer alone: the CM's examples name the trade's
// nouns, which the intents the entry inherits dilute. One word alone, or a
// word no entry has, is not enough.
func TestOwnNounsAnswer(t *testing.T) {
	cfg := Config{Language: "fr", QuestionsOnly: true, Entries: []rules.FAQEntry{
		{ID: "aftercare", Questions: []string{"comment soigner mon tatouage ?", "combien de temps pour cicatriser ?", "how do I look after a new tattoo?"},
			Answer: map[string]string{"fr": "Crème cicatrisante deux fois par jour pendant deux semaines ; ni piscine ni soleil.", "en": "Healing cream twice a day for two weeks; no swimming pool, no sun."}},
		{ID: "booking", Questions: []string{"comment prendre rendez-vous ?", "faut-il verser un acompte ?", "how do I book a session?"},
			Answer: map[string]string{"fr": "Rendez-vous en ligne, acompte de 50 €.", "en": "Book online, €50 deposit."}},
		{ID: "prices", Questions: []string{"combien coûte un petit motif ?", "vos tarifs ?", "how much is a small design?"},
			Answer: map[string]string{"fr": "À partir de 80 € le petit motif, 120 € de l'heure.", "en": "From €80 for a small design, €120 an hour."}},
	}}
	m, err := NewMatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 6, 11, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		text  string
		kind  Kind
		entry string
	}{
		{"tattoo two weeks sun?", Answer, "aftercare"},
		{"tattoo?", Silent, ""},
		{"tattoo moon?", Silent, ""},
	} {
		d := m.DecideText(c.text, at)
		if d.Kind != c.kind || (c.entry != "" && d.Entry != c.entry) {
			t.Errorf("%q: %s %s %v %v, want %s %s", c.text, d.Kind, d.Entry, d.Candidates, d.Terms, c.kind, c.entry)
		}
	}
	// without the entry's own nouns, the examples alone leave it unanswered
	m.ownOnly = nil
	if d := m.DecideText("tattoo two weeks sun?", at); d.Kind == Answer {
		t.Errorf("without own nouns: %s %s %v, want no answer", d.Kind, d.Entry, d.Candidates)
	}
}

// A near miss whose known words, two or more, are all its entry's and no
// other entry's is answered; one with more words no example has than known
// ones, or whose known words another entry has too, stays a near miss,
// unless it asks to give something back of the one entry that gives back
// (byGiveBack: the thing and its story are words no example has).
func TestCoverageAnswers(t *testing.T) {
	cfg := Config{Language: "fr", QuestionsOnly: true, Entries: []rules.FAQEntry{
		{ID: "hours", Questions: []string{"quels sont vos horaires ?", "vous êtes ouverts le dimanche ?", "what are your opening hours?"}, Answer: map[string]string{"": "9h-19h"}},
		{ID: "contact", Questions: []string{"comment contacter le service client ?", "vous avez un numéro de téléphone ?", "how can I reach you?"}, Answer: map[string]string{"": "01 23 45 67 89"}},
		{ID: "returns", Questions: []string{"comment retourner un article ?", "je peux être remboursé ?", "can I return my order?"}, Answer: map[string]string{"": "30 jours"}},
		{ID: "order", Questions: []string{"où en est ma commande ?", "je n'ai pas reçu mon colis", "where is my order?"}, Answer: map[string]string{"": "suivi"}},
		{ID: "repairs", Questions: []string{"vous réparez les montres ?", "combien pour changer une pile ?", "do you fix watches?"}, Answer: map[string]string{"": "atelier"}},
	}}
	checkDecisions(t, cfg, []decideCase{
		{"je peux me faire rembourser un cadeau ?", Answer, "returns"},
		{"comment contacter le service client au téléphone pour tata mimi", Answer, "contact"},
		{"numéro du service client pour la fête moche de tata mimi", Forward, "contact"},
		{"je veux me faire rembourser le cadeau moche de tata mimi", Answer, "returns"},
		{"cadeau montre réparer ?", Forward, "repairs"}, // "cadeau" is the returns entry's
	})
	// an entry on gift receipts has "rembourser" and "cadeau" too
	cfg.SuggestThreshold = 0.3
	cfg.Entries = append(cfg.Entries, rules.FAQEntry{ID: "giftreceipt", Questions: []string{"vous faites des tickets pour les cadeaux ?", "un cadeau offert, on peut être remboursé sans ticket ?", "do you give gift receipts?"}, Answer: map[string]string{"": "oui"}})
	checkDecisions(t, cfg, []decideCase{{"je peux me faire rembourser un cadeau ?", Forward, ""}})
}

// A near miss one of whose known words is another entry's is answered when
// that word is a plain one (no concept that asks something, no noun of
// another entry's own examples alone) and the message asks the brand
// something for its writer; it stays a near miss otherwise.
func TestCoverageOneWordOfAnother(t *testing.T) {
	cfg := Config{Language: "fr", QuestionsOnly: true, Threshold: 0.9, SuggestThreshold: 0.5, Entries: []rules.FAQEntry{
		{ID: "booking", Questions: []string{"comment réserver une table ?", "faut-il réserver pour le déjeuner ?", "can I book a table?"}, Answer: map[string]string{"": "Réservez sur notre site."}},
		{ID: "terrace", Questions: []string{"vous avez une terrasse ?", "on peut apporter un gâteau en terrasse ?", "do you have outdoor seating?"}, Answer: map[string]string{"": "Terrasse de 20 places."}},
		{ID: "phone", Questions: []string{"on peut vous appeler ?", "quel est le numéro du restaurant ?", "what's your phone number?"}, Answer: map[string]string{"": "01 23 45 67 89"}},
		{ID: "menu", Questions: []string{"je peux voir la carte ?", "il y a un gâteau au dessert ?", "can I see the menu?"}, Answer: map[string]string{"": "La carte est sur notre site."}},
	}}
	checkDecisions(t, cfg, []decideCase{
		{"je peux réserver pour un gâteau ?", Answer, "booking"},
		{"on peut réserver pour un gâteau d'anniversaire ?", Answer, "booking"},
		{"réserver gâteau ?", Forward, "booking"},                // asks nothing for its writer
		{"je peux réserver en terrasse ?", Forward, "booking"},   // the terrace's own noun
		{"je peux réserver par téléphone ?", Forward, "booking"}, // what the phone entry is about
	})
}

// decideCase is a message and what the matcher decides of it: its kind, and
// its entry unless empty.
type decideCase struct {
	text  string
	kind  Kind
	entry string
}

// checkDecisions builds the matcher of cfg and checks its decision on each
// case, asked in office hours.
func checkDecisions(t *testing.T, cfg Config, cases []decideCase) {
	t.Helper()
	m, err := NewMatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 6, 11, 0, 0, 0, time.UTC)
	for _, c := range cases {
		d := m.DecideText(c.text, at)
		if d.Kind != c.kind || (c.entry != "" && d.Entry != c.entry) {
			t.Errorf("%q: %s %s %v %v, want %s %s", c.text, d.Kind, d.Entry, d.Candidates, d.Terms, c.kind, c.entry)
		}
	}
}

// TestBestCandidates checks bestCandidates against a stable sort cut to its
// first k, on lists with many ties.
func TestBestCandidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 2000; n++ {
		cs := make([]Candidate, rng.IntN(12))
		for i := range cs {
			cs[i] = Candidate{ID: fmt.Sprint(i), Score: float64(rng.IntN(5)) / 4}
		}
		for k := 1; k <= maxCandidates; k++ {
			want := slices.Clone(cs)
			sortCandidates(want)
			want = want[:min(k, len(want))]
			if got := bestCandidates(slices.Clone(cs), k); !slices.Equal(got, want) {
				t.Fatalf("bestCandidates(%v, %d) = %v, want %v", cs, k, got, want)
			}
		}
	}
}

// An entry that inherits an intent its own examples do not ask (a contact
// entry inherits the bookings, of its family, which no entry asks) does not
// answer a message worded like that intent when another entry's own
// examples are clearly closer: the message goes to the desk as disputed. A
// message the entry's own examples ask is answered as before.
func TestDisputedGoesToTheDesk(t *testing.T) {
	cfg := Config{Language: "en", QuestionsOnly: true, Entries: []rules.FAQEntry{
		{ID: "delivery", Questions: []string{"quels sont les délais de livraison ?", "vous livrez en point relais ?", "how much is shipping?"},
			Answer: map[string]string{"": "Shipped within 24 hours, delivered in 2 to 4 days."}},
		{ID: "contact", Questions: []string{"how do I reach customer service?", "what is your phone number?", "comment vous contacter ?"},
			Answer: map[string]string{"": "Chat on the site, or call 01 23 45 67 89."}},
		{ID: "order", Questions: []string{"ma commande est où ?", "mon colis n'avance pas", "where is my order?"},
			Answer: map[string]string{"": "Follow it from My orders in your account."}},
		{ID: "returns", Questions: []string{"how do I return an item?", "je peux renvoyer un article ?", "what is your returns policy?"},
			Answer: map[string]string{"": "30 days to change your mind."}},
	}}
	m, err := NewMatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	why, err := EntryIntents(cfg.Entries, nil)
	if err != nil || !slices.Contains(why["contact"], "booking") {
		t.Fatalf("contact inherits %v (%v), want booking among them", why["contact"], err)
	}
	at := time.Date(2026, 1, 6, 11, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		text  string
		kind  Kind
		why   string
		entry string
	}{
		{"my preorder, has it shipped yet?", Forward, WhyDisputed, "contact"},
		{"what's your phone number please?", Answer, "", "contact"},
		{"how long does shipping take to Lyon?", Answer, "", "delivery"},
	} {
		d := m.DecideText(c.text, at)
		if d.Kind != c.kind || d.Why != c.why || d.Entry != c.entry {
			t.Errorf("%q: %s (%s) %s %v %v, want %s (%s) %s", c.text, d.Kind, d.Why, d.Entry, d.Candidates, d.Terms, c.kind, c.why, c.entry)
		}
	}
}

// "avant", "après" and "pendant" say when, never what is asked: "vous pouvez
// installer avant l'été ?" asks the delay, not the price whose answer is
// given "avant remise".
func TestTimePrepositionsAskNothing(t *testing.T) {
	cfg := Config{Language: "fr", QuestionsOnly: true, Entries: []rules.FAQEntry{
		{ID: "price", Questions: []string{"combien coûte une cuisine installée ?", "quel est le prix de l'installation ?", "how much is a fitted kitchen?"},
			Answer: map[string]string{"fr": "À partir de 6 000 € posée, avant la remise de bienvenue.", "en": "From €6,000 fitted, before the welcome discount."}},
		{ID: "delay", Questions: []string{"combien de temps pour l'installation ?", "quel délai entre la commande et la pose ?", "how long until the kitchen is installed?"},
			Answer: map[string]string{"fr": "Pose en deux jours, 6 semaines après la commande.", "en": "Fitted in two days, 6 weeks after the order."}},
		{ID: "showroom", Questions: []string{"où est votre showroom ?", "where can I see your kitchens?"},
			Answer: map[string]string{"fr": "Showroom 12 rue des Lilas, du mardi au samedi.", "en": "Showroom at 12 rue des Lilas, Tuesday to Saturday."}},
	}}
	m, err := NewMatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 6, 11, 0, 0, 0, time.UTC)
	d := m.DecideText("vous pouvez installer avant l'été ?", at)
	if d.Kind == Answer && d.Entry != "delay" || len(d.Candidates) > 0 && d.Candidates[0].ID != "delay" {
		t.Errorf("%s %s %v %v, want the delay first and no other answer", d.Kind, d.Entry, d.Candidates, d.Terms)
	}
}

// A near miss that asks to give something back for its writer is answered
// by the one entry that gives back, whatever the thing and its story; when
// two entries give back, it stays on the desk.
func TestGiveBackNearMiss(t *testing.T) {
	returns := rules.FAQEntry{ID: "returns", Questions: []string{"comment retourner un article ?", "je peux échanger un produit ?", "can I return my order?"},
		Answer: map[string]string{"fr": "Retours et échanges sous 30 jours avec le ticket.", "en": "Returns and exchanges within 30 days with the receipt."}}
	hours := rules.FAQEntry{ID: "hours", Questions: []string{"quels sont vos horaires ?", "what are your opening hours?"},
		Answer: map[string]string{"fr": "Du lundi au samedi, 9h-19h.", "en": "Monday to Saturday, 9am-7pm."}}
	guarantee := rules.FAQEntry{ID: "guarantee", Questions: []string{"un outil en panne est échangé sous garantie ?", "is a broken tool exchanged?"},
		Answer: map[string]string{"fr": "Outils garantis deux ans : réparés ou échangés.", "en": "Tools carry a two-year guarantee: repaired or exchanged."}}
	q := "la perceuse achetée samedi fait un bruit bizarre, je peux la ramener ?"
	m, err := NewMatcher(Config{Language: "fr", QuestionsOnly: true, Threshold: 0.55, SuggestThreshold: 0.45, Entries: []rules.FAQEntry{returns, hours}})
	if err != nil {
		t.Fatal(err)
	}
	if d := m.DecideText(q, testTime); d.Kind != Answer || d.Entry != "returns" {
		t.Errorf("one entry gives back: %s %s %v %v, want returns answered", d.Kind, d.Entry, d.Candidates, d.Terms)
	}
	if d := m.DecideText("I'd like to send back the garden chairs, they're not the colour I expected", testTime); d.Kind != Answer || d.Entry != "returns" {
		t.Errorf("English: %s %s %v %v, want returns answered", d.Kind, d.Entry, d.Candidates, d.Terms)
	}
	m, err = NewMatcher(Config{Language: "fr", QuestionsOnly: true, Threshold: 0.55, SuggestThreshold: 0.45, Entries: []rules.FAQEntry{returns, hours, guarantee}})
	if err != nil {
		t.Fatal(err)
	}
	q = "la perceuse achetée samedi au magasin de Nantes fait un bruit bizarre et chauffe, je peux la ramener ?"
	if d := m.DecideText(q, testTime); d.Kind == Answer {
		t.Errorf("two entries give back: %s %s %v %v, want the desk", d.Kind, d.Entry, d.Candidates, d.Terms)
	}
}

// A price asked of a solar installer whose quote entry shares the price's
// words with the price entry ("c'est combien", "cost") and has no word of
// its own in the message: the quote won on the weights, not on the CM's
// words, and the price entry's own examples are as close; the CMs choose.
// A message with the price entry's own words ("panneaux") is answered. In a
// shop, an order still to come asks how long delivery takes, but the order
// entry's own "je n'ai pas reçu mon colis" is as close: the desk is offered
// the delivery entry.
func TestUndecidedGoesToTheDesk(t *testing.T) {
	solar := loadMatcher(t, filepath.Join("testdata", "read2", "solar", "faq.yaml"))
	shop := questionsMatcher(t,
		faqEntry("hours", "10h-19h", "quels sont vos horaires ?", "vous êtes ouverts le dimanche ?", "what are your opening hours?"),
		faqEntry("delivery", "2 à 4 jours", "combien de temps pour la livraison ?", "vous livrez en Belgique ?", "how long does shipping take?"),
		faqEntry("returns", "30 jours", "comment retourner un article ?", "je peux être remboursé ?", "how do I return something?"),
		faqEntry("order", "dans votre compte", "où en est ma commande ?", "je n'ai pas reçu mon colis", "where is my order?"),
		faqEntry("contact", "01 23 45 67 89", "comment vous contacter ?", "vous avez un numéro de téléphone ?", "how can I reach customer service?"),
		faqEntry("jobs", "shop.example/jobs", "vous recrutez ?", "je cherche un stage", "are you hiring?"),
	)
	for _, c := range []struct {
		m     *Matcher
		text  string
		kind  Kind
		why   string
		entry string
	}{
		{solar, "c'est combien pour une grange de 200m2 ?", Forward, WhyUndecided, "quote"},
		{solar, "what would a 9kw system cost", Forward, WhyUndecided, "quote"},
		{solar, "quel est le prix des panneaux ?", Answer, "", "price"},
		{shop, "si je commande ce soir, je le reçois quand ?", Forward, WhyUndecided, "delivery"},
		{shop, "if I order at 4pm will it still arrive tomorrow?", Forward, WhyUndecided, "delivery"},
		{shop, "how long does shipping take to Lyon?", Answer, "", "delivery"},
	} {
		d := c.m.DecideText(c.text, evalTime(c.m))
		if d.Kind != c.kind || d.Why != c.why || d.Entry != c.entry {
			t.Errorf("%q: %s (%s) %s %v %v, want %s (%s) %s", c.text, d.Kind, d.Why, d.Entry, d.Candidates, d.Terms, c.kind, c.why, c.entry)
		}
	}
}

// A near miss whose one known word is what its entry's own examples alone
// ask about is answered when the writer asks it for themselves or puts it
// to the brand; a message whose only "me" is an object, a word the entry
// only inherits, or a message that asks nothing stays at the desk.
func TestIntentNearMiss(t *testing.T) {
	cases := []struct {
		faq, text string
		kind      Kind
		entry     string
	}{
		{"brands/bakery", "je veux commander 3 tartes pour dimanche", Answer, "cakes"},
		{"read/electronics", "Can I split the cost over a few months?", Answer, "payment"},
		{"sealed8/escape", "on va avoir 10 min de retard c'est grave ?", Answer, "late"},
		{"read/electronics", "split the cost over a few months?", Forward, "payment"},                        // asks nothing for its writer
		{"read/electronics", "is it me or can nobody split the cost over a few months?", Forward, "payment"}, // "me" is no writer asking
		{"brands/carrental", "j'ai cassé le rétroviseur", Forward, "agencies"},                               // "cassé" is an inherited word
	}
	for _, c := range cases {
		m := loadMatcher(t, filepath.Join("testdata", c.faq, "faq.yaml"))
		d := m.DecideText(c.text, testTime)
		if d.Kind != c.kind || d.Entry != c.entry {
			t.Errorf("%s %q: %s %s %v %v, want %s %s", c.faq, c.text, d.Kind, d.Entry, d.Candidates, d.Terms, c.kind, c.entry)
		}
	}
}

// An answer none of whose entry's own examples shares a word with the
// message, while another entry's do, goes to the desk: the entry won on the
// wordings it inherits alone. One its own examples share words with is
// answered.
func TestInheritedGoesToTheDesk(t *testing.T) {
	m := loadMatcher(t, filepath.Join("testdata", "sealed10", "zoo", "faq.yaml"))
	if d := m.DecideText("is there a student discount", testTime); d.Kind != Forward || d.Entry != "sponsor" || d.Why != WhyInherited {
		t.Errorf("student discount: %s %s %q %v %v, want the desk, sponsor suggested", d.Kind, d.Entry, d.Why, d.Candidates, d.Terms)
	}
	if d := m.DecideText("how do I sponsor an animal?", testTime); d.Kind != Answer || d.Entry != "sponsor" {
		t.Errorf("sponsor: %s %s %q %v %v, want sponsor answered", d.Kind, d.Entry, d.Why, d.Candidates, d.Terms)
	}
}
