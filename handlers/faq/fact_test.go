package faq

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/rules"
)

func TestAnswerFacts(t *testing.T) {
	tests := []struct {
		text string
		want fact
	}{
		{"Spa de 9h à 20h.", factClock},
		{"Open 7am to 10:30pm.", factClock},
		{"Buffet 7h-10h30, 18 € par personne.", factPrice},
		{"Accès gratuit pour les clients.", factPrice},
		{"Livraison sous 48 heures, 5 € le colis.", factPrice | factLength},
		{"Returns within 30 days.", factLength},
		{"Appelez le 3237.", 0},
		{"Ligne 1, arrêt Fives.", 0},
	}
	for _, tt := range tests {
		if got := answerFacts(tt.text); got != tt.want {
			t.Errorf("answerFacts(%q) = %b, want %b", tt.text, got, tt.want)
		}
	}
}

// factConfig is a hotel whose spa entry asks the spa's hours and a massage
// while its answer gives the hammam's price, and whose breakfast entry asks
// whether breakfast is included while its answer gives the buffet's hours;
// the room is in the answers of the wifi and of check-in, whose answer alone
// gives a time.
func factConfig() Config {
	return Config{
		Threshold: 0.55, SuggestThreshold: 0.45, Language: "fr", QuestionsOnly: true,
		Entries: []rules.FAQEntry{
			{ID: "spa", Questions: []string{"le spa est ouvert à quelle heure ?", "comment réserver un massage ?", "is the pool heated?"},
				Answer: map[string]string{"fr": "Spa et piscine chauffée de 9h à 20h ; le hammam est à 15 € la séance.", "en": "Spa and heated pool 9am-8pm; the hammam is €15 a session."}},
			{ID: "breakfast", Questions: []string{"le petit-déjeuner est inclus ?", "is breakfast included?"},
				Answer: map[string]string{"fr": "Petit-déjeuner buffet de 7h à 10h30, inclus pour tous les clients.", "en": "Buffet breakfast 7am-10:30am, included for every guest."}},
			{ID: "parking", Questions: []string{"vous avez un parking ?", "où se garer ?"},
				Answer: map[string]string{"fr": "Parking privé de 20 places, sur réservation.", "en": "Private car park with 20 spaces, on request."}},
			{ID: "wifi", Questions: []string{"il y a le wifi ?", "is wifi free?"},
				Answer: map[string]string{"fr": "Wifi gratuit dans tout l'hôtel ; le code est sur la carte de votre chambre.", "en": "Free wifi throughout the hotel; the code is on your room's key card."}},
			{ID: "checkin", Questions: []string{"on peut arriver tôt ?", "what time is check-in?"},
				Answer: map[string]string{"fr": "Les chambres sont prêtes à partir de 15h et se rendent avant 11h.", "en": "Rooms are ready from 3pm and must be left by 11am."}},
		},
	}
}

func TestByFact(t *testing.T) {
	m, err := NewMatcher(factConfig())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		text, kind, entry string
	}{
		// the noun is in one entry's answer alone, which gives the price asked
		{"le hammam c'est combien ?", "answer", "spa"},
		// the buffet's hours are the breakfast's, not the spa's
		{"le buffet ouvre à quelle heure ?", "answer", "breakfast"},
		// a noun without a fact asked: the examples decide, as before
		{"j'adore le hammam", "silent", ""},
		// a noun of two entries' own text, one of which gives the time
		{"on a la chambre à quelle heure ?", "answer", "checkin"},
		// the nouns of two entries: nobody can tell which
		{"le hammam et le buffet c'est combien ?", "", "spa!"},
	}
	for _, tt := range tests {
		d := m.DecideText(tt.text, at)
		switch {
		case tt.kind != "" && (string(d.Kind) != tt.kind || d.Entry != tt.entry):
			t.Errorf("%q: %s %s, want %s %s (%v %v)", tt.text, d.Kind, d.Entry, tt.kind, tt.entry, d.Candidates, d.Terms)
		case tt.kind == "" && d.Kind == "answer" && d.Entry+"!" == tt.entry:
			t.Errorf("%q: answered by %s, want no answer by it (%v %v)", tt.text, d.Entry, d.Candidates, d.Terms)
		}
	}
}
