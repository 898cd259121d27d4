package odata

import (
	"slices"
	"testing"
)

// evalRows are the rows the evaluator's tables run against.
func evalRows(tb testing.TB) (seed, empty, unicode Connector) {
	tb.Helper()
	seed = Connector{
		ID:                  seedKey,
		ConnectorName:       Str("Connector Name value"),
		MachineName:         Str("Machine Name value"),
		EnrollmentDateTime:  mustParseDateTimeOffset(tb, "2016-12-31T23:57:59.3726057-08:00"),
		LastCheckinDateTime: mustParseDateTimeOffset(tb, "2017-01-01T00:02:46.0431416-08:00"),
		ConnectorVersion:    Str("Connector Version value"),
	}
	empty = Connector{ID: otherKey} // every nullable property null, the timestamps 0001-01-01T00:00:00Z
	unicode = Connector{
		ID:                  "ffffffff-0000-4000-8000-000000000000",
		ConnectorName:       Str("zoë😀x"),
		MachineName:         Str("  ÉCOLE straße  "),
		EnrollmentDateTime:  mustParseDateTimeOffset(tb, "2024-02-29T00:30:00+14:00"),
		LastCheckinDateTime: mustParseDateTimeOffset(tb, "9999-12-31T23:59:59.9999999Z"),
		ConnectorVersion:    Str(""),
	}
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
			c    *Connector
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
		// The two examples: not over a comparison selects null rows, not over a function does not.
		{"not (connectorName eq 'x')", "true", "true", "true"},
		{"not connectorName eq 'x'", "true", "true", "true"},
		{"not contains(connectorName,'x')", "true", "null", "false"},
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
	ed := &PropertyRef{Prop: PropEnrollmentDateTime}
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
	if v := call(FnLength, &PropertyRef{Prop: PropMachineName}); v.Kind != KindInt || v.Int != 18 {
		t.Errorf("length = %+v", v)
	}
	if v := Eval(&PropertyRef{Prop: PropConnectorName}, &seed, now); v.Null || v.Str != "Connector Name value" {
		t.Errorf("connectorName = %+v", v)
	}
	if !Match(nil, &seed, now) {
		t.Error("a nil filter does not match")
	}
}

// CompareOrder is OData's ordering: nulls first ascending, last descending, then id.
func TestCompareOrder(t *testing.T) {
	t.Parallel()
	row := func(id string, name NullString, ed string) Connector {
		return Connector{ID: id, ConnectorName: name, EnrollmentDateTime: mustParseDateTimeOffset(t, ed)}
	}
	rows := []Connector{
		row("5", Str("b"), "2024-01-01T00:00:00Z"),
		row("4", NullString{}, "2024-01-01T01:00:00+01:00"), // the same instant as 5's
		row("3", Str("a"), "2023-01-01T00:00:00Z"),
		row("2", Str("b"), "2025-01-01T00:00:00Z"),
		row("1", NullString{}, "2022-01-01T00:00:00Z"),
	}
	ids := func(order []OrderBy) string {
		s := slices.Clone(rows)
		slices.SortFunc(s, func(a, b Connector) int { return CompareOrder(&a, &b, order) })
		out := ""
		for _, c := range s {
			out += c.ID
		}
		return out
	}
	for _, tt := range []struct {
		order []OrderBy
		want  string
	}{
		{nil, "12345"},
		{[]OrderBy{{Prop: PropConnectorName}}, "14325"},
		{[]OrderBy{{Prop: PropConnectorName, Desc: true}}, "25314"},
		{[]OrderBy{{Prop: PropEnrollmentDateTime}}, "13452"},
		{[]OrderBy{{Prop: PropEnrollmentDateTime, Desc: true}}, "24531"},
		{[]OrderBy{{Prop: PropConnectorName, Desc: true}, {Prop: PropEnrollmentDateTime, Desc: true}}, "25341"},
		{[]OrderBy{{Prop: PropID, Desc: true}}, "54321"},
	} {
		if got := ids(tt.order); got != tt.want {
			t.Errorf("order %+v: %s, want %s", tt.order, got, tt.want)
		}
	}
}
