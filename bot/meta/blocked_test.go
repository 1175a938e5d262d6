package meta_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// Meta answers a block with a map of the ids asked for to whether each was
// blocked: {"<id>": false} is a block that did not happen, which vigie took
// for one that did, so that the audit, the desk and the mod-log said banned.
func TestBanNotDoneByMetaIsAFailure(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		ev     bot.Event
		want   string // in the error; "" for none
	}{
		{"blocked", `{"6021345987654321":true}`, fbComment, ""},
		{"not blocked", `{"6021345987654321":false}`, fbComment, "Meta did not block 6021345987654321"},
		{"a Messenger sender not blocked", `{"7654321098765432":false}`, fbDM, "Meta did not block 7654321098765432"},
		{"another shape, taken as Meta's success", `{"success":true}`, fbComment, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.graph.failNext("POST", "/"+pageID+"/blocked", 200, tt.answer, nil)
			err := h.c.Facebook().Ban(context.Background(), tt.ev, 0)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("ban = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("ban = %v, want an error saying %q", err, tt.want)
			case tt.want != "" && bot.Retryable(err):
				t.Errorf("ban = %v: retryable, want a failure for the desk", err)
			}
		})
	}
}

// A commenter Meta does not name (a webhook without from) has an author id of
// vigie's own, "unnamed:<comment id>": no one Meta could block. The ban and
// its undoing are refused before calling Meta, saying why; Meta would answer
// (#100) Invalid parameter.
func TestBanOfAnUnnamedCommenterIsRefused(t *testing.T) {
	ev := fbComment
	ev.Author = bot.Author{ID: "unnamed:" + ev.ID}
	h := newHarness(t, nil)
	for name, do := range map[string]func() error{
		"ban":   func() error { return h.c.Facebook().Ban(context.Background(), ev, 0) },
		"unban": func() error { return h.c.Facebook().Unban(context.Background(), ev) },
	} {
		err := do()
		if err == nil || !strings.Contains(err.Error(), "Meta did not name the author") {
			t.Errorf("%s = %v, want an error saying Meta did not name the author", name, err)
		}
		if bot.Retryable(err) {
			t.Errorf("%s = %v: retryable, want a failure for the desk", name, err)
		}
	}
	for _, c := range h.graph.Calls() {
		if strings.HasSuffix(c.Path, "/blocked") {
			t.Errorf("Meta was asked to block no one it knows: %s %s %v", c.Method, c.Path, c.Params)
		}
	}
}
