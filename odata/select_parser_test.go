package odata

import "testing"

func bits(ids ...PropertyID) uint16 {
	var m uint16
	for _, id := range ids {
		m |= 1 << id
	}
	return m
}

// ABNF: select = ( "$select" / "select" ) EQ selectItem *( COMMA selectItem ); selectItem = STAR / selectProperty.
func TestParseSelect(t *testing.T) {
	t.Parallel()
	ok := []struct {
		name, value string
		want        uint16
		list        string
	}{
		{"OneProperty", "connectorName", bits(PropID, PropConnectorName), "connectorName"},
		{"TwoInModelOrder", "machineName,connectorName", bits(PropID, PropConnectorName, PropMachineName), "connectorName,machineName"},
		{"Spaces", " connectorName ,\tmachineName ", bits(PropID, PropConnectorName, PropMachineName), "connectorName,machineName"},
		{"Duplicate", "connectorName,connectorName", bits(PropID, PropConnectorName), "connectorName"},
		{"IDOnly", "id", bits(PropID), "id"},
		{"IDAndOther", "id,enrollmentDateTime", bits(PropID, PropEnrollmentDateTime), "enrollmentDateTime"},
		{"Star", "*", 0, ""},
		{"StarAndName", "connectorName,*", 0, ""},
		{"All", "id,connectorName,machineName,enrollmentDateTime,lastCheckinDateTime,connectorVersion",
			bits(PropID, PropConnectorName, PropMachineName, PropEnrollmentDateTime, PropLastCheckinDateTime, PropConnectorVersion),
			"connectorName,machineName,enrollmentDateTime,lastCheckinDateTime,connectorVersion"},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSelect(tt.value)
			if err != nil {
				t.Fatalf("ParseSelect(%q): %v", tt.value, err)
			}
			if got != tt.want {
				t.Errorf("ParseSelect(%q) = %#b, want %#b", tt.value, got, tt.want)
			}
			if l := SelectList(got); l != tt.list {
				t.Errorf("SelectList = %q, want %q", l, tt.list)
			}
		})
	}
	bad := []struct{ name, value, msg string }{
		{"Empty", "", "The value of $select is empty"},
		{"Blank", "  ", "The value of $select is empty"},
		{"Unknown", "foo", "Could not find a property named 'foo' on type 'microsoft.graph.certificateConnectorDetails'."},
		{"WrongCase", "ConnectorName", "Could not find a property named 'ConnectorName' on type 'microsoft.graph.certificateConnectorDetails'."},
		{"UnknownAfterKnown", "connectorName,bar", "Could not find a property named 'bar'"},
		{"EmptyItem", "connectorName,,machineName", "The $select list 'connectorName,,machineName' has an empty item."},
		{"TrailingComma", "connectorName,", "has an empty item"},
		{"Qualified", "microsoft.graph.certificateConnectorDetails/connectorName", "Could not find a property named"},
		{"Path", "connectorName/x", "Could not find a property named 'connectorName/x'"},
		{"WithOptions", "connectorName($select=x)", "Could not find a property named"},
		{"SpaceInside", "connector Name", "Could not find a property named 'connector Name'"},
	}
	for _, tt := range bad {
		t.Run("Err"+tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSelect(tt.value)
			checkInvalid(t, err, CodeBadRequest, tt.msg)
		})
	}
}

func TestSelectList(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mask uint16
		want string
	}{
		{0, ""},
		{bits(PropID), "id"},
		{bits(PropConnectorName), "connectorName"}, // a mask without id still renders
		{bits(PropID, PropConnectorVersion, PropConnectorName), "connectorName,connectorVersion"},
	} {
		if got := SelectList(tt.mask); got != tt.want {
			t.Errorf("SelectList(%#b) = %q, want %q", tt.mask, got, tt.want)
		}
	}
}
