package store_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

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

var (
	graph      = odata.Graph()
	connectors = graph.MustSet(odata.ConnectorsSet)
	userPfx    = graph.MustSet(odata.UserPfxSet)
	// nowT is the `now` of writes whose server-set times the test does not look at.
	nowT = odata.DateTimeOffset{Ticks: 638500000000000000, Offset: 120}
)

// openStore is storetest.Open with options.
func openStore(tb testing.TB, opts store.Options) *store.Store {
	tb.Helper()
	s, err := store.Open(tb.Context(), storetest.URL(tb), opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

func mustTime(tb testing.TB, s string) odata.DateTimeOffset {
	tb.Helper()
	d, ok := odata.ParseDateTimeOffset(s)
	if !ok {
		tb.Fatalf("bad DateTimeOffset %q", s)
	}
	return d
}

// patchOf builds a patch of t from property names and values.
func patchOf(t *odata.EntityType, values map[string]odata.Value) odata.Patch {
	p := odata.NewPatch(t)
	for name, v := range values {
		p.SetName(name, v)
	}
	return p
}

// seedPatch is the contract's seed connector without its id.
func seedPatch(tb testing.TB) odata.Patch {
	tb.Helper()
	return patchOf(connectors.Type, map[string]odata.Value{
		"connectorName":       odata.Str("Connector Name value"),
		"machineName":         odata.Str("Machine Name value"),
		"enrollmentDateTime":  odata.Time(mustTime(tb, "2016-12-31T23:57:59.3726057-08:00")),
		"lastCheckinDateTime": odata.Time(mustTime(tb, "2017-01-01T00:02:46.0431416-08:00")),
		"connectorVersion":    odata.Str("Connector Version value"),
	})
}

// connector is the connector an import makes from an id and values.
func connector(id string, values map[string]odata.Value) odata.Entity {
	p := patchOf(connectors.Type, values)
	return odata.NewEntity(connectors.Type, id, &p, nowT)
}

// importSet is an ImportSet of connectors (and, optionally, user PFX certificates).
func importSet(conns []odata.Entity, pfx ...odata.Entity) *odata.ImportSet {
	set := &odata.ImportSet{Entities: make([][]odata.Entity, len(graph.Sets))}
	set.Entities[connectors.Index] = conns
	set.Entities[userPfx.Index] = pfx
	return set
}

func mustImport(tb testing.TB, s *store.Store, tenant string, set *odata.ImportSet) {
	tb.Helper()
	if err := s.Import(tb.Context(), tenant, set); err != nil {
		tb.Fatalf("import: %v", err)
	}
}

func importSeed(tb testing.TB, s *store.Store, tenant string) odata.Entity {
	tb.Helper()
	p := seedPatch(tb)
	mustImport(tb, s, tenant, importSet([]odata.Entity{odata.NewEntity(connectors.Type, seedID, &p, nowT)}))
	got, err := s.Get(tb.Context(), connectors, tenant, seedID)
	if err != nil {
		tb.Fatalf("get: %v", err)
	}
	return got
}

// diffEntity describes how two entities differ, property by property ("" when they are the same value and
// version).
func diffEntity(got, want odata.Entity) string {
	if got.Type != want.Type {
		return "entity types differ"
	}
	var b strings.Builder
	for i := range want.Type.Properties {
		p := &want.Type.Properties[i]
		if !got.Values[i].Equal(want.Values[i], p.Type) {
			b.WriteString(p.Name + ": got " + valueText(p, got.Values[i]) + ", want " + valueText(p, want.Values[i]) + "\n")
		}
	}
	if got.Version != want.Version {
		b.WriteString("version differs\n")
	}
	return b.String()
}

// valueText shows a value in a failure message, long strings shortened.
func valueText(p *odata.Property, v odata.Value) string {
	switch {
	case v.Null:
		return "null"
	case p.Type == odata.EdmDateTimeOffset:
		return v.Time.String()
	case p.Type != odata.EdmString && p.Type != odata.EdmBinary:
		return strconv.FormatInt(v.Int, 10)
	case len(v.Str) > 80:
		return fmt.Sprintf("%q…(%d bytes)", v.Str[:60], len(v.Str))
	}
	return strconv.Quote(v.Str)
}
