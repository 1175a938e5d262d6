package rules

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"

	"github.com/vigie-bot/vigie/store"
)

// The shapes rule files are made of (field tests, comparisons, and/or/not,
// counters, lists, vigie's functions, keys glued with +) are also compiled to Go
// closures over the environment. They give the same answers as expr's virtual
// machine, without boxing every value and reading every field through
// reflection; an expression with anything else (closures, let, indexing that
// can fail, a dynamic regular expression) runs on the machine as before.

// nkind is the Go type of a compiled value.
type nkind uint8

const (
	nBool nkind = iota + 1
	nInt
	nFloat
	nString
	nDuration
	nStrings
	nList    // a constant *wordList
	nPattern // a constant *pattern
	nModel   // a constant *modelRef
)

// nval is one compiled node: the closure of its kind is set.
type nval struct {
	kind  nkind
	b     func(*exprEnv) bool
	i     func(*exprEnv) int
	f     func(*exprEnv) float64
	s     func(*exprEnv) string
	d     func(*exprEnv) time.Duration
	ss    func(*exprEnv) []string
	list  *wordList
	pat   *pattern
	model *modelRef
	// konst says the value is a constant, k (an int, float64, string or
	// time.Duration): a comparison with it reads it from its own closure
	// instead of calling another one.
	konst bool
	k     any
	// parts are the operands of a chain of string +, glued in one allocation.
	parts []nval
	// app, when set, appends the string value to a buffer without making it
	// a string first (a sketch band is a number written in hex).
	app func(*exprEnv, []byte) []byte
	// runesOf, for len(s), is s: compared with a constant, the characters
	// are counted only as far as the constant.
	runesOf func(*exprEnv) string
	// author says the value is author.id: a key with it among its parts
	// is of one author (store.CounterOp.ByAuthor).
	author bool
	// sum, when set, adds the string value to a counter's sum without
	// making it a string, or hashing it again for each counter (see
	// keySummer).
	sum keySummer
	// all and any are the operands of a chain of and, or of or: a chain
	// is one closure over its operands, not one per operator nested in
	// each other.
	all, any []func(*exprEnv) bool
	// not, for a bool field, reads it negated: not author.staff is one
	// closure call, not two.
	not func(*exprEnv) bool
}

// keySummer adds a part of a counter's key to its sum (store.KeySum); ok
// says the part is not empty text. A part's sum depends on its text only.
type keySummer func(e *exprEnv, k store.KeySum) (sum store.KeySum, ok bool)

// nativeKeySum compiles a counter key into a keySummer: for a store that
// keys counters by hash (store.SumKeyed), the key's parts are hashed, each
// on its own, and no string is built. byAuthor says author.id is one of
// the parts: two events of one sum are of one author. ok is false for a
// key the closures do not cover.
func nativeKeySum(n ast.Node) (sum keySummer, byAuthor, ok bool) {
	v, ok := nativeOfKind(n, nString)
	if !ok {
		return nil, false, false
	}
	return v.summer(), slices.ContainsFunc(v.stringParts(), func(p nval) bool { return p.author }), true
}

// emptySum is the sum of an empty part.
var emptySum = store.SumText("")

// summer returns a keySummer of v's string value.
func (v nval) summer() keySummer {
	switch {
	case v.sum != nil:
		return v.sum
	case v.parts != nil:
		sums := make([]keySummer, len(v.parts))
		for i, p := range v.parts {
			sums[i] = p.summer()
		}
		if len(sums) == 3 {
			// author.id + "|" + fingerprint: the parts written out
			a, b, c := sums[0], sums[1], sums[2]
			return func(e *exprEnv, k store.KeySum) (store.KeySum, bool) {
				k, okA := a(e, k)
				k, okB := b(e, k)
				k, okC := c(e, k)
				return k, okA || okB || okC
			}
		}
		return func(e *exprEnv, k store.KeySum) (store.KeySum, bool) {
			some := false
			for _, sum := range sums {
				var ok bool
				k, ok = sum(e, k)
				some = some || ok
			}
			return k, some
		}
	case v.konst:
		c, _ := v.k.(string)
		p, ok := store.SumText(c), c != ""
		return func(_ *exprEnv, k store.KeySum) (store.KeySum, bool) { return k.Then(p), ok }
	}
	s := v.s
	return func(e *exprEnv, k store.KeySum) (store.KeySum, bool) {
		x := s(e)
		return k.Then(store.SumText(x)), x != ""
	}
}

// nativeBool compiles a condition; ok is false when it has a shape the
// closures do not cover.
func nativeBool(n ast.Node) (func(*exprEnv) bool, bool) {
	v, ok := nativeOfKind(n, nBool)
	return v.b, ok
}

// nativeString compiles a counter key.
func nativeString(n ast.Node) (func(*exprEnv) string, bool) {
	v, ok := nativeOfKind(n, nString)
	return v.s, ok
}

// nativeKeyAppender compiles a counter key that glues parts together
// (author.id + "|" + fingerprint) into a closure that appends it to a buffer:
// the engine writes all of an event's keys into one buffer and makes them one
// string. ok is false for a key that is not such a chain: a single field
// costs nothing as a string.
func nativeKeyAppender(n ast.Node) (func(*exprEnv, []byte) []byte, bool) {
	v, ok := nativeOfKind(n, nString)
	if !ok || len(v.parts) < 2 {
		return nil, false
	}
	return v.appender(), true
}

// appender returns a closure that appends v's string value to a buffer.
func (v nval) appender() func(*exprEnv, []byte) []byte {
	if v.app != nil {
		return v.app
	}
	if v.parts != nil {
		apps := make([]func(*exprEnv, []byte) []byte, len(v.parts))
		for i, p := range v.parts {
			apps[i] = p.appender()
		}
		return func(e *exprEnv, buf []byte) []byte {
			for _, app := range apps {
				buf = app(e, buf)
			}
			return buf
		}
	}
	s := v.s
	return func(e *exprEnv, buf []byte) []byte { return append(buf, s(e)...) }
}

// nativeOfKind compiles n when its value is of kind want.
func nativeOfKind(n ast.Node, want nkind) (nval, bool) {
	if n == nil {
		return nval{}, false
	}
	v, ok := nativeNode(n)
	if !ok || v.kind != want {
		return nval{}, false
	}
	return v, true
}

// nativeValue compiles an expression whose value a reason shows, boxed as the
// machine would return it.
func nativeValue(n ast.Node) (func(*exprEnv) any, bool) {
	if n == nil {
		return nil, false
	}
	v, ok := nativeNode(n)
	if !ok {
		return nil, false
	}
	switch v.kind {
	case nBool:
		return boxed(v.b), true
	case nInt:
		return boxed(v.i), true
	case nFloat:
		return boxed(v.f), true
	case nString:
		return boxed(v.s), true
	case nDuration:
		return boxed(v.d), true
	case nStrings:
		return boxed(v.ss), true
	}
	return nil, false
}

func boxed[T any](f func(*exprEnv) T) func(*exprEnv) any {
	return func(e *exprEnv) any { return f(e) }
}

func nativeNode(n ast.Node) (nval, bool) {
	switch n := n.(type) {
	case *ast.BoolNode:
		b := n.Value
		return nval{kind: nBool, b: func(*exprEnv) bool { return b }}, true
	case *ast.IntegerNode:
		i := n.Value
		return nval{kind: nInt, i: func(*exprEnv) int { return i }, konst: true, k: i}, true
	case *ast.FloatNode:
		f := n.Value
		return nval{kind: nFloat, f: func(*exprEnv) float64 { return f }, konst: true, k: f}, true
	case *ast.StringNode:
		s := n.Value
		return nval{kind: nString, s: func(*exprEnv) string { return s }, konst: true, k: s}, true
	case *ast.ConstantNode:
		return nativeConstant(n.Value)
	case *ast.IdentifierNode:
		return nativeIdent(n.Value)
	case *ast.MemberNode:
		return nativeMember(n)
	case *ast.UnaryNode:
		return nativeUnary(n)
	case *ast.BinaryNode:
		return nativeBinary(n)
	case *ast.BuiltinNode:
		return nativeBuiltin(n)
	case *ast.CallNode:
		return nativeCall(n)
	}
	return nval{}, false
}

func nativeConstant(v any) (nval, bool) {
	switch v := v.(type) {
	case bool:
		return nval{kind: nBool, b: func(*exprEnv) bool { return v }}, true
	case int:
		return nval{kind: nInt, i: func(*exprEnv) int { return v }, konst: true, k: v}, true
	case float64:
		return nval{kind: nFloat, f: func(*exprEnv) float64 { return v }, konst: true, k: v}, true
	case string:
		return nval{kind: nString, s: func(*exprEnv) string { return v }, konst: true, k: v}, true
	case time.Duration:
		return nval{kind: nDuration, d: func(*exprEnv) time.Duration { return v }, konst: true, k: v}, true
	case *wordList:
		if v == nil {
			return nval{}, false
		}
		return nval{kind: nList, list: v}, true
	case *pattern:
		if v == nil {
			return nval{}, false
		}
		return nval{kind: nPattern, pat: v}, true
	case *modelRef:
		if v == nil {
			return nval{}, false
		}
		return nval{kind: nModel, model: v}, true
	}
	return nval{}, false
}

// nativeIdent reads a top-level field. The switch must follow exprEnv and
// signalEnv: a name it does not know falls back to the machine.
func nativeIdent(name string) (nval, bool) {
	str := func(f func(*exprEnv) string) (nval, bool) { return nval{kind: nString, s: f}, true }
	num := func(f func(*exprEnv) int) (nval, bool) { return nval{kind: nInt, i: f}, true }
	switch name {
	case "text":
		return str(func(e *exprEnv) string { return e.Text })
	case "content":
		return str(func(e *exprEnv) string { return e.Content })
	case "forwarded":
		return nval{kind: nBool, b: func(e *exprEnv) bool { return e.Forwarded }}, true
	case "files":
		return nval{kind: nStrings, ss: func(e *exprEnv) []string { return e.Files }}, true
	case "hidden_links":
		return nval{kind: nStrings, ss: func(e *exprEnv) []string { return e.HiddenLinks }}, true
	case "platform":
		return str(func(e *exprEnv) string { return e.Platform })
	case "kind":
		return str(func(e *exprEnv) string { return e.Kind })
	case "space":
		return nval{kind: nString, s: func(e *exprEnv) string { return e.Space },
			sum: func(e *exprEnv, k store.KeySum) (store.KeySum, bool) {
				return k.Then(e.State.spaceSum(e.Space)), e.Space != ""
			}}, true
	case "channel":
		return str(func(e *exprEnv) string { return e.Channel })
	case "thread":
		return str(func(e *exprEnv) string { return e.Thread })
	case "reply_to":
		return str(func(e *exprEnv) string { return e.ReplyTo })
	case "fingerprint":
		return nval{kind: nString, s: func(e *exprEnv) string { return e.Fingerprint },
			sum: func(e *exprEnv, k store.KeySum) (store.KeySum, bool) {
				// the 16 hex digits of a number: the number is the part
				if e.Fingerprint == "" {
					return k.Then(emptySum), false
				}
				return k.Then(store.SumNumber(e.State.analysis.FingerprintSum())), true
			}}, true
	case "language":
		return str(func(e *exprEnv) string { return e.Language })
	case "attachments":
		return num(func(e *exprEnv) int { return e.Attachments })
	case "mentions":
		return num(func(e *exprEnv) int { return e.Mentions })
	case "emojis":
		return num(func(e *exprEnv) int { return e.Emojis })
	case "words":
		return num(func(e *exprEnv) int { return e.Words })
	case "max_run":
		return num(func(e *exprEnv) int { return e.MaxRun })
	case "invites":
		return num(func(e *exprEnv) int { return e.Invites })
	case "telegram_links":
		return num(func(e *exprEnv) int { return e.TelegramLinks })
	case "shortened":
		return num(func(e *exprEnv) int { return e.Shortened })
	case "wallets":
		return num(func(e *exprEnv) int { return e.Wallets })
	case "emails":
		return num(func(e *exprEnv) int { return e.Emails })
	case "masked_links":
		return num(func(e *exprEnv) int { return e.MaskedLinks })
	case "phones":
		return num(func(e *exprEnv) int { return e.Phones })
	case "promo":
		return num(func(e *exprEnv) int { return e.Promo })
	case "caps":
		return nval{kind: nFloat, f: func(e *exprEnv) float64 { return e.Caps }}, true
	case "emoji_share":
		return nval{kind: nFloat, f: func(e *exprEnv) float64 { return e.EmojiShare }}, true
	case "after_hours":
		return nval{kind: nBool, b: func(e *exprEnv) bool { return e.AfterHours }}, true
	case "links":
		return nval{kind: nStrings, ss: func(e *exprEnv) []string { return e.Links }}, true
	case "domains":
		return nval{kind: nStrings, ss: func(e *exprEnv) []string { return e.Domains }}, true
	}
	return nval{}, false
}

func nativeMember(n *ast.MemberNode) (nval, bool) {
	id, ok := n.Node.(*ast.IdentifierNode)
	if !ok || n.Optional || n.Method {
		return nval{}, false
	}
	switch id.Value {
	case "counters":
		// counters.NAME, rewritten to its index by the patcher: always in range
		idx, ok := n.Property.(*ast.IntegerNode)
		if !ok || idx.Value < 0 {
			return nval{}, false
		}
		i := idx.Value
		return nval{kind: nInt, i: func(e *exprEnv) int { return e.Counters[i] }}, true
	case "forward":
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			return nval{}, false
		}
		switch prop.Value {
		case "from":
			return nval{kind: nString, s: func(e *exprEnv) string { return e.Forward.From }}, true
		case "text":
			return nval{kind: nString, s: func(e *exprEnv) string { return e.Forward.Text }}, true
		}
	case "author":
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			return nval{}, false
		}
		switch prop.Value {
		case "id":
			return nval{kind: nString, s: func(e *exprEnv) string { return e.Author.ID }, author: true,
				sum: func(e *exprEnv, k store.KeySum) (store.KeySum, bool) {
					return k.Then(e.State.authorSum(e.Author.ID)), e.Author.ID != ""
				}}, true
		case "name":
			return nval{kind: nString, s: func(e *exprEnv) string { return e.Author.Name }}, true
		case "username":
			return nval{kind: nString, s: func(e *exprEnv) string { return e.Author.Username }}, true
		case "roles":
			return nval{kind: nStrings, ss: func(e *exprEnv) []string { return e.Author.Roles }}, true
		case "staff":
			return nval{kind: nBool, b: func(e *exprEnv) bool { return e.Author.Staff },
				not: func(e *exprEnv) bool { return !e.Author.Staff }}, true
		case "bot":
			return nval{kind: nBool, b: func(e *exprEnv) bool { return e.Author.Bot },
				not: func(e *exprEnv) bool { return !e.Author.Bot }}, true
		case "verified":
			return nval{kind: nBool, b: func(e *exprEnv) bool { return e.Author.Verified },
				not: func(e *exprEnv) bool { return !e.Author.Verified }}, true
		case "account_age":
			return nval{kind: nDuration, d: func(e *exprEnv) time.Duration { return e.Author.AccountAge }}, true
		case "member_age":
			return nval{kind: nDuration, d: func(e *exprEnv) time.Duration { return e.Author.MemberAge }}, true
		}
	}
	return nval{}, false
}

func nativeUnary(n *ast.UnaryNode) (nval, bool) {
	x, ok := nativeNode(n.Node)
	if !ok {
		return nval{}, false
	}
	switch n.Operator {
	case "not", "!":
		if x.kind != nBool {
			return nval{}, false
		}
		if x.not != nil {
			return nval{kind: nBool, b: x.not}, true
		}
		f := x.b
		return nval{kind: nBool, b: func(e *exprEnv) bool { return !f(e) }}, true
	}
	return nval{}, false
}

func nativeBinary(n *ast.BinaryNode) (nval, bool) {
	l, ok := nativeNode(n.Left)
	if !ok {
		return nval{}, false
	}
	r, ok := nativeNode(n.Right)
	if !ok {
		return nval{}, false
	}
	switch n.Operator {
	case "and", "&&":
		if l.kind != nBool || r.kind != nBool {
			return nval{}, false
		}
		all := append(l.operands(l.all), r.operands(r.all)...)
		return nval{kind: nBool, b: allOf(all), all: all}, true
	case "or", "||":
		if l.kind != nBool || r.kind != nBool {
			return nval{}, false
		}
		anyOps := append(l.operands(l.any), r.operands(r.any)...)
		return nval{kind: nBool, b: anyOf(anyOps), any: anyOps}, true
	case "+":
		switch {
		case l.kind == nString && r.kind == nString:
			parts := append(l.stringParts(), r.stringParts()...)
			return nval{kind: nString, s: concat(parts), parts: parts}, true
		case l.kind == nInt && r.kind == nInt:
			a, b := l.i, r.i
			return nval{kind: nInt, i: func(e *exprEnv) int { return a(e) + b(e) }}, true
		}
		return nval{}, false
	case "==", "!=", "<", "<=", ">", ">=":
		return nativeCompare(n.Operator, l, r)
	}
	return nval{}, false
}

// operands is chain, the operands of v when v is a chain of the same
// operator, else v alone; a copy, which the caller may append to.
func (v nval) operands(chain []func(*exprEnv) bool) []func(*exprEnv) bool {
	if chain != nil {
		return append([]func(*exprEnv) bool(nil), chain...)
	}
	return []func(*exprEnv) bool{v.b}
}

// allOf is fs[0](e) && fs[1](e) && …, in one closure; fs has two at least.
func allOf(fs []func(*exprEnv) bool) func(*exprEnv) bool {
	switch len(fs) {
	case 2:
		a, b := fs[0], fs[1]
		return func(e *exprEnv) bool { return a(e) && b(e) }
	case 3:
		a, b, c := fs[0], fs[1], fs[2]
		return func(e *exprEnv) bool { return a(e) && b(e) && c(e) }
	case 4:
		a, b, c, d := fs[0], fs[1], fs[2], fs[3]
		return func(e *exprEnv) bool { return a(e) && b(e) && c(e) && d(e) }
	}
	return func(e *exprEnv) bool {
		for _, f := range fs {
			if !f(e) {
				return false
			}
		}
		return true
	}
}

// anyOf is fs[0](e) || fs[1](e) || …, in one closure; fs has two at least.
func anyOf(fs []func(*exprEnv) bool) func(*exprEnv) bool {
	switch len(fs) {
	case 2:
		a, b := fs[0], fs[1]
		return func(e *exprEnv) bool { return a(e) || b(e) }
	case 3:
		a, b, c := fs[0], fs[1], fs[2]
		return func(e *exprEnv) bool { return a(e) || b(e) || c(e) }
	}
	return func(e *exprEnv) bool {
		for _, f := range fs {
			if f(e) {
				return true
			}
		}
		return false
	}
}

func (v nval) stringParts() []nval {
	if v.parts != nil {
		return v.parts
	}
	return []nval{v}
}

// concat glues the parts of a + chain with one allocation, where the machine
// makes one per +.
// maxNativeParts is the most parts a concatenation built natively may have
// (author.id + ":" + space has three).
const maxNativeParts = 4

func concat(parts []nval) func(*exprEnv) string {
	if len(parts) == 3 {
		a, b, c := parts[0].s, parts[1].s, parts[2].s
		return func(e *exprEnv) string { return a(e) + b(e) + c(e) }
	}
	return func(e *exprEnv) string {
		var buf [8]string
		vals := buf[:0]
		n := 0
		for _, p := range parts {
			s := p.s(e)
			vals = append(vals, s)
			n += len(s)
		}
		var sb strings.Builder
		sb.Grow(n)
		for _, s := range vals {
			sb.WriteString(s)
		}
		return sb.String()
	}
}

func nativeCompare(op string, l, r nval) (nval, bool) {
	if l.konst && !r.konst {
		// 5 < x is x > 5: the constant goes right, where the closures
		// below look for it
		flip, ok := flipped[op]
		if !ok {
			return nval{}, false
		}
		op, l, r = flip, r, l
	}
	var f func(*exprEnv) bool
	switch {
	case l.kind == nInt && r.kind == nInt:
		if c, ok := r.k.(int); r.konst && ok && l.runesOf != nil {
			f = runesConst(op, l.runesOf, c)
		} else if r.konst && ok {
			f = orderedConst(op, l.i, c)
		} else {
			f = ordered(op, l.i, r.i)
		}
	case l.kind == nDuration && r.kind == nDuration:
		if c, ok := r.k.(time.Duration); r.konst && ok {
			f = orderedConst(op, l.d, c)
		} else {
			f = ordered(op, l.d, r.d)
		}
	case isNumber(l.kind) && isNumber(r.kind):
		if c, ok := r.floatConst(); ok {
			f = orderedConst(op, l.float(), c)
		} else {
			f = ordered(op, l.float(), r.float())
		}
	case l.kind == nString && r.kind == nString:
		if c, ok := r.k.(string); r.konst && ok {
			f = orderedConst(op, l.s, c)
		} else {
			f = ordered(op, l.s, r.s)
		}
	case l.kind == nBool && r.kind == nBool:
		f = equality(op, l.b, r.b)
	}
	if f == nil {
		return nval{}, false
	}
	return boolOf(f), true
}

// ordered compiles a comparison of two values of an ordered type, or returns
// nil for an operator that is not one. It serves the rules' closures and the
// alerts' (E is exprEnv or alertEnv); each instance is compiled for its own
// types, so the closures compare as directly as written out by hand.
func ordered[E any, T cmp.Ordered](op string, a, b func(*E) T) func(*E) bool {
	switch op {
	case "<":
		return func(e *E) bool { return a(e) < b(e) }
	case "<=":
		return func(e *E) bool { return a(e) <= b(e) }
	case ">":
		return func(e *E) bool { return a(e) > b(e) }
	case ">=":
		return func(e *E) bool { return a(e) >= b(e) }
	}
	return equality(op, a, b)
}

// flipped is the operator that compares the other way round: a < b is b > a.
var flipped = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

// orderedConst is ordered with a constant on the right: one closure call
// per comparison instead of three.
func orderedConst[T cmp.Ordered](op string, a func(*exprEnv) T, c T) func(*exprEnv) bool {
	switch op {
	case "<":
		return func(e *exprEnv) bool { return a(e) < c }
	case "<=":
		return func(e *exprEnv) bool { return a(e) <= c }
	case ">":
		return func(e *exprEnv) bool { return a(e) > c }
	case ">=":
		return func(e *exprEnv) bool { return a(e) >= c }
	case "==":
		return func(e *exprEnv) bool { return a(e) == c }
	case "!=":
		return func(e *exprEnv) bool { return a(e) != c }
	}
	return nil
}

// runesConst compiles len(s) op c: len(text) >= 20 reads twenty
// characters of a text, not all of them.
func runesConst(op string, s func(*exprEnv) string, c int) func(*exprEnv) bool {
	n := func(e *exprEnv, most int) int { return runesUpTo(s(e), most) }
	switch op {
	case "<":
		return func(e *exprEnv) bool { return n(e, c) < c }
	case "<=":
		return func(e *exprEnv) bool { return n(e, c+1) <= c }
	case ">":
		return func(e *exprEnv) bool { return n(e, c+1) > c }
	case ">=":
		return func(e *exprEnv) bool { return n(e, c) >= c }
	case "==":
		return func(e *exprEnv) bool { return n(e, c+1) == c }
	case "!=":
		return func(e *exprEnv) bool { return n(e, c+1) != c }
	}
	return nil
}

// runesUpTo is min(utf8.RuneCountInString(s), most), counting no further.
func runesUpTo(s string, most int) int {
	if len(s) <= most {
		return utf8.RuneCountInString(s) // no more runes than bytes
	}
	n := 0
	for range s {
		if n++; n >= most {
			return n
		}
	}
	return n
}

// floatConst is a constant number as expr compares it with a float.
func (v nval) floatConst() (float64, bool) {
	if !v.konst {
		return 0, false
	}
	switch c := v.k.(type) {
	case int:
		return float64(c), true
	case float64:
		return c, true
	}
	return 0, false
}

// equality compiles == or !=, or returns nil for another operator.
func equality[E any, T comparable](op string, a, b func(*E) T) func(*E) bool {
	switch op {
	case "==":
		return func(e *E) bool { return a(e) == b(e) }
	case "!=":
		return func(e *E) bool { return a(e) != b(e) }
	}
	return nil
}

func boolOf(f func(*exprEnv) bool) nval { return nval{kind: nBool, b: f} }

// float reads an int or float value as a float, as expr compares them.
func (v nval) float() func(*exprEnv) float64 {
	if v.kind == nFloat {
		return v.f
	}
	i := v.i
	return func(e *exprEnv) float64 { return float64(i(e)) }
}

func nativeBuiltin(n *ast.BuiltinNode) (nval, bool) {
	args := make([]nval, len(n.Arguments))
	for i, a := range n.Arguments {
		v, ok := nativeNode(a)
		if !ok {
			return nval{}, false
		}
		args[i] = v
	}
	switch n.Name {
	case "len":
		if len(args) != 1 {
			return nval{}, false
		}
		switch a := args[0]; a.kind {
		case nString:
			// expr's len counts runes
			f := a.s
			return nval{kind: nInt, i: func(e *exprEnv) int { return utf8.RuneCountInString(f(e)) }, runesOf: f}, true
		case nStrings:
			f := a.ss
			return nval{kind: nInt, i: func(e *exprEnv) int { return len(f(e)) }}, true
		}
	case "max", "min":
		if len(args) == 0 {
			return nval{}, false
		}
		fs := make([]func(*exprEnv) int, len(args))
		for i, a := range args {
			if a.kind != nInt {
				return nval{}, false
			}
			fs[i] = a.i
		}
		isMax := n.Name == "max"
		return nval{kind: nInt, i: func(e *exprEnv) int {
			m := fs[0](e)
			for _, f := range fs[1:] {
				if x := f(e); isMax && x > m || !isMax && x < m {
					m = x
				}
			}
			return m
		}}, true
	}
	return nval{}, false
}

func nativeCall(n *ast.CallNode) (nval, bool) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return nval{}, false
	}
	args := n.Arguments
	if envFuncs[id.Value] {
		// the hidden state argument: the closures read it from the environment
		if len(args) == 0 {
			return nval{}, false
		}
		if st, ok := args[0].(*ast.IdentifierNode); !ok || st.Value != stateName {
			return nval{}, false
		}
		args = args[1:]
	}
	vals := make([]nval, len(args))
	for i, a := range args {
		v, ok := nativeNode(a)
		if !ok {
			return nval{}, false
		}
		vals[i] = v
	}
	is := func(kinds ...nkind) bool {
		if len(vals) != len(kinds) {
			return false
		}
		for i, k := range kinds {
			if vals[i].kind != k {
				return false
			}
		}
		return true
	}
	switch id.Value {
	case "has_any":
		if is(nString, nList) {
			s, l := vals[0].s, vals[1].list
			return boolOf(func(e *exprEnv) bool { return e.State.hasAny(s(e), l) }), true
		}
	case "any_in", "all_in", "none_in", "lookalike":
		if is(nStrings, nList) {
			items, l := vals[0].ss, vals[1].list
			var f func(*evalState, []string, *wordList) bool
			switch id.Value {
			case "any_in":
				f = (*evalState).anyIn
			case "all_in":
				f = (*evalState).allIn
			case "none_in":
				f = (*evalState).noneIn
			default:
				f = (*evalState).lookalike
			}
			return boolOf(func(e *exprEnv) bool { return f(e.State, items(e), l) }), true
		}
	case "in_list":
		if is(nString, nList) {
			s, l := vals[0].s, vals[1].list
			return boolOf(func(e *exprEnv) bool { return l.l.Contains(s(e)) }), true
		}
	case "strikes":
		if is(nDuration) {
			d := vals[0].d
			return nval{kind: nInt, i: func(e *exprEnv) int { return e.State.strikesIn(d(e)) }}, true
		}
	case matchesFunc:
		if is(nString, nPattern) {
			s, pat := vals[0].s, vals[1].pat
			return boolOf(func(e *exprEnv) bool { return e.State.matches(s(e), pat) }), true
		}
	case concatFunc:
		// a few parts are built natively, unbudgeted: the text is bounded by
		// the event's fields; longer chains run on the machine, which counts
		if is(nString, nString) {
			parts := append(vals[0].stringParts(), vals[1].stringParts()...)
			if len(parts) > maxNativeParts {
				return nval{}, false
			}
			return nval{kind: nString, s: concat(parts), parts: parts}, true
		}
	case chargeFunc:
		if is(nString) {
			return vals[0], true
		}
	case "score":
		if is(nModel) {
			m := vals[0].model
			return nval{kind: nFloat, f: func(e *exprEnv) float64 { return e.State.score(m) }}, true
		}
	case "sketch":
		if is(nInt) {
			b := vals[0].i
			return nval{kind: nString, s: func(e *exprEnv) string { return e.State.sketch(b(e)) },
				app: func(e *exprEnv, buf []byte) []byte { return e.State.appendSketch(buf, b(e)) },
				sum: func(e *exprEnv, k store.KeySum) (store.KeySum, bool) {
					// 16 hex digits of the band, or "" (sketch's string)
					if h, ok := e.State.sketchSum(b(e)); ok {
						return k.Then(store.SumNumber(h)), true
					}
					return k.Then(emptySum), false
				}}, true
		}
	}
	return nval{}, false
}
