// Package admin is a client of graphd's test-lab admin API, the endpoints under /_graphd/ that a graphd started
// with GRAPHD_ADMIN_TOKEN serves: seed, export and reset tenants, mint tokens, read the journal of the requests
// graphd received, inject faults and pin the clock. docs/testlab.md is the API's reference.
//
// graphdtest (graphd in-process) and graphdtest/container (the standalone image) both hand out a Client; it
// works against any graphd with the admin API on:
//
//	c := admin.New("http://127.0.0.1:8080", os.Getenv("GRAPHD_ADMIN_TOKEN"))
//	_, err := c.Import(ctx, admin.DevTenant, fixture)
//
// Every method returns an *Error for an answer in Graph's error envelope.
package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DevTenant is graphd's development tenant: where `graphd import` and `graphd token` act by default, and the only
// tenant of a graphd with GRAPHD_AUTH=none. A tenant argument "" means it.
const DevTenant = "00000000-0000-4000-8000-000000000001"

// Graph's permissions for certificateConnectorDetails, for TokenRequest.Scopes and Roles.
const (
	PermReadAll      = "DeviceManagementConfiguration.Read.All"
	PermReadWriteAll = "DeviceManagementConfiguration.ReadWrite.All"
)

// Client calls one graphd's admin API.
type Client struct {
	// BaseURL is graphd's origin, such as http://127.0.0.1:8080: the admin API is BaseURL/_graphd, the Graph
	// API BaseURL/beta.
	BaseURL string
	// AdminToken is GRAPHD_ADMIN_TOKEN.
	AdminToken string
	// HTTPClient sends the calls; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// New returns a client of the admin API of the graphd at baseURL (its origin, without /beta).
func New(baseURL, adminToken string) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), AdminToken: adminToken}
}

// Error is an answer of the admin API in Graph's error envelope.
type Error struct {
	StatusCode int
	Code       string
	Message    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("graphd admin API: %d %s: %s", e.StatusCode, e.Code, e.Message)
}

// Counts is what an import loaded: entities by entity set name ("certificateConnectorDetails",
// "userPfxCertificates", ...) and "healthMetricSamples".
type Counts map[string]int

// Import loads a fixture into a tenant in one transaction: any format `graphd import` reads (an array of
// connectors, {"value": [...]}, or an object with a member per entity set and "healthMetricSamples", as Export
// writes). A fixture that is not valid changes nothing and returns an *Error with StatusCode 400.
func (c *Client) Import(ctx context.Context, tenant string, fixture []byte) (Counts, error) {
	var counts Counts
	err := c.do(ctx, http.MethodPost, "/_graphd/tenants/"+tenantOf(tenant)+"/import", json.RawMessage(fixture), &counts)
	return counts, err
}

// Export returns everything a tenant holds as a fixture that Import restores: every entity set by its name, with
// stored values (secrets and server-set times included), and the health-metric samples.
func (c *Client) Export(ctx context.Context, tenant string) ([]byte, error) {
	var raw json.RawMessage
	err := c.do(ctx, http.MethodGet, "/_graphd/tenants/"+tenantOf(tenant)+"/export", nil, &raw)
	return raw, err
}

// ResetTenant deletes everything a tenant holds; other tenants are untouched.
func (c *Client) ResetTenant(ctx context.Context, tenant string) error {
	return c.do(ctx, http.MethodDelete, "/_graphd/tenants/"+tenantOf(tenant), nil, nil)
}

// ResetAll returns graphd to a fresh state: no tenant data, an empty journal, no faults, the real clock.
func (c *Client) ResetAll(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/_graphd", nil, nil)
}

// PinClock sets the time graphd gives server-set values (such as lastModifiedDateTime) and now() in $filter, to
// 100 ns. Token lifetimes keep the real clock.
func (c *Client) PinClock(ctx context.Context, now time.Time) error {
	body := map[string]string{"now": now.Truncate(100 * time.Nanosecond).Format(time.RFC3339Nano)}
	return c.do(ctx, http.MethodPost, "/_graphd/clock", body, nil)
}

// UnpinClock gives graphd the real clock again.
func (c *Client) UnpinClock(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/_graphd/clock", nil, nil)
}

// TokenRequest describes a token for POST /_graphd/tokens. Give Scopes (a delegated token, the scp claim) or
// Roles (an application token, the roles claim).
type TokenRequest struct {
	Tenant string   `json:"tenant"`
	Scopes []string `json:"scopes,omitempty"`
	Roles  []string `json:"roles,omitempty"`
	// User is the subject (sub and oid); default "graphd-test".
	User string `json:"user,omitempty"`
	// TTLSeconds is the lifetime, 1 to 86400; 0 means an hour.
	TTLSeconds int `json:"ttlSeconds,omitempty"`
}

// Token mints a bearer token that graphd accepts, signed with its own key (only when graphd is its own issuer;
// otherwise an *Error with StatusCode 409). A request without scopes and roles gets PermReadWriteAll as scope.
func (c *Client) Token(ctx context.Context, r TokenRequest) (string, error) {
	r.Tenant = tenantOf(r.Tenant)
	if len(r.Scopes) == 0 && len(r.Roles) == 0 {
		r.Scopes = []string{PermReadWriteAll}
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.do(ctx, http.MethodPost, "/_graphd/tokens", r, &resp); err != nil {
		return "", err
	}
	if resp.AccessToken == "" {
		return "", errors.New("graphd admin API: the token answer has no access_token")
	}
	return resp.AccessToken, nil
}

// Request is one entry of the journal: a request to /beta as graphd received and answered it. Headers, and so
// tokens, are never recorded.
type Request struct {
	Time            time.Time `json:"time"`
	RequestID       string    `json:"requestId"`
	ClientRequestID string    `json:"clientRequestId"`
	// Tenant is the caller's tenant; "" when the request was not authenticated (or a fault answered it first).
	Tenant string `json:"tenant"`
	Method string `json:"method"`
	Path   string `json:"path"`
	// Query is the raw query string, without the "?".
	Query      string  `json:"query"`
	Status     int     `json:"status"`
	DurationMs float64 `json:"durationMs"`
	// RequestBody is the JSON body as graphd decoded it (after gzip), when it was JSON of at most 64 KiB; else nil.
	RequestBody json.RawMessage `json:"requestBody"`
	// Fault is the id of the fault that answered or delayed the request; "" for none.
	Fault string `json:"fault"`
	// BatchRequestID and StepID link a $batch step to the batch's own entry; "" otherwise.
	BatchRequestID string `json:"batchRequestId"`
	StepID         string `json:"stepId"`
}

// RequestFilter narrows Requests; several filters must all match.
type RequestFilter func(url.Values)

// ByMethod keeps the requests with this method.
func ByMethod(method string) RequestFilter { return func(q url.Values) { q.Set("method", method) } }

// ByStatus keeps the requests answered with this status.
func ByStatus(status int) RequestFilter {
	return func(q url.Values) { q.Set("status", strconv.Itoa(status)) }
}

// ByTenant keeps the requests of this tenant.
func ByTenant(tenant string) RequestFilter { return func(q url.Values) { q.Set("tenant", tenant) } }

// ByPathPrefix keeps the requests whose path starts with prefix, such as
// /beta/deviceManagement/certificateConnectorDetails.
func ByPathPrefix(prefix string) RequestFilter {
	return func(q url.Values) { q.Set("pathPrefix", prefix) }
}

// Requests returns the journal, oldest first.
func (c *Client) Requests(ctx context.Context, filters ...RequestFilter) ([]Request, error) {
	q := url.Values{}
	for _, f := range filters {
		f(q)
	}
	path := "/_graphd/requests"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var resp struct {
		Value []Request `json:"value"`
	}
	if err := c.do(ctx, http.MethodGet, path, nil, &resp); err != nil {
		return nil, err
	}
	for i := range resp.Value {
		if string(resp.Value[i].RequestBody) == "null" {
			resp.Value[i].RequestBody = nil
		}
	}
	return resp.Value, nil
}

// ClearRequests empties the journal.
func (c *Client) ClearRequests(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/_graphd/requests", nil, nil)
}

// ClearTenantRequests removes one tenant's entries from the journal.
func (c *Client) ClearTenantRequests(ctx context.Context, tenant string) error {
	if tenant == "" {
		tenant = DevTenant
	}
	return c.do(ctx, http.MethodDelete, "/_graphd/requests?tenant="+url.QueryEscape(tenant), nil, nil)
}

// Fault makes matching requests fail, wait, or both. Method is an HTTP method or "*"; Path a pattern of the
// request path where "*" matches one segment and "**" any number, such as
// /beta/deviceManagement/certificateConnectorDetails/*. Give Status (400-599: that answer in Graph's envelope,
// the request not applied), DelayMs (wait, then serve normally), or both.
type Fault struct {
	// ID is set by graphd.
	ID     string `json:"id,omitempty"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status,omitempty"`
	// RetryAfterSeconds, when set, is sent as Retry-After.
	RetryAfterSeconds *int `json:"retryAfterSeconds,omitempty"`
	// Code and Message of the error envelope; by default Graph's code for Status and a message naming the fault.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// DelayMs delays the request, 0 to 60000 ms.
	DelayMs int `json:"delayMs,omitempty"`
	// Times is how many requests the fault fires for before it is removed; nil: until removed.
	Times *int `json:"times,omitempty"`
	// Probability that a matching request fires it, 0 to 1; nil: 1.
	Probability *float64 `json:"probability,omitempty"`
	// Tenant, when set, makes the fault fire after authentication and only for this tenant's requests; without
	// it, the fault fires before authentication, for everyone.
	Tenant string `json:"tenant,omitempty"`
}

// AddFault installs a fault and returns it as graphd stored it (with its ID and default code and message).
func (c *Client) AddFault(ctx context.Context, f Fault) (Fault, error) {
	f.ID = ""
	var out Fault
	err := c.do(ctx, http.MethodPost, "/_graphd/faults", f, &out)
	return out, err
}

// Faults lists the installed faults, with the times they have left.
func (c *Client) Faults(ctx context.Context) ([]Fault, error) {
	var resp struct {
		Value []Fault `json:"value"`
	}
	err := c.do(ctx, http.MethodGet, "/_graphd/faults", nil, &resp)
	return resp.Value, err
}

// RemoveFault removes one fault; an unknown id is an *Error with StatusCode 404.
func (c *Client) RemoveFault(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/_graphd/faults/"+url.PathEscape(id), nil, nil)
}

// ClearFaults removes every fault.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/_graphd/faults", nil, nil)
}

func tenantOf(tenant string) string {
	if tenant == "" {
		return DevTenant
	}
	return url.PathEscape(tenant)
}

// do sends one admin call: body (if not nil) as JSON, a json.RawMessage as it is, and decodes the JSON answer
// into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case json.RawMessage:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("graphd admin API: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("graphd admin API: %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		e := &Error{StatusCode: resp.StatusCode}
		if json.Unmarshal(data, &env) == nil && env.Error.Code != "" {
			e.Code, e.Message = env.Error.Code, env.Error.Message
		} else {
			e.Code, e.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(truncate(data, 200)))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("graphd admin API: %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
