package odata

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// testServiceRoot is the pinned {base} of the golden files (contract §0.10).
const testServiceRoot = "https://graph.example.test/beta"

// seedResponse is the seed page's example response body, byte for byte.
const seedResponse = `{
  "@odata.type": "#microsoft.graph.certificateConnectorDetails",
  "id": "104d7361-7361-104d-6173-4d1061734d10",
  "connectorName": "Connector Name value",
  "machineName": "Machine Name value",
  "enrollmentDateTime": "2016-12-31T23:57:59.3726057-08:00",
  "lastCheckinDateTime": "2017-01-01T00:02:46.0431416-08:00",
  "connectorVersion": "Connector Version value"
}`

// golden compares got with testdata/name.golden, or rewrites the file under -update.
func golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("output differs from %s (run go test -update if the change is intended)\n got: %s\nwant: %s", path, got, want)
	}
}

// seedConnector is the entity the seed's PATCH produces on the row the contract names.
func seedConnector(tb testing.TB) Entity {
	tb.Helper()
	p, err := ParsePatch(connType, []byte(seedBody), seedKey)
	if err != nil {
		tb.Fatalf("ParsePatch(seed): %v", err)
	}
	c := connector(seedKey, nil)
	c.Version = 7
	p.Apply(&c)
	return c
}

func TestAppendEntityGolden(t *testing.T) {
	t.Parallel()
	seed := seedConnector(t)
	tests := []struct {
		name string
		c    Entity
		o    EntityOptions
	}{
		{"minimal_context", seed, EntityOptions{ServiceRoot: testServiceRoot, Metadata: MetadataMinimal, Context: true}},
		{"minimal_member", seed, EntityOptions{ServiceRoot: testServiceRoot, Metadata: MetadataMinimal}},
		{"none", seed, EntityOptions{ServiceRoot: testServiceRoot, Metadata: MetadataNone, Context: true}},
		{"full", seed, EntityOptions{ServiceRoot: testServiceRoot, Metadata: MetadataFull, Context: true}},
		{"full_member", seed, EntityOptions{ServiceRoot: testServiceRoot, Metadata: MetadataFull}},
		{"nulls", NewEntity(connType, DevTenantID, &Patch{}, DateTimeOffset{}), EntityOptions{ServiceRoot: testServiceRoot, Context: true}},
		{"escaped", withVersion(connector(otherKey, map[string]Value{
			"connectorName":       Str("quote\" backslash\\ slash/ <html>&amp;"),
			"machineName":         Str("ctl\x00\x01\b\f\n\r\t\x1f\x7f end"),
			"enrollmentDateTime":  Time(DateTimeOffset{Ticks: MaxTicks, Offset: -MaxOffsetMinutes}),
			"lastCheckinDateTime": Time(DateTimeOffset{Ticks: 1, Offset: 345}),
			"connectorVersion":    Str("Zürich 😀 \u2028\u2029 bad\xff"),
		}), 1<<62), EntityOptions{ServiceRoot: `https://h.test/"q"`, Metadata: MetadataFull, Context: true}},
		// Ids are GUIDs, but the encoder must not depend on that to produce JSON.
		{"escaped_id", connector("odd\"id\\\n", nil), EntityOptions{ServiceRoot: testServiceRoot, Metadata: MetadataFull}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := AppendEntity(nil, connSet, &tt.c, tt.o)
			if !json.Valid(got) {
				t.Fatalf("output is not valid JSON: %s", got)
			}
			golden(t, tt.name, got)
		})
	}
}

// TestAppendEntityControlInformation checks the control members against the helpers that build the same
// URLs for headers, and their order: @odata.context first (OData JSON §4.5), then properties in model order.
func TestAppendEntityControlInformation(t *testing.T) {
	t.Parallel()
	c := seedConnector(t)
	wantOrder := []string{"@odata.context", "@odata.type", "@odata.id", "@odata.etag", "@odata.editLink",
		"id", "connectorName", "machineName", "enrollmentDateTime", "lastCheckinDateTime", "connectorVersion"}
	out := AppendEntity(nil, connSet, &c, EntityOptions{ServiceRoot: testServiceRoot, Metadata: MetadataFull, Context: true})
	if got := memberNames(t, out); strings.Join(got, ",") != strings.Join(wantOrder, ",") {
		t.Errorf("members = %v, want %v", got, wantOrder)
	}
	var m map[string]string
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"@odata.context":  ContextURL(testServiceRoot, connSet),
		"@odata.type":     "#" + connType.Qualified,
		"@odata.id":       testServiceRoot + "/" + connSet.Path + "('" + seedKey + "')",
		"@odata.editLink": testServiceRoot + "/" + connSet.Path + "('" + seedKey + "')",
		"@odata.etag":     ETag(7),
	} {
		if m[name] != want {
			t.Errorf("%s = %q, want %q", name, m[name], want)
		}
	}
	if want := "https://graph.example.test/beta/$metadata#deviceManagement/certificateConnectorDetails/$entity"; ContextURL(testServiceRoot, connSet) != want {
		t.Errorf("ContextURL = %q, want %q", ContextURL(testServiceRoot, connSet), want)
	}
	if want := `W/"7"`; ETag(7) != want {
		t.Errorf("ETag(7) = %q, want %q", ETag(7), want)
	}
}

// memberNames lists the member names of a JSON object in order.
func memberNames(tb testing.TB, obj []byte) []string {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(obj))
	var names []string
	if _, err := dec.Token(); err != nil {
		tb.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			tb.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			tb.Fatal(err)
		}
	}
	return names
}

// TestAppendEntitySeedFidelity is contract §0.1: every member of the seed's example response appears in the
// response to the seed's PATCH with a byte-identical value.
func TestAppendEntitySeedFidelity(t *testing.T) {
	t.Parallel()
	var want map[string]json.RawMessage
	if err := json.Unmarshal([]byte(seedResponse), &want); err != nil {
		t.Fatal(err)
	}
	c := seedConnector(t)
	for _, o := range []EntityOptions{
		{ServiceRoot: testServiceRoot, Metadata: MetadataMinimal, Context: true},
		{ServiceRoot: testServiceRoot, Metadata: MetadataMinimal},
		{ServiceRoot: testServiceRoot, Metadata: MetadataFull, Context: true},
	} {
		out := AppendEntity(nil, connSet, &c, o)
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		for name, v := range want {
			if !bytes.Equal(got[name], v) {
				t.Errorf("metadata %d: member %q = %s, want %s", o.Metadata, name, got[name], v)
			}
			if member := `"` + name + `":` + string(v); !bytes.Contains(out, []byte(member)) {
				t.Errorf("metadata %d: output lacks %s", o.Metadata, member)
			}
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"Empty", "", `""`},
		{"Plain", "Connector Name value", `"Connector Name value"`},
		{"Quote", `a"b`, `"a\"b"`},
		{"Backslash", `a\b`, `"a\\b"`},
		{"SlashUnescaped", "a/b", `"a/b"`},
		{"Newline", "a\nb", `"a\nb"`},
		{"CarriageReturn", "a\rb", `"a\rb"`},
		{"Tab", "a\tb", `"a\tb"`},
		{"Backspace", "\b", `"\u0008"`},
		{"FormFeed", "\f", `"\u000c"`},
		{"NUL", "\x00", `"\u0000"`},
		{"Unit Separator", "\x1f", `"\u001f"`},
		{"SpaceUnescaped", " ", `" "`},
		{"DELUnescaped", "\x7f", "\"\x7f\""},
		{"HTMLUnescaped", "<a href='x'>&amp;</a>", `"<a href='x'>&amp;</a>"`},
		{"LineSeparator", "a\u2028b", `"a\u2028b"`},
		{"ParagraphSeparator", "\u2029", `"\u2029"`},
		{"NeighboursOfSeparatorsUnescaped", "\u2027\u202a", "\"\u2027\u202a\""},
		{"NonASCIIUnescaped", "Zürich 東京 😀", `"Zürich 東京 😀"`},
		{"ReplacementCharacterUnescaped", "\ufffd", "\"\ufffd\""},
		{"InvalidByte", "a\xffb", `"a\ufffdb"`},
		{"InvalidLeadingByte", "\x80", `"\ufffd"`},
		{"TruncatedSequence", "\xe2\x82", `"\ufffd\ufffd"`},
		{"EncodedSurrogate", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"Overlong", "\xc0\xaf", `"\ufffd\ufffd"`},
		{"InvalidBetweenEscapes", "\n\xff\n", `"\n\ufffd\n"`},
		{"AllEscapesInARow", "\"\\\n\u2028\x01", `"\"\\\n\u2028\u0001"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(AppendJSONString([]byte("x"), tt.in)); got != "x"+tt.want {
				t.Errorf("AppendJSONString(%q) = %s, want %s", tt.in, got[1:], tt.want)
			}
		})
	}
}

// randomString mixes ASCII (controls included), the runes that need escaping, and the rest of Unicode;
// with invalid set, it also throws in stray bytes.
func randomString(rng *rand.Rand, invalid bool) string {
	special := []rune{'"', '\\', '/', '\n', '\r', '\t', 0, 0x1f, 0x7f, '<', '>', '&', 0x2028, 0x2029, 0xfffd, 0xffff, 0x10ffff}
	var b []byte
	for range rng.IntN(24) {
		switch rng.IntN(6) {
		case 0:
			b = append(b, byte(rng.IntN(0x80)))
		case 1:
			b = utf8.AppendRune(b, special[rng.IntN(len(special))])
		case 2:
			b = utf8.AppendRune(b, rune(0x80+rng.IntN(0xd800-0x80)))
		case 3:
			b = utf8.AppendRune(b, rune(0xe000+rng.IntN(0x110000-0xe000)))
		case 4:
			if invalid {
				b = append(b, byte(0x80+rng.IntN(0x80)))
				continue
			}
			fallthrough
		default:
			b = append(b, byte(0x20+rng.IntN(0x60)))
		}
	}
	return string(b)
}

// TestAppendJSONStringDecodes checks that encoding/json reads back exactly the string for valid UTF-8, and for
// anything else the same string it reads from its own encoding (both replace each bad byte with U+FFFD).
func TestAppendJSONStringDecodes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 50_000 {
		s := randomString(rng, i%2 == 1)
		out := AppendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("AppendJSONString(%q) = %s: %v", s, out, err)
		}
		want := s
		if !utf8.ValidString(s) {
			ref, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(ref, &want); err != nil {
				t.Fatal(err)
			}
		}
		if got != want {
			t.Fatalf("AppendJSONString(%q) = %s decodes to %q, want %q", s, out, got, want)
		}
		if bytes.ContainsAny(out, "\u2028\u2029") {
			t.Fatalf("AppendJSONString(%q) = %s has a raw line or paragraph separator", s, out)
		}
		// Our reader must read it back too, byte for byte when it was valid.
		if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
			p, err := ParsePatch(connType, []byte(`{"connectorName":`+string(out)+`}`), seedKey)
			if err != nil {
				t.Fatalf("ParsePatch of AppendJSONString(%q): %v", s, err)
			}
			if v := p.Get(propConnectorName); v.Str != s {
				t.Fatalf("ParsePatch read %q back as %q", s, v.Str)
			}
		}
	}
}

// TestAppendEntityDecodes encodes random connectors and checks them with encoding/json.
func TestAppendEntityDecodes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	nullString := func() Value {
		if rng.IntN(4) == 0 {
			return Null
		}
		return Str(randomString(rng, false))
	}
	timestamp := func() DateTimeOffset {
		for {
			d := DateTimeOffset{Ticks: rng.Int64N(MaxTicks + 1), Offset: int16(rng.IntN(2*MaxOffsetMinutes+1) - MaxOffsetMinutes)}
			if d.Valid() {
				return d
			}
		}
	}
	for range 5_000 {
		c := withVersion(connector(seedKey, map[string]Value{"connectorName": nullString(), "machineName": nullString(),
			"enrollmentDateTime": Time(timestamp()), "lastCheckinDateTime": Time(timestamp()), "connectorVersion": nullString()}), rng.Int64())
		out := AppendEntity(nil, connSet, &c, EntityOptions{ServiceRoot: testServiceRoot, Context: true})
		var m map[string]*string
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		for _, name := range []string{"connectorName", "machineName", "connectorVersion"} {
			want := c.Get(name)
			if got := m[name]; (got != nil) == want.Null || (got != nil && *got != want.Str) {
				t.Fatalf("%s: %s = %v, want %+v", out, name, got, want)
			}
		}
		if got := m["enrollmentDateTime"]; got == nil || *got != c.Get("enrollmentDateTime").Time.String() {
			t.Fatalf("%s: enrollmentDateTime = %v, want %s", out, got, c.Get("enrollmentDateTime").Time)
		}
		if got := m["@odata.etag"]; got == nil || *got != ETag(c.Version) {
			t.Fatalf("%s: @odata.etag = %v, want %s", out, got, ETag(c.Version))
		}
	}
}

// TestAppendEntityAllocs runs alone (no t.Parallel): AllocsPerRun counts every allocation in the process.
func TestAppendEntityAllocs(t *testing.T) {
	c := seedConnector(t)
	for _, tt := range []struct {
		name string
		o    EntityOptions
	}{
		{"MinimalContext", EntityOptions{ServiceRoot: testServiceRoot, Context: true}},
		{"None", EntityOptions{Metadata: MetadataNone}},
		{"Full", EntityOptions{ServiceRoot: testServiceRoot, Metadata: MetadataFull, Context: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, 0, 1024)
			if n := testing.AllocsPerRun(100, func() { buf = AppendEntity(buf[:0], connSet, &c, tt.o) }); n != 0 {
				t.Errorf("AppendEntity allocates %v times per run, want 0", n)
			}
		})
	}
	t.Run("AppendJSONString", func(t *testing.T) {
		buf := make([]byte, 0, 256)
		s := "esc\"aped\n \u2028 bad\xff"
		if n := testing.AllocsPerRun(100, func() { buf = AppendJSONString(buf[:0], s) }); n != 0 {
			t.Errorf("AppendJSONString allocates %v times per run, want 0", n)
		}
	})
}

func BenchmarkAppendEntity(b *testing.B) {
	c := seedConnector(b)
	o := EntityOptions{ServiceRoot: testServiceRoot, Context: true}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEntity(buf[:0], connSet, &c, o)
	}
	b.SetBytes(int64(len(buf)))
}

func withVersion(e Entity, v int64) Entity {
	e.Version = v
	return e
}
