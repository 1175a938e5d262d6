package rules

import (
	"github.com/expr-lang/expr/ast"
)

// The alerts' conditions (sums and comparisons of hits, baselines and counters,
// and/or/not, the event's place) are compiled to Go closures over alertEnv, as
// the rules' are over exprEnv. They give the same answers as expr's machine; a
// condition with any other shape runs on the machine.

// anval is one compiled node of an alert's condition: the closure of its kind
// is set (nBool, nInt, nFloat or nString).
type anval struct {
	kind nkind
	b    func(*alertEnv) bool
	i    func(*alertEnv) int
	f    func(*alertEnv) float64
	s    func(*alertEnv) string
}

// alertNative is a compiled condition and the lengths its indexes need: an
// index out of range is an error on the machine (the alert does not hold), so
// the closures run only when every slice is long enough.
type alertNative struct {
	when                          func(*alertEnv) bool
	needHits, needBase, needCount int
}

// usable says whether the closures can answer for env.
func (c *alertNative) usable(env *alertEnv) bool {
	return c != nil && len(env.Hits) >= c.needHits && len(env.Baseline) >= c.needBase && len(env.Counters) >= c.needCount
}

// nativeAlert compiles an alert's condition, as patched by alertPatcher; nil
// when it has a shape the closures do not cover.
func nativeAlert(n ast.Node) *alertNative {
	if n == nil {
		return nil
	}
	c := &alertNative{}
	v, ok := c.node(n)
	if !ok || v.kind != nBool {
		return nil
	}
	c.when = v.b
	return c
}

func (c *alertNative) node(n ast.Node) (anval, bool) {
	switch n := n.(type) {
	case *ast.BoolNode:
		b := n.Value
		return anval{kind: nBool, b: func(*alertEnv) bool { return b }}, true
	case *ast.IntegerNode:
		i := n.Value
		return anval{kind: nInt, i: func(*alertEnv) int { return i }}, true
	case *ast.FloatNode:
		f := n.Value
		return anval{kind: nFloat, f: func(*alertEnv) float64 { return f }}, true
	case *ast.StringNode:
		s := n.Value
		return anval{kind: nString, s: func(*alertEnv) string { return s }}, true
	case *ast.ConstantNode:
		switch v := n.Value.(type) {
		case bool:
			return anval{kind: nBool, b: func(*alertEnv) bool { return v }}, true
		case int:
			return anval{kind: nInt, i: func(*alertEnv) int { return v }}, true
		case float64:
			return anval{kind: nFloat, f: func(*alertEnv) float64 { return v }}, true
		case string:
			return anval{kind: nString, s: func(*alertEnv) string { return v }}, true
		}
	case *ast.IdentifierNode:
		// must follow alertEnv's fields
		switch n.Value {
		case "platform":
			return anval{kind: nString, s: func(e *alertEnv) string { return e.Platform }}, true
		case "space":
			return anval{kind: nString, s: func(e *alertEnv) string { return e.Space }}, true
		case "channel":
			return anval{kind: nString, s: func(e *alertEnv) string { return e.Channel }}, true
		case "kind":
			return anval{kind: nString, s: func(e *alertEnv) string { return e.Kind }}, true
		case "after_hours":
			return anval{kind: nBool, b: func(e *alertEnv) bool { return e.AfterHours }}, true
		}
	case *ast.MemberNode:
		return c.member(n)
	case *ast.UnaryNode:
		return c.unary(n)
	case *ast.BinaryNode:
		return c.binary(n)
	}
	return anval{}, false
}

// member reads __hits[i], __baseline[i] or counters[i] with a constant i.
func (c *alertNative) member(n *ast.MemberNode) (anval, bool) {
	id, ok := n.Node.(*ast.IdentifierNode)
	if !ok || n.Optional {
		return anval{}, false
	}
	idx, ok := n.Property.(*ast.IntegerNode)
	if !ok || idx.Value < 0 {
		return anval{}, false
	}
	i := idx.Value
	switch id.Value {
	case "__hits":
		c.needHits = max(c.needHits, i+1)
		return anval{kind: nInt, i: func(e *alertEnv) int { return e.Hits[i] }}, true
	case "__baseline":
		c.needBase = max(c.needBase, i+1)
		return anval{kind: nFloat, f: func(e *alertEnv) float64 { return e.Baseline[i] }}, true
	case "counters":
		c.needCount = max(c.needCount, i+1)
		return anval{kind: nInt, i: func(e *alertEnv) int { return e.Counters[i] }}, true
	}
	return anval{}, false
}

func (c *alertNative) unary(n *ast.UnaryNode) (anval, bool) {
	v, ok := c.node(n.Node)
	if !ok {
		return anval{}, false
	}
	switch {
	case (n.Operator == "not" || n.Operator == "!") && v.kind == nBool:
		f := v.b
		return anval{kind: nBool, b: func(e *alertEnv) bool { return !f(e) }}, true
	case n.Operator == "-" && v.kind == nInt:
		f := v.i
		return anval{kind: nInt, i: func(e *alertEnv) int { return -f(e) }}, true
	case n.Operator == "-" && v.kind == nFloat:
		f := v.f
		return anval{kind: nFloat, f: func(e *alertEnv) float64 { return -f(e) }}, true
	}
	return anval{}, false
}

// asFloat reads a number as a float64, as the machine does when an operation
// mixes integers and floats.
func (v anval) asFloat() func(*alertEnv) float64 {
	if v.kind == nFloat {
		return v.f
	}
	i := v.i
	return func(e *alertEnv) float64 { return float64(i(e)) }
}

func isNumber(k nkind) bool { return k == nInt || k == nFloat }

func (c *alertNative) binary(n *ast.BinaryNode) (anval, bool) {
	l, ok := c.node(n.Left)
	if !ok {
		return anval{}, false
	}
	r, ok := c.node(n.Right)
	if !ok {
		return anval{}, false
	}
	boolOf := func(f func(*alertEnv) bool) (anval, bool) { return anval{kind: nBool, b: f}, true }
	switch n.Operator {
	case "and", "&&", "or", "||":
		if l.kind != nBool || r.kind != nBool {
			return anval{}, false
		}
		a, b := l.b, r.b
		if n.Operator == "and" || n.Operator == "&&" {
			return boolOf(func(e *alertEnv) bool { return a(e) && b(e) })
		}
		return boolOf(func(e *alertEnv) bool { return a(e) || b(e) })
	case "==", "!=", "<", "<=", ">", ">=":
		var f func(*alertEnv) bool
		switch {
		case l.kind == nInt && r.kind == nInt:
			f = ordered(n.Operator, l.i, r.i)
		case isNumber(l.kind) && isNumber(r.kind):
			f = ordered(n.Operator, l.asFloat(), r.asFloat())
		case l.kind == nString && r.kind == nString:
			// ordering texts is left to the machine
			f = equality(n.Operator, l.s, r.s)
		case l.kind == nBool && r.kind == nBool:
			f = equality(n.Operator, l.b, r.b)
		}
		if f == nil {
			return anval{}, false
		}
		return boolOf(f)
	case "+", "-", "*":
		if !isNumber(l.kind) || !isNumber(r.kind) {
			return anval{}, false
		}
		if l.kind == nInt && r.kind == nInt {
			a, b := l.i, r.i
			switch n.Operator {
			case "+":
				return anval{kind: nInt, i: func(e *alertEnv) int { return a(e) + b(e) }}, true
			case "-":
				return anval{kind: nInt, i: func(e *alertEnv) int { return a(e) - b(e) }}, true
			default:
				return anval{kind: nInt, i: func(e *alertEnv) int { return a(e) * b(e) }}, true
			}
		}
		a, b := l.asFloat(), r.asFloat()
		switch n.Operator {
		case "+":
			return anval{kind: nFloat, f: func(e *alertEnv) float64 { return a(e) + b(e) }}, true
		case "-":
			return anval{kind: nFloat, f: func(e *alertEnv) float64 { return a(e) - b(e) }}, true
		default:
			return anval{kind: nFloat, f: func(e *alertEnv) float64 { return a(e) * b(e) }}, true
		}
	case "/":
		// the machine divides as floats, whatever the operands
		if !isNumber(l.kind) || !isNumber(r.kind) {
			return anval{}, false
		}
		a, b := l.asFloat(), r.asFloat()
		return anval{kind: nFloat, f: func(e *alertEnv) float64 { return a(e) / b(e) }}, true
	}
	return anval{}, false
}
