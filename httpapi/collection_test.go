package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// fakeCollection serves n rows of the dev tenant from the fake store, ids in ascending order.
func fakeCollection(t *testing.T, n int) http.Handler {
	t.Helper()
	fake := newFakeStore()
	g := newTestRows()
	for range n {
		fake.put(odata.DevTenantID, connector(g.id(), "c"))
	}
	return httpapi.NewServer(testConfig(nil), fake)
}

func getPage(t *testing.T, h http.Handler, target string, header http.Header) (int, collectionPage) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), "GET", "http://graph.example.test"+strings.TrimPrefix(target, publicURL[:len(publicURL)-len("/beta")]), nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return rec.Code, collectionPage{}
	}
	var p collectionPage
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return rec.Code, p
}

// TestTopEndsPaging checks that $top is a page size (contract §0.12) and that the page serving the last match
// has no nextLink: a link to an empty page would make every client pay one more round trip. $skip applies to
// the first page only.
func TestTopEndsPaging(t *testing.T) {
	t.Parallel()
	h := fakeCollection(t, 10)
	for _, tc := range []struct {
		query string
		pages []int
	}{
		{"$top=4", []int{2, 2, 2, 2, 2}},
		{"$top=5", []int{2, 2, 2, 2, 2}},
		{"$top=6&$skip=4", []int{2, 2, 2}},
		{"$top=6&$skip=5", []int{2, 2, 1}},
		{"$top=1", []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"$top=0", []int{0}},
		{"$skip=10", []int{0}},
		{"", []int{2, 2, 2, 2, 2}},
	} {
		var got []int
		link := collection + "?" + tc.query
		for link != "" && len(got) < 20 {
			status, p := getPage(t, h, link, hdr("Prefer", "odata.maxpagesize=2"))
			if status != http.StatusOK {
				t.Fatalf("%s: %d", link, status)
			}
			got = append(got, len(p.Value))
			link = p.NextLink
		}
		if !slices.Equal(got, tc.pages) {
			t.Errorf("%s: pages of %v, want %v", tc.query, got, tc.pages)
		}
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestSkipTokenNameSpellings checks that the $skiptoken is recognised in every spelling odata.ParseQuery
// accepts: a client that percent-encodes the name, or drops the '$', still continues the query.
func TestSkipTokenNameSpellings(t *testing.T) {
	t.Parallel()
	h := fakeCollection(t, 6)
	small := hdr("Prefer", "odata.maxpagesize=2")
	_, first := getPage(t, h, collection+"?$top=5", small)
	_, token, ok := strings.Cut(first.NextLink, "$skiptoken=")
	if !ok {
		t.Fatalf("nextLink %q", first.NextLink)
	}
	_, want := getPage(t, h, first.NextLink, small)
	for _, name := range []string{"$skiptoken", "skiptoken", "$SkipToken", "%24skiptoken", "%24skip%74oken", "$skip%54oken"} {
		for _, target := range []string{collection + "?$top=5&" + name + "=" + token, collection + "?" + name + "=" + token + "&$top=5"} {
			status, got := getPage(t, h, target, small)
			if status != http.StatusOK || jsonOf(got) != jsonOf(want) {
				t.Errorf("%s: %d %s, want %s", target, status, jsonOf(got), jsonOf(want))
			}
		}
	}
}
