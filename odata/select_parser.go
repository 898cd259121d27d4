package odata

import "strings"

// $select (ABNF: select = ( "$select" / "select" ) EQ selectItem *( COMMA selectItem )), restricted to what
// this entity has: its primitive properties and STAR.

// unknownProperty is ODataLib's message for a name the entity type does not have.
func unknownProperty(name string) *Error {
	return badRequest("Could not find a property named '%s' on type '%s'.", quoteText(name), QualifiedType)
}

// ParseSelect parses a percent-decoded $select value into a bit set of PropertyIDs, as Query.Select holds it:
// 0 for `*` (every property), otherwise the named properties plus id, which is always returned. Items are
// separated by commas, with spaces or tabs around them tolerated; names are case-sensitive; a name given twice
// counts once.
func ParseSelect(value string) (uint16, error) {
	if strings.Trim(value, " \t") == "" {
		return 0, badRequest("The value of $select is empty: give a comma-separated list of property names, or *.")
	}
	var mask uint16
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
		prop, ok := LookupProperty(name)
		if !ok {
			return 0, unknownProperty(name)
		}
		mask |= 1 << prop.ID
	}
	if star {
		return 0, nil
	}
	return mask | 1<<PropID, nil
}

// SelectList renders a Query.Select bit set as the select list of a context URL (contract §5.1): the selected
// properties in model order, comma-separated, e.g. "connectorName,machineName". id, which every selection
// includes, is left out unless it is the only property selected. It returns "" for 0 (every property): the
// context URL then has no select list.
func SelectList(mask uint16) string {
	if mask == 0 {
		return ""
	}
	if mask == 1<<PropID {
		return Properties[PropID].Name
	}
	var b strings.Builder
	for id := PropID + 1; id < NumProperties; id++ {
		if mask&(1<<id) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(Properties[id].Name)
	}
	return b.String()
}
