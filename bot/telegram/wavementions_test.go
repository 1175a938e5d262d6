package telegram

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/handlers/alert"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

const mentionWaveRules = `
timezone: UTC
lists:
  insults: [idiot]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [delete]
alerts: [{name: wave, when: 'hits("abuse", "10m") >= 5', do: [alert("@oncall_cm hostile wave")]}]
`

// TestCrisisPageMentionsNobodyItsExamplesName: a wave's page quotes the
// members' first messages and names; their "@ann_cm" is no mention on the
// desk (Telegram would wake the CM Ann in a muted chat, at a member's
// call), and the group's title "@ann_cm fans" neither. The rule's own alert
// text calls @oncall_cm on purpose: that mention stays.
func TestCrisisPageMentionsNobodyItsExamplesName(t *testing.T) {
	f, _, desk, out := watchedDesk(t, fixtureChats)
	rs, err := rules.Parse("wave.yaml", []byte(mentionWaveRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	eng := rules.NewEngine(rs, st, rules.Options{})
	now := at(t0)
	a, err := alert.New(rs.WaveAlerts(), alert.Options{Store: st, Desk: desk, Now: func() time.Time { return now },
		PlaceName: func(platform, space string) string { return "@ann_cm fans" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		f.push(map[string]any{"message": message(group, 10+i, tgUser{id: int64(70 + i), first: "@boss_cm"}, t0,
			fmt.Sprintf("@ann_cm you idiot %d, mail eve@scam.example", i))})
		ev := nextMessage(t, out, "a member's message")
		now = ev.At
		as, err := eng.Assess(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		a.Observe(ctx, ev, as)
	}
	page := shownText(f.waitFor("sendMessage", 1, inChat(deskChat.id)).Params.Get("text"))
	if !strings.Contains(page, "@oncall_cm hostile wave") {
		t.Errorf("the page lost the rule's own mention of @oncall_cm:\n%s", page)
	}
	for _, name := range []string{"@ann_cm", "@boss_cm"} {
		if strings.Contains(page, name) {
			t.Errorf("the page mentions %s, whom a member named:\n%s", name, page)
		}
	}
	if !strings.Contains(page, "idiot 0, mail eve@scam.example") || !strings.Contains(page, "ann_cm fans") {
		t.Errorf("the page lost the members' words or the group's title:\n%s", page)
	}
}
