package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// The cost of a batch's requests against the same requests sent alone (issue 10 item 7), through the whole
// handler on the fake store, so that only graphd's own work is measured: BenchmarkBatch20Patch sends one batch
// of 20 PATCHes of 20 rows, BenchmarkSingle20Patch the same 20 PATCHes one by one. Both report ns/step.

// benchRows are the ids of the benchmarks' rows.
func benchRows() []string {
	ids := make([]string, httpapi.MaxBatchRequests)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
	}
	return ids
}

func benchServer(b *testing.B) http.Handler {
	b.Helper()
	f := newFakeStore()
	for _, id := range benchRows() {
		e := seedRow(b)
		e.Set("id", odata.Str(id))
		f.put(odata.DevTenantID, e)
	}
	return httpapi.NewServer(testConfig(nil), f)
}

const benchPatch = `{"connectorName":"Connector Name value","machineName":"Machine Name value","connectorVersion":"1.2.3"}`

func serveBench(b *testing.B, h http.Handler, method, target, body string) {
	req := httptest.NewRequest(method, "http://graph.example.test"+target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body)
	}
}

func BenchmarkBatch20Patch(b *testing.B) {
	h := benchServer(b)
	var reqs []string
	for i, id := range benchRows() {
		reqs = append(reqs, step(fmt.Sprint(i+1), "PATCH", relCollection+"/"+id, stepHeaders("content-type", "application/json"), stepBody(benchPatch)))
	}
	batch := batchOf(reqs...)
	b.ReportAllocs()
	for b.Loop() {
		serveBench(b, h, http.MethodPost, batchPath, batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*httpapi.MaxBatchRequests), "ns/step")
}

func BenchmarkSingle20Patch(b *testing.B) {
	h := benchServer(b)
	rows := benchRows()
	b.ReportAllocs()
	for b.Loop() {
		for _, id := range rows {
			serveBench(b, h, http.MethodPatch, "/beta"+relCollection+"/"+id, benchPatch)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/step")
}
