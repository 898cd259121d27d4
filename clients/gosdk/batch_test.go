package gosdk

import (
	"errors"
	"net/http"
	"sync"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/graphd/graphd/clients/clienttest"
	"github.com/graphd/graphd/clients/gosdk/graphbeta"
	"github.com/graphd/graphd/odata"
)

// missingID is a connector no test stores.
const missingID = "00000000-0000-4000-8000-0000000000ff"

var registerBatchErrors sync.Once

// TestBatchRequest drives $batch through msgraph-sdk-go-core's BatchRequest, as the README's SDK example
// does: a PATCH, a GET that depends on it, and a GET of a missing connector, built by the request builders and
// sent gzipped in one POST. The GET shows the patched value, and the missing connector comes back as a 404 the
// SDK turns into the ODataError the generated builders register for batches.
func TestBatchRequest(t *testing.T) {
	t.Parallel()
	registerBatchErrors.Do(func() {
		// What an application using the generated SDK registers, so that GetBatchResponseById can build
		// errors of failed steps.
		_ = msgraphgocore.RegisterError(msgraphgocore.BatchRequestErrorRegistryKey,
			abstractions.ErrorMappings{"4XX": graphbeta.CreateODataErrorFromDiscriminatorValue, "5XX": graphbeta.CreateODataErrorFromDiscriminatorValue})
	})
	g := clienttest.Start(t, clienttest.Options{})
	g.Import(t, clienttest.NewConnector(seedID, map[string]odata.Value{"connectorName": odata.Str("Imported connector")}))
	client, adapter := newClient(t, g)
	ctx := t.Context()
	connectors := client.DeviceManagement().CertificateConnectorDetails()
	item := connectors.ByCertificateConnectorDetailsId(seedID)

	body := graphbeta.NewCertificateConnectorDetails()
	body.SetConnectorName(ptr("Patched in a batch"))
	patchInfo, err := item.ToPatchRequestInformation(ctx, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	batch := msgraphgocore.NewBatchRequest(adapter)
	patchStep, err := batch.AddBatchRequestStep(*patchInfo)
	if err != nil {
		t.Fatal(err)
	}
	getStep, err := batch.AddBatchRequestStep(*item.ToGetRequestInformation(ctx, nil))
	if err != nil {
		t.Fatal(err)
	}
	getStep.DependsOnItem(patchStep)
	missingStep, err := batch.AddBatchRequestStep(*connectors.ByCertificateConnectorDetailsId(missingID).ToGetRequestInformation(ctx, nil))
	if err != nil {
		t.Fatal(err)
	}
	missingStep.DependsOnItem(getStep)

	resp, err := batch.Send(ctx, adapter)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if codes := resp.GetStatusCodes(); len(codes) != 3 || codes[*patchStep.GetId()] != 200 || codes[*getStep.GetId()] != 200 || codes[*missingStep.GetId()] != 404 {
		t.Errorf("status codes %v, want the PATCH and GET 200, the missing connector 404", codes)
	}

	patched, err := msgraphgocore.GetBatchResponseById[*graphbeta.CertificateConnectorDetails](resp, *patchStep.GetId(), graphbeta.CreateCertificateConnectorDetailsFromDiscriminatorValue)
	if err != nil {
		t.Fatalf("the PATCH's response: %v", err)
	}
	got, err := msgraphgocore.GetBatchResponseById[*graphbeta.CertificateConnectorDetails](resp, *getStep.GetId(), graphbeta.CreateCertificateConnectorDetailsFromDiscriminatorValue)
	if err != nil {
		t.Fatalf("the GET's response: %v", err)
	}
	for name, m := range map[string]*graphbeta.CertificateConnectorDetails{"PATCH": patched, "GET": got} {
		if deref(m.GetConnectorName()) != "Patched in a batch" || deref(m.GetId()) != seedID || etag(m) != `W/"2"` {
			t.Errorf("%s: id %q connectorName %q etag %q, want the patched connector", name, deref(m.GetId()), deref(m.GetConnectorName()), etag(m))
		}
	}
	if ct := resp.GetResponseById(*getStep.GetId()).GetHeaders()["Content-Type"]; ct == "" {
		t.Errorf("the GET's step headers have no Content-Type: %v", resp.GetResponseById(*getStep.GetId()).GetHeaders())
	}

	_, err = msgraphgocore.GetBatchResponseById[*graphbeta.CertificateConnectorDetails](resp, *missingStep.GetId(), graphbeta.CreateCertificateConnectorDetailsFromDiscriminatorValue)
	var oe *graphbeta.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("the missing connector: %v (%T), want an ODataError", err, err)
	}
	if oe.GetErrorEscaped() == nil || deref(oe.GetErrorEscaped().GetCode()) != "ResourceNotFound" || deref(oe.GetErrorEscaped().GetMessage()) == "" {
		t.Errorf("the missing connector's error: %v", oe)
	}

	if name := g.Connector(t, seedID).Get("connectorName").Str; name != "Patched in a batch" {
		t.Errorf("stored connectorName %q", name)
	}
	reqs := g.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want the one batch: %+v", len(reqs), reqs)
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.RequestURI != "/beta/$batch" || r.Status != http.StatusOK {
		t.Errorf("the batch: %s %s %d", r.Method, r.RequestURI, r.Status)
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Errorf("the batch's Content-Encoding %q: the SDK's compression handler should have gzipped it", ce)
	}
}
