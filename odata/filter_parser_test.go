package odata

import (
	"strings"
	"testing"
	"time"
)

// The $filter parser's tables follow the OData ABNF construction rules (4.01): each group names the rule it
// exercises. Inputs are percent-decoded expressions, as ParseQuery hands them over.

type filterCase struct {
	name    string
	filter  string
	aliases map[string]string
	want    string // sexpr of the AST, or a substring of the error message
}

func parseFilterOK(tb testing.TB, filter string, aliases map[string]string) Expr {
	tb.Helper()
	return parseFilterOKFor(tb, connType, filter, aliases)
}

func parseFilterOKFor(tb testing.TB, t *EntityType, filter string, aliases map[string]string) Expr {
	tb.Helper()
	e, err := ParseFilter(t, filter, aliases)
	if err != nil {
		tb.Fatalf("ParseFilter(%q): %v", filter, err)
	}
	return e
}

func runFilterOK(t *testing.T, cases []filterCase) {
	t.Helper()
	runFilterOKFor(t, connType, cases)
}

// runFilterOKFor runs cases over the properties of typ.
func runFilterOKFor(t *testing.T, typ *EntityType, cases []filterCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := parseFilterOKFor(t, typ, tt.filter, tt.aliases)
			if got := sexpr(e); got != tt.want {
				t.Errorf("ParseFilter(%q)\n got %s\nwant %s", tt.filter, got, tt.want)
			}
			// Every accepted tree is Boolean and renders back into a $filter that parses to the same tree.
			if !isBoolean(e) {
				t.Errorf("kind %s, want Boolean", typeName(e))
			}
			again := parseFilterOKFor(t, typ, odataText(e), nil)
			if sexpr(again) != sexpr(e) {
				t.Errorf("round trip through %q gives %s", odataText(e), sexpr(again))
			}
		})
	}
}

func runFilterErr(t *testing.T, cases []filterCase) {
	t.Helper()
	runFilterErrFor(t, connType, cases)
}

func runFilterErrFor(t *testing.T, typ *EntityType, cases []filterCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := ParseFilter(typ, tt.filter, tt.aliases)
			if err == nil {
				t.Fatalf("ParseFilter(%q) = %s, want an error containing %q", tt.filter, sexpr(e), tt.want)
			}
			checkInvalid(t, err, CodeBadRequest, tt.want)
		})
	}
}

const (
	cnA = "(eq connectorName 'a')"
	mnB = "(eq machineName 'b')"
	cvC = "(eq connectorVersion 'c')"
)

func TestParseFilterOperators(t *testing.T) {
	t.Parallel()
	runFilterOK(t, []filterCase{
		// eqExpr, neExpr, ltExpr, leExpr, gtExpr, geExpr
		{"Eq", "connectorName eq 'a'", nil, cnA},
		{"Ne", "connectorName ne 'a'", nil, "(ne connectorName 'a')"},
		{"Gt", "enrollmentDateTime gt 2024-01-01T00:00:00Z", nil, "(gt enrollmentDateTime dto:2024-01-01T00:00:00Z)"},
		{"Ge", "connectorName ge 'a'", nil, "(ge connectorName 'a')"},
		{"Lt", "lastCheckinDateTime lt enrollmentDateTime", nil, "(lt lastCheckinDateTime enrollmentDateTime)"},
		{"Le", "id le 'f'", nil, "(le id 'f')"},
		{"LiteralLeft", "'a' eq connectorName", nil, "(eq 'a' connectorName)"},
		{"NoSpaceBeforeString", "connectorName eq'a'", nil, cnA},
		{"Tabs", "connectorName\teq\t'a'", nil, cnA},
		{"ManySpaces", "  connectorName   eq   'a'  ", nil, cnA},
		{"ComparisonChainLeftAssoc", "connectorName eq 'a' eq true", nil, "(eq " + cnA + " true)"},
		{"BooleanEqBoolean", "contains(connectorName,'a') ne false", nil, "(ne (contains connectorName 'a') false)"},
		// null
		{"EqNull", "connectorName eq null", nil, "(eq connectorName null)"},
		{"NullEqProperty", "null ne connectorName", nil, "(ne null connectorName)"},
		{"NullEqNull", "null eq null", nil, "(eq null null)"},
		{"GtNull", "enrollmentDateTime gt null", nil, "(gt enrollmentDateTime null)"},
		{"NullUpperCase", "connectorName eq NULL", nil, "(eq connectorName null)"},
		// boolCommonExpr: a literal alone
		{"True", "true", nil, "true"},
		{"FalseUpper", "FALSE", nil, "false"},
		{"Null", "null", nil, "null"},
		// andExpr, orExpr: precedence and associativity
		{"AndBindsTighterThanOr", "connectorName eq 'a' or machineName eq 'b' and connectorVersion eq 'c'", nil, "(or " + cnA + " (and " + mnB + " " + cvC + "))"},
		{"AndThenOr", "connectorName eq 'a' and machineName eq 'b' or connectorVersion eq 'c'", nil, "(or (and " + cnA + " " + mnB + ") " + cvC + ")"},
		{"OrLeftAssoc", "connectorName eq 'a' or machineName eq 'b' or connectorVersion eq 'c'", nil, "(or (or " + cnA + " " + mnB + ") " + cvC + ")"},
		{"AndLeftAssoc", "true and false and null", nil, "(and (and true false) null)"},
		// parenExpr
		{"ParensOverridePrecedence", "(connectorName eq 'a' or machineName eq 'b') and connectorVersion eq 'c'", nil, "(and (or " + cnA + " " + mnB + ") " + cvC + ")"},
		{"ParensWithSpaces", "( connectorName eq 'a' )", nil, cnA},
		{"NestedParens", "((((connectorName eq 'a'))))", nil, cnA},
		{"ParenthesisedOperand", "(connectorName) eq ('a')", nil, cnA},
		// notExpr: not is unary and binds tighter than the comparisons (OData 4.01 operator precedence)
		{"NotOfParenthesisedComparison", "not (connectorName eq 'a') and machineName eq 'b'", nil, "(and (not " + cnA + ") " + mnB + ")"},
		{"NotBindsTighterThanComparison", "not true eq false", nil, "(eq (not true) false)"},
		{"NotOfFunction", "not contains(connectorName,'a') and true", nil, "(and (not (contains connectorName 'a')) true)"},
		{"NotWithoutSpace", "not(contains(connectorName,'a'))", nil, "(not (contains connectorName 'a'))"},
		{"NotNot", "not not true", nil, "(not (not true))"},
		{"NotNull", "not null", nil, "(not null)"},
		{"NotIn", "not (connectorName in ('a'))", nil, "(not (in connectorName ['a']))"},
		{"NotOperandOfIn", "not true in (false)", nil, "(in (not true) [false])"},
		{"NotAsRightOperand", "true eq not false", nil, "(eq true (not false))"},
		{"NotAsRightOperandThenAnd", "true eq not false and true", nil, "(and (eq true (not false)) true)"},
		// 4.01: operators and keywords case-insensitive
		{"CaseInsensitive", "NOT(connectorName EQ 'a') AND machineName Ne 'b' oR TRUE", nil, "(or (and (not " + cnA + ") (ne machineName 'b')) true)"},
		{"UpperComparisons", "enrollmentDateTime GT 2024-01-01T00:00:00Z And lastCheckinDateTime LE 2025-01-01T00:00:00Z", nil,
			"(and (gt enrollmentDateTime dto:2024-01-01T00:00:00Z) (le lastCheckinDateTime dto:2025-01-01T00:00:00Z))"},
	})
}

func TestParseFilterLiterals(t *testing.T) {
	t.Parallel()
	runFilterOK(t, []filterCase{
		// stringLiteral = SQUOTE *( SQUOTE-in-string / pchar-no-SQUOTE ) SQUOTE
		{"StringEscapedQuote", "connectorName eq 'O''Neil'", nil, "(eq connectorName 'O''Neil')"},
		{"StringEmpty", "connectorName eq ''", nil, "(eq connectorName '')"},
		{"StringOnlyQuote", "connectorName eq ''''", nil, "(eq connectorName '''')"},
		{"StringTwoQuotes", "connectorName eq ''''''", nil, "(eq connectorName '''''')"},
		{"StringDelimiters", "connectorName eq 'a,b;c&d=e(f)[g]\"h'", nil, "(eq connectorName 'a,b;c&d=e(f)[g]\"h')"},
		{"StringKeywords", "connectorName eq 'eq and or not null'", nil, "(eq connectorName 'eq and or not null')"},
		{"StringUnicode", "connectorName eq 'zoë 日本 😀'", nil, "(eq connectorName 'zoë 日本 😀')"},
		{"StringSpaces", "connectorName eq '  a  '", nil, "(eq connectorName '  a  ')"},
		{"StringControl", "connectorName eq 'a\nb'", nil, "(eq connectorName 'a\nb')"},
		// int64Literal = [ SIGN ] 1*19DIGIT
		{"IntZero", "length(connectorName) eq 0", nil, "(eq (length connectorName) 0)"},
		{"IntNegative", "indexof(connectorName,'a') eq -1", nil, "(eq (indexof connectorName 'a') -1)"},
		{"IntPlusSign", "length(connectorName) eq +5", nil, "(eq (length connectorName) 5)"},
		{"IntLeadingZeros", "length(connectorName) eq 007", nil, "(eq (length connectorName) 7)"},
		{"IntMax", "length(connectorName) lt 9223372036854775807", nil, "(lt (length connectorName) 9223372036854775807)"},
		{"IntMin", "length(connectorName) gt -9223372036854775808", nil, "(gt (length connectorName) -9223372036854775808)"},
		{"IntEqInt", "1 eq 1", nil, "(eq 1 1)"},
		// decimalLiteral = [ SIGN ] 1*DIGIT [ "." 1*DIGIT ] [ "e" [ SIGN ] 1*DIGIT ]
		{"Decimal", "fractionalseconds(enrollmentDateTime) eq 0.5", nil, "(eq (fractionalseconds enrollmentDateTime) dec:0.5)"},
		{"DecimalNegative", "fractionalseconds(enrollmentDateTime) gt -0.25", nil, "(gt (fractionalseconds enrollmentDateTime) dec:-0.25)"},
		{"DecimalExponent", "fractionalseconds(enrollmentDateTime) lt 1e3", nil, "(lt (fractionalseconds enrollmentDateTime) dec:1e3)"},
		{"DecimalExponentUpperNegative", "fractionalseconds(enrollmentDateTime) gt 1E-3", nil, "(gt (fractionalseconds enrollmentDateTime) dec:1E-3)"},
		{"DecimalSignedExponent", "fractionalseconds(enrollmentDateTime) lt 1.5e+10", nil, "(lt (fractionalseconds enrollmentDateTime) dec:1.5e+10)"},
		{"DecimalPlusSign", "fractionalseconds(enrollmentDateTime) lt +1.5", nil, "(lt (fractionalseconds enrollmentDateTime) dec:1.5)"},
		{"DecimalExponentBound", "fractionalseconds(enrollmentDateTime) lt 1e1000", nil, "(lt (fractionalseconds enrollmentDateTime) dec:1e1000)"},
		{"IntVsDecimal", "length(connectorName) eq 1.0", nil, "(eq (length connectorName) dec:1.0)"},
		{"DecimalVsInt", "fractionalseconds(enrollmentDateTime) eq 0", nil, "(eq (fractionalseconds enrollmentDateTime) 0)"},
		// date = year "-" month "-" day
		{"Date", "date(enrollmentDateTime) eq 2024-06-15", nil, "(eq (date enrollmentDateTime) date:2024-06-15)"},
		{"DateMin", "date(enrollmentDateTime) ge 0001-01-01", nil, "(ge (date enrollmentDateTime) date:0001-01-01)"},
		{"DateMax", "date(enrollmentDateTime) le 9999-12-31", nil, "(le (date enrollmentDateTime) date:9999-12-31)"},
		{"DateLeapDay", "date(enrollmentDateTime) eq 2024-02-29", nil, "(eq (date enrollmentDateTime) date:2024-02-29)"},
		{"DateInParens", "(date(enrollmentDateTime) eq 2024-06-15)", nil, "(eq (date enrollmentDateTime) date:2024-06-15)"},
		// dateTimeOffsetLiteral = date "T" timeOfDayLiteral ( "Z" / SIGN hour COLON minute )
		{"DTOSeed", "enrollmentDateTime eq 2016-12-31T23:57:59.3726057-08:00", nil, "(eq enrollmentDateTime dto:2016-12-31T23:57:59.3726057-08:00)"},
		{"DTONoSeconds", "enrollmentDateTime eq 2024-06-15T10:00Z", nil, "(eq enrollmentDateTime dto:2024-06-15T10:00:00Z)"},
		{"DTOOneFractionDigit", "enrollmentDateTime eq 2024-06-15T10:00:00.1Z", nil, "(eq enrollmentDateTime dto:2024-06-15T10:00:00.1Z)"},
		{"DTOZeroFraction", "enrollmentDateTime eq 2024-06-15T10:00:00.0000000Z", nil, "(eq enrollmentDateTime dto:2024-06-15T10:00:00Z)"},
		{"DTOLowerCase", "enrollmentDateTime eq 2024-06-15t10:00:00z", nil, "(eq enrollmentDateTime dto:2024-06-15T10:00:00Z)"},
		{"DTOPlusOffset", "enrollmentDateTime eq 2024-06-15T10:00:00+14:00", nil, "(eq enrollmentDateTime dto:2024-06-15T10:00:00+14:00)"},
		{"DTOMin", "enrollmentDateTime ge 0001-01-01T00:00:00Z", nil, "(ge enrollmentDateTime dto:0001-01-01T00:00:00Z)"},
		{"DTOMax", "enrollmentDateTime le 9999-12-31T23:59:59.9999999Z", nil, "(le enrollmentDateTime dto:9999-12-31T23:59:59.9999999Z)"},
		{"DTOBeforeParen", "(enrollmentDateTime eq 2024-06-15T10:00:00Z)", nil, "(eq enrollmentDateTime dto:2024-06-15T10:00:00Z)"},
		// timeOfDayLiteral = hour COLON minute [ COLON second [ "." fractionalSeconds ] ]
		{"TimeHourMinute", "time(enrollmentDateTime) eq 12:34", nil, "(eq (time enrollmentDateTime) tod:12:34:00.0000000)"},
		{"TimeSeconds", "time(enrollmentDateTime) eq 12:34:56", nil, "(eq (time enrollmentDateTime) tod:12:34:56.0000000)"},
		{"TimeFraction7", "time(enrollmentDateTime) eq 12:34:56.1234567", nil, "(eq (time enrollmentDateTime) tod:12:34:56.1234567)"},
		{"TimeFraction1", "time(enrollmentDateTime) eq 12:34:56.1", nil, "(eq (time enrollmentDateTime) tod:12:34:56.1000000)"},
		{"TimeMidnight", "time(enrollmentDateTime) ge 00:00", nil, "(ge (time enrollmentDateTime) tod:00:00:00.0000000)"},
		{"TimeMax", "time(enrollmentDateTime) le 23:59:59.9999999", nil, "(le (time enrollmentDateTime) tod:23:59:59.9999999)"},
	})
}

func TestParseFilterIn(t *testing.T) {
	t.Parallel()
	runFilterOK(t, []filterCase{
		// inExpr = RWS "in" RWS ( listExpr / commonExpr ); listExpr = OPEN BWS [ primitiveLiteral ... ] CLOSE
		{"Parens", "connectorName in ('a','b')", nil, "(in connectorName ['a' 'b'])"},
		{"ParensSpaces", "connectorName in ( 'a' , 'b' )", nil, "(in connectorName ['a' 'b'])"},
		{"ParensNoSpace", "connectorName in('a')", nil, "(in connectorName ['a'])"},
		{"UpperIn", "connectorName IN ('a')", nil, "(in connectorName ['a'])"},
		{"Empty", "connectorName in ()", nil, "(in connectorName [])"},
		{"WithNull", "connectorName in ('a',null)", nil, "(in connectorName ['a' null])"},
		{"NullX", "null in ('a',1)", nil, "(in null ['a' 1])"},
		{"DateTimeOffsets", "enrollmentDateTime in (2024-01-01T00:00:00Z,2024-01-02T00:00:00-01:00)", nil,
			"(in enrollmentDateTime [dto:2024-01-01T00:00:00Z dto:2024-01-02T00:00:00-01:00])"},
		{"Numbers", "length(connectorName) in (1,2.5,-3)", nil, "(in (length connectorName) [1 dec:2.5 -3])"},
		{"Dates", "date(enrollmentDateTime) in (2024-01-01,2024-01-02)", nil, "(in (date enrollmentDateTime) [date:2024-01-01 date:2024-01-02])"},
		{"Times", "time(enrollmentDateTime) in (12:00,13:00:00)", nil, "(in (time enrollmentDateTime) [tod:12:00:00.0000000 tod:13:00:00.0000000])"},
		{"Booleans", "contains(connectorName,'a') in (true,false)", nil, "(in (contains connectorName 'a') [true false])"},
		{"ThenAnd", "connectorName in ('a') and true", nil, "(and (in connectorName ['a']) true)"},
		// Graph leniency: a JSON array with double-quoted strings
		{"Brackets", `connectorName in ["a","b"]`, nil, "(in connectorName ['a' 'b'])"},
		{"BracketsSpaces", `connectorName in [ "a" , "b" ]`, nil, "(in connectorName ['a' 'b'])"},
		{"BracketsEmpty", `connectorName in []`, nil, "(in connectorName [])"},
		{"BracketsMixedQuotes", `connectorName in ['a',"b",null]`, nil, "(in connectorName ['a' 'b' null])"},
		{"BracketsJSONEscapes", `connectorName in ["q\"b","\u00e9","\ud83d\ude00","\\\/\b\f\n\r\t","it's"]`, nil,
			"(in connectorName ['q\"b' 'é' '😀' '\\/\b\f\n\r\t' 'it''s'])"},
		{"BracketsNumbers", `length(connectorName) in [1,2]`, nil, "(in (length connectorName) [1 2])"},
	})
}

func TestParseFilterFunctions(t *testing.T) {
	t.Parallel()
	runFilterOK(t, []filterCase{
		{"Contains", "contains(connectorName,'a')", nil, "(contains connectorName 'a')"},
		{"StartsWith", "startswith(machineName,'a')", nil, "(startswith machineName 'a')"},
		{"EndsWith", "endswith(connectorVersion,'a')", nil, "(endswith connectorVersion 'a')"},
		{"Length", "length(connectorName) eq 3", nil, "(eq (length connectorName) 3)"},
		{"IndexOf", "indexof(connectorName,'a') ge 0", nil, "(ge (indexof connectorName 'a') 0)"},
		{"Substring2", "substring(connectorName,1) eq 'a'", nil, "(eq (substring connectorName 1) 'a')"},
		{"Substring3", "substring(connectorName,1,2) eq 'a'", nil, "(eq (substring connectorName 1 2) 'a')"},
		{"SubstringNegativeStart", "substring(connectorName,-1) eq 'a'", nil, "(eq (substring connectorName -1) 'a')"},
		{"SubstringComputedLength", "substring(connectorName,0,indexof(connectorName,'x')) eq 'a'", nil,
			"(eq (substring connectorName 0 (indexof connectorName 'x')) 'a')"},
		{"ToLower", "tolower(connectorName) eq 'a'", nil, "(eq (tolower connectorName) 'a')"},
		{"ToUpper", "toupper(connectorName) eq 'A'", nil, "(eq (toupper connectorName) 'A')"},
		{"Trim", "trim(connectorName) eq 'a'", nil, "(eq (trim connectorName) 'a')"},
		{"Concat", "concat(connectorName,machineName) eq 'ab'", nil, "(eq (concat connectorName machineName) 'ab')"},
		{"Nested", "concat(concat(connectorName,' '),tolower(machineName)) eq 'a b'", nil,
			"(eq (concat (concat connectorName ' ') (tolower machineName)) 'a b')"},
		{"Year", "year(enrollmentDateTime) eq 2016", nil, "(eq (year enrollmentDateTime) 2016)"},
		{"Month", "month(enrollmentDateTime) eq 12", nil, "(eq (month enrollmentDateTime) 12)"},
		{"Day", "day(enrollmentDateTime) eq 31", nil, "(eq (day enrollmentDateTime) 31)"},
		{"Hour", "hour(enrollmentDateTime) eq 23", nil, "(eq (hour enrollmentDateTime) 23)"},
		{"Minute", "minute(enrollmentDateTime) eq 57", nil, "(eq (minute enrollmentDateTime) 57)"},
		{"Second", "second(enrollmentDateTime) eq 59", nil, "(eq (second enrollmentDateTime) 59)"},
		{"FractionalSeconds", "fractionalseconds(enrollmentDateTime) lt 0.1", nil, "(lt (fractionalseconds enrollmentDateTime) dec:0.1)"},
		{"DateFunc", "date(lastCheckinDateTime) eq 2017-01-01", nil, "(eq (date lastCheckinDateTime) date:2017-01-01)"},
		{"TimeFunc", "time(lastCheckinDateTime) lt 12:00", nil, "(lt (time lastCheckinDateTime) tod:12:00:00.0000000)"},
		{"TotalOffsetMinutes", "totaloffsetminutes(enrollmentDateTime) eq -480", nil, "(eq (totaloffsetminutes enrollmentDateTime) -480)"},
		{"Now", "enrollmentDateTime lt now()", nil, "(lt enrollmentDateTime (now))"},
		{"NowSpaces", "enrollmentDateTime lt now( )", nil, "(lt enrollmentDateTime (now))"},
		{"YearOfNow", "year(now()) ge 2024", nil, "(ge (year (now)) 2024)"},
		{"NameCaseInsensitive", "CONTAINS(connectorName,'a') and ToLower(machineName) eq 'b' and enrollmentDateTime lt Now()", nil,
			"(and (and (contains connectorName 'a') (eq (tolower machineName) 'b')) (lt enrollmentDateTime (now)))"},
		{"ArgSpaces", "contains( connectorName , 'a' )", nil, "(contains connectorName 'a')"},
		{"SpaceBeforeParen", "contains (connectorName,'a')", nil, "(contains connectorName 'a')"},
		{"ParenthesisedArg", "contains((connectorName),('a'))", nil, "(contains connectorName 'a')"},
		{"NullArgs", "contains(null,'a') or length(null) eq null", nil, "(or (contains null 'a') (eq (length null) null))"},
		{"OnID", "startswith(id,'10')", nil, "(startswith id '10')"},
	})
}

func TestParseFilterAliases(t *testing.T) {
	t.Parallel()
	runFilterOK(t, []filterCase{
		{"Literal", "connectorName eq @n", map[string]string{"@n": "'x'"}, "(eq connectorName 'x')"},
		{"FunctionArg", "contains(connectorName,@n)", map[string]string{"@n": "'x'"}, "(contains connectorName 'x')"},
		{"UsedTwice", "connectorName eq @n or machineName eq @n", map[string]string{"@n": "'x'"}, "(or (eq connectorName 'x') (eq machineName 'x'))"},
		{"DateTimeOffset", "enrollmentDateTime gt @t", map[string]string{"@t": "2024-01-01T00:00:00Z"}, "(gt enrollmentDateTime dto:2024-01-01T00:00:00Z)"},
		{"ListParens", "connectorName in @l", map[string]string{"@l": "('a','b')"}, "(in connectorName ['a' 'b'])"},
		{"ListBrackets", "connectorName in @l", map[string]string{"@l": `["a","b"]`}, "(in connectorName ['a' 'b'])"},
		{"ListElements", "connectorName in (@a,@b)", map[string]string{"@a": "'a'", "@b": "null"}, "(in connectorName ['a' null])"},
		{"Expression", "@c or machineName eq 'b'", map[string]string{"@c": "connectorName eq 'a'"}, "(or " + cnA + " " + mnB + ")"},
		{"ExpressionKeepsItsPrecedence", "@c and true", map[string]string{"@c": "connectorName eq 'a' or true"}, "(and (or " + cnA + " true) true)"},
		{"NotAlias", "not @c", map[string]string{"@c": "connectorName eq 'a'"}, "(not " + cnA + ")"},
		{"Unused", "true", map[string]string{"@u": "(((("}, "true"},
		{"CaseSensitiveNames", "connectorName eq @N", map[string]string{"@N": "'X'", "@n": "'x'"}, "(eq connectorName 'X')"},
	})
}

func TestParseFilterErrors(t *testing.T) {
	t.Parallel()
	runFilterErr(t, []filterCase{
		{"Empty", "", nil, "The $filter expression is empty."},
		{"Blank", "  \t ", nil, "The $filter expression is empty."},
		// properties: case-sensitive names from the model
		{"UnknownProperty", "foo eq 'x'", nil, "Could not find a property named 'foo' on type 'microsoft.graph.certificateConnectorDetails' (at position 0 in $filter)."},
		{"PropertyWrongCase", "ConnectorName eq 'x'", nil, "Could not find a property named 'ConnectorName' on type 'microsoft.graph.certificateConnectorDetails'"},
		{"PropertyPath", "connectorName/length eq 1", nil, "'connectorName/' — property paths and type casts are not supported"},
		{"QualifiedFunction", "geo.distance(connectorName,'a') eq 1", nil, "'geo.' — property paths and type casts are not supported"},
		{"TypeCast", "microsoft.graph.certificateConnectorDetails/connectorName eq 'a'", nil, "property paths and type casts are not supported"},
		{"DollarIt", "$it eq 'a'", nil, "unexpected character '$'"},
		{"NonASCIIName", "connectorNamé eq 'x'", nil, "unexpected character 'é'"},
		{"InvalidUTF8Outside", "connectorName eq \xff", nil, "the byte 0xFF is not valid UTF-8"},
		{"UnquotedGUID", "id eq 104d7361-7361-104d-6173-4d1061734d10", nil, "Unquoted GUID literal '104d7361-7361-104d-6173-4d1061734d10'"},
		{"UnquotedGUIDLetter", "id eq abcd7361-7361-104d-6173-4d1061734d10", nil, "Unquoted GUID literal"},
		// type checking
		{"StringEqInt", "connectorName eq 5", nil, "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Int32' for operator kind 'eq' (at position 14 in $filter)."},
		{"DTOEqString", "enrollmentDateTime eq 'abc'", nil, "Found operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind 'eq'"},
		{"DTOGeTime", "enrollmentDateTime ge 12:00", nil, "Found operand types 'Edm.DateTimeOffset' and 'Edm.TimeOfDay' for operator kind 'ge'"},
		{"DateFuncGeDTO", "date(enrollmentDateTime) ge 2024-01-01T00:00:00Z", nil, "Found operand types 'Edm.Date' and 'Edm.DateTimeOffset' for operator kind 'ge'"},
		{"StringEqBool", "connectorName eq true", nil, "'Edm.String' and 'Edm.Boolean'"},
		{"StringEqInt64", "connectorName lt 9999999999", nil, "'Edm.String' and 'Edm.Int64' for operator kind 'lt'"},
		{"IntEqString", "length(connectorName) eq 'a'", nil, "'Edm.Int32' and 'Edm.String'"},
		{"DateEqTime", "date(enrollmentDateTime) eq 12:00", nil, "'Edm.Date' and 'Edm.TimeOfDay'"},
		{"DecimalEqString", "fractionalseconds(enrollmentDateTime) eq '0.5'", nil, "'Edm.Decimal' and 'Edm.String'"},
		{"AndNonBoolean", "connectorName and true", nil, "The operands of 'and' must be of type Edm.Boolean, but one is of type Edm.String"},
		{"OrNonBoolean", "true or length(connectorName)", nil, "The operands of 'or' must be of type Edm.Boolean, but one is of type Edm.Int32"},
		{"NotNonBoolean", "not connectorName", nil, "The operand of 'not' must be of type Edm.Boolean, but it is of type Edm.String"},
		{"NotOverComparison", "not connectorName eq 'a'", nil, "The operand of 'not' must be of type Edm.Boolean, but it is of type Edm.String; to negate a comparison, put it in parentheses: not (a eq b) (at position 0 in $filter)"},
		{"NotOverComparisonThenAnd", "not connectorName eq 'a' and machineName eq 'b'", nil, "The operand of 'not' must be of type Edm.Boolean"},
		{"NotOverIn", "not connectorName in ('a')", nil, "The operand of 'not' must be of type Edm.Boolean, but it is of type Edm.String"},
		{"NotOverFunctionComparison", "not length(connectorName) gt 3", nil, "but it is of type Edm.Int32"},
		{"NotOfNotString", "not not connectorName", nil, "but it is of type Edm.String"},
		{"FilterNotBoolean", "connectorName", nil, "The $filter expression must be of type Edm.Boolean, but it is of type Edm.String"},
		{"FilterInt", "length(connectorName)", nil, "must be of type Edm.Boolean, but it is of type Edm.Int32"},
		{"FilterString", "'abc'", nil, "must be of type Edm.Boolean"},
		// syntax
		{"MissingRightOperand", "connectorName eq", nil, "Syntax error: found the end of the expression where an expression was expected"},
		{"MissingLeftOperand", "eq 'a'", nil, "found 'eq' where an expression was expected"},
		{"MissingOperator", "connectorName 'a'", nil, "found the string literal 'a' where an operator or the end of the expression was expected (at position 14 in $filter)"},
		{"DanglingAnd", "connectorName eq 'a' and", nil, "found the end of the expression where an expression was expected"},
		{"AndAnd", "true and and true", nil, "found 'and' where an expression was expected"},
		{"UnclosedParen", "(connectorName eq 'a'", nil, "found the end of the expression where ')' or an operator was expected"},
		{"ExtraCloseParen", "connectorName eq 'a')", nil, "found ')' where an operator or the end of the expression was expected"},
		{"EmptyParens", "()", nil, "found ')' where an expression was expected"},
		{"UnknownOperator", "connectorName eq 'a' xor true", nil, "found 'xor' where an operator or the end"},
		{"CStyleOperator", "connectorName == 'a'", nil, "unexpected character '='"},
		{"Negation", "length(connectorName) eq - 5", nil, "'-' is only allowed as the sign of a number literal"},
		{"DoubleNegation", "length(connectorName) eq --5", nil, "'-' is only allowed as the sign"},
		{"AddNotSupported", "length(connectorName) add 1 eq 2", nil, "The operator 'add' is not supported"},
		{"HasNotSupported", "connectorName has 'a'", nil, "The operator 'has' is not supported"},
		{"Lambda", "connectorName/any(x:x eq 'a')", nil, "property paths"},
		// stringLiteral
		{"UnterminatedString", "connectorName eq 'abc", nil, "the string literal is not terminated; write a quote inside a string as two quotes ('') (at position 17 in $filter)"},
		{"UnescapedQuote", "connectorName eq 'it's'", nil, "not terminated"},
		{"StringInvalidUTF8", "connectorName eq 'a\xffb'", nil, "The string literal is not valid UTF-8"},
		{"StringNUL", "connectorName eq 'a\x00b'", nil, "U+0000"},
		{"DoubleQuotedOutsideList", `connectorName eq "a"`, nil, "A double-quoted string is only allowed in a bracketed list after 'in'"},
		// int64Literal, decimalLiteral
		{"IntOverflow", "length(connectorName) eq 9223372036854775808", nil, "The integer literal '9223372036854775808' is out of range"},
		{"IntUnderflow", "length(connectorName) eq -9223372036854775809", nil, "out of range"},
		{"DecimalNoFractionDigits", "fractionalseconds(enrollmentDateTime) eq 1.", nil, "a decimal point must be followed by digits"},
		{"DecimalNoIntegerDigits", "fractionalseconds(enrollmentDateTime) eq .5", nil, "unexpected character '.'"},
		{"DecimalNoExponentDigits", "fractionalseconds(enrollmentDateTime) eq 1e", nil, "an exponent must have digits"},
		{"DecimalExponentSignOnly", "fractionalseconds(enrollmentDateTime) eq 1e-", nil, "an exponent must have digits"},
		{"DecimalHugeExponent", "fractionalseconds(enrollmentDateTime) eq 1e1001", nil, "the exponent must be within ±1000"},
		{"DecimalHugeNegativeExponent", "fractionalseconds(enrollmentDateTime) eq 1e-99999999999999999999", nil, "the exponent must be within ±1000"},
		{"DecimalTwoPoints", "fractionalseconds(enrollmentDateTime) eq 1.5.5", nil, "unexpected character '.' after the literal '1.5'"},
		{"NumberGlued", "length(connectorName) eq 5abc", nil, "unexpected character 'a' after the literal '5'"},
		{"Hex", "length(connectorName) eq 0x10", nil, "unexpected character 'x'"},
		{"NaN", "fractionalseconds(enrollmentDateTime) eq NaN", nil, "The literal 'NaN' is not supported"},
		{"INF", "fractionalseconds(enrollmentDateTime) eq INF", nil, "The literal 'INF' is not supported"},
		{"MinusINF", "fractionalseconds(enrollmentDateTime) eq -INF", nil, "'-' is only allowed as the sign"},
		// date
		{"DateFeb30", "date(enrollmentDateTime) eq 2024-02-30", nil, "The Date literal '2024-02-30' is not valid"},
		{"DateNotLeap", "date(enrollmentDateTime) eq 2023-02-29", nil, "The Date literal '2023-02-29' is not valid"},
		{"DateYearZero", "date(enrollmentDateTime) eq 0000-01-01", nil, "is not valid"},
		{"DateMonth13", "date(enrollmentDateTime) eq 2024-13-01", nil, "is not valid"},
		{"DateMonth0", "date(enrollmentDateTime) eq 2024-00-10", nil, "is not valid"},
		{"DateFiveDigitYear", "date(enrollmentDateTime) eq 10000-01-01", nil, "is not valid"},
		{"DateShortMonth", "date(enrollmentDateTime) eq 2024-6-15", nil, "The Date literal '2024-6-15' is not valid"},
		{"DateYearMonth", "date(enrollmentDateTime) eq 2024-06", nil, "The Date literal '2024-06' is not valid"},
		{"DateSigned", "date(enrollmentDateTime) eq -2024-06-15", nil, "a date cannot have a sign"},
		{"DateGlued", "date(enrollmentDateTime) eq 2024-06-15x", nil, "unexpected character 'x' after the literal '2024-06-15'"},
		// dateTimeOffsetLiteral
		{"DTONoOffset", "enrollmentDateTime eq 2024-06-15T10:00:00", nil, "The DateTimeOffset literal '2024-06-15T10:00:00' has no offset: add Z or ±hh:mm (a '+' in a URL reads as a space, so write it as %2B)"},
		{"DTOPlusDecodedAsSpace", "enrollmentDateTime eq 2024-06-15T10:00:00 01:00", nil, "has no offset"},
		{"DTOEightFractionDigits", "enrollmentDateTime eq 2024-06-15T10:00:00.12345678Z", nil, "The DateTimeOffset literal '2024-06-15T10:00:00.12345678Z' is not valid"},
		{"DTOOffsetTooWide", "enrollmentDateTime eq 2024-06-15T10:00:00+14:01", nil, "is not valid"},
		{"DTOHour25", "enrollmentDateTime eq 2024-06-15T25:00:00Z", nil, "is not valid"},
		{"DTOSecond60", "enrollmentDateTime eq 2024-06-15T10:00:60Z", nil, "is not valid"},
		{"DTOBeforeMin", "enrollmentDateTime eq 0001-01-01T00:00:00+01:00", nil, "is not valid"},
		{"DTOAfterMax", "enrollmentDateTime eq 9999-12-31T23:59:59-01:00", nil, "is not valid"},
		{"DTOGlued", "enrollmentDateTime eq 2024-06-15T10:00:00Zx", nil, "unexpected character 'x'"},
		// timeOfDayLiteral
		{"TimeHour24", "time(enrollmentDateTime) eq 24:00", nil, "The TimeOfDay literal '24:00' is not valid"},
		{"TimeMinute60", "time(enrollmentDateTime) eq 12:60", nil, "is not valid"},
		{"TimeSecond60", "time(enrollmentDateTime) eq 12:34:60", nil, "is not valid"},
		{"TimeEightDigits", "time(enrollmentDateTime) eq 12:34:56.12345678", nil, "at most 7 fraction digits"},
		{"TimeShortMinute", "time(enrollmentDateTime) eq 12:3", nil, "is not valid"},
		{"TimeShortSecond", "time(enrollmentDateTime) eq 12:34:5", nil, "is not valid"},
		{"TimeDotNoDigits", "time(enrollmentDateTime) eq 12:34:56.", nil, "is not valid"},
		{"TimeOneDigitHour", "time(enrollmentDateTime) eq 1:30", nil, "unexpected character ':' after the literal '1'"},
		{"TimeSigned", "time(enrollmentDateTime) eq -12:00", nil, "a TimeOfDay literal cannot have a sign"},
		// in
		{"InNoList", "connectorName in 'a'", nil, "found the string literal 'a' where a list such as ('a','b') or [\"a\",\"b\"] after 'in' was expected"},
		{"InTrailingComma", "connectorName in ('a',)", nil, "found ')' where a literal"},
		{"InMissingComma", "connectorName in ('a' 'b')", nil, "found the string literal 'b' where ',' or ')' was expected"},
		{"InBracketsMissingComma", `connectorName in ["a" "b"]`, nil, "where ',' or ']' was expected"},
		{"InMismatchedClose", "connectorName in ('a']", nil, "found ']' where ',' or ')' was expected"},
		{"InUnclosed", "connectorName in ('a'", nil, "found the end of the expression where ',' or ')' was expected"},
		{"InProperty", "connectorName in (machineName)", nil, "found 'machineName' where a literal (a list after 'in' holds only literals) was expected"},
		{"InWrongKind", "connectorName in ('a',1)", nil, "The list after 'in' must hold values of type Edm.String, but holds a value of type Edm.Int32"},
		{"InDTOString", "enrollmentDateTime in ('2024-01-01T00:00:00Z')", nil, "must hold values of type Edm.DateTimeOffset"},
		{"InDoubleQuotedInParens", `connectorName in ("a")`, nil, "A double-quoted string is only allowed in a bracketed list"},
		{"InJSONBadEscape", `connectorName in ["a\x"]`, nil, "invalid escape sequence"},
		{"InJSONShortUnicode", `connectorName in ["\u12"]`, nil, "\\u must be followed by four hexadecimal digits"},
		{"InJSONLoneHighSurrogate", `connectorName in ["\ud83d"]`, nil, "lone surrogate"},
		{"InJSONLoneLowSurrogate", `connectorName in ["\ude00"]`, nil, "lone surrogate"},
		{"InJSONNUL", `connectorName in ["\u0000"]`, nil, "U+0000"},
		{"InJSONControl", "connectorName in [\"a\tb\"]", nil, "a control character must be escaped"},
		{"InJSONUnterminated", `connectorName in ["a`, nil, "the double-quoted string is not terminated"},
		{"InJSONUnterminatedEscape", `connectorName in ["a\`, nil, "not terminated"},
		{"BracketOutsideIn", "[true]", nil, "A bracketed list is only allowed after 'in'"},
		// functions
		{"UnknownFunction", "foo(connectorName)", nil, "An unknown function with name 'foo' was found"},
		{"FunctionWithoutParens", "contains eq 'a'", nil, "The function 'contains' must be followed by its arguments in parentheses"},
		{"ContainsOneArg", "contains(connectorName)", nil, "No function signature for the function with name 'contains' matches the specified arguments (Edm.String). The function signature considered is contains(Edm.String, Edm.String)"},
		{"ContainsThreeArgs", "contains(connectorName,'a','b')", nil, "name 'contains' matches the specified arguments (Edm.String, Edm.String, Edm.String)"},
		{"ContainsIntArg", "contains(connectorName,1)", nil, "name 'contains' matches the specified arguments (Edm.String, Edm.Int32)"},
		{"StartsWithDTO", "startswith(enrollmentDateTime,'2016')", nil, "name 'startswith'"},
		{"EndsWithNoArgs", "endswith()", nil, "name 'endswith' matches the specified arguments ()"},
		{"LengthNoArgs", "length() eq 0", nil, "length(Edm.String)"},
		{"LengthTwoArgs", "length(connectorName,'a') eq 0", nil, "name 'length'"},
		{"LengthDTO", "length(enrollmentDateTime) eq 0", nil, "(Edm.DateTimeOffset)"},
		{"IndexOfOneArg", "indexof(connectorName) eq 0", nil, "indexof(Edm.String, Edm.String)"},
		{"SubstringOneArg", "substring(connectorName) eq 'a'", nil, "The function signature considered is substring(Edm.String, Edm.Int32[, Edm.Int32])"},
		{"SubstringFourArgs", "substring(connectorName,1,2,3) eq 'a'", nil, "name 'substring'"},
		{"SubstringStringStart", "substring(connectorName,'1') eq 'a'", nil, "(Edm.String, Edm.String)"},
		{"SubstringDecimalStart", "substring(connectorName,1.5) eq 'a'", nil, "(Edm.String, Edm.Decimal)"},
		{"SubstringNegativeLength", "substring(connectorName,0,-1) eq 'a'", nil, "The length argument of substring must not be negative (at position 26 in $filter)"},
		{"ToLowerBool", "tolower(true) eq 'a'", nil, "name 'tolower' matches the specified arguments (Edm.Boolean)"},
		{"ToUpperTwoArgs", "toupper(connectorName,'a') eq 'a'", nil, "name 'toupper'"},
		{"TrimInt", "trim(1) eq 'a'", nil, "name 'trim'"},
		{"ConcatOneArg", "concat(connectorName) eq 'a'", nil, "concat(Edm.String, Edm.String)"},
		{"ConcatInt", "concat(connectorName,1) eq 'a'", nil, "name 'concat'"},
		{"YearString", "year(connectorName) eq 2016", nil, "The function signature considered is year(Edm.DateTimeOffset)"},
		{"YearOfDate", "year(date(enrollmentDateTime)) eq 2016", nil, "name 'year' matches the specified arguments (Edm.Date)"},
		{"MonthNoArgs", "month() eq 1", nil, "name 'month'"},
		{"DayTwoArgs", "day(enrollmentDateTime,enrollmentDateTime) eq 1", nil, "name 'day'"},
		{"HourOfTime", "hour(time(enrollmentDateTime)) eq 1", nil, "(Edm.TimeOfDay)"},
		{"MinuteString", "minute('12:00') eq 1", nil, "name 'minute'"},
		{"SecondInt", "second(1) eq 1", nil, "name 'second'"},
		{"FractionalSecondsString", "fractionalseconds(connectorName) eq 0", nil, "name 'fractionalseconds'"},
		{"DateString", "date(connectorName) eq 2024-01-01", nil, "name 'date'"},
		{"TimeDate", "time(date(enrollmentDateTime)) eq 12:00", nil, "name 'time'"},
		{"TotalOffsetMinutesString", "totaloffsetminutes(connectorName) eq 0", nil, "name 'totaloffsetminutes'"},
		{"NowWithArg", "now(1) gt enrollmentDateTime", nil, "name 'now' matches the specified arguments (Edm.Int32). The function signature considered is now()"},
		{"FunctionUnclosed", "contains(connectorName,'a'", nil, "found the end of the expression where ',' or ')' was expected"},
		{"FunctionEmptyArg", "contains(,'a')", nil, "found ',' where an expression was expected"},
		{"FunctionTrailingComma", "contains(connectorName,)", nil, "found ')' where an expression was expected"},
		// parameterAlias
		{"AliasUndefined", "connectorName eq @n", nil, "The parameter alias '@n' is not defined: add it to the query string, for example &@n='value' (at position 17 in $filter)"},
		{"AliasWrongCase", "connectorName eq @N", map[string]string{"@n": "'x'"}, "The parameter alias '@N' is not defined"},
		{"AliasBareAt", "connectorName eq @", nil, "'@' must start a parameter alias name"},
		{"AliasDigit", "connectorName eq @1", nil, "'@' must start a parameter alias name"},
		{"AliasEmptyValue", "connectorName eq @n", map[string]string{"@n": ""}, "The parameter alias '@n' has an empty value"},
		{"AliasBlankValue", "connectorName eq @n", map[string]string{"@n": "  "}, "has an empty value"},
		{"AliasOfAlias", "connectorName eq @n", map[string]string{"@n": "@m", "@m": "'x'"}, "The value of a parameter alias cannot use another parameter alias ('@m') (at position 0 in the value of the parameter alias '@n')"},
		{"AliasSelfReference", "connectorName eq @n", map[string]string{"@n": "@n"}, "cannot use another parameter alias"},
		{"AliasSyntaxError", "connectorName eq @n", map[string]string{"@n": "'x"}, "the string literal is not terminated; write a quote inside a string as two quotes ('') (at position 0 in the value of the parameter alias '@n')"},
		{"AliasTypeError", "connectorName eq @n", map[string]string{"@n": "5"}, "'Edm.String' and 'Edm.Int32'"},
		{"AliasDoubleQuoted", "connectorName eq @n", map[string]string{"@n": `"x"`}, "A double-quoted string is only allowed in a bracketed list"},
		{"AliasUnbalanced", "@c", map[string]string{"@c": "(true"}, "found the end of the expression where ')' or an operator was expected"},
		{"AliasNotAList", "connectorName in @n", map[string]string{"@n": "'a'"}, "where a list such as"},
		// limits
		{"TooLong", "connectorName eq '" + strings.Repeat("x", MaxFilterLength) + "'", nil, "The $filter expression is 65555 bytes long, more than the limit of 65536."},
		{"AliasesTooLong", "connectorName eq @n or machineName eq @n or connectorVersion eq @n", map[string]string{"@n": "'" + strings.Repeat("x", 22000) + "'"},
			"The $filter expression, with its parameter aliases substituted, is more than the limit of 65536 bytes."},
		{"ParensTooDeep", strings.Repeat("(", MaxFilterDepth+1) + "true" + strings.Repeat(")", MaxFilterDepth+1), nil, "The $filter expression nests more than 100 levels deep (at position 100 in $filter)"},
		{"NotsTooDeep", strings.Repeat("not ", MaxFilterDepth+1) + "true", nil, "nests more than 100 levels deep"},
		{"NotParensTooDeep", strings.Repeat("not(", MaxFilterDepth/2+1) + "true" + strings.Repeat(")", MaxFilterDepth/2+1), nil, "nests more than 100 levels deep"},
		{"CallsTooDeep", "length(" + strings.Repeat("tolower(", MaxFilterDepth) + "connectorName" + strings.Repeat(")", MaxFilterDepth+1) + " eq 1", nil, "nests more than 100 levels deep"},
		{"ManyOpenParens", strings.Repeat("(", MaxFilterLength), nil, "nests more than 100 levels deep"},
		{"HugeOpenParens", strings.Repeat("(", 100000), nil, "more than the limit of 65536"},
	})
}

func TestParseFilterLimits(t *testing.T) {
	t.Parallel()
	t.Run("MaxLength", func(t *testing.T) {
		t.Parallel()
		f := "connectorName eq '" + strings.Repeat("x", MaxFilterLength-19) + "'"
		if len(f) != MaxFilterLength {
			t.Fatalf("test filter is %d bytes", len(f))
		}
		parseFilterOK(t, f, nil)
	})
	t.Run("MaxDepthParens", func(t *testing.T) {
		t.Parallel()
		parseFilterOK(t, strings.Repeat("(", MaxFilterDepth)+"true"+strings.Repeat(")", MaxFilterDepth), nil)
	})
	t.Run("MaxDepthParensAroundList", func(t *testing.T) {
		t.Parallel()
		// An in-list's parenthesis is open too, but is no level of nesting.
		parseFilterOK(t, strings.Repeat("(", MaxFilterDepth)+"connectorName in ('a')"+strings.Repeat(")", MaxFilterDepth), nil)
	})
	t.Run("MaxDepthNots", func(t *testing.T) {
		t.Parallel()
		parseFilterOK(t, strings.Repeat("not ", MaxFilterDepth)+"true", nil)
	})
	t.Run("MaxDepthCalls", func(t *testing.T) {
		t.Parallel()
		parseFilterOK(t, "length("+strings.Repeat("tolower(", MaxFilterDepth-1)+"connectorName"+strings.Repeat(")", MaxFilterDepth)+" eq 1", nil)
	})
	t.Run("DepthIsNestingNotLength", func(t *testing.T) {
		t.Parallel()
		// Sibling groups do not add up: depth counts only what is open at once.
		parseFilterOK(t, strings.Repeat("(true) and ", 600)+"true", nil)
	})
	t.Run("LongOrChain", func(t *testing.T) {
		t.Parallel()
		terms := make([]string, 1000)
		for i := range terms {
			terms[i] = "true"
		}
		e := parseFilterOK(t, strings.Join(terms, " or "), nil)
		if c := connector(seedKey, nil); !Eval(e, &c, DateTimeOffset{}).IsTrue() {
			t.Error("a chain of true ors is not true")
		}
	})
	t.Run("DeepInputFailsFast", func(t *testing.T) {
		t.Parallel()
		// Deep input fails in time linear in its length: no slower than a valid filter of the same length parses
		// (MaxFilterLength is 64 KiB, so both lex tens of thousands of tokens; the best of three runs is compared,
		// so that a loaded machine does not make the test fail).
		best := func(in string) time.Duration {
			d := time.Duration(1 << 62)
			for range 3 {
				start := time.Now()
				_, _ = ParseFilter(connType, in, nil)
				d = min(d, time.Since(start))
			}
			return d
		}
		valid := strings.Repeat("true or ", MaxFilterLength/8-1) + "true"
		parseFilterOK(t, valid, nil)
		budget := 2*best(valid) + 50*time.Millisecond
		for _, in := range []string{strings.Repeat("(", 100000), strings.Repeat("(", MaxFilterLength), strings.Repeat("not ", MaxFilterLength/4),
			strings.Repeat("tolower(", MaxFilterLength/8), strings.Repeat("not(", MaxFilterLength/4), strings.Repeat("[(", MaxFilterLength/2)} {
			_, err := ParseFilter(connType, in, nil)
			checkInvalid(t, err, CodeBadRequest, "")
			if d := best(in); d > budget {
				t.Errorf("ParseFilter of %d bytes (%.8q…) took %v, more than %v", len(in), in, d, budget)
			}
		}
	})
}

// The parser is case-insensitive for keywords; check that every spelling of every operator parses alike.
func TestParseFilterKeywordCase(t *testing.T) {
	t.Parallel()
	for _, kw := range []string{"eq", "ne", "gt", "ge", "lt", "le"} {
		for _, spelling := range []string{kw, strings.ToUpper(kw), strings.ToUpper(kw[:1]) + kw[1:], kw[:1] + strings.ToUpper(kw[1:])} {
			e := parseFilterOK(t, "connectorName "+spelling+" 'a'", nil)
			if want := "(" + kw + " connectorName 'a')"; sexpr(e) != want {
				t.Errorf("%s: got %s, want %s", spelling, sexpr(e), want)
			}
		}
	}
	for name, sig := range functions {
		upper := strings.ToUpper(name)
		args := make([]string, sig.minArgs)
		for i := range args {
			switch sig.params[i] {
			case KindString:
				args[i] = "connectorName"
			case KindInt:
				args[i] = "1"
			case KindDateTimeOffset:
				args[i] = "enrollmentDateTime"
			}
		}
		call := upper + "(" + strings.Join(args, ",") + ")"
		e, err := ParseFilter(connType, call+" eq null", nil)
		if err != nil {
			t.Errorf("%s: %v", call, err)
			continue
		}
		if got := e.(*Binary).Left.(*Call).Fn; got != sig.fn {
			t.Errorf("%s parsed as function %d, want %d", call, got, sig.fn)
		}
	}
}

// Each function's result kind, as the AST reports it, is what the function table promises.
func TestParseFilterFunctionKinds(t *testing.T) {
	t.Parallel()
	want := map[Func]ExprKind{
		FnContains: KindBoolean, FnStartsWith: KindBoolean, FnEndsWith: KindBoolean,
		FnLength: KindInt, FnIndexOf: KindInt, FnSubstring: KindString, FnToLower: KindString, FnToUpper: KindString,
		FnTrim: KindString, FnConcat: KindString, FnYear: KindInt, FnMonth: KindInt, FnDay: KindInt, FnHour: KindInt,
		FnMinute: KindInt, FnSecond: KindInt, FnFractionalSeconds: KindDecimal, FnDate: KindDate, FnTime: KindTimeOfDay,
		FnTotalOffsetMinutes: KindInt, FnNow: KindDateTimeOffset, FnMinDateTime: KindDateTimeOffset, FnMaxDateTime: KindDateTimeOffset,
	}
	if len(functions) != len(want) {
		t.Errorf("%d functions, want %d", len(functions), len(want))
	}
	for name, sig := range functions {
		if k := (&Call{Fn: sig.fn}).Kind(); k != want[sig.fn] {
			t.Errorf("%s: kind %s, want %s", name, kindName(k), kindName(want[sig.fn]))
		}
	}
}
