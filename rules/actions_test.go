package rules

import (
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// TestTemplateRenders checks that renders says yes exactly to what expand
// writes: the alerts reuse an earlier message on its word.
func TestTemplateRenders(t *testing.T) {
	ev := &bot.Event{Platform: "discord", Space: "g1", Channel: "c", Author: bot.Author{ID: "u1", Name: "Bob"}}
	other := &bot.Event{Platform: "discord", Space: "g2", Channel: "c", Author: bot.Author{ID: "u1"}}
	for _, src := range []string{"plain text", "wave on {{space}}", "{{space}}{{space}}", "{{author.name}} in {{channel}} ({{rule}})", ""} {
		tm, err := parseTemplate(src)
		if err != nil {
			t.Fatal(err)
		}
		got := tm.expand(ev, "r", nil)
		if !tm.renders(got, ev, "r", nil) {
			t.Errorf("%q: renders(%q) is false for the event it was written for", src, got)
		}
		if want := tm.expand(other, "r", nil) == got; tm.renders(got, other, "r", nil) != want {
			t.Errorf("%q: renders(%q) for another event is %v, want %v", src, got, !want, want)
		}
		if tm.renders(got+"x", ev, "r", nil) || got != "" && tm.renders(got[:len(got)-1], ev, "r", nil) {
			t.Errorf("%q: renders is true for a longer or shorter text than %q", src, got)
		}
	}
}

// TestTemplateReuse checks that a message taken from the kept ones is the one
// expand writes, as spaces come and go.
func TestTemplateReuse(t *testing.T) {
	tm, err := parseTemplate("wave on {{space}} ({{rule}})")
	if err != nil {
		t.Fatal(err)
	}
	kept := make([]string, 2)
	for i, space := range []string{"a", "b", "a", "c", "a", "b", "b", "", "a"} {
		ev := &bot.Event{Space: space}
		if got, want := tm.reuse(kept, ev, "r", nil), tm.expand(ev, "r", nil); got != want {
			t.Errorf("event %d in %q: reuse %q, expand %q", i, space, got, want)
		}
		if kept[0] != tm.expand(ev, "r", nil) {
			t.Errorf("event %d in %q: the message is not kept first: %q", i, space, kept)
		}
	}
}
