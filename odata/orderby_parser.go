package odata

import "strings"

// $orderby (ABNF: orderby = ( "$orderby" / "orderby" ) EQ orderbyItem *( COMMA orderbyItem ), orderbyItem =
// commonExpr [ RWS ( "asc" / "desc" ) ]). An item is any expression the $filter grammar reads, of any kind but
// Edm.Binary: a property (which the store serves from an index) or an expression such as length(connectorName)
// or tolower(machineName).

// ParseOrderBy parses a percent-decoded $orderby value over the properties of t. The direction is
// case-insensitive and defaults to asc. A property may appear only once as an item of its own. The result has no
// key tiebreak; the store adds it. aliases are the query's parameter aliases, as for $filter.
func ParseOrderBy(t *EntityType, value string, aliases map[string]string) ([]OrderBy, error) {
	if strings.Trim(value, " \t") == "" {
		return nil, badRequest("The value of $orderby is empty: give a comma-separated list of properties or expressions, each optionally followed by asc or desc.")
	}
	if len(value) > MaxFilterLength {
		return nil, badRequest("The $orderby expression is %d bytes long, more than the limit of %d.", len(value), MaxFilterLength)
	}
	toks, err := lexFilter(value, "$orderby")
	if err != nil {
		return nil, err
	}
	if toks, err = expandAliases(toks, aliases, len(value)); err != nil {
		return nil, err
	}
	if err := resolveEnums(t, toks); err != nil {
		return nil, err
	}
	p := filterParser{toks: toks, t: t, what: "$orderby"}
	var (
		items []OrderBy
		seen  uint64
	)
	for {
		if k := p.peek().kind; k == tokComma || k == tokEOF {
			return nil, badRequest("The $orderby list '%s' has an empty item.", quoteText(value))
		}
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if x.e.Kind() == KindBinary {
			return nil, filterError(x.tok.src, x.tok.pos, "Values of type Edm.Binary cannot be ordered")
		}
		ob := OrderBy{Expr: x.e}
		if t := p.peek(); t.kind == tokIdent && (t.lower == "asc" || t.lower == "desc") {
			p.next()
			ob.Desc = t.lower == "desc"
		}
		if prop, ok := x.e.(*PropertyRef); ok {
			if seen&(1<<prop.P.ID) != 0 {
				return nil, badRequest("The property '%s' appears more than once in $orderby.", prop.P.Name)
			}
			seen |= 1 << prop.P.ID
		}
		items = append(items, ob)
		switch t := p.next(); t.kind {
		case tokComma:
		case tokEOF:
			return items, nil
		default:
			return nil, p.unexpected(t, "asc, desc, ',' or the end of $orderby")
		}
	}
}
