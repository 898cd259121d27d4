package odatatest_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/odata/odatatest"
)

// Printed either way, every generated tree parses back to itself, and evaluates on every generated row without
// panicking to a Boolean, or to null only where Nullable says it can be; every generated ordering prints and
// parses back to itself and orders the rows without panicking.
func TestFormatRoundTrip(t *testing.T) {
	t.Parallel()
	for _, set := range odata.Graph().Sets {
		t.Run(set.Name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(3, uint64(set.Index)))
			typ := set.Type
			g := odatatest.NewFilterGenFor(r, typ)
			rows := odatatest.NewEntityGen(r, typ).Entities(20)
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
					got, err := odata.ParseFilter(typ, text, nil)
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
						t.Fatalf("%s on %+v evaluates to %+v (Nullable %v)", odatatest.Format(want), rows[j].Values, v, want.Nullable())
					}
				}
				order := g.OrderBy()
				if len(order) == 0 {
					continue
				}
				for _, text := range []string{odatatest.FormatOrderBy(order), odatatest.FormatOrderByRandom(r, order)} {
					if len(text) > odata.MaxFilterLength {
						continue
					}
					got, err := odata.ParseOrderBy(typ, text, nil)
					if err != nil {
						t.Fatalf("ParseOrderBy(%q): %v", text, err)
					}
					if !reflect.DeepEqual(got, order) {
						t.Fatalf("ParseOrderBy(%q) gives other items, printed as\n%s", text, odatatest.FormatOrderBy(got))
					}
				}
				for j := range rows {
					if c := odata.CompareOrder(&rows[j], &rows[j], order, now); c != 0 {
						t.Fatalf("CompareOrder of a row with itself under %s = %d", odatatest.FormatOrderBy(order), c)
					}
				}
			}
		})
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	conn := odata.Graph().MustSet(odata.ConnectorsSet).Type
	pfx := odata.Graph().MustSet(odata.UserPfxSet).Type
	purposeProp := pfx.MustProperty("intendedPurpose")
	purpose := purposeProp.Enum
	name := &odata.PropertyRef{P: conn.MustProperty("connectorName")}
	enrolled := &odata.PropertyRef{P: conn.MustProperty("enrollmentDateTime")}
	str := func(s string) *odata.Literal { return &odata.Literal{LitKind: odata.KindString, Str: s} }
	eq := func(l, r odata.Expr) *odata.Binary { return &odata.Binary{Op: odata.OpEq, Left: l, Right: r} }
	tru := &odata.Literal{LitKind: odata.KindBoolean, Bool: true}
	null := &odata.Literal{LitKind: odata.KindNull}
	vpn := &odata.Literal{LitKind: odata.KindEnum, Enum: purpose, Int: 4}
	for _, c := range []struct {
		typ  *odata.EntityType
		want string
		e    odata.Expr
	}{
		{conn, "connectorName eq 'O''Neil'", eq(name, str("O'Neil"))},
		{conn, "not (connectorName eq 'a') and true", &odata.Binary{Op: odata.OpAnd, Left: &odata.Not{X: eq(name, str("a"))}, Right: tru}},
		{conn, "not true eq true", eq(&odata.Not{X: tru}, tru)},
		{conn, "true eq not true", eq(tru, &odata.Not{X: tru})},
		{conn, "not not contains(connectorName,'a')", &odata.Not{X: &odata.Not{X: &odata.Call{Fn: odata.FnContains, Args: []odata.Expr{name, str("a")}}}}},
		{conn, "not (connectorName in ('a'))", &odata.Not{X: &odata.In{X: name, List: []odata.Expr{str("a")}}}},
		{conn, "not true in (true)", &odata.In{X: &odata.Not{X: tru}, List: []odata.Expr{tru}}},
		{conn, "true eq (true eq true)", eq(tru, eq(tru, tru))},
		{conn, "true eq true eq true", eq(eq(tru, tru), tru)},
		{conn, "true or true and true", &odata.Binary{Op: odata.OpOr, Left: tru, Right: &odata.Binary{Op: odata.OpAnd, Left: tru, Right: tru}}},
		{conn, "(true or true) and true", &odata.Binary{Op: odata.OpAnd, Left: &odata.Binary{Op: odata.OpOr, Left: tru, Right: tru}, Right: tru}},
		{conn, "connectorName in ('a',null)", &odata.In{X: name, List: []odata.Expr{str("a"), null}}},
		{conn, "date(now()) eq 2024-02-29", eq(&odata.Call{Fn: odata.FnDate, Args: []odata.Expr{&odata.Call{Fn: odata.FnNow}}},
			&odata.Literal{LitKind: odata.KindDate, Date: 738944})},
		{conn, "time(enrollmentDateTime) lt 12:00:00.0000001", &odata.Binary{Op: odata.OpLt,
			Left:  &odata.Call{Fn: odata.FnTime, Args: []odata.Expr{enrolled}},
			Right: &odata.Literal{LitKind: odata.KindTimeOfDay, Tod: 12*3600*odata.TicksPerSecond + 1}}},
		{conn, "enrollmentDateTime gt mindatetime() and enrollmentDateTime lt maxdatetime()", &odata.Binary{Op: odata.OpAnd,
			Left:  &odata.Binary{Op: odata.OpGt, Left: enrolled, Right: &odata.Call{Fn: odata.FnMinDateTime}},
			Right: &odata.Binary{Op: odata.OpLt, Left: enrolled, Right: &odata.Call{Fn: odata.FnMaxDateTime}}}},
		{pfx, "intendedPurpose eq microsoft.graph.userPfxIntendedPurpose'vpn'", eq(&odata.PropertyRef{P: purposeProp}, vpn)},
		{pfx, "intendedPurpose in (microsoft.graph.userPfxIntendedPurpose'vpn',null)", &odata.In{X: &odata.PropertyRef{P: purposeProp}, List: []odata.Expr{vpn, null}}},
	} {
		t.Run(c.want, func(t *testing.T) {
			t.Parallel()
			if got := odatatest.Format(c.e); got != c.want {
				t.Errorf("Format = %q, want %q", got, c.want)
			}
			if got, err := odata.ParseFilter(c.typ, c.want, nil); err != nil {
				t.Errorf("ParseFilter(%q): %v", c.want, err)
			} else if !reflect.DeepEqual(got, c.e) {
				t.Errorf("ParseFilter(%q) = %s", c.want, odatatest.Format(got))
			}
		})
	}
}

// The alternative spellings FormatRandom uses parse to the same tree as the canonical one.
func TestFormatRandomSpellings(t *testing.T) {
	t.Parallel()
	pfx := odata.Graph().MustSet(odata.UserPfxSet).Type
	conn := odata.Graph().MustSet(odata.ConnectorsSet).Type
	purposeProp := pfx.MustProperty("intendedPurpose")
	vpn := &odata.Literal{LitKind: odata.KindEnum, Enum: purposeProp.Enum, Int: 4}
	midnight := &odata.Literal{LitKind: odata.KindDateTimeOffset, Time: odata.DateTimeOffset{Ticks: 738944 * odata.TicksPerDay}}
	enrolled := &odata.PropertyRef{P: conn.MustProperty("enrollmentDateTime")}
	for _, c := range []struct {
		name string
		typ  *odata.EntityType
		e    odata.Expr
	}{
		{"EnumProperty", pfx, &odata.Binary{Op: odata.OpEq, Left: &odata.PropertyRef{P: purposeProp}, Right: vpn}},
		{"EnumLiterals", pfx, &odata.Binary{Op: odata.OpNe, Left: vpn, Right: vpn}},
		{"EnumList", pfx, &odata.In{X: &odata.PropertyRef{P: purposeProp}, List: []odata.Expr{vpn, vpn}}},
		{"DateProperty", conn, &odata.Binary{Op: odata.OpGe, Left: enrolled, Right: midnight}},
		{"DateLiterals", conn, &odata.Binary{Op: odata.OpLe, Left: midnight, Right: midnight}},
		{"DateList", conn, &odata.In{X: enrolled, List: []odata.Expr{midnight}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, 2))
			spellings := map[string]bool{}
			for range 200 {
				text := odatatest.FormatRandom(r, c.e)
				spellings[text] = true
				got, err := odata.ParseFilter(c.typ, text, nil)
				if err != nil {
					t.Fatalf("ParseFilter(%q): %v", text, err)
				}
				if !reflect.DeepEqual(got, c.e) {
					t.Fatalf("ParseFilter(%q) = %s, want %s", text, odatatest.Format(got), odatatest.Format(c.e))
				}
			}
			if len(spellings) < 10 {
				t.Errorf("only %d spellings of %s", len(spellings), odatatest.Format(c.e))
			}
		})
	}
}

func TestFormatOrderBy(t *testing.T) {
	t.Parallel()
	conn := odata.Graph().MustSet(odata.ConnectorsSet).Type
	name := &odata.PropertyRef{P: conn.MustProperty("connectorName")}
	order := []odata.OrderBy{
		{Expr: &odata.Call{Fn: odata.FnLength, Args: []odata.Expr{name}}, Desc: true},
		{Expr: name},
		{Expr: &odata.Binary{Op: odata.OpEq, Left: name, Right: &odata.Literal{LitKind: odata.KindString, Str: "a"}}, Desc: true},
	}
	const want = "length(connectorName) desc,connectorName,connectorName eq 'a' desc"
	if got := odatatest.FormatOrderBy(order); got != want {
		t.Errorf("FormatOrderBy = %q, want %q", got, want)
	}
	if got, err := odata.ParseOrderBy(conn, want, nil); err != nil {
		t.Errorf("ParseOrderBy(%q): %v", want, err)
	} else if !reflect.DeepEqual(got, order) {
		t.Errorf("ParseOrderBy(%q) = %s", want, odatatest.FormatOrderBy(got))
	}
}

func TestEntities(t *testing.T) {
	t.Parallel()
	for _, set := range odata.Graph().Sets {
		t.Run(set.Name, func(t *testing.T) {
			t.Parallel()
			typ := set.Type
			g := odatatest.NewEntityGen(rand.New(rand.NewPCG(5, 6)), typ)
			keys := map[string]bool{}
			nulls := make([]int, len(typ.Properties))
			for _, e := range g.Entities(2000) {
				if e.Type != typ || len(e.Values) != len(typ.Properties) {
					t.Fatalf("entity of type %s with %d values", e.Type.Name, len(e.Values))
				}
				key := e.Key()
				if canon, ok := typ.Key(key); !ok || canon != key || keys[key] {
					t.Fatalf("key %q is not a new canonical key", key)
				}
				keys[key] = true
				if typ.KeyKind == odata.KeyString {
					if derived, err := typ.DeriveKey(e.Values); err != nil || derived != key {
						t.Fatalf("key %q, but the values make %q (%v)", key, derived, err)
					}
				}
				for i := range typ.Properties {
					p := &typ.Properties[i]
					v := e.Values[i]
					if v.Null {
						nulls[i]++
						if !p.Nullable || p.Required {
							t.Fatalf("%s is null in %+v", p.Name, e.Values)
						}
						continue
					}
					switch p.Type {
					case odata.EdmDateTimeOffset:
						if !v.Time.Valid() {
							t.Fatalf("%s: invalid time %v", p.Name, v.Time)
						}
					case odata.EdmEnum:
						if _, ok := p.Enum.NameOf(v.Int); !ok {
							t.Fatalf("%s: %d is no member", p.Name, v.Int)
						}
					case odata.EdmString:
						if n := len([]rune(v.Str)); p.MaxLength > 0 && n > p.MaxLength {
							t.Fatalf("%s is %d characters long", p.Name, n)
						}
					}
				}
			}
			for i, p := range typ.Properties {
				if p.Nullable && !p.Required && nulls[i] == 0 {
					t.Errorf("%s is never null", p.Name)
				}
			}
		})
	}
	for _, d := range odatatest.EdgeTimes() {
		if !d.Valid() {
			t.Errorf("edge time %s is not valid", d)
		}
	}
}
