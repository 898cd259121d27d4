package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// Paging (issue 8 item 1, contract §0.12) through the handlers on the fake store: $top is the page size, the
// nextLink repeats the query and adds $skiptoken, $skip applies to the first page, @odata.count is the total.

// pagingRows are connectors with ties and nulls, ids in ascending order.
func pagingRows(tb testing.TB) []odata.Entity {
	tb.Helper()
	names := []string{"delta", "Alpha", "charlie", "", "bravo", "alpha", "echo", "foxtrot-long-name"}
	g := newTestRows()
	var rows []odata.Entity
	for i, n := range names {
		c := connector(g.id(), n)
		if i%3 == 1 {
			c.Set("machineName", odata.Null)
		}
		c.Set("enrollmentDateTime", odata.Time(mustTime(tb, "2024-0"+strconv.Itoa(1+i%4)+"-15T10:00:00+02:00")))
		rows = append(rows, c)
	}
	return rows
}

// pagingServer serves pagingRows in the development tenant with a default page of 4 and a maximum of 5.
func pagingServer(tb testing.TB, configure func(*httpapi.Config)) (http.Handler, []odata.Entity) {
	tb.Helper()
	fake := newFakeStore()
	rows := pagingRows(tb)
	for i := range rows {
		fake.put(odata.DevTenantID, rows[i])
		rows[i].Version = 1
	}
	cfg := testConfig(nil)
	cfg.PageSize, cfg.MaxPageSize = 4, 5
	if configure != nil {
		configure(&cfg)
	}
	return httpapi.NewServer(cfg, fake), rows
}

// TestPaging follows every nextLink of queries combining $top with the other options and Prefer, and checks each
// page against the reference evaluation of the query: every match once, in order, in pages of
// min($top, Prefer: odata.maxpagesize, the maximum), each link repeating the query with $skiptoken.
func TestPaging(t *testing.T) {
	t.Parallel()
	h, rows := pagingServer(t, nil)
	now := odata.FromTime(pinnedNow.UTC())
	for _, tc := range []struct {
		name   string
		query  string
		prefer int // Prefer: odata.maxpagesize; 0 sends none
		size   int // the page size the server must use
	}{
		{"Top", "$top=2", 0, 2},
		{"TopOne", "$top=1", 0, 1},
		{"TopAboveMax", "$top=50", 0, 5},
		{"TopBelowPrefer", "$top=2", 3, 2},
		{"PreferBelowTop", "$top=3", 2, 2},
		{"PreferAboveMax", "$top=30", 100, 5},
		{"PreferOnly", "", 3, 3},
		{"Neither", "", 0, 4},
		{"TopFilter", "$top=2&$filter=" + qv("machineName ne null or startswith(connectorName,'a')"), 0, 2},
		{"TopOrderByProperty", "$top=3&$orderby=connectorName%20desc", 0, 3},
		{"TopOrderByProperties", "$top=2&$orderby=machineName,enrollmentDateTime%20desc", 0, 2},
		{"TopOrderByExpression", "$top=2&$orderby=" + qv("length(connectorName) desc,tolower(connectorName)"), 0, 2},
		{"TopOrderByYear", "$top=3&$orderby=year(enrollmentDateTime),month(enrollmentDateTime)%20desc", 0, 3},
		{"TopSelect", "$top=3&$select=connectorName,machineName", 0, 3},
		{"TopCount", "$top=3&$count=true", 0, 3},
		{"TopSkip", "$top=2&$skip=3", 0, 2},
		{"SkipOnly", "$skip=1", 0, 4},
		{"SkipPastEnd", "$skip=20&$count=true", 0, 4},
		{"Everything", "$count=true&$skip=1&$filter=" + qv("connectorName ne 'echo'") + "&$orderby=tolower(connectorName)&$select=connectorName&$top=2", 3, 2},
		{"OptionsInAnyOrder", "$select=id&$top=2&$orderby=connectorName&$count=true", 0, 2},
		{"TopZero", "$top=0", 0, 0},
		{"TopZeroCount", "$top=0&$count=true&$filter=connectorName%20ne%20null", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := odata.ParseQuery(connSet.Type, tc.query, odata.ForCollection)
			if err != nil {
				t.Fatal(err)
			}
			matches := expectOf(rows, q.Filter, q.OrderBy, now)
			want := matches[min(int(q.Skip), len(matches)):]
			if tc.size == 0 {
				want = nil
			}
			var header http.Header
			applied := ""
			if tc.prefer > 0 {
				header = hdr("Prefer", "odata.maxpagesize="+strconv.Itoa(tc.prefer))
				applied = "odata.maxpagesize=" + strconv.Itoa(min(tc.prefer, 5))
			}
			var got []json.RawMessage
			pages := 0
			for link := collection + "?" + tc.query; link != ""; pages++ {
				if pages > len(rows)+1 {
					t.Fatal("the nextLinks loop")
				}
				res, body := doHandler(t, h, "GET", link, header, nil)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d %s", link, res.StatusCode, body)
				}
				if got := res.Header.Get("Preference-Applied"); got != applied {
					t.Errorf("Preference-Applied %q, want %q", got, applied)
				}
				page := decodePage(t, body)
				if len(page.Value) > tc.size || page.NextLink != "" && len(page.Value) != tc.size {
					t.Errorf("page %d has %d entities (nextLink %v), the page size is %d", pages, len(page.Value), page.NextLink != "", tc.size)
				}
				if q.Count != (page.Count != nil) || page.Count != nil && *page.Count != int64(len(matches)) {
					t.Errorf("page %d: @odata.count %v, want %d (the matches of $filter, whatever the paging)", pages, page.Count, len(matches))
				}
				if ctx := publicURL + "/$metadata#deviceManagement/certificateConnectorDetails"; !strings.HasPrefix(page.Context, ctx) {
					t.Errorf("context %q", page.Context)
				}
				if page.NextLink != "" {
					prefix := publicURL + "/deviceManagement/certificateConnectorDetails?"
					if tc.query != "" {
						prefix += tc.query + "&"
					}
					if !strings.HasPrefix(page.NextLink, prefix+"$skiptoken=") || strings.Count(page.NextLink, "$skiptoken=") != 1 {
						t.Errorf("nextLink %s does not repeat the query %q and add one $skiptoken", page.NextLink, tc.query)
					}
				}
				got = append(got, page.Value...)
				link = page.NextLink
			}
			checkItems(t, tc.query, got, want, odata.MetadataMinimal, q.Select)
			if wantPages := max(1, (len(want)+max(tc.size, 1)-1)/max(tc.size, 1)); pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
		})
	}
}

// TestPagingGolden pins the exact bodies of a $top listing's pages, $top=0, and the 400 of a skiptoken used on
// another query or set.
func TestPagingGolden(t *testing.T) {
	t.Parallel()
	h, _ := pagingServer(t, nil)
	get := func(name, target string, header http.Header) collectionPage {
		t.Helper()
		res, body := doHandler(t, h, "GET", target, header, nil)
		checkGolden(t, name, render(res, body))
		var p collectionPage
		if res.StatusCode == http.StatusOK {
			p = decodePage(t, body)
		}
		return p
	}
	first := get("PagingTopFirstPage", collection+"?$top=3&$orderby=connectorName&$select=connectorName&$count=true", nil)
	second := get("PagingTopSecondPage", first.NextLink, nil)
	last := get("PagingTopLastPage", second.NextLink, nil)
	if first.NextLink == "" || second.NextLink == "" || last.NextLink != "" {
		t.Errorf("nextLinks %q, %q, %q: want two, then none", first.NextLink, second.NextLink, last.NextLink)
	}
	get("PagingTopZero", collection+"?$top=0", nil)
	get("PagingTopZeroCount", collection+"?$top=0&$count=true", nil)
	get("PagingPreferAndTop", collection+"?$top=5&$select=id", hdr("Prefer", "odata.maxpagesize=2"))
	_, token, _ := strings.Cut(first.NextLink, "$skiptoken=")
	get("PagingSkipTokenOtherQuery", collection+"?$top=3&$orderby=connectorName&$select=machineName&$count=true&$skiptoken="+token, nil)
	get("PagingSkipTokenOtherSet", pfxCollection+"?$top=3&$orderby=thumbprint&$select=thumbprint&$count=true&$skiptoken="+token, nil)
}

// TestPagingSkipIgnoredWithSkipToken checks that the $skip a nextLink repeats applies to the first page only:
// the server ignores it once a skiptoken is present.
func TestPagingSkipIgnoredWithSkipToken(t *testing.T) {
	t.Parallel()
	h, rows := pagingServer(t, nil)
	_, body := doHandler(t, h, "GET", collection+"?$top=2&$skip=1", nil, nil)
	first := decodePage(t, body)
	if !strings.Contains(first.NextLink, "?$top=2&$skip=1&$skiptoken=") {
		t.Fatalf("nextLink %q does not keep $skip", first.NextLink)
	}
	_, body = doHandler(t, h, "GET", first.NextLink, nil, nil)
	second := decodePage(t, body)
	if got, want := second.ids(t), []string{rows[3].Key(), rows[4].Key()}; !slices.Equal(got, want) {
		t.Errorf("the second page holds %v, want rows 3 and 4 (%v): $skip applied again", got, want)
	}
	// The same token with another $skip belongs to another query.
	_, token, _ := strings.Cut(first.NextLink, "$skiptoken=")
	res, body := doHandler(t, h, "GET", collection+"?$top=2&$skip=0&$skiptoken="+token, nil, nil)
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("a token replayed with another $skip: %d %s", res.StatusCode, body)
	}
}

// TestPagingSkipTokenBinding checks that a skiptoken continues only the query, set and tenant it was minted for:
// each misuse is 400, never another listing's page.
func TestPagingSkipTokenBinding(t *testing.T) {
	t.Parallel()
	k := matrixKeys(t)
	v := newVerifier(k, nil)
	fake := newFakeStore()
	g := newTestRows()
	for range 4 {
		id := g.id()
		fake.put(tenantA, connector(id, "a"))
		fake.put(tenantB, connector(id, "b"))
	}
	cfg := testConfig(nil)
	cfg.Auth = v
	h := httpapi.NewServer(cfg, fake)
	tokA := hdr("Authorization", "Bearer "+signToken(t, k.rs, claimsFor(tenantA), nil))
	tokB := hdr("Authorization", "Bearer "+signToken(t, k.rs, claimsFor(tenantB), nil))
	_, body := doHandler(t, h, "GET", collection+"?$top=2&$filter=true", tokA, nil)
	next := decodePage(t, body).NextLink
	_, token, ok := strings.Cut(next, "$skiptoken=")
	if !ok {
		t.Fatalf("no nextLink: %s", body)
	}
	if res, body := doHandler(t, h, "GET", next, tokA, nil); res.StatusCode != http.StatusOK || strings.Contains(string(body), `"b"`) {
		t.Fatalf("A following its own link: %d %s", res.StatusCode, body)
	}
	for name, tc := range map[string]struct {
		header http.Header
		target string
	}{
		"OtherTenant":        {tokB, next},
		"OtherSet":           {tokA, pfxCollection + "?$top=2&$filter=true&$skiptoken=" + token},
		"OtherFilter":        {tokA, collection + "?$top=2&$filter=false&$skiptoken=" + token},
		"OtherTop":           {tokA, collection + "?$top=3&$filter=true&$skiptoken=" + token},
		"TopDropped":         {tokA, collection + "?$filter=true&$skiptoken=" + token},
		"Truncated":          {tokA, next[:len(next)-3]},
		"Tampered":           {tokA, strings.Replace(next, "$skiptoken=e", "$skiptoken=f", 1)},
		"Empty":              {tokA, collection + "?$top=2&$filter=true&$skiptoken="},
		"Made-up stored one": {tokA, collection + "?$top=2&$filter=true&$skiptoken=s.AAAA.BBBB"},
	} {
		res, body := doHandler(t, h, "GET", tc.target, tc.header, nil)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, res.StatusCode, body)
			continue
		}
		checkEnvelope(t, res, body, badRequest)
	}
}

// TestPagingLongSortKeys checks that the server accepts every nextLink it issues when the sort key is 10,000
// characters long (issue 8 item 4): the cursor no longer fits a token, so the token names it.
func TestPagingLongSortKeys(t *testing.T) {
	t.Parallel()
	fake := newFakeStore()
	g := newTestRows()
	var rows []odata.Entity
	for i := range 6 {
		c := connector(g.id(), "c")
		c.Set("connectorVersion", odata.Str(strings.Repeat(string(rune('a'+i%3)), 10_000)+strconv.Itoa(i)))
		fake.put(odata.DevTenantID, c)
		c.Version = 1
		rows = append(rows, c)
	}
	h := httpapi.NewServer(testConfig(nil), fake)
	for _, order := range []string{"connectorVersion", "connectorVersion desc", "tolower(connectorVersion),machineName desc"} {
		var ids []string
		link := collection + "?$top=1&$orderby=" + qv(order)
		for link != "" {
			res, body := doHandler(t, h, "GET", link, nil, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("$orderby=%s: GET %.200s: %d %s", order, link, res.StatusCode, body)
			}
			page := decodePage(t, body)
			if len(page.NextLink) > 4096 {
				t.Errorf("$orderby=%s: a nextLink of %d bytes", order, len(page.NextLink))
			}
			ids = append(ids, page.ids(t)...)
			link = page.NextLink
		}
		o, err := odata.ParseOrderBy(connSet.Type, order, nil)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, e := range expectOf(rows, nil, o, odata.FromTime(pinnedNow.UTC())) {
			want = append(want, e.Key())
		}
		if !slices.Equal(ids, want) {
			t.Errorf("$orderby=%s: %v, want %v", order, ids, want)
		}
	}
}
