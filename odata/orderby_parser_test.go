package odata

import (
	"reflect"
	"testing"
)

// ABNF: orderby = ( "$orderby" / "orderby" ) EQ orderbyItem *( COMMA orderbyItem );
// orderbyItem = commonExpr [ RWS ( "asc" / "desc" ) ], with commonExpr restricted to a property name.
func TestParseOrderBy(t *testing.T) {
	t.Parallel()
	ok := []struct {
		name, value string
		want        []OrderBy
	}{
		{"One", "connectorName", []OrderBy{{Prop: PropConnectorName}}},
		{"Asc", "connectorName asc", []OrderBy{{Prop: PropConnectorName}}},
		{"Desc", "enrollmentDateTime desc", []OrderBy{{Prop: PropEnrollmentDateTime, Desc: true}}},
		{"UpperDesc", "enrollmentDateTime DESC", []OrderBy{{Prop: PropEnrollmentDateTime, Desc: true}}},
		{"MixedCaseAsc", "machineName aSc", []OrderBy{{Prop: PropMachineName}}},
		{"Several", "connectorName desc,machineName,id asc", []OrderBy{{Prop: PropConnectorName, Desc: true}, {Prop: PropMachineName}, {Prop: PropID}}},
		{"Whitespace", "  connectorName \t desc ,\tmachineName  ", []OrderBy{{Prop: PropConnectorName, Desc: true}, {Prop: PropMachineName}}},
		{"AllProperties", "id,connectorName,machineName,enrollmentDateTime,lastCheckinDateTime,connectorVersion desc", []OrderBy{
			{Prop: PropID}, {Prop: PropConnectorName}, {Prop: PropMachineName}, {Prop: PropEnrollmentDateTime}, {Prop: PropLastCheckinDateTime}, {Prop: PropConnectorVersion, Desc: true}}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseOrderBy(tt.value)
			if err != nil {
				t.Fatalf("ParseOrderBy(%q): %v", tt.value, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseOrderBy(%q) = %+v, want %+v", tt.value, got, tt.want)
			}
		})
	}
	bad := []struct{ name, value, msg string }{
		{"Empty", "", "The value of $orderby is empty"},
		{"Blank", " \t", "The value of $orderby is empty"},
		{"Unknown", "foo", "Could not find a property named 'foo' on type 'microsoft.graph.certificateConnectorDetails'."},
		{"WrongCase", "connectorname", "Could not find a property named 'connectorname'"},
		{"UnknownWithDirection", "foo desc", "Could not find a property named 'foo'"},
		{"BadDirection", "connectorName descending", "The $orderby item 'connectorName descending' is not valid: the direction must be asc or desc, not 'descending'."},
		{"ThreeWords", "connectorName desc asc", "write a property name, optionally followed by asc or desc"},
		{"DirectionOnly", "desc", "Could not find a property named 'desc'"},
		{"EmptyItem", "connectorName,,machineName", "The $orderby list 'connectorName,,machineName' has an empty item."},
		{"TrailingComma", "connectorName,", "has an empty item"},
		{"Duplicate", "connectorName,connectorName desc", "The property 'connectorName' appears more than once in $orderby."},
		{"Function", "tolower(connectorName)", "The $orderby item 'tolower(connectorName)' is not supported: only property names can be ordered by."},
		{"Path", "connectorName/x", "only property names"},
		{"LiteralPlus", "connectorName+desc", "Could not find a property named 'connectorName+desc'"},
	}
	for _, tt := range bad {
		t.Run("Err"+tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseOrderBy(tt.value)
			checkInvalid(t, err, CodeBadRequest, tt.msg)
		})
	}
}
