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
	// Test servers take at most 4 database connections, so that the suites share one PostgreSQL.
	m := map[string]string{"GRAPHD_DB_MAX_CONNS": "4"}
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
	if out := quietly(t, getenv, "import", writeFile(t, fixture)); !strings.Contains(out, "imported 1 ") {
		t.Fatalf("import said %q", out)
	}
	stop, logs := startServer(t, getenv, addr)
	if status, _ := patchSeed(t, addr, "not-a-token"); status != http.StatusUnauthorized {
		t.Fatalf("PATCH without a valid token = %d, want 401", status)
	}
	status, body := patchSeed(t, addr, strings.TrimSpace(quietly(t, getenv, "token")))
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

// TestEmbeddedDefault runs graphd with no DATABASE_URL: only serve creates the cluster in the data dir, import
// and token work (quietly) while serve runs and after it stopped, a second serve on the same dir refuses, and the
// row survives a restart.
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

	// Before any serve there is no cluster, and import must not create one.
	err := run(t.Context(), []string{"import", writeFile(t, `[{"id":"`+seedID+`"}]`)}, getenv, nil, io.Discard, io.Discard)
	if !errors.Is(err, embedded.ErrNotInitialized) {
		t.Fatalf("import before the first serve: %v, want ErrNotInitialized", err)
	}
	started := time.Now()
	stop, _ := startServer(t, getenv, addr)
	t.Logf("first start (initdb) ready in %v", time.Since(started).Round(time.Millisecond))
	quietly(t, getenv, "import", writeFile(t, fixture))
	if status, _ := get(t, "http://"+addr+"/readyz", ""); status != http.StatusOK {
		t.Fatalf("import stopped the cluster serve uses: /readyz = %d", status)
	}
	second := run(t.Context(), []string{"serve"}, env("GRAPHD_DATA_DIR", dataDir, "GRAPHD_ADDR", freeAddr(t)), nil, io.Discard, io.Discard)
	if !errors.Is(second, embedded.ErrInUse) {
		t.Fatalf("second serve on the same data dir: %v, want ErrInUse", second)
	}
	tok := strings.TrimSpace(quietly(t, getenv, "token"))
	if status, body := patchSeed(t, addr, tok); status != http.StatusOK {
		t.Fatalf("PATCH = %d %s", status, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// With serve stopped, import starts the existing cluster for itself and stops it again.
	quietly(t, getenv, "import", writeFile(t, `[{"id":"22222222-0000-4000-8000-000000000000"}]`))
	started = time.Now()
	startServer(t, getenv, addr)
	t.Logf("second start ready in %v", time.Since(started).Round(time.Millisecond))
	// The signing key lives in the database: a token from before the restart still works.
	status, body := get(t, "http://"+addr+"/beta/deviceManagement/certificateConnectorDetails/"+seedID, tok)
	if status != http.StatusOK || !strings.HasSuffix(body, seedMembers[strings.Index(seedMembers, `"id":`):]) {
		t.Fatalf("after restart GET = %d %s", status, body)
	}
	if status, body := get(t, "http://"+addr+"/beta/deviceManagement/certificateConnectorDetails/22222222-0000-4000-8000-000000000000", tok); status != http.StatusOK {
		t.Fatalf("the row imported while serve was stopped: GET = %d %s", status, body)
	}
}

// quietly runs a command that must succeed without writing anything to stderr (no log lines), and returns
// its stdout.
func quietly(tb testing.TB, getenv func(string) string, args ...string) string {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(tb.Context(), args, getenv, nil, &stdout, &stderr); err != nil {
		tb.Fatalf("graphd %s: %v\nstderr: %s", strings.Join(args, " "), err, &stderr)
	}
	if stderr.Len() != 0 {
		tb.Errorf("graphd %s succeeded but wrote to stderr:\n%s", strings.Join(args, " "), &stderr)
	}
	return stdout.String()
}

// TestCommandsNeedServersDatabase: a command run without the server's GRAPHD_DATA_DIR must fail, naming the
// directory it looked in and how to point it at the server's database, and create nothing there.
func TestCommandsNeedServersDatabase(t *testing.T) {
	t.Parallel()
	fixtureFile := writeFile(t, `[{"id":"`+seedID+`"}]`)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"Token", []string{"token"}},
		{"Import", []string{"import", fixtureFile}},
		{"MigrateUp", []string{"migrate", "up"}},
		{"MigrateStatus", []string{"migrate", "status"}},
	} {
		for _, dirState := range []string{"Missing", "Empty"} {
			t.Run(tc.name+dirState, func(t *testing.T) {
				t.Parallel()
				dataDir := filepath.Join(t.TempDir(), "data")
				if dirState == "Empty" {
					if err := os.Mkdir(dataDir, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				var stdout, stderr bytes.Buffer
				err := run(t.Context(), tc.args, env("GRAPHD_DATA_DIR", dataDir), nil, &stdout, &stderr)
				if !errors.Is(err, embedded.ErrNotInitialized) {
					t.Fatalf("err = %v, want ErrNotInitialized", err)
				}
				for _, want := range []string{dataDir, "GRAPHD_DATA_DIR", "DATABASE_URL", "graphd serve", "graphd " + tc.args[0]} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %q", err, want)
					}
				}
				if stdout.Len() != 0 || stderr.Len() != 0 {
					t.Errorf("stdout %q, stderr %q; want both empty (the error says it all)", &stdout, &stderr)
				}
				switch entries, err := os.ReadDir(dataDir); {
				case dirState == "Missing" && !errors.Is(err, os.ErrNotExist):
					t.Errorf("the data directory was created (%v)", err)
				case dirState == "Empty" && len(entries) != 0:
					t.Errorf("the data directory now holds %v, want nothing", entries)
				}
			})
		}
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
