package odata

import "strings"

// $orderby (ABNF: orderby = ( "$orderby" / "orderby" ) EQ orderbyItem *( COMMA orderbyItem ), orderbyItem =
// commonExpr [ RWS ( "asc" / "desc" ) ]), restricted to property names: the store orders by indexed columns.

// ParseOrderBy parses a percent-decoded $orderby value: a comma-separated list of `property [asc|desc]`.
// The direction is case-insensitive and defaults to asc; spaces and tabs may surround items and separate the
// name from the direction. A property may appear only once. The result has no id tiebreak; the store adds it.
func ParseOrderBy(value string) ([]OrderBy, error) {
	if strings.Trim(value, " \t") == "" {
		return nil, badRequest("The value of $orderby is empty: give a comma-separated list of property names, each optionally followed by asc or desc.")
	}
	var (
		items []OrderBy
		seen  uint16
	)
	for item := range strings.SplitSeq(value, ",") {
		fields := strings.FieldsFunc(item, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(fields) == 0 {
			return nil, badRequest("The $orderby list '%s' has an empty item.", quoteText(value))
		}
		name := fields[0]
		if strings.ContainsAny(name, "()/") {
			return nil, badRequest("The $orderby item '%s' is not supported: only property names can be ordered by.", quoteText(strings.Trim(item, " \t")))
		}
		prop, ok := LookupProperty(name)
		if !ok {
			return nil, unknownProperty(name)
		}
		ob := OrderBy{Prop: prop.ID}
		switch len(fields) {
		case 1:
		case 2:
			switch strings.ToLower(fields[1]) {
			case "asc":
			case "desc":
				ob.Desc = true
			default:
				return nil, badRequest("The $orderby item '%s' is not valid: the direction must be asc or desc, not '%s'.", quoteText(strings.Trim(item, " \t")), quoteText(fields[1]))
			}
		default:
			return nil, badRequest("The $orderby item '%s' is not valid: write a property name, optionally followed by asc or desc.", quoteText(strings.Trim(item, " \t")))
		}
		if seen&(1<<prop.ID) != 0 {
			return nil, badRequest("The property '%s' appears more than once in $orderby.", prop.Name)
		}
		seen |= 1 << prop.ID
		items = append(items, ob)
	}
	return items, nil
}
