package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/replay"
)

const waveRules = `
lists:
  insults: [idiot]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [hide]
alerts: [{name: wave, when: 'hits("abuse", "10m") >= 20', do: [alert("Vague")]}]
`

// TestReplayListsTheWaves replays a history with two waves of insults on one
// page (the second a day later), insults spread thin on another page, and a
// lull in the first wave shorter than its window: two alerts, one per wave.
func TestReplayListsTheWaves(t *testing.T) {
	rs, err := rules.Parse("wave.yaml", []byte(waveRules), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	var lines bytes.Buffer
	n := 0
	event := func(at time.Time, space, text string) {
		n++
		fmt.Fprintf(&lines, `{"id":"e%d","platform":"facebook","kind":"comment","space":%q,"author":{"id":"u%d"},"text":%q,"at":%q}`+"\n",
			n, space, n%7, text, at.Format(time.RFC3339))
	}
	// wave 1: 30 insults 20s apart, with a 6-minute lull after the 23rd
	at := t0
	for i := range 30 {
		event(at, "page-1", "idiot")
		event(at.Add(time.Second), "page-1", "bonjour")
		at = at.Add(20 * time.Second)
		if i == 22 {
			at = at.Add(6 * time.Minute)
		}
	}
	last1 := at.Add(-20 * time.Second)
	// thin insults on page-2 all night: never 20 in 10 minutes
	for i := range 40 {
		event(t0.Add(time.Duration(i)*time.Minute), "page-2", "idiot")
	}
	// wave 2, the next night
	t1 := t0.Add(24 * time.Hour)
	for i := range 20 {
		event(t1.Add(time.Duration(i)*time.Second), "page-1", "idiot")
	}
	// events must be in time order within the history, as live
	sorted := sortLines(t, lines.String())
	sum, err := replay.Run(context.Background(), rs, []replay.Input{replay.Stream("-", strings.NewReader(sorted))}, replay.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []replay.Alert{
		{Name: "wave", Platform: "facebook", Space: "page-1", From: t0, To: last1, Count: 30},
		{Name: "wave", Platform: "facebook", Space: "page-1", From: t1, To: t1.Add(19 * time.Second), Count: 20},
	}
	if fmt.Sprint(sum.Alerts) != fmt.Sprint(want) {
		t.Errorf("alerts\n got %+v\nwant %+v", sum.Alerts, want)
	}
	b, err := sum.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Alerts []map[string]any `json:"alerts"`
	}
	if err := json.Unmarshal(b, &back); err != nil || len(back.Alerts) != 2 {
		t.Fatalf("json %s", b)
	}
	for _, k := range []string{"name", "space", "from", "to", "count"} {
		if _, ok := back.Alerts[0][k]; !ok {
			t.Errorf("alert JSON lacks %q: %v", k, back.Alerts[0])
		}
	}
	var text bytes.Buffer
	if err := sum.WriteText(&text); err != nil || !strings.Contains(text.String(), "wave   facebook page-1  2026-11-20 22:00:00  2026-11-20 22:15:40    30") {
		t.Errorf("text:\n%s", text.String())
	}
}

func TestReplayWithoutAlertsHasNoAlertsKey(t *testing.T) {
	sum, err := replay.Run(context.Background(), loadRules(t), []replay.Input{replay.Stream("-", strings.NewReader(""))}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sum.JSON()
	if strings.Contains(string(b), "alerts") {
		t.Errorf("json %s", b)
	}
}

func sortLines(t *testing.T, s string) string {
	t.Helper()
	type line struct {
		at   time.Time
		text string
	}
	var ls []line
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		var ev struct {
			At time.Time `json:"at"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, line{ev.At, l})
	}
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].at.Before(ls[j-1].at); j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}
