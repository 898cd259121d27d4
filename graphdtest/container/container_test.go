package container_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/graphd/graphd/graphdtest/admin"
	"github.com/graphd/graphd/graphdtest/container"
)

// The package's tests share one container (graphdContainer in example_test.go) and each takes a tenant of its
// own; the tests that need a container of their own (fixtures at start, Terminate, start errors) start one.

var image struct {
	once       sync.Once
	name       string
	skip, fail string
}

// standaloneImage returns the standalone image to test (GRAPHD_STANDALONE_IMAGE, default graphd:standalone). It
// skips the test when no Docker daemon answers. When Docker answers but the image is not there, it skips too,
// saying how to build it, except under CI (CI set), where the image must have been built: the test fails rather
// than let testcontainers try to pull an image that no registry has.
func standaloneImage(t *testing.T) string {
	t.Helper()
	image.once.Do(func() {
		image.name = os.Getenv("GRAPHD_STANDALONE_IMAGE")
		if image.name == "" {
			image.name = "graphd:standalone"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cli, err := dockerClient(ctx)
		if err == nil {
			defer cli.Close()
			_, err = cli.Ping(ctx, client.PingOptions{})
		}
		if err != nil {
			image.skip = "Docker does not answer: " + firstLine(err.Error())
			return
		}
		if _, err := cli.ImageInspect(ctx, image.name); err != nil {
			msg := fmt.Sprintf("the image %s is not present (%s); build it with .ci/standalone-image/build.sh %[1]s, or name another with GRAPHD_STANDALONE_IMAGE",
				image.name, firstLine(err.Error()))
			if os.Getenv("CI") != "" {
				image.fail = msg
			} else {
				image.skip = msg
			}
		}
	})
	if image.fail != "" {
		t.Fatal(image.fail)
	}
	if image.skip != "" {
		t.Skip(image.skip)
	}
	return image.name
}

func dockerClient(ctx context.Context) (c *testcontainers.DockerClient, err error) {
	defer func() {
		// testcontainers panics rather than returns in some Docker-less setups.
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("testcontainers panicked: %v", r)
		}
	}()
	return testcontainers.NewDockerClientWithOpts(ctx)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// newTenant returns a tenant id of the test's own (a random GUID).
func newTenant(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

const (
	connectors = "/deviceManagement/certificateConnectorDetails"
	seedID     = "104d7361-7361-104d-6173-4d1061734d10" // examples/seed-connector.json's
	connA      = "2a7c4b1e-0d3f-4e5a-8b6c-9d0e1f2a3b4c"
	connB      = "3b8d5c2f-1e4a-4f6b-9c7d-0e1f2a3b4c5d"
)

func fixture(t *testing.T, id, name string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"certificateConnectorDetails": []map[string]any{{"id": id, "connectorName": name}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// must(f())(t) fails the test if f returns an error, and else returns f's value.
func must[T any](v T, err error) func(testing.TB) T {
	return func(tb testing.TB) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

// call sends one request to the container's Graph API with plain net/http and returns the status, the headers
// and the body.
func call(t *testing.T, c *container.Container, method, path, token, body string) (int, http.Header, []byte) {
	t.Helper()
	graphURL := must(c.GraphURL(t.Context()))(t)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, graphURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
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

func TestRun(t *testing.T) {
	t.Parallel()
	c := graphdContainer(t)
	ctx := t.Context()

	base := must(c.BaseURL(ctx))(t)
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Port() == "" || u.Path != "" {
		t.Fatalf("BaseURL = %q, want http://HOST:PORT", base)
	}
	if g := must(c.GraphURL(ctx))(t); g != base+"/beta" {
		t.Errorf("GraphURL = %q, want %q", g, base+"/beta")
	}
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz: %d", resp.StatusCode)
	}
	if code, _, _ := call(t, c, http.MethodGet, "/$metadata", "", ""); code != http.StatusOK {
		t.Errorf("GET /beta/$metadata: %d", code)
	}

	// A random admin token by default, long enough for graphd, and only it opens the admin API.
	if tok := c.AdminToken(); len(tok) < 32 {
		t.Errorf("AdminToken() = %q, want a random token of at least 32 characters", tok)
	}
	a := must(c.Admin(ctx))(t)
	if a.BaseURL != base || a.AdminToken != c.AdminToken() {
		t.Errorf("Admin() = %+v, want the base URL and the admin token", a)
	}
	var ae *admin.Error
	if _, err := admin.New(base, "not-the-admin-token-at-all").Requests(ctx); !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized {
		t.Errorf("the admin API with another token: %v, want 401", err)
	}
	if code, _, _ := call(t, c, http.MethodGet, connectors, c.AdminToken(), ""); code != http.StatusUnauthorized {
		t.Errorf("the Graph API with the admin token: %d, want 401", code)
	}
}

// TestSeedPatchJournal is a user's test in small: seed a tenant through the module, mint a token, PATCH with
// plain net/http, find the PATCH in the journal.
func TestSeedPatchJournal(t *testing.T) {
	t.Parallel()
	c := graphdContainer(t)
	ctx := t.Context()
	tenant := newTenant(t)

	counts := must(c.ImportFile(ctx, tenant, "../../examples/seed-connector.json"))(t)
	if counts["certificateConnectorDetails"] != 1 || counts["healthMetricSamples"] != 3 {
		t.Errorf("ImportFile = %v, want 1 connector and 3 samples", counts)
	}
	token := must(c.Token(ctx, tenant))(t)
	item := connectors + "/" + seedID
	code, _, body := call(t, c, http.MethodPatch, item, token, `{"connectorName":"renamed"}`)
	if code != http.StatusOK || !bytes.Contains(body, []byte(`"connectorName":"renamed"`)) || !bytes.Contains(body, []byte(`"@odata.etag":"W/\"2\""`)) {
		t.Fatalf("PATCH: %d %s", code, body)
	}

	rs := must(c.Requests(ctx, admin.ByTenant(tenant)))(t)
	if len(rs) != 1 || rs[0].Method != http.MethodPatch || rs[0].Path != "/beta"+item || rs[0].Status != http.StatusOK ||
		rs[0].Tenant != tenant || string(rs[0].RequestBody) != `{"connectorName":"renamed"}` || rs[0].RequestID == "" {
		t.Errorf("the tenant's journal: %+v, want the PATCH alone", rs)
	}
	if exported := must(c.Export(ctx, tenant))(t); !bytes.Contains(exported, []byte(`"connectorName":"renamed"`)) {
		t.Errorf("Export after the PATCH: %s", exported)
	}

	tests := []struct {
		name   string
		token  func() (string, error)
		method string
		want   int
	}{
		{"ReadOnlyGet", func() (string, error) { return c.Token(ctx, tenant, admin.PermReadAll) }, http.MethodGet, http.StatusOK},
		{"ReadOnlyPatch", func() (string, error) { return c.Token(ctx, tenant, admin.PermReadAll) }, http.MethodPatch, http.StatusForbidden},
		{"AppTokenPatch", func() (string, error) { return c.AppToken(ctx, tenant) }, http.MethodPatch, http.StatusOK},
		{"AppTokenReadOnlyPatch", func() (string, error) { return c.AppToken(ctx, tenant, admin.PermReadAll) }, http.MethodPatch, http.StatusForbidden},
		{"OtherTenant", func() (string, error) { return c.Token(ctx, newTenant(t)) }, http.MethodGet, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == http.MethodPatch {
				body = `{"machineName":"m"}`
			}
			if code, _, resp := call(t, c, tc.method, item, must(tc.token())(t), body); code != tc.want {
				t.Errorf("%s: %d %s, want %d", tc.method, code, resp, tc.want)
			}
		})
	}
}

func TestFault(t *testing.T) {
	t.Parallel()
	c := graphdContainer(t)
	ctx := t.Context()
	tenant := newTenant(t)
	must(c.Import(ctx, tenant, fixture(t, connA, "before")))(t)
	token := must(c.Token(ctx, tenant))(t)
	item := connectors + "/" + connA

	// Tenant: the fault fires only for this test's tenant, so the tests sharing the container go on.
	f := must(c.Fault(ctx, container.Fault{Method: http.MethodPatch, Path: "/beta/deviceManagement/certificateConnectorDetails/*",
		Status: http.StatusTooManyRequests, RetryAfterSeconds: new(1), Times: new(1), Tenant: tenant}))(t)
	if f.ID == "" || f.Code == "" {
		t.Fatalf("Fault = %+v, want an id and the default code", f)
	}
	listed := must(c.Faults(ctx))(t)
	if !hasFault(listed, f.ID) {
		t.Errorf("Faults = %+v, want %s among them", listed, f.ID)
	}

	code, h, body := call(t, c, http.MethodPatch, item, token, `{"connectorName":"after"}`)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") != "1" || !bytes.Contains(body, []byte(`"code":"`+f.Code+`"`)) {
		t.Errorf("PATCH under the fault: %d Retry-After %q %s, want 429, 1 and the envelope", code, h.Get("Retry-After"), body)
	}
	if code, _, body := call(t, c, http.MethodPatch, item, token, `{"connectorName":"after"}`); code != http.StatusOK || !bytes.Contains(body, []byte(`"@odata.etag":"W/\"2\""`)) {
		t.Errorf("PATCH after the fault's one time: %d %s, want 200 and the first change (the faulted PATCH not applied)", code, body)
	}
	if hasFault(must(c.Faults(ctx))(t), f.ID) {
		t.Error("the fault is still listed after its one time")
	}
	rs := must(c.Requests(ctx, admin.ByTenant(tenant), admin.ByMethod(http.MethodPatch)))(t)
	if len(rs) != 2 || rs[0].Status != http.StatusTooManyRequests || rs[0].Fault != f.ID || rs[1].Status != http.StatusOK || rs[1].Fault != "" {
		t.Errorf("the tenant's PATCHes: %+v, want the faulted one and the next", rs)
	}

	t.Run("Remove", func(t *testing.T) {
		f := must(c.Fault(ctx, container.Fault{Method: "*", Path: "/beta/**", Status: 500, Tenant: tenant}))(t)
		if code, _, _ := call(t, c, http.MethodGet, item, token, ""); code != http.StatusInternalServerError {
			t.Errorf("GET under a lasting fault: %d, want 500", code)
		}
		if err := c.RemoveFault(ctx, f.ID); err != nil {
			t.Fatal(err)
		}
		if code, _, _ := call(t, c, http.MethodGet, item, token, ""); code != http.StatusOK {
			t.Errorf("GET after RemoveFault: %d, want 200", code)
		}
		var ae *admin.Error
		if err := c.RemoveFault(ctx, f.ID); !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound {
			t.Errorf("RemoveFault of a removed fault: %v, want a 404 *admin.Error", err)
		}
	})
}

func hasFault(fs []container.Fault, id string) bool {
	for _, f := range fs {
		if f.ID == id {
			return true
		}
	}
	return false
}

func TestReset(t *testing.T) {
	t.Parallel()
	c := graphdContainer(t)
	ctx := t.Context()
	a, b := newTenant(t), newTenant(t)
	must(c.Import(ctx, a, fixture(t, connA, "a")))(t)
	must(c.Import(ctx, b, fixture(t, connB, "b")))(t)

	if err := c.Reset(ctx, a); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := call(t, c, http.MethodGet, connectors+"/"+connA, must(c.Token(ctx, a))(t), ""); code != http.StatusNotFound {
		t.Errorf("GET of the reset tenant's connector: %d, want 404", code)
	}
	if exported := must(c.Export(ctx, a))(t); bytes.Contains(exported, []byte(connA)) {
		t.Errorf("Export of the reset tenant: %s", exported)
	}
	if code, _, body := call(t, c, http.MethodGet, connectors+"/"+connB, must(c.Token(ctx, b))(t), ""); code != http.StatusOK || !bytes.Contains(body, []byte(`"connectorName":"b"`)) {
		t.Errorf("GET of the other tenant's connector: %d %s, want 200", code, body)
	}
}

// TestClock is not parallel: the clock is the whole server's, and a test that is not parallel runs before or
// after all the parallel ones.
func TestClock(t *testing.T) {
	c := graphdContainer(t)
	ctx := t.Context()
	tenant := newTenant(t)
	must(c.Import(ctx, tenant, []byte(`[{"id":"`+connA+`","lastCheckinDateTime":"2024-06-01T12:00:00Z"}]`)))(t)
	token := must(c.Token(ctx, tenant))(t)
	t.Cleanup(func() {
		if err := c.UnpinClock(context.WithoutCancel(ctx)); err != nil {
			t.Error(err)
		}
	})
	stale := func() bool {
		t.Helper()
		code, _, body := call(t, c, http.MethodGet, connectors+"?$filter="+url.QueryEscape("lastCheckinDateTime lt now()"), token, "")
		if code != http.StatusOK {
			t.Fatalf("GET: %d %s", code, body)
		}
		return bytes.Contains(body, []byte(connA))
	}
	if !stale() {
		t.Error("with the real clock, a check-in in 2024 is not before now()")
	}
	if err := c.PinClock(ctx, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if stale() {
		t.Error("with the clock pinned before the check-in, it is before now()")
	}
	if err := c.UnpinClock(ctx); err != nil {
		t.Fatal(err)
	}
	if !stale() {
		t.Error("after UnpinClock, a check-in in 2024 is not before now()")
	}
}

// TestWithFixtures starts a container of its own: fixtures imported at start, the admin token and the page size
// given, ResetAll, and Terminate removing the container and its data volume.
func TestWithFixtures(t *testing.T) {
	t.Parallel()
	img := standaloneImage(t)
	ctx := t.Context()
	other := newTenant(t)
	const adminToken = "a-test-admin-token-0123456789"
	c, err := container.Run(ctx, img,
		container.WithAdminToken(adminToken),
		container.WithFixtures("../../examples/seed-connector.json"),
		container.WithFixture("more.json", fixture(t, connA, "more")),
		container.WithFixture("other.json", []byte(`{"tenant":"`+other+`","certificateConnectorDetails":[{"id":"`+connB+`","connectorName":"other"}]}`)),
		container.WithPageSize(1),
	)
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminToken() != adminToken {
		t.Errorf("AdminToken() = %q, want %q", c.AdminToken(), adminToken)
	}

	dev := must(c.Token(ctx, ""))(t)
	code, _, body := call(t, c, http.MethodGet, connectors+"?$orderby=id", dev, "")
	var page struct {
		Value []struct {
			ID   string `json:"id"`
			Name string `json:"connectorName"`
		} `json:"value"`
		NextLink string `json:"@odata.nextLink"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Value) != 1 || page.Value[0].ID != seedID || page.NextLink == "" {
		t.Errorf("the development tenant's first page: %d %s, want the seed alone (page size 1) and a next link", code, body)
	}
	if code, _, body := call(t, c, http.MethodGet, connectors+"/"+connA, dev, ""); code != http.StatusOK || !bytes.Contains(body, []byte(`"connectorName":"more"`)) {
		t.Errorf("more.json's connector in the development tenant: %d %s", code, body)
	}
	if code, _, body := call(t, c, http.MethodGet, connectors+"/"+connB, must(c.Token(ctx, other))(t), ""); code != http.StatusOK || !bytes.Contains(body, []byte(`"connectorName":"other"`)) {
		t.Errorf("other.json's connector in the tenant the file names: %d %s", code, body)
	}

	must(c.Fault(ctx, container.Fault{Method: "DELETE", Path: "/beta/**", Status: 500}))(t)
	if err := c.ResetAll(ctx); err != nil {
		t.Fatal(err)
	}
	if rs := must(c.Requests(ctx))(t); len(rs) != 0 {
		t.Errorf("the journal after ResetAll: %+v", rs)
	}
	if fs := must(c.Faults(ctx))(t); len(fs) != 0 {
		t.Errorf("the faults after ResetAll: %+v", fs)
	}
	if code, _, _ := call(t, c, http.MethodGet, connectors+"/"+connA, dev, ""); code != http.StatusNotFound {
		t.Errorf("GET after ResetAll: %d, want 404", code)
	}

	info := must(c.Inspect(ctx))(t)
	var volume string
	for _, m := range info.Mounts {
		if m.Destination == "/var/lib/graphd" {
			volume = m.Name
		}
	}
	if volume == "" {
		t.Fatalf("no volume at /var/lib/graphd: %+v", info.Mounts)
	}
	if err := c.Terminate(ctx); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	cli := must(dockerClient(ctx))(t)
	defer cli.Close()
	if _, err := cli.ContainerInspect(ctx, c.GetContainerID(), client.ContainerInspectOptions{}); err == nil {
		t.Error("the container is still there after Terminate")
	}
	if _, err := cli.VolumeInspect(ctx, volume, client.VolumeInspectOptions{}); err == nil {
		t.Errorf("the data volume %s is still there after Terminate", volume)
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	img := standaloneImage(t)
	tests := []struct {
		name    string
		opts    []testcontainers.ContainerCustomizer
		wantErr string
	}{
		{"ShortAdminToken", []testcontainers.ContainerCustomizer{container.WithAdminToken("too-short")}, "at least 16 characters"},
		{"AdminAPIOff", []testcontainers.ContainerCustomizer{testcontainers.WithEnv(map[string]string{"GRAPHD_ADMIN_TOKEN": ""})}, "needs the admin API"},
		{"MissingFixture", []testcontainers.ContainerCustomizer{container.WithFixtures("testdata/absent.json")}, "absent.json"},
		{"FixtureNotJSON", []testcontainers.ContainerCustomizer{container.WithFixtures("container_test.go")}, "only *.json"},
		{"FixtureWithDirectory", []testcontainers.ContainerCustomizer{container.WithFixture("a/b.json", []byte(`[]`))}, "without directories"},
		{"FixtureTwice", []testcontainers.ContainerCustomizer{container.WithFixture("a.json", []byte(`[]`)), container.WithFixture("a.json", []byte(`[]`))}, "two fixtures"},
		// graphd starts, refuses the fixture and exits: Run says why as soon as it does.
		{"BadFixture", []testcontainers.ContainerCustomizer{container.WithFixture("bad.json", []byte(`[{"id":"x"}]`))},
			"/fixtures/bad.json: entity 0: The key property 'id' must be a GUID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c, err := container.Run(t.Context(), img, tc.opts...)
			testcontainers.CleanupContainer(t, c)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run: %v, want an error with %q", err, tc.wantErr)
			}
			if d := time.Since(start); d > time.Minute {
				t.Errorf("Run failed after %v, want it to stop waiting when graphd exits", d)
			}
		})
	}
}
