package rules

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store/memory"
)

// sample is one of the events `vigie check` runs every rule on.
type sample struct {
	what string
	ev   bot.Event
}

// samples are a few varied events: a rule whose condition fails on them
// (int(text) > 5) would fail live on every message, silently.
func samples() []sample {
	at := time.Date(2026, 1, 5, 22, 10, 0, 0, time.UTC)
	author := bot.Author{ID: "u-1", Name: "Sample", Roles: []string{"member"},
		CreatedAt: at.Add(-30 * 24 * time.Hour), JoinedAt: at.Add(-time.Hour)}
	ev := func(id string, kind bot.Kind, platform, text string) bot.Event {
		return bot.Event{ID: id, Platform: platform, Kind: kind, Space: "space-1", Channel: "general",
			Author: author, Text: text, At: at}
	}
	links := ev("s-1", bot.KindMessage, "discord", "Salut @bob, regarde https://bit.ly/promo et www.example.com 🔥 VITE!!")
	edit := ev("s-3", bot.KindEdit, "discord", "edited: see https://example.org")
	edit.ReplyTo = "s-1"
	comment := ev("s-4", bot.KindComment, "facebook", "What are your opening hours?")
	comment.Thread = "post-1"
	return []sample{
		{"a message with links and mentions", links},
		{"a join", ev("s-2", bot.KindJoin, "discord", "")},
		{"an edit", edit},
		{"a page comment", comment},
		{"a message with empty text", ev("s-5", bot.KindMessage, "telegram", "")},
	}
}

// TrySamples runs the rules and counters on a few built-in sample events (a
// message with links and mentions, a join, an edit, a page comment, an empty
// message) and returns a warning for each whose expression failed on some of
// them, at the expression's position.
func (rs *Ruleset) TrySamples(ctx context.Context) []Problem {
	st := memory.New()
	defer st.Close()
	type failures struct {
		first RuleError
		on    string
		n     int
	}
	byName := map[string]*failures{}
	var order []string
	eng := NewEngine(rs, st, Options{})
	all := samples()
	for _, s := range all {
		a, err := eng.Assess(ctx, s.ev)
		if err != nil {
			break // the memory store does not fail; a cancelled ctx ends the try
		}
		for _, e := range a.Errors {
			f := byName[e.Rule]
			if f == nil {
				f = &failures{first: e, on: s.what}
				byName[e.Rule] = f
				order = append(order, e.Rule)
			}
			f.n++
		}
	}
	var out []Problem
	for _, name := range order {
		f := byName[name]
		what := fmt.Sprintf("rule %q", name)
		if c, ok := strings.CutPrefix(name, "counters."); ok {
			what = fmt.Sprintf("counter %q", c)
		}
		out = append(out, Problem{File: rs.File, Line: f.first.Line, Col: f.first.Col,
			Msg: fmt.Sprintf("%s fails at run time on %d of %d sample events; on %s: %s",
				what, f.n, len(all), f.on, FirstLine(f.first.Err))})
	}
	sortProblems(out)
	return out
}

// FirstLine is an error's first line: expr's errors go on with the expression
// and a caret under the place at fault.
func FirstLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
