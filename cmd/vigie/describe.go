package main

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/rules"
)

// describe sums up a loaded rule file for `vigie check`: "12 rules, 4 counters,
// 10 lists, 31 tests, 6 faq entries". The compiled Ruleset keeps only its rules in public, so
// the other sections are counted from the file as written, which the load has
// just found valid; the starter pack built into the binary has no file to read
// and is described by its rules alone.
func describe(rs *rules.Ruleset, name string) string {
	parts := []string{plural(len(rs.Rules), "rule")}
	src, err := os.ReadFile(name)
	if err != nil {
		return strings.Join(parts, ", ")
	}
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(src, &top); err != nil {
		return strings.Join(parts, ", ")
	}
	count := func(key string) int {
		n, ok := top[key]
		if !ok {
			return 0
		}
		switch n.Kind {
		case yaml.MappingNode:
			return len(n.Content) / 2
		case yaml.SequenceNode:
			return len(n.Content)
		}
		return 0
	}
	parts = append(parts,
		plural(count("counters"), "counter"),
		plural(count("lists"), "list"))
	if n := len(rs.Models); n > 0 {
		parts = append(parts, plural(n, "model"))
	}
	parts = append(parts, plural(count("tests"), "test"))
	if n := len(rs.FAQ.Entries); n > 0 {
		parts = append(parts, plural(n, "faq entry"))
	}
	switch n := len(rs.Communities); {
	case n == 1:
		parts = append(parts, "1 community")
	case n > 1:
		parts = append(parts, fmt.Sprintf("%d communities", n))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	switch {
	case n == 1:
		return fmt.Sprintf("%d %s", n, word)
	case strings.HasSuffix(word, "ry"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// warningLine renders a problem that does not stop the file from loading, in the
// FILE:LINE:COL form of errors so that editors jump to it too.
func warningLine(p rules.Problem) string {
	return fmt.Sprintf("%s:%d:%d: warning: %s", p.File, p.Line, p.Col, p.Msg)
}
