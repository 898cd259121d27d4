package odata

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// A generator of random well-typed $filter trees, printed with as few parentheses as the precedence rules allow,
// in random keyword case and spacing. Parsing the text must give back the tree: this checks precedence,
// associativity and every literal form far beyond the tables.

type filterGen struct {
	r *rand.Rand
}

func (g *filterGen) pick(n int) int { return g.r.IntN(n) }

func (g *filterGen) boolean(depth int) Expr {
	if depth <= 0 {
		switch g.pick(4) {
		case 0:
			return &Literal{LitKind: KindBoolean, Bool: g.pick(2) == 0}
		case 1:
			return &Call{Fn: []Func{FnContains, FnStartsWith, FnEndsWith}[g.pick(3)], Args: []Expr{g.value(KindString, 0), g.value(KindString, 0)}}
		}
		return g.comparison(0)
	}
	switch g.pick(8) {
	case 0, 1:
		return &Binary{Op: OpAnd, Left: g.boolean(depth - 1), Right: g.boolean(depth - 1)}
	case 2, 3:
		return &Binary{Op: OpOr, Left: g.boolean(depth - 1), Right: g.boolean(depth - 1)}
	case 4:
		return &Not{X: g.boolean(depth - 1)}
	case 5:
		k := g.kind()
		list := make([]Expr, g.pick(4))
		for i := range list {
			list[i] = g.literal(k)
		}
		return &In{X: g.value(k, depth-1), List: list}
	case 6:
		// A comparison of Booleans, which exercises comparison chains.
		return &Binary{Op: OpEq + BinaryOp(g.pick(6)), Left: g.boolean(depth - 1), Right: g.boolean(depth - 1)}
	}
	return g.comparison(depth - 1)
}

func (g *filterGen) kind() ExprKind {
	return []ExprKind{KindString, KindString, KindInt, KindDecimal, KindDateTimeOffset, KindDateTimeOffset, KindDate, KindTimeOfDay}[g.pick(8)]
}

func (g *filterGen) comparison(depth int) Expr {
	k := g.kind()
	rk := k
	if isNumeric(k) {
		rk = []ExprKind{KindInt, KindDecimal}[g.pick(2)]
	}
	return &Binary{Op: OpEq + BinaryOp(g.pick(6)), Left: g.value(k, depth), Right: g.value(rk, depth)}
}

// value makes an expression of kind k (or, now and then, null).
func (g *filterGen) value(k ExprKind, depth int) Expr {
	if g.pick(12) == 0 {
		return &Literal{LitKind: KindNull}
	}
	if depth <= 0 || g.pick(3) == 0 {
		switch k {
		case KindString:
			if g.pick(2) == 0 {
				return &PropertyRef{Prop: []PropertyID{PropID, PropConnectorName, PropMachineName, PropConnectorVersion}[g.pick(4)]}
			}
		case KindDateTimeOffset:
			switch g.pick(3) {
			case 0:
				return &PropertyRef{Prop: []PropertyID{PropEnrollmentDateTime, PropLastCheckinDateTime}[g.pick(2)]}
			case 1:
				return &Call{Fn: FnNow}
			}
		}
		return g.literal(k)
	}
	dto := func() Expr { return g.value(KindDateTimeOffset, depth-1) }
	str := func() Expr { return g.value(KindString, depth-1) }
	switch k {
	case KindString:
		switch g.pick(5) {
		case 0:
			return &Call{Fn: []Func{FnToLower, FnToUpper, FnTrim}[g.pick(3)], Args: []Expr{str()}}
		case 1:
			return &Call{Fn: FnConcat, Args: []Expr{str(), str()}}
		case 2:
			return &Call{Fn: FnSubstring, Args: []Expr{str(), g.value(KindInt, depth-1)}}
		case 3:
			length := g.value(KindInt, depth-1)
			if l, ok := length.(*Literal); ok && l.LitKind == KindInt && l.Int < 0 {
				l.Int = -l.Int // a negative literal length is refused
				if l.Int < 0 {
					l.Int = 0
				}
			}
			return &Call{Fn: FnSubstring, Args: []Expr{str(), g.value(KindInt, depth-1), length}}
		}
		return &PropertyRef{Prop: PropConnectorName}
	case KindInt:
		switch g.pick(3) {
		case 0:
			return &Call{Fn: FnLength, Args: []Expr{str()}}
		case 1:
			return &Call{Fn: FnIndexOf, Args: []Expr{str(), str()}}
		}
		return &Call{Fn: []Func{FnYear, FnMonth, FnDay, FnHour, FnMinute, FnSecond, FnTotalOffsetMinutes}[g.pick(7)], Args: []Expr{dto()}}
	case KindDecimal:
		return &Call{Fn: FnFractionalSeconds, Args: []Expr{dto()}}
	case KindDate:
		return &Call{Fn: FnDate, Args: []Expr{dto()}}
	case KindTimeOfDay:
		return &Call{Fn: FnTime, Args: []Expr{dto()}}
	}
	return g.literal(k)
}

func (g *filterGen) literal(k ExprKind) *Literal {
	switch k {
	case KindString:
		const alphabet = "aZ0 ';,&=()[]\"@$%+-/:.éß😀\t"
		runes := []rune(alphabet)
		var b strings.Builder
		for range g.pick(6) {
			b.WriteRune(runes[g.pick(len(runes))])
		}
		return &Literal{LitKind: KindString, Str: b.String()}
	case KindInt:
		n := []int64{0, 1, -1, 2016, 1<<63 - 1, -1 << 63, int64(g.r.Int32())}[g.pick(7)]
		return &Literal{LitKind: KindInt, Int: n}
	case KindDecimal:
		return &Literal{LitKind: KindDecimal, Decimal: []string{"0.5", "-0.25", "1e3", "1E-3", "3726057e-7", "1.5e+10", "0.0000001"}[g.pick(7)]}
	case KindDateTimeOffset:
		off := int16(g.pick(2*MaxOffsetMinutes+1) - MaxOffsetMinutes)
		d := DateTimeOffset{Ticks: g.r.Int64N(MaxTicks-2*TicksPerDay) + TicksPerDay, Offset: off}
		return &Literal{LitKind: KindDateTimeOffset, Time: d}
	case KindDate:
		return &Literal{LitKind: KindDate, Date: g.r.Int64N(MaxTicks / TicksPerDay)}
	case KindTimeOfDay:
		return &Literal{LitKind: KindTimeOfDay, Tod: g.r.Int64N(TicksPerDay)}
	}
	return &Literal{LitKind: KindNull}
}

// Printing with minimal parentheses. Precedence levels, lowest first: or 1, and 2, not 3, comparison and in 4,
// primary 5.
func precOf(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		switch e.Op {
		case OpOr:
			return 1
		case OpAnd:
			return 2
		}
		return 4
	case *Not:
		return 3
	case *In:
		return 4
	}
	return 5
}

type filterPrinter struct {
	g *filterGen
	b strings.Builder
}

func (p *filterPrinter) space() {
	p.b.WriteString([]string{" ", " ", "  ", "\t"}[p.g.pick(4)])
}

func (p *filterPrinter) word(w string) {
	switch p.g.pick(4) {
	case 0:
		w = strings.ToUpper(w)
	case 1:
		w = strings.ToUpper(w[:1]) + w[1:]
	}
	p.b.WriteString(w)
}

// print writes e, in parentheses if its precedence is below min.
func (p *filterPrinter) print(e Expr, min int) {
	if precOf(e) < min || min >= 0 && p.g.pick(10) == 0 {
		p.b.WriteByte('(')
		if p.g.pick(3) == 0 {
			p.b.WriteByte(' ')
		}
		p.print(e, 0)
		p.b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *Literal:
		switch e.LitKind {
		case KindBoolean:
			p.word(strconv.FormatBool(e.Bool))
		case KindNull:
			p.word("null")
		case KindDecimal:
			p.b.WriteString(e.Decimal)
		case KindDateTimeOffset:
			p.b.WriteString(e.Time.String())
		case KindDate:
			p.b.WriteString(formatDate(e.Date))
		case KindTimeOfDay:
			p.b.WriteString(formatTimeOfDay(e.Tod))
		default:
			writeSexpr(&p.b, e)
		}
	case *PropertyRef:
		p.b.WriteString(Properties[e.Prop].Name)
	case *Binary:
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
	case *Not:
		p.word("not")
		if precOf(e.X) == 5 && p.g.pick(2) == 0 {
			p.print(e.X, 6) // not(…) without a space
			return
		}
		p.space()
		p.print(e.X, 3)
	case *In:
		p.print(e.X, 4)
		p.space()
		p.word("in")
		p.space()
		brackets := p.g.pick(2) == 0
		if brackets {
			p.b.WriteByte('[')
		} else {
			p.b.WriteByte('(')
		}
		for i, x := range e.List {
			if i > 0 {
				p.b.WriteByte(',')
			}
			if l := x.(*Literal); brackets && l.LitKind == KindString && !strings.ContainsAny(l.Str, "\"\\\t") {
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
	case *Call:
		p.word(funcNames[e.Fn])
		p.b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				p.b.WriteByte(',')
				if p.g.pick(2) == 0 {
					p.b.WriteByte(' ')
				}
			}
			p.print(a, 0)
		}
		p.b.WriteByte(')')
	}
}

func TestParseFilterGenerated(t *testing.T) {
	t.Parallel()
	g := &filterGen{r: rand.New(rand.NewPCG(1, 2))}
	seed, empty, uni := evalRows(t)
	n := 5000
	if testing.Short() {
		n = 500
	}
	for i := range n {
		want := g.boolean(1 + i%5)
		p := filterPrinter{g: g}
		p.print(want, 0)
		text := p.b.String()
		if len(text) > MaxFilterLength {
			continue
		}
		got, err := ParseFilter(text, nil)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v\nthe tree was %s", text, err, sexpr(want))
		}
		if sexpr(got) != sexpr(want) {
			t.Fatalf("ParseFilter(%q)\n got %s\nwant %s", text, sexpr(got), sexpr(want))
		}
		for _, c := range []*Connector{&seed, &empty, &uni} {
			if v := Eval(got, c, seed.LastCheckinDateTime); v.Null && !got.Nullable() {
				t.Fatalf("%s is null but not Nullable", sexpr(got))
			}
		}
	}
}
