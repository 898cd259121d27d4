package embedded_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/graphd/graphd/store/embedded"
)

func TestStartStopRestart(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, newDataDir(t))

	c := start(t, cfg)
	if !c.Owned() {
		t.Fatal("first Start: Owned() = false, want true")
	}
	wantHost := "host=" + filepath.Join(cfg.DataDir, "run") + " "
	if !strings.HasPrefix(c.URL(), wantHost) {
		t.Errorf("URL() = %q, want prefix %q", c.URL(), wantHost)
	}
	for _, tc := range []struct{ sql, want string }{
		{"select 1::text", "1"},
		{"select current_database()", "graphd"},
		{"select current_user", "graphd"},
		{"select rolsuper::text from pg_roles where rolname = current_user", "true"},
		{"show server_encoding", "UTF8"},
		{"select datctype from pg_database where datname = 'graphd'", "C.UTF-8"},
		{"select datcollate from pg_database where datname = 'graphd'", "C.UTF-8"},
		{"show listen_addresses", ""},
	} {
		if got := queryString(t, c.URL(), tc.sql); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.sql, got, tc.want)
		}
	}
	if got := queryString(t, c.AdminURL(), "select current_database()"); got != "postgres" {
		t.Errorf("AdminURL() connects to %q, want postgres", got)
	}
	execSQL(t, c.URL(), "create table kept (v text)", "insert into kept values ('before restart')")

	// A second Start while the server runs attaches to it, and stopping that handle leaves the server alone.
	attached := start(t, cfg)
	if attached.Owned() {
		t.Error("second Start: Owned() = true, want false")
	}
	if attached.URL() != c.URL() {
		t.Errorf("attached URL() = %q, want %q", attached.URL(), c.URL())
	}
	if attached.Done() != nil {
		t.Error("attached Done() is not nil")
	}
	if err := attached.Stop(t.Context()); err != nil {
		t.Errorf("Stop of attached cluster: %v", err)
	}
	if got := queryString(t, c.URL(), "select 1::text"); got != "1" {
		t.Errorf("after Stop of attached cluster: select 1 = %q", got)
	}

	stopCtx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := c.Stop(stopCtx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done() not closed after Stop")
	}
	if err := c.Stop(stopCtx); err != nil {
		t.Errorf("second Stop: %v, want nil (idempotent)", err)
	}
	if conn, err := pgx.Connect(t.Context(), c.URL()); err == nil {
		conn.Close(t.Context())
		t.Error("connected after Stop")
	}

	c = start(t, cfg)
	if !c.Owned() {
		t.Error("Start after Stop: Owned() = false, want true")
	}
	if got := queryString(t, c.URL(), "select v from kept"); got != "before restart" {
		t.Errorf("after restart: select v from kept = %q, want %q", got, "before restart")
	}
	// What test suites do with AdminURL: a database per test, copied from a prepared template.
	execSQL(t, c.AdminURL(), "create database copy template graphd")
	copyURL := strings.Replace(c.URL(), "dbname=graphd", "dbname=copy", 1)
	if got := queryString(t, copyURL, "select v from kept"); got != "before restart" {
		t.Errorf("in template copy: select v from kept = %q, want %q", got, "before restart")
	}
}

func TestStartLongDataDirUsesShortSocketDir(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	// Long enough that DataDir/run/.s.PGSQL.5432 exceeds the socket path limit.
	dir = filepath.Join(dir, strings.Repeat("d", max(1, 110-len(dir))))
	sum := sha256.Sum256([]byte(dir))
	wantSockDir := "/tmp/graphd-" + hex.EncodeToString(sum[:])[:12]
	t.Cleanup(func() { os.RemoveAll(wantSockDir) }) // registered first, so it runs after the server stopped

	c := start(t, testConfig(t, dir))
	if want := "host=" + wantSockDir + " "; !strings.HasPrefix(c.URL(), want) {
		t.Fatalf("URL() = %q, want prefix %q", c.URL(), want)
	}
	if got := queryString(t, c.URL(), "select 1::text"); got != "1" {
		t.Errorf("select 1 = %q", got)
	}
	fi, err := os.Stat(wantSockDir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("socket directory mode = %v, want 0700", perm)
	}
}

func TestStartConcurrent(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, newDataDir(t))

	const n = 3
	clusters := make([]*embedded.Cluster, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { clusters[i], errs[i] = embedded.Start(t.Context(), cfg) })
	}
	wg.Wait()
	owned := 0
	for i, c := range clusters {
		if errs[i] != nil {
			t.Errorf("Start %d: %v", i, errs[i])
			continue
		}
		t.Cleanup(func() { stop(t, c) })
		if c.Owned() {
			owned++
		}
		if got := queryString(t, c.URL(), "select 1::text"); got != "1" {
			t.Errorf("Start %d: select 1 = %q", i, got)
		}
	}
	if owned != 1 {
		t.Errorf("%d of %d concurrent Starts own the server, want 1", owned, n)
	}

	// Out of patience: Stop with a done context skips the fast shutdown.
	for _, c := range clusters {
		if c == nil || !c.Owned() {
			continue
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := c.Stop(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Stop(cancelled ctx) = %v, want an error wrapping context.Canceled", err)
		}
		select {
		case <-c.Done():
		default:
			t.Error("Done() not closed after Stop")
		}
	}
}

// A first start interrupted half-way (here: during initdb) must leave nothing that the next start trips over.
func TestStartInterruptedFirstStart(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, newDataDir(t))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	c, err := embedded.Start(ctx, cfg)
	if errors.Is(err, embedded.ErrNoBinaries) {
		t.Skipf("PostgreSQL binaries not found: %v", err)
	}
	if err == nil {
		stop(t, c)
		t.Skip("the first start finished within 300ms; nothing was interrupted")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("interrupted Start: %v, want an error wrapping context.DeadlineExceeded", err)
	}

	c = start(t, cfg)
	if got := queryString(t, c.URL(), "select current_database()"); got != "graphd" {
		t.Errorf("select current_database() = %q, want graphd", got)
	}
}

// RequireExisting is how graphd's CLI commands open the cluster: they may start or attach to an existing one,
// but must never create one (a second terminal with another data directory would otherwise get an empty cluster).
func TestStartRequireExisting(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	existing := testConfig(t, dir)
	existing.RequireExisting = true

	t.Run("ErrNotInitializedNoDirectory", func(t *testing.T) {
		_, err := embedded.Start(t.Context(), existing)
		if errors.Is(err, embedded.ErrNoBinaries) {
			t.Skipf("PostgreSQL binaries not found: %v", err)
		}
		if !errors.Is(err, embedded.ErrNotInitialized) || !strings.Contains(err.Error(), dir) {
			t.Fatalf("Start = %v, want ErrNotInitialized naming %s", err, dir)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Start created the data directory (stat: %v)", err)
		}
	})
	t.Run("ErrNotInitializedEmptyDirectory", func(t *testing.T) {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := embedded.Start(t.Context(), existing)
		if errors.Is(err, embedded.ErrNoBinaries) {
			t.Skipf("PostgreSQL binaries not found: %v", err)
		}
		if !errors.Is(err, embedded.ErrNotInitialized) {
			t.Fatalf("Start = %v, want ErrNotInitialized", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "pgdata")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Start created pgdata (stat: %v)", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		created := start(t, testConfig(t, dir)) // initdb, as graphd serve does
		attached := start(t, existing)
		if attached.Owned() || attached.URL() != created.URL() {
			t.Errorf("Start while the server runs: Owned() = %v, URL() = %q; want an attached %q", attached.Owned(), attached.URL(), created.URL())
		}
		stop(t, created)
		restarted := start(t, existing)
		if !restarted.Owned() {
			t.Error("Start of the stopped cluster: Owned() = false, want true")
		}
		if got := queryString(t, restarted.URL(), "select current_database()"); got != "graphd" {
			t.Errorf("select current_database() = %q, want graphd", got)
		}
	})
}

func TestStartNoBinaries(t *testing.T) {
	t.Parallel()
	_, err := embedded.Start(t.Context(), embedded.Config{DataDir: newDataDir(t), BinDir: t.TempDir()})
	if !errors.Is(err, embedded.ErrNoBinaries) {
		t.Fatalf("Start with an empty BinDir: %v, want ErrNoBinaries", err)
	}
	for _, way := range []string{"apt-get install postgresql", "DATABASE_URL", "docker compose up"} {
		if !strings.Contains(err.Error(), way) {
			t.Errorf("error %q does not mention %q", err, way)
		}
	}
}

func TestStartUntraversableParent(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root hands the server to another OS user")
	}
	parent := t.TempDir()
	for d, perm := range map[string]os.FileMode{filepath.Dir(parent): 0o755, parent: 0o700} {
		if err := os.Chmod(d, perm); err != nil {
			t.Fatal(err)
		}
	}
	_, err := embedded.Start(t.Context(), embedded.Config{DataDir: filepath.Join(parent, "data"), Logger: testLogger(t)})
	if errors.Is(err, embedded.ErrNoBinaries) {
		t.Skipf("PostgreSQL binaries not found: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+parent+" ") {
		t.Fatalf("Start under a 0700 root directory: %v, want an error naming %s", err, parent)
	}
}

func TestLockServe(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)

	release, err := embedded.LockServe(dir)
	if err != nil {
		t.Fatalf("first LockServe: %v", err)
	}
	_, err = embedded.LockServe(dir)
	if !errors.Is(err, embedded.ErrInUse) {
		t.Fatalf("second LockServe: %v, want ErrInUse", err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the data directory", err)
	}
	if err := release(); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := release(); err != nil {
		t.Errorf("second release: %v, want nil (idempotent)", err)
	}

	release, err = embedded.LockServe(dir)
	if err != nil {
		t.Fatalf("LockServe after release: %v", err)
	}
	if err := release(); err != nil {
		t.Errorf("release: %v", err)
	}
}

// newDataDir returns a data directory path inside a fresh temp dir. As root the server runs as the postgres
// user, which must pass through the temp dirs that the testing package creates with mode 0700.
func newDataDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	if os.Geteuid() == 0 {
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return filepath.Join(dir, "data")
}

func testConfig(tb testing.TB, dataDir string) embedded.Config {
	tb.Helper()
	return embedded.Config{DataDir: dataDir, Logger: testLogger(tb), NoSync: true}
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), nil))
}

// start starts (or attaches to) a cluster and stops it when the test ends; it skips the test if the
// machine has no PostgreSQL.
func start(tb testing.TB, cfg embedded.Config) *embedded.Cluster {
	tb.Helper()
	c, err := embedded.Start(tb.Context(), cfg)
	if errors.Is(err, embedded.ErrNoBinaries) {
		tb.Skipf("PostgreSQL binaries not found, so the embedded cluster cannot run: %v", err)
	}
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { stop(tb, c) })
	return c
}

func stop(tb testing.TB, c *embedded.Cluster) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tb.Context()), 30*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		tb.Errorf("Stop: %v", err)
	}
}

func queryString(tb testing.TB, url, sql string) string {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), url)
	if err != nil {
		tb.Fatalf("connecting to %q: %v", url, err)
	}
	defer conn.Close(context.WithoutCancel(tb.Context()))
	var s string
	if err := conn.QueryRow(tb.Context(), sql).Scan(&s); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return s
}

func execSQL(tb testing.TB, url string, statements ...string) {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), url)
	if err != nil {
		tb.Fatalf("connecting to %q: %v", url, err)
	}
	defer conn.Close(context.WithoutCancel(tb.Context()))
	for _, sql := range statements {
		if _, err := conn.Exec(tb.Context(), sql); err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
	}
}

func TestHasCluster(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files []string // created under the data directory; a trailing / makes a directory
		want  bool
	}{
		{"NoDirectory", nil, false},
		{"Empty", []string{""}, false},
		{"OnlyLocks", []string{"serve.lock", "init.lock"}, false},
		{"Cluster", []string{"pgdata/", "pgdata/PG_VERSION"}, true},
		{"BeingCreated", []string{"pgdata.initdb/"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			for _, f := range tc.files {
				path := filepath.Join(dir, f)
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(f, "/") || f == "" {
					if err := os.MkdirAll(path, 0o700); err != nil {
						t.Fatal(err)
					}
				} else if err := os.WriteFile(path, []byte("15\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if got := embedded.HasCluster(dir); got != tc.want {
				t.Errorf("HasCluster = %v, want %v", got, tc.want)
			}
		})
	}
}
