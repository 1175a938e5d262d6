package text

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// linkOwners are the tests' owners (mybrand.fr and mybrand-store.com, one
// owner's) and brands (a list lookalike() reads), under which more words are
// links (Owners.brandHost).
func linkOwners(tb testing.TB) *Owners {
	tb.Helper()
	brands, err := NewList([]string{"discord.com", "discord.gg", "steamcommunity.com", "paypal.com", "google.com", "mybrand.fr"})
	if err != nil {
		tb.Fatal(err)
	}
	o := NewOwners()
	if err := o.Add("mybrand.fr", "mybrand-store.com"); err != nil {
		tb.Fatal(err)
	}
	o.AddBrands(brands)
	return o
}

// checkMayHoldLink fails when linkIn finds a link in f, with or without
// owners, where mayHoldLink says there is none.
func checkMayHoldLink(t *testing.T, f string, owners *Owners) {
	t.Helper()
	if mayHoldLink(f) {
		return
	}
	for _, o := range []*Owners{nil, owners} {
		if lo, hi, ok := linkIn(f, o); ok {
			t.Fatalf("mayHoldLink(%q) = false, but linkIn finds %q", f, f[lo:hi])
		}
	}
}

// Every field of the corpora's texts and of the tests' links, and every
// suffix of each (a Markdown link's parts are read alone): where mayHoldLink
// passes a field, linkIn finds no link in it.
func TestMayHoldLink(t *testing.T) {
	owners := linkOwners(t)
	texts := append([]string{
		"word.", "etc...", "10:30", "a.b", "x.Y", "1.5", "a.-b", "a._b", "é.à", "a.é", "http://x", "HTTPS://X.CO", "://",
		"www.", "www.x.", ".com", "steamcommunity.lat", "discord.gifts", "mybrand.it", "d1scord.sbs", "a.co)", "(a.co",
		"[a.co](https://b.co)", "hello...world", "fin.\u00a0", "url:discord.gg/x", "e.g.", "p.s.", "x..y", "x.\U0001F600",
	}, benchMessages...)
	files, _ := filepath.Glob("../../../shared/data/*.jsonl")
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev struct {
				Text    string `json:"text"`
				Content string `json:"content"`
			}
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				texts = append(texts, ev.Text, ev.Content)
			}
		}
		f.Close()
	}
	passed, read := 0, 0
	for _, s := range texts {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\n' || r == '<' || r == '>' }) {
			if !strings.ContainsAny(f, ".:") {
				continue
			}
			read++
			if !mayHoldLink(f) {
				passed++
			}
			for i := range f {
				checkMayHoldLink(t, f[i:], owners)
			}
		}
	}
	t.Logf("%d texts: %d fields with a dot or a colon, %d of them passed without linkIn", len(texts), read, passed)
}

func FuzzMayHoldLink(f *testing.F) {
	for _, s := range []string{"word.", "a.b", "x.Y", "http://x", "://", "www.x.", "a.-b", "steamcommunity.lat", "[a.co](https://b.co)", "é.à"} {
		f.Add(s)
	}
	owners := linkOwners(f)
	f.Fuzz(func(t *testing.T, s string) {
		checkMayHoldLink(t, s, owners)
	})
}
