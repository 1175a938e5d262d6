package rules

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/bot"
)

// Limits that keep a pathological expression from hurting the bot: MaxNodes
// refuses it at load; the memory budget stops it at run time (and at load, where
// each condition is tried once on an empty event).
const (
	maxExprNodes    = 500
	exprMemoryLimit = 100_000
	// maxExprDepth and maxExprLen are checked before expr's parser sees the
	// text: it recurses once per bracket or prefix operator, and a file nested
	// 500,000 parentheses deep overflowed the stack, which no recover catches.
	// MaxNodes does not help, as parentheses make no node.
	maxExprDepth = 50
	maxExprLen   = 20_000
)

// exprSpec is an expression as written in the file.
type exprSpec struct {
	Src  string
	Node *yaml.Node
}

// exprScope says where an expression is written, which decides what it may read.
type exprScope int

const (
	scopeRule    exprScope = iota // a rule's when:
	scopeCounter                  // a counter's key: or when: (counters and strikes are not known yet)
)

// exprCompiler compiles the expressions of one rule file against its counters
// and lists.
type exprCompiler struct {
	d            *decoder
	counterIndex map[string]int
	counterNames []string
	lists        map[string]*wordList
	listNames    []string
	models       map[string]*modelRef
	modelNames   []string
	// varNames are the file's vars:, read as community.vars.NAME.
	varNames []string
	// strikeWindow is the longest constant window given to strikes(); dynamic
	// says a window is only known at run time.
	strikeWindow time.Duration
	dynamic      bool
	// brands are the lists lookalike() reads, in the order first met: their
	// hosts' names are read as links alone under any top-level domain
	brands []*wordList
}

// compiled is a compiled expression and its unpatched syntax tree (for reasons).
type compiled struct {
	prog *vm.Program
	src  string // after the matches( rewrite
}

// compile compiles e; what prefixes its messages (`rule "flood": when`). want is
// reflect.Bool for conditions and reflect.String for counter keys.
func (c *exprCompiler) compile(e exprSpec, what string, scope exprScope, want reflect.Kind) (compiled, bool) {
	if !checkShape(c.d, e, what) {
		return compiled{}, false
	}
	src := rewriteMatches(e.Src)
	if strings.TrimSpace(src) == "" {
		c.d.errorf(e.Node, "%s: empty expression", what)
		return compiled{}, false
	}
	p := &patcher{c: c, scope: scope, src: src}
	prog, err := expr.Compile(src, c.options(p, want)...)
	if len(p.problems) > 0 {
		for _, pr := range p.problems {
			at := c.d.scalarPos(e.Node, pr.offset)
			c.d.errorAt(at.Line, at.Col, "%s: %s", what, pr.msg)
		}
		return compiled{}, false
	}
	if err != nil {
		offset := 0
		msg := err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			offset, msg = fe.From, fe.Message
		}
		at := c.d.scalarPos(e.Node, offset)
		c.d.errorAt(at.Line, at.Col, "%s: %s", what, friendlyExprError(msg))
		return compiled{}, false
	}
	return compiled{prog: prog, src: src}, true
}

func (c *exprCompiler) options(p *patcher, want reflect.Kind) []expr.Option {
	opts := []expr.Option{
		expr.Env(exprEnv{}),
		expr.MaxNodes(maxExprNodes),
		// now() would make replay and the file's tests depend on the wall clock;
		// the engine's clock is in after_hours and strikes().
		expr.DisableBuiltin("now"),
		expr.Patch(p),
	}
	opts = append(opts, envFunctions()...)
	switch want {
	case reflect.Bool:
		opts = append(opts, expr.AsBool())
	case reflect.String:
		opts = append(opts, expr.AsKind(reflect.String))
	}
	return opts
}

// checkShape refuses an expression too long or too deeply nested for expr's
// parser, reporting the problem where it starts.
func checkShape(d *decoder, e exprSpec, what string) bool {
	if len(e.Src) > maxExprLen {
		d.errorf(e.Node, "%s: the expression is %d characters long, more than %d", what, len(e.Src), maxExprLen)
		return false
	}
	if offset, ok := nestingDepth(e.Src, maxExprDepth); !ok {
		at := d.scalarPos(e.Node, offset)
		d.errorAt(at.Line, at.Col, "%s: brackets nested more than %d deep", what, maxExprDepth)
		return false
	}
	return true
}

// nestingDepth scans src for (, [ and { nested more than limit deep, skipping
// string literals and comments; it returns the rune offset of the first
// bracket past the limit, and false.
func nestingDepth(src string, limit int) (int, bool) {
	depth := 0
	var quote rune // the open string's quote, or 0
	escaped := false
	comment := "" // "//" or "/*" while in a comment
	var prev rune
	i := 0
	for _, r := range src {
		switch {
		case comment == "//":
			if r == '\n' {
				comment = ""
			}
		case comment == "/*":
			if prev == '*' && r == '/' {
				comment = ""
				r = 0 // the / closing a comment does not open another
			}
		case quote != 0:
			switch {
			case escaped:
				escaped = false
			case r == '\\' && quote != '`':
				escaped = true
			case r == quote:
				quote = 0
			}
		case r == '"' || r == '\'' || r == '`':
			quote = r
		case prev == '/' && (r == '/' || r == '*'):
			comment = string(prev) + string(r)
			r = 0 // /*/ does not close the comment it opens
		case r == '(' || r == '[' || r == '{':
			depth++
			if depth > limit {
				return i, false
			}
		case r == ')' || r == ']' || r == '}':
			depth = max(depth-1, 0)
		}
		prev = r
		i++
	}
	return 0, true
}

// rewriteMatches prepares the two spellings of regular expressions:
//
//   - the function form matches(s, re) is renamed to matchesFunc, because
//     "matches" is an operator of the expr language (s matches "re"); the new name
//     has the same length so that error positions do not move;
//   - a pattern written as a quoted literal, in either form, is taken as written,
//     backslashes included, as in every regex tool: '\bcat\b' means word
//     boundaries (expr would read \b as a backspace, and \W as an error). The
//     quotes become backquotes, expr's raw strings, again without moving anything.
//
// It scans tokens itself: expr's lexer stops at the first \W it meets.
func rewriteMatches(src string) string {
	if !strings.Contains(src, "matches") {
		return src
	}
	runes := []rune(src)
	toks := scanTokens(runes)
	changed := false
	for i, t := range toks {
		if t.kind != tokIdent || string(runes[t.from:t.to]) != "matches" {
			continue
		}
		infix := i > 0 && toks[i-1].endsOperand(runes)
		if infix {
			if i+1 < len(toks) && rawify(runes, toks[i+1]) {
				changed = true
			}
			continue
		}
		if i+1 >= len(toks) || toks[i+1].kind != tokPunct || runes[toks[i+1].from] != '(' {
			continue
		}
		copy(runes[t.from:], []rune(matchesFunc))
		changed = true
		// the pattern is the second argument: skip the first, up to its comma
		depth := 0
		for j := i + 2; j < len(toks); j++ {
			tk := toks[j]
			if tk.kind != tokPunct {
				continue
			}
			switch runes[tk.from] {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				depth--
			case ',':
				if depth == 0 && j+1 < len(toks) {
					rawify(runes, toks[j+1])
				}
			}
			if depth < 0 || depth == 0 && runes[tk.from] == ',' {
				break
			}
		}
	}
	if !changed {
		return src
	}
	return string(runes)
}

// rawify turns a quoted string token into a raw one when it can.
func rawify(runes []rune, t token) bool {
	if t.kind != tokString || runes[t.from] == '`' || t.to-t.from < 2 {
		return false
	}
	body := runes[t.from+1 : t.to-1]
	if slices.Contains(body, '`') || !slices.Contains(body, '\\') {
		return false
	}
	runes[t.from], runes[t.to-1] = '`', '`'
	return true
}

type tokKind uint8

const (
	tokIdent tokKind = iota
	tokNumber
	tokString
	tokPunct
)

type token struct {
	kind     tokKind
	from, to int // rune offsets
}

func (t token) endsOperand(runes []rune) bool {
	switch t.kind {
	case tokIdent:
		switch string(runes[t.from:t.to]) {
		case "and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith", "let", "if", "else":
			return false
		}
		return true
	case tokNumber, tokString:
		return true
	}
	c := runes[t.from]
	return c == ')' || c == ']' || c == '}'
}

// scanTokens splits an expression into identifiers, numbers, strings and
// single punctuation runes: just enough to find matches and its arguments.
func scanTokens(r []rune) []token {
	var out []token
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '_' || c == '$' || unicode.IsLetter(c):
			j := i + 1
			for j < len(r) && (r[j] == '_' || unicode.IsLetter(r[j]) || unicode.IsDigit(r[j])) {
				j++
			}
			out = append(out, token{tokIdent, i, j})
			i = j
		case unicode.IsDigit(c):
			j := i + 1
			for j < len(r) && (unicode.IsDigit(r[j]) || r[j] == '.' || r[j] == '_' || unicode.IsLetter(r[j])) {
				j++
			}
			out = append(out, token{tokNumber, i, j})
			i = j
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(r) && r[j] != c {
				if r[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			j = min(j+1, len(r))
			out = append(out, token{tokString, i, j})
			i = j
		default:
			out = append(out, token{tokPunct, i, i + 1})
			i++
		}
	}
	return out
}

// friendlyExprError rewrites expr's messages in the words of the rule file.
func friendlyExprError(msg string) string {
	msg = strings.ReplaceAll(msg, matchesFunc, "matches")
	if rest, ok := strings.CutPrefix(msg, "error parsing regexp: "); ok {
		return "matches: bad regular expression: " + rest
	}
	if m := noFieldRe.FindStringSubmatch(msg); m != nil {
		if prefix, fields := envTypeFields(m[1]); prefix != "" {
			out := fmt.Sprintf("unknown field %s.%s", prefix, m[2])
			if s := bot.Closest(m[2], fields); s != "" {
				out += fmt.Sprintf(" (did you mean %s.%s?)", prefix, s)
			}
			return out
		}
	}
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		if s := bot.Closest(name, topLevelNames()); s != "" {
			return fmt.Sprintf("unknown name %s (did you mean %s?)", name, s)
		}
		return msg
	}
	if m := listArgRe.FindStringSubmatch(msg); m != nil {
		return m[1] + " takes a list of the file as its second argument, lists.NAME: declare it under lists: (NAME: [a, b], or NAME: {file: FILE}) and write lists.NAME"
	}
	switch msg {
	case `unexpected token Operator("=")`:
		return "unexpected =: compare with ==, as in text == \"hello\""
	case "unexpected token EOF":
		return "the expression ends too early: an and, or or operator with nothing after it, or a bracket or quote never closed"
	case "literal not terminated":
		return "a text's quote is never closed"
	case `unexpected token Bracket(")")`, `unexpected token Bracket("]")`:
		return "unexpected " + msg[len(msg)-3:len(msg)-2] + ": closes a bracket that was never opened"
	}
	msg = strings.ReplaceAll(msg, "*rules.wordList", "list")
	msg = strings.ReplaceAll(msg, "*rules.modelRef", "model")
	msg = strings.ReplaceAll(msg, "rules.authorEnv", "author")
	msg = strings.ReplaceAll(msg, "rules.exprEnv", "the event")
	return msg
}

var noFieldRe = regexp.MustCompile(`^type (\S+) has no field (\S+)$`)

// listArgRe is expr's refusal of what is no list of the file where a function
// takes one: an inline ["a", "b"] or a text.
var listArgRe = regexp.MustCompile(`^cannot use .* as argument \(type \*rules\.wordList\) to call (\w+)\s*$`)

func envTypeFields(typeName string) (string, []string) {
	switch typeName {
	case "rules.authorEnv":
		return "author", tagNames(reflect.TypeFor[authorEnv]())
	}
	return "", nil
}

func tagNames(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if tag := f.Tag.Get("expr"); tag != "" {
			out = append(out, tag)
		}
	}
	return out
}

func topLevelNames() []string {
	names := slices.DeleteFunc(tagNames(reflect.TypeFor[exprEnv]()), func(n string) bool { return n == stateName })
	names = append(names, "has_any", "any_in", "all_in", "none_in", "strikes", "duration", "matches", "score")
	return append(names, signalNames()...)
}

// patcher checks and rewrites an expression's tree before expr type-checks it:
// counters.NAME becomes an index, lists.NAME the compiled list, constant
// durations and regular expressions are parsed once, and the functions that need
// the event get it as a hidden first argument.
type patcher struct {
	patchNotes
	c     *exprCompiler
	src   string // the expression, to tell names bound by let
	scope exprScope
}

type exprProblem struct {
	offset int
	msg    string
}

// patchNotes is what a patcher keeps while it walks a tree: the problems found,
// each once, and the nodes it has rewritten, which expr may visit again.
type patchNotes struct {
	problems []exprProblem
	patched  map[ast.Node]bool
}

func (p *patchNotes) problem(n ast.Node, format string, args ...any) {
	pr := exprProblem{offset: n.Location().From, msg: fmt.Sprintf(format, args...)}
	if !slices.Contains(p.problems, pr) {
		p.problems = append(p.problems, pr)
	}
}

func (p *patchNotes) markPatched(n ast.Node) {
	if p.patched == nil {
		p.patched = map[ast.Node]bool{}
	}
	p.patched[n] = true
}

// counter rewrites counters.NAME into counters[i], the counter's place in the
// slice the environment carries.
func (p *patchNotes) counter(c *exprCompiler, n *ast.MemberNode) {
	name, ok := n.Property.(*ast.StringNode)
	if !ok {
		p.problem(n, "write counters.NAME with a counter's name")
		return
	}
	idx, known := c.counterIndex[name.Value]
	if !known {
		p.problem(name, "%s", unknownName("counter", "counters", name.Value, c.counterNames))
		return
	}
	prop := &ast.IntegerNode{Value: idx}
	prop.SetLocation(name.Location())
	n.Property = prop
	p.markPatched(n)
}

func (p *patcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		p.member(node, n)
	case *ast.CallNode:
		p.call(node, n)
	case *ast.IdentifierNode:
		if n.Value == stateName && !p.patched[n] {
			p.problem(n, "unknown name %s", n.Value)
		}
	case *ast.BinaryNode:
		if n.Operator == "matches" {
			p.matchesOperator(node, n)
			return
		}
		if p.budgetNode(node) {
			return
		}
		p.compareDuration(n)
	case *ast.BuiltinNode:
		p.stepNode(n)
		p.budgetNode(node)
	}
}

// matchesOperator turns s matches "re" into the function form, which has
// the word prefilter and says what matched in reasons when the pattern is
// constant, and keeps a pattern built at run time compiled (expr's operator
// compiled it at every call).
func (p *patcher) matchesOperator(node *ast.Node, n *ast.BinaryNode) {
	call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: matchesFunc}, Arguments: []ast.Node{n.Left, n.Right}}
	call.SetLocation(n.Location())
	call.Callee.SetLocation(n.Location())
	ast.Patch(node, call)
	p.call(node, call)
}

var durationType = reflect.TypeFor[time.Duration]()

// compareDuration lets a duration be compared with 0 (author.account_age > 0, the
// test for a known age). Any other number is refused with a hint: would 7 be
// seconds, days, nanoseconds?
func (p *patcher) compareDuration(n *ast.BinaryNode) {
	switch n.Operator {
	case ">", ">=", "<", "<=", "==", "!=":
	default:
		return
	}
	for _, side := range []*ast.Node{&n.Left, &n.Right} {
		other := n.Right
		if side == &n.Right {
			other = n.Left
		}
		if other.Type() != durationType {
			continue
		}
		num, ok := (*side).(*ast.IntegerNode)
		if !ok {
			continue
		}
		if num.Value != 0 {
			p.problem(num, "compare a duration with a duration, like duration(\"7d\"), not with %d", num.Value)
			return
		}
		*side = constantAt(time.Duration(0), num)
	}
}

func (p *patcher) member(node *ast.Node, n *ast.MemberNode) {
	if inner, ok := n.Node.(*ast.MemberNode); ok {
		p.communityVar(n, inner)
		return
	}
	id, ok := n.Node.(*ast.IdentifierNode)
	if !ok || p.patched[n] {
		return
	}
	switch id.Value {
	case "counters":
		if p.scope == scopeCounter {
			p.problem(n, "a counter cannot read counters (they are counted together)")
			return
		}
		p.counter(p.c, n)
	case "lists":
		name, ok := n.Property.(*ast.StringNode)
		if !ok {
			p.problem(n, "write lists.NAME with a list's name")
			return
		}
		l, known := p.c.lists[name.Value]
		if !known {
			p.problem(name, "%s", unknownName("list", "lists", name.Value, p.c.listNames))
			return
		}
		ast.Patch(node, &ast.ConstantNode{Value: l})
	}
}

// communityVar checks community.vars.NAME against the file's vars:, which
// give every var its value outside the communities.
func (p *patcher) communityVar(n, inner *ast.MemberNode) {
	id, ok := inner.Node.(*ast.IdentifierNode)
	if !ok || id.Value != "community" {
		return
	}
	if prop, ok := inner.Property.(*ast.StringNode); !ok || prop.Value != "vars" {
		return
	}
	name, ok := n.Property.(*ast.StringNode)
	if !ok {
		p.problem(n, "write community.vars.NAME with a var's name")
		return
	}
	if !slices.Contains(p.c.varNames, name.Value) {
		p.problem(name, "%s", unknownName("var", "community.vars", name.Value, p.c.varNames))
	}
}

func unknownName(what, prefix, name string, known []string) string {
	msg := fmt.Sprintf("unknown %s %s.%s", what, prefix, name)
	if s := bot.Closest(name, known); s != "" {
		return msg + fmt.Sprintf(" (did you mean %s.%s?)", prefix, s)
	}
	if len(known) == 0 {
		return msg + fmt.Sprintf(" (the file declares no %ss)", what)
	}
	return msg + fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
}

func (p *patcher) call(node *ast.Node, n *ast.CallNode) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	if id.Value == "duration" && len(n.Arguments) == 1 {
		if s, ok := n.Arguments[0].(*ast.StringNode); ok {
			d, err := parseDuration(s.Value)
			if err != nil {
				p.problem(s, "%v", err)
				return
			}
			ast.Patch(node, &ast.ConstantNode{Value: d})
		}
		return
	}
	if !envFuncs[id.Value] {
		return
	}
	args := n.Arguments
	if len(args) > 0 {
		if first, ok := args[0].(*ast.IdentifierNode); ok && first.Value == stateName {
			return // already done
		}
	}
	switch id.Value {
	case "strikes":
		if p.scope == scopeCounter {
			p.problem(n, "a counter cannot read strikes()")
			return
		}
		if len(args) == 1 {
			switch a := args[0].(type) {
			case *ast.StringNode:
				d, err := parseDuration(a.Value)
				if err != nil {
					p.problem(a, "strikes: %v", err)
					return
				}
				p.c.strikeWindow = max(p.c.strikeWindow, d)
				args[0] = constantAt(d, a)
			case *ast.ConstantNode:
				if d, ok := a.Value.(time.Duration); ok {
					p.c.strikeWindow = max(p.c.strikeWindow, d)
				} else {
					p.c.dynamic = true
				}
			default:
				p.c.dynamic = true
			}
		}
	case "score":
		p.model(args)
	case "lookalike":
		if len(args) == 2 {
			if c, ok := args[1].(*ast.ConstantNode); ok {
				if l, ok := c.Value.(*wordList); ok && !slices.Contains(p.c.brands, l) {
					p.c.brands = append(p.c.brands, l)
				}
			}
		}
	case matchesFunc:
		if len(args) == 2 {
			if s, ok := args[1].(*ast.StringNode); ok {
				re, err := regexp.Compile(s.Value)
				if err != nil {
					p.problem(s, "matches: bad regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
					return
				}
				args[1] = constantAt(newPattern(re), s)
			}
		}
	}
	p.knownArguments(args)
	state := &ast.IdentifierNode{Value: stateName}
	state.SetLocation(n.Location())
	p.markPatched(state)
	n.Arguments = append([]ast.Node{state}, args...)
}

// letBound reports whether the expression declares name with let.
func (p *patcher) letBound(name string) bool {
	for rest := p.src; ; {
		i := strings.Index(rest, "let ")
		if i < 0 {
			return false
		}
		rest = strings.TrimLeft(rest[i+len("let "):], " \t\n")
		if after, ok := strings.CutPrefix(rest, name); ok && (after == "" || !isNameByte(after[0])) {
			return true
		}
	}
}

func isNameByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// knownArguments refuses unknown names passed to vigie's functions: expr's checker
// lets has_any(txt, lists.x) through, as the hidden state argument makes it check
// these calls loosely, and the rule would then fail on every event.
func (p *patcher) knownArguments(args []ast.Node) {
	for _, a := range args {
		id, ok := a.(*ast.IdentifierNode)
		if !ok || p.patched[id] || slices.Contains(topLevelNames(), id.Value) || p.letBound(id.Value) {
			continue
		}
		msg := "unknown name " + id.Value
		if s := bot.Closest(id.Value, topLevelNames()); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		p.problem(id, "%s", msg)
	}
}

func constantAt(v any, at ast.Node) ast.Node {
	c := &ast.ConstantNode{Value: v}
	c.SetLocation(at.Location())
	return c
}

// probe is one comparison of a condition, evaluated again when the rule matched
// to say why: counters.msgs = 6 > 5.
type probe struct {
	text  string // the comparison as written, normalised
	op    string
	left  string
	right string
	cond  *vm.Program
	lval  *vm.Program // nil when the side is a constant
	rval  *vm.Program
	// the same compiled to closures (native.go), nil when they run on the machine
	condFn func(*exprEnv) bool
	lvalFn func(*exprEnv) any
	rvalFn func(*exprEnv) any
}

// probes finds the comparisons of a condition that are worth showing in a
// reason. Comparisons inside closures (#) are skipped: they cannot run alone.
func (c *exprCompiler) probes(src string) []probe {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	var out []probe
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		if len(out) >= 4 {
			return
		}
		switch n := n.(type) {
		case *ast.BinaryNode:
			switch n.Operator {
			case "and", "&&", "or", "||":
				walk(n.Left)
				walk(n.Right)
				return
			case ">", ">=", "<", "<=", "==", "!=":
				if pr, ok := c.probe(n); ok {
					out = append(out, pr)
				}
			}
		case *ast.UnaryNode:
			// not (a > b): the inner comparison is false when the rule matches
		case *ast.ConditionalNode:
			walk(n.Exp1)
			walk(n.Exp2)
		}
	}
	walk(tree.Node)
	return out
}

func (c *exprCompiler) probe(n *ast.BinaryNode) (probe, bool) {
	if hasClosure(n) {
		return probe{}, false
	}
	pr := probe{text: n.String(), op: n.Operator, left: shortConstant(n.Left.String()), right: shortConstant(n.Right.String())}
	quiet := &decoder{file: c.d.file, lookupEnv: c.d.lookupEnv}
	sub := &exprCompiler{d: quiet, counterIndex: c.counterIndex, counterNames: c.counterNames,
		lists: c.lists, listNames: c.listNames, models: c.models, modelNames: c.modelNames}
	compileSide := func(side ast.Node) *vm.Program {
		if isConstant(side) {
			return nil
		}
		prog, err := expr.Compile(side.String(), sub.options(&patcher{c: sub}, reflect.Invalid)...)
		if err != nil {
			return nil
		}
		return prog
	}
	cond, err := expr.Compile(pr.text, sub.options(&patcher{c: sub}, reflect.Bool)...)
	if err != nil {
		return probe{}, false
	}
	pr.cond = cond
	pr.condFn, _ = nativeBool(cond.Node())
	if n.Operator != "==" && n.Operator != "!=" {
		pr.lval = compileSide(n.Left)
		pr.rval = compileSide(n.Right)
		if pr.lval != nil {
			pr.lvalFn, _ = nativeValue(pr.lval.Node())
		}
		if pr.rval != nil {
			pr.rvalFn, _ = nativeValue(pr.rval.Node())
		}
	}
	return pr, true
}

// run evaluates a probe's program on the event, with its closure when it has
// one; box gives the environment for the machine.
func runProbe(prog *vm.Program, fn func(*exprEnv) any, env *exprEnv, box func() any, machine *vm.VM) (any, error) {
	if fn != nil {
		return fn(env), nil
	}
	env.State.built, env.State.turns = 0, 0
	return machine.Run(prog, box())
}

// shortConstant writes duration("7d") as 7d in reasons.
func shortConstant(s string) string {
	if inner, ok := strings.CutPrefix(s, `duration("`); ok {
		if d, ok := strings.CutSuffix(inner, `")`); ok && !strings.ContainsAny(d, `"\`) {
			return d
		}
	}
	return s
}

func isConstant(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode, *ast.StringNode, *ast.BoolNode, *ast.NilNode, *ast.ConstantNode:
		return true
	case *ast.UnaryNode:
		return isConstant(n.Node)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "duration" && len(n.Arguments) == 1 {
			return isConstant(n.Arguments[0])
		}
	case *ast.BuiltinNode:
		if n.Name == "duration" && len(n.Arguments) == 1 {
			return isConstant(n.Arguments[0])
		}
	}
	return false
}

type closureFinder struct{ found bool }

func (f *closureFinder) Visit(node *ast.Node) {
	switch (*node).(type) {
	case *ast.PointerNode, *ast.PredicateNode, *ast.VariableDeclaratorNode:
		f.found = true
	case *ast.IdentifierNode:
		// let-bound names and closure variables are not in the environment
		id := (*node).(*ast.IdentifierNode)
		if !slices.Contains(topLevelNames(), id.Value) && !envFuncs[id.Value] {
			f.found = true
		}
	}
}

func hasClosure(n ast.Node) bool {
	f := &closureFinder{}
	ast.Walk(&n, f)
	return f.found
}

// explain says why a rule matched, from its probes and what its functions found,
// appended to dst. The parts are written into the state's buffer first, and
// the engine makes one string of the reasons of all an event's matches: every
// matched rule of every event writes one.
func explain(dst []byte, r *rule, env *exprEnv, box func() any, st *evalState, machine *vm.VM) []byte {
	hits := st.hits // probes may call has_any again: keep what the rule itself found
	buf, spans := st.reason[:0], st.spans[:0]
	for _, pr := range r.probes {
		if pr.condFn != nil {
			if !pr.condFn(env) {
				continue
			}
		} else {
			st.built, st.turns = 0, 0
			if ok, err := machine.Run(pr.cond, box()); err != nil || ok != true {
				continue
			}
		}
		from := len(buf)
		if pr.lval == nil && pr.rval == nil {
			buf = append(buf, pr.text...)
			spans = append(spans, reasonSpan{from, len(buf), ""})
			continue
		}
		buf = append(buf, pr.left...)
		if pr.lval != nil {
			if v, err := runProbe(pr.lval, pr.lvalFn, env, box, machine); err == nil {
				buf = appendValue(append(buf, " = "...), v)
			}
		}
		buf = append(append(append(append(buf, ' '), pr.op...), ' '), pr.right...)
		if pr.rval != nil {
			if v, err := runProbe(pr.rval, pr.rvalFn, env, box, machine); err == nil {
				buf = appendValue(append(buf, " = "...), v)
			}
		}
		spans = append(spans, reasonSpan{from, len(buf), pr.left})
	}
	// "age = 1h > 0, age = 1h < 7d" says the same twice: keep the bound
	kept := spans[:0]
	for i, sp := range spans {
		p := buf[sp.from:sp.to]
		if zero := bytes.HasSuffix(p, []byte(" > 0")) || bytes.HasSuffix(p, []byte(" != 0")); zero &&
			slices.ContainsFunc(spans[i+1:], func(o reasonSpan) bool { return o.left == sp.left }) {
			continue
		}
		kept = append(kept, sp)
	}
	spans = kept
	for _, h := range hits {
		from := len(buf)
		buf = h.appendTo(buf)
		spans = append(spans, reasonSpan{from, len(buf), ""})
	}
	st.reason, st.spans = buf, spans
	if len(spans) == 0 {
		return append(append(dst, "when: "...), r.whenText...)
	}
	// the parts joined with ", ", a part equal to the one before it left out
	var prev []byte
	for i, sp := range spans {
		p := buf[sp.from:sp.to]
		if i > 0 && bytes.Equal(p, prev) {
			continue
		}
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, p...)
		prev = p
	}
	return dst
}

// reasonSpan is one part of a reason in the state's buffer, with the left
// operand of its comparison.
type reasonSpan struct {
	from, to int
	left     string
}

// appendValue appends v as formatValue writes it.
func appendValue(buf []byte, v any) []byte {
	switch v := v.(type) {
	case float64:
		return strconv.AppendFloat(buf, v, 'f', 2, 64)
	case string:
		return strconv.AppendQuote(buf, v)
	case int:
		return strconv.AppendInt(buf, int64(v), 10)
	case bool:
		return strconv.AppendBool(buf, v)
	}
	return append(buf, formatValue(v)...)
}

func formatValue(v any) string {
	switch v := v.(type) {
	case time.Duration:
		if v <= 0 {
			return "0s"
		}
		if v < time.Second {
			// "0s > 0" would read as a contradiction: a member who joined
			// moments before writing is under a second old, and an age the
			// platform gave is at least 1ns (0 is "not given"), not 0s
			if v < time.Millisecond {
				return "<1ms"
			}
			return v.Round(time.Millisecond).String()
		}
		return bot.FormatDuration(v.Round(time.Second))
	case float64:
		return strconv.FormatFloat(v, 'f', 2, 64) // as %.2f
	case string:
		return strconv.Quote(v) // as %q
	case int:
		return strconv.Itoa(v) // as fmt.Sprint
	case bool:
		return strconv.FormatBool(v)
	default:
		return fmt.Sprint(v)
	}
}
