package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/faq"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// faqCommand is `vigie faq`: what the FAQ would do with a question.
func (c *cli) faqCommand(ctx context.Context, args []string) int {
	f := c.flags("faq")
	config := f.configFlag()
	format := f.String("format", "text", "print the decision as `text|json`")
	evalFile := f.String("eval", "", "measure the FAQ on the messages of `FILE` (ENTRY<TAB>message a line, none for a message to leave alone): right, wrong, abstained and the misses")
	learned := f.Bool("learned", false, "list the wordings the CMs taught from the desk, by entry, with the intents each entry answers")
	redisURL := f.String("redis", "", "with --learned, read the store of vigie run at `URL` (env VIGIE_REDIS_URL)")
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if *learned {
		if len(pos) > 0 || *evalFile != "" {
			return f.usageError("--learned takes no question")
		}
		return c.faqLearned(ctx, *config, *redisURL)
	}
	switch {
	case *format != "text" && *format != "json":
		return f.usageError("unknown format %q (want text or json)", *format)
	case *evalFile != "" && len(pos) > 0:
		return f.usageError("--eval takes its messages from the file, not %q", pos[0])
	case *evalFile == "" && len(pos) == 0:
		return f.usageError("no question: give it in quotes")
	}
	rs, _, ok := c.loadRules("faq", *config)
	if !ok {
		return exitFail
	}
	m, ok := c.compileFAQ("faq", rs)
	if !ok {
		return exitFail
	}
	if *evalFile != "" {
		return c.faqEval(m, *evalFile)
	}
	question := strings.Join(pos, " ")
	// Asked now, as a member would; after hours an unmatched question is forwarded.
	d := m.DecideText(question, c.now())
	if *format == "json" {
		b, err := json.Marshal(d.Result())
		if err != nil {
			fmt.Fprintf(c.stderr, "vigie faq: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(c.stdout, "%s\n", b)
		return exitOK
	}
	if err := m.WriteText(c.stdout, d); err != nil {
		fmt.Fprintf(c.stderr, "vigie faq: %v\n", err)
		return exitFail
	}
	return exitOK
}

// faqEval is `vigie faq --eval FILE`: how the FAQ does on a set of messages.
func (c *cli) faqEval(m *faq.Matcher, name string) int {
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintf(c.stderr, "vigie faq: %v\n", err)
		return exitFail
	}
	defer f.Close()
	lines, err := faq.ReadEval(f)
	if err != nil {
		fmt.Fprintf(c.stderr, "vigie faq: %s: %v\n", name, err)
		return exitFail
	}
	e, err := m.Evaluate(lines)
	if err != nil {
		fmt.Fprintf(c.stderr, "vigie faq: %s: %v\n", name, err)
		return exitFail
	}
	if err := faq.WriteEval(c.stdout, e); err != nil {
		fmt.Fprintf(c.stderr, "vigie faq: %v\n", err)
		return exitFail
	}
	return exitOK
}

// faqLearned is `vigie faq --learned`: the entries of the file, the intents
// each inherits, and the wordings the CMs taught from the desk, read from the
// store vigie run uses (the memory store keeps none once vigie stops).
func (c *cli) faqLearned(ctx context.Context, config, redisURL string) int {
	if redisURL == "" {
		redisURL = c.getenv("VIGIE_REDIS_URL")
	}
	if redisURL == "" {
		fmt.Fprintln(c.stderr, "vigie faq: --learned reads the store of vigie run: give --redis URL or VIGIE_REDIS_URL (a memory store keeps nothing once vigie stops)")
		return exitFail
	}
	rs, _, ok := c.loadRules("faq", config)
	if !ok {
		return exitFail
	}
	st, err := c.openRedis(redisURL)
	if err != nil {
		fmt.Fprintf(c.stderr, "vigie faq: %v\n", err)
		return exitFail
	}
	defer st.Close()
	ws, err := st.FAQWordings(ctx)
	if err != nil {
		fmt.Fprintf(c.stderr, "vigie faq: %v\n", err)
		return exitFail
	}
	intents, err := faq.EntryIntents(rs.FAQ.Entries, rs.FAQ.Synonyms)
	if err != nil {
		fmt.Fprintf(c.stderr, "vigie faq: %v\n", err)
		return exitFail
	}
	byEntry := map[string][]store.FAQWording{}
	for _, w := range ws {
		byEntry[w.Entry] = append(byEntry[w.Entry], w)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d wordings taught from the desk\n", len(ws))
	for _, e := range rs.FAQ.Entries {
		fmt.Fprintf(&b, "%s (%d examples, %d taught; intents: %s)\n", e.ID, len(e.Questions), len(byEntry[e.ID]), cmp.Or(strings.Join(intents[e.ID], ", "), "none"))
		for _, w := range byEntry[e.ID] {
			fmt.Fprintf(&b, "  %q by %s at %s\n", w.Text, cmp.Or(w.By, "?"), w.At.UTC().Format(time.RFC3339))
		}
		delete(byEntry, e.ID)
	}
	for _, w := range ws {
		if _, gone := byEntry[w.Entry]; gone {
			fmt.Fprintf(&b, "not in the file: %s: %q by %s\n", w.Entry, w.Text, cmp.Or(w.By, "?"))
		}
	}
	fmt.Fprint(c.stdout, b.String())
	return exitOK
}

// compileFAQ builds the FAQ's matcher, or prints why it could not, like
// loadRules.
func (c *cli) compileFAQ(cmd string, rs *rules.Ruleset) (*faq.Matcher, bool) {
	m, err := faq.Compile(rs)
	if err == nil {
		return m, true
	}
	var le *rules.LoadError
	if errors.As(err, &le) {
		for _, p := range le.Problems {
			fmt.Fprintln(c.stdout, p.String())
		}
		return nil, false
	}
	fmt.Fprintf(c.stderr, "vigie %s: %v\n", cmd, err)
	return nil, false
}

// replayFAQ asks the FAQ about each replayed event, with its cooldowns on the
// events' clock in a store of its own; nothing is sent and no case is kept.
func replayFAQ(m *faq.Matcher) (func(context.Context, *bot.Event, bot.Verdict) string, func() error, error) {
	st := memory.New()
	a, err := faq.New(faq.Options{
		Store:    st,
		OpenCase: func(context.Context, *rules.Ruleset, store.Case) error { return nil },
		History:  1,
	})
	if err != nil {
		return nil, nil, errors.Join(err, st.Close())
	}
	ask := func(ctx context.Context, ev *bot.Event, v bot.Verdict) string {
		d, _ := a.Handle(ctx, m, ev, v)
		if d.Why == faq.WhyCooldown {
			return string(faq.Cooldown)
		}
		return string(d.Kind)
	}
	return ask, st.Close, nil
}
