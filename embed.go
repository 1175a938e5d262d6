// Package vigie holds the starter rule pack that ships inside the binary, and finds
// the rule file a command should use.
package vigie

import (
	"embed"
	"errors"
	"io/fs"
	"os"
	"path"

	"github.com/vigie-bot/vigie/rules"
)

// starterPack is rules.example.yaml with the list files it names.
//
//go:embed rules.example.yaml lists models/*.bin
var starterPack embed.FS

// ExampleFile is the starter pack's file name, in the binary and in the repository.
const ExampleFile = "rules.example.yaml"

// DefaultConfigs are the files tried, in order, when no --config is given.
var DefaultConfigs = []string{"rules.yaml", ExampleFile}

// EmbeddedName is how messages name the starter pack built into the binary.
const EmbeddedName = "(embedded) " + ExampleFile

// LoadRules loads the rule file at path. An empty path tries DefaultConfigs in the
// working directory, then the starter pack built into the binary, so that vigie
// runs on a fresh machine with no file at all. It returns the name it loaded.
func LoadRules(p string) (*rules.Ruleset, string, error) {
	return LoadRulesWith(p, rules.LoadOptions{})
}

// LoadRulesWith is LoadRules with options (models replaced or switched off);
// the starter pack built in still reads its lists and models from the binary.
func LoadRulesWith(p string, opts rules.LoadOptions) (*rules.Ruleset, string, error) {
	if p != "" {
		rs, err := rules.LoadWith(p, opts)
		return rs, p, err
	}
	for _, name := range DefaultConfigs {
		if _, err := os.Stat(name); err == nil {
			rs, err := rules.LoadWith(name, opts)
			return rs, name, err
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, name, err
		}
	}
	rs, err := loadEmbedded(opts)
	return rs, EmbeddedName, err
}

// StarterPack is the starter pack built into the binary: ExampleFile and the
// lists/ and models/ it names, for `vigie init` to write out.
func StarterPack() fs.FS { return starterPack }

// LoadEmbedded compiles the starter pack built into the binary.
func LoadEmbedded() (*rules.Ruleset, error) {
	return loadEmbedded(rules.LoadOptions{})
}

func loadEmbedded(opts rules.LoadOptions) (*rules.Ruleset, error) {
	src, err := starterPack.ReadFile(ExampleFile)
	if err != nil {
		return nil, err
	}
	opts.ReadFile = func(name string) ([]byte, error) {
		return starterPack.ReadFile(path.Clean(name))
	}
	return rules.Parse(ExampleFile, src, opts)
}
