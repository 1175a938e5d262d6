package daemon

import "github.com/vigie-bot/vigie/rules"

// SetLoadRules has reloads read the rule file with f until the test ends.
func SetLoadRules(t interface{ Cleanup(func()) }, f func(string) (*rules.Ruleset, string, error)) {
	old := loadRules
	loadRules = func(p string, _ rules.LoadOptions) (*rules.Ruleset, string, error) { return f(p) }
	t.Cleanup(func() { loadRules = old })
}
