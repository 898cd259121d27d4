package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// fuzzVariant is one way of sending a fuzzed body: the request around it and the statuses it may get.
type fuzzVariant struct {
	name    string
	method  string
	path    string
	header  http.Header
	gzip    bool // compress the body first
	chunked bool
	allowed []int
	// pfx: the request addresses userPfxCertificates (aliceRow, or a create) rather than the seed's connector.
	pfx bool
}

var fuzzVariants = []fuzzVariant{
	{name: "Plain", method: "PATCH", path: seedItem, header: jsonHdr(), allowed: []int{200, 400, 413}},
	{name: "Gzip", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), gzip: true, allowed: []int{200, 400, 413}},
	{name: "RawAsGzip", method: "PATCH", path: seedItem, header: jsonHdr("Content-Encoding", "gzip"), allowed: []int{200, 400, 413}},
	{name: "UpperKeyMinimal", method: "PATCH", path: collection + "/" + strings.ToUpper(seedID), header: jsonHdr("Prefer", "return=minimal"), allowed: []int{204, 400, 413}},
	{name: "ParenKeyIfMatch", method: "PATCH", path: collection + "('" + seedID + "')", header: jsonHdr("If-Match", `W/"1"`), chunked: true, allowed: []int{200, 400, 413}},
	{name: "StaleIfMatch", method: "PATCH", path: seedItem, header: jsonHdr("If-Match", `W/"2"`), allowed: []int{400, 412, 413}},
	{name: "UnknownID", method: "PATCH", path: collection + "/" + missingID, header: jsonHdr("Accept", "application/json;odata.metadata=full"), allowed: []int{400, 404, 413}},
	{name: "Create", method: "POST", path: collection, header: hdr("Content-Type", "application/json; charset=utf-8"), chunked: true, allowed: []int{201, 400, 413}},
	{name: "PfxPatch", method: "PATCH", path: pfxItem, header: jsonHdr(), pfx: true, allowed: []int{200, 400, 413}},
	{name: "PfxPatchBareMinimal", method: "PATCH", path: pfxCollection + "(" + aliceKey + ")", header: jsonHdr("Prefer", "return=minimal"), pfx: true, allowed: []int{204, 400, 413}},
	{name: "PfxCreate", method: "POST", path: pfxCollection, header: jsonHdr(), pfx: true, allowed: []int{201, 400, 409, 413}},
}

// fuzzMaxBody is small so that the fuzzer reaches the size limit too.
const fuzzMaxBody = 4 << 10

// FuzzPatchHandler sends arbitrary bodies through the whole handler to the fake store: whatever the bytes, the
// answer is one of the statuses the request allows (never a 500), every error is a Graph envelope, and a
// rejected request leaves the store as it was.
func FuzzPatchHandler(f *testing.F) {
	for _, tc := range apiCases(f) {
		if (tc.method == "PATCH" || tc.method == "POST") && len(tc.body) <= fuzzMaxBody {
			f.Add(tc.body, uint8(0))
		}
	}
	for i := range fuzzVariants {
		f.Add(seedRequest(f), uint8(i))
		f.Add([]byte(`{"connectorName":null,"@odata.type":"#microsoft.graph.certificateConnectorDetails","id":"`+seedID+`"}`), uint8(i))
	}
	f.Add(gzipped(f, seedRequest(f)), uint8(2))
	pfxVariant := uint8(slices.IndexFunc(fuzzVariants, func(v fuzzVariant) bool { return v.name == "PfxPatch" }))
	for _, tc := range pfxCases(f) {
		if tc.method == "PATCH" || tc.method == "POST" {
			f.Add(tc.body, pfxVariant+uint8(len(tc.name)%3))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, variant uint8) {
		v := fuzzVariants[int(variant)%len(fuzzVariants)]
		fake := newFakeStore()
		fake.put(odata.DevTenantID, seedRow(t))
		fake.put(odata.DevTenantID, aliceRow(t))
		cfg := testConfig(nil)
		cfg.MaxBodyBytes = fuzzMaxBody
		h := httpapi.NewServer(cfg, fake)
		if v.gzip {
			body = gzipped(t, body)
		}
		tc := apiCase{method: v.method, path: v.path, header: v.header, body: body, chunked: v.chunked}
		before := fake.snapshot()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tc.newRequest(t, ""))
		res := rec.Result()
		got := rec.Body.Bytes()

		if res.StatusCode == http.StatusInternalServerError || !containsInt(v.allowed, res.StatusCode) {
			t.Fatalf("%s: status %d, allowed %v; body %s", v.name, res.StatusCode, v.allowed, got)
		}
		if res.StatusCode >= 400 {
			checkEnvelope(t, res, got, "")
			if after := fake.snapshot(); !reflect.DeepEqual(before, after) {
				t.Fatalf("%s: a %d changed the store", v.name, res.StatusCode)
			}
			return
		}
		// Accepted: what the response says is what the store now holds.
		set, id := connSet, seedID
		if v.pfx {
			set, id = pfxSet, aliceKey
		}
		if res.StatusCode == http.StatusCreated {
			id = createdID
			if v.pfx {
				var created struct{ ID string }
				_ = json.Unmarshal(got, &created)
				id = created.ID
			}
		}
		row, ok := fake.rowOf(set, odata.DevTenantID, id)
		if !ok {
			t.Fatalf("%s: %d but no row %s", v.name, res.StatusCode, id)
		}
		if etag := res.Header.Get("ETag"); etag != odata.ETag(row.Version) {
			t.Errorf("%s: ETag %s, the row has version %d", v.name, etag, row.Version)
		}
		if res.StatusCode == http.StatusNoContent {
			return
		}
		want := odata.AppendEntity(nil, set, &row, odata.EntityOptions{ServiceRoot: publicURL, Context: true, Metadata: metadataOf(res)})
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the response\n%s\ndiffers from the stored row\n%s", v.name, got, want)
		}
		seen := map[string]bool{}
		for _, m := range members(t, got) {
			if seen[m.name] {
				t.Errorf("member %q twice", m.name)
			}
			seen[m.name] = true
		}
	})
}

func metadataOf(res *http.Response) odata.Metadata {
	switch ct := res.Header.Get("Content-Type"); {
	case strings.Contains(ct, "odata.metadata=full"):
		return odata.MetadataFull
	case strings.Contains(ct, "odata.metadata=none"):
		return odata.MetadataNone
	}
	return odata.MetadataMinimal
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark measures the handler alone.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

// BenchmarkPatchHandler is the seed's PATCH through the whole handler (middleware, routing, parsing, the fake
// store, encoding, the access log to a discarding logger).
func BenchmarkPatchHandler(b *testing.B) {
	fake := newFakeStore()
	fake.put(odata.DevTenantID, seedRow(b))
	h := httpapi.NewServer(testConfig(nil), fake)
	body := seedRequest(b)
	rd := bytes.NewReader(body)
	req := httptest.NewRequestWithContext(b.Context(), "PATCH", "http://graph.example.test"+seedItem, rd)
	req.Header.Set("Content-Type", "application/json")
	w := &discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		clear(w.h)
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}
