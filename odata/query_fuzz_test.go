package odata

import (
	"strings"
	"testing"
)

// Fuzz tests of the query option parsers. Properties: no panic; every error is a client error (*Error, KindInvalid,
// BadRequest); whatever is accepted is well formed: a Boolean filter tree that evaluates without panicking and
// prints back to a $filter parsing to the same tree, orderings and selections of known properties only.

var filterSeeds = []string{
	"connectorName eq 'a'",
	"connectorName eq 'O''Neil' or machineName ne null and not contains(connectorVersion,'x')",
	"NOT(connectorName EQ 'a') AND machineName Ne 'b' oR TRUE",
	"enrollmentDateTime ge 2016-12-31T23:57:59.3726057-08:00 and lastCheckinDateTime lt now()",
	"year(enrollmentDateTime) eq 2016 and month(enrollmentDateTime) eq 12 and day(enrollmentDateTime) eq 31",
	"hour(enrollmentDateTime) eq 23 or minute(enrollmentDateTime) eq 57 or second(enrollmentDateTime) eq 59",
	"fractionalseconds(enrollmentDateTime) lt 0.5 and totaloffsetminutes(enrollmentDateTime) eq -480",
	"date(enrollmentDateTime) eq 2016-12-31 and time(enrollmentDateTime) gt 12:34:56.1234567",
	"length(connectorName) gt 3 and indexof(connectorName,'a') ge 0",
	"substring(connectorName,1,2) eq 'on' and substring(machineName,-1) eq 'e'",
	"tolower(connectorName) eq 'a' and toupper(machineName) eq 'B' and trim(connectorVersion) eq concat('a','b')",
	"startswith(id,'10') or endswith(id,'10')",
	"connectorName in ('a','b',null)",
	`connectorName in ["a","\u00e9","\ud83d\ude00"]`,
	"length(connectorName) in (1,2.5,-3,1e3)",
	"connectorName eq @a",
	"connectorName in @a",
	"@a and true",
	"((((true))))",
	"not not not true",
	"null eq null",
	"connectorName eq 5",
	"connectorName eq 'abc",
	"foo(bar)",
	"enrollmentDateTime eq 2024-06-15T10:00:00",
	"id eq 104d7361-7361-104d-6173-4d1061734d10",
	strings.Repeat("(", MaxFilterDepth+1) + "true" + strings.Repeat(")", MaxFilterDepth+1),
	strings.Repeat("not ", MaxFilterDepth+1) + "true",
	strings.Repeat("(", 100000),
	strings.Repeat("true or ", 1000) + "true",
}

var aliasSeeds = []string{"'x'", "('a','b')", `["a"]`, "connectorName eq 'a' or true", "@a", "", "(true", "5"}

// treeHeight is the height of an expression tree.
func treeHeight(e Expr) int {
	h := 0
	switch e := e.(type) {
	case *Binary:
		h = max(treeHeight(e.Left), treeHeight(e.Right))
	case *Not:
		h = treeHeight(e.X)
	case *In:
		h = treeHeight(e.X)
	case *Call:
		for _, a := range e.Args {
			h = max(h, treeHeight(a))
		}
	}
	return h + 1
}

func checkFilter(t *testing.T, e Expr) {
	t.Helper()
	if !isBoolean(e) {
		t.Fatalf("accepted a filter of type %s", typeName(e))
	}
	seed, empty, uni := evalRows(t)
	for _, c := range []*Connector{&seed, &empty, &uni} {
		v := Eval(e, c, seed.LastCheckinDateTime)
		if !v.Null && v.Kind != KindBoolean {
			t.Fatalf("%s evaluates to kind %s", sexpr(e), kindName(v.Kind))
		}
		if v.Null && !e.Nullable() {
			t.Fatalf("%s evaluates to null, but Nullable() is false", sexpr(e))
		}
	}
	// Printed fully parenthesised, the tree parses back to itself (when the print stays within the limits).
	if text := odataText(e); len(text) <= MaxFilterLength && treeHeight(e) < MaxFilterDepth/2 {
		again, err := ParseFilter(text, nil)
		if err != nil {
			t.Fatalf("%s prints as %q, which does not parse: %v", sexpr(e), text, err)
		}
		if sexpr(again) != sexpr(e) {
			t.Fatalf("%s prints as %q, which parses as %s", sexpr(e), text, sexpr(again))
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s, "'x'")
	}
	for _, a := range aliasSeeds {
		f.Add("connectorName eq @a", a)
	}
	f.Fuzz(func(t *testing.T, filter, alias string) {
		e, err := ParseFilter(filter, map[string]string{"@a": alias})
		if err != nil {
			fuzzInvalid(t, err)
			if e != nil {
				t.Fatalf("an error and a tree %s", sexpr(e))
			}
			return
		}
		checkFilter(t, e)
	})
}

func FuzzParseOrderBy(f *testing.F) {
	for _, s := range []string{"connectorName", "connectorName desc,machineName asc", "  id \tDESC , enrollmentDateTime",
		"connectorName,connectorName", "tolower(connectorName)", "foo", "", ",", "connectorName desc asc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		items, err := ParseOrderBy(value)
		if err != nil {
			fuzzInvalid(t, err)
			return
		}
		if len(items) == 0 {
			t.Fatal("accepted an empty $orderby")
		}
		var seen uint16
		for _, it := range items {
			if it.Prop >= NumProperties || seen&(1<<it.Prop) != 0 {
				t.Fatalf("items %+v: unknown or repeated property", items)
			}
			seen |= 1 << it.Prop
		}
	})
}

func FuzzParseSelect(f *testing.F) {
	for _, s := range []string{"connectorName", "connectorName,machineName", " id , * ", "*", "foo", "", ",", "connectorName,,id"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		mask, err := ParseSelect(value)
		if err != nil {
			fuzzInvalid(t, err)
			return
		}
		if mask != 0 && (mask&(1<<PropID) == 0 || mask>>NumProperties != 0) {
			t.Fatalf("ParseSelect(%q) = %#b", value, mask)
		}
		list := SelectList(mask)
		for name := range strings.SplitSeq(list, ",") {
			if _, ok := LookupProperty(name); !ok && list != "" {
				t.Fatalf("SelectList(%#b) = %q", mask, list)
			}
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"$filter=connectorName%20eq%20%27a%27&$orderby=machineName%20desc&$select=connectorName&$top=5&$skip=10&$count=true&$expand=*&$skiptoken=abc&$format=json",
		"filter=connectorName+eq+'a;b'&TOP=1",
		"$filter=connectorName eq @n&@n='x'",
		"$filter=connectorName in @l&@l=[\"a\",\"b\"]",
		"$top=-1", "$top=99999999999999999999", "$count=yes", "$search=x", "$foo=1", "$filter=true&filter=true",
		"$expand=manager", "$format=xml", "%zz=1", "$filter=%zz", "@1=x", "$select=id&$expand=*",
		"$filter=" + strings.Repeat("(", 100000),
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, forEntity bool) {
		q, err := ParseQuery(raw, forEntity)
		if err != nil {
			fuzzInvalid(t, err)
			return
		}
		if q.Top < -1 || q.Skip < 0 || q.Select>>NumProperties != 0 || q.Select != 0 && q.Select&(1<<PropID) == 0 {
			t.Fatalf("ParseQuery(%q) = %+v", raw, q)
		}
		if !q.HasSkipToken && q.SkipToken != "" {
			t.Fatalf("a skiptoken without HasSkipToken: %+v", q)
		}
		if forEntity && (q.Filter != nil || q.OrderBy != nil || q.Top != -1 || q.Skip != 0 || q.Count || q.HasSkipToken) {
			t.Fatalf("a single-entity query with collection options: %+v", q)
		}
		if q.Filter != nil {
			checkFilter(t, q.Filter)
		}
	})
}
