package rules

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/expr-lang/expr/vm"
)

// TestNativeAlertsMatchMachine checks that every alert condition compiled to
// closures answers as the machine does, on the starter pack and on conditions
// of every shape the closures cover, over many counts.
func TestNativeAlertsMatchMachine(t *testing.T) {
	conds := []string{
		`hits("insult", "10m") + hits("abuse", "10m") >= 15`,
		`hits("abuse", "1h") >= 10 and hits("abuse", "1h") > 3 * baseline("abuse")`,
		`counters.joins >= 5 or not (hits("abuse", "10m") < 3)`,
		`hits("abuse", "10m") / 2 > baseline("abuse") - 1.5 and platform == "discord"`,
		`hits("abuse", "10m") == 4 || counters.joins != 2 && after_hours`,
		`-hits("abuse", "10m") <= -2 and kind != "join" and space == "g" and channel != "x"`,
		`hits("abuse", "10m") * 2.5 == 5 or baseline("abuse") == 2 or hits("insult", "10m") - 1 == baseline("insult")`,
		`after_hours == true and hits("abuse", "10m") > 0`,
		`hits("abuse", "10m") in [1, 2, 3]`, // left to the machine
	}
	var b strings.Builder
	b.WriteString(`counters:
  joins: {key: space, window: 1m, when: 'kind == "join"'}
rules:
  - {name: insult, category: abuse, when: 'text == "x"', do: [hide]}
alerts:
`)
	for i, c := range conds {
		b.WriteString("  - {name: a" + string(rune('a'+i)) + ", when: '" + c + "', do: ['alert(\"x\")']}\n")
	}
	synthetic, err := parse("alerts.yaml", []byte(b.String()), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	example, err := loadFile(filepath.Join("..", "rules.example.yaml"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, rs := range []*Ruleset{synthetic, example} {
		set := rs.alerts
		if set == nil {
			t.Fatalf("%s: no alerts", rs.File)
		}
		native := 0
		for _, a := range set.alerts {
			if a.native != nil {
				native++
			}
		}
		if rs == synthetic && native != len(conds)-1 {
			t.Errorf("%d of %d conditions compiled, want all but the last", native, len(conds))
		}
		if rs == example && native != len(set.alerts) {
			t.Errorf("starter pack: %d of %d alerts compiled", native, len(set.alerts))
		}
		var machine vm.VM
		for range 5000 {
			env := alertEnv{Platform: []string{"discord", "youtube"}[rnd.IntN(2)], Space: []string{"g", "h"}[rnd.IntN(2)],
				Channel: []string{"c", "x"}[rnd.IntN(2)], Kind: []string{"message", "join"}[rnd.IntN(2)], AfterHours: rnd.IntN(2) == 0,
				Counters: make([]int, rnd.IntN(len(rs.counters)+1)), Hits: make([]int, len(set.hits)),
				Baseline: make([]float64, len(set.baselines))}
			for i := range env.Counters {
				env.Counters[i] = rnd.IntN(8)
			}
			for i := range env.Hits {
				env.Hits[i] = rnd.IntN(30) - 2
			}
			for i := range env.Baseline {
				env.Baseline[i] = float64(rnd.IntN(10)) / 2
			}
			for _, a := range set.alerts {
				if !a.native.usable(&env) {
					continue
				}
				res, err := machine.Run(a.when, env)
				want := err == nil && res == true
				if got := a.native.when(&env); got != want {
					t.Fatalf("%s: alert %s on %+v: closures say %t, the machine %t (%v)", rs.File, a.name, env, got, want, err)
				}
			}
		}
	}
}
