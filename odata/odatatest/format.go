package odatatest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/graphd/graphd/odata"
)

// Printing trees back into $filter and $orderby text with as few parentheses as OData's precedence needs.
// Precedence levels, lowest first: or 1, and 2, comparison and in 3, not 4, primary 5. and/or and comparisons
// associate to the left. not is unary and binds tighter than a comparison, as in ODataLib: `not a eq b` is
// `(not a) eq b`, so a negated comparison is printed `not (a eq b)`.

const (
	precOr = 1 + iota
	precAnd
	precComparison
	precNot
	precPrimary
)

func precOf(e odata.Expr) int {
	switch e := e.(type) {
	case *odata.Binary:
		switch e.Op {
		case odata.OpOr:
			return precOr
		case odata.OpAnd:
			return precAnd
		}
		return precComparison
	case *odata.Not:
		return precNot
	case *odata.In:
		return precComparison
	}
	return precPrimary
}

var opNames = map[odata.BinaryOp]string{odata.OpEq: "eq", odata.OpNe: "ne", odata.OpGt: "gt", odata.OpGe: "ge",
	odata.OpLt: "lt", odata.OpLe: "le", odata.OpAnd: "and", odata.OpOr: "or"}

var funcNames = map[odata.Func]string{odata.FnContains: "contains", odata.FnStartsWith: "startswith",
	odata.FnEndsWith: "endswith", odata.FnLength: "length", odata.FnIndexOf: "indexof", odata.FnSubstring: "substring",
	odata.FnToLower: "tolower", odata.FnToUpper: "toupper", odata.FnTrim: "trim", odata.FnConcat: "concat",
	odata.FnYear: "year", odata.FnMonth: "month", odata.FnDay: "day", odata.FnHour: "hour", odata.FnMinute: "minute",
	odata.FnSecond: "second", odata.FnFractionalSeconds: "fractionalseconds", odata.FnDate: "date", odata.FnTime: "time",
	odata.FnTotalOffsetMinutes: "totaloffsetminutes", odata.FnNow: "now", odata.FnMinDateTime: "mindatetime",
	odata.FnMaxDateTime: "maxdatetime"}

// Format prints e as $filter text that odata.ParseFilter reads back as the same tree, with only the
// parentheses precedence needs, lower-case keywords, single spaces, parenthesised in lists and enum members as
// qualified literals (microsoft.graph.userPfxIntendedPurpose'vpn').
func Format(e odata.Expr) string {
	p := printer{}
	p.print(e, 0)
	return p.b.String()
}

// FormatRandom prints e like Format, but in the many spellings the parser must accept: keywords, enum type
// names and members in random case, spaces and tabs, redundant parentheses, not(…) without a space, bracketed
// lists with JSON strings, enum members as plain strings where the other side is an enum, and midnight UTC as a
// Date literal where the other side is a DateTimeOffset.
func FormatRandom(r *rand.Rand, e odata.Expr) string {
	p := printer{r: r}
	p.print(e, 0)
	return p.b.String()
}

// FormatOrderBy prints order as $orderby text that odata.ParseOrderBy reads back as the same items: each
// expression as Format prints it, desc where an item is descending, asc left out.
func FormatOrderBy(order []odata.OrderBy) string {
	p := printer{}
	p.orderBy(order)
	return p.b.String()
}

// FormatOrderByRandom prints order like FormatOrderBy, in the spellings FormatRandom uses, with asc now and
// then written out and the directions in random case.
func FormatOrderByRandom(r *rand.Rand, order []odata.OrderBy) string {
	p := printer{r: r}
	p.orderBy(order)
	return p.b.String()
}

type printer struct {
	r *rand.Rand // nil: the canonical spelling
	b strings.Builder
	// alt asks the next literal for its alternative spelling: a member as a string, midnight UTC as a Date.
	alt bool
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

func (p *printer) orderBy(order []odata.OrderBy) {
	for i, o := range order {
		if i > 0 {
			p.b.WriteByte(',')
			if p.chance(2) {
				p.space()
			}
		}
		p.print(o.Expr, 0)
		switch {
		case o.Desc:
			p.space()
			p.word("desc")
		case p.chance(3):
			p.space()
			p.word("asc")
		}
	}
}

// hasAlt reports whether literal l, compared with a value of kind other, may be written in its alternative
// spelling and still parse to l: the parser turns a string compared with an enum into the member, and a Date
// compared with a DateTimeOffset into midnight UTC.
func hasAlt(l *odata.Literal, other odata.ExprKind) bool {
	switch l.LitKind {
	case odata.KindEnum:
		return other == odata.KindEnum
	case odata.KindDateTimeOffset:
		return other == odata.KindDateTimeOffset && l.Time.Offset == 0 && l.Time.Ticks%odata.TicksPerDay == 0
	}
	return false
}

// operand prints x, a side of a comparison whose other side has kind other, in its alternative spelling now and
// then; at most one side of a comparison may be (two strings or two dates would compare as such).
func (p *printer) operand(x odata.Expr, min int, other odata.ExprKind, altOK bool) bool {
	l, ok := x.(*odata.Literal)
	used := altOK && ok && hasAlt(l, other) && p.chance(2)
	p.alt = used
	p.print(x, min)
	p.alt = false
	return used
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
		p.b.WriteString(e.P.Name)
	case *odata.Binary:
		prec := precOf(e)
		left, right := prec, prec+1
		if prec == precComparison {
			// The right operand of a comparison is a unary expression: `a eq not b` needs no parentheses.
			right = precNot
			used := p.operand(e.Left, left, e.Right.Kind(), true)
			p.space()
			p.word(opNames[e.Op])
			p.space()
			p.operand(e.Right, right, e.Left.Kind(), !used)
			return
		}
		p.print(e.Left, left)
		p.space()
		p.word(opNames[e.Op])
		p.space()
		p.print(e.Right, right)
	case *odata.Not:
		p.word("not")
		if precOf(e.X) == precPrimary && p.chance(2) {
			p.print(e.X, precPrimary+1) // not(…) without a space
			return
		}
		p.space()
		p.print(e.X, precNot)
	case *odata.In:
		p.print(e.X, precComparison)
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
				p.operand(x, -1, e.X.Kind(), true) // list items are bare literals
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

// randomCase changes the case of some ASCII letters of s.
func (p *printer) randomCase(s string) string {
	if !p.chance(2) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if p.chance(2) {
			switch {
			case c >= 'a' && c <= 'z':
				b[i] = c - 'a' + 'A'
			case c >= 'A' && c <= 'Z':
				b[i] = c - 'A' + 'a'
			}
		}
	}
	return string(b)
}

func (p *printer) literal(l *odata.Literal) {
	alt := p.alt
	p.alt = false
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
		if alt {
			writeDate(&p.b, l.Time.Ticks/odata.TicksPerDay)
			return
		}
		p.b.WriteString(l.Time.String())
	case odata.KindDate:
		writeDate(&p.b, l.Date)
	case odata.KindTimeOfDay:
		s := l.Tod / odata.TicksPerSecond
		fmt.Fprintf(&p.b, "%02d:%02d:%02d.%07d", s/3600, s/60%60, s%60, l.Tod%odata.TicksPerSecond)
	case odata.KindEnum:
		name, ok := l.Enum.NameOf(l.Int)
		if !ok {
			panic(fmt.Sprintf("odatatest.Format: %d is no member of %s", l.Int, l.Enum.Qualified))
		}
		name = p.randomCase(name)
		if alt {
			p.b.WriteString("'" + name + "'")
			return
		}
		p.b.WriteString(p.randomCase(l.Enum.Qualified) + "'" + name + "'")
	default:
		panic(fmt.Sprintf("odatatest.Format: unknown literal kind %d", l.LitKind))
	}
}

func writeDate(b *strings.Builder, days int64) {
	y, m, d := civilFromDays(days)
	fmt.Fprintf(b, "%04d-%02d-%02d", y, m, d)
}
