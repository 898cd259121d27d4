package httpapi_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/odata/odatatest"
	"github.com/graphd/graphd/store"
)

// Paging on PostgreSQL: long sort keys (issue 8 items 3 and 4), entities that change between pages, string keys.

// randomText is n characters of incompressible text, CJK when cjk is set (PostgreSQL compresses repetitive text
// before its index-size check, which would hide a limit).
func randomText(r *rand.Rand, n int, cjk bool) string {
	var b strings.Builder
	for range n {
		if cjk {
			b.WriteRune(rune(0x4E00 + r.IntN(0x9FFF-0x4E00)))
		} else {
			b.WriteByte(byte('!' + r.IntN('~'-'!'+1)))
		}
	}
	return b.String()
}

// pageThrough follows a query's nextLinks and returns the entities' ids, failing on any refused link.
func pageThrough(t *testing.T, s authServer, tok, path string, header http.Header) ([]string, []json.RawMessage) {
	t.Helper()
	var ids []string
	var items []json.RawMessage
	for link, n := path, 0; link != ""; n++ {
		if n > 1000 {
			t.Fatal("the nextLinks loop")
		}
		res, body := s.do(t, tok, "GET", link, header, "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %.300s: %d %.500s", link, res.StatusCode, body)
		}
		page := decodePage(t, body)
		if _, token, ok := strings.Cut(page.NextLink, "$skiptoken="); ok && len(token) > 2900 {
			t.Errorf("a $skiptoken of %d bytes: tokens must stay bounded", len(token))
		}
		if len(page.NextLink) > httpapi.DefaultMaxURLBytes {
			t.Errorf("a nextLink of %d bytes, beyond the URL limit", len(page.NextLink))
		}
		ids = append(ids, page.ids(t)...)
		items = append(items, page.Value...)
		link = page.NextLink
	}
	return ids, items
}

// TestPagingLongSortKeysPostgres pages through connectors whose connectorVersion is 10,000 characters of random
// text, many sharing long prefixes (beyond store.PrefixChars, where the index stops telling them apart), under
// property and expression orderings, a page at a time: every nextLink the server issues is accepted, and the
// pages hold every match once, in the reference evaluator's order. A full value is found by eq.
func TestPagingLongSortKeysPostgres(t *testing.T) {
	t.Parallel()
	s := newDevServer(t, nil)
	r := rand.New(rand.NewPCG(8, 4))
	const n = 10_000
	shared := randomText(r, n, true)
	prefix := string([]rune(shared)[:300]) // longer than the indexed prefix, store.PrefixChars
	ascii := randomText(r, n, false)
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	var versions []odata.Value
	for i := range 4 {
		versions = append(versions, odata.Str(prefix+randomText(r, n-300, i%2 == 0))) // ties on the indexed prefix
		versions = append(versions, odata.Str(shared[:len(shared)-3*(i+1)]+randomText(r, i+1, true)))
		versions = append(versions, odata.Str(randomText(r, n, i%2 == 1)))
	}
	versions = append(versions, odata.Str(ascii), odata.Str(ascii[:n-1]), odata.Null, odata.Null, odata.Str(""), odata.Str("1.0"))
	g := newTestRows()
	var rows []odata.Entity
	for i, v := range versions {
		c := connector(g.id(), "c"+strconv.Itoa(i%3))
		c.Set("connectorVersion", v)
		c.Set("machineName", odata.Str(randomText(r, 300, i%2 == 0)))
		rows = append(rows, c)
	}
	importEntities(t, s.store, odata.DevTenantID, rows)
	for i := range rows {
		rows[i].Version = 1
	}
	now := odata.FromTime(pinnedNow.UTC())
	for _, tc := range []struct{ filter, order, top string }{
		{"", "connectorVersion", "1"},
		{"", "connectorVersion desc", "3"},
		{"", "connectorName,connectorVersion desc,machineName", "2"},
		{"", "tolower(connectorVersion)", "2"},
		{"startswith(connectorVersion," + quote(prefix) + ")", "connectorVersion desc", "1"},
		{"connectorVersion eq " + quote(ascii), "connectorVersion", "1"},
		{"connectorVersion ge " + quote(ascii[:n-1]), "connectorVersion", "1"},
	} {
		path := collection + "?$top=" + tc.top + "&$orderby=" + qv(tc.order)
		var filter odata.Expr
		if tc.filter != "" {
			path += "&$filter=" + qv(tc.filter)
			var err error
			if filter, err = odata.ParseFilter(connSet.Type, tc.filter, nil); err != nil {
				t.Fatal(err)
			}
		}
		order, err := odata.ParseOrderBy(connSet.Type, tc.order, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := expectOf(rows, filter, order, now)
		if len(want) == 0 {
			t.Fatalf("%s selects nothing: the case tests nothing", tc.filter)
		}
		_, items := pageThrough(t, s, "", path, nil)
		checkItems(t, "$orderby="+tc.order+" $top="+tc.top, items, want, odata.MetadataMinimal, 0)
	}
}

// TestPagingChangesBetweenPages deletes the entity a skiptoken points at, and moves another, between pages: the
// next page starts after the cursor's values, so the remaining entities still come once each.
func TestPagingChangesBetweenPages(t *testing.T) {
	t.Parallel()
	s := newDevServer(t, nil)
	g := newTestRows()
	var rows []odata.Entity
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		rows = append(rows, connector(g.id(), name))
	}
	importEntities(t, s.store, odata.DevTenantID, rows)
	res, body := s.do(t, "", "GET", collection+"?$top=3&$orderby=connectorName&$select=connectorName", nil, "")
	first := decodePage(t, body)
	if res.StatusCode != 200 || len(first.Value) != 3 || first.NextLink == "" {
		t.Fatalf("first page: %d %s", res.StatusCode, body)
	}
	// The token points at "c": delete it; rename "f" to sort before the cursor, and "a" (seen) to sort after it.
	if err := s.store.Delete(t.Context(), connSet, odata.DevTenantID, rows[2].Key(), store.Precondition{}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []struct{ i int }{{5}, {0}} {
		name := map[int]string{5: "bb", 0: "zz"}[ch.i]
		if res, body := s.do(t, "", "PATCH", collection+"/"+rows[ch.i].Key(), jsonHdr(), `{"connectorName":"`+name+`"}`); res.StatusCode != 200 {
			t.Fatalf("PATCH: %d %s", res.StatusCode, body)
		}
	}
	ids, _ := pageThrough(t, s, "", first.NextLink, nil)
	// After "c": d, e, g, and the renamed a ("zz"); the renamed f ("bb") now sorts before the cursor.
	want := []string{rows[3].Key(), rows[4].Key(), rows[6].Key(), rows[0].Key()}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("later pages hold %v, want %v", ids, want)
	}
}

// TestPagingUserPfxPostgres pages through generated certificates (string keys, enums, secrets) under several
// orderings, comparing each item with the reference, redacted as reads are.
func TestPagingUserPfxPostgres(t *testing.T) {
	t.Parallel()
	s := newDevServer(t, nil)
	rows := odatatest.NewUserPfxGen(rand.New(rand.NewPCG(3, 9))).Entities(40)
	importEntities(t, s.store, odata.DevTenantID, rows)
	for i := range rows {
		rows[i].Version = 1
	}
	now := odata.FromTime(pinnedNow.UTC())
	for _, tc := range []struct{ order, query string }{
		{"", "$top=7"},
		{"thumbprint", "$top=6&$count=true"},
		{"userPrincipalName desc,intendedPurpose", "$top=5"},
		{"intendedPurpose desc,paddingScheme", "$top=9&$skip=3"},
		{"expirationDateTime desc", "$top=8"},
		{"tolower(userPrincipalName),length(thumbprint) desc", "$top=4"},
		{"createdDateTime,id desc", "$top=11"},
	} {
		path := pfxCollection + "?" + tc.query
		var order []odata.OrderBy
		if tc.order != "" {
			path += "&$orderby=" + qv(tc.order)
			var err error
			if order, err = odata.ParseOrderBy(pfxSet.Type, tc.order, nil); err != nil {
				t.Fatal(err)
			}
		}
		q, err := odata.ParseQuery(pfxSet.Type, tc.query, odata.ForCollection)
		if err != nil {
			t.Fatal(err)
		}
		want := expectOf(rows, nil, order, now)[q.Skip:]
		_, items := pageThrough(t, s, "", path, nil)
		checkItemsOf(t, pfxSet, tc.order, items, want, odata.MetadataMinimal, 0)
	}
}
