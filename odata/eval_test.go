package odata

import (
	"slices"
	"testing"
)

// evalRows are the rows the evaluator's tables run against.
func evalRows(tb testing.TB) (seed, empty, unicode Entity) {
	tb.Helper()
	seed = connector(seedKey, map[string]Value{
		"connectorName":       Str("Connector Name value"),
		"machineName":         Str("Machine Name value"),
		"enrollmentDateTime":  Time(mustParseDateTimeOffset(tb, "2016-12-31T23:57:59.3726057-08:00")),
		"lastCheckinDateTime": Time(mustParseDateTimeOffset(tb, "2017-01-01T00:02:46.0431416-08:00")),
		"connectorVersion":    Str("Connector Version value"),
	})
	empty = connector(otherKey, nil) // every nullable property null, the timestamps 0001-01-01T00:00:00Z
	unicode = connector("ffffffff-0000-4000-8000-000000000000", map[string]Value{
		"connectorName":       Str("zoë😀x"),
		"machineName":         Str("  ÉCOLE straße  "),
		"enrollmentDateTime":  Time(mustParseDateTimeOffset(tb, "2024-02-29T00:30:00+14:00")),
		"lastCheckinDateTime": Time(mustParseDateTimeOffset(tb, "9999-12-31T23:59:59.9999999Z")),
		"connectorVersion":    Str(""),
	})
	return
}

func show3(v Value3) string {
	switch {
	case v.Null:
		return "null"
	case v.Kind != KindBoolean:
		return "non-Boolean"
	case v.Bool:
		return "true"
	}
	return "false"
}

type evalCase struct {
	filter           string
	seed, empty, uni string // "true", "false" or "null" for each row
}

func runEval(t *testing.T, cases []evalCase) {
	t.Helper()
	seed, empty, uni := evalRows(t)
	now := mustParseDateTimeOffset(t, "2025-06-15T12:00:00Z")
	for _, tt := range cases {
		e := parseFilterOK(t, tt.filter, nil)
		for _, row := range []struct {
			name string
			c    *Entity
			want string
		}{{"seed", &seed, tt.seed}, {"empty", &empty, tt.empty}, {"unicode", &uni, tt.uni}} {
			v := Eval(e, row.c, now)
			if got := show3(v); got != row.want {
				t.Errorf("%s on the %s row = %s, want %s", tt.filter, row.name, got, row.want)
			}
			if Match(e, row.c, now) != (row.want == "true") {
				t.Errorf("Match(%s) on the %s row disagrees with Eval", tt.filter, row.name)
			}
			if v.Null && !e.Nullable() {
				t.Errorf("%s is null on the %s row, but Nullable() says it cannot be", tt.filter, row.name)
			}
		}
	}
}

// Kleene logic for and/or/not, over every pair of true, false and null.
func TestEvalLogicTruthTables(t *testing.T) {
	t.Parallel()
	vals := []string{"true", "false", "null"}
	and := map[[2]string]string{
		{"true", "true"}: "true", {"true", "false"}: "false", {"true", "null"}: "null",
		{"false", "true"}: "false", {"false", "false"}: "false", {"false", "null"}: "false",
		{"null", "true"}: "null", {"null", "false"}: "false", {"null", "null"}: "null",
	}
	or := map[[2]string]string{
		{"true", "true"}: "true", {"true", "false"}: "true", {"true", "null"}: "true",
		{"false", "true"}: "true", {"false", "false"}: "false", {"false", "null"}: "null",
		{"null", "true"}: "true", {"null", "false"}: "null", {"null", "null"}: "null",
	}
	not := map[string]string{"true": "false", "false": "true", "null": "null"}
	var cases []evalCase
	for _, l := range vals {
		for _, r := range vals {
			a, o := and[[2]string{l, r}], or[[2]string{l, r}]
			cases = append(cases, evalCase{l + " and " + r, a, a, a}, evalCase{l + " or " + r, o, o, o})
		}
		cases = append(cases, evalCase{"not " + l, not[l], not[l], not[l]})
	}
	// The same through expressions that are null only on some rows: contains(connectorName,…) is null on empty.
	cases = append(cases,
		evalCase{"contains(connectorName,'x') and false", "false", "false", "false"},
		evalCase{"contains(connectorName,'x') and true", "false", "null", "true"},
		evalCase{"contains(connectorName,'x') or true", "true", "true", "true"},
		evalCase{"contains(connectorName,'x') or false", "false", "null", "true"},
		evalCase{"not (contains(connectorName,'x') and true)", "true", "null", "false"},
	)
	runEval(t, cases)
}

// Comparisons are two-valued: null eq null is true, and an ordering comparison with null is false.
func TestEvalNullComparisons(t *testing.T) {
	t.Parallel()
	runEval(t, []evalCase{
		{"null eq null", "true", "true", "true"},
		{"null ne null", "false", "false", "false"},
		{"null gt null", "false", "false", "false"},
		{"null ge null", "false", "false", "false"},
		{"null lt null", "false", "false", "false"},
		{"null le null", "false", "false", "false"},
		{"connectorName eq null", "false", "true", "false"},
		{"connectorName ne null", "true", "false", "true"},
		{"null eq connectorName", "false", "true", "false"},
		{"connectorName eq 'x'", "false", "false", "false"},
		{"connectorName ne 'x'", "true", "true", "true"},
		{"connectorName gt ''", "true", "false", "true"},
		{"connectorName ge null", "false", "false", "false"},
		{"connectorName lt 'zzzz'", "true", "false", "true"},
		{"connectorName le null", "false", "false", "false"},
		{"enrollmentDateTime gt null", "false", "false", "false"},
		{"enrollmentDateTime ne null", "true", "true", "true"},
		// not over a comparison selects null rows, not over a function does not.
		{"not (connectorName eq 'x')", "true", "true", "true"},
		{"not contains(connectorName,'x')", "true", "null", "false"},
		{"not contains(connectorName,'x') eq true", "true", "false", "false"},
		{"contains(connectorName,'x') eq false", "true", "false", "false"},
		{"contains(connectorName,'x') ne true", "true", "true", "false"},
		{"not (length(connectorName) gt 3)", "false", "true", "false"},
		{"tolower(connectorName) ne 'a'", "true", "true", "true"},
		// Functions return null on a null argument.
		{"length(connectorName) eq null", "false", "true", "false"},
		{"concat(connectorName,'x') eq null", "false", "true", "false"},
		{"concat('x',connectorName) eq null", "false", "true", "false"},
		{"substring(connectorName,1) eq null", "false", "true", "false"},
		{"substring('abc',null) eq null", "true", "true", "true"},
		{"substring('abc',1,null) eq null", "true", "true", "true"},
		{"indexof(connectorName,null) eq null", "true", "true", "true"},
		{"contains(null,null)", "null", "null", "null"},
		{"year(null) eq null", "true", "true", "true"},
		{"trim(connectorVersion) eq null", "false", "true", "false"},
		// in is eq against each element.
		{"connectorName in ('a',null)", "false", "true", "false"},
		{"connectorName in ('a')", "false", "false", "false"},
		{"not (connectorName in ('a'))", "true", "true", "true"},
		{"connectorName in ()", "false", "false", "false"},
		{"null in (null)", "true", "true", "true"},
		{"null in ('a',1)", "false", "false", "false"},
		{"connectorName in ('Connector Name value','zoë😀x')", "true", "false", "true"},
	})
}

func TestEvalStrings(t *testing.T) {
	t.Parallel()
	runEval(t, []evalCase{
		// Case-sensitive matching.
		{"contains(connectorName,'Name')", "true", "null", "false"},
		{"contains(connectorName,'name')", "false", "null", "false"},
		{"startswith(connectorName,'Conn')", "true", "null", "false"},
		{"endswith(connectorName,'value')", "true", "null", "false"},
		{"contains(connectorName,'')", "true", "null", "true"},
		{"contains(connectorName,'😀')", "false", "null", "true"},
		// Code points, not bytes or UTF-16 units.
		{"length(connectorName) eq 20", "true", "false", "false"},
		{"length(connectorName) eq 5", "false", "false", "true"},
		{"length(connectorVersion) eq 0", "false", "false", "true"},
		{"indexof(connectorName,'x') eq 4", "false", "false", "true"},
		{"indexof(connectorName,'N') eq 10", "true", "false", "false"},
		{"indexof(connectorName,'') eq 0", "true", "false", "true"},
		{"indexof(connectorName,'nope') eq -1", "true", "false", "true"},
		{"substring(connectorName,2) eq 'ë😀x'", "false", "false", "true"},
		{"substring(connectorName,3,1) eq '😀'", "false", "false", "true"},
		{"substring(connectorName,-1) eq 'x'", "false", "false", "true"},
		{"substring(connectorName,-2,1) eq '😀'", "false", "false", "true"},
		{"substring(connectorName,100) eq ''", "true", "false", "true"},
		{"substring(connectorName,0,indexof(connectorName,'q')) eq ''", "true", "false", "true"},
		{"substring(connectorName,0,100) eq connectorName", "true", "true", "true"},
		// Unicode-aware case mapping (simple, one code point to one).
		{"tolower(connectorName) eq 'connector name value'", "true", "false", "false"},
		{"toupper(connectorName) eq 'CONNECTOR NAME VALUE'", "true", "false", "false"},
		{"tolower(machineName) eq '  école straße  '", "false", "false", "true"},
		{"toupper(machineName) eq '  ÉCOLE STRASSE  '", "false", "false", "false"},
		{"toupper(machineName) eq '  ÉCOLE STRAßE  '", "false", "false", "true"},
		{"toupper(connectorName) eq 'ZOË😀X'", "false", "false", "true"},
		// trim removes spaces only.
		{"trim(machineName) eq 'ÉCOLE straße'", "false", "false", "true"},
		{"trim(' a ') eq 'a'", "true", "true", "true"},
		{"trim('\ta\t') eq '\ta\t'", "true", "true", "true"},
		{"trim('   ') eq ''", "true", "true", "true"},
		{"concat(connectorName,'!') eq 'zoë😀x!'", "false", "false", "true"},
		{"concat(concat(connectorName,' '),machineName) eq 'Connector Name value Machine Name value'", "true", "false", "false"},
		// Ordinal (code point) ordering.
		{"'Z' lt 'a'", "true", "true", "true"},
		{"'a' lt 'b'", "true", "true", "true"},
		{"'é' gt 'z'", "true", "true", "true"},
		{"'ｚ' lt '😀'", "true", "true", "true"}, // U+FF5A before U+1F600; UTF-16 order would differ
		{"'ab' gt 'a'", "true", "true", "true"},
		{"'' lt 'a'", "true", "true", "true"},
		{"connectorName gt 'Connector'", "true", "false", "true"},
		{"connectorName ge 'Connector Name value'", "true", "false", "true"},
		{"connectorName le 'Connector Name value'", "true", "false", "false"},
		{"id eq '" + seedKey + "'", "true", "false", "false"},
	})
}

func TestEvalDateTimes(t *testing.T) {
	t.Parallel()
	runEval(t, []evalCase{
		// Parts in the value's own offset: the seed's 2016-12-31T23:57:59.3726057-08:00 is 2017 in UTC.
		{"year(enrollmentDateTime) eq 2016", "true", "false", "false"},
		{"month(enrollmentDateTime) eq 12", "true", "false", "false"},
		{"day(enrollmentDateTime) eq 31", "true", "false", "false"},
		{"hour(enrollmentDateTime) eq 23", "true", "false", "false"},
		{"minute(enrollmentDateTime) eq 57", "true", "false", "false"},
		{"second(enrollmentDateTime) eq 59", "true", "false", "false"},
		{"fractionalseconds(enrollmentDateTime) eq 0.3726057", "true", "false", "false"},
		{"fractionalseconds(enrollmentDateTime) eq 3726057e-7", "true", "false", "false"},
		{"fractionalseconds(enrollmentDateTime) gt 0.3726056", "true", "false", "false"},
		{"fractionalseconds(enrollmentDateTime) lt 1", "true", "true", "true"},
		{"fractionalseconds(enrollmentDateTime) eq 0", "false", "true", "true"},
		{"totaloffsetminutes(enrollmentDateTime) eq -480", "true", "false", "false"},
		{"totaloffsetminutes(enrollmentDateTime) eq 840", "false", "false", "true"},
		{"totaloffsetminutes(enrollmentDateTime) eq 0", "false", "true", "false"},
		{"date(enrollmentDateTime) eq 2016-12-31", "true", "false", "false"},
		{"date(enrollmentDateTime) eq 2024-02-29", "false", "false", "true"},
		{"date(enrollmentDateTime) eq 0001-01-01", "false", "true", "false"},
		{"time(enrollmentDateTime) eq 23:57:59.3726057", "true", "false", "false"},
		{"time(enrollmentDateTime) eq 00:30", "false", "false", "true"},
		{"time(enrollmentDateTime) lt 00:00:00.0000001", "false", "true", "false"},
		{"year(lastCheckinDateTime) eq 2017 and day(lastCheckinDateTime) eq 1 and hour(lastCheckinDateTime) eq 0", "true", "false", "false"},
		{"year(lastCheckinDateTime) eq 9999 and second(lastCheckinDateTime) eq 59", "false", "false", "true"},
		{"fractionalseconds(lastCheckinDateTime) eq 0.9999999", "false", "false", "true"},
		// Instants compare at 100 ns, whatever the offset.
		{"enrollmentDateTime eq 2017-01-01T07:57:59.3726057Z", "true", "false", "false"},
		{"enrollmentDateTime eq 2017-01-01T09:57:59.3726057+02:00", "true", "false", "false"},
		{"enrollmentDateTime lt 2017-01-01T07:57:59.3726058Z", "true", "true", "false"},
		{"enrollmentDateTime gt 2017-01-01T07:57:59.3726056Z", "true", "false", "true"},
		{"enrollmentDateTime eq 0001-01-01T00:00:00Z", "false", "true", "false"},
		{"enrollmentDateTime in (2017-01-01T07:57:59.3726057Z,2024-02-28T10:30:00Z)", "true", "false", "true"},
		{"lastCheckinDateTime gt enrollmentDateTime", "true", "false", "true"},
		{"enrollmentDateTime lt now()", "true", "true", "true"},
		{"lastCheckinDateTime lt now()", "true", "true", "false"},
		{"year(now()) eq 2025", "true", "true", "true"},
		{"date(now()) eq 2025-06-15 and time(now()) eq 12:00", "true", "true", "true"},
	})
}

func TestEvalNumbersAndLiterals(t *testing.T) {
	t.Parallel()
	runEval(t, []evalCase{
		{"length(connectorName) eq 20.0", "true", "false", "false"},
		{"length(connectorName) lt 2e1", "false", "false", "true"},
		{"length(connectorName) gt 1.99e1", "true", "false", "false"},
		{"length(connectorName) in (19,20.0)", "true", "false", "false"},
		{"1 lt 1.5", "true", "true", "true"},
		{"-1 lt -0.5", "true", "true", "true"},
		{"0.1 eq 1e-1", "true", "true", "true"},
		{"9223372036854775807 gt 9223372036854775806.5", "true", "true", "true"},
		{"-9223372036854775808 lt -9223372036854775807", "true", "true", "true"},
		{"true gt false", "true", "true", "true"},
		{"true eq true", "true", "true", "true"},
		{"2024-01-01 lt 2024-01-02", "true", "true", "true"},
		{"12:00 gt 11:59:59.9999999", "true", "true", "true"},
		{"'a' eq 'a'", "true", "true", "true"},
		{"true", "true", "true", "true"},
		{"null", "null", "null", "null"},
	})
}

func TestSubstringFunc(t *testing.T) {
	t.Parallel()
	const minInt64, maxInt64 = -1 << 63, 1<<63 - 1
	for _, tt := range []struct {
		s             string
		start, length int64
		hasLength     bool
		want          string
	}{
		{"abcdef", 0, 0, false, "abcdef"},
		{"abcdef", 1, 0, false, "bcdef"},
		{"abcdef", 5, 0, false, "f"},
		{"abcdef", 6, 0, false, ""},
		{"abcdef", 7, 0, false, ""},
		{"abcdef", maxInt64, 0, false, ""},
		{"abcdef", -1, 0, false, "f"},
		{"abcdef", -6, 0, false, "abcdef"},
		{"abcdef", -10, 0, false, "abcdef"},
		{"abcdef", minInt64, 0, false, "abcdef"},
		{"abcdef", 0, 2, true, "ab"},
		{"abcdef", 2, 100, true, "cdef"},
		{"abcdef", 2, maxInt64, true, "cdef"},
		{"abcdef", 2, 0, true, ""},
		{"abcdef", 2, -1, true, ""},
		{"abcdef", -2, 1, true, "e"},
		{"abcdef", 6, 1, true, ""},
		{"", 0, 0, false, ""},
		{"", 0, 5, true, ""},
		{"zoë😀x", 2, 2, true, "ë😀"},
		{"zoë😀x", 3, 0, false, "😀x"},
		{"zoë😀x", -2, 0, false, "😀x"},
	} {
		if got := substring(tt.s, tt.start, tt.length, tt.hasLength); got != tt.want {
			t.Errorf("substring(%q, %d, %d, %v) = %q, want %q", tt.s, tt.start, tt.length, tt.hasLength, got, tt.want)
		}
	}
}

func TestEvalValues(t *testing.T) {
	t.Parallel()
	seed, _, _ := evalRows(t)
	now := mustParseDateTimeOffset(t, "2025-06-15T12:00:00+02:00")
	call := func(fn Func, args ...Expr) Value3 { return Eval(&Call{Fn: fn, Args: args}, &seed, now) }
	ed := &PropertyRef{P: connType.MustProperty("enrollmentDateTime")}
	if v := call(FnNow); v.Kind != KindDateTimeOffset || v.Time != now {
		t.Errorf("now() = %+v, want %v", v, now)
	}
	if v := call(FnFractionalSeconds, ed); v.Kind != KindDecimal || v.Dec.RatString() != "3726057/10000000" {
		t.Errorf("fractionalseconds = %+v", v)
	}
	if v := call(FnDate, ed); v.Kind != KindDate || formatDate(v.Date) != "2016-12-31" {
		t.Errorf("date = %+v", v)
	}
	if v := call(FnTime, ed); v.Kind != KindTimeOfDay || formatTimeOfDay(v.Tod) != "23:57:59.3726057" {
		t.Errorf("time = %+v", v)
	}
	if v := call(FnLength, &PropertyRef{P: connType.MustProperty("machineName")}); v.Kind != KindInt || v.Int != 18 {
		t.Errorf("length = %+v", v)
	}
	if v := Eval(&PropertyRef{P: connType.MustProperty("connectorName")}, &seed, now); v.Null || v.Str != "Connector Name value" {
		t.Errorf("connectorName = %+v", v)
	}
	if !Match(nil, &seed, now) {
		t.Error("a nil filter does not match")
	}
}

// CompareOrder is OData's ordering: nulls first ascending, last descending, then the key in the direction of the
// last item (ascending without items), as the store's keyset paging reads it.
func TestCompareOrder(t *testing.T) {
	t.Parallel()
	row := func(id string, name Value, ed string) Entity {
		return connector(id, map[string]Value{"connectorName": name, "enrollmentDateTime": Time(mustParseDateTimeOffset(t, ed))})
	}
	rows := []Entity{
		row("5", Str("b"), "2024-01-01T00:00:00Z"),
		row("4", Null, "2024-01-01T01:00:00+01:00"), // the same instant as 5's
		row("3", Str("a"), "2023-01-01T00:00:00Z"),
		row("2", Str("B"), "2025-01-01T00:00:00Z"),
		row("1", Null, "2022-01-01T00:00:00Z"),
		row("6", Str("b"), "2022-06-01T00:00:00-08:00"),
	}
	now := mustParseDateTimeOffset(t, "2025-06-15T12:00:00Z")
	checkSorted(t, rows, now, []orderCase{
		{"None", "", "123456"},
		{"Name", "connectorName", "142356"},
		{"NameDescTiebreakDesc", "connectorName desc", "653241"},
		{"Enrolled", "enrollmentDateTime", "163452"},
		{"EnrolledDescTiebreakDesc", "enrollmentDateTime desc", "254361"},
		{"NameDescEnrolledDesc", "connectorName desc,enrollmentDateTime desc", "563241"},
		{"NameDescEnrolledAscTiebreakAsc", "connectorName desc,enrollmentDateTime", "653214"},
		{"IDDesc", "id desc", "654321"},
		{"Length", "length(connectorName),id", "142356"},
		{"LengthDesc", "length(connectorName) desc", "653241"},
		{"ToLower", "tolower(connectorName)", "143256"},
		{"ToLowerDescThenEnrolled", "tolower(connectorName) desc,enrollmentDateTime", "652314"},
		{"Year", "year(enrollmentDateTime) desc,connectorName", "245316"},
		{"Comparison", "connectorName eq 'b' desc", "654321"},
		{"Literal", "'x' desc", "654321"},
		{"Null", "null", "123456"},
	})
}

type orderCase struct{ name, orderby, want string }

// checkSorted sorts rows by each case's $orderby with CompareOrder and compares the keys in order.
func checkSorted(t *testing.T, rows []Entity, now DateTimeOffset, cases []orderCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var order []OrderBy
			if tt.orderby != "" {
				var err error
				if order, err = ParseOrderBy(rows[0].Type, tt.orderby, nil); err != nil {
					t.Fatal(err)
				}
			}
			s := slices.Clone(rows)
			slices.SortFunc(s, func(a, b Entity) int { return CompareOrder(&a, &b, order, now) })
			got := ""
			for _, c := range s {
				got += c.Key()[:1]
			}
			if got != tt.want {
				t.Errorf("$orderby=%s: %s, want %s", tt.orderby, got, tt.want)
			}
			for i := range s {
				if c := CompareOrder(&s[i], &s[i], order, now); c != 0 {
					t.Errorf("a row compares %d with itself", c)
				}
				for j := range s {
					if a, b := CompareOrder(&s[i], &s[j], order, now), CompareOrder(&s[j], &s[i], order, now); a != -b {
						t.Errorf("CompareOrder is not antisymmetric: %d, %d", a, b)
					}
				}
			}
		})
	}
}

// Enums order by value, not by name; Eval reads them as members of their type.
func TestEvalEnums(t *testing.T) {
	t.Parallel()
	row := func(key string, purpose, padding int64, blob Value) Entity {
		return entity(pfxType, key, map[string]Value{"intendedPurpose": Int(purpose), "paddingScheme": Int(padding),
			"thumbprint": Str(key), "userPrincipalName": Str("u@x"), "encryptedPfxBlob": blob})
	}
	rows := []Entity{
		row("1", 8, 5, Null),     // wifi, oaepSha512
		row("2", 1, 0, Str("")),  // smimeEncryption, none
		row("3", 4, 3, Str("x")), // vpn, oaepSha256
		row("4", 0, 5, Null),     // unassigned, oaepSha512
		row("5", 2, 1, Null),     // smimeSigning, pkcs1
	}
	now := mustParseDateTimeOffset(t, "2025-06-15T12:00:00Z")
	checkSorted(t, rows, now, []orderCase{
		{"Purpose", "intendedPurpose", "42531"},
		{"PurposeDesc", "intendedPurpose desc", "13524"},
		{"PaddingThenPurpose", "paddingScheme,intendedPurpose desc", "25314"},
		{"PaddingDescTiebreakDesc", "paddingScheme desc", "41352"},
		{"Comparison", "intendedPurpose ge 'vpn' desc,id", "13245"},
	})
	for _, tt := range []struct {
		filter string
		want   string // the keys of the matching rows
	}{
		{"intendedPurpose eq 'vpn'", "3"},
		{"intendedPurpose eq 'VPN' or intendedPurpose eq " + purposeSMIME, "23"},
		{"intendedPurpose gt 'smimeSigning'", "13"},
		{"intendedPurpose lt microsoft.graph.userPfxIntendedPurpose'smimeSigning'", "24"},
		{"intendedPurpose ne 'unassigned' and paddingScheme eq 'oaepSha512'", "1"},
		{"paddingScheme in ('none','pkcs1',null)", "25"},
		{"not (intendedPurpose in ('wifi','vpn'))", "245"},
		{"intendedPurpose eq null", ""},
		{"intendedPurpose ne null", "12345"},
		{"'wifi' eq intendedPurpose", "1"},
	} {
		t.Run(tt.filter, func(t *testing.T) {
			t.Parallel()
			e := parseFilterOKFor(t, pfxType, tt.filter, nil)
			got := ""
			for i := range rows {
				if Match(e, &rows[i], now) {
					got += rows[i].Key()
				}
			}
			if got != tt.want {
				t.Errorf("matches %q, want %q", got, tt.want)
			}
		})
	}
	v := Eval(&PropertyRef{P: pfxType.MustProperty("intendedPurpose")}, &rows[2], now)
	if v.Null || v.Kind != KindEnum || v.Int != 4 || v.Enum != pfxType.MustProperty("intendedPurpose").Enum {
		t.Errorf("intendedPurpose of row 3 = %+v", v)
	}
	blob := &PropertyRef{P: pfxType.MustProperty("encryptedPfxBlob")}
	for i, want := range []bool{true, false, false, true, true} {
		if got := Match(&Binary{Op: OpEq, Left: blob, Right: &Literal{LitKind: KindNull}}, &rows[i], now); got != want {
			t.Errorf("row %d: encryptedPfxBlob eq null = %v", i+1, got)
		}
	}
}
