package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

var samples = []string{
	"",
	"salut",
	`a "quoted" word \ and a backslash`,
	"<script>alert('x') & co</script>",
	"tab\there, newline\nthere, \r\b\f and \x00\x01\x1f\x7f",
	"emoji 🙂 and accents éàü",
	"line\u2028and paragraph\u2029separators",
	"invalid \xff\xfe utf-8 \xc3",
	"U+FFFD itself: \ufffd",
}

// marshal is what encoding/json writes for s, HTML escaped or not.
func marshal(t testing.TB, s string, html bool) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func check(t *testing.T, s string) {
	t.Helper()
	for _, html := range []bool{false, true} {
		want := marshal(t, s, html)
		var got []byte
		if html {
			got = AppendHTML([]byte("x"), s)
		} else {
			got = Append([]byte("x"), s)
		}
		if !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Errorf("html=%v %q: got %s, want x%s", html, s, got, want)
		}
		if plain := bytes.Equal(want, []byte(`"`+s+`"`)); Plain(s, html) != plain {
			t.Errorf("Plain(%q, %v) = %v, want %v", s, html, !plain, plain)
		}
	}
}

func TestMatchesEncodingJSON(t *testing.T) {
	for _, s := range samples {
		check(t, s)
	}
	for b := 0; b < 256; b++ {
		check(t, string([]byte{'a', byte(b), 'z'}))
	}
}

func FuzzMatchesEncodingJSON(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { check(t, s) })
}
