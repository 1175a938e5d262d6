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
