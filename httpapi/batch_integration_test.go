package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// Atomicity groups on PostgreSQL (issue 10 item 5): a group's requests run in order on one transaction, and
// either all of them apply or none does.

// The rows of the group tests, besides the seed's (rowA).
const (
	rowA = seedID
	rowB = "bbbbbbbb-1111-4222-8333-444455556666"
	rowC = "cccccccc-1111-4222-8333-444455556666"
)

// openBatchStore is a store on a database of the test's own: options as given, the seed's row as rowA and
// two more (rowB, rowC). dsnParams are run-time parameters for every connection.
func openBatchStore(t *testing.T, opts store.Options, dsnParams ...string) *store.Store {
	t.Helper()
	dsn := storetest.URL(t)
	for _, p := range dsnParams {
		switch {
		case !strings.Contains(dsn, "://"):
			dsn += " " + p
		case strings.Contains(dsn, "?"):
			dsn += "&" + p
		default:
			dsn += "?" + p
		}
	}
	st, err := store.Open(t.Context(), dsn, opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	rows := []odata.Entity{seedRow(t)}
	for _, id := range []string{rowB, rowC} {
		e := seedRow(t)
		e.Set("id", odata.Str(id))
		rows = append(rows, e)
	}
	importEntities(t, st, odata.DevTenantID, rows)
	return st
}

// stored reads a connector of the development tenant; ok is false when it does not exist.
func stored(t *testing.T, st *store.Store, id string) (odata.Entity, bool) {
	t.Helper()
	e, err := st.Get(context.WithoutCancel(t.Context()), connSet, odata.DevTenantID, id)
	if err != nil {
		return odata.Entity{}, false
	}
	return e, true
}

// connectorCount is how many connectors the development tenant has.
func connectorCount(t *testing.T, st *store.Store) int64 {
	t.Helper()
	res, err := st.List(t.Context(), connSet, odata.DevTenantID, store.ListRequest{Query: odata.Query{Count: true}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Count
}

func patchRow(id, stepID, body string, members ...string) string {
	return step(stepID, "PATCH", relCollection+"/"+id, append([]string{stepHeaders("Content-Type", "application/json"), stepBody(body)}, members...)...)
}

func TestIntegrationBatchGroups(t *testing.T) {
	t.Parallel()
	untouched := map[string]string{rowA: "Old connector", rowB: "Old connector", rowC: "Old connector"}
	tests := []struct {
		name  string
		batch string
		want  map[string]int
		// names are the rows' connectorNames afterwards; versions their versions (1 = untouched).
		names    map[string]string
		versions map[string]int64
		count    int64 // connectors afterwards
		golden   bool
		check    func(t *testing.T, got batchResult)
	}{
		{name: "Commits", batch: batchOf(
			patchRow(rowA, "a1", `{"connectorName":"a"}`, inGroup("g")),
			patchRow(rowB, "a2", `{"connectorName":"b"}`, inGroup("g")),
			step("a3", "GET", relSeed+"?$select=connectorName", inGroup("g")),
			step("x", "GET", relCollection+"/"+rowB+"?$select=connectorName", dependsOn("g")),
		), want: map[string]int{"a1": 200, "a2": 200, "a3": 200, "x": 200},
			names: map[string]string{rowA: "a", rowB: "b", rowC: "Old connector"}, versions: map[string]int64{rowA: 2, rowB: 2, rowC: 1}, count: 3,
			golden: true},
		{name: "StaleIfMatchInTheMiddle", batch: batchOf(
			patchRow(rowA, "a1", `{"connectorName":"a"}`, inGroup("g")),
			patchRow(rowB, "a2", `{"connectorName":"b"}`, inGroup("g"), stepHeaders("Content-Type", "application/json", "If-Match", `W/"9"`)),
			patchRow(rowC, "a3", `{"connectorName":"c"}`, inGroup("g")),
		), want: map[string]int{"a1": 424, "a2": 412, "a3": 424},
			names: untouched, versions: map[string]int64{rowA: 1, rowB: 1, rowC: 1}, count: 3, golden: true},
		{name: "NotFoundInTheMiddle", batch: batchOf(
			patchRow(rowA, "a1", `{"connectorName":"a"}`, inGroup("g")),
			patchRow(missingID, "a2", `{"connectorName":"b"}`, inGroup("g")),
			step("a3", "DELETE", relCollection+"/"+rowC, inGroup("g")),
		), want: map[string]int{"a1": 424, "a2": 404, "a3": 424},
			names: untouched, versions: map[string]int64{rowA: 1, rowB: 1, rowC: 1}, count: 3, golden: true},
		{name: "FailureAtTheEnd", batch: batchOf(
			step("a1", "DELETE", relCollection+"/"+rowC, inGroup("g")),
			step("a2", "POST", relCollection, inGroup("g"), stepHeaders("Content-Type", "application/json"), stepBody(`{"connectorName":"created"}`)),
			patchRow(rowA, "a3", `{"connectorName":"a"}`, inGroup("g")),
			step("a4", "PATCH", relSeed, inGroup("g"), stepHeaders("Content-Type", "application/json"), stepBody(`{"nope":1}`)),
		), want: map[string]int{"a1": 424, "a2": 424, "a3": 424, "a4": 400},
			names: untouched, versions: map[string]int64{rowA: 1, rowB: 1, rowC: 1}, count: 3},
		{name: "ReadsItsOwnWrites", batch: batchOf(
			step("a1", "POST", relCollection, inGroup("g"), stepHeaders("Content-Type", "application/json"), stepBody(`{"connectorName":"created"}`)),
			step("a2", "DELETE", relCollection+"/"+rowC, inGroup("g")),
			step("a3", "GET", relCollection+"?$filter=connectorName eq 'created'&$select=connectorName", inGroup("g")),
			step("a4", "GET", relCollection+"/$count", inGroup("g")),
		), want: map[string]int{"a1": 201, "a2": 204, "a3": 200, "a4": 200},
			names: map[string]string{rowA: "Old connector", rowB: "Old connector"}, versions: map[string]int64{rowA: 1, rowB: 1}, count: 3,
			check: func(t *testing.T, got batchResult) {
				if s := got.get(t, "a3"); !strings.Contains(string(s.Body), `"connectorName":"created"`) {
					t.Errorf("the group's read does not see its create: %s", s.Body)
				}
				if s := got.get(t, "a4"); string(s.content(t)) != "3" {
					t.Errorf("the group's count %s, want 3 (one created, one deleted)", s.Body)
				}
			}},
		{name: "DependsOnFailedGroup", batch: batchOf(
			patchRow(rowA, "a1", `{"connectorName":"a"}`, inGroup("g1")),
			step("a2", "GET", relMissing, inGroup("g1")),
			step("x", "GET", relSeed, dependsOn("g1")),
			patchRow(rowB, "b1", `{"connectorName":"b"}`, inGroup("g2"), dependsOn("a1")),
			patchRow(rowC, "b2", `{"connectorName":"c"}`, inGroup("g2")),
			patchRow(rowC, "y", `{"connectorName":"y"}`, dependsOn("g2")),
			step("z", "GET", relCollection+"/"+rowB+"?$select=connectorName"),
		), want: map[string]int{"a1": 424, "a2": 404, "x": 424, "b1": 424, "b2": 424, "y": 424, "z": 200},
			names: untouched, versions: map[string]int64{rowA: 1, rowB: 1, rowC: 1}, count: 3, golden: true},
		{name: "DependsOnCommittedGroup", batch: batchOf(
			patchRow(rowA, "a1", `{"connectorName":"first"}`, inGroup("g1")),
			step("b1", "GET", relSeed+"?$select=connectorName", inGroup("g2"), dependsOn("g1")),
			patchRow(rowA, "b2", `{"connectorName":"second"}`, inGroup("g2"), stepHeaders("Content-Type", "application/json", "If-Match", `W/"2"`)),
			step("c", "GET", relSeed+"?$select=connectorName", dependsOn("b2")),
		), want: map[string]int{"a1": 200, "b1": 200, "b2": 200, "c": 200},
			names: map[string]string{rowA: "second"}, versions: map[string]int64{rowA: 3}, count: 3,
			check: func(t *testing.T, got batchResult) {
				if s := got.get(t, "b1"); !strings.Contains(string(s.Body), `"first"`) {
					t.Errorf("g2 ran before g1: %s", s.Body)
				}
				if s := got.get(t, "c"); !strings.Contains(string(s.Body), `"second"`) || s.header("ETag") != `W/"3"` {
					t.Errorf("c ran before g2: %s", s.Body)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openBatchStore(t, store.Options{})
			h := batchServer(t, st, nil, nil)
			res, body := postBatch(t, h, tc.batch)
			got := readBatch(t, res, body)
			if !reflect.DeepEqual(got.statuses(), tc.want) {
				t.Errorf("statuses %v, want %v\n%s", got.statuses(), tc.want, body)
			}
			for _, s := range got.steps {
				wantGroup := strings.HasPrefix(s.ID, "a") || strings.HasPrefix(s.ID, "b")
				if wantGroup != (s.AtomicityGroup != nil) {
					t.Errorf("step %s: atomicityGroup %v", s.ID, s.AtomicityGroup)
				}
			}
			for id, name := range tc.names {
				e, ok := stored(t, st, id)
				if !ok || e.Get("connectorName").Str != name || e.Version != tc.versions[id] {
					t.Errorf("row %s: exists %v, connectorName %q version %d; want %q version %d", id, ok, e.Get("connectorName").Str, e.Version, name, tc.versions[id])
				}
			}
			if n := connectorCount(t, st); n != tc.count {
				t.Errorf("%d connectors, want %d", n, tc.count)
			}
			if tc.golden {
				checkGolden(t, "BatchGroup"+tc.name, render(res, body))
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

// rendezvousStore is the store with a way to force a deadlock: while a rendezvous is armed, the first two
// transactions that update a row each wait, after that update, for the other to have made its own. Two groups
// that then update each other's row deadlock for certain. It counts the transactions begun.
type rendezvousStore struct {
	*store.Store
	txs  atomic.Int32
	mu   sync.Mutex
	meet *rendezvous
}

type rendezvous struct {
	arrived atomic.Int32
	all     chan struct{}
}

type txMarkKey struct{}

// txMark notes whether a transaction has made its first update.
type txMark struct{ updated bool }

func (s *rendezvousStore) arm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meet = &rendezvous{all: make(chan struct{})}
}

func (s *rendezvousStore) disarm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meet = nil
}

func (s *rendezvousStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	s.txs.Add(1)
	return s.Store.InTx(ctx, func(ctx context.Context) error { return fn(context.WithValue(ctx, txMarkKey{}, &txMark{})) })
}

func (s *rendezvousStore) Update(ctx context.Context, set *odata.EntitySet, tenant, key string, p *odata.Patch, cond store.Precondition, now odata.DateTimeOffset) (odata.Entity, error) {
	e, err := s.Store.Update(ctx, set, tenant, key, p, cond, now)
	m, _ := ctx.Value(txMarkKey{}).(*txMark)
	if err != nil || m == nil || m.updated {
		return e, err
	}
	m.updated = true
	s.mu.Lock()
	meet := s.meet
	s.mu.Unlock()
	if meet == nil {
		return e, err
	}
	switch n := meet.arrived.Add(1); {
	case n == 2:
		close(meet.all)
	case n < 2:
		select {
		case <-meet.all:
		case <-time.After(5 * time.Second):
		}
	}
	return e, err
}

// TestIntegrationBatchDeadlock: two batches at once, each with a group updating the same two rows in opposite
// order, many times over, some forced into a deadlock. The victim's group runs again (up to three times, then
// 503 with Retry-After); every group either fully applied or not at all, and the rows always agree.
func TestIntegrationBatchDeadlock(t *testing.T) {
	t.Parallel()
	// PostgreSQL looks for deadlocks after deadlock_timeout (1 s by default); a test that makes many can look
	// sooner.
	st := &rendezvousStore{Store: openBatchStore(t, store.Options{}, "deadlock_timeout=50ms")}
	var logs logBuffer
	h := batchServer(t, st, &logs, nil)
	const forced, free = 8, 30
	versions := func() (a, b odata.Entity) {
		a, _ = stored(t, st.Store, rowA)
		b, _ = stored(t, st.Store, rowB)
		return a, b
	}
	retried := 0
	for i := range forced + free {
		if i < forced {
			st.arm()
		} else {
			st.disarm()
		}
		txsBefore := st.txs.Load()
		a0, b0 := versions()
		tags := [2]string{fmt.Sprintf("round %d batch 0", i), fmt.Sprintf("round %d batch 1", i)}
		order := [2][2]string{{rowA, rowB}, {rowB, rowA}}
		type result struct {
			res  *http.Response
			body []byte
		}
		var results [2]result
		var wg sync.WaitGroup
		for k := range 2 {
			wg.Go(func() {
				body := `{"connectorName":` + jsonText(tags[k]) + `}`
				res, b := postBatch(t, h, batchOf(
					patchRow(order[k][0], "first", body, inGroup("g")),
					patchRow(order[k][1], "second", body, inGroup("g")),
				))
				results[k] = result{res, b}
			})
		}
		wg.Wait()
		var committed []string
		for k, r := range results {
			got := readBatch(t, r.res, r.body)
			codes := got.statuses()
			switch {
			case codes["first"] == 200 && codes["second"] == 200:
				committed = append(committed, tags[k])
			case codes["first"] == 503 && codes["second"] == 503:
				for _, s := range got.steps {
					if s.header("Retry-After") == "" {
						t.Errorf("round %d: 503 without Retry-After: %v", i, s.Headers)
					}
				}
			default:
				t.Errorf("round %d batch %d: statuses %v: a group neither applied nor refused as a whole\n%s", i, k, codes, r.body)
			}
		}
		a, b := versions()
		nameA, nameB := a.Get("connectorName").Str, b.Get("connectorName").Str
		if nameA != nameB {
			t.Errorf("round %d: the rows disagree: %q and %q (a group applied in part)", i, nameA, nameB)
		}
		if a.Version-a0.Version != int64(len(committed)) || b.Version-b0.Version != int64(len(committed)) {
			t.Errorf("round %d: versions went %d→%d and %d→%d for %d committed groups", i, a0.Version, a.Version, b0.Version, b.Version, len(committed))
		}
		if len(committed) > 0 && !slices.Contains(committed, nameA) {
			t.Errorf("round %d: the rows hold %q, from no committed group (%v)", i, nameA, committed)
		}
		if len(committed) == 0 && nameA != a0.Get("connectorName").Str {
			t.Errorf("round %d: no group committed, yet the rows changed to %q", i, nameA)
		}
		if txs := st.txs.Load() - txsBefore; txs > 2 {
			retried++
		} else if i < forced {
			t.Errorf("round %d: forced into a deadlock, yet %d transactions ran (no retry)", i, txs)
		}
	}
	if !strings.Contains(logs.String(), "40P01") {
		t.Error("no deadlock reached the log: the test did not provoke one")
	}
	t.Logf("%d of %d rounds retried a group", retried, forced+free)
}

// TestIntegrationBatchOneConnection: nothing a group runs takes a second connection. With a pool of one, a
// request that did (Update's 412, 404 and 400 paths, an empty PATCH, a page whose cursor is stored, following
// it) would wait for ever, here until the request deadline turns it into a 503.
func TestIntegrationBatchOneConnection(t *testing.T) {
	t.Parallel()
	st := openBatchStore(t, store.Options{MaxConns: 1})
	importEntities(t, st, odata.DevTenantID, []odata.Entity{aliceRow(t)})
	// Rows whose long names make the cursor of an ordered page too long to travel in the token.
	long := strings.Repeat("n", store.MaxInlineCursor+100)
	for i, id := range []string{rowB, rowC} {
		p := odata.NewPatch(connSet.Type)
		p.SetName("connectorName", odata.Str(long+fmt.Sprint(i)))
		if _, err := st.Update(t.Context(), connSet, odata.DevTenantID, id, &p, store.Precondition{}, odata.FromTime(pinnedNow)); err != nil {
			t.Fatal(err)
		}
	}
	h := batchServer(t, st, nil, func(c *httpapi.Config) { c.RequestTimeout = 10 * time.Second })
	pfxPath := strings.TrimPrefix(pfxItem, "/beta")
	orderedPage := relCollection + "?$orderby=connectorName desc&$top=1&$select=id"

	send := func(t *testing.T, batch string, want map[string]int) batchResult {
		t.Helper()
		start := time.Now()
		got := sendBatch(t, h, batch)
		if !reflect.DeepEqual(got.statuses(), want) {
			t.Errorf("statuses %v, want %v", got.statuses(), want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the batch took %v: something waited for a connection", d)
		}
		return got
	}
	t.Run("EmptyPatchAndStaleIfMatch", func(t *testing.T) {
		send(t, batchOf(
			patchRow(rowA, "a1", `{}`, inGroup("g")),
			patchRow(rowA, "a2", `{"connectorName":"x"}`, inGroup("g"), stepHeaders("Content-Type", "application/json", "If-Match", `W/"9"`)),
		), map[string]int{"a1": 424, "a2": 412})
	})
	t.Run("ImmutableProperty", func(t *testing.T) {
		send(t, batchOf(
			step("a1", "PATCH", pfxPath, inGroup("g"), stepHeaders("Content-Type", "application/json"), stepBody(`{}`)),
			step("a2", "PATCH", pfxPath, inGroup("g"), stepHeaders("Content-Type", "application/json"), stepBody(`{"thumbprint":"FFFF"}`)),
		), map[string]int{"a1": 424, "a2": 400})
	})
	t.Run("NotFoundAndDeleteStale", func(t *testing.T) {
		send(t, batchOf(
			patchRow(missingID, "a1", `{"connectorName":"x"}`, inGroup("g1")),
			step("b1", "DELETE", relSeed, inGroup("g2"), stepHeaders("If-Match", `W/"9"`)),
			step("c1", "DELETE", relMissing, inGroup("g3")),
		), map[string]int{"a1": 404, "b1": 412, "c1": 404})
	})
	t.Run("StoredCursor", func(t *testing.T) {
		got := send(t, batchOf(
			patchRow(rowA, "a1", `{}`, inGroup("g")),
			step("a2", "GET", orderedPage, inGroup("g")),
			step("x", "GET", relSeed),
			step("y", "GET", relCollection+"/$count"),
		), map[string]int{"a1": 200, "a2": 200, "x": 200, "y": 200})
		var page struct {
			NextLink string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(got.get(t, "a2").Body, &page); err != nil || !strings.Contains(page.NextLink, "skiptoken=s.") {
			t.Fatalf("no stored cursor in the page's nextLink: %s", got.get(t, "a2").Body)
		}
		next := send(t, batchOf(
			step("a1", "GET", page.NextLink, inGroup("g")),
			patchRow(rowA, "a2", `{"connectorVersion":"2.0"}`, inGroup("g")),
		), map[string]int{"a1": 200, "a2": 200})
		if !strings.Contains(string(next.get(t, "a1").Body), rowB) {
			t.Errorf("the second page: %s", next.get(t, "a1").Body)
		}
	})
	t.Run("ConcurrentGroupsOnTheSameRows", func(t *testing.T) {
		var wg sync.WaitGroup
		results := make([][]byte, 6)
		statuses := make([]int, 6)
		for k := range results {
			wg.Go(func() {
				first, second := rowA, rowB
				if k%2 == 1 {
					first, second = rowB, rowA
				}
				body := fmt.Sprintf(`{"machineName":"batch %d"}`, k)
				res, b := postBatch(t, h, batchOf(
					patchRow(first, "a1", body, inGroup("g")),
					patchRow(second, "a2", body, inGroup("g")),
					step("x", "GET", relCollection+"/"+second),
				))
				statuses[k], results[k] = res.StatusCode, b
			})
		}
		wg.Wait()
		for k, b := range results {
			if statuses[k] != 200 {
				t.Fatalf("batch %d: %d %s", k, statuses[k], b)
			}
			got := readBatch(t, &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"},
				"request-id": {pinnedRequestID}}}, b)
			if !reflect.DeepEqual(got.statuses(), map[string]int{"a1": 200, "a2": 200, "x": 200}) {
				t.Errorf("batch %d: %v", k, got.statuses())
			}
		}
		a, _ := stored(t, st, rowA)
		b, _ := stored(t, st, rowB)
		if a.Get("machineName").Str != b.Get("machineName").Str {
			t.Errorf("the rows disagree: %q and %q", a.Get("machineName").Str, b.Get("machineName").Str)
		}
	})
}
