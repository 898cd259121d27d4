// Package js runs Microsoft's JavaScript Graph clients against an in-process graphd: the scripts in this
// directory (plain ES modules run by node) use @microsoft/microsoft-graph-client and the kiota-based
// @microsoft/msgraph-sdk-core; the tests start graphd, run a script with its base URL and token, and assert
// on the JSON it prints and on the requests graphd received. node_modules comes from `npm ci`, run once per
// test binary when package-lock.json changed.
package js

import (
	"os"
	"strings"
	"testing"

	"github.com/graphd/graphd/clients/clienttest"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var node = clienttest.NewNode(".")

// TestPageIterator runs the shared paging table through both JavaScript page iterators, each of which must
// yield every match exactly once, in order. graphd serves https: the Graph JavaScript client sends tokens to
// https URLs only, and reads only https nextLinks.
func TestPageIterator(t *testing.T) {
	t.Parallel()
	node.Require(t)
	for _, script := range []string{"paging-graph-client.mjs", "paging-kiota.mjs"} {
		t.Run(script, func(t *testing.T) {
			t.Parallel()
			clienttest.RunPagingCases(t, clienttest.Options{TLS: true}, func(t *testing.T, g *clienttest.Graphd, q clienttest.Query) clienttest.PagingResult {
				var got clienttest.PagingResult
				node.Run(t, g, script, map[string]any{"GRAPHD_QUERY": q}, &got)
				return got
			})
		})
	}
}

const seedID = "104d7361-7361-104d-6173-4d1061734d10"

// TestPatchKiota sends the seed's update through the kiota JavaScript model and serializer. JavaScript's
// Date keeps milliseconds and no offset, so the client sends (and graphd then stores and returns) the
// instant in UTC with three fraction digits.
func TestPatchKiota(t *testing.T) {
	t.Parallel()
	node.Require(t)
	g := clienttest.Start(t, clienttest.Options{TLS: true})
	g.Import(t, clienttest.NewConnector(seedID, map[string]odata.Value{"connectorName": odata.Str("Imported connector")}))
	body := map[string]string{
		"connectorName":       "Connector Name value",
		"machineName":         "Machine Name value",
		"enrollmentDateTime":  "2016-12-31T23:57:59.3726057-08:00",
		"lastCheckinDateTime": "2017-01-01T00:02:46.0431416-08:00",
		"connectorVersion":    "Connector Version value",
	}
	var got struct{ Patched, Read map[string]any }
	node.Run(t, g, "patch-kiota.mjs", map[string]any{"GRAPHD_ID": seedID, "GRAPHD_BODY": body}, &got)
	want := map[string]any{
		"id":                  seedID,
		"odataType":           "#microsoft.graph.certificateConnectorDetails",
		"connectorName":       "Connector Name value",
		"machineName":         "Machine Name value",
		"enrollmentDateTime":  "2017-01-01T07:57:59.372Z",
		"lastCheckinDateTime": "2017-01-01T08:02:46.043Z",
		"connectorVersion":    "Connector Version value",
	}
	for name, m := range map[string]map[string]any{"PATCH response": got.Patched, "GET": got.Read} {
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s: %s = %v, want %v", name, k, m[k], v)
			}
		}
		if ad, _ := m["additionalData"].(map[string]any); ad["@odata.etag"] != `W/"2"` {
			t.Errorf("%s: additionalData %v, want @odata.etag W/\"2\"", name, m["additionalData"])
		}
	}
	if s := g.Connector(t, seedID).Get("enrollmentDateTime").Time.String(); s != "2017-01-01T07:57:59.372Z" {
		t.Errorf("stored enrollmentDateTime %s", s)
	}
	var patches int
	for _, r := range g.Requests() {
		if r.Method == "PATCH" {
			patches++
			if r.Status != 200 || r.Header.Get("Authorization") != "Bearer "+g.Token || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("PATCH: status %d, Authorization %q, Content-Type %q", r.Status, r.Header.Get("Authorization"), r.Header.Get("Content-Type"))
			}
		}
	}
	if patches != 1 {
		t.Errorf("%d PATCH requests, want 1", patches)
	}
}
