package bot

import (
	"encoding/json"
	"math"
	"math/rand/v2"
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
	// Appended after what dst holds, merged among themselves only.
	before := []Action{{Kind: ActDelete}, {Kind: ActTimeout, Duration: 24 * time.Hour}}
	got = nil
	for _, a := range v.AppendActions(before[:2:2]) {
		got = append(got, a.String())
	}
	want = "delete timeout(1d) " + want
	if strings.Join(got, " ") != want {
		t.Errorf("appended = %s\nwant       %s", strings.Join(got, " "), want)
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

// AppendDuration writes what Duration.String, trimmed, writes: every whole
// second up to two days and past, days, and what it hands to Duration.String
// (fractions, negative durations).
func TestAppendDuration(t *testing.T) {
	ds := []time.Duration{0, -time.Second, -90 * time.Minute, time.Nanosecond, 1500 * time.Millisecond,
		time.Hour + time.Millisecond, 28 * 24 * time.Hour, 366 * 24 * time.Hour, 25 * time.Hour,
		math.MaxInt64, math.MaxInt64 / time.Second * time.Second, math.MinInt64}
	for s := range 3*86400 + 1 {
		ds = append(ds, time.Duration(s)*time.Second)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		ds = append(ds, time.Duration(rng.Int64N(1<<40))*time.Second, time.Duration(rng.Int64()))
	}
	for _, d := range ds {
		want := formatDuration(d)
		if got := string(AppendDuration([]byte("x"), d)); got != "x"+want {
			t.Fatalf("AppendDuration(%d) = %q, want %q", int64(d), got, "x"+want)
		}
		if got := FormatDuration(d); got != want {
			t.Fatalf("FormatDuration(%d) = %q, want %q", int64(d), got, want)
		}
	}
}

// An action's duration is written as a CM writes it, and read back from that
// and from the nanoseconds older versions stored (journal entries, cases).
func TestActionDurationJSON(t *testing.T) {
	for _, tc := range []struct {
		a    Action
		want string
	}{
		{Action{Kind: ActTimeout, Duration: time.Hour}, `{"kind":"timeout","duration":"1h"}`},
		{Action{Kind: ActBan, Duration: 7 * 24 * time.Hour}, `{"kind":"ban","duration":"7d"}`},
		{Action{Kind: ActTimeout, Duration: 90 * time.Minute}, `{"kind":"timeout","duration":"1h30m"}`},
		{Action{Kind: ActBan, Duration: 36 * time.Hour}, `{"kind":"ban","duration":"36h"}`},
		{Action{Kind: ActWarn, Text: "<calme> & merci"}, `{"kind":"warn","text":"\u003ccalme\u003e \u0026 merci"}`},
		{Action{Kind: ActDelete}, `{"kind":"delete"}`},
	} {
		b, err := json.Marshal(tc.a)
		if err != nil || string(b) != tc.want {
			t.Errorf("%v: %s %v, want %s", tc.a, b, err, tc.want)
			continue
		}
		var back Action
		if err := json.Unmarshal(b, &back); err != nil || back != tc.a {
			t.Errorf("%s read back as %+v %v", b, back, err)
		}
	}
	var old Action
	if err := json.Unmarshal([]byte(`{"kind":"timeout","duration":3600000000000}`), &old); err != nil || old.Duration != time.Hour {
		t.Errorf("nanoseconds: %+v %v", old, err)
	}
	for _, bad := range []string{`{"kind":"timeout","duration":"soon"}`, `{"kind":"timeout","duration":true}`, `{"kind":"ban","duration":"-3d"}`} {
		if err := json.Unmarshal([]byte(bad), &old); err == nil {
			t.Errorf("%s: accepted as %+v", bad, old)
		}
	}
}

// Actions written directly (plain text) and through an encoder (text to
// escape) come out as the encoder writes them, with HTML escaped or not as
// the caller's encoder says.
func TestActionJSONAsEncoder(t *testing.T) {
	for _, text := range []string{"", "slow down", "Merci de ralentir, {{author.name}} : été", "<b> & \"quoted\"",
		"back\\slash", "line\nbreak\ttab\x01", "sep\u2028par\u2029", "bad \xff utf-8", "émoji 🚀"} {
		a := Action{Kind: ActWarn, Text: text, Duration: 90 * time.Minute}
		for _, html := range []bool{true, false} {
			var got, want strings.Builder
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(html)
			if err := enc.Encode([]Action{a}); err != nil {
				t.Fatal(err)
			}
			enc = json.NewEncoder(&want)
			enc.SetEscapeHTML(html)
			if err := enc.Encode([]actionJSON{{Kind: a.Kind, Text: a.Text, Duration: json.RawMessage(`"1h30m"`)}}); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("%q (escape HTML %v): %s, want %s", text, html, got.String(), want.String())
			}
		}
	}
}

// BenchmarkAppendDuration compares the answer's and the verdict line's way of
// writing a timeout's duration with Duration.String's, trimmed.
func BenchmarkAppendDuration(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.Run("String", func(b *testing.B) {
		for b.Loop() {
			buf = append(buf[:0], formatDuration(time.Hour)...)
		}
	})
	b.Run("AppendDuration", func(b *testing.B) {
		for b.Loop() {
			buf = AppendDuration(buf[:0], time.Hour)
		}
	})
}
