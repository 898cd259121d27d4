package odata

import (
	"errors"
	"strings"
	"testing"
)

// seedKey is the id the contract (§0.1) sends the seed's PATCH to.
const seedKey = "104d7361-7361-104d-6173-4d1061734d10"

// otherKey is a second valid GUID.
const otherKey = "0b7e8f9a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"

// seedBody is the seed page's example request body, byte for byte.
const seedBody = `{
  "@odata.type": "#microsoft.graph.certificateConnectorDetails",
  "connectorName": "Connector Name value",
  "machineName": "Machine Name value",
  "enrollmentDateTime": "2016-12-31T23:57:59.3726057-08:00",
  "lastCheckinDateTime": "2017-01-01T00:02:46.0431416-08:00",
  "connectorVersion": "Connector Version value"
}`

// seedValues are the values the seed body sets.
func seedValues(tb testing.TB) map[PropertyID]Value {
	tb.Helper()
	return map[PropertyID]Value{
		propConnectorName:       {Str: "Connector Name value"},
		propMachineName:         {Str: "Machine Name value"},
		propEnrollmentDateTime:  {Time: mustParseDateTimeOffset(tb, "2016-12-31T23:57:59.3726057-08:00")},
		propLastCheckinDateTime: {Time: mustParseDateTimeOffset(tb, "2017-01-01T00:02:46.0431416-08:00")},
		propConnectorVersion:    {Str: "Connector Version value"},
	}
}

// checkPatch compares every property of p, set or not, with want.
func checkPatch(tb testing.TB, p Patch, want map[PropertyID]Value) {
	tb.Helper()
	for id := PropertyID(0); id < MaxProperties; id++ {
		w, ok := want[id]
		if p.Has(id) != ok {
			tb.Errorf("Has(%d) = %v, want %v", id, p.Has(id), ok)
			continue
		}
		if ok && p.Get(id) != w {
			tb.Errorf("Get(%s) = %+v, want %+v", p.Type.Properties[id].Name, p.Get(id), w)
		}
	}
	if p.Len() != len(want) {
		tb.Errorf("Len() = %d, want %d", p.Len(), len(want))
	}
}

// checkInvalid asserts that err is an *Error of kind KindInvalid with the given code and a message containing
// msg; it returns the *Error.
func checkInvalid(tb testing.TB, err error, code, msg string) *Error {
	tb.Helper()
	if err == nil {
		tb.Fatalf("no error, want %s %q", code, msg)
	}
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %T %v is not an *odata.Error", err, err)
	}
	if e.Kind != KindInvalid {
		tb.Errorf("Kind = %d, want KindInvalid", e.Kind)
	}
	if ErrorKind(err) != KindInvalid {
		tb.Errorf("ErrorKind = %d, want KindInvalid", ErrorKind(err))
	}
	if code != "" && e.Code != code {
		tb.Errorf("Code = %q, want %q (message %q)", e.Code, code, e.Message)
	}
	if !strings.Contains(e.Message, msg) {
		tb.Errorf("Message = %q, want it to contain %q", e.Message, msg)
	}
	return e
}

func TestParsePatchOK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		key  string // seedKey when empty
		want map[PropertyID]Value
	}{
		{"Seed", seedBody, "", nil}, // nil: seedValues
		{"SeedCompact", `{"connectorName":"Connector Name value","machineName":"Machine Name value","enrollmentDateTime":"2016-12-31T23:57:59.3726057-08:00","lastCheckinDateTime":"2017-01-01T00:02:46.0431416-08:00","connectorVersion":"Connector Version value"}`, "", nil},
		{"Empty", `{}`, "", map[PropertyID]Value{}},
		{"EmptyWithWhitespace", " \t\r\n{ \n }\n ", "", map[PropertyID]Value{}},
		{"NullConnectorName", `{"connectorName":null}`, "", map[PropertyID]Value{propConnectorName: {Null: true}}},
		{"NullMachineName", `{"machineName":null}`, "", map[PropertyID]Value{propMachineName: {Null: true}}},
		{"NullConnectorVersion", `{"connectorVersion":null}`, "", map[PropertyID]Value{propConnectorVersion: {Null: true}}},
		{"EmptyString", `{"connectorName":""}`, "", map[PropertyID]Value{propConnectorName: {Str: ""}}},
		{"OneDateTime", `{"lastCheckinDateTime":"2024-05-01T10:00:00Z"}`, "",
			map[PropertyID]Value{propLastCheckinDateTime: {Time: DateTimeOffset{Ticks: ticksOfText(t, "2024-05-01T10:00:00Z")}}}},
		{"IDEqualsKey", `{"id":"104d7361-7361-104d-6173-4d1061734d10","connectorName":"a"}`, "",
			map[PropertyID]Value{propConnectorName: {Str: "a"}}},
		{"IDUpperCase", `{"id":"104D7361-7361-104D-6173-4D1061734D10"}`, "", map[PropertyID]Value{}},
		{"IDMixedCase", `{"id":"104d7361-7361-104D-6173-4d1061734D10"}`, "", map[PropertyID]Value{}},
		{"KeyUpperCase", `{"id":"104d7361-7361-104d-6173-4d1061734d10"}`, "104D7361-7361-104D-6173-4D1061734D10", map[PropertyID]Value{}},
		{"KeyNotGUIDEqualToBodyID", `{"id":"not-a-guid"}`, "not-a-guid", map[PropertyID]Value{}},
		{"TypeWithHash", `{"@odata.type":"#microsoft.graph.certificateConnectorDetails"}`, "", map[PropertyID]Value{}},
		{"TypeWithoutHash", `{"@odata.type":"microsoft.graph.certificateConnectorDetails"}`, "", map[PropertyID]Value{}},
		{"AnnotationsIgnored", `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#deviceManagement/certificateConnectorDetails/$entity",` +
			`"@odata.etag":"W/\"3\"","@x.y":{"a":[1,-2.5e-3,true,false,null,{"b":"c"}]},` +
			`"connectorName@odata.type":"#String","machineName@x.y":[{"z":[]}],"connectorName":"n","@":0,"nope@x":{}}`, "",
			map[PropertyID]Value{propConnectorName: {Str: "n"}}},
		{"AnnotationOfUnknownProperty", `{"unknownProperty@x.y":1}`, "", map[PropertyID]Value{}},
		{"AnnotationMayHoldNUL", `{"@x.y":"\u0000"}`, "", map[PropertyID]Value{}},
		{"AnnotationNestedDeep", `{"@x.y":` + strings.Repeat("[", 60) + strings.Repeat("]", 60) + `}`, "", map[PropertyID]Value{}},
		{"EscapedPropertyName", `{"connector\u004eame":"a"}`, "", map[PropertyID]Value{propConnectorName: {Str: "a"}}},
		{"SurrogatePair", `{"connectorName":"\ud83d\ude00"}`, "", map[PropertyID]Value{propConnectorName: {Str: "😀"}}},
		{"SurrogatePairUpperHex", `{"connectorName":"\uD83D\uDE00x"}`, "", map[PropertyID]Value{propConnectorName: {Str: "😀x"}}},
		{"RawUTF8", `{"machineName":"Zürich 😀 東京"}`, "", map[PropertyID]Value{propMachineName: {Str: "Zürich 😀 東京"}}},
		{"Escapes", `{"connectorName":"\"\\\/\b\f\n\r\t\u00e9\u2028"}`, "",
			map[PropertyID]Value{propConnectorName: {Str: "\"\\/\b\f\n\r\t\u00e9\u2028"}}},
		{"EscapeAfterRawUTF8", `{"connectorName":"ü\n😀"}`, "", map[PropertyID]Value{propConnectorName: {Str: "ü\n😀"}}},
		{"RawDELAndHTML", "{\"connectorName\":\"\x7f<>&\"}", "", map[PropertyID]Value{propConnectorName: {Str: "\x7f<>&"}}},
		{"ReplacementCharacterKept", `{"connectorName":"\ufffd"}`, "", map[PropertyID]Value{propConnectorName: {Str: "\ufffd"}}},
		{"WhitespaceEverywhere", "\n{\n\t\"connectorName\" \r\n:\t\"a\" \n,\n \"machineName\"\t:\tnull\r\n}\n",
			"", map[PropertyID]Value{propConnectorName: {Str: "a"}, propMachineName: {Null: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key := tt.key
			if key == "" {
				key = seedKey
			}
			p, err := ParsePatch(connType, []byte(tt.body), key)
			if err != nil {
				t.Fatalf("ParsePatch: %v", err)
			}
			want := tt.want
			if want == nil {
				want = seedValues(t)
			}
			checkPatch(t, p, want)
		})
	}
}

func ticksOfText(tb testing.TB, s string) int64 {
	tb.Helper()
	return mustParseDateTimeOffset(tb, s).Ticks
}

// malformedBodies are not JSON, or not JSON that graphd reads (invalid UTF-8, lone surrogates, too deep);
// each must be refused with CodeBadRequest. They also seed the fuzzers.
var malformedBodies = []struct {
	name string
	body string
}{
	{"TruncatedOpen", `{`},
	{"TruncatedAfterName", `{"connectorName"`},
	{"TruncatedAfterColon", `{"connectorName":`},
	{"TruncatedInString", `{"connectorName":"x`},
	{"TruncatedInEscape", `{"connectorName":"x\`},
	{"TruncatedInUnicodeEscape", `{"connectorName":"\u00`},
	{"TruncatedBeforeClose", `{"connectorName":"x"`},
	{"TruncatedSeed", seedBody[:len(seedBody)-1]},
	{"TruncatedLiteral", `{"connectorName":nul`},
	{"TruncatedNumber", `{"@x":-`},
	{"TrailingComma", `{"connectorName":"x",}`},
	{"TrailingCommaInAnnotationArray", `{"@x":[1,]}`},
	{"OnlyComma", `{,}`},
	{"LeadingComma", `{,"connectorName":"x"}`},
	{"DoubleComma", `{"connectorName":"x",,"machineName":"y"}`},
	{"MissingComma", `{"connectorName":"x" "machineName":"y"}`},
	{"MissingColon", `{"connectorName" "x"}`},
	{"DoubleColon", `{"connectorName"::"x"}`},
	{"TrailingGarbage", `{} x`},
	{"TrailingObject", `{}{}`},
	{"TrailingBracket", `{}]`},
	{"TrailingNUL", "{}\x00"},
	{"SingleQuotedName", `{'connectorName':"x"}`},
	{"SingleQuotedValue", `{"connectorName":'x'}`},
	{"UnquotedName", `{connectorName:"x"}`},
	{"NaN", `{"@x.y":NaN}`},
	{"Infinity", `{"@x.y":Infinity}`},
	{"MinusInfinity", `{"@x.y":-Infinity}`},
	{"LeadingZero", `{"@x.y":01}`},
	{"NegativeLeadingZero", `{"@x.y":-01}`},
	{"TrailingDot", `{"@x.y":1.}`},
	{"LeadingDot", `{"@x.y":.5}`},
	{"PlusSign", `{"@x.y":+1}`},
	{"ExponentWithoutDigits", `{"@x.y":1e}`},
	{"ExponentSignWithoutDigits", `{"@x.y":1e+}`},
	{"Hex", `{"@x.y":0x10}`},
	{"BareWord", `{"@x.y":undefined}`},
	{"CapitalTrue", `{"@x.y":True}`},
	{"CapitalNull", `{"connectorName":Null}`},
	{"Comment", `{/* c */}`},
	{"LineComment", "{} // c"},
	{"RawTabInString", "{\"connectorName\":\"a\tb\"}"},
	{"RawNewlineInString", "{\"connectorName\":\"a\nb\"}"},
	{"RawNULInString", "{\"connectorName\":\"a\x00b\"}"},
	{"InvalidEscape", `{"connectorName":"\x41"}`},
	{"ShortUnicodeEscape", `{"connectorName":"\u12"}`},
	{"NonHexUnicodeEscape", `{"connectorName":"\u12g4"}`},
	{"UpperCaseUEscape", `{"connectorName":"\U0041"}`},
	{"InvalidUTF8Byte", "{\"connectorName\":\"a\xffb\"}"},
	{"InvalidUTF8Sequence", "{\"connectorName\":\"\xc3\x28\"}"},
	{"OverlongUTF8", "{\"connectorName\":\"\xc0\xaf\"}"},
	{"UTF8EncodedSurrogate", "{\"connectorName\":\"\xed\xa0\x80\"}"},
	{"TruncatedUTF8AtEnd", "{\"connectorName\":\"\xe2\x82\"}"},
	{"InvalidUTF8AfterEscape", "{\"connectorName\":\"\\n\xff\"}"},
	{"InvalidUTF8BeforeEscape", "{\"connectorName\":\"\xe2\\n\"}"},
	{"InvalidUTF8InName", "{\"connector\xffName\":\"x\"}"},
	{"InvalidUTF8InAnnotation", "{\"@x.y\":\"\xff\"}"},
	{"InvalidUTF8OutsideString", "{\xff}"},
	{"LoneHighSurrogate", `{"connectorName":"\ud800"}`},
	{"LoneHighSurrogateThenText", `{"connectorName":"\ud800xx"}`},
	{"HighSurrogateThenBMP", `{"connectorName":"\ud800\u0041"}`},
	{"HighSurrogateThenHigh", `{"connectorName":"\ud800\ud800"}`},
	{"HighSurrogateThenOtherEscape", `{"connectorName":"\ud800\n"}`},
	{"LoneLowSurrogate", `{"connectorName":"\udc00"}`},
	{"ReversedSurrogatePair", `{"connectorName":"\ude00\ud83d"}`},
	{"LoneSurrogateInAnnotation", `{"@x.y":"\udfff"}`},
	{"LoneSurrogateInName", `{"\ud800":1}`},
	{"DeepArrays", `{"@x.y":` + strings.Repeat("[", 100_000)},
	{"DeepArraysClosed", `{"@x.y":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}`},
	{"DeepObjects", `{"@x.y":` + strings.Repeat(`{"a":`, 100_000)},
	{"DeepJustOverLimit", `{"@x.y":` + strings.Repeat("[", 66) + strings.Repeat("]", 66) + `}`},
	{"DeepTopLevel", strings.Repeat("[", 100_000)},
	{"UnknownPropertyThenMalformed", `{"ConnectorName":1,,}`},
	{"DuplicateThenMalformed", `{"connectorName":"a","connectorName":"b" x}`},
	{"NullDateTimeThenTrailingGarbage", `{"enrollmentDateTime":null} x`},
	{"WrongTypeThenTruncated", `{"connectorName":5,"machineName":"`},
	{"TypeAnnotationMissingValue", `{"@odata.type": }`},
	{"TypeAnnotationBadLiteral", `{"@odata.type": nope}`},
	{"BadIDThenInvalidUTF8", "{\"id\":\"x\",\"connectorName\":\"\xff\"}"},
	{"NULEscapeThenTruncated", `{"connectorName":"\u0000",`},
}

// bodies that are JSON but not an object.
var nonObjectBodies = []struct {
	name, body, kind string
}{
	{"EmptyArray", `[]`, "a JSON array"},
	{"ArrayOfEntity", `[{"connectorName":"x"}]`, "a JSON array"},
	{"String", `"x"`, "a JSON string"},
	{"Number", `12`, "a JSON number"},
	{"NegativeNumber", ` -1.5e3 `, "a JSON number"},
	{"True", `true`, "a JSON boolean"},
	{"False", `false`, "a JSON boolean"},
	{"Null", "null\n", "null"},
}

func TestParsePatchMalformed(t *testing.T) {
	t.Parallel()
	for _, tt := range malformedBodies {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePatch(connType, []byte(tt.body), seedKey)
			checkInvalid(t, err, CodeBadRequest, MalformedMessage)
		})
	}
}

func TestParsePatchNotAnObject(t *testing.T) {
	t.Parallel()
	for _, tt := range nonObjectBodies {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePatch(connType, []byte(tt.body), seedKey)
			checkInvalid(t, err, CodeBadRequest, "must be a JSON object, but "+tt.kind+" was found")
		})
	}
}

func TestParsePatchEmptyBody(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, body string }{
		{"Nil", ""},
		{"Spaces", "   "},
		{"Whitespace", " \t\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePatch(connType, []byte(tt.body), seedKey)
			checkInvalid(t, err, CodeBadRequest, "The request body is empty")
		})
	}
}

func TestParsePatchInvalid(t *testing.T) {
	t.Parallel()
	type errCase struct {
		name, body, code, msg string
	}
	tests := []errCase{
		{"NullEnrollmentDateTime", `{"enrollmentDateTime":null}`, CodeModelValidationFailure,
			"A null value was found for the property named 'enrollmentDateTime', which has the expected type 'Edm.DateTimeOffset[Nullable=False]'"},
		{"NullLastCheckinDateTime", `{"lastCheckinDateTime":null}`, CodeModelValidationFailure,
			"A null value was found for the property named 'lastCheckinDateTime'"},
		{"DateTimeWithoutOffset", `{"enrollmentDateTime":"2024-01-19T13:38:22.169688"}`, CodeModelValidationFailure,
			"Cannot convert the literal '2024-01-19T13:38:22.169688' to the expected type 'Edm.DateTimeOffset'"},
		{"DateTimeEightFractionDigits", `{"lastCheckinDateTime":"2017-01-01T00:02:46.04314161-08:00"}`, CodeModelValidationFailure,
			"Cannot convert the literal"},
		{"DateTimeOffsetTooWide", `{"lastCheckinDateTime":"2017-01-01T00:02:46+14:01"}`, CodeModelValidationFailure,
			"Cannot convert the literal"},
		{"DateTimeBeforeRange", `{"enrollmentDateTime":"0001-01-01T00:00:00+01:00"}`, CodeModelValidationFailure,
			"Cannot convert the literal"},
		{"DateTimeEmpty", `{"enrollmentDateTime":""}`, CodeModelValidationFailure, "Cannot convert the literal ''"},
		{"DateTimeWithNUL", `{"enrollmentDateTime":"2017-01-01T00:02:46Z\u0000"}`, CodeModelValidationFailure,
			"Cannot convert the literal"},
		{"UnknownProperty", `{"foo":1}`, CodeModelValidationFailure,
			"The property 'foo' does not exist on type 'microsoft.graph.certificateConnectorDetails'"},
		{"UnknownPropertyCaseSensitive", `{"ConnectorName":"x"}`, CodeModelValidationFailure,
			"The property 'ConnectorName' does not exist"},
		{"UnknownPropertyID", `{"ID":"104d7361-7361-104d-6173-4d1061734d10"}`, CodeModelValidationFailure,
			"The property 'ID' does not exist"},
		{"UnknownPropertyVersion", `{"version":1}`, CodeModelValidationFailure, "The property 'version' does not exist"},
		{"UnknownPropertyODataTypeWithoutAt", `{"odata.type":"#microsoft.graph.certificateConnectorDetails"}`,
			CodeModelValidationFailure, "The property 'odata.type' does not exist"},
		{"UnknownPropertyEmptyName", `{"":1}`, CodeModelValidationFailure, "The property '' does not exist"},
		{"UnknownPropertyAfterValidOnes", `{"connectorName":"a","machineName":"b","x":null}`, CodeModelValidationFailure,
			"The property 'x' does not exist"},
		{"DuplicateProperty", `{"connectorName":"a","connectorName":"b"}`, CodeModelValidationFailure,
			"Multiple properties with the name 'connectorName' were detected"},
		{"DuplicateNull", `{"machineName":null,"machineName":null}`, CodeModelValidationFailure,
			"Multiple properties with the name 'machineName'"},
		{"DuplicateViaEscape", `{"connectorName":"a","connector\u004eame":"a"}`, CodeModelValidationFailure,
			"Multiple properties with the name 'connectorName'"},
		{"DuplicateDateTime", `{"enrollmentDateTime":"2024-01-01T00:00:00Z","enrollmentDateTime":"2024-01-01T00:00:00Z"}`,
			CodeModelValidationFailure, "Multiple properties with the name 'enrollmentDateTime'"},
		{"DuplicateODataType", `{"@odata.type":"#microsoft.graph.certificateConnectorDetails","@odata.type":"#microsoft.graph.certificateConnectorDetails"}`,
			CodeModelValidationFailure, "Multiple properties with the name '@odata.type'"},
		{"DuplicateAnnotation", `{"@x.y":1,"@x.y":1}`, CodeModelValidationFailure, "Multiple properties with the name '@x.y'"},
		{"DuplicateID", `{"id":"104d7361-7361-104d-6173-4d1061734d10","id":"104d7361-7361-104d-6173-4d1061734d10"}`,
			CodeModelValidationFailure, "Multiple properties with the name 'id'"},
		{"TypeOtherEntity", `{"@odata.type":"#microsoft.graph.user"}`, CodeModelValidationFailure,
			"A type named '#microsoft.graph.user' could not be resolved by the model"},
		{"TypeUnknown", `{"@odata.type":"foo"}`, CodeModelValidationFailure, "A type named 'foo' could not be resolved"},
		{"TypeEmpty", `{"@odata.type":""}`, CodeModelValidationFailure, "A type named '' could not be resolved"},
		{"TypeDoubleHash", `{"@odata.type":"##microsoft.graph.certificateConnectorDetails"}`, CodeModelValidationFailure,
			"could not be resolved"},
		{"TypeCaseDiffers", `{"@odata.type":"#Microsoft.Graph.CertificateConnectorDetails"}`, CodeModelValidationFailure,
			"could not be resolved"},
		{"TypeUnqualified", `{"@odata.type":"#certificateConnectorDetails"}`, CodeModelValidationFailure, "could not be resolved"},
		{"TypeTrailingSpace", `{"@odata.type":"#microsoft.graph.certificateConnectorDetails "}`, CodeModelValidationFailure,
			"could not be resolved"},
		{"TypeNumber", `{"@odata.type":1}`, CodeModelValidationFailure,
			"The value of '@odata.type' must be a JSON string naming a type, but a JSON number was found"},
		{"TypeNull", `{"@odata.type":null}`, CodeModelValidationFailure, "but null was found"},
		{"TypeBool", `{"@odata.type":true}`, CodeModelValidationFailure, "but a JSON boolean was found"},
		{"TypeObject", `{"@odata.type":{"a":1}}`, CodeModelValidationFailure, "but a JSON object was found"},
		{"TypeArray", `{"@odata.type":["#microsoft.graph.certificateConnectorDetails"]}`, CodeModelValidationFailure,
			"but a JSON array was found"},
		{"IDDiffers", `{"id":"` + otherKey + `"}`, CodeModelValidationFailure,
			"The key property 'id' cannot be changed: the request body has '" + otherKey + "', but the URL addresses '" + seedKey + "'"},
		{"IDNull", `{"id":null}`, CodeModelValidationFailure, "the request body has null"},
		{"IDNotGUID", `{"id":"abc"}`, CodeModelValidationFailure, "the request body has 'abc'"},
		{"IDEmpty", `{"id":""}`, CodeModelValidationFailure, "the request body has ''"},
		{"IDBraced", `{"id":"{104d7361-7361-104d-6173-4d1061734d10}"}`, CodeModelValidationFailure, "cannot be changed"},
		{"IDWithoutDashes", `{"id":"104d73617361104d61734d1061734d10"}`, CodeModelValidationFailure, "cannot be changed"},
		{"IDWithSpace", `{"id":" 104d7361-7361-104d-6173-4d1061734d10"}`, CodeModelValidationFailure, "cannot be changed"},
		{"IDNumber", `{"id":104}`, CodeModelValidationFailure, "The property 'id' has the type 'Edm.String', but a JSON number was found"},
		{"IDWithNUL", `{"id":"104d7361-7361-104d-6173-4d1061734d10\u0000"}`, CodeModelValidationFailure, "U+0000"},
		{"NULInConnectorName", `{"connectorName":"a\u0000b"}`, CodeModelValidationFailure,
			"The property 'connectorName' contains the character U+0000"},
		{"NULInMachineName", `{"machineName":"\u0000"}`, CodeModelValidationFailure, "The property 'machineName' contains"},
		{"NULInConnectorVersion", `{"connectorVersion":"x\u0000"}`, CodeModelValidationFailure, "The property 'connectorVersion' contains"},
		{"FirstErrorWins", `{"foo":1,"connectorName":5}`, CodeModelValidationFailure, "The property 'foo' does not exist"},
		{"ValidationAfterAnnotation", `{"@x.y":{"a":[1,2,{"b":3}]},"connectorName":5}`, CodeModelValidationFailure,
			"The property 'connectorName' has the type"},
	}
	// Every JSON type that is not the property's: strings get everything but strings and null, and timestamps too.
	wrongValues := []struct{ name, json, kind string }{
		{"Number", `42`, "a JSON number"},
		{"NegativeFloat", `-1.5e-3`, "a JSON number"},
		{"True", `true`, "a JSON boolean"},
		{"False", `false`, "a JSON boolean"},
		{"Object", `{"a":"b"}`, "a JSON object"},
		{"EmptyObject", `{}`, "a JSON object"},
		{"Array", `["x"]`, "a JSON array"},
		{"EmptyArray", `[]`, "a JSON array"},
	}
	for _, prop := range connType.Properties[1:] {
		for _, v := range wrongValues {
			tests = append(tests, errCase{
				name: "WrongType/" + prop.Name + "/" + v.name,
				body: `{"` + prop.Name + `":` + v.json + `}`,
				code: CodeModelValidationFailure,
				msg:  "The property '" + prop.Name + "' has the type '" + prop.Type.String() + "', but " + v.kind + " was found.",
			})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePatch(connType, []byte(tt.body), seedKey)
			checkInvalid(t, err, tt.code, tt.msg)
			if p.Len() != 0 {
				t.Errorf("a refused patch sets %d properties", p.Len())
			}
		})
	}
}

func TestParseCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want map[PropertyID]Value
	}{
		{"Seed", seedBody, nil},
		{"Empty", `{}`, map[PropertyID]Value{}},
		{"IDIgnored", `{"id":"` + otherKey + `","connectorName":"a"}`, map[PropertyID]Value{propConnectorName: {Str: "a"}}},
		{"IDNotGUIDIgnored", `{"id":"client-chosen"}`, map[PropertyID]Value{}},
		{"IDNullIgnored", `{"id":null}`, map[PropertyID]Value{}},
		{"NullString", `{"connectorVersion":null}`, map[PropertyID]Value{propConnectorVersion: {Null: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseCreate(connType, []byte(tt.body))
			if err != nil {
				t.Fatalf("ParseCreate: %v", err)
			}
			want := tt.want
			if want == nil {
				want = seedValues(t)
			}
			checkPatch(t, p, want)
		})
	}
}

func TestParseCreateInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, code, msg string
	}{
		{"IDNumber", `{"id":1}`, CodeModelValidationFailure, "The property 'id' has the type 'Edm.String'"},
		{"UnknownProperty", `{"ConnectorName":"x"}`, CodeModelValidationFailure, "The property 'ConnectorName' does not exist"},
		{"NullDateTime", `{"lastCheckinDateTime":null}`, CodeModelValidationFailure, "A null value was found"},
		{"TypeOther", `{"@odata.type":"#microsoft.graph.user"}`, CodeModelValidationFailure, "could not be resolved"},
		{"Duplicate", `{"machineName":"a","machineName":"a"}`, CodeModelValidationFailure, "Multiple properties"},
		{"Array", `[]`, CodeBadRequest, "must be a JSON object"},
		{"Empty", ``, CodeBadRequest, "The request body is empty"},
		{"Malformed", `{"connectorName":"a",}`, CodeBadRequest, MalformedMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCreate(connType, []byte(tt.body))
			checkInvalid(t, err, tt.code, tt.msg)
		})
	}
}

func TestNewConnector(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want Entity
	}{
		{"EmptyTakesDefaults", `{}`, connector(seedKey, nil)},
		{"Seed", seedBody, connector(seedKey, map[string]Value{
			"connectorName":       Str("Connector Name value"),
			"machineName":         Str("Machine Name value"),
			"enrollmentDateTime":  Time(mustParseDateTimeOffset(t, "2016-12-31T23:57:59.3726057-08:00")),
			"lastCheckinDateTime": Time(mustParseDateTimeOffset(t, "2017-01-01T00:02:46.0431416-08:00")),
			"connectorVersion":    Str("Connector Version value"),
		})},
		{"NullsStayNull", `{"connectorName":null,"machineName":""}`, connector(seedKey, map[string]Value{"machineName": Str("")})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseCreate(connType, []byte(tt.body))
			if err != nil {
				t.Fatalf("ParseCreate: %v", err)
			}
			got := NewEntity(connType, seedKey, &p, mustParseDateTimeOffset(t, "2025-01-01T00:00:00Z"))
			checkEntity(t, got, tt.want)
		})
	}
}

func TestPatchApply(t *testing.T) {
	t.Parallel()
	before := withVersion(connector(seedKey, map[string]Value{
		"connectorName":       Str("old name"),
		"machineName":         Str("old machine"),
		"enrollmentDateTime":  Time(mustParseDateTimeOffset(t, "2020-01-01T00:00:00Z")),
		"lastCheckinDateTime": Time(mustParseDateTimeOffset(t, "2020-01-02T00:00:00Z")),
		"connectorVersion":    Str("1.0"),
	}), 4)
	tests := []struct {
		name   string
		body   string
		change func(c *Entity)
	}{
		{"EmptyLeavesAll", `{}`, func(*Entity) {}},
		{"ClearOne", `{"machineName":null}`, func(c *Entity) { c.Set("machineName", Null) }},
		{"SetOne", `{"connectorVersion":"2.0"}`, func(c *Entity) { c.Set("connectorVersion", Str("2.0")) }},
		{"IDInBodyChangesNothing", `{"id":"` + strings.ToUpper(seedKey) + `"}`, func(*Entity) {}},
		{"TimestampKeepsOffset", `{"lastCheckinDateTime":"2024-06-01T12:00:00+05:45"}`, func(c *Entity) {
			c.Set("lastCheckinDateTime", Time(mustParseDateTimeOffset(t, "2024-06-01T12:00:00+05:45")))
		}},
		{"Seed", seedBody, func(c *Entity) {
			*c = withVersion(connector(seedKey, map[string]Value{
				"connectorName":       Str("Connector Name value"),
				"machineName":         Str("Machine Name value"),
				"enrollmentDateTime":  Time(mustParseDateTimeOffset(t, "2016-12-31T23:57:59.3726057-08:00")),
				"lastCheckinDateTime": Time(mustParseDateTimeOffset(t, "2017-01-01T00:02:46.0431416-08:00")),
				"connectorVersion":    Str("Connector Version value"),
			}), 4)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePatch(connType, []byte(tt.body), seedKey)
			if err != nil {
				t.Fatalf("ParsePatch: %v", err)
			}
			got, want := cloneEntity(before), cloneEntity(before)
			p.Apply(&got)
			tt.change(&want)
			checkEntity(t, got, want)
		})
	}
}

func TestParseGUID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"Lower", seedKey, seedKey, true},
		{"Upper", strings.ToUpper(seedKey), seedKey, true},
		{"Mixed", "104D7361-7361-104d-6173-4D1061734d10", seedKey, true},
		{"Empty", "", "", false},
		{"Braced", "{" + seedKey + "}", "", false},
		{"NoDashes", "104d73617361104d61734d1061734d10", "", false},
		{"DashMoved", "104d736-17361-104d-6173-4d1061734d10", "", false},
		{"NonHex", "104d7361-7361-104d-6173-4d1061734d1g", "", false},
		{"Short", seedKey[:35], "", false},
		{"Long", seedKey + "0", "", false},
		{"NonASCII", "104d7361-7361-104d-6173-4d1061734d1é", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseGUID(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseGUID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestLookupProperty(t *testing.T) {
	t.Parallel()
	for _, typ := range []*EntityType{connType, pfxType} {
		for i := range typ.Properties {
			prop := &typ.Properties[i]
			t.Run(typ.Name+"/"+prop.Name, func(t *testing.T) {
				t.Parallel()
				got, ok := typ.Property(prop.Name)
				if !ok || int(got.ID) != i || got != prop {
					t.Errorf("Property(%q) = %+v, %v", prop.Name, got, ok)
				}
				if _, ok := typ.Property(strings.ToUpper(prop.Name)); ok {
					t.Errorf("Property(%q) found a property: names are case-sensitive", strings.ToUpper(prop.Name))
				}
			})
		}
	}
}

func TestErrorKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"Nil", nil, KindInternal},
		{"Bare", errors.New("x"), KindInternal},
		{"NotFound", ErrNotFound, KindNotFound},
		{"Wrapped", errorsJoin(ErrPreconditionFailed), KindPreconditionFailed},
		{"Unavailable", ErrUnavailable, KindUnavailable},
		{"Invalid", invalid("x"), KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ErrorKind(tt.err); got != tt.want {
				t.Errorf("ErrorKind(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func errorsJoin(err error) error { return errors.Join(errors.New("context"), err) }

func BenchmarkParsePatch(b *testing.B) {
	body := []byte(seedBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePatch(connType, body, seedKey); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseActionRequests(t *testing.T) {
	t.Parallel()
	names, err := ParseHealthMetricsRequest([]byte(`{"metricNames":["Metric Names value","b"],"@odata.context":"x"}`))
	if err != nil || len(names) != 2 || names[0] != "Metric Names value" {
		t.Fatalf("names = %q, %v", names, err)
	}
	for name, body := range map[string]string{
		"Missing": `{}`, "Null": `{"metricNames":null}`, "Empty": `{"metricNames":[]}`, "NotArray": `{"metricNames":"a"}`,
		"NotStrings": `{"metricNames":[1]}`, "Unknown": `{"metricNames":["a"],"x":1}`, "Duplicate": `{"metricNames":["a"],"metricNames":["b"]}`,
		"NUL": `{"metricNames":["a\u0000"]}`, "Malformed": `{"metricNames":[`, "Array": `[]`, "EmptyBody": ``,
	} {
		if _, err := ParseHealthMetricsRequest([]byte(body)); ErrorKind(err) != KindInvalid {
			t.Errorf("getHealthMetrics %s: err = %v", name, err)
		}
	}
	ts, err := ParseTimeSeriesRequest([]byte(`{"timeSeries":{"@odata.type":"microsoft.graph.timeSeriesParameter","metricName":"Metric Name value","startDateTime":"2016-12-31T23:58:46.7156189-08:00","endDateTime":"2017-01-01T00:03:30.9241974-08:00"}}`))
	if err != nil || ts.MetricName != "Metric Name value" || !ts.HasEnd || ts.Start.String() != "2016-12-31T23:58:46.7156189-08:00" {
		t.Fatalf("timeSeries = %+v, %v", ts, err)
	}
	if ts, err := ParseTimeSeriesRequest([]byte(`{"timeSeries":{"metricName":"m","startDateTime":"2016-12-31T23:58:46Z","endDateTime":null}}`)); err != nil || ts.HasEnd {
		t.Fatalf("null end: %+v, %v", ts, err)
	}
	for name, body := range map[string]string{
		"Missing": `{}`, "NoStart": `{"timeSeries":{"metricName":"m"}}`, "NullStart": `{"timeSeries":{"metricName":"m","startDateTime":null}}`,
		"NoName": `{"timeSeries":{"startDateTime":"2016-12-31T23:58:46Z"}}`, "WrongType": `{"timeSeries":{"@odata.type":"#microsoft.graph.user","metricName":"m","startDateTime":"2016-12-31T23:58:46Z"}}`,
		"EndBeforeStart": `{"timeSeries":{"metricName":"m","startDateTime":"2016-12-31T23:58:46Z","endDateTime":"2016-01-01T00:00:00Z"}}`,
		"BadTime":        `{"timeSeries":{"metricName":"m","startDateTime":"yesterday"}}`, "Unknown": `{"timeSeries":{"metricName":"m","startDateTime":"2016-12-31T23:58:46Z","x":1}}`,
		"NotObject": `{"timeSeries":[]}`, "Malformed": `{"timeSeries":{`,
	} {
		if _, err := ParseTimeSeriesRequest([]byte(body)); ErrorKind(err) != KindInvalid {
			t.Errorf("getHealthMetricTimeSeries %s: err = %v", name, err)
		}
	}
}

func TestAppendActionResults(t *testing.T) {
	t.Parallel()
	o := ValueOptions{ServiceRoot: "https://g.test/beta"}
	got := string(AppendKeyLongValuePairs(nil, []string{"a"}, []int64{1 << 60}, o))
	want := `{"@odata.context":"https://g.test/beta/$metadata#Collection(microsoft.graph.keyLongValuePair)","value":[{"name":"a","value":1152921504606846976}]}`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	o.IEEE754Compatible = true
	if got := string(AppendKeyLongValuePairs(nil, []string{"a"}, []int64{5}, o)); !strings.Contains(got, `"value":"5"`) {
		t.Errorf("IEEE754Compatible: %s", got)
	}
	d, _ := ParseDateTimeOffset("2016-12-31T23:59:57.0735821-08:00")
	got = string(AppendHealthMetricValues(nil, []MetricSample{{DateTime: d, SuccessCount: 12, FailureCount: 12}}, ValueOptions{ServiceRoot: "https://g.test/beta"}))
	want = `{"@odata.context":"https://g.test/beta/$metadata#Collection(microsoft.graph.certificateConnectorHealthMetricValue)","value":[{"dateTime":"2016-12-31T23:59:57.0735821-08:00","successCount":12,"failureCount":12}]}`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
