package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// ManualRule is the rule moderators' commands are recorded under, in the
// audit log and the reports, beside the rule file's own rules.
const ManualRule = "manual"

// memberNameShown is how many characters of a member's name vigie's
// answers to the moderators show: a name is one line, cut (bot.Shown), so
// that it writes no line of its own in the answer.
const memberNameShown = 64

// Moderate carries out a moderator's command (/ban, /del, /warn…) given in the
// place itself: through the platform's capabilities and the retry stage, with
// an audit entry naming the moderator, counted in vigie_actions_total and in
// the reports under the rule "manual". An open case about the message (or,
// for a ban, a mute or a kick, about the member there) is closed as decided
// by the moderator. Who may command was checked by the platform, save a
// community's CM in another community's place (or in none), refused here
// with a *bot.CommunityError.
func (m *Moderator) Moderate(ctx context.Context, r bot.ModRequest) (string, error) {
	ev := r.Target
	who := bot.Shown(cmp.Or(ev.Author.Name, ev.Author.ID), memberNameShown)
	if ok, own := m.communities.Load().MayDecide(r.By, m.communityOf(ev)); !ok {
		m.log.Warn("moderator's command refused: a community's CM", "audit", true, "by", r.By,
			"command", string(r.Command), "platform", ev.Platform, "space", ev.Space, "community", m.communityOf(ev), "own", own)
		where := "no community"
		if c := m.communityOf(ev); c != "" {
			where = "community " + c
		}
		return fmt.Sprintf("Sorry, this place belongs to %s: your rights are community %s's.", where, own),
			&bot.CommunityError{Community: m.communityOf(ev), Own: own}
	}
	switch r.Command {
	case bot.ModWarns:
		text, err := m.warnsText(ctx, ev, r.Private)
		if err != nil {
			// an empty answer is one no platform posts: the moderator
			// would hear nothing; the group reads it too, the store's
			// own error is the log's (the platform logs err)
			return fmt.Sprintf("The warnings of %s cannot be read right now: %s", who, storeAway), err
		}
		return text, nil
	case bot.ModNote:
		return m.note(ctx, r, who)
	case bot.ModResetWarns:
		return m.resetWarns(ctx, r, who)
	}
	p := m.platforms[ev.Platform]
	if p == nil {
		return fmt.Sprintf("%s is off: nothing done.", ev.Platform), fmt.Errorf("platform %q is off", ev.Platform)
	}
	var o Outcome
	switch r.Command {
	case bot.ModBan:
		o = Outcome{Kind: bot.ActBan, Duration: r.Duration}
	case bot.ModUnban:
		o = Outcome{Kind: OutcomeUnban}
	case bot.ModMute:
		// recorded as long as the platform gives it
		d, _ := bot.GivenTimeout(p, cmp.Or(r.Duration, bot.MuteDuration))
		o = Outcome{Kind: bot.ActTimeout, Duration: d}
	case bot.ModUnmute:
		o = Outcome{Kind: OutcomeUntimeout}
	case bot.ModKick:
		o = Outcome{Kind: bot.ActKick}
	case bot.ModWarn:
		o = Outcome{Kind: bot.ActWarn, Text: warnText(r.Text)}
	case bot.ModDel:
		if ev.ID == "" {
			return "Answer the message to delete with /del.", errors.New("del: no message")
		}
		o = Outcome{Kind: bot.ActDelete}
	case bot.ModPurge:
		return m.purge(ctx, p, r, who)
	default:
		return "Unknown command /" + string(r.Command) + ".", fmt.Errorf("unknown command %q", r.Command)
	}
	if !capable(p, o.Kind) {
		return fmt.Sprintf("%s cannot %s.", ev.Platform, r.Command), fmt.Errorf("%w: %s cannot %s", ErrCannot, ev.Platform, o.Kind)
	}
	if r.Command == bot.ModWarn {
		if err := m.strike(ctx, ev, r); err != nil {
			return fmt.Sprintf("Nothing done: the strike on %s cannot be recorded right now: %s", who, storeAway), err
		}
	}
	given, err := m.carryManual(ctx, p, r, ev, o)
	if err != nil {
		m.logManual(r, ev, o, "", banGiven{}, err)
		return fmt.Sprintf("Could not %s %s: %s", r.Command, who, platformSays(err)), err
	}
	if given.Stays {
		// Nothing done: the member's cases stay open, for what is done
		// about them to be said.
		return fmt.Sprintf("Nothing done: %s is %s.", who, stayText(given, m.now())), nil
	}
	closed := m.closeCases(ctx, r, []bot.Event{ev}, o)
	m.logManual(r, ev, o, strings.Join(closed, ","), given, nil)
	text := doneText(r, who, o)
	if s := m.banText(given); s != "" {
		// "Banned Bob for 7d, until 12 Dec 03:00 UTC."
		text = strings.TrimSuffix(text, ".") + ", " + s + "."
	}
	if len(closed) > 0 {
		text += fmt.Sprintf(" (%s closed)", plural(len(closed), "case"))
	}
	return text, nil
}

// storeAway ends the answer to a moderator's command the store failed: the
// place's members may read it too, so it says what to do, not the store's
// error, which the platform logs with the command (the error Moderate
// returns).
const storeAway = "try again in a minute."

// carryManual does o on ev for r, and records it: metric, audit entry, log.
// given says how long a ban lasts.
func (m *Moderator) carryManual(ctx context.Context, p bot.Platform, r bot.ModRequest, ev bot.Event, o Outcome) (given banGiven, err error) {
	reason := manualReason(r)
	actx := bot.WithByHand(bot.WithAuditReason(ctx, "vigie: "+reason))
	err = m.retry.Do(actx, func(ctx context.Context) error {
		var cerr error
		given, cerr = m.carryOut(ctx, p, ev, o, ManualRule, r.By)
		return cerr
	})
	m.count(m.Label(ev.Platform), o.Kind, resultOf(err))
	m.acted(actx, ev.Platform, err)
	act := bot.Action{Kind: o.Kind, Text: o.Text, Duration: o.Duration}
	m.auditManual(ctx, r, ev, act, given, err)
	if err != nil {
		m.log.Warn("moderator's command failed", "audit", true, "command", r.Command, "by", r.By, "event", ev.Key(), "author", ev.Author.ID, "err", err)
		return given, err
	}
	m.log.Info("moderator's command", "audit", true, "command", r.Command, "by", r.By, "event", ev.Key(), "author", ev.Author.ID, "action", act.String())
	return given, nil
}

// auditManual records a command in the audit log: a verdict of the rule
// "manual" whose reason names the moderator; a failed one has no action, and
// says why in Failed. A timed ban's reason says when it ends, and whether
// vigie lifts it.
func (m *Moderator) auditManual(ctx context.Context, r bot.ModRequest, ev bot.Event, act bot.Action, given banGiven, failed error) {
	now := m.now()
	match := bot.Match{Rule: ManualRule, Reason: manualReason(r)}
	if !given.Until.IsZero() {
		match.Reason += " (" + UntilText(given.Until, now)
		if given.Lifted {
			match.Reason += ", lifted by vigie"
		}
		match.Reason += ")"
	}
	e := store.AuditEntry{At: now, Event: ev, Mode: m.Mode(), By: r.By}
	if failed != nil {
		e.Failed = failed.Error()
		match.Reason += " (failed)"
	} else if given.Stays {
		// Nothing was done: the entry says why, and has no action.
		match.Reason += " (nothing done: " + stayText(given, now) + ")"
	} else if act.Kind != "" {
		match.Actions = []bot.Action{act}
	}
	e.Verdict = bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: now, Matches: []bot.Match{match}}
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	if err := m.store.AppendAudit(sctx, e); err != nil {
		m.log.Error("moderator's command not audited", "command", r.Command, "by", r.By, "event", ev.Key(), "err", err)
	}
}

// manualReason says who commanded what, and why when they said.
func manualReason(r bot.ModRequest) string {
	s := "/" + string(r.Command) + " by " + r.By
	if r.Text != "" && r.Command != bot.ModNote {
		s += ": " + r.Text
	}
	return s
}

func warnText(reason string) string {
	if reason == "" {
		return "a warning from the moderators."
	}
	return "a warning from the moderators: " + reason
}

// strike gives ev's author a strike, as the rule action strike does.
func (m *Moderator) strike(ctx context.Context, ev bot.Event, r bot.ModRequest) error {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	err := m.store.AddStrike(sctx, store.Strike{Platform: ev.Platform, Space: ev.Space, Author: ev.Author.ID, At: m.now(), Rule: ManualRule})
	if err == nil {
		m.count(m.Label(ev.Platform), bot.ActStrike, ResultDone)
	}
	return err
}

// purge deletes the member's last messages the platform knows of.
func (m *Moderator) purge(ctx context.Context, p bot.Platform, r bot.ModRequest, who string) (string, error) {
	if !capable(p, bot.ActDelete) {
		return fmt.Sprintf("%s cannot delete.", r.Target.Platform), fmt.Errorf("%w: %s cannot delete", ErrCannot, r.Target.Platform)
	}
	if len(r.Messages) == 0 {
		return fmt.Sprintf("No recent message of %s known to vigie here.", who), nil
	}
	o := Outcome{Kind: bot.ActDelete}
	var done []bot.Event
	var last error
	for _, ev := range r.Messages {
		_, err := m.carryManual(ctx, p, r, ev, o)
		m.logManual(r, ev, o, "", banGiven{}, err)
		if err != nil {
			last = err
			if !bot.Retryable(err) {
				break // a missing right fails the same on every message
			}
			continue
		}
		done = append(done, ev)
	}
	closed := m.closeCases(ctx, r, done, o)
	text := fmt.Sprintf("Deleted %s of %s.", plural(len(done), "message"), who)
	if len(closed) > 0 {
		text += fmt.Sprintf(" (%s closed)", plural(len(closed), "case"))
	}
	if last != nil {
		text = fmt.Sprintf("Deleted %d of %s's last %d messages; then: %s", len(done), who, len(r.Messages), platformSays(last))
		return text, last
	}
	return text, nil
}

// note keeps a moderator's note on the member.
func (m *Moderator) note(ctx context.Context, r bot.ModRequest, who string) (string, error) {
	nk, ok := m.store.(store.NoteKeeper)
	if !ok {
		return "This store keeps no notes.", errors.New("the store keeps no notes")
	}
	text := strings.TrimSpace(r.Text)
	if text == "" {
		return "Write the note after /note.", errors.New("note: empty")
	}
	ev := r.Target
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	n := store.Note{Platform: ev.Platform, Space: ev.Space, Author: ev.Author.ID, Text: text, By: r.By, At: m.now()}
	if err := nk.AddNote(sctx, n); err != nil {
		return "The note cannot be kept right now: " + storeAway, err
	}
	m.auditManual(ctx, r, ev, bot.Action{}, banGiven{}, nil)
	m.log.Info("moderator's note", "audit", true, "by", r.By, "author", ev.Author.ID, "platform", ev.Platform, "space", ev.Space)
	return fmt.Sprintf("Note kept on %s; the moderators see it on their cases.", who), nil
}

// resetWarns lifts the member's strikes in the place.
func (m *Moderator) resetWarns(ctx context.Context, r bot.ModRequest, who string) (string, error) {
	sk, ok := m.store.(store.StrikeKeeper)
	if !ok {
		return "This store cannot lift strikes.", errors.New("the store cannot lift strikes")
	}
	ev := r.Target
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	n, err := sk.ClearStrikes(sctx, ev.Platform, ev.Space, ev.Author.ID)
	if err != nil {
		return fmt.Sprintf("The strikes of %s cannot be lifted right now: %s", who, storeAway), err
	}
	m.auditManual(ctx, r, ev, bot.Action{}, banGiven{}, nil)
	m.logManual(r, ev, Outcome{Kind: "resetwarns"}, "", banGiven{}, nil)
	m.log.Info("strikes lifted", "audit", true, "by", r.By, "author", ev.Author.ID, "platform", ev.Platform, "space", ev.Space, "strikes", n)
	return fmt.Sprintf("%s lifted from %s.", plural(n, "strike"), who), nil
}

// maxWarnsCases bounds the cases /warns lists.
const maxWarnsCases = 5

// warnsText says what vigie holds against a member: their strikes in the
// place, their cases (in every place of the platform) and the notes on them.
// An answer the place's members read too (private false) counts the cases
// and the notes, and sends the moderator to the desk for them: the notes are
// the CMs' words on the member, and who decided a case theirs to know.
func (m *Moderator) warnsText(ctx context.Context, ev bot.Event, private bool) (string, error) {
	who := bot.Shown(cmp.Or(ev.Author.Name, ev.Author.ID), memberNameShown)
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s %s):", who, ev.Platform, ev.Author.ID)
	if sk, ok := m.store.(store.StrikeKeeper); ok {
		strikes, err := sk.Strikes(ctx, ev.Platform, ev.Space, ev.Author.ID, m.now())
		if err != nil {
			return "", fmt.Errorf("warns: %w", err)
		}
		fmt.Fprintf(&b, " %s here", plural(len(strikes), "strike"))
		if len(strikes) > 0 {
			fmt.Fprintf(&b, ", the last %s", strikes[len(strikes)-1].UTC().Format("2006-01-02 15:04 UTC"))
		}
		b.WriteString(".")
	}
	cases, err := m.authorCases(ctx, ev)
	if err != nil {
		return "", fmt.Errorf("warns: %w", err)
	}
	notes := m.NotesOn(ctx, ev)
	if !private {
		fmt.Fprintf(&b, "\n%s, %s.", plural(len(cases), "case"), plural(len(notes), "note"))
		if len(cases)+len(notes) > 0 {
			b.WriteString(" The whole record is the CMs': on the desk (the member's cards, the console).")
		}
		return b.String(), nil
	}
	fmt.Fprintf(&b, "\n%s.", plural(len(cases), "case"))
	for i, c := range slices.Backward(cases) {
		if len(cases)-i > maxWarnsCases {
			break
		}
		state := "open"
		if c.Status == store.CaseDecided {
			state = c.Outcome + " by " + c.DecidedBy
		}
		fmt.Fprintf(&b, "\n• %s %s, %s: %s", c.ID, cmp.Or(c.Rule, "—"), c.Opened.UTC().Format("2006-01-02"), state)
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "\n📝 %s, %s: %s", n.By, n.At.UTC().Format("2006-01-02"), n.Text)
	}
	return b.String(), nil
}

// notesLogEvery spaces the log lines about notes not read.
const notesLogEvery = time.Minute

// NotesOn returns the moderators' notes on ev's author there, none when the
// store keeps none or cannot say now: that is logged once a minute at most,
// with how many were not read since (while Redis is away, each card of a
// raid would have its line).
func (m *Moderator) NotesOn(ctx context.Context, ev bot.Event) []store.Note {
	nk, ok := m.store.(store.NoteKeeper)
	if !ok || ev.Author.ID == "" {
		return nil
	}
	notes, err := nk.Notes(ctx, ev.Platform, ev.Space, ev.Author.ID)
	if err != nil {
		n := m.notesMissed.Add(1)
		if m.notesLog.Take(m.now(), notesLogEvery) {
			m.notesMissed.Add(-n)
			m.log.Warn("notes not read: the cards and answers go without the moderators' notes on their author; said once a minute at most",
				"author", ev.Author.ID, "not_read", n, "err", err)
		}
	}
	return notes
}

// authorCases are ev's author's cases on its platform, in the places of
// ev's community (of none, when ev's place is in none), open and decided,
// oldest first.
func (m *Moderator) authorCases(ctx context.Context, ev bot.Event) ([]store.Case, error) {
	var out []store.Case
	community := m.communityOf(ev)
	for _, status := range []store.CaseStatus{store.CaseOpen, store.CaseDecided} {
		cs, err := m.store.Cases(ctx, status)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			// Another community's cases are not this place's moderators' to read.
			if c.Event.Platform == ev.Platform && c.Event.Author.ID == ev.Author.ID && m.communityOf(c.Event) == community {
				out = append(out, c)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b store.Case) int { return a.Opened.Compare(b.Opened) })
	return out, nil
}

// closeCases decides the open cases the moderator's action settles: those
// about one of the messages acted on and, for an action on the member (ban,
// mute, kick), those about the member in that place.
func (m *Moderator) closeCases(ctx context.Context, r bot.ModRequest, evs []bot.Event, o Outcome) []string {
	if len(evs) == 0 {
		return nil
	}
	onMember := r.Command == bot.ModBan || r.Command == bot.ModMute || r.Command == bot.ModKick
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	open, err := m.store.Cases(sctx, store.CaseOpen)
	if err != nil {
		m.log.Warn("the cases a moderator's command settles were not read", "command", r.Command, "err", err)
		return nil
	}
	target := evs[0]
	var closed []string
	for _, c := range open {
		e := c.Event
		if e.Platform != target.Platform || e.Space != target.Space {
			continue
		}
		about := onMember && e.Author.ID == target.Author.ID
		for _, ev := range evs {
			if ev.ID != "" && (e.ID == ev.ID || slices.Contains(c.Latest, ev.ID)) {
				about = true
			}
		}
		if !about {
			continue
		}
		decided, err := m.store.DecideCase(sctx, c.ID, o.String(), r.By, r.ByName, m.now())
		if err != nil {
			if !errors.Is(err, store.ErrDecided) {
				m.log.Warn("case not closed after a moderator's command", "case", c.ID, "err", err)
			}
			continue
		}
		closed = append(closed, c.ID)
		m.log.Info("case decided", "case", c.ID, "outcome", o.String(), "by", r.By, "command", r.Command)
		// The desks' cards of the case say so, as for any other decision.
		m.ShowDecision(ctx, decided, "")
	}
	if len(closed) > 0 {
		m.refreshOpenCases(sctx)
	}
	return closed
}

// logManual tells the mod-log of a moderator's command.
func (m *Moderator) logManual(r bot.ModRequest, ev bot.Event, o Outcome, cases string, given banGiven, err error) {
	// The moderator's reason says it: not the warning's text again.
	m.modlog.Record(ModLogEntry{Event: ev, Action: bot.Action{Kind: o.Kind, Duration: o.Duration},
		By: r.By, Reason: r.Text, CaseID: cases, Failed: errText(err), Until: given.Until})
}

// doneText tells the moderator what was done.
func doneText(r bot.ModRequest, who string, o Outcome) string {
	switch r.Command {
	case bot.ModBan:
		if o.Duration > 0 {
			return fmt.Sprintf("Banned %s for %s.", who, bot.FormatDuration(o.Duration))
		}
		return fmt.Sprintf("Banned %s.", who)
	case bot.ModUnban:
		return fmt.Sprintf("Unbanned %s.", who)
	case bot.ModMute:
		return fmt.Sprintf("Muted %s for %s.", who, bot.FormatDuration(o.Duration))
	case bot.ModUnmute:
		return fmt.Sprintf("Unmuted %s.", who)
	case bot.ModKick:
		return fmt.Sprintf("Kicked %s.", who)
	case bot.ModWarn:
		return fmt.Sprintf("Warned %s (a strike).", who)
	case bot.ModDel:
		return "Deleted."
	}
	return "Done."
}

// platformSays is why the platform refused, in words the place's members
// may read too, as the cards say it: the refusal's plain words when the
// platform has them (bot.PlainWords), else a missing right, else the error
// cut (bot.RefusalWords). The whole error is the log's (the platform logs
// the error Moderate returns) and the audit's.
func platformSays(err error) string {
	if s := bot.PlainWords(err); s != "" {
		return s
	}
	s := err.Error()
	if errors.Is(err, bot.ErrOutranked) {
		// The platform's error says what protects the member; vigie has the right.
		return s
	}
	low := strings.ToLower(s)
	if strings.Contains(low, "not enough rights") || strings.Contains(low, "missing permissions") ||
		strings.Contains(low, "(403)") || strings.Contains(low, ": 403") || strings.Contains(low, "code 50013") {
		return "vigie lacks the right to do that here. Give vigie's account the right, then try again."
	}
	return bot.RefusalWords(err)
}
