package text

import "testing"

// The hand-classed TLDs must stay IANA's: a TLD retired from the root zone
// drops out of the public suffix list, and this test then asks for it to go.
func TestHandClassedTLDsAreIANAs(t *testing.T) {
	for tld := range tlds {
		if !isICANNTLD(tld) {
			t.Errorf("%q is classed by hand but is not an ICANN TLD in golang.org/x/net/publicsuffix", tld)
		}
	}
}

func TestTLDKind(t *testing.T) {
	tests := []struct {
		tld  string
		want tldClass
	}{
		{"com", tldStrong},
		{"COM", tldStrong},
		{"gift", tldStrong},
		{"md", tldWeak},
		{"de", tldWeak},
		// IANA TLDs missing from the hand list: weak, links with a path
		{"sbs", tldWeak},
		{"lat", tldWeak},
		{"Lat", tldWeak},
		{"rs", tldWeak},
		{"ck", tldWeak}, // listed by a wildcard only
		{"er", tldWeak},
		{"onion", tldWeak},
		{"xn--p1ai", tldWeak},
		// not TLDs: file extensions and reserved names
		{"txt", tldUnknown},
		{"js", tldUnknown},
		{"go", tldUnknown},
		{"png", tldUnknown},
		{"localhost", tldUnknown},
		{"example", tldUnknown},
		{"", tldUnknown},
		{"co.uk", tldUnknown},
		{"averyveryveryverylongwordthatisnotatld", tldUnknown},
	}
	for _, tt := range tests {
		if got := tldKind(tt.tld); got != tt.want {
			t.Errorf("tldKind(%q) = %v, want %v", tt.tld, got, tt.want)
		}
	}
}
