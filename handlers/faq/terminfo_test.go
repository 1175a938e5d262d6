package faq

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestInfoOfAsTermInfoOf checks that what a matcher keeps of each term, or
// makes for a term none of its maps holds, is what its maps say: for every
// term of the evaluation sets' messages, with and without typo correction,
// on the starter pack and every FAQ of testdata.
func TestInfoOfAsTermInfoOf(t *testing.T) {
	texts := evalTexts(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*", "faq.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	matchers := []*Matcher{starterMatcher(t)}
	for _, f := range files {
		matchers = append(matchers, loadMatcher(t, f))
	}
	for _, m := range matchers {
		if len(m.termInfos) == 0 {
			t.Fatal("no term infos")
		}
		for _, s := range texts {
			ws := words(s)
			for _, fix := range []bool{false, true} {
				for _, term := range append(m.terms(ws, fix), "#12", "~price", "~day") {
					if got, want := m.infoOf(term), m.termInfoOf(term); !reflect.DeepEqual(got, want) {
						t.Fatalf("%q: infoOf %+v, termInfoOf %+v", term, got, want)
					}
				}
			}
		}
	}
}
