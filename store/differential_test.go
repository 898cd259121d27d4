package store_test

import (
	"context"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/odata/odatatest"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// The differential test of the $filter translation: the same filters run as SQL against PostgreSQL and through
// odata.Eval, the reference evaluator, over the same rows, and must select the same rows in the same order.

var (
	filterSeed  = flag.Uint64("filterseed", 1, "seed of TestFilterDifferential's rows and filters; 0 takes one from the clock")
	filterCount = flag.Int("filtercount", 5000, "number of generated filters TestFilterDifferential runs")
)

const (
	queryTimeout = 60 * time.Second
	slowQuery    = 10 * time.Second // generous for -race on a loaded machine; these queries take milliseconds
)

// diffNow is now() for every filter: an instant of the edge values, in an offset other than Z, so that the
// date parts of now() are taken in its own offset.
var diffNow = odata.DateTimeOffset{Ticks: 636188086793726057, Offset: -480} // 2016-12-31T23:57:59.3726057-08:00

// diffRows loads generated connectors and one row per edge value into tenantA, and decoys with the same ids
// into tenantB; it returns tenantA's rows as the store reads them back.
func diffRows(t *testing.T, s *store.Store, seed uint64) []odata.Connector {
	t.Helper()
	g := odatatest.NewConnectorGen(rand.New(rand.NewPCG(seed, 0xd1ff)))
	rows := g.Connectors(300)
	strs, times := odatatest.EdgeStrings(), odatatest.EdgeTimes()
	for i, v := range strs {
		c := g.Connector()
		c.ConnectorName = odata.Str(v)
		c.MachineName = odata.Str(strs[(i+1)%len(strs)])
		c.ConnectorVersion = odata.NullString{}
		c.EnrollmentDateTime = times[i%len(times)]
		c.LastCheckinDateTime = times[(i+7)%len(times)]
		rows = append(rows, c)
	}
	blank := g.Connector()
	blank.ConnectorName, blank.MachineName, blank.ConnectorVersion = odata.NullString{}, odata.NullString{}, odata.NullString{}
	rows = append(rows, blank)
	if _, err := s.Import(t.Context(), tenantA, rows); err != nil {
		t.Fatal(err)
	}
	decoys := g.Connectors(len(rows) / 3)
	for i := range decoys {
		decoys[i].ID = rows[i*3].ID
	}
	if _, err := s.Import(t.Context(), tenantB, decoys); err != nil {
		t.Fatal(err)
	}
	res, err := s.List(t.Context(), tenantA, store.ListRequest{Query: odata.Query{Top: -1}, PageSize: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != len(rows) {
		t.Fatalf("read back %d rows, imported %d", len(res.Items), len(rows))
	}
	return res.Items
}

// storeOrder is the order List returns: odata.CompareOrder, except that the id tiebreak runs in the direction
// of the last $orderby item, as the store's indexes do (CompareOrder breaks ties by ascending id).
func storeOrder(order []odata.OrderBy) func(a, b odata.Connector) int {
	desc := len(order) > 0 && order[len(order)-1].Desc
	for _, o := range order {
		desc = desc && o.Prop != odata.PropID // keys including id never tie
	}
	return func(a, b odata.Connector) int {
		c := odata.CompareOrder(&a, &b, order)
		if desc {
			tie := a
			tie.ID = b.ID
			if odata.CompareOrder(&tie, &b, order) == 0 {
				c = -c
			}
		}
		return c
	}
}

// diffCase is one filter to run: its text, the tree the text must parse to (nil: whatever it parses to), and
// an order.
type diffCase struct {
	name  string
	text  string
	tree  odata.Expr
	order []odata.OrderBy
	count bool // ask for $count too, which List answers with a second statement
}

// differ runs diffCases against one store and its rows.
type differ struct {
	s    *store.Store
	rows []odata.Connector
	seed uint64
	// How many filters selected no row, every row, and some rows: a test where most filters select none or all
	// would prove little.
	none, all, some atomic.Int64
}

// check runs c and returns a description of any disagreement ("" when SQL and Eval agree).
func (d *differ) check(t *testing.T, c diffCase) string {
	f, err := odata.ParseFilter(c.text, nil)
	if err != nil {
		return fmt.Sprintf("ParseFilter(%q): %v", c.text, err)
	}
	if c.tree != nil && !reflect.DeepEqual(f, c.tree) {
		return fmt.Sprintf("ParseFilter(%q) parses to another tree than printed:\n%s", c.text, odatatest.Format(f))
	}
	var want []odata.Connector
	for i := range d.rows {
		if odata.Match(f, &d.rows[i], diffNow) {
			want = append(want, d.rows[i])
		}
	}
	slices.SortStableFunc(want, storeOrder(c.order))
	// A translation that makes PostgreSQL plan for ever is a bug like any other; fail it rather than hang.
	ctx, cancel := context.WithTimeout(t.Context(), queryTimeout)
	defer cancel()
	start := time.Now()
	res, err := d.s.List(ctx, tenantA, store.ListRequest{
		Query:    odata.Query{Filter: f, OrderBy: c.order, Top: -1, Count: c.count},
		PageSize: 10000,
		Now:      diffNow,
	})
	if err != nil {
		return d.report(c, f, fmt.Sprintf("List: %v", err), nil, want)
	}
	got := res.Items
	if took := time.Since(start); took > slowQuery {
		return d.report(c, f, fmt.Sprintf("the query took %v", took.Round(time.Millisecond)), got, want)
	}
	if c.count && res.Count != int64(len(got)) {
		return d.report(c, f, fmt.Sprintf("count %d, but %d rows", res.Count, len(got)), got, want)
	}
	if !slices.EqualFunc(got, want, func(a, b odata.Connector) bool { return a.ID == b.ID }) {
		return d.report(c, f, "SQL and Eval disagree", got, want)
	}
	switch len(want) {
	case 0:
		d.none.Add(1)
	case len(d.rows):
		d.all.Add(1)
	default:
		d.some.Add(1)
	}
	return ""
}

func (d *differ) report(c diffCase, f odata.Expr, what string, got, want []odata.Connector) string {
	var b strings.Builder
	sql, args := store.FilterSQL(f, diffNow)
	fmt.Fprintf(&b, "%s: %s (-filterseed=%d)\nfilter: %s\norder:  %v\nSQL:    %s\nargs:   %#v\n", c.name, what, d.seed, c.text, c.order, sql, args)
	ids := func(cs []odata.Connector) map[string]bool {
		m := map[string]bool{}
		for _, x := range cs {
			m[x.ID] = true
		}
		return m
	}
	gotIDs, wantIDs := ids(got), ids(want)
	shown := 0
	for _, x := range d.rows {
		if gotIDs[x.ID] == wantIDs[x.ID] || shown == 5 {
			continue
		}
		shown++
		side := "only SQL selects"
		if wantIDs[x.ID] {
			side = "only Eval selects"
		}
		fmt.Fprintf(&b, "%s %s\n  Eval: %+v\n", side, rowText(x), odata.Eval(f, &x, diffNow))
	}
	if shown == 0 && got != nil {
		fmt.Fprintf(&b, "same rows, other order:\n  SQL:  %s\n  Eval: %s\n", idList(got), idList(want))
	}
	fmt.Fprintf(&b, "SQL selects %d rows, Eval %d\n", len(got), len(want))
	return b.String()
}

func rowText(c odata.Connector) string {
	s := func(n odata.NullString) string {
		if !n.Valid {
			return "null"
		}
		return strconv.Quote(n.Value)
	}
	return fmt.Sprintf("{id %s connectorName %s machineName %s enrollment %s lastCheckin %s version %s}",
		c.ID, s(c.ConnectorName), s(c.MachineName), c.EnrollmentDateTime, c.LastCheckinDateTime, s(c.ConnectorVersion))
}

func idList(cs []odata.Connector) string {
	var ids []string
	for i, c := range cs {
		if i == 12 {
			ids = append(ids, "…")
			break
		}
		ids = append(ids, c.ID[:8])
	}
	return strings.Join(ids, " ")
}

// run checks the cases on a few connections at once and fails the test with the first few disagreements. It
// reports whether all agree.
func (d *differ) run(t *testing.T, cases []diffCase) bool {
	t.Helper()
	const workers = 4
	var (
		mu       sync.Mutex
		failures []string
		next     int
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := len(failures) >= 3
				mu.Unlock()
				if i >= len(cases) || stop {
					return
				}
				if msg := d.check(t, cases[i]); msg != "" {
					mu.Lock()
					failures = append(failures, msg)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	return len(failures) == 0
}

func TestFilterDifferential(t *testing.T) {
	t.Parallel()
	seed := *filterSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	s := storetest.Open(t)
	d := &differ{s: s, rows: diffRows(t, s, seed), seed: seed}

	r := rand.New(rand.NewPCG(seed, 0xf117))
	g := odatatest.NewFilterGen(r)
	for _, c := range d.rows {
		for _, v := range []odata.NullString{c.ConnectorName, c.MachineName, c.ConnectorVersion, odata.Str(c.ID)} {
			if v.Valid {
				g.Strings = append(g.Strings, v.Value)
			}
		}
		g.Times = append(g.Times, c.EnrollmentDateTime, c.LastCheckinDateTime)
	}
	g.Times = append(g.Times, diffNow)
	n := *filterCount
	if testing.Short() {
		n /= 10
	}
	cases := make([]diffCase, 0, n)
	for i := range n {
		f := g.Filter(1 + i%6)
		text := odatatest.Format(f)
		if i%2 == 1 {
			text = odatatest.FormatRandom(r, f)
		}
		if len(text) > odata.MaxFilterLength {
			continue
		}
		cases = append(cases, diffCase{name: fmt.Sprintf("generated filter %d", i), text: text, tree: f, order: g.OrderBy(), count: i%8 == 0})
	}
	for i, text := range nastyFilters() {
		cases = append(cases, diffCase{name: fmt.Sprintf("nasty filter %d", i), text: text, count: true})
		cases = append(cases, diffCase{name: fmt.Sprintf("nasty filter %d ordered", i), text: text, order: g.OrderBy()})
	}
	if d.run(t, cases) {
		t.Logf("%d filters over %d rows agree (-filterseed=%d): %d select no row, %d every row, %d some",
			len(cases), len(d.rows), seed, d.none.Load(), d.all.Load(), d.some.Load())
	}
}

// nastyFilters are filters picked by hand for the translation's corner cases: nulls in every position, Boolean
// orderings and lists, substring's clamping, chains at the length limit, LIKE metacharacters, collation.
func nastyFilters() []string {
	fs := []string{
		// Null literals as function arguments, list items, in's operand, and/or/not operands.
		"length(null) eq null", "length(null) gt -1", "year(null) eq 1", "year(null) eq null", "not (year(null) ne null)",
		"totaloffsetminutes(null) eq 0", "fractionalseconds(null) lt 1", "date(null) eq null", "time(null) ge 00:00",
		"contains(null, connectorName)", "not contains(connectorName, null)", "startswith(null, null) eq null",
		"endswith(connectorName, null) eq null", "substring(null, 1) eq null", "substring(connectorName, null) eq null",
		"substring(connectorName, 1, null) eq null", "concat(null, 'a') eq null", "concat(connectorName, null) eq null",
		"tolower(null) eq null", "trim(null) eq null", "indexof(null, 'a') eq null", "length(concat(null, null)) eq null",
		"null in (null)", "null in ('a')", "null in ()", "not (null in ('a', null))", "connectorName in (null)",
		"connectorName in ('a', null)", "not (connectorName in ('a', null))", "connectorName in ('a', 'b')",
		"not (connectorName in ('a', 'b'))", "connectorName in ()", "not (connectorName in ())", "id in ()",
		"null and true", "null or true", "null or false", "not null", "not (null and false)", "(null or connectorName eq 'a') eq null",
		"(connectorName eq 'a' and null) ne false", "null eq null", "null ne null", "null gt null", "connectorName gt null",
		"not (connectorName ge null)", "connectorName eq null", "connectorName ne null", "null eq machineName",
		"length(connectorName) eq null", "length(connectorName) ne null", "length(connectorName) eq length(machineName)",
		"length(connectorName) ne length(machineName)", "not (length(connectorName) lt length(machineName))",
		"connectorName eq machineName", "connectorName ne machineName", "connectorName lt machineName",
		"not (connectorName lt machineName)", "connectorName eq id", "id eq connectorName",
		// Booleans: comparisons including orderings (false < true), lists, as values.
		"true gt false", "false lt true", "true ge true", "not (true le false)", "contains(connectorName, 'a') gt false",
		"contains(connectorName, 'a') lt true", "contains(connectorName, 'a') ge contains(machineName, 'a')",
		"contains(connectorName, 'a') le contains(machineName, 'a')", "not (contains(connectorName, 'a') gt contains(machineName, 'a'))",
		"contains(connectorName, 'a') eq true", "contains(connectorName, 'a') eq false", "contains(connectorName, 'a') ne true",
		"contains(connectorName, 'a') ne false", "not (contains(connectorName, 'a') eq true)", "true eq contains(connectorName, 'a')",
		"contains(connectorName, 'a') in (true)", "contains(connectorName, 'a') in (false, null)", "not (contains(connectorName, 'a') in (true))",
		"(connectorName eq 'a') in (false)", "true in (true, false)", "false in ()", "(connectorName eq 'a' or null) in (null)",
		"(connectorName eq 'a') eq (machineName eq 'a')", "(connectorName gt 'a') gt (machineName gt 'a')",
		"startswith(connectorName, 'a') eq true", "startswith(connectorName, 'a') eq false", "not (startswith(connectorName, 'a') eq true)",
		// substring: negative starts, starts beyond the end, Int64 extremes, computed lengths.
		"substring(connectorName, -1) eq 'a'", "substring(connectorName, -2, 1) eq 'b'", "substring(connectorName, -100) eq connectorName",
		"substring(connectorName, 100) eq ''", "substring(connectorName, 0, 0) eq ''", "substring(connectorName, 1, 1) eq 'b'",
		"substring(connectorName, -9223372036854775808) eq connectorName", "substring(connectorName, 9223372036854775807) eq ''",
		"substring(connectorName, -9223372036854775808, 9223372036854775807) eq connectorName",
		"substring(connectorName, 2147483647, 2147483647) eq ''", "substring(connectorName, -2147483649, 2147483648) eq connectorName",
		"substring(connectorName, length(connectorName)) eq ''", "substring(connectorName, indexof(connectorName, 'b')) eq 'b'",
		"substring(connectorName, 0 , indexof(connectorName, 'b')) eq 'a'", "substring(connectorName, -1 , indexof(connectorName, 'x')) eq ''",
		"substring(connectorName, indexof(connectorName, 'x'), length(machineName)) eq substring(machineName, -1)",
		"substring(connectorName, totaloffsetminutes(enrollmentDateTime), year(enrollmentDateTime)) ne ''",
		"substring(substring(substring(connectorName, -3), 1), -1, 1) eq 'c'",
		"length(substring(connectorName, indexof(connectorName, 'a'))) gt 1",
		// Decimal literals in every form.
		"fractionalseconds(enrollmentDateTime) eq 3726057e-7", "fractionalseconds(enrollmentDateTime) lt 1E-3",
		"fractionalseconds(enrollmentDateTime) gt 1.5e-10", "fractionalseconds(enrollmentDateTime) in (0, 0.5, 3726057E-7)",
		"fractionalseconds(enrollmentDateTime) lt 1e1000", "fractionalseconds(enrollmentDateTime) gt -1e-1000",
		"length(connectorName) in (1, 2.5, -3, 1e3, 3E0)", "length(connectorName) gt 1.5e+0", "2.5 gt length(connectorName)",
		"year(enrollmentDateTime) eq 2016.0", "year(enrollmentDateTime) in (2016, 2017)", "1e3 eq 1000",
		// Strings: ordinal order, case mapping of non-ASCII, trim, LIKE metacharacters.
		"connectorName gt 'Z'", "connectorName lt 'a'", "connectorName gt 'é'", "connectorName lt '😀'", "connectorName ge ''",
		"tolower(connectorName) eq 'émile'", "toupper(connectorName) eq 'ÉMILE'", "tolower(connectorName) eq 'i'",
		"toupper(connectorName) eq 'SS'", "toupper(connectorName) eq 'ß'", "toupper(connectorName) eq 'I'", "tolower(connectorName) eq 'ǆ'",
		"tolower(connectorName) gt toupper(machineName)", "tolower(connectorName) lt 'b'", "concat(tolower(connectorName), machineName) gt machineName",
		"contains(tolower(connectorName), machineName)", "startswith(tolower(connectorName), toupper(id))",
		"trim(connectorName) eq 'a'", "trim(connectorName) eq 'a b'", "length(trim(connectorName)) lt length(connectorName)",
		"startswith(connectorName, '%')", "startswith(connectorName, '_')", "startswith(connectorName, '\\')", "startswith(connectorName, 'a_')",
		"startswith(connectorName, '100%')", "startswith(connectorName, '')", "not startswith(connectorName, '')", "startswith(connectorName, '\U0010ffff')",
		"startswith(connectorName, 'a\U0010ffff')", "startswith(connectorName, '\ud7ff')", "not startswith(connectorName, 'a')",
		"startswith(machineName, connectorName)", "endswith(connectorName, '%')", "endswith(connectorName, 'b')", "endswith(connectorName, machineName)",
		"contains(connectorName, '%_')", "contains(connectorName, '')", "indexof(connectorName, '😀') eq 1", "length(connectorName) eq 3",
		"length(connectorName) eq 1 and connectorName gt '\uffff'", "connectorName eq 'O''Neil'", "connectorName eq ''''",
		// id: the uuid column against strings.
		"id eq '" + seedID + "'", "id eq '" + strings.ToUpper(seedID) + "'", "id ne 'x'", "id in ('x', '" + seedID + "')",
		"id gt '8'", "id lt '0001'", "startswith(id, '0000')", "contains(id, '-4')", "toupper(id) eq id", "length(id) eq 36",
		"not (id in ('x'))", "id in ('x', null)",
		// DateTimeOffsets: instants, parts in the value's own offset, now() in its offset, the ends of the range.
		"enrollmentDateTime eq 2016-12-31T23:57:59.3726057-08:00", "enrollmentDateTime eq 2017-01-01T07:57:59.3726057Z",
		"enrollmentDateTime ge 2016-12-31T23:57:59.3726057-08:00", "enrollmentDateTime lt lastCheckinDateTime",
		"enrollmentDateTime eq now()", "lastCheckinDateTime le now()", "year(now()) eq 2016", "hour(now()) eq 23",
		"totaloffsetminutes(now()) eq -480", "date(now()) eq 2016-12-31", "time(now()) gt 23:57", "day(enrollmentDateTime) eq 31",
		"year(enrollmentDateTime) eq 1", "year(enrollmentDateTime) eq 9999", "month(enrollmentDateTime) eq 2 and day(enrollmentDateTime) eq 29",
		"hour(enrollmentDateTime) eq 0", "minute(lastCheckinDateTime) eq 59", "second(enrollmentDateTime) eq 59",
		"totaloffsetminutes(enrollmentDateTime) eq 840", "totaloffsetminutes(enrollmentDateTime) eq -840",
		"date(enrollmentDateTime) eq date(lastCheckinDateTime)", "time(enrollmentDateTime) lt time(lastCheckinDateTime)",
		"date(enrollmentDateTime) eq 0001-01-01", "date(enrollmentDateTime) ge 9999-12-31", "time(enrollmentDateTime) eq 00:00",
		"enrollmentDateTime in (2016-12-31T23:57:59.3726057-08:00, 0001-01-01T00:00:00Z, null)",
		"fractionalseconds(now()) eq 0.3726057",
	}
	// Chains at the length limit: flat lists for and/or, long comparison chains.
	limit := func(unit, head string) string {
		var b strings.Builder
		b.WriteString(head)
		for b.Len()+len(unit) <= odata.MaxFilterLength {
			b.WriteString(unit)
		}
		return b.String()
	}
	fs = append(fs,
		limit(" or connectorName eq 'x'", "false"),
		limit(" and not (connectorName eq 'x')", "true"),
		limit(" or id eq id", "false"),
		limit(" and true", "true"),
		limit(" eq true", "true"),
		limit(" eq false", "contains(connectorName,'a')"),
		limit(" ne null", "connectorName eq 'a'"),
		limit(" eq (id eq id)", "true"),
		limit(" gt (connectorName gt 'a')", "true"),
		limit(" in (true,null)", "connectorName eq 'a'"),
		limit(" or connectorName eq 'x' and machineName ne 'y'", "false"),
		"connectorName in ("+strings.TrimSuffix(limit("'x',", strings.Repeat(" ", len("connectorName in ()"))), ",")[len("connectorName in ()"):]+")",
		strings.Repeat("not ", odata.MaxFilterDepth)+"true",
		strings.Repeat("concat(", odata.MaxFilterDepth-1)+"connectorName"+strings.Repeat(",'x')", odata.MaxFilterDepth-1)+" ne 'a'",
		strings.Repeat("substring(", odata.MaxFilterDepth-1)+"connectorName"+strings.Repeat(",-3)", odata.MaxFilterDepth-1)+" eq 'abc'",
		strings.Repeat("substring(", odata.MaxFilterDepth-1)+"connectorName"+strings.Repeat(",length(machineName))", odata.MaxFilterDepth-1)+" eq ''",
		"length("+strings.Repeat("substring(", 48)+"connectorName"+strings.Repeat(",length(substring(machineName,-1)))", 48)+") ge 0",
		strings.Repeat("(", odata.MaxFilterDepth-1)+"true"+strings.Repeat(" or false)", odata.MaxFilterDepth-1),
	)
	return fs
}

// Every filter the parser accepts must become SQL that PostgreSQL accepts: the string literals of the odata
// package's tests (its ABNF tables and fuzz seeds), any committed fuzz corpus of FuzzParseFilter, and large
// generated trees, each planned with EXPLAIN.
func TestFilterSQLAccepted(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	inputs := odataTestStrings(t)
	r := rand.New(rand.NewPCG(7, 8))
	g := odatatest.NewFilterGen(r)
	for i := range 300 {
		inputs = append(inputs, odatatest.FormatRandom(r, g.Filter(7+i%4)))
	}
	inputs = append(inputs, nastyFilters()...)
	aliases := map[string]string{"@a": "'x'", "@b": "('a','b')", "@l": `["a","b"]`, "@n": "null", "@p": "connectorName eq 'a'", "@i": "5"}
	accepted := 0
	for _, in := range inputs {
		f, err := odata.ParseFilter(in, aliases)
		if err != nil {
			if odata.ErrorKind(err) != odata.KindInvalid {
				t.Errorf("ParseFilter(%q): %v is not an invalid-request error", in, err)
			}
			continue
		}
		accepted++
		for _, order := range [][]odata.OrderBy{nil, {{Prop: odata.PropConnectorName, Desc: true}}} {
			sql, args := store.ListSQL(tenantA, odata.Query{Filter: f, OrderBy: order}, diffNow, 51)
			ctx, cancel := context.WithTimeout(t.Context(), queryTimeout)
			start := time.Now()
			rows, err := s.Pool().Query(ctx, "EXPLAIN "+sql, args...)
			if err == nil {
				for rows.Next() {
				}
				rows.Close()
				err = rows.Err()
			}
			cancel()
			if took := time.Since(start); err == nil && took > slowQuery {
				err = fmt.Errorf("planning took %v", took.Round(time.Millisecond))
			}
			if err != nil {
				t.Errorf("filter %q: PostgreSQL refuses\n%s\nargs %#v\n%v", in, sql, args, err)
				break
			}
		}
	}
	t.Logf("%d of %d inputs accepted by the parser, all planned by PostgreSQL", accepted, len(inputs))
}

// odataTestStrings collects the string literals of the odata package's tests, which include every valid and
// invalid $filter of its tables and its fuzz seeds, and the inputs of a FuzzParseFilter corpus if one is there.
func odataTestStrings(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../odata/*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no odata test files: %v", err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && s != "" {
					out = append(out, s)
				}
			}
			return true
		})
	}
	corpus, _ := filepath.Glob("../odata/testdata/fuzz/FuzzParseFilter/*")
	for _, name := range corpus {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		// "go test fuzz v1", then one line per argument: string("…").
		lines := strings.Split(string(data), "\n")
		if len(lines) > 1 {
			if arg, ok := strings.CutPrefix(lines[1], "string("); ok {
				if s, err := strconv.Unquote(strings.TrimSuffix(arg, ")")); err == nil {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// The common filters must be index scans on the (tenant_id, column, id) indexes of migration 00003, or the
// primary key for id, on a table big enough for the planner to care: both in the custom plans PostgreSQL makes
// for a statement's first executions and in the generic plan it may switch to for a statement pgx has prepared
// and reuses, where the parameters are unknown (so starts_with(column, $n) could not use an index there).
func TestFilterPlansUseIndexes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("loads 50,000 rows")
	}
	s := storetest.Open(t)
	ctx := t.Context()
	for _, tenant := range []string{tenantA, tenantB} {
		_, err := s.Pool().Exec(ctx, `INSERT INTO certificate_connector_details (tenant_id, id, connector_name, machine_name,
			enrollment_ticks, enrollment_offset, last_checkin_ticks, last_checkin_offset, connector_version)
			SELECT $1::uuid, gen_random_uuid(), 'name-' || lpad(g::text, 5, '0'), 'machine-' || (g % 1000),
				630000000000000000 + g::bigint * 100000000000, (g % 3 - 1) * 60, 638000000000000000 + g::bigint, 0, '1.' || (g % 7)
			FROM generate_series(1, 50000) AS g`, tenant)
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Pool().Exec(ctx, "ANALYZE certificate_connector_details"); err != nil {
		t.Fatal(err)
	}
	var someID string
	if err := s.Pool().QueryRow(ctx, "SELECT id::text FROM certificate_connector_details WHERE tenant_id = $1 LIMIT 1", tenantA).Scan(&someID); err != nil {
		t.Fatal(err)
	}
	late := odata.DateTimeOffset{Ticks: 630000000000000000 + 49900*100000000000, Offset: -480}.String()
	name := []odata.OrderBy{{Prop: odata.PropConnectorName}}
	enrollment := []odata.OrderBy{{Prop: odata.PropEnrollmentDateTime, Desc: true}}
	for _, tc := range []struct {
		filter string
		order  []odata.OrderBy
		index  string
		// A generic plan may serve an unselective-looking range by walking the primary key in id order and
		// stopping at the page size; PostgreSQL keeps the custom plan when that costs more.
		customOnly bool
	}{
		{"connectorName eq 'name-00042'", nil, "ccd_connector_name", false},
		{"connectorName eq 'name-00042'", name, "ccd_connector_name", false},
		{"not (connectorName ne 'name-00042')", nil, "ccd_connector_name", false},
		{"connectorName in ('name-00042', 'name-00043', null)", nil, "ccd_connector_name", false},
		{"startswith(connectorName, 'name-0004')", nil, "ccd_connector_name", false},
		{"startswith(connectorName, 'name-0004')", name, "ccd_connector_name", false},
		{"startswith(connectorName, 'name-0004') eq true", nil, "ccd_connector_name", false},
		{"startswith(connectorName, 'name-0004') and machineName ne 'x'", nil, "ccd_connector_name", false},
		{"machineName eq 'machine-7' and startswith(connectorName, 'name-0004')", nil, "ccd_", false},
		{"enrollmentDateTime ge " + late, nil, "ccd_enrollment", true},
		{"enrollmentDateTime ge " + late, enrollment, "ccd_enrollment", false},
		{"enrollmentDateTime gt " + late + " and enrollmentDateTime lt now()", enrollment, "ccd_enrollment", false},
		{"id eq '" + someID + "'", nil, "certificate_connector_details_pkey", false},
		{"id in ('" + someID + "', 'not-a-guid')", nil, "certificate_connector_details_pkey", false},
	} {
		f, err := odata.ParseFilter(tc.filter, nil)
		if err != nil {
			t.Fatal(err)
		}
		sql, args := store.ListSQL(tenantA, odata.Query{Filter: f, OrderBy: tc.order}, diffNow, 1001)
		for _, generic := range []bool{false, true} {
			if generic && tc.customOnly {
				continue
			}
			plan := explain(t, s, sql, args, generic)
			if os.Getenv("FILTER_PLANS") != "" {
				t.Logf("%s (order %v, generic %v):\n%s", tc.filter, tc.order, generic, plan)
			}
			if !strings.Contains(plan, tc.index) || strings.Contains(plan, "Seq Scan") {
				t.Errorf("%s (order %v, generic plan %v): want an index scan on %s, got\n%s\nfor %s", tc.filter, tc.order, generic, tc.index, plan, sql)
			}
		}
	}
}

// explain returns the plan of sql: the custom plan for args, or with generic, the generic plan of the
// statement prepared on one connection.
func explain(t *testing.T, s *store.Store, sql string, args []any, generic bool) string {
	t.Helper()
	ctx := t.Context()
	conn, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	query := "EXPLAIN " + sql
	if generic {
		if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
			t.Fatal(err)
		}
		defer conn.Exec(context.WithoutCancel(ctx), "RESET plan_cache_mode; DEALLOCATE filter_plan")
		if _, err := conn.Exec(ctx, "PREPARE filter_plan AS "+sql); err != nil {
			t.Fatalf("prepare %s: %v", sql, err)
		}
		// EXECUTE takes no bind parameters: pass each argument as a literal of the type the SQL casts it to,
		// rendered by the server.
		params := make([]string, len(args))
		for i, a := range args {
			typ := "uuid" // the tenant, $1, is the one argument without a cast
			if m := regexp.MustCompile(`\$` + strconv.Itoa(i+1) + `::([a-z]+(\[\])?)`).FindStringSubmatch(sql); m != nil {
				typ = m[1]
			}
			var lit string
			if err := conn.QueryRow(ctx, "SELECT quote_literal(($1::"+typ+")::text)", a).Scan(&lit); err != nil {
				t.Fatal(err)
			}
			params[i] = lit + "::" + typ
		}
		query = "EXPLAIN EXECUTE filter_plan(" + strings.Join(params, ", ") + ")"
		args = nil
	}
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return strings.Join(lines, "\n")
}

// The SQL of a filter grows linearly with its text, however it nests (a translation that repeats an operand
// doubles the SQL per level, and PostgreSQL's planning time with it), and and/or chains stay flat lists, so
// neither Go's recursion nor PostgreSQL's parser (max_stack_depth) sees their length as depth.
func TestFilterSQLShape(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	g := odatatest.NewFilterGen(r)
	inputs := nastyFilters()
	for i := range 2000 {
		inputs = append(inputs, odatatest.Format(g.Filter(1+i%10)))
	}
	for _, in := range inputs {
		if len(in) > odata.MaxFilterLength {
			continue
		}
		f, err := odata.ParseFilter(in, nil)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", in, err)
		}
		sql, _ := store.FilterSQL(f, diffNow)
		if len(sql) > 64*len(in)+64 {
			t.Errorf("%d bytes of filter became %d bytes of SQL: %.200s", len(in), len(sql), in)
		}
	}
	for _, chain := range []string{
		strings.Repeat("connectorName eq 'x' or ", 300) + "true",
		strings.Repeat("connectorName eq 'x' and ", 300) + "true",
		"not (" + strings.Repeat("not (connectorName eq 'x') and ", 250) + "true)",
		strings.Repeat("(", 99) + "true" + strings.Repeat(" or connectorName eq 'x')", 99),
	} {
		f, err := odata.ParseFilter(chain, nil)
		if err != nil {
			t.Fatal(err)
		}
		sql, _ := store.FilterSQL(f, diffNow)
		depth, deepest := 0, 0
		for _, c := range sql {
			switch c {
			case '(':
				depth++
				deepest = max(deepest, depth)
			case ')':
				depth--
			}
		}
		if deepest > 4 {
			t.Errorf("%.60s…: the SQL nests %d parentheses deep: %.300s", chain, deepest, sql)
		}
	}
}
