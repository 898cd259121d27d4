package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// A third entity set defined only as model data (issue 9 item 1): graphd's model plus toyWidgets, a top-level
// set whose type has a property of every Edm type the model knows. No handler, query or SQL code of its own
// serves it: only the model entry below and, on PostgreSQL, a table named by store's rule (store/model.go).

// toyModel is compiled once, before any test runs: odata.GraphModel shares its enum types with odata.Graph, and
// NewModel writes to them, so compiling it while other tests read those enums would race.
var toyModel = mustToyModel()

var toySet = toyModel.MustSet("toyWidgets")

func mustToyModel() *odata.Model {
	m := odata.GraphModel()
	color := &odata.EnumType{Name: "toyColor", Members: []odata.EnumMember{{Name: "red", Value: 0}, {Name: "green", Value: 1}, {Name: "blue", Value: 7}}}
	m.Enums = append(m.Enums, color)
	m.Sets = append(m.Sets, &odata.EntitySet{
		Name: "toyWidgets",
		Type: &odata.EntityType{Name: "toyWidget", KeyKind: odata.KeyGUID, Properties: []odata.Property{
			{Name: "id", Type: odata.EdmString, Key: true},
			{Name: "label", Type: odata.EdmString, Nullable: true},
			{Name: "size", Type: odata.EdmInt32, Nullable: true},
			{Name: "weight", Type: odata.EdmInt64},
			{Name: "active", Type: odata.EdmBoolean},
			{Name: "color", Type: odata.EdmEnum, Enum: color},
			{Name: "madeDateTime", Type: odata.EdmDateTimeOffset},
			{Name: "blob", Type: odata.EdmBinary, Nullable: true},
		}},
		Permissions: odata.Permissions{Read: []string{odata.PermReadAll, odata.PermReadWriteAll}, Write: []string{odata.PermReadWriteAll}},
	})
	compiled, err := odata.NewModel(m)
	if err != nil {
		panic(err)
	}
	return compiled
}

// toyTable is the toy set's table by store's naming rule: snake case names, a DateTimeOffset as ticks and
// offset, enums and Int32 as integer, Int64 bigint, Binary bytea.
const toyTable = `CREATE TABLE toy_widgets (
    tenant_id    uuid             NOT NULL,
    id           uuid             NOT NULL,
    label        text COLLATE "C",
    size         integer,
    weight       bigint           NOT NULL,
    active       boolean          NOT NULL,
    color        integer          NOT NULL,
    made_ticks   bigint           NOT NULL,
    made_offset  smallint         NOT NULL,
    blob         bytea,
    version      bigint           NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id)
)`

const toyCollection = "/beta/toyWidgets"

// toyServer is the API of the toy model over a store: the fake, or with pg PostgreSQL with the toy table.
func toyServer(t *testing.T, pg bool) (http.Handler, func() []odata.Entity) {
	t.Helper()
	var st httpapi.Store
	var all func() []odata.Entity
	if pg {
		s, err := store.Open(t.Context(), storetest.URL(t), store.Options{Model: toyModel})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		if _, err := s.Pool().Exec(t.Context(), toyTable); err != nil {
			t.Fatal(err)
		}
		st = s
		all = func() []odata.Entity {
			res, err := s.List(t.Context(), toySet, odata.DevTenantID, store.ListRequest{Query: odata.Query{Top: -1}, PageSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return res.Items
		}
	} else {
		f := newFakeStoreOf(toyModel)
		f.newID = odata.NewGUID
		st = f
		all = func() []odata.Entity {
			f.mu.Lock()
			defer f.mu.Unlock()
			var out []odata.Entity
			for _, e := range f.rows[toySet.Index][odata.DevTenantID] {
				out = append(out, e)
			}
			return out
		}
	}
	cfg := testConfig(nil)
	cfg.Model = toyModel
	cfg.PageSize, cfg.MaxPageSize = 5, 5
	return httpapi.NewServer(cfg, st), all
}

func TestToyEntity(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		name := "Fake"
		if pg {
			name = "PostgreSQL"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, all := toyServer(t, pg)
			driveToy(t, h, all)
		})
	}
}

// driveToy runs CRUD, validation, $filter, $orderby, paging, /$count, the CSDL, the service document and the
// routes' 405 and 400 answers through HTTP.
func driveToy(t *testing.T, h http.Handler, all func() []odata.Entity) {
	do := func(method, target string, header http.Header, body string) (*http.Response, []byte) {
		t.Helper()
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		return doHandler(t, h, method, target, header, b)
	}

	// Create, read, update, delete.
	res, created := do("POST", toyCollection, jsonHdr(), `{"@odata.type":"#microsoft.graph.toyWidget","label":"first","size":-3,
		"weight":9007199254740993,"active":true,"color":"Green","madeDateTime":"2024-01-02T03:04:05.1234567+01:00","blob":"AAEC/w=="}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", res.StatusCode, created)
	}
	var id struct{ ID string }
	_ = json.Unmarshal(created, &id)
	if g, ok := odata.ParseGUID(id.ID); !ok || g != id.ID {
		t.Fatalf("created id %q is not a lower-case GUID", id.ID)
	}
	item := toyCollection + "/" + id.ID
	want := `{"@odata.context":"` + publicURL + `/$metadata#toyWidgets/$entity","@odata.type":"#microsoft.graph.toyWidget","@odata.etag":"W/\"1\"",` +
		`"id":"` + id.ID + `","label":"first","size":-3,"weight":9007199254740993,"active":true,"color":"green",` +
		`"madeDateTime":"2024-01-02T03:04:05.1234567+01:00","blob":"AAEC/w=="}`
	if string(created) != want || res.Header.Get("Location") != publicURL+"/toyWidgets/"+id.ID {
		t.Errorf("POST: %s\nLocation %s\nwant %s", created, res.Header.Get("Location"), want)
	}
	if res, got := do("GET", item, nil, ""); res.StatusCode != 200 || string(got) != want {
		t.Errorf("GET: %d %s", res.StatusCode, got)
	}
	if res, got := do("GET", toyCollection+"('"+strings.ToUpper(id.ID)+"')", hdr("Accept", "application/json;IEEE754Compatible=true"), ""); res.StatusCode != 200 ||
		!bytes.Contains(got, []byte(`"weight":"9007199254740993"`)) {
		t.Errorf("GET IEEE754Compatible: %d %s", res.StatusCode, got)
	}
	res, patched := do("PATCH", item, jsonHdr(), `{"size":null,"label":"second","color":"BLUE","active":false,"blob":null,"weight":"-5"}`)
	wantPatched := `"id":"` + id.ID + `","label":"second","size":null,"weight":-5,"active":false,"color":"blue","madeDateTime":"2024-01-02T03:04:05.1234567+01:00","blob":null}`
	if res.StatusCode != 200 || !bytes.HasSuffix(patched, []byte(wantPatched)) || res.Header.Get("ETag") != `W/"2"` {
		t.Errorf("PATCH: %d %s, want …%s", res.StatusCode, patched, wantPatched)
	}
	for name, body := range map[string]string{
		"Int32Overflow":     `{"size":2147483648}`,
		"Int32Fraction":     `{"size":1.5}`,
		"Int64NotANumber":   `{"weight":"abc"}`,
		"BooleanAsString":   `{"active":"true"}`,
		"BooleanNull":       `{"active":null}`,
		"EnumUnknown":       `{"color":"purple"}`,
		"EnumNull":          `{"color":null}`,
		"TimeNull":          `{"madeDateTime":null}`,
		"BinaryNotBase64":   `{"blob":"%%%"}`,
		"UnknownProperty":   `{"colour":"red"}`,
		"WrongType":         `{"@odata.type":"#microsoft.graph.certificateConnectorDetails"}`,
		"DifferentID":       `{"id":"` + missingID + `"}`,
		"WrongCaseProperty": `{"Label":"x"}`,
	} {
		if res, body := do("PATCH", item, jsonHdr(), body); res.StatusCode != http.StatusBadRequest {
			t.Errorf("PATCH %s: %d %s", name, res.StatusCode, body)
		}
	}
	if res, body := do("DELETE", item, nil, ""); res.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE: %d %s", res.StatusCode, body)
	}
	for _, method := range []string{"GET", "DELETE"} {
		if res, body := do(method, item, nil, ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s after DELETE: %d %s", method, res.StatusCode, body)
		}
	}

	// Twenty widgets for the queries: ties, nulls, every enum member, negative and large numbers.
	for i := range 20 {
		size := strconv.Itoa(i%5 - 1)
		if i%4 == 0 {
			size = "null"
		}
		blob := `"` + strings.Repeat("QUJD", i%3) + `"`
		if i%5 == 0 {
			blob = "null"
		}
		body := `{"label":"w` + strconv.Itoa(i%7) + `","size":` + size + `,"weight":` + strconv.Itoa((i*7919)%23-11) + strings.Repeat("0", i%3*4) +
			`,"active":` + strconv.FormatBool(i%2 == 0) + `,"color":"` + []string{"red", "green", "blue"}[i%3] + `","madeDateTime":"2024-0` +
			strconv.Itoa(1+i%9) + `-1` + strconv.Itoa(i%10) + `T00:00:00` + []string{"Z", "+14:00", "-08:00"}[i%3] + `","blob":` + blob + `}`
		if res, got := do("POST", toyCollection, jsonHdr(), body); res.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", body, res.StatusCode, got)
		}
	}
	rows := all()
	if len(rows) != 20 {
		t.Fatalf("%d widgets stored", len(rows))
	}
	now := odata.FromTime(pinnedNow.UTC())
	for _, tc := range []struct{ filter, order string }{
		{"", ""},
		{"size gt 0 and active eq true", "size desc,label"},
		{"size eq null or weight lt 0", "weight desc"},
		{"color eq 'green'", "madeDateTime"},
		{"color eq microsoft.graph.toyColor'blue' or color eq 'RED'", "color desc,id"},
		{"color in ('red', microsoft.graph.toyColor'blue')", "color,weight"},
		{"weight ge 10000", "active desc,weight"},
		{"madeDateTime lt 2024-05-01 and year(madeDateTime) eq 2024", "madeDateTime desc"},
		{"blob eq null", "label"},
		{"blob ne null and startswith(label,'w1')", "size"},
		{"not (active) and size ne null", "tolower(label) desc,size"},
		{"weight lt 100 and size ge 0", "size,weight"},
		{"", "length(label),madeDateTime desc"},
		{"contains(label,'3') or hour(madeDateTime) gt 0", "totaloffsetminutes(madeDateTime),weight"},
	} {
		path := toyCollection + "?$count=true&$top=3"
		var filter odata.Expr
		var order []odata.OrderBy
		var err error
		if tc.filter != "" {
			path += "&$filter=" + qv(tc.filter)
			if filter, err = odata.ParseFilter(toySet.Type, tc.filter, nil); err != nil {
				t.Fatalf("%s: %v", tc.filter, err)
			}
		}
		if tc.order != "" {
			path += "&$orderby=" + qv(tc.order)
			if order, err = odata.ParseOrderBy(toySet.Type, tc.order, nil); err != nil {
				t.Fatalf("%s: %v", tc.order, err)
			}
		}
		want := expectOf(rows, filter, order, now)
		var got []json.RawMessage
		for link := path; link != ""; {
			res, body := do("GET", link, nil, "")
			if res.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", link, res.StatusCode, body)
			}
			page := decodePage(t, body)
			if page.Count == nil || *page.Count != int64(len(want)) || len(page.Value) > 3 {
				t.Errorf("$filter=%s: a page of %d with @odata.count %v, want %d", tc.filter, len(page.Value), page.Count, len(want))
			}
			got = append(got, page.Value...)
			link = page.NextLink
		}
		checkItemsOf(t, toySet, "$filter="+tc.filter+" $orderby="+tc.order, got, want, odata.MetadataMinimal, 0)
		countPath := toyCollection + "/$count"
		if tc.filter != "" {
			countPath += "?$filter=" + qv(tc.filter)
		}
		if res, body := do("GET", countPath, nil, ""); res.StatusCode != 200 || string(body) != strconv.Itoa(len(want)) {
			t.Errorf("/$count?$filter=%s: %d %s, want %d", tc.filter, res.StatusCode, body, len(want))
		}
	}
	if res, body := do("GET", toyCollection, nil, ""); res.StatusCode != 200 || decodePage(t, body).NextLink == "" {
		t.Errorf("the default page (5) of 20 widgets: %d, no nextLink: %s", res.StatusCode, body)
	}
	if res, body := do("GET", toyCollection+"?$select=color,blob&$top=1", nil, ""); res.StatusCode != 200 ||
		!bytes.Contains(body, []byte(`"@odata.context":"`+publicURL+`/$metadata#toyWidgets(color,blob)"`)) {
		t.Errorf("$select: %d %s", res.StatusCode, body)
	}
	for name, q := range map[string]string{
		"BinaryCompared":   "$filter=" + qv("blob eq 'AA=='"),
		"EnumAsNumber":     "$filter=" + qv("color eq 1"),
		"UnknownProperty":  "$filter=" + qv("colour eq 'red'"),
		"OrderByBinary":    "$orderby=blob",
		"SelectUnknown":    "$select=label,nope",
		"OtherEnumLiteral": "$filter=" + qv("color eq microsoft.graph.userPfxPaddingScheme'none'"),
	} {
		if res, body := do("GET", toyCollection+"?"+q, nil, ""); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, res.StatusCode, body)
		}
	}

	// Routes: 405 with the real Allow list, 400 for segments the set does not have, 404 for keys no widget has,
	// service-defined segments in any case.
	one := rows[0].Key()
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"PUT", toyCollection + "/" + one, 405, "GET, HEAD, PATCH, DELETE"},
		{"POST", toyCollection + "('" + one + "')", 405, "GET, HEAD, PATCH, DELETE"},
		{"PATCH", toyCollection, 405, "GET, HEAD, POST"},
		{"DELETE", toyCollection, 405, "GET, HEAD, POST"},
		{"POST", toyCollection + "/$count", 405, "GET, HEAD"},
		{"GET", toyCollection + "/" + one + "/label", 400, ""},
		{"POST", toyCollection + "/" + one + "/getHealthMetrics", 400, ""},
		{"GET", toyCollection + "(" + one + ")", 400, ""}, // the unquoted form is for string keys
		{"GET", "/beta/deviceManagement/toyWidgets", 400, ""},
		{"GET", toyCollection + "/not-a-guid", 404, ""},
		{"GET", toyCollection + "('" + missingID + "')", 404, ""},
		{"GET", "/beta/TOYWIDGETS/" + strings.ToUpper(one), 200, ""},
		{"GET", "/beta/ToyWidgets/$Count", 200, ""},
		{"GET", seedItem, 404, ""}, // the model's own sets are there too
	} {
		res, body := do(tc.method, tc.path, jsonHdr(), "{}")
		if res.StatusCode != tc.status || res.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d %q: %s", tc.method, tc.path, res.StatusCode, res.Header.Get("Allow"), tc.status, tc.allow, body)
		}
		if tc.status >= 400 {
			checkEnvelope(t, res, body, "")
		}
	}

	// The CSDL has the type, the enum and the entity set; the service document lists the set.
	res, body := do("GET", "/beta/$metadata", nil, "")
	if res.StatusCode != 200 {
		t.Fatalf("$metadata: %d", res.StatusCode)
	}
	facts := csdlFacts(t, body)
	for k, v := range map[string]string{
		"toyWidget":                                 "base=graph.entity",
		"toyWidget.label":                           "Edm.String/",
		"toyWidget.size":                            "Edm.Int32/",
		"toyWidget.weight":                          "Edm.Int64/false",
		"toyWidget.active":                          "Edm.Boolean/false",
		"toyWidget.color":                           "graph.toyColor/false",
		"toyWidget.madeDateTime":                    "Edm.DateTimeOffset/false",
		"toyWidget.blob":                            "Edm.Binary/",
		"enum toyColor":                             "red=0,green=1,blue=7",
		"entityset toyWidgets":                      "graph.toyWidget",
		"singleton deviceManagement":                "graph.deviceManagement",
		"userPFXCertificate.thumbprint":             "Edm.String/",
		"certificateConnectorDetails.connectorName": "Edm.String/",
	} {
		if facts[k] != v {
			t.Errorf("$metadata %s: %q, want %q", k, facts[k], v)
		}
	}
	if _, ok := facts["deviceManagement.toyWidgets"]; ok {
		t.Error("the top-level set is a navigation property of deviceManagement")
	}
	res, body = do("GET", "/beta", nil, "")
	if want := `"value":[{"name":"deviceManagement","kind":"Singleton","url":"deviceManagement"},{"name":"toyWidgets","kind":"EntitySet","url":"toyWidgets"}]`; res.StatusCode != 200 ||
		!bytes.Contains(body, []byte(want)) {
		t.Errorf("service document: %d %s, want …%s", res.StatusCode, body, want)
	}
}
