package text

import (
	"strconv"
	"testing"
)

// TestLangTable checks the function words' table answers as their map: each
// word its language, and other words none.
func TestLangTable(t *testing.T) {
	m := functionWordMap()
	if len(m) < 100 {
		t.Fatalf("%d function words", len(m))
	}
	for h, lang := range m {
		if got := functionWords.langOf(h); got != lang {
			t.Errorf("word hash %x: %d, want %d", h, got, lang)
		}
	}
	for _, w := range []string{"bonjour", "the", "chat", "cat", "", "zz", "vidéo", "subscribe"} {
		h := wordHash([]byte(w))
		if got := functionWords.langOf(h); got != m[h] {
			t.Errorf("%q: %d, want %d", w, got, m[h])
		}
	}
	for i := range 20000 {
		h := wordHash([]byte("w" + strconv.Itoa(i)))
		if got := functionWords.langOf(h); got != m[h] {
			t.Errorf("w%d: %d, want %d", i, got, m[h])
		}
	}
}
