package faq

import (
	"strings"
	"testing"
)

// looksLikeQuestionAsBefore is looksLikeQuestion as it was before it skipped
// the glued pairs, the lowered copy and the second folding (with what it
// reads since: an opener does not make a question of a remark).
func looksLikeQuestionAsBefore(text string, ws []word) bool {
	if strings.ContainsAny(text, "?？¿") || strings.Contains(strings.ToLower(text), "où") {
		return true
	}
	for i, w := range ws {
		// "n'importe quoi" asks nothing (readAsks)
		if questionWords[w.folded] && (w.folded != "quoi" || i == 0 || ws[i-1].folded != "importe") {
			if helpWords[w.folded] {
				// a complaint that no help came
				for _, x := range ws {
					if remarkWords[x.folded] {
						return false
					}
				}
			}
			return true
		}
		if i+1 < len(ws) && requests[w.folded+" "+ws[i+1].folded] {
			return true
		}
	}
	folded := fold(text)
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
	if clauseAsks(text) {
		return true
	}
	seen := 0
	for _, w := range ws {
		if greetings[w.folded] {
			continue
		}
		if openers[w.folded] {
			// praise or a complaint opens as often with "vous"
			for _, x := range ws {
				if remarkWords[x.folded] {
					return false
				}
			}
			return true
		}
		if seen++; seen == 2 {
			break
		}
	}
	return false
}

var questionSeeds = []string{"", "OÙ est le colis", "oÙ", "Où", "o\xc3", "xo\xc3\xb9", "je voudrais savoir", "JE VEUX", "j ai besoin d aide",
	"i need help", "avez-vous des horaires", "Avez-Vous", "pouvez﹣vous", "peut－on venir", "still not received", "gg wp", "bonjour, vous livrez ?",
	"ʼest-ce", "pas reçu mon colis", "Peut-ON", "salut est-il ouvert", "we land at 9am, can we come early", "livraison rapide, on recommande"}

// TestLooksLikeQuestionAsBefore compares looksLikeQuestion with the version
// before it on the recorded messages and the seeds.
func TestLooksLikeQuestionAsBefore(t *testing.T) {
	texts := append([]string{}, questionSeeds...)
	texts = append(texts, readTextsOrNone(t)...)
	for _, s := range texts {
		ws := words(s)
		if got, want := looksLikeQuestion(s, ws), looksLikeQuestionAsBefore(s, ws); got != want {
			t.Fatalf("%q: looksLikeQuestion = %t, before %t", s, got, want)
		}
	}
}

func FuzzLooksLikeQuestion(f *testing.F) {
	for _, s := range questionSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ws := words(s)
		if got, want := looksLikeQuestion(s, ws), looksLikeQuestionAsBefore(s, ws); got != want {
			t.Fatalf("%q: looksLikeQuestion = %t, before %t", s, got, want)
		}
	})
}
