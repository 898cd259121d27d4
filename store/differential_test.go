package store_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
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
	"github.com/jackc/pgx/v5/pgconn"
)

// The differential test of the $filter and $orderby translation: the same queries run as SQL against PostgreSQL
// and through odata.Eval and odata.CompareOrder, the reference evaluator, over the same rows of both entity sets,
// and must select the same rows in the same order, on one page and across keyset pages.

var (
	filterSeed  = flag.Uint64("filterseed", 1, "seed of TestFilterDifferential's rows and filters; 0 takes one from the clock")
	filterCount = flag.Int("filtercount", 1500, "number of generated filters TestFilterDifferential runs over connectors (and 2/5 of it over userPfxCertificates)")
)

const (
	queryTimeout = 60 * time.Second
	slowQuery    = 30 * time.Second // generous for -race on a loaded machine; these queries take milliseconds to a second
)

// diffNow is now() for every filter: an instant of the edge values, in an offset other than Z, so that the
// date parts of now() are taken in its own offset.
var diffNow = odata.DateTimeOffset{Ticks: 636188086793726057, Offset: -480} // 2016-12-31T23:57:59.3726057-08:00

// diffRows loads generated entities of set, with the edge values in every property, into tenantA, and decoys
// with the same keys into tenantB; it returns tenantA's rows as the store reads them back.
func diffRows(t *testing.T, s *store.Store, set *odata.EntitySet, seed uint64) []odata.Entity {
	t.Helper()
	g := odatatest.NewEntityGen(rand.New(rand.NewPCG(seed, 0xd1ff)), set.Type)
	rows := g.Entities(300)
	strs, times := odatatest.EdgeStrings(), odatatest.EdgeTimes()
	for i := range strs {
		e := g.Entity()
		k := 0
		for j := 1; j < len(set.Type.Properties); j++ {
			p := &set.Type.Properties[j]
			switch {
			case p.Required || p.Secret:
				// Keep the generated key-making and secret values.
			case p.Type == odata.EdmString:
				e.Values[j] = odata.Str(strs[(i+k)%len(strs)])
				k++
			case p.Type == odata.EdmDateTimeOffset:
				e.Values[j] = odata.Time(times[(i+7*k)%len(times)])
				k++
			}
		}
		rows = append(rows, e)
	}
	blank := g.Entity()
	for j := 1; j < len(set.Type.Properties); j++ {
		if p := &set.Type.Properties[j]; p.Nullable && !p.Required {
			blank.Values[j] = odata.Null
		}
	}
	rows = append(rows, blank)
	imp := &odata.ImportSet{Entities: make([][]odata.Entity, len(s.Model().Sets))}
	imp.Entities[set.Index] = rows
	mustImport(t, s, tenantA, imp)
	decoys := g.Entities(len(rows) / 3)
	for i := range decoys {
		decoys[i].Values[0] = rows[i*3].Values[0]
	}
	imp.Entities[set.Index] = decoys
	mustImport(t, s, tenantB, imp)
	res, err := s.List(t.Context(), set, tenantA, store.ListRequest{PageSize: 10000, Now: diffNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != len(rows) {
		t.Fatalf("read back %d rows, imported %d", len(res.Items), len(rows))
	}
	return res.Items
}

// diffCase is one query to run: its filter text and the tree the text must parse to (nil: whatever it parses
// to), and its $orderby text and items (nil: whatever the text parses to).
type diffCase struct {
	name      string
	text      string
	tree      odata.Expr
	orderText string
	order     []odata.OrderBy
	count     bool // ask for $count too, which List answers with a second statement
	pageSize  int  // > 0: also read the result in pages of this size, through cursors
}

// differ runs diffCases against one store and its rows of one set.
type differ struct {
	s    *store.Store
	set  *odata.EntitySet
	rows []odata.Entity
	seed uint64
	// How many filters selected no row, every row, and some rows: a test where most filters select none or all
	// would prove little.
	none, all, some atomic.Int64
}

// check runs c and returns a description of any disagreement ("" when SQL and Eval agree).
func (d *differ) check(t *testing.T, c diffCase) string {
	typ := d.set.Type
	f, err := odata.ParseFilter(typ, c.text, nil)
	if err != nil {
		return fmt.Sprintf("%s: ParseFilter(%q): %v", c.name, c.text, err)
	}
	if c.tree != nil && !reflect.DeepEqual(f, c.tree) {
		return fmt.Sprintf("%s: ParseFilter(%q) parses to another tree than printed:\n%s", c.name, c.text, odatatest.Format(f))
	}
	var order []odata.OrderBy
	if c.orderText != "" {
		if order, err = odata.ParseOrderBy(typ, c.orderText, nil); err != nil {
			return fmt.Sprintf("%s: ParseOrderBy(%q): %v", c.name, c.orderText, err)
		}
		if c.order != nil && !reflect.DeepEqual(order, c.order) {
			return fmt.Sprintf("%s: ParseOrderBy(%q) parses to other items than printed: %s", c.name, c.orderText, odatatest.FormatOrderBy(order))
		}
	}
	var want []odata.Entity
	for i := range d.rows {
		if odata.Match(f, &d.rows[i], diffNow) {
			want = append(want, d.rows[i])
		}
	}
	slices.SortStableFunc(want, func(a, b odata.Entity) int { return odata.CompareOrder(&a, &b, order, diffNow) })
	// A translation that makes PostgreSQL plan for ever is a bug like any other; fail it rather than hang.
	ctx, cancel := context.WithTimeout(t.Context(), queryTimeout)
	defer cancel()
	start := time.Now()
	q := odata.Query{Filter: f, OrderBy: order, Top: -1, Count: c.count}
	res, err := d.s.List(ctx, d.set, tenantA, store.ListRequest{Query: q, PageSize: 10000, Now: diffNow})
	if err != nil {
		return d.report(c, f, order, fmt.Sprintf("List: %v", err), nil, want)
	}
	got := res.Items
	if took := time.Since(start); took > slowQuery {
		return d.report(c, f, order, fmt.Sprintf("the query took %v", took.Round(time.Millisecond)), got, want)
	}
	if c.count && res.Count != int64(len(got)) {
		return d.report(c, f, order, fmt.Sprintf("count %d, but %d rows", res.Count, len(got)), got, want)
	}
	if !slices.EqualFunc(got, want, func(a, b odata.Entity) bool { return a.Key() == b.Key() }) {
		return d.report(c, f, order, "SQL and Eval disagree", got, want)
	}
	if c.pageSize > 0 {
		var paged []odata.Entity
		var after *store.Cursor
		for len(paged) <= len(want) {
			res, err := d.s.List(ctx, d.set, tenantA, store.ListRequest{Query: q, PageSize: c.pageSize, After: after, Now: diffNow})
			if err != nil {
				return d.report(c, f, order, fmt.Sprintf("List page %d: %v", len(paged)/c.pageSize, err), paged, want)
			}
			paged = append(paged, res.Items...)
			if after = res.Next; after == nil {
				break
			}
		}
		if !slices.EqualFunc(paged, want, func(a, b odata.Entity) bool { return a.Key() == b.Key() }) {
			return d.report(c, f, order, fmt.Sprintf("pages of %d rows differ from one page", c.pageSize), paged, want)
		}
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

func (d *differ) report(c diffCase, f odata.Expr, order []odata.OrderBy, what string, got, want []odata.Entity) string {
	var b strings.Builder
	sql, args := store.FilterSQL(d.set, f, diffNow)
	fmt.Fprintf(&b, "%s %s: %s (-filterseed=%d)\nfilter:  %s\norderby: %s\nSQL:     %s\nargs:    %#v\n",
		d.set.Name, c.name, what, d.seed, c.text, odatatest.FormatOrderBy(order), sql, args)
	keys := func(es []odata.Entity) map[string]bool {
		m := map[string]bool{}
		for _, x := range es {
			m[x.Key()] = true
		}
		return m
	}
	gotKeys, wantKeys := keys(got), keys(want)
	shown := 0
	for i, x := range d.rows {
		if gotKeys[x.Key()] == wantKeys[x.Key()] || shown == 5 {
			continue
		}
		shown++
		side := "only SQL selects"
		if wantKeys[x.Key()] {
			side = "only Eval selects"
		}
		fmt.Fprintf(&b, "%s %s\n  Eval: %+v\n", side, rowText(&d.rows[i]), odata.Eval(f, &d.rows[i], diffNow))
	}
	if shown == 0 && got != nil {
		fmt.Fprintf(&b, "same rows, other order:\n  SQL:  %s\n  Eval: %s\n", keyList(got), keyList(want))
		for i := range min(len(got), len(want)) {
			if got[i].Key() != want[i].Key() {
				fmt.Fprintf(&b, "first difference at %d:\n  SQL:  %s\n  Eval: %s\n", i, rowText(&got[i]), rowText(&want[i]))
				for _, o := range order {
					fmt.Fprintf(&b, "  %s: SQL row %+v, Eval row %+v\n", odatatest.Format(o.Expr), odata.Eval(o.Expr, &got[i], diffNow), odata.Eval(o.Expr, &want[i], diffNow))
				}
				break
			}
		}
	}
	fmt.Fprintf(&b, "SQL selects %d rows, Eval %d\n", len(got), len(want))
	return b.String()
}

func rowText(e *odata.Entity) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range e.Type.Properties {
		p := &e.Type.Properties[i]
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(p.Name + " " + valueText(p, e.Values[i]))
	}
	return b.String() + "}"
}

func keyList(es []odata.Entity) string {
	var keys []string
	for i, e := range es {
		if i == 12 {
			keys = append(keys, "…")
			break
		}
		keys = append(keys, e.Key()[:min(8, len(e.Key()))])
	}
	return strings.Join(keys, " ")
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
	for _, set := range []*odata.EntitySet{connectors, userPfx} {
		t.Run(set.Name, func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t)
			d := &differ{s: s, set: set, rows: diffRows(t, s, set, seed), seed: seed}
			r := rand.New(rand.NewPCG(seed, 0xf117+uint64(set.Index)))
			g := odatatest.NewFilterGenFor(r, set.Type)
			for _, e := range d.rows {
				for i := range set.Type.Properties {
					p, v := &set.Type.Properties[i], e.Values[i]
					switch {
					case v.Null || p.Secret:
					case p.Type == odata.EdmString:
						g.Strings = append(g.Strings, v.Str)
					case p.Type == odata.EdmDateTimeOffset:
						g.Times = append(g.Times, v.Time)
					}
				}
			}
			g.Times = append(g.Times, diffNow)
			n := *filterCount
			if set != connectors {
				n = n * 2 / 5
			}
			if testing.Short() {
				n /= 10
			}
			cases := make([]diffCase, 0, n)
			for i := range n {
				f := g.Filter(1 + i%6)
				text := odatatest.Format(f)
				order := g.OrderBy()
				orderText := odatatest.FormatOrderBy(order)
				if i%2 == 1 {
					text = odatatest.FormatRandom(r, f)
					orderText = odatatest.FormatOrderByRandom(r, order)
				}
				if len(text) > odata.MaxFilterLength {
					continue
				}
				c := diffCase{name: fmt.Sprintf("generated filter %d", i), text: text, tree: f, orderText: orderText, order: order, count: i%8 == 0}
				if len(order) == 0 {
					c.order = nil // nothing to compare the parse with
				}
				if i%10 == 0 {
					c.pageSize = 20 + i%41
				}
				cases = append(cases, c)
			}
			for i, text := range nastyFilters(set) {
				cases = append(cases, diffCase{name: fmt.Sprintf("nasty filter %d", i), text: text, count: true})
				order := g.OrderBy()
				c := diffCase{name: fmt.Sprintf("nasty filter %d ordered", i), text: text, orderText: odatatest.FormatOrderBy(order)}
				if i%4 == 0 {
					c.pageSize = 50
				}
				cases = append(cases, c)
			}
			for i, text := range nastyOrders(set) {
				cases = append(cases, diffCase{name: fmt.Sprintf("nasty order %d", i), text: "true", orderText: text, pageSize: 10 + i%31})
			}
			if d.run(t, cases) {
				t.Logf("%d queries over %d rows agree (-filterseed=%d): %d select no row, %d every row, %d some",
					len(cases), len(d.rows), seed, d.none.Load(), d.all.Load(), d.some.Load())
			}
		})
	}
}

// nastyOrders are $orderby values picked by hand: expressions of every kind, nulls, ties, both directions.
func nastyOrders(set *odata.EntitySet) []string {
	if set == userPfx {
		return []string{
			"intendedPurpose", "intendedPurpose desc", "paddingScheme desc,intendedPurpose", "intendedPurpose eq 'vpn' desc",
			"tolower(userPrincipalName),thumbprint desc", "length(keyName) desc", "keyName,providerName desc",
			"year(expirationDateTime) desc,startDateTime", "createdDateTime desc,lastModifiedDateTime", "keyName eq null",
			"paddingScheme in ('none','oaepSha512'),id desc", "concat(keyName,providerName)", "substring(thumbprint,1,2) desc",
		}
	}
	return []string{
		"length(connectorName)", "length(connectorName) desc", "tolower(machineName) desc", "year(enrollmentDateTime)",
		"year(enrollmentDateTime) desc,tolower(machineName)", "toupper(connectorName),connectorName desc",
		"connectorName,machineName desc,connectorVersion", "connectorName desc,machineName,id desc",
		"startswith(connectorName,'a')", "contains(connectorName,'a') desc,length(machineName)", "connectorName eq null",
		"fractionalseconds(enrollmentDateTime) desc", "totaloffsetminutes(lastCheckinDateTime)", "date(enrollmentDateTime) desc",
		"time(lastCheckinDateTime)", "indexof(machineName,'a') desc", "trim(connectorName)", "concat(connectorName,machineName) desc",
		"substring(connectorName,1)", "now()", "enrollmentDateTime eq lastCheckinDateTime,id", "day(lastCheckinDateTime) desc",
		"hour(enrollmentDateTime),minute(enrollmentDateTime) desc,second(enrollmentDateTime)", "mindatetime(),connectorVersion desc",
	}
}

// nastyFilters are filters picked by hand for the translation's corner cases: nulls in every position, Boolean
// orderings and lists, substring's clamping, chains at the length limit, LIKE metacharacters, collation, and for
// userPfxCertificates enums, binary values and string keys.
func nastyFilters(set *odata.EntitySet) []string {
	if set == userPfx {
		return userPfxFilters()
	}
	return connectorFilters()
}

// userPfxFilters are nastyFilters of userPfxCertificates.
func userPfxFilters() []string {
	key := odata.UserPfxKey("O'Neil@contoso.com", "ABC")
	return []string{
		// Enums: members as strings in any case, qualified literals, lists, orderings by value, null.
		"intendedPurpose eq 'smimeEncryption'", "intendedPurpose eq 'SMIMEENCRYPTION'", "intendedPurpose ne 'unassigned'",
		"intendedPurpose eq microsoft.graph.userPfxIntendedPurpose'vpn'", "intendedPurpose eq Microsoft.Graph.UserPfxIntendedPurpose'Wifi'",
		"intendedPurpose gt 'smimeSigning'", "intendedPurpose le 'smimeEncryption'", "'vpn' lt intendedPurpose",
		"intendedPurpose in ('vpn', 'wifi')", "intendedPurpose in ('vpn', null)", "not (paddingScheme in ('none', 'OaepSha512'))",
		"paddingScheme ge microsoft.graph.userPfxPaddingScheme'oaepSha256'", "intendedPurpose eq null", "intendedPurpose ne null",
		"paddingScheme eq paddingScheme", "(intendedPurpose eq 'vpn') eq (paddingScheme eq 'pkcs1')",
		// String keys.
		"id eq '" + key + "'", "id eq '" + strings.ToUpper(key) + "'", "id ne 'x'", "id in ('x', '" + key + "')", "startswith(id, '0')",
		"id gt '8'", "length(id) gt 40", "endswith(id, tolower(thumbprint))", "contains(id, '-')",
		// The PFX import module's lookups.
		"tolower(userPrincipalName) eq 'o''neil@contoso.com' and tolower(thumbprint) eq 'abc'", "userPrincipalName eq 'a@b.c'",
		"tolower(userPrincipalName) eq tolower('ÉMILE@contoso.com')", "startswith(tolower(thumbprint), 'a')",
		// Times, server-set ones included.
		"createdDateTime eq lastModifiedDateTime", "expirationDateTime lt startDateTime", "expirationDateTime ge 2020-01-01",
		"year(createdDateTime) eq 2024", "startDateTime eq mindatetime()", "lastModifiedDateTime le now()",
		"keyName eq null", "providerName gt keyName", "length(keyName) eq 0", "concat(providerName, keyName) eq 'ab'",
	}
}

func connectorFilters() []string {
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
		// mindatetime(), maxdatetime(), and Date literals against DateTimeOffsets (midnight UTC).
		"enrollmentDateTime eq mindatetime()", "enrollmentDateTime lt maxdatetime()", "lastCheckinDateTime ge maxdatetime()",
		"year(maxdatetime()) eq 9999", "totaloffsetminutes(mindatetime()) eq 0", "mindatetime() lt now()", "maxdatetime() eq maxdatetime()",
		"date(maxdatetime()) eq 9999-12-31", "time(mindatetime()) eq 00:00:00", "fractionalseconds(maxdatetime()) eq 0.9999999",
		"enrollmentDateTime ge 2016-12-31", "enrollmentDateTime lt 2017-01-01", "2016-12-31 le lastCheckinDateTime",
		"enrollmentDateTime eq 0001-01-01", "enrollmentDateTime in (2016-12-31, 0001-01-01, null)", "enrollmentDateTime ne 9999-12-31",
		"not (enrollmentDateTime gt 2017-01-01) and lastCheckinDateTime ge 2000-02-29",
		// not binds tighter than comparisons: it applies to Boolean operands only.
		"not contains(connectorName, 'a') eq true", "not (connectorName eq 'a') or not startswith(machineName, 'b')",
		"not not (connectorName eq 'a')", "not (not (connectorName eq 'a')) eq false",
	}
	// Chains at the length limit: flat lists for and/or, long comparison chains.
	// Comparison chains nest: beyond a few thousand levels PostgreSQL's stack gives out (List answers 400, see
	// TestQueryTooDeep), so they go to 8 KiB; and/or chains are flat lists and go to the limit.
	const nestingLength = 8 << 10
	limitN := func(n int, unit, head string) string {
		var b strings.Builder
		b.WriteString(head)
		for b.Len()+len(unit) <= n {
			b.WriteString(unit)
		}
		return b.String()
	}
	limit := func(unit, head string) string { return limitN(odata.MaxFilterLength, unit, head) }
	fs = append(fs,
		limit(" or connectorName eq 'x'", "false"),
		limit(" and not (connectorName eq 'x')", "true"),
		limit(" or id eq id", "false"),
		limit(" and true", "true"),
		limitN(nestingLength, " eq true", "true"),
		limitN(nestingLength, " eq false", "contains(connectorName,'a')"),
		limitN(nestingLength, " ne null", "connectorName eq 'a'"),
		limitN(nestingLength, " eq (id eq id)", "true"),
		limitN(nestingLength, " gt (connectorName gt 'a')", "true"),
		limitN(nestingLength, " in (true,null)", "connectorName eq 'a'"),
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
// generated trees, each planned with EXPLAIN in a page statement without and with an ordering, and with an
// expression ordering or a keyset cursor.
func TestFilterSQLAccepted(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := t.Context()
	strs := odataTestStrings(t)
	slices.Sort(strs)
	strs = slices.Compact(strs)
	x := "x"
	for _, set := range []*odata.EntitySet{connectors, userPfx} {
		inputs := slices.Clone(strs)
		r := rand.New(rand.NewPCG(7, 8))
		g := odatatest.NewFilterGenFor(r, set.Type)
		for i := range 300 {
			inputs = append(inputs, odatatest.FormatRandom(r, g.Filter(7+i%4)))
		}
		inputs = append(inputs, nastyFilters(set)...)
		aliases := map[string]string{"@a": "'x'", "@b": "('a','b')", "@l": `["a","b"]`, "@n": "null", "@i": "5",
			"@p": "connectorName eq 'a'", "@e": "'vpn'"}
		strName := "machineName"
		if set == userPfx {
			strName = "userPrincipalName"
			aliases["@p"] = "keyName eq 'a'"
		}
		str := set.Type.MustProperty(strName)
		ref := &odata.PropertyRef{P: str}
		variants := []struct {
			order []odata.OrderBy
			after *store.Cursor
		}{
			{nil, nil},
			{[]odata.OrderBy{{Expr: ref, Desc: true}}, nil},
			{[]odata.OrderBy{{Expr: &odata.Call{Fn: odata.FnLength, Args: []odata.Expr{ref}}}}, nil},
			{[]odata.OrderBy{{Expr: ref, Desc: true}}, &store.Cursor{Values: []*string{&x}, Key: seedID}},
			{[]odata.OrderBy{{Expr: ref}}, &store.Cursor{Values: []*string{nil}, Key: seedID}},
		}
		if set == userPfx {
			for i := range variants {
				if variants[i].after != nil {
					variants[i].after.Key = odata.UserPfxKey("a", "b")
				}
			}
		}
		accepted, tooDeep := 0, 0
		for i, in := range inputs {
			f, err := odata.ParseFilter(set.Type, in, aliases)
			if err != nil {
				if odata.ErrorKind(err) != odata.KindInvalid {
					t.Errorf("%s: ParseFilter(%q): %v is not an invalid-request error", set.Name, in, err)
				}
				continue
			}
			accepted++
			// Every input without and with an ordering; now and then an expression ordering or a cursor. The
			// other set's strings mostly repeat these; one variant each.
			vs := []int{0, 1}
			if i%4 == 0 {
				vs = append(vs, 2+i%3)
			}
			if set != connectors {
				vs = []int{i % len(variants)}
			}
			for _, v := range vs {
				q := odata.Query{Filter: f, OrderBy: variants[v].order, Count: true}
				sql, args := s.ListSQL(ctx, set, tenantA, store.ListRequest{Query: q, PageSize: 50, After: variants[v].after, Now: diffNow})
				ctx, cancel := context.WithTimeout(ctx, queryTimeout)
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
				if err != nil && isStackDepth(err) && depth(f) > 2000 {
					// Thousands of nested comparisons exhaust PostgreSQL's stack: List refuses them with a 400.
					if _, err := s.List(ctx, set, tenantA, store.ListRequest{Query: q, PageSize: 1, Now: diffNow}); odata.ErrorKind(err) != odata.KindInvalid {
						t.Errorf("%s: filter %.100q nesting %d deep: List: %v, want an invalid-request error", set.Name, in, depth(f), err)
					}
					tooDeep++
					break
				}
				if err != nil {
					t.Errorf("%s: filter %q: PostgreSQL refuses\n%s\nargs %#v\n%v", set.Name, in, sql, args, err)
					break
				}
			}
		}
		t.Logf("%s: %d of %d inputs accepted by the parser, all planned by PostgreSQL but %d nesting too deeply",
			set.Name, accepted, len(inputs), tooDeep)
	}
}

func isStackDepth(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "54001"
}

// depth is the height of a filter tree.
func depth(e odata.Expr) int {
	switch n := e.(type) {
	case *odata.Binary:
		return 1 + max(depth(n.Left), depth(n.Right))
	case *odata.Not:
		return 1 + depth(n.X)
	case *odata.In:
		return 1 + depth(n.X)
	case *odata.Call:
		d := 0
		for _, a := range n.Args {
			d = max(d, depth(a))
		}
		return 1 + d
	}
	return 1
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

// The SQL of a filter grows linearly with its text, however it nests (a translation that repeats an operand
// doubles the SQL per level, and PostgreSQL's planning time with it), and and/or chains stay flat lists, so
// neither Go's recursion nor PostgreSQL's parser (max_stack_depth) sees their length as depth.
func TestFilterSQLShape(t *testing.T) {
	t.Parallel()
	for _, set := range []*odata.EntitySet{connectors, userPfx} {
		r := rand.New(rand.NewPCG(9, 10))
		g := odatatest.NewFilterGenFor(r, set.Type)
		inputs := nastyFilters(set)
		n := 2000
		if set != connectors {
			n = 1000
		}
		for i := range n {
			inputs = append(inputs, odatatest.Format(g.Filter(1+i%10)))
		}
		for _, in := range inputs {
			if len(in) > odata.MaxFilterLength {
				continue
			}
			f, err := odata.ParseFilter(set.Type, in, nil)
			if err != nil {
				t.Fatalf("%s: ParseFilter(%q): %v", set.Name, in, err)
			}
			sql, _ := store.FilterSQL(set, f, diffNow)
			if len(sql) > 64*len(in)+64 {
				t.Errorf("%s: %d bytes of filter became %d bytes of SQL: %.200s", set.Name, len(in), len(sql), in)
			}
		}
	}
	for _, chain := range []string{
		strings.Repeat("connectorName eq 'x' or ", 300) + "true",
		strings.Repeat("connectorName eq 'x' and ", 300) + "true",
		"not (" + strings.Repeat("not (connectorName eq 'x') and ", 250) + "true)",
		strings.Repeat("(", 99) + "true" + strings.Repeat(" or connectorName eq 'x')", 99),
	} {
		f, err := odata.ParseFilter(connectors.Type, chain, nil)
		if err != nil {
			t.Fatal(err)
		}
		sql, _ := store.FilterSQL(connectors, f, diffNow)
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
