package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/bot"
)

// decoder walks yaml.Node trees so that every problem carries the position of the
// node at fault, and collects problems instead of stopping at the first.
type decoder struct {
	file      string
	lines     []string
	lookupEnv func(string) (string, bool)
	errs      []Problem
	dropped   int // errors past maxProblems
	warns     []Problem
	// unset collects the ${NAME} variables that were not set while decoding the
	// current scalar; desk values warn about them.
	unset []string
	// secrets are the ${NAME} variables refused as secrets (secretName).
	secrets []string
	// testEventsMade counts the tests' events made so far, repeats included
	// (maxTestEvents).
	testEventsMade int
	// listFiles and modelFiles are the list and model files read so far,
	// by the path they were read at (fileKey): a file named many times is
	// read and compiled once, its names sharing it.
	listFiles  map[string]listFile
	modelFiles map[string]modelFile
	// read is what each list and model file held, by its name in the file
	// (Ruleset.Files).
	read map[string][]byte
}

// keepRead records what the file named name held as it was read.
func (d *decoder) keepRead(name string, data []byte) {
	if d.read == nil {
		d.read = map[string][]byte{}
	}
	d.read[name] = data
}

// maxProblems bounds the problems reported for one file: past it a CM fixes the
// first ones and loads again.
const maxProblems = 100

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errorAt(n.Line, n.Column, format, args...)
}

func (d *decoder) errorAt(line, col int, format string, args ...any) {
	if len(d.errs) >= maxProblems {
		d.dropped++
		return
	}
	d.errs = append(d.errs, Problem{File: d.file, Line: max(line, 1), Col: max(col, 1), Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) warnf(n *yaml.Node, format string, args ...any) {
	d.warns = append(d.warns, Problem{File: d.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases (*anchor) to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!bool":
			return "true/false"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "something else"
}

// entry is one key: value pair of a mapping, in file order.
type entry struct {
	Key   string
	KeyN  *yaml.Node
	Value *yaml.Node
}

// mapping reads n as a mapping whose keys must be among known. Unknown and
// repeated keys are reported (with a "did you mean" hint when a known key is
// close); the known ones are returned by name. Merge keys (<<: *anchor) are
// followed, the mapping's own keys winning.
func (d *decoder) mapping(n *yaml.Node, where string, known ...string) (map[string]entry, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil {
			d.errorf(n, "%s: expected a mapping, got %s", where, kindName(n))
		}
		return nil, false
	}
	out := make(map[string]entry, len(n.Content)/2)
	d.mappingInto(n, where, known, out, false)
	return out, true
}

func (d *decoder) mappingInto(n *yaml.Node, where string, known []string, out map[string]entry, merged bool) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: keys must be plain words, got %s", where, kindName(k))
			continue
		}
		if k.Tag == "!!merge" || k.Value == "<<" {
			v = resolve(v)
			var srcs []*yaml.Node
			switch v.Kind {
			case yaml.MappingNode:
				srcs = []*yaml.Node{v}
			case yaml.SequenceNode:
				for _, s := range v.Content {
					srcs = append(srcs, resolve(s))
				}
			}
			for _, s := range srcs {
				if s.Kind != yaml.MappingNode {
					d.errorf(s, "%s: << must name a mapping", where)
					continue
				}
				d.mappingInto(s, where, known, out, true)
			}
			continue
		}
		if !slices.Contains(known, k.Value) {
			d.errorf(k, "%s", unknownKey(k.Value, where, known))
			continue
		}
		if prev, dup := out[k.Value]; dup {
			if merged {
				continue // the mapping's own key wins over a merged one
			}
			if !prev.fromMerge(n) {
				d.errorf(k, "%s: key %q repeated (first at line %d)", where, k.Value, prev.KeyN.Line)
				continue
			}
		}
		out[k.Value] = entry{Key: k.Value, KeyN: k, Value: v}
	}
}

// fromMerge reports whether e came from another mapping than parent (a << merge).
func (e entry) fromMerge(parent *yaml.Node) bool {
	for i := 0; i < len(parent.Content); i += 2 {
		if parent.Content[i] == e.KeyN {
			return false
		}
	}
	return true
}

func unknownKey(key, where string, known []string) string {
	msg := fmt.Sprintf("%s: unknown key %q", where, key)
	if s := bot.Closest(key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else if s, ok := keySynonyms[strings.ToLower(key)]; ok && slices.Contains(known, s) {
		msg += fmt.Sprintf(" (vigie's word for it is %q)", s)
	}
	return msg
}

// keySynonyms are the words that other bots' rule files use for a key of
// vigie's, which a newcomer writes first: actions: for do:, condition: for
// when:.
var keySynonyms = map[string]string{
	"actions": "do", "action": "do", "then": "do", "effect": "do",
	"condition": "when", "conditions": "when", "if": "when", "match": "when", "expr": "when", "expression": "when", "filter": "when",
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expand replaces ${NAME} with the environment's value; an unset variable is
// replaced by "" and remembered in d.unset.
func (d *decoder) expand(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return envRef.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if secretName(name) {
			if !slices.Contains(d.secrets, name) {
				d.secrets = append(d.secrets, name)
			}
			return ""
		}
		v, ok := d.lookupEnv(name)
		if !ok {
			d.unset = append(d.unset, name)
		}
		return v
	})
}

// secretName reports whether an environment variable's name is a secret's:
// vigie's tokens, passwords and keys, and URLs, which may carry a password
// (VIGIE_REDIS_URL). A rule file has no use for them, and what it expands can
// be shown: in a problem's message, a test's expected reply, the console's
// editor, whose admins need not hold the tokens.
func secretName(name string) bool {
	name = strings.ToUpper(name)
	for _, s := range []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "URL"} {
		if name == s || strings.HasSuffix(name, "_"+s) {
			return true
		}
	}
	return false
}

// refuseSecrets reports each secret the file names, at its first place.
func (d *decoder) refuseSecrets() {
	for _, name := range d.secrets {
		line, col := 1, 1
		for i, l := range d.lines {
			if j := strings.Index(l, "${"+name+"}"); j >= 0 {
				line, col = i+1, utf8.RuneCountInString(l[:j])+1
				break
			}
		}
		d.errorAt(line, col, "${%s}: a secret is not read into the rule file (a name ending in _TOKEN, _SECRET, _PASSWORD, _PASSWD, _KEY or _URL): "+
			"the tokens stay in vigie's environment, where the platforms read them", name)
	}
}

// str reads a scalar as a string, ${ENV} expanded.
func (d *decoder) str(n *yaml.Node, where string) (string, bool) {
	s, ok := d.rawStr(n, where)
	if !ok {
		return "", false
	}
	return d.expand(s), true
}

// rawStr reads a scalar as a string without expansion (expressions).
func (d *decoder) rawStr(n *yaml.Node, where string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "%s: expected a string, got %s", where, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, where string) (bool, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errorf(n, "%s: expected true or false, got %s", where, kindName(n))
		return false, false
	}
	b, err := strconv.ParseBool(n.Value)
	if err != nil {
		// YAML 1.1 spellings (yes/on) that yaml.v3 tags !!bool
		b = strings.EqualFold(n.Value, "yes") || strings.EqualFold(n.Value, "on")
	}
	return b, true
}

func (d *decoder) number(n *yaml.Node, where string) (float64, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		d.errorf(n, "%s: expected a number, got %s", where, kindName(n))
		return 0, false
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil {
		d.errorf(n, "%s: %q is not a number", where, n.Value)
		return 0, false
	}
	return f, true
}

func (d *decoder) integer(n *yaml.Node, where string) (int, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, "%s: expected a whole number, got %s", where, kindName(n))
		return 0, false
	}
	i, err := strconv.Atoi(n.Value)
	if err != nil {
		d.errorf(n, "%s: %q is not a whole number", where, n.Value)
		return 0, false
	}
	return i, true
}

func (d *decoder) duration(n *yaml.Node, where string) (durationAt, bool) {
	s, ok := d.str(n, where)
	if !ok {
		return durationAt{}, false
	}
	dur, err := parseDuration(s)
	if err != nil {
		d.errorf(resolve(n), "%s: %v", where, err)
		return durationAt{}, false
	}
	return durationAt{D: dur, Pos: posOf(n)}, true
}

// seq reads n as a list; a lone scalar is accepted as a list of one when
// single is true (do: delete).
func (d *decoder) seq(n *yaml.Node, where string, single bool) ([]*yaml.Node, bool) {
	n = resolve(n)
	switch {
	case n.Kind == yaml.SequenceNode:
		out := make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			out[i] = resolve(c)
		}
		return out, true
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return nil, true
	case single && n.Kind == yaml.ScalarNode:
		return []*yaml.Node{n}, true
	}
	d.errorf(n, "%s: expected a list, got %s", where, kindName(n))
	return nil, false
}

func (d *decoder) strList(n *yaml.Node, where string, single bool) ([]string, bool) {
	items, ok := d.seq(n, where, single)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	good := true
	for _, it := range items {
		s, ok := d.str(it, where)
		if !ok {
			good = false
			continue
		}
		out = append(out, s)
	}
	return out, good
}

// pos is a place in the rule file.
type pos struct{ Line, Col int }

func posOf(n *yaml.Node) pos {
	n = resolve(n)
	return pos{n.Line, n.Column}
}

// durationAt is a duration read from the file, with where it was written.
type durationAt struct {
	D   time.Duration
	Pos pos
}

// scalarPos maps a rune offset within a scalar's decoded value onto the file,
// so that an error inside an expression points at the character at fault. Quoted
// escapes, folded lines and block scalars are followed; when the raw text cannot
// be followed the scalar's own position is returned.
func (d *decoder) scalarPos(n *yaml.Node, offset int) pos {
	n = resolve(n)
	start := pos{n.Line, n.Column}
	if offset <= 0 && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			start.Col++
		}
		return start
	}
	if n.Line < 1 || n.Line > len(d.lines) {
		return start
	}
	value := []rune(n.Value)
	if offset > len(value) {
		offset = len(value)
	}
	line := n.Line - 1
	var raw []rune
	col := 0 // 0-based rune index into raw
	block := n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
	indent := -1
	nextLine := func() bool {
		line++
		if line >= len(d.lines) {
			return false
		}
		raw = []rune(d.lines[line])
		col = 0
		if block {
			if indent < 0 {
				for col < len(raw) && raw[col] == ' ' {
					col++
				}
				if col < len(raw) {
					indent = col
				} else {
					col = 0
				}
			} else {
				for col < len(raw) && col < indent && raw[col] == ' ' {
					col++
				}
			}
		} else {
			for col < len(raw) && (raw[col] == ' ' || raw[col] == '\t') {
				col++
			}
		}
		return true
	}
	if block {
		if !nextLine() {
			return start
		}
		// blank lines before the content do not set the indentation
		for indent < 0 {
			if !nextLine() {
				return start
			}
		}
	} else {
		raw = []rune(d.lines[line])
		col = n.Column - 1
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			col++
		}
	}
	for i := 0; i < offset; i++ {
		if col >= len(raw) {
			// a line break in the raw text is one rune of the value (\n or a space)
			if !nextLine() {
				return start
			}
			continue
		}
		switch {
		case n.Style&yaml.DoubleQuotedStyle != 0 && raw[col] == '\\' && col+1 < len(raw):
			switch raw[col+1] {
			case 'x':
				col += 4
			case 'u':
				col += 6
			case 'U':
				col += 10
			default:
				col += 2
			}
		case n.Style&yaml.SingleQuotedStyle != 0 && raw[col] == '\'' && col+1 < len(raw) && raw[col+1] == '\'':
			col += 2
		default:
			col++
		}
	}
	if col > len(raw) {
		col = len(raw)
	}
	return pos{line + 1, col + 1}
}

// maxExpandedNodes bounds what aliases may expand a rule file to: a few
// anchors referring to each other can otherwise make a small file huge.
const maxExpandedNodes = 200_000

// maxYAMLDepth bounds how deep the file nests, aliases followed: a rule file
// needs about ten levels (tests: events: author: roles:), and the decoder
// recurses once per level.
const maxYAMLDepth = 64

// checkAliases refuses a document whose aliases refer to themselves, expand it
// beyond maxExpandedNodes or nest it deeper than maxYAMLDepth, before anything
// walks it.
func (d *decoder) checkAliases(root *yaml.Node) bool {
	count := 0
	depth := 0
	onPath := map[*yaml.Node]bool{}
	var outer *yaml.Node // the alias written in the document that is being expanded
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		count++
		if count > maxExpandedNodes {
			if outer == nil {
				// As many nodes written out, no alias: a huge inline list.
				d.errorf(n, "the file has more than %d YAML nodes: put a long list in a list file (lists: NAME: {file: …})", maxExpandedNodes)
				return false
			}
			d.errorf(outer, "the file expands to more than %d nodes through its aliases", maxExpandedNodes)
			return false
		}
		depth++
		defer func() { depth-- }()
		if depth > maxYAMLDepth+1 { // +1: the document node
			at := n
			if outer != nil {
				at = outer
			}
			d.errorf(at, "the file nests more than %d levels deep", maxYAMLDepth)
			return false
		}
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return true
			}
			if onPath[n.Alias] {
				d.errorf(n, "alias *%s refers to itself", n.Value)
				return false
			}
			if outer == nil {
				outer = n
				defer func() { outer = nil }()
			}
			onPath[n.Alias] = true
			ok := walk(n.Alias)
			delete(onPath, n.Alias)
			return ok
		}
		onPath[n] = true
		defer delete(onPath, n)
		for _, c := range n.Content {
			if !walk(c) {
				return false
			}
		}
		return true
	}
	return walk(root)
}
