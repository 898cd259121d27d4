package odata

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// ABNF: queryOptions = queryOption *( "&" queryOption ); systemQueryOption names with or without '$' (Graph beta),
// case-insensitive (OData 4.01).

type queryCase struct {
	name      string
	raw       string
	forEntity bool
	check     func(tb testing.TB, q Query)
}

func target(forEntity bool) Target {
	if forEntity {
		return ForEntity
	}
	return ForCollection
}

// orderOf is the $orderby items of properties of the connectors.
func orderOf(items ...any) []OrderBy {
	var out []OrderBy
	for _, it := range items {
		switch it := it.(type) {
		case PropertyID:
			out = append(out, OrderBy{Expr: &PropertyRef{P: &connType.Properties[it]}})
		case bool:
			out[len(out)-1].Desc = it
		}
	}
	return out
}

func filterIs(want string) func(testing.TB, Query) {
	return func(tb testing.TB, q Query) {
		tb.Helper()
		if q.Filter == nil {
			tb.Fatalf("no filter, want %s", want)
		}
		if got := sexpr(q.Filter); got != want {
			tb.Errorf("filter %s, want %s", got, want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	cases := []queryCase{
		{"Empty", "", false, func(tb testing.TB, q Query) {
			if !reflect.DeepEqual(q, Query{Top: -1}) {
				tb.Errorf("ParseQuery(\"\") = %+v, want Query{Top: -1}", q)
			}
		}},
		{"OnlyAmpersands", "&&&", false, func(tb testing.TB, q Query) {
			if !reflect.DeepEqual(q, Query{Top: -1}) {
				tb.Errorf("got %+v", q)
			}
		}},
		{"All", "$filter=connectorName%20eq%20%27a%27&$orderby=machineName%20desc&$select=connectorName&$top=5&$skip=10&$count=true&$expand=*&$skiptoken=abc&$format=json",
			false, func(tb testing.TB, q Query) {
				want := Query{Filter: q.Filter, OrderBy: orderOf(propMachineName, true), Select: bits(propID, propConnectorName),
					Top: 5, Skip: 10, Count: true, SkipToken: "abc", HasSkipToken: true}
				if !reflect.DeepEqual(q, want) {
					tb.Errorf("got %+v, want %+v", q, want)
				}
				filterIs("(eq connectorName 'a')")(tb, q)
			}},
		// Percent-decoding, as real clients send it
		{"PercentEncoded", "$filter=connectorName%20eq%20%27a%2Cb%27", false, filterIs("(eq connectorName 'a,b')")},
		{"PlusIsSpace", "$filter=connectorName+eq+'x+y'", false, filterIs("(eq connectorName 'x y')")},
		{"EncodedPlusIsPlus", "$filter=enrollmentDateTime+eq+2024-06-15T10:00:00%2B01:00", false, filterIs("(eq enrollmentDateTime dto:2024-06-15T10:00:00+01:00)")},
		{"RawSemicolon", "$filter=connectorName%20eq%20'a;b'", false, filterIs("(eq connectorName 'a;b')")},
		{"RawSemicolonAndSpaces", "$filter=connectorName eq 'a;b'", false, filterIs("(eq connectorName 'a;b')")},
		{"EncodedAmpersand", "$filter=connectorName%20eq%20'a%26b'", false, filterIs("(eq connectorName 'a&b')")},
		{"EncodedEquals", "$filter=connectorName eq 'a=b'", false, filterIs("(eq connectorName 'a=b')")},
		{"EncodedQuoteEscape", "$filter=connectorName%20eq%20%27O%27%27Neil%27", false, filterIs("(eq connectorName 'O''Neil')")},
		{"EncodedUTF8", "$filter=connectorName%20eq%20%27zo%C3%AB%27", false, filterIs("(eq connectorName 'zoë')")},
		{"EncodedDollar", "%24filter=true", false, filterIs("true")},
		{"EncodedBrackets", "$filter=connectorName%20in%20%5B%22a%22%5D", false, filterIs("(in connectorName ['a'])")},
		// Names: with or without '$', any case
		{"NoDollar", "filter=true", false, filterIs("true")},
		{"UpperCase", "$FILTER=true", false, filterIs("true")},
		{"MixedCaseNoDollar", "Filter=true", false, filterIs("true")},
		{"NoDollarTop", "top=3&skip=4&count=TRUE&select=id&orderby=id&expand=*&format=JSON&skiptoken=t", false, func(tb testing.TB, q Query) {
			want := Query{Top: 3, Skip: 4, Count: true, Select: bits(propID), OrderBy: orderOf(propID), SkipToken: "t", HasSkipToken: true}
			if !reflect.DeepEqual(q, want) {
				tb.Errorf("got %+v, want %+v", q, want)
			}
		}},
		// Unknown non-$ parameters are ignored, even odd ones
		{"UnknownIgnored", "foo=bar&api-version=1&=x&novalue&$top=1", false, func(tb testing.TB, q Query) {
			if q.Top != 1 {
				tb.Errorf("Top = %d", q.Top)
			}
		}},
		{"UnsupportedOptionWithoutDollarIgnored", "apply=x&compute=y", false, func(tb testing.TB, q Query) {}},
		// Parameter aliases
		{"Alias", "$filter=connectorName%20eq%20@n&@n='x'", false, filterIs("(eq connectorName 'x')")},
		{"AliasBeforeFilter", "@n=%27x%27&$filter=connectorName eq @n", false, filterIs("(eq connectorName 'x')")},
		{"AliasEncodedAt", "$filter=connectorName eq %40n&%40n='x'", false, filterIs("(eq connectorName 'x')")},
		{"AliasList", "$filter=connectorName in @l&@l=('a','b')", false, filterIs("(in connectorName ['a' 'b'])")},
		{"AliasUnusedIgnored", "@n='x'&$top=1", false, func(tb testing.TB, q Query) {}},
		{"AliasRawSemicolon", "$filter=connectorName eq @n&@n='a;b'", false, filterIs("(eq connectorName 'a;b')")},
		// $top and $skip: 1*DIGIT, Int64 range
		{"TopZero", "$top=0", false, func(tb testing.TB, q Query) {
			if q.Top != 0 {
				tb.Errorf("Top = %d", q.Top)
			}
		}},
		{"TopMax", "$top=9223372036854775807&$skip=9223372036854775807", false, func(tb testing.TB, q Query) {
			if q.Top != 1<<63-1 || q.Skip != 1<<63-1 {
				tb.Errorf("Top, Skip = %d, %d", q.Top, q.Skip)
			}
		}},
		{"TopLeadingZeros", "$top=007", false, func(tb testing.TB, q Query) {
			if q.Top != 7 {
				tb.Errorf("Top = %d", q.Top)
			}
		}},
		{"CountFalse", "$count=False", false, func(tb testing.TB, q Query) {
			if q.Count {
				tb.Error("Count = true")
			}
		}},
		{"ExpandStarSpaces", "$expand=%20*%20", false, func(tb testing.TB, q Query) {}},
		{"EmptySkipToken", "$skiptoken=", false, func(tb testing.TB, q Query) {
			if !q.HasSkipToken || q.SkipToken != "" {
				tb.Errorf("SkipToken %q, HasSkipToken %v", q.SkipToken, q.HasSkipToken)
			}
		}},
		{"SkipTokenDecoded", "$skiptoken=a%2Bb+c", false, func(tb testing.TB, q Query) {
			if q.SkipToken != "a+b c" {
				tb.Errorf("SkipToken %q", q.SkipToken)
			}
		}},
		{"FormatApplicationJSON", "$format=application/json", false, func(tb testing.TB, q Query) {}},
		// A single entity: $select, $expand, $format
		{"EntitySelect", "$select=connectorName,machineName&$expand=*&$format=json&@a=1&foo=bar", true, func(tb testing.TB, q Query) {
			if q.Select != bits(propID, propConnectorName, propMachineName) {
				tb.Errorf("Select = %#b", q.Select)
			}
		}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, err := ParseQuery(connType, tt.raw, target(tt.forEntity))
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tt.raw, err)
			}
			tt.check(t, q)
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, raw string
		forEntity bool
		msg       string
	}{
		{"UnknownDollarOption", "$foo=1", false, "The query parameter '$foo' is not supported."},
		{"UnsupportedSystemOption", "$apply=groupby((id))", false, "The query parameter '$apply' is not supported."},
		{"DollarOnly", "$=1", false, "The query parameter '$' is not supported."},
		{"DoubleDollar", "$$filter=true", false, "The query parameter '$$filter' is not supported."},
		{"DuplicateSame", "$top=1&$top=2", false, "The query option '$top' is given more than once (as '$top' and '$top')."},
		{"DuplicateWithAndWithoutDollar", "$filter=true&filter=false", false, "The query option '$filter' is given more than once (as '$filter' and 'filter')."},
		{"DuplicateCase", "$select=id&$SELECT=id", false, "The query option '$select' is given more than once"},
		{"DuplicateEmpty", "$skiptoken=&$skiptoken=", false, "The query option '$skiptoken' is given more than once"},
		{"DuplicateAlias", "@n=1&@n=2", false, "The parameter alias '@n' is given more than once."},
		{"BadAliasName", "@1=x", false, "The parameter alias name '@1' is not valid"},
		{"EmptyAliasName", "@=x", false, "The parameter alias name '@' is not valid"},
		{"BadPercentName", "$fil%zzter=true", false, "The query string is malformed: the parameter name '$fil%zzter' has an invalid percent-encoding."},
		{"BadPercentValue", "$filter=connectorName%2", false, "The query string is malformed: the value of the parameter '$filter' has an invalid percent-encoding."},
		{"BadPercentIgnoredParam", "foo=%zz", false, "invalid percent-encoding"},
		{"Search", "$search=foo", false, "The query option $search is not supported on this resource."},
		{"SearchNoDollar", "search=%22foo%22", false, "The query option $search is not supported on this resource."},
		{"SearchOnEntity", "$search=foo", true, "The query option $search is not supported on this resource."},
		// $top and $skip
		{"TopNegative", "$top=-1", false, "The value '-1' of $top is not valid: it must be a non-negative integer."},
		{"TopText", "$top=abc", false, "The value 'abc' of $top is not valid"},
		{"TopEmpty", "$top=", false, "The value '' of $top is not valid"},
		{"TopNoValue", "$top", false, "The value '' of $top is not valid"},
		{"TopPlus", "$top=%2B5", false, "The value '+5' of $top is not valid"},
		{"TopSpace", "$top=+5", false, "The value ' 5' of $top is not valid"},
		{"TopDecimal", "$top=5.0", false, "The value '5.0' of $top is not valid"},
		{"TopHuge", "$top=9223372036854775808", false, "The value '9223372036854775808' of $top is out of range: it must be at most 9223372036854775807."},
		{"TopAlias", "$top=@t&@t=5", false, "The value '@t' of $top is not valid"},
		{"SkipNegative", "$skip=-5", false, "The value '-5' of $skip is not valid"},
		{"SkipHuge", "$skip=99999999999999999999999", false, "of $skip is out of range"},
		// $count
		{"CountYes", "$count=yes", false, "The value 'yes' of $count is not valid: it must be true or false."},
		{"CountOne", "$count=1", false, "The value '1' of $count is not valid"},
		{"CountEmpty", "$count=", false, "The value '' of $count is not valid"},
		// $expand
		{"ExpandUnknown", "$expand=manager", false, "Could not find a property named 'manager' on type 'microsoft.graph.certificateConnectorDetails'."},
		{"ExpandStructural", "$expand=connectorName", false, "Property 'connectorName' on type 'microsoft.graph.certificateConnectorDetails' is not a navigation property or complex property. Only navigation properties can be expanded."},
		{"ExpandStarAndName", "$expand=*,manager", false, "Could not find a property named 'manager'"},
		{"ExpandStarLevels", "$expand=*($levels=2)", false, "Could not find a property named '*($levels=2)'"},
		{"ExpandEmpty", "$expand=", false, "The value of $expand is empty."},
		{"ExpandEmptyItem", "$expand=*,", false, "The $expand list '*,' has an empty item."},
		// $format
		{"FormatXML", "$format=xml", false, "The value 'xml' of $format is not supported: only json is."},
		{"FormatAtom", "$format=atom", false, "of $format is not supported"},
		{"FormatJSONWithParameters", "$format=application/json;odata.metadata=full", false, "of $format is not supported"},
		// The options' own parsers
		{"FilterError", "$filter=connectorName%20eq%205", false, "Found operand types 'Edm.String' and 'Edm.Int32' for operator kind 'eq'"},
		{"FilterEmpty", "$filter=", false, "The $filter expression is empty."},
		{"FilterAliasUndefined", "$filter=connectorName%20eq%20@n", false, "The parameter alias '@n' is not defined"},
		{"FilterRawSemicolonNotDropped", "$filter=connectorName eq 'a;b", false, "the string literal is not terminated"},
		{"FilterPlusUnencodedInOffset", "$filter=enrollmentDateTime+eq+2024-06-15T10:00:00+01:00", false, "has no offset"},
		{"OrderByError", "$orderby=foo", false, "Could not find a property named 'foo'"},
		{"SelectError", "$select=foo", false, "Could not find a property named 'foo'"},
		{"FirstErrorWins", "$select=foo&$orderby=bar", false, "named 'foo'"},
		// A single entity
		{"EntityFilter", "$filter=true", true, "The query option '$filter' is not supported when addressing a single entity; only $select and $expand apply."},
		{"EntityFilterNoDollar", "filter=true", true, "The query option '$filter' is not supported when addressing a single entity"},
		{"EntityOrderBy", "$orderby=id", true, "The query option '$orderby' is not supported when addressing a single entity"},
		{"EntityTop", "$top=1", true, "The query option '$top' is not supported"},
		{"EntitySkip", "$skip=1", true, "The query option '$skip' is not supported"},
		{"EntityCount", "$count=true", true, "The query option '$count' is not supported"},
		{"EntitySkipToken", "$skiptoken=x", true, "The query option '$skiptoken' is not supported"},
		{"EntitySelectError", "$select=foo", true, "Could not find a property named 'foo'"},
		{"EntityUnknownDollar", "$foo=1", true, "The query parameter '$foo' is not supported."},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, err := ParseQuery(connType, tt.raw, target(tt.forEntity))
			if err == nil {
				t.Fatalf("ParseQuery(%q, %v) = %+v, want an error containing %q", tt.raw, tt.forEntity, q, tt.msg)
			}
			checkInvalid(t, err, CodeBadRequest, tt.msg)
		})
	}
}

// Go's url.ParseQuery drops a parameter with a raw ';', which is why ParseQuery splits the query itself. If the
// standard library ever changes, this test says so, and the reason for the hand-written split is gone.
func TestURLParseQueryDropsSemicolon(t *testing.T) {
	t.Parallel()
	raw := "$filter=connectorName%20eq%20'a;b'&$top=1"
	v, err := url.ParseQuery(raw)
	if err == nil || v.Has("$filter") {
		t.Errorf("url.ParseQuery(%q) = %v, %v: it no longer drops the parameter", raw, v, err)
	}
	q, err := ParseQuery(connType, raw, ForCollection)
	if err != nil {
		t.Fatal(err)
	}
	filterIs("(eq connectorName 'a;b')")(t, q)
	if q.Top != 1 {
		t.Errorf("Top = %d", q.Top)
	}
}

// /$count takes $filter (and $search, $expand, $format, $count); $top, $skip, $orderby, $select and $skiptoken
// are refused, since OData leaves their meaning with /$count undefined.
func TestParseQueryForCount(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, raw string
		t         *EntityType
		msg       string // "" when accepted
	}{
		{"Filter", "$filter=connectorName%20eq%20'a'", connType, ""},
		{"FilterNoDollar", "filter=true&$expand=*&$format=json&$count=true&@a=1&foo=bar", connType, ""},
		{"FilterEnum", "$filter=intendedPurpose eq 'VPN'", pfxType, ""},
		{"Empty", "", connType, ""},
		{"Top", "$top=1", connType, "The query option '$top' cannot be combined with /$count, which counts the entities $filter selects."},
		{"TopZero", "top=0", connType, "The query option '$top' cannot be combined with /$count"},
		{"Skip", "$filter=true&$skip=1", connType, "The query option '$skip' cannot be combined with /$count"},
		{"OrderBy", "$orderby=connectorName", connType, "The query option '$orderby' cannot be combined with /$count"},
		{"OrderByInvalid", "$orderby=nope", connType, "The query option '$orderby' cannot be combined with /$count"},
		{"Select", "$SELECT=id", connType, "The query option '$select' cannot be combined with /$count"},
		{"SkipToken", "$skiptoken=x", pfxType, "The query option '$skiptoken' cannot be combined with /$count"},
		{"Search", "$search=x", connType, "The query option $search is not supported on this resource."},
		{"FilterError", "$filter=connectorName eq 1", connType, "incompatible types"},
		{"UnknownDollar", "$foo=1", connType, "The query parameter '$foo' is not supported."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, err := ParseQuery(tt.t, tt.raw, ForCount)
			if tt.msg != "" {
				checkInvalid(t, err, CodeBadRequest, tt.msg)
				return
			}
			if err != nil {
				t.Fatalf("ParseQuery(%q, ForCount): %v", tt.raw, err)
			}
			if q.Top != -1 || q.Skip != 0 || q.OrderBy != nil || q.Select != 0 || q.HasSkipToken {
				t.Errorf("q = %+v", q)
			}
			if strings.Contains(tt.raw, "filter") && q.Filter == nil {
				t.Error("no filter")
			}
			// The same query is fine for the collection too.
			if _, err := ParseQuery(tt.t, tt.raw, ForCollection); err != nil {
				t.Errorf("ForCollection: %v", err)
			}
		})
	}
}

// Queries over userPFXCertificates: enums, $orderby expressions and the secrets.
func TestParseQueryUserPfx(t *testing.T) {
	t.Parallel()
	q, err := ParseQuery(pfxType, "$filter=tolower(userPrincipalName)%20eq%20'u@x'%20and%20intendedPurpose%20eq%20'SmimeEncryption'"+
		"&$orderby=length(thumbprint)%20desc,intendedPurpose&$select=thumbprint,encryptedPfxBlob&$top=2", ForCollection)
	if err != nil {
		t.Fatal(err)
	}
	filterIs("(and (eq (tolower userPrincipalName) 'u@x') (eq intendedPurpose "+purposeSMIME+"))")(t, q)
	if got := showOrder(q.OrderBy); got != "(length thumbprint) desc, intendedPurpose" {
		t.Errorf("orderby %s", got)
	}
	if q.Select != bits(0, pfxProp("thumbprint"), pfxProp("encryptedPfxBlob")) || q.Top != 2 {
		t.Errorf("q = %+v", q)
	}
	for _, raw := range []string{"$filter=encryptedPfxPassword eq 'x'", "$orderby=encryptedPfxBlob", "$filter=connectorName eq 'x'",
		"$expand=thumbprint"} {
		if _, err := ParseQuery(pfxType, raw, ForCollection); ErrorKind(err) != KindInvalid {
			t.Errorf("ParseQuery(%q): %v", raw, err)
		}
	}
	if _, err := ParseQuery(pfxType, "$select=encryptedPfxPassword", ForEntity); err != nil {
		t.Errorf("selecting a secret: %v", err)
	}
}
