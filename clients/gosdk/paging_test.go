package gosdk

import (
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/graphd/graphd/clients/clienttest"
	"github.com/graphd/graphd/clients/gosdk/graphbeta"
)

// TestPageIterator lists the fleet through the SDK's query parameters and follows every nextLink with
// msgraph-sdk-go-core's PageIterator, which must yield every match exactly once, in order.
func TestPageIterator(t *testing.T) {
	t.Parallel()
	clienttest.RunPagingCases(t, clienttest.Options{}, func(t *testing.T, g *clienttest.Graphd, q clienttest.Query) clienttest.PagingResult {
		client, adapter := newClient(t, g)
		params := &graphbeta.CertificateConnectorDetailsRequestBuilderGetQueryParameters{}
		if q.Top > 0 {
			params.Top = ptr(int32(q.Top))
		}
		if q.Skip > 0 {
			params.Skip = ptr(int32(q.Skip))
		}
		if q.Filter != "" {
			params.Filter = &q.Filter
		}
		if q.OrderBy != "" {
			params.Orderby = []string{q.OrderBy}
		}
		if q.Count {
			params.Count = ptr(true)
		}
		headers := abstractions.NewRequestHeaders()
		if p := q.Prefer(); p != "" {
			headers.Add("Prefer", p)
		}
		page, err := client.DeviceManagement().CertificateConnectorDetails().Get(t.Context(),
			&graphbeta.CertificateConnectorDetailsRequestBuilderGetRequestConfiguration{QueryParameters: params, Headers: headers})
		if err != nil {
			t.Fatalf("first page: %v", err)
		}
		it, err := msgraphgocore.NewPageIterator[*graphbeta.CertificateConnectorDetails](page, adapter,
			graphbeta.CreateCertificateConnectorDetailsCollectionResponseFromDiscriminatorValue)
		if err != nil {
			t.Fatal(err)
		}
		// The iterator does not repeat the first request's headers; a client that wants its page size kept
		// passes them again, as Graph's paging docs say.
		it.SetHeaders(headers)
		got := clienttest.PagingResult{Count: page.GetOdataCount()}
		err = it.Iterate(t.Context(), func(c *graphbeta.CertificateConnectorDetails) bool {
			got.Items = append(got.Items, clienttest.Item{ID: deref(c.GetId()), ConnectorName: c.GetConnectorName()})
			return len(got.Items) < 100 // a server that loops must not hang the test
		})
		if err != nil {
			t.Fatalf("iterate: %v", err)
		}
		return got
	})
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
