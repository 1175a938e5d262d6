package rules

import (
	"fmt"
	"testing"
)

// The analyses has_any keeps for an event, of texts other than its content,
// are bounded: a loop asking has_any of each word of a 40 KB message kept
// 14,000 of them, 40 MB for the event, and looked through them all at each
// call (2.7 s). The event's own texts asked again are still analysed once.
func TestAnalysesKeptForAnEventAreBounded(t *testing.T) {
	st := &evalState{}
	for i := range 5000 {
		st.analysisOf(fmt.Sprintf("w%d", i))
	}
	// a few for the event's fields, a few for texts the rule built
	if len(st.others) > 64 {
		t.Fatalf("%d analyses kept for one event, want some tens at most", len(st.others))
	}

	st = &evalState{}
	text, forward := "t idiot", "f abruti"
	a, b := st.analysisOf(text), st.analysisOf(forward)
	for range 50 {
		if st.analysisOf(text) != a || st.analysisOf(forward) != b {
			t.Fatal("a text asked again was analysed again")
		}
	}
	if len(st.others) != 2 {
		t.Fatalf("%d analyses kept for two texts", len(st.others))
	}
}
