package replay

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// The decisions file's lines are written by hand as an Encoder with
// SetEscapeHTML(false) writes a Decision, byte for byte, whatever the
// verdict holds; a time encoding/json writes otherwise goes to the Encoder.
func TestDecisionLineMatchesEncoder(t *testing.T) {
	at := time.Date(2026, 11, 20, 22, 10, 0, 123456789, time.UTC)
	paris := time.FixedZone("CET", 3600)
	full := bot.Verdict{EventID: "m-1", Platform: "discord", At: at, Matches: []bot.Match{
		{Rule: "insult", Category: "abuse", Reason: `has_any(content, lists.insults_fr): "con"`,
			Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute},
				{Kind: bot.ActWarn, Text: "Restons courtois <b> & \"calmes\" / Please keep it civil"}}},
		{Rule: "caps", Category: "noise", Shadow: true, Actions: []bot.Action{}, Reason: "caps >= 0.7"},
		{Rule: "night", Actions: []bot.Action{{Kind: bot.ActBan, Duration: 7 * 24 * time.Hour}}},
	}, Counters: map[string]int64{"msgs": 3, "copies": 0, "near0": 1, "same_text": 2, "joins": -1}}
	cases := []struct {
		name       string
		id, label  string
		v          bot.Verdict
		faq        string
		viaEncoder bool
	}{
		{name: "plain", id: "m-1", label: "ok", v: bot.Verdict{EventID: "m-1", Platform: "discord", At: at, Matches: []bot.Match{}}, faq: "silent"},
		{name: "no label, no faq", id: "m-1", v: bot.Verdict{EventID: "m-1", Platform: "discord", At: at, Matches: []bot.Match{}}},
		{name: "nil matches", id: "m-1", v: bot.Verdict{EventID: "m-1", Platform: "x", At: at}},
		{name: "full", id: "m-1", label: "abuse", v: full, faq: "forward"},
		{name: "duplicate withheld", id: "m-2", v: bot.Verdict{EventID: "m-2", Platform: "telegram", At: at.In(paris),
			Duplicate: true, Matches: []bot.Match{}, Withheld: "paused <by> the desk"}},
		{name: "escapes", id: "m-\"3\"\\\u2028\x01", label: "sp<a>m & \xff co", faq: "answer\u2029",
			v: bot.Verdict{EventID: "é\xe9", Platform: "face\tbook", At: at, Matches: []bot.Match{
				{Rule: "r\u00e9gle", Category: "<cat>", Reason: "\x00\x1f\u2028", Actions: []bot.Action{{Kind: bot.ActReply, Text: "l'\u00e9t\u00e9 \U0001F600 \xed\xa0\x80"}}},
			}, Counters: map[string]int64{"a<b": 1, "é": 2}}},
		{name: "year past 9999", id: "m-4", v: bot.Verdict{EventID: "m-4", Platform: "x", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Matches: []bot.Match{}}, viaEncoder: true},
		{name: "offset of a day", id: "m-5", v: bot.Verdict{EventID: "m-5", Platform: "x", At: at.In(time.FixedZone("far", 25*3600)), Matches: []bot.Match{}}, viaEncoder: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			wantErr := enc.Encode(Decision{ID: c.id, Label: c.label, Verdict: c.v, FAQ: c.faq})

			var got bytes.Buffer
			dw := newDecisionWriter(&got)
			// twice: the second line reads the counters' names kept from the first
			for range 2 {
				err := dw.write(c.id, c.label, &c.v, c.faq)
				if (err != nil) != (wantErr != nil) {
					t.Fatalf("error %v, the Encoder's %v", err, wantErr)
				}
			}
			if err := dw.w.Flush(); err != nil {
				t.Fatal(err)
			}
			if wantErr != nil {
				return
			}
			if line := want.String(); got.String() != line+line {
				t.Errorf("wrote\n%s\nthe Encoder writes\n%s", got.String(), line+line)
			}
			if _, ok := appendDecision(nil, c.id, c.label, &c.v, c.faq, &dw.names); ok == c.viaEncoder {
				t.Errorf("written by hand: %v, want %v", ok, !c.viaEncoder)
			}
		})
	}
}
