package odata

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzInvalid fails unless err is an *Error of kind KindInvalid with a client-facing code.
func fuzzInvalid(tb testing.TB, err error) *Error {
	tb.Helper()
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %T %v is not an *odata.Error", err, err)
	}
	if e.Kind != KindInvalid || (e.Code != CodeBadRequest && e.Code != CodeModelValidationFailure) || e.Message == "" {
		tb.Fatalf("error %+v: want KindInvalid with code BadRequest or ModelValidationFailure and a message", e)
	}
	return e
}

// pfxKey is a userPFXCertificate key the payload fuzzers address.
var pfxKey = UserPfxKey("adele@contoso.com", "ab12")

// pfxDocsBody is the example request body of the userPFXCertificate create docs, byte for byte.
const pfxDocsBody = `{
  "@odata.type": "#microsoft.graph.userPFXCertificate",
  "thumbprint": "Thumbprint value",
  "intendedPurpose": "smimeEncryption",
  "userPrincipalName": "User Principal Name value",
  "startDateTime": "2016-12-31T23:58:46.7156189-08:00",
  "expirationDateTime": "2016-12-31T23:57:57.2481234-08:00",
  "providerName": "Provider Name value",
  "keyName": "Key Name value",
  "paddingScheme": "pkcs1",
  "encryptedPfxBlob": "ZW5jcnlwdGVkUGZ4QmxvYg==",
  "encryptedPfxPassword": "Encrypted Pfx Password value"
}`

// payloadSeeds are bodies of both entity types for the payload fuzzers.
func payloadSeeds() [][]byte {
	seeds := [][]byte{
		[]byte(seedBody),
		[]byte(`{}`),
		[]byte(`{"id":"104D7361-7361-104D-6173-4D1061734D10","connectorName":null,"machineName":"\ud83d\ude00\u2028"}`),
		[]byte(`{"@odata.context":"x","@x.y":[{"a":[1,-2.5e-3,true,false,null]}],"connectorName@odata.type":"#String"}`),
		[]byte(`{"enrollmentDateTime":"0001-01-01T00:00:00-01:00","lastCheckinDateTime":"9999-12-31T23:59:59.9999999+14:00"}`),
		[]byte(`{"connectorName":"a\u0000"}`),
		[]byte(`{"ConnectorName":"x","connectorName":"x","connectorName":"y"}`),
		[]byte(pfxDocsBody),
		[]byte(`{"id":"` + pfxKey + `","thumbprint":"AB12","userPrincipalName":"Adele@Contoso.com","intendedPurpose":"VPN","paddingScheme":"OaepSha512"}`),
		[]byte(`{"encryptedPfxBlob":"","encryptedPfxPassword":null,"createdDateTime":"2017-01-01T00:02:43.5775965-08:00"}`),
		[]byte(`{"encryptedPfxBlob":"AA=","intendedPurpose":4,"paddingScheme":null}`),
		[]byte(`{"encryptedPfxBlob":"_-8=","intendedPurpose":"vpns","thumbprint":"` + strings.Repeat("a", MaxThumbprintLength+1) + `"}`),
		[]byte(`{"@odata.type":"#microsoft.graph.userPFXCertificate","lastModifiedDateTime":null}`),
	}
	for _, tt := range malformedBodies {
		if len(tt.body) < 1024 {
			seeds = append(seeds, []byte(tt.body))
		}
	}
	for _, tt := range nonObjectBodies {
		seeds = append(seeds, []byte(tt.body))
	}
	return seeds
}

// checkPatchValues checks what a parsed patch holds against the model: only known properties, never the key and
// never a server-set one (unless imported), values of the property's type.
func checkPatchValues(t *testing.T, p *Patch) {
	t.Helper()
	typ := p.Type
	if p.Mask()>>len(typ.Properties) != 0 || p.Has(0) {
		t.Fatalf("patch sets unknown properties or the key: %#b", p.Mask())
	}
	n := 0
	for i := range typ.Properties {
		prop := &typ.Properties[i]
		if !p.Has(prop.ID) {
			continue
		}
		n++
		v := p.Get(prop.ID)
		switch {
		case prop.ServerSet != ClientSet:
			t.Fatalf("patch sets the server-set %s", prop.Name)
		case v.Null:
			if !prop.Nullable {
				t.Fatalf("null for non-nullable %s", prop.Name)
			}
		case prop.Type == EdmDateTimeOffset && !v.Time.Valid():
			t.Fatalf("%s = %+v is not a valid DateTimeOffset", prop.Name, v.Time)
		case prop.Type == EdmString && (strings.ContainsRune(v.Str, 0) || !utf8.ValidString(v.Str)):
			t.Fatalf("%s holds U+0000 or invalid UTF-8: %q", prop.Name, v.Str)
		case prop.Type == EdmString && prop.MaxLength > 0 && utf8.RuneCountInString(v.Str) > prop.MaxLength:
			t.Fatalf("%s is longer than %d characters", prop.Name, prop.MaxLength)
		case prop.Type == EdmEnum:
			if _, ok := prop.Enum.NameOf(v.Int); !ok {
				t.Fatalf("%s = %d is no member", prop.Name, v.Int)
			}
		}
	}
	if n != p.Len() {
		t.Fatalf("Len() = %d, but %d properties are set", p.Len(), n)
	}
}

// checkAgainstEncodingJSON compares a parsed patch with what encoding/json reads from the same body.
func checkAgainstEncodingJSON(t *testing.T, p *Patch, body []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	for _, prop := range p.Type.Properties[1:] {
		raw, present := m[prop.Name]
		if prop.ServerSet != ClientSet {
			continue
		}
		if present != p.Has(prop.ID) {
			t.Fatalf("%s: encoding/json sees it %v, the patch %v", prop.Name, present, p.Has(prop.ID))
		}
		v := p.Get(prop.ID)
		switch s, isString := raw.(string); {
		case !present:
		case raw == nil:
			if !v.Null {
				t.Fatalf("%s: null read as %+v", prop.Name, v)
			}
		case !isString:
			t.Fatalf("%s: accepted %T", prop.Name, raw)
		case prop.Type == EdmString && s != v.Str:
			t.Fatalf("%s: encoding/json reads %q, the patch %q", prop.Name, s, v.Str)
		case prop.Type == EdmBinary:
			if b, err := base64.StdEncoding.DecodeString(s); err != nil || string(b) != v.Str {
				t.Fatalf("%s: %q decodes to %q, %v; the patch holds %q", prop.Name, s, b, err, v.Str)
			}
		case prop.Type == EdmEnum:
			if name, _ := prop.Enum.NameOf(v.Int); !strings.EqualFold(name, s) {
				t.Fatalf("%s: %q read as member %s", prop.Name, s, name)
			}
		}
	}
}

// checkRoundTrip applies p to an entity, encodes it as a POST or PATCH response does, and parses the encoding
// back: every property the patch set comes back the same, and every client-set property is in the encoding.
func checkRoundTrip(t *testing.T, set *EntitySet, key string, p *Patch) {
	t.Helper()
	e := NewEntity(set.Type, key, nil, DateTimeOffset{Ticks: 1})
	e.Version = 1
	p.Apply(&e)
	out := AppendEntity(nil, set, &e, EntityOptions{ServiceRoot: testServiceRoot, Metadata: MetadataFull, Context: true})
	again, err := ParsePatch(set.Type, out, key)
	if err != nil {
		t.Fatalf("ParsePatch of the encoded entity %s: %v", out, err)
	}
	settable := 0
	for _, prop := range set.Type.Properties[1:] {
		if prop.ServerSet == ClientSet {
			settable++
		}
	}
	if again.Len() != settable {
		t.Fatalf("the encoded entity %s sets %d properties, want %d", out, again.Len(), settable)
	}
	for i := 1; i < len(set.Type.Properties); i++ {
		id := PropertyID(i)
		if !p.Has(id) {
			continue
		}
		if got, want := again.Get(id), p.Get(id); got != want {
			t.Fatalf("%s: round trip gives %+v, want %+v (encoded %s)", set.Type.Properties[i].Name, got, want, out)
		}
	}
	if !json.Valid(AppendEntity(nil, set, &e, EntityOptions{ServiceRoot: testServiceRoot, Redact: true})) {
		t.Fatalf("the redacted encoding of %s is not JSON", out)
	}
}

// FuzzParsePatch parses every body as a PATCH of both entity types.
func FuzzParsePatch(f *testing.F) {
	for _, b := range payloadSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, c := range []struct {
			set *EntitySet
			key string
		}{{connSet, seedKey}, {pfxSet, pfxKey}} {
			p, err := ParsePatch(c.set.Type, body, c.key)
			if err != nil {
				e := fuzzInvalid(t, err)
				if !json.Valid(bytes.TrimPrefix(body, utf8BOM)) && e.Code != CodeBadRequest {
					t.Fatalf("body is not JSON, but the error is %+v, not %s", e, CodeBadRequest)
				}
				if p.Len() != 0 {
					t.Fatalf("a refused patch sets %d properties", p.Len())
				}
				continue
			}
			if !json.Valid(bytes.TrimPrefix(body, utf8BOM)) {
				t.Fatalf("accepted a body that encoding/json says is not JSON: %q", body)
			}
			if p.Type != c.set.Type {
				t.Fatalf("patch of type %s", p.Type.Name)
			}
			checkPatchValues(t, &p)
			checkAgainstEncodingJSON(t, &p, bytes.TrimPrefix(body, utf8BOM))
			checkRoundTrip(t, c.set, c.key, &p)
		}
	})
}

// FuzzParseCreate parses every body as a POST of both entity types: what a create accepts also gives every
// required property a value, and derives a valid key for string-keyed types.
func FuzzParseCreate(f *testing.F) {
	for _, b := range payloadSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, set := range []*EntitySet{connSet, pfxSet} {
			p, err := ParseCreate(set.Type, body)
			if err != nil {
				e := fuzzInvalid(t, err)
				if !json.Valid(bytes.TrimPrefix(body, utf8BOM)) && e.Code != CodeBadRequest {
					t.Fatalf("body is not JSON, but the error is %+v, not %s", e, CodeBadRequest)
				}
				continue
			}
			checkPatchValues(t, &p)
			for _, prop := range set.Type.Properties {
				if prop.Required && (!p.Has(prop.ID) || p.Get(prop.ID).Null) {
					t.Fatalf("a create without the required %s", prop.Name)
				}
			}
			key := NewGUID()
			if set.Type.KeyKind == KeyString {
				// A derived key is one a URL can address, or the create is refused.
				e := NewEntity(set.Type, "", &p, DateTimeOffset{})
				if key, err = set.Type.DeriveKey(e.Values); err != nil {
					fuzzInvalid(t, err)
					continue
				}
				if canon, ok := set.Type.Key(key); !ok || canon != key {
					t.Fatalf("the derived key %q cannot be addressed (%q, %v)", key, canon, ok)
				}
			}
			checkAgainstEncodingJSON(t, &p, bytes.TrimPrefix(body, utf8BOM))
			checkRoundTrip(t, set, key, &p)
		}
	})
}

func FuzzParseDateTimeOffset(f *testing.F) {
	for _, s := range []string{
		"2016-12-31T23:57:59.3726057-08:00", "2006-01-02T15:04Z", "2006-01-02t15:04:05.5z", "0001-01-01T00:00:00Z",
		"0001-01-01T00:00:00-01:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.9999999Z",
		"9999-12-31T23:59:59-01:00", "2000-02-29T00:00:00+14:00", "1900-02-29T00:00:00Z", "2006-01-02T24:00:00Z",
		"2006-01-02T15:04:05.12345678Z", "2006-01-02T15:04:05", "2006-01-02T15:04:05-14:01", "2006-01-02T15:04:05+05:45",
	} {
		f.Add(s)
	}
	minT := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxT := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDateTimeOffset(s)
		if !ok {
			return
		}
		if !d.Valid() {
			t.Fatalf("ParseDateTimeOffset(%q) = %+v, which is not Valid", s, d)
		}
		out := d.String()
		again, ok := ParseDateTimeOffset(out)
		if !ok || again != d {
			t.Fatalf("ParseDateTimeOffset(%q) = %+v; its String %q re-parses to %+v, %v", s, d, out, again, ok)
		}
		if again.String() != out {
			t.Fatalf("String is not stable: %q then %q", out, again.String())
		}
		// The time package reads the canonical form the same way.
		tt, err := time.Parse(time.RFC3339Nano, out)
		if err != nil {
			t.Fatalf("time.Parse(%q): %v", out, err)
		}
		if _, off := tt.Zone(); ticksOf(t, tt) != d.Ticks || off != int(d.Offset)*60 || tt.Before(minT) || tt.After(maxT) {
			t.Fatalf("time.Parse(%q) = %s, want ticks %d offset %d", out, tt, d.Ticks, d.Offset)
		}
		if FromTime(d.Time()) != d {
			t.Fatalf("FromTime(Time()) of %+v = %+v", d, FromTime(d.Time()))
		}
	})
}

func FuzzParseImport(f *testing.F) {
	const idA = "aaaaaaaa-0000-4000-8000-000000000001"
	f.Add([]byte(`[{"id":"` + idA + `"}]`))
	f.Add([]byte(`{"@odata.context":"x","value":[{"id":"` + idA + `","connectorName":"a","enrollmentDateTime":"2016-12-31T23:57:59.3726057-08:00"}]}`))
	f.Add([]byte(`[{"id":"` + idA + `"},{"id":"` + strings.ToUpper(idA) + `"}]`))
	f.Add([]byte(`{"value":5}`))
	f.Add([]byte(`[{"id":"` + idA + `"},5]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"userPfxCertificates":[` + pfxDocsBody + `,{"id":"` + strings.ToUpper(pfxKey) + `","thumbprint":"AB12","userPrincipalName":"ADELE@contoso.com","createdDateTime":"2017-01-01T00:02:43.5775965-08:00"}],` +
		`"certificateConnectorDetails":[{"id":"` + idA + `"}],"healthMetricSamples":[{"connectorId":"` + idA + `","metricName":"pfxImport","dateTime":"2017-01-01T00:00:00Z","successCount":1,"failureCount":"2"}]}`))
	f.Add([]byte(`{"userPfxCertificates":[{"thumbprint":"a","userPrincipalName":"u"},{"thumbprint":"A","userPrincipalName":"U"}]}`))
	for _, tt := range malformedBodies {
		if len(tt.body) < 1024 {
			f.Add([]byte(`[` + tt.body + `]`))
		}
	}
	now := DateTimeOffset{Ticks: 636188086793726057, Offset: -480}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := ParseImport(Graph(), data, now)
		if err != nil {
			e := fuzzInvalid(t, err)
			if !json.Valid(bytes.TrimPrefix(data, utf8BOM)) && e.Code != CodeBadRequest {
				t.Fatalf("data is not JSON, but the error is %+v, not %s", e, CodeBadRequest)
			}
			if set.Entities != nil || set.Samples != nil {
				t.Fatalf("a refused import returned %+v", set)
			}
			return
		}
		if !json.Valid(bytes.TrimPrefix(data, utf8BOM)) {
			t.Fatalf("accepted data that encoding/json says is not JSON: %q", data)
		}
		if len(set.Entities) != len(Graph().Sets) {
			t.Fatalf("%d entity lists", len(set.Entities))
		}
		for _, es := range Graph().Sets {
			seen := map[string]bool{}
			for i, e := range set.Entities[es.Index] {
				key := e.Key()
				if canon, ok := es.Type.Key(key); !ok || canon != key {
					t.Fatalf("%s %d: key %q is not canonical", es.Name, i, key)
				}
				if seen[key] {
					t.Fatalf("%s %d: key %q given twice", es.Name, i, key)
				}
				seen[key] = true
				if es.Type.KeyKind == KeyString {
					if derived, err := es.Type.DeriveKey(e.Values); err != nil || derived != key {
						t.Fatalf("%s %d: key %q, derived %q, %v", es.Name, i, key, derived, err)
					}
				}
				for j, prop := range es.Type.Properties {
					v := e.Values[j]
					if v.Null && (!prop.Nullable && !prop.Key || prop.Required) || !v.Null && prop.Type == EdmDateTimeOffset && !v.Time.Valid() {
						t.Fatalf("%s %d: %s = %+v", es.Name, i, prop.Name, v)
					}
				}
			}
		}
		// encode(parse(x)): exported, the fixture imports as the same entities and samples, and exports to the
		// same bytes.
		export := AppendExport(nil, Graph(), &set)
		again, err := ParseImport(Graph(), export, DateTimeOffset{})
		if err != nil {
			t.Fatalf("the export %s does not import: %v", export, err)
		}
		checkSameImport(t, again, set)
		if second := AppendExport(nil, Graph(), &again); !bytes.Equal(second, export) {
			t.Fatalf("export, import, export changes the bytes:\n%s\n%s", export, second)
		}
		for i, m := range set.Samples {
			if _, ok := ParseGUID(m.ConnectorID); !ok || utf8.RuneCountInString(m.MetricName) > MaxMetricNameLength ||
				!m.DateTime.Valid() || m.SuccessCount < 0 || m.FailureCount < 0 {
				t.Fatalf("sample %d = %+v", i, m)
			}
		}
	})
}

// checkSameImport compares two import sets entity by entity and sample by sample.
func checkSameImport(tb testing.TB, got, want ImportSet) {
	tb.Helper()
	for _, es := range Graph().Sets {
		g, w := got.Entities[es.Index], want.Entities[es.Index]
		if len(g) != len(w) {
			tb.Fatalf("%s: %d entities, want %d", es.Name, len(g), len(w))
		}
		for i := range w {
			if !reflect.DeepEqual(g[i], w[i]) {
				tb.Fatalf("%s %d:\n got %s\nwant %s", es.Name, i, showEntity(&g[i]), showEntity(&w[i]))
			}
		}
	}
	if len(got.Samples) != len(want.Samples) {
		tb.Fatalf("%d samples, want %d", len(got.Samples), len(want.Samples))
	}
	for i := range want.Samples {
		if got.Samples[i] != want.Samples[i] {
			tb.Fatalf("sample %d: %+v, want %+v", i, got.Samples[i], want.Samples[i])
		}
	}
}
