package meta_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// A comment edited and judged again is not struck again, nor sent to the
// desk again (a hit more on its case), by the rule its comment met, as on
// Telegram and Discord.
func TestEditedCommentNotStruckNorCasedTwice(t *testing.T) {
	now := time.Unix(1795731300, 0).UTC().Add(time.Minute) // fb_comment_edited.json's time
	p := newPipeline(t, now)
	rs, err := rules.Parse("page.yaml", []byte(`
lists:
  insults: [escrocs]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [strike, 'forward("insult")']
`), rules.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	// wired as the daemon wires them
	p.eng = rules.NewEngine(rs, p.store, rules.Options{Clock: func() time.Time { return now }, MessageOf: p.mod.MessageOf})
	for _, f := range []string{"fb_comment_add.json", "fb_comment_edited.json"} {
		if vs := p.deliver(t, fixture(t, f)); len(vs) != 1 || !vs[0].Flagged() {
			t.Fatalf("%s: verdicts = %+v, want the insult", f, vs)
		}
	}
	ctx := context.Background()
	cases, err := p.store.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || cases[0].Hits() != 1 {
		for _, c := range cases {
			t.Logf("case %s: %s ×%d", c.ID, c.Rule, c.Hits())
		}
		t.Fatalf("%d open cases, want one of one hit: the comment, not its edit", len(cases))
	}
	ev := cases[0].Event
	strikes, err := p.store.(store.StrikeKeeper).Strikes(ctx, ev.Platform, ev.Space, ev.Author.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(strikes) != 1 {
		t.Errorf("%d strikes for one comment edited once, want 1", len(strikes))
	}
}
