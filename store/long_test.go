package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// Long values (issue 8, item 3): every value the payload parsers accept is stored exactly, or refused with a 4xx
// and nothing changed, never a 500; a stored value is found by $filter eq and startswith with any literal a URL
// can carry. Values are incompressible (random text, CJK, emoji): PostgreSQL compresses repetitive strings before
// it checks an index row's size, which would hide a limit.

// runeGen draws one code point of a kind of text.
type runeGen func(r *rand.Rand) rune

var textKinds = map[string]runeGen{
	"mixed": func(r *rand.Rand) rune { return []rune(randomText(r, 1))[0] },
	"cjk":   func(r *rand.Rand) rune { return rune(0x4e00 + r.IntN(0x9fff-0x4e00)) },
	"emoji": func(r *rand.Rand) rune { return rune(0x1f300 + r.IntN(0x1faff-0x1f300)) },
	"ascii": func(r *rand.Rand) rune { return rune(0x20 + r.IntN(0x7f-0x20)) },
	"json": func(r *rand.Rand) rune { // what JSON must escape, and what it may
		return []rune("\"\\/\b\f\n\r\t\u2028\u2029'\u007f\u0080\ufeff\uffff\U0010ffff")[r.IntN(16)]
	},
}

// jsonString writes s as a JSON string, escaping what must be and, with probability escape, any other
// character as \uXXXX (astral ones as surrogate pairs).
func jsonString(r *rand.Rand, s string, escape float64) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < 0x20 || r.Float64() < escape:
			if c > 0xffff {
				hi, lo := utf16.EncodeRune(c)
				fmt.Fprintf(&b, `\u%04x\u%04X`, hi, lo)
			} else {
				fmt.Fprintf(&b, `\u%04x`, c)
			}
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// longValue draws a value: its intended text and its JSON form, which now and then carries what the parser must
// refuse or may rewrite (a lone surrogate, a raw invalid byte, an escaped NUL); want is "" for those.
func longValue(r *rand.Rand, chars int) (text, jsonText, kind string) {
	names := []string{"mixed", "cjk", "emoji", "ascii", "json"}
	kind = names[r.IntN(len(names))]
	gen := textKinds[kind]
	var b strings.Builder
	for range chars {
		b.WriteRune(gen(r))
	}
	text = b.String()
	jsonText = jsonString(r, text, []float64{0, 0, 0.01, 0.5}[r.IntN(4)])
	if r.IntN(8) == 0 {
		at := 1 + r.IntN(len(jsonText)-1)
		for at > 1 && (!utf8.RuneStart(jsonText[at]) || jsonText[at-1] == '\\') {
			at--
		}
		bad := []string{`\ud800`, `\udfff`, "\xff", `\u0000`, "\xed\xa0\x80"}[r.IntN(5)]
		return "", jsonText[:at] + bad + jsonText[at:], kind + "+" + strconv.QuoteToASCII(bad)
	}
	return text, jsonText, kind
}

// chars draws a length: around PrefixChars, around the old index-row limit (about 1,000 CJK characters), or
// anything up to hundreds of kilobytes.
func chars(r *rand.Rand) int {
	switch r.IntN(3) {
	case 0:
		return store.PrefixChars - 3 + r.IntN(7)
	case 1:
		return 600 + r.IntN(3000)
	}
	return int(math.Exp(r.Float64() * math.Log(200_000)))
}

// TestLongValuesStoredExactly is the property test: random values for the string properties, sent through the
// parsers of create, update and import, are stored exactly or refused with a 4xx, and once stored are found by
// eq and startswith.
func TestLongValuesStoredExactly(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	r := rand.New(rand.NewPCG(41, 42))
	n := 36
	if testing.Short() {
		n = 8
	}
	stored, refused := 0, 0
	for i := range n {
		set := connectors
		props := []string{"connectorName", "machineName", "connectorVersion"}
		if i%4 == 3 {
			set = userPfx
			props = []string{"userPrincipalName", "keyName", "providerName"}
		}
		prop := props[i%3]
		text, jsonText, kind := longValue(r, chars(r))
		via := []string{"create", "update", "import"}[r.IntN(3)]
		if set.Type.MustProperty(prop).Immutable && via == "update" {
			via = "create" // a PATCH may not change it
		}
		name := fmt.Sprintf("%d %s.%s via %s: %d bytes of %s", i, set.Name, prop, via, len(text), kind)

		e, parsed, err := writeValue(t, s, set, prop, jsonText, via, i)
		if err != nil {
			if k := odata.ErrorKind(err); k == odata.KindInternal || k == odata.KindUnavailable {
				t.Fatalf("%s: %v (kind %d), want a 4xx", name, err, k)
			}
			refused++
			if text != "" {
				t.Errorf("%s: a value the parser should take was refused: %v", name, err)
			}
			continue
		}
		stored++
		if text != "" && parsed != text {
			t.Fatalf("%s: the parser read %d bytes, want the %d sent", name, len(parsed), len(text))
		}
		got, err := s.Get(ctx, set, tenantA, e.Key())
		if err != nil {
			t.Fatal(err)
		}
		if v := got.Get(prop); v.Null || v.Str != parsed {
			t.Fatalf("%s: read back %d bytes, not the %d stored", name, len(v.Str), len(parsed))
		}
		findable(t, s, set, prop, got, name)
	}
	t.Logf("%d values stored exactly and found, %d refused with a 4xx", stored, refused)
	if stored < n/2 || refused == 0 {
		t.Fatalf("%d stored, %d refused: the generator tests too little of either", stored, refused)
	}
}

// writeValue writes jsonText as property prop of a new entity of set, through the parser and the store
// operation of via, and returns the entity and the value the parser read.
func writeValue(t *testing.T, s *store.Store, set *odata.EntitySet, prop, jsonText, via string, i int) (odata.Entity, string, error) {
	t.Helper()
	ctx := t.Context()
	members := `"` + prop + `":` + jsonText
	if set == userPfx && prop != "userPrincipalName" {
		members += `,"userPrincipalName":"u` + strconv.Itoa(i) + `@contoso.com"`
	}
	if set == userPfx {
		members += `,"thumbprint":"T` + strconv.Itoa(i) + `"`
	}
	id := prop + strconv.Itoa(i)
	if set == connectors {
		id = fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
	}
	var e odata.Entity
	var err error
	switch via {
	case "create":
		var p odata.Patch
		if p, err = odata.ParseCreate(set.Type, []byte("{"+members+"}")); err == nil {
			e, err = s.Create(ctx, set, tenantA, &p, nowT)
		}
	case "update":
		// An entity with a short value first, then the PATCH.
		var p odata.Patch
		if p, err = odata.ParseCreate(set.Type, []byte("{"+strings.Replace(members, jsonText, `"short"`, 1)+"}")); err != nil {
			t.Fatalf("create before update: %v", err)
		}
		if e, err = s.Create(ctx, set, tenantA, &p, nowT); err != nil {
			t.Fatalf("create before update: %v", err)
		}
		if p, err = odata.ParsePatch(set.Type, []byte(`{"`+prop+`":`+jsonText+`}`), e.Key()); err == nil {
			e, err = s.Update(ctx, set, tenantA, e.Key(), &p, store.Precondition{}, nowT)
		}
	case "import":
		var body string
		if set == connectors {
			body = `{"value":[{"id":"` + id + `",` + members + `}]}`
		} else {
			body = `{"` + set.Name + `":[{` + members + `}]}`
		}
		var imp odata.ImportSet
		if imp, err = odata.ParseImport(graph, []byte(body), nowT); err == nil {
			if err = s.Import(ctx, tenantA, &imp); err == nil {
				e = imp.Entities[set.Index][0]
			}
		}
	}
	if err != nil {
		return odata.Entity{}, "", err
	}
	return e, e.Get(prop).Str, nil
}

// findable checks that e's value of prop is found by eq and startswith with the whole value (when the literal
// fits in a $filter) and prefixes shorter and longer than PrefixChars, and not by literals that differ only
// after PrefixChars characters.
func findable(t *testing.T, s *store.Store, set *odata.EntitySet, prop string, e odata.Entity, name string) {
	t.Helper()
	v := e.Get(prop).Str
	runes := []rune(v)
	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	prefix := func(n int) string { return string(runes[:min(n, len(runes))]) }
	type probe struct {
		filter string
		found  bool // what the probe must find; checked against odata.Match too
	}
	var probes []probe
	for _, n := range []int{1, store.PrefixChars - 1, store.PrefixChars, store.PrefixChars + 1, 3 * store.PrefixChars, 5000} {
		if n <= len(runes) {
			probes = append(probes, probe{"startswith(" + prop + "," + lit(prefix(n)) + ")", true})
		}
		if n < len(runes) {
			probes = append(probes, probe{prop + " eq " + lit(prefix(n)), false})
		}
	}
	probes = append(probes, probe{prop + " eq " + lit(v), true}, probe{prop + " in (" + lit(v) + ",'x')", true},
		probe{prop + " ge " + lit(v) + " and " + prop + " le " + lit(v), true}, probe{prop + " gt " + lit(v), false},
		probe{"endswith(" + prop + "," + lit(string(runes[max(0, len(runes)-300):])) + ")", true})
	if len(runes) > store.PrefixChars {
		// The same first PrefixChars characters, then another: the column, not the index, decides.
		other := string(runes[:store.PrefixChars+1]) + "\U0010fffd"
		probes = append(probes, probe{prop + " eq " + lit(other), false}, probe{"startswith(" + prop + "," + lit(other) + ")", false},
			probe{prop + " ne " + lit(other), true})
	}
	for _, pr := range probes {
		text := pr.filter + " and id eq " + lit(e.Key())
		if len(text) > odata.MaxFilterLength {
			continue
		}
		f, err := odata.ParseFilter(set.Type, text, nil)
		if err != nil {
			t.Fatalf("%s: ParseFilter(%.80q): %v", name, text, err)
		}
		if want := odata.Match(f, &e, nowT); want != pr.found {
			t.Fatalf("%s: the test's expectation for %.80q disagrees with odata.Match", name, pr.filter)
		}
		res, err := s.List(t.Context(), set, tenantA, store.ListRequest{Query: odata.Query{Filter: f, Count: true}, PageSize: 2, Now: nowT})
		if err != nil {
			t.Fatalf("%s: %.80q: %v", name, pr.filter, err)
		}
		if got := len(res.Items) == 1 && res.Count == 1; got != pr.found {
			t.Fatalf("%s: %.100q found %d rows, want found = %v", name, pr.filter, len(res.Items), pr.found)
		}
	}
}

// TestIssueCJKConnectorName is the case the issue reports: about 1,000 random CJK characters (3,000
// incompressible bytes, more than a btree index row holds) in connectorName gave a 500 on update, create and
// import.
func TestIssueCJKConnectorName(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	r := rand.New(rand.NewPCG(1000, 3))
	cjk := func() string {
		var b strings.Builder
		for range 1000 {
			b.WriteRune(textKinds["cjk"](r))
		}
		return b.String()
	}
	body := func(v string) []byte {
		b, _ := json.Marshal(map[string]string{"connectorName": v, "machineName": v})
		return b
	}
	var rows []odata.Entity
	// Update.
	importSeed(t, s, tenantA)
	v1 := cjk()
	p := parsePatch(t, connectors.Type, string(body(v1)), seedID)
	e, err := s.Update(ctx, connectors, tenantA, seedID, &p, store.Precondition{}, nowT)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	rows = append(rows, e)
	// Create.
	v2 := cjk()
	p = parseCreate(t, connectors.Type, body(v2))
	if e, err = s.Create(ctx, connectors, tenantA, &p, nowT); err != nil {
		t.Fatalf("create: %v", err)
	}
	rows = append(rows, e)
	// Import, with a second value sharing the first 999 characters.
	v3 := cjk()
	v4 := string([]rune(v3)[:999]) + "a"
	file := fmt.Sprintf(`[{"id": %q, "connectorName": %q}, {"id": %q, "connectorName": %q}]`,
		"77777777-0000-4000-8000-000000000000", v3, "88888888-0000-4000-8000-000000000000", v4)
	imp, err := odata.ParseImport(graph, []byte(file), nowT)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Import(ctx, tenantA, &imp); err != nil {
		t.Fatalf("import: %v", err)
	}
	rows = append(rows, imp.Entities[0]...)
	for _, want := range rows {
		got, err := s.Get(ctx, connectors, tenantA, want.Key())
		if err != nil || got.Get("connectorName").Str != want.Get("connectorName").Str || len(got.Get("connectorName").Str) < 2900 {
			t.Fatalf("%s: read back %d bytes, %v", want.Key(), len(got.Get("connectorName").Str), err)
		}
		findable(t, s, connectors, "connectorName", got, "connectorName of "+want.Key())
	}
	// Ordered and paged by such values.
	for _, order := range []string{"connectorName", "connectorName desc", "machineName,connectorName desc"} {
		q := parseQuery(t, connectors, "$orderby="+order)
		pg := &pager{s: s, set: connectors, tenant: tenantA, key: []byte("k"), bind: order}
		current, err := s.List(ctx, connectors, tenantA, store.ListRequest{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		sameKeys(t, pg.all(t, q, 1, 0), sorted(current.Items, q))
	}
}

// TestLongValuesOfUserPfx: the string key and the indexed userPrincipalName take long values too.
func TestLongValuesOfUserPfx(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	r := rand.New(rand.NewPCG(5, 6))
	var tp, upn strings.Builder
	for range odata.MaxThumbprintLength {
		tp.WriteRune(textKinds["emoji"](r)) // 4 bytes each: the longest key
	}
	for range 3000 {
		upn.WriteRune(textKinds["cjk"](r))
	}
	p := parseCreate(t, userPfx.Type, userPfxBody(upn.String(), tp.String(), map[string]any{"keyName": upn.String() + upn.String()}))
	e, err := s.Create(ctx, userPfx, tenantA, &p, nowT)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, userPfx, tenantA, e.Key())
	if err != nil || got.Get("userPrincipalName").Str != upn.String() || got.Get("thumbprint").Str != tp.String() {
		t.Fatalf("read back: %v", err)
	}
	findable(t, s, userPfx, "userPrincipalName", got, "userPrincipalName")
	// A thumbprint one character over the limit is refused by the parser.
	long := tp.String() + "x"
	if _, err := odata.ParseCreate(userPfx.Type, userPfxBody("a@b.c", long, nil)); odata.ErrorKind(err) != odata.KindInvalid {
		t.Fatalf("thumbprint of %d characters: %v", odata.MaxThumbprintLength+1, err)
	}
	if _, ok := userPfx.Type.Key(strings.ReplaceAll(odata.UserID("a"), "-", "") + "-" + long); ok {
		t.Fatal("a key with a thumbprint over the limit parses")
	}
}

// TestLongMetricNames: health-metric samples' metricName is capped at MaxMetricNameLength characters by the
// import parser, which keeps the samples' primary key within an index row; at the cap, in 4-byte characters,
// samples are stored and found.
func TestLongMetricNames(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	r := rand.New(rand.NewPCG(7, 8))
	name := func(n int, gen runeGen) string {
		var b strings.Builder
		for range n {
			b.WriteRune(gen(r))
		}
		return b.String()
	}
	atCap := name(odata.MaxMetricNameLength, textKinds["emoji"])
	sibling := string([]rune(atCap)[:odata.MaxMetricNameLength-1]) + "a" // the same first 255 characters
	cjk := name(odata.MaxMetricNameLength, textKinds["cjk"])
	sample := func(metric string, sec int) string {
		b, _ := json.Marshal(map[string]any{"connectorId": seedID, "metricName": metric,
			"dateTime": fmt.Sprintf("2024-01-01T00:00:%02dZ", sec), "successCount": 1, "failureCount": sec})
		return string(b)
	}
	file := `{"certificateConnectorDetails": [{"id": "` + seedID + `"}], "healthMetricSamples": [` +
		sample(atCap, 1) + "," + sample(atCap, 2) + "," + sample(sibling, 3) + "," + sample(cjk, 4) + `]}`
	imp, err := odata.ParseImport(graph, []byte(file), nowT)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Import(ctx, tenantA, &imp); err != nil {
		t.Fatalf("import: %v", err)
	}
	sums, err := s.HealthMetrics(ctx, tenantA, seedID, []string{atCap, sibling, cjk, atCap + "x"})
	if err != nil || fmt.Sprint(sums) != "[5 4 5 0]" {
		t.Fatalf("HealthMetrics = %v, %v", sums, err)
	}
	series, err := s.HealthMetricTimeSeries(ctx, tenantA, seedID, atCap, odata.MinDateTime, odata.MaxDateTime)
	if err != nil || len(series) != 2 || series[0].MetricName != atCap {
		t.Fatalf("series: %d samples, %v", len(series), err)
	}
	// One character over the cap, in any script: the parser refuses the file, so nothing reaches the database.
	for _, over := range []string{atCap + "x", name(odata.MaxMetricNameLength+1, textKinds["ascii"]), cjk + "字"} {
		file := `{"certificateConnectorDetails": [{"id": "` + seedID + `"}], "healthMetricSamples": [` + sample(over, 9) + `]}`
		if _, err := odata.ParseImport(graph, []byte(file), nowT); odata.ErrorKind(err) != odata.KindInvalid || !strings.Contains(err.Error(), "256") {
			t.Errorf("metricName of %d characters: %v, want a 400 naming the limit", utf8.RuneCountInString(over), err)
		}
	}
}

// TestQueryTooDeep: a $filter (or $orderby) of thousands of nested comparisons, which the parser takes within
// its length limit, exhausts PostgreSQL's stack; List answers 400, not 500.
func TestQueryTooDeep(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	importSeed(t, s, tenantA)
	var b strings.Builder
	b.WriteString("connectorName eq 'a'")
	for b.Len()+len(" ne null") <= odata.MaxFilterLength {
		b.WriteString(" ne null")
	}
	for _, raw := range []string{"$filter=" + b.String(), "$orderby=" + b.String()} {
		q, err := odata.ParseQuery(connectors.Type, raw, odata.ForCollection)
		if err != nil {
			t.Fatalf("the parser refuses %.40q…: %v", raw, err)
		}
		_, err = s.List(t.Context(), connectors, tenantA, store.ListRequest{Query: q, PageSize: 10})
		var e *odata.Error
		if !errors.As(err, &e) || e.Kind != odata.KindInvalid {
			t.Errorf("%.40q…: %v, want a 400", raw, err)
		}
	}
}
