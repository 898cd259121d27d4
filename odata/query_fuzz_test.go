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
	"not connectorName eq 'a'",
	"not (connectorName eq 'a') and true eq not false",
	"enrollmentDateTime ge 2024-06-15 and lastCheckinDateTime in (2024-06-15,2024-06-16T00:00:00Z)",
	"enrollmentDateTime gt mindatetime() and lastCheckinDateTime lt maxdatetime()",
	"2024-06-15T00:00:00Z eq 2024-06-15",
	"intendedPurpose eq 'SmimeEncryption' and paddingScheme ne microsoft.graph.userPfxPaddingScheme'oaepSha512'",
	"intendedPurpose in ('vpn',microsoft.graph.userPfxIntendedPurpose'wifi',null) or paddingScheme gt 'none'",
	"intendedPurpose eq paddingScheme",
	"intendedPurpose eq microsoft.graph.color'red'",
	"encryptedPfxBlob eq null or encryptedPfxPassword ne null",
	"tolower(userPrincipalName) eq 'adele@contoso.com' and tolower(thumbprint) eq 'ab12'",
	"startswith(id,'" + pfxKey[:10] + "') and createdDateTime le lastModifiedDateTime",
}

var aliasSeeds = []string{"'x'", "('a','b')", `["a"]`, "connectorName eq 'a' or true", "@a", "", "(true", "5", "'vpn'",
	"microsoft.graph.userPfxIntendedPurpose'vpn'", "2024-06-15", "length(connectorName)"}

// fuzzSets are the entity sets the query fuzzers parse every input against, with rows to evaluate on.
func fuzzRows(tb testing.TB, t *EntityType) []Entity {
	tb.Helper()
	if t == connType {
		seed, empty, uni := evalRows(tb)
		return []Entity{seed, empty, uni}
	}
	p, err := ParseCreate(pfxType, []byte(pfxDocsBody))
	if err != nil {
		tb.Fatal(err)
	}
	docs := NewEntity(pfxType, "", &p, mustParseDateTimeOffset(tb, "2017-01-01T00:02:43.5775965-08:00"))
	docs.Values[0] = Str(UserPfxKey("User Principal Name value", "Thumbprint value"))
	bare := entity(pfxType, pfxKey, map[string]Value{"thumbprint": Str("AB12"), "userPrincipalName": Str("adele@contoso.com")})
	return []Entity{docs, bare}
}

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

// checkProperties fails if e reads a property of another type, a secret, or a Binary outside eq/ne null.
func checkProperties(t *testing.T, typ *EntityType, e Expr) {
	t.Helper()
	var walk func(e Expr, binaryOK bool)
	walk = func(e Expr, binaryOK bool) {
		switch e := e.(type) {
		case *PropertyRef:
			if int(e.P.ID) >= len(typ.Properties) || &typ.Properties[e.P.ID] != e.P || e.P.Secret || e.P.Type == EdmBinary && !binaryOK {
				t.Fatalf("the tree reads property %s", e.P.Name)
			}
		case *Literal:
			if e.LitKind == KindEnum {
				if _, ok := e.Enum.NameOf(e.Int); !ok {
					t.Fatalf("enum literal %d is no member of %s", e.Int, e.Enum.Qualified)
				}
			}
		case *Binary:
			nullCmp := (e.Op == OpEq || e.Op == OpNe) && (e.Left.Kind() == KindNull || e.Right.Kind() == KindNull)
			walk(e.Left, nullCmp)
			walk(e.Right, nullCmp)
		case *Not:
			walk(e.X, false)
		case *In:
			walk(e.X, false)
			for _, x := range e.List {
				walk(x, false)
			}
		case *Call:
			for _, a := range e.Args {
				walk(a, false)
			}
		}
	}
	walk(e, false)
}

func checkFilter(t *testing.T, typ *EntityType, e Expr) {
	t.Helper()
	if !isBoolean(e) {
		t.Fatalf("accepted a filter of type %s", typeName(e))
	}
	checkProperties(t, typ, e)
	rows := fuzzRows(t, typ)
	now := mustParseDateTimeOffset(t, "2017-01-01T00:02:46.0431416-08:00")
	for i := range rows {
		v := Eval(e, &rows[i], now)
		if !v.Null && v.Kind != KindBoolean {
			t.Fatalf("%s evaluates to kind %s", sexpr(e), kindName(v.Kind))
		}
		if v.Null && !e.Nullable() {
			t.Fatalf("%s evaluates to null, but Nullable() is false", sexpr(e))
		}
	}
	// Printed fully parenthesised, the tree parses back to itself (when the print stays within the limits).
	if text := odataText(e); len(text) <= MaxFilterLength && treeHeight(e) < MaxFilterDepth/2 {
		again, err := ParseFilter(typ, text, nil)
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
		f.Add("intendedPurpose in @a", a)
	}
	f.Fuzz(func(t *testing.T, filter, alias string) {
		for _, typ := range []*EntityType{connType, pfxType} {
			e, err := ParseFilter(typ, filter, map[string]string{"@a": alias})
			if err != nil {
				fuzzInvalid(t, err)
				if e != nil {
					t.Fatalf("an error and a tree %s", sexpr(e))
				}
				continue
			}
			checkFilter(t, typ, e)
		}
	})
}

func FuzzParseOrderBy(f *testing.F) {
	for _, s := range []string{"connectorName", "connectorName desc,machineName asc", "  id \tDESC , enrollmentDateTime",
		"connectorName,connectorName", "tolower(connectorName)", "foo", "", ",", "connectorName desc asc",
		"length(connectorName) desc,tolower(machineName),year(enrollmentDateTime) asc", "(connectorName),connectorName desc",
		"connectorName eq 'a' desc", "@a desc", "intendedPurpose desc,paddingScheme", "encryptedPfxBlob", "intendedPurpose eq 'vpn'",
		"enrollmentDateTime gt 2024-06-15 desc", "not (connectorName eq 'a')"} {
		f.Add(s, "length(connectorName)")
	}
	f.Fuzz(func(t *testing.T, value, alias string) {
		for _, typ := range []*EntityType{connType, pfxType} {
			items, err := ParseOrderBy(typ, value, map[string]string{"@a": alias})
			if err != nil {
				fuzzInvalid(t, err)
				continue
			}
			if len(items) == 0 {
				t.Fatal("accepted an empty $orderby")
			}
			var seen uint64
			texts := make([]string, len(items))
			printable := true
			for i, it := range items {
				if it.Expr.Kind() == KindBinary {
					t.Fatalf("items %s: ordered by a Binary", showOrder(items))
				}
				checkProperties(t, typ, it.Expr)
				if p, ok := it.Expr.(*PropertyRef); ok {
					if seen&(1<<p.P.ID) != 0 {
						t.Fatalf("items %s: repeated property", showOrder(items))
					}
					seen |= 1 << p.P.ID
				}
				texts[i] = odataText(it.Expr)
				if it.Desc {
					texts[i] += " desc"
				}
				printable = printable && treeHeight(it.Expr) < MaxFilterDepth/2
			}
			rows := fuzzRows(t, typ)
			now := mustParseDateTimeOffset(t, "2017-01-01T00:02:46.0431416-08:00")
			for i := range rows {
				for j := range rows {
					if a, b := CompareOrder(&rows[i], &rows[j], items, now), CompareOrder(&rows[j], &rows[i], items, now); a != -b || i == j && a != 0 {
						t.Fatalf("CompareOrder of rows %d and %d under %s: %d and %d", i, j, showOrder(items), a, b)
					}
				}
			}
			// encode(parse(x)): printed back, the items parse to themselves.
			if text := strings.Join(texts, ","); printable && len(text) <= MaxFilterLength {
				again, err := ParseOrderBy(typ, text, nil)
				if err != nil {
					t.Fatalf("%s prints as %q, which does not parse: %v", showOrder(items), text, err)
				}
				if showOrder(again) != showOrder(items) {
					t.Fatalf("%s prints as %q, which parses as %s", showOrder(items), text, showOrder(again))
				}
			}
		}
	})
}

func FuzzParseSelect(f *testing.F) {
	for _, s := range []string{"connectorName", "connectorName,machineName", " id , * ", "*", "foo", "", ",", "connectorName,,id",
		"encryptedPfxBlob,intendedPurpose", "lastModifiedDateTime"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, typ := range []*EntityType{connType, pfxType} {
			mask, err := ParseSelect(typ, value)
			if err != nil {
				fuzzInvalid(t, err)
				continue
			}
			if mask != 0 && (mask&1 == 0 || mask>>len(typ.Properties) != 0) {
				t.Fatalf("ParseSelect(%q) = %#b", value, mask)
			}
			list := SelectList(typ, mask)
			for name := range strings.SplitSeq(list, ",") {
				if _, ok := typ.Property(name); !ok && list != "" {
					t.Fatalf("SelectList(%#b) = %q", mask, list)
				}
			}
			// The list selects what the mask does.
			if list != "" {
				again, err := ParseSelect(typ, list)
				if err != nil || again != mask {
					t.Fatalf("SelectList(%#b) = %q parses as %#b, %v", mask, list, again, err)
				}
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
		"$filter=intendedPurpose%20eq%20'vpn'&$orderby=length(thumbprint)%20desc,intendedPurpose&$select=encryptedPfxBlob",
		"$orderby=@o&@o=tolower(machineName)", "$count=true&$filter=true",
	} {
		for target := range uint8(3) {
			f.Add(s, target)
		}
	}
	f.Fuzz(func(t *testing.T, raw string, target uint8) {
		tgt := Target(target % 3)
		for _, typ := range []*EntityType{connType, pfxType} {
			q, err := ParseQuery(typ, raw, tgt)
			if err != nil {
				fuzzInvalid(t, err)
				continue
			}
			if q.Top < -1 || q.Skip < 0 || q.Select>>len(typ.Properties) != 0 || q.Select != 0 && q.Select&1 == 0 {
				t.Fatalf("ParseQuery(%q) = %+v", raw, q)
			}
			if !q.HasSkipToken && q.SkipToken != "" {
				t.Fatalf("a skiptoken without HasSkipToken: %+v", q)
			}
			if tgt == ForEntity && (q.Filter != nil || q.OrderBy != nil || q.Top != -1 || q.Skip != 0 || q.Count || q.HasSkipToken) {
				t.Fatalf("a single-entity query with collection options: %+v", q)
			}
			if tgt == ForCount && (q.OrderBy != nil || q.Top != -1 || q.Skip != 0 || q.Select != 0 || q.HasSkipToken) {
				t.Fatalf("a /$count query with options it refuses: %+v", q)
			}
			if q.Filter != nil {
				checkFilter(t, typ, q.Filter)
			}
			for _, o := range q.OrderBy {
				checkProperties(t, typ, o.Expr)
			}
		}
	})
}
