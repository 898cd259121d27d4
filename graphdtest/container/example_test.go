package container_test

// An example to copy: the tests of a tool's Graph code, run against graphd's standalone image with testcontainers.
// The code under test, connectorClient, calls Microsoft Graph through the kiota runtime that the Microsoft Graph
// Go SDKs are built on (msgraph-sdk-go-core's request adapter with Graph's default middleware: retry, redirect,
// compression), so its requests are what the SDK sends. The test seeds graphd, runs the code, asserts on what
// graphd received through the request journal, and makes graphd throttle the code to test its retries.
//
// Starting graphd takes seconds (initdb on the first start), so the package's tests share one container
// (graphdContainer, stopped by TestMain) and each test works in a tenant of its own: it resets its tenant first,
// reads only its tenant's journal entries, and gives its faults that tenant, so that they fire for it alone.
//
// The tests skip when Docker is absent: this package's helper standaloneImage (container_test.go) skips then, and
// also checks that the locally built image is there. In your project, testcontainers.SkipIfProviderIsNotHealthy(t)
// and your image's name do.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	kauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/testcontainers/testcontainers-go"

	"github.com/graphd/graphd/graphdtest/admin"
	"github.com/graphd/graphd/graphdtest/container"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.ctr != nil {
		if err := testcontainers.TerminateContainer(shared.ctr); err != nil {
			fmt.Fprintf(os.Stderr, "terminating the graphd container: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// shared is the package's graphd container, started by the first test that needs it.
var shared struct {
	once sync.Once
	ctr  *container.Container
	err  error
}

// graphdContainer returns the package's graphd container, starting it on first use.
func graphdContainer(t *testing.T) *container.Container {
	t.Helper()
	img := standaloneImage(t) // in your project: testcontainers.SkipIfProviderIsNotHealthy(t); img := "graphd:standalone"
	shared.once.Do(func() {
		// Not the test's context: the container outlives the test that starts it.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		shared.ctr, shared.err = container.Run(ctx, img)
	})
	if shared.err != nil {
		t.Fatalf("starting graphd: %v", shared.err)
	}
	return shared.ctr
}

// connectorClient is the code under test: a small client of Intune's certificate connectors.
type connectorClient struct {
	adapter abstractions.RequestAdapter
}

// newConnectorClient points Graph's request adapter at baseURL (https://graph.microsoft.com/beta in production)
// with a bearer token.
func newConnectorClient(baseURL, token string) (*connectorClient, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, err
	}
	hosts, err := kauth.NewAllowedHostsValidatorErrorCheck([]string{u.Hostname()})
	if err != nil {
		return nil, err
	}
	provider := kauth.NewBaseBearerTokenAuthenticationProvider(staticToken{token: token, hosts: hosts})
	opts := msgraphgocore.GraphClientOptions{GraphServiceVersion: "beta", GraphServiceLibraryVersion: "1.0.0"}
	// Graph's default middleware, in the order Graph's SDK design prescribes: compression outside retry, so that
	// a retry resends the compressed body. kiota-http-go's GetDefaultMiddlewares (v1.5.4) returns its handlers
	// in map order, and when retry runs outside compression, a retried PATCH carries Content-Encoding: gzip over
	// an uncompressed body, which the server refuses (microsoft/kiota-http-go#183). The 429 fault in the test
	// below finds that.
	middleware := []khttp.Middleware{
		msgraphgocore.NewGraphTelemetryHandler(&opts),
		khttp.NewUrlReplaceHandler(true, msgraphgocore.ReplacementPairs),
		khttp.NewCompressionHandler(),
		khttp.NewRetryHandler(),
		khttp.NewRedirectHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
	httpClient := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(ownBody{khttp.GetDefaultTransport()}, middleware...)}
	adapter, err := msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		provider, opts, nil, nil, httpClient)
	if err != nil {
		return nil, err
	}
	adapter.SetBaseUrl(baseURL)
	return &connectorClient{adapter: adapter}, nil
}

// ownBody gives net/http's transport a copy of each request body. kiota-http-go's RetryHandler (v1.5.4) rewinds
// the body it sent as soon as a retriable answer arrives, while the transport may still be reading that body (it
// checks that nothing follows ContentLength bytes): a data race that fails the retry with "ContentLength=N with
// Body length 0". With a copy per attempt, the transport never shares the reader that the retry handler rewinds.
type ownBody struct{ next http.RoundTripper }

func (o ownBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return o.next.RoundTrip(r)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return o.next.RoundTrip(r)
}

// staticToken hands the request adapter a token, only for the allowed hosts.
type staticToken struct {
	token string
	hosts *kauth.AllowedHostsValidator
}

func (s staticToken) GetAuthorizationToken(_ context.Context, u *url.URL, _ map[string]any) (string, error) {
	if !s.hosts.IsUrlHostValid(u) {
		return "", nil
	}
	return s.token, nil
}

func (s staticToken) GetAllowedHostsValidator() *kauth.AllowedHostsValidator { return s.hosts }

// Rename sets a connector's name.
func (c *connectorClient) Rename(ctx context.Context, id, name string) error {
	body, err := json.Marshal(map[string]string{"connectorName": name})
	if err != nil {
		return err
	}
	info := abstractions.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abstractions.PATCH,
		"{+baseurl}/deviceManagement/certificateConnectorDetails/{id}",
		map[string]string{"baseurl": c.adapter.GetBaseUrl(), "id": id})
	info.Headers.TryAdd("Accept", "application/json")
	info.SetStreamContentAndContentType(body, "application/json")
	_, err = c.adapter.SendPrimitive(ctx, info, "[]byte", nil)
	return err
}

// connector is what the tool reads of a connector.
type connector struct {
	ID          string    `json:"id"`
	Name        *string   `json:"connectorName"`
	LastCheckin time.Time `json:"lastCheckinDateTime"`
}

// Stale lists the connectors that have not checked in since the given time.
func (c *connectorClient) Stale(ctx context.Context, since time.Time) ([]connector, error) {
	info := abstractions.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abstractions.GET,
		"{+baseurl}/deviceManagement/certificateConnectorDetails{?%24filter}",
		map[string]string{"baseurl": c.adapter.GetBaseUrl()})
	info.QueryParameters["%24filter"] = "lastCheckinDateTime lt " + since.UTC().Format(time.RFC3339)
	info.Headers.TryAdd("Accept", "application/json")
	body, err := c.adapter.SendPrimitive(ctx, info, "[]byte", nil)
	if err != nil {
		return nil, err
	}
	var page struct {
		Value []connector `json:"value"`
	}
	if b, ok := body.([]byte); ok {
		err = json.Unmarshal(b, &page)
	}
	return page.Value, err
}

const exampleFixture = `{"certificateConnectorDetails": [
  {"id": "2a7c4b1e-0d3f-4e5a-8b6c-9d0e1f2a3b4c", "connectorName": "pki-01", "lastCheckinDateTime": "2026-01-10T08:00:00Z"},
  {"id": "3b8d5c2f-1e4a-4f6b-9c7d-0e1f2a3b4c5d", "connectorName": "pki-02", "lastCheckinDateTime": "2025-03-01T08:00:00Z"}
]}`

// exampleTenant is the test's tenant in the shared container.
const exampleTenant = "5e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b"

func TestConnectorClientAgainstGraphdContainer(t *testing.T) {
	t.Parallel()
	graphd := graphdContainer(t)
	ctx := t.Context()
	tenant := exampleTenant

	// A clean tenant (even under go test -count=2, which reuses the container), seeded.
	if err := graphd.Reset(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if err := graphd.ClearTenantRequests(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := graphd.Import(ctx, tenant, []byte(exampleFixture)); err != nil {
		t.Fatal(err)
	}
	graphURL, err := graphd.GraphURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	token, err := graphd.Token(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	client, err := newConnectorClient(graphURL, token)
	if err != nil {
		t.Fatal(err)
	}
	const id = "3b8d5c2f-1e4a-4f6b-9c7d-0e1f2a3b4c5d"
	path := "/beta/deviceManagement/certificateConnectorDetails/" + id

	// requests returns the tenant's journal, oldest first, narrowed by filters.
	requests := func(t *testing.T, filters ...admin.RequestFilter) []container.Request {
		t.Helper()
		rs, err := graphd.Requests(ctx, append(filters, admin.ByTenant(tenant))...)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	clearRequests := func(t *testing.T) {
		t.Helper()
		if err := graphd.ClearTenantRequests(ctx, tenant); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("Stale", func(t *testing.T) {
		stale, err := client.Stale(t.Context(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if len(stale) != 1 || stale[0].ID != id || stale[0].Name == nil || *stale[0].Name != "pki-02" {
			t.Errorf("Stale = %+v, want pki-02 only", stale)
		}
		gets := requests(t, admin.ByMethod(http.MethodGet))
		if len(gets) != 1 || gets[0].Query != "$filter=lastCheckinDateTime%20lt%202026-01-01T00%3A00%3A00Z" {
			t.Errorf("the client's GETs: %+v", gets)
		}
	})

	t.Run("Rename", func(t *testing.T) {
		clearRequests(t)
		if err := client.Rename(t.Context(), id, "pki-02 (retired)"); err != nil {
			t.Fatal(err)
		}
		// Exactly one PATCH, with exactly this body (graphd journals it as decoded, after the SDK's gzip).
		patches := requests(t, admin.ByMethod(http.MethodPatch))
		if len(patches) != 1 || patches[0].Path != path || patches[0].Status != http.StatusOK ||
			string(patches[0].RequestBody) != `{"connectorName":"pki-02 (retired)"}` {
			t.Errorf("the client's PATCHes: %+v", patches)
		}
	})

	t.Run("RetriesThrottling", func(t *testing.T) {
		clearRequests(t)
		// The next PATCH of a connector answers 429 with Retry-After: 1; the SDK's retry handler waits and retries.
		fault, err := graphd.Fault(ctx, container.Fault{Method: http.MethodPatch, Path: "/beta/deviceManagement/certificateConnectorDetails/*",
			Status: http.StatusTooManyRequests, RetryAfterSeconds: new(1), Times: new(1), Tenant: tenant})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := client.Rename(t.Context(), id, "pki-02"); err != nil {
			t.Fatalf("Rename under one 429: %v", err)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("Rename returned after %v: the retry did not wait for Retry-After", d)
		}
		patches := requests(t, admin.ByMethod(http.MethodPatch))
		if len(patches) != 2 || patches[0].Status != 429 || patches[0].Fault != fault.ID || patches[1].Status != 200 ||
			string(patches[1].RequestBody) != `{"connectorName":"pki-02"}` {
			t.Fatalf("the client's PATCHes: %+v, want a throttled one and its retry", patches)
		}
		if gap := patches[1].Time.Sub(patches[0].Time); gap < time.Second {
			t.Errorf("the retry came %v after the 429, want at least Retry-After's 1s", gap)
		}
	})

	t.Run("GivesUpAfterRetries", func(t *testing.T) {
		clearRequests(t)
		fault, err := graphd.Fault(ctx, container.Fault{Method: http.MethodPatch, Path: "/beta/deviceManagement/certificateConnectorDetails/*",
			Status: http.StatusTooManyRequests, RetryAfterSeconds: new(1), Tenant: tenant})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := graphd.RemoveFault(context.WithoutCancel(ctx), fault.ID); err != nil {
				t.Error(err)
			}
		})
		err = client.Rename(t.Context(), id, "never")
		var apiErr *abstractions.ApiError
		if !errors.As(err, &apiErr) || apiErr.ResponseStatusCode != http.StatusTooManyRequests {
			t.Fatalf("Rename under lasting throttling: %v, want the 429", err)
		}
		// The SDK's default: three retries.
		if n := len(requests(t, admin.ByMethod(http.MethodPatch), admin.ByStatus(429))); n != 4 {
			t.Errorf("%d PATCHes, want 4 (the request and three retries)", n)
		}
	})
}
