package odata

import (
	"strings"
	"testing"
)

// showOrder renders $orderby items as sexprs, each followed by " desc" when descending, joined by ", ".
func showOrder(items []OrderBy) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = sexpr(it.Expr)
		if it.Desc {
			parts[i] += " desc"
		}
	}
	return strings.Join(parts, ", ")
}

// ABNF: orderby = ( "$orderby" / "orderby" ) EQ orderbyItem *( COMMA orderbyItem );
// orderbyItem = commonExpr [ RWS ( "asc" / "desc" ) ].
func TestParseOrderBy(t *testing.T) {
	t.Parallel()
	ok := []struct {
		name, value string
		aliases     map[string]string
		want        string
	}{
		{"One", "connectorName", nil, "connectorName"},
		{"Asc", "connectorName asc", nil, "connectorName"},
		{"Desc", "enrollmentDateTime desc", nil, "enrollmentDateTime desc"},
		{"UpperDesc", "enrollmentDateTime DESC", nil, "enrollmentDateTime desc"},
		{"MixedCaseAsc", "machineName aSc", nil, "machineName"},
		{"Several", "connectorName desc,machineName,id asc", nil, "connectorName desc, machineName, id"},
		{"Whitespace", "  connectorName \t desc ,\tmachineName  ", nil, "connectorName desc, machineName"},
		{"AllProperties", "id,connectorName,machineName,enrollmentDateTime,lastCheckinDateTime,connectorVersion desc", nil,
			"id, connectorName, machineName, enrollmentDateTime, lastCheckinDateTime, connectorVersion desc"},
		// Expressions (issue: $orderby on expressions, not only properties)
		{"Length", "length(connectorName)", nil, "(length connectorName)"},
		{"ToLowerDesc", "tolower(machineName) desc", nil, "(tolower machineName) desc"},
		{"Year", "year(enrollmentDateTime)", nil, "(year enrollmentDateTime)"},
		{"FunctionUpperCase", "TOLOWER(machineName) DESC", nil, "(tolower machineName) desc"},
		{"Nested", "substring(tolower(connectorName),1,2) asc", nil, "(substring (tolower connectorName) 1 2)"},
		{"ExpressionThenSameProperty", "length(connectorName) desc,connectorName", nil, "(length connectorName) desc, connectorName"},
		{"SameExpressionTwice", "length(connectorName),length(connectorName) desc", nil, "(length connectorName), (length connectorName) desc"},
		{"Comparison", "connectorName eq 'a' desc", nil, "(eq connectorName 'a') desc"},
		{"ParenthesisedComparison", "(connectorName eq 'a') desc", nil, "(eq connectorName 'a') desc"},
		{"ParenthesisedProperty", "(connectorName) desc,machineName", nil, "connectorName desc, machineName"},
		{"Boolean", "contains(connectorName,'x')", nil, "(contains connectorName 'x')"},
		{"DateLiteralPromoted", "enrollmentDateTime gt 2024-06-15", nil, "(gt enrollmentDateTime dto:2024-06-15T00:00:00Z)"},
		{"Literal", "'x'", nil, "'x'"},
		{"Now", "now() desc", nil, "(now) desc"},
		{"Alias", "@o desc,connectorName", map[string]string{"@o": "length(machineName)"}, "(length machineName) desc, connectorName"},
		{"AliasProperty", "@p", map[string]string{"@p": "machineName"}, "machineName"},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseOrderBy(connType, tt.value, tt.aliases)
			if err != nil {
				t.Fatalf("ParseOrderBy(%q): %v", tt.value, err)
			}
			if s := showOrder(got); s != tt.want {
				t.Errorf("ParseOrderBy(%q) = %s, want %s", tt.value, s, tt.want)
			}
		})
	}
	bad := []struct {
		name, value string
		aliases     map[string]string
		msg         string
	}{
		{"Empty", "", nil, "The value of $orderby is empty"},
		{"Blank", " \t", nil, "The value of $orderby is empty"},
		{"Unknown", "foo", nil, "Could not find a property named 'foo' on type 'microsoft.graph.certificateConnectorDetails' (at position 0 in $orderby)."},
		{"WrongCase", "connectorname", nil, "Could not find a property named 'connectorname'"},
		{"UnknownWithDirection", "foo desc", nil, "Could not find a property named 'foo'"},
		{"BadDirection", "connectorName descending", nil, "Syntax error: found 'descending' where asc, desc, ',' or the end of $orderby was expected (at position 14 in $orderby)."},
		{"ThreeWords", "connectorName desc asc", nil, "found 'asc' where asc, desc, ',' or the end of $orderby was expected"},
		{"TrailingGarbage", "connectorName desc )", nil, "found ')' where asc, desc, ',' or the end of $orderby was expected"},
		{"TrailingLiteral", "length(connectorName) 5", nil, "found '5' where asc, desc"},
		{"DirectionOnly", "desc", nil, "Could not find a property named 'desc'"},
		{"EmptyItem", "connectorName,,machineName", nil, "The $orderby list 'connectorName,,machineName' has an empty item."},
		{"TrailingComma", "connectorName,", nil, "has an empty item"},
		{"LeadingComma", ",connectorName", nil, "has an empty item"},
		{"Duplicate", "connectorName,connectorName desc", nil, "The property 'connectorName' appears more than once in $orderby."},
		{"DuplicateInParens", "connectorName,(connectorName)", nil, "The property 'connectorName' appears more than once in $orderby."},
		{"DuplicateViaAlias", "@p,connectorName", map[string]string{"@p": "connectorName"}, "appears more than once"},
		{"Path", "connectorName/x", nil, "property paths and type casts are not supported"},
		{"LiteralPlus", "connectorName+desc", nil, "unexpected character '+'"},
		{"UnknownFunction", "foo(connectorName)", nil, "An unknown function with name 'foo' was found"},
		{"BadFunctionArguments", "length(enrollmentDateTime)", nil, "No function signature for the function with name 'length'"},
		{"TypeError", "connectorName eq 1", nil, "A binary operator with incompatible types was detected"},
		{"Unclosed", "length(connectorName", nil, "found the end of the expression where ',' or ')' was expected"},
		{"AliasUndefined", "@o", nil, "The parameter alias '@o' is not defined"},
		{"TooLong", strings.Repeat("x", MaxFilterLength+1), nil, "The $orderby expression is 65537 bytes long, more than the limit of 65536."},
		{"TooDeep", strings.Repeat("(", MaxFilterDepth+1) + "id" + strings.Repeat(")", MaxFilterDepth+1), nil, "nests more than 100 levels deep"},
		{"Search", "$search", nil, "unexpected character '$'"},
	}
	for _, tt := range bad {
		t.Run("Err"+tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseOrderBy(connType, tt.value, tt.aliases)
			if err == nil {
				t.Fatalf("ParseOrderBy(%q) = %s, want an error", tt.value, showOrder(got))
			}
			checkInvalid(t, err, CodeBadRequest, tt.msg)
		})
	}
}

// $orderby over userPFXCertificates and the toy type: enums order (by value); Binary and secrets do not.
func TestParseOrderByModel(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		t     *EntityType
		value string
		want  string // showOrder, or the error
		ok    bool
	}{
		{"Enum", pfxType, "intendedPurpose desc,paddingScheme", "intendedPurpose desc, paddingScheme", true},
		{"EnumComparison", pfxType, "intendedPurpose eq 'vpn' desc", "(eq intendedPurpose microsoft.graph.userPfxIntendedPurpose'vpn') desc", true},
		{"ServerSetTimes", pfxType, "lastModifiedDateTime desc,createdDateTime", "lastModifiedDateTime desc, createdDateTime", true},
		{"ModuleLookupOrder", pfxType, "tolower(userPrincipalName),thumbprint", "(tolower userPrincipalName), thumbprint", true},
		{"Binary", toySet.Type, "data", "Values of type Edm.Binary cannot be ordered (at position 0 in $orderby).", false},
		{"BinaryDesc", toySet.Type, "name,data desc", "Values of type Edm.Binary cannot be ordered (at position 5 in $orderby).", false},
		{"BinaryParenthesised", toySet.Type, "(data)", "Values of type Edm.Binary cannot be ordered", false},
		{"OtherTypes", toySet.Type, "active desc,count,total,color,when", "active desc, count, total, color, when", true},
		{"Secret", pfxType, "encryptedPfxPassword", "The property 'encryptedPfxPassword' holds a secret and cannot be used in $orderby", false},
		{"SecretBinary", pfxType, "keyName,encryptedPfxBlob desc", "holds a secret and cannot be used in $orderby", false},
		{"EnumDuplicate", pfxType, "intendedPurpose,intendedPurpose", "The property 'intendedPurpose' appears more than once in $orderby.", false},
		{"UnknownMember", pfxType, "intendedPurpose eq 'x'", "The string 'x' is not a member of the enum type", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseOrderBy(tt.t, tt.value, nil)
			if !tt.ok {
				checkInvalid(t, err, CodeBadRequest, tt.want)
				return
			}
			if err != nil {
				t.Fatalf("ParseOrderBy(%q): %v", tt.value, err)
			}
			if s := showOrder(got); s != tt.want {
				t.Errorf("ParseOrderBy(%q) = %s, want %s", tt.value, s, tt.want)
			}
		})
	}
}
