package odatatest_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/odata/odatatest"
)

// Printed either way, every generated tree parses back to itself, and evaluates on every generated row without
// panicking to a Boolean, or to null only where Nullable says it can be.
func TestFormatRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	g := odatatest.NewFilterGen(r)
	rows := odatatest.NewConnectorGen(r).Connectors(20)
	now := odatatest.EdgeTimes()[6]
	n := 5000
	if testing.Short() {
		n = 500
	}
	for i := range n {
		want := g.Filter(1 + i%6)
		for _, text := range []string{odatatest.Format(want), odatatest.FormatRandom(r, want)} {
			if len(text) > odata.MaxFilterLength {
				continue
			}
			got, err := odata.ParseFilter(text, nil)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", text, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ParseFilter(%q) gives another tree, printed as\n%s", text, odatatest.Format(got))
			}
		}
		for j := range rows {
			v := odata.Eval(want, &rows[j], now)
			if v.Null && !want.Nullable() || !v.Null && v.Kind != odata.KindBoolean {
				t.Fatalf("%s on %+v evaluates to %+v (Nullable %v)", odatatest.Format(want), rows[j], v, want.Nullable())
			}
		}
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	name := &odata.PropertyRef{Prop: odata.PropConnectorName}
	str := func(s string) *odata.Literal { return &odata.Literal{LitKind: odata.KindString, Str: s} }
	eq := func(l, r odata.Expr) *odata.Binary { return &odata.Binary{Op: odata.OpEq, Left: l, Right: r} }
	tru := &odata.Literal{LitKind: odata.KindBoolean, Bool: true}
	for want, e := range map[string]odata.Expr{
		"connectorName eq 'O''Neil'": eq(name, str("O'Neil")),
		"not connectorName eq 'a' and true": &odata.Binary{Op: odata.OpAnd,
			Left: &odata.Not{X: eq(name, str("a"))}, Right: tru},
		"(not true) eq true":     eq(&odata.Not{X: tru}, tru),
		"true eq (true eq true)": eq(tru, eq(tru, tru)),
		"true eq true eq true":   eq(eq(tru, tru), tru),
		"true or true and true": &odata.Binary{Op: odata.OpOr, Left: tru,
			Right: &odata.Binary{Op: odata.OpAnd, Left: tru, Right: tru}},
		"(true or true) and true": &odata.Binary{Op: odata.OpAnd,
			Left: &odata.Binary{Op: odata.OpOr, Left: tru, Right: tru}, Right: tru},
		"connectorName in ('a',null)": &odata.In{X: name, List: []odata.Expr{str("a"), &odata.Literal{LitKind: odata.KindNull}}},
		"date(now()) eq 2024-02-29": eq(&odata.Call{Fn: odata.FnDate, Args: []odata.Expr{&odata.Call{Fn: odata.FnNow}}},
			&odata.Literal{LitKind: odata.KindDate, Date: 738944}),
		"time(enrollmentDateTime) lt 12:00:00.0000001": &odata.Binary{Op: odata.OpLt,
			Left:  &odata.Call{Fn: odata.FnTime, Args: []odata.Expr{&odata.PropertyRef{Prop: odata.PropEnrollmentDateTime}}},
			Right: &odata.Literal{LitKind: odata.KindTimeOfDay, Tod: 12*3600*odata.TicksPerSecond + 1}},
	} {
		if got := odatatest.Format(e); got != want {
			t.Errorf("Format = %q, want %q", got, want)
		}
		if got, err := odata.ParseFilter(want, nil); err != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("ParseFilter(%q) = %s, %v", want, odatatest.Format(got), err)
		}
	}
}

func TestConnectors(t *testing.T) {
	t.Parallel()
	g := odatatest.NewConnectorGen(rand.New(rand.NewPCG(5, 6)))
	ids := map[string]bool{}
	for _, c := range g.Connectors(2000) {
		if _, ok := odata.ParseGUID(c.ID); !ok || ids[c.ID] {
			t.Fatalf("id %q is not a new GUID", c.ID)
		}
		ids[c.ID] = true
		if !c.EnrollmentDateTime.Valid() || !c.LastCheckinDateTime.Valid() {
			t.Fatalf("invalid time in %+v", c)
		}
	}
	for _, d := range odatatest.EdgeTimes() {
		if !d.Valid() {
			t.Errorf("edge time %s is not valid", d)
		}
	}
}
