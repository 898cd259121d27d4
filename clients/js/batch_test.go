package js

import (
	"net/http"
	"strings"
	"testing"

	"github.com/graphd/graphd/clients/clienttest"
	"github.com/graphd/graphd/odata"
)

// TestBatchGraphClient sends a serial batch through @microsoft/microsoft-graph-client's BatchRequestContent and
// reads it with BatchResponseContent (batch-graph-client.mjs): the GET after the PATCH shows the patched value,
// and the GET of a missing connector is a 404 whose body is Graph's error, as the client reads any response.
func TestBatchGraphClient(t *testing.T) {
	t.Parallel()
	node.Require(t)
	g := clienttest.Start(t, clienttest.Options{TLS: true})
	g.Import(t, clienttest.NewConnector(seedID, map[string]odata.Value{"connectorName": odata.Str("Imported connector")}))
	const missingID = "00000000-0000-4000-8000-0000000000ff"
	type response struct {
		Status      int
		OK          bool
		ContentType string
		Body        map[string]any
	}
	var got struct {
		Sent struct {
			Requests []struct {
				ID, URL, Method string
				Headers         map[string]string
			}
		}
		Responses map[string]response
	}
	node.Run(t, g, "batch-graph-client.mjs", map[string]any{"GRAPHD_ID": seedID, "GRAPHD_MISSING_ID": missingID, "GRAPHD_NAME": "Patched in a batch"}, &got)

	// What the client sent: urls with the version, as it strips only scheme, host and port; lower-case headers.
	if len(got.Sent.Requests) != 3 {
		t.Fatalf("sent %d requests, want 3: %+v", len(got.Sent.Requests), got.Sent)
	}
	for _, r := range got.Sent.Requests {
		if !strings.HasPrefix(r.URL, "/beta/deviceManagement/certificateConnectorDetails/") {
			t.Errorf("request %s: url %q, the client should have sent /beta/…", r.ID, r.URL)
		}
	}
	if ct := got.Sent.Requests[0].Headers["content-type"]; ct != "application/json" {
		t.Errorf("the PATCH's headers %v", got.Sent.Requests[0].Headers)
	}

	for _, id := range []string{"1", "2"} {
		r := got.Responses[id]
		if r.Status != 200 || !r.OK || !strings.HasPrefix(r.ContentType, "application/json") ||
			r.Body["connectorName"] != "Patched in a batch" || r.Body["@odata.etag"] != `W/"2"` {
			t.Errorf("response %s: %+v, want 200 with the patched connector", id, r)
		}
	}
	missing := got.Responses["3"]
	errBody, _ := missing.Body["error"].(map[string]any)
	if missing.Status != 404 || missing.OK || missing.ContentType != "application/json" || errBody["code"] != "ResourceNotFound" || errBody["message"] == "" {
		t.Errorf("the missing connector: %+v, want a 404 with Graph's error", missing)
	}
	if name := g.Connector(t, seedID).Get("connectorName").Str; name != "Patched in a batch" {
		t.Errorf("stored connectorName %q", name)
	}
	reqs := g.Requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodPost || reqs[0].RequestURI != "/beta/$batch" || reqs[0].Status != 200 {
		t.Errorf("requests %+v, want the one batch", reqs)
	}
}
