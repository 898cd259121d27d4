package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/graphd/graphd/migrations"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// The generic operations (Create, Get, Update, Delete, Import) on certificateConnectorDetails, the set with GUID
// keys; userpfx_test.go has the string-keyed set and toy_test.go a set the test defines.

func TestCreateGetLossless(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	p := seedPatch(t)
	created, err := s.Create(t.Context(), connectors, tenantA, &p, nowT)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := odata.ParseGUID(created.Key()); !ok || id != created.Key() {
		t.Fatalf("id %q is not a lower-case GUID", created.Key())
	}
	got, err := s.Get(t.Context(), connectors, tenantA, created.Key())
	if err != nil {
		t.Fatal(err)
	}
	if d := diffEntity(got, created); d != "" {
		t.Fatalf("Get differs from what Create returned:\n%s", d)
	}
	if e := got.Get("enrollmentDateTime").Time.String(); e != "2016-12-31T23:57:59.3726057-08:00" || got.Version != 1 {
		t.Fatalf("stored %s version %d", e, got.Version)
	}
	// Random keys: a second create with the same values is another entity.
	again, err := s.Create(t.Context(), connectors, tenantA, &p, nowT)
	if err != nil || again.Key() == created.Key() {
		t.Fatalf("second create: %s, %v", again.Key(), err)
	}
}

func TestCreateDefaults(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	p := odata.NewPatch(connectors.Type)
	c, err := s.Create(t.Context(), connectors, tenantA, &p, nowT)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), connectors, tenantA, c.Key())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"connectorName", "machineName", "connectorVersion"} {
		if !got.Get(name).Null {
			t.Errorf("%s = %q, want null", name, got.Get(name).Str)
		}
	}
	for _, name := range []string{"enrollmentDateTime", "lastCheckinDateTime"} {
		if v := got.Get(name); v.Null || v.Time != (odata.DateTimeOffset{}) || v.Time.String() != "0001-01-01T00:00:00Z" {
			t.Errorf("%s = %+v, want 0001-01-01T00:00:00Z", name, v)
		}
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		patch map[string]odata.Value
		check func(t *testing.T, c odata.Entity)
	}{
		{"OnlySuppliedColumnsChange", map[string]odata.Value{"machineName": odata.Str("m2")},
			func(t *testing.T, c odata.Entity) {
				if c.Get("machineName").Str != "m2" || c.Get("connectorName").Str != "Connector Name value" {
					t.Errorf("got %+v", c.Values)
				}
			}},
		{"NullClears", map[string]odata.Value{"connectorVersion": odata.Null},
			func(t *testing.T, c odata.Entity) {
				if !c.Get("connectorVersion").Null {
					t.Errorf("connectorVersion = %+v, want null", c.Get("connectorVersion"))
				}
			}},
		{"DateTimeOffsetKeepsOffset", map[string]odata.Value{
			"lastCheckinDateTime": odata.Time(mustTime(t, "2030-06-01T12:00:00.0000001+05:45"))},
			func(t *testing.T, c odata.Entity) {
				if got := c.Get("lastCheckinDateTime").Time.String(); got != "2030-06-01T12:00:00.0000001+05:45" {
					t.Errorf("lastCheckinDateTime = %s", got)
				}
			}},
		{"EmptyPatchChangesNothing", nil, func(t *testing.T, c odata.Entity) {
			if c.Version != 1 {
				t.Errorf("version = %d, want 1 (unchanged)", c.Version)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t)
			seed := importSeed(t, s, tenantA)
			p := patchOf(connectors.Type, tt.patch)
			got, err := s.Update(t.Context(), connectors, tenantA, seedID, &p, store.Precondition{}, nowT)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
			reread, err := s.Get(t.Context(), connectors, tenantA, seedID)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffEntity(reread, got); d != "" {
				t.Errorf("returned row differs from stored row:\n%s", d)
			}
			if p.Len() > 0 && got.Version != 2 {
				t.Errorf("version = %d, want 2", got.Version)
			}
			// Properties the patch does not name keep their values.
			for i := range connectors.Type.Properties {
				if !p.Has(odata.PropertyID(i)) && !got.Values[i].Equal(seed.Values[i], connectors.Type.Properties[i].Type) {
					t.Errorf("%s changed", connectors.Type.Properties[i].Name)
				}
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	importSeed(t, s, tenantA)
	p := seedPatch(t)
	empty := odata.NewPatch(connectors.Type)
	missing := "00000000-0000-0000-0000-000000000000"
	ctx := t.Context()
	for name, err := range map[string]error{
		"Get": func() error { _, err := s.Get(ctx, connectors, tenantA, missing); return err }(),
		"Update": func() error {
			_, err := s.Update(ctx, connectors, tenantA, missing, &p, store.Precondition{}, nowT)
			return err
		}(),
		"UpdateEmpty": func() error {
			_, err := s.Update(ctx, connectors, tenantA, missing, &empty, store.Precondition{}, nowT)
			return err
		}(),
		"Delete":         s.Delete(ctx, connectors, tenantA, missing, store.Precondition{}),
		"OtherTenantGet": func() error { _, err := s.Get(ctx, connectors, tenantB, seedID); return err }(),
		"OtherTenantUpdate": func() error {
			_, err := s.Update(ctx, connectors, tenantB, seedID, &p, store.Precondition{Set: true, Versions: []int64{1}}, nowT)
			return err
		}(),
		"OtherTenantDelete":            s.Delete(ctx, connectors, tenantB, seedID, store.Precondition{}),
		"OtherTenantDeleteConditional": s.Delete(ctx, connectors, tenantB, seedID, store.Precondition{Set: true, Versions: []int64{1}}),
		// The same key in the other set is another entity.
		"OtherSet": func() error { _, err := s.Get(ctx, userPfx, tenantA, seedID); return err }(),
	} {
		if !errors.Is(err, odata.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
	if c, err := s.Get(ctx, connectors, tenantA, seedID); err != nil || c.Version != 1 {
		t.Fatalf("tenant A's row changed: %+v, %v", c, err)
	}
}

func TestPreconditions(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	importSeed(t, s, tenantA)
	ctx := t.Context()
	p := patchOf(connectors.Type, map[string]odata.Value{"connectorName": odata.Str("new")})
	empty := odata.NewPatch(connectors.Type)
	stale := store.Precondition{Set: true, Versions: []int64{7}}
	if _, err := s.Update(ctx, connectors, tenantA, seedID, &p, stale, nowT); !errors.Is(err, odata.ErrPreconditionFailed) {
		t.Fatalf("stale update: %v", err)
	}
	if _, err := s.Update(ctx, connectors, tenantA, seedID, &empty, stale, nowT); !errors.Is(err, odata.ErrPreconditionFailed) {
		t.Fatalf("stale empty update: %v", err)
	}
	if err := s.Delete(ctx, connectors, tenantA, seedID, stale); !errors.Is(err, odata.ErrPreconditionFailed) {
		t.Fatalf("stale delete: %v", err)
	}
	// Set with no tag that can be ours (an If-Match of foreign tags) matches nothing.
	if _, err := s.Update(ctx, connectors, tenantA, seedID, &p, store.Precondition{Set: true}, nowT); !errors.Is(err, odata.ErrPreconditionFailed) {
		t.Fatalf("update with no usable tag: %v", err)
	}
	if c, err := s.Update(ctx, connectors, tenantA, seedID, &empty, store.Precondition{Set: true, Versions: []int64{1}}, nowT); err != nil || c.Version != 1 {
		t.Fatalf("matching empty update: %+v, %v", c, err)
	}
	c, err := s.Update(ctx, connectors, tenantA, seedID, &p, store.Precondition{Set: true, Versions: []int64{3, 1}}, nowT)
	if err != nil || c.Version != 2 || c.Get("connectorName").Str != "new" {
		t.Fatalf("matching update: %+v, %v", c, err)
	}
	// Two updates holding the same tag: exactly one wins.
	if _, err := s.Update(ctx, connectors, tenantA, seedID, &p, store.Precondition{Set: true, Versions: []int64{1}}, nowT); !errors.Is(err, odata.ErrPreconditionFailed) {
		t.Fatalf("second update with the same tag: %v", err)
	}
	if err := s.Delete(ctx, connectors, tenantA, seedID, store.Precondition{Set: true, Versions: []int64{2}}); err != nil {
		t.Fatalf("matching delete: %v", err)
	}
	if err := s.Delete(ctx, connectors, tenantA, seedID, store.Precondition{}); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("repeat delete: %v", err)
	}
	// 404 wins over 412.
	if _, err := s.Update(ctx, connectors, tenantA, seedID, &p, stale, nowT); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("stale update of a deleted row: %v", err)
	}
	if _, err := s.Update(ctx, connectors, tenantA, seedID, &empty, stale, nowT); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("stale empty update of a deleted row: %v", err)
	}
	if err := s.Delete(ctx, connectors, tenantA, seedID, stale); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("stale delete of a deleted row: %v", err)
	}
}

func TestImportReplacesAndIsAtomic(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	importSeed(t, s, tenantA)
	ctx := t.Context()
	// Re-importing replaces the row as the file states it: omitted properties take their defaults.
	replaced := map[string]odata.Value{"connectorName": odata.Str("replaced")}
	mustImport(t, s, tenantA, importSet([]odata.Entity{connector(seedID, replaced)}))
	c, err := s.Get(ctx, connectors, tenantA, seedID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Get("connectorName").Str != "replaced" || !c.Get("machineName").Null ||
		c.Get("enrollmentDateTime").Time != (odata.DateTimeOffset{}) || c.Version != 2 {
		t.Fatalf("after re-import: %+v", c)
	}
	// A batch with one row the database refuses changes nothing, and the refusal is the client's fault.
	good := connector("22222222-0000-4000-8000-000000000000", replaced)
	bad := connector(seedID, replaced)
	bad.Set("enrollmentDateTime", odata.Time(odata.DateTimeOffset{Ticks: -1}))
	if err := s.Import(ctx, tenantA, importSet([]odata.Entity{good, bad})); odata.ErrorKind(err) != odata.KindInvalid {
		t.Fatalf("import of an invalid row: %v, want an invalid-request error", err)
	}
	if _, err := s.Get(ctx, connectors, tenantA, good.Key()); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("half-applied import: %v", err)
	}
	if again, _ := s.Get(ctx, connectors, tenantA, seedID); diffEntity(again, c) != "" {
		t.Fatalf("row changed by a failed import:\n%s", diffEntity(again, c))
	}
}

func TestSameIDInTwoTenants(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	importSeed(t, s, tenantA)
	importSeed(t, s, tenantB)
	ctx := t.Context()
	p := patchOf(connectors.Type, map[string]odata.Value{"connectorName": odata.Str("B's")})
	if _, err := s.Update(ctx, connectors, tenantB, seedID, &p, store.Precondition{}, nowT); err != nil {
		t.Fatal(err)
	}
	a, _ := s.Get(ctx, connectors, tenantA, seedID)
	if a.Get("connectorName").Str != "Connector Name value" {
		t.Fatalf("tenant B's update reached tenant A: %+v", a)
	}
	if err := s.Delete(ctx, connectors, tenantA, seedID, store.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Get(ctx, connectors, tenantB, seedID); err != nil || b.Get("connectorName").Str != "B's" {
		t.Fatalf("tenant A's delete reached tenant B: %+v %v", b, err)
	}
}

// TestConcurrentUpdatesOfDifferentProperties shows that no update is lost without ETags: each statement writes
// only its own column and increments the version atomically.
func TestConcurrentUpdatesOfDifferentProperties(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	importSeed(t, s, tenantA)
	const rounds = 50
	props := []string{"connectorName", "machineName", "connectorVersion", "lastCheckinDateTime"}
	var wg sync.WaitGroup
	errs := make(chan error, rounds*len(props))
	for _, prop := range props {
		for i := range rounds {
			wg.Go(func() {
				p := odata.NewPatch(connectors.Type)
				if prop == "lastCheckinDateTime" {
					p.SetName(prop, odata.Time(odata.DateTimeOffset{Ticks: int64(i+1) * odata.TicksPerSecond}))
				} else {
					p.SetName(prop, odata.Str(fmt.Sprintf("%s-%03d", prop, i)))
				}
				_, err := s.Update(t.Context(), connectors, tenantA, seedID, &p, store.Precondition{}, nowT)
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.Get(t.Context(), connectors, tenantA, seedID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 1+rounds*int64(len(props)) {
		t.Errorf("version = %d, want %d: an increment was lost", c.Version, 1+rounds*len(props))
	}
	for _, name := range props[:3] {
		if v := c.Get(name); v.Null || !strings.HasPrefix(v.Str, name+"-") {
			t.Errorf("%s kept its seed value: %+v", name, v)
		}
	}
	if e := c.Get("enrollmentDateTime").Time.String(); e != "2016-12-31T23:57:59.3726057-08:00" {
		t.Errorf("an untouched property changed: %s", e)
	}
}

func TestMigrateDownUp(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	m, err := store.NewMigrator(s.Pool(), migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if n, err := m.Up(t.Context()); err != nil || n != 0 {
		t.Fatalf("Up on a migrated database: %d, %v", n, err)
	}
	// Down and up through every migration: each Down section undoes its Up.
	entries, err := migrations.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for range entries {
		if err := m.Down(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	var sb strings.Builder
	if err := m.Status(t.Context(), &sb); err != nil || strings.Contains(sb.String(), "applied") {
		t.Fatalf("status after down: %q, %v", sb.String(), err)
	}
	if n, err := m.Up(t.Context()); err != nil || n != len(entries) {
		t.Fatalf("Up after Down: %d, %v", n, err)
	}
	importSeed(t, s, tenantA)
	pfx := userPfxEntity(t, "someone@example.com", "AB12", nil)
	mustImport(t, s, tenantA, importSet(nil, pfx))
}

func TestSecretIsSharedAndStable(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	var calls int
	var mu sync.Mutex
	gen := func() ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return []byte(fmt.Sprintf("secret-%d", calls)), nil
	}
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Go(func() {
			v, err := s.Secret(t.Context(), "k", gen)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	for _, v := range got {
		if string(v) != string(got[0]) || len(v) == 0 {
			t.Fatalf("replicas disagree on the secret: %q", got)
		}
	}
	again, err := s.Secret(t.Context(), "k", func() ([]byte, error) { return []byte("other"), nil })
	if err != nil || string(again) != string(got[0]) {
		t.Fatalf("secret changed: %q, %v", again, err)
	}
}

func TestHealthMetrics(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	other := "33333333-0000-4000-8000-000000000000"
	conns := []odata.Entity{connector(seedID, nil), connector(other, nil)}
	at := func(sec int64, off int16) odata.DateTimeOffset {
		return odata.DateTimeOffset{Ticks: 636188000000000000 + sec*odata.TicksPerSecond, Offset: off}
	}
	set := importSet(conns)
	set.Samples = []odata.MetricSample{
		{ConnectorID: seedID, MetricName: "pfx", DateTime: at(30, -480), SuccessCount: 5, FailureCount: 1},
		{ConnectorID: seedID, MetricName: "pfx", DateTime: at(10, 0), SuccessCount: 2, FailureCount: 0},
		{ConnectorID: seedID, MetricName: "scep", DateTime: at(20, 60), SuccessCount: 0, FailureCount: 4},
		{ConnectorID: other, MetricName: "pfx", DateTime: at(10, 0), SuccessCount: 100, FailureCount: 100},
	}
	mustImport(t, s, tenantA, set)
	sums, err := s.HealthMetrics(ctx, tenantA, seedID, []string{"scep", "none", "pfx", "pfx"})
	if err != nil || !slices.Equal(sums, []int64{4, 0, 8, 8}) {
		t.Fatalf("HealthMetrics = %v, %v", sums, err)
	}
	if _, err := s.HealthMetrics(ctx, tenantB, seedID, []string{"pfx"}); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("other tenant: %v", err)
	}
	series, err := s.HealthMetricTimeSeries(ctx, tenantA, seedID, "pfx", at(0, 0), at(60, 0))
	if err != nil || len(series) != 2 || series[0].SuccessCount != 2 || series[1].DateTime != at(30, -480) {
		t.Fatalf("series = %+v, %v", series, err)
	}
	if series, err := s.HealthMetricTimeSeries(ctx, tenantA, seedID, "pfx", at(11, 0), at(29, 0)); err != nil || len(series) != 0 {
		t.Fatalf("empty window = %+v, %v", series, err)
	}
	if _, err := s.HealthMetricTimeSeries(ctx, tenantB, seedID, "pfx", at(0, 0), at(60, 0)); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("other tenant series: %v", err)
	}
	// A sample of a connector the tenant lacks fails the import, and nothing of it stays.
	newConn := connector("55555555-0000-4000-8000-000000000000", nil)
	bad := importSet([]odata.Entity{newConn})
	bad.Samples = []odata.MetricSample{{ConnectorID: "44444444-0000-4000-8000-000000000000", MetricName: "pfx", DateTime: at(1, 0)}}
	if err := s.Import(ctx, tenantA, bad); odata.ErrorKind(err) != odata.KindInvalid {
		t.Fatalf("import with a dangling sample: %v", err)
	}
	if _, err := s.Get(ctx, connectors, tenantA, newConn.Key()); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("half-applied import: %v", err)
	}
	// Deleting the connector deletes its samples.
	if err := s.Delete(ctx, connectors, tenantA, seedID, store.Precondition{}); err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, tenantA, importSet(conns[:1]))
	if sums, _ := s.HealthMetrics(ctx, tenantA, seedID, []string{"pfx"}); sums[0] != 0 {
		t.Fatalf("samples outlived their connector: %v", sums)
	}
}
