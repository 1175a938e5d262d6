package daemon_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/daemon"
)

// TestConsoleDeleteOfAGroupedCase: a member posts the same scam four times
// on Discord (discordgo on the fake), which the store groups into one
// case; the console's queue says so as the card does, and a CM's delete
// from the console acts on each of the four messages, as from the desk.
// Discord refuses the last (vigie lacks Manage Messages there): the console
// says so after the decision, in a CM's words, as the card says it under
// the decision.
func TestConsoleDeleteOfAGroupedCase(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 61)
	in := startOnly(t, groupedRules, nil, []daemon.Connector{discordConnector(cl)})
	const eve = "600000000000000021"
	ids := postScams(t, f, guild, channel, eve, 700000000000000600, 4, "FREE NITRO ")
	id := groupedCase(t, in, nil, eve, 4)
	f.Fail("DELETE", "/channels/"+channel+"/messages/"+ids[3], http.StatusForbidden, `{"code":50013,"message":"Missing Permissions"}`, nil, 1000)

	ann := admin(t, in, "ann")
	_, page, _ := ann.do("GET", "/queue", nil, nil)
	if !strings.Contains(page, `data-case="`+id+`"`) || !strings.Contains(page, "This message and 3 more") {
		t.Fatalf("the queue does not show the grouped case %s as the card does:\n%s", id, page)
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	code, _, h := ann.do("POST", "/queue/"+id+"/decide", url.Values{"outcome": {"delete"}, "csrf": {csrf}}, nil)
	loc, _ := url.Parse(h.Get("Location"))
	if code != http.StatusSeeOther || loc == nil {
		t.Fatalf("the console's delete: %d %v", code, h)
	}
	said := html.UnescapeString(loc.Query().Get("flash"))
	want := id + ": delete, done; ⚠️ 1 of the 4 messages grouped not deleted: Discord refused: vigie lacks the Manage Messages permission"
	if !strings.HasPrefix(said, want) {
		t.Errorf("after the delete the console says %q, want %q…", said, want)
	}
	for _, m := range ids {
		if n := f.Count("DELETE", "/channels/"+channel+"/messages/"+m); n == 0 {
			t.Errorf("message %s of the grouped case not asked to be deleted from the console", m)
		}
	}
}
