package console_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/store"
)

// TestQueueShowsWhatTheCardsShow: the console's queue, on a phone, says of
// each case what the desks' cards say (bot/internal/deskcases, the
// Telegram and Discord cards): where the messages a case groups are, what
// the message became when its author edited it and what the rules found in
// the edit, that it was deleted, every rule that sent it, an action still
// being tried, and what the member showed beyond the text (a forward). And
// the page still fits the phone's screen. The author's page lists the
// case with the same facts.
func TestQueueShowsWhatTheCardsShow(t *testing.T) {
	n := newRaidNight(t, 0)
	ctx := context.Background()
	at := n.at
	open := func(c store.Case) string {
		t.Helper()
		c.Opened = at
		got, err := n.st.OpenCase(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	msg := func(id, channel, thread string) bot.Event {
		return bot.Event{ID: id, Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: channel, Thread: thread,
			Author: bot.Author{ID: "u-spam", Name: "spambot"}, Text: "FREE NITRO https://discord-gift.example.net", At: at}
	}
	// A spam bot's message, and four more in three other places.
	first := msg("m1", "general", "")
	var refs []store.MessageRef
	for _, e := range []bot.Event{msg("m2", "general", ""), msg("m3", "off-topic", ""), msg("m4", "memes", "thread-9"), msg("m5", "memes", "thread-9")} {
		refs = append(refs, store.RefOf(e))
	}
	grouped := open(store.Case{Event: first, Rule: "scam", Category: "spam", Reason: "scam: gift link", Count: 5, Refs: refs,
		Rules: []string{"scam", "links"}, Suggested: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: time.Hour}},
		NotDone: []bot.Action{{Kind: bot.ActDelete}}, Trying: []bot.Action{{Kind: bot.ActDelete}}})
	// A message its author edited twice into a scam while its case was open.
	edited := bot.Event{ID: "e1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-ed", Name: "Ed"}, Text: "you are all idiots", At: at}
	ed := &bot.Edited{At: at.Add(2 * time.Minute), Text: "claim your free nitro at https://gift.example.org", Reason: "scam: gift link",
		Rules: []string{"scam"}, Edits: 2}
	editedID := open(store.Case{Event: edited, Rule: "insult", Category: "abuse", Reason: "insult: matched \"idiots\"", Edited: ed})
	// A message deleted while its case was open.
	gone := bot.Event{ID: "d1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-gone", Name: "Gone"}, Text: "buy followers", At: at}
	del := &bot.Edited{Deleted: at.Add(3 * time.Minute)}
	goneID := open(store.Case{Event: gone, Rule: "spam", Reason: "spam: followers", Edited: del})
	// A forward from a channel, whose text is the forward's.
	fwd := bot.Event{ID: "f1", Platform: "telegram", Kind: bot.KindMessage, Space: "-100", Channel: "-100",
		Author: bot.Author{ID: "42", Name: "Fwd"}, Forward: &bot.Forward{From: "Crypto Signals", Text: "double your BTC"}, At: at}
	fwdID := open(store.Case{Event: fwd, Rule: "scam", Reason: "scam: crypto"})

	bctx := browser(t, true)
	n.logIn(t, bctx)
	if err := chromedp.Do(bctx, chromedp.WaitVisible(`article[data-case="`+fwdID+`"]`)); err != nil {
		t.Fatal(err)
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('article[data-case="`+id+`"]').innerText`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// The places are under a summary, to open, as a tap does.
	if err := chromedp.Do(bctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('article summary').forEach(s => s.click())`)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   string
		want []string
	}{
		{grouped, []string{"scam, links · spam", "This message and 4 more, in 3 channels",
			"#general (2 messages)", "#off-topic", "#memes › thread-9 (2 messages)", "suggested: delete (being tried), timeout(1h)"}},
		{editedID, []string{"you are all idiots", bot.EditedText(ed), "claim your free nitro at https://gift.example.org", bot.EditedReason(ed)}},
		{goneID, []string{"buy followers", bot.DeletedText(del)}},
		{fwdID, []string{"Crypto Signals", "double your BTC"}},
	} {
		got := text(c.id)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("case %s does not say %q:\n%s", c.id, w, got)
			}
		}
	}
	if got := text(fwdID); !strings.Contains(got, fwd.Content()) {
		t.Errorf("the forward's case does not quote what the member showed, as the cards do (%q):\n%s", fwd.Content(), got)
	}
	shot(t, bctx, "phone-case-facts", true)
	fitsPhone(t, bctx)

	// The author's page lists their cases with the same facts, in a line.
	for _, c := range []struct{ path, want string }{
		{"/people/discord/guild-1/u-spam", grouped + "\nscam, links: “FREE NITRO https://discord-gift.example.net” (and 4 more, in 3 channels) — open"},
		{"/people/discord/guild-1/u-ed", editedID + "\ninsult: “you are all idiots” ✏️ edited: “claim your free nitro at https://gift.example.org” — open"},
		{"/people/discord/guild-1/u-gone", goneID + "\nspam: “buy followers” 🗑 deleted — open"},
		{"/people/telegram/-100/42", fwdID + "\nscam: “Crypto Signals double your BTC” — open"},
	} {
		if err := chromedp.Do(bctx, chromedp.Navigate(n.srv.URL+c.path)); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.querySelector('.person-cases li') || {}).innerText || ''`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s lists the case as %q, want %q…", c.path, got, c.want)
		}
	}
	shot(t, bctx, "phone-person-grouped", false)

	// The same queue on a desktop, after a ban Discord refused: the docs'
	// screenshot of the queue (docs/img/console-queue.png).
	rude := bot.Event{ID: "r1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-rude", Name: "Rude"}, Text: "mods are clowns, ban me if you dare", At: at}
	rudeID := open(store.Case{Event: rude, Rule: "insult", Category: "abuse", Reason: "insult: matched \"clowns\"",
		Suggested: []bot.Action{{Kind: bot.ActBan}}})
	dctx := browser(t, false, chromedp.WindowSize(1200, 1510)) // down to the deleted message's case
	n.logIn(t, dctx)
	n.mu.Lock()
	n.fail = &discord.APIError{Method: "PUT", Path: "/guilds/guild-1/bans/u-rude", Status: 403, Code: 50013, Message: "Missing Permissions"}
	n.mu.Unlock()
	if err := chromedp.Do(dctx, press(`article[data-case="`+rudeID+`"] button[data-outcome="ban"]`)); err != nil {
		t.Fatal(err)
	}
	const refused = ": ban, recorded but not carried out: Discord refused: vigie lacks the Ban Members permission"
	if got, failed := flash(t, dctx); !failed || !strings.HasPrefix(got, rudeID+refused) {
		t.Errorf("after a refused ban the desktop queue says %q (failed %v), want %q… in a CM's words", got, failed, rudeID+refused)
	}
	if err := chromedp.Do(dctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('article summary').forEach(s => s.click())`)); err != nil {
		t.Fatal(err)
	}
	shot(t, dctx, "console-queue", false)
}

// TestLiveQueueShowsAnEdit: a case's message edited, then deleted, while a
// CM has the queue open is shown so without a reload, as the desks edit
// their cards: the live view took only cases opened, decided or grouped
// for changes.
func TestLiveQueueShowsAnEdit(t *testing.T) {
	n := newRaidNight(t, 3)
	ctx := browser(t, true)
	n.logIn(t, ctx)
	const id = "c-tests-000002"
	cs, err := n.st.Case(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	wait := func(what, want string) {
		t.Helper()
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := chromedp.Run(pctx, chromedp.Poll[bool](`(document.querySelector('article[data-case="`+id+`"]') || {innerText: ''}).innerText.includes(`+strconv.Quote(want)+`)`)); err != nil {
			t.Errorf("the open queue does not show the %s: %v", what, err)
		}
	}
	ed := &bot.Edited{At: n.at.Add(time.Minute), Text: "now a scam https://gift.example.org", Reason: "scam: gift link", Rules: []string{"scam"}, Edits: 1}
	if err := n.st.AmendCase(context.Background(), id, store.CaseAmendment{Reason: cs.Reason, Suggested: cs.Suggested, NotDone: cs.NotDone, Edited: ed}); err != nil {
		t.Fatal(err)
	}
	wait("edit", "now a scam https://gift.example.org")
	del := *ed
	del.Deleted = n.at.Add(2 * time.Minute)
	if err := n.st.AmendCase(context.Background(), id, store.CaseAmendment{Reason: cs.Reason, Suggested: cs.Suggested, NotDone: cs.NotDone, Edited: &del}); err != nil {
		t.Fatal(err)
	}
	wait("deletion", bot.DeletedText(&del))
}
