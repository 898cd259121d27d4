package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// The test lab's store operations (issue 11 item 2): Export, DeleteTenant, DeleteAll.

const tenantC = "cccccccc-0000-4000-8000-000000000003"

// labData is what the admin tests import into a tenant: connectors with nulls and offsets, certificates with
// secrets (a blob with NUL and high bytes) and server-set times that are not now, and samples with offsets.
func labData(t *testing.T, seed uint64) *odata.ImportSet {
	t.Helper()
	conns := fixtureRows(6, seed)
	pfx := pfxRows(4, seed)
	for i := range pfx {
		pfx[i].Set("encryptedPfxBlob", odata.Str(fmt.Sprintf("\x00\xff blob %d", i)))
		pfx[i].Set("encryptedPfxPassword", odata.Str(fmt.Sprintf("pässword %d", i)))
		pfx[i].Set("createdDateTime", odata.Time(odata.DateTimeOffset{Ticks: 637000000000000001 + int64(i), Offset: -480}))
		pfx[i].Set("lastModifiedDateTime", odata.Time(odata.DateTimeOffset{Ticks: 637100000000000000, Offset: 330}))
	}
	set := importSet(conns, pfx...)
	for i, c := range conns[:3] {
		for j, metric := range []string{"pfxImport", "scepRevoke"} {
			set.Samples = append(set.Samples, odata.MetricSample{ConnectorID: c.Key(), MetricName: metric,
				DateTime:     odata.DateTimeOffset{Ticks: 637500000000000000 - int64(i+j)*odata.TicksPerDay, Offset: int16(j * 60)},
				SuccessCount: int64(10*i + j), FailureCount: int64(j)})
		}
	}
	return set
}

// byKey sorts entities as Export lists them: by key in byte order.
func byKey(es []odata.Entity) []odata.Entity {
	out := slices.Clone(es)
	slices.SortFunc(out, func(a, b odata.Entity) int { return strings.Compare(a.Key(), b.Key()) })
	return out
}

// checkExported compares an export with what was imported, values only (versions are the store's).
func checkExported(t *testing.T, what string, got odata.ImportSet, want *odata.ImportSet) {
	t.Helper()
	if len(got.Entities) != len(graph.Sets) {
		t.Fatalf("%s: %d sets exported, the model has %d", what, len(got.Entities), len(graph.Sets))
	}
	for _, set := range graph.Sets {
		g, w := got.Entities[set.Index], byKey(want.Entities[set.Index])
		if len(g) != len(w) {
			t.Errorf("%s: %d %s exported, want %d", what, len(g), set.Name, len(w))
			continue
		}
		for i := range w {
			want := w[i]
			want.Version = g[i].Version
			if d := diffEntity(g[i], want); d != "" || g[i].Key() != want.Key() {
				t.Errorf("%s: %s %d (%s, want %s):\n%s", what, set.Name, i, g[i].Key(), want.Key(), d)
			}
		}
	}
	samples := slices.Clone(want.Samples)
	slices.SortFunc(samples, func(a, b odata.MetricSample) int {
		return cmp.Or(strings.Compare(a.ConnectorID, b.ConnectorID), strings.Compare(a.MetricName, b.MetricName), cmp.Compare(a.DateTime.Ticks, b.DateTime.Ticks))
	})
	if len(samples) == 0 {
		samples = nil
	}
	if !reflect.DeepEqual(got.Samples, samples) {
		t.Errorf("%s: samples\n%+v\nwant\n%+v", what, got.Samples, samples)
	}
}

// TestExport: a tenant's export is every set's entities with their stored values, in key order, and the samples
// by connector, metric and time; nothing of other tenants.
func TestExport(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	a, b := labData(t, 1), labData(t, 2)
	mustImport(t, s, tenantA, a)
	mustImport(t, s, tenantB, b)
	got, err := s.Export(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	checkExported(t, "tenant A", got, a)
	// The versions are the stored ones: an update shows.
	key := byKey(a.Entities[connectors.Index])[0].Key()
	p := patchOf(connectors.Type, map[string]odata.Value{"connectorName": odata.Str("changed")})
	updated, err := s.Update(ctx, connectors, tenantA, key, &p, store.Precondition{}, nowT)
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.Export(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	if e := got.Entities[connectors.Index][0]; e.Version != updated.Version || diffEntity(e, updated) != "" {
		t.Errorf("after an update, the export has %+v, Get %+v", e, updated)
	}
	got, err = s.Export(ctx, tenantB)
	if err != nil {
		t.Fatal(err)
	}
	checkExported(t, "tenant B", got, b)

	empty, err := s.Export(ctx, tenantC)
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.Entities) != len(graph.Sets) || len(empty.Samples) != 0 {
		t.Errorf("export of a tenant without data: %+v", empty)
	}
	for i, es := range empty.Entities {
		if len(es) != 0 {
			t.Errorf("set %d of a tenant without data has %d entities", i, len(es))
		}
	}
}

// TestExportImportRoundTrip: an export imported into another tenant exports the same values; into the same
// tenant after a reset, too.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	a := labData(t, 3)
	mustImport(t, s, tenantA, a)
	first, err := s.Export(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, tenantC, &first)
	second, err := s.Export(ctx, tenantC)
	if err != nil {
		t.Fatal(err)
	}
	checkExported(t, "tenant C", second, a)
	if err := s.DeleteTenant(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, tenantA, &first)
	third, err := s.Export(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(third, first) {
		t.Error("export → reset → import → export differs")
	}
}

// TestExportInTx: inside InTx the export reads the transaction's own state (one snapshot, no second connection).
func TestExportInTx(t *testing.T) {
	t.Parallel()
	s := openStore(t, store.Options{MaxConns: 1})
	a := labData(t, 4)
	errRollback := errors.New("roll back")
	err := s.InTx(t.Context(), func(ctx context.Context) error {
		if err := s.Import(ctx, tenantA, a); err != nil {
			return err
		}
		got, err := s.Export(ctx, tenantA)
		if err != nil {
			return err
		}
		checkExported(t, "inside the transaction", got, a)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx: %v", err)
	}
	got, err := s.Export(t.Context(), tenantA)
	if err != nil {
		t.Fatal(err)
	}
	checkExported(t, "after the rollback", got, importSet(nil))
}

// TestDeleteTenant: everything the tenant holds goes, samples included; other tenants keep theirs.
func TestDeleteTenant(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	a, b := labData(t, 5), labData(t, 5) // the same keys in both tenants
	mustImport(t, s, tenantA, a)
	mustImport(t, s, tenantB, b)
	if err := s.DeleteTenant(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	got, err := s.Export(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	checkExported(t, "the deleted tenant", got, importSet(nil))
	key := a.Entities[connectors.Index][0].Key()
	if _, err := s.Get(ctx, connectors, tenantA, key); !errors.Is(err, odata.ErrNotFound) {
		t.Errorf("Get after the delete: %v", err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM health_metric_samples WHERE tenant_id = $1", tenantA).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d samples of the deleted tenant remain (%v)", n, err)
	}
	got, err = s.Export(ctx, tenantB)
	if err != nil {
		t.Fatal(err)
	}
	checkExported(t, "the other tenant", got, b)
	if err := s.DeleteTenant(ctx, tenantC); err != nil {
		t.Errorf("deleting a tenant without data: %v", err)
	}
}

// TestDeleteAll: every tenant's entities, samples and stored cursors go; the server's secrets stay.
func TestDeleteAll(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	secret, err := s.Secret(ctx, "signing", func() ([]byte, error) { return []byte("kept"), nil })
	if err != nil {
		t.Fatal(err)
	}
	for i, tenant := range []string{tenantA, tenantB, tenantC} {
		mustImport(t, s, tenant, labData(t, uint64(10+i)))
	}
	if _, err := s.Pool().Exec(ctx, "INSERT INTO skiptoken_payloads (digest, payload) VALUES ($1, $2)", make([]byte, 32), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAll(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"certificate_connector_details", "user_pfx_certificates", "health_metric_samples", "skiptoken_payloads"} {
		var n int
		if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s keeps %d rows (%v)", table, n, err)
		}
	}
	again, err := s.Secret(ctx, "signing", func() ([]byte, error) { return []byte("new"), nil })
	if err != nil || string(again) != string(secret) {
		t.Errorf("the secret after DeleteAll: %q, %v; want %q", again, err, secret)
	}
	// The store works as before.
	a := labData(t, 20)
	mustImport(t, s, tenantA, a)
	got, err := s.Export(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	checkExported(t, "after DeleteAll", got, a)
}
