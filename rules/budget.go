package rules

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"
)

// textBudget bounds the bytes of text one run of an expression may build
// (repeat, replace, join, +, upper, ...). The VM's memory budget counts the
// items of lists and maps but not the length of strings, so repeat(text, 5000)
// on a 210 KB message took 8 s and 1 GB; past the budget the run fails, which
// the engine counts as the rule's error.
const textBudget = 1 << 20

// errTextBudget says an expression built too much text. Its words contain
// "memory budget exceeded", which the load's dry run looks for.
var errTextBudget = fmt.Errorf("the expression builds more than %d bytes of text (memory budget exceeded)", textBudget)

// charge counts n bytes of text built by the running expression.
func (st *evalState) charge(n int) error {
	if n < 0 || n > textBudget-st.built {
		st.built = textBudget + 1
		return errTextBudget
	}
	st.built += n
	return nil
}

// loopBudget bounds the turns the loops of one run of an expression may take
// (any, all, filter, map, count, reduce, ... over a list): expr's VM counts
// the memory of the lists it builds but not the turns of a loop, so
// any(links, {any(links, {any(links, {...})})}) on a message of 4,000 links
// ran for hours and held every event behind it. Past the budget the run
// fails, which the engine counts as the rule's error.
const loopBudget = 100_000

// errLoopBudget says an expression's loops took too many turns.
var errLoopBudget = fmt.Errorf("the expression's loops take more than %d turns (loop budget exceeded)", loopBudget)

// stepFn counts one turn of a loop of the running expression.
func stepFn(p ...any) (any, error) {
	st := p[0].(*evalState)
	st.turns++
	if st.turns > loopBudget {
		return nil, errLoopBudget
	}
	return true, nil
}

// partsFn counts the parts split made as turns of a loop: split(text, "")
// in a loop over the text's own parts made a list of the whole text at each
// turn, a gigabyte on a message of 8,000 letters, in few turns.
func partsFn(p ...any) (any, error) {
	st, parts := p[0].(*evalState), p[1].([]string)
	st.turns += len(parts)
	if st.turns > loopBudget {
		return nil, errLoopBudget
	}
	return parts, nil
}

// scanUnit is the bytes of text (or items of a list) a scan inside a loop
// reads for one turn of the loop budget: text contains # in a loop over the
// text's own 8,000 letters read 64 MB, about a second, in 8,000 turns. A
// scan outside any loop is not counted: it runs once a run, linear in the
// message.
const (
	scanUnit     = 64
	scanListUnit = 8
)

// scanFn counts a scan of its argument (a string, or the list of an in)
// against the loop budget, by its length, and returns it unchanged.
func scanFn(p ...any) (any, error) {
	st := p[0].(*evalState)
	n := 0
	switch v := p[1].(type) {
	case string:
		n = len(v) / scanUnit
	case []string:
		n = len(v) / scanListUnit
	case []any:
		n = len(v) / scanListUnit
	default:
		if r := reflect.ValueOf(v); r.Kind() == reflect.Slice || r.Kind() == reflect.Array {
			n = r.Len() / scanListUnit
		}
	}
	st.turns += n
	if st.turns > loopBudget {
		return nil, errLoopBudget
	}
	return p[1], nil
}

// costKind says how a call in a loop counts against the loop budget: the
// turns of the work it does on its argument, by the argument's length. A
// turn is about what a loop's turn costs (some tens of nanoseconds: a scan
// of 64 bytes); a call outside any loop is not counted, as it runs once a
// run, linear in what it reads.
type costKind int

const (
	// costAnalyze: the text is analysed as has_any does (tokenised,
	// normalised, matched): about 2 turns a byte. The event's content is
	// analysed once an event, and costs nothing.
	costAnalyze costKind = iota
	// costRead: text or items read through a list's normalisation
	// (s in lists.x, any_in, all_in, none_in): a turn a byte, and 8 an
	// item (a link is parsed for its host).
	costRead
	// costLookalike: items read for the hosts they imitate (lookalike):
	// 4 turns a byte and 32 an item.
	costLookalike
	// costPattern: a regular expression built while the rule runs,
	// compiled (or found among the kept ones: counted the same, so that
	// the budget does not depend on the events before): 512 turns a call
	// and 16 a byte.
	costPattern
	// costParse: text parsed (fromJSON, float, int, date, duration): 4
	// turns a byte and 8 a call.
	costParse
	// costZone: a time zone loaded (timezone): 512 turns a call, whatever
	// its name.
	costZone
	// costList: a list walked or copied (concat, flatten, reverse, take,
	// keys, values, toPairs, fromPairs, max, min, sum, mean): 2 turns an
	// item.
	costList
	// costSort: a list sorted, grouped or made unique (sort, sortBy,
	// median, groupBy, uniq): 16 turns an item and one each 8 bytes.
	costSort
	// costEncode: a list written as JSON (toJSON): 32 turns an item and 2
	// a byte.
	costEncode
)

// costs are the turns a call counts for: perByte8 for each 8 bytes of its
// text (of the strings of its list), perItem for each item of its list,
// perCall for the call.
// freeContent says the event's content costs nothing (it is analysed once an
// event); constant says a constant argument counts too (for perCall).
// says is what the budget's error says of the calls of the kind, so that a
// CM whose loop of 200 turns is refused knows what counted.
var costs = [...]struct {
	perByte8, perItem, perCall int
	freeContent, constant      bool
	says                       string
}{
	costAnalyze:   {perByte8: 16, freeContent: true, says: "has_any in a loop counts 2 turns a byte of the text it reads"},
	costRead:      {perByte8: 8, perItem: 8, says: "a list of the file read in a loop (in, any_in, all_in, none_in) counts a turn a byte and 8 an item"},
	costLookalike: {perByte8: 32, perItem: 32, says: "lookalike in a loop counts 4 turns a byte and 32 an item"},
	costPattern: {perByte8: 128, perCall: 512, says: "a pattern built in a loop counts 512 turns a call and 16 a byte, as a compile " +
		"(a list with has_any, or one pattern built outside the loop, costs less)"},
	costParse:  {perByte8: 32, perCall: 8, says: "text parsed in a loop (fromJSON, float, int, date, duration) counts 8 turns a call and 4 a byte"},
	costZone:   {perCall: 512, constant: true, says: "timezone in a loop counts 512 turns a call"},
	costList:   {perItem: 2, says: "a list walked or copied in a loop (concat, flatten, keys, max, sum, …) counts 2 turns an item"},
	costSort:   {perItem: 16, perByte8: 1, says: "a list sorted, grouped or made unique in a loop counts 16 turns an item"},
	costEncode: {perItem: 32, perByte8: 16, says: "toJSON in a loop counts 32 turns an item and 2 a byte"},
}

// costFn counts the work a call in a loop does on its argument (p[1]) by its
// length, against the loop budget, as costs[p[2]] says, and returns the
// argument unchanged.
func costFn(p ...any) (any, error) {
	st, kind := p[0].(*evalState), p[2].(int)
	c := costs[kind]
	bytes, items := 0, 0
	switch v := p[1].(type) {
	case string:
		if c.freeContent && sameString(v, st.text) {
			return v, nil
		}
		bytes = len(v)
	case []string:
		items = len(v)
		for _, s := range v {
			bytes += len(s)
		}
	case []any:
		items = len(v)
		for _, x := range v {
			if s, ok := x.(string); ok {
				bytes += len(s)
			}
		}
	default:
		switch r := reflect.ValueOf(v); r.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			items = r.Len()
		}
	}
	n := c.perCall + bytes/8*c.perByte8 + bytes%8*c.perByte8/8 + items*c.perItem
	if n < 0 || n > loopBudget-st.turns {
		st.turns = loopBudget + 1
		return nil, fmt.Errorf("%s: %w", c.says, errLoopBudget)
	}
	st.turns += n
	return p[1], nil
}

// costArg is the argument of a call whose work a loop counts (after the
// hidden state, for vigie's functions) and how it is counted.
type costArg struct {
	at   int
	kind costKind
}

// costArgs are vigie's functions whose work a loop counts.
var costArgs = map[string]costArg{
	"has_any":   {1, costAnalyze},
	"any_in":    {1, costRead},
	"all_in":    {1, costRead},
	"none_in":   {1, costRead},
	"lookalike": {1, costLookalike},
	matchesFunc: {2, costPattern},
	"duration":  {0, costParse},
	"uniq":      {1, costSort},
}

// costBuiltins are expr's builtins whose work a loop counts, as costArgs.
var costBuiltins = map[string]costArg{
	"fromJSON":  {0, costParse},
	"float":     {0, costParse},
	"int":       {0, costParse},
	"date":      {0, costParse},
	"timezone":  {0, costZone},
	"concat":    {allArgs, costList},
	"flatten":   {0, costList},
	"reverse":   {0, costList},
	"take":      {0, costList},
	"keys":      {0, costList},
	"values":    {0, costList},
	"toPairs":   {0, costList},
	"fromPairs": {0, costList},
	"max":       {allArgs, costList},
	"min":       {allArgs, costList},
	"sum":       {0, costList},
	"mean":      {allArgs, costList},
	"median":    {allArgs, costSort},
	"sort":      {0, costSort},
	"sortBy":    {0, costSort},
	"groupBy":   {0, costSort},
	"toJSON":    {0, costEncode},
}

// allArgs, as the place of a builtin's argument in costBuiltins, says that
// all its arguments are counted.
const allArgs = -1

// costArg wraps *arg in __cost(__state, ARG, kind), once.
func (p *patcher) costArg(arg *ast.Node, kind costKind) {
	if c, ok := (*arg).(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && (id.Value == costFunc || id.Value == costAnyFunc) {
			return
		}
	}
	if isConstant(*arg) && !costs[kind].constant {
		return
	}
	// what is not text (a number given to int, a time zone given to date)
	// is not parsed, and its type must stay what it is
	if t := textType(*arg); t != nil && t != stringType && t.Kind() != reflect.Interface &&
		t.Kind() != reflect.Slice && t.Kind() != reflect.Array && t.Kind() != reflect.Map {
		return
	}
	at := (*arg).Location()
	state := &ast.IdentifierNode{Value: stateName}
	state.SetLocation(at)
	p.markPatched(state)
	callee := &ast.IdentifierNode{Value: costFunc}
	if unknownAtLoad(*arg) {
		callee.Value = costAnyFunc
	}
	callee.SetLocation(at)
	k := &ast.IntegerNode{Value: int(kind)}
	k.SetLocation(at)
	call := &ast.CallNode{Callee: callee, Arguments: []ast.Node{state, *arg, k}}
	call.SetLocation(at)
	if t := (*arg).Type(); t != nil {
		call.SetType(t)
	}
	*arg = call
}

// scanned are the builtins whose first argument is scanned whole.
var scanned = map[string]bool{"indexOf": true, "lastIndexOf": true, "split": true, "splitAfter": true}

// scanLoop makes the scans in a loop's body count against the loop budget
// by the length they read (scanFn): text contains x, indexOf, lastIndexOf,
// split, x in a list, matches. Loops inside it were done before (the walk
// is from the leaves up).
func (p *patcher) scanLoop(body *ast.Node) {
	ast.Walk(body, scanVisitor{p})
}

type scanVisitor struct{ p *patcher }

func (v scanVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "contains":
			v.p.scanArg(&n.Left)
		case "startsWith", "endsWith":
			v.p.scanOperand(&n.Right)
		case "==", "!=", "<", ">", "<=", ">=":
			// text and lists are compared item by item, byte by byte
			if isConstant(n.Left) || isConstant(n.Right) {
				return
			}
			v.p.scanOperand(&n.Left)
			v.p.scanOperand(&n.Right)
		case "in":
			// a list is scanned; an in on a word list (in_list) reads the
			// text through the list's normalisation; an in on a map is a
			// lookup, and its operand's type must stay what it is
			switch t := n.Right.Type(); {
			case t == wordListType || isWordList(n.Right):
				v.p.costArg(&n.Left, costRead)
			case t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array),
				unknownAtLoad(n.Right):
				// a value known only at run time (fromJSON's) may be a
				// list, scanned, or a map, looked up (counted nothing)
				v.p.scanArg(&n.Right)
			}
		}
	case *ast.BuiltinNode:
		if scanned[n.Name] && len(n.Arguments) > 0 {
			v.p.scanArg(&n.Arguments[0])
		}
		if c, ok := costBuiltins[n.Name]; ok {
			for i := range n.Arguments {
				if i == c.at || c.at == allArgs {
					v.p.costArg(&n.Arguments[i], c.kind)
				}
			}
		}
		if (n.Name == "hasPrefix" || n.Name == "hasSuffix") && len(n.Arguments) == 2 {
			v.p.scanOperand(&n.Arguments[1])
		}
		// the length of a text is its letters counted, all of them: in a
		// loop of 30,000 turns, len(text) on 30,000 Chinese letters read
		// 2.7 GB, 7.6 s; a list's or a map's is known at once
		if n.Name == "len" && len(n.Arguments) == 1 && !isConstant(n.Arguments[0]) && textType(n.Arguments[0]) == stringType {
			v.p.scanArg(&n.Arguments[0])
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return
		}
		if id.Value == "in_list" && len(n.Arguments) == 2 {
			v.p.costArg(&n.Arguments[0], costRead)
		}
		if id.Value == matchesFunc && len(n.Arguments) == 3 {
			v.p.scanArg(&n.Arguments[1])
		}
		// the hidden state is the first argument once the call is patched
		if c, ok := costArgs[id.Value]; ok && len(n.Arguments) > c.at && (envFuncs[id.Value] == isState(n.Arguments[0])) {
			v.p.costArg(&n.Arguments[c.at], c.kind)
		}
	}
}

// isWordList reports whether n is a list of the file, patched in while the
// walk that checks its type is still going on.
func isWordList(n ast.Node) bool {
	c, ok := n.(*ast.ConstantNode)
	if !ok {
		return false
	}
	_, ok = c.Value.(*wordList)
	return ok
}

// isState reports whether n is the hidden state argument.
func isState(n ast.Node) bool {
	id, ok := n.(*ast.IdentifierNode)
	return ok && id.Value == stateName
}

// scanOperand scans *arg when it is text or a list, or may be one: what
// else is compared in one step, and its type must stay what it is.
func (p *patcher) scanOperand(arg *ast.Node) {
	if isConstant(*arg) {
		return
	}
	t := textType(*arg)
	if t == nil || t == stringType || t.Kind() == reflect.Interface || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		p.scanArg(arg)
	}
}

// scanArg wraps *arg in __scan(__state, ARG), once.
func (p *patcher) scanArg(arg *ast.Node) {
	if c, ok := (*arg).(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && (id.Value == scanFunc || id.Value == scanAnyFunc) {
			return
		}
	}
	at := (*arg).Location()
	state := &ast.IdentifierNode{Value: stateName}
	state.SetLocation(at)
	p.markPatched(state)
	callee := &ast.IdentifierNode{Value: scanFunc}
	if unknownAtLoad(*arg) {
		callee.Value = scanAnyFunc
	}
	callee.SetLocation(at)
	call := &ast.CallNode{Callee: callee, Arguments: []ast.Node{state, *arg}}
	call.SetLocation(at)
	if t := (*arg).Type(); t != nil {
		call.SetType(t)
	}
	*arg = call
}

// stepNode makes each loop of a builtin (the body of its closure) count its
// turns against the loop budget: {BODY} becomes {__step(__state); BODY}.
func (p *patcher) stepNode(n *ast.BuiltinNode) {
	for _, a := range n.Arguments {
		pr, ok := a.(*ast.PredicateNode)
		if !ok || p.patched[pr] || pr.Node == nil {
			continue
		}
		p.markPatched(pr)
		p.scanLoop(&pr.Node)
		at := pr.Node.Location()
		state := &ast.IdentifierNode{Value: stateName}
		state.SetLocation(at)
		p.markPatched(state)
		callee := &ast.IdentifierNode{Value: stepFunc}
		callee.SetLocation(at)
		call := &ast.CallNode{Callee: callee, Arguments: []ast.Node{state}}
		call.SetLocation(at)
		seq := &ast.SequenceNode{Nodes: []ast.Node{call, pr.Node}}
		seq.SetLocation(at)
		pr.Node = seq
	}
}

// budgetFuncs are the functions that replace expr's builtins building text
// whose length the arguments do not bound (repeat, replace, join): they check
// the budget before building. concatFunc and chargeFunc are what the patcher
// puts in place of + on strings and around the other builtins that return text.
const (
	concatFunc = "__concat"
	addFunc    = "__add"
	chargeFunc = "__charge"
	stepFunc   = "__step"
	partsFunc  = "__parts"
	scanFunc   = "__scan"
	costFunc   = "__cost"
	// scanAnyFunc and costAnyFunc are __scan and __cost for a value whose
	// type is only known when the rule runs (a var of the community, what
	// fromJSON made): declared with no typed form, so that the checker
	// does not take the value for text (a number compared with
	// community.vars.max was refused at load, 'mismatched types int and
	// string').
	scanAnyFunc = "__scanany"
	costAnyFunc = "__costany"
	jsonFunc    = "__json"
)

func budgetFunctions() []expr.Option {
	return []expr.Option{
		expr.Function(stepFunc, stepFn, new(func(*evalState) bool)),
		expr.Function(partsFunc, partsFn, new(func(*evalState, []string) []string)),
		expr.Function(scanFunc, scanFn,
			new(func(*evalState, string) string),
			new(func(*evalState, []string) []string),
			new(func(*evalState, []any) []any),
			new(func(*evalState, any) any)),
		expr.Function(costFunc, costFn,
			new(func(*evalState, string, int) string),
			new(func(*evalState, []string, int) []string),
			new(func(*evalState, []any, int) []any),
			new(func(*evalState, any, int) any)),
		expr.Function("uniq", uniqFn,
			new(func(*evalState, []string) []any),
			new(func(*evalState, []any) []any),
			new(func(*evalState, any) []any)),
		expr.Function(jsonFunc, jsonFn, new(func(*evalState, any) any)),
		expr.Function(scanAnyFunc, scanFn, new(func(*evalState, any) any)),
		expr.Function(costAnyFunc, costFn, new(func(*evalState, any, int) any)),
		expr.Function("repeat", repeatFn, new(func(*evalState, string, int) string)),
		expr.Function("replace", replaceFn, new(func(*evalState, string, string, string) string)),
		expr.Function("join", joinFn,
			new(func(*evalState, []string) string),
			new(func(*evalState, []string, string) string),
			new(func(*evalState, []any) string),
			new(func(*evalState, []any, string) string)),
		expr.Function(concatFunc, concatFn, new(func(*evalState, string, string) string)),
		expr.Function(addFunc, addFn, new(func(*evalState, any, any) any)),
		expr.Function(chargeFunc, chargeFn, new(func(*evalState, string) string)),
	}
}

func repeatFn(p ...any) (any, error) {
	st, s := p[0].(*evalState), p[1].(string)
	n, ok := p[2].(int)
	if !ok || n < 0 {
		return nil, fmt.Errorf("repeat: invalid count %v (want a whole number, 0 or more)", p[2])
	}
	if len(s) > 0 && n > textBudget/len(s) {
		return nil, fmt.Errorf("repeat: %d times %d bytes: %w", n, len(s), errTextBudget)
	}
	if err := st.charge(len(s) * n); err != nil {
		return nil, fmt.Errorf("repeat: %w", err)
	}
	return strings.Repeat(s, n), nil
}

func replaceFn(p ...any) (any, error) {
	st, s, old, repl := p[0].(*evalState), p[1].(string), p[2].(string), p[3].(string)
	n := strings.Count(s, old)
	if n > 0 && len(repl) > len(old) && n > (textBudget-len(s))/(len(repl)-len(old)) {
		return nil, fmt.Errorf("replace: %w", errTextBudget)
	}
	if err := st.charge(len(s) + n*(len(repl)-len(old))); err != nil {
		return nil, fmt.Errorf("replace: %w", err)
	}
	return strings.ReplaceAll(s, old, repl), nil
}

func joinFn(p ...any) (any, error) {
	st := p[0].(*evalState)
	glue := ""
	if len(p) > 2 {
		glue, _ = p[2].(string)
	}
	var parts []string
	switch items := p[1].(type) {
	case []string:
		parts = items
	case []any:
		parts = make([]string, len(items))
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("join: item %d is %T, not a string", i, it)
			}
			parts[i] = s
		}
	default:
		return nil, fmt.Errorf("join: cannot join %T", p[1])
	}
	size := len(glue) * max(len(parts)-1, 0)
	for _, s := range parts {
		size += len(s)
		if size > textBudget {
			return nil, fmt.Errorf("join: %w", errTextBudget)
		}
	}
	if err := st.charge(size); err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	return strings.Join(parts, glue), nil
}

// uniqFn is expr's uniq (the items of a list, each once, in their order)
// without its cost: expr compared each item with every distinct one kept
// before it, a billion comparisons on a message of 50,000 distinct words,
// outside any loop. Text, and whole numbers, are told apart by a set; items
// of other kinds (or a mix) are compared as expr does, each comparison a
// turn of the loop budget.
func uniqFn(p ...any) (any, error) {
	st := p[0].(*evalState)
	if words, ok := p[1].([]string); ok {
		out, _ := uniqText(len(words), func(i int) (string, bool) { return words[i], true })
		return out, nil
	}
	v := reflect.ValueOf(p[1])
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return nil, fmt.Errorf("cannot uniq %s", v.Kind())
	}
	n := v.Len()
	if out, ok := uniqText(n, func(i int) (string, bool) {
		s, ok := v.Index(i).Interface().(string)
		return s, ok
	}); ok {
		return out, nil
	}
	if out, ok := uniqInts(v); ok {
		return out, nil
	}
	if out, ok := uniqFloats(v); ok {
		return out, nil
	}
	out := []any{}
	for i := range n {
		item := v.Index(i).Interface()
		seen := false
		for _, kept := range out {
			st.turns++
			if runtime.Equal(item, kept) {
				seen = true
				break
			}
		}
		if st.turns > loopBudget {
			return nil, fmt.Errorf("uniq: %w", errLoopBudget)
		}
		if !seen {
			out = append(out, item)
		}
	}
	return out, nil
}

// uniqText is uniq of n items that are all text (at(i) says false for an
// item that is not); ok is false, and nothing made, when one is not.
func uniqText(n int, at func(int) (string, bool)) (out []any, ok bool) {
	for i := range n {
		if _, ok := at(i); !ok {
			return nil, false
		}
	}
	seen := make(map[string]struct{}, n)
	out = []any{}
	for i := range n {
		s, _ := at(i)
		if _, dup := seen[s]; !dup {
			seen[s] = struct{}{}
			out = append(out, s)
		}
	}
	return out, true
}

// uniqInts is uniq of a list of ints only (a range, a map to numbers);
// ok is false for any other.
func uniqInts(v reflect.Value) ([]any, bool) {
	n := v.Len()
	for i := range n {
		if _, ok := v.Index(i).Interface().(int); !ok {
			return nil, false
		}
	}
	seen := make(map[int]struct{}, n)
	out := []any{}
	for i := range n {
		x := v.Index(i).Interface().(int)
		if _, dup := seen[x]; !dup {
			seen[x] = struct{}{}
			out = append(out, x)
		}
	}
	return out, true
}

// uniqFloats is uniq of a list of float64 only (what / makes, a map to
// halves): uniq of 2,000 of them, refused at load for the 2,000,000 turns of
// its comparisons, is one pass. As expr's == does, 0 and -0 are one, and
// each NaN is kept, equal to none. ok is false for any other list.
func uniqFloats(v reflect.Value) ([]any, bool) {
	n := v.Len()
	for i := range n {
		if _, ok := v.Index(i).Interface().(float64); !ok {
			return nil, false
		}
	}
	seen := make(map[float64]struct{}, n)
	out := []any{}
	for i := range n {
		x := v.Index(i).Interface().(float64)
		if _, dup := seen[x]; !dup {
			seen[x] = struct{}{}
			out = append(out, x)
		}
	}
	return out, true
}

func concatFn(p ...any) (any, error) {
	st, a, b := p[0].(*evalState), p[1].(string), p[2].(string)
	if err := st.charge(len(a) + len(b)); err != nil {
		return nil, err
	}
	return a + b, nil
}

// addFn is + when neither side's type is known before the run (#acc + # in
// reduce): strings are charged, anything else is added as expr would.
func addFn(p ...any) (out any, err error) {
	if a, ok := p[1].(string); ok {
		if b, ok := p[2].(string); ok {
			return concatFn(p[0], a, b)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return runtime.Add(p[1], p[2]), nil
}

func chargeFn(p ...any) (any, error) {
	st, s := p[0].(*evalState), p[1].(string)
	if err := st.charge(len(s)); err != nil {
		return nil, err
	}
	return s, nil
}

var (
	stringType   = reflect.TypeFor[string]()
	wordListType = reflect.TypeFor[*wordList]()
)

// textCalls are the functions that return text: their calls' type is not
// known while the patcher runs, as the state argument is added in that walk.
var textCalls = map[string]bool{concatFunc: true, chargeFunc: true, "sketch": true,
	"repeat": true, "replace": true, "join": true}

// textType is n's type, string for a call of textCalls.
func textType(n ast.Node) reflect.Type {
	if c, ok := n.(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && textCalls[id.Value] {
			return stringType
		}
	}
	return n.Type()
}

// unknownType reports whether t is only known when the expression runs.
func unknownType(t reflect.Type) bool {
	return t == nil || t.Kind() == reflect.Interface
}

// budgetNode rewrites + on text into __concat or __add, and wraps the builtins
// that return text in __charge, so that what they build counts against the
// text budget. It returns false when n is none of these.
func (p *patcher) budgetNode(node *ast.Node) bool {
	var call *ast.CallNode
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator != "+" {
			return false
		}
		lt, rt := textType(n.Left), textType(n.Right)
		name := concatFunc
		switch {
		case lt == stringType && (rt == stringType || unknownType(rt)),
			rt == stringType && unknownType(lt):
		case unknownType(lt) && unknownType(rt):
			name = addFunc
		default:
			return false
		}
		call = &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: []ast.Node{n.Left, n.Right}}
	case *ast.BuiltinNode:
		if p.patched[n] {
			return false
		}
		if n.Name == "toJSON" && len(n.Arguments) == 1 {
			p.jsonArg(&n.Arguments[0])
		}
		switch {
		case n.Name == "split" || n.Name == "splitAfter":
			call = &ast.CallNode{Callee: &ast.IdentifierNode{Value: partsFunc}, Arguments: []ast.Node{n}}
		case n.Type() == stringType:
			call = &ast.CallNode{Callee: &ast.IdentifierNode{Value: chargeFunc}, Arguments: []ast.Node{n}}
		default:
			return false
		}
		p.markPatched(n)
	default:
		return false
	}
	call.SetLocation((*node).Location())
	call.Callee.SetLocation((*node).Location())
	state := &ast.IdentifierNode{Value: stateName}
	state.SetLocation((*node).Location())
	p.markPatched(state)
	call.Arguments = append([]ast.Node{state}, call.Arguments...)
	ast.Patch(node, call)
	return true
}

// jsonArg wraps toJSON's argument *arg in __json(__state, ARG), once, so
// that what it would write is weighed before it is written.
func (p *patcher) jsonArg(arg *ast.Node) {
	if c, ok := (*arg).(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == jsonFunc {
			return
		}
	}
	at := (*arg).Location()
	state := &ast.IdentifierNode{Value: stateName}
	state.SetLocation(at)
	p.markPatched(state)
	callee := &ast.IdentifierNode{Value: jsonFunc}
	callee.SetLocation(at)
	call := &ast.CallNode{Callee: callee, Arguments: []ast.Node{state, *arg}}
	call.SetLocation(at)
	if t := (*arg).Type(); t != nil {
		call.SetType(t)
	}
	*arg = call
}

// jsonFn refuses, before it is written, a value toJSON would write past the
// text budget: toJSON indents each level of a list or map by two spaces more,
// so that fromJSON of 4,000 nested brackets (8 KB, a comment's length) wrote
// 32 MB, 0.3 s to 1.3 s, before its length was counted.
func jsonFn(p ...any) (any, error) {
	st := p[0].(*evalState)
	room := textBudget - st.built
	if jsonAtLeast(reflect.ValueOf(p[1]), 0, room) > room {
		st.built = textBudget + 1
		return nil, fmt.Errorf("toJSON: %w", errTextBudget)
	}
	return p[1], nil
}

// jsonAtLeast is at least the bytes json.MarshalIndent(v, "", "  ") writes
// for v at depth (its indentation), the walk given up once past limit.
func jsonAtLeast(v reflect.Value, depth, limit int) int {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return 4
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Invalid:
		return 4
	case reflect.String:
		return v.Len() + 2
	case reflect.Slice, reflect.Array, reflect.Map:
		n := 2
		if v.Len() == 0 {
			return n
		}
		// each item on a line of its own, indented one level more
		each := 1 + 2*(depth+1)
		n += 1 + 2*depth
		if v.Kind() == reflect.Map {
			it := v.MapRange()
			for it.Next() {
				n += each + 4 + jsonAtLeast(it.Key(), 0, limit) + jsonAtLeast(it.Value(), depth+1, limit-n)
				if n > limit {
					return n
				}
			}
			return n
		}
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Len() // base64
		}
		for i := range v.Len() {
			n += each + jsonAtLeast(v.Index(i), depth+1, limit-n)
			if n > limit {
				return n
			}
		}
		return n
	}
	return 1
}

// unknownAtLoad reports whether n's type is only known when the rule runs.
func unknownAtLoad(n ast.Node) bool {
	t := n.Type()
	return t != nil && t.Kind() == reflect.Interface
}
