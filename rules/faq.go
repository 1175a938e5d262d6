package rules

// The faq: section's settings past threshold and entries:
//
//	faq:
//	  threshold: 0.55             answered from this score up
//	  suggest_threshold: 0.45     near misses from here: suggested or forwarded
//	  language: fr                the answers' language when a message's cannot be told
//	  synonyms:                   words (or phrases) read as one
//	    - [livraison, colis, delivery, shipping]
//	  questions_only: true        only messages that look like a question or a request
//	  after_hours: forward        forward | silent: a question nothing matched, after hours
//	  cooldown: {channel: 5m, user: 1h}   an entry is not answered again so soon
//	  tests:                      run by vigie test
//	    - {question: "vos horaires ?", expect: hours}
//	    - {question: "gg wp", expect: none}
//
// The handler (handlers/faq) gives them their meaning; here they are read and
// checked, so that a mistake is reported at load with its position.

import (
	"fmt"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// FAQ defaults, applied when the file does not say.
const (
	defaultFAQSuggestRatio    = 0.8
	defaultFAQLanguage        = "fr"
	defaultFAQChannelCooldown = 5 * time.Minute
	defaultFAQUserCooldown    = time.Hour
)

var faqKeys = []string{"threshold", "suggest_threshold", "language", "synonyms",
	"questions_only", "after_hours", "cooldown", "tests", "entries"}

// faqModes are the entry modes the handler knows; auto is answer.
var faqModes = []string{"answer", "auto", "suggest", "forward"}

var faqDecisions = []string{"answer", "suggest", "forward", "silent"}

type faqSettingsSpec struct {
	SuggestThreshold float64
	SuggestSet       bool
	Language         string
	Synonyms         [][]string
	QuestionsOnly    *bool
	AfterHours       string
	ChannelCooldown  *time.Duration
	UserCooldown     *time.Duration
	Tests            []FAQTest
}

func (d *decoder) decodeFAQSettings(m map[string]entry, fs *faqSpec) {
	s := &fs.Settings
	if e, ok := m["suggest_threshold"]; ok {
		f, ok := d.number(e.Value, "faq: suggest_threshold")
		if ok && (f < 0 || f > 1) {
			d.errorf(resolve(e.Value), "faq: suggest_threshold must be between 0 and 1, got %v", f)
		}
		if ok && fs.ThresholdSet && f > fs.Threshold {
			d.errorf(resolve(e.Value), "faq: suggest_threshold %v is above threshold %v", f, fs.Threshold)
		}
		s.SuggestThreshold, s.SuggestSet = f, ok
	}
	if e, ok := m["language"]; ok {
		s.Language, _ = d.str(e.Value, "faq: language")
	}
	if e, ok := m["synonyms"]; ok {
		groups, _ := d.seq(e.Value, "faq: synonyms", false)
		for i, g := range groups {
			words, ok := d.strList(g, fmt.Sprintf("faq: synonyms group %d", i+1), false)
			if ok && len(words) < 2 {
				d.errorf(g, "faq: synonyms group %d: a group needs two words or more", i+1)
			}
			s.Synonyms = append(s.Synonyms, words)
		}
	}
	if e, ok := m["questions_only"]; ok {
		if b, ok := d.boolean(e.Value, "faq: questions_only"); ok {
			s.QuestionsOnly = &b
		}
	}
	if e, ok := m["after_hours"]; ok {
		v, ok := d.str(e.Value, "faq: after_hours")
		if ok && v != "forward" && v != "silent" {
			d.errorf(resolve(e.Value), "faq: after_hours: expected forward or silent, got %q", v)
		}
		s.AfterHours = v
	}
	if e, ok := m["cooldown"]; ok {
		cm, ok := d.mapping(e.Value, "faq: cooldown", "channel", "user")
		if ok {
			s.ChannelCooldown = d.cooldown(cm, "channel")
			s.UserCooldown = d.cooldown(cm, "user")
		}
	}
	if e, ok := m["tests"]; ok {
		items, _ := d.seq(e.Value, "faq: tests", false)
		for i, it := range items {
			where := fmt.Sprintf("faq test %d", i+1)
			tm, ok := d.mapping(it, where, "question", "expect", "decision")
			if !ok {
				continue
			}
			t := FAQTest{Line: it.Line}
			if q, ok := tm["question"]; ok {
				t.Question, _ = d.str(q.Value, where+": question")
			} else {
				d.errorf(it, "%s: missing key \"question\"", where)
			}
			if x, ok := tm["expect"]; ok {
				t.Expect, _ = d.str(x.Value, where+": expect")
				if t.Expect != "none" && !slices.ContainsFunc(fs.Entries, func(e faqEntrySpec) bool { return e.ID == t.Expect }) {
					d.errorf(resolve(x.Value), "%s: expect: no faq entry %q (an entry id, or none)", where, t.Expect)
				}
			} else {
				d.errorf(it, "%s: missing key \"expect\"", where)
			}
			if x, ok := tm["decision"]; ok {
				t.Decision, _ = d.str(x.Value, where+": decision")
				if t.Decision != "" && !slices.Contains(faqDecisions, t.Decision) {
					d.errorf(resolve(x.Value), "%s: decision: expected answer, suggest, forward or silent, got %q", where, t.Decision)
				}
			}
			s.Tests = append(s.Tests, t)
		}
	}
}

// cooldown reads one cooldown: a duration, or off (none).
func (d *decoder) cooldown(m map[string]entry, key string) *time.Duration {
	c, ok := m[key]
	if !ok {
		return nil
	}
	if n := resolve(c.Value); n.Kind == yaml.ScalarNode && (n.Value == "off" || n.Value == "0") {
		var none time.Duration
		return &none
	}
	v, ok := d.duration(c.Value, "faq: cooldown: "+key)
	if !ok {
		return nil
	}
	return &v.D
}

// checkFAQMode reports an entry mode the handler does not know.
func (d *decoder) checkFAQMode(n *yaml.Node, where, mode string) {
	if !slices.Contains(faqModes, mode) {
		d.errorf(resolve(n), "%s: mode: expected answer, suggest or forward, got %q", where, mode)
	}
}

// compileFAQSettings fills out's settings, with the defaults.
func compileFAQSettings(fs faqSpec, out *FAQ) {
	s := fs.Settings
	out.SuggestThreshold = defaultFAQSuggestRatio * out.Threshold
	if s.SuggestSet {
		out.SuggestThreshold = min(s.SuggestThreshold, out.Threshold)
	}
	out.Language = defaultFAQLanguage
	if s.Language != "" {
		out.Language = s.Language
	}
	out.Synonyms = s.Synonyms
	out.QuestionsOnly = s.QuestionsOnly == nil || *s.QuestionsOnly
	out.AfterHours = "forward"
	if s.AfterHours != "" {
		out.AfterHours = s.AfterHours
	}
	out.ChannelCooldown, out.UserCooldown = defaultFAQChannelCooldown, defaultFAQUserCooldown
	if s.ChannelCooldown != nil {
		out.ChannelCooldown = *s.ChannelCooldown
	}
	if s.UserCooldown != nil {
		out.UserCooldown = *s.UserCooldown
	}
	out.Tests = s.Tests
}
