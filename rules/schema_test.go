package rules_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/rules"
)

// The committed rules.schema.json is what Schema returns: regenerate it with
// `go run ./cmd/vigie schema > rules.schema.json`.
func TestSchemaFileIsCurrent(t *testing.T) {
	got, err := os.ReadFile(filepath.Join("..", rules.SchemaFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, rules.Schema()) {
		t.Errorf("%s differs from rules.Schema(); run: go run ./cmd/vigie schema > %s", rules.SchemaFile, rules.SchemaFile)
	}
}

// decoderKeySets reads the decoder's sources and returns the key set of every
// d.mapping(node, where, keys...) call, each sorted and joined by spaces. Keys
// are string literals or a package-level []string variable passed with ...
func decoderKeySets(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	vars := map[string][]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, v := range vs.Values {
					if lit, ok := v.(*ast.CompositeLit); ok {
						if words, ok := stringLits(lit.Elts); ok {
							vars[vs.Names[i].Name] = words
						}
					}
				}
			}
		}
	}
	var sets []string
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "mapping" || len(call.Args) < 3 {
				return true
			}
			var keys []string
			if id, ok := call.Args[2].(*ast.Ident); ok && call.Ellipsis.IsValid() {
				words, found := vars[id.Name]
				if !found {
					t.Errorf("%s: mapping keys in %s, not a []string literal", fset.Position(call.Pos()), id.Name)
					return true
				}
				keys = words
			} else if words, ok := stringLits(call.Args[2:]); ok {
				keys = words
			} else {
				t.Errorf("%s: mapping keys that are not string literals", fset.Position(call.Pos()))
				return true
			}
			sets = append(sets, keySet(keys))
			return true
		})
	}
	return sets
}

func stringLits(exprs []ast.Expr) ([]string, bool) {
	var out []string
	for _, e := range exprs {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return nil, false
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func keySet(keys []string) string {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	return strings.Join(keys, " ")
}

// schemaKeySets returns the key set of every object of the schema that admits
// no other key.
func schemaKeySets(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if props, ok := v["properties"].(map[string]any); ok && v["additionalProperties"] == false {
			var keys []string
			for k := range props {
				keys = append(keys, k)
			}
			out = append(out, keySet(keys))
		}
		for _, c := range v {
			out = append(out, schemaKeySets(c)...)
		}
	case []any:
		for _, c := range v {
			out = append(out, schemaKeySets(c)...)
		}
	}
	return out
}

// Every mapping the decoder reads strictly is a closed object of the schema with
// the same keys, and the schema closes no other object: a key added to the
// decoder and not to the schema (or the other way) fails here.
func TestSchemaKeysAreTheDecoders(t *testing.T) {
	var doc any
	if err := json.Unmarshal(rules.Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	dec := decoderKeySets(t)
	sch := schemaKeySets(doc)
	slices.Sort(dec)
	slices.Sort(sch)
	dec, sch = slices.Compact(dec), slices.Compact(sch)
	if len(dec) < 10 {
		t.Fatalf("only %d mapping calls found in the decoder: %q", len(dec), dec)
	}
	for _, s := range dec {
		if !slices.Contains(sch, s) {
			t.Errorf("the decoder reads a mapping of {%s}; the schema has no such object", s)
		}
	}
	for _, s := range sch {
		if !slices.Contains(dec, s) {
			t.Errorf("the schema has an object of {%s}; the decoder reads no such mapping", s)
		}
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(rules.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(rules.SchemaFile, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(rules.SchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlToJSON decodes a rule file as an editor's YAML language server sees it.
func yamlToJSON(t *testing.T, src []byte) any {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		t.Fatal(err)
	}
	// a date stays text, as the decoder and editors read it (yaml.v3 would make it a time)
	var plain func(n *yaml.Node)
	plain = func(n *yaml.Node) {
		if n.Tag == "!!timestamp" {
			n.Tag = "!!str"
		}
		for _, c := range n.Content {
			plain(c)
		}
	}
	plain(&root)
	var v any
	if err := root.Decode(&v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// The files that load are valid against the schema, so an editor never flags a
// good file.
func TestSchemaAcceptsGoodFiles(t *testing.T) {
	s := compileSchema(t)
	files, err := filepath.Glob(filepath.Join("testdata", "good", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "rules.example.yaml"))
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rules.Load(name); err != nil {
			t.Errorf("%s does not load: %v", name, err)
		}
		if err := s.Validate(yamlToJSON(t, src)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// What the decoder takes in a shorter form, the schema takes too.
func TestSchemaAcceptsShortForms(t *testing.T) {
	s := compileSchema(t)
	for _, src := range []string{
		"rules:\nalerts:\n", // empty lists
		"rules: [{name: a, when: 'true', do: delete}]\n", // one action alone
		"rules: [{name: a, when: 'true', do: [{timeout: 10m}, {warn: hi}, strike]}]\n",
		"rules: []\ndesk: {telegram_chat: -1001234567890, cms: telegram:1}\n", // an id written as a number
		"rules: []\nfaq: {entries: [{id: a, questions: q, answer: text}]}\n",
		"faq: {entries: [{id: a, questions: q, answer: text}]}\n", // the assistant alone
		"rules: []\noffice_hours: {mon-fri: [\"09:00-12:00\", \"14:00-18:00\"], sat: \"10:00-13:00\"}\n",
		"rules: []\nhttp_events: {act_on: discord}\n",
		"rules: []\noffice_hours: {\"Sat,SUN\": \"10:00-12:00\", mon - fri: \"09:00-18:00\"}\nholidays: [fr, 2026-12-24]\n",
	} {
		if _, err := rules.Parse("short.yaml", []byte(src), rules.LoadOptions{}); err != nil {
			t.Errorf("the decoder refuses %q: %v", src, err)
		}
		if err := s.Validate(yamlToJSON(t, []byte(src))); err != nil {
			t.Errorf("the schema refuses %q: %v", src, err)
		}
	}
}

// A misspelt key or a wrong type is flagged by the schema as by the decoder.
func TestSchemaRejectsMistakes(t *testing.T) {
	s := compileSchema(t)
	for _, src := range []string{
		"rule: []\n",      // misspelt top-level key
		"timezone: UTC\n", // neither rules nor faq
		"rules: [{name: a, when: 'true', hour: after}]\n",                    // misspelt rule key
		"rules: [{name: a, when: 'true', hours: night}]\n",                   // not one of always, after, office
		"rules: [{name: a}]\n",                                               // no when
		"rules: {name: a, when: 'true'}\n",                                   // a mapping, not a list
		"rules: []\nfaq: {threshold: high}\n",                                // not a number
		"rules: []\nfaq: {threshold: 2}\n",                                   // above 1
		"rules: []\ncounters: {msgs: {key: author.id}}\n",                    // no window
		"rules: []\ncounters: {msgs: {key: author.id, window: 1m, by: x}}\n", // unknown key
		"rules: []\nlists: {bad-name: [a]}\n",                                // not usable as lists.NAME
		"rules: []\ndesk: {cms: [{telegram: 1}]}\n",                          // not a string
		"rules: []\ntests: [{name: t, events: [{text: a, repeat: many}], expect: [{event: 1}]}]\n",
		"rules: []\ncomments: {delete: erase}\n",
		"rules: []\noffice_hours: {mun-fri: \"09:00-18:00\"}\n", // not a day
		"rules: []\nholidays: [2026-12]\n",                      // not a date
	} {
		if _, err := rules.Parse("bad.yaml", []byte(src), rules.LoadOptions{}); err == nil {
			t.Errorf("the decoder takes %q", src)
		}
		if err := s.Validate(yamlToJSON(t, []byte(src))); err == nil {
			t.Errorf("the schema takes %q", src)
		}
	}
}
