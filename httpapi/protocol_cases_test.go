package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// protocolCases are issue 8's protocol items, as cases of the handler table (so they run on the fake store and,
// unless fakeOnly, on PostgreSQL, with the same goldens): /$count's refused options, service-defined segments in
// any case, client text quoted capped in error messages, the service document and the users lookup.
func protocolCases(tb testing.TB) []apiCase {
	upperSeed := strings.ToUpper(seedID)
	metrics := []byte(`{"metricNames":["m1"]}`)
	series := []byte(`{"timeSeries":{"metricName":"m1","startDateTime":"2020-01-01T00:00:00Z"}}`)
	huge := strings.Repeat("x", 100<<10) // beyond the URL limit (64 KiB): the route's 400 still comes first
	const upn = "Adele.Vance@contoso.example"
	return []apiCase{
		// /$count counts what $filter selects; OData says a client must not combine it with $top, $skip, $orderby
		// or $select, and graphd refuses them rather than ignore them (issue 8 item 1).
		{name: "CountWithFilter", method: "GET", path: collection + "/$count", query: "$filter=connectorName%20eq%20'Old%20connector'", status: 200,
			check: wantBody("1")},
		{name: "CountWithFilterNoMatch", method: "GET", path: collection + "/$count", query: "$filter=connectorName%20eq%20'x'", status: 200,
			check: wantBody("0")},
		{name: "CountWithTop", method: "GET", path: collection + "/$count", query: "$top=1", status: 400, code: badRequest},
		{name: "CountWithSkip", method: "GET", path: collection + "/$count", query: "$skip=1", status: 400, code: badRequest},
		{name: "CountWithOrderBy", method: "GET", path: collection + "/$count", query: "$orderby=connectorName", status: 400, code: badRequest},
		{name: "CountWithSelect", method: "GET", path: collection + "/$count", query: "$select=connectorName", status: 400, code: badRequest},
		{name: "CountWithSkipToken", method: "GET", path: collection + "/$count", query: "$skiptoken=abc", status: 400, code: badRequest},
		{name: "CountWithFilterAndTop", method: "GET", path: collection + "/$count", query: "$filter=true&$top=0", status: 400, code: badRequest},
		{name: "UserPfxCountWithTop", method: "GET", path: pfxCollection + "/$count", query: "$top=1", status: 400, code: badRequest},

		// Service-defined segments resolve in any case; keys keep their own rules; responses use the canonical
		// spelling, so they are the lower-case requests' answers byte for byte (issue 8 item 5).
		{name: "CaseCollection", method: "GET", path: "/beta/DeviceManagement/CertificateConnectorDetails", status: 200, check: wantSameAs("GetCollection")},
		{name: "CaseEverySegment", method: "GET", path: "/BETA/DEVICEMANAGEMENT/CERTIFICATECONNECTORDETAILS/" + upperSeed, status: 200, check: wantSameAs("GetSeed")},
		{name: "CaseParenKey", method: "GET", path: "/beta/devicemanagement/certificateconnectordetails('" + upperSeed + "')", status: 200, check: wantSameAs("GetSeed")},
		{name: "CaseCountSegment", method: "GET", path: "/beta/deviceManagement/certificateConnectorDetails/$COUNT", status: 200, check: wantSameAs("GetCountSegment")},
		{name: "CaseCountSegmentMixed", method: "GET", path: "/Beta/DeviceManagement/CertificateConnectorDetails/$Count", status: 200, check: wantSameAs("GetCountSegment")},
		{name: "CaseMetadata", method: "GET", path: "/beta/$Metadata", status: 200, check: wantSameAs("Metadata")},
		{name: "CaseMetadataUpper", method: "GET", path: "/BETA/$METADATA", status: 200, check: wantSameAs("Metadata")},
		{name: "CaseServiceRoot", method: "GET", path: "/Beta", status: 200, check: wantSameAs("ServiceDocument")},
		{name: "CasePatch", method: "PATCH", path: "/beta/DeviceManagement/CertificateConnectorDetails/" + seedID, header: jsonHdr(), body: []byte(`{"connectorName":"x"}`), status: 200,
			check: wantBodyID(seedID)},
		{name: "CaseActionName", method: "POST", path: seedItem + "/GETHEALTHMETRICS", header: jsonHdr(), body: metrics, status: 200},
		{name: "CaseActionNameQualified", method: "POST", path: seedItem + "/Microsoft.Graph.GetHealthMetrics", header: jsonHdr(), body: metrics, status: 200,
			check: wantSameAs("CaseActionName")},
		{name: "CaseActionNameLowerQualified", method: "POST", path: "/beta/devicemanagement/certificateconnectordetails/" + seedID + "/microsoft.graph.gethealthmetrictimeseries",
			header: jsonHdr(), body: series, status: 200},
		{name: "CaseActionParenKey", method: "POST", path: "/beta/DeviceManagement/CertificateConnectorDetails('" + upperSeed + "')/MICROSOFT.GRAPH.GETHEALTHMETRICTIMESERIES",
			header: jsonHdr(), body: series, status: 200, check: wantSameAs("CaseActionNameLowerQualified")},
		{name: "CaseActionWrongVerb", method: "GET", path: seedItem + "/GetHealthMetrics", status: 405, code: "MethodNotAllowed"},
		{name: "CaseUserPfxCollection", method: "GET", path: "/beta/DeviceManagement/UserPfxCertificates", status: 200},
		{name: "CaseUserPfxCount", method: "GET", path: "/beta/devicemanagement/USERPFXCERTIFICATES/$COUNT", status: 200, check: wantBody("0")},
		{name: "CaseUserPfxMissingKey", method: "GET", path: "/beta/DeviceManagement/UserPfxCertificates('" + strings.Repeat("A", 32) + "-X')", status: 404, code: notFound},
		{name: "CaseUnknownSegmentAsWritten", method: "GET", path: "/beta/DeviceManagement/CertificateConnectors", status: 400, code: badRequest},
		{name: "CaseUnknownActionAsWritten", method: "POST", path: seedItem + "/Microsoft.Graph.GetOther", header: jsonHdr(), body: []byte(`{}`), status: 400, code: badRequest},
		{name: "CaseHealthzNotCovered", method: "GET", path: "/HEALTHZ", status: 400, code: badRequest},
		{name: "CaseVersionNotCovered", method: "GET", path: "/V1.0/deviceManagement/certificateConnectorDetails", status: 400, code: badRequest},

		// Client text in messages is quoted at most 64 bytes long, so a huge name cannot make a huge error.
		{name: "PatchHugeUnknownProperty", method: "PATCH", path: seedItem, header: jsonHdr(), body: []byte(`{"` + strings.Repeat("p", 1<<20) + `":1}`),
			status: 400, code: modelValidation, check: wantShortError},
		{name: "PatchHugeODataType", method: "PATCH", path: seedItem, header: jsonHdr(), body: []byte(`{"@odata.type":"#` + strings.Repeat("t", 1<<20) + `"}`),
			status: 400, code: modelValidation, check: wantShortError},
		{name: "PatchHugeBodyID", method: "PATCH", path: seedItem, header: jsonHdr(), body: []byte(`{"id":"` + strings.Repeat("i", 1<<20) + `"}`),
			status: 400, code: modelValidation, check: wantShortError},
		{name: "HugeUnknownSegment", method: "GET", path: "/beta/" + huge, status: 400, code: badRequest, check: wantShortError},
		{name: "HugeUnknownSegmentAfterKey", method: "GET", path: seedItem + "/" + huge, status: 400, code: badRequest, check: wantShortError},
		{name: "PatchHugeContentType", method: "PATCH", path: seedItem, header: hdr("Content-Type", "application/"+strings.Repeat("j", 20<<10)), body: []byte(`{}`),
			status: 415, code: "UnsupportedMediaType", check: wantShortError},
		{name: "PatchHugeCharset", method: "PATCH", path: seedItem, header: hdr("Content-Type", "application/json; charset="+strings.Repeat("c", 20<<10)), body: []byte(`{}`),
			status: 415, code: "UnsupportedMediaType", check: wantShortError},
		{name: "PatchHugeContentEncoding", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", strings.Repeat("e", 20<<10)), body: []byte(`{}`),
			status: 415, code: "UnsupportedMediaType", check: wantShortError},
		{name: "HugeMethod", method: strings.Repeat("M", 10<<10), path: seedItem, status: 405, code: "MethodNotAllowed", check: wantShortError},
		{name: "HugeFilterProperty", method: "GET", path: collection, query: "$filter=" + strings.Repeat("f", 20<<10) + "%20eq%201", status: 400, code: badRequest, check: wantShortError},
		{name: "HugeSelectProperty", method: "GET", path: seedItem, query: "$select=" + strings.Repeat("s", 20<<10), status: 400, code: badRequest, check: wantShortError},
		{name: "HugeOrderByProperty", method: "GET", path: collection, query: "$orderby=" + strings.Repeat("o", 20<<10), status: 400, code: badRequest, check: wantShortError},
		{name: "HugeUnknownOption", method: "GET", path: collection, query: "$" + strings.Repeat("u", 20<<10) + "=1", status: 400, code: badRequest, check: wantShortError},
		{name: "HugeFilterString", method: "GET", path: collection, query: "$filter=connectorName%20eq%20'" + strings.Repeat("v", 20<<10), status: 400, code: badRequest, check: wantShortError},

		// The service document lists the container of the sets; it needs no token.
		{name: "ServiceDocument", method: "GET", path: "/beta", status: 200,
			check: wantContains(`"value":[{"name":"deviceManagement","kind":"Singleton","url":"deviceManagement"}]`)},

		// The users lookup Intune's PFX import module makes (issue 9 item 2): every UPN names a user whose id is
		// the GUID a userPfxCertificates key carries without hyphens.
		{name: "UsersLookup", method: "GET", path: "/beta/users", query: "$filter=" + qv("userPrincipalName eq '"+upn+"'"), status: 200,
			check: wantUsers(upn)},
		{name: "UsersLookupIn", method: "GET", path: "/beta/users", query: "$filter=" + qv("userPrincipalName in ('"+upn+"','b@contoso.example','"+upn+"')"), status: 200,
			check: wantUsers(upn, "b@contoso.example")},
		{name: "UsersLookupReversed", method: "GET", path: "/beta/users", query: "$filter=" + qv("'"+upn+"' eq userPrincipalName"), status: 200,
			check: wantUsers(upn)},
		{name: "UsersLookupCase", method: "GET", path: "/beta/Users", query: "$filter=" + qv("userPrincipalName eq '"+strings.ToUpper(upn)+"'") + "&$select=id", status: 200,
			check: wantUsers(strings.ToUpper(upn))},
		{name: "UsersList", method: "GET", path: "/beta/users", status: 400, code: badRequest},
		{name: "UsersOtherProperty", method: "GET", path: "/beta/users", query: "$filter=" + qv("displayName eq 'x'"), status: 400, code: badRequest},
		{name: "UsersOtherOperator", method: "GET", path: "/beta/users", query: "$filter=" + qv("startswith(userPrincipalName,'a')"), status: 400, code: badRequest},
		{name: "UsersOr", method: "GET", path: "/beta/users", query: "$filter=" + qv("userPrincipalName eq 'a' or userPrincipalName eq 'b'"), status: 400, code: badRequest},
		{name: "UsersByID", method: "GET", path: "/beta/users/" + odata.UserID(upn), status: 400, code: badRequest},
		{name: "UsersPost", method: "POST", path: "/beta/users", header: jsonHdr(), body: []byte(`{}`), status: 405, code: "MethodNotAllowed"},
	}
}

// pfxCollection is the userPfxCertificates collection.
const pfxCollection = "/beta/deviceManagement/userPfxCertificates"

func wantBody(want string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if string(r.body) != want {
			t.Errorf("body %q, want %q", r.body, want)
		}
	}
}

func wantContains(want string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("body lacks %s: %s", want, r.body)
		}
	}
}

// wantSameAs checks that a response is, byte for byte, the golden of another case: what a request in another
// spelling must get.
func wantSameAs(name string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if *update {
			return
		}
		want := readTestdata(t, filepath.Base(name)+".golden")
		if got := render(r.res, r.body); !bytes.Equal(got, want) {
			t.Errorf("the response differs from %s's:\n%s\nwant\n%s", name, got, want)
		}
	}
}

// wantShortError checks that an error quoting client text stays short: its message quotes at most 64 bytes of
// it, and the envelope is far below the text's size.
func wantShortError(t *testing.T, r result) {
	t.Helper()
	var env envelope
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("not an envelope: %v", err)
	}
	if len(r.body) > 1024 || len(env.Error.Message) > 400 {
		t.Errorf("a %d-byte error for huge client text: %.300s", len(r.body), r.body)
	}
}

// wantUsers checks a users lookup: one user per distinct UPN, in order, each with the id
// userPfxCertificates keys carry.
func wantUsers(upns ...string) func(t *testing.T, r result) {
	return func(t *testing.T, r result) {
		t.Helper()
		var page struct {
			Value []struct {
				ID  string `json:"id"`
				UPN string `json:"userPrincipalName"`
			} `json:"value"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Value) != len(upns) {
			t.Fatalf("%d users, want %d: %s", len(page.Value), len(upns), r.body)
		}
		for i, upn := range upns {
			u := page.Value[i]
			if g, ok := odata.ParseGUID(u.ID); !ok || g != u.ID || u.ID != odata.UserID(upn) {
				t.Errorf("user %d: id %q, want the lower-case GUID %s", i, u.ID, odata.UserID(upn))
			}
			if key := odata.UserPfxKey(upn, "ab"); strings.ReplaceAll(u.ID, "-", "") != key[:32] {
				t.Errorf("user %d: id %s is not the user part of the key %s", i, u.ID, key)
			}
			if u.UPN != "" && u.UPN != upn {
				t.Errorf("user %d: userPrincipalName %q, want %q", i, u.UPN, upn)
			}
		}
	}
}

// TestAccessLogCanonicalRoute checks that the access log names the route template in its canonical spelling,
// whatever spelling the request used, so that logs and metrics group by route.
func TestAccessLogCanonicalRoute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, path, route string
	}{
		{"GET", "/BETA/DeviceManagement/CertificateConnectorDetails", "/beta/deviceManagement/certificateConnectorDetails"},
		{"GET", "/beta/deviceManagement/certificateConnectorDetails/$COUNT", "/beta/deviceManagement/certificateConnectorDetails/$count"},
		{"GET", "/beta/DEVICEMANAGEMENT/CERTIFICATECONNECTORDETAILS/" + strings.ToUpper(seedID), "/beta/deviceManagement/certificateConnectorDetails/{id}"},
		{"GET", "/beta/$METADATA", "/beta/$metadata"},
		{"POST", seedItem + "/MICROSOFT.GRAPH.GETHEALTHMETRICS", "/beta/deviceManagement/certificateConnectorDetails/{id}/microsoft.graph.getHealthMetrics"},
		{"POST", seedItem + "/GetHealthMetrics", "/beta/deviceManagement/certificateConnectorDetails/{id}/getHealthMetrics"},
		{"GET", "/beta/DeviceManagement/UserPfxCertificates('" + strings.Repeat("a", 32) + "-x')", "/beta/deviceManagement/userPfxCertificates('{qid}')"},
		{"GET", "/beta/deviceManagement/USERPFXCERTIFICATES(" + strings.Repeat("a", 32) + "-x)", "/beta/deviceManagement/userPfxCertificates({uid})"},
		{"GET", "/Beta/Users", "/beta/users"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			fake := newFakeStore()
			fake.put(odata.DevTenantID, seedRow(t))
			var logs logBuffer
			h := httpapi.NewServer(testConfig(logs.logger()), fake)
			req := newTestRequest(t, tc.method, tc.path, jsonHdr(), `{"metricNames":["m"]}`)
			h.ServeHTTP(httptest.NewRecorder(), req)
			if line := logs.String(); !strings.Contains(line, "route="+tc.route+" ") {
				t.Errorf("the access log lacks route=%s: %s", tc.route, line)
			}
		})
	}
}

// newTestRequest is a request to the handler with headers and a body ("" for none).
func newTestRequest(tb testing.TB, method, target string, header http.Header, body string) *http.Request {
	tb.Helper()
	tc := apiCase{method: method, path: target, header: header}
	if path, query, ok := strings.Cut(target, "?"); ok {
		tc.path, tc.query = path, query
	}
	if body != "" {
		tc.body = []byte(body)
	}
	return tc.newRequest(tb, "")
}
