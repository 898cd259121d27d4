package graphbeta

import (
	"context"
	"maps"
	"net/http"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// LibraryVersion is what the adapter reports in its SdkVersion telemetry header.
const LibraryVersion = "0.0.0-graphd"

// NewGraphRequestAdapter is the SDK's adapter: msgraph-sdk-go-core's base adapter with Graph's default
// middleware (retry, redirect, compression of request bodies, telemetry) and the beta service version.
// httpClient nil takes the default client, as the SDK does.
func NewGraphRequestAdapter(auth authentication.AuthenticationProvider, httpClient *http.Client) (*msgraphgocore.GraphRequestAdapterBase, error) {
	return msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth,
		msgraphgocore.GraphClientOptions{GraphServiceVersion: "beta", GraphServiceLibraryVersion: LibraryVersion}, nil, nil, httpClient)
}

// GraphServiceClient is the root request builder.
type GraphServiceClient struct {
	abstractions.BaseRequestBuilder
}

// NewGraphServiceClient registers the JSON serializers in the default registries, as the generated client
// does, and roots the request builders at the adapter's base URL (Graph's when unset).
func NewGraphServiceClient(adapter abstractions.RequestAdapter) *GraphServiceClient {
	abstractions.RegisterDefaultSerializer(func() serialization.SerializationWriterFactory {
		return jsonserialization.NewJsonSerializationWriterFactory()
	})
	abstractions.RegisterDefaultDeserializer(func() serialization.ParseNodeFactory {
		return jsonserialization.NewJsonParseNodeFactory()
	})
	if adapter.GetBaseUrl() == "" {
		adapter.SetBaseUrl("https://graph.microsoft.com/beta")
	}
	m := &GraphServiceClient{BaseRequestBuilder: *abstractions.NewBaseRequestBuilder(adapter, "{+baseurl}", map[string]string{})}
	m.PathParameters["baseurl"] = adapter.GetBaseUrl()
	return m
}

// GetAdapter is the request adapter, which page iterators and batch requests take.
func (m *GraphServiceClient) GetAdapter() abstractions.RequestAdapter { return m.RequestAdapter }

// DeviceManagement navigates to /deviceManagement.
func (m *GraphServiceClient) DeviceManagement() *DeviceManagementRequestBuilder {
	return &DeviceManagementRequestBuilder{BaseRequestBuilder: *abstractions.NewBaseRequestBuilder(m.RequestAdapter,
		"{+baseurl}/deviceManagement{?%24expand,%24select}", m.PathParameters)}
}

// DeviceManagementRequestBuilder builds requests under /deviceManagement.
type DeviceManagementRequestBuilder struct {
	abstractions.BaseRequestBuilder
}

// CertificateConnectorDetails navigates to the collection.
func (m *DeviceManagementRequestBuilder) CertificateConnectorDetails() *CertificateConnectorDetailsRequestBuilder {
	return &CertificateConnectorDetailsRequestBuilder{BaseRequestBuilder: *abstractions.NewBaseRequestBuilder(m.RequestAdapter,
		"{+baseurl}/deviceManagement/certificateConnectorDetails{?%24count,%24expand,%24filter,%24orderby,%24search,%24select,%24skip,%24top}",
		m.PathParameters)}
}

// CertificateConnectorDetailsRequestBuilder builds requests to the collection.
type CertificateConnectorDetailsRequestBuilder struct {
	abstractions.BaseRequestBuilder
}

// CertificateConnectorDetailsRequestBuilderGetQueryParameters are the collection's query options.
type CertificateConnectorDetailsRequestBuilderGetQueryParameters struct {
	Count   *bool    `uriparametername:"%24count"`
	Expand  []string `uriparametername:"%24expand"`
	Filter  *string  `uriparametername:"%24filter"`
	Orderby []string `uriparametername:"%24orderby"`
	Search  *string  `uriparametername:"%24search"`
	Select  []string `uriparametername:"%24select"`
	Skip    *int32   `uriparametername:"%24skip"`
	Top     *int32   `uriparametername:"%24top"`
}

// CertificateConnectorDetailsRequestBuilderGetRequestConfiguration configures a list request.
type CertificateConnectorDetailsRequestBuilderGetRequestConfiguration struct {
	Headers         *abstractions.RequestHeaders
	Options         []abstractions.RequestOption
	QueryParameters *CertificateConnectorDetailsRequestBuilderGetQueryParameters
}

// ByCertificateConnectorDetailsId navigates to one connector.
func (m *CertificateConnectorDetailsRequestBuilder) ByCertificateConnectorDetailsId(id string) *CertificateConnectorDetailsItemRequestBuilder {
	params := maps.Clone(m.PathParameters)
	params["certificateConnectorDetails%2Did"] = id
	return &CertificateConnectorDetailsItemRequestBuilder{BaseRequestBuilder: *abstractions.NewBaseRequestBuilder(m.RequestAdapter,
		"{+baseurl}/deviceManagement/certificateConnectorDetails/{certificateConnectorDetails%2Did}{?%24expand,%24select}", params)}
}

// Get lists one page of the collection.
func (m *CertificateConnectorDetailsRequestBuilder) Get(ctx context.Context, cfg *CertificateConnectorDetailsRequestBuilderGetRequestConfiguration) (*CertificateConnectorDetailsCollectionResponse, error) {
	info := m.ToGetRequestInformation(ctx, cfg)
	res, err := m.RequestAdapter.Send(ctx, info, CreateCertificateConnectorDetailsCollectionResponseFromDiscriminatorValue, errorMapping)
	if err != nil || res == nil {
		return nil, err
	}
	return res.(*CertificateConnectorDetailsCollectionResponse), nil
}

// ToGetRequestInformation builds the list request.
func (m *CertificateConnectorDetailsRequestBuilder) ToGetRequestInformation(_ context.Context, cfg *CertificateConnectorDetailsRequestBuilderGetRequestConfiguration) *abstractions.RequestInformation {
	info := abstractions.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abstractions.GET, m.UrlTemplate, m.PathParameters)
	if cfg != nil {
		if cfg.QueryParameters != nil {
			info.AddQueryParameters(*cfg.QueryParameters)
		}
		info.Headers.AddAll(cfg.Headers)
		info.AddRequestOptions(cfg.Options)
	}
	info.Headers.TryAdd("Accept", "application/json")
	return info
}

// CertificateConnectorDetailsItemRequestBuilder builds requests to one connector.
type CertificateConnectorDetailsItemRequestBuilder struct {
	abstractions.BaseRequestBuilder
}

// CertificateConnectorDetailsItemRequestBuilderGetQueryParameters are an item's query options.
type CertificateConnectorDetailsItemRequestBuilderGetQueryParameters struct {
	Expand []string `uriparametername:"%24expand"`
	Select []string `uriparametername:"%24select"`
}

// CertificateConnectorDetailsItemRequestBuilderGetRequestConfiguration configures a GET of one connector.
type CertificateConnectorDetailsItemRequestBuilderGetRequestConfiguration struct {
	Headers         *abstractions.RequestHeaders
	Options         []abstractions.RequestOption
	QueryParameters *CertificateConnectorDetailsItemRequestBuilderGetQueryParameters
}

// CertificateConnectorDetailsItemRequestBuilderPatchRequestConfiguration configures a PATCH.
type CertificateConnectorDetailsItemRequestBuilderPatchRequestConfiguration struct {
	Headers *abstractions.RequestHeaders
	Options []abstractions.RequestOption
}

// Get reads the connector.
func (m *CertificateConnectorDetailsItemRequestBuilder) Get(ctx context.Context, cfg *CertificateConnectorDetailsItemRequestBuilderGetRequestConfiguration) (*CertificateConnectorDetails, error) {
	info := m.ToGetRequestInformation(ctx, cfg)
	return m.sendEntity(ctx, info)
}

// ToGetRequestInformation builds the GET.
func (m *CertificateConnectorDetailsItemRequestBuilder) ToGetRequestInformation(_ context.Context, cfg *CertificateConnectorDetailsItemRequestBuilderGetRequestConfiguration) *abstractions.RequestInformation {
	info := abstractions.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abstractions.GET, m.UrlTemplate, m.PathParameters)
	if cfg != nil {
		if cfg.QueryParameters != nil {
			info.AddQueryParameters(*cfg.QueryParameters)
		}
		info.Headers.AddAll(cfg.Headers)
		info.AddRequestOptions(cfg.Options)
	}
	info.Headers.TryAdd("Accept", "application/json")
	return info
}

// Patch updates the connector with the properties set on body and returns it as stored.
func (m *CertificateConnectorDetailsItemRequestBuilder) Patch(ctx context.Context, body *CertificateConnectorDetails, cfg *CertificateConnectorDetailsItemRequestBuilderPatchRequestConfiguration) (*CertificateConnectorDetails, error) {
	info, err := m.ToPatchRequestInformation(ctx, body, cfg)
	if err != nil {
		return nil, err
	}
	return m.sendEntity(ctx, info)
}

// ToPatchRequestInformation builds the PATCH with body serialized as JSON.
func (m *CertificateConnectorDetailsItemRequestBuilder) ToPatchRequestInformation(ctx context.Context, body *CertificateConnectorDetails, cfg *CertificateConnectorDetailsItemRequestBuilderPatchRequestConfiguration) (*abstractions.RequestInformation, error) {
	info := abstractions.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abstractions.PATCH, m.UrlTemplate, m.PathParameters)
	if cfg != nil {
		info.Headers.AddAll(cfg.Headers)
		info.AddRequestOptions(cfg.Options)
	}
	info.Headers.TryAdd("Accept", "application/json")
	if err := info.SetContentFromParsable(ctx, m.RequestAdapter, "application/json", body); err != nil {
		return nil, err
	}
	return info, nil
}

func (m *CertificateConnectorDetailsItemRequestBuilder) sendEntity(ctx context.Context, info *abstractions.RequestInformation) (*CertificateConnectorDetails, error) {
	res, err := m.RequestAdapter.Send(ctx, info, CreateCertificateConnectorDetailsFromDiscriminatorValue, errorMapping)
	if err != nil || res == nil {
		return nil, err
	}
	return res.(*CertificateConnectorDetails), nil
}
