package daemon

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// encodingJSON is what writeJSON wrote before appendVerdict.
func encodingJSON(t testing.TB, v *eventAnswer) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVerdictJSONMatchesEncodingJSON(t *testing.T) {
	// A field added to these types needs appendVerdict to write it (Again
	// is not part of the JSON: json:"-").
	for typ, fields := range map[reflect.Type][]string{
		reflect.TypeFor[bot.Verdict](): {"EventID", "Platform", "At", "Duplicate", "Again", "Matches", "Counters", "Withheld"},
		reflect.TypeFor[bot.Match]():   {"Rule", "Category", "Actions", "Shadow", "Reason"},
		reflect.TypeFor[bot.Action]():  {"Kind", "Text", "Duration"},
		reflect.TypeFor[eventAnswer](): {"Verdict", "FAQ"},
		reflect.TypeFor[faqAnswer]():   {"Decision", "Answer", "Language", "Text", "Private"},
	} {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, fields) {
			t.Errorf("%s has fields %v; appendVerdict writes %v", typ, got, fields)
		}
	}
	paris := time.FixedZone("CET", 3600)
	odd := time.FixedZone("LMT", 561)
	at := time.Date(2026, 11, 20, 22, 10, 0, 123456789, time.UTC)
	full := bot.Verdict{
		EventID: "m-1042", Platform: "discord", At: at.In(paris), Duplicate: true,
		Matches: []bot.Match{
			{Rule: "scam", Category: "spam", Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: time.Hour},
				{Kind: bot.ActWarn, Text: "Pas de <pub> & \"spam\" ici, {{author.name}} \u2028 \\ \t\n\r\b\f\x01\x7f é 🔥"}, {Kind: bot.ActForward, Text: "scam"}},
				Shadow: true, Reason: "text has \"nitro\" and a link to dlscord.gift"},
			{Rule: "caps", Actions: nil, Reason: ""},
			{Rule: "tag", Actions: []bot.Action{}, Reason: "invalid \xff\xfe utf-8 \xe2\x80"},
		},
		Counters: map[string]int64{"msgs": 6, "links": 0, "near3": -1, "a\"b": 1 << 40, "é": 2},
		Withheld: "events posted over HTTP do not act on discord",
	}
	entry, reply := "hours", "Ouvert du lundi au vendredi, 9h-19h, <Bob> & \"co\" \u2028"
	tests := map[string]eventAnswer{
		"empty":             {},
		"nothing matched":   {Verdict: bot.Verdict{EventID: "e1", Platform: "shop", At: at, Matches: []bot.Match{}}},
		"everything":        {Verdict: full, FAQ: &faqAnswer{Decision: "answer", Answer: &entry, Language: "fr", Text: &reply, Private: true}},
		"faq forwarded":     {Verdict: bot.Verdict{EventID: "e4", At: at, Matches: []bot.Match{}}, FAQ: &faqAnswer{Decision: "forward", Language: "en"}},
		"faq, year 10000":   {Verdict: bot.Verdict{EventID: "e5", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, FAQ: &faqAnswer{Decision: "suggest", Text: &reply}},
		"odd offset":        {Verdict: bot.Verdict{EventID: "e2", At: at.In(odd)}},
		"year 10000":        {Verdict: bot.Verdict{EventID: "e3", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		"local time, no ns": {Verdict: bot.Verdict{At: time.Date(2026, 1, 2, 3, 4, 5, 0, paris)}},
	}
	// The counters' names kept from answer to answer (the daemon's) write
	// the same: the same names, others as many, fewer, more, in turn.
	var names bot.CounterNames
	counters := []map[string]int64{
		{"msgs": 6, "links": 0, "near3": -1, "a\"b": 1 << 40, "é": 2},
		{"msgs": 1, "links": 2, "near3": 3, "a\"b": 4, "é": 5},
		{"msgs": 1, "links": 2, "near3": 3, "a\"c": 4, "é": 5},
		{"msgs": 1, "links": 2},
		{"msgs": 1, "links": 2, "near0": 0, "near1": 1, "near2": 2, "near3": 3, "copies": 4, "same_text": 5},
		nil,
		{"msgs": 7, "links": 8},
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			for _, c := range append(counters, v.Counters) {
				v.Counters = c
				// A time encoding/json refuses is answered null.
				want := []byte("null\n")
				if _, err := json.Marshal(&v); err == nil {
					want = encodingJSON(t, &v)
				}
				if got := appendVerdict(nil, &v, nil); !bytes.Equal(got, want) {
					t.Errorf("got  %s\nwant %s", got, want)
				}
				if got := appendVerdict(nil, &v, &names); !bytes.Equal(got, want) {
					t.Errorf("with the names before, got  %s\nwant %s", got, want)
				}
			}
		})
	}
}

func FuzzVerdictJSON(f *testing.F) {
	f.Add("m-1", "discord", "flood", "Merci de ralentir, {{author.name}}", "msgs", int64(6), int64(600e9), true)
	f.Add("<&>", "\u2028\u2029", "\x00\x1f\"\\", "\xff", "", int64(-1), int64(0), false)
	var names bot.CounterNames
	f.Fuzz(func(t *testing.T, id, platform, rule, text, counter string, n, d int64, shadow bool) {
		v := eventAnswer{Verdict: bot.Verdict{
			EventID: id, Platform: platform, At: time.Unix(0, n).UTC(),
			Matches:  []bot.Match{{Rule: rule, Category: text, Actions: []bot.Action{{Kind: bot.ActionKind(rule), Text: text, Duration: time.Duration(d)}}, Shadow: shadow, Reason: text}},
			Counters: map[string]int64{counter: n, rule: d},
			Withheld: text,
		}}
		if shadow {
			v.FAQ = &faqAnswer{Decision: rule, Answer: &counter, Language: platform, Text: &text, Private: n%2 == 0}
		}
		want := encodingJSON(t, &v)
		if got := appendVerdict(nil, &v, nil); !bytes.Equal(got, want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		// names: the last input's counters, or those of the seeds
		if got := appendVerdict(nil, &v, &names); !bytes.Equal(got, want) {
			t.Errorf("with the names before, got  %s\nwant %s", got, want)
		}
	})
}

// BenchmarkVerdictJSON compares appendVerdict with encoding/json on a verdict
// like the starter pack's for an insult.
func BenchmarkVerdictJSON(b *testing.B) {
	v := eventAnswer{Verdict: bot.Verdict{
		EventID: "l-1-42", Platform: "discord", At: time.Date(2026, 11, 20, 22, 10, 0, 123e6, time.UTC),
		Matches: []bot.Match{
			{Rule: "insult", Category: "abuse", Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActStrike},
				{Kind: bot.ActWarn, Text: "Restons courtois / Please keep it civil"}}, Reason: `text has "connard" (insults)`},
			{Rule: "profanity", Category: "profanity", Actions: []bot.Action{{Kind: bot.ActTag, Text: "profanity"}}, Reason: `text has "connard" (profanity)`},
		},
		Counters: map[string]int64{"msgs": 2, "same_text": 1, "near0": 1, "near1": 1, "near2": 1, "near3": 1, "copies": 3, "joins": 0},
	}}
	b.Run("encoding-json", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(&v)
		}
	})
	b.Run("appendVerdict", func(b *testing.B) {
		for b.Loop() {
			appendVerdict(make([]byte, 0, 512), &v, nil)
		}
	})
	b.Run("appendVerdict-names", func(b *testing.B) {
		var names bot.CounterNames
		for b.Loop() {
			appendVerdict(make([]byte, 0, 512), &v, &names)
		}
	})
}
