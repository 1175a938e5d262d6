package handlers

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// Commands answers the CMs' desk commands (/status, /pause, /queue, /stats, /rules,
// /reload) and decisions, whatever desk they come from. Its answers are plain text,
// short enough for a phone.
type Commands struct {
	mod   *Moderator
	store store.Store
	o     CommandsOptions
}

// CommandsOptions are what the commands read from the running vigie.
type CommandsOptions struct {
	Version string
	Started time.Time
	// Rules returns the rules running now.
	Rules func() *rules.Ruleset
	// Reload reads the rule file again and says what happened; an error says why
	// the file was refused.
	Reload func(by string) (string, error)
	// Status adds lines to /status: platforms, store, events seen.
	Status func(ctx context.Context) []string
	// Report, when set, writes the report of the last period with its chart:
	// of one community, or of everything when community is "".
	Report func(ctx context.Context, period time.Duration, community string) (string, []byte, error)
	// FAQ, when set, says what the FAQ did since a time, for /stats.
	FAQ func(since time.Time) string
}

// NewCommands returns the commands acting through m and its store.
func NewCommands(m *Moderator, o CommandsOptions) *Commands {
	if o.Started.IsZero() {
		o.Started = m.now()
	}
	return &Commands{mod: m, store: m.store, o: o}
}

// Decide records and carries out a CM's decision; see Moderator.Decide.
func (c *Commands) Decide(ctx context.Context, caseID, outcome, by string) (store.Case, error) {
	return c.mod.Decide(ctx, caseID, outcome, by)
}

// DecideNoted records and carries out a CM's decision, and says what the
// cards add to it; see Moderator.DecideNoted.
func (c *Commands) DecideNoted(ctx context.Context, caseID, outcome, by string) (store.Case, string, error) {
	return c.mod.DecideNoted(ctx, caseID, outcome, by)
}

// MayDecide says whether by may decide the case; see Moderator.MayDecide.
func (c *Commands) MayDecide(ctx context.Context, caseID, by string) error {
	return c.mod.MayDecide(ctx, caseID, by)
}

// AddCard records where a desk posted a case's card; see Moderator.AddCard.
func (c *Commands) AddCard(ctx context.Context, caseID string, ref bot.CardRef) error {
	return c.mod.AddCard(ctx, caseID, ref)
}

// Queue returns the open cases, oldest first: for a CM whose rights are some
// communities' (rules.Ruleset.ScopeOf), only those communities' cases.
// OutcomesFor lists what a CM may decide on a case of ev: see
// Moderator.OutcomesFor. The desks offer those buttons only.
func (c *Commands) OutcomesFor(ev bot.Event) []bot.ActionKind { return c.mod.OutcomesFor(ev) }

func (c *Commands) Queue(ctx context.Context, by string) ([]store.Case, error) {
	open, err := c.store.Cases(ctx, store.CaseOpen)
	if err != nil {
		return nil, err
	}
	if scope := c.scopeOf(by); scope != nil {
		open = slices.DeleteFunc(open, func(k store.Case) bool { return !slices.Contains(scope, k.Community) })
	}
	return open, nil
}

// scopeOf is the communities by's rights are kept to, nil for everywhere.
func (c *Commands) scopeOf(by string) []string {
	return c.mod.communities.Load().ScopeOf(by)
}

// fileWide is the answer to a CM whose rights are some communities' and who
// gives a command that acts on every community (/pause, /resume, /mode with
// an argument); "" when by may give it. The refusal is logged for the audit.
func (c *Commands) fileWide(command, by string) string {
	scope := c.scopeOf(by)
	if scope == nil {
		return ""
	}
	c.mod.log.Info("desk command refused: file-wide", "audit", true, "command", command, "by", by, "communities", scope)
	return fmt.Sprintf("Sorry, /%s acts on every community: your rights are %s. Ask a CM of the file's desk.",
		command, communitiesWords(scope))
}

func communitiesWords(scope []string) string {
	if len(scope) == 1 {
		return "community " + scope[0] + "'s"
	}
	return "communities " + strings.Join(scope, ", ") + "'s"
}

// Status says what vigie is doing: mode, uptime, rules, the last hour, open cases.
// A CM whose rights are some communities' sees only their figures and cases,
// and not the process's lines (platforms, events seen), which count every
// community.
func (c *Commands) Status(ctx context.Context, by string) (string, error) {
	now := c.mod.now()
	scope := c.scopeOf(by)
	var b strings.Builder
	mode := "enforcing"
	if paused, until := c.mod.Paused(); paused {
		mode = "PAUSED (only flagging and forwarding) until /resume"
		if !until.IsZero() {
			mode = "PAUSED (only flagging and forwarding) until " + until.Format("Mon 15:04 MST")
		}
	}
	fmt.Fprintf(&b, "vigie %s: %s, up %s.\n", cmp.Or(c.o.Version, "dev"), mode, bot.FormatDuration(now.Sub(c.o.Started).Truncate(time.Minute)))
	if s := c.mod.shift; s != nil {
		fmt.Fprintf(&b, "Mode: %s.\n", s.Describe(now))
	}
	if c.o.Rules != nil {
		rs := c.o.Rules()
		shadow := 0
		for _, r := range rs.Rules {
			if r.Mode == rules.ModeShadow {
				shadow++
			}
		}
		fmt.Fprintf(&b, "Rules: %s, %d rules (%d in shadow mode).\n", rs.File, len(rs.Rules), shadow)
	}
	if c.o.Status != nil && scope == nil {
		for _, l := range c.o.Status(ctx) {
			b.WriteString(l + "\n")
		}
	}
	if scope != nil {
		fmt.Fprintf(&b, "Figures of %s only.\n", strings.TrimSuffix(communitiesWords(scope), "'s"))
	}
	entries, err := c.store.Audit(ctx, now.Add(-time.Hour))
	if err != nil {
		return "", fmt.Errorf("status: %w", err)
	}
	t := tally(c.inScope(entries, scope))
	fmt.Fprintf(&b, "Last hour: %d flagged, %s.\n", t.flagged, plural(t.actions, "action"))
	open, err := c.Queue(ctx, by)
	if err != nil {
		return "", fmt.Errorf("status: %w", err)
	}
	fmt.Fprintf(&b, "Open cases: %d.", len(open))
	return b.String(), nil
}

// Pause stops platform actions for d (0: until Resume).
func (c *Commands) Pause(ctx context.Context, d time.Duration, by string) (string, error) {
	if no := c.fileWide("pause", by); no != "" {
		return no, nil
	}
	if d < 0 {
		return "", fmt.Errorf("pause: negative duration %s", d)
	}
	var until time.Time
	if d > 0 {
		until = c.mod.now().Add(d)
	}
	c.mod.share(ctx, settingPause, func() { c.mod.Pause(until) }, c.mod.pauseValue)
	c.mod.log.Info("paused", "by", by, "for", d)
	if d == 0 {
		return "Paused until /resume: vigie only flags and forwards cases.", nil
	}
	return fmt.Sprintf("Paused for %s (until %s): vigie only flags and forwards cases.",
		bot.FormatDuration(d), until.Format("Mon 15:04 MST")), nil
}

// Resume ends a pause.
func (c *Commands) Resume(ctx context.Context, by string) (string, error) {
	if no := c.fileWide("resume", by); no != "" {
		return no, nil
	}
	paused, _ := c.mod.Paused()
	c.mod.share(ctx, settingPause, c.mod.Resume, c.mod.pauseValue)
	c.mod.log.Info("resumed", "by", by)
	if !paused {
		return "vigie was not paused: the rules are enforced.", nil
	}
	return "Resumed: the rules are enforced again.", nil
}

// Stats counts the hits of the last period by rule, category and platform.
// A CM whose rights are some communities' counts only theirs (and not the
// FAQ's line, which counts every community).
func (c *Commands) Stats(ctx context.Context, period time.Duration, by string) (string, error) {
	if period <= 0 {
		period = 24 * time.Hour
	}
	entries, err := c.store.Audit(ctx, c.mod.now().Add(-period))
	if err != nil {
		return "", fmt.Errorf("stats: %w", err)
	}
	scope := c.scopeOf(by)
	t := tally(c.inScope(entries, scope))
	var b strings.Builder
	if scope != nil {
		fmt.Fprintf(&b, "Figures of %s only.\n", strings.TrimSuffix(communitiesWords(scope), "'s"))
	}
	fmt.Fprintf(&b, "Last %s: %d flagged, %s.", bot.FormatDuration(period), t.flagged, plural(t.actions, "action"))
	for _, part := range []struct {
		title  string
		counts map[string]int
	}{{"By rule", t.rules}, {"By category", t.categories}, {"By platform", t.platforms}} {
		if len(part.counts) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s:", part.title)
		for _, k := range byCount(part.counts) {
			fmt.Fprintf(&b, "\n  %s %d", k, part.counts[k])
		}
	}
	if c.o.FAQ != nil && scope == nil {
		if s := c.o.FAQ(c.mod.now().Add(-period)); s != "" {
			b.WriteString("\n" + s)
		}
	}
	return b.String(), nil
}

// inScope keeps the audit entries of the communities in scope; all of them
// when scope is nil (a CM of the file's desk).
func (c *Commands) inScope(entries []store.AuditEntry, scope []string) []store.AuditEntry {
	if scope == nil {
		return entries
	}
	rs := c.mod.communities.Load()
	return slices.DeleteFunc(entries, func(e store.AuditEntry) bool {
		k := communityOf(rs, e.Event)
		return k == nil || !slices.Contains(scope, k.Name)
	})
}

// Rules lists the rules with their mode and today's hits, in the rule file's
// timezone. A CM whose rights are some communities' sees their hits only, and
// which rules are off there.
func (c *Commands) Rules(ctx context.Context, by string) (string, error) {
	if c.o.Rules == nil {
		return "", fmt.Errorf("rules: not available")
	}
	rs := c.o.Rules()
	loc := rs.Timezone
	if loc == nil {
		loc = time.UTC
	}
	now := c.mod.now().In(loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	entries, err := c.store.Audit(ctx, midnight)
	if err != nil {
		return "", fmt.Errorf("rules: %w", err)
	}
	scope := c.scopeOf(by)
	hits := tally(c.inScope(entries, scope)).rules
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d rules (hits today", rs.File, len(rs.Rules))
	if scope != nil {
		fmt.Fprintf(&b, " in %s", communitiesWords(scope))
	}
	b.WriteString(")")
	for _, r := range rs.Rules {
		fmt.Fprintf(&b, "\n%s %s", r.Name, cmp.Or(string(r.Mode), string(rules.ModeEnforce)))
		if r.Hours != "" && r.Hours != rules.HoursAlways {
			fmt.Fprintf(&b, ", %s hours", r.Hours)
		}
		if off := offIn(rs, scope, r.Name); len(off) > 0 {
			fmt.Fprintf(&b, ", off in %s", strings.Join(off, ", "))
		}
		fmt.Fprintf(&b, ": %d", hits[r.Name])
	}
	return b.String(), nil
}

// offIn names the communities of scope where the rule is off.
func offIn(rs *rules.Ruleset, scope []string, rule string) []string {
	var off []string
	for _, name := range scope {
		if cm := rs.Community(name); cm != nil && slices.Contains(cm.Off, rule) {
			off = append(off, name)
		}
	}
	return off
}

// Reload reads the rule file again. Every CM may: it applies what the file
// already says, and a broken file is refused with the running rules kept.
func (c *Commands) Reload(_ context.Context, by string) (string, error) {
	if c.o.Reload == nil {
		return "", fmt.Errorf("reload: not available")
	}
	return c.o.Reload(by)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

type counts struct {
	flagged, actions             int
	rules, categories, platforms map[string]int
}

func tally(entries []store.AuditEntry) counts {
	t := counts{rules: map[string]int{}, categories: map[string]int{}, platforms: map[string]int{}}
	for _, e := range entries {
		if !e.Verdict.Flagged() {
			continue
		}
		t.flagged++
		t.platforms[cmp.Or(e.Event.Platform, "?")]++
		if e.Mode != "paused" {
			t.actions += len(e.Verdict.Actions())
		}
		for _, m := range e.Verdict.Matches {
			t.rules[m.Rule]++
		}
		for _, cat := range e.Verdict.Categories() {
			t.categories[cat]++
		}
	}
	return t
}

// byCount sorts the keys by count, highest first, then by name.
func byCount(m map[string]int) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	return keys
}

// Moderate carries out a moderator's command given in a place; see
// Moderator.Moderate.
func (c *Commands) Moderate(ctx context.Context, r bot.ModRequest) (string, error) {
	return c.mod.Moderate(ctx, r)
}

// Unbanned learns an unban given by hand on the platform; see
// Moderator.Unbanned.
func (c *Commands) Unbanned(ctx context.Context, member bot.Event, at time.Time, by string) {
	c.mod.Unbanned(ctx, member, at, by)
}

// MessageDeleted tells the handlers of a message the platform deleted; see
// Moderator.MessageDeleted.
func (c *Commands) MessageDeleted(ctx context.Context, msg bot.Event, at time.Time) {
	c.mod.MessageDeleted(ctx, msg, at)
}

// MessageUnhidden tells the handlers of a message shown again by hand on its
// platform; see Moderator.MessageUnhidden.
func (c *Commands) MessageUnhidden(ctx context.Context, msg bot.Event, at time.Time) {
	c.mod.MessageUnhidden(ctx, msg, at)
}

// MessageHidden tells the handlers of a message hidden on its platform;
// see Moderator.MessageHidden.
func (c *Commands) MessageHidden(ctx context.Context, msg bot.Event, at time.Time) {
	c.mod.MessageHidden(ctx, msg, at)
}

// NotesOn returns the moderators' notes on ev's author; see Moderator.NotesOn.
func (c *Commands) NotesOn(ctx context.Context, ev bot.Event) []store.Note {
	return c.mod.NotesOn(ctx, ev)
}

// OpenCase opens a case that no verdict made (a connector's event it could
// not complete) and has it posted to the desk; see Moderator.OpenCase.
func (c *Commands) OpenCase(ctx context.Context, cs store.Case) error {
	return c.mod.OpenCase(ctx, cs)
}
