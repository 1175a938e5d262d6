package rules_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// comments: {delete: hide} makes a rule's delete hide page comments, and the edits
// of page comments, which a CM can undo from the desk, and leaves chat messages
// and their edits deleted.
func TestCommentsDeleteAsHide(t *testing.T) {
	const file = `
comments: {delete: %s}
lists:
  insults: [connard]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [delete, strike]
`
	tests := []struct {
		setting  string
		platform string
		kind     bot.Kind
		// inConversation is a direct message's edit: its channel is the
		// conversation, named by the sender (bot/meta's InConversation).
		inConversation bool
		want           string
	}{
		{"hide", "facebook", bot.KindComment, false, "insult: hide strike"},
		{"hide", "discord", bot.KindMessage, false, "insult: delete strike"},
		{"hide", "discord", bot.KindEdit, false, "insult: delete strike"},
		{"hide", "telegram", bot.KindEdit, false, "insult: delete strike"},
		// an edited comment is the comment: deleting it would lose what hiding keeps
		{"hide", "facebook", bot.KindEdit, false, "insult: hide strike"},
		{"hide", "instagram", bot.KindEdit, false, "insult: hide strike"},
		// an edited Messenger or Instagram message is no comment: it cannot be hidden
		{"hide", "facebook", bot.KindEdit, true, "insult: delete strike"},
		{"hide", "instagram", bot.KindEdit, true, "insult: delete strike"},
		{"delete", "facebook", bot.KindComment, false, "insult: delete strike"},
		{"delete", "facebook", bot.KindEdit, false, "insult: delete strike"},
	}
	for _, tt := range tests {
		name := tt.setting + "/" + tt.platform + "/" + string(tt.kind)
		if tt.inConversation {
			name += "/conversation"
		}
		t.Run(name, func(t *testing.T) {
			rs := parse(t, strings.Replace(file, "%s", tt.setting, 1))
			st := memory.New()
			defer st.Close()
			ev := msg("c1", "bob", "quel connard", paris(t, 5, 22, 0))
			ev.Platform, ev.Kind = tt.platform, tt.kind
			if tt.inConversation {
				ev.Channel = ev.Author.ID
			}
			v, err := rules.NewEngine(rs, st, rules.Options{}).Evaluate(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			got, _, _ := strings.Cut(summary(v), " | ")
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCommentsBadSetting(t *testing.T) {
	_, err := rules.Parse("test.yaml", []byte("comments: {delete: remove, hyde: true}\nrules: []\n"), rules.LoadOptions{LookupEnv: noEnv})
	want := "test.yaml:1:20: comments.delete: want hide or delete, got \"remove\"\n" +
		"test.yaml:1:28: comments: unknown key \"hyde\""
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
}
