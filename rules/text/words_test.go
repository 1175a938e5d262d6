package text

import (
	"fmt"
	"strings"
	"testing"
)

// EachWord gives the words as lists read them (@ is leetspeak for a, so the
// mention reads abob), each with where it stands.
func TestEachWord(t *testing.T) {
	var got []string
	Analyze("Hey @bob, CH3CK my ch4nnel https://spam.example.net/x NOOOON").EachWord(func(w []byte, kind WordKind) {
		got = append(got, fmt.Sprintf("%s/%d", w, kind))
	})
	want := "hey/0 abob/2 check/0 my/0 channel/0 https/1 spam/1 example/1 net/1 x/1 non/0"
	if strings.Join(got, " ") != want {
		t.Errorf("words %q, want %q", strings.Join(got, " "), want)
	}
}
