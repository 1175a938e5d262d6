package bot

import "testing"

func TestLookalike(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		like bool
	}{
		{"Ann", "\u0410nn", true},                 // Cyrillic А
		{"Ann", "An\u200dn", true},                // zero-width joiner
		{"Ann", "An\u0578", true},                 // Armenian ո
		{"Ann", "A n n", true},                    // spaced out
		{"Ann", "\uff21\uff4e\uff4e", true},       // fullwidth
		{"Ann", "\u13aaNN", true},                 // Cherokee Ꭺ
		{"Ann", "ANN", true},                      // capitals
		{"Ian", "ian", true},                      // capitals, where I reads as l
		{"Alice", "AIice", true},                  // a capital I for the l
		{"Ann", "Ann\ufe0f", true},                // a variation selector
		{"Ann", "Ann \u2714\ufe0f", true},         // a check mark after it
		{"Ann", "-Ann.", true},                    // punctuation around it
		{"Ann", "Annabel", false},                 // another name
		{"Ann", "\u00c4nn", false},                // an accent shows
		{"Ann", "Bob", false},                     // nothing alike
		{"\u200d\u3164", "\u200b", false},         // names that show nothing are like none
		{"ann_cm", "ann_\u0441m", true},           // Cyrillic с
		{"ann_cm", "\uff41\uff4e\uff4e_cm", true}, // fullwidth
	} {
		a, b := LookalikeOf(tt.a), LookalikeOf(tt.b)
		if got := a.Like(b); got != tt.like {
			t.Errorf("%q like %q = %v, want %v (%+v, %+v)", tt.a, tt.b, got, tt.like, a, b)
		}
		if got := b.Like(a); got != tt.like {
			t.Errorf("%q like %q = %v, want %v", tt.b, tt.a, got, tt.like)
		}
	}
	if !LookalikeOf("Ann (@ann_\u0441m)").Holds(LookalikeOf("ann_cm")) {
		t.Error(`"Ann (@ann_сm)" does not hold ann_cm`)
	}
	if LookalikeOf("Ann").Holds(LookalikeOf("")) {
		t.Error("a name holds the empty name")
	}
}

func TestPosesAsCM(t *testing.T) {
	cms := []CMName{{ID: "telegram:42", Name: "Ann", Username: "ann_cm", Shown: "Ann (@ann_cm)"}}
	for _, tt := range []struct {
		what string
		ev   Event
		want string
	}{
		{"a look-alike name", Event{Platform: "telegram", Author: Author{ID: "7", Name: "\u0410nn"}}, "Ann (@ann_cm)"},
		{"the CM herself", Event{Platform: "telegram", Author: Author{ID: "42", Name: "Ann", Username: "ann_cm"}}, ""},
		{"her username on another platform", Event{Platform: "discord", Author: Author{ID: "7", Name: "Eve", Username: "ann_\u0441m"}}, "Ann (@ann_cm)"},
		{"her name on another platform, another username", Event{Platform: "discord", Author: Author{ID: "7", Name: "Ann", Username: "eve"}}, "Ann (@ann_cm)"},
		{"a username on her platform", Event{Platform: "telegram", Author: Author{ID: "7", Name: "Eve", Username: "ann_cm_fan"}}, ""},
		{"the same id on another platform", Event{Platform: "discord", Author: Author{ID: "42", Name: "Ann"}}, "Ann (@ann_cm)"},
	} {
		if got := PosesAsCM(tt.ev, "telegram", cms); got != tt.want {
			t.Errorf("%s: PosesAsCM = %q, want %q", tt.what, got, tt.want)
		}
	}
}

// BenchmarkLookalikeOf: a card reads its author's name and each CM's.
func BenchmarkLookalikeOf(b *testing.B) {
	for _, name := range []string{"Ann", "\u0410nn (@ann_\u0441m) \u2714\ufe0f", "Jean-Baptiste de la Fontaine-Moreau"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				LookalikeOf(name)
			}
		})
	}
}
