// Package graphdtest runs graphd inside a Go test, for projects that test their Microsoft Graph (Intune
// certificateConnectorDetails) code against graphd instead of the real Graph. It is graphd's own server code, as
// `graphd serve` runs it: the HTTP API over PostgreSQL, graphd as its own token issuer, and the test-lab admin API
// (seed and reset tenants, the journal of requests, faults, the clock; docs/testlab.md).
//
//	func TestMain(m *testing.M) { os.Exit(graphdtest.Main(m)) }
//
//	func TestRename(t *testing.T) {
//		srv := graphdtest.New(t)
//		srv.Import(graphdtest.DevTenant, fixture)
//		client := newClient(srv.URL(), srv.Token(graphdtest.DevTenant)) // your code, pointed at graphd
//		...
//		patches := srv.Requests(admin.ByMethod(http.MethodPatch))
//	}
//
// Every New gets a database of its own, so tests may run in parallel. The PostgreSQL server is
// TEST_DATABASE_URL's (a role that may create databases) or, without it, a throwaway cluster that the test binary
// starts once from the machine's PostgreSQL binaries (PostgreSQL 15 or later; Debian: apt-get install postgresql;
// GRAPHD_PG_BINDIR names their directory): initdb and the migrations run once per test binary, and each New
// clones a migrated template database in milliseconds. No Docker is needed. Main stops the cluster at the end;
// without it the kernel stops the cluster when the test binary exits, and the next test binary removes its data
// directory.
//
// The helpers' methods fail the test (tb.Fatal) on errors, so call them from the test's goroutine; Admin returns
// the admin API client, whose methods return errors instead.
package graphdtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/graphd/graphd/graphdtest/admin"
	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/store"
)

// DevTenant is graphd's development tenant (a tenant argument "" means it too).
const DevTenant = admin.DevTenant

// The admin API's types, for convenience.
type (
	// Fault is a fault rule: see admin.Fault.
	Fault = admin.Fault
	// Request is a journal entry: see admin.Request.
	Request = admin.Request
)

// maxConns bounds each server's database pool, so that many parallel tests fit PostgreSQL's max_connections.
const maxConns = 4

// Server is one graphd with a database of its own, running until its test ends.
type Server struct {
	tb     testing.TB
	http   *httptest.Server
	issuer *auth.Issuer
	admin  *admin.Client
	store  *store.Store
}

type config struct {
	pageSize, maxPageSize int
	journalSize           int
	journalMaxBytes       int
	rateLimit             float64
	rateBurst             int
	logger                *slog.Logger
}

// Option changes how New runs graphd.
type Option func(*config)

// WithPageSize sets the collection page size (GRAPHD_PAGE_SIZE; default 1000).
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithMaxPageSize bounds Prefer: odata.maxpagesize (GRAPHD_MAX_PAGE_SIZE; default the page size).
func WithMaxPageSize(n int) Option { return func(c *config) { c.maxPageSize = n } }

// WithJournalLimits bounds the request journal (GRAPHD_JOURNAL_SIZE and GRAPHD_JOURNAL_MAX_BYTES; defaults 1000
// entries and 8 MiB).
func WithJournalLimits(entries, bytes int) Option {
	return func(c *config) { c.journalSize, c.journalMaxBytes = entries, bytes }
}

// WithRateLimit throttles each tenant to perSecond requests a second with bursts of burst (GRAPHD_RATE_LIMIT and
// GRAPHD_RATE_BURST): more get 429 with Retry-After.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) { c.rateLimit, c.rateBurst = perSecond, burst }
}

// WithLogger receives graphd's log (a line per request); by default it is discarded.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// New starts graphd on a free loopback port, on a new database, until tb ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	cfg := config{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tb.Context()), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, database(tb), store.Options{MaxConns: maxConns})
	if err != nil {
		tb.Fatalf("graphdtest: opening the store: %v", err)
	}
	tb.Cleanup(st.Close)
	der, err := st.Secret(ctx, auth.SigningKeySecret, auth.NewSigningKey)
	if err != nil {
		tb.Fatalf("graphdtest: signing key: %v", err)
	}
	iss, err := auth.NewIssuer(der, auth.DefaultIssuer, auth.DefaultAudience)
	if err != nil {
		tb.Fatalf("graphdtest: issuer: %v", err)
	}
	jwks, err := json.Marshal(iss.JWKS())
	if err != nil {
		tb.Fatalf("graphdtest: %v", err)
	}
	skipKey, err := st.Secret(ctx, store.SkipTokenSecret, func() ([]byte, error) { return randomBytes(32), nil })
	if err != nil {
		tb.Fatalf("graphdtest: skiptoken key: %v", err)
	}
	adminToken := hex.EncodeToString(randomBytes(24))
	apiCfg := httpapi.Config{
		Logger:       cfg.logger,
		SkipTokenKey: skipKey,
		PageSize:     cfg.pageSize,
		MaxPageSize:  cfg.maxPageSize,
		RateLimit:    cfg.rateLimit,
		RateBurst:    cfg.rateBurst,
		Auth: auth.NewVerifier(auth.VerifierConfig{Issuer: auth.DefaultIssuer, Audience: auth.DefaultAudience,
			Keys: auth.StaticKeys{Set: iss.JWKS()}}),
		JWKS: jwks,
		Admin: &httpapi.AdminConfig{Token: adminToken, JournalSize: cfg.journalSize,
			JournalMaxBytes: cfg.journalMaxBytes, Issue: iss.Sign},
	}
	hs := httptest.NewUnstartedServer(httpapi.NewServer(apiCfg, st))
	// net/http's own answers to malformed requests carry Graph's envelope, as with graphd serve.
	hs.Listener = httpapi.EnvelopeListener(hs.Listener, apiCfg)
	hs.Start()
	tb.Cleanup(hs.Close)
	s := &Server{tb: tb, http: hs, issuer: iss, store: st}
	s.admin = admin.New(hs.URL, adminToken)
	s.admin.HTTPClient = hs.Client()
	return s
}

// URL is the service root that Graph clients take as their base URL, such as http://127.0.0.1:41234/beta.
func (s *Server) URL() string { return s.http.URL + "/beta" }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.http.Client() }

// Admin is the client of the server's admin API (its base URL is the server's origin).
func (s *Server) Admin() *admin.Client { return s.admin }

// Token returns a delegated bearer token (scp) for tenant with scopes, by default
// DeviceManagementConfiguration.ReadWrite.All; it is valid for an hour.
func (s *Server) Token(tenant string, scopes ...string) string {
	s.tb.Helper()
	if len(scopes) == 0 {
		scopes = []string{admin.PermReadWriteAll}
	}
	return s.sign(auth.TokenRequest{TenantID: tenantOf(tenant), Scopes: scopes})
}

// AppToken returns an application bearer token (roles) for tenant with roles, by default
// DeviceManagementConfiguration.ReadWrite.All; it is valid for an hour.
func (s *Server) AppToken(tenant string, roles ...string) string {
	s.tb.Helper()
	if len(roles) == 0 {
		roles = []string{admin.PermReadWriteAll}
	}
	return s.sign(auth.TokenRequest{TenantID: tenantOf(tenant), Roles: roles})
}

func (s *Server) sign(r auth.TokenRequest) string {
	s.tb.Helper()
	r.Subject, r.TTL = "graphd-test", time.Hour
	tok, err := s.issuer.Sign(r)
	if err != nil {
		s.tb.Fatalf("graphdtest: signing a token: %v", err)
	}
	return tok
}

// Import loads a fixture (any format `graphd import` reads) into tenant and returns what it loaded.
func (s *Server) Import(tenant string, fixture []byte) admin.Counts {
	s.tb.Helper()
	var counts admin.Counts
	s.do("import", func(ctx context.Context) (err error) {
		counts, err = s.admin.Import(ctx, tenant, fixture)
		return err
	})
	return counts
}

// ImportFile loads a fixture file into tenant.
func (s *Server) ImportFile(tenant, path string) admin.Counts {
	s.tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		s.tb.Fatalf("graphdtest: %v", err)
	}
	return s.Import(tenant, b)
}

// Export returns everything tenant holds as a fixture that Import restores.
func (s *Server) Export(tenant string) []byte {
	s.tb.Helper()
	var b []byte
	s.do("export", func(ctx context.Context) (err error) {
		b, err = s.admin.Export(ctx, tenant)
		return err
	})
	return b
}

// Reset deletes everything tenant holds.
func (s *Server) Reset(tenant string) {
	s.tb.Helper()
	s.do("reset", func(ctx context.Context) error { return s.admin.ResetTenant(ctx, tenant) })
}

// ResetAll deletes every tenant's data and empties the journal, removes the faults and unpins the clock.
func (s *Server) ResetAll() {
	s.tb.Helper()
	s.do("reset", s.admin.ResetAll)
}

// Requests returns the journal of the requests the server received under /beta, oldest first, narrowed by
// filters such as admin.ByMethod(http.MethodPatch).
func (s *Server) Requests(filters ...admin.RequestFilter) []Request {
	s.tb.Helper()
	var r []Request
	s.do("requests", func(ctx context.Context) (err error) {
		r, err = s.admin.Requests(ctx, filters...)
		return err
	})
	return r
}

// ClearRequests empties the journal.
func (s *Server) ClearRequests() {
	s.tb.Helper()
	s.do("clear requests", s.admin.ClearRequests)
}

// Fault installs a fault and returns it with its ID; see admin.Fault.
func (s *Server) Fault(f Fault) Fault {
	s.tb.Helper()
	var out Fault
	s.do("fault", func(ctx context.Context) (err error) {
		out, err = s.admin.AddFault(ctx, f)
		return err
	})
	return out
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.tb.Helper()
	s.do("clear faults", s.admin.ClearFaults)
}

// PinClock sets the server's time for server-set values and now() in $filter; UnpinClock restores the real one.
func (s *Server) PinClock(now time.Time) {
	s.tb.Helper()
	s.do("pin clock", func(ctx context.Context) error { return s.admin.PinClock(ctx, now) })
}

// UnpinClock gives the server the real clock again.
func (s *Server) UnpinClock() {
	s.tb.Helper()
	s.do("unpin clock", s.admin.UnpinClock)
}

// do runs one admin call and fails the test if it fails. Not under the test's context, so that the helpers work
// in cleanups too.
func (s *Server) do(what string, call func(context.Context) error) {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := call(ctx); err != nil {
		s.tb.Fatalf("graphdtest: %s: %v", what, err)
	}
}

func tenantOf(tenant string) string {
	if tenant == "" {
		return DevTenant
	}
	return tenant
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
