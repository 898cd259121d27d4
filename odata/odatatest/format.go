package odatatest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/graphd/graphd/odata"
)

// Printing trees back into $filter text with as few parentheses as OData's precedence needs. Precedence levels,
// lowest first: or 1, and 2, not 3, comparison and in 4, primary 5. and/or and comparisons associate to the
// left; not binds more loosely than a comparison (`not a eq b` is `not (a eq b)`).

func precOf(e odata.Expr) int {
	switch e := e.(type) {
	case *odata.Binary:
		switch e.Op {
		case odata.OpOr:
			return 1
		case odata.OpAnd:
			return 2
		}
		return 4
	case *odata.Not:
		return 3
	case *odata.In:
		return 4
	}
	return 5
}

var opNames = map[odata.BinaryOp]string{odata.OpEq: "eq", odata.OpNe: "ne", odata.OpGt: "gt", odata.OpGe: "ge",
	odata.OpLt: "lt", odata.OpLe: "le", odata.OpAnd: "and", odata.OpOr: "or"}

var funcNames = map[odata.Func]string{odata.FnContains: "contains", odata.FnStartsWith: "startswith",
	odata.FnEndsWith: "endswith", odata.FnLength: "length", odata.FnIndexOf: "indexof", odata.FnSubstring: "substring",
	odata.FnToLower: "tolower", odata.FnToUpper: "toupper", odata.FnTrim: "trim", odata.FnConcat: "concat",
	odata.FnYear: "year", odata.FnMonth: "month", odata.FnDay: "day", odata.FnHour: "hour", odata.FnMinute: "minute",
	odata.FnSecond: "second", odata.FnFractionalSeconds: "fractionalseconds", odata.FnDate: "date", odata.FnTime: "time",
	odata.FnTotalOffsetMinutes: "totaloffsetminutes", odata.FnNow: "now"}

// Format prints e as $filter text that odata.ParseFilter reads back as the same tree, with only the
// parentheses precedence needs, lower-case keywords, single spaces and parenthesised in lists.
func Format(e odata.Expr) string {
	p := printer{}
	p.print(e, 0)
	return p.b.String()
}

// FormatRandom prints e like Format, but in the many spellings the parser must accept: keywords in random
// case, spaces and tabs, redundant parentheses, not(…) without a space, and bracketed lists with JSON strings.
func FormatRandom(r *rand.Rand, e odata.Expr) string {
	p := printer{r: r}
	p.print(e, 0)
	return p.b.String()
}

type printer struct {
	r *rand.Rand // nil: the canonical spelling
	b strings.Builder
}

func (p *printer) chance(n int) bool { return p.r != nil && p.r.IntN(n) == 0 }

func (p *printer) space() {
	if p.r == nil {
		p.b.WriteByte(' ')
		return
	}
	p.b.WriteString([]string{" ", " ", "  ", "\t"}[p.r.IntN(4)])
}

func (p *printer) word(w string) {
	switch {
	case p.chance(4):
		w = strings.ToUpper(w)
	case p.chance(3):
		w = strings.ToUpper(w[:1]) + w[1:]
	}
	p.b.WriteString(w)
}

// print writes e, in parentheses if its precedence is below min; min < 0 means a bare literal is required.
func (p *printer) print(e odata.Expr, min int) {
	if precOf(e) < min || min >= 0 && p.chance(10) {
		p.b.WriteByte('(')
		if p.chance(3) {
			p.b.WriteByte(' ')
		}
		p.print(e, 0)
		p.b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *odata.Literal:
		p.literal(e)
	case *odata.PropertyRef:
		p.b.WriteString(odata.Properties[e.Prop].Name)
	case *odata.Binary:
		prec := precOf(e)
		left, right := prec, prec+1
		if prec == 4 {
			right = 5
		}
		p.print(e.Left, left)
		p.space()
		p.word(opNames[e.Op])
		p.space()
		p.print(e.Right, right)
	case *odata.Not:
		p.word("not")
		if precOf(e.X) == 5 && p.chance(2) {
			p.print(e.X, 6) // not(…) without a space
			return
		}
		p.space()
		p.print(e.X, 3)
	case *odata.In:
		p.print(e.X, 4)
		p.space()
		p.word("in")
		p.space()
		brackets := p.chance(2)
		if brackets {
			p.b.WriteByte('[')
		} else {
			p.b.WriteByte('(')
		}
		for i, x := range e.List {
			if i > 0 {
				p.b.WriteByte(',')
			}
			if l := x.(*odata.Literal); brackets && l.LitKind == odata.KindString && jsonSafe(l.Str) {
				p.b.WriteString(`"` + l.Str + `"`)
			} else {
				p.print(x, -1) // list items are bare literals
			}
		}
		if brackets {
			p.b.WriteByte(']')
		} else {
			p.b.WriteByte(')')
		}
	case *odata.Call:
		p.word(funcNames[e.Fn])
		p.b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				p.b.WriteByte(',')
				if p.chance(2) {
					p.b.WriteByte(' ')
				}
			}
			p.print(a, 0)
		}
		p.b.WriteByte(')')
	default:
		panic(fmt.Sprintf("odatatest.Format: unknown node %T", e))
	}
}

// jsonSafe reports whether s can be written between double quotes without escapes.
func jsonSafe(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' {
			return false
		}
	}
	return true
}

func (p *printer) literal(l *odata.Literal) {
	switch l.LitKind {
	case odata.KindNull:
		p.word("null")
	case odata.KindBoolean:
		p.word(strconv.FormatBool(l.Bool))
	case odata.KindString:
		p.b.WriteString("'" + strings.ReplaceAll(l.Str, "'", "''") + "'")
	case odata.KindInt:
		p.b.WriteString(strconv.FormatInt(l.Int, 10))
	case odata.KindDecimal:
		p.b.WriteString(l.Decimal)
	case odata.KindDateTimeOffset:
		p.b.WriteString(l.Time.String())
	case odata.KindDate:
		y, m, d := civilFromDays(l.Date)
		fmt.Fprintf(&p.b, "%04d-%02d-%02d", y, m, d)
	case odata.KindTimeOfDay:
		s := l.Tod / odata.TicksPerSecond
		fmt.Fprintf(&p.b, "%02d:%02d:%02d.%07d", s/3600, s/60%60, s%60, l.Tod%odata.TicksPerSecond)
	default:
		panic(fmt.Sprintf("odatatest.Format: unknown literal kind %d", l.LitKind))
	}
}
