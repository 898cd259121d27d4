package odata

import "testing"

func bits(ids ...PropertyID) uint64 {
	var m uint64
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
		want        uint64
		list        string
	}{
		{"OneProperty", "connectorName", bits(propID, propConnectorName), "connectorName"},
		{"TwoInModelOrder", "machineName,connectorName", bits(propID, propConnectorName, propMachineName), "connectorName,machineName"},
		{"Spaces", " connectorName ,\tmachineName ", bits(propID, propConnectorName, propMachineName), "connectorName,machineName"},
		{"Duplicate", "connectorName,connectorName", bits(propID, propConnectorName), "connectorName"},
		{"IDOnly", "id", bits(propID), "id"},
		{"IDAndOther", "id,enrollmentDateTime", bits(propID, propEnrollmentDateTime), "enrollmentDateTime"},
		{"Star", "*", 0, ""},
		{"StarAndName", "connectorName,*", 0, ""},
		{"All", "id,connectorName,machineName,enrollmentDateTime,lastCheckinDateTime,connectorVersion",
			bits(propID, propConnectorName, propMachineName, propEnrollmentDateTime, propLastCheckinDateTime, propConnectorVersion),
			"connectorName,machineName,enrollmentDateTime,lastCheckinDateTime,connectorVersion"},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSelect(connType, tt.value)
			if err != nil {
				t.Fatalf("ParseSelect(%q): %v", tt.value, err)
			}
			if got != tt.want {
				t.Errorf("ParseSelect(%q) = %#b, want %#b", tt.value, got, tt.want)
			}
			if l := SelectList(connType, got); l != tt.list {
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
			_, err := ParseSelect(connType, tt.value)
			checkInvalid(t, err, CodeBadRequest, tt.msg)
		})
	}
}

func TestSelectList(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mask uint64
		want string
	}{
		{0, ""},
		{bits(propID), "id"},
		{bits(propConnectorName), "connectorName"}, // a mask without id still renders
		{bits(propID, propConnectorVersion, propConnectorName), "connectorName,connectorVersion"},
	} {
		if got := SelectList(connType, tt.mask); got != tt.want {
			t.Errorf("SelectList(%#b) = %q, want %q", tt.mask, got, tt.want)
		}
	}
}

// $select over userPFXCertificates: secrets and server-set properties can be selected like any other.
func TestParseSelectUserPfx(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		value, list string
		want        uint64
	}{
		{"encryptedPfxBlob,thumbprint", "thumbprint,encryptedPfxBlob", bits(0, pfxProp("thumbprint"), pfxProp("encryptedPfxBlob"))},
		{"lastModifiedDateTime,intendedPurpose", "intendedPurpose,lastModifiedDateTime", bits(0, pfxProp("intendedPurpose"), pfxProp("lastModifiedDateTime"))},
		{"id", "id", bits(0)},
		{"*", "", 0},
	} {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSelect(pfxType, tt.value)
			if err != nil || got != tt.want {
				t.Fatalf("ParseSelect(%q) = %#b, %v; want %#b", tt.value, got, err, tt.want)
			}
			if l := SelectList(pfxType, got); l != tt.list {
				t.Errorf("SelectList = %q, want %q", l, tt.list)
			}
		})
	}
	_, err := ParseSelect(pfxType, "connectorName")
	checkInvalid(t, err, CodeBadRequest, "Could not find a property named 'connectorName' on type 'microsoft.graph.userPFXCertificate'.")
}
