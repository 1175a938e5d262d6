package telegram

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// With Redis stopped, the moderators' commands that read or write the
// store answer the group in its words: what cannot be done right now, and
// to try again in a minute. The store's error, its address among it, is the
// log's: the group's members read the answers too.
func TestModCommandsStoreAway(t *testing.T) {
	srv := redistest.Start(t)
	w := newModWorldOn(t, redistest.Open(t, srv.URL()))
	w.f.setMember(group.id, carol.id, "creator")
	spam := w.say(bob, "buy cheap followers")
	srv.Stop()
	for _, tc := range []struct{ command, want string }{
		{"/warns", "The warnings of Bob Martin cannot be read right now: try again in a minute."},
		{"/warn stop it", "Nothing done: the strike on Bob Martin cannot be recorded right now: try again in a minute."},
		{"/note known reseller", "The note cannot be kept right now: try again in a minute."},
		{"/resetwarns", "The strikes of Bob Martin cannot be lifted right now: try again in a minute."},
	} {
		if got := w.command(carol, tc.command, spam); got != tc.want {
			t.Errorf("%s with Redis stopped = %q, want %q", tc.command, got, tc.want)
		}
	}
	logs := w.logs.String()
	if n := strings.Count(logs, "moderator's command not carried out"); n != 4 {
		t.Errorf("%d commands logged not carried out, want 4; logs:\n%s", n, logs)
	}
	if !strings.Contains(logs, srv.Addr()) {
		t.Errorf("the store's error is not in the log:\n%s", logs)
	}
}
