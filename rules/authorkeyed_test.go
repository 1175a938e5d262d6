package rules_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// observed keeps the counters of the last observation it passed on.
type observed struct {
	store.Store
	ops []store.CounterOp
}

func (o *observed) Observe(ctx context.Context, ob store.Observation) (store.Result, error) {
	o.ops = append(o.ops[:0], ob.Counters...)
	return o.Store.Observe(ctx, ob)
}

// TestAuthorKeyed checks which counters the engine marks as keyed by their
// author (store.CounterOp.AuthorKeyed): only a key that begins with
// author.id and a text beginning with "|", whatever follows.
func TestAuthorKeyed(t *testing.T) {
	src := `
counters:
  plain:     {key: author.id, window: 10m}
  text:      {key: 'author.id + "|" + fingerprint', window: 10m}
  band:      {key: 'author.id + "|" + sketch(1)', window: 10m}
  glued:     {key: 'author.id + "|x|" + channel + "|" + fingerprint', window: 1m}
  colon:     {key: 'author.id + ":" + fingerprint', window: 10m}
  after:     {key: 'channel + "|" + author.id', window: 10m}
  lead:      {key: '"|" + author.id', window: 10m}
  name:      {key: 'author.name + "|" + fingerprint', window: 10m}
  space:     {key: 'space + "|" + fingerprint', window: 10m}
rules:
  - name: never
    when: counters.text > 1000
    do: [delete]
`
	rs, err := rules.Parse("authorkeyed.yaml", []byte(src), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := &observed{Store: memory.New()}
	e := rules.NewEngine(rs, st, rules.Options{})
	ev := bot.Event{ID: "m-1", Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "c",
		Author: bot.Author{ID: "u-1", Name: "Ann"}, Text: "one two three four five six seven",
		At: time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)}
	if _, err := e.Assess(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"plain": false, "text": true, "band": true, "glued": true, "colon": false,
		"after": false, "lead": false, "name": false, "space": false}
	if len(st.ops) != len(want) {
		t.Fatalf("observed %d counters, want %d", len(st.ops), len(want))
	}
	for _, op := range st.ops {
		if op.AuthorKeyed != want[op.Name] {
			t.Errorf("counter %s (key %q): AuthorKeyed %v, want %v", op.Name, op.Key, op.AuthorKeyed, want[op.Name])
		}
	}
}
