package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/rules"
)

// initPack is `vigie init`: the starter pack built into the binary, written out
// as rules.yaml and lists/, with the rule file's JSON Schema, so that someone with only the binary can make it
// theirs. Nothing is overwritten unless asked: a CM's edited lists are worth
// more than the pack's.
func (c *cli) initPack(_ context.Context, args []string) int {
	f := c.flags("init")
	force := f.Bool("force", false, "overwrite files that already exist")
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 1 {
		return f.usageError("unexpected argument %q (one directory at most)", pos[1])
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
	}
	files, err := packFiles()
	if err != nil {
		return c.fail("init", err)
	}
	if !*force {
		var existing []string
		for _, pf := range files {
			if _, err := os.Lstat(filepath.Join(dir, pf.dest)); err == nil {
				existing = append(existing, filepath.Join(dir, pf.dest))
			} else if !errors.Is(err, fs.ErrNotExist) {
				return c.fail("init", err)
			}
		}
		if len(existing) > 0 {
			for _, e := range existing {
				fmt.Fprintf(c.stderr, "vigie init: %s exists\n", e)
			}
			fmt.Fprintf(c.stderr, "vigie init: nothing written; use --force to overwrite, or another directory\n")
			return exitFail
		}
	}
	for _, pf := range files {
		dest := filepath.Join(dir, pf.dest)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return c.fail("init", err)
		}
		if err := os.WriteFile(dest, pf.data, 0o644); err != nil {
			return c.fail("init", err)
		}
	}
	rulesFile := filepath.Join(dir, "rules.yaml")
	models := 0
	for _, pf := range files {
		if strings.HasPrefix(filepath.ToSlash(pf.dest), "models/") {
			models++
		}
	}
	fmt.Fprintf(c.stdout, "wrote %s, %s, %d lists in %s and %d models in %s\n", rulesFile, filepath.Join(dir, rules.SchemaFile),
		len(files)-2-models, filepath.Join(dir, "lists"), models, filepath.Join(dir, "models"))
	fmt.Fprintf(c.stdout, "next: edit them, then\n  vigie check --config %[1]s\n  vigie test --config %[1]s\n  vigie run --config %[1]s\n", rulesFile)
	return exitOK
}

type packFile struct {
	dest string // slash-separated, relative to the target directory
	data []byte
}

// packFiles are the starter pack's files with the rule file renamed
// rules.yaml, the name every command looks for first, and the schema it names.
func packFiles() ([]packFile, error) {
	pack := vigie.StarterPack()
	var out []packFile
	err := fs.WalkDir(pack, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(pack, p)
		if err != nil {
			return err
		}
		dest := p
		if p == vigie.ExampleFile {
			dest = "rules.yaml"
		}
		out = append(out, packFile{dest: filepath.FromSlash(dest), data: data})
		return nil
	})
	// the schema the rule file's first line names, for editors
	out = append(out, packFile{dest: rules.SchemaFile, data: rules.Schema()})
	return out, err
}
