package rules

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules/text"
)

// nativeEvents is a mixed corpus for comparing the closures with the machine:
// the labelled data when it is there, and events made to reach every branch
// (staff, bots, joins, young accounts, links, mentions, capitals).
func nativeEvents(t *testing.T) []bot.Event {
	at := time.Date(2026, 1, 5, 22, 0, 0, 0, time.UTC)
	texts := []string{"", "salut tout le monde", "t'es un connard", "c o n n a r d", "check out my channel https://spam.example.net",
		"free nitro https://dіscord.gift/abc claim now", "GG WP", "@a @b @c @d @e venez", "🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥",
		"POURQUOI PERSONNE NE REPOND A MES QUESTIONS", "merci pour la vidéo", "join https://discord.gg/xyz and t.me/spam bit.ly/x",
		"abonnez-vous à ma chaîne svp", "call me 06 12 34 56 78 or mail me a@b.fr", "send 0.1 BTC to 1FHeNqHGSV8U9wXGHKbCgSMYqqjQ6RV9Y6",
		"visit https://steamcommunnity.com/gift now", "subscribe to my channel guys i make music videos every week"}
	var out []bot.Event
	for i, s := range texts {
		for j, a := range []bot.Author{
			{ID: "u1"},
			{ID: "u2", Staff: true},
			{ID: "u3", Bot: true},
			{ID: "u4", CreatedAt: at.Add(-time.Hour), JoinedAt: at.Add(-time.Minute)},
			{ID: "u5", CreatedAt: at.Add(-400 * 24 * time.Hour), JoinedAt: at.Add(-20 * 24 * time.Hour), Roles: []string{"member"}},
		} {
			for _, kind := range []bot.Kind{bot.KindMessage, "comment", "join"} {
				out = append(out, bot.Event{ID: fmt.Sprint(i, j, kind), Platform: "discord", Kind: kind, Space: "g",
					Channel: "c", Author: a, Text: s, At: at})
			}
		}
	}
	// what a message shows besides its text, and members' names
	young := bot.Author{ID: "u6", Name: "Discord Support", Username: "nitro_gift", CreatedAt: at.Add(-time.Hour)}
	out = append(out,
		bot.Event{ID: "fw", Platform: "telegram", Kind: bot.KindMessage, Author: young, At: at,
			Forward: &bot.Forward{From: "Crypto Signals", Text: "free nitro https://claim-nitro.sbs/gift"}},
		bot.Event{ID: "hl", Platform: "telegram", Kind: bot.KindMessage, Author: young, At: at, Text: "official discord",
			HiddenLinks: []string{"https://dіscord.gift/x"}, Files: []string{"nitro.exe"}},
		bot.Event{ID: "pr", Platform: "discord", Kind: bot.KindProfile, Author: young, At: at},
		bot.Event{ID: "pr2", Platform: "discord", Kind: bot.KindProfile, Author: bot.Author{ID: "u7", Name: "Bob"}, At: at})
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "*.jsonl"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		r := bot.NewReader(fh)
		for n := 0; n < 1500; n++ {
			ev, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil {
				out = append(out, ev)
			}
		}
		fh.Close()
	}
	return out
}

// TestNativeMatchesMachine checks that every expression compiled to closures
// answers as the machine does, with the same hits for the reasons, on the
// starter pack and the test files.
func TestNativeMatchesMachine(t *testing.T) {
	files := []string{filepath.Join("..", "rules.example.yaml")}
	good, _ := filepath.Glob(filepath.Join("testdata", "good", "*.yaml"))
	files = append(files, good...)
	events := nativeEvents(t)
	for _, file := range files {
		rs, err := loadFile(file, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			native, total := 0, 0
			for _, c := range rs.counters {
				total += 2
				if c.keyFn != nil || c.key == nil {
					native++
				}
				if c.whenFn != nil || c.when == nil {
					native++
				}
			}
			for _, r := range rs.rules {
				total++
				if r.whenFn != nil {
					native++
				}
			}
			probes, nativeProbes := 0, 0
			for _, r := range rs.rules {
				for _, pr := range r.probes {
					probes += 1
					if pr.condFn != nil && (pr.lval == nil || pr.lvalFn != nil) && (pr.rval == nil || pr.rvalFn != nil) {
						nativeProbes++
					}
				}
			}
			t.Logf("%d of %d expressions and %d of %d reason probes compiled to closures", native, total, nativeProbes, probes)
			if filepath.Base(file) == "rules.example.yaml" && native != total {
				for _, c := range rs.counters {
					if c.key != nil && c.keyFn == nil || c.when != nil && c.whenFn == nil {
						t.Errorf("counter %s runs on the machine", c.name)
					}
				}
				for _, r := range rs.rules {
					if r.whenFn == nil {
						t.Errorf("rule %s runs on the machine", r.name)
					}
				}
			}
			compareNative(t, rs, events)
		})
	}
}

func compareNative(t *testing.T, rs *Ruleset, events []bot.Event) {
	var s scratch
	s.machine.MemoryBudget = exprMemoryLimit
	counts := make([]int, len(rs.counters))
	for n, ev := range events {
		st := &s.st
		for i := range counts {
			counts[i] = (n + 3*i) % 17 // counters around every threshold
		}
		now := ev.At
		if now.IsZero() {
			now = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
		}
		content := ev.Content()
		newEnv(&s.env, &ev, content, text.Analyze(content), now, st, counts, n%2 == 0)
		for k := range n % 5 {
			st.strikes = append(st.strikes, now.Add(-time.Duration(k)*5*time.Hour))
		}
		boxed := any(s.env)
		for _, c := range rs.counters {
			if c.keyFn != nil {
				st.hits = st.hits[:0]
				got := c.keyFn(&s.env)
				gotHits := append([]hit(nil), st.hits...)
				st.hits = st.hits[:0]
				want, err := s.machine.Run(c.key, boxed)
				if err != nil || want != got || !reflect.DeepEqual(gotHits, st.hits) && len(gotHits)+len(st.hits) > 0 {
					t.Errorf("event %s: counter %s key: closure %q %v, machine %q %v (err %v)", ev.ID, c.name, got, gotHits, want, st.hits, err)
				}
				if c.keyApp != nil {
					// the key written into the event's key buffer, after another
					if app := string(c.keyApp(&s.env, []byte("before|"))); app != "before|"+got {
						t.Errorf("event %s: counter %s key appended: %q, closure %q", ev.ID, c.name, app, got)
					}
				}
			}
			if c.whenFn != nil {
				st.hits = st.hits[:0]
				got := c.whenFn(&s.env)
				gotHits := append([]hit(nil), st.hits...)
				st.hits = st.hits[:0]
				want, err := s.machine.Run(c.when, boxed)
				if err != nil || want != got || !reflect.DeepEqual(gotHits, st.hits) && len(gotHits)+len(st.hits) > 0 {
					t.Errorf("event %s: counter %s when: closure %v %v, machine %v %v (err %v)", ev.ID, c.name, got, gotHits, want, st.hits, err)
				}
			}
		}
		for _, r := range rs.rules {
			if r.whenFn == nil {
				continue
			}
			for _, pr := range r.probes {
				if pr.condFn != nil {
					got := pr.condFn(&s.env)
					want, err := s.machine.Run(pr.cond, boxed)
					if err != nil || want != got {
						t.Errorf("event %s: rule %s: probe %s: closure %v, machine %v (err %v)", ev.ID, r.name, pr.text, got, want, err)
					}
				}
				for _, side := range []struct {
					fn   func(*exprEnv) any
					prog any
				}{{pr.lvalFn, pr.lval}, {pr.rvalFn, pr.rval}} {
					if side.fn == nil {
						continue
					}
					got := side.fn(&s.env)
					want, err := s.machine.Run(side.prog.(*vm.Program), boxed)
					if err != nil || !reflect.DeepEqual(want, got) || formatValue(want) != formatValue(got) {
						t.Errorf("event %s: rule %s: probe %s: closure %#v, machine %#v (err %v)", ev.ID, r.name, pr.text, got, want, err)
					}
				}
			}
			st.hits = st.hits[:0]
			got := r.whenFn(&s.env)
			gotHits := append([]hit(nil), st.hits...)
			st.hits = st.hits[:0]
			want, err := s.machine.Run(r.when, boxed)
			if err != nil || want != got || !reflect.DeepEqual(gotHits, st.hits) && len(gotHits)+len(st.hits) > 0 {
				t.Errorf("event %s: rule %s: closure %v %v, machine %v %v (err %v)", ev.ID, r.name, got, gotHits, want, st.hits, err)
			}
		}
		st.reset()
	}
}

// TestNativeConstants checks comparisons with a constant on either side,
// which the closures read without calling a closure for the constant.
func TestNativeConstants(t *testing.T) {
	conds := []string{
		"mentions > 2", "2 < mentions", "2 >= mentions", "mentions != 0", "0 == mentions",
		"caps >= 0.5", "0.5 > caps", "caps < 1", "1 <= caps", "words >= 6", "6.5 > words",
		`kind == "comment"`, `"comment" != kind`, `"m" < kind`, `kind >= "join"`,
		`author.account_age > 0 and author.account_age < duration("7d")`, `duration("1d") >= author.member_age`,
		"counters.c > 3", "3 < counters.c", "counters.c == counters.c", "1 < 2", `"a" == "b"`,
	}
	var b strings.Builder
	b.WriteString("counters:\n  c: {key: author.id, window: 10s}\nrules:\n")
	for i, c := range conds {
		fmt.Fprintf(&b, "  - name: r%d\n    when: '%s'\n    do: [delete]\n", i, strings.ReplaceAll(c, "'", "''"))
	}
	file := filepath.Join(t.TempDir(), "constants.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := loadFile(file, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.rules {
		if r.whenFn == nil {
			t.Errorf("rule %s runs on the machine", r.name)
		}
	}
	compareNative(t, rs, nativeEvents(t))
}

// TestRunesConst: len(s) compared with a constant, counting no further than
// it, answers as a full count does, around the constant and past it, in
// characters of one to four bytes and in bytes that are no UTF-8.
func TestRunesConst(t *testing.T) {
	texts := []string{"", "a", "ab", "abc", "héé", "日本語", "🔥🔥🔥🔥", "\xff\xfe", "a\xffb", "héllo wörld 🔥!"}
	for _, op := range []string{"<", "<=", ">", ">=", "==", "!="} {
		for c := -2; c <= 16; c++ {
			f := runesConst(op, func(e *exprEnv) string { return e.Text }, c)
			for _, s := range texts {
				n := utf8.RuneCountInString(s)
				want := map[string]bool{"<": n < c, "<=": n <= c, ">": n > c, ">=": n >= c, "==": n == c, "!=": n != c}[op]
				if got := f(&exprEnv{Text: s}); got != want {
					t.Errorf("len(%q) %s %d = %t, want %t", s, op, c, got, want)
				}
			}
		}
	}
}

// TestKeyByAuthor checks which counters' keys are told to be of one author
// (store.CounterOp.ByAuthor): those with author.id as a part of the sum,
// not those of a space, nor of a text made from the id.
func TestKeyByAuthor(t *testing.T) {
	rs, err := Parse("keys.yaml", []byte(`
counters:
  msgs: {key: author.id, window: 10s}
  same: {key: 'author.id + "|" + fingerprint', window: 10m}
  late: {key: 'space + ":" + author.id', window: 10m}
  copies: {key: 'space + "|" + fingerprint', window: 10m}
  name: {key: author.name, window: 1m}
  lower: {key: lower(author.id), window: 1m}
rules: []
`), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"msgs": true, "same": true, "late": true}
	for _, c := range rs.counters {
		if c.keySum == nil && c.name != "lower" {
			t.Errorf("%s: its key is not summed", c.name)
		}
		if c.byAuthor != want[c.name] {
			t.Errorf("%s: byAuthor %v, want %v", c.name, c.byAuthor, want[c.name])
		}
	}
}
