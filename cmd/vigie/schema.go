package main

import (
	"context"

	"github.com/vigie-bot/vigie/rules"
)

// schema is `vigie schema`: the JSON Schema of the rule file on stdout, for an
// editor to complete keys and flag mistakes as one types. `vigie init` writes it
// beside rules.yaml; this command is for a file written by hand or an older one.
func (c *cli) schema(_ context.Context, args []string) int {
	f := c.flags("schema")
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return f.usageError("unexpected argument %q", pos[0])
	}
	if _, err := c.stdout.Write(rules.Schema()); err != nil {
		return exitFail
	}
	return exitOK
}
