package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphd/graphd/store/embedded"
	"github.com/graphd/graphd/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const (
	seedID   = "104d7361-7361-104d-6173-4d1061734d10"
	seedBody = `{
  "@odata.type": "#microsoft.graph.certificateConnectorDetails",
  "connectorName": "Connector Name value",
  "machineName": "Machine Name value",
  "enrollmentDateTime": "2016-12-31T23:57:59.3726057-08:00",
  "lastCheckinDateTime": "2017-01-01T00:02:46.0431416-08:00",
  "connectorVersion": "Connector Version value"
}`
	// The members of the seed's example response, as graphd writes them (compact JSON).
	seedMembers = `"@odata.type":"#microsoft.graph.certificateConnectorDetails","@odata.etag":"W/\"2\"","id":"104d7361-7361-104d-6173-4d1061734d10","connectorName":"Connector Name value","machineName":"Machine Name value","enrollmentDateTime":"2016-12-31T23:57:59.3726057-08:00","lastCheckinDateTime":"2017-01-01T00:02:46.0431416-08:00","connectorVersion":"Connector Version value"}`
	fixture     = `{"@odata.context":"x","value":[{"id":"104D7361-7361-104D-6173-4D1061734D10","connectorName":"before","enrollmentDateTime":"2020-01-01T00:00:00Z","lastCheckinDateTime":"2020-01-01T00:00:00Z"}]}`
)

// env builds a getenv from pairs.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a log sink that tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs `graphd serve` in-process and waits until it is ready; the returned stop cancels it and
// waits for run to return, failing the test if it returned an error.
func startServer(tb testing.TB, getenv func(string) string, addr string) (stop func() error, logs *syncBuffer) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(tb.Context()))
	logs = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, strings.NewReader(""), io.Discard, logs) }()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			cancel()
			tb.Fatalf("graphd exited before it was ready: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			tb.Fatalf("graphd not ready after 90 s\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	tb.Cleanup(func() { _ = stop() })
	return stop, logs
}

func writeFile(tb testing.TB, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "fixture.json")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// token runs `graphd token` with getenv's configuration, as a new user would, and returns the token.
func mintToken(tb testing.TB, getenv func(string) string, args ...string) string {
	tb.Helper()
	var out bytes.Buffer
	if err := run(tb.Context(), append([]string{"token"}, args...), getenv, nil, &out, io.Discard); err != nil {
		tb.Fatalf("graphd token: %v", err)
	}
	return strings.TrimSpace(out.String())
}

func patchSeed(tb testing.TB, addr, tok string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPatch, "http://"+addr+"/beta/deviceManagement/certificateConnectorDetails/"+seedID, strings.NewReader(seedBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	return do(tb, req)
}

func get(tb testing.TB, url, tok string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return do(tb, req)
}

func do(tb testing.TB, req *http.Request) (int, string) {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeImportPatch is the new user's path on an external database: import the seed's id, send the seed's
// request, get the seed's response; then stop gracefully.
func TestServeImportPatch(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	getenv := env("DATABASE_URL", storetest.URL(t), "GRAPHD_ADDR", addr, "GRAPHD_PUBLIC_URL", "https://graph.example.test/beta")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"import", writeFile(t, fixture)}, getenv, nil, &out, io.Discard); err != nil {
		t.Fatalf("import: %v", err)
	}
	if !strings.Contains(out.String(), "imported 1 ") {
		t.Fatalf("import said %q", out.String())
	}
	stop, logs := startServer(t, getenv, addr)
	if status, _ := patchSeed(t, addr, "not-a-token"); status != http.StatusUnauthorized {
		t.Fatalf("PATCH without a valid token = %d, want 401", status)
	}
	status, body := patchSeed(t, addr, mintToken(t, getenv))
	want := `{"@odata.context":"https://graph.example.test/beta/$metadata#deviceManagement/certificateConnectorDetails/$entity",` + seedMembers
	if status != http.StatusOK || body != want {
		t.Fatalf("PATCH = %d %s\nwant 200 %s", status, body, want)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if !strings.Contains(logs.String(), `"msg":"request"`) || !strings.Contains(logs.String(), `"route":"/beta/deviceManagement/certificateConnectorDetails/{id}"`) {
		t.Errorf("no access log line for the PATCH:\n%s", logs)
	}
}

func TestImportRejectsBadFileAtomically(t *testing.T) {
	t.Parallel()
	getenv := env("DATABASE_URL", storetest.URL(t))
	if err := run(t.Context(), []string{"import", writeFile(t, fixture)}, getenv, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	bad := `[{"id":"22222222-0000-4000-8000-000000000000","connectorName":"new"},{"id":"` + seedID + `","connectorName":"changed","bogus":1}]`
	err := run(t.Context(), []string{"import", writeFile(t, bad)}, getenv, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "bogus") || !strings.Contains(err.Error(), "entity 1") {
		t.Fatalf("import of a bad file: %v", err)
	}
	// Re-import from stdin with --tenant into another tenant, then check the dev tenant kept its row.
	other := "cccccccc-0000-4000-8000-000000000003"
	err = run(t.Context(), []string{"import", "--tenant", other, "-"}, getenv, strings.NewReader(`[{"id":"`+seedID+`","connectorName":"other"}]`), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	serveEnv := env("DATABASE_URL", getenv("DATABASE_URL"), "GRAPHD_ADDR", addr, "GRAPHD_AUTH", "none")
	startServer(t, serveEnv, addr)
	status, body := get(t, "http://"+addr+"/beta/deviceManagement/certificateConnectorDetails/"+seedID, "")
	if status != http.StatusOK || !strings.Contains(body, `"connectorName":"before"`) {
		t.Fatalf("GET after a failed import = %d %s", status, body)
	}
	status, _ = get(t, "http://"+addr+"/beta/deviceManagement/certificateConnectorDetails/22222222-0000-4000-8000-000000000000", "")
	if status != http.StatusNotFound {
		t.Fatalf("a row of the rejected file exists: %d", status)
	}
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	getenv := env("DATABASE_URL", storetest.URL(t))
	var out bytes.Buffer
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "status"}, "applied"},
		{[]string{"migrate", "down"}, ""},
		{[]string{"migrate", "status"}, "pending"},
		{[]string{"migrate", "up"}, "applied 1 migration"},
	} {
		out.Reset()
		if err := run(t.Context(), step.args, getenv, nil, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", step.args, err)
		}
		if !strings.Contains(out.String(), step.want) {
			t.Fatalf("%v printed %q, want %q", step.args, out.String(), step.want)
		}
	}
	if err := run(t.Context(), []string{"migrate", "sideways"}, getenv, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("migrate sideways succeeded")
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"ErrLogLevel", []string{"DATABASE_URL", "postgres://x", "GRAPHD_LOG_LEVEL", "loud"}, "GRAPHD_LOG_LEVEL"},
		{"ErrPublicURL", []string{"DATABASE_URL", "postgres://x", "GRAPHD_PUBLIC_URL", "graph.example.test/beta"}, "GRAPHD_PUBLIC_URL"},
		{"ErrMaxBody", []string{"DATABASE_URL", "postgres://x", "GRAPHD_MAX_BODY_BYTES", "lots"}, "GRAPHD_MAX_BODY_BYTES"},
		{"ErrBoth", []string{"DATABASE_URL", "postgres://x", "GRAPHD_LOG_LEVEL", "loud", "GRAPHD_MAX_BODY_BYTES", "1"}, "GRAPHD_MAX_BODY_BYTES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(t.Context(), []string{"serve"}, env(tt.env...), nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
	if err := run(t.Context(), []string{"frobnicate"}, env(), nil, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db":      "postgres://u:xxxxx@h:5432/db",
		"host=/tmp user=u password=secret":   "host=/tmp user=u password=xxxxx",
		"postgres://h/db?sslmode=disable":    "postgres://h/db?sslmode=disable",
		"host=localhost dbname=graphd":       "host=localhost dbname=graphd",
		"postgres://u:p%40ss@h/db?x=1":       "postgres://u:xxxxx@h/db?x=1",
		"postgresql://u@h,h2:5433/db":        "postgresql://u@h,h2:5433/db",
		"host=/tmp password='a b' user=u":    "host=/tmp password=xxxxx user=u",
		"user=graphd password=s3cr3t dbname": "user=graphd password=xxxxx dbname",
		`password = 'it\'s' host=h`:          "password = xxxxx host=h",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	if err := run(t.Context(), []string{"healthcheck"}, env("GRAPHD_ADDR", addr), nil, io.Discard, io.Discard); err == nil {
		t.Fatal("healthcheck passed with no server")
	}
	startServer(t, env("DATABASE_URL", storetest.URL(t), "GRAPHD_ADDR", addr), addr)
	_, port, _ := net.SplitHostPort(addr)
	if err := run(t.Context(), []string{"healthcheck"}, env("GRAPHD_ADDR", "0.0.0.0:"+port), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("healthcheck: %v", err)
	}
}

// TestEmbeddedDefault runs graphd with no DATABASE_URL: it creates a cluster in the data dir, import works while
// serve runs, a second serve on the same dir refuses, and the row survives a restart.
func TestEmbeddedDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// As root the cluster runs as the postgres user, who must be able to enter the test's directories.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dataDir := filepath.Join(dir, "data")
	addr := freeAddr(t)
	getenv := env("GRAPHD_DATA_DIR", dataDir, "GRAPHD_ADDR", addr)

	// import with no serve running creates the cluster, then stops it again.
	if err := run(t.Context(), []string{"import", writeFile(t, `[{"id":"`+seedID+`"}]`)}, getenv, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("import before serving: %v", err)
	}
	started := time.Now()
	stop, _ := startServer(t, getenv, addr)
	t.Logf("start after initdb ready in %v", time.Since(started).Round(time.Millisecond))
	if err := run(t.Context(), []string{"import", writeFile(t, fixture)}, getenv, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("import while serving: %v", err)
	}
	if status, _ := get(t, "http://"+addr+"/readyz", ""); status != http.StatusOK {
		t.Fatalf("import stopped the cluster serve uses: /readyz = %d", status)
	}
	second := run(t.Context(), []string{"serve"}, env("GRAPHD_DATA_DIR", dataDir, "GRAPHD_ADDR", freeAddr(t)), nil, io.Discard, io.Discard)
	if !errors.Is(second, embedded.ErrInUse) {
		t.Fatalf("second serve on the same data dir: %v, want ErrInUse", second)
	}
	tok := mintToken(t, getenv)
	if status, body := patchSeed(t, addr, tok); status != http.StatusOK {
		t.Fatalf("PATCH = %d %s", status, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	started = time.Now()
	startServer(t, getenv, addr)
	t.Logf("second start ready in %v", time.Since(started).Round(time.Millisecond))
	// The signing key lives in the database: a token from before the restart still works.
	status, body := get(t, "http://"+addr+"/beta/deviceManagement/certificateConnectorDetails/"+seedID, tok)
	if status != http.StatusOK || !strings.HasSuffix(body, seedMembers[strings.Index(seedMembers, `"id":`):]) {
		t.Fatalf("after restart GET = %d %s", status, body)
	}
}

func TestEmbeddedWithoutBinaries(t *testing.T) {
	t.Parallel()
	getenv := env("GRAPHD_DATA_DIR", t.TempDir(), "GRAPHD_PG_BINDIR", t.TempDir(), "GRAPHD_ADDR", freeAddr(t))
	err := run(t.Context(), []string{"serve"}, getenv, nil, io.Discard, io.Discard)
	if !errors.Is(err, embedded.ErrNoBinaries) {
		t.Fatalf("err = %v, want ErrNoBinaries", err)
	}
	for _, way := range []string{"DATABASE_URL", "docker compose up", "install"} {
		if !strings.Contains(err.Error(), way) {
			t.Errorf("the error does not name %q: %v", way, err)
		}
	}
}
