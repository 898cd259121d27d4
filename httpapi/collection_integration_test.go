package httpapi_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/odata/odatatest"
)

// The collection through HTTP on PostgreSQL: paging, $top, $count, $select, metadata levels, /$count, the
// actions and $metadata, and a differential test of generated $filter and $orderby against odata's reference
// evaluator over the same rows.

// fixtureMaxPageSizeSkipToken stands for the length a nextLink's $skiptoken adds to a URL.
const fixtureMaxPageSizeSkipToken = "&$skiptoken=" + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"

const (
	fixturePageSize    = 100
	fixtureMaxPageSize = 150
	fixtureRows        = 300
)

// collectionFixture is a server, without authentication, whose development tenant holds generated rows (nulls,
// ties, awkward strings and times), and whose tenant B holds rows of its own that must never show.
type collectionFixture struct {
	authServer
	rows []odata.Entity // the development tenant's, as stored (version 1)
	now  odata.DateTimeOffset
}

func newCollectionFixture(t *testing.T) collectionFixture {
	t.Helper()
	s := newDevServer(t, func(c *httpapi.Config) {
		c.PageSize = fixturePageSize
		c.MaxPageSize = fixtureMaxPageSize
	})
	gen := odatatest.NewConnectorGen(rand.New(rand.NewPCG(20261129, 1)))
	rows := gen.Connectors(fixtureRows)
	// Ties on every property but id: a run of rows equal to another row except for the id.
	for i := range 10 {
		twin := rows[i]
		twin.Values = slices.Clone(twin.Values)
		twin.Values[0] = rows[len(rows)-1-i].Values[0]
		rows[len(rows)-1-i] = twin
	}
	importEntities(t, s.store, odata.DevTenantID, rows)
	importEntities(t, s.store, tenantB, gen.Connectors(20))
	for i := range rows {
		rows[i].Version = 1
	}
	return collectionFixture{authServer: s, rows: rows, now: odata.FromTime(pinnedNow.UTC())}
}

func (f collectionFixture) get(t *testing.T, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	return f.do(t, "", "GET", path, header, "")
}

// expect is what the reference evaluator says a query returns: the matching rows in order.
func (f collectionFixture) expect(filter odata.Expr, order []odata.OrderBy) []odata.Entity {
	return expectOf(f.rows, filter, order, f.now)
}

// expectOf is what the reference evaluator says a query of rows returns: the matches in order.
func expectOf(rows []odata.Entity, filter odata.Expr, order []odata.OrderBy, now odata.DateTimeOffset) []odata.Entity {
	var out []odata.Entity
	for i := range rows {
		if odata.Match(filter, &rows[i], now) {
			out = append(out, rows[i])
		}
	}
	slices.SortFunc(out, func(a, b odata.Entity) int { return odata.CompareOrder(&a, &b, order, now) })
	return out
}

// entityJSON is how a connector appears in a collection.
func entityJSON(c *odata.Entity, meta odata.Metadata, sel uint64) string {
	return entityJSONOf(connSet, c, meta, sel)
}

// entityJSONOf is how an entity of set appears in a collection (read, so redacted).
func entityJSONOf(set *odata.EntitySet, c *odata.Entity, meta odata.Metadata, sel uint64) string {
	return string(odata.AppendEntity(nil, set, c, odata.EntityOptions{ServiceRoot: publicURL, Metadata: meta, Select: sel, Redact: true}))
}

// asc and desc are $orderby items of a connector property.
func asc(name string) odata.OrderBy {
	return odata.OrderBy{Expr: &odata.PropertyRef{P: connSet.Type.MustProperty(name)}}
}

func desc(name string) odata.OrderBy {
	return odata.OrderBy{Expr: &odata.PropertyRef{P: connSet.Type.MustProperty(name)}, Desc: true}
}

// bit is a connector property's bit in a $select set.
func bit(name string) uint64 { return 1 << connSet.Type.MustProperty(name).ID }

// pagedResult is what following every nextLink of a query gave.
type pagedResult struct {
	items []json.RawMessage
	pages []collectionPage
}

// follow reads a query's first page and every page its nextLinks lead to, checking Preference-Applied and the
// page sizes on the way.
func (f collectionFixture) follow(t *testing.T, path string, header http.Header, pageSize int, applied string) pagedResult {
	t.Helper()
	var r pagedResult
	for link := path; link != ""; {
		res, body := f.get(t, link, header)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", link, res.StatusCode, body)
		}
		if got := res.Header.Get("Preference-Applied"); got != applied {
			t.Fatalf("GET %s: Preference-Applied %q, want %q", link, got, applied)
		}
		page := decodePage(t, body)
		if len(page.Value) > pageSize || page.NextLink != "" && len(page.Value) != pageSize {
			t.Fatalf("GET %s: a page of %d rows (nextLink %v), the page size is %d", link, len(page.Value), page.NextLink != "", pageSize)
		}
		if len(r.pages) > fixtureRows+1 {
			t.Fatalf("more pages than rows: the nextLinks loop")
		}
		r.pages = append(r.pages, page)
		r.items = append(r.items, page.Value...)
		link = page.NextLink
	}
	return r
}

// checkItems compares the items a query returned with the rows expected, byte for byte.
func checkItems(t *testing.T, what string, got []json.RawMessage, want []odata.Entity, meta odata.Metadata, sel uint64) {
	t.Helper()
	checkItemsOf(t, connSet, what, got, want, meta, sel)
}

// checkItemsOf is checkItems for entities of any set.
func checkItemsOf(t *testing.T, set *odata.EntitySet, what string, got []json.RawMessage, want []odata.Entity, meta odata.Metadata, sel uint64) {
	t.Helper()
	seen := map[string]bool{}
	for _, it := range got {
		if seen[string(it)] {
			t.Errorf("%s: row served twice: %s", what, it)
		}
		seen[string(it)] = true
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if w := entityJSONOf(set, &want[i], meta, sel); string(got[i]) != w {
			t.Errorf("%s: row %d is\n%s\nwant\n%s", what, i, got[i], w)
			return
		}
	}
}

func maxPageSize(n int) http.Header { return hdr("Prefer", "odata.maxpagesize="+strconv.Itoa(n)) }

// TestCollectionPaging follows nextLinks under several orders and page sizes: the pages, concatenated, are
// exactly the ordered collection, without duplicates, and Prefer: odata.maxpagesize is applied and clamped.
func TestCollectionPaging(t *testing.T) {
	t.Parallel()
	f := newCollectionFixture(t)
	orders := []struct {
		text  string
		order []odata.OrderBy
	}{
		{"", nil},
		{"connectorName", []odata.OrderBy{asc("connectorName")}},
		{"connectorName desc", []odata.OrderBy{desc("connectorName")}},
		{"machineName desc,enrollmentDateTime", []odata.OrderBy{desc("machineName"), asc("enrollmentDateTime")}},
		{"lastCheckinDateTime desc", []odata.OrderBy{desc("lastCheckinDateTime")}},
		{"enrollmentDateTime,connectorVersion desc,machineName", []odata.OrderBy{asc("enrollmentDateTime"),
			desc("connectorVersion"), asc("machineName")}},
		{"connectorVersion,id desc", []odata.OrderBy{asc("connectorVersion"), desc("id")}},
	}
	for i, o := range orders {
		size := []int{7, 37, 100, 3}[i%4]
		path := collection
		if o.text != "" {
			path += "?$orderby=" + url.QueryEscape(o.text)
		}
		want := f.expect(nil, o.order)
		r := f.follow(t, path, maxPageSize(size), size, "odata.maxpagesize="+strconv.Itoa(size))
		checkItems(t, "$orderby="+o.text, r.items, want, odata.MetadataMinimal, 0)
		if wantPages := (len(want) + size - 1) / size; len(r.pages) != wantPages {
			t.Errorf("$orderby=%s: %d pages of %d, want %d", o.text, len(r.pages), size, wantPages)
		}
	}

	t.Run("DefaultPageSize", func(t *testing.T) {
		r := f.follow(t, collection, nil, fixturePageSize, "")
		checkItems(t, "default page size", r.items, f.expect(nil, nil), odata.MetadataMinimal, 0)
	})
	t.Run("ClampedToMaxPageSize", func(t *testing.T) {
		r := f.follow(t, collection+"?$orderby=connectorName", hdr("Prefer", "odata.maxpagesize=100000"), fixtureMaxPageSize,
			"odata.maxpagesize="+strconv.Itoa(fixtureMaxPageSize))
		if len(r.pages) != 2 {
			t.Errorf("%d pages", len(r.pages))
		}
		checkItems(t, "clamped", r.items, f.expect(nil, []odata.OrderBy{asc("connectorName")}), odata.MetadataMinimal, 0)
	})
	t.Run("PreferAmongOthers", func(t *testing.T) {
		r := f.follow(t, collection, hdr("Prefer", `return=minimal, odata.maxpagesize="120"`), 120, "odata.maxpagesize=120")
		checkItems(t, "prefer among others", r.items, f.expect(nil, nil), odata.MetadataMinimal, 0)
	})
	t.Run("TopIsPageSize", func(t *testing.T) {
		// $top is the page size (contract §0.12): min($top, Prefer, the maximum); the links lead through every
		// match after $skip, repeating $top and $skip.
		for _, tc := range []struct {
			query      string
			prefer     int // 0: no Prefer header
			size, skip int
		}{
			{"$top=25", 40, 25, 0},
			{"$top=25&$skip=20", 40, 25, 20},
			{"$top=80", 40, 40, 0},
			{"$top=1000", 150, 150, 0},
			{"$top=1000", 0, fixtureMaxPageSize, 0},
			{"$top=7", 0, 7, 0},
			{"$skip=295", 2, 2, 295},
			{"$top=0", 10, 0, 0},
		} {
			order := []odata.OrderBy{asc("machineName")}
			want := f.expect(nil, order)
			want = want[min(tc.skip, len(want)):]
			if tc.size == 0 {
				want = nil
			}
			var header http.Header
			applied := ""
			if tc.prefer > 0 {
				header, applied = maxPageSize(tc.prefer), "odata.maxpagesize="+strconv.Itoa(tc.prefer)
			}
			r := f.follow(t, collection+"?$orderby=machineName&"+tc.query, header, tc.size, applied)
			checkItems(t, tc.query, r.items, want, odata.MetadataMinimal, 0)
			if tc.size > 0 {
				if wantPages := max(1, (len(want)+tc.size-1)/tc.size); len(r.pages) != wantPages {
					t.Errorf("%s: %d pages, want %d", tc.query, len(r.pages), wantPages)
				}
			}
			if last := r.pages[len(r.pages)-1]; last.NextLink != "" {
				t.Errorf("%s: the last page has a nextLink", tc.query)
			}
			for _, p := range r.pages[:len(r.pages)-1] {
				if !strings.Contains(p.NextLink, "?$orderby=machineName&"+tc.query+"&$skiptoken=") {
					t.Errorf("%s: nextLink %s does not repeat the query", tc.query, p.NextLink)
				}
			}
		}
	})
	t.Run("Count", func(t *testing.T) {
		filter := "startswith(connectorName,'a') or connectorName eq null"
		expr, err := odata.ParseFilter(connSet.Type, filter, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := f.expect(expr, nil)
		r := f.follow(t, collection+"?$count=true&$filter="+url.QueryEscape(filter), maxPageSize(10), 10, "odata.maxpagesize=10")
		checkItems(t, "$count=true", r.items, want, odata.MetadataMinimal, 0)
		for i, p := range r.pages {
			if p.Count == nil || *p.Count != int64(len(want)) {
				t.Errorf("page %d: @odata.count %v, want %d", i, p.Count, len(want))
			}
		}
		// Member order: context, count, nextLink, value.
		head := `{"@odata.context":"` + publicURL + `/$metadata#deviceManagement/certificateConnectorDetails","@odata.count":300,`
		_, body := f.get(t, collection+"?$count=true", nil)
		if !bytes.HasPrefix(body, []byte(head+`"@odata.nextLink":"`+publicURL+`/deviceManagement/certificateConnectorDetails?$count=true&$skiptoken=`)) {
			t.Errorf("$count=true: %.400s", body)
		}
		_, body = f.get(t, collection+"?$count=true&$top=1", nil)
		if !bytes.HasPrefix(body, []byte(head+`"@odata.nextLink":"`+publicURL+`/deviceManagement/certificateConnectorDetails?$count=true&$top=1&$skiptoken=`)) ||
			len(decodePage(t, body).Value) != 1 {
			t.Errorf("$count=true&$top=1: %s", body)
		}
		_, body = f.get(t, collection+"?$count=false&$top=1", nil)
		if bytes.Contains(body, []byte("@odata.count")) {
			t.Errorf("$count=false: %s", body)
		}
	})
}

// TestCollectionShape checks $select, the context URL, metadata levels and the /$count segment.
func TestCollectionShape(t *testing.T) {
	t.Parallel()
	f := newCollectionFixture(t)
	all := f.expect(nil, nil)
	sel := bit("connectorName") | bit("machineName")

	for _, q := range []string{"connectorName,machineName", "machineName,connectorName", "machineName, connectorName", "id,machineName,connectorName"} {
		res, body := f.get(t, collection+"?$select="+url.QueryEscape(q)+"&$top=50", nil)
		page := decodePage(t, body)
		if res.StatusCode != 200 || page.Context != publicURL+"/$metadata#deviceManagement/certificateConnectorDetails(connectorName,machineName)" {
			if !(strings.HasPrefix(q, "id,") && page.Context == publicURL+"/$metadata#deviceManagement/certificateConnectorDetails(id,connectorName,machineName)") {
				t.Errorf("$select=%s: %d context %q", q, res.StatusCode, page.Context)
			}
		}
		for i, it := range page.Value {
			var names []string
			for _, m := range members(t, it) {
				names = append(names, m.name)
			}
			if want := []string{"@odata.type", "@odata.etag", "id", "connectorName", "machineName"}; !slices.Equal(names, want) {
				t.Fatalf("$select=%s: item %d has %v, want %v", q, i, names, want)
			}
		}
		if !strings.HasPrefix(q, "id,") {
			checkItems(t, "$select="+q, page.Value, all[:50], odata.MetadataMinimal, sel)
		}
	}
	res, body := f.get(t, collection+"?$select=id&$top=3", nil)
	if page := decodePage(t, body); res.StatusCode != 200 || !strings.HasSuffix(page.Context, "#deviceManagement/certificateConnectorDetails(id)") ||
		!bytes.Contains(body, []byte(`"id":"`+all[0].Key()+`"}`)) {
		t.Errorf("$select=id: %d %s", res.StatusCode, body)
	}
	res, body = f.get(t, collection+"/"+all[0].Key()+"?$select=connectorVersion", nil)
	if res.StatusCode != 200 || !bytes.HasPrefix(body, []byte(`{"@odata.context":"`+publicURL+`/$metadata#deviceManagement/certificateConnectorDetails(connectorVersion)/$entity",`)) ||
		bytes.Contains(body, []byte("machineName")) || !bytes.Contains(body, []byte(`"id":`)) {
		t.Errorf("entity $select: %d %s", res.StatusCode, body)
	}
	res, body = f.get(t, collection+"?$select=connectorName,nope", nil)
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("$select of an unknown property: %d %s", res.StatusCode, body)
	}

	t.Run("MetadataNone", func(t *testing.T) {
		h := hdr("Accept", "application/json;odata.metadata=none", "Prefer", "odata.maxpagesize=120")
		res, body := f.get(t, collection+"?$count=true", h)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json;odata.metadata=none;") {
			t.Errorf("Content-Type %q", ct)
		}
		page := decodePage(t, body)
		if page.Context != "" || page.Count == nil || *page.Count != fixtureRows || page.NextLink == "" {
			t.Errorf("metadata=none keeps only count and nextLink: %.300s", body)
		}
		checkItems(t, "metadata=none", page.Value, all[:120], odata.MetadataNone, 0)
		r := f.follow(t, page.NextLink, h, 120, "odata.maxpagesize=120")
		checkItems(t, "metadata=none, later pages", r.items, all[120:], odata.MetadataNone, 0)
		if bytes.Contains(body, []byte(`"@odata.type"`)) || bytes.Contains(body, []byte(`"@odata.etag"`)) {
			t.Errorf("metadata=none with control information: %.300s", body)
		}
	})
	t.Run("MetadataFull", func(t *testing.T) {
		res, body := f.get(t, collection+"?$top=30&$select=machineName", hdr("Accept", "application/json;odata.metadata=full"))
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json;odata.metadata=full;") {
			t.Errorf("Content-Type %q", ct)
		}
		page := decodePage(t, body)
		if !strings.HasSuffix(page.Context, "#deviceManagement/certificateConnectorDetails(machineName)") {
			t.Errorf("context %q", page.Context)
		}
		checkItems(t, "metadata=full", page.Value, all[:30], odata.MetadataFull, bit("machineName"))
		want := `"@odata.id":"` + publicURL + `/deviceManagement/certificateConnectorDetails('` + all[0].Key() + `')"`
		if !bytes.Contains(page.Value[0], []byte(want)) || !bytes.Contains(page.Value[0], []byte(`"@odata.editLink":`)) {
			t.Errorf("full metadata item lacks %s: %s", want, page.Value[0])
		}
	})
	t.Run("CountSegment", func(t *testing.T) {
		for _, filter := range []string{"", "connectorName eq null", "contains(machineName,'a') and year(enrollmentDateTime) ge 2000",
			"not (connectorName eq 'O''Neil')", "id eq '" + all[7].Key() + "'", "false"} {
			path := collection + "/$count"
			var expr odata.Expr
			if filter != "" {
				var err error
				if expr, err = odata.ParseFilter(connSet.Type, filter, nil); err != nil {
					t.Fatal(err)
				}
				path += "?$filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
			}
			res, body := f.get(t, path, hdr("Accept", "text/plain;q=0.9, application/json"))
			if want := strconv.Itoa(len(f.expect(expr, nil))); res.StatusCode != 200 || string(body) != want {
				t.Errorf("/$count %q = %d %q, want %s", filter, res.StatusCode, body, want)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("/$count Content-Type %q", ct)
			}
		}
		res, body := f.get(t, collection+"/$count?$filter=nope%20eq%201", nil)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("/$count with a bad filter: %d %s", res.StatusCode, body)
		}
		// OData: a client must not combine /$count with these; graphd refuses rather than ignores them.
		for _, q := range []string{"$top=1", "$skip=2", "$orderby=machineName", "$select=id", "$skiptoken=x"} {
			res, body := f.get(t, collection+"/$count?$filter=true&"+q, nil)
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("/$count?%s: %d %s", q, res.StatusCode, body)
			}
		}
	})
}

// formatOrderBy prints an $orderby value.
func formatOrderBy(order []odata.OrderBy) string {
	parts := make([]string, len(order))
	for i, o := range order {
		parts[i] = odatatest.Format(o.Expr)
		if o.Desc {
			parts[i] += " desc"
		}
	}
	return strings.Join(parts, ",")
}

// queryEscape percent-encodes a query value, spaces as %20 or, as forms do, as '+'.
func queryEscape(s string, plus bool) string {
	e := url.QueryEscape(s)
	if !plus {
		e = strings.ReplaceAll(e, "+", "%20")
	}
	return e
}

// TestCollectionDifferential sends generated $filter and $orderby texts through HTTP to PostgreSQL and
// compares every answer, byte for byte and in order, with odata.Match and odata.CompareOrder over the same rows.
func TestCollectionDifferential(t *testing.T) {
	t.Parallel()
	f := newCollectionFixture(t)
	r := rand.New(rand.NewPCG(7, 11))
	g := odatatest.NewFilterGen(r)
	n := 300
	if testing.Short() {
		n = 60
	}
	type query struct {
		filter odata.Expr
		order  []odata.OrderBy
		text   string
		path   string
	}
	queries := make([]query, 0, n)
	for i := 0; len(queries) < n; i++ {
		e := g.Filter(1 + i%5)
		text := odatatest.Format(e)
		if i%2 == 1 {
			text = odatatest.FormatRandom(r, e)
		}
		if len(text) > odata.MaxFilterLength {
			continue
		}
		order := g.OrderBy()
		path := collection + "?$filter=" + queryEscape(text, i%3 == 0)
		if len(order) > 0 {
			path += "&$orderby=" + queryEscape(formatOrderBy(order), false)
		}
		if len(path)+len(fixtureMaxPageSizeSkipToken) > httpapi.DefaultMaxURLBytes {
			continue // 414 before the filter is read; a limit of its own
		}
		queries = append(queries, query{e, order, text, path})
	}

	var (
		mu       sync.Mutex
		failures int
		matched  int
		done     int
	)
	work := make(chan query)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for q := range work {
				want := f.expect(q.filter, q.order)
				var got []json.RawMessage
				ok := true
				for link := q.path; link != ""; {
					res, body := f.get(t, link, maxPageSize(fixtureMaxPageSize))
					if res.StatusCode != http.StatusOK {
						t.Errorf("$filter=%s\n$orderby=%s\n%d %s", q.text, formatOrderBy(q.order), res.StatusCode, body)
						ok = false
						break
					}
					page := decodePage(t, body)
					got = append(got, page.Value...)
					link = page.NextLink
				}
				if ok {
					same := len(got) == len(want)
					for i := 0; same && i < len(got); i++ {
						same = string(got[i]) == entityJSON(&want[i], odata.MetadataMinimal, 0)
					}
					if !same {
						ok = false
						i := 0
						for i < min(len(got), len(want)) && string(got[i]) == entityJSON(&want[i], odata.MetadataMinimal, 0) {
							i++
						}
						gotRow, wantRow := "(none)", "(none)"
						if i < len(got) {
							gotRow = string(got[i])
						}
						if i < len(want) {
							wantRow = entityJSON(&want[i], odata.MetadataMinimal, 0)
						}
						t.Errorf("$filter=%s\n$orderby=%s\nPostgreSQL gives %d rows, the reference %d; first difference at row %d:\n%s\nwant\n%s",
							q.text, formatOrderBy(q.order), len(got), len(want), i, gotRow, wantRow)
					}
				}
				mu.Lock()
				done++
				if !ok {
					failures++
				}
				if len(want) > 0 {
					matched++
				}
				mu.Unlock()
			}
		})
	}
	for _, q := range queries {
		mu.Lock()
		stop := failures >= 10
		mu.Unlock()
		if stop {
			break
		}
		work <- q
	}
	close(work)
	wg.Wait()
	t.Logf("%d generated queries sent, %d selecting at least one row, %d disagreements", done, matched, failures)
	if failures == 0 && matched < done/5 {
		t.Errorf("only %d of %d queries select any row: the differential says little", matched, done)
	}
}

// TestCollectionActions runs both actions on stored samples: sums per metric, the time window with its
// bounds, order and offsets, end defaulting to now, IEEE754Compatible, and 404 for an unknown connector.
func TestCollectionActions(t *testing.T) {
	t.Parallel()
	s := newAuthServer(t, nil)
	tok := s.token(t, tenantA)
	const id, other = seedID, "7f0c9a3e-3c1d-4b52-9a3e-2f4c5d6e7f80"
	big := int64(1<<53 + 1)                   // not exact as a float64: why IEEE754Compatible exists
	nowText := "2026-01-02T03:04:05.9876543Z" // pinnedNow at 100 ns
	samples := []odata.MetricSample{
		sample(id, "issued", "2026-01-02T03:04:05.9876544Z", 1000, 1000), // 100 ns after now
		sample(id, "issued", nowText, 1, 2),
		sample(id, "issued", "2024-06-15T23:30:00-08:00", 10, 0), // 2024-06-16T07:30Z
		sample(id, "issued", "2024-06-16T07:00:00+05:30", 20, 1), // 2024-06-16T01:30Z
		sample(id, "issued", "2024-06-16T00:00:00Z", 30, 2),
		sample(id, "issued", "2024-06-14T23:59:59.9999999Z", 40, 3),
		sample(id, "revoked", "2024-06-16T00:00:00Z", big, 0),
		sample(other, "issued", "2024-06-16T00:00:00Z", 500, 500),
	}
	importEntities(t, s.store, tenantA, []odata.Entity{connector(id, "c"), connector(other, "d")}, samples...)
	importEntities(t, s.store, tenantB, []odata.Entity{connector(id, "b")}, sample(id, "issued", "2024-06-16T00:00:00Z", 7000, 7000))
	post := func(path, accept, body string) (*http.Response, string) {
		t.Helper()
		h := jsonHdr()
		if accept != "" {
			h.Set("Accept", accept)
		}
		res, b := s.do(t, tok, "POST", path, h, body)
		return res, string(b)
	}
	for _, item := range []string{collection + "/" + id, collection + "('" + strings.ToUpper(id) + "')"} {
		for _, ns := range []string{"", "microsoft.graph."} {
			res, body := post(item+"/"+ns+"getHealthMetrics", "", `{"metricNames":["issued","revoked","unknown","issued"]}`)
			want := `{"@odata.context":"` + publicURL + `/$metadata#Collection(microsoft.graph.keyLongValuePair)","value":[` +
				`{"name":"issued","value":2109},{"name":"revoked","value":9007199254740993},{"name":"unknown","value":0},{"name":"issued","value":2109}]}`
			if res.StatusCode != 200 || body != want {
				t.Errorf("getHealthMetrics via %s%s: %d\n%s\nwant\n%s", item, ns, res.StatusCode, body, want)
			}
			res, body = post(item+"/"+ns+"getHealthMetrics", "application/json;IEEE754Compatible=true", `{"metricNames":["revoked","unknown"]}`)
			want = `"value":[{"name":"revoked","value":"9007199254740993"},{"name":"unknown","value":"0"}]}`
			if res.StatusCode != 200 || !strings.HasSuffix(body, want) || !strings.Contains(res.Header.Get("Content-Type"), "IEEE754Compatible=true") {
				t.Errorf("getHealthMetrics IEEE754Compatible: %d %s %q", res.StatusCode, body, res.Header.Get("Content-Type"))
			}

			// The window is inclusive at both ends, compares instants, and keeps each sample's offset.
			res, body = post(item+"/"+ns+"getHealthMetricTimeSeries", "",
				`{"timeSeries":{"@odata.type":"microsoft.graph.timeSeriesParameter","metricName":"issued","startDateTime":"2024-06-15T16:00:00-08:00","endDateTime":"2024-06-16T07:30:00Z"}}`)
			want = `{"@odata.context":"` + publicURL + `/$metadata#Collection(microsoft.graph.certificateConnectorHealthMetricValue)","value":[` +
				`{"dateTime":"2024-06-16T00:00:00Z","successCount":30,"failureCount":2},` +
				`{"dateTime":"2024-06-16T07:00:00+05:30","successCount":20,"failureCount":1},` +
				`{"dateTime":"2024-06-15T23:30:00-08:00","successCount":10,"failureCount":0}]}`
			if res.StatusCode != 200 || body != want {
				t.Errorf("getHealthMetricTimeSeries window via %s%s: %d\n%s\nwant\n%s", item, ns, res.StatusCode, body, want)
			}
		}
	}
	item := collection + "/" + id
	// Without endDateTime (or with null) the window ends now, inclusive at 100 ns.
	for _, end := range []string{``, `,"endDateTime":null`} {
		res, body := post(item+"/getHealthMetricTimeSeries", "application/json;IEEE754Compatible=true",
			`{"timeSeries":{"metricName":"issued","startDateTime":"2025-01-01T00:00:00Z"`+end+`}}`)
		want := `"value":[{"dateTime":"` + nowText + `","successCount":"1","failureCount":"2"}]}`
		if res.StatusCode != 200 || !strings.HasSuffix(body, want) {
			t.Errorf("time series ending now (%q): %d %s, want …%s", end, res.StatusCode, body, want)
		}
	}
	res, body := post(item+"/getHealthMetricTimeSeries", "", `{"timeSeries":{"metricName":"issued","startDateTime":"2024-06-15T00:00:00Z","endDateTime":"2024-06-14T00:00:00Z"}}`)
	if res.StatusCode != 200 && res.StatusCode != 400 || res.StatusCode == 200 && !strings.HasSuffix(body, `"value":[]}`) {
		t.Errorf("end before start: %d %s", res.StatusCode, body)
	}
	res, body = post(item+"/getHealthMetricTimeSeries", "application/json;odata.metadata=full", `{"timeSeries":{"metricName":"revoked","startDateTime":"2024-06-16T00:00:00Z","endDateTime":"2024-06-16T00:00:00Z"}}`)
	if want := `"value":[{"@odata.type":"#microsoft.graph.certificateConnectorHealthMetricValue","dateTime":"2024-06-16T00:00:00Z","successCount":9007199254740993,"failureCount":0}]}`; res.StatusCode != 200 || !strings.HasSuffix(body, want) {
		t.Errorf("full metadata, a one-instant window: %d %s, want …%s", res.StatusCode, body, want)
	}
	for _, path := range []string{collection + "/" + missingID + "/getHealthMetrics", collection + "/not-a-guid/microsoft.graph.getHealthMetrics"} {
		res, body := post(path, "", `{"metricNames":["issued"]}`)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
	for name, body := range map[string]string{
		"NoNames": `{}`, "EmptyNames": `{"metricNames":[]}`, "NullNames": `{"metricNames":null}`, "NumberName": `{"metricNames":[1]}`,
		"UnknownParameter": `{"metricNames":["a"],"x":1}`,
	} {
		if res, b := post(item+"/getHealthMetrics", "", body); res.StatusCode != http.StatusBadRequest {
			t.Errorf("getHealthMetrics %s: %d %s", name, res.StatusCode, b)
		}
	}
	for name, body := range map[string]string{
		"NoTimeSeries": `{}`, "NoStart": `{"timeSeries":{"metricName":"issued"}}`, "NullStart": `{"timeSeries":{"metricName":"issued","startDateTime":null}}`,
		"NoOffset": `{"timeSeries":{"metricName":"issued","startDateTime":"2024-06-16T00:00:00"}}`, "NoMetric": `{"timeSeries":{"startDateTime":"2024-06-16T00:00:00Z"}}`,
		"WrongType": `{"timeSeries":{"@odata.type":"#microsoft.graph.user","metricName":"issued","startDateTime":"2024-06-16T00:00:00Z"}}`,
	} {
		if res, b := post(item+"/getHealthMetricTimeSeries", "", body); res.StatusCode != http.StatusBadRequest {
			t.Errorf("getHealthMetricTimeSeries %s: %d %s", name, res.StatusCode, b)
		}
	}
}

// edmx is the part of a CSDL document the test reads.
type edmx struct {
	XMLName xml.Name `xml:"http://docs.oasis-open.org/odata/ns/edmx Edmx"`
	Version string   `xml:"Version,attr"`
	Schemas []struct {
		Namespace   string `xml:"Namespace,attr"`
		Alias       string `xml:"Alias,attr"`
		EntityTypes []struct {
			Name       string `xml:"Name,attr"`
			BaseType   string `xml:"BaseType,attr"`
			Properties []struct {
				Name     string `xml:"Name,attr"`
				Type     string `xml:"Type,attr"`
				Nullable string `xml:"Nullable,attr"`
			} `xml:"Property"`
			Navigation []struct {
				Name           string `xml:"Name,attr"`
				Type           string `xml:"Type,attr"`
				ContainsTarget string `xml:"ContainsTarget,attr"`
			} `xml:"NavigationProperty"`
		} `xml:"EntityType"`
		ComplexTypes []struct {
			Name       string `xml:"Name,attr"`
			Properties []struct {
				Name string `xml:"Name,attr"`
				Type string `xml:"Type,attr"`
			} `xml:"Property"`
		} `xml:"ComplexType"`
		Actions []struct {
			Name       string `xml:"Name,attr"`
			IsBound    string `xml:"IsBound,attr"`
			Parameters []struct {
				Name string `xml:"Name,attr"`
				Type string `xml:"Type,attr"`
			} `xml:"Parameter"`
			ReturnType struct {
				Type string `xml:"Type,attr"`
			} `xml:"ReturnType"`
		} `xml:"Action"`
		Singletons []struct {
			Name string `xml:"Name,attr"`
			Type string `xml:"Type,attr"`
		} `xml:"EntityContainer>Singleton"`
		EntitySets []struct {
			Name       string `xml:"Name,attr"`
			EntityType string `xml:"EntityType,attr"`
		} `xml:"EntityContainer>EntitySet"`
		EnumTypes []struct {
			Name    string `xml:"Name,attr"`
			Members []struct {
				Name  string `xml:"Name,attr"`
				Value string `xml:"Value,attr"`
			} `xml:"Member"`
		} `xml:"EnumType"`
	} `xml:"DataServices>Schema"`
}

// csdlFacts reads a CSDL document into "type.property" → "Type/Nullable", "container.set" → "Type/contains=…",
// "singleton x", "entityset x", "enum x" → "member=value,…" and "action x" → its signature, for comparisons.
func csdlFacts(t *testing.T, body []byte) map[string]string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("$metadata is not well-formed XML: %v", err)
		}
	}
	var doc edmx
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "4.0" || len(doc.Schemas) != 1 || doc.Schemas[0].Namespace != "microsoft.graph" || doc.Schemas[0].Alias != "graph" {
		t.Fatalf("document %+v", doc)
	}
	sc := doc.Schemas[0]
	got := map[string]string{}
	for _, et := range sc.EntityTypes {
		for _, p := range et.Properties {
			got[et.Name+"."+p.Name] = p.Type + "/" + p.Nullable
		}
		for _, n := range et.Navigation {
			got[et.Name+"."+n.Name] = n.Type + "/contains=" + n.ContainsTarget
		}
		got[et.Name] = "base=" + et.BaseType
	}
	for _, ct := range sc.ComplexTypes {
		for _, p := range ct.Properties {
			got[ct.Name+"."+p.Name] = p.Type
		}
	}
	for _, a := range sc.Actions {
		var params []string
		for _, p := range a.Parameters {
			params = append(params, p.Name+":"+p.Type)
		}
		got["action "+a.Name] = fmt.Sprintf("bound=%s %s -> %s", a.IsBound, strings.Join(params, ","), a.ReturnType.Type)
	}
	for _, s := range sc.Singletons {
		got["singleton "+s.Name] = s.Type
	}
	for _, s := range sc.EntitySets {
		got["entityset "+s.Name] = s.EntityType
	}
	for _, e := range sc.EnumTypes {
		var members []string
		for _, m := range e.Members {
			members = append(members, m.Name+"="+m.Value)
		}
		got["enum "+e.Name] = strings.Join(members, ",")
	}
	return got
}

// TestMetadataDocument reads $metadata as XML: it is well-formed and holds both entity types with the model's
// properties, the enum types, the singleton with its contained collections, the complex types and both bound
// actions.
func TestMetadataDocument(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	httpapi.NewServer(testConfig(nil), newFakeStore()).ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "http://graph.example.test/beta/$metadata", nil))
	res, body := rec.Result(), rec.Body.Bytes()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("$metadata: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	got := csdlFacts(t, body)
	want := map[string]string{
		"certificateConnectorDetails": "base=graph.entity",
		"entity.id":                   "Edm.String/false",
		"deviceManagement.certificateConnectorDetails":       "Collection(graph.certificateConnectorDetails)/contains=true",
		"singleton deviceManagement":                         "graph.deviceManagement",
		"keyLongValuePair.name":                              "Edm.String",
		"keyLongValuePair.value":                             "Edm.Int64",
		"timeSeriesParameter.metricName":                     "Edm.String",
		"timeSeriesParameter.startDateTime":                  "Edm.DateTimeOffset",
		"timeSeriesParameter.endDateTime":                    "Edm.DateTimeOffset",
		"certificateConnectorHealthMetricValue.dateTime":     "Edm.DateTimeOffset",
		"certificateConnectorHealthMetricValue.successCount": "Edm.Int64",
		"certificateConnectorHealthMetricValue.failureCount": "Edm.Int64",
		"action getHealthMetrics":                            "bound=true bindingParameter:graph.certificateConnectorDetails,metricNames:Collection(Edm.String) -> Collection(graph.keyLongValuePair)",
		"action getHealthMetricTimeSeries":                   "bound=true bindingParameter:graph.certificateConnectorDetails,timeSeries:graph.timeSeriesParameter -> Collection(graph.certificateConnectorHealthMetricValue)",
	}
	for _, p := range connSet.Type.Properties[1:] {
		nullable := ""
		if !p.Nullable {
			nullable = "false"
		}
		want["certificateConnectorDetails."+p.Name] = p.Type.String() + "/" + nullable
	}
	// userPFXCertificate, as the beta CSDL has it.
	for k, v := range map[string]string{
		"userPFXCertificate":                      "base=graph.entity",
		"userPFXCertificate.thumbprint":           "Edm.String/",
		"userPFXCertificate.intendedPurpose":      "graph.userPfxIntendedPurpose/false",
		"userPFXCertificate.userPrincipalName":    "Edm.String/",
		"userPFXCertificate.startDateTime":        "Edm.DateTimeOffset/false",
		"userPFXCertificate.expirationDateTime":   "Edm.DateTimeOffset/false",
		"userPFXCertificate.providerName":         "Edm.String/",
		"userPFXCertificate.keyName":              "Edm.String/",
		"userPFXCertificate.paddingScheme":        "graph.userPfxPaddingScheme/false",
		"userPFXCertificate.encryptedPfxBlob":     "Edm.Binary/",
		"userPFXCertificate.encryptedPfxPassword": "Edm.String/",
		"userPFXCertificate.createdDateTime":      "Edm.DateTimeOffset/false",
		"userPFXCertificate.lastModifiedDateTime": "Edm.DateTimeOffset/false",
		"deviceManagement.userPfxCertificates":    "Collection(graph.userPFXCertificate)/contains=true",
		"enum userPfxIntendedPurpose":             "unassigned=0,smimeEncryption=1,smimeSigning=2,vpn=4,wifi=8",
		"enum userPfxPaddingScheme":               "none=0,pkcs1=1,oaepSha1=2,oaepSha256=3,oaepSha384=4,oaepSha512=5",
	} {
		want[k] = v
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
}
