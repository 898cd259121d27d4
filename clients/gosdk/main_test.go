// Package gosdk runs Microsoft's Go Graph SDK runtime (msgraph-sdk-go-core with the kiota abstractions, HTTP
// and JSON libraries) against an in-process graphd, through graphbeta, a hand-written slice of the generated
// beta SDK.
package gosdk

import (
	"context"
	"net/url"
	"os"
	"testing"

	kauth "github.com/microsoft/kiota-abstractions-go/authentication"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/graphd/graphd/clients/clienttest"
	"github.com/graphd/graphd/clients/gosdk/graphbeta"
	"github.com/graphd/graphd/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// staticToken is the access token provider README's SDK section shows: a token from `graphd token`, sent
// only to the allowed hosts.
type staticToken struct {
	token string
	hosts *kauth.AllowedHostsValidator
}

func (t staticToken) GetAuthorizationToken(_ context.Context, u *url.URL, _ map[string]any) (string, error) {
	if !t.hosts.IsUrlHostValid(u) {
		return "", nil
	}
	return t.token, nil
}

func (t staticToken) GetAllowedHostsValidator() *kauth.AllowedHostsValidator { return t.hosts }

// newClient is the Graph service client a user would build for g: its base URL, and a bearer token
// provider allowing g's host (kiota compares host names, without the port).
func newClient(t *testing.T, g *clienttest.Graphd) (*graphbeta.GraphServiceClient, *msgraphgocore.GraphRequestAdapterBase) {
	t.Helper()
	u, err := url.Parse(g.URL)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := kauth.NewAllowedHostsValidatorErrorCheck([]string{u.Hostname()})
	if err != nil {
		t.Fatal(err)
	}
	provider := kauth.NewBaseBearerTokenAuthenticationProvider(staticToken{token: g.Token, hosts: hosts})
	adapter, err := graphbeta.NewGraphRequestAdapter(provider, nil)
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(g.ServiceRoot)
	return graphbeta.NewGraphServiceClient(adapter), adapter
}
