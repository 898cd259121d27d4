// Package container is a testcontainers-go module for graphd's standalone image (Dockerfile.standalone: Debian,
// PostgreSQL 15 and graphd in one container), for projects that test their Microsoft Graph (Intune
// certificateConnectorDetails) code against graphd from Go. It starts the image with the test-lab admin API on and
// exposes the helpers of graphdtest (which runs graphd in-process) over that API: seed, export and reset tenants,
// mint tokens, read the journal of requests, inject faults and pin the clock (docs/testlab.md).
//
//	ctr, err := container.Run(ctx, "graphd:standalone", container.WithFixtures("testdata/seed.json"))
//	testcontainers.CleanupContainer(t, ctr)
//	if err != nil {
//		t.Fatal(err)
//	}
//	graphURL, err := ctr.GraphURL(ctx)    // http://127.0.0.1:PORT/beta, the base URL of your Graph client
//	token, err := ctr.Token(ctx, tenant)  // a bearer token graphd accepts, for that tenant
//	...
//	patches, err := ctr.Requests(ctx, admin.ByTenant(tenant), admin.ByMethod(http.MethodPatch))
//
// The image must be present locally or pullable; testcontainers pulls it only when it is absent. Starting a
// container costs seconds (initdb on the first start), so a package's tests usually share one and give each test
// a tenant of its own. Faults with a Tenant fire only for that tenant's requests, so they do not disturb the
// other tests either; the clock is the whole server's.
//
// The methods return errors (an *admin.Error for an answer of the admin API) and never fail a test themselves.
package container

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/graphd/graphd/graphdtest/admin"
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

const (
	// Port is the port graphd listens on inside the container.
	Port = "8080/tcp"
	// FixturesDir is where the image looks for fixtures at start: every FixturesDir/*.json, in name order.
	FixturesDir = "/fixtures"
	// minAdminToken is graphd's minimum length of GRAPHD_ADMIN_TOKEN (httpapi.MinAdminTokenLength; the
	// module does not import the server).
	minAdminToken = 16
	// startupTimeout bounds the wait for /readyz: the first start runs initdb and the migrations.
	startupTimeout = 2 * time.Minute
)

const envAdminToken = "GRAPHD_ADMIN_TOKEN"

// Container is a running standalone graphd.
type Container struct {
	testcontainers.Container
	adminToken string
}

// Run starts the standalone image img with the admin API on (a random admin token unless WithAdminToken or
// GRAPHD_ADMIN_TOKEN in testcontainers.WithEnv gives one), and waits until graphd answers /readyz. Any
// testcontainers.ContainerCustomizer may follow the module's options: testcontainers.WithEnv passes graphd's
// other settings (GRAPHD_LOG_LEVEL, GRAPHD_MAX_BODY_BYTES, ...).
//
// As with every testcontainers module, a Container may come back with an error (it started, then failed); pass
// it to testcontainers.CleanupContainer or TerminateContainer before checking the error.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	token, err := randomToken()
	if err != nil {
		return nil, fmt.Errorf("graphd container: admin token: %w", err)
	}
	var adminToken string
	moduleOpts := make([]testcontainers.ContainerCustomizer, 0, len(opts)+4)
	moduleOpts = append(moduleOpts,
		testcontainers.WithExposedPorts(Port),
		testcontainers.WithEnv(map[string]string{envAdminToken: token}),
		testcontainers.WithWaitStrategyAndDeadline(startupTimeout, readyz{
			http: wait.ForHTTP("/readyz").WithPort(Port).WithStartupTimeout(startupTimeout).
				WithPollInterval(200 * time.Millisecond),
		}),
	)
	moduleOpts = append(moduleOpts, opts...)
	// Last, once every option has had its say: the admin token the helpers use, however it was set.
	moduleOpts = append(moduleOpts, testcontainers.CustomizeRequestOption(func(req *testcontainers.GenericContainerRequest) error {
		adminToken = req.Env[envAdminToken]
		if len(adminToken) < minAdminToken {
			return fmt.Errorf("%s: the module needs the admin API, which takes a token of at least %d characters", envAdminToken, minAdminToken)
		}
		return nil
	}))

	ctr, err := testcontainers.Run(ctx, img, moduleOpts...)
	var c *Container
	if ctr != nil {
		c = &Container{Container: ctr, adminToken: adminToken}
	}
	if err != nil {
		return c, fmt.Errorf("graphd container: %w", err)
	}
	return c, nil
}

// WithAdminToken sets GRAPHD_ADMIN_TOKEN, the admin API's bearer token (at least 16 characters). By default Run
// generates a random one; AdminToken returns it.
func WithAdminToken(token string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if len(token) < minAdminToken {
			return fmt.Errorf("WithAdminToken: want at least %d characters", minAdminToken)
		}
		return testcontainers.WithEnv(map[string]string{envAdminToken: token})(req)
	}
}

// WithFixtures copies fixture files (any format `graphd import` reads, named *.json) into the container's
// FixturesDir, under their base names; graphd imports them at start, in name order, each into the tenant the
// file names ("tenant") or else the development tenant. A file graphd refuses stops the start: Run's error says
// why.
func WithFixtures(files ...string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		for _, f := range files {
			st, err := os.Stat(f)
			if err != nil {
				return fmt.Errorf("WithFixtures: %w", err)
			}
			if !st.Mode().IsRegular() {
				return fmt.Errorf("WithFixtures: %s is not a file", f)
			}
			if err := addFixture(req, filepath.Base(f), testcontainers.ContainerFile{HostFilePath: f}); err != nil {
				return err
			}
		}
		return nil
	}
}

// WithFixture is WithFixtures for a fixture in memory, copied into FixturesDir as name (*.json).
func WithFixture(name string, fixture []byte) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if name != path.Base(name) || name == "." || name == "/" {
			return fmt.Errorf("WithFixture: %q: want a file name without directories", name)
		}
		return addFixture(req, name, testcontainers.ContainerFile{Reader: bytes.NewReader(fixture)})
	}
}

func addFixture(req *testcontainers.GenericContainerRequest, name string, f testcontainers.ContainerFile) error {
	// The image imports FixturesDir/*.json (GRAPHD_FIXTURES): another name would be silently ignored.
	if !strings.HasSuffix(name, ".json") {
		return fmt.Errorf("fixture %s: graphd imports only *.json files", name)
	}
	f.ContainerFilePath = path.Join(FixturesDir, name)
	f.FileMode = 0o644 // readable by the image's user, whatever the host's mode
	for _, have := range req.Files {
		if have.ContainerFilePath == f.ContainerFilePath {
			return fmt.Errorf("fixture %s: two fixtures with this name", name)
		}
	}
	req.Files = append(req.Files, f)
	return nil
}

// WithPageSize sets the collection page size (GRAPHD_PAGE_SIZE; default 1000).
func WithPageSize(n int) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(map[string]string{"GRAPHD_PAGE_SIZE": strconv.Itoa(n)})
}

// WithMaxPageSize bounds Prefer: odata.maxpagesize (GRAPHD_MAX_PAGE_SIZE; default the page size).
func WithMaxPageSize(n int) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(map[string]string{"GRAPHD_MAX_PAGE_SIZE": strconv.Itoa(n)})
}

// WithJournalLimits bounds the request journal (GRAPHD_JOURNAL_SIZE and GRAPHD_JOURNAL_MAX_BYTES; defaults 1000
// entries and 8 MiB).
func WithJournalLimits(entries, bytes int) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(map[string]string{
		"GRAPHD_JOURNAL_SIZE": strconv.Itoa(entries), "GRAPHD_JOURNAL_MAX_BYTES": strconv.Itoa(bytes)})
}

// WithRateLimit throttles each tenant to perSecond requests a second with bursts of burst (GRAPHD_RATE_LIMIT and
// GRAPHD_RATE_BURST): more get 429 with Retry-After.
func WithRateLimit(perSecond float64, burst int) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(map[string]string{
		"GRAPHD_RATE_LIMIT": strconv.FormatFloat(perSecond, 'g', -1, 64), "GRAPHD_RATE_BURST": strconv.Itoa(burst)})
}

// AdminToken is the admin API's bearer token (GRAPHD_ADMIN_TOKEN).
func (c *Container) AdminToken() string { return c.adminToken }

// BaseURL is graphd's origin on the host, such as http://127.0.0.1:32768: the admin API is BaseURL/_graphd, the
// Graph API BaseURL/beta. The port is Docker's, so ask again after the container is restarted.
func (c *Container) BaseURL(ctx context.Context) (string, error) {
	return c.PortEndpoint(ctx, Port, "http")
}

// GraphURL is the service root that Graph clients take as their base URL, such as http://127.0.0.1:32768/beta.
func (c *Container) GraphURL(ctx context.Context) (string, error) {
	u, err := c.BaseURL(ctx)
	if err != nil {
		return "", err
	}
	return u + "/beta", nil
}

// Admin returns a client of the container's admin API (the helpers below use one too).
func (c *Container) Admin(ctx context.Context) (*admin.Client, error) {
	u, err := c.BaseURL(ctx)
	if err != nil {
		return nil, fmt.Errorf("graphd container: %w", err)
	}
	return admin.New(u, c.adminToken), nil
}

// Token returns a delegated bearer token (scp) for tenant with scopes, by default
// DeviceManagementConfiguration.ReadWrite.All, valid for an hour. graphd mints it (POST /_graphd/tokens) as its
// own issuer, so it fails with a 409 *admin.Error under GRAPHD_AUTH=none or an external issuer.
func (c *Container) Token(ctx context.Context, tenant string, scopes ...string) (string, error) {
	return c.token(ctx, admin.TokenRequest{Tenant: tenant, Scopes: scopes})
}

// AppToken returns an application bearer token (roles) for tenant with roles, by default
// DeviceManagementConfiguration.ReadWrite.All, valid for an hour.
func (c *Container) AppToken(ctx context.Context, tenant string, roles ...string) (string, error) {
	if len(roles) == 0 {
		roles = []string{admin.PermReadWriteAll}
	}
	return c.token(ctx, admin.TokenRequest{Tenant: tenant, Roles: roles})
}

func (c *Container) token(ctx context.Context, r admin.TokenRequest) (string, error) {
	a, err := c.Admin(ctx)
	if err != nil {
		return "", err
	}
	return a.Token(ctx, r)
}

// Import loads a fixture (any format `graphd import` reads) into tenant in one transaction and returns what it
// loaded; a fixture graphd refuses changes nothing.
func (c *Container) Import(ctx context.Context, tenant string, fixture []byte) (admin.Counts, error) {
	a, err := c.Admin(ctx)
	if err != nil {
		return nil, err
	}
	return a.Import(ctx, tenant, fixture)
}

// ImportFile loads a fixture file into tenant.
func (c *Container) ImportFile(ctx context.Context, tenant, file string) (admin.Counts, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return c.Import(ctx, tenant, b)
}

// Export returns everything tenant holds as a fixture that Import restores.
func (c *Container) Export(ctx context.Context, tenant string) ([]byte, error) {
	a, err := c.Admin(ctx)
	if err != nil {
		return nil, err
	}
	return a.Export(ctx, tenant)
}

// Reset deletes everything tenant holds; other tenants are untouched.
func (c *Container) Reset(ctx context.Context, tenant string) error {
	return c.call(ctx, func(a *admin.Client) error { return a.ResetTenant(ctx, tenant) })
}

// ResetAll deletes every tenant's data, empties the journal, removes the faults and unpins the clock.
func (c *Container) ResetAll(ctx context.Context) error {
	return c.call(ctx, func(a *admin.Client) error { return a.ResetAll(ctx) })
}

// Requests returns the journal of the requests graphd received under /beta, oldest first, narrowed by filters
// such as admin.ByTenant(tenant) and admin.ByMethod(http.MethodPatch).
func (c *Container) Requests(ctx context.Context, filters ...admin.RequestFilter) ([]Request, error) {
	a, err := c.Admin(ctx)
	if err != nil {
		return nil, err
	}
	return a.Requests(ctx, filters...)
}

// ClearRequests empties the journal, every tenant's entries: with a shared container, use ClearTenantRequests.
func (c *Container) ClearRequests(ctx context.Context) error {
	return c.call(ctx, func(a *admin.Client) error { return a.ClearRequests(ctx) })
}

// ClearTenantRequests removes one tenant's entries from the journal.
func (c *Container) ClearTenantRequests(ctx context.Context, tenant string) error {
	return c.call(ctx, func(a *admin.Client) error { return a.ClearTenantRequests(ctx, tenant) })
}

// Fault installs a fault and returns it with its ID; see admin.Fault. With a shared container, give it a Tenant.
func (c *Container) Fault(ctx context.Context, f Fault) (Fault, error) {
	a, err := c.Admin(ctx)
	if err != nil {
		return Fault{}, err
	}
	return a.AddFault(ctx, f)
}

// Faults lists the installed faults, with the times they have left.
func (c *Container) Faults(ctx context.Context) ([]Fault, error) {
	a, err := c.Admin(ctx)
	if err != nil {
		return nil, err
	}
	return a.Faults(ctx)
}

// RemoveFault removes one fault.
func (c *Container) RemoveFault(ctx context.Context, id string) error {
	return c.call(ctx, func(a *admin.Client) error { return a.RemoveFault(ctx, id) })
}

// ClearFaults removes every fault.
func (c *Container) ClearFaults(ctx context.Context) error {
	return c.call(ctx, func(a *admin.Client) error { return a.ClearFaults(ctx) })
}

// PinClock sets graphd's time for server-set values and now() in $filter (to 100 ns); token lifetimes keep the
// real clock. The clock is the whole server's.
func (c *Container) PinClock(ctx context.Context, now time.Time) error {
	return c.call(ctx, func(a *admin.Client) error { return a.PinClock(ctx, now) })
}

// UnpinClock gives graphd the real clock again.
func (c *Container) UnpinClock(ctx context.Context) error {
	return c.call(ctx, func(a *admin.Client) error { return a.UnpinClock(ctx) })
}

func (c *Container) call(ctx context.Context, f func(*admin.Client) error) error {
	a, err := c.Admin(ctx)
	if err != nil {
		return err
	}
	return f(a)
}

// readyz waits for graphd's /readyz, and gives up as soon as the container stops: graphd exits at start on a
// bad setting or fixture, and then the answer is in its log, not in a timeout two minutes later.
type readyz struct {
	http interface { // wait.ForHTTP's strategy
		wait.Strategy
		wait.StrategyTimeout
	}
}

func (r readyz) Timeout() *time.Duration { return r.http.Timeout() }

func (r readyz) String() string { return "graphd's /readyz" }

func (r readyz) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.http.WaitUntilReady(ctx, target) }()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			// The HTTP strategy notices an exited container itself, sometimes before the tick does: the
			// answer is still in graphd's log.
			if err != nil {
				if st, serr := target.State(ctx); serr == nil && !st.Running {
					return stoppedEarly(ctx, target, st.ExitCode)
				}
			}
			return err
		case <-tick.C:
			st, err := target.State(ctx)
			if err != nil || st.Running {
				continue
			}
			cancel()
			<-done
			return stoppedEarly(ctx, target, st.ExitCode)
		}
	}
}

func stoppedEarly(ctx context.Context, target wait.StrategyTarget, code int) error {
	return fmt.Errorf("graphd stopped (exit code %d) before it was ready: %s", code, lastError(ctx, target))
}

// lastError returns the last error graphd logged, else the log's last line.
func lastError(ctx context.Context, target wait.StrategyTarget) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	rc, err := target.Logs(ctx)
	if err != nil {
		return "no log: " + err.Error()
	}
	defer rc.Close()
	var last, lastErr string
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		last = line
		// graphd's fatal error ("graphd: ...") is its last word; an ERROR record comes close.
		if strings.HasPrefix(line, "graphd:") || strings.Contains(line, `"level":"ERROR"`) {
			lastErr = line
		}
	}
	if lastErr != "" {
		return lastErr
	}
	if last == "" {
		return "the log is empty"
	}
	return last
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "graphd-test-" + hex.EncodeToString(b), nil
}
