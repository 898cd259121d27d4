package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// Each request of a batch is a real request (issue 10 item 2): served by the handler chain that serves it alone,
// it answers what it would alone, byte for byte, with Graph's header spelling.

// aloneRequest is a request as sent alone; path carries the query.
type aloneRequest struct {
	method string
	path   string
	header http.Header
	body   string
}

// comparedHeaders are the step headers that must equal those of the request sent alone.
var comparedHeaders = []string{
	"Allow", "Cache-Control", "Content-Type", "ETag", "Location", "OData-EntityId", "OData-Version", "Preference-Applied",
	"Retry-After", "client-request-id", "request-id",
}

// checkSameAsAlone checks a step against the response of the request sent alone: status, body bytes and the
// headers clients read.
func checkSameAsAlone(t *testing.T, s stepResult, res *http.Response, body []byte) {
	t.Helper()
	if s.Status != res.StatusCode {
		t.Errorf("step %s: status %d, alone %d", s.ID, s.Status, res.StatusCode)
	}
	if got := s.content(t); !bytes.Equal(got, body) && !(res.StatusCode == http.StatusNoContent && len(body) == 0) {
		t.Errorf("step %s: body differs from the request alone\n--- step\n%s\n--- alone\n%s", s.ID, got, body)
	}
	for _, name := range comparedHeaders {
		if name == "Content-Type" && len(body) == 0 {
			continue // a step without a body has no Content-Type (HEAD alone keeps GET's)
		}
		if got, want := s.header(name), headerValue(res.Header, name); got != want {
			t.Errorf("step %s: header %s = %q, alone %q", s.ID, name, got, want)
		}
	}
}

func TestBatchStepsAsAlone(t *testing.T) {
	t.Parallel()
	seedPath := "/beta" + relSeed
	selectQuery := "?$select=id,connectorName&$filter=connectorName eq 'Old connector'"
	encodedQuery := "?%24select=id%2CconnectorName&%24filter=connectorName%20eq%20%27Old%20connector%27"
	aliceFilter := "?$filter=userPrincipalName eq '" + aliceUPN + "'"
	b64 := base64.RawURLEncoding.EncodeToString([]byte(`{"connectorName":"from base64"}`))
	tests := []struct {
		name  string
		batch string
		alone []aloneRequest // in the batch's order, ids "1", "2", …
		// golden: the batch's response is also kept as testdata/Batch<name>.golden.
		golden bool
	}{
		// The url forms Graph's clients send, all for one request.
		{name: "URLLeadingSlash", batch: batchOf(step("1", "GET", relSeed)), alone: []aloneRequest{{method: "GET", path: seedPath}}},
		{name: "URLNoLeadingSlash", batch: batchOf(step("1", "GET", strings.TrimPrefix(relSeed, "/"))), alone: []aloneRequest{{method: "GET", path: seedPath}}},
		{name: "URLVersionPrefix", batch: batchOf(step("1", "GET", "/beta"+relSeed)), alone: []aloneRequest{{method: "GET", path: seedPath}}},
		{name: "URLServiceRoot", batch: batchOf(step("1", "GET", publicURL+relSeed)), alone: []aloneRequest{{method: "GET", path: seedPath}}},
		{name: "URLSegmentsAnyCase", batch: batchOf(step("1", "GET", "/DeviceManagement/CertificateConnectorDetails/"+strings.ToUpper(seedID))),
			alone: []aloneRequest{{method: "GET", path: "/beta/DeviceManagement/CertificateConnectorDetails/" + strings.ToUpper(seedID)}}},
		{name: "URLParenKey", batch: batchOf(step("1", "GET", relCollection+"('"+seedID+"')?$select=connectorName")),
			alone: []aloneRequest{{method: "GET", path: "/beta" + relCollection + "('" + seedID + "')?$select=connectorName"}}},
		{name: "QueryUnencoded", batch: batchOf(step("1", "GET", relCollection+selectQuery)),
			alone: []aloneRequest{{method: "GET", path: "/beta" + relCollection + encodedQuery}}, golden: true},
		{name: "QueryEncoded", batch: batchOf(step("1", "GET", relCollection+encodedQuery)),
			alone: []aloneRequest{{method: "GET", path: "/beta" + relCollection + encodedQuery}}},
		{name: "QueryUsers", batch: batchOf(step("1", "GET", "/users"+aliceFilter)),
			alone: []aloneRequest{{method: "GET", path: "/beta/users?$filter=userPrincipalName%20eq%20'" + aliceUPN + "'"}}},
		{name: "Count", batch: batchOf(step("1", "GET", relCollection+"/$count")),
			alone: []aloneRequest{{method: "GET", path: "/beta" + relCollection + "/$count"}}, golden: true},
		{name: "ServiceDocument", batch: batchOf(step("1", "GET", "/")), alone: []aloneRequest{{method: "GET", path: "/beta"}}},
		{name: "Metadata", batch: batchOf(step("1", "GET", "/$metadata")), alone: []aloneRequest{{method: "GET", path: "/beta/$metadata"}}},
		{name: "Head", batch: batchOf(step("1", "HEAD", relSeed)), alone: []aloneRequest{{method: "HEAD", path: seedPath}}},

		// Writes and what their headers ask, names in any case.
		{name: "PatchLowerCaseHeaders", batch: batchOf(step("1", "PATCH", relSeed,
			stepHeaders("content-type", "application/json", "if-match", `W/"1"`, "prefer", "return=representation"),
			stepBody(`{"connectorName":"patched"}`))),
			alone:  []aloneRequest{{method: "PATCH", path: seedPath, header: jsonHdr("If-Match", `W/"1"`, "Prefer", "return=representation"), body: `{"connectorName":"patched"}`}},
			golden: true},
		{name: "PatchUpperCaseHeadersMinimal", batch: batchOf(step("1", "patch", relSeed,
			stepHeaders("CONTENT-TYPE", "application/json; charset=utf-8", "PREFER", "return=minimal"), stepBody(`{"connectorName":"patched"}`))),
			alone:  []aloneRequest{{method: "PATCH", path: seedPath, header: hdr("Content-Type", "application/json; charset=utf-8", "Prefer", "return=minimal"), body: `{"connectorName":"patched"}`}},
			golden: true},
		{name: "PatchStaleIfMatch", batch: batchOf(step("1", "PATCH", relSeed, stepHeaders("Content-Type", "application/json", "If-Match", `W/"7"`), stepBody(`{"connectorName":"x"}`))),
			alone: []aloneRequest{{method: "PATCH", path: seedPath, header: jsonHdr("If-Match", `W/"7"`), body: `{"connectorName":"x"}`}}, golden: true},
		{name: "PatchUnknownProperty", batch: batchOf(patchStep("1", `{"foo":1}`)),
			alone: []aloneRequest{{method: "PATCH", path: seedPath, header: jsonHdr(), body: `{"foo":1}`}}},
		{name: "PatchEmpty", batch: batchOf(patchStep("1", `{}`)), alone: []aloneRequest{{method: "PATCH", path: seedPath, header: jsonHdr(), body: `{}`}}},
		{name: "PatchNoContentType", batch: batchOf(step("1", "PATCH", relSeed, stepBody(`{"connectorName":"x"}`))),
			alone: []aloneRequest{{method: "PATCH", path: seedPath, header: http.Header{}, body: `{"connectorName":"x"}`}}, golden: true},
		{name: "PatchTextBody", batch: batchOf(step("1", "PATCH", relSeed, stepHeaders("Content-Type", "text/plain"), stepBody(`"{\"connectorName\":\"x\"}"`))),
			alone: []aloneRequest{{method: "PATCH", path: seedPath, header: hdr("Content-Type", "text/plain"), body: `{"connectorName":"x"}`}}},
		{name: "PatchBase64Body", batch: batchOf(step("1", "PATCH", relSeed, stepHeaders("Content-Type", "application/octet-stream"), stepBody(`"`+b64+`"`))),
			alone: []aloneRequest{{method: "PATCH", path: seedPath, header: hdr("Content-Type", "application/octet-stream"), body: `{"connectorName":"from base64"}`}}},
		{name: "PatchNullBody", batch: batchOf(step("1", "PATCH", relSeed, stepHeaders("Content-Type", "application/json"), stepBody(`null`))),
			alone: []aloneRequest{{method: "PATCH", path: seedPath, header: jsonHdr()}}},
		{name: "PatchMissing", batch: batchOf(step("1", "PATCH", relMissing, stepHeaders("Content-Type", "application/json"), stepBody(`{"connectorName":"x"}`))),
			alone: []aloneRequest{{method: "PATCH", path: "/beta" + relMissing, header: jsonHdr(), body: `{"connectorName":"x"}`}}, golden: true},
		{name: "Create", batch: batchOf(step("1", "POST", relCollection, stepHeaders("Content-Type", "application/json"), stepBody(`{"connectorName":"new"}`))),
			alone: []aloneRequest{{method: "POST", path: "/beta" + relCollection, header: jsonHdr(), body: `{"connectorName":"new"}`}}, golden: true},
		{name: "CreateMinimal", batch: batchOf(step("1", "POST", relCollection, stepHeaders("Content-Type", "application/json", "Prefer", "return=minimal"), stepBody(`{"connectorName":"new"}`))),
			alone: []aloneRequest{{method: "POST", path: "/beta" + relCollection, header: jsonHdr("Prefer", "return=minimal"), body: `{"connectorName":"new"}`}}},
		{name: "Delete", batch: batchOf(step("1", "DELETE", relSeed)), alone: []aloneRequest{{method: "DELETE", path: seedPath}}, golden: true},
		{name: "DeleteMissing", batch: batchOf(step("1", "DELETE", relMissing)), alone: []aloneRequest{{method: "DELETE", path: "/beta" + relMissing}}},
		{name: "Action", batch: batchOf(step("1", "POST", relSeed+"/microsoft.graph.getHealthMetrics", stepHeaders("Content-Type", "application/json"), stepBody(`{"metricNames":["m1"]}`))),
			alone: []aloneRequest{{method: "POST", path: seedPath + "/microsoft.graph.getHealthMetrics", header: jsonHdr(), body: `{"metricNames":["m1"]}`}}},

		// Errors as alone.
		{name: "GetMissing", batch: batchOf(step("1", "GET", relMissing)), alone: []aloneRequest{{method: "GET", path: "/beta" + relMissing}}, golden: true},
		{name: "GetNonGUIDKey", batch: batchOf(step("1", "GET", relCollection+"/not-a-guid")), alone: []aloneRequest{{method: "GET", path: "/beta" + relCollection + "/not-a-guid"}}},
		{name: "MethodNotAllowed", batch: batchOf(step("1", "PUT", relSeed, stepHeaders("Content-Type", "application/json"), stepBody(`{}`))),
			alone: []aloneRequest{{method: "PUT", path: seedPath, header: jsonHdr(), body: `{}`}}, golden: true},
		{name: "UnknownSegment", batch: batchOf(step("1", "GET", "/deviceManagement/nothing")), alone: []aloneRequest{{method: "GET", path: "/beta/deviceManagement/nothing"}}},
		{name: "NotAcceptable", batch: batchOf(step("1", "GET", relSeed, stepHeaders("Accept", "application/xml"))),
			alone: []aloneRequest{{method: "GET", path: seedPath, header: hdr("Accept", "application/xml")}}},
		{name: "BadQuery", batch: batchOf(step("1", "GET", relCollection+"?$filter=nope eq 1")),
			alone: []aloneRequest{{method: "GET", path: "/beta" + relCollection + "?$filter=nope%20eq%201"}}},
		{name: "ClientRequestID", batch: batchOf(step("1", "GET", relMissing, stepHeaders("client-request-id", "my-own-id"))),
			alone: []aloneRequest{{method: "GET", path: "/beta" + relMissing, header: hdr("client-request-id", "my-own-id")}}},
		{name: "IfNoneMatch", batch: batchOf(step("1", "GET", relSeed, stepHeaders("If-None-Match", `W/"1"`))),
			alone: []aloneRequest{{method: "GET", path: seedPath, header: hdr("If-None-Match", `W/"1"`)}}},

		// A chain: each request sees what the one before it did.
		{name: "PatchThenGet", batch: batchOf(patchStep("1", `{"connectorName":"patched"}`), step("2", "GET", relSeed, dependsOn("1")),
			step("3", "DELETE", relSeed, dependsOn("2")), step("4", "GET", relSeed, dependsOn("3"))),
			alone: []aloneRequest{{method: "PATCH", path: seedPath, header: jsonHdr(), body: `{"connectorName":"patched"}`},
				{method: "GET", path: seedPath}, {method: "DELETE", path: seedPath}, {method: "GET", path: seedPath}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			newStore := func() *fakeStore {
				f := newFakeStore()
				f.put(odata.DevTenantID, seedRow(t))
				f.put(odata.DevTenantID, aliceRow(t))
				return f
			}
			batched := batchServer(t, newStore(), nil, nil)
			alone := batchServer(t, newStore(), nil, nil)
			res, body := postBatch(t, batched, tc.batch)
			got := readBatch(t, res, body)
			if tc.golden {
				checkGolden(t, "Batch"+tc.name, render(res, body))
			}
			if len(got.steps) != len(tc.alone) {
				t.Fatalf("%d responses, want %d", len(got.steps), len(tc.alone))
			}
			for i, a := range tc.alone {
				var reqBody []byte
				if a.body != "" {
					reqBody = []byte(a.body)
				}
				ares, abody := doHandler(t, alone, a.method, a.path, a.header, reqBody)
				checkSameAsAlone(t, got.steps[i], ares, abody)
			}
		})
	}
}

// TestBatchNextLink: a nextLink, absolute under the service root, is a step url like any other.
func TestBatchNextLink(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	f.put(odata.DevTenantID, seedRow(t))
	f.put(odata.DevTenantID, aliceRow(t))
	second := seedRow(t)
	second.Set("id", odata.Str(missingID))
	f.put(odata.DevTenantID, second)
	h := batchServer(t, f, nil, nil)
	_, page := doHandler(t, h, "GET", "/beta"+relCollection+"?$top=1&$select=id", nil, nil)
	var first struct {
		NextLink string `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(page, &first); err != nil || !strings.HasPrefix(first.NextLink, publicURL+"/") {
		t.Fatalf("first page without a nextLink under the service root: %s", page)
	}
	ares, abody := doHandler(t, h, "GET", first.NextLink, nil, nil)
	got := sendBatch(t, h, batchOf(step("next", "GET", first.NextLink), step("rel", "GET", strings.TrimPrefix(first.NextLink, publicURL))))
	for _, id := range []string{"next", "rel"} {
		checkSameAsAlone(t, got.get(t, id), ares, abody)
	}
}

// TestBatchStepURLRefused: a url outside the service, another host's or a nested $batch is that request's 400;
// the batch goes on, and nothing is ever fetched from elsewhere.
func TestBatchStepURLRefused(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(elsewhere.Close)
	tests := []struct {
		name, url string
		message   string // a fragment of the step's message
	}{
		{"OtherHost", elsewhere.URL + "/beta" + relSeed, "outside this service"},
		{"OtherHostNoPath", elsewhere.URL, "outside this service"},
		{"GraphItself", "https://graph.microsoft.com/beta" + relSeed, "outside this service"},
		{"OtherScheme", "http://graph.example.test/beta" + relSeed, "outside this service"},
		{"OtherVersion", "https://graph.example.test/v1.0" + relSeed, "outside this service"},
		{"SchemeRelative", "//graph.microsoft.com/beta" + relSeed, "Resource not found"},
		{"Health", "/healthz", "Resource not found for the segment 'healthz'"},
		{"Metrics", "/../metrics", "Resource not found for the segment '..'"},
		{"Admin", "/_graphd/requests", "Resource not found for the segment '_graphd'"},
		{"VersionV1", "/v1.0" + relSeed, "Resource not found for the segment 'v1.0'"},
		{"NestedBatch", "/$batch", "another $batch"},
		{"NestedBatchNoSlash", "$batch", "another $batch"},
		{"NestedBatchVersion", "/beta/$batch", "another $batch"},
		{"NestedBatchCase", "/$BATCH", "another $batch"},
		{"NestedBatchEncoded", "/%24batch", "another $batch"},
		{"NestedBatchServiceRoot", publicURL + "/$batch", "another $batch"},
	}
	probe := seededProbe(t)
	h := batchServer(t, probe, nil, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nested := batchOf(patchStep("inner", `{"connectorName":"from the nested batch"}`))
			got := sendBatch(t, h, batchOf(
				step("1", "POST", tc.url, stepHeaders("Content-Type", "application/json"), stepBody(nested)),
				step("2", "GET", relSeed+"?$select=connectorName")))
			s := got.get(t, "1")
			if s.Status != http.StatusBadRequest || !strings.Contains(string(s.Body), tc.message) {
				t.Errorf("step 1: %d %s, want 400 with %q", s.Status, s.Body, tc.message)
			}
			if code := stepCode(t, s); code != badRequest {
				t.Errorf("code %q", code)
			}
			if s2 := got.get(t, "2"); s2.Status != http.StatusOK || !strings.Contains(string(s2.Body), "Old connector") {
				t.Errorf("the request after a refused one: %d %s", s2.Status, s2.Body)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the other host was fetched %d times", n)
	}
	for _, c := range probe.log() {
		if strings.HasPrefix(c, "PATCH") {
			t.Errorf("a nested batch wrote: %v", probe.log())
		}
	}
	// One case kept as a golden: the refusal is Graph's envelope inside the batch.
	res, body := postBatch(t, h, batchOf(step("1", "GET", "https://graph.microsoft.com/beta"+relSeed), step("2", "POST", "/$batch",
		stepHeaders("Content-Type", "application/json"), stepBody(`{"requests":[]}`))))
	readBatch(t, res, body)
	checkGolden(t, "BatchStepURLRefused", render(res, body))
}

// TestBatchJournalBodies: a text body arrives as the string's text and any other non-JSON body base64-decoded;
// the test lab's journal records each request of the batch with the body it was given.
func TestBatchJournalBodies(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	f.put(odata.DevTenantID, seedRow(t))
	const adminToken = "batch-tests-admin-token"
	h := batchServer(t, adminFake{f}, nil, func(c *httpapi.Config) { c.Admin = &httpapi.AdminConfig{Token: adminToken} })
	text := `{"connectorName":"as text"}`
	binary := `{"connectorName":"as base64"}`
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding} {
		got := sendBatch(t, h, batchOf(
			step("text", "PATCH", relSeed, stepHeaders("Content-Type", "text/plain;charset=utf-8"), stepBody(jsonText(text))),
			step("binary", "PATCH", relSeed, stepHeaders("Content-Type", "application/octet-stream"), stepBody(jsonText(enc.EncodeToString([]byte(binary))))),
			patchStep("json", `{"connectorName" : "as JSON"}`)))
		if st := got.statuses(); st["text"] != 415 || st["binary"] != 415 || st["json"] != 200 {
			t.Errorf("statuses %v, want text and binary 415 (not application/json), json 200", st)
		}
		res, body := doHandler(t, h, "GET", "/_graphd/requests", hdr("Authorization", "Bearer "+adminToken), nil)
		if res.StatusCode != 200 {
			t.Fatalf("journal: %d %s", res.StatusCode, body)
		}
		var journal struct {
			Value []httpapi.JournalEntry `json:"value"`
		}
		if err := json.Unmarshal(body, &journal); err != nil {
			t.Fatal(err)
		}
		bodies := map[string]string{}
		for _, e := range journal.Value {
			if e.StepID != nil {
				bodies[*e.StepID] = string(e.RequestBody)
			}
		}
		for id, want := range map[string]string{"text": text, "binary": binary, "json": `{"connectorName":"as JSON"}`} {
			var compact bytes.Buffer
			if err := json.Compact(&compact, []byte(bodies[id])); err != nil || compact.String() != want {
				t.Errorf("the journal's body of %s = %s, want %s", id, bodies[id], want)
			}
		}
		doHandler(t, h, "DELETE", "/_graphd/requests", hdr("Authorization", "Bearer "+adminToken), nil)
	}
}

// adminFake is the fake store with the test lab's store operations, which the journal test does not use.
type adminFake struct{ *fakeStore }

func (adminFake) Import(ctx context.Context, tenant string, set *odata.ImportSet) error { return nil }
func (adminFake) Export(ctx context.Context, tenant string) (odata.ImportSet, error) {
	return odata.ImportSet{}, nil
}
func (adminFake) DeleteTenant(ctx context.Context, tenant string) error { return nil }
func (adminFake) DeleteAll(ctx context.Context) error                   { return nil }
