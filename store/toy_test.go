package store_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/odata/odatatest"
	"github.com/graphd/graphd/store"
)

// A third entity set that exists only as model data in this test and a table its SQL creates by store's naming
// rule: the store serves it with no code of its own. It has the types the Graph sets lack: Int32 (nullable),
// Int64, Boolean, a non-nullable String, a nullable DateTimeOffset and a filterable Binary.

var toyColor = &odata.EnumType{Name: "toyColor", Members: []odata.EnumMember{
	{Name: "red", Value: 0}, {Name: "green", Value: 1}, {Name: "blue", Value: 2}, {Name: "ultraViolet", Value: 7},
}}

// toyModel is odata.GraphModel() and the set toyGadgets.
func toyModel(tb testing.TB) (*odata.Model, *odata.EntitySet) {
	tb.Helper()
	m := odata.GraphModel()
	m.Enums = append(m.Enums, toyColor)
	set := &odata.EntitySet{Name: "toyGadgets", Container: "deviceManagement", Type: &odata.EntityType{
		Name:    "toyGadget",
		KeyKind: odata.KeyGUID,
		Properties: []odata.Property{
			{Name: "id", Type: odata.EdmString, Key: true},
			{Name: "label", Type: odata.EdmString},
			{Name: "itemCount", Type: odata.EdmInt32, Nullable: true},
			{Name: "sizeBytes", Type: odata.EdmInt64},
			{Name: "isEnabled", Type: odata.EdmBoolean},
			{Name: "color", Type: odata.EdmEnum, Enum: toyColor},
			{Name: "retiredDateTime", Type: odata.EdmDateTimeOffset, Nullable: true},
			{Name: "payload", Type: odata.EdmBinary, Nullable: true},
			{Name: "serialURLPath", Type: odata.EdmString, Nullable: true},
		},
	}}
	m.Sets = append(m.Sets, set)
	compiled, err := odata.NewModel(m)
	if err != nil {
		tb.Fatal(err)
	}
	return compiled, compiled.MustSet("toyGadgets")
}

// toyTable is the table of toyGadgets, written out by the rule store/model.go documents: the set's name and
// each property's in snake case, a DateTimeOffset as <name without DateTime>_ticks and _offset, text COLLATE "C",
// integer for Int32 and enums, bigint for Int64, boolean, bytea; tenant_id, the key id (uuid) and version.
const toyTable = `
CREATE TABLE toy_gadgets (
    tenant_id       uuid             NOT NULL,
    id              uuid             NOT NULL,
    label           text COLLATE "C" NOT NULL,
    item_count      integer,
    size_bytes      bigint           NOT NULL,
    is_enabled      boolean          NOT NULL,
    color           integer          NOT NULL,
    retired_ticks   bigint,
    retired_offset  smallint,
    payload         bytea,
    serial_url_path text COLLATE "C",
    version         bigint           NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX toy_gadgets_label ON toy_gadgets (tenant_id, left(label, 256), id);
CREATE INDEX toy_gadgets_item_count ON toy_gadgets (tenant_id, item_count NULLS FIRST, id);`

// openToy opens a store of the toy model on a database with the toy table.
func openToy(t *testing.T) (*store.Store, *odata.EntitySet) {
	t.Helper()
	m, set := toyModel(t)
	s := openStore(t, store.Options{Model: m})
	if _, err := s.Pool().Exec(t.Context(), toyTable); err != nil {
		t.Fatal(err)
	}
	return s, set
}

func TestToyEntityCRUD(t *testing.T) {
	t.Parallel()
	s, toys := openToy(t)
	ctx := t.Context()
	typ := toys.Type
	p := parseCreate(t, typ, []byte(`{"label": "Widget", "itemCount": -2147483648, "sizeBytes": "9223372036854775807",
		"isEnabled": true, "color": "UltraViolet", "retiredDateTime": "2019-06-30T23:59:59.9999999+14:00",
		"payload": "AP8A", "serialURLPath": "/a/b?c"}`))
	created, err := s.Create(ctx, toys, tenantA, &p, nowT)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, toys, tenantA, created.Key())
	if err != nil {
		t.Fatal(err)
	}
	if d := diffEntity(got, created); d != "" {
		t.Fatalf("Get differs from Create:\n%s", d)
	}
	for name, want := range map[string]odata.Value{
		"label": odata.Str("Widget"), "itemCount": odata.Int(-1 << 31), "sizeBytes": odata.Int(1<<63 - 1), "isEnabled": odata.Bool(true),
		"color": odata.Int(7), "retiredDateTime": odata.Time(mustTime(t, "2019-06-30T23:59:59.9999999+14:00")),
		"payload": odata.Str("\x00\xff\x00"), "serialURLPath": odata.Str("/a/b?c"),
	} {
		if prop := typ.MustProperty(name); !got.Get(name).Equal(want, prop.Type) {
			t.Errorf("%s = %s, want %s", name, valueText(prop, got.Get(name)), valueText(prop, want))
		}
	}
	// Defaults: null for the nullable, "", 0, false and the member of value 0 for the others.
	empty := odata.NewPatch(typ)
	d, err := s.Create(ctx, toys, tenantA, &empty, nowT)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ = s.Get(ctx, toys, tenantA, d.Key()); d.Get("label").Null || d.Get("label").Str != "" || !d.Get("itemCount").Null ||
		d.Get("sizeBytes").Int != 0 || d.Get("isEnabled").Int != 0 || d.Get("color").Int != 0 || !d.Get("retiredDateTime").Null || !d.Get("payload").Null {
		t.Errorf("defaults: %+v", d.Values)
	}
	// Update: only the named columns, nulls clear, the version moves.
	u := parsePatch(t, typ, `{"itemCount": null, "isEnabled": false, "retiredDateTime": null, "payload": "", "color": "green"}`, created.Key())
	updated, err := s.Update(ctx, toys, tenantA, created.Key(), &u, store.Precondition{Set: true, Versions: []int64{1}}, nowT)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Version != 2 || !updated.Get("itemCount").Null || updated.Get("isEnabled").Int != 0 || !updated.Get("retiredDateTime").Null ||
		updated.Get("payload").Null || updated.Get("payload").Str != "" || updated.Get("color").Int != 1 || updated.Get("label").Str != "Widget" {
		t.Errorf("after update: %+v", updated.Values)
	}
	if _, err := s.Update(ctx, toys, tenantA, created.Key(), &u, store.Precondition{Set: true, Versions: []int64{1}}, nowT); !errors.Is(err, odata.ErrPreconditionFailed) {
		t.Errorf("stale update: %v", err)
	}
	if err := s.Delete(ctx, toys, tenantA, created.Key(), store.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, toys, tenantA, created.Key()); !errors.Is(err, odata.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	// Import of the toy set, with the Graph sets' entities, in one transaction.
	imp := &odata.ImportSet{Entities: make([][]odata.Entity, len(s.Model().Sets))}
	tp := odata.NewPatch(typ)
	tp.SetName("label", odata.Str("imported"))
	imp.Entities[toys.Index] = []odata.Entity{odata.NewEntity(typ, seedID, &tp, nowT)}
	cp := odata.NewPatch(s.Model().Sets[0].Type)
	imp.Entities[0] = []odata.Entity{odata.NewEntity(s.Model().Sets[0].Type, seedID, &cp, nowT)}
	mustImport(t, s, tenantA, imp)
	if e, err := s.Get(ctx, toys, tenantA, seedID); err != nil || e.Get("label").Str != "imported" {
		t.Fatalf("imported toy: %+v, %v", e.Values, err)
	}
	if _, err := s.Get(ctx, s.Model().Sets[0], tenantA, seedID); err != nil {
		t.Fatalf("imported connector: %v", err)
	}
}

// TestToyEntityQueries: $filter, $orderby and paging over the toy set, against odata.Eval and CompareOrder, by
// hand-picked queries and by the differential test's generated ones.
func TestToyEntityQueries(t *testing.T) {
	t.Parallel()
	s, toys := openToy(t)
	d := &differ{s: s, set: toys, rows: diffRows(t, s, toys, 5), seed: 5}
	var cases []diffCase
	for i, f := range []string{
		"isEnabled", "not isEnabled", "isEnabled eq false", "isEnabled in (true, null)", "isEnabled gt false",
		"itemCount gt 3", "itemCount eq null", "itemCount ne null", "itemCount in (0, 1, -1, 2147483647)", "itemCount le -2147483648",
		"itemCount eq sizeBytes", "sizeBytes ge 9007199254740993", "sizeBytes lt -9223372036854775807",
		"sizeBytes eq 9223372036854775807", "sizeBytes in (0, 1)", "length(label) gt itemCount",
		"color eq 'green'", "color eq microsoft.graph.toyColor'blue'", "color in ('red', 'ultraViolet')", "color gt 'blue'",
		"retiredDateTime lt 2020-01-01", "retiredDateTime eq null", "retiredDateTime ge mindatetime()", "year(retiredDateTime) gt 2000",
		"payload eq null", "payload ne null", "startswith(label, 'a')", "label eq ''", "serialURLPath eq null",
		"isEnabled eq false and color ne 'red' or itemCount eq 1", "contains(serialURLPath, label)",
	} {
		cases = append(cases, diffCase{name: fmt.Sprintf("toy filter %d", i), text: f, count: true},
			diffCase{name: fmt.Sprintf("toy filter %d ordered", i), text: f, orderText: "itemCount desc,color", pageSize: 7})
	}
	for i, o := range []string{
		"itemCount", "itemCount desc", "sizeBytes", "sizeBytes desc,label", "isEnabled desc,sizeBytes", "isEnabled",
		"color,label desc", "color desc", "retiredDateTime", "retiredDateTime desc", "length(label) desc",
		"serialURLPath", "label", "itemCount eq null desc,id", "payload eq null", "year(retiredDateTime) desc",
	} {
		cases = append(cases, diffCase{name: fmt.Sprintf("toy order %d", i), text: "true", orderText: o, pageSize: 3 + i})
	}
	r := rand.New(rand.NewPCG(5, 6))
	g := odatatest.NewFilterGenFor(r, toys.Type)
	for i := range 300 {
		f := g.Filter(1 + i%5)
		order := g.OrderBy()
		c := diffCase{name: fmt.Sprintf("generated filter %d", i), text: odatatest.FormatRandom(r, f), tree: f,
			orderText: odatatest.FormatOrderBy(order), order: order, count: i%5 == 0}
		if len(order) == 0 {
			c.order = nil
		}
		if i%4 == 0 {
			c.pageSize = 10 + i%30
		}
		cases = append(cases, c)
	}
	if d.run(t, cases) {
		t.Logf("%d queries over %d toy rows agree: %d select no row, %d every row, %d some", len(cases), len(d.rows), d.none.Load(), d.all.Load(), d.some.Load())
	}
	if d.some.Load() < int64(len(cases))/4 {
		t.Errorf("only %d of %d queries select some rows but not all", d.some.Load(), len(cases))
	}
}
