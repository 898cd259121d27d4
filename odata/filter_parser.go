package odata

import (
	"strings"
)

// The $filter parser: precedence climbing over the tokens of filter_lexer.go, type-checking as it builds the AST
// of query_ast.go. From the lowest precedence up:
//
//	orExpr     = andExpr *( "or" andExpr )
//	andExpr    = compExpr *( "and" compExpr )
//	compExpr   = unary *( ( "eq" / "ne" / "gt" / "ge" / "lt" / "le" ) unary / "in" list )
//	unary      = "not" unary / primary
//	primary    = "(" orExpr ")" / literal / property / function "(" [ orExpr *( "," orExpr ) ] ")"
//	list       = "(" [ literal *( "," literal ) ] ")" / "[" [ literal *( "," literal ) ] "]"
//
// Parameter aliases (@name) are replaced by their values' tokens before parsing. Keywords, operators and
// function names are case-insensitive (OData 4.01); property names are case-sensitive. not is a unary operator
// and binds tighter than the comparisons (OData's operator precedence, as ODataLib parses it), so
// `not connectorName eq 'x'` is `(not connectorName) eq 'x'`, a type error; write `not (connectorName eq 'x')`.
//
// The parser recurses only where the expression nests (parentheses, function arguments, not), and stops at
// MaxFilterDepth; and/or chains and comparisons are loops.

// ParseFilter parses a percent-decoded $filter expression over the properties of t. aliases maps "@name" to the
// decoded value of each parameter alias of the query string; it may be nil.
func ParseFilter(t *EntityType, expr string, aliases map[string]string) (Expr, error) {
	if len(expr) > MaxFilterLength {
		return nil, badRequest("The $filter expression is %d bytes long, more than the limit of %d.", len(expr), MaxFilterLength)
	}
	toks, err := lexFilter(expr, "$filter")
	if err != nil {
		return nil, err
	}
	if toks[0].kind == tokEOF {
		return nil, badRequest("The $filter expression is empty.")
	}
	if toks, err = expandAliases(toks, aliases, len(expr)); err != nil {
		return nil, err
	}
	if err := resolveEnums(t, toks); err != nil {
		return nil, err
	}
	p := filterParser{toks: toks, t: t}
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t, "an operator or the end of the expression")
	}
	if !isBoolean(x.e) {
		return nil, filterError(x.tok.src, x.tok.pos, "The $filter expression must be of type Edm.Boolean, but it is of type %s", typeName(x.e))
	}
	return x.e, nil
}

// expandAliases replaces each @name token with the tokens of the alias's value. A value that is a single token,
// or wholly enclosed in one pair of parentheses or brackets, is spliced as it is (so `in @list` works); any other
// value is wrapped in parentheses, so that it keeps its meaning whatever surrounds it.
func expandAliases(toks []token, aliases map[string]string, size int) ([]token, error) {
	var (
		out    []token
		cached map[string][]token
	)
	for i, t := range toks {
		if t.kind != tokAlias {
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		if out == nil {
			out = append(make([]token, 0, len(toks)+8), toks[:i]...)
		}
		value, ok := aliases[t.text]
		if !ok {
			return nil, filterError(t.src, t.pos, "The parameter alias '%s' is not defined: add it to the query string, for example &%s='value'", t.text, t.text)
		}
		size += len(value)
		if size > MaxFilterLength {
			return nil, badRequest("The $filter expression, with its parameter aliases substituted, is more than the limit of %d bytes.", MaxFilterLength)
		}
		vt, ok := cached[t.text]
		if !ok {
			src := "the value of the parameter alias '" + t.text + "'"
			lexed, err := lexFilter(value, src)
			if err != nil {
				return nil, err
			}
			vt = lexed[:len(lexed)-1] // without tokEOF
			if len(vt) == 0 {
				return nil, filterError(t.src, t.pos, "The parameter alias '%s' has an empty value", t.text)
			}
			for _, a := range vt {
				if a.kind == tokAlias {
					return nil, filterError(a.src, a.pos, "The value of a parameter alias cannot use another parameter alias ('%s')", a.text)
				}
			}
			if !selfDelimited(vt) {
				vt = append(append([]token{{kind: tokOpen, pos: t.pos, src: t.src, text: "("}}, vt...),
					token{kind: tokClose, pos: t.pos, src: t.src, text: ")"})
			}
			if cached == nil {
				cached = make(map[string][]token)
			}
			cached[t.text] = vt
		}
		out = append(out, vt...)
	}
	if out == nil {
		return toks, nil
	}
	return out, nil
}

// resolveEnums turns each qualified enum literal into a Literal of an enum type of t's properties. Type names are
// compared ignoring case, as member names are.
func resolveEnums(t *EntityType, toks []token) error {
	for i := range toks {
		tok := &toks[i]
		if tok.kind != tokEnum {
			continue
		}
		var e *EnumType
		for j := range t.Properties {
			if en := t.Properties[j].Enum; en != nil && strings.EqualFold(en.Qualified, tok.text) {
				e = en
				break
			}
		}
		if e == nil {
			return filterError(tok.src, tok.pos, "The type '%s' is not an enum type of '%s'", quoteText(tok.text), t.Qualified)
		}
		m, ok := e.Member(tok.str)
		if !ok {
			return filterError(tok.src, tok.pos, "'%s' is not a member of the enum type '%s' (%s)", quoteText(tok.str), e.Qualified, memberList(e))
		}
		tok.enum = &Literal{LitKind: KindEnum, Enum: e, Int: m.Value}
	}
	return nil
}

// selfDelimited reports whether toks is one token, or a parenthesised or bracketed group closed by its last token.
func selfDelimited(toks []token) bool {
	if len(toks) == 1 {
		return true
	}
	if toks[0].kind != tokOpen && toks[0].kind != tokOpenBracket {
		return false
	}
	depth := 0
	for i, t := range toks {
		switch t.kind {
		case tokOpen, tokOpenBracket:
			depth++
		case tokClose, tokCloseBracket:
			depth--
			if depth == 0 {
				return i == len(toks)-1
			}
		}
	}
	return false
}

// pexpr is a parsed expression and its first token, for the position in messages.
type pexpr struct {
	e   Expr
	tok *token
}

type filterParser struct {
	toks  []token
	i     int
	depth int
	t     *EntityType
	// what names the clause in messages about properties that cannot be used: "$filter" or "$orderby".
	what string
}

func (p *filterParser) peek() *token { return &p.toks[p.i] }

func (p *filterParser) next() *token {
	t := &p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *filterParser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tokIdent && t.lower == kw
}

// enter counts one level of nesting.
func (p *filterParser) enter(t *token) error {
	p.depth++
	if p.depth > MaxFilterDepth {
		return filterError(t.src, t.pos, "The $filter expression nests more than %d levels deep", MaxFilterDepth)
	}
	return nil
}

func (p *filterParser) leave() { p.depth-- }

// describe names a token for a syntax error.
func describe(t *token) string {
	switch t.kind {
	case tokEOF:
		return "the end of the expression"
	case tokString, tokJSONString:
		return "the string literal " + quoteText(t.text)
	}
	return "'" + quoteText(t.text) + "'"
}

func (p *filterParser) unexpected(t *token, want string) *Error {
	return filterError(t.src, t.pos, "Syntax error: found %s where %s was expected", describe(t), want)
}

func (p *filterParser) parseOr() (pexpr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return pexpr{}, err
	}
	for p.isKeyword("or") {
		op := p.next()
		right, err := p.parseAnd()
		if err != nil {
			return pexpr{}, err
		}
		if err := checkLogical(op, left, right); err != nil {
			return pexpr{}, err
		}
		left = pexpr{&Binary{Op: OpOr, Left: left.e, Right: right.e}, left.tok}
	}
	return left, nil
}

func (p *filterParser) parseAnd() (pexpr, error) {
	left, err := p.parseComparison()
	if err != nil {
		return pexpr{}, err
	}
	for p.isKeyword("and") {
		op := p.next()
		right, err := p.parseComparison()
		if err != nil {
			return pexpr{}, err
		}
		if err := checkLogical(op, left, right); err != nil {
			return pexpr{}, err
		}
		left = pexpr{&Binary{Op: OpAnd, Left: left.e, Right: right.e}, left.tok}
	}
	return left, nil
}

func checkLogical(op *token, left, right pexpr) error {
	for _, x := range [2]pexpr{left, right} {
		if !isBoolean(x.e) {
			return filterError(op.src, op.pos, "The operands of '%s' must be of type Edm.Boolean, but one is of type %s", op.lower, typeName(x.e))
		}
	}
	return nil
}

// parseUnary reads `not` applied to a primary expression, or a primary expression.
func (p *filterParser) parseUnary() (pexpr, error) {
	if !p.isKeyword("not") {
		return p.parsePrimary()
	}
	op := p.next()
	if err := p.enter(op); err != nil {
		return pexpr{}, err
	}
	x, err := p.parseUnary()
	if err != nil {
		return pexpr{}, err
	}
	p.leave()
	if !isBoolean(x.e) {
		return pexpr{}, filterError(op.src, op.pos, "The operand of 'not' must be of type Edm.Boolean, but it is of type %s; to negate a comparison, put it in parentheses: not (a eq b)", typeName(x.e))
	}
	return pexpr{&Not{X: x.e}, op}, nil
}

var comparisonOps = map[string]BinaryOp{"eq": OpEq, "ne": OpNe, "gt": OpGt, "ge": OpGe, "lt": OpLt, "le": OpLe}

// unsupportedOps are OData operators this service does not implement.
var unsupportedOps = map[string]bool{"has": true, "add": true, "sub": true, "mul": true, "div": true, "divby": true, "mod": true}

func (p *filterParser) parseComparison() (pexpr, error) {
	left, err := p.parseUnary()
	if err != nil {
		return pexpr{}, err
	}
	for {
		t := p.peek()
		if t.kind != tokIdent {
			return left, nil
		}
		if op, ok := comparisonOps[t.lower]; ok {
			p.next()
			right, err := p.parseUnary()
			if err != nil {
				return pexpr{}, err
			}
			if left.e, right.e, err = promote(left, right); err != nil {
				return pexpr{}, err
			}
			lk, rk := left.e.Kind(), right.e.Kind()
			if !comparable(lk, rk) || lk == KindEnum && rk == KindEnum && EnumOf(left.e) != EnumOf(right.e) ||
				(lk == KindBinary || rk == KindBinary) && (op != OpEq && op != OpNe || lk != KindNull && rk != KindNull) {
				return pexpr{}, filterError(t.src, t.pos, "A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'", typeName(left.e), typeName(right.e), t.lower)
			}
			left = pexpr{&Binary{Op: op, Left: left.e, Right: right.e}, left.tok}
			continue
		}
		switch {
		case t.lower == "in":
			p.next()
			list, err := p.parseList(left)
			if err != nil {
				return pexpr{}, err
			}
			left = pexpr{&In{X: left.e, List: list}, left.tok}
		case unsupportedOps[t.lower]:
			return pexpr{}, filterError(t.src, t.pos, "The operator '%s' is not supported", t.lower)
		default:
			return left, nil
		}
	}
}

// parseList reads the list after `in`: literals of x's kind (or null) in parentheses, or in brackets where
// double-quoted strings are allowed too.
func (p *filterParser) parseList(x pexpr) ([]Expr, error) {
	open := p.next()
	var closer tokenKind
	switch open.kind {
	case tokOpen:
		closer = tokClose
	case tokOpenBracket:
		closer = tokCloseBracket
	default:
		return nil, p.unexpected(open, "a list such as ('a','b') or [\"a\",\"b\"] after 'in'")
	}
	list := []Expr{}
	if p.peek().kind == closer {
		p.next()
		return list, nil
	}
	for {
		t := p.next()
		var lit *Literal
		switch {
		case t.kind == tokJSONString && closer == tokCloseBracket:
			lit = &Literal{LitKind: KindString, Str: t.str}
		case t.kind == tokJSONString:
			return nil, filterError(t.src, t.pos, "A double-quoted string is only allowed in a bracketed list such as [\"a\",\"b\"]; in parentheses write 'a'")
		default:
			lit = literalOf(t)
		}
		if lit == nil {
			return nil, p.unexpected(t, "a literal (a list after 'in' holds only literals)")
		}
		if promoted, err := promoteLiteral(x.e, lit, t); err != nil {
			return nil, err
		} else {
			lit = promoted
		}
		if k := x.e.Kind(); k == KindBinary || k != KindNull && !comparable(k, lit.LitKind) ||
			k == KindEnum && lit.LitKind == KindEnum && EnumOf(x.e) != lit.Enum {
			return nil, filterError(t.src, t.pos, "The list after 'in' must hold values of type %s, but holds a value of type %s", typeName(x.e), typeName(lit))
		}
		list = append(list, lit)
		switch sep := p.next(); sep.kind {
		case tokComma:
		case closer:
			return list, nil
		default:
			want := "',' or ')'"
			if closer == tokCloseBracket {
				want = "',' or ']'"
			}
			return nil, p.unexpected(sep, want)
		}
	}
}

// literalOf makes the literal a token stands for, or returns nil if it is not one.
func literalOf(t *token) *Literal {
	switch t.kind {
	case tokString:
		return &Literal{LitKind: KindString, Str: t.str}
	case tokInt:
		return &Literal{LitKind: KindInt, Int: t.num}
	case tokDecimal:
		return &Literal{LitKind: KindDecimal, Decimal: t.text}
	case tokDate:
		return &Literal{LitKind: KindDate, Date: t.num}
	case tokTimeOfDay:
		return &Literal{LitKind: KindTimeOfDay, Tod: t.num}
	case tokDateTimeOffset:
		return &Literal{LitKind: KindDateTimeOffset, Time: t.dto}
	case tokEnum:
		return t.enum
	case tokIdent:
		switch t.lower {
		case "true":
			return &Literal{LitKind: KindBoolean, Bool: true}
		case "false":
			return &Literal{LitKind: KindBoolean}
		case "null":
			return &Literal{LitKind: KindNull}
		}
	}
	return nil
}

// keywords cannot start an operand.
var keywords = map[string]bool{"and": true, "or": true, "eq": true, "ne": true, "gt": true, "ge": true, "lt": true,
	"le": true, "in": true, "has": true, "add": true, "sub": true, "mul": true, "div": true, "divby": true, "mod": true}

func (p *filterParser) parsePrimary() (pexpr, error) {
	t := p.next()
	if lit := literalOf(t); lit != nil {
		return pexpr{lit, t}, nil
	}
	switch t.kind {
	case tokOpen:
		if err := p.enter(t); err != nil {
			return pexpr{}, err
		}
		x, err := p.parseOr()
		if err != nil {
			return pexpr{}, err
		}
		if c := p.next(); c.kind != tokClose {
			return pexpr{}, p.unexpected(c, "')' or an operator")
		}
		p.leave()
		return pexpr{x.e, t}, nil
	case tokJSONString:
		return pexpr{}, filterError(t.src, t.pos, "A double-quoted string is only allowed in a bracketed list after 'in'; write string literals in single quotes, such as 'value'")
	case tokOpenBracket:
		return pexpr{}, filterError(t.src, t.pos, "A bracketed list is only allowed after 'in'")
	case tokIdent:
	default:
		return pexpr{}, p.unexpected(t, "an expression")
	}
	switch {
	case keywords[t.lower]:
		return pexpr{}, p.unexpected(t, "an expression")
	case p.peek().kind == tokOpen:
		return p.parseCall(t)
	case t.text == "NaN" || t.text == "INF":
		return pexpr{}, filterError(t.src, t.pos, "The literal '%s' is not supported", t.text)
	}
	prop, ok := p.t.Property(t.text)
	if !ok {
		if _, isFunc := functions[t.lower]; isFunc {
			return pexpr{}, filterError(t.src, t.pos, "The function '%s' must be followed by its arguments in parentheses", t.text)
		}
		return pexpr{}, filterError(t.src, t.pos, "Could not find a property named '%s' on type '%s'", quoteText(t.text), p.t.Qualified)
	}
	if prop.Secret {
		what := p.what
		if what == "" {
			what = "$filter"
		}
		return pexpr{}, filterError(t.src, t.pos, "The property '%s' holds a secret and cannot be used in %s", prop.Name, what)
	}
	return pexpr{&PropertyRef{P: prop}, t}, nil
}

// promote converts a literal operand to the type of the other side where OData allows it: an Edm.Date literal
// compared with a DateTimeOffset means midnight UTC of that date (the form Graph's filter docs use:
// enrollmentDateTime ge 2024-06-15), and a string literal compared with an enum names a member.
func promote(left, right pexpr) (Expr, Expr, error) {
	if l, ok := left.e.(*Literal); ok {
		lit, err := promoteLiteral(right.e, l, left.tok)
		if err != nil {
			return nil, nil, err
		}
		if lit != l {
			return lit, right.e, nil
		}
		// Two literals: the right one may be the one to convert (2024-06-15T00:00:00Z eq 2024-06-15).
	}
	if r, ok := right.e.(*Literal); ok {
		lit, err := promoteLiteral(left.e, r, right.tok)
		if err != nil {
			return nil, nil, err
		}
		return left.e, lit, nil
	}
	return left.e, right.e, nil
}

// promoteLiteral converts lit to the type of other, as promote explains, or returns it unchanged.
func promoteLiteral(other Expr, lit *Literal, tok *token) (*Literal, error) {
	switch {
	case other.Kind() == KindDateTimeOffset && lit.LitKind == KindDate:
		return &Literal{LitKind: KindDateTimeOffset, Time: DateTimeOffset{Ticks: lit.Date * TicksPerDay}}, nil
	case other.Kind() == KindEnum && lit.LitKind == KindString:
		e := EnumOf(other)
		m, ok := e.Member(lit.Str)
		if !ok {
			return nil, filterError(tok.src, tok.pos, "The string '%s' is not a member of the enum type '%s' (%s)", quoteText(lit.Str), e.Qualified, memberList(e))
		}
		return &Literal{LitKind: KindEnum, Enum: e, Int: m.Value}, nil
	}
	return lit, nil
}

// signature is a canonical function's parameter kinds and result; optional trailing parameters follow minArgs.
type signature struct {
	fn      Func
	name    string
	params  []ExprKind
	minArgs int
}

var (
	sigS   = []ExprKind{KindString}
	sigSS  = []ExprKind{KindString, KindString}
	sigSII = []ExprKind{KindString, KindInt, KindInt}
	sigDTO = []ExprKind{KindDateTimeOffset}
)

var functions = map[string]signature{
	"contains":           {FnContains, "contains", sigSS, 2},
	"startswith":         {FnStartsWith, "startswith", sigSS, 2},
	"endswith":           {FnEndsWith, "endswith", sigSS, 2},
	"length":             {FnLength, "length", sigS, 1},
	"indexof":            {FnIndexOf, "indexof", sigSS, 2},
	"substring":          {FnSubstring, "substring", sigSII, 2},
	"tolower":            {FnToLower, "tolower", sigS, 1},
	"toupper":            {FnToUpper, "toupper", sigS, 1},
	"trim":               {FnTrim, "trim", sigS, 1},
	"concat":             {FnConcat, "concat", sigSS, 2},
	"year":               {FnYear, "year", sigDTO, 1},
	"month":              {FnMonth, "month", sigDTO, 1},
	"day":                {FnDay, "day", sigDTO, 1},
	"hour":               {FnHour, "hour", sigDTO, 1},
	"minute":             {FnMinute, "minute", sigDTO, 1},
	"second":             {FnSecond, "second", sigDTO, 1},
	"fractionalseconds":  {FnFractionalSeconds, "fractionalseconds", sigDTO, 1},
	"date":               {FnDate, "date", sigDTO, 1},
	"time":               {FnTime, "time", sigDTO, 1},
	"totaloffsetminutes": {FnTotalOffsetMinutes, "totaloffsetminutes", sigDTO, 1},
	"now":                {FnNow, "now", nil, 0},
	"mindatetime":        {FnMinDateTime, "mindatetime", nil, 0},
	"maxdatetime":        {FnMaxDateTime, "maxdatetime", nil, 0},
}

// String renders the signature as ODataLib lists it, e.g. substring(Edm.String, Edm.Int32[, Edm.Int32]).
func (s signature) String() string {
	var b strings.Builder
	b.WriteString(s.name)
	b.WriteByte('(')
	for i, k := range s.params {
		if i == s.minArgs {
			b.WriteByte('[')
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(kindName(k))
	}
	if len(s.params) > s.minArgs {
		b.WriteByte(']')
	}
	b.WriteByte(')')
	return b.String()
}

func (p *filterParser) parseCall(name *token) (pexpr, error) {
	sig, ok := functions[name.lower]
	if !ok {
		return pexpr{}, filterError(name.src, name.pos, "An unknown function with name '%s' was found", quoteText(name.text))
	}
	open := p.next()
	if err := p.enter(open); err != nil {
		return pexpr{}, err
	}
	var args []pexpr
	if p.peek().kind == tokClose {
		p.next()
	} else {
		for {
			a, err := p.parseOr()
			if err != nil {
				return pexpr{}, err
			}
			args = append(args, a)
			if c := p.next(); c.kind == tokClose {
				break
			} else if c.kind != tokComma {
				return pexpr{}, p.unexpected(c, "',' or ')'")
			}
		}
	}
	p.leave()
	match := len(args) >= sig.minArgs && len(args) <= len(sig.params)
	for i := 0; match && i < len(args); i++ {
		k := args[i].e.Kind()
		match = k == KindNull || k == sig.params[i]
	}
	if !match {
		found := make([]string, len(args))
		for i, a := range args {
			found[i] = typeName(a.e)
		}
		return pexpr{}, filterError(name.src, name.pos, "No function signature for the function with name '%s' matches the specified arguments (%s). The function signature considered is %s",
			sig.name, strings.Join(found, ", "), sig)
	}
	if sig.fn == FnSubstring && len(args) == 3 {
		if l, ok := args[2].e.(*Literal); ok && l.LitKind == KindInt && l.Int < 0 {
			return pexpr{}, filterError(args[2].tok.src, args[2].tok.pos, "The length argument of substring must not be negative")
		}
	}
	call := &Call{Fn: sig.fn}
	if len(args) > 0 {
		call.Args = make([]Expr, len(args))
		for i, a := range args {
			call.Args[i] = a.e
		}
	}
	return pexpr{call, name}, nil
}

func isBoolean(e Expr) bool { k := e.Kind(); return k == KindBoolean || k == KindNull }

func isNumeric(k ExprKind) bool { return k == KindInt || k == KindDecimal }

// comparable reports whether values of kinds a and b can be compared: the same kind, two numbers, or null.
func comparable(a, b ExprKind) bool {
	return a == b || a == KindNull || b == KindNull || isNumeric(a) && isNumeric(b)
}

func kindName(k ExprKind) string {
	switch k {
	case KindNull:
		return "null"
	case KindBoolean:
		return "Edm.Boolean"
	case KindString:
		return "Edm.String"
	case KindInt:
		return "Edm.Int32"
	case KindDecimal:
		return "Edm.Decimal"
	case KindDateTimeOffset:
		return "Edm.DateTimeOffset"
	case KindDate:
		return "Edm.Date"
	case KindTimeOfDay:
		return "Edm.TimeOfDay"
	case KindBinary:
		return "Edm.Binary"
	case KindEnum:
		return "an enum type"
	}
	return "Edm.Unknown"
}

// typeName names the Edm type of e for a message; integer literals beyond Int32 are Int64, as ODataLib says.
func typeName(e Expr) string {
	if l, ok := e.(*Literal); ok && l.LitKind == KindInt && (l.Int < -1<<31 || l.Int > 1<<31-1) {
		return "Edm.Int64"
	}
	if en := EnumOf(e); en != nil {
		return en.Qualified
	}
	if p, ok := e.(*PropertyRef); ok && p.P.Type == EdmInt64 {
		return "Edm.Int64"
	}
	return kindName(e.Kind())
}
