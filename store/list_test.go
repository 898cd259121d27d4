package store_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// fixtureRows makes n connectors with repeated and null values, so orderings have ties and nulls.
func fixtureRows(n int, seed uint64) []odata.Connector {
	r := rand.New(rand.NewPCG(seed, 1))
	names := []string{"alpha", "Alpha", "beta", "émile", "Zeta", "zeta", "", "a'b", "100%_x"}
	out := make([]odata.Connector, n)
	for i := range out {
		var p odata.Patch
		if r.IntN(5) > 0 {
			p.Set(odata.PropConnectorName, odata.Value{Str: names[r.IntN(len(names))]})
		}
		if r.IntN(4) > 0 {
			p.Set(odata.PropMachineName, odata.Value{Str: fmt.Sprintf("m%02d", r.IntN(7))})
		}
		p.Set(odata.PropEnrollmentDateTime, odata.Value{Time: odata.DateTimeOffset{Ticks: int64(r.IntN(5)) * odata.TicksPerDay * 400, Offset: int16(r.IntN(3)-1) * 60}})
		p.Set(odata.PropLastCheckinDateTime, odata.Value{Time: odata.DateTimeOffset{Ticks: 638000000000000000 + int64(r.IntN(1000))*odata.TicksPerSecond}})
		if r.IntN(2) == 0 {
			p.Set(odata.PropConnectorVersion, odata.Value{Str: fmt.Sprintf("1.%d", r.IntN(3))})
		}
		out[i] = odata.NewConnector(fmt.Sprintf("%08x-0000-4000-8000-%012x", r.Uint32(), i), &p)
	}
	return out
}

// odataLess orders as OData does: nulls first ascending, ordinal strings, instants, then id.
func odataCompare(order []odata.OrderBy) func(a, b odata.Connector) int {
	return func(a, b odata.Connector) int {
		for _, o := range order {
			c := compareProp(a, b, o.Prop)
			if o.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		c := cmp.Compare(a.ID, b.ID)
		if len(order) > 0 && order[len(order)-1].Desc {
			c = -c
		}
		return c
	}
}

func compareProp(a, b odata.Connector, p odata.PropertyID) int {
	str := func(x, y odata.NullString) int {
		switch {
		case !x.Valid && !y.Valid:
			return 0
		case !x.Valid:
			return -1
		case !y.Valid:
			return 1
		}
		return cmp.Compare(x.Value, y.Value)
	}
	switch p {
	case odata.PropConnectorName:
		return str(a.ConnectorName, b.ConnectorName)
	case odata.PropMachineName:
		return str(a.MachineName, b.MachineName)
	case odata.PropConnectorVersion:
		return str(a.ConnectorVersion, b.ConnectorVersion)
	case odata.PropEnrollmentDateTime:
		return cmp.Compare(a.EnrollmentDateTime.Ticks, b.EnrollmentDateTime.Ticks)
	case odata.PropLastCheckinDateTime:
		return cmp.Compare(a.LastCheckinDateTime.Ticks, b.LastCheckinDateTime.Ticks)
	}
	return cmp.Compare(a.ID, b.ID)
}

func TestListPagesInOrder(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	rows := fixtureRows(157, 7)
	if _, err := s.Import(t.Context(), tenantA, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(t.Context(), tenantB, fixtureRows(20, 8)); err != nil {
		t.Fatal(err)
	}
	key := []byte("k")
	orders := [][]odata.OrderBy{
		nil,
		{{Prop: odata.PropConnectorName}},
		{{Prop: odata.PropConnectorName, Desc: true}},
		{{Prop: odata.PropEnrollmentDateTime}},
		{{Prop: odata.PropEnrollmentDateTime, Desc: true}},
		{{Prop: odata.PropMachineName, Desc: true}, {Prop: odata.PropConnectorName}},
		{{Prop: odata.PropConnectorVersion}, {Prop: odata.PropLastCheckinDateTime, Desc: true}},
		{{Prop: odata.PropLastCheckinDateTime}, {Prop: odata.PropMachineName}},
	}
	for i, order := range orders {
		for _, top := range []int64{-1, 40} {
			t.Run(fmt.Sprintf("order%d/top%d", i, top), func(t *testing.T) {
				t.Parallel()
				want := slices.Clone(rows)
				slices.SortFunc(want, odataCompare(order))
				if top >= 0 {
					want = want[3 : 3+top]
				}
				q := odata.Query{OrderBy: order, Top: top, Count: true}
				if top >= 0 {
					q.Skip = 3
				}
				var got []odata.Connector
				var after *store.Cursor
				for pages := 0; ; pages++ {
					res, err := s.List(t.Context(), tenantA, store.ListRequest{Query: q, PageSize: 7, After: after})
					if err != nil {
						t.Fatal(err)
					}
					if res.Count != int64(len(rows)) {
						t.Fatalf("count = %d, want %d", res.Count, len(rows))
					}
					got = append(got, res.Items...)
					if res.Next == nil {
						break
					}
					tok := store.EncodeCursor(key, tenantA, res.Next)
					if after, err = store.DecodeCursor(key, tenantA, tok, order); err != nil {
						t.Fatalf("decode own token: %v", err)
					}
					if pages > 100 {
						t.Fatal("paging does not end")
					}
				}
				if len(got) != len(want) {
					t.Fatalf("got %d rows, want %d", len(got), len(want))
				}
				for j := range want {
					if got[j].ID != want[j].ID {
						t.Fatalf("row %d: got %s, want %s", j, got[j].ID, want[j].ID)
					}
				}
			})
		}
	}
}

func TestSkipTokenTampering(t *testing.T) {
	t.Parallel()
	order := []odata.OrderBy{{Prop: odata.PropConnectorName}, {Prop: odata.PropEnrollmentDateTime}}
	c := &store.Cursor{Keys: []any{"x", int64(5)}, ID: "104d7361-7361-104d-6173-4d1061734d10", Remaining: -1}
	tok := store.EncodeCursor([]byte("key"), tenantA, c)
	if got, err := store.DecodeCursor([]byte("key"), tenantA, tok, order); err != nil || got.Keys[1] != int64(5) || got.Keys[0] != "x" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for name, tc := range map[string]struct {
		key, bind, tok string
		order          []odata.OrderBy
	}{
		"OtherTenant":  {"key", tenantB, tok, order},
		"OtherKey":     {"other", tenantA, tok, order},
		"OtherOrder":   {"key", tenantA, tok, order[:1]},
		"Flipped":      {"key", tenantA, "A" + tok[1:], order},
		"Garbage":      {"key", tenantA, "garbage", order},
		"Empty":        {"key", tenantA, "", order},
		"NoSignature":  {"key", tenantA, tok[:len(tok)-3], order},
		"WrongTypes":   {"key", tenantA, tok, []odata.OrderBy{{Prop: odata.PropEnrollmentDateTime}, {Prop: odata.PropConnectorName}}},
		"DotOnly":      {"key", tenantA, ".", order},
		"HugeGarbage:": {"key", tenantA, string(make([]byte, 5000)), order},
	} {
		if _, err := store.DecodeCursor([]byte(tc.key), tc.bind, tc.tok, tc.order); odata.ErrorKind(err) != odata.KindInvalid {
			t.Errorf("%s: err = %v, want an invalid-request error", name, err)
		}
	}
}
