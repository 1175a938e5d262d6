package meta_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigie-bot/vigie/bot/meta"
)

// An app subscribed to several Pages gets all their deliveries, signed
// alike: with META_PAGE_ID set, vigie takes only its own Page's entries
// (the others are logged and counted), in the same delivery too; without
// it, and before the token's check said which Page the token is (never
// here: TokenCheckEvery is 0), it cannot tell and takes them.
func TestOtherPagesEntriesRefused(t *testing.T) {
	ours := string(fixture(t, "fb_comment_add.json"))
	other := strings.ReplaceAll(strings.ReplaceAll(ours, pageID, "555000555000555"), "_1122334455667788", "_1122334455669999")
	if other == ours {
		t.Fatal("the fixture does not name the page")
	}
	// One delivery: the other Page's entry, then ours.
	both := strings.Replace(other, `"entry": [`, `"entry": [`+entryOf(t, ours)+`,`, 1)

	h := newHarness(t, func(c *meta.Config) { c.PageID = pageID })
	h.mustPost([]byte(both))
	got := h.collect()
	if len(got) != 1 || got[0].ID != "987654321098765_1122334455667788" {
		t.Errorf("events = %+v, want only the comment of page %s", got, pageID)
	}
	if !strings.Contains(h.logs.String(), "Meta entry for another Page than META_PAGE_ID refused") {
		t.Errorf("the refusal is not logged:\n%s", h.logs)
	}

	h = newHarness(t, nil)
	h.mustPost([]byte(other))
	if got := h.collect(); len(got) != 1 {
		t.Errorf("without META_PAGE_ID: %d events, want the comment", len(got))
	}
}

// Instagram entries carry the Instagram account's id, not the Page's: with
// META_INSTAGRAM_ID set, an entry about another account is refused (logged
// and counted), in the same delivery as the configured account's too;
// META_PAGE_ID alone does not judge them.
func TestOtherInstagramAccountsEntriesRefused(t *testing.T) {
	ours := string(fixture(t, "ig_comment.json"))
	other := strings.ReplaceAll(strings.ReplaceAll(ours, igID, "17841400000000999"), "17865799348089039", "17865799348089999")
	if other == ours {
		t.Fatal("the fixture does not name the account")
	}
	both := strings.Replace(other, `"entry": [`, `"entry": [`+entryOf(t, ours)+`,`, 1)

	reg := prometheus.NewRegistry()
	h := newHarness(t, func(c *meta.Config) { c.PageID = pageID; c.InstagramID = igID; c.Registerer = reg })
	h.mustPost([]byte(both))
	got := h.collect()
	if len(got) != 1 || got[0].ID != "17865799348089039" {
		t.Errorf("events = %+v, want only the comment of account %s", got, igID)
	}
	if n := refusedEntries(t, reg)["other_account"]; n != 1 {
		t.Errorf("entries refused as other_account = %v, want 1", n)
	}
	if !strings.Contains(h.logs.String(), "Meta entry for another Instagram account than META_INSTAGRAM_ID refused") {
		t.Errorf("the refusal is not logged:\n%s", h.logs)
	}

	// The Page's id is not the account's: META_PAGE_ID alone refuses no
	// Instagram entry.
	h = newHarness(t, func(c *meta.Config) { c.PageID = pageID })
	h.mustPost([]byte(ours))
	if got := h.collect(); len(got) != 1 {
		t.Errorf("with META_PAGE_ID only: %d events, want the comment", len(got))
	}
}

// entryOf is the one entry of a fixture's delivery, as JSON.
func entryOf(t *testing.T, delivery string) string {
	t.Helper()
	_, rest, ok := strings.Cut(delivery, `"entry": [`)
	i := strings.LastIndex(rest, "]")
	if !ok || i < 0 {
		t.Fatal("no entry list")
	}
	return rest[:i]
}

// The Instagram account's own comments (its answers under its posts) are
// not judged: vigie would otherwise moderate, or answer, itself.
func TestOwnInstagramCommentIgnored(t *testing.T) {
	own := strings.Replace(string(fixture(t, "ig_comment.json")), `"from": {"id": "232323232", "username": "test_user_fr"}`,
		`"from": {"id": "`+igID+`", "username": "boulangerie.martin"}`, 1)
	h := newHarness(t, nil)
	h.mustPost([]byte(own))
	if got := h.collect(); len(got) != 0 {
		t.Errorf("events = %+v, want none for the account's own comment", got)
	}
	if !strings.Contains(h.logs.String(), "own instagram comment ignored") {
		t.Errorf("logs:\n%s", h.logs)
	}
}

// Meta marks the account's own comment with from.self_ig_scoped_id, its
// Instagram-scoped id, and from.id may be that scoped id rather than the
// account's: the comment is the account's all the same. Another's comment
// is judged, whatever scoped id comes with it.
func TestOwnInstagramCommentMarkedBySelfScopedID(t *testing.T) {
	own := strings.Replace(string(fixture(t, "ig_comment.json")), `"from": {"id": "232323232", "username": "test_user_fr"}`,
		`"from": {"id": "1254459154682919", "username": "boulangerie.martin", "self_ig_scoped_id": "1254459154682919"}`, 1)
	h := newHarness(t, nil)
	h.mustPost([]byte(own))
	if got := h.collect(); len(got) != 0 {
		t.Errorf("events = %+v, want none for the account's own comment", got)
	}
	// A visitor's comment that came with the account's scoped id is judged.
	other := strings.Replace(string(fixture(t, "ig_comment.json")), `"from": {"id": "232323232", "username": "test_user_fr"}`,
		`"from": {"id": "232323232", "username": "test_user_fr", "self_ig_scoped_id": "1254459154682919"}`, 1)
	h.mustPost([]byte(other))
	if got := h.collect(); len(got) != 1 || got[0].Author.ID != "232323232" {
		t.Errorf("events = %+v, want the visitor's comment", got)
	}
}

// vigie's own answer under a comment comes back as a webhook, here without
// from (Meta leaves it out when the app may not see who wrote): it is not
// judged, and a rule that would hide it does not.
func TestOwnReplyComingBackNotJudged(t *testing.T) {
	const rules = `
timezone: Europe/Paris
rules:
  - name: opening-hours
    when: kind == "comment" and lower(text) contains "horaires"
    do: ['reply("Nos horaires : du lundi au samedi, 9h-19h.")']
  - name: no-hours-in-comments
    when: kind == "comment" and text contains "9h-19h"
    do: [hide]
`
	now := igCommentSent.Add(time.Minute)
	p := newPipelineWith(t, now, rules)
	p.deliver(t, fixture(t, "ig_comment.json"))
	calls := p.callsTo("POST", "/17865799348089039/replies")
	if len(calls) != 1 {
		t.Fatalf("%d replies, want 1", len(calls))
	}
	replyID := p.h.graph.repliesUnder("17865799348089039")[0].ID
	back := `{"object":"instagram","entry":[{"id":"` + igID + `","time":` + fmt.Sprint(now.Unix()) + `,"changes":[{"field":"comments","value":` +
		`{"media":{"id":"18012345678901234"},"id":"` + replyID + `","parent_id":"17865799348089039","text":"Nos horaires : du lundi au samedi, 9h-19h."}}]}]}`
	if v := p.deliver(t, []byte(back)); len(v) != 0 {
		t.Errorf("vigie's own reply judged: %+v", v)
	}
	if n := len(p.callsTo("POST", "/"+replyID)); n != 0 {
		t.Errorf("vigie hid its own reply (%d calls)", n)
	}
}
