package graphdtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/graphd/graphd/internal/pgtest"
	"github.com/graphd/graphd/migrations"
	"github.com/graphd/graphd/store/embedded"
	"github.com/jackc/pgx/v5"
)

// The databases of a test binary: one PostgreSQL server (TEST_DATABASE_URL, or an embedded cluster this binary
// starts), one migrated template database on it, and a clone of the template per New, dropped when its test
// ends. Cloning takes milliseconds; initdb and the migrations run once.

// dataDirPrefix names the embedded clusters' data directories under os.TempDir().
const dataDirPrefix = "graphdtest-"

// ownerFile, in a data directory, holds the pid of the test binary that made it.
const ownerFile = "graphdtest.owner"

// dbServer is the PostgreSQL server of this test binary.
type dbServer struct {
	adminURL string // a superuser (or CREATEDB) connection to a maintenance database
	template string // the migrated template database
	source   string // for error messages
	dataDir  string // the embedded cluster's data directory; "" for TEST_DATABASE_URL
	stop     func(context.Context) error
}

var (
	dbOnce sync.Once
	db     *dbServer
	dbErr  error
)

// Main runs the tests of a package that uses New, then stops the embedded PostgreSQL cluster and removes its data
// directory:
//
//	func TestMain(m *testing.M) { os.Exit(graphdtest.Main(m)) }
//
// Without it no PostgreSQL process outlives the test binary either (the cluster is stopped when the binary
// exits), but the cluster's data directory stays in the temporary directory until the next test binary that
// uses graphdtest removes it.
func Main(m *testing.M) int {
	code := m.Run()
	if db != nil && db.stop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := db.stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "graphdtest: stopping PostgreSQL: %v\n", err)
		}
	}
	return code
}

// database returns the connection string of a new migrated database that only tb uses, dropped when tb ends.
func database(tb testing.TB) string {
	tb.Helper()
	dbOnce.Do(func() { db, dbErr = setupDB() })
	if dbErr != nil {
		tb.Fatalf("graphdtest: no PostgreSQL: %v", dbErr)
	}
	return pgtest.Clone(tb, db.adminURL, db.template, "graphdtest_")
}

func setupDB() (*dbServer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		s := &dbServer{adminURL: url, source: "the PostgreSQL at TEST_DATABASE_URL"}
		var err error
		if s.template, err = sharedTemplate(ctx, url); err != nil {
			return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		return s, nil
	}
	return startEmbedded(ctx)
}

// startEmbedded starts a throwaway cluster in a new directory under os.TempDir() and migrates a template in it.
func startEmbedded(ctx context.Context) (*dbServer, error) {
	removeStaleDataDirs(os.TempDir())
	dir, err := os.MkdirTemp("", dataDirPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// As root the cluster runs as the postgres user, who must be able to enter the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// The cluster is this process's child, and the kernel stops it (SIGINT, a fast shutdown) when this process
	// exits, whatever the way (see embedded's Pdeathsig): no PostgreSQL outlives the test binary.
	c, err := embedded.Start(ctx, embedded.Config{DataDir: dir, NoSync: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("embedded PostgreSQL cluster (set TEST_DATABASE_URL to use a server of yours): %w", err)
	}
	s := &dbServer{
		adminURL: c.AdminURL(),
		template: "graphdtest_template",
		source:   "the embedded PostgreSQL cluster in " + dir,
		dataDir:  dir,
		stop: func(ctx context.Context) error {
			err := c.Stop(ctx)
			return errors.Join(err, os.RemoveAll(dir))
		},
	}
	if err := pgtest.Exec(ctx, s.adminURL, "CREATE DATABASE "+s.template); err != nil {
		return nil, errors.Join(err, s.stop(ctx))
	}
	if err := pgtest.Migrate(ctx, pgtest.WithDatabase(s.adminURL, s.template)); err != nil {
		return nil, errors.Join(err, s.stop(ctx))
	}
	return s, nil
}

// sharedTemplate makes sure the server at url has the template of graphd's current migrations and returns its
// name. The name is derived from the migrations, so test binaries and runs share one template per schema instead
// of leaving one behind each; it is built under another name and renamed when complete, under an advisory lock.
func sharedTemplate(ctx context.Context, url string) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "graphdtest_tpl_" + sum
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", name); err != nil {
		return "", err
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext($1))", name) }()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_" + pgtest.RandomHex(4)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	if err := pgtest.Migrate(ctx, pgtest.WithDatabase(url, building)); err != nil {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
		return "", err
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
		return "", err
	}
	return name, nil
}

// migrationsHash names graphd's schema: a hash of the migration files.
func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// removeStaleDataDirs removes the data directories that earlier test binaries left in dir: those whose binary
// and PostgreSQL server are both gone (a binary without Main leaves its directory behind).
func removeStaleDataDirs(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, dataDirPrefix+"*"))
	for _, d := range matches {
		if stale(d) {
			_ = os.RemoveAll(d)
		}
	}
}

func stale(dir string) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		// Not one of ours, or one being made right now.
		return errors.Is(err, fs.ErrNotExist) && time.Since(fi.ModTime()) > time.Hour && isDataDir(dir)
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || alive(pid) {
		return false
	}
	// The binary is gone; its PostgreSQL may still be finishing the shutdown the kernel asked for.
	if b, err := os.ReadFile(filepath.Join(dir, "pgdata", "postmaster.pid")); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && alive(pid) {
			return false
		}
	}
	return true
}

// isDataDir reports whether dir looks like an embedded cluster's data directory.
func isDataDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "pgdata", "PG_VERSION"))
	return err == nil
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
