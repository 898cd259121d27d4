package clienttest

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/graphd/graphd/odata"
)

// CollectionPath is the collection's path under the origin.
const CollectionPath = "/beta/deviceManagement/certificateConnectorDetails"

// Fleet is seven connectors whose id order, name order and enrollment order all differ, so a test can tell
// which ordering a client got. Five are named lab-*, two prod-*.
func Fleet(tb testing.TB) []odata.Entity {
	tb.Helper()
	rows := []struct{ id, name, enrolled string }{
		{FleetID(1), "lab-03", "2024-03-01T08:00:00Z"},
		{FleetID(2), "prod-01", "2024-01-15T09:30:00Z"},
		{FleetID(3), "lab-01", "2024-05-20T10:00:00.1234567+02:00"},
		{FleetID(4), "lab-05", "2024-02-10T00:00:00Z"},
		{FleetID(5), "prod-02", "2024-06-01T12:00:00Z"},
		{FleetID(6), "lab-02", "2024-04-05T16:45:00Z"},
		{FleetID(7), "lab-04", "2023-12-31T23:57:59.3726057-08:00"},
	}
	out := make([]odata.Entity, len(rows))
	for i, r := range rows {
		enrolled, ok := odata.ParseDateTimeOffset(r.enrolled)
		if !ok {
			tb.Fatalf("clienttest: bad fixture time %q", r.enrolled)
		}
		out[i] = NewConnector(r.id, map[string]odata.Value{
			"connectorName":       odata.Str(r.name),
			"machineName":         odata.Str("pki-" + r.name + ".contoso.test"),
			"enrollmentDateTime":  odata.Time(enrolled),
			"lastCheckinDateTime": odata.Time(enrolled),
			"connectorVersion":    odata.Str("6.2301.1." + strconv.Itoa(i)),
		})
	}
	return out
}

// FleetID is the id of the n-th (1-based) connector of Fleet; ids ascend with n.
func FleetID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-0000000000a%d", n) }

// FleetName is the connectorName of the n-th connector of Fleet.
func FleetName(tb testing.TB, n int) string {
	tb.Helper()
	return Fleet(tb)[n-1].Get("connectorName").Str
}

// Query is a collection request as a client's query-option API expresses it.
// Scripts read it as JSON.
type Query struct {
	Top         int    `json:"top,omitempty"` // 0: absent
	Skip        int    `json:"skip,omitempty"`
	Filter      string `json:"filter,omitempty"`
	OrderBy     string `json:"orderBy,omitempty"`
	Count       bool   `json:"count,omitempty"`
	MaxPageSize int    `json:"maxPageSize,omitempty"` // Prefer: odata.maxpagesize; 0: absent
}

// Prefer is the Prefer header value for q, or "".
func (q Query) Prefer() string {
	if q.MaxPageSize == 0 {
		return ""
	}
	return "odata.maxpagesize=" + strconv.Itoa(q.MaxPageSize)
}

// PagingCase is a collection query over Fleet and what following every nextLink must yield.
type PagingCase struct {
	Name  string
	Query Query
	// Want is every match, by Fleet number, in the order the server must return them.
	Want []int
	// WantCount is @odata.count of the first page; -1: absent.
	WantCount int
	// WantPages is how many requests the iteration takes.
	WantPages int
	// TopPaging marks the cases that need $top to be a page size (issue 8); the others pass on any graphd
	// that pages by odata.maxpagesize.
	TopPaging bool
}

// PagingCases is the shared table every client's page iterator runs.
func PagingCases() []PagingCase {
	all := []int{1, 2, 3, 4, 5, 6, 7}
	labByEnrollmentDesc := []int{3, 6, 1, 4, 7}
	labByName := []int{3, 6, 1, 7, 4}
	const lab = "startswith(connectorName,'lab')"
	return []PagingCase{
		{Name: "MaxPageSize1", Query: Query{MaxPageSize: 1}, Want: all, WantCount: -1, WantPages: 7},
		{Name: "MaxPageSize2FilterOrderBy", Query: Query{MaxPageSize: 2, Filter: lab, OrderBy: "enrollmentDateTime desc"},
			Want: labByEnrollmentDesc, WantCount: -1, WantPages: 3},
		{Name: "MaxPageSize3Count", Query: Query{MaxPageSize: 3, Filter: lab, OrderBy: "connectorName", Count: true},
			Want: labByName, WantCount: 5, WantPages: 2},
		{Name: "MaxPageSize2Skip", Query: Query{MaxPageSize: 2, Skip: 2}, Want: all[2:], WantCount: -1, WantPages: 3},
		{Name: "TopAboveMatches", Query: Query{Top: 10}, Want: all, WantCount: -1, WantPages: 1},

		{Name: "Top1", Query: Query{Top: 1}, Want: all, WantCount: -1, WantPages: 7, TopPaging: true},
		{Name: "Top2FilterOrderBy", Query: Query{Top: 2, Filter: lab, OrderBy: "enrollmentDateTime desc"},
			Want: labByEnrollmentDesc, WantCount: -1, WantPages: 3, TopPaging: true},
		{Name: "Top1Count", Query: Query{Top: 1, Count: true}, Want: all, WantCount: 7, WantPages: 7, TopPaging: true},
		{Name: "Top2CountFilterOrderBy", Query: Query{Top: 2, Filter: lab, OrderBy: "connectorName", Count: true},
			Want: labByName, WantCount: 5, WantPages: 3, TopPaging: true},
		{Name: "Top2Skip3", Query: Query{Top: 2, Skip: 3}, Want: all[3:], WantCount: -1, WantPages: 2, TopPaging: true},
		{Name: "Top3MaxPageSize2", Query: Query{Top: 3, MaxPageSize: 2}, Want: all, WantCount: -1, WantPages: 4, TopPaging: true},
	}
}

// RunPagingCases starts one graphd holding Fleet and runs each PagingCase in turn as a subtest: list runs
// the case's query through a client and its page iterator; the result and the requests are then checked.
// The cases share graphd (they only read) but not its request log, so they run one after another.
func RunPagingCases(t *testing.T, opts Options, list func(t *testing.T, g *Graphd, q Query) PagingResult) {
	t.Helper()
	g := Start(t, opts)
	g.Import(t, Fleet(t)...)
	for _, tc := range PagingCases() {
		t.Run(tc.Name, func(t *testing.T) {
			g.ClearRequests()
			tc.Check(t, g, list(t, g, tc.Query))
		})
	}
}

// Item is one entity as a client handed it to the test.
type Item struct {
	ID            string  `json:"id"`
	ConnectorName *string `json:"connectorName"`
}

// PagingResult is what a client's page iterator yielded: every item, and @odata.count of the first page.
type PagingResult struct {
	Items []Item `json:"items"`
	Count *int64 `json:"count"`
}

// Check asserts that a client's iteration yielded every match of c exactly once, in order, with the right
// @odata.count, and that its requests were c.WantPages pages whose nextLinks kept every query option.
func (c PagingCase) Check(tb testing.TB, g *Graphd, got PagingResult) {
	tb.Helper()
	fleet := Fleet(tb)
	var want, gotIDs []string
	for _, n := range c.Want {
		want = append(want, FleetID(n))
	}
	for _, it := range got.Items {
		gotIDs = append(gotIDs, it.ID)
		for _, f := range fleet {
			name := f.Get("connectorName").Str
			if f.Key() == it.ID && (it.ConnectorName == nil || *it.ConnectorName != name) {
				tb.Errorf("item %s: connectorName %v, want %q", it.ID, it.ConnectorName, name)
			}
		}
	}
	if !slices.Equal(gotIDs, want) {
		tb.Errorf("iteration yielded %d items\n%s\nwant %d\n%s", len(gotIDs), names(gotIDs), len(want), names(want))
	}
	switch {
	case c.WantCount < 0 && got.Count != nil:
		tb.Errorf("@odata.count = %d, want none", *got.Count)
	case c.WantCount >= 0 && (got.Count == nil || *got.Count != int64(c.WantCount)):
		tb.Errorf("@odata.count = %v, want %d", fmtCount(got.Count), c.WantCount)
	}
	CheckPages(tb, g.Requests(), c.Query, c.WantPages)
}

// CheckPages asserts that reqs are wantPages successful GETs of the collection, the first carrying q's
// options and each later one (a nextLink) the same options plus a $skiptoken, all with q's Prefer header.
func CheckPages(tb testing.TB, reqs []Request, q Query, wantPages int) {
	tb.Helper()
	var pages []Request
	for _, r := range reqs {
		if r.Method == "GET" && strings.EqualFold(strings.SplitN(r.RequestURI, "?", 2)[0], CollectionPath) {
			pages = append(pages, r)
		}
	}
	var uris []string
	for _, p := range pages {
		uris = append(uris, fmt.Sprintf("%d %s", p.Status, p.RequestURI))
	}
	if len(pages) != wantPages {
		tb.Errorf("the iteration took %d requests, want %d pages:\n%s", len(pages), wantPages, strings.Join(uris, "\n"))
	}
	if len(pages) == 0 {
		return
	}
	first := options(tb, pages[0].RequestURI)
	for name, want := range q.options() {
		if first[name] != want {
			tb.Errorf("first request: %s = %q, want %q: %s", name, first[name], want, pages[0].RequestURI)
		}
	}
	for i, p := range pages {
		if p.Status != 200 {
			tb.Errorf("page %d: status %d: %s", i+1, p.Status, p.RequestURI)
		}
		if got := p.Header.Get("Prefer"); !strings.Contains(got, q.Prefer()) || (q.Prefer() == "" && got != "") {
			tb.Errorf("page %d: Prefer %q, want %q", i+1, got, q.Prefer())
		}
		if i == 0 {
			continue
		}
		opts := options(tb, p.RequestURI)
		if opts["$skiptoken"] == "" {
			tb.Errorf("page %d has no $skiptoken: %s", i+1, p.RequestURI)
		}
		delete(opts, "$skiptoken")
		if !equalMaps(opts, first) {
			tb.Errorf("page %d options %v, want the first request's %v", i+1, opts, first)
		}
	}
}

// options are a request's query options, names lower-cased with their '$'.
func (q Query) options() map[string]string {
	m := map[string]string{}
	if q.Top > 0 {
		m["$top"] = strconv.Itoa(q.Top)
	}
	if q.Skip > 0 {
		m["$skip"] = strconv.Itoa(q.Skip)
	}
	if q.Filter != "" {
		m["$filter"] = q.Filter
	}
	if q.OrderBy != "" {
		m["$orderby"] = q.OrderBy
	}
	if q.Count {
		m["$count"] = "true"
	}
	return m
}

func options(tb testing.TB, requestURI string) map[string]string {
	tb.Helper()
	_, raw, _ := strings.Cut(requestURI, "?")
	vals, err := url.ParseQuery(raw)
	if err != nil {
		tb.Errorf("query of %s: %v", requestURI, err)
	}
	m := map[string]string{}
	for k, v := range vals {
		m[strings.ToLower(k)] = strings.Join(v, ",")
	}
	return m
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func names(ids []string) string {
	var b strings.Builder
	for _, id := range ids {
		n := -1
		for i := 1; i <= 7; i++ {
			if FleetID(i) == id {
				n = i
			}
		}
		fmt.Fprintf(&b, "  #%d %s\n", n, id)
	}
	return b.String()
}

func fmtCount(c *int64) string {
	if c == nil {
		return "absent"
	}
	return strconv.FormatInt(*c, 10)
}
