// Package odatatest generates random entities with awkward values and random well-typed $filter and $orderby
// trees over any entity type of an odata.Model, and prints trees back into query text, for property tests of
// the parsers, the evaluator (odata.Eval, odata.CompareOrder) and the SQL translation in store. It uses only
// the odata package and the standard library.
package odatatest

import (
	"math/rand/v2"
	"strings"

	"github.com/graphd/graphd/odata"
)

// FilterGen makes random well-typed $filter and $orderby trees over the properties of Type: every tree it
// returns is one odata.ParseFilter (or odata.ParseOrderBy) can produce. Secret properties never appear, Binary
// ones only compared with null. Literals are drawn now and then from Strings and Times, so that comparisons
// with the rows of a test hit rather than almost always miss.
type FilterGen struct {
	R       *rand.Rand
	Type    *odata.EntityType
	Strings []string               // string values worth comparing with, such as the rows' values
	Times   []odata.DateTimeOffset // DateTimeOffset values worth comparing with

	props map[odata.ExprKind][]*odata.Property // usable properties by kind
	enums []*odata.EnumType                    // the enum types of usable properties
	kinds []odata.ExprKind                     // the kinds comparison draws from, weighted
}

// NewFilterGen returns a generator over certificateConnectorDetails drawing on r, with the edge values of this
// package as its pools.
func NewFilterGen(r *rand.Rand) *FilterGen {
	return NewFilterGenFor(r, odata.Graph().MustSet(odata.ConnectorsSet).Type)
}

// NewFilterGenFor returns a generator over the properties of t drawing on r, with the edge values of this
// package as its pools.
func NewFilterGenFor(r *rand.Rand, t *odata.EntityType) *FilterGen {
	g := &FilterGen{R: r, Type: t, Strings: EdgeStrings(), Times: EdgeTimes(), props: map[odata.ExprKind][]*odata.Property{}}
	for i := range t.Properties {
		p := &t.Properties[i]
		if p.Secret {
			continue
		}
		k := (&odata.PropertyRef{P: p}).Kind()
		g.props[k] = append(g.props[k], p)
		if p.Enum != nil && !containsEnum(g.enums, p.Enum) {
			g.enums = append(g.enums, p.Enum)
		}
	}
	g.kinds = []odata.ExprKind{odata.KindString, odata.KindString, odata.KindString, odata.KindInt, odata.KindInt,
		odata.KindDecimal, odata.KindDateTimeOffset, odata.KindDateTimeOffset, odata.KindDate, odata.KindTimeOfDay}
	if len(g.enums) > 0 {
		g.kinds = append(g.kinds, odata.KindEnum, odata.KindEnum)
	}
	return g
}

func containsEnum(list []*odata.EnumType, e *odata.EnumType) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

func (g *FilterGen) pick(n int) int { return g.R.IntN(n) }

// Filter returns a Boolean expression whose operators nest about depth levels.
func (g *FilterGen) Filter(depth int) odata.Expr { return g.boolean(depth) }

// OrderBy returns a random $orderby of zero to three items: mostly properties (each at most once as an item of
// its own), sometimes expressions of any kind but Binary, such as length(connectorName) or year(…).
func (g *FilterGen) OrderBy() []odata.OrderBy {
	var (
		order []odata.OrderBy
		seen  uint64
	)
	for range g.pick(4) {
		var e odata.Expr
		if g.pick(5) < 3 {
			var usable []*odata.Property
			for i := range g.Type.Properties {
				p := &g.Type.Properties[i]
				if !p.Secret && p.Type != odata.EdmBinary && seen&(1<<p.ID) == 0 {
					usable = append(usable, p)
				}
			}
			if len(usable) > 0 {
				p := usable[g.pick(len(usable))]
				seen |= 1 << p.ID
				e = &odata.PropertyRef{P: p}
			}
		}
		for e == nil {
			kinds := append([]odata.ExprKind{odata.KindBoolean}, g.kinds...)
			e = g.value(kinds[g.pick(len(kinds))], g.pick(3))
			if p, ok := e.(*odata.PropertyRef); ok {
				if seen&(1<<p.P.ID) != 0 {
					e = nil
					continue
				}
				seen |= 1 << p.P.ID
			}
		}
		order = append(order, odata.OrderBy{Expr: e, Desc: g.pick(2) == 0})
	}
	return order
}

var comparisons = []odata.BinaryOp{odata.OpEq, odata.OpNe, odata.OpGt, odata.OpGe, odata.OpLt, odata.OpLe}

func (g *FilterGen) boolean(depth int) odata.Expr {
	if depth <= 0 {
		switch g.pick(10) {
		case 0:
			if p := g.props[odata.KindBoolean]; len(p) > 0 && g.pick(2) == 0 {
				return &odata.PropertyRef{P: p[g.pick(len(p))]}
			}
			return &odata.Literal{LitKind: odata.KindBoolean, Bool: g.pick(2) == 0}
		case 1:
			if g.pick(3) == 0 {
				return &odata.Literal{LitKind: odata.KindNull}
			}
			return &odata.Literal{LitKind: odata.KindBoolean, Bool: g.pick(2) == 0}
		case 2, 3, 4:
			fn := []odata.Func{odata.FnContains, odata.FnStartsWith, odata.FnEndsWith}[g.pick(3)]
			return &odata.Call{Fn: fn, Args: []odata.Expr{g.value(odata.KindString, 0), g.value(odata.KindString, 0)}}
		case 5:
			if p := g.props[odata.KindBinary]; len(p) > 0 {
				return g.binaryNull(p[g.pick(len(p))])
			}
		}
		return g.comparison(0)
	}
	switch g.pick(11) {
	case 0, 1:
		return &odata.Binary{Op: odata.OpAnd, Left: g.boolean(depth - 1), Right: g.boolean(depth - 1)}
	case 2, 3:
		return &odata.Binary{Op: odata.OpOr, Left: g.boolean(depth - 1), Right: g.boolean(depth - 1)}
	case 4:
		return &odata.Not{X: g.boolean(depth - 1)}
	case 5:
		return g.in(g.kind(), depth-1)
	case 6:
		if g.pick(3) == 0 {
			return g.in(odata.KindBoolean, depth-1)
		}
		// A comparison of Booleans, which exercises comparison chains and false < true.
		return &odata.Binary{Op: comparisons[g.pick(6)], Left: g.boolean(depth - 1), Right: g.boolean(depth - 1)}
	case 7:
		// A string function of a function, which substring's and endswith's translations must not repeat.
		fn := []odata.Func{odata.FnContains, odata.FnStartsWith, odata.FnEndsWith}[g.pick(3)]
		return &odata.Call{Fn: fn, Args: []odata.Expr{g.value(odata.KindString, depth-1), g.value(odata.KindString, depth-1)}}
	}
	return g.comparison(depth - 1)
}

// binaryNull compares a Binary property with null, the only comparison Edm.Binary takes.
func (g *FilterGen) binaryNull(p *odata.Property) odata.Expr {
	var l, r odata.Expr = &odata.PropertyRef{P: p}, &odata.Literal{LitKind: odata.KindNull}
	if g.pick(4) == 0 {
		l, r = r, l
	}
	return &odata.Binary{Op: []odata.BinaryOp{odata.OpEq, odata.OpNe}[g.pick(2)], Left: l, Right: r}
}

// in makes X in (…) with X of kind k; the list holds literals of k and now and then null.
func (g *FilterGen) in(k odata.ExprKind, depth int) odata.Expr {
	var enum *odata.EnumType
	if k == odata.KindEnum {
		enum = g.enums[g.pick(len(g.enums))]
	}
	list := make([]odata.Expr, g.pick(5))
	for i := range list {
		if g.pick(6) == 0 {
			list[i] = &odata.Literal{LitKind: odata.KindNull}
			continue
		}
		lk := k
		if isNumeric(k) {
			lk = []odata.ExprKind{odata.KindInt, odata.KindDecimal}[g.pick(2)]
		}
		if enum != nil {
			list[i] = g.EnumLiteral(enum)
			continue
		}
		list[i] = g.Literal(lk)
	}
	if enum != nil {
		return &odata.In{X: g.enumValue(enum), List: list}
	}
	return &odata.In{X: g.value(k, depth), List: list}
}

func isNumeric(k odata.ExprKind) bool { return k == odata.KindInt || k == odata.KindDecimal }

func (g *FilterGen) kind() odata.ExprKind { return g.kinds[g.pick(len(g.kinds))] }

func (g *FilterGen) comparison(depth int) odata.Expr {
	k := g.kind()
	var l, r odata.Expr
	switch {
	case k == odata.KindEnum:
		// Both sides of one enum type: enums of different types do not compare.
		e := g.enums[g.pick(len(g.enums))]
		l, r = g.enumValue(e), g.enumValue(e)
	case isNumeric(k):
		l, r = g.value(k, depth), g.value([]odata.ExprKind{odata.KindInt, odata.KindDecimal}[g.pick(2)], depth)
	default:
		l, r = g.value(k, depth), g.value(k, depth)
	}
	if g.pick(2) == 0 {
		// Property first, literal second: the shape real clients send and indexes serve.
		if _, ok := r.(*odata.PropertyRef); ok {
			l, r = r, l
		}
	}
	return &odata.Binary{Op: comparisons[g.pick(6)], Left: l, Right: r}
}

// enumValue is a property of enum type e, a member of it, or now and then null.
func (g *FilterGen) enumValue(e *odata.EnumType) odata.Expr {
	if g.pick(12) == 0 {
		return &odata.Literal{LitKind: odata.KindNull}
	}
	if g.pick(2) == 0 {
		var props []*odata.Property
		for _, p := range g.props[odata.KindEnum] {
			if p.Enum == e {
				props = append(props, p)
			}
		}
		return &odata.PropertyRef{P: props[g.pick(len(props))]}
	}
	return g.EnumLiteral(e)
}

// EnumLiteral makes a literal of a random member of e.
func (g *FilterGen) EnumLiteral(e *odata.EnumType) *odata.Literal {
	return &odata.Literal{LitKind: odata.KindEnum, Enum: e, Int: e.Members[g.pick(len(e.Members))].Value}
}

// Value makes an expression of kind k (or, now and then, the literal null) nesting about depth levels. For
// KindEnum it picks one of the type's enum types.
func (g *FilterGen) Value(k odata.ExprKind, depth int) odata.Expr { return g.value(k, depth) }

// prop picks a usable property of kind k, or nil.
func (g *FilterGen) prop(k odata.ExprKind) odata.Expr {
	p := g.props[k]
	if len(p) == 0 {
		return nil
	}
	return &odata.PropertyRef{P: p[g.pick(len(p))]}
}

func (g *FilterGen) value(k odata.ExprKind, depth int) odata.Expr {
	switch k {
	case odata.KindBoolean:
		return g.boolean(depth)
	case odata.KindEnum:
		if len(g.enums) == 0 {
			return &odata.Literal{LitKind: odata.KindNull}
		}
		return g.enumValue(g.enums[g.pick(len(g.enums))])
	}
	if g.pick(12) == 0 {
		return &odata.Literal{LitKind: odata.KindNull}
	}
	if depth <= 0 || g.pick(3) == 0 {
		switch k {
		case odata.KindString:
			if p := g.prop(k); p != nil && g.pick(2) == 0 {
				return p
			}
		case odata.KindInt:
			if p := g.prop(k); p != nil && g.pick(3) == 0 {
				return p
			}
		case odata.KindDateTimeOffset:
			switch g.pick(4) {
			case 0:
				if p := g.prop(k); p != nil {
					return p
				}
			case 1:
				return &odata.Call{Fn: []odata.Func{odata.FnNow, odata.FnNow, odata.FnMinDateTime, odata.FnMaxDateTime}[g.pick(4)]}
			}
		}
		return g.Literal(k)
	}
	dto := func() odata.Expr { return g.value(odata.KindDateTimeOffset, depth-1) }
	str := func() odata.Expr { return g.value(odata.KindString, depth-1) }
	index := func() odata.Expr {
		if g.pick(2) == 0 {
			return &odata.Literal{LitKind: odata.KindInt, Int: int64(g.pick(13) - 6)}
		}
		return g.value(odata.KindInt, depth-1)
	}
	switch k {
	case odata.KindString:
		switch g.pick(5) {
		case 0:
			fn := []odata.Func{odata.FnToLower, odata.FnToUpper, odata.FnTrim}[g.pick(3)]
			return &odata.Call{Fn: fn, Args: []odata.Expr{str()}}
		case 1:
			return &odata.Call{Fn: odata.FnConcat, Args: []odata.Expr{str(), str()}}
		case 2:
			return &odata.Call{Fn: odata.FnSubstring, Args: []odata.Expr{str(), index()}}
		case 3:
			length := index()
			if l, ok := length.(*odata.Literal); ok && l.LitKind == odata.KindInt && l.Int < 0 {
				l.Int = -l.Int // the parser refuses a negative literal length
				if l.Int < 0 {
					l.Int = 0
				}
			}
			return &odata.Call{Fn: odata.FnSubstring, Args: []odata.Expr{str(), index(), length}}
		}
		if p := g.prop(k); p != nil {
			return p
		}
		return g.Literal(k)
	case odata.KindInt:
		switch g.pick(3) {
		case 0:
			return &odata.Call{Fn: odata.FnLength, Args: []odata.Expr{str()}}
		case 1:
			return &odata.Call{Fn: odata.FnIndexOf, Args: []odata.Expr{str(), str()}}
		}
		fn := []odata.Func{odata.FnYear, odata.FnMonth, odata.FnDay, odata.FnHour, odata.FnMinute, odata.FnSecond, odata.FnTotalOffsetMinutes}[g.pick(7)]
		return &odata.Call{Fn: fn, Args: []odata.Expr{dto()}}
	case odata.KindDecimal:
		return &odata.Call{Fn: odata.FnFractionalSeconds, Args: []odata.Expr{dto()}}
	case odata.KindDate:
		return &odata.Call{Fn: odata.FnDate, Args: []odata.Expr{dto()}}
	case odata.KindTimeOfDay:
		return &odata.Call{Fn: odata.FnTime, Args: []odata.Expr{dto()}}
	}
	return g.Literal(k)
}

const alphabet = "aZ0 ';,&=()[]\"@$%_\\+-/:.éßİ😀\t"

// Literal makes a random literal of kind k (the literal null for a kind without literals; for KindEnum a
// member of one of the type's enum types).
func (g *FilterGen) Literal(k odata.ExprKind) *odata.Literal {
	switch k {
	case odata.KindBoolean:
		return &odata.Literal{LitKind: odata.KindBoolean, Bool: g.pick(2) == 0}
	case odata.KindString:
		return &odata.Literal{LitKind: odata.KindString, Str: g.str()}
	case odata.KindEnum:
		if len(g.enums) > 0 {
			return g.EnumLiteral(g.enums[g.pick(len(g.enums))])
		}
	case odata.KindInt:
		var n int64
		switch g.pick(4) {
		case 0:
			n = int64(g.pick(25) - 12)
		case 1:
			n = []int64{1<<63 - 1, -1 << 63, 1 << 31, -1<<31 - 1, 1<<31 - 1, maxChars, -maxChars, int64(g.R.Int32())}[g.pick(8)]
		case 2:
			if len(g.Times) > 0 {
				// A date part of a pool value, so year(…) eq n and friends hit.
				c := civil(g.Times[g.pick(len(g.Times))])
				n = int64([]int{c.year, c.month, c.day, c.hour, c.minute, c.second, c.offset}[g.pick(7)])
				break
			}
			fallthrough
		default:
			n = []int64{0, 1, 2, 3, 12, 31, 59, 2016, 2017, 9999, -480, 840, -840}[g.pick(13)]
		}
		return &odata.Literal{LitKind: odata.KindInt, Int: n}
	case odata.KindDecimal:
		d := []string{"0.5", "-0.25", "1e3", "1E-3", "3726057e-7", "0.3726057", "1.5e+10", "0.0000001", "0.9999999",
			"0.0", "1.0", "-0.0", "2016.0", "1e1000", "-1E-1000", "12.5e-1"}[g.pick(16)]
		return &odata.Literal{LitKind: odata.KindDecimal, Decimal: d}
	case odata.KindDateTimeOffset:
		return &odata.Literal{LitKind: odata.KindDateTimeOffset, Time: g.time()}
	case odata.KindDate:
		if len(g.Times) > 0 && g.pick(2) == 0 {
			return &odata.Literal{LitKind: odata.KindDate, Date: civil(g.Times[g.pick(len(g.Times))]).days}
		}
		return &odata.Literal{LitKind: odata.KindDate, Date: g.R.Int64N(odata.MaxTicks/odata.TicksPerDay + 1)}
	case odata.KindTimeOfDay:
		if len(g.Times) > 0 && g.pick(2) == 0 {
			return &odata.Literal{LitKind: odata.KindTimeOfDay, Tod: civil(g.Times[g.pick(len(g.Times))]).tod}
		}
		return &odata.Literal{LitKind: odata.KindTimeOfDay, Tod: g.R.Int64N(odata.TicksPerDay)}
	}
	return &odata.Literal{LitKind: odata.KindNull}
}

// str is a random string literal: a pool value, a piece of one (so contains and startswith hit), or random text.
func (g *FilterGen) str() string {
	if len(g.Strings) > 0 && g.pick(3) > 0 {
		s := []rune(g.Strings[g.pick(len(g.Strings))])
		if len(s) > 0 && g.pick(3) == 0 {
			i := g.pick(len(s))
			j := i + g.pick(len(s)-i+1)
			s = s[i:j]
		}
		if g.pick(8) == 0 {
			return strings.ToUpper(string(s))
		}
		return string(s)
	}
	runes := []rune(alphabet)
	var b strings.Builder
	for range g.pick(6) {
		b.WriteRune(runes[g.pick(len(runes))])
	}
	return b.String()
}

// time is a random DateTimeOffset: a pool value, the same instant in another offset, midnight UTC of a pool
// value's date (which a Date literal compared with a DateTimeOffset means), or anything in range.
func (g *FilterGen) time() odata.DateTimeOffset {
	if len(g.Times) > 0 && g.pick(3) > 0 {
		d := g.Times[g.pick(len(g.Times))]
		switch g.pick(4) {
		case 0:
			return validOffset(odata.DateTimeOffset{Ticks: d.Ticks, Offset: randomOffset(g.R)})
		case 1:
			return odata.DateTimeOffset{Ticks: civil(d).days * odata.TicksPerDay}
		}
		return d
	}
	return validOffset(odata.DateTimeOffset{Ticks: g.R.Int64N(odata.MaxTicks + 1), Offset: randomOffset(g.R)})
}
