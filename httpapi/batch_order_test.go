package httpapi_test

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5/pgconn"
)

// Order and dependencies (issue 10 item 3): a request runs after what it depends on, not at all when that failed
// (424, transitively), and independent requests run concurrently, at most httpapi.BatchParallelism at a time.

func TestBatchFailedDependency(t *testing.T) {
	t.Parallel()
	probe := seededProbe(t)
	h := batchServer(t, probe, nil, nil)
	res, body := postBatch(t, h, batchOf(
		step("1", "GET", relMissing),
		patchStep("2", `{"connectorName":"after a failure"}`, dependsOn("1")),
		step("3", "GET", relSeed, dependsOn("2")),
		step("4", "GET", relSeed+"?$select=connectorName"),
		step("5", "GET", relSeed, dependsOn("4", "1")),
		patchStep("6", `{"connectorName":"after a success"}`, dependsOn("4")),
	))
	got := readBatch(t, res, body)
	want := map[string]int{"1": 404, "2": 424, "3": 424, "4": 200, "5": 424, "6": 200}
	if !reflect.DeepEqual(got.statuses(), want) {
		t.Fatalf("statuses %v, want %v", got.statuses(), want)
	}
	for _, id := range []string{"2", "3", "5"} {
		if code := stepCode(t, got.get(t, id)); code != "FailedDependency" {
			t.Errorf("step %s: code %q, want FailedDependency", id, code)
		}
	}
	checkGolden(t, "BatchFailedDependency", render(res, body))
	var patches []string
	for _, c := range probe.log() {
		if strings.HasPrefix(c, "PATCH") {
			patches = append(patches, c)
		}
	}
	if len(patches) != 1 {
		t.Errorf("patches %v: only request 6 may have run", patches)
	}
	if e, _ := probe.row(odata.DevTenantID, seedID); e.Get("connectorName").Str != "after a success" {
		t.Errorf("connectorName %q", e.Get("connectorName").Str)
	}
}

// TestBatchDependencyOrder: a chain runs in its order, one at a time, and each request sees the one before.
func TestBatchDependencyOrder(t *testing.T) {
	t.Parallel()
	probe := seededProbe(t)
	probe.delay = time.Millisecond
	h := batchServer(t, probe, nil, nil)
	var reqs, wantLog []string
	for i := 1; i <= httpapi.MaxBatchRequests; i++ {
		var deps []string
		if i > 1 {
			deps = append(deps, dependsOn(fmt.Sprint(i-1)))
		}
		reqs = append(reqs, patchStep(fmt.Sprint(i), fmt.Sprintf(`{"connectorVersion":"%d"}`, i), deps...))
		wantLog = append(wantLog, "PATCH "+seedID)
	}
	got := sendBatch(t, h, batchOf(reqs...))
	for i, s := range got.steps {
		if s.Status != 200 || !strings.Contains(string(s.Body), fmt.Sprintf(`"connectorVersion":"%d"`, i+1)) ||
			s.header("ETag") != fmt.Sprintf(`W/"%d"`, i+2) {
			t.Errorf("step %s: %d %s %s", s.ID, s.Status, s.header("ETag"), s.Body)
		}
	}
	if max := probe.maxConcurrent(); !reflect.DeepEqual(probe.log(), wantLog) || max != 1 {
		t.Errorf("calls %v, %d at once; want %d PATCHes one at a time", probe.log(), max, len(wantLog))
	}
}

// TestBatchParallelism: independent requests run concurrently, never more than BatchParallelism at once; an
// atomicity group takes one place, and a request waiting for its dependencies takes none.
func TestBatchParallelism(t *testing.T) {
	t.Parallel()
	n := httpapi.BatchParallelism
	independent := make([]string, httpapi.MaxBatchRequests)
	for i := range independent {
		independent[i] = step(fmt.Sprint(i+1), "GET", relSeed)
	}
	// Groups of five requests each, and requests that wait for them.
	var grouped []string
	for g := range n {
		for i := range 4 {
			grouped = append(grouped, step(fmt.Sprintf("g%d-%d", g, i), "GET", relSeed, inGroup(fmt.Sprintf("group%d", g))))
		}
	}
	for g := range n {
		grouped = append(grouped, step(fmt.Sprintf("after%d", g), "GET", relSeed, dependsOn(fmt.Sprintf("group%d", g))))
	}
	tests := []struct {
		name  string
		batch string
	}{
		{"Independent", batchOf(independent...)},
		{"Groups", batchOf(grouped...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			probe := seededProbe(t)
			probe.gate = n
			probe.delay = 5 * time.Millisecond
			h := batchServer(t, probe, nil, nil)
			got := sendBatch(t, h, tc.batch)
			for _, s := range got.steps {
				if s.Status != 200 {
					t.Errorf("step %s: %d", s.ID, s.Status)
				}
			}
			probe.mu.Lock()
			defer probe.mu.Unlock()
			if probe.maxInFlight != n || probe.gateTimeout {
				t.Errorf("%d store calls at once (gate timed out: %v), want exactly %d", probe.maxInFlight, probe.gateTimeout, n)
			}
			if len(probe.calls) != httpapi.MaxBatchRequests {
				t.Errorf("%d calls, want %d", len(probe.calls), httpapi.MaxBatchRequests)
			}
		})
	}
}

// TestBatchGroupOrderAndDependsOn: a group's requests run in order, one at a time; dependsOn may name a group
// or one of its requests, and a request that does waits for the whole group; a failed group fails its
// dependents.
func TestBatchGroupOrderAndDependsOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		batch string
		want  map[string]int
		// patched is the seed's connectorName afterwards (the fake store has no transactions).
		patched string
		// after lists ids whose store call must come after every call of the group.
		after []string
	}{
		{name: "DependsOnGroup", batch: batchOf(
			patchStep("a1", `{"connectorName":"g1"}`, inGroup("g")),
			step("a2", "GET", relSeed, inGroup("g")),
			step("x", "GET", relSeed+"?$select=connectorName", dependsOn("g")),
			step("y", "GET", relSeed+"?$select=machineName", dependsOn("a1")),
		), want: map[string]int{"a1": 200, "a2": 200, "x": 200, "y": 200}, patched: "g1"},
		// y names a request of the group just before it: it waits for the whole group, whose PATCH is slow.
		{name: "DependsOnGroupMember", batch: batchOf(
			patchStep("a1", `{"connectorName":"g1"}`, inGroup("g")),
			step("a2", "GET", relSeed+"?$select=id", inGroup("g")),
			step("y", "GET", relSeed+"?$select=machineName", dependsOn("a1")),
		), want: map[string]int{"a1": 200, "a2": 200, "y": 200}, patched: "g1"},
		{name: "GroupAfterGroup", batch: batchOf(
			patchStep("a1", `{"connectorName":"first"}`, inGroup("g1")),
			patchStep("b1", `{"connectorName":"second"}`, inGroup("g2"), dependsOn("g1")),
			step("b2", "GET", relSeed, inGroup("g2")),
		), want: map[string]int{"a1": 200, "b1": 200, "b2": 200}, patched: "second"},
		{name: "FailedGroup", batch: batchOf(
			step("a1", "GET", relSeed, inGroup("g")),
			step("a2", "PATCH", relMissing, inGroup("g"), stepHeaders("Content-Type", "application/json"), stepBody(`{}`)),
			patchStep("a3", `{"connectorName":"not run"}`, inGroup("g")),
			step("x", "GET", relSeed, dependsOn("g")),
			step("y", "GET", relSeed, dependsOn("a1")),
			step("z", "GET", relSeed),
		), want: map[string]int{"a1": 424, "a2": 404, "a3": 424, "x": 424, "y": 424, "z": 200}, patched: "Old connector"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			probe := seededProbe(t)
			probe.opDelay = map[string]time.Duration{"PATCH": 50 * time.Millisecond}
			h := batchServer(t, probe, nil, nil)
			res, body := postBatch(t, h, tc.batch)
			got := readBatch(t, res, body)
			if !reflect.DeepEqual(got.statuses(), tc.want) {
				t.Errorf("statuses %v, want %v", got.statuses(), tc.want)
			}
			for _, s := range got.steps {
				inGroup := strings.HasPrefix(s.ID, "a") || strings.HasPrefix(s.ID, "b")
				if inGroup != (s.AtomicityGroup != nil) {
					t.Errorf("step %s: atomicityGroup %v", s.ID, s.AtomicityGroup)
				}
			}
			if e, _ := probe.row(odata.DevTenantID, seedID); e.Get("connectorName").Str != tc.patched {
				t.Errorf("connectorName %q, want %q", e.Get("connectorName").Str, tc.patched)
			}
			if tc.name == "FailedGroup" {
				checkGolden(t, "BatchGroupFailed", render(res, body))
				if slices.Contains(probe.log(), "PATCH "+seedID) {
					t.Errorf("a request after the group's failure ran: %v", probe.log())
				}
			}
			// Requests that depend on a group read its write: they ran after it.
			for _, id := range []string{"x", "y"} {
				if s, ok := got.byID[id]; ok && s.Status == 200 && s.header("ETag") != `W/"2"` {
					t.Errorf("%s ran before the group finished: %s", id, s.Body)
				}
			}
		})
	}
}

// deadlock is the error PostgreSQL gives the victim of a deadlock, as the store passes it on.
var deadlock = &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}

// TestBatchGroupRetry: a group whose request meets a deadlock or serialization failure runs again from its
// start, at most httpapi.GroupAttempts times, then every request of the group answers 503 with Retry-After.
// Throttling counts each request once, whatever the attempts: the tenant's bucket holds one token for each
// request that runs, and a retry that took tokens again would meet 429.
func TestBatchGroupRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		failures int // how often the group's PATCH fails before it passes
		err      error
		want     map[string]int
		runs     int // the requests that run at least once (a3 does not while a2 fails)
	}{
		{"Deadlock", httpapi.GroupAttempts, deadlock, map[string]int{"a1": 503, "a2": 503, "a3": 503, "b": 200}, 3},
		{"SerializationFailure", 99, &pgconn.PgError{Code: "40001"}, map[string]int{"a1": 503, "a2": 503, "a3": 503, "b": 200}, 3},
		{"PassesOnLastAttempt", httpapi.GroupAttempts - 1, deadlock, map[string]int{"a1": 200, "a2": 200, "a3": 200, "b": 200}, 4},
		{"PassesOnSecondAttempt", 1, deadlock, map[string]int{"a1": 200, "a2": 200, "a3": 200, "b": 200}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			probe := seededProbe(t)
			var mu sync.Mutex
			failed := 0
			probe.fail = func(op, key string) error {
				mu.Lock()
				defer mu.Unlock()
				if op == "PATCH" && failed < tc.failures {
					failed++
					return tc.err
				}
				return nil
			}
			h := batchServer(t, probe, nil, func(c *httpapi.Config) { c.RateLimit, c.RateBurst = 0.0001, tc.runs })
			res, body := postBatch(t, h, batchOf(
				step("a1", "GET", relSeed, inGroup("g")),
				patchStep("a2", `{"connectorName":"in the group"}`, inGroup("g")),
				step("a3", "GET", relSeed+"?$select=connectorName", inGroup("g")),
				step("b", "GET", relSeed+"?$select=id"),
			))
			got := readBatch(t, res, body)
			if !reflect.DeepEqual(got.statuses(), tc.want) {
				t.Fatalf("statuses %v, want %v", got.statuses(), tc.want)
			}
			attempts := 0
			for _, c := range probe.log() {
				if c == "PATCH "+seedID {
					attempts++
				}
			}
			if want := min(tc.failures+1, httpapi.GroupAttempts); attempts != want {
				t.Errorf("the group's PATCH ran %d times, want %d", attempts, want)
			}
			for _, id := range []string{"a1", "a2", "a3"} {
				s := got.get(t, id)
				if s.Status == 503 && (s.header("Retry-After") == "" || stepCode(t, s) != odata.CodeServiceNotAvailable) {
					t.Errorf("step %s: 503 without Retry-After or with another code: %v %s", id, s.Headers, s.Body)
				}
			}
			if tc.name == "Deadlock" {
				checkGolden(t, "BatchGroupDeadlock", render(res, body))
			}
			// The requests that ran took the bucket's tokens, once each.
			if res, _ := doHandler(t, h, http.MethodGet, "/beta"+relSeed, nil, nil); res.StatusCode != http.StatusTooManyRequests {
				t.Errorf("a request after the batch: %d, want 429 (the batch's requests took every token, once each)", res.StatusCode)
			}
		})
	}
}
