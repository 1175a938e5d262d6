package bot

import (
	"testing"
	"unicode/utf8"
)

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b  string
		limit int
		want  int
	}{
		{"horaires", "horraires", 1, 1},
		{"livraison", "livrasion", 1, 1}, // a swap is one edit
		{"colis", "colis", 1, 0},
		{"delivery", "delivrey", 1, 1},
		{"commande", "comande", 1, 1},
		{"hours", "jours", 1, 1},
		{"abcdef", "badcfe", 1, 2}, // over the limit: limit+1
		{"remboursement", "remboursment", 2, 1},
		{"tournoi", "tournament", 1, 2},
	} {
		if got := Distance(tt.a, tt.b, tt.limit); got != tt.want {
			t.Errorf("Distance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}

// FuzzOneEdit checks the one-edit path of DistanceRunes against the table's
// answer (limit 2, read as 2 for anything over one edit).
func FuzzOneEdit(f *testing.F) {
	for _, p := range [][2]string{{"livraison", "livrasion"}, {"colis", "colis"}, {"commande", "comande"},
		{"abcdef", "badcfe"}, {"ab", "ba"}, {"abc", "acb"}, {"abc", "bac"}, {"a", ""}, {"", ""}, {"éte", "été"},
		{"aab", "aba"}, {"abab", "baba"}, {"ca", "abc"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		ra, rb := []rune(a), []rune(b)
		want := min(DistanceRunes(ra, rb, 2), 2)
		if got := DistanceRunes(ra, rb, 1); got != want {
			t.Fatalf("DistanceRunes(%q, %q, 1) = %d, the table says %d", a, b, got, want)
		}
	})
}
