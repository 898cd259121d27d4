package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// authServer is the whole API on a PostgreSQL database of the test's own, behind a real HTTP server, verifying
// tokens that graphd issues itself, as it does when no JWKS is configured.
type authServer struct {
	url   string
	store *store.Store
	iss   *auth.Issuer
}

func newAuthServer(t *testing.T, configure func(*httpapi.Config)) authServer {
	t.Helper()
	st := storetest.Open(t)
	der, err := auth.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	iss, err := auth.NewIssuer(der, auth.DefaultIssuer, auth.DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(nil)
	cfg.Auth = auth.NewVerifier(auth.VerifierConfig{Issuer: auth.DefaultIssuer, Audience: auth.DefaultAudience,
		Keys: auth.StaticKeys{Set: iss.JWKS()}, Now: func() time.Time { return pinnedNow }})
	if configure != nil {
		configure(&cfg)
	}
	srv := httptest.NewServer(httpapi.NewServer(cfg, st))
	t.Cleanup(srv.Close)
	return authServer{url: srv.URL, store: st, iss: iss}
}

// newDevServer is newAuthServer with authentication off (GRAPHD_AUTH=none): every request acts in
// odata.DevTenantID, and verifying no token keeps the many requests of the query suites cheap under -race.
func newDevServer(t *testing.T, configure func(*httpapi.Config)) authServer {
	t.Helper()
	return newAuthServer(t, func(c *httpapi.Config) {
		c.Auth = nil
		if configure != nil {
			configure(c)
		}
	})
}

// token is an application token of tenant with ReadWrite.All.
func (s authServer) token(t *testing.T, tenant string) string {
	t.Helper()
	tok, err := s.iss.Sign(auth.TokenRequest{TenantID: tenant, Subject: "app-" + tenant[:8],
		Roles: []string{auth.PermReadWriteAll}, TTL: time.Hour, Now: pinnedNow})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request with a token ("" sends none) and reads the whole response. A path may be a nextLink,
// whose public service root is replaced by the test server's.
func (s authServer) do(t *testing.T, token, method, path string, header http.Header, body string) (*http.Response, []byte) {
	t.Helper()
	if strings.HasPrefix(path, publicURL) {
		path = "/beta" + strings.TrimPrefix(path, publicURL)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode >= 500 {
		t.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return res, b
}

// rows reads every connector of a tenant straight from the store, in id order.
func (s authServer) rows(t *testing.T, tenant string) []odata.Entity {
	return s.rowsOf(t, connSet, tenant)
}

// rowsOf reads every entity of a set and tenant straight from the store, in key order.
func (s authServer) rowsOf(t *testing.T, set *odata.EntitySet, tenant string) []odata.Entity {
	t.Helper()
	res, err := s.store.List(t.Context(), set, tenant, store.ListRequest{Query: odata.Query{Top: -1}, PageSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return res.Items
}

// collectionPage is a collection response.
type collectionPage struct {
	Context  string            `json:"@odata.context"`
	Count    *int64            `json:"@odata.count"`
	NextLink string            `json:"@odata.nextLink"`
	Value    []json.RawMessage `json:"value"`
}

func decodePage(t *testing.T, body []byte) collectionPage {
	t.Helper()
	var p collectionPage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("not a collection: %v: %s", err, body)
	}
	return p
}

// ids are the ids of a page's entities.
func (p collectionPage) ids(t *testing.T) []string {
	t.Helper()
	out := make([]string, len(p.Value))
	for i, v := range p.Value {
		var e struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(v, &e); err != nil || e.ID == "" {
			t.Fatalf("entity without id: %s", v)
		}
		out[i] = e.ID
	}
	return out
}

func connector(id, name string) odata.Entity {
	d, _ := odata.ParseDateTimeOffset("2024-06-15T10:00:00.1234567+02:00")
	p := odata.NewPatch(connSet.Type)
	p.SetName("connectorName", odata.Str(name))
	p.SetName("machineName", odata.Str("host-"+name))
	p.SetName("enrollmentDateTime", odata.Time(d))
	p.SetName("lastCheckinDateTime", odata.Time(d))
	p.SetName("connectorVersion", odata.Str("1.0"))
	return odata.NewEntity(connSet.Type, id, &p, odata.DateTimeOffset{})
}

func sample(id, metric, when string, success, failure int64) odata.MetricSample {
	d, ok := odata.ParseDateTimeOffset(when)
	if !ok {
		panic("bad sample time " + when)
	}
	return odata.MetricSample{ConnectorID: id, MetricName: metric, DateTime: d, SuccessCount: success, FailureCount: failure}
}

// TestTenantIsolation is issue 4's cross-tenant suite on PostgreSQL: tenant A creates, lists, patches, deletes,
// runs both actions and imports; tenant B sees none of it through any route or paging token, cannot change it,
// and is answered exactly as for an id that exists nowhere. The same id lives in both tenants independently.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t, nil)
	a, b := s.token(t, tenantA), s.token(t, tenantB)
	const (
		sharedID = seedID
		otherID  = "2b7e1516-28ae-4d2a-8f6c-9cf4f3c76e11"
	)

	// A imports two rows and metric samples; B imports a row under the same id as one of A's.
	importEntities(t, s.store, tenantA, []odata.Entity{connector(sharedID, "a-shared"), connector(otherID, "a-other")},
		sample(sharedID, "requests", "2024-06-15T10:00:00Z", 5, 1), sample(sharedID, "requests", "2024-06-15T12:00:00+01:00", 7, 2),
		sample(sharedID, "renewals", "2024-06-15T12:00:00Z", 3, 0))
	importEntities(t, s.store, tenantB, []odata.Entity{connector(sharedID, "b-shared")})

	// A creates, reads, patches and deletes through HTTP.
	res, body := s.do(t, a, "POST", collection, jsonHdr(), `{"connectorName":"a-created","machineName":"m"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("A's POST: %d %s", res.StatusCode, body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	createdItem := collection + "/" + created.ID
	res, body = s.do(t, a, "PATCH", createdItem, jsonHdr(), `{"connectorVersion":"2.0"}`)
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"connectorVersion":"2.0"`)) {
		t.Fatalf("A's PATCH: %d %s", res.StatusCode, body)
	}
	res, body = s.do(t, a, "GET", collection+"?$orderby=connectorName&$count=true", nil, "")
	if page := decodePage(t, body); res.StatusCode != http.StatusOK || *page.Count != 3 ||
		!reflect.DeepEqual(page.ids(t), []string{created.ID, otherID, sharedID}) {
		t.Fatalf("A's list: %d %s", res.StatusCode, body)
	}
	res, body = s.do(t, a, "DELETE", collection+"/"+otherID, nil, "")
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("A's DELETE: %d %s", res.StatusCode, body)
	}
	res, body = s.do(t, a, "POST", collection+"/"+sharedID+"/getHealthMetrics", jsonHdr(), `{"metricNames":["requests","renewals","none"]}`)
	if want := `"value":[{"name":"requests","value":15},{"name":"renewals","value":3},{"name":"none","value":0}]`; res.StatusCode != 200 || !bytes.Contains(body, []byte(want)) {
		t.Fatalf("A's getHealthMetrics: %d %s, want %s", res.StatusCode, body, want)
	}
	res, body = s.do(t, a, "POST", collection+"('"+sharedID+"')/microsoft.graph.getHealthMetricTimeSeries", jsonHdr(),
		`{"timeSeries":{"metricName":"requests","startDateTime":"2024-06-15T00:00:00Z","endDateTime":"2024-06-16T00:00:00Z"}}`)
	if want := `"value":[{"dateTime":"2024-06-15T10:00:00Z","successCount":5,"failureCount":1},{"dateTime":"2024-06-15T12:00:00+01:00","successCount":7,"failureCount":2}]`; res.StatusCode != 200 || !bytes.Contains(body, []byte(want)) {
		t.Fatalf("A's getHealthMetricTimeSeries: %d %s, want %s", res.StatusCode, body, want)
	}

	aRows := s.rows(t, tenantA)
	if len(aRows) != 2 {
		t.Fatalf("tenant A holds %d rows, want 2", len(aRows))
	}

	// B, for each of A's ids and for an id that exists nowhere, gets byte-identical answers.
	notFoundExactly := func(method, suffix string, header http.Header, body string) {
		t.Helper()
		missing, missingBody := s.do(t, b, method, collection+"/"+missingID+suffix, header, body)
		if missing.StatusCode != http.StatusNotFound {
			t.Fatalf("B's %s of a missing id%s: %d %s", method, suffix, missing.StatusCode, missingBody)
		}
		if method != http.MethodHead {
			checkEnvelope(t, missing, missingBody, notFound)
		}
		for _, id := range []string{created.ID, otherID} {
			for _, path := range []string{collection + "/" + id + suffix, collection + "('" + strings.ToUpper(id) + "')" + suffix} {
				res, got := s.do(t, b, method, path, header, body)
				if g, w := render(res, got), render(missing, missingBody); !bytes.Equal(g, w) {
					t.Errorf("B's %s %s answers differently from a missing id:\n%s\nwant\n%s", method, path, g, w)
				}
			}
		}
	}
	notFoundExactly("GET", "", nil, "")
	notFoundExactly("GET", "?$select=connectorName", nil, "")
	notFoundExactly("HEAD", "", nil, "")
	notFoundExactly("PATCH", "", jsonHdr(), `{"connectorName":"stolen"}`)
	notFoundExactly("PATCH", "", jsonHdr("If-Match", "*"), `{}`)
	notFoundExactly("PATCH", "", jsonHdr("If-Match", `W/"1"`), `{"connectorName":"stolen"}`)
	notFoundExactly("DELETE", "", nil, "")
	notFoundExactly("DELETE", "", hdr("If-Match", `W/"2"`), "")
	for _, ns := range []string{"", "microsoft.graph."} {
		notFoundExactly("POST", "/"+ns+"getHealthMetrics", jsonHdr(), `{"metricNames":["requests"]}`)
		notFoundExactly("POST", "/"+ns+"getHealthMetricTimeSeries", jsonHdr(),
			`{"timeSeries":{"metricName":"requests","startDateTime":"2000-01-01T00:00:00Z"}}`)
	}

	// B's collection holds only B's row, whatever B asks.
	for _, q := range []string{"", "?$count=true", "?$filter=id eq '" + created.ID + "'", "?$filter=connectorName eq 'a-created'",
		"?$filter=startswith(connectorName,'a-')", "?$orderby=connectorName desc&$top=10", "?$skip=0&$select=connectorName"} {
		res, body := s.do(t, b, "GET", collection+strings.ReplaceAll(q, " ", "%20"), nil, "")
		page := decodePage(t, body)
		want := []string{sharedID}
		if strings.Contains(q, "filter") {
			want = []string{}
		}
		if res.StatusCode != 200 || !reflect.DeepEqual(page.ids(t), want) || bytes.Contains(body, []byte("a-")) {
			t.Errorf("B's list %s: %d %s", q, res.StatusCode, body)
		}
	}
	for q, want := range map[string]string{"": "1", "?$filter=startswith(connectorName,'a-')": "0", "?$filter=id%20eq%20'" + created.ID + "'": "0"} {
		res, body := s.do(t, b, "GET", collection+"/$count"+strings.ReplaceAll(q, " ", "%20"), nil, "")
		if res.StatusCode != 200 || string(body) != want {
			t.Errorf("B's $count%s = %d %q, want %s", q, res.StatusCode, body, want)
		}
	}

	// A tenant with no rows at all sees an empty collection.
	c := s.token(t, "cccccccc-0000-4000-8000-00000000000c")
	res, body = s.do(t, c, "GET", collection+"?$count=true", nil, "")
	if want := `{"@odata.context":"` + publicURL + `/$metadata#deviceManagement/certificateConnectorDetails","@odata.count":0,"value":[]}`; res.StatusCode != 200 || string(body) != want {
		t.Errorf("tenant C's list: %d %s, want %s", res.StatusCode, body, want)
	}
	if res, body = s.do(t, c, "GET", collection+"/$count", nil, ""); res.StatusCode != 200 || string(body) != "0" {
		t.Errorf("tenant C's $count: %d %s", res.StatusCode, body)
	}

	// B's actions on the shared id see B's samples (none), not A's.
	res, body = s.do(t, b, "POST", collection+"/"+sharedID+"/getHealthMetrics", jsonHdr(), `{"metricNames":["requests"]}`)
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`{"name":"requests","value":0}`)) {
		t.Errorf("B's getHealthMetrics on the shared id: %d %s", res.StatusCode, body)
	}
	res, body = s.do(t, b, "POST", collection+"/"+sharedID+"/getHealthMetricTimeSeries", jsonHdr(),
		`{"timeSeries":{"metricName":"requests","startDateTime":"2000-01-01T00:00:00Z"}}`)
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`"value":[]`)) {
		t.Errorf("B's getHealthMetricTimeSeries on the shared id: %d %s", res.StatusCode, body)
	}

	// B changes and deletes its own row under the shared id; A's row of that id is untouched.
	res, body = s.do(t, b, "PATCH", collection+"/"+sharedID, jsonHdr(), `{"connectorName":"b-renamed"}`)
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`"connectorName":"b-renamed"`)) || !bytes.Contains(body, []byte(`W/\"2\"`)) {
		t.Errorf("B's PATCH of its own shared-id row: %d %s", res.StatusCode, body)
	}
	res, body = s.do(t, a, "GET", collection+"/"+sharedID, nil, "")
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`"connectorName":"a-shared"`)) {
		t.Errorf("A's shared-id row after B's PATCH: %d %s", res.StatusCode, body)
	}
	res, _ = s.do(t, b, "DELETE", collection+"/"+sharedID, nil, "")
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("B's DELETE of its own shared-id row: %d", res.StatusCode)
	}

	// An import for B cannot attach samples to A's connector, and importing A's id into B makes a row of B's.
	if err := tryImport(t, s.store, tenantB, nil, sample(created.ID, "requests", "2024-06-15T10:00:00Z", 100, 100)); err == nil {
		t.Error("B imported samples for A's connector")
	}
	importEntities(t, s.store, tenantB, []odata.Entity{connector(created.ID, "b-import")})
	res, body = s.do(t, b, "GET", createdItem, nil, "")
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`"connectorName":"b-import"`)) {
		t.Errorf("B's own row under A's id: %d %s", res.StatusCode, body)
	}
	res, body = s.do(t, a, "POST", collection+"/"+sharedID+"/getHealthMetrics", jsonHdr(), `{"metricNames":["requests"]}`)
	if !bytes.Contains(body, []byte(`{"name":"requests","value":15}`)) {
		t.Errorf("A's metrics after B's attempts: %d %s", res.StatusCode, body)
	}

	if got := s.rows(t, tenantA); !reflect.DeepEqual(got, aRows) {
		t.Errorf("tenant A's rows changed:\nbefore %+v\nafter  %+v", aRows, got)
	}
	if got := s.rows(t, tenantB); len(got) != 1 || got[0].Key() != created.ID {
		t.Errorf("tenant B holds %+v, want only its import of %s", got, created.ID)
	}
}

// TestTenantSkipToken checks that a $skiptoken is bound to the tenant and the query it was minted for, and that
// a tampered one is refused: each misuse is 400 BadRequest, never another tenant's page.
func TestTenantSkipToken(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t, nil)
	a, b := s.token(t, tenantA), s.token(t, tenantB)
	var rowsA, rowsB []odata.Entity
	for _, id := range []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
		"00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004"} {
		rowsA = append(rowsA, connector(id, "a"))
		rowsB = append(rowsB, connector(id, "b"))
	}
	importEntities(t, s.store, tenantA, rowsA)
	importEntities(t, s.store, tenantB, rowsB)
	small := hdr("Prefer", "odata.maxpagesize=2")
	first := collection + "?$filter=connectorName%20eq%20'a'%20or%20connectorName%20eq%20'b'&$select=connectorName"
	res, body := s.do(t, a, "GET", first, small, "")
	page := decodePage(t, body)
	if res.StatusCode != 200 || page.NextLink == "" || len(page.Value) != 2 {
		t.Fatalf("A's first page: %d %s", res.StatusCode, body)
	}
	next := page.NextLink
	if !strings.HasPrefix(next, publicURL+"/deviceManagement/certificateConnectorDetails?") || !strings.Contains(next, "&$skiptoken=") {
		t.Fatalf("nextLink %q", next)
	}
	res, body = s.do(t, a, "GET", next, small, "")
	if got := decodePage(t, body); res.StatusCode != 200 || len(got.Value) != 2 || got.NextLink != "" || bytes.Contains(body, []byte(`"b"`)) {
		t.Fatalf("A following its nextLink: %d %s", res.StatusCode, body)
	}

	_, token, _ := strings.Cut(next, "$skiptoken=")
	payload, sig, _ := strings.Cut(token, ".")
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	base := strings.TrimSuffix(next, token)
	// A query both sets answer, so that only the token's binding to its set can refuse it on the other.
	importEntities(t, s.store, tenantA, []odata.Entity{aliceRow(t), quoteRow(t)})
	_, body = s.do(t, a, "GET", collection+"?$top=1&$select=id", nil, "")
	both := decodePage(t, body).NextLink
	if both == "" {
		t.Fatalf("no nextLink: %s", body)
	}
	if res, body := s.do(t, a, "GET", pfxCollection+"?$top=1&$select=id", nil, ""); res.StatusCode != 200 || decodePage(t, body).NextLink == "" {
		t.Fatalf("the same query on userPfxCertificates: %d %s", res.StatusCode, body)
	}
	refused := map[string]struct{ token, link string }{
		"OtherTenant":         {b, next},
		"TamperedPayload":     {a, base + flip(payload, len(payload)/2) + "." + sig},
		"TamperedSignature":   {a, base + payload + "." + flip(sig, 0)},
		"TruncatedSignature":  {a, base + payload + "." + sig[:len(sig)-2]},
		"NoSignature":         {a, base + payload},
		"Garbage":             {a, base + "not-a-token"},
		"Empty":               {a, base},
		"OtherFilter":         {a, strings.Replace(next, "'a'", "'b'", 1)},
		"FilterDropped":       {a, collection + "?$select=connectorName&$skiptoken=" + token},
		"OrderAdded":          {a, next + "&$orderby=connectorName"},
		"OtherTenantNoFilter": {b, collection + "?$skiptoken=" + token},
		"OtherSet":            {a, strings.Replace(both, "/certificateConnectorDetails?", "/userPfxCertificates?", 1)},
		"OtherSetOtherTenant": {b, strings.Replace(both, "/certificateConnectorDetails?", "/userPfxCertificates?", 1)},
	}
	for name, tc := range refused {
		res, body := s.do(t, tc.token, "GET", tc.link, small, "")
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, res.StatusCode, body)
			continue
		}
		checkEnvelope(t, res, body, badRequest)
	}
	// Tokens minted for B's identical query page B's rows only.
	res, body = s.do(t, b, "GET", first, small, "")
	pb := decodePage(t, body)
	if res.StatusCode != 200 || pb.NextLink == "" {
		t.Fatalf("B's first page: %d %s", res.StatusCode, body)
	}
	res, body = s.do(t, b, "GET", pb.NextLink, small, "")
	if res.StatusCode != 200 || bytes.Contains(body, []byte(`"a"`)) || len(decodePage(t, body).Value) != 2 {
		t.Errorf("B following its nextLink: %d %s", res.StatusCode, body)
	}
}
