package odata

// The $filter abstract syntax tree. The parser type-checks as it builds, so every node knows its EdmKind and a
// tree that reaches the store is well typed.

// Kind of a filter expression's value.
type ExprKind uint8

const (
	KindNull           ExprKind = iota + 1 // the literal null, compatible with every kind
	KindBoolean                            // comparisons, and/or/not, contains/startswith/endswith, true/false
	KindString                             // Edm.String
	KindInt                                // Edm.Int32/Int64: integer literals, length, indexof, year, …
	KindDecimal                            // Edm.Decimal: decimal literals, fractionalseconds
	KindDateTimeOffset                     // Edm.DateTimeOffset: properties, literals, now()
	KindDate                               // Edm.Date: date(), date literals
	KindTimeOfDay                          // Edm.TimeOfDay: time(), time literals
	KindEnum                               // an enum type's members: properties and (qualified or string) literals
	KindBinary                             // Edm.Binary properties, comparable only with null
)

// Expr is a node of a $filter expression.
type Expr interface {
	Kind() ExprKind
	// Nullable reports whether the expression can evaluate to null for some row.
	Nullable() bool
}

// Literal is a constant. Exactly one value field is meaningful, chosen by LitKind.
type Literal struct {
	LitKind ExprKind
	Bool    bool
	Str     string
	Int     int64
	Decimal string         // the literal's text, e.g. "1.5", "-0.25", "1e3"; compared numerically
	Time    DateTimeOffset // KindDateTimeOffset
	Date    int64          // KindDate: days since 0001-01-01
	Tod     int64          // KindTimeOfDay: ticks since midnight
	Enum    *EnumType      // KindEnum: the type; Int holds the member's value
}

func (l *Literal) Kind() ExprKind { return l.LitKind }
func (l *Literal) Nullable() bool { return l.LitKind == KindNull }

// PropertyRef reads a property of the row.
type PropertyRef struct{ P *Property }

func (p *PropertyRef) Kind() ExprKind { return kindOf(p.P.Type) }
func (p *PropertyRef) Nullable() bool { return p.P.Nullable }

// kindOf is the expression kind of a property type.
func kindOf(t EdmType) ExprKind {
	switch t {
	case EdmDateTimeOffset:
		return KindDateTimeOffset
	case EdmBoolean:
		return KindBoolean
	case EdmInt32, EdmInt64:
		return KindInt
	case EdmEnum:
		return KindEnum
	case EdmBinary:
		return KindBinary
	}
	return KindString
}

// EnumOf is the enum type of an enum-valued expression (a property or a literal), else nil.
func EnumOf(e Expr) *EnumType {
	switch n := e.(type) {
	case *PropertyRef:
		return n.P.Enum
	case *Literal:
		return n.Enum
	}
	return nil
}

// BinaryOp is a comparison or logical operator.
type BinaryOp uint8

const (
	OpEq BinaryOp = iota + 1
	OpNe
	OpGt
	OpGe
	OpLt
	OpLe
	OpAnd
	OpOr
)

// Binary is a comparison (Eq…Le, both sides of one comparable kind, or one side null) or a logical And/Or of
// Boolean operands.
type Binary struct {
	Op          BinaryOp
	Left, Right Expr
}

func (b *Binary) Kind() ExprKind { return KindBoolean }

// Nullable: comparisons are two-valued in OData (null eq null is true, null gt x is false); And/Or are null
// when an operand is and the other does not decide.
func (b *Binary) Nullable() bool {
	if b.Op == OpAnd || b.Op == OpOr {
		return b.Left.Nullable() || b.Right.Nullable()
	}
	return false
}

// Not negates a Boolean operand (null stays null).
type Not struct{ X Expr }

func (n *Not) Kind() ExprKind { return KindBoolean }
func (n *Not) Nullable() bool { return n.X.Nullable() }

// In is X in (List…): true when X eq some element.
type In struct {
	X    Expr
	List []Expr // literals of X's kind, or null
}

func (i *In) Kind() ExprKind { return KindBoolean }
func (i *In) Nullable() bool { return false }

// Func names a canonical function.
type Func uint8

const (
	FnContains Func = iota + 1
	FnStartsWith
	FnEndsWith
	FnLength
	FnIndexOf
	FnSubstring
	FnToLower
	FnToUpper
	FnTrim
	FnConcat
	FnYear
	FnMonth
	FnDay
	FnHour
	FnMinute
	FnSecond
	FnFractionalSeconds
	FnDate
	FnTime
	FnTotalOffsetMinutes
	FnNow
	FnMinDateTime
	FnMaxDateTime
)

// Call applies a canonical function. Any null argument makes the result null; now(), mindatetime() and
// maxdatetime() take none.
// The date and time parts of a DateTimeOffset are taken in the value's own offset.
type Call struct {
	Fn   Func
	Args []Expr
}

func (c *Call) Kind() ExprKind {
	switch c.Fn {
	case FnContains, FnStartsWith, FnEndsWith:
		return KindBoolean
	case FnLength, FnIndexOf, FnYear, FnMonth, FnDay, FnHour, FnMinute, FnSecond, FnTotalOffsetMinutes:
		return KindInt
	case FnFractionalSeconds:
		return KindDecimal
	case FnDate:
		return KindDate
	case FnTime:
		return KindTimeOfDay
	case FnNow, FnMinDateTime, FnMaxDateTime:
		return KindDateTimeOffset
	}
	return KindString
}

func (c *Call) Nullable() bool {
	for _, a := range c.Args {
		if a.Nullable() {
			return true
		}
	}
	return false
}

// OrderBy is one $orderby item: an expression of any kind but Binary, in either direction.
type OrderBy struct {
	Expr Expr
	Desc bool
}

// Query is a parsed set of system query options for the collection (or, for Select, one entity).
type Query struct {
	Filter  Expr      // nil: every row
	OrderBy []OrderBy // without the final key tiebreak, which the store adds
	Select  uint64    // bit set of PropertyIDs; 0: every property. The key is always included.
	Top     int64     // -1: none
	Skip    int64
	Count   bool
	// SkipToken is the raw $skiptoken, opaque to odata.
	SkipToken string
	// HasSkipToken tells an empty token from none.
	HasSkipToken bool
}
