package graphdtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/graphdtest"
	"github.com/graphd/graphd/graphdtest/admin"
)

func TestMain(m *testing.M) {
	// The child of TestNoPostgresOutlivesTheBinary runs as a package without graphdtest.Main would.
	if os.Getenv(childEnv) == "1" {
		os.Exit(m.Run())
	}
	os.Exit(graphdtest.Main(m))
}

// childEnv is internal_test.go's.
const childEnv = "GRAPHDTEST_CHILD"

const (
	connectors = "/deviceManagement/certificateConnectorDetails"
	seedID     = "104d7361-7361-104d-6173-4d1061734d10"
	otherID    = "5c5a6c3e-0f43-4f59-9d3e-2f0a1b7c8d90"
	tenantB    = "7d6c3a1e-52b4-4c8e-9a10-3f2e1d0c9b8a"
	tenantC    = "c0ffee00-1234-4abc-8def-0123456789ab"
)

// call sends one request to srv's Graph API and returns the status, the headers and the body.
func call(t *testing.T, srv *graphdtest.Server, method, path, token, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func fixture(t *testing.T, id, name string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"certificateConnectorDetails": []map[string]any{{"id": id, "connectorName": name}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNew(t *testing.T) {
	t.Parallel()
	srv := graphdtest.New(t)
	u, err := url.Parse(srv.URL())
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Path != "/beta" {
		t.Fatalf("URL() = %q, want http://127.0.0.1:PORT/beta", srv.URL())
	}
	if got := srv.Admin().BaseURL + "/beta"; got != srv.URL() {
		t.Errorf("Admin().BaseURL = %q, want the origin of %q", srv.Admin().BaseURL, srv.URL())
	}
	if code, _, _ := call(t, srv, http.MethodGet, "/$metadata", "", ""); code != http.StatusOK {
		t.Errorf("GET $metadata: %d", code)
	}
	if code, _, body := call(t, srv, http.MethodGet, connectors, srv.Token(graphdtest.DevTenant), ""); code != http.StatusOK || !bytes.Contains(body, []byte(`"value":[]`)) {
		t.Errorf("GET with Token: %d %s, want 200 and an empty collection (a new database)", code, body)
	}
}

// TestTokens checks that the tokens are graphd's own, for their tenant and with their permissions.
func TestTokens(t *testing.T) {
	t.Parallel()
	srv := graphdtest.New(t)
	srv.Import("", fixture(t, seedID, "dev"))
	patch := `{"machineName":"m"}`
	tests := []struct {
		name   string
		token  string
		method string
		body   string
		want   int
	}{
		{"NoToken", "", http.MethodGet, "", http.StatusUnauthorized},
		{"AdminTokenOnGraph", srv.Admin().AdminToken, http.MethodGet, "", http.StatusUnauthorized},
		{"DelegatedDefault", srv.Token(graphdtest.DevTenant), http.MethodPatch, patch, http.StatusOK},
		{"DelegatedEmptyTenantIsDev", srv.Token(""), http.MethodGet, "", http.StatusOK},
		{"DelegatedReadOnlyGet", srv.Token("", admin.PermReadAll), http.MethodGet, "", http.StatusOK},
		{"DelegatedReadOnlyPatch", srv.Token("", admin.PermReadAll), http.MethodPatch, patch, http.StatusForbidden},
		{"ApplicationDefault", srv.AppToken(""), http.MethodPatch, patch, http.StatusOK},
		{"ApplicationReadOnlyPatch", srv.AppToken("", admin.PermReadAll), http.MethodPatch, patch, http.StatusForbidden},
		{"OtherTenant", srv.Token(tenantB), http.MethodGet, "", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := call(t, srv, tc.method, connectors+"/"+seedID, tc.token, tc.body)
			if code != tc.want {
				t.Errorf("%s: %d %s, want %d", tc.method, code, body, tc.want)
			}
		})
	}
}

// TestTenants covers Import, Export, Reset and ResetAll, and that every server has a database of its own.
func TestTenants(t *testing.T) {
	t.Parallel()
	srv := graphdtest.New(t)
	other := graphdtest.New(t)

	counts := srv.ImportFile("", "../examples/seed-connector.json")
	if want := (admin.Counts{"certificateConnectorDetails": 1, "userPfxCertificates": 0, "healthMetricSamples": 3}); !equalCounts(counts, want) {
		t.Errorf("ImportFile = %v, want %v", counts, want)
	}
	srv.Import(tenantB, fixture(t, otherID, "tenant B"))
	get := func(s *graphdtest.Server, tenant, id string) int {
		code, _, _ := call(t, s, http.MethodGet, connectors+"/"+id, s.Token(tenant), "")
		return code
	}
	if get(srv, "", seedID) != http.StatusOK || get(srv, tenantB, otherID) != http.StatusOK {
		t.Fatal("the imported connectors are not there")
	}
	if get(other, "", seedID) != http.StatusNotFound {
		t.Error("another server sees this server's data")
	}

	// An export imports as is, and exports again to the same bytes.
	exported := srv.Export("")
	srv.Import(tenantC, exported)
	if again := srv.Export(tenantC); !bytes.Equal(again, exported) {
		t.Errorf("Export after Import(Export) differs:\n%s\nwant\n%s", again, exported)
	}
	if !bytes.Contains(exported, []byte(`"healthMetricSamples":[{"connectorId":"`+seedID+`"`)) {
		t.Errorf("Export lacks the samples: %s", exported)
	}

	srv.Reset("")
	if get(srv, "", seedID) != http.StatusNotFound {
		t.Error("Reset left the tenant's connector")
	}
	if get(srv, tenantB, otherID) != http.StatusOK || get(srv, tenantC, seedID) != http.StatusOK {
		t.Error("Reset of one tenant touched another")
	}

	srv.Fault(graphdtest.Fault{Method: "DELETE", Path: "/beta/**", Status: 500})
	srv.PinClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	srv.ResetAll()
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("ResetAll left %d journal entries", n)
	}
	if get(srv, tenantB, otherID) != http.StatusNotFound || get(srv, tenantC, seedID) != http.StatusNotFound {
		t.Error("ResetAll left data")
	}
	if f, err := srv.Admin().Faults(t.Context()); err != nil || len(f) != 0 {
		t.Errorf("ResetAll left faults: %v, %v", f, err)
	}
}

func equalCounts(a, b admin.Counts) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRequests(t *testing.T) {
	t.Parallel()
	srv := graphdtest.New(t)
	srv.Import("", fixture(t, seedID, "dev"))
	srv.Import(tenantB, fixture(t, otherID, "B"))
	dev, b := srv.Token(""), srv.Token(tenantB)
	call(t, srv, http.MethodGet, connectors, dev, "")
	call(t, srv, http.MethodPatch, connectors+"/"+seedID, dev, `{"connectorName":"renamed"}`)
	call(t, srv, http.MethodPatch, connectors+"/"+seedID, dev, `{"foo":1}`)
	call(t, srv, http.MethodGet, connectors+"/"+otherID+"?$select=connectorName", b, "")
	call(t, srv, http.MethodGet, connectors, "", "")
	srv.Export("") // the admin API is not journaled

	type entry struct {
		method, path, query, tenant, body string
		status                            int
	}
	summary := func(rs []graphdtest.Request) []entry {
		var out []entry
		for _, r := range rs {
			out = append(out, entry{r.Method, r.Path, r.Query, r.Tenant, string(r.RequestBody), r.Status})
		}
		return out
	}
	all := []entry{
		{"GET", "/beta" + connectors, "", graphdtest.DevTenant, "", 200},
		{"PATCH", "/beta" + connectors + "/" + seedID, "", graphdtest.DevTenant, `{"connectorName":"renamed"}`, 200},
		{"PATCH", "/beta" + connectors + "/" + seedID, "", graphdtest.DevTenant, `{"foo":1}`, 400},
		{"GET", "/beta" + connectors + "/" + otherID, "$select=connectorName", tenantB, "", 200},
		{"GET", "/beta" + connectors, "", "", "", 401},
	}
	tests := []struct {
		name    string
		filters []admin.RequestFilter
		want    []entry
	}{
		{"All", nil, all},
		{"ByMethod", []admin.RequestFilter{admin.ByMethod("patch")}, all[1:3]},
		{"ByStatus", []admin.RequestFilter{admin.ByStatus(400)}, all[2:3]},
		{"ByTenant", []admin.RequestFilter{admin.ByTenant(tenantB)}, all[3:4]},
		{"ByPathPrefix", []admin.RequestFilter{admin.ByPathPrefix("/beta" + connectors + "/")}, all[1:4]},
		{"Several", []admin.RequestFilter{admin.ByMethod("GET"), admin.ByStatus(200)}, []entry{all[0], all[3]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(srv.Requests(tc.filters...))
			if len(got) != len(tc.want) {
				t.Fatalf("Requests = %+v\nwant %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
	for _, r := range srv.Requests() {
		if r.RequestID == "" || r.ClientRequestID == "" || r.Time.IsZero() || r.DurationMs <= 0 {
			t.Errorf("entry without id, time or duration: %+v", r)
		}
	}

	if err := srv.Admin().ClearTenantRequests(t.Context(), tenantB); err != nil {
		t.Fatal(err)
	}
	if got := summary(srv.Requests()); len(got) != 4 || got[3] != all[4] {
		t.Errorf("after clearing tenant B's entries: %+v", got)
	}
	srv.ClearRequests()
	if got := srv.Requests(); len(got) != 0 {
		t.Errorf("after ClearRequests: %+v", got)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	srv := graphdtest.New(t)
	srv.Import("", fixture(t, seedID, "before"))
	srv.Import(tenantB, fixture(t, otherID, "B"))
	dev := srv.Token("")
	item := connectors + "/" + seedID

	t.Run("StatusTimes", func(t *testing.T) {
		srv.ClearRequests()
		f := srv.Fault(graphdtest.Fault{Method: "PATCH", Path: "/beta/deviceManagement/certificateConnectorDetails/*",
			Status: 503, RetryAfterSeconds: new(7), Times: new(2)})
		if f.ID == "" || f.Code == "" || f.Message == "" {
			t.Errorf("Fault returned %+v, want an id and the default code and message", f)
		}
		for i := range 2 {
			code, h, body := call(t, srv, http.MethodPatch, item, dev, `{"connectorName":"after"}`)
			if code != 503 || h.Get("Retry-After") != "7" || h.Get("request-id") == "" ||
				!bytes.Contains(body, []byte(`"code":"`+f.Code+`"`)) {
				t.Errorf("PATCH %d under the fault: %d Retry-After %q %s", i, code, h.Get("Retry-After"), body)
			}
		}
		if code, _, body := call(t, srv, http.MethodGet, item, dev, ""); code != 200 || !bytes.Contains(body, []byte(`"connectorName":"before"`)) {
			t.Errorf("the faulted PATCHes were applied: %d %s", code, body)
		}
		if code, _, _ := call(t, srv, http.MethodPatch, item, dev, `{"connectorName":"after"}`); code != 200 {
			t.Errorf("PATCH after the fault's times: %d, want 200", code)
		}
		if left, err := srv.Admin().Faults(t.Context()); err != nil || len(left) != 0 {
			t.Errorf("the fault was not removed after its times: %+v %v", left, err)
		}
		var faults []string
		for _, r := range srv.Requests(admin.ByMethod("PATCH")) {
			faults = append(faults, r.Fault)
		}
		if strings.Join(faults, ",") != f.ID+","+f.ID+"," {
			t.Errorf("journal faults of the PATCHes = %q, want the fault's id twice, then none", faults)
		}
	})

	t.Run("Delay", func(t *testing.T) {
		f := srv.Fault(graphdtest.Fault{Method: "GET", Path: "/beta/**", DelayMs: 300, Times: new(1)})
		srv.ClearRequests()
		start := time.Now()
		code, _, _ := call(t, srv, http.MethodGet, item, dev, "")
		if d := time.Since(start); code != 200 || d < 300*time.Millisecond {
			t.Errorf("GET under a delay fault: %d after %v, want 200 after at least 300ms", code, d)
		}
		if rs := srv.Requests(); len(rs) != 1 || rs[0].Fault != f.ID || rs[0].Status != 200 {
			t.Errorf("journal: %+v", rs)
		}
	})

	t.Run("Tenant", func(t *testing.T) {
		f := srv.Fault(graphdtest.Fault{Method: "*", Path: "/beta/**", Status: 429, Tenant: tenantB})
		defer srv.ClearFaults()
		if code, _, _ := call(t, srv, http.MethodGet, connectors+"/"+otherID, srv.Token(tenantB), ""); code != 429 {
			t.Errorf("tenant B under its fault: %d, want 429", code)
		}
		if code, _, _ := call(t, srv, http.MethodGet, item, dev, ""); code != 200 {
			t.Errorf("the development tenant under tenant B's fault: %d, want 200", code)
		}
		listed, err := srv.Admin().Faults(t.Context())
		if err != nil || len(listed) != 1 || listed[0].ID != f.ID || listed[0].Tenant != tenantB {
			t.Errorf("Faults = %+v, %v", listed, err)
		}
	})

	t.Run("Remove", func(t *testing.T) {
		f := srv.Fault(graphdtest.Fault{Method: "GET", Path: "/beta/**", Status: 500})
		if err := srv.Admin().RemoveFault(t.Context(), f.ID); err != nil {
			t.Fatal(err)
		}
		if code, _, _ := call(t, srv, http.MethodGet, item, dev, ""); code != 200 {
			t.Errorf("GET after RemoveFault: %d", code)
		}
		var ae *admin.Error
		if err := srv.Admin().RemoveFault(t.Context(), f.ID); !errors.As(err, &ae) || ae.StatusCode != 404 {
			t.Errorf("RemoveFault of a removed fault: %v, want a 404 *admin.Error", err)
		}
	})
}

// TestClock checks that a pinned clock is now() in $filter: the motivating case, a tool that flags connectors
// that have not checked in lately.
func TestClock(t *testing.T) {
	t.Parallel()
	srv := graphdtest.New(t)
	srv.Import("", []byte(`[{"id":"`+seedID+`","lastCheckinDateTime":"2024-06-01T12:00:00.1234567Z"}]`))
	tok := srv.Token("")
	stale := func() bool {
		t.Helper()
		code, _, body := call(t, srv, http.MethodGet, connectors+"?$filter="+url.QueryEscape("lastCheckinDateTime lt now()"), tok, "")
		if code != 200 {
			t.Fatalf("GET: %d %s", code, body)
		}
		return bytes.Contains(body, []byte(seedID))
	}
	if !stale() {
		t.Error("with the real clock, a check-in in 2024 is not before now()")
	}
	srv.PinClock(time.Date(2024, 6, 1, 12, 0, 0, 123456789, time.UTC)) // truncated to 100 ns: …1234567Z
	if stale() {
		t.Error("with the clock pinned to the check-in, it is before now()")
	}
	srv.PinClock(time.Date(2024, 6, 1, 12, 0, 0, 123456800, time.UTC))
	if !stale() {
		t.Error("with the clock pinned 100 ns after the check-in, it is not before now()")
	}
	srv.UnpinClock()
	if !stale() {
		t.Error("after UnpinClock, a check-in in 2024 is not before now()")
	}
}

func TestAdminErrors(t *testing.T) {
	t.Parallel()
	srv := graphdtest.New(t)
	srv.Import("", fixture(t, seedID, "kept"))
	var ae *admin.Error

	_, err := srv.Admin().Import(t.Context(), "", []byte(`[{"id":"`+otherID+`"},{"id":"`+seedID+`","foo":1}]`))
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code == "" || ae.Message == "" {
		t.Errorf("Import of a bad fixture: %v, want a 400 *admin.Error", err)
	}
	if code, _, _ := call(t, srv, http.MethodGet, connectors+"/"+otherID, srv.Token(""), ""); code != 404 {
		t.Errorf("a bad fixture changed something: GET its first connector %d, want 404", code)
	}

	wrong := admin.New(srv.Admin().BaseURL, "not-the-admin-token")
	wrong.HTTPClient = srv.Client()
	if _, err := wrong.Requests(t.Context()); !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Code != "InvalidAuthenticationToken" {
		t.Errorf("a wrong admin token: %v, want 401 InvalidAuthenticationToken", err)
	}
	graphToken := admin.New(srv.Admin().BaseURL, srv.Token(""))
	graphToken.HTTPClient = srv.Client()
	if err := graphToken.ResetAll(t.Context()); !errors.As(err, &ae) || ae.StatusCode != 401 {
		t.Errorf("a Graph token on the admin API: %v, want 401", err)
	}
	if code, _, _ := call(t, srv, http.MethodGet, connectors+"/"+seedID, srv.Token(""), ""); code != 200 {
		t.Errorf("ResetAll with a Graph token erased data: GET %d", code)
	}

	tok, err := srv.Admin().Token(t.Context(), admin.TokenRequest{Tenant: tenantB, Roles: []string{admin.PermReadAll}, TTLSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := call(t, srv, http.MethodGet, connectors, tok, ""); code != 200 {
		t.Errorf("GET with a token from the admin API: %d", code)
	}
	if _, err := srv.Admin().Token(t.Context(), admin.TokenRequest{Tenant: "x"}); !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Errorf("Token for a tenant that is not a GUID: %v, want 400", err)
	}
}
