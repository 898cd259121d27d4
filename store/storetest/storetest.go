// Package storetest gives integration tests a real, migrated PostgreSQL database each, from the source that
// Choose picks: TEST_DATABASE_URL; else a testcontainers PostgreSQL (image TEST_POSTGRES_IMAGE, default
// postgres:17-alpine) when Docker answers and the image is present or can be pulled; else a throwaway
// embedded cluster from the machine's PostgreSQL binaries. The server is set up once per test binary; a
// migrated template database is cloned per test.
package storetest

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphd/graphd/internal/pgtest"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/embedded"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
)

// server is the PostgreSQL server this test binary uses.
type server struct {
	adminURL string // a superuser connection to a maintenance database
	template string // the migrated template database
	source   string // which source, and why, for the log
	stop     func(context.Context) error
}

var (
	once      sync.Once
	srv       *server
	setupErr  error
	sourceLog io.Writer = os.Stderr
)

// Main wraps testing.M.Run for packages with integration tests: it tears the server down after the tests so
// no container or cluster outlives the test binary. Call it from TestMain: os.Exit(storetest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if srv != nil && srv.stop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "storetest: stopping the database: %v\n", err)
		}
	}
	return code
}

// URL returns the connection string of a new migrated database that only the calling test uses; it is
// dropped when the test ends.
func URL(tb testing.TB) string {
	tb.Helper()
	once.Do(func() { srv, setupErr = setup() })
	if setupErr != nil {
		tb.Fatalf("storetest: no PostgreSQL for integration tests: %v", setupErr)
	}
	return pgtest.Clone(tb, srv.adminURL, srv.template, "t_")
}

// Open returns a Store on a new database of its own, closed when the test ends.
func Open(tb testing.TB) *store.Store {
	tb.Helper()
	s, err := store.Open(tb.Context(), URL(tb), store.Options{})
	if err != nil {
		tb.Fatalf("storetest: open store: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Source names the database source this binary uses, once one has been set up.
func Source() string {
	if srv == nil {
		return ""
	}
	return srv.source
}

func setup() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := start(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(sourceLog, "storetest: integration tests use %s\n", s.source)
	s.template = "graphd_template_" + pgtest.RandomHex(6)
	if err := pgtest.Exec(ctx, s.adminURL, "CREATE DATABASE "+s.template); err != nil {
		return nil, fmt.Errorf("create template: %w", err)
	}
	if err := pgtest.Migrate(ctx, pgtest.WithDatabase(s.adminURL, s.template)); err != nil {
		return nil, err
	}
	// Dropped with the server for the throwaway sources; on a shared TEST_DATABASE_URL, drop it ourselves.
	if s.stop == nil {
		admin, tpl := s.adminURL, s.template
		s.stop = func(ctx context.Context) error {
			return pgtest.Exec(ctx, admin, "DROP DATABASE IF EXISTS "+tpl+" WITH (FORCE)")
		}
	}
	return s, nil
}

func start(ctx context.Context) (*server, error) {
	src := choose(ctx, os.Getenv, dockerDaemon{})
	switch src.Kind {
	case FromURL:
		return &server{adminURL: os.Getenv("TEST_DATABASE_URL"), source: src.String()}, nil
	case FromContainer:
		s, tcErr := startContainer(ctx, src.Image)
		if tcErr == nil {
			s.source = src.String()
			return s, nil
		}
		src = Choice{Kind: FromEmbedded, Reason: "starting the " + src.Image + " container failed: " + firstLine(tcErr.Error())}
	}
	s, err := startEmbedded(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s; embedded cluster: %w", src.Reason, err)
	}
	s.source = src.String()
	return s, nil
}

func startContainer(ctx context.Context, image string) (s *server, err error) {
	defer func() {
		// testcontainers panics rather than returns in some Docker-less setups.
		if r := recover(); r != nil {
			err = fmt.Errorf("testcontainers panicked: %v", r)
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := tcpostgres.Run(cctx, image,
		tcpostgres.WithDatabase("postgres"),
		tcpostgres.WithUsername("postgres"),
		tcpostgres.WithPassword("postgres"),
		tcpostgres.BasicWaitStrategies(),
		testcontainers.WithEnv(map[string]string{"POSTGRES_INITDB_ARGS": "--encoding=UTF8 --locale=C.UTF-8"}),
	)
	if err != nil {
		if c != nil {
			_ = testcontainers.TerminateContainer(c)
		}
		return nil, err
	}
	url, err := c.ConnectionString(cctx, "sslmode=disable")
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return nil, err
	}
	return &server{
		adminURL: url,
		stop:     func(context.Context) error { return testcontainers.TerminateContainer(c) },
	}, nil
}

func startEmbedded(ctx context.Context) (*server, error) {
	dir, err := os.MkdirTemp("", "graphd-test-")
	if err != nil {
		return nil, err
	}
	// As root the cluster runs as the postgres user, who must be able to enter the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	c, err := embedded.Start(ctx, embedded.Config{DataDir: dir, NoSync: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &server{
		adminURL: c.AdminURL(),
		stop: func(ctx context.Context) error {
			err := c.Stop(ctx)
			_ = os.RemoveAll(dir)
			return err
		},
	}, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
