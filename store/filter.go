package store

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/graphd/graphd/odata"
)

// sqlBuilder turns an odata.Query into SQL text with $n placeholders and an argument list. Identifiers come only
// from the entity set's compiled columns and literals only become arguments, so no client text ever becomes SQL
// text.
type sqlBuilder struct {
	es         *entitySQL
	sb         strings.Builder
	args       []any
	now        odata.DateTimeOffset
	subqueries int // names the derived tables of substring, which must not clash when they nest
	// cursorArgs is the parameter of each cursor value (by order item and cast), written once however many
	// keyset conditions compare with it: a sort key may be megabytes long.
	cursorArgs map[cursorArg]string
}

type cursorArg struct {
	item int
	cast string
}

// take returns the text written so far and starts anew; the arguments stay.
func (b *sqlBuilder) take() string {
	s := b.sb.String()
	b.sb.Reset()
	return s
}

func (b *sqlBuilder) col(p *odata.PropertyRef) *column { return &b.es.cols[p.P.ID] }

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

// maxChars bounds the character positions and counts passed to substr, right and left, which take int4: no
// PostgreSQL text holds more than 1 GB, so clamping an Int64 argument to it never changes a result.
const maxChars = 1 << 30

// The translation keeps every sub-expression's SQL text to one occurrence, so the SQL grows linearly with the
// filter however its functions and comparisons nest. Two forms are written:
//
//   - filter(e, negate) is a WHERE condition: with negate false it is true exactly where e is true, with negate
//     true exactly where e is false; elsewhere it is false or null, which rejects the row either way. NOT is
//     pushed down to the leaves, so a comparison keeps a plain `column op $n` form that indexes serve.
//   - value(e) is e's value as a typed SQL expression, with OData's null: comparisons and in are two-valued,
//     and/or/not are Kleene's (as SQL's are), and a function of a null is null.

// filter writes e as a WHERE condition in the polarity negate.
func (b *sqlBuilder) filter(e odata.Expr, negate bool) {
	e, negate = unwrapNot(e, negate)
	switch n := e.(type) {
	case *odata.Binary:
		if isJunction(n) {
			b.junction(n, negate, b.filter)
			return
		}
		b.compare(n, negate, false)
	case *odata.In:
		b.in(n, negate, false)
	case *odata.Literal:
		// null as a condition is neither true nor false.
		b.boolConst(n.LitKind == odata.KindBoolean && n.Bool != negate)
	case *odata.PropertyRef:
		// A Boolean property; SQL's NOT keeps a null null, which rejects the row either way.
		if negate {
			b.w("NOT ")
		}
		b.w(b.col(n).name)
	case *odata.Call:
		switch {
		case isNull(n):
			b.boolConst(false)
		case n.Fn == odata.FnStartsWith && b.prefixRange(n, negate):
		default:
			// contains, startswith and endswith: null only for a null argument, where SQL's NOT keeps null too.
			if negate {
				b.w("NOT ")
			}
			b.value(n, odata.KindBoolean)
		}
	default:
		panic(fmt.Sprintf("store: unknown filter node %T", e))
	}
}

func unwrapNot(e odata.Expr, negate bool) (odata.Expr, bool) {
	for {
		n, ok := e.(*odata.Not)
		if !ok {
			return e, negate
		}
		e, negate = n.X, !negate
	}
}

func isJunction(n *odata.Binary) bool { return n.Op == odata.OpAnd || n.Op == odata.OpOr }

type polar struct {
	e      odata.Expr
	negate bool
}

// junction writes an and/or as one flat list of its operands in the polarity negate, applying De Morgan's laws
// (which hold in Kleene's logic too) through not. Chains of the same junction, however they nest, become one
// list: a left-deep chain of a thousand ors is `(a OR b OR …)`, which neither this recursion nor PostgreSQL's
// parser (max_stack_depth) sees as a thousand levels. leaf writes each operand that is not part of the chain.
func (b *sqlBuilder) junction(n *odata.Binary, negate bool, leaf func(odata.Expr, bool)) {
	or := (n.Op == odata.OpOr) != negate
	sep := " AND "
	if or {
		sep = " OR "
	}
	b.w("(")
	stack := []polar{{n.Right, negate}, {n.Left, negate}}
	for first := true; len(stack) > 0; {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		e, neg := unwrapNot(p.e, p.negate)
		if j, ok := e.(*odata.Binary); ok && isJunction(j) && ((j.Op == odata.OpOr) != neg) == or {
			stack = append(stack, polar{j.Right, neg}, polar{j.Left, neg})
			continue
		}
		if !first {
			b.w(sep)
		}
		first = false
		leaf(e, neg)
	}
	b.w(")")
}

func (b *sqlBuilder) boolConst(v bool) {
	if v {
		b.w("TRUE")
	} else {
		b.w("FALSE")
	}
}

// isNull reports whether e is null whatever the row: the literal null, or a function (other than now()) of one.
func isNull(e odata.Expr) bool {
	switch n := e.(type) {
	case *odata.Literal:
		return n.LitKind == odata.KindNull
	case *odata.Call:
		for _, a := range n.Args {
			if isNull(a) {
				return true
			}
		}
	case *odata.Not:
		return isNull(n.X)
	}
	return false
}

var (
	sqlOps  = map[odata.BinaryOp]string{odata.OpEq: " = ", odata.OpNe: " <> ", odata.OpGt: " > ", odata.OpGe: " >= ", odata.OpLt: " < ", odata.OpLe: " <= "}
	flipped = map[odata.BinaryOp]odata.BinaryOp{odata.OpGt: odata.OpLe, odata.OpGe: odata.OpLt, odata.OpLt: odata.OpGe, odata.OpLe: odata.OpGt}
)

// compare writes a comparison, which OData makes two-valued (null eq null is true, an order with a null operand
// false). With exact false it is a condition in the polarity negate (see filter); with exact true it is also
// never null, so it can be a value.
func (b *sqlBuilder) compare(n *odata.Binary, negate, exact bool) {
	op, l, r := n.Op, n.Left, n.Right
	if op == odata.OpNe {
		op, negate = odata.OpEq, !negate
	}
	lnull, rnull := isNull(l), isNull(r)
	switch {
	case lnull && rnull:
		b.boolConst((op == odata.OpEq) != negate)
		return
	case lnull || rnull:
		x := l
		if lnull {
			x = r
		}
		if op != odata.OpEq {
			b.boolConst(negate)
			return
		}
		b.w("(")
		b.nullOperand(x)
		if negate {
			b.w(" IS NOT NULL)")
		} else {
			b.w(" IS NULL)")
		}
		return
	}
	if op == odata.OpEq && b.idEquals(l, r, negate) {
		return
	}
	if !exact && b.prefixCompare(op, l, r, negate) {
		return
	}
	if op == odata.OpEq && !exact && !negate {
		// `startswith(…) eq true` is the function itself as a condition, index-friendly forms included.
		if lit, ok := l.(*odata.Literal); ok && lit.LitKind == odata.KindBoolean {
			b.filter(r, !lit.Bool)
			return
		}
		if lit, ok := r.(*odata.Literal); ok && lit.LitKind == odata.KindBoolean {
			b.filter(l, !lit.Bool)
			return
		}
	}
	ln, rn := l.Nullable(), r.Nullable()
	nullable := ln || rn
	pair := func(sqlOp string) {
		b.w("(")
		b.operand(l, r)
		b.w(sqlOp)
		b.operand(r, l)
		b.w(")")
	}
	switch {
	case op == odata.OpEq && !negate && (ln && rn || exact && nullable):
		pair(" IS NOT DISTINCT FROM ")
	case op == odata.OpEq && !negate:
		pair(" = ")
	case op == odata.OpEq && nullable:
		pair(" IS DISTINCT FROM ")
	case op == odata.OpEq:
		pair(" <> ")
	case !negate && exact && nullable:
		b.w("coalesce(")
		pair(sqlOps[op])
		b.w(", FALSE)")
	case !negate:
		pair(sqlOps[op])
	case !nullable:
		// Both sides are non-null, so the opposite order is exactly "false", and stays index-friendly.
		pair(sqlOps[flipped[op]])
	default:
		b.w("(")
		pair(sqlOps[op])
		b.w(" IS NOT TRUE)")
	}
}

// nullOperand writes x as the operand of an IS [NOT] NULL test: a string column as the prefix its index holds,
// which is null exactly when the column is, so that the index serves the test.
func (b *sqlBuilder) nullOperand(x odata.Expr) {
	if p, ok := x.(*odata.PropertyRef); ok && b.col(p).prefixed() {
		b.w(prefixOf(b.col(p).name))
		return
	}
	b.value(x, x.Kind())
}

// idEquals writes id eq 'literal' against the key column, so the primary key serves it. GUID keys are stored and
// read as lower-case GUIDs in a uuid column, so a literal in any other form equals no row.
func (b *sqlBuilder) idEquals(l, r odata.Expr, negate bool) bool {
	if _, ok := l.(*odata.Literal); ok {
		l, r = r, l
	}
	p, ok := l.(*odata.PropertyRef)
	lit, ok2 := r.(*odata.Literal)
	if !ok || !ok2 || !p.P.Key || lit.LitKind != odata.KindString {
		return false
	}
	op := " = "
	if negate {
		op = " <> "
	}
	if !b.es.keyUUID {
		b.w("(id" + op + b.arg(lit.Str) + "::text)")
		return true
	}
	if !isCanonicalID(lit.Str) {
		b.boolConst(negate)
		return true
	}
	b.w("(id" + op + b.arg(lit.Str) + "::uuid)")
	return true
}

func isCanonicalID(s string) bool {
	g, ok := odata.ParseGUID(s)
	return ok && g == s
}

// prefixCompare writes a comparison of a string column with a string literal so that the index on the column's
// prefix serves it: the prefix of the column compares with the prefix of the literal as the values do (or equal,
// where the values differ only after PrefixChars characters), and the column then decides. It reports false,
// writing nothing, for other operands or a negated comparison (which no index serves anyway).
func (b *sqlBuilder) prefixCompare(op odata.BinaryOp, l, r odata.Expr, negate bool) bool {
	if negate {
		return false
	}
	if _, ok := l.(*odata.Literal); ok {
		l, r = r, l
		op = map[odata.BinaryOp]odata.BinaryOp{odata.OpEq: odata.OpEq, odata.OpGt: odata.OpLt, odata.OpGe: odata.OpLe,
			odata.OpLt: odata.OpGt, odata.OpLe: odata.OpGe}[op]
	}
	p, ok := l.(*odata.PropertyRef)
	lit, ok2 := r.(*odata.Literal)
	if !ok || !ok2 || lit.LitKind != odata.KindString || !b.col(p).prefixed() {
		return false
	}
	c := b.col(p)
	v := b.arg(lit.Str) + "::text"
	prefixOp := map[odata.BinaryOp]string{odata.OpEq: " = ", odata.OpGt: " >= ", odata.OpGe: " >= ", odata.OpLt: " <= ", odata.OpLe: " <= "}[op]
	b.w("(" + prefixOf(c.name) + prefixOp + prefixOf(v) + " AND " + c.name + sqlOps[op] + v + ")")
	return true
}

// operand writes x as one side of a comparison with other. Strings compare ordinally: a string column is
// COLLATE "C" already (and stays bare, so its index applies); any other string expression gets COLLATE "C",
// which also overrides the "default" that tolower and toupper set. An Int meeting a Decimal becomes numeric.
func (b *sqlBuilder) operand(x, other odata.Expr) {
	switch {
	case x.Kind() == odata.KindString:
		if p, ok := x.(*odata.PropertyRef); ok && (!p.P.Key || !b.es.keyUUID) {
			b.value(x, odata.KindString)
			return
		}
		b.w("(")
		b.value(x, odata.KindString)
		b.w(`) COLLATE "C"`)
	case x.Kind() == odata.KindInt && other.Kind() == odata.KindDecimal:
		b.w("(")
		b.value(x, odata.KindInt)
		b.w(")::numeric")
	default:
		b.value(x, x.Kind())
	}
}

// in writes X in (list), which is two-valued: true when X eq some item, so a null X matches a null item. Its
// polarity and exactness are those of compare. The non-null items travel as one typed array argument.
func (b *sqlBuilder) in(n *odata.In, negate, exact bool) {
	var hasNull bool
	var items []*odata.Literal
	for _, x := range n.List {
		if l := x.(*odata.Literal); l.LitKind == odata.KindNull {
			hasNull = true
		} else {
			items = append(items, l)
		}
	}
	if isNull(n.X) {
		b.boolConst(hasNull != negate)
		return
	}
	x := n.X
	p, isProp := x.(*odata.PropertyRef)
	isID := isProp && p.P.Key && b.es.keyUUID
	if isID {
		// As in idEquals: only lower-case GUIDs can match, and then the uuid column serves.
		kept := items[:0:0]
		for _, l := range items {
			if isCanonicalID(l.Str) {
				kept = append(kept, l)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		// x = ANY('{}') is false even for a null x; only the null item can still match.
		if !hasNull {
			b.boolConst(negate)
			return
		}
		b.w("(")
		b.nullOperand(x)
		if negate {
			b.w(" IS NOT NULL)")
		} else {
			b.w(" IS NULL)")
		}
		return
	}
	match := func() {
		if isID {
			v := make([]string, len(items))
			for i, l := range items {
				v[i] = l.Str
			}
			b.w("id = ANY(" + b.arg(v) + "::uuid[])")
			return
		}
		if isProp && b.col(p).prefixed() && !exact && !negate {
			// The prefix index serves the list as it serves eq.
			prefixes := make([]string, len(items))
			for i, l := range items {
				prefixes[i] = leftChars(l.Str, PrefixChars)
			}
			b.w(prefixOf(b.col(p).name) + " = ANY(" + b.arg(prefixes) + "::text[]) AND ")
		}
		arr, numeric := b.inArray(x.Kind(), items)
		if numeric && x.Kind() == odata.KindInt {
			b.w("(")
			b.value(x, odata.KindInt)
			b.w(")::numeric")
		} else {
			b.value(x, x.Kind())
		}
		b.w(" = ANY(" + arr + ")")
	}
	// Without null items and with a non-null X, the match is never null.
	switch {
	case !x.Nullable() && negate:
		b.w("(NOT ")
		match()
		b.w(")")
	case !x.Nullable() || !negate && !exact && !hasNull:
		b.w("(")
		match()
		b.w(")")
	case !negate && !exact && isProp:
		// x = ANY(…) OR x IS NULL: both halves are index conditions on the column.
		b.w("(")
		match()
		b.w(" OR ")
		b.nullOperand(x)
		b.w(" IS NULL)")
	default:
		// A null X matches exactly when there is a null item.
		if negate {
			b.w("(NOT ")
		}
		b.w("coalesce(")
		match()
		b.w(", ")
		b.boolConst(hasNull)
		b.w(")")
		if negate {
			b.w(")")
		}
	}
}

// inArray passes the items as one typed array argument for a match against a value of kind. It reports whether
// the array is numeric, for an Int X among Decimal items.
func (b *sqlBuilder) inArray(kind odata.ExprKind, items []*odata.Literal) (string, bool) {
	switch kind {
	case odata.KindString:
		v := make([]string, len(items))
		for i, l := range items {
			v[i] = l.Str
		}
		return b.arg(v) + "::text[]", false
	case odata.KindBoolean:
		v := make([]bool, len(items))
		for i, l := range items {
			v[i] = l.Bool
		}
		return b.arg(v) + "::boolean[]", false
	case odata.KindInt, odata.KindDecimal:
		numeric := kind == odata.KindDecimal
		for _, l := range items {
			numeric = numeric || l.LitKind == odata.KindDecimal
		}
		if !numeric {
			v := make([]int64, len(items))
			for i, l := range items {
				v[i] = l.Int
			}
			return b.arg(v) + "::bigint[]", false
		}
		// An array literal in text form: pgx sends a string as text, and numeric's input reads every decimal
		// literal form (1e3, -0.25, 1E-3), whose characters need no quoting in an array literal.
		var sb strings.Builder
		sb.WriteByte('{')
		for i, l := range items {
			if i > 0 {
				sb.WriteByte(',')
			}
			if l.LitKind == odata.KindInt {
				sb.WriteString(strconv.FormatInt(l.Int, 10))
			} else {
				sb.WriteString(l.Decimal)
			}
		}
		sb.WriteByte('}')
		return b.arg(sb.String()) + "::numeric[]", true
	}
	v := make([]int64, len(items))
	for i, l := range items {
		v[i] = literalInt(l)
	}
	if kind == odata.KindEnum {
		return b.arg(v) + "::integer[]", false
	}
	return b.arg(v) + "::bigint[]", false
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
	return l.Int // Int, and an enum's value
}

// sqlTypes is the SQL form of each kind: text for strings, bigint ticks for DateTimeOffset, bigint day numbers
// for Date, bigint ticks since midnight for TimeOfDay, bigint for Int, numeric for Decimal, boolean for
// Boolean.
var sqlTypes = map[odata.ExprKind]string{
	odata.KindBoolean: "boolean", odata.KindString: "text", odata.KindInt: "bigint", odata.KindDecimal: "numeric",
	odata.KindDateTimeOffset: "bigint", odata.KindDate: "bigint", odata.KindTimeOfDay: "bigint",
	odata.KindEnum: "integer", odata.KindBinary: "bytea",
	odata.KindNull: "boolean", // an untyped null is left only as an operand of and/or/not
}

// value writes e as an SQL value of its kind's SQL form (see sqlTypes). want is the kind the context expects,
// which types a null literal: PostgreSQL cannot resolve a function or operator of an untyped NULL.
func (b *sqlBuilder) value(e odata.Expr, want odata.ExprKind) {
	switch n := e.(type) {
	case *odata.Literal:
		b.literal(n, want)
	case *odata.PropertyRef:
		if n.P.Key && b.es.keyUUID {
			b.w("id::text") // a uuid column; OData's id is a string
			return
		}
		c := b.col(n)
		switch n.P.Type {
		case odata.EdmInt32:
			b.w(c.name + "::bigint")
		default:
			b.w(c.name)
		}
	case *odata.Call:
		if isNull(n) {
			b.w("NULL::" + sqlTypes[n.Kind()])
			return
		}
		b.call(n)
	case *odata.Not:
		b.w("(NOT ")
		b.value(n.X, odata.KindBoolean)
		b.w(")")
	case *odata.Binary:
		if isJunction(n) {
			b.junction(n, false, func(e odata.Expr, negate bool) {
				if negate {
					b.w("NOT ")
				}
				b.value(e, odata.KindBoolean)
			})
			return
		}
		b.compare(n, false, true)
	case *odata.In:
		b.in(n, false, true)
	default:
		panic(fmt.Sprintf("store: unknown filter node %T", e))
	}
}

func (b *sqlBuilder) literal(l *odata.Literal, want odata.ExprKind) {
	switch l.LitKind {
	case odata.KindNull:
		b.w("NULL::" + sqlTypes[want])
	case odata.KindBoolean:
		b.boolConst(l.Bool)
	case odata.KindString:
		b.w(b.arg(l.Str) + "::text")
	case odata.KindDecimal:
		b.w(b.arg(l.Decimal) + "::numeric")
	case odata.KindEnum:
		b.w(b.arg(l.Int) + "::integer")
	default:
		b.w(b.arg(literalInt(l)) + "::bigint")
	}
}

// localTicks writes a non-null DateTimeOffset's local time in ticks: the instant plus its own offset.
func (b *sqlBuilder) localTicks(x odata.Expr) {
	switch n := x.(type) {
	case *odata.PropertyRef:
		c := b.col(n)
		b.w("(" + c.name + " + " + c.offset + "::bigint * " + ticksPerMinute + ")")
	case *odata.Literal:
		b.w(b.arg(n.Time.Ticks+int64(n.Time.Offset)*odata.TicksPerMinute) + "::bigint")
	default: // now(), mindatetime(), maxdatetime()
		d := constTime(x, b.now)
		b.w(b.arg(d.Ticks+int64(d.Offset)*odata.TicksPerMinute) + "::bigint")
	}
}

// call writes a function none of whose arguments is the literal null (value folds those to a typed null).
func (b *sqlBuilder) call(c *odata.Call) {
	a := c.Args
	str := func(x odata.Expr) { b.value(x, odata.KindString) }
	switch c.Fn {
	case odata.FnContains:
		b.w("(strpos(")
		str(a[0])
		b.w(", ")
		str(a[1])
		b.w(") > 0)")
	case odata.FnStartsWith:
		b.w("starts_with(")
		str(a[0])
		b.w(", ")
		str(a[1])
		b.w(")")
	case odata.FnEndsWith:
		// Each argument once: right(s, length(t)) = t would repeat t, and nested, double the SQL per level.
		b.w("starts_with(reverse(")
		str(a[0])
		b.w("), ")
		if l, ok := a[1].(*odata.Literal); ok {
			b.w(b.arg(reverse(l.Str)) + "::text")
		} else {
			b.w("reverse(")
			str(a[1])
			b.w(")")
		}
		b.w(")")
	case odata.FnLength:
		b.w("char_length(")
		str(a[0])
		b.w(")::bigint")
	case odata.FnIndexOf:
		b.w("(strpos(")
		str(a[0])
		b.w(", ")
		str(a[1])
		b.w(") - 1)::bigint")
	case odata.FnSubstring:
		b.substring(a)
	case odata.FnToLower, odata.FnToUpper:
		// The database's default collation (C.UTF-8) folds non-ASCII letters; the columns' "C" would not.
		fn := "lower(("
		if c.Fn == odata.FnToUpper {
			fn = "upper(("
		}
		b.w(fn)
		str(a[0])
		b.w(`) COLLATE "default")`)
	case odata.FnTrim:
		b.w("btrim(")
		str(a[0])
		b.w(", " + b.arg(odata.TrimCutset) + "::text)")
	case odata.FnConcat:
		b.w("(")
		str(a[0])
		b.w(" || ")
		str(a[1])
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
		// Offsets are whole minutes, so the instant's fraction is the local one.
		b.w("((")
		b.value(a[0], odata.KindDateTimeOffset)
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
		switch n := a[0].(type) {
		case *odata.PropertyRef:
			b.w(b.col(n).offset + "::bigint")
		case *odata.Literal:
			b.w(b.arg(int64(n.Time.Offset)) + "::bigint")
		default: // now(), mindatetime(), maxdatetime()
			b.w(b.arg(int64(constTime(a[0], b.now).Offset)) + "::bigint")
		}
	case odata.FnNow:
		b.w(b.arg(b.now.Ticks) + "::bigint")
	case odata.FnMinDateTime:
		b.w(b.arg(odata.MinDateTime.Ticks) + "::bigint")
	case odata.FnMaxDateTime:
		b.w(b.arg(odata.MaxDateTime.Ticks) + "::bigint")
	default:
		panic(fmt.Sprintf("store: unknown function %d", c.Fn))
	}
}

// substring writes OData 4.01's substring in code points (see odata.Eval): a 0-based start, a negative start
// counting from the end (clamped to the start of the string), "" from a start at or beyond the end or for a
// length that is not positive. PostgreSQL's substr, right and left take int4, so the Int64 arguments are
// clamped to ±maxChars first; nothing here can raise an SQL error.
func (b *sqlBuilder) substring(a []odata.Expr) {
	hasLength := len(a) == 3
	start, ok := a[1].(*odata.Literal)
	var length *odata.Literal
	if hasLength {
		l, lok := a[2].(*odata.Literal)
		length, ok = l, ok && lok
	}
	if ok {
		b.substringConst(a[0], start.Int, length)
		return
	}
	// The arguments are expressions: each is written once, in a derived table, and the CASE reads them there.
	// OFFSET 0 keeps the planner from pulling the derived table up, which would put the expressions back in
	// each place the CASE reads them, and nested, multiply the plan per level. The nulls are tested first:
	// greatest and least, which clamp, ignore a null argument.
	b.subqueries++
	v := "substring" + strconv.Itoa(b.subqueries)
	s, k, l := v+".s", v+".k", v+".l"
	from := "(least(" + k + ", " + strconv.Itoa(maxChars) + ") + 1)::int"
	fromEnd := "(-greatest(" + k + ", -" + strconv.Itoa(maxChars) + "))::int"
	count := "least(" + l + ", " + strconv.Itoa(maxChars) + ")::int"
	if hasLength {
		b.w("(SELECT CASE WHEN " + k + " IS NULL OR " + l + " IS NULL THEN NULL WHEN " + l + " <= 0 THEN left(" + s + ", 0)" +
			" WHEN " + k + " < 0 THEN left(right(" + s + ", " + fromEnd + "), " + count + ")" +
			" ELSE substr(" + s + ", " + from + ", " + count + ") END")
	} else {
		b.w("(SELECT CASE WHEN " + k + " IS NULL THEN NULL WHEN " + k + " < 0 THEN right(" + s + ", " + fromEnd + ")" +
			" ELSE substr(" + s + ", " + from + ") END")
	}
	b.w(" FROM (SELECT ")
	b.value(a[0], odata.KindString)
	b.w(" AS s, ")
	b.value(a[1], odata.KindInt)
	b.w(" AS k")
	if hasLength {
		b.w(", ")
		b.value(a[2], odata.KindInt)
		b.w(" AS l")
	}
	b.w(" OFFSET 0) AS " + v + ")")
}

// substringConst is substring with literal start and length, decided here: the string is the only SQL operand.
func (b *sqlBuilder) substringConst(s odata.Expr, start int64, length *odata.Literal) {
	clamp := func(n int64) string { return b.arg(int32(max(min(n, maxChars), -maxChars))) + "::int" }
	str := func() { b.value(s, odata.KindString) }
	switch {
	case length != nil && length.Int <= 0:
		// "" for a string, null for a null.
		b.w("left(")
		str()
		b.w(", 0)")
	case start >= 0:
		b.w("substr(")
		str()
		b.w(", " + b.arg(int32(min(start, maxChars)+1)) + "::int")
		if length != nil {
			b.w(", " + clamp(length.Int))
		}
		b.w(")")
	default:
		// The last -start characters, all of them when there are fewer.
		if length != nil {
			b.w("left(")
		}
		b.w("right(")
		str()
		b.w(", " + clamp(-max(start, -maxChars)) + ")")
		if length != nil {
			b.w(", " + clamp(length.Int) + ")")
		}
	}
}

// prefixRange writes startswith(column, 'literal') as a range that the (tenant, left(column, PrefixChars), key)
// index serves: under COLLATE "C" the strings starting with p are exactly those in [p, successor(p)), and when p
// fits in the indexed prefix, so are the prefixes of those strings. A longer p pins the whole indexed prefix and
// lets starts_with decide the rest. It reports false, writing nothing, for other arguments.
func (b *sqlBuilder) prefixRange(c *odata.Call, negate bool) bool {
	p, ok := c.Args[0].(*odata.PropertyRef)
	lit, ok2 := c.Args[1].(*odata.Literal)
	if !ok || !ok2 || lit.LitKind != odata.KindString || !b.col(p).prefixed() {
		return false
	}
	col := prefixOf(b.col(p).name)
	if utf8.RuneCountInString(lit.Str) > PrefixChars {
		v := b.arg(lit.Str) + "::text"
		if negate {
			b.w("(NOT starts_with(" + b.col(p).name + ", " + v + "))")
		} else {
			b.w("(" + col + " = " + prefixOf(v) + " AND starts_with(" + b.col(p).name + ", " + v + "))")
		}
		return true
	}
	lo := b.arg(lit.Str) + "::text"
	hi, bounded := successor(lit.Str)
	switch {
	case !negate && bounded:
		b.w("(" + col + " >= " + lo + " AND " + col + " < " + b.arg(hi) + "::text)")
	case !negate:
		b.w("(" + col + " >= " + lo + ")")
	case bounded:
		b.w("(" + col + " < " + lo + " OR " + col + " >= " + b.arg(hi) + "::text)")
	default:
		b.w("(" + col + " < " + lo + ")")
	}
	return true
}

// leftChars is PostgreSQL's left(s, n) for n >= 0: the first n code points.
func leftChars(s string, n int) string {
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

// constTime is the value of now(), mindatetime() or maxdatetime().
func constTime(e odata.Expr, now odata.DateTimeOffset) odata.DateTimeOffset {
	if c, ok := e.(*odata.Call); ok {
		switch c.Fn {
		case odata.FnMinDateTime:
			return odata.MinDateTime
		case odata.FnMaxDateTime:
			return odata.MaxDateTime
		}
	}
	return now
}

// successor is the least string above every string that starts with p, in code point order: p with its last
// code point incremented (past the surrogates, which no string holds), after dropping trailing U+10FFFF. There
// is none when p is empty or all U+10FFFF.
func successor(p string) (string, bool) {
	r := []rune(p)
	for i := len(r) - 1; i >= 0; i-- {
		next := r[i] + 1
		if next == 0xD800 {
			next = 0xE000
		}
		if next <= utf8.MaxRune {
			r[i] = next
			return string(r[:i+1]), true
		}
	}
	return "", false
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
