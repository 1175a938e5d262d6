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
	learned := f.Bool("learned", false, "list the intents each entry inherits and why, with the wordings the CMs taught from the desk when --redis is given")
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
			return c.fail("faq", err)
		}
		fmt.Fprintf(c.stdout, "%s\n", b)
		return exitOK
	}
	if err := m.WriteText(c.stdout, d); err != nil {
		return c.fail("faq", err)
	}
	return exitOK
}

// faqEval is `vigie faq --eval FILE`: how the FAQ does on a set of messages.
func (c *cli) faqEval(m *faq.Matcher, name string) int {
	f, err := os.Open(name)
	if err != nil {
		return c.fail("faq", err)
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
		return c.fail("faq", err)
	}
	return exitOK
}

// faqLearned is `vigie faq --learned`: the entries of the file, the intents
// each inherits and why, and the wordings the CMs taught from the desk, read
// from the Redis store vigie run uses. Without one (a vigie run on the memory
// store, or no vigie run yet), the entries and their intents are listed
// alone: what an entry answers beyond its examples is known from the file.
func (c *cli) faqLearned(ctx context.Context, config, redisURL string) int {
	if redisURL == "" {
		redisURL = c.getenv("VIGIE_REDIS_URL")
	}
	rs, _, ok := c.loadRules("faq", config)
	if !ok {
		return exitFail
	}
	why, err := faq.EntryInheritance(rs.FAQ.Entries, rs.FAQ.Synonyms)
	if err != nil {
		return c.fail("faq", err)
	}
	var ws []store.FAQWording
	if redisURL != "" {
		st, err := c.openRedis(redisURL)
		if err != nil {
			return c.fail("faq", err)
		}
		ws, err = st.FAQWordings(ctx)
		st.Close()
		if err != nil {
			return c.fail("faq", err)
		}
	}
	byEntry := map[string][]store.FAQWording{}
	for _, w := range ws {
		byEntry[w.Entry] = append(byEntry[w.Entry], w)
	}
	var b strings.Builder
	if redisURL != "" {
		fmt.Fprintf(&b, "%d wordings taught from the desk\n", len(ws))
	} else {
		fmt.Fprintln(&b, "no store read: the wordings taught from the desk are in the Redis store of vigie run (--redis URL or VIGIE_REDIS_URL); a memory store keeps them only while vigie runs")
	}
	for _, e := range rs.FAQ.Entries {
		names := make([]string, 0, len(why[e.ID]))
		for _, in := range why[e.ID] {
			names = append(names, in.Intent)
		}
		taught := ""
		if redisURL != "" {
			taught = fmt.Sprintf(", %d taught", len(byEntry[e.ID]))
		}
		fmt.Fprintf(&b, "%s (%d examples%s; intents: %s)\n", e.ID, len(e.Questions), taught, cmp.Or(strings.Join(names, ", "), "none"))
		for _, in := range why[e.ID] {
			fmt.Fprintf(&b, "  intent %s: %s\n", in.Intent, inheritedBecause(in))
		}
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

// inheritedBecause says why an entry inherited an intent, in a CM's words.
func inheritedBecause(in faq.Inheritance) string {
	switch {
	case in.Named:
		return "named by its intent: key"
	case in.Family != "":
		return fmt.Sprintf("in the family of %s, which it asks; no entry asks %s itself", in.Family, in.Intent)
	}
	asked := make([]string, 0, len(in.Votes))
	for _, v := range in.Votes {
		asked = append(asked, fmt.Sprintf("%q (%.2f)", v.Question, v.Score))
	}
	return "asked by " + strings.Join(asked, ", ")
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
		if !faq.Heard(ev, &v) {
			// acted on, staff, a join or an edit (most events): the
			// assistant would only count a silence nobody reads here
			return string(faq.Silent)
		}
		d, _ := a.Handle(ctx, m, ev, v)
		if d.Why == faq.WhyCooldown {
			return string(faq.Cooldown)
		}
		return string(d.Kind)
	}
	return ask, st.Close, nil
}
