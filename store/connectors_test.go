package store_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/graphd/graphd/migrations"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const (
	tenantA = "aaaaaaaa-0000-4000-8000-000000000001"
	tenantB = "bbbbbbbb-0000-4000-8000-000000000002"
	seedID  = "104d7361-7361-104d-6173-4d1061734d10"
)

func mustTime(tb testing.TB, s string) odata.DateTimeOffset {
	tb.Helper()
	d, ok := odata.ParseDateTimeOffset(s)
	if !ok {
		tb.Fatalf("bad DateTimeOffset %q", s)
	}
	return d
}

func seedPatch(tb testing.TB) odata.Patch {
	tb.Helper()
	var p odata.Patch
	p.Set(odata.PropConnectorName, odata.Value{Str: "Connector Name value"})
	p.Set(odata.PropMachineName, odata.Value{Str: "Machine Name value"})
	p.Set(odata.PropEnrollmentDateTime, odata.Value{Time: mustTime(tb, "2016-12-31T23:57:59.3726057-08:00")})
	p.Set(odata.PropLastCheckinDateTime, odata.Value{Time: mustTime(tb, "2017-01-01T00:02:46.0431416-08:00")})
	p.Set(odata.PropConnectorVersion, odata.Value{Str: "Connector Version value"})
	return p
}

func importSeed(tb testing.TB, s *store.Store, tenant string) odata.Connector {
	tb.Helper()
	p := seedPatch(tb)
	c := odata.NewConnector(seedID, &p)
	if _, err := s.Import(tb.Context(), tenant, []odata.Connector{c}); err != nil {
		tb.Fatalf("import: %v", err)
	}
	got, err := s.Get(tb.Context(), tenant, seedID)
	if err != nil {
		tb.Fatalf("get: %v", err)
	}
	return got
}

func TestCreateGetLossless(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	p := seedPatch(t)
	created, err := s.Create(t.Context(), tenantA, &p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := odata.ParseGUID(created.ID); !ok || strings.ToLower(created.ID) != created.ID {
		t.Fatalf("id %q is not a lower-case GUID", created.ID)
	}
	got, err := s.Get(t.Context(), tenantA, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != created {
		t.Fatalf("Get = %+v, want %+v", got, created)
	}
	if got.EnrollmentDateTime.String() != "2016-12-31T23:57:59.3726057-08:00" || got.Version != 1 {
		t.Fatalf("stored %s version %d", got.EnrollmentDateTime, got.Version)
	}
}

func TestCreateDefaults(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	var p odata.Patch
	c, err := s.Create(t.Context(), tenantA, &p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), tenantA, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ConnectorName.Valid || got.MachineName.Valid || got.ConnectorVersion.Valid ||
		got.EnrollmentDateTime.String() != "0001-01-01T00:00:00Z" || got.LastCheckinDateTime != odata.ZeroDateTimeOffset {
		t.Fatalf("defaults: %+v", got)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		patch func(*odata.Patch)
		check func(t *testing.T, c odata.Connector)
	}{
		{"OnlySuppliedColumnsChange", func(p *odata.Patch) { p.Set(odata.PropMachineName, odata.Value{Str: "m2"}) },
			func(t *testing.T, c odata.Connector) {
				if c.MachineName != odata.Str("m2") || c.ConnectorName != odata.Str("Connector Name value") {
					t.Errorf("got %+v", c)
				}
			}},
		{"NullClears", func(p *odata.Patch) { p.Set(odata.PropConnectorVersion, odata.Value{Null: true}) },
			func(t *testing.T, c odata.Connector) {
				if c.ConnectorVersion.Valid {
					t.Errorf("connectorVersion = %+v, want null", c.ConnectorVersion)
				}
			}},
		{"DateTimeOffsetKeepsOffset", func(p *odata.Patch) {
			p.Set(odata.PropLastCheckinDateTime, odata.Value{Time: mustTime(t, "2030-06-01T12:00:00.0000001+05:45")})
		}, func(t *testing.T, c odata.Connector) {
			if got := c.LastCheckinDateTime.String(); got != "2030-06-01T12:00:00.0000001+05:45" {
				t.Errorf("lastCheckinDateTime = %s", got)
			}
		}},
		{"EmptyPatchChangesNothing", func(*odata.Patch) {}, func(t *testing.T, c odata.Connector) {
			if c.Version != 1 {
				t.Errorf("version = %d, want 1 (unchanged)", c.Version)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t)
			importSeed(t, s, tenantA)
			var p odata.Patch
			tt.patch(&p)
			got, err := s.Update(t.Context(), tenantA, seedID, &p, store.Precondition{})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
			reread, err := s.Get(t.Context(), tenantA, seedID)
			if err != nil {
				t.Fatal(err)
			}
			if reread != got {
				t.Errorf("returned row %+v differs from stored row %+v", got, reread)
			}
			if p.Len() > 0 && got.Version != 2 {
				t.Errorf("version = %d, want 2", got.Version)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	importSeed(t, s, tenantA)
	p := seedPatch(t)
	missing := "00000000-0000-0000-0000-000000000000"
	for name, err := range map[string]error{
		"Get":    func() error { _, err := s.Get(t.Context(), tenantA, missing); return err }(),
		"Update": func() error { _, err := s.Update(t.Context(), tenantA, missing, &p, store.Precondition{}); return err }(),
		"UpdateEmpty": func() error {
			_, err := s.Update(t.Context(), tenantA, missing, &odata.Patch{}, store.Precondition{})
			return err
		}(),
		"Delete":         s.Delete(t.Context(), tenantA, missing, store.Precondition{}),
		"OtherTenantGet": func() error { _, err := s.Get(t.Context(), tenantB, seedID); return err }(),
		"OtherTenantUpdate": func() error {
			_, err := s.Update(t.Context(), tenantB, seedID, &p, store.Precondition{Set: true, Versions: []int64{1}})
			return err
		}(),
		"OtherTenantDelete": s.Delete(t.Context(), tenantB, seedID, store.Precondition{}),
	} {
		if !errors.Is(err, odata.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
	if c, err := s.Get(t.Context(), tenantA, seedID); err != nil || c.Version != 1 {
		t.Fatalf("tenant A's row changed: %+v, %v", c, err)
	}
}

func TestPreconditions(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	importSeed(t, s, tenantA)
	var p odata.Patch
	p.Set(odata.PropConnectorName, odata.Value{Str: "new"})
	stale := store.Precondition{Set: true, Versions: []int64{7}}
	if _, err := s.Update(t.Context(), tenantA, seedID, &p, stale); !errors.Is(err, odata.ErrPreconditionFailed) {
		t.Fatalf("stale update: %v", err)
	}
	if _, err := s.Update(t.Context(), tenantA, seedID, &odata.Patch{}, stale); !errors.Is(err, odata.ErrPreconditionFailed) {
		t.Fatalf("stale empty update: %v", err)
	}
	if err := s.Delete(t.Context(), tenantA, seedID, stale); !errors.Is(err, odata.ErrPreconditionFailed) {
		t.Fatalf("stale delete: %v", err)
	}
	c, err := s.Update(t.Context(), tenantA, seedID, &p, store.Precondition{Set: true, Versions: []int64{3, 1}})
	if err != nil || c.Version != 2 || c.ConnectorName != odata.Str("new") {
		t.Fatalf("matching update: %+v, %v", c, err)
	}
	// Two updates holding the same tag: exactly one wins.
	if _, err := s.Update(t.Context(), tenantA, seedID, &p, store.Precondition{Set: true, Versions: []int64{1}}); !errors.Is(err, odata.ErrPreconditionFailed) {
		t.Fatalf("second update with the same tag: %v", err)
	}
	if err := s.Delete(t.Context(), tenantA, seedID, store.Precondition{Set: true, Versions: []int64{2}}); err != nil {
		t.Fatalf("matching delete: %v", err)
	}
	if err := s.Delete(t.Context(), tenantA, seedID, store.Precondition{}); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("repeat delete: %v", err)
	}
}

func TestImportReplacesAndIsAtomic(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	importSeed(t, s, tenantA)
	// Re-importing replaces the row as the file states it: omitted properties take their defaults.
	var p odata.Patch
	p.Set(odata.PropConnectorName, odata.Value{Str: "replaced"})
	if _, err := s.Import(t.Context(), tenantA, []odata.Connector{odata.NewConnector(seedID, &p)}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Get(t.Context(), tenantA, seedID)
	if err != nil {
		t.Fatal(err)
	}
	if c.ConnectorName != odata.Str("replaced") || c.MachineName.Valid || c.EnrollmentDateTime != odata.ZeroDateTimeOffset || c.Version != 2 {
		t.Fatalf("after re-import: %+v", c)
	}
	// A batch with one row the database refuses changes nothing.
	good := odata.NewConnector("22222222-0000-4000-8000-000000000000", &p)
	bad := odata.NewConnector(seedID, &p)
	bad.EnrollmentDateTime.Ticks = -1
	if _, err := s.Import(t.Context(), tenantA, []odata.Connector{good, bad}); err == nil {
		t.Fatal("import of an invalid row succeeded")
	}
	if _, err := s.Get(t.Context(), tenantA, good.ID); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("half-applied import: %v", err)
	}
	if again, _ := s.Get(t.Context(), tenantA, seedID); again != c {
		t.Fatalf("row changed by a failed import: %+v", again)
	}
}

func TestSameIDInTwoTenants(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	importSeed(t, s, tenantA)
	importSeed(t, s, tenantB)
	var p odata.Patch
	p.Set(odata.PropConnectorName, odata.Value{Str: "B's"})
	if _, err := s.Update(t.Context(), tenantB, seedID, &p, store.Precondition{}); err != nil {
		t.Fatal(err)
	}
	a, _ := s.Get(t.Context(), tenantA, seedID)
	if a.ConnectorName != odata.Str("Connector Name value") {
		t.Fatalf("tenant B's update reached tenant A: %+v", a)
	}
	if err := s.Delete(t.Context(), tenantA, seedID, store.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Get(t.Context(), tenantB, seedID); err != nil || b.ConnectorName != odata.Str("B's") {
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
	props := []odata.PropertyID{odata.PropConnectorName, odata.PropMachineName, odata.PropConnectorVersion, odata.PropLastCheckinDateTime}
	var wg sync.WaitGroup
	errs := make(chan error, rounds*len(props))
	for _, prop := range props {
		for i := range rounds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var p odata.Patch
				if prop == odata.PropLastCheckinDateTime {
					p.Set(prop, odata.Value{Time: odata.DateTimeOffset{Ticks: int64(i+1) * odata.TicksPerSecond}})
				} else {
					p.Set(prop, odata.Value{Str: fmt.Sprintf("%s-%03d", odata.Properties[prop].Name, i)})
				}
				_, err := s.Update(t.Context(), tenantA, seedID, &p, store.Precondition{})
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.Get(t.Context(), tenantA, seedID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 1+rounds*int64(len(props)) {
		t.Errorf("version = %d, want %d: an increment was lost", c.Version, 1+rounds*len(props))
	}
	for _, v := range []odata.NullString{c.ConnectorName, c.MachineName, c.ConnectorVersion} {
		if !v.Valid || !strings.Contains(v.Value, "-") {
			t.Errorf("a property kept its seed value: %+v", c)
		}
	}
	if c.EnrollmentDateTime.String() != "2016-12-31T23:57:59.3726057-08:00" {
		t.Errorf("an untouched property changed: %s", c.EnrollmentDateTime)
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
	if err := m.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := m.Status(t.Context(), &sb); err != nil || !strings.Contains(sb.String(), "pending") {
		t.Fatalf("status after down: %q, %v", sb.String(), err)
	}
	if n, err := m.Up(t.Context()); err != nil || n == 0 {
		t.Fatalf("Up after Down: %d, %v", n, err)
	}
	importSeed(t, s, tenantA)
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.Secret(t.Context(), "k", gen)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
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
	other := "33333333-0000-4000-8000-000000000000"
	var p odata.Patch
	conns := []odata.Connector{odata.NewConnector(seedID, &p), odata.NewConnector(other, &p)}
	at := func(sec int64, off int16) odata.DateTimeOffset {
		return odata.DateTimeOffset{Ticks: 636188000000000000 + sec*odata.TicksPerSecond, Offset: off}
	}
	samples := []odata.MetricSample{
		{ConnectorID: seedID, MetricName: "pfx", DateTime: at(30, -480), SuccessCount: 5, FailureCount: 1},
		{ConnectorID: seedID, MetricName: "pfx", DateTime: at(10, 0), SuccessCount: 2, FailureCount: 0},
		{ConnectorID: seedID, MetricName: "scep", DateTime: at(20, 60), SuccessCount: 0, FailureCount: 4},
		{ConnectorID: other, MetricName: "pfx", DateTime: at(10, 0), SuccessCount: 100, FailureCount: 100},
	}
	if _, err := s.Import(t.Context(), tenantA, conns, samples...); err != nil {
		t.Fatal(err)
	}
	sums, err := s.HealthMetrics(t.Context(), tenantA, seedID, []string{"scep", "none", "pfx", "pfx"})
	if err != nil || !slices.Equal(sums, []int64{4, 0, 8, 8}) {
		t.Fatalf("HealthMetrics = %v, %v", sums, err)
	}
	if _, err := s.HealthMetrics(t.Context(), tenantB, seedID, []string{"pfx"}); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("other tenant: %v", err)
	}
	series, err := s.HealthMetricTimeSeries(t.Context(), tenantA, seedID, "pfx", at(0, 0), at(60, 0))
	if err != nil || len(series) != 2 || series[0].SuccessCount != 2 || series[1].DateTime != at(30, -480) {
		t.Fatalf("series = %+v, %v", series, err)
	}
	if series, err := s.HealthMetricTimeSeries(t.Context(), tenantA, seedID, "pfx", at(11, 0), at(29, 0)); err != nil || len(series) != 0 {
		t.Fatalf("empty window = %+v, %v", series, err)
	}
	if _, err := s.HealthMetricTimeSeries(t.Context(), tenantB, seedID, "pfx", at(0, 0), at(60, 0)); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("other tenant series: %v", err)
	}
	// A sample of a connector the tenant lacks fails the import, and nothing of it stays.
	bad := []odata.MetricSample{{ConnectorID: "44444444-0000-4000-8000-000000000000", MetricName: "pfx", DateTime: at(1, 0)}}
	newConn := odata.NewConnector("55555555-0000-4000-8000-000000000000", &p)
	if _, err := s.Import(t.Context(), tenantA, []odata.Connector{newConn}, bad...); odata.ErrorKind(err) != odata.KindInvalid {
		t.Fatalf("import with a dangling sample: %v", err)
	}
	if _, err := s.Get(t.Context(), tenantA, newConn.ID); !errors.Is(err, odata.ErrNotFound) {
		t.Fatalf("half-applied import: %v", err)
	}
	// Deleting the connector deletes its samples.
	if err := s.Delete(t.Context(), tenantA, seedID, store.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(t.Context(), tenantA, conns[:1]); err != nil {
		t.Fatal(err)
	}
	if sums, _ := s.HealthMetrics(t.Context(), tenantA, seedID, []string{"pfx"}); sums[0] != 0 {
		t.Fatalf("samples outlived their connector: %v", sums)
	}
}
