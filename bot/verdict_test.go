package bot

import (
	"strings"
	"testing"
	"time"
)

func TestVerdictActionsMerge(t *testing.T) {
	v := Verdict{Matches: []Match{
		{Rule: "flood", Actions: []Action{{Kind: ActDelete}, {Kind: ActTimeout, Duration: 10 * time.Minute}, {Kind: ActWarn, Text: "slow down"}}},
		{Rule: "shadowed", Shadow: true, Actions: []Action{{Kind: ActBan}}},
		{Rule: "insult", Actions: []Action{{Kind: ActDelete}, {Kind: ActTimeout, Duration: time.Hour}, {Kind: ActWarn, Text: "be nice"}}},
		{Rule: "scam", Actions: []Action{{Kind: ActBan, Duration: 24 * time.Hour}}},
		{Rule: "raid", Actions: []Action{{Kind: ActBan}}},
	}}
	var got []string
	for _, a := range v.Actions() {
		got = append(got, a.String())
	}
	want := `delete timeout(1h) warn("slow down") warn("be nice") ban`
	if strings.Join(got, " ") != want {
		t.Errorf("actions = %s\nwant      %s", strings.Join(got, " "), want)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Minute:           "10m",
		time.Hour:                  "1h",
		90 * time.Minute:           "1h30m",
		48 * time.Hour:             "2d",
		30 * time.Second:           "30s",
		time.Hour + 30*time.Second: "1h0m30s",
		0:                          "0s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
