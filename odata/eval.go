package odata

import (
	"math/big"
	"strings"
	"unicode/utf8"
)

// The in-memory reference evaluator of the $filter AST, with OData's semantics. It is the oracle the SQL
// translation is tested against, so it favours being obviously right over being fast.
//
// Semantics, which the SQL side implements too:
//   - Comparisons are two-valued: null eq null is true, x eq null is false for a non-null x, ne is the opposite
//     of eq, and gt/ge/lt/le with a null operand are false. in is true when X eq some element.
//   - and/or/not are three-valued (Kleene): null and false = false, null or true = true, not null = null.
//   - A function with a null argument returns null; now() is the request's instant.
//   - Strings compare by Unicode code point (byte order of UTF-8); DateTimeOffsets by instant; decimals and
//     integers numerically; Booleans false < true.
//   - length, indexof and substring count code points. indexof is 0-based, -1 when absent. substring's start
//     is 0-based; beyond the end it gives ""; a negative start counts from the end (OData 4.01: "returns a
//     string starting N characters before the end"), clamped to the start of the string; a negative length
//     computed at run time gives "" (a negative literal length is refused by the parser).
//   - tolower/toupper are strings.ToLower/ToUpper: Unicode simple case mapping, one code point to one.
//   - trim removes the characters of TrimCutset from both ends.
//   - year, month, day, hour, minute, second, fractionalseconds, date and time read the value's local time in its
//     own offset; totaloffsetminutes is that offset.
//
// A row is selected when its filter is true: neither false nor null.

// TrimCutset is what trim removes from both ends of a string: the space, as PostgreSQL's btrim does by default.
// OData says "whitespace according to Unicode rules"; the SQL side should call btrim(x, TrimCutset) so that
// changing this constant changes both.
const TrimCutset = " "

// Value3 is the value of an expression for one row: null, or a value of kind Kind in the matching field.
type Value3 struct {
	Null bool
	Kind ExprKind // of a non-null value
	Bool bool
	Str  string
	Int  int64
	Dec  *big.Rat // KindDecimal
	Time DateTimeOffset
	Date int64 // days since 0001-01-01
	Tod  int64 // ticks since midnight
	Enum *EnumType
}

// IsTrue reports whether v is the Boolean true (not false, not null).
func (v Value3) IsTrue() bool { return !v.Null && v.Kind == KindBoolean && v.Bool }

var null3 = Value3{Null: true}

func bool3(b bool) Value3 { return Value3{Kind: KindBoolean, Bool: b} }

// Match reports whether entity c satisfies filter (nil matches every row).
func Match(filter Expr, c *Entity, now DateTimeOffset) bool {
	return filter == nil || Eval(filter, c, now).IsTrue()
}

// Eval evaluates e for entity c; now is the value of now().
func Eval(e Expr, c *Entity, now DateTimeOffset) Value3 {
	switch e := e.(type) {
	case *Literal:
		return literalValue(e)
	case *PropertyRef:
		return propertyValue(e.P, c)
	case *Not:
		x := Eval(e.X, c, now)
		if x.Null {
			return null3
		}
		return bool3(!x.Bool)
	case *Binary:
		switch e.Op {
		case OpAnd, OpOr:
			return logical(e.Op, Eval(e.Left, c, now), Eval(e.Right, c, now))
		}
		return bool3(compare3(e.Op, Eval(e.Left, c, now), Eval(e.Right, c, now)))
	case *In:
		x := Eval(e.X, c, now)
		for _, item := range e.List {
			if compare3(OpEq, x, Eval(item, c, now)) {
				return bool3(true)
			}
		}
		return bool3(false)
	case *Call:
		return call(e, c, now)
	}
	panic("odata.Eval: unknown expression node")
}

func literalValue(l *Literal) Value3 {
	v := Value3{Kind: l.LitKind}
	switch l.LitKind {
	case KindNull:
		return null3
	case KindBoolean:
		v.Bool = l.Bool
	case KindString:
		v.Str = l.Str
	case KindInt:
		v.Int = l.Int
	case KindDecimal:
		r, ok := new(big.Rat).SetString(l.Decimal)
		if !ok {
			panic("odata.Eval: invalid decimal literal " + l.Decimal)
		}
		v.Dec = r
	case KindDateTimeOffset:
		v.Time = l.Time
	case KindDate:
		v.Date = l.Date
	case KindTimeOfDay:
		v.Tod = l.Tod
	case KindEnum:
		v.Int, v.Enum = l.Int, l.Enum
	}
	return v
}

func propertyValue(p *Property, c *Entity) Value3 {
	v := c.Values[p.ID]
	if v.Null {
		return null3
	}
	switch p.Type {
	case EdmDateTimeOffset:
		return Value3{Kind: KindDateTimeOffset, Time: v.Time}
	case EdmBoolean:
		return Value3{Kind: KindBoolean, Bool: v.Int != 0}
	case EdmInt32, EdmInt64:
		return Value3{Kind: KindInt, Int: v.Int}
	case EdmEnum:
		return Value3{Kind: KindEnum, Int: v.Int, Enum: p.Enum}
	case EdmBinary:
		return Value3{Kind: KindBinary, Str: v.Str}
	}
	return Value3{Kind: KindString, Str: v.Str}
}

func logical(op BinaryOp, l, r Value3) Value3 {
	// The deciding value: false for and, true for or.
	decide := op == OpOr
	switch {
	case !l.Null && l.Bool == decide, !r.Null && r.Bool == decide:
		return bool3(decide)
	case l.Null || r.Null:
		return null3
	}
	return bool3(!decide)
}

// compare3 applies a comparison with OData's two-valued null rules.
func compare3(op BinaryOp, l, r Value3) bool {
	if l.Null || r.Null {
		switch op {
		case OpEq:
			return l.Null && r.Null
		case OpNe:
			return l.Null != r.Null
		}
		return false
	}
	c := cmpValues(l, r)
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	}
	panic("odata.Eval: unknown comparison")
}

// cmpValues orders two non-null values of comparable kinds.
func cmpValues(l, r Value3) int {
	if isNumeric(l.Kind) && isNumeric(r.Kind) && l.Kind != r.Kind || l.Kind == KindDecimal {
		return ratOf(l).Cmp(ratOf(r))
	}
	switch l.Kind {
	case KindBoolean:
		return cmpInt(b2i(l.Bool), b2i(r.Bool))
	case KindString:
		return strings.Compare(l.Str, r.Str)
	case KindInt, KindEnum:
		return cmpInt(l.Int, r.Int)
	case KindBinary:
		return strings.Compare(l.Str, r.Str)
	case KindDateTimeOffset:
		return cmpInt(l.Time.Ticks, r.Time.Ticks)
	case KindDate:
		return cmpInt(l.Date, r.Date)
	case KindTimeOfDay:
		return cmpInt(l.Tod, r.Tod)
	}
	panic("odata.Eval: values of incomparable kinds")
}

func ratOf(v Value3) *big.Rat {
	if v.Kind == KindDecimal {
		return v.Dec
	}
	return new(big.Rat).SetInt64(v.Int)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func call(e *Call, c *Entity, now DateTimeOffset) Value3 {
	switch e.Fn {
	case FnNow:
		return Value3{Kind: KindDateTimeOffset, Time: now}
	case FnMinDateTime:
		return Value3{Kind: KindDateTimeOffset, Time: MinDateTime}
	case FnMaxDateTime:
		return Value3{Kind: KindDateTimeOffset, Time: MaxDateTime}
	}
	var args [3]Value3
	for i, a := range e.Args {
		args[i] = Eval(a, c, now)
		if args[i].Null {
			return null3
		}
	}
	s, t := args[0].Str, args[1].Str
	str := func(s string) Value3 { return Value3{Kind: KindString, Str: s} }
	integer := func(n int64) Value3 { return Value3{Kind: KindInt, Int: n} }
	switch e.Fn {
	case FnContains:
		return bool3(strings.Contains(s, t))
	case FnStartsWith:
		return bool3(strings.HasPrefix(s, t))
	case FnEndsWith:
		return bool3(strings.HasSuffix(s, t))
	case FnLength:
		return integer(int64(utf8.RuneCountInString(s)))
	case FnIndexOf:
		i := strings.Index(s, t)
		if i < 0 {
			return integer(-1)
		}
		return integer(int64(utf8.RuneCountInString(s[:i])))
	case FnSubstring:
		if len(e.Args) == 3 {
			return str(substring(s, args[1].Int, args[2].Int, true))
		}
		return str(substring(s, args[1].Int, 0, false))
	case FnToLower:
		return str(strings.ToLower(s))
	case FnToUpper:
		return str(strings.ToUpper(s))
	case FnTrim:
		return str(strings.Trim(s, TrimCutset))
	case FnConcat:
		return str(s + t)
	}
	d := args[0].Time
	local := d.local()
	days, rem := local/TicksPerDay, local%TicksPerDay
	switch e.Fn {
	case FnYear, FnMonth, FnDay:
		y, m, dd := civilFromDays(days)
		switch e.Fn {
		case FnYear:
			return integer(int64(y))
		case FnMonth:
			return integer(int64(m))
		}
		return integer(int64(dd))
	case FnHour:
		return integer(rem / (60 * TicksPerMinute))
	case FnMinute:
		return integer(rem / TicksPerMinute % 60)
	case FnSecond:
		return integer(rem / TicksPerSecond % 60)
	case FnFractionalSeconds:
		return Value3{Kind: KindDecimal, Dec: big.NewRat(rem%TicksPerSecond, TicksPerSecond)}
	case FnDate:
		return Value3{Kind: KindDate, Date: days}
	case FnTime:
		return Value3{Kind: KindTimeOfDay, Tod: rem}
	case FnTotalOffsetMinutes:
		return integer(int64(d.Offset))
	}
	panic("odata.Eval: unknown function")
}

// substring is OData's substring in code points: start is 0-based, a negative start counts from the end
// (clamped to 0), a start at or beyond the end gives "". With hasLength, at most length code points are taken,
// and a negative length gives "".
func substring(s string, start, length int64, hasLength bool) string {
	n := int64(utf8.RuneCountInString(s))
	if start < 0 {
		start = max(n+start, 0)
	}
	if start >= n || hasLength && length <= 0 {
		return ""
	}
	end := n
	if hasLength && length < n-start {
		end = start + length
	}
	// Walk to the byte offsets of the start and end code points.
	var from, to, k int64 = -1, int64(len(s)), 0
	for i := range s {
		if k == start {
			from = int64(i)
		}
		if k == end {
			to = int64(i)
			break
		}
		k++
	}
	return s[from:to]
}

// CompareOrder orders two entities as a query with order sorts them: each item in turn, nulls first ascending
// and last descending (OData), strings by code point, DateTimeOffsets by instant, enums by value; then by key,
// the tiebreak the store adds, in the direction of the last item (ascending when there is none), so that a
// one-item ordering and its tiebreak read one index in one direction. now is the value of now(). It returns
// -1, 0 or +1.
func CompareOrder(a, b *Entity, order []OrderBy, now DateTimeOffset) int {
	for _, o := range order {
		c := cmpNullsFirst(Eval(o.Expr, a, now), Eval(o.Expr, b, now))
		if o.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	c := strings.Compare(a.Key(), b.Key())
	if len(order) > 0 && order[len(order)-1].Desc {
		c = -c
	}
	return c
}

func cmpNullsFirst(l, r Value3) int {
	switch {
	case l.Null && r.Null:
		return 0
	case l.Null:
		return -1
	case r.Null:
		return 1
	}
	return cmpValues(l, r)
}
