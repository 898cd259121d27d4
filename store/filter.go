package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/graphd/graphd/odata"
)

// sqlBuilder turns an odata.Query into SQL text with $n placeholders and an argument list. Identifiers come only
// from the columns whitelist and literals only become arguments, so no client text ever becomes SQL text.
type sqlBuilder struct {
	sb   strings.Builder
	args []any
	now  odata.DateTimeOffset
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *sqlBuilder) w(s ...string) {
	for _, x := range s {
		b.sb.WriteString(x)
	}
}

// Tick arithmetic for the parts of a DateTimeOffset in its own offset.
const (
	ticksPerDay    = "864000000000"
	ticksPerHour   = "36000000000"
	ticksPerMinute = "600000000"
	ticksPerSecond = "10000000"
)

// filter writes e as a WHERE condition. It uses two polarities so that OData's logic holds in SQL: pos(e) is
// true exactly where e is true, neg(e) exactly where e is false (not null). NOT swaps them and is pushed down
// to the leaves, where comparisons (two-valued in OData) and functions (null on a null argument) each get the
// right null handling. Positive comparisons against literals stay plain `col op $n`, so indexes apply.
func (b *sqlBuilder) filter(e odata.Expr, negate bool) {
	switch n := e.(type) {
	case *odata.Not:
		b.filter(n.X, !negate)
	case *odata.Binary:
		switch n.Op {
		case odata.OpAnd, odata.OpOr:
			join := " AND "
			if (n.Op == odata.OpOr) != negate {
				join = " OR "
			}
			b.w("(")
			b.filter(n.Left, negate)
			b.w(join)
			b.filter(n.Right, negate)
			b.w(")")
		default:
			b.comparison(n, negate)
		}
	case *odata.In:
		b.in(n, negate)
	case *odata.Literal:
		// true/false; null as a condition is neither true nor false.
		switch {
		case n.LitKind == odata.KindNull:
			b.w("FALSE")
		case n.Bool != negate:
			b.w("TRUE")
		default:
			b.w("FALSE")
		}
	default:
		// A Boolean function: SQL's three-valued NOT matches OData's here.
		if negate {
			b.w("NOT ")
		}
		b.w("(")
		b.value(e)
		b.w(")")
	}
}

var sqlOps = map[odata.BinaryOp]string{odata.OpEq: " = ", odata.OpNe: " <> ", odata.OpGt: " > ", odata.OpGe: " >= ", odata.OpLt: " < ", odata.OpLe: " <= "}

func (b *sqlBuilder) comparison(n *odata.Binary, negate bool) {
	op := n.Op
	lnull, rnull := isNull(n.Left), isNull(n.Right)
	if op == odata.OpNe {
		op, negate = odata.OpEq, !negate
	}
	switch {
	case lnull && rnull:
		// null eq null is true; null gt null is false.
		if (op == odata.OpEq) != negate {
			b.w("TRUE")
		} else {
			b.w("FALSE")
		}
		return
	case lnull || rnull:
		x := n.Left
		if lnull {
			x = n.Right
		}
		if op != odata.OpEq {
			// Ordering against null is always false.
			if negate {
				b.w("TRUE")
			} else {
				b.w("FALSE")
			}
			return
		}
		b.w("(")
		b.value(x)
		if negate {
			b.w(") IS NOT NULL")
		} else {
			b.w(") IS NULL")
		}
		return
	}
	nullable := n.Left.Nullable() || n.Right.Nullable()
	if op == odata.OpEq && negate {
		b.w("(")
		b.operand(n.Left, n.Right)
		b.w(" IS DISTINCT FROM ")
		b.operand(n.Right, n.Left)
		b.w(")")
		return
	}
	if op == odata.OpEq && n.Left.Nullable() && n.Right.Nullable() {
		// Both sides may be null, and null eq null is true.
		b.w("(")
		b.operand(n.Left, n.Right)
		b.w(" IS NOT DISTINCT FROM ")
		b.operand(n.Right, n.Left)
		b.w(")")
		return
	}
	if negate {
		b.w("(")
	}
	b.w("(")
	b.operand(n.Left, n.Right)
	b.w(sqlOps[op])
	b.operand(n.Right, n.Left)
	b.w(")")
	if negate {
		if nullable {
			b.w(" IS NOT TRUE)")
		} else {
			b.w(" = FALSE)")
		}
	}
}

// operand writes x for a comparison with other: strings compare ordinally (COLLATE "C"), Int meets Decimal as
// numeric.
func (b *sqlBuilder) operand(x, other odata.Expr) {
	switch {
	case x.Kind() == odata.KindString:
		b.w("(")
		b.value(x)
		b.w(`) COLLATE "C"`)
	case x.Kind() == odata.KindInt && other.Kind() == odata.KindDecimal:
		b.w("(")
		b.value(x)
		b.w(")::numeric")
	default:
		b.value(x)
	}
}

func isNull(e odata.Expr) bool {
	l, ok := e.(*odata.Literal)
	return ok && l.LitKind == odata.KindNull
}

func (b *sqlBuilder) in(n *odata.In, negate bool) {
	var hasNull bool
	var items []odata.Expr
	for _, x := range n.List {
		if isNull(x) {
			hasNull = true
		} else {
			items = append(items, x)
		}
	}
	arr := b.inArray(n.X.Kind(), items)
	b.w("(")
	switch {
	case !negate && hasNull:
		b.value(n.X)
		b.w(" IS NULL OR ")
		b.operand(n.X, n.X)
		b.w(" = ANY(" + arr + ")")
	case !negate:
		b.operand(n.X, n.X)
		b.w(" = ANY(" + arr + ")")
	case hasNull:
		b.value(n.X)
		b.w(" IS NOT NULL AND NOT (")
		b.operand(n.X, n.X)
		b.w(" = ANY(" + arr + "))")
	default:
		b.value(n.X)
		b.w(" IS NULL OR NOT (")
		b.operand(n.X, n.X)
		b.w(" = ANY(" + arr + "))")
	}
	b.w(")")
}

// inArray passes the list as one typed array argument.
func (b *sqlBuilder) inArray(kind odata.ExprKind, items []odata.Expr) string {
	switch kind {
	case odata.KindString:
		v := make([]string, len(items))
		for i, x := range items {
			v[i] = x.(*odata.Literal).Str
		}
		return b.arg(v) + "::text[]"
	case odata.KindDecimal, odata.KindInt:
		v := make([]string, len(items))
		for i, x := range items {
			l := x.(*odata.Literal)
			if l.LitKind == odata.KindInt {
				v[i] = strconv.FormatInt(l.Int, 10)
			} else {
				v[i] = l.Decimal
			}
		}
		return b.arg(v) + "::numeric[]"
	}
	v := make([]int64, len(items))
	for i, x := range items {
		v[i] = literalInt(x.(*odata.Literal))
	}
	return b.arg(v) + "::bigint[]"
}

// literalInt is the integer SQL form of a temporal or integer literal.
func literalInt(l *odata.Literal) int64 {
	switch l.LitKind {
	case odata.KindDateTimeOffset:
		return l.Time.Ticks
	case odata.KindDate:
		return l.Date
	case odata.KindTimeOfDay:
		return l.Tod
	}
	return l.Int
}

// value writes e as an SQL value expression of the kind's SQL form: text for strings, bigint ticks for
// DateTimeOffset, bigint day numbers for Date, bigint ticks since midnight for TimeOfDay, bigint for Int,
// numeric for Decimal, boolean for Boolean. Null arguments give null, as OData's functions do.
func (b *sqlBuilder) value(e odata.Expr) {
	switch n := e.(type) {
	case *odata.Literal:
		b.literal(n)
	case *odata.PropertyRef:
		b.w(columns[n.Prop].name)
	case *odata.Call:
		b.call(n)
	case *odata.Binary, *odata.Not, *odata.In:
		// A Boolean sub-expression used as a value: true, false, or null as OData defines it.
		b.w("(CASE WHEN ")
		b.filter(e, false)
		b.w(" THEN TRUE WHEN ")
		b.filter(e, true)
		b.w(" THEN FALSE END)")
	default:
		panic(fmt.Sprintf("store: unknown filter node %T", e))
	}
}

func (b *sqlBuilder) literal(l *odata.Literal) {
	switch l.LitKind {
	case odata.KindNull:
		b.w("NULL")
	case odata.KindBoolean:
		if l.Bool {
			b.w("TRUE")
		} else {
			b.w("FALSE")
		}
	case odata.KindString:
		b.w(b.arg(l.Str) + "::text")
	case odata.KindDecimal:
		b.w(b.arg(l.Decimal) + "::numeric")
	default:
		b.w(b.arg(literalInt(l)) + "::bigint")
	}
}

// localTicks is a DateTimeOffset's local time in ticks: the instant plus its own offset.
func (b *sqlBuilder) localTicks(x odata.Expr) {
	if p, ok := x.(*odata.PropertyRef); ok {
		c := columns[p.Prop]
		b.w("(" + c.name + " + " + c.offset + "::bigint * " + ticksPerMinute + ")")
		return
	}
	// now() and literals carry their own offset; now() is UTC.
	if l, ok := x.(*odata.Literal); ok {
		b.w(b.arg(l.Time.Ticks+int64(l.Time.Offset)*odata.TicksPerMinute) + "::bigint")
		return
	}
	b.value(x)
}

func (b *sqlBuilder) call(c *odata.Call) {
	a := c.Args
	switch c.Fn {
	case odata.FnContains:
		b.w("(strpos(")
		b.value(a[0])
		b.w(", ")
		b.value(a[1])
		b.w(") > 0)")
	case odata.FnStartsWith:
		b.w("starts_with(")
		b.value(a[0])
		b.w(", ")
		b.value(a[1])
		b.w(")")
	case odata.FnEndsWith:
		b.w("(right(")
		b.value(a[0])
		b.w(", length(")
		b.value(a[1])
		b.w(")) = ")
		b.value(a[1])
		b.w(")")
	case odata.FnLength:
		b.w("length(")
		b.value(a[0])
		b.w(")::bigint")
	case odata.FnIndexOf:
		b.w("(strpos(")
		b.value(a[0])
		b.w(", ")
		b.value(a[1])
		b.w(") - 1)::bigint")
	case odata.FnSubstring:
		// 0-based in OData; a negative start counts as 0 and a negative length as 0, never an SQL error.
		b.w("substr(")
		b.value(a[0])
		b.w(", (greatest(")
		b.value(a[1])
		b.w(", 0) + 1)::int")
		if len(a) == 3 {
			b.w(", greatest(")
			b.value(a[2])
			b.w(", 0)::int")
		}
		b.w(")")
	case odata.FnToLower, odata.FnToUpper:
		// The database's default collation folds non-ASCII letters; the columns' "C" would not.
		fn := "lower("
		if c.Fn == odata.FnToUpper {
			fn = "upper("
		}
		b.w(fn)
		b.value(a[0])
		b.w(` COLLATE "default")`)
	case odata.FnTrim:
		b.w("btrim(")
		b.value(a[0])
		b.w(", ' ')")
	case odata.FnConcat:
		b.w("(")
		b.value(a[0])
		b.w(" || ")
		b.value(a[1])
		b.w(")")
	case odata.FnYear, odata.FnMonth, odata.FnDay:
		part := map[odata.Func]string{odata.FnYear: "year", odata.FnMonth: "month", odata.FnDay: "day"}[c.Fn]
		b.w("extract(" + part + " from date '0001-01-01' + (")
		b.localTicks(a[0])
		b.w(" / " + ticksPerDay + ")::int)::bigint")
	case odata.FnHour:
		b.w("((")
		b.localTicks(a[0])
		b.w(" % " + ticksPerDay + ") / " + ticksPerHour + ")")
	case odata.FnMinute:
		b.w("((")
		b.localTicks(a[0])
		b.w(" / " + ticksPerMinute + ") % 60)")
	case odata.FnSecond:
		b.w("((")
		b.localTicks(a[0])
		b.w(" / " + ticksPerSecond + ") % 60)")
	case odata.FnFractionalSeconds:
		b.w("((")
		b.value(a[0])
		b.w(" % " + ticksPerSecond + ")::numeric / " + ticksPerSecond + ")")
	case odata.FnDate:
		b.w("(")
		b.localTicks(a[0])
		b.w(" / " + ticksPerDay + ")")
	case odata.FnTime:
		b.w("(")
		b.localTicks(a[0])
		b.w(" % " + ticksPerDay + ")")
	case odata.FnTotalOffsetMinutes:
		b.totalOffset(a[0])
	case odata.FnNow:
		b.w(b.arg(b.now.Ticks) + "::bigint")
	default:
		panic(fmt.Sprintf("store: unknown function %d", c.Fn))
	}
}

func (b *sqlBuilder) totalOffset(x odata.Expr) {
	switch n := x.(type) {
	case *odata.PropertyRef:
		b.w(columns[n.Prop].offset + "::bigint")
	case *odata.Literal:
		b.w(b.arg(int64(n.Time.Offset)) + "::bigint")
	default:
		b.w("0::bigint") // now() is UTC
	}
}
