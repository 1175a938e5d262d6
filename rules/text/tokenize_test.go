package text

import (
	"slices"
	"strings"
	"testing"
)

// words renders the tokens of a as their forms: "form[0]|form[1]~collapsed".
func words(a *Analysis) []string {
	out := []string{}
	for _, t := range a.toks {
		w := string(a.buf[t.form[0].lo:t.form[0].hi])
		if !t.form[1].empty() {
			w += "|" + string(a.buf[t.form[1].lo:t.form[1].hi])
		}
		if !t.coll[0].empty() {
			w += "~" + string(a.buf[t.coll[0].lo:t.coll[0].hi])
		}
		out = append(out, w)
	}
	return out
}

func TestTokens(t *testing.T) {
	tests := []struct {
		text string
		want string // words joined by spaces
	}{
		{"Hello, World!", "hello world"},
		{"Élève ÇA où", "eleve ca ou"},
		{"Straße Œuvre æther Łódź Øre", "strasse oeuvre aether lodz ore"},
		{"ｆｕｌｌｗｉｄｔｈ ＣＡＰＳ", "fullwidth caps"},
		{"ﬁne ﬂow", "fine flow"},
		{"𝕔𝕠𝕟 𝓬𝓸𝓷 ⓒⓞⓝ", "con con con"},
		{"ideographic\u3000space and\u00a0nbsp", "ideographic space and nbsp"},
		{"zero\u200bwidth soft\u00adhyphen bom\ufeffin", "zerowidth softhyphen bomin"},
		{"ctrl\x01char", "ctrlchar"},
		{"Cyrillic соnnаrd, Greek ιdιοτ, СОN", "cyrillic connard greek idiot con"},
		{"c0nn4rd m€rd3 a$$ @ss 7ruc", "connard merde ass ass truc"},
		{"1d10t nu1", "idiot|ldlot nui|nul"},
		{"2024 3.5 100$ @", "2024 3 5 100$ @"},
		{"i.d.i.o.t, c o n n a r d et c-o-n", "idiot connard et con"},
		{"il y a un a b", "il y a un a b"},
		{"J. R. R. Tolkien", "jrr tolkien"},
		{"connaaaard nuuul coool boot", "connaaaard~conard nuuul~nul coool~col boot"},
		{"c000n", "cooon~con"},
		{"l'idiot t’es aujourd'hui peut-être", "l idiot t es aujourd hui peut etre"},
		{"バカだね 漢字", "バ カ だ ね 漢 字"},
		{"½ ①", "1 2 1"},
		{"नमस्ते दुनिया", "नमस्ते दुनिया"},
		{"مَرْحَبًا", "مرحبا"},
		{"", ""},
	}
	for _, tt := range tests {
		got := strings.Join(words(Analyze(tt.text)), " ")
		if got != tt.want {
			t.Errorf("words(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestTokenSource(t *testing.T) {
	// The source span of each token covers the word as written, so that a match
	// can be shown in the text.
	s := "Salut C0NN4RD, i.d.i.o.t !"
	a := Analyze(s)
	var got []string
	for _, t := range a.toks {
		got = append(got, s[t.src.lo:t.src.hi])
	}
	if want := []string{"Salut", "C0NN4RD", "i.d.i.o.t"}; !slices.Equal(got, want) {
		t.Errorf("sources = %q, want %q", got, want)
	}
}
