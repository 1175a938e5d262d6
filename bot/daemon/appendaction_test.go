package daemon

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// appendAction writes what Action.String says, which the verdict log line
// used to call.
func TestAppendActionIsString(t *testing.T) {
	for _, a := range []bot.Action{
		{Kind: bot.ActDelete},
		{Kind: bot.ActTimeout, Duration: 10 * time.Minute},
		{Kind: bot.ActBan, Duration: 7 * 24 * time.Hour},
		{Kind: bot.ActWarn, Text: `no "links" here\n, é`},
		{Kind: bot.ActWarn, Text: "Restons courtois / Please keep it civil"},
		{Kind: bot.ActWarn, Text: "back\\slash"},
		{Kind: bot.ActWarn, Text: "del\x7f"},
		{Kind: bot.ActReply, Text: "line\nbreak\x00"},
	} {
		if got, want := string(appendAction([]byte("x "), a)), "x "+a.String(); got != want {
			t.Errorf("appendAction(%#v) = %q, want %q", a, got, want)
		}
	}
}
