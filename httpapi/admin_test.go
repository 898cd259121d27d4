package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
)

// The test-lab admin API under /_graphd (issue 11 item 2): enablement, its token, GRAPHD_AUTH=none, the clock,
// token minting, resets, and import and export on the fake store. The journal and faults have files of their
// own; admin_integration_test.go runs import, export and reset on PostgreSQL against the same goldens.

// labAdminToken is the lab's admin token in these tests.
const labAdminToken = "lab-admin-token-0123456789abcdef"

// labStore is the fake store with the admin API's operations, as store.Store does them where the API can tell:
// an import is checked whole before anything changes (a sample of a connector the tenant would not hold is
// refused with the store's 400), and an export lists every set in key order (byte order, as the "C" collation
// sorts) and the samples by connector, metric and time.
type labStore struct{ *fakeStore }

var _ httpapi.AdminStore = labStore{}

func (f labStore) Import(ctx context.Context, tenant string, set *odata.ImportSet) error {
	if err := f.enter(ctx); err != nil {
		return err
	}
	defer f.mu.Unlock()
	conns := f.model.MustSet(odata.ConnectorsSet)
	for _, m := range set.Samples {
		_, stored := f.rows[conns.Index][tenant][m.ConnectorID]
		given := slices.ContainsFunc(set.Entities[conns.Index], func(e odata.Entity) bool { return e.Key() == m.ConnectorID })
		if !stored && !given {
			return odata.Errorf(odata.KindInvalid, odata.CodeModelValidationFailure,
				"A health-metric sample refers to a connector that does not exist in this tenant.")
		}
	}
	for _, entities := range set.Entities {
		for i := range entities {
			if err := storable(&entities[i]); err != nil {
				return err
			}
		}
	}
	for i, entities := range set.Entities {
		t := f.table(f.model.Sets[i], tenant)
		for _, e := range entities {
			e.Values = slices.Clone(e.Values)
			e.Version = t[e.Key()].Version + 1
			t[e.Key()] = e
		}
	}
	if f.samples == nil {
		f.samples = map[string][]odata.MetricSample{}
	}
	for _, m := range set.Samples {
		i := slices.IndexFunc(f.samples[tenant], func(s odata.MetricSample) bool {
			return s.ConnectorID == m.ConnectorID && s.MetricName == m.MetricName && s.DateTime.Ticks == m.DateTime.Ticks
		})
		if i >= 0 {
			f.samples[tenant][i] = m
		} else {
			f.samples[tenant] = append(f.samples[tenant], m)
		}
	}
	return nil
}

func (f labStore) Export(ctx context.Context, tenant string) (odata.ImportSet, error) {
	if err := f.enter(ctx); err != nil {
		return odata.ImportSet{}, err
	}
	defer f.mu.Unlock()
	out := odata.ImportSet{Entities: make([][]odata.Entity, len(f.model.Sets))}
	for i := range f.model.Sets {
		rows := f.rows[i][tenant]
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range rows {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			out.Entities[i] = append(out.Entities[i], rows[k])
		}
	}
	out.Samples = slices.Clone(f.samples[tenant])
	slices.SortFunc(out.Samples, func(a, b odata.MetricSample) int {
		if c := strings.Compare(a.ConnectorID, b.ConnectorID); c != 0 {
			return c
		}
		if c := strings.Compare(a.MetricName, b.MetricName); c != 0 {
			return c
		}
		return int(a.DateTime.Ticks - b.DateTime.Ticks)
	})
	return out, nil
}

func (f labStore) DeleteTenant(ctx context.Context, tenant string) error {
	if err := f.enter(ctx); err != nil {
		return err
	}
	defer f.mu.Unlock()
	for _, tenants := range f.rows {
		delete(tenants, tenant)
	}
	delete(f.samples, tenant)
	return nil
}

func (f labStore) DeleteAll(ctx context.Context) error {
	if err := f.enter(ctx); err != nil {
		return err
	}
	defer f.mu.Unlock()
	clear(f.rows)
	clear(f.samples)
	return nil
}

// lab is a server with the admin API on.
type lab struct {
	h    http.Handler
	fake *fakeStore // nil on PostgreSQL
}

// newLab is a lab on the fake store; mod changes the configuration (testConfig with the admin token).
func newLab(t *testing.T, mod ...func(*httpapi.Config)) lab {
	t.Helper()
	fake := newFakeStore()
	return newLabOn(t, labStore{fake}, fake, mod...)
}

func newLabOn(t *testing.T, st httpapi.Store, fake *fakeStore, mod ...func(*httpapi.Config)) lab {
	t.Helper()
	cfg := testConfig(nil)
	cfg.Admin = &httpapi.AdminConfig{Token: labAdminToken}
	for _, m := range mod {
		m(&cfg)
	}
	return lab{h: httpapi.NewServer(cfg, st), fake: fake}
}

// labCountingIDs makes request ids req-1, req-2, …, so that journal entries can be told apart.
func labCountingIDs(cfg *httpapi.Config) {
	var n atomic.Int64
	cfg.NewRequestID = func() string { return "req-" + strconv.FormatInt(n.Add(1), 10) }
}

func labWithAuth(v httpapi.Authenticator) func(*httpapi.Config) {
	return func(cfg *httpapi.Config) { cfg.Auth = v }
}

// labWithTokens turns authentication on with the matrix's verifier (labGraphToken's tokens), so that the admin
// API serves every tenant.
func labWithTokens(t *testing.T) func(*httpapi.Config) {
	return labWithAuth(newVerifier(matrixKeys(t), nil))
}

// do sends a request; an empty body sends none.
func (l lab) do(tb testing.TB, method, target string, header http.Header, body string) (*http.Response, []byte) {
	tb.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return doHandler(tb, l.h, method, target, header, b)
}

// admin sends an admin call with the admin token (and Content-Type: application/json with a body).
func (l lab) admin(tb testing.TB, method, target, body string) (*http.Response, []byte) {
	tb.Helper()
	h := hdr("Authorization", "Bearer "+labAdminToken)
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	return l.do(tb, method, target, h, body)
}

// mustAdmin is admin, failing unless the call answers status.
func (l lab) mustAdmin(tb testing.TB, method, target, body string, status int) []byte {
	tb.Helper()
	res, b := l.admin(tb, method, target, body)
	if res.StatusCode != status {
		tb.Fatalf("%s %s: %d %s, want %d", method, target, res.StatusCode, b, status)
	}
	return b
}

// labGraphToken is an Authorization header with a valid token of the matrix's verifier (newVerifier) for tenant.
func labGraphToken(tb testing.TB, tenant string, kv ...any) http.Header {
	tb.Helper()
	return hdr("Authorization", "Bearer "+signToken(tb, matrixKeys(tb).rs, claimsFor(tenant, kv...), nil))
}

// labAdminRoutes are every admin route and method, with a body that would succeed.
var labAdminRoutes = []struct{ method, path, body string }{
	{"DELETE", "/_graphd", ""},
	{"DELETE", "/_graphd/tenants/" + odata.DevTenantID, ""},
	{"POST", "/_graphd/tenants/" + odata.DevTenantID + "/import", `[]`},
	{"GET", "/_graphd/tenants/" + odata.DevTenantID + "/export", ""},
	{"HEAD", "/_graphd/tenants/" + odata.DevTenantID + "/export", ""},
	{"POST", "/_graphd/clock", `{"now":"2030-01-01T00:00:00Z"}`},
	{"DELETE", "/_graphd/clock", ""},
	{"POST", "/_graphd/tokens", `{"tenant":"` + tenantA + `","scopes":["x"]}`},
	{"GET", "/_graphd/requests", ""},
	{"DELETE", "/_graphd/requests", ""},
	{"GET", "/_graphd/faults", ""},
	{"POST", "/_graphd/faults", `{"method":"GET","path":"/beta/**","status":503}`},
	{"DELETE", "/_graphd/faults", ""},
	{"DELETE", "/_graphd/faults/fault-1", ""},
}

// TestAdminDisabled: without Config.Admin nothing exists under /_graphd, with or without the would-be token,
// and a server cannot be made with a short token or a store without the admin operations.
func TestAdminDisabled(t *testing.T) {
	t.Parallel()
	h := httpapi.NewServer(testConfig(nil), newFakeStore())
	for _, rt := range labAdminRoutes {
		t.Run(rt.method+rt.path, func(t *testing.T) {
			t.Parallel()
			header := hdr("Authorization", "Bearer "+labAdminToken, "Content-Type", "application/json")
			var body []byte
			if rt.body != "" {
				body = []byte(rt.body)
			}
			res, b := doHandler(t, h, rt.method, rt.path, header, body)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", res.StatusCode, b)
			}
			if rt.method == "HEAD" {
				return
			}
			env := checkEnvelope(t, res, b, odata.CodeBadRequest)
			if want := "Resource not found for the segment '_graphd'."; env.Error.Message != want {
				t.Errorf("message %q, want %q", env.Error.Message, want)
			}
		})
	}
	t.Run("Golden", func(t *testing.T) {
		t.Parallel()
		res, b := doHandler(t, h, "GET", "/_graphd/requests", hdr("Authorization", "Bearer "+labAdminToken), nil)
		checkGolden(t, "AdminDisabled", render(res, b))
	})
	t.Run("JournalStaysEmpty", func(t *testing.T) {
		t.Parallel()
		// Requests served and a fault asked for leave nothing behind that a later admin API could show: the
		// server that has none answers every /beta request normally.
		fake := newFakeStore()
		fake.put(odata.DevTenantID, seedRow(t))
		h := httpapi.NewServer(testConfig(nil), fake)
		res, b := doHandler(t, h, "POST", "/_graphd/faults", hdr("Authorization", "Bearer "+labAdminToken, "Content-Type", "application/json"),
			[]byte(`{"method":"*","path":"/**","status":503}`))
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("POST /_graphd/faults: %d %s", res.StatusCode, b)
		}
		for range 3 {
			if res, b := doHandler(t, h, "GET", seedItem, nil, nil); res.StatusCode != http.StatusOK {
				t.Fatalf("GET: %d %s", res.StatusCode, b)
			}
		}
	})
	for _, tc := range []struct {
		name  string
		token string
		st    httpapi.Store
	}{
		{"ShortToken", labAdminToken[:httpapi.MinAdminTokenLength-1], labStore{newFakeStore()}},
		{"EmptyToken", "", labStore{newFakeStore()}},
		{"NoAdminStore", labAdminToken, newFakeStore()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Error("NewServer did not refuse the configuration")
				}
			}()
			cfg := testConfig(nil)
			cfg.Admin = &httpapi.AdminConfig{Token: tc.token}
			httpapi.NewServer(cfg, tc.st)
		})
	}
	t.Run("MinimumToken", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(nil)
		cfg.Admin = &httpapi.AdminConfig{Token: labAdminToken[:httpapi.MinAdminTokenLength]}
		h := httpapi.NewServer(cfg, labStore{newFakeStore()})
		res, b := doHandler(t, h, "GET", "/_graphd/faults", hdr("Authorization", "Bearer "+labAdminToken[:httpapi.MinAdminTokenLength]), nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, b)
		}
	})
}

// TestAdminAuthorization: every admin call needs exactly the admin token; anything else is a 401 Graph envelope
// that changes nothing, with authentication on or off. The admin token opens nothing under /beta.
func TestAdminAuthorization(t *testing.T) {
	t.Parallel()
	v := newVerifier(matrixKeys(t), nil)
	graph := labGraphToken(t, tenantA).Get("Authorization")
	for _, mode := range []struct {
		name string
		auth httpapi.Authenticator
	}{{"AuthOn", v}, {"AuthNone", nil}} {
		for _, tc := range []struct{ name, header string }{
			{"NoHeader", ""},
			{"Wrong", "Bearer not-the-admin-token-at-all"},
			{"Prefix", "Bearer " + labAdminToken[:len(labAdminToken)-1]},
			{"Longer", "Bearer " + labAdminToken + "x"},
			{"OtherCase", "Bearer " + strings.ToUpper(labAdminToken)},
			{"Basic", "Basic " + labAdminToken},
			{"Bare", labAdminToken},
			{"GraphToken", graph},
			{"EmptyBearer", "Bearer "},
		} {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				l := newLab(t, labWithAuth(mode.auth))
				l.fake.put(odata.DevTenantID, seedRow(t))
				l.fake.put(tenantA, seedRow(t))
				before := l.fake.snapshot()
				for _, rt := range labAdminRoutes {
					h := hdr("Content-Type", "application/json")
					if tc.header != "" {
						h.Set("Authorization", tc.header)
					}
					res, b := l.do(t, rt.method, rt.path, h, rt.body)
					if res.StatusCode != http.StatusUnauthorized {
						t.Errorf("%s %s: %d %s, want 401", rt.method, rt.path, res.StatusCode, b)
						continue
					}
					if got := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
						t.Errorf("%s %s: WWW-Authenticate %q", rt.method, rt.path, got)
					}
					if rt.method != "HEAD" {
						checkEnvelope(t, res, b, "InvalidAuthenticationToken")
					}
				}
				if !reflect.DeepEqual(before, l.fake.snapshot()) {
					t.Error("a refused admin call changed the store")
				}
				// Nothing was added, pinned or cleared: the faults are empty and the clock is the real one.
				if b := l.mustAdmin(t, "GET", "/_graphd/faults", "", 200); string(b) != `{"value":[]}` {
					t.Errorf("faults after refused calls: %s", b)
				}
			})
		}
	}
	t.Run("Golden", func(t *testing.T) {
		t.Parallel()
		l := newLab(t)
		res, b := l.do(t, "GET", "/_graphd/requests", hdr("Authorization", graph), "")
		checkGolden(t, "AdminUnauthorized", render(res, b))
	})
	t.Run("SchemeAnyCase", func(t *testing.T) {
		t.Parallel()
		l := newLab(t)
		for _, scheme := range []string{"bearer ", "BEARER ", "Bearer "} {
			res, b := l.do(t, "GET", "/_graphd/faults", hdr("Authorization", scheme+labAdminToken), "")
			if res.StatusCode != http.StatusOK {
				t.Errorf("%q: %d %s", scheme, res.StatusCode, b)
			}
		}
	})
	t.Run("AdminTokenOnBeta", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labWithAuth(v))
		l.fake.put(tenantA, seedRow(t))
		before := l.fake.snapshot()
		for _, rt := range authRoutes() {
			h := rt.header.Clone()
			if h == nil {
				h = http.Header{}
			}
			h.Set("Authorization", "Bearer "+labAdminToken)
			res, b := l.do(t, rt.method, rt.path, h, rt.body)
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with the admin token: %d %s, want 401", rt.method, rt.path, res.StatusCode, b)
			}
		}
		if !reflect.DeepEqual(before, l.fake.snapshot()) {
			t.Error("the admin token changed the store")
		}
	})
}

// TestAdminAuthNone: with authentication off every request acts in the development tenant, so the admin API
// serves only that tenant's data, and mints no tokens.
func TestAdminAuthNone(t *testing.T) {
	t.Parallel()
	other := "/_graphd/tenants/" + tenantA
	for _, tc := range []struct{ method, path, body string }{
		{"POST", other + "/import", `[]`},
		{"GET", other + "/export", ""},
		{"DELETE", other, ""},
	} {
		t.Run("OtherTenant"+tc.method, func(t *testing.T) {
			t.Parallel()
			l := newLab(t)
			l.fake.put(tenantA, seedRow(t))
			before := l.fake.snapshot()
			res, b := l.admin(t, tc.method, tc.path, tc.body)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", res.StatusCode, b)
			}
			env := checkEnvelope(t, res, b, odata.CodeBadRequest)
			if !strings.Contains(env.Error.Message, odata.DevTenantID) {
				t.Errorf("the message does not name the development tenant: %q", env.Error.Message)
			}
			if !reflect.DeepEqual(before, l.fake.snapshot()) {
				t.Error("the refused call changed the store")
			}
		})
	}
	t.Run("DevTenant", func(t *testing.T) {
		t.Parallel()
		l := newLab(t)
		dev := "/_graphd/tenants/" + strings.ToUpper(odata.DevTenantID)
		l.mustAdmin(t, "POST", dev+"/import", `[{"id":"`+seedID+`","connectorName":"x"}]`, 200)
		if _, ok := l.fake.row(odata.DevTenantID, seedID); !ok {
			t.Fatal("the import did not reach the development tenant")
		}
		if b := l.mustAdmin(t, "GET", dev+"/export", "", 200); !strings.Contains(string(b), seedID) {
			t.Errorf("export: %s", b)
		}
		l.mustAdmin(t, "DELETE", dev, "", 204)
		if _, ok := l.fake.row(odata.DevTenantID, seedID); ok {
			t.Error("the reset left the development tenant's row")
		}
	})
	t.Run("Tokens", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, func(cfg *httpapi.Config) {
			cfg.Admin.Issue = func(auth.TokenRequest) (string, error) { return "minted", nil }
		})
		res, b := l.admin(t, "POST", "/_graphd/tokens", `{"tenant":"`+odata.DevTenantID+`","scopes":["`+auth.PermReadAll+`"]}`)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("%d %s, want 409", res.StatusCode, b)
		}
		checkEnvelope(t, res, b, odata.CodeConflict)
		checkGolden(t, "AdminTokensAuthNone", render(res, b))
	})
}

// TestAdminTenantPath: the tenant of an admin path must be a GUID.
func TestAdminTenantPath(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/_graphd/tenants/not-a-guid/import", `[]`},
		{"GET", "/_graphd/tenants/not-a-guid/export", ""},
		{"DELETE", "/_graphd/tenants/not-a-guid", ""},
		{"DELETE", "/_graphd/tenants/" + odata.DevTenantID + "0", ""},
	} {
		res, b := l.admin(t, tc.method, tc.path, tc.body)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s %s: %d %s, want 400", tc.method, tc.path, res.StatusCode, b)
			continue
		}
		checkEnvelope(t, res, b, odata.CodeBadRequest)
	}
}

// The fixture of the import and export tests: every set by name, with offsets, seven fraction digits, secrets,
// server-set times given and omitted, and samples (one count written as a string, as IEEE754Compatible clients
// write Int64).
// labConnA is the fixture's second connector (the first is the seed's).
const labConnA = "0a0b0c0d-0000-4000-8000-000000000001"

func labFixture(tb testing.TB) string {
	tb.Helper()
	return string(readTestdata(tb, "AdminFixture.json"))
}

// labCounts is the import's answer for the fixture.
const labCounts = `{"certificateConnectorDetails":2,"healthMetricSamples":3,"userPfxCertificates":2}`

// TestAdminImportFormats imports every fixture format graphd import takes.
func TestAdminImportFormats(t *testing.T) {
	t.Parallel()
	conn := `{"id":"` + labConnA + `","connectorName":"A"}`
	for _, tc := range []struct {
		name, body, counts string
	}{
		{"Array", `[` + conn + `]`, `{"certificateConnectorDetails":1,"healthMetricSamples":0,"userPfxCertificates":0}`},
		{"EmptyArray", `[]`, `{"certificateConnectorDetails":0,"healthMetricSamples":0,"userPfxCertificates":0}`},
		{"Value", `{"@odata.context":"x","value":[` + conn + `]}`, `{"certificateConnectorDetails":1,"healthMetricSamples":0,"userPfxCertificates":0}`},
		{"BySetName", `{"certificateConnectorDetails":[` + conn + `]}`, `{"certificateConnectorDetails":1,"healthMetricSamples":0,"userPfxCertificates":0}`},
		{"UserPfxOnly", `{"userPfxCertificates":[{"thumbprint":"AB","userPrincipalName":"u@x.example"}]}`,
			`{"certificateConnectorDetails":0,"healthMetricSamples":0,"userPfxCertificates":1}`},
		{"Everything", labFixture(t), labCounts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labWithTokens(t))
			res, b := l.admin(t, "POST", "/_graphd/tenants/"+tenantA+"/import", tc.body)
			if res.StatusCode != http.StatusOK || string(b) != tc.counts {
				t.Fatalf("%d %s, want 200 %s", res.StatusCode, b, tc.counts)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if strings.Contains(strings.ToLower(tc.body), labConnA) {
				if _, ok := l.fake.row(tenantA, labConnA); !ok {
					t.Error("the connector is not in the tenant")
				}
			}
			if len(l.fake.snapshot()[connSet.Index][odata.DevTenantID]) != 0 {
				t.Error("the import reached another tenant")
			}
		})
	}
	t.Run("Golden", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labWithTokens(t))
		res, b := l.admin(t, "POST", "/_graphd/tenants/"+tenantA+"/import", labFixture(t))
		checkGolden(t, "AdminImport", render(res, b))
		if n := len(l.fake.samples[tenantA]); n != 3 {
			t.Errorf("%d samples stored, want 3", n)
		}
	})
	t.Run("Gzip", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labWithTokens(t))
		res, b := l.do(t, "POST", "/_graphd/tenants/"+tenantA+"/import",
			hdr("Authorization", "Bearer "+labAdminToken, "Content-Type", "application/json", "Content-Encoding", "gzip"),
			string(gzipped(t, []byte(labFixture(t)))))
		if res.StatusCode != http.StatusOK || string(b) != labCounts {
			t.Fatalf("%d %s", res.StatusCode, b)
		}
	})
}

// labBadImports are fixture files the import refuses whole; each has something valid before what is wrong.
func labBadImports() []struct{ name, body, code string } {
	conn := `{"id":"` + labConnA + `","connectorName":"A"}`
	return []struct{ name, body, code string }{
		{"NotJSON", `[` + conn + `,`, odata.CodeBadRequest},
		{"Empty", ``, odata.CodeBadRequest},
		{"SecondEntityInvalid", `[` + conn + `,{"id":"` + seedID + `","connectorName":5}]`, ""},
		{"UnknownProperty", `[` + conn + `,{"id":"` + seedID + `","nope":1}]`, ""},
		{"MissingID", `[` + conn + `,{"connectorName":"x"}]`, ""},
		{"DuplicateID", `[` + conn + `,` + conn + `]`, ""},
		{"UnknownMember", `{"certificateConnectorDetails":[` + conn + `],"widgets":[]}`, ""},
		{"PfxKeyMismatch", `{"certificateConnectorDetails":[` + conn + `],"userPfxCertificates":[{"id":"x","thumbprint":"AB","userPrincipalName":"u@x.example"}]}`, ""},
		{"SampleUnknownConnector", `{"certificateConnectorDetails":[` + conn + `],"healthMetricSamples":[{"connectorId":"` + missingID +
			`","metricName":"m","dateTime":"2024-01-01T00:00:00Z","successCount":1,"failureCount":0}]}`, odata.CodeModelValidationFailure},
		{"SampleNegative", `{"certificateConnectorDetails":[` + conn + `],"healthMetricSamples":[{"connectorId":"` + labConnA +
			`","metricName":"m","dateTime":"2024-01-01T00:00:00Z","successCount":-1,"failureCount":0}]}`, ""},
	}
}

// TestAdminImportBadFile: a bad file is a 400 and changes nothing, not even what came before the fault.
func TestAdminImportBadFile(t *testing.T) {
	t.Parallel()
	for _, tc := range labBadImports() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labWithTokens(t))
			l.fake.put(tenantA, seedRow(t))
			before := l.fake.snapshot()
			res, b := l.admin(t, "POST", "/_graphd/tenants/"+tenantA+"/import", tc.body)
			if tc.name == "Empty" {
				// No body at all: the request has no Content-Type either.
				if res.StatusCode != http.StatusUnsupportedMediaType {
					t.Fatalf("%d %s, want 415", res.StatusCode, b)
				}
				return
			}
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", res.StatusCode, b)
			}
			checkEnvelope(t, res, b, tc.code)
			if !reflect.DeepEqual(before, l.fake.snapshot()) || len(l.fake.samples[tenantA]) != 0 {
				t.Error("the refused import changed the store")
			}
		})
	}
}

// TestAdminExport: every set by name, stored values with secrets and server-set times, no ETags, key order,
// and an export that imports as it is, back to the same bytes.
func TestAdminExport(t *testing.T) {
	t.Parallel()
	labExportTests(t, newLab(t, labWithTokens(t)))
}

// labExportTests runs the export tests on a lab with authentication on, the fake's or PostgreSQL's.
func labExportTests(t *testing.T, l lab) {
	l.mustAdmin(t, "POST", "/_graphd/tenants/"+tenantA+"/import", labFixture(t), 200)
	// Another tenant's data stays out of the export.
	l.mustAdmin(t, "POST", "/_graphd/tenants/"+tenantB+"/import", `[{"id":"`+missingID+`"}]`, 200)
	res, export := l.admin(t, "GET", "/_graphd/tenants/"+tenantA+"/export", "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, export)
	}
	checkGolden(t, "AdminExport", render(res, export))
	labCheckExport(t, l, export)

	// export → reset → import → export gives the same bytes, in the same tenant and in another.
	l.mustAdmin(t, "DELETE", "/_graphd/tenants/"+tenantA, "", 204)
	if b := l.mustAdmin(t, "GET", "/_graphd/tenants/"+tenantA+"/export", "", 200); string(b) != labEmptyExport {
		t.Fatalf("export after the reset: %s", b)
	}
	if b := l.mustAdmin(t, "POST", "/_graphd/tenants/"+tenantA+"/import", string(export), 200); string(b) != labCounts {
		t.Errorf("import of the export: %s", b)
	}
	if again := l.mustAdmin(t, "GET", "/_graphd/tenants/"+tenantA+"/export", "", 200); !bytes.Equal(again, export) {
		t.Errorf("export → reset → import → export changed the bytes\n--- first\n%s\n--- second\n%s", export, again)
	}
	l.mustAdmin(t, "DELETE", "/_graphd/tenants/"+tenantB, "", 204)
	l.mustAdmin(t, "POST", "/_graphd/tenants/"+tenantB+"/import", string(export), 200)
	if b := l.mustAdmin(t, "GET", "/_graphd/tenants/"+tenantB+"/export", "", 200); !bytes.Equal(b, export) {
		t.Errorf("tenant B's export of tenant A's export differs\n--- A\n%s\n--- B\n%s", export, b)
	}
	if b := l.mustAdmin(t, "GET", "/_graphd/tenants/"+odata.DevTenantID+"/export", "", 200); string(b) != labEmptyExport {
		t.Errorf("export of a tenant without data: %s", b)
	}
}

const labEmptyExport = `{"certificateConnectorDetails":[],"userPfxCertificates":[],"healthMetricSamples":[]}`

// labCheckExport checks an export of the lab fixture against what a GET returns: each connector is GET's body less
// @odata.context and @odata.etag, each certificate is GET's with its secrets, and nothing carries an ETag.
func labCheckExport(t *testing.T, l lab, export []byte) {
	t.Helper()
	var doc map[string][]json.RawMessage
	if err := json.Unmarshal(export, &doc); err != nil {
		t.Fatalf("export is not an object of arrays: %v", err)
	}
	if got := slices.Sorted(labKeys(doc)); !reflect.DeepEqual(got, []string{"certificateConnectorDetails", "healthMetricSamples", "userPfxCertificates"}) {
		t.Errorf("export members %v", got)
	}
	if bytes.Contains(export, []byte("@odata.etag")) || bytes.Contains(export, []byte("@odata.context")) {
		t.Error("the export carries ETags or context URLs")
	}
	for _, c := range doc["certificateConnectorDetails"] {
		var id struct{ ID string }
		_ = json.Unmarshal(c, &id)
		res, got := l.do(t, "GET", collection+"/"+id.ID, labGraphToken(t, tenantA), "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", id.ID, res.StatusCode, got)
		}
		want := labDropMembers(t, got, "@odata.context", "@odata.etag")
		if !bytes.Equal(c, want) {
			t.Errorf("exported connector\n%s\nGET less context and ETag\n%s", c, want)
		}
	}
	pfx := doc["userPfxCertificates"]
	if len(pfx) != 2 {
		t.Fatalf("%d certificates exported", len(pfx))
	}
	for _, want := range []string{`"encryptedPfxBlob":"MIIAAP8A/w=="`, `"encryptedPfxPassword":"cGFzc3dvcmQ="`,
		`"createdDateTime":"2024-02-03T04:05:06.7+01:00"`, `"lastModifiedDateTime":"2024-02-04T04:05:06.1234567-05:00"`,
		`"createdDateTime":"` + pinnedNowText + `"`} {
		if !bytes.Contains(export, []byte(want)) {
			t.Errorf("the export lacks %s", want)
		}
	}
}

func labKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// labDropMembers removes top-level members from a JSON object, keeping the others' bytes and order.
func labDropMembers(tb testing.TB, obj []byte, names ...string) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	for _, m := range members(tb, obj) {
		if slices.Contains(names, m.name) {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		name, _ := json.Marshal(m.name)
		b.Write(name)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// TestAdminReset: DELETE of a tenant removes its entities and samples and nothing of other tenants; DELETE
// /_graphd removes every tenant's data and restores the journal, the faults and the clock.
func TestAdminReset(t *testing.T) {
	t.Parallel()
	seed := func(t *testing.T, l lab) {
		for _, tenant := range []string{tenantA, tenantB, odata.DevTenantID} {
			l.mustAdmin(t, "POST", "/_graphd/tenants/"+tenant+"/import", labFixture(t), 200)
		}
	}
	t.Run("Tenant", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labWithTokens(t))
		seed(t, l)
		before := l.fake.snapshot()
		res, b := l.admin(t, "DELETE", "/_graphd/tenants/"+strings.ToUpper(tenantA), "")
		if res.StatusCode != http.StatusNoContent || len(b) != 0 {
			t.Fatalf("%d %s, want 204", res.StatusCode, b)
		}
		after := l.fake.snapshot()
		for set := range before {
			if len(after[set][tenantA]) != 0 {
				t.Errorf("set %d keeps %d entities of the reset tenant", set, len(after[set][tenantA]))
			}
			for _, other := range []string{tenantB, odata.DevTenantID} {
				if !reflect.DeepEqual(before[set][other], after[set][other]) {
					t.Errorf("set %d of tenant %s changed", set, other)
				}
			}
		}
		if len(l.fake.samples[tenantA]) != 0 || len(l.fake.samples[tenantB]) != 3 {
			t.Errorf("samples: %d of the reset tenant, %d of another", len(l.fake.samples[tenantA]), len(l.fake.samples[tenantB]))
		}
		// Resetting an empty tenant is no error.
		l.mustAdmin(t, "DELETE", "/_graphd/tenants/"+tenantA, "", 204)
	})
	t.Run("All", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labWithTokens(t))
		seed(t, l)
		l.mustAdmin(t, "POST", "/_graphd/clock", `{"now":"2031-01-01T00:00:00Z"}`, 200)
		l.mustAdmin(t, "POST", "/_graphd/faults", `{"method":"DELETE","path":"/beta/**","status":503}`, 201)
		if res, b := l.do(t, "GET", collection, labGraphToken(t, tenantA), ""); res.StatusCode != 200 {
			t.Fatalf("GET: %d %s", res.StatusCode, b)
		}
		if len(labJournal(t, l, "")) == 0 {
			t.Fatal("the journal is empty before the reset")
		}
		res, b := l.admin(t, "DELETE", "/_graphd", "")
		if res.StatusCode != http.StatusNoContent || len(b) != 0 {
			t.Fatalf("%d %s, want 204", res.StatusCode, b)
		}
		for set, tenants := range l.fake.snapshot() {
			for tenant, rows := range tenants {
				if len(rows) != 0 {
					t.Errorf("set %d keeps %d entities of %s", set, len(rows), tenant)
				}
			}
		}
		for tenant, s := range l.fake.samples {
			if len(s) != 0 {
				t.Errorf("%d samples of %s remain", len(s), tenant)
			}
		}
		if got := labJournal(t, l, ""); len(got) != 0 {
			t.Errorf("the journal keeps %d entries", len(got))
		}
		if b := l.mustAdmin(t, "GET", "/_graphd/faults", "", 200); string(b) != `{"value":[]}` {
			t.Errorf("faults: %s", b)
		}
		// The real clock (pinnedNow) again: a create's server-set times are it.
		res, b = l.do(t, "POST", pfxCollection, jsonHdr("Authorization", labGraphToken(t, tenantA).Get("Authorization")), `{"thumbprint":"AB","userPrincipalName":"u@x.example"}`)
		if res.StatusCode != http.StatusCreated || !strings.Contains(string(b), `"createdDateTime":"`+pinnedNowText+`"`) {
			t.Errorf("create after the reset: %d %s", res.StatusCode, b)
		}
	})
}

// TestAdminClock: a pinned clock gives server-set times and now() in $filter; DELETE gives the real one back.
func TestAdminClock(t *testing.T) {
	t.Parallel()
	t.Run("ServerSetTimes", func(t *testing.T) {
		t.Parallel()
		l := newLab(t)
		res, b := l.admin(t, "POST", "/_graphd/clock", `{"now":"2030-06-07T08:09:10.1234567+02:00"}`)
		checkGolden(t, "AdminClockPin", render(res, b))
		res, b = l.do(t, "POST", pfxCollection, jsonHdr(), `{"thumbprint":"AB","userPrincipalName":"u@x.example","createdDateTime":"2001-01-01T00:00:00Z"}`)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, b)
		}
		pinned := "2030-06-07T06:09:10.1234567Z"
		key := odata.UserPfxKey("u@x.example", "AB")
		e, _ := l.fake.rowOf(pfxSet, odata.DevTenantID, key)
		if c, m := e.Get("createdDateTime").Time.String(), e.Get("lastModifiedDateTime").Time.String(); c != pinned || m != pinned {
			t.Errorf("created %s, modified %s; want the pinned %s", c, m, pinned)
		}
		l.mustAdmin(t, "POST", "/_graphd/clock", `{"now":"2031-01-01T00:00:00Z"}`, 200)
		item := pfxCollection + "/" + key
		if res, b := l.do(t, "PATCH", item, jsonHdr(), `{"keyName":"k"}`); res.StatusCode != http.StatusOK {
			t.Fatalf("update: %d %s", res.StatusCode, b)
		}
		e, _ = l.fake.rowOf(pfxSet, odata.DevTenantID, key)
		if c, m := e.Get("createdDateTime").Time.String(), e.Get("lastModifiedDateTime").Time.String(); c != pinned || m != "2031-01-01T00:00:00Z" {
			t.Errorf("after the update: created %s, modified %s", c, m)
		}
		res, b = l.admin(t, "DELETE", "/_graphd/clock", "")
		if res.StatusCode != http.StatusNoContent || len(b) != 0 {
			t.Fatalf("DELETE clock: %d %s", res.StatusCode, b)
		}
		if res, b := l.do(t, "PATCH", item, jsonHdr(), `{"keyName":"k2"}`); res.StatusCode != http.StatusOK {
			t.Fatalf("update: %d %s", res.StatusCode, b)
		}
		e, _ = l.fake.rowOf(pfxSet, odata.DevTenantID, key)
		if m := e.Get("lastModifiedDateTime").Time.String(); m != pinnedNowText {
			t.Errorf("after DELETE /_graphd/clock: modified %s, want the real clock's %s", m, pinnedNowText)
		}
		// Omitted server-set times of an import are the pinned now too.
		l.mustAdmin(t, "POST", "/_graphd/clock", `{"now":"2032-02-02T00:00:00Z"}`, 200)
		l.mustAdmin(t, "POST", "/_graphd/tenants/"+odata.DevTenantID+"/import", `{"userPfxCertificates":[{"thumbprint":"CD","userPrincipalName":"u@x.example"}]}`, 200)
		e, _ = l.fake.rowOf(pfxSet, odata.DevTenantID, odata.UserPfxKey("u@x.example", "CD"))
		if c := e.Get("createdDateTime").Time.String(); c != "2032-02-02T00:00:00Z" {
			t.Errorf("imported without createdDateTime: %s", c)
		}
	})
	t.Run("FilterNow", func(t *testing.T) {
		t.Parallel()
		l := newLab(t)
		l.mustAdmin(t, "POST", "/_graphd/tenants/"+odata.DevTenantID+"/import", `[
			{"id":"`+labConnA+`","lastCheckinDateTime":"2020-01-01T00:00:00Z"},
			{"id":"`+seedID+`","lastCheckinDateTime":"2028-01-01T00:00:00Z"}]`, 200)
		count := func() string {
			t.Helper()
			res, b := l.do(t, "GET", collection+"/$count?$filter="+qv("lastCheckinDateTime lt now()"), nil, "")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("count: %d %s", res.StatusCode, b)
			}
			return string(b)
		}
		for _, step := range []struct{ pin, want string }{
			{"", "1"}, // the real clock: 2026
			{"2019-06-01T00:00:00Z", "0"},
			{"2030-06-01T00:00:00-05:00", "2"},
			{"-", "1"},
		} {
			switch step.pin {
			case "":
			case "-":
				l.mustAdmin(t, "DELETE", "/_graphd/clock", "", 204)
			default:
				l.mustAdmin(t, "POST", "/_graphd/clock", `{"now":"`+step.pin+`"}`, 200)
			}
			if got := count(); got != step.want {
				t.Errorf("clock %q: %s connectors checked in before now(), want %s", step.pin, got, step.want)
			}
		}
	})
	t.Run("BadBodies", func(t *testing.T) {
		t.Parallel()
		l := newLab(t)
		l.mustAdmin(t, "POST", "/_graphd/clock", `{"now":"2030-01-01T00:00:00Z"}`, 200)
		for _, body := range []string{
			`{}`, `{"now":""}`, `{"now":null}`, `{"now":"2031-01-01"}`, `{"now":"2031-01-01T00:00:00"}`, `{"now":"yesterday"}`,
			`{"now":5}`, `[]`, `"2031-01-01T00:00:00Z"`, `{"now":"2031-01-01T00:00:00Z","zone":"x"}`,
			`{"now":"2031-01-01T00:00:00Z"} {}`, `{"now":"2031-01-01T00:00:00Z"`, ` `,
		} {
			res, b := l.admin(t, "POST", "/_graphd/clock", body)
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", body, res.StatusCode, b)
				continue
			}
			checkEnvelope(t, res, b, odata.CodeBadRequest)
		}
		res, b := l.do(t, "POST", "/_graphd/clock", hdr("Authorization", "Bearer "+labAdminToken), `{"now":"2031-01-01T00:00:00Z"}`)
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("without Content-Type: %d %s", res.StatusCode, b)
		}
		// The refused bodies left the clock where it was.
		if res, b := l.do(t, "POST", pfxCollection, jsonHdr(), `{"thumbprint":"AB","userPrincipalName":"u@x.example"}`); !strings.Contains(string(b), `"createdDateTime":"2030-01-01T00:00:00Z"`) {
			t.Errorf("create: %d %s", res.StatusCode, b)
		}
	})
}

// labIssuer is a lab with graphd as its own issuer on the real clock, as cmd/graphd wires it.
func labIssuer(t *testing.T, mod ...func(*httpapi.Config)) lab {
	t.Helper()
	key, err := auth.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	iss, err := auth.NewIssuer(key, auth.DefaultIssuer, auth.DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewVerifier(auth.VerifierConfig{Issuer: auth.DefaultIssuer, Audience: auth.DefaultAudience,
		Keys: auth.StaticKeys{Set: iss.JWKS()}})
	l := newLab(t, append([]func(*httpapi.Config){func(cfg *httpapi.Config) {
		cfg.Auth = v
		cfg.Admin.Issue = iss.Sign
	}}, mod...)...)
	for _, tenant := range []string{tenantA, tenantB} {
		l.fake.put(tenant, seedRow(t))
	}
	return l
}

type labTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// mint asks the lab for a token.
func (l lab) mint(t *testing.T, body string) labTokenResponse {
	t.Helper()
	b := l.mustAdmin(t, "POST", "/_graphd/tokens", body, 200)
	var tr labTokenResponse
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tr); err != nil {
		t.Fatalf("token response %s: %v", b, err)
	}
	if tr.TokenType != "Bearer" || tr.AccessToken == "" {
		t.Fatalf("token response %s", b)
	}
	return tr
}

func labBearer(tok string) http.Header { return hdr("Authorization", "Bearer "+tok) }

// labClaims reads a JWT's payload without checking it.
func labClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAdminTokens: minted tokens work on /beta with exactly the permissions asked, in their tenant.
func TestAdminTokens(t *testing.T) {
	t.Parallel()
	t.Run("Scopes", func(t *testing.T) {
		t.Parallel()
		l := labIssuer(t)
		tr := l.mint(t, `{"tenant":"`+strings.ToUpper(tenantA)+`","scopes":["`+auth.PermReadAll+`"]}`)
		if tr.ExpiresIn != 3600 {
			t.Errorf("expires_in %d, want 3600", tr.ExpiresIn)
		}
		c := labClaims(t, tr.AccessToken)
		if c["tid"] != tenantA || c["scp"] != auth.PermReadAll || c["roles"] != nil {
			t.Errorf("claims %v", c)
		}
		if res, b := l.do(t, "GET", seedItem, labBearer(tr.AccessToken), ""); res.StatusCode != http.StatusOK {
			t.Errorf("GET with Read.All: %d %s", res.StatusCode, b)
		}
		res, b := l.do(t, "PATCH", seedItem, jsonHdr("Authorization", "Bearer "+tr.AccessToken), `{"connectorName":"x"}`)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("PATCH with Read.All: %d %s, want 403", res.StatusCode, b)
		}
	})
	t.Run("Roles", func(t *testing.T) {
		t.Parallel()
		l := labIssuer(t)
		tr := l.mint(t, `{"tenant":"`+tenantB+`","roles":["`+auth.PermReadWriteAll+`"],"user":"app-1","ttlSeconds":60}`)
		if tr.ExpiresIn != 60 {
			t.Errorf("expires_in %d, want 60", tr.ExpiresIn)
		}
		c := labClaims(t, tr.AccessToken)
		if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 60 {
			t.Errorf("exp - iat = %v, want 60", exp-iat)
		}
		if c["oid"] != "app-1" || c["sub"] != "app-1" || c["scp"] != nil {
			t.Errorf("claims %v", c)
		}
		before := l.fake.snapshot()
		res, b := l.do(t, "PATCH", seedItem, jsonHdr("Authorization", "Bearer "+tr.AccessToken), `{"connectorName":"by app"}`)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("PATCH with ReadWrite.All: %d %s", res.StatusCode, b)
		}
		if e, _ := l.fake.row(tenantB, seedID); e.Get("connectorName").Str != "by app" {
			t.Error("the write did not land in the token's tenant")
		}
		if !reflect.DeepEqual(ofTenant(before, tenantA), ofTenant(l.fake.snapshot(), tenantA)) {
			t.Error("the write reached another tenant")
		}
	})
	t.Run("NoPermissions", func(t *testing.T) {
		t.Parallel()
		l := labIssuer(t)
		tr := l.mint(t, `{"tenant":"`+tenantA+`"}`)
		if res, b := l.do(t, "GET", seedItem, labBearer(tr.AccessToken), ""); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET: %d %s, want 403", res.StatusCode, b)
		}
		if res, b := l.do(t, "GET", "/beta/users?$filter="+qv("userPrincipalName eq 'a@b.example'"), labBearer(tr.AccessToken), ""); res.StatusCode != http.StatusOK {
			t.Errorf("users: %d %s, want 200", res.StatusCode, b)
		}
	})
	t.Run("RealClock", func(t *testing.T) {
		t.Parallel()
		// Pinning the clock years ahead or behind neither expires a token minted before nor makes one minted
		// after not yet valid: tokens live on the real clock.
		l := labIssuer(t)
		before := l.mint(t, `{"tenant":"`+tenantA+`","scopes":["`+auth.PermReadAll+`"],"ttlSeconds":120}`)
		for _, pin := range []string{"2099-01-01T00:00:00Z", "1999-01-01T00:00:00Z"} {
			l.mustAdmin(t, "POST", "/_graphd/clock", `{"now":"`+pin+`"}`, 200)
			after := l.mint(t, `{"tenant":"`+tenantA+`","scopes":["`+auth.PermReadAll+`"],"ttlSeconds":120}`)
			if iat := int64(labClaims(t, after.AccessToken)["iat"].(float64)); iat < time.Now().Add(-time.Hour).Unix() || iat > time.Now().Add(time.Hour).Unix() {
				t.Errorf("clock %s: the token was issued at %s", pin, time.Unix(iat, 0).UTC())
			}
			for name, tok := range map[string]string{"before": before.AccessToken, "after": after.AccessToken} {
				if res, b := l.do(t, "GET", seedItem, labBearer(tok), ""); res.StatusCode != http.StatusOK {
					t.Errorf("clock %s, token minted %s the pin: %d %s", pin, name, res.StatusCode, b)
				}
			}
		}
	})
	t.Run("NotIssuer", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labWithAuth(newVerifier(matrixKeys(t), nil)))
		res, b := l.admin(t, "POST", "/_graphd/tokens", `{"tenant":"`+tenantA+`","scopes":["x"]}`)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("%d %s, want 409", res.StatusCode, b)
		}
		checkEnvelope(t, res, b, odata.CodeConflict)
	})
	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		l := labIssuer(t)
		for _, body := range []string{
			`{}`, `{"tenant":"x","scopes":["a"]}`, `{"tenant":null}`, `{"tenant":5}`,
			`{"tenant":"` + tenantA + `","scopes":["a"],"roles":["b"]}`,
			`{"tenant":"` + tenantA + `","scopes":"a"}`,
			`{"tenant":"` + tenantA + `","ttlSeconds":0}`, `{"tenant":"` + tenantA + `","ttlSeconds":-5}`,
			`{"tenant":"` + tenantA + `","ttlSeconds":86401}`, `{"tenant":"` + tenantA + `","ttlSeconds":"60"}`,
			`{"tenant":"` + tenantA + `","ttlSeconds":1.5}`,
			`{"tenant":"` + tenantA + `","scope":["` + auth.PermReadWriteAll + `"]}`,
			`{"tenant":"` + tenantA + `"} []`, `[]`, `not json`,
		} {
			res, b := l.admin(t, "POST", "/_graphd/tokens", body)
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", body, res.StatusCode, b)
				continue
			}
			checkEnvelope(t, res, b, odata.CodeBadRequest)
		}
		if res, b := l.admin(t, "POST", "/_graphd/tokens", `{"tenant":"`+tenantA+`","ttlSeconds":86400}`); res.StatusCode != http.StatusOK {
			t.Errorf("ttlSeconds 86400: %d %s", res.StatusCode, b)
		}
	})
}

// TestAdminCostOff: with the admin API off the request path does no journal or fault work; with it on, the
// journal's copy of a request body is an allocation more. (The lead measures throughput with make bench.) It
// runs alone: AllocsPerRun counts every allocation in the process.
func TestAdminCostOff(t *testing.T) {
	allocs := func(admin bool) float64 {
		fake := newFakeStore()
		fake.put(odata.DevTenantID, seedRow(t))
		cfg := testConfig(nil)
		var st httpapi.Store = fake
		if admin {
			cfg.Admin = &httpapi.AdminConfig{Token: labAdminToken}
			st = labStore{fake}
		}
		h := httpapi.NewServer(cfg, st)
		body := []byte(`{"connectorName":"cost"}`)
		return testing.AllocsPerRun(200, func() {
			req, _ := http.NewRequestWithContext(t.Context(), "PATCH", "http://graph.example.test"+seedItem, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			if w.status != http.StatusOK {
				t.Fatalf("PATCH: %d", w.status)
			}
		})
	}
	off, on := allocs(false), allocs(true)
	t.Logf("allocations per PATCH: %.1f with the admin API off, %.1f on", off, on)
	if off >= on {
		t.Errorf("a PATCH allocates %.1f times with the admin API off and %.1f with it on: the journal seems to run while off", off, on)
	}
}
