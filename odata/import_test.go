package odata

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// importNow is the instant imports run at in these tests.
var importNow = DateTimeOffset{Ticks: 638_000_000_000_000_000, Offset: 60}

func parseImport(data string) (ImportSet, error) {
	return ParseImport(Graph(), []byte(data), importNow)
}

func checkImported(tb testing.TB, set ImportSet, es *EntitySet, want []Entity) {
	tb.Helper()
	got := set.Entities[es.Index]
	if len(got) != len(want) {
		tb.Fatalf("%s: got %d entities, want %d", es.Name, len(got), len(want))
	}
	for i := range want {
		checkEntity(tb, got[i], want[i])
	}
}

func TestParseImport(t *testing.T) {
	t.Parallel()
	const (
		idA = "aaaaaaaa-0000-4000-8000-000000000001"
		idB = "bbbbbbbb-0000-4000-8000-000000000002"
	)
	seedEntity := connector(idA, map[string]Value{
		"connectorName":       Str("Connector Name value"),
		"machineName":         Str("Machine Name value"),
		"enrollmentDateTime":  Time(mustParseDateTimeOffset(t, "2016-12-31T23:57:59.3726057-08:00")),
		"lastCheckinDateTime": Time(mustParseDateTimeOffset(t, "2017-01-01T00:02:46.0431416-08:00")),
		"connectorVersion":    Str("Connector Version value"),
	})
	seedWithID := `{"id":"` + strings.ToUpper(idA) + `",` + seedBody[1:]
	tests := []struct {
		name string
		data string
		want []Entity
	}{
		{"BareArray", `[` + seedWithID + `,{"id":"` + idB + `"}]`, []Entity{seedEntity, connector(idB, nil)}},
		{"EmptyArray", " [ ] \n", nil},
		{"ValueWrapper", `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#deviceManagement/certificateConnectorDetails",` +
			`"value":[{"@odata.type":"#microsoft.graph.certificateConnectorDetails","id":"` + idB + `","connectorName":null}]}`,
			[]Entity{connector(idB, nil)}},
		{"ValueWrapperAnnotationsAfter", `{"value":[` + seedWithID + `],"@odata.nextLink":"https://x/y","@odata.count":1}`,
			[]Entity{seedEntity}},
		{"ValueWrapperEmpty", `{"value":[]}`, nil},
		{"SetMember", `{"certificateConnectorDetails":[` + seedWithID + `]}`, []Entity{seedEntity}},
		{"BOM", "\xef\xbb\xbf[" + seedWithID + "]", []Entity{seedEntity}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := parseImport(tt.data)
			if err != nil {
				t.Fatalf("ParseImport: %v", err)
			}
			checkImported(t, set, connSet, tt.want)
			if set.Count(pfxSet) != 0 || len(set.Samples) != 0 {
				t.Errorf("set = %+v", set)
			}
		})
	}
}

// userPfx fixtures: ids are derived from the values; a given id must be the derived one (in any case);
// server-set times are kept as given and are the import's instant when omitted.
func TestParseImportUserPfx(t *testing.T) {
	t.Parallel()
	created := mustParseDateTimeOffset(t, "2017-01-01T00:02:43.5775965-08:00")
	modified := mustParseDateTimeOffset(t, "2017-01-01T00:00:35.1329464-08:00")
	key := UserPfxKey("User@Contoso.com", "AB12")
	pfx := func(values map[string]Value) Entity {
		v := map[string]Value{"userPrincipalName": Str("User@Contoso.com"), "thumbprint": Str("AB12"),
			"createdDateTime": Time(importNow), "lastModifiedDateTime": Time(importNow)}
		for name, x := range values {
			v[name] = x
		}
		return entity(pfxType, key, v)
	}
	const base = `"userPrincipalName":"User@Contoso.com","thumbprint":"AB12"`
	tests := []struct {
		name  string
		data  string
		conns int
		want  []Entity
	}{
		{"IDDerived", `{"userPfxCertificates":[{` + base + `}]}`, 0, []Entity{pfx(nil)}},
		{"IDGiven", `{"userPfxCertificates":[{"id":"` + key + `",` + base + `}]}`, 0, []Entity{pfx(nil)}},
		{"IDGivenUpperCase", `{"userPfxCertificates":[{"id":"` + strings.ToUpper(key) + `",` + base + `}]}`, 0, []Entity{pfx(nil)}},
		{"ServerSetTimesKept", `{"userPfxCertificates":[{` + base + `,"createdDateTime":"` + created.String() +
			`","lastModifiedDateTime":"` + modified.String() + `"}]}`, 0,
			[]Entity{pfx(map[string]Value{"createdDateTime": Time(created), "lastModifiedDateTime": Time(modified)})}},
		{"EveryProperty", `{"userPfxCertificates":[{` + base + `,"intendedPurpose":"VPN","paddingScheme":"oaepSha512",` +
			`"startDateTime":"2024-01-01T00:00:00Z","encryptedPfxBlob":"AP8=","encryptedPfxPassword":"pw","providerName":null}]}`, 0,
			[]Entity{pfx(map[string]Value{"intendedPurpose": Int(4), "paddingScheme": Int(5),
				"startDateTime": Time(mustParseDateTimeOffset(t, "2024-01-01T00:00:00Z")), "encryptedPfxBlob": Str("\x00\xff"),
				"encryptedPfxPassword": Str("pw")})}},
		{"BothSets", `{"userPfxCertificates":[{` + base + `}],"certificateConnectorDetails":[{"id":"` + seedKey + `"}],"healthMetricSamples":[]}`,
			1, []Entity{pfx(nil)}},
		{"Empty", `{"userPfxCertificates":[]}`, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := parseImport(tt.data)
			if err != nil {
				t.Fatalf("ParseImport: %v", err)
			}
			checkImported(t, set, pfxSet, tt.want)
			if set.Count(connSet) != tt.conns {
				t.Errorf("%d connectors, want %d", set.Count(connSet), tt.conns)
			}
		})
	}
}

func TestParseImportInvalid(t *testing.T) {
	t.Parallel()
	const (
		idA = "aaaaaaaa-0000-4000-8000-000000000001"
		idB = "bbbbbbbb-0000-4000-8000-000000000002"
	)
	const pfx = `"userPrincipalName":"u@x","thumbprint":"ab"`
	pfxKey := UserPfxKey("u@x", "ab")
	tests := []struct {
		name, data, code, msg string
	}{
		{"DuplicateIDs", `[{"id":"` + idA + `"},{"id":"` + idB + `"},{"id":"` + strings.ToUpper(idA) + `"}]`,
			CodeModelValidationFailure, "entity 2: The id '" + idA + "' was already given by entity 0."},
		{"MissingID", `[{"id":"` + idA + `"},{"connectorName":"x"}]`, CodeModelValidationFailure,
			"entity 1: The key property 'id' is required"},
		{"NullID", `[{"id":null}]`, CodeModelValidationFailure, "entity 0: The key property 'id' must not be null."},
		{"NonGUIDID", `[{"id":"x1"}]`, CodeModelValidationFailure, "entity 0: The key property 'id' must be a GUID, but 'x1' was found."},
		{"NumberID", `[{"id":1}]`, CodeModelValidationFailure, "entity 0: The property 'id' has the type"},
		{"EntityErrorReportsIndex", `[{"id":"` + idA + `"},{"id":"` + idB + `","enrollmentDateTime":"yesterday"}]`,
			CodeModelValidationFailure, "entity 1: Cannot convert the literal 'yesterday'"},
		{"EntityUnknownProperty", `{"value":[{"id":"` + idA + `"},{"id":"` + idB + `","ConnectorName":"x"}]}`,
			CodeModelValidationFailure, "entity 1: The property 'ConnectorName' does not exist"},
		{"EntityDuplicateProperty", `[{"id":"` + idA + `","id":"` + idA + `"}]`, CodeModelValidationFailure,
			"entity 0: Multiple properties with the name 'id'"},
		{"FirstErrorWins", `[{"id":"x"},{"id":"` + idA + `"},{"id":"` + idA + `"}]`, CodeModelValidationFailure, "entity 0:"},
		{"IndexCountsFailedEntities", `[{"id":1},{"id":"` + idA + `"},{"id":"` + idA + `"}]`, CodeModelValidationFailure, "entity 0:"},
		{"EntityNotObject", `[{"id":"` + idA + `"},5]`, CodeModelValidationFailure,
			"entity 1: An entity must be a JSON object, but a JSON number was found."},
		{"EntityNull", `[null]`, CodeModelValidationFailure, "entity 0: An entity must be a JSON object, but null was found."},
		{"ValueNotArray", `{"value":{"id":"` + idA + `"}}`, CodeModelValidationFailure,
			"The member 'value' must be a JSON array, but a JSON object was found."},
		{"ValueNull", `{"value":null}`, CodeModelValidationFailure, "The member 'value' must be a JSON array"},
		{"ValueString", `{"value":"[]"}`, CodeModelValidationFailure, "but a JSON string was found"},
		{"NoValue", `{"@odata.context":"x"}`, CodeModelValidationFailure,
			"The fixture object has none of the members value, certificateConnectorDetails, userPfxCertificates or healthMetricSamples."},
		{"EmptyObject", `{}`, CodeModelValidationFailure, "has none of the members"},
		{"DuplicateValue", `{"value":[],"value":[]}`, CodeModelValidationFailure, "The member 'value' is given twice."},
		{"DuplicateAnnotation", `{"@x":1,"@x":1,"value":[]}`, CodeModelValidationFailure, "The member '@x' is given twice."},
		{"UnknownMember", `{"value":[],"values":[]}`, CodeModelValidationFailure, "Unknown member 'values'"},
		{"SetNameCaseSensitive", `{"UserPfxCertificates":[]}`, CodeModelValidationFailure, "Unknown member 'UserPfxCertificates'"},
		{"ValueAndFirstSet", `{"value":[],"certificateConnectorDetails":[]}`, CodeModelValidationFailure,
			"Give the entities either as 'value' or as 'certificateConnectorDetails', not both."},
		{"FirstSetAndValue", `{"certificateConnectorDetails":[],"value":[]}`, CodeModelValidationFailure, "not both"},
		{"TopLevelString", `"[]"`, CodeModelValidationFailure, "A fixture file is an array of entities or an object"},
		{"TopLevelNumber", `1`, CodeModelValidationFailure, "but a JSON number was found"},
		{"TopLevelNull", `null`, CodeModelValidationFailure, "but null was found"},
		{"Empty", ``, CodeBadRequest, "The fixture file is empty"},
		{"Whitespace", " \n", CodeBadRequest, "The fixture file is empty"},
		{"Truncated", `[{"id":"` + idA + `"},`, CodeBadRequest, "The fixture file is not valid JSON"},
		{"TrailingComma", `[{"id":"` + idA + `"},]`, CodeBadRequest, "not valid JSON"},
		{"TrailingGarbage", `[] x`, CodeBadRequest, "not valid JSON"},
		{"MalformedAfterInvalidEntity", `[{"id":"x"},{"id":"` + idA + `",}]`, CodeBadRequest, "not valid JSON"},
		{"MalformedAfterNonArrayValue", `{"value":5,}`, CodeBadRequest, "not valid JSON"},
		{"MalformedAfterInvalidPfx", `{"userPfxCertificates":[{"thumbprint":"a"}],"x":[}`, CodeBadRequest, "not valid JSON"},
		{"MalformedTopLevelWord", `nope`, CodeBadRequest, "not valid JSON"},
		{"InvalidUTF8", "[{\"id\":\"" + idA + "\",\"connectorName\":\"\xff\"}]", CodeBadRequest, "invalid UTF-8"},
		{"LoneSurrogate", `[{"id":"` + idA + `","connectorName":"\ud800"}]`, CodeBadRequest, "lone surrogate"},
		{"DeepNesting", `[{"id":"` + idA + `","@x":` + strings.Repeat("[", 100_000), CodeBadRequest, "not valid JSON"},
		{"DeepNestingTopLevel", strings.Repeat("[", 100_000), CodeBadRequest, "not valid JSON"},
		// userPfxCertificates: derived ids, required and checked values
		{"PfxIDNotDerived", `{"userPfxCertificates":[{"id":"` + UserPfxKey("u@x", "cd") + `",` + pfx + `}]}`, CodeModelValidationFailure,
			"userPfxCertificates 0: The id '" + UserPfxKey("u@x", "cd") + "' is not the key its values make: '" + pfxKey + "'."},
		{"PfxIDNotAKey", `{"userPfxCertificates":[{"id":"abc",` + pfx + `}]}`, CodeModelValidationFailure,
			"userPfxCertificates 0: The key property 'id' is not a valid key of a userPFXCertificate: 'abc'."},
		{"PfxIDNull", `{"userPfxCertificates":[{"id":null,` + pfx + `}]}`, CodeModelValidationFailure, "The key property 'id' must not be null."},
		{"PfxDuplicateKey", `{"userPfxCertificates":[{` + pfx + `},{"userPrincipalName":"U@X","thumbprint":"AB"}]}`, CodeModelValidationFailure,
			"userPfxCertificates 1: The id '" + pfxKey + "' was already given by entity 0."},
		{"PfxMissingThumbprint", `{"userPfxCertificates":[{"userPrincipalName":"u@x"}]}`, CodeModelValidationFailure,
			"userPfxCertificates 0: The property 'thumbprint' is required when creating a userPFXCertificate and cannot be null."},
		{"PfxNullUPN", `{"userPfxCertificates":[{"userPrincipalName":null,"thumbprint":"a"}]}`, CodeModelValidationFailure,
			"The property 'userPrincipalName' is required"},
		{"PfxUnknownEnumMember", `{"userPfxCertificates":[{` + pfx + `,"paddingScheme":"oaep"}]}`, CodeModelValidationFailure,
			"userPfxCertificates 0: The value 'oaep' of the property 'paddingScheme' is not a member of the enum type 'microsoft.graph.userPfxPaddingScheme'"},
		{"PfxBadBase64", `{"userPfxCertificates":[{` + pfx + `,"encryptedPfxBlob":"AA="}]}`, CodeModelValidationFailure,
			"Cannot convert the literal 'AA=' to the expected type 'Edm.Binary'"},
		{"PfxWrongType", `{"userPfxCertificates":[{` + pfx + `,"@odata.type":"#microsoft.graph.certificateConnectorDetails"}]}`,
			CodeModelValidationFailure, "could not be resolved by the model"},
		{"PfxNotArray", `{"userPfxCertificates":{}}`, CodeModelValidationFailure, "The member 'userPfxCertificates' must be a JSON array"},
		{"PfxConnectorProperty", `{"userPfxCertificates":[{` + pfx + `,"connectorName":"x"}]}`, CodeModelValidationFailure,
			"The property 'connectorName' does not exist on type 'microsoft.graph.userPFXCertificate'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := parseImport(tt.data)
			checkInvalid(t, err, tt.code, tt.msg)
			if set.Entities != nil || set.Samples != nil {
				t.Errorf("a refused import returned %+v", set)
			}
		})
	}
}

func TestParseImportSamples(t *testing.T) {
	t.Parallel()
	file := `{"certificateConnectorDetails":[{"id":"104d7361-7361-104d-6173-4d1061734d10"}],
	  "healthMetricSamples":[
	    {"connectorId":"104D7361-7361-104d-6173-4d1061734d10","metricName":"pfx","dateTime":"2016-12-31T23:59:57.0735821-08:00","successCount":12,"failureCount":"3"},
	    {"@x.y":1,"connectorId":"104d7361-7361-104d-6173-4d1061734d10","metricName":"pfx","dateTime":"2017-01-01T00:00:00Z","successCount":0,"failureCount":0}]}`
	set, err := parseImport(file)
	if err != nil {
		t.Fatal(err)
	}
	if set.Count(connSet) != 1 || len(set.Samples) != 2 || set.Samples[0].ConnectorID != "104d7361-7361-104d-6173-4d1061734d10" ||
		set.Samples[0].FailureCount != 3 || set.Samples[0].DateTime.String() != "2016-12-31T23:59:57.0735821-08:00" {
		t.Fatalf("set = %+v", set)
	}
	sample := func(name string) string {
		return `{"healthMetricSamples":[{"connectorId":"104d7361-7361-104d-6173-4d1061734d10","metricName":"` + name +
			`","dateTime":"2017-01-01T00:00:00Z","successCount":1,"failureCount":0}]}`
	}
	for _, tt := range []struct {
		name, body string
		ok         bool
	}{
		{"MissingCount", `{"healthMetricSamples":[{"connectorId":"104d7361-7361-104d-6173-4d1061734d10","metricName":"m","dateTime":"2017-01-01T00:00:00Z","successCount":1}]}`, false},
		{"NegativeCount", `{"healthMetricSamples":[{"connectorId":"104d7361-7361-104d-6173-4d1061734d10","metricName":"m","dateTime":"2017-01-01T00:00:00Z","successCount":-1,"failureCount":0}]}`, false},
		{"FloatCount", `{"healthMetricSamples":[{"connectorId":"104d7361-7361-104d-6173-4d1061734d10","metricName":"m","dateTime":"2017-01-01T00:00:00Z","successCount":1.5,"failureCount":0}]}`, false},
		{"BadConnector", `{"healthMetricSamples":[{"connectorId":"x","metricName":"m","dateTime":"2017-01-01T00:00:00Z","successCount":1,"failureCount":0}]}`, false},
		{"NoOffset", `{"healthMetricSamples":[{"connectorId":"104d7361-7361-104d-6173-4d1061734d10","metricName":"m","dateTime":"2017-01-01T00:00:00","successCount":1,"failureCount":0}]}`, false},
		{"Unknown", `{"healthMetricSamples":[{"connectorId":"104d7361-7361-104d-6173-4d1061734d10","metricName":"m","dateTime":"2017-01-01T00:00:00Z","successCount":1,"failureCount":0,"x":1}]}`, false},
		{"Repeated", `{"healthMetricSamples":[{"connectorId":"104d7361-7361-104d-6173-4d1061734d10","metricName":"m","dateTime":"2017-01-01T00:00:00Z","successCount":1,"failureCount":0},{"connectorId":"104d7361-7361-104d-6173-4d1061734d10","metricName":"m","dateTime":"2017-01-01T01:00:00+01:00","successCount":1,"failureCount":0}]}`, false},
		{"NotArray", `{"healthMetricSamples":{}}`, false},
		{"BothForms", `{"value":[],"certificateConnectorDetails":[]}`, false},
		{"NullMetricName", `{"healthMetricSamples":[{"connectorId":"104d7361-7361-104d-6173-4d1061734d10","metricName":null,"dateTime":"2017-01-01T00:00:00Z","successCount":1,"failureCount":0}]}`, false},
		// metricName is capped at MaxMetricNameLength characters, not bytes.
		{"MetricNameAtLimit", sample(strings.Repeat("é", MaxMetricNameLength)), true},
		{"MetricNameOverLimit", sample(strings.Repeat("a", MaxMetricNameLength+1)), false},
		{"MetricNameHuge", sample(strings.Repeat("日", 1<<20)), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := parseImport(tt.body)
			if tt.ok {
				if err != nil || len(set.Samples) != 1 {
					t.Fatalf("ParseImport: %v, %+v", err, set.Samples)
				}
				return
			}
			e := checkInvalid(t, err, "", "")
			if len(e.Message) > 600 {
				t.Errorf("the message is %d bytes long: %.200s…", len(e.Message), e.Message)
			}
			if strings.HasPrefix(tt.name, "MetricName") && !strings.Contains(e.Message, "more than its limit of 256") {
				t.Errorf("message %q does not name the limit", e.Message)
			}
		})
	}
}

// An export is a fixture that imports to what was exported, and exports again to the same bytes: secrets in the
// clear, server-set times and offsets as stored, no versions.
func TestAppendExport(t *testing.T) {
	t.Parallel()
	withTimes := func(e Entity) Entity {
		e.Set("createdDateTime", Time(mustParseDateTimeOffset(t, "2017-01-01T00:02:43.5775965-08:00")))
		e.Set("lastModifiedDateTime", Time(mustParseDateTimeOffset(t, "2024-02-29T23:59:59.9999999+14:00")))
		return e
	}
	pfx := withTimes(pfxDocsEntity(t))
	pfx.Version = 9
	odd := withTimes(entity(pfxType, UserPfxKey("O'Neil@x", "é/1"), map[string]Value{"userPrincipalName": Str("O'Neil@x"),
		"thumbprint": Str("É/1"), "encryptedPfxBlob": Str("\x00\xff"), "encryptedPfxPassword": Null, "intendedPurpose": Int(8)}))
	seed, empty, uni := evalRows(t)
	set := ImportSet{
		Entities: [][]Entity{{seed, empty, uni}, {pfx, odd}},
		Samples: []MetricSample{{ConnectorID: seedKey, MetricName: "pfxImport", DateTime: mustParseDateTimeOffset(t, "2016-12-31T23:59:57.0735821-08:00"),
			SuccessCount: 1 << 60, FailureCount: 0}},
	}
	out := AppendExport(nil, Graph(), &set)
	if !json.Valid(out) || bytes.Contains(out, []byte("@odata.etag")) || !bytes.Contains(out, []byte(`"encryptedPfxBlob":"AP8="`)) ||
		!bytes.Contains(out, []byte(`"encryptedPfxPassword":"Encrypted Pfx Password value"`)) {
		t.Fatalf("export %s", out)
	}
	got, err := ParseImport(Graph(), out, DateTimeOffset{Ticks: 1})
	if err != nil {
		t.Fatalf("ParseImport(%s): %v", out, err)
	}
	pfx.Version = 0 // versions are the server's
	checkSameImport(t, got, ImportSet{Entities: [][]Entity{{seed, empty, uni}, {pfx, odd}}, Samples: set.Samples})
	if again := AppendExport(nil, Graph(), &got); !bytes.Equal(again, out) {
		t.Errorf("export, import, export:\n%s\n%s", out, again)
	}
	if empty := AppendExport(nil, Graph(), &ImportSet{Entities: make([][]Entity, 2)}); string(empty) !=
		`{"certificateConnectorDetails":[],"userPfxCertificates":[],"healthMetricSamples":[]}` {
		t.Errorf("empty export %s", empty)
	}
}
