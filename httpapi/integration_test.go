package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// TestMain tears down the PostgreSQL server the integration tests start; the unit tests never start one.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// pgServer is the whole API on a real PostgreSQL database of the test's own, behind a real HTTP server.
type pgServer struct {
	url   string
	store *store.Store
	// chunked records whether the last request arrived without Content-Length.
	chunked *atomic.Bool
}

func newPGServer(t *testing.T) pgServer { return newPGServerLogging(t, nil) }

func newPGServerLogging(t *testing.T, logs *logBuffer) pgServer {
	t.Helper()
	st := storetest.Open(t)
	cfg := testConfig(nil)
	if logs != nil {
		cfg.Logger = logs.logger()
	}
	h := httpapi.NewServer(cfg, st)
	var chunked atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunked.Store(r.ContentLength == -1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return pgServer{url: srv.URL, store: st, chunked: &chunked}
}

func (s pgServer) importRow(t *testing.T, c odata.Entity) {
	t.Helper()
	importEntities(t, s.store, odata.DevTenantID, []odata.Entity{c})
}

// importEntities imports entities of any sets of the store's model, and samples, into tenant.
func importEntities(t *testing.T, st *store.Store, tenant string, es []odata.Entity, samples ...odata.MetricSample) {
	t.Helper()
	if err := tryImport(t, st, tenant, es, samples...); err != nil {
		t.Fatalf("import: %v", err)
	}
}

func tryImport(t *testing.T, st *store.Store, tenant string, es []odata.Entity, samples ...odata.MetricSample) error {
	t.Helper()
	m := st.Model()
	set := odata.ImportSet{Entities: make([][]odata.Entity, len(m.Sets)), Samples: samples}
	for _, e := range es {
		i := slices.IndexFunc(m.Sets, func(s *odata.EntitySet) bool { return s.Type == e.Type })
		if i < 0 {
			t.Fatalf("import: the store's model has no set of type %s", e.Type.Name)
		}
		set.Entities[i] = append(set.Entities[i], e)
	}
	return st.Import(t.Context(), tenant, &set)
}

func (s pgServer) row(t *testing.T, id string) (odata.Entity, bool) {
	t.Helper()
	c, err := s.store.Get(t.Context(), connSet, odata.DevTenantID, id)
	if errors.Is(err, odata.ErrNotFound) {
		return odata.Entity{}, false
	}
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	return c, true
}

// do sends a request and reads the whole response.
func (s pgServer) do(t *testing.T, method, path string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	tc := apiCase{method: method, path: path, header: header, body: body}
	return s.send(t, &tc)
}

func (s pgServer) send(t *testing.T, tc *apiCase) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(tc.newRequest(t, s.url))
	if err != nil {
		t.Fatalf("%s %s: %v", tc.method, tc.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if tc.chunked && !s.chunked.Load() {
		t.Errorf("the body reached the server with a Content-Length, the case sends it chunked")
	}
	return res, b
}

// TestIntegrationSeed is the seed's flow on PostgreSQL: its id imported, its exact request bytes sent, and every
// member of its example response returned byte for byte, by the PATCH and by a later GET.
func TestIntegrationSeed(t *testing.T) {
	t.Parallel()
	s := newPGServer(t)
	empty := odata.NewPatch(connSet.Type)
	s.importRow(t, odata.NewEntity(connSet.Type, seedID, &empty, odata.DateTimeOffset{}))

	res, body := s.do(t, "PATCH", seedItem, hdr("Content-type", "application/json"), seedRequest(t))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %d %s", res.StatusCode, body)
	}
	if res.Request.ContentLength != 328 {
		t.Errorf("sent Content-Length %d, the seed's is 328", res.Request.ContentLength)
	}
	checkSeedMembers(t, body)
	if ct := res.Header.Get("Content-Type"); ct != "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}

	res, got := s.do(t, "GET", seedItem, nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d %s", res.StatusCode, got)
	}
	checkSeedMembers(t, got)
	if !bytes.Equal(got, body) {
		t.Errorf("GET after PATCH differs:\nPATCH %s\nGET   %s", body, got)
	}
	row, _ := s.row(t, seedID)
	if got := row.Get("lastCheckinDateTime").Time.String(); got != "2017-01-01T00:02:46.0431416-08:00" {
		t.Errorf("stored lastCheckinDateTime = %s", got)
	}
}

// TestIntegrationRoundTrip creates, reads, updates and deletes through HTTP.
func TestIntegrationRoundTrip(t *testing.T) {
	t.Parallel()
	s := newPGServer(t)

	res, body := s.do(t, "POST", collection, jsonHdr(), []byte(`{"@odata.type":"#microsoft.graph.certificateConnectorDetails","id":"`+missingID+`","machineName":"host-1"}`))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", res.StatusCode, body)
	}
	var id string
	for _, m := range members(t, body) {
		if m.name == "id" {
			id = strings.Trim(string(m.value), `"`)
		}
	}
	if g, ok := odata.ParseGUID(id); !ok || g != id || id == missingID {
		t.Fatalf("created id %q is not a new lower-case GUID", id)
	}
	if got, want := res.Header.Get("Location"), publicURL+"/deviceManagement/certificateConnectorDetails/"+id; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	for _, want := range []string{`"connectorName":null`, `"machineName":"host-1"`, `"enrollmentDateTime":"0001-01-01T00:00:00Z"`,
		`"lastCheckinDateTime":"0001-01-01T00:00:00Z"`, `"connectorVersion":null`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("created entity lacks %s: %s", want, body)
		}
	}
	item := collection + "/" + id

	res, got := s.do(t, "GET", strings.TrimPrefix(res.Header.Get("Location"), publicURL[:len(publicURL)-len("/beta")]), nil, nil)
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Errorf("GET Location: %d %s, want the POST's body %s", res.StatusCode, got, body)
	}
	etag := res.Header.Get("ETag")

	res, patched := s.do(t, "PATCH", item, jsonHdr("If-Match", etag), []byte(`{"connectorName":"renamed","enrollmentDateTime":"2024-02-29T12:00:00.5+05:30"}`))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %d %s", res.StatusCode, patched)
	}
	for _, want := range []string{`"connectorName":"renamed"`, `"machineName":"host-1"`, `"enrollmentDateTime":"2024-02-29T12:00:00.5+05:30"`} {
		if !bytes.Contains(patched, []byte(want)) {
			t.Errorf("patched entity lacks %s: %s", want, patched)
		}
	}
	if res.Header.Get("ETag") == etag {
		t.Errorf("ETag %s did not change", etag)
	}

	// The ETag the client held is stale now.
	res, body = s.do(t, "PATCH", item, jsonHdr("If-Match", etag), []byte(`{"connectorName":"lost update"}`))
	if res.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("PATCH with a stale If-Match: %d %s", res.StatusCode, body)
	}
	res, body = s.do(t, "DELETE", item, hdr("If-Match", etag), nil)
	if res.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("DELETE with a stale If-Match: %d %s", res.StatusCode, body)
	}
	res, body = s.do(t, "PATCH", item, jsonHdr("Prefer", "return=minimal"), []byte(`{"machineName":null}`))
	if res.StatusCode != http.StatusNoContent || len(body) != 0 || res.Header.Get("Preference-Applied") != "return=minimal" {
		t.Errorf("PATCH return=minimal: %d %q %v", res.StatusCode, body, res.Header)
	}

	res, body = s.do(t, "DELETE", item, nil, nil)
	if res.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Errorf("DELETE: %d %s", res.StatusCode, body)
	}
	for _, method := range []string{"GET", "DELETE"} {
		res, body = s.do(t, method, item, nil, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s after DELETE: %d %s", method, res.StatusCode, body)
		}
		checkEnvelope(t, res, body, odata.CodeResourceNotFound)
	}
	res, body = s.do(t, "PATCH", item, jsonHdr(), []byte(`{}`))
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("PATCH after DELETE: %d %s", res.StatusCode, body)
	}
}

// TestIntegrationKeyForms checks that the GUID in upper case and the parenthesised form address the same row.
func TestIntegrationKeyForms(t *testing.T) {
	t.Parallel()
	s := newPGServer(t)
	s.importRow(t, seedRow(t))
	upper := strings.ToUpper(seedID)
	for i, path := range []string{
		collection + "/" + upper,
		collection + "('" + seedID + "')",
		collection + "('" + upper + "')",
	} {
		name := "name " + string(rune('a'+i))
		res, body := s.do(t, "PATCH", path, jsonHdr(), []byte(`{"connectorName":"`+name+`"}`))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", path, res.StatusCode, body)
		}
		if !bytes.Contains(body, []byte(`"id":"`+seedID+`"`)) {
			t.Errorf("PATCH %s answered with another id: %s", path, body)
		}
		row, _ := s.row(t, seedID)
		if row.Get("connectorName").Str != name || row.Version != int64(i+2) {
			t.Errorf("after PATCH %s the row is %+v", path, row)
		}
		res, got := s.do(t, "GET", path, nil, nil)
		if res.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
			t.Errorf("GET %s: %d %s, want %s", path, res.StatusCode, got, body)
		}
	}
	res, body := s.do(t, "DELETE", collection+"/"+upper, nil, nil)
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE upper case: %d %s", res.StatusCode, body)
	}
	if _, ok := s.row(t, seedID); ok {
		t.Error("DELETE with the upper-case key left the row")
	}
}

// TestIntegrationRejectedRequests runs every table case that the store must not see change against PostgreSQL:
// each answer is the unit test's golden byte for byte, and the seed's row is exactly as before, version
// included, so no rejected PATCH wrote part of itself.
func TestIntegrationRejectedRequests(t *testing.T) {
	t.Parallel()
	s := newPGServer(t)
	s.importRow(t, seedRow(t))
	want, _ := s.row(t, seedID)
	n := 0
	for _, tc := range apiCases(t) {
		if tc.fakeOnly || tc.status < 400 {
			continue
		}
		n++
		t.Run(tc.name, func(t *testing.T) {
			res, body := s.send(t, &tc)
			checkResult(t, result{res: res, body: body, wants: tc, row: func() (odata.Entity, bool) { return s.row(t, seedID) }})
			if got, ok := s.row(t, seedID); !ok || !reflect.DeepEqual(got, want) {
				t.Fatalf("the row changed:\nbefore %+v\nafter  %+v", want, got)
			}
		})
	}
	t.Logf("%d rejected requests left the row unchanged", n)
}

// TestIntegrationAcceptedRequests runs the table's successful cases that need no fake against PostgreSQL, one
// after another on one database, each on a freshly inserted copy of the seed's row (version 1), and compares
// them with the same goldens as the unit test.
func TestIntegrationAcceptedRequests(t *testing.T) {
	t.Parallel()
	s := newPGServer(t)
	for _, tc := range apiCases(t) {
		if tc.fakeOnly || tc.status >= 400 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			err := s.store.Delete(t.Context(), connSet, odata.DevTenantID, seedID, store.Precondition{})
			if err != nil && !errors.Is(err, odata.ErrNotFound) {
				t.Fatal(err)
			}
			s.importRow(t, seedRow(t))
			res, body := s.send(t, &tc)
			checkResult(t, result{res: res, body: body, wants: tc, row: func() (odata.Entity, bool) { return s.row(t, seedID) }})
		})
	}
}

// TestIntegrationClientDisconnect checks that a client that goes away while its PATCH waits in PostgreSQL (here
// for a row lock another transaction holds) is logged as 499, not as a server error, and that the statement is
// cancelled in PostgreSQL too: once the lock is released, nothing of the PATCH lands.
func TestIntegrationClientDisconnect(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	s := newPGServerLogging(t, &logs)
	s.importRow(t, seedRow(t))
	want, _ := s.row(t, seedID)

	ctx := t.Context()
	tx, err := s.store.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT 1 FROM certificate_connector_details WHERE id = $1 FOR UPDATE", seedID); err != nil {
		t.Fatal(err)
	}
	lockWaiters := func() int {
		t.Helper()
		var n int
		err := s.store.Pool().QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting until %s", what)
			}
		}
	}

	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"connectorName":"never"}`
	if _, err := fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", seedItem, len(body), body); err != nil {
		t.Fatal(err)
	}
	waitFor("the PATCH's UPDATE waits for the lock", func() bool { return lockWaiters() > 0 })
	conn.Close()
	logged := waitForLog(t, &logs)
	if !strings.Contains(logged, "status=499") || strings.Contains(logged, "level=ERROR") {
		t.Errorf("want one access line with status=499 and no error:\n%s", logged)
	}
	// pgx cancels the statement with a cancel request sent after the handler has returned; until it lands the
	// UPDATE still waits, and releasing the lock before then would let it commit.
	waitFor("the abandoned UPDATE is cancelled in PostgreSQL", func() bool { return lockWaiters() == 0 })
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.row(t, seedID); !reflect.DeepEqual(got, want) {
		t.Errorf("the abandoned PATCH wrote: the row is now %+v", got)
	}
}
