package text

import "testing"

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
