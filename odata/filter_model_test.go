package odata

import (
	"strings"
	"testing"
)

// $filter over what the model added: mindatetime() and maxdatetime(), Date literals compared with
// DateTimeOffsets, enums, Binary, secrets, and messages that quote client text.

const (
	purposeVPN   = "microsoft.graph.userPfxIntendedPurpose'vpn'"
	purposeSMIME = "microsoft.graph.userPfxIntendedPurpose'smimeEncryption'"
	paddingNone  = "microsoft.graph.userPfxPaddingScheme'none'"
	padding512   = "microsoft.graph.userPfxPaddingScheme'oaepSha512'"
	// memberList of userPfxIntendedPurpose, as messages list it.
	purposeMembers = "(unassigned, smimeEncryption, smimeSigning, vpn, wifi)"
)

func TestParseFilterMinMaxDateTime(t *testing.T) {
	t.Parallel()
	runFilterOK(t, []filterCase{
		{"Min", "enrollmentDateTime gt mindatetime()", nil, "(gt enrollmentDateTime (mindatetime))"},
		{"Max", "lastCheckinDateTime lt maxdatetime()", nil, "(lt lastCheckinDateTime (maxdatetime))"},
		{"UpperCase", "enrollmentDateTime eq MinDateTime( )", nil, "(eq enrollmentDateTime (mindatetime))"},
		{"Parts", "year(maxdatetime()) eq 9999 and year(mindatetime()) eq 1", nil, "(and (eq (year (maxdatetime)) 9999) (eq (year (mindatetime)) 1))"},
		{"InFunctions", "date(mindatetime()) lt date(now())", nil, "(lt (date (mindatetime)) (date (now)))"},
		{"VersusDate", "maxdatetime() gt 9999-12-31", nil, "(gt (maxdatetime) dto:9999-12-31T00:00:00Z)"},
	})
	runFilterErr(t, []filterCase{
		{"WithArgument", "mindatetime(enrollmentDateTime) eq enrollmentDateTime", nil,
			"No function signature for the function with name 'mindatetime' matches the specified arguments (Edm.DateTimeOffset). The function signature considered is mindatetime()"},
		{"WithoutParens", "enrollmentDateTime eq maxdatetime", nil, "The function 'maxdatetime' must be followed by its arguments in parentheses"},
		{"NotAString", "connectorName eq mindatetime()", nil, "Found operand types 'Edm.String' and 'Edm.DateTimeOffset'"},
	})
	seed, empty, _ := evalRows(t)
	now := mustParseDateTimeOffset(t, "2025-06-15T12:00:00Z")
	for _, tt := range []struct {
		fn   Func
		want DateTimeOffset
	}{{FnMinDateTime, MinDateTime}, {FnMaxDateTime, MaxDateTime}} {
		v := Eval(&Call{Fn: tt.fn}, &seed, now)
		if v.Null || v.Kind != KindDateTimeOffset || v.Time != tt.want || v.Time.Offset != 0 {
			t.Errorf("function %d = %+v, want %v", tt.fn, v, tt.want)
		}
	}
	if MinDateTime.String() != "0001-01-01T00:00:00Z" || MaxDateTime.String() != "9999-12-31T23:59:59.9999999Z" {
		t.Errorf("MinDateTime %s, MaxDateTime %s", MinDateTime, MaxDateTime)
	}
	runEval(t, []evalCase{
		{"enrollmentDateTime ge mindatetime()", "true", "true", "true"},
		{"enrollmentDateTime gt mindatetime()", "true", "false", "true"},
		{"lastCheckinDateTime lt maxdatetime()", "true", "true", "false"},
		{"lastCheckinDateTime eq maxdatetime()", "false", "false", "true"},
	})
	_ = empty
}

// An Edm.Date literal compared with a DateTimeOffset means midnight UTC of that date, on either side, in lists
// and through aliases; compared with a Date it stays a Date.
func TestParseFilterDateAsDateTimeOffset(t *testing.T) {
	t.Parallel()
	const midnight = "dto:2024-06-15T00:00:00Z"
	runFilterOK(t, []filterCase{
		{"Ge", "enrollmentDateTime ge 2024-06-15", nil, "(ge enrollmentDateTime " + midnight + ")"},
		{"DateFirst", "2024-06-15 lt lastCheckinDateTime", nil, "(lt " + midnight + " lastCheckinDateTime)"},
		{"Now", "now() lt 2030-01-01", nil, "(lt (now) dto:2030-01-01T00:00:00Z)"},
		{"FirstDay", "enrollmentDateTime eq 0001-01-01", nil, "(eq enrollmentDateTime dto:0001-01-01T00:00:00Z)"},
		{"LastDay", "enrollmentDateTime lt 9999-12-31", nil, "(lt enrollmentDateTime dto:9999-12-31T00:00:00Z)"},
		{"List", "enrollmentDateTime in (2024-06-15,2024-06-16T00:00:00+01:00,null)", nil,
			"(in enrollmentDateTime [" + midnight + " dto:2024-06-16T00:00:00+01:00 null])"},
		{"BracketList", "enrollmentDateTime in [2024-06-15]", nil, "(in enrollmentDateTime [" + midnight + "])"},
		{"Alias", "enrollmentDateTime ge @d", map[string]string{"@d": "2024-06-15"}, "(ge enrollmentDateTime " + midnight + ")"},
		{"LiteralAndDateTimeOffsetLiteral", "2024-06-15T00:00:00Z eq 2024-06-15", nil, "(eq dto:2024-06-15T00:00:00Z " + midnight + ")"},
		{"DateAndDateTimeOffsetLiteral", "2024-06-15 eq 2024-06-15T00:00:00Z", nil, "(eq " + midnight + " dto:2024-06-15T00:00:00Z)"},
		{"DateStaysDateWithDate", "date(enrollmentDateTime) ge 2024-06-15", nil, "(ge (date enrollmentDateTime) date:2024-06-15)"},
		{"DatesStayDates", "2024-06-15 eq 2024-06-15", nil, "(eq date:2024-06-15 date:2024-06-15)"},
		{"DateWithNull", "2024-06-15 eq null", nil, "(eq date:2024-06-15 null)"},
	})
	runFilterErr(t, []filterCase{
		{"StringStaysString", "enrollmentDateTime ge '2024-06-15'", nil, "Found operand types 'Edm.DateTimeOffset' and 'Edm.String'"},
		{"ListOfStrings", "enrollmentDateTime in ('2024-06-15')", nil, "must hold values of type Edm.DateTimeOffset, but holds a value of type Edm.String"},
		{"ListOfDatesForDate", "date(enrollmentDateTime) in (2024-06-15T00:00:00Z)", nil, "must hold values of type Edm.Date"},
	})
	// Midnight UTC, whatever the row's offset: the seed's 2016-12-31T23:57:59-08:00 is 2017-01-01 in UTC.
	runEval(t, []evalCase{
		{"enrollmentDateTime ge 2017-01-01", "true", "false", "true"},
		{"enrollmentDateTime ge 2017-01-01T07:57:59.3726057Z", "true", "false", "true"},
		{"enrollmentDateTime ge 2017-01-02", "false", "false", "true"},
		{"enrollmentDateTime lt 2017-01-02", "true", "true", "false"},
		{"enrollmentDateTime ge 2024-02-28 and enrollmentDateTime lt 2024-02-29", "false", "false", "true"},
		{"enrollmentDateTime in (2024-02-28,0001-01-01)", "false", "true", "false"},
		{"enrollmentDateTime eq 0001-01-01", "false", "true", "false"},
	})
}

func TestParseFilterEnums(t *testing.T) {
	t.Parallel()
	runFilterOKFor(t, pfxType, []filterCase{
		{"String", "intendedPurpose eq 'smimeEncryption'", nil, "(eq intendedPurpose " + purposeSMIME + ")"},
		{"StringAnyCase", "intendedPurpose eq 'SmimeEncryption'", nil, "(eq intendedPurpose " + purposeSMIME + ")"},
		{"StringUpper", "paddingScheme ne 'OAEPSHA512'", nil, "(ne paddingScheme " + padding512 + ")"},
		{"StringFirst", "'vpn' eq intendedPurpose", nil, "(eq " + purposeVPN + " intendedPurpose)"},
		{"Qualified", "intendedPurpose eq " + purposeVPN, nil, "(eq intendedPurpose " + purposeVPN + ")"},
		{"QualifiedAnyCase", "intendedPurpose eq Microsoft.Graph.UserPfxIntendedPurpose'VPN'", nil, "(eq intendedPurpose " + purposeVPN + ")"},
		{"QualifiedWifi", "intendedPurpose eq microsoft.graph.userPfxIntendedPurpose'wifi'", nil,
			"(eq intendedPurpose microsoft.graph.userPfxIntendedPurpose'wifi')"},
		{"Ordering", "intendedPurpose gt 'smimeSigning' and paddingScheme le " + paddingNone, nil,
			"(and (gt intendedPurpose microsoft.graph.userPfxIntendedPurpose'smimeSigning') (le paddingScheme " + paddingNone + "))"},
		{"Null", "intendedPurpose eq null", nil, "(eq intendedPurpose null)"},
		{"TwoProperties", "intendedPurpose eq intendedPurpose", nil, "(eq intendedPurpose intendedPurpose)"},
		{"QualifiedAndString", purposeVPN + " eq 'VPN'", nil, "(eq " + purposeVPN + " " + purposeVPN + ")"},
		{"StringAndQualified", "'VPN' eq " + purposeVPN, nil, "(eq " + purposeVPN + " " + purposeVPN + ")"},
		{"List", "paddingScheme in ('oaepSha512', " + paddingNone + ", null)", nil, "(in paddingScheme [" + padding512 + " " + paddingNone + " null])"},
		{"BracketList", `intendedPurpose in ["VPN","wifi"]`, nil, "(in intendedPurpose [" + purposeVPN + " microsoft.graph.userPfxIntendedPurpose'wifi'])"},
		{"Alias", "intendedPurpose eq @p", map[string]string{"@p": "'vpn'"}, "(eq intendedPurpose " + purposeVPN + ")"},
		{"QualifiedAlias", "intendedPurpose eq @p", map[string]string{"@p": purposeVPN}, "(eq intendedPurpose " + purposeVPN + ")"},
		{"ModuleLookup", "tolower(userPrincipalName) eq 'u@x' and tolower(thumbprint) eq 'ab'", nil,
			"(and (eq (tolower userPrincipalName) 'u@x') (eq (tolower thumbprint) 'ab'))"},
	})
	runFilterErrFor(t, pfxType, []filterCase{
		{"UnknownMember", "intendedPurpose eq 'VPNs'", nil,
			"The string 'VPNs' is not a member of the enum type 'microsoft.graph.userPfxIntendedPurpose' " + purposeMembers + " (at position 19 in $filter)."},
		{"UnknownMemberInList", "intendedPurpose in ('vpn','x')", nil, "The string 'x' is not a member of the enum type"},
		{"UnknownQualifiedMember", "intendedPurpose eq microsoft.graph.userPfxIntendedPurpose'x'", nil,
			"'x' is not a member of the enum type 'microsoft.graph.userPfxIntendedPurpose' " + purposeMembers},
		{"UnknownQualifiedMemberUnused", "true or microsoft.graph.userPfxIntendedPurpose'x' eq null", nil, "is not a member of the enum type"},
		{"UnknownEnumType", "intendedPurpose eq microsoft.graph.color'red'", nil,
			"The type 'microsoft.graph.color' is not an enum type of 'microsoft.graph.userPFXCertificate'"},
		{"UnqualifiedEnumType", "intendedPurpose eq userPfxIntendedPurpose.x'vpn'", nil, "is not an enum type"},
		{"OtherEnumType", "intendedPurpose eq " + paddingNone, nil,
			"Found operand types 'microsoft.graph.userPfxIntendedPurpose' and 'microsoft.graph.userPfxPaddingScheme' for operator kind 'eq'"},
		{"OtherEnumProperty", "intendedPurpose lt paddingScheme", nil,
			"Found operand types 'microsoft.graph.userPfxIntendedPurpose' and 'microsoft.graph.userPfxPaddingScheme' for operator kind 'lt'"},
		{"OtherEnumInList", "intendedPurpose in (" + paddingNone + ")", nil,
			"The list after 'in' must hold values of type microsoft.graph.userPfxIntendedPurpose, but holds a value of type microsoft.graph.userPfxPaddingScheme"},
		{"Integer", "intendedPurpose eq 4", nil, "Found operand types 'microsoft.graph.userPfxIntendedPurpose' and 'Edm.Int32'"},
		{"IntegerInList", "intendedPurpose in (4)", nil, "must hold values of type microsoft.graph.userPfxIntendedPurpose, but holds a value of type Edm.Int32"},
		{"StringFunction", "contains(intendedPurpose,'v')", nil, "No function signature for the function with name 'contains' matches the specified arguments (microsoft.graph.userPfxIntendedPurpose, Edm.String)"},
		{"StringProperty", "intendedPurpose eq thumbprint", nil, "'microsoft.graph.userPfxIntendedPurpose' and 'Edm.String'"},
		{"QualifiedWithoutQuotes", "intendedPurpose eq microsoft.graph.userPfxIntendedPurpose", nil, "property paths and type casts are not supported"},
		{"NotAnEnum", "not " + purposeVPN, nil, "The operand of 'not' must be of type Edm.Boolean, but it is of type microsoft.graph.userPfxIntendedPurpose"},
	})
	// The connectors have no enums: a qualified enum literal there is an unknown type.
	runFilterErr(t, []filterCase{
		{"EnumOnConnectors", "connectorName eq " + purposeVPN, nil,
			"The type 'microsoft.graph.userPfxIntendedPurpose' is not an enum type of 'microsoft.graph.certificateConnectorDetails'"},
	})
}

// Binary properties compare only with null; secrets cannot be filtered or ordered by at all.
func TestParseFilterBinaryAndSecrets(t *testing.T) {
	t.Parallel()
	toy := toySet.Type
	runFilterOKFor(t, toy, []filterCase{
		{"EqNull", "data eq null", nil, "(eq data null)"},
		{"NullNe", "null ne data", nil, "(ne null data)"},
		{"OtherTypes", "active eq true and count gt 1 and total le 9999999999 and color eq 'green' and name eq 'a' and when lt now()", nil,
			"(and (and (and (and (and (eq active true) (gt count 1)) (le total 9999999999)) (eq color microsoft.graph.toyColor'green')) (eq name 'a')) (lt when (now)))"},
		{"BooleanProperty", "active", nil, "active"},
		{"NotBooleanProperty", "not active", nil, "(not active)"},
	})
	runFilterErrFor(t, toy, []filterCase{
		{"EqString", "data eq 'AA=='", nil, "Found operand types 'Edm.Binary' and 'Edm.String' for operator kind 'eq'"},
		{"GtNull", "data gt null", nil, "Found operand types 'Edm.Binary' and 'null' for operator kind 'gt'"},
		{"EqItself", "data eq data", nil, "Found operand types 'Edm.Binary' and 'Edm.Binary'"},
		{"InNull", "data in (null)", nil, "The list after 'in' must hold values of type Edm.Binary"},
		{"Function", "length(data) eq 1", nil, "No function signature for the function with name 'length'"},
		{"Int64Name", "total eq 'a'", nil, "Found operand types 'Edm.Int64' and 'Edm.String'"},
	})
	runFilterErrFor(t, pfxType, []filterCase{
		{"SecretBinary", "encryptedPfxBlob eq null", nil, "The property 'encryptedPfxBlob' holds a secret and cannot be used in $filter (at position 0 in $filter)."},
		{"SecretString", "startswith(encryptedPfxPassword,'a')", nil, "The property 'encryptedPfxPassword' holds a secret and cannot be used in $filter"},
		{"SecretInList", "encryptedPfxPassword in ('a')", nil, "holds a secret"},
		{"SecretAlias", "@s eq null", map[string]string{"@s": "encryptedPfxPassword"}, "holds a secret"},
	})
	for _, tt := range []struct{ name, value, msg string }{
		{"Secret", "encryptedPfxPassword", "The property 'encryptedPfxPassword' holds a secret and cannot be used in $orderby"},
		{"SecretInExpression", "length(encryptedPfxPassword) desc", "holds a secret and cannot be used in $orderby"},
		{"SecretBinary", "encryptedPfxBlob", "holds a secret and cannot be used in $orderby"},
	} {
		t.Run("OrderBy"+tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseOrderBy(pfxType, tt.value, nil)
			checkInvalid(t, err, CodeBadRequest, tt.msg)
		})
	}
}

// Messages quote client text at most 64 bytes long, so a huge name or literal gives a short error.
func TestMessagesCapClientText(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 60_000)
	hugeMB := strings.Repeat("y", 1<<20)
	for _, tt := range []struct {
		name string
		err  func() error
	}{
		{"FilterUnknownProperty", func() error { _, err := ParseFilter(connType, huge+" eq 'a'", nil); return err }},
		{"FilterUnknownFunction", func() error { _, err := ParseFilter(connType, huge+"() eq 'a'", nil); return err }},
		{"FilterUnknownMember", func() error { _, err := ParseFilter(pfxType, "intendedPurpose eq '"+huge+"'", nil); return err }},
		{"FilterUnknownEnumType", func() error { _, err := ParseFilter(pfxType, "intendedPurpose eq a."+huge+"'x'", nil); return err }},
		{"FilterWrongKindInList", func() error { _, err := ParseFilter(connType, "connectorName in ('"+huge+"' '')", nil); return err }},
		{"FilterTooLong", func() error { _, err := ParseFilter(connType, hugeMB, nil); return err }},
		{"FilterBadDate", func() error {
			_, err := ParseFilter(connType, "enrollmentDateTime eq 2024-01-01T"+huge, nil)
			return err
		}},
		{"OrderByUnknown", func() error { _, err := ParseOrderBy(connType, huge, nil); return err }},
		{"OrderByEmptyItem", func() error { _, err := ParseOrderBy(connType, huge+",,", nil); return err }},
		{"SelectUnknown", func() error { _, err := ParseSelect(connType, hugeMB); return err }},
		{"QueryUnknownOption", func() error { _, err := ParseQuery(connType, "$"+hugeMB+"=1", ForCollection); return err }},
		{"QueryBadTop", func() error { _, err := ParseQuery(connType, "$top="+hugeMB, ForCollection); return err }},
		{"PatchUnknownProperty", func() error { _, err := ParsePatch(connType, []byte(`{"`+hugeMB+`":1}`), seedKey); return err }},
		{"PatchBadDateTime", func() error {
			_, err := ParsePatch(connType, []byte(`{"enrollmentDateTime":"`+hugeMB+`"}`), seedKey)
			return err
		}},
		{"PatchBadID", func() error { _, err := ParsePatch(connType, []byte(`{"id":"`+hugeMB+`"}`), seedKey); return err }},
		{"PatchBadEnum", func() error { _, err := ParsePatch(pfxType, []byte(`{"paddingScheme":"`+hugeMB+`"}`), "k"); return err }},
		{"PatchBadBase64", func() error {
			_, err := ParsePatch(pfxType, []byte(`{"encryptedPfxBlob":"`+hugeMB+`y"}`), "k")
			return err
		}},
		{"PatchBadType", func() error { _, err := ParsePatch(pfxType, []byte(`{"@odata.type":"`+hugeMB+`"}`), "k"); return err }},
		{"ImportBadID", func() error { _, err := parseImport(`[{"id":"` + hugeMB + `"}]`); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := checkInvalid(t, tt.err(), "", "")
			if len(e.Message) > 500 {
				t.Errorf("the message is %d bytes long: %.300s…", len(e.Message), e.Message)
			}
		})
	}
}
