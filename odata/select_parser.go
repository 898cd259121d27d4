package odata

import "strings"

// $select (ABNF: select = ( "$select" / "select" ) EQ selectItem *( COMMA selectItem )), restricted to what
// the entity types here have: primitive properties and STAR.

// unknownProperty is ODataLib's message for a name the entity type does not have.
func unknownProperty(t *EntityType, name string) *Error {
	return badRequest("Could not find a property named '%s' on type '%s'.", quoteText(name), t.Qualified)
}

// ParseSelect parses a percent-decoded $select value into a bit set of PropertyIDs, as Query.Select holds it:
// 0 for `*` (every property), otherwise the named properties plus the key, which is always returned. Items are
// separated by commas, with spaces or tabs around them tolerated; names are case-sensitive; a name given twice
// counts once.
func ParseSelect(t *EntityType, value string) (uint64, error) {
	if strings.Trim(value, " \t") == "" {
		return 0, badRequest("The value of $select is empty: give a comma-separated list of property names, or *.")
	}
	var mask uint64
	star := false
	for item := range strings.SplitSeq(value, ",") {
		name := strings.Trim(item, " \t")
		switch name {
		case "":
			return 0, badRequest("The $select list '%s' has an empty item.", quoteText(value))
		case "*":
			star = true
			continue
		}
		prop, ok := t.Property(name)
		if !ok {
			return 0, unknownProperty(t, name)
		}
		mask |= 1 << prop.ID
	}
	if star {
		return 0, nil
	}
	return mask | 1, nil
}

// SelectList renders a Query.Select bit set as the select list of a context URL (contract §5.1): the selected
// properties in model order, comma-separated, e.g. "connectorName,machineName". The key, which every selection
// includes, is left out unless it is the only property selected. It returns "" for 0 (every property): the
// context URL then has no select list.
func SelectList(t *EntityType, mask uint64) string {
	return string(appendSelectList(nil, t, mask))
}

func appendSelectList(b []byte, t *EntityType, mask uint64) []byte {
	if mask == 0 {
		return b
	}
	if mask == 1 {
		return append(b, t.Properties[0].Name...)
	}
	first := true
	for i := 1; i < len(t.Properties); i++ {
		if mask&(1<<uint(i)) == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, t.Properties[i].Name...)
	}
	return b
}
