package desktest

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// Clock is a test's clock, moved by hand.
type Clock struct{ at atomic.Int64 }

// Now is the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.at.Load()) }

// Later moves the clock d on.
func (c *Clock) Later(d time.Duration) { c.at.Add(int64(d)) }

// ServeRules serves, as Serve does, the rule file ruleFile and the handlers
// of p (named platform) on st, wired as the daemon wires them (a strike
// counted once a message, by the handlers' MessageOf), on a clock an hour
// behind the wall clock: what is dated by it is never in the future. A
// failed action is not tried again.
func ServeRules(t testing.TB, platform string, p bot.Platform, st store.Store, ruleFile string) (chan bot.Event, *Clock) {
	t.Helper()
	out, clock, _ := ServeRulesDecided(t, platform, p, st, ruleFile)
	return out, clock
}

// ServeRulesDecided is ServeRules that also returns the moderator, by
// which the test decides the cases as a CM does.
func ServeRulesDecided(t testing.TB, platform string, p bot.Platform, st store.Store, ruleFile string) (chan bot.Event, *Clock, *handlers.Moderator) {
	t.Helper()
	return ServeRulesWith(t, platform, p, st, ruleFile, nil)
}

// ServeRulesWith is ServeRulesDecided with the handlers' options as opts
// changes them (a desk); opts may be nil.
func ServeRulesWith(t testing.TB, platform string, p bot.Platform, st store.Store, ruleFile string, opts func(*handlers.Options)) (chan bot.Event, *Clock, *handlers.Moderator) {
	t.Helper()
	clock := new(Clock)
	clock.at.Store(time.Now().Add(-time.Hour).UnixNano())
	rs, err := rules.Parse("rules.yaml", []byte(ruleFile), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := handlers.Options{Platforms: map[string]bot.Platform{platform: p}, Store: st,
		Now: clock.Now, Retry: handlers.Retry{Attempts: 1}}
	if opts != nil {
		opts(&o)
	}
	mod, err := handlers.New(o)
	if err != nil {
		t.Fatal(err)
	}
	engine := rules.NewEngine(rs, st, rules.Options{Clock: clock.Now, MessageOf: mod.MessageOf})
	return Serve(t, engine, mod), clock, mod
}

// ServeRulesOnDesk is ServeRulesWith whose cases go to poster, a
// platform's desk made on cmds (which get the moderator), as cards, and
// whose handlers log to logs.
func ServeRulesOnDesk(t testing.TB, platform string, p bot.Platform, st store.Store, ruleFile string, cmds *Commands, poster Poster, logs *testsync.Buffer) (chan bot.Event, *Clock, *handlers.Moderator) {
	t.Helper()
	out, clock, mod := ServeRulesWith(t, platform, p, st, ruleFile, func(o *handlers.Options) {
		o.Desk = Desk{Poster: poster}
		o.Logger = testsync.Logger(logs)
	})
	cmds.Mod = mod
	return out, clock, mod
}

// WantOpenCases checks that the open cases in st are want, each "RULE ×HITS",
// in order; why says what they are.
func WantOpenCases(t testing.TB, st store.Store, why string, want ...string) {
	t.Helper()
	cases, err := st.Cases(context.Background(), store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		got = append(got, fmt.Sprintf("%s ×%d", c.Rule, c.Hits()))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("open cases: %q, want %q: %s", got, want, why)
	}
}

// EditCaseRules send a link to the desk (LinkRule), delete a gift scam's
// with a case, and answer "ping" with "pong" (PingRule): the rules of the
// tests of a case that follows its message's edits, on every platform.
const EditCaseRules = `
rules:
` + LinkRule + `  - name: scam
    category: spam
    when: text contains "gift"
    do: [delete, 'forward("gift scam")']
` + PingRule

// LinkRule, an entry of a rule file's rules, sends a message with a link to
// the desk.
const LinkRule = `  - name: links
    category: spam
    when: len(links) > 0
    do: ['forward("a link to look at")']
`

// PingRule, an entry of a rule file's rules, answers "ping" with "pong": a
// test's way to know that what came before it is handled.
const PingRule = `  - name: ping
    when: text == "ping"
    do: ['reply("pong")']
`
