package faq

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

// Kind is what the assistant does with a message.
type Kind string

// The decisions, as `vigie faq`, replay and the metrics name them.
const (
	// Answer replies with the entry's answer.
	Answer Kind = "answer"
	// Suggest replies with the answer of a near miss, worded as a suggestion.
	Suggest Kind = "suggest"
	// Forward opens a case for the CMs: a near miss, an entry in forward mode,
	// or an unanswered question after hours.
	Forward Kind = "forward"
	// Silent does nothing.
	Silent Kind = "silent"
)

// Kinds lists the decisions in the order reports show them.
var Kinds = []Kind{Answer, Suggest, Forward, Silent}

// Why a message got no answer, when it did not.
const (
	WhyModerated   = "a moderation rule acted on it"
	WhyNotAsked    = "not a question"
	WhyNoMatch     = "no entry matched"
	WhyKind        = "not a message or a comment"
	WhyStaff       = "written by staff or a bot"
	WhyDuplicate   = "already seen"
	WhyCooldown    = "answered here a moment ago"
	WhyNearMiss    = "near miss, for the CMs to confirm"
	WhyDisputed    = "another entry's own examples are closer, for the CMs to confirm"
	WhyUndecided   = "no word tells its entry from another as close, for the CMs to confirm"
	WhyInherited   = "no example of its entry shares a word with it, for the CMs to confirm"
	WhyPeer        = "it speaks to another member"
	WhyInsult      = "an insult, for the CMs"
	WhyForwardMode = "the entry is answered by the CMs"
	WhyAfterHours  = "unanswered question after hours"
	WhyRaid        = "asked by an account that joined during a raid, while it is on"
	WhyPlaceLimit  = "answered often enough in this place for now"
)

// Decision is what the assistant decided for one message.
type Decision struct {
	Kind Kind
	// Entry is the entry answered, suggested or forwarded; empty when none.
	Entry string
	Score float64
	// Language is the language of the reply: the message's, or the file's default.
	Language string
	// Text is the reply, templates expanded; for a forward, the reply the case
	// suggests. Empty when there is none.
	Text string
	// Private sends the reply to the author only.
	Private bool
	// Unanswered marks a question no entry matched well enough: reports group
	// these so the CMs see what the FAQ is missing.
	Unanswered bool
	// Why says in plain words why the assistant decided so.
	Why        string
	Candidates []Candidate
	// Terms are the message's words as the index compared them.
	Terms []string
	// cooled: an entry matched, but a cooldown held the answer back.
	cooled bool
}

// Decide says what to do with ev, given the verdict of the moderation rules. It
// does not look at cooldowns: the Assistant does, since they need the store.
func (m *Matcher) Decide(ev *bot.Event, v bot.Verdict) Decision {
	if why := unheard(ev, &v); why != "" {
		return Decision{Kind: Silent, Why: why}
	}
	var buf [wordsBuf]word
	folded, ws := foldedWords(ev.Text, m.memo, buf[:0])
	asked := looksLikeQuestionFolded(ev.Text, folded, ws) || m.asksService(ws)
	language := m.language(ev.Text, ws)
	if m.cfg.QuestionsOnly && !asked {
		// Most of a chat is no question: it is not scored against the
		// entries (what decide would say of it without its candidates).
		return Decision{Kind: Silent, Why: WhyNotAsked, Language: language, Candidates: []Candidate{}}
	}
	return m.decide(ev, m.matchAsked(ev.Text, ws, asked, language), folded, ws)
}

// Heard reports whether the FAQ reads ev, given the moderation rules' verdict
// v: a message, comment or DM from a member, not seen before and not acted on
// by a rule. Of any other event Decide says Silent (and why) without reading
// its text, and the assistant only counts it: a caller that wants only what
// the FAQ does with its events (the replay) may skip those.
func Heard(ev *bot.Event, v *bot.Verdict) bool {
	return unheard(ev, v) == ""
}

// unheard is why the FAQ does not read ev, "" when it does.
func unheard(ev *bot.Event, v *bot.Verdict) string {
	switch {
	case v.Duplicate:
		return WhyDuplicate
	case acted(v):
		return WhyModerated
	case ev.Kind != bot.KindMessage && ev.Kind != bot.KindComment && ev.Kind != bot.KindDM:
		return WhyKind
	case ev.Author.Staff || ev.Author.Bot:
		return WhyStaff
	}
	return ""
}

// DecideText is Decide for a question alone, as `vigie faq` asks it: a message
// from a member, in office hours unless at is after hours.
func (m *Matcher) DecideText(text string, at time.Time) Decision {
	ev := bot.Event{Kind: bot.KindMessage, Text: text, At: at, Author: bot.Author{Name: "member"}}
	var buf [wordsBuf]word
	folded, ws := foldedWords(text, m.memo, buf[:0])
	return m.decide(&ev, m.matchWords(text, folded, ws), folded, ws)
}

// decide makes the decision of r, the match of ev's text, whose folded text
// and words (foldedWords) are folded and ws: they are read again, not made
// again, when the desk is asked of the same text.
func (m *Matcher) decide(ev *bot.Event, r Match, folded string, ws []word) Decision {
	afterHours := m.afterHours
	if c := m.communityOf(ev); c != nil {
		afterHours = c.AfterHours
		// a question whose language cannot be told is answered in the
		// community's, not the FAQ's
		if c.Language != "" && languageOf(ev.Text, words(ev.Text)) == "" {
			r.Language = c.Language
		}
	}
	d := Decision{Kind: Silent, Language: r.Language, Candidates: r.Candidates, Terms: r.Terms}
	if d.Candidates == nil {
		d.Candidates = []Candidate{}
	}
	if m.cfg.QuestionsOnly && !r.Question {
		d.Why = WhyNotAsked
		return d
	}
	if r.Peer {
		// "tu travailles où maintenant ?" asks a member, not the brand:
		// neither answered nor put to the CMs.
		d.Why = WhyPeer
		return d
	}
	best, ok := r.Best()
	if r.Insult && ok && best.Score >= m.cfg.SuggestThreshold {
		// "vous recrutez des incompétents ou quoi ?" is no question about
		// jobs: the CMs answer an angry customer, not the FAQ.
		d.Kind, d.Why, d.Entry, d.Score = Forward, WhyInsult, best.ID, best.Score
		return d
	}
	if !ok || best.Score < m.cfg.SuggestThreshold {
		d.Unanswered = true
		d.Why = WhyNoMatch
		if best.Score > 0 {
			d.Score = best.Score
		}
		if m.cfg.AfterHoursForward && afterHours != nil && afterHours(ev.At) && m.worthTheDesk(pastBotMentions(ev.Platform, ev.Text), r, ev.Text, folded, ws) {
			d.Kind, d.Why = Forward, WhyAfterHours
		}
		return d
	}
	e := m.entryOf(best.ID)
	d.Entry, d.Score, d.Private = e.ID, best.Score, e.Private
	answer := expand(m.answerText(e, r.Language), ev, m.placeName)
	d.Text = answer
	switch {
	case e.mode == ModeForward:
		d.Kind, d.Why = Forward, WhyForwardMode
	case best.Score >= m.cfg.Threshold && !r.Disputed && !r.Undecided && !r.Inherited:
		d.Kind, d.Why = Answer, ""
	case e.mode == ModeSuggest:
		d.Kind, d.Why = Suggest, ""
		d.Text = suggestion(d.Language, answer)
	case r.Disputed:
		d.Kind, d.Why = Forward, WhyDisputed
	case r.Undecided:
		d.Kind, d.Why = Forward, WhyUndecided
	case r.Inherited:
		d.Kind, d.Why = Forward, WhyInherited
	default:
		d.Kind, d.Why = Forward, WhyNearMiss
	}
	return d
}

// entryOf is entry(id), read from the ids' index when the ids are unique
// (as a rule file's are) and the matcher has one.
func (m *Matcher) entryOf(id string) *entry {
	if len(m.ids) == len(m.entries) {
		if i, ok := m.ids[id]; ok {
			return &m.entries[i]
		}
	}
	return m.entry(id)
}

func (m *Matcher) entry(id string) *entry {
	for i := range m.entries {
		if m.entries[i].ID == id {
			return &m.entries[i]
		}
	}
	return nil
}

// answerText picks the answer in lang, else in the file's language, else the
// one given for every language, else the first by language code.
func (m *Matcher) answerText(e *entry, lang string) string {
	for _, l := range []string{lang, m.cfg.Language, ""} {
		if s, ok := e.Answer[l]; ok {
			return s
		}
	}
	keys := make([]string, 0, len(e.Answer))
	for k := range e.Answer {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return e.Answer[keys[0]]
}

// suggestion words a near miss as a guess, so the member knows it may be beside
// the point.
func suggestion(lang, answer string) string {
	if lang == "en" {
		return "This might help: " + answer
	}
	return "Ceci peut peut-être vous aider : " + answer
}

// acted reports whether an enforced rule asked for anything: a message that was
// deleted, hidden or warned about is not one to answer.
func acted(v *bot.Verdict) bool {
	return slices.ContainsFunc(v.Matches, func(m bot.Match) bool { return !m.Shadow && len(m.Actions) > 0 })
}

// expand fills the {{field}} templates the rule file's actions know; names
// names the place for {{space}}.
func expand(s string, ev *bot.Event, names rules.PlaceNames) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		switch strings.TrimSpace(s[i+2 : i+j]) {
		case "author.name":
			name := ev.Author.ID
			if ev.Author.Name != "" {
				// one line, cut, and no mention, command or link in
				// vigie's voice
				name = bot.NameInText(ev.Author.Name)
			}
			b.WriteString(name)
		case "author.id":
			b.WriteString(ev.Author.ID)
		case "channel":
			b.WriteString(ev.Channel)
		case "space":
			b.WriteString(rules.SpaceField(ev, names))
		case "platform":
			b.WriteString(ev.Platform)
		default:
			b.WriteString(s[i : i+j+2])
		}
		s = s[i+j+2:]
	}
	b.WriteString(s)
	return b.String()
}

// communityOf is the community of ev's place, nil when it is in none.
func (m *Matcher) communityOf(ev *bot.Event) *rules.Community {
	if m.communities == nil {
		return nil
	}
	return m.communities.CommunityOf(ev.Platform, ev.Space)
}
