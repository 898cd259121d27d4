package odata

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
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

func FuzzParsePatch(f *testing.F) {
	f.Add([]byte(seedBody))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"104D7361-7361-104D-6173-4D1061734D10","connectorName":null,"machineName":"\ud83d\ude00\u2028"}`))
	f.Add([]byte(`{"@odata.context":"x","@x.y":[{"a":[1,-2.5e-3,true,false,null]}],"connectorName@odata.type":"#String"}`))
	f.Add([]byte(`{"enrollmentDateTime":"0001-01-01T00:00:00-01:00","lastCheckinDateTime":"9999-12-31T23:59:59.9999999+14:00"}`))
	f.Add([]byte(`{"connectorName":"a\u0000"}`))
	f.Add([]byte(`{"ConnectorName":"x","connectorName":"x","connectorName":"y"}`))
	for _, tt := range malformedBodies {
		if len(tt.body) < 1024 {
			f.Add([]byte(tt.body))
		}
	}
	for _, tt := range nonObjectBodies {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePatch(body, seedKey)
		if err != nil {
			e := fuzzInvalid(t, err)
			if !json.Valid(bytes.TrimPrefix(body, utf8BOM)) && e.Code != CodeBadRequest {
				t.Fatalf("body is not JSON, but the error is %+v, not %s", e, CodeBadRequest)
			}
			if p.Len() != 0 {
				t.Fatalf("a refused patch sets %d properties", p.Len())
			}
			return
		}
		if !json.Valid(bytes.TrimPrefix(body, utf8BOM)) {
			t.Fatalf("accepted a body that encoding/json says is not JSON: %q", body)
		}
		// Only the five updatable properties can come out, and the count agrees.
		n := 0
		for id := PropertyID(0); id < 16; id++ {
			if !p.Has(id) {
				continue
			}
			if id == PropID || id >= NumProperties {
				t.Fatalf("patch sets property %d", id)
			}
			n++
			v := p.Get(id)
			prop := Properties[id]
			switch {
			case v.Null && !prop.Nullable:
				t.Fatalf("null for non-nullable %s", prop.Name)
			case prop.Type == EdmDateTimeOffset && !v.Time.Valid():
				t.Fatalf("%s = %+v is not a valid DateTimeOffset", prop.Name, v.Time)
			case prop.Type == EdmString && strings.ContainsRune(v.Str, 0):
				t.Fatalf("%s holds U+0000", prop.Name)
			}
		}
		if n != p.Len() {
			t.Fatalf("Len() = %d, but %d properties are set", p.Len(), n)
		}

		// encoding/json, which agrees with us on every body we accept, must read the same strings.
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		for _, prop := range Properties[1:] {
			raw, present := m[prop.Name]
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
			}
		}

		// encode(apply(parse(x))) parses back to the same values.
		c := Connector{ID: seedKey, Version: 1}
		p.Apply(&c)
		out := AppendConnector(nil, &c, EntityOptions{ServiceRoot: testServiceRoot, Metadata: MetadataFull, Context: true})
		again, err := ParsePatch(out, c.ID)
		if err != nil {
			t.Fatalf("ParsePatch of the encoded entity %s: %v", out, err)
		}
		if again.Len() != int(NumProperties)-1 {
			t.Fatalf("the encoded entity %s sets %d properties", out, again.Len())
		}
		for id := PropID + 1; id < NumProperties; id++ {
			if !p.Has(id) {
				continue
			}
			if got, want := again.Get(id), p.Get(id); got != want {
				t.Fatalf("%s: round trip gives %+v, want %+v (encoded %s)", Properties[id].Name, got, want, out)
			}
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
	for _, tt := range malformedBodies {
		if len(tt.body) < 1024 {
			f.Add([]byte(`[` + tt.body + `]`))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := ParseImport(data)
		if err != nil {
			e := fuzzInvalid(t, err)
			if !json.Valid(bytes.TrimPrefix(data, utf8BOM)) && e.Code != CodeBadRequest {
				t.Fatalf("data is not JSON, but the error is %+v, not %s", e, CodeBadRequest)
			}
			if len(set.Connectors) != 0 {
				t.Fatalf("a refused import returned %d connectors", len(set.Connectors))
			}
			return
		}
		if !json.Valid(bytes.TrimPrefix(data, utf8BOM)) {
			t.Fatalf("accepted data that encoding/json says is not JSON: %q", data)
		}
		seen := map[string]bool{}
		for i, c := range set.Connectors {
			if g, ok := ParseGUID(c.ID); !ok || g != c.ID {
				t.Fatalf("connector %d: id %q is not a lower-case GUID", i, c.ID)
			}
			if seen[c.ID] {
				t.Fatalf("connector %d: id %q given twice", i, c.ID)
			}
			seen[c.ID] = true
			if !c.EnrollmentDateTime.Valid() || !c.LastCheckinDateTime.Valid() {
				t.Fatalf("connector %d: invalid timestamps %+v", i, c)
			}
			if out := AppendConnector(nil, &c, EntityOptions{}); !json.Valid(out) {
				t.Fatalf("connector %d encodes to invalid JSON %s", i, out)
			}
		}
	})
}
