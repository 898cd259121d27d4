package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// injectionPayloads are texts that would change a statement built by pasting client text into SQL: quotes,
// comments, statement separators, dollar quoting and escape-string syntax, look-alike Unicode and direction
// marks, and identifier tricks naming columns, the tenant or the table.
var injectionPayloads = []string{
	"'", "''", "'''", `"`, `\`, `\'`, "`",
	"' OR '1'='1", "' OR 1=1 --", "x' or 'a'='a", "' or true or '",
	"--", "-- comment", "/*", "*/", "/* comment */", "a/**/b", "';--", "'/*", "*/'",
	";", "; SELECT 1", "'; SELECT pg_sleep(5); --", "'); SELECT pg_sleep(5); --",
	"'); DROP TABLE certificate_connector_details; --",
	"x'); DELETE FROM certificate_connector_details WHERE ('1'='1",
	"'; UPDATE certificate_connector_details SET connector_name = 'pwned'; --",
	"' UNION SELECT * FROM certificate_connector_details --",
	"$1", "$$", "$$; DROP TABLE certificate_connector_details; $$", "E'\\x27'", "U&'\\0027'", "%27", "%2527", "\\u0027",
	"\uFF07", "\uFF07 OR 1=1 --", "＇); DROP TABLE certificate_connector_details; --", "\u02BC", "\u2019 or 1=1",
	"\u200F'\u200E", "\u202E'--", "\u200B'", "\uFEFF'", "🙂'", "\u00a0'", "\x00", "a\x00'; DROP TABLE x; --", "\xff'",
	"connector_name", `"connectorName"`, "tenant_id", "1 eq 1 or id", "id", "*", "connectorName desc; DROP TABLE x",
	"connectorName,tenant_id", "tenant_id eq tenant_id", "connectorName eq connectorName", "true or tenant_id eq 'x'",
	"version", "certificate_connector_details", "pg_catalog.pg_tables", "ticks", "..", "\n", "\r\n--", "\t;",
	strings.Repeat("'", 101), strings.Repeat("--", 50),
}

// injectionTemplates put a payload into every query option; %s is the payload, or the payload with its quotes
// doubled (the OData escape) where %q stands.
var injectionTemplates = []string{
	"$filter=%s",
	"$filter=connectorName eq '%q'",
	"$filter=connectorName eq '%s'",
	"$filter=contains(connectorName,'%q') or machineName eq '%q'",
	"$filter=startswith(machineName,'%q') and not endswith(connectorName,'%q')",
	"$filter=connectorName in ('a','%q')",
	"$filter=connectorName eq @x&@x='%q'",
	"$filter=connectorName eq @x&@x=%s",
	"$filter=connectorName eq @x&@%s='a'",
	"$filter=%s eq 'a'",
	"$orderby=%s",
	"$orderby=connectorName %s",
	"$select=%s",
	"$select=connectorName,%s",
	"$top=%s",
	"$skip=%s",
	"$count=%s",
	"$expand=%s",
	"$skiptoken=%s",
	"$search=%s",
	"$format=%s",
	"$%s=1",
	"%s=1&$top=1",
}

// rawTemplates is how many of the first templates (those putting the payload into $filter) are also sent with
// the payload unencoded where the request line allows.
const rawTemplates = 10

// fill puts payload p into template tpl and percent-encodes what it put there.
func fill(tpl, p string, encode func(string) string) string {
	doubled := strings.ReplaceAll(p, "'", "''")
	var b strings.Builder
	for i := 0; i < len(tpl); i++ {
		if tpl[i] == '%' && i+1 < len(tpl) && (tpl[i+1] == 's' || tpl[i+1] == 'q') {
			if tpl[i+1] == 's' {
				b.WriteString(encode(p))
			} else {
				b.WriteString(encode(doubled))
			}
			i++
			continue
		}
		if tpl[i] == ' ' {
			b.WriteString("%20")
			continue
		}
		b.WriteByte(tpl[i])
	}
	return b.String()
}

// rawEscape encodes only what an HTTP request line and the query's own syntax cannot carry, leaving quotes,
// semicolons, comment markers and the like as they are on the wire.
func rawEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("#%&+", c) >= 0 {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// TestSQLInjection puts every payload into every query option, into path keys, action paths and request
// bodies, for the development tenant on PostgreSQL. Each is answered 400, 404 for keys, or 200 with exactly the rows the
// reference evaluator selects (a quoted payload matching literally); none gets a 500; and afterwards every row
// of both tenants is as it was and the tables are all there.
func TestSQLInjection(t *testing.T) {
	t.Parallel()
	// Authentication is off, so the requests act in the development tenant; tenant B is the other one.
	s := newDevServer(t, func(c *httpapi.Config) { c.PageSize = 1000 })
	const tok = ""
	gen := newTestRows()
	var rowsA []odata.Entity
	// Rows whose values are payloads, so a literal match has something to find.
	for i, p := range injectionPayloads {
		if strings.ContainsRune(p, 0) || !utf8Valid(p) {
			continue
		}
		c := connector(gen.id(), p)
		if i%3 == 0 {
			c.Set("machineName", odata.Str(p))
		}
		if i%4 == 0 {
			c.Set("connectorName", odata.Null)
		}
		rowsA = append(rowsA, c)
	}
	rowsA = append(rowsA, connector(gen.id(), "a"), connector(gen.id(), "pwned"))
	importEntities(t, s.store, odata.DevTenantID, rowsA, sample(rowsA[0].Key(), "m", "2024-01-01T00:00:00Z", 1, 1))
	rowsB := []odata.Entity{connector(gen.id(), "a"), connector(gen.id(), "'"), connector(seedID, "b-secret")}
	importEntities(t, s.store, tenantB, rowsB, sample(seedID, "m", "2024-01-01T00:00:00Z", 5, 5))
	beforeA, beforeB := s.rows(t, odata.DevTenantID), s.rows(t, tenantB)
	for i := range rowsA {
		rowsA[i].Version = 1
	}
	tables := s.tables(t)

	type probe struct {
		method, path string
		header       http.Header
		body         string
		// statuses the probe may get; for 200 on the collection the rows are checked against the reference.
		allowed []int
	}
	var probes []probe
	for _, p := range injectionPayloads {
		for i, tpl := range injectionTemplates {
			probes = append(probes, probe{method: "GET", path: collection + "?" + fill(tpl, p, url.QueryEscape), allowed: []int{200, 400}})
			if i < rawTemplates {
				probes = append(probes, probe{method: "GET", path: collection + "?" + fill(tpl, p, rawEscape), allowed: []int{200, 400}})
			}
		}
		probes = append(probes, probe{method: "GET", path: collection + "/$count?$filter=" + fill("connectorName eq '%q'", p, url.QueryEscape), allowed: []int{200, 400}})
		probes = append(probes, probe{method: "GET", path: seedItem + "?$select=" + url.QueryEscape(p), allowed: []int{400, 404}})
		for i, key := range []string{"/" + url.PathEscape(p), "('" + url.PathEscape(p) + "')", "('" + url.PathEscape(strings.ReplaceAll(p, "'", "''")) + "')"} {
			item := collection + key
			probes = append(probes,
				probe{method: "GET", path: item, allowed: []int{400, 404}},
				probe{method: "PATCH", path: item, header: jsonHdr(), body: `{"connectorName":"pwned"}`, allowed: []int{400, 404}})
			if i == 0 {
				probes = append(probes,
					probe{method: "DELETE", path: item, allowed: []int{400, 404}},
					probe{method: "POST", path: item + "/getHealthMetrics", header: jsonHdr(), body: `{"metricNames":["m"]}`, allowed: []int{400, 404}},
					probe{method: "POST", path: item + "/microsoft.graph.getHealthMetricTimeSeries", header: jsonHdr(),
						body: `{"timeSeries":{"metricName":"m","startDateTime":"2000-01-01T00:00:00Z"}}`, allowed: []int{400, 404}})
			}
		}
		// Payloads as values the store binds: metric names and If-Match.
		js, _ := json.Marshal(p)
		probes = append(probes,
			probe{method: "POST", path: collection + "/" + rowsA[0].Key() + "/getHealthMetrics", header: jsonHdr(), body: `{"metricNames":[` + string(js) + `]}`, allowed: []int{200, 400}},
			probe{method: "POST", path: collection + "/" + rowsA[0].Key() + "/getHealthMetricTimeSeries", header: jsonHdr(),
				body: `{"timeSeries":{"metricName":` + string(js) + `,"startDateTime":"2000-01-01T00:00:00Z"}}`, allowed: []int{200, 400}},
		)
		if ifMatch := strings.Map(printable, p); !strings.Contains(ifMatch, "*") {
			probes = append(probes, probe{method: "DELETE", path: collection + "/" + rowsA[1].Key(), header: hdr("If-Match", ifMatch), allowed: []int{412}})
		}
	}

	var (
		mu     sync.Mutex
		counts = map[int]int{}
	)
	work := make(chan probe)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for pr := range work {
				res, body := s.do(t, tok, pr.method, pr.path, pr.header, pr.body)
				mu.Lock()
				counts[res.StatusCode]++
				mu.Unlock()
				if !slices.Contains(pr.allowed, res.StatusCode) {
					t.Errorf("%s %s: %d, want one of %v: %s", pr.method, pr.path, res.StatusCode, pr.allowed, body)
					continue
				}
				if res.StatusCode >= 400 {
					checkEnvelope(t, res, body, "")
					continue
				}
				if pr.method == "GET" {
					checkAgainstReference(t, pr.path, body, rowsA)
				}
				if bytes.Contains(body, []byte("b-secret")) || bytes.Contains(body, []byte(`"value":10`)) {
					t.Errorf("%s %s shows tenant B's data: %s", pr.method, pr.path, body)
				}
			}
		})
	}
	for _, pr := range probes {
		work <- pr
	}
	close(work)
	wg.Wait()
	t.Logf("%d probes: statuses %v", len(probes), counts)

	// Payloads stored through the API come back literally, and go away again.
	for _, p := range injectionPayloads {
		if strings.ContainsRune(p, 0) || !utf8Valid(p) {
			continue // PostgreSQL text cannot hold them; other tests show they are refused with 400
		}
		js, _ := json.Marshal(p)
		res, body := s.do(t, tok, "POST", collection, jsonHdr(), `{"connectorName":`+string(js)+`,"machineName":`+string(js)+`}`)
		if res.StatusCode != http.StatusCreated || !bytes.Contains(body, []byte(`"connectorName":`+string(odata.AppendJSONString(nil, p)))) {
			t.Errorf("POST with %q: %d %s", p, res.StatusCode, body)
			continue
		}
		var created struct{ ID string }
		_ = json.Unmarshal(body, &created)
		res, body = s.do(t, tok, "GET", collection+"?$filter="+fill("connectorName eq '%q' and machineName eq '%q'", p, url.QueryEscape)+"&$select=id", nil, "")
		if ids := decodePage(t, body).ids(t); res.StatusCode != 200 || !slices.Contains(ids, created.ID) {
			t.Errorf("the stored %q does not match itself literally: %d %s", p, res.StatusCode, body)
		}
		if res, _ := s.do(t, tok, "DELETE", collection+"/"+created.ID, nil, ""); res.StatusCode != http.StatusNoContent {
			t.Errorf("DELETE of the row holding %q: %d", p, res.StatusCode)
		}
	}

	if got := s.rows(t, odata.DevTenantID); !reflect.DeepEqual(got, beforeA) {
		t.Errorf("the development tenant's rows changed: %d rows before, %d after", len(beforeA), len(got))
	}
	if got := s.rows(t, tenantB); !reflect.DeepEqual(got, beforeB) {
		t.Errorf("tenant B's rows changed:\nbefore %+v\nafter  %+v", beforeB, got)
	}
	if got := s.tables(t); !reflect.DeepEqual(got, tables) {
		t.Errorf("the tables changed:\nbefore %v\nafter  %v", tables, got)
	}
}

func printable(r rune) rune {
	if r < ' ' || r == 0x7f || r > 0x7e {
		return -1
	}
	return r
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// tables lists the public tables with their row counts.
func (s authServer) tables(t *testing.T) map[string]int64 {
	t.Helper()
	rows, err := s.store.Pool().Query(t.Context(), "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := s.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM "`+n+`"`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	if len(out) == 0 || out["certificate_connector_details"] == 0 {
		t.Fatalf("tables %v", out)
	}
	return out
}

// checkAgainstReference checks a 200 answer to a collection query against odata's reference evaluation of the
// same query string over the tenant's rows: the same rows, in the same order, shaped by $select, and a
// nextLink exactly when $top (the page size) leaves matches for later pages.
func checkAgainstReference(t *testing.T, path string, body []byte, rows []odata.Entity) {
	t.Helper()
	_, raw, _ := strings.Cut(path, "?")
	if strings.HasPrefix(path, collection+"/$count") {
		q, err := odata.ParseQuery(connSet.Type, raw, odata.ForCount)
		if err != nil {
			t.Errorf("%s: 200, but odata.ParseQuery refuses it: %v", path, err)
			return
		}
		n := 0
		for i := range rows {
			if odata.Match(q.Filter, &rows[i], odata.FromTime(pinnedNow.UTC())) {
				n++
			}
		}
		if string(body) != strings.TrimSpace(string(body)) || string(body) != strconv.Itoa(n) {
			t.Errorf("%s: count %s, want %d", path, body, n)
		}
		return
	}
	if !strings.HasPrefix(path, collection+"?") {
		return
	}
	q, err := odata.ParseQuery(connSet.Type, raw, odata.ForCollection)
	if err != nil {
		t.Errorf("%s: 200, but odata.ParseQuery refuses it: %v", path, err)
		return
	}
	if q.HasSkipToken {
		t.Errorf("%s: a made-up $skiptoken was accepted", path)
		return
	}
	now := odata.FromTime(pinnedNow.UTC())
	var want []odata.Entity
	for i := range rows {
		if odata.Match(q.Filter, &rows[i], now) {
			want = append(want, rows[i])
		}
	}
	slices.SortFunc(want, func(a, b odata.Entity) int { return odata.CompareOrder(&a, &b, q.OrderBy, now) })
	want = want[min(int(q.Skip), len(want)):]
	more := false
	if q.Top >= 0 && int(q.Top) < len(want) {
		// $top=0 is an empty page that ends the listing.
		want, more = want[:q.Top], q.Top > 0
	}
	page := decodePage(t, body)
	if (page.NextLink != "") != more {
		t.Errorf("%s: nextLink %q, want one: %v (the fixture fits one page of the default size)", path, page.NextLink, more)
	}
	checkItems(t, path, page.Value, want, odata.MetadataMinimal, q.Select)
}

// testRows hands out distinct ids for test rows.
type testRows struct{ n int }

func newTestRows() *testRows { return &testRows{} }

func (g *testRows) id() string {
	g.n++
	const hex = "0123456789abcdef"
	b := []byte("5e0c1a2b-0000-4000-8000-000000000000")
	for i, n := len(b)-1, g.n; n > 0; i, n = i-1, n/16 {
		b[i] = hex[n%16]
	}
	return string(b)
}
