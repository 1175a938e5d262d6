package faq

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/rules"
)

// Entry modes, as written in an entry's mode: key.
const (
	// ModeAnswer (the default, also written "auto") answers above the threshold
	// and forwards the near misses to the desk.
	ModeAnswer = "answer"
	// ModeSuggest also answers the near misses, worded as a suggestion.
	ModeSuggest = "suggest"
	// ModeForward never answers: a match goes to the desk as a case with the
	// answer suggested (questions a human should handle, like reporting a player).
	ModeForward = "forward"
)

// Config is the faq: section as the assistant reads it.
type Config struct {
	// Threshold is the score from which an entry is answered (default 0.55).
	Threshold float64
	// SuggestThreshold is the lower bound of the near misses: from it up to
	// Threshold, an entry is suggested or forwarded (default 0.8 × Threshold).
	SuggestThreshold float64
	// Language answers when a message's language cannot be told (default fr).
	Language string
	// Synonyms are groups of words (or phrases) read as one: livraison, colis,
	// delivery, shipping.
	Synonyms [][]string
	// QuestionsOnly, the default, only considers messages that look like a
	// question or a request; false considers every message.
	QuestionsOnly bool
	// AfterHoursForward opens a case for a question nothing matched when it comes
	// after hours (default true), so the CMs see it in the morning.
	AfterHoursForward bool
	// ChannelCooldown is how long an entry is not answered again in the same
	// channel; UserCooldown the same for one member. Zero is none. (The rule
	// file's defaults are 5m and 1h.)
	ChannelCooldown time.Duration
	UserCooldown    time.Duration
	Entries         []rules.FAQEntry
	// learned are the wordings CMs taught from the desk, by entry id (see
	// Matcher.WithLearned).
	learned map[string][]string
}

// Defaults for a Config built by hand; the rule file applies the same.
const (
	DefaultThreshold    = 0.55
	DefaultSuggestRatio = 0.8
	DefaultLanguage     = "fr"
)

// FromRules reads the faq: section of a loaded rule file.
func FromRules(f rules.FAQ) Config {
	c := Config{
		Threshold:         f.Threshold,
		SuggestThreshold:  f.SuggestThreshold,
		Language:          f.Language,
		Synonyms:          f.Synonyms,
		QuestionsOnly:     f.QuestionsOnly,
		AfterHoursForward: f.AfterHours != "silent",
		ChannelCooldown:   f.ChannelCooldown,
		UserCooldown:      f.UserCooldown,
		Entries:           f.Entries,
	}
	return c.withDefaults()
}

func (c Config) withDefaults() Config {
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	if c.SuggestThreshold <= 0 || c.SuggestThreshold > c.Threshold {
		c.SuggestThreshold = DefaultSuggestRatio * c.Threshold
	}
	if c.Language == "" {
		c.Language = DefaultLanguage
	}
	return c
}

// modeOf gives an entry's mode its meaning; an unknown mode is an error, so that
// a typo does not silently answer what was meant to be forwarded.
func modeOf(e rules.FAQEntry) (string, error) {
	switch m := strings.ToLower(strings.TrimSpace(e.Mode)); m {
	case "", "auto", ModeAnswer:
		return ModeAnswer, nil
	case ModeSuggest, ModeForward:
		return m, nil
	default:
		return "", fmt.Errorf("faq entry %q: unknown mode %q (answer, suggest or forward)", e.ID, e.Mode)
	}
}
